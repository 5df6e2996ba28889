/*
 * test_rule_engine.c - the compiler and the block engine: three-valued
 * logic tables, rounding modes, windows, aggregates, batch runs over many
 * blocks on one and two threads agreeing with one-record evaluation, and
 * the CSV loader's failure paths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "rule/check.h"
#include "rule/engine.h"
#include "rule/explain.h"
#include "rule/parse.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	char cmd[400];
	snprintf(dir, sizeof(dir), "/tmp/dg_rule_engine_%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "mkdir -p %s", dir);
	if (system(cmd))
		return -1;
	snprintf(cmd, sizeof(cmd), "%s/schema.yaml", dir);
	FILE *f = fopen(cmd, "w");
	if (!f)
		return -1;
	fputs("entities:\n"
	      "  person:\n"
	      "    file: p.csv\n"
	      "    fields: {a: bool, b: bool, m: money, n: int, d: date, hh: link household,"
	      " inc: monthly money}\n"
	      "  household:\n"
	      "    file: h.csv\n"
	      "    fields: {r: code}\n"
	      "    groups: {members: person.hh}\n",
	      f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

struct fixture {
	struct dg_program *p;
	struct dg_intern codes;
	struct dg_data *d;
	struct dg_code *c;
	struct dg_result *r;
};

static void fx_program(struct fixture *fx, const char *body)
{
	char path[300], text[8192];
	snprintf(path, sizeof(path), "%s/t.rule", dir);
	snprintf(text, sizeof(text), "schema \"schema.yaml\"\n%s", body);
	fx->p = dg_program_new();
	dg_program_parse(fx->p, path, text, strlen(text));
	if (!fx->p->diag.errors)
		dg_rule_check(fx->p);
	if (fx->p->diag.errors)
		fail_msg("%s", dg_buf_str(&fx->p->diag.out));
	dg_intern_init(&fx->codes);
	fx->d = dg_data_new(fx->p->schema, &fx->codes);
}

static void fx_set(struct fixture *fx, int ent, int64_t row, const char *field, const char *v)
{
	struct dg_err err = {0};
	int f = dg_schema_field(fx->p->schema, ent, field);
	assert_true(f >= 0);
	assert_int_equal(dg_data_set(fx->d, ent, row, f, v, strlen(v), &err), DG_OK);
}

static void fx_run(struct fixture *fx, const char *ref, int threads)
{
	struct dg_err err = {0};
	struct dg_rule_diag diag;
	dg_day day;
	assert_int_equal(dg_day_parse(ref, &day), DG_OK);
	if (!fx->d->finished)
		assert_int_equal(dg_data_finish(fx->d, &err), DG_OK);
	dg_rule_diag_init(&diag);
	fx->c = dg_rule_compile(fx->p, &fx->codes, day, NULL, 0, &diag);
	assert_non_null(fx->c);
	dg_rule_diag_release(&diag);
	assert_int_equal(dg_rule_run(fx->c, fx->d, NULL, threads, &fx->r, &err), DG_OK);
}

static void fx_free(struct fixture *fx)
{
	dg_result_free(fx->r);
	dg_code_free(fx->c);
	dg_data_free(fx->d);
	dg_intern_release(&fx->codes);
	dg_program_free(fx->p);
}

#define RULE(id, cond)                                                                             \
	"rule " id " \"中\" / \"en\"\n version \"1\"\n legal \"x\"\n for person\n"                \
	" condition c \"中\" / \"en\": " cond "\nend\n"

/* and / or / not over true, false, unknown: the Kleene tables */
static void test_three_valued_tables(void **state)
{
	(void)state;
	struct fixture fx = {0};
	fx_program(&fx, RULE("r_and", "a and b") RULE("r_or", "a or b") RULE("r_not", "not a"));
	const char *v[3] = {"true", "false", ""};
	for (int i = 0; i < 9; i++) {
		int64_t row;
		char id[16];
		snprintf(id, sizeof(id), "p%d", i);
		assert_int_equal(dg_data_add_row(fx.d, 0, id, strlen(id), &row, NULL), DG_OK);
		fx_set(&fx, 0, row, "a", v[i / 3]);
		fx_set(&fx, 0, row, "b", v[i % 3]);
	}
	fx_run(&fx, "2025-07-01", 1);
	/* rows: (a,b) = TT TF TU FT FF FU UT UF UU */
	const enum dg_outcome E = DG_ELIGIBLE, N = DG_NOT_ELIGIBLE, U = DG_UNKNOWN;
	const enum dg_outcome and_[9] = {E, N, U, N, N, N, U, N, U};
	const enum dg_outcome or_[9] = {E, E, E, E, N, U, E, U, U};
	const enum dg_outcome not_[9] = {N, N, N, E, E, E, U, U, U};
	for (int i = 0; i < 9; i++) {
		assert_int_equal(dg_result_outcome(fx.r, 0, i), and_[i]);
		assert_int_equal(dg_result_outcome(fx.r, 1, i), or_[i]);
		assert_int_equal(dg_result_outcome(fx.r, 2, i), not_[i]);
	}
	fx_free(&fx);
}

