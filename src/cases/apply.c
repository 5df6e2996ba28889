/*
 * apply.c - the applicant's pages: the start page of an item, one question
 * page after another (saved as they go, so an application can be left and
 * resumed), uploads, check your answers, submission with a confirmation that
 * says what happens next and by when, "my cases" with each case's timeline,
 * withdrawing within ten minutes, answering a request for more material, and
 * rating a case that has ended.
 */
#include "cases/internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "cal/cal.h"
#include "cases/cases.h"
#include "catalog/catalog.h"
#include "core/config.h"
#include "core/keys.h"
#include "core/log.h"
#include "core/str.h"
#include "http/upload.h"
#include "node/env.h"
#include "web/page.h"

static const char *str_of(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static int is_en(const struct dg_req *r)
{
	return !strcmp(r->lang, "en");
}

dg_rc case_staff_viewed(struct dg_req *r, struct dg_db *db, const json_t *c, const char *what)
{
	if ((r->user->role != DG_ROLE_STAFF && r->user->role != DG_ROLE_ADMIN) ||
	    !r->env->record_viewed)
		return DG_OK;
	return r->env->record_viewed(r, db, json_integer_value(json_object_get(c, "applicant_id")),
				     str_of(c, "ref"), str_of(c, "item_code"), what);
}

dg_rc case_fail(struct dg_req *r, dg_rc rc, const struct dg_err *err)
{
	dg_err_field(&r->err, rc, err->field, "%s",
		     dg_t(r, err->msg[0] ? err->msg : "error.store"));
	return rc;
}

int case_store_fault(dg_rc rc)
{
	return rc == DG_ENOSPC || rc == DG_EUNAVAIL || rc == DG_EDB || rc == DG_EIO;
}

const char *case_fault_message(struct dg_req *r, dg_rc rc)
{
	unsigned st = dg_rc_http_status(rc);
	char key[32];
	snprintf(key, sizeof(key), "error.%u.body", st == 507 || st == 503 ? st : 500);
	return dg_arena_printf(r->arena, "%s %s", dg_t(r, key), dg_t(r, "cases.err.kept"));
}

dg_rc case_tx(struct dg_req *r, case_tx_fn fn, void *arg, struct dg_err *err)
{
	struct dg_db *db = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc && (rc = dg_db_begin(db)) == DG_OK) {
		rc = fn(r, db, arg, err);
		if (!rc)
			rc = dg_db_commit(db);
		if (rc)
			dg_db_rollback(db);
	}
	if (rc && !err->msg[0])
		dg_err_set(err, rc, "error.store");
	return rc;
}

/* The case {ref} of the request and who is acting. */
static const char *ref_who(struct dg_req *r, struct case_actor *who)
{
	case_actor_of(r, who);
	return dg_kvs_get(&r->params, "ref");
}

/* Names, labels and status words in the reader's language, on a case or a list entry. */
void case_localise(struct dg_req *r, json_t *c)
{
	int en = is_en(r);
	json_object_set(c, "item_name", json_object_get(c, en ? "item_name_en" : "item_name_zh"));
	json_object_set(c, "dept_name", json_object_get(c, en ? "dept_name_en" : "dept_name_zh"));
	const char *st = str_of(c, "status");
	json_object_set_new(c, "status_label",
			    json_string(dg_t(r, dg_arena_printf(r->arena, "cases.status.%s", st))));
	const char *due = str_of(c, "due_state");
	if (*due)
		json_object_set_new(
			c, "due_label",
			json_string(dg_t(r, dg_arena_printf(r->arena, "cases.due.%s", due))));
	json_t *ev;
	size_t i;
	json_array_foreach (json_object_get(c, "events"), i, ev) {
		json_object_set_new(ev, "label",
				    json_string(dg_t(r, dg_arena_printf(r->arena, "cases.action.%s",
									str_of(ev, "action")))));
		json_object_set(ev, "dept_name",
				json_object_get(ev, en ? "dept_name_en" : "dept_name_zh"));
		json_object_set_new(ev, "when",
				    json_string(case_time(
					    r, json_integer_value(json_object_get(ev, "at_ms")))));
	}
	json_t *rect = json_object_get(c, "rectification");
	if (rect)
		json_object_set_new(rect, "stage_label",
				    json_string(dg_t(r, dg_arena_printf(r->arena, "cases.stage.%s",
									str_of(rect, "stage")))));
}

const char *case_time(struct dg_req *r, int64_t ms)
{
	if (ms <= 0)
		return "";
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char s[32];
	localtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%d %H:%M", &tm);
	return dg_arena_strdup(r->arena, s);
}

