/*
 * text.c - UTF-8 in the rule language: decoding, the characters a name may
 * hold, what to say about one it may not, and terminal width for carets.
 *
 * The ranges are written out here rather than taken from a Unicode library:
 * the language needs only the Han ideographs, a handful of look-alike blocks
 * to refuse with a reason, and East Asian width, and a table this small is
 * easier to read and to test than a dependency.
 */
#include "rule/text.h"

#include <stdio.h>
#include <string.h>

int dg_text_utf8(const char *p, const char *end, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t avail = (size_t)(end - p);
	uint32_t c = u[0], min;
	int len;
	if (c == 0)
		return 0;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		c &= 0x1F;
		min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		len = 3;
		c &= 0x0F;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0; /* a continuation byte, or a lead byte no sequence has */
	}
	if (avail < (size_t)len)
		return 0;
	for (int i = 1; i < len; i++) {
		if ((u[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (u[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

long dg_text_bad_at(const char *t, size_t n)
{
	uint32_t cp;
	for (size_t i = 0; i < n;) {
		int l = dg_text_utf8(t + i, t + n, &cp);
		if (!l)
			return (long)i;
		i += (size_t)l;
	}
	return -1;
}

static bool is_han(uint32_t c)
{
	return c == 0x3007                        /* 〇, as in 二〇二五 */
	       || (c >= 0x3400 && c <= 0x4DBF)    /* extension A */
	       || (c >= 0x4E00 && c <= 0x9FFF)    /* the unified ideographs */
	       || (c >= 0x20000 && c <= 0x2A6DF)  /* extension B */
	       || (c >= 0x2A700 && c <= 0x2EE5F)  /* extensions C, D, E, F, I */
	       || (c >= 0x30000 && c <= 0x323AF); /* extensions G, H */
}

int dg_text_name_char(const char *p, const char *end, bool first)
{
	char c = *p;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
		return 1;
	if (c >= '0' && c <= '9')
		return first ? 0 : 1;
	if (!((unsigned char)c & 0x80))
		return 0;
	uint32_t cp;
	int l = dg_text_utf8(p, end, &cp);
	return l && is_han(cp) ? l : 0;
}

bool dg_text_name_ok(const char *s)
{
	const char *end = s + strlen(s);
	int chars = 0;
	if (s == end)
		return false;
	for (const char *p = s; p < end; chars++) {
		int l = dg_text_name_char(p, end, p == s);
		if (!l || chars == DG_NAME_MAX)
			return false;
		p += l;
	}
	return true;
}

static bool in(uint32_t c, uint32_t lo, uint32_t hi)
{
	return c >= lo && c <= hi;
}

void dg_text_why_not(const char *p, const char *end, char *msg, size_t n)
{
	uint32_t c;
	int l = dg_text_utf8(p, end, &c);
	if (!l) {
		snprintf(msg, n, "this byte (0x%02X) is not UTF-8 text", (unsigned char)*p);
		return;
	}
	static const char *const ascii_for[] = {
		[0x3001 - 0x3001] = ",",
		[0x3002 - 0x3001] = ".",
		[0x3010 - 0x3001] = "[",
		[0x3011 - 0x3001] = "]",
	};
	if (in(c, 0xFF01, 0xFF5E))
		snprintf(msg, n, "full-width '%.*s' (U+%04X): write '%c'", l, p, (unsigned)c,
			 (char)(c - 0xFEE0));
	else if (in(c, 0x3001, 0x3011) && ascii_for[c - 0x3001])
		snprintf(msg, n, "'%.*s' (U+%04X): write '%s'", l, p, (unsigned)c,
			 ascii_for[c - 0x3001]);
	else if (c == 0x3000 || c == 0xA0 || in(c, 0x2000, 0x200A) || c == 0x202F || c == 0x205F)
		snprintf(msg, n, "a %s space (U+%04X): write an ASCII space",
			 c == 0x3000 ? "full-width" : "non-ASCII", (unsigned)c);
	else if (in(c, 0x2018, 0x201F))
		snprintf(msg, n,
			 "the quotation mark '%.*s' (U+%04X): text goes in ASCII \"quotes\"", l, p,
			 (unsigned)c);
	else if (in(c, 0x80, 0x9F) || c == 0xAD || in(c, 0x200B, 0x200F) || in(c, 0x2028, 0x202E) ||
		 in(c, 0x2060, 0x206F) || c == 0xFEFF || in(c, 0xFFF9, 0xFFFB) ||
		 in(c, 0xE0000, 0xE007F))
		snprintf(msg, n, "an invisible character (U+%04X) outside quotes: delete it",
			 (unsigned)c);
	else if (in(c, 0x2E80, 0x2EFF) || in(c, 0x2F00, 0x2FDF))
		snprintf(msg, n,
			 "'%.*s' (U+%04X) is a radical, not the character it looks like (text "
			 "copied from a PDF?): type the character",
			 l, p, (unsigned)c);
	else if (in(c, 0xF900, 0xFAFF) || in(c, 0x2F800, 0x2FA1F))
		snprintf(msg, n,
			 "'%.*s' (U+%04X) is a compatibility form of a Chinese character: type "
			 "the ordinary character",
			 l, p, (unsigned)c);
	else
		snprintf(msg, n,
			 "'%.*s' (U+%04X) cannot be part of a name: names are ASCII letters, "
			 "digits, '_' and Chinese characters; put other text in \"quotes\"",
			 l, p, (unsigned)c);
}

int dg_text_chars(const char *s, size_t n)
{
	int count = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			count++;
	return count;
}

/* East Asian Wide and Fullwidth, and the zero-width marks, closely enough for
 * a caret under a line of rule text. */
static int char_width(uint32_t c)
{
	if (in(c, 0x300, 0x36F) || in(c, 0x200B, 0x200F) || in(c, 0x2060, 0x2064) || c == 0xFEFF)
		return 0;
	if (in(c, 0x1100, 0x115F) || in(c, 0x2E80, 0x303E) || in(c, 0x3041, 0x33FF) ||
	    in(c, 0x3400, 0x4DBF) || in(c, 0x4E00, 0x9FFF) || in(c, 0xA000, 0xA4CF) ||
	    in(c, 0xAC00, 0xD7A3) || in(c, 0xF900, 0xFAFF) || in(c, 0xFE10, 0xFE19) ||
	    in(c, 0xFE30, 0xFE6F) || in(c, 0xFF00, 0xFF60) || in(c, 0xFFE0, 0xFFE6) ||
	    in(c, 0x1F300, 0x1F64F) || in(c, 0x1F900, 0x1F9FF) || in(c, 0x20000, 0x2FFFD) ||
	    in(c, 0x30000, 0x3FFFD))
		return 2;
	return 1;
}

int dg_text_width(const char *s, size_t n)
{
	int w = 0;
	const char *end = s + n;
	uint32_t c;
	for (const char *p = s; p < end;) {
		int l = dg_text_utf8(p, end, &c);
		if (!l) { /* not text: one column, as most terminals show a replacement */
			w++;
			p++;
			continue;
		}
		w += char_width(c);
		p += l;
	}
	return w;
}

size_t dg_text_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	size_t k = max;
	/* back over continuation bytes to the start of the cut sequence */
	while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
		k--;
	return k;
}

void dg_text_trim(char *s)
{
	size_t n = strlen(s), k = n;
	while (k > 0 && ((unsigned char)s[k - 1] & 0xC0) == 0x80)
		k--;
	if (k == 0 || !((unsigned char)s[k - 1] & 0x80))
		return; /* ends in ASCII (or holds no lead byte to judge by) */
	unsigned char lead = (unsigned char)s[k - 1];
	size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
	if (n - (k - 1) < want)
		s[k - 1] = '\0';
}