static int64_t amount_of(struct fixture *fx, int rule, int64_t row)
{
	enum dg_outcome oc;
	int64_t am = 0;
	bool ak;
	struct dg_explain_cond c[8];
	int n;
	assert_int_equal(
		dg_rule_explain_eval(fx->c, fx->d, rule, row, &oc, &am, &ak, c, 8, &n, NULL),
		DG_OK);
	assert_int_equal(oc, DG_ELIGIBLE);
	assert_true(ak);
	return am;
}

static void test_rounding_modes(void **state)
{
	(void)state;
	struct fixture fx = {0};
	fx_program(&fx,
		   "rule up \"中\" / \"en\"\n version \"1\"\n legal \"x\"\n for person\n"
		   " condition c \"a\" / \"b\": known(m)\n amount: round(m / 3, fen, up)\nend\n"
		   "rule down \"中\" / \"en\"\n version \"1\"\n legal \"x\"\n for person\n"
		   " condition c \"a\" / \"b\": known(m)\n amount: round(m / 3, fen, down)\nend\n"
		   "rule hu \"中\" / \"en\"\n version \"1\"\n legal \"x\"\n for person\n"
		   " condition c \"a\" / \"b\": known(m)\n amount: round(m * 0.5, jiao, "
		   "half_up)\nend\n"
		   "rule he \"中\" / \"en\"\n version \"1\"\n legal \"x\"\n for person\n"
		   " condition c \"a\" / \"b\": known(m)\n amount: round(m * 0.5, jiao, "
		   "half_even)\nend\n");
	int64_t row;
	assert_int_equal(dg_data_add_row(fx.d, 0, "x", 1, &row, NULL), DG_OK);
	fx_set(&fx, 0, row, "m", "1.00"); /* 100 fen / 3 = 33.33 */
	assert_int_equal(dg_data_add_row(fx.d, 0, "y", 1, &row, NULL), DG_OK);
	fx_set(&fx, 0, row, "m", "-1.00");
	assert_int_equal(dg_data_add_row(fx.d, 0, "z", 1, &row, NULL), DG_OK);
	fx_set(&fx, 0, row, "m", "0.50"); /* * 0.5 = 25 fen -> jiao: 30 half_up, 20 half_even */
	fx_run(&fx, "2025-07-01", 1);
	assert_int_equal(amount_of(&fx, 0, 0), 34);
	assert_int_equal(amount_of(&fx, 1, 0), 33);
	assert_int_equal(amount_of(&fx, 0, 1), -34);
	assert_int_equal(amount_of(&fx, 1, 1), -33);
	assert_int_equal(amount_of(&fx, 2, 2), 30);
	assert_int_equal(amount_of(&fx, 3, 2), 20);
	fx_free(&fx);
}

/* Arithmetic past 64 bits is unknown, never a wrapped value; a total that does not fit is
 * flagged. */
