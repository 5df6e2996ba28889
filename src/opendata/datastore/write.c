/*
 * write.c - datastore_create, datastore_upsert and datastore_delete
 * (contract in datastore_int.h).
 *
 * Everything a request asks is checked before the store is touched where it
 * can be (field names and types, record shapes and values, keys); what only
 * the store can tell (a duplicate key, a row that is not there) rolls the
 * whole call back. Statements are built here from checked column names with
 * every value bound; the catalogue of tables is sql.c's.
 */
#include "opendata/datastore/datastore_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/mem.h"
#include "opendata/datastore/filter.h"
#include "opendata/datastore/fts.h"

#define MAX_KEY_COLS 8
#define STMT_ARGS    256 /* store.h's PostgreSQL binds at most 256 */

/* One call's state: the table as it is (or will be) and the values bound. */
struct wr {
	struct dg_db *db;
	const char *rid;
	struct dg_ds_table t;
	bool exists;
	json_t *fields; /* owned: the table's fields after this call */
	struct dg_ds_col *cols;
	size_t ncols;
	char key[DG_DS_KEY_MAX]; /* primary key "a,b" after this call */
	struct dg_err *err;
	/* the statement being built */
	struct dg_buf sql;
	struct dg_val args[STMT_ARGS];
	char *owned[STMT_ARGS];
	size_t nargs;
	int64_t added;  /* rows added minus rows removed */
	json_t *stored; /* include_records: the rows as written, with "_id"; else NULL */
};

static void wr_init(struct wr *w, struct dg_db *db, const char *rid, struct dg_err *err)
{
	memset(w, 0, sizeof *w);
	w->db = db;
	w->rid = rid;
	w->err = err;
	dg_buf_init(&w->sql, 8 << 20);
}

static void args_clear(struct wr *w)
{
	for (size_t i = 0; i < w->nargs; i++) {
		free(w->owned[i]);
		w->owned[i] = NULL;
	}
	w->nargs = 0;
	dg_buf_reset(&w->sql);
}

static void wr_release(struct wr *w)
{
	args_clear(w);
	dg_buf_release(&w->sql);
	json_decref(w->t.fields);
	json_decref(w->fields);
	json_decref(w->stored);
	free(w->cols);
}

/* Refresh cols from w->fields (after fields were added). */
static void cols_refresh(struct wr *w)
{
	struct dg_ds_table t = {.fields = w->fields};
	free(w->cols);
	w->cols = dg_ds_cols(&t, &w->ncols);
}

/*
 * Lock the resource's entry for this transaction and read it: writers of one
 * resource queue here (PostgreSQL's row lock; SQLite's BEGIN IMMEDIATE has
 * already queued them), so what is read stays true until commit.
 */
static dg_rc lock_table(struct wr *w)
{
	int64_t n = 0;
	dg_rc rc = dg_db_exec(w->db,
			      "UPDATE datastore_tables SET updated_at = {{now_ms}},"
			      " version = " DG_DS_NEXT_VERSION " WHERE resource_id = ?",
			      DG_ARGS(DG_VT(w->rid)), &n);
	if (rc != DG_OK)
		return rc;
	json_decref(w->t.fields);
	rc = dg_ds_sql_lookup(w->db, w->rid, &w->t);
	w->exists = rc == DG_OK;
	if (rc == DG_ENOTFOUND)
		rc = DG_OK;
	if (rc == DG_OK && w->exists) {
		json_decref(w->fields);
		w->fields = json_deep_copy(w->t.fields);
		snprintf(w->key, sizeof w->key, "%s", w->t.primary_key);
		cols_refresh(w);
	}
	return rc;
}

/* A message about record i (0-based) from a lower-level message in err. */
static dg_rc row_err(struct wr *w, size_t i)
{
	char msg[sizeof w->err->msg];
	snprintf(msg, sizeof msg, "%s", w->err->msg);
	return dg_err_field(w->err, DG_EINVAL, "records", "row %zu: %.200s", i + 1, msg);
}

