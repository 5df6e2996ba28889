/*
 * fuzz_proxy.c - libFuzzer target for the trusted-proxy list and the
 * X-Forwarded-For walk (core/proxy.h). The input's first line is a
 * trusted list, the rest a header value. Whatever they hold: a list that
 * parses has at most DG_PROXY_MAX entries; the client found is text that
 * fits DG_ADDR_TEXT and is itself an address; from a peer that is not
 * trusted the header is never believed; and the client is the peer or an
 * address written in the header.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "core/proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool is_addr(const char *s)
{
	unsigned char b[16];
	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	memcpy(in, data, size);
	in[size] = '\0'; /* a header has no NUL: the text ends at the first one */
	char *nl = strchr(in, '\n');
	const char *xff = nl ? nl + 1 : NULL;
	if (nl)
		*nl = '\0';
	struct dg_proxies p;
	if (dg_proxies_parse(in, &p, NULL) != DG_OK) {
		if (p.n != 0)
			abort();
		p = (struct dg_proxies){0};
		if (dg_proxies_parse("127.0.0.1,10.0.0.0/8,::1", &p, NULL) != DG_OK)
			abort();
	}
	if (p.n > DG_PROXY_MAX)
		abort();
	static const char *const peers[] = {"127.0.0.1", "10.1.2.3", "::1", "192.0.2.1",
					    "2001:db8::1"};
	for (size_t i = 0; i < sizeof peers / sizeof peers[0]; i++) {
		char out[DG_ADDR_TEXT];
		const char *c = dg_proxies_client(&p, peers[i], xff, out);
		if (c != out || strnlen(out, DG_ADDR_TEXT) >= DG_ADDR_TEXT || !is_addr(out))
			abort();
		if (!dg_proxies_trusted(&p, peers[i]) && strcmp(out, peers[i]) != 0)
			abort();
		if (strcmp(out, peers[i]) != 0 && !(xff && strpbrk(xff, "0123456789abcdefABCDEF:")))
			abort();
	}
	free(in);
	return 0;
}
