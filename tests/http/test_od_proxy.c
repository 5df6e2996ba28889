/*
 * test_od_proxy.c - per-address quotas behind a reverse proxy, through the
 * real server on the store DGOV_TEST_DB selects: with the loopback peer
 * trusted (--trusted-proxy), X-Forwarded-For's right-most untrusted address
 * is the one counted and limited, so two clients of one proxy have quotas
 * of their own and a spoofed left-hand entry changes nothing; with the peer
 * not trusted, the header is ignored and the peer is counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/app.h"
#include "harness.h"

#define CALL "/api/3/action/package_list"

/* Today's count of the quota subject "ip:addr" (0 when none). */
static int64_t used(struct th_srv *s, const char *addr)
{
	char q[200];
	snprintf(q, sizeof q, "SELECT COALESCE(SUM(n), 0) FROM od_quota WHERE subject = 'ip:%s'",
		 addr);
	return th_sql_int(s, q);
}

static long call_from(struct th_srv *s, const char *xff)
{
	struct th_client *c = th_client_new(s);
	struct th_resp r = {0};
	char hdr[300];
	snprintf(hdr, sizeof hdr, "X-Forwarded-For: %s", xff);
	const char *h[] = {hdr, NULL};
	long st = th_request(c, "GET", CALL, NULL, NULL, 0, xff ? h : NULL, &r);
	th_resp_release(&r);
	th_client_free(c);
	return st;
}

/* A demo server trusting the list, with two anonymous calls a day. */
static struct th_srv *start(const char *trusted)
{
	struct th_opts o = {.demo = true, .trusted_proxy = trusted};
	struct th_srv *s = th_start_opts(&o);
	assert_non_null(s);
	th_sql(s, "UPDATE od_access_settings SET value = 2 WHERE key = 'anon_daily'");
	return s;
}

static void trusted_proxy_forwards(void **state)
{
	(void)state;
	struct th_srv *s = start("127.0.0.1,10.0.0.0/8,::1");
	assert_int_equal(call_from(s, "203.0.113.7"), 200);
	assert_int_equal(call_from(s, "203.0.113.7, 10.0.0.5"), 200);
	assert_int_equal(call_from(s, "203.0.113.7"), 429);
	assert_int_equal(used(s, "203.0.113.7"), 3);
	/* another client of the same proxy has its own quota */
	assert_int_equal(call_from(s, "198.51.100.20"), 200);
	/* a spoofed entry left of the client changes nothing: still 198.51.100.20 */
	assert_int_equal(call_from(s, "203.0.113.99, 198.51.100.20"), 200);
	assert_int_equal(call_from(s, "203.0.113.99, 198.51.100.20"), 429);
	assert_int_equal(used(s, "198.51.100.20"), 3);
	assert_int_equal(used(s, "203.0.113.99"), 0);
	/* garbage, or no header: the proxy itself is counted */
	assert_int_equal(call_from(s, "unknown"), 200);
	assert_int_equal(call_from(s, NULL), 200);
	assert_int_equal(used(s, "127.0.0.1"), 2);
	assert_int_equal(call_from(s, NULL), 429);
	th_stop(s);
}

static void untrusted_peer_ignored(void **state)
{
	(void)state;
	struct th_srv *s = start("10.0.0.0/8");
	assert_int_equal(call_from(s, "203.0.113.7"), 200);
	assert_int_equal(call_from(s, "198.51.100.20"), 200);
	/* every forwarded address is the peer's: the third call is over */
	assert_int_equal(call_from(s, "192.0.2.44"), 429);
	assert_int_equal(used(s, "127.0.0.1"), 3);
	assert_int_equal(used(s, "203.0.113.7"), 0);
	assert_int_equal(th_sql_int(s, "SELECT COUNT(*) FROM od_quota WHERE subject LIKE 'ip:%'"),
			 1);
	th_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(trusted_proxy_forwards),
		cmocka_unit_test(untrusted_peer_ignored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
