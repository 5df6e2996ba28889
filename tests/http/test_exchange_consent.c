/*
 * test_exchange_consent.c - consent to uses of a resident's records,
 * through the real server on the store DGOV_TEST_DB selects: a grant that
 * needs consent (asked so by the requester, or set by the owner as it
 * approves); the exchange refusing a read without current consent
 * (no_consent, audited, nothing read, no line on the resident's page) and
 * leaving such residents out of a bulk page, counted; the resident giving
 * and withdrawing consent on the page (zh, en, elder mode) and by the API,
 * with its errors changing nothing; who may see the page; every change an
 * audit record; and the revisions' chain, which finds an edited, a
 * removed-between and a removed-last revision.
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
#include <jansson.h>
#include <sodium.h>

#include "app/app.h"
#include "audit/audit.h"
#include "exchange/internal.h"
#include "harness.h"
#include "node/demo.h"
#include "store/store.h"

#define ZHANGSAN_ID "990100198503120313" /* the demo resident zhangsan */
#define ZJ_KEY      "test-zj-housing-key-0001"
#define ZJ_PURPOSE  "990100-ZJ-002" /* the demo's grant that needs consent */

static int seq_ids;
static char *admin_tok, *mz_tok, *rs_tok, *cit_tok, *cit2_tok;

static const char *rid(char buf[32])
{
	snprintf(buf, 32, "consent-req-%06d", ++seq_ids);
	return buf;
}

