/*
 * gen_rules.h - random rule programs and random registries, and the check that
 * the engine agrees with the reference evaluator (ref_eval.h) on them. Shared
 * by the population property test (tests/unit/test_rule_ref.c, driven by a
 * seeded generator) and the fuzz target (fuzz/fuzz_rule_run.c, driven by the
 * fuzzer's bytes).
 *
 * Programs are well-typed by construction (the checker still has the last
 * word; a program it refuses is skipped) and reach every construct: constants
 * on either side of every operator, bool, int, decimal, money, date and
 * region parameters, definitions, windows that run past the data at both
 * ends, runs of months, history, links, aggregates with and without filters,
 * exceptions to conditions and to the amount in every combine mode; some names
 * are Chinese. Data has
 * unknown cells, dangling links, extreme values, birthdays on 29 February and
 * after @ref, and monthly columns that start and stop around the reference
 * month.
 *
 * Header-only (static functions): each test and fuzz target is one source file.
 */
#ifndef DG_TEST_GEN_RULES_H
#define DG_TEST_GEN_RULES_H

#include <stdio.h>
#include <stdlib.h>

#include "ref_eval.h"

static const char gen_schema[] =
	"entities:\n"
	"  person:\n"
	"    file: p.csv\n"
	"    fields: {birth_date: date, region: code, grade: int, vet: bool, m: money,"
	" hh: link household, emp: link enterprise, income: monthly money,"
	" insured: monthly bool, hours: monthly int}\n"
	"  household:\n"
	"    file: h.csv\n"
	"    fields: {region: code, area: int}\n"
	"    groups: {members: person.hh}\n"
	"  enterprise:\n"
	"    file: e.csv\n"
	"    fields: {region: code, rep: link person, staff: monthly int}\n"
	"    groups: {employees: person.emp}\n"
	"benefits: b.csv\n";

/* The bytes that drive every choice; past their end every choice is 0. */
struct gen_src {
	const uint8_t *p;
	size_t n, i;
};

static unsigned gen_pick(struct gen_src *s, unsigned n)
{
	unsigned v = s->i < s->n ? s->p[s->i++] : 0;
	return n ? v % n : 0;
}

#define GEN_ONE(s, arr) ((arr)[gen_pick((s), sizeof(arr) / sizeof((arr)[0]))])

struct gen_out {
	char *p;
	size_t cap, len;
};

static void gen_add(struct gen_out *o, const char *t)
{
	int n = snprintf(o->p + o->len, o->cap - o->len, "%s", t);
	if (n > 0)
		o->len = o->len + (size_t)n < o->cap ? o->len + (size_t)n : o->cap - 1;
}

/* the entity the expression is about: 0 person, 1 household (person inside aggregates) */
struct gen_cx {
	int ent;
	bool in_agg;
};

static void gen_bool(struct gen_src *s, struct gen_out *o, struct gen_cx cx, int depth);
static void gen_int(struct gen_src *s, struct gen_out *o, struct gen_cx cx, int depth);
static void gen_money(struct gen_src *s, struct gen_out *o, struct gen_cx cx, int depth);

static void gen_window(struct gen_src *s, struct gen_out *o)
{
	static const char *const w[] = {"last 1 months",   "last 3 months",  "last 6 months",
					"months -8 to -1", "months -2 to 0", "months -1 to 1",
					"year 2025",       "year 2024",      "months -12 to -7"};
	gen_add(o, GEN_ONE(s, w));
}

static void gen_date(struct gen_src *s, struct gen_out *o, struct gen_cx cx)
{
	static const char *const p[] = {"birth_date",
					"day",
					"2000-02-29",
					"@ref",
					"1960-07-01",
					"2025-07-02",
					"birth_date + 18 years",
					"day - 6 months",
					"end_of_month(birth_date)",
					"date_of(year_of(birth_date) + 1, 8, 31)",
					"@ref - 30 days",
					"birth_date + k months",
					"coalesce(birth_date, 2000-01-31) + 1 month",
					"(2024-01-31 + 1 month)"};
	static const char *const h[] = {"day", "@ref", "2024-02-29", "day + 1 year"};
	gen_add(o, cx.ent == 0 ? GEN_ONE(s, p) : GEN_ONE(s, h));
}

