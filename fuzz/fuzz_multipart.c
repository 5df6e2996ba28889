/*
 * fuzz_multipart.c - libFuzzer target for the multipart parser. The first
 * byte picks a chunk size, so splits are fuzzed too; the body is parsed
 * twice (whole and chunked) and both runs must agree on the outcome and on
 * every field. Uploads go to a private temporary folder, removed with the
 * arena.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "http/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void remove_dir(void)
{
	rmdir(dir);
}

static dg_rc run(const char *p, size_t n, size_t chunk, struct dg_arena *a, struct dg_kvs *form,
		 size_t *nups)
{
	static const struct dg_mp_limits lim = {4096, 4096, 32, 1024};
	struct dg_mp *m = NULL;
	struct dg_upload *ups = NULL;
	dg_rc rc = dg_mp_new("multipart/form-data; boundary=fz", dir, &lim, a, &m);
	for (size_t off = 0; !rc && off < n; off += chunk)
		rc = dg_mp_feed(m, p + off, n - off < chunk ? n - off : chunk);
	if (!rc)
		rc = dg_mp_finish(m, form, &ups, nups);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/dgov-fuzz-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		atexit(remove_dir);
	}
	if (size < 1)
		return 0;
	size_t chunk = (size_t)data[0] % 17 + 1;
	const char *p = (const char *)data + 1;
	size_t n = size - 1;
	struct dg_arena *a = dg_arena_new(), *b = dg_arena_new();
	struct dg_kvs f1 = {0}, f2 = {0};
	size_t u1 = 0, u2 = 0;
	dg_rc r1 = run(p, n, n ? n : 1, a, &f1, &u1);
	dg_rc r2 = run(p, n, chunk, b, &f2, &u2);
	if (r1 != r2)
		abort();
	if (!r1) {
		if (f1.n != f2.n || u1 != u2)
			abort();
		for (size_t i = 0; i < f1.n; i++)
			if (strcmp(f1.v[i].key, f2.v[i].key) || f1.v[i].len != f2.v[i].len ||
			    memcmp(f1.v[i].val, f2.v[i].val, f1.v[i].len))
				abort();
	}
	dg_arena_free(a);
	dg_arena_free(b);
	return 0;
}
