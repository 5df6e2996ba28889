/*
 * manage.c - department staff publish and edit their datasets in the
 * browser: the list of their department's datasets (administrators: all),
 * a dataset's form (new and edit) with its resources, link resources, file
 * uploads, deletions behind a confirmation page, and a resource table's
 * column types with a reload whose progress and report the page shows.
 *
 * No rule is kept here: a form becomes the dict the CKAN API takes and goes
 * through the same validation and writes (dg_ckan_package_save,
 * dg_ckan_resource_save, dg_datastore_reload); their messages come back
 * with catalogue keys, shown in the reader's language. Staff see only their
 * own department's datasets: another's is "not found", as on the API for a
 * closed one. Every POST carries the form's CSRF token (checked before the
 * handler runs).
 */
#include "opendata/pages/pages_int.h"

#include <stdio.h>
#include <string.h>

#include "node/env.h"
#include "core/date.h"
#include "core/str.h"
#include "jobs/jobs.h"
#include "opendata/catalog/catalog.h"
#include "opendata/datastore/datastore.h"
#include "web/page.h"

#define TAG_TEXT_MAX 20000 /* bytes of the tags box; the validator caps the tags themselves */

static const char *str_of(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static const char *tr(struct dg_req *r, const char *prefix, const char *code, const char *dflt)
{
	const char *key = dg_arena_printf(r->arena, "%s.%s", prefix, code);
	const char *v = dg_t(r, key);
	return strcmp(v, key) == 0 ? dflt : v;
}

/* ---- who may do what ---- */

/* The requester's department code ("*" for an administrator); EDENIED for staff without one. */
static dg_rc writer(struct dg_req *r, struct dg_db *db, const char **mine)
{
	dg_rc rc = dg_od_writer(r, db, false, mine);
	if (!rc && !*mine)
		rc = dg_err_set(&r->err, DG_EDENIED, "%s", dg_t(r, "odp.manage.no_dept"));
	return rc;
}

/* What a request works on: the writer, and the dataset and resource its path names. */
struct target {
	struct dg_db *db;
	const char *mine; /* the writer: a department code, or "*" */
	json_t *pkg; /* the dataset, whole (private, closed, resources); released with the request
		      */
	json_t *res; /* its resource {rid} (borrowed from pkg) */
};

enum scope { S_WRITER, S_DATASET, S_RESOURCE };

/*
 * The request's target: the writer always; the dataset {id} (S_DATASET) and
 * its resource {rid} (S_RESOURCE) when the writer may edit it, ENOTFOUND
 * otherwise, as for none at all.
 */
static dg_rc target_of(struct dg_req *r, enum scope sc, struct target *t)
{
	const char *id = dg_kvs_get(&r->params, "id"), *rid = dg_kvs_get(&r->params, "rid");
	char *dept = NULL, *tier = NULL;
	memset(t, 0, sizeof *t);
	dg_rc rc = dg_req_db(r, &t->db);
	if (!rc)
		rc = writer(r, t->db, &t->mine);
	if (rc || sc == S_WRITER)
		return rc;
	rc = id && strlen(id) <= 200 ? dg_od_package_owner(t->db, id, r->arena, &dept, &tier)
				     : DG_ENOTFOUND;
	if (!rc && strcmp(t->mine, "*") != 0 && strcmp(t->mine, dept) != 0)
		rc = DG_ENOTFOUND;
	if (!rc)
		rc = dg_od_package_read(t->db, id, true, &t->pkg);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(&r->err, rc, "%s", dg_t(r, "odp.err.no_dataset"));
	if (rc)
		return rc;
	dg_arena_defer(r->arena, (void (*)(void *))json_decref, t->pkg);
	if (sc == S_DATASET)
		return DG_OK;
	json_t *it;
	size_t i;
	json_array_foreach (json_object_get(t->pkg, "resources"), i, it)
		if (rid && strcmp(str_of(it, "id"), rid) == 0)
			t->res = it;
	return t->res ? DG_OK
		      : dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "odp.manage.no_resource"));
}

/* ---- messages ---- */

/* msg with its first place named slot ("{arg}") filled with v (arena memory). */
static const char *fill(struct dg_req *r, const char *msg, const char *slot, const char *v)
{
	const char *at = strstr(msg, slot);
	if (!at)
		return msg;
	return dg_arena_printf(r->arena, "%.*s%s%s", (int)(at - msg), msg, v, at + strlen(slot));
}

/* One validator message in the reader's language: "odp.v.code[:arg]" with {arg} filled in. */
static const char *v_message(struct dg_req *r, const char *key)
{
	const char *colon = strchr(key, ':');
	const char *k = colon ? dg_arena_strndup(r->arena, key, (size_t)(colon - key)) : key;
	return fill(r, dg_t(r, k), "{arg}", colon ? colon + 1 : "");
}

/*
 * The validator's errors as the page's, in the error-summary pattern: each
 * of its fields (renamed by map, pairs of validator field and form field,
 * NULL-terminated; unknown ones go on dflt) gets its messages joined, after
 * the field's label (the catalogue key labels.<field>).
 */
static void page_errors(struct dg_req *r, json_t *errs, const char *const (*map)[2],
			const char *labels, const char *dflt, json_t *d)
{
	json_t *keys = json_object_get(errs, DG_CKAN_KEYS), *msgs;
	const char *field;
	json_object_foreach (errs, field, msgs) {
		if (!json_is_array(msgs) || strcmp(field, DG_CKAN_KEYS) == 0)
			continue;
		const char *to = dflt;
		for (size_t i = 0; map[i][0]; i++)
			if (strcmp(map[i][0], field) == 0)
				to = map[i][1];
		/* a tier or a region message under "extras" belongs to that field */
		json_t *fk = json_object_get(keys, field);
		const char *first = json_string_value(json_array_get(fk, 0));
		if (strcmp(field, "extras") == 0 && first)
			to = strstr(first, ".tier")         ? "tier"
			     : strstr(first, "freq_region") ? "region"
							    : to;
		struct dg_buf b;
		dg_buf_init(&b, 4096);
		dg_rc rc = dg_buf_addf(&b, "%s%s",
				       dg_t(r, dg_arena_printf(r->arena, "%s.%s", labels, to)),
				       dg_t(r, "odp.manage.colon"));
		size_t shown = 0;
		for (size_t i = 0; !rc && i < json_array_size(msgs); i++) {
			const char *k = json_string_value(json_array_get(fk, i));
			const char *text = json_string_value(json_array_get(msgs, i));
			if (!k && !text && json_object_size(json_array_get(msgs, i)) == 0)
				continue; /* a nested resource with nothing wrong */
			/* a message without a key is shown as the API's; a nested one (a
			 * resource's) as "not valid" */
			const char *m = k      ? v_message(r, k)
					: text ? dg_arena_printf(r->arena, "%s (%s)",
								 dg_t(r, "odp.v.invalid"), text)
					       : dg_t(r, "odp.v.invalid");
			rc = dg_buf_addf(&b, "%s%s", shown++ ? dg_t(r, "odp.manage.sep") : "", m);
		}
		dg_form_error(d, to, dg_buf_str(&b));
		dg_buf_release(&b);
	}
}

