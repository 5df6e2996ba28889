/*
 * routes.c - the inbox from the browser and the API: the signed-in user's
 * messages, newest first and paged (/inbox), one message (/inbox/{id}, which
 * marks it read), marking a message read without opening it (a form, so no
 * script is needed), and GET /api/v1/inbox.
 *
 * Messages are rendered here, in the reader's language: the catalogue's
 * title and body for the kind, placeholders filled from the stored params
 * as plain text, which the template engine (or JSON) escapes on output. A
 * message of another user is the same 404 as one that does not exist.
 */
#include "notify/notify.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/env.h"
#include "core/str.h"
#include "notify/internal.h"
#include "web/page.h"

#define PER_PAGE 20
#define PAGE_MAX 1000
#define TEXT_MAX ((size_t)16 << 10) /* a rendered title or body */

static dg_rc param_id(struct dg_req *r, int64_t *id)
{
	if (dg_str_to_i64(dg_str_of(dg_kvs_get(&r->params, "id")), id) || *id <= 0)
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "notify.ui.not_found"));
	return DG_OK;
}

/* The catalogue's title or body for kind, in the request's language, filled from params. */
static const char *render(struct dg_req *r, const char *kind, const char *part, json_t *params)
{
	struct dg_buf b;
	dg_buf_init(&b, TEXT_MAX);
	const char *tmpl = dg_t(r, dg_arena_printf(r->arena, "notify.%s.%s", kind, part));
	const char *out = dg_notify_fill(tmpl, params, r->lang, &b) == DG_OK
				  ? dg_arena_strdup(r->arena, dg_buf_str(&b))
				  : "";
	dg_buf_release(&b);
	return out;
}

/* "2026-10-01 08:30" in the server's time zone. */
static const char *when(struct dg_req *r, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[32];
	localtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm);
	return dg_arena_strdup(r->arena, buf);
}

/* Columns: id, kind, params, link, created_ms, read_ms. */
#define MESSAGE_COLS "id, kind, params, link, created_ms, read_ms"

static json_t *message_json(struct dg_req *r, struct dg_rows *rows)
{
	const char *kind = dg_rows_text(rows, 1);
	json_t *params = notify_open_params(dg_rows_text(rows, 2));
	int64_t created = dg_rows_int(rows, 4);
	bool read = !dg_rows_isnull(rows, 5);
	json_t *link = dg_rows_isnull(rows, 3) ? json_null() : json_string(dg_rows_text(rows, 3));
	json_t *read_at = read ? json_integer(dg_rows_int(rows, 5)) : json_null();
	json_t *m =
		json_pack("{s:I, s:s, s:s, s:s, s:o, s:I, s:s, s:o, s:b}", "id",
			  (json_int_t)dg_rows_int(rows, 0), "kind", kind, "title",
			  render(r, kind, "title", params), "body", render(r, kind, "body", params),
			  "link", link, "created_at", (json_int_t)created, "when", when(r, created),
			  "read_at", read_at, "read", read);
	json_decref(params);
	return m;
}

/* ?page=N (1..PAGE_MAX, default 1) and ?unread=1. */
static dg_rc read_query(struct dg_req *r, int64_t *page, bool *unread)
{
	const char *p = dg_kvs_get(&r->query, "page");
	const char *u = dg_kvs_get(&r->query, "unread");
	*page = 1;
	*unread = u && strcmp(u, "1") == 0;
	if (p && *p && (dg_str_to_i64(dg_str_of(p), page) || *page < 1 || *page > PAGE_MAX))
		return dg_err_field(&r->err, DG_EINVAL, "page", "%s",
				    dg_t(r, "notify.ui.bad_page"));
	return DG_OK;
}

/* One page of the user's messages: {total, unread, page, per_page, items}. */
static dg_rc list(struct dg_req *r, int64_t page, bool unread_only, json_t **out)
{
	struct dg_db *db = NULL;
	struct dg_rows *rows = NULL;
	int64_t total = 0, unread = 0, uid = r->user->id, only = unread_only;
	*out = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_db_query_int(db,
				     "SELECT COUNT(*) FROM notify_messages WHERE user_id = ?"
				     " AND (? = 0 OR read_ms IS NULL)",
				     DG_ARGS(DG_VI(uid), DG_VI(only)), &total);
	if (!rc)
		rc = dg_notify_unread(db, uid, &unread);
	if (!rc)
		rc = dg_db_query(db,
				 "SELECT " MESSAGE_COLS " FROM notify_messages WHERE user_id = ?"
				 " AND (? = 0 OR read_ms IS NULL)"
				 " ORDER BY id DESC LIMIT ? OFFSET ?",
				 DG_ARGS(DG_VI(uid), DG_VI(only), DG_VI(PER_PAGE),
					 DG_VI((page - 1) * PER_PAGE)),
				 &rows);
	if (rc)
		return rc;
	dg_rows_defer(rows, r->arena);
	json_t *items = json_array();
	while ((rc = dg_rows_next(rows)) == DG_OK)
		json_array_append_new(items, message_json(r, rows));
	if (rc != DG_ENOTFOUND) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{s:I, s:I, s:I, s:i, s:o}", "total", (json_int_t)total, "unread",
			 (json_int_t)unread, "page", (json_int_t)page, "per_page", PER_PAGE,
			 "items", items);
	return *out ? DG_OK : DG_EINTERNAL;
}

