/*
 * load.c - a registry filled from a CSV file in bulk:
 *
 *   POST /api/exchange/registries/{registry}/load?effective=YYYY-MM-DD
 *        (the file as a multipart part, or the body as text/csv)
 *   dgov exchange load REGISTRY FILE --effective DATE
 *
 * Both keep the file under <data>/exchange-loads and queue an
 * "exchange.load" job, whose progress /jobs/{id} shows. The job reads the
 * file through the DataStore loader's private staging (datastore.h:
 * dg_datastore_stage), so the CSV reader, its caps, the COPY and the job's
 * progress are the open data's, and the staged clear values are in a table
 * no DataStore call can name, dropped when the attempt ends.
 *
 * The header is the registry's ID column and its fields, a monthly one as
 * field@YYYY-MM. Every record is first checked as the record API would
 * (x_record_check) while it is staged: one bad record refuses the whole
 * file, naming its line, and nothing is written; so does a record that was
 * ended (looked up once every record is staged). Then each record goes
 * through x_record_put, created or updated (an empty cell leaves the field
 * as it was), 500 to a transaction: sealed values, blind index and the
 * change log are the record API's. The file is removed once the job ends.
 */
#include "exchange/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/date.h"
#include "core/mem.h"
#include "core/rand.h"
#include "core/str.h"
#include "jobs/jobs.h"
#include "opendata/datastore/datastore.h"
#include "web/page.h"

#define LOAD_MAX   ((size_t)48 << 20) /* bytes of a file */
#define LOAD_DIR   "exchange-loads"
#define LOAD_BATCH 500 /* records a transaction */

/*
 * The cap on a file: LOAD_MAX, or less with DGOV_EXCHANGE_LOAD_MAX (bytes,
 * from 1024), for a node that wants smaller loads (and the tests).
 */
static size_t load_max(void)
{
	const char *v = getenv("DGOV_EXCHANGE_LOAD_MAX");
	long long n = v ? strtoll(v, NULL, 10) : 0;
	return n >= 1024 && (size_t)n < LOAD_MAX ? (size_t)n : LOAD_MAX;
}

/* Whether s is a date as YYYY-MM-DD. */
static bool date_ok(const char *s)
{
	dg_day d;
	return s && strlen(s) == 10 && dg_day_parse(s, &d) == DG_OK;
}

/* --- the job --- */

struct xload {
	const struct dg_env *env;
	const struct dg_entity *e;
	const char *effective, *actor;
	size_t ncols;
	int id_col;  /* the column of the record's ID */
	char **keys; /* column -> "field" or "field@YYYY-MM" (NULL for the ID) */
	int *field;  /* column -> the field's index in e */
};

static dg_rc header(void *ctx, size_t ncols, char *const *labels, struct dg_err *err)
{
	struct xload *x = ctx;
	x->ncols = ncols;
	x->id_col = -1;
	x->keys = dg_xcalloc(ncols, sizeof *x->keys);
	x->field = dg_xcalloc(ncols, sizeof *x->field);
	for (size_t i = 0; i < ncols; i++) {
		const char *l = labels[i];
		for (size_t j = 0; j < i; j++)
			if (strcmp(labels[j], l) == 0)
				return dg_err_set(err, DG_EINVAL,
						  "Line 1: column %zu (%.60s) is twice", i + 1, l);
		if (strcmp(l, x->e->id_col) == 0) {
			x->id_col = (int)i;
			continue;
		}
		const char *at = strchr(l, '@');
		char name[256];
		snprintf(name, sizeof name, "%.*s", at ? (int)(at - l) : (int)strlen(l), l);
		int fi = x_field(x->e, name);
		if (fi < 0)
			return dg_err_set(err, DG_EINVAL,
					  "Line 1: column %zu: %s has no field %.60s", i + 1,
					  x->e->name, name);
		if (x->e->f[fi].monthly && !at)
			return dg_err_set(err, DG_EINVAL,
					  "Line 1: column %zu: %.60s is monthly: name a month, "
					  "like %.60s@2026-05",
					  i + 1, name, name);
		/* a bad month or a month of a plain field: normalise says so, by line */
		x->keys[i] = dg_xstrdup(l);
		x->field[i] = fi;
	}
	if (x->id_col < 0)
		return dg_err_set(err, DG_EINVAL, "Line 1: the header has no %s column (the ID)",
				  x->e->id_col);
	if (ncols < 2)
		return dg_err_set(err, DG_EINVAL, "Line 1: the header names no field");
	return DG_OK;
}

