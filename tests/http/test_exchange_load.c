/*
 * test_exchange_load.c - bulk CSV loads of a registry, through the real
 * server (one job worker) on the store DGOV_TEST_DB selects: a load of a
 * few hundred records read back through the exchange's record read and
 * updated through the record API, with a change log entry each and the
 * personal values sealed at rest (the raw tables read); a second load that
 * updates; a monthly registry keyed by blind index; each refusal (bad
 * header, unknown field, bad value with its line, wrong department,
 * oversized) with nothing changed; the staging table never readable through
 * datastore_search or datastore_search_sql while a load is held at a
 * failpoint; a failed batch retried; and no staging table left, the sweep
 * dropping a crash's leftover.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>

#include <cmocka.h>
#include <jansson.h>

#include "app/app.h"
#include "core/failpoint.h"
#include "exchange/internal.h"
#include "harness.h"
#include "jobs/jobs.h"
#include "node/demo.h"
#include "store/store.h"

#define LOAD_CAP 65536 /* DGOV_EXCHANGE_LOAD_MAX for this binary */

static struct th_srv *srv;
static char dir[] = "/tmp/dgov-xload-XXXXXX";
static char *mz_tok, *rs_tok, *cit_tok, *admin_tok;

/* POST body to path with auth; the status, *out the JSON reply (owned, may be NULL). */
static long post(const char *auth, const char *path, const char *type, const char *body,
		 json_t **out)
{
	struct th_client *cl = th_client_new(srv);
	const char *hdrs[] = {auth, NULL};
	struct th_resp r = {0};
	long st = th_request(cl, "POST", path, type, body, strlen(body), auth ? hdrs : NULL, &r);
	if (out)
		*out = r.body ? json_loads(r.body, 0, NULL) : NULL;
	th_resp_release(&r);
	th_client_free(cl);
	return st;
}

/* Load csv into registry as mz's staff; the job's JSON once it ended (owned). */
static json_t *load(const char *registry, const char *csv)
{
	char path[200];
	json_t *j = NULL;
	snprintf(path, sizeof path, "/api/exchange/registries/%s/load?effective=2026-11-01",
		 registry);
	assert_int_equal(post(mz_tok, path, "text/csv", csv, &j), 202);
	int64_t id = json_integer_value(json_object_get(j, "job_id"));
	assert_true(id > 0);
	json_decref(j);
	json_t *job = th_wait_job(srv, id);
	assert_non_null(job);
	return job;
}

static const char *state_of(json_t *job)
{
	return json_string_value(json_object_get(job, "state"));
}

static const char *error_of(json_t *job)
{
	const char *e = json_string_value(json_object_get(job, "error"));
	return e ? e : "";
}

/* Staging tables in the store now. */
static int64_t staged_tables(void)
{
	struct dg_db *db = NULL;
	int64_t n = -1;
	assert_int_equal(dg_db_get(th_app(srv)->env.store, &db), DG_OK);
	bool pg = dg_db_kind(db) == DG_STORE_PG;
	dg_db_put(db);
	n = th_sql_int(srv,
		       pg ? "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()"
			    " AND substr(tablename, 1, 4) = 'dsx_'"
			  : "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
			    " AND substr(name, 1, 4) = 'dsx_'");
	return n;
}

static int64_t loaded(void)
{
	return th_sql_int(srv, "SELECT COUNT(*) FROM xr_records WHERE registry = 'household'"
			       " AND rkey LIKE 'HLT%'");
}

static int64_t changes(void)
{
	return th_sql_int(srv, "SELECT COUNT(*) FROM xr_changes WHERE registry = 'household'"
			       " AND rkey LIKE 'HLT%'");
}

/* n household records HLT0001..: size i % 7 + 1, an address, every third on dibao. */
static char *households(int n, int bad_line)
{
	size_t cap = (size_t)n * 120 + 200, len = 0;
	char *s = malloc(cap);
	assert_non_null(s);
	len += (size_t)snprintf(s + len, cap - len, "id,region,size,address,dibao,dibao_amount\n");
	for (int i = 1; i <= n; i++) {
		char size[16];
		snprintf(size, sizeof size, "%d", i % 7 + 1);
		len += (size_t)snprintf(s + len, cap - len,
					"HLT%04d,990102,%s,\"示范市幸福路%d号, 2单元\",%s,%s\r\n",
					i, i + 1 == bad_line ? "three" : size, i,
					i % 3 ? "false" : "true", i % 3 ? "" : "612.50");
	}
	return s;
}

