/*
 * actions.c - the DataStore's entry points (datastore.h): the CKAN
 * datastore_* actions, who may read or write a table, and the load's
 * queueing. The work is in core/csv.c (reading), infer.c (types and
 * names), load.c (the job), search.c (queries), write.c (writes), sqlq.c
 * (search_sql's checker) and sql.c (statements).
 */
#include "opendata/datastore/datastore_int.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "node/env.h"
#include "opendata/access/access.h"
#include "web/page.h"
#include "core/failpoint.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/str.h"
#include "jobs/jobs.h"
#include "opendata/access/access.h"
#include "opendata/base/base.h"
#include "opendata/datastore/sqlq.h"

#define MAX_RESOURCE_ID 200

static dg_rc resource_param(json_t *params, const char **id, struct dg_err *err)
{
	json_t *v = json_object_get(params, "resource_id");
	if (!v)
		v = json_object_get(params, "id");
	*id = json_string_value(v);
	if (!*id || !**id)
		return dg_err_field(err, DG_EINVAL, "resource_id", "Missing value");
	if (strlen(*id) > MAX_RESOURCE_ID)
		return dg_err_field(err, DG_EINVAL, "resource_id", "Too long");
	return DG_OK;
}

static dg_rc table_of(struct dg_db *db, const char *id, struct dg_ds_table *t, struct dg_err *err)
{
	dg_rc rc = dg_ds_sql_lookup(db, id, t);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, DG_ENOTFOUND, "Resource \"%.100s\" was not found.", id);
	if (rc != DG_OK)
		return dg_err_set(err, rc, "The store is not available");
	return DG_OK;
}

/* dg_datastore_check, saying in *again whether the read rests on the dataset staying open. */
static dg_rc check(struct dg_req *r, struct dg_db *db, const char *resource_id, bool write,
		   bool force, bool *again, struct dg_err *err)
{
	struct dg_ds_owner o;
	bool owner = false;
	*again = false;
	/* a private staging table (dg_datastore_stage) is nobody's to read or write */
	if (strncmp(resource_id, DG_DS_STAGE_PREFIX, strlen(DG_DS_STAGE_PREFIX)) == 0)
		return dg_err_set(err, DG_ENOTFOUND, "Resource \"%.100s\" was not found.",
				  resource_id);
	dg_rc rc = dg_ds_sql_resource(db, resource_id, r->arena, &o);
	if (rc == DG_ENOTFOUND && !write)
		return DG_OK; /* a table loaded for no catalogue resource: public, as loaded */
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, rc, "Resource \"%.100s\" was not found.", resource_id);
	const char *mine = NULL;
	if (rc == DG_OK)
		rc = dg_od_writer(r, db, false, &mine);
	if (rc != DG_OK)
		return dg_err_set(err, rc, "The store is not available");
	owner = dg_od_may_edit(mine, o.dept);
	/* writes only over an API token: these routes take no CSRF token */
	if (write && !(r->user && r->user->via_token))
		owner = false;
	if (!owner && !o.visible) /* closed or private: absent to whoever may not write it */
		return dg_err_set(err, DG_ENOTFOUND, "Resource \"%.100s\" was not found.",
				  resource_id);
	*again = !owner;
	if (!write) /* conditional data: only with a grant, to all but its department */
		return owner ? DG_OK : dg_od_access_rows(r, db, resource_id, err);
	if (!owner)
		return dg_err_set(
			err, DG_EDENIED,
			"Access denied: User %.60s not authorized to update resource %.100s",
			r->user ? r->user->username : "anonymous", resource_id);
	if (!force && strcmp(o.url_type, "datastore") != 0)
		return dg_err_field(err, DG_EINVAL, "read-only",
				    "Cannot edit read-only resource. Either pass \"force=True\" or "
				    "change url_type to \"datastore\"");
	return DG_OK;
}

dg_rc dg_datastore_check(struct dg_req *r, struct dg_db *db, const char *resource_id, bool write,
			 bool force, struct dg_err *err)
{
	bool again;
	return check(r, db, resource_id, write, force, &again, err);
}