static void gen_code(struct gen_src *s, struct gen_out *o, struct gen_cx cx)
{
	static const char *const p[] = {"region", "hh.region", "emp.region", "\"440303\"", "\"x\""};
	static const char *const h[] = {"region", "\"4403\""};
	gen_add(o, cx.ent == 0 ? GEN_ONE(s, p) : GEN_ONE(s, h));
}

/* a binary operation with each side sometimes a constant */
static void gen_op(struct gen_src *s, struct gen_out *o, struct gen_cx cx, int depth,
		   void (*side)(struct gen_src *, struct gen_out *, struct gen_cx, int),
		   const char *const *ops, unsigned nops, const char *const *consts,
		   unsigned nconsts)
{
	gen_add(o, "(");
	if (gen_pick(s, 4) == 0)
		gen_add(o, consts[gen_pick(s, nconsts)]);
	else
		side(s, o, cx, depth - 1);
	gen_add(o, ops[gen_pick(s, nops)]);
	if (gen_pick(s, 3) == 0)
		gen_add(o, consts[gen_pick(s, nconsts)]);
	else
		side(s, o, cx, depth - 1);
	gen_add(o, ")");
}

static const char *const gen_int_consts[] = {"0", "1", "-3", "7", "18", "999999999999999"};
static const char *const gen_money_consts[] = {"0 yuan", "1.01 yuan", "-5 fen", "1500 yuan",
					       "9000000000000.00 yuan"};
static const char *const gen_dec_consts[] = {"1.5", "33%", "-0.25", "0.000001", "2"};

static void gen_int(struct gen_src *s, struct gen_out *o, struct gen_cx cx, int depth)
{
	static const char *const pl[] = {"grade",
					 "k",
					 "age(birth_date)",
					 "age(day)",
					 "days_between(birth_date, @ref)",
					 "months_between(birth_date, 2025-01-31)",
					 "months_with(insured, last 6 months)",
					 "continuous_months(insured)",
					 "run",
					 "sum(hours, last 3 months)",
					 "hours at month -1",
					 "coalesce(grade, 0)",
					 "year_of(birth_date)",
					 "month_of(day)",
					 "day_of(birth_date + 1 month)",
					 "hh.area",
					 "emp.staff_now",
					 "count(hh.members)",
					 "count(emp.employees where vet)"};
	static const char *const hl[] = {"area",
					 "k",
					 "count(members)",
					 "人数",
					 "sum(members, grade)",
					 "min(members, grade)",
					 "max(members, age(birth_date))"};
	static const char *const ops[] = {" + ", " - ", " * "};
	unsigned nl = cx.ent == 0 ? sizeof(pl) / sizeof(pl[0]) - (cx.in_agg ? 3 : 0) : 7;
	switch (depth <= 0 ? 0 : gen_pick(s, 7)) {
	case 0:
	case 1: gen_add(o, cx.ent == 0 ? pl[gen_pick(s, nl)] : hl[gen_pick(s, nl)]); return;
	case 2: gen_add(o, GEN_ONE(s, gen_int_consts)); return;
	case 3:
		gen_op(s, o, cx, depth, gen_int, ops, 3, gen_int_consts,
		       sizeof(gen_int_consts) / sizeof(gen_int_consts[0]));
		return;
	case 4:
		gen_add(o, gen_pick(s, 2) ? "-(" : "abs(");
		gen_int(s, o, cx, depth - 1);
		gen_add(o, ")");
		return;
	case 5:
		gen_add(o, gen_pick(s, 2) ? "min(" : "max(");
		gen_int(s, o, cx, depth - 1);
		gen_add(o, ", ");
		gen_int(s, o, cx, depth - 1);
		gen_add(o, ")");
		return;
	default:
		gen_add(o, "(if ");
		gen_bool(s, o, cx, depth - 1);
		gen_add(o, " then ");
		gen_int(s, o, cx, depth - 1);
		gen_add(o, " else ");
		gen_int(s, o, cx, depth - 1);
		gen_add(o, ")");
	}
}

