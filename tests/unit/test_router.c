/*
 * test_router.c - route matching: literal segments, {params}, {rest...},
 * order of addition, 404 versus 405 with its Allow list, HEAD served by GET,
 * trailing slashes, patterns refused at add time, and the first-segment
 * filter that never changes which route wins.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "http/router.h"

static dg_rc h1(struct dg_req *r)
{
	(void)r;
	return DG_OK;
}
static dg_rc h2(struct dg_req *r)
{
	(void)r;
	return DG_OK;
}

static const struct dg_route routes[] = {
	{"GET", "/", h1, DG_ROLE_ANY, 0},
	{"GET", "/jobs/new", h2, DG_ROLE_ANY, 0},
	{"GET", "/jobs/{id}", h1, DG_ROLE_ANY, 0},
	{"POST", "/jobs/{id}", h2, DG_ROLE_USER, 0},
	{"GET", "/a/{x}/b/{y}", h1, DG_ROLE_ANY, 0},
	{"GET", "/static/{path...}", h2, DG_ROLE_ANY, 0},
	{"DELETE", "/api/v1/t/{id}", h1, DG_ROLE_ADMIN, DG_ROUTE_NO_CSRF},
};

static struct dg_router *make(void)
{
	struct dg_router *rt = dg_router_new();
	assert_int_equal(dg_router_add(rt, routes, sizeof(routes) / sizeof(routes[0])), DG_OK);
	return rt;
}

static dg_rc match(struct dg_router *rt, struct dg_arena *a, const char *m, const char *p,
		   struct dg_kvs *params, const struct dg_route **out, const char **allow)
{
	memset(params, 0, sizeof(*params));
	return dg_router_match(rt, m, p, a, params, out, allow);
}

static void params_and_order(void **state)
{
	(void)state;
	struct dg_router *rt = make();
	struct dg_arena *a = dg_arena_new();
	struct dg_kvs kv;
	const struct dg_route *r;
	const char *allow;
	assert_int_equal(match(rt, a, "GET", "/", &kv, &r, &allow), DG_OK);
	assert_ptr_equal(r, &routes[0]);
	assert_int_equal(match(rt, a, "GET", "/jobs/new", &kv, &r, &allow), DG_OK);
	assert_ptr_equal(r, &routes[1]); /* added first, so it wins over {id} */
	assert_int_equal(kv.n, 0);
	assert_int_equal(match(rt, a, "GET", "/jobs/42", &kv, &r, &allow), DG_OK);
	assert_ptr_equal(r, &routes[2]);
	assert_string_equal(dg_kvs_get(&kv, "id"), "42");
	assert_int_equal(match(rt, a, "POST", "/jobs/42", &kv, &r, &allow), DG_OK);
	assert_ptr_equal(r, &routes[3]);
	assert_int_equal(match(rt, a, "GET", "/a/1/b/中文", &kv, &r, &allow), DG_OK);
	assert_string_equal(dg_kvs_get(&kv, "x"), "1");
	assert_string_equal(dg_kvs_get(&kv, "y"), "中文");
	assert_int_equal(kv.n, 2);
	dg_arena_free(a);
	dg_router_free(rt);
}

static void rest_params(void **state)
{
	(void)state;
	struct dg_router *rt = make();
	struct dg_arena *a = dg_arena_new();
	struct dg_kvs kv;
	const struct dg_route *r;
	assert_int_equal(match(rt, a, "GET", "/static/css/site.css", &kv, &r, NULL), DG_OK);
	assert_ptr_equal(r, &routes[5]);
	assert_string_equal(dg_kvs_get(&kv, "path"), "css/site.css");
	assert_int_equal(match(rt, a, "GET", "/static/x", &kv, &r, NULL), DG_OK);
	assert_string_equal(dg_kvs_get(&kv, "path"), "x");
	/* the rest must not be empty */
	assert_int_equal(match(rt, a, "GET", "/static/", &kv, &r, NULL), DG_ENOTFOUND);
	assert_int_equal(match(rt, a, "GET", "/static", &kv, &r, NULL), DG_ENOTFOUND);
	dg_arena_free(a);
	dg_router_free(rt);
}

static void not_found_vs_method(void **state)
{
	(void)state;
	struct dg_router *rt = make();
	struct dg_arena *a = dg_arena_new();
	struct dg_kvs kv;
	const struct dg_route *r;
	const char *allow = "x";
	assert_int_equal(match(rt, a, "GET", "/nope", &kv, &r, &allow), DG_ENOTFOUND);
	assert_null(r);
	assert_null(allow);
	assert_int_equal(match(rt, a, "PUT", "/jobs/7", &kv, &r, &allow), DG_EMETHOD);
	assert_null(r);
	assert_string_equal(allow, "GET, HEAD, POST");
	assert_int_equal(kv.n, 0); /* no parameters leak from a failed match */
	assert_int_equal(match(rt, a, "GET", "/api/v1/t/3", &kv, &r, &allow), DG_EMETHOD);
	assert_string_equal(allow, "DELETE");
	assert_int_equal(match(rt, a, "POST", "/", &kv, &r, &allow), DG_EMETHOD);
	assert_string_equal(allow, "GET, HEAD");
	assert_int_equal(match(rt, a, "GET", "", &kv, &r, &allow), DG_ENOTFOUND);
	assert_int_equal(match(rt, a, "GET", "jobs/1", &kv, &r, &allow), DG_ENOTFOUND);
	dg_arena_free(a);
	dg_router_free(rt);
}