static void test_overflow_is_unknown(void **state)
{
	(void)state;
	struct fixture fx = {0};
	fx_program(&fx,
		   RULE("r_add", "n + n > 0") RULE("r_sub", "n - 1 < 0") RULE(
			   "r_neg", "-n > 0") RULE("r_abs", "abs(n) > 0") RULE("r_mul", "n * 3 > 0")
			   RULE("r_sum",
				"sum(hh.members, n) > 0") "rule r_total \"中\" / \"en\"\n version "
							  "\"1\"\n legal \"x\"\n for person\n"
							  " condition c \"a\" / \"b\": known(m)\n "
							  "amount: m * 9000\nend\n");
	int64_t row;
	static const char *const n[] = {"9223372036854775807", "-9223372036854775808"};
	assert_int_equal(dg_data_add_row(fx.d, 1, "h", 1, &row, NULL), DG_OK);
	for (int i = 0; i < 2; i++) {
		char id[8];
		snprintf(id, sizeof(id), "p%d", i);
		assert_int_equal(dg_data_add_row(fx.d, 0, id, strlen(id), &row, NULL), DG_OK);
		fx_set(&fx, 0, row, "n", n[0]);
		fx_set(&fx, 0, row, "hh", "h");
		fx_set(&fx, 0, row, "m", "9999999999999.99");
	}
	fx_set(&fx, 0, 1, "n", n[1]);
	fx_run(&fx, "2025-07-01", 1);
	/* row 0 is INT64_MAX: + and * overflow, - 1 and negation do not */
	assert_int_equal(dg_result_outcome(fx.r, 0, 0), DG_UNKNOWN);
	assert_int_equal(dg_result_outcome(fx.r, 1, 0), DG_NOT_ELIGIBLE);
	assert_int_equal(dg_result_outcome(fx.r, 2, 0), DG_NOT_ELIGIBLE);
	assert_int_equal(dg_result_outcome(fx.r, 4, 0), DG_UNKNOWN);
	/* row 1 is INT64_MIN: every one of them overflows */
	for (int r = 0; r < 5; r++)
		assert_int_equal(dg_result_outcome(fx.r, r, 1), DG_UNKNOWN);
	/* sums are exact: INT64_MAX + INT64_MIN is -1, whatever the order of the members */
	assert_int_equal(dg_result_outcome(fx.r, 5, 0), DG_NOT_ELIGIBLE);
	/* each amount fits (8.99e18 fen), their total does not */
	assert_int_equal(amount_of(&fx, 6, 0), 999999999999999LL * 9000);
	assert_true(fx.r->amount_overflow[6]);
	for (int r = 0; r < 6; r++)
		for (int64_t i = 0; i < 2; i++) {
			struct dg_trace tr;
			assert_int_equal(dg_rule_eval_one(fx.c, fx.d, r, i, &tr, NULL), DG_OK);
			assert_int_equal(tr.outcome, dg_result_outcome(fx.r, r, i));
			dg_trace_release(&tr);
		}
	fx_free(&fx);
}