static void gen_dec(struct gen_src *s, struct gen_out *o, struct gen_cx cx, int depth)
{
	static const char *const ops[] = {" + ", " - ", " * ", " / "};
	switch (depth <= 0 ? gen_pick(s, 2) : gen_pick(s, 6)) {
	case 0: gen_add(o, "ratio"); return;
	case 1: gen_add(o, GEN_ONE(s, gen_dec_consts)); return;
	case 2:
		gen_op(s, o, cx, depth, gen_dec, ops, 4, gen_dec_consts,
		       sizeof(gen_dec_consts) / sizeof(gen_dec_consts[0]));
		return;
	case 3: /* int / int, int * dec, dec / int, int + dec */
		gen_add(o, "(");
		gen_int(s, o, cx, depth - 1);
		gen_add(o, gen_pick(s, 2) ? " / " : " * ");
		if (gen_pick(s, 2))
			gen_int(s, o, cx, depth - 1);
		else
			gen_dec(s, o, cx, depth - 1);
		gen_add(o, ")");
		return;
	case 4:
		gen_add(o, "(");
		gen_money(s, o, cx, depth - 1);
		gen_add(o, " / ");
		gen_money(s, o, cx, depth - 1);
		gen_add(o, ")");
		return;
	default:
		if (cx.ent == 0) {
			gen_add(o, "avg(hours, ");
			gen_window(s, o);
			gen_add(o, ")");
		} else {
			gen_add(o, "(ratio + area)");
		}
	}
}

static void gen_money(struct gen_src *s, struct gen_out *o, struct gen_cx cx, int depth)
{
	static const char *const pl[] = {
		"m",
		"标准线",
		"income at month -1",
		"income at month 0",
		"l_inc",
		"reg[region]",
		"reg[hh.region]",
		"round(m * 1.5, fen, half_up)",
		"round(m / 3, jiao, down)",
		"round(m * ratio, yuan, half_even)",
		"round(avg(income, last 3 months), fen, up)",
		"coalesce(m, 0 yuan)",
		"round(sum(income, last 12 months) / 12 months, fen, down)",
		"round(income at month -1 * 12 months / 12, fen, half_up)",
		"hh.total",
		"sum(hh.members, m)"};
	static const char *const hl[] = {"标准线", "reg[region]", "sum(members, m)",
					 "min(members, m)", "max(members, income at month -1)"};
	static const char *const ops[] = {" + ", " - "};
	static const char *const units[] = {"fen", "jiao", "yuan"};
	static const char *const modes[] = {"half_up", "down", "up", "half_even"};
	unsigned nl = cx.ent == 0 ? sizeof(pl) / sizeof(pl[0]) - (cx.in_agg ? 2 : 0) : 5;
	switch (depth <= 0 ? gen_pick(s, 2) : gen_pick(s, 8)) {
	case 0: gen_add(o, cx.ent == 0 ? pl[gen_pick(s, nl)] : hl[gen_pick(s, nl)]); return;
	case 1: gen_add(o, GEN_ONE(s, gen_money_consts)); return;
	case 2:
		gen_op(s, o, cx, depth, gen_money, ops, 2, gen_money_consts,
		       sizeof(gen_money_consts) / sizeof(gen_money_consts[0]));
		return;
	case 3: /* money * count, either side */
		gen_add(o, "(");
		if (gen_pick(s, 2)) {
			gen_money(s, o, cx, depth - 1);
			gen_add(o, " * ");
			gen_int(s, o, cx, depth - 1);
		} else {
			gen_int(s, o, cx, depth - 1);
			gen_add(o, " * ");
			gen_money(s, o, cx, depth - 1);
		}
		gen_add(o, ")");
		return;
	case 4: /* rounding a product or a quotient */
		gen_add(o, "round(");
		gen_money(s, o, cx, depth - 1);
		if (gen_pick(s, 2)) {
			gen_add(o, " * ");
			gen_dec(s, o, cx, depth - 1);
		} else {
			gen_add(o, " / ");
			gen_int(s, o, cx, depth - 1);
		}
		gen_add(o, ", ");
		gen_add(o, GEN_ONE(s, units));
		gen_add(o, ", ");
		gen_add(o, GEN_ONE(s, modes));
		gen_add(o, ")");
		return;
	case 5:
		gen_add(o, gen_pick(s, 2) ? "-" : "abs");
		gen_add(o, "(");
		gen_money(s, o, cx, depth - 1);
		gen_add(o, ")");
		return;
	case 6:
		if (cx.ent == 0) {
			gen_add(o, "sum(income, ");
			gen_window(s, o);
			gen_add(o, ")");
			return;
		}
		/* fall through */
	default:
		gen_add(o, "(if ");
		gen_bool(s, o, cx, depth - 1);
		gen_add(o, " then ");
		gen_money(s, o, cx, depth - 1);
		gen_add(o, " else ");
		gen_money(s, o, cx, depth - 1);
		gen_add(o, ")");
	}
}

