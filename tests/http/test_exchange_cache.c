/*
 * test_exchange_cache.c - each node keeps a copy of the exchange's keys
 * and grants (src/exchange/xcache.c), checked on every call against the
 * store's version of them: two nodes on one store (th_start_peer), each
 * with its copy warmed by a call, then a change made on the store (a grant
 * revoked through the API and by hand, a key revoked, a key rotated, a key
 * given to another system, a new key and a new grant) must show on the very next call on both
 * nodes. A grant that ends by time is refused without any change of the store: the server's day
 * moves on (its time zone, read at each call) while the version stays the same. Every refusal is
 * audited as a success is, and nothing is read. Runs on the store DGOV_TEST_DB selects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "core/date.h"
#include "harness.h"
#include "node/demo.h"

#define ZHANGSAN_ID "990100198503120313" /* the demo resident zhangsan */
#define PURPOSE     "990100-MZ-901"
#define ONE         "/x/v1/person/" ZHANGSAN_ID "?fields=name"
#define KEY1        "test-cache-key-0001"
#define KEY2        "test-cache-key-0002"

static struct th_srv *peer;
static char *admin_tok;
static int seq_ids;

static const char *client = "mz/cache"; /* who calls */

/* GET ONE on node s as client with key; the status, *code the refusal's code ("" if none). */
static long call_on(struct th_srv *s, const char *key, char code[32])
{
	char h[4][100];
	snprintf(h[0], sizeof h[0], "X-Dgov-Client: %s", client);
	snprintf(h[1], sizeof h[1], "X-Dgov-Key: %s", key);
	snprintf(h[2], sizeof h[2], "X-Dgov-Purpose: " PURPOSE);
	snprintf(h[3], sizeof h[3], "X-Dgov-Request-Id: test-cache-%06d", ++seq_ids);
	const char *hdrs[] = {h[0], h[1], h[2], h[3], NULL};
	struct th_client *cl = th_client_new(s);
	struct th_resp r = {0};
	long st = th_request(cl, "GET", ONE, NULL, NULL, 0, hdrs, &r);
	json_t *j = r.body ? json_loads(r.body, 0, NULL) : NULL;
	const char *c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
	snprintf(code, 32, "%s", c ? c : "");
	json_decref(j);
	th_resp_release(&r);
	th_client_free(cl);
	return st;
}

static int64_t count(const char *kind)
{
	char q[200];
	snprintf(q, sizeof q, "SELECT COUNT(*) FROM audit_log WHERE kind = '%s'", kind);
	return th_sql_int(th_shared, q);
}

/* A read on node s: 200, one exchange.read more, one use line more. */
static void reads(struct th_srv *s, const char *key)
{
	int64_t r = count("exchange.read"),
		u = th_sql_int(th_shared, "SELECT COUNT(*) FROM xr_uses");
	char code[32];
	long st = call_on(s, key, code);
	if (st != 200)
		fail_msg("wanted 200, got %ld %s", st, code);
	assert_int_equal(count("exchange.read"), r + 1);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM xr_uses"), u + 1);
}

/* A refusal on node s: its status and code, audited like a success, nothing read. */
static void refused(struct th_srv *s, const char *key, long status, const char *want)
{
	int64_t a = count("exchange.refused"), r = count("exchange.read"),
		u = th_sql_int(th_shared, "SELECT COUNT(*) FROM xr_uses");
	char code[32];
	long st = call_on(s, key, code);
	if (st != status || strcmp(code, want) != 0)
		fail_msg("wanted %ld %s, got %ld %s", status, want, st, code);
	assert_int_equal(count("exchange.refused"), a + 1);
	assert_int_equal(count("exchange.read"), r);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM xr_uses"), u);
}

static void key_hash(const char *key, char hex[65])
{
	unsigned char h[32];
	crypto_generichash(h, sizeof h, (const unsigned char *)key, strlen(key), NULL, 0);
	sodium_bin2hex(hex, 65, h, sizeof h);
}

static int64_t grant_id(void)
{
	return th_sql_int(th_shared, "SELECT MAX(id) FROM xr_requests WHERE purpose = '" PURPOSE
				     "' AND status = 'approved'");
}

static void add_grant(const char *ends)
{
	char sql[600];
	snprintf(sql, sizeof sql,
		 "INSERT INTO xr_requests (dept, registry, fields, clear, purpose, legal_basis,"
		 " mode, ends, status, granted, created_ms) VALUES ('mz', 'person', 'name', 0,"
		 " '" PURPOSE "', 'test', 'one', '%s', 'approved', 'name', 0)",
		 ends);
	th_sql(th_shared, sql);
}

/* A new key and a new grant work at once on both nodes, whose copies were warm. */
static void additions_seen(void **state)
{
	(void)state;
	/* warm both copies: the key is not known yet */
	refused(th_shared, KEY1, 401, "bad_key");
	refused(peer, KEY1, 401, "bad_key");
	char hex[65], sql[300];
	key_hash(KEY1, hex);
	snprintf(sql, sizeof sql,
		 "INSERT INTO xr_clients (dept, system, key_hash, rate_per_min, created_ms)"
		 " VALUES ('mz', 'cache', '%s', 1000, 0)",
		 hex);
	th_sql(th_shared, sql);
	/* the key is known on both nodes; the purpose has no grant yet */
	refused(th_shared, KEY1, 403, "wrong_purpose");
	refused(peer, KEY1, 403, "wrong_purpose");
	add_grant("2099-12-31");
	reads(th_shared, KEY1);
	reads(peer, KEY1);
}

