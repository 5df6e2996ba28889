/*
 * requests.c - what people ask of open data and what they build on it.
 *
 * Data requests (数据需求): a signed-in person asks a department for data
 * (title, description, department); that department's staff, or an
 * administrator, answer it (accepted, planned or rejected, with a reply),
 * and request and answer are public. The showcase: apps built on the data,
 * submitted by signed-in people and shown once staff or an administrator
 * approve them. The SQL of both tables is here, the only place it lives.
 */
#include "opendata/pages/pages_int.h"

#include <stdio.h>
#include <string.h>

#include "node/env.h"
#include "core/date.h"
#include "core/str.h"
#include "opendata/datastore/datastore.h"
#include "opendata/catalog/catalog.h"
#include "web/page.h"

#define TITLE_MAX 200
#define BODY_MAX  4000
#define URL_MAX   500
#define LIST_MAX  200 /* newest requests or apps on a page */

const struct dg_migration dg_od_pages_migrations[] = {
	{"odpages-001-requests",
	 "CREATE TABLE od_requests ("
	 " id {{pk}}, title TEXT NOT NULL, body TEXT NOT NULL, dept TEXT NOT NULL,"
	 " user_id BIGINT NOT NULL, created BIGINT NOT NULL,"
	 " status TEXT NOT NULL DEFAULT 'open'"
	 " CHECK (status IN ('open','accepted','planned','rejected')),"
	 " reply TEXT NOT NULL DEFAULT '', answered BIGINT);"
	 "CREATE INDEX od_requests_dept ON od_requests(dept);"
	 "CREATE TABLE od_showcase ("
	 " id {{pk}}, name TEXT NOT NULL, description TEXT NOT NULL, url TEXT NOT NULL,"
	 " datasets TEXT NOT NULL DEFAULT '', user_id BIGINT NOT NULL, created BIGINT NOT NULL,"
	 " approved INTEGER NOT NULL DEFAULT 0);"},
	{NULL, NULL},
};

static const char *const statuses[] = {"accepted", "planned", "rejected"};

static const char *status_label(struct dg_req *r, const char *s)
{
	return dg_t(r, dg_arena_printf(r->arena, "odp.req.status.%s", s));
}

static const char *field(struct dg_req *r, const char *name)
{
	const char *v = dg_kvs_get(&r->form, name);
	return v ? v : "";
}

/* Each department as {code, name, selected}, in the page's language. */
typedef dg_rc (*render_fn)(struct dg_req *r, struct dg_db *db, unsigned status, json_t *d);

/* A page as rendered after a redirect: ?done=values[i] shows the message keys[i]. */
static dg_rc page_after(struct dg_req *r, render_fn render, const char *const *values,
			const char *const *keys, size_t n)
{
	struct dg_db *db = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (rc)
		return rc;
	json_t *d = json_object();
	const char *done = dg_kvs_get(&r->query, "done");
	for (size_t i = 0; done && i < n; i++)
		if (strcmp(done, values[i]) == 0)
			json_object_set_new(d, "done", json_string(dg_t(r, keys[i])));
	return render(r, db, 200, d);
}

/* The end of a list page: its title and nav item, then the page unless reading rows failed. */
static dg_rc list_page(struct dg_req *r, dg_rc rows_rc, unsigned status, json_t *d,
		       const char *title_key, const char *nav, const char *tmpl)
{
	json_object_set_new(d, "title", json_string(dg_t(r, title_key)));
	json_object_set_new(d, "nav", json_string(nav));
	if (rows_rc != DG_ENOTFOUND) {
		json_decref(d);
		return rows_rc;
	}
	return dg_page(r, status, tmpl, d);
}

/* The id in the path: a positive number, or ENOTFOUND with the message of missing_key. */
static dg_rc path_id(struct dg_req *r, const char *missing_key, int64_t *id)
{
	const char *p = dg_kvs_get(&r->params, "id");
	if (!p || dg_str_to_i64(dg_str_of(p), id) || *id < 1)
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, missing_key));
	return DG_OK;
}

