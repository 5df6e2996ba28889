/*
 * expr.c - queries over the search text (search.h): a user's words as
 * tokens with their prefix flags, combined with AND and OR, rendered as
 * SQLite FTS5's MATCH syntax or PostgreSQL's tsquery. Each token is quoted
 * whole ("tok" for FTS5, 'tok' for tsquery); since a token holds only a-z,
 * 0-9 and letters outside ASCII (tokens.c), the quotes can never be
 * closed early, and field names and weights come from the index, never
 * from the query.
 */
#include "search/search_int.h"

#include <string.h>

enum op { E_WORDS, E_AND, E_OR, E_ANDNOT };

struct term {
	const char *tok;
	bool prefix;
};

struct dg_search_expr {
	enum op op;
	unsigned fields; /* E_WORDS: the index's fields searched, 0 for all */
	bool phrase;
	struct term *terms;
	size_t nterms;
	const unsigned *cols; /* E_WORDS over a document of columns (cols.c): its columns */
	size_t ncols;
	struct dg_search_expr *l, *r; /* E_AND, E_OR, E_ANDNOT (l and not r) */
};

struct collect {
	struct dg_arena *a;
	struct dg_search_expr *e;
	bool words_exact; /* the full-text syntax: a Latin word is a prefix only with '*' */
};

/*
 * A query's token: Latin words and lone characters are prefixes of what
 * the index holds (outside phrases); bigrams are whole. Tails are index
 * tokens only, never asked for.
 */
static dg_rc add_term(void *ctx, const char *tok, size_t n, enum tok_kind kind)
{
	struct collect *c = ctx;
	struct dg_search_expr *e = c->e;
	if (kind == TOK_TAIL || e->nterms == DG_SEARCH_TERMS_MAX)
		return DG_OK;
	e->terms[e->nterms].tok = dg_arena_strndup(c->a, tok, n);
	e->terms[e->nterms].prefix =
		!e->phrase && ((kind == TOK_WORD && !c->words_exact) || kind == TOK_LONE);
	e->nterms++;
	return DG_OK;
}

struct dg_search_expr *dg_search_words(struct dg_arena *a, const char *text, unsigned fields,
				       bool phrase)
{
	return dg_search_words_as(a, text, fields, phrase, false, false);
}

struct dg_search_expr *dg_search_words_as(struct dg_arena *a, const char *text, unsigned fields,
					  bool phrase, bool exact, bool star)
{
	struct dg_search_expr *e = dg_arena_alloc(a, sizeof *e);
	e->op = E_WORDS;
	e->fields = fields;
	e->phrase = phrase;
	e->terms = dg_arena_alloc(a, DG_SEARCH_TERMS_MAX * sizeof *e->terms);
	struct collect c = {a, e, exact};
	/* add_term never fails: the scan runs to the end */
	if (dg_search_scan(text ? text : "", text ? strlen(text) : 0, false, add_term, &c) !=
		    DG_OK ||
	    e->nterms == 0)
		return NULL;
	if (e->nterms == 1)
		e->phrase = false; /* one token: a phrase of one is the token */
	if (star && !e->phrase)
		e->terms[e->nterms - 1].prefix = true;
	return e;
}

static struct dg_search_expr *join(struct dg_arena *a, enum op op, struct dg_search_expr *l,
				   struct dg_search_expr *r)
{
	if (!l || !r)
		return l ? l : r;
	struct dg_search_expr *e = dg_arena_alloc(a, sizeof *e);
	e->op = op;
	e->l = l;
	e->r = r;
	return e;
}

struct dg_search_expr *dg_search_and(struct dg_arena *a, struct dg_search_expr *l,
				     struct dg_search_expr *r)
{
	return join(a, E_AND, l, r);
}

struct dg_search_expr *dg_search_or(struct dg_arena *a, struct dg_search_expr *l,
				    struct dg_search_expr *r)
{
	return join(a, E_OR, l, r);
}

struct dg_search_expr *dg_search_andnot(struct dg_arena *a, struct dg_search_expr *l,
					struct dg_search_expr *r)
{
	return l && r ? join(a, E_ANDNOT, l, r) : l;
}

void dg_search_on_cols(struct dg_arena *a, struct dg_search_expr *e, const unsigned *cols,
		       size_t ncols)
{
	if (!e)
		return;
	if (e->op != E_WORDS) {
		dg_search_on_cols(a, e->l, cols, ncols);
		dg_search_on_cols(a, e->r, cols, ncols);
		return;
	}
	unsigned *c = dg_arena_alloc(a, ncols * sizeof *c);
	memcpy(c, cols, ncols * sizeof *c);
	e->cols = c;
	e->ncols = ncols;
}

