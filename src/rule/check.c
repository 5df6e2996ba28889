/*
 * check.c - the checker: resolves every name against the schema, the
 * parameters and the definitions; gives every expression a type; and
 * refuses in plain words what would be silently wrong elsewhere: money
 * compared with a count, a monthly amount compared with a yearly one, money
 * multiplied by a ratio without saying how to round, a monthly field used
 * without saying which months, unknown names (with a suggestion), cycles
 * among definitions, exceptions whose target does not exist, and
 * conditions that can never be true.
 *
 * check_expr is one long switch over node kinds, kept together so the type
 * rules can be read in one place (docs/rules.md repeats them as a table).
 */
#include "rule/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "rule/data.h"
#include "rule/text.h"

const char *const dg_rule_funcs[] = {"age",
				     "days_between",
				     "months_between",
				     "min",
				     "max",
				     "abs",
				     "round",
				     "known",
				     "sum",
				     "avg",
				     "months_with",
				     "continuous_months",
				     "receives",
				     "received",
				     "refused",
				     "applied",
				     "count",
				     "any",
				     "all",
				     "coalesce",
				     "end_of_month",
				     "year_of",
				     "month_of",
				     "day_of",
				     "date_of",
				     NULL};

struct ctx {
	struct dg_program *p;
	const struct dg_schema *s;
	int ent;        /* entity the current expression is about */
	bool in_agg;    /* inside an aggregate's member expression */
	bool read_link; /* the expression reads a definition through a link */
};

#define ERR(n, ...)  dg_rule_diag_at(&c->p->diag, (n)->src, (n)->line, (n)->col, false, __VA_ARGS__)
#define WARN(n, ...) dg_rule_diag_at(&c->p->diag, (n)->src, (n)->line, (n)->col, true, __VA_ARGS__)

static const struct dg_type T_ERRT = {TY_ERR, 0, false};

static struct dg_type mk(enum dg_ty b, int per)
{
	struct dg_type t = {b, (uint8_t)per, false};
	return t;
}

int dg_rule_param_find(const struct dg_program *p, const char *name)
{
	for (int i = 0; i < p->nparams; i++)
		if (!strcmp(p->params[i].name, name))
			return i;
	return -1;
}

int dg_rule_find(const struct dg_program *p, const char *id)
{
	for (int i = 0; i < p->nrules; i++)
		if (!strcmp(p->rules[i].id, id))
			return i;
	return -1;
}

static int let_find(const struct dg_program *p, int ent, const char *name)
{
	for (int i = 0; i < p->nlets; i++)
		if (p->lets[i].ent == ent && !strcmp(p->lets[i].name, name))
			return i;
	return -1;
}

static const char *tn(struct dg_type t, char *buf)
{
	return dg_rule_ty_name(t, buf, 64);
}

static void unknown_name(struct ctx *c, struct dg_node *n, const char *name, int ent)
{
	const char *cands[DG_MAX_FIELDS + 512];
	size_t nc = 0;
	const struct dg_entity *e = &c->s->e[ent];
	for (int i = 0; i < e->nf && nc < 300; i++)
		cands[nc++] = e->f[i].name;
	for (int i = 0; i < e->ng && nc < 320; i++)
		cands[nc++] = e->g[i].name;
	for (int i = 0; i < c->p->nlets && nc < 400; i++)
		if (c->p->lets[i].ent == ent)
			cands[nc++] = c->p->lets[i].name;
	for (int i = 0; i < c->p->nparams && nc < 500; i++)
		cands[nc++] = c->p->params[i].name;
	for (int i = 0; dg_rule_funcs[i] && nc < 540; i++)
		cands[nc++] = dg_rule_funcs[i];
	const char *best = dg_rule_did_you_mean(name, cands, nc);
	if (best)
		ERR(n, "unknown name '%s' for a %s (did you mean '%s'?)", name, e->name, best);
	else
		ERR(n, "unknown name '%s': not a field of %s, a parameter or a definition", name,
		    e->name);
}

static struct dg_type check_expr(struct ctx *c, struct dg_node *n);
static void check_let(struct ctx *c, int li, struct dg_node *use);

/* A value that may take part in arithmetic and comparisons. */
static bool plain(struct ctx *c, struct dg_node *n, struct dg_type t)
{
	char b[64];
	if (t.base == TY_ERR)
		return false;
	if (t.monthly) {
		ERR(n,
		    "'%s' is monthly: say which months, e.g. sum(%s, last 3 months) or %s at "
		    "month -1",
		    n->name ? n->name : "this value", n->name ? n->name : "x",
		    n->name ? n->name : "x");
		return false;
	}
	if (t.base == TY_RAW) {
		if (n->kind == N_BIN && n->op == BOP_DIV)
			ERR(n,
			    "this money amount needs explicit rounding: money divided by a count "
			    "is money only once rounded, e.g. round(X / N, fen, down)");
		else
			ERR(n,
			    "this money amount needs explicit rounding: round(..., fen, half_up)");
		return false;
	}
	if (t.base == TY_GROUP || t.base == TY_LINK) {
		ERR(n, "%s cannot be used as a value here", tn(t, b));
		return false;
	}
	return true;
}

static bool num(enum dg_ty b)
{
	return b == TY_INT || b == TY_MONEY || b == TY_DEC;
}

/* "per month", "per year" or "over 6 months", for hints */
static const char *period_words(int per, char *buf, size_t n)
{
	if (per == 1)
		return "per month";
	if (per == 12)
		return "per year";
	snprintf(buf, n, "over %d months", per);
	return buf;
}

static bool per_ok(struct ctx *c, struct dg_node *n, struct dg_type a, struct dg_type b,
		   const char *what)
{
	char x[64], y[64], pa[32], pb[32];
	if (a.per && b.per && a.per != b.per) {
		int lo = a.per < b.per ? a.per : b.per, hi = a.per < b.per ? b.per : a.per;
		if (lo == 1 && a.base == TY_MONEY)
			ERR(n,
			    "%s %s with %s: convert one first: the amount %s to per month with "
			    "round(X / %d, fen, down), or the one per month to %s with X * %d "
			    "months",
			    what, tn(a, x), tn(b, y), period_words(hi, pa, sizeof(pa)), hi,
			    period_words(hi, pb, sizeof(pb)), hi);
		else if (lo == 1)
			ERR(n,
			    "%s %s with %s: convert one first: divide the value %s by %d to get it "
			    "per month",
			    what, tn(a, x), tn(b, y), period_words(hi, pa, sizeof(pa)), hi);
		else
			ERR(n,
			    "%s %s with %s: bring both to one period first, e.g. per month: "
			    "round(X / %d, fen, down) for the amount %s and round(Y / %d, fen, "
			    "down) for the one %s",
			    what, tn(a, x), tn(b, y), lo, period_words(lo, pa, sizeof(pa)), hi,
			    period_words(hi, pb, sizeof(pb)));
		return false;
	}
	return true;
}

