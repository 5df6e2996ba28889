/*
 * test_cases.c - applications and case handling over real HTTP, on the store
 * the suite runs on: a whole journey in the browser's forms (with a
 * validation error and an upload on the way), the same over the API,
 * withdrawing inside and outside ten minutes, a transfer, the clock stopping
 * for supplementary material, and every refusal leaving the case as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/app.h"
#include "core/date.h"
#include "core/failpoint.h"
#include "node/demo.h"
#include "harness.h"
#include "store/store.h"

#define PDF "%PDF-1.4\n% a test document\n"

/* The reference in a "/my/cases/REF/..." Location (malloc'd). */
static char *ref_of(const struct th_resp *r)
{
	char *loc = th_header(r, "Location");
	assert_non_null(loc);
	const char *p = strstr(loc, "/my/cases/");
	assert_non_null(p);
	p += strlen("/my/cases/");
	char *ref = strndup(p, strcspn(p, "/?"));
	free(loc);
	return ref;
}

static int64_t sql_int(const char *sql, const char *ref)
{
	struct dg_db *db = NULL;
	int64_t v = -1;
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_db_query_int(db, sql, DG_ARGS(DG_VT(ref)), &v), DG_OK);
	dg_db_put(db);
	return v;
}

static char *sql_text(const char *sql, const char *ref)
{
	struct dg_db *db = NULL;
	struct dg_rows *rw = NULL;
	char *out = NULL;
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_db_query(db, sql, DG_ARGS(DG_VT(ref)), &rw), DG_OK);
	assert_int_equal(dg_rows_next(rw), DG_OK);
	out = strdup(dg_rows_text(rw, 0));
	dg_rows_free(rw);
	dg_db_put(db);
	return out;
}

static void sql_exec(const char *sql, const char *ref)
{
	struct dg_db *db = NULL;
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_db_exec(db, sql, DG_ARGS(DG_VT(ref)), NULL), DG_OK);
	dg_db_put(db);
}

static void assert_status(const char *ref, const char *want)
{
	char *st = sql_text("SELECT status FROM cases WHERE ref = ?", ref);
	assert_string_equal(st, want);
	free(st);
}

/* Start an application for item as the signed-in client; returns the reference. */
static char *start(struct th_client *c, const char *item)
{
	struct th_resp r = {0};
	char page[128];
	snprintf(page, sizeof page, "/services/%s/apply", item);
	assert_int_equal(th_post_csrf(c, page, page, "", &r), 303);
	char *ref = ref_of(&r);
	th_resp_release(&r);
	return ref;
}

/* Fill and submit the default form of the funeral subsidy (one upload). */
static char *submitted_case(struct th_client *c)
{
	struct th_resp r = {0};
	char path[128], page[128];
	char *ref = start(c, "990100-MZ-007");
	snprintf(path, sizeof path, "/my/cases/%s/form/1", ref);
	assert_int_equal(
		th_post_csrf(c, path, path, "name=%E5%BC%A0%E4%B8%89&phone=13800000001", &r), 303);
	th_resp_release(&r);
	snprintf(path, sizeof path, "/my/cases/%s/form/2", ref);
	assert_int_equal(th_post_csrf(c, path, path, "purpose=funeral", &r), 303);
	th_resp_release(&r);
	snprintf(path, sizeof path, "/my/cases/%s/form/3", ref);
	assert_int_equal(th_post_multipart(c, path, path, "m1", "id.pdf", PDF, NULL, NULL, &r),
			 303);
	th_resp_release(&r);
	snprintf(page, sizeof page, "/my/cases/%s/check", ref);
	snprintf(path, sizeof path, "/my/cases/%s/submit", ref);
	assert_int_equal(th_post_csrf(c, page, path, "", &r), 303);
	th_resp_release(&r);
	assert_status(ref, "submitted");
	return ref;
}

static long staff_act(struct th_client *c, const char *ref, const char *body, struct th_resp *r)
{
	char page[128], path[128];
	snprintf(page, sizeof page, "/office/cases/%s", ref);
	snprintf(path, sizeof path, "/office/cases/%s/action", ref);
	return th_post_csrf(c, page, path, body, r);
}

