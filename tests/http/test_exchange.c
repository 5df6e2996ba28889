/*
 * test_exchange.c - data sharing between departments, through the real
 * server on the store DGOV_TEST_DB selects: the directory from the schema
 * file; the record API (only the owner writes; types checked; create,
 * update, end; changes since a version); requests and grants (deny by
 * default, unconditional fields at once, approve, refuse with a reason,
 * revoke, only the owner decides); the exchange API (masked and withheld
 * fields, the signature and its verification, and each refusal: its code,
 * its status, an audit record like a success's, and nothing read); a bulk
 * run as one line on the resident's page; /my/data-use and its CSV; and
 * the audit chain whole at the end.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "app/app.h"
#include "audit/audit.h"
#include "exchange/internal.h"
#include "harness.h"
#include "node/demo.h"
#include "store/store.h"

#define ZHANGSAN_ID "990100198503120313" /* the demo resident zhangsan */
#define LISI_ID     "990100199207040428"

static int seq_ids;

/* A fresh request id for each call. */
static const char *rid(char buf[32])
{
	snprintf(buf, 32, "test-req-%06d", ++seq_ids);
	return buf;
}

struct call {
	const char *client, *key, *purpose, *request_id, *user;
};

/* GET path as a department system; returns the status, *out the JSON body (owned). */
static long xget(const struct call *c, const char *path, json_t **out)
{
	struct th_client *cl = th_client_new(th_shared);
	char h[6][200];
	const char *hdrs[7] = {0};
	int n = 0;
	if (c->client)
		snprintf(h[n], 200, "X-Dgov-Client: %s", c->client), hdrs[n] = h[n], n++;
	if (c->key)
		snprintf(h[n], 200, "X-Dgov-Key: %s", c->key), hdrs[n] = h[n], n++;
	if (c->purpose)
		snprintf(h[n], 200, "X-Dgov-Purpose: %s", c->purpose), hdrs[n] = h[n], n++;
	if (c->request_id)
		snprintf(h[n], 200, "X-Dgov-Request-Id: %s", c->request_id), hdrs[n] = h[n], n++;
	if (c->user)
		snprintf(h[n], 200, "X-Dgov-User-Id: %s", c->user), hdrs[n] = h[n], n++;
	struct th_resp r = {0};
	long st = th_request(cl, "GET", path, NULL, NULL, 0, hdrs, &r);
	if (out)
		*out = r.body ? json_loads(r.body, 0, NULL) : NULL;
	th_resp_release(&r);
	th_client_free(cl);
	return st;
}

static const char *err_code(json_t *j)
{
	return json_string_value(json_object_get(json_object_get(j, "error"), "code"));
}

static int64_t audit_count(const char *kind)
{
	char q[200];
	snprintf(q, sizeof q, "SELECT COUNT(*) FROM audit_log WHERE kind = '%s'", kind);
	return th_sql_int(th_shared, q);
}

static void add_client(const char *dept, const char *system, const char *key, int rate)
{
	unsigned char h[32];
	char hex[65], sql[512];
	crypto_generichash(h, sizeof h, (const unsigned char *)key, strlen(key), NULL, 0);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	snprintf(sql, sizeof sql,
		 "INSERT INTO xr_clients (dept, system, key_hash, rate_per_min, created_ms)"
		 " VALUES ('%s', '%s', '%s', %d, 0)",
		 dept, system, hex, rate);
	th_sql(th_shared, sql);
}

/* POST JSON with an API token header; returns the status, *out the body (owned, may be NULL). */
static long post_json(const char *auth, const char *path, const char *body, json_t **out)
{
	struct th_client *cl = th_client_new(th_shared);
	const char *hdrs[] = {auth, NULL};
	struct th_resp r = {0};
	long st = th_request(cl, "POST", path, "application/json", body, strlen(body),
			     auth ? hdrs : NULL, &r);
	if (out)
		*out = r.body ? json_loads(r.body, 0, NULL) : NULL;
	th_resp_release(&r);
	th_client_free(cl);
	return st;
}

