/*
 * whatif_routes.c - what-if for the owning department's staff:
 *
 *   /office/policies/{code}/whatif   the form: each parameter with its value
 *                                    now, a new value for any of them, and a
 *                                    sweep of one (GET; POST queues the job)
 *   /office/whatifs/{id}             the answer: per rule, by district (a
 *                                    chart and its table), who gains or loses,
 *                                    the sweep as a chart with its table
 *   /api/proactive/policies/{code}/whatif, /api/proactive/whatifs/{id}
 *                                    the same as JSON
 *
 * Staff of another department find neither (404). The work is a durable job
 * (whatif.c); the answer page says how far it is until it is done.
 */
#include "proactive/internal.h"

#include <stdio.h>
#include <string.h>

#include "core/keys.h"
#include "core/mem.h"
#include "core/str.h"
#include "rule/rule.h"
#include "web/chart.h"
#include "web/page.h"

/* The policy of the path when the requester may manage it; 404 otherwise. */
static dg_rc policy_of(struct dg_req *r, struct dg_db *db, const char **code)
{
	char *dept = NULL;
	bool ok = false;
	*code = dg_kvs_get(&r->params, "code");
	dg_rc rc = pr_policy_dept(db, *code, r->arena, &dept);
	if (!rc)
		rc = pr_may_manage(r, db, dept, &ok);
	if (rc == DG_ENOTFOUND || (!rc && !ok))
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "proactive.err.no_policy"));
	return rc;
}

/* The form, with data (stolen) carrying errors and what was entered. */
static dg_rc form_page(struct dg_req *r, struct dg_db *db, const char *code, unsigned status,
		       json_t *data)
{
	struct pr_version pv;
	dg_rc rc = pr_policy_version(db, r->arena, code, &pv);
	if (rc) {
		json_decref(data);
		return rc;
	}
	struct dg_program *p = pr_compile(r->env, code, pv.text, strlen(pv.text));
	json_t *params = pr_whatif_params(p, dg_day_today(), r->arena);
	dg_program_free(p);
	size_t i;
	json_t *o;
	json_array_foreach (params, i, o) {
		const char *name = json_string_value(json_object_get(o, "name"));
		const char *v = dg_kvs_get(&r->form, dg_arena_printf(r->arena, "p_%s", name));
		json_object_set_new(o, "entered", json_string(v ? v : ""));
		const char *sp = dg_kvs_get(&r->form, "sweep_param");
		json_object_set_new(o, "swept", json_boolean(sp && strcmp(sp, name) == 0));
	}
	json_object_set_new(data, "params", params);
	json_object_set_new(data, "code", json_string(code));
	json_object_set_new(data, "title",
			    json_string(dg_arena_printf(r->arena, "%s: %s",
							dg_t(r, "proactive.w.heading"), code)));
	json_object_set_new(data, "sweep_max", json_integer(PR_SWEEP_MAX));
	return dg_page(r, status, "proactive/whatif.html", data);
}

static dg_rc whatif_form(struct dg_req *r)
{
	struct dg_db *db = NULL;
	const char *code = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = policy_of(r, db, &code);
	if (rc)
		return rc;
	return form_page(r, db, code, 200, json_object());
}

/* What the form or the JSON body asks: the parameters set, and the sweep. */
static void asked(struct dg_req *r, json_t **sets, const char **sweep)
{
	if (r->json) {
		json_t *s = json_object_get(r->json, "set");
		*sets = json_is_array(s) ? json_incref(s) : json_array();
		*sweep = pr_input(r, "sweep");
		return;
	}
	*sets = json_array();
	for (size_t i = 0; i < r->form.n; i++) {
		const char *k = r->form.v[i].key, *v = r->form.v[i].val;
		if (strncmp(k, "p_", 2) != 0 || !v || !*v)
			continue;
		json_array_append_new(*sets,
				      json_string(dg_arena_printf(r->arena, "%s=%s", k + 2, v)));
	}
	const char *sp = pr_input(r, "sweep_param"), *from = pr_input(r, "sweep_from"),
		   *to = pr_input(r, "sweep_to"), *step = pr_input(r, "sweep_step");
	*sweep = sp && *sp ? dg_arena_printf(r->arena, "%s=%s..%s:%s", sp, from ? from : "",
					     to ? to : "", step ? step : "")
			   : NULL;
}

