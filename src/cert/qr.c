/*
 * qr.c - a QR code encoder (ISO/IEC 18004:2015), byte mode, level M.
 *
 * The steps follow the standard's order: pick the smallest version whose
 * data capacity holds the bytes; write mode, count, data, terminator and pad
 * codewords; split into blocks and add Reed-Solomon error correction over
 * GF(256) (polynomial x^8+x^4+x^3+x^2+1); interleave the blocks; draw the
 * function patterns (finders, separators, timing, alignment, dark module,
 * reserved format and version areas); place the codewords in the two-column
 * zigzag; then for each of the eight masks apply it, write the format bits
 * and score the penalty (runs, 2x2 blocks, finder-like patterns, dark/light
 * balance), keeping the lowest.
 *
 * Bounds: every loop runs over a symbol of at most 177x177 modules or over
 * at most 3706 codewords; input over DG_QR_MAX_BYTES is refused first.
 */
#include "cert/qr.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

/* Level M: error-correction codewords per block and number of blocks, by version. */
static const unsigned char ecc_per_block[41] = {
	0,  10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
	26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
};
static const unsigned char num_blocks[41] = {
	0,  1,  1,  1,  2,  2,  4,  4,  4,  5,  5,  5,  8,  9,  9,  10, 10, 11, 13, 14, 16,
	17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
};

#define MAX_CODEWORDS 3706 /* version 40 */
#define FORMAT_MASK 0x5412
#define ECL_M_BITS 0 /* level M is 00 in the format information */

/* Building state: the symbol and which modules belong to function patterns. */
struct qr_work {
	int size;
	unsigned char *m;  /* the out symbol's modules */
	unsigned char fn[DG_QR_MAX_SIZE * DG_QR_MAX_SIZE];
};

/* Modules left for data and error correction once function patterns are drawn. */
static int raw_data_modules(int ver)
{
	int n = (16 * ver + 128) * ver + 64;
	if (ver >= 2) {
		int align = ver / 7 + 2;
		n -= (25 * align - 10) * align - 55;
		if (ver >= 7)
			n -= 36; /* two version information blocks of 18 */
	}
	return n;
}

static int total_codewords(int ver)
{
	return raw_data_modules(ver) / 8;
}

static int data_codewords(int ver)
{
	return total_codewords(ver) - ecc_per_block[ver] * num_blocks[ver];
}

static int count_bits(int ver)
{
	return ver <= 9 ? 8 : 16;
}

/* ---- Reed-Solomon over GF(256) ------------------------------------------ */

static unsigned char gf_mul(unsigned char a, unsigned char b)
{
	unsigned r = 0;
	for (int i = 7; i >= 0; i--) {
		r = (r << 1) ^ ((r >> 7) * 0x11D);
		r ^= ((b >> i) & 1u) * a;
	}
	return (unsigned char)r;
}

/* Generator polynomial of the given degree (coefficients, highest first, leading 1 dropped). */
static void rs_generator(int degree, unsigned char *gen)
{
	memset(gen, 0, (size_t)degree);
	gen[degree - 1] = 1;
	unsigned char root = 1;
	for (int i = 0; i < degree; i++) {
		/* multiply by (x - root) */
		for (int j = 0; j < degree; j++) {
			gen[j] = gf_mul(gen[j], root);
			if (j + 1 < degree)
				gen[j] ^= gen[j + 1];
		}
		root = gf_mul(root, 0x02);
	}
}

/* The remainder of data(x) * x^degree divided by the generator. */
static void rs_remainder(const unsigned char *data, int n, const unsigned char *gen, int degree,
			 unsigned char *out)
{
	memset(out, 0, (size_t)degree);
	for (int i = 0; i < n; i++) {
		unsigned char factor = data[i] ^ out[0];
		memmove(out, out + 1, (size_t)degree - 1);
		out[degree - 1] = 0;
		for (int j = 0; j < degree; j++)
			out[j] ^= gf_mul(gen[j], factor);
	}
}

/* ---- codewords ------------------------------------------------------------ */

struct bits {
	unsigned char *p;
	int n; /* bits written */
};

static void put_bits(struct bits *b, unsigned val, int count)
{
	for (int i = count - 1; i >= 0; i--, b->n++)
		if ((val >> i) & 1u)
			b->p[b->n >> 3] |= (unsigned char)(0x80 >> (b->n & 7));
}

