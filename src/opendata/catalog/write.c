/*
 * write.c - the SQL behind package_create/update/patch and the resource
 * actions. Each public function is one transaction: begin, write, commit,
 * or roll back on the first error, so a failed call leaves the catalogue as
 * it was. Kept apart from sql.c (the reads; the schema is base.c's) so the write
 * path can be read on its own.
 */
#include "opendata/catalog/catalog_int.h"

#include <string.h>

static dg_rc in_tx(struct dg_db *db, dg_rc (*fn)(struct dg_db *, const void *, int64_t),
		   const void *arg, int64_t now_ms)
{
	dg_rc rc = dg_db_begin(db);
	if (rc)
		return rc;
	rc = fn(db, arg, now_ms);
	if (!rc)
		rc = dg_db_commit(db);
	if (rc)
		dg_db_rollback(db);
	return rc;
}

bool dg_od_id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 100)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

dg_rc dg_od_name_taken(struct dg_db *db, const char *name, const char *self_id, bool *out)
{
	int64_t n = 0;
	dg_rc rc = dg_db_query_int(db,
				   "SELECT COUNT(*) FROM od_packages WHERE (name = ? OR id = ?)"
				   " AND id <> ?",
				   DG_ARGS(DG_VT(name), DG_VT(name), DG_VT(self_id ? self_id : "")),
				   &n);
	*out = n > 0;
	return rc;
}

dg_rc dg_od_name_org(struct dg_db *db, const char *name, char code[DG_OD_CODE_MAX])
{
	code[0] = '\0';
	const char *dash = strchr(name, '-');
	if (!dash || dash == name || (size_t)(dash - name) >= DG_OD_CODE_MAX)
		return DG_OK;
	char head[DG_OD_CODE_MAX];
	memcpy(head, name, (size_t)(dash - name));
	head[dash - name] = '\0';
	bool exists = false;
	dg_rc rc = dg_od_dept_exists(db, head, &exists);
	if (rc == DG_OK && exists)
		memcpy(code, head, sizeof head);
	return rc;
}

dg_rc dg_od_dept_exists(struct dg_db *db, const char *code, bool *out)
{
	int64_t n = 0;
	dg_rc rc = dg_db_query_int(db, "SELECT COUNT(*) FROM departments WHERE code = ?",
				   DG_ARGS(DG_VT(code)), &n);
	*out = n > 0;
	return rc;
}

static dg_rc insert_resource(struct dg_db *db, const char *package_id, const struct dg_od_res_in *r,
			     int64_t position, int64_t now_ms)
{
	int64_t created = r->created_ms >= 0 ? r->created_ms : now_ms;
	int64_t modified = r->last_modified_ms >= 0 ? r->last_modified_ms : now_ms;
	return dg_db_exec(
		db,
		"INSERT INTO od_resources (id, package_id, name, description, format, url,"
		" url_type, size, mimetype, created, last_modified, position, hash,"
		" file_key, file_name, extras, metadata_modified)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		DG_ARGS(DG_VT(r->id), DG_VT(package_id), DG_VT(r->name), DG_VT(r->description),
			DG_VT(r->format), DG_VT(r->url), DG_VT(r->url_type ? r->url_type : "link"),
			r->size < 0 ? DG_VNULL : DG_VI(r->size), DG_VT(r->mimetype), DG_VI(created),
			DG_VI(modified), DG_VI(position), DG_VT(r->hash ? r->hash : ""),
			DG_VT(r->file_key ? r->file_key : ""),
			DG_VT(r->file_name ? r->file_name : ""),
			DG_VT(r->extras ? r->extras : "{}"), DG_VI(now_ms)),
		NULL);
}

/*
 * position < 0 keeps the resource's place. NULL file fields keep what it had
 * (catalog_int.h). An unchanged resource only moves: its times stay.
 * last_modified: the client's when sent, else now.
 */
