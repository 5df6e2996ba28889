/*
 * base.h - what every part of the open data shares, at the bottom of its
 * layers (base.c): the catalogue's tables, which the access layer, the
 * DataStore and the catalogue all join; who may write a department's
 * datasets; the shape of a CKAN action, which the catalogue and the
 * DataStore implement and the API's one table names; and two helpers over
 * rows and times.
 *
 * The open data's sub-folders, lowest first (scripts/check-layers.sh keeps
 * it so): base; access; datastore; catalog; then api and pages, side by
 * side. Each includes only the public header of a folder below it (the one
 * named after the folder); its other headers are its own files' business.
 */
#ifndef DG_OD_BASE_H
#define DG_OD_BASE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "http/req.h"
#include "store/store.h"

/*
 * The catalogue's tables: datasets (CKAN packages with the fields Chinese
 * portals add), their resources, tags and extras. Applied first of the
 * open data's migrations.
 */
extern const struct dg_migration dg_opendata_migrations[];

/*
 * The catalogue's kept counts (od_facet_counts: scope, facet, value, n),
 * counted again from the datasets the public may see: the migration that
 * makes the table fills it so, and a bulk load ends so (catalog/facets.c
 * keeps them in step with every other write). Scope "" is the whole
 * catalogue, "o:CODE" one organisation's datasets, "g:THEME" one group's;
 * facet "" (value "") is the number of datasets, the rest are
 * package_search's facet fields.
 */
#define DG_OD_VISIBLE_P "p.state = 'active' AND p.private = 0 AND p.tier <> 'closed'"
/*
 * The facets kept (facet name, the column of its values, the rows it is
 * read from), each as X(facet, col, from): the counts' and the datasets'
 * rows are filled from the same list.
 */
#define DG_OD_FACET_SOURCES(X)                                                                     \
	X("organization", "p.owner_dept", "od_packages p")                                         \
	X("groups", "p.theme", "od_packages p")                                                    \
	X("tags", "t.name", "od_tags t JOIN od_packages p ON p.id = t.package_id")                 \
	X("res_format", "r.format", "od_resources r JOIN od_packages p ON p.id = r.package_id")    \
	X("license_id", "p.license_id", "od_packages p")                                           \
	X("update_frequency", "p.frequency", "od_packages p")                                      \
	X("region", "p.region", "od_packages p")                                                   \
	X("open_tier", "p.tier", "od_packages p")
/* One facet's counts in the three kinds of scope: col's values over the rows of from. */
#define DG_OD_FACET_SCOPES(facet, col, from)                                                       \
	"INSERT INTO od_facet_counts (scope, facet, value, n) SELECT '', '" facet "', " col        \
	", COUNT(DISTINCT p.id) FROM " from " WHERE " DG_OD_VISIBLE_P " AND " col " <> ''"         \
	" GROUP BY " col ";"                                                                       \
	"INSERT INTO od_facet_counts (scope, facet, value, n) SELECT 'o:' || p.owner_dept, "       \
	"'" facet "', " col ", COUNT(DISTINCT p.id) FROM " from " WHERE " DG_OD_VISIBLE_P          \
	" AND " col " <> '' GROUP BY p.owner_dept, " col ";"                                       \
	"INSERT INTO od_facet_counts (scope, facet, value, n) SELECT 'g:' || p.theme, '" facet     \
	"', " col ", COUNT(DISTINCT p.id) FROM " from " WHERE " DG_OD_VISIBLE_P " AND " col        \
	" <> '' AND p.theme <> '' GROUP BY p.theme, " col ";"
#define DG_OD_FACETS_FILL                                                                          \
	"INSERT INTO od_facet_counts (scope, facet, value, n) SELECT '', '', '', COUNT(*)"         \
	" FROM od_packages p WHERE " DG_OD_VISIBLE_P " HAVING COUNT(*) > 0;"                       \
	"INSERT INTO od_facet_counts (scope, facet, value, n) SELECT 'o:' || p.owner_dept, '', "   \
	"'',"                                                                                      \
	" COUNT(*) FROM od_packages p WHERE " DG_OD_VISIBLE_P " GROUP BY p.owner_dept;"            \
	"INSERT INTO od_facet_counts (scope, facet, value, n) SELECT 'g:' || p.theme, '', '',"     \
	" COUNT(*) FROM od_packages p WHERE " DG_OD_VISIBLE_P " AND p.theme <> ''"                 \
	" GROUP BY p.theme;" DG_OD_FACET_SOURCES(DG_OD_FACET_SCOPES)

