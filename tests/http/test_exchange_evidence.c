/*
 * test_exchange_evidence.c - a certificate dgov issued, attached to an
 * application as evidence instead of an upload, and a member of staff's
 * view of a person's record as a use of their data, through the real
 * server on the store DGOV_TEST_DB selects.
 *
 * Certificates: an item whose guide asks for one (the newborn's household
 * registration asks for the parents' marriage certificate) leads to the
 * pre-fill step, which lists the applicant's certificates of that kind
 * with number, issuer and date and fetches nothing by itself; a revoked,
 * an expired, another person's, another kind's or an unknown certificate
 * is refused in the page's language with nothing changed; the valid one is
 * attached as a signed reference (number, hash of the signed text, the
 * certificate's signature; not a copy), audited and listed on
 * /my/data-use; an applicant without one is told so and may upload.
 *
 * Views: the back office's case page, its reveal and the case read through
 * the API by staff each append a record.view audit record (who, whose record, the case as purpose)
 * and a line on the applicant's /my/data-use; another department's staff and residents are refused
 * and nothing is recorded; the chain still verifies. A case's uploaded
 * document opened by the department's staff is a view too: the bytes, one
 * record naming the official and the case, a line on the applicant's
 * /my/data-use; another department's staff and another resident are
 * refused and nothing is recorded.
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
#include "cert/cert.h"
#include "core/date.h"
#include "harness.h"
#include "node/demo.h"

#define ITEM     "990100-GA-001"               /* newborn: asks for 结婚证 */
#define MARRIAGE "%E7%BB%93%E5%A9%9A%E8%AF%81" /* 结婚证 */
#define PNG      "\x89PNG\r\n\x1a\n0000IHDR-test-image"
#define PDF      "%PDF-1.4\n% a document of the case\n"

static int64_t count(const char *sql)
{
	return th_sql_int(th_shared, sql);
}

static int64_t user_id(const char *username)
{
	char q[160];
	snprintf(q, sizeof q, "SELECT id FROM users WHERE username = '%s'", username);
	return count(q);
}

/* A marriage certificate (or one of item) for username, valid from..until days from today. */
static void issue(char id[48], const char *username, const char *item, int from, int until)
{
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	dg_day today = dg_day_today();
	struct dg_cert_in in = {
		.item_code = item,
		.title_zh = "结婚证",
		.title_en = "Marriage certificate",
		.holder_user_id = user_id(username),
		.holder_name = "测试",
		.dept_id = count("SELECT id FROM departments WHERE code = 'mz'"),
		.case_ref = "",
		.valid_from = today + from,
		.valid_until = until ? today + until : 0,
	};
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_db_begin(db), DG_OK);
	dg_rc rc = dg_cert_issue(db, &th_app(th_shared)->env.keys, &in, id, &err);
	if (rc)
		fail_msg("dg_cert_issue: %s %s", err.field, err.msg);
	assert_int_equal(dg_db_commit(db), DG_OK);
	dg_db_put(db);
}

static void revoke_cert(const char *id)
{
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_db_begin(db), DG_OK);
	assert_int_equal(dg_cert_revoke(db, &th_app(th_shared)->env.keys, id,
					user_id(DG_DEMO_STAFF), "测试撤销", &err),
			 DG_OK);
	assert_int_equal(dg_db_commit(db), DG_OK);
	dg_db_put(db);
}

/* Start an application for ITEM; returns its reference (owned), checking where it led. */
static char *start(struct th_client *c)
{
	struct th_resp r = {0};
	assert_int_equal(
		th_post_csrf(c, "/services/" ITEM "/apply", "/services/" ITEM "/apply", "", &r),
		303);
	char *loc = th_header(&r, "Location");
	assert_non_null(loc);
	const char *p = strstr(loc, "/my/cases/");
	assert_non_null(p);
	p += strlen("/my/cases/");
	char *ref = strndup(p, strcspn(p, "/"));
	assert_non_null(strstr(loc, "/prefill")); /* the guide's certificate is offered first */
	free(loc);
	th_resp_release(&r);
	return ref;
}

