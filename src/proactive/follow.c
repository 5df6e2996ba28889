/*
 * follow.c - runs started by a registry change.
 *
 * The job kind proactive.follow runs every minute (a task of the module).
 * For each policy whose shown run read the registries through the exchange
 * at a known version, it asks the exchange's change log whether a record
 * changed since in a registry the policy's rules read (for their own
 * entity, or one their links and groups reach: incr.c); if so it queues a
 * run of the policy for the shown run's date, which is then incremental
 * (it reads only what the changes reach). Residents' answers so follow the
 * registries without a run being asked for.
 *
 * Bounds: at most one run of a policy is pending (the policy's running
 * slot, run.c's claim: a burst of changes queues one run, and changes made
 * while it runs are found by the next check, since a run reads the version
 * it starts from); and a policy is not run more often than once per
 * DGOV_PROACTIVE_FOLLOW seconds (the delay after its last run finished,
 * 300 by default; "off" stops runs started by changes). A policy run only
 * on CSV files (DGOV_PROACTIVE_DATA) has no change log to follow.
 */
#include "proactive/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "rule/rule.h"

#define FOLLOW_DEFAULT_SEC 300
#define FOLLOW_MAX         256 /* policies looked at per check */

/* The delay in ms between a policy's runs started by changes; -1: off. */
static int64_t follow_delay_ms(void)
{
	const char *v = getenv("DGOV_PROACTIVE_FOLLOW");
	if (!v || !*v)
		return FOLLOW_DEFAULT_SEC * 1000LL;
	if (!strcmp(v, "off"))
		return -1;
	char *end = NULL;
	long long sec = strtoll(v, &end, 10);
	if (*end || sec < 0 || sec > 86400LL * 365) {
		dg_warn("proactive: DGOV_PROACTIVE_FOLLOW is not a number of seconds: %s", v);
		return FOLLOW_DEFAULT_SEC * 1000LL;
	}
	return sec * 1000;
}

struct followed {
	char *code, *rule_text, *ref;
	int64_t since;
};

/* Whether policy f's rules read a registry changed since its shown run. */
static dg_rc changed(struct dg_job *job, const struct followed *f, bool *touched,
		     struct dg_err *err)
{
	struct dg_program *p = pr_compile(job->env, f->code, f->rule_text, strlen(f->rule_text));
	dg_rc rc = p->diag.errors ? DG_EINVAL
				  : pr_incr_touched(job->env, job->db, p, f->since, touched, err);
	dg_program_free(p);
	return rc;
}

dg_rc pr_follow_job(struct dg_job *job, struct dg_err *err)
{
	int64_t delay = follow_delay_ms();
	if (delay < 0 || !job->env)
		return DG_OK;
	struct dg_arena *a = dg_arena_new();
	struct followed fs[FOLLOW_MAX];
	int n = 0;
	struct dg_rows *rows = NULL;
	/* the shown run of the version in force, read through the exchange, finished
	   at least the delay ago */
	dg_rc rc = dg_db_query(job->db,
			       "SELECT p.code, v.rule_text, r.ref_date, r.reg_version FROM"
			       " pr_policies p JOIN pr_runs r ON r.id = p.current_run JOIN"
			       " pr_versions v ON v.policy_id = p.id AND v.version = p.version"
			       " WHERE r.state = 'done' AND r.source = 'exchange' AND"
			       " r.reg_version > 0 AND r.finished_ms <= ? ORDER BY p.id",
			       DG_ARGS(DG_VI(dg_now_ms() - delay)), &rows);
	while (!rc && n < FOLLOW_MAX && (rc = dg_rows_next(rows)) == DG_OK)
		fs[n++] = (struct followed){.code = dg_arena_strdup(a, dg_rows_text(rows, 0)),
					    .rule_text = dg_arena_strdup(a, dg_rows_text(rows, 1)),
					    .ref = dg_arena_strdup(a, dg_rows_text(rows, 2)),
					    .since = dg_rows_int(rows, 3)};
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND)
		rc = DG_OK;
	for (int i = 0; !rc && i < n; i++) {
		bool touched = false;
		dg_day ref;
		struct dg_err e = {0};
		if (changed(job, &fs[i], &touched, &e) || dg_day_parse(fs[i].ref, &ref)) {
			dg_warn("proactive: the changes %s reads could not be looked at: %s",
				fs[i].code, e.msg);
			continue;
		}
		if (!touched)
			continue;
		int64_t run = 0, jid = 0;
		dg_rc r = pr_run_start(job->db, fs[i].code, ref, false, 0, &run, &jid, &e);
		if (r && r != DG_ECONFLICT) /* a run pending already will do */
			dg_warn("proactive: the run of %s after a registry change could not be"
				" queued: %s",
				fs[i].code, e.msg);
	}
	dg_arena_free(a);
	return rc ? dg_err_set(err, rc, "the policies to follow could not be read") : DG_OK;
}
