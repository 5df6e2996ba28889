/*
 * parse.c - recursive-descent parser from tokens to the program's tree.
 *
 * A file is a sequence of top-level items: `schema`, `param`, `let` and
 * `rule ... end`. Expressions follow the precedence in docs/rules.md:
 * if/then/else, or, and, not, comparison (with between / in / within),
 * + -, * /, unary minus, postfix (.field, [index], at month K), primary.
 * On the first syntax error in a file the parser reports it and stops that
 * file; recursion depth is capped so hostile input cannot blow the stack.
 */
#include "rule/parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "rule/lex.h"
#include "rule/text.h"

#define MAX_DEPTH 200

struct parser {
	struct dg_program *prog;
	struct dg_lexer lx;
	struct dg_token tok, next;
	const struct dg_rule_src *src;
	bool failed;
	int depth;
	char found[80]; /* the last token described in a message (40 bytes of it) */
};

static void advance(struct parser *ps)
{
	ps->tok = ps->next;
	ps->next = dg_lex_next(&ps->lx);
}

static void fail_at(struct parser *ps, const struct dg_token *t, const char *fmt, ...)
	DG_PRINTF(3, 4);
static void fail_at(struct parser *ps, const struct dg_token *t, const char *fmt, ...)
{
	if (ps->failed)
		return;
	ps->failed = true;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dg_text_trim(msg);
	if (t->t == T_ERR)
		dg_rule_diag_at(&ps->prog->diag, ps->src, t->line, t->col, false, "%s", t->err);
	else
		dg_rule_diag_at(&ps->prog->diag, ps->src, t->line, t->col, false, "%s", msg);
}

static bool is_kw(const struct dg_token *t, const char *kw)
{
	return t->t == T_IDENT && (size_t)t->n == strlen(kw) && memcmp(t->p, kw, (size_t)t->n) == 0;
}

static bool accept_kw(struct parser *ps, const char *kw)
{
	if (is_kw(&ps->tok, kw)) {
		advance(ps);
		return true;
	}
	return false;
}

static bool accept(struct parser *ps, enum dg_tok t)
{
	if (ps->tok.t == t) {
		advance(ps);
		return true;
	}
	return false;
}

/* A token as a message shows it; written into the parser, which one thread owns. */
static const char *tok_desc(struct parser *ps, const struct dg_token *t)
{
	if (t->t == T_IDENT || t->t == T_INT || t->t == T_STR)
		snprintf(ps->found, sizeof(ps->found), "'%.*s'",
			 (int)dg_text_cut(t->p, (size_t)t->n, 40), t->p);
	else
		snprintf(ps->found, sizeof(ps->found), "%s", dg_tok_name(t->t));
	return ps->found;
}

static bool expect(struct parser *ps, enum dg_tok t, const char *what)
{
	if (accept(ps, t))
		return true;
	fail_at(ps, &ps->tok, "expected %s here, found %s", what, tok_desc(ps, &ps->tok));
	return false;
}

static bool expect_kw(struct parser *ps, const char *kw)
{
	if (accept_kw(ps, kw))
		return true;
	fail_at(ps, &ps->tok, "expected '%s' here, found %s", kw, tok_desc(ps, &ps->tok));
	return false;
}

static const char *ident(struct parser *ps, const char *what)
{
	if (ps->tok.t != T_IDENT) {
		fail_at(ps, &ps->tok, "expected %s (a name) here, found %s", what,
			tok_desc(ps, &ps->tok));
		return NULL;
	}
	const char *s = dg_arena_strndup(ps->prog->arena, ps->tok.p, (size_t)ps->tok.n);
	advance(ps);
	return s;
}

static const char *string(struct parser *ps, const char *what)
{
	if (ps->tok.t != T_STR) {
		fail_at(ps, &ps->tok, "expected %s in \"quotes\" here, found %s", what,
			tok_desc(ps, &ps->tok));
		return NULL;
	}
	const char *s = dg_arena_strndup(ps->prog->arena, ps->tok.p + 1, (size_t)ps->tok.n - 2);
	advance(ps);
	return s;
}

static struct dg_node *node(struct parser *ps, enum dg_node_kind k, const struct dg_token *at)
{
	struct dg_node *n = dg_arena_alloc(ps->prog->arena, sizeof(*n));
	n->kind = k;
	n->line = at->line;
	n->col = at->col;
	n->src = ps->src;
	n->field = n->link = n->agg = n->param = -1;
	return n;
}

static struct dg_node *expr(struct parser *ps);

