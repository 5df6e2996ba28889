/*
 * server.c - libmicrohttpd glue: the life of one request, and the daemon.
 *
 * A request is born in MHD's URI-log callback (which sees the raw query
 * string before MHD decodes it) and set up on the first access callback:
 * arena, id, method, decoded path, query (our own parser, so bad UTF-8 is
 * refused), cookies, and the checks that need no body (header size, declared
 * body size, content type). Body chunks go to the parser for their type;
 * past max_body (multipart: plus one file's max_upload) the request gets 413. The dispatcher runs
 * on the final callback, then the recorded reply becomes an MHD response with the headers every
 * reply carries. MHD's completed callback frees it all; a streamed reply's
 * request is freed as soon as it is queued, and the stream when MHD lets go of
 * its response (after the last byte, or when the client leaves).
 *
 * Errors found before the dispatcher (400 bad body, 413, 431) are answered
 * here with a short page of our own (or JSON under /api/): they must work
 * even when templates or the store are broken.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/proxy.h"
#include "core/rand.h"
#include "core/str.h"
#include "http/cookie.h"
#include "http/form.h"
#include "http/guard.h"
#include "http/multipart.h"

#define MAX_FORM_FIELDS 10000
#define MAX_PARTS       1000
#define MAX_PART_HEADER 8192
/* after a 413 mid-body, read and drop at most this much before hanging up */
#define DRAIN_MAX ((size_t)4 << 20)

static const char csp[] = "default-src 'self'; img-src 'self' data:; style-src 'self'; "
			  "script-src 'self'; object-src 'none'; base-uri 'self'; "
			  "form-action 'self'; frame-ancestors 'none'";

struct dg_server {
	struct MHD_Daemon *d;
	struct dg_server_opts o;
	struct dg_guard *guard;
	char *upload_dir;
	unsigned port;
	atomic_long inflight;
	/* held replies (dg_server_hold) not yet released; hold_mu guards each
	 * request's held/suspended/released and its suspend or resume */
	atomic_long held;
	pthread_mutex_t hold_mu;
};

enum body_kind { BODY_NONE, BODY_FORM, BODY_MULTIPART, BODY_JSON, BODY_RAW };

struct pending {
	struct dg_req r;
	struct dg_server *s;
	bool started, queued;
	const char *raw_uri, *raw_query;
	enum body_kind kind;
	struct dg_buf body;
	struct dg_mp *mp;
	size_t received, drained;
	size_t cap; /* bytes the body may have (body_cap) */
	dg_rc body_rc;
	const char *body_msg;
	/* a held reply (dg_server_hold): the rest of the handler, run on resume */
	void (*resumed)(struct dg_req *r, void *ctx);
	void *resumed_ctx;
	bool held, suspended, released;
};

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct pending *pending_new(struct dg_server *s)
{
	struct dg_arena *a = dg_arena_new();
	/* on the heap, not in the arena: a streamed reply frees the arena early */
	struct pending *p = dg_xcalloc(1, sizeof(*p));
	p->s = s;
	p->r.arena = a;
	p->r.env = s->o.env;
	p->r.http = &s->o.http;
	p->r.file_fd = -1;
	p->r.started_us = now_us();
	dg_rand_id(p->r.id);
	dg_buf_init(&p->r.out, DG_BUF_DEFAULT_MAX);
	dg_buf_init(&p->body, s->o.max_body);
	atomic_fetch_add(&s->inflight, 1);
	return p;
}

/*
 * What the request holds in memory and resources: its arena (whose cleanups
 * remove temporary files, release JSON, give store connections back), its
 * reply and body buffers, a file or stream never sent. Once a stream is
 * queued this runs at once, while the connection is still sending it.
 */
static void pending_release(struct pending *p)
{
	struct dg_req *r = &p->r;
	if (r->file_fd >= 0)
		close(r->file_fd);
	r->file_fd = -1;
	if (r->stream && r->stream->release)
		r->stream->release(r->stream_ctx);
	r->stream = NULL;
	dg_buf_release(&r->out);
	dg_buf_release(&p->body);
	if (r->arena)
		dg_arena_free(r->arena);
	r->arena = NULL;
}

