/*
 * test_page_cache.c - the catalogue's pages kept in memory (web/pcache.h)
 * through the real server, on the store DGOV_TEST_DB selects: a second GET
 * is served from memory with the same bytes and ETag, If-None-Match gives a
 * 304 without a body, HEAD works, language and elder mode are pages of
 * their own, a page rendered with the cache is byte for byte the page
 * rendered without it, publishing changes the page and its ETag on this
 * node and on a second node of the same store, a signed-in visitor's page
 * is never kept nor served from what anonymous visitors get (and the other
 * way round), an unknown service is a 404 that is not kept, the memory
 * cap holds, and readers on several threads always get whole pages while
 * the catalogue changes and pages are evicted. The home page and the
 * notices (help, privacy), which depend on no version, are kept the same
 * way and follow the catalogue's version without a store round trip.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "app/app.h"
#include "harness.h"
#include "web/pcache.h"

#define GUIDE  "/services/990100-MZ-001"
#define SEARCH "/services?q=%E7%A4%BE%E4%BF%9D"

static struct dg_pcache_stats stats_of(struct th_srv *s)
{
	struct dg_pcache_stats st;
	dg_pcache_stats(th_app(s)->env.pages, &st);
	return st;
}

/* GET (or another method) with extra headers; fails the test unless the status is want. */
static void req(struct th_client *c, const char *method, const char *path,
		const char *const *headers, long want, struct th_resp *out)
{
	long st = th_request(c, method, path, NULL, NULL, 0, headers, out);
	if (st != want)
		fprintf(stderr, "%s %s: %ld, wanted %ld\n", method, path, st, want);
	assert_int_equal(st, want);
}

static void assert_header(const struct th_resp *r, const char *name, const char *want)
{
	char *v = th_header(r, name);
	if (!v || strcmp(v, want) != 0)
		fprintf(stderr, "%s: %s, wanted %s\n", name, v ? v : "(none)", want);
	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);
}

/* A second GET is the same bytes from memory; If-None-Match gives 304; HEAD works. */
static void second_get_and_304(void **state)
{
	(void)state;
	const char *const paths[] = {GUIDE,
				     "/services",
				     SEARCH,
				     "/services?theme=elderly",
				     "/services/990100-MZ-001/print",
				     "/",
				     "/help",
				     "/privacy"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct th_client *c = th_client_new(th_shared);
		struct th_resp a = {0}, b = {0}, n = {0}, h = {0}, w = {0};
		/* the first page of a visit sets the anonymous CSRF cookie: private */
		req(c, "GET", paths[i], NULL, 200, &a);
		assert_header(&a, "Cache-Control", "private, no-cache");
		assert_header(&a, "Vary", "Accept-Language, Cookie");
		char *etag = th_header(&a, "ETag");
		assert_non_null(etag);
		struct dg_pcache_stats before = stats_of(th_shared);
		req(c, "GET", paths[i], NULL, 200, &b);
		struct dg_pcache_stats after = stats_of(th_shared);
		assert_int_equal(after.hits, before.hits + 1);
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.body, b.body, a.len);
		assert_header(&b, "ETag", etag);
		assert_header(&b, "Cache-Control", "no-cache");
		assert_header(&b, "Vary", "Accept-Language, Cookie");
		char inm[128], weak[140];
		snprintf(inm, sizeof(inm), "If-None-Match: \"other\", %s", etag);
		snprintf(weak, sizeof(weak), "If-None-Match: W/%s", etag);
		const char *const h_inm[] = {inm, NULL}, *const h_weak[] = {weak, NULL},
				  *const h_other[] = {"If-None-Match: \"other\"", NULL};
		req(c, "GET", paths[i], h_inm, 304, &n);
		assert_int_equal(n.len, 0);
		assert_header(&n, "ETag", etag);
		assert_header(&n, "Cache-Control", "no-cache");
		assert_header(&n, "Vary", "Accept-Language, Cookie");
		th_resp_release(&n);
		req(c, "GET", paths[i], h_weak, 304, &n);
		th_resp_release(&n);
		req(c, "GET", paths[i], h_other, 200, &w);
		assert_int_equal(w.len, a.len);
		/* HEAD: the GET's headers, its length, no body */
		req(c, "HEAD", paths[i], NULL, 200, &h);
		assert_int_equal(h.len, 0);
		assert_header(&h, "ETag", etag);
		char len[32];
		snprintf(len, sizeof(len), "%zu", a.len);
		assert_header(&h, "Content-Length", len);
		free(etag);
		th_resp_release(&a);
		th_resp_release(&b);
		th_resp_release(&h);
		th_resp_release(&w);
		th_client_free(c);
	}
}

