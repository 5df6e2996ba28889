/*
 * access.c - the open data's access layer (access.h): app keys, the daily
 * quota gate in front of the CKAN API and the dumps, the conditional tier's
 * grants, and the usage counters. The pages that manage apps and
 * applications are in pages.c; the SQL of both is here and there,
 * in statements at the top of each file.
 *
 * Quotas are counted in the store, one row per (subject, UTC day), and
 * the counters one row per (day, dataset, app, kind), through the node's
 * tally (store/tally.h): a call is counted in memory and the node writes
 * its counts in one transaction every second (or every DG_TALLY_BATCH calls
 * of a subject), so a call of the API is not a write of its own. A quota's
 * count is the store's at the node's last read plus the node's calls since:
 * exact on one node, and passed by at most DG_TALLY_BATCH calls of each
 * other node on the same store (docs/opendata.md states the margin).
 */
#include "opendata/access/access_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "node/env.h"
#include "core/date.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/tally.h"
#include "web/page.h"

const struct dg_migration dg_od_access_migrations[] = {
	{"od-access-001",
	 "CREATE TABLE od_apps (id {{pk}}, user_id BIGINT NOT NULL, name TEXT NOT NULL,"
	 " purpose TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE, daily_quota BIGINT,"
	 " created BIGINT NOT NULL, revoked BIGINT);"
	 "CREATE INDEX od_apps_user ON od_apps(user_id);"
	 "CREATE TABLE od_access_settings (key TEXT PRIMARY KEY, value BIGINT NOT NULL);"
	 "INSERT INTO od_access_settings (key, value) VALUES ('anon_daily', 1000);"
	 "INSERT INTO od_access_settings (key, value) VALUES ('app_daily', 10000);"
	 "CREATE TABLE od_quota (subject TEXT NOT NULL, day TEXT NOT NULL,"
	 " n BIGINT NOT NULL, PRIMARY KEY (subject, day));"
	 "CREATE TABLE od_applications (id {{pk}}, user_id BIGINT NOT NULL,"
	 " app_id BIGINT NOT NULL, package_id TEXT NOT NULL, applicant TEXT NOT NULL,"
	 " purpose TEXT NOT NULL, intended_use TEXT NOT NULL, days INTEGER NOT NULL,"
	 " state TEXT NOT NULL DEFAULT 'pending', reason TEXT NOT NULL DEFAULT '',"
	 " decided_by BIGINT, created BIGINT NOT NULL, decided BIGINT, grant_until BIGINT);"
	 "CREATE INDEX od_applications_user ON od_applications(user_id);"
	 "CREATE INDEX od_applications_grant ON od_applications(app_id, package_id, state);"
	 "CREATE TABLE od_counters (day TEXT NOT NULL, package_id TEXT NOT NULL,"
	 " app_id BIGINT NOT NULL, kind TEXT NOT NULL, n BIGINT NOT NULL,"
	 " PRIMARY KEY (day, package_id, app_id, kind));"},
	/*
	 * the write budget: what a department's staff (and administrators) may
	 * write through the API a day, apart from the public's read quotas
	 */
	{"od-access-002-write-budget",
	 "INSERT INTO od_access_settings (key, value) VALUES ('staff_write_daily', 1000000);"},
	{NULL, NULL},
};

static const char sql_app_by_key[] = "SELECT id, revoked FROM od_apps WHERE key_hash = ?";

/* a quota's count: subject and day, then the calls to add; the new count */
static const struct dg_tally_kind quota_kind = {
	"INSERT INTO od_quota (subject, day, n) VALUES (?, ?, CAST(? AS BIGINT))"
	" ON CONFLICT (subject, day) DO UPDATE SET n = od_quota.n + excluded.n RETURNING n",
	2, true};

static const char sql_setting[] = "SELECT value FROM od_access_settings WHERE key = ?";

/* the app's limit, and whether it is the app's own (else the default, app_daily) */
static const char sql_app_quota[] =
	"SELECT COALESCE(a.daily_quota, s.value), a.daily_quota IS NOT NULL"
	" FROM od_apps a, od_access_settings s WHERE a.id = ? AND s.key = 'app_daily'";

static const char sql_tier_of_resource[] =
	"SELECT p.id, p.name, p.tier FROM od_resources r JOIN od_packages p ON p.id = r.package_id"
	" WHERE r.id = ?";

static const char sql_grant[] =
	"SELECT COUNT(*) FROM od_applications a JOIN od_apps k ON k.id = a.app_id"
	" WHERE a.app_id = ? AND a.package_id = ? AND a.state = 'approved'"
	" AND a.grant_until > ? AND k.revoked IS NULL";

/*
 * A use: day, resource id, dataset id, app id and kind, then the uses to
 * add. The package id is the dataset's, or the one owning the resource
 * ("" when none).
 */
