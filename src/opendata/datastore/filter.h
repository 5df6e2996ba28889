/*
 * filter.h - CKAN's datastore filters and q as a SQL WHERE clause, shared
 * by datastore_search, datastore_delete and the dumps.
 *
 * The grammar is CKAN 2.12's (ckanext/datastore/filters.py): an object whose
 * members are ANDed, or a list of objects that are ORed; a member is
 *   "col": value                       col = value (null: col IS NULL)
 *   "col": [v, ...]                    col IN (...)  ([] matches nothing)
 *   "col": {"gte": v, "lt": v, ...}    each operator ANDed: eq in gt gte lt lte
 *   "col": [{"gt": 5}, 1, 2]           ORed: col > 5 OR col IN (1, 2)
 *   "$or": [{...}, {...}]              ORed objects; "$and" likewise ANDed
 *   "$$col"                            a column whose name starts with '$'
 * Filters may also come as JSON text (GET and form bodies).
 *
 * Invariants: every column name reaching SQL was found in the table's columns;
 * every value is a bound parameter, checked against the column's type first.
 * Bounds: nesting depth DG_DS_FILTER_DEPTH, DG_DS_FILTER_OPS operations and
 * DG_DS_MAX_ARGS values (store.h's PostgreSQL binds at most 256).
 */
#ifndef DG_DS_FILTER_H
#define DG_DS_FILTER_H

#include <jansson.h>
#include <stdbool.h>

#include "core/buf.h"
#include "core/err.h"
#include "opendata/datastore/datastore.h"
#include "store/store.h"

#define DG_DS_MAX_ARGS     200
#define DG_DS_FILTER_DEPTH 10
#define DG_DS_FILTER_OPS   100

/* A column of a datastore table: "_id" (int) first, then the table's fields. */
struct dg_ds_col {
	const char *id; /* borrowed from the table's fields JSON */
	enum dg_ds_type type;
};

/* The columns of t (malloc'd array, *n entries, "_id" first); t must outlive it. */
struct dg_ds_col *dg_ds_cols(const struct dg_ds_table *t, size_t *n);
/* The column named name, or NULL. */
const struct dg_ds_col *dg_ds_col_find(const struct dg_ds_col *cols, size_t n, const char *name);

#define DG_DS_RANKS_MAX 32 /* columns of one q object */

/* A rank q offers: "rank" (q a string) or "rank <col>" (q an object), CKAN's names. */
struct dg_ds_rank {
	char name[DG_DS_NAME_MAX + 8];
	char *query; /* its query in the store's syntax, bound for dg_search_rank */
};

/* A WHERE clause being built: " WHERE ..." or "" and its bound values. */
struct dg_ds_where {
	struct dg_buf sql;
	struct dg_val args[DG_DS_MAX_ARGS];
	char *owned[DG_DS_MAX_ARGS]; /* text values formatted or copied here */
	size_t nargs;
	size_t nops;
	struct dg_ds_rank ranks[DG_DS_RANKS_MAX]; /* set by dg_ds_where_q */
	size_t nranks;
};

void dg_ds_where_init(struct dg_ds_where *w);
void dg_ds_where_release(struct dg_ds_where *w);
static inline bool dg_ds_where_empty(const struct dg_ds_where *w)
{
	return w->sql.len == 0;
}

/*
 * AND the filters (a JSON value, borrowed; NULL or null adds nothing) to w.
 * DG_EINVAL with err->field "filters" and a message naming the column or
 * operator at fault; nothing is added then.
 */
dg_rc dg_ds_where_filters(struct dg_ds_where *w, const struct dg_ds_col *cols, size_t ncols,
			  json_t *filters, struct dg_err *err) DG_MUST;

/*
 * For a write (datastore_delete, datastore_records_delete): DG_OK when the
 * filters name rows, DG_EINVAL (field "filters") when they are empty or hold
 * an empty list, an empty object or a null where a filter or its values
 * belong ("", "[]", {}, [{}], {"$and": []}, {"col": []}, {"col": {"in": []}}):
 * such a mistake, an empty selection sent as filters, must not widen into
 * every row. A null value of a column ({"col": null}, IS NULL) is a filter.
 */
dg_rc dg_ds_filters_narrow(json_t *filters, struct dg_err *err) DG_MUST;

/*
 * AND a full-text search over table's index (fts.h), from params' q,
 * plain and language as CKAN's datastore_search takes them. q: a string (at
 * most 200 bytes) whose words must all be in the row, in any order and any
 * columns, or an object {"col": "text"} whose words must be in that column
 * (each of at most DG_DS_RANKS_MAX columns). plain true (the default): q is
 * words as the search module reads them (Latin words as prefixes, Chinese
 * by bigrams; text with no word matches nothing); plain false: q is in the
 * full-text syntax (dg_search_parse_syntax: AND & OR | NOT ! quotes,
 * parentheses, word* prefixes), a malformed one an error naming q.
 * language: one the tokenizer reads (dg_ds_languages), else an error. Sets
 * w's ranks: "rank" for a string, "rank <col>" for each column of an object.
 */
dg_rc dg_ds_where_q(struct dg_ds_where *w, enum dg_store_kind kind, const char *table,
		    const struct dg_ds_col *cols, size_t ncols, json_t *params,
		    struct dg_err *err) DG_MUST;

/*
 * The text search languages datastore_search's language takes, NULL-ended:
 * the names that dgov's one tokenizer reads alike (no stemming, no stop
 * words), CKAN's default "english" among them.
 */
extern const char *const dg_ds_languages[];

/*
 * Check a JSON value for a column of type t and bind it as the store expects
 * (int, real, 1/0 for booleans, text); *owned gets a copy to free when the
 * value is text. DG_EINVAL (message in err, field param) when it does not fit.
 */
dg_rc dg_ds_bind_value(const struct dg_ds_col *c, json_t *v, const char *param, struct dg_val *out,
		       char **owned, struct dg_err *err) DG_MUST;

/*
 * One clause of datastore_search's sort as CKAN reads it: a field name, in
 * double quotes or not (so it may hold spaces), then asc or desc, then
 * nulls first or nulls last, each optional and in any case ("\"人口 数\"
 * desc nulls last"). The name goes to name, not yet checked against the
 * table; *dir gets "ASC" or "DESC", *nulls "", " NULLS FIRST" or " NULLS
 * LAST". False when the clause has no name or one too long for any field.
 */
bool dg_ds_sort_clause(const char *item, char name[DG_DS_NAME_MAX], const char **dir,
		       const char **nulls);

#endif
