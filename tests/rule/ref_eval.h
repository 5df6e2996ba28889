/*
 * ref_eval.h - a reference evaluator for the rule language, used only by tests
 * and fuzzers to check the engine (compile.c + vm.c) against an independent
 * reading of docs/rules.md.
 *
 * It walks the checked syntax tree for one record at a time, computing every
 * value exactly in 128 bits and saying in one place what each construct means:
 * Kleene's and/or/not, unknown on overflow, rounding modes, windows, runs of
 * months, benefit history as of @ref, group aggregates, exceptions and how they
 * combine. It shares with the engine only the parsed program and the loaded
 * columns; nothing of the compiler, the bytecode or the block machine. It is
 * written to be read, not to be fast: an aggregate scans every member row.
 *
 * Header-only (static functions) because the unit tests and the fuzz targets
 * are each built from one source file.
 */
#ifndef DG_TEST_REF_EVAL_H
#define DG_TEST_REF_EVAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "rule/rule.h"

/* A value: known or not; codes carry their text; a run of months whose count is
 * only a lower bound (it reached a month with no data) carries at_least. */
struct ref_val {
	int64_t v;
	bool k;
	bool at_least;
	const char *s; /* codes */
};

struct ref_ctx {
	const struct dg_program *p;
	const struct dg_data *d;
	dg_day ref;
	int32_t rm; /* month of @ref, as DG_DATA_MONTH */
	const struct dg_override *ov;
	int nov;
};

#define REF_U ((struct ref_val){0, false, false, NULL})

static struct ref_val ref_k(int64_t v)
{
	return (struct ref_val){v, true, false, NULL};
}

/* A 128-bit result as a value: unknown when it does not fit in 64 bits. */
static struct ref_val ref_fit(__int128 x)
{
	if (x > INT64_MAX || x < INT64_MIN)
		return REF_U;
	return ref_k((int64_t)x);
}

/* Only a direct comparison can use a lower bound; anywhere else it is unknown. */
static struct ref_val ref_norm(struct ref_val x)
{
	return x.at_least ? REF_U : x;
}

static void ref_init(struct ref_ctx *c, const struct dg_program *p, const struct dg_data *d,
		     dg_day ref, const struct dg_override *ov, int nov)
{
	int y, m, dd;
	memset(c, 0, sizeof(*c));
	c->p = p;
	c->d = d;
	c->ref = ref;
	dg_day_to_ymd(ref, &y, &m, &dd);
	c->rm = DG_DATA_MONTH(y, m);
	c->ov = ov;
	c->nov = nov;
}

/* ---- parameters: overrides first (the last given wins), then the version in force ---- */

static bool ref_param_at(const struct ref_ctx *c, int pi, const char *region, int64_t *out)
{
	for (int i = c->nov - 1; i >= 0; i--)
		if (c->ov[i].param == pi &&
		    (!c->ov[i].region || (region && !strcmp(c->ov[i].region, region)))) {
			*out = c->ov[i].value;
			return true;
		}
	const struct dg_param *pm = &c->p->params[pi];
	const struct dg_param_version *in_force = NULL;
	for (int i = 0; i < pm->nv; i++)
		if (pm->v[i].from <= c->ref)
			in_force = &pm->v[i];
	if (!in_force)
		return false;
	for (int i = 0; i < in_force->ne; i++) {
		const char *r = in_force->e[i].region;
		if ((!region && !r) || (region && r && !strcmp(region, r))) {
			*out = in_force->e[i].value;
			return true;
		}
	}
	return false;
}

/* A region parameter: the longest prefix of the code that has a value, else the default. */
static struct ref_val ref_region_param(const struct ref_ctx *c, int pi, const char *code)
{
	char pre[256];
	size_t n = strlen(code);
	int64_t v;
	if (n >= sizeof(pre))
		return REF_U;
	for (size_t len = n + 1; len-- > 0;) {
		memcpy(pre, code, len);
		pre[len] = '\0';
		if (ref_param_at(c, pi, len ? pre : NULL, &v))
			return ref_k(v);
	}
	return REF_U;
}

