/*
 * pages.c - open data for people: the catalogue search at /data (facets as
 * plain links, a count, pages and a sort), a dataset's page (its metadata,
 * resources with downloads, a preview table of its first datastore table
 * with filters, and a chart), a resource's API page with ready examples,
 * and the route table. Data requests and the showcase are in requests.c,
 * the statistics in stats.c.
 *
 * Reads go through the same functions as the CKAN API (dg_od_search_run,
 * dg_od_package_show, dg_ckan_datastore_search), so the pages can never show a
 * dataset the API would hide: closed and private ones are "not found".
 * Every input has a cap and a message in the reader's language; a query the
 * search cannot understand is a 400 page with the form still filled in.
 */
#include "opendata/pages/pages_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/env.h"
#include "core/date.h"
#include "core/str.h"
#include "opendata/catalog/catalog.h"
#include "opendata/datastore/datastore.h"
#include "web/chart.h"
#include "web/page.h"

#define Q_MAX            200  /* bytes of the search words */
#define ADV_MAX          500  /* bytes of the advanced (Solr) filter */
#define VALUE_MAX        200  /* bytes of a facet or preview filter value */
#define PER_PAGE         10   /* datasets per result page */
#define PAGE_MAX         1000 /* result pages a visitor may ask for */
#define PREVIEW_ROWS     20   /* rows per preview page */
#define PREVIEW_PAGE_MAX 5000

/* The facet filters /data takes: query key, Solr field, facet name, title key. */
static const char *const facet_keys[][4] = {
	{"org", "organization", "organization", "odp.facet.org"},
	{"group", "groups", "groups", "odp.facet.group"},
	{"tag", "tags", "tags", "odp.facet.tag"},
	{"format", "res_format", "res_format", "odp.facet.format"},
	{"tier", "open_tier", "open_tier", "odp.facet.tier"},
	{"freq", "update_frequency", "update_frequency", "odp.facet.freq"},
};
#define NFACETS (sizeof facet_keys / sizeof facet_keys[0])

/* Sorts offered: key, package_search sort, label key. */
static const char *const sorts[][3] = {
	{"relevance", "score desc, metadata_modified desc", "odp.sort.relevance"},
	{"modified", "metadata_modified desc", "odp.sort.modified"},
	{"title", "title_string asc", "odp.sort.title"},
};

static const char *tr(struct dg_req *r, const char *prefix, const char *code)
{
	const char *key = dg_arena_printf(r->arena, "%s.%s", prefix, code);
	const char *v = dg_t(r, key);
	return strcmp(v, key) == 0 ? code : v;
}

/* Departments' names by code in the page's language (for facets and metadata). */
static dg_rc dept_names(struct dg_req *r, struct dg_db *db, json_t **out)
{
	struct dg_rows *rows = NULL;
	dg_rc rc =
		dg_db_query(db, "SELECT code, name_zh, name_en FROM departments", DG_NOARGS, &rows);
	if (rc)
		return rc;
	json_t *m = json_object();
	bool en = strcmp(r->lang, "en") == 0;
	while ((rc = dg_rows_next(rows)) == DG_OK)
		json_object_set_new(m, dg_rows_text(rows, 0),
				    json_string(dg_rows_text(rows, en ? 2 : 1)));
	dg_rows_free(rows);
	if (rc != DG_ENOTFOUND) {
		json_decref(m);
		return rc;
	}
	*out = m;
	return DG_OK;
}

static const char *name_of(json_t *names, const char *code)
{
	const char *v = json_string_value(json_object_get(names, code));
	return v ? v : code;
}

/* The label of a facet value: departments by name, tiers and frequencies translated. */
const char *dg_od_theme_label(struct dg_req *r, const char *id)
{
	return tr(r, "odp.theme", id ? id : "");
}

/*
 * A facet value's label: a department's name, a theme's in the page's
 * language (its id is the item's display_name, v may be a name it was
 * given: catalog/names.c), a tier's or frequency's, else the value.
 */
static const char *facet_label(struct dg_req *r, json_t *depts, size_t f, json_t *item)
{
	const char *v = json_string_value(json_object_get(item, "name"));
	if (f == 0)
		return name_of(depts, v);
	if (f == 1)
		return dg_od_theme_label(r,
					 json_string_value(json_object_get(item, "display_name")));
	if (f == 4)
		return tr(r, "odp.tier", v);
	if (f == 5)
		return tr(r, "odp.freq", v);
	return v;
}

/* ---- /data ---- */

struct search_state {
	const char *q, *adv, *sort;
	const char *facet[NFACETS];
	int64_t page;
};

/* "/data?..." with the state, one facet or the page replaced (skip < 0: none). */
static const char *search_href(struct dg_req *r, const struct search_state *st, int skip,
			       const char *val, int64_t page)
{
	struct dg_buf b;
	dg_buf_init(&b, 4096);
	dg_rc rc = dg_buf_adds(&b, "/data?");
	const char *keys[NFACETS + 3];
	const char *vals[NFACETS + 3];
	size_t n = 0;
	keys[n] = "q", vals[n++] = st->q;
	for (size_t i = 0; i < NFACETS; i++)
		keys[n] = facet_keys[i][0], vals[n++] = (int)i == skip ? val : st->facet[i];
	keys[n] = "adv", vals[n++] = st->adv;
	keys[n] = "sort", vals[n++] = strcmp(st->sort, "relevance") ? st->sort : NULL;
	for (size_t i = 0; i < n && !rc; i++) {
		if (!vals[i] || !vals[i][0])
			continue;
		rc = dg_buf_addf(&b, "%s=", keys[i]);
		if (!rc)
			rc = dg_buf_add_url(&b, vals[i], strlen(vals[i]));
		if (!rc)
			rc = dg_buf_addc(&b, '&');
	}
	if (!rc && page > 1)
		rc = dg_buf_addf(&b, "page=%lld&", (long long)page);
	const char *s = dg_arena_strdup(r->arena, dg_buf_str(&b));
	dg_buf_release(&b);
	size_t len = strlen(s);
	return len > 0 && (s[len - 1] == '&' || s[len - 1] == '?')
		       ? dg_arena_strndup(r->arena, s, len - 1)
		       : s;
}

