/*
 * test_cal.c - the holiday calendar in the store, through the real server on
 * the store DGOV_TEST_DB selects: the demo's 2026 arrangement (every 调休
 * day a weekend day), working days across the National Day week and onto a
 * worked Saturday or Sunday, between() both ways, the caps, and
 * /admin/holidays: listing a year, adding and removing a day (which changes
 * the arithmetic at once), validation errors in the reader's language with
 * nothing changed, a duplicate, CSRF, and everyone but administrators refused.
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
#include "cal/cal.h"
#include "core/date.h"
#include "node/demo.h"
#include "harness.h"
#include "store/store.h"

static dg_day ymd(int y, int m, int d)
{
	return dg_day_from_ymd(y, m, d);
}

static struct dg_db *db_get(void)
{
	struct dg_db *db = NULL;
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	return db;
}

static dg_day add(dg_day start, int n)
{
	struct dg_db *db = db_get();
	dg_day out = 0;
	assert_int_equal(dg_cal_workdays_add(db, start, n, &out), DG_OK);
	dg_db_put(db);
	return out;
}

static int between(dg_day from, dg_day to)
{
	struct dg_db *db = db_get();
	int out = 0;
	assert_int_equal(dg_cal_workdays_between(db, from, to, &out), DG_OK);
	dg_db_put(db);
	return out;
}

static int64_t count_days(void)
{
	struct dg_db *db = db_get();
	int64_t n = 0;
	assert_int_equal(dg_db_query_int(db, "SELECT COUNT(*) FROM holidays", DG_NOARGS, &n),
			 DG_OK);
	dg_db_put(db);
	return n;
}

static void demo_arrangement(void **state)
{
	(void)state;
	struct dg_db *db = db_get();
	json_t *days = NULL;
	assert_int_equal(dg_cal_list_year(db, 2026, &days), DG_OK);
	int holidays = 0, worked = 0;
	json_t *d;
	size_t i;
	json_array_foreach (days, i, d) {
		json_int_t kind = json_integer_value(json_object_get(d, "kind"));
		json_int_t wd = json_integer_value(json_object_get(d, "weekday"));
		if (kind == DG_DAY_WORKDAY) {
			worked++;
			assert_true(wd == 6 ||
				    wd == 7); /* only a weekend day can be worked in exchange */
		} else {
			holidays++;
		}
	}
	/* 元旦 3, 春节 9, 清明 3, 劳动节 5, 端午 3, 中秋 3, 国庆 7;
	 * worked 1.4, 2.14, 2.28, 5.9, 9.20, 10.10 */
	assert_int_equal(holidays, 33);
	assert_int_equal(worked, 6);
	json_decref(days);
	assert_int_equal(dg_cal_list_year(db, 2027, &days), DG_OK);
	assert_true(json_array_size(days) >= 13);
	json_decref(days);
	assert_int_equal(dg_cal_list_year(db, 0, &days), DG_EINVAL);
	dg_db_put(db);
}

static void workdays_national_day(void **state)
{
	(void)state;
	/* Wednesday 30 September: 1-7 October are holidays, so the next working day is the 8th */
	assert_int_equal(add(ymd(2026, 9, 30), 1), ymd(2026, 10, 8));
	/* 8 (Thu), 9 (Fri), then Saturday 10 October, worked in exchange */
	assert_int_equal(add(ymd(2026, 9, 30), 3), ymd(2026, 10, 10));
	assert_int_equal(add(ymd(2026, 9, 30), 4), ymd(2026, 10, 12));
	/* Friday 18 September: Saturday 19th is off, Sunday 20th is worked */
	assert_int_equal(add(ymd(2026, 9, 18), 1), ymd(2026, 9, 20));
	/* Friday 13 February: Saturday 14th is worked, then the Spring Festival to the 23rd */
	assert_int_equal(add(ymd(2026, 2, 13), 1), ymd(2026, 2, 14));
	assert_int_equal(add(ymd(2026, 2, 13), 2), ymd(2026, 2, 24));
	assert_int_equal(add(ymd(2026, 9, 30), 0), ymd(2026, 9, 30));
	/* an ordinary week with no holiday: Friday + 1 is Monday */
	assert_int_equal(add(ymd(2026, 3, 6), 1), ymd(2026, 3, 9));

	/* between: (30 Sep, 11 Oct] holds the 8th, 9th and the worked 10th */
	assert_int_equal(between(ymd(2026, 9, 30), ymd(2026, 10, 11)), 3);
	assert_int_equal(between(ymd(2026, 10, 11), ymd(2026, 9, 30)), -3);
	assert_int_equal(between(ymd(2026, 10, 1), ymd(2026, 10, 7)), 0);
	assert_int_equal(between(ymd(2026, 9, 30), ymd(2026, 9, 30)), 0);
	/* September 2026: 22 weekdays, less 25 Sep (中秋), plus Sunday 20 Sep */
	assert_int_equal(between(ymd(2026, 8, 31), ymd(2026, 9, 30)), 22);

	/* bounds */
	struct dg_db *db = db_get();
	dg_day out = 0;
	int n = 0;
	assert_int_equal(dg_cal_workdays_add(db, ymd(2026, 1, 1), -1, &out), DG_EINVAL);
	assert_int_equal(dg_cal_workdays_add(db, ymd(2026, 1, 1), 3651, &out), DG_EINVAL);
	assert_int_equal(dg_cal_workdays_between(db, ymd(1900, 1, 1), ymd(2200, 1, 1), &n),
			 DG_EINVAL);
	dg_db_put(db);
}

