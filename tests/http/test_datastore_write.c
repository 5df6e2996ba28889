/*
 * test_datastore_write.c - the DataStore's write side and exports through the
 * real server, on whichever store DGOV_TEST_DB selects: datastore_create /
 * upsert / delete round trips with include_total exact after every write,
 * refusals (anonymous, citizen, another department, a browser session, GET)
 * that change nothing, CKAN validation errors, the caps, 2.12 filters, the
 * dumps in each format (the XLSX checked with unzip and xmllint), and the
 * time budget cutting off a search that would scan too long.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "app/app.h"
#include "node/demo.h"
#include "harness.h"
#include "opendata/datastore/datastore.h"
#include "opendata/datastore/datastore_int.h"
#include "store/store.h"

/* The demo resource of minimum-living-allowance (department mz, open). */
#define RID "00000000-0000-4000-9000-000000000001"
/* The demo resource of sj-internal-case-ledger (department sj, closed). */
#define CLOSED_RID "00000000-0000-4000-9000-000000000012"

static char *mz, *rs, *cit, *adm; /* "Authorization: Bearer ..." headers */

/* A fresh API token of a demo user (malloc'd header line). */
static char *token_header(const char *user)
{
	char *h = th_token_header(th_shared, user, DG_DEMO_PASSWORD);
	assert_non_null(h);
	return h;
}

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
	if (ans) {
		json_error_t je;
		*ans = json_loadb(r.body ? r.body : "", r.len, JSON_DECODE_ANY, &je);
		if (getenv("DS_DEBUG"))
			fprintf(stderr, "%ld %s: %.*s\n", st, action, (int)r.len, r.body);
	}
	th_resp_release(&r);
	th_client_free(c);
	return st;
}

/* The first message of error field key, or "" . */
static const char *err_of(json_t *ans, const char *key)
{
	json_t *e = json_object_get(json_object_get(ans, "error"), key);
	if (json_is_array(e))
		e = json_array_get(e, 0);
	return json_is_string(e) ? json_string_value(e) : "";
}

static long long total_of(const char *rid)
{
	json_t *ans = NULL;
	char body[256];
	snprintf(body, sizeof body, "{\"resource_id\":\"%s\",\"limit\":0}", rid);
	if (call(NULL, "datastore_search", body, &ans) != 200) {
		json_decref(ans);
		return -1;
	}
	long long n = (long long)json_integer_value(
		json_object_get(json_object_get(ans, "result"), "total"));
	json_decref(ans);
	return n;
}

/* Expect status and, when key is given, a Validation Error message on it containing want. */
static void expect(long got, long status, json_t **ansp, const char *key, const char *want)
{
	json_t *ans = *ansp; /* read after call() has set it: argument order is unspecified */
	if (got != status || (key && !strstr(err_of(ans, key), want))) {
		char *s = json_dumps(ans, JSON_ENCODE_ANY);
		fail_msg("got %ld (want %ld, %s ~ \"%s\"): %s", got, status, key ? key : "-",
			 want ? want : "", s ? s : "(no body)");
	}
	json_decref(ans);
}

static const char create_body[] =
	"{\"resource_id\":\"" RID "\",\"force\":true,"
	"\"fields\":[{\"id\":\"code\",\"type\":\"text\",\"info\":{\"label\":\"编码\"}},"
	"{\"id\":\"name\",\"type\":\"text\"},{\"id\":\"n\",\"type\":\"int\"},"
	"{\"id\":\"amount\",\"type\":\"numeric\"},{\"id\":\"day\",\"type\":\"date\"},"
	"{\"id\":\"ok\",\"type\":\"bool\"}],"
	"\"primary_key\":[\"code\"],"
	"\"records\":["
	"{\"code\":\"007\",\"name\":\"宁波市\\n海曙区, \\\"老城\\\"\",\"n\":1,\"amount\":2.5,"
	"\"day\":\"2024-02-29\",\"ok\":true},"
	"{\"code\":\"010\",\"name\":\"杭州\",\"n\":20,\"amount\":-3,\"day\":null,\"ok\":false},"
	"{\"code\":\"011\",\"name\":\"温州\",\"n\":30}]}";

static void create_upsert_delete_round_trip(void **state)
{
	(void)state;
	json_t *ans = NULL;
	/* a resource whose source is a file is read-only without force */
	expect(call(mz, "datastore_create", "{\"resource_id\":\"" RID "\",\"records\":[]}", &ans),
	       409, &ans, "read-only", "force");
	assert_int_equal(total_of(RID), -1);

	assert_int_equal(call(mz, "datastore_create", create_body, &ans), 200);
	json_t *res = json_object_get(ans, "result");
	assert_string_equal(
		json_string_value(json_array_get(json_object_get(res, "primary_key"), 0)), "code");
	assert_int_equal(json_array_size(json_object_get(res, "fields")), 6);
	assert_null(json_object_get(res, "records"));
	json_decref(ans);
	assert_int_equal(total_of(RID), 3);

	/* the values read back as written, typed */
	assert_int_equal(call(NULL, "datastore_search",
			      "{\"resource_id\":\"" RID "\",\"filters\":{\"code\":\"007\"}}", &ans),
			 200);
	json_t *rec = json_array_get(json_object_get(json_object_get(ans, "result"), "records"), 0);
	assert_string_equal(json_string_value(json_object_get(rec, "name")),
			    "宁波市\n海曙区, \"老城\"");
	assert_int_equal(json_integer_value(json_object_get(rec, "n")), 1);
	assert_true(json_real_value(json_object_get(rec, "amount")) == 2.5);
	assert_true(json_is_true(json_object_get(rec, "ok")));
	assert_string_equal(json_string_value(json_object_get(rec, "day")), "2024-02-29");
	json_decref(ans);

	/* upsert: one update by key, one insert; the count moves by one */
	assert_int_equal(
		call(mz, "datastore_upsert",
		     "{\"resource_id\":\"" RID "\",\"force\":true,\"records\":["
		     "{\"code\":\"010\",\"n\":21},{\"code\":\"012\",\"name\":\"嘉兴\",\"n\":40}]}",
		     &ans),
		200);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(ans, "result"), "method")),
		"upsert");
	json_decref(ans);
	assert_int_equal(total_of(RID), 4);
	assert_int_equal(call(NULL, "datastore_search",
			      "{\"resource_id\":\"" RID "\",\"filters\":{\"code\":\"010\"}}", &ans),
			 200);
	rec = json_array_get(json_object_get(json_object_get(ans, "result"), "records"), 0);
	assert_int_equal(json_integer_value(json_object_get(rec, "n")), 21);
	assert_string_equal(json_string_value(json_object_get(rec, "name")), "杭州"); /* kept */
	json_decref(ans);

	/* by _id, and method update */
	assert_int_equal(call(mz, "datastore_upsert",
			      "{\"resource_id\":\"" RID "\",\"force\":true,\"method\":\"update\","
			      "\"records\":[{\"_id\":1,\"n\":2}]}",
			      NULL),
			 200);
	/* insert of an existing key: the unique key refuses it, nothing changes */
	expect(call(mz, "datastore_upsert",
		    "{\"resource_id\":\"" RID
		    "\",\"force\":true,\"method\":\"insert\",\"records\":["
		    "{\"code\":\"099\"},{\"code\":\"007\"}]}",
		    &ans),
	       409, &ans, "constraints", "uniqueness");
	assert_int_equal(total_of(RID), 4);
	/* update of a missing key rolls back the earlier rows of the call */
	expect(call(mz, "datastore_upsert",
		    "{\"resource_id\":\"" RID
		    "\",\"force\":true,\"method\":\"update\",\"records\":["
		    "{\"code\":\"011\",\"n\":999},{\"code\":\"404\",\"n\":1}]}",
		    &ans),
	       409, &ans, "key", "row 2");
	assert_int_equal(call(NULL, "datastore_search",
			      "{\"resource_id\":\"" RID "\",\"filters\":{\"n\":999}}", &ans),
			 200);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(ans, "result"), "total")), 0);
	json_decref(ans);
	/* dry_run changes nothing */
	assert_int_equal(call(mz, "datastore_upsert",
			      "{\"resource_id\":\"" RID "\",\"force\":true,\"dry_run\":true,"
			      "\"records\":[{\"code\":\"500\"}]}",
			      NULL),
			 200);
	assert_int_equal(total_of(RID), 4);

	/* 2.12 filters: $or and operator lists */
	assert_int_equal(call(NULL, "datastore_search",
			      "{\"resource_id\":\"" RID
			      "\",\"filters\":{\"$or\":[{\"code\":\"007\"},"
			      "{\"n\":{\"gte\":30}}]},\"sort\":\"code\"}",
			      &ans),
			 200);
	res = json_object_get(ans, "result");
	assert_int_equal(json_integer_value(json_object_get(res, "total")), 3); /* 007 011 012 */
	json_decref(ans);
	assert_int_equal(call(NULL, "datastore_search",
			      "{\"resource_id\":\"" RID "\",\"filters\":[{\"code\":\"010\"},"
			      "{\"n\":[{\"lt\":2},40]}]}",
			      &ans),
			 200);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(ans, "result"), "total")),
		2); /* 010, 012 (n 40); 007 has n 2 now */
	json_decref(ans);

	/* delete by filters: the count moves by the rows deleted */
	assert_int_equal(call(mz, "datastore_delete",
			      "{\"resource_id\":\"" RID "\",\"force\":true,\"filters\":{\"n\":"
			      "{\"gte\":21}}}",
			      &ans),
			 200);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(ans, "result"), "deleted")), 3);
	json_decref(ans);
	assert_int_equal(total_of(RID), 1);
	expect(call(mz, "datastore_records_delete", "{\"resource_id\":\"" RID "\",\"force\":true}",
		    &ans),
	       409, &ans, "filters", "Missing");
	/* {} is refused (an empty selection must not delete every row); a filter on _id does it */
	expect(call(mz, "datastore_records_delete",
		    "{\"resource_id\":\"" RID "\",\"force\":true,\"filters\":{}}", &ans),
	       409, &ans, "filters", "Must not be empty");
	assert_int_equal(total_of(RID), 1);
	assert_int_equal(call(mz, "datastore_records_delete",
			      "{\"resource_id\":\"" RID "\",\"force\":true,"
			      "\"filters\":{\"_id\":{\"gte\":1}}}",
			      NULL),
			 200);
	assert_int_equal(total_of(RID), 0);
	/* create on an existing table adds a field and rows */
	assert_int_equal(call(mz, "datastore_create",
			      "{\"resource_id\":\"" RID "\",\"force\":true,\"records\":["
			      "{\"code\":\"100\",\"extra\":5}]}",
			      &ans),
			 200);
	assert_int_equal(json_array_size(json_object_get(json_object_get(ans, "result"), "fields")),
			 7);
	json_decref(ans);
	assert_int_equal(total_of(RID), 1);
	/* no filters: the whole table goes */
	assert_int_equal(
		call(mz, "datastore_delete", "{\"resource_id\":\"" RID "\",\"force\":true}", NULL),
		200);
	assert_int_equal(total_of(RID), -1);
	expect(call(mz, "datastore_upsert",
		    "{\"resource_id\":\"" RID "\",\"force\":true,\"records\":[{\"code\":\"1\"}]}",
		    &ans),
	       404, &ans, NULL, NULL);
}

