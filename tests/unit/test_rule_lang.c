/*
 * test_rule_lang.c - the rule language front end: lexer, parser, checker
 * and its messages (positions, carets, suggestions), did-you-mean, names in
 * Chinese and text that is not UTF-8, and the YAML reader's limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "rule/check.h"
#include "rule/lex.h"
#include "rule/parse.h"
#include "rule/text.h"
#include "rule/yaml.h"

static char dir[256];

static const char *schema_yaml = "entities:\n"
				 "  person:\n"
				 "    file: persons.csv\n"
				 "    fields:\n"
				 "      birth_date: date\n"
				 "      region: code\n"
				 "      income: monthly money\n"
				 "      grade: int\n"
				 "      household: link household\n"
				 "  household:\n"
				 "    file: households.csv\n"
				 "    fields: {size: int}\n"
				 "    groups: {members: person.household}\n";

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/dg_rule_lang_%d", (int)getpid());
	char path[300];
	snprintf(path, sizeof(path), "mkdir -p %s", dir);
	if (system(path) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/schema.yaml", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(schema_yaml, f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Parse and check src (with the schema line prepended); return the program. */
static struct dg_program *compile_src(const char *body)
{
	char path[300], text[8192];
	snprintf(path, sizeof(path), "%s/t.rule", dir);
	snprintf(text, sizeof(text), "schema \"schema.yaml\"\n%s", body);
	struct dg_program *p = dg_program_new();
	dg_program_parse(p, path, text, strlen(text));
	if (!p->diag.errors)
		dg_rule_check(p);
	return p;
}

static void expect_error(const char *body, const char *msg)
{
	struct dg_program *p = compile_src(body);
	const char *out = dg_buf_str(&p->diag.out);
	if (!strstr(out, msg))
		fail_msg("wanted '%s' in:\n%s", msg, out);
	assert_true(p->diag.errors > 0);
	dg_program_free(p);
}

#define RULE(cond)                                                                                  \
	"rule r \"中\" / \"en\"\n version \"1\"\n legal \"x\"\n for person\n condition c \"中\" " \
	"/ \"en\":\n " cond "\nend\n"

static void test_lexer_numbers_and_dates(void **state)
{
	(void)state;
	struct dg_rule_src src = {"x", "1410.50 5.5% 2025-07-01 2025-07 \"深圳\" <= != @", 0};
	src.len = strlen(src.text);
	struct dg_lexer lx;
	dg_lex_init(&lx, &src);
	struct dg_token t = dg_lex_next(&lx);
	assert_int_equal(t.t, T_DEC);
	assert_int_equal(t.ival, 1410500000);
	t = dg_lex_next(&lx);
	assert_int_equal(t.t, T_PERCENT);
	assert_int_equal(t.ival, 55000);
	t = dg_lex_next(&lx);
	assert_int_equal(t.t, T_DATE);
	assert_int_equal(t.ival, dg_day_from_ymd(2025, 7, 1));
	t = dg_lex_next(&lx);
	assert_int_equal(t.t, T_MONTH);
	t = dg_lex_next(&lx);
	assert_int_equal(t.t, T_STR);
	assert_int_equal(dg_lex_next(&lx).t, T_LE);
	assert_int_equal(dg_lex_next(&lx).t, T_NE);
	assert_int_equal(dg_lex_next(&lx).t, T_AT);
	assert_int_equal(dg_lex_next(&lx).t, T_EOF);
}

static void test_lexer_rejects(void **state)
{
	(void)state;
	const char *bad[] = {"2025-02-30",  "1234567890123456",
			     "1.1234567",   "\"open",
			     "，",          "!x",
			     "12abc",       "60岁",
			     "é",           "\xE2\x80\x8B",
			     "\xE3\x80\x80"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dg_rule_src src = {"x", bad[i], strlen(bad[i])};
		struct dg_lexer lx;
		dg_lex_init(&lx, &src);
		struct dg_token t = dg_lex_next(&lx);
		if (t.t != T_ERR)
			fail_msg("'%s' lexed as %s", bad[i], dg_tok_name(t.t));
		assert_true(t.err[0] != '\0');
	}
}

