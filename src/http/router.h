/*
 * router.h - method + path pattern -> handler, with access rules per route.
 *
 * Patterns are literal segments and {name} parameters that match one
 * non-empty segment: "/jobs/{id}". A final {name...} matches the rest of the
 * path (for static files). Routes are matched in the order they were added.
 * A path that matches some route but not the method is EMETHOD (405, with
 * an Allow header); no match is ENOTFOUND (404).
 *
 * Deny by default: a route's roles mask lists who may call it; 0 means nobody.
 */
#ifndef DG_ROUTER_H
#define DG_ROUTER_H

#include "http/req.h"

typedef dg_rc (*dg_handler)(struct dg_req *r);

enum dg_route_flags {
	DG_ROUTE_NO_CSRF = 1u << 0, /* an unsafe method that takes no form (API tokens only) */
	DG_ROUTE_PUBLIC = 1u << 1,  /* needs no identity: no session lookup, no cookies set
				       (health checks, static files); roles must allow ANON */
};

struct dg_route {
	const char *method; /* "GET", "POST", ... (HEAD is served by GET routes) */
	const char *pattern;
	dg_handler fn;
	unsigned roles; /* OR of enum dg_role */
	unsigned flags; /* OR of enum dg_route_flags */
};

struct dg_router;

struct dg_router *dg_router_new(void);
void dg_router_free(struct dg_router *rt);
/* Add routes (the array is borrowed and must outlive the router). EINVAL on a bad pattern. */
dg_rc dg_router_add(struct dg_router *rt, const struct dg_route *routes, size_t n) DG_MUST;

/*
 * Find the route for method and path; path parameters go into *params
 * (arena memory). On EMETHOD, *allow (arena) lists the allowed methods.
 */
dg_rc dg_router_match(const struct dg_router *rt, const char *method, const char *path,
		      struct dg_arena *a, struct dg_kvs *params, const struct dg_route **out,
		      const char **allow) DG_MUST;

/* Every route, in order (for the access-matrix test and `dgov routes`). */
const struct dg_route *dg_router_at(const struct dg_router *rt, size_t i);
size_t dg_router_count(const struct dg_router *rt);

#endif
