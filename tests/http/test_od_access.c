/*
 * test_od_access.c - access to the open data through the real server, on
 * whichever store DGOV_TEST_DB selects: app keys in X-CKAN-API-Key and bare
 * Authorization (and dgov API tokens sent the same ways), closed data
 * invisible even with a key, conditional data refused without a grant,
 * served with one, refused again once the grant's period is over or it is
 * revoked, the application and review pages with their form errors, daily
 * quotas (429 + Retry-After, anonymous and per app), exact counters, and
 * counting from many threads at once.
 */
#include <pthread.h>
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
#include "core/date.h"
#include "node/demo.h"
#include "harness.h"
#include "opendata/access/access_int.h"

/* The demo's conditional dataset (food-safety-inspections, department sc) and its resource. */
#define COND_NAME "food-safety-inspections"
#define COND_RID  "00000000-0000-4000-9000-000000000007"
/* The demo's closed dataset (sj-internal-case-ledger) and its resource. */
#define CLOSED_NAME "sj-internal-case-ledger"
#define CLOSED_RID  "00000000-0000-4000-9000-000000000012"

static char *adm_token; /* "Authorization: Bearer dgt_..." of the administrator */
static char *cit_key;   /* an app key of the demo citizen */
static int64_t cit_app;

static struct dg_store *store(void)
{
	return th_app(th_shared)->env.store;
}

static void sql(const char *text)
{
	th_sql(th_shared, text);
}

static int64_t sql_int(const char *text)
{
	return th_sql_int(th_shared, text);
}

/* POST a form with the page's CSRF token; returns the status, *out the reply. */
static long post_form(struct th_client *c, const char *page, const char *path, const char *fields,
		      struct th_resp *out)
{
	return th_post_csrf(c, page, path, fields, out);
}

/* A new app of user: its key (malloc'd) and id. */
static char *new_app(const char *user, const char *name, int64_t *id)
{
	struct th_client *c = th_signed_in(th_shared, user);
	struct th_resp r = {0};
	char *fields = NULL;
	assert_true(asprintf(&fields, "name=%s&purpose=research", name) > 0);
	assert_int_equal(post_form(c, "/data/apps", "/data/apps", fields, &r), 201);
	const char *at = strstr(r.body, "dgk_");
	assert_non_null(at);
	char *key = strndup(at, 52);
	struct dg_arena *a = dg_arena_new();
	char *q = dg_arena_printf(a, "SELECT id FROM od_apps WHERE key_hash = '%s'",
				  dg_od_key_hash(a, key));
	*id = sql_int(q);
	assert_true(*id > 0);
	dg_arena_free(a);
	th_resp_release(&r);
	free(fields);
	th_client_free(c);
	return key;
}

/* GET path with one extra header line (or none); *ans the parsed body when wanted. */
static long get_with(const char *hdr, const char *path, json_t **ans, char **retry_after)
{
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	const char *h[] = {hdr, NULL};
	long st = th_request(c, "GET", path, NULL, NULL, 0, hdr ? h : NULL, &r);
	if (ans)
		*ans = json_loadb(r.body ? r.body : "", r.len, JSON_DECODE_ANY, NULL);
	if (retry_after)
		*retry_after = th_header(&r, "Retry-After");
	th_resp_release(&r);
	th_client_free(c);
	return st;
}

static char *key_header(const char *name, const char *key)
{
	char *h = NULL;
	assert_true(asprintf(&h, "%s: %s", name, key) > 0);
	return h;
}

static const char *err_type(json_t *ans)
{
	return json_string_value(json_object_get(json_object_get(ans, "error"), "__type"));
}

