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

#include "core/err.h"
#include "opendata/ds_sql.h"
#include "store/store.h"

#define DG_DS_MAX_LIMIT 32000
#define DG_DS_DEFAULT_LIMIT 100
#define DG_DS_MAX_OFFSET 1000000

/* params borrowed; *result owned by the caller. err->field names the bad parameter. */
dg_rc dg_ds_search(struct dg_db *db, const char *resource_id, const struct dg_ds_table *t,
		   json_t *params, json_t **result, struct dg_err *err) DG_MUST;

#endif
