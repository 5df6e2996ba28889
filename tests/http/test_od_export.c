/*
 * test_od_export.c - a large DataStore table prepared as a file in the
 * background (issue 15 point 15), through the real server and its job
 * worker, on the store DGOV_TEST_DB selects: the dataset page offers it
 * for a large table only, with the size before; the job page shows the
 * progress of a running export with a plain "check again" link and no
 * refresh; the file is the whole table (a BOM, the labels, every row) and
 * goes only to the person who asked, while they may still read the table
 * and while it is kept; the sweep removes files past their time; bad input
 * and requests without CSRF or sign-in change nothing. Its counts on the
 * pages are grouped by thousands ("10,050"), the API's are numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <cmocka.h>
#include <jansson.h>

#include "app/app.h"
#include "core/failpoint.h"
#include "jobs/jobs.h"
#include "node/demo.h"
#include "harness.h"

#define BIG      "minimum-living-allowance"
#define BIG_RID  "00000000-0000-4000-9000-000000000001"
#define BIG_PAGE "/data/datasets/" BIG
#define EXPORT   BIG_PAGE "/resources/" BIG_RID "/export"
#define NROWS    10050

static struct th_srv *srv;
static char dir[] = "/tmp/dgov-export-XXXXXX";

static long ckan(const char *user, const char *action, const char *json)
{
	char *auth = th_token_header(srv, user, DG_DEMO_PASSWORD), path[96];
	const char *h[] = {auth, NULL};
	struct th_client *c = th_client_new(srv);
	struct th_resp r = {0};
	snprintf(path, sizeof path, "/api/3/action/%s", action);
	long st = th_request(c, "POST", path, "application/json", json, strlen(json), h, &r);
	if (st != 200)
		fprintf(stderr, "%s: %ld %s\n", action, st, r.body ? r.body : "");
	th_resp_release(&r);
	th_client_free(c);
	free(auth);
	return st;
}

/* The big table: NROWS rows, labelled, made by the department's staff (5000 a call). */
static int setup(void **state)
{
	(void)state;
	srv = th_start_loads(dir);
	if (!srv)
		return -1;
	long st = ckan(DG_DEMO_STAFF, "datastore_create",
		       "{\"resource_id\":\"" BIG_RID "\",\"force\":true,\"fields\":["
		       "{\"id\":\"district\",\"type\":\"text\",\"info\":{\"label\":\"区县\","
		       "\"label_en\":\"District\"}},{\"id\":\"n\",\"type\":\"int\"}]}");
	size_t cap = (size_t)5000 * 48 + 1024;
	char *b = malloc(cap);
	for (int from = 0; st == 200 && from < NROWS; from += 5000) {
		size_t n = (size_t)snprintf(b, cap,
					    "{\"resource_id\":\"" BIG_RID "\",\"force\":true,"
					    "\"method\":\"insert\",\"records\":[");
		for (int i = from; i < from + 5000 && i < NROWS; i++)
			n += (size_t)snprintf(b + n, cap - n, "%s{\"district\":\"区%d\",\"n\":%d}",
					      i > from ? "," : "", i % 10, i);
		snprintf(b + n, cap - n, "]}");
		st = ckan(DG_DEMO_STAFF, "datastore_upsert", b);
	}
	free(b);
	return st == 200 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	th_stop_loads(srv, dir);
	return 0;
}

static int64_t exports(void)
{
	return th_sql_int(srv, "SELECT COUNT(*) FROM jobs WHERE kind = 'datastore.export'");
}

/* POST the export form as c (a CSRF token taken from the dataset page); the job's id. */
static int64_t start(struct th_client *c, const char *format, long want)
{
	char *csrf = th_csrf(c, BIG_PAGE), body[256];
	struct th_resp r = {0};
	snprintf(body, sizeof body, "csrf=%s&format=%s", csrf ? csrf : "", format);
	long st = th_post_form(c, EXPORT, body, &r);
	assert_int_equal(st, want);
	int64_t id = 0;
	char *loc = st == 303 ? th_header(&r, "Location") : NULL;
	if (loc) {
		assert_int_equal(strncmp(loc, "/data/exports/", 14), 0);
		id = strtoll(loc + 14, NULL, 10);
	}
	free(loc);
	th_resp_release(&r);
	free(csrf);
	return id;
}