/* A divisor that says how many months it spreads an amount over: a literal, or a
 * product with a literal (3 * size spreads a 3-month sum over the months, per head). */
static int64_t months_literal(const struct dg_node *d, int per)
{
	if (d->kind == N_INT)
		return d->ival;
	if (d->kind == N_BIN && d->op == BOP_MUL) {
		if (d->a->kind == N_INT && d->a->ival == per)
			return per;
		if (d->b->kind == N_INT && d->b->ival == per)
			return per;
	}
	return 0;
}

/* months a literal duration covers, 0 when it is in days or a parameter */
static int64_t dur_months(const struct dg_node *d)
{
	if (d->kind != N_DUR || d->a || d->ival2 == DUR_DAYS)
		return 0;
	return d->ival2 == DUR_YEARS ? d->ival * 12 : d->ival;
}

/*
 * date + 6 months, date - 30 days; an amount per month * 12 months is over 12 months
 * (per year); an amount over 12 months / 12 months is per month once rounded.
 */
static struct dg_type check_duration_op(struct ctx *c, struct dg_node *n, struct dg_type a,
					struct dg_type b)
{
	char x[64], y[64];
	const struct dg_node *dn = a.base == TY_DUR ? n->a : n->b;
	struct dg_type other = a.base == TY_DUR ? b : a;
	if (!plain(c, a.base == TY_DUR ? n->b : n->a, other))
		return T_ERRT;
	if (other.base == TY_DATE && (n->op == BOP_ADD || (n->op == BOP_SUB && b.base == TY_DUR)))
		return mk(TY_DATE, 0);
	int64_t k = dur_months(dn);
	if (other.base == TY_MONEY &&
	    (n->op == BOP_MUL || (n->op == BOP_DIV && b.base == TY_DUR))) {
		if (!k || k > DG_MAX_MONTHS) {
			ERR(dn,
			    "an amount is multiplied or divided by a number of months written out "
			    "(12 months, 1 year), at most %d",
			    DG_MAX_MONTHS);
			return T_ERRT;
		}
		if (n->op == BOP_MUL) {
			if (other.per != 1) {
				ERR(n,
				    "%s is not per month: only an amount per month times a number "
				    "of months makes an amount over those months",
				    tn(other, x));
				return T_ERRT;
			}
			return mk(TY_MONEY, (int)k);
		}
		if (other.per == 0 || other.per % k) {
			ERR(n,
			    "%s cannot be spread over %lld months: divide an amount over N months "
			    "by N months (or a multiple of it)",
			    tn(other, x), (long long)k);
			return T_ERRT;
		}
		return mk(TY_RAW, (int)(other.per / k));
	}
	ERR(n,
	    "a duration is added to or taken from a date (birth_date + 18 years), or "
	    "multiplies an amount per month (x * 12 months); not %s with %s",
	    tn(a, x), tn(b, y));
	return T_ERRT;
}

static struct dg_type check_bin(struct ctx *c, struct dg_node *n)
{
	char x[64], y[64];
	struct dg_type a = check_expr(c, n->a), b = check_expr(c, n->b);
	if (a.base == TY_ERR || b.base == TY_ERR)
		return T_ERRT;
	if (n->op == BOP_AND || n->op == BOP_OR) {
		if (a.base != TY_BOOL || b.base != TY_BOOL) {
			ERR(n, "'%s' joins true/false conditions, not %s and %s",
			    n->op == BOP_AND ? "and" : "or", tn(a, x), tn(b, y));
			return T_ERRT;
		}
		return mk(TY_BOOL, 0);
	}
	if (a.base == TY_DUR || b.base == TY_DUR)
		return check_duration_op(c, n, a, b);
	if (n->op == BOP_DIV && a.base == TY_MONEY && b.base == TY_INT && !a.monthly &&
	    !b.monthly) {
		int per = a.per;
		int64_t k = months_literal(n->b, per);
		if (per && k > 0 && per % k == 0)
			per = (int)(per / k);
		return mk(TY_RAW, per);
	}
	if (!plain(c, n->a, a) || !plain(c, n->b, b))
		return T_ERRT;
	int ab = a.base, bb = b.base;
	switch (n->op) {
	case BOP_ADD:
	case BOP_SUB:
		if (ab == bb && (ab == TY_INT || ab == TY_MONEY || ab == TY_DEC)) {
			if (!per_ok(c, n, a, b, n->op == BOP_ADD ? "adding" : "subtracting"))
				return T_ERRT;
			return mk(ab, a.per ? a.per : b.per);
		}
		if ((ab == TY_INT && bb == TY_DEC) || (ab == TY_DEC && bb == TY_INT))
			return mk(TY_DEC, 0);
		if (ab == TY_DATE && bb == TY_DATE) {
			ERR(n, "dates cannot be subtracted directly: use days_between(a, b) or "
			       "months_between(a, b)");
			return T_ERRT;
		}
		ERR(n, "cannot %s %s and %s", n->op == BOP_ADD ? "add" : "subtract", tn(a, x),
		    tn(b, y));
		return T_ERRT;
	case BOP_MUL:
		if (ab == TY_INT && bb == TY_INT)
			return mk(TY_INT, 0);
		if ((ab == TY_MONEY && bb == TY_INT) || (ab == TY_INT && bb == TY_MONEY))
			return mk(TY_MONEY, a.per | b.per);
		if ((ab == TY_MONEY && bb == TY_DEC) || (ab == TY_DEC && bb == TY_MONEY))
			return mk(TY_RAW, a.per | b.per);
		if (num(ab) && num(bb) && ab != TY_MONEY && bb != TY_MONEY)
			return mk(TY_DEC, 0);
		ERR(n, "cannot multiply %s by %s", tn(a, x), tn(b, y));
		return T_ERRT;
	case BOP_DIV:
		if ((ab == TY_INT || ab == TY_DEC) && (bb == TY_INT || bb == TY_DEC))
			return mk(TY_DEC, 0);
		if (ab == TY_MONEY && bb == TY_MONEY) {
			if (!per_ok(c, n, a, b, "dividing"))
				return T_ERRT;
			return mk(TY_DEC, 0);
		}
		ERR(n, "cannot divide %s by %s", tn(a, x), tn(b, y));
		return T_ERRT;
	default: /* comparisons */
		if (ab == bb && ab != TY_CODE && ab != TY_BOOL) {
			if (!per_ok(c, n, a, b, "comparing"))
				return T_ERRT;
			return mk(TY_BOOL, 0);
		}
		if ((ab == TY_INT && bb == TY_DEC) || (ab == TY_DEC && bb == TY_INT))
			return mk(TY_BOOL, 0);
		if (ab == bb && (n->op == BOP_EQ || n->op == BOP_NE))
			return mk(TY_BOOL, 0);
		if ((ab == TY_CODE) != (bb == TY_CODE)) {
			/* age(x) >= "18": a number in quotes is a code */
			const struct dg_node *q = ab == TY_CODE ? n->a : n->b;
			struct dg_type o = ab == TY_CODE ? b : a;
			if (q->kind == N_STR) {
				ERR(q,
				    "\"%s\" in quotes is a code, but the other side is %s: write "
				    "it without quotes (%.*s%s)",
				    q->name, tn(o, x),
				    (int)dg_text_cut(q->name, strlen(q->name), 40), q->name,
				    o.base == TY_MONEY ? " yuan" : "");
				return T_ERRT;
			}
		}
		if (ab == TY_CODE || bb == TY_CODE) {
			ERR(n, "a code can only be compared with = or != to another code or a "
			       "\"quoted\" code");
			return T_ERRT;
		}
		if ((ab == TY_MONEY && bb == TY_INT) || (ab == TY_INT && bb == TY_MONEY))
			ERR(n, "cannot compare money with a count: write the amount with its unit, "
			       "e.g. 1500 yuan");
		else
			ERR(n, "cannot compare %s with %s", tn(a, x), tn(b, y));
		return T_ERRT;
	}
}

