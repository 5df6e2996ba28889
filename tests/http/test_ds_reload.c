/*
 * test_ds_reload.c - datastore_load: the owning department's staff edit a
 * loaded table's column types and load its file again, over the CKAN API
 * with an API token. Overrides merge over the last load's (null removes
 * one), non-strict skips rows that do not fit and reports them, strict
 * fails and keeps the table in force; others are refused and nothing is
 * queued; a table not loaded from a file has nothing to reload.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "app/app.h"
#include "node/demo.h"
#include "harness.h"
#include "jobs/jobs.h"
#include "opendata/datastore/datastore.h"
#include "store/store.h"

/* The demo resource of elderly-care-institutions (department mz, open). */
#define RID "00000000-0000-4000-9000-000000000002"
/* The demo resource of employment-statistics (department rs). */
#define RS_RID "00000000-0000-4000-9000-000000000004"

static struct th_srv *srv;
static char tmpdir[] = "/tmp/dgov-dsre-XXXXXX";
static char *mz, *rs, *cit;

static char *token_header(const char *user)
{
	char *h = th_token_header(srv, user, DG_DEMO_PASSWORD);
	assert_non_null(h);
	return h;
}

static long call(const char *method, const char *who, const char *action, const char *body,
		 json_t **ans)
{
	struct th_client *c = th_client_new(srv);
	struct th_resp r = {0};
	char path[128];
	const char *h[] = {who, NULL};
	snprintf(path, sizeof path, "/api/3/action/%s", action);
	bool get = strcmp(method, "GET") == 0; /* a GET sends no body (with one, it is a POST) */
	long st = th_request(c, method, path, get ? NULL : "application/json", get ? NULL : body,
			     get ? 0 : strlen(body), who ? h : NULL, &r);
	*ans = json_loadb(r.body ? r.body : "", r.len, JSON_DECODE_ANY, NULL);
	th_resp_release(&r);
	th_client_free(c);
	return st;
}

static int64_t njobs(void)
{
	struct dg_db *db = NULL;
	int64_t n = 0;
	assert_int_equal(dg_db_get(th_app(srv)->env.store, &db), DG_OK);
	assert_int_equal(dg_db_query_int(db, "SELECT COUNT(*) FROM jobs", DG_NOARGS, &n), DG_OK);
	dg_db_put(db);
	return n;
}

static json_t *wait_job(int64_t id)
{
	json_t *job = th_wait_job(srv, id);
	assert_non_null(job);
	return job;
}

/* datastore_load as who; returns the finished job (owned) or NULL on refusal. */
static json_t *reload(const char *who, const char *body, long want)
{
	json_t *ans = NULL;
	long st = call("POST", who, "datastore_load", body, &ans);
	if (st != want) {
		char *s = json_dumps(ans, JSON_ENCODE_ANY);
		fail_msg("datastore_load %s: %ld, want %ld: %s", body, st, want, s ? s : "");
	}
	json_t *job = NULL;
	if (st == 200)
		job = wait_job(json_integer_value(
			json_object_get(json_object_get(ans, "result"), "job_id")));
	json_decref(ans);
	return job;
}

/* The type of field i (after _id) and the total. */
static void expect_table(const char *field, const char *type, long long total)
{
	json_t *ans = NULL;
	assert_int_equal(call("POST", NULL, "datastore_search",
			      "{\"resource_id\":\"" RID "\",\"limit\":0}", &ans),
			 200);
	json_t *res = json_object_get(ans, "result");
	assert_int_equal(json_integer_value(json_object_get(res, "total")), total);
	json_t *f;
	size_t i;
	bool seen = false;
	json_array_foreach (json_object_get(res, "fields"), i, f) {
		if (strcmp(json_string_value(json_object_get(f, "id")), field) == 0) {
			assert_string_equal(json_string_value(json_object_get(f, "type")), type);
			seen = true;
		}
	}
	assert_true(seen);
	json_decref(ans);
}

/* The total of datastore_search with q (JSON text): the table's full-text index in force. */
static long long q_total(const char *q)
{
	json_t *ans = NULL;
	char body[256];
	snprintf(body, sizeof body, "{\"resource_id\":\"" RID "\",\"limit\":0,\"q\":%s}", q);
	assert_int_equal(call("POST", NULL, "datastore_search", body, &ans), 200);
	long long n = json_integer_value(json_object_get(json_object_get(ans, "result"), "total"));
	json_decref(ans);
	return n;
}

