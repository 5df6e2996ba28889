/*
 * office.c - the back office: a department's queue (what is due first, with
 * filters by item, status and due date, overdue and due-soon marked), one
 * case with its answers, documents, history and the actions the member of
 * staff may take; rectification tasks opened by bad ratings; and the public
 * satisfaction figures (/ratings).
 *
 * Staff see only their own department's cases; an administrator sees every
 * department's but acts on none (actions are the department's).
 */
#include "cases/internal.h"

#include <stdio.h>
#include <string.h>

#include "cases/cases.h"
#include "core/log.h"
#include "core/str.h"
#include "http/router.h"
#include "node/env.h"
#include "web/page.h"

static const char *str_of(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static int64_t scope(const struct dg_req *r)
{
	return r->user->role == DG_ROLE_ADMIN ? 0 : r->user->dept_id;
}

/* Filters from the query string; EINVAL naming the field. */
static dg_rc read_filter(struct dg_req *r, struct case_filter *f)
{
	const char *page = dg_kvs_get(&r->query, "page"),
		   *due = dg_kvs_get(&r->query, "due_before");
	memset(f, 0, sizeof(*f));
	f->dept_id = scope(r);
	f->status = dg_kvs_get(&r->query, "status");
	f->item = dg_kvs_get(&r->query, "item");
	f->page = 1;
	if (f->status && *f->status && strcmp(f->status, "open") && strcmp(f->status, "overdue") &&
	    strcmp(f->status, "due_soon") && !case_status_known(f->status))
		return dg_err_field(&r->err, DG_EINVAL, "status", "%s",
				    dg_t(r, "cases.err.status"));
	if (f->item && strlen(f->item) > 40)
		return dg_err_field(&r->err, DG_EINVAL, "item", "%s", dg_t(r, "cases.err.no_item"));
	if (due && *due && dg_day_parse(due, &f->due_before))
		return dg_err_field(&r->err, DG_EINVAL, "due_before", "%s",
				    dg_t(r, "cases.err.date"));
	if (page && *page &&
	    (dg_str_to_i64(dg_str_of(page), &f->page) || f->page < 1 || f->page > 10000))
		return dg_err_field(&r->err, DG_EINVAL, "page", "%s", dg_t(r, "cases.err.page"));
	return DG_OK;
}

dg_rc case_queue_json(struct dg_req *r, json_t **out)
{
	struct case_filter f;
	struct dg_db *db = NULL;
	*out = NULL;
	if (r->user->role == DG_ROLE_STAFF && r->user->dept_id <= 0)
		return DG_EDENIED;
	dg_rc rc = read_filter(r, &f);
	if (!rc)
		rc = dg_req_db(r, &db);
	if (!rc)
		rc = case_list(db, &f, out);
	return rc;
}

static dg_rc page_queue(struct dg_req *r)
{
	json_t *res = NULL, *d = json_object(), *c;
	size_t i;
	dg_rc rc = case_queue_json(r, &res);
	if (rc == DG_EINVAL) {
		/* a bad filter is said next to the filter, and the whole queue shown */
		dg_form_error(d, r->err.field, r->err.msg);
		struct case_filter f = {.dept_id = scope(r), .page = 1};
		struct dg_db *db = NULL;
		rc = dg_req_db(r, &db);
		if (!rc)
			rc = case_list(db, &f, &res);
	}
	if (rc) {
		json_decref(d);
		return rc;
	}
	json_array_foreach (json_object_get(res, "cases"), i, c)
		case_localise(r, c);
	static const char *const filters[] = {"open",     "overdue",    "due_soon",  "submitted",
					      "accepted", "supplement", "reviewed",  "approved",
					      "denied",   "refused",    "withdrawn", NULL};
	const char *sel = dg_kvs_get(&r->query, "status");
	json_t *opts = json_array();
	for (size_t k = 0; filters[k]; k++)
		json_array_append_new(
			opts,
			json_pack("{s:s, s:s, s:b}", "value", filters[k], "label",
				  dg_t(r, dg_arena_printf(r->arena, "cases.filter.%s", filters[k])),
				  "selected", sel && !strcmp(sel, filters[k])));
	json_object_set_new(d, "statuses", opts);
	dg_form_keep_values(r, d);
	json_t *vals = json_object_get(d, "values");
	const char *keys[] = {"item", "due_before"};
	for (int k = 0; k < 2; k++) {
		const char *v = dg_kvs_get(&r->query, keys[k]);
		if (v && dg_utf8_valid(v, strlen(v)))
			json_object_set_new(vals, keys[k], json_string(v));
	}
	int64_t total = json_integer_value(json_object_get(res, "total")),
		page = json_integer_value(json_object_get(res, "page"));
	json_object_set_new(d, "pager", dg_pager(r, total, page, CASE_PAGE));
	json_object_set_new(d, "is_admin", json_boolean(r->user->role == DG_ROLE_ADMIN));
	json_object_set_new(d, "title", json_string(dg_t(r, "cases.office.title")));
	json_object_set_new(d, "result", res);
	return dg_page(r, 200, "cases/office.html", d);
}

/*
 * One case for its department. ID numbers and phones are masked unless
 * revealed (a staff member's POST .../reveal, logged and on the case's
 * history); answers that came from the applicant's account are marked.
 */
static dg_rc render_office_case_as(struct dg_req *r, unsigned status, json_t *d, int revealed)
{
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	struct case_actor who;
	struct dg_rows *rw = NULL;
	json_t *c = NULL;
	case_actor_of(r, &who);
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = case_get(db, dg_kvs_get(&r->params, "ref"), &who, &c, &err);
	/* the person whose record this is sees the view on their page "who used my data" */
	/* a view is recorded as it is served; the page again after an action that failed
	   (with what the member of staff typed) continues the view recorded before it, so
	   a full disk that refused the action does not lose their words as well */
	if (!rc && status == 200)
		rc = case_staff_viewed(r, db, c, revealed ? "reveal" : "case");
	if (rc) {
		json_decref(c);
		json_decref(d);
		return case_fail(r, rc, &err);
	}
	const char *st = str_of(c, "status"), *roles = r->user->staff_roles;
	int staff = r->user->role == DG_ROLE_STAFF;
	int intake = staff && case_has_role(roles, "intake"),
	    review = staff && case_has_role(roles, "review"),
	    approve = staff && case_has_role(roles, "approve");
	int at_intake = !strcmp(st, "submitted"),
	    in_review = !strcmp(st, "accepted") || !strcmp(st, "reviewed");
	json_object_set_new(d, "can_accept", json_boolean(intake && at_intake));
	json_object_set_new(d, "can_supplement",
			    json_boolean((intake || review) && (at_intake || in_review)));
	json_object_set_new(d, "can_review", json_boolean(review && !strcmp(st, "accepted")));
	json_object_set_new(d, "can_decide", json_boolean(approve && in_review));
	json_object_set_new(d, "can_transfer", json_boolean(intake && (at_intake || in_review)));
	json_t *depts = json_array();
	rc = dg_db_query(
		db, "SELECT code, name_zh, name_en FROM departments WHERE id <> ? ORDER BY code",
		DG_ARGS(DG_VI(json_integer_value(json_object_get(c, "dept_id")))), &rw);
	while (!rc && (rc = dg_rows_next(rw)) == DG_OK)
		json_array_append_new(depts,
				      json_pack("{s:s, s:s}", "code", dg_rows_text(rw, 0), "name",
						dg_rows_text(rw, strcmp(r->lang, "en") ? 1 : 2)));
	dg_rows_free(rw);
	if (rc != DG_ENOTFOUND) {
		json_decref(c);
		json_decref(d);
		json_decref(depts);
		return rc;
	}
	json_object_set_new(d, "depts", depts);
	const char *done = dg_kvs_get(&r->query, "done");
	if (done && strlen(done) < 40 && dg_utf8_valid(done, strlen(done)))
		json_object_set_new(
			d, "done",
			json_string(dg_t(r, dg_arena_printf(r->arena, "cases.done.%s", done))));
	case_show(&r->env->keys, r->arena, c, revealed);
	json_object_set_new(d, "revealed", json_boolean(revealed));
	json_object_set_new(d, "can_reveal", json_boolean(staff && !revealed));
	json_t *p, *answers = json_object_get(c, "answers"), *pre = json_object_get(c, "prefilled");
	size_t i;
	json_t *pages = json_array();
	json_array_foreach (json_object_get(json_object_get(c, "form"), "pages"), i, p) {
		if (!case_page_shown(p, answers))
			continue;
		json_t *fields = json_array(), *f;
		size_t j;
		json_array_foreach (json_object_get(p, "fields"), j, f) {
			if (!case_field_shown(f, answers))
				continue;
			json_t *v = json_object_get(answers, str_of(f, "name"));
			json_array_append_new(
				fields,
				json_pack("{s:O, s:s, s:b, s:b}", "label",
					  json_object_get(f, strcmp(r->lang, "en") ? "label_zh"
										   : "label_en"),
					  "value", json_is_string(v) ? json_string_value(v) : "",
					  "is_file", !strcmp(str_of(f, "type"), "file"),
					  "from_account",
					  case_answer_fixed(pre, answers, str_of(f, "name"))));
		}
		json_array_append_new(
			pages, json_pack("{s:O, s:o}", "title",
					 json_object_get(p, strcmp(r->lang, "en") ? "title_zh"
										  : "title_en"),
					 "fields", fields));
	}
	json_object_set_new(d, "pages", pages);
	json_object_set_new(d, "show_actor", json_true());
	case_localise(r, c);
	json_object_set(d, "title", json_object_get(c, "item_name"));
	json_object_set_new(d, "case", c);
	return dg_page(r, status, "cases/office_case.html", d);
}

static dg_rc render_office_case(struct dg_req *r, unsigned status, json_t *d)
{
	return render_office_case_as(r, status, d, 0);
}

static dg_rc page_office_case(struct dg_req *r)
{
	return render_office_case(r, 200, json_object());
}

static dg_rc reveal_tx(struct dg_req *r, struct dg_db *db, void *arg, struct dg_err *err)
{
	struct case_actor who;
	(void)arg;
	case_actor_of(r, &who);
	return case_reveal(db, dg_kvs_get(&r->params, "ref"), &who, err);
}

/*
 * The case with its ID numbers and phones in full, for staff of its
 * department: written on its history (the applicant sees who looked) and in
 * the log, before anything is shown.
 */
static dg_rc post_reveal(struct dg_req *r)
{
	struct dg_err err = {0};
	dg_rc rc = case_tx(r, reveal_tx, NULL, &err);
	if (rc)
		return case_fail(r, rc, &err);
	dg_info("req=%s staff %lld saw the personal identifiers of case %s in full", r->id,
		(long long)r->user->id, dg_kvs_get(&r->params, "ref"));
	return render_office_case_as(r, 200, json_object(), 1);
}

static dg_rc act_tx(struct dg_req *r, struct dg_db *db, void *arg, struct dg_err *err)
{
	struct case_actor who;
	case_actor_of(r, &who);
	return case_act(db, &r->env->keys, dg_kvs_get(&r->params, "ref"), &who, arg, err);
}

/* One staff action on a case, in its own transaction. */
dg_rc case_run_action(struct dg_req *r, const struct case_action *act, struct dg_err *err)
{
	return case_tx(r, act_tx, (void *)act, err);
}

static dg_rc post_office_action(struct dg_req *r)
{
	struct dg_err err = {0};
	struct case_action act = {
		.action = dg_req_field(r, "action"),
		.reason = dg_req_field(r, "reason"),
		.to_dept = dg_req_field(r, "to_dept"),
	};
	dg_rc rc = case_run_action(r, &act, &err);
	if (!rc) {
		dg_reply_redirect(r, dg_arena_printf(r->arena, "/office/cases/%s?done=%s",
						     dg_kvs_get(&r->params, "ref"), act.action));
		return DG_OK;
	}
	if (rc != DG_EINVAL && rc != DG_ECONFLICT && !case_store_fault(rc))
		return case_fail(r, rc, &err);
	json_t *d = json_object();
	dg_form_keep_values(r, d);
	if (case_store_fault(rc)) {
		/* the reason typed is kept for sending again */
		dg_form_error(d, "actions", case_fault_message(r, rc));
		return render_office_case(r, dg_rc_http_status(rc), d);
	}
	dg_form_error(d, err.field[0] ? err.field : "actions", dg_t(r, err.msg));
	return render_office_case(r, dg_rc_form_status(rc), d);
}

/* ---- rectification ------------------------------------------------------ */

static void localise_task(struct dg_req *r, json_t *x)
{
	int en = !strcmp(r->lang, "en");
	json_object_set(x, "item_name", json_object_get(x, en ? "item_name_en" : "item_name_zh"));
	json_object_set_new(x, "stage_label",
			    json_string(dg_t(r, dg_arena_printf(r->arena, "cases.stage.%s",
								str_of(x, "stage")))));
	json_object_set_new(
		x, "level_label",
		json_string(dg_t(r, dg_arena_printf(r->arena, "cases.level.%lld",
						    (long long)json_integer_value(
							    json_object_get(x, "level"))))));
}

static dg_rc page_tasks(struct dg_req *r)
{
	struct dg_db *db = NULL;
	json_t *list = NULL, *x;
	size_t i;
	if (r->user->role == DG_ROLE_STAFF && r->user->dept_id <= 0)
		return DG_EDENIED;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = case_rectify_list(db, scope(r), &list);
	if (rc)
		return rc;
	json_array_foreach (list, i, x) {
		localise_task(r, x);
		case_show_rect(&r->env->keys, r->arena, x, 0);
	}
	json_t *d = json_object();
	json_object_set_new(d, "title", json_string(dg_t(r, "cases.rectify.title")));
	json_object_set_new(d, "tasks", list);
	return dg_page(r, 200, "cases/tasks.html", d);
}

static dg_rc render_task(struct dg_req *r, unsigned status, json_t *d)
{
	struct dg_db *db = NULL;
	json_t *x = NULL;
	int64_t id = 0;
	if (dg_str_to_i64(dg_str_of(dg_kvs_get(&r->params, "id")), &id)) {
		json_decref(d);
		return DG_ENOTFOUND;
	}
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = case_rectify_get(db, id, scope(r), &x);
	if (rc) {
		json_decref(d);
		if (rc == DG_ENOTFOUND)
			dg_err_set(&r->err, rc, "%s", dg_t(r, "cases.err.no_task"));
		return rc;
	}
	localise_task(r, x);
	case_show_rect(&r->env->keys, r->arena, x, 0);
	const char *stage = str_of(x, "stage");
	int staff = r->user->role == DG_ROLE_STAFF;
	json_object_set_new(d, "can_step",
			    json_boolean(staff && strcmp(stage, "closed") &&
					 (strcmp(stage, "review") ||
					  case_has_role(r->user->staff_roles, "review") ||
					  case_has_role(r->user->staff_roles, "approve"))));
	json_object_set_new(
		d, "step_label",
		json_string(dg_t(r, dg_arena_printf(r->arena, "cases.step.%s", stage))));
	json_object_set(d, "title", json_object_get(x, "item_name"));
	json_object_set_new(d, "task", x);
	return dg_page(r, status, "cases/task.html", d);
}

static dg_rc page_task(struct dg_req *r)
{
	return render_task(r, 200, json_object());
}

static dg_rc task_tx(struct dg_req *r, struct dg_db *db, void *arg, struct dg_err *err)
{
	struct case_actor who;
	case_actor_of(r, &who);
	return case_rectify_step(db, *(const int64_t *)arg, &who, dg_req_field(r, "text"), err);
}

static dg_rc post_task(struct dg_req *r)
{
	struct dg_err err = {0};
	int64_t id = 0;
	if (dg_str_to_i64(dg_str_of(dg_kvs_get(&r->params, "id")), &id))
		return DG_ENOTFOUND;
	dg_rc rc = case_tx(r, task_tx, &id, &err);
	if (!rc) {
		dg_reply_redirect(
			r, dg_arena_printf(r->arena, "/office/rectifications/%lld", (long long)id));
		return DG_OK;
	}
	if (rc != DG_EINVAL && rc != DG_ECONFLICT && !case_store_fault(rc))
		return case_fail(r, rc, &err);
	json_t *d = json_object();
	dg_form_keep_values(r, d);
	if (case_store_fault(rc)) {
		dg_form_error(d, "text", case_fault_message(r, rc));
		return render_task(r, dg_rc_http_status(rc), d);
	}
	dg_form_error(d, "text", dg_t(r, err.msg));
	return render_task(r, dg_rc_form_status(rc), d);
}

/* ---- satisfaction (public) ------------------------------------------------ */

static dg_rc page_ratings(struct dg_req *r)
{
	struct dg_db *db = NULL;
	json_t *s = NULL, *e;
	size_t i;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = case_satisfaction(db, &s);
	if (rc)
		return rc;
	int en = !strcmp(r->lang, "en");
	const char *lists[] = {"items", "depts"};
	for (int k = 0; k < 2; k++)
		json_array_foreach (json_object_get(s, lists[k]), i, e)
			json_object_set(e, "name", json_object_get(e, en ? "name_en" : "name_zh"));
	json_t *d = json_object();
	json_object_set_new(d, "title", json_string(dg_t(r, "cases.ratings.title")));
	json_object_set_new(d, "figures", s);
	return dg_page(r, 200, "cases/ratings.html", d);
}

static const struct dg_route routes[] = {
	{"GET", "/office", page_queue, DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"GET", "/office/cases/{ref}", page_office_case, DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"POST", "/office/cases/{ref}/action", post_office_action, DG_ROLE_STAFF, 0},
	{"POST", "/office/cases/{ref}/reveal", post_reveal, DG_ROLE_STAFF, 0},
	{"GET", "/office/rectifications", page_tasks, DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"GET", "/office/rectifications/{id}", page_task, DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"POST", "/office/rectifications/{id}", post_task, DG_ROLE_STAFF, 0},
	{"GET", "/ratings", page_ratings, DG_ROLE_ANY, 0},
};

const struct dg_route *dg_cases_office_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
