/*
 * sql.c - the open-data catalogue's reads (catalog.h): a dataset in CKAN's
 * package shape, its owner and files, the staff's list, deletion, and the
 * demo seed's inserts; the schema is base.c's, the writes write.c's.
 * Datasets are CKAN packages with the fields Chinese portals add
 * (publishing department, theme, frequency, region, open tier); the
 * publishing department is departments.code, which is also the CKAN
 * organization name. Closed-tier and private datasets are never returned
 * by the public reads here.
 */
#include "opendata/catalog/catalog_int.h"

#include <stdio.h>
#include <string.h>

/* What the public may see of a package. */
#define VISIBLE " state = 'active' AND private = 0 AND tier <> 'closed' "

static void set_time(json_t *o, const char *key, int64_t ms)
{
	char iso[64];
	dg_od_iso_time(ms, iso);
	json_object_set_new(o, key, json_string(iso));
}

dg_rc dg_od_package_names(struct dg_db *db, int64_t limit, int64_t offset, const char *after,
			  json_t **out)
{
	struct dg_rows *rows = NULL;
	*out = NULL;
	dg_rc rc = dg_db_query(db,
			       "SELECT name FROM od_packages WHERE" VISIBLE
			       "AND name > ? ORDER BY name LIMIT ? OFFSET ?",
			       DG_ARGS(DG_VT(after), DG_VI(limit), DG_VI(offset)), &rows);
	if (rc)
		return rc;
	return dg_od_first_column(rows, out);
}

static dg_rc add_resources(struct dg_db *db, json_t *pkg, const char *id)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(
		db,
		"SELECT r.id, r.name, r.description, r.format, r.url, r.url_type, r.size,"
		" r.mimetype, r.created, r.last_modified, r.position, r.hash,"
		" EXISTS (SELECT 1 FROM datastore_tables t WHERE t.resource_id = r.id),"
		" r.extras, r.metadata_modified"
		" FROM od_resources r WHERE r.package_id = ? ORDER BY r.position",
		DG_ARGS(DG_VT(id)), &rows);
	if (rc)
		return rc;
	json_t *list = json_array();
	while ((rc = dg_rows_next(rows)) == DG_OK) {
		json_t *res = json_pack(
			"{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "id",
			dg_rows_text(rows, 0), "package_id", id, "name", dg_rows_text(rows, 1),
			"description", dg_rows_text(rows, 2), "format", dg_rows_text(rows, 3),
			"url", dg_rows_text(rows, 4), "url_type", dg_rows_text(rows, 5), "mimetype",
			dg_rows_text(rows, 7), "position", (json_int_t)dg_rows_int(rows, 10));
		json_object_set_new(res, "size",
				    dg_rows_isnull(rows, 6) ? json_null()
							    : json_integer(dg_rows_int(rows, 6)));
		set_time(res, "created", dg_rows_int(rows, 8));
		set_time(res, "last_modified", dg_rows_int(rows, 9));
		json_object_set_new(res, "state", json_string("active"));
		json_object_set_new(res, "hash", json_string(dg_rows_text(rows, 11)));
		json_object_set_new(res, "datastore_active",
				    json_boolean(dg_rows_int(rows, 12) != 0));
		set_time(res, "metadata_modified",
			 dg_rows_isnull(rows, 14) ? dg_rows_int(rows, 9) : dg_rows_int(rows, 14));
		/* the client's free keys, under the ones dgov keeps itself */
		json_t *extras = json_loads(dg_rows_text(rows, 13), 0, NULL);
		if (json_is_object(extras)) {
			json_object_update_missing(res, extras);
		}
		json_decref(extras);
		json_array_append_new(list, res);
	}
	dg_rows_free(rows);
	if (rc != DG_ENOTFOUND) {
		json_decref(list);
		return rc;
	}
	json_object_set_new(pkg, "num_resources", json_integer((json_int_t)json_array_size(list)));
	json_object_set_new(pkg, "resources", list);
	return DG_OK;
}

