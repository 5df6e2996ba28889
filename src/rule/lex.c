/*
 * lex.c - the rule language's lexer: names (ASCII letters, digits, '_' and
 * Chinese characters), numbers, dates (2025-07-01), months (2025-07), quoted
 * strings (UTF-8), punctuation and '#' comments to the end of the line.
 */
#include "rule/lex.h"

#include <stdio.h>
#include <string.h>

#include "core/str.h"
#include "rule/text.h"

void dg_lex_init(struct dg_lexer *lx, const struct dg_rule_src *src)
{
	lx->src = src;
	lx->p = src->text;
	lx->end = src->text + src->len;
	lx->line = 1;
	lx->counted = src->text;
	lx->col = 1;
}

const char *dg_tok_name(enum dg_tok t)
{
	static const char *const names[] = {"end of file", "bad token", "name", "number", "decimal",
					    "percentage",  "string",    "date", "month",  "'('",
					    "')'",         "'['",       "']'",  "'{'",    "'}'",
					    "','",         "':'",       "'.'",  "'..'",   "'/'",
					    "'='",         "'!='",      "'<'",  "'<='",   "'>'",
					    "'>='",        "'+'",       "'-'",  "'*'",    "'@'"};
	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "token";
}

static int isdig(char c)
{
	return c >= '0' && c <= '9';
}

/* A name character (ASCII or Chinese) starts at p: a number may not run into one. */
static bool name_at(const char *p, const char *end)
{
	return p < end && dg_text_name_char(p, end, false) > 0;
}

static void bad(struct dg_token *t, const char *msg)
{
	t->t = T_ERR;
	snprintf(t->err, sizeof(t->err), "%s", msg);
}

static int num_at(const char *p, const char *end, int n)
{
	if (end - p < n)
		return 0;
	for (int i = 0; i < n; i++)
		if (!isdig(p[i]))
			return 0;
	return 1;
}

