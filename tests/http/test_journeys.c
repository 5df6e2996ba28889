/*
 * test_journeys.c - a new resident's journeys through the portal, as a
 * browser without JavaScript makes them: signing in from any page and coming
 * back to it, switching language or elder mode on a form shown again with
 * its errors, paging through every list, saving an incomplete application
 * and resuming it, withdrawing with a confirmation, and what the staff and
 * the applicant are told. Each journey also walks its failure paths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/demo.h"
#include "harness.h"

static void has(const char *body, const char *want)
{
	if (!body || !strstr(body, want))
		fail_msg("expected %s in the page", want);
}

static void lacks(const char *body, const char *unwanted)
{
	if (body && strstr(body, unwanted))
		fail_msg("did not expect %s in the page", unwanted);
}

/* ---- 2: sign in from any page and come back to it ---- */

static void sign_in_returns_to_the_page(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	char *b = th_get_body(c, "/services?q=%E5%8A%9E", 200);
	/* the header's link carries the page, query included */
	has(b, "href=\"/login?next=%2Fservices%3Fq%3D%25E5%258A%259E\"");
	free(b);
	/* on the home page and the sign-in page itself, no next */
	b = th_get_body(c, "/", 200);
	has(b, "href=\"/login\"");
	free(b);
	b = th_get_body(c, "/login?next=%2Fservices", 200);
	lacks(b, "next=%2Flogin");
	has(b, "name=\"next\" value=\"/services\"");
	free(b);

	struct th_resp r;
	assert_int_equal(th_post_csrf(c, "/login", "/login",
				      "username=zhengshi&password=" DG_DEMO_PASSWORD
				      "&next=%2Fservices%3Fq%3Dx",
				      &r),
			 303);
	char *loc = th_header(&r, "Location");
	assert_string_equal(loc, "/services?q=x");
	free(loc);
	th_resp_release(&r);
	th_client_free(c);

	/* a page that needs an account sends the visitor to sign in with its query */
	c = th_client_new(th_shared);
	assert_int_equal(th_get(c, "/my/cases?page=2", &r), 303);
	loc = th_header(&r, "Location");
	assert_string_equal(loc, "/login?next=%2Fmy%2Fcases%3Fpage%3D2");
	free(loc);
	th_resp_release(&r);
	/* never another site, whatever next says, and the form keeps only a local path */
	b = th_get_body(c, "/login?next=%2F%2Fevil.example", 200);
	lacks(b, "value=\"//evil.example");
	free(b);
	assert_int_equal(th_post_csrf(c, "/login", "/login",
				      "username=zhengshi&password=" DG_DEMO_PASSWORD
				      "&next=https%3A%2F%2Fevil.example%2F",
				      &r),
			 303);
	loc = th_header(&r, "Location");
	assert_string_equal(loc, "/account");
	free(loc);
	th_resp_release(&r);
	th_client_free(c);
}

/* ---- 11: the switches on a form shown again with its errors ---- */

static void switch_on_form_error_keeps_answers(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r;
	assert_int_equal(th_post_csrf(c, "/login", "/login",
				      "username=Wang%20Fang&password=&next=%2Fhelp", &r),
			 422);
	/* the switches post the answers back through /prefs; never the password */
	has(r.body,
	    "<form id=\"switch-form\" class=\"inline-form\" method=\"post\" action=\"/prefs\">");
	has(r.body, "name=\"pref_back\" value=\"/login\"");
	has(r.body, "name=\"username\" value=\"Wang Fang\"");
	has(r.body, "form=\"switch-form\" name=\"pref_lang\" value=\"en\"");
	has(r.body, "form=\"switch-form\" name=\"pref_elder\" value=\"1\"");
	lacks(r.body, "href=\"/prefs?lang=en&amp;back=%2Flogin\"");
	th_resp_release(&r);

	const char *again = "username=wang+fang&next=%2Fhelp&pref_back=%2Flogin&pref_lang=en";
	assert_int_equal(th_post_csrf(c, "/login", "/prefs", again, &r), 307);
	char *loc = th_header(&r, "Location");
	assert_string_equal(loc, "/login");
	free(loc);
	char *cookie = th_header(&r, "Set-Cookie");
	assert_non_null(cookie);
	assert_non_null(strstr(cookie, "lang=en"));
	free(cookie);
	th_resp_release(&r);
	/* what the browser does with the 307: the same body again, now in English */
	assert_int_equal(th_post_csrf(c, "/login", "/login", again, &r), 422);
	has(r.body, "<html lang=\"en\"");
	has(r.body, "name=\"username\" value=\"wang fang\"");
	has(r.body, "name=\"next\" value=\"/help\"");
	lacks(r.body, "name=\"pref_lang\" value=\"en\" type");
	th_resp_release(&r);

	/* elder mode the same way */
	assert_int_equal(th_post_csrf(c, "/login", "/prefs",
				      "username=x&pref_back=%2Flogin&pref_elder=1", &r),
			 307);
	th_resp_release(&r);
	assert_int_equal(th_post_csrf(c, "/login", "/login", "username=x&password=", &r), 422);
	has(r.body, "class=\"elder\"");
	th_resp_release(&r);

	/* a switch never sends anyone off the site, nor round in a loop */
	const char *bad[] = {"pref_back=%2F%2Fevil.example&pref_lang=zh",
			     "pref_back=https%3A%2F%2Fevil.example&pref_lang=zh",
			     "pref_back=%2Fprefs&pref_lang=zh", "pref_lang=zh"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(th_post_csrf(c, "/login", "/prefs", bad[i], &r), 303);
		loc = th_header(&r, "Location");
		assert_string_equal(loc, "/");
		free(loc);
		th_resp_release(&r);
	}
	/* without the token the switch changes nothing */
	assert_int_equal(th_post_form(c, "/prefs", "pref_lang=zh&pref_back=%2Flogin", &r), 403);
	th_resp_release(&r);
	th_client_free(c);
}