/* Run one write; then on to the page `to`. */
static dg_rc write_then_go(struct dg_req *r, struct dg_db *db, const char *sql,
			   const struct dg_val *args, size_t nargs, const char *to)
{
	dg_rc rc = dg_db_exec(db, sql, args, nargs, NULL);
	if (rc)
		return dg_err_set(&r->err, rc, "%s", dg_t(r, "error.store_busy"));
	dg_reply_redirect(r, to);
	return DG_OK;
}

static dg_rc dept_options(struct dg_req *r, struct dg_db *db, const char *selected, json_t **out)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, "SELECT code, name_zh, name_en FROM departments ORDER BY code",
			       DG_NOARGS, &rows);
	if (rc)
		return rc;
	json_t *list = json_array();
	bool en = strcmp(r->lang, "en") == 0;
	while ((rc = dg_rows_next(rows)) == DG_OK) {
		const char *code = dg_rows_text(rows, 0);
		json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "code", code, "name",
						      dg_rows_text(rows, en ? 2 : 1), "selected",
						      selected && strcmp(selected, code) == 0));
	}
	dg_rows_free(rows);
	if (rc != DG_ENOTFOUND) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return DG_OK;
}

static dg_rc render_requests(struct dg_req *r, struct dg_db *db, unsigned status, json_t *d)
{
	const char *sql =
		strcmp(r->lang, "en") == 0
			? "SELECT q.id, q.title, q.status, d.name_en, q.created FROM od_requests q"
			  " JOIN departments d ON d.code = q.dept ORDER BY q.id DESC LIMIT ?"
			: "SELECT q.id, q.title, q.status, d.name_zh, q.created FROM od_requests q"
			  " JOIN departments d ON d.code = q.dept ORDER BY q.id DESC LIMIT ?";
	struct dg_rows *rows = NULL;
	json_t *depts = NULL;
	json_t *values = json_object_get(d, "values");
	dg_rc rc = dept_options(r, db, json_string_value(json_object_get(values, "dept")), &depts);
	if (!rc)
		rc = dg_db_query(db, sql, DG_ARGS(DG_VI(LIST_MAX)), &rows);
	if (rc) {
		json_decref(depts);
		json_decref(d);
		return dg_err_set(&r->err, rc, "%s", dg_t(r, "error.store_busy"));
	}
	json_t *list = json_array();
	while ((rc = dg_rows_next(rows)) == DG_OK) {
		char day[64];
		dg_od_iso_time(dg_rows_int(rows, 4), day);
		day[10] = '\0';
		json_array_append_new(list,
				      json_pack("{s:I, s:s, s:s, s:s, s:s}", "id",
						(json_int_t)dg_rows_int(rows, 0), "title",
						dg_rows_text(rows, 1), "status",
						status_label(r, dg_rows_text(rows, 2)), "dept",
						dg_rows_text(rows, 3), "created", day));
	}
	dg_rows_free(rows);
	json_object_set_new(d, "requests", list);
	json_object_set_new(d, "depts", depts);
	return list_page(r, rc, status, d, "odp.req.title", "requests", "data/requests.html");
}

dg_rc dg_od_requests_list(struct dg_req *r)
{
	static const char *const values[] = {"1"}, *const keys[] = {"odp.req.done"};
	return page_after(r, render_requests, values, keys, 1);
}

/* A required text of at most max bytes; one error per problem. */
static bool check_text(struct dg_req *r, json_t *d, const char *name, size_t max)
{
	const char *v = field(r, name);
	struct dg_str s = dg_str_trim(dg_str_of(v));
	if (s.n == 0) {
		dg_form_error(d, name,
			      dg_t(r, dg_arena_printf(r->arena, "odp.err.%s_empty", name)));
		return false;
	}
	if (strlen(v) > max || !dg_utf8_valid(v, strlen(v))) {
		dg_form_error(d, name, dg_t(r, dg_arena_printf(r->arena, "odp.err.%s_long", name)));
		return false;
	}
	return true;
}

