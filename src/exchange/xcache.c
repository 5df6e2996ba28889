/*
 * xcache.c - each node's copy of the exchange's keys and grants, so that a
 * call to /x/v1 does not read them from the store each time.
 *
 * The store keeps one version of them (xr_version.v), raised by triggers in
 * the same transaction as every insert, update or delete of xr_clients and
 * xr_requests, whoever makes it (the pages, `dgov exchange key`, the demo,
 * SQL typed by hand). A call reads that version (one cheap statement, or a
 * part of one it makes anyway: xapi.c) and uses the copy only when the copy
 * holds that version or a later one; otherwise the copy is read again first.
 * So a revoked or rotated key and a revoked grant are refused on the next
 * call on every node; an expiry needs no change at all, since a grant's end
 * date is compared with today on every call (grants.c x_grant_pick).
 *
 * Bounds: a node keeps a copy for at most NODES stores at once (tests run
 * several nodes in one process); a copy holds at most ROWS_MAX keys and as
 * many grants, and a store with more is read on every call instead, as
 * before the copy existed. A copy only moves forward: one read at an older
 * version than the one kept is dropped. Every access holds one mutex and
 * copies out what it needs.
 */
#include "exchange/internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define NODES    8
#define ROWS_MAX 20000

struct cgrant {
	const char *dept, *registry;
	struct x_grant_row row;
};

struct copy {
	int64_t v;
	struct dg_arena *a; /* the strings */
	struct x_client *clients;
	char (*hashes)[65]; /* sorted; clients[i] holds hashes[i] */
	size_t nclients;
	struct cgrant *grants; /* in id order */
	size_t ngrants;
};

static struct {
	const struct dg_store *store;
	struct copy *copy;
	bool too_big; /* the store held more than ROWS_MAX at big_v: read on each call */
	int64_t big_v;
} nodes[NODES];
static unsigned next_slot;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void copy_free(struct copy *c)
{
	if (!c)
		return;
	dg_arena_free(c->a);
	free(c->clients);
	free(c->hashes);
	free(c->grants);
	free(c);
}

/* The slot of s (mu held), or -1. */
static int slot_of(const struct dg_store *s)
{
	for (int i = 0; i < NODES; i++)
		if (nodes[i].store == s)
			return i;
	return -1;
}

void x_cache_reset(const struct dg_store *s)
{
	pthread_mutex_lock(&mu);
	int i = slot_of(s);
	if (i >= 0) {
		copy_free(nodes[i].copy);
		nodes[i].copy = NULL;
		nodes[i].too_big = false;
	}
	pthread_mutex_unlock(&mu);
}

dg_rc x_cache_version(struct dg_db *db, int64_t *v)
{
	return dg_db_query_int(db, "SELECT v FROM xr_version WHERE id = 1", DG_NOARGS, v);
}

struct keyed {
	char hash[65];
	struct x_client c;
};

static int by_hash(const void *a, const void *b)
{
	return strcmp(((const struct keyed *)a)->hash, ((const struct keyed *)b)->hash);
}

static dg_rc read_clients(struct dg_db *db, struct copy *c, bool *big)
{
	struct dg_rows *rows = NULL;
	struct keyed *k = NULL;
	size_t n = 0, cap = 0;
	dg_rc rc = dg_db_query(db,
			       "SELECT key_hash, id, dept, system, rate_per_min FROM xr_clients"
			       " WHERE revoked_ms = 0",
			       DG_NOARGS, &rows);
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		if (n == ROWS_MAX) {
			*big = true;
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			k = dg_xrealloc(k, cap * sizeof(*k));
		}
		memset(&k[n], 0, sizeof(k[n]));
		/* a field too long for the copy cannot match a call's header either */
		snprintf(k[n].hash, sizeof k[n].hash, "%s", dg_rows_text(rows, 0));
		k[n].c.id = dg_rows_int(rows, 1);
		snprintf(k[n].c.dept, sizeof k[n].c.dept, "%s", dg_rows_text(rows, 2));
		snprintf(k[n].c.system, sizeof k[n].c.system, "%s", dg_rows_text(rows, 3));
		k[n].c.rate = dg_rows_int(rows, 4);
		n++;
	}
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND || *big)
		rc = DG_OK;
	if (!rc && !*big) {
		if (n)
			qsort(k, n, sizeof(*k), by_hash);
		c->clients = dg_xcalloc(n ? n : 1, sizeof(*c->clients));
		c->hashes = dg_xcalloc(n ? n : 1, sizeof(*c->hashes));
		for (size_t i = 0; i < n; i++) {
			c->clients[i] = k[i].c;
			memcpy(c->hashes[i], k[i].hash, sizeof c->hashes[i]);
		}
		c->nclients = n;
	}
	free(k);
	return rc;
}