static bool is_name(const struct dg_node *n, const char *s)
{
	return n->kind == N_NAME && !strcmp(n->name, s);
}

static struct dg_type check_window(struct ctx *c, struct dg_node *w, int *months)
{
	if (!w || w->kind != N_WINDOW) {
		if (w)
			ERR(w,
			    "expected a window here: last N months, months A to B, or year YYYY");
		return T_ERRT;
	}
	if (w->ival > w->ival2 || w->ival2 - w->ival >= DG_MAX_MONTHS ||
	    (!w->op && (w->ival < -DG_MAX_MONTHS || w->ival2 > DG_MAX_MONTHS))) {
		ERR(w, "this window is empty or too long (at most %d months)", DG_MAX_MONTHS);
		return T_ERRT;
	}
	*months = (int)(w->ival2 - w->ival + 1);
	return mk(TY_INT, 0);
}

/* aggregate over a group: count/sum/any/all/min/max(group[, expr] [where cond]) */
static struct dg_type check_agg(struct ctx *c, struct dg_node *n, struct dg_type g)
{
	char x[64];
	const char *f = n->name;
	struct dg_node *gn = n->args[0];
	if (c->in_agg) {
		ERR(n, "aggregates cannot be nested: define the inner one on its own entity "
		       "with 'let'");
		return T_ERRT;
	}
	(void)g;
	struct dg_agg ag = {0};
	ag.group_ent = gn->ent;
	ag.group = gn->field;
	ag.member_ent = c->s->e[gn->ent].g[gn->field].member_ent;
	ag.where = n->where;
	struct ctx mc = *c;
	mc.ent = ag.member_ent;
	mc.in_agg = true;
	if (!strcmp(f, "count")) {
		ag.op = AGG_COUNT;
		if (n->nargs != 1) {
			ERR(n, "count(group where condition) takes the group and a 'where'");
			return T_ERRT;
		}
		ag.ty = mk(TY_INT, 0);
	} else if (!strcmp(f, "any") || !strcmp(f, "all")) {
		ag.op = f[1] == 'n' ? AGG_ANY : AGG_ALL;
		if (n->nargs == 2) {
			ag.e = n->args[1];
		} else if (n->nargs == 1 && n->where) {
			/* any(g where c) is any(g, c): for all() the filter is the test */
			ag.e = n->where;
			ag.where = NULL;
		} else {
			ERR(n, "%s(group, condition) or %s(group where condition)", f, f);
			return T_ERRT;
		}
		ag.ty = mk(TY_BOOL, 0);
	} else {
		ag.op = !strcmp(f, "sum") ? AGG_SUM : !strcmp(f, "min") ? AGG_MIN : AGG_MAX;
		if (n->nargs != 2) {
			ERR(n, "%s(group, value [where condition]) takes a group and a value", f);
			return T_ERRT;
		}
		ag.e = n->args[1];
	}
	if (ag.where) {
		struct dg_type wt = check_expr(&mc, ag.where);
		if (wt.base != TY_ERR && wt.base != TY_BOOL) {
			ERR(ag.where, "'where' needs a true/false condition, not %s", tn(wt, x));
			return T_ERRT;
		}
		if (wt.base == TY_ERR)
			return T_ERRT;
	}
	if (ag.e) {
		struct dg_type et = check_expr(&mc, ag.e);
		if (!plain(c, ag.e, et))
			return T_ERRT;
		if (ag.op == AGG_ANY || ag.op == AGG_ALL) {
			if (et.base != TY_BOOL) {
				ERR(ag.e, "%s() needs a true/false condition, not %s", f,
				    tn(et, x));
				return T_ERRT;
			}
		} else if (ag.op == AGG_SUM ? !(et.base == TY_INT || et.base == TY_MONEY)
					    : !(num(et.base) || et.base == TY_DATE)) {
			ERR(ag.e, "%s() of %s is not meaningful", f, tn(et, x));
			return T_ERRT;
		}
		if (ag.op != AGG_ANY && ag.op != AGG_ALL)
			ag.ty = et;
	}
	struct dg_program *p = c->p;
	if (p->naggs == p->capaggs) {
		p->capaggs = p->capaggs ? p->capaggs * 2 : 16;
		p->aggs = dg_xrealloc(p->aggs, sizeof(*p->aggs) * (size_t)p->capaggs);
	}
	n->agg = p->naggs;
	p->aggs[p->naggs++] = ag;
	return ag.ty;
}

/* Whether n names a group of any entity (members, household.members), so that an
 * aggregate inside an aggregate is reported as such, not as an unknown name. */
static bool names_group(const struct ctx *c, const struct dg_node *n)
{
	if (n->kind != N_NAME && n->kind != N_PATH)
		return false;
	for (int e = 0; e < c->s->ne; e++)
		if (dg_schema_group(c->s, e, n->name) >= 0)
			return true;
	return false;
}

