/*
 * feedback.c - "report a problem with this page": the link in every page's
 * footer leads to /feedback?page=PATH, a plain form (no script needed) that
 * records the page, the message and, when signed in, the account, in the
 * feedback table; administrators read them on /admin/feedback, newest open
 * ones first, and close them when dealt with.
 *
 * Visitors are limited per network address (FEEDBACK_PER_ADDR an hour),
 * counted in the table itself: the address is kept only for that hour and
 * erased by the next report after it, as the privacy notice says. Bad input
 * (an empty or oversized message, too many reports) gets its error in the
 * reader's language and stores nothing.
 */
#include "web/pages.h"

#include <string.h>
#include <time.h>

#include "core/date.h"
#include "core/log.h"
#include "core/proxy.h"
#include "core/str.h"
#include "node/env.h"
#include "store/store.h"
#include "web/page.h"

#define MESSAGE_MAX_CHARS 2000 /* characters of a message */
#define MESSAGE_MAX_BYTES (MESSAGE_MAX_CHARS * 4)
#define PAGE_PATH_MAX     512             /* bytes of the page's path */
#define FEEDBACK_PER_ADDR 5               /* reports from one address an hour (visitors) */
#define FEEDBACK_WINDOW   (3600LL * 1000) /* that hour, in ms */
#define ADMIN_PER_PAGE    20

const struct dg_migration dg_web_migrations[] = {
	{"web-001-feedback", "CREATE TABLE feedback ("
			     " id {{pk}},"
			     " page TEXT NOT NULL DEFAULT '',"
			     " message TEXT NOT NULL,"
			     " user_id BIGINT,"
			     " addr_key TEXT NOT NULL DEFAULT '',"
			     " lang TEXT NOT NULL DEFAULT 'zh',"
			     " created_ms BIGINT NOT NULL,"
			     " closed_ms BIGINT,"
			     " closed_by BIGINT);"
			     "CREATE INDEX feedback_addr ON feedback (addr_key, created_ms);"
			     "CREATE INDEX feedback_open ON feedback (closed_ms, id);"},
	{NULL, NULL},
};

/* The page reported on: a local path within its cap, else "" (not known). */
static const char *page_of(const char *s)
{
	return s && strlen(s) <= PAGE_PATH_MAX && dg_is_local_path(s) ? s : "";
}

/* s without ASCII white space (line breaks too) at either end. */
static struct dg_str trim_space(const char *s)
{
	struct dg_str m = dg_str_of(s ? s : "");
	while (m.n && strchr(" \t\r\n\f\v", m.p[0])) {
		m.p++;
		m.n--;
	}
	while (m.n && strchr(" \t\r\n\f\v", m.p[m.n - 1]))
		m.n--;
	return m;
}

/* UTF-8 characters in s (continuation bytes not counted). */
static size_t chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static dg_rc form_page(struct dg_req *r, unsigned status, const char *page, json_t *d)
{
	json_object_set_new(d, "title", json_string(dg_t(r, "web.feedback.title")));
	json_object_set_new(d, "page", json_string(page));
	json_object_set_new(d, "message_max", json_integer(MESSAGE_MAX_CHARS));
	return dg_page(r, status, "web/feedback.html", d);
}

static dg_rc feedback_get(struct dg_req *r)
{
	json_t *d = json_object();
	json_object_set_new(d, "sent", json_boolean(dg_kvs_get(&r->query, "sent") != NULL));
	return form_page(r, 200, page_of(dg_kvs_get(&r->query, "page")), d);
}

/* Whether addr (a visitor's) has sent its hour's reports; forgets addresses older than that. */
static dg_rc over_limit(struct dg_db *db, const char *addr, bool *over)
{
	int64_t n = 0, old = dg_now_ms() - FEEDBACK_WINDOW;
	dg_rc rc = dg_db_exec(db,
			      "UPDATE feedback SET addr_key = '' WHERE addr_key <> ''"
			      " AND created_ms < ?",
			      DG_ARGS(DG_VI(old)), NULL);
	if (!rc && addr[0])
		rc = dg_db_query_int(db,
				     "SELECT COUNT(*) FROM feedback WHERE addr_key = ?"
				     " AND created_ms >= ?",
				     DG_ARGS(DG_VT(addr), DG_VI(old)), &n);
	*over = !rc && n >= FEEDBACK_PER_ADDR;
	return rc;
}

