/*
 * test_datastore.c - the DataStore end to end on the real app and its job
 * workers: CSV loads (BOM, GBK, bad rows, strict, overrides, re-upload
 * replacing the table atomically) and datastore_search / datastore_info
 * through their CKAN actions (filters, ranges, IN, q, fields, sort, paging,
 * distinct, formats, totals, and the validation errors).
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
#include "core/arena.h"
#include "harness.h"
#include "jobs/jobs.h"
#include "opendata/datastore/datastore.h"
#include "opendata/datastore/datastore_int.h"

static struct th_srv *srv;
static char tmpdir[] = "/tmp/dgov-ds-XXXXXX";

static struct dg_store *store(void)
{
	return th_app(srv)->env.store;
}

/* Write text to a new file in tmpdir; returns its path (malloc'd). */
static char *write_file(const char *name, const char *text)
{
	char *path = malloc(512);
	snprintf(path, 512, "%s/%s", tmpdir, name);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
	fclose(fp);
	return path;
}

/* Queue a load and wait for the job to end; returns the job JSON (owned). */
static json_t *load(const char *resource_id, const char *path, const char *options)
{
	struct dg_db *db = NULL;
	json_t *opts = options ? json_loads(options, 0, NULL) : NULL;
	int64_t id = 0;
	assert_int_equal(dg_db_get(store(), &db), DG_OK);
	assert_int_equal(dg_datastore_load_enqueue(db, resource_id, path, opts, 0, &id), DG_OK);
	json_decref(opts);
	dg_db_put(db);
	json_t *job = th_wait_job(srv, id);
	assert_non_null(job);
	return job;
}

static const char *state(json_t *job)
{
	return json_string_value(json_object_get(job, "state"));
}

/* Run one action as a request would; *res gets the result or NULL. */
static dg_rc action(dg_ckan_action_fn fn, const char *params, json_t **res, struct dg_err *err)
{
	struct dg_req r = {0};
	r.arena = dg_arena_new();
	r.env = &th_app(srv)->env;
	r.method = "POST";
	r.path = "/api/3/action/x";
	r.lang = "en";
	json_t *p = json_loads(params, 0, NULL);
	assert_non_null(p);
	memset(err, 0, sizeof *err);
	dg_rc rc = fn(&r, p, res, err);
	json_decref(p);
	dg_arena_free(r.arena);
	return rc;
}

static json_t *search(const char *params)
{
	struct dg_err err;
	json_t *res = NULL;
	dg_rc rc = action(dg_ckan_datastore_search, params, &res, &err);
	if (rc != DG_OK)
		fprintf(stderr, "search %s: %s (%s)\n", params, err.msg, err.field);
	assert_int_equal(rc, DG_OK);
	return res;
}

static long long jint(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static void bom_file_loads_with_types_and_labels(void **state_)
{
	(void)state_;
	char path[512];
	assert_non_null(realpath("tests/data/csv/bom_crlf.csv", path));
	json_t *job = load("res-bom", path, NULL);
	assert_string_equal(state(job), "done");
	json_decref(job);

	struct dg_err err;
	json_t *info = NULL;
	assert_int_equal(
		action(dg_ckan_datastore_info, "{\"resource_id\":\"res-bom\"}", &info, &err),
		DG_OK);
	assert_int_equal(jint(json_object_get(info, "meta"), "count"), 2);
	json_t *fields = json_object_get(info, "fields");
	assert_int_equal(json_array_size(fields), 4);
	json_t *f1 = json_array_get(fields, 1);
	/* the header is the name, as CKAN's loaders keep it, and the label too */
	assert_string_equal(json_string_value(json_object_get(f1, "id")), "编码");
	assert_string_equal(json_string_value(json_object_get(f1, "type")), "text"); /* "007" */
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(f1, "info"), "label")), "编码");
	/* answered by CKAN's name: PostgreSQL's int8, dgov's ints being 64-bit */
	assert_string_equal(json_string_value(json_object_get(json_array_get(fields, 3), "type")),
			    "int8");
	json_decref(info);

	json_t *res = search("{\"resource_id\":\"res-bom\",\"filters\":{\"编码\":\"010\"},"
			     "\"sort\":\"人口 desc\",\"fields\":[\"名称\",\"人口\"]}");
	json_t *rec = json_array_get(json_object_get(res, "records"), 0);
	assert_string_equal(json_string_value(json_object_get(rec, "名称")), "宁波市, 浙江");
	assert_int_equal(jint(rec, "人口"), 9618000);
	assert_int_equal(jint(res, "total"), 1);
	json_decref(res);
}

