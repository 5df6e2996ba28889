/*
 * tally.h - counts kept in memory by one node and written to the store in
 * batches (usage counters, daily quotas), so that counting a call is not a
 * write transaction of its own.
 *
 * A kind is one upsert that adds a number to one row: its SQL takes the
 * key's values, then the number to add (the last ?), and, for a kind with a
 * total, returns the row's new count (RETURNING n). The tally holds, per
 * key, the calls not yet written (pending) and, for a total, the count the
 * store gave when the node last read it.
 *
 * Invariants and bounds:
 * - the node writes what it holds at least every DG_TALLY_EVERY_MS and as
 *   soon as one key holds DG_TALLY_BATCH calls, in one transaction (lazy
 *   commit: a crash may lose the last second's counts), keys in one order;
 *   after writing it forgets every key, so each key's next call reads the
 *   store's count again;
 * - a total is the store's count at the node's last read plus the node's
 *   own calls since: exact on one node; with several nodes on one store it
 *   misses at most DG_TALLY_BATCH - 1 calls of each other node, so a limit
 *   checked against it is passed by at most (nodes - 1) * DG_TALLY_BATCH;
 * - at most DG_TALLY_KEYS_MAX keys are held; past that a call is written
 *   at once, as without a tally.
 */
#ifndef DG_STORE_TALLY_H
#define DG_STORE_TALLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define DG_TALLY_EVERY_MS 1000
#define DG_TALLY_BATCH    64
#define DG_TALLY_KEYS_MAX 4096
#define DG_TALLY_VALS     5 /* values in a key, at most */

struct dg_tally_kind {
	const char *sql; /* the upsert: nkeys values, then the number to add */
	size_t nkeys;
	bool total; /* the upsert returns the new count */
};

struct dg_tally;

struct dg_tally *dg_tally_new(void);
/* Frees t (NULL is a no-op) and what it holds, unwritten: dg_tally_flush first. */
void dg_tally_free(struct dg_tally *t);

/*
 * Count one call for the key keys (nkeys text values; NULL binds SQL
 * NULL) of kind k. For a kind with a total, *total (may be NULL otherwise)
 * gets the count including this call. db is the caller's connection, not
 * in a transaction: the first call of a key (a total kind) and the writes
 * the bounds above ask for run on it. t NULL writes the call at once.
 */
dg_rc dg_tally_add(struct dg_tally *t, struct dg_db *db, const struct dg_tally_kind *k,
		   const char *const *keys, int64_t *total) DG_MUST;

/*
 * Write every held count now, on db (not in a transaction), and forget the
 * keys; for readers of the counted tables that want this node's calls in
 * (pages, shutdown, tests). NULL t: nothing to do.
 */
dg_rc dg_tally_flush(struct dg_tally *t, struct dg_db *db) DG_MUST;

#endif
