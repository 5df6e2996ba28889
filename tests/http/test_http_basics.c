/*
 * test_http_basics.c - the HTTP layer through the real app: error pages in
 * both languages and JSON under /api/, 405 with Allow, 413 and 431, the
 * security headers on pages, errors and static files, keep-alive, static
 * files (ETag, 304, traversal and dotfiles refused), HEAD, /healthz and
 * request ids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "app/app.h"
#include "harness.h"

static struct th_srv *srv;
static struct th_client *cl;
static char stdir[64];
static char outside[96];

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A static folder of our own: a CSS file, a dotfile, a subfolder, a link out. */
static void make_static(void)
{
	snprintf(stdir, sizeof(stdir), "/tmp/dgov-static-XXXXXX");
	assert_non_null(mkdtemp(stdir));
	write_file(stdir, "site.css", "body{color:#000}\n");
	write_file(stdir, ".secret.css", "x\n");
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/js", stdir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_file(sub, "app.js", "1;\n");
	snprintf(outside, sizeof(outside), "%s-outside.txt", stdir);
	FILE *f = fopen(outside, "w");
	assert_non_null(f);
	fputs("outside\n", f);
	fclose(f);
	char link[160];
	snprintf(link, sizeof(link), "%s/out.txt", stdir);
	assert_int_equal(symlink(outside, link), 0);
}

static int setup(void **state)
{
	(void)state;
	make_static();
	struct th_opts o = {.demo = true, .max_body = 4096, .static_dir = stdir};
	srv = th_start_opts(&o);
	cl = th_client_new(srv);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_client_free(cl);
	th_stop(srv);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", stdir, outside);
	return system(cmd);
}

static void assert_header(const struct th_resp *r, const char *name, const char *want)
{
	char *v = th_header(r, name);
	if (!v)
		fail_msg("header %s missing", name);
	if (want && strcmp(v, want) != 0)
		fail_msg("header %s is '%s', not '%s'", name, v, want);
	free(v);
}

static void assert_security_headers(const struct th_resp *r)
{
	assert_header(r, "Content-Security-Policy",
		      "default-src 'self'; img-src 'self' data:; style-src 'self'; "
		      "script-src 'self'; object-src 'none'; base-uri 'self'; "
		      "form-action 'self'; frame-ancestors 'none'");
	assert_header(r, "X-Content-Type-Options", "nosniff");
	assert_header(r, "Referrer-Policy", "same-origin");
	assert_header(r, "X-Frame-Options", "DENY");
	assert_header(r, "X-Request-Id", NULL);
	assert_header(r, "Content-Type", NULL);
}

static void not_found_pages(void **state)
{
	(void)state;
	struct th_resp r;
	assert_int_equal(th_get(cl, "/", &r), 200);
	assert_security_headers(&r);
	/* the home page comes from the page cache (its first visit sets a cookie: private) */
	assert_header(&r, "Cache-Control", "private, no-cache");
	assert_header(&r, "ETag", NULL);
	th_resp_release(&r);
	assert_int_equal(th_get(cl, "/no/such/page", &r), 404);
	assert_non_null(strstr(r.body, "lang=\"zh"));
	assert_header(&r, "Content-Type", "text/html; charset=utf-8");
	assert_security_headers(&r);
	assert_header(&r, "Cache-Control", "no-store");
	th_resp_release(&r);

	const char *en[] = {"Accept-Language: en-US,en;q=0.9", NULL};
	assert_int_equal(th_request(cl, "GET", "/no/such/page", NULL, NULL, 0, en, &r), 404);
	assert_non_null(strstr(r.body, "lang=\"en"));
	th_resp_release(&r);

	assert_int_equal(th_get(cl, "/api/v1/no-such-thing", &r), 404);
	assert_header(&r, "Content-Type", "application/json; charset=utf-8");
	assert_non_null(strstr(r.body, "\"code\":\"ENOTFOUND\""));
	assert_security_headers(&r);
	th_resp_release(&r);
}

static void method_not_allowed(void **state)
{
	(void)state;
	struct th_resp r;
	assert_int_equal(th_request(cl, "DELETE", "/healthz", NULL, NULL, 0, NULL, &r), 405);
	assert_header(&r, "Allow", "GET, HEAD");
	assert_security_headers(&r);
	th_resp_release(&r);
}

static void too_large(void **state)
{
	(void)state;
	static char big[20000];
	memset(big, 'a', sizeof(big));
	memcpy(big, "x=", 2);
	struct th_resp r;
	const char *expect[] = {"Expect: 100-continue", NULL};
	assert_int_equal(th_request(cl, "POST", "/login", "application/x-www-form-urlencoded", big,
				    sizeof(big), expect, &r),
			 413);
	/* the app's own error page, in the layout, with the message */
	assert_non_null(strstr(r.body, "<main id=\"main\""));
	assert_security_headers(&r);
	th_resp_release(&r);
	const char *chunked[] = {"Transfer-Encoding: chunked", NULL};
	assert_int_equal(th_request(cl, "POST", "/login", "application/x-www-form-urlencoded", big,
				    sizeof(big), chunked, &r),
			 413);
	th_resp_release(&r);
	assert_int_equal(th_request(cl, "POST", "/api/v1/x", "application/json", big, sizeof(big),
				    chunked, &r),
			 413);
	assert_non_null(strstr(r.body, "\"code\":\"ETOOBIG\""));
	th_resp_release(&r);
}

