/*
 * test_ds_load_pipeline.c - a load's parser thread and its writer over a
 * file of many chunks and batches (DGOV_LOAD_BATCH_ROWS 5000, so a batch
 * spans two of the parser's chunks): a bad row
 * deep in the file is reported with its own line, the rows after it keep
 * their words in the full-text index (each document on its row), and a
 * strict load that meets it leaves nothing to read; a load stopped midway
 * (the workers stopping, as the server does) is handed back with the old
 * table in force and no half table left, then loads whole when workers run
 * again. Types are inferred from the file's first 10,000 records and the
 * rest checked as they are written: columns whose later records prove that
 * sample wrong (an int column with "1.5" or a word near the end, a column
 * empty at first) still get the types of the whole file, every row in.
 * A batch's one COPY spans the parser's chunks: files ending on a chunk's
 * or a batch's edge, or one past it, load every row once, and a bad record
 * that comes while a batch's COPY is open is reported (or, strict, fails
 * the load) as before.
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
#include "harness.h"
#include "jobs/jobs.h"
#include "opendata/datastore/datastore.h"
#include "opendata/datastore/datastore_int.h"

#define ROWS    30000
#define BAD_ROW 25611 /* the record whose score is "n/a": line BAD_ROW + 1 */

static struct th_srv *srv;
static char tmpdir[] = "/tmp/dgov-dsp-XXXXXX";

static struct dg_store *store(void)
{
	return th_app(srv)->env.store;
}

/*
 * ROWS records of six columns (ints, numbers, dates, booleans, text in two
 * scripts); record 7's name holds the word alpha and the last one's omega;
 * with bad, record BAD_ROW's score is "n/a".
 */
static char *big_csv(const char *name, bool bad)
{
	char *path = malloc(600);
	snprintf(path, 600, "%s/%s", tmpdir, name);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	fputs("id,name,score,day,flag,note\n", fp);
	for (int i = 1; i <= ROWS; i++) {
		const char *word = i == 7 ? " alpha" : i == ROWS ? " omega" : "";
		if (bad && i == BAD_ROW)
			fprintf(fp, "%d,person %d,n/a,2024-02-01,true,x\n", i, i);
		else
			fprintf(fp, "%d,person %d%s,%d.25,2024-%02d-%02d,%s,\"宁波 %d\"\n", i, i,
				word, i % 997, i % 12 + 1, i % 28 + 1, i % 2 ? "true" : "false",
				i % 10);
	}
	fclose(fp);
	return path;
}

static json_t *wait_job(int64_t id)
{
	json_t *job = th_wait_job(srv, id);
	assert_non_null(job);
	return job;
}

static int64_t enqueue(const char *resource_id, const char *path, const char *options)
{
	struct dg_db *db = NULL;
	json_t *opts = options ? json_loads(options, 0, NULL) : NULL;
	int64_t id = 0;
	assert_int_equal(dg_db_get(store(), &db), DG_OK);
	assert_int_equal(dg_datastore_load_enqueue(db, resource_id, path, opts, 0, &id), DG_OK);
	json_decref(opts);
	dg_db_put(db);
	return id;
}

static const char *state(json_t *job)
{
	return json_string_value(json_object_get(job, "state"));
}

