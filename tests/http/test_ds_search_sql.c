/*
 * test_ds_search_sql.c - datastore_search_sql through the real server, on
 * whichever store DGOV_TEST_DB selects: off until the setting turns it on;
 * then one SELECT over resources by their ids (aggregates, joins of two
 * resources, subqueries, typed values, the row cap), and every refusal that
 * keeps it a read of the DataStore alone: other tables of the store,
 * writes, several statements, comments, functions off the list, quoted
 * calls, closed and conditional resources, and the time budget.
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
#include "opendata/datastore/datastore.h"
#include "store/store.h"

/* minimum-living-allowance (mz, open), food-safety-inspections (sc,
 * conditional), sj-internal-case-ledger (sj, closed): the demo's resources */
#define RID        "00000000-0000-4000-9000-000000000001"
#define COND_RID   "00000000-0000-4000-9000-000000000007"
#define CLOSED_RID "00000000-0000-4000-9000-000000000012"

static char *mz, *adm;

/* POST an action as who (a header line or NULL); *ans gets the parsed body. */
static long call(const char *who, const char *action, const char *body, json_t **ans)
{
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	char path[128];
	const char *h[] = {who, NULL};
	snprintf(path, sizeof path, "/api/3/action/%s", action);
	long st = th_request(c, "POST", path, "application/json", body, strlen(body),
			     who ? h : NULL, &r);
	json_error_t je;
	*ans = json_loadb(r.body ? r.body : "", r.len, JSON_DECODE_ANY, &je);
	th_resp_release(&r);
	th_client_free(c);
	return st;
}

/* datastore_search_sql of statement as who: the status; *ans the body. */
static long query(const char *who, const char *statement, json_t **ans)
{
	json_t *b = json_pack("{s:s}", "sql", statement);
	char *body = json_dumps(b, 0);
	long st = call(who, "datastore_search_sql", body, ans);
	free(body);
	json_decref(b);
	return st;
}

/* The statement is refused with 409 and a message on "sql" containing want. */
static void refused(const char *statement, const char *want)
{
	json_t *ans = NULL;
	long st = query(adm, statement, &ans);
	json_t *e = json_array_get(json_object_get(json_object_get(ans, "error"), "sql"), 0);
	if (st != 409 || !json_is_string(e) || !strstr(json_string_value(e), want)) {
		char *s = json_dumps(ans, JSON_ENCODE_ANY);
		fail_msg("%s: got %ld %s (want 409 ~ \"%s\")", statement, st, s ? s : "", want);
	}
	json_decref(ans);
}

static const char table_body[] =
	"{\"resource_id\":\"%s\",\"force\":true,"
	"\"fields\":[{\"id\":\"district\",\"type\":\"text\"},{\"id\":\"n\",\"type\":\"int\"},"
	"{\"id\":\"amount\",\"type\":\"numeric\"}],"
	"\"records\":[{\"district\":\"海曙区\",\"n\":3,\"amount\":1.5},"
	"{\"district\":\"海曙区\",\"n\":4,\"amount\":2},"
	"{\"district\":\"江北区\",\"n\":10,\"amount\":null}]}";

static void make_table(const char *who, const char *rid)
{
	json_t *ans = NULL;
	char body[1024];
	snprintf(body, sizeof body, table_body, rid);
	assert_int_equal(call(who, "datastore_create", body, &ans), 200);
	json_decref(ans);
}

static void off_until_turned_on(void **state)
{
	(void)state;
	json_t *ans = NULL;
	assert_int_equal(query(adm, "SELECT 1", &ans), 403);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(ans, "error"), "__type")),
		"Authorization Error");
	assert_non_null(
		strstr(json_string_value(json_object_get(json_object_get(ans, "error"), "message")),
		       "turned off"));
	json_decref(ans);
	th_sql(th_shared, "INSERT INTO od_access_settings (key, value) VALUES ('search_sql', 1)");
	assert_int_equal(query(NULL, "SELECT 1 AS one", &ans), 200);
	json_decref(ans);
}

