/*
 * external.c - what the modules above cases may do to an applicant's draft
 * (cases.h, "for the modules above"): the exchange's pre-fill step reads the
 * draft, fills answers from the registries and attaches documents fetched
 * from a department or uploaded instead. Each call checks that the case is
 * the applicant's and still a draft, so nothing here reaches a submitted
 * case or another person's.
 */
#include "cases/cases.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cases/internal.h"
#include "core/date.h"
#include "core/str.h"
#include "http/upload.h"

dg_rc dg_case_draft_get(struct dg_db *db, const struct dg_keys *k, const char *ref, int64_t user_id,
			struct dg_case_draft *out, json_t **form, json_t **answers)
{
	struct dg_rows *rows = NULL;
	memset(out, 0, sizeof(*out));
	*form = *answers = NULL;
	if (!ref || strlen(ref) >= sizeof(out->ref))
		return DG_ENOTFOUND;
	dg_rc rc = dg_db_query(db,
			       "SELECT c.id, c.ref, c.item_code, c.dept_id, d.code, c.form,"
			       " c.answers, c.prefilled FROM cases c"
			       " JOIN departments d ON d.id = c.dept_id"
			       " WHERE c.ref = ? AND c.applicant_id = ? AND c.status = 'draft'",
			       DG_ARGS(DG_VT(ref), DG_VI(user_id)), &rows);
	if (!rc)
		rc = dg_rows_next(rows);
	if (!rc) {
		out->id = dg_rows_int(rows, 0);
		snprintf(out->ref, sizeof out->ref, "%s", dg_rows_text(rows, 1));
		snprintf(out->item_code, sizeof out->item_code, "%s", dg_rows_text(rows, 2));
		out->dept_id = dg_rows_int(rows, 3);
		snprintf(out->dept_code, sizeof out->dept_code, "%s", dg_rows_text(rows, 4));
		*form = json_loads(dg_rows_text(rows, 5), 0, NULL);
		*answers = case_open_answers(k, dg_rows_text(rows, 6));
		json_t *pre = json_loads(dg_rows_text(rows, 7), 0, NULL);
		out->prefilled = pre ? pre : json_array();
		if (!*form || !*answers)
			rc = DG_EINTERNAL;
	}
	dg_rows_free(rows);
	if (rc) {
		json_decref(*form);
		json_decref(*answers);
		json_decref(out->prefilled);
		*form = *answers = NULL;
		out->prefilled = NULL;
	}
	return rc;
}

void dg_case_draft_release(struct dg_case_draft *d)
{
	json_decref(d->prefilled);
	d->prefilled = NULL;
}

dg_rc dg_case_draft_prefill(struct dg_db *db, const struct dg_keys *k,
			    const struct dg_case_draft *d, json_t *answers, const json_t *values)
{
	json_t *pre = json_deep_copy(d->prefilled), *v;
	const char *name;
	json_object_foreach ((json_t *)values, name, v) {
		json_object_set(answers, name, v);
		bool seen = false;
		size_t i;
		json_t *p;
		json_array_foreach (pre, i, p)
			seen = seen || !strcmp(json_string_value(p), name);
		if (!seen)
			json_array_append_new(pre, json_string(name));
	}
	char *pre_s = json_dumps(pre, JSON_COMPACT);
	json_decref(pre);
	dg_rc rc = pre_s ? case_save_answers(db, k, d->id, answers) : DG_EINTERNAL;
	if (!rc)
		rc = dg_db_exec(db, "UPDATE cases SET prefilled = ? WHERE id = ?",
				DG_ARGS(DG_VT(pre_s), DG_VI(d->id)), NULL);
	free(pre_s);
	return rc;
}

/* Keep u (a temporary file) as a document of the draft. */
static dg_rc keep(struct dg_db *db, const struct dg_keys *k, const char *data_dir,
		  const struct dg_case_draft *d, const char *field, const char *filename,
		  const char *mime, const struct dg_upload *u, int64_t *id)
{
	char dir[4096], name[33], hex[65], path[4200];
	snprintf(dir, sizeof dir, "%s/cases", data_dir);
	if (dg_upload_keep(u, dir, name, hex))
		return DG_EIO;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	dg_rc rc = case_add_file(db, k, d->id, field, filename, mime, (int64_t)u->size, hex, name,
				 "apply", id);
	if (rc)
		unlink(path);
	return rc;
}

dg_rc dg_case_draft_attach(struct dg_db *db, const struct dg_keys *k, const char *data_dir,
			   const struct dg_case_draft *d, const char *field, const char *filename,
			   const char *mime, const char *bytes, size_t n, int64_t *id)
{
	char dir[4096], tmp[4200];
	snprintf(dir, sizeof dir, "%s/cases", data_dir);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return DG_EIO;
	snprintf(tmp, sizeof tmp, "%s/.fetch-XXXXXX", dir);
	int fd = mkstemp(tmp);
	if (fd < 0)
		return DG_EIO;
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(fd, bytes + done, n - done);
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	close(fd);
	if (done != n) {
		unlink(tmp);
		return DG_EIO;
	}
	struct dg_upload u = {.field = field, .filename = filename, .path = tmp, .size = n};
	dg_rc rc = keep(db, k, data_dir, d, field, filename, mime, &u, id);
	if (rc)
		unlink(tmp);
	return rc;
}

dg_rc dg_case_draft_attach_upload(struct dg_db *db, const struct dg_keys *k, const char *data_dir,
				  const struct dg_case_draft *d, const char *field,
				  const struct dg_upload *u, int64_t *id)
{
	unsigned char head[16];
	if (u->size > CASE_FILE_MAX)
		return DG_ETOOBIG;
	int fd = open(u->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return DG_EINVAL;
	ssize_t got = read(fd, head, sizeof(head));
	close(fd);
	const char *mime = got > 0 ? case_sniff(head, (size_t)got) : NULL;
	if (!mime)
		return DG_EINVAL;
	const char *fname = u->filename && *u->filename &&
					    dg_utf8_valid(u->filename, strlen(u->filename)) &&
					    strlen(u->filename) < 200
				    ? u->filename
				    : "document";
	return keep(db, k, data_dir, d, field, fname, mime, u, id);
}
