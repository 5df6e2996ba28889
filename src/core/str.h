/*
 * str.h - length+pointer string views for reading input without copying.
 *
 * A view borrows its bytes; it is valid as long as what it points into. Views
 * are not NUL-terminated; use dg_arena_strndup() for a C string.
 */
#ifndef DG_STR_H
#define DG_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct dg_str {
	const char *p;
	size_t n;
};

#define DG_STR(lit) ((struct dg_str){(lit), sizeof(lit) - 1})

struct dg_str dg_str_of(const char *s); /* s may be NULL -> empty view */
bool dg_str_eq(struct dg_str a, struct dg_str b);
bool dg_str_eqs(struct dg_str a, const char *s);
bool dg_str_case_eqs(struct dg_str a, const char *s); /* ASCII case-insensitive */
bool dg_str_starts(struct dg_str a, const char *prefix);
struct dg_str dg_str_trim(struct dg_str a); /* ASCII space and tab */

/*
 * Split at the first sep: *head gets what is before it, the return value what
 * is after. With no sep, *head is all of s and the rest is empty with p NULL.
 */
struct dg_str dg_str_cut(struct dg_str s, char sep, struct dg_str *head);

/* Decimal integer, whole view, optional leading '-'; EINVAL on anything else. */
dg_rc dg_str_to_i64(struct dg_str s, int64_t *out) DG_MUST;

/* True when the n bytes at p are well-formed UTF-8 with no NUL. */
bool dg_utf8_valid(const char *p, size_t n);
/* Number of code points in well-formed UTF-8. */
size_t dg_utf8_len(const char *p, size_t n);

/*
 * The n bytes of UTF-8 at p in Unicode's normalization form C (nfc.c, by
 * ICU's normalizer), so that text that looks the same is the same bytes:
 * into out (cap bytes, NUL-terminated), *len its length. At most
 * DG_NFC_MAX bytes in; EINVAL for text that is not UTF-8, ETOOBIG when
 * the result does not fit.
 */
#define DG_NFC_MAX 1024
dg_rc dg_utf8_nfc(const char *p, size_t n, char *out, size_t cap, size_t *len) DG_MUST;

/* Constant-time comparison of two equal-length byte strings. */
bool dg_ct_eq(const void *a, const void *b, size_t n);

#endif