/* ---- 3: every list has its count and a link to each page ---- */

static void services_page_to_the_last(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	json_t *all = th_get_json(th_shared, "/api/v1/services", 200);
	assert_non_null(all);
	int64_t total = json_integer_value(json_object_get(all, "total"));
	json_decref(all);
	assert_true(total > 20);
	char want[128];
	char *b = th_get_body(c, "/services", 200);
	snprintf(want, sizeof(want), "共找到事项数： %lld · 本页显示第 1–20 项", (long long)total);
	has(b, want);
	has(b, "<nav class=\"pagination\"");
	has(b, "href=\"/services?page=2\" rel=\"next\"");
	has(b, "aria-current=\"page\"><span class=\"visually-hidden\">第 </span>1");
	free(b);
	/* the last page: the rest, a way back, no way on; the filter kept in every link */
	b = th_get_body(c, "/services?audience=person&page=2", 200);
	has(b, "href=\"/services?audience=person\" rel=\"prev\"");
	lacks(b, "rel=\"next\"");
	free(b);
	b = th_get_body(c, "/services?page=2", 200);
	snprintf(want, sizeof(want), "第 21–%lld 项", (long long)total);
	has(b, want);
	free(b);
	/* past the last page: nothing shown, said so, and a link back */
	b = th_get_body(c, "/services?page=9", 200);
	has(b, "href=\"/services?page=2\"");
	free(b);
	/* a page that is not a number is said next to the search box */
	b = th_get_body(c, "/services?page=x", 200);
	has(b, "页码应为1到1000之间的数字。");
	free(b);
	th_client_free(c);
}

static void inbox_and_queue_pages(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	assert_true(th_login(c, DG_DEMO_CITIZEN2, DG_DEMO_PASSWORD));
	for (int i = 0; i < 25; i++)
		th_sql(th_shared,
		       "INSERT INTO notify_messages (user_id, kind, params, link, created_ms)"
		       " SELECT id, 'case.submitted', '{}', '/my/cases', 1 FROM users"
		       " WHERE username = 'lisi'");
	int64_t total = th_sql_int(th_shared, "SELECT COUNT(*) FROM notify_messages m JOIN users u"
					      " ON u.id = m.user_id WHERE u.username = 'lisi'");
	char *b = th_get_body(c, "/inbox", 200);
	char want[128];
	snprintf(want, sizeof(want), "第 1–20 项，共 %lld 项", (long long)total);
	has(b, want);
	has(b, "href=\"/inbox?page=2\" rel=\"next\"");
	free(b);
	b = th_get_body(c, "/inbox?unread=1&page=2", 200);
	has(b, "href=\"/inbox?unread=1\" rel=\"prev\"");
	free(b);
	th_client_free(c);

	/* the department's queue: count and pages, the filter kept */
	c = th_client_new(th_shared);
	assert_true(th_login(c, DG_DEMO_STAFF, DG_DEMO_PASSWORD));
	b = th_get_body(c, "/office?status=open", 200);
	has(b, "class=\"pager-count\"");
	free(b);
	b = th_get_body(c, "/office?status=open&page=50", 200);
	has(b, "href=\"/office?status=open\"");
	free(b);
	th_client_free(c);
	/* my cases */
	c = th_client_new(th_shared);
	assert_true(th_login(c, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD));
	b = th_get_body(c, "/my/cases", 200);
	has(b, "class=\"pager-count\"");
	free(b);
	th_client_free(c);
	/* datasets */
	c = th_client_new(th_shared);
	b = th_get_body(c, "/data?page=2", 200);
	has(b, "本页显示第 11–");
	has(b, "rel=\"prev\"");
	free(b);
	th_client_free(c);
}

