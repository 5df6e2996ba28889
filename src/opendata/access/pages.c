/*
 * pages.c - the pages of open-data access (access.h): a user's apps
 * and their keys (/data/apps), applications for conditional data
 * (/data/datasets/{id}/apply, /data/applications), and the publishing
 * department's review of them (/office/data-applications). Forms that fail
 * come back with the error summary and the answers kept; messages come from
 * templates/i18n/opendata_access.*.json. The route table at the end is the
 * access policy of these pages.
 */
#include "opendata/access/access_int.h"

#include <string.h>

#include "node/env.h"
#include "core/date.h"
#include "core/rand.h"
#include "core/str.h"
#include "opendata/base/base.h"
#include "web/page.h"

#define FIELD_MAX  1000 /* bytes in any one field of these forms */
#define NAME_MAX_B 200  /* bytes in an app's name */
#define DAYS_MAX   366  /* the longest period of use an application may ask */
#define KEY_HEX    24   /* random bytes of an app key, as hex */

static const char sql_app_insert[] =
	"INSERT INTO od_apps (user_id, name, purpose, key_hash, created) VALUES (?, ?, ?, ?, ?)";
static const char sql_app_list[] =
	"SELECT a.id, a.name, a.purpose, a.created, a.revoked,"
	" COALESCE(a.daily_quota, (SELECT value FROM od_access_settings WHERE key = 'app_daily'))"
	" FROM od_apps a WHERE a.user_id = ? ORDER BY a.id";
static const char sql_app_revoke[] =
	"UPDATE od_apps SET revoked = ? WHERE id = ? AND user_id = ? AND revoked IS NULL";
static const char sql_app_mine[] =
	"SELECT COUNT(*) FROM od_apps WHERE id = ? AND user_id = ? AND revoked IS NULL";
static const char sql_pkg_conditional[] =
	"SELECT id, name, title FROM od_packages WHERE (id = ? OR name = ?) AND state = 'active'"
	" AND private = 0 AND tier = 'conditional'";
static const char sql_apply[] =
	"INSERT INTO od_applications (user_id, app_id, package_id, applicant, purpose,"
	" intended_use, days, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_my_applications[] =
	"SELECT a.id, p.name, p.title, k.name, a.state, a.reason, a.days, a.created,"
	" a.grant_until FROM od_applications a JOIN od_packages p ON p.id = a.package_id"
	" JOIN od_apps k ON k.id = a.app_id WHERE a.user_id = ? ORDER BY a.id DESC";
/* the department's applications (admin: ''), pending first */
static const char sql_dept_applications[] =
	"SELECT a.id, p.name, p.title, k.name, a.state, a.reason, a.days, a.created,"
	" a.grant_until, a.applicant, a.purpose, a.intended_use"
	" FROM od_applications a JOIN od_packages p ON p.id = a.package_id"
	" JOIN od_apps k ON k.id = a.app_id WHERE (? = '' OR p.owner_dept = ?)"
	" AND a.state IN ('pending', 'approved') ORDER BY a.state DESC, a.id";
static const char sql_decide[] =
	"UPDATE od_applications SET state = ?, reason = ?, decided_by = ?, decided = ?,"
	" grant_until = CASE WHEN ? = 'approved' THEN ? + CAST(days AS BIGINT) * 86400000 ELSE "
	"grant_until END"
	" WHERE id = ? AND state = ? AND package_id IN"
	" (SELECT id FROM od_packages WHERE ? = '' OR owner_dept = ?)";

static const char *field(struct dg_req *r, const char *name)
{
	const char *v = dg_kvs_get(&r->form, name);
	return v ? v : "";
}

static bool text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max || !dg_utf8_valid(s, n))
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\r' && *s != '\t')
			return false;
	return true;
}

static void err_key(struct dg_req *r, json_t *data, const char *f, const char *key)
{
	dg_form_error(data, f, dg_t(r, key));
}

static dg_rc page(struct dg_req *r, unsigned status, const char *tmpl, json_t *data,
		  const char *title_key)
{
	const char *title = dg_t(r, title_key);
	if (json_object_get(data, "errors"))
		title = dg_arena_printf(r->arena, "%s %s", dg_t(r, "od_access.error_prefix"),
					title);
	json_object_set_new(data, "title", json_string(title));
	return dg_page(r, status, tmpl, data);
}

static dg_rc param_id(struct dg_req *r, int64_t *id)
{
	if (dg_str_to_i64(dg_str_of(dg_kvs_get(&r->params, "id")), id) || *id <= 0)
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "od_access.not_found"));
	return DG_OK;
}