static void push_arg(struct parser *ps, struct dg_node *call, struct dg_node *a, int *cap)
{
	if (call->nargs == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		struct dg_node **na = dg_arena_alloc(ps->prog->arena, sizeof(*na) * (size_t)*cap);
		if (call->nargs)
			memcpy(na, call->args, sizeof(*na) * (size_t)call->nargs);
		call->args = na;
	}
	call->args[call->nargs++] = a;
}

static bool signed_int(struct parser *ps, int64_t *out)
{
	bool neg = accept(ps, T_MINUS);
	if (ps->tok.t != T_INT) {
		fail_at(ps, &ps->tok, "expected a whole number here, found %s",
			tok_desc(ps, &ps->tok));
		return false;
	}
	*out = neg ? -ps->tok.ival : ps->tok.ival;
	advance(ps);
	return true;
}

/* last N months | months A to B | year YYYY | month K (relative to @ref's month) */
static struct dg_node *window(struct parser *ps)
{
	struct dg_token at = ps->tok;
	struct dg_node *w = node(ps, N_WINDOW, &at);
	if (accept_kw(ps, "last")) {
		int64_t n;
		if (!signed_int(ps, &n))
			return NULL;
		if (!accept_kw(ps, "months") && !accept_kw(ps, "month")) {
			fail_at(ps, &ps->tok, "expected 'months' after 'last N', found %s",
				tok_desc(ps, &ps->tok));
			return NULL;
		}
		w->ival = -n;
		w->ival2 = -1;
	} else if (accept_kw(ps, "months")) {
		if (!signed_int(ps, &w->ival) || !expect_kw(ps, "to") || !signed_int(ps, &w->ival2))
			return NULL;
	} else if (accept_kw(ps, "year")) {
		int64_t y;
		if (!signed_int(ps, &y))
			return NULL;
		w->op = 1; /* absolute months */
		w->ival = y * 12;
		w->ival2 = y * 12 + 11;
	}
	return w;
}

static bool starts_window(const struct dg_token *t)
{
	return is_kw(t, "last") || is_kw(t, "months") || is_kw(t, "year");
}

static struct dg_node *call_args(struct parser *ps, struct dg_node *call)
{
	int cap = 0;
	if (accept(ps, T_RP))
		return call;
	for (;;) {
		struct dg_node *a = starts_window(&ps->tok) ? window(ps) : expr(ps);
		if (!a)
			return NULL;
		push_arg(ps, call, a, &cap);
		if (accept_kw(ps, "where")) {
			if (call->where) {
				fail_at(ps, &ps->tok, "only one 'where' per aggregate");
				return NULL;
			}
			call->where = expr(ps);
			if (!call->where)
				return NULL;
		}
		if (accept(ps, T_RP))
			return call;
		if (!expect(ps, T_COMMA, "',' or ')'"))
			return NULL;
	}
}

static struct dg_node *set_lit(struct parser *ps)
{
	struct dg_token at = ps->tok;
	struct dg_node *s = node(ps, N_SET, &at);
	int cap = 0;
	if (!expect(ps, T_LC, "'{'"))
		return NULL;
	do {
		struct dg_token t = ps->tok;
		if (t.t != T_STR) {
			fail_at(ps, &t, "a set holds codes in \"quotes\", found %s",
				tok_desc(ps, &t));
			return NULL;
		}
		struct dg_node *e = node(ps, N_STR, &t);
		e->name = string(ps, "a code");
		push_arg(ps, s, e, &cap);
	} while (accept(ps, T_COMMA));
	if (!expect(ps, T_RC, "'}'"))
		return NULL;
	return s;
}

/* words that start a clause can never be a value, so a missing operand is caught */
static const char *const reserved[] = {"end",   "condition", "exception", "amount", "prefill",
				       "rule",  "param",     "let",       "schema", "version",
				       "legal", "valid",     "then",      "else",   "where",
				       "and",   "or",        "not",       "if",     "exceptions"};

/* days / months / years after a count make a duration; -1 otherwise */
static int dur_unit(const struct dg_token *t)
{
	if (is_kw(t, "days") || is_kw(t, "day"))
		return DUR_DAYS;
	if (is_kw(t, "months") || is_kw(t, "month"))
		return DUR_MONTHS;
	if (is_kw(t, "years") || is_kw(t, "year"))
		return DUR_YEARS;
	return -1;
}