/* ---- 7: save whatever is filled in, and resume at the first question left ---- */

static char *location(const struct th_resp *r)
{
	char *loc = th_header(r, "Location");
	assert_non_null(loc);
	return loc;
}

/* A new application of item for c: its reference (malloc'd). */
static char *start_application(struct th_client *c, const char *item)
{
	char page[128];
	struct th_resp r;
	snprintf(page, sizeof page, "/services/%s/apply", item);
	assert_int_equal(th_post_csrf(c, page, page, "", &r), 303);
	char *loc = location(&r);
	th_resp_release(&r);
	const char *p = strstr(loc, "/my/cases/");
	assert_non_null(p);
	p += strlen("/my/cases/");
	char *ref = strndup(p, strcspn(p, "/?"));
	free(loc);
	return ref;
}

static void assert_resumes_at(struct th_client *c, const char *ref, const char *tail)
{
	char path[128], want[160];
	struct th_resp r;
	snprintf(path, sizeof path, "/my/cases/%s/resume", ref);
	assert_int_equal(th_get(c, path, &r), 303);
	char *loc = location(&r);
	snprintf(want, sizeof want, "/my/cases/%s%s", ref, tail);
	if (strcmp(loc, want) != 0)
		fail_msg("resumed at %s, not %s", loc, want);
	free(loc);
	th_resp_release(&r);
}

static void save_later_and_resume(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	assert_true(th_login(c, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD));
	char *ref = start_application(c, "990100-MZ-007");
	char path[128];
	struct th_resp r;
	/* nothing answered yet: resuming opens the first page that asks something */
	assert_resumes_at(c, ref, "/form/2#purpose");
	/* an empty required answer does not stop "save and come back later" */
	snprintf(path, sizeof path, "/my/cases/%s/form/2", ref);
	assert_int_equal(th_post_csrf(c, path, path, "purpose=&later=1", &r), 303);
	char *loc = location(&r);
	assert_non_null(strstr(loc, "/my/cases?saved="));
	free(loc);
	th_resp_release(&r);
	/* ... but "continue" still asks for it */
	assert_int_equal(th_post_csrf(c, path, path, "purpose=", &r), 422);
	has(r.body, "error-summary");
	th_resp_release(&r);
	/* what is filled in is kept, and resuming moves on to the next question left */
	assert_int_equal(th_post_csrf(c, path, path, "purpose=half+written&later=1", &r), 303);
	th_resp_release(&r);
	char *b = th_get_body(c, path, 200);
	has(b, "half written");
	free(b);
	assert_resumes_at(c, ref, "/form/3#m1");
	/* my cases and the start page lead to the resume address, not to check answers */
	b = th_get_body(c, "/my/cases", 200);
	snprintf(path, sizeof path, "href=\"/my/cases/%s/resume\"", ref);
	has(b, path);
	free(b);
	/* a wrong answer is still refused when saving for later, and nothing changes */
	snprintf(path, sizeof path, "/my/cases/%s/form/1", ref);
	assert_int_equal(th_post_csrf(c, path, path, "phone=12345&later=1", &r), 422);
	th_resp_release(&r);
	/* someone else's application is not there for them; nor for a visitor */
	struct th_client *other = th_client_new(th_shared);
	assert_true(th_login(other, DG_DEMO_CITIZEN2, DG_DEMO_PASSWORD));
	snprintf(path, sizeof path, "/my/cases/%s/resume", ref);
	assert_int_equal(th_get(other, path, &r), 404);
	th_resp_release(&r);
	th_client_free(other);
	other = th_client_new(th_shared);
	assert_int_equal(th_get(other, path, &r), 303);
	loc = location(&r);
	assert_non_null(strstr(loc, "/login?next="));
	free(loc);
	th_resp_release(&r);
	th_client_free(other);
	free(ref);
	th_client_free(c);
}

/* ---- 8: withdrawing asks first; each action says what happened ---- */

#define PDF "%PDF-1.4\n% a test document\n"

/* The funeral subsidy filled in and submitted by c: its reference (malloc'd). */
static char *submitted(struct th_client *c)
{
	struct th_resp r;
	char path[128], page[128];
	char *ref = start_application(c, "990100-MZ-007");
	snprintf(path, sizeof path, "/my/cases/%s/form/1", ref);
	/* name and phone come fixed from the account */
	assert_int_equal(th_post_csrf(c, path, path, "", &r), 303);
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
	return ref;
}

