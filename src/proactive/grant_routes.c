/*
 * grant_routes.c - 免申即享 grant batches for staff and residents:
 *
 *   POST /office/policies/{code}/batches       make a batch from the shown run
 *   GET  /office/batches/{id}                  the batch: who, amount, why, changes
 *   POST /office/batches/{id}/propose          propose every line or some (staff A)
 *   POST /office/batches/{id}/approve          approve and issue (staff B, not A)
 *   GET  /office/batches/{id}/payments.csv     the payment instruction file
 *   POST /office/batches/{id}/lines/{line}/revoke   end a wrong grant, with a reason
 *   /api/proactive/...                         the same as JSON
 *   POST /my/benefits/grants/{batch}/{line}/decline  the person declines
 *
 * A batch is seen and handled only by the owning department's staff (or an
 * administrator); to anyone else it does not exist (404). grant.c does the
 * work; the route table at the end is the access policy.
 */
#include "proactive/internal.h"

#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "core/keys.h"
#include "core/mem.h"
#include "core/str.h"
#include "web/page.h"

/* A number from a path parameter; 0 when malformed. */
static int64_t param_id(struct dg_req *r, const char *name)
{
	int64_t v = 0;
	const char *s = dg_kvs_get(&r->params, name);
	if (!s || dg_str_to_i64(dg_str_of(s), &v) || v <= 0)
		return 0;
	return v;
}

/* The batch of the path, when the requester may handle it; 404 otherwise. */
static dg_rc batch_of(struct dg_req *r, struct dg_db *db, struct pr_batch_info *b)
{
	bool ok = false;
	int64_t id = param_id(r, "id");
	dg_rc rc = id ? pr_batch_get(db, r->arena, id, b) : DG_ENOTFOUND;
	if (!rc)
		rc = pr_may_manage(r, db, b->dept, &ok);
	if (rc == DG_ENOTFOUND || (!rc && !ok))
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "proactive.err.no_batch"));
	return rc;
}

/* The condition labels an explanation met, in the reader's language, joined. */
static const char *why(struct dg_req *r, const char *sealed)
{
	bool en = r->lang && strcmp(r->lang, "en") == 0;
	char *plain = NULL;
	if (!sealed || dg_pii_open(&r->env->keys, r->arena, sealed, &plain) != DG_OK)
		return "";
	json_t *ex = json_loads(plain, 0, NULL);
	dg_wipe(plain, strlen(plain));
	const char *out = "";
	size_t i;
	json_t *c;
	json_array_foreach (json_object_get(ex, "conditions"), i, c) {
		const char *l = json_string_value(json_object_get(c, en ? "label_en" : "label"));
		if (!l || !json_is_true(json_object_get(c, "result")))
			continue;
		out = *out ? dg_arena_printf(r->arena, "%s; %s", out, l)
			   : dg_arena_strdup(r->arena, l);
	}
	json_decref(ex);
	return out;
}

