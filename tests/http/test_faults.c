/*
 * test_faults.c - what people see when the store fails under them, made to
 * happen with failpoints (core/failpoint.h): the store busy or gone at a
 * named step, its disk full, or slow. Each failure must answer with a clear
 * error — a page in the reader's language, a JSON error with its code, a
 * CKAN error — and change nothing; once the fault is gone the same request
 * works. Runs on SQLite and on PostgreSQL like every HTTP test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/failpoint.h"
#include "harness.h"
#include "node/demo.h"

static void arm(const char *spec)
{
	struct dg_err err = {0};
	assert_int_equal(dg_failpoint_set(spec, &err), DG_OK);
}

static int64_t count(const char *sql)
{
	arm(""); /* the check itself must not meet the fault */
	return th_sql_int(th_shared, sql);
}

static long api(const char *hdr, const char *method, const char *path, const char *json,
		struct th_resp *r)
{
	struct th_client *c = th_client_new(th_shared);
	const char *h[] = {hdr, NULL};
	long st = th_request(c, method, path, json ? "application/json" : NULL, json,
			     json ? strlen(json) : 0, h, r);
	th_client_free(c);
	return st;
}

static const char APPLY[] = "{\"item\":\"990100-MZ-004\",\"answers\":{\"method\":\"social_card\"}}";
static const char CASES[] = "SELECT COUNT(*) FROM cases WHERE item_code = '990100-MZ-004'";

/* An application through the API: its commit fails, then the same request works. */
static void api_write_fails_cleanly(void **state)
{
	(void)state;
	char *cit = th_token_header(th_shared, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD);
	assert_non_null(cit);
	int64_t before = count(CASES);
	struct th_resp r = {0};
	static const struct {
		const char *spec;
		long status;
		const char *code;
	} faults[] = {
		{"store.commit=gone", 503, "\"EUNAVAIL\""},
		{"store.begin=busy", 503, "\"EUNAVAIL\""},
		{"store.exec=full", 507, "\"ENOSPC\""},
	};
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		arm(faults[i].spec);
		assert_int_equal(api(cit, "POST", "/api/v1/applications", APPLY, &r),
				 faults[i].status);
		assert_non_null(strstr(r.body, faults[i].code));
		assert_non_null(strstr(r.body, "\"message\""));
		th_resp_release(&r);
		assert_int_equal(count(CASES), before);
	}
	/* a slow store is only slow */
	arm("store.query=slow:20*5");
	assert_int_equal(api(cit, "POST", "/api/v1/applications", APPLY, &r), 201);
	th_resp_release(&r);
	assert_int_equal(count(CASES), before + 1);
	free(cit);
}

/* A page form: the error page speaks the reader's language and the account is unchanged. */
static void page_write_fails_in_the_readers_language(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	assert_true(th_login(c, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD));
	static const char TOKENS[] = "SELECT COUNT(*) FROM api_tokens";
	int64_t before = count(TOKENS);
	struct th_resp r = {0};
	arm("store.exec=gone");
	assert_int_equal(th_post_csrf(c, "/account/tokens", "/account/tokens", "name=fault-zh", &r),
			 503);
	assert_non_null(strstr(r.body, "服务暂时不可用"));
	assert_non_null(strstr(r.body, "没有生效"));
	th_resp_release(&r);
	assert_int_equal(count(TOKENS), before);
	/* the same in English, and a full disk says that nothing was lost */
	const char *en[] = {"Accept-Language: en", NULL};
	char *csrf = th_csrf(c, "/account/tokens");
	assert_non_null(csrf);
	char *body = NULL;
	assert_true(asprintf(&body, "csrf=%s&name=fault-en", csrf) > 0);
	arm("store.exec=full");
	assert_int_equal(th_request(c, "POST", "/account/tokens",
				    "application/x-www-form-urlencoded", body, strlen(body), en,
				    &r),
			 507);
	assert_non_null(strstr(r.body, "Storage full"));
	assert_non_null(strstr(r.body, "nothing saved before was lost"));
	th_resp_release(&r);
	assert_int_equal(count(TOKENS), before);
	/* without the fault, the same form works */
	assert_int_equal(th_request(c, "POST", "/account/tokens",
				    "application/x-www-form-urlencoded", body, strlen(body), en,
				    &r),
			 201); /* the new token, shown once */
	th_resp_release(&r);
	assert_int_equal(count(TOKENS), before + 1);
	free(body);
	free(csrf);
	th_client_free(c);
}

