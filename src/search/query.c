/*
 * query.c - the search box's grammar (search.h): a lexer that cuts the
 * query into words, phrases, parentheses and the operators AND and OR, and
 * a recursive-descent parser over them, one function per level:
 *
 *   seq   := or+            side by side: all required
 *   or    := and (OR and)*
 *   and   := prim (AND prim)*
 *   prim  := ( seq ) | "phrase" | word
 *
 * A person's typing is never an error: an operator with nothing to join
 * is dropped, a ')' without its '(' is ignored, a '(' or '"' left open
 * closes at the end. Only the caps refuse a query. Each word and phrase
 * becomes a words query (expr.c) through the one tokenizer, so the grammar
 * adds no syntax of its own to what reaches a store.
 *
 * The full-text syntax (dg_search_parse_syntax) shares the lexer, which
 * then also reads & | ! NOT and a trailing * or :*, and has a
 * strict parser of its own, which refuses what the lenient one forgives:
 *
 *   seq   := or+            (a NOT side may only narrow the others)
 *   or    := and (OR and)*
 *   and   := unary (AND unary)*
 *   unary := NOT unary | prim
 *   prim  := ( seq ) | "phrase" | word[*]
 */
#include "search/search_int.h"

#include <string.h>

enum lex { L_END, L_WORD, L_PHRASE, L_OPEN, L_CLOSE, L_AND, L_OR, L_NOT };

struct item {
	enum lex t;
	const char *text; /* L_WORD, L_PHRASE (arena) */
	bool star;        /* the full-text syntax: the word ended in * or :* */
};

struct parser {
	struct dg_arena *a;
	struct dg_err *err;
	unsigned fields;
	bool strict; /* the full-text syntax */
	struct item *items;
	size_t n, i;
};

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* A word's trailing * or :* (a prefix), cut off. */
static void star(struct item *it)
{
	size_t n = strlen(it->text);
	char *t = (char *)it->text;
	if (n && t[n - 1] == '*') {
		it->star = true;
		t[--n] = '\0';
		if (n && t[n - 1] == ':')
			t[--n] = '\0';
	}
}

/* Cut q into items; at most one per byte, so n + 1 slots always suffice. */
static dg_rc lex(struct parser *p, const char *q, size_t len)
{
	p->items = dg_arena_alloc(p->a, (len + 1) * sizeof *p->items);
	size_t i = 0, words = 0;
	while (i < len) {
		struct item *it = &p->items[p->n];
		if (blank(q[i])) {
			i++;
			continue;
		}
		if (q[i] == '(' || q[i] == ')') {
			it->t = q[i++] == '(' ? L_OPEN : L_CLOSE;
		} else if (p->strict && (q[i] == '&' || q[i] == '|' || q[i] == '!')) {
			char c = q[i];
			it->t = c == '&' ? L_AND : c == '|' ? L_OR : L_NOT;
			while (++i < len && (c == '&' || c == '|') && q[i] == c)
				; /* && and || are & and | */
		} else if (q[i] == '"') {
			const char *end = memchr(q + i + 1, '"', len - i - 1);
			if (!end && p->strict)
				return dg_err_set(p->err, DG_EINVAL, "a quote (\") is not closed");
			size_t n = end ? (size_t)(end - q - i - 1) : len - i - 1;
			it->t = L_PHRASE;
			it->text = dg_arena_strndup(p->a, q + i + 1, n);
			i += n + (end ? 2 : 1);
			words++;
		} else {
			size_t s = i;
			while (i < len && !blank(q[i]) &&
			       !strchr(p->strict ? "()\"&|!" : "()\"", q[i]))
				i++;
			it->text = dg_arena_strndup(p->a, q + s, i - s);
			it->t = strcmp(it->text, "AND") == 0 || strcmp(it->text, "&&") == 0  ? L_AND
				: strcmp(it->text, "OR") == 0 || strcmp(it->text, "||") == 0 ? L_OR
				: p->strict && strcmp(it->text, "NOT") == 0                  ? L_NOT
									    : L_WORD;
			if (p->strict && it->t == L_WORD)
				star(it);
			words += it->t == L_WORD;
		}
		p->n++;
		if (words > DG_SEARCH_ITEMS_MAX)
			return dg_err_set(p->err, DG_ETOOBIG,
					  "the query has more than %d words; search with fewer",
					  DG_SEARCH_ITEMS_MAX);
	}
	p->items[p->n].t = L_END;
	return DG_OK;
}