dg_rc dg_od_requests_new(struct dg_req *r)
{
	struct dg_db *db = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (rc)
		return rc;
	json_t *d = json_object();
	bool ok = check_text(r, d, "title", TITLE_MAX);
	ok &= check_text(r, d, "body", BODY_MAX);
	int64_t n = 0;
	rc = dg_db_query_int(db, "SELECT COUNT(*) FROM departments WHERE code = ?",
			     DG_ARGS(DG_VT(field(r, "dept"))), &n);
	if (rc) {
		json_decref(d);
		return rc;
	}
	if (n == 0) {
		dg_form_error(d, "dept", dg_t(r, "odp.err.dept"));
		ok = false;
	}
	if (!ok) {
		dg_form_keep_values(r, d);
		return render_requests(r, db, dg_rc_form_status(DG_EINVAL), d);
	}
	json_decref(d);
	return write_then_go(r, db,
			     "INSERT INTO od_requests (title, body, dept, user_id, created) VALUES "
			     "(?, ?, ?, ?, ?)",
			     DG_ARGS(DG_VT(field(r, "title")), DG_VT(field(r, "body")),
				     DG_VT(field(r, "dept")), DG_VI(r->user->id),
				     DG_VI(dg_now_ms())),
			     "/data/requests?done=1");
}

/* May the requester answer for dept? Staff of that department, or an administrator. */
static dg_rc may_answer(struct dg_req *r, struct dg_db *db, const char *dept, bool *out)
{
	*out = false;
	if (!r->user)
		return DG_OK;
	if (r->user->role == DG_ROLE_ADMIN) {
		*out = true;
		return DG_OK;
	}
	if (r->user->role != DG_ROLE_STAFF || !r->user->dept_id)
		return DG_OK;
	char *code = NULL;
	dg_rc rc = dg_od_dept_code(db, r->user->dept_id, r->arena, &code);
	if (rc == DG_ENOTFOUND)
		return DG_OK;
	if (!rc)
		*out = strcmp(code, dept) == 0;
	return rc;
}

/* The request named by the path, as JSON, and its department's code; ENOTFOUND with a message. */
static dg_rc load_request(struct dg_req *r, struct dg_db *db, json_t **out, const char **dept)
{
	int64_t id = 0;
	dg_rc rc = path_id(r, "odp.err.no_request", &id);
	if (rc)
		return rc;
	struct dg_rows *rows = NULL;
	rc = dg_db_query(
		db,
		"SELECT q.id, q.title, q.body, q.dept, d.name_zh, d.name_en, q.status, q.reply,"
		" q.created, q.answered FROM od_requests q JOIN departments d ON d.code = q.dept"
		" WHERE q.id = ?",
		DG_ARGS(DG_VI(id)), &rows);
	if (!rc)
		rc = dg_rows_next(rows);
	if (rc) {
		dg_rows_free(rows);
		if (rc == DG_ENOTFOUND)
			return dg_err_set(&r->err, rc, "%s", dg_t(r, "odp.err.no_request"));
		return rc;
	}
	char made[64], answered[64] = "";
	dg_od_iso_time(dg_rows_int(rows, 8), made);
	made[10] = '\0';
	if (!dg_rows_isnull(rows, 9)) {
		dg_od_iso_time(dg_rows_int(rows, 9), answered);
		answered[10] = '\0';
	}
	bool en = strcmp(r->lang, "en") == 0;
	*dept = dg_arena_strdup(r->arena, dg_rows_text(rows, 3));
	*out = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "id", (json_int_t)id,
			 "title", dg_rows_text(rows, 1), "body", dg_rows_text(rows, 2), "dept",
			 dg_rows_text(rows, en ? 5 : 4), "status", dg_rows_text(rows, 6),
			 "status_label", status_label(r, dg_rows_text(rows, 6)), "reply",
			 dg_rows_text(rows, 7), "created", made, "answered", answered,
			 "is_answered", strcmp(dg_rows_text(rows, 6), "open") != 0);
	dg_rows_free(rows);
	return DG_OK;
}

