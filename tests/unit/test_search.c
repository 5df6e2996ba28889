/*
 * test_search.c - the search module as data: texts and their tokens
 * (Chinese, mixed, digits, punctuation, full-width forms, invalid UTF-8,
 * the caps), queries and the tree the grammar makes of them (empty, only
 * operators, unbalanced quotes and parentheses, the caps), and the text
 * each store is handed (FTS5 MATCH, tsquery, tsvector).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "search/search.h"

static void tok(const char *in, const char *want)
{
	struct dg_buf b;
	dg_buf_init(&b, 4096);
	assert_int_equal(dg_search_tokens(in, &b), DG_OK);
	assert_string_equal(dg_buf_str(&b), want);
	dg_buf_release(&b);
}

static void tokens(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{"", " "},
		{"社会保险", " 社会 会保 保险 险 "},
		{"社保", " 社保 保 "},
		{"证", " 证 "},
		{"Marriage Registration", " marriage registration "},
		{"ID卡2026", " id 卡 2026 "},
		{"领结婚证 marriage", " 领结 结婚 婚证 marriage 证 "},
		{"养老金 2024年", " 养老 老金 2024 年 金 "},
		{"ＡＢＣ１２　社保", " abc12 社保 保 "}, /* full-width forms and space */
		{"\"社保\"*", " 社保 保 "},
		{"' OR 1=1 --", " or 1 1 "},
		{"%_\\:{}()^~", " "},
		{"a\xff"
		 "b",
		 " a b "},                               /* invalid UTF-8 separates */
		{"（社保）、医保", " 社保 医保 保 保 "}, /* full-width punctuation separates */
		{"Café ÉTÉ Ωμέγα", " café été ωμέγα "},
		{"C++ v1.2", " c v1 2 "},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		tok(cases[i][0], cases[i][1]);
}

static void long_words_cut(void **state)
{
	(void)state;
	char word[200], want[200];
	memset(word, 'a', 150);
	word[150] = '\0';
	want[0] = ' ';
	memset(want + 1, 'a', DG_SEARCH_WORD_MAX);
	want[DG_SEARCH_WORD_MAX + 1] = ' ';
	want[DG_SEARCH_WORD_MAX + 2] = '\0';
	tok(word, want);
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
	assert_int_equal(dg_search_tokens(big, &b), DG_ETOOBIG);
	dg_buf_release(&b);
}

typedef dg_rc (*parse_fn)(struct dg_arena *a, const char *q, unsigned fields,
			  struct dg_search_expr **out, struct dg_err *err);

/* The tree parse makes of q, or "!" and the rc's name when refused. */
static void parsed_as(parse_fn parse, const char *q, const char *want)
{
	struct dg_arena *a = dg_arena_new();
	struct dg_search_expr *e = NULL;
	struct dg_err err = {0};
	struct dg_buf b;
	dg_buf_init(&b, 1 << 16);
	dg_rc rc = parse(a, q, 0, &e, &err);
	if (rc == DG_OK)
		assert_int_equal(dg_search_print(e, &b), DG_OK);
	else
		assert_int_equal(dg_buf_addf(&b, "!%s", rc == DG_ETOOBIG ? "toobig" : "inval"),
				 DG_OK);
	if (rc != DG_OK) {
		assert_non_null(err.msg[0] ? err.msg : NULL);
		assert_null(e);
	}
	assert_string_equal(dg_buf_str(&b), want);
	dg_buf_release(&b);
	dg_arena_free(a);
}

/* The search box's grammar */
static void parses(const char *q, const char *want)
{
	parsed_as(dg_search_parse, q, want);
}