static long long jint(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

/* datastore_search as a request would run it; the result (owned) or NULL when refused. */
static json_t *search(const char *params, dg_rc *rc_out)
{
	struct dg_req r = {0};
	struct dg_err err = {0};
	json_t *res = NULL;
	r.arena = dg_arena_new();
	r.env = &th_app(srv)->env;
	r.method = "POST";
	r.path = "/api/3/action/datastore_search";
	r.lang = "en";
	json_t *p = json_loads(params, 0, NULL);
	assert_non_null(p);
	dg_rc rc = dg_ckan_datastore_search(&r, p, &res, &err);
	json_decref(p);
	dg_arena_free(r.arena);
	if (rc_out)
		*rc_out = rc;
	else if (rc != DG_OK)
		fail_msg("datastore_search %s: %s", params, err.msg);
	return res;
}

/* The total of the resource's rows, with q when given. */
static long long total(const char *resource_id, const char *q)
{
	char params[300];
	snprintf(params, sizeof params, "{\"resource_id\":\"%s\",\"limit\":1%s%s%s}", resource_id,
		 q ? ",\"q\":\"" : "", q ? q : "", q ? "\"" : "");
	json_t *res = search(params, NULL);
	long long n = jint(res, "total");
	json_decref(res);
	return n;
}

/* The "id" column of the one row q finds: the row's document is its own. */
static long long id_of(const char *resource_id, const char *q)
{
	char params[300];
	snprintf(params, sizeof params, "{\"resource_id\":\"%s\",\"q\":\"%s\"}", resource_id, q);
	json_t *res = search(params, NULL);
	json_t *recs = json_object_get(res, "records");
	assert_int_equal(json_array_size(recs), 1);
	long long id = jint(json_array_get(recs, 0), "id");
	json_decref(res);
	return id;
}

/* Whether the store holds a table of that name. */
static bool table_exists(const char *table)
{
	char sql[300];
	struct dg_db *db = NULL;
	assert_int_equal(dg_db_get(store(), &db), DG_OK);
	bool pg = dg_db_kind(db) == DG_STORE_PG;
	dg_db_put(db);
	snprintf(sql, sizeof sql,
		 pg ? "SELECT COUNT(*) FROM pg_tables WHERE tablename = '%s'"
		    : "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'",
		 table);
	return th_sql_int(srv, sql) > 0;
}

/* A three-row table in force for resource_id. */
static void small_table(const char *resource_id)
{
	char *path = malloc(600);
	snprintf(path, 600, "%s/small-%s.csv", tmpdir, resource_id);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	fputs("id,name\n1,a\n2,b\n3,c\n", fp);
	fclose(fp);
	json_t *job = wait_job(enqueue(resource_id, path, NULL));
	assert_string_equal(state(job), "done");
	json_decref(job);
	free(path);
	assert_int_equal(total(resource_id, NULL), 3);
}

static void bad_row_deep_in_a_large_file(void **state_)
{
	(void)state_;
	char *path = big_csv("deep.csv", true);
	/* skipped and reported with its line; every other row, and its words, in place */
	json_t *job = wait_job(enqueue("res-deep", path, "{\"types\":{\"score\":\"numeric\"}}"));
	assert_string_equal(state(job), "done");
	json_t *result = json_object_get(job, "result");
	assert_int_equal(jint(result, "rows"), ROWS - 1);
	assert_int_equal(jint(result, "bad_rows"), 1);
	json_t *e = json_array_get(json_object_get(result, "errors"), 0);
	assert_int_equal(jint(e, "line"), BAD_ROW + 1);
	assert_int_equal(jint(e, "column"), 3);
	assert_non_null(strstr(json_string_value(json_object_get(e, "message")), "is not numeric"));
	json_decref(job);
	assert_int_equal(total("res-deep", NULL), ROWS - 1);
	assert_int_equal(id_of("res-deep", "alpha"), 7);
	assert_int_equal(id_of("res-deep", "omega"), ROWS); /* after the skipped row */
	assert_int_equal(total("res-deep", "person"), ROWS - 1);

	/* strict: the job fails at that line, and the table in force stays as it was */
	small_table("res-deep-strict");
	int64_t id = enqueue("res-deep-strict", path,
			     "{\"strict\":true,\"types\":{\"score\":\"numeric\"}}");
	job = wait_job(id);
	assert_string_equal(state(job), "failed");
	char want[64];
	snprintf(want, sizeof want, "Line %d, column 3", BAD_ROW + 1);
	assert_non_null(strstr(json_string_value(json_object_get(job, "error")), want));
	json_decref(job);
	assert_int_equal(total("res-deep-strict", NULL), 3);
	assert_int_equal(total("res-deep-strict", "omega"), 0);
	char table[DG_DS_TABLE_MAX];
	dg_ds_table_name("res-deep-strict", id, table);
	assert_false(table_exists(table));

	/* strict on a resource with no table: still none to read */
	job = wait_job(enqueue("res-deep-none", path,
			       "{\"strict\":true,\"types\":{\"score\":\"numeric\"}}"));
	assert_string_equal(state(job), "failed");
	json_decref(job);
	dg_rc rc = DG_OK;
	json_t *res = search("{\"resource_id\":\"res-deep-none\"}", &rc);
	assert_int_equal(rc, DG_ENOTFOUND);
	json_decref(res);
	free(path);
}

/*
 * ROWS records whose first LATE_FROM look like ints in every column; then
 * "amount" gets 1.5 once (numeric), "code" a word once (text), "later"
 * (empty until then) ints, "same" stays int.
 */
#define LATE_FROM 20000
static char *late_csv(const char *name)
{
	char *path = malloc(600);
	snprintf(path, 600, "%s/%s", tmpdir, name);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	fputs("id,amount,code,later,same\n", fp);
	for (int i = 1; i <= ROWS; i++) {
		const char *amount = i == ROWS - 10 ? "1.5" : "7";
		const char *code = i == ROWS - 5 ? "n/a" : "12";
		fprintf(fp, "%d,%s,%s,%s,%d\n", i, amount, code, i > LATE_FROM ? "3" : "", i % 5);
	}
	fclose(fp);
	return path;
}

/* The one record whose id is id; owned. */
static json_t *record(const char *resource_id, int id)
{
	char params[300];
	snprintf(params, sizeof params, "{\"resource_id\":\"%s\",\"filters\":{\"id\":%d}}",
		 resource_id, id);
	json_t *res = search(params, NULL);
	json_t *recs = json_object_get(res, "records");
	assert_int_equal(json_array_size(recs), 1);
	json_t *rec = json_incref(json_array_get(recs, 0));
	json_decref(res);
	return rec;
}

/* A field's type as datastore_search answers it. */
static const char *field_type(json_t *res, const char *id)
{
	size_t i;
	json_t *f;
	json_array_foreach (json_object_get(res, "fields"), i, f)
		if (strcmp(json_string_value(json_object_get(f, "id")), id) == 0)
			return json_string_value(json_object_get(f, "type"));
	fail_msg("no field %s", id);
	return NULL;
}

static void types_change_late(void **state_)
{
	(void)state_;
	char *path = late_csv("late.csv");
	/* strict too: a value that changes a column's type is no bad row */
	int64_t id = enqueue("res-late", path, "{\"strict\":true}");
	json_t *job = wait_job(id);
	assert_string_equal(state(job), "done");
	json_t *result = json_object_get(job, "result");
	assert_int_equal(jint(result, "rows"), ROWS);
	assert_int_equal(jint(result, "bad_rows"), 0);
	json_decref(job);
	char sql[200];
	snprintf(sql, sizeof sql, "SELECT progress_total FROM jobs WHERE id = %lld", (long long)id);
	assert_int_equal(th_sql_int(srv, sql), ROWS);

	json_t *res = search("{\"resource_id\":\"res-late\",\"limit\":1}", NULL);
	assert_string_equal(field_type(res, "id"), "int8");
	assert_string_equal(field_type(res, "amount"), "numeric");
	assert_string_equal(field_type(res, "code"), "text");
	assert_string_equal(field_type(res, "later"), "int8");
	assert_string_equal(field_type(res, "same"), "int8");
	assert_int_equal(jint(res, "total"), ROWS);
	json_decref(res);
	json_t *rec = record("res-late", ROWS - 10);
	assert_true(json_number_value(json_object_get(rec, "amount")) == 1.5);
	json_decref(rec);
	rec = record("res-late", ROWS - 5);
	assert_string_equal(json_string_value(json_object_get(rec, "code")), "n/a");
	json_decref(rec);
	rec = record("res-late", 1);
	assert_string_equal(json_string_value(json_object_get(rec, "code")), "12");
	assert_true(json_is_null(json_object_get(rec, "later")));
	json_decref(rec);
	rec = record("res-late", ROWS);
	assert_int_equal(jint(rec, "later"), 3);
	assert_true(json_number_value(json_object_get(rec, "amount")) == 7);
	json_decref(rec);
	/* the sampled attempt's table was dropped and made again: one table, each row once */
	assert_int_equal(total("res-late", NULL), ROWS);

	/* a type given for the column: the late value is a bad row, no second load */
	job = wait_job(enqueue("res-late-given", path, "{\"types\":{\"amount\":\"int\"}}"));
	assert_string_equal(state(job), "done");
	result = json_object_get(job, "result");
	assert_int_equal(jint(result, "rows"), ROWS - 1);
	assert_int_equal(jint(result, "bad_rows"), 1);
	assert_int_equal(jint(json_array_get(json_object_get(result, "errors"), 0), "line"),
			 ROWS - 10 + 1);
	json_decref(job);
	res = search("{\"resource_id\":\"res-late-given\",\"limit\":1}", NULL);
	assert_string_equal(field_type(res, "amount"), "int8");
	assert_string_equal(field_type(res, "code"), "text");
	json_decref(res);
	free(path);
}

static void load_stopped_midway(void **state_)
{
	(void)state_;
	struct dg_app *app = th_app(srv);
	char *path = big_csv("stop.csv", false);
	small_table("res-stop");
	int64_t id = enqueue("res-stop", path, NULL);
	char sql[200], table[DG_DS_TABLE_MAX];
	snprintf(sql, sizeof sql, "SELECT progress_done FROM jobs WHERE id = %lld", (long long)id);
	/* a batch committed (a pause after each keeps the load going a while) */
	int64_t done = 0;
	for (int i = 0; i < 1200 && done == 0; i++) {
		th_sleep_ms(25);
		done = th_sql_int(srv, sql);
	}
	assert_true(done > 0 && done < ROWS);
	dg_jobs_stop(app->jobs);
	app->jobs = NULL;
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM jobs WHERE id = %lld AND state = 'queued'",
		 (long long)id);
	assert_int_equal(th_sql_int(srv, sql), 1);
	assert_int_equal(total("res-stop", NULL), 3);
	dg_ds_table_name("res-stop", id, table);
	assert_false(table_exists(table));

	/* workers again: the job starts over and loads the whole file */
	assert_int_equal(dg_app_start_jobs(app, 1, 5), DG_OK);
	json_t *job = wait_job(id);
	assert_string_equal(state(job), "done");
	assert_int_equal(jint(json_object_get(job, "result"), "rows"), ROWS);
	json_decref(job);
	assert_int_equal(total("res-stop", NULL), ROWS);
	assert_int_equal(id_of("res-stop", "omega"), ROWS);
	free(path);
}