static dg_rc whatif_start(struct dg_req *r)
{
	struct dg_db *db = NULL;
	const char *code = NULL, *sweep = NULL;
	struct dg_err err = {0};
	json_t *sets = NULL;
	int64_t id = 0, job = 0;
	dg_day ref = 0;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = policy_of(r, db, &code);
	if (rc)
		return rc;
	const char *date = pr_input(r, "date");
	if (date && *date && dg_day_parse(date, &ref))
		dg_err_field(&err, DG_EINVAL, "date", "proactive.err.date");
	asked(r, &sets, &sweep);
	rc = err.msg[0] ? DG_EINVAL
			: pr_whatif_start(r->env, db, code, ref, sets, sweep, r->user->id, &id,
					  &job, &err);
	json_decref(sets);
	const char *msg = dg_t(r, err.msg[0] ? err.msg : "proactive.err.store");
	if (rc && r->api)
		return err.field[0] ? dg_err_field(&r->err, rc, err.field, "%s", msg)
				    : dg_err_set(&r->err, rc, "%s", msg);
	if (rc == DG_EINVAL || rc == DG_ECONFLICT) {
		json_t *data = json_object();
		dg_form_keep_values(r, data);
		dg_form_error(data, err.field[0] ? err.field : "set", msg);
		return form_page(r, db, code, dg_rc_form_status(rc), data);
	}
	if (rc)
		return dg_err_set(&r->err, rc, "%s", msg);
	const char *url = dg_arena_printf(r->arena, "/office/whatifs/%lld", (long long)id);
	if (r->api) {
		dg_reply_json(r, 202,
			      json_pack("{s:I,s:I,s:s,s:s}", "whatif", (json_int_t)id, "job",
					(json_int_t)job, "url", url, "job_url",
					dg_arena_printf(r->arena, "/jobs/%lld", (long long)job)));
		return DG_OK;
	}
	dg_reply_redirect(r, url);
	return DG_OK;
}

/* The what-if of the path with its answer opened, when the requester may see it (the
 * API's and the page's one loader). */
static dg_rc whatif_of(struct dg_req *r, json_t **out)
{
	int64_t id = 0;
	json_t *l = NULL;
	bool ok = false;
	struct dg_db *db = NULL;
	const char *ids = dg_kvs_get(&r->params, "id");
	if (!ids || dg_str_to_i64(dg_str_of(ids), &id) || id <= 0)
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "proactive.w.err.none"));
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = pr_rows_json(
			db,
			"SELECT w.id AS id, p.code AS policy, p.dept AS dept, w.version AS"
			" version, w.ref_date AS ref_date, w.sets AS sets, w.sweep AS sweep,"
			" w.state AS state, w.job_id AS job_id, w.error AS error, w.result"
			" AS result FROM pr_whatifs w JOIN pr_policies p ON p.id ="
			" w.policy_id WHERE w.id = ?",
			DG_ARGS(DG_VI(id)), &l);
	json_t *o = json_array_get(l, 0);
	if (!rc && o)
		rc = pr_may_manage(r, db, json_string_value(json_object_get(o, "dept")), &ok);
	if (!rc && (!o || !ok))
		rc = dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "proactive.w.err.none"));
	if (rc) {
		json_decref(l);
		return rc;
	}
	*out = json_incref(o);
	json_decref(l);
	json_object_del(*out, "dept");
	json_t *sets = json_loads(json_string_value(json_object_get(*out, "sets")), 0, NULL);
	json_object_set_new(*out, "sets", sets ? sets : json_array());
	const char *sealed = json_string_value(json_object_get(*out, "result"));
	char *plain = NULL;
	json_t *res = NULL;
	if (sealed && *sealed && dg_pii_open(&r->env->keys, r->arena, sealed, &plain) == DG_OK) {
		res = json_loads(plain, 0, NULL);
		dg_wipe(plain, strlen(plain));
	}
	json_object_set_new(*out, "result", res ? res : json_null());
	return DG_OK;
}

static dg_rc whatif_api(struct dg_req *r)
{
	json_t *o = NULL;
	dg_rc rc = whatif_of(r, &o);
	if (rc)
		return rc;
	/* the districts as a list, in the order of their codes */
	json_t *res = json_object_get(o, "result"), *list = json_array();
	const char *k;
	json_t *d;
	json_object_foreach (json_object_get(res, "by_district"), k, d)
		json_array_append(list, d);
	if (res)
		json_object_set_new(res, "by_district", list);
	else
		json_decref(list);
	dg_reply_json(r, 200, o);
	return DG_OK;
}

/* Fen as yuan text (a's). */
static const char *yuan(struct dg_req *r, int64_t fen)
{
	json_t *v = json_integer(fen), *y = pr_yuan(v);
	const char *s = dg_arena_strdup(r->arena, json_string_value(y));
	json_decref(v);
	json_decref(y);
	return s;
}

/* A chart for the page, or "" when it cannot be drawn (the table beside it stays). */
static const char *chart(struct dg_req *r, const char *id, const char *title, const char *desc,
			 const json_t *rows, const char *label_key, const char *key, bool line)
{
	const char *svg = pr_chart(r, id, title, desc, rows, label_key, key, line);
	return svg ? svg : "";
}

