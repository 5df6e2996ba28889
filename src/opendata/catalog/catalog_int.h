/*
 * catalog_int.h - what the catalogue's files share (opendata/catalog;
 * what others may use is catalog.h): the writes (write.c), the reads the
 * actions and the exports use (sql.c, search.c), the uploaded files
 * (file.c) and the DCAT handlers (dcat.c) for catalog.c's routes.
 */
#ifndef DG_OD_CATALOG_INT_H
#define DG_OD_CATALOG_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "http/req.h"
#include "opendata/catalog/catalog.h"
#include "search/search.h"
#include "store/store.h"

/*
 * ---- the full-text index (index.c) ----
 *
 * One document a dataset in the search module's index od_search, written
 * by every write below in its transaction.
 */
extern const struct dg_search_index dg_od_index;
/* Write dataset id's document from what the store holds now (gone: nothing). */
dg_rc dg_od_index_package(struct dg_db *db, const char *id) DG_MUST;
/*
 * Write again the document of every dataset of the organization (org) or
 * group id, which holds its current name: in the transaction of a rename.
 */
dg_rc dg_od_index_group(struct dg_db *db, bool org, const char *id) DG_MUST;
/* Remove dataset id's document (before the dataset's row goes). */
dg_rc dg_od_unindex_package(struct dg_db *db, const char *id) DG_MUST;

/*
 * ---- the unfiltered catalogue's counts (facets.c) ----
 *
 * od_facet_counts holds, per scope ("" the whole catalogue, "o:CODE" an
 * organisation's datasets, "g:THEME" a group's), kept facet (package_search's
 * organization, groups, tags, res_format, license_id, update_frequency,
 * region, open_tier) and value, how many datasets the public may see carry
 * it, and under facet "" and value "" how many there are. A write of
 * dataset id calls dg_od_facets_read before it and dg_od_facets_follow
 * after it, in its transaction.
 */
/*
 * What dataset id gives the counts now (a new object; empty when the
 * public does not see it or it does not exist). Locks its row first.
 */
dg_rc dg_od_facets_read(struct dg_db *db, const char *id, json_t **out) DG_MUST;
/*
 * Move the counts from before (taken: freed here) to what dataset id gives
 * now, and raise the catalogue's version.
 */
dg_rc dg_od_facets_follow(struct dg_db *db, const char *id, json_t *before) DG_MUST;
/*
 * Record that document doc (a purged dataset's, whose number its row no
 * longer gives) changed at the version dg_od_facets_follow just raised, so
 * that the nodes' maps of documents (docmap.c) drop it.
 */
dg_rc dg_od_facets_gone(struct dg_db *db, int64_t doc) DG_MUST;
/* Count every facet again from the datasets (after a bulk load); raises the version. */
dg_rc dg_od_facets_rebuild(struct dg_db *db) DG_MUST;
/*
 * Raise the version and record every document of the organization's (org)
 * or group's datasets at it: after a rename wrote them again (names.c), so
 * that whatever a node keeps per document (docmap.c) reads them again.
 */
dg_rc dg_od_facets_renamed(struct dg_db *db, bool org, const char *id) DG_MUST;
/*
 * Raise the version and record document -1 (every document changed): after
 * every document was written again (index.c's rebuild, a bulk recount).
 */
dg_rc dg_od_facets_all_changed(struct dg_db *db) DG_MUST;
/*
 * The catalogue's version (od_catalog_state): raised by every write of a
 * dataset, its resources, tags or extras, in the write's transaction (by
 * dg_od_facets_follow, which every such write calls), so whatever is kept
 * by version (search.c's results) is read again after any of them.
 */
dg_rc dg_od_catalog_version(struct dg_db *db, int64_t *out) DG_MUST;
/* The number of datasets the public may see in scope, as kept. */
dg_rc dg_od_facets_total(struct dg_db *db, const char *scope, int64_t *out) DG_MUST;

/*
 * ---- the public's documents in memory (docmap.c) ----
 *
 * For each search document the public may see: its dataset's id, name and
 * modification time and its facet values as integers, held beside the kept
 * searches (memo) and brought up to the catalogue's version by the
 * documents recorded in od_doc_changes since the version it holds.
 */
struct dg_pcache;
struct dg_od_docmap;
/*
 * The map of memo's node at least as new as version (read by the caller
 * before), read-locked until dg_od_docmap_put; *out NULL (and DG_OK) when
 * memo is NULL or the documents' numbers are past the map's bound: count in
 * SQL. The lists of toks[0..ntoks) (free text of whole tokens, or none)
 * are built with it when the map is at version itself. A store error
 * reading it is returned (*out NULL).
 */
