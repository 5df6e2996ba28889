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
 * same transaction: a load's batches (dg_ds_fts_fill after each COPY),
 * datastore_create's records and upserts (dg_ds_fts_put on each row
 * returned), deletes (dg_ds_fts_unindex before the rows go), and a
 * table's drop (dg_ds_sql_drop drops its index). The index of a table made
 * before it existed, or by an older tokenizer, is built at start
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
 * For a load: make table's index without PostgreSQL's GIN (SQLite: as
 * dg_ds_fts_create), then build it once every row is in, before the table
 * is read (search.h, dg_search_create_unindexed).
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
 * For a load that makes each row's document as it writes the row (no
 * reading back): whether documents can be made from the values as written
 * (not when a column is JSON, which PostgreSQL rewrites); then the copy
 * into table's index (dg_db_copy_*, two values a row), and row id's two
 * values, from vals[i], column i+1's value as written (NULL: NULL), made in
 * bufs (dg_buf_init'ed by the caller) and pointed to by out. ETOOBIG past
 * the tokenizer's caps.
 */
bool dg_ds_fts_from_values(const struct dg_ds_col *cols, size_t ncols);
dg_rc dg_ds_fts_copy_begin(struct dg_db *db, const char *table, struct dg_copy **out) DG_MUST;
dg_rc dg_ds_fts_doc(enum dg_store_kind kind, const struct dg_ds_col *cols, size_t ncols, int64_t id,
		    const char *const *vals, struct dg_buf bufs[2], const char *out[2]) DG_MUST;
/* (Re)index the current row of rows, whose columns are cols ("_id" first). */
dg_rc dg_ds_fts_put(struct dg_db *db, const char *table, const struct dg_ds_col *cols, size_t ncols,
		    struct dg_rows *rows) DG_MUST;

/* Remove the documents of the rows where_sql (" WHERE ..." or "") selects, before a delete. */
dg_rc dg_ds_fts_unindex(struct dg_db *db, const char *table, const char *where_sql,
			const struct dg_val *args, size_t nargs) DG_MUST;

#endif
