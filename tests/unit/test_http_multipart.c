/*
 * test_http_multipart.c - the incremental multipart parser: the same result
 * for any chunking (one byte at a time, random splits), files streamed to
 * disk, the caps (ETOOBIG), a missing final boundary and malformed or
 * injected part headers (EINVAL).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/arena.h"
#include "http/multipart.h"

#define CT     "multipart/form-data; boundary=----dgovB0undary"
#define B      "----dgovB0undary"
#define B_PART "----dgovB0undar" /* a prefix of the boundary: data, not a delimiter */

static const char body[] = "preamble to ignore\r\n"
			   "--" B "\r\n"
			   "Content-Disposition: form-data; name=\"title\"\r\n"
			   "\r\n"
			   "办理 a+b\r\n--not the boundary\r\n"
			   "--" B "\r\n"
			   "content-disposition: form-data; name=\"doc\"; "
			   "filename=\"C:\\\\Users\\\\me\\\\证明.txt\"\r\n"
			   "Content-Type: text/plain\r\n"
			   "\r\n"
			   "line one\r\n\r\n--" B_PART "x\r\n"
			   "--" B "\r\n"
			   "Content-Disposition: form-data; name=\"empty\"\r\n"
			   "\r\n"
			   "\r\n"
			   "--" B "--\r\n"
			   "epilogue";

static const char file_content[] = "line one\r\n\r\n--" B_PART "x";

static char updir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(updir, sizeof(updir), "/tmp/dgov-mp-XXXXXX");
	return mkdtemp(updir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(updir);
}

static const struct dg_mp_limits lim = {1024, 4096, 16, 1024};

struct result {
	dg_rc rc;
	struct dg_kvs form;
	struct dg_upload *ups;
	size_t nups;
};

/* Feed body in pieces of the sizes produced by next(); finish. */
static struct result run(struct dg_arena *a, const char *ct, const char *p, size_t n,
			 const struct dg_mp_limits *l, size_t (*next)(size_t left))
{
	struct result res = {0};
	struct dg_mp *m = NULL;
	res.rc = dg_mp_new(ct, updir, l, a, &m);
	while (!res.rc && n) {
		size_t k = next(n);
		res.rc = dg_mp_feed(m, p, k);
		p += k;
		n -= k;
	}
	if (!res.rc)
		res.rc = dg_mp_finish(m, &res.form, &res.ups, &res.nups);
	return res;
}

static size_t whole(size_t left)
{
	return left;
}
static size_t one(size_t left)
{
	(void)left;
	return 1;
}
static size_t rnd(size_t left)
{
	size_t k = (size_t)(rand() % 40) + 1;
	return k < left ? k : left;
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char buf[8192];
	*n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return buf;
}

static void check_result(struct result *res)
{
	assert_int_equal(res->rc, DG_OK);
	assert_int_equal(res->form.n, 2);
	assert_string_equal(dg_kvs_get(&res->form, "title"), "办理 a+b\r\n--not the boundary");
	assert_string_equal(dg_kvs_get(&res->form, "empty"), "");
	assert_int_equal(res->nups, 1);
	assert_string_equal(res->ups[0].field, "doc");
	assert_string_equal(res->ups[0].filename, "证明.txt"); /* path components dropped */
	assert_string_equal(res->ups[0].content_type, "text/plain");
	assert_int_equal(res->ups[0].size, sizeof(file_content) - 1);
	size_t n;
	char *got = slurp(res->ups[0].path, &n);
	assert_int_equal(n, sizeof(file_content) - 1);
	assert_memory_equal(got, file_content, n);
}

static void any_chunking_same_result(void **state)
{
	(void)state;
	size_t (*splits[])(size_t) = {whole, one, rnd};
	srand(7);
	for (size_t s = 0; s < 3; s++) {
		for (int rep = 0; rep < (s == 2 ? 50 : 1); rep++) {
			struct dg_arena *a = dg_arena_new();
			struct result res = run(a, CT, body, sizeof(body) - 1, &lim, splits[s]);
			check_result(&res);
			char path[256];
			snprintf(path, sizeof(path), "%s", res.ups[0].path);
			dg_arena_free(a);
			assert_int_not_equal(access(path, F_OK), 0); /* deleted with the arena */
		}
	}
}

