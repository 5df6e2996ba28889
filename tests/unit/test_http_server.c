/*
 * test_http_server.c - server.c and req.c on their own: a real MHD daemon on
 * a loopback port with a tiny dispatch function, driven with libcurl. Covers
 * the request life cycle (query, cookies, form, JSON and multipart bodies),
 * the caps (413 declared and chunked, 431), keep-alive, HEAD, the headers
 * every reply carries, request ids, a graceful stop, and streamed replies
 * (chunked, cut off on a producer's error, released when the client leaves),
 * and held replies (sent only after their release, more at once than the
 * server has threads, and a stop that waits for them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <pthread.h>

#include "core/rand.h"
#include "http/server.h"

static struct dg_server *srv;
static atomic_bool slow_started; /* the /slow handler has begun */
static char updir[64];

/*
 * A streamed reply of n lines "line NNNNNN\n", PAGE_LINES a call; the call
 * that reaches line fail_at (0: none) fails instead. Counters tell the test
 * what happened on the server's side.
 */
#define PAGE_LINES 1000
struct lines {
	long next, n, fail_at;
};
static atomic_int released;          /* streams released */
static atomic_bool request_freed;    /* the streaming request's arena is gone */
static atomic_bool freed_while_sent; /* ... and was gone when a later page was made */

static dg_rc lines_produce(void *ctx, struct dg_buf *out, bool *done)
{
	struct lines *l = ctx;
	if (l->next > 0 && atomic_load(&request_freed))
		atomic_store(&freed_while_sent, true);
	for (long k = 0; k < PAGE_LINES && l->next < l->n; k++, l->next++) {
		if (l->fail_at && l->next == l->fail_at)
			return DG_EIO;
		if (dg_buf_addf(out, "line %06ld\n", l->next))
			return DG_ETOOBIG;
	}
	*done = l->next == l->n;
	return DG_OK;
}

static void lines_release(void *ctx)
{
	free(ctx);
	atomic_fetch_add(&released, 1);
}

static const struct dg_stream_ops lines_ops = {lines_produce, lines_release};

static void note_freed(void *p)
{
	(void)p;
	atomic_store(&request_freed, true);
}

static void stream_lines(struct dg_req *r)
{
	struct lines *l = calloc(1, sizeof(*l));
	const char *n = dg_kvs_get(&r->query, "n"), *f = dg_kvs_get(&r->query, "fail");
	l->n = n ? strtol(n, NULL, 10) : 0;
	l->fail_at = f ? strtol(f, NULL, 10) : 0;
	atomic_store(&request_freed, false);
	atomic_store(&freed_while_sent, false);
	dg_arena_defer(r->arena, note_freed, NULL);
	dg_reply_stream(r, 200, "text/plain; charset=utf-8", &lines_ops, l);
	dg_reply_header(r, "Content-Disposition", "attachment; filename=\"lines.txt\"");
}

/*
 * A held reply (dg_server_hold): released by a thread of its own after
 * HOLD_MS (0: at once, inside the handler, before the server could
 * suspend); once resumed, the reply is replaced, so the client sees only
 * what was made after the release.
 */
#define HOLD_MS 200
static atomic_int held_released, held_started;

static void *release_later(void *arg)
{
	usleep(HOLD_MS * 1000);
	atomic_fetch_add(&held_released, 1);
	dg_server_release(arg);
	return NULL;
}

static void held_resumed(struct dg_req *r, void *ctx)
{
	(void)ctx;
	dg_reply_bytes(r, 200, "text/plain; charset=utf-8", "after", 5);
}

static void held(struct dg_req *r, bool now)
{
	dg_reply_bytes(r, 200, "text/plain; charset=utf-8", "before", 6);
	dg_server_hold(r, held_resumed, NULL);
	atomic_fetch_add(&held_started, 1);
	pthread_t t;
	if (now) {
		atomic_fetch_add(&held_released, 1);
		dg_server_release(r);
	} else if (pthread_create(&t, NULL, release_later, r) == 0) {
		pthread_detach(t);
	} else {
		dg_server_release(r);
	}
}

