/*
 * prefill_pages.c - the pre-fill step of an application (the OOTS preview
 * pattern), between starting it and its form:
 *
 *   GET  /my/cases/{ref}/prefill   what would be fetched, from which
 *                                  department, and what was fetched already
 *                                  (each with its source and how fresh)
 *   POST /my/cases/{ref}/prefill   fetch the ticked ones; a material not
 *                                  ticked may be uploaded instead
 *
 * Nothing is fetched before the applicant asks for it on this page; each
 * entry is ticked by default and can be unticked, and the form can be
 * filled by hand instead ("skip"). One multipart form, no JavaScript. The
 * fetching is prefill.c's; the case is reached through cases.h's calls for
 * the modules above it.
 */
#include "exchange/internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cases/cases.h"
#include "catalog/catalog.h"
#include "web/page.h"

#define DOC_MAX (64 << 10) /* bytes of a fetched document */

struct pf {
	struct dg_db *db;
	struct dg_case_draft d;
	json_t *form, *answers, *item;
	const char *subject;
};

static void pf_release(struct pf *p)
{
	dg_case_draft_release(&p->d);
	json_decref(p->form);
	json_decref(p->answers);
	json_decref(p->item);
}

static dg_rc pf_load(struct dg_req *r, struct pf *p)
{
	memset(p, 0, sizeof(*p));
	p->subject = "";
	dg_rc rc = dg_req_db(r, &p->db);
	if (!rc)
		rc = dg_case_draft_get(p->db, &r->env->keys, dg_kvs_get(&r->params, "ref"),
				       r->user->id, &p->d, &p->form, &p->answers);
	if (!rc)
		rc = dg_catalog_item(p->db, p->d.item_code, &p->item);
	if (!rc)
		rc = x_my_subject(r, p->db, &p->subject);
	if (rc == DG_ENOTFOUND)
		dg_err_set(&r->err, rc, "%s", dg_t(r, "exchange.prefill.no_case"));
	return rc;
}

static const char *when(struct dg_req *r, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char s[32];
	localtime_r(&t, &tm);
	strftime(s, sizeof s, "%Y-%m-%d %H:%M", &tm);
	return dg_arena_strdup(r->arena, s);
}

/* Department names in the page's language, and words for the refusal codes. */
static dg_rc label(struct dg_req *r, struct dg_db *db, json_t *plan, json_t *done)
{
	bool en = r->lang && strcmp(r->lang, "en") == 0;
	struct dg_rows *rows = NULL;
	json_t *names = json_object();
	dg_rc rc =
		dg_db_query(db, "SELECT code, name_zh, name_en FROM departments", DG_NOARGS, &rows);
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK)
		json_object_set_new(names, dg_rows_text(rows, 0),
				    json_string(dg_rows_text(rows, en ? 2 : 1)));
	dg_rows_free(rows);
	if (rc != DG_ENOTFOUND) {
		json_decref(names);
		return rc;
	}
	size_t i, j;
	json_t *e, *s;
	json_array_foreach (plan, i, e) {
		json_object_set(e, "label", json_object_get(e, en ? "label_en" : "label_zh"));
		const char *kind = json_string_value(json_object_get(e, "kind"));
		json_object_set_new(e, "material", json_boolean(strcmp(kind, "field") != 0));
		json_object_set_new(e, "certificate",
				    json_boolean(strcmp(kind, "certificate") == 0));
		json_array_foreach (json_object_get(e, "certs"), j, s) {
			json_object_set(s, "dept_name",
					json_object_get(s, en ? "dept_name_en" : "dept_name_zh"));
			json_object_set(s, "title",
					json_object_get(s, en ? "title_en" : "title_zh"));
			json_object_set_new(
				s, "status_text",
				json_string(dg_t(
					r, dg_arena_printf(r->arena, "exchange.prefill.cert.%s",
							   json_string_value(json_object_get(
								   s, "status"))))));
			json_object_set_new(s, "issued",
					    json_string(when(r, json_integer_value(json_object_get(
									s, "issued_ms")))));
		}
		json_object_set_new(e, "i", json_integer((json_int_t)i));
		const char *why = json_string_value(json_object_get(e, "why"));
		if (why && *why)
			json_object_set_new(
				e, "why_text",
				json_string(
					dg_t(r, dg_arena_printf(r->arena, "exchange.prefill.why.%s",
								why))));
		json_array_foreach (json_object_get(e, "sources"), j, s)
			json_object_set(s, "dept_name",
					json_object_get(names, json_string_value(json_object_get(
								       s, "dept"))));
	}
	json_array_foreach (done, i, e) {
		json_object_set(e, "dept_name", json_object_get(e, en ? "dept_en" : "dept_zh"));
		json_object_set_new(
			e, "updated",
			json_string(when(r, json_integer_value(json_object_get(e, "updated_ms")))));
		json_object_set_new(
			e, "fetched",
			json_string(when(r, json_integer_value(json_object_get(e, "at_ms")))));
	}
	json_decref(names);
	return DG_OK;
}