dg_rc dg_ds_check_read(struct dg_req *r, struct dg_db *db, const char *resource_id, bool *again,
		       struct dg_err *err)
{
	return check(r, db, resource_id, false, false, again, err);
}

dg_rc dg_ds_still_open(struct dg_db *db, const char *resource_id, int64_t app_id, bool *open)
{
	struct dg_ds_owner o;
	dg_rc rc = dg_ds_sql_resource(db, resource_id, NULL, &o);
	*open = rc == DG_OK && o.visible;
	if (rc == DG_ENOTFOUND) /* deleted since */
		rc = DG_OK;
	if (rc == DG_OK && *open)
		rc = dg_od_rows_open_to(db, resource_id, app_id, open);
	return rc;
}

static dg_rc action_search(struct dg_db *db, const char *id, json_t *params, json_t **result,
			   struct dg_err *err)
{
	struct dg_ds_table t = {0};
	dg_rc rc = table_of(db, id, &t, err);
	if (rc == DG_OK)
		rc = dg_ds_search(db, id, &t, params, result, err);
	json_decref(t.fields);
	return rc;
}

static dg_rc action_info(struct dg_db *db, const char *id, json_t **result, struct dg_err *err)
{
	struct dg_ds_table t = {0};
	dg_rc rc = table_of(db, id, &t, err);
	if (rc != DG_OK)
		goto out;
	json_t *fields = json_array();
	json_array_append_new(fields, json_pack("{s:s, s:s}", "id", "_id", "type", "int"));
	json_t *answered = dg_ds_fields_answer(t.fields);
	json_array_extend(fields, answered);
	json_decref(answered);
	*result = json_pack("{s:{s:I, s:s, s:s}, s:o}", "meta", "count", (json_int_t)t.row_count,
			    "table_type", "BASE TABLE", "id", id, "fields", fields);
	if (t.primary_key[0])
		json_object_set_new(json_object_get(*result, "meta"), "primary_key",
				    json_string(t.primary_key));
out:
	json_decref(t.fields);
	return rc;
}

static dg_rc check_options(json_t *options, struct dg_err *err);

/* datastore_load (see dg_datastore_reload). */
static dg_rc action_load(struct dg_db *db, const struct dg_user *u, const char *id, json_t *params,
			 json_t **result, struct dg_err *err)
{
	return dg_datastore_reload(db, u ? u->id : 0, id, params, result, err);
}

dg_rc dg_datastore_reload(struct dg_db *db, int64_t user_id, const char *id, json_t *params,
			  json_t **result, struct dg_err *err)
{
	json_t *report = NULL, *opts = NULL;
	json_t *types = json_object_get(params, "types"),
	       *strict = json_object_get(params, "strict");
	const char *key;
	json_t *v;
	int64_t job = 0;
	dg_rc rc = dg_ds_sql_report(db, id, &report);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, rc, "Resource \"%.100s\" was not found.", id);
	if (rc != DG_OK)
		return dg_err_set(err, rc, "The store is not available");
	json_t *source = json_object_get(report, "source");
	const char *path = json_string_value(json_object_get(source, "path"));
	if (!path) {
		rc = dg_err_field(
			err, DG_EINVAL, "resource_id",
			"This table was not loaded from a file: there is nothing to reload");
		goto out;
	}
	if ((types && !json_is_object(types)) || (strict && !json_is_boolean(strict))) {
		rc = dg_err_field(err, DG_EINVAL,
				  types && !json_is_object(types) ? "types" : "strict",
				  types && !json_is_object(types) ? "types must be an object"
								  : "strict must be true or false");
		goto out;
	}
	opts = json_object_get(source, "options");
	opts = json_is_object(opts) ? json_deep_copy(opts) : json_object();
	if (!json_is_object(json_object_get(opts, "types")))
		json_object_set_new(opts, "types", json_object());
	json_object_foreach (types, key, v) {
		if (json_is_null(v))
			json_object_del(json_object_get(opts, "types"), key);
		else
			json_object_set(json_object_get(opts, "types"), key, v);
	}
	if (strict)
		json_object_set(opts, "strict", strict);
	if ((rc = check_options(opts, err)) != DG_OK)
		goto out;
	if ((rc = dg_datastore_load_enqueue(db, id, path, opts, user_id, &job)) != DG_OK) {
		rc = dg_err_set(err, rc, "The load could not be queued");
		goto out;
	}
	*result = json_pack("{s:s, s:I, s:O}", "resource_id", id, "job_id", (json_int_t)job,
			    "options", opts);