/* ---- registry values ---- */

static struct ref_val ref_field(const struct ref_ctx *c, int ent, int64_t row, int f)
{
	const struct dg_col *col = &c->d->t[ent].col[f];
	if (row < 0 || !col->k[row])
		return REF_U;
	struct ref_val x = ref_k(col->v[row]);
	if (c->p->schema->e[ent].f[f].ty == TY_CODE)
		x.s = c->d->codes->s[x.v];
	if (c->p->schema->e[ent].f[f].ty == TY_LINK && x.v < 0)
		return REF_U;
	return x;
}

/* One month of a monthly field; a month the registry has no column for is unknown. */
static struct ref_val ref_month(const struct ref_ctx *c, int ent, int64_t row, int f, int64_t m)
{
	const struct dg_table *t = &c->d->t[ent];
	if (!t->mcol[f] || t->m0 == 0 || m - t->m0 < 0 || m - t->m0 >= DG_MAX_MONTHS)
		return REF_U;
	const struct dg_col *col = &t->mcol[f][m - t->m0];
	if (!col->v || !col->k[row])
		return REF_U;
	return ref_k(col->v[row]);
}

/* A window's months as absolute months [*from, *to]. */
static void ref_window(const struct ref_ctx *c, const struct dg_node *w, int64_t *from, int64_t *to)
{
	*from = w->op ? w->ival : c->rm + w->ival;
	*to = w->op ? w->ival2 : c->rm + w->ival2;
}

/* ---- dates ---- */

static bool ref_day_ok(int64_t d)
{
	return d > -3000000 && d < 3000000;
}

/* Completed years; a birthday on 29 February is 1 March in a common year. */
static struct ref_val ref_age(const struct ref_ctx *c, struct ref_val b)
{
	int by, bm, bd, ry, rm, rd;
	if (!b.k || !ref_day_ok(b.v) || b.v > c->ref)
		return REF_U; /* not born yet on @ref: no age */
	dg_day_to_ymd((dg_day)b.v, &by, &bm, &bd);
	dg_day_to_ymd(c->ref, &ry, &rm, &rd);
	if (bm == 2 && bd == 29 && !dg_ymd_valid(ry, 2, 29)) {
		bm = 3;
		bd = 1;
	}
	return ref_k(ry - by - (rm < bm || (rm == bm && rd < bd)));
}

static bool ref_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int ref_month_days(int64_t y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && ref_leap(y) ? 29 : days[m - 1];
}

/* The same day k months on; a day that month lacks is the first of the next month. */
static struct ref_val ref_add_months(struct ref_val day, int64_t k)
{
	int y, m, d;
	if (!day.k || !ref_day_ok(day.v))
		return REF_U;
	dg_day_to_ymd((dg_day)day.v, &y, &m, &d);
	__int128 t = (__int128)y * 12 + (m - 1) + k;
	__int128 ny = t >= 0 ? t / 12 : -((-t + 11) / 12); /* floor */
	int nm = (int)(t - ny * 12) + 1;
	if (ny < 1 || ny > 9999)
		return REF_U;
	if (d <= ref_month_days((int64_t)ny, nm))
		return ref_k(dg_day_from_ymd((int)ny, nm, d));
	return ref_k((int64_t)dg_day_from_ymd((int)ny, nm, ref_month_days((int64_t)ny, nm)) + 1);
}

/* A duration's count: days, or months (a year is 12). */
static struct ref_val ref_duration(const struct ref_ctx *c, const struct dg_node *n)
{
	int64_t v = n->ival;
	if (n->a && !ref_param_at(c, n->a->param, NULL, &v))
		return REF_U;
	return n->ival2 == DUR_YEARS ? ref_fit((__int128)v * 12) : ref_k(v);
}

/* Completed months from a to b (negative when b is earlier). */
static int64_t ref_months_between(int64_t a, int64_t b)
{
	if (b < a)
		return -ref_months_between(b, a);
	int y1, m1, d1, y2, m2, d2;
	dg_day_to_ymd((dg_day)a, &y1, &m1, &d1);
	dg_day_to_ymd((dg_day)b, &y2, &m2, &d2);
	return (int64_t)(y2 - y1) * 12 + (m2 - m1) - (d2 < d1);
}