static const char *status_of(const char *ref)
{
	static char st[32];
	char sql[256];
	snprintf(sql, sizeof sql,
		 "SELECT CASE status WHEN 'submitted' THEN 1 WHEN 'withdrawn' THEN 2"
		 " WHEN 'accepted' THEN 3 WHEN 'supplement' THEN 4 ELSE 0 END"
		 " FROM cases WHERE ref = '%s'",
		 ref);
	static const char *const names[] = {"other", "submitted", "withdrawn", "accepted",
					    "supplement"};
	int64_t n = th_sql_int(th_shared, sql);
	snprintf(st, sizeof st, "%s", n >= 0 && n <= 4 ? names[n] : "none");
	return st;
}

static void withdraw_asks_first(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	assert_true(th_login(c, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD));
	char *ref = submitted(c);
	char page[128], path[128], want[160];
	struct th_resp r;
	/* the case page links to the question; it is not a button that acts */
	snprintf(page, sizeof page, "/my/cases/%s", ref);
	char *b = th_get_body(c, page, 200);
	snprintf(want, sizeof want, "href=\"/my/cases/%s/withdraw\"", ref);
	has(b, want);
	snprintf(want, sizeof want, "action=\"/my/cases/%s/withdraw\"", ref);
	lacks(b, want);
	free(b);
	/* the question: what it means, yes, or back to the case */
	snprintf(path, sizeof path, "/my/cases/%s/withdraw", ref);
	b = th_get_body(c, path, 200);
	has(b, "确定撤回这项申请吗？");
	has(b, "name=\"confirm\" value=\"yes\"");
	snprintf(want, sizeof want, "<a class=\"button\" href=\"/my/cases/%s\">", ref);
	has(b, want);
	free(b);
	assert_string_equal(status_of(ref), "submitted");
	/* a post without the confirmation only asks again */
	assert_int_equal(th_post_csrf(c, path, path, "", &r), 200);
	has(r.body, "确定撤回这项申请吗？");
	th_resp_release(&r);
	assert_string_equal(status_of(ref), "submitted");
	/* someone else cannot even be asked */
	struct th_client *other = th_client_new(th_shared);
	assert_true(th_login(other, DG_DEMO_CITIZEN2, DG_DEMO_PASSWORD));
	assert_int_equal(th_get(other, path, &r), 404);
	th_resp_release(&r);
	th_client_free(other);
	/* confirmed: withdrawn, and the page says so in words of its own */
	assert_int_equal(th_post_csrf(c, path, path, "confirm=yes", &r), 303);
	char *loc = location(&r);
	snprintf(want, sizeof want, "/my/cases/%s?done=withdrawn", ref);
	assert_string_equal(loc, want);
	free(loc);
	th_resp_release(&r);
	assert_string_equal(status_of(ref), "withdrawn");
	b = th_get_body(c, want, 200);
	has(b, "申请已撤回");
	has(b, "href=\"/services/990100-MZ-007\"");
	lacks(b, "已完成，办理记录已更新。");
	free(b);
	/* once withdrawn, the question is not asked again */
	assert_int_equal(th_get(c, path, &r), 303);
	th_resp_release(&r);
	free(ref);
	th_client_free(c);
}

/* ---- 12: staff are told of material sent; the queue's order; downloads; roles ---- */

static long staff_act(struct th_client *c, const char *ref, const char *body, struct th_resp *r)
{
	char page[128], path[128];
	snprintf(page, sizeof page, "/office/cases/%s", ref);
	snprintf(path, sizeof path, "/office/cases/%s/action", ref);
	return th_post_csrf(c, page, path, body, r);
}

/* The part of a page after its table's head (the queue's rows). */
static const char *rows_of(const char *body)
{
	const char *t = strstr(body, "<tbody>");
	assert_non_null(t);
	return t;
}

