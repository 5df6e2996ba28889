/*
 * datastore.h - tabular resources as queryable tables (CKAN's DataStore,
 * opendata/datastore): what the CKAN API, the catalogue, the pages and the
 * module may use. Its files share datastore_int.h, and the filters
 * (filter.h), the SQL checker (sqlq.h), the remembered totals (count.h) and
 * the XLSX writer (xlsx.h) have headers of their own.
 *
 * A resource's rows live in a table of their own, created from an uploaded
 * CSV by a durable job (streamed, typed, replaced atomically) or by
 * datastore_create. Keyed by the resource id (text); the catalogue
 * (catalog.h) owns resources, the datastore owns their tables.
 */
#ifndef DG_DATASTORE_H
#define DG_DATASTORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "http/req.h"
#include "http/router.h"
#include "opendata/base/base.h"
#include "store/store.h"

struct dg_job; /* jobs/jobs.h */

extern const struct dg_migration dg_datastore_migrations[];

/*
 * CKAN's datastore_* actions (base.h's contract; api/ckan.c's table):
 * search, info, search_sql (off unless an administrator turns it on), and
 * the writes create, upsert, delete, records_delete and load. Errors
 * carry a CKAN-style message in err (err->field names the offending
 * parameter). Access as dg_datastore_check; writes must be POSTs, with a
 * body of at most DG_DS_WRITE_BODY bytes.
 */
DG_CKAN_ACTION(datastore_search);
DG_CKAN_ACTION(datastore_info);
DG_CKAN_ACTION(datastore_search_sql);
DG_CKAN_ACTION(datastore_create);
DG_CKAN_ACTION(datastore_upsert);
DG_CKAN_ACTION(datastore_delete);
DG_CKAN_ACTION(datastore_records_delete);
DG_CKAN_ACTION(datastore_load);

/*
 * Time budgets (ms) per statement: reads (search, info, dumps) by default
 * DG_DS_READ_MS, changed by dg_datastore_set_budget_ms (0 restores the
 * default; process-wide); writes DG_DS_WRITE_MS, as CKAN's 60 s. A statement
 * over budget fails with a Validation Error on "query" ("Search took too
 * long" / "Query took too long").
 */
#define DG_DS_READ_MS  10000u
#define DG_DS_WRITE_MS 60000u
void dg_datastore_set_budget_ms(unsigned ms);

/*
 * Dumps (dump.c): an XLSX is built in a temporary file before it is sent,
 * so it is capped at DG_DS_XLSX_MAX bytes of sheet XML (DG_ETOOBIG, 413);
 * dg_datastore_set_xlsx_max changes the cap for the process (0 restores
 * it), for tests. CSV, TSV and JSON are streamed and have no cap.
 */
#define DG_DS_XLSX_MAX ((uint64_t)256 << 20)
void dg_datastore_set_xlsx_max(uint64_t bytes);
/* The Content-Type of a dump's format ("csv", "tsv", "json", "xlsx"); CSV's for another. */
const char *dg_datastore_dump_type(const char *format);

/* Writes: bodies over DG_DS_WRITE_BODY bytes are refused (DG_ETOOBIG). */
#define DG_DS_WRITE_BODY (8 << 20)

/*
 * May the requester read (write false) or write resource_id's table? Reads:
 * anyone, unless the resource belongs to a closed or private dataset, which
 * is "not found" to all but its department's staff and administrators.
 * Writes: a POST over an API token by the owning department's staff or an
 * administrator (DG_EDENIED otherwise, DG_ENOTFOUND when they may not even
 * see it), and, as CKAN, force unless the resource's url_type is
 * "datastore" (DG_EINVAL on "read-only").
 */
dg_rc dg_datastore_check(struct dg_req *r, struct dg_db *db, const char *resource_id, bool write,
			 bool force, struct dg_err *err) DG_MUST;

/* GET /datastore/dump/{resource_id} (dump.c). */
const struct dg_route *dg_datastore_routes(size_t *n);