struct dg_token dg_lex_next(struct dg_lexer *lx)
{
	struct dg_token t = {0};
	for (;;) {
		while (lx->p < lx->end &&
		       (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r' || *lx->p == '\n')) {
			if (*lx->p == '\n') {
				lx->line++;
				lx->counted = lx->p + 1;
				lx->col = 1;
			}
			lx->p++;
		}
		if (lx->p < lx->end && *lx->p == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
			continue;
		}
		break;
	}
	t.p = lx->p;
	t.line = lx->line;
	/* characters, not bytes; counted on from the last token, so a long line costs
	 * one pass */
	lx->col += dg_text_chars(lx->counted, (size_t)(lx->p - lx->counted));
	lx->counted = lx->p;
	t.col = lx->col;
	if (lx->p >= lx->end) {
		t.t = T_EOF;
		return t;
	}
	const char *p = lx->p, *end = lx->end;
	char c = *p;
	int nl;
	if ((nl = dg_text_name_char(p, end, true)) > 0) {
		int chars = 0;
		for (; p < end && (nl = dg_text_name_char(p, end, false)) > 0; chars++)
			p += nl;
		t.t = T_IDENT;
		if (chars > DG_NAME_MAX) {
			t.t = T_ERR;
			snprintf(t.err, sizeof(t.err), "a name has at most %d characters",
				 DG_NAME_MAX);
		}
	} else if (isdig(c)) {
		if (num_at(p, end, 4) && end - p >= 7 && p[4] == '-' && num_at(p + 5, end, 2)) {
			int y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 +
				(p[3] - '0');
			int m = (p[5] - '0') * 10 + (p[6] - '0');
			if (end - p >= 10 && p[7] == '-' && num_at(p + 8, end, 2) &&
			    !name_at(p + 10, end)) {
				int d = (p[8] - '0') * 10 + (p[9] - '0');
				if (!dg_ymd_valid(y, m, d)) {
					bad(&t, "not a real date");
					p += 10;
					goto done;
				}
				t.t = T_DATE;
				t.ival = dg_day_from_ymd(y, m, d);
				p += 10;
				goto done;
			}
			if (m < 1 || m > 12 || name_at(p + 7, end)) {
				bad(&t, "not a real month");
				p += 7;
				goto done;
			}
			t.t = T_MONTH;
			t.ival = (int64_t)y * 12 + m - 1;
			p += 7;
			goto done;
		}
		int64_t v = 0;
		int digits = 0;
		while (p < end && isdig(*p)) {
			if (++digits > 15) {
				bad(&t, "number too long");
				goto done;
			}
			v = v * 10 + (*p++ - '0');
		}
		t.t = T_INT;
		t.ival = v;
		if (p + 1 < end && *p == '.' && isdig(p[1])) {
			int64_t frac = 0, scale = DG_DEC_ONE;
			p++;
			int nd = 0;
			while (p < end && isdig(*p)) {
				if (++nd > 6) {
					bad(&t, "at most 6 decimal places");
					goto done;
				}
				scale /= 10;
				frac += (*p++ - '0') * scale;
			}
			if (v > DG_LEX_DEC_MAX) {
				bad(&t, "a number with decimals is at most 9000000000000 before "
					"the point");
				goto done;
			}
			t.t = T_DEC;
			t.ival = v * DG_DEC_ONE + frac;
		} else {
			t.ival = v;
		}
		if (p < end && *p == '%') {
			int64_t micro = t.t == T_DEC          ? t.ival
					: v <= DG_LEX_DEC_MAX ? v * DG_DEC_ONE
							      : 0;
			if (t.t == T_INT && v > DG_LEX_DEC_MAX) {
				bad(&t, "percentage too large");
			} else if (micro % 100) {
				bad(&t, "a percentage has at most 4 decimal places");
			} else {
				t.t = T_PERCENT;
				t.ival = micro / 100;
			}
			p++;
		}
		if (name_at(p, end) && t.t != T_ERR)
			bad(&t, "a number runs into a name: put a space between them");
	} else if (c == '"') {
		p++;
		while (p < end && *p != '"' && *p != '\n')
			p++;
		if (p >= end || *p != '"') {
			bad(&t, "string not closed on this line");
			goto done;
		}
		p++;
		if (!dg_utf8_valid(t.p + 1, (size_t)(p - t.p - 2))) {
			bad(&t, "string is not valid UTF-8");
			goto done;
		}
		t.t = T_STR;
	} else {
		p++;
		switch (c) {
		case '(': t.t = T_LP; break;
		case ')': t.t = T_RP; break;
		case '[': t.t = T_LB; break;
		case ']': t.t = T_RB; break;
		case '{': t.t = T_LC; break;
		case '}': t.t = T_RC; break;
		case ',': t.t = T_COMMA; break;
		case ':': t.t = T_COLON; break;
		case '/': t.t = T_SLASH; break;
		case '+': t.t = T_PLUS; break;
		case '-': t.t = T_MINUS; break;
		case '*': t.t = T_STAR; break;
		case '@': t.t = T_AT; break;
		case '.':
			t.t = T_DOT;
			if (p < end && *p == '.') {
				p++;
				t.t = T_DOTDOT;
			}
			break;
		case '=':
			t.t = T_EQ;
			if (p < end && *p == '=')
				p++;
			break;
		case '!':
			if (p < end && *p == '=') {
				p++;
				t.t = T_NE;
			} else {
				bad(&t, "'!' alone: write 'not' or '!='");
			}
			break;
		case '<':
			t.t = T_LT;
			if (p < end && *p == '=') {
				p++;
				t.t = T_LE;
			} else if (p < end && *p == '>') {
				p++;
				t.t = T_NE;
			}
			break;
		case '>':
			t.t = T_GT;
			if (p < end && *p == '=') {
				p++;
				t.t = T_GE;
			}
			break;
		default:
			t.t = T_ERR;
			if ((unsigned char)c < 0x80) {
				bad(&t, "unexpected character");
				break;
			}
			/* not a name character: say what it is and what to write; skip the
			 * whole sequence so the next column is right */
			dg_text_why_not(t.p, end, t.err, sizeof(t.err));
			uint32_t cp;
			int l = dg_text_utf8(t.p, end, &cp);
			p = t.p + (l ? l : 1);
		}
	}
done:
	t.n = (int)(p - t.p);
	lx->p = p;
	return t;
}