static void staff_told_of_material(void **state)
{
	(void)state;
	struct th_client *cit = th_client_new(th_shared), *mz = th_client_new(th_shared);
	assert_true(th_login(cit, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD));
	assert_true(th_login(mz, DG_DEMO_STAFF, DG_DEMO_PASSWORD));
	char *ref = submitted(cit);
	char page[128], path[128], want[200];
	struct th_resp r;
	/* a new submission comes before every case that has ended */
	char *b = th_get_body(mz, "/office", 200);
	const char *rows = rows_of(b), *mine = strstr(rows, ref), *ended = strstr(rows, "不予受理");
	assert_non_null(mine);
	if (ended && ended < mine)
		fail_msg("a closed case is listed above the new submission %s", ref);
	free(b);

	assert_int_equal(staff_act(mz, ref, "action=accept", &r), 303);
	th_resp_release(&r);
	assert_int_equal(staff_act(mz, ref, "action=request_supplement&reason=hukou+page", &r),
			 303);
	th_resp_release(&r);
	int64_t before = th_sql_int(
		th_shared, "SELECT COUNT(*) FROM notify_messages m JOIN users u ON u.id = m.user_id"
			   " WHERE u.username = 'mz_zhao' AND m.kind = 'case.supplied'");
	/* a failed sending (no note) tells no one */
	snprintf(page, sizeof page, "/my/cases/%s", ref);
	snprintf(path, sizeof path, "/my/cases/%s/supplement", ref);
	assert_int_equal(
		th_post_multipart(cit, page, path, "files", "hukou.pdf", PDF, "note", "", &r), 422);
	th_resp_release(&r);
	assert_int_equal(
		th_sql_int(th_shared,
			   "SELECT COUNT(*) FROM notify_messages m JOIN users u ON u.id = m.user_id"
			   " WHERE u.username = 'mz_zhao' AND m.kind = 'case.supplied'"),
		before);
	assert_int_equal(
		th_post_multipart(cit, page, path, "files", "hukou.pdf", PDF, "note", "sent", &r),
		303);
	char *loc = location(&r);
	th_resp_release(&r);
	/* the applicant is told in words of the action */
	b = th_get_body(cit, loc, 200);
	has(b, "补正材料已送达");
	free(b);
	free(loc);
	/* the department's staff: a message with a link to the case, and a marker in the queue */
	assert_int_equal(
		th_sql_int(th_shared,
			   "SELECT COUNT(*) FROM notify_messages m JOIN users u ON u.id = m.user_id"
			   " WHERE u.username = 'mz_zhao' AND m.kind = 'case.supplied'"),
		before + 1);
	assert_int_equal(
		th_sql_int(th_shared,
			   "SELECT COUNT(*) FROM notify_messages m JOIN users u ON u.id = m.user_id"
			   " WHERE u.username = 'rs_qian' AND m.kind = 'case.supplied'"),
		0);
	b = th_get_body(mz, "/inbox", 200);
	snprintf(want, sizeof want, "申请人已补正材料：%s", ref);
	has(b, want);
	free(b);
	b = th_get_body(mz, "/office?status=accepted", 200);
	mine = strstr(rows_of(b), ref);
	assert_non_null(mine);
	const char *mark = strstr(mine, "材料已补正，待处理"), *next_row = strstr(mine, "</tr>");
	assert_true(mark && mark < next_row);
	free(b);
	/* a document downloads with the extension of what it is */
	int64_t fid = th_sql_int(th_shared, "SELECT MAX(id) FROM case_files");
	snprintf(path, sizeof path, "/cases/%s/files/%lld", ref, (long long)fid);
	assert_int_equal(th_get(mz, path, &r), 200);
	char *cd = th_header(&r, "Content-Disposition");
	snprintf(want, sizeof want, "attachment; filename=\"document-%lld.pdf\"", (long long)fid);
	assert_string_equal(cd, want);
	free(cd);
	th_resp_release(&r);
	/* once someone acts, the marker goes */
	assert_int_equal(staff_act(mz, ref, "action=review&reason=checked", &r), 303);
	th_resp_release(&r);
	b = th_get_body(mz, "/office?status=reviewed", 200);
	mine = strstr(rows_of(b), ref);
	assert_non_null(mine);
	mark = strstr(mine, "材料已补正，待处理");
	next_row = strstr(mine, "</tr>");
	assert_true(!mark || mark > next_row);
	free(b);
	free(ref);
	th_client_free(cit);
	th_client_free(mz);
}

static void staff_roles_by_name(void **state)
{
	(void)state;
	struct th_client *mz = th_client_new(th_shared), *adm = th_client_new(th_shared);
	assert_true(th_login(mz, DG_DEMO_STAFF, DG_DEMO_PASSWORD));
	char *b = th_get_body(mz, "/account", 200);
	has(b, "受理、审查、审批决定");
	lacks(b, "intake,review,approve");
	free(b);
	assert_true(th_login(adm, DG_DEMO_ADMIN, DG_DEMO_PASSWORD));
	b = th_get_body(adm, "/admin/users", 200);
	has(b, "受理、审查、审批决定");
	lacks(b, "intake,review,approve");
	free(b);
	/* the API keeps the codes */
	char *tok = th_token_header(th_shared, DG_DEMO_STAFF, DG_DEMO_PASSWORD);
	const char *hdrs[] = {tok, NULL};
	struct th_resp r;
	assert_int_equal(th_request(mz, "GET", "/api/v1/me", NULL, NULL, 0, hdrs, &r), 200);
	has(r.body, "\"staff_roles\":\"intake,review,approve\"");
	th_resp_release(&r);
	free(tok);
	th_client_free(mz);
	th_client_free(adm);
}