/* A Solr filter field:"value" with the value's quotes and backslashes escaped. */
static const char *fq_of(struct dg_req *r, const char *field, const char *v)
{
	struct dg_buf b;
	dg_buf_init(&b, 1024);
	dg_rc rc = dg_buf_addf(&b, "%s:\"", field);
	for (const char *p = v; *p && !rc; p++) {
		if (*p == '"' || *p == '\\')
			rc = dg_buf_addc(&b, '\\');
		if (!rc)
			rc = dg_buf_addc(&b, *p);
	}
	if (!rc)
		rc = dg_buf_addc(&b, '"');
	const char *s = dg_arena_strdup(r->arena, dg_buf_str(&b));
	dg_buf_release(&b);
	return s;
}

/* Read and check the inputs; a problem goes to d's errors (the page still renders). */
static bool read_search(struct dg_req *r, struct search_state *st, json_t *d)
{
	bool ok = true;
	st->q = dg_kvs_get(&r->query, "q");
	st->adv = dg_kvs_get(&r->query, "adv");
	st->sort = dg_kvs_get(&r->query, "sort");
	st->page = 1;
	if (st->q && strlen(st->q) > Q_MAX) {
		dg_form_error(d, "q", dg_t(r, "odp.err.q_long"));
		st->q = NULL, ok = false;
	}
	if (st->adv && strlen(st->adv) > ADV_MAX) {
		dg_form_error(d, "adv", dg_t(r, "odp.err.adv_long"));
		st->adv = NULL, ok = false;
	}
	for (size_t i = 0; i < NFACETS; i++) {
		st->facet[i] = dg_kvs_get(&r->query, facet_keys[i][0]);
		if (st->facet[i] && strlen(st->facet[i]) > VALUE_MAX) {
			dg_form_error(d, "q", dg_t(r, "odp.err.val_long"));
			st->facet[i] = NULL, ok = false;
		}
	}
	bool known = false;
	for (size_t i = 0; st->sort && i < sizeof sorts / sizeof sorts[0]; i++)
		known |= strcmp(st->sort, sorts[i][0]) == 0;
	if (st->sort && !known) {
		dg_form_error(d, "sort", dg_t(r, "odp.err.sort"));
		ok = false;
	}
	if (!known)
		st->sort = "relevance";
	const char *page = dg_kvs_get(&r->query, "page");
	if (page &&
	    (dg_str_to_i64(dg_str_of(page), &st->page) || st->page < 1 || st->page > PAGE_MAX)) {
		dg_form_error(d, "page", dg_t(r, "odp.err.page"));
		st->page = 1, ok = false;
	}
	return ok;
}

static json_t *facet_lists(struct dg_req *r, const struct search_state *st, json_t *res,
			   json_t *depts)
{
	json_t *out = json_array();
	json_t *sf = json_object_get(res, "search_facets");
	for (size_t i = 0; i < NFACETS; i++) {
		json_t *items = json_object_get(json_object_get(sf, facet_keys[i][2]), "items");
		json_t *list = json_array(), *it;
		size_t k;
		json_array_foreach (items, k, it) {
			const char *v = json_string_value(json_object_get(it, "name"));
			bool sel = st->facet[i] && strcmp(st->facet[i], v) == 0;
			const char *label = facet_label(r, depts, i, it);
			/* themes and tags are data, in the language they were written in */
			const char *lang = dg_page_lang_of(r, label);
			json_array_append_new(
				list,
				json_pack("{s:s, s:s, s:s, s:b, s:s}", "label", label, "href",
					  search_href(r, st, (int)i, sel ? NULL : v, 1), "count",
					  dg_count_text(r, json_integer_value(
								   json_object_get(it, "count"))),
					  "selected", sel, "lang", lang ? lang : ""));
		}
		json_t *f = json_pack("{s:s, s:s, s:o}", "key", facet_keys[i][0], "title",
				      dg_t(r, facet_keys[i][3]), "items", list);
		if (st->facet[i])
			json_object_set_new(f, "clear",
					    json_string(search_href(r, st, (int)i, NULL, 1)));
		json_array_append_new(out, f);
	}
	return out;
}

/*
 * A dataset's title and description in the page's language, into o: the
 * core title and notes are the Chinese ones unless title_translated and
 * notes_translated (ckanext-fluent's shape, catalog/actions.c) say
 * otherwise, and an English page without English shows the Chinese, with
 * its lang in o.lang (dg_page_pick). Returns true when it fell back.
 */
static bool ds_texts(struct dg_req *r, json_t *pkg, json_t *o)
{
	static const char *const keys[][2] = {{"title", "title_translated"},
					      {"notes", "notes_translated"}};
	json_t *langs = json_object();
	bool fell = false;
	for (size_t i = 0; i < 2; i++) {
		json_t *t = json_object_get(pkg, keys[i][1]);
		const char *zh = json_string_value(json_object_get(t, "zh_Hans_CN"));
		if (!zh || !*zh)
			zh = json_string_value(json_object_get(t, "zh"));
		if (!zh || !*zh)
			zh = json_string_value(json_object_get(pkg, keys[i][0]));
		fell |= dg_page_pick(r, o, langs, keys[i][0], zh,
				     json_string_value(json_object_get(t, "en")));
	}
	json_object_set_new(o, "lang", langs);
	return fell;
}

