/*
 * test_csv.c - the streaming CSV reader over the edge cases
 * government files really have (tests/data/csv): BOM and CRLF, GBK, quoted
 * newlines and doubled quotes, ragged rows, duplicate names, header-only and
 * empty files, a 10 MB field, and the field and column caps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/csv.h"

/* Read every record of fp into "a|b|c\n" lines; returns the final rc. */
static dg_rc slurp(FILE *fp, char *out, size_t cap, struct dg_err *err, bool *gb)
{
	struct dg_csv *c = NULL;
	struct dg_csv_row row;
	dg_rc rc = dg_csv_open(fp, 0, 0, &c, err);
	size_t len = 0;
	out[0] = '\0';
	if (rc != DG_OK)
		return rc;
	while ((rc = dg_csv_next(c, &row, err)) == DG_OK) {
		for (size_t i = 0; i < row.ncols; i++) {
			int w = snprintf(out + len, cap - len, "%s%s", i ? "|" : "", row.f[i]);
			assert_true(w >= 0 && (size_t)w < cap - len);
			len += (size_t)w;
		}
		int w = snprintf(out + len, cap - len, "@%ld\n", row.line);
		assert_true(w >= 0 && (size_t)w < cap - len);
		len += (size_t)w;
	}
	if (gb)
		*gb = dg_csv_is_gb18030(c);
	dg_csv_free(c);
	return rc;
}

static dg_rc slurp_file(const char *name, char *out, size_t cap, struct dg_err *err, bool *gb)
{
	char path[256];
	snprintf(path, sizeof path, "tests/data/csv/%s", name);
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	dg_rc rc = slurp(fp, out, cap, err, gb);
	fclose(fp);
	return rc;
}

static dg_rc slurp_str(const char *s, char *out, size_t cap, struct dg_err *err)
{
	FILE *fp = fmemopen((void *)s, strlen(s), "rb");
	assert_non_null(fp);
	dg_rc rc = slurp(fp, out, cap, err, NULL);
	fclose(fp);
	return rc;
}

static void bom_crlf_and_quotes(void **state)
{
	(void)state;
	char out[1024];
	struct dg_err err = {0};
	bool gb = true;
	assert_int_equal(slurp_file("bom_crlf.csv", out, sizeof out, &err, &gb), DG_ENOTFOUND);
	assert_false(gb);
	assert_string_equal(out, "编码|名称|人口@1\n007|杭州市|12204000@2\n"
				 "010|宁波市, 浙江|9618000@3\n");
}

static void gbk_is_decoded(void **state)
{
	(void)state;
	char out[1024];
	struct dg_err err = {0};
	bool gb = false;
	assert_int_equal(slurp_file("gbk.csv", out, sizeof out, &err, &gb), DG_ENOTFOUND);
	assert_true(gb);
	assert_string_equal(out, "区划代码|名称|人口@1\n330100|杭州市|12204000@2\n"
				 "330200|宁波市|9618000@3\n");
}

static void quoted_newlines_keep_line_numbers(void **state)
{
	(void)state;
	char out[1024];
	struct dg_err err = {0};
	assert_int_equal(slurp_file("quoted_newline.csv", out, sizeof out, &err, NULL),
			 DG_ENOTFOUND);
	assert_string_equal(out, "编号|名称|备注@1\n1|多行\n文本|他说\"好\"@2\n2|单行|@4\n");
}

static void ragged_duplicate_header_only_empty(void **state)
{
	(void)state;
	char out[1024];
	struct dg_err err = {0};
	/* the reader hands ragged records over as they are; the loader reports them */
	assert_int_equal(slurp_file("ragged.csv", out, sizeof out, &err, NULL), DG_ENOTFOUND);
	assert_string_equal(out, "a|b|c@1\n1|2|3@2\n4|5@3\n6|7|8|9@4\n");
	assert_int_equal(slurp_file("duplicate_names.csv", out, sizeof out, &err, NULL),
			 DG_ENOTFOUND);
	assert_string_equal(out, "a|a|名称|a@1\n1|2|3|4@2\n");
	assert_int_equal(slurp_file("header_only.csv", out, sizeof out, &err, NULL), DG_ENOTFOUND);
	assert_string_equal(out, "a|b|c@1\n");
	assert_int_equal(slurp_file("empty.csv", out, sizeof out, &err, NULL), DG_ENOTFOUND);
	assert_string_equal(out, "");
}