static void test_good_program(void **state)
{
	(void)state;
	struct dg_program *p = compile_src(
		"param line: money per month by region\n legal \"x\"\n"
		" from 2024-01-01: \"44\" = 100.00, default = 50\n"
		"let household.n = count(members where grade >= 1)\n" RULE(
			"age(birth_date) >= 60 and sum(income, last 3 months) < 300 yuan and "
			"household.region = \"x\" or n > 0 and income at month -1 < line[region]"));
	/* household.region is not a field of household: an error with a suggestion? no: */
	dg_program_free(p);
	p = compile_src("param line: money per month by region\n legal \"x\"\n"
			" from 2024-01-01: \"44\" = 100.00, default = 50\n"
			"let household.n = count(members where grade >= 1)\n" RULE(
				"age(birth_date) >= 60 and income at month -1 < line[region]"));
	assert_int_equal(p->diag.errors, 0);
	assert_int_equal(p->nrules, 1);
	assert_int_equal(p->nparams, 1);
	assert_int_equal(p->params[0].v[0].ne, 2);
	assert_int_equal(p->params[0].v[0].e[0].value, 10000);
	assert_int_equal(p->params[0].v[0].e[1].value, 5000);
	dg_program_free(p);
}

static void test_errors_have_positions_and_carets(void **state)
{
	(void)state;
	struct dg_program *p = compile_src(RULE("age(brith_date) >= 60"));
	const char *out = dg_buf_str(&p->diag.out);
	assert_non_null(strstr(out, "t.rule:7:6: error: unknown name 'brith_date'"));
	assert_non_null(strstr(out, "did you mean 'birth_date'?"));
	assert_non_null(strstr(out, "    7 |  age(brith_date) >= 60\n      |      ^\n"));
	dg_program_free(p);
}