static long get_auth(const char *auth, const char *path, json_t **out)
{
	struct th_client *cl = th_client_new(th_shared);
	const char *hdrs[] = {auth, NULL};
	struct th_resp r = {0};
	long st = th_request(cl, "GET", path, NULL, NULL, 0, auth ? hdrs : NULL, &r);
	if (out)
		*out = r.body ? json_loads(r.body, 0, NULL) : NULL;
	th_resp_release(&r);
	th_client_free(cl);
	return st;
}

static char *admin_tok, *mz_tok, *cit_tok;

static void directory(void **state)
{
	(void)state;
	json_t *j = NULL;
	assert_int_equal(get_auth(mz_tok, "/api/exchange/directory", &j), 200);
	json_t *regs = json_object_get(j, "registries");
	assert_int_equal(json_array_size(regs), 13);
	/* a monthly field is listed with its type */
	size_t i;
	json_t *reg;
	bool monthly = false;
	json_array_foreach (regs, i, reg) {
		if (strcmp(json_string_value(json_object_get(reg, "name")), "tax") != 0)
			continue;
		json_t *inc = json_array_get(json_object_get(reg, "fields"), 0);
		monthly = strcmp(json_string_value(json_object_get(inc, "type")),
				 "monthly money") == 0;
	}
	assert_true(monthly);
	json_t *p = json_array_get(regs, 0);
	assert_string_equal(json_string_value(json_object_get(p, "name")), "person");
	assert_string_equal(json_string_value(json_object_get(p, "owner")), "ga");
	assert_true(json_integer_value(json_object_get(p, "records")) >= 300);
	json_t *f = json_array_get(json_object_get(p, "fields"), 0);
	assert_string_equal(json_string_value(json_object_get(f, "name")), "name");
	assert_string_equal(json_string_value(json_object_get(f, "class")), "personal");
	assert_string_equal(json_string_value(json_object_get(f, "sharing")), "conditional");
	json_decref(j);
	assert_int_equal(get_auth(cit_tok, "/api/exchange/directory", NULL), 403);
	assert_int_equal(get_auth(NULL, "/api/exchange/directory", NULL), 401);
	/* the page, in both languages */
	struct th_client *c = th_client_new(th_shared);
	assert_true(th_login(c, DG_DEMO_STAFF, DG_DEMO_PASSWORD));
	char *b = th_get_body(c, "/exchange/directory", 200);
	assert_non_null(b);
	assert_non_null(strstr(b, "共享目录"));
	assert_non_null(strstr(b, "有条件共享"));
	assert_non_null(strstr(b, "公安局"));
	free(b);
	th_client_free(c);
}

