/*
 * datastore_int.h - what the DataStore's files share (opendata/datastore;
 * what others may use is datastore.h): type inference and safe names
 * (infer.c), all of the SQL (sql.c), and the entry points of the search
 * (search.c) and of the writes (write.c) that actions.c and dump.c call.
 */
#ifndef DG_DATASTORE_INT_H
#define DG_DATASTORE_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "opendata/datastore/datastore.h"
#include "store/store.h"

/*
 * ---- types and names (infer.c) ----
 *
 * Types: a column is int only when every non-empty value is a plain integer
 * (an optional minus, no leading zeros: "007" is a code and stays text),
 * numeric when every value is an integer or a decimal, date when every value
 * is a real calendar date (YYYY-MM-DD, or YYYY/M/D and YYYY-M-D, stored as
 * YYYY-MM-DD), timestamp when every value is a date or a date with a time of
 * day (YYYY-MM-DD HH:MM[:SS[.ffffff]], "T" or a space between), bool when
 * every value is true/false;
 * anything else, and a column with no values at all, is text. Empty values
 * are NULLs and do not narrow a column.
 *
 * Names: a header is the column's name, as CKAN's loaders keep it (Chinese,
 * spaces and all), in Unicode's NFC and without the blanks around it, when
 * datastore_create would take it as a name (dg_ds_name_problem) and no
 * earlier column has it (ASCII case aside). Any other header becomes a
 * [a-z0-9_] identifier of at most 63 bytes that starts with a letter, or
 * col_<n> when it has no ASCII letter or digit; duplicates get _2, _3, ...
 * The header also stays as the column's label.
 */

/*
 * The type name the API answers for a column of type t (datastore_search,
 * datastore_info, datastore_create, JSON dumps): CKAN's, which is
 * PostgreSQL's own, "int8" for dgov's 64-bit int and the name as stored
 * for the others. dg_ds_type_parse reads each back, so a client that makes
 * a table from the fields it was answered gets the same types. "_id" is
 * answered "int", as CKAN does.
 */
const char *dg_ds_type_answer(enum dg_ds_type t);
/* A copy of a table's fields (JSON, as stored) with answered type names. */
json_t *dg_ds_fields_answer(json_t *fields);

/*
 * Array columns (_text, _int8, _numeric) hold a JSON list whose elements
 * are null or of the element's type (strings; integers; numbers), stored
 * as JSONB on PostgreSQL and as the list's compact text on SQLite, so both
 * answer the same list. Like json columns, they cannot be filtered.
 */
bool dg_ds_is_array(enum dg_ds_type t);
/* Whether v is a list an array column of type t may hold. */
bool dg_ds_array_ok(enum dg_ds_type t, json_t *v);

/* Whether the value (n bytes) is valid for a column of type t; the empty
 * string is NULL and valid for every type. */
bool dg_ds_value_ok(enum dg_ds_type t, const char *s, size_t n);

/*
 * A valid value (dg_ds_value_ok) as it is stored, so that both stores hold,
 * compare and sort the same text: a date as YYYY-MM-DD, a timestamp as
 * YYYY-MM-DDTHH:MM:SS with its fraction, if any (a date alone is midnight).
 * Returns s itself when it is already so (and for other types), else buf.
 */
#define DG_DS_NORM_MAX 32
const char *dg_ds_value_norm(enum dg_ds_type t, const char *s, size_t n, char buf[DG_DS_NORM_MAX]);

/* Inference over the rows of a file, one column mask per column. */
struct dg_ds_infer {
	size_t ncols;
	unsigned *mask; /* candidate types still possible, bit per dg_ds_type */
	bool *seen;     /* a non-empty value was seen */
};

void dg_ds_infer_init(struct dg_ds_infer *inf, size_t ncols);
void dg_ds_infer_release(struct dg_ds_infer *inf);
/* Narrow with one record; fields beyond ncols are ignored. */
void dg_ds_infer_add(struct dg_ds_infer *inf, size_t n, char *const *f, const size_t *len);
/* Narrow column col with one value (s, n bytes; empty changes nothing). */
void dg_ds_infer_add_one(struct dg_ds_infer *inf, size_t col, const char *s, size_t n);
enum dg_ds_type dg_ds_infer_type(const struct dg_ds_infer *inf, size_t col);

/*
 * Safe names for n headers into names[i] (DG_DS_NAME_MAX bytes each),
 * deduplicated. Always succeeds.
 */
void dg_ds_names(size_t n, char *const *labels, char (*names)[DG_DS_NAME_MAX]);

