/*
 * admin.c - the administrator's page of open-data access
 * (/admin/data-access): the default daily quotas (anonymous callers, and
 * apps and signed-in users), the staff's daily write budget through the
 * API, every app with its owner and its use today
 * and in the last 30 days, and per app a quota of its own, or its key
 * revoked and restored. A quota is a whole number of calls a UTC day, 0
 * for no limit; anything else is a 422 with the page and the answers kept,
 * and changes nothing. The same form turns datastore_search_sql on or off
 * (the setting search_sql; off until set). Each write is one transaction; forms carry the CSRF
 * token like every other. The gate that enforces all this is access.c.
 */
#include "opendata/access/access.h"

#include <string.h>

#include "node/env.h"
#include "core/date.h"
#include "core/log.h"
#include "core/str.h"
#include "web/page.h"

#define QUOTA_MAX   1000000000 /* calls a day: beyond this, say "no limit" (0) */
#define RECENT_DAYS 30

static const char sql_settings[] = "SELECT key, value FROM od_access_settings"
				   " WHERE key IN ('anon_daily', 'app_daily', 'staff_write_daily',"
				   " 'search_sql')";
/* search_sql is absent until first set */
static const char sql_setting_set[] = "INSERT INTO od_access_settings (key, value) VALUES (?, ?)"
				      " ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/* ?: today, then the first day of the recent period; use is what the quota counts */
static const char sql_apps[] =
	"SELECT a.id, a.name, u.username, a.created, a.daily_quota, a.revoked,"
	" COALESCE(SUM(CASE WHEN q.day = ? THEN q.n ELSE 0 END), 0), COALESCE(SUM(q.n), 0)"
	" FROM od_apps a JOIN users u ON u.id = a.user_id"
	" LEFT JOIN od_quota q ON q.subject = 'app:' || CAST(a.id AS TEXT) AND q.day >= ?"
	" GROUP BY a.id, a.name, u.username, a.created, a.daily_quota, a.revoked ORDER BY a.id";

static const char sql_quota_set[] = "UPDATE od_apps SET daily_quota = ? WHERE id = ?";
/* revoked (when), or NULL to restore; ?: the id, then 1 to revoke (a key is revoked once) */
static const char sql_key_set[] =
	"UPDATE od_apps SET revoked = ? WHERE id = ? AND (? = 0 OR revoked IS NULL)";

static const char *field(struct dg_req *r, const char *name)
{
	const char *v = dg_kvs_get(&r->form, name);
	return v ? v : "";
}

/* A quota as typed: digits only, 0 (no limit) to QUOTA_MAX. */
static bool quota_of(const char *v, int64_t *q)
{
	return v[0] != '-' && dg_str_to_i64(dg_str_of(v), q) == DG_OK && *q >= 0 && *q <= QUOTA_MAX;
}

static void day_text(int64_t day, char out[11])
{
	dg_day_format((dg_day)day, out);
}

static dg_rc load_settings(struct dg_req *r, struct dg_db *db, json_t *data)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, sql_settings, DG_NOARGS, &rows);
	if (rc)
		return rc;
	dg_rows_defer(rows, r->arena);
	json_t *s = json_object();
	while ((rc = dg_rows_next(rows)) == DG_OK)
		json_object_set_new(s, dg_rows_text(rows, 0), json_integer(dg_rows_int(rows, 1)));
	json_object_set_new(data, "settings", s);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