static void gen_bool(struct gen_src *s, struct gen_out *o, struct gen_cx cx, int depth)
{
	static const char *const cmp[] = {" < ", " <= ", " > ", " >= ", " = ", " != "};
	static const char *const bconst[] = {"true", "false", "flag"};
	static const char *const pl[] = {"vet",
					 "flag",
					 "receives(\"x\")",
					 "refused(\"x\", last 6 months)",
					 "received(\"x\", year 2025)",
					 "applied(\"x\", months -2 to 1)",
					 "known(grade)",
					 "known(run)",
					 "region within \"44\"",
					 "coalesce(vet, false)",
					 "coalesce(region, \"x\") = \"x\"",
					 "hh.big"};
	unsigned pick = depth <= 0 ? gen_pick(s, 3) : gen_pick(s, 16);
	switch (pick) {
	case 0:
		if (cx.ent == 0) { /* hh.big, last, is not read inside an aggregate */
			gen_add(o, pl[gen_pick(s, sizeof(pl) / sizeof(pl[0]) - cx.in_agg)]);
			return;
		}
		gen_add(o, "flag");
		return;
	case 1: gen_add(o, GEN_ONE(s, bconst)); return;
	case 2:
		gen_code(s, o, cx);
		gen_add(o, GEN_ONE(s, ((const char *const[]){" = ", " != "})));
		gen_code(s, o, cx);
		return;
	case 3:
	case 4: {
		static const char *const ops[] = {" and ", " or "};
		gen_op(s, o, cx, depth, gen_bool, ops, 2, bconst, 3);
		return;
	}
	case 5:
		gen_add(o, "not ");
		gen_bool(s, o, cx, depth - 1);
		return;
	case 6:
		gen_add(o, "(");
		gen_int(s, o, cx, depth - 1);
		gen_add(o, GEN_ONE(s, cmp));
		if (gen_pick(s, 2))
			gen_add(o, GEN_ONE(s, gen_int_consts));
		else
			gen_int(s, o, cx, depth - 1);
		gen_add(o, ")");
		return;
	case 7:
		gen_add(o, "(");
		if (gen_pick(s, 3) == 0)
			gen_add(o, GEN_ONE(s, gen_money_consts));
		else
			gen_money(s, o, cx, depth - 1);
		gen_add(o, GEN_ONE(s, cmp));
		gen_money(s, o, cx, depth - 1);
		gen_add(o, ")");
		return;
	case 8: /* decimals with counts on either side */
		gen_add(o, "(");
		if (gen_pick(s, 2))
			gen_dec(s, o, cx, depth - 1);
		else
			gen_int(s, o, cx, depth - 1);
		gen_add(o, GEN_ONE(s, cmp));
		gen_dec(s, o, cx, depth - 1);
		gen_add(o, ")");
		return;
	case 9:
		gen_add(o, "(");
		gen_date(s, o, cx);
		gen_add(o, GEN_ONE(s, cmp));
		gen_date(s, o, cx);
		gen_add(o, ")");
		return;
	case 10:
		gen_code(s, o, cx);
		gen_add(o, gen_pick(s, 2)   ? " in {\"440303\", \"x\"}"
			   : gen_pick(s, 2) ? " within {\"11\", \"4403\"}"
					    : " not in {\"44\"}");
		return;
	case 11:
		gen_int(s, o, cx, depth - 1);
		gen_add(o, " between ");
		gen_int(s, o, cx, 0);
		gen_add(o, " and ");
		gen_int(s, o, cx, 0);
		return;
	case 12: { /* runs compared with counts, either side */
		static const char *const runs[] = {"continuous_months(insured)", "run"};
		if (cx.ent != 0) {
			gen_add(o, "flag");
			return;
		}
		gen_add(o, "(");
		if (gen_pick(s, 2)) {
			gen_add(o, GEN_ONE(s, runs));
			gen_add(o, GEN_ONE(s, cmp));
			gen_int(s, o, cx, 0);
		} else {
			gen_int(s, o, cx, 0);
			gen_add(o, GEN_ONE(s, cmp));
			gen_add(o, GEN_ONE(s, runs));
		}
		gen_add(o, ")");
		return;
	}
	case 13: { /* age tests, the engine's fast path */
		static const char *const ages[] = {"age(birth_date) >= 18",
						   "age(birth_date) < 6",
						   "age(birth_date) between 0 and 5",
						   "age(birth_date) > 60",
						   "age(day) <= 25",
						   "18 <= age(birth_date)"};
		gen_add(o, cx.ent == 0 ? GEN_ONE(s, ages) : "age(day) >= 18");
		return;
	}
	case 14:
		if (!cx.in_agg) { /* aggregates over a group */
			static const char *const pa[] = {"any(hh.members, ", "all(hh.members, ",
							 "any(emp.employees, "};
			static const char *const ha[] = {"any(members, ", "all(members, "};
			struct gen_cx mc = {0, true};
			gen_add(o, cx.ent == 0 ? GEN_ONE(s, pa) : GEN_ONE(s, ha));
			gen_bool(s, o, mc, 0);
			if (gen_pick(s, 2)) {
				gen_add(o, " where ");
				gen_bool(s, o, mc, 0);
			}
			gen_add(o, ")");
			return;
		}
		gen_add(o, "vet");
		return;
	default:
		gen_add(o, "(if ");
		gen_bool(s, o, cx, depth - 1);
		gen_add(o, " then ");
		gen_bool(s, o, cx, depth - 1);
		gen_add(o, " else ");
		gen_bool(s, o, cx, depth - 1);
		gen_add(o, ")");
	}
}