static void reads_resources(void **state)
{
	(void)state;
	json_t *ans = NULL;
	/* aggregates by group, ordered, values typed as the store holds them */
	assert_int_equal(query(NULL,
			       "SELECT district, COUNT(*) AS c, SUM(n) AS total FROM \"" RID "\""
			       " GROUP BY district ORDER BY district DESC",
			       &ans),
			 200);
	json_t *res = json_object_get(ans, "result");
	json_t *recs = json_object_get(res, "records");
	assert_int_equal(json_array_size(recs), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 0), "district")),
			    "海曙区");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(recs, 0), "c")), 2);
	/* a sum is an integer on SQLite and a numeric on PostgreSQL: a number either way */
	assert_true(json_number_value(json_object_get(json_array_get(recs, 0), "total")) == 7);
	assert_true(json_number_value(json_object_get(json_array_get(recs, 1), "total")) == 10);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(res, "fields"), 1), "type")),
			    "int8");
	assert_non_null(strstr(json_string_value(json_object_get(res, "sql")), RID));
	assert_null(json_object_get(res, "records_truncated"));
	json_decref(ans);
	/* a subquery, a join of the resource with itself, a NULL, names in quotes */
	assert_int_equal(query(NULL,
			       "SELECT a.\"n\", b.amount FROM \"" RID "\" a JOIN \"" RID "\" AS b"
			       " ON a._id = b._id WHERE a.n > (SELECT MIN(n) FROM \"" RID "\")"
			       " ORDER BY a.n",
			       &ans),
			 200);
	recs = json_object_get(json_object_get(ans, "result"), "records");
	assert_int_equal(json_array_size(recs), 2);
	assert_true(json_is_number(json_object_get(json_array_get(recs, 0), "amount")));
	assert_true(json_is_null(json_object_get(json_array_get(recs, 1), "amount")));
	json_decref(ans);
	/* functions of the list, nested */
	assert_int_equal(
		query(NULL, "SELECT UPPER(TRIM(district)) AS d FROM \"" RID "\" LIMIT 1", &ans),
		200);
	json_decref(ans);
	/* casts to the types of the list, a date literal, a string after AS */
	assert_int_equal(query(NULL,
			       "SELECT CAST(n AS text) AS t, CAST(n AS numeric(10, 2)) AS m,"
			       " CAST(n AS double precision) AS d FROM \"" RID "\""
			       " WHERE district <> 'x' LIMIT 1",
			       &ans),
			 200);
	json_decref(ans);
	/* an error of the store's own (no such column): 409 on "sql", nothing else said */
	refused("SELECT nosuchcolumn FROM \"" RID "\"", "The store refused the statement");
	/* an unknown resource: CKAN's not found */
	assert_int_equal(query(NULL, "SELECT * FROM \"no-such-resource\"", &ans), 404);
	json_decref(ans);
}