/* ---- 9: the steps to come with their dates, and a receipt to print ---- */

static void coming_steps_and_receipt(void **state)
{
	(void)state;
	struct th_client *cit = th_client_new(th_shared), *mz = th_client_new(th_shared);
	assert_true(th_login(cit, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD));
	assert_true(th_login(mz, DG_DEMO_STAFF, DG_DEMO_PASSWORD));
	char *draft = start_application(cit, "990100-MZ-007");
	char *ref = submitted(cit);
	char page[128], path[128], want[200];
	struct th_resp r;
	snprintf(page, sizeof page, "/my/cases/%s", ref);
	/* submitted: acceptance, review, a decision expected by a date, the result */
	char *b = th_get_body(cit, page, 200);
	has(b, "<h2>接下来</h2>");
	has(b, "部门受理");
	has(b, "如今天受理，预计不晚于 20");
	has(b, "收到结果");
	snprintf(want, sizeof want, "href=\"/my/cases/%s/receipt\"", ref);
	has(b, want);
	free(b);
	/* accepted: the promised date */
	assert_int_equal(staff_act(mz, ref, "action=accept", &r), 303);
	th_resp_release(&r);
	char due[16];
	int64_t day = th_sql_int(th_shared, "SELECT MAX(due_day) FROM cases");
	assert_true(day > 0);
	b = th_get_body(cit, page, 200);
	const char *at = strstr(b, "承诺不晚于 ");
	assert_non_null(at);
	snprintf(due, sizeof due, "%.10s", at + strlen("承诺不晚于 "));
	lacks(b, "<strong>部门受理</strong>");
	free(b);
	/* waiting for material: the clock stopped, since when, and the date moving on */
	assert_int_equal(staff_act(mz, ref, "action=request_supplement&reason=hukou+page", &r),
			 303);
	th_resp_release(&r);
	b = th_get_body(cit, page, 200);
	has(b, "您补正材料");
	has(b, "起暂停计算");
	snprintf(want, sizeof want, "原承诺不晚于 %s，将按暂停的工作日顺延。", due);
	has(b, want);
	free(b);
	/* the receipt: what was received, when, and how to follow it */
	snprintf(path, sizeof path, "/my/cases/%s/receipt", ref);
	b = th_get_body(cit, path, 200);
	has(b, "<h1>办件回执</h1>");
	has(b, ref);
	has(b, "殡葬");
	has(b, "<li>id.pdf</li>");
	snprintf(want, sizeof want, "/my/cases/%s</code>", ref);
	has(b, want);
	free(b);
	/* in English, all in English */
	struct th_client *en = th_client_new(th_shared);
	assert_true(th_login(en, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD));
	free(th_get_body(en, "/prefs?lang=en", 303));
	b = th_get_body(en, path, 200);
	has(b, "Receipt for your application");
	lacks(b, "办件回执");
	free(b);
	b = th_get_body(en, page, 200);
	has(b, "What happens next");
	free(b);
	th_client_free(en);
	/* a draft has no receipt yet; someone else's is not there; nor for staff here */
	snprintf(path, sizeof path, "/my/cases/%s/receipt", draft);
	assert_int_equal(th_get(cit, path, &r), 303);
	char *loc = location(&r);
	snprintf(want, sizeof want, "/my/cases/%s/resume", draft);
	assert_string_equal(loc, want);
	free(loc);
	th_resp_release(&r);
	struct th_client *other = th_client_new(th_shared);
	assert_true(th_login(other, DG_DEMO_CITIZEN2, DG_DEMO_PASSWORD));
	snprintf(path, sizeof path, "/my/cases/%s/receipt", ref);
	assert_int_equal(th_get(other, path, &r), 404);
	th_resp_release(&r);
	th_client_free(other);
	assert_int_equal(th_get(mz, path, &r), 403);
	th_resp_release(&r);
	/* decided: nothing more to come */
	snprintf(path, sizeof path, "/my/cases/%s/supplement", ref);
	assert_int_equal(
		th_post_multipart(cit, page, path, "files", "hukou.pdf", PDF, "note", "sent", &r),
		303);
	th_resp_release(&r);
	assert_int_equal(staff_act(mz, ref, "action=approve", &r), 303);
	th_resp_release(&r);
	b = th_get_body(cit, page, 200);
	lacks(b, "<h2>接下来</h2>");
	free(b);
	free(ref);
	free(draft);
	th_client_free(cit);
	th_client_free(mz);
}

/* ---- 10: the home and account pages say what needs the person ---- */

