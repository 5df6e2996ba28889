/*
 * test_cert_qr.c - the QR codes of src/cert/qr.c, checked by decoding:
 * each symbol is written as a PGM image (4 pixels a module, quiet zone
 * included) and read back with zbarimg (Debian's zbar-tools), which must
 * return exactly the bytes that went in. Covers many lengths, every version
 * from 1 to 40, UTF-8 text, the capacity limits of the
 * versions, refusal over the cap, the SVG's shape and accessible name, and
 * its path drawn back into modules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cert/qr.h"
#include "core/buf.h"

#define SCALE 4

static char dir[] = "/tmp/dgov-qr-XXXXXX";

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	if (system("command -v zbarimg >/dev/null 2>&1") != 0) {
		fprintf(stderr, "zbarimg is missing: scripts/deps.sh test installs zbar-tools\n");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Write q as a binary PGM, SCALE pixels a module, with the quiet zone. */
static void write_pgm(const struct dg_qr *q, const char *path)
{
	int full = q->size + 2 * DG_QR_QUIET, px = full * SCALE;
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fprintf(f, "P5\n%d %d\n255\n", px, px);
	for (int y = 0; y < px; y++)
		for (int x = 0; x < px; x++) {
			int mx = x / SCALE - DG_QR_QUIET, my = y / SCALE - DG_QR_QUIET;
			fputc(dg_qr_dark(q, mx, my) ? 0 : 255, f);
		}
	assert_int_equal(fclose(f), 0);
}

/* Decode q with zbarimg; the text read (malloc'd), without the final newline. */
static char *decode(const struct dg_qr *q, size_t *len)
{
	char path[128], cmd[256];
	snprintf(path, sizeof(path), "%s/qr.pgm", dir);
	write_pgm(q, path);
	snprintf(cmd, sizeof(cmd), "zbarimg --raw -q -Sbinary %s 2>/dev/null", path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t cap = 8192, n = 0;
	char *out = malloc(cap);
	assert_non_null(out);
	size_t got;
	while ((got = fread(out + n, 1, cap - n, p)) > 0) {
		n += got;
		assert_true(n < cap);
	}
	pclose(p);
	*len = n;
	out[n] = '\0';
	return out;
}

static void round_trip(const char *data, size_t n, const struct dg_qr_opts *o, int want_version)
{
	struct dg_qr *q = malloc(sizeof(*q));
	assert_non_null(q);
	assert_int_equal(dg_qr_encode(data, n, o, q), DG_OK);
	if (want_version)
		assert_int_equal(q->version, want_version);
	assert_int_equal(q->size, 17 + 4 * q->version);
	size_t len = 0;
	char *got = decode(q, &len);
	if (len != n || memcmp(got, data, n) != 0)
		fail_msg("version %d, %zu bytes: zbarimg read %zu bytes \"%.60s\"", q->version, n,
			 len, got);
	free(got);
	free(q);
}

/* Deterministic printable text of n bytes. */
static char *text_of(size_t n, unsigned seed)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/:?=&";
	char *s = malloc(n + 1);
	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		s[i] = abc[(seed >> 16) % (sizeof(abc) - 1)];
	}
	s[n] = '\0';
	return s;
}

static void urls_and_lengths_decode(void **state)
{
	(void)state;
	const char *url = "https://gov.example.cn/certificates/CERT-ABCDEFGHJKMNPQRSTVWX";
	round_trip(url, strlen(url), NULL, 4);
	const char *local = "http://127.0.0.1:8080/certificates/CERT-22222222222222222222";
	round_trip(local, strlen(local), NULL, 0);
	static const size_t lens[] = {1,    7,    14,   15,   26,   42,   43,   62,   84,
				      106,  122,  154,  180,  213,  251,  287,  331,  362,
				      412,  450,  504,  560,  624,  666,  711,  779,  857,
				      911,  997,  1059, 1125, 1190, 1264, 1370, 1452, 1538,
				      1628, 1722, 1809, 1911, 1989, 2099, 2213, 2331};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		char *s = text_of(lens[i], (unsigned)i + 1);
		round_trip(s, lens[i], NULL, 0);
		free(s);
	}
}

static void utf8_text_decodes(void **state)
{
	(void)state;
	const char *zh = "电子证照核验：高龄津贴核定通知书 "
			 "https://gov.example.cn/certificates/CERT-ABCDEFGHJKMNPQRSTVWX";
	round_trip(zh, strlen(zh), NULL, 0);
}

static void every_version_decodes(void **state)
{
	(void)state;
	const char *url = "https://gov.example.cn/certificates/CERT-ABCDEFGHJKMNPQRSTVWX";
	for (int v = 1; v <= DG_QR_MAX_VERSION; v++) {
		struct dg_qr_opts o = {.min_version = v};
		if (v < 4) {
			char *s = text_of(10, (unsigned)v);
			round_trip(s, 10, &o, v);
			free(s);
		} else {
			round_trip(url, strlen(url), &o, v);
		}
	}
}