static const char *day_of(struct dg_req *r, int64_t ms)
{
	char *d = dg_arena_alloc(r->arena, 11);
	dg_day_format((dg_day)(ms / 86400000), d);
	return d;
}

/* ---- apps ---- */

static json_t *app_list(struct dg_req *r, struct dg_db *db, bool active_only)
{
	struct dg_rows *rows = NULL;
	json_t *list = json_array();
	if (dg_db_query(db, sql_app_list, DG_ARGS(DG_VI(r->user->id)), &rows))
		return list;
	dg_rows_defer(rows, r->arena);
	while (dg_rows_next(rows) == DG_OK) {
		bool revoked = !dg_rows_isnull(rows, 4);
		if (active_only && revoked)
			continue;
		json_array_append_new(
			list, json_pack("{s:I, s:s, s:s, s:s, s:b, s:I}", "id",
					(json_int_t)dg_rows_int(rows, 0), "name",
					dg_rows_text(rows, 1), "purpose", dg_rows_text(rows, 2),
					"created", day_of(r, dg_rows_int(rows, 3)), "revoked",
					revoked, "quota", (json_int_t)dg_rows_int(rows, 5)));
	}
	return list;
}

static dg_rc apps_page(struct dg_req *r, unsigned status, json_t *data)
{
	struct dg_db *db = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (rc) {
		json_decref(data);
		return rc;
	}
	json_object_set_new(data, "apps", app_list(r, db, false));
	return page(r, status, "opendata-access/apps.html", data, "od_access.apps.heading");
}

static dg_rc apps_get(struct dg_req *r)
{
	return apps_page(r, 200, json_object());
}

static dg_rc apps_post(struct dg_req *r)
{
	json_t *data = json_object();
	struct dg_db *db = NULL;
	const char *name = field(r, "name"), *purpose = field(r, "purpose");
	dg_form_keep_values(r, data);
	if (!text_ok(name, NAME_MAX_B))
		err_key(r, data, "name", "od_access.err.app_name");
	if (!text_ok(purpose, FIELD_MAX))
		err_key(r, data, "purpose", "od_access.err.purpose");
	if (json_object_get(data, "errors"))
		return apps_page(r, dg_rc_form_status(DG_EINVAL), data);
	char key[4 + 2 * KEY_HEX + 1];
	memcpy(key, "dgk_", 4);
	dg_rand_hex(key + 4, KEY_HEX);
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_db_exec(db, sql_app_insert,
				DG_ARGS(DG_VI(r->user->id), DG_VT(name), DG_VT(purpose),
					DG_VT(dg_od_key_hash(r->arena, key)), DG_VI(dg_now_ms())),
				NULL);
	if (rc) {
		json_decref(data);
		return rc;
	}
	json_object_del(data, "values");
	json_object_set_new(data, "new_key", json_string(key));
	return apps_page(r, 201, data);
}

static dg_rc app_revoke(struct dg_req *r)
{
	struct dg_db *db = NULL;
	int64_t id = 0, changes = 0;
	dg_rc rc = param_id(r, &id);
	if (!rc)
		rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_db_exec(db, sql_app_revoke,
				DG_ARGS(DG_VI(dg_now_ms()), DG_VI(id), DG_VI(r->user->id)),
				&changes);
	if (!rc && changes == 0)
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "od_access.not_found"));
	if (rc)
		return rc;
	dg_reply_redirect(r, "/data/apps");
	return DG_OK;
}

/* ---- applications ---- */

static json_t *application_row(struct dg_req *r, struct dg_rows *rows, bool detail)
{
	json_t *a = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "id",
			      (json_int_t)dg_rows_int(rows, 0), "dataset", dg_rows_text(rows, 1),
			      "title", dg_rows_text(rows, 2), "app", dg_rows_text(rows, 3), "state",
			      dg_rows_text(rows, 4), "reason", dg_rows_text(rows, 5), "days",
			      (json_int_t)dg_rows_int(rows, 6), "created",
			      day_of(r, dg_rows_int(rows, 7)));
	const char *st = dg_rows_text(rows, 4);
	json_object_set_new(
		a, "state_label",
		json_string(dg_t(r, dg_arena_printf(r->arena, "od_access.state.%s", st))));
	json_object_set_new(a, "pending", json_boolean(strcmp(st, "pending") == 0));
	json_object_set_new(a, "approved", json_boolean(strcmp(st, "approved") == 0));
	if (!dg_rows_isnull(rows, 8)) {
		int64_t until = dg_rows_int(rows, 8);
		json_object_set_new(a, "until", json_string(day_of(r, until)));
		json_object_set_new(a, "expired", json_boolean(until <= dg_now_ms()));
	}
	if (detail) {
		json_object_set_new(a, "applicant", json_string(dg_rows_text(rows, 9)));
		json_object_set_new(a, "purpose", json_string(dg_rows_text(rows, 10)));
		json_object_set_new(a, "use", json_string(dg_rows_text(rows, 11)));
	}
	return a;
}

