/*
 * ds_load.c - the datastore load job (contract in ds_load.h).
 *
 * Memory is one CSV record plus one batch of rows (at most BATCH_BYTES of
 * values), whatever the file size. Bad rows (wrong number of fields, a value
 * that does not fit an overridden type) are skipped and reported by line and
 * column unless the options ask for strict, which fails the job instead.
 */
#include "opendata/ds_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "opendata/ds_csv.h"
#include "opendata/ds_infer.h"
#include "opendata/ds_sql.h"

#define MAX_REPORTED 100
#define BATCH_BYTES (8u << 20)
/* store.h's PostgreSQL backend binds at most 256 parameters a statement: a
 * batch is one multi-row INSERT under that (COPY would lift it; see docs) */
#define MAX_PARAMS 256u

struct load {
	struct dg_job *job;
	const char *resource_id, *path;
	bool strict;
	json_t *types; /* borrowed overrides */
	size_t ncols;
	char **labels;
	char (*names)[DG_DS_NAME_MAX];
	enum dg_ds_type *type;
	int64_t total, rows, bad;
	json_t *errors;
	char table[DG_DS_TABLE_MAX];
	/* the current batch */
	char **vals;
	size_t nb, batch_rows, batch_bytes;
};

static dg_rc open_csv(struct load *l, FILE **fp, struct dg_ds_csv **c, struct dg_err *err)
{
	*fp = fopen(l->path, "rb");
	if (!*fp)
		return dg_err_set(err, DG_EINVAL, "The uploaded file is missing");
	dg_rc rc = dg_ds_csv_open(*fp, 0, 0, c, err);
	if (rc != DG_OK) {
		fclose(*fp);
		*fp = NULL;
	}
	return rc;
}

static void report(struct load *l, long line, size_t col, const char *msg)
{
	l->bad++;
	if (json_array_size(l->errors) >= MAX_REPORTED)
		return;
	json_array_append_new(l->errors, json_pack("{s:I, s:I, s:s}", "line", (json_int_t)line,
						   "column", (json_int_t)col, "message", msg));
}

/* The header: labels, safe names, then overrides keyed by label or name. */
static dg_rc read_header(struct load *l, struct dg_ds_csv *c, struct dg_err *err)
{
	struct dg_ds_csv_row row;
	dg_rc rc = dg_ds_csv_next(c, &row, err);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, DG_EINVAL, "The file is empty: it needs a header row");
	if (rc != DG_OK)
		return rc;
	if (row.ncols > MAX_PARAMS)
		return dg_err_set(err, DG_EINVAL, "The file has %zu columns; at most %u can be loaded",
				  row.ncols, MAX_PARAMS);
	l->ncols = row.ncols;
	l->labels = dg_xcalloc(row.ncols, sizeof *l->labels);
	for (size_t i = 0; i < row.ncols; i++)
		l->labels[i] = dg_xstrdup(row.f[i]);
	l->names = dg_xcalloc(row.ncols, sizeof *l->names);
	l->type = dg_xcalloc(row.ncols, sizeof *l->type);
	dg_ds_names(row.ncols, l->labels, l->names);
	return DG_OK;
}

static dg_rc apply_overrides(struct load *l, struct dg_err *err)
{
	const char *key;
	json_t *v;
	json_object_foreach(l->types, key, v)
	{
		size_t i;
		for (i = 0; i < l->ncols; i++)
			if (strcmp(key, l->labels[i]) == 0 || strcmp(key, l->names[i]) == 0)
				break;
		if (i == l->ncols)
			return dg_err_field(err, DG_EINVAL, "types", "No column named \"%.60s\"", key);
		if (!json_is_string(v) || dg_ds_type_parse(json_string_value(v), &l->type[i]) != DG_OK)
			return dg_err_field(err, DG_EINVAL, "types",
					    "Column \"%.60s\": the type must be text, int, "
					    "numeric, date or bool",
					    key);
	}
	return DG_OK;
}