static void gbk_file_loads(void **state_)
{
	(void)state_;
	char path[512];
	assert_non_null(realpath("tests/data/csv/gbk.csv", path));
	json_t *job = load("res-gbk", path, NULL);
	assert_string_equal(state(job), "done");
	json_decref(job);
	json_t *res = search("{\"resource_id\":\"res-gbk\",\"filters\":{\"区划代码\":330200}}");
	json_t *rec = json_array_get(json_object_get(res, "records"), 0);
	assert_string_equal(json_string_value(json_object_get(rec, "名称")), "宁波市");
	json_decref(res);
}

/* 2000 generated rows plus one ragged row at line 1002. */
static char *people_csv(void)
{
	size_t cap = 1 << 20, len = 0;
	char *s = malloc(cap);
	len += (size_t)snprintf(s + len, cap - len, "id,Name,score,day,flag\n");
	for (int i = 1; i <= 2000; i++) {
		len += (size_t)snprintf(s + len, cap - len, "%d,person %d%s,%d.5,2024-01-%02d,%s\n",
					i, i, i % 100 == 0 ? " 北京" : "", i % 50 - 10, i % 28 + 1,
					i % 2 ? "true" : "false");
		if (i == 1000)
			len += (size_t)snprintf(s + len, cap - len, "1001,ragged\n");
	}
	return s;
}

static void load_people(void)
{
	char *csv = people_csv();
	char *path = write_file("people.csv", csv);
	json_t *job = load("res-people", path, NULL);
	assert_string_equal(state(job), "done");
	json_t *result = json_object_get(job, "result");
	assert_int_equal(jint(result, "rows"), 2000);
	assert_int_equal(jint(result, "bad_rows"), 1);
	json_t *e = json_array_get(json_object_get(result, "errors"), 0);
	assert_int_equal(jint(e, "line"), 1002);
	assert_non_null(strstr(json_string_value(json_object_get(e, "message")), "2 fields"));
	json_decref(job);
	free(path);
	free(csv);
}

