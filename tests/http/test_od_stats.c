/*
 * test_od_stats.c - the open data's statistics through the real server, on
 * the store DGOV_TEST_DB selects: downloads and API calls made through the
 * real routes (/datastore/dump, datastore_search) show up exactly in the
 * JSON (/api/v1/opendata/stats) and on the page (/data/stats), in all, in
 * the last 30 days, by department and theme and in the top lists; older
 * use counts in all time only; the page groups digits; the datasets never
 * downloaded are counted; a closed dataset's use counts in the totals but
 * the dataset is never named; requests and showcase apps match the store;
 * each theme is linked by its group's current name (civil-affairs for 民政,
 * a rename's name after it), which /data takes for the theme's datasets;
 * and a store that fails gives the JSON error shape, not a half answer.
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
#include "node/demo.h"
#include "harness.h"
#include "opendata/access/access.h"

#define EMP_NAME    "employment-statistics" /* department rs */
#define EMP_RID     "00000000-0000-4000-9000-000000000004"
#define CLOSED_NAME "sj-internal-case-ledger"
#define CLOSED_RID  "00000000-0000-4000-9000-000000000012"

static struct dg_store *store(void)
{
	return th_app(th_shared)->env.store;
}

static long get_status(const char *path)
{
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	long st = th_get(c, path, &r);
	th_resp_release(&r);
	th_client_free(c);
	return st;
}

static json_t *stats(void)
{
	json_t *s = th_get_json(th_shared, "/api/v1/opendata/stats", 200);
	assert_non_null(s);
	return s;
}

/* The integer at a dotted path of j ("use.total.downloads"). */
static int64_t at(json_t *j, const char *path)
{
	for (const char *k = path; j && k;) {
		const char *dot = strchr(k, '.');
		char key[64];
		snprintf(key, sizeof key, "%.*s", dot ? (int)(dot - k) : (int)strlen(k), k);
		j = json_object_get(j, key);
		k = dot ? dot + 1 : NULL;
	}
	assert_true(json_is_integer(j));
	return json_integer_value(j);
}

/* The figure what of the row whose key is key in the list at path (0 when absent). */
static int64_t row_of(json_t *s, const char *group, const char *list, const char *key,
		      const char *what)
{
	json_t *row;
	size_t i;
	json_array_foreach (json_object_get(json_object_get(s, group), list), i, row)
		if (strcmp(json_string_value(json_object_get(row, "key")), key) == 0)
			return json_integer_value(json_object_get(row, what));
	return 0;
}

static char *page_en(void)
{
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	const char *hdr[] = {"Accept-Language: en", NULL};
	assert_int_equal(th_request(c, "GET", "/data/stats", NULL, NULL, 0, hdr, &r), 200);
	char *b = strdup(r.body);
	th_resp_release(&r);
	th_client_free(c);
	return b;
}