static dg_rc read_grants(struct dg_db *db, struct copy *c, bool *big)
{
	struct dg_rows *rows = NULL;
	size_t cap = 0;
	dg_rc rc = dg_db_query(
		db, "SELECT " X_GRANT_COLS " FROM xr_requests" X_GRANT_WHERE " ORDER BY id",
		DG_NOARGS, &rows);
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		if (c->ngrants == ROWS_MAX) {
			*big = true;
			break;
		}
		if (c->ngrants == cap) {
			cap = cap ? cap * 2 : 16;
			c->grants = dg_xrealloc(c->grants, cap * sizeof(*c->grants));
		}
		struct cgrant *g = &c->grants[c->ngrants++];
		x_grant_row_of(rows, &g->row);
		g->row.purpose = dg_arena_strdup(c->a, g->row.purpose);
		g->row.mode = dg_arena_strdup(c->a, g->row.mode);
		g->row.ends = dg_arena_strdup(c->a, g->row.ends);
		g->row.granted = dg_arena_strdup(c->a, g->row.granted);
		g->dept = dg_arena_strdup(c->a, dg_rows_text(rows, 7));
		g->registry = dg_arena_strdup(c->a, dg_rows_text(rows, 8));
	}
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND || *big ? DG_OK : rc;
}

dg_rc x_cache_sync(struct dg_store *s, struct dg_db *db, int64_t v)
{
	pthread_mutex_lock(&mu);
	int i = slot_of(s);
	bool fresh = i >= 0 && nodes[i].copy && nodes[i].copy->v >= v;
	bool big = i >= 0 && nodes[i].too_big && nodes[i].big_v >= v;
	pthread_mutex_unlock(&mu);
	if (fresh)
		return DG_OK;
	if (big)
		return DG_ETOOBIG;
	/*
	 * v was read before the rows: a change committed in between leaves the
	 * copy newer than v says, never older, and the next call reads it again
	 */
	struct copy *c = dg_xcalloc(1, sizeof(*c));
	c->v = v;
	c->a = dg_arena_new();
	dg_rc rc = read_clients(db, c, &big);
	if (!rc && !big)
		rc = read_grants(db, c, &big);
	if (rc) {
		copy_free(c);
		return rc;
	}
	pthread_mutex_lock(&mu);
	i = slot_of(s);
	if (i < 0) {
		/* a free slot, else the next one round (its node reads its copy again) */
		i = slot_of(NULL);
		if (i < 0)
			i = (int)(next_slot++ % NODES);
		copy_free(nodes[i].copy);
		nodes[i].store = s;
		nodes[i].copy = NULL;
	}
	nodes[i].too_big = big;
	nodes[i].big_v = v;
	if (big) {
		copy_free(nodes[i].copy);
		nodes[i].copy = NULL;
		copy_free(c);
	} else if (!nodes[i].copy || nodes[i].copy->v < c->v) {
		copy_free(nodes[i].copy);
		nodes[i].copy = c;
	} else {
		copy_free(c);
	}
	pthread_mutex_unlock(&mu);
	return big ? DG_ETOOBIG : DG_OK;
}

static int hash_cmp(const void *key, const void *elem)
{
	return strcmp(key, elem);
}

void x_cache_client(const struct dg_store *s, const char *key_hash, struct x_client *out,
		    bool *found, int64_t *v)
{
	*found = false;
	*v = 0;
	pthread_mutex_lock(&mu);
	int i = slot_of(s);
	struct copy *c = i >= 0 ? nodes[i].copy : NULL;
	if (c) {
		*v = c->v;
		const char(*h)[65] =
			bsearch(key_hash, c->hashes, c->nclients, sizeof(*c->hashes), hash_cmp);
		if (h) {
			*out = c->clients[h - c->hashes];
			*found = true;
		}
	}
	pthread_mutex_unlock(&mu);
}

dg_rc x_cache_grant(const struct dg_store *s, int64_t v, const char *dept, const char *registry,
		    const char *purpose, const char *mode, struct x_grant *g, const char **why)
{
	enum { MAX = 64 }; /* a department's grants for one registry, at most, from the copy */
	struct x_grant_row rows[MAX];
	size_t n = 0;
	dg_rc rc = DG_OK;
	pthread_mutex_lock(&mu);
	int i = slot_of(s);
	struct copy *c = i >= 0 ? nodes[i].copy : NULL;
	if (!c || c->v < v)
		rc = DG_ECONFLICT;
	for (size_t k = 0; !rc && k < c->ngrants; k++) {
		const struct cgrant *cg = &c->grants[k];
		if (strcmp(cg->dept, dept) || strcmp(cg->registry, registry))
			continue;
		if (n == MAX) {
			rc = DG_ETOOBIG;
			break;
		}
		rows[n++] = cg->row;
	}
	/* the strings stay the copy's while mu is held: pick before letting go */
	if (!rc)
		rc = x_grant_pick(rows, n, purpose, mode, g, why);
	pthread_mutex_unlock(&mu);
	return rc;
}