/* The status of GET path as user (NULL: a visitor). */
static long status_as(const char *user, const char *path)
{
	struct th_client *c = user ? th_signed_in(th_shared, user) : th_client_new(th_shared);
	long st = th_get(c, path, NULL);
	th_client_free(c);
	return st;
}

/* What changes when something is fetched or attached, to see that nothing did. */
struct tally {
	int64_t audit, files, uses, prefills;
};

static void tally(struct tally *t)
{
	t->audit = count("SELECT COUNT(*) FROM audit_log");
	t->files = count("SELECT COUNT(*) FROM case_files");
	t->uses = count("SELECT COUNT(*) FROM xr_uses");
	t->prefills = count("SELECT COUNT(*) FROM xr_prefills");
}

static void same(const struct tally *before)
{
	struct tally now;
	tally(&now);
	assert_int_equal(now.audit, before->audit);
	assert_int_equal(now.files, before->files);
	assert_int_equal(now.uses, before->uses);
	assert_int_equal(now.prefills, before->prefills);
}

/* POST a choice of certificate for the entry named field ("cert-N"); returns the status. */
static long choose(struct th_client *c, const char *path, const char *field, const char *id,
		   struct th_resp *r)
{
	char body[256];
	snprintf(body, sizeof body, "fetch=%s&%s=%s", MARRIAGE, field, id);
	return th_post_csrf(c, path, path, body, r);
}

static void refused(struct th_client *c, const char *path, const char *field, const char *id,
		    const char *words)
{
	struct tally t;
	struct th_resp r = {0};
	tally(&t);
	assert_int_equal(choose(c, path, field, id, &r), 422);
	if (!strstr(r.body, words))
		fail_msg("no \"%s\" refusing %s", words, id);
	th_resp_release(&r);
	same(&t);
}