dg_rc dg_od_docmap_get(struct dg_pcache *memo, struct dg_db *db, int64_t version,
		       const char *const *toks, size_t ntoks, struct dg_od_docmap **out) DG_MUST;
void dg_od_docmap_put(struct dg_od_docmap *m);
/* The version m holds (at least the one asked of dg_od_docmap_get). */
int64_t dg_od_docmap_version(const struct dg_od_docmap *m);
/* The facet's index among the map's kinds (facets.c's names), or -1. */
int dg_od_docmap_kind(const char *facet);
/*
 * Whether the store orders datasets' names as strcmp does (SQLite; a
 * PostgreSQL database of the C collation): only then may a page ordered by
 * name, or with the name breaking ties, be ordered from the map.
 */
bool dg_od_docmap_bytewise(const struct dg_od_docmap *m);
/* Room of the map: every document it holds is below it. */
size_t dg_od_docmap_ndocs(const struct dg_od_docmap *m);
/* Whether the public sees document doc; then _keys and _count may be asked. */
bool dg_od_docmap_public(const struct dg_od_docmap *m, int64_t doc);
/* Its dataset's id, name and metadata_modified (borrowed, while locked). */
void dg_od_docmap_keys(const struct dg_od_docmap *m, int64_t doc, const char **id,
		       const char **name, int64_t *modified);
/* How many values the map names (value ids run 0..n). */
size_t dg_od_docmap_nvalues(const struct dg_od_docmap *m);
void dg_od_docmap_value(const struct dg_od_docmap *m, uint32_t v, int *kind, const char **text);
/* Add one to counts[v] for each value v of document doc. */
void dg_od_docmap_count(const struct dg_od_docmap *m, int64_t doc, uint32_t *counts);
/* The per-token lists kept with m (lists.c), while locked. */
const struct dg_od_lists *dg_od_docmap_lists(const struct dg_od_docmap *m);

/*
 * ---- per-token lists (lists.c) ----
 *
 * Each search document's length in tokens and, for tokens a search asked
 * for that are in more than a few documents, their documents with their
 * counts by field, read from the index and kept with the map (docmap.c,
 * whose lock guards them), so that free text of whole tokens is matched
 * and ranked (FTS5's bm25, fields weighed 10, 4, 2, 1) in C.
 */
struct dg_od_lists;
struct dg_od_hit {
	int64_t doc;
	double rank;
};
struct dg_od_lists *dg_od_lists_new(void);
void dg_od_lists_free(struct dg_od_lists *l);
/* Drop everything kept (the map is read whole). */
void dg_od_lists_clear(struct dg_od_lists *l);
/* Read document doc again (recorded as changed): its length, its counts of the kept tokens. */
dg_rc dg_od_lists_doc(struct dg_od_lists *l, struct dg_db *db, int64_t doc) DG_MUST;
/* Build the lists of toks[0..n) not kept yet (those in few documents are left to the index). */
dg_rc dg_od_lists_want(struct dg_od_lists *l, struct dg_db *db, const char *const *toks,
		       size_t n) DG_MUST;
/*
 * The documents holding every one of toks[0..n) with their rank, into *out
 * (malloc'd, *nout of them, by document); false (nothing made) when a
 * token has no list: the index answers.
 */
bool dg_od_lists_rank(const struct dg_od_lists *l, const char *const *toks, size_t n,
		      struct dg_od_hit **out, size_t *nout);

/*
 * ---- writes (write.c) ----
 *
 * The writes for package_create/update/patch and the resource actions.
 * Callers validate and check permissions first; these functions run
 * inside one transaction each, so a failure changes nothing.
 */

/*
 * A resource (strings borrowed, none NULL but those said; id NULL: a new
 * one). url_type NULL keeps what the resource had (a new one: "link") with
 * its hash and file; else url_type, hash, file_key and file_name are set
 * (a link has "" for the last three).
 */
struct dg_od_res_in {
	const char *id, *name, *description, *format, *url, *mimetype;
	int64_t size;                                       /* < 0: unknown (NULL) */
	const char *url_type, *hash, *file_key, *file_name; /* see above; may be NULL */
	const char *extras; /* the free keys as a JSON object's text ("{}": none) */
	int64_t created_ms, last_modified_ms; /* as the client sent them; < 0: not sent */
	bool unchanged; /* the same as stored: only its position may move, its times stay */
};

