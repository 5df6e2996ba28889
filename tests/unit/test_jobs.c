/*
 * test_jobs.c - unit tests for src/jobs: the queue and its workers, on
 * SQLite and (with DGOV_TEST_DB=postgresql://...) PostgreSQL. Enqueue, claim,
 * run and done; retries with backoff, then failed; idempotency keys; a lost
 * lease makes dg_job_save fail so the step is not done twice; two runners on
 * one store never run a step twice; stop and resume from the checkpoint; a
 * job queued in a transaction starts at its commit, not a poll later.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/rand.h"
#include "jobs/demo_tally.h"
#include "jobs/internal.h"
#include "jobs/jobs.h"
#include "store/store.h"

struct fx {
	enum dg_store_kind kind;
	char url[512];
	char dir[256];
	struct dg_store *s;
};

static const char *pg_url(void)
{
	const char *u = getenv("DGOV_TEST_DB");
	return u && strncmp(u, "postgresql://", 13) == 0 ? u : NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void exec_script(struct dg_store *s, const char *sql)
{
	struct dg_db *db = NULL;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_db_exec_script(db, sql), DG_OK);
	dg_db_put(db);
}

static void open_and_migrate(struct fx *f)
{
	struct dg_err err = {0};
	const struct dg_migration *const lists[] = {dg_jobs_migrations};
	assert_int_equal(dg_store_open(f->url, 10, &f->s, &err), DG_OK);
	assert_int_equal(dg_store_migrate(f->s, lists, 1, &err), DG_OK);
}

static int setup_sqlite(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->kind = DG_STORE_SQLITE;
	snprintf(f->dir, sizeof(f->dir), "/tmp/dgov-jobs-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->url, sizeof(f->url), "%s/t.db", f->dir);
	open_and_migrate(f);
	*state = f;
	return 0;
}

static int setup_pg(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->kind = DG_STORE_PG;
	snprintf(f->url, sizeof(f->url), "%s", pg_url());
	struct dg_store *s = NULL;
	assert_int_equal(dg_store_open(f->url, 1, &s, NULL), DG_OK);
	exec_script(s, "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;");
	dg_store_close(s);
	open_and_migrate(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	dg_store_close(f->s);
	if (f->dir[0]) {
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", f->dir);
	}
	free(f);
	return 0;
}

static int64_t enqueue(struct dg_store *s, const char *kind, const char *payload, const char *key)
{
	struct dg_db *db = NULL;
	int64_t id = 0;
	json_t *p = json_loads(payload, 0, NULL);
	assert_non_null(p);
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_job_enqueue(db, kind, p, 42, key, &id), DG_OK);
	dg_db_put(db);
	json_decref(p);
	assert_true(id > 0);
	return id;
}

static json_t *get_job(struct dg_store *s, int64_t id)
{
	struct dg_db *db = NULL;
	json_t *j = NULL;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_job_get_json(db, id, &j), DG_OK);
	dg_db_put(db);
	return j;
}

/* Poll until the job is in state (or timeout_ms passes); returns its JSON. */
static json_t *wait_state(struct dg_store *s, int64_t id, const char *state, long timeout_ms)
{
	for (long waited = 0;; waited += 20) {
		json_t *j = get_job(s, id);
		const char *st = json_string_value(json_object_get(j, "state"));
		if (strcmp(st, state) == 0 || waited >= timeout_ms)
			return j;
		json_decref(j);
		sleep_ms(20);
	}
}

static int64_t jint(json_t *j, const char *path1, const char *path2)
{
	json_t *v = json_object_get(j, path1);
	if (path2)
		v = json_object_get(v, path2);
	return json_integer_value(v);
}

static int64_t count(struct dg_store *s, const char *sql, int64_t arg)
{
	struct dg_db *db = NULL;
	int64_t n = -1;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_db_query_int(db, sql, DG_ARGS(DG_VI(arg)), &n), DG_OK);
	dg_db_put(db);
	return n;
}

