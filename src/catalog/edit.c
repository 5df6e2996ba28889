/*
 * edit.c - staff edit their department's service items in the browser: a new
 * item, or the draft of an existing one (started from the version in force
 * when there is no draft), every guide field on one page; and the public
 * version history of an item.
 *
 * The page is one form whose fields map onto the item JSON that import takes
 * (docs/catalog.md); materials and FAQ are written one per line with "|"
 * between their parts, the application form as JSON. Saving checks the whole
 * item with the same rules as import and keeps the draft only when it passes.
 */
#include "catalog/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/env.h"
#include "catalog/internal.h"
#include "core/date.h"
#include "core/str.h"
#include "web/page.h"

enum fkind { F_TEXT, F_AREA, F_NUM, F_SELECT, F_TAGS };

static const struct field {
	const char *name;
	enum fkind kind;
	const char *const *options; /* F_SELECT */
} fields[] = {
	{"name_zh", F_TEXT, NULL},
	{"name_en", F_TEXT, NULL},
	{"aliases", F_TEXT, NULL},
	{"kind", F_SELECT,
	 (const char *const[]){"permit", "benefit", "public", "confirm", "inspect", "reward",
			       "other", NULL}},
	{"audience", F_SELECT, (const char *const[]){"person", "enterprise", "both", NULL}},
	{"scope", F_SELECT, (const char *const[]){"local", "province", "inter", NULL}},
	{"depth", F_SELECT, (const char *const[]){"info", "online_apply", "full_online", NULL}},
	{"themes", F_TAGS, NULL},
	{"events", F_TAGS, NULL},
	{"statutory_days", F_NUM, NULL},
	{"promised_days", F_NUM, NULL},
	{"trips", F_NUM, NULL},
	{"fee_fen", F_NUM, NULL},
	{"fee_basis", F_TEXT, NULL},
	{"fee_basis_en", F_TEXT, NULL},
	{"legal_basis", F_AREA, NULL},
	{"legal_basis_en", F_AREA, NULL},
	{"conditions", F_AREA, NULL},
	{"conditions_en", F_AREA, NULL},
	{"place", F_TEXT, NULL},
	{"place_en", F_TEXT, NULL},
	{"hours", F_TEXT, NULL},
	{"hours_en", F_TEXT, NULL},
	{"consult", F_TEXT, NULL},
	{"consult_en", F_TEXT, NULL},
	{"complain", F_TEXT, NULL},
	{"complain_en", F_TEXT, NULL},
	{"materials", F_AREA, NULL},
	{"faq", F_AREA, NULL},
	{"form", F_AREA, NULL},
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const char *str_of(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* "a,b" from a JSON list of tags. */
static char *tags_text(struct dg_req *r, const json_t *list)
{
	struct dg_buf b;
	json_t *v;
	size_t i;
	dg_buf_init(&b, 4096);
	json_array_foreach (list, i, v)
		if (dg_buf_addf(&b, "%s%s", i ? "," : "", json_string_value(v)))
			break;
	char *s = dg_arena_strdup(r->arena, dg_buf_str(&b));
	dg_buf_release(&b);
	return s;
}

/* "q | a", then " | q_en | a_en" when either English text is there. */
static dg_rc faq_line(struct dg_buf *b, const json_t *e)
{
	if (!*str_of(e, "q_en") && !*str_of(e, "a_en"))
		return dg_buf_addf(b, "%s | %s\n", str_of(e, "q"), str_of(e, "a"));
	return dg_buf_addf(b, "%s | %s | %s | %s\n", str_of(e, "q"), str_of(e, "a"),
			   str_of(e, "q_en"), str_of(e, "a_en"));
}

/* The text a field shows for an item. */
static const char *field_text(struct dg_req *r, const json_t *it, const struct field *f)
{
	json_t *v = json_object_get(it, f->name), *e;
	size_t i;
	struct dg_buf b;
	if (f->kind == F_NUM)
		return v ? dg_arena_printf(r->arena, "%lld", (long long)json_integer_value(v)) : "";
	if (f->kind == F_TAGS)
		return tags_text(r, v);
	if (!strcmp(f->name, "form")) {
		char *j = v ? json_dumps(v, JSON_INDENT(1)) : NULL;
		const char *out = j ? dg_arena_strdup(r->arena, j) : "";
		free(j);
		return out;
	}
	if (strcmp(f->name, "materials") && strcmp(f->name, "faq"))
		return str_of(it, f->name);
	dg_buf_init(&b, 64 << 10);
	json_array_foreach (v, i, e) {
		dg_rc rc =
			!strcmp(f->name, "faq")
				? faq_line(&b, e)
				: dg_buf_addf(&b, "%s | %s | %s | %s | %lld | %s | %s%s\n",
					      str_of(e, "name_zh"), str_of(e, "name_en"),
					      json_is_true(json_object_get(e, "required")) ? "1"
											   : "0",
					      str_of(e, "medium"),
					      (long long)json_integer_value(
						      json_object_get(e, "copies")),
					      str_of(e, "format"), str_of(e, "source"),
					      strcmp(str_of(e, "blank"), "form") ? "" : " | form");
		if (rc)
			break;
	}
	char *s = dg_arena_strdup(r->arena, dg_buf_str(&b));
	dg_buf_release(&b);
	return s;
}

/* Split s at '|' into at most n trimmed parts (arena); returns how many. */
static size_t split_bar(struct dg_req *r, const char *s, const char **parts, size_t n)
{
	size_t k = 0;
	while (k < n) {
		struct dg_str head, rest = dg_str_cut(dg_str_of(s), '|', &head);
		head = dg_str_trim(head);
		parts[k++] = dg_arena_strndup(r->arena, head.p, head.n);
		if (!rest.p)
			break;
		s = rest.p;
	}
	return k;
}

/* Lines of the materials or FAQ textarea as their JSON list; EINVAL with the line number in
 * err->msg. */
static json_t *lines_json(struct dg_req *r, const char *text, int faq, struct dg_err *err)
{
	json_t *list = json_array();
	const char *p = text ? text : "";
	int lineno = 0;
	while (*p) {
		size_t n = strcspn(p, "\r\n");
		char *line = dg_arena_strndup(r->arena, p, n);
		p += n;
		p += strspn(p, "\r\n");
		lineno++;
		if (!dg_str_trim(dg_str_of(line)).n)
			continue;
		const char *parts[8] = {0};
		size_t k = split_bar(r, line, parts, faq ? 4 : 8);
		if (faq) { /* question | answer, then optionally both in English */
			if (k != 2 && k != 4) {
				dg_err_field(err, DG_EINVAL, "faq", "%d", lineno);
				break;
			}
			json_t *e = json_pack("{s:s, s:s}", "q", parts[0], "a", parts[1]);
			if (k == 4) {
				json_object_set_new(e, "q_en", json_string(parts[2]));
				json_object_set_new(e, "a_en", json_string(parts[3]));
			}
			json_array_append_new(list, e);
			continue;
		}
		int64_t copies = 0;
		if (k < 7 || (k == 8 && strcmp(parts[7], "form") && *parts[7]) ||
		    dg_str_to_i64(dg_str_of(parts[4]), &copies) ||
		    (strcmp(parts[2], "0") && strcmp(parts[2], "1"))) {
			dg_err_field(err, DG_EINVAL, "materials", "%d", lineno);
			break;
		}
		json_array_append_new(list, json_pack("{s:s, s:s, s:b, s:s, s:I, s:s, s:s, s:s}",
						      "name_zh", parts[0], "name_en", parts[1],
						      "required", !strcmp(parts[2], "1"), "medium",
						      parts[3], "copies", (json_int_t)copies,
						      "format", parts[5], "source", parts[6],
						      "blank", k == 8 ? parts[7] : ""));
	}
	if (err->rc) {
		json_decref(list);
		return NULL;
	}
	return list;
}

/* The item JSON from the posted form; EINVAL naming the field whose text cannot be read. */
static json_t *item_from_form(struct dg_req *r, const char *code, const char *dept,
			      struct dg_err *err)
{
	json_t *it = json_pack("{s:s, s:s}", "code", code, "dept", dept);
	for (size_t i = 0; i < NFIELDS && !err->rc; i++) {
		const struct field *f = &fields[i];
		const char *v = dg_req_field(r, f->name);
		if (!v)
			v = "";
		if (!dg_utf8_valid(v, strlen(v))) {
			dg_err_field(err, DG_EINVAL, f->name, "utf-8");
			break;
		}
		if (f->kind == F_NUM) {
			int64_t x = 0;
			if (dg_str_to_i64(dg_str_trim(dg_str_of(v)), &x)) {
				dg_err_field(err, DG_EINVAL, f->name, "number");
				break;
			}
			json_object_set_new(it, f->name, json_integer(x));
		} else if (f->kind == F_TAGS) {
			json_t *tags = json_array();
			for (const char *p = v; *p;) {
				size_t n = strcspn(p, ", ");
				if (n)
					json_array_append_new(tags, json_stringn(p, n));
				p += n;
				p += strspn(p, ", ");
			}
			json_object_set_new(it, f->name, tags);
		} else if (!strcmp(f->name, "materials") || !strcmp(f->name, "faq")) {
			json_t *list = lines_json(r, v, !strcmp(f->name, "faq"), err);
			if (list)
				json_object_set_new(it, f->name, list);
		} else if (!strcmp(f->name, "form")) {
			if (dg_str_trim(dg_str_of(v)).n) {
				json_t *form = json_loads(v, 0, NULL);
				if (!form)
					dg_err_field(err, DG_EINVAL, "form", "json");
				else
					json_object_set_new(it, "form", form);
			}
		} else {
			json_object_set_new(it, f->name, json_string(v));
		}
	}
	if (err->rc) {
		json_decref(it);
		return NULL;
	}
	return it;
}

/*
 * The language a field's text is written in, for its box's lang attribute:
 * "en" for the English ones ("..._en"), "zh-CN" for the Chinese texts they
 * pair with, "" for codes, numbers and the mixed lists.
 */
static const char *text_lang(const struct field *f)
{
	size_t n = strlen(f->name);
	if (n > 3 && !strcmp(f->name + n - 3, "_en"))
		return "en";
	if (f->kind == F_NUM || f->kind == F_SELECT || f->kind == F_TAGS ||
	    !strcmp(f->name, "aliases") || !strcmp(f->name, "materials") ||
	    !strcmp(f->name, "faq") || !strcmp(f->name, "form"))
		return "";
	return "zh-CN";
}

/* Field descriptions for the template, with values from it (an item) or the posted form. */
static json_t *form_fields(struct dg_req *r, const json_t *it, int posted, json_t *errors)
{
	json_t *list = json_array();
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field *f = &fields[i];
		const char *v = posted ? dg_req_field(r, f->name) : field_text(r, it, f);
		if (!v || !dg_utf8_valid(v, strlen(v)))
			v = "";
		json_t *o = json_pack(
			"{s:s, s:s, s:s, s:s}", "name", f->name, "label",
			dg_t(r, dg_arena_printf(r->arena, "catalog.edit.%s", f->name)), "hint",
			dg_t(r, dg_arena_printf(r->arena, "catalog.edit.%s_hint", f->name)),
			"value", v);
		json_object_set_new(o, "lang", json_string(text_lang(f)));
		json_object_set_new(o,
				    f->kind == F_AREA     ? "is_area"
				    : f->kind == F_SELECT ? "is_select"
							  : "is_text",
				    json_true());
		if (f->kind == F_SELECT) {
			json_t *opts = json_array();
			for (const char *const *p = f->options; *p; p++)
				json_array_append_new(
					opts,
					json_pack("{s:s, s:s, s:b}", "value", *p, "label",
						  dg_t(r, dg_arena_printf(r->arena, "catalog.%s.%s",
									  f->name, *p)),
						  "selected", !strcmp(v, *p)));
			json_object_set_new(o, "options", opts);
		}
		json_t *e = json_object_get(errors, f->name);
		if (e)
			json_object_set(o, "error", e);
		json_array_append_new(list, o);
	}
	return list;
}

/* Staff: their own department's items only (another's is not revealed); administrators: all. */
static dg_rc may_edit(struct dg_req *r, struct dg_db *db, const char *code, char dept[17])
{
	int64_t dept_id = 0;
	dg_rc rc = code && strlen(code) <= 40 ? cat_dept_of(db, code, &dept_id) : DG_ENOTFOUND;
	if (!rc && r->user->role == DG_ROLE_STAFF && dept_id != r->user->dept_id)
		rc = DG_ENOTFOUND;
	char *c = NULL;
	if (!rc)
		rc = dg_db_query_text(db, "SELECT code FROM departments WHERE id = ?",
				      DG_ARGS(DG_VI(dept_id)), r->arena, &c);
	if (!rc)
		snprintf(dept, 17, "%s", c);
	if (rc == DG_ENOTFOUND)
		dg_err_set(&r->err, rc, "%s", dg_t(r, "catalog.err.no_item"));
	return rc;
}

static dg_rc render_edit(struct dg_req *r, unsigned status, const char *code, int is_new,
			 const json_t *it, json_t *d)
{
	json_t *errs = json_object_get(d, "error_for");
	json_object_set_new(d, "fields", form_fields(r, it, it == NULL, errs));
	json_object_set_new(d, "code", json_string(code ? code : ""));
	json_object_set_new(d, "is_new", json_boolean(is_new));
	json_object_set_new(
		d, "action",
		json_string(is_new ? "/catalog/items/new"
				   : dg_arena_printf(r->arena, "/catalog/items/%s/edit", code)));
	json_object_set_new(
		d, "title",
		json_string(dg_t(r, is_new ? "catalog.edit.new_title" : "catalog.edit.title")));
	if (is_new && r->user->role == DG_ROLE_ADMIN) {
		struct dg_db *db = NULL;
		struct dg_rows *rw = NULL;
		json_t *depts = json_array();
		dg_rc rc = dg_req_db(r, &db);
		if (!rc)
			rc = dg_db_query(
				db, "SELECT code, name_zh, name_en FROM departments ORDER BY code",
				DG_NOARGS, &rw);
		while (!rc && (rc = dg_rows_next(rw)) == DG_OK)
			json_array_append_new(
				depts,
				json_pack(
					"{s:s, s:s, s:b}", "code", dg_rows_text(rw, 0), "name",
					dg_rows_text(rw, strcmp(r->lang, "en") ? 1 : 2), "selected",
					dg_req_field(r, "dept") && !strcmp(dg_req_field(r, "dept"),
									   dg_rows_text(rw, 0))));
		dg_rows_free(rw);
		json_object_set_new(d, "depts", depts);
	}
	return dg_page(r, status, "catalog/edit.html", d);
}

static dg_rc page_edit(struct dg_req *r)
{
	struct dg_db *db = NULL;
	char dept[17];
	json_t *it = NULL;
	const char *code = dg_kvs_get(&r->params, "code");
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = may_edit(r, db, code, dept);
	if (!rc) {
		rc = cat_get_draft(db, code, &it);
		if (rc == DG_ENOTFOUND)
			rc = cat_get(db, code, &it);
	}
	if (rc)
		return rc;
	rc = render_edit(r, 200, code, 0, it, json_object());
	json_decref(it);
	return rc;
}

/* A readable message for a refused save, in the reader's language. */
static const char *save_error(struct dg_req *r, const struct dg_err *err)
{
	const char *label = dg_t(r, dg_arena_printf(r->arena, "catalog.edit.%s",
						    err->field[0] ? err->field : "code"));
	if (!strcmp(err->field, "materials") || !strcmp(err->field, "faq"))
		if (err->msg[0] >= '0' && err->msg[0] <= '9')
			return dg_arena_printf(r->arena, "%s：%s %s", label,
					       dg_t(r, "catalog.edit.err_line"), err->msg);
	return dg_arena_printf(r->arena, "%s：%s（%s）", label, dg_t(r, "catalog.edit.err"),
			       err->msg);
}

static dg_rc save(struct dg_req *r, const char *code, const char *dept, int is_new)
{
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	json_t *it = item_from_form(r, code, dept, &err);
	dg_rc rc = it ? dg_req_db(r, &db) : DG_EINVAL;
	if (!rc && is_new) {
		int64_t id = 0;
		rc = dg_db_query_int(db, "SELECT id FROM catalog_items WHERE code = ?",
				     DG_ARGS(DG_VT(code)), &id);
		rc = rc == DG_ENOTFOUND ? DG_OK
		     : rc               ? rc
					: dg_err_field(&err, DG_ECONFLICT, "code", "exists");
	}
	if (!rc && (rc = dg_db_begin(db)) == DG_OK) {
		rc = cat_save_draft(db, it, &err);
		if (!rc)
			rc = dg_db_commit(db);
		if (rc)
			dg_db_rollback(db);
	}
	json_decref(it);
	if (!rc) {
		dg_reply_redirect(r, dg_arena_printf(r->arena, "/catalog/manage?done=saved"));
		return DG_OK;
	}
	if (rc != DG_EINVAL && rc != DG_ECONFLICT)
		return rc;
	json_t *d = json_object();
	dg_form_keep_values(r, d);
	dg_form_error(d, err.field[0] ? err.field : "name_zh", save_error(r, &err));
	return render_edit(r, dg_rc_form_status(rc), code, is_new, NULL, d);
}

static dg_rc post_edit(struct dg_req *r)
{
	struct dg_db *db = NULL;
	char dept[17];
	const char *code = dg_kvs_get(&r->params, "code");
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = may_edit(r, db, code, dept);
	return rc ? rc : save(r, code, dept, 0);
}

static dg_rc page_new(struct dg_req *r)
{
	if (r->user->role == DG_ROLE_STAFF && r->user->dept_id <= 0)
		return DG_EDENIED;
	return render_edit(r, 200, "", 1, NULL, json_object());
}

static dg_rc post_new(struct dg_req *r)
{
	struct dg_db *db = NULL;
	char *dept = NULL;
	const char *code = dg_req_field(r, "code");
	if (r->user->role == DG_ROLE_STAFF && r->user->dept_id <= 0)
		return DG_EDENIED;
	dg_rc rc = dg_req_db(r, &db);
	if (rc)
		return rc;
	if (r->user->role == DG_ROLE_STAFF)
		rc = dg_db_query_text(db, "SELECT code FROM departments WHERE id = ?",
				      DG_ARGS(DG_VI(r->user->dept_id)), r->arena, &dept);
	else
		dept = (char *)(dg_req_field(r, "dept") ? dg_req_field(r, "dept") : "");
	if (rc)
		return rc;
	return save(r, code ? code : "", dept, 1);
}

static dg_rc page_versions(struct dg_req *r)
{
	struct dg_db *db = NULL;
	json_t *list = NULL, *it = NULL, *v;
	size_t i;
	const char *code = dg_kvs_get(&r->params, "code");
	dg_rc rc = code && strlen(code) <= 40 ? dg_req_db(r, &db) : DG_ENOTFOUND;
	if (!rc)
		rc = cat_get(db, code, &it);
	if (!rc)
		rc = cat_versions(db, code, &list);
	if (rc) {
		json_decref(it);
		if (rc == DG_ENOTFOUND)
			dg_err_set(&r->err, rc, "%s", dg_t(r, "catalog.err.no_item"));
		return rc;
	}
	int en = !strcmp(r->lang, "en");
	json_array_foreach (list, i, v) {
		/* drafts are the department's business until published */
		if (!strcmp(str_of(v, "state"), "draft")) {
			json_array_remove(list, i);
			i--;
			continue;
		}
		json_object_set(v, "name", json_object_get(v, en ? "name_en" : "name_zh"));
		json_object_set_new(
			v, "state_label",
			json_string(dg_t(r, dg_arena_printf(r->arena, "catalog.vstate.%s",
							    str_of(v, "state")))));
		int64_t ms = json_integer_value(json_object_get(v, "published_ms"));
		char day[11] = "";
		if (ms > 0)
			dg_day_format((dg_day)(ms / 86400000), day);
		json_object_set_new(v, "published_on", json_string(day));
	}
	json_t *d = json_object();
	json_object_set(d, "title", json_object_get(it, en ? "name_en" : "name_zh"));
	json_object_set_new(d, "code", json_string(code));
	json_object_set_new(d, "versions", list);
	json_decref(it);
	return dg_page(r, 200, "catalog/versions.html", d);
}

static const struct dg_route routes[] = {
	{"GET", "/catalog/items/new", page_new, DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"POST", "/catalog/items/new", post_new, DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"GET", "/catalog/items/{code}/edit", page_edit, DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"POST", "/catalog/items/{code}/edit", post_edit, DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"GET", "/services/{code}/versions", page_versions, DG_ROLE_ANY, 0},
};

const struct dg_route *dg_catalog_edit_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