static void edit_types_and_reload(void **state)
{
	(void)state;
	char path[600];
	snprintf(path, sizeof path, "%s/beds.csv", tmpdir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("name,beds,opened\na,10,2020-01-01\nb,n/a,2021-02-02\nc,30,soon\n", fp);
	fclose(fp);
	struct dg_db *db = NULL;
	int64_t id = 0;
	assert_int_equal(dg_db_get(th_app(srv)->env.store, &db), DG_OK);
	assert_int_equal(dg_datastore_load_enqueue(db, RID, path, NULL, 0, &id), DG_OK);
	dg_db_put(db);
	json_decref(wait_job(id));
	expect_table("beds", "text", 3); /* "n/a" keeps the column text */
	assert_int_equal(q_total("\"soon\""), 1);
	assert_int_equal(q_total("\"2021\""), 1);

	/* beds as int: the row that does not fit is skipped and reported */
	json_t *job = reload(mz, "{\"resource_id\":\"" RID "\",\"types\":{\"beds\":\"int\"}}", 200);
	assert_string_equal(json_string_value(json_object_get(job, "state")), "done");
	json_t *e = json_array_get(json_object_get(json_object_get(job, "result"), "errors"), 0);
	assert_int_equal(json_integer_value(json_object_get(e, "line")), 3);
	assert_int_equal(json_integer_value(json_object_get(e, "column")), 2);
	json_decref(job);
	expect_table("beds", "int8", 2);
	/* q reads the new table's index from the switch on: the skipped row is in neither */
	assert_int_equal(q_total("\"2021\""), 0);
	assert_int_equal(q_total("{\"beds\":\"30\"}"), 1);

	/* a second edit merges: opened becomes a date too, beds stays int */
	json_decref(
		reload(mz, "{\"resource_id\":\"" RID "\",\"types\":{\"opened\":\"date\"}}", 200));
	expect_table("opened", "date", 1);
	expect_table("beds", "int8", 1);
	assert_int_equal(q_total("\"soon\""), 0);
	assert_int_equal(q_total("\"2020 01\""), 1);

	/* strict: the job fails and the table in force stays */
	job = reload(mz, "{\"resource_id\":\"" RID "\",\"strict\":true}", 200);
	assert_string_equal(json_string_value(json_object_get(job, "state")), "failed");
	assert_non_null(
		strstr(json_string_value(json_object_get(job, "error")), "Line 3, column 2"));
	json_decref(job);
	expect_table("beds", "int8", 1);

	/* null removes the overrides: inference decides again */
	json_decref(reload(mz,
			   "{\"resource_id\":\"" RID "\",\"strict\":false,"
			   "\"types\":{\"beds\":null,\"opened\":null}}",
			   200));
	expect_table("beds", "text", 3);
	expect_table("opened", "text", 3);
	assert_int_equal(q_total("\"soon\""), 1);
	assert_int_equal(q_total("{\"beds\":\"n/a\"}"), 1);
}

static void refusals_queue_nothing(void **state)
{
	(void)state;
	int64_t before = njobs();
	json_t *ans = NULL;
	const char *body = "{\"resource_id\":\"" RID "\",\"types\":{\"beds\":\"int\"}}";
	assert_null(reload(NULL, body, 403));
	assert_null(reload(cit, body, 403));
	assert_null(reload(rs, body, 403));                                 /* another department */
	assert_int_equal(call("GET", mz, "datastore_load", "", &ans), 400); /* CKAN's POST-only */
	json_decref(ans);
	assert_null(
		reload(mz, "{\"resource_id\":\"" RID "\",\"types\":{\"beds\":\"varchar\"}}", 409));
	assert_null(reload(mz, "{\"resource_id\":\"" RID "\",\"types\":[1]}", 409));
	assert_null(reload(mz, "{\"resource_id\":\"" RID "\",\"strict\":\"yes\"}", 409));
	/* a table that came from datastore_create has no file */
	assert_int_equal(
		call("POST", rs, "datastore_create",
		     "{\"resource_id\":\"" RS_RID "\",\"force\":true,"
		     "\"fields\":[{\"id\":\"a\",\"type\":\"int\"}],\"records\":[{\"a\":1}]}",
		     &ans),
		200);
	json_decref(ans);
	int64_t mid = njobs();
	assert_null(reload(rs, "{\"resource_id\":\"" RS_RID "\"}", 409));
	assert_null(reload(mz, "{\"resource_id\":\"no-such-resource\"}", 404));
	assert_int_equal(njobs(), mid);
	assert_int_equal(mid, before);
}

static int setup(void **state)
{
	(void)state;
	srv = th_start_loads(tmpdir);
	if (!srv)
		return -1;
	mz = token_header(DG_DEMO_STAFF);
	rs = token_header(DG_DEMO_STAFF2);
	cit = token_header(DG_DEMO_CITIZEN);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(mz);
	free(rs);
	free(cit);
	th_stop_loads(srv, tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(edit_types_and_reload),
		cmocka_unit_test(refusals_queue_nothing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