static struct dg_node *primary(struct parser *ps)
{
	struct dg_token t = ps->tok;
	struct dg_node *n;
	switch (t.t) {
	case T_INT:
	case T_DEC:
		advance(ps);
		if (is_kw(&ps->tok, "yuan") || is_kw(&ps->tok, "fen")) {
			bool yuan = is_kw(&ps->tok, "yuan");
			if (t.t == T_INT && t.ival > DG_LEX_DEC_MAX) {
				fail_at(ps, &t, "amount too large");
				return NULL;
			}
			int64_t micro = t.t == T_INT ? t.ival * DG_DEC_ONE : t.ival;
			int64_t per_fen = yuan ? DG_DEC_ONE / 100 : DG_DEC_ONE;
			if (micro % per_fen) {
				fail_at(ps, &t, "%s",
					yuan ? "money has at most 2 decimals (fen)"
					     : "fen is the smallest unit: no decimals");
				return NULL;
			}
			advance(ps);
			n = node(ps, N_MONEY, &t);
			n->ival = micro / per_fen;
			return n;
		}
		if (t.t == T_INT && dur_unit(&ps->tok) >= 0) {
			n = node(ps, N_DUR, &t);
			n->ival = t.ival;
			n->ival2 = dur_unit(&ps->tok);
			advance(ps);
			return n;
		}
		n = node(ps, t.t == T_INT ? N_INT : N_DEC, &t);
		n->ival = t.ival;
		return n;
	case T_PERCENT:
		advance(ps);
		n = node(ps, N_DEC, &t);
		n->ival = t.ival;
		return n;
	case T_DATE:
		advance(ps);
		n = node(ps, N_DATE, &t);
		n->ival = t.ival;
		return n;
	case T_STR:
		n = node(ps, N_STR, &t);
		n->name = string(ps, "text");
		return n;
	case T_LC: return set_lit(ps);
	case T_AT:
		advance(ps);
		if (!expect_kw(ps, "ref"))
			return NULL;
		return node(ps, N_REF, &t);
	case T_LP:
		advance(ps);
		n = expr(ps);
		if (!n || !expect(ps, T_RP, "')'"))
			return NULL;
		return n;
	case T_IDENT:
		if (is_kw(&t, "true") || is_kw(&t, "false")) {
			advance(ps);
			n = node(ps, N_BOOL, &t);
			n->ival = is_kw(&t, "true");
			return n;
		}
		for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
			if (is_kw(&t, reserved[i])) {
				fail_at(ps, &t,
					"expected a value, a name or '(' here, found '%s' (a "
					"reserved word)",
					reserved[i]);
				return NULL;
			}
		n = node(ps, N_NAME, &t);
		n->name = ident(ps, "a name");
		if (accept(ps, T_LP)) {
			n->kind = N_CALL;
			return call_args(ps, n);
		}
		if (dur_unit(&ps->tok) >= 0) { /* grace months: a count parameter as a duration */
			struct dg_node *d = node(ps, N_DUR, &t);
			d->a = n;
			d->ival2 = dur_unit(&ps->tok);
			advance(ps);
			return d;
		}
		return n;
	default:
		fail_at(ps, &t, "expected a value, a name or '(' here, found %s", tok_desc(ps, &t));
		return NULL;
	}
}

static struct dg_node *postfix(struct parser *ps)
{
	struct dg_node *n = primary(ps);
	while (n) {
		struct dg_token t = ps->tok;
		if (accept(ps, T_DOT)) {
			struct dg_node *p = node(ps, N_PATH, &t);
			p->a = n;
			p->name = ident(ps, "a field name after '.'");
			if (!p->name)
				return NULL;
			n = p;
		} else if (accept(ps, T_LB)) {
			struct dg_node *p = node(ps, N_INDEX, &t);
			p->a = n;
			p->b = expr(ps);
			if (!p->b || !expect(ps, T_RB, "']'"))
				return NULL;
			n = p;
		} else if (is_kw(&t, "at") && is_kw(&ps->next, "month")) {
			advance(ps);
			advance(ps);
			struct dg_node *p = node(ps, N_AT, &t);
			p->a = n;
			if (!signed_int(ps, &p->ival))
				return NULL;
			n = p;
		} else {
			break;
		}
	}
	return n;
}

static struct dg_node *unary(struct parser *ps)
{
	struct dg_token t = ps->tok;
	if (accept(ps, T_MINUS)) {
		struct dg_node *n = node(ps, N_NEG, &t);
		n->a = unary(ps);
		return n->a ? n : NULL;
	}
	return postfix(ps);
}

static struct dg_node *binary(struct parser *ps, struct dg_node *a, int op,
			      const struct dg_token *t, struct dg_node *b)
{
	if (!a || !b)
		return NULL;
	struct dg_node *n = node(ps, N_BIN, t);
	n->op = op;
	n->a = a;
	n->b = b;
	return n;
}