/* Create the test table again (the round trip ends by deleting it). */
static void fresh_table(void)
{
	call(mz, "datastore_delete", "{\"resource_id\":\"" RID "\",\"force\":true}", NULL);
	assert_int_equal(call(mz, "datastore_create", create_body, NULL), 200);
	assert_int_equal(total_of(RID), 3);
}

static void refusals_change_nothing(void **state)
{
	(void)state;
	json_t *ans = NULL;
	fresh_table();
	static const char up[] = "{\"resource_id\":\"" RID "\",\"force\":true,\"records\":["
				 "{\"code\":\"900\"}]}";
	const char *who[] = {NULL, cit, rs};
	for (size_t i = 0; i < 3; i++) {
		expect(call(who[i], "datastore_upsert", up, &ans), 403, &ans, "__type",
		       "Authorization Error");
		expect(call(who[i], "datastore_delete", "{\"resource_id\":\"" RID "\"}", &ans), 403,
		       &ans, "__type", "Authorization Error");
		expect(call(who[i], "datastore_create", create_body, &ans), 403, &ans, NULL, NULL);
	}
	/* a signed-in browser without a token cannot write on these CSRF-free routes */
	struct th_client *browser = th_client_new(th_shared);
	struct th_resp r = {0};
	assert_true(th_login(browser, DG_DEMO_STAFF, DG_DEMO_PASSWORD));
	assert_int_equal(th_request(browser, "POST", "/api/3/action/datastore_upsert",
				    "application/json", up, strlen(up), NULL, &r),
			 403);
	th_resp_release(&r);
	th_client_free(browser);
	/* writes are POSTs */
	struct th_client *c = th_client_new(th_shared);
	const char *h[] = {mz, NULL};
	assert_int_equal(th_request(c, "GET", "/api/3/action/datastore_delete?resource_id=" RID,
				    NULL, NULL, 0, h, &r),
			 400);
	assert_string_equal(r.body, "\"Bad request: JSON Error: Invalid request. Please use POST "
				    "method for your request\"");
	th_resp_release(&r);
	th_client_free(c);
	assert_int_equal(total_of(RID), 3);
	/* a closed dataset's resource is not there for another department, nor readable */
	expect(call(rs, "datastore_create",
		    "{\"resource_id\":\"" CLOSED_RID "\",\"force\":true,\"records\":[{\"a\":1}]}",
		    &ans),
	       404, &ans, NULL, NULL);
	/* its own department may write it, and then only it reads it */
	assert_int_equal(call(adm, "datastore_create",
			      "{\"resource_id\":\"" CLOSED_RID "\",\"force\":true,"
			      "\"records\":[{\"a\":1}]}",
			      NULL),
			 200);
	expect(call(NULL, "datastore_search", "{\"resource_id\":\"" CLOSED_RID "\"}", &ans), 404,
	       &ans, NULL, NULL);
	expect(call(cit, "datastore_info", "{\"resource_id\":\"" CLOSED_RID "\"}", &ans), 404, &ans,
	       NULL, NULL);
	assert_int_equal(
		call(adm, "datastore_search", "{\"resource_id\":\"" CLOSED_RID "\"}", NULL), 200);
	c = th_client_new(th_shared);
	assert_int_equal(th_get(c, "/datastore/dump/" CLOSED_RID, &r), 404);
	th_resp_release(&r);
	th_client_free(c);
	/* a resource that is not in the catalogue cannot be written */
	expect(call(adm, "datastore_create",
		    "{\"resource_id\":\"no-such-resource\",\"force\":true,\"records\":[{\"a\":1}]}",
		    &ans),
	       404, &ans, NULL, NULL);
}

