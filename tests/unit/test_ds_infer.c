/*
 * test_ds_infer.c - strict type inference and column naming for datastore
 * loads: codes with leading zeros and mixed columns stay text, negative
 * numbers are numbers, real calendar dates only (and timestamps, stored in
 * one form), safe deduplicated names for loads and CKAN's rules for the
 * names datastore_create is given.
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
	assert_true(dg_ds_value_ok(DG_DS_DATE, "2024-1-1", 8));
	assert_false(dg_ds_value_ok(DG_DS_DATE, "2024-1/1", 8));
	assert_false(dg_ds_value_ok(DG_DS_DATE, "2024-100-1", 10));
	assert_true(dg_ds_value_ok(DG_DS_JSON, "{\"a\": [1, null]}", 16));
	assert_true(dg_ds_value_ok(DG_DS_JSON, "\"x\"", 3));
	assert_false(dg_ds_value_ok(DG_DS_JSON, "{a}", 3));
	assert_true(dg_ds_value_ok(DG_DS_TEXT, "anything", 8));
	assert_int_equal(dg_ds_type_parse("int4", &t), DG_OK);
	assert_int_equal(t, DG_DS_INT);
	assert_int_equal(dg_ds_type_parse("numeric", &t), DG_OK);
	assert_int_equal(t, DG_DS_NUMERIC);
	assert_int_equal(dg_ds_type_parse("varchar(10); drop", &t), DG_EINVAL);
	assert_string_equal(dg_ds_type_name(DG_DS_BOOL), "bool");
	assert_int_equal(dg_ds_type_parse("timestamp", &t), DG_OK);
	assert_string_equal(dg_ds_type_name(t), "timestamp");
	assert_int_equal(dg_ds_type_parse("json", &t), DG_OK);
	assert_string_equal(dg_ds_type_name(t), "json");
	/* arrays, by CKAN's names and PostgreSQL's */
	assert_int_equal(dg_ds_type_parse("text[]", &t), DG_OK);
	assert_string_equal(dg_ds_type_name(t), "_text");
	assert_int_equal(dg_ds_type_parse("_int4", &t), DG_OK);
	assert_string_equal(dg_ds_type_name(t), "_int8");
	assert_int_equal(dg_ds_type_parse("float8[]", &t), DG_OK);
	assert_string_equal(dg_ds_type_name(t), "_numeric");
	assert_int_equal(dg_ds_type_parse("_date", &t), DG_EINVAL);
	assert_true(dg_ds_value_ok(DG_DS_INT_ARRAY, "[1, null, -3]", 13));
	assert_false(dg_ds_value_ok(DG_DS_INT_ARRAY, "[1.5]", 5));
	assert_false(dg_ds_value_ok(DG_DS_TEXT_ARRAY, "\"a\"", 3));
	assert_true(dg_ds_value_ok(DG_DS_TEXT_ARRAY, "[\"a\"]", 5));
}

static void dates_and_timestamps(void **state)
{
	(void)state;
	char buf[DG_DS_NORM_MAX];
	/* dates as tables write them */
	assert_int_equal(infer((const char *[]){"2024/1/5", "2024/12/31", NULL}), DG_DS_DATE);
	assert_int_equal(infer((const char *[]){"2024-1-5", "2024-02-29", NULL}), DG_DS_DATE);
	assert_int_equal(infer((const char *[]){"2023/2/29", NULL}), DG_DS_TEXT);
	assert_int_equal(infer((const char *[]){"2024/01-05", NULL}), DG_DS_TEXT);
	assert_int_equal(infer((const char *[]){"2024/1/5/6", NULL}), DG_DS_TEXT);
	/* with times of day: timestamps, and so is a column mixing the two */
	assert_int_equal(
		infer((const char *[]){"2024-01-05 08:30", "2024-01-05T23:59:59.123456", NULL}),
		DG_DS_TIMESTAMP);
	assert_int_equal(infer((const char *[]){"2024-01-05", "2024-01-06 12:00:00", NULL}),
			 DG_DS_TIMESTAMP);
	assert_int_equal(infer((const char *[]){"2024-01-05 24:00", NULL}), DG_DS_TEXT);
	assert_int_equal(infer((const char *[]){"2024-01-05 12:00:00Z", NULL}), DG_DS_TEXT);
	assert_int_equal(infer((const char *[]){"2024-01-05 12:00:00.1234567", NULL}), DG_DS_TEXT);
	assert_int_equal(infer((const char *[]){"2024-01-05 12:00:", NULL}), DG_DS_TEXT);
	/* stored in one form on both stores */
	assert_string_equal(dg_ds_value_norm(DG_DS_DATE, "2024/1/5", 8, buf), "2024-01-05");
	const char *same = "2024-01-05";
	assert_ptr_equal(dg_ds_value_norm(DG_DS_DATE, same, 10, buf), same);
	assert_string_equal(dg_ds_value_norm(DG_DS_TIMESTAMP, "2024/1/5 8:30", 13, buf),
			    "2024/1/5 8:30"); /* not a time: left as it is (and refused) */
	assert_string_equal(dg_ds_value_norm(DG_DS_TIMESTAMP, "2024/1/5 08:30", 14, buf),
			    "2024-01-05T08:30:00");
	assert_string_equal(dg_ds_value_norm(DG_DS_TIMESTAMP, "2024-01-05", 10, buf),
			    "2024-01-05T00:00:00");
	assert_string_equal(dg_ds_value_norm(DG_DS_TIMESTAMP, "2024-01-05 10:00:00.500", 23, buf),
			    "2024-01-05T10:00:00.5");
	assert_string_equal(dg_ds_value_norm(DG_DS_TIMESTAMP, "2024-01-05T10:00:00.000", 23, buf),
			    "2024-01-05T10:00:00");
	assert_string_equal(dg_ds_value_norm(DG_DS_TEXT, "2024/1/5", 8, buf), "2024/1/5");
}

