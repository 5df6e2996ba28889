/*
 * compile.c - checked trees to block bytecode.
 *
 * Registers are allocated as a stack: an expression's value lands in the
 * first register it was given, so a rule needs as many registers as its
 * deepest expression (capped at DG_NREG; past that the compiler refuses).
 * Constants and parameters (read at the reference date, after any what-if
 * overrides) become immediates. `age(x) >= K` becomes a date comparison
 * against the K-th birthday cut-off, so the common age test costs one
 * compare per person. Aggregates compile to a member-kernel segment that
 * stores the member values, reduced per group by the engine.
 *
 * gen() is one switch over node kinds; it is long because the language is.
 */
#include "rule/code.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

struct comp {
	struct dg_code *code;
	const struct dg_program *p;
	const struct dg_schema *s;
	struct dg_kernel *k;
	int next;
	const struct dg_override *ov;
	int nov;
	struct dg_rule_diag *diag;
	bool failed;
	uint64_t *deps;
	struct dg_leaf leaves[64];
	int nleaves;
	struct dg_leaf params[32];
	int nparams;
	bool tracing;
};

static int emit(struct comp *c, int op, int d, int a, int b, int cc, int32_t aux, int64_t imm,
		int flags, const char *note)
{
	struct dg_kernel *k = c->k;
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 256;
		k->ins = dg_xrealloc(k->ins, sizeof(*k->ins) * (size_t)k->cap);
		k->note = dg_xrealloc(k->note, sizeof(*k->note) * (size_t)k->cap);
	}
	struct dg_ins *in = &k->ins[k->n];
	in->op = (uint8_t)op;
	in->flags = (uint8_t)flags;
	in->d = (uint16_t)d;
	in->a = (uint16_t)a;
	in->b = (uint16_t)b;
	in->c = (uint16_t)cc;
	in->aux = aux;
	in->imm = imm;
	k->note[k->n] = note;
	return k->n++;
}

static int reg(struct comp *c, const struct dg_node *n)
{
	if (c->next >= DG_NREG - 1) { /* the last register is the engine's scratch */
		if (!c->failed)
			dg_rule_diag_at(c->diag, n->src, n->line, n->col, false,
					"expression too deep for the engine (more than %d values "
					"at once): split it with 'let'",
					DG_NREG);
		c->failed = true;
		return DG_NREG - 2;
	}
	return c->next++;
}

static void leaf(struct comp *c, int ins, const char *name, int ent, int link_ins,
		 struct dg_type ty, const char *source)
{
	if (!c->tracing || c->nleaves == 64)
		return;
	struct dg_leaf *l = &c->leaves[c->nleaves++];
	l->ins = ins;
	l->name = name;
	l->ent = ent;
	l->link_ins = link_ins;
	l->ty = ty;
	l->source = source;
	l->dflt_ins = -1;
}

static bool param_at(const struct dg_param *pm, int pidx, const char *region, dg_day ref,
		     const struct dg_override *ov, int nov, int64_t *out)
{
	for (int i = nov - 1; i >= 0; i--)
		if (ov[i].param == pidx &&
		    (!ov[i].region || (region && !strcmp(ov[i].region, region)))) {
			*out = ov[i].value;
			return true;
		}
	const struct dg_param_version *v = NULL;
	for (int i = 0; i < pm->nv; i++)
		if (pm->v[i].from <= ref)
			v = &pm->v[i];
	if (!v)
		return false;
	for (int i = 0; i < v->ne; i++)
		if ((!region && !v->e[i].region) ||
		    (region && v->e[i].region && !strcmp(v->e[i].region, region))) {
			*out = v->e[i].value;
			return true;
		}
	return false;
}

bool dg_rule_param_value(const struct dg_program *p, int param, const char *region, dg_day ref,
			 const struct dg_override *ov, int nov, int64_t *out)
{
	return param_at(&p->params[param], param, region, ref, ov, nov, out);
}

/* A code constant's id: the data's when it has it, else one of the code's own (which
 * no record holds, so it equals nothing in the data). */
static int code_id(struct dg_code *cd, const char *s)
{
	int id = dg_intern_find(cd->codes, s, strlen(s));
	return id >= 0 ? id : cd->ncodes + dg_intern_get(&cd->extra, s, strlen(s));
}

const char *dg_code_str(const struct dg_code *cd, int64_t id)
{
	if (id >= 0 && id < cd->ncodes)
		return cd->codes->s[id];
	if (id >= cd->ncodes && id < (int64_t)cd->ncodes + cd->extra.n)
		return cd->extra.s[id - cd->ncodes];
	return "?";
}

/* Every code constant gets its id before any lookup table is sized. */
static void intern_consts(struct dg_code *cd, const struct dg_node *n, int depth)
{
	if (!n || depth > 400)
		return;
	if (n->kind == N_STR)
		(void)code_id(cd, n->name);
	if (n->kind == N_NAME && n->op == 1)
		return; /* a definition: walked once from the program's list */
	for (int i = 0; i < n->nargs; i++)
		intern_consts(cd, n->args[i], depth + 1);
	intern_consts(cd, n->a, depth + 1);
	intern_consts(cd, n->b, depth + 1);
	intern_consts(cd, n->c, depth + 1);
	intern_consts(cd, n->where, depth + 1);
}

static void intern_program_consts(struct dg_code *cd, const struct dg_program *p)
{
	for (int i = 0; i < p->nlets; i++)
		intern_consts(cd, p->lets[i].e->a, 0);
	for (int i = 0; i < p->nrules; i++) {
		const struct dg_rule *r = &p->rules[i];
		for (int j = 0; j < r->nc; j++) {
			intern_consts(cd, r->c[j].e, 0);
			intern_consts(cd, r->c[j].then, 0);
		}
		intern_consts(cd, r->amount, 0);
		for (int j = 0; j < r->npf; j++)
			intern_consts(cd, r->pf[j].e, 0);
	}
}

static int new_lut(struct comp *c, struct dg_table_lut **out)
{
	struct dg_code *cd = c->code;
	if (cd->nluts == cd->capluts) {
		cd->capluts = cd->capluts ? cd->capluts * 2 : 16;
		cd->luts = dg_xrealloc(cd->luts, sizeof(*cd->luts) * (size_t)cd->capluts);
	}
	struct dg_table_lut *l = &cd->luts[cd->nluts];
	l->n = cd->ncodes + cd->extra.n;
	l->v = dg_arena_alloc(cd->arena, sizeof(int64_t) * (size_t)(l->n + 1));
	l->k = dg_arena_alloc(cd->arena, (size_t)l->n + 1);
	*out = l;
	return cd->nluts++;
}

static int gen(struct comp *c, struct dg_node *n);

static void dep(struct comp *c, int param)
{
	if (c->deps)
		c->deps[param / 64] |= (uint64_t)1 << (param % 64);
}