/* GET path as department system client/key for purpose; the status, *out the body. */
static long xget(const char *client, const char *key, const char *purpose, const char *path,
		 json_t **out)
{
	struct th_client *cl = th_client_new(th_shared);
	char h[4][200], id[32];
	snprintf(h[0], 200, "X-Dgov-Client: %s", client);
	snprintf(h[1], 200, "X-Dgov-Key: %s", key);
	snprintf(h[2], 200, "X-Dgov-Purpose: %s", purpose);
	snprintf(h[3], 200, "X-Dgov-Request-Id: %s", rid(id));
	const char *hdrs[] = {h[0], h[1], h[2], h[3], NULL};
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

static long call_json(const char *method, const char *auth, const char *path, const char *body,
		      json_t **out)
{
	struct th_client *cl = th_client_new(th_shared);
	const char *hdrs[] = {auth, NULL};
	struct th_resp r = {0};
	long st = th_request(cl, method, path, body ? "application/json" : NULL, body,
			     body ? strlen(body) : 0, auth ? hdrs : NULL, &r);
	if (out)
		*out = r.body ? json_loads(r.body, 0, NULL) : NULL;
	th_resp_release(&r);
	th_client_free(cl);
	return st;
}

static int64_t count(const char *sql)
{
	return th_sql_int(th_shared, sql);
}

static void add_client(const char *dept, const char *system, const char *key)
{
	unsigned char h[32];
	char hex[65], sql[512];
	crypto_generichash(h, sizeof h, (const unsigned char *)key, strlen(key), NULL, 0);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	snprintf(sql, sizeof sql,
		 "INSERT INTO xr_clients (dept, system, key_hash, rate_per_min, created_ms)"
		 " VALUES ('%s', '%s', '%s', 1000, 0)",
		 dept, system, hex);
	th_sql(th_shared, sql);
}

/* The demo: zhangsan consented to the housing check, lisi gave and withdrew it. */
static void demo_consent(void **state)
{
	(void)state;
	assert_int_equal(count("SELECT COUNT(*) FROM xr_requests WHERE consent = 1"
			       " AND purpose = '" ZJ_PURPOSE "' AND status = 'approved'"),
			 1);
	assert_int_equal(count("SELECT COUNT(*) FROM xr_consent"), 3);
	assert_int_equal(count("SELECT COUNT(*) FROM audit_log WHERE kind = 'consent.change'"), 3);
	json_t *j = NULL;
	assert_int_equal(call_json("GET", cit_tok, "/api/my/consent", NULL, &j), 200);
	json_t *p = json_array_get(json_object_get(j, "purposes"), 0);
	assert_string_equal(json_string_value(json_object_get(p, "purpose")), ZJ_PURPOSE);
	assert_true(json_is_true(json_object_get(p, "given")));
	json_t *ask = json_array_get(json_object_get(p, "asks"), 0);
	assert_string_equal(json_string_value(json_object_get(ask, "dept")), "zj");
	assert_string_equal(json_string_value(json_object_get(ask, "registry")), "household");
	json_decref(j);
	assert_int_equal(call_json("GET", cit2_tok, "/api/my/consent", NULL, &j), 200);
	p = json_array_get(json_object_get(j, "purposes"), 0);
	assert_true(json_is_false(json_object_get(p, "given")));
	assert_int_equal(json_array_size(json_object_get(j, "revisions")), 2);
	json_decref(j);
}

/* A read under a grant that needs consent: given, not given, withdrawn. */
static void exchange_needs_consent(void **state)
{
	(void)state;
	add_client("zj", "housing", ZJ_KEY);
	json_t *j = NULL;
	/* zhangsan heads the first household and consented */
	assert_int_equal(
		xget("zj/housing", ZJ_KEY, ZJ_PURPOSE, "/x/v1/household/H990100-000001", &j), 200);
	json_t *f =
		json_object_get(json_object_get(json_object_get(j, "answer"), "fields"), "size");
	assert_true(json_is_integer(f));
	json_decref(j);
	/* lisi heads the second and withdrew: refused, audited, nothing read or listed */
	int64_t refused = count("SELECT COUNT(*) FROM audit_log WHERE kind = 'exchange.refused'");
	int64_t uses = count("SELECT COUNT(*) FROM xr_uses");
	assert_int_equal(
		xget("zj/housing", ZJ_KEY, ZJ_PURPOSE, "/x/v1/household/H990100-000002", &j), 403);
	assert_string_equal(err_code(j), "no_consent");
	assert_null(json_object_get(j, "answer"));
	json_decref(j);
	assert_int_equal(count("SELECT COUNT(*) FROM audit_log WHERE kind = 'exchange.refused'"),
			 refused + 1);
	assert_int_equal(count("SELECT COUNT(*) FROM audit_log WHERE kind = 'exchange.refused'"
			       " AND detail LIKE '%no_consent%' AND subject <> ''"),
			 1);
	assert_int_equal(count("SELECT COUNT(*) FROM xr_uses"), uses);
	/* a household of a person who never consented */
	assert_int_equal(
		xget("zj/housing", ZJ_KEY, ZJ_PURPOSE, "/x/v1/household/H990100-000050", NULL),
		403);
}

/* The requester asks for consent; the resident gives and withdraws it by the API. */
static void requester_flag_and_api(void **state)
{
	(void)state;
	json_t *j = NULL;
	assert_int_equal(call_json("POST", mz_tok, "/api/exchange/requests",
				   "{\"registry\":\"person\",\"fields\":\"hukou_region,alive\","
				   "\"purpose\":\"990100-MZ-005\",\"legal_basis\":\"test\","
				   "\"mode\":\"one\",\"ends\":\"2030-01-01\",\"consent\":true}",
				   &j),
			 201);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "approved");
	json_decref(j);
	assert_int_equal(
		count("SELECT COUNT(*) FROM xr_requests WHERE purpose = '990100-MZ-005' AND"
		      " consent = 1"),
		1);
	const char *path = "/x/v1/person/" ZHANGSAN_ID "?fields=hukou_region";
	assert_int_equal(xget("mz/dibao", X_DEMO_MZ_KEY, "990100-MZ-005", path, &j), 403);
	assert_string_equal(err_code(j), "no_consent");
	json_decref(j);
	/* bad input changes nothing */
	int64_t revs = count("SELECT COUNT(*) FROM xr_consent");
	int64_t audits = count("SELECT COUNT(*) FROM audit_log WHERE kind = 'consent.change'");
	assert_int_equal(call_json("POST", cit_tok, "/api/my/consent",
				   "{\"purpose\":\"990100-MZ-005\",\"action\":\"sideways\"}", &j),
			 400);
	json_decref(j);
	assert_int_equal(call_json("POST", cit_tok, "/api/my/consent",
				   "{\"purpose\":\"not a purpose!\",\"action\":\"give\"}", &j),
			 400);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(j, "error"), "field")),
		"purpose");
	json_decref(j);
	/* a purpose no grant asks consent for */
	assert_int_equal(call_json("POST", cit_tok, "/api/my/consent",
				   "{\"purpose\":\"990100-MZ-001\",\"action\":\"give\"}", NULL),
			 400);
	assert_int_equal(call_json("POST", cit_tok, "/api/my/consent",
				   "{\"purpose\":\"990100-MZ-005\",\"action\":\"withdraw\"}", NULL),
			 409);
	assert_int_equal(call_json("POST", NULL, "/api/my/consent",
				   "{\"purpose\":\"990100-MZ-005\",\"action\":\"give\"}", NULL),
			 401);
	assert_int_equal(call_json("POST", mz_tok, "/api/my/consent",
				   "{\"purpose\":\"990100-MZ-005\",\"action\":\"give\"}", NULL),
			 403);
	assert_int_equal(count("SELECT COUNT(*) FROM xr_consent"), revs);
	assert_int_equal(count("SELECT COUNT(*) FROM audit_log WHERE kind = 'consent.change'"),
			 audits);
	/* given: the read goes through; given twice is a conflict */
	assert_int_equal(call_json("POST", cit_tok, "/api/my/consent",
				   "{\"purpose\":\"990100-MZ-005\",\"action\":\"give\"}", &j),
			 200);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "given");
	assert_int_equal(json_integer_value(json_object_get(j, "rev")), 2);
	json_decref(j);
	assert_int_equal(call_json("POST", cit_tok, "/api/my/consent",
				   "{\"purpose\":\"990100-MZ-005\",\"action\":\"give\"}", NULL),
			 409);
	assert_int_equal(xget("mz/dibao", X_DEMO_MZ_KEY, "990100-MZ-005", path, NULL), 200);
	/* withdrawn: refused again */
	assert_int_equal(call_json("POST", cit_tok, "/api/my/consent",
				   "{\"purpose\":\"990100-MZ-005\",\"action\":\"withdraw\"}", NULL),
			 200);
	assert_int_equal(xget("mz/dibao", X_DEMO_MZ_KEY, "990100-MZ-005", path, &j), 403);
	assert_string_equal(err_code(j), "no_consent");
	json_decref(j);
	assert_int_equal(count("SELECT COUNT(*) FROM audit_log WHERE kind = 'consent.change'"),
			 audits + 2);
}