static struct dg_node *mul(struct parser *ps)
{
	struct dg_node *n = unary(ps);
	while (n && (ps->tok.t == T_STAR || ps->tok.t == T_SLASH)) {
		struct dg_token t = ps->tok;
		advance(ps);
		n = binary(ps, n, t.t == T_STAR ? BOP_MUL : BOP_DIV, &t, unary(ps));
	}
	return n;
}

static struct dg_node *add(struct parser *ps)
{
	struct dg_node *n = mul(ps);
	while (n && (ps->tok.t == T_PLUS || ps->tok.t == T_MINUS)) {
		struct dg_token t = ps->tok;
		advance(ps);
		n = binary(ps, n, t.t == T_PLUS ? BOP_ADD : BOP_SUB, &t, mul(ps));
	}
	return n;
}

static struct dg_node *cmp(struct parser *ps)
{
	struct dg_node *a = add(ps);
	if (!a)
		return NULL;
	struct dg_token t = ps->tok;
	int op = -1;
	switch (t.t) {
	case T_LT: op = BOP_LT; break;
	case T_LE: op = BOP_LE; break;
	case T_GT: op = BOP_GT; break;
	case T_GE: op = BOP_GE; break;
	case T_EQ: op = BOP_EQ; break;
	case T_NE: op = BOP_NE; break;
	default: break;
	}
	if (op >= 0) {
		advance(ps);
		return binary(ps, a, op, &t, add(ps));
	}
	if (accept_kw(ps, "between")) {
		struct dg_node *n = node(ps, N_BETWEEN, &t);
		n->a = a;
		n->b = add(ps);
		if (!n->b || !expect_kw(ps, "and"))
			return NULL;
		n->c = add(ps);
		return n->c ? n : NULL;
	}
	bool neg = false;
	if (is_kw(&t, "not") && is_kw(&ps->next, "in")) {
		advance(ps);
		neg = true;
	}
	if (accept_kw(ps, "in")) {
		struct dg_node *n = node(ps, N_IN, &t);
		n->a = a;
		n->b = set_lit(ps);
		if (!n->b)
			return NULL;
		if (!neg)
			return n;
		struct dg_node *no = node(ps, N_NOT, &t);
		no->a = n;
		return no;
	}
	if (accept_kw(ps, "within")) {
		struct dg_node *n = node(ps, N_WITHIN, &t);
		n->a = a;
		if (ps->tok.t == T_STR) {
			struct dg_node *s = node(ps, N_SET, &ps->tok);
			struct dg_node *e = node(ps, N_STR, &ps->tok);
			e->name = string(ps, "a code prefix");
			s->args = dg_arena_alloc(ps->prog->arena, sizeof(*s->args));
			s->args[0] = e;
			s->nargs = 1;
			n->b = s;
		} else {
			n->b = set_lit(ps);
		}
		return n->b ? n : NULL;
	}
	return a;
}

static struct dg_node *not_(struct parser *ps)
{
	struct dg_token t = ps->tok;
	if (accept_kw(ps, "not")) {
		if (++ps->depth > MAX_DEPTH) {
			fail_at(ps, &t, "expression nested too deeply");
			return NULL;
		}
		struct dg_node *n = node(ps, N_NOT, &t);
		n->a = not_(ps);
		ps->depth--;
		return n->a ? n : NULL;
	}
	return cmp(ps);
}

static struct dg_node *and_(struct parser *ps)
{
	struct dg_node *n = not_(ps);
	while (n && is_kw(&ps->tok, "and")) {
		struct dg_token t = ps->tok;
		advance(ps);
		n = binary(ps, n, BOP_AND, &t, not_(ps));
	}
	return n;
}

static struct dg_node *or_(struct parser *ps)
{
	struct dg_node *n = and_(ps);
	while (n && is_kw(&ps->tok, "or")) {
		struct dg_token t = ps->tok;
		advance(ps);
		n = binary(ps, n, BOP_OR, &t, and_(ps));
	}
	return n;
}

static struct dg_node *expr(struct parser *ps)
{
	struct dg_token t = ps->tok;
	struct dg_node *n = NULL;
	if (++ps->depth > MAX_DEPTH) {
		fail_at(ps, &t, "expression nested too deeply");
		return NULL;
	}
	if (accept_kw(ps, "if")) {
		n = node(ps, N_IF, &t);
		if (!(n->a = expr(ps)) || !expect_kw(ps, "then") || !(n->b = expr(ps)) ||
		    !expect_kw(ps, "else") || !(n->c = expr(ps)))
			n = NULL;
	} else {
		n = or_(ps);
	}
	ps->depth--;
	return n;
}

/* ---- top level ---- */

