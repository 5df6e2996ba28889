/*
 * opendata.h - the open-data catalogue: datasets (CKAN packages) with their
 * resources, organizations (departments), groups (themes), tags and licenses,
 * served as pages and as CKAN's Action API v3 (/api/3/action/... and
 * /api/action/...).
 */
#ifndef DG_OPENDATA_H
#define DG_OPENDATA_H

#include <stddef.h>

#include "core/err.h"
#include "http/router.h"
#include "store/store.h"
#include "node/module.h"

struct dg_env;

extern const struct dg_migration dg_opendata_migrations[];

/* Pages (/data, /data/{name}, ...) and the CKAN Action API routes. */
const struct dg_route *dg_opendata_routes(size_t *n);

/* The demo region's datasets, inside the caller's transaction. */
dg_rc dg_opendata_demo_seed(struct dg_db *db, struct dg_err *err) DG_MUST;

/* The opendata module: its tables, routes, jobs and demo data, for src/app. */
extern const struct dg_module dg_opendata_module;

#endif