static dg_rc inbox_page(struct dg_req *r)
{
	int64_t page = 1;
	bool unread = false;
	json_t *data = NULL;
	dg_rc rc = read_query(r, &page, &unread);
	if (!rc)
		rc = list(r, page, unread, &data);
	if (rc)
		return rc;
	int64_t total = json_integer_value(json_object_get(data, "total"));
	int64_t pages = total ? (total + PER_PAGE - 1) / PER_PAGE : 1;
	const char *filter = unread ? "&unread=1" : "";
	if (page > 1)
		json_object_set_new(data, "prev_href",
				    json_string(dg_arena_printf(r->arena, "/inbox?page=%lld%s",
								(long long)(page - 1), filter)));
	if (page < pages)
		json_object_set_new(data, "next_href",
				    json_string(dg_arena_printf(r->arena, "/inbox?page=%lld%s",
								(long long)(page + 1), filter)));
	json_object_set_new(data, "pages", json_integer(pages));
	json_object_set_new(data, "pager", dg_pager(r, total, page, PER_PAGE));
	json_object_set_new(data, "unread_only", json_boolean(unread));
	json_object_set_new(data, "title", json_string(dg_t(r, "notify.ui.heading")));
	return dg_page(r, 200, "notify/inbox.html", data);
}

/* The user's message id, or ENOTFOUND; marks it read when mark is set. */
static dg_rc load_own(struct dg_req *r, int64_t id, bool mark, json_t **out)
{
	struct dg_db *db = NULL;
	struct dg_rows *rows = NULL;
	*out = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc && mark)
		rc = dg_db_exec(db,
				"UPDATE notify_messages SET read_ms = {{now_ms}}"
				" WHERE id = ? AND user_id = ? AND read_ms IS NULL",
				DG_ARGS(DG_VI(id), DG_VI(r->user->id)), NULL);
	if (!rc)
		rc = dg_db_query(db,
				 "SELECT " MESSAGE_COLS " FROM notify_messages"
				 " WHERE id = ? AND user_id = ?",
				 DG_ARGS(DG_VI(id), DG_VI(r->user->id)), &rows);
	if (rc)
		return rc;
	dg_rows_defer(rows, r->arena);
	rc = dg_rows_next(rows);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(&r->err, rc, "%s", dg_t(r, "notify.ui.not_found"));
	if (rc)
		return rc;
	*out = message_json(r, rows);
	return *out ? DG_OK : DG_EINTERNAL;
}

static dg_rc message_page(struct dg_req *r)
{
	int64_t id = 0;
	json_t *m = NULL;
	dg_rc rc = param_id(r, &id);
	if (!rc)
		rc = load_own(r, id, true, &m);
	if (rc)
		return rc;
	json_t *data = json_object();
	json_object_set(data, "title", json_object_get(m, "title"));
	json_object_set_new(data, "message", m);
	return dg_page(r, 200, "notify/message.html", data);
}

static dg_rc mark_read(struct dg_req *r)
{
	int64_t id = 0;
	json_t *m = NULL;
	dg_rc rc = param_id(r, &id);
	if (!rc)
		rc = load_own(r, id, true, &m);
	json_decref(m);
	if (rc)
		return rc;
	dg_reply_redirect(r, "/inbox");
	return DG_OK;
}

static dg_rc api_inbox(struct dg_req *r)
{
	int64_t page = 1;
	bool unread = false;
	json_t *data = NULL;
	dg_rc rc = read_query(r, &page, &unread);
	if (!rc)
		rc = list(r, page, unread, &data);
	if (rc)
		return rc;
	/* "when" is for pages; the API gives times as ms since the epoch */
	json_t *it;
	size_t i;
	json_array_foreach (json_object_get(data, "items"), i, it)
		json_object_del(it, "when");
	dg_reply_json(r, 200, data);
	return DG_OK;
}

/* The access policy of the inbox: any signed-in account, its own messages only. */
static const struct dg_route routes[] = {
	{"GET", "/inbox", inbox_page, DG_ROLE_USER, 0},
	{"GET", "/inbox/{id}", message_page, DG_ROLE_USER, 0},
	{"POST", "/inbox/{id}/read", mark_read, DG_ROLE_USER, 0},
	{"GET", "/api/v1/inbox", api_inbox, DG_ROLE_USER, 0},
};

const struct dg_route *dg_notify_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