/* The owner sets the flag as it approves; nobody else can. */
static void owner_flag_on_approve(void **state)
{
	(void)state;
	json_t *j = NULL;
	assert_int_equal(call_json("POST", rs_tok, "/api/exchange/requests",
				   "{\"registry\":\"household\",\"fields\":\"size,address\","
				   "\"purpose\":\"990100-RS-004\",\"legal_basis\":\"test\","
				   "\"mode\":\"bulk\",\"ends\":\"2030-01-01\"}",
				   &j),
			 201);
	int64_t id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	char path[96];
	snprintf(path, sizeof path, "/api/exchange/requests/%lld/approve", (long long)id);
	/* the asking department cannot approve, nor set the flag: nothing changes */
	assert_int_equal(call_json("POST", rs_tok, path, "{\"consent\":true}", NULL), 403);
	char q[160];
	snprintf(q, sizeof q,
		 "SELECT COUNT(*) FROM xr_requests WHERE id = %lld AND consent = 0 AND status ="
		 " 'pending'",
		 (long long)id);
	assert_int_equal(count(q), 1);
	int64_t changes = count("SELECT COUNT(*) FROM audit_log WHERE kind = 'grant.change'");
	assert_int_equal(call_json("POST", mz_tok, path, "{\"consent\":true}", NULL), 200);
	snprintf(q, sizeof q,
		 "SELECT COUNT(*) FROM xr_requests WHERE id = %lld AND consent = 1 AND status ="
		 " 'approved'",
		 (long long)id);
	assert_int_equal(count(q), 1);
	assert_int_equal(count("SELECT COUNT(*) FROM audit_log WHERE kind = 'grant.change'"),
			 changes + 2);
	/* a bulk page leaves out (and counts) the households whose head has not consented */
	add_client("rs", "jobs", "test-rs-jobs-key-0001");
	assert_int_equal(xget("rs/jobs", "test-rs-jobs-key-0001", "990100-RS-004",
			      "/x/v1/household?fields=size&limit=10", &j),
			 200);
	json_t *a = json_object_get(j, "answer");
	assert_int_equal(json_integer_value(json_object_get(a, "count")), 0);
	assert_int_equal(json_integer_value(json_object_get(a, "withheld_no_consent")), 10);
	assert_true(json_is_string(json_object_get(a, "next")));
	json_decref(j);
	/* zhangsan consents: his household is in the page, the rest still left out */
	assert_int_equal(call_json("POST", cit_tok, "/api/my/consent",
				   "{\"purpose\":\"990100-RS-004\",\"action\":\"give\"}", NULL),
			 200);
	assert_int_equal(xget("rs/jobs", "test-rs-jobs-key-0001", "990100-RS-004",
			      "/x/v1/household?fields=size&limit=10", &j),
			 200);
	a = json_object_get(j, "answer");
	assert_int_equal(json_integer_value(json_object_get(a, "count")), 1);
	assert_int_equal(json_integer_value(json_object_get(a, "withheld_no_consent")), 9);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(a, "records"), 0), "id")),
			    "H990100-000001");
	json_decref(j);
	/* he withdraws it: his latest word counts, and the page leaves him out again */
	assert_int_equal(call_json("POST", cit_tok, "/api/my/consent",
				   "{\"purpose\":\"990100-RS-004\",\"action\":\"withdraw\"}", NULL),
			 200);
	assert_int_equal(xget("rs/jobs", "test-rs-jobs-key-0001", "990100-RS-004",
			      "/x/v1/household?fields=size&limit=10", &j),
			 200);
	a = json_object_get(j, "answer");
	assert_int_equal(json_integer_value(json_object_get(a, "count")), 0);
	assert_int_equal(json_integer_value(json_object_get(a, "withheld_no_consent")), 10);
	json_decref(j);
}

