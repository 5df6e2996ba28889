/*
 * stmtcache.c - the per-connection prepared-statement cache (stmtcache.h).
 *
 * A fixed array searched linearly: 64 slots of which the hash is compared
 * first cost less than one prepare, and a least-recently-used victim is a
 * scan of the same array, so there is no list to keep consistent.
 */
#include "store/stmtcache.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

/*
 * FNV-1a, 64 bits, then a finalizer that spreads every bit over the low
 * ones the admission filter indexes by (FNV's low bits depend only on the
 * keys' low bits). The key is compared in full after the hash matches.
 */
uint64_t dg_stmt_hash(const char *key)
{
	uint64_t h = 14695981039346656037ull;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h ? h : 1; /* 0 marks an empty admission entry */
}

struct dg_stmt_slot *dg_stmt_cache_find(struct dg_stmt_cache *c, const char *key, uint64_t hash)
{
	for (unsigned i = 0; i < DG_STMT_CACHE_SLOTS; i++) {
		struct dg_stmt_slot *s = &c->slot[i];
		if (s->key && s->hash == hash && !s->busy && !s->stale &&
		    strcmp(s->key, key) == 0) {
			s->busy = true;
			c->stats.hits++;
			return s;
		}
	}
	c->stats.misses++;
	return NULL;
}

/*
 * The keys seen lately, in buckets of SEEN_WAYS, each bucket first in first
 * out: two recurring keys of one bucket that alternate are both admitted,
 * which a direct-mapped filter would never do.
 */
#define SEEN_WAYS 4

bool dg_stmt_cache_admit(struct dg_stmt_cache *c, uint64_t hash)
{
	uint64_t *b = &c->seen[(hash % (DG_STMT_CACHE_SEEN / SEEN_WAYS)) * SEEN_WAYS];
	for (unsigned i = 0; i < SEEN_WAYS; i++)
		if (b[i] == hash)
			return true;
	memmove(b + 1, b, (SEEN_WAYS - 1) * sizeof *b);
	b[0] = hash;
	return false;
}

static void slot_empty(struct dg_stmt_cache *c, struct dg_stmt_slot *s, dg_stmt_drop_fn *drop,
		       void *ctx)
{
	if (drop)
		drop(ctx, s->stmt);
	if (s->stale)
		c->nstale--;
	free(s->key);
	*s = (struct dg_stmt_slot){0};
	c->stats.cached--;
}

struct dg_stmt_slot *dg_stmt_cache_add(struct dg_stmt_cache *c, const char *key, uint64_t hash,
				       void *stmt, dg_stmt_drop_fn *drop, void *ctx)
{
	struct dg_stmt_slot *victim = NULL;
	for (unsigned i = 0; i < DG_STMT_CACHE_SLOTS; i++) {
		struct dg_stmt_slot *s = &c->slot[i];
		if (!s->key) {
			victim = s;
			break;
		}
		if (!s->busy && (!victim || s->used < victim->used))
			victim = s;
	}
	if (!victim)
		return NULL;
	if (victim->key) {
		slot_empty(c, victim, drop, ctx);
		c->stats.evictions++;
	}
	*victim = (struct dg_stmt_slot){
		.hash = hash, .key = dg_xstrdup(key), .stmt = stmt, .busy = true};
	c->stats.cached++;
	return victim;
}

void dg_stmt_cache_release(struct dg_stmt_cache *c, struct dg_stmt_slot *s)
{
	s->busy = false;
	s->used = ++c->tick;
}

void dg_stmt_cache_remove(struct dg_stmt_cache *c, struct dg_stmt_slot *s, dg_stmt_drop_fn *drop,
			  void *ctx)
{
	slot_empty(c, s, drop, ctx);
}

void dg_stmt_cache_doom(struct dg_stmt_cache *c, struct dg_stmt_slot *s)
{
	if (!s->stale)
		c->nstale++;
	s->stale = true;
}

void dg_stmt_cache_purge(struct dg_stmt_cache *c, dg_stmt_drop_fn *drop, void *ctx)
{
	for (unsigned i = 0; c->nstale && i < DG_STMT_CACHE_SLOTS; i++) {
		struct dg_stmt_slot *s = &c->slot[i];
		if (s->key && s->stale && !s->busy)
			slot_empty(c, s, drop, ctx);
	}
}

void dg_stmt_cache_clear(struct dg_stmt_cache *c, dg_stmt_drop_fn *drop, void *ctx)
{
	for (unsigned i = 0; i < DG_STMT_CACHE_SLOTS; i++) {
		struct dg_stmt_slot *s = &c->slot[i];
		if (s->key && s->busy)
			dg_stmt_cache_doom(c, s); /* still read by its result set */
		else if (s->key)
			slot_empty(c, s, drop, ctx);
	}
}
