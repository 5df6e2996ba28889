/*
 * test_health.c - /healthz answers from the last background check of the
 * store (node/health.h) and touches no store itself; /readyz makes the round
 * trip on the request. Faults come from failpoints (core/failpoint.h): the
 * store gone at the connection or at the query, or one check stuck. Waiting
 * for the checker is a bounded poll for a state, never a timing assert.
 * Runs on SQLite and on PostgreSQL like every HTTP test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/failpoint.h"
#include "harness.h"

static void arm(const char *spec)
{
	struct dg_err err = {0};
	assert_int_equal(dg_failpoint_set(spec, &err), DG_OK);
}

/* GET path: its status, and the body's "status", "schema" and "reason" checked. */
static long probe(struct th_client *c, const char *path, int64_t *schema, char *reason,
		  size_t reason_size)
{
	struct th_resp r = {0};
	long st = th_get(c, path, &r);
	json_error_t jerr;
	json_t *j = json_loadb(r.body ? r.body : "", r.len, 0, &jerr);
	assert_non_null(j);
	const char *status = json_string_value(json_object_get(j, "status"));
	assert_non_null(status);
	assert_string_equal(status, st == 200 ? "ok" : "error");
	assert_non_null(json_string_value(json_object_get(j, "store")));
	if (schema)
		*schema = json_integer_value(json_object_get(j, "schema"));
	const char *why = json_string_value(json_object_get(j, "reason"));
	/* a reason exactly when not ok */
	if (st == 200)
		assert_null(why);
	else
		assert_non_null(why);
	if (reason && reason_size)
		snprintf(reason, reason_size, "%s", why ? why : "");
	json_decref(j);
	th_resp_release(&r);
	return st;
}

/* Poll /healthz until it answers want (at most about 20 s); returns its reason. */
static void wait_healthz(struct th_client *c, long want, char *reason, size_t reason_size)
{
	for (int i = 0; i < 400; i++) {
		if (probe(c, "/healthz", NULL, reason, reason_size) == want)
			return;
		nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
	}
	fail_msg("/healthz never answered %ld", want);
}

/* With no check due for an hour, /healthz stays ok while the store is gone. */
static void healthz_touches_no_store(void **state)
{
	(void)state;
	struct th_opts o = {.health_ms = 3600000};
	struct th_srv *s = th_start_opts(&o);
	struct th_client *c = th_client_new(s);
	int64_t schema = 0, ready_schema = 0;
	char reason[200];
	assert_int_equal(probe(c, "/healthz", &schema, NULL, 0), 200);
	assert_true(schema > 0);
	assert_int_equal(probe(c, "/readyz", &ready_schema, NULL, 0), 200);
	assert_int_equal(ready_schema, schema);

	/* no connection: /readyz fails at once, /healthz keeps the last check */
	arm("store.get=gone");
	assert_int_equal(probe(c, "/healthz", &schema, NULL, 0), 200);
	assert_int_equal(schema, ready_schema);
	assert_int_equal(probe(c, "/readyz", NULL, reason, sizeof(reason)), 503);
	assert_non_null(strstr(reason, "no connection"));
	/* a connection, but the query fails */
	arm("store.query=gone");
	assert_int_equal(probe(c, "/healthz", NULL, NULL, 0), 200);
	assert_int_equal(probe(c, "/readyz", NULL, reason, sizeof(reason)), 503);
	assert_non_null(strstr(reason, "did not answer"));

	arm("");
	assert_int_equal(probe(c, "/readyz", NULL, NULL, 0), 200);
	assert_int_equal(probe(c, "/healthz", NULL, NULL, 0), 200);
	th_client_free(c);
	th_stop(s);
}

/* A failed background check turns /healthz 503; the next good one turns it back. */
static void healthz_follows_the_check(void **state)
{
	(void)state;
	struct th_opts o = {.health_ms = 200};
	struct th_srv *s = th_start_opts(&o);
	struct th_client *c = th_client_new(s);
	char reason[200];
	assert_int_equal(probe(c, "/healthz", NULL, NULL, 0), 200);

	arm("store.get=gone");
	assert_int_equal(probe(c, "/readyz", NULL, NULL, 0), 503);
	wait_healthz(c, 503, reason, sizeof(reason));
	assert_non_null(strstr(reason, "no connection"));

	arm("store.query=busy");
	wait_healthz(c, 503, reason, sizeof(reason));
	/* the reason follows the latest check */
	for (int i = 0; i < 400 && !strstr(reason, "did not answer"); i++) {
		nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
		assert_int_equal(probe(c, "/healthz", NULL, reason, sizeof(reason)), 503);
	}
	assert_non_null(strstr(reason, "did not answer"));

	arm("");
	wait_healthz(c, 200, NULL, 0);
	assert_int_equal(probe(c, "/readyz", NULL, NULL, 0), 200);
	th_client_free(c);
	th_stop(s);
}

/* A check that hangs: /healthz turns 503 once the last success is 5 s old. */
static void healthz_stale_check(void **state)
{
	(void)state;
	struct th_opts o = {.health_ms = 200};
	struct th_srv *s = th_start_opts(&o);
	struct th_client *c = th_client_new(s);
	char reason[200];
	assert_int_equal(probe(c, "/healthz", NULL, NULL, 0), 200);

	/* the next check's connection waits 7 s, then goes on */
	arm("store.get=slow:7000*1");
	wait_healthz(c, 503, reason, sizeof(reason));
	assert_non_null(strstr(reason, "no check of the store has finished"));
	wait_healthz(c, 200, NULL, 0);
	arm("");
	th_client_free(c);
	th_stop(s);
}

/* Stopping the server while the checker runs leaves no thread or memory behind (ASan). */
static void stops_cleanly(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++) {
		struct th_opts o = {.health_ms = 10};
		struct th_srv *s = th_start_opts(&o);
		struct th_client *c = th_client_new(s);
		assert_int_equal(probe(c, "/healthz", NULL, NULL, 0), 200);
		th_client_free(c);
		th_stop(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(healthz_touches_no_store),
		cmocka_unit_test(healthz_follows_the_check),
		cmocka_unit_test(healthz_stale_check),
		cmocka_unit_test(stops_cleanly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
