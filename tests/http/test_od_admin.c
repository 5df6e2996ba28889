/*
 * test_od_admin.c - the administrator's page of open-data access
 * (/admin/data-access) through the real server, on the store DGOV_TEST_DB
 * selects: only administrators reach it (residents and staff 403, visitors
 * sent to sign in); a lower anonymous quota set there is enforced at once
 * (429 with Retry-After); a bad value is a 422 in the reader's language
 * that changes nothing, not even the other, valid field; a form without
 * its CSRF token changes nothing; a per-app quota overrides the default and
 * goes back to it when emptied; a revoked key is refused (403) and works
 * again once restored; the page lists each app with its owner and use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "app/app.h"
#include "core/arena.h"
#include "node/demo.h"
#include "harness.h"
#include "opendata/access/access_int.h"

#define PAGE "/admin/data-access"
#define CALL "/api/3/action/package_list"

static int64_t setting(const char *key)
{
	char q[120];
	snprintf(q, sizeof q, "SELECT value FROM od_access_settings WHERE key = '%s'", key);
	return th_sql_int(th_shared, q);
}

/* POST fields with the page's CSRF token; the status, *out the reply (released by the caller). */
static long post(struct th_client *c, const char *path, const char *fields, struct th_resp *out)
{
	return th_post_csrf(c, PAGE, path, fields, out);
}

static long post_quiet(struct th_client *c, const char *path, const char *fields)
{
	struct th_resp r = {0};
	long st = post(c, path, fields, &r);
	th_resp_release(&r);
	return st;
}

/* GET path with one header line (or none); the Retry-After header into *retry when asked. */
static long call(const char *hdr, const char *path, char **retry)
{
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	const char *h[] = {hdr, NULL};
	long st = th_request(c, "GET", path, NULL, NULL, 0, hdr ? h : NULL, &r);
	if (retry)
		*retry = th_header(&r, "Retry-After");
	th_resp_release(&r);
	th_client_free(c);
	return st;
}

/* A new app of the demo citizen: its "X-CKAN-API-Key: ..." header (malloc'd) and id. */
static char *new_app(const char *name, int64_t *id)
{
	struct th_client *c = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	struct th_resp r = {0};
	char *csrf = th_csrf(c, "/data/apps"), *body = NULL;
	assert_true(asprintf(&body, "name=%s&purpose=research&csrf=%s", name, csrf) > 0);
	assert_int_equal(th_post_form(c, "/data/apps", body, &r), 201);
	const char *at = strstr(r.body, "dgk_");
	assert_non_null(at);
	char *key = strndup(at, 52), *hdr = NULL;
	struct dg_arena *a = dg_arena_new();
	*id = th_sql_int(th_shared,
			 dg_arena_printf(a, "SELECT id FROM od_apps WHERE key_hash = '%s'",
					 dg_od_key_hash(a, key)));
	assert_true(*id > 0);
	assert_true(asprintf(&hdr, "X-CKAN-API-Key: %s", key) > 0);
	dg_arena_free(a);
	th_resp_release(&r);
	free(body), free(csrf), free(key);
	th_client_free(c);
	return hdr;
}

static void only_administrators(void **state)
{
	(void)state;
	const char *users[] = {DG_DEMO_CITIZEN, DG_DEMO_STAFF, DG_DEMO_AGENT};
	for (size_t i = 0; i < 3; i++) {
		struct th_client *c = th_signed_in(th_shared, users[i]);
		struct th_resp r = {0};
		assert_int_equal(th_get(c, PAGE, &r), 403);
		th_resp_release(&r);
		/* their own CSRF token does not help */
		char *csrf = th_csrf(c, "/data/apps"), *body = NULL;
		assert_true(asprintf(&body, "anon_daily=1&app_daily=1&csrf=%s", csrf) > 0);
		assert_int_equal(th_post_form(c, PAGE "/settings", body, &r), 403);
		th_resp_release(&r);
		free(body), free(csrf);
		th_client_free(c);
	}
	struct th_client *anon = th_client_new(th_shared);
	struct th_resp r = {0};
	assert_int_equal(th_get(anon, PAGE, &r), 303);
	th_resp_release(&r);
	th_client_free(anon);
	assert_int_not_equal(setting("anon_daily"), 1);
}