static enum lex peek(const struct parser *p)
{
	return p->items[p->i].t;
}

static dg_rc parse_seq(struct parser *p, unsigned depth, struct dg_search_expr **out);

static dg_rc parse_prim(struct parser *p, unsigned depth, struct dg_search_expr **out)
{
	struct item *it = &p->items[p->i];
	*out = NULL;
	switch (it->t) {
	case L_OPEN: {
		if (depth >= DG_SEARCH_DEPTH_MAX)
			return dg_err_set(p->err, DG_EINVAL,
					  "the query nests parentheses more than %d deep",
					  DG_SEARCH_DEPTH_MAX);
		p->i++;
		dg_rc rc = parse_seq(p, depth + 1, out);
		if (rc == DG_OK && peek(p) == L_CLOSE)
			p->i++;
		return rc;
	}
	case L_WORD:
	case L_PHRASE:
		p->i++;
		*out = dg_search_words(p->a, it->text, p->fields, it->t == L_PHRASE);
		return DG_OK;
	default:
		/* an operator where a word should be: dropped */
		if (it->t != L_END && it->t != L_CLOSE)
			p->i++;
		return DG_OK;
	}
}

static dg_rc parse_and(struct parser *p, unsigned depth, struct dg_search_expr **out)
{
	dg_rc rc = parse_prim(p, depth, out);
	while (rc == DG_OK && peek(p) == L_AND) {
		struct dg_search_expr *r = NULL;
		p->i++;
		rc = parse_prim(p, depth, &r);
		*out = dg_search_and(p->a, *out, r);
	}
	return rc;
}

static dg_rc parse_or(struct parser *p, unsigned depth, struct dg_search_expr **out)
{
	dg_rc rc = parse_and(p, depth, out);
	while (rc == DG_OK && peek(p) == L_OR) {
		struct dg_search_expr *r = NULL;
		p->i++;
		rc = parse_and(p, depth, &r);
		*out = dg_search_or(p->a, *out, r);
	}
	return rc;
}

/* Up to the end or the ')' that closes it; each step takes at least one item. */
static dg_rc parse_seq(struct parser *p, unsigned depth, struct dg_search_expr **out)
{
	dg_rc rc = DG_OK;
	*out = NULL;
	while (rc == DG_OK && peek(p) != L_END && (peek(p) != L_CLOSE || depth == 0)) {
		if (peek(p) == L_CLOSE) {
			p->i++; /* a ')' without its '(' */
			continue;
		}
		struct dg_search_expr *e = NULL;
		rc = parse_or(p, depth, &e);
		*out = dg_search_and(p->a, *out, e);
	}
	return rc;
}

/* Both grammars' start: q within its cap, cut into p's items. */
static dg_rc begin(struct parser *p, const char *q)
{
	size_t len = q ? strlen(q) : 0;
	if (len > DG_SEARCH_QUERY_MAX)
		return dg_err_set(p->err, DG_ETOOBIG, "the query is longer than %d bytes",
				  DG_SEARCH_QUERY_MAX);
	return lex(p, q ? q : "", len);
}

dg_rc dg_search_parse(struct dg_arena *a, const char *q, unsigned fields,
		      struct dg_search_expr **out, struct dg_err *err)
{
	*out = NULL;
	struct parser p = {.a = a, .err = err, .fields = fields};
	dg_rc rc = begin(&p, q);
	struct dg_search_expr *e = NULL;
	if (rc == DG_OK)
		rc = parse_seq(&p, 0, &e);
	if (rc == DG_OK)
		*out = e;
	return rc;
}

/* ---- the full-text syntax: what the lenient parser forgives is an error here ---- */

/* A part of a query: negated, it can only narrow what it is ANDed with. */
struct part {
	struct dg_search_expr *e;
	bool neg;
};

static const char *item_name(const struct item *it)
{
	switch (it->t) {
	case L_END: return "the end of the query";
	case L_CLOSE: return "')'";
	case L_AND: return "AND";
	case L_OR: return "OR";
	case L_NOT: return "NOT";
	default: return "a word";
	}
}

static dg_rc s_seq(struct parser *p, unsigned depth, struct part *out);