static void browser_journey(void **state)
{
	(void)state;
	struct th_client *cit = th_signed_in(th_shared, DG_DEMO_CITIZEN),
			 *mz = th_signed_in(th_shared, DG_DEMO_STAFF);
	struct th_resp r = {0};
	char path[128], page[128];
	char *ref = start(cit, "990100-MZ-007");
	assert_status(ref, "draft");

	/* page 1 is pre-filled from the account, with the source said: fixed, and masked */
	snprintf(path, sizeof path, "/my/cases/%s/form/1", ref);
	assert_int_equal(th_get(cit, path, &r), 200);
	assert_non_null(strstr(r.body, "138****0001"));
	assert_null(strstr(r.body, "13800000001"));
	assert_null(strstr(r.body, "name=\"phone\""));
	assert_non_null(strstr(r.body, "自动填写"));
	th_resp_release(&r);
	/* another phone instead of the account's: 422, the error summary, and the draft's answers
	 * unchanged */
	char *before = sql_text("SELECT answers FROM cases WHERE ref = ?", ref);
	assert_int_equal(th_post_csrf(cit, path, path, "name=%E5%BC%A0%E4%B8%89&phone=12345", &r),
			 422);
	assert_non_null(strstr(r.body, "error-summary"));
	assert_non_null(strstr(r.body, "不能在此修改"));
	th_resp_release(&r);
	char *after = sql_text("SELECT answers FROM cases WHERE ref = ?", ref);
	assert_string_equal(before, after);
	free(before);
	free(after);
	assert_int_equal(
		th_post_csrf(cit, path, path, "name=%E5%BC%A0%E4%B8%89&phone=13800000001", &r),
		303);
	th_resp_release(&r);
	/* save and come back later */
	snprintf(path, sizeof path, "/my/cases/%s/form/2", ref);
	assert_int_equal(th_post_csrf(cit, path, path, "purpose=my+father+died&later=1", &r), 303);
	char *loc = th_header(&r, "Location");
	assert_non_null(strstr(loc, "/my/cases?saved="));
	free(loc);
	th_resp_release(&r);
	/* an upload that is not a PDF, JPG or PNG is refused by its content, whatever its name */
	snprintf(path, sizeof path, "/my/cases/%s/form/3", ref);
	assert_int_equal(
		th_post_multipart(cit, path, path, "m1", "id.pdf", "MZ not a pdf", NULL, NULL, &r),
		422);
	assert_non_null(strstr(r.body, "PDF"));
	th_resp_release(&r);
	assert_int_equal(sql_int("SELECT COUNT(*) FROM case_files f JOIN cases c ON c.id = "
				 "f.case_id WHERE c.ref = ?",
				 ref),
			 0);
	assert_int_equal(th_post_multipart(cit, path, path, "m1", "id.pdf", PDF, NULL, NULL, &r),
			 303);
	th_resp_release(&r);
	/* check answers, then submit */
	snprintf(page, sizeof page, "/my/cases/%s/check", ref);
	assert_int_equal(th_get(cit, page, &r), 200);
	assert_non_null(strstr(r.body, "my father died"));
	assert_non_null(strstr(r.body, "id.pdf"));
	th_resp_release(&r);
	snprintf(path, sizeof path, "/my/cases/%s/submit", ref);
	assert_int_equal(th_post_csrf(cit, page, path, "", &r), 303);
	th_resp_release(&r);
	snprintf(path, sizeof path, "/my/cases/%s?done=submitted", ref);
	assert_int_equal(th_get(cit, path, &r), 200);
	assert_non_null(strstr(r.body, ref));
	assert_non_null(strstr(r.body, "预计不晚于"));
	th_resp_release(&r);

	/* the department's queue has it; accept sets the promised date */
	assert_int_equal(th_get(mz, "/office?status=submitted", &r), 200);
	assert_non_null(strstr(r.body, ref));
	th_resp_release(&r);
	assert_int_equal(staff_act(mz, ref, "action=accept", &r), 303);
	th_resp_release(&r);
	assert_status(ref, "accepted");
	int64_t due = sql_int("SELECT due_day FROM cases WHERE ref = ?", ref);
	/* the applicant is told, with the promised date, in their inbox */
	assert_int_equal(th_get(cit, "/inbox", &r), 200);
	assert_non_null(strstr(r.body, ref));
	assert_non_null(strstr(r.body, "已受理"));
	th_resp_release(&r);
	assert_true(due >=
		    dg_day_today() + 10); /* 10 promised working days: at least 10 calendar days */
	/* asking for material needs a reason; then the clock stops */
	assert_int_equal(staff_act(mz, ref, "action=request_supplement&reason=", &r), 422);
	th_resp_release(&r);
	assert_status(ref, "accepted");
	assert_int_equal(staff_act(mz, ref, "action=request_supplement&reason=hukou+page", &r),
			 303);
	th_resp_release(&r);
	assert_status(ref, "supplement");
	/* pretend the applicant answered a week later: the due date moves by the working days
	 * waited */
	sql_exec("UPDATE cases SET paused_day = paused_day - 7 WHERE ref = ?", ref);
	snprintf(page, sizeof page, "/my/cases/%s", ref);
	snprintf(path, sizeof path, "/my/cases/%s/supplement", ref);
	assert_int_equal(
		th_post_multipart(cit, page, path, "files", "hukou.pdf", PDF, "note", "sent", &r),
		303);
	th_resp_release(&r);
	assert_status(ref, "accepted");
	int64_t due2 = sql_int("SELECT due_day FROM cases WHERE ref = ?", ref);
	assert_true(due2 > due);
	/* approve: a certificate is issued */
	assert_int_equal(staff_act(mz, ref, "action=approve", &r), 303);
	th_resp_release(&r);
	assert_status(ref, "approved");
	char *cert = sql_text("SELECT cert_id FROM cases WHERE ref = ?", ref);
	assert_true(strncmp(cert, "CERT-", 5) == 0);
	free(cert);
	/* the applicant sees the decision and the whole history */
	assert_int_equal(th_get(cit, page, &r), 200);
	assert_non_null(strstr(r.body, "准予"));
	assert_non_null(strstr(r.body, "hukou page"));
	th_resp_release(&r);

	/* rate badly: a comment is required; then a rectification task opens */
	snprintf(path, sizeof path, "/my/cases/%s/rating", ref);
	assert_int_equal(th_post_csrf(cit, page, path, "level=1", &r), 422);
	th_resp_release(&r);
	assert_int_equal(sql_int("SELECT COUNT(*) FROM case_ratings r JOIN cases c ON c.id = "
				 "r.case_id WHERE c.ref = ?",
				 ref),
			 0);
	assert_int_equal(th_post_csrf(cit, page, path, "level=1&comment=too+slow", &r), 303);
	th_resp_release(&r);
	assert_int_equal(th_post_csrf(cit, page, path, "level=5", &r), 409); /* once only */
	th_resp_release(&r);
	int64_t task = sql_int("SELECT x.id FROM case_rectifications x JOIN cases c ON c.id = "
			       "x.case_id WHERE c.ref = ?",
			       ref);
	char tpath[64];
	snprintf(tpath, sizeof tpath, "/office/rectifications/%lld", (long long)task);
	const char *steps[] = {"text=checked", "text=fixed", "text=We+are+sorry+and+have+fixed+it",
			       "text=reviewed"};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(th_post_csrf(mz, tpath, tpath, steps[i], &r), 303);
		th_resp_release(&r);
	}
	char *stage = sql_text("SELECT x.stage FROM case_rectifications x JOIN cases c ON c.id = "
			       "x.case_id WHERE c.ref = ?",
			       ref);
	assert_string_equal(stage, "closed");
	free(stage);
	assert_int_equal(th_get(cit, page, &r), 200);
	assert_non_null(strstr(r.body, "We are sorry and have fixed it"));
	th_resp_release(&r);
	assert_int_equal(th_get(cit, "/ratings", &r), 200);
	assert_non_null(strstr(r.body, "殡葬补贴"));
	th_resp_release(&r);
	free(ref);
	th_client_free(cit);
	th_client_free(mz);
}