static dg_rc render_request(struct dg_req *r, struct dg_db *db, unsigned status, json_t *d)
{
	json_t *q = NULL;
	const char *dept = NULL;
	bool can = false;
	dg_rc rc = load_request(r, db, &q, &dept);
	if (!rc)
		rc = may_answer(r, db, dept, &can);
	if (rc) {
		json_decref(q);
		json_decref(d);
		return rc;
	}
	json_object_set_new(d, "title", json_incref(json_object_get(q, "title")));
	json_object_set_new(d, "rq", q);
	json_object_set_new(d, "can_answer", json_boolean(can));
	json_object_set_new(d, "nav", json_string("requests"));
	const char *chosen =
		json_string_value(json_object_get(json_object_get(d, "values"), "status"));
	json_t *opts = json_array();
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
		json_array_append_new(opts,
				      json_pack("{s:s, s:s, s:b}", "value", statuses[i], "label",
						status_label(r, statuses[i]), "checked",
						chosen && strcmp(chosen, statuses[i]) == 0));
	json_object_set_new(d, "statuses", opts);
	return dg_page(r, status, "data/request.html", d);
}

dg_rc dg_od_request_page(struct dg_req *r)
{
	static const char *const values[] = {"1"}, *const keys[] = {"odp.req.answered_done"};
	return page_after(r, render_request, values, keys, 1);
}

dg_rc dg_od_request_answer(struct dg_req *r)
{
	struct dg_db *db = NULL;
	json_t *q = NULL;
	const char *dept = NULL;
	bool can = false;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = load_request(r, db, &q, &dept);
	json_decref(q);
	if (!rc)
		rc = may_answer(r, db, dept, &can);
	if (rc)
		return rc;
	if (!can)
		return dg_err_set(&r->err, DG_EDENIED, "%s", dg_t(r, "odp.err.not_your_dept"));
	json_t *d = json_object();
	const char *st = field(r, "status");
	bool ok = false;
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
		ok |= strcmp(st, statuses[i]) == 0;
	if (!ok)
		dg_form_error(d, "status", dg_t(r, "odp.err.status"));
	ok &= check_text(r, d, "reply", BODY_MAX);
	if (!ok) {
		dg_form_keep_values(r, d);
		return render_request(r, db, dg_rc_form_status(DG_EINVAL), d);
	}
	json_decref(d);
	int64_t id = 0;
	if ((rc = path_id(r, "odp.err.no_request", &id)) != DG_OK)
		return rc; /* load_request has read it already */
	return write_then_go(
		r, db, "UPDATE od_requests SET status = ?, reply = ?, answered = ? WHERE id = ?",
		DG_ARGS(DG_VT(st), DG_VT(field(r, "reply")), DG_VI(dg_now_ms()), DG_VI(id)),
		dg_arena_printf(r->arena, "/data/requests/%lld?done=1", (long long)id));
}

/* ---- the showcase ---- */

static bool can_approve(const struct dg_req *r)
{
	return r->user && (r->user->role == DG_ROLE_ADMIN || r->user->role == DG_ROLE_STAFF);
}

