/*
 * pages.c - the exchange for people and for departments' programs:
 *
 *   /exchange/directory          the shared-data directory (共享目录), staff
 *   /exchange/requests           requests and grants, both sides, staff
 *   /my/data-use                 who used my data, a resident (and as CSV)
 *   /api/exchange/...            the same as JSON, and the record API
 *
 * A member of staff acts for their department: they ask for data for it,
 * and decide on requests for the registries it owns; an administrator
 * decides on any. Records are written by the owning department only. Every
 * word on a page comes from templates/i18n/exchange.*.json.
 */
#include "exchange/internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "core/csv.h"
#include "core/date.h"
#include "core/str.h"
#include "web/page.h"

#define USES_MAX 1000 /* lines on the page and in the download */

/* A field from the JSON body (API) or the form (page); NULL when absent. */
static const char *input(struct dg_req *r, const char *name)
{
	if (r->json) {
		json_t *v = json_object_get(r->json, name);
		if (json_is_string(v))
			return json_string_value(v);
		if (json_is_true(v))
			return "1";
		if (json_is_array(v)) {
			/* ["a","b"] as "a,b" */
			struct dg_buf b;
			dg_buf_init(&b, 4096);
			size_t i;
			json_t *x;
			json_array_foreach (v, i, x) {
				if (!json_is_string(x) || (b.len && dg_buf_addc(&b, ',')) ||
				    dg_buf_adds(&b, json_string_value(x)))
					break;
			}
			const char *s = dg_arena_strdup(r->arena, dg_buf_str(&b));
			dg_buf_release(&b);
			return s;
		}
		return NULL;
	}
	return dg_kvs_get(&r->form, name);
}

static bool is_admin(const struct dg_req *r)
{
	return r->user && r->user->role == DG_ROLE_ADMIN;
}

static const char *lang_key(struct dg_req *r, const char *prefix, const char *name)
{
	return dg_t(r, dg_arena_printf(r->arena, "%s%s", prefix, name));
}

/* The directory: every registry with its fields. */
static json_t *directory(struct dg_req *r, struct dg_db *db)
{
	const struct dg_schema *s = x_schema();
	json_t *regs = json_array();
	for (int i = 0; s && i < s->ne; i++) {
		const struct dg_entity *e = &s->e[i];
		json_t *fields = json_array();
		for (int j = 0; j < e->nf; j++) {
			const struct dg_field *f = &e->f[j];
			json_array_append_new(
				fields,
				json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "name", f->name, "type",
					  x_type_name(f), "class", dg_class_name(f->cls), "sharing",
					  dg_sharing_name(f->sharing), "class_label",
					  lang_key(r, "exchange.class.", dg_class_name(f->cls)),
					  "sharing_label",
					  lang_key(r, "exchange.sharing.",
						   dg_sharing_name(f->sharing))));
		}
		char *owner_name = NULL;
		const char *col = r->lang && strcmp(r->lang, "en") == 0 ? "name_en" : "name_zh";
		if (dg_db_query_text(db,
				     strcmp(col, "name_en") == 0
					     ? "SELECT name_en FROM departments WHERE code = ?"
					     : "SELECT name_zh FROM departments WHERE code = ?",
				     DG_ARGS(DG_VT(e->owner)), r->arena, &owner_name))
			owner_name = (char *)e->owner;
		int64_t records = 0, version = 0;
		if (dg_db_query_int(db, "SELECT COUNT(*) FROM xr_records WHERE registry = ?",
				    DG_ARGS(DG_VT(e->name)), &records))
			records = 0;
		if (dg_db_query_int(
			    db,
			    "SELECT COALESCE(MAX(version), 0) FROM xr_changes WHERE registry = ?",
			    DG_ARGS(DG_VT(e->name)), &version))
			version = 0;
		json_array_append_new(
			regs,
			json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:o}", "name", e->name,
				  "title", e->title ? e->title : e->name, "owner", e->owner,
				  "owner_name", owner_name, "source", e->source, "frequency",
				  e->frequency ? e->frequency : "", "frequency_label",
				  lang_key(r, "exchange.freq.",
					   e->frequency ? e->frequency : "unknown"),
				  "legal_basis", e->legal_basis ? e->legal_basis : "", "records",
				  (json_int_t)records, "version", (json_int_t)version, "fields",
				  fields));
	}
	return regs;
}