static void offered_for_large_tables(void **state)
{
	(void)state;
	struct th_client *anon = th_client_new(srv);
	struct th_client *cit = th_signed_in(srv, DG_DEMO_CITIZEN);
	char *b = th_get_body(anon, BIG_PAGE, 200);
	assert_non_null(strstr(b, "此数据表较大"));
	assert_non_null(strstr(b, "/login?next="));
	assert_null(strstr(b, "action=\"" EXPORT "\""));
	free(b);
	b = th_get_body(cit, BIG_PAGE, 200);
	assert_non_null(strstr(b, "action=\"" EXPORT "\""));
	assert_non_null(strstr(b, "再下载。 (约 ")); /* the size, shown before */
	free(b);
	/* a small table: the dumps alone */
	b = th_get_body(cit, "/data/datasets/employment-statistics", 200);
	assert_null(strstr(b, "/export\""));
	free(b);
	th_client_free(anon);
	th_client_free(cit);
}

/*
 * Issue 14: counts on the pages have a comma between groups of three
 * digits, in Chinese and in English (the row count beside the resource,
 * the preview's totals, the API page, the staff's list); the API answers
 * keep the numbers.
 */
static void counts_for_people(void **state)
{
	(void)state;
	struct th_client *anon = th_client_new(srv);
	char *b = th_get_body(anon, BIG_PAGE, 200);
	assert_non_null(strstr(b, "行数 10,050"));
	assert_non_null(strstr(b, "总记录数： 10,050 · 符合筛选： 10,050"));
	assert_non_null(strstr(b, "第 1 / 503</caption>"));
	assert_null(strstr(b, "10050"));
	free(b);
	b = th_get_body(anon, BIG_PAGE "?col=district&val=%E5%8C%BA3", 200);
	assert_non_null(strstr(b, "符合筛选： 1,005"));
	free(b);
	b = th_get_body(anon, BIG_PAGE "/resources/" BIG_RID "/api", 200);
	assert_non_null(strstr(b, "<dd>10,050</dd>"));
	free(b);
	struct th_resp r = {0};
	const char *hdr[] = {"Accept-Language: en", NULL};
	assert_int_equal(th_request(anon, "GET", BIG_PAGE, NULL, NULL, 0, hdr, &r), 200);
	assert_non_null(strstr(r.body, "Rows 10,050"));
	th_resp_release(&r);
	th_client_free(anon);
	/* the staff's list of their datasets */
	struct th_client *mz = th_signed_in(srv, DG_DEMO_STAFF);
	b = th_get_body(mz, "/data/manage", 200);
	assert_non_null(strstr(b, ">10,050</td>"));
	free(b);
	th_client_free(mz);
	/* the API: numbers */
	json_t *j = th_get_json(srv, "/api/3/action/datastore_search?limit=1&resource_id=" BIG_RID,
				200);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "result"), "total")),
			 NROWS);
	json_decref(j);
}