/* Many blocks: two threads, one thread and one-record evaluation agree. */
static void test_batch_matches_single(void **state)
{
	(void)state;
	struct fixture fx = {0};
	fx_program(&fx, "let household.total = sum(members, n where known(n))\n"
			"rule r \"中\" / \"en\"\n version \"1\"\n legal \"x\"\n for person\n"
			" condition c1 \"a\" / \"b\": age(d) >= 60\n"
			" condition c2 \"a\" / \"b\": hh.r within \"44\"\n"
			" condition c3 \"a\" / \"b\": n between 2 and 7 or a\n"
			" amount: round(m * 1.1, fen, half_up)\nend\n"
			"rule h \"中\" / \"en\"\n version \"1\"\n legal \"x\"\n for household\n"
			" condition c \"a\" / \"b\": total > 100\nend\n");
	const int64_t N = 5000, H = 700;
	char id[32], v[32];
	for (int64_t i = 0; i < H; i++) {
		int64_t row;
		snprintf(id, sizeof(id), "h%lld", (long long)i);
		assert_int_equal(dg_data_add_row(fx.d, 1, id, strlen(id), &row, NULL), DG_OK);
		fx_set(&fx, 1, row, "r", i % 3 ? "440303" : "110101");
	}
	uint64_t x = 12345;
	for (int64_t i = 0; i < N; i++) {
		int64_t row;
		snprintf(id, sizeof(id), "p%lld", (long long)i);
		assert_int_equal(dg_data_add_row(fx.d, 0, id, strlen(id), &row, NULL), DG_OK);
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		snprintf(v, sizeof(v), "%d-%02d-%02d", 1930 + (int)((x >> 40) % 80),
			 1 + (int)((x >> 20) % 12), 1 + (int)((x >> 8) % 28));
		if ((x >> 33) % 17)
			fx_set(&fx, 0, row, "d", v);
		snprintf(v, sizeof(v), "%d", (int)((x >> 45) % 10));
		if ((x >> 35) % 13)
			fx_set(&fx, 0, row, "n", v);
		fx_set(&fx, 0, row, "a", (x >> 50) & 1 ? "true" : "false");
		snprintf(v, sizeof(v), "%d.%02d", (int)((x >> 30) % 3000), (int)((x >> 17) % 100));
		fx_set(&fx, 0, row, "m", v);
		snprintf(v, sizeof(v), "h%d", (int)((x >> 12) % (uint64_t)(H + 20)));
		fx_set(&fx, 0, row, "hh", v); /* some dangling */
	}
	fx_run(&fx, "2025-02-28", 2);
	struct dg_result *one = NULL;
	assert_int_equal(dg_rule_run(fx.c, fx.d, NULL, 1, &one, NULL), DG_OK);
	int64_t el = 0, un = 0, ne = 0;
	for (int64_t i = 0; i < N; i++) {
		enum dg_outcome o2 = dg_result_outcome(fx.r, 0, i);
		assert_int_equal(o2, dg_result_outcome(one, 0, i));
		if (i % 7 == 0) {
			struct dg_trace tr;
			assert_int_equal(dg_rule_eval_one(fx.c, fx.d, 0, i, &tr, NULL), DG_OK);
			assert_int_equal(tr.outcome, o2);
			dg_trace_release(&tr);
		}
		el += o2 == DG_ELIGIBLE;
		un += o2 == DG_UNKNOWN;
		ne += o2 == DG_NOT_ELIGIBLE;
	}
	assert_int_equal(el, dg_bits_count(fx.r->elig[0], N));
	assert_int_equal(un, dg_bits_count(fx.r->unk[0], N));
	assert_true(el > 100 && un > 100 && ne > 100);
	assert_int_equal(fx.r->amount_sum[0], one->amount_sum[0]);
	for (int64_t h = 0; h < H; h++)
		assert_int_equal(dg_result_outcome(fx.r, 1, h), dg_result_outcome(one, 1, h));
	assert_true(fx.d->t[0].dangling > 0);
	/* amounts per record, asked for on two threads: each eligible record's amount is the
	 * one-record evaluation's, and together they make the total; a run that did not ask
	 * has none */
	struct dg_run_opts ro = {NULL, 2, true};
	struct dg_result *am = NULL;
	assert_int_equal(dg_rule_run_opts(fx.c, fx.d, &ro, &am, NULL), DG_OK);
	int64_t total = 0, a;
	for (int64_t i = 0; i < N; i++) {
		enum dg_outcome o = dg_result_outcome(am, 0, i);
		bool known = dg_result_amount(am, 0, i, &a);
		assert_false(dg_result_amount(one, 0, i, &a) || dg_result_amount(am, 1, i, &a));
		if (o != DG_ELIGIBLE) {
			assert_false(known);
			continue;
		}
		struct dg_trace tr;
		assert_int_equal(dg_rule_eval_one(fx.c, fx.d, 0, i, &tr, NULL), DG_OK);
		assert_int_equal(known, tr.amount_known);
		if (known) {
			dg_result_amount(am, 0, i, &a);
			assert_int_equal(a, tr.amount);
			total += a;
		}
		dg_trace_release(&tr);
	}
	assert_int_equal(total, am->amount_sum[0]);
	assert_int_equal(total, one->amount_sum[0]);
	dg_result_free(am);
	/* three variants in one pass give what three separate runs give */
	struct dg_code *cs[3];
	struct dg_result *rs[3];
	for (int k = 0; k < 3; k++) {
		struct dg_rule_diag diag;
		dg_rule_diag_init(&diag);
		cs[k] = dg_rule_compile(fx.p, &fx.codes, dg_day_from_ymd(2025, 2, 28) + k * 400,
					NULL, 0, &diag);
		assert_non_null(cs[k]);
		dg_rule_diag_release(&diag);
	}
	assert_int_equal(
		dg_rule_run_many((const struct dg_code *const *)cs, 3, fx.d, NULL, 2, rs, NULL),
		DG_OK);
	for (int k = 0; k < 3; k++) {
		struct dg_result *alone = NULL;
		assert_int_equal(dg_rule_run(cs[k], fx.d, NULL, 1, &alone, NULL), DG_OK);
		assert_int_equal(dg_bits_count(rs[k]->elig[0], N),
				 dg_bits_count(alone->elig[0], N));
		for (int64_t i = 0; i < N; i += 3)
			assert_int_equal(dg_result_outcome(rs[k], 0, i),
					 dg_result_outcome(alone, 0, i));
		dg_result_free(alone);
		dg_result_free(rs[k]);
		dg_code_free(cs[k]);
	}
	dg_result_free(one);
	fx_free(&fx);
}