static struct dg_type check_call(struct ctx *c, struct dg_node *n)
{
	char x[64];
	const char *f = n->name;
	int na = n->nargs;
	struct dg_node **a = n->args;
	/* aggregates are recognised by a group as first argument */
	if ((!strcmp(f, "count") || !strcmp(f, "any") || !strcmp(f, "all") || !strcmp(f, "sum") ||
	     !strcmp(f, "min") || !strcmp(f, "max")) &&
	    na >= 1) {
		if (c->in_agg && names_group(c, a[0])) {
			ERR(n,
			    "aggregates cannot be nested: define the inner one on its own "
			    "entity with 'let' (let household.n = %s(members ...)) and use "
			    "that name",
			    f);
			return T_ERRT;
		}
		struct dg_type t0 = check_expr(c, a[0]);
		if (t0.base == TY_GROUP)
			return check_agg(c, n, t0);
		if (!strcmp(f, "count") || !strcmp(f, "any") || !strcmp(f, "all")) {
			if (t0.base != TY_ERR)
				ERR(a[0], "%s() needs a group such as household.members, not %s", f,
				    tn(t0, x));
			return T_ERRT;
		}
		if (!strcmp(f, "sum")) {
			int months;
			if (!t0.monthly) {
				if (t0.base != TY_ERR)
					ERR(a[0], "sum() takes a monthly field and a window, or a "
						  "group and a value");
				return T_ERRT;
			}
			if (na != 2 || check_window(c, a[1], &months).base == TY_ERR) {
				if (na != 2)
					ERR(n, "sum(monthly field, last N months)");
				return T_ERRT;
			}
			if (t0.base != TY_MONEY && t0.base != TY_INT) {
				ERR(a[0], "sum() adds money or counts, not %s", tn(t0, x));
				return T_ERRT;
			}
			return mk(t0.base, months);
		}
		/* min/max of two values */
		if (na != 2) {
			ERR(n, "%s(a, b) takes two values", f);
			return T_ERRT;
		}
		struct dg_type t1 = check_expr(c, a[1]);
		if (!plain(c, a[0], t0) || !plain(c, a[1], t1))
			return T_ERRT;
		if (t0.base != t1.base || !(num(t0.base) || t0.base == TY_DATE)) {
			ERR(n, "%s() needs two values of the same kind, not %s and %s", f,
			    tn(t0, x), tn(t1, x + 32));
			return T_ERRT;
		}
		if (!per_ok(c, n, t0, t1, f))
			return T_ERRT;
		return mk(t0.base, t0.per | t1.per);
	}
	if (!strcmp(f, "age") || !strcmp(f, "days_between") || !strcmp(f, "months_between")) {
		int want = f[0] == 'a' ? 1 : 2;
		if (na != want) {
			ERR(n, "%s() takes %d date%s", f, want, want > 1 ? "s" : "");
			return T_ERRT;
		}
		for (int i = 0; i < na; i++) {
			struct dg_type t = check_expr(c, a[i]);
			if (t.base == TY_ERR)
				return T_ERRT;
			if (!plain(c, a[i], t))
				return T_ERRT;
			if (t.base != TY_DATE) {
				ERR(a[i], "%s() needs a date, not %s", f, tn(t, x));
				return T_ERRT;
			}
		}
		return mk(TY_INT, 0);
	}
	if (!strcmp(f, "abs")) {
		if (na != 1)
			return ERR(n, "abs(x)"), T_ERRT;
		struct dg_type t = check_expr(c, a[0]);
		if (!plain(c, a[0], t))
			return T_ERRT;
		if (!num(t.base))
			return ERR(n, "abs() of %s", tn(t, x)), T_ERRT;
		return t;
	}
	if (!strcmp(f, "coalesce")) {
		if (na != 2)
			return ERR(n, "coalesce(value, default) takes a value and the value to use "
				      "when it is unknown"),
			       T_ERRT;
		struct dg_type t0 = check_expr(c, a[0]), t1 = check_expr(c, a[1]);
		if (!plain(c, a[0], t0) || !plain(c, a[1], t1))
			return T_ERRT;
		if (t0.base != t1.base) {
			ERR(n,
			    "coalesce() needs a default of the same kind as the value, not %s and "
			    "%s",
			    tn(t0, x), tn(t1, x + 32));
			return T_ERRT;
		}
		if (!per_ok(c, n, t0, t1, "defaulting"))
			return T_ERRT;
		return mk(t0.base, t0.per | t1.per);
	}
	if (!strcmp(f, "end_of_month") || !strcmp(f, "year_of") || !strcmp(f, "month_of") ||
	    !strcmp(f, "day_of")) {
		if (na != 1)
			return ERR(n, "%s() takes one date", f), T_ERRT;
		struct dg_type t0 = check_expr(c, a[0]);
		if (!plain(c, a[0], t0))
			return T_ERRT;
		if (t0.base != TY_DATE)
			return ERR(a[0], "%s() needs a date, not %s", f, tn(t0, x)), T_ERRT;
		return mk(f[0] == 'e' ? TY_DATE : TY_INT, 0);
	}
	if (!strcmp(f, "date_of")) {
		if (na != 3)
			return ERR(n, "date_of(year, month, day) takes three counts"), T_ERRT;
		for (int i = 0; i < 3; i++) {
			struct dg_type ti = check_expr(c, a[i]);
			if (!plain(c, a[i], ti))
				return T_ERRT;
			if (ti.base != TY_INT)
				return ERR(a[i], "date_of() takes counts, not %s", tn(ti, x)),
				       T_ERRT;
		}
		return mk(TY_DATE, 0);
	}
	if (!strcmp(f, "known")) {
		if (na != 1)
			return ERR(n, "known(x) takes one value"), T_ERRT;
		struct dg_type t = check_expr(c, a[0]);
		if (!plain(c, a[0], t))
			return T_ERRT;
		return mk(TY_BOOL, 0);
	}
	if (!strcmp(f, "round")) {
		static const char *const units[] = {"fen", "jiao", "yuan", NULL};
		static const char *const modes[] = {"half_up", "down", "up", "half_even", NULL};
		if (na != 3 || a[1]->kind != N_NAME || a[2]->kind != N_NAME) {
			ERR(n, "round(amount, fen|jiao|yuan, half_up|down|up|half_even)");
			return T_ERRT;
		}
		int u = -1, m = -1;
		for (int i = 0; units[i]; i++)
			if (is_name(a[1], units[i]))
				u = i;
		for (int i = 0; modes[i]; i++)
			if (is_name(a[2], modes[i]))
				m = i;
		if (u < 0 || m < 0) {
			ERR(u < 0 ? a[1] : a[2], "round() unit is fen, jiao or yuan and the mode "
						 "half_up, down, up or half_even");
			return T_ERRT;
		}
		n->ival = u;
		n->ival2 = m;
		struct dg_type t = check_expr(c, a[0]);
		if (t.base == TY_ERR)
			return T_ERRT;
		if (t.base != TY_RAW && t.base != TY_MONEY) {
			ERR(a[0], "round() rounds money, not %s", tn(t, x));
			return T_ERRT;
		}
		if (t.base == TY_RAW && !(a[0]->kind == N_BIN ||
					  (a[0]->kind == N_CALL && !strcmp(a[0]->name, "avg")))) {
			ERR(a[0], "round() takes one multiplication, division or avg() directly");
			return T_ERRT;
		}
		return mk(TY_MONEY, t.per);
	}
	if (!strcmp(f, "avg") || !strcmp(f, "months_with") || !strcmp(f, "continuous_months")) {
		int want = f[0] == 'c' ? 1 : 2, months = 1;
		if (na != want) {
			ERR(n, want == 1 ? "%s(monthly field)" : "%s(monthly field, last N months)",
			    f);
			return T_ERRT;
		}
		struct dg_type t = check_expr(c, a[0]);
		if (t.base == TY_ERR)
			return T_ERRT;
		if (!t.monthly) {
			ERR(a[0], "%s() needs a monthly field, not %s", f, tn(t, x));
			return T_ERRT;
		}
		if (want == 2 && check_window(c, a[1], &months).base == TY_ERR)
			return T_ERRT;
		if (f[0] == 'a') {
			if (t.base == TY_MONEY)
				return mk(TY_RAW, 1);
			if (t.base == TY_INT)
				return mk(TY_DEC, 0);
			ERR(a[0], "avg() of %s", tn(t, x));
			return T_ERRT;
		}
		if (t.base != TY_BOOL && t.base != TY_INT && t.base != TY_MONEY) {
			ERR(a[0], "%s() counts months where a true/false or number is set", f);
			return T_ERRT;
		}
		return mk(TY_INT, 0);
	}
	if (!strcmp(f, "receives") || !strcmp(f, "received") || !strcmp(f, "refused") ||
	    !strcmp(f, "applied")) {
		int want = f[2] == 'c' && f[7] == 's' ? 1 : 2; /* receives: 1 */
		if (!strcmp(f, "receives"))
			want = 1;
		if (na != want || a[0]->kind != N_STR) {
			ERR(n, want == 1 ? "%s(\"benefit\")" : "%s(\"benefit\", last N months)", f);
			return T_ERRT;
		}
		int months;
		if (want == 2 && check_window(c, a[1], &months).base == TY_ERR)
			return T_ERRT;
		return mk(TY_BOOL, 0);
	}
	size_t nfuncs = 0;
	while (dg_rule_funcs[nfuncs])
		nfuncs++;
	const char *best = dg_rule_did_you_mean(f, dg_rule_funcs, nfuncs);
	if (best)
		ERR(n, "unknown function '%s' (did you mean '%s'?)", f, best);
	else
		ERR(n, "unknown function '%s'", f);
	return T_ERRT;
}