static const struct dg_tally_kind use_kind = {
	"INSERT INTO od_counters (day, package_id, app_id, kind, n)"
	" SELECT ?, COALESCE((SELECT package_id FROM od_resources WHERE id = ?), ?),"
	" CAST(? AS BIGINT), ?, CAST(? AS BIGINT) WHERE 1 = 1"
	" ON CONFLICT (day, package_id, app_id, kind) DO UPDATE SET n = od_counters.n + excluded.n",
	5, false};

static struct dg_tally *tally_of(const struct dg_req *r)
{
	return r && r->env ? r->env->tally : NULL;
}

dg_rc dg_od_usage_flush(struct dg_req *r, struct dg_db *db)
{
	return dg_tally_flush(tally_of(r), db);
}

static void today(char out[11])
{
	dg_day_format((dg_day)(dg_now_ms() / 86400000), out);
}

char *dg_od_key_hash(struct dg_arena *a, const char *key)
{
	unsigned char h[32];
	crypto_generichash(h, sizeof h, (const unsigned char *)key, strlen(key), NULL, 0);
	char *hex = dg_arena_alloc(a, 65);
	sodium_bin2hex(hex, 65, h, sizeof h);
	return hex;
}

/* The app key of the request: X-CKAN-API-Key, or Authorization without a scheme. */
static const char *key_of(const struct dg_req *r)
{
	const char *h = dg_req_header(r, "X-CKAN-API-Key");
	if (h && strncmp(h, "dgk_", 4) == 0)
		return h;
	h = dg_req_header(r, "Authorization");
	if (h && strncmp(h, "dgk_", 4) == 0)
		return h;
	return NULL;
}

/* The app id of the request's key: 0 without one, EAUTH unknown, EDENIED revoked. */
static dg_rc app_of(struct dg_req *r, struct dg_db *db, int64_t *app_id)
{
	struct dg_rows *rows = NULL;
	const char *key = key_of(r);
	*app_id = 0;
	if (!key)
		return DG_OK;
	if (strlen(key) > 100)
		return DG_EAUTH;
	dg_rc rc = dg_db_query(db, sql_app_by_key, DG_ARGS(DG_VT(dg_od_key_hash(r->arena, key))),
			       &rows);
	if (rc)
		return rc;
	rc = dg_rows_next(rows);
	if (rc == DG_OK) {
		*app_id = dg_rows_int(rows, 0);
		if (!dg_rows_isnull(rows, 1))
			rc = DG_EDENIED;
	} else if (rc == DG_ENOTFOUND) {
		rc = DG_EAUTH;
	}
	dg_rows_free(rows);
	return rc;
}

/* A refusal in CKAN's error envelope; quota (may be NULL) names the quota it is over. */
static void reply_refusal(struct dg_req *r, const char *action, unsigned status, const char *type,
			  const char *msg, const char *quota)
{
	char site[DG_SITE_URL_MAX], help[DG_SITE_URL_MAX + 256];
	snprintf(help, sizeof help, "%s/api/3/action/help_show?name=%.200s",
		 dg_config_site_url(r->env->cfg, site), action ? action : "");
	json_t *e = json_pack("{s:s, s:s}", "__type", type, "message", msg);
	if (quota)
		json_object_set_new(e, "quota", json_string(quota));
	if (!action) {
		dg_reply_json(r, status, json_pack("{s:b, s:o}", "success", 0, "error", e));
		return;
	}
	dg_reply_json(r, status,
		      json_pack("{s:s, s:b, s:o}", "help", help, "success", 0, "error", e));
}

/* A quota: who is counted, the limit a day (0: none), and its name as the 429 gives it. */
struct quota {
	const char *subject;
	int64_t limit;
	const char *name;
};

static dg_rc app_quota(struct dg_db *db, int64_t app_id, struct quota *q)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, sql_app_quota, DG_ARGS(DG_VI(app_id)), &rows);
	if (rc)
		return rc;
	rc = dg_rows_next(rows);
	if (rc == DG_OK) {
		q->limit = dg_rows_int(rows, 0);
		q->name = dg_rows_int(rows, 1) ? "app_own_daily" : "app_daily";
	}
	dg_rows_free(rows);
	return rc;
}

/*
 * The quota a call counts against: a write by a department's staff or an
 * administrator, the write budget (staff_write_daily, per account), so that
 * publishing a catalogue does not spend the public's read quota nor is held
 * to it; anything else, the daily read quota of the app, the signed-in user
 * or the client address.
 */
