/*
 * solr.c - the Solr query subset of solr.h: a lexer that turns the query
 * into tokens (terms unescaped, operators recognised), a recursive-descent
 * parser over them (one function per precedence level, depth-capped), and a
 * compiler that walks the tree and writes SQL with '?' for every value.
 */
#include "opendata/catalog/solr.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/date.h"
#include "core/str.h"

enum op { N_ALL, N_TERM, N_RANGE, N_AND, N_OR, N_NOT };

struct dg_solr_node {
	enum op op;
	const char *field; /* TERM/RANGE: NULL for the default field */
	const char *value; /* TERM: the value; RANGE: the low end, NULL when open */
	const char *high;  /* RANGE: the high end, NULL when open */
	bool low_incl, high_incl;
	bool phrase;                     /* TERM: it was quoted */
	struct dg_solr_node *kid, *next; /* AND/OR: the children; NOT: its one child */
};

/* ---- lexer ---- */

enum tok {
	T_END,
	T_TERM,
	T_PHRASE,
	T_COLON,
	T_LPAREN,
	T_RPAREN,
	T_AND,
	T_OR,
	T_NOT,
	T_PLUS,
	T_MINUS,
	T_RANGE_OPEN,
	T_RANGE_CLOSE,
};

struct token {
	enum tok t;
	const char *text; /* T_TERM, T_PHRASE: unescaped (arena) */
	bool wild;        /* T_TERM: an unescaped * or ? in it */
	bool incl;        /* T_RANGE_OPEN/CLOSE: '[' or ']' */
	size_t at;        /* byte offset, for messages */
};

struct parser {
	struct dg_arena *a;
	struct dg_err *err;
	struct token *toks;
	size_t n, i;
	unsigned clauses;
};

static bool term_stop(char c)
{
	return c == '\0' || isspace((unsigned char)c) || strchr("()[]{}\":^~", c) != NULL;
}

/* A term from q+i (escapes undone), into *tk; returns the offset after it. */
static size_t lex_term(struct parser *p, const char *q, size_t i, struct token *tk)
{
	size_t start = i, n = 0, end = i;
	while (!term_stop(q[end]) &&
	       !((q[end] == '&' && q[end + 1] == '&') || (q[end] == '|' && q[end + 1] == '|')))
		end += q[end] == '\\' && q[end + 1] ? 2 : 1;
	char *out = dg_arena_alloc(p->a, end - i + 1);
	tk->t = T_TERM;
	tk->wild = false;
	while (i < end) {
		if (q[i] == '\\' && q[i + 1]) {
			out[n++] = q[i + 1];
			i += 2;
			continue;
		}
		if (q[i] == '*' || q[i] == '?')
			tk->wild = true;
		out[n++] = q[i++];
	}
	out[n] = '\0';
	tk->text = out;
	if (!tk->wild && i - start == n) {
		if (strcmp(out, "AND") == 0)
			tk->t = T_AND;
		else if (strcmp(out, "OR") == 0)
			tk->t = T_OR;
		else if (strcmp(out, "NOT") == 0)
			tk->t = T_NOT;
	}
	return i;
}

