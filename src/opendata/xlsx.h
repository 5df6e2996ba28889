/*
 * xlsx.h - a one-sheet XLSX workbook written as a stream of rows.
 *
 * The file is a ZIP of the minimal OOXML parts (content types, package and
 * workbook relationships, workbook, one worksheet) with stored, uncompressed
 * entries and CRC-32 computed here. Cells are inline strings (t="inlineStr")
 * or numbers or booleans, so no shared-strings table has to be held in
 * memory: memory is constant whatever the number of rows. The sheet's entry
 * header is patched with its CRC and size when the workbook is closed, so
 * out must be a seekable file opened for writing at offset 0.
 *
 * Limits: ZIP without ZIP64, so the whole file stays under 4 GiB (closing
 * fails with DG_ETOOBIG past it); Excel's 1,048,576 rows and 16,384
 * columns a sheet (dg_xlsx_row fails with DG_ETOOBIG past them); a text
 * cell is cut at 32,767 bytes (on a UTF-8 boundary), Excel's cell limit.
 * Characters XML 1.0 cannot carry (C0 controls but tab, LF, CR) are dropped.
 */
#ifndef DG_XLSX_H
#define DG_XLSX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

struct dg_xlsx;

/* Start a workbook on out (borrowed; the caller closes it after dg_xlsx_close). */
dg_rc dg_xlsx_open(FILE *out, struct dg_xlsx **x) DG_MUST;

/* Rows: dg_xlsx_row starts the next one; cells follow left to right. */
dg_rc dg_xlsx_row(struct dg_xlsx *x) DG_MUST;
dg_rc dg_xlsx_text(struct dg_xlsx *x, const char *s) DG_MUST;
/* s must be a number as JSON writes it (digits, '-', '.', 'e'); else written as text. */
dg_rc dg_xlsx_number(struct dg_xlsx *x, const char *s) DG_MUST;
dg_rc dg_xlsx_bool(struct dg_xlsx *x, bool v) DG_MUST;
/* An empty cell (SQL NULL). */
void dg_xlsx_blank(struct dg_xlsx *x);

/* Finish the sheet and the ZIP directory; frees x whatever happens. */
dg_rc dg_xlsx_close(struct dg_xlsx *x) DG_MUST;
/* Free without finishing (after an error). NULL is a no-op. */
void dg_xlsx_free(struct dg_xlsx *x);

/* CRC-32 (ISO-HDLC, as ZIP and zlib use), continued from crc (0 to start). */
uint32_t dg_crc32(uint32_t crc, const void *p, size_t n);

#endif
