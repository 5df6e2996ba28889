/*
 * test_jobs_crash.c - the crash-resume test: a job survives its server being
 * killed mid-way and finishes on the next start with every step done once.
 *
 * It drives the real binary (DGOV_BIN, default build/dgov) as child
 * processes on one store (DGOV_TEST_DB, or a temporary SQLite file): queue a
 * 30-step demo.tally with `dgov jobs add`, start `dgov serve` with a 2 s
 * lease, SIGKILL it once 5 steps are committed, start it again, and wait for
 * the job to be done. Then demo_tally must hold steps 0..29 exactly once, and
 * the job must show at least two attempts. Progress is read straight from
 * the store through store.h, so no account is needed.
 *
 * A second test uses the in-process harness for the job's page and JSON:
 * what the creator and an administrator see, and the 404 everyone else gets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "core/log.h"
#include "node/demo.h"
#include "harness.h"
#include "jobs/demo_tally.h"
#include "jobs/internal.h"
#include "jobs/jobs.h"
#include "store/store.h"

#define STEPS 30

/* `dgov jobs add demo.tally ...`: the new job's id. */
static int64_t add_job(const struct th_proc *c)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	const char *argv[] = {c->bin,
			      "jobs",
			      "add",
			      "demo.tally",
			      "{\"steps\":30,\"step_ms\":100}",
			      "--db",
			      c->db,
			      "--key-file",
			      c->key,
			      "--data",
			      c->data,
			      "--templates",
			      c->templates,
			      "--static",
			      c->stat,
			      NULL};
	pid_t pid = th_proc_spawn(c, argv, fds[1]);
	close(fds[1]);
	char out[64] = {0};
	ssize_t n = read(fds[0], out, sizeof(out) - 1);
	close(fds[0]);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("dgov jobs add failed (see %s)", c->log);
	assert_true(n > 0);
	return strtoll(out, NULL, 10);
}

struct job_row {
	int64_t done, attempts;
	char state[16];
};

static void read_job(struct dg_store *s, int64_t id, struct job_row *j)
{
	struct dg_db *db = NULL;
	struct dg_rows *r = NULL;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_db_query(db,
				     "SELECT progress_done, attempts, state FROM jobs WHERE id = ?",
				     DG_ARGS(DG_VI(id)), &r),
			 DG_OK);
	assert_int_equal(dg_rows_next(r), DG_OK);
	j->done = dg_rows_int(r, 0);
	j->attempts = dg_rows_int(r, 1);
	snprintf(j->state, sizeof(j->state), "%s", dg_rows_text(r, 2));
	dg_rows_free(r);
	dg_db_put(db);
}

static int64_t query_int(struct dg_store *s, const char *sql, int64_t arg)
{
	struct dg_db *db = NULL;
	int64_t v = -1;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_db_query_int(db, sql, DG_ARGS(DG_VI(arg)), &v), DG_OK);
	dg_db_put(db);
	return v;
}

/*
 * Poll until the job is done (want_done) or has at least min_done steps, or
 * the server died, or timeout_ms passed.
 */
static void wait_for(struct dg_store *s, int64_t id, pid_t srv, long timeout_ms, bool want_done,
		     int64_t min_done, struct job_row *j)
{
	for (long waited = 0; waited < timeout_ms; waited += 100) {
		read_job(s, id, j);
		if (want_done ? strcmp(j->state, "done") == 0 : j->done >= min_done)
			return;
		if (waitpid(srv, NULL, WNOHANG) == srv)
			fail_msg("dgov serve exited early");
		th_sleep_ms(100);
	}
}

static void crash_and_resume(void **state)
{
	(void)state;
	struct th_proc c = {0};
	th_proc_init(&c, "dgov-crash");
	int64_t id = add_job(&c);
	assert_true(id > 0);
	struct dg_store *s = NULL;
	assert_int_equal(dg_store_open(c.db, 2, &s, NULL), DG_OK);

	struct job_row j = {0};
	pid_t srv = th_proc_serve(&c);
	wait_for(s, id, srv, 30000, false, 5, &j);
	assert_true(j.done >= 5);
	kill(srv, SIGKILL);
	assert_int_equal(waitpid(srv, NULL, 0), srv);
	read_job(s, id, &j);
	assert_string_not_equal(j.state, "done");
	assert_true(j.done < STEPS);
	/* what was committed before the kill is exactly what the checkpoint says */
	assert_int_equal(query_int(s, "SELECT COUNT(*) FROM demo_tally WHERE job_id = ?", id),
			 j.done);

	srv = th_proc_serve(&c);
	wait_for(s, id, srv, 60000, true, 0, &j);
	assert_string_equal(j.state, "done");
	assert_true(j.attempts >= 2);
	th_proc_stop(srv);

	assert_int_equal(query_int(s, "SELECT COUNT(*) FROM demo_tally WHERE job_id = ?", id),
			 STEPS);
	assert_int_equal(
		query_int(s, "SELECT COUNT(DISTINCT step) FROM demo_tally WHERE job_id = ?", id),
		STEPS);
	assert_int_equal(query_int(s, "SELECT MIN(step) FROM demo_tally WHERE job_id = ?", id), 0);
	assert_int_equal(query_int(s, "SELECT MAX(step) FROM demo_tally WHERE job_id = ?", id),
			 STEPS - 1);
	dg_store_close(s);
	th_proc_cleanup(&c);
}