/* --- handlers used by the tests --- */

static atomic_int ok_calls;
static dg_rc h_ok(struct dg_job *job, struct dg_err *err)
{
	(void)err;
	atomic_fetch_add(&ok_calls, 1);
	json_t *cp =
		json_pack("{s:s}", "seen", json_string_value(json_object_get(job->payload, "x")));
	dg_rc rc = dg_job_save(job, 3, 3, cp);
	json_decref(cp);
	if (rc == DG_OK) {
		json_t *res = json_pack("{s:b}", "ok", 1);
		rc = dg_job_result(job, res);
		json_decref(res);
	}
	return rc;
}

static atomic_int fail_calls;
static dg_rc h_fail(struct dg_job *job, struct dg_err *err)
{
	atomic_fetch_add(&fail_calls, 1);
	return dg_err_set(err, DG_EIO, "boom on attempt %d", job->attempt);
}

static atomic_int slow_first_save = -1;
static dg_rc h_slow(struct dg_job *job, struct dg_err *err)
{
	(void)err;
	if (job->attempt == 1) {
		sleep_ms(2600); /* past the 1 s lease: another worker takes the job over */
		dg_rc rc = dg_db_begin(job->db);
		if (rc == DG_OK)
			rc = dg_job_save(job, 1, 2, NULL);
		atomic_store(&slow_first_save, (int)rc);
		dg_db_rollback(job->db);
		return rc;
	}
	return dg_job_save(job, 2, 2, NULL);
}

static void register_kinds(void)
{
	dg_jobs_register("test.ok", h_ok, 3);
	dg_jobs_register("test.fail", h_fail, 3);
	dg_jobs_register("test.slow", h_slow, 5);
	dg_demo_tally_register();
}

/* --- tests --- */

static void run_to_done(void **state)
{
	struct fx *f = *state;
	struct dg_jobs *j = NULL;
	atomic_store(&ok_calls, 0);
	int64_t id = enqueue(f->s, "test.ok", "{\"x\":\"hello\"}", NULL);
	json_t *q = get_job(f->s, id);
	assert_string_equal(json_string_value(json_object_get(q, "state")), "queued");
	assert_string_equal(json_string_value(json_object_get(q, "kind")), "test.ok");
	assert_int_equal(jint(q, "created_by", NULL), 42);
	assert_int_equal(jint(q, "max_attempts", NULL), 3);
	assert_true(json_is_null(json_object_get(q, "result")));
	json_decref(q);

	assert_int_equal(dg_jobs_start(f->s, NULL, 2, 5, NULL, &j), DG_OK);
	json_t *d = wait_state(f->s, id, "done", 10000);
	dg_jobs_stop(j);
	assert_string_equal(json_string_value(json_object_get(d, "state")), "done");
	assert_int_equal(jint(d, "attempts", NULL), 1);
	assert_int_equal(jint(d, "progress", "done"), 3);
	assert_int_equal(jint(d, "progress", "total"), 3);
	assert_true(json_is_true(json_object_get(json_object_get(d, "result"), "ok")));
	assert_true(json_is_null(json_object_get(d, "error")));
	json_decref(d);
	assert_int_equal(atomic_load(&ok_calls), 1);
	assert_int_equal(count(f->s,
			       "SELECT COUNT(*) FROM jobs WHERE id = ? AND checkpoint = "
			       "'{\"seen\":\"hello\"}'",
			       id),
			 1);
}