static int konst(struct comp *c, const struct dg_node *n, int64_t v)
{
	int r = reg(c, n);
	emit(c, OP_KI, r, 0, 0, 0, 0, v, 0, NULL);
	return r;
}

/* a constant operand's value, for immediates */
static bool is_const(struct comp *c, const struct dg_node *n, int64_t *v)
{
	switch (n->kind) {
	case N_INT:
	case N_DEC:
	case N_MONEY:
	case N_DATE:
	case N_BOOL: *v = n->ival; return true;
	case N_REF: *v = c->code->ref; return true;
	case N_STR: *v = code_id(c->code, n->name); return true;
	case N_NAME:
		if (n->param >= 0 && n->op == 0 && !c->p->params[n->param].by_region) {
			if (!param_at(&c->p->params[n->param], n->param, NULL, c->code->ref, c->ov,
				      c->nov, v))
				return false;
			dep(c, n->param);
			if (c->tracing && c->nparams < 32) {
				struct dg_leaf *l = &c->params[c->nparams++];
				memset(l, 0, sizeof(*l));
				l->name = n->name;
				l->ent = -1;
				l->ins = -1;
				l->link_ins = -1;
				l->value = *v;
				l->ty = n->ty;
				l->source = c->p->params[n->param].legal;
				l->dflt_ins = -1;
			}
			return true;
		}
		return false;
	case N_DUR: /* in days or months; a count parameter with no value is not constant */
		if (n->a && !is_const(c, n->a, v))
			return false;
		if (!n->a)
			*v = n->ival;
		return !(n->ival2 == DUR_YEARS && __builtin_mul_overflow(*v, 12, v));
	default: return false;
	}
}

static int flip(int vmop)
{
	switch (vmop) {
	case OP_LT: return OP_GT;
	case OP_LE: return OP_GE;
	case OP_GT: return OP_LT;
	case OP_GE: return OP_LE;
	default: return vmop;
	}
}

/* binop enum (ast.h) to opcode */

static int ast_cmp_to_vm(int op)
{
	switch (op) {
	case BOP_LT: return OP_LT;
	case BOP_LE: return OP_LE;
	case BOP_GT: return OP_GT;
	case BOP_GE: return OP_GE;
	case BOP_EQ: return OP_EQ;
	default: return OP_NE;
	}
}

/* Emit a binary op, using the immediate form when b (or a, flipped) is constant. */
static int binop(struct comp *c, struct dg_node *n, int vmop, struct dg_node *a, struct dg_node *b,
		 bool commutes, bool promote_a, bool promote_b)
{
	int64_t k;
	int r;
	if (!promote_b && is_const(c, b, &k)) {
		r = gen(c, a);
		if (promote_a)
			emit(c, OP_TODEC, r, r, 0, 0, 0, 0, 0, NULL);
		emit(c, vmop, r, r, 0, 0, 0, k, DG_F_IMM, NULL);
		return r;
	}
	if (commutes && !promote_a && is_const(c, a, &k)) {
		r = gen(c, b);
		if (promote_b)
			emit(c, OP_TODEC, r, r, 0, 0, 0, 0, 0, NULL);
		emit(c, flip(vmop), r, r, 0, 0, 0, k, DG_F_IMM, NULL);
		return r;
	}
	r = gen(c, a);
	if (promote_a)
		emit(c, OP_TODEC, r, r, 0, 0, 0, 0, 0, NULL);
	int rb = gen(c, b);
	if (promote_b)
		emit(c, OP_TODEC, rb, rb, 0, 0, 0, 0, 0, NULL);
	emit(c, vmop, r, r, rb, 0, 0, 0, 0, NULL);
	c->next = r + 1;
	(void)n;
	return r;
}

/* A continuous_months() call, seen through definitions, or NULL. */
static const struct dg_node *contm_call(const struct dg_node *n)
{
	while (n->kind == N_NAME && n->op == 1)
		n = n->a;
	return n->kind == N_CALL && n->agg < 0 && !strcmp(n->name, "continuous_months") ? n : NULL;
}

static int emit_contm(struct comp *c, const struct dg_node *call, int r, int cap, int capreg)
{
	const struct dg_node *f = call->args[0];
	int i = emit(c, OP_CONTM, r, 0, capreg >= 0 ? capreg : 0, cap, f->field,
		     c->code->ref_month - 1, capreg >= 0 ? DG_F_CAPREG : 0, f->name);
	leaf(c, i, dg_arena_printf(c->code->arena, "continuous_months(%s)", f->name), f->ent, -1,
	     call->ty, c->s->e[f->ent].f[f->field].source);
	return i;
}

/*
 * continuous_months(f) CMP x: the run is counted back only as far as the comparison
 * needs (x months for >= and <, x + 1 for the others), so months with no data
 * further back do not make a decided comparison unknown.
 */
static int gen_contm_cmp(struct comp *c, const struct dg_node *call, int vmop, struct dg_node *x)
{
	int adj = vmop == OP_GE || vmop == OP_LT ? 0 : 1;
	int64_t k;
	if (is_const(c, x, &k)) {
		int64_t cap = k + adj < 0 ? 0 : k + adj > DG_MAX_MONTHS ? DG_MAX_MONTHS : k + adj;
		int r = reg(c, x);
		emit_contm(c, call, r, (int)cap, -1);
		emit(c, vmop, r, r, 0, 0, 0, k, DG_F_IMM, NULL);
		return r;
	}
	int rx = gen(c, x);
	int r = reg(c, x);
	emit_contm(c, call, r, adj, rx);
	emit(c, vmop, rx, r, rx, 0, 0, 0, 0, NULL);
	c->next = rx + 1;
	return rx;
}

/* date + / - a duration: days are day numbers, months move along the calendar */
static int gen_date_dur(struct comp *c, struct dg_node *n)
{
	bool dur_left = n->a->ty.base == TY_DUR;
	struct dg_node *date = dur_left ? n->b : n->a, *dur = dur_left ? n->a : n->b;
	int64_t k;
	int r = gen(c, date);
	if (!is_const(c, dur, &k)) { /* a count parameter with no value on @ref */
		emit(c, OP_KU, r, 0, 0, 0, 0, 0, 0, NULL);
		return r;
	}
	if (n->op == BOP_SUB && __builtin_sub_overflow(0, k, &k)) {
		emit(c, OP_KU, r, 0, 0, 0, 0, 0, 0, NULL);
		return r;
	}
	if (dur->ival2 == DUR_DAYS)
		emit(c, OP_ADD, r, r, 0, 0, 0, k, DG_F_IMM, NULL);
	else
		emit(c, OP_ADDMON, r, r, 0, 0, 0, k, DG_F_IMM, NULL);
	return r;
}