static dg_rc applications_get(struct dg_req *r)
{
	struct dg_db *db = NULL;
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_db_query(db, sql_my_applications, DG_ARGS(DG_VI(r->user->id)), &rows);
	if (rc)
		return rc;
	dg_rows_defer(rows, r->arena);
	json_t *list = json_array();
	while (dg_rows_next(rows) == DG_OK)
		json_array_append_new(list, application_row(r, rows, false));
	json_t *data = json_pack("{s:o, s:b}", "applications", list, "sent",
				 dg_kvs_get(&r->query, "sent") != NULL);
	return page(r, 200, "opendata-access/applications.html", data,
		    "od_access.applications.heading");
}

/* The conditional dataset named by the path: id, name, title into data. */
static dg_rc dataset_of(struct dg_req *r, struct dg_db *db, json_t *data, char **pkg)
{
	struct dg_rows *rows = NULL;
	const char *id = dg_kvs_get(&r->params, "id");
	dg_rc rc = dg_db_query(db, sql_pkg_conditional, DG_ARGS(DG_VT(id), DG_VT(id)), &rows);
	if (rc)
		return rc;
	dg_rows_defer(rows, r->arena);
	rc = dg_rows_next(rows);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(&r->err, rc, "%s", dg_t(r, "od_access.apply.not_conditional"));
	if (rc)
		return rc;
	*pkg = dg_arena_strdup(r->arena, dg_rows_text(rows, 0));
	json_object_set_new(data, "dataset",
			    json_pack("{s:s, s:s}", "name", dg_rows_text(rows, 1), "title",
				      dg_rows_text(rows, 2)));
	return DG_OK;
}

static dg_rc apply_page(struct dg_req *r, unsigned status, json_t *data)
{
	struct dg_db *db = NULL;
	char *pkg = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dataset_of(r, db, data, &pkg);
	if (rc) {
		json_decref(data);
		return rc;
	}
	/* after an error the app chosen stays chosen, not the list's first */
	json_t *apps = app_list(r, db, true), *a;
	size_t i;
	json_array_foreach (apps, i, a) {
		const char *id = dg_arena_printf(
			r->arena, "%lld", (long long)json_integer_value(json_object_get(a, "id")));
		json_object_set_new(a, "selected", json_boolean(strcmp(id, field(r, "app")) == 0));
	}
	json_object_set_new(data, "apps", apps);
	return page(r, status, "opendata-access/apply.html", data, "od_access.apply.heading");
}

static dg_rc apply_get(struct dg_req *r)
{
	return apply_page(r, 200, json_object());
}

static dg_rc apply_post(struct dg_req *r)
{
	json_t *data = json_object();
	struct dg_db *db = NULL;
	char *pkg = NULL;
	int64_t days = 0, app = 0, mine = 0;
	dg_form_keep_values(r, data);
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dataset_of(r, db, data, &pkg);
	if (rc) {
		json_decref(data);
		return rc;
	}
	if (!text_ok(field(r, "applicant"), FIELD_MAX))
		err_key(r, data, "applicant", "od_access.err.applicant");
	if (!text_ok(field(r, "purpose"), FIELD_MAX))
		err_key(r, data, "purpose", "od_access.err.purpose");
	if (!text_ok(field(r, "use"), FIELD_MAX))
		err_key(r, data, "use", "od_access.err.use");
	if (dg_str_to_i64(dg_str_of(field(r, "days")), &days) || days < 1 || days > DAYS_MAX)
		err_key(r, data, "days", "od_access.err.days");
	if (dg_str_to_i64(dg_str_of(field(r, "app")), &app) ||
	    dg_db_query_int(db, sql_app_mine, DG_ARGS(DG_VI(app), DG_VI(r->user->id)), &mine) ||
	    mine == 0)
		err_key(r, data, "app", "od_access.err.app");
	if (json_object_get(data, "errors")) {
		json_object_del(data, "dataset");
		return apply_page(r, dg_rc_form_status(DG_EINVAL), data);
	}
	json_decref(data);
	rc = dg_db_exec(db, sql_apply,
			DG_ARGS(DG_VI(r->user->id), DG_VI(app), DG_VT(pkg),
				DG_VT(field(r, "applicant")), DG_VT(field(r, "purpose")),
				DG_VT(field(r, "use")), DG_VI(days), DG_VI(dg_now_ms())),
			NULL);
	if (rc)
		return rc;
	dg_reply_redirect(r, "/data/applications?sent=1");
	return DG_OK;
}