/* ---- rounding an exact quotient num/den (den != 0) to a unit of fen ---- */

static struct ref_val ref_round(__int128 num, __int128 den, int unit_idx, int mode)
{
	static const int64_t unit_fen[] = {1, 10, 100};
	if (den == 0)
		return REF_U;
	if (den < 0) {
		num = -num;
		den = -den;
	}
	den *= unit_fen[unit_idx];
	bool neg = num < 0;
	__int128 a = neg ? -num : num; /* round the magnitude, then put the sign back */
	__int128 q = a / den, r = a % den;
	switch (mode) {
	case 0: q += 2 * r >= den; break;                       /* half_up: half away from zero */
	case 1: break;                                          /* down: toward zero */
	case 2: q += r != 0; break;                             /* up: away from zero */
	default: q += 2 * r > den || (2 * r == den && (q & 1)); /* half_even */
	}
	return ref_fit((neg ? -q : q) * unit_fen[unit_idx]);
}

static struct ref_val ref_eval(const struct ref_ctx *c, const struct dg_node *n, int ent,
			       int64_t row);

static struct ref_val ref_bool(const struct ref_ctx *c, const struct dg_node *n, int ent,
			       int64_t row)
{
	struct ref_val x = ref_norm(ref_eval(c, n, ent, row));
	if (x.k)
		x.v = x.v != 0;
	return x;
}

/* Kleene */
static struct ref_val ref_and(struct ref_val a, struct ref_val b)
{
	if ((a.k && !a.v) || (b.k && !b.v))
		return ref_k(0);
	return a.k && b.k ? ref_k(1) : REF_U;
}

static struct ref_val ref_or(struct ref_val a, struct ref_val b)
{
	if ((a.k && a.v) || (b.k && b.v))
		return ref_k(1);
	return a.k && b.k ? ref_k(0) : REF_U;
}

/* An int used as a decimal: unknown when it does not fit as one. */
static struct ref_val ref_todec(struct ref_val x)
{
	return x.k ? ref_fit((__int128)x.v * DG_DEC_ONE) : REF_U;
}

static bool ref_cmp_known(int op, int64_t a, int64_t b)
{
	switch (op) {
	case BOP_LT: return a < b;
	case BOP_LE: return a <= b;
	case BOP_GT: return a > b;
	case BOP_GE: return a >= b;
	case BOP_EQ: return a == b;
	default: return a != b;
	}
}

/*
 * A comparison; a run count known only to be at least a.v decides it when every
 * count from a.v up gives the same answer.
 */
static struct ref_val ref_compare(int op, struct ref_val a, struct ref_val b)
{
	if (b.at_least && !a.at_least) { /* put the bound on the left */
		struct ref_val t = a;
		a = b;
		b = t;
		op = op == BOP_LT   ? BOP_GT
		     : op == BOP_LE ? BOP_GE
		     : op == BOP_GT ? BOP_LT
		     : op == BOP_GE ? BOP_LE
				    : op;
	}
	b = ref_norm(b);
	if (!a.k || !b.k)
		return REF_U;
	if (!a.at_least)
		return ref_k(ref_cmp_known(op, a.v, b.v));
	switch (op) { /* the count is a.v or more */
	case BOP_GE: return a.v >= b.v ? ref_k(1) : REF_U;
	case BOP_GT: return a.v > b.v ? ref_k(1) : REF_U;
	case BOP_LT: return a.v >= b.v ? ref_k(0) : REF_U;
	case BOP_LE: return a.v > b.v ? ref_k(0) : REF_U;
	case BOP_EQ: return a.v > b.v ? ref_k(0) : REF_U;
	default: return a.v > b.v ? ref_k(1) : REF_U;
	}
}