static void permissions(void **state)
{
	(void)state;
	struct th_client *cit = th_signed_in(th_shared, DG_DEMO_CITIZEN),
			 *other = th_signed_in(th_shared, DG_DEMO_CITIZEN2),
			 *rs = th_signed_in(th_shared, DG_DEMO_STAFF2),
			 *mz = th_signed_in(th_shared, DG_DEMO_STAFF);
	struct th_resp r = {0};
	char path[128];
	char *ref = submitted_case(cit);
	/* another citizen: not found, and cannot withdraw */
	snprintf(path, sizeof path, "/my/cases/%s", ref);
	assert_int_equal(th_get(other, path, &r), 404);
	th_resp_release(&r);
	snprintf(path, sizeof path, "/api/v1/applications/%s", ref);
	assert_int_equal(th_get(other, path, &r), 404);
	th_resp_release(&r);
	snprintf(path, sizeof path, "/my/cases/%s/withdraw", ref);
	assert_int_equal(th_post_csrf(other, "/my/cases", path, "", &r), 404);
	th_resp_release(&r);
	assert_status(ref, "submitted");
	/* another department's staff: not in their queue, cannot see or act */
	assert_int_equal(th_get(rs, "/office", &r), 200);
	assert_null(strstr(r.body, ref));
	th_resp_release(&r);
	snprintf(path, sizeof path, "/office/cases/%s", ref);
	assert_int_equal(th_get(rs, path, &r), 404);
	th_resp_release(&r);
	snprintf(path, sizeof path, "/office/cases/%s/action", ref);
	assert_int_equal(th_post_csrf(rs, "/office", path, "action=accept", &r), 404);
	th_resp_release(&r);
	assert_status(ref, "submitted");
	/* a citizen cannot take a staff action */
	assert_int_equal(th_post_csrf(cit, "/my/cases", path, "action=accept", &r), 403);
	th_resp_release(&r);
	assert_status(ref, "submitted");
	/* an unknown action, an action in the wrong state */
	assert_int_equal(staff_act(mz, ref, "action=explode", &r), 422);
	th_resp_release(&r);
	assert_int_equal(staff_act(mz, ref, "action=approve", &r), 409);
	th_resp_release(&r);
	assert_status(ref, "submitted");
	/* without CSRF nothing changes */
	assert_int_equal(th_post_form(mz, path, "action=accept", &r), 403);
	th_resp_release(&r);
	assert_status(ref, "submitted");
	/* a member of staff without the approve role cannot decide (rs_qian: intake only) */
	struct th_resp r2 = {0};
	char *rsref = start(cit, "990100-RS-002");
	char p1[128], p2[128];
	snprintf(p1, sizeof p1, "/my/cases/%s/form/1", rsref);
	assert_int_equal(
		th_post_csrf(cit, p1, p1, "name=%E5%BC%A0%E4%B8%89&phone=13800000001", &r2), 303);
	th_resp_release(&r2);
	snprintf(p1, sizeof p1, "/my/cases/%s/form/2", rsref);
	assert_int_equal(th_post_csrf(cit, p1, p1, "purpose=card", &r2), 303);
	th_resp_release(&r2);
	snprintf(p1, sizeof p1, "/my/cases/%s/form/3", rsref);
	assert_int_equal(th_post_multipart(cit, p1, p1, "m1", "id.png", "\x89PNG\r\n\x1a\n....",
					   NULL, NULL, &r2),
			 303);
	th_resp_release(&r2);
	snprintf(p1, sizeof p1, "/my/cases/%s/check", rsref);
	snprintf(p2, sizeof p2, "/my/cases/%s/submit", rsref);
	assert_int_equal(th_post_csrf(cit, p1, p2, "", &r2), 303);
	th_resp_release(&r2);
	assert_int_equal(staff_act(rs, rsref, "action=accept", &r2), 303);
	th_resp_release(&r2);
	assert_int_equal(staff_act(rs, rsref, "action=approve", &r2), 403);
	th_resp_release(&r2);
	assert_status(rsref, "accepted");
	/* files: the applicant and the department's staff, nobody else */
	int64_t fid = sql_int(
		"SELECT f.id FROM case_files f JOIN cases c ON c.id = f.case_id WHERE c.ref = ?",
		ref);
	snprintf(path, sizeof path, "/cases/%s/files/%lld", ref, (long long)fid);
	assert_int_equal(th_get(cit, path, &r), 200);
	assert_memory_equal(r.body, PDF, strlen(PDF));
	th_resp_release(&r);
	assert_int_equal(th_get(mz, path, &r), 200);
	th_resp_release(&r);
	assert_int_equal(th_get(other, path, &r), 404);
	th_resp_release(&r);
	assert_int_equal(th_get(rs, path, &r), 404);
	th_resp_release(&r);
	free(rsref);
	free(ref);
	th_client_free(cit);
	th_client_free(other);
	th_client_free(rs);
	th_client_free(mz);
}

