/*
 * test_solr.c - the Solr query subset (src/opendata/solr.c): queries as
 * clients send them and the tree each must give (in dg_solr_print's form),
 * the queries that must be refused with a message, the caps, dates, and the
 * compiled SQL: values only ever as '?' parameters, fields from the schema.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "opendata/catalog/catalog_int.h"
#include "opendata/catalog/solr.h"

static void expect_tree(const char *q, const char *want)
{
	struct dg_arena *a = dg_arena_new();
	struct dg_solr_node *n = NULL;
	struct dg_err err = {0};
	dg_rc rc = dg_solr_parse(q, a, &n, &err);
	if (rc)
		fail_msg("%s: %s", q, err.msg);
	struct dg_buf b;
	dg_buf_init(&b, 0);
	assert_int_equal(dg_solr_print(n, &b), DG_OK);
	if (strcmp(dg_buf_str(&b), want) != 0)
		fail_msg("%s:\n got  %s\n want %s", q, dg_buf_str(&b), want);
	dg_buf_release(&b);
	dg_arena_free(a);
}

static void parses(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{"", "*:*"},
		{"   ", "*:*"},
		{"*:*", "*:*"},
		{"water", "\"water\""},
		{"water quality", "(AND \"water\" \"quality\")"},
		{"employment-statistics", "\"employment-statistics\""},
		{"tags:economy", "tags:\"economy\""},
		{"title:\"air quality\"", "title:\"air quality\""},
		{"tags:\"a \\\"b\\\"\"", "tags:\"a \\\"b\\\"\""},
		{"name:a\\:b", "name:\"a:b\""},
		{"-organization:x", "(NOT organization:\"x\")"},
		{"+tags:a -tags:b", "(AND tags:\"a\" (NOT tags:\"b\"))"},
		{"NOT tags:a", "(NOT tags:\"a\")"},
		{"!tags:a", "(NOT tags:\"a\")"},
		{"a AND b OR c", "(OR (AND \"a\" \"b\") \"c\")"},
		{"a && b || c", "(OR (AND \"a\" \"b\") \"c\")"},
		{"a OR b AND c", "(OR \"a\" (AND \"b\" \"c\"))"},
		/* the harvester's fq: side by side is looser than OR */
		{"organization:a OR organization:b metadata_modified:[2024-01-01T00:00:00Z TO *]",
		 "(AND (OR organization:\"a\" organization:\"b\") "
		 "metadata_modified:[\"2024-01-01T00:00:00Z\" TO *])"},
		{"(a OR b) c", "(AND (OR \"a\" \"b\") \"c\")"},
		{"tags:(a OR b)", "(OR tags:\"a\" tags:\"b\")"},
		{"tags:(a title:b)", "(AND tags:\"a\" title:\"b\")"},
		{"num_resources:[1 TO 3}", "num_resources:[\"1\" TO \"3\"}"},
		{"num_resources:{* TO 3]", "num_resources:{* TO \"3\"]"},
		{"metadata_modified:[NOW-7DAYS TO NOW]",
		 "metadata_modified:[\"NOW-7DAYS\" TO \"NOW\"]"},
		{"title:water^2 notes:air", "(AND title:\"water\" notes:\"air\")"},
		{"and or not", "(AND \"and\" \"or\" \"not\")"},
		{"a-b+c", "\"a-b+c\""},
		{"x:y AND NOT (z OR -w)", "(AND x:\"y\" (NOT (OR \"z\" (NOT \"w\"))))"},
		{"养老 服务", "(AND \"养老\" \"服务\")"},
		{"\\*", "\"*\""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		expect_tree(cases[i][0], cases[i][1]);
}