static struct ref_val ref_bin(const struct ref_ctx *c, const struct dg_node *n, int ent,
			      int64_t row)
{
	if (n->op == BOP_AND)
		return ref_and(ref_bool(c, n->a, ent, row), ref_bool(c, n->b, ent, row));
	if (n->op == BOP_OR)
		return ref_or(ref_bool(c, n->a, ent, row), ref_bool(c, n->b, ent, row));
	enum dg_ty ta = n->a->ty.base, tb = n->b->ty.base;
	struct ref_val a = ref_eval(c, n->a, ent, row), b = ref_eval(c, n->b, ent, row);
	if ((ta == TY_DUR && tb == TY_DATE) || (ta == TY_DATE && tb == TY_DUR)) {
		const struct dg_node *dur = ta == TY_DUR ? n->a : n->b;
		struct ref_val date = ref_norm(ta == TY_DUR ? b : a), k = ta == TY_DUR ? a : b;
		if (!date.k || !k.k)
			return REF_U;
		__int128 kk = n->op == BOP_SUB ? -(__int128)k.v : k.v;
		if (dur->ival2 == DUR_DAYS)
			return ref_fit(date.v + kk);
		return kk > INT64_MAX || kk < INT64_MIN ? REF_U : ref_add_months(date, (int64_t)kk);
	}
	if (n->op >= BOP_LT && n->op <= BOP_NE) {
		if (ta == TY_CODE || tb == TY_CODE) {
			a = ref_norm(a);
			b = ref_norm(b);
			if (!a.k || !b.k)
				return REF_U;
			bool eq = !strcmp(a.s, b.s);
			return ref_k(n->op == BOP_EQ ? eq : !eq);
		}
		if (ta == TY_INT && tb == TY_DEC)
			a = ref_todec(ref_norm(a));
		if (ta == TY_DEC && tb == TY_INT)
			b = ref_todec(ref_norm(b));
		return ref_compare(n->op, a, b);
	}
	a = ref_norm(a);
	b = ref_norm(b);
	if (ta == TY_INT && tb == TY_DEC && n->op != BOP_MUL)
		a = ref_todec(a);
	if (ta == TY_DEC && tb == TY_INT && n->op != BOP_MUL && n->op != BOP_DIV)
		b = ref_todec(b);
	if (!a.k || !b.k)
		return REF_U;
	__int128 x = a.v, y = b.v;
	switch (n->op) {
	case BOP_ADD: return ref_fit(x + y);
	case BOP_SUB: return ref_fit(x - y);
	case BOP_MUL:
		if (ta == TY_DEC && tb == TY_DEC)
			return ref_fit(x * y / DG_DEC_ONE);
		return ref_fit(x * y); /* int, money by int, decimal by int */
	default:                       /* BOP_DIV: every division outside round() gives a decimal */
		if (y == 0)
			return REF_U;
		if (ta == TY_DEC && tb == TY_INT)
			return ref_fit(x / y);
		return ref_fit(x * DG_DEC_ONE / y);
	}
}

/* ---- windows and runs of a monthly field ---- */

static struct ref_val ref_window_sum(const struct ref_ctx *c, const struct dg_node *f,
				     const struct dg_node *w, int ent, int64_t row, bool count)
{
	int64_t from, to;
	__int128 sum = 0;
	ref_window(c, w, &from, &to);
	for (int64_t m = from; m <= to; m++) {
		struct ref_val x = ref_month(c, ent, row, f->field, m);
		if (!x.k)
			return REF_U;
		sum += count ? x.v != 0 : x.v;
	}
	return ref_fit(sum);
}

static struct ref_val ref_run(const struct ref_ctx *c, const struct dg_node *f, int ent,
			      int64_t row)
{
	int64_t n = 0;
	for (int64_t m = c->rm - 1;; m--, n++) {
		struct ref_val x = ref_month(c, ent, row, f->field, m);
		if (!x.k) { /* no data from here back: the run is at least n */
			struct ref_val r = ref_k(n);
			r.at_least = true;
			return r;
		}
		if (!x.v)
			return ref_k(n);
	}
}