struct dg_search_expr *dg_search_words_cols(struct dg_arena *a, const char *text,
					    const unsigned *cols, size_t ncols)
{
	if (ncols == 0)
		return NULL;
	struct dg_search_expr *e = dg_search_words(a, text, 0, false);
	dg_search_on_cols(a, e, cols, ncols);
	return e;
}

bool dg_search_whole_tokens(const struct dg_search_expr *e, const char **toks, size_t max,
			    size_t *n)
{
	if (!e)
		return false;
	if (e->op == E_AND)
		return dg_search_whole_tokens(e->l, toks, max, n) &&
		       dg_search_whole_tokens(e->r, toks, max, n);
	if (e->op != E_WORDS || e->phrase || e->fields || e->cols)
		return false;
	for (size_t i = 0; i < e->nterms; i++) {
		if (e->terms[i].prefix || *n == max)
			return false;
		toks[(*n)++] = e->terms[i].tok;
	}
	return true;
}

const char *const *dg_search_patterns(struct dg_arena *a, const struct dg_search_expr *w, size_t *n)
{
	*n = 0;
	if (!w || w->op != E_WORDS)
		return NULL;
	const char **out = dg_arena_alloc(a, w->nterms * sizeof *out);
	for (size_t i = 0; i < w->nterms; i++)
		out[i] = dg_arena_printf(a, "%% %s%s", w->terms[i].tok,
					 w->terms[i].prefix ? "%" : " %");
	*n = w->nterms;
	return out;
}

/* The fields mask as the index's (all bits of its fields: none to restrict). */
static unsigned restricted(const struct dg_search_index *ix, unsigned fields)
{
	unsigned all = (1u << ix->nfields) - 1;
	fields &= all;
	return fields == all ? 0 : fields;
}

/* FTS5: {a b} : ("t1" AND "t2"*) or {a b} : "t1 t2" for a phrase. */
static dg_rc fts_words(const struct dg_search_index *ix, const struct dg_search_expr *e,
		       struct dg_buf *out)
{
	unsigned f = restricted(ix, e->fields);
	dg_rc rc = DG_OK;
	if (f) {
		rc = dg_buf_addc(out, '{');
		const char *sep = "";
		for (size_t i = 0; rc == DG_OK && i < ix->nfields; i++) {
			if (f & (1u << i)) {
				rc = dg_buf_addf(out, "%s%s", sep, ix->fields[i]);
				sep = " ";
			}
		}
		if (rc == DG_OK)
			rc = dg_buf_adds(out, "} : ");
	}
	if (rc == DG_OK && e->phrase) {
		rc = dg_buf_addc(out, '"');
		for (size_t i = 0; rc == DG_OK && i < e->nterms; i++)
			rc = dg_buf_addf(out, "%s%s", i ? " " : "", e->terms[i].tok);
		return rc ? rc : dg_buf_addc(out, '"');
	}
	if (rc == DG_OK)
		rc = dg_buf_addc(out, '(');
	for (size_t i = 0; rc == DG_OK && i < e->nterms; i++)
		rc = dg_buf_addf(out, "%s\"%s\"%s", i ? " AND " : "", e->terms[i].tok,
				 e->terms[i].prefix ? "*" : "");
	return rc ? rc : dg_buf_addc(out, ')');
}

/* tsquery: ('t1':AB & 't2':*AB), or 't1' <-> 't2' for a phrase. */
static dg_rc ts_words(const struct dg_search_index *ix, const struct dg_search_expr *e,
		      struct dg_buf *out)
{
	unsigned f = restricted(ix, e->fields);
	char weights[DG_SEARCH_FIELDS_MAX + 1];
	size_t nw = 0;
	for (size_t i = 0; i < DG_SEARCH_FIELDS_MAX; i++)
		if (f & (1u << i))
			weights[nw++] = (char)('A' + i);
	weights[nw] = '\0';
	dg_rc rc = dg_buf_addc(out, '(');
	for (size_t i = 0; rc == DG_OK && i < e->nterms; i++) {
		bool pre = e->terms[i].prefix;
		rc = dg_buf_addf(out, "%s'%s'%s%s%s", i ? (e->phrase ? " <-> " : " & ") : "",
				 e->terms[i].tok, pre || nw ? ":" : "", pre ? "*" : "", weights);
	}
	return rc ? rc : dg_buf_addc(out, ')');
}

