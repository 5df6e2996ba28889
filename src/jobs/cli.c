/*
 * cli.c - `dgov jobs`: queue a job and look at jobs from the console.
 *
 *   dgov jobs add KIND JSON   queue a job, print its id
 *   dgov jobs show ID         print the job as JSON
 *   dgov jobs list            the 50 most recent jobs, one a line
 *
 * Jobs queued here are run by the workers of a running `dgov serve` on the
 * same store (they poll, so no signal is needed).
 */
#include "jobs/jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/env.h"
#include "core/str.h"
#include "jobs/demo_tally.h"

static const char usage[] = "usage: dgov jobs add KIND JSON | show ID | list\n";

static int jobs_add(struct dg_db *db, const char *kind, const char *text)
{
	json_error_t jerr;
	json_t *payload = json_loads(text, 0, &jerr);
	if (!json_is_object(payload)) {
		fprintf(stderr, "dgov jobs add: the payload must be a JSON object%s%s\n",
			payload ? "" : ": ", payload ? "" : jerr.text);
		json_decref(payload);
		return 2;
	}
	int64_t id = 0;
	dg_rc rc = dg_job_enqueue(db, kind, payload, 0, NULL, &id);
	json_decref(payload);
	if (rc != DG_OK) {
		fprintf(stderr, "dgov jobs add: %s\n", dg_rc_name(rc));
		return 1;
	}
	printf("%lld\n", (long long)id);
	return 0;
}

static int jobs_show(struct dg_db *db, const char *sid)
{
	int64_t id = 0;
	json_t *job = NULL;
	if (dg_str_to_i64(dg_str_of(sid), &id) != DG_OK) {
		fprintf(stderr, "dgov jobs show: '%s' is not a job id\n", sid);
		return 2;
	}
	dg_rc rc = dg_job_get_json(db, id, &job);
	if (rc != DG_OK) {
		fprintf(stderr, "dgov jobs show: job %lld: %s\n", (long long)id,
			rc == DG_ENOTFOUND ? "no such job" : dg_rc_name(rc));
		return 1;
	}
	char *text = json_dumps(job, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("%s\n", text ? text : "{}");
	free(text);
	json_decref(job);
	return 0;
}

static int jobs_list(struct dg_db *db)
{
	struct dg_rows *r = NULL;
	dg_rc rc = dg_db_query(db,
			       "SELECT id, kind, state, progress_done, progress_total, attempts"
			       " FROM jobs ORDER BY id DESC LIMIT 50",
			       DG_NOARGS, &r);
	if (rc == DG_OK)
		printf("%-8s %-24s %-8s %-15s %s\n", "ID", "KIND", "STATE", "PROGRESS", "ATTEMPTS");
	while (rc == DG_OK && (rc = dg_rows_next(r)) == DG_OK) {
		char progress[48];
		snprintf(progress, sizeof(progress), "%lld/%lld", (long long)dg_rows_int(r, 3),
			 (long long)dg_rows_int(r, 4));
		printf("%-8lld %-24s %-8s %-15s %lld\n", (long long)dg_rows_int(r, 0),
		       dg_rows_text(r, 1), dg_rows_text(r, 2), progress,
		       (long long)dg_rows_int(r, 5));
	}
	dg_rows_free(r);
	if (rc != DG_ENOTFOUND) {
		fprintf(stderr, "dgov jobs list: %s\n", dg_rc_name(rc));
		return 1;
	}
	return 0;
}

int dg_jobs_check(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
		    (i == 1 && strcmp(argv[i], "help") == 0)) {
			fputs(usage, stdout);
			return 0;
		}
	int nargs = strcmp(cmd, "add") == 0    ? 4
		    : strcmp(cmd, "show") == 0 ? 3
		    : strcmp(cmd, "list") == 0 ? 2
					       : -1;
	if (nargs < 0 || argc != nargs) {
		fputs(usage, stderr);
		return 2;
	}
	return -1;
}

int dg_jobs_main(struct dg_env *env, int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	int early = dg_jobs_check(argc, argv);
	if (early >= 0)
		return early;
	/* so that a queued demo.tally gets its kind's max attempts */
	dg_demo_tally_register();
	struct dg_db *db = NULL;
	if (dg_db_get(env->store, &db) != DG_OK) {
		fprintf(stderr, "dgov jobs: the database is not available\n");
		return 1;
	}
	int code;
	if (strcmp(cmd, "add") == 0)
		code = jobs_add(db, argv[2], argv[3]);
	else if (strcmp(cmd, "show") == 0)
		code = jobs_show(db, argv[2]);
	else
		code = jobs_list(db);
	dg_db_put(db);
	return code;
}
