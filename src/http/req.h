/*
 * req.h - one HTTP request and the reply being built for it.
 *
 * Life cycle (server.c): the request is born on MHD's first callback with its
 * own arena, its body is parsed as it arrives (form, multipart, JSON, capped),
 * the dispatcher runs once the whole body is in, and everything is freed when
 * MHD reports the request complete. All strings hang off r->arena: handlers
 * never free anything. A handler either builds a reply with dg_reply_*() and
 * returns DG_OK, or returns an error code having put a message in r->err, and
 * the dispatcher renders the error page (or JSON under /api/) for it.
 */
#ifndef DG_REQ_H
#define DG_REQ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"

struct dg_env;
struct dg_db;
struct dg_route;
struct dg_stream_ops;

/* A list of name/value pairs (query, form, cookies, path parameters). */
struct dg_kv {
	const char *key;
	const char *val; /* NUL-terminated; len excludes the NUL */
	size_t len;
};

struct dg_kvs {
	struct dg_kv *v;
	size_t n, cap;
};

/* Append (arena memory). Keys and values are borrowed: copy them first if needed. */
void dg_kvs_add(struct dg_kvs *l, struct dg_arena *a, const char *key, const char *val, size_t len);
/* First value for key, or NULL. */
const char *dg_kvs_get(const struct dg_kvs *l, const char *key);

/* A file part of a multipart body, streamed to a temporary file (deleted with the request). */
struct dg_upload {
	const char *field;
	const char *filename;     /* as the client sent it; display only, never a path */
	const char *content_type; /* as the client sent it; sniff before trusting */
	const char *path;         /* the temporary file on disk */
	size_t size;
};

/* Who is asking: one kind per account. Route access masks are ORs of these. */
enum dg_role {
	DG_ROLE_ANON = 1u << 0,    /* not signed in */
	DG_ROLE_CITIZEN = 1u << 1, /* a resident */
	DG_ROLE_AGENT = 1u << 2,   /* an enterprise's agent */
	DG_ROLE_STAFF = 1u << 3,   /* department staff */
	DG_ROLE_ADMIN = 1u << 4,   /* administrator */
};
#define DG_ROLE_USER (DG_ROLE_CITIZEN | DG_ROLE_AGENT | DG_ROLE_STAFF | DG_ROLE_ADMIN)
#define DG_ROLE_ANY  (DG_ROLE_ANON | DG_ROLE_USER)

/* The signed-in account, loaded by the auth module; all fields arena-owned. */
struct dg_user {
	int64_t id;
	enum dg_role role;
	const char *username;
	const char *name;        /* real name or display name */
	int64_t dept_id;         /* staff: their department; else 0 */
	const char *dept_name;   /* staff: department name in the request's language; else "" */
	const char *staff_roles; /* staff: comma list, e.g. "intake,review,approve"; else "" */
	const char *uscc;        /* agents: the enterprise's unified social credit code; else "" */
	const char *org_name;    /* agents: the enterprise's name; else "" */
	bool via_token;          /* authenticated by an API token, not a session */
};

struct dg_proxies;

/* The HTTP layer's own settings, shared by every request (server.h holds them). */
struct dg_http_opts {
	bool secure_cookies;    /* add Secure to every cookie, send HSTS (the site is https) */
	const char *static_dir; /* the folder dg_reply_static serves from */
	const char
		*site_url; /* the site's address (config.h); where http is sent when it is https */
	const struct dg_proxies *trusted; /* whose X-Forwarded-Proto is believed (NULL: none) */
};

struct dg_req {
	struct dg_arena *arena;
	struct dg_env *env;              /* the node, as domains see it (node/env.h) */
	const struct dg_http_opts *http; /* never NULL once the server made the request */
	char id[17];                     /* request id, 16 hex characters, echoed in X-Request-Id */

	/* request line and headers */
	const char *method;      /* "GET", "POST", ... */
	const char *path;        /* decoded path without the query string */
	const char *remote_addr; /* the peer's IP address as text ("" when unknown) */
	bool via_https;          /* a trusted proxy said X-Forwarded-Proto: https */
	struct dg_kvs query;
	struct dg_kvs cookies;
	struct dg_kvs params; /* path parameters, from the route pattern */
	const struct dg_route *route;
	bool api; /* path under /api/: errors are JSON */

	/* body, by its content type; all empty when there was none */
	struct dg_kvs form; /* application/x-www-form-urlencoded and multipart fields */
	struct dg_upload *uploads;
	size_t nuploads;
	json_t *json;     /* application/json body (released with the arena), or NULL */
	const char *body; /* raw body for other types (NUL-terminated), or NULL */
	size_t body_len;

	/* filled by the dispatcher before the handler runs */
	const struct dg_user *user; /* NULL when anonymous */
	const char *session_hash;   /* the session's id hash, or NULL */
	const char *csrf;           /* token to embed in forms (never NULL for pages) */
	const char *lang;           /* "zh" or "en" */
	bool elder;                 /* elder mode (长辈版) */
	/* the data API's gate (opendata/access), once it ran: the app of the key sent, 0 for none
	 */
	bool app_known;
	int64_t app_id;