static void bad_requests_change_nothing(void **state)
{
	(void)state;
	struct th_client *anon = th_client_new(srv);
	struct th_client *cit = th_signed_in(srv, DG_DEMO_CITIZEN);
	struct th_resp r = {0};
	int64_t before = exports();
	/* no CSRF token; not signed in; a format not offered; a resource not the dataset's */
	assert_int_equal(th_post_form(cit, EXPORT, "csrf=wrong&format=csv", NULL), 403);
	assert_true(th_post_form(anon, EXPORT, "format=csv", NULL) >= 300);
	assert_int_equal(start(cit, "pdf", 400), 0);
	char *csrf = th_csrf(cit, BIG_PAGE);
	char body[160];
	snprintf(body, sizeof body, "csrf=%s&format=csv", csrf);
	assert_int_equal(th_post_form(cit,
				      "/data/datasets/employment-statistics/resources/" BIG_RID
				      "/export",
				      body, &r),
			 404);
	th_resp_release(&r);
	/* a closed dataset's table is not there for a resident */
	assert_int_equal(th_post_form(cit,
				      "/data/datasets/sj-internal-case-ledger/resources/"
				      "00000000-0000-4000-9000-000000000012/export",
				      body, NULL),
			 404);
	free(csrf);
	assert_int_equal(exports(), before);
	/* someone else's export, or none: the same 404 */
	assert_int_equal(th_get(cit, "/data/exports/999999", NULL), 404);
	assert_int_equal(th_get(cit, "/data/exports/abc/file", NULL), 404);
	th_client_free(anon);
	th_client_free(cit);
}

static char *file_of(struct th_client *c, int64_t id, long want, struct th_resp *r)
{
	char path[64];
	snprintf(path, sizeof path, "/data/exports/%lld/file", (long long)id);
	assert_int_equal(th_get(c, path, r), want);
	return r->body;
}

static void export_progress_and_file(void **state)
{
	(void)state;
	struct dg_err err = {0};
	struct th_client *cit = th_signed_in(srv, DG_DEMO_CITIZEN);
	struct th_client *other = th_signed_in(srv, DG_DEMO_CITIZEN2);
	struct th_resp r = {0};
	char path[64];
	/* held after its first page: the page shows how far it got */
	assert_int_equal(dg_failpoint_set("datastore.export.page=hold", &err), DG_OK);
	int64_t id = start(cit, "csv", 303);
	assert_true(id > 0);
	for (int i = 0; i < 600 && dg_failpoint_fired("datastore.export.page") < 1; i++)
		th_sleep_ms(50);
	assert_true(dg_failpoint_fired("datastore.export.page") >= 1);
	snprintf(path, sizeof path, "/data/exports/%lld", (long long)id);
	char *b = th_get_body(cit, path, 200);
	assert_non_null(strstr(b, "<progress"));
	assert_non_null(strstr(b, "max=\"10050\" value=\"1000\""));
	/* the bar takes the numbers, the words beside it the counts for people */
	assert_non_null(strstr(b, "(1,000 / 10,050 "));
	assert_non_null(strstr(b, "再查看一次"));
	assert_non_null(strstr(b, "href=\"/data/exports/"));
	assert_null(strstr(b, "http-equiv"));
	assert_null(strstr(b, "/file\""));
	free(b);
	/* not ready: no file yet */
	file_of(cit, id, 404, &r);
	th_resp_release(&r);
	assert_int_equal(dg_failpoint_set("", &err), DG_OK);
	json_t *job = th_wait_job(srv, id);
	assert_string_equal(json_string_value(json_object_get(job, "state")), "done");
	json_decref(job);
	b = th_get_body(cit, path, 200);
	assert_non_null(strstr(b, "文件已准备好"));
	assert_non_null(strstr(b, "/file\""));
	assert_non_null(strstr(b, "保留到"));
	assert_non_null(strstr(b, ">10,050<")); /* rows, for people */
	assert_null(strstr(b, ">10050<"));
	free(b);
	/* the whole table: the BOM, the Chinese labels, every row */
	char *csv = file_of(cit, id, 200, &r);
	assert_int_equal(memcmp(csv, "\xef\xbb\xbf", 3), 0);
	assert_int_equal(strncmp(csv + 3, "_id,区县,n\r\n", strlen("_id,区县,n\r\n")), 0);
	size_t lines = 0;
	for (const char *p = csv; (p = strstr(p, "\r\n")); p += 2)
		lines++;
	assert_int_equal(lines, NROWS + 1);
	char *disp = th_header(&r, "Content-Disposition");
	assert_non_null(strstr(disp, "filename=\"" BIG ".csv\""));
	free(disp);
	th_resp_release(&r);
	/* someone else: as if there were none */
	assert_int_equal(th_get(other, path, NULL), 404);
	file_of(other, id, 404, &r);
	th_resp_release(&r);
	/* access is checked again: a dataset made conditional is refused, then open again */
	assert_int_equal(ckan(DG_DEMO_STAFF, "package_patch",
			      "{\"id\":\"" BIG "\",\"extras\":[{\"key\":\"open_tier\","
			      "\"value\":\"conditional\"}]}"),
			 200);
	file_of(cit, id, 403, &r);
	th_resp_release(&r);
	assert_int_equal(ckan(DG_DEMO_STAFF, "package_patch",
			      "{\"id\":\"" BIG "\",\"extras\":[{\"key\":\"open_tier\","
			      "\"value\":\"open\"}]}"),
			 200);
	file_of(cit, id, 200, &r);
	th_resp_release(&r);
	/* past its time: gone, said so, and the file removed */
	char sql[512], file[600];
	snprintf(sql, sizeof sql,
		 "UPDATE jobs SET result = '{\"resource_id\":\"" BIG_RID "\",\"format\":\"csv\","
		 "\"dataset\":\"" BIG
		 "\",\"bytes\":1,\"rows\":1,\"expires_ms\":1}' WHERE id = %lld",
		 (long long)id);
	th_sql(srv, sql);
	snprintf(file, sizeof file, "%s/exports/%lld.csv", th_app(srv)->env.cfg->data_dir,
		 (long long)id);
	assert_int_equal(access(file, F_OK), 0);
	file_of(cit, id, 404, &r);
	assert_non_null(strstr(r.body, "超过保留时间"));
	th_resp_release(&r);
	assert_int_equal(access(file, F_OK), -1);
	th_client_free(cit);
	th_client_free(other);
}