static int gen_bin(struct comp *c, struct dg_node *n)
{
	enum dg_ty ta = n->a->ty.base, tb = n->b->ty.base;
	bool pa = ta == TY_INT && tb == TY_DEC, pb = ta == TY_DEC && tb == TY_INT;
	if ((ta == TY_DUR || tb == TY_DUR) && (ta == TY_DATE || tb == TY_DATE))
		return gen_date_dur(c, n);
	switch (n->op) {
	case BOP_AND: return binop(c, n, OP_AND, n->a, n->b, false, false, false);
	case BOP_OR: return binop(c, n, OP_OR, n->a, n->b, false, false, false);
	case BOP_ADD: return binop(c, n, OP_ADD, n->a, n->b, true, pa, pb);
	case BOP_SUB: return binop(c, n, OP_SUB, n->a, n->b, false, pa, pb);
	case BOP_MUL:
		if (ta == TY_DEC && tb == TY_DEC)
			return binop(c, n, OP_MULDEC, n->a, n->b, true, false, false);
		return binop(c, n, OP_MUL, n->a, n->b, true, false, false);
	case BOP_DIV:
		if (ta == TY_DEC && tb == TY_INT)
			return binop(c, n, OP_DIVDI, n->a, n->b, false, false, false);
		/* int/int, money/money, dec/dec, int/dec: a * ONE / b */
		if (ta == TY_INT && tb == TY_DEC)
			return binop(c, n, OP_DIVDEC, n->a, n->b, false, true, false);
		return binop(c, n, OP_DIVDEC, n->a, n->b, false, false, false);
	default: {
		int vm = ast_cmp_to_vm(n->op);
		/* a run compared with a count (not a decimal, which promotes it) */
		const struct dg_node *cm = contm_call(n->a);
		if (cm && tb == TY_INT)
			return gen_contm_cmp(c, cm, vm, n->b);
		if ((cm = contm_call(n->b)) && ta == TY_INT)
			return gen_contm_cmp(c, cm, flip(vm), n->a);
		/* age(x) >= K: compare the birth date with the K-th birthday cut-off */
		int64_t k;
		if (n->a->kind == N_CALL && !strcmp(n->a->name, "age") && tb == TY_INT &&
		    is_const(c, n->b, &k) && k >= 0 && k <= 150 && vm != OP_EQ && vm != OP_NE) {
			int64_t cut;
			int op;
			switch (vm) {
			case OP_GE:
				cut = c->code->age_cut[k];
				op = OP_AGEGE;
				break;
			case OP_GT:
				cut = c->code->age_cut[k + 1];
				op = OP_AGEGE;
				break;
			case OP_LT:
				cut = c->code->age_cut[k];
				op = OP_AGELT;
				break;
			default:
				cut = c->code->age_cut[k + 1];
				op = OP_AGELT;
				break;
			}
			int r = gen(c, n->a->args[0]);
			emit(c, op, r, r, 0, 0, c->code->ref, cut, DG_F_IMM, "age cut-off");
			return r;
		}
		return binop(c, n, vm, n->a, n->b, true, pa, pb);
	}
	}
}

static int gen_agg_ref(struct comp *c, struct dg_node *n)
{
	struct dg_aggcode *ac = &c->code->aggs[n->agg];
	const struct dg_node *g = n->args[0];
	int r = reg(c, n);
	const char *name =
		dg_arena_printf(c->code->arena, "%s(%s%s%s)", n->name,
				g->kind == N_PATH ? c->s->e[g->a->ent].f[g->link].name : "",
				g->kind == N_PATH ? "." : "", c->s->e[g->ent].g[g->field].name);
	const struct dg_agg *ag = &c->p->aggs[n->agg];
	if (g->kind == N_PATH) {
		int li = emit(c, OP_COL, r, 0, 0, 0, g->link, 0, 0,
			      c->s->e[g->a->ent].f[g->link].name);
		int gi = emit(c, OP_TGATHER, r, r, 0, 0, ac->out_temp, 0, 0, name);
		leaf(c, gi, name, ag->group_ent, li, n->ty, "computed");
	} else {
		int gi = emit(c, OP_TCOL, r, 0, 0, 0, ac->out_temp, 0, 0, name);
		leaf(c, gi, name, ag->group_ent, -1, n->ty, "computed");
	}
	/* the rule depends on whatever the aggregate's inputs depend on */
	for (int w = 0; c->deps && w <= c->p->nparams / 64; w++)
		c->deps[w] |= ac->deps[w];
	return r;
}

/* household.income_pc read from a person: gather the definition's column, computed
 * before the rules, through the link */
static int gen_link_let(struct comp *c, struct dg_node *n)
{
	const struct dg_letcode *lc = &c->code->letc[n->field];
	int r = reg(c, n);
	/* the link is a field of the entity this kernel runs over */
	const char *lname = c->s->e[c->k->ent].f[n->link].name;
	int li = emit(c, OP_COL, r, 0, 0, 0, n->link, 0, 0, lname);
	const char *name = dg_arena_printf(c->code->arena, "%s.%s", lname, n->name);
	int gi = emit(c, OP_TGATHER, r, r, 0, 0, lc->temp, 0, 0, name);
	leaf(c, gi, name, n->ent, li, n->ty, "computed");
	for (int w = 0; c->deps && w <= c->p->nparams / 64; w++)
		c->deps[w] |= lc->deps[w];
	return r;
}

static int gen_window_sum(struct comp *c, struct dg_node *n, int op)
{
	struct dg_node *f = n->args[0], *w = n->args[1];
	int r = reg(c, n);
	int64_t from = w->op ? w->ival : c->code->ref_month + w->ival;
	int64_t cnt = w->ival2 - w->ival + 1;
	int i = emit(c, op, r, 0, 0, (int)cnt, f->field, from, 0, f->name);
	leaf(c, i, dg_arena_printf(c->code->arena, "%s(%s, %d months)", n->name, f->name, (int)cnt),
	     f->ent, -1, n->ty, c->s->e[f->ent].f[f->field].source);
	return r;
}