/* x AND y: NOT a AND NOT b is NOT (a OR b); a AND NOT b narrows a. */
static struct part s_join(struct parser *p, struct part x, struct part y)
{
	struct part r = {NULL, false};
	if (!x.neg && !y.neg)
		r.e = dg_search_and(p->a, x.e, y.e);
	else if (!x.neg)
		r.e = dg_search_andnot(p->a, x.e, y.e);
	else if (!y.neg)
		r.e = dg_search_andnot(p->a, y.e, x.e);
	else
		r = (struct part){dg_search_or(p->a, x.e, y.e), true};
	return r;
}

static dg_rc s_prim(struct parser *p, unsigned depth, struct part *out)
{
	struct item *it = &p->items[p->i];
	*out = (struct part){NULL, false};
	if (it->t == L_OPEN) {
		if (depth >= DG_SEARCH_DEPTH_MAX)
			return dg_err_set(p->err, DG_EINVAL,
					  "the query nests parentheses more than %d deep",
					  DG_SEARCH_DEPTH_MAX);
		p->i++;
		if (peek(p) == L_CLOSE)
			return dg_err_set(p->err, DG_EINVAL, "\"()\" holds nothing to search for");
		dg_rc rc = s_seq(p, depth + 1, out);
		if (rc == DG_OK && peek(p) != L_CLOSE)
			return dg_err_set(p->err, DG_EINVAL, "a '(' is not closed");
		p->i++;
		return rc;
	}
	if (it->t != L_WORD && it->t != L_PHRASE)
		return dg_err_set(p->err, DG_EINVAL, "%s where a word should be", item_name(it));
	p->i++;
	out->e = dg_search_words_as(p->a, it->text, p->fields, it->t == L_PHRASE, true, it->star);
	if (!out->e)
		return dg_err_set(p->err, DG_EINVAL,
				  "\"%.40s\" has no letter or digit to search for", it->text);
	return DG_OK;
}

static dg_rc s_unary(struct parser *p, unsigned depth, struct part *out)
{
	if (peek(p) != L_NOT)
		return s_prim(p, depth, out);
	p->i++;
	dg_rc rc = s_unary(p, depth, out);
	out->neg = !out->neg;
	return rc;
}

static dg_rc s_and(struct parser *p, unsigned depth, struct part *out)
{
	dg_rc rc = s_unary(p, depth, out);
	while (rc == DG_OK && peek(p) == L_AND) {
		struct part y;
		p->i++;
		rc = s_unary(p, depth, &y);
		if (rc == DG_OK)
			*out = s_join(p, *out, y);
	}
	return rc;
}

static dg_rc s_or(struct parser *p, unsigned depth, struct part *out)
{
	dg_rc rc = s_and(p, depth, out);
	while (rc == DG_OK && peek(p) == L_OR) {
		struct part y;
		p->i++;
		rc = s_and(p, depth, &y);
		if (rc == DG_OK && (out->neg || y.neg))
			return dg_err_set(p->err, DG_EINVAL,
					  "a NOT cannot be one side of an OR: it must narrow words "
					  "that are searched for");
		if (rc == DG_OK)
			out->e = dg_search_or(p->a, out->e, y.e);
	}
	return rc;
}

/* Up to the end, or the ')' that closes it (left for s_prim); at least one part. */
static dg_rc s_seq(struct parser *p, unsigned depth, struct part *out)
{
	dg_rc rc = DG_OK;
	bool first = true;
	while (rc == DG_OK && peek(p) != L_END && !(peek(p) == L_CLOSE && depth > 0)) {
		if (peek(p) == L_CLOSE)
			return dg_err_set(p->err, DG_EINVAL, "a ')' has no '('");
		struct part y;
		rc = s_or(p, depth, &y);
		if (rc == DG_OK)
			*out = first ? y : s_join(p, *out, y);
		first = false;
	}
	return rc;
}

dg_rc dg_search_parse_syntax(struct dg_arena *a, const char *q, unsigned fields,
			     struct dg_search_expr **out, struct dg_err *err)
{
	*out = NULL;
	struct parser p = {.a = a, .err = err, .fields = fields, .strict = true};
	struct part r = {NULL, false};
	dg_rc rc = begin(&p, q);
	if (rc == DG_OK)
		rc = s_seq(&p, 0, &r);
	if (rc == DG_OK && r.neg)
		rc = dg_err_set(err, DG_EINVAL,
				"the query only says what not to find: add a word to search for");
	if (rc == DG_OK)
		*out = r.e;
	return rc;
}