static void records(void **state)
{
	(void)state;
	json_t *j = NULL;
	/* only the owner writes: persons belong to 公安 (ga), not to mz */
	char id[19];
	snprintf(id, sizeof id, "99010020000101001");
	id[17] = dg_id_check_char(id);
	id[18] = 0;
	char body[512];
	snprintf(body, sizeof body,
		 "{\"id\":\"%s\",\"values\":{\"name\":\"测试人\",\"birth_date\":\"2000-01-01\","
		 "\"alive\":true},\"effective\":\"2026-03-01\"}",
		 id);
	assert_int_equal(post_json(mz_tok, "/api/exchange/registries/person/records", body, NULL),
			 403);
	int64_t before = th_sql_int(th_shared, "SELECT COALESCE(MAX(version), 0) FROM xr_changes");
	assert_int_equal(post_json(admin_tok, "/api/exchange/registries/person/records", body, &j),
			 201);
	int64_t v1 = json_integer_value(json_object_get(j, "version"));
	assert_true(v1 > before);
	json_decref(j);
	/* twice is a conflict; a wrong type or field is refused and names it */
	assert_int_equal(
		post_json(admin_tok, "/api/exchange/registries/person/records", body, NULL), 409);
	char bad[512];
	snprintf(bad, sizeof bad, "{\"id\":\"%s\",\"values\":{\"birth_date\":\"2000-13-01\"}}",
		 LISI_ID);
	assert_int_equal(
		post_json(admin_tok, "/api/exchange/registries/person/records/" LISI_ID, bad, &j),
		400);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(j, "error"), "field")),
		"birth_date");
	json_decref(j);
	assert_int_equal(post_json(admin_tok, "/api/exchange/registries/person/records",
				   "{\"id\":\"123\",\"values\":{\"name\":\"x\"}}", NULL),
			 400);
	assert_int_equal(post_json(admin_tok, "/api/exchange/registries/person/records/" LISI_ID,
				   "{\"values\":{\"shoe_size\":42}}", NULL),
			 400);
	assert_int_equal(post_json(admin_tok, "/api/exchange/registries/nope/records",
				   "{\"id\":\"x\",\"values\":{}}", NULL),
			 404);
	/* the sealed value is not in the store in clear */
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM xr_records WHERE data LIKE"
					       " '%测试人%' OR sealed LIKE '%测试人%'"),
			 0);
	char path[256];
	snprintf(path, sizeof path, "/api/exchange/registries/person/records/%s", id);
	assert_int_equal(post_json(admin_tok, path, "{\"values\":{\"alive\":false}}", &j), 200);
	int64_t v2 = json_integer_value(json_object_get(j, "version"));
	assert_true(v2 > v1);
	json_decref(j);
	snprintf(path, sizeof path, "/api/exchange/registries/person/records/%s/end", id);
	assert_int_equal(post_json(admin_tok, path, "{\"effective\":\"2026-04-01\"}", &j), 200);
	json_decref(j);
	assert_int_equal(post_json(admin_tok, path, "{}", NULL), 404);
	/* an ended record cannot be updated */
	snprintf(path, sizeof path, "/api/exchange/registries/person/records/%s", id);
	assert_int_equal(post_json(admin_tok, path, "{\"values\":{\"alive\":true}}", NULL), 404);
	/* what changed since the version before: create, update, end, in order */
	char q[128];
	snprintf(q, sizeof q, "/api/exchange/registries/person/changes?since=%lld",
		 (long long)before);
	assert_int_equal(get_auth(mz_tok, q, &j), 200);
	json_t *ch = json_object_get(j, "changes");
	assert_int_equal(json_array_size(ch), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(ch, 0), "op")),
			    "create");
	assert_string_equal(json_string_value(json_object_get(json_array_get(ch, 1), "op")),
			    "update");
	assert_string_equal(json_string_value(json_object_get(json_array_get(ch, 2), "op")), "end");
	char *dump = json_dumps(ch, 0);
	assert_null(strstr(dump, "测试人"));
	free(dump);
	json_decref(j);
	assert_int_equal(get_auth(mz_tok, "/api/exchange/registries/person/changes?since=-1", NULL),
			 400);
	/* mz owns households */
	assert_int_equal(
		post_json(mz_tok, "/api/exchange/registries/household/records",
			  "{\"id\":\"H-TEST-1\",\"values\":{\"region\":\"990100\",\"size\":2,"
			  "\"dibao_amount\":\"12.5x\"}}",
			  NULL),
		400);
	assert_int_equal(
		post_json(mz_tok, "/api/exchange/registries/household/records",
			  "{\"id\":\"H-TEST-1\",\"values\":{\"region\":\"990100\",\"size\":2,"
			  "\"dibao_amount\":\"12.50\"}}",
			  NULL),
		201);
}

static int64_t request(const char *tok, const char *registry, const char *fields,
		       const char *purpose, const char *mode, const char *ends, long want,
		       const char *want_status)
{
	char body[1024];
	json_t *j = NULL;
	snprintf(body, sizeof body,
		 "{\"registry\":\"%s\",\"fields\":\"%s\",\"purpose\":\"%s\",\"legal_basis\":"
		 "\"测试依据\","
		 "\"mode\":\"%s\",\"ends\":\"%s\"}",
		 registry, fields, purpose, mode, ends);
	assert_int_equal(post_json(tok, "/api/exchange/requests", body, &j), want);
	int64_t id = json_integer_value(json_object_get(j, "id"));
	if (want_status)
		assert_string_equal(json_string_value(json_object_get(j, "status")), want_status);
	json_decref(j);
	return id;
}