static void certificate_as_evidence(void **state)
{
	(void)state;
	char q[400], path[160], field[32], revoked[48], expired[48], other[48], kind[48];
	char demo[48];
	int64_t me = user_id(DG_DEMO_CITIZEN);
	snprintf(q, sizeof q,
		 "SELECT COUNT(*) FROM certificates WHERE item_code = '990100-MZ-001'"
		 " AND holder_user_id = %lld",
		 (long long)me);
	assert_int_equal(count(q), 1); /* the demo's marriage certificate */
	issue(revoked, DG_DEMO_CITIZEN, "990100-MZ-001", -300, 0);
	revoke_cert(revoked);
	issue(expired, DG_DEMO_CITIZEN, "990100-MZ-001", -400, -10);
	issue(other, DG_DEMO_CITIZEN2, "990100-MZ-001", -30, 0);
	issue(kind, DG_DEMO_CITIZEN, "990100-MZ-004", -30, 0);

	struct th_client *c = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	char *ref = start(c);
	snprintf(path, sizeof path, "/my/cases/%s/prefill", ref);
	struct tally t;
	tally(&t);
	/* the preview: which certificate, from whom, its date; nothing fetched yet */
	char *b = th_get_body(c, path, 200);
	assert_non_null(b);
	assert_non_null(strstr(b, "结婚证"));
	assert_non_null(strstr(b, "民政局"));
	assert_non_null(strstr(b, "2024-05-20"));
	assert_non_null(strstr(b, revoked));
	assert_non_null(strstr(b, "已撤销"));
	assert_non_null(strstr(b, expired));
	assert_non_null(strstr(b, "已过期"));
	assert_null(strstr(b, other)); /* lisi's is not shown to zhangsan */
	assert_null(strstr(b, kind));  /* nor a certificate of another kind */
	const char *radio = strstr(b, "type=\"radio\" name=\"");
	assert_non_null(radio);
	radio += strlen("type=\"radio\" name=\"");
	snprintf(field, sizeof field, "%.*s", (int)strcspn(radio, "\""), radio);
	const char *val = strstr(radio, "value=\"");
	assert_non_null(val);
	val += strlen("value=\"");
	snprintf(demo, sizeof demo, "%.*s", (int)strcspn(val, "\""), val);
	assert_memory_equal(demo, "CERT-", 5);
	assert_string_not_equal(demo, revoked);
	assert_string_not_equal(demo, expired);
	/* only valid ones can be chosen */
	snprintf(q, sizeof q, "value=\"%s\"", revoked);
	assert_null(strstr(b, q));
	free(b);
	same(&t);

	/* refused, each in words, nothing changed */
	refused(c, path, field, revoked, "已被撤销");
	refused(c, path, field, expired, "已过有效期");
	refused(c, path, field, other, "不是您名下");
	refused(c, path, field, kind, "不是您名下");
	refused(c, path, field, "CERT-AAAAAAAAAAAAAAAAAAAA", "不是您名下");
	refused(c, path, field, "x%27%3B--", "不是您名下");

	/* the valid one is attached */
	struct th_resp r = {0};
	assert_int_equal(choose(c, path, field, demo, &r), 200);
	assert_non_null(strstr(r.body, "继续填写申请表"));
	th_resp_release(&r);
	struct tally after;
	tally(&after);
	assert_int_equal(after.files, t.files + 1);
	assert_int_equal(after.uses, t.uses + 1);
	assert_int_equal(after.prefills, t.prefills + 1);
	snprintf(q, sizeof q,
		 "SELECT COUNT(*) FROM audit_log a JOIN users u ON u.id_number_index = a.subject"
		 " WHERE a.kind = 'exchange.read' AND a.purpose = '" ITEM "' AND u.id = %lld"
		 " AND a.detail LIKE '%%%s%%' AND a.actor = 'dept:ga/system:prefill'",
		 (long long)me, demo);
	assert_int_equal(count(q), 1);
	snprintf(q, sizeof q,
		 "SELECT file_id FROM xr_prefills WHERE case_ref = '%s' AND kind = 'material'"
		 " AND registry = 'certificates' AND dept = 'mz' AND effective = '2024-05-20'",
		 ref);
	int64_t fid = count(q);
	assert_true(fid > 0);

	/* the document: a signed reference, its hash that of the signed text, no copy */
	snprintf(path, sizeof path, "/cases/%s/files/%lld", ref, (long long)fid);
	struct th_resp f = {0};
	assert_int_equal(th_get(c, path, &f), 200);
	json_t *doc = json_loads(f.body, 0, NULL);
	assert_non_null(doc);
	json_t *cert = json_object_get(json_object_get(doc, "answer"), "certificate");
	assert_string_equal(json_string_value(json_object_get(cert, "id")), demo);
	assert_null(json_object_get(cert, "holder_name"));
	assert_null(json_object_get(cert, "fields"));
	char api[128];
	snprintf(api, sizeof api, "/api/v1/certificates/%s", demo);
	json_t *signed_doc = th_get_json(th_shared, api, 200);
	const char *payload = json_string_value(json_object_get(signed_doc, "payload"));
	unsigned char h[crypto_hash_sha256_BYTES];
	char hex[2 * crypto_hash_sha256_BYTES + 1];
	crypto_hash_sha256(h, (const unsigned char *)payload, strlen(payload));
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	assert_string_equal(json_string_value(json_object_get(cert, "payload_sha256")), hex);
	assert_string_equal(json_string_value(json_object_get(cert, "signature")),
			    json_string_value(json_object_get(signed_doc, "signature")));
	json_decref(signed_doc);
	json_decref(doc);
	struct th_client *anon = th_client_new(th_shared);
	struct th_resp v = {0};
	assert_int_equal(th_request(anon, "POST", "/x/v1/verify", "application/json", f.body,
				    strlen(f.body), NULL, &v),
			 200);
	json_t *j = json_loads(v.body, 0, NULL);
	assert_true(json_is_true(json_object_get(j, "valid")));
	json_decref(j);
	th_resp_release(&v);
	th_resp_release(&f);
	th_client_free(anon);

	/* the use is on the resident's page */
	b = th_get_body(c, "/my/data-use", 200);
	assert_non_null(strstr(b, "电子证照"));
	assert_non_null(strstr(b, demo));
	free(b);

	/* another resident, staff, visitors cannot reach the step */
	snprintf(path, sizeof path, "/my/cases/%s/prefill", ref);
	assert_int_equal(status_as(DG_DEMO_CITIZEN2, path), 404);
	assert_int_equal(status_as(DG_DEMO_STAFF, path), 403);
	assert_int_equal(status_as(NULL, path), 303);
	free(ref);
	th_client_free(c);
}

