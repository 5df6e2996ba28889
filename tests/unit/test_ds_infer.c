/*
 * test_ds_infer.c - strict type inference and column naming for datastore
 * loads: codes with leading zeros and mixed columns stay text, negative
 * numbers are numbers, real calendar dates only, safe deduplicated names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "opendata/datastore/datastore_int.h"

/* Infer one column from a NULL-terminated list of values. */
static enum dg_ds_type infer(const char *const *vals)
{
	struct dg_ds_infer inf;
	dg_ds_infer_init(&inf, 1);
	for (size_t i = 0; vals[i]; i++) {
		char *f[1] = {(char *)vals[i]};
		size_t n[1] = {strlen(vals[i])};
		dg_ds_infer_add(&inf, 1, f, n);
	}
	enum dg_ds_type t = dg_ds_infer_type(&inf, 0);
	dg_ds_infer_release(&inf);
	return t;
}

static void types(void **state)
{
	(void)state;
	assert_int_equal(infer((const char *[]){"1", "-42", "0", "", NULL}), DG_DS_INT);
	assert_int_equal(infer((const char *[]){"1", "-2.5", "3.25", NULL}), DG_DS_NUMERIC);
	assert_int_equal(infer((const char *[]){"007", "010", NULL}), DG_DS_TEXT);
	assert_int_equal(infer((const char *[]){"1", "007", NULL}), DG_DS_TEXT);
	assert_int_equal(infer((const char *[]){"1", "abc", NULL}), DG_DS_TEXT);
	assert_int_equal(infer((const char *[]){"2024-02-29", "2023-12-31", NULL}), DG_DS_DATE);
	assert_int_equal(infer((const char *[]){"2023-02-29", NULL}), DG_DS_TEXT);
	assert_int_equal(infer((const char *[]){"2023-13-01", NULL}), DG_DS_TEXT);
	assert_int_equal(infer((const char *[]){"true", "FALSE", NULL}), DG_DS_BOOL);
	assert_int_equal(infer((const char *[]){"true", "1", NULL}), DG_DS_TEXT);
	assert_int_equal(infer((const char *[]){"", "", NULL}), DG_DS_TEXT);
	assert_int_equal(infer((const char *[]){"1.", NULL}), DG_DS_TEXT);
	assert_int_equal(infer((const char *[]){"+1", NULL}), DG_DS_TEXT);
	assert_int_equal(infer((const char *[]){"1e5", NULL}), DG_DS_TEXT);
	assert_int_equal(infer((const char *[]){"-", NULL}), DG_DS_TEXT);
	/* 19 digits may not fit an int64: numeric */
	assert_int_equal(infer((const char *[]){"1234567890123456789", NULL}), DG_DS_NUMERIC);
	/* an 18-digit ID-like code with a leading zero stays text */
	assert_int_equal(infer((const char *[]){"011010119900307123", NULL}), DG_DS_TEXT);
}

static void values_and_type_names(void **state)
{
	(void)state;
	enum dg_ds_type t;
	assert_true(dg_ds_value_ok(DG_DS_INT, "", 0));
	assert_true(dg_ds_value_ok(DG_DS_NUMERIC, "12", 2));
	assert_false(dg_ds_value_ok(DG_DS_INT, "1.5", 3));
	assert_false(dg_ds_value_ok(DG_DS_DATE, "2024-1-1", 8));
	assert_true(dg_ds_value_ok(DG_DS_TEXT, "anything", 8));
	assert_int_equal(dg_ds_type_parse("int4", &t), DG_OK);
	assert_int_equal(t, DG_DS_INT);
	assert_int_equal(dg_ds_type_parse("numeric", &t), DG_OK);
	assert_int_equal(t, DG_DS_NUMERIC);
	assert_int_equal(dg_ds_type_parse("varchar(10); drop", &t), DG_EINVAL);
	assert_string_equal(dg_ds_type_name(DG_DS_BOOL), "bool");
}

static void names(void **state)
{
	(void)state;
	const char *labels[] = {"Name", "name", "区划代码", "2024 Population", "a b--c ", "_id",
				"a",    "a",    "a_2",      "名称 (Name)"};
	size_t n = sizeof labels / sizeof labels[0];
	char out[10][DG_DS_NAME_MAX];
	dg_ds_names(n, (char *const *)labels, out);
	assert_string_equal(out[0], "name");
	assert_string_equal(out[1], "name_2");
	assert_string_equal(out[2], "col_3");
	assert_string_equal(out[3], "c_2024_population");
	assert_string_equal(out[4], "a_b_c");
	assert_string_equal(out[5], "id");
	assert_string_equal(out[6], "a");
	assert_string_equal(out[7], "a_2");
	assert_string_equal(out[8], "a_2_2");
	assert_string_equal(out[9], "name_3");
	for (size_t i = 0; i < n; i++)
		assert_true(dg_ds_name_ok(out[i]));
	assert_false(dg_ds_name_ok("_id"));
	assert_false(dg_ds_name_ok("a\"b"));
	assert_false(dg_ds_name_ok(""));
}

static void long_header_is_capped(void **state)
{
	(void)state;
	char longname[200];
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	char *labels[] = {longname, longname};
	char out[2][DG_DS_NAME_MAX];
	dg_ds_names(2, (char **)labels, out);
	assert_int_equal(strlen(out[0]), DG_DS_NAME_MAX - 1);
	assert_true(strlen(out[1]) < DG_DS_NAME_MAX);
	assert_string_not_equal(out[0], out[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(types),
		cmocka_unit_test(values_and_type_names),
		cmocka_unit_test(names),
		cmocka_unit_test(long_header_is_capped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