static void keys_in_both_headers(void **state)
{
	(void)state;
	json_t *ans = NULL;
	char *x = key_header("X-CKAN-API-Key", cit_key),
	     *raw = key_header("Authorization", cit_key);
	assert_int_equal(
		get_with(x, "/api/3/action/package_show?id=employment-statistics", &ans, NULL),
		200);
	json_decref(ans);
	assert_int_equal(get_with(raw, "/api/action/package_list", NULL, NULL), 200);
	/* an unknown key is refused, CKAN style */
	assert_int_equal(
		get_with("X-CKAN-API-Key: dgk_0000", "/api/3/action/package_list", &ans, NULL),
		403);
	assert_string_equal(err_type(ans), "Authorization Error");
	json_decref(ans);
	/* a dgov API token works bare in both headers */
	const char *tok = strstr(adm_token, "dgt_");
	char *tx = key_header("X-CKAN-API-Key", tok), *tr = key_header("Authorization", tok);
	assert_int_equal(get_with(tx, "/api/v1/me", &ans, NULL), 200);
	assert_string_equal(json_string_value(json_object_get(ans, "username")), DG_DEMO_ADMIN);
	json_decref(ans);
	assert_int_equal(get_with(tr, "/api/v1/me", NULL, NULL), 200);
	assert_int_equal(get_with("X-CKAN-API-Key: dgt_bad", "/api/v1/me", NULL, NULL), 401);
	free(x), free(raw), free(tx), free(tr);
}

static void closed_data_invisible_with_a_key(void **state)
{
	(void)state;
	json_t *ans = NULL;
	char *x = key_header("X-CKAN-API-Key", cit_key);
	assert_int_equal(get_with(x, "/api/3/action/package_show?id=" CLOSED_NAME, NULL, NULL),
			 404);
	assert_int_equal(
		get_with(x, "/api/3/action/package_search?q=name:" CLOSED_NAME, &ans, NULL), 200);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(ans, "result"), "count")), 0);
	json_decref(ans);
	assert_int_equal(get_with(x, "/api/3/action/package_list", &ans, NULL), 200);
	json_t *names = json_object_get(ans, "result");
	size_t i;
	json_t *v;
	bool cond = false;
	json_array_foreach (names, i, v) {
		assert_string_not_equal(json_string_value(v), CLOSED_NAME);
		cond |= strcmp(json_string_value(v), COND_NAME) == 0;
	}
	assert_true(cond); /* conditional datasets are listed */
	json_decref(ans);
	assert_int_equal(
		get_with(x, "/api/3/action/datastore_search?resource_id=" CLOSED_RID, NULL, NULL),
		404);
	assert_int_equal(get_with(x, "/datastore/dump/" CLOSED_RID, NULL, NULL), 404);
	free(x);
}

/* POST an action with the admin's token. */
static long admin_post(const char *action, const char *body)
{
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	char path[128];
	const char *h[] = {adm_token, NULL};
	snprintf(path, sizeof path, "/api/3/action/%s", action);
	long st = th_request(c, "POST", path, "application/json", body, strlen(body), h, &r);
	th_resp_release(&r);
	th_client_free(c);
	return st;
}

static void apply_form_errors_change_nothing(void **state)
{
	(void)state;
	struct th_client *c = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	struct th_resp r = {0};
	int64_t before = sql_int("SELECT COUNT(*) FROM od_applications");
	char *fields = NULL;
	assert_true(asprintf(&fields, "applicant=&purpose=x&use=y&days=0&app=%lld",
			     (long long)cit_app) > 0);
	assert_int_equal(post_form(c, "/data/datasets/" COND_NAME "/apply",
				   "/data/datasets/" COND_NAME "/apply", fields, &r),
			 422);
	assert_non_null(strstr(r.body, "error-summary"));
	assert_non_null(strstr(r.body, "href=\"#days\""));
	assert_non_null(strstr(r.body, "href=\"#applicant\""));
	/* the app chosen is still the one chosen */
	char *chosen = NULL;
	assert_true(asprintf(&chosen, "<option value=\"%lld\" selected>", (long long)cit_app) > 0);
	assert_non_null(strstr(r.body, chosen));
	free(chosen);
	th_resp_release(&r);
	/* someone else's app is not the applicant's to use */
	int64_t other = 0;
	char *okey = new_app(DG_DEMO_CITIZEN2, "other", &other);
	free(fields);
	assert_true(asprintf(&fields, "applicant=A&purpose=x&use=y&days=5&app=%lld",
			     (long long)other) > 0);
	assert_int_equal(post_form(c, "/data/datasets/" COND_NAME "/apply",
				   "/data/datasets/" COND_NAME "/apply", fields, &r),
			 422);
	assert_non_null(strstr(r.body, "href=\"#app\""));
	th_resp_release(&r);
	/* open datasets need no application */
	assert_int_equal(th_get(c, "/data/datasets/employment-statistics/apply", &r), 404);
	th_resp_release(&r);
	assert_int_equal(sql_int("SELECT COUNT(*) FROM od_applications"), before);
	free(okey);
	free(fields);
	th_client_free(c);
}