static void error_title(struct dg_req *r, json_t *d, const char *title)
{
	bool bad = json_array_size(json_object_get(d, "errors")) > 0;
	json_object_set_new(d, "title",
			    json_string(bad ? dg_arena_printf(r->arena, "%s%s",
							      dg_t(r, "auth.error_prefix"), title)
					    : title));
	json_object_set_new(d, "heading", json_string(title));
}

/* ---- /data/manage ---- */

static dg_rc page_list(struct dg_req *r)
{
	struct target t;
	json_t *list = NULL, *p;
	size_t i;
	dg_rc rc = target_of(r, S_WRITER, &t);
	if (!rc)
		rc = dg_od_manage_list(t.db, strcmp(t.mine, "*") == 0 ? NULL : t.mine, &list);
	if (rc)
		return rc;
	json_array_foreach (list, i, p) {
		char day[11] = "";
		dg_day_format(
			(dg_day)(json_integer_value(json_object_get(p, "modified_ms")) / 86400000),
			day);
		json_object_set_new(p, "modified", json_string(day));
		json_object_set_new(
			p, "tier_label",
			json_string(tr(r, "odp.tier", str_of(p, "tier"), str_of(p, "tier"))));
		json_t *rows = json_object_get(p, "rows");
		if (json_is_integer(rows))
			json_object_set_new(
				p, "rows", json_string(dg_count_text(r, json_integer_value(rows))));
		const char *js = str_of(p, "job_state");
		if (js[0])
			json_object_set_new(p, "job_label",
					    json_string(tr(r, "jobs.state", js, js)));
	}
	json_t *d = json_object();
	const char *done = dg_req_field(r, "done");
	if (done && (!strcmp(done, "saved") || !strcmp(done, "deleted")))
		json_object_set_new(
			d, "done",
			json_string(
				dg_t(r, dg_arena_printf(r->arena, "odp.manage.done_%s", done))));
	json_object_set_new(d, "datasets", list);
	json_object_set_new(d, "all", json_boolean(strcmp(t.mine, "*") == 0));
	json_object_set_new(d, "title", json_string(dg_t(r, "odp.manage.title")));
	return dg_page(r, 200, "data/manage.html", d);
}

/* ---- the dataset form ---- */

enum fkind { F_TEXT, F_EMAIL, F_URL, F_AREA, F_SELECT, F_RADIO, F_CHECK };

static const struct dfield {
	const char *name;
	enum fkind kind;
} dfields[] = {
	{"title", F_TEXT},
	{"title_en", F_TEXT},
	{"name", F_TEXT},
	{"notes", F_AREA},
	{"notes_en", F_AREA},
	{"license_id", F_SELECT},
	{"theme", F_TEXT},
	{"frequency", F_SELECT},
	{"region", F_TEXT},
	{"tier", F_RADIO},
	{"private", F_CHECK},
	{"tags", F_AREA},
	{"tags_en", F_AREA},
	{"author", F_TEXT},
	{"author_email", F_EMAIL},
	{"maintainer", F_TEXT},
	{"maintainer_email", F_EMAIL},
	{"version", F_TEXT},
	{"url", F_URL},
};
#define NDFIELDS (sizeof dfields / sizeof dfields[0])

static const char *const frequencies[] = {"",          "daily",  "weekly",    "monthly",
					  "quarterly", "yearly", "irregular", NULL};
static const char *const tiers[] = {"open", "conditional", "closed", NULL};

/* The validator's fields on the form's. */
static const char *const pkg_map[][2] = {
	{"name", "name"},
	{"id", "name"},
	{"title", "title"},
	{"notes", "notes"},
	{"title_translated", "title_en"},
	{"notes_translated", "notes_en"},
	{"license_id", "license_id"},
	{"groups", "theme"},
	{"tags", "tags"},
	{"tags_translated", "tags_en"},
	{"author", "author"},
	{"author_email", "author_email"},
	{"maintainer", "maintainer"},
	{"maintainer_email", "maintainer_email"},
	{"url", "url"},
	{"version", "version"},
	{"private", "private"},
	{"owner_org", "owner_org"},
	{NULL, NULL},
};

static const char *extra_of(json_t *pkg, const char *key)
{
	json_t *e;
	size_t i;
	json_array_foreach (json_object_get(pkg, "extras"), i, e)
		if (strcmp(str_of(e, "key"), key) == 0)
			return str_of(e, "value");
	return "";
}

/*
 * The English labels box of a stored dataset: a line for each of its tags,
 * in the tags box's order, with the label tags_translated pairs with it
 * (empty where it has none); empty when no tag has one.
 */
static const char *tags_en_text(struct dg_req *r, json_t *pkg)
{
	struct dg_buf b;
	json_t *t;
	size_t i;
	bool any = false;
	dg_buf_init(&b, TAG_TEXT_MAX);
	json_array_foreach (json_object_get(pkg, "tags"), i, t) {
		const char *en = dg_od_tag_en(pkg, str_of(t, "name"));
		any |= en != NULL;
		if (dg_buf_addf(&b, "%s%s", i ? "\n" : "", en ? en : ""))
			break;
	}
	const char *s = any ? dg_arena_strdup(r->arena, dg_buf_str(&b)) : "";
	dg_buf_release(&b);
	return s;
}

/* A field's text for a stored dataset (pkg), or the defaults of a new one (NULL). */
static const char *stored_text(struct dg_req *r, json_t *pkg, const char *name)
{
	if (!pkg)
		return !strcmp(name, "tier") ? "open" : !strcmp(name, "license_id") ? "cc-by" : "";
	if (!strcmp(name, "theme")) /* the theme itself (the group's id), one of its names */
		return str_of(json_array_get(json_object_get(pkg, "groups"), 0), "id");
	if (!strcmp(name, "frequency"))
		return extra_of(pkg, "update_frequency");
	if (!strcmp(name, "region") || !strcmp(name, "tier"))
		return extra_of(pkg, !strcmp(name, "tier") ? "open_tier" : "region");
	if (!strcmp(name, "private"))
		return json_is_true(json_object_get(pkg, "private")) ? "true" : "";
	if (!strcmp(name, "title_en") || !strcmp(name, "notes_en"))
		return str_of(json_object_get(pkg, !strcmp(name, "title_en") ? "title_translated"
									     : "notes_translated"),
			      "en");
	if (!strcmp(name, "tags")) {
		struct dg_buf b;
		json_t *t;
		size_t i;
		dg_buf_init(&b, TAG_TEXT_MAX);
		json_array_foreach (json_object_get(pkg, "tags"), i, t)
			if (dg_buf_addf(&b, "%s%s", i ? "\n" : "", str_of(t, "name")))
				break;
		const char *s = dg_arena_strdup(r->arena, dg_buf_str(&b));
		dg_buf_release(&b);
		return s;
	}
	if (!strcmp(name, "tags_en"))
		return tags_en_text(r, pkg);
	return str_of(pkg, name);
}