const char *dg_od_tag_en(json_t *pkg, const char *name)
{
	json_t *tr = json_object_get(pkg, "tags_translated");
	json_t *zh = json_object_get(tr, "zh_Hans_CN"), *en = json_object_get(tr, "en"), *t;
	size_t i;
	if (!zh)
		zh = json_object_get(tr, "zh");
	json_array_foreach (zh, i, t) {
		const char *label = json_string_value(json_array_get(en, i));
		if (json_is_string(t) && strcmp(json_string_value(t), name) == 0 && label &&
		    label[0])
			return label;
	}
	return NULL;
}

/*
 * Tags as {name, label, lang}: the label in the page's language where the
 * dataset gives an English one, else the name; lang is what the label in
 * the other language needs (dg_page_lang_of).
 */
static json_t *tag_list(struct dg_req *r, json_t *pkg)
{
	json_t *out = json_array(), *t;
	size_t i;
	json_array_foreach (json_object_get(pkg, "tags"), i, t) {
		const char *n = json_string_value(json_object_get(t, "name"));
		const char *en = n && strcmp(r->lang, "en") == 0 ? dg_od_tag_en(pkg, n) : NULL;
		const char *label = en ? en : n ? n : "";
		const char *lang = dg_page_lang_of(r, label);
		json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "name", n ? n : "", "label",
						     label, "lang", lang ? lang : ""));
	}
	return out;
}

static json_t *result_items(struct dg_req *r, json_t *res, json_t *depts)
{
	json_t *list = json_array(), *p;
	size_t i;
	json_array_foreach (json_object_get(res, "results"), i, p) {
		json_t *o = json_pack("{s:O}", "name", json_object_get(p, "name"));
		ds_texts(r, p, o);
		const char *dept = json_string_value(json_object_get(p, "owner_org"));
		json_object_set_new(o, "dept", json_string(name_of(depts, dept ? dept : "")));
		json_t *e;
		size_t k;
		json_array_foreach (json_object_get(p, "extras"), k, e) {
			const char *key = json_string_value(json_object_get(e, "key"));
			const char *v = json_string_value(json_object_get(e, "value"));
			if (key && v && strcmp(key, "update_frequency") == 0)
				json_object_set_new(o, "freq", json_string(tr(r, "odp.freq", v)));
			if (key && v && strcmp(key, "open_tier") == 0)
				json_object_set_new(o, "tier", json_string(tr(r, "odp.tier", v)));
		}
		const char *mod = json_string_value(json_object_get(p, "metadata_modified"));
		json_object_set_new(o, "modified",
				    json_string(mod ? dg_arena_strndup(r->arena, mod, 10) : ""));
		json_t *formats = json_array(), *res1;
		json_array_foreach (json_object_get(p, "resources"), k, res1)
			json_array_append(formats, json_object_get(res1, "format"));
		json_object_set_new(o, "formats", formats);
		json_array_append_new(list, o);
	}
	return list;
}

static dg_rc data_search(struct dg_req *r)
{
	struct dg_db *db = NULL;
	struct search_state st = {0};
	json_t *d = json_object();
	json_object_set_new(d, "title", json_string(dg_t(r, "odp.title")));
	json_object_set_new(d, "nav", json_string("search"));
	bool ok = read_search(r, &st, d);
	dg_rc rc = dg_req_db(r, &db);
	json_t *depts = NULL;
	if (!rc)
		rc = dept_names(r, db, &depts);
	if (rc) {
		json_decref(d);
		return rc;
	}
	dg_arena_defer(r->arena, (void (*)(void *))json_decref, depts);

	const char *fq[NFACETS + 1];
	size_t nfq = 0;
	for (size_t i = 0; i < NFACETS; i++)
		if (st.facet[i] && st.facet[i][0])
			fq[nfq++] = fq_of(r, facet_keys[i][1], st.facet[i]);
	if (st.adv && st.adv[0])
		fq[nfq++] = st.adv;
	const char *names[NFACETS];
	for (size_t i = 0; i < NFACETS; i++)
		names[i] = facet_keys[i][2];
	const char *sort = sorts[0][1];
	for (size_t i = 0; i < sizeof sorts / sizeof sorts[0]; i++)
		if (strcmp(st.sort, sorts[i][0]) == 0)
			sort = sorts[i][1];
	struct dg_od_search s = {
		.q = st.q,
		.fq = fq,
		.nfq = nfq,
		.sort = sort,
		.rows = PER_PAGE,
		.start = (st.page - 1) * PER_PAGE,
		.facets = names,
		.nfacets = NFACETS,
		.facet_limit = 20,
		.facet_mincount = 1,
		.now_ms = dg_now_ms(),
		.memo = r->env->searches,
	};
	json_t *res = NULL;
	struct dg_err err = {0};
	rc = dg_od_search_run(db, r->arena, &s, &res, &err);
	if (rc == DG_EINVAL) {
		/* the words or the advanced filter are not a query the search understands */
		bool adv = strcmp(err.field, "fq") == 0;
		dg_form_error(d, adv ? "adv" : "q",
			      dg_arena_printf(r->arena, "%s %s",
					      dg_t(r, adv ? "odp.err.adv" : "odp.err.q"), err.msg));
		ok = false;
		rc = DG_OK;
	} else if (rc) {
		json_decref(d);
		return dg_err_set(&r->err, rc, "%s", dg_t(r, "error.store_busy"));
	}
	json_t *sort_opts = json_array();
	for (size_t i = 0; i < sizeof sorts / sizeof sorts[0]; i++)
		json_array_append_new(sort_opts,
				      json_pack("{s:s, s:s, s:b}", "value", sorts[i][0], "label",
						dg_t(r, sorts[i][2]), "selected",
						strcmp(st.sort, sorts[i][0]) == 0));
	json_object_set_new(d, "sorts", sort_opts);
	json_object_set_new(d, "q", json_string(st.q ? st.q : ""));
	json_object_set_new(d, "adv", json_string(st.adv ? st.adv : ""));
	json_t *hidden = json_array();
	for (size_t i = 0; i < NFACETS; i++)
		if (st.facet[i] && st.facet[i][0])
			json_array_append_new(hidden,
					      json_pack("{s:s, s:s}", "name", facet_keys[i][0],
							"value", st.facet[i]));
	json_object_set_new(d, "hidden", hidden);
	if (res) {
		int64_t count = json_integer_value(json_object_get(res, "count"));
		json_object_set_new(d, "count", json_string(dg_count_text(r, count)));
		json_object_set_new(d, "results", result_items(r, res, depts));
		json_object_set_new(d, "facets", facet_lists(r, &st, res, depts));
		json_object_set_new(d, "pager", dg_pager(r, count, st.page, PER_PAGE));
		json_object_set_new(d, "searched", json_true());
		json_decref(res);
	}
	bool filtered = (st.q && st.q[0]) || (st.adv && st.adv[0]) || json_array_size(hidden) > 0;
	json_object_set_new(d, "filtered", json_boolean(filtered));
	return dg_page(r, dg_rc_http_status(ok ? DG_OK : DG_EINVAL), "data/search.html", d);
}

