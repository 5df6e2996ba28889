/*
 * od_write.h - the catalogue's writes for package_create/update/patch and
 * the resource actions (od_write.c). Callers validate and check permissions
 * first; these functions run inside one transaction each, so a failure
 * changes nothing.
 */
#ifndef DG_OD_WRITE_H
#define DG_OD_WRITE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/arena.h"
#include "core/err.h"
#include "store/store.h"

/*
 * A resource (strings borrowed, none NULL but those said; id NULL: a new
 * one). url_type NULL keeps what the resource had (a new one: "link") with
 * its hash and file; else url_type, hash, file_key and file_name are set
 * (a link has "" for the last three).
 */
struct dg_od_res_in {
	const char *id, *name, *description, *format, *url, *mimetype;
	int64_t size; /* < 0: unknown (NULL) */
	const char *url_type, *hash, *file_key, *file_name; /* see above; may be NULL */
};

/* A whole dataset as validated (strings borrowed, none NULL except id on create). */
struct dg_od_pkg_in {
	const char *id, *name, *title, *notes, *license_id, *author, *author_email;
	const char *maintainer, *maintainer_email, *url, *version;
	bool is_private;
	const char *dept, *theme, *frequency, *region, *tier;
	const char **tags;
	size_t ntags;
	const char **extra_keys, **extra_vals; /* free extras (not the three with columns) */
	size_t nextras;
	struct dg_od_res_in *res;
	size_t nres;
};

/*
 * Create (p->id set by the caller) or replace the dataset p->id: its fields,
 * tags, extras and resources (resources whose id it already has are kept
 * and updated, others are added with the ids given, the rest removed).
 * ECONFLICT when the name, the id or a resource id belongs to another one.
 */
dg_rc dg_od_package_save(struct dg_db *db, const struct dg_od_pkg_in *p, bool create,
			 int64_t now_ms) DG_MUST;

/* An id as the CKAN actions take them: 1 to 100 of a-z A-Z 0-9 - _ (so also a safe folder name). */
bool dg_od_id_ok(const char *s);

/* Whether the name or id is taken by a dataset other than self_id (may be NULL). */
dg_rc dg_od_name_taken(struct dg_db *db, const char *name, const char *self_id, bool *out) DG_MUST;
/* Whether a department with this code exists. */
dg_rc dg_od_dept_exists(struct dg_db *db, const char *code, bool *out) DG_MUST;

/* The id of the active dataset that holds resource rid (arena copy); ENOTFOUND otherwise. */
dg_rc dg_od_resource_package(struct dg_db *db, const char *rid, struct dg_arena *a,
			     char **package_id) DG_MUST;
/* Add (r->id set by the caller) or replace resource r of package_id; bumps the dataset's modified time. */
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

#endif