	/* the user-facing message for an error return */
	struct dg_err err;

	/* the reply: private to reply.c / server.c */
	unsigned status;
	const char *content_type;
	struct dg_buf out;
	struct dg_kvs resp_headers;
	int file_fd; /* >= 0: reply with this file, closed by the server */
	uint64_t file_size;
	const struct dg_stream_ops *stream; /* a streamed reply (dg_reply_stream), or NULL */
	void *stream_ctx;
	bool replied;

	struct dg_db *db; /* borrowed by dg_req_db (web/page.c), returned when the request ends */
	void *conn;       /* the MHD connection */
	int64_t started_us;
};

/* A request header (case-insensitive name), or NULL. */
const char *dg_req_header(const struct dg_req *r, const char *name);
/* A form field, or query parameter for GET, trimmed of nothing; NULL when absent. */
const char *dg_req_field(const struct dg_req *r, const char *name);
/* Role bit of the requester (DG_ROLE_ANON when no user). */
enum dg_role dg_req_role(const struct dg_req *r);

/* Replies. Each sets r->replied; a second reply replaces the first. */
void dg_reply_bytes(struct dg_req *r, unsigned status, const char *content_type, const void *p,
		    size_t n);
/* Takes the buffer's bytes (b is left empty). */
void dg_reply_buf(struct dg_req *r, unsigned status, const char *content_type, struct dg_buf *b);
/* Serialises json (steals the reference). */
void dg_reply_json(struct dg_req *r, unsigned status, json_t *json);
/* 303 See Other to a local path (anything not starting with one '/' becomes "/"). */
void dg_reply_redirect(struct dg_req *r, const char *location);
/* Reply with an open file (the server closes fd). */
/* 307 to a local path: the browser sends the same method and body there again. */
void dg_reply_resubmit(struct dg_req *r, const char *location);
void dg_reply_file(struct dg_req *r, unsigned status, const char *content_type, int fd,
		   uint64_t size);
/*
 * A streamed reply, for an answer too large to build before sending it (a
 * DataStore dump): the status and headers go out at once, then the body
 * as produce makes it, with chunked transfer encoding (no Content-Length;
 * an HTTP/1.0 client reads until the connection closes).
 *
 * produce(ctx, out, &done) is called each time the client can take more;
 * it appends the next bytes to out (empty, capped at DG_STREAM_BUF_MAX) and
 * sets done after the last ones. Each call should add some bytes or set
 * done: DG_STREAM_EMPTY_MAX calls in a row that do neither end the stream
 * as failed. An error returned once the headers are out cannot change the
 * status: the body is cut off (the chunked body never gets its last chunk,
 * so the client sees a failed transfer, not a short file) and the error is
 * logged with the request's id.
 *
 * The stream outlives its request: the request's arena (and with it the
 * store connection dg_req_db borrowed) is freed as soon as the reply is
 * queued, so ctx must own everything produce needs, with no pointer into r.
 * release(ctx) runs exactly once: after the last bytes, when the client
 * goes away or the server stops mid-stream, or at once when the reply is
 * replaced before it was sent (a later dg_reply_* or an error page).
 * produce and release run on a server thread, one call at a time; produce
 * blocks that thread while it runs, so each call should be short (a page).
 */
struct dg_stream_ops {
	dg_rc (*produce)(void *ctx, struct dg_buf *out, bool *done);
	void (*release)(void *ctx);
};
#define DG_STREAM_BUF_MAX   ((size_t)64 << 20)
#define DG_STREAM_EMPTY_MAX 64
void dg_reply_stream(struct dg_req *r, unsigned status, const char *content_type,
		     const struct dg_stream_ops *ops, void *ctx);
/* Add a response header (copied). */
void dg_reply_header(struct dg_req *r, const char *name, const char *value);
/*
 * Set a cookie: Path=/, SameSite=Lax, HttpOnly when http_only, Secure when the
 * app is configured so; max_age < 0 makes a session cookie, 0 deletes it.
 */
void dg_reply_cookie(struct dg_req *r, const char *name, const char *value, long max_age,
		     bool http_only);
/*
 * JSON error body {"error":{"code":"EINVAL","message":"...","field":"f","fields":{"f":"..."}}}
 * with dg_rc_http_status(rc).
 */
void dg_reply_json_error(struct dg_req *r, dg_rc rc, const char *message, const char *field);
/* The same with another status (422 for a well-formed request with a field in error). */
void dg_reply_json_error_status(struct dg_req *r, unsigned status, dg_rc rc, const char *message,
				const char *field);

/* True when path is a safe local redirect target ("/x", not "//x" or "/\x"). */
bool dg_is_local_path(const char *path);

#endif
