/*
 * req.c - reading a request (headers, fields, role) and building its reply.
 *
 * Replies are only recorded here (status, content type, bytes, a file or
 * a stream's producer, extra headers); server.c turns them into an MHD response once the
 * dispatcher returns, adding the security headers every reply carries.
 * Header names and values with CR or LF are refused so no input can split a
 * response.
 */
#include "http/req.h"

#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/log.h"
#include "http/cookie.h"

void dg_kvs_add(struct dg_kvs *l, struct dg_arena *a, const char *key, const char *val, size_t len)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct dg_kv *v = dg_arena_alloc(a, cap * sizeof(*v));
		if (l->n)
			memcpy(v, l->v, l->n * sizeof(*v));
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct dg_kv){key, val, len};
}

const char *dg_kvs_get(const struct dg_kvs *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0)
			return l->v[i].val;
	return NULL;
}

const char *dg_req_header(const struct dg_req *r, const char *name)
{
	if (!r->conn)
		return NULL;
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *dg_req_field(const struct dg_req *r, const char *name)
{
	const char *v = dg_kvs_get(&r->form, name);
	if (v)
		return v;
	if (r->method && (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0))
		return dg_kvs_get(&r->query, name);
	return NULL;
}

enum dg_role dg_req_role(const struct dg_req *r)
{
	return r->user ? r->user->role : DG_ROLE_ANON;
}

static void drop_file(struct dg_req *r)
{
	if (r->file_fd >= 0)
		close(r->file_fd);
	r->file_fd = -1;
	r->file_size = 0;
}

/* A stream that will not be sent: its producer lets go of what it holds. */
static void drop_stream(struct dg_req *r)
{
	const struct dg_stream_ops *ops = r->stream;
	void *ctx = r->stream_ctx;
	r->stream = NULL;
	r->stream_ctx = NULL;
	if (ops && ops->release)
		ops->release(ctx);
}

static void set_reply(struct dg_req *r, unsigned status, const char *content_type)
{
	drop_file(r);
	drop_stream(r);
	dg_buf_reset(&r->out);
	r->status = status;
	r->content_type =
		dg_arena_strdup(r->arena, content_type ? content_type : "application/octet-stream");
	r->replied = true;
}

void dg_reply_bytes(struct dg_req *r, unsigned status, const char *content_type, const void *p,
		    size_t n)
{
	set_reply(r, status, content_type);
	if (n && dg_buf_add(&r->out, p, n)) {
		dg_error("req=%s reply of %zu bytes is over the cap", r->id, n);
		dg_buf_reset(&r->out);
		r->status = 500;
	}
}

void dg_reply_buf(struct dg_req *r, unsigned status, const char *content_type, struct dg_buf *b)
{
	set_reply(r, status, content_type);
	size_t max = r->out.max;
	dg_buf_release(&r->out);
	r->out = *b;
	if (r->out.max < max)
		r->out.max = max;
	dg_buf_init(b, b->max);
}

void dg_reply_json(struct dg_req *r, unsigned status, json_t *json)
{
	char *s = json ? json_dumps(json, JSON_COMPACT) : NULL;
	json_decref(json);
	if (!s) {
		static const char fallback[] =
			"{\"error\":{\"code\":\"EINTERNAL\",\"message\":\"\"}}";
		dg_reply_bytes(r, 500, "application/json; charset=utf-8", fallback,
			       sizeof(fallback) - 1);
		return;
	}
	dg_reply_bytes(r, status, "application/json; charset=utf-8", s, strlen(s));
	free(s);
}

bool dg_is_local_path(const char *path)
{
	if (!path || path[0] != '/' || path[1] == '/' || path[1] == '\\')
		return false;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

void dg_reply_redirect(struct dg_req *r, const char *location)
{
	set_reply(r, 303, "text/plain; charset=utf-8");
	dg_reply_header(r, "Location", dg_is_local_path(location) ? location : "/");
}

void dg_reply_resubmit(struct dg_req *r, const char *location)
{
	set_reply(r, 307, "text/plain; charset=utf-8");
	dg_reply_header(r, "Location", dg_is_local_path(location) ? location : "/");
}

void dg_reply_file(struct dg_req *r, unsigned status, const char *content_type, int fd,
		   uint64_t size)
{
	set_reply(r, status, content_type);
	r->file_fd = fd;
	r->file_size = size;
}

void dg_reply_stream(struct dg_req *r, unsigned status, const char *content_type,
		     const struct dg_stream_ops *ops, void *ctx)
{
	set_reply(r, status, content_type);
	r->stream = ops;
	r->stream_ctx = ctx;
}

static bool header_safe(const char *s)
{
	for (; *s; s++)
		if (*s == '\r' || *s == '\n')
			return false;
	return true;
}

void dg_reply_header(struct dg_req *r, const char *name, const char *value)
{
	if (!name || !value || !name[0] || !header_safe(name) || !header_safe(value)) {
		dg_warn("req=%s dropped an unsafe response header", r->id);
		return;
	}
	dg_kvs_add(&r->resp_headers, r->arena, dg_arena_strdup(r->arena, name),
		   dg_arena_strdup(r->arena, value), strlen(value));
}

void dg_reply_cookie(struct dg_req *r, const char *name, const char *value, long max_age,
		     bool http_only)
{
	bool secure = r->http && r->http->secure_cookies;
	struct dg_buf b;
	dg_buf_init(&b, 8192);
	if (dg_cookie_format(&b, name, value, max_age, http_only, secure))
		dg_warn("req=%s refused to set a malformed cookie", r->id);
	else
		dg_reply_header(r, "Set-Cookie", dg_buf_str(&b));
	dg_buf_release(&b);
}

void dg_reply_json_error(struct dg_req *r, dg_rc rc, const char *message, const char *field)
{
	dg_reply_json_error_status(r, dg_rc_http_status(rc), rc, message, field);
}

void dg_reply_json_error_status(struct dg_req *r, unsigned status, dg_rc rc, const char *message,
				const char *field)
{
	json_t *e =
		json_pack("{s:s, s:s}", "code", dg_rc_name(rc), "message", message ? message : "");
	if (e && field && *field) {
		/* "field" names the first field in error; "fields" maps each to its message */
		json_object_set_new(e, "field", json_string(field));
		json_object_set_new(e, "fields", json_pack("{s:s}", field, message ? message : ""));
	}
	json_t *j = e ? json_pack("{s:o}", "error", e) : NULL;
	dg_reply_json(r, status, j);
}
