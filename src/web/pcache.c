/*
 * pcache.c - the rendered-page cache (pcache.h) and the HTTP side of it:
 * ETag, If-None-Match and 304, Vary and Cache-Control.
 *
 * A chained hash table of entries, each also on a recency list (most
 * recent at the head); the byte count includes keys and entries, so many
 * small pages cannot pass the cap either. The ETag is a hash of the page's
 * bytes: the same bytes get the same tag on every node and at every
 * version, so a browser keeps its copy across publishes that did not
 * change its page, and any change of the bytes changes the tag.
 *
 * Cache-Control is "no-cache": browsers and proxies may keep the page but
 * must ask again each time, and the answer is a 304 without a body while
 * the page is unchanged. A guide that lists the wrong materials sends
 * someone to a counter for nothing, so no copy may be used unchecked,
 * not even for a minute. A reply that also sets a cookie (the anonymous
 * CSRF cookie of a first visit) is "private" too: a shared cache must not
 * hand that cookie to anyone else.
 */
#include "web/pcache.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "node/env.h"
#include "web/page.h"

#define NBUCKETS 4096 /* a power of two; chains stay short up to tens of thousands of pages */
#define KEY_MAX  2048 /* a longer address is rendered but not kept */
#define ETAG_LEN 34   /* '"' + 32 hex digits + '"' */
#define HTML     "text/html; charset=utf-8"
#define VARY     "Accept-Language, Cookie"

struct entry {
	struct entry *hnext;       /* the bucket's chain */
	struct entry *prev, *next; /* the recency list */
	atomic_uint refs;          /* the cache's one, and one per reader */
	uint64_t hash;
	size_t size; /* bytes counted against the cap */
	char etag[ETAG_LEN + 1];
	char *key;
	char *body;
	size_t len;
};

struct dg_pcache {
	pthread_mutex_t mu;
	struct entry *buckets[NBUCKETS];
	struct entry *head, *tail;
	size_t bytes, max, pages;
	int64_t version;
	uint64_t hits, misses, stored, evicted;
	void *attached; /* dg_pcache_attach's object, freed with the cache */
	void (*attached_free)(void *);
};

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

static void entry_unref(struct entry *e)
{
	if (atomic_fetch_sub(&e->refs, 1) == 1) {
		free(e->key);
		free(e->body);
		free(e);
	}
}

struct dg_pcache *dg_pcache_new(size_t max_bytes)
{
	if (!max_bytes)
		return NULL;
	struct dg_pcache *c = dg_xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
	c->max = max_bytes;
	return c;
}

/* Take e off the table and the list, dropping the cache's reference. Under c->mu. */
static void unlink_entry(struct dg_pcache *c, struct entry *e)
{
	struct entry **p = &c->buckets[e->hash & (NBUCKETS - 1)];
	while (*p && *p != e)
		p = &(*p)->hnext;
	if (*p)
		*p = e->hnext;
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	c->bytes -= e->size;
	c->pages--;
	entry_unref(e);
}

static void clear_all(struct dg_pcache *c)
{
	while (c->head)
		unlink_entry(c, c->head);
}