static void anonymous_quota_enforced(void **state)
{
	(void)state;
	struct th_client *adm = th_signed_in(th_shared, DG_DEMO_ADMIN);
	int64_t app_daily = setting("app_daily");
	/* this address's calls so far today */
	assert_int_equal(call(NULL, CALL, NULL), 200);
	int64_t used = th_sql_int(
		th_shared, "SELECT COALESCE(MAX(n), 0) FROM od_quota WHERE subject LIKE 'ip:%'");
	char fields[100];
	snprintf(fields, sizeof fields, "anon_daily=%lld&app_daily=%lld", (long long)used + 2,
		 (long long)app_daily);
	assert_int_equal(post_quiet(adm, PAGE "/settings", fields), 303);
	assert_int_equal(setting("anon_daily"), used + 2);
	char *b = th_get_body(adm, PAGE "?saved=1", 200);
	assert_non_null(b);
	assert_non_null(strstr(b, "role=\"status\""));
	free(b);
	char *retry = NULL;
	assert_int_equal(call(NULL, CALL, NULL), 200);
	assert_int_equal(call(NULL, CALL, NULL), 200);
	assert_int_equal(call(NULL, CALL, &retry), 429);
	assert_non_null(retry);
	long secs = strtol(retry, NULL, 10);
	assert_true(secs >= 1 && secs <= 86400);
	free(retry);
	/* 0 is no limit */
	snprintf(fields, sizeof fields, "anon_daily=0&app_daily=%lld", (long long)app_daily);
	assert_int_equal(post_quiet(adm, PAGE "/settings", fields), 303);
	assert_int_equal(call(NULL, CALL, NULL), 200);
	th_client_free(adm);
}

/* datastore_search_sql is off until the administrator turns it on here, and off again. */
static void search_sql_switch(void **state)
{
	(void)state;
	static const char q[] = "/api/3/action/datastore_search_sql?sql=SELECT%201%20AS%20one";
	struct th_client *adm = th_signed_in(th_shared, DG_DEMO_ADMIN);
	char fields[100];
	int64_t anon = setting("anon_daily"), app = setting("app_daily");
	assert_int_equal(call(NULL, q, NULL), 403);
	char *b = th_get_body(adm, PAGE, 200);
	assert_non_null(b);
	assert_non_null(strstr(b, "id=\"search_sql\" name=\"search_sql\" value=\"0\" "
				  "aria-describedby=\"search_sql-hint\" checked"));
	free(b);
	snprintf(fields, sizeof fields, "anon_daily=%lld&app_daily=%lld&search_sql=1",
		 (long long)anon, (long long)app);
	assert_int_equal(post_quiet(adm, PAGE "/settings", fields), 303);
	assert_int_equal(setting("search_sql"), 1);
	assert_int_equal(call(NULL, q, NULL), 200);
	/* the quotas were kept as they were */
	assert_int_equal(setting("anon_daily"), anon);
	assert_int_equal(setting("app_daily"), app);
	/* a refused form leaves it as it was */
	assert_int_equal(post_quiet(adm, PAGE "/settings", "anon_daily=x&app_daily=5&search_sql=0"),
			 422);
	assert_int_equal(call(NULL, q, NULL), 200);
	snprintf(fields, sizeof fields, "anon_daily=%lld&app_daily=%lld&search_sql=0",
		 (long long)anon, (long long)app);
	assert_int_equal(post_quiet(adm, PAGE "/settings", fields), 303);
	assert_int_equal(call(NULL, q, NULL), 403);
	th_client_free(adm);
}

static void bad_values_change_nothing(void **state)
{
	(void)state;
	struct th_client *adm = th_signed_in(th_shared, DG_DEMO_ADMIN);
	th_sql(th_shared, "UPDATE od_access_settings SET value = 777 WHERE key = 'anon_daily'");
	th_sql(th_shared, "UPDATE od_access_settings SET value = 888 WHERE key = 'app_daily'");
	const char *bad[] = {"anon_daily=-1&app_daily=5",
			     "anon_daily=abc&app_daily=5",
			     "anon_daily=1.5&app_daily=5",
			     "anon_daily=&app_daily=5",
			     "anon_daily=5&app_daily=%2B5",
			     "anon_daily=5&app_daily=99999999999",
			     "anon_daily=5"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct th_resp r = {0};
		assert_int_equal(post(adm, PAGE "/settings", bad[i], &r), 422);
		/* Chinese by default, the error summary, the value kept */
		assert_non_null(strstr(r.body, "class=\"error-summary\""));
		assert_non_null(strstr(r.body, "0 表示不限"));
		assert_non_null(strstr(r.body, "aria-invalid=\"true\""));
		th_resp_release(&r);
		assert_int_equal(setting("anon_daily"), 777);
		assert_int_equal(setting("app_daily"), 888);
	}
	struct th_resp r = {0};
	assert_int_equal(post(adm, PAGE "/settings", "anon_daily=-3&app_daily=5", &r), 422);
	assert_non_null(strstr(r.body, "value=\"-3\""));
	th_resp_release(&r);
	/* in English for an English reader */
	assert_int_equal(th_get(adm, "/prefs?lang=en&back=/", &r), 303);
	th_resp_release(&r);
	assert_int_equal(post(adm, PAGE "/settings", "anon_daily=x&app_daily=5", &r), 422);
	assert_non_null(strstr(r.body, "Enter the anonymous calls a day as a whole number"));
	assert_non_null(strstr(r.body, "<title>Error:"));
	th_resp_release(&r);
	assert_int_equal(setting("app_daily"), 888);
	/* without the CSRF token nothing changes either */
	assert_int_equal(th_post_form(adm, PAGE "/settings", "anon_daily=1&app_daily=1", &r), 403);
	th_resp_release(&r);
	assert_int_equal(setting("anon_daily"), 777);
	th_sql(th_shared, "UPDATE od_access_settings SET value = 1000000 WHERE key = 'anon_daily'");
	th_sql(th_shared, "UPDATE od_access_settings SET value = 10000 WHERE key = 'app_daily'");
	th_client_free(adm);
}