/* The record stored for id, read as the exchange reads it (values owned by the caller). */
static dg_rc read_record(const char *registry, const char *id, struct x_record *rec,
			 struct dg_arena *a)
{
	struct dg_app *app = th_app(srv);
	struct dg_db *db = NULL;
	const struct dg_entity *e = x_registry(registry);
	assert_non_null(e);
	assert_int_equal(dg_db_get(app->env.store, &db), DG_OK);
	dg_rc rc = x_record_read(&app->env, db, a, e, x_record_key(&app->env, a, e, id), rec);
	dg_db_put(db);
	return rc;
}

static void load_records(void **state)
{
	(void)state;
	char *csv = households(300, 0);
	json_t *job = load("household", csv);
	free(csv);
	assert_string_equal(state_of(job), "done");
	json_t *res = json_object_get(job, "result");
	assert_int_equal(json_integer_value(json_object_get(res, "rows")), 300);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(job, "progress"), "done")),
		600); /* each record staged, then applied */
	json_decref(job);
	assert_int_equal(loaded(), 300);
	/* one change each, a create, dated as the load says */
	assert_int_equal(changes(), 300);
	assert_int_equal(th_sql_int(srv, "SELECT COUNT(*) FROM xr_changes WHERE registry ="
					 " 'household' AND rkey LIKE 'HLT%' AND op = 'create'"
					 " AND effective = '2026-11-01' AND actor LIKE 'user:%'"),
			 300);
	/* the address (personal) and dibao (sensitive) are sealed at rest */
	assert_int_equal(th_sql_int(srv, "SELECT COUNT(*) FROM xr_records WHERE registry ="
					 " 'household' AND rkey LIKE 'HLT%' AND (data LIKE"
					 " '%幸福路%' OR data LIKE '%dibao%' OR sealed LIKE"
					 " '%幸福路%' OR sealed IS NULL)"),
			 0);
	assert_int_equal(th_sql_int(srv, "SELECT COUNT(*) FROM xr_changes WHERE data LIKE"
					 " '%幸福路%' OR sealed LIKE '%幸福路%'"),
			 0);
	/* read back as the exchange reads it */
	struct dg_arena *a = dg_arena_new();
	struct x_record rec;
	assert_int_equal(read_record("household", "HLT0003", &rec, a), DG_OK);
	assert_string_equal(json_string_value(json_object_get(rec.values, "address")),
			    "示范市幸福路3号, 2单元");
	assert_int_equal(json_integer_value(json_object_get(rec.values, "size")), 4);
	assert_true(json_is_true(json_object_get(rec.values, "dibao")));
	assert_string_equal(json_string_value(json_object_get(rec.values, "dibao_amount")),
			    "612.50");
	assert_string_equal(rec.effective, "2026-11-01");
	json_decref(rec.values);
	dg_arena_free(a);
	/* and through the exchange API, by a department with a bulk grant (sizes in clear,
	 * dibao masked) */
	struct th_client *cl = th_client_new(srv);
	const char *hdrs[] = {"X-Dgov-Client: sj/match", "X-Dgov-Key: " X_DEMO_SJ_KEY,
			      "X-Dgov-Purpose: policy:elder_subsidy",
			      "X-Dgov-Request-Id: test-xload-0001", NULL};
	struct th_resp r = {0};
	assert_int_equal(th_request(cl, "GET",
				    "/x/v1/household?fields=size,dibao&limit=2&after=HLT0002", NULL,
				    NULL, 0, hdrs, &r),
			 200);
	json_t *envelope = json_loads(r.body, 0, NULL);
	json_t *ans = json_object_get(envelope, "answer");
	th_resp_release(&r);
	th_client_free(cl);
	json_t *first = json_array_get(json_object_get(ans, "records"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "id")), "HLT0003");
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(first, "fields"), "size")), 4);
	assert_string_equal(json_string_value(json_array_get(json_object_get(first, "masked"), 0)),
			    "dibao");
	json_decref(envelope);
	/* the record API sees them: an update works, a second create is a conflict */
	json_t *j = NULL;
	assert_int_equal(post(mz_tok, "/api/exchange/registries/household/records/HLT0003",
			      "application/json", "{\"values\": {\"size\": 5}}", &j),
			 200);
	json_decref(j);
	assert_int_equal(post(mz_tok, "/api/exchange/registries/household/records",
			      "application/json",
			      "{\"id\": \"HLT0004\", \"values\": {\"size\": 5}}", &j),
			 409);
	json_decref(j);
	assert_int_equal(staged_tables(), 0);
}

