/*
 * pdf.h - a printable one-page A4 PDF of a certificate, written by hand.
 *
 * Written with core/pdf.h: Chinese text in the non-embedded CJK font STSong-Light
 * (Adobe-GB1, encoding UniGB-UCS2-H, text as UTF-16BE hex strings, with a
 * ToUnicode map so it can be searched and copied); runs of ASCII use
 * Helvetica. The QR code is drawn as filled rectangles. Labels are printed
 * in both languages, as on a bilingual paper certificate.
 *
 * Limits: what does not fit above the QR code is cut, with a line pointing to
 * the verification page; characters outside the Basic Multilingual Plane
 * print as a full-width '?'.
 */
#ifndef DG_CERT_PDF_H
#define DG_CERT_PDF_H

#include <jansson.h>

#include "cert/qr.h"
#include "core/buf.h"
#include "core/err.h"

/* What the page shows; strings borrowed, UTF-8, "" for none. */
struct dg_cert_pdf {
	const char *region_zh, *region_en;
	const char *title_zh, *title_en;
	const char *holder_name;
	const char *item_code, *case_ref;
	const json_t *fields;                 /* label -> text, printed in order; may be NULL */
	const char *valid_from, *valid_until; /* YYYY-MM-DD; valid_until "" for no expiry */
	const char *dept_zh, *dept_en;
	const char *issued_on;             /* YYYY-MM-DD */
	const char *id, *url;              /* the certificate id and its verification address */
	const char *status_zh, *status_en; /* a banner ("已撤销", "Revoked"), "" when valid */
	const struct dg_qr *qr;            /* the code for url */
};

/* Append the whole PDF file to out; ETOOBIG when out's cap is reached. */
dg_rc dg_cert_pdf_write(const struct dg_cert_pdf *in, struct dg_buf *out) DG_MUST;

#endif