static void pending_free(struct pending *p)
{
	struct dg_server *s = p->s;
	pending_release(p);
	free(p);
	atomic_fetch_sub(&s->inflight, 1);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	(void)c;
	struct pending *p = pending_new(cls);
	const char *q = uri ? strchr(uri, '?') : NULL;
	p->raw_uri = dg_arena_strdup(p->r.arena, uri ? uri : "/");
	p->raw_query = q ? dg_arena_strdup(p->r.arena, q + 1) : NULL;
	return p;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
		    enum MHD_RequestTerminationCode toe)
{
	struct dg_server *s = cls;
	(void)toe;
	if (*con_cls)
		pending_free(*con_cls);
	*con_cls = NULL;
	dg_guard_request_done(s->guard, c);
}

/* ---- the reply ---- */

static bool has_header(const struct dg_req *r, const char *name)
{
	for (size_t i = 0; i < r->resp_headers.n; i++)
		if (strcasecmp(r->resp_headers.v[i].key, name) == 0)
			return true;
	return false;
}

static void add_headers(struct MHD_Response *resp, const struct dg_req *r)
{
	MHD_add_response_header(resp, "Content-Type",
				r->content_type ? r->content_type : "text/plain; charset=utf-8");
	MHD_add_response_header(resp, "X-Request-Id", r->id);
	MHD_add_response_header(resp, "Content-Security-Policy", csp);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	if (r->http && r->http->secure_cookies)
		MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
	if (!has_header(r, "Cache-Control"))
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	for (size_t i = 0; i < r->resp_headers.n; i++)
		MHD_add_response_header(resp, r->resp_headers.v[i].key, r->resp_headers.v[i].val);
}

/* ---- streamed replies (req.h, dg_reply_stream) ---- */

/* MHD asks for at most this much at a time (advisory; it may ask for less). */
#define STREAM_BLOCK ((size_t)32 << 10)

struct stream {
	const struct dg_stream_ops *ops;
	void *ctx;
	struct dg_buf buf; /* what produce made and the client has not taken yet */
	size_t off;
	uint64_t sent;
	bool done, failed;
	char id[17]; /* the request's, for the log: the request may be gone */
};

