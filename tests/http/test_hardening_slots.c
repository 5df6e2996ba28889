/*
 * test_hardening_slots.c - work that holds a store connection for long
 * cannot take them all (issue 16, points 2 and 4), through the real server
 * on whichever store DGOV_TEST_DB selects. Requests are held where they
 * run by a failpoint of kind hold (core/failpoint.h), seen there with
 * dg_failpoint_fired, and let go by disarming it, so nothing here depends
 * on timing. A held request holds its server thread too (libmicrohttpd
 * runs a handler on the thread that polls its connection), and one thread
 * may accept several connections at once: each held request is started
 * only once the one before it is held, so that it lands on a free thread.
 *   - datastore_search_sql on the test server's four threads: two
 *     statements run at once; a third is answered 429 at once
 *     (search_sql_at_once, Retry-After), while /healthz and
 *     datastore_search are still answered; both held ones then finish;
 *   - on a server of two threads, one at a time: the second is 429
 *     (search_sql_at_once: 1) while the other thread answers the rest;
 *   - dumps: two at once per caller; the caller's third is 429
 *     (dumps_at_once) and says to wait, while another address gets its
 *     dump; the held ones then finish;
 *   - an amplifying statement (nested replace(), printf, zeroblob,
 *     randomblob...) is refused before it runs;
 *   - no value one statement makes passes 4 MiB on SQLite, and the
 *     connections have their usual limit back afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "app/app.h"
#include "core/failpoint.h"
#include "store/store.h"
#include "node/demo.h"
#include "harness.h"
#include "hardening.h"

/* minimum-living-allowance (mz, open): a table of three rows is made on it */
#define RID "00000000-0000-4000-9000-000000000001"

static char *mz;

static void arm(const char *spec)
{
	struct dg_err err = {0};
	assert_int_equal(dg_failpoint_set(spec, &err), DG_OK);
}

/* Wait (10 s at most) until n hits of name are held; fails otherwise. */
static void wait_held(const char *name, long n)
{
	for (int i = 0; i < 1000 && dg_failpoint_fired(name) < n; i++)
		th_sleep_ms(10);
	assert_int_equal(dg_failpoint_fired(name), n);
}

/* POST an action as who (a header line or NULL): the status; *ans the body, *retry Retry-After. */
static long call(const char *who, const char *action, const char *body, json_t **ans, char **retry)
{
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	char path[128];
	const char *h[] = {who, NULL};
	snprintf(path, sizeof path, "/api/3/action/%s", action);
	long st = th_request(c, "POST", path, "application/json", body, strlen(body),
			     who ? h : NULL, &r);
	json_error_t je;
	*ans = json_loadb(r.body ? r.body : "", r.len, JSON_DECODE_ANY, &je);
	if (retry)
		*retry = th_header(&r, "Retry-After");
	th_resp_release(&r);
	th_client_free(c);
	return st;
}

static long sql(const char *statement, json_t **ans, char **retry)
{
	json_t *b = json_pack("{s:s}", "sql", statement);
	char *body = json_dumps(b, 0);
	long st = call(NULL, "datastore_search_sql", body, ans, retry);
	free(body);
	json_decref(b);
	return st;
}

/* The error's message (borrowed from ans), "" when there is none. */
static const char *message_of(json_t *ans)
{
	const char *m =
		json_string_value(json_object_get(json_object_get(ans, "error"), "message"));
	return m ? m : "";
}

struct held {
	long status;
	char path[160];
};

static void *run_sql(void *arg)
{
	struct held *h = arg;
	json_t *ans = NULL;
	h->status = sql("SELECT COUNT(*) AS c FROM \"" RID "\"", &ans, NULL);
	json_decref(ans);
	return NULL;
}

static void *run_get(void *arg)
{
	struct held *h = arg;
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	h->status = th_get(c, h->path, &r);
	th_resp_release(&r);
	th_client_free(c);
	return NULL;
}

