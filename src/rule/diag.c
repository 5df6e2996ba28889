/*
 * diag.c - compiler messages in plain words with file:line:column and a
 * caret under the place, plus the "did you mean" suggestion.
 */
#include "rule/ast.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rule/text.h"

#define MAX_DIAGS 50

void dg_rule_diag_init(struct dg_rule_diag *d)
{
	dg_buf_init(&d->out, 1 << 20);
	d->errors = d->warnings = 0;
}

void dg_rule_diag_release(struct dg_rule_diag *d)
{
	dg_buf_release(&d->out);
}

void dg_rule_diag_at(struct dg_rule_diag *d, const struct dg_rule_src *src, int line, int col,
		     bool warning, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (warning)
		d->warnings++;
	else
		d->errors++;
	if (d->errors + d->warnings > MAX_DIAGS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dg_text_trim(msg); /* a long message is cut, never inside a character */
	/* the buffer is capped: a message past the cap is dropped, never overflowed */
	if (src && line >= 1)
		(void)!dg_buf_addf(&d->out, "%s:%d:%d: %s: %s\n", src->path, line, col,
				   warning ? "warning" : "error", msg);
	else /* about a whole file or run: the message names the file */
		(void)!dg_buf_addf(&d->out, "%s: %s\n", warning ? "warning" : "error", msg);
	if (!src || line < 1)
		return;
	const char *p = src->text, *end = src->text + src->len;
	for (int l = 1; l < line && p < end; p++)
		if (*p == '\n')
			l++;
	const char *e = p;
	while (e < end && *e != '\n' && *e != '\r')
		e++;
	if (e - p > 300)
		return;
	(void)!dg_buf_addf(&d->out, "%5d | %.*s\n      | ", line, (int)(e - p), p);
	/* the caret goes under the column (counted in characters), as wide as what a
	 * terminal shows before it: a tab stays a tab, a Chinese character takes two */
	const char *q = p;
	for (int c = 1; q < e && c < col; c++) {
		uint32_t cp;
		int l = dg_text_utf8(q, e, &cp);
		l = l ? l : 1;
		if (*q == '\t')
			(void)!dg_buf_addc(&d->out, '\t');
		else
			for (int w = dg_text_width(q, (size_t)l); w > 0; w--)
				(void)!dg_buf_addc(&d->out, ' ');
		q += l;
	}
	(void)!dg_buf_adds(&d->out, "^\n");
}

/* Code points of a name, at most 64; -1 when longer or not UTF-8. */
static int decode(const char *s, uint32_t *out)
{
	const char *end = s + strlen(s);
	int n = 0;
	for (const char *p = s; p < end; n++) {
		uint32_t cp;
		int l = dg_text_utf8(p, end, &cp);
		if (!l || n == 64)
			return -1;
		out[n] = cp;
		p += l;
	}
	return n;
}

/* Levenshtein over characters, so one mistyped Chinese character is one edit. */
static int edit_distance(const char *sa, const char *sb)
{
	uint32_t a[64], b[64];
	int na = decode(sa, a), nb = decode(sb, b);
	int row[65];
	if (na < 0 || nb < 0)
		return 99;
	for (int j = 0; j <= nb; j++)
		row[j] = j;
	for (int i = 1; i <= na; i++) {
		int prev = row[0];
		row[0] = i;
		for (int j = 1; j <= nb; j++) {
			int cur = row[j];
			int best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[nb];
}

const char *dg_rule_did_you_mean(const char *name, const char *const *cands, size_t n)
{
	const char *best = NULL;
	int bd = 99;
	int len = dg_text_chars(name, strlen(name));
	int limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
	for (size_t i = 0; i < n; i++) {
		if (!cands[i])
			continue;
		int dist = edit_distance(name, cands[i]);
		if (dist < bd) {
			bd = dist;
			best = cands[i];
		}
	}
	return bd <= limit ? best : NULL;
}

const char *dg_rule_ty_name(struct dg_type t, char *tmp, size_t n)
{
	static const char *const names[] = {
		"an invalid value", "true/false", "a count (int)", "money",
		"unrounded money",  "a decimal",  "a date",        "a code",
		"a group",          "a link",     "a duration"};
	const char *b = (unsigned)t.base < sizeof(names) / sizeof(names[0]) ? names[t.base] : "?";
	if (t.monthly)
		snprintf(tmp, n, "monthly %s", b);
	else if (t.per == 1)
		snprintf(tmp, n, "%s per month", b);
	else if (t.per == 12)
		snprintf(tmp, n, "%s per year", b);
	else if (t.per)
		snprintf(tmp, n, "%s over %d months", b, t.per);
	else
		snprintf(tmp, n, "%s", b);
	return tmp;
}