static void grants(void **state)
{
	(void)state;
	int64_t changes = audit_count("grant.change");
	/* unconditional fields only: granted at once */
	int64_t a = request(mz_tok, "enterprise", "name,status", "990100-MZ-004", "one",
			    "2030-01-01", 201, "approved");
	/* conditional ones wait; the unconditional part is granted */
	int64_t b = request(mz_tok, "enterprise", "name,legal_rep", "990100-MZ-004", "one",
			    "2030-01-01", 201, "pending");
	assert_int_equal(th_sql_int(th_shared,
				    "SELECT COUNT(*) FROM xr_requests WHERE granted = 'name'"
				    " AND status = 'pending'"),
			 1);
	/* bad requests change nothing */
	int64_t n = th_sql_int(th_shared, "SELECT COUNT(*) FROM xr_requests");
	request(mz_tok, "enterprise", "shoe_size", "990100-MZ-004", "one", "2030-01-01", 400, NULL);
	request(mz_tok, "person", "religion", "990100-MZ-004", "one", "2030-01-01", 400, NULL);
	request(mz_tok, "person", "name", "990100-MZ-004", "one", "2001-01-01", 400, NULL);
	request(mz_tok, "person", "name", "bad purpose!", "one", "2030-01-01", 400, NULL);
	request(mz_tok, "person", "name", "990100-MZ-004", "sideways", "2030-01-01", 400, NULL);
	request(mz_tok, "nope", "name", "990100-MZ-004", "one", "2030-01-01", 400, NULL);
	request(admin_tok, "person", "name", "990100-MZ-004", "one", "2030-01-01", 403, NULL);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM xr_requests"), n);
	assert_int_equal(audit_count("grant.change"), changes + 2);
	/* only the owner (sc) or an administrator decides; mz asked, mz cannot approve */
	char path[128];
	snprintf(path, sizeof path, "/api/exchange/requests/%lld/approve", (long long)b);
	assert_int_equal(post_json(mz_tok, path, "{}", NULL), 403);
	snprintf(path, sizeof path, "/api/exchange/requests/%lld/refuse", (long long)b);
	assert_int_equal(post_json(admin_tok, path, "{}", NULL), 400);
	assert_int_equal(post_json(admin_tok, path, "{\"reason\":\"不需要法定代表人\"}", NULL),
			 200);
	assert_int_equal(post_json(admin_tok, path, "{\"reason\":\"again\"}", NULL), 409);
	snprintf(path, sizeof path, "/api/exchange/requests/%lld/revoke", (long long)a);
	assert_int_equal(post_json(mz_tok, path, "{}", NULL), 403);
	assert_int_equal(post_json(admin_tok, path, "{}", NULL), 200);
	assert_int_equal(post_json(admin_tok, path, "{}", NULL), 409);
	assert_int_equal(post_json(admin_tok, "/api/exchange/requests/999999/approve", "{}", NULL),
			 404);
	assert_int_equal(audit_count("grant.change"), changes + 4);
	json_t *j = NULL;
	assert_int_equal(get_auth(mz_tok, "/api/exchange/requests", &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "dept")), "mz");
	assert_true(json_array_size(json_object_get(j, "asked")) >= 4);
	json_decref(j);
	/* the page: the demo's pending request to decide on, as an administrator */
	struct th_client *c = th_client_new(th_shared);
	assert_true(th_login(c, DG_DEMO_ADMIN, DG_DEMO_PASSWORD));
	char *body = th_get_body(c, "/exchange/requests", 200);
	assert_non_null(body);
	/* the header menu leads here, and marks where the page is */
	assert_non_null(
		strstr(body, "<a href=\"/exchange/directory\" aria-current=\"page\">数据共享</a>"));
	assert_non_null(strstr(body, "待审核"));
	assert_non_null(strstr(body, "登记核验只需身份核验结果"));
	free(body);
	/* a refusal from the page without a reason comes back with the error */
	int64_t pend =
		th_sql_int(th_shared, "SELECT MIN(id) FROM xr_requests WHERE status = 'pending'");
	snprintf(path, sizeof path, "/exchange/requests/%lld/refuse", (long long)pend);
	assert_int_equal(th_post_csrf(c, "/exchange/requests", path, "reason=", NULL), 422);
	th_client_free(c);
	/* the form, as staff: a mistake is answered on the page */
	c = th_client_new(th_shared);
	assert_true(th_login(c, DG_DEMO_STAFF, DG_DEMO_PASSWORD));
	struct th_resp r = {0};
	assert_int_equal(
		th_post_csrf(c, "/exchange/requests", "/exchange/requests",
			     "registry=person&fields=name&purpose=990100-MZ-001&legal_basis="
			     "&mode=one&ends=2030-01-01",
			     &r),
		422);
	assert_non_null(strstr(r.body, "legal_basis-error"));
	th_resp_release(&r);
	assert_int_equal(th_post_csrf(c, "/exchange/requests", "/exchange/requests",
				      "registry=person&fields=hukou_region&purpose=990100-MZ-004&"
				      "legal_basis=x&mode=one&ends=2030-01-01",
				      NULL),
			 303);
	th_client_free(c);
}