static json_t *options_of(struct dg_req *r, const struct dfield *f, const char *v)
{
	json_t *opts = json_array();
	if (!strcmp(f->name, "license_id")) {
		for (size_t i = 0; i < dg_ckan_nlicenses; i++) {
			const char *id = dg_ckan_licenses[i][0];
			json_array_append_new(
				opts, json_pack("{s:s, s:s, s:b}", "value", id, "label",
						tr(r, "odp.license", id, dg_ckan_licenses[i][1]),
						"selected", !strcmp(v, id)));
		}
		return opts;
	}
	const char *const *list = !strcmp(f->name, "tier") ? tiers : frequencies;
	for (const char *const *p = list; *p; p++)
		json_array_append_new(
			opts,
			json_pack("{s:s, s:s, s:b}", "value", *p, "label",
				  (*p)[0] ? tr(r, list == tiers ? "odp.tier" : "odp.freq", *p, *p)
					  : dg_t(r, "odp.manage.freq_none"),
				  "selected", !strcmp(v, *p)));
	return opts;
}

/* The form's fields with values from the post (posted) or from pkg, and their errors. */
static json_t *dataset_fields(struct dg_req *r, json_t *pkg, bool posted, json_t *d)
{
	json_t *list = json_array(), *errs = json_object_get(d, "error_for");
	static const char *const kinds[] = {"is_text",   "is_email", "is_url",  "is_area",
					    "is_select", "is_radio", "is_check"};
	for (size_t i = 0; i < NDFIELDS; i++) {
		const struct dfield *f = &dfields[i];
		const char *v = posted ? dg_req_field(r, f->name) : stored_text(r, pkg, f->name);
		if (!v || !dg_utf8_valid(v, strlen(v)))
			v = "";
		const char *hint_key = dg_arena_printf(r->arena, "odp.manage.h.%s", f->name);
		const char *hint = dg_t(r, hint_key);
		json_t *o = json_pack(
			"{s:s, s:s, s:s, s:s, s:b}", "name", f->name, "label",
			dg_t(r, dg_arena_printf(r->arena, "odp.manage.f.%s", f->name)), "hint",
			strcmp(hint, hint_key) ? hint : "", "value", v, kinds[f->kind], 1);
		/* the title and description are the Chinese ones; their English beside them */
		if (!strcmp(f->name, "title") || !strcmp(f->name, "notes"))
			json_object_set_new(o, "lang", json_string("zh-CN"));
		else if (!strcmp(f->name, "title_en") || !strcmp(f->name, "notes_en") ||
			 !strcmp(f->name, "tags_en"))
			json_object_set_new(o, "lang", json_string("en"));
		if (f->kind == F_SELECT || f->kind == F_RADIO)
			json_object_set_new(o, "options", options_of(r, f, v));
		if (f->kind == F_CHECK)
			json_object_set_new(o, "checked", json_boolean(!strcmp(v, "true")));
		if (json_object_get(errs, f->name))
			json_object_set(o, "error", json_object_get(errs, f->name));
		json_array_append_new(list, o);
	}
	return list;
}