static void quoted_boundary_and_no_preamble(void **state)
{
	(void)state;
	struct dg_arena *a = dg_arena_new();
	const char *b = "--xyz\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--xyz--";
	struct result res = run(a, "Multipart/Form-Data; charset=utf-8; boundary=\"xyz\"", b,
				strlen(b), &lim, one);
	assert_int_equal(res.rc, DG_OK);
	assert_string_equal(dg_kvs_get(&res.form, "a"), "1");
	dg_arena_free(a);
}

static void bad_content_types(void **state)
{
	(void)state;
	struct dg_arena *a = dg_arena_new();
	struct dg_mp *m;
	assert_int_equal(dg_mp_new("multipart/form-data", updir, &lim, a, &m), DG_EINVAL);
	assert_int_equal(dg_mp_new("multipart/form-data; boundary=", updir, &lim, a, &m),
			 DG_EINVAL);
	assert_int_equal(dg_mp_new("text/plain; boundary=x", updir, &lim, a, &m), DG_EINVAL);
	assert_int_equal(
		dg_mp_new("multipart/form-data; boundary="
			  "12345678901234567890123456789012345678901234567890123456789012345678901",
			  updir, &lim, a, &m),
		DG_EINVAL);
	assert_int_equal(dg_mp_new(NULL, updir, &lim, a, &m), DG_EINVAL);
	dg_arena_free(a);
}

static void file_over_cap(void **state)
{
	(void)state;
	struct dg_mp_limits small = lim;
	small.max_file = 10;
	struct dg_arena *a = dg_arena_new();
	struct result res = run(a, CT, body, sizeof(body) - 1, &small, one);
	assert_int_equal(res.rc, DG_ETOOBIG);
	dg_arena_free(a);
	/* exactly at the cap is fine */
	small.max_file = sizeof(file_content) - 1;
	a = dg_arena_new();
	res = run(a, CT, body, sizeof(body) - 1, &small, rnd);
	check_result(&res);
	dg_arena_free(a);
}

static void field_and_parts_caps(void **state)
{
	(void)state;
	struct dg_mp_limits small = lim;
	small.max_field = 5;
	struct dg_arena *a = dg_arena_new();
	struct result res = run(a, CT, body, sizeof(body) - 1, &small, whole);
	assert_int_equal(res.rc, DG_ETOOBIG);
	dg_arena_free(a);
	small = lim;
	small.max_parts = 2;
	a = dg_arena_new();
	res = run(a, CT, body, sizeof(body) - 1, &small, whole);
	assert_int_equal(res.rc, DG_ETOOBIG);
	dg_arena_free(a);
	small = lim;
	small.max_header = 20;
	a = dg_arena_new();
	res = run(a, CT, body, sizeof(body) - 1, &small, one);
	assert_int_equal(res.rc, DG_ETOOBIG);
	dg_arena_free(a);
}

static void missing_final_boundary(void **state)
{
	(void)state;
	struct dg_arena *a = dg_arena_new();
	/* cut just before the closing "--" */
	const char *end = strstr(body, "--" B "--");
	struct result res = run(a, CT, body, (size_t)(end - body) + 2 + strlen(B), &lim, whole);
	assert_int_equal(res.rc, DG_EINVAL);
	dg_arena_free(a);
	a = dg_arena_new();
	res = run(a, CT, body, 30, &lim, one);
	assert_int_equal(res.rc, DG_EINVAL);
	dg_arena_free(a);
	a = dg_arena_new();
	res = run(a, CT, "", 0, &lim, one);
	assert_int_equal(res.rc, DG_EINVAL);
	dg_arena_free(a);
}