static dg_rc lex(struct parser *p, const char *q)
{
	size_t len = strlen(q), cap = len + 1;
	p->toks = dg_arena_alloc(p->a, cap * sizeof *p->toks);
	p->n = 0;
	size_t i = 0;
	bool start = true;     /* at the start of a clause: + and - are operators */
	bool in_range = false; /* between [ or { and ] or } */
	while (q[i]) {
		char c = q[i];
		struct token *tk = &p->toks[p->n];
		memset(tk, 0, sizeof *tk);
		tk->at = i;
		if (isspace((unsigned char)c)) {
			i++;
			start = true;
			continue;
		}
		bool was_start = start;
		start = false;
		if (in_range && c != ']' && c != '}' && c != '"') {
			/* inside [a TO b] only blanks and the closing bracket end a term (dates
			 * hold ':') */
			size_t end = i, n = 0;
			while (q[end] && !isspace((unsigned char)q[end]) && q[end] != ']' &&
			       q[end] != '}')
				end += q[end] == '\\' && q[end + 1] ? 2 : 1;
			char *out = dg_arena_alloc(p->a, end - i + 1);
			tk->t = T_TERM;
			while (i < end) {
				if (q[i] == '\\' && q[i + 1])
					i++;
				else if (q[i] == '*' || q[i] == '?')
					tk->wild = true;
				out[n++] = q[i++];
			}
			out[n] = '\0';
			tk->text = out;
			p->n++;
			continue;
		}
		if (c == '(' || c == ')') {
			tk->t = c == '(' ? T_LPAREN : T_RPAREN;
			start = c == '(';
			i++;
		} else if (c == '[' || (c == '{' && q[i + 1] != '!')) {
			tk->t = T_RANGE_OPEN, tk->incl = c == '[', i++;
			in_range = true;
		} else if (c == ']' || c == '}') {
			tk->t = T_RANGE_CLOSE, tk->incl = c == ']', i++;
			in_range = false;
		} else if (c == '{') {
			return dg_err_set(p->err, DG_EINVAL,
					  "local parameters {!...} are not supported");
		} else if (c == ':') {
			tk->t = T_COLON, i++;
		} else if (c == '"') {
			size_t n = 0, end = i + 1;
			while (q[end] && q[end] != '"')
				end += q[end] == '\\' && q[end + 1] ? 2 : 1;
			char *out = dg_arena_alloc(p->a, end - i + 1);
			i++;
			while (q[i] && q[i] != '"') {
				if (q[i] == '\\' && q[i + 1])
					i++;
				out[n++] = q[i++];
			}
			if (!q[i])
				return dg_err_set(
					p->err, DG_EINVAL,
					"a quoted phrase starting at character %zu is not closed",
					tk->at + 1);
			i++;
			out[n] = '\0';
			tk->t = T_PHRASE, tk->text = out;
		} else if (c == '^') {
			/* a boost: relevance weights are ours, so it is read and dropped */
			i++;
			while (isdigit((unsigned char)q[i]) || q[i] == '.')
				i++;
			continue;
		} else if (c == '~') {
			return dg_err_set(p->err, DG_EINVAL,
					  "fuzzy and proximity searches (~) are not supported");
		} else if ((c == '+' || c == '-') && was_start) {
			if (!q[i + 1] || isspace((unsigned char)q[i + 1]))
				return dg_err_set(
					p->err, DG_EINVAL,
					"'%c' at character %zu must come right before a clause", c,
					i + 1);
			tk->t = c == '+' ? T_PLUS : T_MINUS, i++;
			start = true;
		} else if (c == '!' && was_start) {
			tk->t = T_NOT, i++;
			start = true;
		} else if ((c == '&' && q[i + 1] == '&') || (c == '|' && q[i + 1] == '|')) {
			tk->t = c == '&' ? T_AND : T_OR, i += 2;
			start = true;
		} else {
			i = lex_term(p, q, i, tk);
			if (tk->t == T_AND || tk->t == T_OR || tk->t == T_NOT)
				start = true;
		}
		p->n++;
	}
	p->toks[p->n].t = T_END;
	p->toks[p->n].at = i;
	return DG_OK;
}

/* ---- parser ---- */

static struct token *peek(struct parser *p)
{
	return &p->toks[p->i];
}

static const char *tok_name(const struct token *tk)
{
	static const char *const names[] = {
		"the end", "a term", "a phrase", "':'", "'('",           "')'",         "AND",
		"OR",      "NOT",    "'+'",      "'-'", "a range start", "a range end",
	};
	return names[tk->t];
}

static dg_rc unexpected(struct parser *p, const char *wanted)
{
	struct token *tk = peek(p);
	return dg_err_set(p->err, DG_EINVAL, "%s at character %zu where %s was expected",
			  tk->t == T_END ? "the query ends" : tok_name(tk), tk->at + 1, wanted);
}

static struct dg_solr_node *node(struct parser *p, enum op op)
{
	struct dg_solr_node *n = dg_arena_alloc(p->a, sizeof *n);
	n->op = op;
	return n;
}

static dg_rc count_clause(struct parser *p)
{
	if (++p->clauses > DG_SOLR_MAX_CLAUSES)
		return dg_err_set(p->err, DG_EINVAL, "a query may have at most %d terms",
				  DG_SOLR_MAX_CLAUSES);
	return DG_OK;
}

static dg_rc parse_seq(struct parser *p, const char *field, unsigned depth,
		       struct dg_solr_node **out);