/* The departments to choose an owner from (administrators only). */
static dg_rc dept_options(struct dg_req *r, struct dg_db *db, const char *selected, json_t *d)
{
	struct dg_rows *rw = NULL;
	json_t *depts = json_array();
	dg_rc rc = dg_db_query(db, "SELECT code, name_zh, name_en FROM departments ORDER BY code",
			       DG_NOARGS, &rw);
	while (!rc && (rc = dg_rows_next(rw)) == DG_OK)
		json_array_append_new(
			depts, json_pack("{s:s, s:s, s:b}", "code", dg_rows_text(rw, 0), "name",
					 dg_rows_text(rw, strcmp(r->lang, "en") ? 1 : 2),
					 "selected", !strcmp(selected, dg_rows_text(rw, 0))));
	dg_rows_free(rw);
	json_object_set_new(d, "depts", depts);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

static dg_rc render_dataset(struct dg_req *r, struct dg_db *db, unsigned status, const char *mine,
			    json_t *pkg, bool posted, json_t *d)
{
	bool is_new = pkg == NULL;
	json_object_set_new(d, "fields", dataset_fields(r, pkg, posted, d));
	json_object_set_new(d, "is_new", json_boolean(is_new));
	if (pkg) {
		json_object_set(d, "ds", pkg);
		/* a closed or private dataset has no public page: no link to a 404 */
		json_object_set_new(d, "public_page",
				    json_boolean(strcmp(extra_of(pkg, "open_tier"), "closed") &&
						 !json_is_true(json_object_get(pkg, "private"))));
		/* whether each has a table came with the dataset (datastore_active) */
		json_t *res;
		size_t i;
		json_array_foreach (json_object_get(pkg, "resources"), i, res)
			json_object_set(res, "datastore", json_object_get(res, "datastore_active"));
	}
	json_object_set_new(d, "action",
			    json_string(is_new ? "/data/manage/new"
					       : dg_arena_printf(r->arena, "/data/datasets/%s/edit",
								 str_of(pkg, "name"))));
	if (!strcmp(mine, "*")) {
		const char *sel = posted ? dg_req_field(r, "owner_org")
				  : pkg  ? str_of(pkg, "owner_org")
					 : "";
		dg_rc rc = dept_options(r, db, sel ? sel : "", d);
		if (rc) {
			json_decref(d);
			return rc;
		}
	}
	const char *done = dg_req_field(r, "done");
	if (!posted && done && strlen(done) < 20 &&
	    strspn(done, "abcdefghijklmnopqrstuvwxyz_") == strlen(done)) {
		const char *key = dg_arena_printf(r->arena, "odp.manage.done_%s", done);
		if (strcmp(dg_t(r, key), key))
			json_object_set_new(d, "done", json_string(dg_t(r, key)));
		int64_t job = 0;
		const char *js = dg_req_field(r, "job");
		if (js && !dg_str_to_i64(dg_str_of(js), &job) && job > 0)
			json_object_set_new(d, "job_id", json_integer((json_int_t)job));
	}
	error_title(r, d, is_new ? dg_t(r, "odp.manage.new_title") : str_of(pkg, "title"));
	return dg_page(r, status, "data/manage_dataset.html", d);
}

/* "a, b\nc" into [{"name": "a"}, ...] (the validator checks each tag). */
static json_t *tags_of(const char *text)
{
	json_t *tags = json_array();
	for (const char *p = text ? text : ""; *p;) {
		size_t n = strcspn(p, ",\r\n，");
		struct dg_str t = dg_str_trim((struct dg_str){p, n});
		if (t.n)
			json_array_append_new(tags, json_pack("{s:s%}", "name", t.p, t.n));
		p += n;
		/* a separator: one byte, or the three of a full-width comma */
		p += !*p ? 0 : (unsigned char)*p == 0xef ? 3 : 1;
	}
	return tags;
}

/*
 * The English labels box into p's tags_translated, p's "tags" being the
 * tags box's: line i labels tag i, an empty line none, empty lines past
 * the last tag do not count. Only the labelled tags go in, as
 * ckanext-fluent's lists paired by place ({"zh_Hans_CN": [...], "en":
 * [...]}); no label at all removes the field. The lists are checked by the
 * catalogue's rules with the rest of the dataset (catalog/actions.c, the
 * API's); here only that the box has a line for each tag, else the page's
 * message (p left as it was).
 */
static const char *tags_en_into(struct dg_req *r, json_t *p)
{
	const char *text = dg_req_field(r, "tags_en");
	json_t *tags = json_object_get(p, "tags");
	size_t ntags = json_array_size(tags), nlines = 0, last = 0;
	if (!text || !dg_utf8_valid(text, strlen(text)))
		text = "";
	/* only the first ntags lines are kept: any past them is a mismatch */
	struct dg_str *lines = dg_arena_alloc(r->arena, (ntags + 1) * sizeof *lines);
	/* bounded by the text: each turn takes a line and its break */
	for (const char *s = text;;) {
		size_t n = strcspn(s, "\r\n");
		struct dg_str t = dg_str_trim((struct dg_str){s, n});
		if (nlines < ntags)
			lines[nlines] = t;
		if (t.n)
			last = nlines + 1;
		nlines++;
		s += n;
		if (!*s)
			break;
		/* one line break: CR LF (as browsers send it), LF or CR */
		s += *s == '\r' && s[1] == '\n' ? 2 : 1;
	}
	if (last == 0) {
		json_object_set_new(p, "tags_translated", json_null());
		return NULL;
	}
	size_t given = last > ntags ? last : nlines < ntags ? nlines : ntags;
	if (given != ntags) {
		const char *msg = dg_t(r, "odp.manage.tags_en_count");
		msg = fill(r, msg, "{labels}", dg_arena_printf(r->arena, "%zu", given));
		return fill(r, msg, "{tags}", dg_arena_printf(r->arena, "%zu", ntags));
	}
	json_t *zh = json_array(), *en = json_array();
	for (size_t i = 0; i < ntags; i++)
		if (lines[i].n) {
			json_array_append(zh, json_object_get(json_array_get(tags, i), "name"));
			json_array_append_new(en, json_stringn(lines[i].p, lines[i].n));
		}
	json_object_set_new(p, "tags_translated",
			    json_pack("{s:o, s:o}", "zh_Hans_CN", zh, "en", en));
	return NULL;
}

/*
 * The package dict the form says, over old (NULL for a new dataset): the
 * form's keys replace old's, resources and free extras stay, as with
 * package_patch. A box the form itself cannot read (the English tags not
 * a line for each tag) is *bad, the page's message.
 */
static json_t *dataset_params(struct dg_req *r, json_t *old, const char *owner, const char **bad)
{
	json_t *p = old ? json_deep_copy(old) : json_object();
	static const char *const plain[] = {
		"name",   "title",        "notes",      "license_id",
		"author", "author_email", "maintainer", "maintainer_email",
		"url",    "version"};
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
		const char *v = dg_req_field(r, plain[i]);
		json_object_set_new(p, plain[i],
				    json_string(v && dg_utf8_valid(v, strlen(v)) ? v : ""));
	}
	/* a title or slug typed with spaces around it means the same */
	const char *name = dg_req_field(r, "name");
	if (name) {
		struct dg_str t = dg_str_trim(dg_str_of(name));
		json_object_set_new(p, "name", json_stringn(t.p, t.n));
	}
	/* the English title and description into ckanext-fluent's fields, other languages kept */
	static const char *const en[][2] = {{"title_en", "title_translated"},
					    {"notes_en", "notes_translated"}};
	for (size_t i = 0; i < 2; i++) {
		const char *v = dg_req_field(r, en[i][0]);
		json_t *t = json_object_get(p, en[i][1]);
		t = json_is_object(t) ? json_deep_copy(t) : json_object();
		if (v && *v && dg_utf8_valid(v, strlen(v)))
			json_object_set_new(t, "en", json_string(v));
		else
			json_object_del(t, "en");
		json_object_set_new(p, en[i][1], json_object_size(t) ? t : json_null());
		if (!json_object_size(t))
			json_decref(t);
	}
	const char *priv = dg_req_field(r, "private");
	json_object_set_new(p, "private", json_boolean(priv && !strcmp(priv, "true")));
	const char *tags = dg_req_field(r, "tags");
	json_object_set_new(
		p, "tags",
		tags_of(tags && strlen(tags) <= TAG_TEXT_MAX && dg_utf8_valid(tags, strlen(tags))
				? tags
				: ""));
	*bad = tags_en_into(r, p);
	const char *theme = dg_req_field(r, "theme");
	struct dg_str th = dg_str_trim(dg_str_of(theme ? theme : ""));
	json_object_set_new(p, "groups",
			    th.n ? json_pack("[{s:s%}]", "name", th.p, th.n) : json_array());
	json_t *extras = json_array(), *e;
	size_t i;
	json_array_foreach (json_object_get(old, "extras"), i, e) {
		const char *k = str_of(e, "key");
		if (strcmp(k, "update_frequency") && strcmp(k, "region") && strcmp(k, "open_tier"))
			json_array_append(extras, e);
	}
	static const char *const cols[][2] = {
		{"frequency", "update_frequency"}, {"region", "region"}, {"tier", "open_tier"}};
	for (size_t k = 0; k < 3; k++) {
		const char *v = dg_req_field(r, cols[k][0]);
		json_array_append_new(extras, json_pack("{s:s, s:s}", "key", cols[k][1], "value",
							v && dg_utf8_valid(v, strlen(v)) ? v : ""));
	}
	json_object_set_new(p, "extras", extras);
	if (owner)
		json_object_set_new(p, "owner_org", json_string(owner));
	return p;
}