static int gen_call(struct comp *c, struct dg_node *n)
{
	const char *f = n->name;
	struct dg_node **a = n->args;
	if (n->agg >= 0)
		return gen_agg_ref(c, n);
	if (!strcmp(f, "age")) {
		int r = gen(c, a[0]);
		emit(c, OP_AGE, r, r, 0, 0, 0, 0, 0, NULL);
		return r;
	}
	if (!strcmp(f, "days_between"))
		return binop(c, n, OP_DAYSB, a[0], a[1], false, false, false);
	if (!strcmp(f, "months_between"))
		return binop(c, n, OP_MONTHSB, a[0], a[1], false, false, false);
	if (!strcmp(f, "min") || !strcmp(f, "max"))
		return binop(c, n, f[1] == 'i' ? OP_MIN : OP_MAX, a[0], a[1], true, false, false);
	if (!strcmp(f, "coalesce")) {
		int saved = c->nleaves;
		int r = binop(c, n, OP_COALESCE, a[0], a[1], false, false, false);
		/* the value's leaf shows the default when the value is unknown */
		int ci = c->k->n - 1;
		for (int l = saved; l < c->nleaves; l++)
			if (c->leaves[l].ins == ci - 1 && c->k->ins[ci - 1].d == r)
				c->leaves[l].dflt_ins = ci;
		return r;
	}
	if (!strcmp(f, "end_of_month") || !strcmp(f, "year_of") || !strcmp(f, "month_of") ||
	    !strcmp(f, "day_of")) {
		int r = gen(c, a[0]);
		int part = f[0] == 'y' ? 0 : f[0] == 'm' ? 1 : f[0] == 'd' ? 2 : 3;
		emit(c, OP_DATEPART, r, r, 0, 0, part, 0, 0, NULL);
		return r;
	}
	if (!strcmp(f, "date_of")) {
		int r = gen(c, a[0]);
		int rb = gen(c, a[1]), rc = gen(c, a[2]);
		emit(c, OP_DATEOF, r, r, rb, rc, 0, 0, 0, NULL);
		c->next = r + 1;
		return r;
	}
	if (!strcmp(f, "abs") || !strcmp(f, "known")) {
		int r = gen(c, a[0]);
		emit(c, f[0] == 'a' ? OP_ABS : OP_KNOWN, r, r, 0, 0, 0, 0, 0, NULL);
		return r;
	}
	if (!strcmp(f, "round")) {
		int unit = (int)n->ival, mode = (int)n->ival2;
		struct dg_node *x = a[0];
		if (x->kind == N_BIN && x->ty.base == TY_RAW) {
			struct dg_node *m = x->a, *k = x->b;
			int op = x->op == BOP_MUL ? OP_MULR : OP_DIVR;
			if (op == OP_MULR && m->ty.base != TY_MONEY) {
				struct dg_node *t = m;
				m = k;
				k = t;
			}
			int64_t kv;
			int r = gen(c, m);
			if (is_const(c, k, &kv)) {
				emit(c, op, r, r, 0, (uint16_t)mode, unit, kv, DG_F_IMM, NULL);
			} else {
				int rb = gen(c, k);
				emit(c, op, r, r, rb, (uint16_t)mode, unit, 0, 0, NULL);
				c->next = r + 1;
			}
			return r;
		}
		if (x->kind == N_CALL && !strcmp(x->name, "avg")) {
			int r = gen_window_sum(c, x, OP_WSUM);
			int64_t cnt = x->args[1]->ival2 - x->args[1]->ival + 1;
			emit(c, OP_DIVR, r, r, 0, (uint16_t)mode, unit, cnt, DG_F_IMM, NULL);
			return r;
		}
		int r = gen(c, x);
		emit(c, OP_ROUNDM, r, r, 0, (uint16_t)mode, unit, 0, 0, NULL);
		return r;
	}
	if (!strcmp(f, "sum"))
		return gen_window_sum(c, n, OP_WSUM);
	if (!strcmp(f, "avg")) { /* integer monthly field: a decimal average */
		int r = gen_window_sum(c, n, OP_WSUM);
		int64_t cnt = a[1]->ival2 - a[1]->ival + 1;
		emit(c, OP_DIVDEC, r, r, 0, 0, 0, cnt, DG_F_IMM, NULL);
		return r;
	}
	if (!strcmp(f, "months_with"))
		return gen_window_sum(c, n, OP_WCOUNT);
	if (!strcmp(f, "continuous_months")) {
		int r = reg(c, n);
		emit_contm(c, n, r, DG_MAX_MONTHS, -1);
		return r;
	}
	/* benefit history */
	int r = reg(c, n);
	int64_t from, cnt;
	int status = BEN_PAID;
	if (!strcmp(f, "receives")) {
		from = c->code->ref_month - 1;
		cnt = 2;
	} else {
		struct dg_node *w = a[1];
		from = w->op ? w->ival : c->code->ref_month + w->ival;
		cnt = w->ival2 - w->ival + 1;
		if (!strcmp(f, "refused"))
			status = BEN_REFUSED;
		else if (!strcmp(f, "applied"))
			status = 0;
		/* history is read as of @ref: records after its month do not count */
		if (from + cnt > c->code->ref_month + 1)
			cnt = c->code->ref_month + 1 - from;
		if (cnt < 0)
			cnt = 0;
	}
	int ben = code_id(c->code, a[0]->name);
	int i = emit(c, OP_BEN, r, 0, (uint16_t)status, (uint16_t)cnt, ben, from, 0, a[0]->name);
	leaf(c, i, dg_arena_printf(c->code->arena, "%s(\"%s\")", f, a[0]->name), n->ent, -1, n->ty,
	     "benefit history");
	return r;
}

static int gen_set_lut(struct comp *c, struct dg_node *n, bool prefix)
{
	struct dg_table_lut *l;
	int li = new_lut(c, &l);
	struct dg_node *set = n->b;
	for (int id = 0; id < l->n; id++) {
		const char *s = dg_code_str(c->code, id);
		l->k[id] = 1;
		for (int j = 0; j < set->nargs; j++) {
			const char *e = set->args[j]->name;
			if (prefix ? strncmp(s, e, strlen(e)) == 0 : strcmp(s, e) == 0)
				l->v[id] = 1;
		}
	}
	return li;
}

