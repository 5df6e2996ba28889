/*
 * form.h - application/x-www-form-urlencoded bodies and URL query strings.
 *
 * "a=1&b=x+y&c=%E4%B8%AD" becomes the pairs a:1, b:"x y", c:"中", in order;
 * repeated keys are kept (dg_kvs_get returns the first). '+' is a space,
 * %XX is a byte; a malformed escape, a NUL or invalid UTF-8 in a decoded key
 * or value is EINVAL. Empty segments ("a=1&&b=2") are skipped; a key without
 * '=' has the empty value; a pair with an empty key is skipped. Input longer
 * than max_bytes or with more than max_fields pairs is ETOOBIG.
 */
#ifndef DG_FORM_H
#define DG_FORM_H

#include <stddef.h>

#include "core/arena.h"
#include "core/err.h"
#include "http/req.h"

/* Limits for the query string of a request (the body has its own cap). */
#define DG_FORM_MAX_FIELDS 1000

/*
 * Parse the n bytes at p (need not be NUL-terminated) and append each pair to
 * out; keys and values are arena copies. On error out may hold the pairs
 * before the bad one.
 */
dg_rc dg_form_parse(const char *p, size_t n, size_t max_fields, size_t max_bytes,
		    struct dg_arena *a, struct dg_kvs *out) DG_MUST;

/*
 * Percent-decode n bytes of p into a new arena string ('+' as space when
 * plus_space); *len gets the decoded length. EINVAL on a bad escape, a NUL
 * or invalid UTF-8.
 */
dg_rc dg_form_decode(const char *p, size_t n, int plus_space, struct dg_arena *a, char **out,
		     size_t *len) DG_MUST;

#endif
