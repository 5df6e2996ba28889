/*
 * test_ds_load_index.c - a load's table is readable from its switch and its
 * full-text index is built right after by the same job: meanwhile q is
 * refused with an error naming q ("being built") and never answered from a
 * part of the index, reads without q and writes go on, and once the job is
 * done q finds every row as it is then (a row updated, inserted or deleted
 * during the build included), each indexed once. A load stopped in that
 * window leaves a table whose q works after the start's rebuild, and whose
 * retried job completes the index itself.
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

#define ROWS 30000

static struct th_srv *srv;
static char tmpdir[] = "/tmp/dgov-dsi-XXXXXX";

static struct dg_store *store(void)
{
	return th_app(srv)->env.store;
}

/* ROWS records; record 7's name holds the word alpha and the last one's omega. */
static char *big_csv(const char *name)
{
	char *path = malloc(600);
	snprintf(path, 600, "%s/%s", tmpdir, name);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	fputs("id,name,day\n", fp);
	for (int i = 1; i <= ROWS; i++)
		fprintf(fp, "%d,person %d%s 宁波,2024-%02d-%02d\n", i, i,
			i == 7      ? " alpha"
			: i == ROWS ? " omega"
				    : "",
			i % 12 + 1, i % 28 + 1);
	fclose(fp);
	return path;
}

static int64_t enqueue(const char *resource_id, const char *path)
{
	struct dg_db *db = NULL;
	int64_t id = 0;
	assert_int_equal(dg_db_get(store(), &db), DG_OK);
	assert_int_equal(dg_datastore_load_enqueue(db, resource_id, path, NULL, 0, &id), DG_OK);
	dg_db_put(db);
	return id;
}

static long long jint(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

/* datastore_search as a request runs it: the result (owned) or NULL, with rc and err. */
static json_t *search(const char *params, dg_rc *rc, struct dg_err *err)
{
	struct dg_req r = {0};
	json_t *res = NULL;
	r.arena = dg_arena_new();
	r.env = &th_app(srv)->env;
	r.method = "POST";
	r.path = "/api/3/action/datastore_search";
	r.lang = "en";
	json_t *p = json_loads(params, 0, NULL);
	assert_non_null(p);
	*rc = dg_ckan_datastore_search(&r, p, &res, err);
	json_decref(p);
	dg_arena_free(r.arena);
	return res;
}

/* The total for params, which must be answered. */
static long long total(const char *params)
{
	struct dg_err err = {0};
	dg_rc rc;
	json_t *res = search(params, &rc, &err);
	if (rc != DG_OK)
		fail_msg("datastore_search %s: %s", params, err.msg);
	long long n = jint(res, "total");
	json_decref(res);
	return n;
}

/* q (a JSON value) is refused as the index being built. */
static void q_refused(const char *resource_id, const char *q)
{
	char params[300];
	struct dg_err err = {0};
	dg_rc rc;
	snprintf(params, sizeof params, "{\"resource_id\":\"%s\",\"q\":%s}", resource_id, q);
	json_t *res = search(params, &rc, &err);
	assert_null(res);
	assert_int_equal(rc, DG_EINVAL);
	assert_string_equal(err.field, "q");
	assert_non_null(strstr(err.msg, "being built"));
}

/* The total q (a JSON value) finds. */
static long long q_total(const char *resource_id, const char *q)
{
	char params[300];
	snprintf(params, sizeof params, "{\"resource_id\":\"%s\",\"limit\":1,\"q\":%s}",
		 resource_id, q);
	return total(params);
}

static long long rows_of(const char *resource_id)
{
	char params[200];
	snprintf(params, sizeof params, "{\"resource_id\":\"%s\",\"limit\":1}", resource_id);
	return total(params);
}

/* Whether the index of the job's table is recorded as built. */
static bool built(const char *resource_id, int64_t job)
{
	char table[DG_DS_TABLE_MAX], sql[200];
	dg_ds_table_name(resource_id, job, table);
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM search_built WHERE name = '%s_q'", table);
	return th_sql_int(srv, sql) > 0;
}

static long long doc_count(const char *resource_id, int64_t job)
{
	char table[DG_DS_TABLE_MAX], sql[200];
	dg_ds_table_name(resource_id, job, table);
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s_q", table);
	return th_sql_int(srv, sql);
}

/* Wait until the job's table is in force with every row (its index not yet built). */
static void wait_switch(const char *resource_id, int64_t job)
{
	char sql[300];
	snprintf(
		sql, sizeof sql,
		"SELECT COUNT(*) FROM datastore_tables WHERE resource_id = '%s' AND row_count = %d",
		resource_id, ROWS);
	for (int i = 0; i < 2400 && th_sql_int(srv, sql) == 0; i++)
		th_sleep_ms(10);
	assert_int_equal(th_sql_int(srv, sql), 1);
	assert_false(built(resource_id, job));
}

static json_t *ds_write(const char *what, const char *params)
{
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	json_t *p = json_loads(params, 0, NULL), *res = NULL;
	assert_non_null(p);
	assert_int_equal(dg_db_get(store(), &db), DG_OK);
	dg_rc rc = strcmp(what, "delete") == 0 ? dg_ds_delete(db, "res-ix", p, true, &res, &err)
					       : dg_ds_upsert(db, "res-ix", p, &res, &err);
	if (rc != DG_OK)
		fail_msg("%s %s: %s", what, params, err.msg);
	dg_db_put(db);
	json_decref(p);
	return res;
}

static void readable_before_indexed(void **state_)
{
	(void)state_;
	char *path = big_csv("ix.csv");
	int64_t id = enqueue("res-ix", path);
	wait_switch("res-ix", id);

	/* every row readable; q refused, as a string and as an object */
	assert_int_equal(rows_of("res-ix"), ROWS);
	q_refused("res-ix", "\"alpha\"");
	q_refused("res-ix", "{\"name\":\"omega\"}");
	/* a q without a word reads no index: it matches nothing, as always */
	assert_int_equal(q_total("res-ix", "\"!!\""), 0);

	/* writes meanwhile: a row the build has not reached renamed, one deleted, one added */
	json_decref(ds_write("upsert", "{\"method\":\"update\",\"records\":[{\"_id\":29999,"
				       "\"name\":\"renamed zeta\"}]}"));
	json_decref(ds_write("delete", "{\"filters\":{\"id\":7}}"));
	json_decref(ds_write("upsert", "{\"method\":\"insert\",\"records\":[{\"id\":30001,"
				       "\"name\":\"new eta\",\"day\":\"2024-05-05\"}]}"));
	assert_false(built("res-ix", id));
	q_refused("res-ix", "\"zeta\"");

	json_t *job = th_wait_job(srv, id);
	assert_non_null(job);
	assert_string_equal(json_string_value(json_object_get(job, "state")), "done");
	json_decref(job);
	assert_true(built("res-ix", id));
	/* q finds every row as it is now, each once */
	assert_int_equal(q_total("res-ix", "\"alpha\""), 0);
	assert_int_equal(q_total("res-ix", "{\"name\":\"omega\"}"), 1);
	assert_int_equal(q_total("res-ix", "\"zeta\""), 1);
	assert_int_equal(q_total("res-ix", "{\"name\":\"29999\"}"), 0);
	assert_int_equal(q_total("res-ix", "\"eta\""), 1);
	assert_int_equal(q_total("res-ix", "\"person\""), ROWS - 2);
	assert_int_equal(q_total("res-ix", "\"宁波\""), ROWS - 2);
	assert_int_equal(doc_count("res-ix", id), ROWS);
	free(path);
}

/* Stop the job's workers while its index is built: the job goes back to the queue. */
static int64_t stop_while_indexing(const char *resource_id, const char *path)
{
	struct dg_app *app = th_app(srv);
	int64_t id = enqueue(resource_id, path);
	char sql[200];
	wait_switch(resource_id, id);
	dg_jobs_stop(app->jobs);
	app->jobs = NULL;
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM jobs WHERE id = %lld AND state = 'queued'",
		 (long long)id);
	assert_int_equal(th_sql_int(srv, sql), 1);
	/* the table stays readable, its index unfinished: q is still refused */
	assert_int_equal(rows_of(resource_id), ROWS);
	assert_false(built(resource_id, id));
	q_refused(resource_id, "\"omega\"");
	return id;
}