/* A client signed in as user (NULL: anonymous). */
static struct th_client *as(const char *user)
{
	struct th_client *c = th_client_new(th_shared);
	if (user)
		assert_true(th_login(c, user, DG_DEMO_PASSWORD));
	return c;
}

/* POST the add form; returns the status and the body (malloc'd) in *body when asked. */
static long post_add(struct th_client *c, const char *csrf, const char *date, const char *kind,
		     const char *name, const char *const *headers, char **body)
{
	char *ed = th_enc(date), *en = th_enc(name), *ec = th_enc(csrf ? csrf : "");
	size_t n = strlen(ed) + strlen(en) + strlen(ec) + 64;
	char *form = malloc(n);
	snprintf(form, n, "csrf=%s&date=%s&kind=%s&name=%s", ec, ed, kind, en);
	struct th_resp r = {0};
	long st = th_request(c, "POST", "/admin/holidays", "application/x-www-form-urlencoded",
			     form, strlen(form), headers, &r);
	if (body) {
		*body = r.body;
		r.body = NULL;
	}
	th_resp_release(&r);
	free(form);
	free(ed);
	free(en);
	free(ec);
	return st;
}

static long post_remove(struct th_client *c, const char *csrf, const char *date)
{
	char path[96], form[256];
	snprintf(path, sizeof(path), "/admin/holidays/%s/delete", date);
	snprintf(form, sizeof(form), "csrf=%s", csrf ? csrf : "");
	return th_post_form(c, path, form, NULL);
}

static void admin_add_remove(void **state)
{
	(void)state;
	struct th_client *c = as(DG_DEMO_ADMIN);
	char *csrf = th_csrf(c, "/admin/holidays");
	assert_non_null(csrf);
	struct th_resp r = {0};

	/* the year's page lists the demo arrangement */
	assert_int_equal(th_get(c, "/admin/holidays?year=2026", &r), 200);
	assert_non_null(strstr(r.body, "国庆节调休上班"));
	assert_non_null(strstr(r.body, "2026-10-10"));
	th_resp_release(&r);
	assert_int_equal(th_get(c, "/admin/holidays?year=abc", &r), 400);
	th_resp_release(&r);

	/* Thursday 4 February 2027: the next working day is Tuesday the 9th (5-8 are 春节) */
	assert_int_equal(add(ymd(2027, 2, 4), 1), ymd(2027, 2, 9));
	int64_t before = count_days();
	assert_int_equal(post_add(c, csrf, "2027-02-09", "1", "春节", NULL, NULL), 303);
	assert_int_equal(count_days(), before + 1);
	assert_int_equal(add(ymd(2027, 2, 4), 1), ymd(2027, 2, 10));
	assert_int_equal(th_get(c, "/admin/holidays?year=2027&added=2027-02-09", &r), 200);
	assert_non_null(strstr(r.body, "2027-02-09"));
	th_resp_release(&r);

	/* the same day again: a conflict on the form, nothing added */
	char *body = NULL;
	assert_int_equal(post_add(c, csrf, "2027-02-09", "1", "春节", NULL, &body), 409);
	assert_non_null(strstr(body, "这一天已经在日历中"));
	free(body);
	assert_int_equal(count_days(), before + 1);

	/* removing it puts the arithmetic back */
	assert_int_equal(post_remove(c, csrf, "2027-02-09"), 303);
	assert_int_equal(count_days(), before);
	assert_int_equal(add(ymd(2027, 2, 4), 1), ymd(2027, 2, 9));
	assert_int_equal(post_remove(c, csrf, "2027-02-09"), 404);
	assert_int_equal(post_remove(c, csrf, "not-a-date"), 404);

	/* a worked Saturday can be added, and counts */
	assert_int_equal(add(ymd(2027, 3, 5), 1), ymd(2027, 3, 8));
	assert_int_equal(post_add(c, csrf, " 2027-03-06 ", "2", "调休上班", NULL, NULL), 303);
	assert_int_equal(add(ymd(2027, 3, 5), 1), ymd(2027, 3, 6));
	assert_int_equal(post_remove(c, csrf, "2027-03-06"), 303);
	free(csrf);
	th_client_free(c);
}

