/*
 * test_core.c - unit tests for src/core: arena, capped buffer and escapers,
 * string views, dates and working days, configuration, request ids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/date.h"
#include "core/mem.h"
#include "core/rand.h"
#include "core/str.h"

static int cleanup_calls;
static void count_cleanup(void *p)
{
	/* cleanups run last-registered first: p carries the expected order */
	assert_int_equal((int)(intptr_t)p, cleanup_calls);
	cleanup_calls++;
}

static void arena_alloc_and_cleanups(void **state)
{
	(void)state;
	struct dg_arena *a = dg_arena_new();
	char *small = dg_arena_alloc(a, 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(small[i], 0);
	/* a big allocation gets its own block and small ones keep working */
	char *big = dg_arena_alloc(a, 1 << 20);
	memset(big, 'x', 1 << 20);
	char *s = dg_arena_printf(a, "%s-%d", "id", 42);
	assert_string_equal(s, "id-42");
	assert_true(((uintptr_t)dg_arena_alloc(a, 3) & 15) == 0);
	assert_true(dg_arena_used(a) >= (1 << 20));
	cleanup_calls = 0;
	dg_arena_defer(a, count_cleanup, (void *)(intptr_t)1);
	dg_arena_defer(a, count_cleanup, (void *)(intptr_t)0);
	dg_arena_free(a);
	assert_int_equal(cleanup_calls, 2);
}

static void buf_cap_refuses_and_keeps_content(void **state)
{
	(void)state;
	struct dg_buf b;
	dg_buf_init(&b, 8);
	assert_int_equal(dg_buf_adds(&b, "12345"), DG_OK);
	assert_int_equal(dg_buf_adds(&b, "6789"), DG_ETOOBIG);
	assert_string_equal(dg_buf_str(&b), "12345");
	assert_int_equal(dg_buf_addf(&b, "%d", 678), DG_OK);
	assert_int_equal(b.len, 8);
	assert_int_equal(dg_buf_addc(&b, 'x'), DG_ETOOBIG);
	char *taken = dg_buf_take(&b);
	assert_string_equal(taken, "12345678");
	free(taken);
	assert_int_equal(b.len, 0);
	dg_buf_release(&b);
}

static void buf_escapers(void **state)
{
	(void)state;
	struct dg_buf b;
	dg_buf_init(&b, 0);
	const char *evil = "<script>alert('x')&\"</script>";
	assert_int_equal(dg_buf_add_html(&b, evil, strlen(evil)), DG_OK);
	assert_string_equal(dg_buf_str(&b),
			    "&lt;script&gt;alert(&#39;x&#39;)&amp;&quot;&lt;/script&gt;");
	dg_buf_reset(&b);
	assert_int_equal(dg_buf_add_json_str(&b, "a\"b\\c\n</", 8), DG_OK);
	assert_string_equal(dg_buf_str(&b), "\"a\\\"b\\\\c\\u000a\\u003c/\"");
	dg_buf_reset(&b);
	assert_int_equal(dg_buf_add_url(&b, "a b/中", strlen("a b/中")), DG_OK);
	assert_string_equal(dg_buf_str(&b), "a%20b%2F%E4%B8%AD");
	dg_buf_reset(&b);
	assert_int_equal(dg_buf_add_hex(&b, "\x01\xff", 2), DG_OK);
	assert_string_equal(dg_buf_str(&b), "01ff");
	dg_buf_release(&b);
}

static void str_views(void **state)
{
	(void)state;
	struct dg_str head, rest = dg_str_cut(dg_str_of("a=b=c"), '=', &head);
	assert_true(dg_str_eqs(head, "a"));
	assert_true(dg_str_eqs(rest, "b=c"));
	rest = dg_str_cut(dg_str_of("abc"), '=', &head);
	assert_true(dg_str_eqs(head, "abc"));
	assert_null(rest.p);
	assert_true(dg_str_eqs(dg_str_trim(dg_str_of("  x y\t")), "x y"));
	assert_true(dg_str_case_eqs(dg_str_of("Content-Type"), "content-type"));
	int64_t v;
	assert_int_equal(dg_str_to_i64(dg_str_of("-9223372036854775808"), &v), DG_OK);
	assert_true(v == INT64_MIN);
	assert_int_equal(dg_str_to_i64(dg_str_of("9223372036854775808"), &v), DG_EINVAL);
	assert_int_equal(dg_str_to_i64(dg_str_of("12a"), &v), DG_EINVAL);
	assert_int_equal(dg_str_to_i64(dg_str_of(""), &v), DG_EINVAL);
	assert_int_equal(dg_str_to_i64(dg_str_of("-"), &v), DG_EINVAL);
	assert_true(dg_utf8_valid("中文 ok", strlen("中文 ok")));
	assert_false(dg_utf8_valid("\xc0\xaf", 2));     /* overlong */
	assert_false(dg_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
	assert_false(dg_utf8_valid("a\0b", 3));
	assert_int_equal(dg_utf8_len("中文ab", strlen("中文ab")), 4);
}

static void dates(void **state)
{
	(void)state;
	dg_day d;
	assert_int_equal(dg_day_parse("1970-01-01", &d), DG_OK);
	assert_int_equal(d, 0);
	assert_int_equal(dg_day_parse("2024-02-29", &d), DG_OK);
	char out[11];
	dg_day_format(d, out);
	assert_string_equal(out, "2024-02-29");
	assert_int_equal(dg_day_weekday(d), 4); /* a Thursday */
	assert_int_equal(dg_day_parse("2023-02-29", &d), DG_EINVAL);
	assert_int_equal(dg_day_parse("2023-13-01", &d), DG_EINVAL);
	assert_int_equal(dg_day_parse("2023-1-01", &d), DG_EINVAL);
	assert_int_equal(dg_day_parse("1900-02-29", &d), DG_EINVAL);
	assert_int_equal(dg_day_parse("2000-02-29", &d), DG_OK);
	/* round trip over a long span */
	for (dg_day x = -800000; x < 800000; x += 997) {
		int y, m, dd;
		dg_day_to_ymd(x, &y, &m, &dd);
		assert_int_equal(dg_day_from_ymd(y, m, dd), x);
	}
}

static void working_days(void **state)
{
	(void)state;
	struct dg_calendar c;
	dg_calendar_init(&c);
	dg_day fri, mon;
	assert_int_equal(dg_day_parse("2026-09-25", &fri), DG_OK); /* a Friday */
	mon = fri + 3;
	/* no calendar: Friday + 1 working day is Monday */
	assert_int_equal(dg_workdays_add(&c, fri, 1), mon);
	assert_int_equal(dg_workdays_add(&c, fri, 0), fri);
	/* National Day week: 1-7 October holidays, Sunday 27 September and
	 * Saturday 10 October worked (调休) */
	for (int i = 0; i < 7; i++)
		dg_calendar_set(&c, dg_day_from_ymd(2026, 10, 1) + i, DG_DAY_HOLIDAY);
	dg_calendar_set(&c, dg_day_from_ymd(2026, 9, 27), DG_DAY_WORKDAY);
	dg_calendar_set(&c, dg_day_from_ymd(2026, 10, 10), DG_DAY_WORKDAY);
	assert_true(dg_calendar_is_workday(&c, dg_day_from_ymd(2026, 9, 27)));
	assert_false(dg_calendar_is_workday(&c, dg_day_from_ymd(2026, 10, 1)));
	/* from Friday 25 September: 27 (Sun, worked), 28, 29, 30, then 8 October */
	assert_int_equal(dg_workdays_add(&c, fri, 4), dg_day_from_ymd(2026, 9, 30));
	assert_int_equal(dg_workdays_add(&c, fri, 5), dg_day_from_ymd(2026, 10, 8));
	assert_int_equal(dg_workdays_between(&c, fri, dg_day_from_ymd(2026, 10, 8)), 5);
	assert_int_equal(dg_workdays_between(&c, dg_day_from_ymd(2026, 10, 8), fri), -5);
	/* re-marking a day replaces it */
	dg_calendar_set(&c, dg_day_from_ymd(2026, 10, 1), DG_DAY_WORKDAY);
	assert_true(dg_calendar_is_workday(&c, dg_day_from_ymd(2026, 10, 1)));
	assert_int_equal(c.n, 9);
	/* a huge n is capped, not a hang */
	assert_true(dg_workdays_add(&c, fri, 1 << 30) > fri);
	dg_calendar_release(&c);
}

static void config_flags_and_env(void **state)
{
	(void)state;
	struct dg_config c;
	struct dg_err err = {0};
	dg_config_defaults(&c);
	const char *argv[] = {"--listen", "0.0.0.0:9000", "--db=postgresql://x/y", "--threads",
			      "8"};
	assert_int_equal(dg_config_from_args(&c, 5, (char **)argv, &err), DG_OK);
	assert_string_equal(c.host, "0.0.0.0");
	assert_int_equal(c.port, 9000);
	assert_string_equal(c.db, "postgresql://x/y");
	assert_int_equal(c.threads, 8);
	const char *bad[] = {"--port", "70000"};
	assert_int_equal(dg_config_from_args(&c, 2, (char **)bad, &err), DG_EINVAL);
	assert_non_null(strstr(err.msg, "port"));
	const char *unknown[] = {"--colour", "red"};
	assert_int_equal(dg_config_from_args(&c, 2, (char **)unknown, &err), DG_EINVAL);
	const char *missing[] = {"--db"};
	assert_int_equal(dg_config_from_args(&c, 1, (char **)missing, &err), DG_EINVAL);
	setenv("PORT", "8181", 1);
	setenv("DGOV_THREADS", "many", 1);
	assert_int_equal(dg_config_from_env(&c, &err), DG_EINVAL);
	assert_non_null(strstr(err.msg, "DGOV_THREADS"));
	unsetenv("DGOV_THREADS");
	assert_int_equal(dg_config_from_env(&c, &err), DG_OK);
	assert_int_equal(c.port, 8181);
	unsetenv("PORT");
	assert_true(dg_config_has_flag("db=x"));
	assert_false(dg_config_has_flag("if-missing"));
}

static void config_site_url_and_limits(void **state)
{
	(void)state;
	struct dg_config c;
	struct dg_err err = {0};
	char buf[DG_SITE_URL_MAX];
	dg_config_defaults(&c);
	/* the default is built from the listen address, never from a request */
	assert_string_equal(dg_config_site_url(&c, buf), "http://127.0.0.1:8080");
	assert_false(dg_config_site_https(&c));
	c.host = "::1";
	c.port = 9001;
	assert_string_equal(dg_config_site_url(&c, buf), "http://[::1]:9001");
	const char *ok[] = {"--site-url", "https://portal.example.gov/"};
	assert_int_equal(dg_config_from_args(&c, 2, (char **)ok, &err), DG_OK);
	assert_string_equal(dg_config_site_url(&c, buf), "https://portal.example.gov");
	assert_true(dg_config_site_https(&c));
	assert_true(c.secure_cookies);
	const char *path[] = {"--site-url=http://10.0.0.5:8080/gov"};
	assert_int_equal(dg_config_from_args(&c, 1, (char **)path, &err), DG_OK);
	assert_string_equal(dg_config_site_url(&c, buf), "http://10.0.0.5:8080/gov");
	assert_false(c.secure_cookies);
	static const char *const bad[] = {"ftp://x.example",
					  "https://",
					  "https://evil\"onmouseover=x",
					  "https://a.example/?q=1",
					  "javascript:alert(1)",
					  "https://a b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[] = {"--site-url", bad[i]};
		assert_int_equal(dg_config_from_args(&c, 2, (char **)argv, &err), DG_EINVAL);
	}
	assert_string_equal(dg_config_site_url(&c, buf), "http://10.0.0.5:8080/gov");
	/* the connection and sign-in limits: defaults, flags, environment, bounds */
	dg_config_defaults(&c);
	assert_int_equal(c.conn_per_addr, 32);
	assert_int_equal(c.header_timeout, 10);
	assert_int_equal(c.login_limit, 20);
	const char *lim[] = {"--conn-per-addr", "4", "--header-timeout=2", "--login-limit", "0"};
	assert_int_equal(dg_config_from_args(&c, 5, (char **)lim, &err), DG_OK);
	assert_int_equal(c.conn_per_addr, 4);
	assert_int_equal(c.header_timeout, 2);
	assert_int_equal(c.login_limit, 0);
	const char *zero[] = {"--header-timeout", "0"};
	assert_int_equal(dg_config_from_args(&c, 2, (char **)zero, &err), DG_EINVAL);
	setenv("DGOV_MAX_CONN", "64", 1);
	setenv("DGOV_SITE_URL", "https://env.example", 1);
	assert_int_equal(dg_config_from_env(&c, &err), DG_OK);
	assert_int_equal(c.max_conn, 64);
	assert_string_equal(dg_config_site_url(&c, buf), "https://env.example");
	unsetenv("DGOV_MAX_CONN");
	unsetenv("DGOV_SITE_URL");
	assert_true(dg_config_has_flag("site-url"));
	assert_true(dg_config_has_flag("min-body-rate=10"));
}

static void config_cors_origins(void **state)
{
	(void)state;
	struct dg_config c;
	struct dg_err err = {0};
	dg_config_defaults(&c);
	/* none by default, as CKAN */
	assert_false(dg_config_cors_allows(&c, "https://app.example"));
	const char *list[] = {"--cors-origins", "https://app.example, http://localhost:3000"};
	assert_int_equal(dg_config_from_args(&c, 2, (char **)list, &err), DG_OK);
	assert_true(dg_config_cors_allows(&c, "https://app.example"));
	assert_true(dg_config_cors_allows(&c, "HTTPS://APP.example"));
	assert_true(dg_config_cors_allows(&c, "http://localhost:3000"));
	assert_false(dg_config_cors_allows(&c, "http://localhost:3001"));
	assert_false(dg_config_cors_allows(&c, "https://app.example.evil.example"));
	assert_false(dg_config_cors_allows(&c, "https://app.exampl"));
	assert_false(dg_config_cors_allows(&c, "null"));
	assert_false(dg_config_cors_allows(&c, ""));
	assert_false(dg_config_cors_allows(&c, NULL));
	static const char *const bad[] = {"app.example",        "https://a.example/path",
					  "https://",           "https://a.example,ftp://b.example",
					  "https://a b",        "",
					  "*,https://a.example"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[] = {"--cors-origins", bad[i]};
		assert_int_equal(dg_config_from_args(&c, 2, (char **)argv, &err), DG_EINVAL);
	}
	/* a refused value leaves the setting as it was */
	assert_true(dg_config_cors_allows(&c, "https://app.example"));
	setenv("DGOV_CORS_ORIGINS", "*", 1);
	assert_int_equal(dg_config_from_env(&c, &err), DG_OK);
	unsetenv("DGOV_CORS_ORIGINS");
	assert_true(dg_config_cors_allows(&c, "https://anywhere.example"));
	assert_false(dg_config_cors_allows(&c, NULL));
	assert_true(dg_config_has_flag("cors-origins"));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Request ids: 16 lower-case hex digits each, and no two alike in a long run. */
static void rand_ids_hex_and_distinct(void **state)
{
	(void)state;
	enum { N = 200000 };
	uint64_t *seen = malloc(N * sizeof(*seen));
	assert_non_null(seen);
	assert_int_equal(dg_rand_init(), DG_OK);
	for (size_t i = 0; i < N; i++) {
		char id[17];
		memset(id, 'x', sizeof(id));
		dg_rand_id(id);
		assert_int_equal(strlen(id), 16);
		assert_int_equal(strspn(id, "0123456789abcdef"), 16);
		seen[i] = strtoull(id, NULL, 16);
	}
	qsort(seen, N, sizeof(*seen), cmp_u64);
	for (size_t i = 1; i < N; i++)
		assert_true(seen[i] != seen[i - 1]);
	free(seen);
}

/* dg_xgrow_zeroed: room for the index asked, zeros after what was there, kept as it was */
static void grow_zeroed_keeps_and_zeroes(void **state)
{
	(void)state;
	size_t n = 0;
	uint32_t *a = dg_xgrow_zeroed(NULL, &n, 0, sizeof *a);
	assert_int_equal(n, 1024);
	a[1023] = 7;
	uint32_t *same = dg_xgrow_zeroed(a, &n, 1023, sizeof *a);
	assert_ptr_equal(same, a);
	assert_int_equal(n, 1024);
	a = dg_xgrow_zeroed(a, &n, 5000, sizeof *a);
	assert_int_equal(n, 8192);
	assert_int_equal(a[1023], 7);
	for (size_t i = 1024; i < n; i++)
		assert_int_equal(a[i], 0);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(arena_alloc_and_cleanups),
		cmocka_unit_test(grow_zeroed_keeps_and_zeroes),
		cmocka_unit_test(buf_cap_refuses_and_keeps_content),
		cmocka_unit_test(buf_escapers),
		cmocka_unit_test(str_views),
		cmocka_unit_test(dates),
		cmocka_unit_test(working_days),
		cmocka_unit_test(config_flags_and_env),
		cmocka_unit_test(config_site_url_and_limits),
		cmocka_unit_test(config_cors_origins),
		cmocka_unit_test(rand_ids_hex_and_distinct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