static void stopped_while_indexing(void **state_)
{
	(void)state_;
	struct dg_app *app = th_app(srv);
	char *path = big_csv("stop.csv");

	/* the start's rebuild completes it: q works before any job runs again */
	int64_t id = stop_while_indexing("res-ix-a", path);
	struct dg_db *db = NULL;
	assert_int_equal(dg_db_get(store(), &db), DG_OK);
	assert_int_equal(dg_datastore_fts_rebuild(db), DG_OK);
	dg_db_put(db);
	assert_true(built("res-ix-a", id));
	assert_int_equal(q_total("res-ix-a", "\"omega\""), 1);
	assert_int_equal(q_total("res-ix-a", "\"person\""), ROWS);
	/* and the retried job finds its table in force and indexed: it ends done */
	assert_int_equal(dg_app_start_jobs(app, 1, 5), DG_OK);
	json_t *job = th_wait_job(srv, id);
	assert_string_equal(json_string_value(json_object_get(job, "state")), "done");
	json_decref(job);
	assert_int_equal(doc_count("res-ix-a", id), ROWS);

	/* with no rebuild, the retried job completes the index itself */
	id = stop_while_indexing("res-ix-b", path);
	assert_int_equal(dg_app_start_jobs(app, 1, 5), DG_OK);
	job = th_wait_job(srv, id);
	assert_string_equal(json_string_value(json_object_get(job, "state")), "done");
	json_decref(job);
	assert_true(built("res-ix-b", id));
	assert_int_equal(q_total("res-ix-b", "\"alpha\""), 1);
	assert_int_equal(q_total("res-ix-b", "\"person\""), ROWS);
	assert_int_equal(doc_count("res-ix-b", id), ROWS);
	free(path);
}

static int setup(void **state_)
{
	(void)state_;
	struct th_opts o = {.demo = false, .job_workers = 1, .job_lease_sec = 5};
	if (!mkdtemp(tmpdir))
		return -1;
	/* batches of 5000 rows with a pause after each: the index's build takes a while */
	setenv("DGOV_LOAD_BATCH_ROWS", "5000", 1);
	setenv("DGOV_LOAD_PAUSE_MS", "400", 1);
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
		cmocka_unit_test(readable_before_indexed),
		cmocka_unit_test(stopped_while_indexing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