/* Echo what the request carried, as JSON. */
static void dispatch(void *ctx, struct dg_req *r)
{
	(void)ctx;
	if (strcmp(r->path, "/held") == 0 || strcmp(r->path, "/held-now") == 0) {
		held(r, strcmp(r->path, "/held-now") == 0);
		return;
	}
	if (strcmp(r->path, "/stream") == 0) {
		stream_lines(r);
		return;
	}
	if (strcmp(r->path, "/stream-replaced") == 0) {
		stream_lines(r);
		dg_reply_bytes(r, 200, "text/plain; charset=utf-8", "replaced", 8);
		return;
	}
	if (strcmp(r->path, "/nothing") == 0)
		return; /* the server must answer 500 itself */
	if (strcmp(r->path, "/slow") == 0) {
		atomic_store(&slow_started, true);
		usleep(300 * 1000);
		dg_reply_bytes(r, 200, "text/plain; charset=utf-8", "slow", 4);
		return;
	}
	if (strcmp(r->path, "/redirect") == 0) {
		dg_reply_redirect(r, "//evil.example/");
		return;
	}
	if (strcmp(r->path, "/cookie") == 0) {
		dg_reply_cookie(r, "lang", "en", 100, false);
		dg_reply_cookie(r, "bad", "a;b", 100, false);
		dg_reply_bytes(r, 200, "text/plain; charset=utf-8", "ok", 2);
		return;
	}
	if (strcmp(r->path, "/cached") == 0)
		dg_reply_header(r, "Cache-Control", "public, max-age=60");
	if (strcmp(r->path, "/api/err") == 0) {
		dg_reply_json_error(r, DG_EINVAL, "bad", "name");
		return;
	}
	json_t *form = json_object(), *q = json_object(), *c = json_object();
	for (size_t i = 0; i < r->form.n; i++)
		json_object_set_new(form, r->form.v[i].key, json_string(r->form.v[i].val));
	for (size_t i = 0; i < r->query.n; i++)
		json_object_set_new(q, r->query.v[i].key, json_string(r->query.v[i].val));
	for (size_t i = 0; i < r->cookies.n; i++)
		json_object_set_new(c, r->cookies.v[i].key, json_string(r->cookies.v[i].val));
	json_t *ups = json_array();
	for (size_t i = 0; i < r->nuploads; i++) {
		struct stat st;
		int on_disk = stat(r->uploads[i].path, &st) == 0 ? (int)st.st_size : -1;
		json_array_append_new(ups, json_pack("{s:s, s:s, s:i, s:i}", "field",
						     r->uploads[i].field, "filename",
						     r->uploads[i].filename, "size",
						     (int)r->uploads[i].size, "on_disk", on_disk));
	}
	json_t *j = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:O?, s:s?}", "method", r->method,
			      "path", r->path, "form", form, "query", q, "cookies", c, "uploads",
			      ups, "json", r->json, "body", r->body);
	dg_reply_json(r, 200, j);
}

static int setup(void **state)
{
	(void)state;
	if (dg_rand_init())
		return -1;
	snprintf(updir, sizeof(updir), "/tmp/dgov-srv-XXXXXX");
	if (!mkdtemp(updir))
		return -1;
	struct dg_server_opts o = {
		.host = "127.0.0.1",
		.threads = 2,
		.max_body = 4096,
		.max_upload = 2048,
		.max_header = 8192,
		.upload_dir = updir,
		.dispatch = dispatch,
	};
	struct dg_err err = {0};
	return dg_server_start(&o, &srv, &err) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	dg_server_stop(srv, 2000);
	return rmdir(updir); /* fails if an upload was left behind */
}

struct resp {
	long status;
	char body[65536];
	size_t len;
	char hdrs[16384];
	size_t hlen;
};

static size_t on_body(char *p, size_t s, size_t n, void *ud)
{
	struct resp *r = ud;
	size_t k = s * n;
	if (r->len + k < sizeof(r->body)) {
		memcpy(r->body + r->len, p, k);
		r->len += k;
		r->body[r->len] = '\0';
	}
	return k;
}