static dg_rc add_tags(struct dg_db *db, json_t *pkg, const char *id)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, "SELECT name FROM od_tags WHERE package_id = ? ORDER BY name",
			       DG_ARGS(DG_VT(id)), &rows);
	if (rc)
		return rc;
	json_t *list = json_array();
	while ((rc = dg_rows_next(rows)) == DG_OK) {
		const char *n = dg_rows_text(rows, 0);
		json_array_append_new(list,
				      json_pack("{s:s, s:s, s:s, s:n}", "name", n, "display_name",
						n, "state", "active", "vocabulary_id"));
	}
	dg_rows_free(rows);
	if (rc != DG_ENOTFOUND) {
		json_decref(list);
		return rc;
	}
	json_object_set_new(pkg, "num_tags", json_integer((json_int_t)json_array_size(list)));
	json_object_set_new(pkg, "tags", list);
	return DG_OK;
}

static json_t *package_of_row(struct dg_rows *rows)
{
	json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:b}",
			      "id", dg_rows_text(rows, 0), "name", dg_rows_text(rows, 1), "title",
			      dg_rows_text(rows, 2), "notes", dg_rows_text(rows, 3), "license_id",
			      dg_rows_text(rows, 4), "author", dg_rows_text(rows, 5), "maintainer",
			      dg_rows_text(rows, 6), "url", dg_rows_text(rows, 7), "version",
			      dg_rows_text(rows, 8), "state", dg_rows_text(rows, 9), "private",
			      (int)dg_rows_int(rows, 10), "type", "dataset", "isopen",
			      strcmp(dg_rows_text(rows, 4), "notspecified") != 0);
	json_object_set_new(p, "author_email", json_string(dg_rows_text(rows, 19)));
	json_object_set_new(p, "maintainer_email", json_string(dg_rows_text(rows, 20)));
	set_time(p, "metadata_created", dg_rows_int(rows, 11));
	set_time(p, "metadata_modified", dg_rows_int(rows, 12));
	const char *dept = dg_rows_text(rows, 13);
	json_object_set_new(p, "owner_org", json_string(dept));
	json_object_set_new(p, "organization",
			    json_pack("{s:s, s:s, s:s, s:s, s:b}", "id", dept, "name",
				      dg_rows_text(rows, 21), "title", dg_rows_text(rows, 18),
				      "type", "organization", "is_organization", 1));
	json_t *groups = json_array();
	if (dg_rows_text(rows, 14)[0])
		json_array_append_new(groups, json_pack("{s:s, s:s, s:s, s:s, s:s}", "id",
							dg_rows_text(rows, 14), "name",
							dg_rows_text(rows, 22), "title",
							dg_rows_text(rows, 14), "display_name",
							dg_rows_text(rows, 14), "description", ""));
	json_object_set_new(p, "groups", groups);
	json_object_set_new(p, "extras",
			    json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "key", "update_frequency",
				      "value", dg_rows_text(rows, 15), "key", "region", "value",
				      dg_rows_text(rows, 16), "key", "open_tier", "value",
				      dg_rows_text(rows, 17)));
	return p;
}

/* The free extras (after the three the columns hold), sorted by key. */
static dg_rc add_extras(struct dg_db *db, json_t *pkg, const char *id)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db,
			       "SELECT key, value FROM od_extras WHERE package_id = ? ORDER BY key",
			       DG_ARGS(DG_VT(id)), &rows);
	if (rc)
		return rc;
	json_t *list = json_object_get(pkg, "extras");
	while ((rc = dg_rows_next(rows)) == DG_OK) {
		const char *k = dg_rows_text(rows, 0), *v = dg_rows_text(rows, 1);
		/* ckanext-fluent's fields (actions.c) show as their objects, as fluent's do */
		json_t *tr = strcmp(k, "title_translated") == 0 ||
					     strcmp(k, "notes_translated") == 0 ||
					     strcmp(k, "tags_translated") == 0
				     ? json_loads(v, 0, NULL)
				     : NULL;
		if (json_is_object(tr))
			json_object_set_new(pkg, k, tr);
		else {
			json_decref(tr);
			json_array_append_new(list, json_pack("{s:s, s:s}", "key", k, "value", v));
		}
	}
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

dg_rc dg_od_package_show(struct dg_db *db, const char *id_or_name, json_t **out)
{
	return dg_od_package_read(db, id_or_name, false, out);
}

static dg_rc read_package(struct dg_db *db, const char *id_or_name, bool any, bool deleted,
			  json_t **out);

dg_rc dg_od_package_read(struct dg_db *db, const char *id_or_name, bool any, json_t **out)
{
	return read_package(db, id_or_name, any, false, out);
}

dg_rc dg_od_package_read_all(struct dg_db *db, const char *id_or_name, json_t **out)
{
	return read_package(db, id_or_name, true, true, out);
}