/* ---- /data/datasets/{id} ---- */

static const char *extra_of(json_t *pkg, const char *key)
{
	json_t *e;
	size_t i;
	json_array_foreach (json_object_get(pkg, "extras"), i, e) {
		const char *k = json_string_value(json_object_get(e, "key"));
		if (k && strcmp(k, key) == 0)
			return json_string_value(json_object_get(e, "value"));
	}
	return "";
}

/* The dataset visible to everyone (404 otherwise), with its metadata for the page. */
static dg_rc load_dataset(struct dg_req *r, struct dg_db *db, json_t **pkg, json_t *d)
{
	const char *id = dg_kvs_get(&r->params, "id");
	dg_rc rc = dg_od_package_show(db, id ? id : "", pkg);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(&r->err, rc, "%s", dg_t(r, "odp.err.no_dataset"));
	if (rc)
		return rc;
	dg_arena_defer(r->arena, (void (*)(void *))json_decref, *pkg);
	json_t *depts = NULL;
	if ((rc = dept_names(r, db, &depts)) != DG_OK)
		return rc;
	const char *dept = json_string_value(json_object_get(*pkg, "owner_org"));
	const char *theme = "", *theme_label = "";
	json_t *g = json_array_get(json_object_get(*pkg, "groups"), 0);
	if (g) {
		theme = json_string_value(json_object_get(g, "name"));
		theme_label = dg_od_theme_label(r, json_string_value(json_object_get(g, "id")));
	}
	const char *mod = json_string_value(json_object_get(*pkg, "metadata_modified"));
	json_t *tags = tag_list(r, *pkg);
	json_t *meta = json_pack(
		"{s:O, s:O, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "id",
		json_object_get(*pkg, "id"), "name", json_object_get(*pkg, "name"), "dept",
		name_of(depts, dept ? dept : ""), "dept_code", dept ? dept : "", "theme", theme,
		"freq", tr(r, "odp.freq", extra_of(*pkg, "update_frequency")), "region",
		dg_od_region_label(r, extra_of(*pkg, "region")), "tier",
		tr(r, "odp.tier", extra_of(*pkg, "open_tier")), "modified",
		mod ? dg_arena_strndup(r->arena, mod, 10) : "", "license",
		tr(r, "odp.license", json_string_value(json_object_get(*pkg, "license_id"))),
		"tags", tags);
	json_decref(depts);
	json_object_set_new(meta, "fallback", json_boolean(ds_texts(r, *pkg, meta)));
	const char *theme_lang = dg_page_lang_of(r, theme_label);
	json_object_set_new(meta, "theme_lang", json_string(theme_lang ? theme_lang : ""));
	json_object_set_new(meta, "theme_label", json_string(theme_label));
	json_object_set_new(d, "ds", meta);
	json_object_set_new(d, "nav", json_string("search"));
	json_object_set(d, "title", json_object_get(meta, "title"));
	return DG_OK;
}

static bool is_number_type(const char *t)
{
	return t && (strcmp(t, "int") == 0 || strcmp(t, "numeric") == 0);
}

static double num_of(json_t *v)
{
	if (json_is_number(v))
		return json_number_value(v);
	if (json_is_string(v))
		return strtod(json_string_value(v), NULL);
	return 0;
}

static const char *cell_text(struct dg_req *r, json_t *v)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_null(v) || !v)
		return "";
	if (json_is_true(v))
		return dg_t(r, "odp.yes");
	if (json_is_false(v))
		return dg_t(r, "odp.no");
	if (json_is_integer(v))
		return dg_arena_printf(r->arena, "%lld", (long long)json_integer_value(v));
	if (json_is_real(v))
		return dg_arena_printf(r->arena, "%.10g", json_real_value(v));
	return "";
}

/*
 * A column's heading in the page's language: info.label (Chinese) or
 * info.label_en (English) as staff gave them, else the column's name.
 */
static const char *col_label(struct dg_req *r, json_t *f)
{
	json_t *info = json_object_get(f, "info");
	const char *l = json_string_value(
		json_object_get(info, strcmp(r->lang, "en") == 0 ? "label_en" : "label"));
	const char *id = json_string_value(json_object_get(f, "id"));
	return l && *l ? l : id ? id : "";
}

static const char *label_of_id(struct dg_req *r, json_t *fields, const char *id)
{
	json_t *f;
	size_t i;
	json_array_foreach (fields, i, f)
		if (id && strcmp(id, json_string_value(json_object_get(f, "id"))) == 0)
			return col_label(r, f);
	return id ? id : "";
}

