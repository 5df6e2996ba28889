/*
 * api.c - applications and cases over JSON (documented in
 * static/openapi.json, served at /api/openapi.json):
 *
 *   POST /api/v1/applications               {"item", "answers", "submit"}
 *   GET  /api/v1/applications/{ref}
 *   POST /api/v1/applications/{ref}/withdraw
 *   POST /api/v1/applications/{ref}/rating  {"level", "comment"}
 *   GET  /api/v1/cases?status=&item=&due_before=&page=   (staff)
 *   POST /api/v1/cases/{ref}/actions        {"action", "reason", "to_dept"} (staff)
 *
 * The same functions as the pages do the work, so the rules are one set.
 * Errors are {"error": {"code", "message", "field", "fields"}} with the
 * status of the code; validation lists every field at once.
 */
#include "cases/internal.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/auth.h"
#include "cases/cases.h"
#include "catalog/catalog.h"
#include "node/env.h"
#include "web/page.h"

static const char *str_of(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* A field in error in a well-formed body is 422; everything else has its code's status. */
static dg_rc api_error(struct dg_req *r, dg_rc rc, const struct dg_err *err)
{
	const char *msg = dg_t(r, err->msg[0] ? err->msg : "error.store");
	if (rc == DG_EINVAL && err->field[0])
		dg_reply_json_error_status(r, dg_rc_form_status(rc), rc, msg, err->field);
	else
		dg_reply_json_error(r, rc, msg, err->field[0] ? err->field : NULL);
	return DG_OK;
}

/*
 * A case as the API shows it: no internal ids, the form's answers and the
 * history, ID numbers and phones masked.
 */
static json_t *case_view(struct dg_req *r, json_t *c)
{
	case_show(&r->env->keys, r->arena, c, 0);
	static const char *const drop[] = {"id",        "dept_id", "applicant_id", "form",
					   "prefilled", "due_day", "paused_from",  NULL};
	for (size_t i = 0; drop[i]; i++)
		json_object_del(c, drop[i]);
	json_t *x = json_object_get(c, "rectification");
	if (x) {
		json_object_del(x, "applicant_id");
		json_object_del(x, "dept_id");
	}
	return c;
}

struct new_app {
	json_t *item;
	json_t *answers;
	int submit;
	char ref[CASE_REF_MAX];
	json_t *errs;
};

static dg_rc create_tx(struct dg_req *r, struct dg_db *db, void *arg, struct dg_err *err)
{
	struct new_app *a = arg;
	struct case_actor who;
	json_t *me = NULL, *p;
	size_t i;
	case_actor_of(r, &who);
	dg_rc rc = dg_auth_me_json(r, true, &me);
	if (rc) {
		json_decref(me);
		return rc;
	}
	/*
	 * The API's answers over the pre-filled ones, checked page by page as the
	 * browser would; what came from the account stays (another value is refused).
	 * The case is written once, with the answers as they end up.
	 */
	json_t *c = case_draft_new(a->item, me);
	json_t *answers = json_object_get(c, "answers"), *v, *pre = json_object_get(c, "prefilled");
	const char *k;
	size_t fixed = 0;
	json_object_foreach (a->answers, k, v) {
		if (!case_answer_fixed(pre, answers, k)) {
			json_object_set(answers, k, v);
			continue;
		}
		if (!json_is_string(v) ||
		    strcmp(json_string_value(v), json_string_value(json_object_get(answers, k)))) {
			case_field_error(r, a->errs, case_form_field(json_object_get(c, "form"), k),
					 "cases.err.fixed");
			fixed++;
		}
	}
	json_array_foreach (json_object_get(json_object_get(c, "form"), "pages"), i, p) {
		json_t *f;
		size_t j;
		json_array_foreach (json_object_get(p, "fields"), j, f)
			if (!strcmp(str_of(f, "type"), "file") &&
			    json_object_get(answers, str_of(f, "name")) && a->submit) {
				/* documents are uploaded in the browser; an answer here is not a
				 * document */
				json_object_del(answers, str_of(f, "name"));
			}
		case_check_page(r, p, answers, a->errs);
	}
	/* another identity is refused even in a draft; other answers may wait until submitting */
	if (fixed || (json_array_size(a->errs) && a->submit))
		rc = dg_err_set(err, DG_EINVAL, "cases.err.answers");
	else
		rc = case_insert(db, a->item, &who, me, c, a->submit, a->ref, err);
	json_decref(c);
	json_decref(me);
	return rc;
}

static dg_rc api_create(struct dg_req *r)
{
	struct dg_err err = {0};
	struct dg_db *db = NULL;
	json_t *body = r->json;
	if (!json_is_object(body)) {
		dg_reply_json_error(r, DG_EINVAL, dg_t(r, "cases.err.json"), NULL);
		return DG_OK;
	}
	const char *code = str_of(body, "item");
	json_t *answers = json_object_get(body, "answers"), *sub = json_object_get(body, "submit");
	if (answers && !json_is_object(answers)) {
		dg_reply_json_error(r, DG_EINVAL, dg_t(r, "cases.err.json"), "answers");
		return DG_OK;
	}
	if (sub && !json_is_boolean(sub)) {
		dg_reply_json_error(r, DG_EINVAL, dg_t(r, "cases.err.json"), "submit");
		return DG_OK;
	}
	struct new_app a = {
		.answers = answers, .submit = !sub || json_is_true(sub), .errs = json_array()};
	dg_rc rc = strlen(code) && strlen(code) <= 40 ? dg_req_db(r, &db) : DG_ENOTFOUND;
	if (!rc)
		rc = dg_catalog_item(db, code, &a.item);
	if (!rc && strcmp(str_of(a.item, "status"), "active"))
		rc = DG_ENOTFOUND;
	if (rc == DG_ENOTFOUND) {
		json_decref(a.item);
		json_decref(a.errs);
		dg_reply_json_error(r, DG_ENOTFOUND, dg_t(r, "cases.err.no_item"), "item");
		return DG_OK;
	}
	struct case_actor who;
	case_actor_of(r, &who);
	const char *why = rc ? NULL : case_may_apply(&who, a.item);
	if (why)
		rc = dg_err_set(&err, DG_EDENIED, "%s", why);
	if (!rc)
		rc = case_tx(r, create_tx, &a, &err);
	json_decref(a.item);
	if (rc == DG_EINVAL && json_array_size(a.errs)) {
		json_t *fields = json_object(), *e;
		size_t i;
		json_array_foreach (a.errs, i, e)
			json_object_set(fields, str_of(e, "field"), json_object_get(e, "message"));
		json_t *first = json_array_get(a.errs, 0);
		dg_reply_json(r, dg_rc_form_status(rc),
			      json_pack("{s:{s:s, s:s, s:O, s:o}}", "error", "code", "EINVAL",
					"message", dg_t(r, "cases.err.answers"), "field",
					json_object_get(first, "field"), "fields", fields));
		json_decref(a.errs);
		return DG_OK;
	}
	json_decref(a.errs);
	if (rc)
		return api_error(r, rc, &err);
	json_t *c = NULL;
	rc = case_get(db, a.ref, &who, &c, &err);
	if (rc)
		return api_error(r, rc, &err);
	dg_reply_header(r, "Location", dg_arena_printf(r->arena, "/api/v1/applications/%s", a.ref));
	dg_reply_json(r, 201, case_view(r, c));
	return DG_OK;
}

static dg_rc api_get(struct dg_req *r)
{
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	struct case_actor who;
	json_t *c = NULL;
	case_actor_of(r, &who);
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = case_get(db, dg_kvs_get(&r->params, "ref"), &who, &c, &err);
	if (!rc)
		rc = case_staff_viewed(r, db, c, "api");
	if (rc) {
		json_decref(c);
		return api_error(r, rc, &err);
	}
	dg_reply_json(r, 200, case_view(r, c));
	return DG_OK;
}

/* Answer with the case after a change, as its applicant or member of staff sees it. */
static dg_rc reply_case(struct dg_req *r)
{
	return api_get(r);
}

static dg_rc withdraw_tx(struct dg_req *r, struct dg_db *db, void *arg, struct dg_err *err)
{
	struct case_actor who;
	(void)arg;
	case_actor_of(r, &who);
	return case_withdraw(db, dg_kvs_get(&r->params, "ref"), &who, err);
}

static dg_rc api_withdraw(struct dg_req *r)
{
	struct dg_err err = {0};
	dg_rc rc = case_tx(r, withdraw_tx, NULL, &err);
	return rc ? api_error(r, rc, &err) : reply_case(r);
}

static dg_rc rate_tx(struct dg_req *r, struct dg_db *db, void *arg, struct dg_err *err)
{
	struct case_actor who;
	(void)arg;
	case_actor_of(r, &who);
	json_t *lv = json_object_get(r->json, "level"), *cm = json_object_get(r->json, "comment");
	if (!json_is_integer(lv))
		return dg_err_field(err, DG_EINVAL, "level", "cases.err.level");
	if (cm && !json_is_string(cm))
		return dg_err_field(err, DG_EINVAL, "comment", "cases.err.text");
	int64_t level = json_integer_value(lv);
	return case_rate(db, dg_kvs_get(&r->params, "ref"), &who,
			 level < 0 || level > 5 ? 0 : (int)level, json_string_value(cm), err);
}

static dg_rc api_rate(struct dg_req *r)
{
	struct dg_err err = {0};
	if (!json_is_object(r->json)) {
		dg_reply_json_error(r, DG_EINVAL, dg_t(r, "cases.err.json"), NULL);
		return DG_OK;
	}
	dg_rc rc = case_tx(r, rate_tx, NULL, &err);
	return rc ? api_error(r, rc, &err) : reply_case(r);
}

static dg_rc api_cases(struct dg_req *r)
{
	json_t *res = NULL;
	dg_rc rc = case_queue_json(r, &res);
	if (rc == DG_EINVAL) {
		dg_reply_json_error(r, rc, r->err.msg, r->err.field);
		return DG_OK;
	}
	if (rc)
		return rc;
	dg_reply_json(r, 200, res);
	return DG_OK;
}

static dg_rc api_action(struct dg_req *r)
{
	struct dg_err err = {0};
	json_t *b = r->json;
	if (!json_is_object(b)) {
		dg_reply_json_error(r, DG_EINVAL, dg_t(r, "cases.err.json"), NULL);
		return DG_OK;
	}
	static const char *const keys[] = {"action", "reason", "to_dept"};
	for (int k = 0; k < 3; k++) {
		json_t *v = json_object_get(b, keys[k]);
		if (v && !json_is_string(v)) {
			dg_reply_json_error(r, DG_EINVAL, dg_t(r, "cases.err.json"), keys[k]);
			return DG_OK;
		}
	}
	struct case_action act = {
		.action = json_string_value(json_object_get(b, "action")),
		.reason = json_string_value(json_object_get(b, "reason")),
		.to_dept = json_string_value(json_object_get(b, "to_dept")),
	};
	dg_rc rc = case_run_action(r, &act, &err);
	if (rc)
		return api_error(r, rc, &err);
	if (act.action && !strcmp(act.action, "transfer")) {
		/* the case has left this department: what is left to show is the outcome */
		dg_reply_json(r, 200,
			      json_pack("{s:s, s:s, s:s}", "ref", dg_kvs_get(&r->params, "ref"),
					"transferred_to", act.to_dept, "status", "transferred"));
		return DG_OK;
	}
	return reply_case(r);
}

static dg_rc api_openapi(struct dg_req *r)
{
	char path[4200];
	struct stat sb;
	snprintf(path, sizeof(path), "%s/openapi.json", r->env->cfg->static_dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb)) {
		if (fd >= 0)
			close(fd);
		return DG_ENOTFOUND;
	}
	dg_reply_file(r, 200, "application/json", fd, (uint64_t)sb.st_size);
	return DG_OK;
}

static const struct dg_route routes[] = {
	{"GET", "/api/openapi.json", api_openapi, DG_ROLE_ANY, DG_ROUTE_PUBLIC},
	{"POST", "/api/v1/applications", api_create, DG_ROLE_CITIZEN | DG_ROLE_AGENT, 0},
	{"GET", "/api/v1/applications/{ref}", api_get, DG_ROLE_USER, 0},
	{"POST", "/api/v1/applications/{ref}/withdraw", api_withdraw,
	 DG_ROLE_CITIZEN | DG_ROLE_AGENT, 0},
	{"POST", "/api/v1/applications/{ref}/rating", api_rate, DG_ROLE_CITIZEN | DG_ROLE_AGENT, 0},
	{"GET", "/api/v1/cases", api_cases, DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"POST", "/api/v1/cases/{ref}/actions", api_action, DG_ROLE_STAFF, 0},
};

const struct dg_route *dg_cases_api_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