static void retries_then_failed(void **state)
{
	struct fx *f = *state;
	struct dg_jobs *j = NULL;
	atomic_store(&fail_calls, 0);
	dg_jobs_backoff_unit_ms = 1000;
	assert_int_equal(dg_jobs_backoff_ms(1), 2000);
	assert_int_equal(dg_jobs_backoff_ms(3), 8000);
	assert_int_equal(dg_jobs_backoff_ms(30), 600000); /* capped at 10 min */
	dg_jobs_backoff_unit_ms = 25;

	int64_t id = enqueue(f->s, "test.fail", "{}", NULL);
	assert_int_equal(dg_jobs_start(f->s, NULL, 1, 5, NULL, &j), DG_OK);
	/* after the first failure the job waits for its backoff, queued again with the error */
	json_t *q = NULL;
	for (int i = 0; i < 500 && atomic_load(&fail_calls) < 1; i++)
		sleep_ms(10);
	q = wait_state(f->s, id, "queued", 2000);
	json_decref(q);
	json_t *d = wait_state(f->s, id, "failed", 15000);
	dg_jobs_stop(j);
	dg_jobs_backoff_unit_ms = 1000;
	assert_string_equal(json_string_value(json_object_get(d, "state")), "failed");
	assert_int_equal(jint(d, "attempts", NULL), 3);
	assert_string_equal(json_string_value(json_object_get(d, "error")), "boom on attempt 3");
	json_decref(d);
	assert_int_equal(atomic_load(&fail_calls), 3);
}

static void backoff_delays_retry(void **state)
{
	struct fx *f = *state;
	struct dg_jobs *j = NULL;
	atomic_store(&fail_calls, 0);
	dg_jobs_backoff_unit_ms = 1000; /* first retry 2 s after the first failure */
	int64_t id = enqueue(f->s, "test.fail", "{}", NULL);
	assert_int_equal(dg_jobs_start(f->s, NULL, 2, 5, NULL, &j), DG_OK);
	for (int i = 0; i < 500 && atomic_load(&fail_calls) < 1; i++)
		sleep_ms(10);
	sleep_ms(1200);
	assert_int_equal(atomic_load(&fail_calls), 1);
	dg_jobs_stop(j);
	json_t *q = get_job(f->s, id);
	assert_string_equal(json_string_value(json_object_get(q, "state")), "queued");
	assert_int_equal(jint(q, "attempts", NULL), 1);
	assert_string_equal(json_string_value(json_object_get(q, "error")), "boom on attempt 1");
	json_decref(q);
	assert_true(count(f->s, "SELECT run_at - updated_at FROM jobs WHERE id = ?", id) >= 1900);
}

static void idempotency(void **state)
{
	struct fx *f = *state;
	int64_t a = enqueue(f->s, "test.ok", "{}", "import-2026-11-27");
	int64_t b = enqueue(f->s, "test.ok", "{\"other\":1}", "import-2026-11-27");
	int64_t c = enqueue(f->s, "test.ok", "{}", "import-2026-11-28");
	int64_t d = enqueue(f->s, "test.ok", "{}", NULL);
	int64_t e = enqueue(f->s, "test.ok", "{}", NULL);
	assert_int_equal(a, b);
	assert_true(c != a && d != e && d != c);
	assert_int_equal(count(f->s, "SELECT COUNT(*) FROM jobs WHERE id >= ?", 0), 4);

	/* inside the caller's transaction, and rolled back with it */
	struct dg_db *db = NULL;
	int64_t id = 0, id2 = 0;
	json_t *p = json_object();
	assert_int_equal(dg_db_get(f->s, &db), DG_OK);
	assert_int_equal(dg_db_begin(db), DG_OK);
	assert_int_equal(dg_job_enqueue(db, "test.ok", p, 1, "in-tx", &id), DG_OK);
	assert_int_equal(dg_job_enqueue(db, "test.ok", p, 1, "in-tx", &id2), DG_OK);
	assert_int_equal(id, id2);
	dg_db_rollback(db);
	json_t *gone = NULL;
	assert_int_equal(dg_job_get_json(db, id, &gone), DG_ENOTFOUND);
	/* bad input */
	json_t *arr = json_array();
	assert_int_equal(dg_job_enqueue(db, "test.ok", arr, 1, NULL, &id), DG_EINVAL);
	assert_int_equal(dg_job_enqueue(db, "", p, 1, NULL, &id), DG_EINVAL);
	assert_int_equal(dg_job_enqueue(db, "test.ok", NULL, 1, NULL, &id), DG_EINVAL);
	json_t *none = NULL;
	assert_int_equal(dg_job_get_json(db, 123456, &none), DG_ENOTFOUND);
	assert_null(none);
	json_decref(arr);
	json_decref(p);
	dg_db_put(db);
}

