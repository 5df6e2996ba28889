/*
 * routes.c - the proactive services for people and programs:
 *
 *   /office/policies                  policies, and the form to publish one (staff)
 *   /office/policies/{code}           versions, runs, the run button, the matches
 *   /api/proactive/policies...        the same as JSON: publish, start a run
 *   /api/proactive/runs/{id}/matches  the truth API: a run's answers, paged
 *   /my/benefits                      a resident's answers, with the reasons
 *
 * Staff see every policy; the owning department's staff (or an
 * administrator) publish it, run it and see who matched. Every word on a
 * page comes from templates/i18n/proactive.*.json. The route table at the
 * end is the access policy.
 */
#include "proactive/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "core/keys.h"
#include "core/mem.h"
#include "core/str.h"
#include "web/page.h"

#define MATCH_PAGE 50 /* answers on a page of the office view */

/* A field from the JSON body (API) or the form (page); NULL when absent. */
const char *pr_input(struct dg_req *r, const char *name)
{
	if (r->json) {
		json_t *v = json_object_get(r->json, name);
		return json_is_string(v) ? json_string_value(v) : NULL;
	}
	return dg_kvs_get(&r->form, name);
}

static bool is_admin(const struct dg_req *r)
{
	return r->user && r->user->role == DG_ROLE_ADMIN;
}

/* Rows as objects named by their columns: integers as numbers, the rest as text. */
dg_rc pr_rows_json(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs,
		   json_t **out)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, sql, args, nargs, &rows);
	*out = json_array();
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		json_t *o = json_object();
		for (int i = 0; i < dg_rows_ncols(rows); i++) {
			const char *k = dg_rows_colname(rows, i);
			if (dg_rows_isnull(rows, i))
				json_object_set_new(o, k, json_null());
			else if (dg_rows_vtype(rows, i) == DG_V_INT)
				json_object_set_new(o, k, json_integer(dg_rows_int(rows, i)));
			else
				json_object_set_new(o, k, json_string(dg_rows_text(rows, i)));
		}
		json_array_append_new(*out, o);
	}
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

/* Fen as yuan with two decimals, for JSON and pages. */
json_t *pr_yuan(json_t *fen)
{
	if (!json_is_integer(fen))
		return json_null();
	json_int_t v = json_integer_value(fen);
	char s[32];
	snprintf(s, sizeof s, "%s%lld.%02lld", v < 0 ? "-" : "", (long long)(v < 0 ? -v : v) / 100,
		 (long long)(v < 0 ? -v : v) % 100);
	return json_string(s);
}

/* Each text column named in keys parsed as JSON in place. */
static void parse_cols(json_t *list, const char *const *keys)
{
	size_t i;
	json_t *o;
	json_array_foreach (list, i, o) {
		for (const char *const *k = keys; *k; k++) {
			const char *s = json_string_value(json_object_get(o, *k));
			json_t *v = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
			json_object_set_new(o, *k, v ? v : json_null());
		}
	}
}

/*
 * Each sealed column named in keys (core/keys.h) opened and parsed as JSON in
 * place; null when it does not open. An absent record's answer keeps the
 * columns' clear defaults ("[]", "{}"), which a sealed text never starts with.
 */
static void open_cols(struct dg_req *r, json_t *list, const char *const *keys)
{
	size_t i;
	json_t *o;
	json_array_foreach (list, i, o) {
		for (const char *const *k = keys; *k; k++) {
			const char *s = json_string_value(json_object_get(o, *k));
			char *plain = NULL;
			json_t *v = NULL;
			if (s && (*s == '[' || *s == '{')) {
				v = json_loads(s, JSON_DECODE_ANY, NULL);
			} else if (s && dg_pii_open(&r->env->keys, r->arena, s, &plain) == DG_OK) {
				v = json_loads(plain, JSON_DECODE_ANY, NULL);
				dg_wipe(plain, strlen(plain));
			}
			json_object_set_new(o, *k, v ? v : json_null());
		}
	}
}

/* --- policies --- */

static const char SQL_POLICIES[] =
	"SELECT p.code AS code, p.dept AS dept, p.item AS item, p.mode AS mode,"
	" p.schedule AS schedule, p.version AS version, p.current_run AS current_run,"
	" p.running_run AS running_run, v.effective AS effective, v.rules AS rules,"
	" v.tests_passed AS tests_passed FROM pr_policies p JOIN pr_versions v ON"
	" v.policy_id = p.id AND v.version = p.version";

