/*
 * fuzz_cookie.c - libFuzzer target for the Cookie header parser. Every
 * cookie it keeps must be one dg_cookie_format would also write, so what
 * is read can always be set back without splitting a header.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "http/cookie.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dg_arena *a = dg_arena_new();
	char *h = dg_arena_strndup(a, (const char *)data, size); /* a header has no NUL */
	struct dg_kvs kv = {0};
	dg_cookie_parse(h, DG_COOKIE_MAX, a, &kv);
	if (kv.n > DG_COOKIE_MAX)
		abort();
	struct dg_buf b;
	dg_buf_init(&b, 1 << 20);
	for (size_t i = 0; i < kv.n; i++) {
		dg_buf_reset(&b);
		if (dg_cookie_format(&b, kv.v[i].key, kv.v[i].val, -1, true, true) != DG_OK)
			abort();
		if (strchr(dg_buf_str(&b), '\r') || strchr(dg_buf_str(&b), '\n'))
			abort();
	}
	dg_buf_release(&b);
	dg_arena_free(a);
	return 0;
}