static void load_updates(void **state)
{
	(void)state;
	int64_t before = changes();
	/* an empty cell leaves the field as it was */
	json_t *job = load("household", "id,size,address\nHLT0001,6,\nHLT0301,2,新村1号\n");
	assert_string_equal(state_of(job), "done");
	json_decref(job);
	assert_int_equal(changes(), before + 2);
	assert_int_equal(th_sql_int(srv, "SELECT COUNT(*) FROM xr_changes WHERE registry ="
					 " 'household' AND rkey = 'HLT0001' AND op = 'update'"),
			 1);
	struct dg_arena *a = dg_arena_new();
	struct x_record rec;
	assert_int_equal(read_record("household", "HLT0001", &rec, a), DG_OK);
	assert_int_equal(json_integer_value(json_object_get(rec.values, "size")), 6);
	assert_string_equal(json_string_value(json_object_get(rec.values, "address")),
			    "示范市幸福路1号, 2单元");
	json_decref(rec.values);
	assert_int_equal(read_record("household", "HLT0301", &rec, a), DG_OK);
	json_decref(rec.values);
	dg_arena_free(a);
}

static void load_monthly_personal(void **state)
{
	(void)state;
	json_t *job = load("benefits", "id,dibao@2026-09,dibao@2026-10\n"
				       "990100198001010018,paid,paid\n"
				       "990100198001010034,,applied\n");
	assert_string_equal(state_of(job), "done");
	json_decref(job);
	/* the ID is kept only as its blind index; the months sealed */
	assert_int_equal(th_sql_int(srv, "SELECT COUNT(*) FROM xr_records WHERE registry ="
					 " 'benefits' AND (rkey LIKE '990100198001%' OR data"
					 " LIKE '%paid%' OR data LIKE '%applied%')"),
			 0);
	struct dg_arena *a = dg_arena_new();
	struct x_record rec;
	assert_int_equal(read_record("benefits", "990100198001010018", &rec, a), DG_OK);
	json_t *m = json_object_get(rec.values, "dibao");
	assert_string_equal(json_string_value(json_object_get(m, "2026-09")), "paid");
	assert_string_equal(json_string_value(json_object_get(m, "2026-10")), "paid");
	json_decref(rec.values);
	assert_int_equal(read_record("benefits", "990100198001010034", &rec, a), DG_OK);
	m = json_object_get(rec.values, "dibao");
	assert_null(json_object_get(m, "2026-09"));
	assert_string_equal(json_string_value(json_object_get(m, "2026-10")), "applied");
	json_decref(rec.values);
	dg_arena_free(a);
}

/* A load that must fail with want in its error, changing nothing. */
static void refused(const char *registry, const char *csv, const char *want)
{
	int64_t records = th_sql_int(srv, "SELECT COUNT(*) FROM xr_records"),
		versions = th_sql_int(srv, "SELECT COUNT(*) FROM xr_changes");
	json_t *job = load(registry, csv);
	assert_string_equal(state_of(job), "failed");
	if (!strstr(error_of(job), want))
		fail_msg("error \"%s\" does not say \"%s\"", error_of(job), want);
	/* refused at once: the input can never load */
	assert_int_equal(json_integer_value(json_object_get(job, "attempts")), 1);
	json_decref(job);
	assert_int_equal(th_sql_int(srv, "SELECT COUNT(*) FROM xr_records"), records);
	assert_int_equal(th_sql_int(srv, "SELECT COUNT(*) FROM xr_changes"), versions);
	assert_int_equal(staged_tables(), 0);
}

