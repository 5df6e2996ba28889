/*
 * test_access_matrix.c - deny by default, checked: every route the app
 * serves (all modules, read from app->router) is requested as an anonymous
 * visitor, a citizen, an enterprise agent, department staff and an
 * administrator, and the outcome class is compared with the hand-written
 * expectation in tests/http/access.txt. A route missing from that file, or
 * a line there with no route, fails the test: each new route has to be
 * added to the matrix deliberately.
 *
 * Outcome classes: ok (the handler ran: 2xx, 3xx elsewhere than sign-in,
 * or a 4xx about the input such as 400/409/413/422), login (303 to /login),
 * 401, 403, 404 (the handler found nothing for the dummy id 999999), 405.
 * A 5xx always fails. Unsafe methods carry a valid CSRF token, so a 403 is
 * about the role, not the token. Each request uses a freshly signed-in
 * client so a route such as POST /logout cannot disturb the next one.
 *
 * DGOV_ACCESS_PRINT=1 prints the observed matrix in access.txt's format
 * (to draft new lines; never paste it without reading it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/app.h"
#include "node/demo.h"
#include "harness.h"
#include "http/router.h"

#define NROLES    5
#define MAX_LINES 512

static const char *const role_users[NROLES] = {NULL, DG_DEMO_CITIZEN, DG_DEMO_AGENT, DG_DEMO_STAFF,
					       DG_DEMO_ADMIN};
static const char *const role_names[NROLES] = {"anon", "citizen", "agent", "staff", "admin"};

struct expect {
	char method[16];
	char pattern[256];
	char cls[NROLES][8];
	bool seen;
};

static struct expect lines[MAX_LINES];
static size_t nlines;

static bool known_class(const char *c)
{
	static const char *const all[] = {"ok", "login", "401", "403", "404", "405"};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(c, all[i]) == 0)
			return true;
	return false;
}

static void load_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	char buf[512];
	int lineno = 0;
	while (fgets(buf, sizeof(buf), f)) {
		lineno++;
		char *p = buf;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		assert_true(nlines < MAX_LINES);
		struct expect *e = &lines[nlines];
		int n = sscanf(p, "%15s %255s %7s %7s %7s %7s %7s", e->method, e->pattern,
			       e->cls[0], e->cls[1], e->cls[2], e->cls[3], e->cls[4]);
		if (n != 7)
			fail_msg("%s:%d: want METHOD PATTERN and 5 classes", path, lineno);
		for (int i = 0; i < NROLES; i++)
			if (!known_class(e->cls[i]))
				fail_msg("%s:%d: unknown class %s", path, lineno, e->cls[i]);
		nlines++;
	}
	fclose(f);
}

/*
 * DGOV_ACCESS_TXT names one file; otherwise every tests/http/access*.txt is
 * read (one per domain: access.txt, access-catalog.txt, ...).
 */
static void load_expectations(void)
{
	const char *path = getenv("DGOV_ACCESS_TXT");
	if (path) {
		load_file(path);
		return;
	}
	const char *root = getenv("DGOV_ROOT");
	char pattern[4096];
	snprintf(pattern, sizeof(pattern), "%s/tests/http/access*.txt", root ? root : ".");
	glob_t g;
	if (glob(pattern, 0, NULL, &g) != 0)
		fail_msg("no expectations match %s", pattern);
	for (size_t i = 0; i < g.gl_pathc; i++)
		load_file(g.gl_pathv[i]);
	globfree(&g);
}

/* The pattern with every {param} (and {rest...}) replaced by a dummy value. */
static void concrete_path(const char *pattern, char *out, size_t n)
{
	size_t k = 0;
	for (const char *p = pattern; *p && k + 8 < n;) {
		if (*p == '{') {
			const char *end = strchr(p, '}');
			bool rest = end && end - p > 4 && strncmp(end - 3, "...", 3) == 0;
			const char *dummy = rest ? "no-such-file.txt" : "999999";
			k += (size_t)snprintf(out + k, n - k, "%s", dummy);
			p = end ? end + 1 : p + strlen(p);
		} else {
			out[k++] = *p++;
		}
	}
	out[k] = '\0';
}

static const char *classify(long status, const char *location)
{
	if (status >= 300 && status < 400 && location && strncmp(location, "/login", 6) == 0)
		return "login";
	switch (status) {
	case 401: return "401";
	case 403: return "403";
	case 404: return "404";
	case 405: return "405";
	default: break;
	}
	if (status >= 500 || status == 0)
		return "error";
	return "ok";
}

static const char *outcome(const struct dg_route *rt, int role)
{
	struct th_client *c = th_client_new(th_shared);
	if (role_users[role] && !th_login(c, role_users[role], DG_DEMO_PASSWORD))
		fail_msg("cannot sign in as %s", role_users[role]);
	char path[512];
	concrete_path(rt->pattern, path, sizeof(path));
	struct th_resp r;
	long st;
	if (strcmp(rt->method, "GET") == 0) {
		st = th_get(c, path, &r);
	} else {
		char *csrf = th_csrf(c, "/login");
		char hdr[160], body[160];
		snprintf(hdr, sizeof(hdr), "X-CSRF-Token: %s", csrf ? csrf : "");
		snprintf(body, sizeof(body), "csrf=%s", csrf ? csrf : "");
		const char *h[] = {hdr, NULL};
		st = th_request(c, rt->method, path, "application/x-www-form-urlencoded", body,
				strlen(body), h, &r);
		free(csrf);
	}
	char *loc = th_header(&r, "Location");
	const char *cls = classify(st, loc);
	free(loc);
	th_resp_release(&r);
	th_client_free(c);
	return cls;
}

static struct expect *find_line(const struct dg_route *rt)
{
	for (size_t i = 0; i < nlines; i++)
		if (strcmp(lines[i].method, rt->method) == 0 &&
		    strcmp(lines[i].pattern, rt->pattern) == 0)
			return &lines[i];
	return NULL;
}

static void every_route_for_every_role(void **state)
{
	(void)state;
	load_expectations();
	struct dg_router *router = th_app(th_shared)->router;
	size_t n = dg_router_count(router);
	bool print = getenv("DGOV_ACCESS_PRINT") != NULL;
	int failures = 0;
	assert_true(n > 0);
	for (size_t i = 0; i < n; i++) {
		const struct dg_route *rt = dg_router_at(router, i);
		struct expect *e = find_line(rt);
		if (!e && !print) {
			print_error("route %s %s is missing from tests/http/access.txt\n",
				    rt->method, rt->pattern);
			failures++;
			continue;
		}
		if (e)
			e->seen = true;
		if (print)
			printf("%-6s %-40s", rt->method, rt->pattern);
		for (int role = 0; role < NROLES; role++) {
			const char *got = outcome(rt, role);
			if (print)
				printf(" %-6s", got);
			if (e && strcmp(got, e->cls[role]) != 0) {
				print_error("%s %s as %s: expected %s, got %s\n", rt->method,
					    rt->pattern, role_names[role], e->cls[role], got);
				failures++;
			}
		}
		if (print)
			printf("\n");
	}
	for (size_t i = 0; i < nlines; i++)
		if (!lines[i].seen) {
			print_error("access.txt lists %s %s, which no longer exists\n",
				    lines[i].method, lines[i].pattern);
			failures++;
		}
	assert_int_equal(failures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_route_for_every_role),
	};
	return cmocka_run_group_tests(tests, th_group_setup, th_group_teardown);
}
