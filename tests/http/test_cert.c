/*
 * test_cert.c - electronic certificates through the real server, on the
 * store DGOV_TEST_DB selects. Certificates are issued with dg_cert_issue on
 * the app's own store (as the case-handling code will), then: the public
 * page (holder's name masked) and the holder's page (in full); the signed
 * document checked here with libsodium against the published key; a check
 * of a presented copy, good and altered; every printed column changed with
 * SQL shows as tampered; expiry and not-yet-valid; revocation refused to
 * other departments, citizens, a missing reason and a missing CSRF token,
 * each changing nothing, then done by the right staff; the PDF for the
 * holder and the issuing staff (read back with pdfinfo and pdftotext) and
 * refused to others; the holder's list; issue-time validation; bad ids.
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
#include <sodium.h>

#include "app/app.h"
#include "cert/cert.h"
#include "core/date.h"
#include "node/demo.h"
#include "harness.h"
#include "store/store.h"

#define TITLE_ZH     "高龄津贴核定通知书"
#define TITLE_ZH_URL "%E9%AB%98%E9%BE%84%E6%B4%A5%E8%B4%B4"

static int64_t id_of(const char *sql, const char *arg)
{
	struct dg_db *db = NULL;
	int64_t id = 0;
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_db_query_int(db, sql, DG_ARGS(DG_VT(arg)), &id), DG_OK);
	dg_db_put(db);
	return id;
}

static int64_t user_id(const char *username)
{
	return id_of("SELECT id FROM users WHERE username = ?", username);
}

static int64_t dept_id(const char *code)
{
	return id_of("SELECT id FROM departments WHERE code = ?", code);
}

static int64_t count_certs(void)
{
	struct dg_db *db = NULL;
	int64_t n = 0;
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_db_query_int(db, "SELECT COUNT(*) FROM certificates", DG_NOARGS, &n),
			 DG_OK);
	dg_db_put(db);
	return n;
}

/* Issue in a transaction of our own, as the case code does inside its own. */
static dg_rc issue_in(const struct dg_cert_in *in, char id[48], struct dg_err *err)
{
	struct dg_db *db = NULL;
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_db_begin(db), DG_OK);
	dg_rc rc = dg_cert_issue(db, &th_app(th_shared)->env.keys, in, id, err);
	if (rc)
		dg_db_rollback(db);
	else
		assert_int_equal(dg_db_commit(db), DG_OK);
	dg_db_put(db);
	return rc;
}

/* A civil-affairs certificate for zhangsan, valid from..until (days from today). */
static void issue(char id[48], int from, int until)
{
	struct dg_err err = {0};
	json_t *fields = json_pack("{s:s, s:s, s:i}", "核定金额", "每月 200 元", "发放方式",
				   "社会保障卡", "年龄", 82);
	dg_day today = dg_day_today();
	struct dg_cert_in in = {
		.item_code = "990100-MZ-004",
		.title_zh = TITLE_ZH,
		.title_en = "Old-age allowance decision",
		.holder_user_id = user_id(DG_DEMO_CITIZEN),
		.holder_name = "张三",
		.dept_id = dept_id("mz"),
		.case_ref = "BJ-2026-000123",
		.fields = fields,
		.valid_from = today + from,
		.valid_until = until ? today + until : 0,
	};
	dg_rc rc = issue_in(&in, id, &err);
	if (rc)
		fail_msg("dg_cert_issue: %s %s", err.field, err.msg);
	json_decref(fields);
	assert_int_equal(strlen(id), 25);
	assert_memory_equal(id, "CERT-", 5);
}

/* GET path; returns the body (malloc'd) and checks the status. */
static char *get_as(struct th_client *c, const char *path, long want)
{
	char *b = th_get_body(c, path, want);
	assert_non_null(b);
	return b;
}

static json_t *api(const char *path, long want)
{
	json_t *j = th_get_json(th_shared, path, want);
	assert_non_null(j);
	return j;
}

static const char *status_of(const char *id)
{
	static char st[32];
	char path[128];
	snprintf(path, sizeof(path), "/api/v1/certificates/%s/verify", id);
	json_t *j = api(path, 200);
	snprintf(st, sizeof(st), "%s", json_string_value(json_object_get(j, "status")));
	assert_int_equal(json_is_true(json_object_get(j, "valid")), strcmp(st, "valid") == 0);
	json_decref(j);
	return st;
}