/*
 * MHD's content reader: the next bytes of the body, END_OF_STREAM after
 * the last, END_WITH_ERROR when the producer failed (MHD then closes the
 * connection without the last chunk). Never 0: MHD would poll again at
 * once, and nothing here waits for a resume.
 */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct stream *st = cls;
	(void)pos;
	for (int empty = 0; st->off == st->buf.len; empty++) {
		if (st->done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		dg_rc rc = DG_EINTERNAL;
		dg_buf_reset(&st->buf);
		st->off = 0;
		if (empty < DG_STREAM_EMPTY_MAX)
			rc = st->ops->produce(st->ctx, &st->buf, &st->done);
		if (rc != DG_OK) {
			dg_error("req=%s the streamed reply failed after %llu bytes (%s): cut off",
				 st->id, (unsigned long long)st->sent, dg_rc_name(rc));
			st->failed = true;
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
	}
	size_t n = st->buf.len - st->off;
	if (n > max)
		n = max;
	memcpy(out, st->buf.ptr + st->off, n);
	st->off += n;
	st->sent += n;
	return (ssize_t)n;
}

/* MHD's free callback: the response is done with (sent, failed or abandoned). */
static void stream_free(void *cls)
{
	struct stream *st = cls;
	if (!st->done && !st->failed)
		dg_debug("req=%s the client left a streamed reply after %llu bytes", st->id,
			 (unsigned long long)st->sent);
	if (st->ops->release)
		st->ops->release(st->ctx);
	dg_buf_release(&st->buf);
	free(st);
}

/* The request's stream as an MHD response, which owns it from here on; NULL on failure. */
static struct MHD_Response *stream_response(struct dg_req *r)
{
	struct stream *st = dg_xcalloc(1, sizeof(*st));
	st->ops = r->stream;
	st->ctx = r->stream_ctx;
	memcpy(st->id, r->id, sizeof(st->id));
	dg_buf_init(&st->buf, DG_STREAM_BUF_MAX);
	struct MHD_Response *resp = MHD_create_response_from_callback(
		MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, st, stream_free);
	if (!resp) {
		free(st); /* the request still holds the stream and releases it */
		return NULL;
	}
	r->stream = NULL;
	r->stream_ctx = NULL;
	return resp;
}

static enum MHD_Result send_reply(struct pending *p)
{
	struct dg_req *r = &p->r;
	struct MHD_Response *resp;
	bool streamed = r->stream != NULL;
	if (streamed) {
		resp = stream_response(r);
	} else if (r->file_fd >= 0) {
		/* MHD owns the descriptor from here on */
		resp = MHD_create_response_from_fd64(r->file_size, r->file_fd);
		r->file_fd = -1;
	} else {
		size_t n = r->out.len;
		resp = MHD_create_response_from_buffer(n, dg_buf_take(&r->out),
						       MHD_RESPMEM_MUST_FREE);
	}
	if (!resp)
		return MHD_NO;
	add_headers(resp, r);
	if (r->status < 100 || r->status > 599)
		r->status = 500;
	enum MHD_Result ok = MHD_queue_response(r->conn, r->status, resp);
	MHD_destroy_response(resp);
	p->queued = ok == MHD_YES;
	dg_log_request(r->id, r->method ? r->method : "-", r->path ? r->path : "-", r->status,
		       (double)(now_us() - r->started_us) / 1000.0);
	/* the stream carries on alone: what the request held goes now, not
	 * when a slow client has read the last byte (req.h) */
	if (streamed)
		pending_release(p);
	return ok;
}

static const char *title_for(unsigned status, bool en)
{
	switch (status) {
	case 400: return en ? "The request could not be understood" : "请求无法处理";
	case 413: return en ? "What you sent is too large" : "提交的内容过大";
	case 431: return en ? "The request headers are too large" : "请求头过大";
	case 503: return en ? "The service is busy, please try again" : "服务繁忙，请稍后再试";
	default: return en ? "Something went wrong on our side" : "服务器出错了";
	}
}

/*
 * The fallback page when the server runs without an error hook (unit tests):
 * both languages on one page, so no language choice is needed here.
 */
static dg_rc error_page(struct dg_buf *b, unsigned status, const char *msg)
{
	dg_rc rc =
		dg_buf_addf(b,
			    "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
			    "<meta name=\"viewport\" content=\"width=device-width, "
			    "initial-scale=1\"><title>%u %s - dgov</title></head>\n<body><main>"
			    "<h1>%s</h1>\n<p lang=\"en\">%s</p>\n<p>",
			    status, title_for(status, false), title_for(status, false),
			    title_for(status, true));
	if (!rc && msg && msg[0])
		rc = dg_buf_add_html(b, msg, strlen(msg));
	if (!rc)
		rc = dg_buf_adds(b,
				 "</p>\n<p><a href=\"/\">返回首页 <span lang=\"en\">Home</span></a>"
				 "</p></main></body></html>\n");
	return rc;
}

/* Our own reply for a request that never reaches the dispatcher. */
static void reply_error(struct pending *p, dg_rc rc, const char *msg)
{
	struct dg_req *r = &p->r;
	dg_err_set(&r->err, rc, "%s", msg ? msg : "");
	if (r->api) {
		dg_reply_json_error(r, rc, msg ? msg : dg_rc_name(rc), NULL);
		return;
	}
	if (p->s->o.error) {
		p->s->o.error(r, rc);
		return;
	}
	struct dg_buf b;
	dg_buf_init(&b, 16384);
	unsigned status = dg_rc_http_status(rc);
	if (error_page(&b, status, msg))
		dg_reply_bytes(r, status, "text/plain; charset=utf-8", "error", 5);
	else
		dg_reply_buf(r, status, "text/html; charset=utf-8", &b);
	dg_buf_release(&b);
}

/* ---- the first callback ---- */

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	(void)kind;
	*(size_t *)cls += strlen(key) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

/* The Content-Length headers of a request: how many, and whether they differ. */
struct lengths {
	unsigned n;
	bool differ;
	const char *first;
};

static enum MHD_Result count_length(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	struct lengths *l = cls;
	(void)kind;
	if (strcasecmp(key, "Content-Length") != 0)
		return MHD_YES;
	value = value ? value : "";
	if (l->n++ == 0)
		l->first = value;
	else if (strcmp(l->first, value) != 0)
		l->differ = true;
	return MHD_YES;
}

/*
 * A body whose length two headers disagree on (two Content-Lengths, or one
 * beside Transfer-Encoding) could end at either place; whatever follows
 * could be read as a second, smuggled request. Such requests are refused
 * and their connection closed.
 */
static bool length_ambiguous(const struct dg_req *r)
{
	struct lengths l = {0};
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_length, &l);
	return l.differ || (l.n > 0 && dg_req_header(r, "Transfer-Encoding"));
}

