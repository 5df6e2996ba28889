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
#include <stdint.h>

#include "core/err.h"
#include "http/req.h"
#include "http/router.h"
#include "store/store.h"

extern const struct dg_migration dg_datastore_migrations[];

/*
 * One CKAN datastore_* action (create, upsert, delete, records_delete, info,
 * search, search_sql): params is the request's parameters (borrowed);
 * *result gets the action's result (owned by the caller). Errors carry a
 * CKAN-style message in err (err->field names the offending parameter).
 * Access as dg_datastore_check; writes must be POSTs.
 */
dg_rc dg_datastore_action(struct dg_req *r, const char *action, json_t *params, json_t **result,
			  struct dg_err *err) DG_MUST;

/* Whether action is one of the datastore_* actions that write (and must be POSTs). */
bool dg_datastore_is_write(const char *action);

/*
 * Time budgets (ms) per statement: reads (search, info, dumps) by default
 * DG_DS_READ_MS, changed by dg_datastore_set_budget_ms (0 restores the
 * default; process-wide); writes DG_DS_WRITE_MS, as CKAN's 60 s. A statement
 * over budget fails with a Validation Error on "query" ("Search took too
 * long" / "Query took too long").
 */
#define DG_DS_READ_MS 10000u
#define DG_DS_WRITE_MS 60000u
void dg_datastore_set_budget_ms(unsigned ms);

/* Writes: bodies over DG_DS_WRITE_BODY bytes are refused (DG_ETOOBIG). */
#define DG_DS_WRITE_BODY (8 << 20)

/*
 * May the requester read (write false) or write resource_id's table? Reads:
 * anyone, unless the resource belongs to a closed or private dataset, which
 * is "not found" to all but its department's staff and administrators.
 * Writes: a POST over an API token by the owning department's staff or an
 * administrator (DG_EDENIED otherwise, DG_ENOTFOUND when they may not even
 * see it), and, as CKAN, force unless the resource's url_type is
 * "datastore" (DG_EINVAL on "read-only").
 */
dg_rc dg_datastore_check(struct dg_req *r, struct dg_db *db, const char *resource_id, bool write,
			 bool force, struct dg_err *err) DG_MUST;

/* GET /datastore/dump/{resource_id} (ds_dump.c). */
const struct dg_route *dg_datastore_routes(size_t *n);

/* Drop resource_id's table, if it has one (its resource was deleted or purged). */
dg_rc dg_datastore_drop(struct dg_req *r, const char *resource_id) DG_MUST;

/* Whether a resource has a datastore table (for datastore_active). */
dg_rc dg_datastore_exists(struct dg_db *db, const char *resource_id, bool *out) DG_MUST;

/*
 * Queue a load of the CSV file at path (moved into the data folder by the
 * caller) into resource_id's table; options (borrowed, may be NULL):
 * {"strict": bool, "types": {"col": "text|int|numeric|date|bool"}, "tabs": bool (TSV)}.
 */
dg_rc dg_datastore_load_enqueue(struct dg_db *db, const char *resource_id, const char *path,
				json_t *options, int64_t user_id, int64_t *job_id) DG_MUST;

/*
 * Load resource id's file again with edited options (datastore_load, and
 * the staff's column page): params' "types" ({"col": type}) merged over the
 * last load's (a null value removes one, letting inference decide), its
 * "strict" (a boolean) replacing the last load's when given. The caller has
 * checked the requester may write the table. *result {resource_id, job_id,
 * options} (owned); the job, queued as user_id, replaces the table.
 * ENOTFOUND no table; EINVAL (err->field) a table not loaded from a file or
 * bad options.
 */
dg_rc dg_datastore_reload(struct dg_db *db, int64_t user_id, const char *id, json_t *params,
			  json_t **result, struct dg_err *err) DG_MUST;

/*
 * The demo region's tables (ds_demo.c): writes a generated CSV for each of
 * the twelve demo datasets under <data_dir>/demo and queues its load; the
 * market-entities table gets big_rows rows, the others a few hundred to a
 * few thousand. Same rows on every run.
 */
dg_rc dg_datastore_demo_load(struct dg_db *db, const char *data_dir, int64_t big_rows,
			     struct dg_err *err) DG_MUST;

#endif