static void use_through_the_routes(void **state)
{
	(void)state;
	json_t *before = stats();
	int64_t never = at(before, "never_downloaded");
	int64_t datasets = at(before, "scale.total.datasets");
	/* a fresh store: nothing downloaded yet */
	assert_int_equal(never, datasets);
	assert_int_equal(json_array_size(json_object_get(before, "top_downloaded")), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(get_status("/datastore/dump/" EMP_RID), 200);
	for (int i = 0; i < 2; i++)
		assert_int_equal(get_status("/api/3/action/datastore_search?resource_id=" EMP_RID),
				 200);
	/* a call that names no dataset counts in the totals only */
	assert_int_equal(get_status("/api/3/action/package_list"), 200);
	json_t *s = stats();
	assert_int_equal(at(s, "use.total.downloads"), at(before, "use.total.downloads") + 3);
	assert_int_equal(at(s, "use.total.downloads_30d"),
			 at(before, "use.total.downloads_30d") + 3);
	assert_int_equal(at(s, "use.total.calls"), at(before, "use.total.calls") + 3);
	assert_int_equal(at(s, "use.total.calls_30d"), at(before, "use.total.calls_30d") + 3);
	assert_int_equal(row_of(s, "use", "by_dept", "rs", "downloads"), 3);
	assert_int_equal(row_of(s, "use", "by_dept", "rs", "calls_30d"), 2);
	assert_int_equal(row_of(s, "use", "by_dept", "mz", "downloads"), 0);
	int64_t theme_dl = 0;
	json_t *row;
	size_t i;
	json_array_foreach (json_object_get(json_object_get(s, "use"), "by_theme"), i, row)
		theme_dl += json_integer_value(json_object_get(row, "downloads"));
	assert_int_equal(theme_dl, 3);
	json_t *top = json_array_get(json_object_get(s, "top_downloaded"), 0);
	assert_string_equal(json_string_value(json_object_get(top, "name")), EMP_NAME);
	assert_int_equal(json_integer_value(json_object_get(top, "count")), 3);
	top = json_array_get(json_object_get(s, "top_called"), 0);
	assert_string_equal(json_string_value(json_object_get(top, "name")), EMP_NAME);
	assert_int_equal(json_integer_value(json_object_get(top, "count")), 2);
	assert_int_equal(at(s, "never_downloaded"), never - 1);
	assert_int_equal(at(s, "days"), 30);
	json_decref(s);

	/* use older than 30 days counts in all time only, and the page groups digits */
	th_sql(th_shared, "INSERT INTO od_counters (day, package_id, app_id, kind, n)"
			  " SELECT '2001-01-01', id, 0, 'download', 12345 FROM od_packages"
			  " WHERE name = '" EMP_NAME "'");
	s = stats();
	assert_int_equal(at(s, "use.total.downloads"), at(before, "use.total.downloads") + 12348);
	assert_int_equal(at(s, "use.total.downloads_30d"),
			 at(before, "use.total.downloads_30d") + 3);
	assert_int_equal(row_of(s, "use", "by_dept", "rs", "downloads"), 12348);
	assert_int_equal(row_of(s, "use", "by_dept", "rs", "downloads_30d"), 3);
	json_decref(s);
	char *b = page_en();
	assert_non_null(strstr(b, "<caption id=\"top-dl\">"));
	assert_non_null(strstr(b, "<a href=\"/data/datasets/" EMP_NAME "\">"));
	assert_non_null(strstr(b, "Human Resources and Social Security "
				  "Bureau</a></th><td data-label=\"Downloads\">12,348</td>"
				  "<td data-label=\"Downloads, last 30 days\">3</td>"
				  "<td data-label=\"API calls\">2</td>"
				  "<td data-label=\"API calls, last 30 days\">2</td>"));
	assert_non_null(strstr(b, "<th scope=\"col\">"));
	assert_non_null(strstr(b, "<dt>Datasets never downloaded</dt><dd>"));
	free(b);
	json_decref(before);
}

static void closed_datasets_never_named(void **state)
{
	(void)state;
	char *title = NULL;
	{
		struct dg_db *db = NULL;
		struct dg_rows *rows = NULL;
		assert_int_equal(dg_db_get(store(), &db), DG_OK);
		assert_int_equal(dg_db_query(db, "SELECT title FROM od_packages WHERE name = ?",
					     DG_ARGS(DG_VT(CLOSED_NAME)), &rows),
				 DG_OK);
		assert_int_equal(dg_rows_next(rows), DG_OK);
		title = strdup(dg_rows_text(rows, 0));
		dg_rows_free(rows);
		/* its own department reads it much more than anything else is read */
		for (int i = 0; i < 40; i++) {
			assert_int_equal(dg_od_count(NULL, db, DG_OD_CALL, "", CLOSED_RID, 0),
					 DG_OK);
			assert_int_equal(dg_od_count(NULL, db, DG_OD_DOWNLOAD, "", CLOSED_RID, 0),
					 DG_OK);
		}
		dg_db_put(db);
	}
	/* and through the route, as an administrator (the owner's staff may) */
	char *tok = th_token_header(th_shared, DG_DEMO_ADMIN, DG_DEMO_PASSWORD);
	assert_non_null(tok);
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	const char *h[] = {tok, NULL};
	th_request(c, "GET", "/api/3/action/datastore_search?resource_id=" CLOSED_RID, NULL, NULL,
		   0, h, &r);
	th_resp_release(&r);
	th_client_free(c);
	free(tok);
	json_t *s = stats();
	char *text = json_dumps(s, 0);
	assert_null(strstr(text, CLOSED_NAME));
	assert_null(strstr(text, CLOSED_RID));
	assert_true(at(s, "use.total.calls") >= 40);
	assert_true(at(s, "use.total.downloads") >= 40);
	/* the department that has only the closed dataset is not grouped */
	assert_int_equal(row_of(s, "use", "by_dept", "sj", "calls"), 0);
	free(text);
	json_decref(s);
	char *b = page_en();
	assert_null(strstr(b, CLOSED_NAME));
	assert_null(strstr(b, title));
	assert_null(strstr(b, "Government Services and Data Administration"));
	free(b);
	free(title);
}

static void requests_and_showcase(void **state)
{
	(void)state;
	json_t *s = stats();
	assert_int_equal(
		at(s, "requests.answered"),
		th_sql_int(th_shared, "SELECT COUNT(*) FROM od_requests WHERE status <> 'open'"));
	assert_int_equal(
		at(s, "requests.open"),
		th_sql_int(th_shared, "SELECT COUNT(*) FROM od_requests WHERE status = 'open'"));
	assert_int_equal(
		at(s, "showcase.apps"),
		th_sql_int(th_shared, "SELECT COUNT(*) FROM od_showcase WHERE approved = 1"));
	json_decref(s);
	th_sql(th_shared, "INSERT INTO od_requests (title, body, dept, user_id, created)"
			  " VALUES ('t', 'b', 'mz', 1, 0)");
	s = stats();
	assert_int_equal(
		at(s, "requests.open"),
		th_sql_int(th_shared, "SELECT COUNT(*) FROM od_requests WHERE status = 'open'"));
	assert_true(at(s, "requests.open") >= 1);
	json_decref(s);
}

/* The /data/datasets/ links of a page (the results), joined by spaces (malloc'd). */
static char *dataset_links(const char *body)
{
	static const char mark[] = "<a href=\"/data/datasets/";
	size_t cap = strlen(body) + 1, o = 0;
	char *out = malloc(cap);
	for (const char *p = strstr(body, mark); p; p = strstr(p, mark)) {
		p += sizeof mark - 1;
		size_t n = strcspn(p, "\"");
		o += (size_t)snprintf(out + o, cap - o, "%.*s ", (int)n, p);
	}
	out[o] = '\0';
	return out;
}

/* The datasets /data lists for group=value (value percent-encoded here) (malloc'd). */
static char *listed_for(const char *value)
{
	char *enc = th_enc(value), path[256];
	snprintf(path, sizeof path, "/data?group=%s", enc);
	free(enc);
	struct th_client *c = th_client_new(th_shared);
	char *b = th_get_body(c, path, 200);
	th_client_free(c);
	assert_non_null(b);
	char *links = dataset_links(b);
	free(b);
	return links;
}

/* An action as the demo administrator (JSON body); its status. */
static long admin_call(const char *action, const char *body)
{
	return th_action_as(th_shared, DG_DEMO_ADMIN, DG_DEMO_PASSWORD, action, body);
}

/*
 * Each theme of the page is linked by its group's current name (民政 by
 * civil-affairs, then by the name a rename gives), which /data takes for
 * the same datasets as the theme itself; the JSON carries that name.
 */
static void themes_linked_by_group_name(void **state)
{
	(void)state;
	json_t *s = stats(), *row;
	size_t i, checked = 0;
	char *b = page_en();
	json_array_foreach (json_object_get(json_object_get(s, "scale"), "by_theme"), i, row) {
		const char *key = json_string_value(json_object_get(row, "key"));
		const char *name = json_string_value(json_object_get(row, "name"));
		assert_non_null(name);
		char want[256], old[256];
		snprintf(want, sizeof want, "<a href=\"/data?group=%s\">", name);
		snprintf(old, sizeof old, "<a href=\"/data?group=%s\">", key);
		assert_non_null(strstr(b, want));
		if (strcmp(key, "民政") == 0)
			assert_string_equal(name, "civil-affairs");
		if (strcmp(key, name) == 0)
			continue;
		assert_null(strstr(b, old));
		/* the link leads to the theme's datasets, as many as the row counts */
		char *by_name = listed_for(name), *by_theme = listed_for(key);
		assert_string_equal(by_name, by_theme);
		size_t n = 0;
		for (const char *p = by_name; (p = strchr(p, ' ')); p++)
			n++;
		assert_int_equal(n, json_integer_value(json_object_get(row, "datasets")));
		assert_true(n > 0);
		free(by_name);
		free(by_theme);
		checked++;
	}
	assert_true(checked > 0);
	assert_non_null(strstr(b, "<a href=\"/data?group=civil-affairs\">"));
	free(b);
	json_decref(s);

	/* a renamed group: the page links it by its new name, which still leads there */
	assert_int_equal(admin_call("group_patch", "{\"id\":\"民政\",\"name\":\"mz-themes\"}"),
			 200);
	b = page_en();
	assert_non_null(strstr(b, "<a href=\"/data?group=mz-themes\">"));
	assert_null(strstr(b, "<a href=\"/data?group=civil-affairs\">"));
	free(b);
	s = stats();
	json_array_foreach (json_object_get(json_object_get(s, "use"), "by_theme"), i, row)
		if (strcmp(json_string_value(json_object_get(row, "key")), "民政") == 0)
			assert_string_equal(json_string_value(json_object_get(row, "name")),
					    "mz-themes");
	json_decref(s);
	char *by_new = listed_for("mz-themes"), *by_theme = listed_for("民政");
	assert_string_equal(by_new, by_theme);
	assert_true(strlen(by_new) > 0);
	free(by_new);
	free(by_theme);
	assert_int_equal(admin_call("group_patch", "{\"id\":\"民政\",\"name\":\"civil-affairs\"}"),
			 200);
}

static void store_failure_is_a_json_error(void **state)
{
	(void)state;
	th_sql(th_shared, "ALTER TABLE od_counters RENAME TO od_counters_away");
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	long st = th_get(c, "/api/v1/opendata/stats", &r);
	json_t *j = json_loadb(r.body ? r.body : "", r.len, 0, NULL);
	th_resp_release(&r);
	long page_st = th_get(c, "/data/stats", &r);
	th_resp_release(&r);
	th_client_free(c);
	th_sql(th_shared, "ALTER TABLE od_counters_away RENAME TO od_counters");
	assert_int_equal(st, 500);
	assert_int_equal(page_st, 500);
	assert_non_null(j);
	assert_true(json_is_string(json_object_get(json_object_get(j, "error"), "message")));
	assert_null(json_object_get(j, "use"));
	json_decref(j);
	/* and all is well again */
	json_decref(stats());
	/* a write to the figures is not a route */
	c = th_client_new(th_shared);
	assert_int_equal(th_request(c, "POST", "/api/v1/opendata/stats", "application/json", "{}",
				    2, NULL, &r),
			 405);
	th_resp_release(&r);
	th_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(use_through_the_routes),
		cmocka_unit_test(closed_datasets_never_named),
		cmocka_unit_test(requests_and_showcase),
		cmocka_unit_test(themes_linked_by_group_name),
		cmocka_unit_test(store_failure_is_a_json_error),
	};
	return cmocka_run_group_tests(tests, th_group_setup, th_group_teardown);
}