/* Bind record value v for column c (NULL and "" for a non-text column are SQL NULL). */
static dg_rc bind(struct wr *w, const struct dg_ds_col *c, json_t *v, size_t row)
{
	if (w->nargs >= STMT_ARGS)
		return dg_err_field(w->err, DG_EINVAL, "records", "row %zu: too many values",
				    row + 1);
	if (!v || json_is_null(v) ||
	    (c->type != DG_DS_TEXT && json_is_string(v) && json_string_length(v) == 0)) {
		w->args[w->nargs++] = DG_VNULL;
		return DG_OK;
	}
	if (dg_ds_bind_value(c, v, "records", &w->args[w->nargs], &w->owned[w->nargs], w->err) !=
	    DG_OK)
		return row_err(w, row);
	w->nargs++;
	return DG_OK;
}

/* ---- checks that need no store ---- */

/* A list parameter: a JSON array, JSON text of one, or "a,b" (new reference). */
static json_t *list_param(json_t *params, const char *name)
{
	json_t *v = json_object_get(params, name);
	if (json_is_array(v))
		return json_incref(v);
	if (!json_is_string(v))
		return NULL;
	const char *s = json_string_value(v);
	if (s[0] == '[')
		return json_loads(s, 0, NULL);
	json_t *a = json_array();
	while (*s) {
		size_t n = strcspn(s, ",");
		const char *p = s;
		while (n > 0 && *p == ' ')
			p++, n--;
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (n)
			json_array_append_new(a, json_stringn(p, n));
		s += strcspn(s, ",");
		s += *s == ',';
	}
	return a;
}

static bool truthy(json_t *params, const char *name)
{
	json_t *v = json_object_get(params, name);
	const char *s = json_string_value(v);
	return json_is_true(v) || (json_is_integer(v) && json_integer_value(v)) ||
	       (s && (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0 ||
		      strcasecmp(s, "yes") == 0 || strcasecmp(s, "on") == 0));
}

/* records: a list of at most DG_DS_WRITE_RECORDS objects (new reference). */
static dg_rc records_param(json_t *params, bool required, json_t **out, struct dg_err *err)
{
	json_t *v = list_param(params, "records");
	size_t i;
	json_t *r;
	*out = NULL;
	if (!v && json_object_get(params, "records"))
		return dg_err_field(err, DG_EINVAL, "records", "Records has to be a list of dicts");
	if (!v) {
		if (required)
			return dg_err_field(err, DG_EINVAL, "records", "Missing value");
		return DG_OK;
	}
	if (json_array_size(v) > DG_DS_WRITE_RECORDS) {
		json_decref(v);
		return dg_err_field(err, DG_EINVAL, "records",
				    "At most %d records a call: send them in batches",
				    DG_DS_WRITE_RECORDS);
	}
	json_array_foreach (v, i, r) {
		if (!json_is_object(r)) {
			json_decref(v);
			return dg_err_field(err, DG_EINVAL, "records",
					    "row \"%zu\" is not a json object", i + 1);
		}
	}
	*out = v;
	return DG_OK;
}

/* A type for a field given without one, from the first record's value. */
static dg_rc guess_type(json_t *v, const char *id, enum dg_ds_type *t, struct dg_err *err)
{
	if (json_is_integer(v))
		*t = DG_DS_INT;
	else if (json_is_real(v))
		*t = DG_DS_NUMERIC;
	else if (json_is_boolean(v))
		*t = DG_DS_BOOL;
	else if (json_is_string(v))
		*t = DG_DS_TEXT; /* strict: "007" is a code, not a number */
	else if (json_is_object(v) || json_is_array(v))
		*t = DG_DS_JSON; /* as CKAN guesses a dict */
	else
		return dg_err_field(err, DG_EINVAL, "fields", "\"%.60s\" type not guessable", id);
	return DG_OK;
}

static json_t *field_json(const char *id, enum dg_ds_type t, json_t *info)
{
	json_t *f = json_pack("{s:s, s:s}", "id", id, "type", dg_ds_type_name(t));
	if (json_is_object(info))
		json_object_set(f, "info", info);
	return f;
}

static json_t *find_field(json_t *fields, const char *id)
{
	size_t i;
	json_t *f;
	json_array_foreach (fields, i, f)
		if (strcmp(json_string_value(json_object_get(f, "id")), id) == 0)
			return f;
	return NULL;
}

/* The length of a key met by json_object_foreach (it may hold a NUL). */
static size_t key_len(const char *key)
{
	return json_object_iter_key_len(json_object_key_to_iter(key));
}