static enum body_kind kind_of(const char *ct)
{
	struct dg_str type;
	dg_str_cut(dg_str_of(ct), ';', &type);
	type = dg_str_trim(type);
	if (dg_str_case_eqs(type, "application/x-www-form-urlencoded"))
		return BODY_FORM;
	if (dg_str_case_eqs(type, "multipart/form-data"))
		return BODY_MULTIPART;
	if (dg_str_case_eqs(type, "application/json"))
		return BODY_JSON;
	return BODY_RAW;
}

/*
 * The bytes a body may have: max_body, and for multipart also one file's
 * cap (file parts go to disk, not memory, each capped by max_upload).
 */
static size_t body_cap(const struct pending *p)
{
	const struct dg_server_opts *o = &p->s->o;
	const char *ct = dg_req_header(&p->r, "Content-Type");
	return ct && kind_of(ct) == BODY_MULTIPART ? o->max_body + o->max_upload : o->max_body;
}

/* Checks that need no body; DG_OK or an error with p->body_msg set. */
static dg_rc check_head(struct pending *p)
{
	struct dg_req *r = &p->r;
	const struct dg_server_opts *o = &p->s->o;
	size_t hsize = strlen(r->method) + strlen(r->path) + 16;
	hsize += p->raw_query ? strlen(p->raw_query) : 0;
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_header, &hsize);
	if (hsize > o->max_header) {
		p->body_msg = "The request headers are larger than this server accepts.";
		return DG_EHEADERS;
	}
	if (length_ambiguous(r)) {
		p->body_msg = "The request's length is ambiguous: Content-Length is given twice or "
			      "beside Transfer-Encoding.";
		dg_reply_header(r, "Connection", "close");
		return DG_EINVAL;
	}
	const char *cl = dg_req_header(r, "Content-Length");
	int64_t len = 0;
	if (cl && (dg_str_to_i64(dg_str_of(cl), &len) || len < 0)) {
		p->body_msg = "The Content-Length header is malformed.";
		return DG_EINVAL;
	}
	p->cap = body_cap(p);
	if ((uint64_t)len > p->cap) {
		p->body_msg = "The request body is larger than this server accepts.";
		return DG_ETOOBIG;
	}
	if (p->raw_query && dg_form_parse(p->raw_query, strlen(p->raw_query), MAX_FORM_FIELDS,
					  o->max_header, r->arena, &r->query)) {
		p->body_msg = "The query string is malformed.";
		return DG_EINVAL;
	}
	return DG_OK;
}

static dg_rc setup_body(struct pending *p)
{
	const char *ct = dg_req_header(&p->r, "Content-Type");
	p->kind = ct ? kind_of(ct) : BODY_RAW;
	if (p->kind != BODY_MULTIPART)
		return DG_OK;
	const struct dg_server_opts *o = &p->s->o;
	struct dg_mp_limits lim = {
		.max_field = o->max_body,
		.max_file = o->max_upload ? o->max_upload : o->max_body,
		.max_parts = MAX_PARTS,
		.max_header = MAX_PART_HEADER,
	};
	if (dg_mp_new(ct, p->s->upload_dir, &lim, p->r.arena, &p->mp)) {
		p->body_msg = "The multipart boundary is missing or malformed.";
		return DG_EINVAL;
	}
	return DG_OK;
}

/* The peer's address as text, for per-address limits ("" when MHD has none). */
static const char *remote_addr(struct dg_arena *a, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char host[INET6_ADDRSTRLEN];
	if (!ci || !ci->client_addr)
		return "";
	const struct sockaddr *sa = ci->client_addr;
	const void *in = NULL;
	if (sa->sa_family == AF_INET)
		in = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		in = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (!in || !inet_ntop(sa->sa_family, in, host, sizeof host))
		return "";
	return dg_arena_strdup(a, host);
}

/*
 * X-Forwarded-Proto, believed only from a proxy this node trusts: sets
 * r->via_https, and returns true when the request came over plain http to a
 * site that is https (the caller redirects it there).
 */
