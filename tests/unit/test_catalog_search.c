/*
 * test_catalog_search.c - the catalogue's search tokenizer: CJK bigrams,
 * lone CJK characters, lower-cased Latin words, punctuation and query
 * metacharacters dropped, invalid UTF-8 and the output cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "catalog/internal.h"

static void tok(const char *in, const char *want)
{
	struct dg_buf b;
	dg_buf_init(&b, 4096);
	assert_int_equal(cat_tokens(in, &b), DG_OK);
	assert_string_equal(dg_buf_str(&b), want);
	dg_buf_release(&b);
}

static void bigrams(void **state)
{
	(void)state;
	tok("社会保险", " 社会 会保 保险 ");
	tok("社保", " 社保 ");
	tok("证", " 证 ");
	tok("", " ");
}

static void latin_and_mixed(void **state)
{
	(void)state;
	tok("Marriage Registration", " marriage registration ");
	tok("ID卡2026", " id 卡 2026 ");
	tok("领结婚证 marriage", " 领结 结婚 婚证 marriage ");
}

static void metacharacters_dropped(void **state)
{
	(void)state;
	tok("\"社保\"*", " 社保 ");
	tok("' OR 1=1 --", " or 1 1 ");
	tok("%_\\", " ");
	tok("a\xff" "b", " a b "); /* invalid UTF-8 separates */
	tok("（社保）、医保", " 社保 医保 ");
}

static void capped(void **state)
{
	(void)state;
	struct dg_buf b;
	char big[3000];
	for (size_t i = 0; i + 3 < sizeof(big); i += 3)
		memcpy(big + i, "社", 3);
	big[sizeof(big) - 3] = 0;
	dg_buf_init(&b, 256);
	assert_int_equal(cat_tokens(big, &b), DG_ETOOBIG);
	dg_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bigrams),
		cmocka_unit_test(latin_and_mixed),
		cmocka_unit_test(metacharacters_dropped),
		cmocka_unit_test(capped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