/* paid / refused / any application in [from, to], never after @ref's month */
static struct ref_val ref_history(const struct ref_ctx *c, const struct dg_node *n, int ent,
				  int64_t row)
{
	int64_t from = c->rm - 1, to = c->rm;
	int want = BEN_PAID;
	if (strcmp(n->name, "receives")) {
		ref_window(c, n->args[1], &from, &to);
		want = !strcmp(n->name, "refused")   ? BEN_REFUSED
		       : !strcmp(n->name, "applied") ? 0
						     : BEN_PAID;
	}
	if (to > c->rm)
		to = c->rm;
	const struct dg_table *t = &c->d->t[ent];
	int ben = dg_intern_find(c->d->codes, n->args[0]->name, strlen(n->args[0]->name));
	for (int64_t j = t->boff[row]; ben >= 0 && j < t->boff[row + 1]; j++) {
		const struct dg_benefit_rec *b = &t->brec[j];
		if (b->benefit == ben && b->month >= from && b->month <= to &&
		    (want ? b->status == want : b->status != BEN_STOPPED))
			return ref_k(1);
	}
	return ref_k(0);
}

/* ---- aggregates: every member row whose link points at the group's record ---- */

static struct ref_val ref_agg(const struct ref_ctx *c, const struct dg_node *n, int ent,
			      int64_t row)
{
	const struct dg_agg *ag = &c->p->aggs[n->agg];
	const struct dg_node *g = n->args[0];
	int64_t grow = row;
	if (g->kind == N_PATH) {
		struct ref_val l = ref_field(c, ent, row, g->link);
		if (!l.k)
			return REF_U;
		grow = l.v;
	}
	const struct dg_group *gr = &c->p->schema->e[ag->group_ent].g[ag->group];
	const struct dg_table *mt = &c->d->t[ag->member_ent];
	bool unknown = false, decided = false;
	__int128 sum = 0;
	int64_t cnt = 0, best = 0;
	for (int64_t m = 0; m < mt->n; m++) {
		if (!mt->col[gr->link_field].k[m] || mt->col[gr->link_field].v[m] != grow)
			continue;
		struct ref_val w = ag->where ? ref_bool(c, ag->where, ag->member_ent, m) : ref_k(1);
		if (ag->op == AGG_ANY || ag->op == AGG_ALL) {
			struct ref_val e = ref_bool(c, ag->e, ag->member_ent, m);
			/* any: or of (w and e); all: and of (not w or e) */
			struct ref_val not_w = w.k ? ref_k(!w.v) : REF_U;
			struct ref_val t = ag->op == AGG_ANY ? ref_and(w, e) : ref_or(not_w, e);
			if (!t.k)
				unknown = true;
			else if (t.v == (ag->op == AGG_ANY))
				decided = true;
			continue;
		}
		if (!w.k) {
			unknown = true;
			continue;
		}
		if (!w.v)
			continue;
		if (ag->op == AGG_COUNT) {
			cnt++;
			continue;
		}
		struct ref_val e = ref_norm(ref_eval(c, ag->e, ag->member_ent, m));
		if (!e.k) {
			unknown = true;
			continue;
		}
		sum += e.v;
		if (cnt == 0 || (ag->op == AGG_MIN ? e.v < best : e.v > best))
			best = e.v;
		cnt++;
	}
	switch (ag->op) {
	case AGG_ANY: return decided ? ref_k(1) : unknown ? REF_U : ref_k(0);
	case AGG_ALL: return decided ? ref_k(0) : unknown ? REF_U : ref_k(1);
	default: break;
	}
	if (unknown)
		return REF_U;
	switch (ag->op) {
	case AGG_COUNT: return ref_k(cnt);
	case AGG_SUM: return ref_fit(sum);
	default: return cnt ? ref_k(best) : REF_U;
	}
}