static dg_rc update_resource(struct dg_db *db, const struct dg_od_res_in *r, int64_t position,
			     int64_t now_ms)
{
	if (r->unchanged)
		return dg_db_exec(
			db,
			"UPDATE od_resources SET"
			" position = CASE WHEN ? < 0 THEN position ELSE ? END WHERE id = ?",
			DG_ARGS(DG_VI(position), DG_VI(position), DG_VT(r->id)), NULL);
	int64_t modified = r->last_modified_ms >= 0 ? r->last_modified_ms : now_ms;
	return dg_db_exec(db,
			  "UPDATE od_resources SET name = ?, description = ?, format = ?, url = ?,"
			  " size = ?, mimetype = ?, last_modified = ?,"
			  " position = CASE WHEN ? < 0 THEN position ELSE ? END,"
			  " url_type = COALESCE(?, url_type), hash = COALESCE(?, hash),"
			  " file_key = COALESCE(?, file_key), file_name = COALESCE(?, file_name),"
			  " extras = ?, metadata_modified = ?,"
			  " created = CASE WHEN ? < 0 THEN created ELSE ? END"
			  " WHERE id = ?",
			  DG_ARGS(DG_VT(r->name), DG_VT(r->description), DG_VT(r->format),
				  DG_VT(r->url), r->size < 0 ? DG_VNULL : DG_VI(r->size),
				  DG_VT(r->mimetype), DG_VI(modified), DG_VI(position),
				  DG_VI(position), DG_VT(r->url_type), DG_VT(r->hash),
				  DG_VT(r->file_key), DG_VT(r->file_name),
				  DG_VT(r->extras ? r->extras : "{}"), DG_VI(now_ms),
				  DG_VI(r->created_ms), DG_VI(r->created_ms), DG_VT(r->id)),
			  NULL);
}

/* Which package holds resource id ("" when none). */
static dg_rc resource_holder(struct dg_db *db, const char *id, char out[128])
{
	struct dg_rows *rows = NULL;
	out[0] = '\0';
	dg_rc rc = dg_db_query(db, "SELECT package_id FROM od_resources WHERE id = ?",
			       DG_ARGS(DG_VT(id)), &rows);
	if (rc)
		return rc;
	rc = dg_rows_next(rows);
	if (rc == DG_OK) {
		snprintf(out, 128, "%s", dg_rows_text(rows, 0));
	}
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

static dg_rc save_resources(struct dg_db *db, const struct dg_od_pkg_in *p, int64_t now_ms)
{
	dg_rc rc = DG_OK;
	/* first every resource id must be free or already this dataset's */
	for (size_t i = 0; !rc && i < p->nres; i++) {
		char holder[128];
		rc = resource_holder(db, p->res[i].id, holder);
		if (!rc && holder[0] && strcmp(holder, p->id) != 0)
			rc = DG_ECONFLICT;
	}
	/* the ones left out go; positions are rewritten below */
	if (!rc)
		rc = dg_db_exec(
			db, "UPDATE od_resources SET position = -1 - position WHERE package_id = ?",
			DG_ARGS(DG_VT(p->id)), NULL);
	for (size_t i = 0; !rc && i < p->nres; i++) {
		char holder[128];
		rc = resource_holder(db, p->res[i].id, holder);
		if (!rc)
			rc = holder[0] ? update_resource(db, &p->res[i], (int64_t)i, now_ms)
				       : insert_resource(db, p->id, &p->res[i], (int64_t)i, now_ms);
	}
	if (!rc)
		rc = dg_db_exec(db,
				"DELETE FROM od_resources WHERE package_id = ? AND position < 0",
				DG_ARGS(DG_VT(p->id)), NULL);
	return rc;
}

static dg_rc save_package(struct dg_db *db, const void *arg, int64_t now_ms, bool create)
{
	const struct dg_od_pkg_in *p = arg;
	json_t *before = NULL;
	/*
	 * A new dataset gave the counts nothing yet: its insert below fails
	 * on the id if one has it, so there is nothing to read or lock first.
	 */
	dg_rc rc = create ? DG_OK : dg_od_facets_read(db, p->id, &before);
	if (rc)
		return rc;
	if (create)
		before = json_object();
	if (create)
		rc = dg_db_exec(
			db,
			"INSERT INTO od_packages (id, name, title, notes, license_id, author,"
			" author_email, maintainer, maintainer_email, url, version, private,"
			" metadata_created, metadata_modified, owner_dept, theme, frequency,"
			" region, tier) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			DG_ARGS(DG_VT(p->id), DG_VT(p->name), DG_VT(p->title), DG_VT(p->notes),
				DG_VT(p->license_id), DG_VT(p->author), DG_VT(p->author_email),
				DG_VT(p->maintainer), DG_VT(p->maintainer_email), DG_VT(p->url),
				DG_VT(p->version), DG_VI(p->is_private), DG_VI(now_ms),
				DG_VI(now_ms), DG_VT(p->dept), DG_VT(p->theme), DG_VT(p->frequency),
				DG_VT(p->region), DG_VT(p->tier)),
			NULL);
	else
		rc = dg_db_exec(
			db,
			"UPDATE od_packages SET name = ?, title = ?, notes = ?, license_id = ?,"
			" author = ?, author_email = ?, maintainer = ?, maintainer_email = ?,"
			" url = ?, version = ?, private = ?, metadata_modified = ?,"
			" owner_dept = ?, theme = ?, frequency = ?, region = ?, tier = ?, state = ?"
			" WHERE id = ?",
			DG_ARGS(DG_VT(p->name), DG_VT(p->title), DG_VT(p->notes),
				DG_VT(p->license_id), DG_VT(p->author), DG_VT(p->author_email),
				DG_VT(p->maintainer), DG_VT(p->maintainer_email), DG_VT(p->url),
				DG_VT(p->version), DG_VI(p->is_private), DG_VI(now_ms),
				DG_VT(p->dept), DG_VT(p->theme), DG_VT(p->frequency),
				DG_VT(p->region), DG_VT(p->tier),
				DG_VT(p->state ? p->state : "active"), DG_VT(p->id)),
			NULL);
	if (!rc && !create)
		rc = dg_db_exec(db, "DELETE FROM od_tags WHERE package_id = ?",
				DG_ARGS(DG_VT(p->id)), NULL);
	if (!rc && !create)
		rc = dg_db_exec(db, "DELETE FROM od_extras WHERE package_id = ?",
				DG_ARGS(DG_VT(p->id)), NULL);
	for (size_t i = 0; !rc && i < p->ntags; i++)
		rc = dg_db_exec(db, "INSERT INTO od_tags (package_id, name) VALUES (?, ?)",
				DG_ARGS(DG_VT(p->id), DG_VT(p->tags[i])), NULL);
	for (size_t i = 0; !rc && i < p->nextras; i++)
		rc = dg_db_exec(
			db, "INSERT INTO od_extras (package_id, key, value) VALUES (?, ?, ?)",
			DG_ARGS(DG_VT(p->id), DG_VT(p->extra_keys[i]), DG_VT(p->extra_vals[i])),
			NULL);
	if (!rc && !p->keep_resources)
		rc = save_resources(db, p, now_ms);
	if (!rc)
		rc = dg_od_index_package(db, p->id);
	if (!rc) {
		rc = dg_od_facets_follow(db, p->id, before);
		before = NULL;
	}
	json_decref(before);
	return rc;
}