/* Add a new column to w->fields (and to the table when it exists). */
static dg_rc add_field(struct wr *w, const char *id, size_t n, enum dg_ds_type t, json_t *info)
{
	const char *why = dg_ds_name_problem(id, n);
	size_t i;
	json_t *f;
	if (why)
		return dg_err_field(w->err, DG_EINVAL, "fields",
				    "\"%.60s\" is not a valid field name: it %s", id, why);
	json_array_foreach (w->fields, i, f)
		if (dg_ds_name_same(json_string_value(json_object_get(f, "id")), id))
			return dg_err_field(w->err, DG_EINVAL, "fields",
					    "Duplicate column names are not supported: \"%.60s\" "
					    "and \"%.60s\" differ only in case",
					    json_string_value(json_object_get(f, "id")), id);
	if (json_array_size(w->fields) >= DG_DS_MAX_COLS)
		return dg_err_field(w->err, DG_EINVAL, "fields", "At most %d fields a table",
				    DG_DS_MAX_COLS);
	if (w->exists) {
		dg_rc rc = dg_ds_sql_add_column(w->db, w->t.table, id, t);
		if (rc != DG_OK)
			return dg_err_set(w->err, rc, "The field \"%.60s\" could not be added", id);
	}
	json_array_append_new(w->fields, field_json(id, t, info));
	return DG_OK;
}

/* Whether field f was in the table before this call (not added by it). */
static bool field_existed(struct wr *w, json_t *f)
{
	size_t i;
	json_t *g;
	json_array_foreach (w->t.fields, i, g)
		if (strcmp(json_string_value(json_object_get(g, "id")),
			   json_string_value(json_object_get(f, "id"))) == 0)
			return w->exists;
	return false;
}

/*
 * Merge the request's fields, then the first record's extra keys, into
 * w->fields. An existing field keeps its type (a different one is refused)
 * and takes a new info.
 */
static dg_rc merge_fields(struct wr *w, json_t *params, json_t *records)
{
	json_t *given = list_param(params, "fields"), *f, *rec0 = json_array_get(records, 0);
	size_t i;
	dg_rc rc = DG_OK;
	if (!w->fields)
		w->fields = json_array();
	if (json_object_get(params, "fields") && !given)
		rc = dg_err_field(w->err, DG_EINVAL, "fields", "fields must be a list of dicts");
	json_array_foreach (given, i, f) {
		const char *id = json_string_value(json_object_get(f, "id"));
		size_t idlen = json_string_length(json_object_get(f, "id"));
		json_t *ty = json_object_get(f, "type"), *info = json_object_get(f, "info");
		enum dg_ds_type t = DG_DS_TEXT;
		if (rc != DG_OK)
			break;
		if (!json_is_object(f) || !id) {
			rc = dg_err_field(w->err, DG_EINVAL, "fields",
					  "each field needs an \"id\" (fields[%zu])", i);
			break;
		}
		if (ty &&
		    (!json_is_string(ty) || dg_ds_type_parse(json_string_value(ty), &t) != DG_OK)) {
			rc = dg_err_field(
				w->err, DG_EINVAL, "fields",
				"\"%.40s\" is not a valid field type (text, int, numeric, "
				"date, timestamp, bool, json, or the CKAN names int4, int8, "
				"float8)",
				json_is_string(ty) ? json_string_value(ty) : "?");
			break;
		}
		json_t *have = find_field(w->fields, id);
		if (have && !field_existed(w, have)) {
			rc = dg_err_field(w->err, DG_EINVAL, "fields",
					  "Duplicate column names are not supported");
			break;
		}
		if (have) {
			const char *old = json_string_value(json_object_get(have, "type"));
			if (ty && strcmp(old, dg_ds_type_name(t)) != 0) {
				rc = dg_err_field(w->err, DG_EINVAL, "fields",
						  "field \"%.60s\" is %s: its type cannot change",
						  id, old);
				break;
			}
			if (json_is_object(info))
				json_object_set(have, "info", info);
			continue;
		}
		if (!ty && (rc = guess_type(json_object_get(rec0, id), id, &t, w->err)) != DG_OK)
			break;
		rc = add_field(w, id, idlen, t, info);
	}
	json_decref(given);
	/* keys of the first record that no field names become fields, as CKAN does */
	const char *key;
	json_t *v;
	json_object_foreach (rec0, key, v) {
		enum dg_ds_type t;
		if (rc != DG_OK)
			break;
		if (strcmp(key, "_id") == 0 || find_field(w->fields, key))
			continue;
		if ((rc = guess_type(v, key, &t, w->err)) == DG_OK)
			rc = add_field(w, key, key_len(key), t, NULL);
	}
	if (rc == DG_OK)
		cols_refresh(w);
	return rc;
}