/* The dataset page's own link with the preview state, one part replaced. */
struct preview_state {
	const char *base, *col, *val, *chart, *kind;
	int64_t page;
};

static const char *preview_href(struct dg_req *r, const struct preview_state *ps, int64_t page)
{
	struct dg_buf b;
	dg_buf_init(&b, 4096);
	dg_rc rc = dg_buf_adds(&b, ps->base);
	const char *keys[] = {"col", "val", "chart", "kind"};
	const char *vals[] = {ps->col, ps->val, ps->chart, ps->kind};
	char sep = '?';
	for (size_t i = 0; i < 4 && !rc; i++) {
		if (!vals[i] || !vals[i][0])
			continue;
		rc = dg_buf_addf(&b, "%c%s=", sep, keys[i]);
		if (!rc)
			rc = dg_buf_add_url(&b, vals[i], strlen(vals[i]));
		sep = '&';
	}
	if (!rc && page > 1)
		rc = dg_buf_addf(&b, "%cpage=%lld", sep, (long long)page);
	if (!rc)
		rc = dg_buf_adds(&b, "#preview");
	const char *s = dg_arena_strdup(r->arena, dg_buf_str(&b));
	dg_buf_release(&b);
	return s;
}

/* Rows through datastore_search, with the page's filter; *res owned by the caller. */
static dg_rc ds_rows(struct dg_req *r, const char *rid, const struct preview_state *ps,
		     int64_t limit, int64_t offset, json_t **res, struct dg_err *err)
{
	json_t *params = json_pack("{s:s, s:I, s:I, s:s}", "resource_id", rid, "limit",
				   (json_int_t)limit, "offset", (json_int_t)offset, "sort", "_id");
	if (ps->col && ps->col[0] && ps->val)
		json_object_set_new(params, "filters", json_pack("{s:s}", ps->col, ps->val));
	dg_rc rc = dg_ckan_datastore_search(r, params, res, err);
	json_decref(params);
	return rc;
}

static dg_rc add_chart(struct dg_req *r, const char *rid, const struct preview_state *ps,
		       json_t *fields, json_t *d)
{
	const char *label_col = "_id", *label_head = "_id";
	json_t *f;
	size_t i;
	json_array_foreach (fields, i, f) {
		const char *t = json_string_value(json_object_get(f, "type"));
		if (!is_number_type(t)) {
			label_col = json_string_value(json_object_get(f, "id"));
			label_head = col_label(r, f);
			break;
		}
	}
	json_t *res = NULL;
	struct dg_err err = {0};
	dg_rc rc = ds_rows(r, rid, ps, DG_CHART_MAX, 0, &res, &err);
	if (rc)
		return DG_OK; /* the preview above already says what is wrong */
	json_t *recs = json_object_get(res, "records"), *rec;
	size_t n = json_array_size(recs);
	const char **labels = dg_arena_alloc(r->arena, (n + 1) * sizeof *labels);
	double *values = dg_arena_alloc(r->arena, (n + 1) * sizeof *values);
	json_t *rows = json_array();
	json_array_foreach (recs, i, rec) {
		/* copied: the records are released before the labels are drawn */
		labels[i] =
			dg_arena_strdup(r->arena, cell_text(r, json_object_get(rec, label_col)));
		values[i] = num_of(json_object_get(rec, ps->chart));
		const char *lang = dg_page_lang_of(r, labels[i]);
		json_array_append_new(rows,
				      json_pack("{s:s, s:s, s:s}", "label", labels[i], "value",
						cell_text(r, json_object_get(rec, ps->chart)),
						"lang", lang ? lang : ""));
	}
	json_decref(res);
	double lo = n ? values[0] : 0, hi = lo;
	size_t at_lo = 0, at_hi = 0;
	for (i = 1; i < n; i++) {
		if (values[i] < lo)
			lo = values[i], at_lo = i;
		if (values[i] > hi)
			hi = values[i], at_hi = i;
	}
	const char *title = dg_arena_printf(r->arena, "%s: %s", dg_t(r, "odp.chart.of"),
					    label_of_id(r, fields, ps->chart));
	const char *desc =
		n ? dg_arena_printf(r->arena, "%s %zu. %s %.10g (%s). %s %.10g (%s).",
				    dg_t(r, "odp.chart.points"), n, dg_t(r, "odp.chart.min"), lo,
				    labels[at_lo], dg_t(r, "odp.chart.max"), hi, labels[at_hi])
		  : dg_t(r, "odp.chart.empty");
	struct dg_buf svg;
	dg_buf_init(&svg, 256 * 1024);
	rc = dg_chart_svg(&svg, "chart", title, desc, labels, values, n,
			  ps->kind && strcmp(ps->kind, "line") == 0);
	if (!rc)
		json_object_set_new(d, "chart",
				    json_pack("{s:s, s:s, s:s, s:s, s:o}", "svg", dg_buf_str(&svg),
					      "title", title, "desc", desc, "label_col", label_head,
					      "rows", rows));
	else
		json_decref(rows);
	dg_buf_release(&svg);
	return rc;
}

