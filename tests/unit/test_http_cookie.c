/*
 * test_http_cookie.c - the Cookie header parser (quoted values, spaces,
 * duplicates, malformed pairs skipped, the count cap) and Set-Cookie
 * formatting (attributes, refusal of values that could split a header).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "http/cookie.h"

static void basic_and_spaces(void **state)
{
	(void)state;
	struct dg_arena *a = dg_arena_new();
	struct dg_kvs kv = {0};
	dg_cookie_parse("  dg_session=abc123 ;lang=en;   elder=1  ", 64, a, &kv);
	assert_int_equal(kv.n, 3);
	assert_string_equal(dg_kvs_get(&kv, "dg_session"), "abc123");
	assert_string_equal(dg_kvs_get(&kv, "lang"), "en");
	assert_string_equal(dg_kvs_get(&kv, "elder"), "1");
	memset(&kv, 0, sizeof(kv));
	dg_cookie_parse(NULL, 64, a, &kv);
	dg_cookie_parse("", 64, a, &kv);
	assert_int_equal(kv.n, 0);
	dg_arena_free(a);
}

static void quoted_values(void **state)
{
	(void)state;
	struct dg_arena *a = dg_arena_new();
	struct dg_kvs kv = {0};
	dg_cookie_parse("a=\"quoted\"; b=\"\"; c=\"half", 64, a, &kv);
	assert_string_equal(dg_kvs_get(&kv, "a"), "quoted");
	assert_string_equal(dg_kvs_get(&kv, "b"), "");
	assert_null(dg_kvs_get(&kv, "c")); /* a lone quote is not a cookie-octet */
	dg_arena_free(a);
}

static void duplicates_first_wins(void **state)
{
	(void)state;
	struct dg_arena *a = dg_arena_new();
	struct dg_kvs kv = {0};
	dg_cookie_parse("lang=zh; lang=en", 64, a, &kv);
	assert_int_equal(kv.n, 2);
	assert_string_equal(dg_kvs_get(&kv, "lang"), "zh");
	assert_string_equal(kv.v[1].val, "en");
	dg_arena_free(a);
}

static void malformed_pairs_skipped(void **state)
{
	(void)state;
	struct dg_arena *a = dg_arena_new();
	struct dg_kvs kv = {0};
	dg_cookie_parse("novalue; =empty; bad name=1; x=a\\b; y=a,b; ok=1; t=\x01; "
			"u=\xff\xfe; v=中文; w=a b",
			64, a, &kv);
	assert_int_equal(kv.n, 2);
	assert_string_equal(dg_kvs_get(&kv, "ok"), "1");
	assert_string_equal(dg_kvs_get(&kv, "v"), "中文");
	assert_null(dg_kvs_get(&kv, "novalue"));
	assert_null(dg_kvs_get(&kv, "w"));
	dg_arena_free(a);
}

static void count_cap(void **state)
{
	(void)state;
	struct dg_arena *a = dg_arena_new();
	struct dg_kvs kv = {0};
	dg_cookie_parse("a=1; b=2; c=3; d=4", 2, a, &kv);
	assert_int_equal(kv.n, 2);
	assert_null(dg_kvs_get(&kv, "c"));
	dg_arena_free(a);
}

static void formatting(void **state)
{
	(void)state;
	struct dg_buf b;
	dg_buf_init(&b, 4096);
	assert_int_equal(dg_cookie_format(&b, "dg_session", "abc", -1, true, false), DG_OK);
	assert_string_equal(dg_buf_str(&b), "dg_session=abc; Path=/; SameSite=Lax; HttpOnly");
	dg_buf_reset(&b);
	assert_int_equal(dg_cookie_format(&b, "lang", "en", 31536000, false, true), DG_OK);
	assert_string_equal(dg_buf_str(&b),
			    "lang=en; Path=/; SameSite=Lax; Max-Age=31536000; Secure");
	dg_buf_reset(&b);
	assert_int_equal(dg_cookie_format(&b, "gone", "", 0, true, false), DG_OK);
	assert_string_equal(dg_buf_str(&b), "gone=; Path=/; SameSite=Lax; Max-Age=0; HttpOnly");
	dg_buf_reset(&b);
	assert_int_equal(dg_cookie_format(&b, "x", "a;b", -1, false, false), DG_EINVAL);
	assert_int_equal(dg_cookie_format(&b, "x", "a\r\nSet-Cookie: y=1", -1, false, false),
			 DG_EINVAL);
	assert_int_equal(dg_cookie_format(&b, "a b", "1", -1, false, false), DG_EINVAL);
	assert_int_equal(dg_cookie_format(&b, "", "1", -1, false, false), DG_EINVAL);
	assert_int_equal(b.len, 0);
	dg_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(basic_and_spaces),
		cmocka_unit_test(quoted_values),
		cmocka_unit_test(duplicates_first_wins),
		cmocka_unit_test(malformed_pairs_skipped),
		cmocka_unit_test(count_cap),
		cmocka_unit_test(formatting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