static void headers_too_large(void **state)
{
	(void)state;
	static char h[40000];
	memcpy(h, "X-Filler: ", 10);
	memset(h + 10, 'f', 30000);
	h[30010] = '\0';
	const char *hs[] = {h, NULL};
	struct th_client *c = th_client_new(srv);
	struct th_resp r;
	assert_int_equal(th_request(c, "GET", "/", NULL, NULL, 0, hs, &r), 431);
	th_resp_release(&r);
	/* over our cap but inside MHD's pool: our own page with all the headers */
	h[10 + 17000] = '\0';
	assert_int_equal(th_request(c, "GET", "/", NULL, NULL, 0, hs, &r), 431);
	assert_security_headers(&r);
	th_resp_release(&r);
	th_client_free(c);
}

static void keep_alive(void **state)
{
	(void)state;
	char *url = th_url(srv, "/healthz");
	CURL *h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fwrite);
	FILE *null = fopen("/dev/null", "w");
	curl_easy_setopt(h, CURLOPT_WRITEDATA, null);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	long n = -1;
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &n);
	assert_int_equal(n, 1);
	assert_int_equal(curl_easy_perform(h), CURLE_OK);
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &n);
	assert_int_equal(n, 0);
	curl_easy_cleanup(h);
	fclose(null);
	free(url);
}

static void static_files(void **state)
{
	(void)state;
	struct th_resp r;
	assert_int_equal(th_get(cl, "/static/site.css", &r), 200);
	assert_string_equal(r.body, "body{color:#000}\n");
	assert_header(&r, "Content-Type", "text/css; charset=utf-8");
	assert_header(&r, "Cache-Control", "public, max-age=86400");
	assert_security_headers(&r);
	char *etag = th_header(&r, "ETag");
	assert_non_null(etag);
	assert_int_equal(etag[0], '"');
	th_resp_release(&r);

	char inm[128];
	snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
	const char *h[] = {inm, NULL};
	assert_int_equal(th_request(cl, "GET", "/static/site.css", NULL, NULL, 0, h, &r), 304);
	assert_int_equal(r.len, 0);
	th_resp_release(&r);
	free(etag);

	assert_int_equal(th_get(cl, "/static/js/app.js", &r), 200);
	assert_header(&r, "Content-Type", "text/javascript; charset=utf-8");
	th_resp_release(&r);
	static const char *const refused[] = {
		"/static/.secret.css",
		"/static/../static/site.css",
		"/static/%2e%2e/etc/passwd",
		"/static/js/../site.css",
		"/static/out.txt",
		"/static/js",
		"/static/missing.css",
		"/static/site.css.bak",
		"/static/..%2f..%2fetc%2fpasswd",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		long st = th_get(cl, refused[i], &r);
		if (st != 404)
			fail_msg("%s gave %ld, not 404", refused[i], st);
		th_resp_release(&r);
	}
}

static void head_has_no_body(void **state)
{
	(void)state;
	struct th_resp r;
	assert_int_equal(th_request(cl, "HEAD", "/healthz", NULL, NULL, 0, NULL, &r), 200);
	assert_int_equal(r.len, 0);
	assert_header(&r, "Content-Type", "application/json; charset=utf-8");
	th_resp_release(&r);
	assert_int_equal(th_request(cl, "HEAD", "/static/site.css", NULL, NULL, 0, NULL, &r), 200);
	assert_int_equal(r.len, 0);
	assert_header(&r, "Content-Length", "17");
	th_resp_release(&r);
}

static void healthz_and_ids(void **state)
{
	(void)state;
	struct th_resp r;
	assert_int_equal(th_get(cl, "/healthz", &r), 200);
	assert_non_null(strstr(r.body, "\"status\":\"ok\""));
	const char *pg = getenv("DGOV_TEST_DB");
	const char *kind = pg && pg[0] ? "\"store\":\"postgresql\"" : "\"store\":\"sqlite\"";
	assert_non_null(strstr(r.body, kind));
	char *id1 = th_header(&r, "X-Request-Id");
	th_resp_release(&r);
	assert_int_equal(th_get(cl, "/healthz", &r), 200);
	char *id2 = th_header(&r, "X-Request-Id");
	th_resp_release(&r);
	assert_non_null(id1);
	assert_non_null(id2);
	assert_int_equal(strlen(id1), 16);
	assert_string_not_equal(id1, id2);
	free(id1);
	free(id2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(not_found_pages),  cmocka_unit_test(method_not_allowed),
		cmocka_unit_test(too_large),        cmocka_unit_test(headers_too_large),
		cmocka_unit_test(keep_alive),       cmocka_unit_test(static_files),
		cmocka_unit_test(head_has_no_body), cmocka_unit_test(healthz_and_ids),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
