/*
 * fuzz_form.c - libFuzzer target for the urlencoded parser (bodies and
 * query strings). Checks beyond "no crash": every value it accepts is
 * UTF-8 without NUL and its recorded length is the real one.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/str.h"
#include "http/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dg_arena *a = dg_arena_new();
	struct dg_kvs kv = {0};
	if (dg_form_parse((const char *)data, size, 64, 1 << 16, a, &kv) == DG_OK) {
		for (size_t i = 0; i < kv.n; i++) {
			if (!kv.v[i].key[0] || strlen(kv.v[i].val) != kv.v[i].len ||
			    !dg_utf8_valid(kv.v[i].val, kv.v[i].len) ||
			    !dg_utf8_valid(kv.v[i].key, strlen(kv.v[i].key)))
				abort();
		}
	}
	dg_arena_free(a);
	return 0;
}