/* primary_key: a list or "a,b" of existing fields into w->key ("" clears). */
static dg_rc key_param(struct wr *w, json_t *params, bool *given)
{
	json_t *list = list_param(params, "primary_key"), *k;
	struct dg_buf b;
	size_t i;
	dg_rc rc = DG_OK;
	*given = list != NULL;
	if (!list)
		return json_object_get(params, "primary_key") &&
				       !json_is_null(json_object_get(params, "primary_key"))
			       ? dg_err_field(w->err, DG_EINVAL, "primary_key",
					      "primary_key must be a list of field names")
			       : DG_OK;
	if (json_array_size(list) > MAX_KEY_COLS) {
		json_decref(list);
		return dg_err_field(w->err, DG_EINVAL, "primary_key", "At most %d key fields",
				    MAX_KEY_COLS);
	}
	dg_buf_init(&b, sizeof w->key - 1);
	json_array_foreach (list, i, k) {
		const char *id = json_string_value(k);
		if (!id || !find_field(w->fields, id)) {
			rc = dg_err_field(w->err, DG_EINVAL, "primary_key",
					  "The field \"%.60s\" is not a valid column name.",
					  id ? id : "?");
			break;
		}
		if ((rc = dg_buf_addf(&b, "%s%s", i ? "," : "", id)) != DG_OK)
			break;
	}
	if (rc == DG_OK)
		snprintf(w->key, sizeof w->key, "%s", dg_buf_str(&b));
	dg_buf_release(&b);
	json_decref(list);
	return rc;
}

/* Every record's keys are fields (or "_id" when allowed) and its values fit. */
static dg_rc check_records(struct wr *w, json_t *records, bool id_ok)
{
	size_t i;
	json_t *r;
	json_array_foreach (records, i, r) {
		const char *k;
		json_t *v;
		json_object_foreach (r, k, v) {
			const struct dg_ds_col *c = key_len(k) == strlen(k)
							    ? dg_ds_col_find(w->cols, w->ncols, k)
							    : NULL; /* a NUL in the key */
			if (!c || (c == &w->cols[0] && !id_ok))
				return dg_err_field(w->err, DG_EINVAL, "records",
						    "row \"%zu\" has extra keys \"%.60s\"", i + 1,
						    k);
			dg_rc rc = bind(w, c, v, i);
			args_clear(w);
			if (rc != DG_OK)
				return rc;
		}
	}
	return DG_OK;
}

/* ---- statements ---- */

/* The table's columns, "_id" first, as a select list: ' "_id", "a", ...'. */
static dg_rc add_columns(struct dg_buf *b, const struct dg_ds_col *cols, size_t n)
{
	dg_rc rc = DG_OK;
	for (size_t i = 0; rc == DG_OK && i < n; i++)
		rc = dg_buf_addf(b, "%s\"%s\"", i ? ", " : " ", cols[i].id);
	return rc;
}

/* The index in out of the record whose "_id" is id's, or -1. */
static long same_row(json_t *out, json_t *id)
{
	size_t i;
	json_t *rec;
	json_array_foreach (out, i, rec)
		if (json_equal(json_object_get(rec, "_id"), id))
			return (long)i;
	return -1;
}

/*
 * The current row of rows (add_columns' order) appended to out as a
 * record. With once, a row already in out (updated twice in one call) is
 * replaced there by its later state, as CKAN lists it once.
 */
static void row_into(struct dg_rows *rows, const struct dg_ds_col *cols, size_t n, json_t *out,
		     bool once)
{
	json_t *rec = json_object();
	for (size_t i = 0; i < n; i++)
		json_object_set_new(rec, cols[i].id, dg_ds_value_json(rows, (int)i, cols[i].type));
	long at = once ? same_row(out, json_object_get(rec, "_id")) : -1;
	if (at >= 0)
		json_array_set_new(out, (size_t)at, rec);
	else
		json_array_append_new(out, rec);
}