static void search_sql_leaves_the_pool_to_the_rest(void **state)
{
	(void)state;
	arm("datastore.sql.run=hold:30000*2");
	pthread_t t[2];
	struct held h[2] = {{0}, {0}};
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_create(&t[i], NULL, run_sql, &h[i]), 0);
		wait_held("datastore.sql.run", i + 1);
	}
	/* a third is answered at once: busy, try later */
	json_t *ans = NULL;
	char *retry = NULL;
	assert_int_equal(sql("SELECT 1", &ans, &retry), 429);
	assert_non_null(strstr(message_of(ans), "Too many SQL searches are running"));
	assert_non_null(strstr(message_of(ans), "try again"));
	assert_non_null(retry);
	assert_true(strtol(retry, NULL, 10) > 0);
	free(retry);
	json_decref(ans);
	/* everything else is answered meanwhile */
	json_t *health = th_get_json(th_shared, "/healthz", 200);
	assert_non_null(health);
	assert_string_equal(json_string_value(json_object_get(health, "status")), "ok");
	json_decref(health);
	assert_int_equal(
		call(NULL, "datastore_search", "{\"resource_id\":\"" RID "\"}", &ans, NULL), 200);
	json_decref(ans);
	/* let them go: both finish */
	arm("");
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(h[i].status, 200);
	}
	/* and the slots are free again */
	assert_int_equal(sql("SELECT COUNT(*) AS c FROM \"" RID "\"", &ans, NULL), 200);
	json_decref(ans);
}

/* A search_sql statement's whole answer from a server on port (raw HTTP, read for up to ms). */
static char *sql_on(unsigned port, const char *statement, int ms)
{
	json_t *b = json_pack("{s:s}", "sql", statement);
	char *body = json_dumps(b, 0), req[1024];
	snprintf(req, sizeof req,
		 "POST /api/3/action/datastore_search_sql HTTP/1.1\r\nHost: x\r\n"
		 "Content-Type: application/json\r\nContent-Length: %zu\r\n"
		 "Connection: close\r\n\r\n%s",
		 strlen(body), body);
	int fd = dial("127.0.0.1", port);
	bool closed;
	send_all(fd, req);
	char *reply = read_all(fd, ms, &closed);
	close(fd);
	free(body);
	json_decref(b);
	return reply;
}

struct held_raw {
	unsigned port;
	char *reply;
};

static void *run_sql_raw(void *arg)
{
	struct held_raw *h = arg;
	h->reply = sql_on(h->port, "SELECT COUNT(*) AS c FROM \"" RID "\"", 15000);
	return NULL;
}

static void two_threads(struct dg_config *c)
{
	c->threads = 2;
}