static bool labels(struct parser *ps, const char **zh, const char **en)
{
	struct dg_token at = ps->tok;
	*zh = string(ps, "a Chinese label");
	if (!*zh)
		return false;
	if (ps->tok.t != T_SLASH && strchr(*zh, '/')) {
		/* "中文 / "English": the first label's closing quote is missing */
		fail_at(ps, &at,
			"the label \"%s\" runs on past its '/': close it before the '/', as in "
			"\"中文\" / \"English\"",
			*zh);
		return false;
	}
	if (!expect(ps, T_SLASH, "'/' between the Chinese and English labels"))
		return false;
	*en = string(ps, "an English label");
	return *en != NULL;
}

static bool param_value(struct parser *ps, struct dg_param *pm, int64_t *out)
{
	struct dg_token t = ps->tok;
	bool neg = accept(ps, T_MINUS);
	t = ps->tok;
	int64_t v;
	switch (pm->ty.base) {
	case TY_INT:
		if (t.t != T_INT)
			goto bad;
		v = t.ival;
		break;
	case TY_MONEY:
		if (t.t == T_INT)
			v = t.ival * 100;
		else if (t.t == T_DEC && t.ival % (DG_DEC_ONE / 100) == 0)
			v = t.ival / (DG_DEC_ONE / 100);
		else
			goto bad;
		break;
	case TY_DEC:
		if (t.t == T_INT && t.ival <= DG_LEX_DEC_MAX)
			v = t.ival * DG_DEC_ONE;
		else if (t.t == T_DEC || t.t == T_PERCENT)
			v = t.ival;
		else
			goto bad;
		break;
	case TY_BOOL:
		if (!is_kw(&t, "true") && !is_kw(&t, "false"))
			goto bad;
		v = is_kw(&t, "true");
		break;
	case TY_DATE:
		if (t.t != T_DATE)
			goto bad;
		v = t.ival;
		break;
	default: goto bad;
	}
	advance(ps);
	*out = neg ? -v : v;
	return true;
bad:
	fail_at(ps, &t, "this value does not fit the parameter's type, found %s", tok_desc(ps, &t));
	return false;
}

static bool param_values(struct parser *ps, struct dg_param *pm, struct dg_param_version *pv)
{
	int cap = 0;
	do {
		struct dg_param_entry e = {0};
		if (pm->by_region) {
			if (accept_kw(ps, "default")) {
				e.region = NULL;
			} else {
				e.region = string(ps, "a region code");
				if (!e.region)
					return false;
			}
			if (!expect(ps, T_EQ, "'='"))
				return false;
		}
		if (!param_value(ps, pm, &e.value))
			return false;
		if (pv->ne == cap) {
			cap = cap ? cap * 2 : 8;
			struct dg_param_entry *ne =
				dg_arena_alloc(ps->prog->arena, sizeof(*ne) * (size_t)cap);
			if (pv->ne)
				memcpy(ne, pv->e, sizeof(*ne) * (size_t)pv->ne);
			pv->e = ne;
		}
		pv->e[pv->ne++] = e;
	} while (pm->by_region && accept(ps, T_COMMA));
	return true;
}