static void head_is_get(void **state)
{
	(void)state;
	struct dg_router *rt = make();
	struct dg_arena *a = dg_arena_new();
	struct dg_kvs kv;
	const struct dg_route *r;
	const char *allow;
	assert_int_equal(match(rt, a, "HEAD", "/jobs/9", &kv, &r, &allow), DG_OK);
	assert_ptr_equal(r, &routes[2]);
	assert_string_equal(dg_kvs_get(&kv, "id"), "9");
	assert_int_equal(match(rt, a, "HEAD", "/api/v1/t/3", &kv, &r, &allow), DG_EMETHOD);
	dg_arena_free(a);
	dg_router_free(rt);
}

static void trailing_slash_and_empty_segments(void **state)
{
	(void)state;
	struct dg_router *rt = make();
	struct dg_arena *a = dg_arena_new();
	struct dg_kvs kv;
	const struct dg_route *r;
	assert_int_equal(match(rt, a, "GET", "/jobs/", &kv, &r, NULL), DG_ENOTFOUND);
	assert_int_equal(match(rt, a, "GET", "/jobs/5/", &kv, &r, NULL), DG_ENOTFOUND);
	assert_int_equal(match(rt, a, "GET", "/jobs//5", &kv, &r, NULL), DG_ENOTFOUND);
	assert_int_equal(match(rt, a, "GET", "//", &kv, &r, NULL), DG_ENOTFOUND);
	/* a decoded %2F is a real slash: it never lands inside a {param} */
	assert_int_equal(match(rt, a, "GET", "/jobs/a/b", &kv, &r, NULL), DG_ENOTFOUND);
	dg_arena_free(a);
	dg_router_free(rt);
}

static void bad_patterns(void **state)
{
	(void)state;
	static const struct dg_route bad[][1] = {
		{{"GET", "nope", h1, 0, 0}},   {{"GET", "/a/", h1, 0, 0}},
		{{"GET", "/a//b", h1, 0, 0}},  {{"GET", "/{}", h1, 0, 0}},
		{{"GET", "/{a-b}", h1, 0, 0}}, {{"GET", "/{rest...}/x", h1, 0, 0}},
		{{"GET", "/x{y}", h1, 0, 0}},  {{"GET", NULL, h1, 0, 0}},
		{{NULL, "/", h1, 0, 0}},       {{"GET", "/", NULL, 0, 0}},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dg_router *rt = dg_router_new();
		assert_int_equal(dg_router_add(rt, bad[i], 1), DG_EINVAL);
		assert_int_equal(dg_router_count(rt), 0);
		dg_router_free(rt);
	}
	struct dg_router *rt = make();
	assert_int_equal(dg_router_count(rt), 7);
	assert_ptr_equal(dg_router_at(rt, 6), &routes[6]);
	assert_null(dg_router_at(rt, 7));
	dg_router_free(rt);
}

/*
 * Routes passed over by their first segment's hash: a route that begins
 * with a parameter is never passed over, so one added earlier still wins;
 * prefixes of a segment are not the segment.
 */
static void first_segment_keeps_order(void **state)
{
	(void)state;
	static const struct dg_route list[] = {
		{"GET", "/{a}/x", h1, DG_ROLE_ANY, 0}, {"GET", "/jobs/x", h2, DG_ROLE_ANY, 0},
		{"GET", "/jo", h1, DG_ROLE_ANY, 0},    {"GET", "/jobsx", h2, DG_ROLE_ANY, 0},
		{"GET", "/", h1, DG_ROLE_ANY, 0},      {"GET", "/jobs", h2, DG_ROLE_ANY, 0},
	};
	struct dg_router *rt = dg_router_new();
	assert_int_equal(dg_router_add(rt, list, sizeof(list) / sizeof(list[0])), DG_OK);
	struct dg_arena *a = dg_arena_new();
	struct dg_kvs kv;
	const struct dg_route *r;
	assert_int_equal(match(rt, a, "GET", "/jobs/x", &kv, &r, NULL), DG_OK);
	assert_ptr_equal(r, &list[0]);
	assert_string_equal(dg_kvs_get(&kv, "a"), "jobs");
	assert_int_equal(match(rt, a, "GET", "/jo", &kv, &r, NULL), DG_OK);
	assert_ptr_equal(r, &list[2]);
	assert_int_equal(match(rt, a, "GET", "/jobsx", &kv, &r, NULL), DG_OK);
	assert_ptr_equal(r, &list[3]);
	assert_int_equal(match(rt, a, "GET", "/jobs", &kv, &r, NULL), DG_OK);
	assert_ptr_equal(r, &list[5]);
	assert_int_equal(match(rt, a, "GET", "/", &kv, &r, NULL), DG_OK);
	assert_ptr_equal(r, &list[4]);
	assert_int_equal(match(rt, a, "GET", "/job", &kv, &r, NULL), DG_ENOTFOUND);
	assert_int_equal(match(rt, a, "GET", "/jobs/y", &kv, &r, NULL), DG_ENOTFOUND);
	assert_int_equal(match(rt, a, "GET", "//x", &kv, &r, NULL), DG_ENOTFOUND);
	dg_arena_free(a);
	dg_router_free(rt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(params_and_order),
		cmocka_unit_test(rest_params),
		cmocka_unit_test(not_found_vs_method),
		cmocka_unit_test(head_is_get),
		cmocka_unit_test(trailing_slash_and_empty_segments),
		cmocka_unit_test(bad_patterns),
		cmocka_unit_test(first_segment_keeps_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