/* Data codewords of version ver for the bytes: mode, count, data, terminator, pads. */
static void make_data(const unsigned char *data, size_t n, int ver, unsigned char *cw)
{
	int cap = data_codewords(ver) * 8;
	struct bits b = {cw, 0};
	memset(cw, 0, (size_t)data_codewords(ver));
	put_bits(&b, 0x4, 4); /* byte mode */
	put_bits(&b, (unsigned)n, count_bits(ver));
	for (size_t i = 0; i < n; i++)
		put_bits(&b, data[i], 8);
	int term = cap - b.n < 4 ? cap - b.n : 4;
	put_bits(&b, 0, term);
	b.n = (b.n + 7) & ~7;
	for (unsigned pad = 0xEC; b.n < cap; pad ^= 0xEC ^ 0x11)
		put_bits(&b, pad, 8);
}

/* Split data codewords into blocks, add error correction, interleave into out. */
static void add_ecc(const unsigned char *data, int ver, unsigned char *out)
{
	int nb = num_blocks[ver], ecl = ecc_per_block[ver];
	int total = total_codewords(ver);
	int short_blocks = nb - total % nb;
	int short_len = total / nb; /* data + ecc of a short block */
	unsigned char gen[30], ecc[30];
	unsigned char *blocks = dg_xcalloc((size_t)nb, (size_t)short_len + 1);
	rs_generator(ecl, gen);
	for (int i = 0, k = 0; i < nb; i++) {
		int dlen = short_len - ecl + (i < short_blocks ? 0 : 1);
		unsigned char *blk = blocks + (size_t)i * (size_t)(short_len + 1);
		memcpy(blk, data + k, (size_t)dlen);
		rs_remainder(blk, dlen, gen, ecl, ecc);
		/* short blocks keep a gap before their ecc, so columns line up */
		memcpy(blk + short_len + 1 - ecl, ecc, (size_t)ecl);
		k += dlen;
	}
	int o = 0;
	for (int col = 0; col <= short_len; col++)
		for (int i = 0; i < nb; i++)
			if (col != short_len - ecl || i >= short_blocks)
				out[o++] = blocks[(size_t)i * (size_t)(short_len + 1) + (size_t)col];
	free(blocks);
}

/* ---- drawing -------------------------------------------------------------- */

static void set_fn(struct qr_work *w, int x, int y, int dark)
{
	w->m[y * w->size + x] = (unsigned char)(dark != 0);
	w->fn[y * w->size + x] = 1;
}

static void draw_finder(struct qr_work *w, int cx, int cy)
{
	for (int dy = -4; dy <= 4; dy++)
		for (int dx = -4; dx <= 4; dx++) {
			int x = cx + dx, y = cy + dy;
			if (x < 0 || y < 0 || x >= w->size || y >= w->size)
				continue;
			int d = abs(dx) > abs(dy) ? abs(dx) : abs(dy);
			set_fn(w, x, y, d != 2 && d != 4); /* rings: dark, light, dark 3x3; light separator */
		}
}

static void draw_alignment(struct qr_work *w, int cx, int cy)
{
	for (int dy = -2; dy <= 2; dy++)
		for (int dx = -2; dx <= 2; dx++) {
			int d = abs(dx) > abs(dy) ? abs(dx) : abs(dy);
			set_fn(w, cx + dx, cy + dy, d != 1);
		}
}

/* Centre coordinates of alignment patterns for ver; returns how many. */
static int alignment_positions(int ver, int size, int pos[7])
{
	if (ver == 1)
		return 0;
	int n = ver / 7 + 2;
	int step = ver == 32 ? 26 : (ver * 4 + n * 2 + 1) / (n * 2 - 2) * 2;
	pos[0] = 6;
	for (int i = n - 1, p = size - 7; i >= 1; i--, p -= step)
		pos[i] = p;
	return n;
}

/* Format bits for level M and mask: 5 data bits and a BCH(15,5) remainder, masked. */
static unsigned format_bits(int mask)
{
	unsigned data = (ECL_M_BITS << 3) | (unsigned)mask;
	unsigned rem = data;
	for (int i = 0; i < 10; i++)
		rem = (rem << 1) ^ ((rem >> 9) * 0x537);
	return ((data << 10) | rem) ^ FORMAT_MASK;
}