static dg_rc directory_page(struct dg_req *r)
{
	struct dg_db *db = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (rc)
		return rc;
	json_t *data = json_pack("{s:s,s:o}", "title", dg_t(r, "exchange.dir.heading"),
				 "registries", directory(r, db));
	return dg_page(r, 200, "exchange/directory.html", data);
}

static dg_rc directory_api(struct dg_req *r)
{
	struct dg_db *db = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (rc)
		return rc;
	json_t *regs = directory(r, db);
	size_t i;
	json_t *g;
	json_array_foreach (regs, i, g) {
		json_object_del(g, "frequency_label");
		size_t j;
		json_t *f;
		json_array_foreach (json_object_get(g, "fields"), j, f) {
			json_object_del(f, "class_label");
			json_object_del(f, "sharing_label");
		}
	}
	dg_reply_json(r, 200, json_pack("{s:o}", "registries", regs));
	return DG_OK;
}

/* --- requests and grants --- */

static void label_requests(struct dg_req *r, json_t *list)
{
	size_t i;
	json_t *q;
	json_array_foreach (list, i, q) {
		const char *st = json_string_value(json_object_get(q, "status"));
		json_object_set_new(q, "status_label",
				    json_string(lang_key(r, "exchange.status.", st)));
		json_object_set_new(q, "pending", json_boolean(strcmp(st, "pending") == 0));
		json_object_set_new(q, "approved", json_boolean(strcmp(st, "approved") == 0));
		json_object_set_new(
			q, "mode_label",
			json_string(lang_key(r, "exchange.mode.",
					     json_string_value(json_object_get(q, "mode")))));
	}
}

static dg_rc requests_page_with(struct dg_req *r, unsigned status, json_t *data)
{
	struct dg_db *db = NULL;
	const char *dept = "";
	json_t *out = NULL, *in = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_auth_dept_code(r, db, &dept);
	if (!rc)
		rc = x_requests_list(db, dept, is_admin(r), &out, &in);
	if (rc) {
		json_decref(data);
		return rc;
	}
	label_requests(r, out);
	label_requests(r, in);
	json_t *regs = json_array();
	const struct dg_schema *s = x_schema();
	const char *chosen =
		json_string_value(json_object_get(json_object_get(data, "values"), "registry"));
	for (int i = 0; s && i < s->ne; i++)
		json_array_append_new(
			regs, json_pack("{s:s,s:s,s:b}", "name", s->e[i].name, "title",
					s->e[i].title ? s->e[i].title : s->e[i].name, "selected",
					chosen && strcmp(chosen, s->e[i].name) == 0));
	json_object_set_new(data, "out", out);
	json_object_set_new(data, "in", in);
	json_object_set_new(data, "registries", regs);
	json_object_set_new(data, "can_ask", json_boolean(dept[0] != '\0'));
	const char *title = dg_t(r, "exchange.req.heading");
	if (json_object_get(data, "errors"))
		title = dg_arena_printf(r->arena, "%s %s", dg_t(r, "exchange.error_prefix"), title);
	json_object_set_new(data, "title", json_string(title));
	return dg_page(r, status, "exchange/requests.html", data);
}

static dg_rc requests_page(struct dg_req *r)
{
	json_t *data = json_object();
	const char *done = dg_kvs_get(&r->query, "done");
	static const char *const notes[] = {"made", "approved", "refused", "revoked"};
	for (size_t i = 0; done && i < 4; i++)
		if (strcmp(done, notes[i]) == 0)
			json_object_set_new(data, "done",
					    json_string(lang_key(r, "exchange.done.", done)));
	return requests_page_with(r, 200, data);
}

