/*
 * index.c - the data catalogue's full-text index (the search module's
 * od_search, made by base.c's migrations): one document per dataset,
 * keyed by od_packages.search_id, with four fields in the order of their
 * weight: the title (with the name and title_translated's texts), the
 * tags, the notes (with the group, that is the theme, the group's and the
 * organisation's current names and notes_translated's texts), the
 * resources' names, descriptions and formats. So a dataset is found by
 * the English title it was given as well as by its Chinese one, and by
 * its group's and organisation's names as CKAN's text field finds it
 * (q=civil-affairs: the datasets of 民政). Every write of write.c
 * rewrites its dataset's document in its own transaction; a purge removes
 * it; a rename of a group or an organisation (names.c) rewrites the
 * documents of its datasets in the rename's transaction, so no answer
 * holds a name it no longer has, and records them in od_doc_changes as a
 * dataset's write does (facets.c). A deleted or private dataset keeps its
 * document: search.c's visibility condition hides it, so making it
 * visible again needs no rebuild.
 */
#include "opendata/catalog/catalog_int.h"

#include <string.h>

#include "core/buf.h"
#include "search/search.h"

#define TEXT_MAX (1u << 20) /* bytes of one field's source text */

const struct dg_search_index dg_od_index = {"od_search", {"title", "tags", "notes", "res"}, 4};

/* Each row's columns appended to b, space-separated; past b's cap what fitted is kept. */
static dg_rc gather(struct dg_db *db, const char *sql, const char *id, struct dg_buf *b)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, sql, DG_ARGS(DG_VT(id)), &rows);
	if (rc)
		return rc;
	while ((rc = dg_rows_next(rows)) == DG_OK) {
		for (int c = 0; c < dg_rows_ncols(rows); c++)
			if (dg_buf_adds(b, dg_rows_text(rows, c)) != DG_OK ||
			    dg_buf_addc(b, ' ') != DG_OK)
				break;
	}
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

/* The texts of a fluent extra ({"en": ..., "zh": ...}, stored as JSON) appended to b. */
static dg_rc gather_translated(struct dg_db *db, const char *id, const char *key, struct dg_buf *b)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, "SELECT value FROM od_extras WHERE package_id = ? AND key = ?",
			       DG_ARGS(DG_VT(id), DG_VT(key)), &rows);
	if (rc)
		return rc;
	while ((rc = dg_rows_next(rows)) == DG_OK) {
		json_t *o = json_loads(dg_rows_text(rows, 0), 0, NULL);
		const char *lang;
		json_t *text;
		json_object_foreach (o, lang, text)
			if (json_is_string(text) &&
			    (dg_buf_adds(b, json_string_value(text)) != DG_OK ||
			     dg_buf_addc(b, ' ') != DG_OK))
				break;
		json_decref(o);
	}
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

dg_rc dg_od_index_package(struct dg_db *db, const char *id)
{
	struct dg_buf f[4];
	for (size_t i = 0; i < 4; i++)
		dg_buf_init(&f[i], TEXT_MAX);
	int64_t doc = 0;
	dg_rc rc = dg_db_query_int(db, "SELECT search_id FROM od_packages WHERE id = ?",
				   DG_ARGS(DG_VT(id)), &doc);
	if (rc == DG_ENOTFOUND) {
		rc = DG_OK; /* gone: nothing to index */
		goto out;
	}
	if (!rc)
		rc = gather(db, "SELECT name, title FROM od_packages WHERE id = ?", id, &f[0]);
	if (!rc)
		rc = gather_translated(db, id, "title_translated", &f[0]);
	if (!rc)
		rc = gather(db, "SELECT name FROM od_tags WHERE package_id = ? ORDER BY name", id,
			    &f[1]);
	if (!rc)
		rc = gather(db,
			    "SELECT notes, theme, " DG_OD_NAME_OF("0", "theme") ", " DG_OD_NAME_OF(
				    "1", "owner_dept") " FROM od_packages WHERE id = ?",
			    id, &f[2]);
	if (!rc)
		rc = gather_translated(db, id, "notes_translated", &f[2]);
	if (!rc)
		rc = gather(db,
			    "SELECT name, description, format FROM od_resources"
			    " WHERE package_id = ? ORDER BY position",
			    id, &f[3]);
	if (!rc) {
		const char *texts[4] = {dg_buf_str(&f[0]), dg_buf_str(&f[1]), dg_buf_str(&f[2]),
					dg_buf_str(&f[3])};
		rc = dg_search_put(db, &dg_od_index, doc, texts);
	}
out:
	for (size_t i = 0; i < 4; i++)
		dg_buf_release(&f[i]);
	return rc;
}

/* The document of each dataset that sql (with args) names written again. */
static dg_rc index_each(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs)
{
	json_t *ids = NULL;
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, sql, args, nargs, &rows);
	if (!rc)
		rc = dg_od_first_column(rows, &ids);
	size_t i;
	json_t *pkg;
	json_array_foreach (ids, i, pkg) {
		if (rc)
			break;
		rc = dg_od_index_package(db, json_string_value(pkg));
	}
	json_decref(ids);
	return rc;
}

dg_rc dg_od_index_group(struct dg_db *db, bool org, const char *id)
{
	return index_each(db,
			  org ? "SELECT id FROM od_packages WHERE owner_dept = ? ORDER BY id"
			      : "SELECT id FROM od_packages WHERE theme = ? ORDER BY id",
			  DG_ARGS(DG_VT(id)));
}

dg_rc dg_od_unindex_package(struct dg_db *db, const char *id)
{
	int64_t doc = 0;
	dg_rc rc = dg_db_query_int(db, "SELECT search_id FROM od_packages WHERE id = ?",
				   DG_ARGS(DG_VT(id)), &doc);
	if (rc == DG_ENOTFOUND)
		return DG_OK;
	if (!rc) /* its facets' rows (facets.c) are the document's */
		rc = dg_db_exec(db, "DELETE FROM od_dataset_facets WHERE doc = ?",
				DG_ARGS(DG_VI(doc)), NULL);
	return rc ? rc : dg_search_delete(db, &dg_od_index, doc);
}

/*
 * Every dataset's document written again, in one transaction, when the
 * index was built by another version of the tokenizer or never (a catalogue
 * that existed before the index). Runs at start; a second node starting at
 * once writes the same documents.
 */
dg_rc dg_od_index_rebuild(struct dg_db *db)
{
	bool stale = false;
	dg_rc rc = dg_search_stale(db, dg_od_index.table, &stale);
	if (rc || !stale)
		return rc;
	rc = dg_db_begin(db);
	if (!rc)
		rc = index_each(db, "SELECT id FROM od_packages ORDER BY id", DG_NOARGS);
	/* every document is new to a node that kept any (another node, running) */
	if (!rc)
		rc = dg_od_facets_all_changed(db);
	if (!rc)
		rc = dg_search_built(db, dg_od_index.table);
	if (!rc)
		rc = dg_db_commit(db);
	if (rc && dg_db_in_tx(db))
		dg_db_rollback(db);
	return rc;
}