static void draw_format(struct qr_work *w, int mask)
{
	unsigned bits = format_bits(mask);
	int s = w->size;
	for (int i = 0; i <= 5; i++)
		set_fn(w, 8, i, (bits >> i) & 1);
	set_fn(w, 8, 7, (bits >> 6) & 1);
	set_fn(w, 8, 8, (bits >> 7) & 1);
	set_fn(w, 7, 8, (bits >> 8) & 1);
	for (int i = 9; i < 15; i++)
		set_fn(w, 14 - i, 8, (bits >> i) & 1);
	for (int i = 0; i < 8; i++)
		set_fn(w, s - 1 - i, 8, (bits >> i) & 1);
	for (int i = 8; i < 15; i++)
		set_fn(w, 8, s - 15 + i, (bits >> i) & 1);
	set_fn(w, 8, s - 8, 1); /* the dark module */
}

static void draw_version(struct qr_work *w, int ver)
{
	if (ver < 7)
		return;
	unsigned rem = (unsigned)ver;
	for (int i = 0; i < 12; i++)
		rem = (rem << 1) ^ ((rem >> 11) * 0x1F25);
	unsigned bits = ((unsigned)ver << 12) | rem;
	for (int i = 0; i < 18; i++) {
		int bit = (bits >> i) & 1;
		int a = w->size - 11 + i % 3, b = i / 3;
		set_fn(w, a, b, bit);
		set_fn(w, b, a, bit);
	}
}

static void draw_function_patterns(struct qr_work *w, int ver)
{
	int s = w->size, pos[7];
	for (int i = 0; i < s; i++) {
		set_fn(w, 6, i, i % 2 == 0);
		set_fn(w, i, 6, i % 2 == 0);
	}
	draw_finder(w, 3, 3);
	draw_finder(w, s - 4, 3);
	draw_finder(w, 3, s - 4);
	int n = alignment_positions(ver, s, pos);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			if (!((i == 0 && j == 0) || (i == 0 && j == n - 1) || (i == n - 1 && j == 0)))
				draw_alignment(w, pos[i], pos[j]);
	draw_format(w, 0); /* reserves the areas; rewritten for the chosen mask */
	draw_version(w, ver);
}

static void place_codewords(struct qr_work *w, const unsigned char *cw, int n)
{
	int s = w->size, i = 0;
	for (int right = s - 1; right >= 1; right -= 2) {
		if (right == 6)
			right = 5; /* the vertical timing pattern is skipped */
		bool upward = ((right + 1) & 2) == 0;
		for (int v = 0; v < s; v++)
			for (int j = 0; j < 2; j++) {
				int x = right - j, y = upward ? s - 1 - v : v;
				if (w->fn[y * s + x])
					continue;
				if (i < n * 8) {
					w->m[y * s + x] = (cw[i >> 3] >> (7 - (i & 7))) & 1;
					i++;
				} /* remainder bits stay light */
			}
	}
}

static bool mask_hit(int mask, int x, int y)
{
	switch (mask) {
	case 0: return (x + y) % 2 == 0;
	case 1: return y % 2 == 0;
	case 2: return x % 3 == 0;
	case 3: return (x + y) % 3 == 0;
	case 4: return (x / 3 + y / 2) % 2 == 0;
	case 5: return x * y % 2 + x * y % 3 == 0;
	case 6: return (x * y % 2 + x * y % 3) % 2 == 0;
	default: return ((x + y) % 2 + x * y % 3) % 2 == 0;
	}
}

/* XOR the mask over data modules (applying it twice undoes it). */
static void apply_mask(struct qr_work *w, int mask)
{
	for (int y = 0; y < w->size; y++)
		for (int x = 0; x < w->size; x++)
			if (!w->fn[y * w->size + x] && mask_hit(mask, x, y))
				w->m[y * w->size + x] ^= 1;
}

/* ---- penalty ------------------------------------------------------------- */

static unsigned char at(const struct qr_work *w, int x, int y, bool by_col)
{
	return by_col ? w->m[x * w->size + y] : w->m[y * w->size + x];
}

/* Rules 1 and 3 along rows (by_col false) or columns. */
static long line_penalty(const struct qr_work *w, bool by_col)
{
	static const unsigned char finder_a[11] = {1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0};
	static const unsigned char finder_b[11] = {0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1};
	long p = 0;
	int s = w->size;
	for (int y = 0; y < s; y++) {
		int run = 1;
		for (int x = 1; x <= s; x++) {
			if (x < s && at(w, x, y, by_col) == at(w, x - 1, y, by_col)) {
				run++;
				continue;
			}
			if (run >= 5)
				p += 3 + (run - 5);
			run = 1;
		}
		for (int x = 0; x + 11 <= s; x++) {
			bool a = true, b = true;
			for (int k = 0; k < 11 && (a || b); k++) {
				unsigned char c = at(w, x + k, y, by_col);
				a = a && c == finder_a[k];
				b = b && c == finder_b[k];
			}
			p += (a ? 40 : 0) + (b ? 40 : 0);
		}
	}
	return p;
}