static void withdraw_window(void **state)
{
	(void)state;
	struct th_client *cit = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	struct th_resp r = {0};
	char page[128], path[128];
	/* inside ten minutes */
	char *ref = submitted_case(cit);
	snprintf(page, sizeof page, "/my/cases/%s", ref);
	snprintf(path, sizeof path, "/my/cases/%s/withdraw", ref);
	/* asked first: nothing changes without the confirmation */
	assert_int_equal(th_post_csrf(cit, page, path, "", &r), 200);
	assert_non_null(strstr(r.body, "name=\"confirm\" value=\"yes\""));
	th_resp_release(&r);
	assert_status(ref, "submitted");
	assert_int_equal(th_post_csrf(cit, page, path, "confirm=yes", &r), 303);
	th_resp_release(&r);
	assert_status(ref, "withdrawn");
	free(ref);
	/* outside: eleven minutes ago */
	ref = submitted_case(cit);
	sql_exec("UPDATE cases SET submitted_ms = submitted_ms - 660000 WHERE ref = ?", ref);
	snprintf(page, sizeof page, "/my/cases/%s", ref);
	snprintf(path, sizeof path, "/my/cases/%s/withdraw", ref);
	assert_int_equal(th_get(cit, page, &r), 200);
	assert_null(strstr(r.body, "/withdraw\"")); /* no button any more */
	th_resp_release(&r);
	assert_int_equal(th_post_csrf(cit, page, path, "confirm=yes", &r), 409);
	assert_non_null(strstr(r.body, "10"));
	th_resp_release(&r);
	assert_status(ref, "submitted");
	free(ref);
	th_client_free(cit);
}

