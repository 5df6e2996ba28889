/*
 * lex.h - tokens of the rule language.
 *
 * The lexer works on one source file in memory; it never allocates. Numbers
 * are read exactly: an integer, or a decimal kept as micro-units
 * (DG_DEC_ONE), so 1410.50 and 5.5% never pass through floating point.
 * Names may hold Chinese characters (rule/text.h says which); a column is
 * counted in characters, so a position matches what an editor shows.
 */
#ifndef DG_RULE_LEX_H
#define DG_RULE_LEX_H

#include <stdint.h>

#include "rule/ast.h"

/* Largest whole part that still fits once scaled to micro-units (x 10^6). */
#define DG_LEX_DEC_MAX 9000000000000LL

enum dg_tok {
	T_EOF,
	T_ERR,
	T_IDENT,
	T_INT,
	T_DEC,
	T_PERCENT,
	T_STR,
	T_DATE,
	T_MONTH,
	T_LP,
	T_RP,
	T_LB,
	T_RB,
	T_LC,
	T_RC,
	T_COMMA,
	T_COLON,
	T_DOT,
	T_DOTDOT,
	T_SLASH,
	T_EQ,
	T_NE,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_PLUS,
	T_MINUS,
	T_STAR,
	T_AT,
};

struct dg_token {
	enum dg_tok t;
	const char *p; /* text */
	int n;
	int line, col;
	int64_t ival;  /* T_INT value, T_DEC / T_PERCENT micro-units, T_DATE day */
	char err[160]; /* T_ERR: what is wrong and what to write instead */
};

struct dg_lexer {
	const struct dg_rule_src *src;
	const char *p, *end;
	int line;
	const char *counted; /* columns are counted up to here on the line ... */
	int col;             /* ... and this is the count */
};

void dg_lex_init(struct dg_lexer *lx, const struct dg_rule_src *src);
struct dg_token dg_lex_next(struct dg_lexer *lx);
const char *dg_tok_name(enum dg_tok t);

#endif