/* One policy with its versions and latest runs; ENOTFOUND when there is none. */
static dg_rc policy_json(struct dg_req *r, struct dg_db *db, const char *code, json_t **out)
{
	json_t *l = NULL, *versions = NULL, *runs = NULL;
	*out = NULL;
	dg_rc rc = pr_rows_json(db, dg_arena_printf(r->arena, "%s WHERE p.code = ?", SQL_POLICIES),
				DG_ARGS(DG_VT(code)), &l);
	if (!rc && json_array_size(l) == 0)
		rc = dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "proactive.err.no_policy"));
	if (!rc)
		rc = pr_rows_json(
			db,
			"SELECT v.version AS version, v.effective AS effective, v.rules AS"
			" rules, v.tests_passed AS tests_passed, v.published_by AS"
			" published_by, v.published_ms AS published_ms FROM pr_versions v"
			" JOIN pr_policies p ON p.id = v.policy_id WHERE p.code = ?"
			" ORDER BY v.version DESC",
			DG_ARGS(DG_VT(code)), &versions);
	if (!rc)
		rc = pr_rows_json(
			db,
			"SELECT r.id AS id, r.version AS version, r.job_id AS job_id,"
			" r.ref_date AS ref_date, r.state AS state, r.source AS source,"
			" r.error AS error, r.counts AS counts, r.created_ms AS created_ms,"
			" r.finished_ms AS finished_ms FROM pr_runs r JOIN pr_policies p"
			" ON p.id = r.policy_id WHERE p.code = ? ORDER BY r.id DESC LIMIT 20",
			DG_ARGS(DG_VT(code)), &runs);
	if (rc) {
		json_decref(l);
		json_decref(versions);
		json_decref(runs);
		return rc;
	}
	static const char *const cols[] = {"counts", NULL};
	parse_cols(runs, cols);
	*out = json_incref(json_array_get(l, 0));
	json_decref(l);
	json_object_set_new(*out, "versions", versions);
	json_object_set_new(*out, "runs", runs);
	return DG_OK;
}

/* Whether the requester may publish, run and see the matches of a policy of dept. */
dg_rc pr_may_manage(struct dg_req *r, struct dg_db *db, const char *dept, bool *ok)
{
	const char *mine = "";
	dg_rc rc = dg_auth_dept_code(r, db, &mine);
	*ok = !rc && (is_admin(r) || (mine[0] && dept && strcmp(mine, dept) == 0));
	return rc;
}

static dg_rc policies_api(struct dg_req *r)
{
	struct dg_db *db = NULL;
	json_t *l = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = pr_rows_json(db, dg_arena_printf(r->arena, "%s ORDER BY p.code", SQL_POLICIES),
				  DG_NOARGS, &l);
	if (rc)
		return rc;
	dg_reply_json(r, 200, json_pack("{s:o}", "policies", l));
	return DG_OK;
}

static dg_rc policy_api(struct dg_req *r)
{
	struct dg_db *db = NULL;
	json_t *p = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = policy_json(r, db, dg_kvs_get(&r->params, "code"), &p);
	if (rc)
		return rc;
	dg_reply_json(r, 200, p);
	return DG_OK;
}

/* The list and the publish form; data (stolen) may carry errors and values. */
static dg_rc policies_page_with(struct dg_req *r, unsigned status, json_t *data)
{
	struct dg_db *db = NULL;
	json_t *l = NULL;
	const char *mine = "";
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = pr_rows_json(db, dg_arena_printf(r->arena, "%s ORDER BY p.code", SQL_POLICIES),
				  DG_NOARGS, &l);
	if (!rc)
		rc = dg_auth_dept_code(r, db, &mine);
	if (rc) {
		json_decref(data);
		return rc;
	}
	size_t i;
	json_t *o;
	json_array_foreach (l, i, o)
		json_object_set_new(
			o, "mode_label",
			json_string(dg_t(r, dg_arena_printf(r->arena, "proactive.mode.%s",
							    json_string_value(
								    json_object_get(o, "mode"))))));
	json_object_set_new(data, "policies", l);
	json_t *values = json_object_get(data, "values");
	if (!values) {
		values = json_object();
		json_object_set_new(values, "dept", json_string(mine));
		json_object_set_new(values, "mode", json_string("notify"));
		json_object_set_new(data, "values", values);
	}
	const char *mode = json_string_value(json_object_get(values, "mode"));
	json_t *modes = json_array();
	static const char *const names[] = {"notify", "apply", "grant"};
	for (int k = 0; k < 3; k++)
		json_array_append_new(
			modes,
			json_pack("{s:s,s:s,s:b}", "value", names[k], "label",
				  dg_t(r, dg_arena_printf(r->arena, "proactive.mode.%s", names[k])),
				  "selected", mode && strcmp(mode, names[k]) == 0));
	json_object_set_new(data, "modes", modes);
	const char *title = dg_t(r, "proactive.list.heading");
	if (json_object_get(data, "errors"))
		title = dg_arena_printf(r->arena, "%s %s", dg_t(r, "proactive.error_prefix"),
					title);
	json_object_set_new(data, "title", json_string(title));
	return dg_page(r, status, "proactive/policies.html", data);
}

static dg_rc policies_page(struct dg_req *r)
{
	json_t *data = json_object();
	const char *done = dg_kvs_get(&r->query, "published");
	if (done && *done)
		json_object_set_new(data, "published", json_string(done));
	return policies_page_with(r, 200, data);
}