static void write_file(const char *name, const char *text)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_csv_loader(void **state)
{
	(void)state;
	struct dg_err err = {0};
	struct dg_intern codes;
	char path[300];
	snprintf(path, sizeof(path), "%s/schema.yaml", dir);
	struct dg_schema *s = dg_schema_load(path, &err);
	assert_non_null(s);
	dg_intern_init(&codes);
	write_file("h.csv", "id,r\nh1,440303\n");
	write_file("p.csv", "id,a,b,m,n,d,hh,inc@2025-06,extra\n"
			    "p1,true,,\"1,5\",3,2000-01-01,h1,10.5,x\n");
	struct dg_data *d = dg_data_load_csv(s, &codes, dir, &err);
	assert_null(d);
	assert_non_null(strstr(err.msg, "p.csv:2: m '1,5' is not an amount in yuan"));
	write_file("p.csv", "id,a,b,m,n,d,hh,inc@2025-06\np1,true,,\"1.5\",3,2000-01-01,h1,10.5\n"
			    "\"p2\",false,true,0,,,nope,\n");
	d = dg_data_load_csv(s, &codes, dir, &err);
	assert_non_null(d);
	assert_int_equal(d->t[0].n, 2);
	assert_int_equal(d->t[0].col[2].v[0], 150);
	assert_int_equal(d->t[0].col[1].k[0], 0); /* empty cell: unknown */
	assert_int_equal(d->t[0].col[5].v[0], 0); /* link resolved to row 0 */
	assert_int_equal(d->t[0].col[5].k[1], 0); /* dangling link: unknown */
	assert_int_equal(d->t[0].dangling, 1);
	dg_data_free(d);
	write_file("p.csv", "id,a,b,m,n,d,inc@2025-06\np1,true,,1,3,2000-01-01,1\n");
	assert_null(dg_data_load_csv(s, &codes, dir, &err));
	assert_non_null(strstr(err.msg, "missing column 'hh'"));
	write_file("p.csv", "id,a,b,m,n,d,hh\np1,true,,1,3,2000-01-01,\"h1\n");
	assert_null(dg_data_load_csv(s, &codes, dir, &err));
	write_file("p.csv", "a,b,m,n,d,hh\n");
	assert_null(dg_data_load_csv(s, &codes, dir, &err));
	assert_non_null(strstr(err.msg, "missing the id column"));
	dg_intern_release(&codes);
	dg_schema_free(s);
	write_file("bad.yaml", "entities:\n  person:\n    fields: {x: text}\n");
	snprintf(path, sizeof(path), "%s/bad.yaml", dir);
	assert_null(dg_schema_load(path, &err));
	assert_non_null(strstr(err.msg, "unknown type 'text'"));
	write_file("bad.yaml", "entities:\n  person:\n    fields: {x: link nowhere}\n");
	assert_null(dg_schema_load(path, &err));
	assert_non_null(strstr(err.msg, "unknown entity 'nowhere'"));
}

/* GB18030 text (the shared CSV reader decodes it): a code and a header in Chinese, as a
 * government spreadsheet exports them. */