/* A whole dataset as validated (strings borrowed, none NULL except id on create). */
struct dg_od_pkg_in {
	const char *id, *name, *title, *notes, *license_id, *author, *author_email;
	const char *maintainer, *maintainer_email, *url, *version;
	bool is_private;
	const char *dept, *theme, *frequency, *region, *tier;
	const char *state; /* "active" or "deleted" (an update may restore or delete) */
	const char **tags;
	size_t ntags;
	const char **extra_keys, **extra_vals; /* free extras (not the three with columns) */
	size_t nextras;
	struct dg_od_res_in *res;
	size_t nres;
	bool keep_resources; /* no "resources" sent: the stored ones stay as they are */
};

/*
 * Create (p->id set by the caller) or replace the dataset p->id: its fields,
 * tags, extras and resources (resources whose id it already has are kept
 * and updated, others are added with the ids given, the rest removed; all
 * stay as they are with keep_resources). ECONFLICT when the name, the id or
 * a resource id belongs to another one.
 */
dg_rc dg_od_package_save(struct dg_db *db, const struct dg_od_pkg_in *p, bool create,
			 int64_t now_ms) DG_MUST;

/* An id as the CKAN actions take them: 1 to 100 of a-z A-Z 0-9 - _ (so also a safe folder name). */
bool dg_od_id_ok(const char *s);

/* Whether the name or id is taken by a dataset other than self_id (may be NULL). */
dg_rc dg_od_name_taken(struct dg_db *db, const char *name, const char *self_id, bool *out) DG_MUST;
/*
 * Dataset names and organisations (issue 16): a name belongs to the
 * organisation whose code comes before its first '-' ("sj-case-ledger" is
 * sj's), when a department has that code (codes hold no '-'). A closed
 * dataset's name belongs to its own organisation, and a dataset may not
 * take a name (or an id) that belongs to another one, so a clash on create
 * can only reveal a closed dataset to the organisation that may see it.
 * code gets the organisation's code, or "" when the name belongs to none.
 */
#define DG_OD_CODE_MAX 17 /* a department code's bytes (16) and the NUL */
dg_rc dg_od_name_org(struct dg_db *db, const char *name, char code[DG_OD_CODE_MAX]) DG_MUST;
/* Whether a department with this code exists. */
dg_rc dg_od_dept_exists(struct dg_db *db, const char *code, bool *out) DG_MUST;

/* The id of the active dataset that holds resource rid (arena copy); ENOTFOUND otherwise. */
dg_rc dg_od_resource_package(struct dg_db *db, const char *rid, struct dg_arena *a,
			     char **package_id) DG_MUST;
/* Add (r->id set by the caller) or replace resource r of package_id; bumps the dataset's modified
 * time. */
dg_rc dg_od_resource_save(struct dg_db *db, const char *package_id, const struct dg_od_res_in *r,
			  bool create, int64_t now_ms) DG_MUST;
/* Remove a resource (later ones move up one position); ENOTFOUND when none. */
dg_rc dg_od_resource_delete(struct dg_db *db, const char *rid, int64_t now_ms) DG_MUST;

/* The id and owning department of dataset id_or_name in any state (arena copies). */
dg_rc dg_od_package_any(struct dg_db *db, const char *id_or_name, struct dg_arena *a, char **id,
			char **dept) DG_MUST;
/*
 * Remove dataset id (any state) for good, with its resources, tags and
 * extras. *rids gets its resource ids (a new JSON array) for the caller to
 * drop their tables and files.
 */
dg_rc dg_od_package_purge(struct dg_db *db, const char *id, json_t **rids) DG_MUST;

/* ---- reads (sql.c) ---- */

/* A dataset to insert (all strings borrowed, none NULL). */
struct dg_od_package {
	const char *id, *name, *title, *notes, *license_id, *author;
	const char *dept, *theme, *frequency, *region, *tier;
};

/*
 * Names of the visible datasets, sorted, as a new JSON array: limit of
 * them, from the offset-th after the name after ("": from the first). The
 * name index seeks to after, so a page by after costs the same at any depth.
 */
dg_rc dg_od_package_names(struct dg_db *db, int64_t limit, int64_t offset, const char *after,
			  json_t **out) DG_MUST;

/* An uploaded file of a resource of an active dataset (any tier; strings arena copies). */
struct dg_od_file_row {
	const char *package_id, *package_name;
	const char *file_key;  /* the name on disk under <data>/resources/<rid>/ */
	const char *file_name; /* the name shown */
	const char *mimetype;
};
/* ENOTFOUND when rid is no uploaded file of an active dataset. */
dg_rc dg_od_file_find(struct dg_db *db, const char *rid, struct dg_arena *a,
		      struct dg_od_file_row *out) DG_MUST;