static void transfer(void **state)
{
	(void)state;
	struct th_client *cit = th_signed_in(th_shared, DG_DEMO_CITIZEN),
			 *mz = th_signed_in(th_shared, DG_DEMO_STAFF),
			 *rs = th_signed_in(th_shared, DG_DEMO_STAFF2);
	struct th_resp r = {0};
	char path[128];
	char *ref = submitted_case(cit);
	/* to no department, or to its own: refused */
	assert_int_equal(staff_act(mz, ref, "action=transfer&reason=wrong+desk&to_dept=nope", &r),
			 422);
	th_resp_release(&r);
	assert_int_equal(staff_act(mz, ref, "action=transfer&reason=wrong+desk&to_dept=mz", &r),
			 422);
	th_resp_release(&r);
	assert_int_equal(staff_act(mz, ref, "action=transfer&reason=wrong+desk&to_dept=rs", &r),
			 303);
	th_resp_release(&r);
	assert_int_equal(sql_int("SELECT d.id = c.dept_id FROM cases c JOIN departments d ON "
				 "d.code = 'rs' WHERE c.ref = ?",
				 ref),
			 1);
	snprintf(path, sizeof path, "/office/cases/%s", ref);
	assert_int_equal(th_get(mz, path, &r), 404);
	th_resp_release(&r);
	assert_int_equal(th_get(rs, "/office", &r), 200);
	assert_non_null(strstr(r.body, ref));
	th_resp_release(&r);
	assert_int_equal(staff_act(rs, ref, "action=accept", &r), 303);
	th_resp_release(&r);
	assert_status(ref, "accepted");
	free(ref);
	th_client_free(cit);
	th_client_free(mz);
	th_client_free(rs);
}