/* The preview of the first resource with a table: fields, rows, filter and pages. */
static dg_rc add_preview(struct dg_req *r, struct dg_db *db, json_t *pkg, bool locked, json_t *d,
			 bool *bad)
{
	json_t *res1, *fields = NULL;
	size_t i;
	const char *rid = NULL;
	struct dg_ds_table t = {0};
	json_array_foreach (json_object_get(pkg, "resources"), i, res1) {
		const char *id = json_string_value(json_object_get(res1, "id"));
		dg_rc rc = dg_ds_sql_lookup(db, id, &t);
		if (rc == DG_OK) {
			rid = id;
			fields = t.fields;
			break;
		}
		json_decref(t.fields);
		t.fields = NULL;
		if (rc != DG_ENOTFOUND)
			return rc;
	}
	if (!rid)
		return DG_OK;
	dg_arena_defer(r->arena, (void (*)(void *))json_decref, fields);
	struct preview_state ps = {
		.base = dg_arena_printf(r->arena, "/data/datasets/%s",
					json_string_value(json_object_get(pkg, "name"))),
		.col = dg_kvs_get(&r->query, "col"),
		.val = dg_kvs_get(&r->query, "val"),
		.chart = dg_kvs_get(&r->query, "chart"),
		.kind = dg_kvs_get(&r->query, "kind"),
		.page = 1,
	};
	json_t *pv = json_pack("{s:s, s:s}", "rid", rid, "total", dg_count_text(r, t.row_count));
	json_object_set_new(d, "preview", pv);
	const char *page = dg_kvs_get(&r->query, "page");
	if (page && (dg_str_to_i64(dg_str_of(page), &ps.page) || ps.page < 1 ||
		     ps.page > PREVIEW_PAGE_MAX)) {
		dg_form_error(d, "page", dg_t(r, "odp.err.page"));
		ps.page = 1, *bad = true;
	}
	if (ps.val && strlen(ps.val) > VALUE_MAX) {
		dg_form_error(d, "val", dg_t(r, "odp.err.val_long"));
		ps.val = NULL, *bad = true;
	}
	if (ps.kind && strcmp(ps.kind, "line") && strcmp(ps.kind, "bar"))
		ps.kind = NULL;
	/* the columns, each with its type, and which may be charted */
	json_t *cols = json_array(), *numeric = json_array(), *f;
	bool col_ok = !ps.col || !ps.col[0], chart_ok = false;
	json_array_foreach (fields, i, f) {
		const char *id = json_string_value(json_object_get(f, "id"));
		const char *type = json_string_value(json_object_get(f, "type"));
		const char *label = col_label(r, f);
		json_array_append_new(cols, json_pack("{s:s, s:s, s:s, s:b, s:b}", "id", id,
						      "label", label, "type",
						      tr(r, "odp.type", type ? type : "text"),
						      "show_id", strcmp(label, id) != 0, "selected",
						      ps.col && strcmp(ps.col, id) == 0));
		col_ok |= ps.col && strcmp(ps.col, id) == 0;
		if (is_number_type(type)) {
			bool sel = ps.chart && strcmp(ps.chart, id) == 0;
			chart_ok |= sel;
			json_array_append_new(numeric, json_pack("{s:s, s:s, s:b}", "id", id,
								 "label", label, "selected", sel));
		}
	}
	if (locked) {
		/* conditional data: what the table holds, and no rows (dataset_page says how) */
		json_object_set_new(pv, "cols", cols);
		json_object_set_new(pv, "locked", json_true());
		json_decref(numeric);
		return DG_OK;
	}
	json_object_set_new(pv, "cols", cols);
	json_object_set_new(pv, "numeric", numeric);
	json_object_set_new(pv, "col", json_string(ps.col ? ps.col : ""));
	json_object_set_new(pv, "val", json_string(ps.val ? ps.val : ""));
	json_object_set_new(pv, "line", json_boolean(ps.kind && strcmp(ps.kind, "line") == 0));
	if (!col_ok) {
		dg_form_error(d, "col", dg_t(r, "odp.err.col"));
		ps.col = NULL, *bad = true;
	}
	if (ps.chart && ps.chart[0] && !chart_ok) {
		dg_form_error(d, "chart", dg_t(r, "odp.err.chart"));
		*bad = true;
	}
	if (!chart_ok)
		ps.chart = NULL;
	json_t *res = NULL;
	struct dg_err err = {0};
	dg_rc rc = ds_rows(r, rid, &ps, PREVIEW_ROWS, (ps.page - 1) * PREVIEW_ROWS, &res, &err);
	if (rc == DG_EINVAL) {
		/* a value the column's type cannot hold, for instance */
		dg_form_error(
			d, "val",
			dg_arena_printf(r->arena, "%s %s", dg_t(r, "odp.err.filter"), err.msg));
		*bad = true;
		return DG_OK;
	}
	if (rc)
		return dg_err_set(&r->err, rc, "%s",
				  rc == DG_ENOTFOUND ? dg_t(r, "odp.err.no_dataset") : err.msg);
	int64_t total = json_integer_value(json_object_get(res, "total"));
	json_t *rows = json_array(), *rec;
	json_array_foreach (json_object_get(res, "records"), i, rec) {
		json_t *cells = json_array();
		size_t k;
		json_array_foreach (fields, k, f) {
			/* each cell with its column's name, shown before it on a narrow screen */
			const char *id = json_string_value(json_object_get(f, "id"));
			const char *v = cell_text(r, json_object_get(rec, id ? id : ""));
			const char *lang = dg_page_lang_of(r, v);
			json_array_append_new(cells,
					      json_pack("{s:s, s:s, s:s}", "label", col_label(r, f),
							"value", v, "lang", lang ? lang : ""));
		}
		json_array_append_new(rows,
				      json_pack("{s:I, s:o}", "id",
						json_integer_value(json_object_get(rec, "_id")),
						"cells", cells));
	}
	json_decref(res);
	int64_t pages = (total + PREVIEW_ROWS - 1) / PREVIEW_ROWS;
	json_object_set_new(pv, "rows", rows);
	json_object_set_new(pv, "matched", json_string(dg_count_text(r, total)));
	json_object_set_new(pv, "page", json_string(dg_count_text(r, ps.page)));
	json_object_set_new(pv, "pages", json_string(dg_count_text(r, pages)));
	if (ps.page > 1)
		json_object_set_new(pv, "prev", json_string(preview_href(r, &ps, ps.page - 1)));
	if (ps.page < pages)
		json_object_set_new(pv, "next", json_string(preview_href(r, &ps, ps.page + 1)));
	if (ps.chart)
		return add_chart(r, rid, &ps, fields, d);
	return DG_OK;
}