/* A grant revoked through the API, on node 1: refused on the next call on both nodes. */
static void grant_revoked(void **state)
{
	(void)state;
	reads(th_shared, KEY1);
	reads(peer, KEY1);
	char path[100];
	snprintf(path, sizeof path, "/api/exchange/requests/%lld/revoke", (long long)grant_id());
	struct th_client *cl = th_client_new(th_shared);
	const char *hdrs[] = {admin_tok, NULL};
	struct th_resp r = {0};
	assert_int_equal(th_request(cl, "POST", path, "application/json", "{}", 2, hdrs, &r), 200);
	th_resp_release(&r);
	th_client_free(cl);
	refused(peer, KEY1, 403, "wrong_purpose");
	refused(th_shared, KEY1, 403, "wrong_purpose");
	/* approved again, by hand on the store: both nodes read again */
	add_grant("2099-12-31");
	reads(peer, KEY1);
	reads(th_shared, KEY1);
	/* revoked by hand on the store, as an operator would */
	th_sql(th_shared, "UPDATE xr_requests SET status = 'revoked', granted = ''"
			  " WHERE purpose = '" PURPOSE "'");
	refused(th_shared, KEY1, 403, "wrong_purpose");
	refused(peer, KEY1, 403, "wrong_purpose");
	add_grant("2099-12-31");
	reads(th_shared, KEY1);
	reads(peer, KEY1);
}

/* A key rotated (the same system, a new key): the old one is refused at once, the new works. */
static void key_rotated(void **state)
{
	(void)state;
	reads(th_shared, KEY1);
	reads(peer, KEY1);
	char hex[65], sql[300];
	key_hash(KEY2, hex);
	snprintf(sql, sizeof sql,
		 "UPDATE xr_clients SET key_hash = '%s' WHERE dept = 'mz' AND system = 'cache'",
		 hex);
	th_sql(th_shared, sql);
	refused(peer, KEY1, 401, "bad_key");
	refused(th_shared, KEY1, 401, "bad_key");
	reads(peer, KEY2);
	reads(th_shared, KEY2);
}

/* A key revoked: refused on the next call on both nodes. */
static void key_revoked(void **state)
{
	(void)state;
	reads(th_shared, KEY2);
	reads(peer, KEY2);
	th_sql(th_shared, "UPDATE xr_clients SET revoked_ms = 1 WHERE dept = 'mz'"
			  " AND system = 'cache'");
	refused(th_shared, KEY2, 401, "bad_key");
	refused(peer, KEY2, 401, "bad_key");
	th_sql(th_shared, "UPDATE xr_clients SET revoked_ms = 0 WHERE dept = 'mz'"
			  " AND system = 'cache'");
	reads(peer, KEY2);
}

/* A key given to another system of the department: its new holder is served at once. */
static void key_moved(void **state)
{
	(void)state;
	reads(th_shared, KEY2);
	reads(peer, KEY2);
	th_sql(th_shared, "UPDATE xr_clients SET system = 'cache3' WHERE dept = 'mz'"
			  " AND system = 'cache'");
	client = "mz/cache3";
	reads(peer, KEY2);
	reads(th_shared, KEY2);
	client = "mz/cache";
	refused(peer, KEY2, 401, "wrong_department");
	refused(th_shared, KEY2, 401, "wrong_department");
	th_sql(th_shared, "UPDATE xr_clients SET system = 'cache' WHERE dept = 'mz'"
			  " AND system = 'cache3'");
	reads(peer, KEY2);
	reads(th_shared, KEY2);
}

static void set_tz(const char *tz)
{
	if (tz)
		setenv("TZ", tz, 1);
	else
		unsetenv("TZ");
	tzset();
}

/*
 * A grant that ends today, read on both nodes; then the day moves on (the
 * server's time zone: UTC-12 to UTC+14 is at least one day later, whatever
 * the hour) with no change to the store: refused on both nodes.
 */
static void grant_expired_by_time(void **state)
{
	(void)state;
	const char *old = getenv("TZ");
	char *saved = old ? strdup(old) : NULL;
	set_tz("Etc/GMT+12"); /* UTC-12 */
	char today[11];
	dg_day_format(dg_day_today(), today);
	char sql[300];
	snprintf(sql, sizeof sql,
		 "UPDATE xr_requests SET ends = '%s' WHERE purpose = '" PURPOSE "'", today);
	th_sql(th_shared, sql);
	reads(th_shared, KEY2);
	reads(peer, KEY2);
	int64_t v = th_sql_int(th_shared, "SELECT v FROM xr_version");
	set_tz("Etc/GMT-14"); /* UTC+14: tomorrow at least */
	refused(th_shared, KEY2, 403, "grant_expired");
	refused(peer, KEY2, 403, "grant_expired");
	/* nothing changed on the store: the copies were not read again for it */
	assert_int_equal(th_sql_int(th_shared, "SELECT v FROM xr_version"), v);
	/* back on the grant's last day (in UTC-12; the zone the suite runs in may
	   already be a day past it, from midnight to noon UTC), it is read again */
	set_tz("Etc/GMT+12");
	reads(peer, KEY2);
	set_tz(saved);
	free(saved);
}

static int setup(void **state)
{
	if (th_group_setup(state))
		return 1;
	admin_tok = th_token_header(th_shared, DG_DEMO_ADMIN, DG_DEMO_PASSWORD);
	peer = th_start_peer(th_shared, NULL);
	return !admin_tok || !peer;
}

static int teardown(void **state)
{
	free(admin_tok);
	th_stop(peer);
	return th_group_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(additions_seen), cmocka_unit_test(grant_revoked),
		cmocka_unit_test(key_rotated),    cmocka_unit_test(key_revoked),
		cmocka_unit_test(key_moved),      cmocka_unit_test(grant_expired_by_time),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