static void conditional_needs_a_grant(void **state)
{
	(void)state;
	json_t *ans = NULL;
	char *x = key_header("X-CKAN-API-Key", cit_key);
	const char *search = "/api/3/action/datastore_search?resource_id=" COND_RID;
	assert_int_equal(admin_post("datastore_create",
				    "{\"resource_id\": \"" COND_RID "\", \"force\": true,"
				    " \"fields\": [{\"id\": \"a\", \"type\": \"int\"}],"
				    " \"records\": [{\"a\": 1}, {\"a\": 2}]}"),
			 200);
	/* listed and shown, but no rows without a grant */
	assert_int_equal(get_with(NULL, "/api/3/action/package_show?id=" COND_NAME, NULL, NULL),
			 200);
	assert_int_equal(get_with(NULL, search, &ans, NULL), 403);
	assert_string_equal(err_type(ans), "Authorization Error");
	json_decref(ans);
	assert_int_equal(get_with(x, search, NULL, NULL), 403);
	assert_int_equal(get_with(x, "/datastore/dump/" COND_RID, NULL, NULL), 403);
	assert_int_equal(
		get_with(x, "/api/3/action/datastore_search_sql?sql=SELECT%201", NULL, NULL), 403);

	/* the citizen applies */
	struct th_client *c = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	struct th_resp r = {0};
	char *fields = NULL, *who = th_enc("张三");
	assert_true(asprintf(&fields, "applicant=%s&purpose=study&use=report&days=30&app=%lld", who,
			     (long long)cit_app) > 0);
	free(who);
	assert_int_equal(post_form(c, "/data/datasets/" COND_NAME "/apply",
				   "/data/datasets/" COND_NAME "/apply", fields, &r),
			 303);
	th_resp_release(&r);
	int64_t id = sql_int("SELECT MAX(id) FROM od_applications");
	char path[128], page[] = "/office/data-applications";
	snprintf(path, sizeof path, "/office/data-applications/%lld/decide", (long long)id);

	/* another department's staff may not decide it */
	struct th_client *mz = th_signed_in(th_shared, DG_DEMO_STAFF);
	assert_int_equal(post_form(mz, page, path, "decision=approve&reason=", &r), 404);
	th_resp_release(&r);
	/* a citizen may not reach the office */
	assert_int_equal(th_get(c, page, &r), 403);
	th_resp_release(&r);
	/* the administrator sees it; a refusal needs a reason */
	struct th_client *adm = th_signed_in(th_shared, DG_DEMO_ADMIN);
	char *body = th_get_body(adm, page, 200);
	assert_non_null(strstr(body, "study"));
	free(body);
	assert_int_equal(post_form(adm, page, path, "decision=refuse&reason=", &r), 422);
	assert_non_null(strstr(r.body, "error-summary"));
	th_resp_release(&r);
	assert_int_equal(get_with(x, search, NULL, NULL), 403); /* still pending */
	assert_int_equal(post_form(adm, page, path, "decision=approve&reason=", &r), 303);
	th_resp_release(&r);
	/* deciding twice finds nothing to decide */
	assert_int_equal(post_form(adm, page, path, "decision=approve&reason=", &r), 404);
	th_resp_release(&r);

	/* granted: rows through the API and the dump, for this app only */
	assert_int_equal(get_with(x, search, &ans, NULL), 200);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(ans, "result"), "total")), 2);
	json_decref(ans);
	assert_int_equal(get_with(x, "/datastore/dump/" COND_RID, NULL, NULL), 200);
	assert_int_equal(get_with(NULL, search, NULL, NULL), 403);
	body = th_get_body(c, "/data/applications", 200);
	assert_non_null(strstr(body, "食品安全抽检结果"));
	free(body);

	/* the period ends */
	char q[160];
	snprintf(q, sizeof q, "UPDATE od_applications SET grant_until = 1000 WHERE id = %lld",
		 (long long)id);
	sql(q);
	assert_int_equal(get_with(x, search, NULL, NULL), 403);
	snprintf(q, sizeof q,
		 "UPDATE od_applications SET grant_until = 99999999999999 WHERE id = %lld",
		 (long long)id);
	sql(q);
	assert_int_equal(get_with(x, search, NULL, NULL), 200);
	/* the department revokes it */
	assert_int_equal(post_form(adm, page, path, "decision=revoke&reason=misuse", &r), 303);
	th_resp_release(&r);
	assert_int_equal(get_with(x, search, NULL, NULL), 403);
	free(fields);
	free(x);
	th_client_free(mz);
	th_client_free(adm);
	th_client_free(c);
}