static void names(void **state)
{
	(void)state;
	/* "e\u0301" (e and a combining acute) is kept as NFC's one "\u00e9" */
	const char *labels[] = {"Name", "name", "区划代码", "2024 Population", " a b--c ",    "_id",
				"a",    "a",    "a_2",      "名称 (Name)",     "cafe\xcc\x81"};
	size_t n = sizeof labels / sizeof labels[0];
	char out[11][DG_DS_NAME_MAX];
	dg_ds_names(n, (char *const *)labels, out);
	/* the header itself, as CKAN's loaders keep it, where datastore_create would take it */
	assert_string_equal(out[0], "Name");
	assert_string_equal(out[1], "name_2"); /* "name" is "Name" to SQLite */
	assert_string_equal(out[2], "区划代码");
	assert_string_equal(out[3], "2024 Population");
	assert_string_equal(out[4], "a b--c"); /* the blanks around it go */
	assert_string_equal(out[5], "id");     /* "_" starts the DataStore's own columns */
	assert_string_equal(out[6], "a");
	assert_string_equal(out[7], "a_2");
	assert_string_equal(out[8], "a_2_2");
	assert_string_equal(out[9], "名称 (Name)");
	assert_string_equal(out[10], "caf\xc3\xa9");
	for (size_t i = 0; i < n; i++)
		assert_null(dg_ds_name_problem(out[i], strlen(out[i])));
}

/* Names datastore_create takes, as CKAN's is_valid_field_name, within 63 bytes. */
static void ckan_names(void **state)
{
	(void)state;
	static const char *const good[] = {"人口 数",       "Café au lait", "a-b.c",
					   "名称(单位:万)", "x_",           "Ünïcödé 名"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		if (dg_ds_name_problem(good[i], strlen(good[i])))
			fail_msg("\"%s\": %s", good[i],
				 dg_ds_name_problem(good[i], strlen(good[i])));
	static const struct {
		const char *name;
		size_t n;
		const char *why;
	} bad[] = {
		{"", 0, "empty"},
		{"_id", 3, "starts with _"},
		{"a\"b", 3, "double quote"},
		{"a\0b", 3, "control character"},
		{"a\nb", 3, "control character"},
		{"a\xc2\x85", 3, "control character"}, /* U+0085 */
		{"a\xe2\x80\x8b"
		 "b",
		 5, "control character"}, /* U+200B, zero width */
		{"\xef\xbb\xbf"
		 "a",
		 4, "control character"}, /* a byte order mark */
		{" a", 2, "starts with a space"},
		{"a ", 2, "ends with a space"},
		{"\xe3\x80\x80名", 6, "starts with a space"}, /* U+3000 */
		{"a,b", 3, "comma"},
		{"\xff", 1, "not UTF-8"},
		{"\xe4\xba", 2, "not UTF-8"},
		{"一二三四五六七八九十一二三四五六七八九十一二", 66, "over 63 bytes"},
		{"cafe\xcc\x81", 6, "NFC"}, /* e and a combining acute: é composed is NFC */
		{"\xe1\x84\x80\xe1\x85\xa1", 6, "NFC"}, /* conjoining jamo: the syllable 가 */
		{"\xe2\x84\xab", 3, "NFC"},             /* the Angstrom sign: Å is its NFC */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *why = dg_ds_name_problem(bad[i].name, bad[i].n);
		if (!why || !strstr(why, bad[i].why))
			fail_msg("case %zu: %s", i, why ? why : "accepted");
	}
	/* 21 Chinese characters are 63 bytes: the most */
	assert_null(dg_ds_name_problem("一二三四五六七八九十一二三四五六七八九十一",
				       strlen("一二三四五六七八九十一二三四五六七八九十一")));
	assert_true(dg_ds_name_same("Code", "code"));
	assert_false(dg_ds_name_same("名称", "名稱"));
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
		cmocka_unit_test(dates_and_timestamps),
		cmocka_unit_test(names),
		cmocka_unit_test(ckan_names),
		cmocka_unit_test(long_header_is_capped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
