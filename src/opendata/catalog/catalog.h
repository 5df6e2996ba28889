/*
 * catalog.h - the open-data catalogue (opendata/catalog): datasets as CKAN
 * packages with their resources, organizations (departments), groups
 * (themes), tags and licenses; package_search with the Solr subset CKAN
 * clients send (solr.h); DCAT exports; uploaded files. This is what the
 * CKAN API (api/) and the pages (pages/) may use: the catalogue's actions,
 * its reads and search, the rules that save a dataset or a resource, and
 * its routes and demo datasets for the module. Its files share
 * catalog_int.h.
 *
 * Public reads leave out deleted, private and closed-tier datasets, so
 * callers answer "not found" for them.
 */
#ifndef DG_OD_CATALOG_H
#define DG_OD_CATALOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "http/req.h"
#include "http/router.h"
#include "opendata/base/base.h"
#include "store/store.h"

struct dg_pcache; /* web/pcache.h */

/* /dataset/{id}.ttl|.jsonld, /catalog.ttl|.jsonld (DCAT) and the resources' file downloads. */
const struct dg_route *dg_od_catalog_routes(size_t *n);

/* The demo region's datasets, inside the caller's transaction. */
dg_rc dg_od_catalog_demo_seed(struct dg_db *db, struct dg_err *err) DG_MUST;
/*
 * `dgov demo --datasets N`: N generated datasets (Chinese titles and notes,
 * the demo's departments, twenty groups, tags, 1-4 resources each, five
 * years of dates) and their search documents, bulk-loaded in db's open
 * transaction (generate.c).
 */
dg_rc dg_od_catalog_generate(struct dg_db *db, int64_t n, struct dg_err *err) DG_MUST;

/*
 * The catalogue's CKAN actions (base.h's contract; api/ckan.c's table):
 * the site and license reads and package_list/show/delete (basic.c);
 * package_search with Solr syntax and facets, the organization, group and
 * tag reads, and the writes package_create/update/patch, dataset_purge
 * and resource_create/update/patch/delete with multipart uploads
 * (actions.c). Reads serve what the public may see; writes need an API
 * token of the owning department's staff or an administrator.
 */
DG_CKAN_ACTION(status_show);
DG_CKAN_ACTION(site_read);
DG_CKAN_ACTION(license_list);
DG_CKAN_ACTION(package_list);
DG_CKAN_ACTION(package_show);
DG_CKAN_ACTION(package_delete);
DG_CKAN_ACTION(package_search);
DG_CKAN_ACTION(organization_list);
DG_CKAN_ACTION(organization_show);
DG_CKAN_ACTION(group_list);
DG_CKAN_ACTION(group_show);
DG_CKAN_ACTION(organization_update);
DG_CKAN_ACTION(organization_patch);
DG_CKAN_ACTION(group_update);
DG_CKAN_ACTION(group_patch);
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

/* CKAN's license list (license_list): {id, English title}, dg_ckan_nlicenses of them. */
extern const char *const dg_ckan_licenses[][2];
extern const size_t dg_ckan_nlicenses;