/* Every app; bad_id's row keeps the value typed and the error, when there is one. */
static dg_rc load_apps(struct dg_req *r, struct dg_db *db, json_t *data, int64_t bad_id,
		       const char *error)
{
	struct dg_rows *rows = NULL;
	int64_t now_day = dg_now_ms() / 86400000;
	char today[11], since[11];
	day_text(now_day, today);
	day_text(now_day - (RECENT_DAYS - 1), since);
	dg_rc rc = dg_db_query(db, sql_apps, DG_ARGS(DG_VT(today), DG_VT(since)), &rows);
	if (rc)
		return rc;
	dg_rows_defer(rows, r->arena);
	json_t *list = json_array();
	while ((rc = dg_rows_next(rows)) == DG_OK) {
		int64_t id = dg_rows_int(rows, 0);
		char created[11];
		day_text(dg_rows_int(rows, 3) / 86400000, created);
		json_t *a = json_pack("{s:I, s:s, s:s, s:s, s:b, s:I, s:I}", "id", (json_int_t)id,
				      "name", dg_rows_text(rows, 1), "owner", dg_rows_text(rows, 2),
				      "created", created, "revoked", !dg_rows_isnull(rows, 5),
				      "today", (json_int_t)dg_rows_int(rows, 6), "recent",
				      (json_int_t)dg_rows_int(rows, 7));
		if (!dg_rows_isnull(rows, 4))
			json_object_set_new(a, "quota",
					    json_sprintf("%lld", (long long)dg_rows_int(rows, 4)));
		if (id == bad_id) {
			json_object_set_new(a, "quota", json_string(field(r, "daily_quota")));
			json_object_set_new(a, "error", json_string(error));
		}
		json_array_append_new(list, a);
	}
	json_object_set_new(data, "apps", list);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

/* The page; data (taken) may already hold errors and kept values. */
static dg_rc admin_page(struct dg_req *r, unsigned status, json_t *data, int64_t bad_id,
			const char *error)
{
	struct dg_db *db = NULL;
	dg_rc rc = dg_req_db(r, &db);
	/* the calls this node holds for up to a second, so "today" counts them */
	if (!rc && dg_od_usage_flush(r, db) != DG_OK)
		dg_warn("req=%s the calls held in memory could not be written", r->id);
	if (!rc)
		rc = load_settings(r, db, data);
	if (!rc)
		rc = load_apps(r, db, data, bad_id, error);
	if (rc) {
		json_decref(data);
		return dg_err_set(&r->err, rc, "%s", dg_t(r, "error.store_busy"));
	}
	const char *title = dg_t(r, "od_access.admin.heading");
	if (json_object_get(data, "errors"))
		title = dg_arena_printf(r->arena, "%s %s", dg_t(r, "od_access.error_prefix"),
					title);
	json_object_set_new(data, "title", json_string(title));
	json_object_set_new(data, "saved", json_boolean(dg_kvs_get(&r->query, "saved") != NULL));
	return dg_page(r, status, "opendata-access/admin.html", data);
}

static dg_rc admin_get(struct dg_req *r)
{
	return admin_page(r, 200, json_object(), 0, NULL);
}

/*
 * Run n statements as one transaction. When must_change, a statement that
 * changes no row undoes them all: ENOTFOUND.
 */
struct stmt {
	const char *sql;
	const struct dg_val *args;
	size_t nargs;
};

static dg_rc write_all(struct dg_req *r, const struct stmt *s, size_t n, bool must_change)
{
	struct dg_db *db = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (rc || (rc = dg_db_begin(db)) != DG_OK)
		return dg_err_set(&r->err, rc, "%s", dg_t(r, "error.store_busy"));
	for (size_t i = 0; i < n && !rc; i++) {
		int64_t changes = 0;
		rc = dg_db_exec(db, s[i].sql, s[i].args, s[i].nargs, &changes);
		if (!rc && must_change && changes == 0)
			rc = DG_ENOTFOUND;
	}
	if (!rc)
		rc = dg_db_commit(db);
	if (rc) {
		dg_db_rollback(db);
		return dg_err_set(
			&r->err, rc, "%s",
			dg_t(r, rc == DG_ENOTFOUND ? "od_access.not_found" : "error.store_busy"));
	}
	dg_reply_redirect(r, "/admin/data-access?saved=1");
	return DG_OK;
}

/*
 * The default quotas and the search_sql switch. staff_write_daily left out
 * of the form (a client that does not know it) keeps its value; sent, it is
 * checked as the others are.
 */
static dg_rc settings_post(struct dg_req *r)
{
	static const char *const keys[] = {"anon_daily", "app_daily", "staff_write_daily"};
	int64_t q[3] = {0, 0, 0};
	bool has_write = dg_kvs_get(&r->form, keys[2]) != NULL;
	json_t *data = json_object();
	dg_form_keep_values(r, data);
	for (size_t i = 0; i < (has_write ? 3 : 2); i++)
		if (!quota_of(field(r, keys[i]), &q[i]))
			dg_form_error(data, keys[i],
				      dg_t(r, dg_arena_printf(r->arena, "od_access.admin.err.%s",
							      keys[i])));
	if (json_object_get(data, "errors"))
		return admin_page(r, dg_rc_form_status(DG_EINVAL), data, 0, NULL);
	json_decref(data);
	bool sql_on = strcmp(field(r, "search_sql"), "1") == 0;
	struct stmt s[4] = {
		{sql_setting_set, DG_ARGS(DG_VT(keys[0]), DG_VI(q[0]))},
		{sql_setting_set, DG_ARGS(DG_VT(keys[1]), DG_VI(q[1]))},
		{sql_setting_set, DG_ARGS(DG_VT("search_sql"), DG_VI(sql_on))},
		{sql_setting_set, DG_ARGS(DG_VT(keys[2]), DG_VI(q[2]))},
	};
	return write_all(r, s, has_write ? 4 : 3, true);
}

static dg_rc app_id(struct dg_req *r, int64_t *id)
{
	if (dg_str_to_i64(dg_str_of(dg_kvs_get(&r->params, "id")), id) || *id <= 0)
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "od_access.not_found"));
	return DG_OK;
}