static long penalty(const struct qr_work *w)
{
	int s = w->size;
	long p = line_penalty(w, false) + line_penalty(w, true);
	long dark = 0;
	for (int y = 0; y < s; y++)
		for (int x = 0; x < s; x++) {
			unsigned char c = w->m[y * s + x];
			dark += c;
			if (x + 1 < s && y + 1 < s && c == w->m[y * s + x + 1] &&
			    c == w->m[(y + 1) * s + x] && c == w->m[(y + 1) * s + x + 1])
				p += 3;
		}
	long total = (long)s * s;
	long diff = labs(dark * 100 - total * 50);
	p += 10 * (diff / (total * 5));
	return p;
}

/* ---- the encoder ---------------------------------------------------------- */

dg_rc dg_qr_encode(const void *data, size_t n, const struct dg_qr_opts *opts, struct dg_qr *out)
{
	int minv = opts && opts->min_version ? opts->min_version : 1;
	if (minv < 1 || minv > DG_QR_MAX_VERSION || (opts && opts->use_mask && (opts->mask < 0 || opts->mask > 7)))
		return DG_EINVAL;
	if (n > DG_QR_MAX_BYTES || (n > 0 && !data))
		return n > DG_QR_MAX_BYTES ? DG_ETOOBIG : DG_EINVAL;
	int ver = minv;
	while (ver <= DG_QR_MAX_VERSION && 4 + count_bits(ver) + 8 * (long)n > data_codewords(ver) * 8L)
		ver++;
	if (ver > DG_QR_MAX_VERSION)
		return DG_ETOOBIG;

	unsigned char *dcw = dg_xcalloc(MAX_CODEWORDS, 1), *all = dg_xcalloc(MAX_CODEWORDS, 1);
	struct qr_work *w = dg_xcalloc(1, sizeof(*w));
	make_data(data, n, ver, dcw);
	add_ecc(dcw, ver, all);

	memset(out, 0, sizeof(*out));
	out->version = ver;
	out->size = 17 + 4 * ver;
	w->size = out->size;
	w->m = out->m;
	draw_function_patterns(w, ver);
	place_codewords(w, all, total_codewords(ver));

	int best = opts && opts->use_mask ? opts->mask : -1;
	if (best < 0) {
		long best_p = 0;
		for (int mask = 0; mask < 8; mask++) {
			apply_mask(w, mask);
			draw_format(w, mask);
			long p = penalty(w);
			if (best < 0 || p < best_p) {
				best = mask;
				best_p = p;
			}
			apply_mask(w, mask);
		}
	}
	apply_mask(w, best);
	draw_format(w, best);
	out->mask = best;
	free(w);
	free(dcw);
	free(all);
	return DG_OK;
}

bool dg_qr_dark(const struct dg_qr *q, int x, int y)
{
	if (x < 0 || y < 0 || x >= q->size || y >= q->size)
		return false;
	return q->m[y * q->size + x] != 0;
}

dg_rc dg_qr_svg(const struct dg_qr *q, const char *label, int px, struct dg_buf *out)
{
	int full = q->size + 2 * DG_QR_QUIET;
	if (px <= 0)
		px = full * 4;
	dg_rc rc = dg_buf_addf(out,
			       "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
			       "height=\"%d\" role=\"img\" aria-labelledby=\"qr-title\"><title id=\"qr-title\">",
			       full, full, px, px);
	if (!rc)
		rc = dg_buf_add_html(out, label ? label : "", label ? strlen(label) : 0);
	if (!rc)
		rc = dg_buf_addf(out, "</title><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
				      "<path fill=\"#000\" shape-rendering=\"crispEdges\" d=\"",
				 full, full);
	/* one subpath per horizontal run of dark modules */
	for (int y = 0; y < q->size && !rc; y++)
		for (int x = 0; x < q->size && !rc;) {
			if (!dg_qr_dark(q, x, y)) {
				x++;
				continue;
			}
			int run = 1;
			while (dg_qr_dark(q, x + run, y))
				run++;
			rc = dg_buf_addf(out, "M%d %dh%dv1h-%dz", x + DG_QR_QUIET, y + DG_QR_QUIET, run, run);
			x += run;
		}
	if (!rc)
		rc = dg_buf_adds(out, "\"/></svg>");
	return rc;
}