static void lease_loss(void **state)
{
	struct fx *f = *state;
	struct dg_jobs *j = NULL;
	atomic_store(&slow_first_save, -1);
	int64_t id = enqueue(f->s, "test.slow", "{}", NULL);
	assert_int_equal(dg_jobs_start(f->s, NULL, 2, 1, NULL, &j), DG_OK);
	json_t *d = wait_state(f->s, id, "done", 10000);
	/* the first attempt outlived its lease: its save must have been refused */
	for (int i = 0; i < 300 && atomic_load(&slow_first_save) < 0; i++)
		sleep_ms(10);
	dg_jobs_stop(j);
	assert_string_equal(json_string_value(json_object_get(d, "state")), "done");
	assert_int_equal(jint(d, "attempts", NULL), 2);
	assert_int_equal(jint(d, "progress", "done"), 2);
	json_decref(d);
	assert_int_equal(atomic_load(&slow_first_save), DG_ECONFLICT);
	/* the job stays done: the late attempt's outcome was not recorded */
	json_t *again = get_job(f->s, id);
	assert_string_equal(json_string_value(json_object_get(again, "state")), "done");
	assert_true(json_is_null(json_object_get(again, "error")));
	json_decref(again);
}

static void two_runners_tally(void **state)
{
	struct fx *f = *state;
	struct dg_jobs *r1 = NULL, *r2 = NULL;
	int64_t ids[3];
	for (int i = 0; i < 3; i++)
		ids[i] = enqueue(f->s, "demo.tally", "{\"steps\":15,\"step_ms\":5}", NULL);
	assert_int_equal(dg_jobs_start(f->s, NULL, 2, 1, NULL, &r1), DG_OK);
	assert_int_equal(dg_jobs_start(f->s, NULL, 2, 1, NULL, &r2), DG_OK);
	for (int i = 0; i < 3; i++) {
		json_t *d = wait_state(f->s, ids[i], "done", 30000);
		assert_string_equal(json_string_value(json_object_get(d, "state")), "done");
		assert_int_equal(jint(d, "result", "steps"), 15);
		assert_int_equal(jint(d, "progress", "done"), 15);
		json_decref(d);
	}
	dg_jobs_stop(r1);
	dg_jobs_stop(r2);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(
			count(f->s, "SELECT COUNT(*) FROM demo_tally WHERE job_id = ?", ids[i]),
			15);
		assert_int_equal(
			count(f->s,
			      "SELECT COUNT(DISTINCT step) FROM demo_tally WHERE job_id = ?"
			      " AND step >= 0 AND step < 15",
			      ids[i]),
			15);
	}
}

static void stop_and_resume(void **state)
{
	struct fx *f = *state;
	struct dg_jobs *j = NULL;
	int64_t id = enqueue(f->s, "demo.tally", "{\"steps\":40,\"step_ms\":20}", NULL);
	assert_int_equal(dg_jobs_start(f->s, NULL, 1, 30, NULL, &j), DG_OK);
	for (int i = 0;
	     i < 500 && count(f->s, "SELECT progress_done FROM jobs WHERE id = ?", id) < 5; i++)
		sleep_ms(10);
	dg_jobs_stop(j);
	/* stopping hands the job back, queued, without counting the attempt */
	json_t *q = get_job(f->s, id);
	int64_t done = jint(q, "progress", "done");
	assert_string_equal(json_string_value(json_object_get(q, "state")), "queued");
	assert_int_equal(jint(q, "attempts", NULL), 0);
	assert_true(done >= 5 && done < 40);
	json_decref(q);
	assert_int_equal(count(f->s, "SELECT COUNT(*) FROM demo_tally WHERE job_id = ?", id), done);

	assert_int_equal(dg_jobs_start(f->s, NULL, 1, 30, NULL, &j), DG_OK);
	json_t *d = wait_state(f->s, id, "done", 20000);
	dg_jobs_stop(j);
	assert_string_equal(json_string_value(json_object_get(d, "state")), "done");
	json_decref(d);
	assert_int_equal(
		count(f->s, "SELECT COUNT(DISTINCT step) FROM demo_tally WHERE job_id = ?", id),
		40);
	assert_int_equal(count(f->s, "SELECT COUNT(*) FROM demo_tally WHERE job_id = ?", id), 40);
}

