/*
 * stats.c - the figures an open-data platform is judged by, from its
 * own rows: the scale (datasets, data interfaces, records) and the use
 * (views, downloads, API calls, in all and in the last 30 days) by
 * department and by theme, the ten most downloaded and most called
 * datasets, how many datasets nobody has downloaded yet, data requests
 * answered and open, and the showcase's apps. One builder feeds both the
 * page (/data/stats) and the JSON (/api/v1/opendata/stats), so they always
 * agree.
 *
 * Only datasets anyone may see (active, public, not of the closed tier) are
 * named or grouped; use that names no such dataset (a catalogue search, a
 * closed dataset read by its own department) counts in the totals only.
 * The counters are read with a handful of grouped queries whatever the
 * number of datasets.
 */
#include "opendata/pages/pages_int.h"

#include <stdio.h>
#include <string.h>

#include "node/env.h"
#include "core/date.h"
#include "core/log.h"
#include "opendata/access/access.h"
#include "web/page.h"

#define TOP_N       "10" /* datasets in each "most used" list */
#define RECENT_DAYS 30

#define VISIBLE "p.state = 'active' AND p.private = 0 AND p.tier <> 'closed'"

/* Sums of the counters per kind, in all and since the day bound as the only parameter. */
#define USE_SUMS                                                                                   \
	" SUM(CASE WHEN c.kind = 'view' THEN c.n ELSE 0 END),"                                     \
	" SUM(CASE WHEN c.kind = 'download' THEN c.n ELSE 0 END),"                                 \
	" SUM(CASE WHEN c.kind = 'call' THEN c.n ELSE 0 END),"                                     \
	" SUM(CASE WHEN c.kind = 'view' AND c.day >= ? THEN c.n ELSE 0 END),"                      \
	" SUM(CASE WHEN c.kind = 'download' AND c.day >= ? THEN c.n ELSE 0 END),"                  \
	" SUM(CASE WHEN c.kind = 'call' AND c.day >= ? THEN c.n ELSE 0 END)"

static const char sql_use_total[] = "SELECT 'all'," USE_SUMS " FROM od_counters c";

/* %s: the grouping column (fixed expressions of this file, never input) */
static const char sql_use_by[] =
	"SELECT %s," USE_SUMS " FROM od_counters c JOIN od_packages p ON p.id = c.package_id"
	" WHERE " VISIBLE " GROUP BY %s ORDER BY 3 DESC, 4 DESC, %s";

static const char sql_scale_by[] =
	"SELECT %s, COUNT(DISTINCT p.id), COUNT(t.resource_id), COALESCE(SUM(t.row_count), 0)"
	" FROM od_packages p LEFT JOIN od_resources r ON r.package_id = p.id"
	" LEFT JOIN datastore_tables t ON t.resource_id = r.id WHERE " VISIBLE
	" GROUP BY %s ORDER BY COUNT(DISTINCT p.id) DESC, %s";

/* ?: the kind */
static const char sql_top[] =
	"SELECT p.name, p.title, SUM(c.n) FROM od_counters c"
	" JOIN od_packages p ON p.id = c.package_id WHERE " VISIBLE " AND c.kind = ?"
	" GROUP BY p.id, p.name, p.title HAVING SUM(c.n) > 0 ORDER BY 3 DESC, p.name LIMIT " TOP_N;

static const char sql_never_downloaded[] =
	"SELECT COUNT(*) FROM od_packages p WHERE " VISIBLE " AND NOT EXISTS"
	" (SELECT 1 FROM od_counters c WHERE c.package_id = p.id AND c.kind = 'download'"
	" AND c.n > 0)";

static const char sql_requests[] =
	"SELECT COALESCE(SUM(CASE WHEN status = 'open' THEN 0 ELSE 1 END), 0),"
	" COALESCE(SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END), 0) FROM od_requests";

static const char sql_showcase[] = "SELECT COUNT(*) FROM od_showcase WHERE approved = 1";

static const char *const use_keys[] = {"views",     "downloads",     "calls",
				       "views_30d", "downloads_30d", "calls_30d"};

/* Departments' names by code in the reader's language. */
static dg_rc dept_names(struct dg_req *r, struct dg_db *db, json_t **out)
{
	struct dg_rows *rows = NULL;
	dg_rc rc =
		dg_db_query(db, "SELECT code, name_zh, name_en FROM departments", DG_NOARGS, &rows);
	if (rc)
		return rc;
	dg_rows_defer(rows, r->arena);
	json_t *m = json_object();
	bool en = strcmp(r->lang, "en") == 0;
	while ((rc = dg_rows_next(rows)) == DG_OK)
		json_object_set_new(m, dg_rows_text(rows, 0),
				    json_string(dg_rows_text(rows, en ? 2 : 1)));
	if (rc != DG_ENOTFOUND) {
		json_decref(m);
		return rc;
	}
	*out = m;
	return DG_OK;
}

/*
 * Each theme's group name (its current name, catalog/names.c) by theme:
 * the ASCII name that /data's links carry. A theme without one is its own
 * name, which is how group_row() reads an absent key.
 */
