/*
 * facets.c - the catalogue's counts, kept as datasets change
 * (od_facet_counts, made by base.c's migrations): how many datasets the
 * public may see (active, not private, not closed) carry each organisation,
 * group, tag, resource format, licence, update frequency, region and tier,
 * and how many there are (facet "" and value ""), in three kinds of scope:
 * the whole catalogue (""), one organisation ("o:CODE") and one group
 * ("g:THEME"). package_search without a query or with only an organisation
 * or a group (the /data browse, organisation and group pages), tag_list,
 * group_list, organization_list and their _show actions read these rows
 * instead of counting the datasets.
 *
 * Every write of a dataset reads what the dataset gave the counts before
 * it (dg_od_facets_read) and, after it, moves the counts by the difference
 * (dg_od_facets_follow), in the write's own transaction, so a count is never
 * seen out of step with the rows. The difference is applied in one order
 * (scope, facet, value) by every writer, so two transactions on PostgreSQL
 * never wait on each other's rows in opposite orders; a write that changes
 * nothing the counts hold touches no count. The same write moves the
 * dataset's own rows of od_dataset_facets (its values, while the public
 * may see it), from which a search counts its matched set's facets
 * (search.c). A bulk load recounts
 * everything at its end (dg_od_facets_rebuild). Both also raise the
 * catalogue's version (od_catalog_state), by which search.c keeps
 * searches.
 */
#include "opendata/catalog/catalog_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"

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

/* The set of (scope, kind) in snap, made when missing. */
static json_t *set_of(json_t *snap, const char *scope, const char *kind)
{
	json_t *kinds_of = json_object_get(snap, scope);
	if (!kinds_of) {
		kinds_of = json_object();
		json_object_set_new(snap, scope, kinds_of);
	}
	json_t *set = json_object_get(kinds_of, kind);
	if (!set) {
		set = json_object();
		json_object_set_new(kinds_of, kind, set);
	}
	return set;
}

/* Add value (not "", but for the count) to kind's set in every scope of the dataset. */
static void put(json_t *snap, const char *const scopes[3], const char *kind, const char *value)
{
	if (!value[0] && kind[0])
		return;
	for (size_t i = 0; i < 3 && scopes[i]; i++)
		json_object_set_new(set_of(snap, scopes[i], kind), value, json_true());
}

/* Each row's first column into kind's sets. */
static dg_rc put_rows(struct dg_db *db, const char *sql, const char *id,
		      const char *const scopes[3], const char *kind, json_t *snap)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, sql, DG_ARGS(DG_VT(id)), &rows);
	if (rc)
		return rc;
	while ((rc = dg_rows_next(rows)) == DG_OK)
		put(snap, scopes, kind, dg_rows_text(rows, 0));
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
	/* the scopes' names, as long as the codes and themes are */
	json_t *org = NULL, *group = NULL;
	const char *scopes[4] = {"", NULL, NULL, NULL};
	rc = dg_rows_next(rows);
	if (rc == DG_OK) {
		static const size_t col_kind[] = {1, 2, 5, 6, 7, 8};
		org = json_sprintf("o:%s", dg_rows_text(rows, 0));
		scopes[1] = json_string_value(org);
		if (dg_rows_text(rows, 1)[0]) { /* no group: no group's counts */
			group = json_sprintf("g:%s", dg_rows_text(rows, 1));
			scopes[2] = json_string_value(group);
		}
		put(snap, scopes, "", "");
		for (int c = 0; c < 6; c++)
			put(snap, scopes, kinds[col_kind[c]], dg_rows_text(rows, c));
	}
	dg_rows_free(rows);
	bool visible = rc == DG_OK;
	if (rc == DG_ENOTFOUND)
		rc = DG_OK;
	if (!rc && visible)
		rc = put_rows(db, "SELECT name FROM od_tags WHERE package_id = ?", id, scopes,
			      "tags", snap);
	if (!rc && visible)
		rc = put_rows(db, "SELECT format FROM od_resources WHERE package_id = ?", id,
			      scopes, "res_format", snap);
	json_decref(org);
	json_decref(group);
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

/*
 * The moves of one write, kept to be sent as few statements: every count's
 * row is locked from its upsert to the commit, and the counts of the whole
 * catalogue are shared by all writers, so one round trip instead of one a
 * count keeps them locked for less time (PostgreSQL).
 */
#define MOVES_ROWS 100 /* counts in one upsert (4 values each) */
struct moves {
	struct dg_val v[4 * MOVES_ROWS];
	size_t n; /* counts held */
};

