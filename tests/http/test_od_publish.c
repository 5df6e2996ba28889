/*
 * test_od_publish.c - a harvest published through CKAN's package_create
 * by several departments at once, on whichever store DGOV_TEST_DB selects
 * (issue 19: the 190,000 created in full with no request refused).
 *
 * WRITERS threads, each the API token of a staff member of a different
 * department, create PER datasets each at the same time, with tags and
 * resources as a harvester sends them, while the public's read quota is
 * spent: every create must be acknowledged (200; a 429 would mean the
 * read quota throttled a department's own writes), and afterwards the
 * catalogue's kept counts (package_search's count and facets, tag_list's
 * tags) equal the datasets counted in the store one by one, and the public
 * still gets its 429 with Retry-After and the quota's name. And the
 * catalogue `dgov demo --datasets N` writes straight into the store (its
 * bulk settings: PostgreSQL's statistics gathered inside the transaction,
 * SQLite's larger cache) has the same counts as the datasets counted one
 * by one, and takes the API's creates after it. Nothing here is timed.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "app/app.h"
#include "core/err.h"
#include "harness.h"
#include "node/demo.h"
#include "opendata/catalog/catalog.h"
#include "store/store.h"

#define WRITERS 4
#define PER     12

/* the demo's staff of four departments, and their departments' codes */
static const char *const staff[WRITERS] = {"mz_zhao", "rs_qian", "sc_sun", "wj_li"};
static const char *const depts[WRITERS] = {"mz", "rs", "sc", "wj"};

struct writer {
	int k;
	char *hdr;
	int ok, refused, other;
	char last[300]; /* the last answer that was not 200 */
};

/* A request as the holder of hdr (NULL: anonymous); *ans the body, *retry Retry-After. */
static long call(const char *hdr, const char *method, const char *path, const char *body,
		 json_t **ans, char **retry)
{
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	const char *h[] = {hdr, NULL};
	long st = th_request(c, method, path, body ? "application/json" : NULL, body,
			     body ? strlen(body) : 0, hdr ? h : NULL, &r);
	if (ans)
		*ans = json_loadb(r.body ? r.body : "", r.len, JSON_DECODE_ANY, NULL);
	if (retry)
		*retry = th_header(&r, "Retry-After");
	th_resp_release(&r);
	th_client_free(c);
	return st;
}

static void *publish(void *arg)
{
	struct writer *w = arg;
	char body[800];
	for (int i = 0; i < PER; i++) {
		/* every third one private, every fourth closed: the counts must leave them out */
		snprintf(body, sizeof body,
			 "{\"name\":\"%s-harvest-%d\",\"title\":\"采集数据集 %d-%d 统计年报\","
			 "\"owner_org\":\"%s\",\"notes\":\"由区域平台采集，按街道汇总。\","
			 "\"license_id\":\"cc-by\",\"private\":%s,"
			 "\"extras\":[{\"key\":\"open_tier\",\"value\":\"%s\"}],"
			 "\"tags\":[{\"name\":\"采集\"},{\"name\":\"w%d\"},{\"name\":\"n%d\"}],"
			 "\"resources\":[{\"url\":\"https://data.example.gov.cn/%d-%d.csv\","
			 "\"format\":\"CSV\",\"name\":\"数据表\"},"
			 "{\"url\":\"https://data.example.gov.cn/"
			 "%d-%d.json\",\"format\":\"JSON\"}]}",
			 depts[w->k], i, w->k, i, depts[w->k], i % 3 == 2 ? "true" : "false",
			 i % 4 == 3 ? "closed" : "open", w->k, i % 2, w->k, i, w->k, i);
		json_t *ans = NULL;
		long st = call(w->hdr, "POST", "/api/3/action/package_create", body, &ans, NULL);
		if (st == 200) {
			w->ok++;
		} else {
			char *text = json_dumps(ans, 0);
			snprintf(w->last, sizeof w->last, "%ld %.250s", st, text ? text : "");
			free(text);
			st == 429 ? w->refused++ : w->other++;
		}
		json_decref(ans);
	}
	return NULL;
}

/* The public's count of its visible datasets (a brute-force count), with cond. */
static int64_t visible(const char *from, const char *cond)
{
	char q[600];
	snprintf(q, sizeof q,
		 "SELECT COUNT(DISTINCT p.id) FROM %s WHERE p.state = 'active' AND p.private = 0"
		 " AND p.tier <> 'closed' AND %s",
		 from, cond);
	return th_sql_int(th_shared, q);
}