static dg_rc requests_api(struct dg_req *r)
{
	struct dg_db *db = NULL;
	const char *dept = "";
	json_t *out = NULL, *in = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_auth_dept_code(r, db, &dept);
	if (!rc)
		rc = x_requests_list(db, dept, is_admin(r), &out, &in);
	if (rc)
		return rc;
	dg_reply_json(r, 200,
		      json_pack("{s:s,s:o,s:o}", "dept", dept, "asked", out, "to_decide", in));
	return DG_OK;
}

static dg_rc request_create(struct dg_req *r)
{
	struct dg_db *db = NULL;
	const char *dept = "";
	struct dg_err err = {0};
	int64_t id = 0;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_auth_dept_code(r, db, &dept);
	if (rc)
		return rc;
	const char *clear = input(r, "clear");
	struct x_request_new q = {
		.dept = dept,
		.registry = input(r, "registry"),
		.fields = input(r, "fields"),
		.clear = clear && strcmp(clear, "1") == 0,
		.purpose = input(r, "purpose"),
		.legal_basis = input(r, "legal_basis"),
		.mode = input(r, "mode"),
		.ends = input(r, "ends"),
		.user_id = r->user->id,
		.consent = input(r, "consent") && strcmp(input(r, "consent"), "1") == 0,
	};
	if (!q.fields)
		q.fields = "";
	/* the page's checkboxes come as several fields of one name */
	if (!r->json) {
		struct dg_buf b;
		dg_buf_init(&b, 4096);
		for (size_t i = 0; i < r->form.n; i++)
			if (strcmp(r->form.v[i].key, "fields") == 0 &&
			    ((b.len && dg_buf_addc(&b, ',')) || dg_buf_adds(&b, r->form.v[i].val)))
				break;
		q.fields = dg_arena_strdup(r->arena, dg_buf_str(&b));
		dg_buf_release(&b);
	}
	rc = x_request_create(db, r->arena, &q, &id, &err);
	if (r->api) {
		if (rc) {
			dg_reply_json_error(r, rc, err.msg[0] ? err.msg : dg_rc_name(rc),
					    err.field[0] ? err.field : NULL);
			return DG_OK;
		}
		char *status = NULL, *granted = NULL;
		if (dg_db_query_text(db, "SELECT status FROM xr_requests WHERE id = ?",
				     DG_ARGS(DG_VI(id)), r->arena, &status) ||
		    dg_db_query_text(db, "SELECT granted FROM xr_requests WHERE id = ?",
				     DG_ARGS(DG_VI(id)), r->arena, &granted))
			return DG_EDB;
		dg_reply_json(r, 201,
			      json_pack("{s:I,s:s,s:s}", "id", (json_int_t)id, "status", status,
					"granted", granted));
		return DG_OK;
	}
	if (rc == DG_EINVAL || rc == DG_ETOOBIG || rc == DG_EDENIED) {
		json_t *data = json_object();
		dg_form_keep_values(r, data);
		dg_form_error(data, err.field[0] ? err.field : "registry", err.msg);
		return requests_page_with(r, dg_rc_form_status(rc), data);
	}
	if (rc)
		return rc;
	dg_reply_redirect(r, "/exchange/requests?done=made");
	return DG_OK;
}

