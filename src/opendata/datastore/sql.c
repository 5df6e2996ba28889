/*
 * sql.c - every statement the datastore runs (see datastore_int.h), for SQLite
 * and PostgreSQL alike. Identifiers are interpolated only after the callers
 * validated them (safe names); every value is a bound parameter.
 */
#include "opendata/datastore/datastore_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "opendata/datastore/fts.h"

const struct dg_migration dg_datastore_migrations[] = {
	{"datastore-001-tables", "CREATE TABLE datastore_tables ("
				 " resource_id TEXT PRIMARY KEY,"
				 " table_name TEXT NOT NULL,"
				 " fields TEXT NOT NULL,"
				 " row_count BIGINT NOT NULL DEFAULT 0,"
				 " report TEXT,"
				 " updated_at BIGINT NOT NULL);"},
	/* datastore_create's primary_key: a comma list of column names, or NULL */
	{"datastore-002-primary-key", "ALTER TABLE datastore_tables ADD COLUMN primary_key TEXT;"},
	/* raised by every write of the table's rows, in the write's transaction:
	 * a remembered count (count.h) is one of this version's rows */
	{"datastore-003-version",
	 "ALTER TABLE datastore_tables ADD COLUMN version BIGINT NOT NULL DEFAULT 0;"},
	{NULL, NULL},
};

void dg_ds_table_name(const char *resource_id, int64_t version, char out[DG_DS_TABLE_MAX])
{
	/* FNV-1a: a stable short name; the version keeps loads apart */
	uint64_t h = 1469598103934665603ull;
	for (const unsigned char *p = (const unsigned char *)resource_id; *p; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	snprintf(out, DG_DS_TABLE_MAX, "ds_%016llx_%lld", (unsigned long long)h,
		 (long long)version);
}

void dg_ds_index_name(const char *table, size_t i, char out[DG_DS_TABLE_MAX + 24])
{
	snprintf(out, DG_DS_TABLE_MAX + 24, "%.60s_i%zu", table, i);
}

dg_rc dg_ds_sql_index_exists(struct dg_db *db, const char *table, size_t i, bool *out)
{
	char name[DG_DS_TABLE_MAX + 24];
	int64_t n = 0;
	dg_ds_index_name(table, i, name);
	dg_rc rc = dg_db_query_int(
		db,
		dg_db_kind(db) == DG_STORE_SQLITE
			? "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?"
			: "SELECT COUNT(*) FROM pg_indexes WHERE indexname = ?",
		DG_ARGS(DG_VT(name)), &n);
	*out = rc == DG_OK && n > 0;
	return rc;
}

dg_rc dg_ds_sql_lookup(struct dg_db *db, const char *resource_id, struct dg_ds_table *t)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db,
			       "SELECT table_name, fields, row_count, primary_key, version"
			       " FROM datastore_tables"
			       " WHERE resource_id = ?",
			       DG_ARGS(DG_VT(resource_id)), &rows);
	memset(t, 0, sizeof *t);
	if (rc != DG_OK)
		return rc;
	if ((rc = dg_rows_next(rows)) != DG_OK)
		goto out;
	snprintf(t->table, sizeof t->table, "%s", dg_rows_text(rows, 0));
	t->fields = json_loads(dg_rows_text(rows, 1), 0, NULL);
	t->row_count = dg_rows_int(rows, 2);
	snprintf(t->primary_key, sizeof t->primary_key, "%s", dg_rows_text(rows, 3));
	t->version = dg_rows_int(rows, 4);
	if (!json_is_array(t->fields)) {
		json_decref(t->fields);
		t->fields = NULL;
		rc = DG_EDB;
	}
out:
	dg_rows_free(rows);
	return rc;
}

const char *dg_ds_sql_type(enum dg_store_kind k, enum dg_ds_type t)
{
	switch (t) {
	case DG_DS_INT: return "BIGINT";
	case DG_DS_NUMERIC: return k == DG_STORE_PG ? "NUMERIC" : "REAL";
	case DG_DS_DATE: return k == DG_STORE_PG ? "DATE" : "TEXT";
	case DG_DS_TIMESTAMP: return k == DG_STORE_PG ? "TIMESTAMP" : "TEXT";
	/* jsonb: PostgreSQL's json has no equality, which DISTINCT and keys need */
	case DG_DS_JSON: return k == DG_STORE_PG ? "JSONB" : "TEXT";
	/* lists kept as JSON on both stores: answered alike, element types checked first */
	case DG_DS_TEXT_ARRAY:
	case DG_DS_INT_ARRAY:
	case DG_DS_NUMERIC_ARRAY: return k == DG_STORE_PG ? "JSONB" : "TEXT";
	case DG_DS_BOOL: return k == DG_STORE_PG ? "BOOLEAN" : "INTEGER";
	default: return "TEXT";
	}
}