static void xlsx_in_english_and_sweep(void **state)
{
	(void)state;
	struct th_client *en = th_signed_in(srv, DG_DEMO_CITIZEN);
	struct th_resp r = {0};
	assert_int_equal(th_get(en, "/prefs?lang=en", NULL), 303);
	int64_t id = start(en, "xlsx", 303);
	json_t *job = th_wait_job(srv, id);
	assert_string_equal(json_string_value(json_object_get(job, "state")), "done");
	json_decref(job);
	char path[64], file[600];
	snprintf(path, sizeof path, "/data/exports/%lld", (long long)id);
	char *b = th_get_body(en, path, 200);
	assert_non_null(strstr(b, "Your file is ready"));
	assert_non_null(strstr(b, "Kept until"));
	free(b);
	char *x = file_of(en, id, 200, &r);
	assert_int_equal(memcmp(x, "PK", 2), 0); /* a zip: the workbook */
	th_resp_release(&r);
	/* the sweep: a file older than its keeping time goes, a new one stays */
	snprintf(file, sizeof file, "%s/exports/%lld.xlsx", th_app(srv)->env.cfg->data_dir,
		 (long long)id);
	struct utimbuf old = {.actime = 1000, .modtime = 1000};
	assert_int_equal(utime(file, &old), 0);
	struct dg_db *db = NULL;
	int64_t sweep = 0;
	assert_int_equal(dg_db_get(th_app(srv)->env.store, &db), DG_OK);
	json_t *p = json_object();
	assert_int_equal(dg_job_enqueue(db, "datastore.export_sweep", p, 0, NULL, &sweep), DG_OK);
	json_decref(p);
	dg_db_put(db);
	job = th_wait_job(srv, sweep);
	assert_string_equal(json_string_value(json_object_get(job, "state")), "done");
	json_decref(job);
	assert_int_equal(access(file, F_OK), -1);
	file_of(en, id, 404, &r);
	assert_non_null(strstr(r.body, "removed"));
	th_resp_release(&r);
	th_client_free(en);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(offered_for_large_tables),
		cmocka_unit_test(bad_requests_change_nothing),
		cmocka_unit_test(export_progress_and_file),
		cmocka_unit_test(counts_for_people),
		cmocka_unit_test(xlsx_in_english_and_sweep),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
