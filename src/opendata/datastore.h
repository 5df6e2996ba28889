/*
 * datastore.h - tabular resources as queryable tables (CKAN's DataStore).
 *
 * A resource's rows live in a table of their own, created from an uploaded
 * CSV by a durable job (streamed, typed, replaced atomically) or by
 * datastore_create. Keyed by the resource id (text); the catalogue
 * (opendata.h) owns resources, the datastore owns their tables.
 */
#ifndef DG_DATASTORE_H
#define DG_DATASTORE_H

#include <jansson.h>
#include <stdbool.h>

#include "core/err.h"
#include "http/req.h"
#include "store/store.h"

extern const struct dg_migration dg_datastore_migrations[];

/* Register the "datastore.load" job kind (before the job workers start). */
void dg_datastore_register_jobs(void);

/*
 * One CKAN datastore_* action (create, upsert, delete, info, search,
 * search_sql): params is the request's parameters (borrowed); *result gets
 * the action's result (owned by the caller). Errors carry a CKAN-style
 * message in err (err->field names the offending parameter).
 */
dg_rc dg_datastore_action(struct dg_req *r, const char *action, json_t *params, json_t **result,
			  struct dg_err *err) DG_MUST;

/* Whether a resource has a datastore table (for datastore_active). */
dg_rc dg_datastore_exists(struct dg_db *db, const char *resource_id, bool *out) DG_MUST;

/*
 * Queue a load of the CSV file at path (moved into the data folder by the
 * caller) into resource_id's table; options (borrowed, may be NULL):
 * {"strict": bool, "types": {"col": "text|int|numeric|date|bool"}}.
 */
dg_rc dg_datastore_load_enqueue(struct dg_db *db, const char *resource_id, const char *path,
				json_t *options, int64_t user_id, int64_t *job_id) DG_MUST;

#endif
