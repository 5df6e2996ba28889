/*
 * module.c - the audit log's descriptor: its tables, a checkpoint every ten
 * minutes (a scheduled task), and `dgov audit verify|checkpoint`.
 */
#include "audit/audit.h"

#include <stdio.h>
#include <string.h>

#include "jobs/jobs.h"

static dg_rc checkpoint_run(struct dg_job *job, struct dg_err *err)
{
	if (!job->env)
		return dg_err_set(err, DG_EINVAL, "a checkpoint needs the node's key");
	int64_t seq = 0;
	dg_rc rc = dg_audit_checkpoint(job->db, &job->env->keys, job->env->region.code, &seq);
	if (rc)
		return dg_err_set(err, rc, "the audit checkpoint could not be made");
	json_t *res = json_pack("{s:I}", "seq", (json_int_t)seq);
	rc = dg_job_result(job, res);
	json_decref(res);
	return rc;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: dgov audit verify | checkpoint\n"
		"  verify      walk the whole audit log and its signed checkpoints; name the\n"
		"              first broken record (exit 1) or say how much was checked\n"
		"  checkpoint  sign the log's head now\n");
	return 2;
}

static int audit_main(struct dg_env *env, int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[1], "verify") && strcmp(argv[1], "checkpoint")))
		return usage();
	struct dg_db *db = NULL;
	if (dg_db_get(env->store, &db)) {
		fprintf(stderr, "dgov audit: the store is not available\n");
		return 1;
	}
	int code = 0;
	if (strcmp(argv[1], "checkpoint") == 0) {
		int64_t seq = 0;
		dg_rc rc = dg_audit_checkpoint(db, &env->keys, env->region.code, &seq);
		if (rc) {
			fprintf(stderr, "dgov audit: the checkpoint failed (%s)\n", dg_rc_name(rc));
			code = 1;
		} else {
			printf("checkpoint at record %lld\n", (long long)seq);
		}
	} else {
		struct dg_audit_report rep;
		dg_rc rc = dg_audit_verify(db, &env->keys, env->region.code, &rep);
		if (rc == DG_ECONFLICT) {
			printf("BROKEN at record %lld: %s (%lld records and %lld checkpoints held"
			       " before it)\n",
			       (long long)rep.bad_seq, rep.why, (long long)rep.records,
			       (long long)rep.checkpoints);
			code = 1;
		} else if (rc) {
			fprintf(stderr, "dgov audit: the log could not be read (%s)\n",
				dg_rc_name(rc));
			code = 1;
		} else {
			printf("ok: %lld records chained, %lld signed checkpoints held\n",
			       (long long)rep.records, (long long)rep.checkpoints);
		}
	}
	dg_db_put(db);
	return code;
}

static const struct dg_migration *const migrations[] = {dg_audit_migrations, NULL};
static const struct dg_job_kind jobs[] = {
	{"audit.checkpoint", checkpoint_run, 3},
	{NULL, NULL, 0},
};
static const struct dg_task tasks[] = {
	{"audit.checkpoint", 600},
	{NULL, 0},
};
static const struct dg_command commands[] = {
	{"audit", "audit verify|checkpoint           the tamper-evident audit log", audit_main},
	{NULL, NULL, NULL},
};

const struct dg_module dg_audit_module = {
	.name = "audit",
	.migrations = migrations,
	.jobs = jobs,
	.tasks = tasks,
	.commands = commands,
};