static void test_csv_gb18030(void **state)
{
	(void)state;
	struct dg_err err = {0};
	struct dg_intern codes;
	char path[300];
	snprintf(path, sizeof(path), "%s/schema.yaml", dir);
	struct dg_schema *s = dg_schema_load(path, &err);
	assert_non_null(s);
	dg_intern_init(&codes);
	/* "深圳" in GB18030 is C9 EE DB DA */
	write_file("h.csv", "id,r\nh1,\xC9\xEE\xDB\xDA\n");
	write_file("p.csv", "id,a,b,m,n,d,hh\np1,true,,1,3,2000-01-01,h1\n");
	struct dg_data *d = dg_data_load_csv(s, &codes, dir, &err);
	assert_non_null(d);
	assert_string_equal(codes.s[d->t[1].col[0].v[0]], "深圳");
	dg_data_free(d);
	dg_intern_release(&codes);
	dg_schema_free(s);

	/* a header in Chinese, GB18030 encoded, matches the schema's Chinese names (UTF-8):
	 * 编号,年龄,收入@2025-06 */
	write_file("zh.yaml", "entities:\n  人员:\n    file: zh.csv\n    id: 编号\n"
			      "    fields: {年龄: int, 收入: monthly money}\n");
	write_file("zh.csv", "\xB1\xE0\xBA\xC5,\xC4\xEA\xC1\xE4,\xCA\xD5\xC8\xEB@2025-06\n"
			     "z1,70,1.50\n");
	snprintf(path, sizeof(path), "%s/zh.yaml", dir);
	s = dg_schema_load(path, &err);
	assert_non_null(s);
	dg_intern_init(&codes);
	d = dg_data_load_csv(s, &codes, dir, &err);
	if (!d)
		fail_msg("%s", err.msg);
	assert_int_equal(dg_data_find(d, 0, "z1", 2), 0);
	assert_int_equal(d->t[0].col[dg_schema_field(s, 0, "年龄")].v[0], 70);
	dg_data_free(d);
	dg_intern_release(&codes);
	dg_schema_free(s);
	/* a schema name that is not one is refused with the rule for names */
	write_file("zh.yaml",
		   "entities:\n  人员:\n    file: zh.csv\n    fields: {年龄（岁）: int}\n");
	assert_null(dg_schema_load(path, &err));
	assert_non_null(strstr(err.msg, "field '年龄（岁）' of 人员: a name is ASCII letters"));
	write_file("zh.yaml", "entities:\n  人员:\n    file: zh.csv\n    fields: {a: int}\n"
			      "    groups: {成员 x: 人员.a}\n");
	assert_null(dg_schema_load(path, &err));
	assert_non_null(strstr(err.msg, "group '成员 x' of 人员"));
}

/* A source of records through the reader interface, as the store will be. */
struct mem_reader {
	int ent, next;
	struct dg_rule_cell cells[4];
	int benefits;
	bool good; /* p2's n is 1, not "x" */
};

static dg_rc mem_open(void *ctx, int ent, int64_t *rows, struct dg_err *err)
{
	struct mem_reader *m = ctx;
	(void)err;
	m->ent = ent;
	m->next = 0;
	*rows = ent == 0 ? 2 : 1;
	return DG_OK;
}

static dg_rc mem_next(void *ctx, struct dg_rule_record *rec, struct dg_err *err)
{
	struct mem_reader *m = ctx;
	static const char *const pid[] = {"p1", "p2"};
	if (m->ent == 1) { /* one household */
		if (m->next++)
			return DG_ENOTFOUND;
		m->cells[0] = (struct dg_rule_cell){0, 0, "440303", 6};
		*rec = (struct dg_rule_record){"h1", 2, m->cells, 1};
		return DG_OK;
	}
	if (m->next == 2)
		return DG_ENOTFOUND;
	const char *n = !m->next ? "7" : m->good ? "1" : "x";
	m->cells[0] = (struct dg_rule_cell){3, 0, n, 1};                        /* n */
	m->cells[1] = (struct dg_rule_cell){5, 0, "h1", 2};                     /* hh */
	m->cells[2] = (struct dg_rule_cell){6, DG_DATA_MONTH(2025, 6), "2", 1}; /* inc */
	*rec = (struct dg_rule_record){pid[m->next], 2, m->cells, 3};
	m->next++;
	return m->benefits < 0 && m->next == 2 ? dg_err_set(err, DG_EIO, "connection lost") : DG_OK;
}

static dg_rc mem_benefit(void *ctx, struct dg_rule_benefit_row *b, struct dg_err *err)
{
	struct mem_reader *m = ctx;
	(void)err;
	if (m->benefits++ > 0)
		return DG_ENOTFOUND;
	*b = (struct dg_rule_benefit_row){0, "p1", 2, "dibao", "paid", DG_DATA_MONTH(2025, 6)};
	return DG_OK;
}

static const char *mem_where(void *ctx, char *buf, size_t n)
{
	struct mem_reader *m = ctx;
	snprintf(buf, n, "registry %d record %d", m->ent, m->next);
	return buf;
}

