/*
 * csv.h - the one streaming CSV reader (RFC 4180): datastore loads and rule data.
 *
 * Reads a file a chunk at a time and hands out one record at a time: quoted
 * fields, doubled quotes, quoted newlines, CRLF or LF, a UTF-8 BOM skipped.
 * The first 64 KiB are sniffed: when they are not valid UTF-8 the whole file
 * is decoded as GB18030 (a superset of GBK) with iconv. Never holds more than
 * one record and one input chunk in memory; a field over max_field bytes or a
 * record over max_cols columns is DG_ETOOBIG with the line in the message.
 */
#ifndef DG_CORE_CSV_H
#define DG_CORE_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/err.h"

#define DG_CSV_MAX_FIELD (16u << 20)
#define DG_CSV_MAX_COLS  1000u

struct dg_csv;

/* One record, borrowed until the next call: field i is f[i] (NUL-terminated,
 * n[i] bytes, may contain NULs only if the input did). */
struct dg_csv_row {
	size_t ncols;
	char **f;
	size_t *n;
	long line; /* line number where the record starts (1-based) */
};

/*
 * Open a reader over fp (borrowed; the caller closes it after
 * dg_csv_free). max_field/max_cols of 0 take the defaults above.
 */
dg_rc dg_csv_open(FILE *fp, size_t max_field, size_t max_cols, struct dg_csv **out,
		  struct dg_err *err) DG_MUST;
void dg_csv_free(struct dg_csv *c);
/* Fields are separated by sep from the next record on (',' by default; '\t' for TSV). */
void dg_csv_set_sep(struct dg_csv *c, char sep);

/* Whether the input was decoded from GB18030 (after the first record). */
bool dg_csv_is_gb18030(const struct dg_csv *c);

/*
 * Next record into *row: DG_OK, DG_ENOTFOUND at the end of the input,
 * DG_ETOOBIG over a cap, DG_EINVAL on bad encoding or a stray quote,
 * DG_EIO on a read error. Blank lines are skipped.
 */
dg_rc dg_csv_next(struct dg_csv *c, struct dg_csv_row *row, struct dg_err *err) DG_MUST;

/* Whether a spreadsheet would read the text s as a formula: it starts with
 * = + - @ tab or CR (OWASP's list). */
bool dg_csv_formula_like(const char *s);

/*
 * Append s to b as one cell of a CSV file meant for spreadsheets: quoted,
 * quotes doubled, and a leading = + - @ tab or CR defused with a ' so a
 * spreadsheet does not read the cell as a formula; then "," or, for the
 * last cell of a record, CRLF. ETOOBIG past b's cap.
 */
dg_rc dg_csv_cell(struct dg_buf *b, const char *s, bool last) DG_MUST;

#endif
