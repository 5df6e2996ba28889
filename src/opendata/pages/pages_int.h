/*
 * pages_int.h - what the pages' files share (opendata/pages; what the
 * module may use is pages.h): the handlers of requests.c and stats.c for
 * the route table in pages.c, and the chart (chart.c).
 */
#ifndef DG_OD_PAGES_INT_H
#define DG_OD_PAGES_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "opendata/pages/pages.h"

struct dg_req;

/* Data requests and the showcase (requests.c). */
dg_rc dg_od_requests_list(struct dg_req *r) DG_MUST;
dg_rc dg_od_requests_new(struct dg_req *r) DG_MUST;
dg_rc dg_od_request_page(struct dg_req *r) DG_MUST;
dg_rc dg_od_request_answer(struct dg_req *r) DG_MUST;
dg_rc dg_od_showcase_list(struct dg_req *r) DG_MUST;
dg_rc dg_od_showcase_new(struct dg_req *r) DG_MUST;
dg_rc dg_od_showcase_approve(struct dg_req *r) DG_MUST;

/* The statistics (stats.c): the page and the same figures as JSON. */
dg_rc dg_od_stats_page(struct dg_req *r) DG_MUST;
dg_rc dg_od_stats_api(struct dg_req *r) DG_MUST;

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
