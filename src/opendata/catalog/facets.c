/*
 * facets.c - the unfiltered catalogue's counts, kept as datasets change
 * (od_facet_counts, made by base.c's migrations): how many datasets the
 * public may see (active, not private, not closed) carry each organisation,
 * group, tag, resource format, licence, update frequency, region and tier,
 * and how many there are in all (facet "" and value ""). package_search
 * without a filter, tag_list, group_list, organization_list and their
 * _show actions read these rows instead of counting the datasets.
 *
 * Every write of a dataset reads what the dataset gave the counts before
 * it (dg_od_facets_read) and, after it, moves the counts by the difference
 * (dg_od_facets_follow), in the write's own transaction, so a count is never
 * seen out of step with the rows. The difference is applied in one order
 * (facet, then value) by every writer, so two transactions on PostgreSQL
 * never wait on each other's rows in opposite orders; a write that changes
 * nothing the counts hold touches no count. A bulk load recounts
 * everything at its end (dg_od_facets_rebuild).
 */
#include "opendata/catalog/catalog_int.h"

#include <stdlib.h>
#include <string.h>

/* What the public may see of a dataset p. */
#define VIS DG_OD_VISIBLE_P

/*
 * The kept facets, in the order their counts are written. Their names are
 * package_search's facet.field names; "" is the number of datasets.
 */
static const char *const kinds[] = {
	"",           "organization",     "groups", "tags",      "res_format",
	"license_id", "update_frequency", "region", "open_tier",
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

bool dg_od_facet_kept(const char *name)
{
	for (size_t i = 1; i < NKINDS; i++)
		if (strcmp(kinds[i], name) == 0)
			return true;
	return false;
}

/* Add value (not "") to the set of kind in snap. */
static void put(json_t *snap, const char *kind, const char *value)
{
	if (!value[0] && kind[0])
		return;
	json_t *set = json_object_get(snap, kind);
	if (!set) {
		set = json_object();
		json_object_set_new(snap, kind, set);
	}
	json_object_set_new(set, value, json_true());
}

/* Each row's first column into the set of kind. */
static dg_rc put_rows(struct dg_db *db, const char *sql, const char *id, const char *kind,
		      json_t *snap)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, sql, DG_ARGS(DG_VT(id)), &rows);
	if (rc)
		return rc;
	while ((rc = dg_rows_next(rows)) == DG_OK)
		put(snap, kind, dg_rows_text(rows, 0));
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

dg_rc dg_od_facets_read(struct dg_db *db, const char *id, json_t **out)
{
	*out = NULL;
	/*
	 * Take the dataset's row lock first (a write that changes nothing), so
	 * that on PostgreSQL a second writer of the same dataset reads what the
	 * first one left, not what was there before it.
	 */
	dg_rc rc = dg_db_exec(db, "UPDATE od_packages SET state = state WHERE id = ?",
			      DG_ARGS(DG_VT(id)), NULL);
	struct dg_rows *rows = NULL;
	if (!rc)
		rc = dg_db_query(db,
				 "SELECT p.owner_dept, p.theme, p.license_id, p.frequency,"
				 " p.region, p.tier FROM od_packages p WHERE p.id = ? AND " VIS,
				 DG_ARGS(DG_VT(id)), &rows);
	if (rc)
		return rc;
	json_t *snap = json_object();
	rc = dg_rows_next(rows);
	if (rc == DG_OK) {
		static const size_t col_kind[] = {1, 2, 5, 6, 7, 8};
		put(snap, "", "");
		for (int c = 0; c < 6; c++)
			put(snap, kinds[col_kind[c]], dg_rows_text(rows, c));
	}
	dg_rows_free(rows);
	bool visible = rc == DG_OK;
	if (rc == DG_ENOTFOUND)
		rc = DG_OK;
	if (!rc && visible)
		rc = put_rows(db, "SELECT name FROM od_tags WHERE package_id = ?", id, "tags",
			      snap);
	if (!rc && visible)
		rc = put_rows(db, "SELECT format FROM od_resources WHERE package_id = ?", id,
			      "res_format", snap);
	if (rc) {
		json_decref(snap);
		return rc;
	}
	*out = snap;
	return DG_OK;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Move count (kind, value) by delta; a count that reaches 0 goes. */
static dg_rc bump(struct dg_db *db, const char *kind, const char *value, int64_t delta)
{
	dg_rc rc = dg_db_exec(db,
			      "INSERT INTO od_facet_counts (facet, value, n) VALUES (?, ?, ?)"
			      " ON CONFLICT (facet, value) DO UPDATE"
			      " SET n = od_facet_counts.n + excluded.n",
			      DG_ARGS(DG_VT(kind), DG_VT(value), DG_VI(delta)), NULL);
	if (!rc && delta < 0)
		rc = dg_db_exec(
			db, "DELETE FROM od_facet_counts WHERE facet = ? AND value = ? AND n <= 0",
			DG_ARGS(DG_VT(kind), DG_VT(value)), NULL);
	return rc;
}

/* The counts of one kind moved from the set before to the set after (either may be NULL). */
static dg_rc move_kind(struct dg_db *db, const char *kind, json_t *before, json_t *after)
{
	size_t n = json_object_size(before) + json_object_size(after), k = 0;
	if (n == 0)
		return DG_OK;
	const char **names = malloc(n * sizeof *names);
	const char *key;
	json_t *v;
	json_object_foreach (before, key, v)
		names[k++] = key;
	json_object_foreach (after, key, v)
		if (!json_object_get(before, key))
			names[k++] = key;
	qsort(names, k, sizeof *names, by_name);
	dg_rc rc = DG_OK;
	for (size_t i = 0; !rc && i < k; i++) {
		int64_t delta = (json_object_get(after, names[i]) ? 1 : 0) -
				(json_object_get(before, names[i]) ? 1 : 0);
		if (delta)
			rc = bump(db, kind, names[i], delta);
	}
	free(names);
	return rc;
}

dg_rc dg_od_facets_follow(struct dg_db *db, const char *id, json_t *before)
{
	json_t *after = NULL;
	dg_rc rc = dg_od_facets_read(db, id, &after);
	for (size_t i = 0; !rc && i < NKINDS; i++)
		rc = move_kind(db, kinds[i], json_object_get(before, kinds[i]),
			       json_object_get(after, kinds[i]));
	json_decref(before);
	json_decref(after);
	return rc;
}

/* Every count from the datasets themselves, for a bulk load's end (and tests). */
dg_rc dg_od_facets_rebuild(struct dg_db *db)
{
	return dg_db_exec_script(db, "DELETE FROM od_facet_counts;" DG_OD_FACETS_FILL);
}

dg_rc dg_od_facets_total(struct dg_db *db, int64_t *out)
{
	*out = 0;
	dg_rc rc =
		dg_db_query_int(db, "SELECT n FROM od_facet_counts WHERE facet = '' AND value = ''",
				DG_NOARGS, out);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}