static void validation_errors(void **state)
{
	(void)state;
	json_t *ans = NULL;
	fresh_table();
	static const struct {
		const char *action, *body, *key, *want;
	} cases[] = {
		{"datastore_create", "{\"fields\":[{\"id\":\"_bad\",\"type\":\"text\"}]}", "fields",
		 "not a valid field name"},
		{"datastore_create", "{\"fields\":[{\"id\":\"j\",\"type\":\"time\"}]}", "fields",
		 "not a valid field type"},
		{"datastore_create", "{\"fields\":[{\"id\":\"g\"}]}", "fields", "not guessable"},
		{"datastore_create", "{\"fields\":[{\"id\":\"n\",\"type\":\"text\"}]}", "fields",
		 "cannot change"},
		{"datastore_create", "{\"primary_key\":\"nope\"}", "primary_key", "nope"},
		{"datastore_create", "{\"aliases\":[\"x\"]}", "aliases", "Not supported"},
		{"datastore_create", "{\"records\":{\"a\":1}}", "records", "list"},
		{"datastore_upsert", "{\"records\":[{\"code\":\"1\"},{\"code\":\"2\",\"nope\":1}]}",
		 "records", "row \"2\" has extra keys \"nope\""},
		{"datastore_upsert", "{\"records\":[{\"code\":\"1\",\"n\":\"abc\"}]}", "records",
		 "row 1: field \"n\": \"abc\" is not int"},
		{"datastore_upsert", "{\"records\":[{\"code\":\"1\",\"n\":1.5}]}", "records",
		 "is not int"},
		{"datastore_upsert", "{\"records\":[{\"code\":\"1\",\"day\":\"2024-02-30\"}]}",
		 "records", "is not date"},
		{"datastore_upsert", "{\"records\":[{\"code\":\"1\",\"ok\":\"maybe\"}]}", "records",
		 "is not bool"},
		{"datastore_upsert", "{\"records\":[{\"n\":1}]}", "key", "needed as key"},
		{"datastore_upsert", "{\"records\":[1]}", "records", "not a json object"},
		{"datastore_upsert", "{\"method\":\"merge\",\"records\":[]}", "method", "merge"},
		{"datastore_upsert", "{}", "records", "Missing"},
		{"datastore_delete", "{\"filters\":{\"nope\":1}}", "filters", "\"nope\""},
		{"datastore_delete", "{\"filters\":{\"n\":{\"like\":1}}}", "filters",
		 "Unknown filter operation"},
		{"datastore_delete", "{\"filters\":{\"$not\":[]}}", "filters", "$or, $and"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char body[512];
		/* the request's own keys, with resource_id and force added in front */
		snprintf(body, sizeof body, "{\"resource_id\":\"" RID "\",\"force\":true,%s",
			 cases[i].body + 1);
		if (strcmp(cases[i].body, "{}") == 0)
			snprintf(body, sizeof body, "{\"resource_id\":\"" RID "\",\"force\":true}");
		long st = call(mz, cases[i].action, body, &ans);
		if (st != 409 || !strstr(err_of(ans, cases[i].key), cases[i].want))
			fail_msg("case %zu (%s %s): %ld %s", i, cases[i].action, cases[i].body, st,
				 json_dumps(ans, JSON_ENCODE_ANY));
		assert_string_equal(err_of(ans, "__type"), "Validation Error");
		json_decref(ans);
	}
	/* a table without a key cannot be upserted by anything but _id */
	assert_int_equal(call(mz, "datastore_create",
			      "{\"resource_id\":\"" RID "\",\"force\":true,\"primary_key\":[]}",
			      NULL),
			 200);
	expect(call(mz, "datastore_upsert",
		    "{\"resource_id\":\"" RID "\",\"force\":true,\"records\":[{\"code\":\"1\"}]}",
		    &ans),
	       409, &ans, "table", "unique key");
	/* nothing above changed the rows, and the schema is as created */
	assert_int_equal(total_of(RID), 3);
	assert_int_equal(call(NULL, "datastore_info", "{\"resource_id\":\"" RID "\"}", &ans), 200);
	assert_int_equal(json_array_size(json_object_get(json_object_get(ans, "result"), "fields")),
			 7);
	json_decref(ans);
}

static void caps(void **state)
{
	(void)state;
	json_t *ans = NULL;
	fresh_table();
	/* more records than a call may carry */
	size_t cap = 64 * (DG_DS_WRITE_RECORDS + 2);
	char *body = malloc(cap);
	size_t n = (size_t)snprintf(body, cap,
				    "{\"resource_id\":\"" RID "\",\"force\":true,"
				    "\"method\":\"insert\",\"records\":[");
	for (int i = 0; i <= DG_DS_WRITE_RECORDS; i++)
		n += (size_t)snprintf(body + n, cap - n, "%s{\"n\":%d}", i ? "," : "", i);
	snprintf(body + n, cap - n, "]}");
	expect(call(mz, "datastore_upsert", body, &ans), 409, &ans, "records", "At most");
	free(body);
	assert_int_equal(total_of(RID), 3);
	/* a body over the write cap is refused before it is read as JSON */
	size_t big = DG_DS_WRITE_BODY + 1024;
	body = malloc(big + 1);
	n = (size_t)snprintf(body, big, "{\"resource_id\":\"" RID "\",\"force\":true,\"pad\":\"");
	memset(body + n, 'x', big - n - 2);
	memcpy(body + big - 2, "\"}", 2);
	body[big] = '\0';
	expect(call(mz, "datastore_upsert", body, &ans), 413, &ans, "message", "8 MiB");
	free(body);
	assert_int_equal(total_of(RID), 3);
}

/* Fetch a dump; returns the response (release it). */
static struct th_resp dump(const char *query, long want)
{
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	char path[512];
	snprintf(path, sizeof path, "/datastore/dump/" RID "%s", query);
	long st = th_get(c, path, &r);
	if (st != want)
		fail_msg("%s: %ld %.*s", path, st, (int)r.len, r.body ? r.body : "");
	th_client_free(c);
	return r;
}

static void header_has(struct th_resp *r, const char *name, const char *want)
{
	char *v = th_header(r, name);
	if (!v || !strstr(v, want))
		fail_msg("%s: \"%s\", not \"%s\"", name, v ? v : "(none)", want);
	free(v);
}

static void dumps_in_each_format(void **state)
{
	(void)state;
	fresh_table();
	struct th_resp r = dump("", 200);
	header_has(&r, "Content-Type", "text/csv");
	/* named after the dataset, not the resource id, with the title for browsers */
	header_has(&r, "Content-Disposition",
		   "attachment; filename=\"minimum-living-allowance.csv\"");
	header_has(&r, "Content-Disposition", "filename*=UTF-8''");
	static const char csv[] = "_id,code,name,n,amount,day,ok\r\n"
				  "1,007,\"宁波市\n海曙区, \"\"老城\"\"\",1,2.5,2024-02-29,true\r\n"
				  "2,010,杭州,20,-3,,false\r\n"
				  "3,011,温州,30,,,\r\n";
	assert_int_equal(r.len, strlen(csv));
	assert_memory_equal(r.body, csv, r.len);
	th_resp_release(&r);

	r = dump("?format=csv&bom=true&fields=code,n&filters=%7B%22n%22%3A%7B%22gt%22%3A10%7D%7D",
		 200);
	assert_string_equal(r.body, "\xef\xbb\xbf"
				    "code,n\r\n010,20\r\n011,30\r\n");
	th_resp_release(&r);

	/* a cell a spreadsheet would run as a formula is written as text; raw keeps it */
	assert_int_equal(call(mz, "datastore_upsert",
			      "{\"resource_id\":\"" RID "\",\"force\":true,\"method\":\"insert\","
			      "\"records\":[{\"code\":\"=1+2\",\"name\":\"@SUM(A1)\",\"n\":40}]}",
			      NULL),
			 200);
	r = dump("?fields=code,name&filters=%7B%22n%22%3A40%7D", 200);
	assert_string_equal(r.body, "code,name\r\n'=1+2,'@SUM(A1)\r\n");
	th_resp_release(&r);
	r = dump("?fields=code,name&filters=%7B%22n%22%3A40%7D&raw=true", 200);
	assert_string_equal(r.body, "code,name\r\n=1+2,@SUM(A1)\r\n");
	th_resp_release(&r);
	fresh_table();

	r = dump("?format=tsv&fields=code,name&limit=2", 200);
	header_has(&r, "Content-Type", "text/tab-separated-values");
	assert_string_equal(r.body, "code\tname\r\n007\t\"宁波市\n海曙区, \"\"老城\"\"\"\r\n"
				    "010\t杭州\r\n");
	th_resp_release(&r);

	r = dump("?format=json", 200);
	header_has(&r, "Content-Type", "application/json");
	json_t *j = json_loadb(r.body, r.len, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "records")), 3);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(j, "fields"), 3), "id")),
			    "n");
	json_t *row1 = json_array_get(json_object_get(j, "records"), 0);
	assert_string_equal(json_string_value(json_array_get(row1, 2)), "宁波市\n海曙区, \"老城\"");
	assert_int_equal(json_integer_value(json_array_get(row1, 3)), 1);
	json_decref(j);
	th_resp_release(&r);

	r = dump("?format=xlsx", 200);
	header_has(&r, "Content-Type", "spreadsheetml.sheet");
	header_has(&r, "Content-Disposition", ".xlsx\"");
	char dir[] = "/tmp/dgov-xlsx-XXXXXX", path[128], cmd[1024];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/t.xlsx", dir);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(r.body, 1, r.len, fp), r.len);
	fclose(fp);
	th_resp_release(&r);
	/* the zip's CRCs and every part's XML, checked by Debian's unzip and xmllint */
	snprintf(cmd, sizeof cmd, "unzip -tqq %s >/dev/null", path);
	assert_int_equal(system(cmd), 0);
	static const char *const parts[] = {"[[]Content_Types].xml", "_rels/.rels",
					    "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
					    "xl/worksheets/sheet1.xml"};
	for (size_t i = 0; i < 5; i++) {
		snprintf(cmd, sizeof cmd, "unzip -p %s '%s' | xmllint --noout -", path, parts[i]);
		if (system(cmd) != 0)
			fail_msg("part %s is not well-formed XML", parts[i]);
	}
	/* numbers are numbers, text is inline and escaped, NULL cells are absent */
	snprintf(cmd, sizeof cmd,
		 "unzip -p %s xl/worksheets/sheet1.xml | grep -q '<c r=\"D2\"><v>1</v></c>'"
		 " && unzip -p %s xl/worksheets/sheet1.xml | grep -q '&quot;\\|\"老城\"'"
		 " && unzip -p %s xl/worksheets/sheet1.xml | grep -q '<c r=\"G3\" t=\"b\"><v>0</v>'"
		 " && ! unzip -p %s xl/worksheets/sheet1.xml | grep -q 'r=\"F3\"'",
		 path, path, path, path);
	assert_int_equal(system(cmd), 0);
	/* LibreOffice, only where it is installed already */
	if (system("command -v soffice >/dev/null 2>&1") == 0) {
		snprintf(cmd, sizeof cmd,
			 "cd %s && soffice --headless --convert-to csv t.xlsx >/dev/null 2>&1"
			 " && grep -q '杭州' t.csv",
			 dir);
		assert_int_equal(system(cmd), 0);
	}
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);

	/* bad requests */
	r = dump("?format=xml", 400);
	th_resp_release(&r);
	r = dump("?fields=nope", 400);
	th_resp_release(&r);
	struct th_client *c = th_client_new(th_shared);
	assert_int_equal(th_get(c, "/datastore/dump/no-such-resource", &r), 404);
	th_resp_release(&r);
	th_client_free(c);
}