/* A HEAD first fills the cache with the very page a GET gets. */
static void head_first(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	struct th_resp h = {0}, g = {0};
	const char *path = "/services?audience=enterprise&head=1";
	req(c, "HEAD", path, NULL, 200, &h);
	struct dg_pcache_stats before = stats_of(th_shared);
	req(c, "GET", path, NULL, 200, &g);
	assert_int_equal(stats_of(th_shared).hits, before.hits + 1);
	char *a = th_header(&h, "ETag"), *b = th_header(&g, "ETag");
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a, b);
	assert_non_null(strstr(g.body, "/login?next=%2Fservices%3Faudience%3Denterprise"));
	free(a);
	free(b);
	th_resp_release(&h);
	th_resp_release(&g);
	th_client_free(c);
}

static char *body_etag(struct th_client *c, const char *path, const char *const *headers,
		       char **etag)
{
	struct th_resp r = {0};
	req(c, "GET", path, headers, 200, &r);
	*etag = th_header(&r, "ETag");
	assert_non_null(*etag);
	char *b = r.body;
	r.body = NULL;
	th_resp_release(&r);
	return b;
}

/* body_etag as a new visitor (no cookie jar yet: a Cookie header given is the only one) */
static char *fresh_body_etag(const char *path, const char *const *headers, char **etag)
{
	struct th_client *c = th_client_new(th_shared);
	char *b = body_etag(c, path, headers, etag);
	th_client_free(c);
	return b;
}

/* zh, en and elder mode: three pages, three tags, each kept apart. */
static void language_and_elder(void **state)
{
	(void)state;
	const char *const en[] = {"Cookie: lang=en", NULL};
	const char *const en_header[] = {"Accept-Language: en-GB,en;q=0.9", NULL};
	const char *const elder[] = {"Cookie: elder=1", NULL};
	char *tz, *te, *tel, *tah, *tz2, *te2;
	char *zh = fresh_body_etag(GUIDE, NULL, &tz);
	char *eng = fresh_body_etag(GUIDE, en, &te);
	char *old = fresh_body_etag(GUIDE, elder, &tel);
	char *eng_h = fresh_body_etag(GUIDE, en_header, &tah);
	assert_non_null(strstr(zh, "<html lang=\"zh-CN\">"));
	assert_non_null(strstr(eng, "<html lang=\"en\">"));
	assert_non_null(strstr(old, "class=\"elder\""));
	assert_null(strstr(zh, "class=\"elder\""));
	assert_string_not_equal(tz, te);
	assert_string_not_equal(tz, tel);
	assert_string_not_equal(te, tel);
	/* English by cookie or by Accept-Language: the same page */
	assert_string_equal(te, tah);
	assert_string_equal(eng, eng_h);
	/* each again, from memory, still its own */
	struct dg_pcache_stats before = stats_of(th_shared);
	char *zh2 = fresh_body_etag(GUIDE, NULL, &tz2);
	char *eng2 = fresh_body_etag(GUIDE, en, &te2);
	assert_int_equal(stats_of(th_shared).hits, before.hits + 2);
	assert_string_equal(zh, zh2);
	assert_string_equal(eng, eng2);
	assert_string_equal(tz, tz2);
	assert_string_equal(te, te2);
	free(zh), free(eng), free(old), free(eng_h), free(zh2), free(eng2);
	free(tz), free(te), free(tel), free(tah), free(tz2), free(te2);
}