static void search_filters_sort_paging(void **state_)
{
	(void)state_;
	load_people();
	/* no filter: total from the stored count */
	json_t *res = search("{\"resource_id\":\"res-people\",\"limit\":5,\"offset\":10}");
	assert_int_equal(jint(res, "total"), 2000);
	assert_int_equal(json_array_size(json_object_get(res, "records")), 5);
	json_t *rec = json_array_get(json_object_get(res, "records"), 0);
	assert_int_equal(jint(rec, "id"), 11);
	assert_true(json_is_real(json_object_get(rec, "score")));
	assert_true(json_is_boolean(json_object_get(rec, "flag")));
	assert_string_equal(json_string_value(json_object_get(rec, "day")), "2024-01-12");
	/* the default order is by _id: the next page continues by keyset, not offset */
	const char *next =
		json_string_value(json_object_get(json_object_get(res, "_links"), "next"));
	assert_non_null(strstr(next, "filters=%7B%22_id%22%3A%7B%22gt%22%3A15%7D%7D"));
	assert_null(strstr(next, "offset="));
	assert_int_equal(jint(json_object_get(json_object_get(res, "next_page"), "_id"), "gt"), 15);
	json_decref(res);
	/* another order pages by offset */
	res = search("{\"resource_id\":\"res-people\",\"limit\":5,\"offset\":10,"
		     "\"sort\":\"score desc\"}");
	assert_non_null(
		strstr(json_string_value(json_object_get(json_object_get(res, "_links"), "next")),
		       "offset=15"));
	assert_null(json_object_get(res, "next_page"));
	json_decref(res);
	/* a deep offset is refused with what to send instead */
	{
		struct dg_err e;
		json_t *none = NULL;
		assert_int_equal(action(dg_ckan_datastore_search,
					"{\"resource_id\":\"res-people\",\"offset\":10001}", &none,
					&e),
				 DG_EINVAL);
		assert_null(none);
		assert_string_equal(e.field, "offset");
		assert_non_null(strstr(e.msg, "keyset"));
		assert_non_null(strstr(e.msg, "\"_id\": {\"gt\""));
		res = search("{\"resource_id\":\"res-people\",\"offset\":10000}");
		json_decref(res);
	}

	/* equality, IN, range and sort */
	res = search("{\"resource_id\":\"res-people\",\"filters\":{\"id\":[3,4,5]},"
		     "\"sort\":\"id desc\"}");
	assert_int_equal(jint(res, "total"), 3);
	assert_int_equal(jint(json_array_get(json_object_get(res, "records"), 0), "id"), 5);
	json_decref(res);
	res = search("{\"resource_id\":\"res-people\",\"filters\":{\"id\":{\"gte\":1990,"
		     "\"lt\":1995},\"flag\":true},\"fields\":\"id,flag\"}");
	assert_int_equal(jint(res, "total"), 2); /* 1991, 1993 */
	rec = json_array_get(json_object_get(res, "records"), 1);
	assert_int_equal(jint(rec, "id"), 1993);
	assert_int_equal(json_object_size(rec), 2);
	json_decref(res);

	/* q over text columns */
	res = search("{\"resource_id\":\"res-people\",\"q\":\"北京\",\"limit\":100}");
	assert_int_equal(jint(res, "total"), 20);
	json_decref(res);

	/* filters as JSON text (GET) and include_total off */
	res = search("{\"resource_id\":\"res-people\",\"filters\":\"{\\\"score\\\":-9.5}\","
		     "\"include_total\":\"false\",\"limit\":\"1000\"}");
	assert_null(json_object_get(res, "total"));
	assert_int_equal(json_array_size(json_object_get(res, "records")), 40);
	json_decref(res);

	/* distinct and formats */
	res = search("{\"resource_id\":\"res-people\",\"distinct\":true,\"fields\":[\"flag\"]}");
	assert_int_equal(json_array_size(json_object_get(res, "records")), 2);
	json_decref(res);
	/* the header "Name" is the column's name, as CKAN's loaders keep it */
	res = search("{\"resource_id\":\"res-people\",\"records_format\":\"lists\",\"limit\":1,"
		     "\"fields\":[\"id\",\"Name\"]}");
	json_t *row = json_array_get(json_object_get(res, "records"), 0);
	assert_int_equal(json_integer_value(json_array_get(row, 0)), 1);
	assert_string_equal(json_string_value(json_array_get(row, 1)), "person 1");
	json_decref(res);
	res = search("{\"resource_id\":\"res-people\",\"records_format\":\"csv\",\"limit\":2,"
		     "\"fields\":[\"id\",\"Name\"],\"filters\":{\"id\":[100,1]},\"sort\":\"id\"}");
	assert_string_equal(json_string_value(json_object_get(res, "records")),
			    "1,person 1\n100,person 100 北京\n");
	json_decref(res);
}

static void search_errors(void **state_)
{
	(void)state_;
	struct dg_err err;
	json_t *res = NULL;
	assert_int_equal(action(dg_ckan_datastore_search,
				"{\"resource_id\":\"res-people\",\"filters\":{\"nope\":1}}", &res,
				&err),
			 DG_EINVAL);
	assert_string_equal(err.field, "filters");
	assert_non_null(strstr(err.msg, "\"nope\""));
	assert_int_equal(action(dg_ckan_datastore_search,
				"{\"resource_id\":\"res-people\",\"sort\":\"id; drop table x\"}",
				&res, &err),
			 DG_EINVAL);
	assert_string_equal(err.field, "sort");
	assert_int_equal(action(dg_ckan_datastore_search,
				"{\"resource_id\":\"res-people\",\"fields\":\"id,\\\"x\\\"\"}",
				&res, &err),
			 DG_EINVAL);
	assert_string_equal(err.field, "fields");
	assert_int_equal(action(dg_ckan_datastore_search,
				"{\"resource_id\":\"res-people\",\"limit\":32001}", &res, &err),
			 DG_EINVAL);
	assert_string_equal(err.field, "limit");
	assert_int_equal(action(dg_ckan_datastore_search,
				"{\"resource_id\":\"res-people\",\"filters\":{\"id\":\"abc\"}}",
				&res, &err),
			 DG_EINVAL);
	assert_non_null(strstr(err.msg, "is not int"));
	assert_int_equal(
		action(dg_ckan_datastore_search,
		       "{\"resource_id\":\"res-people\",\"filters\":{\"id\":{\"like\":1}}}", &res,
		       &err),
		DG_EINVAL);
	assert_int_equal(action(dg_ckan_datastore_search,
				"{\"resource_id\":\"res-people\",\"records_format\":\"xml\"}", &res,
				&err),
			 DG_EINVAL);
	assert_int_equal(
		action(dg_ckan_datastore_search, "{\"resource_id\":\"no-such\"}", &res, &err),
		DG_ENOTFOUND);
	assert_int_equal(action(dg_ckan_datastore_search, "{}", &res, &err), DG_EINVAL);
	assert_string_equal(err.field, "resource_id");
	assert_int_equal(action(dg_ckan_datastore_search_sql, "{\"sql\":\"SELECT 1\"}", &res, &err),
			 DG_EDENIED);
	assert_null(res);
}

