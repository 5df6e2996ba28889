/*
 * stmtcache.h - a bounded cache of prepared statements for one connection,
 * shared by the SQLite and PostgreSQL backends. Private to src/store/.
 *
 * Invariants: a key is the statement's translated SQL (PostgreSQL adds its
 * parameter types); a slot handed out by dg_stmt_cache_find is busy until
 * dg_stmt_cache_release, and a busy slot is never handed out twice nor
 * evicted, so nested result sets of the same SQL never share a statement.
 * A key enters the cache only when it is seen the second time while the
 * admission filter still remembers it (about the last thousand distinct
 * keys: dg_stmt_cache_admit): SQL built with
 * literals of unbounded variety (a LIMIT/OFFSET page, a multi-row INSERT)
 * is mostly seen once and so never evicts the statements that recur. The
 * cache holds at most DG_STMT_CACHE_SLOTS statements and evicts the least
 * recently used idle one; what a statement is (sqlite3_stmt *, a PostgreSQL
 * statement number) and how it is dropped is the backend's business.
 */
#ifndef DG_STORE_STMTCACHE_H
#define DG_STORE_STMTCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* 64 covers the statements one domain's requests run; ~70 KB of SQLite VM each at most */
#define DG_STMT_CACHE_SLOTS 64
#define DG_STMT_CACHE_SEEN  1024 /* the admission filter's keys (8 KB) */

struct dg_stmt_slot {
	uint64_t hash;
	char *key; /* NULL: the slot is empty */
	void *stmt;
	uint64_t used; /* the cache's tick when last released */
	bool busy;
	bool stale; /* to be dropped as soon as the backend can (PostgreSQL) */
};

struct dg_stmt_cache {
	struct dg_stmt_slot slot[DG_STMT_CACHE_SLOTS];
	uint64_t seen[DG_STMT_CACHE_SEEN];
	uint64_t tick;
	unsigned nstale;
	uintptr_t serial; /* for the backend's names (PostgreSQL's statement numbers) */
	struct dg_stmt_stats stats;
};

/* Drops one statement (finalize, DEALLOCATE); ctx is the backend's. */
typedef void dg_stmt_drop_fn(void *ctx, void *stmt);

uint64_t dg_stmt_hash(const char *key);
/* The idle slot holding key, now busy (a hit), or NULL (counted as a miss). */
struct dg_stmt_slot *dg_stmt_cache_find(struct dg_stmt_cache *c, const char *key, uint64_t hash);
/* Whether a missed key should be cached: true on its second sighting. */
bool dg_stmt_cache_admit(struct dg_stmt_cache *c, uint64_t hash);
/*
 * Store stmt under key (a copy is kept), evicting the least recently used
 * idle slot (dropped with drop) when full. Returns the busy slot, or NULL
 * when every slot is busy: the caller then owns stmt as an uncached one.
 */
struct dg_stmt_slot *dg_stmt_cache_add(struct dg_stmt_cache *c, const char *key, uint64_t hash,
				       void *stmt, dg_stmt_drop_fn *drop, void *ctx);
/* Give a slot back: idle again, most recently used. */
void dg_stmt_cache_release(struct dg_stmt_cache *c, struct dg_stmt_slot *s);
/* Empty a slot, dropping its statement with drop (drop NULL: just forget it). */
void dg_stmt_cache_remove(struct dg_stmt_cache *c, struct dg_stmt_slot *s, dg_stmt_drop_fn *drop,
			  void *ctx);
/* Mark a slot to be removed when the backend next can (it stays busy until released). */
void dg_stmt_cache_doom(struct dg_stmt_cache *c, struct dg_stmt_slot *s);
/* Remove the idle doomed slots. */
void dg_stmt_cache_purge(struct dg_stmt_cache *c, dg_stmt_drop_fn *drop, void *ctx);
/* Remove every idle slot (drop NULL: the statements are gone with the session). */
void dg_stmt_cache_clear(struct dg_stmt_cache *c, dg_stmt_drop_fn *drop, void *ctx);

#endif
