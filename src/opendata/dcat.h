/*
 * dcat.h - the catalogue as DCAT-AP 3 (dcat.c), the way ckanext-dcat
 * serves it: /dataset/{id}.ttl and /dataset/{id}.jsonld for one dataset,
 * /catalog.ttl and /catalog.jsonld for the whole catalogue, 100 datasets a
 * page (?page=N) with Hydra paging links, filtered like package_search by
 * q, fq and modified_since. Only what the public may see is exported.
 */
#ifndef DG_DCAT_H
#define DG_DCAT_H

#include "http/req.h"

/* GET /dataset/{file}: file is "<id or name>.ttl" or ".jsonld"; 404 for anything else. */
dg_rc dg_dcat_dataset(struct dg_req *r) DG_MUST;
/* GET /catalog.ttl and /catalog.jsonld. EINVAL for a bad page or filter, ENOTFOUND past the last page. */
dg_rc dg_dcat_catalog_ttl(struct dg_req *r) DG_MUST;
dg_rc dg_dcat_catalog_jsonld(struct dg_req *r) DG_MUST;

#endif