static void without_a_certificate(void **state)
{
	(void)state;
	/* wangwu holds no marriage certificate: told so, may upload instead */
	struct th_client *c = th_signed_in(th_shared, "wangwu");
	char path[160];
	char *ref = start(c);
	snprintf(path, sizeof path, "/my/cases/%s/prefill", ref);
	char *b = th_get_body(c, path, 200);
	assert_non_null(strstr(b, "您名下没有本平台签发的有效的此类证照"));
	assert_null(strstr(b, "type=\"radio\""));
	free(b);
	struct tally t;
	tally(&t);
	/* asking for it anyway fetches nothing: on to the form */
	struct th_resp r = {0};
	assert_int_equal(th_post_csrf(c, path, path, "fetch=" MARRIAGE, &r), 303);
	th_resp_release(&r);
	same(&t);
	/* an upload in its place: the marriage certificate is the guide's third material */
	assert_int_equal(
		th_post_multipart(c, path, path, "upload-2", "marriage.png", PNG, NULL, NULL, &r),
		200);
	assert_non_null(strstr(r.body, "已附上您上传的文件"));
	th_resp_release(&r);
	assert_int_equal(count("SELECT COUNT(*) FROM case_files"), t.files + 1);
	/* in English */
	assert_int_equal(th_get(c, "/prefs?lang=en", NULL), 303);
	b = th_get_body(c, path, 200);
	assert_non_null(strstr(b, "You hold no valid certificate of this kind"));
	free(b);
	free(ref);
	th_client_free(c);
}

static int64_t views(const char *ref)
{
	char q[200];
	snprintf(q, sizeof q,
		 "SELECT COUNT(*) FROM audit_log WHERE kind = 'record.view' AND purpose = '%s'",
		 ref);
	return count(q);
}