/* One end of a range: a term, a phrase, or * for an open end (NULL). */
static dg_rc range_end(struct parser *p, const char **out)
{
	struct token *tk = peek(p);
	if (tk->t == T_PHRASE || (tk->t == T_TERM && !tk->wild)) {
		*out = tk->text;
	} else if (tk->t == T_TERM && strcmp(tk->text, "*") == 0) {
		*out = NULL;
	} else if (tk->t == T_TERM) {
		return dg_err_set(
			p->err, DG_EINVAL,
			"wildcards are not supported (character %zu); use * alone for an open end",
			tk->at + 1);
	} else {
		return unexpected(p, "a range end");
	}
	p->i++;
	return DG_OK;
}

static dg_rc parse_range(struct parser *p, const char *field, struct dg_solr_node **out)
{
	struct dg_solr_node *n = node(p, N_RANGE);
	n->field = field;
	n->low_incl = peek(p)->incl;
	p->i++;
	dg_rc rc = range_end(p, &n->value);
	if (rc)
		return rc;
	if (peek(p)->t != T_TERM || strcmp(peek(p)->text, "TO") != 0)
		return unexpected(p, "TO");
	p->i++;
	if ((rc = range_end(p, &n->high)) != DG_OK)
		return rc;
	if (peek(p)->t != T_RANGE_CLOSE)
		return unexpected(p, "']' or '}'");
	n->high_incl = peek(p)->incl;
	p->i++;
	*out = n;
	return count_clause(p);
}

/* A term or phrase for field (NULL: the default field). */
static dg_rc parse_term(struct parser *p, const char *field, struct dg_solr_node **out)
{
	struct token *tk = peek(p);
	if (tk->t == T_TERM && tk->wild)
		return dg_err_set(
			p->err, DG_EINVAL,
			"wildcards are not supported (character %zu); only *:* matches everything",
			tk->at + 1);
	struct dg_solr_node *n = node(p, N_TERM);
	n->field = field;
	n->value = tk->text;
	n->phrase = tk->t == T_PHRASE;
	p->i++;
	*out = n;
	return count_clause(p);
}

/* After "field:": a term, a phrase, a range or a (group). */
static dg_rc parse_value(struct parser *p, const char *field, unsigned depth,
			 struct dg_solr_node **out)
{
	struct token *tk = peek(p);
	if (strcmp(field, "*") == 0) {
		if (tk->t == T_TERM && strcmp(tk->text, "*") == 0) {
			p->i++;
			*out = node(p, N_ALL);
			return DG_OK;
		}
		return dg_err_set(p->err, DG_EINVAL, "'*' as a field name only goes in *:*");
	}
	if (tk->t == T_RANGE_OPEN)
		return parse_range(p, field, out);
	if (tk->t == T_TERM || tk->t == T_PHRASE)
		return parse_term(p, field, out);
	if (tk->t == T_LPAREN) {
		p->i++;
		dg_rc rc = parse_seq(p, field, depth + 1, out);
		if (rc)
			return rc;
		if (peek(p)->t != T_RPAREN)
			return unexpected(p, "')'");
		p->i++;
		return DG_OK;
	}
	return unexpected(p, "a value after the field name");
}

static dg_rc parse_unary(struct parser *p, const char *field, unsigned depth,
			 struct dg_solr_node **out)
{
	if (depth > DG_SOLR_MAX_DEPTH)
		return dg_err_set(p->err, DG_EINVAL, "the query nests deeper than %d levels",
				  DG_SOLR_MAX_DEPTH);
	struct token *tk = peek(p);
	if (tk->t == T_NOT || tk->t == T_MINUS) {
		p->i++;
		struct dg_solr_node *n = node(p, N_NOT);
		*out = n;
		return parse_unary(p, field, depth + 1, &n->kid);
	}
	if (tk->t == T_PLUS) {
		p->i++;
		return parse_unary(p, field, depth + 1, out);
	}
	if (tk->t == T_LPAREN) {
		p->i++;
		dg_rc rc = parse_seq(p, field, depth + 1, out);
		if (rc)
			return rc;
		if (peek(p)->t != T_RPAREN)
			return unexpected(p, "')'");
		p->i++;
		return DG_OK;
	}
	if (tk->t == T_TERM && p->toks[p->i + 1].t == T_COLON) {
		if (tk->wild && strcmp(tk->text, "*") != 0)
			return dg_err_set(p->err, DG_EINVAL, "a field name cannot hold a wildcard");
		p->i += 2;
		return parse_value(p, tk->text, depth, out);
	}
	if (tk->t == T_TERM || tk->t == T_PHRASE)
		return parse_term(p, field, out);
	if (tk->t == T_RANGE_OPEN && field)
		return parse_range(p, field, out);
	if (tk->t == T_RANGE_OPEN)
		return dg_err_set(p->err, DG_EINVAL, "a range needs a field (character %zu)",
				  tk->at + 1);
	return unexpected(p, "a term");
}

