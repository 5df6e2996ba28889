/*
 * od_sql.h - the open-data catalogue's store access (od_sql.c): the only
 * place its SQL lives. Public reads leave out deleted, private and
 * closed-tier datasets, so callers answer "not found" for them.
 */
#ifndef DG_OD_SQL_H
#define DG_OD_SQL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "store/store.h"

/* A dataset to insert (all strings borrowed, none NULL). */
struct dg_od_package {
	const char *id, *name, *title, *notes, *license_id, *author;
	const char *dept, *theme, *frequency, *region, *tier;
};

/* The first column of every row, as a new JSON array of strings; frees rows. */
dg_rc dg_od_first_column(struct dg_rows *rows, json_t **out) DG_MUST;

/* ms since the epoch as CKAN's "YYYY-MM-DDTHH:MM:SS.ffffff" (UTC). */
void dg_od_iso_time(int64_t ms, char out[64]);

/* Names of the visible datasets, sorted, as a new JSON array. */
dg_rc dg_od_package_names(struct dg_db *db, int64_t limit, int64_t offset, json_t **out) DG_MUST;
/* One visible dataset by id or name in CKAN's package shape; ENOTFOUND otherwise. */
dg_rc dg_od_package_show(struct dg_db *db, const char *id_or_name, json_t **out) DG_MUST;
/*
 * The same for a writer: with any, private and closed-tier datasets too (the
 * caller has checked that the requester may see them).
 */
dg_rc dg_od_package_read(struct dg_db *db, const char *id_or_name, bool any, json_t **out) DG_MUST;

/* The owning department code and tier of an active dataset (any tier); ENOTFOUND otherwise. */
dg_rc dg_od_package_owner(struct dg_db *db, const char *id_or_name, struct dg_arena *a,
			  char **dept, char **tier) DG_MUST;
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

/* A department's code by id (arena copy); ENOTFOUND when there is none. */
dg_rc dg_od_dept_code(struct dg_db *db, int64_t dept_id, struct dg_arena *a, char **out) DG_MUST;
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

dg_rc dg_od_insert_package(struct dg_db *db, const struct dg_od_package *p, int64_t now_ms) DG_MUST;
dg_rc dg_od_insert_resource(struct dg_db *db, const char *id, const char *package_id,
			    const char *name, const char *format, const char *url, int position,
			    int64_t now_ms) DG_MUST;
dg_rc dg_od_insert_tag(struct dg_db *db, const char *package_id, const char *name) DG_MUST;

#endif