static dg_rc feedback_post(struct dg_req *r)
{
	const char *page = page_of(dg_kvs_get(&r->form, "page"));
	const char *msg = dg_kvs_get(&r->form, "message");
	json_t *d = json_object();
	struct dg_str m = trim_space(msg);
	const char *text = dg_arena_strndup(r->arena, m.p, m.n);
	if (!text[0]) {
		dg_form_error(d, "message", dg_t(r, "web.feedback.err.empty"));
		return form_page(r, 422, page, d);
	}
	if (m.n > MESSAGE_MAX_BYTES || chars(text) > MESSAGE_MAX_CHARS) {
		/* not echoed back: the switches would post it again */
		dg_form_error(d, "message", dg_t(r, "web.feedback.err.too_long"));
		return form_page(r, 413, page, d);
	}
	json_object_set_new(d, "values", json_pack("{s:s}", "message", text));
	struct dg_db *db = NULL;
	char key[DG_ADDR_TEXT] = "";
	if (!r->user) {
		char client[DG_ADDR_TEXT];
		const char *a = dg_proxies_client(&r->env->cfg->trusted_proxies, r->remote_addr,
						  dg_req_header(r, "X-Forwarded-For"), client);
		dg_addr_key(a ? a : "", key);
	}
	bool over = false;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = over_limit(db, key, &over);
	if (!rc && over) {
		dg_reply_header(r, "Retry-After", "3600");
		dg_form_error(d, "message", dg_t(r, "web.feedback.err.too_many"));
		return form_page(r, 429, page, d);
	}
	if (!rc)
		rc = dg_db_exec(
			db,
			"INSERT INTO feedback (page, message, user_id, addr_key, lang, created_ms)"
			" VALUES (?, ?, ?, ?, ?, ?)",
			DG_ARGS(DG_VT(page), DG_VT(text), r->user ? DG_VI(r->user->id) : DG_VNULL,
				DG_VT(key),
				DG_VT(r->lang && strcmp(r->lang, "en") == 0 ? "en" : "zh"),
				DG_VI(dg_now_ms())),
			NULL);
	json_decref(d);
	if (rc)
		return rc;
	dg_info("req=%s feedback recorded for %s", r->id, page[0] ? page : "(no page)");
	struct dg_buf b;
	dg_buf_init(&b, PAGE_PATH_MAX * 4);
	rc = dg_buf_adds(&b, "/feedback?sent=1&page=");
	if (!rc)
		rc = dg_buf_add_url(&b, page, strlen(page));
	dg_reply_redirect(r, rc ? "/feedback?sent=1" : dg_buf_str(&b));
	dg_buf_release(&b);
	return DG_OK;
}

static void when(int64_t ms, char out[static 20])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(out, 20, "%Y-%m-%d %H:%M", &tm);
}

static dg_rc admin_list(struct dg_req *r)
{
	int64_t page = 1, total = 0;
	const char *ps = dg_kvs_get(&r->query, "page");
	if (ps && (dg_str_to_i64(dg_str_of(ps), &page) || page < 1 || page > 1000000))
		page = 1;
	struct dg_db *db = NULL;
	struct dg_rows *rows = NULL;
	json_t *list = json_array();
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_db_query_int(db, "SELECT COUNT(*) FROM feedback", DG_NOARGS, &total);
	if (!rc)
		rc = dg_db_query(
			db,
			"SELECT f.id, f.page, f.message, f.created_ms,"
			" CASE WHEN f.closed_ms IS NULL THEN 0 ELSE 1 END, u.username"
			" FROM feedback f LEFT JOIN users u ON u.id = f.user_id"
			" ORDER BY CASE WHEN f.closed_ms IS NULL THEN 0 ELSE 1 END, f.id DESC"
			" LIMIT ? OFFSET ?",
			DG_ARGS(DG_VI(ADMIN_PER_PAGE), DG_VI((page - 1) * ADMIN_PER_PAGE)), &rows);
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		char at[20];
		when(dg_rows_int(rows, 3), at);
		const char *user = dg_rows_text(rows, 5);
		json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:s, s:b, s:s}", "id",
						      (json_int_t)dg_rows_int(rows, 0), "page",
						      dg_rows_text(rows, 1), "message",
						      dg_rows_text(rows, 2), "at", at, "closed",
						      dg_rows_int(rows, 4) != 0, "user",
						      user ? user : ""));
	}
	dg_rows_free(rows);
	if (rc != DG_ENOTFOUND && rc) {
		json_decref(list);
		return rc;
	}
	json_t *d = json_object();
	json_object_set_new(d, "title", json_string(dg_t(r, "web.feedback.admin_title")));
	json_object_set_new(d, "items", list);
	json_object_set_new(d, "pager", dg_pager(r, total, page, ADMIN_PER_PAGE));
	int64_t closed = 0;
	const char *cs = dg_kvs_get(&r->query, "closed");
	if (cs && !dg_str_to_i64(dg_str_of(cs), &closed) && closed > 0)
		json_object_set_new(d, "closed", json_integer(closed));
	return dg_page(r, 200, "web/feedback_admin.html", d);
}

static dg_rc admin_close(struct dg_req *r)
{
	int64_t id = 0, changed = 0;
	struct dg_db *db = NULL;
	if (dg_str_to_i64(dg_str_of(dg_kvs_get(&r->params, "id")), &id) || id <= 0)
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s",
				  dg_t(r, "web.feedback.err.not_found"));
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_db_exec(db,
				"UPDATE feedback SET closed_ms = ?, closed_by = ?, addr_key = ''"
				" WHERE id = ? AND closed_ms IS NULL",
				DG_ARGS(DG_VI(dg_now_ms()), DG_VI(r->user->id), DG_VI(id)),
				&changed);
	if (!rc && !changed) {
		int64_t n = 0;
		rc = dg_db_query_int(db, "SELECT COUNT(*) FROM feedback WHERE id = ?",
				     DG_ARGS(DG_VI(id)), &n);
		if (!rc && !n)
			return dg_err_set(&r->err, DG_ENOTFOUND, "%s",
					  dg_t(r, "web.feedback.err.not_found"));
	}
	if (rc)
		return rc;
	dg_info("req=%s admin %lld closed feedback %lld", r->id, (long long)r->user->id,
		(long long)id);
	dg_reply_redirect(r,
			  dg_arena_printf(r->arena, "/admin/feedback?closed=%lld", (long long)id));
	return DG_OK;
}

static const struct dg_route routes[] = {
	{"GET", "/feedback", feedback_get, DG_ROLE_ANY, 0},
	{"POST", "/feedback", feedback_post, DG_ROLE_ANY, 0},
	{"GET", "/admin/feedback", admin_list, DG_ROLE_ADMIN, 0},
	{"POST", "/admin/feedback/{id}/close", admin_close, DG_ROLE_ADMIN, 0},
};

const struct dg_route *dg_web_feedback_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
