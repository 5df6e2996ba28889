/*
 * pages_int.h - what the pages' files share (opendata/pages; what the
 * module may use is pages.h): the handlers of requests.c and stats.c for
 * the route table in pages.c, and the chart (chart.c).
 */
#ifndef DG_OD_PAGES_INT_H
#define DG_OD_PAGES_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

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

/* "1.2 MB": a size for people (pages.c). */
const char *dg_od_size_text(struct dg_req *r, double bytes);

/*
 * A dataset's region (its extra "region") for people: the node's own
 * region (its division code, or the demo catalogue's "demo") by the name
 * the node has in r's language; any other value (a code or a name staff
 * typed) as it is (pages.c). The API keeps the value itself.
 */
const char *dg_od_region_label(struct dg_req *r, const char *region);

/*
 * The English label of tag name from pkg's tags_translated
 * (ckanext-fluent's lists, catalog/actions.c): the "en" entry in the place
 * the tag has in the "zh_Hans_CN" (or "zh") list; NULL when there is none
 * (pages.c). Borrowed from pkg.
 */
const char *dg_od_tag_en(json_t *pkg, const char *name);

/*
 * A theme's (a group's id's) name in r's language, from the messages
 * (odp.theme.<id>: the platform's fixed list); the id itself when it has
 * none, as data in the language it was written in (pages.c).
 */
const char *dg_od_theme_label(struct dg_req *r, const char *id);

#endif