static dg_rc moves_send(struct dg_db *db, struct moves *m)
{
	if (!m->n)
		return DG_OK;
	struct dg_buf sql;
	dg_buf_init(&sql, 8192);
	dg_rc rc = dg_buf_adds(&sql, "INSERT INTO od_facet_counts (scope, facet, value, n) VALUES");
	for (size_t i = 0; !rc && i < m->n; i++)
		rc = dg_buf_adds(&sql, i ? ", (?, ?, ?, ?)" : " (?, ?, ?, ?)");
	if (!rc)
		rc = dg_buf_adds(&sql, " ON CONFLICT (scope, facet, value) DO UPDATE"
				       " SET n = od_facet_counts.n + excluded.n");
	if (!rc)
		rc = dg_db_exec(db, dg_buf_str(&sql), m->v, 4 * m->n, NULL);
	dg_buf_release(&sql);
	/* a count that reaches 0 goes */
	for (size_t i = 0; !rc && i < m->n; i++)
		if (m->v[4 * i + 3].i < 0)
			rc = dg_db_exec(db,
					"DELETE FROM od_facet_counts WHERE scope = ? AND facet = ?"
					" AND value = ? AND n <= 0",
					&m->v[4 * i], 3, NULL);
	m->n = 0;
	return rc;
}

/* Move count (scope, kind, value) by delta: held in m, sent when m is full. */
static dg_rc bump(struct dg_db *db, struct moves *m, const char *scope, const char *kind,
		  const char *value, int64_t delta)
{
	struct dg_val *v = &m->v[4 * m->n++];
	v[0] = DG_VT(scope);
	v[1] = DG_VT(kind);
	v[2] = DG_VT(value);
	v[3] = DG_VI(delta);
	return m->n == MOVES_ROWS ? moves_send(db, m) : DG_OK;
}

/* The keys of a and of b (either may be NULL), each once, sorted (a malloc'd array). */
static const char **keys_of(json_t *a, json_t *b, size_t *n)
{
	size_t k = 0;
	const char **names =
		malloc((json_object_size(a) + json_object_size(b) + 1) * sizeof *names);
	const char *key;
	json_t *v;
	json_object_foreach (a, key, v)
		names[k++] = key;
	json_object_foreach (b, key, v)
		if (!json_object_get(a, key))
			names[k++] = key;
	qsort(names, k, sizeof *names, by_name);
	*n = k;
	return names;
}

/* One scope's and kind's counts moved from the set before to the set after (either may be NULL). */
static dg_rc move_kind(struct dg_db *db, struct moves *m, const char *scope, const char *kind,
		       json_t *before, json_t *after)
{
	size_t n = 0;
	const char **names = keys_of(before, after, &n);
	dg_rc rc = DG_OK;
	for (size_t i = 0; !rc && i < n; i++) {
		int64_t delta = (json_object_get(after, names[i]) ? 1 : 0) -
				(json_object_get(before, names[i]) ? 1 : 0);
		if (delta)
			rc = bump(db, m, scope, kind, names[i], delta);
	}
	free(names);
	return rc;
}

/*
 * Raise the version, after the counts: every writer takes their rows first
 * and this one last, in one order, so two writers never wait on each other
 * in opposite orders.
 */
static dg_rc touch(struct dg_db *db)
{
	return dg_db_exec(db, "UPDATE od_catalog_state SET version = version + 1 WHERE id = 1",
			  DG_NOARGS, NULL);
}

/*
 * Record that document doc's rows changed at the version just raised (-1:
 * every document's). After touch, whose row this transaction now holds:
 * the version read is this write's own, and two writers of one document
 * wait on the version's row before this one, never in the other order.
 */
#define RECORD_UPSERT " ON CONFLICT (doc) DO UPDATE SET version = excluded.version"

static dg_rc record(struct dg_db *db, int64_t doc)
{
	return dg_db_exec(db,
			  "INSERT INTO od_doc_changes (doc, version) SELECT ?, version"
			  " FROM od_catalog_state WHERE id = 1" RECORD_UPSERT,
			  DG_ARGS(DG_VI(doc)), NULL);
}

/*
 * The dataset's rows of od_dataset_facets moved from its values before to
 * those after (the whole catalogue's scope of each snapshot): a value it
 * gained is inserted, one it lost deleted, all of them when it left the
 * public's sight. A purged dataset has no document any more: its rows went
 * with its search document (index.c).
 */
static dg_rc follow_rows(struct dg_db *db, const char *id, json_t *before, json_t *after,
			 int64_t *doc_out)
{
	int64_t doc = 0;
	dg_rc rc = dg_db_query_int(db, "SELECT search_id FROM od_packages WHERE id = ?",
				   DG_ARGS(DG_VT(id)), &doc);
	if (rc == DG_ENOTFOUND)
		return DG_OK;
	*doc_out = doc;
	if (!rc && !after)
		return dg_db_exec(db, "DELETE FROM od_dataset_facets WHERE doc = ?",
				  DG_ARGS(DG_VI(doc)), NULL);
	for (size_t i = 0; !rc && i < NKINDS; i++) {
		json_t *b = json_object_get(before, kinds[i]),
		       *a = json_object_get(after, kinds[i]);
		size_t n = 0;
		const char **names = keys_of(b, a, &n);
		for (size_t k = 0; !rc && k < n; k++) {
			bool was = json_object_get(b, names[k]), is = json_object_get(a, names[k]);
			if (was != is)
				rc = dg_db_exec(
					db,
					is ? "INSERT INTO od_dataset_facets (doc, kind, value)"
					     " VALUES (?, ?, ?)"
					   : "DELETE FROM od_dataset_facets WHERE doc = ?"
					     " AND kind = ? AND value = ?",
					DG_ARGS(DG_VI(doc), DG_VT(kinds[i]), DG_VT(names[k])),
					NULL);
		}
		free(names);
	}
	return rc;
}