/* A big table made straight in the store (the API's caps are not the point here). */
static void fill(int64_t rows)
{
	struct dg_db *db = NULL;
	struct dg_ds_table t;
	char sql[512];
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_ds_sql_lookup(db, RID, &t), DG_OK);
	snprintf(sql, sizeof sql,
		 "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %lld)"
		 " INSERT INTO \"%s\" (code, name, n) SELECT 'k' || x, 'row ' || x, x FROM c",
		 (long long)rows, t.table);
	assert_int_equal(dg_db_exec(db, sql, DG_NOARGS, NULL), DG_OK);
	assert_int_equal(dg_ds_sql_count_add(db, RID, rows), DG_OK);
	json_decref(t.fields);
	dg_db_put(db);
}

static void dump_pages_and_time_budget(void **state)
{
	(void)state;
	json_t *ans = NULL;
	fresh_table();
	fill(200000);
	assert_int_equal(total_of(RID), 200003);
	/* a dump of several pages: every row once, in _id order */
	struct th_resp r = dump("?fields=_id&limit=12001", 200);
	size_t lines = 0;
	for (size_t i = 0; i < r.len; i++)
		lines += r.body[i] == '\n';
	assert_int_equal(lines, 12002);
	assert_non_null(strstr(r.body, "\r\n12001\r\n"));
	th_resp_release(&r);
	/* a search that scans every row (no index on name), with a budget of 1 ms: cut
	 * off, CKAN's error */
	static const char scan[] =
		"{\"resource_id\":\"" RID "\",\"filters\":{\"name\":\"no such text\"}}";
	dg_datastore_set_budget_ms(1);
	long st = call(NULL, "datastore_search", scan, &ans);
	dg_datastore_set_budget_ms(0);
	expect(st, 409, &ans, "query", "Search took too long");
	/* with the default budget the same search runs to its end */
	assert_int_equal(call(NULL, "datastore_search", scan, &ans), 200);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(ans, "result"), "total")), 0);
	json_decref(ans);
	/* keyset paging walks the table by next_page */
	assert_int_equal(call(NULL, "datastore_search",
			      "{\"resource_id\":\"" RID "\",\"limit\":2,\"fields\":\"code\","
			      "\"filters\":{\"_id\":{\"gt\":199990}}}",
			      &ans),
			 200);
	json_t *res = json_object_get(ans, "result");
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(res, "next_page"), "_id"), "gt")),
			 199992);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(res, "records"), 1), "code")),
			    "k199989");
	json_decref(ans);
}

/* The total of a search filtered on n >= min (the same query each time). */
static long long filtered_total(int min)
{
	json_t *ans = NULL;
	char body[256];
	snprintf(body, sizeof body,
		 "{\"resource_id\":\"" RID "\",\"limit\":1,\"filters\":{\"n\":{\"gte\":%d}}}", min);
	long st = call(NULL, "datastore_search", body, &ans);
	long long n = st == 200 ? (long long)json_integer_value(
					  json_object_get(json_object_get(ans, "result"), "total"))
				: -1;
	json_decref(ans);
	return n;
}

/*
 * A filtered total is remembered for the table as it is: every kind of write
 * (an update that moves a row in or out of the filter, an insert, a delete
 * of records, the table dropped and made again) gives the next search the
 * new count, never the remembered one.
 */
static void filtered_totals_follow_writes(void **state)
{
	(void)state;
	fresh_table();
	assert_int_equal(filtered_total(20), 2); /* 010 (20), 011 (30) */
	assert_int_equal(filtered_total(20), 2); /* asked again: the same */
	/* each write, then the total of the same filtered search */
	const struct {
		const char *who, *action, *body;
		long status;
		long long total;
	} steps[] = {
		/* an update moves 007 into the filter: same row count, new total */
		{mz, "datastore_upsert",
		 "{\"resource_id\":\"" RID "\",\"force\":true,\"method\":\"update\","
		 "\"records\":[{\"code\":\"007\",\"n\":25}]}",
		 200, 3},
		/* an insert */
		{mz, "datastore_upsert",
		 "{\"resource_id\":\"" RID "\",\"force\":true,\"method\":\"insert\","
		 "\"records\":[{\"code\":\"012\",\"n\":40}]}",
		 200, 4},
		/* records deleted by a filter */
		{mz, "datastore_delete",
		 "{\"resource_id\":\"" RID "\",\"force\":true,\"filters\":{\"code\":\"011\"}}", 200,
		 3},
		/* a refused write changes nothing, and the total stays right */
		{cit, "datastore_upsert",
		 "{\"resource_id\":\"" RID "\",\"force\":true,"
		 "\"records\":[{\"code\":\"013\",\"n\":50}]}",
		 403, 3},
	};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		assert_int_equal(call(steps[i].who, steps[i].action, steps[i].body, NULL),
				 steps[i].status);
		assert_int_equal(filtered_total(20), steps[i].total);
	}
	assert_int_equal(total_of(RID), 3);
	/* the table dropped and made again with its first three rows */
	fresh_table();
	assert_int_equal(filtered_total(20), 2);
}