static void exec_sql(const char *sql, const char *id)
{
	struct dg_db *db = NULL;
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_db_exec(db, sql, DG_ARGS(DG_VT(id)), NULL), DG_OK);
	dg_db_put(db);
}

static void valid_page_masks_the_name(void **state)
{
	(void)state;
	char id[48], path[128];
	issue(id, 0, 365);
	assert_string_equal(status_of(id), "valid");
	struct th_client *anon = th_client_new(th_shared);
	snprintf(path, sizeof(path), "/certificates/%s", id);
	char *b = get_as(anon, path, 200);
	assert_non_null(strstr(b, TITLE_ZH));
	assert_non_null(strstr(b, "有效"));
	assert_non_null(strstr(b, "张*"));
	assert_null(strstr(b, "张三"));
	assert_null(strstr(b, "BJ-2026-000123")); /* the case number is for the holder and staff */
	assert_non_null(strstr(b, "每月 200 元"));
	assert_non_null(strstr(b, "民政局"));
	assert_null(strstr(b, "/pdf\"")); /* no print link for the public */
	assert_null(strstr(b, "/revoke"));
	free(b);
	/* in English */
	free(get_as(anon, "/prefs?lang=en", 303));
	b = get_as(anon, path, 200);
	assert_non_null(strstr(b, "Old-age allowance decision"));
	assert_non_null(strstr(b, "Valid"));
	assert_non_null(strstr(b, "Civil Affairs Bureau"));
	free(b);
	th_client_free(anon);
	/* the holder sees the full name, the case and the print link */
	struct th_client *holder = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	b = get_as(holder, path, 200);
	assert_non_null(strstr(b, "张三"));
	assert_non_null(strstr(b, "BJ-2026-000123"));
	assert_non_null(strstr(b, "/pdf\""));
	assert_null(strstr(b, "/revoke"));
	free(b);
	th_client_free(holder);
	/* the issuing staff may revoke from the page */
	struct th_client *mz = th_signed_in(th_shared, DG_DEMO_STAFF);
	b = get_as(mz, path, 200);
	assert_non_null(strstr(b, "/revoke"));
	free(b);
	th_client_free(mz);
	/* the QR code is an accessible SVG for the page's address */
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	snprintf(path, sizeof(path), "/certificates/%s/qr.svg", id);
	assert_int_equal(th_get(c, path, &r), 200);
	char *ct = th_header(&r, "Content-Type");
	assert_non_null(strstr(ct, "image/svg+xml"));
	assert_non_null(strstr(r.body, "role=\"img\""));
	assert_non_null(strstr(r.body, "<title id=\"qr-title\">"));
	free(ct);
	th_resp_release(&r);
	th_client_free(c);
}