static void bad_payload_and_unknown_kind(void **state)
{
	struct fx *f = *state;
	struct dg_jobs *j = NULL;
	dg_jobs_backoff_unit_ms = 5;
	int64_t bad = enqueue(f->s, "demo.tally", "{\"steps\":0}", NULL);
	int64_t unknown = enqueue(f->s, "test.nobody", "{}", NULL);
	assert_int_equal(dg_jobs_start(f->s, NULL, 2, 5, NULL, &j), DG_OK);
	json_t *b = wait_state(f->s, bad, "failed", 10000);
	json_t *u = wait_state(f->s, unknown, "failed", 10000);
	dg_jobs_stop(j);
	dg_jobs_backoff_unit_ms = 1000;
	assert_string_equal(json_string_value(json_object_get(b, "state")), "failed");
	assert_non_null(strstr(json_string_value(json_object_get(b, "error")), "steps"));
	/* a handler's EINVAL is final: no retries of input that cannot succeed */
	assert_int_equal(jint(b, "attempts", NULL), 1);
	assert_string_equal(json_string_value(json_object_get(u, "state")), "failed");
	assert_int_equal(jint(u, "attempts", NULL), 5);
	assert_non_null(strstr(json_string_value(json_object_get(u, "error")), "test.nobody"));
	json_decref(b);
	json_decref(u);
	assert_int_equal(dg_jobs_start(f->s, NULL, 0, 0, NULL, &j), DG_EINVAL);
	assert_int_equal(dg_jobs_start(f->s, NULL, 0, 1, NULL, &j), DG_OK); /* queue only */
	dg_jobs_stop(j);
}

/*
 * A module's scheduled task is queued as a job of its kind when its period
 * begins, and only once per period however many runners (nodes) there are:
 * two runners over one store queue it once, and it runs once.
 */
static void scheduled_task_once_per_period(void **state)
{
	struct fx *f = *state;
	struct dg_jobs *a = NULL, *b = NULL;
	const struct dg_task tasks[] = {{"test.ok", 3600}, {NULL, 0}};
	atomic_store(&ok_calls, 0);
	assert_int_equal(dg_jobs_start(f->s, NULL, 1, 5, tasks, &a), DG_OK);
	assert_int_equal(dg_jobs_start(f->s, NULL, 1, 5, tasks, &b), DG_OK);
	for (int i = 0; i < 1000 && atomic_load(&ok_calls) < 1; i++)
		sleep_ms(10);
	sleep_ms(300); /* time for a second, wrong, run to show */
	dg_jobs_stop(a);
	dg_jobs_stop(b);
	assert_int_equal(atomic_load(&ok_calls), 1);
	assert_int_equal(count(f->s,
			       "SELECT COUNT(*) FROM jobs WHERE kind = 'test.ok'"
			       " AND idem_key LIKE 'task:test.ok:%' AND state = 'done' AND ? = 0",
			       0),
			 1);
	/* a runner started again in the same period queues nothing new */
	assert_int_equal(dg_jobs_start(f->s, NULL, 1, 5, tasks, &a), DG_OK);
	sleep_ms(300);
	dg_jobs_stop(a);
	assert_int_equal(
		count(f->s, "SELECT COUNT(*) FROM jobs WHERE kind = 'test.ok' AND ? = 0", 0), 1);
	assert_int_equal(atomic_load(&ok_calls), 1);
}