/* Names in Chinese: what is one, how far it goes, and the column after it. */
static void test_chinese_names(void **state)
{
	(void)state;
	struct dg_rule_src src = {"x", "年龄_2 >= 最低年龄 〇号 a中b", 0};
	src.len = strlen(src.text);
	struct dg_lexer lx;
	dg_lex_init(&lx, &src);
	struct dg_token t = dg_lex_next(&lx);
	assert_int_equal(t.t, T_IDENT);
	assert_int_equal(t.n, 8); /* two characters of three bytes, '_' and '2' */
	assert_int_equal(t.col, 1);
	t = dg_lex_next(&lx);
	assert_int_equal(t.t, T_GE);
	assert_int_equal(t.col, 6); /* columns count characters, not bytes */
	t = dg_lex_next(&lx);
	assert_int_equal(t.t, T_IDENT);
	assert_int_equal(t.col, 9);
	assert_int_equal(dg_lex_next(&lx).t, T_IDENT); /* 〇 starts a name */
	t = dg_lex_next(&lx);
	assert_int_equal(t.t, T_IDENT);
	assert_int_equal(t.n, 5);
	assert_int_equal(dg_lex_next(&lx).t, T_EOF);

	assert_true(dg_text_name_ok("人均月收入"));
	assert_true(dg_text_name_ok("income_人均"));
	assert_true(dg_text_name_ok("\xF0\xA0\x80\x80")); /* U+20000, extension B */
	assert_false(dg_text_name_ok("2人"));
	assert_false(dg_text_name_ok("年龄（岁）"));
	assert_false(dg_text_name_ok("收\xE2\xBC\x8A")); /* 收⼊: U+2F0A, a radical */
	assert_false(dg_text_name_ok("\xEF\xA4\x80"));   /* U+F900, a compatibility form */
	assert_false(dg_text_name_ok(""));
	char name[3 * 65 + 1];
	for (int i = 0; i < 65; i++)
		memcpy(name + 3 * i, "中", 3);
	name[3 * 64] = '\0';
	assert_true(dg_text_name_ok(name));
	name[3 * 64] = name[0]; /* and a 65th */
	name[3 * 65] = '\0';
	assert_false(dg_text_name_ok(name));
	src.text = name;
	src.len = strlen(name);
	dg_lex_init(&lx, &src);
	t = dg_lex_next(&lx);
	assert_int_equal(t.t, T_ERR);
	assert_string_equal(t.err, "a name has at most 64 characters");

	/* what to write instead of a character that cannot stand outside quotes */
	static const char *const why[][2] = {
		{"（", "full-width '（' (U+FF08): write '('"},
		{"：", "full-width '：' (U+FF1A): write ':'"},
		{"、", "'、' (U+3001): write ','"},
		{"\xE3\x80\x80", "a full-width space (U+3000): write an ASCII space"},
		{"“", "the quotation mark '“' (U+201C): text goes in ASCII \"quotes\""},
		{"\xE2\x80\xAE", "an invisible character (U+202E) outside quotes: delete it"},
		{"é", "'é' (U+00E9) cannot be part of a name"},
		{"\xFF", "this byte (0xFF) is not UTF-8 text"},
	};
	for (size_t i = 0; i < sizeof(why) / sizeof(why[0]); i++) {
		char msg[160];
		dg_text_why_not(why[i][0], why[i][0] + strlen(why[i][0]), msg, sizeof(msg));
		if (!strstr(msg, why[i][1]))
			fail_msg("'%s': wanted '%s', got '%s'", why[i][0], why[i][1], msg);
	}

	/* width, cutting and trimming never split a character */
	assert_int_equal(dg_text_width("a年龄", strlen("a年龄")), 5);
	assert_int_equal(dg_text_cut("年龄", 6, 4), 3);
	assert_int_equal(dg_text_cut("年龄", 6, 40), 6);
	char cut[8] = "ab\xE5\xB9"; /* "ab" and two bytes of 年 */
	dg_text_trim(cut);
	assert_string_equal(cut, "ab");
	char whole[16] = "ab年";
	dg_text_trim(whole);
	assert_string_equal(whole, "ab年");
	uint32_t cp;
	const char *overlong = "\xC0\xAF", *surrogate = "\xED\xA0\x80";
	assert_int_equal(dg_text_utf8(overlong, overlong + 2, &cp), 0);
	assert_int_equal(dg_text_utf8(surrogate, surrogate + 3, &cp), 0);
	assert_int_equal(dg_text_utf8("年", "年" + 2, &cp), 0); /* cut short */
	assert_int_equal(dg_text_utf8("年", "年" + 3, &cp), 3);
	assert_int_equal(cp, 0x5E74);
}

/* Chinese names through the checker: a suggestion over characters, a caret under
 * the right character (two columns each), a definition and a parameter. */
static void test_chinese_names_checked(void **state)
{
	(void)state;
	const char *c[] = {"月收入", "出生日期", "region"};
	assert_string_equal(dg_rule_did_you_mean("月收人", c, 3), "月收入");
	assert_string_equal(dg_rule_did_you_mean("出身日期", c, 3), "出生日期");
	assert_null(dg_rule_did_you_mean("地区", c, 3));

	struct dg_program *p =
		compile_src("param 最低年龄: int = 60\n legal \"x\"\n"
			    "let person.月收入 = income at month -1\n"
			    "rule 高龄 \"中\" / \"en\"\n version \"1\"\n legal \"x\"\n"
			    " for person\n condition 年满 \"中\" / \"en\":\n"
			    "  age(birth_date) >= 最低年龄 and 月收入 < 100 yuan\n"
			    "end\n");
	if (p->diag.errors)
		fail_msg("%s", dg_buf_str(&p->diag.out));
	assert_string_equal(p->rules[0].id, "高龄");
	assert_string_equal(p->rules[0].c[0].id, "年满");
	assert_string_equal(p->params[0].name, "最低年龄");
	dg_program_free(p);

	p = compile_src("let person.月收入 = income at month -1\n" RULE(
		"月收入 > 0 yuan and 月收人 < 9 yuan"));
	const char *out = dg_buf_str(&p->diag.out);
	assert_non_null(strstr(out,
			       "t.rule:8:19: error: unknown name '月收人' for a person (did you "
			       "mean '月收入'?)"));
	/* column 19 in characters; on a terminal 1 space, 月收入 (6 columns) and
	 * " > 0 yuan and " (14) come before the caret */
	char want[128];
	snprintf(want, sizeof(want), "    8 |  月收入 > 0 yuan and 月收人 < 9 yuan\n      | %*s^\n",
		 21, "");
	if (!strstr(out, want))
		fail_msg("wanted\n%s\nin\n%s", want, out);
	dg_program_free(p);
}