static dg_rc save_dataset(struct dg_req *r, struct dg_db *db, const char *mine, json_t *old)
{
	const char *owner = strcmp(mine, "*") ? (old ? NULL : mine) : dg_req_field(r, "owner_org");
	const char *id = NULL, *bad = NULL;
	json_t *params = dataset_params(r, old, owner, &bad), *errs = NULL;
	if (bad) {
		/* nothing is saved: the labels would go with the wrong tags */
		json_decref(params);
		json_t *d = json_object();
		dg_form_error(d, "tags_en",
			      dg_arena_printf(r->arena, "%s%s%s", dg_t(r, "odp.manage.f.tags_en"),
					      dg_t(r, "odp.manage.colon"), bad));
		return render_dataset(r, db, dg_rc_form_status(DG_EINVAL), mine, old, true, d);
	}
	dg_rc rc = dg_ckan_package_save(r, db, params, old, mine, &id, &errs);
	json_decref(params);
	if (rc == DG_EDENIED) /* an administrator's choice only: staff cannot name another owner */
		return dg_err_set(&r->err, rc, "%s", dg_t(r, "odp.manage.not_yours"));
	if (rc == DG_EINVAL) {
		json_t *d = json_object();
		page_errors(r, errs, pkg_map, "odp.manage.f", "title", d);
		json_decref(errs);
		return render_dataset(r, db, dg_rc_form_status(DG_EINVAL), mine, old, true, d);
	}
	if (rc)
		return rc;
	json_t *fresh = NULL;
	rc = dg_od_package_read(db, id, true, &fresh);
	if (rc)
		return rc;
	dg_reply_redirect(r, dg_arena_printf(r->arena, "/data/datasets/%s/edit?done=saved",
					     str_of(fresh, "name")));
	json_decref(fresh);
	return DG_OK;
}

static dg_rc page_new(struct dg_req *r)
{
	struct target t;
	dg_rc rc = target_of(r, S_WRITER, &t);
	return rc ? rc : render_dataset(r, t.db, 200, t.mine, NULL, false, json_object());
}

static dg_rc post_new(struct dg_req *r)
{
	struct target t;
	dg_rc rc = target_of(r, S_WRITER, &t);
	return rc ? rc : save_dataset(r, t.db, t.mine, NULL);
}

static dg_rc page_edit(struct dg_req *r)
{
	struct target t;
	dg_rc rc = target_of(r, S_DATASET, &t);
	return rc ? rc : render_dataset(r, t.db, 200, t.mine, t.pkg, false, json_object());
}

static dg_rc post_edit(struct dg_req *r)
{
	struct target t;
	dg_rc rc = target_of(r, S_DATASET, &t);
	return rc ? rc : save_dataset(r, t.db, t.mine, t.pkg);
}

/* ---- deletions behind a confirmation page ---- */

static dg_rc confirm_page(struct dg_req *r, json_t *pkg, json_t *res)
{
	json_t *d = json_object();
	const char *name = str_of(pkg, "name");
	json_object_set(d, "ds", pkg);
	if (res) {
		json_object_set(d, "res", res);
		json_object_set_new(d, "action",
				    json_string(dg_arena_printf(
					    r->arena, "/data/datasets/%s/resources/%s/delete", name,
					    str_of(res, "id"))));
	} else {
		json_object_set_new(
			d, "action",
			json_string(dg_arena_printf(r->arena, "/data/datasets/%s/delete", name)));
	}
	json_object_set_new(d, "back",
			    json_string(dg_arena_printf(r->arena, "/data/datasets/%s/edit", name)));
	json_object_set_new(d, "title",
			    json_string(dg_t(r, res ? "odp.manage.res_delete_title"
						    : "odp.manage.delete_title")));
	return dg_page(r, 200, "data/manage_delete.html", d);
}

static dg_rc page_delete(struct dg_req *r)
{
	struct target t;
	dg_rc rc = target_of(r, S_DATASET, &t);
	return rc ? rc : confirm_page(r, t.pkg, NULL);
}

static dg_rc post_delete(struct dg_req *r)
{
	struct target t;
	dg_rc rc = target_of(r, S_DATASET, &t);
	if (!rc)
		rc = dg_od_package_delete(t.db, str_of(t.pkg, "id"), dg_now_ms());
	if (!rc)
		dg_reply_redirect(r, "/data/manage?done=deleted");
	return rc;
}

/* ---- resources ---- */

static const char *const res_map[][2] = {
	{"name", "name"}, {"url", "url"}, {"format", "format"}, {"description", "description"},
	{NULL, NULL},
};

/* The link-resource form: new (res NULL) or editing res, with the upload form beside a new one. */
static dg_rc render_resource(struct dg_req *r, unsigned status, json_t *pkg, json_t *res,
			     bool posted, json_t *d)
{
	static const char *const names[] = {"name", "url", "format", "description"};
	json_t *vals = json_object_get(d, "values");
	if (!posted) {
		vals = json_object();
		for (size_t i = 0; i < 4; i++)
			json_object_set_new(vals, names[i],
					    json_string(res ? str_of(res, names[i]) : ""));
		json_object_set_new(d, "values", vals);
	}
	const char *name = str_of(pkg, "name");
	json_object_set(d, "ds", pkg);
	if (res) {
		json_object_set(d, "res", res);
		json_object_set_new(d, "is_upload",
				    json_boolean(!strcmp(str_of(res, "url_type"), "upload")));
	}
	json_object_set_new(
		d, "action",
		json_string(
			res ? dg_arena_printf(r->arena, "/data/datasets/%s/resources/%s/edit", name,
					      str_of(res, "id"))
			    : dg_arena_printf(r->arena, "/data/datasets/%s/resources/new", name)));
	json_object_set_new(
		d, "upload_action",
		json_string(dg_arena_printf(r->arena, "/data/datasets/%s/resources/upload", name)));
	json_object_set_new(d, "back",
			    json_string(dg_arena_printf(r->arena, "/data/datasets/%s/edit", name)));
	error_title(r, d, dg_t(r, res ? "odp.manage.res_edit_title" : "odp.manage.res_new_title"));
	return dg_page(r, status, "data/manage_resource.html", d);
}