/* The answer shaped for the page: words in the reader's language, yuan, charts. */
static void shape(struct dg_req *r, json_t *res, json_t *data)
{
	bool en = r->lang && strcmp(r->lang, "en") == 0;
	size_t i;
	json_t *o;
	json_array_foreach (json_object_get(res, "rules"), i, o) {
		json_object_set(o, "name", json_object_get(o, en ? "name_en" : "name_zh"));
		json_t *fen = json_object_get(o, "amount_change_fen");
		if (json_is_integer(fen)) {
			json_object_set_new(o, "month",
					    json_string(yuan(r, json_integer_value(fen))));
			json_object_set_new(o, "year",
					    json_string(yuan(r, 12 * json_integer_value(fen))));
		}
	}
	json_t *districts = json_array();
	const char *k;
	json_object_foreach (json_object_get(res, "by_district"), k, o) {
		int64_t fen = json_integer_value(json_object_get(o, "month_fen"));
		json_object_set_new(o, "label",
				    json_string(*k ? k : dg_t(r, "proactive.t.no_district")));
		json_object_set_new(o, "year", json_string(yuan(r, 12 * fen)));
		json_object_set_new(o, "year_yuan", json_real((double)(12 * fen) / 100.0));
		json_array_append(districts, o);
	}
	json_object_set_new(data, "districts", districts);
	if (json_array_size(districts))
		json_object_set_new(
			data, "district_svg",
			json_string(chart(r, "whatif-district", dg_t(r, "proactive.w.by_district"),
					  dg_t(r, "proactive.w.by_district_desc"), districts,
					  "label", "year_yuan", false)));
	json_array_foreach (json_object_get(res, "people"), i, o) {
		const char *id = json_string_value(json_object_get(o, "id"));
		if (id && dg_id_number_valid(id))
			json_object_set_new(o, "id", json_string(dg_mask_id(r->arena, id)));
		const char *ch = json_string_value(json_object_get(o, "change"));
		json_object_set_new(
			o, "change_label",
			json_string(dg_t(r, dg_arena_printf(r->arena, "proactive.w.%s", ch))));
		json_object_set_new(
			o, "before",
			json_string(yuan(r, json_integer_value(json_object_get(o, "before_fen")))));
		json_object_set_new(
			o, "after",
			json_string(yuan(r, json_integer_value(json_object_get(o, "after_fen")))));
	}
	json_t *sweep = json_object_get(res, "sweep");
	json_t *points = json_object_get(sweep, "points");
	json_array_foreach (points, i, o)
		json_object_set_new(
			o, "n",
			json_real((double)json_integer_value(json_object_get(o, "eligible"))));
	if (sweep) {
		const char *title =
			dg_arena_printf(r->arena, "%s %s", dg_t(r, "proactive.w.sweep_of"),
					json_string_value(json_object_get(sweep, "param")));
		json_object_set_new(data, "sweep_title", json_string(title));
		json_object_set_new(data, "sweep_svg",
				    json_string(chart(r, "whatif-sweep", title,
						      dg_t(r, "proactive.w.sweep_desc"), points,
						      "value", "eligible", true)));
	}
}

static dg_rc whatif_page(struct dg_req *r)
{
	json_t *o = NULL;
	dg_rc rc = whatif_of(r, &o);
	if (rc)
		return rc;
	json_t *data = json_object();
	const char *state = json_string_value(json_object_get(o, "state"));
	json_object_set_new(data, "title",
			    json_string(dg_arena_printf(
				    r->arena, "%s %lld", dg_t(r, "proactive.w.result"),
				    (long long)json_integer_value(json_object_get(o, "id")))));
	json_object_set_new(
		data, "state_label",
		json_string(dg_t(r, dg_arena_printf(r->arena, "proactive.state.%s", state))));
	json_object_set_new(data, "done", json_boolean(strcmp(state, "done") == 0));
	json_t *res = json_object_get(o, "result");
	if (json_is_object(res))
		shape(r, res, data);
	json_object_set_new(data, "w", o);
	return dg_page(r, 200, "proactive/whatif_result.html", data);
}

#define STAFF (DG_ROLE_STAFF | DG_ROLE_ADMIN)

static const struct dg_route routes[] = {
	{"GET", "/office/policies/{code}/whatif", whatif_form, STAFF, 0},
	{"POST", "/office/policies/{code}/whatif", whatif_start, STAFF, 0},
	{"GET", "/office/whatifs/{id}", whatif_page, STAFF, 0},
	{"POST", "/api/proactive/policies/{code}/whatif", whatif_start, STAFF, 0},
	{"GET", "/api/proactive/whatifs/{id}", whatif_api, STAFF, 0},
};

const struct dg_route *pr_whatif_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