static bool forwarded_plain(struct dg_req *r)
{
	const struct dg_http_opts *h = r->http;
	const char *proto = dg_req_header(r, "X-Forwarded-Proto");
	if (!proto || !h->trusted || !dg_proxies_trusted(h->trusted, r->remote_addr))
		return false;
	struct dg_str last =
		dg_str_trim(dg_str_of(strrchr(proto, ',') ? strrchr(proto, ',') + 1 : proto));
	r->via_https = dg_str_case_eqs(last, "https");
	return h->secure_cookies && h->site_url && dg_str_case_eqs(last, "http");
}

static enum MHD_Result first_call(struct pending *p, struct MHD_Connection *c, const char *url,
				  const char *method)
{
	struct dg_req *r = &p->r;
	p->started = true;
	r->conn = c;
	r->method = dg_arena_strdup(r->arena, method);
	r->path = dg_arena_strdup(r->arena, url && url[0] ? url : "/");
	r->remote_addr = remote_addr(r->arena, c);
	r->api = strncmp(r->path, "/api/", 5) == 0;
	dg_guard_headers_done(p->s->guard, c);
	if (forwarded_plain(r)) {
		/* the same path on the https site; the raw URI keeps the query as sent */
		dg_reply_header(r, "Location",
				dg_arena_printf(r->arena, "%s%s", r->http->site_url, p->raw_uri));
		dg_reply_bytes(r, 308, "text/plain; charset=utf-8", "https only\n", 11);
		return send_reply(p);
	}
	dg_cookie_parse(dg_req_header(r, "Cookie"), DG_COOKIE_MAX, r->arena, &r->cookies);
	dg_rc rc = check_head(p);
	if (!rc)
		rc = setup_body(p);
	if (!rc)
		return MHD_YES;
	p->body_rc = rc;
	reply_error(p, rc, p->body_msg);
	return send_reply(p);
}

/* ---- the body ---- */

static enum MHD_Result body_chunk(struct pending *p, const char *data, size_t *size)
{
	size_t n = *size;
	*size = 0;
	if (p->body_rc) {
		p->drained += n;
		return p->drained > DRAIN_MAX ? MHD_NO : MHD_YES;
	}
	if (n > p->cap - p->received) {
		p->body_rc = DG_ETOOBIG;
		p->body_msg = "The request body is larger than this server accepts.";
		return MHD_YES;
	}
	p->received += n;
	dg_guard_body(p->s->guard, p->r.conn, n);
	dg_rc rc = p->mp ? dg_mp_feed(p->mp, data, n) : dg_buf_add(&p->body, data, n);
	if (rc) {
		p->body_rc = rc;
		p->body_msg = p->mp ? dg_mp_error(p->mp) : "The request body is too large.";
	}
	return MHD_YES;
}

static void release_json(void *j)
{
	json_decref(j);
}

static dg_rc parse_body(struct pending *p)
{
	struct dg_req *r = &p->r;
	if (p->mp) {
		dg_rc rc = dg_mp_finish(p->mp, &r->form, &r->uploads, &r->nuploads);
		p->body_msg = dg_mp_error(p->mp);
		return rc;
	}
	if (p->body.len == 0)
		return DG_OK;
	const char *b = dg_buf_str(&p->body);
	if (p->kind == BODY_FORM) {
		p->body_msg = "The form data is malformed.";
		return dg_form_parse(b, p->body.len, MAX_FORM_FIELDS, p->s->o.max_body, r->arena,
				     &r->form);
	}
	if (p->kind == BODY_JSON) {
		json_error_t e;
		r->json = json_loadb(b, p->body.len, JSON_REJECT_DUPLICATES, &e);
		if (!r->json) {
			p->body_msg = "The JSON body is malformed.";
			return DG_EINVAL;
		}
		dg_arena_defer(r->arena, release_json, r->json);
		return DG_OK;
	}
	r->body = dg_arena_strndup(r->arena, b, p->body.len);
	r->body_len = p->body.len;
	return DG_OK;
}