static int gen(struct comp *c, struct dg_node *n)
{
	int64_t k;
	int r;
	if (c->failed)
		return DG_REG_FIRST;
	switch (n->kind) {
	case N_INT:
	case N_DEC:
	case N_MONEY:
	case N_DATE:
	case N_BOOL:
	case N_REF:
	case N_STR: is_const(c, n, &k); return konst(c, n, k);
	case N_NAME:
		if (n->op == 1)
			return gen(c, n->a);
		if (n->param >= 0) {
			if (!is_const(c, n, &k)) {
				r = reg(c, n);
				emit(c, OP_KU, r, 0, 0, 0, 0, 0, 0, n->name);
				dep(c, n->param);
				return r;
			}
			return konst(c, n, k);
		}
		r = reg(c, n);
		{
			int i = emit(c, OP_COL, r, 0, 0, 0, n->field, 0, 0, n->name);
			leaf(c, i, n->name, n->ent, -1, n->ty, c->s->e[n->ent].f[n->field].source);
		}
		return r;
	case N_PATH: {
		if (n->op == 1) /* a definition of the linked record */
			return gen_link_let(c, n);
		const struct dg_field *fd = &c->s->e[n->ent].f[n->field];
		if (fd->monthly) {
			dg_rule_diag_at(c->diag, n->src, n->line, n->col, false,
					"monthly fields are not reachable through a link yet");
			c->failed = true;
			return DG_REG_FIRST;
		}
		r = reg(c, n);
		int li = emit(c, OP_COL, r, 0, 0, 0, n->link, 0, 0,
			      c->s->e[n->a->ent].f[n->link].name);
		const char *name = dg_arena_printf(c->code->arena, "%s.%s",
						   c->s->e[n->a->ent].f[n->link].name, n->name);
		int gi = emit(c, OP_GATHER, r, r, 0, (uint16_t)n->ent, n->field, 0, 0, name);
		leaf(c, gi, name, n->ent, li, n->ty, fd->source);
		return r;
	}
	case N_INDEX: {
		const struct dg_param *pm = &c->p->params[n->param];
		struct dg_table_lut *l;
		int li = new_lut(c, &l);
		dep(c, n->param);
		for (int id = 0; id < l->n; id++) {
			/* longest region prefix with a value at ref, else the default */
			const char *s = dg_code_str(c->code, id);
			size_t sl = strlen(s);
			for (size_t len = sl + 1; len-- > 0;) {
				char pre[256];
				if (len >= sizeof(pre))
					continue;
				memcpy(pre, s, len);
				pre[len] = '\0';
				if (param_at(pm, n->param, len ? pre : NULL, c->code->ref, c->ov,
					     c->nov, &l->v[id])) {
					l->k[id] = 1;
					break;
				}
			}
		}
		r = gen(c, n->b);
		int i = emit(c, OP_LOOKUP, r, r, 0, 0, li, 0, 0, pm->name);
		leaf(c, i, dg_arena_printf(c->code->arena, "%s[region]", pm->name), -1, -1, n->ty,
		     pm->legal);
		return r;
	}
	case N_AT: {
		struct dg_node *f = n->a;
		if (f->kind != N_NAME || f->op != 0) {
			dg_rule_diag_at(c->diag, n->src, n->line, n->col, false,
					"'at month' works on a monthly field of this record");
			c->failed = true;
			return DG_REG_FIRST;
		}
		r = reg(c, n);
		int i = emit(c, OP_MCOL, r, 0, 0, 0, f->field, c->code->ref_month + n->ival, 0,
			     f->name);
		leaf(c, i, dg_arena_printf(c->code->arena, "%s at month %d", f->name, (int)n->ival),
		     f->ent, -1, n->ty, c->s->e[f->ent].f[f->field].source);
		return r;
	}
	case N_BIN: return gen_bin(c, n);
	case N_NOT:
	case N_NEG:
		r = gen(c, n->a);
		emit(c, n->kind == N_NOT ? OP_NOT : OP_NEG, r, r, 0, 0, 0, 0, 0, NULL);
		return r;
	case N_IF: {
		r = gen(c, n->a);
		int rb = gen(c, n->b), rc = gen(c, n->c);
		emit(c, OP_IF, r, r, rb, rc, 0, 0, 0, NULL);
		c->next = r + 1;
		return r;
	}
	case N_BETWEEN: {
		int64_t alo, ahi;
		if (n->a->kind == N_CALL && !strcmp(n->a->name, "age") && is_const(c, n->b, &alo) &&
		    is_const(c, n->c, &ahi) && alo >= 0 && ahi >= alo && ahi <= 150) {
			/* age between lo and hi: birth <= cut[lo] and birth > cut[hi + 1] */
			r = gen(c, n->a->args[0]);
			emit(c, OP_AGEGE, r, r, 0, 0, c->code->ref, c->code->age_cut[alo], DG_F_IMM,
			     "age cut-off");
			int r2 = gen(c, n->a->args[0]);
			emit(c, OP_AGELT, r2, r2, 0, 0, c->code->ref, c->code->age_cut[ahi + 1],
			     DG_F_IMM, "age cut-off");
			emit(c, OP_AND, r, r, r2, 0, 0, 0, 0, NULL);
			c->next = r + 1;
			return r;
		}
		const struct dg_node *cm = contm_call(n->a);
		if (cm) {
			r = gen_contm_cmp(c, cm, OP_GE, n->b);
			int r2 = gen_contm_cmp(c, cm, OP_LE, n->c);
			emit(c, OP_AND, r, r, r2, 0, 0, 0, 0, NULL);
			c->next = r + 1;
			return r;
		}
		r = gen(c, n->a);
		int lo = reg(c, n);
		emit(c, OP_KI, lo, 0, 0, 0, 0, 0, 0, NULL);
		/* x between a and b  ==  a <= x and x <= b, three-valued */
		int x2 = reg(c, n);
		int ra = gen(c, n->b);
		emit(c, OP_LE, lo, ra, r, 0, 0, 0, 0, NULL);
		c->next = x2 + 1;
		int rb = gen(c, n->c);
		emit(c, OP_LE, x2, r, rb, 0, 0, 0, 0, NULL);
		emit(c, OP_AND, r, lo, x2, 0, 0, 0, 0, NULL);
		c->next = r + 1;
		return r;
	}
	case N_IN:
	case N_WITHIN: {
		int li = gen_set_lut(c, n, n->kind == N_WITHIN);
		r = gen(c, n->a);
		emit(c, OP_LOOKUP, r, r, 0, 0, li, 0, 0, n->kind == N_IN ? "in" : "within");
		return r;
	}
	case N_CALL: return gen_call(c, n);
	case N_DUR: /* a count parameter with no value on @ref is unknown */
		if (is_const(c, n, &k))
			return konst(c, n, k);
		r = reg(c, n);
		emit(c, OP_KU, r, 0, 0, 0, 0, 0, 0, NULL);
		return r;
	default:
		dg_rule_diag_at(c->diag, n->src, n->line, n->col, false,
				"this cannot be compiled here");
		c->failed = true;
		return DG_REG_FIRST;
	}
}

static int new_temp(struct dg_code *cd, int ent, struct dg_type ty)
{
	if (cd->ntemps == cd->captemps) {
		cd->captemps = cd->captemps ? cd->captemps * 2 : 16;
		cd->temps = dg_xrealloc(cd->temps, sizeof(*cd->temps) * (size_t)cd->captemps);
	}
	cd->temps[cd->ntemps].ent = ent;
	cd->temps[cd->ntemps].ty = ty;
	return cd->ntemps++;
}

static void age_cuts(struct dg_code *cd)
{
	int y, m, d;
	dg_day_to_ymd(cd->ref, &y, &m, &d);
	for (int a = 0; a < 152; a++) {
		int yy = y - a, dd = d;
		if (!dg_ymd_valid(yy, m, dd))
			dd = 28; /* born 29 Feb: the birthday in a common year is 1 March */
		cd->age_cut[a] = dg_day_from_ymd(yy, m, dd);
	}
}

