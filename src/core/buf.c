/*
 * buf.c - capped growable buffer and the escaping helpers that append to it.
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

void dg_buf_init(struct dg_buf *b, size_t max)
{
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->max = max ? max : DG_BUF_DEFAULT_MAX;
}

void dg_buf_release(struct dg_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
}

void dg_buf_reset(struct dg_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

char *dg_buf_take(struct dg_buf *b)
{
	char *p = b->ptr ? b->ptr : dg_xstrdup("");
	b->ptr = NULL;
	b->len = b->cap = 0;
	return p;
}

const char *dg_buf_str(const struct dg_buf *b)
{
	return b->ptr ? b->ptr : "";
}

/* Make room for n more bytes plus the NUL, doubling, never past max. */
static dg_rc grow(struct dg_buf *b, size_t n)
{
	if (n > b->max - b->len)
		return DG_ETOOBIG;
	size_t need = b->len + n + 1;
	if (need <= b->cap)
		return DG_OK;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	b->ptr = dg_xrealloc(b->ptr, cap);
	b->cap = cap;
	return DG_OK;
}

dg_rc dg_buf_add(struct dg_buf *b, const void *p, size_t n)
{
	dg_rc rc = grow(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->ptr + b->len, p, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return DG_OK;
}

dg_rc dg_buf_adds(struct dg_buf *b, const char *s)
{
	return dg_buf_add(b, s, strlen(s));
}

dg_rc dg_buf_addc(struct dg_buf *b, char c)
{
	return dg_buf_add(b, &c, 1);
}

dg_rc dg_buf_vaddf(struct dg_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return DG_EINVAL;
	dg_rc rc = grow(b, (size_t)n);
	if (rc)
		return rc;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return DG_OK;
}

dg_rc dg_buf_addf(struct dg_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	dg_rc rc = dg_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * The escapers copy runs of safe bytes in one call and escape the rest; on
 * ETOOBIG the buffer may hold a prefix of the escaped text, which callers
 * discard with the whole reply.
 */
dg_rc dg_buf_add_html(struct dg_buf *b, const char *s, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		const char *rep;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		dg_rc rc = dg_buf_add(b, s + start, i - start);
		if (!rc)
			rc = dg_buf_adds(b, rep);
		if (rc)
			return rc;
		start = i + 1;
	}
	return dg_buf_add(b, s + start, n - start);
}

dg_rc dg_buf_add_json_str(struct dg_buf *b, const char *s, size_t n)
{
	dg_rc rc = dg_buf_addc(b, '"');
	size_t start = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			esc[2] = '\0';
		} else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			/* < > & escaped too so JSON is safe inside a <script> block */
			snprintf(esc, sizeof(esc), "\\u%04x", c);
		} else {
			continue;
		}
		rc = dg_buf_add(b, s + start, i - start);
		if (!rc)
			rc = dg_buf_adds(b, esc);
		start = i + 1;
	}
	if (!rc)
		rc = dg_buf_add(b, s + start, n - start);
	if (!rc)
		rc = dg_buf_addc(b, '"');
	return rc;
}

dg_rc dg_buf_add_url(struct dg_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	dg_rc rc = DG_OK;
	for (size_t i = 0; i < n && !rc; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			rc = dg_buf_addc(b, (char)c);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			rc = dg_buf_add(b, e, 3);
		}
	}
	return rc;
}

dg_rc dg_buf_add_hex(struct dg_buf *b, const void *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = p;
	dg_rc rc = grow(b, n * 2);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		b->ptr[b->len++] = hex[u[i] >> 4];
		b->ptr[b->len++] = hex[u[i] & 15];
	}
	b->ptr[b->len] = '\0';
	return DG_OK;
}