static void home_says_what_needs_me(void **state)
{
	(void)state;
	struct th_client *cit = th_client_new(th_shared), *mz = th_client_new(th_shared);
	assert_true(th_login(cit, DG_DEMO_CITIZEN2, DG_DEMO_PASSWORD));
	assert_true(th_login(mz, DG_DEMO_STAFF, DG_DEMO_PASSWORD));
	char *draft = start_application(cit, "990100-MZ-007");
	char *ref = submitted(cit);
	char want[200];
	struct th_resp r;
	assert_int_equal(staff_act(mz, ref, "action=accept", &r), 303);
	th_resp_release(&r);
	assert_int_equal(staff_act(mz, ref, "action=request_supplement&reason=hukou+page", &r),
			 303);
	th_resp_release(&r);
	const char *pages[] = {"/", "/account"};
	for (int i = 0; i < 2; i++) {
		char *b = th_get_body(cit, pages[i], 200);
		has(b, "<h2 id=\"attention-title\">需要您处理</h2>");
		snprintf(want, sizeof want, "<a href=\"/my/cases/%s\">需要补正材料：", ref);
		has(b, want);
		snprintf(want, sizeof want,
			 "<a href=\"/my/cases/%s/resume\">未完成的申请，继续填写：", draft);
		has(b, want);
		has(b, "<a href=\"/inbox?unread=1\">未读消息：");
		free(b);
	}
	/* staff: their department's queue */
	char *b = th_get_body(mz, "/", 200);
	has(b, "需要您处理");
	free(b);
	/* a visitor: nothing of the kind */
	struct th_client *anon = th_client_new(th_shared);
	b = th_get_body(anon, "/", 200);
	lacks(b, "attention-title");
	free(b);
	th_client_free(anon);
	free(ref);
	free(draft);
	th_client_free(cit);
	th_client_free(mz);
}

/* ---- 5: the wrong kind of account is told what to do instead ---- */

static void wrong_account_told_what_to_do(void **state)
{
	(void)state;
	struct th_client *cit = th_client_new(th_shared), *agent = th_client_new(th_shared);
	assert_true(th_login(cit, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD));
	assert_true(th_login(agent, DG_DEMO_AGENT, DG_DEMO_PASSWORD));
	char *b = th_get_body(cit, "/services/990100-SC-001/apply", 200);
	has(b, "这项服务由企业办理");
	has(b, "用企业经办人账户登录");
	has(b, "name=\"next\" value=\"/login?next=/services/990100-SC-001/apply\"");
	has(b, "href=\"/services?audience=person&amp;theme=business\"");
	lacks(b, "action=\"/services/990100-SC-001/apply\"");
	free(b);
	b = th_get_body(agent, "/services/990100-MZ-007/apply", 200);
	has(b, "这项服务由个人办理");
	has(b, "href=\"/services?audience=enterprise");
	free(b);
	/* applying anyway is still refused */
	struct th_resp r;
	assert_int_equal(th_post_csrf(cit, "/services/990100-SC-001/apply",
				      "/services/990100-SC-001/apply", "", &r),
			 403);
	th_resp_release(&r);
	/* signing out goes on to sign in with the other account; never off the site */
	assert_int_equal(th_post_csrf(cit, "/", "/logout",
				      "next=%2Flogin%3Fnext%3D%2Fservices%2F990100-SC-001%2Fapply",
				      &r),
			 303);
	char *loc = location(&r);
	assert_string_equal(loc, "/login?next=/services/990100-SC-001/apply");
	free(loc);
	th_resp_release(&r);
	assert_int_equal(th_post_csrf(agent, "/", "/logout", "next=%2F%2Fevil.example", &r), 303);
	loc = location(&r);
	assert_string_equal(loc, "/");
	free(loc);
	th_resp_release(&r);
	th_client_free(cit);
	th_client_free(agent);
}

/* ---- 4: everyday words find services; "did you mean"; suggestions as data ---- */

