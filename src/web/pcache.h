/*
 * pcache.h - whole rendered pages kept in memory, for the pages whose HTML
 * depends only on a version the store raises (the service catalogue's:
 * guides, browse and search), the language and elder mode.
 *
 * Invariants:
 * - Only anonymous GET and HEAD requests read or fill the cache: a request
 *   with a session or an API token never gets a cached page and never adds
 *   one, so nothing one person sees can reach another.
 * - A page is kept under its key (language, elder mode, the site's address,
 *   and the request's path and query re-encoded, as dg_page_here gives
 *   them) and the version
 *   read before its data was: a page is never older than its version. A
 *   lookup finds only pages of exactly the version the caller has just read
 *   from the store; the first newer version seen drops every older page.
 * - Pages are immutable once kept; a reader holds a reference while it
 *   copies one out, so eviction never frees bytes being read.
 * - Memory: at most max_bytes of pages, keys and entries, least recently
 *   used evicted first; a page larger than an eighth of that is not kept.
 *
 * Thread-safe: one mutex around the table and the recency list, held only
 * for pointer work; hashing and copying happen outside it. Two threads that
 * miss the same page both render it, and the second keeps its copy.
 */
#ifndef DG_PCACHE_H
#define DG_PCACHE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "http/req.h"

struct dg_pcache;

/* A cache of at most max_bytes; NULL when max_bytes is 0 (caching off). */
struct dg_pcache *dg_pcache_new(size_t max_bytes);
/* Frees every page (nothing may be reading). NULL is a no-op. */
void dg_pcache_free(struct dg_pcache *c);
/*
 * The one object that lives as long as c (its owner's structure kept beside
 * the cached answers, such as the open data's documents): made by make() on
 * the first call, under c's lock, and freed by free_fn with c. NULL when c
 * is NULL (caching off).
 */
void *dg_pcache_attach(struct dg_pcache *c, void *(*make)(void), void (*free_fn)(void *));

struct dg_pcache_stats {
	uint64_t hits, misses, stored, evicted;
	size_t bytes, pages;
	int64_t version; /* the newest version seen */
};
void dg_pcache_stats(struct dg_pcache *c, struct dg_pcache_stats *out);

/*
 * Whether r may be answered from or kept in the node's page cache: an
 * anonymous GET or HEAD with the cache on. Read the version only when so.
 */
bool dg_page_cacheable(const struct dg_req *r);

/*
 * The version for a page that depends on no store version at all, only on
 * what is fixed while the node runs (the home page and the notices: the
 * language, elder mode, the region and the templates): 0 when r is not
 * cacheable, else the newest version the cache has seen (1 before any, the
 * lowest a version that caches can be). Kept under it, such a page is
 * dropped with the rest when a newer version comes, and rendered once
 * again; it never raises the version past one a store has given.
 */
int64_t dg_page_fixed_version(const struct dg_req *r);

/*
 * Answer r from the cache when it holds r's page at version: 200 with the
 * page, or 304 when If-None-Match names its ETag. True when answered;
 * false (nothing replied) otherwise, or when version is 0.
 */
bool dg_page_cached(struct dg_req *r, int64_t version);

/*
 * Render tmpl with data (stolen) as dg_page(r, 200, ...) does, and when r
 * is cacheable and version is not 0, keep the page under version and
 * reply with its ETag (or 304 as above). Otherwise exactly dg_page.
 */
dg_rc dg_page_versioned(struct dg_req *r, int64_t version, const char *tmpl, json_t *data) DG_MUST;

/*
 * The same table for bytes that are not pages (the open data's search
 * results, catalog/search.c), under the same invariants but the first: no
 * HTTP here, the caller keys what it keeps by everything it depends on.
 * dg_pcache_get copies the bytes kept under key at exactly version into
 * *out (malloc'd, NUL-terminated, the caller frees) and says whether there
 * were any; dg_pcache_put keeps a copy of len bytes (not when version is
 * older than the newest seen). c may be NULL (nothing kept).
 */
bool dg_pcache_get(struct dg_pcache *c, const char *key, int64_t version, char **out, size_t *len);
void dg_pcache_put(struct dg_pcache *c, const char *key, int64_t version, const char *bytes,
		   size_t len);

#endif