/* A signed-in page is neither kept nor served from the anonymous pages. */
static void signed_in_never_shared(void **state)
{
	(void)state;
	struct th_client *anon = th_client_new(th_shared);
	struct th_client *cit = th_signed_in(th_shared, "zhangsan");
	struct th_client *staff = th_signed_in(th_shared, "mz_zhao");
	const char *const paths[] = {GUIDE, "/services", SEARCH, "/", "/privacy"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct th_resp r = {0};
		/* anonymous first (kept), then signed in, then anonymous again */
		req(anon, "GET", paths[i], NULL, 200, &r);
		assert_null(strstr(r.body, "action=\"/logout\""));
		th_resp_release(&r);
		struct dg_pcache_stats before = stats_of(th_shared);
		req(cit, "GET", paths[i], NULL, 200, &r);
		assert_non_null(strstr(r.body, "action=\"/logout\""));
		assert_non_null(strstr(r.body, "href=\"/my/cases\""));
		assert_header(&r, "Cache-Control", "no-store");
		char *etag = th_header(&r, "ETag");
		assert_null(etag);
		th_resp_release(&r);
		req(staff, "GET", paths[i], NULL, 200, &r);
		assert_non_null(strstr(r.body, "action=\"/logout\""));
		assert_non_null(strstr(r.body, "href=\"/office\""));
		th_resp_release(&r);
		struct dg_pcache_stats after = stats_of(th_shared);
		assert_int_equal(after.hits, before.hits);
		assert_int_equal(after.misses, before.misses);
		assert_int_equal(after.stored, before.stored);
		req(anon, "GET", paths[i], NULL, 200, &r);
		assert_int_equal(stats_of(th_shared).hits, after.hits + 1);
		assert_null(strstr(r.body, "action=\"/logout\""));
		assert_null(strstr(r.body, "/my/cases"));
		assert_null(strstr(r.body, "/office"));
		th_resp_release(&r);
	}
	/* signed in first: nothing kept, so an anonymous visitor of a new address renders it */
	struct th_resp r = {0};
	const char *fresh = "/services?dept=mz&signed=1";
	req(cit, "GET", fresh, NULL, 200, &r);
	th_resp_release(&r);
	struct dg_pcache_stats before = stats_of(th_shared);
	req(anon, "GET", fresh, NULL, 200, &r);
	assert_null(strstr(r.body, "action=\"/logout\""));
	assert_int_equal(stats_of(th_shared).hits, before.hits);
	assert_int_equal(stats_of(th_shared).stored, before.stored + 1);
	th_resp_release(&r);
	th_client_free(anon);
	th_client_free(cit);
	th_client_free(staff);
}

/* An unknown service is a 404, every time, and nothing is kept for it. */
static void unknown_is_404(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	struct dg_pcache_stats before = stats_of(th_shared);
	for (int i = 0; i < 2; i++) {
		struct th_resp r = {0};
		req(c, "GET", "/services/990100-XX-404", NULL, 404, &r);
		char *etag = th_header(&r, "ETag");
		assert_null(etag);
		th_resp_release(&r);
	}
	assert_int_equal(stats_of(th_shared).stored, before.stored);
	th_client_free(c);
}

/* The page kept is byte for byte the page a node without the cache renders. */
static void same_bytes_as_uncached(void **state)
{
	(void)state;
	struct th_opts off = {.no_page_cache = true};
	struct th_srv *plain = th_start_peer(th_shared, &off);
	assert_null(th_app(plain)->env.pages);
	struct th_client *a = th_client_new(th_shared), *b = th_client_new(plain);
	const char *const paths[] = {GUIDE, "/services", SEARCH, "/services?event=retire&page=1",
				     "/"};
	const size_t npaths = sizeof(paths) / sizeof(paths[0]);
	const char *const en[] = {"Cookie: lang=en; elder=1", NULL};
	for (size_t i = 0; i < 2 * npaths; i++) {
		const char *path = paths[i % npaths];
		const char *const *h = i >= npaths ? en : NULL;
		struct th_resp x = {0}, y = {0}, z = {0};
		req(a, "GET", path, h, 200, &x);
		req(a, "GET", path, h, 200, &y); /* from memory */
		req(b, "GET", path, h, 200, &z);
		assert_int_equal(x.len, z.len);
		assert_memory_equal(x.body, z.body, x.len);
		assert_int_equal(y.len, z.len);
		assert_memory_equal(y.body, z.body, y.len);
		char *etag = th_header(&z, "ETag");
		assert_null(etag);
		th_resp_release(&x);
		th_resp_release(&y);
		th_resp_release(&z);
	}
	th_client_free(a);
	th_client_free(b);
	th_stop(plain);
}

static long post_action(struct th_client *c, const char *path)
{
	struct th_resp r = {0};
	char *csrf = th_csrf(c, "/catalog/manage");
	assert_non_null(csrf);
	char body[256];
	snprintf(body, sizeof(body), "csrf=%s", csrf);
	long st = th_post_form(c, path, body, &r);
	th_resp_release(&r);
	free(csrf);
	return st;
}

/*
 * Publishing changes the guide and its ETag here and on a second node of
 * the same store whose cache held the old page; retiring changes the
 * browse page's counts on both.
 */
