/*
 * rand.c - random bytes and hex identifiers over libsodium's randombytes.
 */
#include "rand.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>

dg_rc dg_rand_init(void)
{
	return sodium_init() < 0 ? DG_EINTERNAL : DG_OK;
}

void dg_rand_bytes(void *p, size_t n)
{
	randombytes_buf(p, n);
}

void dg_rand_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[64];
	while (nbytes) {
		size_t n = nbytes < sizeof(b) ? nbytes : sizeof(b);
		randombytes_buf(b, n);
		for (size_t i = 0; i < n; i++) {
			*out++ = hex[b[i] >> 4];
			*out++ = hex[b[i] & 15];
		}
		nbytes -= n;
	}
	*out = '\0';
}

void dg_rand_id(char out[17])
{
	static const char hex[] = "0123456789abcdef";
	/* splitmix64: a bijection of the counter, so a thread never repeats an id
	 * in 2^64 calls; two threads' random starting points overlap only by chance */
	static _Thread_local uint64_t state;
	static _Thread_local bool seeded;
	if (!seeded) {
		randombytes_buf(&state, sizeof(state));
		seeded = true;
	}
	uint64_t z = (state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	for (int i = 15; i >= 0; i--, z >>= 4)
		out[i] = hex[z & 15];
	out[16] = '\0';
}