static void save_trace(struct comp *c, struct dg_ccode *cc)
{
	cc->nleaves = c->nleaves;
	cc->leaves =
		dg_arena_alloc(c->code->arena, sizeof(struct dg_leaf) * (size_t)(c->nleaves + 1));
	memcpy(cc->leaves, c->leaves, sizeof(struct dg_leaf) * (size_t)c->nleaves);
	cc->nparams = c->nparams;
	cc->params =
		dg_arena_alloc(c->code->arena, sizeof(struct dg_leaf) * (size_t)(c->nparams + 1));
	memcpy(cc->params, c->params, sizeof(struct dg_leaf) * (size_t)c->nparams);
	c->nleaves = c->nparams = 0;
}

/*
 * The amount after its exceptions, into register a. Every mode is unknown when a
 * "when" is unknown, except FIRST, where only the ones before the first that
 * applies matter (a chain of IFs from the last exception back gives exactly that).
 */
static void gen_amount_exceptions(struct comp *c, const struct dg_rule *r, struct dg_rcode *rc,
				  int a)
{
	enum dg_combine mode = r->amount_combine;
	int nexc = 0;
	for (int j = 0; j < r->nc; j++)
		nexc += r->c[j].kind == CL_EXC_AMOUNT;
	if (nexc == 0)
		return;
	int kw = reg(c, r->amount); /* every "when" known so far */
	emit(c, OP_KI, kw, 0, 0, 0, 0, 1, 0, NULL);
	int cnt = reg(c, r->amount); /* how many applied */
	emit(c, OP_KI, cnt, 0, 0, 0, 0, 0, 0, NULL);
	int base = c->next;
	for (int q = 0; q < r->nc; q++) {
		int j = mode == COMB_FIRST ? r->nc - 1 - q : q;
		const struct dg_cond *x = &r->c[j];
		if (x->kind != CL_EXC_AMOUNT)
			continue;
		c->next = base;
		int w = gen(c, x->e);
		rc->cc[j].result_ins = c->k->n - 1;
		int t = gen(c, x->then);
		int u = reg(c, x->e);
		emit(c, OP_KNOWN, u, w, 0, 0, 0, 0, 0, NULL);
		emit(c, OP_AND, kw, kw, u, 0, 0, 0, 0, NULL);
		switch (mode) {
		case COMB_MAX: { /* the first that applies, or the larger */
			int v = reg(c, x->e);
			emit(c, OP_MAX, u, a, t, 0, 0, 0, 0, NULL);
			emit(c, OP_IF, v, cnt, u, t, 0, 0, 0, NULL);
			t = v;
			break;
		}
		case COMB_SUM: /* a top-up: added to the amount so far */
			emit(c, OP_ADD, u, a, t, 0, 0, 0, 0, NULL);
			t = u;
			break;
		default: break;
		}
		emit(c, OP_IF, a, w, t, a, 0, 0, 0, x->id);
		emit(c, OP_ISTRUE, u, w, 0, 0, 0, 0, 0, NULL);
		emit(c, OP_ADD, cnt, cnt, u, 0, 0, 0, 0, NULL);
	}
	if (mode == COMB_CONFLICT && nexc >= 2) {
		emit(c, OP_CONFL, DG_REG_CONFL, cnt, 0, 0, 0, 0, 0, NULL);
		rc->has_conflict = true;
	}
	if (mode != COMB_FIRST) {
		int ku = reg(c, r->amount);
		emit(c, OP_KU, ku, 0, 0, 0, 0, 0, 0, NULL);
		emit(c, OP_IF, a, kw, a, ku, 0, 0, 0, NULL);
	}
	c->next = base;
}

static void gen_rule(struct comp *c, int ri)
{
	const struct dg_rule *r = &c->p->rules[ri];
	struct dg_rcode *rc = &c->code->rc[ri];
	rc->rule = ri;
	rc->ent = r->ent;
	rc->in_force = c->code->ref >= r->valid_from && c->code->ref <= r->valid_to;
	c->k = &c->code->rules[r->ent];
	rc->from = c->k->n;
	rc->cc = dg_arena_alloc(c->code->arena, sizeof(*rc->cc) * (size_t)(r->nc + 1));
	rc->param_deps =
		dg_arena_alloc(c->code->arena, sizeof(uint64_t) * (size_t)(c->p->nparams / 64 + 1));
	c->deps = rc->param_deps;
	rc->cond0 = c->code->nconds;
	c->tracing = true;
	emit(c, OP_RBEGIN, 0, 0, 0, 0, ri, 0, 0, r->id);
	for (int i = 0; i < r->nc; i++) {
		const struct dg_cond *cd = &r->c[i];
		struct dg_ccode *cc = &rc->cc[i];
		if (cd->kind != CL_COND)
			continue;
		c->next = DG_REG_FIRST;
		c->nleaves = c->nparams = 0;
		cc->global = c->code->nconds++;
		cc->from = c->k->n;
		cc->lhs_ins = cc->rhs_ins = cc->cmp = -1;
		struct dg_node *e = cd->e;
		int res;
		if (e->kind == N_BIN && e->op >= BOP_LT && e->op <= BOP_NE &&
		    e->a->ty.base != TY_CODE && e->a->ty.base != TY_BOOL) {
			res = gen(c, e);
			/* the compare is the last instruction: its operands give the gap */
			struct dg_ins *last = &c->k->ins[c->k->n - 1];
			/* an age cut-off compares the birth date: born on or before / after */
			cc->cmp = last->op == OP_AGEGE   ? OP_LE
				  : last->op == OP_AGELT ? OP_GT
							 : last->op;
			cc->cmp_ty = e->a->ty.base == TY_INT && e->b->ty.base == TY_DEC ? e->b->ty
											: e->a->ty;
			if (!strcmp(c->k->note[c->k->n - 1] ? c->k->note[c->k->n - 1] : "",
				    "age cut-off"))
				cc->cmp_ty.base = TY_DATE;
			/* the last writers of the compare's operand registers hold its sides */
			for (int q = c->k->n - 2; q >= cc->from && cc->lhs_ins < 0; q--)
				if (c->k->ins[q].d == last->a)
					cc->lhs_ins = q;
			if (last->flags & DG_F_IMM)
				cc->rhs_imm = last->imm;
			else
				for (int q = c->k->n - 2; q >= cc->from && cc->rhs_ins < 0; q--)
					if (c->k->ins[q].d == last->b)
						cc->rhs_ins = q;
		} else {
			res = gen(c, e);
		}
		cc->result_ins = c->k->n - 1;
		/* exceptions waive this condition when they apply (Kleene or); in conflict
		 * mode two that apply mark the record */
		int nexc = 0;
		for (int j = 0; j < r->nc; j++)
			if (r->c[j].kind == CL_EXC_COND && r->c[j].target_idx == i)
				nexc++;
		int cnt = nexc >= 2 && cd->combine == COMB_CONFLICT ? reg(c, e) : -1;
		if (cnt >= 0)
			emit(c, OP_KI, cnt, 0, 0, 0, 0, 0, 0, NULL);
		for (int j = 0; j < r->nc; j++) {
			if (r->c[j].kind != CL_EXC_COND || r->c[j].target_idx != i)
				continue;
			int w = gen(c, r->c[j].e);
			rc->cc[j].result_ins = c->k->n - 1;
			if (cnt >= 0) {
				int t = reg(c, e);
				emit(c, OP_ISTRUE, t, w, 0, 0, 0, 0, 0, NULL);
				emit(c, OP_ADD, cnt, cnt, t, 0, 0, 0, 0, NULL);
			}
			emit(c, OP_OR, res, res, w, 0, 0, 0, 0, r->c[j].id);
			c->next = (cnt >= 0 ? cnt : res) + 1;
		}
		if (cnt >= 0) {
			emit(c, OP_CONFL, DG_REG_CONFL, cnt, 0, 0, 0, 0, 0, NULL);
			rc->has_conflict = true;
		}
		emit(c, OP_COND, DG_REG_ACC, res, 0, 0, cc->global, 0, 0, cd->id);
		cc->to = c->k->n;
		save_trace(c, cc);
		rc->ncond++;
	}
	if (r->amount) {
		c->next = DG_REG_AMOUNT;
		int a = gen(c, r->amount);
		rc->has_amount = true;
		gen_amount_exceptions(c, r, rc, a);
		rc->amount_ins = c->k->n - 1;
		c->nleaves = c->nparams = 0;
	}
	for (int i = 0; i < r->nc; i++) {
		/* exceptions: their own trace entries so explain can say which applied */
		if (r->c[i].kind == CL_COND)
			continue;
		rc->cc[i].global = -1;
	}
	emit(c, OP_REND, 0, DG_REG_ACC, DG_REG_CONFL, r->amount ? DG_REG_AMOUNT : DG_NOREG, ri, 0,
	     0, r->id);
	rc->to = c->k->n;
	c->deps = NULL;
	c->tracing = false;
}