static void bad_input_changes_nothing(void **state)
{
	(void)state;
	struct th_client *c = as(DG_DEMO_ADMIN);
	char *csrf = th_csrf(c, "/admin/holidays");
	int64_t before = count_days();
	char *body = NULL;

	/* not a real date: the error summary links to the field, the answer is kept */
	assert_int_equal(post_add(c, csrf, "2027-02-30", "1", "春节", NULL, &body), 422);
	assert_non_null(strstr(body, "href=\"#date\""));
	assert_non_null(strstr(body, "请按“年-月-日”填写一个真实的日期"));
	assert_non_null(strstr(body, "value=\"2027-02-30\""));
	assert_non_null(strstr(body, "<title>错误："));
	free(body);
	/* in English when the reader asks for it */
	const char *const en[] = {"Accept-Language: en", NULL};
	assert_int_equal(post_add(c, csrf, "31/12/2027", "1", "x", en, &body), 422);
	assert_non_null(strstr(body, "Enter a real date as year-month-day"));
	free(body);
	/* a name of spaces is no name */
	assert_int_equal(post_add(c, csrf, "2027-03-03", "1", "   ", NULL, &body), 422);
	assert_non_null(strstr(body, "请填写名称"));
	free(body);
	/* nothing at all: one error per field */
	assert_int_equal(post_add(c, csrf, "", "", "", NULL, &body), 422);
	assert_non_null(strstr(body, "请填写日期"));
	assert_non_null(strstr(body, "请选择这一天是节假日还是调休上班日"));
	assert_non_null(strstr(body, "请填写名称"));
	free(body);
	/* a weekday cannot be a worked day in exchange (it is worked anyway) */
	assert_int_equal(post_add(c, csrf, "2027-03-03", "2", "调休上班", NULL, &body), 422);
	assert_non_null(strstr(body, "调休上班日必须是星期六或星期日"));
	free(body);
	/* kinds other than 1 and 2, names too long or with control characters */
	assert_int_equal(post_add(c, csrf, "2027-03-03", "3", "x", NULL, NULL), 422);
	assert_int_equal(post_add(c, csrf, "2027-03-03", "1",
				  "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二"
				  "三四五六七八九十一",
				  NULL, NULL),
			 422);
	assert_int_equal(post_add(c, csrf, "2027-03-03", "1", "a\nb", NULL, NULL), 422);
	assert_int_equal(post_add(c, csrf, "1899-12-31", "1", "x", NULL, NULL), 422);
	char big[400];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(post_add(c, csrf, "2027-03-03", "1", big, NULL, NULL), 413);
	/* no CSRF token: refused before anything happens */
	assert_int_equal(post_add(c, "wrong", "2027-03-03", "1", "x", NULL, NULL), 403);
	assert_int_equal(post_remove(c, NULL, "2026-10-01"), 403);
	assert_int_equal(count_days(), before);
	free(csrf);
	th_client_free(c);
}