static bool has_agg(const struct dg_node *n)
{
	if (!n)
		return false;
	if (n->agg >= 0)
		return true;
	for (int i = 0; i < n->nargs; i++)
		if (has_agg(n->args[i]))
			return true;
	return has_agg(n->a) || has_agg(n->b) || has_agg(n->c) || has_agg(n->where);
}

static struct dg_type check_name(struct ctx *c, struct dg_node *n, int ent)
{
	const struct dg_entity *e = &c->s->e[ent];
	int f = dg_schema_field(c->s, ent, n->name);
	n->ent = ent;
	if (f >= 0) {
		n->field = f;
		if (e->f[f].ty == TY_LINK)
			return mk(TY_LINK, 0);
		struct dg_type t = mk(e->f[f].ty, 0);
		t.monthly = e->f[f].monthly;
		return t;
	}
	int g = dg_schema_group(c->s, ent, n->name);
	if (g >= 0) {
		n->field = g;
		n->op = 2; /* group */
		return mk(TY_GROUP, 0);
	}
	int li = let_find(c->p, ent, n->name);
	if (li >= 0) {
		n->op = 1; /* definition */
		n->a = c->p->lets[li].e->a;
		check_let(c, li, n);
		c->read_link |= c->p->lets[li].reads_link;
		if (c->in_agg && n->kind == N_NAME && c->p->lets[li].state == 2 && has_agg(n->a)) {
			ERR(n,
			    "'%s' holds an aggregate, so it cannot be used inside another "
			    "aggregate",
			    n->name);
			return T_ERRT;
		}
		return c->p->lets[li].state == 2 ? n->a->ty : T_ERRT;
	}
	int pi = dg_rule_param_find(c->p, n->name);
	if (pi >= 0) {
		n->param = pi;
		return c->p->params[pi].ty;
	}
	unknown_name(c, n, n->name, ent);
	return T_ERRT;
}