/* The records of a datastore_search (owned), with or without the total. */
static json_t *records_of(const char *query, bool with_total)
{
	json_t *ans = NULL, *body = json_loads(query, 0, NULL);
	json_object_set_new(body, "include_total", json_boolean(with_total));
	char *text = json_dumps(body, 0);
	assert_int_equal(call(NULL, "datastore_search", text, &ans), 200);
	json_t *recs = json_incref(json_object_get(json_object_get(ans, "result"), "records"));
	free(text);
	json_decref(body);
	json_decref(ans);
	return recs;
}

/*
 * A page of a large share of the rows, sorted on an indexed column: with the
 * total known, SQLite reads it from the sort column's index (choose_index in
 * datastore/search.c), without it from the filter; the rows are the same either way.
 */
static void page_from_the_sort_index(void **state)
{
	(void)state;
	fresh_table();
	fill(20000);
	struct dg_db *db = NULL;
	struct dg_ds_table t;
	char names[6][DG_DS_NAME_MAX] = {"code", "name", "n", "amount", "day", "ok"};
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_ds_sql_lookup(db, RID, &t), DG_OK);
	assert_int_equal(dg_ds_sql_index(db, t.table, 6, names), DG_OK);
	json_decref(t.fields);
	dg_db_put(db);
	static const char *const queries[] = {
		"{\"resource_id\":\"" RID "\",\"limit\":20,\"offset\":100,\"sort\":\"n desc\","
		"\"filters\":{\"n\":{\"gte\":5000}}}",
		"{\"resource_id\":\"" RID "\",\"limit\":7,\"offset\":3,\"sort\":\"name, n desc\","
		"\"filters\":{\"n\":{\"lt\":15000}}}",
		"{\"resource_id\":\"" RID "\",\"limit\":5,\"sort\":\"code\","
		"\"filters\":{\"n\":[7, 8, 9, 19000]}}",
	};
	for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
		json_t *a = records_of(queries[i], true), *b = records_of(queries[i], false);
		if (!json_equal(a, b) || json_array_size(a) == 0)
			fail_msg("query %zu: the page differs with the total", i);
		if (i == 0) /* 20000 rows of n = 1..20000 and the three first ones (n <= 30) */
			assert_int_equal(
				json_integer_value(json_object_get(json_array_get(a, 0), "n")),
				19900);
		json_decref(a);
		json_decref(b);
	}
}

/* ---- names as CKAN allows them, sort clauses, include_records, _table_metadata ---- */

/* A table whose names are Chinese, hold spaces and mix case, keyed by 名称. */
static const char names_body[] =
	"{\"resource_id\":\"" RID "\",\"force\":true,"
	"\"fields\":[{\"id\":\"名称\",\"type\":\"text\"},{\"id\":\"人口 数\",\"type\":\"int\"},"
	"{\"id\":\"Café au lait\",\"type\":\"numeric\"}],"
	"\"primary_key\":\"名称\","
	"\"records\":[{\"名称\":\"甲\",\"人口 数\":30,\"Café au lait\":1.5},"
	"{\"名称\":\"乙\",\"人口 数\":null},{\"名称\":\"丙\",\"人口 数\":10}]}";

/* The values of one column of a search's records, joined by "|". */
static char *column_of(const char *body, const char *col)
{
	json_t *ans = NULL;
	if (call(NULL, "datastore_search", body, &ans) != 200)
		fail_msg("%s: %s", body, json_dumps(ans, JSON_ENCODE_ANY));
	json_t *recs = json_object_get(json_object_get(ans, "result"), "records"), *rec;
	size_t i;
	char out[512] = "";
	json_array_foreach (recs, i, rec) {
		json_t *v = json_object_get(rec, col);
		char one[64];
		if (json_is_integer(v))
			snprintf(one, sizeof one, "%lld", (long long)json_integer_value(v));
		else
			snprintf(one, sizeof one, "%s",
				 json_is_string(v) ? json_string_value(v) : "null");
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? "|" : "", one);
	}
	json_decref(ans);
	return strdup(out);
}

static void expect_column(const char *body, const char *col, const char *want)
{
	char *got = column_of(body, col);
	if (strcmp(got, want) != 0)
		fail_msg("%s: %s is \"%s\", not \"%s\"", body, col, got, want);
	free(got);
}

static void unicode_names_everywhere(void **state)
{
	(void)state;
	json_t *ans = NULL;
	call(mz, "datastore_delete", "{\"resource_id\":\"" RID "\",\"force\":true}", NULL);
	assert_int_equal(call(mz, "datastore_create", names_body, &ans), 200);
	json_t *f = json_object_get(json_object_get(ans, "result"), "fields");
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 1), "id")),
			    "人口 数");
	json_decref(ans);

	/* filters, q, fields and sort name them; quoted or not, with nulls placed */
	expect_column("{\"resource_id\":\"" RID "\",\"sort\":\"\\\"人口 数\\\" desc nulls last\"}",
		      "名称", "甲|丙|乙");
	expect_column("{\"resource_id\":\"" RID "\",\"sort\":\"人口 数 ASC NULLS FIRST\"}", "名称",
		      "乙|丙|甲");
	expect_column("{\"resource_id\":\"" RID "\",\"sort\":[\"人口 数 desc nulls first\"]}",
		      "名称", "乙|甲|丙");
	expect_column("{\"resource_id\":\"" RID "\",\"sort\":\"人口 数 nulls last\"}", "人口 数",
		      "10|30|null");
	expect_column("{\"resource_id\":\"" RID "\",\"filters\":{\"人口 数\":{\"gte\":20}},"
		      "\"fields\":[\"名称\",\"人口 数\"]}",
		      "名称", "甲");
	expect_column("{\"resource_id\":\"" RID
		      "\",\"q\":{\"名称\":\"丙\"},\"fields\":\"名称, 人口 数\"}",
		      "人口 数", "10");
	assert_int_equal(call(NULL, "datastore_search",
			      "{\"resource_id\":\"" RID "\",\"fields\":[\"Café au lait\"],"
			      "\"filters\":{\"名称\":\"甲\"}}",
			      &ans),
			 200);
	json_t *rec = json_array_get(json_object_get(json_object_get(ans, "result"), "records"), 0);
	assert_true(json_real_value(json_object_get(rec, "Café au lait")) == 1.5);
	assert_int_equal(json_object_size(rec), 1);
	json_decref(ans);

	/* the dump's header row and its fields parameter */
	struct th_resp r = dump("?fields=%E5%90%8D%E7%A7%B0,%E4%BA%BA%E5%8F%A3%20%E6%95%B0", 200);
	assert_non_null(r.body);
	assert_true(strncmp(r.body, "名称,人口 数\r\n甲,30\r\n",
			    strlen("名称,人口 数\r\n甲,30\r\n")) == 0);
	th_resp_release(&r);

	/* upsert by the Chinese key; include_records gives the rows as stored, with _id */
	assert_int_equal(call(mz, "datastore_upsert",
			      "{\"resource_id\":\"" RID
			      "\",\"force\":true,\"include_records\":true,"
			      "\"records\":[{\"名称\":\"乙\",\"人口 数\":\"20\"},"
			      "{\"名称\":\"丁\",\"Café au lait\":\"2\"}]}",
			      &ans),
			 200);
	json_t *recs = json_object_get(json_object_get(ans, "result"), "records");
	assert_int_equal(json_array_size(recs), 2);
	rec = json_array_get(recs, 0);
	assert_int_equal(json_integer_value(json_object_get(rec, "_id")), 2);
	assert_int_equal(json_integer_value(json_object_get(rec, "人口 数")), 20);
	assert_true(json_is_null(json_object_get(rec, "Café au lait")));
	rec = json_array_get(recs, 1);
	assert_int_equal(json_integer_value(json_object_get(rec, "_id")), 4);
	assert_string_equal(json_string_value(json_object_get(rec, "名称")), "丁");
	assert_true(json_real_value(json_object_get(rec, "Café au lait")) == 2.0);
	assert_true(json_is_null(json_object_get(rec, "人口 数")));
	json_decref(ans);
	assert_int_equal(total_of(RID), 4);

	/* delete's include_deleted_records: the rows removed, with _id */
	assert_int_equal(call(mz, "datastore_delete",
			      "{\"resource_id\":\"" RID "\",\"force\":true,"
			      "\"include_deleted_records\":true,"
			      "\"filters\":{\"人口 数\":{\"gte\":20}}}",
			      &ans),
			 200);
	recs = json_object_get(json_object_get(ans, "result"), "deleted_records");
	assert_int_equal(json_array_size(recs), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(recs, 0), "_id")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 1), "名称")),
			    "乙");
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(ans, "result"), "deleted")), 2);
	json_decref(ans);
	assert_int_equal(total_of(RID), 2);
	/* without it, no rows in the answer */
	assert_int_equal(call(mz, "datastore_delete",
			      "{\"resource_id\":\"" RID "\",\"force\":true,"
			      "\"filters\":{\"名称\":\"丁\"}}",
			      &ans),
			 200);
	assert_null(json_object_get(json_object_get(ans, "result"), "deleted_records"));
	json_decref(ans);
	assert_int_equal(total_of(RID), 1);
}