static void staff_views_are_uses(void **state)
{
	(void)state;
	char ref[64], q[300], path[160];
	snprintf(q, sizeof q,
		 "SELECT c.id FROM cases c JOIN users u ON u.id = c.applicant_id"
		 " WHERE u.username = 'wangwu' AND c.item_code = '990100-MZ-004'"
		 " AND c.status = 'accepted'");
	int64_t cid = count(q);
	assert_true(cid > 0);
	struct dg_db *db = NULL;
	struct dg_arena *a = dg_arena_new();
	char *text = NULL;
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_db_query_text(db, "SELECT ref FROM cases WHERE id = ?",
					  DG_ARGS(DG_VI(cid)), a, &text),
			 DG_OK);
	dg_db_put(db);
	snprintf(ref, sizeof ref, "%s", text);
	dg_arena_free(a);
	snprintf(path, sizeof path, "/office/cases/%s", ref);
	int64_t staff = user_id(DG_DEMO_STAFF), before = views(ref);

	/* residents and another department's staff: refused, nothing recorded */
	assert_int_equal(status_as(DG_DEMO_CITIZEN, path), 403);
	assert_int_equal(status_as(DG_DEMO_STAFF2, path), 404);
	assert_int_equal(views(ref), before);

	/* the department's staff: one record per view, naming who, whose and why */
	struct th_client *c = th_signed_in(th_shared, DG_DEMO_STAFF);
	int64_t uses = count("SELECT COUNT(*) FROM xr_uses WHERE kind = 'view'");
	free(th_get_body(c, path, 200));
	assert_int_equal(views(ref), before + 1);
	snprintf(q, sizeof q,
		 "SELECT COUNT(*) FROM audit_log a JOIN users u ON u.id_number_index = a.subject"
		 " WHERE a.kind = 'record.view' AND a.purpose = '%s' AND a.actor = 'user:%lld'"
		 " AND u.username = 'wangwu' AND a.detail LIKE '%%\"case\"%%'",
		 ref, (long long)staff);
	assert_int_equal(count(q), 1);
	assert_int_equal(count("SELECT COUNT(*) FROM xr_uses WHERE kind = 'view'"), uses + 1);
	/* the reveal of identifiers in full is one more */
	char reveal[180];
	snprintf(reveal, sizeof reveal, "%s/reveal", path);
	assert_int_equal(th_post_csrf(c, path, reveal, "", NULL), 200);
	assert_int_equal(views(ref), before + 3); /* the page again for its form, then the reveal */
	snprintf(q, sizeof q,
		 "SELECT COUNT(*) FROM audit_log WHERE kind = 'record.view' AND purpose = '%s'"
		 " AND detail LIKE '%%\"reveal\"%%'",
		 ref);
	assert_int_equal(count(q), 1);
	/* through the API too */
	char api[160];
	snprintf(api, sizeof api, "/api/v1/applications/%s", ref);
	int64_t n = views(ref);
	assert_int_equal(th_get(c, api, NULL), 200);
	assert_int_equal(views(ref), n + 1);
	snprintf(q, sizeof q,
		 "SELECT COUNT(*) FROM audit_log WHERE kind = 'record.view' AND purpose = '%s'"
		 " AND detail LIKE '%%\"api\"%%'",
		 ref);
	assert_int_equal(count(q), 1);
	th_client_free(c);
	/* the applicant reading their own case is no staff view */
	c = th_signed_in(th_shared, "wangwu");
	n = views(ref);
	assert_int_equal(th_get(c, api, NULL), 200);
	assert_int_equal(views(ref), n);
	th_client_free(c);
	c = th_signed_in(th_shared, DG_DEMO_ADMIN);
	n = views(ref);
	free(th_get_body(c, path, 200));
	assert_int_equal(views(ref), n + 1);
	th_client_free(c);

	/* wangwu sees who looked, and why */
	c = th_signed_in(th_shared, "wangwu");
	char *b = th_get_body(c, "/my/data-use", 200);
	assert_non_null(strstr(b, ref));
	assert_non_null(strstr(b, "民政局"));
	assert_non_null(strstr(b, "赵*"));
	free(b);
	th_client_free(c);

	/* and the chain holds */
	struct dg_audit_report rep = {0};
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_audit_verify(db, &th_app(th_shared)->env.keys,
					 th_app(th_shared)->env.region.code, &rep),
			 DG_OK);
	dg_db_put(db);
	assert_int_equal(rep.bad_seq, 0);
}

/* zhangsan applies for the funeral subsidy (民政), its one material uploaded; the reference. */
static char *submitted_with_document(struct th_client *c)
{
	struct th_resp r = {0};
	char path[128], page[128];
	snprintf(page, sizeof page, "/services/990100-MZ-007/apply");
	assert_int_equal(th_post_csrf(c, page, page, "", &r), 303);
	char *loc = th_header(&r, "Location");
	th_resp_release(&r);
	assert_non_null(loc);
	const char *p = strstr(loc, "/my/cases/");
	assert_non_null(p);
	p += strlen("/my/cases/");
	char *ref = strndup(p, strcspn(p, "/"));
	free(loc);
	snprintf(path, sizeof path, "/my/cases/%s/form/1", ref);
	assert_int_equal(
		th_post_csrf(c, path, path, "name=%E5%BC%A0%E4%B8%89&phone=13800000001", &r), 303);
	th_resp_release(&r);
	snprintf(path, sizeof path, "/my/cases/%s/form/2", ref);
	assert_int_equal(th_post_csrf(c, path, path, "purpose=funeral", &r), 303);
	th_resp_release(&r);
	snprintf(path, sizeof path, "/my/cases/%s/form/3", ref);
	assert_int_equal(th_post_multipart(c, path, path, "m1", "death.pdf", PDF, NULL, NULL, &r),
			 303);
	th_resp_release(&r);
	snprintf(page, sizeof page, "/my/cases/%s/check", ref);
	snprintf(path, sizeof path, "/my/cases/%s/submit", ref);
	assert_int_equal(th_post_csrf(c, page, path, "", &r), 303);
	th_resp_release(&r);
	return ref;
}