/* Drop resource_id's table, if it has one (its resource was deleted or purged). */
dg_rc dg_datastore_drop(struct dg_req *r, const char *resource_id) DG_MUST;

/*
 * Build the full-text index of every table that has none or one of an
 * older tokenizer (tables made before it existed), each in a transaction
 * of its own; at start, before serving.
 */
dg_rc dg_datastore_fts_rebuild(struct dg_db *db) DG_MUST;

/* Whether a resource has a datastore table (for datastore_active). */
dg_rc dg_datastore_exists(struct dg_db *db, const char *resource_id, bool *out) DG_MUST;

/*
 * Queue a load of the CSV file at path (moved into the data folder by the
 * caller) into resource_id's table; options (borrowed, may be NULL):
 * {"strict": bool, "types": {"col": "text|int|numeric|date|bool"}, "tabs": bool (TSV),
 *  "info": {"col": {"label", "label_en"}} (labels the new table's columns start with)}.
 */
dg_rc dg_datastore_load_enqueue(struct dg_db *db, const char *resource_id, const char *path,
				json_t *options, int64_t user_id, int64_t *job_id) DG_MUST;

/*
 * Load resource id's file again with edited options (datastore_load, and
 * the staff's column page): params' "types" ({"col": type}) merged over the
 * last load's (a null value removes one, letting inference decide), its
 * "strict" (a boolean) replacing the last load's when given. The caller has
 * checked the requester may write the table. *result {resource_id, job_id,
 * options} (owned); the job, queued as user_id, replaces the table.
 * ENOTFOUND no table; EINVAL (err->field) a table not loaded from a file or
 * bad options.
 */
dg_rc dg_datastore_reload(struct dg_db *db, int64_t user_id, const char *id, json_t *params,
			  json_t **result, struct dg_err *err) DG_MUST;

/* Bytes of a column's label (info.label, info.label_en): 50 Chinese characters. */
#define DG_DS_LABEL_MAX 150

/*
 * A column label as info.label or info.label_en may hold: absent, null or a
 * string of at most DG_DS_LABEL_MAX bytes of UTF-8 without control
 * characters; else EINVAL with *why "type", "long" or "chars".
 */
dg_rc dg_ds_label_check(json_t *v, const char **why) DG_MUST;

/*
 * Give resource_id's columns labels: labels {"col": {"label": zh, "label_en":
 * en}} (borrowed), kept in the fields' info as CKAN keeps a field's label,
 * so datastore_info and datastore_search return them; a key left out keeps
 * its label, an empty one or null removes it. Every column and label is
 * checked before anything is stored: EINVAL (err->field the column) for an
 * unknown column or a label that is not text of at most DG_DS_LABEL_MAX
 * bytes, ENOTFOUND without a table. The caller has checked the requester
 * may write the table.
 */
dg_rc dg_datastore_set_labels(struct dg_db *db, const char *resource_id, json_t *labels,
			      struct dg_err *err) DG_MUST;

/*
 * The "datastore.load" job: a CSV file into a new table, then the resource
 * switched to it atomically (load.c).
 *
 * Payload {"resource_id", "path", "options": {"strict", "types", "tabs"}}
 * ("tabs": true for a TSV file). Pass 1
 * infers types from the first 10,000 records (the whole file when a later
 * record proves them wrong, load.c); pass 2 checks the rest and copies batches
 * into ds_<hash>_<job id> (dg_db_copy_*), one transaction per batch with
 * dg_job_save. Then one transaction switches the resource to the new table
 * and drops the old one; indexes and ANALYZE follow on the live table. An
 * attempt before the switch starts from scratch (dropping its own half table
 * first), so a crash leaves the old table in force; one after it only builds
 * the indexes. Result: {"table", "rows", "bad_rows",
 * "errors": [{"line","column","message"}] (first 100), "fields", "source":
 * {"path", "options"}} (also kept as the table's report, for reloads).
 */
dg_rc dg_ds_load_run(struct dg_job *job, struct dg_err *err) DG_MUST;