static long api(const char *hdr, const char *method, const char *path, const char *json,
		struct th_resp *r)
{
	struct th_client *c = th_client_new(th_shared);
	const char *h[] = {hdr, NULL};
	long st = th_request(c, method, path, json ? "application/json" : NULL, json,
			     json ? strlen(json) : 0, h, r);
	th_client_free(c);
	return st;
}

/* The "ref" of the case in an API answer's body. */
static void ref_in_body(const struct th_resp *r, char ref[32])
{
	const char *p = strstr(r->body, "\"ref\": \"");
	if (!p)
		p = strstr(r->body, "\"ref\":\"");
	assert_non_null(p);
	p = strchr(p + 5, '"') + 1;
	snprintf(ref, 32, "%.*s", (int)strcspn(p, "\""), p);
}

/*
 * A case submitted as the API starts it is written once, submitted, and
 * leaves what submitting a draft leaves: one submit event by the applicant
 * and one inbox message; a draft leaves neither; a commit that fails leaves
 * nothing at all.
 */
static void api_submission_written_once(void **state)
{
	(void)state;
	char *cit = th_token_header(th_shared, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD);
	assert_non_null(cit);
	struct th_resp r = {0};
	char ref[32], path[128];
	const char *body = "{\"item\":\"990100-MZ-004\",\"answers\":{\"method\":\"social_card\"}}";
	assert_int_equal(api(cit, "POST", "/api/v1/applications", body, &r), 201);
	ref_in_body(&r, ref);
	th_resp_release(&r);
	assert_status(ref, "submitted");
	assert_true(sql_int("SELECT submitted_ms FROM cases WHERE ref = ?", ref) > 0);
	assert_int_equal(
		sql_int("SELECT COUNT(*) FROM case_events e JOIN cases c ON c.id = e.case_id"
			" WHERE c.ref = ? AND e.action = 'submit' AND e.from_status = 'draft'"
			" AND e.to_status = 'submitted' AND e.actor_id = c.applicant_id",
			ref),
		1);
	assert_int_equal(
		sql_int("SELECT COUNT(*) FROM case_events e JOIN cases c ON c.id = e.case_id"
			" WHERE c.ref = ?",
			ref),
		1);
	snprintf(path, sizeof path, "/my/cases/%s", ref);
	assert_int_equal(sql_int("SELECT COUNT(*) FROM notify_messages WHERE link = ? AND kind = "
				 "'case.submitted'",
				 path),
			 1);
	/* the answers given are the case's */
	snprintf(path, sizeof path, "/api/v1/applications/%s", ref);
	assert_int_equal(api(cit, "GET", path, NULL, &r), 200);
	assert_non_null(strstr(r.body, "social_card"));
	th_resp_release(&r);

	/* a draft: no submit time, no event, no message */
	assert_int_equal(api(cit, "POST", "/api/v1/applications",
			     "{\"item\":\"990100-MZ-004\",\"submit\":false,"
			     "\"answers\":{\"method\":\"social_card\"}}",
			     &r),
			 201);
	ref_in_body(&r, ref);
	th_resp_release(&r);
	assert_status(ref, "draft");
	assert_int_equal(sql_int("SELECT submitted_ms FROM cases WHERE ref = ?", ref), 0);
	assert_int_equal(
		sql_int("SELECT COUNT(*) FROM case_events e JOIN cases c ON c.id = e.case_id"
			" WHERE c.ref = ?",
			ref),
		0);
	snprintf(path, sizeof path, "/my/cases/%s", ref);
	assert_int_equal(sql_int("SELECT COUNT(*) FROM notify_messages WHERE link = ?", path), 0);

	/* the commit fails: no case, event or message is left */
	int64_t cases = sql_int("SELECT COUNT(*) FROM cases WHERE item_code = ?", "990100-MZ-004"),
		events = sql_int("SELECT COUNT(*) FROM case_events WHERE action = ?", "submit"),
		msgs = sql_int("SELECT COUNT(*) FROM notify_messages WHERE kind = ?",
			       "case.submitted");
	struct dg_err err = {0};
	assert_int_equal(dg_failpoint_set("store.commit=full*1", &err), DG_OK);
	long st = api(cit, "POST", "/api/v1/applications", body, &r);
	th_resp_release(&r);
	assert_int_equal(dg_failpoint_set("", &err), DG_OK);
	assert_int_equal(st, 507);
	assert_int_equal(sql_int("SELECT COUNT(*) FROM cases WHERE item_code = ?", "990100-MZ-004"),
			 cases);
	assert_int_equal(sql_int("SELECT COUNT(*) FROM case_events WHERE action = ?", "submit"),
			 events);
	assert_int_equal(
		sql_int("SELECT COUNT(*) FROM notify_messages WHERE kind = ?", "case.submitted"),
		msgs);
	free(cit);
}