/* Pass 1: count rows and infer each column's type over the whole file. */
static dg_rc pass1(struct load *l, struct dg_err *err)
{
	FILE *fp = NULL;
	struct dg_ds_csv *c = NULL;
	struct dg_ds_csv_row row;
	struct dg_ds_infer inf = {0};
	dg_rc rc = open_csv(l, &fp, &c, err);
	if (rc != DG_OK)
		return rc;
	if ((rc = read_header(l, c, err)) != DG_OK)
		goto out;
	dg_ds_infer_init(&inf, l->ncols);
	while ((rc = dg_ds_csv_next(c, &row, err)) == DG_OK) {
		l->total++;
		if (row.ncols == l->ncols)
			dg_ds_infer_add(&inf, row.ncols, row.f, row.n);
	}
	if (rc != DG_ENOTFOUND)
		goto out;
	for (size_t i = 0; i < l->ncols; i++)
		l->type[i] = dg_ds_infer_type(&inf, i);
	rc = apply_overrides(l, err);
out:
	dg_ds_infer_release(&inf);
	dg_ds_csv_free(c);
	fclose(fp);
	return rc;
}

static void batch_clear(struct load *l)
{
	for (size_t i = 0; i < l->nb * l->ncols; i++) {
		free(l->vals[i]);
		l->vals[i] = NULL;
	}
	l->nb = 0;
	l->batch_bytes = 0;
}

static dg_rc flush(struct load *l, struct dg_err *err)
{
	struct dg_db *db = l->job->db;
	dg_rc rc;
	if (l->nb == 0)
		return DG_OK;
	if ((rc = dg_db_begin(db)) != DG_OK)
		return dg_err_set(err, rc, "The store is not available");
	rc = dg_ds_sql_insert(db, l->table, l->ncols, l->names, l->type,
			      (const char *const *)l->vals, l->nb);
	if (rc == DG_OK)
		rc = dg_job_save(l->job, l->rows + (int64_t)l->nb, l->total, NULL);
	if (rc == DG_OK)
		rc = dg_db_commit(db);
	if (rc != DG_OK) {
		dg_db_rollback(db);
		return dg_err_set(err, rc, "Rows could not be written (line batch ending %lld)",
				  (long long)(l->rows + (int64_t)l->nb));
	}
	l->rows += (int64_t)l->nb;
	batch_clear(l);
	return DG_OK;
}

/* Check one record; DG_OK to keep it, DG_EINVAL (reported) to skip it. */
static dg_rc check_row(struct load *l, const struct dg_ds_csv_row *row, struct dg_err *err)
{
	char msg[200];
	if (row->ncols != l->ncols) {
		snprintf(msg, sizeof msg, "Line %ld: %zu fields, the header has %zu", row->line,
			 row->ncols, l->ncols);
		report(l, row->line, row->ncols < l->ncols ? row->ncols + 1 : l->ncols + 1, msg);
		return l->strict ? dg_err_set(err, DG_EINVAL, "%s", msg) : DG_EINVAL;
	}
	for (size_t i = 0; i < l->ncols; i++) {
		if (dg_ds_value_ok(l->type[i], row->f[i], row->n[i]))
			continue;
		snprintf(msg, sizeof msg, "Line %ld, column %zu (%.40s): \"%.40s\" is not %s",
			 row->line, i + 1, l->labels[i], row->f[i], dg_ds_type_name(l->type[i]));
		report(l, row->line, i + 1, msg);
		return l->strict ? dg_err_set(err, DG_EINVAL, "%s", msg) : DG_EINVAL;
	}
	return DG_OK;
}

static dg_rc pass2(struct load *l, struct dg_err *err)
{
	FILE *fp = NULL;
	struct dg_ds_csv *c = NULL;
	struct dg_ds_csv_row row;
	dg_rc rc = open_csv(l, &fp, &c, err);
	if (rc != DG_OK)
		return rc;
	if ((rc = dg_ds_csv_next(c, &row, err)) != DG_OK) /* the header again */
		goto out;
	l->batch_rows = MAX_PARAMS / (l->ncols ? l->ncols : 1);
	if (l->batch_rows > 1000)
		l->batch_rows = 1000;
	if (l->batch_rows == 0)
		l->batch_rows = 1;
	l->vals = dg_xcalloc(l->batch_rows * l->ncols + 1, sizeof *l->vals);
	while ((rc = dg_ds_csv_next(c, &row, err)) == DG_OK) {
		dg_rc chk = check_row(l, &row, err);
		if (chk != DG_OK && l->strict) {
			rc = chk;
			goto out;
		}
		if (chk != DG_OK)
			continue;
		for (size_t i = 0; i < l->ncols; i++) {
			l->vals[l->nb * l->ncols + i] = dg_xstrndup(row.f[i], row.n[i]);
			l->batch_bytes += row.n[i];
		}
		l->nb++;
		if (l->nb == l->batch_rows || l->batch_bytes >= BATCH_BYTES)
			if ((rc = flush(l, err)) != DG_OK)
				goto out;
		if (dg_job_stopping(l->job)) {
			rc = dg_err_set(err, DG_EUNAVAIL, "The server is stopping");
			goto out;
		}
	}
	if (rc == DG_ENOTFOUND)
		rc = flush(l, err);
out:
	dg_ds_csv_free(c);
	fclose(fp);
	return rc;
}