static void app_pages_and_revoked_keys(void **state)
{
	(void)state;
	struct th_client *c = th_signed_in(th_shared, DG_DEMO_AGENT);
	struct th_resp r = {0};
	int64_t before = sql_int("SELECT COUNT(*) FROM od_apps");
	assert_int_equal(post_form(c, "/data/apps", "/data/apps", "name=&purpose=", &r), 422);
	assert_non_null(strstr(r.body, "href=\"#name\""));
	assert_non_null(strstr(r.body, "href=\"#purpose\""));
	th_resp_release(&r);
	assert_int_equal(sql_int("SELECT COUNT(*) FROM od_apps"), before);
	int64_t id = 0;
	char *key = new_app(DG_DEMO_AGENT, "robot", &id);
	char *x = key_header("X-CKAN-API-Key", key), path[80];
	assert_int_equal(get_with(x, "/api/3/action/package_list", NULL, NULL), 200);
	snprintf(path, sizeof path, "/data/apps/%lld/revoke", (long long)id);
	/* not another user's to revoke */
	struct th_client *other = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	assert_int_equal(post_form(other, "/data/apps", path, "x=1", &r), 404);
	th_resp_release(&r);
	assert_int_equal(post_form(c, "/data/apps", path, "x=1", &r), 303);
	th_resp_release(&r);
	json_t *ans = NULL;
	assert_int_equal(get_with(x, "/api/3/action/package_list", &ans, NULL), 403);
	assert_string_equal(err_type(ans), "Authorization Error");
	assert_non_null(
		strstr(json_string_value(json_object_get(json_object_get(ans, "error"), "message")),
		       "/data/apps"));
	json_decref(ans);
	assert_int_equal(get_with(x, "/datastore/dump/" COND_RID, NULL, NULL), 403);
	free(x);
	free(key);
	th_client_free(other);
	th_client_free(c);
}

static int64_t counter(const char *by, const char *key, const char *what)
{
	struct dg_db *db = NULL;
	json_t *out = NULL, *row;
	size_t i;
	int64_t n = 0;
	th_tally_flush(th_shared);
	assert_int_equal(dg_db_get(store(), &db), DG_OK);
	assert_int_equal(dg_od_counters(db, by, &out), DG_OK);
	dg_db_put(db);
	json_array_foreach (json_object_get(out, "rows"), i, row)
		if (strcmp(json_string_value(json_object_get(row, "key")), key) == 0)
			n = json_integer_value(json_object_get(row, what));
	json_decref(out);
	return n;
}