static void bad_names_change_nothing(void **state)
{
	(void)state;
	json_t *ans = NULL;
	call(mz, "datastore_delete", "{\"resource_id\":\"" RID "\",\"force\":true}", NULL);
	assert_int_equal(call(mz, "datastore_create", names_body, NULL), 200);
	static const struct {
		const char *action, *body, *key, *want;
	} cases[] = {
		{"datastore_create", "{\"fields\":[{\"id\":\"a\\\"b\",\"type\":\"text\"}]}",
		 "fields", "double quote"},
		{"datastore_create", "{\"fields\":[{\"id\":\"a\\tb\",\"type\":\"text\"}]}",
		 "fields", "control character"},
		/* 22 Chinese characters: 66 bytes */
		{"datastore_create",
		 "{\"fields\":[{\"id\":\"一二三四五六七八九十一二三四五六七八九十一二\",\"type\":"
		 "\"text\"}]}",
		 "fields", "over 63 bytes"},
		{"datastore_create",
		 "{\"fields\":[{\"id\":\"café au lait\",\"type\":\"numeric\"}]}", "fields",
		 "Duplicate column names"},
		{"datastore_create",
		 "{\"fields\":[{\"id\":\"x\",\"type\":\"text\"},{\"id\":\"x\",\"type\":\"text\"}]}",
		 "fields", "Duplicate column names"},
		{"datastore_create", "{\"fields\":[{\"id\":\" 名称\",\"type\":\"text\"}]}",
		 "fields", "starts with a space"},
		{"datastore_create", "{\"fields\":[{\"id\":\"名称\\u3000\",\"type\":\"text\"}]}",
		 "fields", "ends with a space"},
		{"datastore_create", "{\"fields\":[{\"id\":\"a,b\",\"type\":\"text\"}]}", "fields",
		 "comma"},
		/* "café" with a combining accent looks like the column "café" (NFC): refused */
		{"datastore_create", "{\"fields\":[{\"id\":\"cafe\\u0301\",\"type\":\"text\"}]}",
		 "fields", "normalization form C (NFC)"},
		{"datastore_create", "{\"fields\":[{\"id\":\"\",\"type\":\"text\"}]}", "fields",
		 "empty"},
		{"datastore_create", "{\"fields\":[{\"id\":\"新列\",\"type\":\"int9\"}]}", "fields",
		 "not a valid field type"},
		{"datastore_create", "{\"records\":[{\"a\\\"b\":1}]}", "fields", "double quote"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char body[512];
		snprintf(body, sizeof body, "{\"resource_id\":\"" RID "\",\"force\":true,%s",
			 cases[i].body + 1);
		long st = call(mz, cases[i].action, body, &ans);
		if (st != 409 || !strstr(err_of(ans, cases[i].key), cases[i].want))
			fail_msg("case %zu (%s %s): %ld %s", i, cases[i].action, cases[i].body, st,
				 json_dumps(ans, JSON_ENCODE_ANY));
		assert_string_equal(err_of(ans, "__type"), "Validation Error");
		json_decref(ans);
	}
	/* a NUL in a name cannot be sent: a JSON body holding \u0000 is refused whole */
	expect(call(mz, "datastore_create",
		    "{\"resource_id\":\"" RID "\",\"force\":true,"
		    "\"fields\":[{\"id\":\"a\\u0000b\",\"type\":\"text\"}]}",
		    &ans),
	       400, &ans, NULL, NULL);
	/* sorts that name no column, or nothing */
	static const char *const sorts[] = {
		"\"nope\"",          "\"\\\"人口 数\\\" sideways\"", "\"人口\"",
		"\"\\\"\\\" desc\"", "[\"名称\", \" nulls last\"]",
	};
	for (size_t i = 0; i < sizeof sorts / sizeof sorts[0]; i++) {
		char body[256];
		snprintf(body, sizeof body, "{\"resource_id\":\"" RID "\",\"sort\":%s}", sorts[i]);
		long st = call(NULL, "datastore_search", body, &ans);
		if (st != 409 || !err_of(ans, "sort")[0])
			fail_msg("sort %s: %ld %s", sorts[i], st, json_dumps(ans, JSON_ENCODE_ANY));
		json_decref(ans);
	}
	/* nothing above changed the table */
	assert_int_equal(total_of(RID), 3);
	assert_int_equal(call(NULL, "datastore_info", "{\"resource_id\":\"" RID "\"}", &ans), 200);
	assert_int_equal(json_array_size(json_object_get(json_object_get(ans, "result"), "fields")),
			 4);
	json_decref(ans);
}

/* Whether _table_metadata, as who sees it, lists resource id rid. */
static bool listed(const char *who, const char *rid)
{
	json_t *ans = NULL, *rec;
	size_t i;
	bool found = false;
	assert_int_equal(call(who, "datastore_search",
			      "{\"resource_id\":\"_table_metadata\",\"limit\":1000}", &ans),
			 200);
	json_t *res = json_object_get(ans, "result");
	json_array_foreach (json_object_get(res, "records"), i, rec) {
		found = found || strcmp(json_string_value(json_object_get(rec, "name")), rid) == 0;
		assert_true(json_is_null(json_object_get(rec, "alias_of")));
		assert_int_equal(strlen(json_string_value(json_object_get(rec, "_id"))), 16);
	}
	assert_int_equal(json_integer_value(json_object_get(res, "total")),
			 json_array_size(json_object_get(res, "records")));
	json_decref(ans);
	return found;
}

static void table_metadata_lists_readable_tables(void **state)
{
	(void)state;
	json_t *ans = NULL;
	call(mz, "datastore_delete", "{\"resource_id\":\"" RID "\",\"force\":true}", NULL);
	assert_int_equal(call(mz, "datastore_create", names_body, NULL), 200);
	assert_true(listed(NULL, RID));
	assert_true(listed(cit, RID));
	/* a closed dataset's table is listed only to those who may read it */
	assert_false(listed(NULL, CLOSED_RID));
	assert_false(listed(cit, CLOSED_RID));
	assert_true(listed(adm, CLOSED_RID));
	/* paging */
	assert_int_equal(call(NULL, "datastore_search",
			      "{\"resource_id\":\"_table_metadata\",\"limit\":1,\"offset\":1}",
			      &ans),
			 200);
	assert_int_equal(
		json_array_size(json_object_get(json_object_get(ans, "result"), "records")), 1);
	json_decref(ans);
	/* what it cannot do is refused, not ignored */
	expect(call(NULL, "datastore_search",
		    "{\"resource_id\":\"_table_metadata\",\"filters\":{\"name\":\"x\"}}", &ans),
	       409, &ans, "filters", "_table_metadata");
	expect(call(NULL, "datastore_search", "{\"resource_id\":\"_table_metadata\",\"limit\":-1}",
		    &ans),
	       409, &ans, "limit", "integer");
	/* it is not a table to write */
	expect(call(adm, "datastore_upsert",
		    "{\"resource_id\":\"_table_metadata\",\"records\":[{\"name\":\"x\"}]}", &ans),
	       404, &ans, NULL, NULL);
}

/* timestamp and json columns, and dates as people write them, on both stores alike */
static void timestamps_and_json(void **state)
{
	(void)state;
	json_t *ans = NULL;
	call(mz, "datastore_delete", "{\"resource_id\":\"" RID "\",\"force\":true}", NULL);
	assert_int_equal(
		call(mz, "datastore_create",
		     "{\"resource_id\":\"" RID "\",\"force\":true,"
		     "\"fields\":[{\"id\":\"at\",\"type\":\"timestamp\"},{\"id\":\"doc\",\"type\":"
		     "\"json\"},{\"id\":\"day\",\"type\":\"date\"}],"
		     "\"records\":[{\"at\":\"2024-01-05 08:30\",\"doc\":{\"a\":[1,2]},"
		     "\"day\":\"2024/1/5\",\"extra\":{\"k\":true}},"
		     "{\"at\":\"2024-01-05T23:59:59.500\",\"doc\":[1,\"x\"],\"day\":\"2024-01-06\"}"
		     ","
		     "{\"at\":null,\"doc\":null}]}",
		     &ans),
		200);
	/* a field guessed from an object is json */
	json_t *f = json_object_get(json_object_get(ans, "result"), "fields");
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 0), "type")),
			    "timestamp");
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 3), "id")),
			    "extra");
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 3), "type")),
			    "json");
	json_decref(ans);

	assert_int_equal(call(NULL, "datastore_search",
			      "{\"resource_id\":\"" RID "\",\"sort\":\"at desc nulls last\"}",
			      &ans),
			 200);
	json_t *res = json_object_get(ans, "result");
	json_t *recs = json_object_get(res, "records");
	json_t *r0 = json_array_get(recs, 0), *r1 = json_array_get(recs, 1);
	assert_string_equal(json_string_value(json_object_get(r0, "at")), "2024-01-05T23:59:59.5");
	assert_string_equal(json_string_value(json_object_get(r1, "at")), "2024-01-05T08:30:00");
	assert_string_equal(json_string_value(json_object_get(r1, "day")), "2024-01-05");
	json_t *want = json_loads("{\"a\":[1,2]}", 0, NULL);
	assert_true(json_equal(json_object_get(r1, "doc"), want));
	json_decref(want);
	want = json_loads("[1,\"x\"]", 0, NULL);
	assert_true(json_equal(json_object_get(r0, "doc"), want));
	json_decref(want);
	assert_true(json_is_true(json_object_get(json_object_get(r1, "extra"), "k")));
	assert_true(json_is_null(json_object_get(json_array_get(recs, 2), "extra")));
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(res, "fields"), 2), "type")),
			    "json");
	json_decref(ans);

	/* filters compare timestamps and dates, written either way */
	expect_column("{\"resource_id\":\"" RID
		      "\",\"filters\":{\"at\":{\"gte\":\"2024-01-05 12:00\"}}}",
		      "day", "2024-01-06");
	expect_column("{\"resource_id\":\"" RID "\",\"filters\":{\"day\":\"2024/1/6\"}}", "at",
		      "2024-01-05T23:59:59.5");
	expect_column("{\"resource_id\":\"" RID "\",\"q\":{\"at\":\"08:30\"}}", "day",
		      "2024-01-05");
	/* a json column is text in CSV */
	assert_int_equal(call(NULL, "datastore_search",
			      "{\"resource_id\":\"" RID "\",\"fields\":\"doc\",\"limit\":1,"
			      "\"records_format\":\"csv\"}",
			      &ans),
			 200);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(ans, "result"), "records")),
		"\"{\"\"a\"\":[1,2]}\"\n");
	json_decref(ans);
	struct th_resp r = dump("?fields=doc&format=xlsx", 200);
	th_resp_release(&r);
	r = dump("?fields=doc", 200);
	assert_non_null(strstr(r.body, "\"[1,\"\"x\"\"]\""));
	th_resp_release(&r);

	/* refused, and nothing changed */
	expect(call(NULL, "datastore_search",
		    "{\"resource_id\":\"" RID "\",\"filters\":{\"doc\":\"{}\"}}", &ans),
	       409, &ans, "filters", "json");
	expect(call(mz, "datastore_upsert",
		    "{\"resource_id\":\"" RID "\",\"force\":true,\"method\":\"insert\","
		    "\"records\":[{\"at\":\"2024-01-05 25:00\"}]}",
		    &ans),
	       409, &ans, "records", "is not timestamp");
	expect(call(mz, "datastore_upsert",
		    "{\"resource_id\":\"" RID "\",\"force\":true,\"method\":\"insert\","
		    "\"records\":[{\"day\":\"2023/2/29\"}]}",
		    &ans),
	       409, &ans, "records", "is not date");
	expect(call(mz, "datastore_create",
		    "{\"resource_id\":\"" RID "\",\"force\":true,"
		    "\"fields\":[{\"id\":\"at\",\"type\":\"date\"}]}",
		    &ans),
	       409, &ans, "fields", "cannot change");
	assert_int_equal(total_of(RID), 3);
}