/*
 * The package and resource rules, shared by the actions above and the
 * staff's pages in the browser (pages/manage.c), which pass the same dicts.
 */

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
 * params leave them out). mine is the writer (base.h's dg_od_writer). DG_OK:
 * *id is the dataset's id. EINVAL: *errs (owned by the caller) as above, nothing
 * saved. EDENIED: mine may not write the owning department. Else the
 * store's error.
 */
dg_rc dg_ckan_package_save(struct dg_req *r, struct dg_db *db, json_t *params, json_t *old,
			   const char *mine, const char **id, json_t **errs) DG_MUST;

/*
 * Validate src (a resource dict as resource_create takes it; changed: an
 * upload drops its url) and add it to dataset pkg_id (stored NULL) or put
 * it over stored (the resource as dg_od_package_read shows it), with up
 * (may be NULL) as its file (file.c): kept, applied, discarded when the
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

/* ---- reads ---- */

/* One visible dataset by id or name in CKAN's package shape; ENOTFOUND otherwise. */
dg_rc dg_od_package_show(struct dg_db *db, const char *id_or_name, json_t **out) DG_MUST;
/*
 * The same for a writer: with any, private and closed-tier datasets too (the
 * caller has checked that the requester may see them).
 */
dg_rc dg_od_package_read(struct dg_db *db, const char *id_or_name, bool any, json_t **out) DG_MUST;
/* The same in any tier and any state, deleted too (for the dataset's editors). */
dg_rc dg_od_package_read_all(struct dg_db *db, const char *id_or_name, json_t **out) DG_MUST;
/* The owning department code and tier of an active dataset (any tier); ENOTFOUND otherwise. */
dg_rc dg_od_package_owner(struct dg_db *db, const char *id_or_name, struct dg_arena *a, char **dept,
			  char **tier) DG_MUST;
/* Mark an active dataset deleted (CKAN keeps deleted packages); ENOTFOUND when none. */
dg_rc dg_od_package_delete(struct dg_db *db, const char *id_or_name, int64_t now_ms) DG_MUST;

/*
 * The active datasets of department dept (NULL or "": all), private and
 * closed ones too, newest change first, at most DG_OD_MANAGE_MAX, for the
 * staff's list: [{id, name, title, tier, private, modified_ms, dept,
 * resources (count), rows (DataStore rows over its tables), and, when one
 * of the newest load jobs is for one of its resources, job_state and
 * job_id of the latest}].
 */
#define DG_OD_MANAGE_MAX 1000
dg_rc dg_od_manage_list(struct dg_db *db, const char *dept, json_t **out) DG_MUST;

/*
 * At start: every dataset indexed again when the index is older than the
 * search module's tokenizer or was never built (index.c).
 */
dg_rc dg_od_index_rebuild(struct dg_db *db) DG_MUST;

/* ---- package_search (search.c) ---- */

#define DG_OD_ROWS_MAX      1000 /* package_search's rows cap, as CKAN's rows_max */
#define DG_OD_FQ_MAX        16   /* fq plus fq_list entries */
#define DG_OD_FACETS_MAX    16   /* facet.field entries */
#define DG_OD_SORT_KEYS_MAX 5

struct dg_od_search {
	const char *q;         /* "" or NULL: everything */
	const char *const *fq; /* filter queries, ANDed */
	size_t nfq;
	const char *sort; /* NULL: "score desc, metadata_modified desc" */
	int64_t rows, start;
	const char *const *facets; /* facet.field names */
	size_t nfacets;
	int64_t facet_limit; /* < 0: DG_OD_ROWS_MAX */
	int64_t facet_mincount;
	const char *private_dept; /* also private datasets of this department; "*": all */
	const char *deleted_dept; /* also deleted datasets of this department; "*": all */
	int64_t now_ms;           /* for NOW in dates */
	/*
	 * Where the count, the page's ids and the facets are kept by the
	 * catalogue's version (the node's env->searches), or NULL: counted
	 * each time. A query with NOW in it is never kept.
	 */
	struct dg_pcache *memo;
	/*
	 * A page by keyset: only the datasets after the one modified at
	 * after_modified named after_name in the order "metadata_modified desc"
	 * (then name), which sort must be; start then counts from there. NULL:
	 * from the first.
	 */
	const char *after_name;
	int64_t after_modified;
};

/*
 * Run a search. *out gets {count, results (full packages), sort, facets,
 * search_facets}. EINVAL with a message (and err->field "q", "fq", "sort" or
 * "facet.field") when the query, sort or a facet field is not understood.
 */
dg_rc dg_od_search_run(struct dg_db *db, struct dg_arena *a, const struct dg_od_search *s,
		       json_t **out, struct dg_err *err) DG_MUST;

/* The upload named "upload" of a multipart request, or NULL (file.c). */
const struct dg_upload *dg_od_file_upload(const struct dg_req *r);

/*
 * Uploaded files' links as clients see them (file.c). They are stored
 * relative to the site (/dataset/{pkg}/resource/{rid}/download/{name}) so
 * that a new --site-url moves every one of them, and handed out absolute,
 * the site URL (dg_config_site_url, never the Host header) in front, as
 * CKAN hands out {site}/dataset/.../download/{name}. v is a package, a
 * resource, or an object listing packages under "results" (package_search)
 * or "packages" (organization_show); changed in place. Other values are
 * left as they are.
 */
void dg_od_links_absolute(struct dg_req *r, json_t *v);

#endif
