/*
 * xlsx.c - a streamed one-sheet XLSX over libxlsxwriter (contract and
 * limits in xlsx.h).
 *
 * What is ours: the sticky first error, the row and column cursor, text
 * made fit for a cell (controls dropped, cut at Excel's limit) and the count
 * of the sheet's XML, which decides ZIP64 at close and lets the caller cap
 * its output. libxlsxwriter does the XML, the escaping and the zip.
 */
#include "opendata/datastore/xlsx.h"

#include <stdlib.h>
#include <string.h>
#include <xlsxwriter.h>

#include "core/mem.h"

#define MAX_CELL_CHARS 32767u /* Excel's cell limit, in characters */
/* Markup around a row and a cell: "<row r=... spans=...>" and "<c r=... t=...><is><t ...>". */
#define ROW_XML  64u
#define CELL_XML 64u
/* Past this much sheet XML (less a margin for the fixed parts), zip with ZIP64. */
#define ZIP32_MAX (0xffffffffull - (1u << 20))
/* The workbook's creation time, fixed so the same rows give the same file: 2000-01-01. */
#define CREATED 946684800

struct dg_xlsx {
	lxw_workbook *wb;
	lxw_worksheet *ws;
	dg_rc rc;       /* sticky: the first error */
	uint32_t rows;  /* rows started */
	uint32_t col;   /* the next cell's column in the current row */
	uint64_t bytes; /* the sheet's XML so far, an upper bound */
	char *text;     /* a cell's text made fit, when it had to change */
	size_t cap;
};

static dg_rc rc_of(lxw_error e)
{
	if (e == LXW_NO_ERROR)
		return DG_OK;
	if (e == LXW_ERROR_WORKSHEET_INDEX_OUT_OF_RANGE)
		return DG_ETOOBIG;
	return DG_EIO;
}

static dg_rc fail(struct dg_xlsx *x, dg_rc rc)
{
	if (x->rc == DG_OK)
		x->rc = rc;
	return x->rc;
}

dg_rc dg_xlsx_open(const char *path, const char *tmpdir, struct dg_xlsx **xp)
{
	struct dg_xlsx *x = dg_xcalloc(1, sizeof *x);
	lxw_workbook_options o = {.constant_memory = LXW_TRUE, .tmpdir = (char *)tmpdir};
	lxw_doc_properties props = {.created = CREATED};
	*xp = NULL;
	x->wb = workbook_new_opt(path, &o);
	if (x->wb && workbook_set_properties(x->wb, &props) == LXW_NO_ERROR)
		x->ws = workbook_add_worksheet(x->wb, "data");
	if (!x->ws) {
		dg_xlsx_free(x);
		return DG_EIO;
	}
	*xp = x;
	return DG_OK;
}

dg_rc dg_xlsx_row(struct dg_xlsx *x)
{
	if (x->rc != DG_OK)
		return x->rc;
	if (x->rows >= LXW_ROW_MAX)
		return fail(x, DG_ETOOBIG);
	x->rows++;
	x->col = 0;
	x->bytes += ROW_XML;
	return DG_OK;
}

/* The next cell's column; ETOOBIG past the last one (or before the first row). */
static dg_rc cell(struct dg_xlsx *x, lxw_col_t *col)
{
	if (x->rc != DG_OK)
		return x->rc;
	if (x->rows == 0 || x->col >= LXW_COL_MAX)
		return fail(x, DG_ETOOBIG);
	*col = (lxw_col_t)x->col++;
	x->bytes += CELL_XML;
	return DG_OK;
}

void dg_xlsx_blank(struct dg_xlsx *x)
{
	if (x->col < LXW_COL_MAX)
		x->col++;
}

/*
 * s as a cell can hold it: C0 controls but tab, LF and CR dropped (libxlsxwriter
 * would write them as _xHHHH_ escapes), cut after MAX_CELL_CHARS characters.
 * Counts the escaped length into the sheet's bytes. s itself when it fits.
 */
static const char *fit(struct dg_xlsx *x, const char *s)
{
	size_t n = 0, chars = 0, keep = 0;
	bool changed = false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++) {
		bool lead = (*p & 0xc0) != 0x80;
		if (lead && chars == MAX_CELL_CHARS) {
			changed = true;
			break;
		}
		chars += lead;
		if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') {
			changed = true;
			continue;
		}
		keep++;
		x->bytes += *p == '&' ? 5 : *p == '<' || *p == '>' ? 4 : 1;
	}
	if (!changed)
		return s;
	if (keep + 1 > x->cap) {
		free(x->text);
		x->cap = keep + 1;
		x->text = dg_xmalloc(x->cap);
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r')
			x->text[k++] = (char)c;
	}
	x->text[k] = '\0';
	return x->text;
}

dg_rc dg_xlsx_text(struct dg_xlsx *x, const char *s)
{
	lxw_col_t col;
	if (cell(x, &col) != DG_OK)
		return x->rc;
	lxw_error e = worksheet_write_string(x->ws, x->rows - 1, col, fit(x, s), NULL);
	return e ? fail(x, rc_of(e)) : DG_OK;
}

dg_rc dg_xlsx_number(struct dg_xlsx *x, double v)
{
	lxw_col_t col;
	if (cell(x, &col) != DG_OK)
		return x->rc;
	x->bytes += 24;
	lxw_error e = worksheet_write_number(x->ws, x->rows - 1, col, v, NULL);
	return e ? fail(x, rc_of(e)) : DG_OK;
}

dg_rc dg_xlsx_bool(struct dg_xlsx *x, bool v)
{
	lxw_col_t col;
	if (cell(x, &col) != DG_OK)
		return x->rc;
	lxw_error e = worksheet_write_boolean(x->ws, x->rows - 1, col, v, NULL);
	return e ? fail(x, rc_of(e)) : DG_OK;
}

uint64_t dg_xlsx_bytes(const struct dg_xlsx *x)
{
	return x->bytes;
}

dg_rc dg_xlsx_close(struct dg_xlsx *x)
{
	dg_rc rc = x->rc;
	if (rc != DG_OK) {
		dg_xlsx_free(x);
		return rc;
	}
	/*
	 * The zip's format is chosen when the workbook is written, which is
	 * now: ZIP64 only for a sheet that needs it.
	 */
	if (x->bytes > ZIP32_MAX)
		x->wb->options.use_zip64 = LXW_TRUE;
	rc = rc_of(workbook_close(x->wb)); /* frees the workbook, written or not */
	free(x->text);
	free(x);
	return rc;
}

void dg_xlsx_free(struct dg_xlsx *x)
{
	if (!x)
		return;
	/* the worksheet's row file stays open unless the workbook is written: close it here */
	if (x->ws && x->ws->optimize_tmpfile) {
		fclose(x->ws->optimize_tmpfile);
		x->ws->optimize_tmpfile = NULL;
		x->ws->file = NULL;
	}
	if (x->wb)
		lxw_workbook_free(x->wb);
	free(x->text);
	free(x);
}