static void bad_files(void **state)
{
	(void)state;
	refused("household", "region,size\n990102,3\n", "the header has no id column");
	refused("household", "id,size,colour\nHLT0900,3,red\n", "household has no field colour");
	refused("household", "id,size,size\nHLT0900,3,4\n", "column 3 (size) is twice");
	refused("benefits", "id,dibao\n990100198001010018,paid\n", "dibao is monthly");
	refused("benefits", "id,dibao@2026-13\n990100198001010018,paid\n", "Line 2:");
	/* a bad value on line 151: nothing of the 150 records before it is written */
	char *csv = households(300, 151);
	refused("household", csv, "Line 151: size is not a valid int");
	free(csv);
	refused("household", "id,size\nHLT0900,3\nHLT 0901,4\n", "Line 3: id is");
	refused("household", "id,size\nHLT0900,3\nHLT0902,4,5\n", "Line 3: 3 fields");
	refused("household", "id,size\n,3\n", "Line 2: the ID (id) is empty");
	refused("household", "id,size\nHLT0900,\n", "Line 2: values must be an object");
	refused("household", "id,dibao\nHLT0900,maybe\n", "Line 2: dibao is not a valid bool");
	/* an ended record, found before anything is applied */
	json_t *j = NULL;
	assert_int_equal(post(mz_tok, "/api/exchange/registries/household/records",
			      "application/json",
			      "{\"id\": \"HLE0001\", \"values\": {\"size\": 1}}", &j),
			 201);
	json_decref(j);
	assert_int_equal(post(mz_tok, "/api/exchange/registries/household/records/HLE0001/end",
			      "application/json", "{\"effective\": \"2026-11-15\"}", &j),
			 200);
	json_decref(j);
	refused("household", "id,size\nHLT0001,2\nHLE0001,3\n",
		"Line 3: the record HLE0001 was ended on 2026-11-15");
	assert_int_equal(post(mz_tok,
			      "/api/exchange/registries/benefits/records/990100198001010034/end",
			      "application/json", "{\"effective\": \"2026-11-16\"}", &j),
			 200);
	json_decref(j);
	refused("benefits", "id,dibao@2026-11\n990100198001010034,paid\n",
		"Line 2: the record 990100********0034 was ended on 2026-11-16");
}

static void refusals(void **state)
{
	(void)state;
	json_t *j = NULL;
	const char *p = "/api/exchange/registries/household/load?effective=2026-11-01";
	int64_t jobs = th_sql_int(srv, "SELECT COUNT(*) FROM jobs WHERE kind = 'exchange.load'");
	/* another department's staff, a resident, nobody */
	assert_int_equal(post(rs_tok, p, "text/csv", "id,size\nHLT0900,3\n", &j), 403);
	assert_non_null(
		strstr(json_string_value(json_object_get(json_object_get(j, "error"), "message")),
		       "only the department that owns household"));
	json_decref(j);
	assert_int_equal(post(cit_tok, p, "text/csv", "id,size\nHLT0900,3\n", NULL), 403);
	assert_int_equal(post(NULL, p, "text/csv", "id,size\nHLT0900,3\n", NULL), 401);
	/* no such registry; no date; a bad date; no file; JSON is not a file */
	assert_int_equal(post(mz_tok, "/api/exchange/registries/nosuch/load?effective=2026-11-01",
			      "text/csv", "id\n1\n", NULL),
			 404);
	assert_int_equal(post(mz_tok, "/api/exchange/registries/household/load", "text/csv",
			      "id,size\nHLT0900,3\n", &j),
			 400);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(j, "error"), "field")),
		"effective");
	json_decref(j);
	assert_int_equal(post(mz_tok,
			      "/api/exchange/registries/household/load?effective=2026-02-30",
			      "text/csv", "id,size\nHLT0900,3\n", NULL),
			 400);
	assert_int_equal(post(mz_tok, p, "text/csv", "", NULL), 400);
	assert_int_equal(post(mz_tok, p, "application/json", "{\"id\": \"HLT0900\"}", NULL), 400);
	/* over the cap: 413, with the cap in the message */
	char *big = households(LOAD_CAP / 40, 0);
	assert_true(strlen(big) > LOAD_CAP);
	assert_int_equal(post(mz_tok, p, "text/csv", big, &j), 413);
	assert_non_null(
		strstr(json_string_value(json_object_get(json_object_get(j, "error"), "message")),
		       "a load takes at most 65536"));
	json_decref(j);
	free(big);
	/* none of these queued anything; an administrator may load any registry */
	assert_int_equal(th_sql_int(srv, "SELECT COUNT(*) FROM jobs WHERE kind = 'exchange.load'"),
			 jobs);
	assert_int_equal(post(admin_tok, p, "text/csv", "id,size\nHLT0900,3\n", &j), 202);
	json_t *job = th_wait_job(srv, json_integer_value(json_object_get(j, "job_id")));
	assert_string_equal(state_of(job), "done");
	json_decref(job);
	json_decref(j);
}