static void refuses_what_is_not_a_read(void **state)
{
	(void)state;
	json_t *ans = NULL;
	/* other tables of the store, however they are named */
	refused("SELECT * FROM users", "resource id in double quotes");
	/* a quoted name is looked up as a resource id: not one */
	assert_int_equal(query(adm, "SELECT * FROM \"users\"", &ans), 404);
	json_decref(ans);
	refused("SELECT * FROM \"" RID "\", users", "resource id in double quotes");
	refused("SELECT * FROM \"" RID "\" JOIN sessions ON 1 = 1", "resource id in double quotes");
	refused("SELECT (SELECT password_hash FROM users LIMIT 1) FROM \"" RID "\"",
		"resource id in double quotes");
	assert_int_equal(query(adm, "SELECT * FROM \"public\".\"users\"", &ans), 404);
	json_decref(ans);
	refused("SELECT * FROM \"" RID "\".x", "cannot be qualified");
	refused("SELECT * FROM (TABLE users) t", "\"TABLE\" is not allowed");
	refused("SELECT * FROM sqlite_master", "resource id in double quotes");
	refused("SELECT * FROM pg_catalog.pg_user", "resource id in double quotes");
	/* writes, other statements, several statements, comments */
	refused("DELETE FROM \"" RID "\"", "Only one SELECT");
	refused("SELECT 1; DELETE FROM \"" RID "\"", "\";\" is not allowed");
	refused("SELECT * INTO t2 FROM \"" RID "\"", "\"INTO\" is not allowed");
	refused("SELECT * FROM \"" RID "\" FOR UPDATE", "\"FOR\" is not allowed");
	refused("WITH x AS (SELECT 1) SELECT * FROM x", "Only one SELECT");
	refused("SELECT 1 -- comment", "Comments");
	refused("SELECT 1 /* comment */", "Comments");
	/* calls off the list, however spelled */
	refused("SELECT pg_read_file('/etc/passwd')", "Function \"pg_read_file\"");
	refused("SELECT query_to_xml('select * from users', true, true, '')",
		"Function \"query_to_xml\"");
	refused("SELECT load_extension('x')", "Function \"load_extension\"");
	refused("SELECT \"pg_sleep\"(10)", "cannot be called");
	refused("SELECT 'users'::regclass", "\":\" is not allowed");
	refused("SELECT $1", "\"$\" is not allowed");
	/* the store's own values and object references, on both stores alike */
	refused("SELECT current_user", "\"current_user\" is not allowed");
	refused("SELECT current_catalog FROM \"" RID "\"", "\"current_catalog\" is not allowed");
	refused("SELECT session_user", "\"session_user\" is not allowed");
	refused("SELECT user", "\"user\" is not allowed");
	refused("SELECT CAST('users' AS regclass)", "Casts to \"regclass\"");
	refused("SELECT CAST('users' AS \"regclass\")", "names a type as a word");
	refused("SELECT CAST(1 AS oid)", "Casts to \"oid\"");
	refused("SELECT regclass 'users'", "cannot be followed by a string");
	/* nested replace() doubles a string per level inside one step */
	refused("SELECT replace(replace('aa', 'a', 'aa'), 'a', 'aa')",
		"Function \"replace\" is not allowed");
	/* broken text */
	refused("SELECT 'open", "not closed");
	refused("SELECT (1", "not closed");
	refused("SELECT 1)", "has no");
	refused("SELECT * FROM", "missing after FROM");
	refused("", "Missing value");
	/* every refusal changed nothing */
	assert_int_equal(query(NULL, "SELECT COUNT(*) AS c FROM \"" RID "\"", &ans), 200);
	assert_int_equal(
		json_integer_value(json_object_get(
			json_array_get(json_object_get(json_object_get(ans, "result"), "records"),
				       0),
			"c")),
		3);
	json_decref(ans);
}

static void tiers_and_caps(void **state)
{
	(void)state;
	json_t *ans = NULL;
	/* closed: absent to all but its department and administrators */
	make_table(adm, CLOSED_RID);
	assert_int_equal(query(NULL, "SELECT COUNT(*) FROM \"" CLOSED_RID "\"", &ans), 404);
	json_decref(ans);
	assert_int_equal(query(mz, "SELECT COUNT(*) FROM \"" CLOSED_RID "\"", &ans), 404);
	json_decref(ans);
	assert_int_equal(query(adm, "SELECT COUNT(*) FROM \"" CLOSED_RID "\"", &ans), 200);
	json_decref(ans);
	/* conditional: refused without a grant, even joined to an open one */
	make_table(adm, COND_RID);
	assert_int_equal(query(NULL,
			       "SELECT * FROM \"" RID "\" a, \"" COND_RID "\" b WHERE a.n = b.n",
			       &ans),
			 403);
	json_decref(ans);
	/* more rows than one call returns: cut, and said so */
	assert_int_equal(query(NULL,
			       "SELECT a._id FROM \"" RID "\" a, \"" RID "\" b, \"" RID "\" c,"
			       " \"" RID "\" d, \"" RID "\" e, \"" RID "\" f, \"" RID "\" g,"
			       " \"" RID "\" h, \"" RID "\" i, \"" RID "\" j",
			       &ans),
			 200);
	json_t *res = json_object_get(ans, "result");
	assert_int_equal(json_array_size(json_object_get(res, "records")), 32000);
	assert_true(json_is_true(json_object_get(res, "records_truncated")));
	json_decref(ans);
	/* the read budget cuts off a statement that would run long */
	dg_datastore_set_budget_ms(1);
	long st =
		query(NULL,
		      "SELECT COUNT(*) FROM \"" RID "\" a, \"" RID "\" b, \"" RID "\" c,"
		      " \"" RID "\" d, \"" RID "\" e, \"" RID "\" f, \"" RID "\" g, \"" RID "\" h,"
		      " \"" RID "\" i, \"" RID "\" j, \"" RID "\" k, \"" RID "\" l, \"" RID "\" m",
		      &ans);
	dg_datastore_set_budget_ms(0);
	assert_int_equal(st, 409);
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(json_object_get(ans, "error"), "query"), 0)),
			    "Search took too long");
	json_decref(ans);
	/* and the connections it used write again */
	make_table(mz, RID);
	/* turned off again: refused */
	th_sql(th_shared, "UPDATE od_access_settings SET value = 0 WHERE key = 'search_sql'");
	assert_int_equal(query(adm, "SELECT 1", &ans), 403);
	json_decref(ans);
}