/* base64 -> bytes with libsodium; the length decoded. */
static size_t unb64(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;
	assert_int_equal(sodium_base642bin(out, max, s, strlen(s), NULL, &n, NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	return n;
}

static void signed_document_verifies_with_the_published_key(void **state)
{
	(void)state;
	char id[48], path[128];
	issue(id, 0, 0);
	json_t *key = api("/.well-known/dgov-signing-key", 200);
	assert_string_equal(json_string_value(json_object_get(key, "algorithm")), "Ed25519");
	unsigned char pk[32], sig[64];
	assert_int_equal(
		unb64(json_string_value(json_object_get(key, "public_key_base64")), pk, sizeof(pk)),
		32);
	assert_memory_equal(pk, th_app(th_shared)->env.keys.sign_pk, 32);
	char hex[65];
	sodium_bin2hex(hex, sizeof(hex), pk, 32);
	assert_string_equal(json_string_value(json_object_get(key, "public_key_hex")), hex);

	snprintf(path, sizeof(path), "/api/v1/certificates/%s", id);
	json_t *docr = api(path, 200);
	json_t *cert = json_object_get(docr, "certificate");
	assert_string_equal(json_string_value(json_object_get(cert, "id")), id);
	assert_string_equal(json_string_value(json_object_get(cert, "holder_name")), "张三");
	assert_string_equal(json_string_value(json_object_get(cert, "title_zh")), TITLE_ZH);
	assert_string_equal(json_string_value(json_object_get(cert, "issuer")),
			    th_app(th_shared)->env.region.code);
	assert_true(json_is_null(json_object_get(cert, "valid_until")));
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(cert, "fields"), "年龄")), "82");
	assert_true(json_integer_value(json_object_get(cert, "issued_ms")) > 0);
	assert_string_equal(json_string_value(json_object_get(docr, "key_id")),
			    json_string_value(json_object_get(key, "key_id")));
	/* the offline rule: sorted keys, compact, UTF-8, Ed25519 over those bytes */
	char *canon = json_dumps(cert, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(canon, json_string_value(json_object_get(docr, "payload")));
	assert_int_equal(
		unb64(json_string_value(json_object_get(docr, "signature")), sig, sizeof(sig)), 64);
	assert_int_equal(
		crypto_sign_verify_detached(sig, (unsigned char *)canon, strlen(canon), pk), 0);
	canon[10] ^= 1;
	assert_int_not_equal(
		crypto_sign_verify_detached(sig, (unsigned char *)canon, strlen(canon), pk), 0);
	free(canon);

	/* a presented copy: as given, then with the holder's name changed */
	struct th_client *c = th_client_new(th_shared);
	json_t *copy = json_pack("{s:O, s:O}", "certificate", cert, "signature",
				 json_object_get(docr, "signature"));
	char *body = json_dumps(copy, 0);
	struct th_resp r = {0};
	assert_int_equal(th_request(c, "POST", "/api/v1/certificates/verify", "application/json",
				    body, strlen(body), NULL, &r),
			 200);
	json_t *v = json_loads(r.body, 0, NULL);
	assert_true(json_is_true(json_object_get(v, "valid")));
	assert_true(json_is_true(json_object_get(v, "signature_valid")));
	assert_true(json_is_true(json_object_get(v, "matches_register")));
	json_decref(v);
	th_resp_release(&r);
	free(body);
	json_object_set_new(json_object_get(copy, "certificate"), "holder_name",
			    json_string("李四"));
	body = json_dumps(copy, 0);
	assert_int_equal(th_request(c, "POST", "/api/v1/certificates/verify", "application/json",
				    body, strlen(body), NULL, &r),
			 200);
	v = json_loads(r.body, 0, NULL);
	assert_false(json_is_true(json_object_get(v, "valid")));
	assert_false(json_is_true(json_object_get(v, "signature_valid")));
	assert_string_equal(json_string_value(json_object_get(v, "status")), "tampered");
	json_decref(v);
	th_resp_release(&r);
	free(body);
	/* the same as a query string, with payload and signature */
	char *qp = th_enc(json_string_value(json_object_get(docr, "payload")));
	char *qs = th_enc(json_string_value(json_object_get(docr, "signature")));
	size_t n = strlen(qp) + strlen(qs) + 80;
	char *url = malloc(n);
	snprintf(url, n, "/api/v1/certificates/verify?payload=%s&signature=%s", qp, qs);
	char *b = get_as(c, url, 200);
	assert_non_null(strstr(b, "\"valid\":true"));
	free(b);
	free(url);
	free(qp);
	free(qs);
	/* missing parts: a JSON error naming the field */
	assert_int_equal(th_request(c, "POST", "/api/v1/certificates/verify", "application/json",
				    "{\"payload\":\"{}\"}", 16, NULL, &r),
			 400);
	v = json_loads(r.body, 0, NULL);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(v, "error"), "field")),
		"signature");
	assert_string_equal(json_string_value(json_object_get(json_object_get(v, "error"), "code")),
			    "EINVAL");
	json_decref(v);
	th_resp_release(&r);
	th_client_free(c);
	json_decref(copy);
	json_decref(docr);
	json_decref(key);
}

