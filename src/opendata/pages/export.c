/*
 * export.c - a large table prepared as a file in the background
 * (datastore/export.c does the work) and fetched when it is ready.
 *
 * The dataset page offers it beside the dumps of a table of
 * DG_DS_EXPORT_OFFER_ROWS rows or more, with the estimated size shown
 * before. POST /data/datasets/{id}/resources/{rid}/export (signed in; the
 * same read check as the dumps) queues the job and sends the person to
 * /data/exports/{job}: its progress (rows written of all), refreshed by a
 * plain "check again" link (no script, no meta refresh: WCAG 2.2.1), then
 * the file's size, a download link and until when it is kept. The file
 * (/data/exports/{job}/file) goes only to the person who asked, while it is
 * kept, and only while they may still read the table: access is checked
 * again at download. Anyone else gets the same 404 as for no such export.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/date.h"
#include "core/log.h"
#include "core/str.h"
#include "jobs/jobs.h"
#include "node/env.h"
#include "opendata/access/access.h"
#include "opendata/catalog/catalog.h"
#include "opendata/datastore/datastore.h"
#include "opendata/pages/pages_int.h"
#include "web/page.h"

static const char *sget(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* POST .../export: queue the file, then to its page. */
static dg_rc export_start(struct dg_req *r)
{
	const char *id = dg_kvs_get(&r->params, "id"), *rid = dg_kvs_get(&r->params, "rid");
	const char *format = dg_req_field(r, "format");
	struct dg_db *db = NULL;
	json_t *pkg = NULL, *res;
	size_t i;
	bool found = false;
	int64_t job = 0;
	dg_rc rc = dg_req_db(r, &db);
	if (rc)
		return rc;
	if ((rc = dg_od_package_show(db, id ? id : "", &pkg)) == DG_ENOTFOUND)
		return dg_err_set(&r->err, rc, "%s", dg_t(r, "odp.err.no_dataset"));
	if (rc)
		return rc;
	json_array_foreach (json_object_get(pkg, "resources"), i, res)
		found |= rid && strcmp(sget(res, "id"), rid) == 0;
	const char *name = dg_arena_strdup(r->arena, sget(pkg, "name"));
	json_decref(pkg);
	if (!found)
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "odp.err.no_dataset"));
	if (!dg_ds_export_format_ok(format))
		return dg_err_set(&r->err, DG_EINVAL, "%s", dg_t(r, "odp.export.err.format"));
	/* the dumps' check: a closed or conditional table is not exported to anyone else */
	if ((rc = dg_datastore_check(r, db, rid, false, false, &r->err)) != DG_OK)
		return rc;
	rc = dg_ds_export_queue(db, rid, format, r->lang, name, r->user->id, &job);
	if (rc)
		return rc;
	dg_info("req=%s user %lld queued export %lld of %s", r->id, (long long)r->user->id,
		(long long)job, rid);
	dg_reply_redirect(r, dg_arena_printf(r->arena, "/data/exports/%lld", (long long)job));
	return DG_OK;
}

/* The export job named by the path, if it is the requester's own; else ENOTFOUND. */
static dg_rc load_own(struct dg_req *r, struct dg_db **db, json_t **job)
{
	int64_t id = 0;
	const char *sid = dg_kvs_get(&r->params, "job");
	*job = NULL;
	if (!sid || dg_str_to_i64(dg_str_of(sid), &id) || id <= 0)
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "odp.export.err.none"));
	dg_rc rc = dg_req_db(r, db);
	if (!rc)
		rc = dg_job_get_json(*db, id, job);
	if (!rc && (strcmp(sget(*job, "kind"), "datastore.export") ||
		    json_integer_value(json_object_get(*job, "created_by")) != r->user->id))
		rc = DG_ENOTFOUND;
	if (rc == DG_ENOTFOUND) {
		json_decref(*job);
		*job = NULL;
		dg_err_set(&r->err, rc, "%s", dg_t(r, "odp.export.err.none"));
	}
	if (*job)
		dg_arena_defer(r->arena, (void (*)(void *))json_decref, *job);
	return rc;
}

/* "2026-12-08 14:05", local time. */
static const char *when_text(struct dg_req *r, int64_t ms)
{
	char buf[32];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
	return dg_arena_strdup(r->arena, buf);
}