static dg_rc quota_of(struct dg_req *r, struct dg_db *db, int64_t app_id, bool write,
		      struct quota *q)
{
	const struct dg_user *u = r->user;
	if (write && u && (u->role == DG_ROLE_STAFF || u->role == DG_ROLE_ADMIN)) {
		q->subject = dg_arena_printf(r->arena, "write:%lld", (long long)u->id);
		q->name = "staff_write_daily";
		return dg_db_query_int(db, sql_setting, DG_ARGS(DG_VT(q->name)), &q->limit);
	}
	if (app_id) {
		q->subject = dg_arena_printf(r->arena, "app:%lld", (long long)app_id);
		return app_quota(db, app_id, q);
	}
	if (u) {
		q->subject = dg_arena_printf(r->arena, "user:%lld", (long long)u->id);
		q->name = "app_daily";
		return dg_db_query_int(db, sql_setting, DG_ARGS(DG_VT(q->name)), &q->limit);
	}
	/* behind a trusted proxy, the address it forwarded (core/proxy.h) */
	char client[DG_ADDR_TEXT];
	dg_proxies_client(r->env ? &r->env->cfg->trusted_proxies : NULL, r->remote_addr,
			  dg_req_header(r, "X-Forwarded-For"), client);
	q->subject = dg_arena_printf(r->arena, "ip:%s", client);
	q->name = "anon_daily";
	return dg_db_query_int(db, sql_setting, DG_ARGS(DG_VT(q->name)), &q->limit);
}

void dg_od_limit_headers(struct dg_req *r, const char *name, int64_t limit, int64_t window_s,
			 int64_t retry_s)
{
	char after[24];
	snprintf(after, sizeof after, "%lld", (long long)(retry_s > 0 ? retry_s : 1));
	dg_reply_header(r, "Retry-After", after);
	/* the IETF's RateLimit-Policy: the quota's name, its size, and its window or unit */
	dg_reply_header(r, "RateLimit-Policy",
			window_s > 0 ? dg_arena_printf(r->arena, "\"%s\";q=%lld;w=%lld", name,
						       (long long)limit, (long long)window_s)
				     : dg_arena_printf(r->arena,
						       "\"%s\";q=%lld;qu=\"concurrent-requests\"",
						       name, (long long)limit));
}

dg_rc dg_od_access_gate(struct dg_req *r, const char *action, bool write, struct dg_od_caller *c)
{
	struct dg_db *db = NULL;
	struct quota q = {0};
	int64_t n = 0;
	char day[11];
	c->app_id = 0;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = app_of(r, db, &c->app_id);
	/* an unknown key is a refusal, as CKAN answers it, not a request to sign in */
	if (rc == DG_EAUTH) {
		reply_refusal(r, action, dg_rc_http_status(DG_EDENIED), "Authorization Error",
			      dg_t(r, "od_access.api.bad_key"), NULL);
		return rc;
	}
	if (rc == DG_EDENIED) {
		reply_refusal(r, action, dg_rc_http_status(DG_EDENIED), "Authorization Error",
			      dg_t(r, "od_access.api.revoked_key"), NULL);
		return rc;
	}
	if (!rc) {
		/* the rows' check (dg_od_access_rows) later in the request reads it here */
		r->app_known = true;
		r->app_id = c->app_id;
		rc = quota_of(r, db, c->app_id, write, &q);
	}
	if (rc)
		return dg_err_set(&r->err, rc, "The store is not available");
	today(day);
	const char *key[] = {q.subject, day};
	rc = dg_tally_add(tally_of(r), db, &quota_kind, key, &n);
	if (rc)
		return dg_err_set(&r->err, rc, "The store is not available");
	if (q.limit > 0 && n > q.limit) {
		int64_t now_s = dg_now_ms() / 1000;
		dg_od_limit_headers(r, q.name, q.limit, 86400, 86400 - now_s % 86400);
		reply_refusal(
			r, action, dg_rc_http_status(DG_ELOCKED), "Rate Limit Error",
			dg_arena_printf(r->arena, "%s (%s: %lld)",
					dg_t(r, write && strcmp(q.name, "staff_write_daily") == 0
							? "od_access.api.over_write_budget"
							: "od_access.api.over_quota"),
					q.name, (long long)q.limit),
			q.name);
		return DG_ELOCKED;
	}
	return DG_OK;
}

/*
 * Whether app_id (0: none) may read the rows of resource_id: *ok, and in
 * *name (an arena copy, when a is given) the dataset's name when it is
 * conditional and no live grant lets it.
 */