static void others_refused(void **state)
{
	(void)state;
	int64_t before = count_days();
	static const char *const users[] = {DG_DEMO_CITIZEN, DG_DEMO_AGENT, DG_DEMO_STAFF};
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		struct th_client *c = as(users[i]);
		char *csrf = th_csrf(c, "/account");
		assert_non_null(csrf);
		assert_int_equal(th_get(c, "/admin/holidays", NULL), 403);
		assert_int_equal(post_add(c, csrf, "2027-03-03", "1", "x", NULL, NULL), 403);
		assert_int_equal(post_remove(c, csrf, "2026-10-01"), 403);
		free(csrf);
		th_client_free(c);
	}
	struct th_client *anon = as(NULL);
	struct th_resp r = {0};
	assert_int_equal(th_get(anon, "/admin/holidays", &r), 303);
	char *loc = th_header(&r, "Location");
	assert_non_null(loc);
	assert_non_null(strstr(loc, "/login"));
	free(loc);
	th_resp_release(&r);
	char *csrf = th_csrf(anon, "/login");
	assert_int_equal(post_add(anon, csrf, "2027-03-03", "1", "x", NULL, NULL), 401);
	free(csrf);
	th_client_free(anon);
	assert_int_equal(count_days(), before);
}

/*
 * Issue 15 point 17: holiday names in English on English pages (the demo's
 * all have one), the Chinese marked lang="zh-CN" where none was given; an
 * English name is checked as the Chinese one is.
 */
static void english_names(void **state)
{
	(void)state;
	struct th_client *c = as(DG_DEMO_ADMIN);
	char *csrf = th_csrf(c, "/admin/holidays");
	const char *const en[] = {"Accept-Language: en", NULL};
	struct th_resp r = {0};
	assert_int_equal(th_request(c, "GET", "/admin/holidays?year=2026", NULL, NULL, 0, en, &r),
			 200);
	assert_non_null(strstr(r.body, ">National Day</td>"));
	assert_non_null(strstr(r.body, ">Working day in exchange for the Spring Festival</td>"));
	assert_null(strstr(r.body, ">国庆节</td>"));
	th_resp_release(&r);
	/* Chinese pages keep the Chinese */
	char *b = th_get_body(c, "/admin/holidays?year=2026", 200);
	assert_non_null(strstr(b, ">国庆节</td>"));
	assert_non_null(strstr(b, "id=\"name_en\""));
	free(b);
	/* a day added without an English name: its Chinese, marked, on English pages */
	int64_t before = count_days();
	assert_int_equal(post_add(c, csrf, "2027-03-03", "1", "试假", NULL, NULL), 303);
	assert_int_equal(th_request(c, "GET", "/admin/holidays?year=2027", NULL, NULL, 0, en, &r),
			 200);
	assert_non_null(strstr(r.body, "lang=\"zh-CN\">试假</td>"));
	th_resp_release(&r);
	/* with one: shown; a bad one refused, with the field named, nothing added */
	char form[512];
	snprintf(form, sizeof form, "csrf=%s&date=2027-03-04&kind=1&name=%s&name_en=Trial+day",
		 csrf, "%E8%AF%95");
	assert_int_equal(th_post_form(c, "/admin/holidays", form, NULL), 303);
	snprintf(form, sizeof form, "csrf=%s&date=2027-03-05&kind=1&name=x&name_en=a%%0Ab", csrf);
	assert_int_equal(th_request(c, "POST", "/admin/holidays",
				    "application/x-www-form-urlencoded", form, strlen(form), en,
				    &r),
			 422);
	assert_non_null(strstr(r.body, "href=\"#name_en\""));
	th_resp_release(&r);
	assert_int_equal(th_request(c, "GET", "/admin/holidays?year=2027", NULL, NULL, 0, en, &r),
			 200);
	assert_non_null(strstr(r.body, ">Trial day</td>"));
	th_resp_release(&r);
	assert_int_equal(count_days(), before + 2);
	assert_int_equal(post_remove(c, csrf, "2027-03-03"), 303);
	assert_int_equal(post_remove(c, csrf, "2027-03-04"), 303);
	free(csrf);
	th_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(demo_arrangement), cmocka_unit_test(workdays_national_day),
		cmocka_unit_test(admin_add_remove), cmocka_unit_test(bad_input_changes_nothing),
		cmocka_unit_test(others_refused),   cmocka_unit_test(english_names),
	};
	return cmocka_run_group_tests(tests, th_group_setup, th_group_teardown);
}
