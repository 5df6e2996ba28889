/*
 * ds_write.h - the DataStore's writes: datastore_create, datastore_upsert and
 * datastore_delete over a resource's table (CKAN's semantics, reference b7).
 *
 * The caller (datastore.c) has checked who is asking; these functions check
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
#ifndef DG_DS_WRITE_H
#define DG_DS_WRITE_H

#include <jansson.h>

#include "core/err.h"
#include "store/store.h"

#define DG_DS_WRITE_RECORDS 5000
#define DG_DS_MAX_COLS 256

/* Create the table or extend it (fields, primary_key, records). */
dg_rc dg_ds_create(struct dg_db *db, const char *resource_id, json_t *params, json_t **result,
		   struct dg_err *err) DG_MUST;

/* Insert, update or upsert records ("method"); "dry_run" rolls back. */
dg_rc dg_ds_upsert(struct dg_db *db, const char *resource_id, json_t *params, json_t **result,
		   struct dg_err *err) DG_MUST;

/*
 * Delete the rows matching "filters" (ds_filter.h; {} deletes every row), or,
 * when there are no filters and !rows_only, the whole table.
 */
dg_rc dg_ds_delete(struct dg_db *db, const char *resource_id, json_t *params, bool rows_only,
		   json_t **result, struct dg_err *err) DG_MUST;

#endif
