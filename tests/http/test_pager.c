/*
 * test_pager.c - the pager of a long list (web/page.c dg_pager with
 * partials/pager.html and pager_count.html, here the inbox's 25,000
 * messages) through the real server, on the store DGOV_TEST_DB selects:
 * its page numbers and counts have a comma between groups of three digits
 * in both languages, as every other count on a page has (dg_count_text),
 * in the links' accessible names too ("Page 1,000 (this page)"), while
 * the links themselves keep the plain number (?page=1000); a short list
 * keeps its plain numbers.
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

/* The body of path for the citizen lisi in lang ("zh" or "en") (malloc'd). */
static char *inbox(const char *path, const char *lang)
{
	struct th_client *c = th_client_new(th_shared);
	assert_true(th_login(c, DG_DEMO_CITIZEN2, DG_DEMO_PASSWORD));
	char accept[64];
	snprintf(accept, sizeof accept, "Accept-Language: %s", lang);
	const char *h[] = {accept, NULL};
	struct th_resp r = {0};
	assert_int_equal(th_request(c, "GET", path, NULL, NULL, 0, h, &r), 200);
	char *b = strdup(r.body);
	th_resp_release(&r);
	th_client_free(c);
	return b;
}

static void has(const char *body, const char *want)
{
	if (!strstr(body, want))
		fail_msg("missing: %s", want);
}

static void lacks(const char *body, const char *unwanted)
{
	const char *at = strstr(body, unwanted);
	if (at)
		fail_msg("present: %s (in \"%.80s\")", unwanted, at > body + 60 ? at - 60 : body);
}

/* lisi's inbox holds exactly n messages */
static void fill(int n)
{
	char sql[768];
	th_sql(th_shared, "DELETE FROM notify_messages WHERE user_id ="
			  " (SELECT id FROM users WHERE username = 'lisi')");
	snprintf(sql, sizeof sql,
		 "INSERT INTO notify_messages (user_id, kind, params, link, created_ms)"
		 " WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < %d)"
		 " SELECT u.id, 'case.submitted', '{}', '/my/cases', k.i FROM users u, k"
		 " WHERE u.username = 'lisi'",
		 n);
	th_sql(th_shared, sql);
}

static void long_list_groups_digits(void **state)
{
	(void)state;
	fill(25000);
	char *b = inbox("/inbox?page=1000", "zh");
	has(b, "第 19,981–20,000 项，共 25,000 项");
	has(b, "<a href=\"/inbox?page=1000\" aria-current=\"page\"><span "
	       "class=\"visually-hidden\">第 </span>1,000<span class=\"visually-hidden\"> "
	       "页（当前页）</span></a>");
	has(b, "<a href=\"/inbox?page=1002\"><span class=\"visually-hidden\">第 </span>1,002<span "
	       "class=\"visually-hidden\"> 页</span></a>");
	has(b, "<a href=\"/inbox?page=1250\"><span class=\"visually-hidden\">第 </span>1,250<span "
	       "class=\"visually-hidden\"> 页</span></a>");
	has(b, "<a href=\"/inbox\"><span class=\"visually-hidden\">第 </span>1<span");
	lacks(b, ">1000<");
	free(b);

	b = inbox("/inbox?page=1000", "en");
	has(b, "Showing 19,981 to 20,000 of 25,000");
	has(b, "<a href=\"/inbox?page=1000\" aria-current=\"page\"><span "
	       "class=\"visually-hidden\">Page </span>1,000<span class=\"visually-hidden\"> "
	       "(this page)</span></a>");
	has(b, "<a href=\"/inbox?page=998\"><span class=\"visually-hidden\">Page </span>998<span");
	has(b,
	    "<a href=\"/inbox?page=1250\"><span class=\"visually-hidden\">Page </span>1,250<span");
	lacks(b, ">1000<");
	free(b);
}

static void short_list_plain(void **state)
{
	(void)state;
	fill(45);
	char *b = inbox("/inbox?page=2", "en");
	has(b, "Showing 21 to 40 of 45");
	has(b, "<a href=\"/inbox?page=3\"><span class=\"visually-hidden\">Page </span>3<span");
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(long_list_groups_digits),
		cmocka_unit_test(short_list_plain),
	};
	return cmocka_run_group_tests(tests, th_group_setup, th_group_teardown);
}