static int64_t user_id(struct dg_store *s, const char *username)
{
	struct dg_db *db = NULL;
	int64_t id = 0;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_db_query_int(db, "SELECT id FROM users WHERE username = ?",
					 DG_ARGS(DG_VT(username)), &id),
			 DG_OK);
	dg_db_put(db);
	return id;
}

static int64_t enqueue_as(struct dg_store *s, const char *payload, int64_t who)
{
	struct dg_db *db = NULL;
	int64_t id = 0;
	json_t *p = json_loads(payload, 0, NULL);
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_job_enqueue(db, "demo.tally", p, who, NULL, &id), DG_OK);
	dg_db_put(db);
	json_decref(p);
	return id;
}

static void wait_state(struct dg_store *s, int64_t id, const char *state)
{
	struct job_row j = {0};
	for (int i = 0; i < 200; i++) {
		read_job(s, id, &j);
		if (strcmp(j.state, state) == 0)
			return;
		th_sleep_ms(50);
	}
	fail_msg("job %lld is %s, not %s", (long long)id, j.state, state);
}

static long get_status(struct th_client *c, const char *path, struct th_resp *out)
{
	memset(out, 0, sizeof(*out));
	return th_get(c, path, out);
}

static void pages_and_access(void **state)
{
	(void)state;
	dg_jobs_backoff_unit_ms = 1; /* the failing job below retries at once */
	dg_demo_tally_register();
	struct th_opts o = {.demo = true, .job_workers = 1, .job_lease_sec = 5};
	struct th_srv *srv = th_start_opts(&o);
	struct dg_store *s = th_app(srv)->env.store;
	int64_t owner = user_id(s, DG_DEMO_CITIZEN);
	int64_t ok = enqueue_as(s, "{\"steps\":4,\"step_ms\":1}", owner);
	int64_t bad = enqueue_as(s, "{\"steps\":0}", owner);
	wait_state(s, ok, "done");
	wait_state(s, bad, "failed");

	char path[64], api[64], badpath[64];
	snprintf(path, sizeof(path), "/jobs/%lld", (long long)ok);
	snprintf(api, sizeof(api), "/api/v1/jobs/%lld", (long long)ok);
	snprintf(badpath, sizeof(badpath), "/jobs/%lld", (long long)bad);
	struct th_resp r;

	/* anonymous: the API asks for credentials, the page sends to sign-in */
	struct th_client *anon = th_client_new(srv);
	assert_int_equal(get_status(anon, api, &r), 401);
	th_resp_release(&r);
	assert_int_equal(get_status(anon, path, &r), 303);
	th_resp_release(&r);
	th_client_free(anon);

	struct th_client *c = th_client_new(srv);
	assert_true(th_login(c, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD));
	assert_int_equal(get_status(c, path, &r), 200);
	assert_non_null(strstr(r.body, "<progress"));
	assert_non_null(strstr(r.body, "100%"));
	assert_non_null(strstr(r.body, "demo.tally"));
	assert_non_null(strstr(r.body, "{&quot;steps&quot;:4}"));
	char href[96];
	snprintf(href, sizeof(href), "href=\"%s\"", path);
	assert_non_null(strstr(r.body, href)); /* the refresh link */
	assert_null(strstr(r.body, "http-equiv=\"refresh\""));
	th_resp_release(&r);
	assert_int_equal(get_status(c, api, &r), 200);
	json_t *j = json_loads(r.body, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "done");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "result"), "steps")),
			 4);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(j, "progress"), "done")), 4);
	json_decref(j);
	th_resp_release(&r);
	/* the failed job shows its error */
	assert_int_equal(get_status(c, badpath, &r), 200);
	assert_non_null(strstr(r.body, "steps must be"));
	th_resp_release(&r);
	/* bad and unknown ids */
	assert_int_equal(get_status(c, "/jobs/abc", &r), 404);
	th_resp_release(&r);
	assert_int_equal(get_status(c, "/jobs/99999999", &r), 404);
	th_resp_release(&r);
	assert_int_equal(get_status(c, "/api/v1/jobs/-1", &r), 404);
	th_resp_release(&r);
	th_client_free(c);

	/* another resident cannot tell the job exists */
	struct th_client *other = th_client_new(srv);
	assert_true(th_login(other, DG_DEMO_CITIZEN2, DG_DEMO_PASSWORD));
	assert_int_equal(get_status(other, api, &r), 404);
	th_resp_release(&r);
	assert_int_equal(get_status(other, path, &r), 404);
	th_resp_release(&r);
	th_client_free(other);

	/* an administrator can */
	struct th_client *admin = th_client_new(srv);
	assert_true(th_login(admin, DG_DEMO_ADMIN, DG_DEMO_PASSWORD));
	assert_int_equal(get_status(admin, api, &r), 200);
	th_resp_release(&r);
	assert_int_equal(get_status(admin, path, &r), 200);
	th_resp_release(&r);
	th_client_free(admin);
	th_stop(srv);
	dg_jobs_backoff_unit_ms = 1000;
}

int main(void)
{
	dg_log_set_level(DG_LOG_OFF);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crash_and_resume),
		cmocka_unit_test(pages_and_access),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