/* column names as CKAN allows them (Chinese, spaces, signs), quoted in the statement */
static void unicode_column_names(void **state)
{
	(void)state;
	json_t *ans = NULL;
	th_sql(th_shared, "UPDATE od_access_settings SET value = 1 WHERE key = 'search_sql'");
	assert_int_equal(
		call(mz, "datastore_delete", "{\"resource_id\":\"" RID "\",\"force\":true}", &ans),
		200);
	json_decref(ans);
	assert_int_equal(call(mz, "datastore_create",
			      "{\"resource_id\":\"" RID "\",\"force\":true,"
			      "\"fields\":[{\"id\":\"区 名\",\"type\":\"text\"},"
			      "{\"id\":\"人数 (万)\",\"type\":\"int\"}],"
			      "\"records\":[{\"区 名\":\"海曙区\",\"人数 (万)\":3},"
			      "{\"区 名\":\"江北区\",\"人数 (万)\":10}]}",
			      &ans),
			 200);
	json_decref(ans);
	if (query(NULL,
		  "SELECT \"区 名\", \"人数 (万)\" * 2 AS \"两倍 人数\" FROM \"" RID "\""
		  " WHERE \"人数 (万)\" > 5 ORDER BY \"区 名\"",
		  &ans) != 200)
		fail_msg("%s", json_dumps(ans, JSON_COMPACT));
	json_t *recs = json_object_get(json_object_get(ans, "result"), "records");
	assert_int_equal(json_array_size(recs), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 0), "区 名")),
			    "江北区");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(recs, 0), "两倍 人数")),
			 20);
	json_decref(ans);
}

static int setup(void **state)
{
	if (th_group_setup(state) != 0)
		return -1;
	mz = th_token_header(th_shared, DG_DEMO_STAFF, DG_DEMO_PASSWORD);
	adm = th_token_header(th_shared, DG_DEMO_ADMIN, DG_DEMO_PASSWORD);
	if (!mz || !adm)
		return -1;
	json_t *ans = NULL;
	char body[1024];
	/* a table of three rows on an open resource (its source is a file: force) */
	call(mz, "datastore_delete", "{\"resource_id\":\"" RID "\",\"force\":true}", &ans);
	json_decref(ans);
	snprintf(body, sizeof body, table_body, RID);
	long st = call(mz, "datastore_create", body, &ans);
	json_decref(ans);
	return st == 200 ? 0 : -1;
}

static int teardown(void **state)
{
	free(mz);
	free(adm);
	return th_group_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(off_until_turned_on),        cmocka_unit_test(reads_resources),
		cmocka_unit_test(refuses_what_is_not_a_read), cmocka_unit_test(tiers_and_caps),
		cmocka_unit_test(unicode_column_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