dg_rc dg_ds_sql_create(struct dg_db *db, const char *table, size_t ncols,
		       char (*names)[DG_DS_NAME_MAX], const enum dg_ds_type *types)
{
	struct dg_buf b;
	dg_rc rc;
	dg_buf_init(&b, 1 << 20);
	if ((rc = dg_buf_addf(&b, "CREATE TABLE \"%s\" (\"_id\" {{pk}}", table)) != DG_OK)
		goto out;
	for (size_t i = 0; i < ncols; i++)
		if ((rc = dg_buf_addf(&b, ", \"%s\" %s", names[i],
				      dg_ds_sql_type(dg_db_kind(db), types[i]))) != DG_OK)
			goto out;
	if ((rc = dg_buf_adds(&b, ")")) != DG_OK)
		goto out;
	rc = dg_db_exec(db, dg_buf_str(&b), DG_NOARGS, NULL);
out:
	dg_buf_release(&b);
	return rc;
}

dg_rc dg_ds_sql_drop(struct dg_db *db, const char *table)
{
	char sql[128];
	snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS \"%s\"", table);
	dg_rc rc = dg_db_exec(db, sql, DG_NOARGS, NULL);
	/* its full-text index goes with it (a staging table has none: harmless) */
	return rc ? rc : dg_ds_fts_drop(db, table);
}

static struct dg_val bind(enum dg_ds_type t, const char *s)
{
	if (!s || !*s)
		return DG_VNULL;
	if (t == DG_DS_BOOL)
		return DG_VT((s[0] == 't' || s[0] == 'T' || s[0] == '1') ? "1" : "0");
	return DG_VT(s);
}

dg_rc dg_ds_sql_insert(struct dg_db *db, const char *table, size_t ncols,
		       char (*names)[DG_DS_NAME_MAX], const enum dg_ds_type *types,
		       const char *const *vals, size_t nrows)
{
	struct dg_buf b;
	struct dg_val *args = dg_xcalloc(nrows * ncols + 1, sizeof *args);
	dg_rc rc;
	dg_buf_init(&b, 16 << 20);
	if ((rc = dg_buf_addf(&b, "INSERT INTO \"%s\" (", table)) != DG_OK)
		goto out;
	for (size_t i = 0; i < ncols; i++)
		if ((rc = dg_buf_addf(&b, "%s\"%s\"", i ? ", " : "", names[i])) != DG_OK)
			goto out;
	if ((rc = dg_buf_adds(&b, ") VALUES ")) != DG_OK)
		goto out;
	for (size_t r = 0; r < nrows; r++) {
		if ((rc = dg_buf_adds(&b, r ? ", (" : "(")) != DG_OK)
			goto out;
		for (size_t i = 0; i < ncols; i++) {
			if ((rc = dg_buf_adds(&b, i ? ", ?" : "?")) != DG_OK)
				goto out;
			args[r * ncols + i] = bind(types[i], vals[r * ncols + i]);
		}
		if ((rc = dg_buf_addc(&b, ')')) != DG_OK)
			goto out;
	}
	rc = dg_db_exec(db, dg_buf_str(&b), args, nrows * ncols, NULL);
out:
	dg_buf_release(&b);
	free(args);
	return rc;
}