/* The count facet field gives value in a package_search answer (0 when absent). */
static int64_t facet(json_t *ans, const char *field, const char *value)
{
	json_t *items = json_object_get(
		json_object_get(json_object_get(json_object_get(ans, "result"), "search_facets"),
				field),
		"items");
	size_t i;
	json_t *it;
	json_array_foreach (items, i, it)
		if (strcmp(json_string_value(json_object_get(it, "name")), value) == 0)
			return json_integer_value(json_object_get(it, "count"));
	return 0;
}

/* The public's whole catalogue with every organisation, tag and format counted (owned);
 * its count is all. */
static json_t *public_facets(int64_t all)
{
	json_t *ans = NULL;
	assert_int_equal(call(NULL, "GET",
			      "/api/3/action/package_search?rows=0&facet.limit=-1&facet.field="
			      "[%22organization%22,%22tags%22,%22res_format%22]",
			      NULL, &ans, NULL),
			 200);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(ans, "result"), "count")), all);
	return ans;
}

static void concurrent_creates(void **state)
{
	(void)state;
	/* the public may read twice more today, and so may a signed-in account (a
	 * writer's reads): the harvest spends none of it */
	int64_t anon = th_sql_int(th_shared, "SELECT value FROM od_access_settings"
					     " WHERE key = 'anon_daily'");
	int64_t app = th_sql_int(th_shared, "SELECT value FROM od_access_settings"
					    " WHERE key = 'app_daily'");
	th_sql(th_shared,
	       "UPDATE od_access_settings SET value = 2 + COALESCE((SELECT MAX(n)"
	       " FROM od_quota WHERE subject LIKE 'ip:%'), 0) WHERE key = 'anon_daily';"
	       "UPDATE od_access_settings SET value = 2 + COALESCE((SELECT MAX(n)"
	       " FROM od_quota WHERE subject LIKE 'user:%'), 0) WHERE key = 'app_daily'");
	struct writer w[WRITERS];
	pthread_t t[WRITERS];
	memset(w, 0, sizeof w);
	for (int k = 0; k < WRITERS; k++) {
		w[k].k = k;
		w[k].hdr = th_token_header(th_shared, staff[k], DG_DEMO_PASSWORD);
		assert_non_null(w[k].hdr);
	}
	int64_t before = visible("od_packages p", "1 = 1");
	for (int k = 0; k < WRITERS; k++)
		assert_int_equal(pthread_create(&t[k], NULL, publish, &w[k]), 0);
	for (int k = 0; k < WRITERS; k++)
		pthread_join(t[k], NULL);
	for (int k = 0; k < WRITERS; k++) {
		if (w[k].ok != PER)
			fprintf(stderr, "# %s: %d created, %d refused, %d other; last: %s\n",
				staff[k], w[k].ok, w[k].refused, w[k].other, w[k].last);
		assert_int_equal(w[k].refused, 0);
		assert_int_equal(w[k].ok, PER);
	}
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM od_packages"
					       " WHERE name LIKE '%-harvest-%'"),
			 WRITERS * PER);
	/* per writer: 12 made, 4 private (i = 2, 5, 8, 11), 3 closed (3, 7, 11), 6 public */
	int64_t all = visible("od_packages p", "1 = 1");
	assert_int_equal(all - before, WRITERS * 6);

	/* the kept counts against the store's rows, counted one by one */
	json_t *ans = public_facets(all);
	char cond[200];
	for (int k = 0; k < WRITERS; k++) {
		snprintf(cond, sizeof cond, "p.owner_dept = '%s'", depts[k]);
		assert_int_equal(facet(ans, "organization", depts[k]),
				 visible("od_packages p", cond));
		char tag[8];
		snprintf(tag, sizeof tag, "w%d", k);
		assert_int_equal(facet(ans, "tags", tag), 6);
	}
	static const char *const tags[] = {"采集", "n0", "n1"};
	for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
		snprintf(cond, sizeof cond, "t.name = '%s'", tags[i]);
		assert_int_equal(
			facet(ans, "tags", tags[i]),
			visible("od_tags t JOIN od_packages p ON p.id = t.package_id", cond));
	}
	assert_int_equal(facet(ans, "tags", "采集"), WRITERS * 6);
	assert_int_equal(facet(ans, "res_format", "JSON"),
			 visible("od_resources r JOIN od_packages p ON p.id = r.package_id",
				 "r.format = 'JSON'"));
	assert_int_equal(facet(ans, "res_format", "CSV"),
			 visible("od_resources r JOIN od_packages p ON p.id = r.package_id",
				 "r.format = 'CSV'"));
	json_decref(ans);

	/* a search finds the harvest's own datasets, and only the public ones */
	assert_int_equal(call(NULL, "GET", "/api/3/action/package_search?q=tags:w2&rows=100", NULL,
			      &ans, NULL),
			 200);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(ans, "result"), "count")), 6);
	json_decref(ans);
	/* the quota was the public's: its third read is refused and says so */
	char *retry = NULL;
	assert_int_equal(call(NULL, "GET", "/api/3/action/tag_list", NULL, &ans, &retry), 429);
	assert_non_null(retry);
	assert_true(strtol(retry, NULL, 10) >= 1);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(ans, "error"), "quota")),
		"anon_daily");
	free(retry);
	json_decref(ans);
	/* and the departments still write */
	assert_int_equal(call(w[0].hdr, "POST", "/api/3/action/package_create",
			      "{\"name\":\"mz-harvest-late\",\"owner_org\":\"mz\"}", NULL, NULL),
			 200);
	char q[200];
	snprintf(q, sizeof q,
		 "UPDATE od_access_settings SET value = %lld WHERE key = 'anon_daily';"
		 "UPDATE od_access_settings SET value = %lld WHERE key = 'app_daily'",
		 (long long)anon, (long long)app);
	th_sql(th_shared, q);
	for (int k = 0; k < WRITERS; k++)
		free(w[k].hdr);
}