void dg_pcache_free(struct dg_pcache *c)
{
	if (!c)
		return;
	clear_all(c);
	if (c->attached_free)
		c->attached_free(c->attached);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

void *dg_pcache_attach(struct dg_pcache *c, void *(*make)(void), void (*free_fn)(void *))
{
	if (!c)
		return NULL;
	pthread_mutex_lock(&c->mu);
	if (!c->attached) {
		c->attached = make();
		c->attached_free = free_fn;
	}
	void *obj = c->attached;
	pthread_mutex_unlock(&c->mu);
	return obj;
}

void dg_pcache_stats(struct dg_pcache *c, struct dg_pcache_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	out->hits = c->hits;
	out->misses = c->misses;
	out->stored = c->stored;
	out->evicted = c->evicted;
	out->bytes = c->bytes;
	out->pages = c->pages;
	out->version = c->version;
	pthread_mutex_unlock(&c->mu);
}

/*
 * A newer version than any seen: every page kept is of an older one. Under
 * c->mu. Versions only grow, so an older one is simply never matched.
 */
static void see_version(struct dg_pcache *c, int64_t version)
{
	if (version > c->version) {
		clear_all(c);
		c->version = version;
	}
}

static struct entry *find(struct dg_pcache *c, const char *key, size_t klen, uint64_t h)
{
	for (struct entry *e = c->buckets[h & (NBUCKETS - 1)]; e; e = e->hnext)
		if (e->hash == h && strlen(e->key) == klen && memcmp(e->key, key, klen) == 0)
			return e;
	return NULL;
}

/* The page of key at version, referenced (entry_unref when done), or NULL. */
static struct entry *lookup(struct dg_pcache *c, const char *key, int64_t version)
{
	size_t klen = strlen(key);
	uint64_t h = fnv1a(key, klen);
	pthread_mutex_lock(&c->mu);
	see_version(c, version);
	struct entry *e = version == c->version ? find(c, key, klen, h) : NULL;
	if (e) {
		atomic_fetch_add(&e->refs, 1);
		if (e != c->head) { /* to the front of the recency list */
			e->prev->next = e->next;
			if (e->next)
				e->next->prev = e->prev;
			else
				c->tail = e->prev;
			e->prev = NULL;
			e->next = c->head;
			c->head->prev = e;
			c->head = e;
		}
		c->hits++;
	} else {
		c->misses++;
	}
	pthread_mutex_unlock(&c->mu);
	return e;
}

/* Keep body (taken: freed here when not kept) under key at version. */
static void store(struct dg_pcache *c, const char *key, int64_t version, const char *etag,
		  char *body, size_t len)
{
	size_t klen = strlen(key);
	struct entry *e = dg_xcalloc(1, sizeof(*e));
	e->hash = fnv1a(key, klen);
	e->key = dg_xstrdup(key);
	e->body = body;
	e->len = len;
	e->size = sizeof(*e) + klen + 1 + len;
	memcpy(e->etag, etag, ETAG_LEN + 1);
	atomic_init(&e->refs, 1);
	pthread_mutex_lock(&c->mu);
	see_version(c, version);
	/* a page read at an older version than the newest seen may be stale already */
	if (version != c->version || e->size > c->max / 8) {
		pthread_mutex_unlock(&c->mu);
		entry_unref(e);
		return;
	}
	struct entry *old = find(c, key, klen, e->hash);
	if (old) /* another thread rendered it at the same time: the newer copy stays */
		unlink_entry(c, old);
	while (c->tail && c->bytes + e->size > c->max) {
		unlink_entry(c, c->tail);
		c->evicted++;
	}
	struct entry **b = &c->buckets[e->hash & (NBUCKETS - 1)];
	e->hnext = *b;
	*b = e;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (!c->tail)
		c->tail = e;
	c->bytes += e->size;
	c->pages++;
	c->stored++;
	pthread_mutex_unlock(&c->mu);
}

bool dg_pcache_get(struct dg_pcache *c, const char *key, int64_t version, char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	struct entry *e = c && version ? lookup(c, key, version) : NULL;
	if (!e)
		return false;
	*out = dg_xmalloc(e->len + 1);
	memcpy(*out, e->body, e->len);
	(*out)[e->len] = 0;
	*len = e->len;
	entry_unref(e);
	return true;
}

void dg_pcache_put(struct dg_pcache *c, const char *key, int64_t version, const char *bytes,
		   size_t len)
{
	if (!c || !version || strlen(key) > KEY_MAX)
		return;
	char *body = dg_xmalloc(len + 1);
	memcpy(body, bytes, len);
	body[len] = 0;
	char etag[ETAG_LEN + 1] = {0};
	store(c, key, version, etag, body, len);
}

/* ---- the HTTP side ---------------------------------------------------- */

bool dg_page_cacheable(const struct dg_req *r)
{
	return r->env && r->env->pages && !r->user && !r->session_hash && r->method &&
	       (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0);
}

int64_t dg_page_fixed_version(const struct dg_req *r)
{
	if (!dg_page_cacheable(r))
		return 0;
	struct dg_pcache *c = r->env->pages;
	pthread_mutex_lock(&c->mu);
	int64_t v = c->version ? c->version : 1;
	pthread_mutex_unlock(&c->mu);
	return v;
}

/*
 * "zh|0|https://site|/services?q=..." in r's arena, or NULL when too long
 * to keep. The site's address is there for the links built from it (the
 * printed guide's); it is fixed while a node runs, but tests change it.
 */
static const char *key_of(struct dg_req *r)
{
	char site[DG_SITE_URL_MAX];
	const char *here = dg_page_here(r);
	if (strlen(here) > KEY_MAX)
		return NULL;
	return dg_arena_printf(r->arena, "%s|%d|%s|%s",
			       r->lang && strcmp(r->lang, "en") == 0 ? "en" : "zh",
			       r->elder ? 1 : 0, dg_config_site_url(r->env->cfg, site), here);
}

static void etag_of(const char *body, size_t len, char out[ETAG_LEN + 1])
{
	unsigned char h[16];
	crypto_generichash(h, sizeof(h), (const unsigned char *)body, len, NULL, 0);
	out[0] = '"';
	sodium_bin2hex(out + 1, 33, h, sizeof(h));
	out[ETAG_LEN - 1] = '"';
	out[ETAG_LEN] = 0;
}

/*
 * Whether If-None-Match names etag: "*", or a list of tags compared weakly
 * (RFC 9110 13.1.2: a W/ prefix is ignored).
 */
static bool none_match(const char *inm, const char *etag)
{
	if (!inm)
		return false;
	const char *p = inm;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (*p != '"')
			return false; /* malformed: no match, the page is sent */
		const char *end = strchr(p + 1, '"');
		if (!end)
			return false;
		if ((size_t)(end - p + 1) == ETAG_LEN && memcmp(p, etag, ETAG_LEN) == 0)
			return true;
		p = end + 1;
	}
	return false;
}