static void refuses(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"(",
		")",
		"a)",
		"(a",
		"tags:",
		"tags:(",
		"AND",
		"a OR",
		"NOT",
		"\"open",
		"water*",
		"wat?r",
		"tags:econ*",
		"name:a~2",
		"{!lucene}x",
		"num_resources:[1 TO",
		"num_resources:[1 3]",
		"[1 TO 2]",
		"*:x",
		"a*:b",
		"- a",
		"a +",
		"x:y AND",
		"title:()",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct dg_arena *a = dg_arena_new();
		struct dg_solr_node *n = NULL;
		struct dg_err err = {0};
		if (dg_solr_parse(bad[i], a, &n, &err) == DG_OK)
			fail_msg("%s parsed", bad[i]);
		assert_true(err.msg[0] != '\0');
		assert_null(n);
		dg_arena_free(a);
	}
}

static void caps(void **state)
{
	(void)state;
	struct dg_arena *a = dg_arena_new();
	struct dg_solr_node *n = NULL;
	struct dg_err err = {0};
	char q[DG_SOLR_MAX_LEN + 2];
	memset(q, 'a', sizeof q - 1);
	q[sizeof q - 1] = '\0';
	assert_int_equal(dg_solr_parse(q, a, &n, &err), DG_ETOOBIG);
	/* nesting: 16 levels are fine, 17 are not */
	char deep[128] = "";
	memset(deep, '(', 16);
	deep[16] = 'a';
	memset(deep + 17, ')', 16);
	assert_int_equal(dg_solr_parse(deep, a, &n, &err), DG_OK);
	char deeper[sizeof deep + 2];
	snprintf(deeper, sizeof deeper, "(%s)", deep);
	assert_int_equal(dg_solr_parse(deeper, a, &n, &err), DG_EINVAL);
	assert_non_null(strstr(err.msg, "nests"));
	char nots[256] = "";
	for (int i = 0; i < 20; i++)
		memcpy(nots + 4 * i, "NOT ", 4);
	nots[80] = 'a';
	assert_int_equal(dg_solr_parse(nots, a, &n, &err), DG_EINVAL);
	/* clauses */
	char many[1024] = "";
	for (int i = 0; i < DG_SOLR_MAX_CLAUSES + 1; i++)
		memcpy(many + 2 * i, "a ", 2);
	assert_int_equal(dg_solr_parse(many, a, &n, &err), DG_EINVAL);
	assert_int_equal(dg_solr_parse("\xff", a, &n, &err), DG_EINVAL);
	dg_arena_free(a);
}