out:
	json_decref(report);
	json_decref(opts);
	return rc;
}

static _Atomic unsigned read_budget_ms = DG_DS_READ_MS;

void dg_datastore_set_budget_ms(unsigned ms)
{
	read_budget_ms = ms ? ms : DG_DS_READ_MS;
}

/* The actions on one resource's table (all but search_sql); the writes come after A_INFO. */
enum act { A_SEARCH, A_INFO, A_CREATE, A_UPSERT, A_DELETE, A_RECORDS_DELETE, A_LOAD };

static dg_rc run(struct dg_req *r, struct dg_db *db, enum act a, const char *id, json_t *params,
		 json_t **result, struct dg_err *err)
{
	switch (a) {
	case A_LOAD: return action_load(db, r->user, id, params, result, err);
	case A_SEARCH: return action_search(db, id, params, result, err);
	case A_INFO: return action_info(db, id, result, err);
	case A_CREATE: return dg_ds_create(db, id, params, result, err);
	case A_UPSERT: return dg_ds_upsert(db, id, params, result, err);
	case A_DELETE: return dg_ds_delete(db, id, params, false, result, err);
	default: return dg_ds_delete(db, id, params, true, result, err);
	}
}

/* ---- datastore_search_sql ---- */

#define SQL_ROWS  32000       /* CKAN's most records of one call */
#define SQL_BYTES (32u << 20) /* and dgov's most text: the rest is cut, records_truncated */

/*
 * search_sql statements running at once, server-wide. Each holds a store
 * connection for up to the read budget; the pool's other connections stay
 * for everything else, which never waits behind search_sql (past the cap
 * the answer is at once "busy", not a wait for a connection).
 */
#define SQL_AT_ONCE   2
#define SQL_VALUE_MAX (4 << 20) /* bytes of one string or blob a statement builds */
static atomic_int sql_running;

struct sql_ctx {
	struct dg_req *r;
	struct dg_db *db;
};

/* A table of the statement: readable by the asker as datastore_search is (sqlq.h). */
static dg_rc sql_table(void *ctx, const char *id, char table[DG_DS_TABLE_MAX], struct dg_err *err)
{
	struct sql_ctx *c = ctx;
	struct dg_ds_table t;
	if (strlen(id) > MAX_RESOURCE_ID)
		return dg_err_field(err, DG_EINVAL, "sql", "A resource id is too long");
	dg_rc rc = dg_datastore_check(c->r, c->db, id, false, false, err);
	if (rc == DG_OK)
		rc = table_of(c->db, id, &t, err);
	if (rc == DG_OK) {
		snprintf(table, DG_DS_TABLE_MAX, "%s", t.table);
		json_decref(t.fields);
	}
	return rc;
}

/* One value as JSON by its kind in the store (a number too big for a double stays text). */
static json_t *sql_value(struct dg_rows *rows, int i, size_t *bytes)
{
	switch (dg_rows_vtype(rows, i)) {
	case DG_V_NULL: return json_null();
	case DG_V_INT: return json_integer(dg_rows_int(rows, i));
	case DG_V_REAL: {
		double d = dg_rows_real(rows, i);
		if (isfinite(d))
			return json_real(d);
	} /* fall through */
	default: {
		const char *t = dg_rows_text(rows, i);
		json_t *v = json_string(t); /* NULL: not UTF-8 (a blob) */
		*bytes += strlen(t);
		return v ? v : json_null();
	}
	}
}