static dg_rc export_page(struct dg_req *r)
{
	struct dg_db *db = NULL;
	json_t *job = NULL;
	dg_rc rc = load_own(r, &db, &job);
	if (rc)
		return rc;
	json_t *res = json_object_get(job, "result");
	json_t *prog = json_object_get(job, "progress");
	int64_t done = json_integer_value(json_object_get(prog, "done"));
	int64_t total = json_integer_value(json_object_get(prog, "total"));
	const char *state = sget(job, "state");
	bool ready = strcmp(state, "done") == 0;
	int64_t expires = json_integer_value(json_object_get(res, "expires_ms"));
	json_t *d = json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:b, s:b, s:b}", "id",
			      json_integer_value(json_object_get(job, "id")), "state", state,
			      "format", sget(res, "format"), "dataset", sget(res, "dataset"),
			      "done", (json_int_t)done, "total", (json_int_t)total, "percent",
			      (json_int_t)(ready       ? 100
					   : total > 0 ? done * 100 / total
						       : 0),
			      "ready", ready, "failed", strcmp(state, "failed") == 0, "gone",
			      ready && expires <= dg_now_ms());
	if (ready) {
		json_object_set_new(
			d, "size",
			json_string(dg_od_size_text(
				r, (double)json_integer_value(json_object_get(res, "bytes")))));
		json_object_set_new(d, "rows",
				    json_string(dg_count_text(
					    r, json_integer_value(json_object_get(res, "rows")))));
		json_object_set_new(d, "expires", json_string(when_text(r, expires)));
	}
	/* the progress bar takes the numbers; the words beside it, the counts for people */
	json_object_set_new(d, "done_text", json_string(dg_count_text(r, done)));
	json_object_set_new(d, "total_text", json_string(dg_count_text(r, total)));
	json_object_set_new(d, "keep_hours", json_integer(DG_DS_EXPORT_KEEP_SEC / 3600));
	json_object_set_new(d, "title", json_string(dg_t(r, "odp.export.title")));
	return dg_page(r, 200, "data/export.html", d);
}

/* The file: the asker's own, kept, and a table they may still read. */
static dg_rc export_file(struct dg_req *r)
{
	struct dg_db *db = NULL;
	json_t *job = NULL;
	char dir[PATH_MAX - 64], path[PATH_MAX];
	dg_rc rc = load_own(r, &db, &job);
	if (rc)
		return rc;
	json_t *res = json_object_get(job, "result");
	const char *rid = sget(res, "resource_id"), *format = sget(res, "format");
	if (strcmp(sget(job, "state"), "done") || !dg_ds_export_format_ok(format))
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "odp.export.err.not_ready"));
	dg_ds_export_dir(r->env, dir, sizeof dir);
	snprintf(path, sizeof path, "%s/%lld.%s", dir,
		 (long long)json_integer_value(json_object_get(job, "id")), format);
	if (json_integer_value(json_object_get(res, "expires_ms")) <= dg_now_ms()) {
		unlink(path); /* past its time, whether or not the sweep came by yet */
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "odp.export.err.gone"));
	}
	/* who may read the table may have changed since the file was made */
	if ((rc = dg_datastore_check(r, db, rid, false, false, &r->err)) != DG_OK)
		return rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t size = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
	if (fd < 0 || size < 0 || lseek(fd, 0, SEEK_SET) != 0) {
		if (fd >= 0)
			close(fd);
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "odp.export.err.gone"));
	}
	const char *name = sget(res, "dataset");
	dg_reply_file(r, 200, dg_datastore_dump_type(format), fd, (uint64_t)size);
	/* the dataset's URL name: letters, digits, '-' and '_' only, safe in the header */
	dg_reply_header(r, "Content-Disposition",
			dg_arena_printf(r->arena, "attachment; filename=\"%s.%s\"",
					*name ? name : "export", format));
	if (dg_od_count(r, db, DG_OD_DOWNLOAD, "", rid, 0) != DG_OK)
		dg_warn("req=%s could not count the download", r->id);
	return DG_OK;
}

static const struct dg_route routes[] = {
	{"POST", "/data/datasets/{id}/resources/{rid}/export", export_start, DG_ROLE_USER, 0},
	{"GET", "/data/exports/{job}", export_page, DG_ROLE_USER, 0},
	{"GET", "/data/exports/{job}/file", export_file, DG_ROLE_USER, 0},
};

const struct dg_route *dg_od_export_routes(size_t *n)
{
	*n = sizeof routes / sizeof routes[0];
	return routes;
}
