/*
 * rand.c - random bytes and hex identifiers over libsodium's randombytes.
 */
#include "rand.h"

#include <sodium.h>

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
