/*
 * ds_sql.h - all of the datastore's SQL: the datastore_tables catalogue of
 * resource -> table, and DDL/DML over the per-resource tables. Table and
 * column names given here must already be safe identifiers (ds_infer.h's
 * names and dg_ds_table_name's tables); values are always bound.
 */
#ifndef DG_DS_SQL_H
#define DG_DS_SQL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "opendata/ds_infer.h"
#include "store/store.h"

#define DG_DS_TABLE_MAX 64

#define DG_DS_KEY_MAX 400 /* a primary key's columns as "a,b" (8 names at most) */

/* The table a resource's rows live in. */
struct dg_ds_table {
	char table[DG_DS_TABLE_MAX];
	json_t *fields; /* owned: [{"id","type","info":{"label"}}] */
	int64_t row_count; /* kept exact by loads and every write */
	char primary_key[DG_DS_KEY_MAX]; /* "" when none */
	int64_t version; /* raised by every write (see ds_count.h) */
};

/*
 * The next version of datastore_tables' row in an UPDATE: one more, or the
 * time in ms when that is larger, so a table dropped and made again never
 * repeats a version a remembered count was kept under.
 */
#define DG_DS_NEXT_VERSION                                                                        \
	"CASE WHEN datastore_tables.version + 1 > {{now_ms}} THEN datastore_tables.version + 1"   \
	" ELSE {{now_ms}} END"

/* "ds_<16 hex of a hash of resource_id>_<version>". */
void dg_ds_table_name(const char *resource_id, int64_t version, char out[DG_DS_TABLE_MAX]);

/* ENOTFOUND when the resource has no table. t->fields is owned by the caller. */
dg_rc dg_ds_sql_lookup(struct dg_db *db, const char *resource_id, struct dg_ds_table *t) DG_MUST;

/* Create a table with "_id" and the given columns (names[i], types[i]). */
dg_rc dg_ds_sql_create(struct dg_db *db, const char *table, size_t ncols,
		       char (*names)[DG_DS_NAME_MAX], const enum dg_ds_type *types) DG_MUST;
dg_rc dg_ds_sql_drop(struct dg_db *db, const char *table) DG_MUST;

/*
 * Insert nrows rows of ncols text values (vals[row*ncols+col], NULL or "" is
 * SQL NULL) in one multi-row INSERT. Booleans are written as 1/0.
 */
dg_rc dg_ds_sql_insert(struct dg_db *db, const char *table, size_t ncols,
		       char (*names)[DG_DS_NAME_MAX], const enum dg_ds_type *types,
		       const char *const *vals, size_t nrows) DG_MUST;

/* Index every column (after a load; again is harmless). A column whose index
 * cannot be built is logged and left out; EDB only when none could be. Then
 * ANALYZE, for the planner. */
dg_rc dg_ds_sql_index(struct dg_db *db, const char *table, size_t ncols,
		      char (*names)[DG_DS_NAME_MAX]) DG_MUST;

/*
 * Point resource_id at table (insert or replace) with its fields, count and
 * load report (may be NULL), with no primary key (a new table has no unique
 * index); *old gets the previous table ("" if none).
 * Call inside a transaction.
 */
dg_rc dg_ds_sql_switch(struct dg_db *db, const char *resource_id, const char *table, json_t *fields,
		       int64_t row_count, json_t *report, char old[DG_DS_TABLE_MAX]) DG_MUST;

/* The last load's report (NULL when the table was not loaded from a file);
 * ENOTFOUND when the resource has no table. */
dg_rc dg_ds_sql_report(struct dg_db *db, const char *resource_id, json_t **out) DG_MUST;

/* The column type a dg_ds_type is stored as on a kind of store. */
const char *dg_ds_sql_type(enum dg_store_kind k, enum dg_ds_type t);

/* Who owns a catalogue resource (strings in the arena). */
struct dg_ds_owner {
	const char *dept;     /* the owning department's code */
	const char *url_type; /* "datastore" when the DataStore is its source */
	bool visible;         /* the public may see it: not closed, not private */
};

/* The owner of an active dataset's resource; ENOTFOUND when there is none. */
dg_rc dg_ds_sql_resource(struct dg_db *db, const char *resource_id, struct dg_arena *a,
			 struct dg_ds_owner *o) DG_MUST;

/* row_count += delta (inside the transaction that changed the rows). */
dg_rc dg_ds_sql_count_add(struct dg_db *db, const char *resource_id, int64_t delta) DG_MUST;
/* Store new fields and primary key ("" or NULL for none) of an existing table. */
dg_rc dg_ds_sql_set_schema(struct dg_db *db, const char *resource_id, json_t *fields,
			   const char *primary_key) DG_MUST;
/* Remove the resource's entry (its table is dropped separately). */
dg_rc dg_ds_sql_forget(struct dg_db *db, const char *resource_id) DG_MUST;
dg_rc dg_ds_sql_add_column(struct dg_db *db, const char *table, const char *name,
			   enum dg_ds_type type) DG_MUST;
/* Replace the table's unique key index by one on cols ("a,b"; "" drops it). */
dg_rc dg_ds_sql_unique(struct dg_db *db, const char *table, const char *cols) DG_MUST;

#endif
