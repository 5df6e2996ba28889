/*
 * guard.h - so that one client cannot hold every connection (guard.c).
 *
 * The guard sees every connection libmicrohttpd opens and closes, and the
 * phases of the requests on it, and enforces:
 *
 *   - at most per_addr open connections from one address (the proxies the
 *     node trusts are not capped: every client behind them shares their
 *     address);
 *   - a reserve: once fewer than `reserve` of max_conn connections are
 *     free, only addresses that hold none get one, so a newcomer still
 *     gets in while one client holds many;
 *   - a deadline for a request's headers: header_timeout seconds from the
 *     connection's opening or the end of its previous request (a client
 *     that trickles its headers a byte at a time is cut off as surely as
 *     one that sends nothing);
 *   - a floor for a body's speed: after header_timeout seconds, a body must
 *     have averaged min_body_rate bytes a second since its headers.
 *
 * A connection past its deadline is shut down by the guard's own thread
 * (shutdown(2): libmicrohttpd then sees the peer gone and closes it as it
 * would any other). Nothing is stored per request; the table holds one
 * small entry per open connection, at most max_conn of them.
 */
#ifndef DG_HTTP_GUARD_H
#define DG_HTTP_GUARD_H

#include <microhttpd.h>
#include <stddef.h>
#include <sys/socket.h>

#include "core/err.h"
#include "core/proxy.h"

struct dg_guard_opts {
	unsigned max_conn;                /* open connections in all */
	unsigned per_addr;                /* from one address; 0: no cap */
	unsigned reserve;                 /* the last this many only for addresses holding none */
	unsigned header_timeout;          /* seconds */
	unsigned min_body_rate;           /* bytes a second; 0: no floor */
	const struct dg_proxies *trusted; /* not capped; NULL: none (borrowed) */
};

struct dg_guard;

/* Start the guard and its watch thread; EIO when the thread cannot start. */
dg_rc dg_guard_new(const struct dg_guard_opts *o, struct dg_guard **out) DG_MUST;
/* Stop the watch thread (before MHD_stop_daemon). */
void dg_guard_stop(struct dg_guard *g);
/* Free the table (after MHD_stop_daemon has closed every connection). */
void dg_guard_free(struct dg_guard *g);

/* libmicrohttpd's accept policy (MHD_AcceptPolicyCallback); cls is the guard. */
enum MHD_Result dg_guard_accept(void *cls, const struct sockaddr *addr, socklen_t len);
/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION callback; cls is the guard. */
void dg_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		     enum MHD_ConnectionNotificationCode code);

/*
 * The phases of a request on connection c (its socket context, set by
 * dg_guard_notify): headers complete (the body clock starts), body bytes
 * received, body complete (the handler and the reply have no deadline
 * here: the idle timeout covers a reader that stops), request finished
 * (the next request's headers clock starts).
 */
void dg_guard_headers_done(struct dg_guard *g, struct MHD_Connection *c);
void dg_guard_body(struct dg_guard *g, struct MHD_Connection *c, size_t n);
void dg_guard_body_done(struct dg_guard *g, struct MHD_Connection *c);
void dg_guard_request_done(struct dg_guard *g, struct MHD_Connection *c);

/* Counts since the start, for the log and tests. */
struct dg_guard_stats {
	unsigned long open;            /* connections open now */
	unsigned long refused_addr;    /* refused at accept: the address's cap */
	unsigned long refused_reserve; /* refused at accept: the reserve */
	unsigned long slow_headers;    /* shut down: headers too slow */
	unsigned long slow_body;       /* shut down: body too slow */
};
void dg_guard_stats(struct dg_guard *g, struct dg_guard_stats *out);

#endif
