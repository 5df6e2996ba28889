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

#include "http/req.h"

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

#endif