static dg_rc publish(struct dg_req *r)
{
	struct dg_db *db = NULL;
	const char *mine = "";
	struct dg_err err = {0};
	json_t *errors = NULL;
	int64_t version = 0;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_auth_dept_code(r, db, &mine);
	if (rc)
		return rc;
	struct pr_publish in = {
		.code = pr_input(r, "code"),
		.dept = pr_input(r, "dept"),
		.item = pr_input(r, "item"),
		.mode = pr_input(r, "mode"),
		.effective = pr_input(r, "effective"),
		.rule = pr_input(r, "rule"),
		.tests = pr_input(r, "tests"),
		.schedule = pr_input(r, "schedule"),
		.user_id = r->user->id,
		.user_dept = mine,
		.admin = is_admin(r),
	};
	rc = pr_publish(r->env, db, &in, &errors, &version, &err);
	const char *msg = err.msg[0] ? dg_t(r, err.msg) : "";
	if (r->api) {
		if (rc) {
			json_t *e =
				json_pack("{s:{s:s,s:s,s:s,s:o}}", "error", "code", dg_rc_name(rc),
					  "message", msg, "field", err.field, "errors", errors);
			dg_reply_json(r, dg_rc_form_status(rc), e);
			return DG_OK;
		}
		json_decref(errors);
		dg_reply_json(
			r, 201,
			json_pack("{s:s,s:I}", "code", in.code, "version", (json_int_t)version));
		return DG_OK;
	}
	if (rc == DG_EINVAL || rc == DG_ETOOBIG || rc == DG_EDENIED) {
		json_t *data = json_object();
		dg_form_keep_values(r, data);
		dg_form_error(data, err.field[0] ? err.field : "code", msg);
		json_object_set_new(data, "problems", errors);
		return policies_page_with(r, dg_rc_form_status(rc), data);
	}
	json_decref(errors);
	if (rc)
		return dg_err_set(&r->err, rc, "%s", msg);
	dg_reply_redirect(r, dg_arena_printf(r->arena, "/office/policies/%s?published=%lld",
					     in.code, (long long)version));
	return DG_OK;
}

/* --- runs --- */

static dg_rc start_run(struct dg_req *r)
{
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	char *dept = NULL;
	bool ok = false;
	int64_t run = 0, job = 0;
	dg_day ref = 0;
	const char *code = dg_kvs_get(&r->params, "code");
	dg_rc rc = dg_req_db(r, &db);
	if (rc)
		return rc;
	rc = pr_policy_dept(db, code, r->arena, &dept);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(&r->err, rc, "%s", dg_t(r, "proactive.err.no_policy"));
	if (!rc)
		rc = pr_may_manage(r, db, dept, &ok);
	if (rc)
		return rc;
	if (!ok)
		return dg_err_set(&r->err, DG_EDENIED, "%s", dg_t(r, "proactive.err.not_yours"));
	const char *date = pr_input(r, "date");
	if (date && *date && dg_day_parse(date, &ref))
		return dg_err_field(&r->err, DG_EINVAL, "date", "%s",
				    dg_t(r, "proactive.err.date"));
	/* a full run: every record answered afresh ({"full": true}, or the form's box) */
	json_t *fj = r->json ? json_object_get(r->json, "full") : NULL;
	const char *fs = r->json ? NULL : pr_input(r, "full");
	if (fj && !json_is_boolean(fj))
		return dg_err_field(&r->err, DG_EINVAL, "full", "%s",
				    dg_t(r, "proactive.err.full"));
	bool full = json_is_true(fj) || (fs && strcmp(fs, "1") == 0);
	rc = pr_run_start(db, code, ref, full, r->user->id, &run, &job, &err);
	if (rc)
		return dg_err_set(&r->err, rc, "%s", dg_t(r, err.msg));
	if (r->api) {
		dg_reply_json(r, 202,
			      json_pack("{s:I,s:I,s:s}", "run", (json_int_t)run, "job",
					(json_int_t)job, "job_url",
					dg_arena_printf(r->arena, "/jobs/%lld", (long long)job)));
		return DG_OK;
	}
	dg_reply_redirect(r, dg_arena_printf(r->arena, "/jobs/%lld", (long long)job));
	return DG_OK;
}

/* The run's policy, after checking the requester may see its matches. */
static dg_rc run_of(struct dg_req *r, struct dg_db *db, int64_t *run, json_t **out)
{
	const char *ids = dg_kvs_get(&r->params, "id");
	json_t *l = NULL;
	bool ok = false;
	if (!ids || dg_str_to_i64(dg_str_of(ids), run) || *run <= 0)
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "proactive.err.no_run"));
	dg_rc rc = pr_rows_json(db,
				"SELECT r.id AS id, p.code AS policy, p.dept AS dept, r.version AS"
				" version, r.ref_date AS ref_date, r.state AS state, r.source AS"
				" source, r.error AS error, r.counts AS counts, r.job_id AS job_id,"
				" p.current_run AS current_run FROM pr_runs r JOIN pr_policies p"
				" ON p.id = r.policy_id WHERE r.id = ?",
				DG_ARGS(DG_VI(*run)), &l);
	if (!rc && json_array_size(l) == 0)
		rc = dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "proactive.err.no_run"));
	if (!rc)
		rc = pr_may_manage(r, db,
				   json_string_value(json_object_get(json_array_get(l, 0), "dept")),
				   &ok);
	if (!rc && !ok)
		rc = dg_err_set(&r->err, DG_EDENIED, "%s", dg_t(r, "proactive.err.not_yours"));
	if (rc) {
		json_decref(l);
		return rc;
	}
	static const char *const cols[] = {"counts", NULL};
	parse_cols(l, cols);
	*out = json_incref(json_array_get(l, 0));
	json_object_set_new(
		*out, "current",
		json_boolean(json_integer_value(json_object_get(*out, "current_run")) == *run));
	json_object_del(*out, "current_run");
	json_decref(l);
	return DG_OK;
}