static struct dg_type check_expr(struct ctx *c, struct dg_node *n)
{
	char x[64];
	struct dg_type t = T_ERRT;
	n->ent = c->ent;
	switch (n->kind) {
	case N_INT: t = mk(TY_INT, 0); break;
	case N_DEC: t = mk(TY_DEC, 0); break;
	case N_MONEY: t = mk(TY_MONEY, 0); break;
	case N_DATE:
	case N_REF: t = mk(TY_DATE, 0); break;
	case N_STR: t = mk(TY_CODE, 0); break;
	case N_BOOL: t = mk(TY_BOOL, 0); break;
	case N_SET: ERR(n, "a set {...} is only used after 'in' or 'within'"); break;
	case N_WINDOW:
		ERR(n, "a window is only used inside sum(), avg(), months_with() or received()");
		break;
	case N_DUR:
		if (n->a) { /* a count parameter */
			struct dg_type pt = check_expr(c, n->a);
			if (pt.base == TY_ERR)
				break;
			if (n->a->param < 0 || pt.base != TY_INT) {
				ERR(n->a,
				    "a duration counts days, months or years with a number or an "
				    "int parameter, not %s",
				    tn(pt, x));
				break;
			}
		} else if (n->ival > 2400000) {
			ERR(n, "this duration is too long");
			break;
		}
		t = mk(TY_DUR, 0);
		break;
	case N_NAME:
		t = check_name(c, n, c->ent);
		if (t.base == TY_CODE || t.base == TY_ERR || t.base == TY_GROUP ||
		    t.base == TY_LINK)
			break;
		if (n->param >= 0 && c->p->params[n->param].by_region) {
			ERR(n, "parameter %s is set per region: write %s[region]", n->name,
			    n->name);
			t = T_ERRT;
		}
		break;
	case N_PATH: {
		struct dg_type a = check_expr(c, n->a);
		if (a.base == TY_ERR)
			break;
		if (a.base != TY_LINK) {
			ERR(n, "'.%s' follows a link (such as household or employer), not %s",
			    n->name, tn(a, x));
			break;
		}
		int to = c->s->e[n->a->ent].f[n->a->field].link_ent;
		if (n->a->kind == N_PATH) {
			ERR(n, "one link step at a time: define the first step with 'let'");
			break;
		}
		n->link = n->a->field;
		t = check_name(c, n, to);
		if (n->op == 1) {
			/* a definition of the linked record: computed once per record of its
			 * entity before the rules, then read through the link */
			int li = let_find(c->p, to, n->name);
			if (c->in_agg) {
				ERR(n,
				    "'%s' is a definition read through a link: it cannot be used "
				    "inside an aggregate (read its fields, or define the aggregate "
				    "with 'let' on %s)",
				    n->name, c->s->e[to].name);
				t = T_ERRT;
			} else if (c->p->lets[li].reads_link) {
				ERR(n,
				    "'%s' itself reads a definition through a link: one link step "
				    "per definition",
				    n->name);
				t = T_ERRT;
			} else {
				c->p->lets[li].via_link = true;
				n->field = li;
				c->read_link = true;
			}
		} else if (n->param >= 0) {
			ERR(n, "'%s' is a parameter, not a field of %s", n->name, c->s->e[to].name);
			t = T_ERRT;
		} else if (t.base == TY_LINK) {
			ERR(n, "one link step at a time: define the first step with 'let'");
			t = T_ERRT;
		}
		n->ent = to;
		break;
	}
	case N_INDEX: {
		if (n->a->kind != N_NAME || (n->param = dg_rule_param_find(c->p, n->a->name)) < 0 ||
		    !c->p->params[n->param].by_region) {
			ERR(n, "only a parameter set by region can be indexed, as line[region]");
			break;
		}
		struct dg_type it = check_expr(c, n->b);
		if (it.base == TY_ERR)
			break;
		if (it.base != TY_CODE || it.monthly) {
			ERR(n->b, "a region parameter is indexed by a region code, not %s",
			    tn(it, x));
			break;
		}
		t = c->p->params[n->param].ty;
		break;
	}
	case N_AT: {
		struct dg_type a = check_expr(c, n->a);
		if (a.base == TY_ERR)
			break;
		if (!a.monthly) {
			ERR(n, "'at month' picks one month of a monthly field; this is %s",
			    tn(a, x));
			break;
		}
		if (n->ival < -DG_MAX_MONTHS || n->ival > DG_MAX_MONTHS) {
			ERR(n, "month offset out of range");
			break;
		}
		t = mk(a.base, a.base == TY_MONEY || a.base == TY_INT ? 1 : 0);
		break;
	}
	case N_BIN: t = check_bin(c, n); break;
	case N_NOT: {
		struct dg_type a = check_expr(c, n->a);
		if (a.base != TY_ERR && a.base != TY_BOOL)
			ERR(n, "'not' needs a true/false condition, not %s", tn(a, x));
		else if (a.base == TY_BOOL)
			t = a;
		break;
	}
	case N_NEG: {
		struct dg_type a = check_expr(c, n->a);
		if (a.base != TY_ERR && plain(c, n->a, a)) {
			if (num(a.base))
				t = a;
			else
				ERR(n, "cannot negate %s", tn(a, x));
		}
		break;
	}
	case N_IF: {
		struct dg_type a = check_expr(c, n->a), b = check_expr(c, n->b),
			       d = check_expr(c, n->c);
		if (a.base == TY_ERR || b.base == TY_ERR || d.base == TY_ERR)
			break;
		if (a.base != TY_BOOL) {
			ERR(n->a, "'if' needs a true/false condition, not %s", tn(a, x));
			break;
		}
		if (!plain(c, n->b, b) || !plain(c, n->c, d))
			break;
		if (b.base != d.base) {
			ERR(n, "both branches of 'if' must have the same kind: %s and %s", tn(b, x),
			    tn(d, x + 32));
			break;
		}
		if (!per_ok(c, n, b, d, "mixing"))
			break;
		t = mk(b.base, b.per | d.per);
		break;
	}
	case N_BETWEEN: {
		struct dg_type a = check_expr(c, n->a), b = check_expr(c, n->b),
			       d = check_expr(c, n->c);
		if (a.base == TY_ERR || b.base == TY_ERR || d.base == TY_ERR)
			break;
		if (!plain(c, n->a, a) || !plain(c, n->b, b) || !plain(c, n->c, d))
			break;
		if (a.base != b.base || a.base != d.base || !(num(a.base) || a.base == TY_DATE)) {
			ERR(n, "'between' needs three numbers, amounts or dates of one kind");
			break;
		}
		if (!per_ok(c, n, a, b, "comparing") || !per_ok(c, n, a, d, "comparing"))
			break;
		t = mk(TY_BOOL, 0);
		break;
	}
	case N_IN:
	case N_WITHIN: {
		struct dg_type a = check_expr(c, n->a);
		if (a.base == TY_ERR)
			break;
		if (!plain(c, n->a, a))
			break;
		if (a.base != TY_CODE) {
			ERR(n, "'%s' works on codes, not %s", n->kind == N_IN ? "in" : "within",
			    tn(a, x));
			break;
		}
		t = mk(TY_BOOL, 0);
		break;
	}
	case N_CALL: t = check_call(c, n); break;
	}
	n->ty = t;
	return t;
}

static void check_let(struct ctx *c, int li, struct dg_node *use)
{
	struct dg_let *l = &c->p->lets[li];
	if (l->state == 2)
		return;
	if (l->state == 1) {
		dg_rule_diag_at(&c->p->diag, use->src, use->line, use->col, false,
				"definitions form a cycle through '%s'", l->name);
		l->state = 3; /* reported */
		return;
	}
	if (l->state == 3)
		return;
	l->state = 1;
	struct ctx lc = *c;
	lc.ent = l->ent;
	lc.in_agg = false;
	lc.read_link = false;
	struct dg_type t = check_expr(&lc, l->e->a);
	l->reads_link = lc.read_link;
	if (l->state == 1)
		l->state = t.base == TY_ERR ? 3 : 2;
}

/* ---- conditions that can never be true: X >= a together with X < b, b <= a ---- */

struct bound {
	const struct dg_node *x;
	int64_t lo, hi; /* inclusive */
	int cond;
};

static bool same_expr(const struct dg_node *a, const struct dg_node *b)
{
	if (!a || !b)
		return a == b;
	if (a->kind != b->kind || a->op != b->op || a->ival != b->ival || a->nargs != b->nargs)
		return false;
	if ((a->name || b->name) && (!a->name || !b->name || strcmp(a->name, b->name)))
		return false;
	for (int i = 0; i < a->nargs; i++)
		if (!same_expr(a->args[i], b->args[i]))
			return false;
	return same_expr(a->a, b->a) && same_expr(a->b, b->b) && same_expr(a->c, b->c);
}

static bool const_of(const struct ctx *c, const struct dg_node *n, int64_t *v)
{
	if (n->kind == N_INT || n->kind == N_MONEY || n->kind == N_DATE || n->kind == N_DEC) {
		*v = n->ival;
		return true;
	}
	if (n->kind == N_NAME && n->param >= 0) {
		const struct dg_param *p = &c->p->params[n->param];
		if (p->nv == 1 && !p->by_region && p->v[0].ne == 1) {
			*v = p->v[0].e[0].value;
			return true;
		}
	}
	return false;
}