/*
 * Each dataset the public may see, with its facets' values
 * (od_dataset_facets: doc, kind, value; doc is its search_id, kind a facet
 * of od_facet_counts, "" with value "" for the dataset itself), filled
 * again from the datasets; catalog/facets.c keeps it in step with every
 * other write. The facets and the count of a search are read from it for
 * the set of documents the search matched.
 */
#define DG_OD_DATASET_FACET(kind, col, from)                                                       \
	"INSERT INTO od_dataset_facets (doc, kind, value) SELECT DISTINCT p.search_id, '" kind     \
	"', " col " FROM " from " WHERE " DG_OD_VISIBLE_P " AND " col " <> '';"
#define DG_OD_DATASET_FACETS_FILL                                                                  \
	"INSERT INTO od_dataset_facets (doc, kind, value) SELECT p.search_id, '', ''"              \
	" FROM od_packages p WHERE " DG_OD_VISIBLE_P ";" DG_OD_FACET_SOURCES(DG_OD_DATASET_FACET)

/*
 * A CKAN action, as api/ckan.c's table calls it: params are the request's
 * parameters (an object, borrowed); on DG_OK *res is the result (owned by
 * the caller). On failure err holds the message (err->field the parameter
 * at fault); an action failing with EINVAL may also leave in *res CKAN's
 * whole error object ({"__type": "Validation Error", "<field>": [...],
 * ...} or {"__type": "Search Query Error", "message": ...}), which the API
 * sends as it is. DG_CKAN_ACTION declares one, DG_CKAN_ACTION_FN defines it.
 */
typedef dg_rc (*dg_ckan_action_fn)(struct dg_req *r, json_t *params, json_t **res,
				   struct dg_err *err);
#define DG_CKAN_ACTION_FN(name)                                                                    \
	dg_rc dg_ckan_##name(struct dg_req *r, json_t *params, json_t **res, struct dg_err *err)
#define DG_CKAN_ACTION(name) DG_CKAN_ACTION_FN(name) DG_MUST

/* A department's code by id (arena copy); ENOTFOUND when there is none. */
dg_rc dg_od_dept_code(struct dg_db *db, int64_t dept_id, struct dg_arena *a, char **out) DG_MUST;

/*
 * Who may write datasets: *out is "*" for an administrator, a staff
 * member's department code, or NULL for anyone else. token_only: count the
 * user only when the request came with an API token (the API's writes take
 * no CSRF token, so a session cookie must not do); the pages pass false,
 * their forms carry one. Errors are the store's.
 */
dg_rc dg_od_writer(struct dg_req *r, struct dg_db *db, bool token_only, const char **out) DG_MUST;

/* Whether the writer mine (dg_od_writer; may be NULL) may change department dept's datasets. */
bool dg_od_may_edit(const char *mine, const char *dept);

/* The first column of every row, as a new JSON array of strings; frees rows. */
dg_rc dg_od_first_column(struct dg_rows *rows, json_t **out) DG_MUST;

/* ms since the epoch as CKAN's "YYYY-MM-DDTHH:MM:SS.ffffff" (UTC). */
void dg_od_iso_time(int64_t ms, char out[64]);

/*
 * CKAN's times back to ms since the epoch (UTC): "YYYY-MM-DD", then
 * optionally "T" or " " and "HH:MM", ":SS", a fraction of 1 to 9 digits
 * (cut to ms), and "Z" or "+00:00". *has_time says whether a time of day
 * was given. DG_EINVAL for anything else, an impossible date or time, or a
 * year outside 1-9999.
 */
dg_rc dg_od_iso_parse(const char *s, int64_t *ms, bool *has_time) DG_MUST;

/*
 * CORS for the open data's reads (the Action API's read actions, dumps,
 * files, DCAT): when the request's Origin is one --cors-origins allows, the
 * header that lets that page read the answer. Never with credentials: a
 * page elsewhere reads what anyone may, or what the key or token it sends
 * itself may (a visitor's session cookie does not count across origins).
 */
void dg_od_cors(struct dg_req *r);

/*
 * An OPTIONS preflight: 204, and for an allowed origin asking about a read
 * (read true) the methods and headers it may use (GET, POST; Authorization,
 * X-CKAN-API-Key, Content-Type), cached for a day. A write's preflight gets
 * no CORS headers, so the browser does not send it.
 */
dg_rc dg_od_cors_preflight(struct dg_req *r, bool read) DG_MUST;

#endif