/* The labels of a form page in the reader's language, with answers and upload names. */
static json_t *page_view(struct dg_req *r, const json_t *page, const json_t *answers,
			 const json_t *prefilled, const json_t *files)
{
	int en = is_en(r);
	json_t *out = json_object(), *fields = json_array(), *f, *o;
	size_t i, j;
	json_object_set(out, "title", json_object_get(page, en ? "title_en" : "title_zh"));
	json_object_set(out, "id", json_object_get(page, "id"));
	json_array_foreach (json_object_get(page, "fields"), i, f) {
		if (!case_field_shown(f, answers))
			continue;
		const char *name = str_of(f, "name"), *type = str_of(f, "type");
		json_t *v = json_object_get(answers, name);
		json_t *fv =
			json_pack("{s:s, s:s, s:O, s:O, s:b}", "name", name, "type", type, "label",
				  json_object_get(f, en ? "label_en" : "label_zh"), "hint",
				  json_object_get(f, en ? "hint_en" : "hint_zh")
					  ? json_object_get(f, en ? "hint_en" : "hint_zh")
					  : json_null(),
				  "required", json_is_true(json_object_get(f, "required")));
		json_object_set_new(fv, dg_arena_printf(r->arena, "is_%s", type), json_true());
		json_object_set_new(fv, "value", v ? json_incref(v) : json_string(""));
		/* from the account: fixed, and shown masked like the account shows it */
		if (case_answer_fixed(prefilled, answers, name)) {
			json_object_set_new(fv, "prefilled", json_true());
			json_object_set_new(fv, "fixed", json_true());
			const char *sv = json_string_value(v);
			json_object_set_new(
				fv, "fixed_value",
				json_string(!strcmp(type, "id_number") ? dg_mask_id(r->arena, sv)
					    : !strcmp(type, "phone")   ? dg_mask_phone(r->arena, sv)
								       : sv));
		}
		json_t *opts = json_array();
		json_array_foreach (json_object_get(f, "options"), j, o) {
			const char *val = str_of(o, "value");
			json_array_append_new(
				opts, json_pack("{s:s, s:O, s:b}", "value", val, "label",
						json_object_get(o, en ? "en" : "zh"), "checked",
						v && json_is_string(v) &&
							!strcmp(json_string_value(v), val)));
		}
		json_object_set_new(fv, "options", opts);
		if (!strcmp(type, "file") && v) {
			json_array_foreach (files, j, o)
				if (!strcmp(dg_arena_printf(r->arena, "%lld",
							    (long long)json_integer_value(
								    json_object_get(o, "id"))),
					    json_string_value(v)))
					json_object_set(fv, "file", o);
		}
		/* what the check-answers page shows for a choice: its label */
		json_object_set_new(fv, "shown", v ? json_incref(v) : json_string(""));
		json_array_foreach (json_object_get(fv, "options"), j, o)
			if (json_is_true(json_object_get(o, "checked")))
				json_object_set(fv, "shown", json_object_get(o, "label"));
		if (json_object_get(fv, "file"))
			json_object_set(fv, "shown",
					json_object_get(json_object_get(fv, "file"), "filename"));
		json_array_append_new(fields, fv);
	}
	json_object_set_new(out, "fields", fields);
	return out;
}

/* The signed-in applicant's draft by {ref}: ENOTFOUND for anyone else's. */
static dg_rc load_own(struct dg_req *r, json_t **c)
{
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	struct case_actor who;
	case_actor_of(r, &who);
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = case_get(db, dg_kvs_get(&r->params, "ref"), &who, c, &err);
	if (!rc && json_integer_value(json_object_get(*c, "applicant_id")) != who.user_id) {
		json_decref(*c);
		*c = NULL;
		rc = DG_ENOTFOUND;
		dg_err_set(&err, rc, "cases.err.no_case");
	}
	return rc ? case_fail(r, rc, &err) : DG_OK;
}

/* ---- start --------------------------------------------------------- */

static dg_rc item_of(struct dg_req *r, json_t **item)
{
	struct dg_db *db = NULL;
	const char *code = dg_kvs_get(&r->params, "code");
	dg_rc rc = code && strlen(code) <= 40 ? dg_req_db(r, &db) : DG_ENOTFOUND;
	if (!rc)
		rc = dg_catalog_item(db, code, item);
	if (!rc && strcmp(str_of(*item, "status"), "active")) {
		json_decref(*item);
		*item = NULL;
		rc = DG_ENOTFOUND;
	}
	if (rc == DG_ENOTFOUND)
		dg_err_set(&r->err, rc, "%s", dg_t(r, "cases.err.no_item"));
	return rc;
}

static dg_rc page_start(struct dg_req *r)
{
	json_t *item = NULL;
	dg_rc rc = item_of(r, &item);
	if (rc)
		return rc;
	int en = is_en(r);
	json_t *d = json_object();
	json_object_set(item, "name", json_object_get(item, en ? "name_en" : "name_zh"));
	json_object_set(item, "dept_name",
			json_object_get(item, en ? "dept_name_en" : "dept_name_zh"));
	json_t *m, *shared = json_array(), *yours = json_array();
	size_t i;
	json_array_foreach (json_object_get(item, "materials"), i, m) {
		json_t *e = json_pack("{s:O, s:b}", "name",
				      json_object_get(m, en ? "name_en" : "name_zh"), "required",
				      json_is_true(json_object_get(m, "required")));
		json_array_append_new(!strcmp(str_of(m, "source"), "department") ? shared : yours,
				      e);
	}
	json_object_set_new(d, "shared", shared);
	json_object_set_new(d, "yours", yours);
	enum dg_role role = dg_req_role(r);
	json_object_set_new(d, "counter_only",
			    json_boolean(!strcmp(str_of(item, "depth"), "info")));
	json_object_set_new(d, "may_apply",
			    json_boolean(role == DG_ROLE_CITIZEN || role == DG_ROLE_AGENT));
	json_object_set_new(d, "anon", json_boolean(role == DG_ROLE_ANON));
	/* the wrong kind of account is told what to do instead, not only that it does not fit */
	bool person_item = !strcmp(str_of(item, "audience"), "person"),
	     enterprise_item = !strcmp(str_of(item, "audience"), "enterprise");
	json_object_set_new(d, "wrong_audience",
			    json_boolean((role == DG_ROLE_AGENT && person_item) ||
					 (role == DG_ROLE_CITIZEN && enterprise_item)));
	json_object_set_new(d, "enterprise_item", json_boolean(enterprise_item));
	const char *theme = json_string_value(json_array_get(json_object_get(item, "themes"), 0));
	json_object_set_new(
		d, "fitting_href",
		json_string(dg_arena_printf(r->arena, "/services?audience=%s%s%s",
					    role == DG_ROLE_AGENT ? "enterprise" : "person",
					    theme ? "&theme=" : "", theme ? theme : "")));
	if (r->user && (role == DG_ROLE_CITIZEN || role == DG_ROLE_AGENT)) {
		/* a saved application of this item is offered for resuming */
		struct dg_db *db = NULL;
		char *ref = NULL;
		rc = dg_req_db(r, &db);
		if (!rc)
			rc = dg_db_query_text(
				db,
				"SELECT ref FROM cases WHERE applicant_id = ? AND item_code = ? "
				"AND status = 'draft'"
				" ORDER BY id DESC LIMIT 1",
				DG_ARGS(DG_VI(r->user->id), DG_VT(str_of(item, "code"))), r->arena,
				&ref);
		if (rc && rc != DG_ENOTFOUND) {
			json_decref(item);
			json_decref(d);
			return rc;
		}
		if (ref)
			json_object_set_new(d, "draft", json_string(ref));
	}
	json_object_set(d, "title", json_object_get(item, "name"));
	json_object_set_new(d, "item", item);
	return dg_page(r, 200, "cases/start.html", d);
}