static void bad_values_strict_and_overrides(void **state_)
{
	(void)state_;
	char *ok = write_file("codes.csv", "code,n\n007,1\n010,2\n");
	json_t *job = load("res-codes", ok, NULL);
	assert_string_equal(state(job), "done");
	json_decref(job);

	/* forcing code to int: non-strict skips both rows and reports them */
	job = load("res-codes", ok, "{\"types\":{\"code\":\"int\"}}");
	assert_string_equal(state(job), "done");
	assert_int_equal(jint(json_object_get(job, "result"), "bad_rows"), 2);
	json_decref(job);
	json_t *res = search("{\"resource_id\":\"res-codes\"}");
	assert_int_equal(jint(res, "total"), 0);
	json_decref(res);

	/* strict fails the job and the table in force stays as it was */
	job = load("res-codes", ok, NULL);
	json_decref(job);
	job = load("res-codes", ok, "{\"strict\":true,\"types\":{\"code\":\"int\"}}");
	assert_string_equal(state(job), "failed");
	assert_non_null(
		strstr(json_string_value(json_object_get(job, "error")), "Line 2, column 1"));
	json_decref(job);
	res = search("{\"resource_id\":\"res-codes\",\"filters\":{\"code\":\"007\"}}");
	assert_int_equal(jint(res, "total"), 1);
	json_decref(res);

	/* an override naming no column, an empty file, a header-only file */
	job = load("res-codes", ok, "{\"types\":{\"nope\":\"int\"}}");
	assert_string_equal(state(job), "failed");
	json_decref(job);
	char path[512];
	assert_non_null(realpath("tests/data/csv/empty.csv", path));
	job = load("res-empty", path, NULL);
	assert_string_equal(state(job), "failed");
	assert_non_null(strstr(json_string_value(json_object_get(job, "error")), "empty"));
	json_decref(job);
	assert_non_null(realpath("tests/data/csv/header_only.csv", path));
	job = load("res-header", path, NULL);
	assert_string_equal(state(job), "done");
	json_decref(job);
	res = search("{\"resource_id\":\"res-header\"}");
	assert_int_equal(jint(res, "total"), 0);
	assert_int_equal(json_array_size(json_object_get(res, "fields")), 4);
	json_decref(res);
	free(ok);

	/* bad options are refused when queued */
	struct dg_db *db = NULL;
	int64_t id;
	json_t *bad = json_loads("{\"types\":{\"a\":\"varchar\"}}", 0, NULL);
	assert_int_equal(dg_db_get(store(), &db), DG_OK);
	assert_int_equal(dg_datastore_load_enqueue(db, "res-x", "/tmp/x.csv", bad, 0, &id),
			 DG_EINVAL);
	json_decref(bad);
	dg_db_put(db);
}