static dg_rc request_decide(struct dg_req *r)
{
	struct dg_db *db = NULL;
	const char *dept = "";
	struct dg_err err = {0};
	int64_t id = 0;
	const char *ids = dg_kvs_get(&r->params, "id"), *action = dg_kvs_get(&r->params, "action");
	if (!ids || dg_str_to_i64(dg_str_of(ids), &id) || id <= 0 ||
	    (strcmp(action, "approve") && strcmp(action, "refuse") && strcmp(action, "revoke")))
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "exchange.err.no_request"));
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_auth_dept_code(r, db, &dept);
	/* the owner may make a grant need the person's consent as it approves it: both
	 * in one transaction, so a refused approval leaves the grant as it was */
	const char *consent = input(r, "consent");
	bool with_consent = strcmp(action, "approve") == 0 && consent && !strcmp(consent, "1");
	if (!rc && with_consent && !(rc = dg_db_begin(db))) {
		rc = x_request_require_consent(db, r->arena, id, dept, is_admin(r), r->user->id,
					       &err);
		if (!rc)
			rc = x_request_decide(db, r->arena, id, action, input(r, "reason"), dept,
					      is_admin(r), r->user->id, &err);
		if (!rc)
			rc = dg_db_commit(db);
		if (rc)
			dg_db_rollback(db);
	} else if (!rc)
		rc = x_request_decide(db, r->arena, id, action, input(r, "reason"), dept,
				      is_admin(r), r->user->id, &err);
	if (r->api) {
		if (rc) {
			dg_reply_json_error(r, rc, err.msg[0] ? err.msg : dg_rc_name(rc),
					    err.field[0] ? err.field : NULL);
			return DG_OK;
		}
		dg_reply_json(r, 200, json_pack("{s:I,s:s}", "id", (json_int_t)id, "done", action));
		return DG_OK;
	}
	if (rc == DG_EINVAL) {
		json_t *data = json_object();
		dg_form_error(data, dg_arena_printf(r->arena, "reason-%lld", (long long)id),
			      dg_t(r, "exchange.err.reason"));
		return requests_page_with(r, dg_rc_form_status(rc), data);
	}
	if (rc == DG_ENOTFOUND)
		return dg_err_set(&r->err, rc, "%s", dg_t(r, "exchange.err.no_request"));
	if (rc == DG_EDENIED || rc == DG_ECONFLICT)
		return dg_err_set(&r->err, rc, "%s", err.msg);
	if (rc)
		return rc;
	static const char *const done[] = {"approved", "refused", "revoked"};
	int k = strcmp(action, "approve") == 0 ? 0 : strcmp(action, "refuse") == 0 ? 1 : 2;
	dg_reply_redirect(r, dg_arena_printf(r->arena, "/exchange/requests?done=%s", done[k]));
	return DG_OK;
}

/* --- the record API (the owning department) --- */

dg_rc x_owned_registry(struct dg_req *r, struct dg_db *db, const struct dg_entity **out)
{
	const struct dg_entity *e = x_registry(dg_kvs_get(&r->params, "registry"));
	const char *dept = "";
	if (!e)
		return dg_err_set(&r->err, DG_ENOTFOUND, "there is no such registry");
	dg_rc rc = dg_auth_dept_code(r, db, &dept);
	if (rc)
		return rc;
	if (!is_admin(r) && strcmp(dept, e->owner) != 0)
		return dg_err_set(&r->err, DG_EDENIED,
				  "only the department that owns %s writes its records", e->name);
	*out = e;
	return DG_OK;
}

static dg_rc write_record(struct dg_req *r, int what /* 0 create, 1 update, 2 end */)
{
	struct dg_db *db = NULL;
	const struct dg_entity *e = NULL;
	struct dg_err err = {0};
	int64_t version = 0;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = x_owned_registry(r, db, &e);
	if (rc)
		return rc;
	if (!json_is_object(r->json))
		return dg_err_set(&r->err, DG_EINVAL, "send the record as application/json");
	const char *id = what == 0 ? input(r, "id") : dg_kvs_get(&r->params, "id");
	const char *actor = dg_arena_printf(r->arena, "user:%lld", (long long)r->user->id);
	rc = dg_db_begin(db);
	if (rc)
		return rc;
	if (what == 2)
		rc = x_record_end(r->env, db, r->arena, e, id, input(r, "effective"), actor,
				  &version, &err);
	else
		rc = x_record_put(r->env, db, r->arena, e, id, json_object_get(r->json, "values"),
				  input(r, "effective"), what == 0, actor, &version, &err);
	if (!rc)
		rc = dg_db_commit(db);
	if (rc) {
		dg_db_rollback(db);
		if (err.msg[0]) {
			dg_reply_json_error(r, rc, err.msg, err.field[0] ? err.field : NULL);
			return DG_OK;
		}
		return rc;
	}
	dg_reply_json(r, what == 0 ? 201 : 200,
		      json_pack("{s:s,s:I}", "registry", e->name, "version", (json_int_t)version));
	return DG_OK;
}