/* One cell as the record API takes it: numbers and booleans as JSON ones when they are. */
static json_t *cell(const struct dg_field *f, const char *s)
{
	int64_t n;
	if (f->ty == TY_INT && dg_str_to_i64(dg_str_of(s), &n) == DG_OK)
		return json_integer(n);
	if (f->ty == TY_BOOL && (!strcmp(s, "true") || !strcmp(s, "1")))
		return json_true();
	if (f->ty == TY_BOOL && (!strcmp(s, "false") || !strcmp(s, "0")))
		return json_false();
	return json_string(s);
}

/* The record's values (owned); empty cells are left out. */
static json_t *values_of(const struct xload *x, const char *const *vals)
{
	json_t *v = json_object();
	for (size_t i = 0; i < x->ncols; i++)
		if ((int)i != x->id_col && vals[i])
			json_object_set_new(v, x->keys[i], cell(&x->e->f[x->field[i]], vals[i]));
	return v;
}

/* err's message with the line in front. */
static dg_rc at_line(struct dg_err *err, dg_rc rc, long line)
{
	char msg[sizeof err->msg];
	snprintf(msg, sizeof msg, "%s", err->msg[0] ? err->msg : "the record is refused");
	return dg_err_set(err, rc, "Line %ld: %s", line, msg);
}

static dg_rc check(void *ctx, long line, const char *const *vals, struct dg_err *err)
{
	struct xload *x = ctx;
	const char *id = vals[x->id_col];
	if (!id)
		return dg_err_set(err, DG_EINVAL, "Line %ld: the ID (%s) is empty", line,
				  x->e->id_col);
	json_t *v = values_of(x, vals);
	dg_rc rc = x_record_check(x->e, id, v, x->effective, err);
	json_decref(v);
	return rc ? at_line(err, DG_EINVAL, line) : DG_OK;
}

/*
 * An ended record cannot be loaded again (the record API refuses it too):
 * found before anything is applied, so the whole file is refused.
 */
static dg_rc verify(void *ctx, struct dg_db *db, long line, const char *const *vals,
		    struct dg_err *err)
{
	struct xload *x = ctx;
	struct dg_arena *a = dg_arena_new();
	char *ended = NULL;
	dg_rc rc = dg_db_query_text(
		db,
		"SELECT ended FROM xr_records WHERE registry = ? AND rkey = ?"
		" AND ended IS NOT NULL",
		DG_ARGS(DG_VT(x->e->name), DG_VT(x_record_key(x->env, a, x->e, vals[x->id_col]))),
		a, &ended);
	/* the message is kept with the job: a personal ID only masked */
	if (rc == DG_OK)
		rc = dg_err_set(err, DG_EINVAL, "Line %ld: the record %s was ended on %s", line,
				x_id_personal(x->e) ? dg_mask_id(a, vals[x->id_col])
						    : vals[x->id_col],
				ended);
	else if (rc == DG_ENOTFOUND)
		rc = DG_OK;
	dg_arena_free(a);
	return rc;
}

/* Create or update, as the record API does it. */
static dg_rc apply(void *ctx, struct dg_db *db, long line, const char *const *vals,
		   struct dg_err *err)
{
	struct xload *x = ctx;
	struct dg_arena *a = dg_arena_new();
	json_t *v = values_of(x, vals);
	int64_t version = 0;
	const char *id = vals[x->id_col];
	dg_rc rc = x_record_put(x->env, db, a, x->e, id, v, x->effective, false, x->actor, &version,
				err);
	if (rc == DG_ENOTFOUND)
		rc = x_record_put(x->env, db, a, x->e, id, v, x->effective, true, x->actor,
				  &version, err);
	json_decref(v);
	dg_arena_free(a);
	/* refused by its line (not retried); verify found ended records before any apply */
	if (rc == DG_ECONFLICT || rc == DG_EINVAL)
		return at_line(err, DG_EINVAL, line);
	return rc;
}