/* With two HTTP threads, one search_sql at a time: the other thread stays for the rest. */
static void one_at_a_time_on_two_threads(void **state)
{
	(void)state;
	struct dg_server *srv = listen_with(two_threads);
	unsigned port = dg_server_port(srv);
	arm("datastore.sql.run=hold:30000*1");
	pthread_t t;
	struct held_raw h = {port, NULL};
	assert_int_equal(pthread_create(&t, NULL, run_sql_raw, &h), 0);
	wait_held("datastore.sql.run", 1);
	/* the second is busy at once, and says how many may run */
	char *reply = sql_on(port, "SELECT 1", 5000);
	assert_non_null(strstr(reply, "HTTP/1.1 429"));
	assert_non_null(strstr(reply, "search_sql_at_once: 1"));
	assert_non_null(strcasestr(reply, "\r\nRetry-After: "));
	free(reply);
	/* the other thread answers everything else */
	reply = ask("127.0.0.1", port,
		    "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(reply, "HTTP/1.1 200"));
	free(reply);
	arm("");
	pthread_join(t, NULL);
	assert_non_null(strstr(h.reply, "HTTP/1.1 200"));
	free(h.reply);
	/* and the next one runs */
	reply = sql_on(port, "SELECT 1 AS one", 5000);
	assert_non_null(strstr(reply, "HTTP/1.1 200"));
	free(reply);
	stop_and_restore(srv);
}

static void dumps_at_once_per_caller(void **state)
{
	(void)state;
	arm("datastore.dump.run=hold:30000*2");
	pthread_t t[2];
	struct held h[2];
	for (int i = 0; i < 2; i++) {
		h[i].status = 0;
		snprintf(h[i].path, sizeof h[i].path, "/datastore/dump/" RID "?format=%s",
			 i ? "json" : "csv");
		assert_int_equal(pthread_create(&t[i], NULL, run_get, &h[i]), 0);
		wait_held("datastore.dump.run", i + 1);
	}
	/* the same caller's third: 429 with the quota's name and what to do */
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	assert_int_equal(th_get(c, "/datastore/dump/" RID, &r), 429);
	assert_non_null(strstr(r.body, "Too many dumps at once (dumps_at_once: 2)"));
	assert_non_null(strstr(r.body, "wait for one to finish"));
	char *retry = th_header(&r, "Retry-After");
	assert_non_null(retry);
	free(retry);
	th_resp_release(&r);
	th_client_free(c);
	/* another caller (another address) gets its dump meanwhile */
	char *reply = ask("127.0.0.2", th_port(th_shared),
			  "GET /datastore/dump/" RID "?format=csv HTTP/1.1\r\nHost: x\r\n"
			  "Connection: close\r\n\r\n");
	assert_non_null(strstr(reply, "HTTP/1.1 200"));
	assert_non_null(strstr(reply, "海曙区"));
	free(reply);
	arm("");
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(h[i].status, 200);
	}
	/* the caller's slots are free again */
	c = th_client_new(th_shared);
	assert_int_equal(th_get(c, "/datastore/dump/" RID, &r), 200);
	th_resp_release(&r);
	th_client_free(c);
}

/* Functions that build a long value out of a short statement never run. */
static void amplifiers_refused(void **state)
{
	(void)state;
	static const char *const statements[][2] = {
		{"SELECT replace(replace(replace('aa', 'a', 'aa'), 'a', 'aa'), 'a', 'aa')",
		 "\"replace\""},
		{"SELECT printf('%.*c', 100000000, 'x')", "\"printf\""},
		{"SELECT format('%s', 'x')", "\"format\""},
		{"SELECT zeroblob(1000000000)", "\"zeroblob\""},
		{"SELECT randomblob(1000000000)", "\"randomblob\""},
		{"SELECT repeat('x', 1000000000)", "\"repeat\""},
		{"SELECT lpad('x', 1000000000)", "\"lpad\""},
		{"SELECT hex(hex(hex('x')))", "\"hex\""},
		{"SELECT concat('x', 'y')", "\"concat\""},
	};
	for (size_t i = 0; i < sizeof statements / sizeof statements[0]; i++) {
		json_t *ans = NULL;
		long st = sql(statements[i][0], &ans, NULL);
		const char *e = json_string_value(
			json_array_get(json_object_get(json_object_get(ans, "error"), "sql"), 0));
		if (st != 409 || !e || !strstr(e, statements[i][1]))
			fail_msg("%s: %ld %s", statements[i][0], st, e ? e : "(no message on sql)");
		json_decref(ans);
	}
	/* the store still answers */
	json_t *health = th_get_json(th_shared, "/healthz", 200);
	json_decref(health);
}

/*
 * The 4 MiB cap on any value one search_sql statement makes (SQLite's
 * string and blob length limit, set on its connection while it runs): a
 * stored value of 4.5 MiB cannot be read through search_sql on SQLite
 * (PostgreSQL has no such cap: its time budget stops any statement), and
 * every connection has its usual limit back afterwards, so the same value
 * reads through datastore_search each time.
 */