static void param_decl(struct parser *ps)
{
	struct dg_program *p = ps->prog;
	struct dg_token at = ps->tok;
	struct dg_param pm = {0};
	int capv = 0;
	pm.line = at.line;
	pm.col = at.col;
	pm.src = ps->src;
	if (!(pm.name = ident(ps, "the parameter's name")) ||
	    !expect(ps, T_COLON, "':' and a type"))
		return;
	struct dg_token tt = ps->tok;
	const char *ty = ident(ps, "a type");
	if (!ty)
		return;
	if (!strcmp(ty, "int"))
		pm.ty.base = TY_INT;
	else if (!strcmp(ty, "money"))
		pm.ty.base = TY_MONEY;
	else if (!strcmp(ty, "decimal"))
		pm.ty.base = TY_DEC;
	else if (!strcmp(ty, "bool"))
		pm.ty.base = TY_BOOL;
	else if (!strcmp(ty, "date"))
		pm.ty.base = TY_DATE;
	else {
		fail_at(ps, &tt,
			"a parameter's type is int, money, decimal, bool or date, not '%s'", ty);
		return;
	}
	if (accept_kw(ps, "per")) {
		if (accept_kw(ps, "month"))
			pm.ty.per = 1;
		else if (accept_kw(ps, "year"))
			pm.ty.per = 12;
		else {
			fail_at(ps, &ps->tok, "expected 'month' or 'year' after 'per', found %s",
				tok_desc(ps, &ps->tok));
			return;
		}
	}
	if (accept_kw(ps, "by")) {
		if (!expect_kw(ps, "region"))
			return;
		pm.by_region = true;
	}
	for (;;) {
		if (accept_kw(ps, "legal")) {
			if (!(pm.legal = string(ps, "the legal basis")))
				return;
			continue;
		}
		struct dg_param_version v = {0};
		if (accept(ps, T_EQ)) {
			v.from = INT32_MIN;
		} else if (accept_kw(ps, "from")) {
			if (ps->tok.t != T_DATE) {
				fail_at(ps, &ps->tok,
					"expected the date the value takes effect, found %s",
					tok_desc(ps, &ps->tok));
				return;
			}
			v.from = (dg_day)ps->tok.ival;
			advance(ps);
			if (!expect(ps, T_COLON, "':' after the date"))
				return;
		} else {
			break;
		}
		if (!param_values(ps, &pm, &v))
			return;
		if (pm.nv == capv) {
			capv = capv ? capv * 2 : 4;
			struct dg_param_version *nv =
				dg_arena_alloc(p->arena, sizeof(*nv) * (size_t)capv);
			if (pm.nv)
				memcpy(nv, pm.v, sizeof(*nv) * (size_t)pm.nv);
			pm.v = nv;
		}
		if (pm.nv && pm.v[pm.nv - 1].from >= v.from) {
			fail_at(ps, &at,
				"parameter %s: dated values must be in increasing date order",
				pm.name);
			return;
		}
		pm.v[pm.nv++] = v;
	}
	if (pm.nv == 0) {
		fail_at(ps, &ps->tok, "parameter %s needs a value: '= VALUE' or 'from DATE: VALUE'",
			pm.name);
		return;
	}
	if (p->nparams == p->capparams) {
		p->capparams = p->capparams ? p->capparams * 2 : 16;
		p->params = dg_xrealloc(p->params, sizeof(*p->params) * (size_t)p->capparams);
	}
	p->params[p->nparams++] = pm;
}

static void let_decl(struct parser *ps)
{
	struct dg_program *p = ps->prog;
	struct dg_token at = ps->tok;
	struct dg_let l = {0};
	const char *ent = ident(ps, "the entity (let person.name = ...)");
	if (!ent || !expect(ps, T_DOT, "'.' (let person.name = ...)"))
		return;
	l.name = ident(ps, "the name being defined");
	if (!l.name || !expect(ps, T_EQ, "'='"))
		return;
	l.e = expr(ps);
	if (!l.e)
		return;
	l.ent = -1;
	l.line = at.line;
	l.col = at.col;
	l.src = ps->src;
	if (p->nlets == p->caplets) {
		p->caplets = p->caplets ? p->caplets * 2 : 16;
		p->lets = dg_xrealloc(p->lets, sizeof(*p->lets) * (size_t)p->caplets);
	}
	p->lets[p->nlets] = l;
	p->lets[p->nlets].state = 0;
	/* stash the entity name in an unused slot: ent is set by the checker */
	struct dg_node *holder = node(ps, N_NAME, &at);
	holder->name = ent;
	holder->a = l.e;
	p->lets[p->nlets].e = holder;
	p->nlets++;
}

static void cond_push(struct parser *ps, struct dg_rule *r, struct dg_cond *c, int *cap)
{
	if (r->nc == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		struct dg_cond *nc = dg_arena_alloc(ps->prog->arena, sizeof(*nc) * (size_t)*cap);
		if (r->nc)
			memcpy(nc, r->c, sizeof(*nc) * (size_t)r->nc);
		r->c = nc;
	}
	r->c[r->nc++] = *c;
}

/* exceptions to TARGET: conflict | any | first | max | sum */
static bool combine_decl(struct parser *ps, struct dg_rule *r, int *cap)
{
	static const char *const modes[] = {"conflict", "any", "first", "max", "sum"};
	struct dg_combine_decl d = {0};
	struct dg_token at = ps->tok;
	d.line = at.line;
	d.col = at.col;
	if (!expect_kw(ps, "to") || !(d.target = ident(ps, "a condition id or 'amount'")) ||
	    !expect(ps, T_COLON, "':'"))
		return false;
	struct dg_token mt = ps->tok;
	const char *m = ident(ps, "conflict, any, first, max or sum");
	if (!m)
		return false;
	size_t i = 0;
	while (i < sizeof(modes) / sizeof(modes[0]) && strcmp(m, modes[i]))
		i++;
	if (i == sizeof(modes) / sizeof(modes[0])) {
		fail_at(ps, &mt,
			"exceptions combine by conflict, any (conditions), first, max or sum "
			"(the amount), not '%s'",
			m);
		return false;
	}
	d.mode = (enum dg_combine)i;
	if (r->ncomb == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		struct dg_combine_decl *n =
			dg_arena_alloc(ps->prog->arena, sizeof(*n) * (size_t)*cap);
		if (r->ncomb)
			memcpy(n, r->comb, sizeof(*n) * (size_t)r->ncomb);
		r->comb = n;
	}
	r->comb[r->ncomb++] = d;
	return true;
}