/* A chain of kids joined by one operator token into one node of op. */
static dg_rc parse_chain(struct parser *p, const char *field, unsigned depth, enum tok joiner,
			 enum op op, struct dg_solr_node **out)
{
	struct dg_solr_node *first = NULL, *last = NULL, *kid = NULL;
	size_t count = 0;
	for (;;) {
		dg_rc rc = joiner == T_OR ? parse_chain(p, field, depth, T_AND, N_AND, &kid)
					  : parse_unary(p, field, depth, &kid);
		if (rc)
			return rc;
		if (last)
			last->next = kid;
		else
			first = kid;
		last = kid;
		count++;
		if (peek(p)->t != joiner)
			break;
		p->i++;
	}
	if (count == 1) {
		*out = first;
		return DG_OK;
	}
	struct dg_solr_node *n = node(p, op);
	n->kid = first;
	*out = n;
	return DG_OK;
}

/* Clauses side by side up to ')' or the end: all required. */
static dg_rc parse_seq(struct parser *p, const char *field, unsigned depth,
		       struct dg_solr_node **out)
{
	if (depth > DG_SOLR_MAX_DEPTH)
		return dg_err_set(p->err, DG_EINVAL, "the query nests deeper than %d levels",
				  DG_SOLR_MAX_DEPTH);
	struct dg_solr_node *first = NULL, *last = NULL, *kid = NULL;
	size_t count = 0;
	while (peek(p)->t != T_END && peek(p)->t != T_RPAREN) {
		dg_rc rc = parse_chain(p, field, depth, T_OR, N_OR, &kid);
		if (rc)
			return rc;
		if (last)
			last->next = kid;
		else
			first = kid;
		last = kid;
		count++;
	}
	if (count == 0)
		return unexpected(p, "a term");
	if (count == 1) {
		*out = first;
		return DG_OK;
	}
	struct dg_solr_node *n = node(p, N_AND);
	n->kid = first;
	*out = n;
	return DG_OK;
}

dg_rc dg_solr_parse(const char *q, struct dg_arena *a, struct dg_solr_node **out,
		    struct dg_err *err)
{
	*out = NULL;
	size_t len = strlen(q);
	if (len > DG_SOLR_MAX_LEN)
		return dg_err_set(err, DG_ETOOBIG, "the query is longer than %d bytes",
				  DG_SOLR_MAX_LEN);
	if (!dg_utf8_valid(q, len))
		return dg_err_set(err, DG_EINVAL, "the query is not valid UTF-8");
	struct parser p = {.a = a, .err = err};
	dg_rc rc = lex(&p, q);
	if (rc)
		return rc;
	if (p.n == 0) {
		*out = node(&p, N_ALL);
		return DG_OK;
	}
	struct dg_solr_node *n = NULL;
	if ((rc = parse_seq(&p, NULL, 0, &n)) != DG_OK)
		return rc;
	if (peek(&p)->t != T_END)
		return unexpected(&p, "the end of the query (a ')' has no '(')");
	*out = n;
	return DG_OK;
}

/* ---- printer ---- */

static dg_rc print_quoted(struct dg_buf *b, const char *s)
{
	dg_rc rc = dg_buf_addc(b, '"');
	for (; !rc && *s; s++) {
		if (*s == '"' || *s == '\\')
			rc = dg_buf_addc(b, '\\');
		if (!rc)
			rc = dg_buf_addc(b, *s);
	}
	return rc ? rc : dg_buf_addc(b, '"');
}