static void grammar(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{"", ""},
		{"   ", ""},
		{"AND", ""},
		{"OR AND OR", ""},
		{"()", ""},
		{"\"\"", ""},
		{"?!,", ""},
		{"water", "[water*]"},
		{"water quality", "(AND [water*] [quality*])"},
		{"water OR air", "(OR [water*] [air*])"},
		{"water AND air", "(AND [water*] [air*])"},
		{"a b OR c", "(AND [a*] (OR [b*] [c*]))"},
		{"a OR b AND c", "(OR [a*] (AND [b*] [c*]))"},
		{"(a OR b) c", "(AND (OR [a*] [b*]) [c*])"},
		{"\"water quality\"", "\"water quality\""},
		{"\"water quality", "\"water quality\""}, /* unbalanced: to the end */
		{"air \"water", "(AND [air*] [water])"},  /* quoted: the whole word */
		{"\"社会保险\"", "\"社会 会保 保险\""},
		{"社会保险", "[社会 会保 保险]"},
		{"养", "[养*]"},
		{"OR water", "[water*]"},
		{"water OR", "[water*]"},
		{"water AND AND air", "(AND [water*] [air*])"},
		{"(water", "[water*]"},
		{"water)) air", "(AND [water*] [air*])"},
		{"((((((((a))))))))", "[a*]"},
		{"(((((((((a)))))))))", "!inval"},
		{"社保-医保", "[社保 医保]"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		parses(cases[i][0], cases[i][1]);
}

static const struct dg_search_index ix = {"ix", {"title", "tags", "notes", "res"}, 4};

/* The full-text syntax (plain=false): words whole unless starred, NOT, and errors */
static void syntax(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{"", ""},
		{"water", "[water]"},
		{"water* air:*", "(AND [water*] [air*])"},
		{"water & air", "(AND [water] [air])"},
		{"water && air", "(AND [water] [air])"},
		{"water | air", "(OR [water] [air])"},
		{"water || air OR sea", "(OR (OR [water] [air]) [sea])"},
		{"a b | c", "(AND [a] (OR [b] [c]))"},
		{"a & !b", "(ANDNOT [a] [b])"},
		{"a AND NOT b", "(ANDNOT [a] [b])"},
		{"!b a", "(ANDNOT [a] [b])"},
		{"a !b !c", "(ANDNOT (ANDNOT [a] [b]) [c])"},
		{"!b & !c & a", "(ANDNOT [a] (OR [b] [c]))"},
		{"!!a", "[a]"},
		{"a & !(b | c)", "(ANDNOT [a] (OR [b] [c]))"},
		{"\"water quality\"", "\"water quality\""},
		{"养", "[养*]"},
		{"社会保险 & !医保", "(ANDNOT [社会 会保 保险] [医保])"},
		{"!a", "!inval"},
		{"!a & !b", "!inval"},
		{"a | !b", "!inval"},
		{"a &", "!inval"},
		{"& a", "!inval"},
		{"a | | b", "!inval"},
		{"(a", "!inval"},
		{"a)", "!inval"},
		{"()", "!inval"},
		{"\"a b", "!inval"},
		{"a & ...", "!inval"},
		{"*", "!inval"},
		{"NOT", "!inval"},
		{"(((((((((a)))))))))", "!inval"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		parsed_as(dg_search_parse_syntax, cases[i][0], cases[i][1]);
}

/* The syntax over a document of columns (the DataStore's), on both stores */
static void syntax_cols(void **state)
{
	(void)state;
	static const unsigned cols[] = {1, 3};
	static const char *const cases[][3] = {
		{"a* & !b", "(((\"c1xa\"* OR \"c3xa\"*)) NOT ((\"c1xb\" OR \"c3xb\")))",
		 "((('c1xa':* | 'c3xa':*)) & !(('c1xb' | 'c3xb')))"},
		{"\"a b\"", "(\"c1xa c1xb\" OR \"c3xa c3xb\")",
		 "(('c1xa' <-> 'c1xb') | ('c3xa' <-> 'c3xb'))"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (int pg = 0; pg < 2; pg++) {
			struct dg_arena *a = dg_arena_new();
			struct dg_search_expr *e = NULL;
			struct dg_err err = {0};
			struct dg_buf b;
			dg_buf_init(&b, 4096);
			assert_int_equal(dg_search_parse_syntax(a, cases[i][0], 0, &e, &err),
					 DG_OK);
			dg_search_on_cols(a, e, cols, 2);
			assert_int_equal(
				dg_search_render(pg ? DG_STORE_PG : DG_STORE_SQLITE, &ix, e, &b),
				DG_OK);
			assert_string_equal(dg_buf_str(&b), cases[i][1 + pg]);
			dg_buf_release(&b);
			dg_arena_free(a);
		}
	}
}

static void grammar_caps(void **state)
{
	(void)state;
	char q[DG_SEARCH_QUERY_MAX + 2];
	memset(q, 'a', sizeof q - 1);
	q[sizeof q - 1] = '\0';
	parses(q, "!toobig");
	q[DG_SEARCH_QUERY_MAX] = '\0'; /* at the cap: one long word, cut */
	struct dg_arena *a = dg_arena_new();
	struct dg_search_expr *e = NULL;
	struct dg_err err = {0};
	assert_int_equal(dg_search_parse(a, q, 0, &e, &err), DG_OK);
	assert_non_null(e);
	dg_arena_free(a);
	/* DG_SEARCH_ITEMS_MAX words pass, one more is refused */
	char many[4 * (DG_SEARCH_ITEMS_MAX + 1) + 1] = "";
	for (int i = 0; i < DG_SEARCH_ITEMS_MAX; i++)
		memcpy(many + 3 * i, "ab ", 3);
	many[3 * DG_SEARCH_ITEMS_MAX] = '\0';
	a = dg_arena_new();
	assert_int_equal(dg_search_parse(a, many, 0, &e, &err), DG_OK);
	dg_arena_free(a);
	memcpy(many + 3 * DG_SEARCH_ITEMS_MAX, "cd", 3);
	parses(many, "!toobig");
}

static void rendered(enum dg_store_kind kind, const char *q, unsigned fields, const char *want)
{
	struct dg_arena *a = dg_arena_new();
	struct dg_search_expr *e = NULL;
	struct dg_err err = {0};
	struct dg_buf b;
	dg_buf_init(&b, 4096);
	assert_int_equal(dg_search_parse(a, q, fields, &e, &err), DG_OK);
	assert_non_null(e);
	assert_int_equal(dg_search_render(kind, &ix, e, &b), DG_OK);
	assert_string_equal(dg_buf_str(&b), want);
	dg_buf_release(&b);
	dg_arena_free(a);
}

static void render(void **state)
{
	(void)state;
	rendered(DG_STORE_SQLITE, "water 社保", 0, "((\"water\"*) AND (\"社保\"))");
	rendered(DG_STORE_PG, "water 社保", 0, "(('water':*) & ('社保'))");
	rendered(DG_STORE_SQLITE, "a OR \"b c\"", 0, "((\"a\"*) OR \"b c\")");
	rendered(DG_STORE_PG, "a OR \"b c\"", 0, "(('a':*) | ('b' <-> 'c'))");
	rendered(DG_STORE_SQLITE, "water", 1, "{title} : (\"water\"*)");
	rendered(DG_STORE_PG, "water", 5, "('water':*AC)");
	rendered(DG_STORE_SQLITE, "water", 15, "(\"water\"*)");
}

static void tsvector(void **state)
{
	(void)state;
	const char *texts[] = {"Water 水质", NULL, "air"};
	struct dg_buf b;
	dg_buf_init(&b, 4096);
	assert_int_equal(dg_search_tsvector(texts, 3, &b), DG_OK);
	assert_string_equal(dg_buf_str(&b), "'water':1A '水质':2A '质':3A 'air':6C");
	dg_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tokens),       cmocka_unit_test(long_words_cut),
		cmocka_unit_test(capped),       cmocka_unit_test(grammar),
		cmocka_unit_test(grammar_caps), cmocka_unit_test(render),
		cmocka_unit_test(tsvector),     cmocka_unit_test(syntax),
		cmocka_unit_test(syntax_cols),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
