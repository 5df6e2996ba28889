/*
 * test_ds_load_crash.c - a datastore load survives its server being killed
 * mid-way, and readers never see a half-loaded table.
 *
 * It drives the real binary (DGOV_BIN, default build/dgov) on one store
 * (DGOV_TEST_DB, or a temporary SQLite file): `dgov serve` with a 2 s job
 * lease loads a 3-row CSV for a resource, then a generated CSV of ROWS rows
 * is queued for the same resource; once a few batches are committed the
 * server is SIGKILLed and started again. All along, datastore_search over
 * HTTP must report either the old 3 rows or all ROWS rows, nothing between;
 * at the end the table holds exactly ROWS rows with distinct ids, the job
 * shows a second attempt, and no half table is left behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "harness.h"
#include "opendata/datastore/datastore.h"
#include "opendata/datastore/datastore_int.h"
#include "store/store.h"

#define ROWS 400000
#define RES  "crash-res"

static char small_csv[300], big_csv[300];

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	struct dg_buf *b = arg;
	return dg_buf_add(b, p, size * n) == DG_OK ? size * n : 0;
}

/* datastore_search's total over HTTP; -1 when the server does not answer. */
static long long search_total(const struct th_proc *c)
{
	char url[200];
	snprintf(url, sizeof url,
		 "http://127.0.0.1:%s/api/3/action/datastore_search?resource_id=" RES "&limit=1",
		 c->port);
	struct dg_buf b;
	dg_buf_init(&b, 1 << 20);
	CURL *h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	long status = 0;
	long long total = -1;
	if (curl_easy_perform(h) == CURLE_OK &&
	    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200) {
		json_t *j = json_loads(dg_buf_str(&b), 0, NULL);
		json_t *res = json_object_get(j, "result");
		total = json_integer_value(json_object_get(res, "total"));
		/* the rows a reader gets agree with the total */
		if (total > 0)
			assert_int_equal(json_array_size(json_object_get(res, "records")), 1);
		json_decref(j);
	}
	curl_easy_cleanup(h);
	dg_buf_release(&b);
	return total;
}

/* Readers see the old table or the whole new one. */
static void check_reader(const struct th_proc *c)
{
	long long t = search_total(c);
	if (t != -1 && t != 3 && t != ROWS)
		fail_msg("datastore_search saw %lld rows mid-load", t);
}

static void job_state(struct dg_store *s, int64_t id, int64_t *done, int64_t *attempts,
		      char state[16])
{
	struct dg_db *db = NULL;
	struct dg_rows *r = NULL;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_db_query(db,
				     "SELECT progress_done, attempts, state FROM jobs WHERE id = ?",
				     DG_ARGS(DG_VI(id)), &r),
			 DG_OK);
	assert_int_equal(dg_rows_next(r), DG_OK);
	*done = dg_rows_int(r, 0);
	*attempts = dg_rows_int(r, 1);
	snprintf(state, 16, "%s", dg_rows_text(r, 2));
	dg_rows_free(r);
	dg_db_put(db);
}

static int64_t enqueue(struct dg_store *s, const char *path)
{
	struct dg_db *db = NULL;
	int64_t id = 0;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_datastore_load_enqueue(db, RES, path, NULL, 0, &id), DG_OK);
	dg_db_put(db);
	return id;
}

/* Wait for the job to be done (or, min_done > 0, to have that many rows). */
static void wait_job(const struct th_proc *c, struct dg_store *s, int64_t id, pid_t srv,
		     int64_t min_done, long timeout_ms)
{
	int64_t done = 0, attempts = 0;
	char st[16] = "";
	for (long waited = 0; waited < timeout_ms; waited += 20) {
		job_state(s, id, &done, &attempts, st);
		if (strcmp(st, "failed") == 0)
			fail_msg("the load failed (see %s)", c->log);
		if (min_done > 0 ? done >= min_done && strcmp(st, "done") != 0
				 : strcmp(st, "done") == 0)
			return;
		if (min_done > 0 && strcmp(st, "done") == 0)
			fail_msg("the load ended before it could be interrupted");
		if (waitpid(srv, NULL, WNOHANG) == srv)
			fail_msg("dgov serve exited early (see %s)", c->log);
		if (waited % 200 == 0)
			check_reader(c);
		th_sleep_ms(20);
	}
	fail_msg("job %lld: %s, %lld rows after %ld ms", (long long)id, st, (long long)done,
		 timeout_ms);
}

static int64_t query_int(struct dg_store *s, const char *sql)
{
	struct dg_db *db = NULL;
	int64_t v = -1;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_db_query_int(db, sql, DG_NOARGS, &v), DG_OK);
	dg_db_put(db);
	return v;
}