/* A held request, released: the rest of its handler, then its reply. */
static enum MHD_Result resume_call(struct pending *p)
{
	struct dg_req *r = &p->r;
	/* the release has left hold_mu: nothing else touches p from here on */
	pthread_mutex_lock(&p->s->hold_mu);
	p->held = false;
	pthread_mutex_unlock(&p->s->hold_mu);
	if (p->resumed)
		p->resumed(r, p->resumed_ctx);
	if (!r->replied) {
		dg_error("req=%s %s %s: the held request sent no reply", r->id, r->method, r->path);
		reply_error(p, DG_EINTERNAL, NULL);
	}
	return send_reply(p);
}

void dg_server_hold(struct dg_req *r, void (*resumed)(struct dg_req *r, void *ctx), void *ctx)
{
	/* r is the first member of its pending */
	struct pending *p = (struct pending *)(void *)r;
	p->resumed = resumed;
	p->resumed_ctx = ctx;
	p->held = true;
	atomic_fetch_add(&p->s->held, 1);
}

void dg_server_release(struct dg_req *r)
{
	struct pending *p = (struct pending *)(void *)r;
	struct dg_server *s = p->s;
	pthread_mutex_lock(&s->hold_mu);
	p->released = true;
	if (p->suspended)
		MHD_resume_connection(r->conn);
	pthread_mutex_unlock(&s->hold_mu);
	/* the last touch of s: a stop waits for this count before it frees s */
	atomic_fetch_sub(&s->held, 1);
}

static enum MHD_Result final_call(struct pending *p)
{
	struct dg_req *r = &p->r;
	dg_guard_body_done(p->s->guard, r->conn);
	dg_rc rc = p->body_rc ? p->body_rc : parse_body(p);
	if (rc) {
		reply_error(p, rc, p->body_msg);
		return send_reply(p);
	}
	p->s->o.dispatch(p->s->o.ctx, r);
	if (p->held) {
		/* the reply waits for dg_server_release: off this thread meanwhile */
		struct dg_server *s = p->s;
		pthread_mutex_lock(&s->hold_mu);
		bool wait = !p->released;
		if (wait) {
			MHD_suspend_connection(r->conn);
			p->suspended = true;
		}
		pthread_mutex_unlock(&s->hold_mu);
		if (wait)
			return MHD_YES;
		return resume_call(p);
	}
	if (!r->replied) {
		dg_error("req=%s %s %s: the dispatcher sent no reply", r->id, r->method, r->path);
		reply_error(p, DG_EINTERNAL, NULL);
	}
	return send_reply(p);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *size, void **con_cls)
{
	(void)version;
	struct pending *p = *con_cls;
	if (!p)
		p = *con_cls = on_uri(cls, url, c);
	if (!p->started)
		return first_call(p, c, url, method);
	if (p->held)
		return resume_call(p);
	if (p->queued) {
		*size = 0;
		return MHD_YES;
	}
	if (*size)
		return body_chunk(p, data, size);
	return final_call(p);
}

/* ---- the daemon ---- */

static void mhd_log(void *cls, const char *fmt, va_list ap) DG_PRINTF(2, 0);

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	size_t n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	/*
	 * Clients that hang up early, and those the connection guard refuses,
	 * are everyday events (and an attack makes thousands): not warnings. A
	 * stream cut off by its producer was logged as an error already.
	 */
	if (strstr(line, "closed by remote side") || strstr(line, "disconnected when reading") ||
	    strstr(line, "application error generating response") ||
	    strstr(line, "closed when reading request") ||
	    strstr(line, "rejected by application") || strstr(line, "reached connection limit"))
		dg_debug("http: %s", line);
	else
		dg_warn("http: %s", line);
}

static dg_rc resolve(const char *host, unsigned port, struct sockaddr_storage *ss, bool *v6)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL;
	if (strcmp(host, "localhost") != 0)
		hints.ai_flags |= AI_NUMERICHOST;
	char ports[16];
	snprintf(ports, sizeof(ports), "%u", port);
	if (getaddrinfo(host, ports, &hints, &res) != 0 || !res)
		return DG_EINVAL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*v6 = res->ai_family == AF_INET6;
	freeaddrinfo(res);
	return DG_OK;
}

/*
 * Enough descriptors for max_conn connections and the rest of the process
 * (store, files, jobs): the soft limit is raised towards the hard one.
 */
static void raise_fd_limit(unsigned max_conn)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)max_conn + 256;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		dg_warn("http: could not raise the open-file limit to %llu",
			(unsigned long long)want);
}

