/*
 * ckan_catalog.h - the catalogue's CKAN actions beyond the first slice
 * (ckan_catalog.c), called from ckan.c's table of actions: package_search
 * with Solr syntax and facets, organization/group/tag reads, and the writes
 * package_create/update/patch, dataset_purge and
 * resource_create/update/patch/delete (with multipart uploads, od_file.h).
 *
 * Same contract as every action in ckan.c: params borrowed, *res owned by
 * the caller. On failure err holds the message; an action that fails with
 * EINVAL may also leave in *res the whole CKAN error object ({"__type":
 * "Validation Error", "<field>": [...], ...} or {"__type": "Search Query
 * Error", "message": ...}), which ckan.c then sends as it is.
 */
#ifndef DG_CKAN_CATALOG_H
#define DG_CKAN_CATALOG_H

#include <jansson.h>
#include <stdbool.h>

#include "core/arena.h"
#include "http/req.h"
#include "store/store.h"

/* One action's signature: DG_CKAN_ACTION declares it, DG_CKAN_ACTION_FN defines it. */
#define DG_CKAN_ACTION_FN(name)                                                                    \
	dg_rc dg_ckan_##name(struct dg_req *r, json_t *params, json_t **res, struct dg_err *err)
#define DG_CKAN_ACTION(name) DG_CKAN_ACTION_FN(name) DG_MUST

DG_CKAN_ACTION(package_search);
DG_CKAN_ACTION(organization_list);
DG_CKAN_ACTION(organization_show);
DG_CKAN_ACTION(group_list);
DG_CKAN_ACTION(group_show);
DG_CKAN_ACTION(tag_list);
DG_CKAN_ACTION(package_create);
DG_CKAN_ACTION(package_update);
DG_CKAN_ACTION(package_patch);
DG_CKAN_ACTION(resource_show);
DG_CKAN_ACTION(resource_create);
DG_CKAN_ACTION(resource_update);
DG_CKAN_ACTION(resource_patch);
DG_CKAN_ACTION(resource_delete);
DG_CKAN_ACTION(dataset_purge);
DG_CKAN_ACTION(tag_show);

/*
 * The package and resource rules, shared by the actions above and the
 * staff's pages in the browser (pages_manage.c), which pass the same dicts.
 */

/*
 * Who may write datasets: "*" for an administrator, a staff member's
 * department code, or NULL for anyone else. token_only: count the user only
 * when the request came with an API token (the API's writes take no CSRF
 * token); the pages pass false, their forms carry one.
 */
dg_rc dg_ckan_writer(struct dg_req *r, struct dg_db *db, bool token_only, const char **out) DG_MUST;

/*
 * On EINVAL the messages: CKAN's {field: ["English message", ...]} and,
 * under this member, {field: ["odp.v.<code>[:<argument>]", ...]}, the
 * catalogue keys of the same messages for the pages (the API drops it).
 */
#define DG_CKAN_KEYS "__keys"

/*
 * Validate params (a package dict as package_create takes it) and save it:
 * a new dataset when old is NULL, else over old (the stored dataset as
 * dg_od_package_read gives it, whose id, owner and column extras stay when
 * params leave them out). mine is the writer (dg_ckan_writer). DG_OK: *id is
 * the dataset's id. EINVAL: *errs (owned by the caller) as above, nothing
 * saved. EDENIED: mine may not write the owning department. Else the
 * store's error.
 */
dg_rc dg_ckan_package_save(struct dg_req *r, struct dg_db *db, json_t *params, json_t *old,
			   const char *mine, const char **id, json_t **errs) DG_MUST;

/*
 * Validate src (a resource dict as resource_create takes it; changed: an
 * upload drops its url) and add it to dataset pkg_id (stored NULL) or put
 * it over stored (the resource as dg_od_package_read shows it), with up
 * (may be NULL) as its file (od_file.h): kept, applied, discarded when the
 * save fails, and for a CSV or TSV its load queued (*job, else 0). A link
 * over an uploaded file lets the file go. The caller has checked that the
 * writer may change the dataset. DG_OK: *rid is the resource's id; EINVAL:
 * *errs as above (an upload's problems under "upload").
 */
dg_rc dg_ckan_resource_save(struct dg_req *r, struct dg_db *db, const char *pkg_id, json_t *stored,
			    json_t *src, const struct dg_upload *up, const char **rid, int64_t *job,
			    json_t **errs) DG_MUST;

/* Remove resource rid (resource_delete), its table and its files; ENOTFOUND when none. */
dg_rc dg_ckan_resource_remove(struct dg_req *r, struct dg_db *db, const char *rid) DG_MUST;

/* A new dataset or resource id (a random UUID, as CKAN's), in arena a. */
char *dg_ckan_new_id(struct dg_arena *a);

#endif