static dg_rc render(struct dg_req *r, struct pf *p, unsigned status, json_t *data)
{
	json_t *plan = NULL, *done = NULL;
	dg_rc rc = x_prefill_plan(p->db, &r->env->keys, r->user->id, p->d.dept_code, p->d.item_code,
				  p->form, p->item, &plan);
	if (!rc)
		rc = x_prefills_of(p->db, p->d.ref, &done);
	if (!rc)
		rc = label(r, p->db, plan, done);
	if (rc) {
		json_decref(plan);
		json_decref(done);
		json_decref(data);
		return rc;
	}
	bool en = r->lang && strcmp(r->lang, "en") == 0;
	json_object_set_new(data, "title", json_string(dg_t(r, "exchange.prefill.heading")));
	json_object_set_new(data, "ref", json_string(p->d.ref));
	json_object_set_new(data, "purpose", json_string(p->d.item_code));
	json_object_set(data, "item_name", json_object_get(p->item, en ? "name_en" : "name_zh"));
	json_object_set_new(data, "plan", plan);
	json_object_set_new(data, "done", done);
	json_object_set_new(data, "has_id", json_boolean(p->subject[0] != '\0'));
	return dg_page(r, status, "exchange/prefill.html", data);
}

static dg_rc prefill_page(struct dg_req *r)
{
	struct pf p;
	dg_rc rc = pf_load(r, &p);
	if (!rc)
		rc = render(r, &p, 200, json_object());
	pf_release(&p);
	return rc;
}

static bool ticked(struct dg_req *r, const char *name)
{
	for (size_t i = 0; i < r->form.n; i++)
		if (!strcmp(r->form.v[i].key, "fetch") && !strcmp(r->form.v[i].val, name))
			return true;
	return false;
}

static const struct dg_upload *upload_of(struct dg_req *r, const char *field)
{
	for (size_t i = 0; i < r->nuploads; i++)
		if (!strcmp(r->uploads[i].field, field) && r->uploads[i].size > 0)
			return &r->uploads[i];
	return NULL;
}

/* Attach a fetched material's signed document to the case. */
static dg_rc attach_doc(struct dg_req *r, struct pf *p, const char *name, json_t *doc)
{
	char *text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
	int64_t fid = 0;
	dg_rc rc = text && strlen(text) <= DOC_MAX ? DG_OK : DG_ETOOBIG;
	if (!rc)
		rc = dg_case_draft_attach(p->db, &r->env->keys, r->env->cfg->data_dir, &p->d, name,
					  dg_arena_printf(r->arena, "%s.json", name),
					  "application/json", text, strlen(text), &fid);
	free(text);
	if (!rc)
		rc = x_prefill_file_set(p->db, p->d.ref, name, fid);
	return rc;
}

/* The certificate chosen for plan entry i: the form's cert-I, else the one offered. */
static const char *chosen_cert(struct dg_req *r, const json_t *e, size_t i)
{
	const char *id = dg_kvs_get(&r->form, dg_arena_printf(r->arena, "cert-%zu", i));
	json_t *c;
	size_t j;
	if (id)
		return id;
	json_array_foreach (json_object_get(e, "certs"), j, c)
		if (json_is_true(json_object_get(c, "chosen")))
			return json_string_value(json_object_get(c, "id"));
	return NULL;
}

/* Fetch what is ticked, take uploads for what is not; *results what happened to each.
 * EINVAL with *bad an i18n key: a bad upload or certificate, the page says which. */