dg_rc dg_od_insert_package(struct dg_db *db, const struct dg_od_package *p, int64_t now_ms) DG_MUST;
dg_rc dg_od_insert_resource(struct dg_db *db, const char *id, const char *package_id,
			    const char *name, const char *format, const char *url, int position,
			    int64_t now_ms) DG_MUST;
dg_rc dg_od_insert_tag(struct dg_db *db, const char *package_id, const char *name) DG_MUST;
/* A free extra of a new dataset (the demo's ckanext-fluent fields, actions.c). */
dg_rc dg_od_insert_extra(struct dg_db *db, const char *package_id, const char *key,
			 const char *value) DG_MUST;

/* ---- the reads behind the group, organization and tag actions (search.c) ---- */

/* The Solr fields of the catalogue (solr.h; for tests and the docs). */
struct dg_solr_schema;
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
/*
 * One organization (its id is the department's code) or group (its id is
 * the theme) dict, found by its id, its name or a name it had before
 * (names.c); ENOTFOUND when none.
 */
dg_rc dg_od_group_show(struct dg_db *db, bool org, const char *id, json_t **out) DG_MUST;

/*
 * ---- organization and group names (names.c) ----
 *
 * An organization's or group's id never changes; its name is its id until
 * a rename gives it another, and every name it had stays its own
 * (od_group_names), so that clients holding an old name still reach it and
 * no other organization or group may take that name. In SQL, the current
 * name of the id in col (is_org "1" or "0"):
 */
#define DG_OD_NAME_OF(is_org, col)                                                                 \
	"COALESCE((SELECT gn.name FROM od_group_names gn WHERE gn.is_org = " is_org                \
	" AND gn.current = 1 AND gn.id = " col "), " col ")"
/* ... and the id that the name bound to '?' (given twice) names: */
#define DG_OD_ID_OF(is_org)                                                                        \
	"COALESCE((SELECT gn.id FROM od_group_names gn WHERE gn.is_org = " is_org                  \
	" AND gn.name = ?), ?)"
/* The id that name (a current or an old name, or an id) names, in a; name itself when none. */
dg_rc dg_od_group_id(struct dg_db *db, bool org, const char *name, struct dg_arena *a,
		     const char **id) DG_MUST;
/* The current name of the organization or group id, in a (id itself when never renamed). */
dg_rc dg_od_group_name(struct dg_db *db, bool org, const char *id, struct dg_arena *a,
		       const char **name) DG_MUST;
/*
 * Give the organization or group id the name to (already checked against
 * CKAN's name rule), in one transaction (the caller's, if it is in one)
 * that also raises the catalogue's version so that kept searches and their
 * facets follow. ECONFLICT when
 * to is another organization's or group's id, current or old name; its own
 * old names may be taken back.
 */
dg_rc dg_od_group_rename(struct dg_db *db, bool org, const char *id, const char *to,
			 int64_t now_ms) DG_MUST;

/*
 * Keep what organization_update/patch or group_update/patch set of one
 * organization or group (sql.c): title, description, image_url (NULL: "")
 * and extras_json (a JSON list of {key, value}), replacing what was kept.
 */
dg_rc dg_od_group_meta_save(struct dg_db *db, bool org, const char *name, const char *title,
			    const char *description, const char *image_url, const char *extras_json,
			    int64_t now_ms) DG_MUST;

/* Tag names of visible datasets containing q (NULL: all), sorted. */
dg_rc dg_od_tag_list(struct dg_db *db, const char *q, json_t **out) DG_MUST;

/*
 * ---- uploaded files (file.c) ----
 *
 * An uploaded file is kept under <data>/resources/<resource id>/ (outside
 * anything served as static), with its size, SHA-256 and a type found from
 * its content. The resource then has url_type "upload" and the url
 * /dataset/<package id>/resource/<resource id>/download/<file name>, which
 * serves the original file to whoever may see the dataset (closed: its
 * department and administrators; conditional: also a granted app), each
 * download counted. A CSV or TSV file is also loaded into the DataStore by a
 * durable datastore.load job, so its table follows every re-upload.
 *
 * The CKAN actions (resource_create/update/patch with a multipart "upload")
 * and the staff's pages in the browser both go through these functions.
 */

/* What a kept file gives its resource (arena strings of the request). */
struct dg_od_file {
	const char *url;      /* the download path above */
	const char *name;     /* the file name as shown (the client's, made safe) */
	const char *mimetype; /* from the content */
	const char *format;   /* CSV, TSV, JSON, XLSX, XLS, PDF, ZIP, XML, TXT... */
	const char *hash;     /* hex SHA-256 */
	const char *key;      /* the name it is kept under in the resource's folder */
	int64_t size;
};