/*
 * n records "i,word i" (i from 1); with bad > 0, record bad's id is
 * "n/a" (not an int).
 */
static char *n_csv(const char *name, int n, int bad)
{
	char *path = malloc(600);
	snprintf(path, 600, "%s/%s", tmpdir, name);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	fputs("id,name\n", fp);
	for (int i = 1; i <= n; i++) {
		if (i == bad)
			fprintf(fp, "n/a,word %d\n", i);
		else
			fprintf(fp, "%d,word %d\n", i, i);
	}
	fclose(fp);
	return path;
}

/* The table's highest _id: each row is written once, in file order. */
static long long last_id(const char *resource_id)
{
	char params[300];
	snprintf(params, sizeof params,
		 "{\"resource_id\":\"%s\",\"limit\":1,\"sort\":\"_id desc\"}", resource_id);
	json_t *res = search(params, NULL);
	long long id = jint(json_array_get(json_object_get(res, "records"), 0), "_id");
	json_decref(res);
	return id;
}

/*
 * A batch's rows go in one COPY across the parser's chunks (4096 rows):
 * files ending on a chunk's or a batch's (5000 here) edge, or one row past
 * it, load every row once, in order, with the job's progress exact.
 */
static void chunk_and_batch_edges(void **state_)
{
	(void)state_;
	const int sizes[] = {4095, 4096, 4097, 5000, 5001, 8192, 8193, 10000};
	for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
		int n = sizes[k];
		char name[64], res_id[64], sql[200];
		snprintf(name, sizeof name, "edge-%d.csv", n);
		snprintf(res_id, sizeof res_id, "res-edge-%d", n);
		char *path = n_csv(name, n, 0);
		int64_t id = enqueue(res_id, path, "{\"strict\":true}");
		json_t *job = wait_job(id);
		assert_string_equal(state(job), "done");
		assert_int_equal(jint(json_object_get(job, "result"), "rows"), n);
		json_decref(job);
		snprintf(sql, sizeof sql, "SELECT progress_done FROM jobs WHERE id = %lld",
			 (long long)id);
		assert_int_equal(th_sql_int(srv, sql), n);
		assert_int_equal(total(res_id, NULL), n);
		assert_int_equal(last_id(res_id), n);
		int probe[] = {1, n / 2, n - 1, n};
		for (size_t j = 0; j < 4; j++) {
			json_t *rec = record(res_id, probe[j]);
			assert_int_equal(jint(rec, "_id"), probe[j]);
			json_decref(rec);
		}
		free(path);
	}
}

