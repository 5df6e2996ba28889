/*
 * catalog.c - the service catalogue's pages and API: finding a service
 * (/services with search and browse), the guide (/services/{code}), its print
 * view and its blank application form (/services/{code}/form.pdf, blank.c),
 * the department's management page and
 * its publish / amend / retire actions, and GET /api/v1/services[/{code}].
 *
 * Handlers only translate between HTTP and the catalogue's functions in
 * catalog_sql.c; labels for codes (kind, audience, themes ...) are looked up
 * here in the request's language, so the store holds codes, not words.
 */
#include "catalog/catalog.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "node/env.h"
#include "catalog/internal.h"
#include "core/str.h"
#include "web/page.h"
#include "web/pcache.h"

#define Q_MAX   240 /* bytes of a search query */
#define Q_CHARS 60  /* characters of a search query */

/* A string member, "" when missing. */
static const char *sget(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static int is_en(const struct dg_req *r)
{
	return r->lang && strcmp(r->lang, "en") == 0;
}

/* dg_t for a key made of a prefix and a code ("catalog.kind." "permit"). */
static const char *label(struct dg_req *r, const char *prefix, const char *code)
{
	return dg_t(r, dg_arena_printf(r->arena, "%s%s", prefix, code ? code : ""));
}

static json_t *labels(struct dg_req *r, const char *prefix, json_t *codes)
{
	json_t *out = json_array(), *c;
	size_t i;
	json_array_foreach (codes, i, c)
		json_array_append_new(out,
				      json_pack("{s:s, s:s}", "code", json_string_value(c), "label",
						label(r, prefix, json_string_value(c))));
	return out;
}

static void fee_text(struct dg_req *r, json_t *it)
{
	json_int_t fen = json_integer_value(json_object_get(it, "fee_fen"));
	const char *s =
		fen == 0 ? dg_t(r, "catalog.fee_free")
			 : dg_arena_printf(r->arena, "%s %lld.%02lld", dg_t(r, "catalog.yuan"),
					   (long long)(fen / 100), (long long)(fen % 100));
	json_object_set_new(it, "fee_text", json_string(s));
}

/*
 * The guide's texts in the page's language (web/page.h, dg_page_pick):
 * "shown" holds each text, "shown_lang" the language of any shown in the
 * other one (Chinese on an English page, where no English was given), and
 * "fallback" is true when there is any, so the page can say so.
 */
static void pick_texts(struct dg_req *r, json_t *it)
{
	static const char *const keys[] = {"fee_basis", "legal_basis", "conditions", "place",
					   "hours",     "consult",     "complain",   NULL};
	json_t *shown = json_object(), *langs = json_object(), *f;
	bool fell = false;
	size_t i;
	for (const char *const *k = keys; *k; k++)
		fell |= dg_page_pick(r, shown, langs, *k, sget(it, *k),
				     sget(it, dg_arena_printf(r->arena, "%s_en", *k)));
	json_array_foreach (json_object_get(it, "faq"), i, f) {
		json_t *fl = json_object();
		fell |= dg_page_pick(r, f, fl, "q_shown", sget(f, "q"), sget(f, "q_en"));
		fell |= dg_page_pick(r, f, fl, "a_shown", sget(f, "a"), sget(f, "a_en"));
		json_object_set_new(f, "lang", fl);
	}
	json_object_set_new(it, "shown", shown);
	json_object_set_new(it, "shown_lang", langs);
	json_object_set_new(it, "fallback", json_boolean(fell));
}

/* Add the words a page shows for an item's codes, in the request's language. */
static void localise(struct dg_req *r, json_t *it)
{
	int en = is_en(r);
	pick_texts(r, it);
	json_object_set(it, "name", json_object_get(it, en ? "name_en" : "name_zh"));
	json_object_set(it, "dept_name", json_object_get(it, en ? "dept_name_en" : "dept_name_zh"));
	json_object_set_new(it, "kind_label",
			    json_string(label(r, "catalog.kind.",
					      json_string_value(json_object_get(it, "kind")))));
	json_object_set_new(it, "audience_label",
			    json_string(label(r, "catalog.audience.",
					      json_string_value(json_object_get(it, "audience")))));
	json_object_set_new(it, "scope_label",
			    json_string(label(r, "catalog.scope.",
					      json_string_value(json_object_get(it, "scope")))));
	json_object_set_new(it, "depth_label",
			    json_string(label(r, "catalog.depth.",
					      json_string_value(json_object_get(it, "depth")))));
	json_object_set_new(it, "theme_labels",
			    labels(r, "catalog.theme.", json_object_get(it, "themes")));
	json_object_set_new(it, "event_labels",
			    labels(r, "catalog.event.", json_object_get(it, "events")));
	json_int_t trips = json_integer_value(json_object_get(it, "trips"));
	json_object_set_new(it, "trips_label",
			    json_string(dg_t(r, trips == 0 ? "catalog.trips0" : "catalog.trips1")));
	json_object_set_new(it, "retired",
			    json_boolean(strcmp(sget(it, "status"), "retired") == 0));
	fee_text(r, it);
	json_t *mats = json_object_get(it, "materials"), *m;
	size_t i;
	json_array_foreach (mats, i, m) {
		json_object_set(m, "name", json_object_get(m, en ? "name_en" : "name_zh"));
		json_object_set_new(
			m, "medium_label",
			json_string(label(r, "catalog.medium.",
					  json_string_value(json_object_get(m, "medium")))));
		json_object_set_new(m, "shared",
				    json_boolean(strcmp(sget(m, "source"), "department") == 0));
	}
}

/* Read and check the query string; EINVAL with a message for a bad value. */
static dg_rc read_query(struct dg_req *r, struct cat_query *q)
{
	memset(q, 0, sizeof(*q));
	q->q = dg_kvs_get(&r->query, "q");
	q->theme = dg_kvs_get(&r->query, "theme");
	q->event = dg_kvs_get(&r->query, "event");
	q->dept = dg_kvs_get(&r->query, "dept");
	q->audience = dg_kvs_get(&r->query, "audience");
	const char *page = dg_kvs_get(&r->query, "page");
	q->page = 1;
	if (q->q && !dg_utf8_valid(q->q, strlen(q->q)))
		return dg_err_field(&r->err, DG_EINVAL, "q", "%s", dg_t(r, "catalog.err.q_bad"));
	if (q->q && (strlen(q->q) > Q_MAX || dg_utf8_len(q->q, strlen(q->q)) > Q_CHARS))
		return dg_err_field(&r->err, DG_EINVAL, "q", "%s", dg_t(r, "catalog.err.q_long"));
	if (page && *page &&
	    (dg_str_to_i64(dg_str_of(page), &q->page) != DG_OK || q->page < 1 || q->page > 1000))
		return dg_err_field(&r->err, DG_EINVAL, "page", "%s", dg_t(r, "catalog.err.page"));
	if (q->audience && *q->audience && strcmp(q->audience, "person") &&
	    strcmp(q->audience, "enterprise"))
		return dg_err_field(&r->err, DG_EINVAL, "audience", "%s",
				    dg_t(r, "catalog.err.audience"));
	return DG_OK;
}

/*
 * A search that found nothing: the catalogue terms its everyday words mean
 * (synonyms.c), each searched with the same filters, the items found merged
 * (first page of each, no item twice) into res. The terms go into d as
 * "did you mean" links. res keeps its zero when no term finds anything.
 */
static dg_rc try_synonyms(struct dg_req *r, struct dg_db *db, const struct cat_query *q,
			  json_t *res, json_t *d)
{
	json_t *terms = cat_synonym_terms(r->arena, q->q), *t, *links = json_array();
	json_t *items = json_object_get(res, "items");
	size_t i, j;
	dg_rc rc = DG_OK;
	json_array_foreach (terms, i, t) {
		struct cat_query tq = *q;
		json_t *got = NULL, *it;
		tq.q = json_string_value(t);
		tq.page = 1;
		rc = cat_search(db, &tq, &got);
		if (rc)
			break;
		json_array_foreach (json_object_get(got, "items"), j, it) {
			bool seen = false;
			json_t *o;
			size_t k;
			json_array_foreach (items, k, o)
				seen |= json_equal(json_object_get(o, "code"),
						   json_object_get(it, "code"));
			if (!seen)
				json_array_append(items, it);
		}
		struct dg_buf b;
		dg_buf_init(&b, 1024);
		if (!dg_buf_adds(&b, "/services?q=") && !dg_buf_add_url(&b, tq.q, strlen(tq.q)))
			json_array_append_new(
				links,
				json_pack("{s:s, s:s, s:I}", "term", tq.q, "href", dg_buf_str(&b),
					  "count",
					  json_integer_value(json_object_get(got, "total"))));
		dg_buf_release(&b);
		json_decref(got);
	}
	json_object_set_new(res, "total", json_integer((json_int_t)json_array_size(items)));
	if (json_array_size(links))
		json_object_set_new(d, "did_you_mean", links);
	else
		json_decref(links);
	json_decref(terms);
	return rc;
}

/*
 * The catalogue's version, for the page cache (web/pcache.h), read from the
 * store on every cacheable request so that a publish on any node is seen by
 * the next request on every other; 0 (no caching) for a requester who is
 * signed in, or when it cannot be read. It is read before the page's data:
 * a page kept under a version is never older than that version.
 */
static int64_t cache_version(struct dg_req *r)
{
	struct dg_db *db = NULL;
	int64_t v = 0;
	if (!dg_page_cacheable(r) || dg_req_db(r, &db) || cat_version(db, &v))
		return 0;
	return v;
}

/* Facet counts as lists of {code, label, count, selected} for the browse panel. */
static json_t *facet_list(struct dg_req *r, json_t *counts, const char *prefix, const char *sel,
			  json_t *names)
{
	json_t *out = json_array(), *v;
	const char *k;
	json_object_foreach (counts, k, v) {
		const char *lab =
			names ? json_string_value(json_object_get(json_object_get(names, k),
								  is_en(r) ? "en" : "zh"))
			      : label(r, prefix, k);
		json_array_append_new(out, json_pack("{s:s, s:s, s:O, s:b}", "code", k, "label",
						     lab ? lab : k, "count", v, "selected",
						     sel && strcmp(sel, k) == 0));
	}
	return out;
}

static dg_rc page_services(struct dg_req *r)
{
	struct cat_query q;
	struct dg_db *db = NULL;
	int64_t version = cache_version(r);
	if (dg_page_cached(r, version))
		return DG_OK;
	json_t *res = NULL, *fac = NULL, *d = json_object();
	json_object_set_new(d, "title", json_string(dg_t(r, "catalog.title")));
	dg_rc rc = read_query(r, &q);
	/* the words typed are kept in the box, even when they were refused */
	if (q.q && dg_utf8_valid(q.q, strlen(q.q)))
		json_object_set_new(d, "q", json_string(q.q));
	if (rc) {
		dg_form_error(d, r->err.field, r->err.msg);
		q.q = NULL;
		q.theme = q.event = q.dept = q.audience = NULL;
		q.page = 1;
	}
	rc = dg_req_db(r, &db);
	if (!rc)
		rc = cat_search(db, &q, &res);
	bool synonyms =
		!rc && q.q && *q.q && json_integer_value(json_object_get(res, "total")) == 0;
	if (synonyms)
		rc = try_synonyms(r, db, &q, res, d);
	if (synonyms && json_integer_value(json_object_get(res, "total")))
		json_object_set_new(d, "rewritten", json_true());
	if (!rc)
		rc = cat_facets(db, &fac);
	if (rc) {
		json_decref(d);
		json_decref(res);
		json_decref(fac);
		return rc;
	}
	json_t *it;
	size_t i;
	json_array_foreach (json_object_get(res, "items"), i, it)
		localise(r, it);
	json_object_set_new(d, "filtered",
			    json_boolean((q.q && *q.q) || (q.theme && *q.theme) ||
					 (q.event && *q.event) || (q.dept && *q.dept) ||
					 (q.audience && *q.audience)));
	json_object_set_new(
		d, "themes",
		facet_list(r, json_object_get(fac, "themes"), "catalog.theme.", q.theme, NULL));
	json_object_set_new(
		d, "events",
		facet_list(r, json_object_get(fac, "events"), "catalog.event.", q.event, NULL));
	json_object_set_new(d, "depts",
			    facet_list(r, json_object_get(fac, "depts"), NULL, q.dept,
				       json_object_get(fac, "dept_names")));
	json_object_set_new(d, "audiences",
			    facet_list(r, json_object_get(fac, "audiences"), "catalog.audience.",
				       q.audience, NULL));
	json_decref(fac);
	json_object_set_new(d, "suggest", cat_synonym_suggestions());
	json_object_set_new(d, "pager",
			    dg_pager(r, json_integer_value(json_object_get(res, "total")), q.page,
				     json_object_get(d, "rewritten") ? 1000 : CAT_PAGE));
	json_object_set_new(d, "result", res);
	return dg_page_versioned(r, version, "catalog/list.html", d);
}

/* The item named by {code} in force, localised; ENOTFOUND otherwise. */
static dg_rc load_item(struct dg_req *r, json_t **out)
{
	struct dg_db *db = NULL;
	const char *code = dg_kvs_get(&r->params, "code");
	*out = NULL;
	if (!code || strlen(code) > 40)
		return DG_ENOTFOUND;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = cat_get(db, code, out);
	if (rc == DG_ENOTFOUND)
		dg_err_set(&r->err, rc, "%s", dg_t(r, "catalog.err.no_item"));
	return rc;
}

/*
 * The guide's address on the site (--site-url, never the request's Host
 * header), for the printed guide and API clients that link to it.
 */
static void set_url(struct dg_req *r, json_t *it)
{
	char buf[DG_SITE_URL_MAX];
	const char *code = json_string_value(json_object_get(it, "code"));
	struct dg_buf b;
	dg_buf_init(&b, 1024);
	if (code && !dg_buf_addf(&b, "%s/services/", dg_config_site_url(r->env->cfg, buf)) &&
	    !dg_buf_add_url(&b, code, strlen(code)))
		json_object_set_new(it, "url", json_string(dg_buf_str(&b)));
	dg_buf_release(&b);
}

/*
 * The guide's own checks, for the staff who keep it: every material the
 * applicant must bring is asked for by the application form (a file field
 * named m<N> for the Nth material, as the default form makes them, or one
 * labelled with the material's name). One sentence per problem.
 */
static json_t *guide_problems(struct dg_req *r, const json_t *item)
{
	json_t *out = json_array(), *m, *p, *f;
	json_t *form = json_object_get(item, "form") ? json_incref(json_object_get(item, "form"))
						     : dg_itemform_of(item);
	size_t i, j, k;
	bool en = is_en(r);
	json_array_foreach (json_object_get(item, "materials"), i, m) {
		const char *src = json_string_value(json_object_get(m, "source"));
		if (!src || strcmp(src, "applicant") ||
		    !json_is_true(json_object_get(m, "required")))
			continue;
		const char *name = json_string_value(json_object_get(m, "name_zh"));
		char field_name[32];
		snprintf(field_name, sizeof(field_name), "m%zu", i + 1);
		bool asked = false;
		json_array_foreach (json_object_get(form, "pages"), j, p)
			json_array_foreach (json_object_get(p, "fields"), k, f) {
				const char *type = json_string_value(json_object_get(f, "type"));
				const char *fname = json_string_value(json_object_get(f, "name"));
				const char *lab = json_string_value(json_object_get(f, "label_zh"));
				if (type && !strcmp(type, "file") &&
				    ((fname && !strcmp(fname, field_name)) ||
				     (lab && name && !strcmp(lab, name))))
					asked = true;
			}
		if (!asked)
			json_array_append_new(
				out, json_string(dg_arena_printf(
					     r->arena, "%s%s%s",
					     dg_t(r, "catalog.check.material_not_asked"),
					     json_string_value(json_object_get(m, en ? "name_en"
										     : "name_zh")),
					     dg_t(r, "catalog.check.material_not_asked_end"))));
	}
	json_decref(form);
	return out;
}

static dg_rc guide_page(struct dg_req *r, const char *tmpl)
{
	json_t *it = NULL;
	int64_t version = cache_version(r);
	if (dg_page_cached(r, version))
		return DG_OK;
	dg_rc rc = load_item(r, &it);
	if (rc)
		return rc;
	set_url(r, it);
	json_t *d = json_object();
	enum dg_role role = dg_req_role(r);
	if (role == DG_ROLE_STAFF || role == DG_ROLE_ADMIN)
		json_object_set_new(d, "problems", guide_problems(r, it));
	localise(r, it);
	json_object_set(d, "title", json_object_get(it, "name"));
	json_object_set_new(d, "item", it);
	return dg_page_versioned(r, version, tmpl, d);
}

static dg_rc page_guide(struct dg_req *r)
{
	return guide_page(r, "catalog/guide.html");
}

/*
 * GET /services/{code}/form.pdf: the item's application form, blank, to
 * print and fill by hand, where the guide lists the form as a material.
 */
static dg_rc page_blank(struct dg_req *r)
{
	json_t *it = NULL, *m;
	dg_rc rc = load_item(r, &it);
	if (rc)
		return rc;
	size_t i;
	bool offered = false;
	json_array_foreach (json_object_get(it, "materials"), i, m)
		offered |= !strcmp(sget(m, "blank"), "form");
	if (!offered || !strcmp(sget(it, "status"), "retired")) {
		json_decref(it);
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "catalog.err.no_blank"));
	}
	char site[DG_SITE_URL_MAX];
	const char *code = sget(it, "code");
	json_t *form = json_object_get(it, "form") ? json_incref(json_object_get(it, "form"))
						   : dg_itemform_of(it);
	struct dg_buf b;
	dg_buf_init(&b, 4u << 20);
	rc = cat_blank_pdf(
		it, form,
		dg_arena_printf(r->arena, "%s %s", r->env->region.name_zh, r->env->region.name_en),
		dg_arena_printf(r->arena, "%s/services/%s/apply",
				dg_config_site_url(r->env->cfg, site), code),
		&b);
	if (!rc) {
		dg_reply_header(
			r, "Content-Disposition",
			dg_arena_printf(r->arena, "inline; filename=\"%s-form.pdf\"", code));
		dg_reply_buf(r, 200, "application/pdf", &b);
	}
	dg_buf_release(&b);
	json_decref(form);
	json_decref(it);
	return rc;
}