/* Save the posted link resource: new (old NULL) or over old. */
static dg_rc save_resource(struct dg_req *r, struct dg_db *db, json_t *pkg, json_t *old)
{
	static const char *const names[] = {"name", "url", "format", "description"};
	json_t *src = old ? json_deep_copy(old) : json_object(), *errs = NULL;
	for (size_t i = 0; i < 4; i++) {
		const char *v = dg_req_field(r, names[i]);
		if (old && !strcmp(names[i], "url") && !strcmp(str_of(old, "url_type"), "upload"))
			continue; /* an uploaded file's address is the file's */
		struct dg_str t = dg_str_trim(dg_str_of(v && dg_utf8_valid(v, strlen(v)) ? v : ""));
		json_object_set_new(src, names[i], json_stringn(t.p, t.n));
	}
	const char *rid = NULL;
	int64_t job = 0;
	dg_rc rc =
		dg_ckan_resource_save(r, db, str_of(pkg, "id"), old, src, NULL, &rid, &job, &errs);
	json_decref(src);
	if (rc == DG_EINVAL) {
		json_t *d = json_object();
		dg_form_keep_values(r, d);
		page_errors(r, errs, res_map, "odp.manage.rf", "name", d);
		json_decref(errs);
		return render_resource(r, dg_rc_form_status(DG_EINVAL), pkg, old, true, d);
	}
	if (!rc)
		dg_reply_redirect(
			r, dg_arena_printf(r->arena, "/data/datasets/%s/edit?done=%s#resources",
					   str_of(pkg, "name"), old ? "res_saved" : "res_added"));
	return rc;
}

static dg_rc page_res_new(struct dg_req *r)
{
	struct target t;
	dg_rc rc = target_of(r, S_DATASET, &t);
	return rc ? rc : render_resource(r, 200, t.pkg, NULL, false, json_object());
}

static dg_rc post_res_new(struct dg_req *r)
{
	struct target t;
	dg_rc rc = target_of(r, S_DATASET, &t);
	return rc ? rc : save_resource(r, t.db, t.pkg, NULL);
}

static dg_rc page_res_edit(struct dg_req *r)
{
	struct target t;
	dg_rc rc = target_of(r, S_RESOURCE, &t);
	return rc ? rc : render_resource(r, 200, t.pkg, t.res, false, json_object());
}

static dg_rc post_res_edit(struct dg_req *r)
{
	struct target t;
	dg_rc rc = target_of(r, S_RESOURCE, &t);
	return rc ? rc : save_resource(r, t.db, t.pkg, t.res);
}

static dg_rc page_res_delete(struct dg_req *r)
{
	struct target t;
	dg_rc rc = target_of(r, S_RESOURCE, &t);
	return rc ? rc : confirm_page(r, t.pkg, t.res);
}

static dg_rc post_res_delete(struct dg_req *r)
{
	struct target t;
	dg_rc rc = target_of(r, S_RESOURCE, &t);
	if (!rc)
		rc = dg_ckan_resource_remove(r, t.db, str_of(t.res, "id"));
	if (!rc)
		dg_reply_redirect(
			r, dg_arena_printf(r->arena,
					   "/data/datasets/%s/edit?done=res_deleted#resources",
					   str_of(t.pkg, "name")));
	return rc;
}

/*
 * A file as a new resource: the same as resource_create with an "upload"
 * (kept, then for a CSV or TSV its load into the DataStore queued); the
 * dataset's page then links to the load's progress.
 */
static dg_rc post_upload(struct dg_req *r)
{
	struct target t;
	dg_rc rc = target_of(r, S_DATASET, &t);
	if (rc)
		return rc;
	const struct dg_upload *up = dg_od_file_upload(r);
	json_t *d = json_object(), *errs = NULL;
	if (!up || up->size == 0) {
		dg_form_error(d, "upload",
			      dg_arena_printf(r->arena, "%s%s%s", dg_t(r, "odp.manage.rf.upload"),
					      dg_t(r, "odp.manage.colon"),
					      dg_t(r, "odp.v.upload_empty")));
	} else {
		const char *name = dg_req_field(r, "upload_name"), *rid = NULL;
		struct dg_str nm = dg_str_trim(
			dg_str_of(name && dg_utf8_valid(name, strlen(name)) ? name : ""));
		json_t *src = json_pack("{s:s%}", "name", nm.p, nm.n);
		int64_t job = 0;
		rc = dg_ckan_resource_save(r, t.db, str_of(t.pkg, "id"), NULL, src, up, &rid, &job,
					   &errs);
		json_decref(src);
		if (!rc) {
			json_decref(d);
			const char *name_ = str_of(t.pkg, "name");
			dg_reply_redirect(
				r,
				job ? dg_arena_printf(r->arena,
						      "/data/datasets/%s/"
						      "edit?done=uploaded_job&job=%lld#resources",
						      name_, (long long)job)
				    : dg_arena_printf(
					      r->arena,
					      "/data/datasets/%s/edit?done=uploaded#resources",
					      name_));
			return DG_OK;
		}
		if (rc != DG_EINVAL) {
			json_decref(d);
			return rc;
		}
		page_errors(r, errs, res_map, "odp.manage.rf", "upload", d);
		json_decref(errs);
	}
	dg_form_keep_values(r, d);
	return render_resource(r, dg_rc_form_status(DG_EINVAL), t.pkg, NULL, true, d);
}

/* ---- column types ---- */

static const char *const col_types[] = {"text",      "int",  "numeric", "date",
					"timestamp", "bool", "json",    NULL};

/*
 * A load report's line in the reader's language: the loader writes
 * 'Line L, column C (label): "value" is not TYPE' or 'Line L: N fields, the
 * header has M' (datastore/load.c); anything else is shown as it is.
 */
static const char *report_text(struct dg_req *r, const char *msg)
{
	const char *q = strstr(msg, "): \""), *end = strstr(msg, "\" is not ");
	if (q && end && end > q + 4) {
		const char *type = end + 9;
		return dg_arena_printf(r->arena, "%s%.*s%s%s", dg_t(r, "odp.manage.report_value"),
				       (int)(end - q - 4), q + 4, dg_t(r, "odp.manage.report_not"),
				       tr(r, "odp.manage.type", type, type));
	}
	if (strstr(msg, " fields, the header has "))
		return dg_t(r, "odp.manage.report_fields");
	return msg;
}