static void api_journey(void **state)
{
	(void)state;
	char *cit = th_token_header(th_shared, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD),
	     *mz = th_token_header(th_shared, DG_DEMO_STAFF, DG_DEMO_PASSWORD),
	     *other = th_token_header(th_shared, DG_DEMO_CITIZEN2, DG_DEMO_PASSWORD);
	assert_non_null(cit);
	assert_non_null(mz);
	assert_non_null(other);
	struct th_resp r = {0};
	char path[128];
	int64_t before = sql_int("SELECT COUNT(*) FROM cases WHERE item_code = ?", "990100-MZ-004");
	/* every wrong answer is listed at once, and nothing is created */
	assert_int_equal(api(cit, "POST", "/api/v1/applications",
			     "{\"item\":\"990100-MZ-004\",\"answers\":{\"method\":\"bank\","
			     "\"phone\":\"1\"}}",
			     &r),
			 422);
	assert_non_null(strstr(r.body, "\"fields\""));
	assert_non_null(strstr(r.body, "\"bank\""));
	assert_non_null(strstr(r.body, "\"account\""));
	assert_non_null(strstr(r.body, "\"phone\"")); /* not the account's phone */
	th_resp_release(&r);
	assert_int_equal(sql_int("SELECT COUNT(*) FROM cases WHERE item_code = ?", "990100-MZ-004"),
			 before);
	assert_int_equal(api(cit, "POST", "/api/v1/applications", "{\"item\":\"no-such\"}", &r),
			 404);
	th_resp_release(&r);
	assert_int_equal(api(cit, "POST", "/api/v1/applications", "[1]", &r), 400);
	th_resp_release(&r);
	/* a staff token cannot apply */
	assert_int_equal(
		api(mz, "POST", "/api/v1/applications", "{\"item\":\"990100-MZ-004\"}", &r), 403);
	th_resp_release(&r);
	/* the right answers (name, ID and phone come from the account) */
	assert_int_equal(
		api(cit, "POST", "/api/v1/applications",
		    "{\"item\":\"990100-MZ-004\",\"answers\":{\"method\":\"social_card\"}}", &r),
		201);
	char ref[32];
	ref_in_body(&r, ref);
	assert_non_null(strstr(r.body, "\"submitted\""));
	th_resp_release(&r);
	snprintf(path, sizeof path, "/api/v1/applications/%s", ref);
	assert_int_equal(api(other, "GET", path, NULL, &r), 404);
	th_resp_release(&r);
	assert_int_equal(api(cit, "GET", path, NULL, &r), 200);
	assert_non_null(strstr(r.body, "social_card"));
	th_resp_release(&r);
	/* staff: the queue, then actions */
	assert_int_equal(api(mz, "GET", "/api/v1/cases?status=submitted", NULL, &r), 200);
	assert_non_null(strstr(r.body, ref));
	th_resp_release(&r);
	assert_int_equal(api(mz, "GET", "/api/v1/cases?status=bogus", NULL, &r), 400);
	th_resp_release(&r);
	assert_int_equal(api(cit, "GET", "/api/v1/cases", NULL, &r), 403);
	th_resp_release(&r);
	snprintf(path, sizeof path, "/api/v1/cases/%s/actions", ref);
	assert_int_equal(api(cit, "POST", path, "{\"action\":\"accept\"}", &r), 403);
	th_resp_release(&r);
	assert_int_equal(api(mz, "POST", path, "{\"action\":\"deny\"}", &r), 409);
	th_resp_release(&r);
	assert_int_equal(api(mz, "POST", path, "{\"action\":\"accept\"}", &r), 200);
	assert_non_null(strstr(r.body, "\"accepted\""));
	th_resp_release(&r);
	assert_int_equal(api(mz, "POST", path, "{\"action\":\"deny\"}", &r),
			 422); /* a reason is needed */
	assert_non_null(strstr(r.body, "\"reason\""));
	th_resp_release(&r);
	assert_int_equal(api(mz, "POST", path, "{\"action\":\"approve\"}", &r), 200);
	assert_non_null(strstr(r.body, "CERT-"));
	th_resp_release(&r);
	/* withdraw after a decision: refused; rating over the API */
	snprintf(path, sizeof path, "/api/v1/applications/%s/withdraw", ref);
	assert_int_equal(api(cit, "POST", path, NULL, &r), 409);
	th_resp_release(&r);
	snprintf(path, sizeof path, "/api/v1/applications/%s/rating", ref);
	assert_int_equal(api(cit, "POST", path, "{\"level\":9}", &r), 422);
	th_resp_release(&r);
	assert_int_equal(api(other, "POST", path, "{\"level\":5}", &r), 404);
	th_resp_release(&r);
	assert_int_equal(api(cit, "POST", path, "{\"level\":5,\"comment\":\"fast\"}", &r), 200);
	assert_non_null(strstr(r.body, "\"rating\""));
	th_resp_release(&r);
	assert_status(ref, "approved");
	/* the API is described */
	assert_int_equal(api(NULL, "GET", "/api/openapi.json", NULL, &r), 200);
	assert_non_null(strstr(r.body, "/api/v1/applications"));
	th_resp_release(&r);
	free(cit);
	free(mz);
	free(other);
}