/* datastore_search and datastore_search_sql on name, as an administrator: never a row. */
static void unreadable(const char *name)
{
	char path[300], body[300];
	struct th_client *cl = th_client_new(srv);
	const char *hdrs[] = {admin_tok, NULL};
	struct th_resp r = {0};
	snprintf(path, sizeof path, "/api/3/action/datastore_search?resource_id=%s", name);
	assert_int_equal(th_request(cl, "GET", path, NULL, NULL, 0, hdrs, &r), 404);
	assert_null(strstr(r.body, "幸福路"));
	th_resp_release(&r);
	snprintf(body, sizeof body, "{\"sql\": \"SELECT * FROM \\\"%s\\\"\"}", name);
	long st = th_request(cl, "POST", "/api/3/action/datastore_search_sql", "application/json",
			     body, strlen(body), hdrs, &r);
	assert_true(st == 404 || st == 409);
	assert_null(strstr(r.body, "幸福路"));
	assert_null(strstr(r.body, "HLT"));
	th_resp_release(&r);
	th_client_free(cl);
}

static void staging_private(void **state)
{
	(void)state;
	struct dg_err err = {0};
	th_sql(srv, "INSERT INTO od_access_settings (key, value) VALUES ('search_sql', 1)");
	/* hold the load after staging, before its first batch is applied */
	assert_int_equal(dg_failpoint_set("datastore.stage.batch=slow:3000*1", &err), DG_OK);
	char *csv = households(320, 0);
	json_t *j = NULL;
	assert_int_equal(post(mz_tok,
			      "/api/exchange/registries/household/load?effective=2026-12-01",
			      "text/csv", csv, &j),
			 202);
	free(csv);
	int64_t id = json_integer_value(json_object_get(j, "job_id"));
	json_decref(j);
	char name[64], q[160];
	snprintf(name, sizeof name, "dsx_%lld", (long long)id);
	int tries = 0;
	while (staged_tables() == 0 && tries++ < 200)
		th_sleep_ms(10);
	assert_int_equal(staged_tables(), 1);
	/* the rows are there, in clear, once their batch commits, but no DataStore call can name
	 * them */
	snprintf(q, sizeof q, "SELECT COUNT(*) FROM \"%s\"", name);
	for (tries = 0; th_sql_int(srv, q) < 320 && tries < 200; tries++)
		th_sleep_ms(10);
	assert_int_equal(th_sql_int(srv, q), 320);
	unreadable(name);
	assert_int_equal(th_sql_int(srv, "SELECT COUNT(*) FROM xr_changes WHERE effective ="
					 " '2026-12-01'"),
			 0);
	json_t *job = th_wait_job(srv, id);
	assert_string_equal(state_of(job), "done");
	json_decref(job);
	assert_int_equal(staged_tables(), 0);
	assert_int_equal(th_sql_int(srv, "SELECT COUNT(*) FROM xr_changes WHERE effective ="
					 " '2026-12-01'"),
			 320);
	unreadable(name);
	th_sql(srv, "UPDATE od_access_settings SET value = 0 WHERE key = 'search_sql'");
}

static void failed_batch_retried(void **state)
{
	(void)state;
	struct dg_err err = {0};
	int64_t before = changes();
	/* the store fails the first batch: the attempt is retried from its checkpoint */
	assert_int_equal(dg_failpoint_set("datastore.stage.batch=full*1", &err), DG_OK);
	char *csv = households(40, 0);
	json_t *job = load("household", csv);
	free(csv);
	assert_int_equal(dg_failpoint_set("", &err), DG_OK);
	assert_string_equal(state_of(job), "done");
	assert_int_equal(json_integer_value(json_object_get(job, "attempts")), 2);
	json_decref(job);
	assert_int_equal(changes(), before + 40);
	assert_int_equal(staged_tables(), 0);
}

