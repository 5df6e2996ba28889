/*
 * test_feedback.c - "report a problem with this page" through the real
 * server on the store DGOV_TEST_DB selects: every page's footer links to
 * /feedback with its path; a visitor's and a resident's reports are stored
 * with the page (and the account); an empty, blank or oversized message, a
 * page that is not ours and a missing CSRF token store nothing (errors in the
 * reader's language, "Error:" first in the title); administrators see the
 * reports and close them, residents and staff cannot; visitors are held to
 * five reports an hour per address, signed-in people are not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "node/demo.h"

static struct th_client *as(const char *user)
{
	struct th_client *c = th_client_new(th_shared);
	if (user)
		assert_true(th_login(c, user, DG_DEMO_PASSWORD));
	return c;
}

static int64_t count_all(void)
{
	return th_sql_int(th_shared, "SELECT COUNT(*) FROM feedback");
}

/* POST /feedback with page and message (both raw), the token of /feedback's form. */
static long send(struct th_client *c, const char *page, const char *message, struct th_resp *out)
{
	char *ep = th_enc(page), *em = th_enc(message), *fields = NULL;
	assert_true(asprintf(&fields, "page=%s&message=%s", ep, em) > 0);
	long st = th_post_csrf(c, "/feedback", "/feedback", fields, out);
	free(fields);
	free(ep);
	free(em);
	return st;
}

static void footer_links_to_feedback(void **state)
{
	(void)state;
	struct th_client *c = as(NULL);
	char *body = th_get_body(c, "/services", 200);
	assert_non_null(body);
	assert_non_null(strstr(body, "href=\"/feedback?page=%2Fservices\""));
	assert_non_null(strstr(body, "href=\"/accessibility\""));
	assert_non_null(strstr(body, "href=\"/privacy\""));
	assert_non_null(strstr(body, "href=\"/cookies\""));
	assert_non_null(strstr(body, "href=\"/terms\""));
	free(body);
	/* the form names the page it is about and carries it on */
	body = th_get_body(c, "/feedback?page=%2Fservices", 200);
	assert_non_null(body);
	assert_non_null(strstr(body, "name=\"page\" value=\"/services\""));
	free(body);
	/* the privacy notice leads to the resident's record of who used their data */
	body = th_get_body(c, "/privacy", 200);
	assert_non_null(body);
	assert_non_null(strstr(body, "href=\"/my/data-use\""));
	free(body);
	th_client_free(c);
}

static void visitor_and_resident_reports_are_stored(void **state)
{
	(void)state;
	struct th_client *anon = as(NULL);
	struct th_resp r = {0};
	int64_t before = count_all();
	assert_int_equal(send(anon, "/services", "The search button is hidden at 320 px", &r), 303);
	char *loc = th_header(&r, "Location");
	assert_non_null(loc);
	assert_string_equal(loc, "/feedback?sent=1&page=%2Fservices");
	free(loc);
	th_resp_release(&r);
	assert_int_equal(count_all(), before + 1);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM feedback WHERE page = "
					       "'/services' AND user_id IS NULL AND message = "
					       "'The search button is hidden at 320 px'"),
			 1);
	char *body = th_get_body(anon, "/feedback?sent=1&page=%2Fservices", 200);
	assert_non_null(body);
	assert_non_null(strstr(body, "role=\"status\""));
	assert_non_null(strstr(body, "href=\"/services\""));
	free(body);
	th_client_free(anon);

	/* signed in: the account is recorded; a page that is not a local path is not */
	struct th_client *c = as(DG_DEMO_CITIZEN);
	assert_int_equal(send(c, "https://example.com/x", "  读屏软件读不出表格  \n", &r), 303);
	th_resp_release(&r);
	assert_int_equal(
		th_sql_int(th_shared,
			   "SELECT COUNT(*) FROM feedback f JOIN users u ON u.id = f.user_id"
			   " WHERE u.username = 'zhangsan' AND f.page = ''"
			   " AND f.message = '读屏软件读不出表格' AND f.addr_key = ''"),
		1);
	th_client_free(c);
}