static void exchange_read(void **state)
{
	(void)state;
	char b[32];
	json_t *j = NULL;
	int64_t reads = audit_count("exchange.read");
	struct call c = {"mz/dibao", X_DEMO_MZ_KEY, "990100-MZ-001", rid(b), NULL};
	assert_int_equal(xget(&c, "/x/v1/person/" ZHANGSAN_ID "?fields=name,phone,birth_date", &j),
			 200);
	json_t *ans = json_object_get(j, "answer");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(ans, "fields"), "name")), "张三");
	assert_string_equal(json_string_value(json_array_get(json_object_get(ans, "withheld"), 0)),
			    "phone");
	assert_non_null(json_object_get(j, "signature"));
	assert_non_null(json_object_get(j, "request_hash"));
	assert_int_equal(audit_count("exchange.read"), reads + 1);
	/* the signature holds, and not for a changed answer */
	char *text = json_dumps(j, 0);
	json_t *v = NULL;
	assert_int_equal(post_json(NULL, "/x/v1/verify", text, &v), 200);
	assert_true(json_is_true(json_object_get(v, "valid")));
	json_decref(v);
	free(text);
	json_object_set_new(json_object_get(ans, "fields"), "name", json_string("李四"));
	text = json_dumps(j, 0);
	assert_int_equal(post_json(NULL, "/x/v1/verify", text, &v), 200);
	assert_true(json_is_false(json_object_get(v, "valid")));
	json_decref(v);
	free(text);
	json_decref(j);
	assert_int_equal(post_json(NULL, "/x/v1/verify", "[1]", NULL), 400);
	/* rs reads in bulk without clear: personal fields are masked */
	struct call rs = {"rs/pension", X_DEMO_RS_KEY, "990100-RS-003", rid(b), NULL};
	assert_int_equal(xget(&rs, "/x/v1/person?limit=5&fields=name,birth_date,alive", &j), 200);
	json_t *recs = json_object_get(json_object_get(j, "answer"), "records");
	assert_int_equal(json_array_size(recs), 5);
	json_t *r0 = json_array_get(recs, 0);
	assert_non_null(strstr(json_string_value(json_object_get(r0, "id")), "********"));
	assert_non_null(strchr(
		json_string_value(json_object_get(json_object_get(r0, "fields"), "name")), '*'));
	assert_int_equal(json_array_size(json_object_get(r0, "masked")), 2);
	json_decref(j);
	/* the official at the keyboard, initials on the resident's page */
	int64_t staff = th_sql_int(th_shared, "SELECT id FROM users WHERE username = 'mz_zhao'");
	char u[32];
	snprintf(u, sizeof u, "%lld", (long long)staff);
	struct call off = {"mz/dibao", X_DEMO_MZ_KEY, "990100-MZ-001", rid(b), u};
	assert_int_equal(xget(&off, "/x/v1/person/" ZHANGSAN_ID "?fields=name", NULL), 200);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM xr_uses WHERE official = '赵*'"
					       " AND purpose = '990100-MZ-001'"),
			 2);
}

/* One refusal: its status and code, an audit record, nothing read. */
static void refused(const struct call *c, const char *path, long status, const char *code)
{
	int64_t audits = audit_count("exchange.refused"),
		uses = th_sql_int(th_shared, "SELECT COUNT(*) FROM xr_uses"),
		reads = audit_count("exchange.read") + audit_count("exchange.bulk");
	json_t *j = NULL;
	long st = xget(c, path, &j);
	if (st != status || !err_code(j) || strcmp(err_code(j), code) != 0)
		fail_msg("%s: got %ld %s, wanted %ld %s", path, st, err_code(j) ? err_code(j) : "-",
			 status, code);
	json_decref(j);
	assert_int_equal(audit_count("exchange.refused"), audits + 1);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM xr_uses"), uses);
	assert_int_equal(audit_count("exchange.read") + audit_count("exchange.bulk"), reads);
}