const char *dg_od_region_label(struct dg_req *r, const char *region)
{
	const struct dg_region *own = &r->env->region;
	if (!region || !region[0])
		return "";
	bool mine = own->code[0] && (strcmp(region, own->code) == 0 || strcmp(region, "demo") == 0);
	const char *name = strcmp(r->lang, "en") == 0 ? own->name_en : own->name_zh;
	return mine && name[0] ? name : region;
}

const char *dg_od_size_text(struct dg_req *r, double bytes)
{
	static const char *const units[] = {"B", "KB", "MB", "GB"};
	size_t u = 0;
	while (bytes >= 1024 && u < 3)
		bytes /= 1024, u++;
	return dg_arena_printf(r->arena, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
}

/*
 * The CSV size of a table of rows rows, estimated from its first SIZE_SAMPLE
 * rows (_id and each cell's text, a separator each, CRLF), plus the header: shown
 * beside the download so a person knows before clicking. 0 when the rows
 * cannot be read.
 */
#define SIZE_SAMPLE 50
static double csv_estimate(struct dg_req *r, const char *rid, json_t *fields, int64_t rows)
{
	json_t *res = NULL, *rec, *f;
	struct dg_err err = {0};
	struct preview_state ps = {0};
	size_t i, k, n = 0;
	double head = 3 + 4, body = 0; /* the BOM, "_id," */
	json_array_foreach (fields, k, f)
		head += (double)strlen(json_string_value(json_object_get(f, "id"))) + 1;
	if (rows <= 0 || ds_rows(r, rid, &ps, SIZE_SAMPLE, 0, &res, &err) != DG_OK)
		return rows <= 0 ? head + 1 : 0;
	json_array_foreach (json_object_get(res, "records"), i, rec) {
		json_array_foreach (fields, k, f)
			body += (double)strlen(cell_text(
					r, json_object_get(rec, json_string_value(json_object_get(
									f, "id"))))) +
				1;
		/* "_id" and its comma, and the CRLF */
		body += (double)strlen(cell_text(r, json_object_get(rec, "_id"))) + 1 + 1, n++;
	}
	json_decref(res);
	return n ? head + 1 + body / (double)n * (double)rows : 0;
}

/*
 * The resources, each with its links: its own (a link elsewhere, or its
 * table's dump), and for a table the CSV (with a BOM, for Excel on Chinese
 * Windows) and XLSX dumps and the API page, its row count and the CSV's
 * estimated size. Conditional data (locked) shows no dump links: its rows
 * go only to an app holding a grant.
 */
static dg_rc add_resources(struct dg_req *r, struct dg_db *db, json_t *pkg, bool locked, json_t *d)
{
	json_t *list = json_array(), *res1;
	size_t i;
	json_object_set_new(d, "resources", list);
	json_array_foreach (json_object_get(pkg, "resources"), i, res1) {
		const char *rid = json_string_value(json_object_get(res1, "id"));
		const char *url = json_string_value(json_object_get(res1, "url"));
		const char *own = dg_arena_printf(r->arena, "/datastore/dump/%s", rid);
		bool own_dump = url && strncmp(url, own, strlen(own)) == 0;
		json_t *o = json_pack("{s:s, s:O, s:O, s:O, s:b}", "id", rid, "name",
				      json_object_get(res1, "name"), "format",
				      json_object_get(res1, "format"), "url",
				      json_object_get(res1, "url"), "own_dump", own_dump);
		json_array_append_new(list, o);
		const char *name_lang =
			dg_page_lang_of(r, json_string_value(json_object_get(res1, "name")));
		json_object_set_new(o, "name_lang", json_string(name_lang ? name_lang : ""));
		/* its own link, unless that is the dump offered below or one locked away */
		json_object_set_new(o, "link", json_boolean(!own_dump));
		if (!json_is_true(json_object_get(res1, "datastore_active")))
			continue;
		struct dg_ds_table t = {0};
		dg_rc rc = dg_ds_sql_lookup(db, rid, &t);
		if (rc == DG_ENOTFOUND)
			continue;
		if (rc)
			return rc;
		json_object_set_new(o, "datastore", json_true());
		json_object_set_new(o, "dumps", json_boolean(!locked));
		json_object_set_new(o, "rows", json_string(dg_count_text(r, t.row_count)));
		if (!locked) {
			double est = csv_estimate(r, rid, t.fields, t.row_count);
			if (est > 0)
				json_object_set_new(o, "csv_size",
						    json_string(dg_od_size_text(r, est)));
			/* a large table: prepared in the background rather than waited on */
			json_object_set_new(o, "export",
					    json_boolean(t.row_count >= DG_DS_EXPORT_OFFER_ROWS));
		}
		json_decref(t.fields);
	}
	return DG_OK;
}

/*
 * Conditional data: what it takes to use it. A signed-in person is sent to
 * the application form; anyone else to sign in first, back to the form.
 */
static void add_apply(struct dg_req *r, json_t *pkg, json_t *d)
{
	const char *name = json_string_value(json_object_get(pkg, "name"));
	const char *apply = dg_arena_printf(r->arena, "/data/datasets/%s/apply", name);
	struct dg_buf b;
	dg_buf_init(&b, 1024);
	dg_rc rc = dg_buf_adds(&b, "/login?next=");
	if (!rc)
		rc = dg_buf_add_url(&b, apply, strlen(apply));
	json_object_set_new(d, "apply",
			    json_pack("{s:s, s:s, s:b}", "href", apply, "login",
				      rc ? "/login" : dg_arena_strdup(r->arena, dg_buf_str(&b)),
				      "signed_in", r->user != NULL));
	dg_buf_release(&b);
}

static dg_rc dataset_page(struct dg_req *r)
{
	struct dg_db *db = NULL;
	json_t *pkg = NULL, *d = json_object();
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = load_dataset(r, db, &pkg, d);
	if (rc) {
		json_decref(d);
		return rc;
	}
	/* its department's staff and administrators get a link to the form */
	const char *mine = NULL, *owner = json_string_value(json_object_get(pkg, "owner_org"));
	if (r->user && dg_od_writer(r, db, false, &mine) == DG_OK && mine && owner &&
	    (!strcmp(mine, "*") || !strcmp(mine, owner)))
		json_object_set_new(d, "can_edit", json_true());
	bool bad = false;
	bool locked = strcmp(extra_of(pkg, "open_tier"), "conditional") == 0 &&
		      !json_is_true(json_object_get(d, "can_edit"));
	if (locked)
		add_apply(r, pkg, d);
	rc = add_resources(r, db, pkg, locked, d);
	if (!rc)
		rc = add_preview(r, db, pkg, locked, d, &bad);
	if (rc) {
		json_decref(d);
		return rc;
	}
	return dg_page(r, dg_rc_http_status(bad ? DG_EINVAL : DG_OK), "data/dataset.html", d);
}

/* ---- /data/datasets/{id}/resources/{rid}/api ---- */

static dg_rc api_page(struct dg_req *r)
{
	struct dg_db *db = NULL;
	json_t *pkg = NULL, *d = json_object();
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = load_dataset(r, db, &pkg, d);
	if (rc) {
		json_decref(d);
		return rc;
	}
	const char *rid = dg_kvs_get(&r->params, "rid");
	json_t *res1, *found = NULL;
	size_t i;
	json_array_foreach (json_object_get(pkg, "resources"), i, res1)
		if (rid && strcmp(json_string_value(json_object_get(res1, "id")), rid) == 0)
			found = res1;
	struct dg_ds_table t = {0};
	rc = found ? dg_ds_sql_lookup(db, rid, &t) : DG_ENOTFOUND;
	if (rc) {
		json_decref(d);
		return dg_err_set(&r->err, rc, "%s",
				  rc == DG_ENOTFOUND ? dg_t(r, "odp.err.no_api")
						     : dg_t(r, "error.store_busy"));
	}
	/* examples name a real column: the first text one to filter by, the first to sort by */
	const char *filter_col = NULL, *sort_col = NULL, *filter_val = "";
	json_t *f, *fields = json_array();
	json_array_foreach (t.fields, i, f) {
		const char *id = json_string_value(json_object_get(f, "id"));
		const char *type = json_string_value(json_object_get(f, "type"));
		json_array_append_new(fields, json_pack("{s:s, s:s}", "id", id, "type",
							tr(r, "odp.type", type ? type : "text")));
		if (!sort_col)
			sort_col = id;
		if (!filter_col && type && strcmp(type, "text") == 0)
			filter_col = id;
	}
	if (!filter_col)
		filter_col = sort_col ? sort_col : "_id";
	if (!sort_col)
		sort_col = "_id";
	/* a real value of the filter column, so the example finds something */
	json_t *one = NULL;
	struct dg_err err = {0};
	struct preview_state ps = {0};
	if (ds_rows(r, rid, &ps, 1, 0, &one, &err) == DG_OK) {
		json_t *v = json_object_get(json_array_get(json_object_get(one, "records"), 0),
					    filter_col);
		filter_val = dg_arena_strdup(r->arena, cell_text(r, v)); /* one is released below */
	}
	json_decref(one);
	char site[DG_SITE_URL_MAX];
	json_object_set_new(
		d, "api",
		json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "rid", rid, "base",
			  dg_arena_strdup(r->arena, dg_config_site_url(r->env->cfg, site)),
			  "filter_col", filter_col, "filter_val", filter_val, "sort_col", sort_col,
			  "rows", dg_count_text(r, t.row_count), "fields", fields));
	json_decref(t.fields);
	json_object_set_new(
		d, "title",
		json_string(dg_arena_printf(r->arena, "%s · %s", dg_t(r, "odp.api.title"),
					    json_string_value(json_object_get(found, "name")))));
	json_object_set_new(d, "res_name", json_incref(json_object_get(found, "name")));
	return dg_page(r, 200, "data/api.html", d);
}