static dg_rc create_fn(struct dg_db *db, const void *arg, int64_t now_ms)
{
	return save_package(db, arg, now_ms, true);
}

static dg_rc update_fn(struct dg_db *db, const void *arg, int64_t now_ms)
{
	return save_package(db, arg, now_ms, false);
}

dg_rc dg_od_package_save(struct dg_db *db, const struct dg_od_pkg_in *p, bool create,
			 int64_t now_ms)
{
	return in_tx(db, create ? create_fn : update_fn, p, now_ms);
}

dg_rc dg_od_resource_package(struct dg_db *db, const char *rid, struct dg_arena *a,
			     char **package_id)
{
	return dg_db_query_text(db,
				"SELECT r.package_id FROM od_resources r JOIN od_packages p"
				" ON p.id = r.package_id WHERE r.id = ? AND p.state = 'active'",
				DG_ARGS(DG_VT(rid)), a, package_id);
}

struct res_job {
	const char *package_id;
	const struct dg_od_res_in *r;
	bool create;
};

static dg_rc resource_fn(struct dg_db *db, const void *arg, int64_t now_ms)
{
	const struct res_job *j = arg;
	json_t *before = NULL;
	dg_rc rc = dg_od_facets_read(db, j->package_id, &before);
	if (rc)
		return rc;
	if (j->create) {
		int64_t pos = 0;
		char holder[128];
		rc = resource_holder(db, j->r->id, holder);
		if (!rc && holder[0])
			rc = DG_ECONFLICT;
		rc = rc ? rc
			: dg_db_query_int(db,
					  "SELECT COALESCE(MAX(position) + 1, 0) FROM od_resources"
					  " WHERE package_id = ?",
					  DG_ARGS(DG_VT(j->package_id)), &pos);
		rc = rc ? rc : insert_resource(db, j->package_id, j->r, pos, now_ms);
	} else {
		rc = update_resource(db, j->r, -1, now_ms);
	}
	if (!rc && !j->r->unchanged)
		rc = dg_db_exec(db, "UPDATE od_packages SET metadata_modified = ? WHERE id = ?",
				DG_ARGS(DG_VI(now_ms), DG_VT(j->package_id)), NULL);
	if (!rc)
		rc = dg_od_index_package(db, j->package_id);
	if (!rc) {
		rc = dg_od_facets_follow(db, j->package_id, before);
		before = NULL;
	}
	json_decref(before);
	return rc;
}

dg_rc dg_od_resource_save(struct dg_db *db, const char *package_id, const struct dg_od_res_in *r,
			  bool create, int64_t now_ms)
{
	struct res_job j = {package_id, r, create};
	return in_tx(db, resource_fn, &j, now_ms);
}