static void refusals(void **state)
{
	(void)state;
	char b[32];
	const char *one = "/x/v1/person/" ZHANGSAN_ID "?fields=name";
	struct call c = {"mz/dibao", X_DEMO_MZ_KEY, "990100-MZ-001", NULL, NULL};
	c.request_id = rid(b);
	struct call k = c;
	k.key = NULL;
	refused(&k, one, 401, "missing_key");
	k.key = "not-a-key";
	k.request_id = rid(b);
	refused(&k, one, 401, "bad_key");
	k.key = X_DEMO_RS_KEY; /* another department's key */
	k.request_id = rid(b);
	refused(&k, one, 401, "wrong_department");
	k = c;
	k.client = "mz";
	refused(&k, one, 400, "bad_client");
	k = c;
	k.request_id = "short";
	refused(&k, one, 400, "bad_request_id");
	k.request_id = NULL;
	refused(&k, one, 400, "missing_request_id");
	k = c;
	k.purpose = NULL;
	k.request_id = rid(b);
	refused(&k, one, 400, "missing_purpose");
	/* a replayed request id */
	k = c;
	k.request_id = rid(b);
	assert_int_equal(xget(&k, one, NULL), 200);
	refused(&k, one, 409, "replayed");
	k.request_id = rid(b);
	refused(&k, "/x/v1/nope/" ZHANGSAN_ID, 404, "unknown_registry");
	k.request_id = rid(b);
	refused(&k, "/x/v1/person/" ZHANGSAN_ID "?fields=name,shoe_size", 400, "unknown_field");
	k.request_id = rid(b);
	refused(&k, "/x/v1/person/990100198503120314", 400, "bad_id");
	k.request_id = rid(b);
	refused(&k, "/x/v1/person/110101199003077777", 400, "bad_id");
	char other[19] = "11010119900307001";
	other[17] = dg_id_check_char(other);
	other[18] = 0;
	char path[128];
	snprintf(path, sizeof path, "/x/v1/person/%s", other);
	k.request_id = rid(b);
	refused(&k, path, 403, "other_region");
	k.request_id = rid(b);
	k.user = "999999";
	refused(&k, one, 400, "bad_user");
	k.user = NULL;
	/* a grant for another purpose, none at all, another mode, an ended one */
	k.request_id = rid(b);
	k.purpose = "990100-GA-002";
	refused(&k, one, 403, "wrong_purpose");
	k.purpose = "990100-MZ-001";
	/* 民政 holds the demo policies' grants of every registry: 政务数据局 holds none of
	   enterprises */
	struct call none = {"sj/match", X_DEMO_SJ_KEY, "policy:elder_subsidy", rid(b), NULL};
	refused(&none, "/x/v1/enterprise/ENT-990100-0001", 403, "no_grant");
	k.request_id = rid(b);
	refused(&k, "/x/v1/person?limit=5", 403, "wrong_mode");
	struct call rs = {"rs/pension", X_DEMO_RS_KEY, "990100-RS-003", rid(b), NULL};
	refused(&rs, "/x/v1/person?limit=501", 413, "oversized_page");
	rs.request_id = rid(b);
	refused(&rs, "/x/v1/person?limit=0", 400, "bad_limit");
	th_sql(th_shared, "UPDATE xr_requests SET ends = '2020-01-01' WHERE dept = 'mz' AND"
			  " purpose = '990100-MZ-001' AND registry = 'person'");
	k.request_id = rid(b);
	refused(&k, one, 403, "grant_expired");
	th_sql(th_shared, "UPDATE xr_requests SET ends = '2030-12-31' WHERE dept = 'mz' AND"
			  " purpose = '990100-MZ-001' AND registry = 'person'");
	/* a revoked grant is no grant */
	th_sql(th_shared,
	       "UPDATE xr_requests SET status = 'revoked', granted = '' WHERE dept = 'sj'");
	struct call sj = {"sj/match", X_DEMO_SJ_KEY, "policy:elder_subsidy", rid(b), NULL};
	refused(&sj, "/x/v1/household?limit=5", 403, "no_grant");
	/* over the rate: a system allowed three calls a minute */
	add_client("mz", "slow", "test-slow-key-0001", 3);
	struct call slow = {"mz/slow", "test-slow-key-0001", "990100-MZ-001", NULL, NULL};
	for (int i = 0; i < 3; i++) {
		slow.request_id = rid(b);
		assert_int_equal(xget(&slow, one, NULL), 200);
	}
	slow.request_id = rid(b);
	refused(&slow, one, 429, "over_rate");
}