static void gen_aggs(struct comp *c)
{
	const struct dg_program *p = c->p;
	struct dg_code *cd = c->code;
	cd->naggs = p->naggs;
	cd->aggs = dg_arena_alloc(cd->arena, sizeof(*cd->aggs) * (size_t)(p->naggs + 1));
	for (int i = 0; i < p->naggs; i++) {
		const struct dg_agg *ag = &p->aggs[i];
		struct dg_aggcode *ac = &cd->aggs[i];
		ac->agg = i;
		ac->where_temp = ac->val_temp = -1;
		c->k = &cd->member[ag->member_ent];
		ac->from = c->k->n;
		ac->deps =
			dg_arena_alloc(cd->arena, sizeof(uint64_t) * (size_t)(p->nparams / 64 + 1));
		c->deps = ac->deps;
		if (ag->where) {
			c->next = DG_REG_FIRST;
			int r = gen(c, ag->where);
			ac->where_temp = new_temp(cd, ag->member_ent, ag->where->ty);
			emit(c, OP_STORE, 0, r, 0, 0, ac->where_temp, 0, 0, "where");
		}
		if (ag->e) {
			c->next = DG_REG_FIRST;
			int r = gen(c, ag->e);
			ac->val_temp = new_temp(cd, ag->member_ent, ag->e->ty);
			emit(c, OP_STORE, 0, r, 0, 0, ac->val_temp, 0, 0, "value");
		}
		ac->to = c->k->n;
		c->deps = NULL;
		ac->out_temp = new_temp(cd, ag->group_ent, ag->ty);
	}
}

/* Definitions read through a link: one segment each in their entity's kernel,
 * stored in a column the rules gather from (after aggregates, which they may use). */
static void gen_link_lets(struct comp *c)
{
	const struct dg_program *p = c->p;
	struct dg_code *cd = c->code;
	cd->letc = dg_arena_alloc(cd->arena, sizeof(*cd->letc) * (size_t)(p->nlets + 1));
	for (int i = 0; i < p->nlets; i++) {
		const struct dg_let *l = &p->lets[i];
		struct dg_letcode *lc = &cd->letc[i];
		lc->temp = -1;
		if (!l->via_link || l->state != 2)
			continue;
		c->k = &cd->lets[l->ent];
		lc->from = c->k->n;
		lc->deps =
			dg_arena_alloc(cd->arena, sizeof(uint64_t) * (size_t)(p->nparams / 64 + 1));
		c->deps = lc->deps;
		c->next = DG_REG_FIRST;
		int r = gen(c, l->e->a);
		lc->temp = new_temp(cd, l->ent, l->e->a->ty);
		emit(c, OP_STORE, 0, r, 0, 0, lc->temp, 0, 0, l->name);
		lc->to = c->k->n;
		c->deps = NULL;
	}
}

struct dg_code *dg_rule_compile(const struct dg_program *p, const struct dg_intern *codes,
				dg_day ref, const struct dg_override *ov, int nov,
				struct dg_rule_diag *diag)
{
	struct dg_code *cd = dg_xcalloc(1, sizeof(*cd));
	struct comp c = {0};
	int y, m, d;
	cd->arena = dg_arena_new();
	cd->prog = p;
	cd->codes = codes;
	cd->ncodes = codes->n;
	dg_intern_init(&cd->extra);
	intern_program_consts(cd, p);
	cd->ref = ref;
	dg_day_to_ymd(ref, &y, &m, &d);
	cd->ref_month = DG_DATA_MONTH(y, m);
	age_cuts(cd);
	for (int e = 0; e < DG_MAX_ENT; e++)
		cd->member[e].ent = cd->rules[e].ent = cd->lets[e].ent = e;
	cd->nrules = p->nrules;
	cd->rc = dg_arena_alloc(cd->arena, sizeof(*cd->rc) * (size_t)(p->nrules + 1));
	c.code = cd;
	c.p = p;
	c.s = p->schema;
	c.ov = ov;
	c.nov = nov;
	c.diag = diag;
	gen_aggs(&c);
	gen_link_lets(&c);
	for (int i = 0; i < p->nrules && !c.failed; i++)
		gen_rule(&c, i);
	if (c.failed) {
		dg_code_free(cd);
		return NULL;
	}
	return cd;
}

void dg_code_free(struct dg_code *cd)
{
	if (!cd)
		return;
	for (int e = 0; e < DG_MAX_ENT; e++) {
		free(cd->member[e].ins);
		free(cd->member[e].note);
		free(cd->rules[e].ins);
		free(cd->rules[e].note);
		free(cd->lets[e].ins);
		free(cd->lets[e].note);
	}
	free(cd->luts);
	free(cd->temps);
	dg_intern_release(&cd->extra);
	dg_arena_free(cd->arena);
	free(cd);
}

static const char *const op_names[] = {
#define X(n, s) #n,
	DG_OPCODES(X)
#undef X
};

