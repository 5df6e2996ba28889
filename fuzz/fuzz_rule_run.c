/*
 * fuzz_rule_run.c - libFuzzer target that runs random valid programs on
 * random data. The input bytes drive a small generator: the first part
 * chooses an expression from the language's grammar (well-typed by
 * construction, though the checker still has the last word), the rest
 * fills a registry of persons and households with values, unknowns and
 * dangling links. The oracle: the batch engine with one thread, with two
 * threads, and one-record evaluation must give the same outcome for every
 * record and rule, and nothing may trip a sanitizer.
 */
#include <stdint.h>

#include "fuzz_rule_common.h"
#include "rule/check.h"
#include "rule/code.h"
#include "rule/engine.h"
#include "rule/parse.h"

struct src {
	const uint8_t *p;
	size_t n, i;
};

static unsigned pick(struct src *s, unsigned n)
{
	unsigned v = s->i < s->n ? s->p[s->i++] : 0;
	return n ? v % n : 0;
}

static void add(char *out, size_t cap, const char *t)
{
	size_t l = strlen(out);
	snprintf(out + l, cap - l, "%s", t);
}

/* A boolean expression of bounded depth over person fields. */
static void gen_bool(struct src *s, char *out, size_t cap, int depth);

static void gen_num(struct src *s, char *out, size_t cap, int depth)
{
	static const char *const leaf[] = {"grade",
	                                   "3",
	                                   "age(birth_date)",
	                                   "months_with(insured, last 6 months)",
	                                   "continuous_months(insured)",
	                                   "days_between(birth_date, @ref)",
	                                   "count(hh.members)",
	                                   "count(hh.members where vet)",
	                                   "hh.area",
	                                   "months_between(birth_date, 2025-01-31)"};
	if (depth <= 0 || pick(s, 3) == 0) {
		add(out, cap, leaf[pick(s, sizeof(leaf) / sizeof(leaf[0]))]);
		return;
	}
	static const char *const op[] = {" + ", " - ", " * "};
	add(out, cap, "(");
	gen_num(s, out, cap, depth - 1);
	add(out, cap, op[pick(s, 3)]);
	gen_num(s, out, cap, depth - 1);
	add(out, cap, ")");
}

static void gen_money(struct src *s, char *out, size_t cap, int depth)
{
	static const char *const leaf[] = {"m",
	                                   "100 yuan",
	                                   "income at month -1",
	                                   "round(m * 1.5, fen, half_up)",
	                                   "round(m / 3, jiao, down)",
	                                   "round(avg(income, last 3 months), fen, up)",
	                                   "min(m, 50 yuan)",
	                                   "abs(m)",
	                                   "sum(hh.members, m)",
	                                   "round(m * 33%, yuan, half_even)"};
	if (depth <= 0 || pick(s, 3) == 0) {
		add(out, cap, leaf[pick(s, sizeof(leaf) / sizeof(leaf[0]))]);
		return;
	}
	add(out, cap, "(");
	gen_money(s, out, cap, depth - 1);
	add(out, cap, pick(s, 2) ? " + " : " - ");
	gen_money(s, out, cap, depth - 1);
	add(out, cap, ")");
}

static void gen_bool(struct src *s, char *out, size_t cap, int depth)
{
	static const char *const cmp[] = {" < ", " <= ", " > ", " >= ", " = ", " != "};
	switch (depth <= 0 ? pick(s, 6) : pick(s, 10)) {
	case 0: add(out, cap, "vet"); return;
	case 1:
		add(out, cap,
		    pick(s, 2) ? "region within \"44\"" : "region in {\"440303\", \"110101\"}");
		return;
	case 2:
		gen_num(s, out, cap, depth - 1);
		add(out, cap, cmp[pick(s, 6)]);
		gen_num(s, out, cap, depth - 1);
		return;
	case 3:
		gen_money(s, out, cap, depth - 1);
		add(out, cap, cmp[pick(s, 6)]);
		gen_money(s, out, cap, depth - 1);
		return;
	case 4:
		add(out, cap, pick(s, 2) ? "receives(\"x\")" : "refused(\"x\", last 6 months)");
		return;
	case 5: add(out, cap, "known(grade)"); return;
	case 6:
	case 7:
		add(out, cap, "(");
		gen_bool(s, out, cap, depth - 1);
		add(out, cap, pick(s, 2) ? " and " : " or ");
		gen_bool(s, out, cap, depth - 1);
		add(out, cap, ")");
		return;
	case 8:
		add(out, cap, "not ");
		gen_bool(s, out, cap, depth - 1);
		return;
	default:
		add(out, cap, "any(hh.members where ");
		gen_bool(s, out, cap, 0);
		add(out, cap, ")");
	}
}