static dg_rc page_print(struct dg_req *r)
{
	return guide_page(r, "catalog/print.html");
}

static dg_rc api_list(struct dg_req *r)
{
	struct cat_query q;
	struct dg_db *db = NULL;
	json_t *res = NULL;
	dg_rc rc = read_query(r, &q);
	if (rc) {
		dg_reply_json_error(r, rc, r->err.msg, r->err.field);
		return DG_OK;
	}
	rc = dg_req_db(r, &db);
	if (!rc)
		rc = cat_search(db, &q, &res);
	if (rc)
		return rc;
	/* nothing found: the catalogue terms its everyday words mean, for the client to try */
	if (q.q && *q.q && json_integer_value(json_object_get(res, "total")) == 0)
		json_object_set_new(res, "did_you_mean", cat_synonym_terms(r->arena, q.q));
	dg_reply_json(r, 200, res);
	return DG_OK;
}

static dg_rc api_item(struct dg_req *r)
{
	json_t *it = NULL;
	dg_rc rc = load_item(r, &it);
	if (rc)
		return rc;
	json_object_del(it, "dept_id");
	set_url(r, it);
	dg_reply_json(r, 200, it);
	return DG_OK;
}

/* ---- the department's own items ------------------------------------ */

static int64_t dept_scope(const struct dg_req *r)
{
	return r->user->role == DG_ROLE_ADMIN ? 0 : r->user->dept_id;
}