static void counters_are_exact(void **state)
{
	(void)state;
	int64_t id = 0;
	char *key = new_app(DG_DEMO_CITIZEN, "counted", &id);
	char *x = key_header("X-CKAN-API-Key", key);
	int64_t views = counter("dataset", "employment-statistics", "views");
	int64_t dept_views = counter("dept", "rs", "views");
	for (int i = 0; i < 3; i++)
		assert_int_equal(get_with(x, "/api/3/action/package_show?id=employment-statistics",
					  NULL, NULL),
				 200);
	assert_int_equal(get_with(x, "/api/3/action/package_list", NULL, NULL), 200);
	assert_int_equal(get_with(x, "/api/3/action/package_show?id=nope", NULL, NULL), 404);
	assert_int_equal(counter("dataset", "employment-statistics", "views"), views + 3);
	assert_int_equal(counter("dept", "rs", "views"), dept_views + 3);
	assert_int_equal(counter("app", "counted", "views"), 3);
	assert_int_equal(counter("app", "counted", "calls"), 1);
	/* downloads of the dump, by dataset and theme */
	int64_t dl = counter("theme", "社会救助", "downloads");
	assert_int_equal(
		admin_post("datastore_create",
			   "{\"resource_id\": \"00000000-0000-4000-9000-000000000001\","
			   " \"force\": true, \"fields\": [{\"id\": \"b\", \"type\": \"int\"}],"
			   " \"records\": [{\"b\": 1}]}"),
		200);
	assert_int_equal(
		get_with(x, "/datastore/dump/00000000-0000-4000-9000-000000000001", NULL, NULL),
		200);
	assert_int_equal(counter("theme", "社会救助", "downloads"), dl + 1);
	assert_int_equal(counter("app", "counted", "downloads"), 1);
	struct dg_db *db = NULL;
	json_t *out = NULL;
	assert_int_equal(dg_db_get(store(), &db), DG_OK);
	assert_int_equal(dg_od_counters(db, "nope", &out), DG_EINVAL);
	assert_null(out);
	dg_db_put(db);
	free(x);
	free(key);
}

struct hammer {
	const char *hdr;
	int ok, limited; /* answers 200 and 429 */
};

static void *hammer(void *arg)
{
	struct hammer *h = arg;
	for (int i = 0; i < 25; i++) {
		long st = get_with(h->hdr, "/api/3/action/package_show?id=marriage-registrations",
				   NULL, NULL);
		h->ok += st == 200;
		h->limited += st == 429;
	}
	return NULL;
}

