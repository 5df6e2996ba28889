/*
 * router.c - matching a method and a decoded path against route patterns.
 *
 * Patterns are split into segments once, when added. Matching walks the
 * routes in order of addition and the path's segments left to right; no
 * decoding happens here. The path arrives already percent-decoded by MHD,
 * including %2F, so "/jobs/a%2Fb" is seen as "/jobs/a/b" and does not match
 * "/jobs/{id}": a parameter can never hold a '/', and a {rest...} parameter
 * may (the static handler checks containment itself). A trailing slash is
 * significant: "/jobs/" matches neither "/jobs" nor "/jobs/{id}" (a
 * parameter matches only a non-empty segment).
 *
 * Each route that begins with a literal segment (or is "/") keeps a hash of
 * that segment, and a path's first segment is hashed once: a route whose
 * hash differs cannot match and is passed over without walking its
 * pattern. Order of addition still decides between routes that can.
 */
#include "http/router.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/str.h"

enum seg_kind { SEG_LIT, SEG_PARAM, SEG_REST };

struct seg {
	enum seg_kind kind;
	char *text; /* literal text, or the parameter's name */
};

struct entry {
	const struct dg_route *route;
	struct seg *segs;
	size_t nseg;
	bool first_lit;      /* its first segment is literal text (or it is "/") */
	uint64_t first_hash; /* that text's hash ("" for "/") */
};

struct dg_router {
	struct entry *v;
	size_t n, cap;
};

#define MAX_SEGS 32

struct dg_router *dg_router_new(void)
{
	return dg_xcalloc(1, sizeof(struct dg_router));
}

void dg_router_free(struct dg_router *rt)
{
	if (!rt)
		return;
	for (size_t i = 0; i < rt->n; i++) {
		for (size_t j = 0; j < rt->v[i].nseg; j++)
			free(rt->v[i].segs[j].text);
		free(rt->v[i].segs);
	}
	free(rt->v);
	free(rt);
}

static bool valid_name(struct dg_str s)
{
	if (s.n == 0)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return true;
}

static dg_rc parse_seg(struct dg_str s, bool last, struct seg *out)
{
	if (s.n >= 2 && s.p[0] == '{' && s.p[s.n - 1] == '}') {
		struct dg_str name = {s.p + 1, s.n - 2};
		out->kind = SEG_PARAM;
		if (name.n > 3 && memcmp(name.p + name.n - 3, "...", 3) == 0) {
			if (!last)
				return DG_EINVAL;
			out->kind = SEG_REST;
			name.n -= 3;
		}
		if (!valid_name(name))
			return DG_EINVAL;
		out->text = dg_xstrndup(name.p, name.n);
		return DG_OK;
	}
	if (s.n == 0 || memchr(s.p, '{', s.n) || memchr(s.p, '}', s.n))
		return DG_EINVAL;
	out->kind = SEG_LIT;
	out->text = dg_xstrndup(s.p, s.n);
	return DG_OK;
}

/* "/" has no segments; "/a/{b}" has two. */
static dg_rc parse_pattern(const char *pattern, struct entry *e)
{
	if (!pattern || pattern[0] != '/')
		return DG_EINVAL;
	e->segs = dg_xcalloc(MAX_SEGS, sizeof(struct seg));
	e->nseg = 0;
	struct dg_str rest = dg_str_of(pattern + 1);
	while (rest.p && rest.n > 0) {
		struct dg_str s;
		rest = dg_str_cut(rest, '/', &s);
		if (e->nseg == MAX_SEGS)
			return DG_EINVAL;
		dg_rc rc = parse_seg(s, rest.p == NULL, &e->segs[e->nseg]);
		if (rc)
			return rc;
		e->nseg++;
		if (rest.p && rest.n == 0)
			return DG_EINVAL; /* trailing slash in a pattern */
	}
	return DG_OK;
}

static uint64_t seg_hash(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return h;
}

/* The hash of path's first segment: what follows the leading '/' up to the next. */
static uint64_t first_seg_hash(const char *path)
{
	const char *p = path + 1, *slash = strchr(p, '/');
	return seg_hash(p, slash ? (size_t)(slash - p) : strlen(p));
}