static size_t on_hdr(char *p, size_t s, size_t n, void *ud)
{
	struct resp *r = ud;
	size_t k = s * n;
	if (r->hlen + k < sizeof(r->hdrs)) {
		memcpy(r->hdrs + r->hlen, p, k);
		r->hlen += k;
		r->hdrs[r->hlen] = '\0';
	}
	return k;
}

struct rd {
	const char *p;
	size_t left;
};

static size_t on_read(char *b, size_t s, size_t n, void *ud)
{
	struct rd *u = ud;
	size_t k = s * n < u->left ? s * n : u->left;
	if (k > 512)
		k = 512;
	memcpy(b, u->p, k);
	u->p += k;
	u->left -= k;
	return k;
}

/* One request on handle h (NULL: a fresh one). chunked sends body with no length. */
static long req(CURL *h, const char *method, const char *path, const char *const *hdrs,
		const char *body, size_t len, bool chunked, struct resp *r)
{
	bool own = !h;
	if (own)
		h = curl_easy_init();
	char url[512];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", dg_server_port(srv), path);
	struct curl_slist *l = NULL;
	for (; hdrs && *hdrs; hdrs++)
		l = curl_slist_append(l, *hdrs);
	memset(r, 0, sizeof(*r));
	struct rd rd = {body, len};
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_hdr);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	if (body && chunked) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, &rd);
	} else if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	}
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(l);
	if (own)
		curl_easy_cleanup(h);
	return r->status;
}

static bool has(const struct resp *r, const char *header_line)
{
	return strcasestr(r->hdrs, header_line) != NULL;
}

static void security_headers(const struct resp *r)
{
	assert_true(has(r, "Content-Security-Policy: default-src 'self'; img-src 'self' data:; "
			   "style-src 'self'; script-src 'self'; object-src 'none'; base-uri "
			   "'self'; form-action 'self'; frame-ancestors 'none'\r\n"));
	assert_true(has(r, "X-Content-Type-Options: nosniff\r\n"));
	assert_true(has(r, "Referrer-Policy: same-origin\r\n"));
	assert_true(has(r, "X-Frame-Options: DENY\r\n"));
	assert_true(has(r, "X-Request-Id: "));
	assert_true(has(r, "Content-Type: "));
}

static struct resp R;