/* The smallest version that holds n bytes at level M, at each boundary. */
static void versions_are_the_smallest(void **state)
{
	(void)state;
	static const struct {
		size_t n;
		int v;
	} cases[] = {{1, 1},  {14, 1}, {15, 2}, {26, 2},   {27, 3},   {42, 3},
		     {43, 4}, {62, 4}, {63, 5}, {213, 10}, {214, 11}, {2331, 40}};
	struct dg_qr *q = malloc(sizeof(*q));
	assert_non_null(q);
	char *s = text_of(2400, 7);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(dg_qr_encode(s, cases[i].n, NULL, q), DG_OK);
		assert_int_equal(q->version, cases[i].v);
	}
	assert_int_equal(dg_qr_encode(s, 2332, NULL, q), DG_ETOOBIG);
	assert_int_equal(dg_qr_encode(s, 100000, NULL, q), DG_ETOOBIG);
	struct dg_qr_opts bad = {.min_version = 41};
	assert_int_equal(dg_qr_encode(s, 3, &bad, q), DG_EINVAL);
	assert_int_equal(dg_qr_encode(s, 0, NULL, q), DG_EINVAL); /* nothing to encode */
	/* a forced minimum version that cannot hold the data moves up */
	struct dg_qr_opts v2 = {.min_version = 2};
	assert_int_equal(dg_qr_encode(s, 100, &v2, q), DG_OK);
	assert_int_equal(q->version, 6);
	free(s);
	free(q);
}

static void svg_is_accessible_and_crisp(void **state)
{
	(void)state;
	struct dg_qr *q = malloc(sizeof(*q));
	assert_non_null(q);
	assert_int_equal(dg_qr_encode("hello", 5, NULL, q), DG_OK);
	struct dg_buf b;
	dg_buf_init(&b, 1 << 20);
	assert_int_equal(dg_qr_svg(q, "核验 <证照> & \"码\"", 0, &b), DG_OK);
	const char *s = dg_buf_str(&b);
	assert_non_null(strstr(s, "viewBox=\"0 0 29 29\""));
	assert_non_null(strstr(s, "width=\"116\""));
	assert_non_null(strstr(s, "role=\"img\""));
	assert_non_null(
		strstr(s, "<title id=\"qr-title\">核验 &lt;证照&gt; &amp; &quot;码&quot;</title>"));
	assert_non_null(strstr(s, "shape-rendering=\"crispEdges\""));
	/* the top-left finder's first row: seven dark modules after the quiet zone */
	assert_non_null(strstr(s, "M4 4h7v1h-7z"));
	assert_int_equal(strncmp(s + b.len - 6, "</svg>", 6), 0);
	/* a buffer too small says so */
	struct dg_buf small;
	dg_buf_init(&small, 200);
	assert_int_equal(dg_qr_svg(q, "x", 100, &small), DG_ETOOBIG);
	dg_buf_release(&small);
	dg_buf_release(&b);
	free(q);
}

/*
 * The SVG's path drawn back into modules equals the symbol module for
 * module, and each of its runs is whole: no two runs of a row touch.
 */
static void svg_path_is_the_symbol(void **state)
{
	(void)state;
	struct dg_qr *q = malloc(sizeof(*q));
	assert_non_null(q);
	const char *text = "https://dgov.example/certificates/CERT-0123456789ABCDEFGHIJ";
	assert_int_equal(dg_qr_encode(text, strlen(text), NULL, q), DG_OK);
	int full = q->size + 2 * DG_QR_QUIET;
	unsigned char *drawn = calloc((size_t)full * (size_t)full, 1);
	assert_non_null(drawn);
	struct dg_buf b;
	dg_buf_init(&b, 1 << 20);
	assert_int_equal(dg_qr_svg(q, "x", 0, &b), DG_OK);
	const char *p = strstr(dg_buf_str(&b), " d=\"");
	assert_non_null(p);
	p += 4;
	int x, y, run, run2, used, last_y = -1, last_end = -1;
	while (sscanf(p, "M%d %dh%dv1h-%dz%n", &x, &y, &run, &run2, &used) == 4) {
		assert_int_equal(run, run2);
		assert_true(run > 0 && x >= DG_QR_QUIET && x + run <= DG_QR_QUIET + q->size);
		/* a run starts after the last one of its row ended, with a gap */
		assert_true(y > last_y || x > last_end);
		for (int i = 0; i < run; i++)
			drawn[y * full + x + i] = 1;
		last_y = y;
		last_end = x + run;
		p += used;
	}
	assert_int_equal(*p, '"');
	for (int r = 0; r < full; r++)
		for (int c = 0; c < full; c++)
			assert_int_equal(drawn[r * full + c],
					 dg_qr_dark(q, c - DG_QR_QUIET, r - DG_QR_QUIET));
	/* past the last run of a row there is none */
	int at = q->size;
	assert_int_equal(dg_qr_run(q, &at, 0), 0);
	dg_buf_release(&b);
	free(drawn);
	free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(urls_and_lengths_decode),
		cmocka_unit_test(utf8_text_decodes),
		cmocka_unit_test(every_version_decodes),
		cmocka_unit_test(versions_are_the_smallest),
		cmocka_unit_test(svg_is_accessible_and_crisp),
		cmocka_unit_test(svg_path_is_the_symbol),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
