/*
 * xlsx.h - a one-sheet XLSX workbook written as a stream of rows, over
 * libxlsxwriter (xlsx.c).
 *
 * libxlsxwriter runs in its constant-memory mode: a row is written to a
 * temporary file (in tmpdir) as soon as the next one starts, so memory is
 * one row whatever the number of rows, and the parts are deflated into the
 * workbook at path when it is closed. Cells are inline strings, numbers or
 * booleans; an empty cell is left out. The workbook's creation time is
 * fixed, so the same rows give the same file.
 *
 * Limits: Excel's 1,048,576 rows and 16,384 columns a sheet (dg_xlsx_row
 * and the cells fail with DG_ETOOBIG past them); a text cell is cut at
 * 32,767 characters (Excel's cell limit, on a character boundary).
 * Characters XML 1.0 cannot carry (C0 controls but tab, LF, CR) are
 * dropped. No size cap here: a sheet whose XML may pass 4 GiB is zipped
 * with ZIP64 (only then, as some readers warn about ZIP64); the caller caps
 * what it writes with dg_xlsx_bytes.
 */
#ifndef DG_XLSX_H
#define DG_XLSX_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct dg_xlsx;

/*
 * Start a workbook to be written at path (created or replaced by
 * dg_xlsx_close) with its temporary files in tmpdir (NULL: the system's).
 * EIO when the temporary file cannot be made.
 */
dg_rc dg_xlsx_open(const char *path, const char *tmpdir, struct dg_xlsx **x) DG_MUST;

/* Rows: dg_xlsx_row starts the next one; cells follow left to right. */
dg_rc dg_xlsx_row(struct dg_xlsx *x) DG_MUST;
dg_rc dg_xlsx_text(struct dg_xlsx *x, const char *s) DG_MUST;
dg_rc dg_xlsx_number(struct dg_xlsx *x, double v) DG_MUST;
dg_rc dg_xlsx_bool(struct dg_xlsx *x, bool v) DG_MUST;
/* An empty cell (SQL NULL). */
void dg_xlsx_blank(struct dg_xlsx *x);

/* The sheet's XML written so far, in bytes (an upper bound, for the caller's cap). */
uint64_t dg_xlsx_bytes(const struct dg_xlsx *x);

/* Finish the sheet and write the workbook at path; frees x whatever happens. */
dg_rc dg_xlsx_close(struct dg_xlsx *x) DG_MUST;
/* Free without writing the workbook (after an error). NULL is a no-op. */
void dg_xlsx_free(struct dg_xlsx *x);

#endif