static size_t memory_limit(size_t max_header)
{
	/* MHD keeps the request line, headers and its read buffer in this pool */
	size_t m = max_header + 16384;
	return m < 32768 ? 32768 : m;
}

dg_rc dg_server_start(const struct dg_server_opts *o, struct dg_server **out, struct dg_err *err)
{
	struct sockaddr_storage ss = {0};
	bool v6 = false;
	if (!o->dispatch || resolve(o->host ? o->host : "127.0.0.1", o->port, &ss, &v6))
		return dg_err_set(err, DG_EINVAL, "cannot listen on %s: not a numeric address",
				  o->host ? o->host : "(none)");
	struct dg_server *s = dg_xcalloc(1, sizeof(*s));
	s->o = *o;
	pthread_mutex_init(&s->hold_mu, NULL);
	s->upload_dir = dg_xstrdup(o->upload_dir ? o->upload_dir : "/tmp");
	s->o.upload_dir = s->upload_dir;
	unsigned max_conn = o->max_conn ? o->max_conn : 1000;
	struct dg_guard_opts go = {
		.max_conn = max_conn,
		.per_addr = o->conn_per_addr,
		.reserve = o->conn_reserve,
		.header_timeout = o->header_timeout ? o->header_timeout : 10,
		.min_body_rate = o->min_body_rate,
		.trusted = o->http.trusted,
	};
	if (dg_guard_new(&go, &s->guard)) {
		free(s->upload_dir);
		free(s);
		return dg_err_set(err, DG_EIO, "the connection guard could not start");
	}
	raise_fd_limit(max_conn);
	/* one thread is no pool, and libmicrohttpd warns about a pool of one */
	struct MHD_OptionItem pool[] = {
		{o->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, o->threads, NULL},
		{MHD_OPTION_END, 0, NULL},
	};
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
	s->d = MHD_start_daemon(
		flags, (uint16_t)o->port, dg_guard_accept, s->guard, on_request, s,
		/* the logger must come first to catch messages about the other options */
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_ARRAY,
		pool, MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory_limit(o->max_header),
		MHD_OPTION_CONNECTION_LIMIT, max_conn, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)(o->idle_timeout ? o->idle_timeout : 30), MHD_OPTION_NOTIFY_CONNECTION,
		dg_guard_notify, s->guard, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
		MHD_OPTION_NOTIFY_COMPLETED, on_done, s, MHD_OPTION_END);
	if (!s->d) {
		dg_guard_free(s->guard);
		free(s->upload_dir);
		free(s);
		return dg_err_set(err, DG_EIO, "cannot listen on %s:%u (in use or not allowed)",
				  o->host ? o->host : "127.0.0.1", o->port);
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : o->port;
	*out = s;
	return DG_OK;
}

unsigned dg_server_port(const struct dg_server *s)
{
	return s->port;
}

void dg_server_guard_stats(struct dg_server *s, struct dg_guard_stats *out)
{
	dg_guard_stats(s->guard, out);
}

void dg_server_stop(struct dg_server *s, unsigned grace_ms)
{
	if (!s)
		return;
	/* grace 0 (nothing can be in flight, e.g. a test's teardown): stop at once,
	 * without quiescing, whose listen-socket hand-over can race a worker thread */
	MHD_socket lfd = grace_ms ? MHD_quiesce_daemon(s->d) : MHD_INVALID_SOCKET;
	/* requests in flight finish; idle keep-alive connections are simply closed */
	for (unsigned waited = 0; atomic_load(&s->inflight) > 0 && waited < grace_ms; waited += 10)
		usleep(10000);
	/* MHD must not be stopped with a connection suspended: each held reply is
	 * released once what it waits for is done (an audit commit, or its failure) */
	for (unsigned waited = 0; atomic_load(&s->held) > 0; waited++) {
		if (waited % 5000 == 4999)
			dg_warn("http: stopping waits for %ld held replies", atomic_load(&s->held));
		usleep(1000);
	}
	dg_guard_stop(s->guard);
	MHD_stop_daemon(s->d);
	dg_guard_free(s->guard);
	if (lfd != MHD_INVALID_SOCKET)
		close(lfd);
	free(s->upload_dir);
	pthread_mutex_destroy(&s->hold_mu);
	free(s);
}