/* An app's own quota: a number (0: no limit), or empty for the default. */
static dg_rc quota_post(struct dg_req *r)
{
	int64_t id = 0, q = 0;
	const char *v = field(r, "daily_quota");
	dg_rc rc = app_id(r, &id);
	if (rc)
		return rc;
	if (v[0] && !quota_of(v, &q)) {
		const char *msg = dg_t(r, "od_access.err.quota");
		json_t *data = json_object();
		dg_form_error(data, dg_arena_printf(r->arena, "quota-%lld", (long long)id), msg);
		return admin_page(r, dg_rc_form_status(DG_EINVAL), data, id, msg);
	}
	struct stmt s = {sql_quota_set, DG_ARGS(v[0] ? DG_VI(q) : DG_VNULL, DG_VI(id))};
	return write_all(r, &s, 1, true);
}

/* Revoke an app's key (once: again is ENOTFOUND) or restore it. */
static dg_rc key_set(struct dg_req *r, bool revoke)
{
	int64_t id = 0;
	dg_rc rc = app_id(r, &id);
	if (rc)
		return rc;
	struct stmt s = {sql_key_set,
			 DG_ARGS(revoke ? DG_VI(dg_now_ms()) : DG_VNULL, DG_VI(id), DG_VI(revoke))};
	return write_all(r, &s, 1, true);
}

static dg_rc revoke_post(struct dg_req *r)
{
	return key_set(r, true);
}

static dg_rc restore_post(struct dg_req *r)
{
	return key_set(r, false);
}

static const struct dg_route routes[] = {
	{"GET", "/admin/data-access", admin_get, DG_ROLE_ADMIN, 0},
	{"POST", "/admin/data-access/settings", settings_post, DG_ROLE_ADMIN, 0},
	{"POST", "/admin/data-access/apps/{id}/quota", quota_post, DG_ROLE_ADMIN, 0},
	{"POST", "/admin/data-access/apps/{id}/revoke", revoke_post, DG_ROLE_ADMIN, 0},
	{"POST", "/admin/data-access/apps/{id}/restore", restore_post, DG_ROLE_ADMIN, 0},
};

const struct dg_route *dg_od_access_admin_routes(size_t *n)
{
	*n = sizeof routes / sizeof routes[0];
	return routes;
}