static void per_app_quota_and_keys(void **state)
{
	(void)state;
	struct th_client *adm = th_signed_in(th_shared, DG_DEMO_ADMIN);
	int64_t id = 0;
	char *key = new_app("watched", &id), path[100], q[120];
	snprintf(path, sizeof path, PAGE "/apps/%lld/quota", (long long)id);
	snprintf(q, sizeof q, "SELECT COALESCE(daily_quota, -1) FROM od_apps WHERE id = %lld",
		 (long long)id);
	/* a bad value: 422 on the page with the app's field marked, nothing stored */
	struct th_resp r = {0};
	assert_int_equal(post(adm, path, "daily_quota=-5", &r), 422);
	char want[64];
	snprintf(want, sizeof want, "id=\"quota-%lld-error\"", (long long)id);
	assert_non_null(strstr(r.body, want));
	snprintf(want, sizeof want, "href=\"#quota-%lld\"", (long long)id);
	assert_non_null(strstr(r.body, want));
	th_resp_release(&r);
	assert_int_equal(post_quiet(adm, path, "daily_quota=lots"), 422);
	assert_int_equal(th_sql_int(th_shared, q), -1);
	/* its own quota of 2 against a large default: one call made, one more */
	assert_int_equal(call(key, CALL, NULL), 200);
	assert_int_equal(post_quiet(adm, path, "daily_quota=2"), 303);
	assert_int_equal(th_sql_int(th_shared, q), 2);
	assert_int_equal(call(key, CALL, NULL), 200);
	char *retry = NULL;
	assert_int_equal(call(key, CALL, &retry), 429);
	assert_non_null(retry);
	free(retry);
	/* emptied: the default again */
	assert_int_equal(post_quiet(adm, path, "daily_quota="), 303);
	assert_int_equal(th_sql_int(th_shared, q), -1);
	assert_int_equal(call(key, CALL, NULL), 200);
	/* the page shows the app, its owner and its use today */
	char *b = th_get_body(adm, PAGE, 200);
	assert_non_null(b);
	assert_non_null(strstr(b, "<th scope=\"row\">watched</th>"));
	assert_non_null(strstr(b, "<td data-label=\"所有者\">" DG_DEMO_CITIZEN "</td>"));
	snprintf(want, sizeof want, "/apps/%lld/revoke", (long long)id);
	assert_non_null(strstr(b, want));
	free(b);
	/* revoked: 403 on the API; restored: served again */
	snprintf(path, sizeof path, PAGE "/apps/%lld/revoke", (long long)id);
	assert_int_equal(post_quiet(adm, path, ""), 303);
	assert_int_equal(call(key, CALL, NULL), 403);
	assert_int_equal(call(key, "/datastore/dump/00000000-0000-4000-9000-000000000004", NULL),
			 403);
	/* revoking twice finds no key to revoke */
	assert_int_equal(post_quiet(adm, path, ""), 404);
	snprintf(path, sizeof path, PAGE "/apps/%lld/restore", (long long)id);
	assert_int_equal(post_quiet(adm, path, ""), 303);
	assert_int_equal(call(key, CALL, NULL), 200);
	assert_int_equal(post_quiet(adm, PAGE "/apps/999999/restore", ""), 404);
	assert_int_equal(post_quiet(adm, PAGE "/apps/x/quota", "daily_quota=3"), 404);
	free(key);
	th_client_free(adm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(only_administrators),
		cmocka_unit_test(anonymous_quota_enforced),
		cmocka_unit_test(search_sql_switch),
		cmocka_unit_test(bad_values_change_nothing),
		cmocka_unit_test(per_app_quota_and_keys),
	};
	return cmocka_run_group_tests(tests, th_group_setup, th_group_teardown);
}
