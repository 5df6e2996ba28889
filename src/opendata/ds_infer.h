/*
 * ds_infer.h - strict column types and safe column names for datastore tables.
 *
 * Types: a column is int only when every non-empty value is a plain integer
 * (an optional minus, no leading zeros: "007" is a code and stays text),
 * numeric when every value is an integer or a decimal, date when every value
 * is a real calendar date YYYY-MM-DD, bool when every value is true/false;
 * anything else, and a column with no values at all, is text. Empty values
 * are NULLs and do not narrow a column.
 *
 * Names: headers become [a-z0-9_] identifiers of at most 48 bytes that start
 * with a letter (the original stays as the column's label); a header with no
 * ASCII letter or digit becomes col_<n>; duplicates get _2, _3, ...
 */
#ifndef DG_DS_INFER_H
#define DG_DS_INFER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

enum dg_ds_type { DG_DS_INT, DG_DS_NUMERIC, DG_DS_DATE, DG_DS_BOOL, DG_DS_TEXT };

#define DG_DS_NAME_MAX 49 /* 48 bytes and the NUL */

/* "int", "numeric", "date", "bool", "text" (never NULL). */
const char *dg_ds_type_name(enum dg_ds_type t);

/* Parse a type name (also the CKAN spellings int4/int8/float8/timestamp/
 * boolean); DG_EINVAL for anything else. */
dg_rc dg_ds_type_parse(const char *name, enum dg_ds_type *out) DG_MUST;

/* Whether the value (n bytes) is valid for a column of type t; the empty
 * string is NULL and valid for every type. */
bool dg_ds_value_ok(enum dg_ds_type t, const char *s, size_t n);

/* Inference over the rows of a file, one column mask per column. */
struct dg_ds_infer {
	size_t ncols;
	unsigned *mask; /* candidate types still possible, bit per dg_ds_type */
	bool *seen;	/* a non-empty value was seen */
};

void dg_ds_infer_init(struct dg_ds_infer *inf, size_t ncols);
void dg_ds_infer_release(struct dg_ds_infer *inf);
/* Narrow with one record; fields beyond ncols are ignored. */
void dg_ds_infer_add(struct dg_ds_infer *inf, size_t n, char *const *f, const size_t *len);
enum dg_ds_type dg_ds_infer_type(const struct dg_ds_infer *inf, size_t col);

/*
 * Safe names for n headers into names[i] (DG_DS_NAME_MAX bytes each),
 * deduplicated. Always succeeds.
 */
void dg_ds_names(size_t n, char *const *labels, char (*names)[DG_DS_NAME_MAX]);

/* Whether s is a name dg_ds_names could produce (for create's fields). */
bool dg_ds_name_ok(const char *s);

#endif