/* Text that is not UTF-8, through the parser itself (as the fuzzers and the
 * tests call it), not only through the file loader: the position of the byte
 * in characters, and the line shown only up to it. */
static void test_not_utf8_position(void **state)
{
	(void)state;
	expect_error("# 中文 \xFF\n", "t.rule:2:6: error: this byte (0xFF) is not UTF-8 text");
	expect_error("rule r \"\xE5\xB9\" / \"e\"\n",
		     "t.rule:2:9: error: this byte (0xE5) is not UTF-8 text");
	struct dg_program *p = dg_program_new();
	const char text[] = "schema \"s\"\n# a\0b\n";
	dg_program_parse(p, "t.rule", text, sizeof(text) - 1);
	assert_non_null(strstr(dg_buf_str(&p->diag.out), "t.rule:2:4: error: a NUL byte"));
	assert_non_null(strstr(dg_buf_str(&p->diag.out), "    2 | # a\n"));
	dg_program_free(p);
	/* a byte-order mark is skipped, and columns after it start at 1 */
	p = dg_program_new();
	const char bom[] = "\xEF\xBB\xBF年 )";
	dg_program_parse(p, "t.rule", bom, sizeof(bom) - 1);
	assert_non_null(strstr(dg_buf_str(&p->diag.out), "t.rule:1:1: error: expected schema"));
	dg_program_free(p);
}

static void test_type_errors(void **state)
{
	(void)state;
	expect_error(RULE("income at month -1 < 100"), "cannot compare money with a count");
	expect_error(RULE("income < 100 yuan"), "'income' is monthly");
	expect_error(RULE("income at month -1 * 1.5 < 1 yuan"), "needs explicit rounding");
	expect_error(RULE("sum(income, last 12 months) < round(income at month -1 * 2, fen, up)"),
		     "comparing money per year with money per month");
	expect_error(RULE("region < \"44\""), "a code can only be compared with = or !=");
	expect_error(RULE("grade"), "needs a true/false test");
	expect_error(RULE("birth_date - birth_date > 3"), "use days_between");
	expect_error(RULE("count(household.members where grade > 1) > 1 and count(grade) > 1"),
		     "count() needs a group");
	expect_error(RULE("agee(birth_date) > 1"), "unknown function 'agee' (did you mean 'age'?)");
	expect_error(RULE("round(income at month -1, cents, up) > 1 yuan"), "round() unit is fen");
	expect_error(RULE("sum(income, last 0 months) > 1 yuan"), "window is empty");
	expect_error(RULE("count(household.members where count(household.members) > 1) > 0"),
		     "aggregates cannot be nested");
	expect_error("let person.a = b\nlet person.b = a\n" RULE("a > 1"), "cycle");
	expect_error(RULE("grade > 1") RULE("grade > 2"), "rule id 'r' is used twice");
	expect_error("param p: int = 1\nparam p: int = 2\n" RULE("grade > p"), "declared twice");
	expect_error("param grade: int = 1\n" RULE("grade > 1"), "same name as a field");
	expect_error(RULE("grade >"), "expected a value");
	expect_error("rule r \"a\" \"b\"\nend\n",
		     "expected '/' between the Chinese and English labels");
	expect_error("param p: text = 1\n",
		     "a parameter's type is int, money, decimal, bool or date");
	expect_error("param p: money\n from 2025-01-01: 1\n from 2024-01-01: 2\n" RULE("grade > 1"),
		     "increasing date order");
	expect_error(RULE("1.005 yuan > income at month -1"), "money has at most 2 decimals");
}