/* round(x, unit, mode) over the exact value of x */
static struct ref_val ref_round_call(const struct ref_ctx *c, const struct dg_node *n, int ent,
				     int64_t row)
{
	const struct dg_node *x = n->args[0];
	int unit = (int)n->ival, mode = (int)n->ival2;
	if (x->kind == N_BIN && x->ty.base == TY_RAW) {
		struct ref_val a = ref_norm(ref_eval(c, x->a, ent, row));
		struct ref_val b = ref_norm(ref_eval(c, x->b, ent, row));
		if (!a.k || !b.k)
			return REF_U;
		if (x->op == BOP_MUL) /* money by a decimal */
			return ref_round((__int128)a.v * b.v, DG_DEC_ONE, unit, mode);
		return ref_round(a.v, b.v, unit, mode); /* money by a count */
	}
	if (x->kind == N_CALL && !strcmp(x->name, "avg")) {
		struct ref_val s = ref_window_sum(c, x->args[0], x->args[1], ent, row, false);
		if (!s.k)
			return REF_U;
		return ref_round(s.v, x->args[1]->ival2 - x->args[1]->ival + 1, unit, mode);
	}
	struct ref_val a = ref_norm(ref_eval(c, x, ent, row));
	return a.k ? ref_round(a.v, 1, unit, mode) : REF_U;
}

static struct ref_val ref_call(const struct ref_ctx *c, const struct dg_node *n, int ent,
			       int64_t row)
{
	const char *f = n->name;
	const struct dg_node *const *a = (const struct dg_node *const *)n->args;
	if (n->agg >= 0)
		return ref_agg(c, n, ent, row);
	if (!strcmp(f, "age"))
		return ref_age(c, ref_norm(ref_eval(c, a[0], ent, row)));
	if (!strcmp(f, "days_between") || !strcmp(f, "months_between")) {
		struct ref_val x = ref_norm(ref_eval(c, a[0], ent, row));
		struct ref_val y = ref_norm(ref_eval(c, a[1], ent, row));
		if (!x.k || !y.k)
			return REF_U;
		if (f[0] == 'd')
			return ref_fit((__int128)y.v - x.v);
		if (!ref_day_ok(x.v) || !ref_day_ok(y.v))
			return REF_U;
		return ref_k(ref_months_between(x.v, y.v));
	}
	if (!strcmp(f, "min") || !strcmp(f, "max")) {
		struct ref_val x = ref_norm(ref_eval(c, a[0], ent, row));
		struct ref_val y = ref_norm(ref_eval(c, a[1], ent, row));
		if (!x.k || !y.k)
			return REF_U;
		return ref_k(f[1] == 'i' ? (x.v < y.v ? x.v : y.v) : (x.v > y.v ? x.v : y.v));
	}
	if (!strcmp(f, "abs")) {
		struct ref_val x = ref_norm(ref_eval(c, a[0], ent, row));
		return x.k ? ref_fit(x.v < 0 ? -(__int128)x.v : x.v) : REF_U;
	}
	if (!strcmp(f, "known"))
		return ref_k(ref_norm(ref_eval(c, a[0], ent, row)).k);
	if (!strcmp(f, "coalesce")) {
		struct ref_val x = ref_norm(ref_eval(c, a[0], ent, row));
		return x.k ? x : ref_norm(ref_eval(c, a[1], ent, row));
	}
	if (!strcmp(f, "year_of") || !strcmp(f, "month_of") || !strcmp(f, "day_of") ||
	    !strcmp(f, "end_of_month")) {
		struct ref_val x = ref_norm(ref_eval(c, a[0], ent, row));
		int y, m, d;
		if (!x.k || !ref_day_ok(x.v))
			return REF_U;
		dg_day_to_ymd((dg_day)x.v, &y, &m, &d);
		switch (f[0]) {
		case 'y': return ref_k(y);
		case 'm': return ref_k(m);
		case 'd': return ref_k(d);
		default: return ref_k(dg_day_from_ymd(y, m, ref_month_days(y, m)));
		}
	}
	if (!strcmp(f, "date_of")) {
		struct ref_val y = ref_norm(ref_eval(c, a[0], ent, row));
		struct ref_val m = ref_norm(ref_eval(c, a[1], ent, row));
		struct ref_val d = ref_norm(ref_eval(c, a[2], ent, row));
		if (!y.k || !m.k || !d.k || y.v < 1 || y.v > 9999 || m.v < 1 || m.v > 12 ||
		    d.v < 1 || d.v > ref_month_days(y.v, (int)m.v))
			return REF_U;
		return ref_k(dg_day_from_ymd((int)y.v, (int)m.v, (int)d.v));
	}
	if (!strcmp(f, "round"))
		return ref_round_call(c, n, ent, row);
	if (!strcmp(f, "sum") || !strcmp(f, "months_with"))
		return ref_window_sum(c, a[0], a[1], ent, row, f[0] == 'm');
	if (!strcmp(f, "avg")) { /* of counts: a decimal, toward zero */
		struct ref_val s = ref_window_sum(c, a[0], a[1], ent, row, false);
		if (!s.k)
			return REF_U;
		return ref_fit((__int128)s.v * DG_DEC_ONE / (a[1]->ival2 - a[1]->ival + 1));
	}
	if (!strcmp(f, "continuous_months"))
		return ref_run(c, a[0], ent, row);
	return ref_history(c, n, ent, row);
}

