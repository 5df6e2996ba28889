/*
 * takeup_routes.c - a policy's take-up as pages and a file:
 *
 *   /policies/{code}              the public summary (anyone): by district, over time
 *   /policies/{code}/takeup.csv   the same counts as CSV, one row per run and district
 *
 * and the same section on the staff page /office/policies/{code}
 * (pr_takeup_view). Each chart (web/chart.h) is drawn by the server and has
 * the table of its numbers beside it, which is the truth: a figure with its
 * caption, no script. Counts only (takeup.c).
 */
#include "proactive/internal.h"

#include <string.h>

#include "web/chart.h"
#include "web/page.h"

/* A district's name for people: its code, or "unknown" for records without one. */
static const char *district_label(struct dg_req *r, const char *d)
{
	return d && *d ? d : dg_t(r, "proactive.t.no_district");
}

/* The rows of one run (by district), and one row per run summed over its districts. */
static void split(const json_t *rows, int64_t shown, json_t *districts, json_t *runs)
{
	size_t i;
	json_t *o, *last = NULL;
	json_array_foreach (rows, i, o) {
		int64_t run = json_integer_value(json_object_get(o, "run"));
		if (run == shown)
			json_array_append(districts, o);
		if (!last || json_integer_value(json_object_get(last, "run")) != run) {
			last = json_pack("{s:I,s:O}", "run", (json_int_t)run, "ref_date",
					 json_object_get(o, "ref_date"));
			for (size_t c = 0; c < PR_TAKEUP_NCOLS; c++)
				json_object_set_new(last, pr_takeup_cols[c], json_integer(0));
			json_array_append_new(runs, last);
		}
		for (size_t c = 0; c < PR_TAKEUP_NCOLS; c++) {
			const char *k = pr_takeup_cols[c];
			json_object_set_new(
				last, k,
				json_integer(json_integer_value(json_object_get(last, k)) +
					     json_integer_value(json_object_get(o, k))));
		}
	}
}

const char *pr_chart(struct dg_req *r, const char *id, const char *title, const char *desc,
		     const json_t *rows, const char *label_key, const char *key, bool line)
{
	size_t n = json_array_size(rows);
	const char **labels = dg_arena_alloc(r->arena, (n + 1) * sizeof *labels);
	double *values = dg_arena_alloc(r->arena, (n + 1) * sizeof *values);
	size_t i;
	json_t *o;
	json_array_foreach (rows, i, o) {
		labels[i] = json_string_value(json_object_get(o, label_key));
		values[i] = json_number_value(json_object_get(o, key));
	}
	struct dg_buf svg;
	dg_buf_init(&svg, 256 * 1024);
	const char *out = NULL;
	if (!dg_chart_svg(&svg, id, title, desc, labels, values, n, line))
		out = dg_arena_strdup(r->arena, dg_buf_str(&svg));
	dg_buf_release(&svg);
	return out;
}

dg_rc pr_takeup_view(struct dg_req *r, struct dg_db *db, int64_t policy, const char *code,
		     json_t *data)
{
	json_t *rows = NULL;
	dg_rc rc = pr_takeup_rows(db, policy, &rows);
	if (rc)
		return rc;
	json_t *last = json_array_get(rows, json_array_size(rows) - 1);
	int64_t shown = last ? json_integer_value(json_object_get(last, "run")) : 0;
	json_t *districts = json_array(), *runs = json_array();
	split(rows, shown, districts, runs);
	json_decref(rows);
	size_t i;
	json_t *o;
	json_array_foreach (districts, i, o)
		json_object_set_new(o, "label",
				    json_string(district_label(
					    r, json_string_value(json_object_get(o, "district")))));
	json_t *t = json_pack("{s:o,s:o,s:s}", "districts", districts, "runs", runs, "csv",
			      dg_arena_printf(r->arena, "/policies/%s/takeup.csv", code));
	if (shown) {
		const char *ref = json_string_value(json_object_get(last, "ref_date"));
		const char *dt = dg_arena_printf(r->arena, "%s (%s)",
						 dg_t(r, "proactive.t.by_district"), ref);
		const char *dd = dg_arena_printf(r->arena, "%s %zu.", dg_t(r, "proactive.t.desc_d"),
						 json_array_size(districts));
		const char *rt = dg_t(r, "proactive.t.over_time");
		const char *rd = dg_arena_printf(r->arena, "%s %zu.", dg_t(r, "proactive.t.desc_t"),
						 json_array_size(runs));
		const char *sd = pr_chart(r, "takeup-district", dt, dd, districts, "label",
					  "not_receiving", false);
		const char *st =
			pr_chart(r, "takeup-time", rt, rd, runs, "ref_date", "eligible", true);
		if (!sd || !st) {
			json_decref(t);
			return dg_err_set(&r->err, DG_ETOOBIG, "%s",
					  dg_t(r, "proactive.err.store"));
		}
		json_object_set_new(t, "shown", json_integer(shown));
		json_object_set_new(t, "ref_date", json_string(ref));
		json_object_set_new(t, "district_title", json_string(dt));
		json_object_set_new(t, "district_desc", json_string(dd));
		json_object_set_new(t, "district_svg", json_string(sd));
		json_object_set_new(t, "time_title", json_string(rt));
		json_object_set_new(t, "time_desc", json_string(rd));
		json_object_set_new(t, "time_svg", json_string(st));
	}
	json_object_set_new(data, "takeup", t);
	return DG_OK;
}