static void bad_input_stores_nothing(void **state)
{
	(void)state;
	struct th_client *c = as(NULL);
	struct th_resp r = {0};
	th_get(c, "/prefs?lang=en&back=/", NULL);
	int64_t before = count_all();
	assert_int_equal(send(c, "/help", "", &r), 422);
	assert_non_null(strstr(r.body, "<title>Error: Report a problem with this page"));
	assert_non_null(strstr(r.body, "Enter what the problem is"));
	/* the summary is the first thing in main, focused */
	const char *main_at = strstr(r.body, "<main");
	assert_non_null(main_at);
	const char *summary = strstr(main_at, "class=\"error-summary\"");
	assert_non_null(summary);
	assert_true(summary < strstr(main_at, "<h1"));
	assert_non_null(strstr(summary, "autofocus"));
	th_resp_release(&r);
	assert_int_equal(send(c, "/help", " \r\n\t ", &r), 422);
	th_resp_release(&r);
	/* 2001 characters of three bytes each: over the cap, not echoed back */
	char big[2001 * 3 + 1];
	for (size_t i = 0; i < 2001; i++)
		memcpy(big + i * 3, "字", 3);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(send(c, "/help", big, &r), 413);
	assert_non_null(strstr(r.body, "The report is too long"));
	assert_null(strstr(r.body, "字字字"));
	th_resp_release(&r);
	/* 2000 are within it */
	big[2000 * 3] = '\0';
	int64_t mid = count_all();
	assert_int_equal(mid, before);
	/* without the form's token: refused */
	assert_int_equal(th_post_form(c, "/feedback", "page=%2Fhelp&message=hi", &r), 403);
	th_resp_release(&r);
	assert_int_equal(count_all(), before);
	/* in Chinese the same error is in Chinese */
	th_get(c, "/prefs?lang=zh&back=/", NULL);
	assert_int_equal(send(c, "/help", "", &r), 422);
	assert_non_null(strstr(r.body, "<title>错误："));
	assert_non_null(strstr(r.body, "请写下问题是什么"));
	th_resp_release(&r);
	assert_int_equal(count_all(), before);
	/* the longest message allowed is stored whole (signed in: not counted for the address) */
	struct th_client *s = as(DG_DEMO_CITIZEN2);
	assert_int_equal(send(s, "/help", big, &r), 303);
	th_resp_release(&r);
	assert_int_equal(count_all(), before + 1);
	th_client_free(s);
	th_client_free(c);
}

/* The id of the newest report whose message is msg. */
static int64_t id_of(const char *msg)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT MAX(id) FROM feedback WHERE message = '%s'", msg);
	return th_sql_int(th_shared, sql);
}

static void admin_lists_and_closes(void **state)
{
	(void)state;
	struct th_client *anon = as(NULL), *res = as(DG_DEMO_CITIZEN), *staff = as(DG_DEMO_STAFF);
	struct th_client *admin = as(DG_DEMO_ADMIN);
	struct th_resp r = {0};
	assert_int_equal(send(res, "/my/cases", "My cases table is cut off", &r), 303);
	th_resp_release(&r);
	int64_t id = id_of("My cases table is cut off");
	assert_true(id > 0);

	char *body = th_get_body(admin, "/admin/feedback", 200);
	assert_non_null(body);
	assert_non_null(strstr(body, "My cases table is cut off"));
	assert_non_null(strstr(body, "zhangsan"));
	char action[64];
	snprintf(action, sizeof(action), "/admin/feedback/%lld/close", (long long)id);
	assert_non_null(strstr(body, action));
	free(body);

	/* residents and staff may not read or close them; visitors are sent to sign in */
	assert_int_equal(th_get(res, "/admin/feedback", NULL), 403);
	assert_int_equal(th_get(staff, "/admin/feedback", NULL), 403);
	assert_int_equal(th_get(anon, "/admin/feedback", NULL), 303);
	assert_int_equal(th_post_csrf(res, "/feedback", action, "", &r), 403);
	th_resp_release(&r);
	assert_int_equal(th_post_csrf(staff, "/feedback", action, "", &r), 403);
	th_resp_release(&r);
	char sql[128];
	snprintf(sql, sizeof(sql),
		 "SELECT COUNT(*) FROM feedback WHERE id = %lld AND closed_ms IS NULL",
		 (long long)id);
	assert_int_equal(th_sql_int(th_shared, sql), 1);

	/* the administrator closes it: recorded, and the list says so */
	assert_int_equal(th_post_csrf(admin, "/admin/feedback", action, "", &r), 303);
	char *loc = th_header(&r, "Location");
	assert_non_null(loc);
	assert_non_null(strstr(loc, "/admin/feedback?closed="));
	free(loc);
	th_resp_release(&r);
	assert_int_equal(th_sql_int(th_shared, sql), 0);
	snprintf(sql, sizeof(sql),
		 "SELECT COUNT(*) FROM feedback f JOIN users u ON u.id = f.closed_by"
		 " WHERE f.id = %lld AND u.username = 'admin'",
		 (long long)id);
	assert_int_equal(th_sql_int(th_shared, sql), 1);
	body = th_get_body(admin, "/admin/feedback", 200);
	assert_non_null(body);
	assert_null(strstr(body, action));
	free(body);
	/* closing again changes nothing; one that does not exist is 404 */
	assert_int_equal(th_post_csrf(admin, "/admin/feedback", action, "", &r), 303);
	th_resp_release(&r);
	assert_int_equal(
		th_post_csrf(admin, "/admin/feedback", "/admin/feedback/999999/close", "", &r),
		404);
	th_resp_release(&r);
	th_client_free(anon);
	th_client_free(res);
	th_client_free(staff);
	th_client_free(admin);
}

