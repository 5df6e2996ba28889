/*
 * qr.c - QR codes for certificate verification links: libqrencode makes
 * the symbol (byte mode, level M, the smallest version that holds the
 * bytes, the mask of lowest penalty); dgov keeps the module matrix, the SVG
 * writer, and the PDF drawing that reads it (pdf.c).
 *
 * Bounds: a symbol is at most 177x177 modules; input over DG_QR_MAX_BYTES
 * is refused before libqrencode sees it.
 */
#include "cert/qr.h"

#include <errno.h>
#include <qrencode.h>
#include <string.h>

dg_rc dg_qr_encode(const void *data, size_t n, const struct dg_qr_opts *opts, struct dg_qr *out)
{
	int min = opts ? opts->min_version : 0;
	if (min < 0 || min > DG_QR_MAX_VERSION)
		return DG_EINVAL;
	if (n > DG_QR_MAX_BYTES)
		return DG_ETOOBIG;
	if (n == 0)
		return DG_EINVAL;
	errno = 0;
	QRcode *q = QRcode_encodeData((int)n, data, min, QR_ECLEVEL_M);
	if (!q)
		return errno == ERANGE ? DG_ETOOBIG : DG_EINTERNAL;
	dg_rc rc = DG_OK;
	if (q->version < 1 || q->version > DG_QR_MAX_VERSION || q->width != 17 + 4 * q->version) {
		rc = DG_EINTERNAL;
		goto out;
	}
	out->version = q->version;
	out->size = q->width;
	/* libqrencode's modules: bit 0 is dark; the other bits say what the module is */
	for (int i = 0; i < q->width * q->width; i++)
		out->m[i] = q->data[i] & 1;
out:
	QRcode_free(q);
	return rc;
}

bool dg_qr_dark(const struct dg_qr *q, int x, int y)
{
	if (x < 0 || y < 0 || x >= q->size || y >= q->size)
		return false;
	return q->m[y * q->size + x] != 0;
}

int dg_qr_run(const struct dg_qr *q, int *x, int y)
{
	while (*x < q->size && !dg_qr_dark(q, *x, y))
		(*x)++;
	int run = 0;
	while (dg_qr_dark(q, *x + run, y))
		run++;
	return run;
}

dg_rc dg_qr_svg(const struct dg_qr *q, const char *label, int px, struct dg_buf *out)
{
	int full = q->size + 2 * DG_QR_QUIET;
	if (px <= 0)
		px = full * 4;
	dg_rc rc = dg_buf_addf(
		out,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		"height=\"%d\" role=\"img\" aria-labelledby=\"qr-title\"><title id=\"qr-title\">",
		full, full, px, px);
	if (!rc)
		rc = dg_buf_add_html(out, label ? label : "", label ? strlen(label) : 0);
	if (!rc)
		rc = dg_buf_addf(out,
				 "</title><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
				 "<path fill=\"#000\" shape-rendering=\"crispEdges\" d=\"",
				 full, full);
	/* one subpath per horizontal run of dark modules */
	for (int y = 0; y < q->size && !rc; y++)
		for (int x = 0, run; !rc && (run = dg_qr_run(q, &x, y)) > 0; x += run)
			rc = dg_buf_addf(out, "M%d %dh%dv1h-%dz", x + DG_QR_QUIET, y + DG_QR_QUIET,
					 run, run);
	if (!rc)
		rc = dg_buf_adds(out, "\"/></svg>");
	return rc;
}