static void multipart_and_cli(void **state)
{
	(void)state;
	json_t *j = NULL;
	/* the file as a multipart part, the date as a form field */
	const char *body = "--XB\r\nContent-Disposition: form-data; name=\"effective\"\r\n\r\n"
			   "2026-11-20\r\n--XB\r\nContent-Disposition: form-data; name=\"file\";"
			   " filename=\"h.csv\"\r\nContent-Type: text/csv\r\n\r\n"
			   "id,size\nHLM0001,2\nHLM0002,3\n\r\n--XB--\r\n";
	assert_int_equal(post(mz_tok, "/api/exchange/registries/household/load",
			      "multipart/form-data; boundary=XB", body, &j),
			 202);
	json_t *job = th_wait_job(srv, json_integer_value(json_object_get(j, "job_id")));
	json_decref(j);
	assert_string_equal(state_of(job), "done");
	json_decref(job);
	assert_int_equal(th_sql_int(srv, "SELECT COUNT(*) FROM xr_changes WHERE rkey LIKE 'HLM%'"
					 " AND effective = '2026-11-20'"),
			 2);
	/* dgov exchange load: queued for the server's worker, as the CLI */
	char file[300];
	snprintf(file, sizeof file, "%s/cli.csv", dir);
	FILE *fp = fopen(file, "w");
	assert_non_null(fp);
	fputs("id,region\nHLC0001,990103\n", fp);
	fclose(fp);
	struct dg_env *env = &th_app(srv)->env;
	assert_int_equal(x_load_main(env, "nosuch", file, "2026-11-01"), 2);
	assert_int_equal(x_load_main(env, "household", file, "2026-11"), 2);
	assert_int_equal(x_load_main(env, "household", "/nonexistent/x.csv", "2026-11-01"), 2);
	assert_int_equal(x_load_main(env, "household", file, "2026-11-21"), 0);
	int64_t id = th_sql_int(srv, "SELECT MAX(id) FROM jobs WHERE kind = 'exchange.load'");
	job = th_wait_job(srv, id);
	assert_string_equal(state_of(job), "done");
	json_decref(job);
	assert_int_equal(th_sql_int(srv, "SELECT COUNT(*) FROM xr_changes WHERE rkey = 'HLC0001'"
					 " AND actor = 'cli' AND effective = '2026-11-21'"),
			 1);
	/* the user's file stays; the copies the jobs read (clear values) are gone */
	assert_non_null(fp = fopen(file, "r"));
	fclose(fp);
	char kept[4096];
	snprintf(kept, sizeof kept, "%s/exchange-loads", env->cfg->data_dir);
	DIR *d = opendir(kept);
	assert_non_null(d);
	struct dirent *de;
	int files = 0;
	while ((de = readdir(d)))
		files += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(files, 0);
	assert_int_equal(staged_tables(), 0);
}

static void sweep(void **state)
{
	(void)state;
	struct dg_db *db = NULL;
	int64_t id = 0;
	/* what a crash leaves: a staging table whose job is not running */
	th_sql(srv, "CREATE TABLE \"dsx_999999\" (\"_id\" INTEGER, \"name\" TEXT)");
	assert_int_equal(staged_tables(), 1);
	assert_int_equal(dg_db_get(th_app(srv)->env.store, &db), DG_OK);
	json_t *p = json_object();
	assert_int_equal(dg_job_enqueue(db, "datastore.stage_sweep", p, 0, NULL, &id), DG_OK);
	json_decref(p);
	dg_db_put(db);
	json_t *job = th_wait_job(srv, id);
	assert_string_equal(state_of(job), "done");
	json_decref(job);
	assert_int_equal(staged_tables(), 0);
}

static int setup(void **state)
{
	(void)state;
	char cap[32];
	snprintf(cap, sizeof cap, "%d", LOAD_CAP);
	setenv("DGOV_EXCHANGE_LOAD_MAX", cap, 1);
	srv = th_start_loads(dir);
	if (!srv)
		return 1;
	mz_tok = th_token_header(srv, DG_DEMO_STAFF, DG_DEMO_PASSWORD);
	rs_tok = th_token_header(srv, DG_DEMO_STAFF2, DG_DEMO_PASSWORD);
	cit_tok = th_token_header(srv, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD);
	admin_tok = th_token_header(srv, DG_DEMO_ADMIN, DG_DEMO_PASSWORD);
	return !mz_tok || !rs_tok || !cit_tok || !admin_tok;
}

static int teardown(void **state)
{
	(void)state;
	free(mz_tok);
	free(rs_tok);
	free(cit_tok);
	free(admin_tok);
	th_stop_loads(srv, dir);
	return 0;
}

