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
 */
#include "search/search_int.h"

#include <string.h>

enum lex { L_END, L_WORD, L_PHRASE, L_OPEN, L_CLOSE, L_AND, L_OR };

struct item {
	enum lex t;
	const char *text; /* L_WORD, L_PHRASE (arena) */
};

struct parser {
	struct dg_arena *a;
	struct dg_err *err;
	unsigned fields;
	struct item *items;
	size_t n, i;
};

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
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
		} else if (q[i] == '"') {
			const char *end = memchr(q + i + 1, '"', len - i - 1);
			size_t n = end ? (size_t)(end - q - i - 1) : len - i - 1;
			it->t = L_PHRASE;
			it->text = dg_arena_strndup(p->a, q + i + 1, n);
			i += n + (end ? 2 : 1);
			words++;
		} else {
			size_t s = i;
			while (i < len && !blank(q[i]) && !strchr("()\"", q[i]))
				i++;
			it->text = dg_arena_strndup(p->a, q + s, i - s);
			it->t = strcmp(it->text, "AND") == 0 || strcmp(it->text, "&&") == 0 ? L_AND
				: strcmp(it->text, "OR") == 0 || strcmp(it->text, "||") == 0
					? L_OR
					: L_WORD;
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

dg_rc dg_search_parse(struct dg_arena *a, const char *q, unsigned fields,
		      struct dg_search_expr **out, struct dg_err *err)
{
	*out = NULL;
	size_t len = q ? strlen(q) : 0;
	if (len > DG_SEARCH_QUERY_MAX)
		return dg_err_set(err, DG_ETOOBIG, "the query is longer than %d bytes",
				  DG_SEARCH_QUERY_MAX);
	struct parser p = {.a = a, .err = err, .fields = fields};
	dg_rc rc = lex(&p, q ? q : "", len);
	struct dg_search_expr *e = NULL;
	if (rc == DG_OK)
		rc = parse_seq(&p, 0, &e);
	if (rc == DG_OK)
		*out = e;
	return rc;
}
