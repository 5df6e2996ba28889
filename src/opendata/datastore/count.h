/*
 * count.h - the totals of filtered datastore searches, remembered.
 *
 * Paging through a filtered table asks for the same total on every page,
 * and counting the matching rows is most of a search's work on a big table.
 * A total is remembered under its table, the table's version (raised by
 * every write in the write's own transaction, read with the table's entry
 * on each search) and the count's statement and values; a write gives the
 * table a new version, so a remembered total is never one of older rows.
 * A fixed number of slots (a newer total takes the slot of an older one);
 * safe from every request thread at once.
 */
#ifndef DG_DS_COUNT_H
#define DG_DS_COUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* The key of a count: table, version, statement, values. */
struct dg_ds_count_key {
	const char *table;
	int64_t version;
	const char *sql;
	const struct dg_val *args;
	size_t nargs;
};

/* The remembered total for k, if any. */
bool dg_ds_count_get(const struct dg_ds_count_key *k, int64_t *total);
/* Remember total for k (keys over a few KiB are not kept). */
void dg_ds_count_put(const struct dg_ds_count_key *k, int64_t total);
/* Forget every total (tests; the store was replaced). */
void dg_ds_count_clear(void);

#endif