static dg_rc run_api(struct dg_req *r)
{
	struct dg_db *db = NULL;
	int64_t run = 0;
	json_t *o = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = run_of(r, db, &run, &o);
	if (rc)
		return rc;
	dg_reply_json(r, 200, o);
	return DG_OK;
}

/* A positive number from the query, def when absent; EINVAL past max or malformed. */
static dg_rc query_num(struct dg_req *r, const char *name, int64_t def, int64_t max, int64_t *out)
{
	const char *s = dg_kvs_get(&r->query, name);
	*out = def;
	if (!s || !*s)
		return DG_OK;
	if (dg_str_to_i64(dg_str_of(s), out) || *out < 1 || *out > max)
		return dg_err_field(&r->err, DG_EINVAL, name, "%s",
				    dg_t(r, dg_arena_printf(r->arena, "proactive.err.%s", name)));
	return DG_OK;
}

/* One page of a run's answers, filtered by rule, outcome and change. */
static dg_rc matches_json(struct dg_req *r, struct dg_db *db, int64_t run, int64_t page,
			  int64_t per, bool explain, json_t **list, int64_t *total)
{
	const char *rule = dg_kvs_get(&r->query, "rule");
	const char *outcome = dg_kvs_get(&r->query, "outcome");
	const char *change = dg_kvs_get(&r->query, "change");
	rule = rule && *rule ? rule : NULL;
	outcome = outcome && *outcome ? outcome : NULL;
	change = change && *change ? change : NULL;
	const char *where = " WHERE run_id = ? AND (CAST(? AS TEXT) IS NULL OR rule = ?) AND "
			    "(CAST(? AS TEXT) IS NULL OR"
			    " outcome = ?) AND (CAST(? AS TEXT) IS NULL OR change = ?)";
	dg_rc rc = dg_db_query_int(
		db, dg_arena_printf(r->arena, "SELECT COUNT(*) FROM pr_results%s", where),
		DG_ARGS(DG_VI(run), DG_VT(rule), DG_VT(rule), DG_VT(outcome), DG_VT(outcome),
			DG_VT(change), DG_VT(change)),
		total);
	if (!rc)
		rc = pr_rows_json(
			db,
			dg_arena_printf(
				r->arena,
				"SELECT rule, ent AS entity, rid_sealed AS id, outcome, amount,"
				" blocking, missing, change%s FROM pr_results%s ORDER BY"
				" rule, rid LIMIT ? OFFSET ?",
				explain ? ", explain" : "", where),
			DG_ARGS(DG_VI(run), DG_VT(rule), DG_VT(rule), DG_VT(outcome),
				DG_VT(outcome), DG_VT(change), DG_VT(change), DG_VI(per),
				DG_VI((page - 1) * per)),
			list);
	if (rc)
		return rc;
	static const char *const cols[] = {"blocking", "missing", NULL};
	static const char *const cols_ex[] = {"blocking", "missing", "explain", NULL};
	open_cols(r, *list, explain ? cols_ex : cols);
	size_t i;
	json_t *o;
	json_array_foreach (*list, i, o) {
		char *id = NULL;
		if (dg_pii_open(&r->env->keys, r->arena,
				json_string_value(json_object_get(o, "id")), &id) != DG_OK)
			id = NULL;
		json_object_set_new(o, "id", id ? json_string(id) : json_null());
		json_object_set_new(o, "amount_fen", json_incref(json_object_get(o, "amount")));
		json_object_set_new(o, "amount", pr_yuan(json_object_get(o, "amount")));
	}
	return DG_OK;
}

/*
 * The truth API: GET /api/proactive/runs/{id}/matches?rule=&outcome=&change=
 * &page=&per_page=&explain=1. Pages past the end are empty.
 */
static dg_rc matches_api(struct dg_req *r)
{
	struct dg_db *db = NULL;
	int64_t run = 0, page = 1, per = 100, total = 0;
	json_t *o = NULL, *list = NULL;
	const char *ex = dg_kvs_get(&r->query, "explain");
	dg_rc rc = query_num(r, "page", 1, INT32_MAX, &page);
	if (!rc)
		rc = query_num(r, "per_page", 100, PR_PAGE_MAX, &per);
	if (!rc)
		rc = dg_req_db(r, &db);
	if (!rc)
		rc = run_of(r, db, &run, &o);
	if (!rc)
		rc = matches_json(r, db, run, page, per, ex && strcmp(ex, "1") == 0, &list, &total);
	if (rc) {
		json_decref(o);
		return rc;
	}
	json_object_set_new(o, "total", json_integer(total));
	json_object_set_new(o, "page", json_integer(page));
	json_object_set_new(o, "per_page", json_integer(per));
	json_object_set_new(o, "matches", list);
	dg_reply_json(r, 200, o);
	return DG_OK;
}

