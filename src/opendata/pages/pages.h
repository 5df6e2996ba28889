/*
 * pages.h - open data's pages for people (opendata/pages), as the module
 * sees them: the catalogue search under /data with facets, a dataset's
 * page with a preview table and a chart drawn by the server, a resource's
 * API examples, the statistics, data requests (数据需求), the app showcase,
 * and the staff's pages that manage datasets. Every page works without
 * JavaScript. Its files share pages_int.h.
 */
#ifndef DG_OD_PAGES_H
#define DG_OD_PAGES_H

#include <stddef.h>

#include "core/err.h"
#include "http/router.h"
#include "store/store.h"

/* Data requests and showcase apps (requests.c), after the catalogue's. */
extern const struct dg_migration dg_od_pages_migrations[];

/* /data, /data/datasets/..., /data/stats, /data/requests..., /data/showcase...,
 * /api/v1/opendata/stats */
const struct dg_route *dg_od_pages_routes(size_t *n);

/* The staff's pages (manage.c): /data/manage, a dataset's and its resources' forms. */
const struct dg_route *dg_od_manage_routes(size_t *n);

/*
 * Background exports of large tables (export.c): POST
 * /data/datasets/{id}/resources/{rid}/export, then /data/exports/{job}
 * (progress, then the download link) and /data/exports/{job}/file.
 */
const struct dg_route *dg_od_export_routes(size_t *n);

/* The resource of the demo table dg_od_pages_demo_seed makes (employment-statistics' rows). */
#define DG_OD_DEMO_TABLE "00000000-0000-4000-9000-000000000004"

/* One table of the demo's datasets, so its pages show a preview and a chart. */
dg_rc dg_od_pages_demo_seed(struct dg_db *db, struct dg_err *err) DG_MUST;

#endif
