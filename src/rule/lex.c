/*
 * lex.c - the rule language's lexer: identifiers (ASCII), numbers, dates
 * (2025-07-01), months (2025-07), quoted strings (UTF-8), punctuation and
 * '#' comments to the end of the line.
 */
#include "rule/lex.h"

#include <string.h>

#include "core/str.h"

void dg_lex_init(struct dg_lexer *lx, const struct dg_rule_src *src)
{
	lx->src = src;
	lx->p = src->text;
	lx->end = src->text + src->len;
	lx->line = 1;
	lx->line_start = src->text;
}

const char *dg_tok_name(enum dg_tok t)
{
	static const char *const names[] = {
	    "end of file", "bad token", "name", "number", "decimal", "percentage", "string", "date",
	    "month",       "'('",       "')'",  "'['",    "']'",     "'{'",        "'}'",    "','",
	    "':'",         "'.'",       "'..'", "'/'",    "'='",     "'!='",       "'<'",    "'<='",
	    "'>'",         "'>='",      "'+'",  "'-'",    "'*'",     "'@'"};
	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "token";
}

static int isdig(char c)
{
	return c >= '0' && c <= '9';
}

static int isid(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || isdig(c);
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
				lx->line_start = lx->p + 1;
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
	t.col = (int)(lx->p - lx->line_start) + 1;
	if (lx->p >= lx->end) {
		t.t = T_EOF;
		return t;
	}
	const char *p = lx->p, *end = lx->end;
	char c = *p;
	if (isid(c) && !isdig(c)) {
		while (p < end && isid(*p))
			p++;
		t.t = T_IDENT;
	} else if (isdig(c)) {
		if (num_at(p, end, 4) && end - p >= 7 && p[4] == '-' && num_at(p + 5, end, 2)) {
			int y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 +
			        (p[3] - '0');
			int m = (p[5] - '0') * 10 + (p[6] - '0');
			if (end - p >= 10 && p[7] == '-' && num_at(p + 8, end, 2) &&
			    !(end - p > 10 && isid(p[10]))) {
				int d = (p[8] - '0') * 10 + (p[9] - '0');
				if (!dg_ymd_valid(y, m, d)) {
					t.t = T_ERR;
					t.err = "not a real date";
					p += 10;
					goto done;
				}
				t.t = T_DATE;
				t.ival = dg_day_from_ymd(y, m, d);
				p += 10;
				goto done;
			}
			if (m < 1 || m > 12 || (end - p > 7 && isid(p[7]))) {
				t.t = T_ERR;
				t.err = "not a real month";
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
				t.t = T_ERR;
				t.err = "number too long";
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
					t.t = T_ERR;
					t.err = "at most 6 decimal places";
					goto done;
				}
				scale /= 10;
				frac += (*p++ - '0') * scale;
			}
			if (v > DG_LEX_DEC_MAX) {
				t.t = T_ERR;
				t.err = "a number with decimals is at most 9000000000000 before "
				        "the point";
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
				t.t = T_ERR;
				t.err = "percentage too large";
			} else if (micro % 100) {
				t.t = T_ERR;
				t.err = "a percentage has at most 4 decimal places";
			} else {
				t.t = T_PERCENT;
				t.ival = micro / 100;
			}
			p++;
		}
		if (p < end && isid(*p) && t.t != T_ERR) {
			t.t = T_ERR;
			t.err = "a number runs into a name: put a space between them";
		}
	} else if (c == '"') {
		p++;
		while (p < end && *p != '"' && *p != '\n')
			p++;
		if (p >= end || *p != '"') {
			t.t = T_ERR;
			t.err = "string not closed on this line";
			goto done;
		}
		p++;
		if (!dg_utf8_valid(t.p + 1, (size_t)(p - t.p - 2))) {
			t.t = T_ERR;
			t.err = "string is not valid UTF-8";
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
				t.t = T_ERR;
				t.err = "'!' alone: write 'not' or '!='";
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
			t.err = (unsigned char)c >= 0x80 ? "text outside quotes must be ASCII: "
			                                   "put labels in \"quotes\""
			                                 : "unexpected character";
			/* skip a whole UTF-8 sequence so the caret stays on it */
			while (p < end && ((unsigned char)*p & 0xC0) == 0x80)
				p++;
		}
	}
done:
	t.n = (int)(p - t.p);
	lx->p = p;
	return t;
}