static void changed_columns_show_as_tampered(void **state)
{
	(void)state;
	static const char *const changes[] = {
		"UPDATE certificates SET holder_name = '李四' WHERE id = ?",
		"UPDATE certificates SET valid_until = '2099-12-31' WHERE id = ?",
		"UPDATE certificates SET fields = '{\"核定金额\":\"每月 2000 元\"}' WHERE id = ?",
		"UPDATE certificates SET fields = 'not json' WHERE id = ?",
		"UPDATE certificates SET holder_user_id = (SELECT id FROM users WHERE username = "
		"'sunqi') WHERE id = ?",
		"UPDATE certificates SET title_zh = '结婚证' WHERE id = ?",
		"UPDATE certificates SET issued_ms = issued_ms + 1 WHERE id = ?",
		"UPDATE certificates SET dept_name_zh = '公安局' WHERE id = ?",
		"UPDATE certificates SET signature = 'AAAA' WHERE id = ?",
		"UPDATE certificates SET revoke_reason = 'x' WHERE id = ?",
	};
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		char id[48];
		issue(id, 0, 30);
		assert_string_equal(status_of(id), "valid");
		exec_sql(changes[i], id);
		if (strcmp(status_of(id), "tampered") != 0)
			fail_msg("not seen as tampered: %s", changes[i]);
	}
	/* the page says so in words and shows none of the untrustworthy details */
	char id[48], path[128];
	issue(id, 0, 30);
	exec_sql("UPDATE certificates SET holder_name = '王五' WHERE id = ?", id);
	struct th_client *c = th_client_new(th_shared);
	snprintf(path, sizeof(path), "/certificates/%s", id);
	char *b = get_as(c, path, 200);
	assert_non_null(strstr(b, "不可信"));
	assert_null(strstr(b, "王*"));
	assert_null(strstr(b, "每月 200 元"));
	free(b);
	th_client_free(c);
	/* its API document no longer verifies either */
	snprintf(path, sizeof(path), "/api/v1/certificates/%s", id);
	json_t *d = api(path, 200);
	assert_string_equal(json_string_value(json_object_get(d, "status")), "tampered");
	json_decref(d);
	/* dg_cert_verify says the same */
	struct dg_db *db = NULL;
	enum dg_cert_status st = DG_CERT_VALID;
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_cert_verify(db, &th_app(th_shared)->env.keys, id, dg_day_today(), &st),
			 DG_OK);
	assert_int_equal(st, DG_CERT_TAMPERED);
	assert_int_equal(dg_cert_verify(db, &th_app(th_shared)->env.keys,
					"CERT-AAAAAAAAAAAAAAAAAAAA", dg_day_today(), &st),
			 DG_ENOTFOUND);
	dg_db_put(db);
}

static void expiry_and_start(void **state)
{
	(void)state;
	char id[48];
	issue(id, -30, -1);
	assert_string_equal(status_of(id), "expired");
	issue(id, -30, 0); /* valid until today inclusive */
	assert_string_equal(status_of(id), "valid");
	issue(id, 5, 100);
	assert_string_equal(status_of(id), "not_yet_valid");
}

static long post_revoke(struct th_client *c, const char *id, const char *reason, bool with_csrf)
{
	char path[128], body[512];
	snprintf(path, sizeof(path), "/certificates/%s", id);
	char *csrf = with_csrf ? th_csrf(c, "/") : NULL;
	char *enc = th_enc(reason);
	snprintf(body, sizeof(body), "csrf=%s&reason=%s", csrf ? csrf : "wrong", enc);
	snprintf(path, sizeof(path), "/certificates/%s/revoke", id);
	struct th_resp r = {0};
	long st = th_post_form(c, path, body, &r);
	if (st == 422)
		assert_non_null(strstr(r.body, "error-summary"));
	th_resp_release(&r);
	free(enc);
	free(csrf);
	return st;
}