static dg_rc read_package(struct dg_db *db, const char *id_or_name, bool any, bool deleted,
			  json_t **out)
{
	struct dg_rows *rows = NULL;
	*out = NULL;
	dg_rc rc = dg_db_query(
		db,
		"SELECT p.id, p.name, p.title, p.notes, p.license_id, p.author, p.maintainer, "
		"p.url,"
		" p.version, p.state, p.private, p.metadata_created, p.metadata_modified,"
		" p.owner_dept, p.theme, p.frequency, p.region, p.tier, d.name_zh, p.author_email,"
		" p.maintainer_email, " DG_OD_NAME_OF("1", "p.owner_dept") ", " DG_OD_NAME_OF(
			"0",
			"p.theme") " FROM od_packages p JOIN departments d ON d.code = p.owner_dept"
				   " WHERE (p.id = ? OR p.name = ?) AND (p.state = 'active' OR ? = "
				   "1)"
				   " AND ((p.private = 0 AND p.tier <> 'closed') OR ? = 1)",
		DG_ARGS(DG_VT(id_or_name), DG_VT(id_or_name), DG_VI(deleted), DG_VI(any)), &rows);
	if (rc)
		return rc;
	rc = dg_rows_next(rows);
	json_t *p = rc == DG_OK ? package_of_row(rows) : NULL;
	dg_rows_free(rows);
	if (rc)
		return rc;
	const char *id = json_string_value(json_object_get(p, "id"));
	rc = add_resources(db, p, id);
	if (!rc)
		rc = add_tags(db, p, id);
	if (!rc)
		rc = add_extras(db, p, id);
	if (rc) {
		json_decref(p);
		return rc;
	}
	*out = p;
	return DG_OK;
}

dg_rc dg_od_insert_package(struct dg_db *db, const struct dg_od_package *p, int64_t now_ms)
{
	return dg_db_exec(db,
			  "INSERT INTO od_packages (id, name, title, notes, license_id, author,"
			  " metadata_created, metadata_modified, owner_dept, theme, frequency,"
			  " region, tier) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
			  DG_ARGS(DG_VT(p->id), DG_VT(p->name), DG_VT(p->title), DG_VT(p->notes),
				  DG_VT(p->license_id), DG_VT(p->author), DG_VI(now_ms),
				  DG_VI(now_ms), DG_VT(p->dept), DG_VT(p->theme),
				  DG_VT(p->frequency), DG_VT(p->region), DG_VT(p->tier)),
			  NULL);
}

dg_rc dg_od_insert_resource(struct dg_db *db, const char *id, const char *package_id,
			    const char *name, const char *format, const char *url, int position,
			    int64_t now_ms)
{
	return dg_db_exec(db,
			  "INSERT INTO od_resources (id, package_id, name, format, url, url_type,"
			  " created, last_modified, position) VALUES (?,?,?,?,?,'link',?,?,?)",
			  DG_ARGS(DG_VT(id), DG_VT(package_id), DG_VT(name), DG_VT(format),
				  DG_VT(url), DG_VI(now_ms), DG_VI(now_ms), DG_VI(position)),
			  NULL);
}

dg_rc dg_od_insert_tag(struct dg_db *db, const char *package_id, const char *name)
{
	return dg_db_exec(db, "INSERT INTO od_tags (package_id, name) VALUES (?, ?)",
			  DG_ARGS(DG_VT(package_id), DG_VT(name)), NULL);
}

dg_rc dg_od_insert_extra(struct dg_db *db, const char *package_id, const char *key,
			 const char *value)
{
	return dg_db_exec(db, "INSERT INTO od_extras (package_id, key, value) VALUES (?, ?, ?)",
			  DG_ARGS(DG_VT(package_id), DG_VT(key), DG_VT(value)), NULL);
}

dg_rc dg_od_group_meta_save(struct dg_db *db, bool org, const char *name, const char *title,
			    const char *description, const char *image_url, const char *extras_json,
			    int64_t now_ms)
{
	return dg_db_exec(db,
			  "INSERT INTO od_group_meta (is_org, name, title, description, image_url,"
			  " extras, modified) VALUES (?,?,?,?,?,?,?) ON CONFLICT (is_org, name) DO"
			  " UPDATE SET title = excluded.title, description = excluded.description,"
			  " image_url = excluded.image_url, extras = excluded.extras,"
			  " modified = excluded.modified",
			  DG_ARGS(DG_VI(org), DG_VT(name), DG_VT(title ? title : ""),
				  DG_VT(description ? description : ""),
				  DG_VT(image_url ? image_url : ""), DG_VT(extras_json),
				  DG_VI(now_ms)),
			  NULL);
}