/*
 * A bad record in a batch's second chunk, so the batch's COPY is open with
 * the first chunk's rows when it comes: strict, the job fails with its line
 * and the table in force stays whole, the new one gone; not strict, it is
 * reported with its line and every other row is in.
 */
static void bad_row_while_a_copy_is_open(void **state_)
{
	(void)state_;
	const int n = 20000, bad = 14000;
	char *path = n_csv("open.csv", n, bad);
	small_table("res-open");
	int64_t id = enqueue("res-open", path, "{\"strict\":true,\"types\":{\"id\":\"int\"}}");
	json_t *job = wait_job(id);
	assert_string_equal(state(job), "failed");
	char want[64];
	snprintf(want, sizeof want, "Line %d, column 1", bad + 1);
	assert_non_null(strstr(json_string_value(json_object_get(job, "error")), want));
	json_decref(job);
	assert_int_equal(total("res-open", NULL), 3);
	char table[DG_DS_TABLE_MAX];
	dg_ds_table_name("res-open", id, table);
	assert_false(table_exists(table));

	job = wait_job(enqueue("res-open", path, "{\"types\":{\"id\":\"int\"}}"));
	assert_string_equal(state(job), "done");
	json_t *result = json_object_get(job, "result");
	assert_int_equal(jint(result, "rows"), n - 1);
	assert_int_equal(jint(result, "bad_rows"), 1);
	assert_int_equal(jint(json_array_get(json_object_get(result, "errors"), 0), "line"),
			 bad + 1);
	json_decref(job);
	assert_int_equal(total("res-open", NULL), n - 1);
	json_t *rec = record("res-open", bad + 1);
	assert_int_equal(jint(rec, "_id"), bad);
	json_decref(rec);
	rec = record("res-open", n);
	assert_int_equal(jint(rec, "_id"), n - 1);
	json_decref(rec);
	free(path);
}

static int setup(void **state_)
{
	(void)state_;
	struct th_opts o = {.demo = false, .job_workers = 1, .job_lease_sec = 5};
	if (!mkdtemp(tmpdir))
		return -1;
	/* many batches, and a pause after each: a load long enough to stop midway */
	setenv("DGOV_LOAD_BATCH_ROWS", "5000", 1);
	setenv("DGOV_LOAD_PAUSE_MS", "300", 1);
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
		cmocka_unit_test(bad_row_deep_in_a_large_file),
		cmocka_unit_test(load_stopped_midway),
		cmocka_unit_test(types_change_late),
		cmocka_unit_test(chunk_and_batch_edges),
		cmocka_unit_test(bad_row_while_a_copy_is_open),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
