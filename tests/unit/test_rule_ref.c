/*
 * test_rule_ref.c - the engine against the reference evaluator
 * (tests/rule/ref_eval.h) on a population: random programs over random
 * registries (tests/rule/gen_rules.h), from fixed seeds so a failure repeats.
 * Every record of every rule must get the same outcome, the same failed
 * conditions and, where eligible, the same amount from the batch engine on
 * one and two threads and from one-record evaluation; totals must match too.
 * The reference evaluator is also pinned on a few hand-made cases so that
 * engine and reference cannot drift together.
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

#include "../rule/gen_rules.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	char cmd[400];
	snprintf(dir, sizeof(dir), "/tmp/dg_rule_ref_%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "mkdir -p %s", dir);
	if (system(cmd))
		return -1;
	return gen_write_schema(dir);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

static struct dg_program *parse(const char *text)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/gen.rule", dir);
	struct dg_program *p = dg_program_new();
	dg_program_parse(p, path, text, strlen(text));
	if (!p->diag.errors)
		dg_rule_check(p);
	return p;
}

/* xorshift64*: the bytes a seed stands for */
static void fill(uint8_t *b, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		b[i] = (uint8_t)((x * 0x2545F4914F6CDD1Dull) >> 56);
	}
}

/* One seed: program, data, engine, reference. Returns 1 when the program was used. */
static int one_seed(uint64_t seed, int *checked_records)
{
	uint8_t bytes[16384];
	char text[32768] = "";
	char why[512] = "";
	fill(bytes, sizeof(bytes), seed);
	struct gen_src s = {bytes, sizeof(bytes), 0};
	struct gen_out o = {text, sizeof(text), 0};
	gen_program(&s, &o);
	struct dg_program *p = parse(text);
	if (p->diag.errors) {
		dg_program_free(p);
		return 0;
	}
	struct dg_intern codes;
	dg_intern_init(&codes);
	struct dg_data *d = dg_data_new(p->schema, &codes);
	/* mostly small populations, every 20th over two blocks of the engine */
	int np = seed % 20 == 0 ? 1100 : 30 + (int)(seed % 120);
	gen_data(&s, d, np);
	assert_int_equal(dg_data_finish(d, NULL), DG_OK);
	static const int ymd[][3] = {{2025, 7, 1}, {2025, 7, 31}, {2024, 2, 29}, {2025, 12, 31}};
	const int *r = ymd[seed % 4];
	dg_day ref = dg_day_from_ymd(r[0], r[1], r[2]);
	struct dg_rule_diag diag;
	dg_rule_diag_init(&diag);
	struct dg_code *c = dg_rule_compile(p, &codes, ref, NULL, 0, &diag);
	if (!c)
		fail_msg("seed %llu: compile: %s\n%s", (unsigned long long)seed,
			 dg_buf_str(&diag.out), text);
	for (int threads = 1; threads <= 2; threads++) {
		struct dg_result *res = NULL;
		struct dg_run_opts ro = {NULL, threads, threads == 1}; /* amounts per record */
		assert_int_equal(dg_rule_run_opts(c, d, &ro, &res, NULL), DG_OK);
		/* one-record evaluation is slow per call: a sample of records */
		int stride = threads == 2 ? INT32_MAX : np > 200 ? 17 : 1;
		if (gen_check(p, d, c, res, ref, stride, why, sizeof(why))) {
			fprintf(stderr, "# seed %llu, %d thread(s): %s\n%s",
				(unsigned long long)seed, threads, why, text);
			fail_msg("seed %llu: %s", (unsigned long long)seed, why);
		}
		dg_result_free(res);
	}
	*checked_records += np * p->nrules;
	dg_code_free(c);
	dg_rule_diag_release(&diag);
	dg_data_free(d);
	dg_intern_release(&codes);
	dg_program_free(p);
	return 1;
}