static void everyday_words_find_services(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	static const struct {
		const char *q, *finds;
		bool rewritten;
	} cases[] = {
		{"%E7%94%9F%E5%B0%8F%E5%AD%A9", "/services/990100-WJ-001", true}, /* 生小孩 */
		{"%E9%80%80%E4%BC%91%E9%87%91", "/services/990100-RS-003", true}, /* 退休金 */
		{"%E5%8C%BB%E9%99%A2", "/services/990100-YB-002", true},          /* 医院 */
		{"Business+Licence", "/services/990100-SC-001",
		 false}, /* an alias of the item itself */
		{"business+license", "/services/990100-SC-002", true},
	};
	char path[256], want[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof path, "/services?q=%s", cases[i].q);
		char *b = th_get_body(c, path, 200);
		snprintf(want, sizeof want, "<a href=\"%s\">", cases[i].finds);
		has(b, want);
		if (cases[i].rewritten) {
			has(b, "您是不是要找：");
			has(b, "下面是它通常指的服务");
		}
		free(b);
	}
	/* a word found as it is is not rewritten */
	char *b = th_get_body(c, "/services?q=%E7%BB%93%E5%A9%9A", 200);
	lacks(b, "您是不是要找：");
	has(b, "<datalist id=\"service-suggestions\">");
	has(b, "<option value=\"生小孩\">");
	free(b);
	/* nonsense finds nothing, and says so */
	b = th_get_body(c, "/services?q=zzqqxx", 200);
	lacks(b, "您是不是要找：");
	has(b, "class=\"notice\"");
	free(b);
	/* the API offers the terms to try */
	json_t *j = th_get_json(th_shared, "/api/v1/services?q=%E7%94%9F%E5%B0%8F%E5%AD%A9", 200);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "total")), 0);
	assert_string_equal(
		json_string_value(json_array_get(json_object_get(j, "did_you_mean"), 0)),
		"出生医学证明");
	json_decref(j);
	th_client_free(c);
}

/* ---- 6: guides say the steps, the result and how it comes, when updated; checks ---- */

static void guides_complete_and_checked(void **state)
{
	(void)state;
	struct th_client *anon = th_client_new(th_shared), *mz = th_client_new(th_shared);
	char *b = th_get_body(anon, "/services/990100-MZ-004", 200);
	has(b, "<h2 id=\"steps\">办理流程</h2>");
	has(b, "<h2 id=\"result\">办理结果</h2>");
	has(b, "给付决定");
	has(b, "网上送达");
	has(b, "<dt>最近更新</dt><dd>20");
	lacks(b, "指南检查");
	free(b);
	/* the print view has them too */
	b = th_get_body(anon, "/services/990100-MZ-004/print", 200);
	has(b, "办理流程");
	free(b);
	/* staff see the guide's own checks: 高龄津贴 names an ID card the form never asks for */
	assert_true(th_login(mz, DG_DEMO_STAFF, DG_DEMO_PASSWORD));
	b = th_get_body(mz, "/services/990100-MZ-004", 200);
	has(b, "指南检查（仅工作人员可见）");
	has(b, "指南要求申请人提交“居民身份证”，但申请表里没有上传这份材料的地方");
	free(b);
	/* a guide whose form asks for every material has nothing to say */
	b = th_get_body(mz, "/services/990100-MZ-007", 200);
	lacks(b, "指南检查");
	free(b);
	th_client_free(anon);
	th_client_free(mz);
}

/* ---- 19: every form error says "Error:" in the title; the print view reads aloud ---- */

static void error_titles_and_print_read_aloud(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	assert_true(th_login(c, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD));
	char *ref = start_application(c, "990100-MZ-007");
	char path[128];
	struct th_resp r;
	snprintf(path, sizeof path, "/my/cases/%s/form/2", ref);
	assert_int_equal(th_post_csrf(c, path, path, "purpose=", &r), 422);
	has(r.body, "<title>错误： ");
	has(r.body, "/static/js/error-focus.js");
	th_resp_release(&r);
	/* sign-in keeps its one prefix */
	struct th_client *anon = th_client_new(th_shared);
	assert_int_equal(th_post_csrf(anon, "/login", "/login", "username=&password=", &r), 422);
	has(r.body, "<title>错误： ");
	lacks(r.body, "错误： 错误：");
	th_resp_release(&r);
	/* the print view in elder mode has the read-aloud control */
	free(th_get_body(anon, "/prefs?elder=1", 303));
	char *b = th_get_body(anon, "/services/990100-MZ-004/print", 200);
	has(b, "read-aloud-button");
	has(b, "/static/js/read-aloud.js");
	free(b);
	th_client_free(anon);
	free(ref);
	th_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sign_in_returns_to_the_page),
		cmocka_unit_test(switch_on_form_error_keeps_answers),
		cmocka_unit_test(services_page_to_the_last),
		cmocka_unit_test(inbox_and_queue_pages),
		cmocka_unit_test(save_later_and_resume),
		cmocka_unit_test(withdraw_asks_first),
		cmocka_unit_test(staff_told_of_material),
		cmocka_unit_test(staff_roles_by_name),
		cmocka_unit_test(coming_steps_and_receipt),
		cmocka_unit_test(home_says_what_needs_me),
		cmocka_unit_test(wrong_account_told_what_to_do),
		cmocka_unit_test(everyday_words_find_services),
		cmocka_unit_test(guides_complete_and_checked),
		cmocka_unit_test(error_titles_and_print_read_aloud),
	};
	return cmocka_run_group_tests(tests, th_group_setup, th_group_teardown);
}