static void test_reader(void **state)
{
	(void)state;
	struct fixture fx = {0};
	struct dg_err err = {0};
	fx_program(&fx, RULE("r", "n > 5 and hh.r within \"4403\" and receives(\"dibao\") and "
				  "inc at month -1 = 2 yuan"));
	dg_data_free(fx.d);
	struct mem_reader m = {0};
	struct dg_rule_reader rd = {&m, mem_open, mem_next, mem_benefit, mem_where};
	fx.d = dg_data_load(fx.p->schema, &fx.codes, &rd, &err);
	assert_null(fx.d);
	assert_string_equal(err.msg, "registry 0 record 2: n 'x' is not a whole number");
	m = (struct mem_reader){0};
	m.benefits = -1; /* the source fails half way */
	assert_null(dg_data_load(fx.p->schema, &fx.codes, &rd, &err));
	assert_string_equal(err.msg, "connection lost");
	/* good records: eligible through every kind of value the reader hands over */
	m = (struct mem_reader){0};
	m.good = true;
	fx.d = dg_data_load(fx.p->schema, &fx.codes, &rd, &err);
	assert_non_null(fx.d);
	fx_run(&fx, "2025-07-01", 1);
	assert_int_equal(dg_result_outcome(fx.r, 0, 0), DG_ELIGIBLE);
	assert_int_equal(dg_result_outcome(fx.r, 0, 1), DG_NOT_ELIGIBLE);
	fx_free(&fx);
}

/* Code compiled before more data was loaded would look codes up in tables too short:
 * the run refuses it. */
static void test_compile_before_load(void **state)
{
	(void)state;
	struct fixture fx = {0};
	struct dg_err err = {0};
	struct dg_rule_diag diag;
	fx_program(&fx, RULE("r", "hh.r in {\"440303\"}"));
	dg_rule_diag_init(&diag);
	fx.c = dg_rule_compile(fx.p, &fx.codes, dg_day_from_ymd(2025, 7, 1), NULL, 0, &diag);
	assert_non_null(fx.c);
	dg_rule_diag_release(&diag);
	int64_t row;
	assert_int_equal(dg_data_add_row(fx.d, 1, "h1", 2, &row, NULL), DG_OK);
	fx_set(&fx, 1, row, "r", "440303");
	assert_int_equal(dg_data_finish(fx.d, &err), DG_OK);
	assert_int_equal(dg_rule_run(fx.c, fx.d, NULL, 1, &fx.r, &err), DG_EINVAL);
	assert_non_null(strstr(err.msg, "compile again"));
	fx_free(&fx);
}

/* Job workers share one program and one data set: compiling, running and explaining
 * from two threads at once gives what one thread gives. */
struct worker_arg {
	struct fixture *fx;
	int64_t eligible;
	int64_t amount;
};

static void *worker(void *p)
{
	struct worker_arg *w = p;
	struct dg_rule_diag diag;
	struct dg_result *r = NULL;
	dg_rule_diag_init(&diag);
	for (int i = 0; i < 20; i++) {
		struct dg_code *c = dg_rule_compile(w->fx->p, &w->fx->codes,
						    dg_day_from_ymd(2025, 7, 1), NULL, 0, &diag);
		if (!c || dg_rule_run(c, w->fx->d, NULL, 1, &r, NULL))
			abort();
		w->eligible = dg_bits_count(r->elig[0], w->fx->d->t[0].n);
		w->amount = r->amount_sum[0];
		struct dg_buf b;
		dg_buf_init(&b, 1 << 20);
		if (dg_rule_explain_json(c, w->fx->d, 0, i, &b, NULL))
			abort();
		dg_buf_release(&b);
		dg_result_free(r);
		dg_code_free(c);
	}
	dg_rule_diag_release(&diag);
	return NULL;
}

static void test_threads_share_data(void **state)
{
	(void)state;
	struct fixture fx = {0};
	fx_program(&fx, "rule r \"中\" / \"en\"\n version \"1\"\n legal \"x\"\n for person\n"
			" condition c \"a\" / \"b\": n > 3 and hh.r in {\"a\", \"zz\"}\n"
			" amount: m * n\nend\n");
	int64_t row;
	assert_int_equal(dg_data_add_row(fx.d, 1, "h", 1, &row, NULL), DG_OK);
	fx_set(&fx, 1, row, "r", "a");
	for (int i = 0; i < 5000; i++) {
		char id[16], v[16];
		snprintf(id, sizeof(id), "p%d", i);
		assert_int_equal(dg_data_add_row(fx.d, 0, id, strlen(id), &row, NULL), DG_OK);
		snprintf(v, sizeof(v), "%d", i % 7);
		fx_set(&fx, 0, row, "n", v);
		fx_set(&fx, 0, row, "m", "1.50");
		fx_set(&fx, 0, row, "hh", "h");
	}
	fx_run(&fx, "2025-07-01", 2);
	struct worker_arg w[2] = {{&fx, 0, 0}, {&fx, 0, 0}};
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker, &w[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	int64_t want = dg_bits_count(fx.r->elig[0], fx.d->t[0].n);
	assert_int_equal(want, 5000 / 7 * 3); /* n in 4..6 */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(w[i].eligible, want);
		assert_int_equal(w[i].amount, fx.r->amount_sum[0]);
	}
	fx_free(&fx);
}