static dg_rc fetch_all(struct dg_req *r, struct pf *p, json_t *plan, json_t *results,
		       const char **bad)
{
	struct x_prefill_ctx c = {.env = r->env,
				  .db = p->db,
				  .a = r->arena,
				  .dept = p->d.dept_code,
				  .purpose = p->d.item_code,
				  .ref = p->d.ref,
				  .subject = p->subject,
				  .applicant = r->user->id};
	json_t *values = json_object(), *e;
	size_t i;
	dg_rc rc = DG_OK;
	json_array_foreach (plan, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		const char *kind = json_string_value(json_object_get(e, "kind"));
		bool material = strcmp(kind, "field") != 0;
		const char *why = NULL, *outcome = NULL;
		if (json_is_true(json_object_get(e, "available")) && ticked(r, name) &&
		    !strcmp(kind, "certificate")) {
			json_t *doc = NULL;
			rc = x_prefill_certificate(&c, e, chosen_cert(r, e, i), &doc, bad);
			if (!rc)
				rc = attach_doc(r, p, name, doc);
			json_decref(doc);
			outcome = "fetched";
		} else if (json_is_true(json_object_get(e, "available")) && ticked(r, name)) {
			if (material) {
				json_t *doc = NULL;
				rc = x_prefill_material(&c, e, &doc, &why);
				if (!rc && doc)
					rc = attach_doc(r, p, name, doc);
				json_decref(doc);
			} else
				rc = x_prefill_field(&c, e, values, &why);
			outcome = why ? "refused" : "fetched";
		} else if (material) {
			const struct dg_upload *u =
				upload_of(r, dg_arena_printf(r->arena, "upload-%zu", i));
			int64_t fid = 0;
			if (u) {
				rc = dg_case_draft_attach_upload(p->db, &r->env->keys,
								 r->env->cfg->data_dir, &p->d, name,
								 u, &fid);
				if (rc == DG_EINVAL || rc == DG_ETOOBIG) {
					*bad = rc == DG_ETOOBIG ? "exchange.prefill.err.big"
								: "exchange.prefill.err.type";
					rc = DG_EINVAL;
				}
				outcome = "uploaded";
			}
		}
		if (rc)
			break;
		if (outcome)
			json_array_append_new(
				results,
				json_pack(
					"{s:s,s:s,s:s}", "name",
					json_string_value(json_object_get(
						e, r->lang && !strcmp(r->lang, "en") ? "label_en"
										     : "label_zh")),
					"outcome", outcome, "why",
					why ? dg_t(r,
						   dg_arena_printf(r->arena,
								   "exchange.prefill.why.%s", why))
					    : ""));
	}
	if (!rc && json_object_size(values))
		rc = dg_case_draft_prefill(p->db, &r->env->keys, &p->d, p->answers, values);
	json_decref(values);
	return rc;
}

static dg_rc prefill_post(struct dg_req *r)
{
	struct pf p;
	json_t *plan = NULL, *results = json_array();
	const char *bad = NULL;
	dg_rc rc = pf_load(r, &p);
	if (!rc && !p.subject[0])
		rc = dg_err_set(&r->err, DG_EDENIED, "%s", dg_t(r, "exchange.use.no_id"));
	if (!rc)
		rc = x_prefill_plan(p.db, &r->env->keys, r->user->id, p.d.dept_code, p.d.item_code,
				    p.form, p.item, &plan);
	if (!rc && !(rc = dg_db_begin(p.db))) {
		rc = fetch_all(r, &p, plan, results, &bad);
		/* refusals are audited like reads: they commit with what was fetched */
		if (!rc)
			rc = dg_db_commit(p.db);
		if (rc)
			dg_db_rollback(p.db);
	}
	json_decref(plan);
	if (rc == DG_EINVAL && bad) {
		json_t *data = json_object();
		dg_form_error(data, "prefill", dg_t(r, bad));
		json_decref(results);
		rc = render(r, &p, 422, data);
		pf_release(&p);
		return rc;
	}
	if (rc) {
		json_decref(results);
		pf_release(&p);
		return rc;
	}
	if (json_array_size(results) == 0) {
		/* nothing asked for: the applicant fills the form themself */
		json_decref(results);
		dg_reply_redirect(r, dg_arena_printf(r->arena, "/my/cases/%s/form/1", p.d.ref));
		pf_release(&p);
		return DG_OK;
	}
	rc = render(r, &p, 200, json_pack("{s:o,s:b}", "results", results, "after", 1));
	pf_release(&p);
	return rc;
}

dg_rc x_prefill_sources(struct dg_req *r, const char *ref, json_t **out)
{
	struct dg_db *db = NULL;
	json_t *done = NULL, *e;
	size_t i;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = x_prefills_of(db, ref, &done);
	if (!rc)
		rc = label(r, db, NULL, done);
	if (rc) {
		json_decref(done);
		return rc;
	}
	*out = json_object();
	json_array_foreach (done, i, e)
		if (!strcmp(json_string_value(json_object_get(e, "kind")), "field"))
			json_object_set(*out, json_string_value(json_object_get(e, "name")), e);
	json_decref(done);
	return DG_OK;
}

#define RESIDENT (DG_ROLE_CITIZEN | DG_ROLE_AGENT)

static const struct dg_route routes[] = {
	{"GET", "/my/cases/{ref}/prefill", prefill_page, RESIDENT, 0},
	{"POST", "/my/cases/{ref}/prefill", prefill_post, RESIDENT, 0},
};

const struct dg_route *x_prefill_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
