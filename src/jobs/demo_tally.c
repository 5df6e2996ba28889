/*
 * demo_tally.c - the "demo.tally" job kind (see demo_tally.h): the smallest
 * handler that uses the whole job protocol, step + checkpoint in one
 * transaction, resume from the checkpoint, stop when asked.
 */
#include "jobs/demo_tally.h"

#include <jansson.h>
#include <time.h>

#include "jobs/jobs.h"

#define MAX_STEPS   100000
#define MAX_STEP_MS 60000

/* Sleep ms in slices of at most 50 ms, returning early when the runner stops. */
static void pause_ms(const struct dg_job *job, json_int_t ms)
{
	while (ms > 0 && !dg_job_stopping(job)) {
		json_int_t slice = ms > 50 ? 50 : ms;
		struct timespec ts = {0, (long)slice * 1000000L};
		nanosleep(&ts, NULL);
		ms -= slice;
	}
}

static dg_rc one_step(struct dg_job *job, json_int_t step, json_int_t steps)
{
	json_t *cp = json_pack("{s:I}", "next", step + 1);
	dg_rc rc = dg_db_begin(job->db);
	if (rc != DG_OK)
		goto out;
	rc = dg_db_exec(
		job->db,
		"INSERT INTO demo_tally(job_id, step, created_at) VALUES (?, ?, {{now_ms}})",
		DG_ARGS(DG_VI(job->id), DG_VI(step)), NULL);
	if (rc == DG_OK)
		rc = dg_job_save(job, step + 1, steps, cp);
	if (rc == DG_OK)
		rc = dg_db_commit(job->db);
	else
		dg_db_rollback(job->db);
out:
	json_decref(cp);
	return rc;
}

dg_rc dg_demo_tally_run(struct dg_job *job, struct dg_err *err)
{
	json_int_t steps = json_integer_value(json_object_get(job->payload, "steps"));
	json_int_t step_ms = json_integer_value(json_object_get(job->payload, "step_ms"));
	if (steps < 1 || steps > MAX_STEPS || step_ms < 0 || step_ms > MAX_STEP_MS)
		return dg_err_set(err, DG_EINVAL, "steps must be 1..%d and step_ms 0..%d",
				  MAX_STEPS, MAX_STEP_MS);
	json_int_t next = json_integer_value(json_object_get(job->checkpoint, "next"));
	for (json_int_t step = next < 0 ? 0 : next; step < steps; step++) {
		pause_ms(job, step_ms);
		if (dg_job_stopping(job))
			return dg_err_set(err, DG_EUNAVAIL, "stopping");
		dg_rc rc = one_step(job, step, steps);
		if (rc != DG_OK)
			return dg_err_set(err, rc, "step %lld: %s", (long long)step,
					  dg_rc_name(rc));
	}
	json_t *result = json_pack("{s:I}", "steps", steps);
	dg_rc rc = dg_job_result(job, result);
	json_decref(result);
	return rc == DG_OK ? DG_OK : dg_err_set(err, rc, "cannot store the result");
}

void dg_demo_tally_register(void)
{
	dg_jobs_register("demo.tally", dg_demo_tally_run, DG_DEMO_TALLY_ATTEMPTS);
}