static dg_rc sql_rows(struct dg_db *db, const char *sql, json_t *res, struct dg_err *err)
{
	struct dg_rows *rows = NULL;
	/* a user's SQL: not kept among the connection's prepared statements */
	dg_rc rc = dg_db_query_once(db, sql, DG_NOARGS, &rows);
	json_t *records = json_array(), *fields = json_array();
	size_t n = 0, bytes = 0;
	bool cut = false;
	if (rc != DG_OK)
		goto out;
	while ((rc = dg_rows_next(rows)) == DG_OK) {
		if (n == SQL_ROWS || bytes > SQL_BYTES) {
			cut = true;
			break;
		}
		json_t *rec = json_object();
		for (int i = 0; i < dg_rows_ncols(rows); i++) {
			if (n == 0) {
				enum dg_vtype k = dg_rows_vtype(rows, i);
				json_array_append_new(fields,
						      json_pack("{s:s, s:s}", "id",
								dg_rows_colname(rows, i), "type",
								k == DG_V_INT    ? "int8"
								: k == DG_V_REAL ? "numeric"
										 : "text"));
			}
			json_object_set_new(rec, dg_rows_colname(rows, i),
					    sql_value(rows, i, &bytes));
		}
		json_array_append_new(records, rec);
		n++;
	}
	if (rc == DG_ENOTFOUND || cut)
		rc = DG_OK;
out:
	dg_rows_free(rows);
	if (rc == DG_OK) {
		json_object_set_new(res, "records", records);
		json_object_set_new(res, "fields", fields);
		if (cut)
			json_object_set_new(res, "records_truncated", json_true());
		return DG_OK;
	}
	json_decref(records);
	json_decref(fields);
	if (rc == DG_ETOOBIG) /* SQLite's length limit (SQL_VALUE_MAX) while search_sql runs */
		return dg_err_field(err, DG_EINVAL, "sql",
				    "A value this statement makes is over the %d MiB a value may "
				    "have in datastore_search_sql: select a part of it (substr, "
				    "length), or read the rows with datastore_search",
				    SQL_VALUE_MAX >> 20);
	return rc == DG_EDB ? dg_err_field(err, DG_EINVAL, "sql", "The store refused the statement")
			    : rc;
}