struct start_arg {
	json_t *item, *me;
	char ref[CASE_REF_MAX];
};

static dg_rc start_tx(struct dg_req *r, struct dg_db *db, void *arg, struct dg_err *err)
{
	struct start_arg *a = arg;
	struct case_actor who;
	case_actor_of(r, &who);
	return case_create(db, a->item, &who, a->me, a->ref, err);
}

static dg_rc post_start(struct dg_req *r)
{
	json_t *item = NULL;
	struct dg_err err = {0};
	struct case_actor who;
	case_actor_of(r, &who);
	dg_rc rc = item_of(r, &item);
	if (rc)
		return rc;
	const char *why = case_may_apply(&who, item);
	if (why) {
		json_decref(item);
		return dg_err_set(&r->err, DG_EDENIED, "%s", dg_t(r, why));
	}
	struct start_arg a = {.item = item};
	rc = dg_auth_me_json(r, true, &a.me);
	if (!rc)
		rc = case_tx(r, start_tx, &a, &err);
	json_decref(a.me);
	if (rc) {
		json_decref(item);
		return case_fail(r, rc, &err);
	}
	/* when departments hold some of the answers, the applicant first sees what would be
	 * fetched and from whom (the exchange's pre-fill step), then the form */
	bool fetch = r->env->prefill_offered && r->env->prefill_offered(item);
	json_decref(item);
	dg_reply_redirect(r, dg_arena_printf(r->arena,
					     fetch ? "/my/cases/%s/prefill" : "/my/cases/%s/form/1",
					     a.ref));
	return DG_OK;
}

/* ---- question pages -------------------------------------------------- */

/* The form page number {n} (1-based) of c, or 0. */
static size_t page_no(struct dg_req *r, const json_t *c)
{
	int64_t n = 0;
	size_t count = json_array_size(json_object_get(json_object_get(c, "form"), "pages"));
	if (dg_str_to_i64(dg_str_of(dg_kvs_get(&r->params, "n")), &n) || n < 1 || (size_t)n > count)
		return 0;
	return (size_t)n;
}

/* The next (dir 1) or previous (dir -1) page after n that asks something, or 0. */
static size_t next_shown(const json_t *c, size_t n, int dir)
{
	json_t *pages = json_object_get(json_object_get(c, "form"), "pages");
	json_t *answers = json_object_get(c, "answers");
	for (long k = (long)n + dir; k >= 1 && k <= (long)json_array_size(pages); k += dir)
		if (case_page_shown(json_array_get(pages, (size_t)k - 1), answers))
			return (size_t)k;
	return 0;
}

static dg_rc render_question(struct dg_req *r, json_t *c, size_t n, unsigned status, json_t *d)
{
	json_t *pages = json_object_get(json_object_get(c, "form"), "pages");
	json_t *view = page_view(r, json_array_get(pages, n - 1), json_object_get(c, "answers"),
				 json_object_get(c, "prefilled"), json_object_get(c, "files"));
	case_localise(r, c);
	size_t prev = next_shown(c, n, -1);
	json_object_set_new(d, "back",
			    json_string(prev ? dg_arena_printf(r->arena, "/my/cases/%s/form/%zu",
							       str_of(c, "ref"), prev)
					     : dg_arena_printf(r->arena, "/services/%s/apply",
							       str_of(c, "item_code"))));
	json_object_set_new(d, "step", json_integer((json_int_t)n));
	json_object_set_new(d, "steps", json_integer((json_int_t)json_array_size(pages)));
	json_object_set_new(d, "action",
			    json_string(dg_arena_printf(r->arena, "/my/cases/%s/form/%zu",
							str_of(c, "ref"), n)));
	json_object_set(d, "title", json_object_get(view, "title"));
	json_t *f, *errs = json_object_get(d, "error_for"), *sources = NULL;
	size_t i;
	int multipart = 0;
	/* answers fetched from a department's registry say which and how fresh */
	if (r->env->prefill_sources && r->env->prefill_sources(r, str_of(c, "ref"), &sources))
		sources = NULL;
	json_array_foreach (json_object_get(view, "fields"), i, f) {
		json_t *src = json_object_get(sources, str_of(f, "name"));
		if (src && json_is_true(json_object_get(f, "fixed")))
			json_object_set(f, "source", src);
		multipart |= !strcmp(str_of(f, "type"), "file");
		if (json_object_get(errs, str_of(f, "name")))
			json_object_set(f, "error", json_object_get(errs, str_of(f, "name")));
	}
	json_decref(sources);
	json_object_set_new(d, "multipart", json_boolean(multipart));
	json_object_set_new(d, "page", view);
	json_object_set_new(d, "case", c);
	return dg_page(r, status, "cases/question.html", d);
}