/* The policy's page: versions, runs with their job pages, the run button, the matches. */
static dg_rc policy_page(struct dg_req *r)
{
	struct dg_db *db = NULL;
	json_t *p = NULL, *list = NULL;
	bool ok = false;
	int64_t page = 1, total = 0;
	const char *code = dg_kvs_get(&r->params, "code");
	dg_rc rc = query_num(r, "page", 1, INT32_MAX, &page);
	if (!rc)
		rc = dg_req_db(r, &db);
	if (!rc)
		rc = policy_json(r, db, code, &p);
	if (!rc)
		rc = pr_may_manage(r, db, json_string_value(json_object_get(p, "dept")), &ok);
	int64_t cur = json_integer_value(json_object_get(p, "current_run"));
	if (!rc && ok && cur)
		rc = matches_json(r, db, cur, page, MATCH_PAGE, false, &list, &total);
	json_t *batches = NULL;
	const char *mode = p ? json_string_value(json_object_get(p, "mode")) : NULL;
	bool grant = mode && strcmp(mode, "grant") == 0;
	if (!rc && ok && grant)
		rc = pr_rows_json(
			db,
			"SELECT b.id AS id, b.period AS period, b.state AS state, b.run_id"
			" AS run, (SELECT COUNT(*) FROM pr_grants g WHERE g.batch_id ="
			" b.id AND g.state <> 'listed') AS granted FROM pr_batches b JOIN"
			" pr_policies p ON p.id = b.policy_id WHERE p.code = ? ORDER BY"
			" b.id DESC LIMIT 20",
			DG_ARGS(DG_VT(code)), &batches);
	json_t *data = json_object();
	int64_t pid = 0;
	if (!rc)
		rc = pr_policy_id(db, code, &pid);
	if (!rc)
		rc = pr_takeup_view(r, db, pid, code, data);
	if (rc) {
		json_decref(p);
		json_decref(list);
		json_decref(batches);
		json_decref(data);
		return rc;
	}
	json_object_set_new(data, "title",
			    json_string(dg_arena_printf(r->arena, "%s %s",
							dg_t(r, "proactive.one.heading"), code)));
	json_object_set_new(
		data, "mode_label",
		json_string(
			dg_t(r, dg_arena_printf(r->arena, "proactive.mode.%s",
						json_string_value(json_object_get(p, "mode"))))));
	size_t i;
	json_t *o;
	json_array_foreach (json_object_get(p, "runs"), i, o) {
		const char *st = json_string_value(json_object_get(o, "state"));
		json_object_set_new(
			o, "state_label",
			json_string(dg_t(r, dg_arena_printf(r->arena, "proactive.state.%s", st))));
		json_object_set_new(
			o, "is_current",
			json_boolean(json_integer_value(json_object_get(o, "id")) == cur));
		const char *how =
			json_string_value(json_object_get(json_object_get(o, "counts"), "mode"));
		json_object_set_new(o, "incremental",
				    json_boolean(how && strcmp(how, "incremental") == 0));
	}
	json_array_foreach (batches, i, o)
		json_object_set_new(
			o, "state_label",
			json_string(dg_t(r, dg_arena_printf(r->arena, "proactive.g.state.%s",
							    json_string_value(json_object_get(
								    o, "state"))))));
	if (batches)
		json_object_set_new(data, "batches", batches);
	json_object_set_new(data, "is_grant", json_boolean(grant && ok && cur));
	json_object_set_new(data, "policy", p);
	json_object_set_new(data, "may_manage", json_boolean(ok));
	const char *published = dg_kvs_get(&r->query, "published");
	if (published && *published)
		json_object_set_new(data, "published", json_string(published));
	if (list) {
		/* the page shows ID numbers masked; the truth API gives them whole */
		json_array_foreach (list, i, o) {
			const char *id = json_string_value(json_object_get(o, "id"));
			if (id && dg_id_number_valid(id))
				json_object_set_new(o, "id", json_string(dg_mask_id(r->arena, id)));
		}
		json_object_set_new(data, "matches", list);
		json_object_set_new(data, "pager", dg_pager(r, total, page, MATCH_PAGE));
		json_object_set_new(data, "matches_total", json_integer(total));
		json_object_set_new(data, "current_run", json_integer(cur));
	}
	return dg_page(r, 200, "proactive/policy.html", data);
}

/* --- a resident's benefits --- */

/* An explanation's conditions for the page: the label in the reader's language, the
 * result as words, and each value with its source. */
static json_t *conditions(struct dg_req *r, const json_t *ex)
{
	bool en = r->lang && strcmp(r->lang, "en") == 0;
	json_t *out = json_array();
	size_t i;
	json_t *c;
	json_array_foreach (json_object_get(ex, "conditions"), i, c) {
		json_t *res = json_object_get(c, "result");
		const char *word = json_is_true(res)    ? "met"
				   : json_is_false(res) ? "not_met"
							: "unknown";
		json_t *vals = json_array();
		const char *k;
		json_t *v;
		json_object_foreach (json_object_get(c, "values"), k, v) {
			json_t *val = json_object_get(v, "v");
			char *vs = json_is_null(val) ? NULL : json_dumps(val, JSON_ENCODE_ANY);
			json_t *src = json_object_get(v, "src");
			json_array_append_new(
				vals,
				json_pack("{s:s,s:s,s:s,s:b}", "name", k, "value",
					  vs ? vs : dg_t(r, "proactive.my.unknown_value"), "source",
					  json_is_string(src) ? json_string_value(src) : "",
					  "is_param", json_is_true(json_object_get(v, "param"))));
			free(vs);
		}
		json_array_append_new(
			out,
			json_pack("{s:s,s:s,s:s,s:b,s:o}", "id",
				  json_string_value(json_object_get(c, "id")), "label",
				  json_string_value(json_object_get(c, en ? "label_en" : "label")),
				  "result",
				  dg_t(r, dg_arena_printf(r->arena, "proactive.my.cond.%s", word)),
				  "unmet", strcmp(word, "met") != 0, "values", vals));
	}
	return out;
}

