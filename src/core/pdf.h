/*
 * pdf.h - small PDF 1.4 files written by hand: A4 pages of text in Chinese
 * and English, lines and rectangles, nothing embedded or compressed.
 *
 * Chinese text uses the standard non-embedded CJK font STSong-Light
 * (Adobe-GB1, encoding UniGB-UCS2-H, text as UTF-16BE hex strings, with a
 * ToUnicode map so it can be searched and copied); runs of ASCII use
 * Helvetica. A caller draws each page's content stream with dg_pdf_text and
 * PDF operators of its own, then dg_pdf_write wraps the pages in a file.
 * Widths are estimated (CJK 1 em, ASCII from Helvetica's metrics) to centre
 * and wrap text. Characters outside the Basic Multilingual Plane print as a
 * full-width '?'.
 *
 * Users: the certificate (cert/pdf.c) and the catalogue's blank forms
 * (catalog/blank.c).
 */
#ifndef DG_CORE_PDF_H
#define DG_CORE_PDF_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

#define DG_PDF_PAGE_W    595.28 /* A4, in points */
#define DG_PDF_PAGE_H    841.89
#define DG_PDF_LINE      640 /* bytes of one wrapped line, with its NUL */
#define DG_PDF_MAX_PAGES 32

/* The width of s in points at size. */
double dg_pdf_text_width(const char *s, double size);

/* Append one line of text at (x, y) (the baseline's start) to a page's content. */
dg_rc dg_pdf_text(struct dg_buf *cs, double x, double y, double size, const char *s) DG_MUST;

/* One line centred on the page, shrunk to max_w points when wider. */
dg_rc dg_pdf_centered(struct dg_buf *cs, double y, double size, double max_w,
		      const char *s) DG_MUST;

/*
 * Split s into at most max lines of at most width points, breaking after a
 * space where there is one. Returns the number of lines (at least 1); the
 * last one ends in "..." when text was left over.
 */
int dg_pdf_wrap(const char *s, double size, double width, char (*lines)[DG_PDF_LINE], int max);

/*
 * Append the whole file to out: npages A4 pages whose content streams are
 * pages[0..npages-1] (1 to DG_PDF_MAX_PAGES), and the document's title and
 * subject (UTF-8, may be ""). ETOOBIG when out's cap is reached, EINVAL for
 * a page count out of range.
 */
dg_rc dg_pdf_write(const struct dg_buf *pages, int npages, const char *title, const char *subject,
		   struct dg_buf *out) DG_MUST;

#endif