static void query_cookies_form(void **state)
{
	(void)state;
	const char *h[] = {"Cookie: lang=en; dg_session=\"abc\"; junk", NULL};
	assert_int_equal(req(NULL, "GET", "/x/%E4%B8%AD?a=1&b=x+y&a=2", h, NULL, 0, false, &R),
			 200);
	assert_non_null(strstr(R.body, "\"path\":\"/x/\\u4e2d\"") ? R.body
								  : strstr(R.body, "/x/中"));
	assert_non_null(strstr(R.body, "\"query\":{\"a\":\"2\",\"b\":\"x y\"}")
				? R.body
				: strstr(R.body, "\"b\":\"x y\""));
	assert_non_null(strstr(R.body, "\"dg_session\":\"abc\""));
	assert_true(has(&R, "Cache-Control: no-store\r\n"));
	security_headers(&R);
	const char *f[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
	const char *body = "name=%E5%BC%A0%E4%B8%89&note=a+b";
	assert_int_equal(req(NULL, "POST", "/f", f, body, strlen(body), false, &R), 200);
	assert_non_null(strstr(R.body, "\"note\":\"a b\""));
	assert_non_null(strstr(R.body, "\"method\":\"POST\""));
	/* bad UTF-8 in the query or the form: 400 before any handler runs */
	assert_int_equal(req(NULL, "GET", "/x?a=%FF", NULL, NULL, 0, false, &R), 400);
	assert_non_null(strstr(R.body, "<html lang=\"zh-CN\">"));
	security_headers(&R);
	assert_int_equal(req(NULL, "POST", "/f", f, "a=%zz", 5, false, &R), 400);
}

static void json_and_raw_bodies(void **state)
{
	(void)state;
	const char *j[] = {"Content-Type: application/json", NULL};
	assert_int_equal(req(NULL, "POST", "/api/j", j, "{\"k\":[1,2]}", 11, false, &R), 200);
	assert_non_null(strstr(R.body, "\"json\":{\"k\":[1,2]}"));
	assert_int_equal(req(NULL, "POST", "/api/j", j, "{\"k\":1,\"k\":2}", 13, false, &R), 400);
	assert_non_null(strstr(R.body, "\"code\":\"EINVAL\""));
	assert_true(has(&R, "Content-Type: application/json"));
	const char *en[] = {"Content-Type: application/json",
			    "Accept-Language: en-GB,en;q=0.9,zh;q=0.5", NULL};
	assert_int_equal(req(NULL, "POST", "/page", en, "{", 1, false, &R), 400);
	/* without an error hook the server's page carries both languages */
	assert_non_null(strstr(R.body, "<html lang=\"zh-CN\">"));
	assert_non_null(strstr(R.body, "lang=\"en\">The request could not be understood"));
	assert_non_null(strstr(R.body, "<main>"));
	const char *t[] = {"Content-Type: text/csv", NULL};
	assert_int_equal(req(NULL, "POST", "/raw", t, "a,b\n1,2\n", 8, false, &R), 200);
	assert_non_null(strstr(R.body, "\"body\":\"a,b\\n1,2\\n\""));
	assert_int_equal(req(NULL, "GET", "/api/err", NULL, NULL, 0, false, &R), 400);
	assert_non_null(strstr(R.body, "{\"error\":{"));
	assert_non_null(strstr(R.body, "\"field\":\"name\""));
}

static void multipart_upload(void **state)
{
	(void)state;
	const char *h[] = {"Content-Type: multipart/form-data; boundary=XyZ", NULL};
	const char *b =
		"--XyZ\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\n标题\r\n"
		"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n"
		"Content-Type: text/plain\r\n\r\nhello file\r\n--XyZ--\r\n";
	assert_int_equal(req(NULL, "POST", "/up", h, b, strlen(b), true, &R), 200);
	assert_non_null(strstr(R.body, "\"size\":10"));
	assert_non_null(strstr(R.body, "\"on_disk\":10"));
	assert_non_null(strstr(R.body, "\"filename\":\"a.txt\""));
	/* a file over max_upload */
	char big[3000];
	int n = snprintf(
		big, sizeof(big),
		"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"b\"\r\n\r\n");
	memset(big + n, 'x', 2100);
	memcpy(big + n + 2100, "\r\n--XyZ--\r\n", 11);
	assert_int_equal(req(NULL, "POST", "/up", h, big, (size_t)n + 2111, false, &R), 413);
	/* no final boundary */
	assert_int_equal(req(NULL, "POST", "/up", h, b, strlen(b) - 9, false, &R), 400);
	const char *nob[] = {"Content-Type: multipart/form-data", NULL};
	assert_int_equal(req(NULL, "POST", "/up", nob, b, strlen(b), false, &R), 400);
}

static void caps(void **state)
{
	(void)state;
	static char big[10000];
	memset(big, 'a', sizeof(big));
	const char *h[] = {"Content-Type: text/plain", "Expect: 100-continue", NULL};
	assert_int_equal(req(NULL, "POST", "/big", h, big, sizeof(big), false, &R), 413);
	security_headers(&R);
	assert_int_equal(req(NULL, "POST", "/api/big", h, big, sizeof(big), false, &R), 413);
	assert_non_null(strstr(R.body, "\"code\":\"ETOOBIG\""));
	const char *c[] = {"Content-Type: text/plain", NULL};
	assert_int_equal(req(NULL, "POST", "/big", c, big, sizeof(big), true, &R), 413);
	assert_int_equal(req(NULL, "POST", "/ok", c, big, 4096, true, &R), 200);
	/* just under MHD's own limit, over ours: our 431 page */
	static char hv[9000];
	memcpy(hv, "X-Big: ", 7);
	memset(hv + 7, 'b', 8500);
	hv[8507] = '\0';
	const char *hh[] = {hv, NULL};
	assert_int_equal(req(NULL, "GET", "/h", hh, NULL, 0, false, &R), 431);
	security_headers(&R);
	/* far over: MHD answers on its own */
	static char huge[70000];
	memcpy(huge, "X-Huge: ", 8);
	memset(huge + 8, 'h', 60000);
	huge[60008] = '\0';
	const char *hu[] = {huge, NULL};
	assert_int_equal(req(NULL, "GET", "/h", hu, NULL, 0, false, &R), 431);
}

static void keep_alive_head_ids(void **state)
{
	(void)state;
	CURL *h = curl_easy_init();
	assert_int_equal(req(h, "GET", "/a", NULL, NULL, 0, false, &R), 200);
	char id1[64] = "";
	const char *p = strcasestr(R.hdrs, "X-Request-Id: ");
	assert_non_null(p);
	memcpy(id1, p + 14, 16);
	assert_int_equal(req(h, "GET", "/b", NULL, NULL, 0, false, &R), 200);
	long connects = -1;
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
	assert_int_equal(connects, 0);
	p = strcasestr(R.hdrs, "X-Request-Id: ");
	assert_non_null(p);
	assert_memory_not_equal(id1, p + 14, 16);
	curl_easy_cleanup(h);
	assert_int_equal(req(NULL, "HEAD", "/a", NULL, NULL, 0, false, &R), 200);
	assert_int_equal(R.len, 0);
	assert_true(has(&R, "Content-Length: "));
}

static void reply_helpers(void **state)
{
	(void)state;
	assert_int_equal(req(NULL, "GET", "/nothing", NULL, NULL, 0, false, &R), 500);
	security_headers(&R);
	assert_int_equal(req(NULL, "GET", "/redirect", NULL, NULL, 0, false, &R), 303);
	assert_true(has(&R, "Location: /\r\n"));
	assert_int_equal(req(NULL, "GET", "/cookie", NULL, NULL, 0, false, &R), 200);
	assert_true(has(&R, "Set-Cookie: lang=en; Path=/; SameSite=Lax; Max-Age=100\r\n"));
	assert_false(has(&R, "bad="));
	assert_int_equal(req(NULL, "GET", "/cached", NULL, NULL, 0, false, &R), 200);
	assert_true(has(&R, "Cache-Control: public, max-age=60\r\n"));
	assert_false(has(&R, "no-store"));
	assert_true(dg_is_local_path("/a/b?c=1"));
	assert_false(dg_is_local_path("//evil"));
	assert_false(dg_is_local_path("/\\evil"));
	assert_false(dg_is_local_path("https://evil"));
	assert_false(dg_is_local_path("/a\r\nX: 1"));
	assert_false(dg_is_local_path(NULL));
}

/* Wait (5 s at most) until released reaches n. */
static void wait_released(int n)
{
	for (int i = 0; i < 500 && atomic_load(&released) < n; i++)
		usleep(10 * 1000);
	assert_int_equal(atomic_load(&released), n);
}

/* The whole body of a stream of n lines. */
static bool lines_equal(const char *body, size_t len, long n)
{
	char want[16];
	if (len != (size_t)n * 12)
		return false;
	for (long i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "line %06ld\n", i);
		if (memcmp(body + i * 12, want, 12) != 0)
			return false;
	}
	return true;
}