static dg_rc record_create(struct dg_req *r)
{
	return write_record(r, 0);
}

static dg_rc record_update(struct dg_req *r)
{
	return write_record(r, 1);
}

static dg_rc record_end(struct dg_req *r)
{
	return write_record(r, 2);
}

/*
 * What changed since a version: readers of every department may ask (the
 * list names records and fields, never values, which only the exchange
 * gives under a grant).
 */
static dg_rc changes_api(struct dg_req *r)
{
	const struct dg_entity *e = x_registry(dg_kvs_get(&r->params, "registry"));
	if (!e)
		return dg_err_set(&r->err, DG_ENOTFOUND, "there is no such registry");
	int64_t since = 0, limit = 100;
	const char *s = dg_kvs_get(&r->query, "since"), *l = dg_kvs_get(&r->query, "limit");
	if ((s && (dg_str_to_i64(dg_str_of(s), &since) || since < 0)) ||
	    (l && (dg_str_to_i64(dg_str_of(l), &limit) || limit < 1 || limit > 1000)))
		return dg_err_set(&r->err, DG_EINVAL,
				  "since is a version from 0; limit is from 1 to 1000");
	struct dg_db *db = NULL;
	json_t *list = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = x_changes(db, e, since, limit, &list);
	if (rc)
		return rc;
	size_t n = json_array_size(list);
	json_int_t last =
		n ? json_integer_value(json_object_get(json_array_get(list, n - 1), "version"))
		  : (json_int_t)since;
	dg_reply_json(r, 200,
		      json_pack("{s:s,s:I,s:I,s:o}", "registry", e->name, "since",
				(json_int_t)since, "last", last, "changes", list));
	return DG_OK;
}

/* --- who used my data --- */