dg_rc dg_od_catalog_dates(struct dg_db *db, int64_t *first_ms, int64_t *last_ms)
{
	*first_ms = *last_ms = 0;
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(
		db,
		/* one aggregate each, so that each is one step of its index */
		"SELECT COALESCE((SELECT MIN(metadata_created) FROM od_packages WHERE" VISIBLE
		"), 0), COALESCE((SELECT MAX(metadata_modified) FROM od_packages WHERE" VISIBLE
		"), 0)",
		DG_NOARGS, &rows);
	if (rc)
		return rc;
	rc = dg_rows_next(rows);
	if (rc == DG_OK) {
		*first_ms = dg_rows_int(rows, 0);
		*last_ms = dg_rows_int(rows, 1);
	}
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

dg_rc dg_od_package_owner(struct dg_db *db, const char *id_or_name, struct dg_arena *a, char **dept,
			  char **tier)
{
	struct dg_rows *rows = NULL;
	*dept = *tier = NULL;
	dg_rc rc = dg_db_query(db,
			       "SELECT owner_dept, tier FROM od_packages"
			       " WHERE (id = ? OR name = ?) AND state = 'active'",
			       DG_ARGS(DG_VT(id_or_name), DG_VT(id_or_name)), &rows);
	if (rc)
		return rc;
	rc = dg_rows_next(rows);
	if (rc == DG_OK) {
		*dept = dg_arena_strdup(a, dg_rows_text(rows, 0));
		*tier = dg_arena_strdup(a, dg_rows_text(rows, 1));
	}
	dg_rows_free(rows);
	return rc;
}

dg_rc dg_od_file_find(struct dg_db *db, const char *rid, struct dg_arena *a,
		      struct dg_od_file_row *out)
{
	struct dg_rows *rows = NULL;
	memset(out, 0, sizeof *out);
	dg_rc rc = dg_db_query(db,
			       "SELECT p.id, p.name, r.file_key, r.file_name, r.mimetype"
			       " FROM od_resources r JOIN od_packages p ON p.id = r.package_id"
			       " WHERE r.id = ? AND p.state = 'active' AND r.url_type = 'upload'"
			       " AND r.file_key <> ''",
			       DG_ARGS(DG_VT(rid)), &rows);
	if (rc)
		return rc;
	rc = dg_rows_next(rows);
	if (rc == DG_OK) {
		out->package_id = dg_arena_strdup(a, dg_rows_text(rows, 0));
		out->package_name = dg_arena_strdup(a, dg_rows_text(rows, 1));
		out->file_key = dg_arena_strdup(a, dg_rows_text(rows, 2));
		out->file_name = dg_arena_strdup(a, dg_rows_text(rows, 3));
		out->mimetype = dg_arena_strdup(a, dg_rows_text(rows, 4));
	}
	dg_rows_free(rows);
	return rc;
}

static dg_rc delete_in_tx(struct dg_db *db, const char *id_or_name, int64_t now_ms)
{
	struct dg_rows *rows = NULL;
	char id[128] = "";
	dg_rc rc = dg_db_query(db,
			       "SELECT id FROM od_packages WHERE (id = ? OR name = ?)"
			       " AND state = 'active'",
			       DG_ARGS(DG_VT(id_or_name), DG_VT(id_or_name)), &rows);
	if (rc)
		return rc;
	rc = dg_rows_next(rows);
	if (rc == DG_OK)
		snprintf(id, sizeof id, "%s", dg_rows_text(rows, 0));
	dg_rows_free(rows);
	json_t *before = NULL;
	if (!rc)
		rc = dg_od_facets_read(db, id, &before);
	if (!rc)
		rc = dg_db_exec(db,
				"UPDATE od_packages SET state = 'deleted', metadata_modified = ?"
				" WHERE id = ?",
				DG_ARGS(DG_VI(now_ms), DG_VT(id)), NULL);
	if (!rc) {
		rc = dg_od_facets_follow(db, id, before);
		before = NULL;
	}
	json_decref(before);
	return rc;
}

dg_rc dg_od_package_delete(struct dg_db *db, const char *id_or_name, int64_t now_ms)
{
	/* the dataset and the counts it gave leave together */
	bool own = !dg_db_in_tx(db);
	dg_rc rc = own ? dg_db_begin(db) : DG_OK;
	if (rc)
		return rc;
	rc = delete_in_tx(db, id_or_name, now_ms);
	if (own && !rc)
		rc = dg_db_commit(db);
	if (own && rc)
		dg_db_rollback(db);
	return rc;
}

/* Load jobs looked at for the management list's "latest load": the newest ones only. */
#define MANAGE_JOBS_MAX 500

/* Each listed dataset's latest load job state, from the newest load jobs. */
static dg_rc add_load_states(struct dg_db *db, const char *dept, json_t *by_id)
{
	struct dg_rows *rows = NULL;
	json_t *owner = json_object(); /* resource id -> dataset id */
	dg_rc rc = dg_db_query(db,
			       "SELECT r.id, r.package_id FROM od_resources r"
			       " JOIN od_packages p ON p.id = r.package_id"
			       " WHERE p.state = 'active' AND (? = '' OR p.owner_dept = ?)",
			       DG_ARGS(DG_VT(dept), DG_VT(dept)), &rows);
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK)
		json_object_set_new(owner, dg_rows_text(rows, 0),
				    json_string(dg_rows_text(rows, 1)));
	dg_rows_free(rows);
	rows = NULL;
	if (rc == DG_ENOTFOUND)
		rc = dg_db_query(db,
				 "SELECT id, state, payload FROM jobs WHERE kind = 'datastore.load'"
				 " ORDER BY id DESC LIMIT ?",
				 DG_ARGS(DG_VI(MANAGE_JOBS_MAX)), &rows);
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		json_t *payload = json_loads(dg_rows_text(rows, 2), 0, NULL);
		const char *rid = json_string_value(json_object_get(payload, "resource_id"));
		const char *pkg_id = json_string_value(json_object_get(owner, rid ? rid : ""));
		json_t *pkg = pkg_id ? json_object_get(by_id, pkg_id) : NULL;
		if (pkg && !json_object_get(pkg, "job_state")) {
			json_object_set_new(pkg, "job_state", json_string(dg_rows_text(rows, 1)));
			json_object_set_new(pkg, "job_id", json_integer(dg_rows_int(rows, 0)));
		}
		json_decref(payload);
	}
	dg_rows_free(rows);
	json_decref(owner);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

