/*
 * str.c - string views, integer parsing, UTF-8 checks.
 */
#include "str.h"

#include <string.h>

struct dg_str dg_str_of(const char *s)
{
	return (struct dg_str){s ? s : "", s ? strlen(s) : 0};
}

bool dg_str_eq(struct dg_str a, struct dg_str b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

bool dg_str_eqs(struct dg_str a, const char *s)
{
	return dg_str_eq(a, dg_str_of(s));
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

bool dg_str_case_eqs(struct dg_str a, const char *s)
{
	size_t n = strlen(s);
	if (n != a.n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(a.p[i]) != lower(s[i]))
			return false;
	return true;
}

bool dg_str_starts(struct dg_str a, const char *prefix)
{
	size_t n = strlen(prefix);
	return a.n >= n && memcmp(a.p, prefix, n) == 0;
}

struct dg_str dg_str_trim(struct dg_str a)
{
	while (a.n && (a.p[0] == ' ' || a.p[0] == '\t')) {
		a.p++;
		a.n--;
	}
	while (a.n && (a.p[a.n - 1] == ' ' || a.p[a.n - 1] == '\t'))
		a.n--;
	return a;
}

struct dg_str dg_str_cut(struct dg_str s, char sep, struct dg_str *head)
{
	const char *hit = s.n ? memchr(s.p, sep, s.n) : NULL;
	if (!hit) {
		*head = s;
		return (struct dg_str){NULL, 0};
	}
	*head = (struct dg_str){s.p, (size_t)(hit - s.p)};
	return (struct dg_str){hit + 1, s.n - (size_t)(hit - s.p) - 1};
}

dg_rc dg_str_to_i64(struct dg_str s, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	if (s.n && s.p[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == s.n || s.n - i > 19)
		return DG_EINVAL;
	uint64_t v = 0;
	for (; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return DG_EINVAL;
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	}
	if (v > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
		return DG_EINVAL;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return DG_OK;
}

/* Length of the UTF-8 sequence at p (at most n bytes), or 0 when malformed. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t len;
	unsigned min;
	if (c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if ((c & 0xE0) == 0xC0) {
		len = 2;
		min = 0x80;
		c &= 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		len = 3;
		min = 0x800;
		c &= 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		len = 4;
		min = 0x10000;
		c &= 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	return len;
}

bool dg_utf8_valid(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0;
	while (i < n) {
		size_t l = utf8_seq(u + i, n - i);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

size_t dg_utf8_len(const char *p, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)p[i] & 0xC0) != 0x80)
			count++;
	return count;
}

bool dg_ct_eq(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	unsigned char d = 0;
	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}
