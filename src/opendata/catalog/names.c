/*
 * names.c - the names of organizations and groups, as CKAN's
 * organization_update and group_update change them. An organization's id
 * is its department's code and a group's id its theme: the datasets, the
 * kept counts and the rest of the platform hold the id, which never
 * changes. A rename gives the id another name; the names it had stay in
 * od_group_names as old names of the same id, so a client or a link that
 * holds one still finds it (organization_show, package_search's fq, the
 * /organization/{name} IRIs, which answer 301 to the current name), and
 * no other organization or group may take it. The reads turn ids into
 * names with DG_OD_NAME_OF and names into ids with DG_OD_ID_OF
 * (catalog_int.h).
 */
#include "opendata/catalog/catalog_int.h"

#include <string.h>

dg_rc dg_od_group_id(struct dg_db *db, bool org, const char *name, struct dg_arena *a,
		     const char **id)
{
	char *found = NULL;
	*id = name;
	dg_rc rc =
		dg_db_query_text(db, "SELECT id FROM od_group_names WHERE is_org = ? AND name = ?",
				 DG_ARGS(DG_VI(org), DG_VT(name)), a, &found);
	if (rc == DG_OK)
		*id = found;
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

dg_rc dg_od_group_name(struct dg_db *db, bool org, const char *id, struct dg_arena *a,
		       const char **name)
{
	char *found = NULL;
	*name = id;
	dg_rc rc = dg_db_query_text(
		db, "SELECT name FROM od_group_names WHERE is_org = ? AND id = ? AND current = 1",
		DG_ARGS(DG_VI(org), DG_VT(id)), a, &found);
	if (rc == DG_OK)
		*name = found;
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

/* Whether to is taken by another organization or group than id: its id, or a name of it. */
static dg_rc taken(struct dg_db *db, bool org, const char *id, const char *to, bool *yes)
{
	int64_t n = 0;
	dg_rc rc = dg_db_query_int(
		db,
		org ? "SELECT (SELECT COUNT(*) FROM od_group_names WHERE is_org = 1 AND name = ?"
		      " AND id <> ?) + (SELECT COUNT(*) FROM departments WHERE code = ? AND code "
		      "<> ?)"
		    : "SELECT (SELECT COUNT(*) FROM od_group_names WHERE is_org = 0 AND name = ?"
		      " AND id <> ?) + (SELECT COUNT(*) FROM (SELECT 1 FROM od_packages"
		      " WHERE theme = ? AND theme <> ? LIMIT 1) t)",
		DG_ARGS(DG_VT(to), DG_VT(id), DG_VT(to), DG_VT(id)), &n);
	*yes = n > 0;
	return rc;
}

static dg_rc rename_in_tx(struct dg_db *db, bool org, const char *id, const char *to,
			  int64_t now_ms)
{
	bool clash = false;
	dg_rc rc = taken(db, org, id, to, &clash);
	if (!rc && clash)
		return DG_ECONFLICT;
	/* the current name becomes an old one; to, if it was one of them, becomes current */
	if (!rc)
		rc = dg_db_exec(db,
				"UPDATE od_group_names SET current = 0, modified = ?"
				" WHERE is_org = ? AND id = ? AND current = 1",
				DG_ARGS(DG_VI(now_ms), DG_VI(org), DG_VT(id)), NULL);
	if (!rc)
		rc = dg_db_exec(db, "DELETE FROM od_group_names WHERE is_org = ? AND name = ?",
				DG_ARGS(DG_VI(org), DG_VT(to)), NULL);
	/* an id is always its group's name, so going back to it needs no row */
	if (!rc && strcmp(to, id) != 0)
		rc = dg_db_exec(db,
				"INSERT INTO od_group_names (is_org, name, id, current, modified)"
				" VALUES (?, ?, ?, 1, ?)",
				DG_ARGS(DG_VI(org), DG_VT(to), DG_VT(id), DG_VI(now_ms)), NULL);
	/* the search documents of its datasets hold its name (index.c) */
	if (!rc)
		rc = dg_od_index_group(db, org, id);
	/*
	 * kept searches and their facets hold names: they are counted again;
	 * the documents written again are recorded, so a node reads them again
	 */
	return rc ? rc : dg_od_facets_renamed(db, org, id);
}

dg_rc dg_od_group_rename(struct dg_db *db, bool org, const char *id, const char *to, int64_t now_ms)
{
	bool own = !dg_db_in_tx(db);
	dg_rc rc = own ? dg_db_begin(db) : DG_OK;
	if (rc)
		return rc;
	rc = rename_in_tx(db, org, id, to, now_ms);
	if (own && !rc)
		rc = dg_db_commit(db);
	if (own && rc && dg_db_in_tx(db))
		dg_db_rollback(db);
	return rc;
}