static const char *pick_val(struct src *s, int kind)
{
	static const char *const dates[] = {"",           "1945-07-01", "2000-02-29",
	                                    "2025-06-30", "1990-12-31", "2024-02-29"};
	static const char *const regions[] = {"", "440303", "110101", "44", "x"};
	static const char *const ints[] = {"", "0", "1", "2", "-5", "9223372036854775807"};
	static const char *const bools[] = {"", "true", "false"};
	static const char *const money[] = {"", "0", "1.01", "-3.5", "99999999999.99", "1500"};
	static const char *const links[] = {"", "h0", "h1", "h2", "missing"};
	switch (kind) {
	case 0: return dates[pick(s, 6)];
	case 1: return regions[pick(s, 5)];
	case 2: return ints[pick(s, 6)];
	case 3: return bools[pick(s, 3)];
	case 4: return money[pick(s, 6)];
	default: return links[pick(s, 5)];
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_write_schema();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct src s = {data, size, 0};
	char text[16384] = "schema \"schema.yaml\"\n";
	char path[300];
	int nrules = 1 + (int)pick(&s, 3);
	for (int r = 0; r < nrules; r++) {
		char cond[4096] = "";
		gen_bool(&s, cond, sizeof(cond), 3);
		char rule[6000];
		snprintf(rule, sizeof(rule),
		         "rule r%d \"中\" / \"en\"\n version \"1\"\n legal \"x\"\n for person\n"
		         " condition c \"a\" / \"b\": %s\n"
		         " exception e to c \"a\" / \"b\": when vet\n"
		         " amount: %s\nend\n",
		         r, cond, pick(&s, 2) ? "m" : "round(m * 1.5, fen, half_up)");
		add(text, sizeof(text), rule);
	}
	snprintf(path, sizeof(path), "%s/run.rule", fuzz_dir);
	struct dg_program *p = dg_program_new();
	dg_program_parse(p, path, text, strlen(text));
	if (!p->diag.errors)
		dg_rule_check(p);
	if (p->diag.errors) {
		dg_program_free(p);
		return 0;
	}
	struct dg_intern codes;
	dg_intern_init(&codes);
	struct dg_data *d = dg_data_new(p->schema, &codes);
	int64_t row;
	for (int h = 0; h < 3; h++) {
		char id[8];
		snprintf(id, sizeof(id), "h%d", h);
		(void)!dg_data_add_row(d, 1, id, strlen(id), &row, NULL);
		const char *v = pick_val(&s, 1);
		(void)!dg_data_set(d, 1, row, 0, v, strlen(v), NULL);
		v = pick_val(&s, 2);
		(void)!dg_data_set(d, 1, row, 1, v, strlen(v), NULL);
	}
	/* enough persons for several blocks when the input is long */
	int np = 1 + (int)(size > 64 ? (size - 64) * 40 : pick(&s, 8));
	if (np > 5000)
		np = 5000;
	static const int kinds[] = {0, 1, 2, 3, 4, 5}; /* birth_date region grade vet m hh */
	for (int i = 0; i < np; i++) {
		char id[16];
		snprintf(id, sizeof(id), "p%d", i);
		(void)!dg_data_add_row(d, 0, id, strlen(id), &row, NULL);
		for (int f = 0; f < 6; f++) {
			const char *v = pick_val(&s, kinds[f]);
			(void)!dg_data_set(d, 0, row, f, v, strlen(v), NULL);
		}
		for (int mo = 0; mo < 7; mo++) {
			const char *v = pick_val(&s, 4);
			(void)!dg_data_set_month(d, 0, row, 7, DG_DATA_MONTH(2025, 1) + mo, v,
			                         strlen(v), NULL);
			v = pick_val(&s, 3);
			(void)!dg_data_set_month(d, 0, row, 8, DG_DATA_MONTH(2025, 1) + mo, v,
			                         strlen(v), NULL);
		}
		if (pick(&s, 4) == 0)
			(void)!dg_data_add_benefit(d, 0, row, "x", pick(&s, 2) ? "paid" : "refused",
			                           DG_DATA_MONTH(2025, 1 + (int)pick(&s, 7)), NULL);
	}
	struct dg_rule_diag diag;
	dg_rule_diag_init(&diag);
	struct dg_code *c = NULL;
	struct dg_result *r1 = NULL, *r2 = NULL;
	if (dg_data_finish(d, NULL))
		goto out;
	c = dg_rule_compile(p, &codes, dg_day_from_ymd(2025, 7, 1), NULL, 0, &diag);
	if (!c || dg_rule_run(c, d, NULL, 1, &r1, NULL) || dg_rule_run(c, d, NULL, 2, &r2, NULL))
		goto out;
	for (int ru = 0; ru < p->nrules; ru++)
		for (int64_t i = 0; i < d->t[0].n; i++) {
			enum dg_outcome o1 = dg_result_outcome(r1, ru, i);
			if (o1 != dg_result_outcome(r2, ru, i))
				abort();
			if (i % 97 == 0) {
				struct dg_trace tr;
				if (dg_rule_eval_one(c, d, ru, i, &tr, NULL))
					abort();
				if (tr.outcome != o1)
					abort();
				dg_trace_release(&tr);
			}
		}
	for (int ru = 0; ru < p->nrules; ru++)
		if (r1->amount_sum[ru] != r2->amount_sum[ru])
			abort();
out:
	dg_result_free(r1);
	dg_result_free(r2);
	dg_code_free(c);
	dg_rule_diag_release(&diag);
	dg_data_free(d);
	dg_intern_release(&codes);
	dg_program_free(p);
	return 0;
}