static dg_rc my_subject(struct dg_req *r, struct dg_db *db, const char **subject)
{
	char *s = NULL;
	dg_rc rc = dg_db_query_text(db, "SELECT id_number_index FROM users WHERE id = ?",
				    DG_ARGS(DG_VI(r->user->id)), r->arena, &s);
	*subject = rc || !s ? "" : s;
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

static void label_uses(struct dg_req *r, json_t *uses)
{
	bool en = r->lang && strcmp(r->lang, "en") == 0;
	size_t i;
	json_t *u;
	json_array_foreach (uses, i, u) {
		int64_t ms = json_integer_value(json_object_get(u, "at_ms"));
		time_t t = (time_t)(ms / 1000);
		struct tm tm;
		char when[32];
		localtime_r(&t, &tm);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
		json_object_set_new(u, "when", json_string(when));
		json_object_set(u, "dept_name", json_object_get(u, en ? "dept_en" : "dept_zh"));
		const char *kind = json_string_value(json_object_get(u, "kind"));
		json_object_set_new(u, "bulk", json_boolean(strcmp(kind, "bulk") == 0));
		const struct dg_entity *e =
			x_registry(json_string_value(json_object_get(u, "registry")));
		const char *title = e && e->title ? e->title : "";
		if (!e &&
		    !strcmp(json_string_value(json_object_get(u, "registry")), "certificates"))
			title = dg_t(r, "exchange.use.certificate");
		json_object_set_new(u, "registry_title", json_string(title));
	}
}

/* The signed-in resident's uses, labelled for r (owned; empty without an ID number). */
static dg_rc my_uses(struct dg_req *r, const char **subject, json_t **uses)
{
	struct dg_db *db = NULL;
	*subject = "";
	*uses = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = my_subject(r, db, subject);
	if (!rc && (*subject)[0])
		rc = x_uses_of(db, *subject, USES_MAX, uses);
	if (rc)
		return rc;
	if (!*uses)
		*uses = json_array();
	label_uses(r, *uses);
	return DG_OK;
}

static dg_rc data_use_page(struct dg_req *r)
{
	const char *subject;
	json_t *uses;
	dg_rc rc = my_uses(r, &subject, &uses);
	if (rc)
		return rc;
	json_t *data = json_pack("{s:s,s:o,s:b}", "title", dg_t(r, "exchange.use.heading"), "uses",
				 uses, "has_id", subject[0] != '\0');
	return dg_page(r, 200, "exchange/data_use.html", data);
}

static dg_rc data_use_csv(struct dg_req *r)
{
	const char *subject;
	json_t *uses;
	dg_rc rc = my_uses(r, &subject, &uses);
	if (rc)
		return rc;
	struct dg_buf b;
	dg_buf_init(&b, (size_t)8 << 20);
	static const char *const cols[] = {"when",    "dept_name", "system", "official",
					   "purpose", "registry",  "fields", "kind",
					   "run",     "audit_seq"};
	rc = dg_buf_adds(&b, "\xEF\xBB\xBF");
	for (size_t c = 0; !rc && c < 10; c++)
		rc = dg_csv_cell(&b, cols[c], c == 9);
	size_t i;
	json_t *u;
	json_array_foreach (uses, i, u) {
		for (size_t c = 0; !rc && c < 10; c++) {
			json_t *v = json_object_get(u, cols[c]);
			const char *s = json_is_integer(v)
						? dg_arena_printf(r->arena, "%lld",
								  (long long)json_integer_value(v))
						: json_string_value(v);
			rc = dg_csv_cell(&b, s ? s : "", c == 9);
		}
	}
	json_decref(uses);
	if (rc) {
		dg_buf_release(&b);
		return rc;
	}
	dg_reply_header(r, "Content-Disposition", "attachment; filename=\"data-use.csv\"");
	dg_reply_buf(r, 200, "text/csv; charset=utf-8", &b);
	dg_buf_release(&b);
	return DG_OK;
}

#define STAFF    (DG_ROLE_STAFF | DG_ROLE_ADMIN)
#define RESIDENT (DG_ROLE_CITIZEN | DG_ROLE_AGENT)

/* The access policy of the exchange's pages and APIs. */
static const struct dg_route routes[] = {
	{"GET", "/exchange/directory", directory_page, STAFF, 0},
	{"GET", "/api/exchange/directory", directory_api, STAFF, 0},
	{"GET", "/exchange/requests", requests_page, STAFF, 0},
	{"POST", "/exchange/requests", request_create, STAFF, 0},
	{"POST", "/exchange/requests/{id}/{action}", request_decide, STAFF, 0},
	{"GET", "/api/exchange/requests", requests_api, STAFF, 0},
	{"POST", "/api/exchange/requests", request_create, STAFF, 0},
	{"POST", "/api/exchange/requests/{id}/{action}", request_decide, STAFF, 0},
	{"POST", "/api/exchange/registries/{registry}/records", record_create, STAFF, 0},
	{"POST", "/api/exchange/registries/{registry}/records/{id}", record_update, STAFF, 0},
	{"POST", "/api/exchange/registries/{registry}/records/{id}/end", record_end, STAFF, 0},
	{"GET", "/api/exchange/registries/{registry}/changes", changes_api, STAFF, 0},
	{"GET", "/my/data-use", data_use_page, RESIDENT, 0},
	{"GET", "/my/data-use.csv", data_use_csv, RESIDENT, 0},
};

const struct dg_route *x_page_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}

const char *x_input(struct dg_req *r, const char *name)
{
	return input(r, name);
}

dg_rc x_my_subject(struct dg_req *r, struct dg_db *db, const char **subject)
{
	return my_subject(r, db, subject);
}