static dg_rc one_part(const char *headers, const char *value)
{
	char buf[2048];
	snprintf(buf, sizeof(buf), "--" B "\r\n%s\r\n\r\n%s\r\n--" B "--\r\n", headers, value);
	struct dg_arena *a = dg_arena_new();
	struct result res = run(a, CT, buf, strlen(buf), &lim, whole);
	dg_arena_free(a);
	return res.rc;
}

static void header_injection_and_malformed(void **state)
{
	(void)state;
	assert_int_equal(one_part("Content-Disposition: form-data; name=\"a\"", "ok"), DG_OK);
	/* a bare LF or CR cannot smuggle a second header */
	assert_int_equal(
		one_part("Content-Disposition: form-data; name=\"a\"\nContent-Type: x", "v"),
		DG_EINVAL);
	assert_int_equal(one_part("Content-Disposition: form-data; name=\"a\"\rX: y", "v"),
			 DG_EINVAL);
	/* a second disposition, a name given twice */
	assert_int_equal(one_part("Content-Disposition: form-data; name=\"a\"\r\n"
				  "Content-Disposition: form-data; name=\"admin\"",
				  "v"),
			 DG_EINVAL);
	assert_int_equal(one_part("Content-Disposition: form-data; name=\"a\"; name=\"b\"", "v"),
			 DG_EINVAL);
	/* no name, not form-data, no disposition at all, folded header */
	assert_int_equal(one_part("Content-Disposition: form-data", "v"), DG_EINVAL);
	assert_int_equal(one_part("Content-Disposition: attachment; name=\"a\"", "v"), DG_EINVAL);
	assert_int_equal(one_part("Content-Type: text/plain", "v"), DG_EINVAL);
	assert_int_equal(one_part("Content-Disposition: form-data;\r\n name=\"a\"", "v"),
			 DG_EINVAL);
	assert_int_equal(one_part("Content-Disposition: form-data; name=\"a", "v"), DG_EINVAL);
	/* the field value is checked: UTF-8, no NUL */
	assert_int_equal(one_part("Content-Disposition: form-data; name=\"a\"", "\xff"), DG_EINVAL);
	/* quoted-pair escapes in a name are undone, not left to confuse */
	struct dg_arena *a = dg_arena_new();
	const char *b = "--" B "\r\nContent-Disposition: form-data; name=\"x\\\"; filename=y\"\r\n"
			"\r\nv\r\n--" B "--";
	struct result res = run(a, CT, b, strlen(b), &lim, one);
	assert_int_equal(res.rc, DG_OK);
	assert_string_equal(dg_kvs_get(&res.form, "x\"; filename=y"), "v");
	assert_int_equal(res.nups, 0);
	dg_arena_free(a);
}

static void errors_are_sticky(void **state)
{
	(void)state;
	struct dg_arena *a = dg_arena_new();
	struct dg_mp *m;
	assert_int_equal(dg_mp_new(CT, updir, &lim, a, &m), DG_OK);
	const char *bad = "--" B "\r\nX: y\r\n\r\n";
	assert_int_equal(dg_mp_feed(m, bad, strlen(bad)), DG_EINVAL);
	assert_int_equal(dg_mp_feed(m, body, sizeof(body) - 1), DG_EINVAL);
	struct dg_kvs f = {0};
	struct dg_upload *u;
	size_t n;
	assert_int_equal(dg_mp_finish(m, &f, &u, &n), DG_EINVAL);
	assert_string_not_equal(dg_mp_error(m), "");
	dg_arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(any_chunking_same_result),
		cmocka_unit_test(quoted_boundary_and_no_preamble),
		cmocka_unit_test(bad_content_types),
		cmocka_unit_test(file_over_cap),
		cmocka_unit_test(field_and_parts_caps),
		cmocka_unit_test(missing_final_boundary),
		cmocka_unit_test(header_injection_and_malformed),
		cmocka_unit_test(errors_are_sticky),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
