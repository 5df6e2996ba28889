/*
 * demo.c - the demo region's policies: every policies/<name>.rule is
 * published with its tests (policies/tests/<name>.yaml) through the same
 * path staff use (pr_publish: it compiles, the tests must pass), by its
 * owning department, with the catalogue item one applies through and a
 * mode. The demo residents are among the registries' persons (the
 * exchange's demo), so /my/benefits has answers once a policy has run.
 *
 * With `dgov demo --with-runs` the old-age allowance (a 免申即享 policy)
 * has also run for 2026-12-01, through the exchange as any run does, and a
 * grant batch of it is proposed by the civil affairs bureau's staff and
 * waits for a second member of staff: so the batch page, the take-up
 * charts and the what-if page have something to show (the browser audits).
 * It reads every person of the demo's registries: it takes a while.
 */
#include "proactive/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/demo.h"
#include "rule/yaml.h"

/* Each policy's department is the one the exchange's demo grants its data to, for the
 * policy's (first) rule id as purpose. No daily runs: a demo node runs them on demand. */
struct demo_policy {
	const char *file, *dept, *item, *mode;
};

static const struct demo_policy policies[] = {
	{"dibao", "mz", "990100-MZ-003", "apply"},
	{"elderly_allowance", "mz", "990100-MZ-004", "grant"},
	{"disability_subsidies", "mz", "990100-MZ-005", "notify"},
	{"temporary_assistance", "mz", "990100-MZ-003", "notify"},
	{"heating_subsidy", "zj", "", "notify"},
	{"veterans", "tj", "", "notify"},
	{"childcare_subsidy", "wj", "990100-WJ-003", "notify"},
	{"graduate_startup", "rs", "990100-RS-004", "notify"},
	{"job_stabilisation", "rs", "990100-RS-005", "grant"},
	{"talent_rent", "rs", "990100-ZJ-002", "notify"},
	{"medical_premium", "yb", "990100-YB-003", "grant"},
	{"small_business_tax", "sw", "", "notify"},
};

static dg_rc publish_one(struct dg_env *env, struct dg_db *db, const char *dir,
			 const struct demo_policy *d, struct dg_err *err)
{
	char path[4300];
	char *rule = NULL, *tests = NULL;
	size_t len = 0;
	json_t *errors = NULL;
	int64_t version = 0;
	snprintf(path, sizeof path, "%s/%s.rule", dir, d->file);
	dg_rc rc = dg_rule_read_file(path, PR_RULE_MAX, &rule, &len, err);
	snprintf(path, sizeof path, "%s/tests/%s.yaml", dir, d->file);
	if (!rc)
		rc = dg_rule_read_file(path, PR_TESTS_MAX, &tests, &len, err);
	struct pr_publish in = {
		.code = d->file,
		.dept = d->dept,
		.item = d->item,
		.mode = d->mode,
		.effective = "2025-01-01",
		.rule = rule,
		.tests = tests,
		.admin = true,
	};
	if (!rc)
		rc = pr_publish(env, db, &in, &errors, &version, err);
	if (rc && errors && json_array_size(errors)) {
		json_t *e = json_array_get(errors, 0);
		dg_err_set(err, rc, "policy %s: line %lld: %s", d->file,
			   (long long)json_integer_value(json_object_get(e, "line")),
			   json_string_value(json_object_get(e, "message")));
	} else if (rc) {
		char msg[sizeof err->msg];
		snprintf(msg, sizeof msg, "%s", err->msg);
		dg_err_set(err, rc, "policy %s: %s", d->file, msg);
	}
	json_decref(errors);
	free(rule);
	free(tests);
	return rc;
}

/*
 * A run of the old-age allowance, a batch of it proposed by the demo's staff,
 * and a what-if of it worked out.
 */
static dg_rc seed_run(struct dg_env *env, struct dg_db *db, struct dg_err *err)
{
	int64_t staff = 0, run = 0, batch = 0;
	dg_rc rc = dg_db_query_int(db, "SELECT id FROM users WHERE username = ?",
				   DG_ARGS(DG_VT(DG_DEMO_STAFF)), &staff);
	if (!rc)
		rc = pr_run_inline(env, db, "elderly_allowance", dg_day_from_ymd(2026, 12, 1),
				   staff, &run, err);
	if (!rc)
		rc = pr_batch_make(env, db, "elderly_allowance", staff, &batch, err);
	json_t *all = json_string("all");
	if (!rc)
		rc = pr_batch_propose(db, batch, staff, all, err);
	json_decref(all);
	/* what-if 1: the age raised to 85, and a sweep of it, so its answer page has one */
	json_t *sets = json_pack("[s]", "elderly_min_age=85");
	int64_t whatif = 0;
	if (!rc)
		rc = pr_whatif_inline(env, db, "elderly_allowance", dg_day_from_ymd(2026, 12, 1),
				      sets, "elderly_min_age=70..90:5", staff, &whatif, err);
	json_decref(sets);
	if (rc) {
		char msg[sizeof err->msg];
		snprintf(msg, sizeof msg, "%s", err->msg);
		dg_err_set(err, rc, "the demo's run of elderly_allowance: %s", msg);
	}
	return rc;
}

dg_rc pr_demo_seed(struct dg_env *env, struct dg_db *db, const struct dg_demo_opts *o,
		   struct dg_err *err)
{
	char dir[4096];
	pr_policies_dir(env, dir, sizeof dir);
	for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++) {
		dg_rc rc = publish_one(env, db, dir, &policies[i], err);
		if (rc)
			return rc;
	}
	return o && o->runs ? seed_run(env, db, err) : DG_OK;
}