static void rule_decl(struct parser *ps)
{
	struct dg_program *p = ps->prog;
	struct dg_token at = ps->tok;
	struct dg_rule r = {0};
	int capc = 0, cappf = 0, capcomb = 0;
	r.line = at.line;
	r.col = at.col;
	r.src = ps->src;
	r.valid_from = INT32_MIN;
	r.valid_to = INT32_MAX;
	r.ent = -1;
	if (!(r.id = ident(ps, "the rule's id")) || !labels(ps, &r.name_zh, &r.name_en))
		return;
	for (;;) {
		struct dg_token t = ps->tok;
		if (accept_kw(ps, "end"))
			break;
		if (accept_kw(ps, "version")) {
			if (!(r.version = string(ps, "the version")))
				return;
		} else if (accept_kw(ps, "legal")) {
			if (!(r.legal = string(ps, "the legal basis")))
				return;
		} else if (accept_kw(ps, "for")) {
			if (!(r.for_ent = ident(ps, "the entity (person, household, enterprise)")))
				return;
		} else if (accept_kw(ps, "valid")) {
			if (!expect_kw(ps, "from"))
				return;
			if (ps->tok.t != T_DATE) {
				fail_at(ps, &ps->tok, "expected a date, found %s",
					tok_desc(ps, &ps->tok));
				return;
			}
			r.valid_from = (dg_day)ps->tok.ival;
			advance(ps);
			if (accept_kw(ps, "to")) {
				if (ps->tok.t != T_DATE) {
					fail_at(ps, &ps->tok, "expected a date, found %s",
						tok_desc(ps, &ps->tok));
					return;
				}
				r.valid_to = (dg_day)ps->tok.ival;
				advance(ps);
			}
		} else if (accept_kw(ps, "condition")) {
			struct dg_cond c = {0};
			c.kind = CL_COND;
			c.line = t.line;
			c.col = t.col;
			c.target_idx = -1;
			if (!(c.id = ident(ps, "the condition's id")) ||
			    !labels(ps, &c.label_zh, &c.label_en) || !expect(ps, T_COLON, "':'") ||
			    !(c.e = expr(ps)))
				return;
			cond_push(ps, &r, &c, &capc);
		} else if (accept_kw(ps, "exception")) {
			struct dg_cond c = {0};
			c.line = t.line;
			c.col = t.col;
			c.target_idx = -1;
			if (!(c.id = ident(ps, "the exception's id")) || !expect_kw(ps, "to") ||
			    !(c.target = ident(ps, "a condition id or 'amount'")) ||
			    !labels(ps, &c.label_zh, &c.label_en) || !expect(ps, T_COLON, "':'") ||
			    !expect_kw(ps, "when") || !(c.e = expr(ps)))
				return;
			c.kind = strcmp(c.target, "amount") ? CL_EXC_COND : CL_EXC_AMOUNT;
			if (c.kind == CL_EXC_AMOUNT) {
				if (!expect_kw(ps, "then") || !(c.then = expr(ps)))
					return;
			}
			cond_push(ps, &r, &c, &capc);
		} else if (accept_kw(ps, "amount")) {
			if (!expect(ps, T_COLON, "':'") || !(r.amount = expr(ps)))
				return;
		} else if (accept_kw(ps, "exceptions")) {
			if (!combine_decl(ps, &r, &capcomb))
				return;
		} else if (accept_kw(ps, "prefill")) {
			do {
				struct dg_prefill pf;
				if (!(pf.name = ident(ps, "a form field name")) ||
				    !expect(ps, T_EQ, "'='") || !(pf.e = expr(ps)))
					return;
				if (r.npf == cappf) {
					cappf = cappf ? cappf * 2 : 4;
					struct dg_prefill *np = dg_arena_alloc(
						p->arena, sizeof(*np) * (size_t)cappf);
					if (r.npf)
						memcpy(np, r.pf, sizeof(*np) * (size_t)r.npf);
					r.pf = np;
				}
				r.pf[r.npf++] = pf;
			} while (accept(ps, T_COMMA));
		} else {
			fail_at(ps, &t,
				"expected version, valid, for, legal, condition, exception, "
				"exceptions, amount, prefill or end in a rule, found %s",
				tok_desc(ps, &t));
			return;
		}
	}
	if (p->nrules == p->caprules) {
		p->caprules = p->caprules ? p->caprules * 2 : 16;
		p->rules = dg_xrealloc(p->rules, sizeof(*p->rules) * (size_t)p->caprules);
	}
	p->rules[p->nrules++] = r;
}