static void admin_list_pages(void **state)
{
	(void)state;
	/* enough reports for two pages of twenty */
	for (int i = 0; i < 21; i++)
		th_sql(th_shared, "INSERT INTO feedback (page, message, created_ms)"
				  " VALUES ('/help', 'paged report', 1)");
	struct th_client *admin = as(DG_DEMO_ADMIN);
	char *body = th_get_body(admin, "/admin/feedback", 200);
	assert_non_null(body);
	assert_non_null(strstr(body, "href=\"/admin/feedback?page=2\""));
	free(body);
	body = th_get_body(admin, "/admin/feedback?page=2", 200);
	assert_non_null(body);
	assert_non_null(strstr(body, "aria-current=\"page\""));
	free(body);
	th_client_free(admin);
}

static void visitors_limited_per_address(void **state)
{
	(void)state;
	/* the reports this address has sent this hour count too */
	int64_t sent = th_sql_int(th_shared, "SELECT COUNT(*) FROM feedback WHERE addr_key <> ''");
	assert_true(sent >= 1 && sent <= 5);
	struct th_client *c = as(NULL);
	struct th_resp r = {0};
	for (int64_t i = sent; i < 5; i++) {
		assert_int_equal(send(c, "/", "again", &r), 303);
		th_resp_release(&r);
	}
	int64_t before = count_all();
	assert_int_equal(send(c, "/", "one too many", &r), 429);
	char *retry = th_header(&r, "Retry-After");
	assert_non_null(retry);
	free(retry);
	assert_non_null(strstr(r.body, "error-summary"));
	th_resp_release(&r);
	assert_int_equal(count_all(), before);
	/* a signed-in resident from the same address still can */
	struct th_client *s = as(DG_DEMO_CITIZEN);
	assert_int_equal(send(s, "/", "signed in, not limited", &r), 303);
	th_resp_release(&r);
	assert_int_equal(count_all(), before + 1);
	/* an hour later the address is forgotten and the visitor may send again */
	th_sql(th_shared, "UPDATE feedback SET created_ms = created_ms - 3700000");
	assert_int_equal(send(c, "/", "an hour later", &r), 303);
	th_resp_release(&r);
	assert_int_equal(
		th_sql_int(th_shared, "SELECT COUNT(*) FROM feedback WHERE addr_key <> ''"), 1);
	th_client_free(s);
	th_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(footer_links_to_feedback),
		cmocka_unit_test(visitor_and_resident_reports_are_stored),
		cmocka_unit_test(bad_input_stores_nothing),
		cmocka_unit_test(admin_lists_and_closes),
		cmocka_unit_test(admin_list_pages),
		cmocka_unit_test(visitors_limited_per_address),
	};
	return cmocka_run_group_tests(tests, th_group_setup, th_group_teardown);
}