/* The setting that turns the action on: od_access_settings "search_sql" (0 or absent: off). */
static dg_rc sql_on(struct dg_db *db, bool *on)
{
	int64_t v = 0;
	dg_rc rc = dg_db_query_int(
		db, "SELECT value FROM od_access_settings WHERE key = 'search_sql'", DG_NOARGS, &v);
	*on = rc == DG_OK && v != 0;
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

/*
 * datastore_search_sql: off unless an administrator turns it on; then one
 * SELECT checked by sqlq.c, its tables resolved as datastore_search
 * allows, run on a connection of its own, read-only (PostgreSQL: a READ
 * ONLY transaction; SQLite: query_only) and under the read budget.
 */
static dg_rc search_sql(struct dg_req *r, json_t *params, json_t **result, struct dg_err *err)
{
	struct dg_db *db = NULL;
	struct dg_buf checked, run;
	bool on = false;
	dg_rc rc = dg_req_db(r, &db);
	if (rc == DG_OK)
		rc = sql_on(db, &on);
	if (rc != DG_OK)
		return dg_err_set(err, rc, "The store is not available");
	if (!on)
		return dg_err_set(err, DG_EDENIED,
				  "datastore_search_sql is turned off on this site");
	json_t *sql = json_object_get(params, "sql");
	if (!json_is_string(sql))
		return dg_err_field(err, DG_EINVAL, "sql", "Missing value");
	dg_buf_init(&checked, DG_DS_SQLQ_MAX * 2);
	dg_buf_init(&run, DG_DS_SQLQ_MAX * 2 + 128);
	struct sql_ctx ctx = {r, db};
	rc = dg_ds_sqlq_check(json_string_value(sql), json_string_length(sql), sql_table, &ctx,
			      &checked, err);
	if (rc == DG_OK)
		rc = dg_buf_addf(&run, "SELECT * FROM (%s) AS dgov_sql LIMIT %d",
				 dg_buf_str(&checked), SQL_ROWS + 1);
	if (rc != DG_OK)
		goto out;
	/* with two HTTP threads or fewer, one: a thread stays for the rest */
	int at_once = r->env->cfg->threads > 2 ? SQL_AT_ONCE : 1;
	if (atomic_fetch_add(&sql_running, 1) >= at_once) {
		atomic_fetch_sub(&sql_running, 1);
		dg_od_limit_headers(r, "search_sql_at_once", at_once, 0, 5);
		rc = dg_err_set(err, DG_ELOCKED,
				"Too many SQL searches are running (search_sql_at_once: %d): try"
				" again in a few seconds",
				at_once);
		goto out;
	}
	/* a test holds a running search here (failpoint.h) */
	if ((rc = dg_failpoint_hit("datastore.sql.run")) != DG_OK ||
	    (rc = dg_db_get(r->env->store, &db)) != DG_OK) {
		atomic_fetch_sub(&sql_running, 1);
		rc = dg_err_set(err, rc, "The store is busy: try again");
		goto out;
	}
	bool pg = dg_db_kind(db) == DG_STORE_PG;
	/* no value of one statement longer than a reply may hold (sqlq.c keeps
	 * out the functions that multiply a string; this bounds the rest) */
	(void)dg_db_set_value_max(db, SQL_VALUE_MAX);
	rc = dg_db_set_timeout_ms(db, read_budget_ms);
	if (rc == DG_OK)
		rc = pg ? dg_db_begin(db)
			: dg_db_exec(db, "PRAGMA query_only = 1", DG_NOARGS, NULL);
	if (rc == DG_OK && pg)
		rc = dg_db_exec(db, "SET TRANSACTION READ ONLY", DG_NOARGS, NULL);
	if (rc != DG_OK) {
		rc = dg_err_set(err, rc, "The store is not available");
	} else {
		*result = json_pack("{s:s}", "sql", json_string_value(sql));
		rc = sql_rows(db, dg_buf_str(&run), *result, err);
		if (rc != DG_OK && dg_db_timed_out(db)) {
			memset(err, 0, sizeof *err);
			rc = dg_err_field(err, DG_EINVAL, "query", "Search took too long");
		}
	}
	if (pg)
		dg_db_rollback(db);
	else if (dg_db_exec(db, "PRAGMA query_only = 0", DG_NOARGS, NULL) != DG_OK)
		dg_warn("datastore_search_sql: a connection stays read-only");
	if (dg_db_set_timeout_ms(db, 0) != DG_OK && rc == DG_OK)
		rc = dg_err_set(err, DG_EDB, "The store is not available");
	(void)dg_db_set_value_max(db, 0);
	dg_db_put(db);
	atomic_fetch_sub(&sql_running, 1);
	if (rc != DG_OK) {
		json_decref(*result);
		*result = NULL;
	}
out:
	dg_buf_release(&checked);
	dg_buf_release(&run);
	return rc;
}

/*
 * datastore_search on "_table_metadata": CKAN's listing of the DataStore's
 * tables, {_id, name, oid, alias_of} a row, name being the resource id. Only
 * the tables the asker may read are listed (as datastore_search would
 * answer them), by resource id; dgov has no aliases (alias_of is null) and
 * no PostgreSQL oids to show (oid is null); _id is the hash in the table's
 * name. limit, offset and include_total as datastore_search; filters, q,
 * sort and fields are refused (409), not ignored.
 */
static dg_rc table_metadata(struct dg_req *r, struct dg_db *db, json_t *params, json_t **result,
			    struct dg_err *err)
{
	static const char *const refused[] = {"filters", "q", "sort", "fields", "distinct"};
	struct dg_rows *rows = NULL;
	long long limit = 0, offset = 0, total = 0;
	json_t *v;
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
		if ((v = json_object_get(params, refused[i])) && !json_is_null(v))
			return dg_err_field(err, DG_EINVAL, refused[i],
					    "Not supported on _table_metadata");
	bool with_total = true;
	dg_rc rc = dg_ds_paging(params, &limit, &offset, &with_total, err);
	if (rc != DG_OK)
		return rc;
	rc = dg_db_query(db,
			 "SELECT resource_id, table_name FROM datastore_tables"
			 " ORDER BY resource_id",
			 NULL, 0, &rows);
	if (rc != DG_OK)
		return dg_err_set(err, rc, "The store is not available");
	json_t *records = json_array();
	/* bounded by the tables there are: one access check each */
	while ((rc = dg_rows_next(rows)) == DG_OK) {
		struct dg_err e = {0};
		const char *rid = dg_rows_text(rows, 0), *table = dg_rows_text(rows, 1);
		if (dg_datastore_check(r, db, rid, false, false, &e) != DG_OK)
			continue;
		if (total++ < offset || (long long)json_array_size(records) >= limit)
			continue;
		const char *hash = strncmp(table, "ds_", 3) == 0 ? table + 3 : table;
		json_array_append_new(records, json_pack("{s:s%, s:s, s:n, s:n}", "_id", hash,
							 strcspn(hash, "_"), "name", rid, "oid",
							 "alias_of"));
	}
	dg_rows_free(rows);
	if (rc != DG_ENOTFOUND) {
		json_decref(records);
		return dg_err_set(err, rc, "The store is not available");
	}
	*result = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}], s:o, s:I,"
			    " s:I, s:s}",
			    "resource_id", "_table_metadata", "fields", "id", "_id", "type", "text",
			    "id", "name", "type", "text", "id", "oid", "type", "int", "id",
			    "alias_of", "type", "text", "records", records, "limit",
			    (json_int_t)limit, "offset", (json_int_t)offset, "records_format",
			    "objects");
	if (with_total)
		json_object_set_new(*result, "total", json_integer(total));
	return DG_OK;
}

