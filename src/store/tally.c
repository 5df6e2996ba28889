/*
 * tally.c - counts held in memory by one node and written in batches
 * (tally.h). A hash table of keys under one mutex; reading a key's first
 * count and writing the batch hold the mutex for their one statement or
 * transaction, so the node's calls of a key are counted in one order, and
 * a total is exact on one node. Nothing that waits on the mutex holds a
 * write transaction (the callers count before and after theirs), so
 * writing under it cannot deadlock.
 */
#include "store/tally.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/stmtcache.h"

#define BUCKETS 1024

struct entry {
	struct entry *next;
	const struct dg_tally_kind *k;
	uint64_t hash;
	char *vals[DG_TALLY_VALS]; /* NULL: SQL NULL */
	int64_t known;             /* the store's count at the last read (a total kind) */
	int64_t pending;           /* this node's calls not written yet */
};

struct dg_tally {
	pthread_mutex_t mu;
	struct entry *bucket[BUCKETS];
	size_t n;
	int64_t written; /* dg_mono_ms of the last write */
};

struct dg_tally *dg_tally_new(void)
{
	struct dg_tally *t = dg_xcalloc(1, sizeof *t);
	pthread_mutex_init(&t->mu, NULL);
	t->written = dg_mono_ms();
	return t;
}

static void forget(struct dg_tally *t)
{
	for (size_t b = 0; b < BUCKETS; b++) {
		while (t->bucket[b]) {
			struct entry *e = t->bucket[b];
			t->bucket[b] = e->next;
			for (size_t i = 0; i < DG_TALLY_VALS; i++)
				free(e->vals[i]);
			free(e);
		}
	}
	t->n = 0;
}