/*
 * Keep upload up as the file of resource rid of dataset pkg_id (replacing
 * the one it had once the resource is saved). The file moves into place
 * under a new name; nothing refers to it until the caller saves the
 * resource. On a failure to save, the caller calls dg_od_file_discard.
 * EINVAL an empty file (field "upload"); ETOOBIG over the node's resource
 * cap; EIO when it cannot be stored. err has a message for the API.
 */
dg_rc dg_od_file_keep(struct dg_req *r, const char *pkg_id, const char *rid,
		      const struct dg_upload *up, struct dg_od_file *out,
		      struct dg_err *err) DG_MUST;

/* Remove a kept file that no resource came to refer to. */
void dg_od_file_discard(struct dg_req *r, const char *rid, const struct dg_od_file *f);

/*
 * The kept file as the resource's: url, url_type "upload", size, hash,
 * mimetype and the file's key and name; format and name too when in has none.
 */
void dg_od_file_apply(const struct dg_od_file *f, struct dg_od_res_in *in);

/*
 * The format and mimetype a link's URL names by its last segment's
 * extension ("https://x/a.csv?y" -> CSV, text/csv); both NULL when it names
 * none known.
 */
void dg_od_guess_type(const char *url, const char **format, const char **mimetype);

/*
 * url without the site URL in front when it is the site's own link to an
 * uploaded file (dg_od_links_absolute's output sent back, as ckanapi load
 * does), else url itself.
 */
const char *dg_od_link_relative(struct dg_req *r, const char *url);

/* Remove every file of resource rid (deleted, purged, or turned into a link). */
void dg_od_file_remove_all(struct dg_req *r, const char *rid);

/*
 * GET /dataset/{pkg}/resource/{rid}/download/{filename}: the file, streamed,
 * to whoever may read the dataset's rows (dg_datastore_check), counted as a
 * download; 404 for a resource with no file or a dataset the requester may
 * not see. {filename} is not checked (CKAN's links may carry an older name).
 */
dg_rc dg_od_file_download(struct dg_req *r) DG_MUST;

/*
 * After the resource is saved: remove the resource's older files, and for a
 * CSV or TSV queue its load into the DataStore (*job_id, 0 when none).
 */
dg_rc dg_od_file_saved(struct dg_req *r, struct dg_db *db, const char *rid,
		       const struct dg_od_file *f, int64_t *job_id) DG_MUST;

/*
 * ---- DCAT (dcat.c) ----
 *
 * The catalogue as DCAT-AP 3, the way ckanext-dcat serves it: /dataset/{id}.ttl,
 * .jsonld and .rdf (RDF/XML) for one dataset, /catalog.ttl, .jsonld and .rdf for the
 * whole catalogue, 100 datasets a page (?page=N) with Hydra paging links, filtered
 * like package_search by q, fq and modified_since. The IRIs in it resolve: /dataset/{id},
 * /catalog, /organization/{name} and /group/{name} answer by the Accept header (a 303
 * to the page, or RDF), with Vary: Accept. A dataset is seen as package_show sees it.
 */

/* GET /dataset/{file}: "<id or name>" (negotiated) or with .ttl, .jsonld, .rdf or .xml; else 404.
 */
dg_rc dg_dcat_dataset(struct dg_req *r) DG_MUST;
/* GET /catalog.ttl, .jsonld, .rdf and /catalog. EINVAL for a bad page or filter, ENOTFOUND past
 * the last page. */
dg_rc dg_dcat_catalog_ttl(struct dg_req *r) DG_MUST;
dg_rc dg_dcat_catalog_jsonld(struct dg_req *r) DG_MUST;
dg_rc dg_dcat_catalog_rdf(struct dg_req *r) DG_MUST;
dg_rc dg_dcat_catalog(struct dg_req *r) DG_MUST;
/* GET /organization/{name} and /group/{name}: ENOTFOUND for one organization_show or
 * group_show does not know. */
dg_rc dg_dcat_organization(struct dg_req *r) DG_MUST;
dg_rc dg_dcat_group(struct dg_req *r) DG_MUST;

/* The first metadata_created and last metadata_modified of the datasets the public sees (0, 0
 * when none). */
dg_rc dg_od_catalog_dates(struct dg_db *db, int64_t *first_ms, int64_t *last_ms) DG_MUST;

/*
 * The dataset id_or_name as package_show gives it to the requester: what
 * the public sees, or, to those who may edit it, a private, closed or
 * deleted one too (basic.c). ENOTFOUND for anyone else.
 */
dg_rc dg_od_package_for(struct dg_req *r, struct dg_db *db, const char *id_or_name,
			json_t **out) DG_MUST;

#endif