/* The columns page: types, the strict flag, the job started here and the last load's report. */
static dg_rc render_columns(struct dg_req *r, struct dg_db *db, unsigned status, json_t *pkg,
			    json_t *res, json_t *d)
{
	struct dg_ds_table t = {0};
	json_t *report = NULL;
	const char *rid = str_of(res, "id");
	dg_rc rc = dg_ds_sql_lookup(db, rid, &t);
	if (rc == DG_ENOTFOUND)
		rc = dg_err_set(&r->err, rc, "%s", dg_t(r, "odp.manage.no_table"));
	if (!rc)
		rc = dg_ds_sql_report(db, rid, &report);
	if (rc) {
		json_decref(t.fields);
		json_decref(d);
		return rc;
	}
	json_t *source = json_object_get(report, "source");
	json_t *types = json_object_get(json_object_get(source, "options"), "types");
	json_t *posted = json_object_get(d, "values");
	json_t *cols = json_array(), *f;
	size_t i;
	json_array_foreach (t.fields, i, f) {
		const char *id = str_of(f, "id");
		const char *field = dg_arena_printf(r->arena, "type_%s", id);
		const char *chosen = posted ? str_of(posted, field) : str_of(types, id);
		json_t *opts = json_array();
		json_array_append_new(opts, json_pack("{s:s, s:s, s:b}", "value", "", "label",
						      dg_t(r, "odp.manage.col_auto"), "selected",
						      !chosen[0]));
		for (const char *const *p = col_types; *p; p++)
			json_array_append_new(opts,
					      json_pack("{s:s, s:s, s:b}", "value", *p, "label",
							tr(r, "odp.manage.type", *p, *p),
							"selected", !strcmp(chosen, *p)));
		const char *label = str_of(json_object_get(f, "info"), "label");
		json_t *c =
			json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", id, "field", field, "label",
				  label[0] ? label : id, "type",
				  tr(r, "odp.manage.type", str_of(f, "type"), str_of(f, "type")),
				  "options", opts);
		json_object_set_new(c, "show_id", json_boolean(label[0] && strcmp(label, id)));
		if (json_object_get(json_object_get(d, "error_for"), field))
			json_object_set(c, "error",
					json_object_get(json_object_get(d, "error_for"), field));
		/* the labels form's two fields, as posted after an error, else as stored */
		static const char *const lk[][2] = {{"zh", "label"}, {"en", "label_en"}};
		for (size_t k = 0; k < 2; k++) {
			const char *name = dg_arena_printf(r->arena, "%s_%s", lk[k][0], id);
			const char *v = posted && json_object_get(posted, name)
						? str_of(posted, name)
						: str_of(json_object_get(f, "info"), lk[k][1]);
			json_t *lf = json_pack("{s:s, s:s}", "field", name, "value", v);
			json_t *e = json_object_get(json_object_get(d, "error_for"), name);
			if (e)
				json_object_set(lf, "error", e);
			json_object_set_new(c, lk[k][0], lf);
		}
		json_array_append_new(cols, c);
	}
	bool strict = posted ? !!json_object_get(posted, "strict")
			     : json_is_true(json_object_get(json_object_get(source, "options"),
							    "strict"));
	json_object_set_new(d, "cols", cols);
	json_object_set_new(d, "strict", json_boolean(strict));
	json_object_set_new(
		d, "can_reload",
		json_boolean(json_string_value(json_object_get(source, "path")) != NULL));
	json_object_set_new(d, "rows", json_string(dg_count_text(r, t.row_count)));
	if (report) {
		json_t *errs = json_object_get(report, "errors"), *e;
		json_array_foreach (errs, i, e) {
			int64_t col = json_integer_value(json_object_get(e, "column"));
			json_t *cf = col > 0 ? json_array_get(t.fields, (size_t)(col - 1)) : NULL;
			json_object_set_new(e, "column_name",
					    json_string(cf ? str_of(cf, "id") : ""));
			json_object_set_new(e, "text",
					    json_string(report_text(r, str_of(e, "message"))));
		}
		json_object_set(d, "report", report);
	}
	json_decref(report);
	json_decref(t.fields);
	json_object_set(d, "ds", pkg);
	json_object_set(d, "res", res);
	json_object_set_new(
		d, "action",
		json_string(dg_arena_printf(r->arena, "/data/datasets/%s/resources/%s/columns",
					    str_of(pkg, "name"), rid)));
	json_object_set_new(
		d, "labels_action",
		json_string(dg_arena_printf(r->arena, "/data/datasets/%s/resources/%s/labels",
					    str_of(pkg, "name"), rid)));
	json_object_set_new(d, "label_max", json_integer(DG_DS_LABEL_MAX));
	error_title(r, d, dg_t(r, "odp.manage.cols_title"));
	return dg_page(r, status, "data/manage_columns.html", d);
}

/*
 * The load job ?job= names, for its progress: shown, as on the jobs page,
 * only to whoever queued it and to administrators, and only a load.
 */
static dg_rc add_job(struct dg_req *r, struct dg_db *db, json_t *d)
{
	const char *s = dg_req_field(r, "job");
	int64_t id = 0;
	json_t *job = NULL;
	if (!s || dg_str_to_i64(dg_str_of(s), &id) || id <= 0)
		return DG_OK;
	dg_rc rc = dg_job_get_json(db, id, &job);
	if (rc)
		return rc == DG_ENOTFOUND ? DG_OK : rc;
	json_int_t creator = json_integer_value(json_object_get(job, "created_by"));
	if (!strcmp(str_of(job, "kind"), "datastore.load") &&
	    (r->user->role == DG_ROLE_ADMIN || creator == r->user->id)) {
		json_t *progress = json_object_get(job, "progress");
		json_int_t done = json_integer_value(json_object_get(progress, "done"));
		json_int_t total = json_integer_value(json_object_get(progress, "total"));
		const char *state = str_of(job, "state");
		bool ended = !strcmp(state, "done") || !strcmp(state, "failed");
		json_object_set_new(job, "percent",
				    json_integer(!strcmp(state, "done") ? 100
						 : total > 0            ? done * 100 / total
									: 0));
		json_object_set_new(job, "has_total", json_boolean(total > 0));
		json_object_set_new(job, "ended", json_boolean(ended));
		json_object_set_new(job, "state_label",
				    json_string(tr(r, "jobs.state", state, state)));
		json_object_set(d, "job", job);
	}
	json_decref(job);
	return DG_OK;
}

static dg_rc page_columns(struct dg_req *r)
{
	struct target t;
	json_t *d = json_object();
	dg_rc rc = target_of(r, S_RESOURCE, &t);
	if (!rc)
		rc = add_job(r, t.db, d);
	if (rc) {
		json_decref(d);
		return rc;
	}
	const char *done = dg_req_field(r, "done");
	if (done && !strcmp(done, "labels"))
		json_object_set_new(d, "done", json_string(dg_t(r, "odp.manage.done_labels")));
	return render_columns(r, t.db, 200, t.pkg, t.res, d);
}