static void publish_changes_page(void **state)
{
	(void)state;
	const char *guide = "/services/990100-MZ-004";
	struct th_srv *peer = th_start_peer(th_shared, NULL);
	struct th_client *a = th_client_new(th_shared), *b = th_client_new(peer);
	struct th_client *mz = th_signed_in(th_shared, "mz_zhao");
	char *ta, *tb, *ta2, *tb2, *tl, *tl2, *tlb, *tlb2;
	char *pa = body_etag(a, guide, NULL, &ta);
	char *pb = body_etag(b, guide, NULL, &tb);
	char *la = body_etag(a, "/services", NULL, &tl);
	char *lb = body_etag(b, "/services", NULL, &tlb);
	assert_string_equal(ta, tb); /* the same bytes on both nodes: the same tag */
	assert_string_equal(pa, pb);
	free(body_etag(b, guide, NULL, &tb2)); /* the peer now serves it from memory */
	free(tb2);
	/* a new version in force: the guide names version 2 */
	assert_non_null(strstr(pa, "<dd>1</dd>"));
	assert_int_equal(post_action(mz, "/catalog/items/990100-MZ-004/amend"), 303);
	assert_int_equal(post_action(mz, "/catalog/items/990100-MZ-004/publish"), 303);
	char *pa2 = body_etag(a, guide, NULL, &ta2);
	char *pb2 = body_etag(b, guide, NULL, &tb2);
	assert_non_null(strstr(pa2, "<dd>2</dd>"));
	assert_non_null(strstr(pb2, "<dd>2</dd>"));
	assert_string_not_equal(ta, ta2);
	assert_string_not_equal(tb, tb2);
	assert_string_equal(ta2, tb2);
	/* the old tag is no longer the page: the new page comes back, not a 304 */
	char inm[128];
	snprintf(inm, sizeof(inm), "If-None-Match: %s", ta);
	const char *const h_old[] = {inm, NULL};
	struct th_resp r = {0};
	req(b, "GET", guide, h_old, 200, &r);
	assert_non_null(strstr(r.body, "<dd>2</dd>"));
	th_resp_release(&r);
	/* retired: the browse page counts one item fewer, on both nodes */
	assert_int_equal(post_action(mz, "/catalog/items/990100-MZ-004/retire"), 303);
	char *la2 = body_etag(a, "/services", NULL, &tl2);
	char *lb2 = body_etag(b, "/services", NULL, &tlb2);
	assert_string_not_equal(tl, tl2);
	assert_string_not_equal(tlb, tlb2);
	assert_string_equal(la2, lb2);
	assert_string_not_equal(la, la2);
	char *gone = th_get_body(b, guide, 200);
	assert_non_null(gone);
	assert_non_null(strstr(gone, "此事项已停止办理"));
	free(gone);
	assert_true(stats_of(peer).version > 1);
	free(pa), free(pb), free(pa2), free(pb2), free(la), free(lb), free(la2), free(lb2);
	free(ta), free(tb), free(ta2), free(tb2), free(tl), free(tl2), free(tlb), free(tlb2);
	th_client_free(a);
	th_client_free(b);
	th_client_free(mz);
	th_stop(peer);
}

/* One GET of path on c, its body; the cache's hits, misses and stores as they change. */
static char *get_counted(struct th_srv *s, struct th_client *c, const char *path, int hits,
			 int misses, int stored)
{
	struct dg_pcache_stats before = stats_of(s);
	char *b = th_get_body(c, path, 200);
	assert_non_null(b);
	struct dg_pcache_stats after = stats_of(s);
	assert_int_equal(after.hits - before.hits, hits);
	assert_int_equal(after.misses - before.misses, misses);
	assert_int_equal(after.stored - before.stored, stored);
	return b;
}

/*
 * The home page reads no version from the store: it is kept under the
 * newest the cache has seen, dropped with the guides when a publish brings
 * a newer one, and rendered once again, the same bytes; a signed-in
 * user's home page (their welcome) is never kept and never served to a
 * visitor.
 */
static void home_follows_version(void **state)
{
	(void)state;
	struct th_srv *s = th_start_peer(th_shared, NULL);
	struct th_client *c = th_client_new(s);
	struct th_client *cit = th_signed_in(s, "zhangsan");
	struct th_client *mz = th_signed_in(th_shared, "mz_zhao");
	char *h1 = get_counted(s, c, "/", 0, 1, 1);
	assert_non_null(strstr(h1, "href=\"/login\""));
	free(get_counted(s, c, "/", 1, 0, 0));
	/* a signed-in user: their own page, the cache not even asked */
	char *mine = get_counted(s, cit, "/", 0, 0, 0);
	assert_non_null(strstr(mine, "href=\"/account\""));
	assert_null(strstr(mine, "href=\"/login\""));
	char *h2 = get_counted(s, c, "/", 1, 0, 0);
	assert_null(strstr(h2, "href=\"/account\""));
	assert_string_equal(h1, h2);
	/* the catalogue's version read by a guide: everything older goes, the home page too */
	free(get_counted(s, c, GUIDE, 0, 1, 1));
	int64_t v = stats_of(s).version;
	free(get_counted(s, c, "/", 0, 1, 1));
	free(get_counted(s, c, "/", 1, 0, 0));
	assert_int_equal(stats_of(s).version, v);
	/* a publish on another node: the next guide sees it, the home page renders again */
	assert_int_equal(post_action(mz, "/catalog/items/990100-MZ-002/amend"), 303);
	assert_int_equal(post_action(mz, "/catalog/items/990100-MZ-002/publish"), 303);
	free(get_counted(s, c, GUIDE, 0, 1, 1));
	assert_true(stats_of(s).version > v);
	char *h3 = get_counted(s, c, "/", 0, 1, 1);
	assert_string_equal(h1, h3);
	free(h1), free(h2), free(h3), free(mine);
	th_client_free(c);
	th_client_free(cit);
	th_client_free(mz);
	th_stop(s);
}