static dg_rc render_showcase(struct dg_req *r, struct dg_db *db, unsigned status, json_t *d)
{
	bool staff = can_approve(r);
	struct dg_rows *rows = NULL;
	dg_rc rc =
		dg_db_query(db,
			    "SELECT id, name, description, url, datasets, approved FROM od_showcase"
			    " WHERE approved = 1 OR ? = 1 ORDER BY approved, id DESC LIMIT ?",
			    DG_ARGS(DG_VI(staff), DG_VI(LIST_MAX)), &rows);
	if (rc) {
		json_decref(d);
		return dg_err_set(&r->err, rc, "%s", dg_t(r, "error.store_busy"));
	}
	json_t *apps = json_array(), *pending = json_array();
	while ((rc = dg_rows_next(rows)) == DG_OK) {
		json_t *a = json_pack(
			"{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)dg_rows_int(rows, 0), "name",
			dg_rows_text(rows, 1), "description", dg_rows_text(rows, 2), "url",
			dg_rows_text(rows, 3), "datasets", dg_rows_text(rows, 4));
		json_array_append_new(dg_rows_int(rows, 5) ? apps : pending, a);
	}
	dg_rows_free(rows);
	json_object_set_new(d, "apps", apps);
	json_object_set_new(d, "pending", pending);
	json_object_set_new(d, "can_approve", json_boolean(staff));
	return list_page(r, rc, status, d, "odp.app.title", "showcase", "data/showcase.html");
}

dg_rc dg_od_showcase_list(struct dg_req *r)
{
	static const char *const values[] = {"sent", "approved"}, *const keys[] = {
									  "odp.app.sent",
									  "odp.app.approved"};
	return page_after(r, render_showcase, values, keys, 2);
}

dg_rc dg_od_showcase_new(struct dg_req *r)
{
	struct dg_db *db = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (rc)
		return rc;
	json_t *d = json_object();
	bool ok = check_text(r, d, "name", TITLE_MAX);
	ok &= check_text(r, d, "description", BODY_MAX);
	const char *url = field(r, "url");
	if (strlen(url) > URL_MAX ||
	    (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) ||
	    strchr(url, ' ')) {
		dg_form_error(d, "url", dg_t(r, "odp.err.url"));
		ok = false;
	}
	const char *sets = field(r, "datasets");
	if (strlen(sets) > TITLE_MAX) {
		dg_form_error(d, "datasets", dg_t(r, "odp.err.datasets_long"));
		ok = false;
	}
	if (!ok) {
		dg_form_keep_values(r, d);
		return render_showcase(r, db, dg_rc_form_status(DG_EINVAL), d);
	}
	json_decref(d);
	return write_then_go(
		r, db,
		"INSERT INTO od_showcase (name, description, url, datasets, user_id, created)"
		" VALUES (?, ?, ?, ?, ?, ?)",
		DG_ARGS(DG_VT(field(r, "name")), DG_VT(field(r, "description")), DG_VT(url),
			DG_VT(sets), DG_VI(r->user->id), DG_VI(dg_now_ms())),
		"/data/showcase?done=sent");
}

dg_rc dg_od_showcase_approve(struct dg_req *r)
{
	struct dg_db *db = NULL;
	int64_t id = 0, changed = 0;
	dg_rc rc = path_id(r, "odp.err.no_app", &id);
	if (rc)
		return rc;
	if (!(rc = dg_req_db(r, &db)))
		rc = dg_db_exec(db, "UPDATE od_showcase SET approved = 1 WHERE id = ?",
				DG_ARGS(DG_VI(id)), &changed);
	if (rc)
		return dg_err_set(&r->err, rc, "%s", dg_t(r, "error.store_busy"));
	if (changed == 0)
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "odp.err.no_app"));
	dg_reply_redirect(r, "/data/showcase?done=approved");
	return DG_OK;
}

/* ---- the demo's table ---- */

