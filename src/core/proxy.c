/*
 * proxy.c - trusted reverse proxies and X-Forwarded-For (see proxy.h).
 *
 * Both the setting and the header are parsed from views into bounded
 * stack copies: an address is at most DG_ADDR_TEXT bytes of text, a list
 * at most DG_PROXY_MAX entries, a header walk at most DG_PROXY_HOPS
 * entries, whatever the input's length.
 */
#include "proxy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "str.h"

/* Bytes of text one address (with brackets, a port or a prefix) may take. */
#define ENTRY_MAX 64

/* IPv4 written as IPv6 (::ffff:a.b.c.d): the IPv4 address. */
static void unmap(struct dg_net *a)
{
	static const unsigned char prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (a->v6 && memcmp(a->addr, prefix, 12) == 0) {
		memmove(a->addr, a->addr + 12, 4);
		memset(a->addr + 4, 0, 12);
		a->v6 = 0;
		a->bits = a->bits >= 96 ? (unsigned char)(a->bits - 96) : 0;
	}
}

/* One address of n bytes of text into *a (bits: the whole address). */
static bool addr_parse(const char *s, size_t n, struct dg_net *a)
{
	char buf[ENTRY_MAX];
	if (n == 0 || n >= sizeof buf)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(a, 0, sizeof *a);
	if (inet_pton(AF_INET, buf, a->addr) == 1) {
		a->bits = 32;
		return true;
	}
	if (inet_pton(AF_INET6, buf, a->addr) == 1) {
		a->v6 = 1;
		a->bits = 128;
		unmap(a);
		return true;
	}
	return false;
}

static bool net_has(const struct dg_net *net, const struct dg_net *a)
{
	if (net->v6 != a->v6)
		return false;
	size_t whole = net->bits / 8u, rest = net->bits % 8u;
	if (memcmp(net->addr, a->addr, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xffu << (8u - rest));
	return (net->addr[whole] & mask) == (a->addr[whole] & mask);
}

static bool listed(const struct dg_proxies *p, const struct dg_net *a)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (net_has(&p->nets[i], a))
			return true;
	return false;
}

/* An entry of the setting: an address, or a network "address/bits". */
static bool net_parse(struct dg_str e, struct dg_net *net)
{
	const char *slash = memchr(e.p, '/', e.n);
	size_t alen = slash ? (size_t)(slash - e.p) : e.n;
	if (!addr_parse(e.p, alen, net))
		return false;
	if (!slash)
		return true;
	int64_t bits = 0;
	struct dg_str b = {slash + 1, e.n - alen - 1};
	unsigned max = net->bits;
	/* the prefix of an IPv4 address written as IPv6 counts over 128 bits */
	bool mapped = max == 32 && memchr(e.p, ':', alen) != NULL;
	if (mapped)
		max = 128;
	if (b.n == 0 || b.p[0] == '-' || dg_str_to_i64(b, &bits) || bits > (int64_t)max)
		return false;
	if (mapped)
		bits = bits >= 96 ? bits - 96 : 0;
	net->bits = (unsigned char)bits;
	/* host bits set below the prefix are a mistake worth refusing */
	for (unsigned i = net->bits; i < (net->v6 ? 128u : 32u); i++)
		if (net->addr[i / 8] & (0x80u >> (i % 8)))
			return false;
	return true;
}

static struct dg_str trim(struct dg_str s)
{
	while (s.n && (s.p[0] == ' ' || s.p[0] == '\t'))
		s.p++, s.n--;
	while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
		s.n--;
	return s;
}