/*
 * Run the INSERT or UPDATE in w->sql, RETURNING the rows as stored: each is
 * indexed again for q (fts.h) and, with include_records, kept in
 * w->stored. *changed (may be NULL) gets the rows written.
 */
static dg_rc run_write(struct wr *w, int64_t *changed)
{
	struct dg_rows *rows = NULL;
	int64_t n = 0;
	dg_rc rc = dg_buf_adds(&w->sql, " RETURNING");
	if (rc == DG_OK)
		rc = add_columns(&w->sql, w->cols, w->ncols);
	if (rc == DG_OK)
		rc = dg_db_query(w->db, dg_buf_str(&w->sql), w->args, w->nargs, &rows);
	while (rc == DG_OK && (rc = dg_rows_next(rows)) == DG_OK) {
		n++;
		rc = dg_ds_fts_put(w->db, w->t.table, w->cols, w->ncols, rows);
		/* only an UPDATE can meet a row again: a new row has a new _id */
		if (rc == DG_OK && w->stored)
			row_into(rows, w->cols, w->ncols, w->stored, changed != NULL);
	}
	if (rc == DG_ENOTFOUND)
		rc = DG_OK;
	dg_rows_free(rows);
	if (changed)
		*changed = n;
	return rc;
}

static dg_rc insert_record(struct wr *w, json_t *rec, size_t row)
{
	const char *k;
	json_t *v;
	size_t n = 0;
	args_clear(w);
	dg_rc rc = dg_buf_addf(&w->sql, "INSERT INTO \"%s\" (", w->t.table);
	json_object_foreach (rec, k, v) {
		if (rc != DG_OK)
			break;
		if (strcmp(k, "_id") == 0)
			continue; /* a new row gets a new _id */
		if ((rc = dg_buf_addf(&w->sql, "%s\"%s\"", n++ ? ", " : "", k)) == DG_OK)
			rc = bind(w, dg_ds_col_find(w->cols, w->ncols, k), v, row);
	}
	if (rc != DG_OK)
		return rc;
	if (n == 0) { /* an empty record is a row of NULLs */
		dg_buf_reset(&w->sql);
		rc = dg_buf_addf(&w->sql, "INSERT INTO \"%s\" DEFAULT VALUES", w->t.table);
	} else {
		rc = dg_buf_adds(&w->sql, ") VALUES (");
		for (size_t i = 0; rc == DG_OK && i < n; i++)
			rc = dg_buf_adds(&w->sql, i ? ", ?" : "?");
		if (rc == DG_OK)
			rc = dg_buf_addc(&w->sql, ')');
	}
	if (rc == DG_OK)
		rc = run_write(w, NULL);
	if (rc == DG_OK)
		w->added++;
	return rc;
}

/* The key columns a record is matched by: "_id" when it has one, else the primary key. */
static dg_rc record_key(struct wr *w, json_t *rec, size_t row, const char *names[MAX_KEY_COLS],
			size_t *n)
{
	*n = 0;
	if (json_object_get(rec, "_id")) {
		names[(*n)++] = "_id";
		return DG_OK;
	}
	if (!w->key[0])
		return dg_err_field(w->err, DG_EINVAL, "table",
				    "unique key must be passed for update/upsert");
	for (const char *p = w->key; *p && *n < MAX_KEY_COLS;) {
		size_t len = strcspn(p, ",");
		const struct dg_ds_col *c = NULL;
		for (size_t i = 1; i < w->ncols; i++)
			if (strlen(w->cols[i].id) == len && strncmp(w->cols[i].id, p, len) == 0)
				c = &w->cols[i];
		if (!c)
			return dg_err_set(w->err, DG_EDB, "The stored key names no field");
		json_t *v = json_object_get(rec, c->id);
		if (!v || json_is_null(v))
			return dg_err_field(w->err, DG_EINVAL, "key",
					    "row %zu: fields \"%s\" are missing but needed as key",
					    row + 1, w->key);
		names[(*n)++] = c->id;
		p += len + (p[len] == ',');
	}
	return DG_OK;
}

