/*
 * tokens.c - the tokenizer (search.h): one pass over UTF-8 text that folds
 * full-width forms to ASCII, lower-cases letters, and hands over words,
 * CJK bigrams and lone CJK characters in the order they stand; a second
 * pass hands over the last character of each CJK run of two or more (the
 * "tails"), which a bigram index would otherwise only hold as the second
 * half of a pair. The tails come after every other token so that the
 * tokens of a phrase stay side by side.
 *
 * The scan keeps at most one word (DG_SEARCH_WORD_MAX bytes) and one
 * character of the CJK run behind it; its work is linear in the text.
 */
#include "search/search_int.h"

#include <stdint.h>
#include <string.h>

/* Decode one UTF-8 code point at p (n > 0 bytes left); its length, 0 if not valid UTF-8. */
static size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	size_t len = (p[0] & 0xE0) == 0xC0   ? 2
		     : (p[0] & 0xF0) == 0xE0 ? 3
		     : (p[0] & 0xF8) == 0xF0 ? 4
					     : 0;
	if (len == 0 || len > n)
		return 0;
	uint32_t c = p[0] & (0x7F >> len);
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3F);
	}
	/* overlong forms, surrogates and code points past Unicode are not text */
	static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
	if (c < least[len] || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
		return 0;
	*cp = c;
	return len;
}

static size_t utf8_put(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xC0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xE0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		out[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
	out[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

/* Full-width ASCII (！ to ～) and the ideographic space as their ASCII selves. */
static uint32_t fold_width(uint32_t c)
{
	if (c >= 0xFF01 && c <= 0xFF5E)
		return c - 0xFF01 + 0x21;
	return c == 0x3000 ? ' ' : c;
}

/* Upper case to lower in the alphabets words are made of. */
static uint32_t lower(uint32_t c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7) ||
	    (c >= 0x391 && c <= 0x3A9) || (c >= 0x410 && c <= 0x42F))
		return c + 0x20;
	if (c >= 0x400 && c <= 0x40F)
		return c + 0x50;
	return c;
}

static bool is_cjk(uint32_t c)
{
	return (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) ||
	       (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x2FFFF) ||
	       (c >= 0x3041 && c <= 0x30FF && c != 0x30FB) || (c >= 0xAC00 && c <= 0xD7AF);
}

/* Letters and digits of words: ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic. */
static bool is_word(uint32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c >= 0xC0 && c <= 0x17F && c != 0xD7 && c != 0xF7) ||
	       (c >= 0x386 && c <= 0x3FF && c != 0x387) || (c >= 0x400 && c <= 0x481) ||
	       (c >= 0x48A && c <= 0x4FF);
}

struct scan {
	tok_fn fn;
	void *ctx;
	char word[DG_SEARCH_WORD_MAX + 4];
	size_t wlen;
	char prev[4]; /* the CJK character before, in a run */
	size_t plen;
	size_t run; /* characters in the current CJK run */
};

static dg_rc end_word(struct scan *s)
{
	dg_rc rc = s->wlen ? s->fn(s->ctx, s->word, s->wlen, TOK_WORD) : DG_OK;
	s->wlen = 0;
	return rc;
}

/* The run ends: a lone character is a token of its own. */
static dg_rc end_run(struct scan *s)
{
	dg_rc rc = s->run == 1 ? s->fn(s->ctx, s->prev, s->plen, TOK_LONE) : DG_OK;
	s->run = 0;
	return rc;
}

static dg_rc add_cjk(struct scan *s, const char *ch, size_t n)
{
	dg_rc rc = DG_OK;
	if (s->run) {
		char pair[8];
		memcpy(pair, s->prev, s->plen);
		memcpy(pair + s->plen, ch, n);
		rc = s->fn(s->ctx, pair, s->plen + n, TOK_BIGRAM);
	}
	memcpy(s->prev, ch, n);
	s->plen = n;
	s->run++;
	return rc;
}

/* A word character (already lower-cased); past the cap the rest of the word is dropped. */
static void add_word(struct scan *s, uint32_t c)
{
	char buf[4];
	size_t n = utf8_put(c, buf);
	if (s->wlen + n <= DG_SEARCH_WORD_MAX) {
		memcpy(s->word + s->wlen, buf, n);
		s->wlen += n;
	}
}

/* The next code point at text+i as the scanner sees it (bytes that are not UTF-8: a space). */
static size_t next_cp(const unsigned char *p, size_t n, size_t i, uint32_t *c)
{
	size_t l = utf8_next(p + i, n - i, c);
	if (l == 0) {
		*c = ' ';
		return 1;
	}
	*c = lower(fold_width(*c));
	return l;
}

/* Second pass: the last character of each run of two or more. */
static dg_rc tails(const unsigned char *p, size_t n, tok_fn fn, void *ctx)
{
	size_t run = 0, i = 0, last = 0, llen = 0;
	dg_rc rc = DG_OK;
	while (i <= n && rc == DG_OK) {
		uint32_t c = ' ';
		size_t l = i < n ? next_cp(p, n, i, &c) : 1;
		if (i < n && is_cjk(c)) {
			run++;
			last = i;
			llen = l;
		} else {
			if (run >= 2)
				rc = fn(ctx, (const char *)p + last, llen, TOK_TAIL);
			run = 0;
		}
		i += l;
	}
	return rc;
}

dg_rc dg_search_scan(const char *text, size_t n, bool with_tails, tok_fn fn, void *ctx)
{
	const unsigned char *p = (const unsigned char *)text;
	struct scan s = {.fn = fn, .ctx = ctx};
	dg_rc rc = DG_OK;
	size_t i = 0;
	while (i < n && rc == DG_OK) {
		uint32_t c;
		size_t l = next_cp(p, n, i, &c);
		if (is_cjk(c)) {
			rc = end_word(&s);
			if (rc == DG_OK)
				rc = add_cjk(&s, text + i, l);
		} else {
			rc = end_run(&s);
			if (rc == DG_OK && is_word(c))
				add_word(&s, c);
			else if (rc == DG_OK)
				rc = end_word(&s);
		}
		i += l;
	}
	if (rc == DG_OK)
		rc = end_word(&s);
	if (rc == DG_OK)
		rc = end_run(&s);
	if (rc == DG_OK && with_tails)
		rc = tails(p, n, fn, ctx);
	return rc;
}

static dg_rc to_buf(void *ctx, const char *tok, size_t n, enum tok_kind kind)
{
	struct dg_buf *out = ctx;
	(void)kind;
	dg_rc rc = dg_buf_add(out, tok, n);
	return rc ? rc : dg_buf_addc(out, ' ');
}

dg_rc dg_search_tokensn(const char *text, size_t n, struct dg_buf *out)
{
	dg_rc rc = dg_buf_addc(out, ' ');
	return rc ? rc : dg_search_scan(text, n, true, to_buf, out);
}

dg_rc dg_search_tokens(const char *text, struct dg_buf *out)
{
	return dg_search_tokensn(text ? text : "", text ? strlen(text) : 0, out);
}