/* ---- the department's review ---- */

/* The reviewer's department code ("" for an administrator: every department). */
static dg_rc reviewer_dept(struct dg_req *r, struct dg_db *db, char **dept)
{
	*dept = dg_arena_strdup(r->arena, "");
	if (r->user->role == DG_ROLE_ADMIN)
		return DG_OK;
	dg_rc rc = dg_od_dept_code(db, r->user->dept_id, r->arena, dept);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(&r->err, DG_EDENIED, "%s", dg_t(r, "error.not_allowed"));
	return rc;
}

static dg_rc office_page(struct dg_req *r, unsigned status, json_t *data)
{
	struct dg_db *db = NULL;
	struct dg_rows *rows = NULL;
	char *dept = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = reviewer_dept(r, db, &dept);
	if (!rc)
		rc = dg_db_query(db, sql_dept_applications, DG_ARGS(DG_VT(dept), DG_VT(dept)),
				 &rows);
	if (rc) {
		json_decref(data);
		return rc;
	}
	dg_rows_defer(rows, r->arena);
	json_t *list = json_array();
	while (dg_rows_next(rows) == DG_OK)
		json_array_append_new(list, application_row(r, rows, true));
	json_object_set_new(data, "applications", list);
	return page(r, status, "opendata-access/office.html", data, "od_access.office.heading");
}

static dg_rc office_get(struct dg_req *r)
{
	return office_page(r, 200, json_object());
}

static dg_rc office_decide(struct dg_req *r)
{
	struct dg_db *db = NULL;
	char *dept = NULL;
	int64_t id = 0, changes = 0;
	const char *decision = field(r, "decision"), *reason = field(r, "reason");
	const char *state = NULL, *from = "pending";
	dg_rc rc = param_id(r, &id);
	if (rc)
		return rc;
	if (strcmp(decision, "approve") == 0)
		state = "approved";
	else if (strcmp(decision, "refuse") == 0)
		state = "refused";
	else if (strcmp(decision, "revoke") == 0)
		state = "revoked", from = "approved";
	json_t *data = json_object();
	if (!state)
		err_key(r, data, dg_arena_printf(r->arena, "decision-%lld", (long long)id),
			"od_access.err.decision");
	else if (strcmp(state, "approved") != 0 && !text_ok(reason, FIELD_MAX))
		err_key(r, data, dg_arena_printf(r->arena, "reason-%lld", (long long)id),
			"od_access.err.reason");
	else if (strlen(reason) > FIELD_MAX)
		err_key(r, data, dg_arena_printf(r->arena, "reason-%lld", (long long)id),
			"od_access.err.reason");
	if (json_object_get(data, "errors"))
		return office_page(r, dg_rc_form_status(DG_EINVAL), data);
	json_decref(data);
	int64_t now = dg_now_ms();
	rc = dg_req_db(r, &db);
	if (!rc)
		rc = reviewer_dept(r, db, &dept);
	if (!rc)
		rc = dg_db_exec(db, sql_decide,
				DG_ARGS(DG_VT(state), DG_VT(reason), DG_VI(r->user->id), DG_VI(now),
					DG_VT(state), DG_VI(now), DG_VI(id), DG_VT(from),
					DG_VT(dept), DG_VT(dept)),
				&changes);
	if (!rc && changes == 0)
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "od_access.not_found"));
	if (rc)
		return rc;
	dg_reply_redirect(r, "/office/data-applications");
	return DG_OK;
}

static const struct dg_route routes[] = {
	{"GET", "/data/apps", apps_get, DG_ROLE_USER, 0},
	{"POST", "/data/apps", apps_post, DG_ROLE_USER, 0},
	{"POST", "/data/apps/{id}/revoke", app_revoke, DG_ROLE_USER, 0},
	{"GET", "/data/applications", applications_get, DG_ROLE_USER, 0},
	{"GET", "/data/datasets/{id}/apply", apply_get, DG_ROLE_USER, 0},
	{"POST", "/data/datasets/{id}/apply", apply_post, DG_ROLE_USER, 0},
	{"GET", "/office/data-applications", office_get, DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"POST", "/office/data-applications/{id}/decide", office_decide,
	 DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
};

const struct dg_route *dg_od_access_routes(size_t *n)
{
	*n = sizeof routes / sizeof routes[0];
	return routes;
}