/* The folder and store, and the two CSV files: 3 rows, then ROWS rows. */
static void setup_paths(struct th_proc *c)
{
	th_proc_init(c, "dgov-dscrash");
	snprintf(small_csv, sizeof small_csv, "%s/small.csv", c->dir);
	snprintf(big_csv, sizeof big_csv, "%s/big.csv", c->dir);
	FILE *fp = fopen(small_csv, "w");
	assert_non_null(fp);
	fputs("id,name\n1,a\n2,b\n3,c\n", fp);
	fclose(fp);
	fp = fopen(big_csv, "w");
	assert_non_null(fp);
	fputs("id,code,name,amount,day\n", fp);
	for (int i = 1; i <= ROWS; i++)
		fprintf(fp, "%d,%06d,\"row %d, 第%d行\",%d.%02d,2024-%02d-%02d\n", i, i % 1000, i,
			i, i % 5000 - 2500, i % 100, i % 12 + 1, i % 28 + 1);
	fclose(fp);
}

/* Wait until the server answers /readyz (its store is reachable). */
static void wait_up(const struct th_proc *c, pid_t srv)
{
	char url[100];
	snprintf(url, sizeof url, "http://127.0.0.1:%s/readyz", c->port);
	for (int i = 0; i < 300; i++) {
		CURL *h = curl_easy_init();
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 2000L);
		CURLcode cc = curl_easy_perform(h);
		curl_easy_cleanup(h);
		if (cc == CURLE_OK)
			return;
		if (waitpid(srv, NULL, WNOHANG) == srv)
			fail_msg("dgov serve exited early (see %s)", c->log);
		th_sleep_ms(50);
	}
	fail_msg("dgov serve did not answer (see %s)", c->log);
}

static void kill_mid_load(void **state)
{
	(void)state;
	struct th_proc c = {0};
	struct dg_store *s = NULL;
	struct dg_ds_table t;
	struct dg_db *db = NULL;
	int64_t done = 0, attempts = 0;
	char st[16], sql[300];
	setup_paths(&c);
	/* short batches with a pause: the load takes long enough to be caught in the middle on a
	 * fast machine */
	setenv("DGOV_LOAD_BATCH_ROWS", "2000", 1);
	setenv("DGOV_LOAD_PAUSE_MS", "20", 1);
	pid_t srv = th_proc_serve(&c);
	wait_up(&c, srv); /* the server has created and migrated the store */
	assert_int_equal(dg_store_open(c.db, 2, &s, NULL), DG_OK);

	int64_t first = enqueue(s, small_csv);
	wait_job(&c, s, first, srv, 0, 30000);
	assert_int_equal(search_total(&c), 3);
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_ds_sql_lookup(db, RES, &t), DG_OK);
	dg_db_put(db);
	char old[DG_DS_TABLE_MAX];
	snprintf(old, sizeof old, "%s", t.table);
	json_decref(t.fields);

	/* the big load, killed once two batches are committed */
	int64_t id = enqueue(s, big_csv);
	wait_job(&c, s, id, srv, 40000, 120000);
	kill(srv, SIGKILL);
	assert_int_equal(waitpid(srv, NULL, 0), srv);
	job_state(s, id, &done, &attempts, st);
	assert_string_not_equal(st, "done");
	assert_true(done >= 40000 && done < ROWS);
	/* the old table is still the resource's, whole */
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_ds_sql_lookup(db, RES, &t), DG_OK);
	dg_db_put(db);
	assert_string_equal(t.table, old);
	assert_int_equal(t.row_count, 3);
	json_decref(t.fields);

	srv = th_proc_serve(&c);
	wait_up(&c, srv);
	check_reader(&c);
	wait_job(&c, s, id, srv, 0, 180000);
	assert_int_equal(search_total(&c), ROWS);
	job_state(s, id, &done, &attempts, st);
	assert_true(attempts >= 2);
	th_proc_stop(srv);

	/* exactly the file's rows, each once; the old and the half tables are gone */
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_ds_sql_lookup(db, RES, &t), DG_OK);
	dg_db_put(db);
	assert_string_not_equal(t.table, old);
	assert_int_equal(t.row_count, ROWS);
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM \"%s\"", t.table);
	assert_int_equal(query_int(s, sql), ROWS);
	snprintf(sql, sizeof sql, "SELECT COUNT(DISTINCT id) FROM \"%s\"", t.table);
	assert_int_equal(query_int(s, sql), ROWS);
	snprintf(sql, sizeof sql, "SELECT MIN(id) + MAX(id) FROM \"%s\"", t.table);
	assert_int_equal(query_int(s, sql), ROWS + 1);
	/* its full-text index holds each row once too, the half load's words gone */
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s_q", t.table);
	assert_int_equal(query_int(s, sql), ROWS);
	json_decref(t.fields);
	assert_int_equal(
		query_int(s, dg_store_kind(s) == DG_STORE_PG
				     ? "SELECT COUNT(*) FROM information_schema.tables"
				       " WHERE table_schema = 'public'"
				       " AND table_name LIKE 'ds\\_%' ESCAPE '\\'"
				       " AND table_name NOT LIKE '%\\_q%' ESCAPE '\\'"
				     : "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
				       " AND name LIKE 'ds\\_%' ESCAPE '\\'"
				       " AND name NOT LIKE '%\\_q%' ESCAPE '\\'"),
		1);
	dg_store_close(s);
	th_proc_cleanup(&c);
}

int main(void)
{
	dg_log_set_level(DG_LOG_OFF);
	curl_global_init(CURL_GLOBAL_ALL);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kill_mid_load),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