static void reupload_replaces_the_table(void **state_)
{
	(void)state_;
	char *a = write_file("a.csv", "x,y\n1,a\n2,b\n3,c\n");
	char *b = write_file("b.csv", "x,z\n10,q\n");
	struct dg_db *db = NULL;
	struct dg_ds_table t1, t2;
	json_t *job = load("res-re", a, NULL);
	assert_string_equal(state(job), "done");
	json_decref(job);
	assert_int_equal(dg_db_get(store(), &db), DG_OK);
	assert_int_equal(dg_ds_sql_lookup(db, "res-re", &t1), DG_OK);
	dg_db_put(db);

	job = load("res-re", b, NULL);
	assert_string_equal(state(job), "done");
	json_decref(job);
	json_t *res = search("{\"resource_id\":\"res-re\"}");
	assert_int_equal(jint(res, "total"), 1);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(res, "records"), 0), "z")),
			    "q");
	json_decref(res);

	/* the old table is gone */
	assert_int_equal(dg_db_get(store(), &db), DG_OK);
	assert_int_equal(dg_ds_sql_lookup(db, "res-re", &t2), DG_OK);
	assert_string_not_equal(t1.table, t2.table);
	char sql[200];
	int64_t n;
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM \"%s\"", t1.table);
	assert_int_not_equal(dg_db_query_int(db, sql, DG_NOARGS, &n), DG_OK);
	bool exists = false;
	assert_int_equal(dg_datastore_exists(db, "res-re", &exists), DG_OK);
	assert_true(exists);
	assert_int_equal(dg_datastore_exists(db, "res-none", &exists), DG_OK);
	assert_false(exists);
	dg_db_put(db);
	json_decref(t1.fields);
	json_decref(t2.fields);
	free(a);
	free(b);
}

/* Quoted newlines, duplicate and blank headers, negatives, mixed codes. */
static void edge_cases_load(void **state_)
{
	(void)state_;
	char *p = write_file("edge.csv", "Name,name,code,delta,,note\r\n"
					 "a,b,1213,-3,x,\"two\r\nlines, \"\"quoted\"\"\"\r\n"
					 "c,d,0164A,12,y,\"tab\there \\ back\"\r\n"
					 "e,f,77,-0,z,plain\r\n");
	json_t *job = load("res-edge", p, NULL);
	assert_string_equal(state(job), "done");
	assert_int_equal(jint(json_object_get(job, "result"), "rows"), 3);
	assert_int_equal(jint(json_object_get(job, "result"), "bad_rows"), 0);
	json_decref(job);
	json_t *res = search("{\"resource_id\":\"res-edge\",\"sort\":\"_id\"}");
	json_t *fields = json_object_get(res, "fields");
	/* headers are names (CKAN's loaders); "name" is "Name" to SQLite, so it is made safe */
	const char *want[] = {"_id", "Name", "name_2", "code", "delta", "col_5"};
	for (size_t i = 0; i < 6; i++)
		assert_string_equal(
			json_string_value(json_object_get(json_array_get(fields, i), "id")),
			want[i]);
	/* "1213"/"0164A" stays text; -3 makes an int column */
	assert_string_equal(json_string_value(json_object_get(json_array_get(fields, 3), "type")),
			    "text");
	assert_string_equal(json_string_value(json_object_get(json_array_get(fields, 4), "type")),
			    "int8");
	json_t *recs = json_object_get(res, "records");
	assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 0), "note")),
			    "two\r\nlines, \"quoted\"");
	assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 1), "note")),
			    "tab\there \\ back");
	assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 1), "code")),
			    "0164A");
	assert_int_equal(jint(json_array_get(recs, 0), "delta"), -3);
	json_decref(res);
	res = search("{\"resource_id\":\"res-edge\",\"filters\":{\"delta\":{\"lt\":0}}}");
	assert_int_equal(jint(res, "total"), 1);
	json_decref(res);
	free(p);
}

/* One 10 MB field loads (and its column simply has no index where the store
 * cannot build one over such a value). */
static void ten_mb_field(void **state_)
{
	(void)state_;
	size_t big = 10u << 20;
	char *path = malloc(512);
	snprintf(path, 512, "%s/big.csv", tmpdir);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	fputs("id,blob\n1,\"", fp);
	for (size_t i = 0; i < big; i++)
		fputc(i % 1000 == 999 ? '\n' : 'a' + (int)(i % 26), fp);
	fputs("\"\n2,small\n", fp);
	fclose(fp);
	json_t *job = load("res-big", path, NULL);
	assert_string_equal(state(job), "done");
	assert_int_equal(jint(json_object_get(job, "result"), "rows"), 2);
	json_decref(job);
	struct dg_db *db = NULL;
	struct dg_ds_table t;
	int64_t n = 0;
	char sql[200];
	assert_int_equal(dg_db_get(store(), &db), DG_OK);
	assert_int_equal(dg_ds_sql_lookup(db, "res-big", &t), DG_OK);
	snprintf(sql, sizeof sql, "SELECT LENGTH(blob) FROM \"%s\" WHERE id = 1", t.table);
	assert_int_equal(dg_db_query_int(db, sql, DG_NOARGS, &n), DG_OK);
	assert_int_equal(n, (int64_t)big);
	json_decref(t.fields);
	dg_db_put(db);
	json_t *res = search("{\"resource_id\":\"res-big\",\"filters\":{\"blob\":\"small\"}}");
	assert_int_equal(jint(res, "total"), 1);
	json_decref(res);
	free(path);
}