static dg_rc page_question(struct dg_req *r)
{
	json_t *c = NULL;
	dg_rc rc = load_own(r, &c);
	if (rc)
		return rc;
	size_t n = page_no(r, c);
	if (!n) {
		json_decref(c);
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "cases.err.no_page"));
	}
	if (strcmp(str_of(c, "status"), "draft")) {
		dg_reply_redirect(r, dg_arena_printf(r->arena, "/my/cases/%s", str_of(c, "ref")));
		json_decref(c);
		return DG_OK;
	}
	return render_question(r, c, n, 200, json_object());
}

static const struct dg_upload *upload_for(const struct dg_req *r, const char *field)
{
	for (size_t i = 0; i < r->nuploads; i++)
		if (!strcmp(r->uploads[i].field, field) && r->uploads[i].size > 0)
			return &r->uploads[i];
	return NULL;
}

/* Check an upload: its type by its first bytes, and its size. An i18n key when refused. */
static const char *upload_problem(const struct dg_upload *u, const char **mime)
{
	unsigned char head[16];
	*mime = NULL;
	if (u->size > CASE_FILE_MAX)
		return "cases.err.file_big";
	int fd = open(u->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return "cases.err.file_type";
	ssize_t got = read(fd, head, sizeof(head));
	close(fd);
	*mime = got > 0 ? case_sniff(head, (size_t)got) : NULL;
	return *mime ? NULL : "cases.err.file_type";
}

/* Keep an upload outside the web root: data/cases/<random>, with its hash. */
static dg_rc keep_upload(struct dg_req *r, int64_t case_id, const struct dg_upload *u,
			 const char *field, const char *mime, const char *stage, int64_t *id)
{
	char dir[4096], name[33], path[4200], hex[65];
	snprintf(dir, sizeof(dir), "%s/cases", r->env->cfg->data_dir);
	if (dg_upload_keep(u, dir, name, hex))
		return dg_err_set(&r->err, DG_EIO, "%s", dg_t(r, "cases.err.file_store"));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct dg_db *db = NULL;
	dg_rc rc = dg_req_db(r, &db);
	const char *fname = u->filename && *u->filename &&
					    dg_utf8_valid(u->filename, strlen(u->filename)) &&
					    strlen(u->filename) < 200
				    ? u->filename
				    : "document";
	if (!rc)
		rc = case_add_file(db, &r->env->keys, case_id, field, fname, mime, (int64_t)u->size,
				   hex, name, stage, id);
	if (rc) {
		unlink(path);
		return dg_err_set(&r->err, rc, "%s",
				  dg_t(r, rc == DG_ETOOBIG ? "cases.err.files_many"
							   : "cases.err.file_store"));
	}
	return DG_OK;
}

static dg_rc post_question(struct dg_req *r)
{
	json_t *c = NULL, *f;
	size_t i;
	struct dg_db *db = NULL;
	dg_rc rc = load_own(r, &c);
	if (rc)
		return rc;
	size_t n = page_no(r, c);
	if (!n || strcmp(str_of(c, "status"), "draft")) {
		json_decref(c);
		return dg_err_set(&r->err, n ? DG_ECONFLICT : DG_ENOTFOUND, "%s",
				  dg_t(r, n ? "cases.err.not_draft" : "cases.err.no_page"));
	}
	json_t *page = json_array_get(json_object_get(json_object_get(c, "form"), "pages"), n - 1);
	json_t *answers = json_deep_copy(json_object_get(c, "answers"));
	json_t *errs = json_array(), *pending = json_object();
	/* text answers from the form; uploads are checked first and kept only when the page is
	 * right */
	json_array_foreach (json_object_get(page, "fields"), i, f) {
		const char *name = str_of(f, "name");
		if (!strcmp(str_of(f, "type"), "file")) {
			const struct dg_upload *u = upload_for(r, name);
			const char *mime = NULL, *why = u ? upload_problem(u, &mime) : NULL;
			if (why) {
				json_array_append_new(
					errs,
					json_pack("{s:s, s:s}", "field", name, "message",
						  dg_arena_printf(r->arena, "%s%s%s",
								  str_of(f, is_en(r) ? "label_en"
										     : "label_zh"),
								  is_en(r) ? ": " : "：",
								  dg_t(r, why))));
			} else if (u) {
				json_object_set_new(pending, name, json_string(mime));
				json_object_set_new(answers, name, json_string("pending"));
			}
			continue;
		}
		const char *v = dg_kvs_get(&r->form, name);
		if (case_answer_fixed(json_object_get(c, "prefilled"), answers, name)) {
			/* the account's identity stays; another one sent instead is refused */
			if (v && *v && strcmp(v, json_string_value(json_object_get(answers, name))))
				case_field_error(r, errs, f, "cases.err.fixed");
			continue;
		}
		if (v && *v)
			json_object_set_new(answers, name, json_string(v));
		else
			json_object_del(answers, name);
	}
	/* "save and come back later" keeps whatever is filled in; only wrong answers stop it */
	bool later = dg_req_field(r, "later") != NULL;
	if (later)
		case_check_filled(r, page, answers, errs);
	else
		case_check_page(r, page, answers, errs);
	if (json_array_size(errs)) {
		json_t *d = json_object(), *e;
		json_array_foreach (errs, i, e)
			dg_form_error(d, str_of(e, "field"), str_of(e, "message"));
		json_decref(errs);
		json_decref(pending);
		/* the page shows what was typed, so nothing has to be typed twice */
		json_object_set_new(c, "answers", answers);
		json_array_foreach (json_object_get(page, "fields"), i, f)
			if (!strcmp(json_string_value(json_object_get(answers, str_of(f, "name")))
					    ? json_string_value(
						      json_object_get(answers, str_of(f, "name")))
					    : "",
				    "pending"))
				json_object_del(answers, str_of(f, "name"));
		return render_question(r, c, n, dg_rc_form_status(DG_EINVAL), d);
	}
	json_decref(errs);
	int64_t case_id = json_integer_value(json_object_get(c, "id"));
	const char *k;
	json_t *mime;
	json_object_foreach (pending, k, mime) {
		int64_t fid = 0;
		rc = keep_upload(r, case_id, upload_for(r, k), k, json_string_value(mime),
				 "application", &fid);
		if (rc)
			break;
		json_object_set_new(answers, k,
				    json_string(dg_arena_printf(r->arena, "%lld", (long long)fid)));
	}
	json_decref(pending);
	if (!rc)
		rc = dg_req_db(r, &db);
	if (!rc)
		rc = case_save_answers(db, &r->env->keys, case_id, answers);
	if (rc == DG_ECONFLICT)
		dg_err_set(&r->err, rc, "%s", dg_t(r, "cases.err.not_draft"));
	if (case_store_fault(rc)) {
		/* nothing was saved, and nothing typed is lost: the page again, with the answers */
		json_t *d = json_object();
		json_array_foreach (json_object_get(page, "fields"), i, f) {
			const char *fv =
				json_string_value(json_object_get(answers, str_of(f, "name")));
			if (!strcmp(str_of(f, "type"), "file") && fv && !strcmp(fv, "pending"))
				json_object_del(answers, str_of(f, "name"));
		}
		dg_form_error(d, "", case_fault_message(r, rc));
		json_object_set_new(c, "answers", answers);
		return render_question(r, c, n, dg_rc_http_status(rc), d);
	}
	json_object_set_new(c, "answers", answers);
	if (!rc) {
		size_t next = next_shown(c, n, 1);
		const char *ref = str_of(c, "ref");
		dg_reply_redirect(
			r, later  ? dg_arena_printf(r->arena, "/my/cases?saved=%s", ref)
			   : next ? dg_arena_printf(r->arena, "/my/cases/%s/form/%zu", ref, next)
				  : dg_arena_printf(r->arena, "/my/cases/%s/check", ref));
	}
	json_decref(c);
	return rc;
}

/* ---- check your answers and submit ------------------------------------ */

/* Every shown page's answers for the check page; errors for what is missing. */
static json_t *all_pages(struct dg_req *r, json_t *c, json_t *errs)
{
	json_t *list = json_array(), *p;
	size_t i;
	json_t *answers = json_object_get(c, "answers");
	json_array_foreach (json_object_get(json_object_get(c, "form"), "pages"), i, p) {
		if (!case_page_shown(p, answers))
			continue;
		if (errs) {
			size_t before = json_array_size(errs);
			case_check_page(r, p, answers, errs);
			for (size_t k = before; k < json_array_size(errs); k++)
				json_object_set_new(json_array_get(errs, k), "page",
						    json_integer((json_int_t)i + 1));
		}
		json_t *v = page_view(r, p, answers, json_object_get(c, "prefilled"),
				      json_object_get(c, "files"));
		json_object_set_new(v, "change",
				    json_string(dg_arena_printf(r->arena, "/my/cases/%s/form/%zu",
								str_of(c, "ref"), i + 1)));
		json_array_append_new(list, v);
	}
	return list;
}

static dg_rc render_check(struct dg_req *r, json_t *c, unsigned status, json_t *errs)
{
	json_t *d = json_object(), *e;
	size_t i;
	case_show(&r->env->keys, r->arena, c, 0);
	json_t *pages = all_pages(r, c, NULL);
	json_array_foreach (errs, i, e) {
		dg_form_error(d, "", str_of(e, "message"));
		json_object_set_new(
			json_array_get(json_object_get(d, "errors"), i), "href",
			json_string(dg_arena_printf(
				r->arena, "/my/cases/%s/form/%lld#%s", str_of(c, "ref"),
				(long long)json_integer_value(json_object_get(e, "page")),
				str_of(e, "field"))));
	}
	case_localise(r, c);
	json_object_set_new(d, "title", json_string(dg_t(r, "cases.check.title")));
	json_object_set_new(d, "pages", pages);
	json_object_set_new(d, "case", c);
	return dg_page(r, status, "cases/check.html", d);
}

static dg_rc page_check(struct dg_req *r)
{
	json_t *c = NULL;
	dg_rc rc = load_own(r, &c);
	if (rc)
		return rc;
	if (strcmp(str_of(c, "status"), "draft")) {
		dg_reply_redirect(r, dg_arena_printf(r->arena, "/my/cases/%s", str_of(c, "ref")));
		json_decref(c);
		return DG_OK;
	}
	return render_check(r, c, 200, NULL);
}

/*
 * GET /my/cases/{ref}/resume: a saved application opens at the first page
 * with a question still to answer (or an answer to put right), and at check
 * your answers only when nothing is missing.
 */
static dg_rc page_resume(struct dg_req *r)
{
	json_t *c = NULL;
	dg_rc rc = load_own(r, &c);
	if (rc)
		return rc;
	const char *ref = str_of(c, "ref");
	if (strcmp(str_of(c, "status"), "draft")) {
		dg_reply_redirect(r, dg_arena_printf(r->arena, "/my/cases/%s", ref));
		json_decref(c);
		return DG_OK;
	}
	json_t *errs = json_array();
	json_decref(all_pages(r, c, errs));
	json_t *first = json_array_get(errs, 0);
	if (first)
		dg_reply_redirect(r, dg_arena_printf(r->arena, "/my/cases/%s/form/%lld#%s", ref,
						     (long long)json_integer_value(
							     json_object_get(first, "page")),
						     str_of(first, "field")));
	else
		dg_reply_redirect(r, dg_arena_printf(r->arena, "/my/cases/%s/check", ref));
	json_decref(errs);
	json_decref(c);
	return DG_OK;
}

static dg_rc submit_tx(struct dg_req *r, struct dg_db *db, void *arg, struct dg_err *err)
{
	struct case_actor who;
	const char *ref = ref_who(r, &who);
	(void)arg;
	return case_submit(db, ref, &who, err);
}

static dg_rc post_submit(struct dg_req *r)
{
	json_t *c = NULL;
	struct dg_err err = {0};
	dg_rc rc = load_own(r, &c);
	if (rc)
		return rc;
	json_t *errs = json_array();
	json_decref(all_pages(r, c, errs));
	if (json_array_size(errs)) {
		rc = render_check(r, c, dg_rc_form_status(DG_EINVAL), errs);
		json_decref(errs);
		return rc;
	}
	json_decref(errs);
	rc = case_tx(r, submit_tx, NULL, &err);
	if (!rc)
		dg_reply_redirect(r, dg_arena_printf(r->arena, "/my/cases/%s?done=submitted",
						     str_of(c, "ref")));
	json_decref(c);
	return rc ? case_fail(r, rc, &err) : DG_OK;
}

/* ---- my cases ----------------------------------------------------------- */

static dg_rc page_mine(struct dg_req *r)
{
	struct dg_db *db = NULL;
	json_t *res = NULL, *c;
	size_t i;
	int64_t page = 1;
	const char *p = dg_kvs_get(&r->query, "page");
	if (p && (dg_str_to_i64(dg_str_of(p), &page) || page < 1 || page > 10000))
		page = 1;
	struct case_filter f = {.applicant = r->user->id, .page = page};
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = case_list(db, &f, &res);
	if (rc)
		return rc;
	json_array_foreach (json_object_get(res, "cases"), i, c) {
		case_localise(r, c);
		json_object_set_new(c, "is_draft",
				    json_boolean(!strcmp(str_of(c, "status"), "draft")));
	}
	json_t *d = json_object();
	json_object_set_new(d, "title", json_string(dg_t(r, "cases.mine.title")));
	const char *saved = dg_kvs_get(&r->query, "saved");
	if (saved && strlen(saved) < CASE_REF_MAX)
		json_object_set_new(d, "saved", json_string(saved));
	json_object_set_new(
		d, "pager",
		dg_pager(r, json_integer_value(json_object_get(res, "total")), page, CASE_PAGE));
	json_object_set_new(d, "result", res);
	return dg_page(r, 200, "cases/mine.html", d);
}

/*
 * The steps still to come, by where the case stands, with their dates: the
 * date by which a decision is expected (or promised, once accepted), and the
 * day the clock stopped while material is awaited. The page says each step
 * in words (cases/case.html, "coming_*").
 */
static void coming_steps(json_t *d, const json_t *c)
{
	const char *st = str_of(c, "status");
	bool submitted = !strcmp(st, "submitted"), accepted = !strcmp(st, "accepted"),
	     reviewed = !strcmp(st, "reviewed"), supplement = !strcmp(st, "supplement");
	if (!submitted && !accepted && !reviewed && !supplement)
		return;
	json_object_set_new(d, "coming", json_true());
	json_object_set_new(d, "coming_supplement", json_boolean(supplement));
	json_object_set_new(
		d, "coming_accept",
		json_boolean(submitted ||
			     (supplement && !strcmp(str_of(c, "paused_from"), "submitted"))));
	json_object_set_new(d, "coming_review", json_boolean(submitted || accepted || supplement));
	const char *due = json_string_value(json_object_get(c, "due_on"));
	if (due && !submitted)
		json_object_set_new(d, "decide_by", json_string(due));
	json_object_set_new(d, "coming_result", json_true());
}

/* The case page data shared by the applicant's page and its error re-renders. */
static dg_rc render_case(struct dg_req *r, json_t *c, unsigned status, json_t *d)
{
	struct dg_db *db = NULL;
	case_show(&r->env->keys, r->arena, c, 0);
	const char *st = str_of(c, "status");
	int64_t left = CASE_WITHDRAW_MS -
		       (dg_now_ms() - json_integer_value(json_object_get(c, "submitted_ms")));
	json_object_set_new(d, "may_withdraw", json_boolean(!strcmp(st, "submitted") && left > 0));
	json_object_set_new(d, "withdraw_minutes",
			    json_integer(left > 0 ? (left + 59999) / 60000 : 0));
	json_object_set_new(d, "may_supplement", json_boolean(!strcmp(st, "supplement")));
	int ended = !strcmp(st, "approved") || !strcmp(st, "denied") || !strcmp(st, "refused");
	json_object_set_new(d, "may_rate", json_boolean(ended && !json_object_get(c, "rating")));
	json_object_set_new(d, "is_draft", json_boolean(!strcmp(st, "draft")));
	json_t *rect = json_object_get(c, "rectification");
	json_object_set_new(d, "has_reply", json_boolean(rect && *str_of(rect, "reply")));
	const char *done = dg_kvs_get(&r->query, "done");
	if (done && (!strcmp(done, "submitted") || !strcmp(done, "withdrawn") ||
		     !strcmp(done, "supplemented") || !strcmp(done, "rated"))) {
		json_object_set_new(d, "done", json_string(done));
		json_object_set_new(d, dg_arena_printf(r->arena, "done_%s", done), json_true());
	}
	if (!strcmp(st, "submitted")) {
		/* what happens next and by when: acceptance, then the promised working days */
		dg_day expect = 0;
		char s[11];
		dg_rc rc = dg_req_db(r, &db);
		if (!rc)
			rc = dg_cal_workdays_add(
				db, dg_day_today(),
				(int)json_integer_value(json_object_get(c, "promised_days")),
				&expect);
		if (rc) {
			json_decref(c);
			json_decref(d);
			return rc;
		}
		dg_day_format(expect, s);
		json_object_set_new(d, "expect_on", json_string(s));
	}
	coming_steps(d, c);
	json_object_set_new(d, "has_receipt", json_boolean(strcmp(st, "draft") != 0));
	json_object_set_new(d, "answers_pages", all_pages(r, c, NULL));
	case_localise(r, c);
	json_object_set(d, "title", json_object_get(c, "item_name"));
	json_object_set_new(d, "case", c);
	return dg_page(r, status, "cases/case.html", d);
}

/*
 * GET /my/cases/{ref}/receipt: the receipt (回执) of a submitted case, to
 * print or keep: what was received, when, by whom, and when to expect the
 * result. The page is the ordinary layout; printing hides the navigation.
 */
static dg_rc page_receipt(struct dg_req *r)
{
	json_t *c = NULL;
	dg_rc rc = load_own(r, &c);
	if (rc)
		return rc;
	if (!strcmp(str_of(c, "status"), "draft")) {
		dg_reply_redirect(
			r, dg_arena_printf(r->arena, "/my/cases/%s/resume", str_of(c, "ref")));
		json_decref(c);
		return DG_OK;
	}
	case_show(&r->env->keys, r->arena, c, 0);
	json_t *d = json_object();
	char buf[DG_SITE_URL_MAX];
	json_object_set_new(
		d, "submitted_at",
		json_string(case_time(r, json_integer_value(json_object_get(c, "submitted_ms")))));
	json_object_set_new(d, "track_url",
			    json_string(dg_arena_printf(r->arena, "%s/my/cases/%s",
							dg_config_site_url(r->env->cfg, buf),
							str_of(c, "ref"))));
	json_t *files = json_array(), *f;
	size_t i;
	json_array_foreach (json_object_get(c, "files"), i, f)
		json_array_append(files, f);
	json_object_set_new(d, "received", files);
	case_localise(r, c);
	json_object_set_new(d, "title", json_string(dg_t(r, "cases.receipt.title")));
	json_object_set_new(d, "case", c);
	return dg_page(r, 200, "cases/receipt.html", d);
}

static dg_rc page_case(struct dg_req *r)
{
	json_t *c = NULL;
	dg_rc rc = load_own(r, &c);
	return rc ? rc : render_case(r, c, 200, json_object());
}

/* Run one applicant transition in a transaction; redirect with done= or re-render with the error.
 */
static dg_rc applicant_step(struct dg_req *r, const char *done, case_tx_fn step)
{
	struct dg_err err = {0};
	const char *ref = dg_kvs_get(&r->params, "ref");
	dg_rc rc = case_tx(r, step, NULL, &err);
	if (!rc) {
		dg_reply_redirect(r, dg_arena_printf(r->arena, "/my/cases/%s?done=%s", ref, done));
		return DG_OK;
	}
	if (rc != DG_EINVAL && rc != DG_ECONFLICT && !case_store_fault(rc))
		return case_fail(r, rc, &err);
	/* a refusal the applicant can act on, or a store that failed: the case again, what was
	 * typed kept */
	json_t *c = NULL, *d = json_object();
	dg_rc lrc = load_own(r, &c);
	if (lrc) {
		json_decref(d);
		return case_store_fault(rc) ? case_fail(r, rc, &err) : lrc;
	}
	dg_form_keep_values(r, d);
	if (case_store_fault(rc)) {
		dg_form_error(d, "case-actions", case_fault_message(r, rc));
		return render_case(r, c, dg_rc_http_status(rc), d);
	}
	dg_form_error(d, err.field[0] ? err.field : "case-actions", dg_t(r, err.msg));
	return render_case(r, c, dg_rc_form_status(rc), d);
}

static dg_rc do_withdraw(struct dg_req *r, struct dg_db *db, void *arg, struct dg_err *err)
{
	struct case_actor who;
	const char *ref = ref_who(r, &who);
	(void)arg;
	return case_withdraw(db, ref, &who, err);
}

/* The page that asks "withdraw this application?" before anything changes. */
static dg_rc render_withdraw_confirm(struct dg_req *r, json_t *c, unsigned status)
{
	const char *st = str_of(c, "status");
	int64_t left = CASE_WITHDRAW_MS -
		       (dg_now_ms() - json_integer_value(json_object_get(c, "submitted_ms")));
	if (strcmp(st, "submitted") || left <= 0) {
		/* too late, or not submitted: the case page says why */
		dg_reply_redirect(r, dg_arena_printf(r->arena, "/my/cases/%s", str_of(c, "ref")));
		json_decref(c);
		return DG_OK;
	}
	case_localise(r, c);
	json_t *d = json_object();
	json_object_set_new(d, "title", json_string(dg_t(r, "cases.withdraw.confirm_title")));
	json_object_set_new(d, "withdraw_minutes", json_integer((left + 59999) / 60000));
	json_object_set_new(d, "case", c);
	return dg_page(r, status, "cases/withdraw.html", d);
}

static dg_rc page_withdraw(struct dg_req *r)
{
	json_t *c = NULL;
	dg_rc rc = load_own(r, &c);
	return rc ? rc : render_withdraw_confirm(r, c, 200);
}

/* Withdrawing cannot be undone: it happens only with confirm=yes from the confirmation page. */
static dg_rc post_withdraw(struct dg_req *r)
{
	const char *confirm = dg_req_field(r, "confirm");
	if (!confirm || strcmp(confirm, "yes")) {
		json_t *c = NULL;
		dg_rc rc = load_own(r, &c);
		return rc ? rc : render_withdraw_confirm(r, c, 200);
	}
	return applicant_step(r, "withdrawn", do_withdraw);
}

static dg_rc do_supplement(struct dg_req *r, struct dg_db *db, void *arg, struct dg_err *err)
{
	struct case_actor who;
	const char *ref = ref_who(r, &who);
	json_t *c = NULL;
	(void)arg;
	dg_rc rc = case_get(db, ref, &who, &c, err);
	if (rc)
		return rc;
	int64_t case_id = json_integer_value(json_object_get(c, "id"));
	json_decref(c);
	for (size_t i = 0; i < r->nuploads; i++) {
		const struct dg_upload *u = &r->uploads[i];
		const char *mime = NULL, *why;
		int64_t fid = 0;
		if (!u->size || strcmp(u->field, "files"))
			continue;
		if ((why = upload_problem(u, &mime)))
			return dg_err_field(err, DG_EINVAL, "files", "%s", why);
		if (keep_upload(r, case_id, u, "supplement", mime, "supplement", &fid))
			return dg_err_set(err, r->err.rc, "cases.err.file_store");
	}
	return case_answer_supplement(db, ref, &who, dg_req_field(r, "note"), err);
}

static dg_rc post_supplement(struct dg_req *r)
{
	return applicant_step(r, "supplemented", do_supplement);
}

static dg_rc do_rate(struct dg_req *r, struct dg_db *db, void *arg, struct dg_err *err)
{
	struct case_actor who;
	const char *ref = ref_who(r, &who);
	int64_t level = 0;
	(void)arg;
	if (dg_str_to_i64(dg_str_of(dg_req_field(r, "level")), &level))
		return dg_err_field(err, DG_EINVAL, "level", "cases.err.level");
	return case_rate(db, ref, &who, (int)level, dg_req_field(r, "comment"), err);
}

static dg_rc post_rating(struct dg_req *r)
{
	return applicant_step(r, "rated", do_rate);
}

/* GET /cases/{ref}/files/{id}: for the applicant and the staff of the case's department. */
static dg_rc get_file(struct dg_req *r)
{
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	struct dg_rows *rw = NULL;
	struct case_actor who;
	json_t *c = NULL;
	int64_t fid = 0;
	case_actor_of(r, &who);
	if (dg_str_to_i64(dg_str_of(dg_kvs_get(&r->params, "id")), &fid))
		return DG_ENOTFOUND;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = case_get(db, dg_kvs_get(&r->params, "ref"), &who, &c, &err);
	if (!rc)
		rc = case_staff_viewed(r, db, c, "file");
	if (rc) {
		json_decref(c);
		return case_fail(r, rc, &err);
	}
	rc = dg_db_query(
		db, "SELECT stored, mime, filename FROM case_files WHERE id = ? AND case_id = ?",
		DG_ARGS(DG_VI(fid), DG_VI(json_integer_value(json_object_get(c, "id")))), &rw);
	json_decref(c);
	if (!rc)
		rc = dg_rows_next(rw);
	if (rc) {
		dg_rows_free(rw);
		return rc;
	}
	char path[4200];
	snprintf(path, sizeof(path), "%s/cases/%s", r->env->cfg->data_dir, dg_rows_text(rw, 0));
	const char *mime = dg_arena_strdup(r->arena, dg_rows_text(rw, 1));
	dg_rows_free(rw);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb)) {
		if (fd >= 0)
			close(fd);
		dg_error("req=%s a case file is missing: %s", r->id, path);
		return DG_EIO;
	}
	/*
	 * The stored name is ours; the applicant's file name is never put in a
	 * header. The extension comes from the type the content was checked to be,
	 * so the file opens in what reads it.
	 */
	const char *ext = !strcmp(mime, "application/pdf") ? ".pdf"
			  : !strcmp(mime, "image/jpeg")    ? ".jpg"
			  : !strcmp(mime, "image/png")     ? ".png"
							   : "";
	dg_reply_header(r, "Content-Disposition",
			dg_arena_printf(r->arena, "attachment; filename=\"document-%lld%s\"",
					(long long)fid, ext));
	dg_reply_file(r, 200, mime, fd, (uint64_t)sb.st_size);
	return DG_OK;
}