static void revocation_by_the_issuer_only(void **state)
{
	(void)state;
	char id[48], other[48];
	issue(id, 0, 365);
	issue(other, 0, 365);
	struct th_client *rs = th_signed_in(th_shared, DG_DEMO_STAFF2),
			 *cit = th_signed_in(th_shared, DG_DEMO_CITIZEN),
			 *mz = th_signed_in(th_shared, DG_DEMO_STAFF),
			 *admin = th_signed_in(th_shared, DG_DEMO_ADMIN);
	/* another department, the holder, no reason, no CSRF token: refused, nothing changes */
	assert_int_equal(post_revoke(rs, id, "wrong department", true), 403);
	assert_int_equal(post_revoke(cit, id, "I do not want it", true), 403);
	assert_int_equal(post_revoke(mz, id, "", true), 422);
	assert_int_equal(post_revoke(mz, id, "   \r\n ", true), 422);
	char long_reason[700];
	memset(long_reason, 'x', 201);
	long_reason[201] = '\0';
	assert_int_equal(post_revoke(mz, id, long_reason, true), 422);
	assert_int_equal(post_revoke(mz, id, "no token", false), 403);
	assert_string_equal(status_of(id), "valid");
	struct dg_db *db = NULL;
	int64_t n = -1;
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(
		dg_db_query_int(
			db,
			"SELECT COUNT(*) FROM certificates WHERE id = ? AND revoked_ms IS NULL"
			" AND revoke_reason IS NULL AND revoke_sig IS NULL",
			DG_ARGS(DG_VT(id)), &n),
		DG_OK);
	assert_int_equal(n, 1);
	dg_db_put(db);
	/* the issuing department: revoked, and it says so */
	assert_int_equal(post_revoke(mz, id, "材料不实，依法撤销\n（复核结论）", true), 303);
	assert_string_equal(status_of(id), "revoked");
	assert_int_equal(post_revoke(mz, id, "again", true), 409);
	char path[128];
	snprintf(path, sizeof(path), "/certificates/%s", id);
	char *b = get_as(cit, path, 200);
	assert_non_null(strstr(b, "已撤销"));
	assert_non_null(strstr(b, "材料不实，依法撤销 （复核结论）"));
	free(b);
	struct th_client *anon = th_client_new(th_shared);
	b = get_as(anon, path, 200);
	assert_non_null(strstr(b, "已撤销"));
	assert_null(strstr(b, "材料不实")); /* the reason is not for the public */
	free(b);
	th_client_free(anon);
	/* an administrator may revoke any */
	assert_int_equal(post_revoke(admin, other, "duplicate issue", true), 303);
	assert_string_equal(status_of(other), "revoked");
	/* erasing the revocation's date alone does not bring it back */
	exec_sql("UPDATE certificates SET revoked_ms = NULL WHERE id = ?", other);
	assert_string_equal(status_of(other), "tampered");
	th_client_free(rs);
	th_client_free(cit);
	th_client_free(mz);
	th_client_free(admin);
}

static void pdf_for_holder_and_issuer(void **state)
{
	(void)state;
	char id[48], path[128];
	issue(id, 0, 365);
	snprintf(path, sizeof(path), "/certificates/%s/pdf", id);
	struct th_client *holder = th_signed_in(th_shared, DG_DEMO_CITIZEN),
			 *other = th_signed_in(th_shared, DG_DEMO_CITIZEN2),
			 *mz = th_signed_in(th_shared, DG_DEMO_STAFF),
			 *rs = th_signed_in(th_shared, DG_DEMO_STAFF2),
			 *anon = th_client_new(th_shared);
	struct th_resp r = {0};
	assert_int_equal(th_get(holder, path, &r), 200);
	char *ct = th_header(&r, "Content-Type");
	assert_string_equal(ct, "application/pdf");
	free(ct);
	assert_memory_equal(r.body, "%PDF-1.4", 8);
	int npages = 0;
	char *text = th_pdf_text(r.body, r.len, &npages);
	th_resp_release(&r);
	assert_non_null(text); /* pdfinfo found no error */
	assert_int_equal(npages, 1);
	if (!strstr(text, TITLE_ZH) || !strstr(text, id) || !strstr(text, "张三") ||
	    !strstr(text, "每月 200 元") || !strstr(text, "民政局") ||
	    !strstr(text, "/certificates/"))
		fail_msg("pdftotext: %s", text);
	free(text);
	/* the issuing staff may print it; another citizen or department may not */
	free(get_as(mz, path, 200));
	free(get_as(other, path, 403));
	free(get_as(rs, path, 403));
	assert_int_equal(th_get(anon, path, &r), 303);
	char *loc = th_header(&r, "Location");
	assert_non_null(strstr(loc, "/login"));
	free(loc);
	th_resp_release(&r);
	th_client_free(holder);
	th_client_free(other);
	th_client_free(mz);
	th_client_free(rs);
	th_client_free(anon);
}

static void my_certificates(void **state)
{
	(void)state;
	char id[48];
	issue(id, 0, 365);
	struct th_client *holder = th_signed_in(th_shared, DG_DEMO_CITIZEN),
			 *other = th_signed_in(th_shared, DG_DEMO_CITIZEN2);
	char *b = get_as(holder, "/my/certificates", 200);
	assert_non_null(strstr(b, id));
	assert_non_null(strstr(b, TITLE_ZH));
	free(b);
	b = get_as(other, "/my/certificates", 200);
	assert_null(strstr(b, "/certificates/CERT-"));
	assert_non_null(strstr(b, "您还没有电子证照"));
	free(b);
	th_client_free(holder);
	th_client_free(other);
	struct th_client *anon = th_client_new(th_shared);
	free(get_as(anon, "/my/certificates", 303));
	th_client_free(anon);
}