dg_rc dg_solr_print(const struct dg_solr_node *n, struct dg_buf *b)
{
	dg_rc rc = DG_OK;
	switch (n->op) {
	case N_ALL: return dg_buf_adds(b, "*:*");
	case N_TERM:
		if (n->field && ((rc = dg_buf_addf(b, "%s:", n->field)) != DG_OK))
			return rc;
		return print_quoted(b, n->value);
	case N_RANGE:
		rc = dg_buf_addf(b, "%s:%c", n->field, n->low_incl ? '[' : '{');
		rc = rc ? rc : n->value ? print_quoted(b, n->value) : dg_buf_addc(b, '*');
		rc = rc ? rc : dg_buf_adds(b, " TO ");
		rc = rc ? rc : n->high ? print_quoted(b, n->high) : dg_buf_addc(b, '*');
		return rc ? rc : dg_buf_addc(b, n->high_incl ? ']' : '}');
	case N_NOT:
		rc = dg_buf_adds(b, "(NOT ");
		rc = rc ? rc : dg_solr_print(n->kid, b);
		return rc ? rc : dg_buf_addc(b, ')');
	case N_AND:
	case N_OR:
		rc = dg_buf_adds(b, n->op == N_AND ? "(AND" : "(OR");
		for (const struct dg_solr_node *k = n->kid; k && !rc; k = k->next) {
			rc = dg_buf_addc(b, ' ');
			rc = rc ? rc : dg_solr_print(k, b);
		}
		return rc ? rc : dg_buf_addc(b, ')');
	}
	return DG_EINTERNAL;
}

/* ---- dates ---- */

static int64_t civil_ms(int y, int mo, int d, int h, int mi, int s, int ms)
{
	return (((int64_t)dg_day_from_ymd(y, mo, d) * 24 + h) * 60 + mi) * 60000 + s * 1000 + ms;
}

/* ms moved by months on the calendar (the day clamped to the month's length). */
static int64_t add_months(int64_t ms, int64_t months)
{
	int64_t day = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
	int64_t rest = ms - day * 86400000;
	int y, m, d;
	dg_day_to_ymd((dg_day)day, &y, &m, &d);
	int64_t idx = (int64_t)y * 12 + (m - 1) + months;
	y = (int)(idx >= 0 ? idx / 12 : -((-idx + 11) / 12));
	m = (int)(idx - (int64_t)y * 12) + 1;
	while (d > 28 && !dg_ymd_valid(y, m, d))
		d--;
	return (int64_t)dg_day_from_ymd(y, m, d) * 86400000 + rest;
}

/* Dates beyond about 30,000 years either side of 1970 are refused, so offsets cannot overflow. */
#define DATE_LIMIT_MS ((int64_t)1000000000000000)

/* NOW followed by offsets such as -7DAYS+1HOUR. */
static dg_rc date_math(const char *s, int64_t now_ms, int64_t *out)
{
	static const struct {
		const char *unit;
		int64_t ms; /* 0: calendar months, with the multiplier in months */
		int64_t months;
	} units[] = {
		{"YEAR", 0, 12},      {"MONTH", 0, 1},      {"WEEK", 604800000, 0},
		{"DAY", 86400000, 0}, {"HOUR", 3600000, 0}, {"MINUTE", 60000, 0},
		{"SECOND", 1000, 0},
	};
	int64_t t = now_ms;
	const char *p = s + 3;
	/* at most a few offsets: the query's length bounds the loop */
	while (*p) {
		if (*p != '+' && *p != '-')
			return DG_EINVAL;
		int sign = *p == '-' ? -1 : 1;
		p++;
		int64_t n = 0;
		int digits = 0;
		while (isdigit((unsigned char)*p) && digits < 6)
			n = n * 10 + (*p++ - '0'), digits++;
		if (digits == 0 || isdigit((unsigned char)*p))
			return DG_EINVAL;
		size_t k = 0, nunits = sizeof units / sizeof units[0];
		for (; k < nunits; k++) {
			size_t ul = strlen(units[k].unit);
			if (strncmp(p, units[k].unit, ul) == 0) {
				p += ul;
				if (*p == 'S')
					p++;
				break;
			}
		}
		if (k == nunits)
			return DG_EINVAL;
		if (units[k].ms)
			t += sign * n * units[k].ms;
		else
			t = add_months(t, sign * n * units[k].months);
		if (t < -DATE_LIMIT_MS || t > DATE_LIMIT_MS)
			return DG_EINVAL;
	}
	*out = t;
	return DG_OK;
}

