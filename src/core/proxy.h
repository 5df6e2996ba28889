/*
 * proxy.h - which client a request is from when it came through reverse
 * proxies this node trusts (proxy.c).
 *
 * The trusted list is a node setting (--trusted-proxy, DGOV_TRUSTED_PROXY):
 * comma-separated addresses and networks, IPv4 or IPv6, a network written
 * with its prefix length ("127.0.0.1,10.0.0.0/8,::1,fd00::/8"). Only when
 * the peer of the connection is on that list is X-Forwarded-For read; then
 * the client is its right-most address that is not itself trusted (each
 * proxy appends the address it saw, so entries left of it could have been
 * written by anyone). When every entry is trusted, the left-most one is the
 * client. A peer that is not trusted, a header that is missing or empty, or
 * an entry that is not an address, and the peer is the client.
 *
 * Addresses are returned in their canonical text (inet_ntop), an IPv4
 * address written as IPv6 ("::ffff:1.2.3.4") as IPv4, so one client never
 * counts as two. Nothing here allocates; the list is a fixed array that a
 * configuration can hold by value.
 */
#ifndef DG_PROXY_H
#define DG_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define DG_PROXY_MAX  32 /* entries in a trusted list */
#define DG_PROXY_HOPS 64 /* X-Forwarded-For entries looked at, right to left */
#define DG_ADDR_TEXT  46 /* an address as text, with its NUL (INET6_ADDRSTRLEN) */

struct dg_net {
	unsigned char addr[16]; /* network bytes; IPv4 in the first 4 */
	unsigned char v6;       /* 1 for IPv6 */
	unsigned char bits;     /* prefix length: up to 32 or 128 */
};

struct dg_proxies {
	size_t n;
	struct dg_net nets[DG_PROXY_MAX];
};

/*
 * Parse list (NULL or "" is the empty list) into *out. EINVAL with a
 * message naming the bad entry (err may be NULL); *out is then empty.
 */
dg_rc dg_proxies_parse(const char *list, struct dg_proxies *out, struct dg_err *err) DG_MUST;

/* Whether addr (text) is on the list; false for text that is not an address. */
bool dg_proxies_trusted(const struct dg_proxies *p, const char *addr);

/*
 * The client of a request from peer (text) with the X-Forwarded-For value
 * xff (NULL when absent), as above, written into out. Returns out; out is
 * peer as given when peer is not an address.
 */
const char *dg_proxies_client(const struct dg_proxies *p, const char *peer, const char *xff,
			      char out[DG_ADDR_TEXT]);

/*
 * The key that per-address limits count by, written into out: an IPv4
 * address as canonical text, an IPv6 address as its /64 network
 * ("2001:db8:1:2::/64", since one host is given a whole /64 to pick
 * addresses from). Text that is not an address is copied (cut to fit).
 * out may be addr itself.
 */
const char *dg_addr_key(const char *addr, char out[DG_ADDR_TEXT]);

#endif