static dg_rc post_columns(struct dg_req *r)
{
	struct target tg;
	struct dg_ds_table t = {0};
	dg_rc rc = target_of(r, S_RESOURCE, &tg);
	struct dg_db *db = tg.db;
	const char *rid = str_of(tg.res, "id");
	if (!rc && (rc = dg_ds_sql_lookup(db, rid, &t)) == DG_ENOTFOUND)
		rc = dg_err_set(&r->err, rc, "%s", dg_t(r, "odp.manage.no_table"));
	if (rc)
		return rc;
	/* every column of the table: a type, or "" to let inference decide (null) */
	json_t *types = json_object(), *f, *d = json_object();
	size_t i;
	json_array_foreach (t.fields, i, f) {
		const char *id = str_of(f, "id");
		const char *field = dg_arena_printf(r->arena, "type_%s", id);
		const char *v = dg_req_field(r, field);
		enum dg_ds_type ty;
		if (!v || !v[0])
			json_object_set_new(types, id, json_null());
		else if (dg_ds_type_parse(v, &ty) == DG_OK)
			json_object_set_new(types, id, json_string(dg_ds_type_name(ty)));
		else
			dg_form_error(d, field,
				      dg_arena_printf(r->arena, "%s%s%s", id,
						      dg_t(r, "odp.manage.colon"),
						      dg_t(r, "odp.manage.col_bad")));
	}
	json_decref(t.fields);
	const char *strict = dg_req_field(r, "strict");
	json_t *params = json_pack("{s:o, s:b}", "types", types, "strict",
				   strict && !strcmp(strict, "true"));
	json_t *result = NULL;
	struct dg_err err = {0};
	if (!json_object_get(d, "errors")) {
		rc = dg_datastore_reload(db, r->user->id, rid, params, &result, &err);
		if (rc == DG_EINVAL) {
			dg_form_error(d, "strict",
				      dg_arena_printf(r->arena, "%s (%s)",
						      dg_t(r, "odp.manage.reload_bad"), err.msg));
			rc = DG_OK;
		}
	}
	json_decref(params);
	if (rc) {
		json_decref(d);
		return rc;
	}
	if (json_object_get(d, "errors")) {
		dg_form_keep_values(r, d);
		return render_columns(r, db, dg_rc_form_status(DG_EINVAL), tg.pkg, tg.res, d);
	}
	json_decref(d);
	dg_reply_redirect(
		r,
		dg_arena_printf(r->arena, "/data/datasets/%s/resources/%s/columns?job=%lld#job",
				str_of(tg.pkg, "name"), rid,
				(long long)json_integer_value(json_object_get(result, "job_id"))));
	json_decref(result);
	return DG_OK;
}

/*
 * The columns' Chinese and English labels (zh_<col>, en_<col>), stored in
 * the table's field info (dg_datastore_set_labels): every field is checked
 * first, and one that is too long or holds control characters sends the
 * page back with the answers kept and nothing stored.
 */
static dg_rc post_labels(struct dg_req *r)
{
	struct target tg;
	struct dg_ds_table t = {0};
	dg_rc rc = target_of(r, S_RESOURCE, &tg);
	const char *rid = tg.res ? str_of(tg.res, "id") : "";
	if (!rc && (rc = dg_ds_sql_lookup(tg.db, rid, &t)) == DG_ENOTFOUND)
		rc = dg_err_set(&r->err, rc, "%s", dg_t(r, "odp.manage.no_table"));
	if (rc)
		return rc;
	json_t *labels = json_object(), *f, *d = json_object();
	size_t i;
	json_array_foreach (t.fields, i, f) {
		const char *id = str_of(f, "id");
		json_t *one = json_object();
		static const char *const lk[][2] = {{"zh", "label"}, {"en", "label_en"}};
		for (size_t k = 0; k < 2; k++) {
			const char *name = dg_arena_printf(r->arena, "%s_%s", lk[k][0], id);
			const char *v = dg_req_field(r, name), *why = NULL;
			if (!v) /* a field the form did not send keeps its label */
				continue;
			json_t *js = json_string(v);
			if (!js || dg_ds_label_check(js, &why) != DG_OK)
				dg_form_error(
					d, name,
					dg_arena_printf(r->arena, "%s%s%s", id,
							dg_t(r, "odp.manage.colon"),
							dg_t(r, why && !strcmp(why, "long")
									? "odp.manage.label_long"
									: "odp.manage.label_bad")));
			else
				json_object_set(one, lk[k][1], js);
			json_decref(js);
		}
		json_object_set_new(labels, id, one);
	}
	json_decref(t.fields);
	struct dg_err err = {0};
	if (!json_object_get(d, "errors")) {
		rc = dg_datastore_set_labels(tg.db, rid, labels, &err);
		if (rc == DG_EINVAL) {
			dg_form_error(d, "labels", err.msg);
			rc = DG_OK;
		}
	}
	json_decref(labels);
	if (rc) {
		json_decref(d);
		return dg_err_set(&r->err, rc, "%s",
				  err.msg[0] ? err.msg : dg_t(r, "error.store_busy"));
	}
	if (json_object_get(d, "errors")) {
		dg_form_keep_values(r, d);
		return render_columns(r, tg.db, dg_rc_form_status(DG_EINVAL), tg.pkg, tg.res, d);
	}
	json_decref(d);
	dg_reply_redirect(
		r, dg_arena_printf(r->arena,
				   "/data/datasets/%s/resources/%s/columns?done=labels#labels",
				   str_of(tg.pkg, "name"), rid));
	return DG_OK;
}

static const struct dg_route routes[] = {
	{"GET", "/data/manage", page_list, DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"GET", "/data/manage/new", page_new, DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"POST", "/data/manage/new", post_new, DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"GET", "/data/datasets/{id}/edit", page_edit, DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"POST", "/data/datasets/{id}/edit", post_edit, DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"GET", "/data/datasets/{id}/delete", page_delete, DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"POST", "/data/datasets/{id}/delete", post_delete, DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"GET", "/data/datasets/{id}/resources/new", page_res_new, DG_ROLE_STAFF | DG_ROLE_ADMIN,
	 0},
	{"POST", "/data/datasets/{id}/resources/new", post_res_new, DG_ROLE_STAFF | DG_ROLE_ADMIN,
	 0},
	{"POST", "/data/datasets/{id}/resources/upload", post_upload, DG_ROLE_STAFF | DG_ROLE_ADMIN,
	 0},
	{"GET", "/data/datasets/{id}/resources/{rid}/edit", page_res_edit,
	 DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"POST", "/data/datasets/{id}/resources/{rid}/edit", post_res_edit,
	 DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"GET", "/data/datasets/{id}/resources/{rid}/delete", page_res_delete,
	 DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"POST", "/data/datasets/{id}/resources/{rid}/delete", post_res_delete,
	 DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"GET", "/data/datasets/{id}/resources/{rid}/columns", page_columns,
	 DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"POST", "/data/datasets/{id}/resources/{rid}/columns", post_columns,
	 DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"POST", "/data/datasets/{id}/resources/{rid}/labels", post_labels,
	 DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
};

const struct dg_route *dg_od_manage_routes(size_t *n)
{
	*n = sizeof routes / sizeof routes[0];
	return routes;
}