static void value_cap_of_search_sql(void **state)
{
	(void)state;
	const size_t big = (size_t)9 << 19; /* 4.5 MiB */
	json_t *ans = NULL;
	char *text = malloc(big + 1);
	memset(text, 'x', big);
	text[big] = '\0';
	json_t *b = json_pack("{s:s, s:b, s:s, s:[{s:s, s:i}]}", "resource_id", RID, "force", 1,
			      "method", "insert", "records", "district", text, "n", 999);
	char *body = json_dumps(b, 0);
	assert_int_equal(call(mz, "datastore_upsert", body, &ans, NULL), 200);
	json_decref(ans);
	free(body);
	json_decref(b);
	bool sqlite = dg_store_kind(th_app(th_shared)->env.store) == DG_STORE_SQLITE;
	long st = sql("SELECT district FROM \"" RID "\" WHERE n = 999", &ans, NULL);
	if (sqlite) {
		assert_int_equal(st, 409);
		json_t *why =
			json_array_get(json_object_get(json_object_get(ans, "error"), "sql"), 0);
		assert_non_null(strstr(json_string_value(why), "over the 4 MiB"));
		assert_non_null(strstr(json_string_value(why), "datastore_search"));
	} else {
		assert_int_equal(st, 200);
	}
	json_decref(ans);
	/* more reads than the pool has connections: none kept the cap */
	for (int i = 0; i < 12; i++) {
		assert_int_equal(call(NULL, "datastore_search",
				      "{\"resource_id\":\"" RID "\",\"filters\":{\"n\":999}}", &ans,
				      NULL),
				 200);
		json_t *rec = json_array_get(
			json_object_get(json_object_get(ans, "result"), "records"), 0);
		assert_int_equal(json_string_length(json_object_get(rec, "district")), big);
		json_decref(ans);
	}
	/* a small statement still runs */
	assert_int_equal(sql("SELECT COUNT(*) AS c FROM \"" RID "\"", &ans, NULL), 200);
	json_decref(ans);
	assert_int_equal(call(mz, "datastore_delete",
			      "{\"resource_id\":\"" RID "\",\"force\":true,"
			      "\"filters\":{\"n\":999}}",
			      &ans, NULL),
			 200);
	json_decref(ans);
	free(text);
}

static int setup(void **state)
{
	if (th_group_setup(state) != 0)
		return -1;
	mz = th_token_header(th_shared, DG_DEMO_STAFF, DG_DEMO_PASSWORD);
	if (!mz)
		return -1;
	/* datastore_search_sql is off until an administrator turns it on */
	th_sql(th_shared, "DELETE FROM od_access_settings WHERE key = 'search_sql';"
			  "INSERT INTO od_access_settings (key, value) VALUES ('search_sql', 1)");
	json_t *ans = NULL;
	call(mz, "datastore_delete", "{\"resource_id\":\"" RID "\",\"force\":true}", &ans, NULL);
	json_decref(ans);
	long st = call(mz, "datastore_create",
		       "{\"resource_id\":\"" RID "\",\"force\":true,"
		       "\"fields\":[{\"id\":\"district\",\"type\":\"text\"},"
		       "{\"id\":\"n\",\"type\":\"int\"}],"
		       "\"records\":[{\"district\":\"海曙区\",\"n\":3},"
		       "{\"district\":\"江北区\",\"n\":10},{\"district\":\"镇海区\",\"n\":4}]}",
		       &ans, NULL);
	json_decref(ans);
	return st == 200 ? 0 : -1;
}

static int teardown(void **state)
{
	arm("");
	free(mz);
	return th_group_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(search_sql_leaves_the_pool_to_the_rest),
		cmocka_unit_test(one_at_a_time_on_two_threads),
		cmocka_unit_test(dumps_at_once_per_caller),
		cmocka_unit_test(amplifiers_refused),
		cmocka_unit_test(value_cap_of_search_sql),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