static dg_rc delete_fn(struct dg_db *db, const void *arg, int64_t now_ms)
{
	const char *rid = arg;
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, "SELECT package_id, position FROM od_resources WHERE id = ?",
			       DG_ARGS(DG_VT(rid)), &rows);
	if (rc)
		return rc;
	char pkg[128] = "";
	int64_t pos = 0;
	rc = dg_rows_next(rows);
	if (rc == DG_OK) {
		snprintf(pkg, sizeof pkg, "%s", dg_rows_text(rows, 0));
		pos = dg_rows_int(rows, 1);
	}
	dg_rows_free(rows);
	json_t *before = NULL;
	if (!rc)
		rc = dg_od_facets_read(db, pkg, &before);
	if (rc)
		return rc;
	rc = dg_db_exec(db, "DELETE FROM od_resources WHERE id = ?", DG_ARGS(DG_VT(rid)), NULL);
	if (!rc)
		rc = dg_db_exec(db,
				"UPDATE od_resources SET position = position - 1"
				" WHERE package_id = ? AND position > ?",
				DG_ARGS(DG_VT(pkg), DG_VI(pos)), NULL);
	if (!rc)
		rc = dg_db_exec(db, "UPDATE od_packages SET metadata_modified = ? WHERE id = ?",
				DG_ARGS(DG_VI(now_ms), DG_VT(pkg)), NULL);
	if (!rc)
		rc = dg_od_index_package(db, pkg);
	if (!rc) {
		rc = dg_od_facets_follow(db, pkg, before);
		before = NULL;
	}
	json_decref(before);
	return rc;
}

dg_rc dg_od_resource_delete(struct dg_db *db, const char *rid, int64_t now_ms)
{
	return in_tx(db, delete_fn, rid, now_ms);
}

static dg_rc purge_fn(struct dg_db *db, const void *arg, int64_t now_ms)
{
	const char *id = arg;
	(void)now_ms;
	static const char *const children[] = {
		"DELETE FROM od_resources WHERE package_id = ?",
		"DELETE FROM od_tags WHERE package_id = ?",
		"DELETE FROM od_extras WHERE package_id = ?",
		"DELETE FROM od_packages WHERE id = ?",
	};
	json_t *before = NULL;
	int64_t doc = -1;
	dg_rc rc = dg_od_facets_read(db, id, &before);
	/* its search document, recorded as gone once its row is */
	if (!rc)
		rc = dg_db_query_int(db, "SELECT search_id FROM od_packages WHERE id = ?",
				     DG_ARGS(DG_VT(id)), &doc);
	if (rc == DG_ENOTFOUND)
		rc = DG_OK;
	if (!rc)
		rc = dg_od_unindex_package(db, id);
	for (size_t i = 0; !rc && i < sizeof children / sizeof children[0]; i++)
		rc = dg_db_exec(db, children[i], DG_ARGS(DG_VT(id)), NULL);
	if (!rc) {
		rc = dg_od_facets_follow(db, id, before);
		before = NULL;
	}
	if (!rc)
		rc = dg_od_facets_gone(db, doc);
	json_decref(before);
	return rc;
}

dg_rc dg_od_package_any(struct dg_db *db, const char *id_or_name, struct dg_arena *a, char **id,
			char **dept)
{
	struct dg_rows *rows = NULL;
	*id = *dept = NULL;
	dg_rc rc =
		dg_db_query(db, "SELECT id, owner_dept FROM od_packages WHERE id = ? OR name = ?",
			    DG_ARGS(DG_VT(id_or_name), DG_VT(id_or_name)), &rows);
	if (rc)
		return rc;
	if ((rc = dg_rows_next(rows)) == DG_OK) {
		*id = dg_arena_strdup(a, dg_rows_text(rows, 0));
		*dept = dg_arena_strdup(a, dg_rows_text(rows, 1));
	}
	dg_rows_free(rows);
	return rc;
}

dg_rc dg_od_package_purge(struct dg_db *db, const char *id, json_t **rids)
{
	struct dg_rows *rows = NULL;
	*rids = NULL;
	dg_rc rc = dg_db_query(db, "SELECT id FROM od_resources WHERE package_id = ?",
			       DG_ARGS(DG_VT(id)), &rows);
	if (rc)
		return rc;
	json_t *list = NULL;
	rc = dg_od_first_column(rows, &list);
	if (!rc)
		rc = in_tx(db, purge_fn, id, 0);
	if (rc) {
		json_decref(list);
		return rc;
	}
	*rids = list;
	return DG_OK;
}