dg_rc dg_ds_sql_index(struct dg_db *db, const char *table, size_t ncols,
		      char (*names)[DG_DS_NAME_MAX])
{
	size_t built = 0;
	for (size_t i = 0; i < ncols; i++) {
		char sql[256], index[DG_DS_TABLE_MAX + 24];
		dg_ds_index_name(table, i, index);
		snprintf(sql, sizeof sql, "CREATE INDEX IF NOT EXISTS \"%s\" ON \"%s\" (\"%s\")",
			 index, table, names[i]);
		if (dg_db_exec(db, sql, DG_NOARGS, NULL) == DG_OK)
			built++;
		else
			dg_warn("datastore: %s: no index on column %s", table, names[i]);
	}
	/*
	 * Statistics, so the planner picks the selective index (SQLite has none
	 * until asked; PostgreSQL's autovacuum would get to it later). On
	 * PostgreSQL a VACUUM as well: it marks the new rows visible to all in
	 * the heap and its visibility map once, where otherwise the first
	 * readers of each page would (a filtered count right after a load of a
	 * million rows was three times slower than after it).
	 */
	char sql[128];
	snprintf(sql, sizeof sql, "%s \"%s\"",
		 dg_db_kind(db) == DG_STORE_SQLITE ? "ANALYZE" : "VACUUM (ANALYZE)", table);
	if (dg_db_exec(db, sql, DG_NOARGS, NULL) != DG_OK)
		dg_warn("datastore: %s: no statistics", table);
	/* a SQLite connection reads the statistics only when it (re)loads the
	 * schema, and ANALYZE does not make the pooled ones do so: a schema
	 * change does (measured: a filtered, sorted search twice as fast) */
	if (dg_db_kind(db) == DG_STORE_SQLITE) {
		snprintf(sql, sizeof sql, "CREATE VIEW IF NOT EXISTS \"%.60s_v\" AS SELECT 1",
			 table);
		dg_rc rc = dg_db_exec(db, sql, DG_NOARGS, NULL);
		snprintf(sql, sizeof sql, "DROP VIEW IF EXISTS \"%.60s_v\"", table);
		if (rc != DG_OK || dg_db_exec(db, sql, DG_NOARGS, NULL) != DG_OK)
			dg_warn("datastore: %s: the statistics reach new connections only", table);
	}
	return built > 0 || ncols == 0 ? DG_OK : DG_EDB;
}

dg_rc dg_ds_sql_switch(struct dg_db *db, const char *resource_id, const char *table, json_t *fields,
		       int64_t row_count, json_t *report, char old[DG_DS_TABLE_MAX])
{
	struct dg_ds_table prev;
	char *f = json_dumps(fields, JSON_COMPACT);
	char *rep = report ? json_dumps(report, JSON_COMPACT) : NULL;
	dg_rc rc = dg_ds_sql_lookup(db, resource_id, &prev);
	old[0] = '\0';
	if (rc == DG_OK) {
		snprintf(old, DG_DS_TABLE_MAX, "%s", prev.table);
		json_decref(prev.fields);
	} else if (rc != DG_ENOTFOUND) {
		goto out;
	}
	rc = dg_db_exec(
		db,
		"INSERT INTO datastore_tables (resource_id, table_name, fields, row_count,"
		" report, updated_at, version) VALUES (?, ?, ?, ?, ?, {{now_ms}}, {{now_ms}})"
		" ON CONFLICT (resource_id) DO UPDATE SET table_name = excluded.table_name,"
		" fields = excluded.fields, row_count = excluded.row_count,"
		" report = excluded.report, updated_at = excluded.updated_at,"
		" primary_key = NULL, version = " DG_DS_NEXT_VERSION,
		DG_ARGS(DG_VT(resource_id), DG_VT(table), DG_VT(f), DG_VI(row_count), DG_VT(rep)),
		NULL);
out:
	free(f);
	free(rep);
	return rc;
}

dg_rc dg_ds_sql_report(struct dg_db *db, const char *resource_id, json_t **out)
{
	struct dg_rows *rows = NULL;
	*out = NULL;
	dg_rc rc = dg_db_query(db, "SELECT report FROM datastore_tables WHERE resource_id = ?",
			       DG_ARGS(DG_VT(resource_id)), &rows);
	if (rc != DG_OK)
		return rc;
	if ((rc = dg_rows_next(rows)) == DG_OK && !dg_rows_isnull(rows, 0))
		*out = json_loads(dg_rows_text(rows, 0), 0, NULL);
	dg_rows_free(rows);
	return rc;
}

dg_rc dg_ds_sql_resource(struct dg_db *db, const char *resource_id, struct dg_arena *a,
			 struct dg_ds_owner *o)
{
	struct dg_rows *rows = NULL;
	memset(o, 0, sizeof *o);
	dg_rc rc = dg_db_query(db,
			       "SELECT p.owner_dept, p.tier, p.private, r.url_type"
			       " FROM od_resources r JOIN od_packages p ON p.id = r.package_id"
			       " WHERE r.id = ? AND p.state = 'active'",
			       DG_ARGS(DG_VT(resource_id)), &rows);
	if (rc != DG_OK)
		return rc;
	if ((rc = dg_rows_next(rows)) == DG_OK) {
		o->visible =
			strcmp(dg_rows_text(rows, 1), "closed") != 0 && dg_rows_int(rows, 2) == 0;
		if (a) {
			o->dept = dg_arena_strdup(a, dg_rows_text(rows, 0));
			o->url_type = dg_arena_strdup(a, dg_rows_text(rows, 3));
		}
	}
	dg_rows_free(rows);
	return rc;
}