static dg_rc rows_open_to(struct dg_db *db, struct dg_arena *a, const char *resource_id,
			  int64_t app_id, bool *ok, const char **name)
{
	struct dg_rows *rows = NULL;
	int64_t granted = 0;
	*ok = true;
	dg_rc rc = dg_db_query(db, sql_tier_of_resource, DG_ARGS(DG_VT(resource_id)), &rows);
	if (rc == DG_OK)
		rc = dg_rows_next(rows);
	if (rc == DG_ENOTFOUND || (rc == DG_OK && strcmp(dg_rows_text(rows, 2), "conditional"))) {
		dg_rows_free(rows);
		return DG_OK;
	}
	char *pkg = rc == DG_OK ? dg_xstrdup(dg_rows_text(rows, 0)) : NULL;
	if (rc == DG_OK && a && name)
		*name = dg_arena_strdup(a, dg_rows_text(rows, 1));
	dg_rows_free(rows);
	if (rc == DG_OK && app_id)
		rc = dg_db_query_int(db, sql_grant,
				     DG_ARGS(DG_VI(app_id), DG_VT(pkg), DG_VI(dg_now_ms())),
				     &granted);
	free(pkg);
	*ok = rc == DG_OK && granted > 0;
	return rc;
}

dg_rc dg_od_access_rows(struct dg_req *r, struct dg_db *db, const char *resource_id,
			struct dg_err *err)
{
	int64_t app_id = r->app_id;
	const char *name = "";
	bool ok = false;
	/* the gate found the key's app already; a page without the gate looks it up */
	dg_rc rc = r->app_known ? DG_OK : app_of(r, db, &app_id);
	if (rc == DG_EAUTH || rc == DG_EDENIED) /* an unknown or revoked key holds no grant */
		rc = DG_OK, app_id = 0;
	if (rc == DG_OK)
		rc = rows_open_to(db, r->arena, resource_id, app_id, &ok, &name);
	if (rc)
		return dg_err_set(err, rc, "The store is not available");
	if (ok)
		return DG_OK;
	return dg_err_set(err, DG_EDENIED, "%s /data/datasets/%s/apply",
			  dg_t(r, "od_access.api.conditional"), name);
}

dg_rc dg_od_rows_open_to(struct dg_db *db, const char *resource_id, int64_t app_id, bool *ok)
{
	return rows_open_to(db, NULL, resource_id, app_id, ok, NULL);
}

dg_rc dg_od_count(struct dg_req *r, struct dg_db *db, enum dg_od_count_kind kind,
		  const char *package_id, const char *resource_id, int64_t app_id)
{
	static const char *const kinds[] = {"view", "download", "call"};
	char day[11], app[24];
	today(day);
	snprintf(app, sizeof app, "%lld", (long long)app_id);
	const char *key[] = {day, resource_id ? resource_id : "", package_id ? package_id : "", app,
			     kinds[kind]};
	return dg_tally_add(tally_of(r), db, &use_kind, key, NULL);
}

dg_rc dg_od_counters(struct dg_db *db, const char *by, json_t **out)
{
	static const struct {
		const char *by, *key;
	} groups[] = {
		{"dataset", "COALESCE(p.name, '')"},
		{"dept", "COALESCE(p.owner_dept, '')"},
		{"theme", "COALESCE(p.theme, '')"},
		{"app", "COALESCE(a.name, '')"},
	};
	const char *key = NULL;
	struct dg_rows *rows = NULL;
	char sql[768];
	*out = NULL;
	for (size_t i = 0; by && i < sizeof groups / sizeof groups[0]; i++)
		if (strcmp(by, groups[i].by) == 0)
			key = groups[i].key;
	if (!key)
		return DG_EINVAL;
	/* key is one of the fixed expressions above, never input */
	snprintf(sql, sizeof sql,
		 "SELECT %s AS k,"
		 " SUM(CASE WHEN c.kind = 'view' THEN c.n ELSE 0 END),"
		 " SUM(CASE WHEN c.kind = 'download' THEN c.n ELSE 0 END),"
		 " SUM(CASE WHEN c.kind = 'call' THEN c.n ELSE 0 END)"
		 " FROM od_counters c LEFT JOIN od_packages p ON p.id = c.package_id"
		 " LEFT JOIN od_apps a ON a.id = c.app_id GROUP BY %s ORDER BY 1",
		 key, key);
	dg_rc rc = dg_db_query(db, sql, DG_NOARGS, &rows);
	if (rc)
		return rc;
	json_t *list = json_array();
	json_int_t tv = 0, td = 0, tc = 0;
	while ((rc = dg_rows_next(rows)) == DG_OK) {
		json_int_t v = dg_rows_int(rows, 1), d = dg_rows_int(rows, 2),
			   c = dg_rows_int(rows, 3);
		tv += v, td += d, tc += c;
		json_array_append_new(list, json_pack("{s:s, s:I, s:I, s:I}", "key",
						      dg_rows_text(rows, 0), "views", v,
						      "downloads", d, "calls", c));
	}
	dg_rows_free(rows);
	if (rc != DG_ENOTFOUND) {
		json_decref(list);
		return rc;
	}
	*out = json_pack("{s:s, s:o, s:{s:I, s:I, s:I}}", "by", by, "rows", list, "total", "views",
			 tv, "downloads", td, "calls", tc);
	return DG_OK;
}