static dg_rc theme_names(struct dg_req *r, struct dg_db *db, json_t **out)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(
		db, "SELECT id, name FROM od_group_names WHERE is_org = 0 AND current = 1",
		DG_NOARGS, &rows);
	if (rc)
		return rc;
	dg_rows_defer(rows, r->arena);
	json_t *m = json_object();
	while ((rc = dg_rows_next(rows)) == DG_OK)
		json_object_set_new(m, dg_rows_text(rows, 0), json_string(dg_rows_text(rows, 1)));
	if (rc != DG_ENOTFOUND) {
		json_decref(m);
		return rc;
	}
	*out = m;
	return DG_OK;
}

/*
 * {"key", "label"} of a group's row: departments by name, themes by their
 * names in r's language and with "name", their group's name (from
 * themes, theme_names()'s map) to link them by.
 */
static json_t *group_row(struct dg_req *r, json_t *names, json_t *themes, const char *key)
{
	const char *label =
		names ? json_string_value(json_object_get(names, key)) : dg_od_theme_label(r, key);
	json_t *o = json_pack("{s:s, s:s}", "key", key, "label", label ? label : key);
	if (themes) {
		const char *name = json_string_value(json_object_get(themes, key));
		json_object_set_new(o, "name", json_string(name ? name : key));
	}
	return o;
}

/*
 * Rows of sql (one text column, then integers named keys[]) into a list of
 * objects; themes (or NULL) as group_row() takes it.
 */
static dg_rc grouped(struct dg_req *r, struct dg_db *db, const char *sql, const struct dg_val *args,
		     size_t nargs, json_t *names, json_t *themes, const char *const *keys,
		     size_t nkeys, json_t **out)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, sql, args, nargs, &rows);
	if (rc)
		return rc;
	dg_rows_defer(rows, r->arena);
	json_t *list = json_array();
	while ((rc = dg_rows_next(rows)) == DG_OK) {
		json_t *o = group_row(r, names, themes, dg_rows_text(rows, 0));
		for (size_t i = 0; i < nkeys; i++)
			json_object_set_new(o, keys[i],
					    json_integer(dg_rows_int(rows, (int)i + 1)));
		json_array_append_new(list, o);
	}
	if (rc != DG_ENOTFOUND) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return DG_OK;
}

static dg_rc scale_by(struct dg_req *r, struct dg_db *db, const char *col, json_t *names,
		      json_t *themes, json_t **out)
{
	static const char *const keys[] = {"datasets", "tables", "records"};
	const char *sql = dg_arena_printf(r->arena, sql_scale_by, col, col, col);
	return grouped(r, db, sql, DG_NOARGS, names, themes, keys, 3, out);
}

static dg_rc use_by(struct dg_req *r, struct dg_db *db, const char *sql, const char *since,
		    json_t *names, json_t *themes, json_t **out)
{
	return grouped(r, db, sql, DG_ARGS(DG_VT(since), DG_VT(since), DG_VT(since)), names, themes,
		       use_keys, 6, out);
}

static dg_rc top(struct dg_req *r, struct dg_db *db, const char *kind, json_t **out)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, sql_top, DG_ARGS(DG_VT(kind)), &rows);
	if (rc)
		return rc;
	dg_rows_defer(rows, r->arena);
	json_t *list = json_array();
	while ((rc = dg_rows_next(rows)) == DG_OK)
		json_array_append_new(list,
				      json_pack("{s:s, s:s, s:I}", "name", dg_rows_text(rows, 0),
						"title", dg_rows_text(rows, 1), "count",
						(json_int_t)dg_rows_int(rows, 2)));
	if (rc != DG_ENOTFOUND) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return DG_OK;
}

/* The two integers of sql's one row. */
static dg_rc two_ints(struct dg_req *r, struct dg_db *db, const char *sql, int64_t *a, int64_t *b)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, sql, DG_NOARGS, &rows);
	if (rc)
		return rc;
	dg_rows_defer(rows, r->arena);
	if (!(rc = dg_rows_next(rows)))
		*a = dg_rows_int(rows, 0), *b = dg_rows_int(rows, 1);
	return rc;
}

/* The sums of the scale rows: every visible dataset is in exactly one department row. */
static json_t *scale_totals(json_t *by_dept)
{
	json_int_t n = 0, tables = 0, records = 0;
	json_t *row;
	size_t i;
	json_array_foreach (by_dept, i, row) {
		n += json_integer_value(json_object_get(row, "datasets"));
		tables += json_integer_value(json_object_get(row, "tables"));
		records += json_integer_value(json_object_get(row, "records"));
	}
	return json_pack("{s:I, s:I, s:I}", "datasets", n, "tables", tables, "records", records);
}

/*
 * Every figure of the statistics into *out (owned by the caller): scale,
 * use, top_downloaded, top_called, never_downloaded, requests, showcase.
 */