/* The page: zh, en, elder mode; a form per purpose; errors in the page's language. */
static void consent_page(void **state)
{
	(void)state;
	struct th_client *c = th_signed_in(th_shared, DG_DEMO_CITIZEN2);
	char *b = th_get_body(c, "/my/consent", 200);
	assert_non_null(b);
	assert_non_null(strstr(b, "我的数据使用授权"));
	assert_non_null(strstr(b, ZJ_PURPOSE));
	assert_non_null(strstr(b, "住房和城乡建设局"));
	assert_non_null(strstr(b, "已撤回"));
	assert_non_null(strstr(b, "name=\"action\" value=\"give\""));
	free(b);
	/* give it again from the form */
	struct th_resp r = {0};
	assert_int_equal(th_post_csrf(c, "/my/consent", "/my/consent",
				      "purpose=" ZJ_PURPOSE "&action=give", &r),
			 303);
	th_resp_release(&r);
	b = th_get_body(c, "/my/consent?done=given", 200);
	assert_non_null(strstr(b, "已记录您的授权"));
	assert_non_null(strstr(b, "name=\"action\" value=\"withdraw\""));
	free(b);
	/* twice: the page says so, in Chinese, and nothing changes */
	int64_t revs = count("SELECT COUNT(*) FROM xr_consent");
	assert_int_equal(th_post_csrf(c, "/my/consent", "/my/consent",
				      "purpose=" ZJ_PURPOSE "&action=give", &r),
			 409);
	assert_non_null(strstr(r.body, "已是这个状态"));
	th_resp_release(&r);
	assert_int_equal(th_post_csrf(c, "/my/consent", "/my/consent",
				      "purpose=990100-GA-001&action=give", &r),
			 422);
	assert_non_null(strstr(r.body, "没有部门为此用途申请您的授权"));
	th_resp_release(&r);
	assert_int_equal(count("SELECT COUNT(*) FROM xr_consent"), revs);
	/* lisi's household may now be read for the purpose */
	assert_int_equal(
		xget("zj/housing", ZJ_KEY, ZJ_PURPOSE, "/x/v1/household/H990100-000002", NULL),
		200);
	/* English, then elder mode */
	assert_int_equal(th_get(c, "/prefs?lang=en", NULL), 303);
	b = th_get_body(c, "/my/consent", 200);
	assert_non_null(strstr(b, "My consent to uses of my data"));
	assert_non_null(strstr(b, "Withdraw consent"));
	free(b);
	assert_int_equal(th_get(c, "/prefs?elder=1", NULL), 303);
	b = th_get_body(c, "/my/consent", 200);
	assert_non_null(strstr(b, "Withdraw consent"));
	free(b);
	th_client_free(c);
	/* linked from who used my data and from the account page */
	c = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	b = th_get_body(c, "/my/data-use", 200);
	assert_non_null(strstr(b, "href=\"/my/consent\""));
	free(b);
	b = th_get_body(c, "/account", 200);
	assert_non_null(strstr(b, "href=\"/my/consent\""));
	free(b);
	th_client_free(c);
	/* not for staff; visitors are sent to sign in */
	c = th_signed_in(th_shared, DG_DEMO_STAFF);
	assert_int_equal(th_get(c, "/my/consent", NULL), 403);
	th_client_free(c);
	c = th_client_new(th_shared);
	assert_int_equal(th_get(c, "/my/consent", NULL), 303);
	th_client_free(c);
}