static void schema_decl(struct parser *ps)
{
	struct dg_token at = ps->tok;
	const char *rel = string(ps, "the schema file name");
	if (!rel)
		return;
	char path[4096];
	const char *slash = strrchr(ps->src->path, '/');
	if (rel[0] == '/' || !slash)
		snprintf(path, sizeof(path), "%s", rel);
	else
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - ps->src->path), ps->src->path,
			 rel);
	struct dg_program *p = ps->prog;
	if (p->schema) {
		if (strcmp(p->schema_path, path) != 0)
			dg_rule_diag_at(&p->diag, ps->src, at.line, at.col, false,
					"all rule files of one run must use the same schema (%s)",
					p->schema_path);
		return;
	}
	struct dg_err err = {0};
	p->schema = dg_schema_load(path, &err);
	if (!p->schema) {
		dg_rule_diag_at(&p->diag, ps->src, at.line, at.col, false, "schema: %s", err.msg);
		ps->failed = true;
		return;
	}
	p->schema_path = dg_arena_strdup(p->arena, path);
}

struct dg_program *dg_program_new(void)
{
	struct dg_program *p = dg_xcalloc(1, sizeof(*p));
	p->arena = dg_arena_new();
	dg_rule_diag_init(&p->diag);
	return p;
}

void dg_program_free(struct dg_program *p)
{
	if (!p)
		return;
	dg_schema_free(p->schema);
	dg_rule_diag_release(&p->diag);
	free(p->params);
	free(p->lets);
	free(p->rules);
	free(p->aggs);
	dg_arena_free(p->arena);
	free(p);
}

/* file:line:col of a byte that is not UTF-8 text, the line shown up to it with a
 * caret under it (the rest of the line is not shown: it is not text) */
static void report_bad_byte(struct dg_program *p, const char *path, const char *text, size_t at)
{
	struct dg_rule_src src = {path, text, at};
	int line = 1;
	size_t ls = 0;
	for (size_t i = 0; i < at; i++)
		if (text[i] == '\n') {
			line++;
			ls = i + 1;
		}
	unsigned char b = (unsigned char)text[at];
	dg_rule_diag_at(&p->diag, &src, line, dg_text_chars(text + ls, at - ls) + 1, false,
			b ? "this byte (0x%02X) is not UTF-8 text: save the file as UTF-8"
			  : "a NUL byte (0x%02X): a rule file is UTF-8 text",
			b);
}

void dg_program_parse(struct dg_program *p, const char *path, const char *text, size_t len)
{
	if (p->nsrcs == (int)(sizeof(p->srcs) / sizeof(p->srcs[0]))) {
		dg_rule_diag_at(&p->diag, NULL, 0, 0, false, "too many rule files (at most 64)");
		return;
	}
	/* a UTF-8 byte-order mark, as some editors on Windows write, is not text */
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) {
		text += 3;
		len -= 3;
	}
	/* the whole file is UTF-8 text before any of it is read, so the lexer and
	 * every message after it can rely on that */
	long bad = dg_text_bad_at(text, len);
	if (bad >= 0) {
		report_bad_byte(p, path, text, (size_t)bad);
		return;
	}
	struct dg_rule_src *src = dg_arena_alloc(p->arena, sizeof(*src));
	src->path = dg_arena_strdup(p->arena, path);
	src->text = dg_arena_strndup(p->arena, text, len);
	src->len = len;
	p->srcs[p->nsrcs++] = src;
	struct parser ps = {0};
	ps.prog = p;
	ps.src = src;
	dg_lex_init(&ps.lx, src);
	ps.next = dg_lex_next(&ps.lx);
	advance(&ps);
	while (!ps.failed && ps.tok.t != T_EOF) {
		struct dg_token t = ps.tok;
		if (accept_kw(&ps, "schema"))
			schema_decl(&ps);
		else if (accept_kw(&ps, "param"))
			param_decl(&ps);
		else if (accept_kw(&ps, "let"))
			let_decl(&ps);
		else if (accept_kw(&ps, "rule"))
			rule_decl(&ps);
		else
			fail_at(&ps, &t,
				"expected schema, param, let or rule at the top level, found %s",
				tok_desc(&ps, &t));
	}
}