dg_rc dg_proxies_parse(const char *list, struct dg_proxies *out, struct dg_err *err)
{
	memset(out, 0, sizeof *out);
	const char *p = list ? list : "";
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		struct dg_str e = trim((struct dg_str){p, n});
		p += n + (comma ? 1 : 0);
		if (e.n == 0)
			continue;
		struct dg_net net;
		if (out->n == DG_PROXY_MAX || !net_parse(e, &net)) {
			int shown = e.n > ENTRY_MAX ? ENTRY_MAX : (int)e.n;
			bool full = out->n == DG_PROXY_MAX;
			memset(out, 0, sizeof *out);
			return full ? dg_err_set(err, DG_EINVAL, "at most %d trusted proxies",
						 DG_PROXY_MAX)
				    : dg_err_set(err, DG_EINVAL,
						 "trusted proxy '%.*s' is not an address or network"
						 " (a.b.c.d, a.b.c.d/n, an IPv6 address or one "
						 "with /n)",
						 shown, e.p);
		}
		out->nets[out->n++] = net;
	}
	return DG_OK;
}

bool dg_proxies_trusted(const struct dg_proxies *p, const char *addr)
{
	struct dg_net a;
	return addr && addr_parse(addr, strlen(addr), &a) && listed(p, &a);
}

/*
 * One X-Forwarded-For entry as an address: bare, "[v6]" or "[v6]:port",
 * or "a.b.c.d:port" (some proxies add the port).
 */
static bool hop_parse(struct dg_str e, struct dg_net *a)
{
	if (e.n && e.p[0] == '[') {
		const char *close = memchr(e.p, ']', e.n);
		return close && addr_parse(e.p + 1, (size_t)(close - e.p - 1), a);
	}
	const char *colon = memchr(e.p, ':', e.n);
	if (colon && !memchr(colon + 1, ':', e.n - (size_t)(colon - e.p) - 1))
		return addr_parse(e.p, (size_t)(colon - e.p), a) && !a->v6;
	return addr_parse(e.p, e.n, a);
}

static const char *text_of(const struct dg_net *a, char out[DG_ADDR_TEXT])
{
	if (!inet_ntop(a->v6 ? AF_INET6 : AF_INET, a->addr, out, DG_ADDR_TEXT))
		out[0] = '\0';
	return out;
}

const char *dg_proxies_client(const struct dg_proxies *p, const char *peer, const char *xff,
			      char out[DG_ADDR_TEXT])
{
	struct dg_net a, hop;
	if (!peer || !addr_parse(peer, strlen(peer), &a)) {
		size_t n = peer ? strnlen(peer, DG_ADDR_TEXT - 1) : 0;
		memcpy(out, peer ? peer : "", n);
		out[n] = '\0';
		return out;
	}
	if (!xff || !listed(p, &a))
		return text_of(&a, out);
	/* right to left: the first hop not trusted is the client */
	struct dg_net client = a;
	size_t end = strlen(xff);
	for (int hops = 0; hops < DG_PROXY_HOPS; hops++) {
		size_t start = end;
		while (start > 0 && xff[start - 1] != ',')
			start--;
		struct dg_str e = trim((struct dg_str){xff + start, end - start});
		if (e.n) {
			if (!hop_parse(e, &hop))
				return text_of(&a, out);
			client = hop;
			if (!listed(p, &hop))
				return text_of(&client, out);
		}
		if (start == 0) /* every hop trusted: the left-most */
			return text_of(&client, out);
		end = start - 1;
	}
	/* more hops than anyone needs: nothing in them can be relied on */
	return text_of(&a, out);
}

const char *dg_addr_key(const char *addr, char out[DG_ADDR_TEXT])
{
	struct dg_net a;
	if (!addr || !addr_parse(addr, strlen(addr), &a)) {
		size_t n = addr ? strnlen(addr, DG_ADDR_TEXT - 1) : 0;
		memmove(out, addr ? addr : "", n); /* out may be addr */
		out[n] = '\0';
		return out;
	}
	if (!a.v6)
		return text_of(&a, out);
	/* one IPv6 host is given a /64 to pick addresses from: the /64 is the client */
	memset(a.addr + 8, 0, 8);
	char net[DG_ADDR_TEXT];
	text_of(&a, net);
	snprintf(out, DG_ADDR_TEXT, "%s/64", net);
	return out;
}