/* Where a schema's data is kept in the shared registries: registry, from, benefits. */
static void test_schema_sources(void **state)
{
	(void)state;
	struct dg_err err = {0};
	const char *ok = "entities:\n"
			 "  person:\n"
			 "    registry: person\n"
			 "    fields:\n"
			 "      birth_date: date\n"
			 "      grade: {type: int, from: disability.grade}\n"
			 "      income: {type: monthly money, from: tax.income}\n"
			 "  household:\n"
			 "    fields: {region: code}\n"
			 "benefits_registry: benefits\n"
			 "benefits_entity: household\n";
	struct dg_schema *s = dg_schema_parse("ok.yaml", ok, strlen(ok), &err);
	assert_non_null(s);
	assert_string_equal(s->e[0].registry, "person");
	assert_string_equal(s->e[0].f[0].from_reg, "person"); /* by default its own */
	assert_string_equal(s->e[0].f[0].from_field, "birth_date");
	assert_string_equal(s->e[0].f[1].from_reg, "disability");
	assert_string_equal(s->e[0].f[1].from_field, "grade");
	assert_string_equal(s->e[0].f[2].from_reg, "tax");
	assert_null(s->e[1].registry); /* read from CSV only */
	assert_null(s->e[1].f[0].from_reg);
	assert_string_equal(s->benefits_registry, "benefits");
	assert_int_equal(s->benefits_entity, 1);
	dg_schema_free(s);
	static const struct {
		const char *text, *says;
	} bad[] = {
		{"entities:\n  p:\n    fields:\n      x: {type: int, from: nodot}\n",
		 "REGISTRY.FIELD"},
		{"entities:\n  p:\n    fields:\n      x: {type: int, from: .x}\n",
		 "REGISTRY.FIELD"},
		{"entities:\n  p:\n    fields:\n      x: {type: int, from: a.}\n",
		 "REGISTRY.FIELD"},
		{"entities:\n  p:\n    fields:\n      x: {type: int, from: a-b.c}\n",
		 "REGISTRY.FIELD"},
		{"entities:\n  p:\n    registry: a-b\n    fields: {x: int}\n", "registry of p"},
		{"entities:\n  p:\n    fields: {x: int}\nbenefits_registry: a b\n",
		 "benefits_registry"},
		{"entities:\n  p:\n    fields: {x: int}\nbenefits_entity: q\n", "benefits_entity"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = (struct dg_err){0};
		assert_null(dg_schema_parse("bad.yaml", bad[i].text, strlen(bad[i].text), &err));
		if (!strstr(err.msg, bad[i].says))
			fail_msg("%s: %s", bad[i].text, err.msg);
	}
	/* the demo policies' schema and the registries' file both read */
	s = dg_schema_load("policies/schema.yaml", &err);
	assert_non_null(s);
	assert_string_equal(s->benefits_registry, "benefits");
	dg_schema_free(s);
	s = dg_schema_load("policies/registries.yaml", &err);
	assert_non_null(s);
	assert_true(s->ne > DG_MAX_ENT / 2);
	dg_schema_free(s);
}

static void test_intern(void **state)
{
	(void)state;
	struct dg_intern in;
	dg_intern_init(&in);
	char s[16];
	for (int i = 0; i < 5000; i++) {
		snprintf(s, sizeof(s), "c%d", i);
		assert_int_equal(dg_intern_get(&in, s, strlen(s)), i);
	}
	assert_int_equal(dg_intern_find(&in, "c4321", 5), 4321);
	assert_int_equal(dg_intern_find(&in, "zz", 2), -1);
	dg_intern_release(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_valued_tables),
		cmocka_unit_test(test_rounding_modes),
		cmocka_unit_test(test_overflow_is_unknown),
		cmocka_unit_test(test_batch_matches_single),
		cmocka_unit_test(test_csv_loader),
		cmocka_unit_test(test_csv_gb18030),
		cmocka_unit_test(test_reader),
		cmocka_unit_test(test_compile_before_load),
		cmocka_unit_test(test_threads_share_data),
		cmocka_unit_test(test_intern),
		cmocka_unit_test(test_schema_sources),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