/*
 * ---- private staging (load.c): a CSV through the loader for another module ----
 *
 * dg_datastore_stage runs the loader's parsing, strict checks, COPY and job
 * progress into a staging table dsx_<job id> that is never registered in
 * datastore_tables: dg_datastore_check (so datastore_search, _info, dumps
 * and datastore_search_sql's allow-list) refuses any name in that space as
 * not found. The table lives only while the job's attempt runs: dropped
 * when the load ends, after a failure, at the start of a retry, and by the
 * "datastore.stage_sweep" task (at start-up and hourly) once its job is no
 * longer running.
 *
 * The callbacks: header (labels as written) may refuse the file before
 * anything is created; check (line, values of one record, no store) may
 * refuse a record, which fails the whole load with that line before any
 * apply; verify (may be NULL) gets every staged record with the store, to
 * read only, and may refuse one the same way, before the first apply; apply
 * then gets every staged record in file order, apply_batch at
 * a time, each batch one transaction on job->db with the job's progress and
 * checkpoint (a retry resumes after the last committed batch). Values are
 * NUL-terminated text, NULL for an empty field. Progress counts each record
 * twice (staged, applied). err carries the first refusal's message.
 */
#define DG_DS_STAGE_PREFIX "dsx_"
struct dg_ds_stage {
	dg_rc (*header)(void *ctx, size_t ncols, char *const *labels, struct dg_err *err);
	dg_rc (*check)(void *ctx, long line, const char *const *vals, struct dg_err *err);
	dg_rc (*verify)(void *ctx, struct dg_db *db, long line, const char *const *vals,
			struct dg_err *err);
	dg_rc (*apply)(void *ctx, struct dg_db *db, long line, const char *const *vals,
		       struct dg_err *err);
	void *ctx;
	size_t apply_batch; /* records a transaction of apply; 0: 500 */
};
/* Returns what the first refusal returned (DG_EINVAL for a bad file), or a store error;
 * *rows gets the records applied. */
dg_rc dg_datastore_stage(struct dg_job *job, const char *path, const struct dg_ds_stage *cb,
			 int64_t *rows, struct dg_err *err) DG_MUST;
/* The "datastore.stage_sweep" job: drop staging tables whose job is not running. */
dg_rc dg_ds_stage_sweep_run(struct dg_job *job, struct dg_err *err) DG_MUST;

/*
 * ---- background exports (export.c) ----
 *
 * A whole table written to <data>/exports/<job id>.<format> by a
 * "datastore.export" job, for tables too large to wait on: payload
 * {"resource_id", "format" (csv | xlsx | json | tsv), "labels" (zh | en:
 * the header's column labels), "dataset" (its name, for the file's)};
 * progress is rows written of the table's rows, saved after every page;
 * result {"resource_id", "format", "dataset", "bytes", "rows",
 * "expires_ms"}. The file is kept DG_DS_EXPORT_KEEP_SEC after it is
 * made, then "datastore.export_sweep" (at start-up and hourly) removes it.
 * The dataset page offers it for tables of DG_DS_EXPORT_OFFER_ROWS rows or
 * more. A job with no table, or an XLSX over its cap, fails at once.
 */
#define DG_DS_EXPORT_KEEP_SEC   (24 * 3600)
#define DG_DS_EXPORT_OFFER_ROWS 10000
struct dg_env;
bool dg_ds_export_format_ok(const char *format);
/* Queue one for user_id (who alone may fetch it); EINVAL for a format not offered. */
dg_rc dg_ds_export_queue(struct dg_db *db, const char *resource_id, const char *format,
			 const char *lang, const char *dataset, int64_t user_id,
			 int64_t *job) DG_MUST;
/* The folder the files are kept in, into out. */
void dg_ds_export_dir(const struct dg_env *env, char *out, size_t n);
dg_rc dg_ds_export_run(struct dg_job *job, struct dg_err *err) DG_MUST;
/*
 * The demo's finished export (`dgov demo --with-runs`): resource_id's table
 * as CSV with its Chinese labels, made now, for user_id, recorded as a
 * done "datastore.export" job so that its page and file are there at once.
 */