/* A write's body over DG_DS_WRITE_BODY is refused before it is looked at. */
static dg_rc body_cap(struct dg_req *r, struct dg_err *err)
{
	const char *cl = dg_req_header(r, "Content-Length");
	if (!cl || strtoull(cl, NULL, 10) <= DG_DS_WRITE_BODY)
		return DG_OK;
	/* a 413 is rendered by the dispatcher, from the request's own message */
	dg_err_set(&r->err, DG_ETOOBIG,
		   "The request body is over %d MiB: send the records in batches",
		   DG_DS_WRITE_BODY >> 20);
	return dg_err_set(err, DG_ETOOBIG, "%s", r->err.msg);
}

/*
 * One action on a resource's table, behind what they all need: the
 * resource's id, the requester's right to read or write it, a connection
 * of its own for a write, and the time budget over every statement.
 */
static dg_rc on_table(struct dg_req *r, enum act a, json_t *params, json_t **result,
		      struct dg_err *err)
{
	struct dg_db *db = NULL;
	const char *id;
	bool write = a > A_INFO;
	dg_rc rc;
	*result = NULL;
	if (!json_is_object(params))
		return dg_err_set(err, DG_EINVAL, "The parameters must be an object");
	if (write && (!r->method || strcmp(r->method, "POST") != 0))
		return dg_err_set(
			err, DG_EINVAL,
			"Bad request: JSON Error: Invalid request. Please use POST method "
			"for your request");
	if (write && (rc = body_cap(r, err)) != DG_OK)
		return rc;
	if ((rc = resource_param(params, &id, err)) != DG_OK)
		return rc;
	if ((rc = dg_req_db(r, &db)) != DG_OK)
		return dg_err_set(err, rc, "The store is not available");
	if (a == A_SEARCH && strcmp(id, "_table_metadata") == 0)
		return table_metadata(r, db, params, result, err);
	json_t *force = json_object_get(params, "force");
	bool forced = json_is_true(force) || (json_is_string(force) &&
					      (strcasecmp(json_string_value(force), "true") == 0 ||
					       strcmp(json_string_value(force), "1") == 0));
	/* a reload replaces a file's rows by the same file's: no force needed */
	forced = forced || a == A_LOAD;
	if ((rc = dg_datastore_check(r, db, id, write, forced, err)) != DG_OK)
		return rc;
	/*
	 * A write runs on a connection of its own: the request's may hold a
	 * statement open (the signed-in user's row), and SQLite refuses to drop
	 * a table while any statement of the connection is active.
	 */
	if (write && (rc = dg_db_get(r->env->store, &db)) != DG_OK)
		return dg_err_set(err, rc, "The store is busy: try again");
	/* every statement of the action runs under a time budget */
	if ((rc = dg_db_set_timeout_ms(db, write ? DG_DS_WRITE_MS : read_budget_ms)) != DG_OK) {
		rc = dg_err_set(err, rc, "The store is not available");
		goto out;
	}
	rc = run(r, db, a, id, params, result, err);
	if (rc == DG_EDB && dg_db_timed_out(db)) {
		memset(err, 0, sizeof *err);
		rc = dg_err_field(err, DG_EINVAL, "query",
				  write ? "Query took too long" : "Search took too long");
	}
	if (dg_db_set_timeout_ms(db, 0) != DG_OK && rc == DG_OK) {
		json_decref(*result);
		*result = NULL;
		rc = dg_err_set(err, DG_EDB, "The store is not available");
	}
out:
	if (write)
		dg_db_put(db);
	return rc;
}