dg_rc x_load_run(struct dg_job *job, struct dg_err *err)
{
	const char *reg = json_string_value(json_object_get(job->payload, "registry"));
	const char *path = json_string_value(json_object_get(job->payload, "path"));
	struct xload x = {
		.env = job->env,
		.e = x_registry(reg),
		.effective = json_string_value(json_object_get(job->payload, "effective")),
		.actor = json_string_value(json_object_get(job->payload, "actor")),
	};
	struct dg_ds_stage cb = {header, check, verify, apply, &x, LOAD_BATCH};
	int64_t rows = 0;
	dg_rc rc;
	if (!x.e || !path || !date_ok(x.effective) || !x.actor || !job->env) {
		rc = dg_err_set(err, DG_EINVAL, "The job needs a registry, a file and a date");
		goto out;
	}
	rc = dg_datastore_stage(job, path, &cb, &rows, err);
	if (rc == DG_OK) {
		json_t *res = json_pack("{s:s, s:I, s:s}", "registry", x.e->name, "rows",
					(json_int_t)rows, "effective", x.effective);
		rc = dg_job_result(job, res);
		json_decref(res);
	}
out:
	/* the file holds clear values: kept only while a retry may need it */
	if (path && (rc == DG_OK || rc == DG_EINVAL))
		unlink(path);
	for (size_t i = 0; x.keys && i < x.ncols; i++)
		free(x.keys[i]);
	free(x.keys);
	free(x.field);
	return rc;
}

/* --- queueing a load --- */

/* A new file for a load under <data>/exchange-loads (mode 0600): *fd and its path. */
static dg_rc new_file(const struct dg_env *env, char path[4096], int *fd)
{
	const char *data = env->cfg && env->cfg->data_dir ? env->cfg->data_dir : "data";
	char name[33];
	dg_rand_hex(name, 16);
	/* the data folder first: a node may not have written anything there yet */
	if (mkdir(data, 0700) != 0 && errno != EEXIST)
		return DG_EIO;
	snprintf(path, 4096, "%s/" LOAD_DIR, data);
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return DG_EIO;
	snprintf(path, 4096, "%s/" LOAD_DIR "/%s.csv", data, name);
	*fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	return *fd < 0 ? DG_EIO : DG_OK;
}

/* Write n bytes from p (or, with p NULL, the file at from) into a new load file. */
static dg_rc keep(const struct dg_env *env, const char *p, size_t n, const char *from,
		  char path[4096])
{
	int fd = -1;
	FILE *in = NULL;
	dg_rc rc = new_file(env, path, &fd);
	if (rc)
		return rc;
	char buf[65536];
	if (from && !(in = fopen(from, "rb")))
		rc = DG_EIO;
	while (!rc) {
		size_t k = in ? fread(buf, 1, sizeof buf, in) : n;
		const char *q = in ? buf : p;
		if (k == 0)
			break;
		for (size_t off = 0; !rc && off < k;) {
			ssize_t w = write(fd, q + off, k - off);
			if (w <= 0)
				rc = DG_EIO;
			else
				off += (size_t)w;
		}
		if (!in)
			break;
	}
	if (in && ferror(in))
		rc = DG_EIO;
	if (in)
		fclose(in);
	if (close(fd) != 0)
		rc = DG_EIO;
	if (rc)
		unlink(path);
	return rc;
}

static dg_rc enqueue(struct dg_db *db, const struct dg_entity *e, const char *path,
		     const char *effective, const char *actor, int64_t user, int64_t *job)
{
	json_t *p = json_pack("{s:s, s:s, s:s, s:s}", "registry", e->name, "path", path,
			      "effective", effective, "actor", actor);
	dg_rc rc = dg_job_enqueue(db, "exchange.load", p, user, NULL, job);
	json_decref(p);
	return rc;
}