/* No connection to be had: signing in answers 503 and starts no session. */
static void no_connection_no_session(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	static const char SESSIONS[] = "SELECT COUNT(*) FROM sessions";
	int64_t before = count(SESSIONS);
	char *csrf = th_csrf(c, "/login");
	assert_non_null(csrf);
	char *body = NULL;
	char *password = th_enc(DG_DEMO_PASSWORD);
	assert_true(asprintf(&body, "csrf=%s&username=%s&password=%s", csrf, DG_DEMO_CITIZEN,
			     password) > 0);
	free(password);
	struct th_resp r = {0};
	arm("store.get=busy");
	assert_int_equal(th_post_form(c, "/login", body, &r), 503);
	assert_null(strstr(r.headers, "dg_session="));
	th_resp_release(&r);
	assert_int_equal(count(SESSIONS), before);
	assert_int_equal(th_post_form(c, "/login", body, &r), 303);
	th_resp_release(&r);
	assert_int_equal(count(SESSIONS), before + 1);
	free(body);
	free(csrf);
	th_client_free(c);
}

/* CKAN's API: a failed write is CKAN's error shape, and no dataset appears. */
static void ckan_write_fails_cleanly(void **state)
{
	(void)state;
	char *mz = th_token_header(th_shared, DG_DEMO_STAFF, DG_DEMO_PASSWORD);
	assert_non_null(mz);
	static const char PKGS[] = "SELECT COUNT(*) FROM od_packages WHERE name = 'fault-test'";
	static const char BODY[] =
		"{\"name\":\"fault-test\",\"title\":\"故障测试\",\"owner_org\":\"mz\"}";
	struct th_resp r = {0};
	arm("store.commit=gone");
	assert_int_equal(api(mz, "POST", "/api/3/action/package_create", BODY, &r), 503);
	assert_non_null(strstr(r.body, "\"success\":false"));
	assert_non_null(strstr(r.body, "Internal Error"));
	assert_null(strstr(r.body, "SQL")); /* the store's words stay in the log */
	th_resp_release(&r);
	assert_int_equal(count(PKGS), 0);
	assert_int_equal(api(mz, "POST", "/api/3/action/package_create", BODY, &r), 200);
	th_resp_release(&r);
	assert_int_equal(count(PKGS), 1);
	free(mz);
}

/* A bad spec is refused and arms nothing. */
static void bad_specs_refused(void **state)
{
	(void)state;
	struct dg_err err = {0};
	assert_int_equal(dg_failpoint_set("store.commit", &err), DG_EINVAL);
	assert_int_equal(dg_failpoint_set("store.commit=melt", &err), DG_EINVAL);
	assert_non_null(strstr(err.msg, "busy, gone, full, slow or hold"));
	assert_int_equal(dg_failpoint_set("store.commit=slow:x", &err), DG_EINVAL);
	assert_int_equal(dg_failpoint_hit("store.commit"), DG_OK);
	arm("a=busy*2");
	assert_int_equal(dg_failpoint_hit("a"), DG_EUNAVAIL);
	assert_int_equal(dg_failpoint_hit("b"), DG_OK);
	assert_int_equal(dg_failpoint_hit("a"), DG_EUNAVAIL);
	assert_int_equal(dg_failpoint_hit("a"), DG_OK); /* two hits, then no more */
	arm("");
}

static int teardown(void **state)
{
	arm("");
	return th_group_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_specs_refused),
		cmocka_unit_test(api_write_fails_cleanly),
		cmocka_unit_test(page_write_fails_in_the_readers_language),
		cmocka_unit_test(no_connection_no_session),
		cmocka_unit_test(ckan_write_fails_cleanly),
	};
	return cmocka_run_group_tests(tests, th_group_setup, teardown);
}