dg_rc dg_router_add(struct dg_router *rt, const struct dg_route *routes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct entry e = {.route = &routes[i]};
		dg_rc rc = routes[i].method && routes[i].fn ? parse_pattern(routes[i].pattern, &e)
							    : DG_EINVAL;
		if (rc) {
			for (size_t j = 0; j < e.nseg; j++)
				free(e.segs[j].text);
			free(e.segs);
			return rc;
		}
		e.first_lit = e.nseg == 0 || e.segs[0].kind == SEG_LIT;
		if (e.first_lit)
			e.first_hash = e.nseg ? seg_hash(e.segs[0].text, strlen(e.segs[0].text))
					      : seg_hash("", 0);
		if (rt->n == rt->cap) {
			rt->cap = rt->cap ? rt->cap * 2 : 32;
			rt->v = dg_xrealloc(rt->v, rt->cap * sizeof(struct entry));
		}
		rt->v[rt->n++] = e;
	}
	return DG_OK;
}

/* Does path match e? Parameters are appended to params only when it does. */
static bool match_path(const struct entry *e, const char *path, struct dg_arena *a,
		       struct dg_kvs *params)
{
	struct dg_str segs[MAX_SEGS];
	const char *p = path + 1;
	size_t i = 0;
	/* collect; a rest segment takes whatever remains, slashes included */
	for (; i < e->nseg; i++) {
		if (e->segs[i].kind == SEG_REST) {
			if (*p == '\0')
				return false;
			segs[i] = dg_str_of(p);
			p += segs[i].n;
			i++;
			break;
		}
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		segs[i] = (struct dg_str){p, len};
		if (len == 0)
			return false;
		if (e->segs[i].kind == SEG_LIT && !dg_str_eqs(segs[i], e->segs[i].text))
			return false;
		p += len;
		if (i + 1 < e->nseg) {
			if (*p != '/')
				return false;
			p++;
		}
	}
	if (*p != '\0')
		return false;
	for (size_t j = 0; j < i; j++)
		if (e->segs[j].kind != SEG_LIT)
			dg_kvs_add(params, a, e->segs[j].text,
				   dg_arena_strndup(a, segs[j].p, segs[j].n), segs[j].n);
	return true;
}

static bool method_ok(const char *route_method, const char *method)
{
	if (strcmp(route_method, method) == 0)
		return true;
	return strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0;
}

static void allow_add(struct dg_buf *b, const char *m)
{
	/* each method once; the list is short, a substring check per add is fine */
	size_t ml = strlen(m);
	for (const char *s = dg_buf_str(b); (s = strstr(s, m)) != NULL; s += ml)
		if (s[ml] == ',' || s[ml] == '\0')
			return;
	if (b->len && dg_buf_adds(b, ", "))
		return;
	if (dg_buf_adds(b, m))
		return;
}

static const char *allow_list(const struct dg_router *rt, const char *path, struct dg_arena *a)
{
	struct dg_buf b;
	struct dg_kvs scratch = {0};
	dg_buf_init(&b, 1024);
	for (size_t i = 0; i < rt->n; i++) {
		if (!match_path(&rt->v[i], path, a, &scratch))
			continue;
		allow_add(&b, rt->v[i].route->method);
		if (strcmp(rt->v[i].route->method, "GET") == 0)
			allow_add(&b, "HEAD");
	}
	char *s = dg_arena_strdup(a, dg_buf_str(&b));
	dg_buf_release(&b);
	return s;
}

dg_rc dg_router_match(const struct dg_router *rt, const char *method, const char *path,
		      struct dg_arena *a, struct dg_kvs *params, const struct dg_route **out,
		      const char **allow)
{
	bool path_seen = false;
	*out = NULL;
	if (allow)
		*allow = NULL;
	if (!path || path[0] != '/')
		return DG_ENOTFOUND;
	uint64_t first = first_seg_hash(path);
	for (size_t i = 0; i < rt->n; i++) {
		const struct entry *e = &rt->v[i];
		struct dg_kvs found = {0};
		if (e->first_lit && e->first_hash != first)
			continue;
		if (!match_path(e, path, a, &found))
			continue;
		path_seen = true;
		if (!method_ok(e->route->method, method))
			continue;
		for (size_t j = 0; j < found.n; j++)
			dg_kvs_add(params, a, found.v[j].key, found.v[j].val, found.v[j].len);
		*out = e->route;
		return DG_OK;
	}
	if (!path_seen)
		return DG_ENOTFOUND;
	if (allow)
		*allow = allow_list(rt, path, a);
	return DG_EMETHOD;
}

const struct dg_route *dg_router_at(const struct dg_router *rt, size_t i)
{
	return i < rt->n ? rt->v[i].route : NULL;
}

size_t dg_router_count(const struct dg_router *rt)
{
	return rt->n;
}