static void agent_applies_for_enterprise(void **state)
{
	(void)state;
	struct th_client *ag = th_signed_in(th_shared, DG_DEMO_AGENT),
			 *cit = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	struct th_resp r = {0};
	/* an enterprise service: the citizen may not, the agent may, on behalf of the enterprise */
	assert_int_equal(th_post_csrf(cit, "/services/990100-SC-004/apply",
				      "/services/990100-SC-004/apply", "", &r),
			 403);
	th_resp_release(&r);
	char *ref = start(ag, "990100-SC-004");
	char path[128];
	snprintf(path, sizeof path, "/my/cases/%s/form/1", ref);
	assert_int_equal(th_get(ag, path, &r), 200);
	assert_non_null(
		strstr(r.body, "id=\"uscc\""));       /* the enterprise's code, from the account */
	assert_null(strstr(r.body, "name=\"uscc\"")); /* not to be changed */
	th_resp_release(&r);
	char *behalf = sql_text("SELECT on_behalf FROM cases WHERE ref = ?", ref);
	assert_true(strlen(behalf) > 0);
	free(behalf);
	free(ref);
	th_client_free(ag);
	th_client_free(cit);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(browser_journey),
		cmocka_unit_test(permissions),
		cmocka_unit_test(withdraw_window),
		cmocka_unit_test(transfer),
		cmocka_unit_test(api_journey),
		cmocka_unit_test(agent_applies_for_enterprise),
		cmocka_unit_test(api_submission_written_once),
	};
	return cmocka_run_group_tests(tests, th_group_setup, th_group_teardown);
}