/*
 * A phrase over columns: side by side in one of them, ("c1xa c1xb" OR
 * "c2xa c2xb") for FTS5, ('c1xa' <-> 'c1xb' | 'c2xa' <-> 'c2xb') for a
 * tsquery. A document's columns are apart (cols.c), so a phrase never
 * spans two.
 */
static dg_rc col_phrase(bool pg, const struct dg_search_expr *e, struct dg_buf *out)
{
	dg_rc rc = dg_buf_addc(out, '(');
	for (size_t k = 0; rc == DG_OK && k < e->ncols; k++) {
		rc = dg_buf_adds(out, k ? (pg ? " | " : " OR ") : "");
		if (rc == DG_OK)
			rc = dg_buf_adds(out, pg ? "(" : "\"");
		for (size_t i = 0; rc == DG_OK && i < e->nterms; i++)
			rc = dg_buf_addf(out, pg ? "%s'c%ux%s'" : "%sc%ux%s",
					 i ? (pg ? " <-> " : " ") : "", e->cols[k],
					 e->terms[i].tok);
		if (rc == DG_OK)
			rc = dg_buf_adds(out, pg ? ")" : "\"");
	}
	return rc ? rc : dg_buf_addc(out, ')');
}

/*
 * Words over columns: each token in any of them, ("c1xtok"* OR "c2xtok"*)
 * for FTS5, ('c1xtok':* | 'c2xtok':*) for a tsquery; every token required.
 */
static dg_rc col_words(enum dg_store_kind kind, const struct dg_search_expr *e, struct dg_buf *out)
{
	bool pg = kind == DG_STORE_PG;
	if (e->phrase)
		return col_phrase(pg, e, out);
	dg_rc rc = dg_buf_addc(out, '(');
	for (size_t i = 0; rc == DG_OK && i < e->nterms; i++) {
		const struct term *t = &e->terms[i];
		rc = dg_buf_adds(out, i ? (pg ? " & (" : " AND (") : "(");
		for (size_t k = 0; rc == DG_OK && k < e->ncols; k++)
			rc = dg_buf_addf(out, pg ? "%s'c%ux%s'%s" : "%s\"c%ux%s\"%s",
					 k ? (pg ? " | " : " OR ") : "", e->cols[k], t->tok,
					 t->prefix ? (pg ? ":*" : "*") : "");
		if (rc == DG_OK)
			rc = dg_buf_addc(out, ')');
	}
	return rc ? rc : dg_buf_addc(out, ')');
}

dg_rc dg_search_render(enum dg_store_kind kind, const struct dg_search_index *ix,
		       const struct dg_search_expr *e, struct dg_buf *out)
{
	if (e->op == E_WORDS && e->ncols)
		return col_words(kind, e, out);
	if (e->op == E_WORDS)
		return kind == DG_STORE_PG ? ts_words(ix, e, out) : fts_words(ix, e, out);
	/* depth: the caller's query (solr.h caps its nesting) */
	static const char *const ops[][3] = {{" AND ", " OR ", " NOT "}, {" & ", " | ", " & !"}};
	const char *op = ops[kind == DG_STORE_PG][e->op == E_AND ? 0 : e->op == E_OR ? 1 : 2];
	dg_rc rc = dg_buf_addc(out, '(');
	if (rc == DG_OK)
		rc = dg_search_render(kind, ix, e->l, out);
	if (rc == DG_OK)
		rc = dg_buf_adds(out, op);
	if (rc == DG_OK)
		rc = dg_search_render(kind, ix, e->r, out);
	return rc ? rc : dg_buf_addc(out, ')');
}

dg_rc dg_search_print(const struct dg_search_expr *e, struct dg_buf *b)
{
	if (!e)
		return DG_OK;
	dg_rc rc = DG_OK;
	if (e->op == E_WORDS) {
		rc = dg_buf_addc(b, e->phrase ? '"' : '[');
		for (size_t i = 0; rc == DG_OK && i < e->nterms; i++)
			rc = dg_buf_addf(b, "%s%s%s", i ? " " : "", e->terms[i].tok,
					 e->terms[i].prefix ? "*" : "");
		return rc ? rc : dg_buf_addc(b, e->phrase ? '"' : ']');
	}
	rc = dg_buf_adds(b, e->op == E_AND ? "(AND " : e->op == E_OR ? "(OR " : "(ANDNOT ");
	if (rc == DG_OK)
		rc = dg_search_print(e->l, b);
	if (rc == DG_OK)
		rc = dg_buf_addc(b, ' ');
	if (rc == DG_OK)
		rc = dg_search_print(e->r, b);
	return rc ? rc : dg_buf_addc(b, ')');
}