/* The rows of the demo table behind 城镇新增就业人数 (employment-statistics). */
static const char *const demo_rows[] = {
	"2025-01", "东城区", "1320", "5.1", "2025-02", "东城区", "980",  "5.3",
	"2025-03", "东城区", "1510", "5.0", "2025-04", "东城区", "1640", "4.9",
	"2025-05", "东城区", "1720", "4.8", "2025-06", "东城区", "1805", "4.8",
	"2025-01", "西城区", "1105", "5.4", "2025-02", "西城区", "870",  "5.6",
	"2025-03", "西城区", "1290", "5.3", "2025-04", "西城区", "1380", "5.2",
	"2025-05", "西城区", "1455", "5.1", "2025-06", "西城区", "1530", "5.0",
	"2025-01", "新区",   "2210", "4.6", "2025-02", "新区",   "1760", "4.7",
	"2025-03", "新区",   "2480", "4.5", "2025-04", "新区",   "2630", "4.4",
	"2025-05", "新区",   "2790", "4.3", "2025-06", "新区",   "2905", "4.2",
	"2025-07", "新区",   "3010", "4.2", "2025-08", "新区",   "3120", "4.1",
	"2025-09", "新区",   "3075", "4.1", "2025-10", "新区",   "3200", "4.0",
};

dg_rc dg_od_pages_demo_seed(struct dg_db *db, struct dg_err *err)
{
	static const char rid[] = DG_OD_DEMO_TABLE;
	char names[4][DG_DS_NAME_MAX] = {"month", "district", "new_jobs", "unemployment_rate"};
	const enum dg_ds_type types[4] = {DG_DS_TEXT, DG_DS_TEXT, DG_DS_INT, DG_DS_NUMERIC};
	size_t nrows = sizeof demo_rows / sizeof demo_rows[0] / 4;
	dg_rc rc = dg_datastore_demo_table(db, rid, 4, names, types, demo_rows, nrows);
	if (rc)
		return dg_err_set(err, rc, "the open-data demo table");
	/* its columns' labels, as staff give them on the columns page */
	json_t *labels = json_pack("{s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s, s:s}}",
				   "month", "label", "月份", "label_en", "Month", "district",
				   "label", "区县", "label_en", "District", "new_jobs", "label",
				   "城镇新增就业人数", "label_en", "New jobs", "unemployment_rate",
				   "label", "失业率（%）", "label_en", "Unemployment rate (%)");
	rc = dg_datastore_set_labels(db, rid, labels, err);
	json_decref(labels);
	if (rc)
		return rc;
	/* one answered request and one approved app, by the demo's first resident */
	int64_t uid = 0, now = dg_now_ms();
	rc = dg_db_query_int(db, "SELECT id FROM users WHERE role = 'citizen' ORDER BY id LIMIT 1",
			     DG_NOARGS, &uid);
	if (rc == DG_ENOTFOUND)
		return DG_OK;
	if (!rc)
		rc = dg_db_exec(db,
				"INSERT INTO od_requests (title, body, dept, user_id, created, "
				"status, reply,"
				" answered) VALUES (?, ?, 'mz', ?, ?, 'planned', ?, ?)",
				DG_ARGS(DG_VT("养老机构床位实时空余数"),
					DG_VT("希望按月公开各养老机构的床位总数和空余床位数，方便老"
					      "人和家属选择。"),
					DG_VI(uid), DG_VI(now),
					DG_VT("已列入今年第三季度开放计划，届时将在“养老机构名录”数"
					      "据集中增加床位字段。"),
					DG_VI(now)),
				NULL);
	if (!rc)
		rc = dg_db_exec(db,
				"INSERT INTO od_showcase (name, description, url, datasets, "
				"user_id, created,"
				" approved) VALUES (?, ?, ?, ?, ?, ?, 1)",
				DG_ARGS(DG_VT("就近养老"),
					DG_VT("按位置查找附近的养老机构和医保定点药店。"),
					DG_VT("https://example.org/care"),
					DG_VT("elderly-care-institutions, designated-pharmacies"),
					DG_VI(uid), DG_VI(now)),
				NULL);
	if (rc)
		return dg_err_set(err, rc, "the open-data demo request and app");
	return DG_OK;
}