static bool sets_cookie(const struct dg_req *r)
{
	for (size_t i = 0; i < r->resp_headers.n; i++)
		if (strcasecmp(r->resp_headers.v[i].key, "Set-Cookie") == 0)
			return true;
	return false;
}

static void reply_page(struct dg_req *r, const char *etag, const char *body, size_t len)
{
	dg_reply_header(r, "ETag", etag);
	dg_reply_header(r, "Vary", VARY);
	dg_reply_header(r, "Cache-Control", sets_cookie(r) ? "private, no-cache" : "no-cache");
	if (none_match(dg_req_header(r, "If-None-Match"), etag))
		dg_reply_bytes(r, 304, HTML, "", 0);
	else
		dg_reply_bytes(r, 200, HTML, body, len);
}

bool dg_page_cached(struct dg_req *r, int64_t version)
{
	if (!version || !dg_page_cacheable(r))
		return false;
	const char *key = key_of(r);
	struct entry *e = key ? lookup(r->env->pages, key, version) : NULL;
	if (!e)
		return false;
	reply_page(r, e->etag, e->body, e->len);
	entry_unref(e);
	return true;
}

/*
 * Whether the page carries anything of this request alone: its CSRF token
 * or its id. Pages that may be cached never should; if one ever does, it
 * is served but not kept, and the log says which.
 */
static bool carries_request(const struct dg_req *r, const char *body, size_t len)
{
	if (r->csrf && r->csrf[0] && memmem(body, len, r->csrf, strlen(r->csrf)))
		return true;
	return memmem(body, len, r->id, strlen(r->id)) != NULL;
}

dg_rc dg_page_versioned(struct dg_req *r, int64_t version, const char *tmpl, json_t *data)
{
	const char *key = version && dg_page_cacheable(r) ? key_of(r) : NULL;
	if (!key)
		return dg_page(r, 200, tmpl, data);
	struct dg_buf b;
	dg_rc rc = dg_page_render(r, tmpl, data, &b);
	if (rc) {
		dg_buf_release(&b);
		return rc;
	}
	char etag[ETAG_LEN + 1];
	size_t len = b.len;
	char *body = dg_buf_take(&b);
	etag_of(body, len, etag);
	reply_page(r, etag, body, len);
	if (carries_request(r, body, len)) {
		dg_warn("req=%s %s: the page carries the request's own token; not cached", r->id,
			tmpl);
		free(body);
	} else {
		store(r->env->pages, key, version, etag, body, len);
	}
	return DG_OK;
}