static struct ref_val ref_eval(const struct ref_ctx *c, const struct dg_node *n, int ent,
			       int64_t row)
{
	switch (n->kind) {
	case N_INT:
	case N_DEC:
	case N_MONEY:
	case N_DATE:
	case N_BOOL: return ref_k(n->ival);
	case N_REF: return ref_k(c->ref);
	case N_STR: {
		struct ref_val x = ref_k(0);
		x.s = n->name;
		return x;
	}
	case N_NAME:
		if (n->op == 1) /* a definition: its value, a run's bound included */
			return ref_eval(c, n->a, ent, row);
		if (n->param >= 0) {
			int64_t v;
			return ref_param_at(c, n->param, NULL, &v) ? ref_k(v) : REF_U;
		}
		return ref_field(c, ent, row, n->field);
	case N_PATH: {
		struct ref_val l = ref_field(c, ent, row, n->link);
		if (!l.k)
			return REF_U;
		if (n->op == 1) /* a definition of the linked record */
			return ref_norm(ref_eval(c, n->a, n->ent, l.v));
		return ref_field(c, n->ent, l.v, n->field);
	}
	case N_INDEX: {
		struct ref_val code = ref_norm(ref_eval(c, n->b, ent, row));
		return code.k ? ref_region_param(c, n->param, code.s) : REF_U;
	}
	case N_AT: return ref_month(c, ent, row, n->a->field, c->rm + n->ival);
	case N_BIN: return ref_bin(c, n, ent, row);
	case N_NOT: {
		struct ref_val x = ref_bool(c, n->a, ent, row);
		return x.k ? ref_k(!x.v) : REF_U;
	}
	case N_NEG: {
		struct ref_val x = ref_norm(ref_eval(c, n->a, ent, row));
		return x.k ? ref_fit(-(__int128)x.v) : REF_U;
	}
	case N_IF: {
		struct ref_val w = ref_bool(c, n->a, ent, row);
		if (!w.k)
			return REF_U;
		return ref_norm(ref_eval(c, w.v ? n->b : n->c, ent, row));
	}
	case N_BETWEEN: {
		/* a run's bound counts for the value tested, not for the limits */
		struct ref_val x = ref_eval(c, n->a, ent, row);
		struct ref_val lo = ref_norm(ref_eval(c, n->b, ent, row));
		struct ref_val hi = ref_norm(ref_eval(c, n->c, ent, row));
		return ref_and(ref_compare(BOP_LE, lo, x), ref_compare(BOP_LE, x, hi));
	}
	case N_IN:
	case N_WITHIN: {
		struct ref_val x = ref_norm(ref_eval(c, n->a, ent, row));
		if (!x.k)
			return REF_U;
		for (int i = 0; i < n->b->nargs; i++) {
			const char *e = n->b->args[i]->name;
			if (n->kind == N_IN ? !strcmp(x.s, e) : !strncmp(x.s, e, strlen(e)))
				return ref_k(1);
		}
		return ref_k(0);
	}
	case N_CALL: return ref_call(c, n, ent, row);
	case N_DUR: return ref_duration(c, n);
	default: return REF_U;
	}
}

/* ---- a rule over one record ---- */