/* UPDATE the row the record's key names; *changed gets how many rows matched. */
static dg_rc update_record(struct wr *w, json_t *rec, size_t row, int64_t *changed)
{
	const char *keys[MAX_KEY_COLS], *k;
	size_t nkeys = 0, n = 0;
	json_t *v;
	args_clear(w);
	dg_rc rc = record_key(w, rec, row, keys, &nkeys);
	if (rc == DG_OK)
		rc = dg_buf_addf(&w->sql, "UPDATE \"%s\" SET ", w->t.table);
	json_object_foreach (rec, k, v) {
		if (rc != DG_OK)
			break;
		if (strcmp(k, "_id") == 0)
			continue;
		if ((rc = dg_buf_addf(&w->sql, "%s\"%s\" = ?", n++ ? ", " : "", k)) == DG_OK)
			rc = bind(w, dg_ds_col_find(w->cols, w->ncols, k), v, row);
	}
	if (rc == DG_OK && n == 0) /* only the key: match it without changing anything */
		rc = dg_buf_adds(&w->sql, "\"_id\" = \"_id\"");
	if (rc == DG_OK)
		rc = dg_buf_adds(&w->sql, " WHERE ");
	for (size_t i = 0; rc == DG_OK && i < nkeys; i++) {
		if ((rc = dg_buf_addf(&w->sql, "%s\"%s\" = ?", i ? " AND " : "", keys[i])) == DG_OK)
			rc = bind(w, dg_ds_col_find(w->cols, w->ncols, keys[i]),
				  json_object_get(rec, keys[i]), row);
	}
	if (rc == DG_OK)
		rc = run_write(w, changed);
	return rc;
}

/* Map what the store said about a write to CKAN's errors. */
static dg_rc store_err(struct wr *w, dg_rc rc)
{
	if (rc == DG_OK || w->err->rc != DG_OK)
		return rc;
	if (dg_db_timed_out(w->db))
		return dg_err_field(w->err, DG_EINVAL, "query", "Query took too long");
	if (rc == DG_ECONFLICT)
		return dg_err_field(w->err, DG_EINVAL, "constraints",
				    "Cannot insert records or create index because of uniqueness "
				    "constraint");
	return dg_err_set(w->err, rc, "The DataStore could not be written");
}

static dg_rc finish(struct wr *w, dg_rc rc, bool keep)
{
	rc = store_err(w, rc);
	if (rc == DG_OK && keep)
		rc = store_err(w, dg_db_commit(w->db));
	else
		dg_db_rollback(w->db);
	return rc;
}

static json_t *fields_out(struct wr *w)
{
	return dg_ds_fields_answer(w->fields);
}

static json_t *key_out(const char *key)
{
	json_t *a = json_array();
	for (const char *p = key; *p;) {
		size_t n = strcspn(p, ",");
		json_array_append_new(a, json_stringn(p, n));
		p += n + (p[n] == ',');
	}
	return a;
}

/* ---- the actions ---- */

static dg_rc unsupported(json_t *params, struct dg_err *err)
{
	static const char *const keys[] = {"aliases", "triggers", "resource", "delete_fields"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		json_t *v = json_object_get(params, keys[i]);
		if (v && !json_is_null(v) && !json_is_false(v) &&
		    !(json_is_array(v) && json_array_size(v) == 0))
			return dg_err_field(
				err, DG_EINVAL, keys[i],
				strcmp(keys[i], "resource") == 0
					? "Create the resource with resource_create first, "
					  "then pass its resource_id"
					: "Not supported by this DataStore");
	}
	return DG_OK;
}

/* A new table: created, keyed and registered inside the transaction. */
static dg_rc create_table(struct wr *w)
{
	size_t n = json_array_size(w->fields);
	char(*names)[DG_DS_NAME_MAX] = dg_xcalloc(n + 1, sizeof *names);
	enum dg_ds_type *types = dg_xcalloc(n + 1, sizeof *types);
	char old[DG_DS_TABLE_MAX];
	dg_rc rc;
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], DG_DS_NAME_MAX, "%s", w->cols[i + 1].id);
		types[i] = w->cols[i + 1].type;
	}
	dg_ds_table_name(w->rid, 0, w->t.table);
	rc = dg_ds_sql_drop(w->db, w->t.table); /* a leftover of nothing in force */
	if (rc == DG_OK)
		rc = dg_ds_sql_create(w->db, w->t.table, n, names, types);
	if (rc == DG_OK)
		rc = dg_ds_fts_create(w->db, w->t.table);
	if (rc == DG_OK)
		rc = dg_ds_sql_switch(w->db, w->rid, w->t.table, w->fields, 0, NULL, old);
	if (rc == DG_OK && old[0] && strcmp(old, w->t.table) != 0)
		rc = dg_ds_sql_drop(w->db, old);
	w->exists = rc == DG_OK;
	free(names);
	free(types);
	return rc;
}

