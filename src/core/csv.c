/*
 * csv.c - the one streaming CSV reader: datastore loads, registries and rule data.
 *
 * Two layers: an input layer that reads the file in 64 KiB chunks and, when
 * the first chunk is not valid UTF-8, decodes it from GB18030 with iconv;
 * and the RFC 4180 state machine in dg_csv_next (long, as parsers are),
 * which pulls bytes one at a time and builds one record in a reusable buffer.
 * Memory is bounded by the chunk sizes plus max_field times max_cols at worst;
 * in practice one record.
 */
#include "core/csv.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define RAW_SZ (64u << 10)
#define DEC_SZ (4 * RAW_SZ)

enum { ST_START, ST_PLAIN, ST_QUOTED, ST_QUOTE_SEEN };

struct dg_csv {
	FILE *fp;
	size_t max_field, max_cols;
	int sep; /* ',' or, for TSV, '\t' */
	/* raw bytes from the file: [rpos, rlen) not yet consumed */
	unsigned char *raw;
	size_t rpos, rlen;
	bool eof;
	/* GB18030 decoding: decoded bytes in dec [dpos, dlen) */
	iconv_t cd;
	bool gb;
	unsigned char *dec;
	size_t dpos, dlen;
	int unget; /* one byte pushed back, or -1 */
	long line;
	/* the current record */
	char *data;
	size_t len, cap;
	size_t *off, *n;
	char **f;
	size_t ncols, colcap;
};

static bool utf8_valid(const unsigned char *s, size_t n, bool allow_cut)
{
	size_t i = 0;
	while (i < n) {
		unsigned char ch = s[i];
		size_t k;
		if (ch < 0x80) {
			i++;
			continue;
		}
		if (ch >= 0xC2 && ch <= 0xDF)
			k = 1;
		else if (ch >= 0xE0 && ch <= 0xEF)
			k = 2;
		else if (ch >= 0xF0 && ch <= 0xF4)
			k = 3;
		else
			return false;
		if (i + k >= n)
			return allow_cut; /* a character cut at the chunk's end */
		for (size_t j = 1; j <= k; j++)
			if ((s[i + j] & 0xC0) != 0x80)
				return false;
		/* overlongs and surrogates */
		if (ch == 0xE0 && s[i + 1] < 0xA0)
			return false;
		if (ch == 0xED && s[i + 1] > 0x9F)
			return false;
		if (ch == 0xF0 && s[i + 1] < 0x90)
			return false;
		if (ch == 0xF4 && s[i + 1] > 0x8F)
			return false;
		i += k + 1;
	}
	return true;
}