static void dates(void **state)
{
	(void)state;
	int64_t ms = 0, now = 1700000000000; /* 2023-11-14T22:13:20Z */
	assert_int_equal(dg_solr_date("2024-01-01T00:00:00Z", now, &ms), DG_OK);
	assert_int_equal(ms, 1704067200000);
	assert_int_equal(dg_solr_date("2024-01-01", now, &ms), DG_OK);
	assert_int_equal(ms, 1704067200000);
	assert_int_equal(dg_solr_date("2024-01-01T08:30:15.250Z", now, &ms), DG_OK);
	assert_int_equal(ms, 1704067200000 + (8 * 3600 + 30 * 60 + 15) * 1000 + 250);
	assert_int_equal(dg_solr_date("NOW", now, &ms), DG_OK);
	assert_int_equal(ms, now);
	assert_int_equal(dg_solr_date("NOW-7DAYS", now, &ms), DG_OK);
	assert_int_equal(ms, now - 7 * 86400000LL);
	assert_int_equal(dg_solr_date("NOW+1HOUR-1MINUTE", now, &ms), DG_OK);
	assert_int_equal(ms, now + 3540000);
	assert_int_equal(dg_solr_date("NOW-1MONTH", now, &ms), DG_OK); /* 2023-10-14T22:13:20Z */
	assert_int_equal(ms, 1697321600000);
	assert_int_equal(dg_solr_date("NOW-1YEAR", now, &ms), DG_OK);
	assert_int_equal(ms, 1668464000000);
	static const char *const bad[] = {"2024-02-30",
					  "2024-1-1",
					  "2024-01-01T25:00:00Z",
					  "NOW-",
					  "NOW-7",
					  "NOW-7FORTNIGHTS",
					  "NOW/DAY",
					  "NOW-999999YEARS-999999YEARS-999999YEARS-999999YEARS",
					  "yesterday",
					  "2024-01-01X"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (dg_solr_date(bad[i], now, &ms) == DG_OK)
			fail_msg("%s accepted", bad[i]);
}

static const char *compile(struct dg_arena *a, const char *q, struct dg_solr_sql **sp,
			   struct dg_err *err)
{
	struct dg_solr_node *n = NULL;
	struct dg_solr_sql *s = *sp = dg_solr_sql_new(a);
	if (dg_solr_parse(q, a, &n, err) != DG_OK)
		return NULL;
	if (dg_solr_compile(s, dg_od_search_schema(), n, 1700000000000, err) != DG_OK)
		return NULL;
	return dg_buf_str(&s->where);
}

static void compiles_to_parameters(void **state)
{
	(void)state;
	struct dg_arena *a = dg_arena_new();
	struct dg_solr_sql *s = NULL;
	struct dg_err err = {0};
	/* a value that looks like SQL stays a parameter */
	const char *w = compile(a, "name:\"x' OR 1=1 --\"", &s, &err);
	assert_non_null(w);
	assert_null(strstr(w, "OR 1=1"));
	assert_string_equal(w, "1=1 AND (p.name = ?)");
	assert_int_equal(s->nargs, 1);
	assert_string_equal(s->args[0].s, "x' OR 1=1 --");
	/* indexed text fields are the search module's words, bound as its query text */
	w = compile(a, "title:\"50%_A\\\\b\"", &s, &err);
	assert_non_null(w);
	assert_string_equal(
		w,
		"1=1 AND (p.search_id IN (SELECT rowid FROM od_search WHERE od_search MATCH ?))");
	assert_string_equal(s->args[0].s, "{title} : \"50 a b\"");
	/* the free text of a query is one lookup; other text fields fold case and escape LIKE's own
	 * characters */
	w = compile(a, "water quality author:\"50%_A\\\\b\" OR air", &s, &err);
	assert_non_null(w);
	assert_int_equal(s->nargs, 3);
	assert_string_equal(s->args[0].s, "((\"water\"*) AND (\"quality\"*))");
	assert_string_equal(s->args[2].s, "(\"air\"*)");
	assert_string_equal(s->args[1].s, "%50\\%\\_a\\\\b%");
	/* a range on a date becomes two comparisons with ms values */
	w = compile(a, "metadata_modified:[2024-01-01T00:00:00Z TO *]", &s, &err);
	assert_non_null(w);
	assert_string_equal(w, "1=1 AND ((p.metadata_modified) >= ?)");
	assert_int_equal(s->args[0].i, 1704067200000);
	w = compile(a, "num_resources:{0 TO 3]", &s, &err);
	assert_non_null(w);
	assert_int_equal(s->nargs, 2);
	/* extras_KEY binds the key too; bare terms are what the index ranks by */
	w = compile(a, "extras_theme_code:A01 water -air", &s, &err);
	assert_non_null(w);
	assert_string_equal(s->args[0].s, "(\"water\"*)"); /* the free text comes first */
	assert_string_equal(s->args[1].s, "theme_code");
	assert_string_equal(s->args[2].s, "A01");
	assert_int_equal(s->nscore_args, 0);
	struct dg_buf rank;
	dg_buf_init(&rank, 0);
	assert_int_equal(dg_search_print(s->rank, &rank), DG_OK);
	assert_string_equal(dg_buf_str(&rank), "[water*]"); /* "-air" not at all */
	dg_buf_release(&rank);
	/* refusals */
	static const char *const bad[] = {"nosuchfield:x", "title:[a TO b]", "num_resources:many",
					  "metadata_modified:[yesterday TO *]", "extras_:x"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err.msg[0] = '\0';
		if (compile(a, bad[i], &s, &err))
			fail_msg("%s compiled", bad[i]);
		assert_true(err.msg[0] != '\0');
	}
	dg_arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses),
		cmocka_unit_test(refuses),
		cmocka_unit_test(caps),
		cmocka_unit_test(dates),
		cmocka_unit_test(compiles_to_parameters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