dg_rc dg_ds_create(struct dg_db *db, const char *rid, json_t *params, json_t **result,
		   struct dg_err *err)
{
	struct wr w;
	json_t *records = NULL;
	bool key_given = false, existed = false;
	dg_rc rc;
	*result = NULL;
	wr_init(&w, db, rid, err);
	if ((rc = unsupported(params, err)) != DG_OK ||
	    (rc = records_param(params, false, &records, err)) != DG_OK)
		goto out;
	if (truthy(params, "include_records"))
		w.stored = json_array();
	if ((rc = dg_db_begin(db)) != DG_OK) {
		rc = dg_err_set(err, rc, "The store is not available");
		goto out;
	}
	if ((rc = lock_table(&w)) == DG_OK)
		existed = w.exists;
	if (rc == DG_OK)
		rc = merge_fields(&w, params, records);
	if (rc == DG_OK)
		rc = key_param(&w, params, &key_given);
	if (rc == DG_OK)
		rc = check_records(&w, records, false);
	if (rc == DG_OK && !existed)
		rc = create_table(&w);
	if (rc == DG_OK && (key_given || !existed) && strcmp(w.key, w.t.primary_key) != 0)
		rc = dg_ds_sql_unique(db, w.t.table, w.key);
	for (size_t i = 0; rc == DG_OK && i < json_array_size(records); i++)
		rc = insert_record(&w, json_array_get(records, i), i);
	if (rc == DG_OK)
		rc = dg_ds_sql_set_schema(db, rid, w.fields, w.key);
	if (rc == DG_OK)
		rc = dg_ds_sql_count_add(db, rid, w.added);
	if ((rc = finish(&w, rc, true)) != DG_OK)
		goto out;
	*result = json_pack("{s:s, s:o, s:s}", "resource_id", rid, "fields", fields_out(&w),
			    "method", "insert");
	if (w.key[0])
		json_object_set_new(*result, "primary_key", key_out(w.key));
	if (records && w.stored)
		json_object_set(*result, "records", w.stored);
out:
	json_decref(records);
	wr_release(&w);
	return rc;
}

dg_rc dg_ds_upsert(struct dg_db *db, const char *rid, json_t *params, json_t **result,
		   struct dg_err *err)
{
	struct wr w;
	json_t *records = NULL;
	const char *method = json_string_value(json_object_get(params, "method"));
	dg_rc rc;
	*result = NULL;
	wr_init(&w, db, rid, err);
	if (!method)
		method = "upsert";
	if (strcmp(method, "upsert") != 0 && strcmp(method, "insert") != 0 &&
	    strcmp(method, "update") != 0) {
		rc = dg_err_field(err, DG_EINVAL, "method",
				  "\"%.20s\" is not one of upsert, insert, update", method);
		goto out;
	}
	if ((rc = records_param(params, true, &records, err)) != DG_OK)
		goto out;
	if (truthy(params, "include_records"))
		w.stored = json_array();
	if ((rc = dg_db_begin(db)) != DG_OK) {
		rc = dg_err_set(err, rc, "The store is not available");
		goto out;
	}
	if ((rc = lock_table(&w)) == DG_OK && !w.exists)
		rc = dg_err_set(err, DG_ENOTFOUND, "Resource \"%.100s\" was not found.", rid);
	if (rc == DG_OK)
		rc = check_records(&w, records, strcmp(method, "insert") != 0);
	for (size_t i = 0; rc == DG_OK && i < json_array_size(records); i++) {
		json_t *rec = json_array_get(records, i);
		int64_t changed = 0;
		if (strcmp(method, "insert") == 0) {
			rc = insert_record(&w, rec, i);
			continue;
		}
		if ((rc = update_record(&w, rec, i, &changed)) != DG_OK || changed > 0)
			continue;
		if (strcmp(method, "update") == 0)
			rc = dg_err_field(err, DG_EINVAL, "key", "row %zu: key not found", i + 1);
		else
			rc = insert_record(&w, rec, i);
	}
	if (rc == DG_OK)
		rc = dg_ds_sql_count_add(db, rid, w.added);
	if ((rc = finish(&w, rc, !truthy(params, "dry_run"))) != DG_OK)
		goto out;
	*result = json_pack("{s:s, s:s}", "resource_id", rid, "method", method);
	if (w.stored)
		json_object_set(*result, "records", w.stored);
out:
	json_decref(records);
	wr_release(&w);
	return rc;
}