void dg_tally_free(struct dg_tally *t)
{
	if (!t)
		return;
	forget(t);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static uint64_t hash_of(const struct dg_tally_kind *k, const char *const *keys)
{
	uint64_t h = dg_stmt_hash(k->sql);
	for (size_t i = 0; i < k->nkeys; i++)
		h = h * 1099511628211u ^ (keys[i] ? dg_stmt_hash(keys[i]) : 0x9e3779b97f4a7c15u);
	return h;
}

static bool same_val(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static struct entry *find(struct dg_tally *t, const struct dg_tally_kind *k,
			  const char *const *keys, uint64_t h)
{
	for (struct entry *e = t->bucket[h % BUCKETS]; e; e = e->next) {
		if (e->hash != h || e->k != k)
			continue;
		size_t i = 0;
		while (i < k->nkeys && same_val(e->vals[i], keys[i]))
			i++;
		if (i == k->nkeys)
			return e;
	}
	return NULL;
}

/* A new key, or NULL when the table is full. */
static struct entry *make(struct dg_tally *t, const struct dg_tally_kind *k,
			  const char *const *keys, uint64_t h)
{
	if (t->n >= DG_TALLY_KEYS_MAX)
		return NULL;
	struct entry *e = dg_xcalloc(1, sizeof *e);
	e->k = k;
	e->hash = h;
	for (size_t i = 0; i < k->nkeys; i++)
		e->vals[i] = keys[i] ? dg_xstrdup(keys[i]) : NULL;
	e->next = t->bucket[h % BUCKETS];
	t->bucket[h % BUCKETS] = e;
	t->n++;
	return e;
}

/* The kind's upsert adding n to keys; *total (a total kind) gets the new count. */
static dg_rc upsert(struct dg_db *db, const struct dg_tally_kind *k, char *const *keys, int64_t n,
		    int64_t *total)
{
	struct dg_val args[DG_TALLY_VALS + 1];
	int64_t ignored = 0;
	for (size_t i = 0; i < k->nkeys; i++)
		args[i] = DG_VT(keys[i]);
	args[k->nkeys] = DG_VI(n);
	if (k->total)
		return dg_db_query_int(db, k->sql, args, k->nkeys + 1, total ? total : &ignored);
	return dg_db_exec(db, k->sql, args, k->nkeys + 1, NULL);
}

/*
 * n calls written at once. Counting writes do not wait for the disk
 * (dg_db_set_lazy): a crash may lose the last counts, but a call does not
 * pay a disk flush for its count.
 */
static dg_rc write_now(struct dg_db *db, const struct dg_tally_kind *k, const char *const *keys,
		       int64_t n, int64_t *total)
{
	bool lazy = dg_db_set_lazy(db, true) == DG_OK;
	dg_rc rc = upsert(db, k, (char *const *)keys, n, total);
	if (lazy && dg_db_set_lazy(db, false) != DG_OK && rc == DG_OK)
		rc = DG_EDB;
	return rc;
}

/* Keys in one order on every node (kind's SQL, then values), so that writers never cross. */
static int by_key(const void *pa, const void *pb)
{
	const struct entry *a = *(const struct entry *const *)pa,
			   *b = *(const struct entry *const *)pb;
	int c = strcmp(a->k->sql, b->k->sql);
	for (size_t i = 0; !c && i < a->k->nkeys; i++)
		c = strcmp(a->vals[i] ? a->vals[i] : "", b->vals[i] ? b->vals[i] : "");
	return c;
}

/* Every pending count in one transaction, then the keys forgotten; under t->mu. */
static dg_rc write_all(struct dg_tally *t, struct dg_db *db)
{
	struct entry **v = dg_xmalloc((t->n + 1) * sizeof *v);
	size_t n = 0;
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct entry *e = t->bucket[b]; e; e = e->next)
			if (e->pending > 0)
				v[n++] = e;
	qsort(v, n, sizeof *v, by_key);
	dg_rc rc = DG_OK;
	if (n) {
		bool lazy = dg_db_set_lazy(db, true) == DG_OK;
		rc = dg_db_begin(db);
		for (size_t i = 0; !rc && i < n; i++)
			rc = upsert(db, v[i]->k, v[i]->vals, v[i]->pending, NULL);
		if (!rc)
			rc = dg_db_commit(db);
		if (rc && dg_db_in_tx(db))
			dg_db_rollback(db);
		if (lazy && dg_db_set_lazy(db, false) != DG_OK && rc == DG_OK)
			rc = DG_EDB;
	}
	free(v);
	t->written = dg_mono_ms();
	if (rc) {
		dg_warn("tally: %zu counts could not be written (%s); kept for the next try", n,
			dg_rc_name(rc));
		return rc;
	}
	forget(t);
	return DG_OK;
}

dg_rc dg_tally_add(struct dg_tally *t, struct dg_db *db, const struct dg_tally_kind *k,
		   const char *const *keys, int64_t *total)
{
	if (k->nkeys > DG_TALLY_VALS)
		return DG_EINVAL;
	if (!t)
		return write_now(db, k, keys, 1, total);
	uint64_t h = hash_of(k, keys);
	pthread_mutex_lock(&t->mu);
	struct entry *e = find(t, k, keys, h);
	if (!e && k->total) {
		/*
		 * The key's first call: added to the store, which gives the
		 * count. Under the mutex, so that no call of this node is
		 * counted between the store's answer and the key's entry.
		 */
		int64_t n = 0;
		dg_rc rc = write_now(db, k, keys, 1, &n);
		if (!rc && (e = make(t, k, keys, h)))
			e->known = n;
		pthread_mutex_unlock(&t->mu);
		if (!rc && total)
			*total = n;
		return rc;
	}
	if (!e && !(e = make(t, k, keys, h))) {
		pthread_mutex_unlock(&t->mu);
		return write_now(db, k, keys, 1, total);
	}
	e->pending++;
	if (total)
		*total = e->known + e->pending;
	/* a failed write keeps the counts for the next call: this one is counted */
	if (e->pending >= DG_TALLY_BATCH || dg_mono_ms() - t->written >= DG_TALLY_EVERY_MS)
		(void)write_all(t, db);
	pthread_mutex_unlock(&t->mu);
	return DG_OK;
}

dg_rc dg_tally_flush(struct dg_tally *t, struct dg_db *db)
{
	if (!t)
		return DG_OK;
	pthread_mutex_lock(&t->mu);
	dg_rc rc = write_all(t, db);
	pthread_mutex_unlock(&t->mu);
	return rc;
}