/* The generator in a transaction of its own, as the demo runs it. */
static void generated_catalogue(void **state)
{
	(void)state;
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	int64_t before = visible("od_packages p", "1 = 1"),
		total = th_sql_int(th_shared, "SELECT COUNT(*) FROM od_packages");
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_db_begin(db), DG_OK);
	assert_int_equal(dg_od_catalog_generate(db, 400, &err), DG_OK);
	assert_int_equal(dg_db_commit(db), DG_OK);
	dg_db_put(db);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM od_packages"), total + 400);
	int64_t all = visible("od_packages p", "1 = 1");
	/* most of them public, some conditional, closed or private (generate.c) */
	assert_true(all - before > 300 && all - before < 400);

	json_t *ans = public_facets(all);
	char cond[200];
	static const char *const orgs[] = {"mz", "rs", "sc", "wj", "ga", "zj", "yb", "sj"};
	for (size_t k = 0; k < sizeof orgs / sizeof orgs[0]; k++) {
		snprintf(cond, sizeof cond, "p.owner_dept = '%s'", orgs[k]);
		assert_int_equal(facet(ans, "organization", orgs[k]),
				 visible("od_packages p", cond));
	}
	static const char *const tags[] = {"养老", "统计", "监测", "登记"};
	for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
		snprintf(cond, sizeof cond, "t.name = '%s'", tags[i]);
		int64_t n = visible("od_tags t JOIN od_packages p ON p.id = t.package_id", cond);
		assert_true(n > 0);
		assert_int_equal(facet(ans, "tags", tags[i]), n);
	}
	static const char *const formats[] = {"CSV", "XLSX", "JSON", "API"};
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		snprintf(cond, sizeof cond, "r.format = '%s'", formats[i]);
		assert_int_equal(
			facet(ans, "res_format", formats[i]),
			visible("od_resources r JOIN od_packages p ON p.id = r.package_id", cond));
	}
	json_decref(ans);
	/* the kept rows of each dataset: one row per public dataset */
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM od_dataset_facets"
					       " WHERE kind = ''"),
			 all);

	/* a create after it takes a document number of its own and is found by it */
	char *hdr = th_token_header(th_shared, DG_DEMO_STAFF, DG_DEMO_PASSWORD);
	assert_non_null(hdr);
	assert_int_equal(call(hdr, "POST", "/api/3/action/package_create",
			      "{\"name\":\"mz-after-generated\",\"owner_org\":\"mz\","
			      "\"title\":\"生成之后 quokkagen\"}",
			      NULL, NULL),
			 200);
	free(hdr);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(DISTINCT search_id) - COUNT(*)"
					       " FROM od_packages"),
			 0);
	assert_int_equal(
		call(NULL, "GET", "/api/3/action/package_search?q=quokkagen", NULL, &ans, NULL),
		200);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(ans, "result"), "count")), 1);
	json_decref(ans);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(generated_catalogue),
		cmocka_unit_test(concurrent_creates),
	};
	return cmocka_run_group_tests(tests, th_group_setup, th_group_teardown);
}