/*
 * A field name given to datastore_create (n bytes, which may hold a NUL) as
 * CKAN allows it: any Unicode text, Chinese and spaces included, but not
 * empty, not starting with "_" (the DataStore's own columns), without a
 * double quote or a control character, not starting or ending with a space,
 * at most 63 bytes (PostgreSQL's identifiers), and, in dgov, without a comma
 * (primary keys and field lists are "a,b") and in Unicode's NFC (so two
 * names that look alike are one; the loader normalizes headers, the API
 * refuses a name sent otherwise). NULL when it may be used, else
 * why not ("holds a double quote"). A name that passes is quoted as "name"
 * in every statement: nothing in it can end the quotes.
 */
const char *dg_ds_name_problem(const char *s, size_t n);

/* Whether two names are one column to the store: SQLite folds ASCII case in
 * identifiers, so "Code" and "code" are refused as duplicates on both stores. */
bool dg_ds_name_same(const char *a, const char *b);

/*
 * ---- the SQL (sql.c) ----
 *
 * All of the datastore's SQL: the datastore_tables catalogue of
 * resource -> table, and DDL/DML over the per-resource tables. Table and
 * column names given here must already be safe identifiers (infer.c's
 * names and dg_ds_table_name's tables); values are always bound.
 */

/*
 * The next version of datastore_tables' row in an UPDATE: one more, or the
 * time in ms when that is larger, so a table dropped and made again never
 * repeats a version a remembered count was kept under.
 */
#define DG_DS_NEXT_VERSION                                                                         \
	"CASE WHEN datastore_tables.version + 1 > {{now_ms}} THEN datastore_tables.version + 1"    \
	" ELSE {{now_ms}} END"

/* The index on the table's i-th field (0: the first after "_id"). */
void dg_ds_index_name(const char *table, size_t i, char out[DG_DS_TABLE_MAX + 24]);
/* Whether it exists (indexes are built after a load, and one may have failed). */
dg_rc dg_ds_sql_index_exists(struct dg_db *db, const char *table, size_t i, bool *out) DG_MUST;

/* "ds_<16 hex of a hash of resource_id>_<version>". */
void dg_ds_table_name(const char *resource_id, int64_t version, char out[DG_DS_TABLE_MAX]);

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

/* The column type a dg_ds_type is stored as on a kind of store. */
const char *dg_ds_sql_type(enum dg_store_kind k, enum dg_ds_type t);

/* Who owns a catalogue resource (strings in the arena). */
struct dg_ds_owner {
	const char *dept;     /* the owning department's code */
	const char *url_type; /* "datastore" when the DataStore is its source */
	bool visible;         /* the public may see it: not closed, not private */
};

/* The names a download is named after (arena strings, "" when empty). */
struct dg_ds_names {
	const char *pkg_name, *pkg_title, *res_name;
};
/* The dataset's name and title and the resource's name; ENOTFOUND for no resource. */
dg_rc dg_ds_sql_names(struct dg_db *db, const char *resource_id, struct dg_arena *a,
		      struct dg_ds_names *n) DG_MUST;

/*
 * The owner of an active dataset's resource; ENOTFOUND when there is none.
 * With a NULL arena only o->visible is filled.
 */
dg_rc dg_ds_sql_resource(struct dg_db *db, const char *resource_id, struct dg_arena *a,
			 struct dg_ds_owner *o) DG_MUST;

/* row_count += delta (inside the transaction that changed the rows). */
dg_rc dg_ds_sql_count_add(struct dg_db *db, const char *resource_id, int64_t delta) DG_MUST;
/* Store new fields and primary key ("" or NULL for none) of an existing table. */
dg_rc dg_ds_sql_set_schema(struct dg_db *db, const char *resource_id, json_t *fields,
			   const char *primary_key) DG_MUST;
/* Store new fields (their info: labels) of an existing table; its rows are untouched. */
dg_rc dg_ds_sql_set_fields(struct dg_db *db, const char *resource_id, json_t *fields) DG_MUST;
/* Remove the resource's entry (its table is dropped separately). */
dg_rc dg_ds_sql_forget(struct dg_db *db, const char *resource_id) DG_MUST;
dg_rc dg_ds_sql_add_column(struct dg_db *db, const char *table, const char *name,
			   enum dg_ds_type type) DG_MUST;
/* Replace the table's unique key index by one on cols ("a,b"; "" drops it). */
dg_rc dg_ds_sql_unique(struct dg_db *db, const char *table, const char *cols) DG_MUST;

/*
 * ---- datastore_search (search.c) ----
 *
 * Every column named by the client (filters, fields, sort, distinct) is
 * checked against the table's fields before it reaches SQL; values are bound.
 * limit <= 32000 (default 100), offset <= DG_DS_MAX_OFFSET: no request can
 * make a read run without bound beyond an indexed filter and a capped page.
 */

#define DG_DS_MAX_LIMIT     32000
#define DG_DS_DEFAULT_LIMIT 100
/* a deep OFFSET reads and sorts every row it skips (10 s at 1 M sorted rows):
 * past this, paging is by keyset on "_id", as _links.next does */