static void test_population(void **state)
{
	(void)state;
	int used = 0, records = 0;
	const char *env = getenv("DG_RULE_REF_SEEDS");
	uint64_t n = env ? strtoull(env, NULL, 10) : 300;
	for (uint64_t seed = 1; seed <= n; seed++)
		used += one_seed(seed, &records);
	print_message("%d of %llu random programs checked, %d record-rule pairs\n", used,
		      (unsigned long long)n, records);
	assert_true(used > (int)(n / 4)); /* the generator mostly writes valid programs */
}

/* The reference on its own, on cases worked out by hand from docs/rules.md. */
static void test_reference_by_hand(void **state)
{
	(void)state;
	struct dg_program *p =
		parse("schema \"schema.yaml\"\n"
		      "rule r \"中\" / \"en\"\n version \"1\"\n legal \"x\"\n for person\n"
		      " condition c1 \"a\" / \"b\": vet or true\n"
		      " condition c2 \"a\" / \"b\": continuous_months(insured) >= 2\n"
		      " condition c3 \"a\" / \"b\": age(birth_date) < 6\n"
		      " amount: round(m / 3, fen, half_even)\n"
		      " exception e1 to amount \"a\" / \"b\": when grade = 1 then 5 yuan\n"
		      " exception e2 to amount \"a\" / \"b\": when grade >= 1 then 7 yuan\n"
		      " exceptions to amount: max\nend\n");
	assert_int_equal(p->diag.errors, 0);
	struct dg_intern codes;
	dg_intern_init(&codes);
	struct dg_data *d = dg_data_new(p->schema, &codes);
	int64_t row;
	int fi = dg_schema_field(p->schema, 0, "insured");
	const char *births[] = {"2020-01-01", "2025-07-02", "2020-01-01"};
	const char *grades[] = {"", "1", "0"};
	for (int i = 0; i < 3; i++) {
		char id[8];
		snprintf(id, sizeof(id), "p%d", i);
		assert_int_equal(dg_data_add_row(d, 0, id, strlen(id), &row, NULL), DG_OK);
		gen_set(d, 0, row, "birth_date", births[i]);
		gen_set(d, 0, row, "grade", grades[i]);
		gen_set(d, 0, row, "m", "0.05"); /* 5 fen / 3 = 1.67 -> 2 */
		/* two paid months before @ref, nothing earlier: enough for >= 2 */
		(void)!dg_data_set_month(d, 0, row, fi, DG_DATA_MONTH(2025, 5), "true", 4, NULL);
		(void)!dg_data_set_month(d, 0, row, fi, DG_DATA_MONTH(2025, 6),
					 i == 2 ? "" : "true", 4, NULL);
	}
	assert_int_equal(dg_data_finish(d, NULL), DG_OK);
	struct ref_ctx c;
	struct ref_outcome o;
	ref_init(&c, p, d, dg_day_from_ymd(2025, 7, 1), NULL, 0);
	ref_rule(&c, 0, 0, &o); /* grade unknown: both amount exceptions might apply */
	assert_int_equal(o.outcome, DG_ELIGIBLE);
	assert_false(o.amount_known);
	ref_rule(&c, 0, 1, &o); /* born after @ref: no age */
	assert_int_equal(o.outcome, DG_UNKNOWN);
	assert_int_equal(o.cond[2], DG_UNKNOWN);
	assert_int_equal(o.cond[1], DG_ELIGIBLE);
	ref_rule(&c, 0, 2, &o); /* grade 0: no exception, the base amount; June unknown */
	assert_int_equal(o.cond[1], DG_UNKNOWN);
	assert_int_equal(o.outcome, DG_UNKNOWN);
	assert_true(o.amount_known);
	assert_int_equal(o.amount, 2);
	c.ref = dg_day_from_ymd(2025, 6, 15); /* one paid month before June: not enough, but May? */
	c.rm = DG_DATA_MONTH(2025, 6);
	ref_rule(&c, 0, 0, &o);
	assert_int_equal(o.cond[1], DG_UNKNOWN); /* May paid, April has no data */
	dg_data_free(d);
	dg_intern_release(&codes);
	dg_program_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_by_hand),
		cmocka_unit_test(test_population),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