/*
 * A job queued inside a transaction starts when the transaction commits,
 * not a poll later: with the poll interval set to a minute, a job queued
 * (and committed a moment after) by the runner's own process still runs at
 * once. A job queued where the runner cannot hear is left for the poll.
 */
static void queued_in_tx_starts_at_commit(void **state)
{
	struct fx *f = *state;
	struct dg_jobs *j = NULL;
	struct dg_db *db = NULL;
	int64_t id = 0;
	unsigned poll = dg_jobs_poll_ms;
	atomic_store(&ok_calls, 0);
	dg_jobs_poll_ms = 60000;
	assert_int_equal(dg_jobs_start(f->s, NULL, 1, 5, NULL, &j), DG_OK);
	sleep_ms(200); /* the worker found nothing and sleeps its minute */
	json_t *p = json_pack("{s:s}", "x", "in a transaction");
	assert_int_equal(dg_db_get(f->s, &db), DG_OK);
	assert_int_equal(dg_db_begin(db), DG_OK);
	assert_int_equal(dg_job_enqueue(db, "test.ok", p, 0, NULL, &id), DG_OK);
	sleep_ms(50); /* the request's other writes */
	assert_int_equal(dg_db_commit(db), DG_OK);
	dg_db_put(db);
	json_decref(p);
	json_t *d = wait_state(f->s, id, "done", 10000);
	assert_string_equal(json_string_value(json_object_get(d, "state")), "done");
	json_decref(d);
	/* the next wake-up for nothing ends in the poll: a job inserted behind the
	   runner's back (another node) stays queued meanwhile */
	sleep_ms(800);
	exec_script(f->s,
		    "INSERT INTO jobs(kind, state, payload, max_attempts, run_at,"
		    " created_at, updated_at) VALUES ('test.ok', 'queued', '{}', 3, 0, 0, 0)");
	sleep_ms(600);
	assert_int_equal(
		count(f->s, "SELECT COUNT(*) FROM jobs WHERE state = 'queued' AND ? = 0", 0), 1);
	dg_jobs_stop(j);
	dg_jobs_poll_ms = poll;
	assert_int_equal(atomic_load(&ok_calls), 1);
}

int main(void)
{
	dg_log_set_level(getenv("DGOV_TEST_LOG") ? DG_LOG_DEBUG : DG_LOG_OFF);
	if (dg_rand_init() != DG_OK)
		return 1;
	register_kinds();
	static const struct {
		const char *name;
		CMUnitTestFunction fn;
	} cases[] = {
		{"run_to_done", run_to_done},
		{"retries_then_failed", retries_then_failed},
		{"backoff_delays_retry", backoff_delays_retry},
		{"idempotency", idempotency},
		{"lease_loss", lease_loss},
		{"two_runners_tally", two_runners_tally},
		{"stop_and_resume", stop_and_resume},
		{"bad_payload_and_unknown_kind", bad_payload_and_unknown_kind},
		{"scheduled_task_once_per_period", scheduled_task_once_per_period},
		{"queued_in_tx_starts_at_commit", queued_in_tx_starts_at_commit},
	};
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	static char names[2 * N][64];
	struct CMUnitTest tests[2 * N];
	size_t n = 0;
	/* PostgreSQL cases only when DGOV_TEST_DB names one */
	for (int pg = 0; pg <= (pg_url() != NULL); pg++) {
		for (size_t i = 0; i < N; i++) {
			snprintf(names[n], 64, "%s_%s", pg ? "pg" : "sqlite", cases[i].name);
			tests[n] =
				(struct CMUnitTest){names[n], cases[i].fn,
						    pg ? setup_pg : setup_sqlite, teardown, NULL};
			n++;
		}
	}
	return _cmocka_run_group_tests("jobs", tests, n, NULL, NULL);
}
