/*
 * export.c - a large table written to a file by a background job, for
 * people who would otherwise wait on a long download (issue 15): the
 * "datastore.export" job writes the whole table page by page through the
 * dumps' own writer (dump.c, dg_ds_dump_file) into the data folder's
 * exports/, saving its progress (rows written of the table's rows) after
 * every page, and records the file's name, size and when it goes; the
 * "datastore.export_sweep" task (at start-up and hourly) removes files
 * older than DG_DS_EXPORT_KEEP_SEC and parts a crash left behind.
 *
 * A retried attempt starts the file again: a page's rows are cheap to read
 * again, and a half file is never offered (it is written as NAME.part and
 * renamed when whole). Who may download it is the pages' business
 * (pages/export.c), checked again at download.
 */
#include <errno.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/date.h"
#include "core/failpoint.h"
#include "core/log.h"
#include "jobs/jobs.h"
#include "node/env.h"
#include "opendata/datastore/datastore.h"
#include "opendata/datastore/datastore_int.h"

static const char *const formats[] = {"csv", "xlsx", "json", "tsv", NULL};

bool dg_ds_export_format_ok(const char *format)
{
	for (const char *const *f = formats; format && *f; f++)
		if (strcmp(format, *f) == 0)
			return true;
	return false;
}

/* An export's payload (datastore.h). */
static json_t *export_payload(const char *resource_id, const char *format, const char *lang,
			      const char *dataset)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "resource_id", resource_id, "format", format,
			 "labels", lang && strcmp(lang, "en") == 0 ? "en" : "zh", "dataset",
			 dataset ? dataset : "");
}

dg_rc dg_ds_export_queue(struct dg_db *db, const char *resource_id, const char *format,
			 const char *lang, const char *dataset, int64_t user_id, int64_t *job)
{
	if (!dg_ds_export_format_ok(format))
		return DG_EINVAL;
	json_t *p = export_payload(resource_id, format, lang, dataset);
	dg_rc rc = dg_job_enqueue(db, "datastore.export", p, user_id, NULL, job);
	json_decref(p);
	return rc;
}

void dg_ds_export_dir(const struct dg_env *env, char *out, size_t n)
{
	snprintf(out, n, "%s/exports", env && env->cfg ? env->cfg->data_dir : "data");
}

static dg_rc progress(void *ctx, int64_t done, int64_t total)
{
	struct dg_job *job = ctx;
	if (dg_job_stopping(job))
		return DG_EUNAVAIL; /* the node is stopping: another attempt starts again */
	dg_rc rc = dg_job_save(job, done, total, NULL);
	/* a test holds an export here, part written, to see its progress (failpoint.h) */
	return rc ? rc : dg_failpoint_hit("datastore.export.page");
}

/* What a finished export records: its file's size and rows, and until when it is kept. */
static json_t *export_result(struct dg_db *db, const char *rid, const char *format,
			     const char *dataset, int64_t bytes)
{
	int64_t rows = 0;
	struct dg_ds_table t = {0};
	if (dg_ds_sql_lookup(db, rid, &t) == DG_OK)
		rows = t.row_count;
	json_decref(t.fields);
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "resource_id", rid, "format", format,
			 "dataset", dataset ? dataset : "", "bytes", (json_int_t)bytes, "rows",
			 (json_int_t)rows, "expires_ms",
			 (json_int_t)(dg_now_ms() + (int64_t)DG_DS_EXPORT_KEEP_SEC * 1000));
}

dg_rc dg_ds_export_run(struct dg_job *job, struct dg_err *err)
{
	const char *rid = json_string_value(json_object_get(job->payload, "resource_id"));
	const char *format = json_string_value(json_object_get(job->payload, "format"));
	const char *labels = json_string_value(json_object_get(job->payload, "labels"));
	char dir[PATH_MAX - 64], path[PATH_MAX - 16], part[PATH_MAX];
	struct stat st;
	if (!rid || !dg_ds_export_format_ok(format))
		return dg_err_set(err, DG_EINVAL, "the export names no resource or format");
	dg_ds_export_dir(job->env, dir, sizeof dir);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return dg_err_set(err, DG_EIO, "the exports folder cannot be made");
	snprintf(path, sizeof path, "%s/%lld.%s", dir, (long long)job->id, format);
	snprintf(part, sizeof part, "%s.part", path);
	dg_rc rc = dg_ds_dump_file(job->db, rid, format,
				   labels && strcmp(labels, "en") == 0 ? "label_en" : "label", dir,
				   part, progress, job);
	if (rc == DG_OK && (rename(part, path) != 0 || stat(path, &st) != 0))
		rc = DG_EIO;
	if (rc != DG_OK) {
		unlink(part);
		if (rc == DG_ENOTFOUND || rc == DG_ETOOBIG || rc == DG_EINVAL)
			return dg_err_set(err, DG_EINVAL, "%s",
					  rc == DG_ETOOBIG ? "over the XLSX cap: export CSV instead"
							   : "the resource has no table");
		return dg_err_set(err, rc, "the file could not be written (%s)", dg_rc_name(rc));
	}
	const char *dataset = json_string_value(json_object_get(job->payload, "dataset"));
	json_t *res = export_result(job->db, rid, format, dataset, (int64_t)st.st_size);
	rc = dg_job_result(job, res);
	json_decref(res);
	return rc;
}

dg_rc dg_ds_export_demo(const struct dg_env *env, struct dg_db *db, const char *resource_id,
			const char *dataset, int64_t user_id, struct dg_err *err)
{
	char dir[PATH_MAX - 64], path[PATH_MAX - 16], part[PATH_MAX];
	struct stat st;
	int64_t job = 0;
	dg_ds_export_dir(env, dir, sizeof dir);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return dg_err_set(err, DG_EIO, "the exports folder cannot be made");
	/* written first under a name of its own, then given its job's */
	snprintf(part, sizeof part, "%s/demo-%s.csv.part", dir, resource_id);
	dg_rc rc = dg_ds_dump_file(db, resource_id, "csv", "label", dir, part, NULL, NULL);
	if (rc == DG_OK && stat(part, &st) != 0)
		rc = DG_EIO;
	json_t *p = export_payload(resource_id, "csv", "zh", dataset);
	json_t *res =
		rc ? NULL : export_result(db, resource_id, "csv", dataset, (int64_t)st.st_size);
	if (rc == DG_OK)
		rc = dg_job_record_done(db, "datastore.export", p, user_id,
					json_integer_value(json_object_get(res, "rows")), res,
					&job);
	snprintf(path, sizeof path, "%s/%lld.csv", dir, (long long)job);
	if (rc == DG_OK && rename(part, path) != 0)
		rc = DG_EIO;
	json_decref(p);
	json_decref(res);
	if (rc != DG_OK) {
		unlink(part);
		return dg_err_set(err, rc, "the demo's export (%s)", dg_rc_name(rc));
	}
	return DG_OK;
}

dg_rc dg_ds_export_sweep_run(struct dg_job *job, struct dg_err *err)
{
	char dir[PATH_MAX - 300], path[PATH_MAX];
	struct dirent *e;
	int gone = 0;
	time_t cutoff = time(NULL) - DG_DS_EXPORT_KEEP_SEC;
	(void)err;
	dg_ds_export_dir(job->env, dir, sizeof dir);
	DIR *d = opendir(dir);
	if (!d)
		return DG_OK; /* nothing exported yet */
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%.255s", dir, e->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < cutoff &&
		    unlink(path) == 0)
			gone++;
	}
	closedir(d);
	if (gone)
		dg_info("datastore.export_sweep: %d exported files past their time removed", gone);
	return DG_OK;
}