struct big {
	size_t len, stop_at;
	char *body;
	size_t cap;
};

static size_t on_big(char *p, size_t s, size_t n, void *ud)
{
	struct big *b = ud;
	size_t k = s * n;
	if (b->stop_at && b->len >= b->stop_at)
		return 0; /* the client leaves mid-stream */
	if (b->len + k > b->cap) {
		b->cap = (b->len + k) * 2;
		b->body = realloc(b->body, b->cap);
	}
	memcpy(b->body + b->len, p, k);
	b->len += k;
	return k;
}

/* GET path into b on handle h (NULL: a fresh one): curl's result; status and headers in R. */
static CURLcode get_big(CURL *h, const char *path, bool http10, struct big *b)
{
	bool own = !h;
	if (own)
		h = curl_easy_init();
	char url[512];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", dg_server_port(srv), path);
	memset(&R, 0, sizeof(R));
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_big);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_hdr);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &R);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
			 http10 ? CURL_HTTP_VERSION_1_0 : CURL_HTTP_VERSION_1_1);
	CURLcode rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &R.status);
	if (own)
		curl_easy_cleanup(h);
	return rc;
}

static void streamed_replies(void **state)
{
	(void)state;
	int before = atomic_load(&released);
	/* many pages, chunked, no length, the usual headers; then the same
	 * connection serves the next request */
	CURL *h = curl_easy_init();
	struct big b = {0};
	assert_int_equal(get_big(h, "/stream?n=50000", false, &b), CURLE_OK);
	assert_int_equal(R.status, 200);
	assert_true(lines_equal(b.body, b.len, 50000));
	assert_true(has(&R, "Transfer-Encoding: chunked\r\n"));
	assert_false(has(&R, "Content-Length:"));
	assert_true(has(&R, "Content-Disposition: attachment; filename=\"lines.txt\"\r\n"));
	security_headers(&R);
	wait_released(before + 1);
	/* the request's own memory went when the stream was queued, not at its end */
	assert_true(atomic_load(&request_freed));
	assert_true(atomic_load(&freed_while_sent));
	assert_int_equal(req(h, "GET", "/a", NULL, NULL, 0, false, &R), 200);
	long connects = -1;
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
	assert_int_equal(connects, 0);
	curl_easy_cleanup(h);
	/* an empty stream; HTTP/1.0: no chunks, the body ends with the connection */
	b.len = 0;
	assert_int_equal(get_big(NULL, "/stream?n=0", false, &b), CURLE_OK);
	assert_int_equal(b.len, 0);
	wait_released(before + 2);
	b.len = 0;
	assert_int_equal(get_big(NULL, "/stream?n=3000", true, &b), CURLE_OK);
	assert_true(lines_equal(b.body, b.len, 3000));
	assert_false(has(&R, "Transfer-Encoding: chunked"));
	wait_released(before + 3);
	/* the producer fails after the headers: the status stays, the body is
	 * cut off without its last chunk, so the client sees a failed transfer */
	b.len = 0;
	CURLcode rc = get_big(NULL, "/stream?n=10000&fail=2500", false, &b);
	assert_true(rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR);
	assert_int_equal(R.status, 200);
	assert_true(b.len <= 2500 * 12);
	wait_released(before + 4);
	/* the client leaves after a few KB of a long stream: released all the same */
	b.len = 0;
	b.stop_at = 8192;
	assert_int_equal(get_big(NULL, "/stream?n=10000000", false, &b), CURLE_WRITE_ERROR);
	wait_released(before + 5);
	/* a stream replaced by another reply is released at once */
	assert_int_equal(req(NULL, "GET", "/stream-replaced?n=10", NULL, NULL, 0, false, &R), 200);
	assert_string_equal(R.body, "replaced");
	wait_released(before + 6);
	/* and the server is still there */
	assert_int_equal(req(NULL, "GET", "/a", NULL, NULL, 0, false, &R), 200);
	free(b.body);
}