/* array columns: lists in, the same lists out on both stores, element types checked */
static void arrays(void **state)
{
	(void)state;
	json_t *ans = NULL;
	call(mz, "datastore_delete", "{\"resource_id\":\"" RID "\",\"force\":true}", NULL);
	assert_int_equal(
		call(mz, "datastore_create",
		     "{\"resource_id\":\"" RID "\",\"force\":true,"
		     "\"fields\":[{\"id\":\"tags\",\"type\":\"_text\"},"
		     "{\"id\":\"ns\",\"type\":\"int[]\"},{\"id\":\"xs\",\"type\":\"_float8\"}],"
		     "\"records\":[{\"tags\":[\"a\",\"b c\",null],\"ns\":[1,-2],\"xs\":[1.5,2]},"
		     "{\"tags\":[],\"ns\":null}]}",
		     &ans),
		200);
	json_t *f = json_object_get(json_object_get(ans, "result"), "fields");
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 0), "type")),
			    "_text");
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 1), "type")),
			    "_int8");
	assert_string_equal(json_string_value(json_object_get(json_array_get(f, 2), "type")),
			    "_numeric");
	json_decref(ans);
	assert_int_equal(call(NULL, "datastore_search", "{\"resource_id\":\"" RID "\"}", &ans),
			 200);
	json_t *recs = json_object_get(json_object_get(ans, "result"), "records");
	json_t *want =
		json_loads("[{\"_id\":1,\"tags\":[\"a\",\"b c\",null],\"ns\":[1,-2],"
			   "\"xs\":[1.5,2]},{\"_id\":2,\"tags\":[],\"ns\":null,\"xs\":null}]",
			   0, NULL);
	if (!json_equal(recs, want))
		fail_msg("%s", json_dumps(recs, JSON_COMPACT));
	json_decref(want);
	json_decref(ans);
	/* a table made again from the types answered keeps them */
	assert_int_equal(
		call(mz, "datastore_create",
		     "{\"resource_id\":\"" RID "\",\"force\":true,"
		     "\"fields\":[{\"id\":\"tags\",\"type\":\"_text\"},"
		     "{\"id\":\"ns\",\"type\":\"_int8\"},{\"id\":\"xs\",\"type\":\"_numeric\"}]}",
		     NULL),
		200);
	/* refused, and nothing changed */
	static const char *const bad[] = {
		"{\"tags\":[\"a\",1]}", "{\"tags\":\"a\"}", "{\"ns\":[1.5]}",
		"{\"ns\":[\"1\"]}",     "{\"xs\":[true]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char body[256];
		snprintf(body, sizeof body,
			 "{\"resource_id\":\"" RID "\",\"force\":true,\"method\":\"insert\","
			 "\"records\":[%s]}",
			 bad[i]);
		expect(call(mz, "datastore_upsert", body, &ans), 409, &ans, "records",
		       "is a list of");
	}
	expect(call(NULL, "datastore_search",
		    "{\"resource_id\":\"" RID "\",\"filters\":{\"tags\":\"a\"}}", &ans),
	       409, &ans, "filters", "cannot be filtered");
	expect(call(mz, "datastore_create",
		    "{\"resource_id\":\"" RID "\",\"force\":true,"
		    "\"fields\":[{\"id\":\"d\",\"type\":\"_date\"}]}",
		    &ans),
	       409, &ans, "fields", "not a valid field type");
	assert_int_equal(total_of(RID), 2);
}