/*
 * A bulk read page by page, seven records a page, is the registry: every
 * household in force once, in key order, with its version and size as
 * stored, an ended one left out, and no next link after the last page.
 */
static void bulk_pages_are_the_registry(void **state)
{
	(void)state;
	json_t *j = NULL;
	assert_int_equal(post(mz_tok, "/api/exchange/registries/household/records/HLT0010/end",
			      "application/json", "{}", &j),
			 200);
	json_decref(j);
	struct dg_db *db = NULL;
	struct dg_rows *rows = NULL;
	assert_int_equal(dg_db_get(th_app(srv)->env.store, &db), DG_OK);
	assert_int_equal(dg_db_query(db,
				     "SELECT rkey, version FROM xr_records WHERE registry ="
				     " 'household' AND ended IS NULL ORDER BY rkey",
				     DG_NOARGS, &rows),
			 DG_OK);
	struct th_client *cl = th_client_new(srv);
	char after[128] = "", path[256], rid[64];
	int64_t pages = 0, seen = 0;
	for (bool more = true; more; pages++) {
		snprintf(path, sizeof path, "/x/v1/household?fields=size&limit=7%s%s",
			 after[0] ? "&after=" : "", after);
		snprintf(rid, sizeof rid, "X-Dgov-Request-Id: test-xpage-%04lld", (long long)pages);
		const char *hdrs[] = {"X-Dgov-Client: sj/match", "X-Dgov-Key: " X_DEMO_SJ_KEY,
				      "X-Dgov-Purpose: policy:elder_subsidy", rid, NULL};
		struct th_resp r = {0};
		assert_int_equal(th_request(cl, "GET", path, NULL, NULL, 0, hdrs, &r), 200);
		json_t *env = json_loads(r.body, 0, NULL);
		th_resp_release(&r);
		json_t *ans = json_object_get(env, "answer"), *rec;
		size_t i;
		assert_true(json_array_size(json_object_get(ans, "records")) <= 7);
		json_array_foreach (json_object_get(ans, "records"), i, rec) {
			assert_int_equal(dg_rows_next(rows), DG_OK);
			assert_string_equal(json_string_value(json_object_get(rec, "id")),
					    dg_rows_text(rows, 0));
			assert_int_equal(json_integer_value(json_object_get(rec, "version")),
					 dg_rows_int(rows, 1));
			assert_true(json_is_null(json_object_get(rec, "ended")));
			assert_string_not_equal(dg_rows_text(rows, 0), "HLT0010");
			seen++;
		}
		json_t *next = json_object_get(ans, "next");
		more = json_is_string(next);
		if (more) {
			assert_int_equal(json_array_size(json_object_get(ans, "records")), 7);
			snprintf(after, sizeof after, "%s", json_string_value(next));
		}
		json_decref(env);
	}
	assert_int_equal(dg_rows_next(rows), DG_ENOTFOUND);
	dg_rows_free(rows);
	dg_db_put(db);
	th_client_free(cl);
	assert_true(seen >= 300 - 1);
	assert_true(pages >= seen / 7);
	/* a page past the last key is empty, with no next */
	json_t *env = NULL;
	struct th_resp r = {0};
	const char *hdrs[] = {"X-Dgov-Client: sj/match", "X-Dgov-Key: " X_DEMO_SJ_KEY,
			      "X-Dgov-Purpose: policy:elder_subsidy",
			      "X-Dgov-Request-Id: test-xpage-past", NULL};
	cl = th_client_new(srv);
	assert_int_equal(th_request(cl, "GET", "/x/v1/household?fields=size&limit=7&after=ZZZ",
				    NULL, NULL, 0, hdrs, &r),
			 200);
	env = json_loads(r.body, 0, NULL);
	th_resp_release(&r);
	th_client_free(cl);
	json_t *ans = json_object_get(env, "answer");
	assert_int_equal(json_array_size(json_object_get(ans, "records")), 0);
	assert_true(json_is_null(json_object_get(ans, "next")));
	json_decref(env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(load_records),
		cmocka_unit_test(load_updates),
		cmocka_unit_test(load_monthly_personal),
		cmocka_unit_test(bad_files),
		cmocka_unit_test(refusals),
		cmocka_unit_test(staging_private),
		cmocka_unit_test(failed_batch_retried),
		cmocka_unit_test(multipart_and_cli),
		cmocka_unit_test(sweep),
		cmocka_unit_test(bulk_pages_are_the_registry),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