/* The account's opt-outs and the choices of the form that changes them. */
static dg_rc optouts_json(struct dg_req *r, struct dg_db *db, json_t *data)
{
	json_t *stopped = NULL, *all = NULL;
	dg_rc rc = pr_rows_json(db,
				"SELECT COALESCE(p.code, '') AS code FROM pr_optouts o LEFT JOIN"
				" pr_policies p ON p.id = o.policy_id WHERE o.user_id = ?"
				" ORDER BY o.policy_id",
				DG_ARGS(DG_VI(r->user->id)), &stopped);
	if (!rc)
		rc = pr_rows_json(db, "SELECT code FROM pr_policies ORDER BY code", DG_NOARGS,
				  &all);
	if (rc) {
		json_decref(stopped);
		json_decref(all);
		return rc;
	}
	json_t *choices = json_array();
	json_array_append_new(choices, json_pack("{s:s,s:s}", "value", "all", "label",
						 dg_t(r, "proactive.my.msg_all")));
	size_t i;
	json_t *o;
	json_array_foreach (all, i, o)
		json_array_append_new(choices,
				      json_pack("{s:O,s:O}", "value", json_object_get(o, "code"),
						"label", json_object_get(o, "code")));
	json_array_foreach (stopped, i, o)
		json_object_set_new(o, "all",
				    json_boolean(!*json_string_value(json_object_get(o, "code"))));
	json_decref(all);
	json_object_set_new(data, "stopped", stopped);
	json_object_set_new(data, "choices", choices);
	return DG_OK;
}

/* One answer for the page: the rule's name, amount, link, and every condition. */
static json_t *benefit(struct dg_req *r, json_t *o)
{
	bool en = r->lang && strcmp(r->lang, "en") == 0;
	json_t *ex = json_object_get(o, "explain");
	const char *item = json_string_value(json_object_get(o, "item"));
	const char *name = json_string_value(json_object_get(ex, en ? "name_en" : "name_zh"));
	json_t *e = json_pack(
		"{s:O,s:O,s:s,s:o,s:s,s:o,s:O,s:s}", "policy", json_object_get(o, "policy"), "rule",
		json_object_get(o, "rule"), "name", name ? name : "", "amount",
		pr_yuan(json_object_get(o, "amount")), "item", item ? item : "", "conditions",
		conditions(r, ex), "ref_date", json_object_get(o, "ref_date"), "mode_label",
		dg_t(r, dg_arena_printf(r->arena, "proactive.my.mode.%s",
					json_string_value(json_object_get(o, "mode")))));
	if (item && *item)
		json_object_set_new(
			e, "apply",
			json_string(dg_arena_printf(r->arena, "/services/%s/apply", item)));
	return e;
}

static int answer_cmp(const void *a, const void *b)
{
	static const char *const keys[] = {"policy", "rule", "rid"};
	for (int k = 0; k < 3; k++) {
		const char *x = json_string_value(json_object_get(*(json_t *const *)a, keys[k]));
		const char *y = json_string_value(json_object_get(*(json_t *const *)b, keys[k]));
		int c = strcmp(x ? x : "", y ? y : "");
		if (c)
			return c;
	}
	return 0;
}

/* An account's answers by policy, rule and record, and each once. */
static void sort_answers(json_t *rows)
{
	size_t n = json_array_size(rows);
	if (n < 2)
		return;
	json_t **v = dg_xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(rows, i));
	qsort(v, n, sizeof(*v), answer_cmp);
	json_array_clear(rows);
	json_t *last = NULL; /* held by rows once appended */
	for (size_t i = 0; i < n; i++) {
		if (last && answer_cmp(&last, &v[i]) == 0) {
			json_decref(v[i]);
			continue;
		}
		last = v[i];
		json_array_append_new(rows, v[i]);
	}
	free(v);
}

/*
 * What the account receives: the 免申即享 grants made to it by its ID
 * number, granted, declined or revoked (with the reason), newest first; a
 * granted one can be declined.
 */
static dg_rc receive_json(struct dg_req *r, struct dg_db *db, json_t *data)
{
	bool en = r->lang && strcmp(r->lang, "en") == 0;
	json_t *l = NULL;
	dg_rc rc = pr_rows_json(
		db,
		"SELECT p.code AS policy, g.batch_id AS batch, g.line AS line, g.rule AS rule,"
		" g.amount AS amount, g.state AS state, g.reason AS reason, b.period AS period,"
		" v.names AS names FROM pr_grants g JOIN pr_batches b ON b.id = g.batch_id JOIN"
		" pr_policies p ON p.id = b.policy_id JOIN pr_versions v ON v.policy_id = p.id"
		" AND v.version = p.version WHERE g.rid = (SELECT u.id_number_index FROM users u"
		" WHERE u.id = ?) AND g.state <> 'listed' ORDER BY g.batch_id DESC, g.line",
		DG_ARGS(DG_VI(r->user->id)), &l);
	if (rc)
		return rc;
	size_t i;
	json_t *o;
	json_array_foreach (l, i, o) {
		const char *rule = json_string_value(json_object_get(o, "rule"));
		const char *st = json_string_value(json_object_get(o, "state"));
		const char *name = rule;
		json_t *names = json_loads(json_string_value(json_object_get(o, "names")), 0, NULL);
		size_t k;
		json_t *n;
		json_array_foreach (names, k, n) {
			const char *nid = json_string_value(json_object_get(n, "id"));
			if (nid && rule && !strcmp(nid, rule) &&
			    json_string_value(json_object_get(n, en ? "en" : "zh")))
				name = dg_arena_strdup(r->arena, json_string_value(json_object_get(
									 n, en ? "en" : "zh")));
		}
		json_decref(names);
		json_object_del(o, "names");
		json_object_set_new(o, "name", json_string(name ? name : ""));
		json_object_set_new(o, "amount", pr_yuan(json_object_get(o, "amount")));
		json_object_set_new(o, "is_granted", json_boolean(strcmp(st, "granted") == 0));
		json_object_set_new(
			o, "state_label",
			json_string(dg_t(r, dg_arena_printf(r->arena, "proactive.g.line.%s", st))));
	}
	json_object_set_new(data, "receive", l);
	return DG_OK;
}
/* The answers standing in each policy's shown run about the account whose id
 * and "user:<id>" subject are its two parameters (my_benefits). */