static void collect_bounds(const struct ctx *c, const struct dg_node *n, int cond, struct bound *b,
			   int *nb)
{
	if (n->kind == N_BIN && n->op == BOP_AND) {
		collect_bounds(c, n->a, cond, b, nb);
		collect_bounds(c, n->b, cond, b, nb);
		return;
	}
	if (n->kind != N_BIN || n->op < BOP_LT || n->op > BOP_EQ || *nb >= 64)
		return;
	int64_t k;
	if (n->a->ty.base == TY_DEC || n->b->ty.base == TY_DEC)
		return; /* mixed int/decimal scales: skip */
	if (!const_of(c, n->b, &k))
		return;
	struct bound bd = {n->a, INT64_MIN, INT64_MAX, cond};
	switch (n->op) {
	case BOP_LT: bd.hi = k - 1; break;
	case BOP_LE: bd.hi = k; break;
	case BOP_GT: bd.lo = k + 1; break;
	case BOP_GE: bd.lo = k; break;
	case BOP_EQ: bd.lo = bd.hi = k; break;
	default: return;
	}
	b[(*nb)++] = bd;
}

static void dead_conditions(struct ctx *c, struct dg_rule *r)
{
	struct bound b[64];
	int nb = 0;
	for (int i = 0; i < r->nc; i++) {
		if (r->c[i].kind != CL_COND || r->c[i].e->ty.base != TY_BOOL)
			continue;
		bool waived = false;
		for (int j = 0; j < r->nc; j++)
			if (r->c[j].kind == CL_EXC_COND && r->c[j].target_idx == i)
				waived = true;
		if (!waived)
			collect_bounds(c, r->c[i].e, i, b, &nb);
	}
	for (int i = 0; i < nb; i++)
		for (int j = i + 1; j < nb; j++) {
			if (!same_expr(b[i].x, b[j].x))
				continue;
			int64_t lo = b[i].lo > b[j].lo ? b[i].lo : b[j].lo;
			int64_t hi = b[i].hi < b[j].hi ? b[i].hi : b[j].hi;
			if (lo > hi) {
				struct dg_cond *ci = &r->c[b[i].cond], *cj = &r->c[b[j].cond];
				if (ci == cj)
					dg_rule_diag_at(
						&c->p->diag, r->src, cj->line, cj->col, true,
						"condition %s can never be true: its bounds "
						"on the same value exclude each other",
						cj->id);
				else
					dg_rule_diag_at(&c->p->diag, r->src, cj->line, cj->col,
							true,
							"condition %s can never be true together "
							"with %s: the rule can never apply",
							cj->id, ci->id);
				return;
			}
		}
}

static enum dg_combine combine_of(const struct dg_rule *r, int cond)
{
	return cond >= 0 ? r->c[cond].combine : COMB_CONFLICT;
}

/* exceptions to TARGET: MODE, resolved onto the conditions and the amount */
static void check_combine(struct ctx *c, struct dg_rule *r, const struct dg_node *at)
{
	for (int k = 0; k < r->ncomb; k++) {
		const struct dg_combine_decl *d = &r->comb[k];
		struct dg_node cat = *at;
		cat.line = d->line;
		cat.col = d->col;
		for (int j = 0; j < k; j++)
			if (!strcmp(r->comb[j].target, d->target))
				ERR(&cat, "rule %s says twice how the exceptions to '%s' combine",
				    r->id, d->target);
		if (!strcmp(d->target, "amount")) {
			if (d->mode == COMB_ANY)
				ERR(&cat,
				    "the amount's exceptions combine by conflict, first, max or "
				    "sum ('any' is for a condition)");
			r->amount_combine = d->mode;
			continue;
		}
		int ci = -1;
		for (int j = 0; j < r->nc; j++)
			if (r->c[j].kind == CL_COND && !strcmp(r->c[j].id, d->target))
				ci = j;
		if (ci < 0) {
			const char *cands[256];
			size_t n = 0;
			for (int j = 0; j < r->nc && n < 255; j++)
				if (r->c[j].kind == CL_COND)
					cands[n++] = r->c[j].id;
			cands[n++] = "amount";
			const char *best = dg_rule_did_you_mean(d->target, cands, n);
			ERR(&cat, "'exceptions to %s': no condition '%s' in rule %s%s%s%s",
			    d->target, d->target, r->id, best ? " (did you mean '" : "",
			    best ? best : "", best ? "'?)" : "");
			continue;
		}
		if (d->mode != COMB_CONFLICT && d->mode != COMB_ANY)
			ERR(&cat, "exceptions to a condition waive it: they combine by conflict or "
				  "any ('first', 'max' and 'sum' are for the amount)");
		r->c[ci].combine = d->mode;
	}
}