/* The form's or the query's value of name. */
static const char *param(struct dg_req *r, const char *name)
{
	const char *v = dg_kvs_get(&r->form, name);
	return v ? v : dg_kvs_get(&r->query, name);
}

static dg_rc load_api(struct dg_req *r)
{
	struct dg_db *db = NULL;
	const struct dg_entity *e = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = x_owned_registry(r, db, &e);
	if (rc)
		return rc;
	const char *eff = param(r, "effective");
	if (!date_ok(eff)) {
		dg_reply_json_error(r, DG_EINVAL, "effective must be a date as YYYY-MM-DD",
				    "effective");
		return DG_OK;
	}
	const struct dg_upload *u = r->nuploads ? &r->uploads[0] : NULL;
	size_t size = u ? u->size : r->body ? r->body_len : 0;
	if (!size || r->json) {
		dg_reply_json_error(r, DG_EINVAL,
				    "send the CSV file as a multipart part or a text/csv body",
				    "file");
		return DG_OK;
	}
	if (size > load_max()) {
		dg_reply_json_error(
			r, DG_ETOOBIG,
			dg_arena_printf(r->arena,
					"the file has %zu bytes; a load takes at most %zu", size,
					load_max()),
			"file");
		return DG_OK;
	}
	char path[4096];
	if ((rc = keep(r->env, u ? NULL : r->body, size, u ? u->path : NULL, path)) != DG_OK)
		return dg_err_set(&r->err, rc, "the file could not be kept for the load");
	int64_t job = 0;
	const char *actor = dg_arena_printf(r->arena, "user:%lld", (long long)r->user->id);
	if ((rc = enqueue(db, e, path, eff, actor, r->user->id, &job)) != DG_OK) {
		unlink(path);
		return rc;
	}
	dg_reply_json(r, 202,
		      json_pack("{s:s, s:I, s:s, s:s}", "registry", e->name, "job_id",
				(json_int_t)job, "job",
				dg_arena_printf(r->arena, "/jobs/%lld", (long long)job), "status",
				dg_arena_printf(r->arena, "/api/v1/jobs/%lld", (long long)job)));
	return DG_OK;
}

int x_load_main(struct dg_env *env, const char *registry, const char *file, const char *effective)
{
	const struct dg_entity *e = x_registry(registry);
	struct stat st;
	if (!e) {
		fprintf(stderr, "dgov exchange load: there is no registry %s\n", registry);
		return 2;
	}
	if (!date_ok(effective)) {
		fprintf(stderr, "dgov exchange load: --effective is a date as YYYY-MM-DD\n");
		return 2;
	}
	if (stat(file, &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "dgov exchange load: %s: no such file\n", file);
		return 2;
	}
	if ((size_t)st.st_size > load_max()) {
		fprintf(stderr, "dgov exchange load: %s has %lld bytes; a load takes at most %zu\n",
			file, (long long)st.st_size, load_max());
		return 2;
	}
	char path[4096];
	struct dg_db *db = NULL;
	int64_t job = 0;
	if (keep(env, NULL, 0, file, path) != DG_OK) {
		fprintf(stderr, "dgov exchange load: %s could not be copied for the load\n", file);
		return 1;
	}
	if (dg_db_get(env->store, &db) || enqueue(db, e, path, effective, "cli", 0, &job)) {
		if (db)
			dg_db_put(db);
		unlink(path);
		fprintf(stderr, "dgov exchange load: the store is not available\n");
		return 1;
	}
	dg_db_put(db);
	printf("queued as job %lld: `dgov serve` loads it; progress at /jobs/%lld\n",
	       (long long)job, (long long)job);
	return 0;
}

#define STAFF (DG_ROLE_STAFF | DG_ROLE_ADMIN)

static const struct dg_route routes[] = {
	{"POST", "/api/exchange/registries/{registry}/load", load_api, STAFF, 0},
};

const struct dg_route *x_load_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