static const struct dg_route routes[] = {
	{"GET", "/services/{code}/apply", page_start, DG_ROLE_ANY, 0},
	{"POST", "/services/{code}/apply", post_start, DG_ROLE_CITIZEN | DG_ROLE_AGENT, 0},
	{"GET", "/my/cases", page_mine, DG_ROLE_CITIZEN | DG_ROLE_AGENT, 0},
	{"GET", "/my/cases/{ref}", page_case, DG_ROLE_CITIZEN | DG_ROLE_AGENT, 0},
	{"GET", "/my/cases/{ref}/form/{n}", page_question, DG_ROLE_CITIZEN | DG_ROLE_AGENT, 0},
	{"POST", "/my/cases/{ref}/form/{n}", post_question, DG_ROLE_CITIZEN | DG_ROLE_AGENT, 0},
	{"GET", "/my/cases/{ref}/check", page_check, DG_ROLE_CITIZEN | DG_ROLE_AGENT, 0},
	{"GET", "/my/cases/{ref}/resume", page_resume, DG_ROLE_CITIZEN | DG_ROLE_AGENT, 0},
	{"GET", "/my/cases/{ref}/receipt", page_receipt, DG_ROLE_CITIZEN | DG_ROLE_AGENT, 0},
	{"POST", "/my/cases/{ref}/submit", post_submit, DG_ROLE_CITIZEN | DG_ROLE_AGENT, 0},
	{"GET", "/my/cases/{ref}/withdraw", page_withdraw, DG_ROLE_CITIZEN | DG_ROLE_AGENT, 0},
	{"POST", "/my/cases/{ref}/withdraw", post_withdraw, DG_ROLE_CITIZEN | DG_ROLE_AGENT, 0},
	{"POST", "/my/cases/{ref}/supplement", post_supplement, DG_ROLE_CITIZEN | DG_ROLE_AGENT, 0},
	{"POST", "/my/cases/{ref}/rating", post_rating, DG_ROLE_CITIZEN | DG_ROLE_AGENT, 0},
	{"GET", "/cases/{ref}/files/{id}", get_file, DG_ROLE_USER, 0},
};

const struct dg_route *dg_cases_apply_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