/* A program: parameters, definitions and one to four rules. */
static void gen_program(struct gen_src *s, struct gen_out *o)
{
	char buf[512];
	static const char *const ints[] = {"0", "3", "-7", "18", "999999999999999"};
	static const char *const decs[] = {"1.5", "33%", "-0.25", "0.000001"};
	static const char *const moneys[] = {"0", "1500.00", "-3.5", "9000000000000.00"};
	gen_add(o, "schema \"schema.yaml\"\n");
	snprintf(buf, sizeof(buf),
		 "param flag: bool = %s\n legal \"x\"\nparam k: int = %s\n legal \"x\"\n"
		 "param ratio: decimal = %s\n legal \"x\"\nparam 标准线: money = %s\n legal \"x\"\n"
		 "param day: date = %s\n legal \"x\"\n",
		 gen_pick(s, 2) ? "true" : "false", GEN_ONE(s, ints), GEN_ONE(s, decs),
		 GEN_ONE(s, moneys),
		 GEN_ONE(s, ((const char *const[]){"2000-02-29", "2025-07-02", "2007-07-01"})));
	gen_add(o, buf);
	snprintf(buf, sizeof(buf),
		 "param reg: money by region\n legal \"x\"\n from 2020-01-01: "
		 "\"44\" = %s, \"4403\" = %s%s\n",
		 GEN_ONE(s, moneys), GEN_ONE(s, moneys), gen_pick(s, 2) ? ", default = 7.00" : "");
	gen_add(o, buf);
	gen_add(o, "let person.l_inc = income at month -1\nlet person.run = "
		   "continuous_months(insured)\n"
		   "let household.人数 = count(members)\n"
		   "let household.total = sum(members, coalesce(m, 0 yuan))\n"
		   "let household.big = 人数 > 2 or area > 100\n"
		   "let enterprise.staff_now = staff at month -1\n");
	int nrules = 1 + (int)gen_pick(s, 4);
	for (int r = 0; r < nrules; r++) {
		struct gen_cx cx = {gen_pick(s, 4) == 0 ? 1 : 0, false};
		snprintf(buf, sizeof(buf),
			 "rule r%d \"中\" / \"en\"\n version \"1\"\n legal \"x\"\n%s for %s\n", r,
			 gen_pick(s, 8) == 0   ? " valid from 2026-01-01\n"
			 : gen_pick(s, 8) == 0 ? " valid from 2020-01-01 to 2025-07-01\n"
					       : "",
			 cx.ent ? "household" : "person");
		gen_add(o, buf);
		int nc = 1 + (int)gen_pick(s, 2);
		for (int c = 0; c < nc; c++) {
			/* condition names in Chinese and in ASCII */
			snprintf(buf, sizeof(buf),
				 c ? " condition c%d \"条件\" / \"cond\": "
				   : " condition 条件%d \"条件\" / \"cond\": ",
				 c);
			gen_add(o, buf);
			gen_bool(s, o, cx, 3);
			gen_add(o, "\n");
		}
		int ne = (int)gen_pick(s, 3);
		for (int e = 0; e < ne; e++) {
			snprintf(buf, sizeof(buf),
				 " exception e%d to 条件0 \"例外\" / \"exc\": when ", e);
			gen_add(o, buf);
			gen_bool(s, o, cx, 1);
			gen_add(o, "\n");
		}
		if (ne >= 2 && gen_pick(s, 2))
			gen_add(o, gen_pick(s, 2) ? " exceptions to 条件0: any\n"
						  : " exceptions to 条件0: conflict\n");
		if (gen_pick(s, 3)) {
			gen_add(o, " amount: ");
			gen_money(s, o, cx, 2);
			gen_add(o, "\n");
			int na = (int)gen_pick(s, 4);
			for (int e = 0; e < na; e++) {
				snprintf(buf, sizeof(buf),
					 " exception a%d to amount \"例外\" / \"exc\": when ", e);
				gen_add(o, buf);
				gen_bool(s, o, cx, 1);
				gen_add(o, " then ");
				gen_money(s, o, cx, 1);
				gen_add(o, "\n");
			}
			static const char *const modes[] = {"conflict", "first", "max", "sum"};
			if (na && gen_pick(s, 3)) {
				snprintf(buf, sizeof(buf), " exceptions to amount: %s\n",
					 GEN_ONE(s, modes));
				gen_add(o, buf);
			}
		}
		gen_add(o, "end\n");
	}
}