DG_CKAN_ACTION_FN(datastore_search)
{
	return on_table(r, A_SEARCH, params, res, err);
}

DG_CKAN_ACTION_FN(datastore_info)
{
	return on_table(r, A_INFO, params, res, err);
}

DG_CKAN_ACTION_FN(datastore_create)
{
	return on_table(r, A_CREATE, params, res, err);
}

DG_CKAN_ACTION_FN(datastore_upsert)
{
	return on_table(r, A_UPSERT, params, res, err);
}

DG_CKAN_ACTION_FN(datastore_delete)
{
	return on_table(r, A_DELETE, params, res, err);
}

DG_CKAN_ACTION_FN(datastore_records_delete)
{
	return on_table(r, A_RECORDS_DELETE, params, res, err);
}

DG_CKAN_ACTION_FN(datastore_load)
{
	return on_table(r, A_LOAD, params, res, err);
}

DG_CKAN_ACTION_FN(datastore_search_sql)
{
	*res = NULL;
	if (!json_is_object(params))
		return dg_err_set(err, DG_EINVAL, "The parameters must be an object");
	return search_sql(r, params, res, err);
}

dg_rc dg_datastore_drop(struct dg_req *r, const char *resource_id)
{
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	json_t *params = json_object(), *result = NULL;
	/* a connection of its own, as every write here (see on_table) */
	dg_rc rc = dg_db_get(r->env->store, &db);
	if (rc == DG_OK) {
		rc = dg_ds_delete(db, resource_id, params, false, &result, &err);
		dg_db_put(db);
	}
	json_decref(params);
	json_decref(result);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

dg_rc dg_datastore_exists(struct dg_db *db, const char *resource_id, bool *out)
{
	struct dg_ds_table t;
	dg_rc rc = dg_ds_sql_lookup(db, resource_id, &t);
	*out = rc == DG_OK;
	json_decref(t.fields);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

static dg_rc check_options(json_t *options, struct dg_err *err)
{
	json_t *types = json_object_get(options, "types"), *v;
	const char *key;
	enum dg_ds_type t;
	if (!options)
		return DG_OK;
	if (!json_is_object(options))
		return dg_err_field(err, DG_EINVAL, "options", "options must be an object");
	if (types && !json_is_object(types))
		return dg_err_field(err, DG_EINVAL, "types", "types must be an object");
	json_object_foreach (types, key, v) {
		if (!json_is_string(v) || dg_ds_type_parse(json_string_value(v), &t) != DG_OK)
			return dg_err_field(
				err, DG_EINVAL, "types",
				"Column \"%.60s\": the type must be text, int, numeric, "
				"date or bool",
				key);
	}
	json_t *info = json_object_get(options, "info");
	if (info && !json_is_object(info))
		return dg_err_field(err, DG_EINVAL, "info", "info must be an object");
	json_object_foreach (info, key, v) {
		const char *which = NULL;
		if (!json_is_object(v) || dg_ds_label_check(json_object_get(v, "label"), &which) ||
		    dg_ds_label_check(json_object_get(v, "label_en"), &which))
			return dg_err_field(err, DG_EINVAL, "info",
					    "Column \"%.60s\": labels must be text of at most %d "
					    "bytes",
					    key, DG_DS_LABEL_MAX);
	}
	return DG_OK;
}

dg_rc dg_ds_label_check(json_t *v, const char **why)
{
	if (!v || json_is_null(v))
		return DG_OK;
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	*why = "type";
	if (!s)
		return DG_EINVAL;
	*why = "long";
	if (n > DG_DS_LABEL_MAX)
		return DG_EINVAL;
	*why = "chars";
	if (!dg_utf8_valid(s, n) || strlen(s) != n)
		return DG_EINVAL;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return DG_EINVAL;
	return DG_OK;
}

dg_rc dg_datastore_set_labels(struct dg_db *db, const char *resource_id, json_t *labels,
			      struct dg_err *err)
{
	struct dg_ds_table t = {0};
	const char *key, *why = NULL;
	json_t *v, *f;
	size_t i;
	dg_rc rc = dg_ds_sql_lookup(db, resource_id, &t);
	if (rc == DG_ENOTFOUND) {
		rc = dg_err_set(err, rc, "This resource has no DataStore table.");
		goto out;
	}
	if (rc) {
		rc = dg_err_set(err, rc, "The store is not available");
		goto out;
	}
	/* every name and label checked before anything changes */
	json_object_foreach (labels, key, v) {
		bool known = false;
		json_array_foreach (t.fields, i, f)
			known |= strcmp(key, json_string_value(json_object_get(f, "id"))) == 0;
		if (!known) {
			rc = dg_err_field(err, DG_EINVAL, key, "No column named \"%.60s\"", key);
			goto out;
		}
		if (!json_is_object(v) ||
		    dg_ds_label_check(json_object_get(v, "label"), &why) != DG_OK ||
		    dg_ds_label_check(json_object_get(v, "label_en"), &why) != DG_OK) {
			rc = dg_err_field(
				err, DG_EINVAL, key,
				"Column \"%.60s\": labels must be text of at most %d bytes", key,
				DG_DS_LABEL_MAX);
			goto out;
		}
	}
	json_array_foreach (t.fields, i, f) {
		json_t *given =
			json_object_get(labels, json_string_value(json_object_get(f, "id")));
		if (!given)
			continue;
		json_t *info = json_object_get(f, "info");
		if (!json_is_object(info)) {
			info = json_object();
			json_object_set_new(f, "info", info);
		}
		static const char *const keys[] = {"label", "label_en"};
		for (size_t k = 0; k < 2; k++) {
			const char *s = json_string_value(json_object_get(given, keys[k]));
			if (!json_object_get(given, keys[k]))
				continue;
			if (s && *s)
				json_object_set_new(info, keys[k], json_string(s));
			else
				json_object_del(info, keys[k]); /* empty: the column's name shows */
		}
	}
	rc = dg_ds_sql_set_fields(db, resource_id, t.fields);
	if (rc)
		rc = dg_err_set(err, rc, "The store is not available");
out:
	json_decref(t.fields);
	return rc;
}

dg_rc dg_datastore_load_enqueue(struct dg_db *db, const char *resource_id, const char *path,
				json_t *options, int64_t user_id, int64_t *job_id)
{
	struct dg_err err = {0};
	*job_id = 0;
	if (!resource_id || !*resource_id || strlen(resource_id) > MAX_RESOURCE_ID || !path)
		return DG_EINVAL;
	if (check_options(options, &err) != DG_OK)
		return DG_EINVAL;
	json_t *payload = json_pack("{s:s, s:s, s:O?}", "resource_id", resource_id, "path", path,
				    "options", options);
	dg_rc rc = dg_job_enqueue(db, "datastore.load", payload, user_id, NULL, job_id);
	json_decref(payload);
	return rc;
}