static void staff_open_a_document(void **state)
{
	(void)state;
	struct th_client *cit = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	char *ref = submitted_with_document(cit);
	char q[400], path[160];
	snprintf(q, sizeof q,
		 "SELECT f.id FROM case_files f JOIN cases c ON c.id = f.case_id"
		 " WHERE c.ref = '%s' AND c.status = 'submitted'",
		 ref);
	int64_t fid = count(q);
	assert_true(fid > 0);
	snprintf(path, sizeof path, "/cases/%s/files/%lld", ref, (long long)fid);
	int64_t before = views(ref);
	struct tally t;
	tally(&t);

	/* another department's staff and another resident: refused, nothing recorded */
	assert_int_equal(status_as(DG_DEMO_STAFF2, path), 404);
	assert_int_equal(status_as(DG_DEMO_CITIZEN2, path), 404);
	assert_int_equal(status_as(NULL, path), 303);
	same(&t);
	/* the applicant opening their own document is no view by staff */
	struct th_resp r = {0};
	assert_int_equal(th_get(cit, path, &r), 200);
	th_resp_release(&r);
	same(&t);

	/* the department's staff: the bytes, and one record naming the official and the case */
	struct th_client *mz = th_signed_in(th_shared, DG_DEMO_STAFF);
	assert_int_equal(th_get(mz, path, &r), 200);
	assert_int_equal(r.len, strlen(PDF));
	assert_memory_equal(r.body, PDF, strlen(PDF));
	th_resp_release(&r);
	th_client_free(mz);
	assert_int_equal(views(ref), before + 1);
	assert_int_equal(count("SELECT COUNT(*) FROM audit_log"), t.audit + 1);
	snprintf(q, sizeof q,
		 "SELECT COUNT(*) FROM audit_log a JOIN users u ON u.id_number_index = a.subject"
		 " WHERE a.kind = 'record.view' AND a.purpose = '%s' AND a.actor = 'user:%lld'"
		 " AND u.username = '" DG_DEMO_CITIZEN "' AND a.detail LIKE '%%\"file\"%%'",
		 ref, (long long)user_id(DG_DEMO_STAFF));
	assert_int_equal(count(q), 1);
	assert_int_equal(count("SELECT COUNT(*) FROM xr_uses"), t.uses + 1);

	/* the applicant sees who opened it, and for which case */
	char *b = th_get_body(cit, "/my/data-use", 200);
	assert_non_null(strstr(b, ref));
	assert_non_null(strstr(b, "赵*"));
	free(b);
	/* another resident does not */
	struct th_client *other = th_signed_in(th_shared, DG_DEMO_CITIZEN2);
	b = th_get_body(other, "/my/data-use", 200);
	assert_null(strstr(b, ref));
	free(b);
	th_client_free(other);
	free(ref);
	th_client_free(cit);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(certificate_as_evidence),
		cmocka_unit_test(without_a_certificate),
		cmocka_unit_test(staff_views_are_uses),
		cmocka_unit_test(staff_open_a_document),
	};
	return cmocka_run_group_tests(tests, th_group_setup, th_group_teardown);
}
