/*
 * search_int.h - what the search module's files share: the scanner that
 * finds the tokens of a text (tokens.c), each handed to a callback with its
 * kind, which the token text, the tsvector and the query words are all
 * built from, so that the three can never disagree.
 */
#ifndef DG_SEARCH_INT_H
#define DG_SEARCH_INT_H

#include <stddef.h>

#include "search/search.h"

enum tok_kind {
	TOK_WORD,   /* letters and digits, folded and lower-cased */
	TOK_BIGRAM, /* two CJK characters side by side */
	TOK_LONE,   /* a CJK character standing alone */
	TOK_TAIL,   /* the last character of a CJK run of two or more, said again at the end */
};

/* Called for each token (n bytes at tok, not NUL-terminated); a non-OK return stops the scan. */
typedef dg_rc (*tok_fn)(void *ctx, const char *tok, size_t n, enum tok_kind kind);

/*
 * Scan n bytes of text: words, bigrams and lone characters in the order
 * they stand, then (with tails) the tail characters of the runs. Returns
 * fn's first error.
 */
dg_rc dg_search_scan(const char *text, size_t n, bool tails, tok_fn fn, void *ctx);

/*
 * dg_search_words with the full-text syntax's rules (query.c): with exact,
 * a Latin word is whole, not a prefix; with star, the last token is a
 * prefix (outside a phrase).
 */
struct dg_search_expr *dg_search_words_as(struct dg_arena *a, const char *text, unsigned fields,
					  bool phrase, bool exact, bool star);

#endif