static struct resp slow_resp;

static void *slow_request(void *arg)
{
	(void)arg;
	req(NULL, "GET", "/slow", NULL, NULL, 0, false, &slow_resp);
	return NULL;
}

/* A request in flight when the stop comes still gets its answer. */
static void graceful_stop(void **state)
{
	(void)state;
	struct dg_server *keep = srv, *s2 = NULL;
	struct dg_server_opts o = {.host = "127.0.0.1",
				   .threads = 2,
				   .max_body = 4096,
				   .max_header = 8192,
				   .upload_dir = updir,
				   .dispatch = dispatch};
	struct dg_err err = {0};
	assert_int_equal(dg_server_start(&o, &s2, &err), DG_OK);
	assert_int_not_equal(dg_server_port(s2), 0);
	srv = s2;
	unsigned port = dg_server_port(s2);
	pthread_t t;
	atomic_store(&slow_started, false);
	assert_int_equal(pthread_create(&t, NULL, slow_request, NULL), 0);
	/* stop only once the request is being answered (a busy machine may start the thread late)
	 */
	for (int i = 0; i < 2000 && !atomic_load(&slow_started); i++)
		usleep(5 * 1000);
	assert_true(atomic_load(&slow_started));
	dg_server_stop(s2, 5000);
	pthread_join(t, NULL);
	assert_int_equal(slow_resp.status, 200);
	assert_string_equal(slow_resp.body, "slow");
	/* nobody listens any more */
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", port);
	CURL *h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_URL, url);
	assert_int_not_equal(curl_easy_perform(h), CURLE_OK);
	curl_easy_cleanup(h);
	srv = keep;
	/* a bad address is refused, not crashed on */
	o.host = "not-an-address";
	assert_int_equal(dg_server_start(&o, &s2, &err), DG_EINVAL);
}

