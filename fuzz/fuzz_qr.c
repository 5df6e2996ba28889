/*
 * fuzz_qr.c - libFuzzer target for the QR codes (libqrencode behind
 * dg_qr_encode). Any bytes either encode or are refused by the size cap; beyond "no crash": the
 * version is the smallest that holds them, the symbol's size matches its version, the three finder
 * patterns are in place, and the SVG writer finishes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cert/qr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The 7x7 finder whose top-left module is (x, y): dark ring, light ring, dark core. */
static int finder_ok(const struct dg_qr *q, int x, int y)
{
	for (int dy = 0; dy < 7; dy++)
		for (int dx = 0; dx < 7; dx++) {
			int ring = abs(dx - 3) > abs(dy - 3) ? abs(dx - 3) : abs(dy - 3);
			if (dg_qr_dark(q, x + dx, y + dy) != (ring != 2))
				return 0;
		}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dg_qr q;
	struct dg_qr_opts o = {0};
	/* the first byte, when there is one, may force a minimum version */
	if (size > 0 && (data[0] & 0x80))
		o.min_version = 1 + (data[0] & 0x3f) % DG_QR_MAX_VERSION;
	dg_rc rc = dg_qr_encode(data, size, &o, &q);
	if (size == 0) {
		if (rc != DG_EINVAL)
			abort();
		return 0;
	}
	if (size > DG_QR_MAX_BYTES) {
		if (rc != DG_ETOOBIG)
			abort();
		return 0;
	}
	if (rc != DG_OK || q.size != 17 + 4 * q.version)
		abort();
	if (!finder_ok(&q, 0, 0) || !finder_ok(&q, q.size - 7, 0) || !finder_ok(&q, 0, q.size - 7))
		abort();
	if (q.version > (o.min_version > 1 ? o.min_version : 1)) {
		/* one version smaller must not have held it */
		struct dg_qr_opts smaller = {.min_version = q.version - 1};
		static struct dg_qr q2;
		if (dg_qr_encode(data, size, &smaller, &q2) != DG_OK || q2.version != q.version)
			abort();
	}
	struct dg_buf b;
	dg_buf_init(&b, 4u << 20);
	if (dg_qr_svg(&q, "fuzz", 0, &b) != DG_OK)
		abort();
	dg_buf_release(&b);
	return 0;
}
