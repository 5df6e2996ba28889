/*
 * accept.c - the Accept header's ranges matched against what a handler
 * offers (accept.h). Ranges are read one at a time from a bounded copy;
 * nothing is allocated.
 */
#include "http/accept.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

struct range {
	const char *type, *sub; /* views into the header, not NUL-terminated */
	size_t ntype, nsub;
	int q; /* thousandths */
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_token(char c)
{
	return c > 0x20 && c < 0x7f && !strchr("()<>@,;:\\\"/[]?={}", c);
}

/* A qvalue: "0", "0.5", "1", "1.000" (at most three decimals); -1 when not one. */
static int qvalue(const char *s, size_t n)
{
	if (n == 0 || (s[0] != '0' && s[0] != '1') || (n > 1 && s[1] != '.') || n > 5)
		return -1;
	int q = (s[0] - '0') * 1000, scale = 100;
	for (size_t i = 2; i < n; i++, scale /= 10) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		q += (s[i] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

/* Parse one range s[0..n) ("type/sub;p=v;q=0.5"); false when it is not one. */
static bool parse_range(const char *s, size_t n, struct range *out)
{
	size_t i = 0;
	while (i < n && is_space(s[i]))
		i++;
	out->type = s + i;
	while (i < n && is_token(s[i]))
		i++;
	out->ntype = (size_t)(s + i - out->type);
	if (!out->ntype || i >= n || s[i] != '/')
		return false;
	out->sub = s + ++i;
	while (i < n && is_token(s[i]))
		i++;
	out->nsub = (size_t)(s + i - out->sub);
	if (!out->nsub)
		return false;
	out->q = 1000;
	/* parameters: only q matters; others (charset, profile) are read past */
	while (i < n) {
		while (i < n && is_space(s[i]))
			i++;
		if (i >= n)
			break;
		if (s[i] != ';')
			return false;
		i++;
		while (i < n && is_space(s[i]))
			i++;
		const char *name = s + i;
		while (i < n && is_token(s[i]))
			i++;
		size_t nname = (size_t)(s + i - name);
		if (i >= n || s[i] != '=')
			return false;
		const char *val = s + ++i;
		if (i < n && s[i] == '"') { /* a quoted value: up to the closing quote */
			i++;
			while (i < n && s[i] != '"')
				i += s[i] == '\\' && i + 1 < n ? 2 : 1;
			if (i >= n)
				return false;
			i++;
		} else {
			while (i < n && is_token(s[i]))
				i++;
		}
		size_t nval = (size_t)(s + i - val);
		if (nname == 1 && (name[0] == 'q' || name[0] == 'Q')) {
			out->q = qvalue(val, nval);
			if (out->q < 0)
				return false;
		}
	}
	return true;
}

static bool same(const char *a, size_t na, const char *b, size_t nb)
{
	return na == nb && strncasecmp(a, b, na) == 0;
}

/* How specifically range r matches offer (3 exact, 2 type, 1 any, 0 not). */
static int match(const struct range *r, const char *offer)
{
	const char *slash = strchr(offer, '/');
	if (!slash)
		return 0;
	size_t nt = (size_t)(slash - offer);
	if (same(r->type, r->ntype, "*", 1))
		return same(r->sub, r->nsub, "*", 1) ? 1 : 0;
	if (!same(r->type, r->ntype, offer, nt))
		return 0;
	if (same(r->sub, r->nsub, "*", 1))
		return 2;
	return same(r->sub, r->nsub, slash + 1, strlen(slash + 1)) ? 3 : 0;
}

int dg_accept_pick(const char *accept, const char *const *offers, size_t n)
{
	if (n == 0)
		return -1;
	size_t len = accept ? strnlen(accept, DG_ACCEPT_MAX) : 0;
	size_t i = 0;
	while (i < len && is_space(accept[i]))
		i++;
	if (i == len)
		return 0;
	int best_q[DG_ACCEPT_RANGES], best_spec[DG_ACCEPT_RANGES];
	if (n > DG_ACCEPT_RANGES)
		n = DG_ACCEPT_RANGES;
	for (size_t k = 0; k < n; k++)
		best_q[k] = best_spec[k] = 0;
	/* bounded by the header's length and by DG_ACCEPT_RANGES ranges */
	for (size_t seen = 0; i < len && seen < DG_ACCEPT_RANGES; seen++) {
		const char *start = accept + i;
		bool quoted = false;
		while (i < len && (quoted || accept[i] != ',')) {
			if (accept[i] == '"')
				quoted = !quoted;
			else if (accept[i] == '\\' && quoted && i + 1 < len)
				i++;
			i++;
		}
		struct range r;
		bool ok = parse_range(start, (size_t)(accept + i - start), &r);
		if (i < len)
			i++; /* the comma */
		if (!ok)
			continue;
		for (size_t k = 0; k < n; k++) {
			int spec = match(&r, offers[k]);
			if (spec > best_spec[k] ||
			    (spec == best_spec[k] && spec && r.q > best_q[k])) {
				best_spec[k] = spec;
				best_q[k] = r.q;
			}
		}
	}
	int pick = -1, q = 0;
	for (size_t k = 0; k < n; k++)
		if (best_spec[k] && best_q[k] > q) {
			q = best_q[k];
			pick = (int)k;
		}
	return pick;
}