/* clang-format cannot lay out string literals joined by a macro: */
/* clang-format off */
#define MY_ANSWERS                                                                                 \
	"SELECT DISTINCT p.code AS policy, p.item AS item, p.mode AS mode, x.rule AS rule, x.rid"  \
	" AS rid, x.outcome AS outcome, x.amount AS amount, x.explain AS explain, r.ref_date AS"   \
	" ref_date FROM pr_answer_who w JOIN pr_policies p ON p.id = w.policy_id AND"              \
	PR_AS_OF("w", "p.current_run")                                                             \
	" JOIN pr_answers x ON x.policy_id = w.policy_id AND x.rule = w.rule AND x.rid = w.rid"    \
	" AND" PR_AS_OF("x", "p.current_run")                                                      \
	" JOIN pr_runs r ON r.id = p.current_run WHERE w.subject IN ((SELECT"                      \
	" u.id_number_index FROM users u WHERE u.id = ?), ?) AND x.outcome <> 'ABSENT'"
/* clang-format on */

static dg_rc benefits_page(struct dg_req *r)
{
	struct dg_db *db = NULL;
	json_t *rows = NULL;
	json_t *data = json_object();
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = pr_rows_json(
			db,
			/* the answers about the account standing in each policy's shown run,
			   found through pr_answer_who (PR_AS_OF): by its ID
			   number's blind index, or tied to it (pr_subjects, the enterprise of
			   an agent); sorted here, since an ORDER BY makes SQLite walk every
			   answer of every run */
			MY_ANSWERS,
			DG_ARGS(DG_VI(r->user->id), DG_VT(dg_arena_printf(r->arena, "user:%lld",
									  (long long)r->user->id))),
			&rows);
	if (!rc)
		rc = optouts_json(r, db, data);
	if (!rc)
		rc = receive_json(r, db, data);
	if (rc) {
		json_decref(rows);
		json_decref(data);
		return rc;
	}
	static const char *const cols[] = {"explain", NULL};
	open_cols(r, rows, cols);
	sort_answers(rows);
	json_t *may = json_array(), *nope = json_array(), *unknown = json_array();
	size_t i;
	json_t *o;
	json_array_foreach (rows, i, o) {
		const char *outcome = json_string_value(json_object_get(o, "outcome"));
		if (strcmp(outcome, "ELIGIBLE") == 0)
			json_array_append_new(may, benefit(r, o));
		else if (strcmp(outcome, "UNKNOWN") == 0)
			json_array_append_new(unknown, benefit(r, o));
		else if (strcmp(outcome, "NOT_ELIGIBLE") == 0)
			json_array_append_new(nope, benefit(r, o));
	}
	json_decref(rows);
	const char *done = dg_kvs_get(&r->query, "done");
	if (done &&
	    (!strcmp(done, "stopped") || !strcmp(done, "resumed") || !strcmp(done, "declined")))
		json_object_set_new(
			data, "done",
			json_string(dg_t(r, dg_arena_printf(r->arena, "proactive.my.%s", done))));
	json_object_set_new(data, "title", json_string(dg_t(r, "proactive.my.heading")));
	json_object_set_new(data, "may", may);
	json_object_set_new(data, "not", nope);
	json_object_set_new(data, "unknown", unknown);
	return dg_page(r, 200, "proactive/benefits.html", data);
}

