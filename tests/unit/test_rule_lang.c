/*
 * test_rule_lang.c - the rule language front end: lexer, parser, checker
 * and its messages (positions, carets, suggestions), did-you-mean, and the
 * YAML reader's limits.
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
	const char *bad[] = {"2025-02-30", "1234567890123456", "1.1234567", "\"open", "中", "!x",
	                     "12abc"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dg_rule_src src = {"x", bad[i], strlen(bad[i])};
		struct dg_lexer lx;
		dg_lex_init(&lx, &src);
		struct dg_token t = dg_lex_next(&lx);
		if (t.t != T_ERR)
			fail_msg("'%s' lexed as %s", bad[i], dg_tok_name(t.t));
		assert_non_null(t.err);
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
	    cmocka_unit_test(test_type_errors),
	    cmocka_unit_test(test_nesting_is_capped),
	    cmocka_unit_test(test_warnings),
	    cmocka_unit_test(test_did_you_mean),
	    cmocka_unit_test(test_yaml_limits),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
