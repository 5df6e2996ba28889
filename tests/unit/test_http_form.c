/*
 * test_http_form.c - the urlencoded parser: decoding, '+', empty values,
 * repeated keys, the caps, and refusal of bad escapes, NUL and invalid UTF-8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "http/form.h"

static dg_rc parse(const char *s, struct dg_arena *a, struct dg_kvs *out)
{
	memset(out, 0, sizeof(*out));
	return dg_form_parse(s, strlen(s), 100, 4096, a, out);
}

static void decodes_percent_and_plus(void **state)
{
	(void)state;
	struct dg_arena *a = dg_arena_new();
	struct dg_kvs kv;
	assert_int_equal(parse("name=%E5%BC%A0%E4%B8%89&msg=a+b%2Bc&x%20y=1", a, &kv), DG_OK);
	assert_int_equal(kv.n, 3);
	assert_string_equal(dg_kvs_get(&kv, "name"), "张三");
	assert_string_equal(dg_kvs_get(&kv, "msg"), "a b+c");
	assert_int_equal(kv.v[1].len, 5);
	assert_string_equal(dg_kvs_get(&kv, "x y"), "1");
	dg_arena_free(a);
}

static void empty_values_and_segments(void **state)
{
	(void)state;
	struct dg_arena *a = dg_arena_new();
	struct dg_kvs kv;
	assert_int_equal(parse("a=&b&&c=3&=skipped&", a, &kv), DG_OK);
	assert_int_equal(kv.n, 3);
	assert_string_equal(dg_kvs_get(&kv, "a"), "");
	assert_string_equal(dg_kvs_get(&kv, "b"), "");
	assert_string_equal(dg_kvs_get(&kv, "c"), "3");
	assert_null(dg_kvs_get(&kv, ""));
	assert_int_equal(parse("", a, &kv), DG_OK);
	assert_int_equal(kv.n, 0);
	/* only the first '=' splits */
	assert_int_equal(parse("q=a=b", a, &kv), DG_OK);
	assert_string_equal(dg_kvs_get(&kv, "q"), "a=b");
	dg_arena_free(a);
}

static void repeated_keys_keep_order(void **state)
{
	(void)state;
	struct dg_arena *a = dg_arena_new();
	struct dg_kvs kv;
	assert_int_equal(parse("t=1&t=2&u=0&t=3", a, &kv), DG_OK);
	assert_int_equal(kv.n, 4);
	assert_string_equal(dg_kvs_get(&kv, "t"), "1");
	assert_string_equal(kv.v[1].val, "2");
	assert_string_equal(kv.v[3].val, "3");
	dg_arena_free(a);
}

static void caps(void **state)
{
	(void)state;
	struct dg_arena *a = dg_arena_new();
	struct dg_kvs kv = {0};
	const char *three = "a=1&b=2&c=3";
	assert_int_equal(dg_form_parse(three, strlen(three), 3, 100, a, &kv), DG_OK);
	memset(&kv, 0, sizeof(kv));
	assert_int_equal(dg_form_parse(three, strlen(three), 2, 100, a, &kv), DG_ETOOBIG);
	memset(&kv, 0, sizeof(kv));
	assert_int_equal(dg_form_parse(three, strlen(three), 10, 10, a, &kv), DG_ETOOBIG);
	memset(&kv, 0, sizeof(kv));
	assert_int_equal(dg_form_parse(three, strlen(three), 10, 11, a, &kv), DG_OK);
	/* not NUL-terminated input: only n bytes are read */
	memset(&kv, 0, sizeof(kv));
	assert_int_equal(dg_form_parse("a=12345", 3, 10, 100, a, &kv), DG_OK);
	assert_string_equal(dg_kvs_get(&kv, "a"), "1");
	dg_arena_free(a);
}

static void refuses_bad_input(void **state)
{
	(void)state;
	struct dg_arena *a = dg_arena_new();
	struct dg_kvs kv;
	assert_int_equal(parse("a=%zz", a, &kv), DG_EINVAL);
	assert_int_equal(parse("a=%4", a, &kv), DG_EINVAL);
	assert_int_equal(parse("a=%", a, &kv), DG_EINVAL);
	assert_int_equal(parse("a=%00", a, &kv), DG_EINVAL);
	assert_int_equal(parse("a%00=1", a, &kv), DG_EINVAL);
	assert_int_equal(parse("a=%FF", a, &kv), DG_EINVAL);
	assert_int_equal(parse("a=%C3%28", a, &kv), DG_EINVAL);    /* bad continuation */
	assert_int_equal(parse("a=%ED%A0%80", a, &kv), DG_EINVAL); /* a surrogate */
	assert_int_equal(parse("a=%C0%AF", a, &kv), DG_EINVAL);    /* overlong '/' */
	assert_int_equal(parse("a=\xff", a, &kv), DG_EINVAL);      /* raw bad byte */
	assert_int_equal(parse("ok=%e4%b8%ad", a, &kv), DG_OK);    /* lower-case hex is fine */
	assert_string_equal(dg_kvs_get(&kv, "ok"), "中");
	dg_arena_free(a);
}

static void decode_without_plus(void **state)
{
	(void)state;
	struct dg_arena *a = dg_arena_new();
	char *s = NULL;
	size_t n = 0;
	assert_int_equal(dg_form_decode("a+b%20c", 7, 0, a, &s, &n), DG_OK);
	assert_string_equal(s, "a+b c");
	assert_int_equal(n, 5);
	dg_arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decodes_percent_and_plus),
		cmocka_unit_test(empty_values_and_segments),
		cmocka_unit_test(repeated_keys_keep_order),
		cmocka_unit_test(caps),
		cmocka_unit_test(refuses_bad_input),
		cmocka_unit_test(decode_without_plus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
