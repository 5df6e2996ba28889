/*
 * ds_search.h - datastore_search over a resource's table.
 *
 * Every column named by the client (filters, fields, sort, distinct) is
 * checked against the table's fields before it reaches SQL; values are bound.
 * limit <= 32000 (default 100), offset <= DG_DS_MAX_OFFSET: no request can
 * make a read run without bound beyond an indexed filter and a capped page.
 */
#ifndef DG_DS_SEARCH_H
#define DG_DS_SEARCH_H

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"
#include "opendata/ds_sql.h"
#include "store/store.h"

#define DG_DS_MAX_LIMIT 32000
#define DG_DS_DEFAULT_LIMIT 100
#define DG_DS_MAX_OFFSET 1000000

/*
 * params borrowed; *result owned by the caller. err->field names the bad
 * parameter. Besides CKAN's result keys, next_page ({"_id": {"gt": N}}, as
 * 2.12) is set when the order is by "_id" alone and the page had rows, and
 * _links.next then continues by that keyset rather than by offset.
 */
dg_rc dg_ds_search(struct dg_db *db, const char *resource_id, const struct dg_ds_table *t,
		   json_t *params, json_t **result, struct dg_err *err) DG_MUST;

/* A result column's value as JSON for its type (NULL -> null). New reference. */
json_t *dg_ds_value_json(struct dg_rows *rows, int i, enum dg_ds_type t);

/* Append a value as one CSV (sep ',') or TSV (sep '\t') field, quoted when needed. */
dg_rc dg_ds_add_delim(struct dg_buf *b, json_t *v, char sep) DG_MUST;

#endif