/*
 * include_deleted_records: the rows the filters match, read inside the
 * delete's transaction (writers of the table wait on its lock, so they are
 * the rows the DELETE removes), the first DG_DS_MAX_LIMIT in "_id" order as
 * CKAN caps them at its rows_max.
 */
static dg_rc deleted_rows(struct wr *w, const struct dg_ds_where *where)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_buf_adds(&w->sql, "SELECT");
	if (rc == DG_OK)
		rc = add_columns(&w->sql, w->cols, w->ncols);
	if (rc == DG_OK)
		rc = dg_buf_addf(&w->sql, " FROM \"%s\"%s ORDER BY \"_id\" LIMIT %d", w->t.table,
				 dg_buf_str(&where->sql), DG_DS_MAX_LIMIT);
	if (rc == DG_OK)
		rc = dg_db_query(w->db, dg_buf_str(&w->sql), where->args, where->nargs, &rows);
	w->stored = json_array();
	while (rc == DG_OK && (rc = dg_rows_next(rows)) == DG_OK)
		row_into(rows, w->cols, w->ncols, w->stored, false);
	if (rc == DG_ENOTFOUND)
		rc = DG_OK;
	dg_rows_free(rows);
	dg_buf_reset(&w->sql);
	return rc;
}

dg_rc dg_ds_delete(struct dg_db *db, const char *rid, json_t *params, bool rows_only,
		   json_t **result, struct dg_err *err)
{
	struct wr w;
	struct dg_ds_where where;
	json_t *filters = json_object_get(params, "filters");
	bool whole = !filters && !rows_only; /* a null is a mistake, not "no filters" */
	dg_rc rc;
	int64_t n = 0;
	*result = NULL;
	wr_init(&w, db, rid, err);
	dg_ds_where_init(&where);
	if (rows_only && !filters) {
		rc = dg_err_field(err, DG_EINVAL, "filters", "Missing value");
		goto out;
	}
	/* an empty selection must never widen into every row */
	if (!whole && (rc = dg_ds_filters_narrow(filters, err)) != DG_OK)
		goto out;
	if ((rc = dg_db_begin(db)) != DG_OK) {
		rc = dg_err_set(err, rc, "The store is not available");
		goto out;
	}
	if ((rc = lock_table(&w)) == DG_OK && !w.exists)
		rc = dg_err_set(err, DG_ENOTFOUND, "Resource \"%.100s\" was not found.", rid);
	if (rc == DG_OK && whole) {
		rc = dg_ds_sql_drop(db, w.t.table);
		if (rc == DG_OK)
			rc = dg_ds_sql_forget(db, rid);
	} else if (rc == DG_OK) {
		rc = dg_ds_where_filters(&where, w.cols, w.ncols, filters, err);
		if (rc == DG_OK && truthy(params, "include_deleted_records"))
			rc = deleted_rows(&w, &where);
		if (rc == DG_OK)
			rc = dg_ds_fts_unindex(db, w.t.table, dg_buf_str(&where.sql), where.args,
					       where.nargs);
		if (rc == DG_OK)
			rc = dg_buf_addf(&w.sql, "DELETE FROM \"%s\"%s", w.t.table,
					 dg_buf_str(&where.sql));
		if (rc == DG_OK)
			rc = dg_db_exec(db, dg_buf_str(&w.sql), where.args, where.nargs, &n);
		if (rc == DG_OK)
			rc = dg_ds_sql_count_add(db, rid, -n);
	}
	if ((rc = finish(&w, rc, true)) != DG_OK)
		goto out;
	*result = json_pack("{s:s}", "resource_id", rid);
	if (!whole)
		json_object_set_new(*result, "filters",
				    json_is_string(filters)
					    ? json_loads(json_string_value(filters), 0, NULL)
					    : json_incref(filters));
	json_object_set_new(*result, "deleted", json_integer(whole ? w.t.row_count : n));
	if (w.stored)
		json_object_set(*result, "deleted_records", w.stored);
out:
	dg_ds_where_release(&where);
	wr_release(&w);
	return rc;
}