/* 8 threads of 25 calls each with the header hdr: how many were answered 200 and 429. */
static void hammer_8(const char *hdr, int *ok, int *limited)
{
	pthread_t t[8];
	struct hammer h[8];
	*ok = *limited = 0;
	for (int i = 0; i < 8; i++) {
		h[i] = (struct hammer){.hdr = hdr};
		assert_int_equal(pthread_create(&t[i], NULL, hammer, &h[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		*ok += h[i].ok;
		*limited += h[i].limited;
	}
}

static void counting_from_many_threads(void **state)
{
	(void)state;
	int64_t id = 0;
	char *key = new_app(DG_DEMO_CITIZEN, "threads", &id);
	char *x = key_header("X-CKAN-API-Key", key);
	int64_t views = counter("dataset", "marriage-registrations", "views");
	int ok = 0, limited = 0;
	hammer_8(x, &ok, &limited);
	assert_int_equal(ok, 200);
	char q[120];
	snprintf(q, sizeof q, "SELECT n FROM od_quota WHERE subject = 'app:%lld'", (long long)id);
	assert_int_equal(sql_int(q), 200);
	assert_int_equal(counter("dataset", "marriage-registrations", "views"), views + 200);
	free(x);
	free(key);
}

/*
 * Quotas are counted in memory and written in batches (store/tally.h): over
 * the limit from many threads at once, one node admits exactly its quota
 * (the stated margin is for other nodes on the same store only), refuses
 * the rest with 429, and every call is in the store's count.
 */
static void batched_quota_margin(void **state)
{
	(void)state;
	int64_t id = 0;
	char *key = new_app(DG_DEMO_CITIZEN, "margin", &id);
	char *x = key_header("X-CKAN-API-Key", key), q[160];
	snprintf(q, sizeof q, "UPDATE od_apps SET daily_quota = 30 WHERE id = %lld", (long long)id);
	sql(q);
	int64_t views = counter("dataset", "marriage-registrations", "views");
	int ok = 0, limited = 0;
	hammer_8(x, &ok, &limited);
	assert_int_equal(ok, 30);
	assert_int_equal(limited, 200 - 30);
	snprintf(q, sizeof q, "SELECT n FROM od_quota WHERE subject = 'app:%lld'", (long long)id);
	assert_int_equal(sql_int(q), 200);
	/* only the answered calls are uses */
	assert_int_equal(counter("dataset", "marriage-registrations", "views"), views + 30);
	/* counted by another node: this one reads the store again after writing its own */
	snprintf(q, sizeof q,
		 "UPDATE od_apps SET daily_quota = 205 WHERE id = %lld;"
		 "UPDATE od_quota SET n = n + 4 WHERE subject = 'app:%lld'",
		 (long long)id, (long long)id);
	sql(q);
	assert_int_equal(get_with(x, "/api/3/action/package_list", NULL, NULL), 200);
	assert_int_equal(get_with(x, "/api/3/action/package_list", NULL, NULL), 429);
	free(x);
	free(key);
}

/* A request with one extra header line; *ans the parsed body, *policy RateLimit-Policy. */
static long call_with(const char *hdr, const char *method, const char *path, const char *body,
		      json_t **ans, char **policy)
{
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	const char *h[] = {hdr, NULL};
	long st = th_request(c, method, path, body ? "application/json" : NULL, body,
			     body ? strlen(body) : 0, hdr ? h : NULL, &r);
	if (ans)
		*ans = json_loadb(r.body ? r.body : "", r.len, JSON_DECODE_ANY, NULL);
	if (policy) {
		*policy = th_header(&r, "RateLimit-Policy");
		char *retry = th_header(&r, "Retry-After");
		/* every 429 says when to try again */
		if (st == 429)
			assert_true(retry && strtol(retry, NULL, 10) >= 1);
		free(retry);
	}
	th_resp_release(&r);
	th_client_free(c);
	return st;
}

static const char *quota_name(json_t *ans)
{
	return json_string_value(json_object_get(json_object_get(ans, "error"), "quota"));
}

static void quotas(void **state)
{
	(void)state;
	int64_t id = 0;
	char *key = new_app(DG_DEMO_CITIZEN, "quota", &id);
	char *x = key_header("X-CKAN-API-Key", key), *retry = NULL, q[200];
	json_t *ans = NULL;
	/* the anonymous limit: two more calls today from this address */
	int64_t used =
		sql_int("SELECT COALESCE(MAX(n), 0) FROM od_quota WHERE subject LIKE 'ip:%'");
	snprintf(q, sizeof q, "UPDATE od_access_settings SET value = %lld WHERE key = 'anon_daily'",
		 (long long)used + 2);
	sql(q);
	assert_int_equal(get_with(NULL, "/api/3/action/package_list", NULL, NULL), 200);
	assert_int_equal(get_with(NULL, "/api/3/action/package_list", NULL, NULL), 200);
	assert_int_equal(get_with(NULL, "/api/3/action/package_list", &ans, &retry), 429);
	assert_string_equal(err_type(ans), "Rate Limit Error");
	assert_string_equal(quota_name(ans), "anon_daily");
	assert_false(json_is_true(json_object_get(ans, "success")));
	assert_non_null(retry);
	long secs = strtol(retry, NULL, 10);
	assert_true(secs >= 1 && secs <= 86400);
	free(retry);
	json_decref(ans);
	assert_int_equal(get_with(NULL, "/datastore/dump/" COND_RID, NULL, &retry), 429);
	assert_non_null(retry);
	free(retry);
	/* the app has its own, larger quota */
	assert_int_equal(get_with(x, "/api/3/action/package_list", NULL, NULL), 200);
	/* an administrator lowers this app's quota to 2: one more call */
	struct th_client *adm = th_signed_in(th_shared, DG_DEMO_ADMIN);
	struct th_resp r = {0};
	char path[80];
	snprintf(path, sizeof path, "/admin/data-access/apps/%lld/quota", (long long)id);
	assert_int_equal(post_form(adm, "/admin/data-access", path, "daily_quota=x", &r), 422);
	th_resp_release(&r);
	assert_int_equal(post_form(adm, "/admin/data-access", path, "daily_quota=2", &r), 303);
	th_resp_release(&r);
	struct th_client *cit = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	assert_int_equal(post_form(cit, "/data/apps", path, "daily_quota=99", &r), 403);
	th_resp_release(&r);
	assert_int_equal(get_with(x, "/api/3/action/package_list", NULL, NULL), 200);
	assert_int_equal(get_with(x, "/api/3/action/package_list", &ans, &retry), 429);
	assert_non_null(retry);
	free(retry);
	assert_string_equal(err_type(ans), "Rate Limit Error");
	assert_string_equal(quota_name(ans), "app_own_daily");
	json_decref(ans);
	sql("UPDATE od_access_settings SET value = 1000000 WHERE key = 'anon_daily'");
	assert_int_equal(get_with(NULL, "/api/3/action/package_list", NULL, NULL), 200);
	th_client_free(adm);
	th_client_free(cit);
	free(x);
	free(key);
}

/* package_create of name as staff (token header hdr); the status, *ans and *policy. */
static long create_as(const char *hdr, const char *name, json_t **ans, char **policy)
{
	char body[200];
	snprintf(body, sizeof body, "{\"name\":\"%s\",\"title\":\"budget\",\"owner_org\":\"mz\"}",
		 name);
	return call_with(hdr, "POST", "/api/3/action/package_create", body, ans, policy);
}

/*
 * Staff writing their department's catalogue spend a write budget of their
 * own, not the read quota, and the other way round; each 429 names its quota.
 */
static void write_budget(void **state)
{
	(void)state;
	char *staff = th_token_header(th_shared, DG_DEMO_STAFF, DG_DEMO_PASSWORD);
	assert_non_null(staff);
	int64_t uid = sql_int("SELECT id FROM users WHERE username = '" DG_DEMO_STAFF "'");
	char q[300], subj[40], *policy = NULL;
	json_t *ans = NULL;
	snprintf(subj, sizeof subj, "%lld", (long long)uid);
	/* one more read today, three more writes */
	snprintf(q, sizeof q,
		 "UPDATE od_access_settings SET value = 1 + COALESCE((SELECT MAX(n) FROM od_quota"
		 " WHERE subject = 'user:%s'), 0) WHERE key = 'app_daily'",
		 subj);
	sql(q);
	snprintf(q, sizeof q,
		 "UPDATE od_access_settings SET value = 3 + COALESCE((SELECT MAX(n) FROM od_quota"
		 " WHERE subject = 'write:%s'), 0) WHERE key = 'staff_write_daily'",
		 subj);
	sql(q);
	const char *show = "/api/3/action/package_show?id=employment-statistics";
	assert_int_equal(call_with(staff, "GET", show, NULL, NULL, NULL), 200);
	assert_int_equal(call_with(staff, "GET", show, NULL, &ans, &policy), 429);
	assert_string_equal(quota_name(ans), "app_daily");
	assert_non_null(policy);
	assert_non_null(strstr(policy, "\"app_daily\";q="));
	free(policy);
	json_decref(ans);
	/* the reads are spent; the writes are not */
	assert_int_equal(create_as(staff, "budget-1", NULL, NULL), 200);
	assert_int_equal(create_as(staff, "budget-2", NULL, NULL), 200);
	assert_int_equal(create_as(staff, "budget-3", NULL, NULL), 200);
	assert_int_equal(create_as(staff, "budget-4", &ans, &policy), 429);
	assert_string_equal(err_type(ans), "Rate Limit Error");
	assert_string_equal(quota_name(ans), "staff_write_daily");
	assert_non_null(
		strstr(json_string_value(json_object_get(json_object_get(ans, "error"), "message")),
		       "staff_write_daily"));
	assert_non_null(strstr(policy, "\"staff_write_daily\";q="));
	assert_non_null(strstr(policy, ";w=86400"));
	free(policy);
	json_decref(ans);
	/* refused: nothing written */
	assert_int_equal(sql_int("SELECT COUNT(*) FROM od_packages WHERE name = 'budget-4'"), 0);
	assert_int_equal(sql_int("SELECT COUNT(*) FROM od_packages WHERE name = 'budget-3'"), 1);
	/* the administrator's page: a bad budget is a 422 that changes nothing, a good one holds */
	int64_t before = sql_int("SELECT value FROM od_access_settings WHERE key = "
				 "'staff_write_daily'"),
		app_before =
			sql_int("SELECT value FROM od_access_settings WHERE key = 'app_daily'");
	struct th_client *adm = th_signed_in(th_shared, DG_DEMO_ADMIN);
	struct th_resp r = {0};
	assert_int_equal(post_form(adm, "/admin/data-access", "/admin/data-access/settings",
				   "anon_daily=1000000&app_daily=1000000&staff_write_daily=-5", &r),
			 422);
	assert_non_null(strstr(r.body, "staff_write_daily-error"));
	th_resp_release(&r);
	assert_int_equal(sql_int("SELECT value FROM od_access_settings WHERE key = "
				 "'staff_write_daily'"),
			 before);
	assert_int_equal(sql_int("SELECT value FROM od_access_settings WHERE key = 'app_daily'"),
			 app_before);
	assert_int_equal(post_form(adm, "/admin/data-access", "/admin/data-access/settings",
				   "anon_daily=1000000&app_daily=1000000&staff_write_daily=0", &r),
			 303);
	th_resp_release(&r);
	assert_int_equal(sql_int("SELECT value FROM od_access_settings WHERE key = "
				 "'staff_write_daily'"),
			 0);
	/* 0: no limit; reads are back too */
	assert_int_equal(create_as(staff, "budget-4", NULL, NULL), 200);
	assert_int_equal(call_with(staff, "GET", show, NULL, NULL, NULL), 200);
	/* the page shows the budget */
	char *page = th_get_body(adm, "/admin/data-access", 200);
	assert_non_null(strstr(page, "id=\"staff_write_daily\""));
	free(page);
	th_client_free(adm);
	free(staff);
}

static int setup(void **state)
{
	if (th_group_setup(state) != 0)
		return -1;
	adm_token = th_token_header(th_shared, DG_DEMO_ADMIN, DG_DEMO_PASSWORD);
	if (!adm_token)
		return -1;
	cit_key = new_app(DG_DEMO_CITIZEN, "study", &cit_app);
	return 0;
}

static int teardown(void **state)
{
	free(adm_token);
	free(cit_key);
	return th_group_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keys_in_both_headers),
		cmocka_unit_test(closed_data_invisible_with_a_key),
		cmocka_unit_test(apply_form_errors_change_nothing),
		cmocka_unit_test(conditional_needs_a_grant),
		cmocka_unit_test(app_pages_and_revoked_keys),
		cmocka_unit_test(counters_are_exact),
		cmocka_unit_test(counting_from_many_threads),
		cmocka_unit_test(batched_quota_margin),
		cmocka_unit_test(quotas),
		cmocka_unit_test(write_budget),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