static void malformed_input_is_reported(void **state)
{
	(void)state;
	char out[1024];
	struct dg_err err = {0};
	assert_int_equal(slurp_file("bad_quote.csv", out, sizeof out, &err, NULL), DG_EINVAL);
	assert_non_null(strstr(err.msg, "Line 2, column 1"));
	memset(&err, 0, sizeof err);
	assert_int_equal(slurp_str("a,b\n1,\"open\n2,3\n", out, sizeof out, &err), DG_EINVAL);
	assert_non_null(strstr(err.msg, "Line 2"));
	/* blank lines and a missing final newline */
	assert_int_equal(slurp_str("a,b\n\n\n1,2", out, sizeof out, &err), DG_ENOTFOUND);
	assert_string_equal(out, "a|b@1\n1|2@4\n");
	/* empty quoted fields and trailing commas */
	assert_int_equal(slurp_str("\"\",x,\n", out, sizeof out, &err), DG_ENOTFOUND);
	assert_string_equal(out, "|x|@1\n");
}

static void big_field_and_caps(void **state)
{
	(void)state;
	size_t big = 10u << 20;
	char *s = malloc(big + 32);
	assert_non_null(s);
	memcpy(s, "a,b\n1,\"", 7);
	memset(s + 7, 'x', big);
	memcpy(s + 7 + big, "\"\n", 3);
	FILE *fp = fmemopen(s, 7 + big + 2, "rb");
	struct dg_csv *c = NULL;
	struct dg_csv_row row;
	struct dg_err err = {0};
	assert_int_equal(dg_csv_open(fp, 0, 0, &c, &err), DG_OK);
	assert_int_equal(dg_csv_next(c, &row, &err), DG_OK);
	assert_int_equal(dg_csv_next(c, &row, &err), DG_OK);
	assert_int_equal(row.ncols, 2);
	assert_int_equal(row.n[1], big);
	assert_int_equal(dg_csv_next(c, &row, &err), DG_ENOTFOUND);
	dg_csv_free(c);
	fclose(fp);

	/* the same file with a 1 MiB field cap */
	fp = fmemopen(s, 7 + big + 2, "rb");
	assert_int_equal(dg_csv_open(fp, 1u << 20, 0, &c, &err), DG_OK);
	assert_int_equal(dg_csv_next(c, &row, &err), DG_OK);
	assert_int_equal(dg_csv_next(c, &row, &err), DG_ETOOBIG);
	assert_non_null(strstr(err.msg, "Line 2, column 2"));
	dg_csv_free(c);
	fclose(fp);
	free(s);

	/* a column cap of 3 */
	const char *wide = "a,b,c,d\n";
	fp = fmemopen((void *)wide, strlen(wide), "rb");
	assert_int_equal(dg_csv_open(fp, 0, 3, &c, &err), DG_OK);
	assert_int_equal(dg_csv_next(c, &row, &err), DG_ETOOBIG);
	assert_non_null(strstr(err.msg, "more than 3 columns"));
	dg_csv_free(c);
	fclose(fp);
}

static void invalid_utf8_after_the_sniffed_chunk(void **state)
{
	(void)state;
	/* 70 KiB of ASCII, then a lone 0xFF: the sniff passed, the field check catches it */
	size_t pad = 70u << 10;
	char *s = malloc(pad + 16);
	assert_non_null(s);
	for (size_t i = 0; i < pad; i++)
		s[i] = (i % 10 == 9) ? '\n' : 'a';
	memcpy(s + pad, "b\xff\n", 3);
	FILE *fp = fmemopen(s, pad + 3, "rb");
	char *out = malloc(pad * 2);
	struct dg_err err = {0};
	assert_int_equal(slurp(fp, out, pad * 2, &err, NULL), DG_EINVAL);
	assert_non_null(strstr(err.msg, "not valid UTF-8"));
	fclose(fp);
	free(out);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bom_crlf_and_quotes),
		cmocka_unit_test(gbk_is_decoded),
		cmocka_unit_test(quoted_newlines_keep_line_numbers),
		cmocka_unit_test(ragged_duplicate_header_only_empty),
		cmocka_unit_test(malformed_input_is_reported),
		cmocka_unit_test(big_field_and_caps),
		cmocka_unit_test(invalid_utf8_after_the_sniffed_chunk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