/* ---- data ---- */

static const char *gen_val(struct gen_src *s, int kind)
{
	static const char *const dates[] = {"",           "1945-07-01", "2000-02-29", "2025-06-30",
					    "1990-12-31", "2024-02-29", "2007-07-01", "2007-07-02",
					    "2025-07-02", "1800-03-01"};
	static const char *const regions[] = {"", "440303", "110101", "44", "x", "4403"};
	static const char *const ints[] = {
		"", "0", "1", "2", "-5", "18", "9223372036854775807", "-9223372036854775808"};
	static const char *const bools[] = {"", "true", "false", "true"};
	static const char *const money[] = {
		"", "0", "1.01", "-3.5", "1500", "0.005", "9999999999999.99", "-9999999999999.99"};
	static const char *const links[] = {"", "h0", "h1", "h2", "missing"};
	static const char *const elinks[] = {"", "e0", "e1", "nope"};
	switch (kind) {
	case 0: return GEN_ONE(s, dates);
	case 1: return GEN_ONE(s, regions);
	case 2: return GEN_ONE(s, ints);
	case 3: return GEN_ONE(s, bools);
	case 4: return GEN_ONE(s, money); /* "0.005" is refused: the cell stays unknown */
	case 5: return GEN_ONE(s, links);
	default: return GEN_ONE(s, elinks);
	}
}

