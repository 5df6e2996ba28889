/*
 * server.h - the HTTP server on libmicrohttpd.
 *
 * MHD runs a thread pool with epoll. For each request the server builds a
 * struct dg_req on the first callback, feeds the body to the parsers as it
 * arrives (refusing it with 413 past the caps), and calls the dispatch
 * function on the final callback, so keep-alive holds. A streamed reply
 * (req.h, dg_reply_stream) is sent chunked as its producer makes it, and its
 * request is freed once it is queued. Every reply gets the
 * security headers (CSP with frame-ancestors 'none', X-Content-Type-Options,
 * Referrer-Policy, X-Frame-Options, and Strict-Transport-Security when the
 * site is https) and an X-Request-Id, and one log line. Oversized request
 * headers get 431; a request whose length is ambiguous (Content-Length
 * twice with different values, or beside Transfer-Encoding) gets 400 and
 * the connection is closed, so nothing after it is read as a request. When
 * the site is https and a trusted proxy says the request came over http,
 * the answer is a redirect to the same path on the site.
 */
#ifndef DG_SERVER_H
#define DG_SERVER_H

#include <stddef.h>

#include "core/err.h"
#include "http/guard.h"
#include "http/req.h"

struct dg_server;

struct dg_server_opts {
	const char *host; /* numeric IPv4 or IPv6 address, or "localhost" */
	unsigned port;    /* 0: any free port (see dg_server_port) */
	unsigned threads;
	size_t max_body;        /* bytes; 413 beyond */
	size_t max_upload;      /* bytes of one uploaded file; 413 beyond */
	size_t max_header;      /* bytes of request line + headers; 431 beyond */
	const char *upload_dir; /* where multipart file parts are streamed */
	/* connections (guard.h): caps per address, a reserve, deadlines */
	unsigned max_conn;      /* 0: 1000 */
	unsigned conn_per_addr; /* 0: no cap */
	unsigned conn_reserve;
	unsigned header_timeout;  /* seconds; 0: 10 */
	unsigned idle_timeout;    /* seconds a connection may be silent; 0: 30 */
	unsigned min_body_rate;   /* bytes a second; 0: no floor */
	struct dg_http_opts http; /* handed to every request as r->http */
	struct dg_env *env;       /* handed to every request as r->env */
	void *ctx;                /* handed to dispatch */
	/* Runs once per request when the body is complete; must reply or return an error. */
	void (*dispatch)(void *ctx, struct dg_req *r);
	/*
	 * Renders the server's own errors (bad body 400, 413, 431, no reply 500)
	 * for pages, with r->err set; NULL for a plain bilingual page. /api/
	 * paths always get JSON.
	 */
	void (*error)(struct dg_req *r, dg_rc rc);
};

dg_rc dg_server_start(const struct dg_server_opts *o, struct dg_server **out,
		      struct dg_err *err) DG_MUST;
unsigned dg_server_port(const struct dg_server *s);
/* What the connection guard has counted (guard.h). */
void dg_server_guard_stats(struct dg_server *s, struct dg_guard_stats *out);
/*
 * Hold r's reply until dg_server_release(r), from the handler that runs in
 * dispatch, for a request that waits for work done elsewhere (an audit
 * record's commit): the handler sets a reply as usual and returns; the
 * connection is then suspended, holding no server thread, and the reply
 * leaves only after the release, once resumed(r, ctx) (may be NULL) has run
 * on a server thread, where it may replace the reply. The handler must
 * make sure dg_server_release is called exactly once, whatever happens;
 * a stop waits for it. Only for requests of a struct dg_server.
 */
void dg_server_hold(struct dg_req *r, void (*resumed)(struct dg_req *r, void *ctx), void *ctx);
/* Let a held reply go (any thread, once); r must not be touched after. */
void dg_server_release(struct dg_req *r);

/*
 * Graceful stop: stop accepting, let requests in flight finish (up to
 * grace_ms), then close everything and free s. grace_ms 0 stops at once
 * (for callers that know nothing is in flight).
 */
void dg_server_stop(struct dg_server *s, unsigned grace_ms);

#endif