dg_rc dg_od_manage_list(struct dg_db *db, const char *dept, json_t **out)
{
	struct dg_rows *rows = NULL;
	*out = NULL;
	if (!dept)
		dept = "";
	dg_rc rc = dg_db_query(
		db,
		"SELECT p.id, p.name, p.title, p.tier, p.private, p.metadata_modified, "
		"p.owner_dept,"
		" (SELECT COUNT(*) FROM od_resources r WHERE r.package_id = p.id),"
		" (SELECT COALESCE(SUM(t.row_count), 0) FROM od_resources r"
		"   JOIN datastore_tables t ON t.resource_id = r.id WHERE r.package_id = p.id)"
		" FROM od_packages p WHERE p.state = 'active' AND (? = '' OR p.owner_dept = ?)"
		" ORDER BY p.metadata_modified DESC, p.name LIMIT ?",
		DG_ARGS(DG_VT(dept), DG_VT(dept), DG_VI(DG_OD_MANAGE_MAX)), &rows);
	if (rc)
		return rc;
	json_t *list = json_array(), *by_id = json_object();
	while ((rc = dg_rows_next(rows)) == DG_OK) {
		json_t *p = json_pack(
			"{s:s, s:s, s:s, s:s, s:b, s:I, s:s, s:I, s:I}", "id",
			dg_rows_text(rows, 0), "name", dg_rows_text(rows, 1), "title",
			dg_rows_text(rows, 2), "tier", dg_rows_text(rows, 3), "private",
			dg_rows_int(rows, 4) != 0, "modified_ms", (json_int_t)dg_rows_int(rows, 5),
			"dept", dg_rows_text(rows, 6), "resources",
			(json_int_t)dg_rows_int(rows, 7), "rows", (json_int_t)dg_rows_int(rows, 8));
		json_object_set(by_id, dg_rows_text(rows, 0), p);
		json_array_append_new(list, p);
	}
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND)
		rc = add_load_states(db, dept, by_id);
	json_decref(by_id);
	if (rc) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return DG_OK;
}