dg_rc dg_od_facets_follow(struct dg_db *db, const char *id, json_t *before)
{
	json_t *after = NULL;
	dg_rc rc = dg_od_facets_read(db, id, &after);
	/*
	 * The dataset's own rows first: a purged dataset's row no longer gives
	 * its document: its purge records it (dg_od_facets_gone), and a
	 * document that takes its number later is recorded as new. They are
	 * this dataset's alone, while the counts below are shared by every
	 * writer and held from their upsert to the commit (PostgreSQL): so
	 * those come last, and other writers wait for as few statements.
	 */
	int64_t doc = -1;
	if (!rc)
		rc = follow_rows(db, id, json_object_get(before, ""), json_object_get(after, ""),
				 &doc);
	size_t n = 0;
	const char **scopes = rc ? NULL : keys_of(before, after, &n);
	/* the moves borrow the names of before, after and scopes: sent before they go */
	struct moves *m = dg_xmalloc(sizeof *m);
	m->n = 0;
	for (size_t s = 0; !rc && s < n; s++) {
		json_t *b = json_object_get(before, scopes[s]),
		       *a = json_object_get(after, scopes[s]);
		for (size_t i = 0; !rc && i < NKINDS; i++)
			rc = move_kind(db, m, scopes[s], kinds[i], json_object_get(b, kinds[i]),
				       json_object_get(a, kinds[i]));
	}
	if (!rc)
		rc = moves_send(db, m);
	free(m);
	free(scopes);
	json_decref(before);
	json_decref(after);
	rc = rc ? rc : touch(db);
	return rc || doc < 0 ? rc : record(db, doc);
}

dg_rc dg_od_facets_gone(struct dg_db *db, int64_t doc)
{
	return doc < 0 ? DG_OK : record(db, doc);
}

/*
 * The documents of the organization's (org) or group's datasets, which a
 * rename wrote again, recorded at the version raised here (private and
 * deleted ones too: a node drops what the public does not see as it reads
 * them again). One statement, whatever the number of datasets; SQLite
 * wants the WHERE before an upsert on a SELECT's join.
 */
dg_rc dg_od_facets_renamed(struct dg_db *db, bool org, const char *id)
{
	dg_rc rc = touch(db);
	return rc ? rc
		  : dg_db_exec(db,
			       org ? "INSERT INTO od_doc_changes (doc, version)"
				     " SELECT p.search_id, s.version FROM od_packages p,"
				     " od_catalog_state s WHERE s.id = 1 AND p.owner_dept = ?"
				     " AND p.search_id IS NOT NULL" RECORD_UPSERT
				   : "INSERT INTO od_doc_changes (doc, version)"
				     " SELECT p.search_id, s.version FROM od_packages p,"
				     " od_catalog_state s WHERE s.id = 1 AND p.theme = ?"
				     " AND p.search_id IS NOT NULL" RECORD_UPSERT,
			       DG_ARGS(DG_VT(id)), NULL);
}

dg_rc dg_od_facets_all_changed(struct dg_db *db)
{
	dg_rc rc = touch(db);
	return rc ? rc : record(db, -1);
}

/* Every count from the datasets themselves, for a bulk load's end (and tests). */
dg_rc dg_od_facets_rebuild(struct dg_db *db)
{
	dg_rc rc =
		dg_db_exec_script(db, "DELETE FROM od_facet_counts;" DG_OD_FACETS_FILL
				      "DELETE FROM od_dataset_facets;" DG_OD_DATASET_FACETS_FILL);
	return rc ? rc : dg_od_facets_all_changed(db);
}

dg_rc dg_od_catalog_version(struct dg_db *db, int64_t *out)
{
	return dg_db_query_int(db, "SELECT version FROM od_catalog_state WHERE id = 1", DG_NOARGS,
			       out);
}

dg_rc dg_od_facets_total(struct dg_db *db, const char *scope, int64_t *out)
{
	*out = 0;
	dg_rc rc = dg_db_query_int(db,
				   "SELECT n FROM od_facet_counts WHERE scope = ? AND facet = ''"
				   " AND value = ''",
				   DG_ARGS(DG_VT(scope)), out);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}