static void check_rule(struct ctx *c, struct dg_rule *r)
{
	char x[64];
	struct dg_node at = {0};
	at.src = r->src;
	at.line = r->line;
	at.col = r->col;
	if (dg_rule_find(c->p, r->id) != (int)(r - c->p->rules)) {
		ERR(&at, "rule id '%s' is used twice", r->id);
		return;
	}
	if (!r->for_ent) {
		ERR(&at, "rule %s needs 'for ENTITY' (person, household or enterprise)", r->id);
		return;
	}
	r->ent = dg_schema_entity(c->s, r->for_ent);
	if (r->ent < 0) {
		const char *names[DG_MAX_ENT];
		for (int i = 0; i < c->s->ne; i++)
			names[i] = c->s->e[i].name;
		const char *best = dg_rule_did_you_mean(r->for_ent, names, (size_t)c->s->ne);
		ERR(&at, "rule %s: no entity '%s' in the schema%s%s%s", r->id, r->for_ent,
		    best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
		return;
	}
	if (!r->version)
		WARN(&at, "rule %s has no version", r->id);
	if (!r->legal)
		WARN(&at, "rule %s has no legal basis", r->id);
	int ncond = 0;
	for (int i = 0; i < r->nc; i++) {
		struct dg_cond *cd = &r->c[i];
		struct dg_node cat = at;
		cat.line = cd->line;
		cat.col = cd->col;
		for (int j = 0; j < i; j++)
			if (!strcmp(r->c[j].id, cd->id))
				ERR(&cat, "'%s' is used twice in rule %s", cd->id, r->id);
		c->ent = r->ent;
		struct dg_type t = check_expr(c, cd->e);
		if (t.base != TY_ERR && t.base != TY_BOOL)
			ERR(cd->e, "a %s needs a true/false test, not %s",
			    cd->kind == CL_COND ? "condition" : "exception's 'when'", tn(t, x));
		if (cd->kind == CL_COND)
			ncond++;
		if (cd->kind == CL_EXC_COND) {
			for (int j = 0; j < r->nc; j++)
				if (r->c[j].kind == CL_COND && !strcmp(r->c[j].id, cd->target))
					cd->target_idx = j;
			if (cd->target_idx < 0) {
				const char *cands[256];
				size_t n = 0;
				for (int j = 0; j < r->nc && n < 255; j++)
					if (r->c[j].kind == CL_COND)
						cands[n++] = r->c[j].id;
				cands[n++] = "amount";
				const char *best = dg_rule_did_you_mean(cd->target, cands, n);
				ERR(&cat,
				    "exception %s is to '%s', which is not a condition of rule "
				    "%s%s%s%s",
				    cd->id, cd->target, r->id, best ? " (did you mean '" : "",
				    best ? best : "", best ? "'?)" : "");
			}
		}
		if (cd->kind == CL_EXC_AMOUNT) {
			if (!r->amount)
				ERR(&cat,
				    "exception %s is to the amount, but rule %s has no amount",
				    cd->id, r->id);
			struct dg_type tt = check_expr(c, cd->then);
			if (tt.base != TY_ERR && (!plain(c, cd->then, tt) || tt.base != TY_MONEY))
				ERR(cd->then, "an amount exception gives money, not %s", tn(tt, x));
		}
	}
	if (ncond == 0)
		ERR(&at, "rule %s has no condition", r->id);
	check_combine(c, r, &at);
	/* two exceptions to one target may both apply: warn now, CONFLICT at run time,
	 * unless the rule says how they combine */
	for (int i = 0; i < r->nc; i++)
		for (int j = i + 1; j < r->nc; j++)
			if (r->c[i].kind != CL_COND && r->c[j].kind == r->c[i].kind &&
			    !strcmp(r->c[i].target, r->c[j].target) &&
			    (r->c[i].kind == CL_EXC_AMOUNT
				     ? r->amount_combine
				     : combine_of(r, r->c[i].target_idx)) == COMB_CONFLICT) {
				struct dg_node cat = at;
				cat.line = r->c[j].line;
				cat.col = r->c[j].col;
				WARN(&cat,
				     "exceptions %s and %s both change '%s': where both apply the "
				     "outcome is CONFLICT (if they may, say how they combine: "
				     "'exceptions to %s: %s')",
				     r->c[i].id, r->c[j].id, r->c[i].target, r->c[i].target,
				     r->c[i].kind == CL_EXC_AMOUNT ? "first, max or sum" : "any");
			}
	if (r->amount) {
		c->ent = r->ent;
		struct dg_type t = check_expr(c, r->amount);
		if (t.base != TY_ERR && plain(c, r->amount, t) && t.base != TY_MONEY)
			ERR(r->amount, "the amount must be money, not %s", tn(t, x));
	}
	for (int i = 0; i < r->npf; i++) {
		c->ent = r->ent;
		struct dg_type t = check_expr(c, r->pf[i].e);
		if (t.base != TY_ERR)
			(void)plain(c, r->pf[i].e, t);
	}
	dead_conditions(c, r);
}

void dg_rule_check(struct dg_program *p)
{
	struct ctx cx = {0};
	struct ctx *c = &cx;
	c->p = p;
	if (p->checked)
		return;
	p->checked = true;
	if (!p->schema) {
		dg_rule_diag_at(&p->diag, p->nsrcs ? p->srcs[0] : NULL, 1, 1, false,
				"no schema: start the file with schema \"schema.yaml\"");
		return;
	}
	c->s = p->schema;
	for (int i = 0; i < p->nparams; i++) {
		struct dg_param *pm = &p->params[i];
		struct dg_node at = {0};
		at.src = pm->src;
		at.line = pm->line;
		at.col = pm->col;
		if (dg_rule_param_find(p, pm->name) != i)
			ERR(&at, "parameter '%s' is declared twice", pm->name);
		for (int e = 0; e < c->s->ne; e++)
			if (dg_schema_field(c->s, e, pm->name) >= 0)
				ERR(&at, "parameter '%s' has the same name as a field of %s",
				    pm->name, c->s->e[e].name);
		if (!pm->legal)
			WARN(&at, "parameter %s has no legal reference", pm->name);
	}
	for (int i = 0; i < p->nlets; i++) {
		struct dg_let *l = &p->lets[i];
		l->ent = dg_schema_entity(c->s, l->e->name);
		if (l->ent < 0) {
			dg_rule_diag_at(&p->diag, l->src, l->line, l->col, false,
					"no entity '%s' in the schema", l->e->name);
			l->state = 3;
		}
	}
	for (int i = 0; i < p->nlets; i++) {
		struct dg_node at = {0};
		at.src = p->lets[i].src;
		at.line = p->lets[i].line;
		at.col = p->lets[i].col;
		if (p->lets[i].ent >= 0)
			check_let(c, i, &at);
	}
	for (int i = 0; i < p->nrules; i++)
		check_rule(c, &p->rules[i]);
}

/* ---- the data-sharing contract: which fields a rule reads ---- */

static void add_field(const char **out, int *n, int max, const char *s)
{
	for (int i = 0; i < *n; i++)
		if (!strcmp(out[i], s))
			return;
	if (*n < max)
		out[(*n)++] = s;
}

static void walk_fields(const struct dg_program *p, const struct dg_node *n, const char **out,
			int *nout, int max, int depth)
{
	if (!n || depth > 64)
		return;
	const struct dg_schema *s = p->schema;
	if (n->kind == N_NAME && n->op == 0 && n->field >= 0 && n->param < 0)
		add_field(out, nout, max,
			  dg_arena_printf(p->arena, "%s.%s (%s)", s->e[n->ent].name,
					  s->e[n->ent].f[n->field].name,
					  s->e[n->ent].f[n->field].source));
	if (n->kind == N_PATH && n->op == 0 && n->field >= 0 && n->ent >= 0 &&
	    s->e[n->ent].f[n->field].ty != TY_LINK)
		add_field(out, nout, max,
			  dg_arena_printf(p->arena, "%s.%s (%s)", s->e[n->ent].name,
					  s->e[n->ent].f[n->field].name,
					  s->e[n->ent].f[n->field].source));
	if (n->kind == N_CALL && n->nargs && n->args[0]->kind == N_STR &&
	    (!strcmp(n->name, "receives") || !strcmp(n->name, "received") ||
	     !strcmp(n->name, "refused") || !strcmp(n->name, "applied")))
		add_field(out, nout, max,
			  dg_arena_printf(p->arena, "benefits: %s", n->args[0]->name));
	for (int i = 0; i < n->nargs; i++)
		walk_fields(p, n->args[i], out, nout, max, depth + 1);
	if (n->kind != N_NAME || n->op == 1)
		walk_fields(p, n->a, out, nout, max, depth + 1);
	walk_fields(p, n->b, out, nout, max, depth + 1);
	walk_fields(p, n->c, out, nout, max, depth + 1);
	walk_fields(p, n->where, out, nout, max, depth + 1);
}

int dg_rule_fields(const struct dg_program *p, int rule, const char **out, int max)
{
	const struct dg_rule *r = &p->rules[rule];
	int n = 0;
	for (int i = 0; i < r->nc; i++) {
		walk_fields(p, r->c[i].e, out, &n, max, 0);
		walk_fields(p, r->c[i].then, out, &n, max, 0);
	}
	walk_fields(p, r->amount, out, &n, max, 0);
	for (int i = 0; i < r->npf; i++)
		walk_fields(p, r->pf[i].e, out, &n, max, 0);
	return n;
}