struct ref_outcome {
	enum dg_outcome outcome;
	int ncond;
	enum dg_outcome cond[64]; /* per condition: ELIGIBLE true, NOT_ELIGIBLE false, UNKNOWN */
	bool amount_known;
	int64_t amount;
};

static enum dg_outcome ref_tri(struct ref_val x)
{
	return !x.k ? DG_UNKNOWN : x.v ? DG_ELIGIBLE : DG_NOT_ELIGIBLE;
}

/* The amount after its exceptions, as the rule says they combine. */
static struct ref_val ref_amount(const struct ref_ctx *c, const struct dg_rule *r, int64_t row,
				 bool *conflict)
{
	struct ref_val base = ref_norm(ref_eval(c, r->amount, r->ent, row));
	bool any_unknown = false, applied = false, all_known = true;
	__int128 sum = 0, best = 0;
	struct ref_val one = REF_U; /* conflict mode: the one that applies */
	int napplied = 0;
	for (int j = 0; j < r->nc; j++) {
		const struct dg_cond *x = &r->c[j];
		if (x->kind != CL_EXC_AMOUNT)
			continue;
		struct ref_val w = ref_bool(c, x->e, r->ent, row);
		if (r->amount_combine == COMB_FIRST) { /* the first that applies, in order */
			if (!w.k)
				return REF_U;
			if (w.v)
				return ref_norm(ref_eval(c, x->then, r->ent, row));
			continue;
		}
		if (!w.k) {
			any_unknown = true;
			continue;
		}
		if (!w.v)
			continue;
		struct ref_val t = ref_norm(ref_eval(c, x->then, r->ent, row));
		all_known = all_known && t.k;
		if (t.k) {
			sum += t.v;
			if (!applied || t.v > best)
				best = t.v;
		}
		one = t;
		applied = true;
		napplied++;
	}
	if (r->amount_combine == COMB_FIRST)
		return base;
	if (r->amount_combine == COMB_CONFLICT && napplied >= 2)
		*conflict = true;
	if (any_unknown)
		return REF_U; /* an exception that might apply */
	switch (r->amount_combine) {
	case COMB_SUM: /* top-ups on the base */
		return base.k && all_known ? ref_fit(sum + base.v) : REF_U;
	case COMB_MAX: /* the largest that applies replaces the base */
		return !applied ? base : all_known ? ref_k((int64_t)best) : REF_U;
	default: return applied ? one : base;
	}
}

static void ref_rule(const struct ref_ctx *c, int rule, int64_t row, struct ref_outcome *o)
{
	const struct dg_rule *r = &c->p->rules[rule];
	memset(o, 0, sizeof(*o));
	if (c->ref < r->valid_from || c->ref > r->valid_to) {
		o->outcome = DG_NOT_IN_FORCE;
		return;
	}
	struct ref_val all = ref_k(1);
	bool conflict = false;
	for (int i = 0; i < r->nc; i++) {
		if (r->c[i].kind != CL_COND)
			continue;
		struct ref_val v = ref_bool(c, r->c[i].e, r->ent, row);
		int napplied = 0;
		for (int j = 0; j < r->nc; j++) {
			if (r->c[j].kind != CL_EXC_COND || r->c[j].target_idx != i)
				continue;
			struct ref_val w = ref_bool(c, r->c[j].e, r->ent, row);
			napplied += w.k && w.v;
			v = ref_or(v, w); /* an exception waives the condition */
		}
		if (r->c[i].combine == COMB_CONFLICT && napplied >= 2)
			conflict = true;
		if (o->ncond < 64)
			o->cond[o->ncond++] = ref_tri(v);
		all = ref_and(all, v);
	}
	if (r->amount) {
		struct ref_val a = ref_amount(c, r, row, &conflict);
		o->amount_known = a.k;
		o->amount = a.k ? a.v : 0;
	}
	/* a conflict matters only where the record would otherwise be eligible */
	o->outcome = !all.k     ? DG_UNKNOWN
		     : !all.v   ? DG_NOT_ELIGIBLE
		     : conflict ? DG_CONFLICT
				: DG_ELIGIBLE;
}

#endif