/* The batch and its lines as JSON; IDs masked unless whole. */
static dg_rc batch_json(struct dg_req *r, struct dg_db *db, const struct pr_batch_info *b,
			bool whole, json_t **out)
{
	json_t *lines = NULL;
	dg_rc rc = pr_rows_json(
		db,
		"SELECT g.line AS line, g.rule AS rule, g.rid_sealed AS id, g.amount AS amount,"
		" g.change AS change, g.selected AS selected, g.state AS state, g.reason AS"
		" reason, COALESCE(x.explain, '') AS why FROM pr_grants g JOIN pr_batches b ON"
		" b.id = g.batch_id LEFT JOIN pr_results x ON x.run_id = b.run_id AND x.rule ="
		" g.rule AND x.rid = g.rid WHERE g.batch_id = ? ORDER BY g.line",
		DG_ARGS(DG_VI(b->id)), &lines);
	if (rc)
		return rc;
	json_t *counts = json_pack("{s:i,s:i,s:i,s:i,s:i}", "new", 0, "unchanged", 0, "gone", 0,
				   "selected", 0, "granted", 0);
	size_t i;
	json_t *o;
	json_array_foreach (lines, i, o) {
		char *id = NULL;
		if (dg_pii_open(&r->env->keys, r->arena,
				json_string_value(json_object_get(o, "id")), &id) != DG_OK)
			id = NULL;
		if (id && !whole && dg_id_number_valid(id))
			id = dg_mask_id(r->arena, id);
		json_object_set_new(o, "id", id ? json_string(id) : json_null());
		json_object_set_new(o, "amount_fen", json_incref(json_object_get(o, "amount")));
		json_object_set_new(o, "amount", pr_yuan(json_object_get(o, "amount")));
		json_object_set_new(
			o, "why",
			json_string(why(r, json_string_value(json_object_get(o, "why")))));
		const char *ch = json_string_value(json_object_get(o, "change"));
		const char *st = json_string_value(json_object_get(o, "state"));
		bool sel = json_integer_value(json_object_get(o, "selected")) != 0;
		json_object_set_new(o, "selected", json_boolean(sel));
		json_object_set_new(
			counts, ch,
			json_integer(json_integer_value(json_object_get(counts, ch)) + 1));
		if (sel)
			json_object_set_new(counts, "selected",
					    json_integer(json_integer_value(json_object_get(
								 counts, "selected")) +
							 1));
		if (strcmp(st, "listed") != 0)
			json_object_set_new(counts, "granted",
					    json_integer(json_integer_value(json_object_get(
								 counts, "granted")) +
							 1));
		json_object_set_new(o, "grantable", json_boolean(strcmp(ch, "gone") != 0));
		json_object_set_new(o, "is_granted", json_boolean(strcmp(st, "granted") == 0));
		json_object_set_new(
			o, "change_label",
			json_string(
				dg_t(r, dg_arena_printf(r->arena, "proactive.g.change.%s", ch))));
		json_object_set_new(
			o, "state_label",
			json_string(dg_t(r, dg_arena_printf(r->arena, "proactive.g.line.%s", st))));
	}
	*out = json_pack("{s:I,s:s,s:I,s:I,s:s,s:s,s:I,s:I,s:o,s:o}", "id", (json_int_t)b->id,
			 "policy", b->code, "run", (json_int_t)b->run_id, "prev_batch",
			 (json_int_t)b->prev_batch, "period", b->period, "state", b->state,
			 "proposed_by", (json_int_t)b->proposed_by, "approved_by",
			 (json_int_t)b->approved_by, "counts", counts, "lines", lines);
	if (strcmp(b->state, "issued") == 0)
		json_object_set_new(
			*out, "payments",
			json_string(dg_arena_printf(r->arena, "/office/batches/%lld/payments.csv",
						    (long long)b->id)));
	return DG_OK;
}

/* An error of grant.c (a message key) for the requester. */
static dg_rc refuse(struct dg_req *r, dg_rc rc, const struct dg_err *err)
{
	if (err->field[0])
		return dg_err_field(&r->err, rc, err->field, "%s", dg_t(r, err->msg));
	return dg_err_set(&r->err, rc, "%s",
			  dg_t(r, err->msg[0] ? err->msg : "proactive.err.store"));
}

static dg_rc batch_make(struct dg_req *r)
{
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	char *dept = NULL;
	bool ok = false;
	int64_t batch = 0;
	const char *code = dg_kvs_get(&r->params, "code");
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = pr_policy_dept(db, code, r->arena, &dept);
	if (!rc)
		rc = pr_may_manage(r, db, dept, &ok);
	if (rc == DG_ENOTFOUND || (!rc && !ok))
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "proactive.err.no_policy"));
	if (rc)
		return rc;
	rc = pr_batch_make(r->env, db, code, r->user->id, &batch, &err);
	if (rc)
		return refuse(r, rc, &err);
	const char *url = dg_arena_printf(r->arena, "/office/batches/%lld", (long long)batch);
	if (r->api) {
		dg_reply_json(r, 201,
			      json_pack("{s:I,s:s}", "batch", (json_int_t)batch, "url", url));
		return DG_OK;
	}
	dg_reply_redirect(r, url);
	return DG_OK;
}

/* The batch of the path as JSON (batch_json), for the API (IDs whole) and the page. */
static dg_rc batch_load(struct dg_req *r, bool whole, struct dg_db **db, struct pr_batch_info *b,
			json_t **out)
{
	dg_rc rc = dg_req_db(r, db);
	if (!rc)
		rc = batch_of(r, *db, b);
	if (!rc)
		rc = batch_json(r, *db, b, whole, out);
	return rc;
}

static dg_rc batch_api(struct dg_req *r)
{
	struct dg_db *db = NULL;
	struct pr_batch_info b;
	json_t *o = NULL;
	dg_rc rc = batch_load(r, true, &db, &b, &o);
	if (rc)
		return rc;
	dg_reply_json(r, 200, o);
	return DG_OK;
}

/* A user's name for the page ("" for none). */
static const char *who(struct dg_req *r, struct dg_db *db, int64_t id)
{
	char *s = NULL;
	if (!id || dg_db_query_text(db, "SELECT username FROM users WHERE id = ?",
				    DG_ARGS(DG_VI(id)), r->arena, &s) != DG_OK)
		return "";
	return s;
}

