/*
 * pages.h - open data's pages for people (pages.c, pages_chart.c,
 * pages_req.c, pages_stats.c): the catalogue search under /data with facets, a dataset's
 * page with a preview table and a chart drawn by the server, a resource's
 * API examples, the statistics, data requests (数据需求) and the app
 * showcase. Every page works without JavaScript.
 */
#ifndef DG_OD_PAGES_H
#define DG_OD_PAGES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "http/router.h"
#include "store/store.h"

/* Data requests and showcase apps (pages_req.c), after the catalogue's. */
extern const struct dg_migration dg_od_pages_migrations[];

/* /data, /data/datasets/..., /data/stats, /data/requests..., /data/showcase...,
 * /api/v1/opendata/stats */
const struct dg_route *dg_od_pages_routes(size_t *n);

/* The staff's pages (pages_manage.c): /data/manage, a dataset's and its resources' forms. */
const struct dg_route *dg_od_manage_routes(size_t *n);

/* The handlers of pages_req.c, for the route table in pages.c. */
struct dg_req;
dg_rc dg_od_requests_list(struct dg_req *r) DG_MUST;
dg_rc dg_od_requests_new(struct dg_req *r) DG_MUST;
dg_rc dg_od_request_page(struct dg_req *r) DG_MUST;
dg_rc dg_od_request_answer(struct dg_req *r) DG_MUST;
dg_rc dg_od_showcase_list(struct dg_req *r) DG_MUST;
dg_rc dg_od_showcase_new(struct dg_req *r) DG_MUST;
dg_rc dg_od_showcase_approve(struct dg_req *r) DG_MUST;

/* The statistics (pages_stats.c): the page and the same figures as JSON. */
dg_rc dg_od_stats_page(struct dg_req *r) DG_MUST;
dg_rc dg_od_stats_api(struct dg_req *r) DG_MUST;

/* One table of the demo's datasets, so its pages show a preview and a chart. */
dg_rc dg_od_pages_demo_seed(struct dg_db *db, struct dg_err *err) DG_MUST;

/*
 * A chart of labels[i] -> values[i] (n <= DG_OD_CHART_MAX) as an SVG drawn
 * for reading by people and screen readers: line (true) or bars, its
 * <title> and <desc> from title and desc (escaped here). Appends to b;
 * ETOOBIG when b is full.
 */
#define DG_OD_CHART_MAX 60
dg_rc dg_od_chart_svg(struct dg_buf *b, const char *title, const char *desc,
		      const char *const *labels, const double *values, size_t n, bool line) DG_MUST;

#endif