static void wait_done(int64_t id)
{
	struct dg_db *db = NULL;
	json_t *job = NULL;
	assert_int_equal(dg_db_get(store(), &db), DG_OK);
	for (int i = 0; i < 1200; i++) {
		assert_int_equal(dg_job_get_json(db, id, &job), DG_OK);
		if (strcmp(state(job), "done") == 0 || strcmp(state(job), "failed") == 0)
			break;
		json_decref(job);
		job = NULL;
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	dg_db_put(db);
	assert_non_null(job);
	assert_string_equal(state(job), "done");
	json_decref(job);
}

/* The demo's twelve tables: generated the same way twice, all loaded. */
static void demo_tables(void **state_)
{
	(void)state_;
	char dir[600], cmd[1400];
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	int64_t first = 0, last = 0;
	snprintf(dir, sizeof dir, "%s/demo-data", tmpdir);
	assert_int_equal(dg_db_get(store(), &db), DG_OK);
	assert_int_equal(
		dg_db_query_int(db, "SELECT COALESCE(MAX(id), 0) FROM jobs", DG_NOARGS, &first),
		DG_OK);
	assert_int_equal(dg_datastore_demo_load(db, dir, 500, &err), DG_OK);
	snprintf(cmd, sizeof cmd, "cp %s/demo/market-entities.csv %s/me1.csv", dir, tmpdir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(dg_datastore_demo_load(db, dir, 500, &err), DG_OK);
	snprintf(cmd, sizeof cmd, "cmp -s %s/demo/market-entities.csv %s/me1.csv", dir, tmpdir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(dg_db_query_int(db, "SELECT MAX(id) FROM jobs", DG_NOARGS, &last), DG_OK);
	/* the loads only: the server may queue a job of its own meanwhile (a sweep) */
	int64_t loads = 0;
	assert_int_equal(dg_db_query_int(db,
					 "SELECT COUNT(*) FROM jobs WHERE id > ? AND kind = "
					 "'datastore.load'",
					 DG_ARGS(DG_VI(first)), &loads),
			 DG_OK);
	dg_db_put(db);
	assert_int_equal(loads, 24);
	for (int64_t id = first + 1; id <= last; id++)
		wait_done(id);
	json_t *res = search("{\"resource_id\":\"00000000-0000-4000-9000-000000000006\","
			     "\"filters\":{\"status\":\"存续\"},\"sort\":\"capital_wan desc\"}");
	assert_true(jint(res, "total") > 400 && jint(res, "total") < 500);
	json_t *fields = json_object_get(res, "fields");
	assert_string_equal(json_string_value(json_object_get(json_array_get(fields, 1), "type")),
			    "text"); /* uscc */
	json_decref(res);
	res = search("{\"resource_id\":\"00000000-0000-4000-9000-000000000009\","
		     "\"filters\":{\"change\":{\"lt\":0}}}");
	assert_true(jint(res, "total") > 0); /* negative yearly changes */
	json_decref(res);
}

static int setup(void **state_)
{
	(void)state_;
	struct th_opts o = {.demo = false, .job_workers = 2, .job_lease_sec = 5};
	if (!mkdtemp(tmpdir))
		return -1;
	srv = th_start_opts(&o);
	return srv ? 0 : -1;
}

static int teardown(void **state_)
{
	(void)state_;
	char cmd[128];
	th_stop(srv);
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bom_file_loads_with_types_and_labels),
		cmocka_unit_test(gbk_file_loads),
		cmocka_unit_test(search_filters_sort_paging),
		cmocka_unit_test(search_errors),
		cmocka_unit_test(bad_values_strict_and_overrides),
		cmocka_unit_test(reupload_replaces_the_table),
		cmocka_unit_test(edge_cases_load),
		cmocka_unit_test(ten_mb_field),
		cmocka_unit_test(demo_tables),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