/* Stop or resume the messages about one policy ("all": every policy). */
static dg_rc optout(struct dg_req *r)
{
	struct dg_db *db = NULL;
	const char *policy = pr_input(r, "policy"), *action = pr_input(r, "action");
	int64_t pid = 0;
	if (!action || (strcmp(action, "stop") && strcmp(action, "resume")))
		return dg_err_set(&r->err, DG_EINVAL, "%s", dg_t(r, "proactive.err.action"));
	dg_rc rc = dg_req_db(r, &db);
	if (rc)
		return rc;
	if (!policy || strcmp(policy, "all") != 0) {
		rc = pr_policy_id(db, policy, &pid);
		if (rc == DG_ENOTFOUND)
			return dg_err_set(&r->err, rc, "%s", dg_t(r, "proactive.err.no_policy"));
		if (rc)
			return rc;
	}
	rc = dg_db_begin(db);
	if (!rc)
		rc = dg_db_exec(db, "DELETE FROM pr_optouts WHERE user_id = ? AND policy_id = ?",
				DG_ARGS(DG_VI(r->user->id), DG_VI(pid)), NULL);
	if (!rc && strcmp(action, "stop") == 0)
		rc = dg_db_exec(
			db,
			"INSERT INTO pr_optouts (user_id, policy_id, created_ms) VALUES (?, ?, ?)",
			DG_ARGS(DG_VI(r->user->id), DG_VI(pid), DG_VI(dg_now_ms())), NULL);
	if (!rc)
		rc = dg_db_commit(db);
	if (rc) {
		dg_db_rollback(db);
		return rc;
	}
	dg_reply_redirect(r, strcmp(action, "stop") == 0 ? "/my/benefits?done=stopped#messages"
							 : "/my/benefits?done=resumed#messages");
	return DG_OK;
}

/* --- the public summary --- */

/*
 * /policies: every published policy with its rules' names, the department,
 * how it reaches people, the item to apply through, and its take-up at the
 * last run: how many records qualified, and how many accounts were told.
 * Counts only: nothing about a person.
 */
static dg_rc public_page(struct dg_req *r)
{
	struct dg_db *db = NULL;
	json_t *l = NULL;
	bool en = r->lang && strcmp(r->lang, "en") == 0;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = pr_rows_json(
			db,
			en ? "SELECT p.code AS code, COALESCE(d.name_en, p.dept) AS dept, p.item AS"
			     " item, p.mode AS mode, v.effective AS effective, v.names AS names,"
			     " COALESCE(r.ref_date, '') AS ref_date, COALESCE(r.counts, '{}') AS"
			     " counts, (SELECT COUNT(*) FROM pr_sent s WHERE s.policy_id = p.id) AS"
			     " told FROM pr_policies p JOIN pr_versions v ON v.policy_id = p.id AND"
			     " v.version = p.version LEFT JOIN departments d ON d.code = p.dept"
			     " LEFT JOIN pr_runs r ON r.id = p.current_run ORDER BY p.code"
			   : "SELECT p.code AS code, COALESCE(d.name_zh, p.dept) AS dept, p.item AS"
			     " item, p.mode AS mode, v.effective AS effective, v.names AS names,"
			     " COALESCE(r.ref_date, '') AS ref_date, COALESCE(r.counts, '{}') AS"
			     " counts, (SELECT COUNT(*) FROM pr_sent s WHERE s.policy_id = p.id) AS"
			     " told FROM pr_policies p JOIN pr_versions v ON v.policy_id = p.id AND"
			     " v.version = p.version LEFT JOIN departments d ON d.code = p.dept"
			     " LEFT JOIN pr_runs r ON r.id = p.current_run ORDER BY p.code",
			DG_NOARGS, &l);
	if (rc)
		return rc;
	static const char *const cols[] = {"names", "counts", NULL};
	parse_cols(l, cols);
	size_t i;
	json_t *o;
	json_array_foreach (l, i, o) {
		json_t *names = json_array();
		size_t k;
		json_t *n;
		json_array_foreach (json_object_get(o, "names"), k, n)
			json_array_append_new(names,
					      json_incref(json_object_get(n, en ? "en" : "zh")));
		json_object_set_new(o, "names", names);
		json_object_set_new(
			o, "mode_label",
			json_string(dg_t(r, dg_arena_printf(r->arena, "proactive.mode.%s",
							    json_string_value(
								    json_object_get(o, "mode"))))));
		json_t *counts = json_object_get(o, "counts");
		json_object_set_new(
			o, "eligible",
			json_integer(json_integer_value(json_object_get(counts, "eligible"))));
	}
	json_t *data = json_pack(
		"{s:s,s:o,s:b}", "title", dg_t(r, "policies.title"), "policies", l, "staff",
		r->user && (r->user->role == DG_ROLE_STAFF || r->user->role == DG_ROLE_ADMIN));
	return dg_page(r, 200, "proactive/public.html", data);
}

#define STAFF    (DG_ROLE_STAFF | DG_ROLE_ADMIN)
#define RESIDENT (DG_ROLE_CITIZEN | DG_ROLE_AGENT)

static const struct dg_route routes[] = {
	{"GET", "/office/policies", policies_page, STAFF, 0},
	{"POST", "/office/policies", publish, STAFF, 0},
	{"GET", "/office/policies/{code}", policy_page, STAFF, 0},
	{"POST", "/office/policies/{code}/run", start_run, STAFF, 0},
	{"GET", "/api/proactive/policies", policies_api, STAFF, 0},
	{"POST", "/api/proactive/policies", publish, STAFF, 0},
	{"GET", "/api/proactive/policies/{code}", policy_api, STAFF, 0},
	{"POST", "/api/proactive/policies/{code}/runs", start_run, STAFF, 0},
	{"GET", "/api/proactive/runs/{id}", run_api, STAFF, 0},
	{"GET", "/api/proactive/runs/{id}/matches", matches_api, STAFF, 0},
	{"GET", "/policies", public_page, DG_ROLE_ANY, 0},
	{"GET", "/my/benefits", benefits_page, RESIDENT, 0},
	{"POST", "/my/benefits/messages", optout, RESIDENT, 0},
};

const struct dg_route *pr_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
