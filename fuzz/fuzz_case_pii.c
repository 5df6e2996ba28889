/*
 * fuzz_case_pii.c - libFuzzer target for the search for ID numbers and
 * mobile numbers in free text (src/cases/pii.c). The input is any text.
 * Beyond "no crash": what is sealed and shown in full again is the input
 * (with a lower-case check character 'x' written 'X'); and the masked text
 * holds no longer run of digits than the input did, with every sealed
 * identifier masked.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cases/internal.h"
#include "core/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as the text a person types: no NUL, and no token of our own in it. */
static char *as_text(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	if (!in)
		return NULL;
	memcpy(in, data, size);
	in[size] = 0;
	if (strlen(in) != size || strstr(in, "{pii:")) {
		free(in);
		return NULL;
	}
	return in;
}

static size_t longest_digits(const char *s)
{
	size_t best = 0, run = 0;
	for (; *s; s++) {
		run = *s >= '0' && *s <= '9' ? run + 1 : 0;
		best = run > best ? run : best;
	}
	return best;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dg_keys keys;
	char *in = as_text(data, size);
	if (!in)
		return 0;
	memset(&keys, 0x42, sizeof(keys));
	struct dg_arena *a = dg_arena_new();
	char *sealed = case_seal_text(&keys, a, in);
	char *full = case_show_text(&keys, a, sealed, 1);
	char *masked = case_show_text(&keys, a, sealed, 0);
	if (strlen(full) != size)
		abort();
	for (size_t i = 0; i < size; i++)
		if (full[i] != in[i] && !(in[i] == 'x' && full[i] == 'X'))
			abort();
	if (longest_digits(masked) > longest_digits(in))
		abort();
	dg_arena_free(a);
	free(in);
	return 0;
}
