/*
 * qr.h - QR codes (ISO/IEC 18004) for certificate verification links.
 *
 * Byte mode only, error correction level M (about 15% of the symbol may be
 * lost), versions 1 to 40, the mask of lowest penalty: libqrencode makes the
 * symbol (qr.c). The symbol is a square of modules, dark or light, without
 * its quiet zone; the SVG writer adds the four-module quiet zone.
 *
 * Limits: 1 to DG_QR_MAX_BYTES bytes of input (version 40-M); more is
 * DG_ETOOBIG, none is DG_EINVAL. A struct dg_qr is plain memory (about
 * 31 KiB): no release.
 */
#ifndef DG_QR_H
#define DG_QR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

#define DG_QR_MAX_VERSION 40
#define DG_QR_MAX_SIZE    (17 + 4 * DG_QR_MAX_VERSION) /* 177 modules */
#define DG_QR_MAX_BYTES   2331                         /* byte mode at 40-M */
#define DG_QR_QUIET       4                            /* light modules around the symbol */

struct dg_qr {
	int version;                                      /* 1..40 */
	int size;                                         /* 17 + 4 * version modules a side */
	unsigned char m[DG_QR_MAX_SIZE * DG_QR_MAX_SIZE]; /* row-major, 1 = dark */
};

/* Choices for tests; zero means "pick" (the smallest version that holds the data). */
struct dg_qr_opts {
	int min_version; /* 0 or 1..40 */
};

/*
 * Encode n bytes (any bytes, n >= 1) into out. opts may be NULL. ETOOBIG
 * when the data does not fit version 40-M, EINVAL for no data or bad opts.
 */
dg_rc dg_qr_encode(const void *data, size_t n, const struct dg_qr_opts *opts,
		   struct dg_qr *out) DG_MUST;

/* The module at column x, row y (0-based, inside the symbol); false outside. */
bool dg_qr_dark(const struct dg_qr *q, int x, int y);
/*
 * The next run of dark modules in row y at or after *x: its first module in
 * *x and its length returned; 0 once the row has none left. Both drawings
 * (SVG and the certificate's PDF) draw a run as one shape.
 */
int dg_qr_run(const struct dg_qr *q, int *x, int y);

/*
 * Append an SVG image of q to out: a white square with the quiet zone and
 * one path of dark modules (crisp edges), role="img" with label as its
 * accessible name (<title>, escaped). px is the width and height in pixels
 * written on the element (0: 4 pixels a module). ETOOBIG when out is full.
 */
dg_rc dg_qr_svg(const struct dg_qr *q, const char *label, int px, struct dg_buf *out) DG_MUST;

#endif