static dg_rc verify(struct x_consent_report *rep)
{
	struct dg_app *app = th_app(th_shared);
	struct dg_db *db = NULL;
	assert_int_equal(dg_db_get(app->env.store, &db), DG_OK);
	dg_rc rc = x_consent_verify(db, rep);
	dg_db_put(db);
	return rc;
}

/* The chain: whole, then an edited, a removed-between and a removed-last revision. */
static void chain(void **state)
{
	(void)state;
	struct x_consent_report rep;
	assert_int_equal(verify(&rep), DG_OK);
	assert_int_equal(rep.bad_rev, 0);
	assert_true(rep.revisions >= 7);
	/* the audit log's own chain still holds with the consent records in it */
	struct dg_app *app = th_app(th_shared);
	struct dg_db *db = NULL;
	struct dg_audit_report arep;
	assert_int_equal(dg_db_get(app->env.store, &db), DG_OK);
	assert_int_equal(dg_audit_verify(db, &app->env.keys, app->env.region.code, &arep), DG_OK);
	dg_db_put(db);
	/* lisi's revisions: 1 given, 2 withdrawn, 3 given (the page) */
	char *subject = NULL;
	{
		struct dg_db *d = NULL;
		assert_int_equal(dg_db_get(app->env.store, &d), DG_OK);
		struct dg_arena *a = dg_arena_new();
		assert_int_equal(dg_db_query_text(d,
						  "SELECT subject FROM xr_consent WHERE rev = 3"
						  " AND purpose = '" ZJ_PURPOSE "'",
						  DG_NOARGS, a, &subject),
				 DG_OK);
		subject = strdup(subject);
		dg_arena_free(a);
		dg_db_put(d);
	}
	char sql[512];
	snprintf(sql, sizeof sql,
		 "UPDATE xr_consent SET state = 'given' WHERE subject = '%s' AND rev = 2", subject);
	th_sql(th_shared, sql);
	assert_int_equal(verify(&rep), DG_ECONFLICT);
	assert_int_equal(rep.bad_rev, 2);
	assert_string_equal(rep.subject, subject);
	snprintf(sql, sizeof sql,
		 "UPDATE xr_consent SET state = 'withdrawn' WHERE subject = '%s' AND rev = 2",
		 subject);
	th_sql(th_shared, sql);
	assert_int_equal(verify(&rep), DG_OK);
	/* removed between: the gap */
	snprintf(sql, sizeof sql, "UPDATE xr_consent SET rev = 20 WHERE subject = '%s' AND rev = 2",
		 subject);
	th_sql(th_shared, sql);
	assert_int_equal(verify(&rep), DG_ECONFLICT);
	assert_int_equal(rep.bad_rev, 3);
	/* removed last: the audit records outnumber the revisions */
	snprintf(sql, sizeof sql, "UPDATE xr_consent SET rev = 2 WHERE subject = '%s' AND rev = 20",
		 subject);
	th_sql(th_shared, sql);
	snprintf(sql, sizeof sql, "DELETE FROM xr_consent WHERE subject = '%s' AND rev = 3",
		 subject);
	th_sql(th_shared, sql);
	assert_int_equal(verify(&rep), DG_ECONFLICT);
	assert_int_equal(rep.bad_rev, 3);
	assert_non_null(strstr(rep.why, "audit log"));
	free(subject);
}

static int setup(void **state)
{
	if (th_group_setup(state))
		return 1;
	admin_tok = th_token_header(th_shared, DG_DEMO_ADMIN, DG_DEMO_PASSWORD);
	mz_tok = th_token_header(th_shared, DG_DEMO_STAFF, DG_DEMO_PASSWORD);
	rs_tok = th_token_header(th_shared, DG_DEMO_STAFF2, DG_DEMO_PASSWORD);
	cit_tok = th_token_header(th_shared, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD);
	cit2_tok = th_token_header(th_shared, DG_DEMO_CITIZEN2, DG_DEMO_PASSWORD);
	return !admin_tok || !mz_tok || !rs_tok || !cit_tok || !cit2_tok;
}

static int teardown(void **state)
{
	free(admin_tok);
	free(mz_tok);
	free(rs_tok);
	free(cit_tok);
	free(cit2_tok);
	return th_group_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(demo_consent),           cmocka_unit_test(exchange_needs_consent),
		cmocka_unit_test(requester_flag_and_api), cmocka_unit_test(owner_flag_on_approve),
		cmocka_unit_test(consent_page),           cmocka_unit_test(chain),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