static int setup(void **state)
{
	if (th_group_setup(state) != 0)
		return -1;
	mz = token_header(DG_DEMO_STAFF);
	rs = token_header(DG_DEMO_STAFF2);
	cit = token_header(DG_DEMO_CITIZEN);
	adm = token_header(DG_DEMO_ADMIN);
	return 0;
}

static int teardown(void **state)
{
	free(mz);
	free(rs);
	free(cit);
	free(adm);
	return th_group_teardown(state);
}

/* q in the search's words: "{"resource_id": RID, "sort": "_id", "q": <q>}" → the _ids. */
static void expect_q(const char *q, const char *want)
{
	char body[512];
	snprintf(body, sizeof body, "{\"resource_id\":\"" RID "\",\"sort\":\"_id\",\"q\":%s}", q);
	expect_column(body, "_id", want);
}

/* Full-text q on the table's index: words in any order, Chinese, one column, rank, writes. */
static void full_text_q(void **state)
{
	(void)state;
	json_t *ans = NULL;
	call(mz, "datastore_delete", "{\"resource_id\":\"" RID "\",\"force\":true}", NULL);
	assert_int_equal(
		call(mz, "datastore_create",
		     "{\"resource_id\":\"" RID "\",\"force\":true,\"fields\":["
		     "{\"id\":\"name\",\"type\":\"text\"},{\"id\":\"city\",\"type\":\"text\"},"
		     "{\"id\":\"n\",\"type\":\"int\"}],\"records\":["
		     "{\"name\":\"Social insurance registration\",\"city\":\"宁波\",\"n\":10},"
		     "{\"name\":\"registration of 社会保险\",\"city\":\"Beijing\",\"n\":20},"
		     "{\"name\":\"Tax office\",\"city\":\"宁波市海曙区\",\"n\":30}]}",
		     NULL),
		200);
	expect_q("\"registration social\"", "1"); /* every word, in any order */
	expect_q("\"REGIST\"", "1|2");            /* one word, as a prefix, any case */
	expect_q("\"社会保险\"", "2");            /* Chinese by its bigrams */
	expect_q("\"宁波\"", "1|3");
	expect_q("\"海曙\"", "3");
	expect_q("\"20\"", "2");                /* a number column's text too */
	expect_q("\"nothing like it\"", "");    /* no match */
	expect_q("\"!!\"", "");                 /* no word at all: nothing */
	expect_q("{\"city\":\"宁波\"}", "1|3"); /* q on one column */
	expect_q("{\"name\":\"宁波\"}", "");
	expect_q("{\"name\":\"office\",\"city\":\"宁波\"}", "3");
	expect_q("\"{\\\"city\\\":\\\"beijing\\\"}\"", "2"); /* the object as JSON text (GET) */
	/* an unknown column in q: 409, as before */
	expect(call(NULL, "datastore_search",
		    "{\"resource_id\":\"" RID "\",\"q\":{\"nope\":\"x\"}}", &ans),
	       409, &ans, "q", "not in table");
	/* rank when asked, as CKAN names it; without sort the best match first */
	assert_int_equal(call(NULL, "datastore_search",
			      "{\"resource_id\":\"" RID "\",\"q\":\"registration\","
			      "\"fields\":\"_id,rank\"}",
			      &ans),
			 200);
	json_t *res = json_object_get(ans, "result"), *recs = json_object_get(res, "records");
	assert_int_equal(json_array_size(recs), 2);
	assert_true(json_is_real(json_object_get(json_array_get(recs, 0), "rank")));
	assert_true(json_real_value(json_object_get(json_array_get(recs, 0), "rank")) >=
		    json_real_value(json_object_get(json_array_get(recs, 1), "rank")));
	assert_true(json_real_value(json_object_get(json_array_get(recs, 1), "rank")) > 0);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(res, "fields"), 1), "type")),
			    "float");
	assert_int_equal(json_integer_value(json_object_get(res, "total")), 2);
	json_decref(ans);
	/* "rank <col>" for q on a column, equal for equal matches; a rank to sort by */
	assert_int_equal(
		call(NULL, "datastore_search",
		     "{\"resource_id\":\"" RID "\",\"q\":{\"city\":\"宁波\"},"
		     "\"fields\":[\"_id\",\"rank city\"],\"sort\":\"rank city desc, _id\"}",
		     &ans),
		200);
	recs = json_object_get(json_object_get(ans, "result"), "records");
	assert_int_equal(json_array_size(recs), 2);
	assert_true(json_real_value(json_object_get(json_array_get(recs, 0), "rank city")) > 0);
	json_decref(ans);
	/* "rank" is no field without q */
	expect(call(NULL, "datastore_search", "{\"resource_id\":\"" RID "\",\"fields\":\"rank\"}",
		    &ans),
	       409, &ans, "fields", "not in table");
	/* the index follows every write: an update, an insert, a delete */
	assert_int_equal(call(mz, "datastore_upsert",
			      "{\"resource_id\":\"" RID "\",\"force\":true,\"records\":["
			      "{\"_id\":3,\"name\":\"Social tax registration\"},"
			      "{\"_id\":1,\"name\":\"Plain\"}]}",
			      NULL),
			 200);
	expect_q("\"social registration\"", "3");
	expect_q("\"insurance\"", "");
	expect_q("{\"city\":\"宁波\"}", "1|3"); /* the columns not sent keep their words */
	assert_int_equal(call(mz, "datastore_upsert",
			      "{\"resource_id\":\"" RID "\",\"force\":true,\"method\":\"insert\","
			      "\"records\":[{\"name\":\"social housing\",\"city\":\"杭州\"}]}",
			      NULL),
			 200);
	expect_q("\"social\"", "3|4");
	expect_q("\"杭州\"", "4");
	assert_int_equal(call(mz, "datastore_delete",
			      "{\"resource_id\":\"" RID "\",\"force\":true,"
			      "\"filters\":{\"_id\":3}}",
			      NULL),
			 200);
	expect_q("\"social\"", "4");
	/* filters and q together; a dump with q has the same rows */
	expect_column("{\"resource_id\":\"" RID "\",\"q\":\"social\",\"filters\":{\"n\":null}}",
		      "_id", "4");
	struct th_resp r = dump("?q=%E6%9D%AD%E5%B7%9E&fields=_id", 200);
	assert_string_equal(r.body, "_id\r\n4\r\n");
	th_resp_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_upsert_delete_round_trip),
		cmocka_unit_test(refusals_change_nothing),
		cmocka_unit_test(validation_errors),
		cmocka_unit_test(caps),
		cmocka_unit_test(dumps_in_each_format),
		cmocka_unit_test(dump_pages_and_time_budget),
		cmocka_unit_test(filtered_totals_follow_writes),
		cmocka_unit_test(page_from_the_sort_index),
		cmocka_unit_test(unicode_names_everywhere),
		cmocka_unit_test(bad_names_change_nothing),
		cmocka_unit_test(table_metadata_lists_readable_tables),
		cmocka_unit_test(timestamps_and_json),
		cmocka_unit_test(arrays),
		cmocka_unit_test(full_text_q),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