static json_t *fields_json(const struct load *l)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->ncols; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:{s:s}}", "id", l->names[i], "type",
						   dg_ds_type_name(l->type[i]), "info", "label",
						   l->labels[i]));
	return a;
}

/* Indexes, then the switch and the old table's drop in one transaction. */
static dg_rc finish(struct load *l, json_t *fields, json_t *result, struct dg_err *err)
{
	struct dg_db *db = l->job->db;
	char old[DG_DS_TABLE_MAX];
	dg_rc rc = dg_ds_sql_index(db, l->table, l->ncols, l->names);
	if (rc != DG_OK)
		return dg_err_set(err, rc, "Indexes could not be built");
	if ((rc = dg_db_begin(db)) != DG_OK)
		return dg_err_set(err, rc, "The store is not available");
	rc = dg_ds_sql_switch(db, l->resource_id, l->table, fields, l->rows, result, old);
	if (rc == DG_OK && old[0] && strcmp(old, l->table) != 0)
		rc = dg_ds_sql_drop(db, old);
	if (rc == DG_OK)
		rc = dg_job_result(l->job, result);
	if (rc == DG_OK)
		rc = dg_job_save(l->job, l->rows, l->total, NULL);
	if (rc == DG_OK)
		rc = dg_db_commit(db);
	if (rc != DG_OK) {
		dg_db_rollback(db);
		return dg_err_set(err, rc, "The new table could not be put in place");
	}
	return DG_OK;
}

static void load_release(struct load *l)
{
	if (l->vals)
		batch_clear(l);
	free(l->vals);
	for (size_t i = 0; l->labels && i < l->ncols; i++)
		free(l->labels[i]);
	free(l->labels);
	free(l->names);
	free(l->type);
	json_decref(l->errors);
}

dg_rc dg_ds_load_run(struct dg_job *job, struct dg_err *err)
{
	struct load l = {.job = job};
	json_t *opts = json_object_get(job->payload, "options");
	json_t *fields = NULL, *result = NULL;
	dg_rc rc = DG_EINVAL;
	l.resource_id = json_string_value(json_object_get(job->payload, "resource_id"));
	l.path = json_string_value(json_object_get(job->payload, "path"));
	l.strict = json_is_true(json_object_get(opts, "strict"));
	l.types = json_object_get(opts, "types");
	l.errors = json_array();
	if (!l.resource_id || !l.path) {
		rc = dg_err_set(err, DG_EINVAL, "The job needs resource_id and path");
		goto out;
	}
	if (l.types && !json_is_object(l.types)) {
		rc = dg_err_field(err, DG_EINVAL, "types", "types must be an object");
		goto out;
	}
	dg_ds_table_name(l.resource_id, job->id, l.table);
	/* a previous attempt may have died half way: its table is ours to drop */
	if ((rc = dg_ds_sql_drop(job->db, l.table)) != DG_OK)
		goto out;
	if ((rc = pass1(&l, err)) != DG_OK) {
		/* a file over the caps never loads: fail at once, no retries */
		if (rc == DG_ETOOBIG)
			rc = DG_EINVAL;
		goto out;
	}
	if ((rc = dg_ds_sql_create(job->db, l.table, l.ncols, l.names, l.type)) != DG_OK) {
		rc = dg_err_set(err, rc, "The table could not be created");
		goto out;
	}
	if ((rc = pass2(&l, err)) != DG_OK)
		goto drop;
	fields = fields_json(&l);
	result = json_pack("{s:s, s:I, s:I, s:O, s:O}", "table", l.table, "rows",
			   (json_int_t)l.rows, "bad_rows", (json_int_t)l.bad, "errors", l.errors,
			   "fields", fields);
	if ((rc = finish(&l, fields, result, err)) == DG_OK)
		goto out;
drop:
	/* a failed load leaves nothing behind; the old table stays in force */
	if (dg_ds_sql_drop(job->db, l.table) != DG_OK)
		rc = DG_EDB;
out:
	json_decref(fields);
	json_decref(result);
	load_release(&l);
	return rc;
}