static struct resp held_resp[6];

static void *held_request(void *arg)
{
	req(NULL, "GET", "/held", NULL, NULL, 0, false, arg);
	return NULL;
}

/*
 * Held replies: each leaves only after its release, as the resumed handler
 * made it; more held at once than the server has threads are all answered
 * (a held request holds no thread); a stop with replies held waits for
 * their release and then stops cleanly.
 */
static void held_replies(void **state)
{
	(void)state;
	atomic_store(&held_released, 0);
	assert_int_equal(req(NULL, "GET", "/held-now", NULL, NULL, 0, false, &R), 200);
	assert_string_equal(R.body, "after");
	assert_int_equal(req(NULL, "GET", "/held", NULL, NULL, 0, false, &R), 200);
	assert_string_equal(R.body, "after");
	assert_int_equal(atomic_load(&held_released), 2);

	struct dg_server *keep = srv, *s2 = NULL;
	struct dg_server_opts o = {.host = "127.0.0.1",
				   .threads = 2,
				   .max_body = 4096,
				   .max_header = 8192,
				   .upload_dir = updir,
				   .dispatch = dispatch};
	struct dg_err err = {0};
	assert_int_equal(dg_server_start(&o, &s2, &err), DG_OK);
	srv = s2;
	/* six held at once on two threads: every one answered after its release */
	pthread_t t[6];
	atomic_store(&held_released, 0);
	for (int i = 0; i < 6; i++)
		assert_int_equal(pthread_create(&t[i], NULL, held_request, &held_resp[i]), 0);
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(held_resp[i].status, 200);
		assert_string_equal(held_resp[i].body, "after");
	}
	assert_int_equal(atomic_load(&held_released), 6);
	/* a stop while replies are held: it waits for their release, then stops */
	atomic_store(&held_released, 0);
	atomic_store(&held_started, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&t[i], NULL, held_request, &held_resp[i]), 0);
	for (int i = 0; i < 2000 && atomic_load(&held_started) < 3; i++)
		usleep(5 * 1000);
	assert_int_equal(atomic_load(&held_started), 3);
	dg_server_stop(s2, 0);
	assert_int_equal(atomic_load(&held_released), 3);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	srv = keep;
	/* the first server is still there */
	assert_int_equal(req(NULL, "GET", "/a", NULL, NULL, 0, false, &R), 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(query_cookies_form),  cmocka_unit_test(json_and_raw_bodies),
		cmocka_unit_test(multipart_upload),    cmocka_unit_test(caps),
		cmocka_unit_test(keep_alive_head_ids), cmocka_unit_test(reply_helpers),
		cmocka_unit_test(streamed_replies),    cmocka_unit_test(graceful_stop),
		cmocka_unit_test(held_replies),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