static void test_nesting_is_capped(void **state)
{
	(void)state;
	char body[4096] = "";
	size_t n = 0;
	for (int i = 0; i < 600; i++)
		body[n++] = '(';
	body[n++] = '1';
	body[n] = '\0';
	char text[8192];
	snprintf(text, sizeof(text), RULE("%s"), body);
	expect_error(text, "nested too deeply");
}

static void test_warnings(void **state)
{
	(void)state;
	struct dg_program *p =
		compile_src(RULE("grade >= 5") " condition d \"中\" / \"en\": grade < 3\n");
	dg_program_free(p);
	p = compile_src("rule r \"中\" / \"en\"\n version \"1\"\n legal \"x\"\n for person\n"
			" condition c \"a\" / \"b\": grade >= 5\n"
			" condition d \"a\" / \"b\": grade < 3\nend\n");
	assert_int_equal(p->diag.errors, 0);
	assert_non_null(
		strstr(dg_buf_str(&p->diag.out), "condition d can never be true together with c"));
	dg_program_free(p);
	p = compile_src("rule r \"中\" / \"en\"\n version \"1\"\n legal \"x\"\n for person\n"
			" condition c \"a\" / \"b\": grade >= 5\n"
			" exception e1 to c \"a\" / \"b\": when grade = 1\n"
			" exception e2 to c \"a\" / \"b\": when grade = 2\nend\n");
	assert_int_equal(p->diag.errors, 0);
	assert_non_null(strstr(dg_buf_str(&p->diag.out), "outcome is CONFLICT"));
	dg_program_free(p);
}

static void test_did_you_mean(void **state)
{
	(void)state;
	const char *c[] = {"birth_date", "region", "income"};
	assert_string_equal(dg_rule_did_you_mean("brith_date", c, 3), "birth_date");
	assert_string_equal(dg_rule_did_you_mean("regoin", c, 3), "region");
	assert_null(dg_rule_did_you_mean("xyzzy", c, 3));
}

static void test_yaml_limits(void **state)
{
	(void)state;
	struct dg_arena *a = dg_arena_new();
	struct dg_yaml *y;
	struct dg_err err = {0};
	const char *ok = "a: 1\nb: [x, 'y']\nc: {d: e}\n";
	assert_int_equal(dg_yaml_parse(a, ok, strlen(ok), &y, &err), DG_OK);
	assert_string_equal(dg_yaml_get(y, "a")->s, "1");
	assert_int_equal(dg_yaml_get(y, "b")->n, 2);
	assert_true(dg_yaml_get(y, "b")->vals[1]->quoted);
	assert_string_equal(dg_yaml_get(dg_yaml_get(y, "c"), "d")->s, "e");
	const char *alias = "a: &x 1\nb: *x\n";
	assert_int_equal(dg_yaml_parse(a, alias, strlen(alias), &y, &err), DG_EINVAL);
	const char *bad = "a: [1, 2\n";
	assert_int_equal(dg_yaml_parse(a, bad, strlen(bad), &y, &err), DG_EINVAL);
	assert_non_null(strstr(err.msg, "line"));
	char deep[400];
	memset(deep, '[', 300);
	deep[300] = '\0';
	assert_int_equal(dg_yaml_parse(a, deep, strlen(deep), &y, &err), DG_ETOOBIG);
	dg_arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lexer_numbers_and_dates),
		cmocka_unit_test(test_lexer_rejects),
		cmocka_unit_test(test_good_program),
		cmocka_unit_test(test_errors_have_positions_and_carets),
		cmocka_unit_test(test_chinese_names),
		cmocka_unit_test(test_chinese_names_checked),
		cmocka_unit_test(test_not_utf8_position),
		cmocka_unit_test(test_type_errors),
		cmocka_unit_test(test_nesting_is_capped),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_did_you_mean),
		cmocka_unit_test(test_yaml_limits),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