static dg_rc stats_build(struct dg_req *r, struct dg_db *db, json_t **out)
{
	json_t *names = NULL, *themes = NULL, *s = json_object(), *v = NULL, *list = NULL;
	int64_t n = 0, answered = 0, open = 0;
	char since[11];
	dg_day_format((dg_day)(dg_now_ms() / 86400000) - (RECENT_DAYS - 1), since);
	dg_rc rc = dept_names(r, db, &names);
	if (!rc)
		rc = theme_names(r, db, &themes);
	if (!rc && !(rc = scale_by(r, db, "p.owner_dept", names, NULL, &v))) {
		json_object_set_new(
			s, "scale",
			json_pack("{s:o, s:o}", "total", scale_totals(v), "by_dept", v));
		rc = scale_by(r, db, "p.theme", NULL, themes, &v);
		if (!rc)
			json_object_set_new(json_object_get(s, "scale"), "by_theme", v);
	}
	if (!rc && !(rc = use_by(r, db, sql_use_total, since, NULL, NULL, &list))) {
		json_t *total = json_array_get(list, 0);
		json_object_del(total, "key");
		json_object_del(total, "label");
		json_object_set_new(s, "use",
				    json_pack("{s:s, s:O}", "since", since, "total", total));
		json_decref(list);
	}
	if (!rc && !(rc = use_by(r, db,
				 dg_arena_printf(r->arena, sql_use_by, "p.owner_dept",
						 "p.owner_dept", "p.owner_dept"),
				 since, names, NULL, &v)))
		json_object_set_new(json_object_get(s, "use"), "by_dept", v);
	if (!rc &&
	    !(rc = use_by(r, db,
			  dg_arena_printf(r->arena, sql_use_by, "p.theme", "p.theme", "p.theme"),
			  since, NULL, themes, &v)))
		json_object_set_new(json_object_get(s, "use"), "by_theme", v);
	if (!rc && !(rc = top(r, db, "download", &v)))
		json_object_set_new(s, "top_downloaded", v);
	if (!rc && !(rc = top(r, db, "call", &v)))
		json_object_set_new(s, "top_called", v);
	if (!rc && !(rc = dg_db_query_int(db, sql_never_downloaded, DG_NOARGS, &n)))
		json_object_set_new(s, "never_downloaded", json_integer(n));
	if (!rc && !(rc = two_ints(r, db, sql_requests, &answered, &open)))
		json_object_set_new(s, "requests",
				    json_pack("{s:I, s:I}", "answered", (json_int_t)answered,
					      "open", (json_int_t)open));
	if (!rc && !(rc = dg_db_query_int(db, sql_showcase, DG_NOARGS, &n)))
		json_object_set_new(s, "showcase", json_pack("{s:I}", "apps", (json_int_t)n));
	json_decref(names);
	json_decref(themes);
	if (rc) {
		json_decref(s);
		return rc;
	}
	*out = s;
	return DG_OK;
}

/* The page's copy of the figures: every integer as text with grouped digits. */
static json_t *for_reading(struct dg_req *r, json_t *j)
{
	const char *k;
	json_t *v, *o;
	size_t i;
	switch (json_typeof(j)) {
	case JSON_INTEGER: return json_string(dg_count_text(r, json_integer_value(j)));
	case JSON_OBJECT:
		o = json_object();
		json_object_foreach (j, k, v)
			json_object_set_new(o, k, for_reading(r, v));
		return o;
	case JSON_ARRAY:
		o = json_array();
		json_array_foreach (j, i, v)
			json_array_append_new(o, for_reading(r, v));
		return o;
	default: return json_incref(j);
	}
}

/* The figures for r, with "days"; on failure r->err is set and rc returned. */
static dg_rc stats_of(struct dg_req *r, json_t **out)
{
	struct dg_db *db = NULL;
	dg_rc rc = dg_req_db(r, &db);
	/* this node's uses so far, which it holds for up to a second */
	if (!rc && dg_od_usage_flush(r, db) != DG_OK)
		dg_warn("req=%s the uses held in memory could not be written", r->id);
	if (!rc)
		rc = stats_build(r, db, out);
	if (rc)
		return dg_err_set(&r->err, rc, "%s", dg_t(r, "error.store_busy"));
	json_object_set_new(*out, "days", json_integer(RECENT_DAYS));
	return DG_OK;
}

dg_rc dg_od_stats_page(struct dg_req *r)
{
	json_t *s = NULL;
	dg_rc rc = stats_of(r, &s);
	if (rc)
		return rc;
	json_t *d = for_reading(r, s);
	json_decref(s);
	json_object_set_new(d, "nav", json_string("stats"));
	json_object_set_new(d, "title", json_string(dg_t(r, "odp.stats.title")));
	return dg_page(r, 200, "data/stats.html", d);
}

dg_rc dg_od_stats_api(struct dg_req *r)
{
	json_t *s = NULL;
	dg_rc rc = stats_of(r, &s);
	if (rc)
		return rc;
	dg_reply_json(r, 200, s);
	return DG_OK;
}