static bool digits_at(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

dg_rc dg_solr_date(const char *s, int64_t now_ms, int64_t *out)
{
	if (strncmp(s, "NOW", 3) == 0)
		return date_math(s, now_ms, out);
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
	if (strlen(s) < 10 || !digits_at(s, 4, &y) || s[4] != '-' || !digits_at(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits_at(s + 8, 2, &d) || !dg_ymd_valid(y, mo, d))
		return DG_EINVAL;
	const char *p = s + 10;
	if (*p == 'T') {
		if (!digits_at(p + 1, 2, &h) || p[3] != ':' || !digits_at(p + 4, 2, &mi) ||
		    p[6] != ':' || !digits_at(p + 7, 2, &sec) || h > 23 || mi > 59 || sec > 60)
			return DG_EINVAL;
		p += 9;
		if (*p == '.') {
			int scale = 100;
			for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
				ms += (*p - '0') * scale;
		}
		if (*p == 'Z')
			p++;
	}
	if (*p)
		return DG_EINVAL;
	*out = civil_ms(y, mo, d, h, mi, sec > 59 ? 59 : sec, ms);
	return DG_OK;
}

/* ---- compiler ---- */

static void release_bufs(void *p)
{
	struct dg_solr_sql *s = p;
	dg_buf_release(&s->where);
	dg_buf_release(&s->score);
}

struct dg_solr_sql *dg_solr_sql_new(struct dg_arena *a)
{
	struct dg_solr_sql *s = dg_arena_alloc(a, sizeof *s);
	s->a = a;
	dg_buf_init(&s->where, DG_SOLR_SQL_MAX);
	dg_buf_init(&s->score, DG_SOLR_SQL_MAX);
	/* a few bytes into empty buffers far below their cap: cannot fail */
	if (dg_buf_adds(&s->where, "1=1") != DG_OK || dg_buf_adds(&s->score, "0") != DG_OK)
		dg_buf_reset(&s->where);
	dg_arena_defer(a, release_bufs, s);
	return s;
}

static void push_arg(struct dg_solr_sql *s, bool score, struct dg_val v)
{
	struct dg_val **args = score ? &s->score_args : &s->args;
	size_t *n = score ? &s->nscore_args : &s->nargs;
	size_t *cap = score ? &s->cap_score_args : &s->cap_args;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct dg_val *grown = dg_arena_alloc(s->a, ncap * sizeof *grown);
		if (*n)
			memcpy(grown, *args, *n * sizeof *grown);
		*args = grown;
		*cap = ncap;
	}
	(*args)[(*n)++] = v;
}

/* "%value%" for LIKE: ASCII folded to lower case, \ % _ escaped with '\'. */
static const char *like_pattern(struct dg_arena *a, const char *v)
{
	size_t n = strlen(v);
	char *out = dg_arena_alloc(a, 2 * n + 3), *o = out;
	*o++ = '%';
	for (; *v; v++) {
		if (*v == '\\' || *v == '%' || *v == '_')
			*o++ = '\\';
		*o++ = (char)tolower((unsigned char)*v);
	}
	*o++ = '%';
	*o = '\0';
	return out;
}

/* Copy template tpl into b; each '?' binds val, each "{k}" binds key. */
static dg_rc expand(struct dg_solr_sql *s, bool score, const char *tpl, const char *val,
		    const char *key)
{
	struct dg_buf *b = score ? &s->score : &s->where;
	dg_rc rc = dg_buf_addc(b, '(');
	for (const char *t = tpl; *t && !rc; t++) {
		if (*t == '?') {
			push_arg(s, score, DG_VT(val));
			rc = dg_buf_addc(b, '?');
		} else if (strncmp(t, "{k}", 3) == 0) {
			push_arg(s, score, DG_VT(key));
			rc = dg_buf_addc(b, '?');
			t += 2;
		} else {
			rc = dg_buf_addc(b, *t);
		}
	}
	return rc ? rc : dg_buf_addc(b, ')');
}

/*
 * The condition "matches e through the schema's index": one bound value,
 * the store's own query text. A query with no token constrains nothing.
 */
static dg_rc index_cond(struct dg_solr_sql *s, const struct dg_solr_schema *sc,
			const struct dg_search_expr *e)
{
	if (!e)
		return dg_buf_adds(&s->where, "(1=1)");
	struct dg_buf q;
	dg_buf_init(&q, DG_SOLR_SQL_MAX);
	dg_rc rc = dg_search_render(s->kind, sc->index, e, &q);
	if (!rc)
		push_arg(s, false, DG_VT(dg_arena_strdup(s->a, dg_buf_str(&q))));
	dg_buf_release(&q);
	rc = rc ? rc : dg_buf_addc(&s->where, '(');
	rc = rc ? rc : dg_search_cond(s->kind, sc->index, sc->index_id_sql, &s->where);
	return rc ? rc : dg_buf_addc(&s->where, ')');
}

/*
 * The free text e matched through the index; outside a NOT it is also
 * what the relevance is computed from (ORed onto s->rank), by the index.
 */
static dg_rc index_text(struct dg_solr_sql *s, const struct dg_solr_schema *sc,
			struct dg_search_expr *e, bool negated)
{
	dg_rc rc = index_cond(s, sc, e);
	if (!rc && !negated)
		s->rank = dg_search_or(s->a, s->rank, e);
	return rc;
}

/* Whether n is free text only: bare terms joined by AND and OR. */
static bool text_only(const struct dg_solr_node *n)
{
	if (n->op == N_TERM)
		return n->field == NULL;
	if (n->op != N_AND && n->op != N_OR)
		return false;
	for (const struct dg_solr_node *k = n->kid; k; k = k->next)
		if (!text_only(k))
			return false;
	return true;
}

/* The free text n (text_only) as one search query; its depth is the parser's cap. */
static struct dg_search_expr *text_expr(struct dg_arena *a, const struct dg_solr_node *n)
{
	if (n->op == N_TERM)
		return dg_search_words(a, n->value, 0, n->phrase);
	struct dg_search_expr *e = NULL;
	for (const struct dg_solr_node *k = n->kid; k; k = k->next) {
		struct dg_search_expr *x = text_expr(a, k);
		e = n->op == N_AND ? dg_search_and(a, e, x) : dg_search_or(a, e, x);
	}
	return e;
}

static const struct dg_solr_field *find_field(const struct dg_solr_schema *sc, const char *name,
					      const char **key)
{
	for (size_t i = 0; i < sc->nfields; i++) {
		const char *f = sc->fields[i].name;
		size_t fl = strlen(f);
		if (fl && f[fl - 1] == '*') {
			if (strncmp(name, f, fl - 1) == 0 && name[fl - 1]) {
				*key = name + fl - 1;
				return &sc->fields[i];
			}
		} else if (strcmp(f, name) == 0) {
			*key = NULL;
			return &sc->fields[i];
		}
	}
	return NULL;
}

/* A value of an INT or DATE field as a number. */
static dg_rc number_of(const struct dg_solr_field *f, const char *v, int64_t now_ms, int64_t *out,
		       struct dg_err *err)
{
	if (f->kind == DG_SOLR_DATE) {
		if (dg_solr_date(v, now_ms, out) != DG_OK)
			return dg_err_set(
				err, DG_EINVAL,
				"%s: \"%.64s\" is not a date (2024-01-31T00:00:00Z or NOW-7DAYS)",
				f->name, v);
		return DG_OK;
	}
	if (dg_str_to_i64(dg_str_of(v), out) != DG_OK)
		return dg_err_set(err, DG_EINVAL, "%s: \"%.64s\" is not a whole number", f->name,
				  v);
	return DG_OK;
}

static dg_rc compare(struct dg_solr_sql *s, const struct dg_solr_field *f, const char *op,
		     const char *v, int64_t now_ms, struct dg_err *err)
{
	int64_t x = 0;
	dg_rc rc = number_of(f, v, now_ms, &x, err);
	if (rc)
		return rc;
	push_arg(s, false, DG_VI(x));
	return dg_buf_addf(&s->where, "(%s) %s ?", f->sql, op);
}

static dg_rc compile_field(struct dg_solr_sql *s, const struct dg_solr_schema *sc,
			   const struct dg_solr_node *n, int64_t now_ms, struct dg_err *err)
{
	const char *key = NULL;
	const struct dg_solr_field *f = find_field(sc, n->field, &key);
	if (!f)
		return dg_err_set(err, DG_EINVAL, "undefined field %.64s", n->field);
	bool numeric = f->kind == DG_SOLR_INT || f->kind == DG_SOLR_DATE;
	if (n->op == N_RANGE && !numeric)
		return dg_err_set(err, DG_EINVAL, "%.64s: ranges work on dates and numbers only",
				  n->field);
	if (f->kind == DG_SOLR_TEXT && f->index_fields && sc->index)
		return index_cond(s, sc,
				  dg_search_words(s->a, n->value, f->index_fields, n->phrase));
	if (!numeric) {
		const char *v = f->kind == DG_SOLR_TEXT ? like_pattern(s->a, n->value) : n->value;
		return expand(s, false, f->sql, v, key);
	}
	if (n->op == N_TERM)
		return compare(s, f, "=", n->value, now_ms, err);
	dg_rc rc = dg_buf_addc(&s->where, '(');
	bool any = false;
	if (!rc && n->value) {
		rc = compare(s, f, n->low_incl ? ">=" : ">", n->value, now_ms, err);
		any = true;
	}
	if (!rc && n->high) {
		rc = any ? dg_buf_adds(&s->where, " AND ") : DG_OK;
		rc = rc ? rc : compare(s, f, n->high_incl ? "<=" : "<", n->high, now_ms, err);
		any = true;
	}
	if (!rc && !any)
		rc = dg_buf_adds(&s->where, "1=1");
	return rc ? rc : dg_buf_addc(&s->where, ')');
}

static dg_rc compile_node(struct dg_solr_sql *s, const struct dg_solr_schema *sc,
			  const struct dg_solr_node *n, bool negated, int64_t now_ms,
			  struct dg_err *err);

/*
 * AND and OR. With an index, the free text among an AND's clauses (or a
 * whole OR of free text) is one index lookup, not one per word: "water
 * quality organization:x" is (the index has water and quality) AND the
 * organisation.
 */
static dg_rc compile_join(struct dg_solr_sql *s, const struct dg_solr_schema *sc,
			  const struct dg_solr_node *n, bool negated, int64_t now_ms,
			  struct dg_err *err)
{
	dg_rc rc = DG_OK;
	bool joined = false;
	if (sc->index && text_only(n))
		return index_text(s, sc, text_expr(s->a, n), negated);
	rc = dg_buf_addc(&s->where, '(');
	if (sc->index && n->op == N_AND) {
		struct dg_search_expr *e = NULL;
		bool any = false;
		for (const struct dg_solr_node *k = n->kid; k && !rc; k = k->next) {
			if (!text_only(k))
				continue;
			e = dg_search_and(s->a, e, text_expr(s->a, k));
			any = true;
		}
		if (any && !rc) {
			rc = index_text(s, sc, e, negated);
			joined = true;
		}
	}
	for (const struct dg_solr_node *k = n->kid; k && !rc; k = k->next) {
		if (sc->index && n->op == N_AND && text_only(k))
			continue;
		if (joined)
			rc = dg_buf_adds(&s->where, n->op == N_AND ? " AND " : " OR ");
		joined = true;
		rc = rc ? rc : compile_node(s, sc, k, negated, now_ms, err);
	}
	return rc ? rc : dg_buf_addc(&s->where, ')');
}

static dg_rc compile_node(struct dg_solr_sql *s, const struct dg_solr_schema *sc,
			  const struct dg_solr_node *n, bool negated, int64_t now_ms,
			  struct dg_err *err)
{
	dg_rc rc = DG_OK;
	switch (n->op) {
	case N_ALL: return dg_buf_adds(&s->where, "1=1");
	case N_TERM:
	case N_RANGE:
		if (n->field)
			return compile_field(s, sc, n, now_ms, err);
		if (sc->index)
			return index_text(s, sc, text_expr(s->a, n), negated);
		{
			const char *pat = like_pattern(s->a, n->value);
			rc = expand(s, false, sc->text_sql, pat, NULL);
			if (!rc && !negated && sc->score_sql) {
				rc = dg_buf_adds(&s->score, " + ");
				rc = rc ? rc : expand(s, true, sc->score_sql, pat, NULL);
			}
		}
		return rc;
	case N_NOT:
		rc = dg_buf_adds(&s->where, "NOT (");
		rc = rc ? rc : compile_node(s, sc, n->kid, !negated, now_ms, err);
		return rc ? rc : dg_buf_addc(&s->where, ')');
	case N_AND:
	case N_OR: return compile_join(s, sc, n, negated, now_ms, err);
	}
	return DG_EINTERNAL;
}

dg_rc dg_solr_compile(struct dg_solr_sql *s, const struct dg_solr_schema *schema,
		      const struct dg_solr_node *n, int64_t now_ms, struct dg_err *err)
{
	dg_rc rc = dg_buf_adds(&s->where, " AND ");
	rc = rc ? rc : compile_node(s, schema, n, false, now_ms, err);
	if (rc == DG_ETOOBIG)
		return dg_err_set(err, DG_EINVAL, "the query is too large");
	return rc;
}
