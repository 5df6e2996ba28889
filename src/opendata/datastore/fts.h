/*
 * fts.h - each DataStore table's full-text index, for datastore_search's q.
 *
 * A table "T" has an index "T_q" of the search module (src/search: the
 * tokenizer, queries and indexes the catalogues use too): FTS5 on SQLite,
 * a tsvector table under GIN on PostgreSQL. One document per row, keyed by
 * its "_id", holds every column's text, each token tagged with its column
 * (search.h, "documents of columns"), so that q over all columns and q on
 * one column are both lookups of the same index.
 *
 * Invariant: every write of the table's rows changes its documents in the
 * same transaction: datastore_create's records and upserts (dg_ds_fts_put on each row
 * returned), deletes (dg_ds_fts_unindex before the rows go), and a
 * table's drop (dg_ds_sql_drop drops its index). A load is the exception:
 * its table is readable from its switch, and its index is built right after
 * (dg_ds_fts_refill, then dg_ds_fts_index_build), q being refused until then.
 * The index of a table made before it existed, by an older tokenizer, or
 * by a load stopped before its index was complete, is built at start
 * (dg_datastore_fts_rebuild in datastore.h).
 *
 * Values are indexed in one form whatever the store's own text (numbers as
 * %.15g, booleans true/false, a timestamp's date and time apart), so that
 * both stores and a load or a write of the same value index the same words.
 */
#ifndef DG_DS_FTS_H
#define DG_DS_FTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "opendata/datastore/datastore.h"
#include "opendata/datastore/filter.h"
#include "search/search.h"
#include "store/store.h"

struct dg_ds_fts {
	char name[DG_DS_TABLE_MAX + 4]; /* "<table>_q" */
	struct dg_search_index ix;      /* one field, "body" */
};

/* The index of table (f must outlive its use of f->name). */
void dg_ds_fts_init(struct dg_ds_fts *f, const char *table);

/* Make table's index, empty (a leftover one is dropped first). */
dg_rc dg_ds_fts_create(struct dg_db *db, const char *table) DG_MUST;
/*
 * For a load: make table's index empty, without PostgreSQL's GIN and not
 * recorded as built, so that q on the table is refused (dg_ds_fts_check)
 * until dg_ds_fts_index_build, after every row is indexed, builds the GIN
 * (SQLite: nothing to build) and records it, in its caller's transaction.
 */
dg_rc dg_ds_fts_create_unindexed(struct dg_db *db, const char *table) DG_MUST;
dg_rc dg_ds_fts_index_build(struct dg_db *db, const char *table) DG_MUST;
/* Drop table's index (none is fine). */
dg_rc dg_ds_fts_drop(struct dg_db *db, const char *table) DG_MUST;

/*
 * Index table's rows whose "_id" is above *after, in "_id" order; *after
 * gets the last one indexed. cols are the table's columns ("_id" first).
 */
dg_rc dg_ds_fts_fill(struct dg_db *db, const char *table, const struct dg_ds_col *cols,
		     size_t ncols, int64_t *after) DG_MUST;

/*
 * For an index being built while its table is read and written (a load,
 * after the switch): index the next limit rows after *after (in "_id"
 * order; *after gets the last, *n their number), first removing whatever
 * documents of that range writers put meanwhile, so that the index holds
 * each row once, as it is. Fewer than limit: the rest of the table was
 * indexed. Call in a transaction that holds the table's writers back.
 */
dg_rc dg_ds_fts_refill(struct dg_db *db, const char *table, const struct dg_ds_col *cols,
		       size_t ncols, int64_t *after, long limit, long *n) DG_MUST;

/*
 * Before a search with q (w's ranks say it reads the index): DG_EINVAL
 * naming q, "being built", while table's index is not complete (a load's,
 * between its switch and dg_ds_fts_index_build); q's answers are never
 * partial.
 */
dg_rc dg_ds_fts_check(struct dg_db *db, const char *table, const struct dg_ds_where *w,
		      struct dg_err *err) DG_MUST;
/* (Re)index the current row of rows, whose columns are cols ("_id" first). */
dg_rc dg_ds_fts_put(struct dg_db *db, const char *table, const struct dg_ds_col *cols, size_t ncols,
		    struct dg_rows *rows) DG_MUST;

/* Remove the documents of the rows where_sql (" WHERE ..." or "") selects, before a delete. */
dg_rc dg_ds_fts_unindex(struct dg_db *db, const char *table, const char *where_sql,
			const struct dg_val *args, size_t nargs) DG_MUST;

#endif