/* Many addresses on a node with 1 MiB: the cap holds, the oldest go. */
static void memory_cap(void **state)
{
	(void)state;
	struct th_opts small = {.page_cache_mb = 1};
	struct th_srv *s = th_start_peer(th_shared, &small);
	struct th_client *c = th_client_new(s);
	for (int i = 0; i < 80; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/services?n=%d", i);
		struct th_resp r = {0};
		req(c, "GET", path, NULL, 200, &r);
		th_resp_release(&r);
		struct dg_pcache_stats st = stats_of(s);
		assert_true(st.bytes <= ((size_t)1 << 20));
	}
	struct dg_pcache_stats st = stats_of(s);
	assert_true(st.evicted > 0);
	assert_true(st.pages > 0);
	/* the newest is still there, the first is gone */
	struct dg_pcache_stats before = stats_of(s);
	struct th_resp r = {0};
	req(c, "GET", "/services?n=79", NULL, 200, &r);
	th_resp_release(&r);
	assert_int_equal(stats_of(s).hits, before.hits + 1);
	req(c, "GET", "/services?n=0", NULL, 200, &r);
	th_resp_release(&r);
	assert_int_equal(stats_of(s).hits, before.hits + 1);
	th_client_free(c);
	th_stop(s);
}

struct hammer {
	struct th_client *c;
	int n, bad;
};

/* GETs over a few addresses; counts answers that are not whole pages. No cmocka here. */
static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	static const char *const paths[] = {GUIDE,  "/services/990100-MZ-002", "/services",
					    SEARCH, "/services?page=2",        "/services?dept=mz"};
	for (int i = 0; i < h->n; i++) {
		const char *path = paths[(i * 7 + h->n) % 6];
		struct th_resp r = {0};
		long st = th_request(h->c, "GET", path, NULL, NULL, 0, NULL, &r);
		if (st != 200 || !r.body || !strstr(r.body, "</html>") ||
		    (strncmp(path, "/services/", 10) == 0 && !strstr(r.body, path + 10)))
			h->bad++;
		th_resp_release(&r);
	}
	return NULL;
}

/*
 * Four clients at once on a node with a small cache (evicting all the
 * while) as the catalogue changes under them: every answer is a whole
 * page of the address asked for (and the sanitizers watch the references).
 */
static void concurrent_readers(void **state)
{
	(void)state;
	struct th_opts small = {.page_cache_mb = 1};
	struct th_srv *s = th_start_peer(th_shared, &small);
	struct th_client *mz = th_signed_in(th_shared, "mz_zhao");
	struct hammer h[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		h[i] = (struct hammer){.c = th_client_new(s), .n = 150 + i};
		assert_int_equal(pthread_create(&t[i], NULL, hammer_run, &h[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		th_sleep_ms(50);
		assert_int_equal(post_action(mz, "/catalog/items/990100-MZ-003/amend"), 303);
		assert_int_equal(post_action(mz, "/catalog/items/990100-MZ-003/publish"), 303);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(h[i].bad, 0);
		th_client_free(h[i].c);
	}
	struct dg_pcache_stats st = stats_of(s);
	assert_true(st.hits > 0);
	assert_true(st.bytes <= ((size_t)1 << 20));
	th_client_free(mz);
	th_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(second_get_and_304), cmocka_unit_test(head_first),
		cmocka_unit_test(language_and_elder), cmocka_unit_test(signed_in_never_shared),
		cmocka_unit_test(unknown_is_404),     cmocka_unit_test(same_bytes_as_uncached),
		cmocka_unit_test(memory_cap),         cmocka_unit_test(publish_changes_page),
		cmocka_unit_test(concurrent_readers), cmocka_unit_test(home_follows_version),
	};
	return cmocka_run_group_tests(tests, th_group_setup, th_group_teardown);
}