static dg_rc batch_page(struct dg_req *r)
{
	struct dg_db *db = NULL;
	struct pr_batch_info b;
	json_t *o = NULL;
	dg_rc rc = batch_load(r, false, &db, &b, &o);
	if (rc)
		return rc;
	json_t *data = json_object();
	json_object_set_new(
		data, "title",
		json_string(dg_arena_printf(r->arena, "%s %lld", dg_t(r, "proactive.g.heading"),
					    (long long)b.id)));
	json_object_set_new(data, "batch", o);
	json_object_set_new(data, "is_draft", json_boolean(strcmp(b.state, "draft") == 0));
	json_object_set_new(data, "is_proposed", json_boolean(strcmp(b.state, "proposed") == 0));
	json_object_set_new(data, "is_issued", json_boolean(strcmp(b.state, "issued") == 0));
	json_object_set_new(data, "mine", json_boolean(b.proposed_by == r->user->id));
	json_object_set_new(data, "proposer", json_string(who(r, db, b.proposed_by)));
	json_object_set_new(data, "approver", json_string(who(r, db, b.approved_by)));
	json_object_set_new(
		data, "state_label",
		json_string(dg_t(r, dg_arena_printf(r->arena, "proactive.g.state.%s", b.state))));
	const char *done = dg_kvs_get(&r->query, "done");
	if (done &&
	    (!strcmp(done, "proposed") || !strcmp(done, "issued") || !strcmp(done, "revoked")))
		json_object_set_new(
			data, "done",
			json_string(
				dg_t(r, dg_arena_printf(r->arena, "proactive.g.done.%s", done))));
	return dg_page(r, 200, "proactive/batch.html", data);
}

/* The lines a proposal names: JSON's "lines" ("all" or numbers), or the form's. */
static json_t *chosen(struct dg_req *r)
{
	if (r->json) {
		json_t *l = json_object_get(r->json, "lines");
		return l ? json_incref(l) : json_array();
	}
	if (dg_kvs_get(&r->form, "all"))
		return json_string("all");
	json_t *l = json_array();
	for (size_t i = 0; i < r->form.n; i++) {
		int64_t v = 0;
		if (strcmp(r->form.v[i].key, "line") != 0)
			continue;
		if (dg_str_to_i64(dg_str_of(r->form.v[i].val), &v))
			v = -1; /* refused as a line the batch does not have */
		json_array_append_new(l, json_integer(v));
	}
	return l;
}

static dg_rc batch_propose(struct dg_req *r)
{
	struct dg_db *db = NULL;
	struct pr_batch_info b;
	struct dg_err err = {0};
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = batch_of(r, db, &b);
	if (rc)
		return rc;
	json_t *lines = chosen(r);
	rc = pr_batch_propose(db, b.id, r->user->id, lines, &err);
	json_decref(lines);
	if (rc)
		return refuse(r, rc, &err);
	if (r->api) {
		dg_reply_json(
			r, 200,
			json_pack("{s:I,s:s}", "batch", (json_int_t)b.id, "state", "proposed"));
		return DG_OK;
	}
	dg_reply_redirect(r, dg_arena_printf(r->arena, "/office/batches/%lld?done=proposed",
					     (long long)b.id));
	return DG_OK;
}

static dg_rc batch_approve(struct dg_req *r)
{
	struct dg_db *db = NULL;
	struct pr_batch_info b;
	struct dg_err err = {0};
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = batch_of(r, db, &b);
	if (rc)
		return rc;
	rc = pr_batch_approve(r->env, db, b.id, r->user->id, &err);
	if (rc)
		return refuse(r, rc, &err);
	if (r->api) {
		dg_reply_json(
			r, 200,
			json_pack("{s:I,s:s,s:s}", "batch", (json_int_t)b.id, "state", "issued",
				  "payments",
				  dg_arena_printf(r->arena, "/office/batches/%lld/payments.csv",
						  (long long)b.id)));
		return DG_OK;
	}
	dg_reply_redirect(
		r, dg_arena_printf(r->arena, "/office/batches/%lld?done=issued", (long long)b.id));
	return DG_OK;
}