static dg_rc dump_kernel(const struct dg_code *cd, const struct dg_kernel *k, const char *what,
			 struct dg_buf *out)
{
	const struct dg_schema *s = cd->prog->schema;
	dg_rc rc = DG_OK;
	if (k->n == 0)
		return DG_OK;
	rc |= dg_buf_addf(out, "kernel %s over %s: %d instructions\n", what, s->e[k->ent].name,
			  k->n);
	for (int i = 0; i < k->n; i++) {
		const struct dg_ins *in = &k->ins[i];
		rc |= dg_buf_addf(out, "  %4d  %-8s", i, op_names[in->op]);
		switch (in->op) {
		case OP_RBEGIN:
			rc |= dg_buf_addf(out, " rule %s\n", cd->prog->rules[in->aux].id);
			continue;
		case OP_REND:
			rc |= dg_buf_addf(out, " rule %s  acc r%d  conflict r%d",
					  cd->prog->rules[in->aux].id, in->a, in->b);
			if (in->c != DG_NOREG)
				rc |= dg_buf_addf(out, "  amount r%d", in->c);
			rc |= dg_buf_adds(out, "\n");
			continue;
		case OP_COND:
			rc |= dg_buf_addf(out, " r%d &= r%d  -> condition #%d %s\n", in->d, in->a,
					  in->aux, k->note[i]);
			continue;
		case OP_STORE:
			rc |= dg_buf_addf(out, " t%d <- r%d (%s)\n", in->aux, in->a, k->note[i]);
			continue;
		default: break;
		}
		rc |= dg_buf_addf(out, " r%d", in->d);
		switch (in->op) {
		case OP_COL:
		case OP_MCOL:
			rc |= dg_buf_addf(out, " <- %s", s->e[k->ent].f[in->aux].name);
			if (in->op == OP_MCOL)
				rc |= dg_buf_addf(out, " @ %04d-%02d", (int)(in->imm / 12),
						  (int)(in->imm % 12) + 1);
			break;
		case OP_TCOL: rc |= dg_buf_addf(out, " <- t%d", in->aux); break;
		case OP_GATHER:
			rc |= dg_buf_addf(out, " <- %s[r%d].%s", s->e[in->c].name, in->a,
					  s->e[in->c].f[in->aux].name);
			break;
		case OP_TGATHER: rc |= dg_buf_addf(out, " <- t%d[r%d]", in->aux, in->a); break;
		case OP_KI: rc |= dg_buf_addf(out, " <- %lld", (long long)in->imm); break;
		case OP_KU: rc |= dg_buf_adds(out, " <- unknown"); break;
		case OP_LOOKUP: rc |= dg_buf_addf(out, " <- lut%d[r%d]", in->aux, in->a); break;
		case OP_WSUM:
		case OP_WCOUNT:
			rc |= dg_buf_addf(out, " <- %s %04d-%02d +%d months",
					  s->e[k->ent].f[in->aux].name, (int)(in->imm / 12),
					  (int)(in->imm % 12) + 1, in->c);
			break;
		case OP_CONTM:
			rc |= dg_buf_addf(out, " <- %s back from %04d-%02d",
					  s->e[k->ent].f[in->aux].name, (int)(in->imm / 12),
					  (int)(in->imm % 12) + 1);
			if (in->flags & DG_F_CAPREG)
				rc |= dg_buf_addf(out, ", at most r%d%s months", in->b,
						  in->c ? " + 1" : "");
			else
				rc |= dg_buf_addf(out, ", at most %d months", in->c);
			break;
		case OP_BEN:
			rc |= dg_buf_addf(out,
					  " <- benefit \"%s\" status %d from %04d-%02d +%d months",
					  dg_code_str(cd, in->aux), in->b, (int)(in->imm / 12),
					  (int)(in->imm % 12) + 1, in->c);
			break;
		case OP_IF:
			rc |= dg_buf_addf(out, " <- r%d ? r%d : r%d", in->a, in->b, in->c);
			break;
		default:
			rc |= dg_buf_addf(out, " <- r%d", in->a);
			if (in->flags & DG_F_IMM)
				rc |= dg_buf_addf(out, ", #%lld", (long long)in->imm);
			else if (in->op != OP_NOT && in->op != OP_NEG && in->op != OP_ABS &&
				 in->op != OP_AGE && in->op != OP_KNOWN && in->op != OP_ISTRUE &&
				 in->op != OP_TODEC && in->op != OP_ROUNDM && in->op != OP_CONFL)
				rc |= dg_buf_addf(out, ", r%d", in->b);
			if (in->op == OP_MULR || in->op == OP_DIVR || in->op == OP_ROUNDM)
				rc |= dg_buf_addf(out, "  unit %d mode %d", in->aux, in->c);
		}
		if (k->note[i] && in->op != OP_COL && in->op != OP_MCOL)
			rc |= dg_buf_addf(out, "    ; %s", k->note[i]);
		rc |= dg_buf_adds(out, "\n");
	}
	return rc ? DG_ETOOBIG : DG_OK;
}

dg_rc dg_rule_dump(const struct dg_code *cd, struct dg_buf *out)
{
	char day[11];
	dg_rc rc = DG_OK;
	dg_day_format(cd->ref, day);
	rc |= dg_buf_addf(out, "; compiled for @ref = %s\n", day);
	for (int a = 0; a < cd->naggs; a++) {
		const struct dg_agg *ag = &cd->prog->aggs[a];
		rc |= dg_buf_addf(
			out, "; aggregate #%d: %s over %s.%s -> t%d (where t%d, value t%d)\n", a,
			(const char *[]){"count", "sum", "any", "all", "min", "max"}[ag->op],
			cd->prog->schema->e[ag->group_ent].name,
			cd->prog->schema->e[ag->group_ent].g[ag->group].name, cd->aggs[a].out_temp,
			cd->aggs[a].where_temp, cd->aggs[a].val_temp);
	}
	for (int e = 0; e < DG_MAX_ENT; e++)
		rc |= dump_kernel(cd, &cd->member[e], "aggregate inputs", out);
	for (int e = 0; e < DG_MAX_ENT; e++)
		rc |= dump_kernel(cd, &cd->lets[e], "definitions read through links", out);
	for (int e = 0; e < DG_MAX_ENT; e++)
		rc |= dump_kernel(cd, &cd->rules[e], "rules", out);
	for (int i = 0; i < cd->nluts; i++) {
		rc |= dg_buf_addf(out, "lut%d:", i);
		int shown = 0;
		for (int id = 0; id < cd->luts[i].n && shown < 12; id++)
			if (cd->luts[i].k[id] && cd->luts[i].v[id]) {
				rc |= dg_buf_addf(out, " %s=%lld", dg_code_str(cd, id),
						  (long long)cd->luts[i].v[id]);
				shown++;
			}
		rc |= dg_buf_adds(out, shown ? "\n" : " (no code matches)\n");
	}
	return rc ? DG_ETOOBIG : DG_OK;
}