static dg_rc page_manage(struct dg_req *r)
{
	struct dg_db *db = NULL;
	json_t *list = NULL, *it;
	size_t i;
	if (r->user->role == DG_ROLE_STAFF && r->user->dept_id <= 0)
		return DG_EDENIED;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = cat_list_managed(db, dept_scope(r), &list);
	if (rc)
		return rc;
	json_array_foreach (list, i, it) {
		json_object_set(it, "name", json_object_get(it, is_en(r) ? "name_en" : "name_zh"));
		json_object_set_new(
			it, "status_label",
			json_string(label(r, "catalog.status.",
					  json_string_value(json_object_get(it, "status")))));
	}
	json_t *d = json_object();
	json_object_set_new(d, "title", json_string(dg_t(r, "catalog.manage.title")));
	json_object_set_new(d, "items", list);
	const char *done = dg_kvs_get(&r->query, "done");
	if (done && (!strcmp(done, "publish") || !strcmp(done, "amend") ||
		     !strcmp(done, "retire") || !strcmp(done, "saved")))
		json_object_set_new(d, "done", json_string(label(r, "catalog.done.", done)));
	return dg_page(r, 200, "catalog/manage.html", d);
}

/* POST /catalog/items/{code}/{publish|amend|retire}: own department's items only. */
static dg_rc post_action(struct dg_req *r)
{
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	int64_t dept = 0;
	const char *code = dg_kvs_get(&r->params, "code"), *act = dg_kvs_get(&r->params, "action");
	dg_rc (*fn)(struct dg_db *, const char *, struct dg_err *) =
		!strcmp(act, "publish")  ? cat_publish
		: !strcmp(act, "amend")  ? cat_amend
		: !strcmp(act, "retire") ? cat_retire
					 : NULL;
	if (!fn || strlen(code) > 40)
		return DG_ENOTFOUND;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = cat_dept_of(db, code, &dept);
	if (!rc && dept_scope(r) && dept != dept_scope(r))
		rc = DG_ENOTFOUND; /* another department's item: do not reveal it */
	if (!rc)
		rc = dg_db_begin(db);
	if (rc)
		return rc;
	rc = fn(db, code, &err);
	if (!rc)
		rc = dg_db_commit(db);
	if (rc) {
		dg_db_rollback(db);
		if (rc == DG_ECONFLICT || rc == DG_ENOTFOUND) {
			dg_err_set(&r->err, rc, "%s", label(r, "catalog.err.", act));
			rc = DG_ECONFLICT;
		}
		return rc;
	}
	dg_reply_redirect(r, dg_arena_printf(r->arena, "/catalog/manage?done=%s", act));
	return DG_OK;
}

dg_rc dg_catalog_item(struct dg_db *db, const char *code, json_t **out)
{
	return cat_get(db, code, out);
}

static const struct dg_route routes[] = {
	{"GET", "/services", page_services, DG_ROLE_ANY, 0},
	{"GET", "/services/{code}", page_guide, DG_ROLE_ANY, 0},
	{"GET", "/services/{code}/print", page_print, DG_ROLE_ANY, 0},
	{"GET", "/services/{code}/form.pdf", page_blank, DG_ROLE_ANY, 0},
	{"GET", "/api/v1/services", api_list, DG_ROLE_ANY, 0},
	{"GET", "/api/v1/services/{code}", api_item, DG_ROLE_ANY, 0},
	{"GET", "/catalog/manage", page_manage, DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"POST", "/catalog/items/{code}/{action}", post_action, DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
};

const struct dg_route *dg_catalog_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
