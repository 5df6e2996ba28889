/*
 * cookie.h - the Cookie request header and Set-Cookie attributes.
 *
 * Parsing follows what browsers send (RFC 6265 section 5.4): "a=1; b=2",
 * spaces around pairs ignored, a value in double quotes has them removed.
 * Pairs that are malformed (no '=', an empty or non-token name, a value with
 * control bytes, ';' ',' '\\' or invalid UTF-8) are skipped, not fatal: one
 * bad cookie from another app on the same host must not lock a user out.
 * Duplicates are kept in order (dg_kvs_get returns the first, which browsers
 * send for the most specific path). Pairs past max are dropped.
 */
#ifndef DG_COOKIE_H
#define DG_COOKIE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "http/req.h"

#define DG_COOKIE_MAX 64

/* Append the cookies of header h (may be NULL) to out; names and values are arena copies. */
void dg_cookie_parse(const char *h, size_t max, struct dg_arena *a, struct dg_kvs *out);

/*
 * Append a Set-Cookie value: "name=value; Path=/; SameSite=Lax" plus
 * "; Max-Age=N" when max_age >= 0, "; HttpOnly", "; Secure". EINVAL when the
 * name is not a token or the value holds bytes a cookie cannot carry.
 */
dg_rc dg_cookie_format(struct dg_buf *b, const char *name, const char *value, long max_age,
		       bool http_only, bool secure) DG_MUST;

#endif
