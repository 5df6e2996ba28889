/*
 * buf.h - capped, growable, NUL-terminated byte buffer.
 *
 * Invariants: ptr is NULL or points at len bytes followed by a NUL; len never
 * exceeds max. An append that would pass max appends nothing and returns
 * DG_ETOOBIG, so a buffer fed by input can never grow without bound. The
 * escaping helpers append already-escaped text for one output context each.
 * dg_buf_take() hands the bytes to the caller, who frees them with free().
 */
#ifndef DG_BUF_H
#define DG_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "err.h"

struct dg_buf {
	char *ptr;
	size_t len, cap, max;
};

#define DG_BUF_DEFAULT_MAX ((size_t)64 << 20)

void dg_buf_init(struct dg_buf *b, size_t max);
void dg_buf_release(struct dg_buf *b);
void dg_buf_reset(struct dg_buf *b);            /* len = 0, memory kept */
char *dg_buf_take(struct dg_buf *b);            /* never NULL; b is empty after */
const char *dg_buf_str(const struct dg_buf *b); /* "" when empty */

dg_rc dg_buf_add(struct dg_buf *b, const void *p, size_t n) DG_MUST;
dg_rc dg_buf_adds(struct dg_buf *b, const char *s) DG_MUST;
dg_rc dg_buf_addc(struct dg_buf *b, char c) DG_MUST;
dg_rc dg_buf_addf(struct dg_buf *b, const char *fmt, ...) DG_PRINTF(2, 3) DG_MUST;
dg_rc dg_buf_vaddf(struct dg_buf *b, const char *fmt, va_list ap) DG_PRINTF(2, 0) DG_MUST;

/* HTML text and attribute values: & < > " ' escaped. */
dg_rc dg_buf_add_html(struct dg_buf *b, const char *s, size_t n) DG_MUST;
/* A JSON string literal including the quotes; control and non-ASCII-safe. */
dg_rc dg_buf_add_json_str(struct dg_buf *b, const char *s, size_t n) DG_MUST;
/* Percent-encoding for a URL query value (RFC 3986 unreserved kept). */
dg_rc dg_buf_add_url(struct dg_buf *b, const char *s, size_t n) DG_MUST;
/* Lower-case hex of n bytes. */
dg_rc dg_buf_add_hex(struct dg_buf *b, const void *p, size_t n) DG_MUST;

#endif