/* The policy of the path: its id, and its code checked against the table. */
static dg_rc policy_of(struct dg_req *r, struct dg_db *db, const char **code, int64_t *id)
{
	*code = dg_kvs_get(&r->params, "code");
	dg_rc rc = pr_policy_id(db, *code, id);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(&r->err, rc, "%s", dg_t(r, "proactive.err.no_policy"));
	return rc;
}

/* /policies/{code}: the public summary of one policy's take-up. */
static dg_rc public_policy(struct dg_req *r)
{
	struct dg_db *db = NULL;
	const char *code = NULL;
	int64_t id = 0;
	json_t *l = NULL;
	bool en = r->lang && strcmp(r->lang, "en") == 0;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = policy_of(r, db, &code, &id);
	if (!rc)
		rc = pr_rows_json(
			db,
			en ? "SELECT v.names AS names, COALESCE(d.name_en, p.dept) AS dept,"
			     " p.item AS item, p.mode AS mode FROM pr_policies p JOIN"
			     " pr_versions v ON v.policy_id = p.id AND v.version = p.version"
			     " LEFT JOIN departments d ON d.code = p.dept WHERE p.id = ?"
			   : "SELECT v.names AS names, COALESCE(d.name_zh, p.dept) AS dept,"
			     " p.item AS item, p.mode AS mode FROM pr_policies p JOIN"
			     " pr_versions v ON v.policy_id = p.id AND v.version = p.version"
			     " LEFT JOIN departments d ON d.code = p.dept WHERE p.id = ?",
			DG_ARGS(DG_VI(id)), &l);
	json_t *data = json_object();
	if (!rc)
		rc = pr_takeup_view(r, db, id, code, data);
	if (rc) {
		json_decref(l);
		json_decref(data);
		return rc;
	}
	json_t *p = json_array_get(l, 0);
	json_t *names = json_loads(json_string_value(json_object_get(p, "names")), 0, NULL);
	json_t *shown = json_array();
	size_t i;
	json_t *n;
	json_array_foreach (names, i, n)
		json_array_append(shown, json_object_get(n, en ? "en" : "zh"));
	json_decref(names);
	json_object_set_new(data, "title",
			    json_string(dg_arena_printf(r->arena, "%s: %s",
							dg_t(r, "proactive.t.heading"), code)));
	json_object_set_new(data, "names", shown);
	json_object_set_new(data, "dept", json_incref(json_object_get(p, "dept")));
	json_object_set_new(data, "item", json_incref(json_object_get(p, "item")));
	json_object_set_new(
		data, "mode_label",
		json_string(
			dg_t(r, dg_arena_printf(r->arena, "proactive.mode.%s",
						json_string_value(json_object_get(p, "mode"))))));
	json_decref(l);
	return dg_page(r, 200, "proactive/takeup.html", data);
}

/* /policies/{code}/takeup.csv: every run's take-up by district. */
static dg_rc takeup_csv(struct dg_req *r)
{
	struct dg_db *db = NULL;
	const char *code = NULL;
	int64_t id = 0;
	json_t *rows = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = policy_of(r, db, &code, &id);
	if (!rc)
		rc = pr_takeup_rows(db, id, &rows);
	if (rc)
		return rc;
	struct dg_buf out;
	dg_buf_init(&out, (size_t)16 << 20);
	rc = pr_takeup_csv(rows, &out);
	json_decref(rows);
	if (!rc) {
		dg_reply_header(
			r, "Content-Disposition",
			dg_arena_printf(r->arena, "attachment; filename=\"takeup-%s.csv\"", code));
		dg_reply_buf(r, 200, "text/csv; charset=utf-8", &out);
	}
	dg_buf_release(&out);
	return rc;
}

static const struct dg_route routes[] = {
	{"GET", "/policies/{code}", public_policy, DG_ROLE_ANY, 0},
	{"GET", "/policies/{code}/takeup.csv", takeup_csv, DG_ROLE_ANY, 0},
};

const struct dg_route *pr_takeup_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