/*
 * The reply carries the very bytes the node signed: the answer as compact
 * JSON with sorted keys, so a caller can check the signature over the body
 * as received, without dumping the answer again (one page is dumped once).
 */
static void signed_bytes_sent(void **state)
{
	(void)state;
	char b[32], h1[64];
	struct th_client *cl = th_client_new(th_shared);
	snprintf(h1, sizeof h1, "X-Dgov-Request-Id: %s", rid(b));
	const char *hdrs[] = {"X-Dgov-Client: rs/pension", "X-Dgov-Key: " X_DEMO_RS_KEY,
			      "X-Dgov-Purpose: 990100-RS-003", h1, NULL};
	struct th_resp r = {0};
	assert_int_equal(th_request(cl, "GET", "/x/v1/person?limit=3&fields=name,birth_date", NULL,
				    NULL, 0, hdrs, &r),
			 200);
	th_client_free(cl);
	json_t *j = json_loads(r.body, 0, NULL);
	assert_non_null(j);
	const char *start = strstr(r.body, "\"answer\":"), *end = strstr(r.body, ",\"signature\":");
	assert_non_null(start);
	assert_non_null(end);
	start += strlen("\"answer\":");
	assert_true(end > start);
	/* the answer's bytes are its canonical form */
	char *canon = json_dumps(json_object_get(j, "answer"), JSON_COMPACT | JSON_SORT_KEYS);
	assert_int_equal(strlen(canon), (size_t)(end - start));
	assert_memory_equal(canon, start, strlen(canon));
	free(canon);
	/* and the signature holds over them as received, under the key the envelope names */
	const char *rh = json_string_value(json_object_get(j, "request_hash"));
	const char *s64 = json_string_value(json_object_get(j, "signature"));
	const char *pkhex = json_string_value(json_object_get(j, "key"));
	unsigned char sig[crypto_sign_BYTES], pk[crypto_sign_PUBLICKEYBYTES];
	size_t n = 0;
	assert_int_equal(sodium_base642bin(sig, sizeof sig, s64, strlen(s64), NULL, &n, NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	assert_int_equal(sodium_hex2bin(pk, sizeof pk, pkhex, strlen(pkhex), NULL, &n, NULL), 0);
	size_t head = strlen("dgov-exchange-v1\n") + strlen(rh) + 1,
	       len = head + (size_t)(end - start);
	char *msg = malloc(len + 1);
	snprintf(msg, len + 1, "dgov-exchange-v1\n%s\n%.*s", rh, (int)(end - start), start);
	assert_int_equal(crypto_sign_verify_detached(sig, (unsigned char *)msg, len, pk), 0);
	/* a byte changed is refused */
	msg[len - 2] ^= 1;
	assert_int_not_equal(crypto_sign_verify_detached(sig, (unsigned char *)msg, len, pk), 0);
	free(msg);
	json_decref(j);
	th_resp_release(&r);
}

static void bulk_run_one_line(void **state)
{
	(void)state;
	char b[32];
	struct th_client *cl = th_client_new(th_shared);
	int64_t persons = th_sql_int(th_shared, "SELECT COUNT(*) FROM xr_records WHERE registry ="
						" 'person' AND ended IS NULL");
	/* the same run read twice, in pages of 200: one line per person */
	for (int pass = 0; pass < 2; pass++) {
		char after[128] = "";
		for (int page = 0; page < 10; page++) {
			char p[256], h1[64];
			snprintf(p, sizeof p, "/x/v1/person?limit=200&fields=name%s%s",
				 after[0] ? "&after=" : "", after);
			snprintf(h1, sizeof h1, "X-Dgov-Request-Id: %s", rid(b));
			const char *hdrs[] = {
				"X-Dgov-Client: rs/pension",     "X-Dgov-Key: " X_DEMO_RS_KEY,
				"X-Dgov-Purpose: 990100-RS-003", h1,
				"X-Dgov-Run: test-run-1",        NULL};
			struct th_resp r = {0};
			assert_int_equal(th_request(cl, "GET", p, NULL, NULL, 0, hdrs, &r), 200);
			json_t *j = json_loads(r.body, 0, NULL);
			th_resp_release(&r);
			json_t *next = json_object_get(json_object_get(j, "answer"), "next");
			bool more = json_is_string(next);
			if (more)
				snprintf(after, sizeof after, "%s", json_string_value(next));
			json_decref(j);
			if (!more)
				break;
		}
	}
	th_client_free(cl);
	assert_int_equal(
		th_sql_int(th_shared, "SELECT COUNT(*) FROM xr_uses WHERE run = 'test-run-1'"),
		persons);
}

static void data_use(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	assert_true(th_login(c, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD));
	char *b = th_get_body(c, "/my/data-use", 200);
	assert_non_null(b);
	assert_non_null(
		strstr(b, "<a href=\"/my/data-use\" aria-current=\"page\">数据使用记录</a>"));
	assert_null(strstr(b, "/exchange/directory")); /* staff's, not a resident's */
	assert_non_null(strstr(b, "民政局"));
	assert_non_null(strstr(b, "990100-MZ-001"));
	assert_non_null(strstr(b, "test-run-1"));
	assert_non_null(strstr(b, "赵*"));
	free(b);
	struct th_resp r = {0};
	assert_int_equal(th_get(c, "/my/data-use.csv", &r), 200);
	char *ct = th_header(&r, "Content-Type");
	assert_non_null(strstr(ct, "text/csv"));
	free(ct);
	assert_non_null(strstr(r.body, "990100-RS-003"));
	/* a bulk run is one line however many pages it read */
	int lines = 0;
	for (const char *p = r.body; (p = strstr(p, "test-run-1")); p++)
		lines++;
	assert_int_equal(lines, 1);
	th_resp_release(&r);
	th_client_free(c);
	/* another resident sees only their own */
	c = th_client_new(th_shared);
	assert_true(th_login(c, "wujiu", DG_DEMO_PASSWORD));
	b = th_get_body(c, "/my/data-use", 200);
	assert_non_null(b);
	assert_null(strstr(b, "990100-MZ-001"));
	free(b);
	th_client_free(c);
	/* staff have no such page */
	c = th_client_new(th_shared);
	assert_true(th_login(c, DG_DEMO_STAFF, DG_DEMO_PASSWORD));
	assert_int_equal(th_get(c, "/my/data-use", NULL), 403);
	th_client_free(c);
}

static void audit_whole(void **state)
{
	(void)state;
	struct dg_app *app = th_app(th_shared);
	struct dg_db *db = NULL;
	struct dg_audit_report rep;
	assert_int_equal(dg_db_get(app->env.store, &db), DG_OK);
	assert_int_equal(dg_audit_verify(db, &app->env.keys, app->env.region.code, &rep), DG_OK);
	assert_true(rep.records > 30);
	dg_db_put(db);
}

static int setup(void **state)
{
	if (th_group_setup(state))
		return 1;
	admin_tok = th_token_header(th_shared, DG_DEMO_ADMIN, DG_DEMO_PASSWORD);
	mz_tok = th_token_header(th_shared, DG_DEMO_STAFF, DG_DEMO_PASSWORD);
	cit_tok = th_token_header(th_shared, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD);
	return !admin_tok || !mz_tok || !cit_tok;
}

static int teardown(void **state)
{
	free(admin_tok);
	free(mz_tok);
	free(cit_tok);
	return th_group_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(directory),
		cmocka_unit_test(records),
		cmocka_unit_test(grants),
		cmocka_unit_test(exchange_read),
		cmocka_unit_test(refusals),
		cmocka_unit_test(signed_bytes_sent),
		cmocka_unit_test(bulk_run_one_line),
		cmocka_unit_test(data_use),
		cmocka_unit_test(audit_whole),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