static dg_rc fill_raw(struct dg_csv *c, struct dg_err *err)
{
	if (c->rpos > 0) {
		memmove(c->raw, c->raw + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos;
		c->rpos = 0;
	}
	if (c->eof || c->rlen == RAW_SZ)
		return DG_OK;
	size_t got = fread(c->raw + c->rlen, 1, RAW_SZ - c->rlen, c->fp);
	c->rlen += got;
	if (got == 0) {
		if (ferror(c->fp))
			return dg_err_set(err, DG_EIO, "The file could not be read");
		c->eof = true;
	}
	return DG_OK;
}

dg_rc dg_csv_open(FILE *fp, size_t max_field, size_t max_cols, struct dg_csv **out,
		  struct dg_err *err)
{
	struct dg_csv *c = dg_xcalloc(1, sizeof *c);
	dg_rc rc;
	c->fp = fp;
	c->max_field = max_field ? max_field : DG_CSV_MAX_FIELD;
	c->max_cols = max_cols ? max_cols : DG_CSV_MAX_COLS;
	c->raw = dg_xmalloc(RAW_SZ);
	c->cd = (iconv_t)-1;
	c->unget = -1;
	c->sep = ',';
	c->line = 1;
	*out = NULL;
	/* fread may return short counts on pipes: fill until full or EOF */
	while (!c->eof && c->rlen < RAW_SZ)
		if ((rc = fill_raw(c, err)) != DG_OK)
			goto fail;
	if (c->rlen >= 3 && memcmp(c->raw, "\xEF\xBB\xBF", 3) == 0)
		c->rpos = 3;
	if (!utf8_valid(c->raw + c->rpos, c->rlen - c->rpos, !c->eof)) {
		c->cd = iconv_open("UTF-8", "GB18030");
		if (c->cd == (iconv_t)-1) {
			rc = dg_err_set(err, DG_EUNAVAIL, "GB18030 decoding is not available");
			goto fail;
		}
		c->gb = true;
		c->dec = dg_xmalloc(DEC_SZ);
	}
	*out = c;
	return DG_OK;
fail:
	dg_csv_free(c);
	return rc;
}

void dg_csv_set_sep(struct dg_csv *c, char sep)
{
	c->sep = (unsigned char)sep;
}

void dg_csv_free(struct dg_csv *c)
{
	if (!c)
		return;
	if (c->cd != (iconv_t)-1)
		iconv_close(c->cd);
	free(c->raw);
	free(c->dec);
	free(c->data);
	free(c->off);
	free(c->n);
	free(c->f);
	free(c);
}

bool dg_csv_is_gb18030(const struct dg_csv *c)
{
	return c->gb;
}

/* Decode more GB18030 into dec; DG_ENOTFOUND when the input is exhausted. */
static dg_rc fill_dec(struct dg_csv *c, struct dg_err *err)
{
	dg_rc rc;
	c->dpos = c->dlen = 0;
	for (;;) {
		if (c->rpos == c->rlen || !c->eof)
			if ((rc = fill_raw(c, err)) != DG_OK)
				return rc;
		if (c->rpos == c->rlen)
			return DG_ENOTFOUND;
		char *in = (char *)c->raw + c->rpos, *outp = (char *)c->dec;
		size_t inleft = c->rlen - c->rpos, outleft = DEC_SZ;
		size_t r = iconv(c->cd, &in, &inleft, &outp, &outleft);
		int e = errno;
		c->rpos = c->rlen - inleft;
		c->dlen = DEC_SZ - outleft;
		if (r == (size_t)-1 && e == EILSEQ)
			return dg_err_set(err, DG_EINVAL,
					  "Line %ld: the file is neither UTF-8 nor GB18030 text",
					  c->line);
		if (r == (size_t)-1 && e == EINVAL && c->eof && c->dlen == 0)
			return dg_err_set(err, DG_EINVAL,
					  "The file ends in the middle of a character");
		if (c->dlen > 0)
			return DG_OK;
	}
}

/* Next byte of text, -1 at the end; -2 with err set on failure. */
static int getbyte(struct dg_csv *c, struct dg_err *err)
{
	if (c->unget >= 0) {
		int ch = c->unget;
		c->unget = -1;
		return ch;
	}
	if (c->gb) {
		if (c->dpos == c->dlen) {
			dg_rc rc = fill_dec(c, err);
			if (rc == DG_ENOTFOUND)
				return -1;
			if (rc != DG_OK)
				return -2;
		}
		return c->dec[c->dpos++];
	}
	if (c->rpos == c->rlen) {
		if (fill_raw(c, err) != DG_OK)
			return -2;
		if (c->rpos == c->rlen)
			return -1;
	}
	return c->raw[c->rpos++];
}

static dg_rc add_byte(struct dg_csv *c, int ch, struct dg_err *err)
{
	size_t start = c->off[c->ncols];
	if (c->len - start >= c->max_field)
		return dg_err_set(err, DG_ETOOBIG,
				  "Line %ld, column %zu: a field is over %zu bytes", c->line,
				  c->ncols + 1, c->max_field);
	if (c->len + 2 > c->cap) {
		c->cap = c->cap ? c->cap * 2 : 4096;
		c->data = dg_xrealloc(c->data, c->cap);
	}
	c->data[c->len++] = (char)ch;
	return DG_OK;
}

static dg_rc end_field(struct dg_csv *c, struct dg_err *err)
{
	size_t start = c->off[c->ncols];
	if (!c->gb && !utf8_valid((unsigned char *)c->data + start, c->len - start, false))
		return dg_err_set(err, DG_EINVAL,
				  "Line %ld, column %zu: the text is not valid UTF-8", c->line,
				  c->ncols + 1);
	c->n[c->ncols] = c->len - start;
	c->data[c->len++] = '\0';
	c->ncols++;
	if (c->ncols >= c->max_cols + 1)
		return dg_err_set(err, DG_ETOOBIG, "Line %ld: more than %zu columns", c->line,
				  c->max_cols);
	if (c->ncols + 1 > c->colcap) {
		c->colcap = c->colcap ? c->colcap * 2 : 64;
		c->off = dg_xrealloc(c->off, c->colcap * sizeof *c->off);
		c->n = dg_xrealloc(c->n, c->colcap * sizeof *c->n);
		c->f = dg_xrealloc(c->f, c->colcap * sizeof *c->f);
	}
	c->off[c->ncols] = c->len;
	if (c->len + 2 > c->cap) {
		c->cap = c->cap ? c->cap * 2 : 4096;
		c->data = dg_xrealloc(c->data, c->cap);
	}
	return DG_OK;
}

/* After a '\r' outside quotes: swallow a following '\n'. */
static void eat_lf(struct dg_csv *c, struct dg_err *err)
{
	int ch = getbyte(c, err);
	if (ch >= 0 && ch != '\n')
		c->unget = ch;
}

/* The record state machine: one byte per iteration, bounded by the caps. */
dg_rc dg_csv_next(struct dg_csv *c, struct dg_csv_row *row, struct dg_err *err)
{
	dg_rc rc;
	int st = ST_START;
	long qline = 0;
	int nl = 0;
	if (c->colcap == 0) {
		c->colcap = 64;
		c->off = dg_xmalloc(c->colcap * sizeof *c->off);
		c->n = dg_xmalloc(c->colcap * sizeof *c->n);
		c->f = dg_xmalloc(c->colcap * sizeof *c->f);
	}
	if (c->cap == 0) {
		c->cap = 4096;
		c->data = dg_xmalloc(c->cap);
	}
restart:
	c->len = 0;
	c->ncols = 0;
	c->off[0] = 0;
	row->line = c->line;
	for (;;) {
		int ch = getbyte(c, err);
		if (ch == -2)
			return err && err->rc ? err->rc : DG_EIO;
		if (ch == -1) {
			if (st == ST_QUOTED)
				return dg_err_set(err, DG_EINVAL,
						  "Line %ld: a quoted field is never closed",
						  qline);
			if (st == ST_START && c->ncols == 0)
				return DG_ENOTFOUND;
			break;
		}
		switch (st) {
		case ST_START:
		case ST_PLAIN:
			if (ch == '"' && st == ST_START) {
				st = ST_QUOTED;
				qline = c->line;
				continue;
			}
			if (ch == c->sep) {
				if ((rc = end_field(c, err)) != DG_OK)
					return rc;
				st = ST_START;
				continue;
			}
			if (ch == '\r' || ch == '\n') {
				if (ch == '\r')
					eat_lf(c, err);
				if (st == ST_START && c->ncols == 0) {
					c->line++;
					goto restart; /* blank line */
				}
				nl = 1;
				goto done;
			}
			if ((rc = add_byte(c, ch, err)) != DG_OK)
				return rc;
			st = ST_PLAIN;
			continue;
		case ST_QUOTED:
			if (ch == '"') {
				st = ST_QUOTE_SEEN;
				continue;
			}
			if (ch == '\n')
				c->line++;
			if ((rc = add_byte(c, ch, err)) != DG_OK)
				return rc;
			continue;
		case ST_QUOTE_SEEN:
			if (ch == '"') {
				if ((rc = add_byte(c, ch, err)) != DG_OK)
					return rc;
				st = ST_QUOTED;
				continue;
			}
			if (ch == c->sep) {
				if ((rc = end_field(c, err)) != DG_OK)
					return rc;
				st = ST_START;
				continue;
			}
			if (ch == '\r' || ch == '\n') {
				if (ch == '\r')
					eat_lf(c, err);
				nl = 1;
				goto done;
			}
			return dg_err_set(err, DG_EINVAL,
					  "Line %ld, column %zu: text after a closing quote",
					  c->line, c->ncols + 1);
		}
	}
done:
	if ((rc = end_field(c, err)) != DG_OK)
		return rc;
	c->line += nl;
	for (size_t i = 0; i < c->ncols; i++)
		c->f[i] = c->data + c->off[i];
	row->ncols = c->ncols;
	row->f = c->f;
	row->n = c->n;
	return DG_OK;
}

bool dg_csv_formula_like(const char *s)
{
	return s && *s && strchr("=+-@\t\r", *s) != NULL;
}

dg_rc dg_csv_cell(struct dg_buf *b, const char *s, bool last)
{
	dg_rc rc = dg_buf_addc(b, '"');
	if (!rc && dg_csv_formula_like(s))
		rc = dg_buf_addc(b, '\'');
	for (const char *p = s; !rc && *p; p++)
		rc = *p == '"' ? dg_buf_adds(b, "\"\"") : dg_buf_addc(b, *p);
	if (!rc)
		rc = dg_buf_adds(b, last ? "\"\r\n" : "\",");
	return rc;
}