static void issue_validates_and_changes_nothing(void **state)
{
	(void)state;
	int64_t before = count_certs();
	json_t *arr = json_pack("{s:[i]}", "x", 1), *many = json_object();
	for (int i = 0; i < 13; i++) {
		char k[8];
		snprintf(k, sizeof(k), "k%d", i);
		json_object_set_new(many, k, json_string("v"));
	}
	struct dg_cert_in good = {
		.item_code = "990100-MZ-004",
		.title_zh = TITLE_ZH,
		.holder_user_id = user_id(DG_DEMO_CITIZEN),
		.holder_name = "张三",
		.dept_id = dept_id("mz"),
		.valid_from = dg_day_today(),
	};
	static const char *const want[] = {"title_zh",       "holder_name", "dept_id",
					   "holder_user_id", "valid_until", "fields",
					   "fields",         "item_code",   "holder_name"};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct dg_cert_in in = good;
		struct dg_err err = {0};
		char id[48];
		switch (i) {
		case 0: in.title_zh = ""; break;
		case 1: in.holder_name = NULL; break;
		case 2: in.dept_id = 999999; break;
		case 3: in.holder_user_id = 999999; break;
		case 4: in.valid_until = in.valid_from - 1; break;
		case 5: in.fields = arr; break;
		case 6: in.fields = many; break;
		case 7: in.item_code = "a\nb"; break;
		default: in.holder_name = "\xff\xfe"; break;
		}
		assert_int_equal(issue_in(&in, id, &err), DG_EINVAL);
		assert_string_equal(err.field, want[i]);
		assert_string_equal(id, "");
	}
	assert_int_equal(count_certs(), before);
	/* the smallest good one: no English title, no fields, no expiry */
	char id[48];
	struct dg_err err = {0};
	assert_int_equal(issue_in(&good, id, &err), DG_OK);
	assert_string_equal(status_of(id), "valid");
	assert_int_equal(count_certs(), before + 1);
	json_decref(arr);
	json_decref(many);
}

static void bad_ids_are_not_found(void **state)
{
	(void)state;
	static const char *const paths[] = {
		"/certificates/CERT-AAAAAAAAAAAAAAAAAAAA",
		"/certificates/CERT-AAA",
		"/certificates/cert-aaaaaaaaaaaaaaaaaaaa",
		"/certificates/CERT-AAAAAAAAAAAAAAAAAAA1",
		"/certificates/CERT-AAAAAAAAAAAAAAAAAAAA/qr.svg",
		"/certificates/%27%20OR%201%3D1/qr.svg",
	};
	struct th_client *c = th_client_new(th_shared);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		char *b = get_as(c, paths[i], 404);
		if (i == 0)
			assert_non_null(strstr(b, "没有找到这个证照编号"));
		free(b);
	}
	th_client_free(c);
	json_t *e = api("/api/v1/certificates/CERT-AAAAAAAAAAAAAAAAAAAA", 404);
	assert_string_equal(json_string_value(json_object_get(json_object_get(e, "error"), "code")),
			    "ENOTFOUND");
	json_decref(e);
	json_decref(api("/api/v1/certificates/nope/verify", 404));
	struct th_client *holder = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	free(get_as(holder, "/certificates/CERT-AAAAAAAAAAAAAAAAAAAA/pdf", 404));
	th_client_free(holder);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_page_masks_the_name),
		cmocka_unit_test(signed_document_verifies_with_the_published_key),
		cmocka_unit_test(changed_columns_show_as_tampered),
		cmocka_unit_test(expiry_and_start),
		cmocka_unit_test(revocation_by_the_issuer_only),
		cmocka_unit_test(pdf_for_holder_and_issuer),
		cmocka_unit_test(my_certificates),
		cmocka_unit_test(issue_validates_and_changes_nothing),
		cmocka_unit_test(bad_ids_are_not_found),
	};
	return cmocka_run_group_tests(tests, th_group_setup, th_group_teardown);
}