static void gen_set(struct dg_data *d, int ent, int64_t row, const char *field, const char *v)
{
	int f = dg_schema_field(d->schema, ent, field);
	(void)!dg_data_set(d, ent, row, f, v, strlen(v), NULL);
}

/* Households h0..h2, enterprises e0..e1, np persons; monthly columns from a first to
 * a last month around July 2025, so windows run past the data at either end. */
static void gen_data(struct gen_src *s, struct dg_data *d, int np)
{
	int64_t row;
	char id[16];
	for (int h = 0; h < 3; h++) {
		snprintf(id, sizeof(id), "h%d", h);
		(void)!dg_data_add_row(d, 1, id, strlen(id), &row, NULL);
		gen_set(d, 1, row, "region", gen_val(s, 1));
		gen_set(d, 1, row, "area", gen_val(s, 2));
	}
	int32_t first = DG_DATA_MONTH(2024, 9) + (int32_t)gen_pick(s, 10);
	int32_t last = first + (int32_t)gen_pick(s, 14);
	for (int e = 0; e < 2; e++) {
		snprintf(id, sizeof(id), "e%d", e);
		(void)!dg_data_add_row(d, 2, id, strlen(id), &row, NULL);
		gen_set(d, 2, row, "region", gen_val(s, 1));
		gen_set(d, 2, row, "rep", gen_pick(s, 2) ? "p0" : "");
		int f = dg_schema_field(d->schema, 2, "staff");
		for (int32_t m = first; m <= last; m++) {
			const char *v = gen_val(s, 2);
			(void)!dg_data_set_month(d, 2, row, f, m, v, strlen(v), NULL);
		}
	}
	int fi = dg_schema_field(d->schema, 0, "income");
	int fs = dg_schema_field(d->schema, 0, "insured");
	int fh = dg_schema_field(d->schema, 0, "hours");
	for (int i = 0; i < np; i++) {
		snprintf(id, sizeof(id), "p%d", i);
		(void)!dg_data_add_row(d, 0, id, strlen(id), &row, NULL);
		gen_set(d, 0, row, "birth_date", gen_val(s, 0));
		gen_set(d, 0, row, "region", gen_val(s, 1));
		gen_set(d, 0, row, "grade", gen_val(s, 2));
		gen_set(d, 0, row, "vet", gen_val(s, 3));
		gen_set(d, 0, row, "m", gen_val(s, 4));
		gen_set(d, 0, row, "hh", gen_val(s, 5));
		gen_set(d, 0, row, "emp", gen_val(s, 6));
		/* mostly paid runs with a gap now and then, so runs end in every way */
		for (int32_t m = first; m <= last; m++) {
			const char *v = gen_pick(s, 6) ? "true" : gen_val(s, 3);
			(void)!dg_data_set_month(d, 0, row, fs, m, v, strlen(v), NULL);
			v = gen_pick(s, 3) ? "1000" : gen_val(s, 4);
			(void)!dg_data_set_month(d, 0, row, fi, m, v, strlen(v), NULL);
			v = gen_pick(s, 3) ? "40" : gen_val(s, 2);
			(void)!dg_data_set_month(d, 0, row, fh, m, v, strlen(v), NULL);
		}
		if (gen_pick(s, 3) == 0) {
			static const char *const st[] = {"paid", "refused", "applied", "stopped"};
			(void)!dg_data_add_benefit(
				d, 0, row, "x", GEN_ONE(s, st),
				DG_DATA_MONTH(2024, 12) + (int32_t)gen_pick(s, 12), NULL);
		}
	}
}