/* ---- routes ---- */

static const struct dg_route routes[] = {
	{"GET", "/data", data_search, DG_ROLE_ANY, 0},
	{"GET", "/data/stats", dg_od_stats_page, DG_ROLE_ANY, 0},
	{"GET", "/api/v1/opendata/stats", dg_od_stats_api, DG_ROLE_ANY, 0},
	{"GET", "/data/datasets/{id}", dataset_page, DG_ROLE_ANY, 0},
	{"GET", "/data/datasets/{id}/resources/{rid}/api", api_page, DG_ROLE_ANY, 0},
	{"GET", "/data/requests", dg_od_requests_list, DG_ROLE_ANY, 0},
	{"POST", "/data/requests", dg_od_requests_new, DG_ROLE_USER, 0},
	{"GET", "/data/requests/{id}", dg_od_request_page, DG_ROLE_ANY, 0},
	{"POST", "/data/requests/{id}/answer", dg_od_request_answer, DG_ROLE_STAFF | DG_ROLE_ADMIN,
	 0},
	{"GET", "/data/showcase", dg_od_showcase_list, DG_ROLE_ANY, 0},
	{"POST", "/data/showcase", dg_od_showcase_new, DG_ROLE_USER, 0},
	{"POST", "/data/showcase/{id}/approve", dg_od_showcase_approve,
	 DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
};

const struct dg_route *dg_od_pages_routes(size_t *n)
{
	*n = sizeof routes / sizeof routes[0];
	return routes;
}