/* The payment instruction file of an issued batch; its download is audited. */
static dg_rc batch_csv(struct dg_req *r)
{
	struct dg_db *db = NULL;
	struct pr_batch_info b;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = batch_of(r, db, &b);
	if (rc)
		return rc;
	if (strcmp(b.state, "issued") != 0)
		return dg_err_set(&r->err, DG_ECONFLICT, "%s", dg_t(r, "proactive.err.not_issued"));
	json_t *d = json_pack("{s:I}", "batch", (json_int_t)b.id);
	struct dg_audit_rec rec = {
		.kind = "proactive.payments",
		.actor = dg_arena_printf(r->arena, "user:%lld", (long long)r->user->id),
		.subject = "",
		.purpose = b.code,
		.detail = d};
	rc = dg_audit_append(db, &rec, NULL);
	json_decref(d);
	if (rc)
		return rc;
	struct dg_buf out;
	dg_buf_init(&out, (size_t)64 << 20);
	rc = pr_batch_csv(r->env, db, r->arena, b.id, &out);
	if (rc) {
		dg_buf_release(&out);
		return rc;
	}
	dg_reply_header(r, "Content-Disposition",
			dg_arena_printf(r->arena, "attachment; filename=\"payments-%s-%lld.csv\"",
					b.code, (long long)b.id));
	dg_reply_buf(r, 200, "text/csv; charset=utf-8", &out);
	dg_buf_release(&out);
	return DG_OK;
}

static dg_rc grant_revoke(struct dg_req *r)
{
	struct dg_db *db = NULL;
	struct pr_batch_info b;
	struct dg_err err = {0};
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = batch_of(r, db, &b);
	if (rc)
		return rc;
	int64_t line = param_id(r, "line");
	const char *reason = pr_input(r, "reason");
	rc = pr_grant_end(r->env, db, b.id, line, r->user->id, false, reason, &err);
	if (rc)
		return refuse(r, rc, &err);
	if (r->api) {
		dg_reply_json(r, 200,
			      json_pack("{s:I,s:I,s:s}", "batch", (json_int_t)b.id, "line",
					(json_int_t)line, "state", "revoked"));
		return DG_OK;
	}
	dg_reply_redirect(
		r, dg_arena_printf(r->arena, "/office/batches/%lld?done=revoked", (long long)b.id));
	return DG_OK;
}

/* The person declines a grant made to them: only their own (by ID number), else 404. */
static dg_rc grant_decline(struct dg_req *r)
{
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	int64_t batch = param_id(r, "batch"), line = param_id(r, "line"), n = 0;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_db_query_int(
			db,
			"SELECT COUNT(*) FROM pr_grants g JOIN users u ON"
			" u.id_number_index = g.rid WHERE g.batch_id = ? AND g.line = ?"
			" AND u.id = ? AND u.id_number_index <> '' AND g.state ="
			" 'granted'",
			DG_ARGS(DG_VI(batch), DG_VI(line), DG_VI(r->user->id)), &n);
	if (rc)
		return rc;
	if (n != 1)
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "proactive.err.no_grant"));
	rc = pr_grant_end(r->env, db, batch, line, r->user->id, true, NULL, &err);
	if (rc)
		return refuse(r, rc, &err);
	if (r->api) {
		dg_reply_json(r, 200, json_pack("{s:s}", "state", "declined"));
		return DG_OK;
	}
	dg_reply_redirect(r, "/my/benefits?done=declined#receive");
	return DG_OK;
}

#define STAFF    (DG_ROLE_STAFF | DG_ROLE_ADMIN)
#define RESIDENT (DG_ROLE_CITIZEN | DG_ROLE_AGENT)

static const struct dg_route routes[] = {
	{"POST", "/office/policies/{code}/batches", batch_make, STAFF, 0},
	{"GET", "/office/batches/{id}", batch_page, STAFF, 0},
	{"POST", "/office/batches/{id}/propose", batch_propose, STAFF, 0},
	{"POST", "/office/batches/{id}/approve", batch_approve, STAFF, 0},
	{"GET", "/office/batches/{id}/payments.csv", batch_csv, STAFF, 0},
	{"POST", "/office/batches/{id}/lines/{line}/revoke", grant_revoke, STAFF, 0},
	{"POST", "/api/proactive/policies/{code}/batches", batch_make, STAFF, 0},
	{"GET", "/api/proactive/batches/{id}", batch_api, STAFF, 0},
	{"POST", "/api/proactive/batches/{id}/propose", batch_propose, STAFF, 0},
	{"POST", "/api/proactive/batches/{id}/approve", batch_approve, STAFF, 0},
	{"GET", "/api/proactive/batches/{id}/payments.csv", batch_csv, STAFF, 0},
	{"POST", "/api/proactive/batches/{id}/lines/{line}/revoke", grant_revoke, STAFF, 0},
	{"POST", "/my/benefits/grants/{batch}/{line}/decline", grant_decline, RESIDENT, 0},
};

const struct dg_route *pr_grant_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