/* ---- the check ---- */

/*
 * Engine against reference on every record of every rule: the batch outcome, the
 * failed bit of every condition, one-record evaluation (outcome and amount) for every
 * stride-th record, and the amount totals. Returns the number of disagreements;
 * the first is described in why.
 */
static int gen_check(const struct dg_program *p, const struct dg_data *d,
		     const struct dg_code *code, const struct dg_result *res, dg_day ref,
		     int stride, char *why, size_t whyn)
{
	struct ref_ctx c;
	int bad = 0;
	ref_init(&c, p, d, ref, NULL, 0);
	for (int ri = 0; ri < p->nrules; ri++) {
		const struct dg_rule *r = &p->rules[ri];
		const struct dg_rcode *rc = &code->rc[ri];
		__int128 total = 0;
		int64_t unknown_amounts = 0;
		for (int64_t row = 0; row < d->t[r->ent].n; row++) {
			struct ref_outcome o;
			ref_rule(&c, ri, row, &o);
			enum dg_outcome got = dg_result_outcome(res, ri, row);
			const char *what = NULL;
			int64_t got_amount = INT64_MIN; /* shown when one-record evaluation ran */
			if (got != o.outcome)
				what = "batch outcome";
			for (int ci = 0; !what && res->selected[ri] && ci < rc->ncond; ci++)
				if (dg_bit(res->fail[rc->cond0 + ci], row) !=
				    (o.cond[ci] == DG_NOT_ELIGIBLE))
					what = "a condition's failed bit";
			if (o.outcome == DG_ELIGIBLE && r->amount) {
				if (o.amount_known)
					total += o.amount;
				else
					unknown_amounts++;
			}
			int64_t am = 0;
			if (!what && res->amount && got == DG_ELIGIBLE && r->amount &&
			    (dg_result_amount(res, ri, row, &am) != o.amount_known ||
			     (o.amount_known && am != o.amount))) {
				what = "batch amount";
				got_amount = am;
			}
			struct dg_trace tr = {0};
			if (!what && row % stride == 0 &&
			    dg_rule_eval_one(code, d, ri, row, &tr, NULL) == DG_OK) {
				if (tr.outcome != o.outcome)
					what = "one-record outcome";
				else if (o.outcome == DG_ELIGIBLE && r->amount &&
					 (tr.amount_known != o.amount_known ||
					  (o.amount_known && tr.amount != o.amount)))
					what = "one-record amount";
				got_amount = tr.amount_known ? tr.amount : INT64_MIN;
				dg_trace_release(&tr);
			}
			if (what && bad++ == 0)
				snprintf(
					why, whyn,
					"rule %s, %s %s: %s: engine %s (amount %lld), reference %s "
					"(amount %s%lld)",
					r->id, p->schema->e[r->ent].name,
					dg_data_id(d, r->ent, row), what, dg_outcome_name(got),
					(long long)got_amount, dg_outcome_name(o.outcome),
					o.amount_known ? "" : "unknown ", (long long)o.amount);
		}
		bool big = total > INT64_MAX || total < INT64_MIN;
		if (res->selected[ri] && r->amount &&
		    (big != res->amount_overflow[ri] ||
		     (!big && (int64_t)total != res->amount_sum[ri]) ||
		     unknown_amounts != res->amount_unknown[ri]) &&
		    bad++ == 0)
			snprintf(why, whyn, "rule %s: amount total or unknown count differs",
				 r->id);
	}
	return bad;
}

/* Write the schema the programs name into dir. */
static int gen_write_schema(const char *dir)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/schema.yaml", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(gen_schema, f);
	return fclose(f);
}

#endif