#define DG_DS_MAX_OFFSET 10000

/*
 * params borrowed; *result owned by the caller. err->field names the bad
 * parameter. Besides CKAN's result keys, next_page ({"_id": {"gt": N}}, as
 * 2.12) is set when the order is by "_id" alone and the page had rows, and
 * _links.next then continues by that keyset rather than by offset.
 */
dg_rc dg_ds_search(struct dg_db *db, const char *resource_id, const struct dg_ds_table *t,
		   json_t *params, json_t **result, struct dg_err *err) DG_MUST;

/* datastore_search's limit (default and cap above), offset (up to
 * DG_DS_MAX_OFFSET) and include_total (default true), for any listing that
 * pages as it does; EINVAL with err->field on a bad one. */
dg_rc dg_ds_paging(json_t *params, long long *limit, long long *offset, bool *with_total,
		   struct dg_err *err) DG_MUST;

/* A result column's value as JSON for its type (NULL -> null). New reference. */
json_t *dg_ds_value_json(struct dg_rows *rows, int i, enum dg_ds_type t);

/* Append a value as one CSV (sep ',') or TSV (sep '\t') field, quoted when needed. */
dg_rc dg_ds_add_delim(struct dg_buf *b, json_t *v, char sep) DG_MUST;

/*
 * ---- the writes (write.c) ----
 *
 * datastore_create, datastore_upsert and datastore_delete over a
 * resource's table (CKAN's semantics, reference b7).
 *
 * The caller (actions.c) has checked who is asking; these functions check
 * what is asked. Each call is one transaction: either every record is
 * written and the stored row count moves by exactly the rows added or
 * removed, or nothing changes. Writers of one resource are serialised (a row
 * lock on its datastore_tables entry; SQLite's writer lock), so the count
 * stays exact under concurrent calls.
 *
 * Bounds: DG_DS_WRITE_RECORDS records a call, DG_DS_MAX_COLS columns a table,
 * 8 primary-key columns. Errors are DG_EINVAL with err->field naming the
 * CKAN key at fault ("records", "fields", "primary_key", "key", "table",
 * "constraints", "method", "filters"), DG_ENOTFOUND when the resource has no
 * table (upsert, delete), or a store error.
 */

#define DG_DS_WRITE_RECORDS 5000
#define DG_DS_MAX_COLS      256

/* Create the table or extend it (fields, primary_key, records). */
dg_rc dg_ds_create(struct dg_db *db, const char *resource_id, json_t *params, json_t **result,
		   struct dg_err *err) DG_MUST;

/* Insert, update or upsert records ("method"); "dry_run" rolls back. */
dg_rc dg_ds_upsert(struct dg_db *db, const char *resource_id, json_t *params, json_t **result,
		   struct dg_err *err) DG_MUST;

/*
 * Delete the rows matching "filters" (filter.h; {} deletes every row), or,
 * when there are no filters and !rows_only, the whole table.
 */
dg_rc dg_ds_delete(struct dg_db *db, const char *resource_id, json_t *params, bool rows_only,
		   json_t **result, struct dg_err *err) DG_MUST;

/*
 * dg_datastore_check for a read; *again is true when the read was allowed
 * only because the dataset is open to this caller (not theirs to edit), so
 * that a long read (a dump) asks dg_ds_still_open between its pages.
 */
dg_rc dg_ds_check_read(struct dg_req *r, struct dg_db *db, const char *resource_id, bool *again,
		       struct dg_err *err) DG_MUST;

/*
 * Is resource_id still readable by a caller who is not its department, with
 * app app_id (0: none)? *open false once its dataset is deleted, closed or
 * made private, or, when conditional, the app's grant has ended.
 */
dg_rc dg_ds_still_open(struct dg_db *db, const char *resource_id, int64_t app_id,
		       bool *open) DG_MUST;

/*
 * The background export (export.c, dump.c): resource_id's whole table,
 * every column, written to path as format ("csv" with a BOM, "tsv",
 * "json" or "xlsx", whose workbook keeps its temporary files in tmp_dir)
 * with a header of labels (labels: NULL for the names, "label" or
 * "label_en"), a page at a time on db, each page under the read budget;
 * progress (may be NULL) is told the rows written and the table's rows
 * after each page, and an error from it stops the export. EINVAL for an
 * unknown format, ENOTFOUND when the resource has no table, ETOOBIG past
 * the XLSX cap, EIO when the file cannot be written. path may be left
 * half written on error: the caller removes it.
 */
dg_rc dg_ds_dump_file(struct dg_db *db, const char *resource_id, const char *format,
		      const char *labels, const char *tmp_dir, const char *path,
		      dg_rc (*progress)(void *ctx, int64_t done, int64_t total), void *ctx) DG_MUST;

#endif