dg_rc dg_ds_export_demo(const struct dg_env *env, struct dg_db *db, const char *resource_id,
			const char *dataset, int64_t user_id, struct dg_err *err) DG_MUST;
dg_rc dg_ds_export_sweep_run(struct dg_job *job, struct dg_err *err) DG_MUST;

/*
 * The demo region's tables (demo.c): writes a generated CSV for each of
 * the twelve demo datasets under <data_dir>/demo and queues its load; the
 * market-entities table gets big_rows rows, the others a few hundred to a
 * few thousand. Same rows on every run.
 */
dg_rc dg_datastore_demo_load(struct dg_db *db, const char *data_dir, int64_t big_rows,
			     struct dg_err *err) DG_MUST;

/* ---- a table as others may read it ---- */

/*
 * Column types. A loaded column is int only when every non-empty value is
 * a plain integer (no leading zeros: "007" is a code and stays text),
 * numeric for integers and decimals, date for real calendar dates
 * (YYYY-MM-DD, YYYY/M/D), timestamp for dates with times of day, bool for
 * true/false, and text otherwise (datastore_int.h); json only when asked.
 */
enum dg_ds_type {
	DG_DS_INT,
	DG_DS_NUMERIC,
	DG_DS_DATE,
	DG_DS_TIMESTAMP, /* a date and a time of day, no zone */
	DG_DS_BOOL,
	DG_DS_JSON,          /* any JSON value; never inferred, only asked for */
	DG_DS_TEXT_ARRAY,    /* a list of strings (CKAN's _text); only asked for */
	DG_DS_INT_ARRAY,     /* a list of integers (_int8) */
	DG_DS_NUMERIC_ARRAY, /* a list of numbers (_numeric) */
	DG_DS_TEXT,
};

#define DG_DS_NAME_MAX 64 /* 63 bytes (PostgreSQL's identifiers) and the NUL */

/* "int", "numeric", "date", "timestamp", "bool", "json", "_text", "_int8",
 * "_numeric", "text" (never NULL). */
const char *dg_ds_type_name(enum dg_ds_type t);

/* Parse a type name (also the CKAN spellings int4/int8/float8/boolean, and
 * arrays as _text or text[], _int4/_int8/int[], _numeric/_float8/numeric[]);
 * DG_EINVAL for anything else. */
dg_rc dg_ds_type_parse(const char *name, enum dg_ds_type *out) DG_MUST;

#define DG_DS_TABLE_MAX 64

#define DG_DS_KEY_MAX (8 * DG_DS_NAME_MAX) /* a primary key's columns as "a,b" (8 names) */

/* The table a resource's rows live in. */
struct dg_ds_table {
	char table[DG_DS_TABLE_MAX];
	json_t *fields;                  /* owned: [{"id","type","info":{"label"}}] */
	int64_t row_count;               /* kept exact by loads and every write */
	char primary_key[DG_DS_KEY_MAX]; /* "" when none */
	int64_t version;                 /* raised by every write (see count.h) */
};

/* ENOTFOUND when the resource has no table. t->fields is owned by the caller. */
dg_rc dg_ds_sql_lookup(struct dg_db *db, const char *resource_id, struct dg_ds_table *t) DG_MUST;

/* The last load's report (NULL when the table was not loaded from a file);
 * ENOTFOUND when the resource has no table. */
dg_rc dg_ds_sql_report(struct dg_db *db, const char *resource_id, json_t **out) DG_MUST;

/*
 * Make resource_id's table at once from nrows rows of ncols text values
 * (vals[row * ncols + col], NULL or "" is SQL NULL) in columns names[i] of
 * types[i] (safe names, as dg_ds_names makes), inside the caller's
 * transaction: the demo's small tables (demo.c).
 */
dg_rc dg_datastore_demo_table(struct dg_db *db, const char *resource_id, size_t ncols,
			      char (*names)[DG_DS_NAME_MAX], const enum dg_ds_type *types,
			      const char *const *vals, size_t nrows) DG_MUST;

#endif