dg_rc dg_ds_sql_names(struct dg_db *db, const char *resource_id, struct dg_arena *a,
		      struct dg_ds_names *n)
{
	struct dg_rows *rows = NULL;
	memset(n, 0, sizeof *n);
	dg_rc rc = dg_db_query(db,
			       "SELECT p.name, p.title, r.name FROM od_resources r"
			       " JOIN od_packages p ON p.id = r.package_id WHERE r.id = ?",
			       DG_ARGS(DG_VT(resource_id)), &rows);
	if (rc != DG_OK)
		return rc;
	if ((rc = dg_rows_next(rows)) == DG_OK) {
		n->pkg_name = dg_arena_strdup(a, dg_rows_text(rows, 0));
		n->pkg_title = dg_arena_strdup(a, dg_rows_text(rows, 1));
		n->res_name = dg_arena_strdup(a, dg_rows_text(rows, 2));
	}
	dg_rows_free(rows);
	return rc;
}

dg_rc dg_ds_sql_count_add(struct dg_db *db, const char *resource_id, int64_t delta)
{
	return dg_db_exec(db,
			  "UPDATE datastore_tables SET row_count = row_count + ?,"
			  " updated_at = {{now_ms}}, version = " DG_DS_NEXT_VERSION
			  " WHERE resource_id = ?",
			  DG_ARGS(DG_VI(delta), DG_VT(resource_id)), NULL);
}

dg_rc dg_ds_sql_set_schema(struct dg_db *db, const char *resource_id, json_t *fields,
			   const char *primary_key)
{
	char *f = json_dumps(fields, JSON_COMPACT);
	dg_rc rc = dg_db_exec(db,
			      "UPDATE datastore_tables SET fields = ?, primary_key = ?,"
			      " updated_at = {{now_ms}} WHERE resource_id = ?",
			      DG_ARGS(DG_VT(f),
				      DG_VT(primary_key && *primary_key ? primary_key : NULL),
				      DG_VT(resource_id)),
			      NULL);
	free(f);
	return rc;
}

dg_rc dg_ds_sql_set_fields(struct dg_db *db, const char *resource_id, json_t *fields)
{
	char *f = json_dumps(fields, JSON_COMPACT);
	dg_rc rc = dg_db_exec(db,
			      "UPDATE datastore_tables SET fields = ?, updated_at = {{now_ms}}"
			      " WHERE resource_id = ?",
			      DG_ARGS(DG_VT(f), DG_VT(resource_id)), NULL);
	free(f);
	return rc;
}

dg_rc dg_ds_sql_forget(struct dg_db *db, const char *resource_id)
{
	return dg_db_exec(db, "DELETE FROM datastore_tables WHERE resource_id = ?",
			  DG_ARGS(DG_VT(resource_id)), NULL);
}

dg_rc dg_ds_sql_add_column(struct dg_db *db, const char *table, const char *name,
			   enum dg_ds_type type)
{
	char sql[256];
	snprintf(sql, sizeof sql, "ALTER TABLE \"%s\" ADD COLUMN \"%s\" %s", table, name,
		 dg_ds_sql_type(dg_db_kind(db), type));
	return dg_db_exec(db, sql, DG_NOARGS, NULL);
}

dg_rc dg_ds_sql_unique(struct dg_db *db, const char *table, const char *cols)
{
	struct dg_buf b;
	char name[DG_DS_TABLE_MAX + 8];
	dg_rc rc;
	snprintf(name, sizeof name, "%.60s_pk", table);
	dg_buf_init(&b, 4096);
	rc = dg_buf_addf(&b, "DROP INDEX IF EXISTS \"%s\"", name);
	if (rc == DG_OK)
		rc = dg_db_exec(db, dg_buf_str(&b), DG_NOARGS, NULL);
	if (rc != DG_OK || !*cols)
		goto out;
	dg_buf_reset(&b);
	rc = dg_buf_addf(&b, "CREATE UNIQUE INDEX \"%s\" ON \"%s\" (", name, table);
	/* cols is "a,b": quote each checked name */
	for (const char *p = cols; rc == DG_OK && *p;) {
		size_t n = strcspn(p, ",");
		rc = dg_buf_addf(&b, "%s\"%.*s\"", p == cols ? "" : ", ", (int)n, p);
		p += n + (p[n] == ',');
	}
	if (rc == DG_OK)
		rc = dg_buf_addc(&b, ')');
	if (rc == DG_OK)
		rc = dg_db_exec(db, dg_buf_str(&b), DG_NOARGS, NULL);
out:
	dg_buf_release(&b);
	return rc;
}
