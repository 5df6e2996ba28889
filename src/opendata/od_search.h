/*
 * od_search.h - package_search over the catalogue (od_search.c): Solr-style
 * q and fq (solr.h) compiled against the catalogue's fields, a sort from a
 * whitelist, paging and facet counts, and the reads behind the group,
 * organization and tag actions. Closed-tier and deleted datasets are never
 * found; private ones only for the department named in private_dept.
 */
#ifndef DG_OD_SEARCH_H
#define DG_OD_SEARCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "store/store.h"

#define DG_OD_ROWS_MAX 1000  /* package_search's rows cap, as CKAN's rows_max */
#define DG_OD_FQ_MAX 16      /* fq plus fq_list entries */
#define DG_OD_FACETS_MAX 16  /* facet.field entries */
#define DG_OD_SORT_KEYS_MAX 5

struct dg_od_search {
	const char *q;                 /* "" or NULL: everything */
	const char *const *fq;         /* filter queries, ANDed */
	size_t nfq;
	const char *sort;              /* NULL: "score desc, metadata_modified desc" */
	int64_t rows, start;
	const char *const *facets;     /* facet.field names */
	size_t nfacets;
	int64_t facet_limit;           /* < 0: DG_OD_ROWS_MAX */
	int64_t facet_mincount;
	const char *private_dept;      /* also private datasets of this department; "*": all */
	int64_t now_ms;                /* for NOW in dates */
};

/*
 * Run a search. *out gets {count, results (full packages), sort, facets,
 * search_facets}. EINVAL with a message (and err->field "q", "fq", "sort" or
 * "facet.field") when the query, sort or a facet field is not understood.
 */
dg_rc dg_od_search_run(struct dg_db *db, struct dg_arena *a, const struct dg_od_search *s,
		       json_t **out, struct dg_err *err) DG_MUST;

/* The Solr fields of the catalogue (for tests and the docs). */
const struct dg_solr_schema *dg_od_search_schema(void);

/*
 * Organizations (departments) or groups (themes of visible datasets), as
 * CKAN's group dicts with package_count. sort: "name", "title" or
 * "package_count", each with an optional " asc"/" desc"; q: a substring of
 * name or title (may be NULL); only (may be NULL): names to keep.
 */
struct dg_od_group_query {
	bool orgs;
	const char *sort;
	const char *q;
	json_t *only;
	int64_t limit, offset;
};
dg_rc dg_od_group_list(struct dg_db *db, const struct dg_od_group_query *gq, json_t **out,
		       struct dg_err *err) DG_MUST;
/* One organization (by code) or group (by theme) dict; ENOTFOUND when none. */
dg_rc dg_od_group_show(struct dg_db *db, bool org, const char *id, json_t **out) DG_MUST;

/* Tag names of visible datasets containing q (NULL: all), sorted. */
dg_rc dg_od_tag_list(struct dg_db *db, const char *q, json_t **out) DG_MUST;

#endif
