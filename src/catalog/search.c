/*
 * search.c - the catalogue's search text: one tokenizer for Chinese and
 * English that gives the same tokens on SQLite and PostgreSQL.
 *
 * Neither store's stock full-text tokenizer splits Chinese into words, so the
 * catalogue indexes its own normalised text: Latin letters and digits as
 * lower-cased words, runs of CJK characters as overlapping bigrams (社会保险 ->
 * 社会 会保 保险), which lets a two-character query such as 社保 match
 * exactly and a longer one match all its bigrams. The text is stored in a
 * column and indexed as space-separated words: by an FTS5 table (unicode61
 * keeps each bigram and word whole) on SQLite, by a GIN index of its
 * 'simple' tsvector on PostgreSQL; catalog_sql.c asks both for every token,
 * Latin words as prefixes. Tokens hold nothing but a-z, 0-9 and CJK
 * characters, so no query syntax of either store can be spelled with them.
 */
#include "catalog/internal.h"

#include <stdint.h>

/* Decode one UTF-8 code point at p (n bytes left); returns its length, 0 if bad. */
static size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	size_t len = (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3 : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
	if (len == 0 || len > n)
		return 0;
	uint32_t c = p[0] & (0x7F >> len);
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3F);
	}
	*cp = c;
	return len;
}

static int is_cjk(uint32_t c)
{
	return (c >= 0x3400 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF) ||
	       (c >= 0x20000 && c <= 0x2FFFF);
}

static int is_word(uint32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Bigrams of one CJK run (start[i], len[i] are the characters' byte spans). */
static dg_rc add_cjk_run(struct dg_buf *out, const char *s, const size_t *off, const size_t *len, size_t n)
{
	dg_rc rc = DG_OK;
	if (n == 1)
		return dg_buf_add(out, s + off[0], len[0]) || dg_buf_addc(out, ' ') ? DG_ETOOBIG : DG_OK;
	for (size_t i = 0; i + 1 < n && rc == DG_OK; i++) {
		rc = dg_buf_add(out, s + off[i], len[i] + len[i + 1]);
		if (rc == DG_OK)
			rc = dg_buf_addc(out, ' ');
	}
	return rc;
}

dg_rc cat_tokens(const char *text, struct dg_buf *out)
{
	enum { RUN = 64 }; /* a CJK run longer than this is cut into runs of 64 */
	size_t off[RUN], len[RUN], nrun = 0;
	const unsigned char *p = (const unsigned char *)text;
	size_t n = 0;
	while (p[n])
		n++;
	dg_rc rc = dg_buf_addc(out, ' ');
	size_t i = 0;
	int in_word = 0;
	while (i < n && rc == DG_OK) {
		uint32_t c = 0;
		size_t l = utf8_next(p + i, n - i, &c);
		if (l == 0) {
			c = ' ';
			l = 1;
		}
		if (!is_cjk(c) || nrun == RUN) {
			if (nrun)
				rc = add_cjk_run(out, text, off, len, nrun);
			nrun = 0;
		}
		if (rc == DG_OK && is_cjk(c)) {
			off[nrun] = i;
			len[nrun++] = l;
		}
		if (rc == DG_OK && is_word(c)) {
			rc = dg_buf_addc(out, (char)(c >= 'A' && c <= 'Z' ? c + 32 : c));
			in_word = 1;
		} else if (rc == DG_OK && in_word) {
			rc = dg_buf_addc(out, ' ');
			in_word = 0;
		}
		i += l;
	}
	if (rc == DG_OK && nrun)
		rc = add_cjk_run(out, text, off, len, nrun);
	if (rc == DG_OK && in_word)
		rc = dg_buf_addc(out, ' ');
	return rc;
}
