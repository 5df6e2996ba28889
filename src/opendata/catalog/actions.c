/*
 * actions.c - the catalogue's CKAN actions beyond basic.c's (see
 * catalog.h): parameters read with CKAN's coercions (booleans, numbers as strings,
 * lists as JSON text), validation that collects every field's messages into
 * one 409 Validation Error as CKAN does, permissions (writes need an API
 * token of the owning department's staff or an administrator), and the
 * calls into search.c, write.c and sql.c, which hold the SQL.
 */
#include "opendata/catalog/catalog_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "node/env.h"
#include "web/page.h"
#include "core/date.h"
#include "core/rand.h"
#include "core/log.h"
#include "core/str.h"
#include "opendata/datastore/datastore.h"

#define TAGS_MAX      100
#define EXTRAS_MAX    50
#define RESOURCES_MAX 100

/* ---- parameters ---- */

static const char *str_of(json_t *params, const char *key)
{
	return json_string_value(json_object_get(params, key));
}

/* CKAN's booleans: true/false, 1/0, on/off, yes/no in any case, or JSON ones. */
static dg_rc param_bool(json_t *params, const char *key, bool dflt, bool *out)
{
	json_t *v = json_object_get(params, key);
	*out = dflt;
	if (!v || json_is_null(v))
		return DG_OK;
	if (json_is_boolean(v) || json_is_integer(v)) {
		*out = json_is_boolean(v) ? json_is_true(v) : json_integer_value(v) != 0;
		return DG_OK;
	}
	const char *s = json_string_value(v);
	static const char *const yes[] = {"true", "1", "on", "yes"}, *const no[] = {"false", "0",
										    "off", "no"};
	for (size_t i = 0; s && i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = true, DG_OK;
		if (strcasecmp(s, no[i]) == 0)
			return *out = false, DG_OK;
	}
	return DG_EINVAL;
}

/* A natural number as a JSON number or decimal string. */
static dg_rc param_nat(json_t *params, const char *key, int64_t dflt, int64_t *out)
{
	json_t *v = json_object_get(params, key);
	*out = dflt;
	if (!v || json_is_null(v))
		return DG_OK;
	if (json_is_integer(v))
		*out = json_integer_value(v);
	else if (!json_is_string(v) || dg_str_to_i64(dg_str_of(json_string_value(v)), out) != DG_OK)
		return DG_EINVAL;
	return *out < 0 ? DG_EINVAL : DG_OK;
}

/* A list given as a JSON array or as JSON text (GET); a new reference, or NULL. */
static json_t *param_list(json_t *params, const char *key)
{
	json_t *v = json_object_get(params, key);
	if (json_is_array(v))
		return json_incref(v);
	if (json_is_string(v)) {
		json_t *l = json_loads(json_string_value(v), JSON_DECODE_ANY, NULL);
		if (json_is_array(l))
			return l;
		json_decref(l);
	}
	return NULL;
}

/*
 * A list of names as CKAN's group_list and organization_list take one: a
 * JSON list, a JSON list in a string, or a comma-separated string ("a,b").
 * NULL (and *bad set) when the value is there but none of these.
 */
static json_t *param_names(json_t *params, const char *key, bool *bad)
{
	json_t *v = json_object_get(params, key), *l = param_list(params, key);
	*bad = false;
	if (l || !v || json_is_null(v))
		return l;
	const char *s = json_string_value(v);
	if (!s || s[0] == '[') {
		*bad = true;
		return NULL;
	}
	l = json_array();
	struct dg_str rest = dg_str_of(s), item;
	while (rest.p) {
		rest = dg_str_cut(rest, ',', &item);
		item = dg_str_trim(item);
		if (item.n)
			json_array_append_new(l, json_stringn(item.p, item.n));
	}
	return l;
}

static void add_err(json_t *errs, const char *field, const char *msg)
{
	json_t *l = json_object_get(errs, field);
	if (!l) {
		l = json_array();
		json_object_set_new(errs, field, l);
	}
	json_array_append_new(l, json_string(msg));
}

/*
 * A message of the package and resource rules: CKAN's English text for the
 * API, and beside it (under DG_CKAN_KEYS) the catalogue key "odp.v.<code>"
 * with its argument after a colon, which the pages show in the reader's
 * language.
 */
static void add_errk(json_t *errs, const char *field, const char *code, const char *arg,
		     const char *msg)
{
	add_err(errs, field, msg);
	json_t *keys = json_object_get(errs, DG_CKAN_KEYS);
	if (!keys) {
		keys = json_object();
		json_object_set_new(errs, DG_CKAN_KEYS, keys);
	}
	json_t *l = json_object_get(keys, field);
	if (!l) {
		l = json_array();
		json_object_set_new(keys, field, l);
	}
	json_array_append_new(
		l, json_sprintf("odp.v.%s%s%.200s", code, arg ? ":" : "", arg ? arg : ""));
}

/* CKAN's 409 body from the collected messages (steals errs). */
static dg_rc validation_failed(json_t *errs, json_t **res, struct dg_err *err)
{
	json_object_del(errs, DG_CKAN_KEYS); /* the pages' keys are not CKAN's */
	json_object_set_new(errs, "__type", json_string("Validation Error"));
	*res = errs;
	return dg_err_set(err, DG_EINVAL, "Validation Error");
}

static dg_rc search_query_error(const char *msg, json_t **res, struct dg_err *err)
{
	char text[320];
	snprintf(text, sizeof text, "Search Query is invalid: %s", msg);
	*res = json_pack("{s:s, s:s}", "__type", "Search Query Error", "message", text);
	return dg_err_set(err, DG_EINVAL, "%s", text);
}

/* ---- who may do what ---- */

static dg_rc denied(struct dg_req *r, const char *what, struct dg_err *err)
{
	return dg_err_set(err, DG_EDENIED, "Access denied: User %s not authorized to %s",
			  r->user ? r->user->username : "anonymous", what);
}

/* A refusal: "not found" when the public cannot see the dataset either, else "denied". */
static dg_rc refuse(struct dg_req *r, struct dg_db *db, const char *id, const char *what,
		    struct dg_err *err)
{
	json_t *pub = NULL;
	dg_rc rc = dg_od_package_show(db, id, &pub);
	json_decref(pub);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, rc, "Not found: Dataset not found");
	return rc ? rc : denied(r, what, err);
}

/*
 * The dataset id_or_name for a writer: ENOTFOUND when it does not exist or
 * is closed/private to someone who may not edit it, EDENIED otherwise.
 */
static dg_rc writable_package(struct dg_req *r, struct dg_db *db, const char *id, bool deleted_ok,
			      json_t **pkg, struct dg_err *err)
{
	char *dept = NULL, *tier = NULL, *pkg_id = NULL;
	const char *mine = NULL;
	*pkg = NULL;
	/* a deleted dataset stays its editors' to update or restore (CKAN) */
	dg_rc rc = deleted_ok ? dg_od_package_any(db, id, r->arena, &pkg_id, &dept)
			      : dg_od_package_owner(db, id, r->arena, &dept, &tier);
	if (!rc)
		rc = dg_od_writer(r, db, true, &mine);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, rc, "Not found: Dataset not found");
	if (rc)
		return rc;
	if (!dg_od_may_edit(mine, dept))
		return refuse(r, db, id, "edit this dataset", err);
	rc = deleted_ok ? dg_od_package_read_all(db, pkg_id, pkg)
			: dg_od_package_read(db, id, true, pkg);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, rc, "Not found: Dataset not found");
	return rc;
}

/* ---- package_search ---- */

/* Strings of a list parameter (or one string) into an arena array; false when not strings. */
static bool strings_of(struct dg_arena *a, json_t *list, const char ***out, size_t *n, size_t max)
{
	*n = json_array_size(list);
	if (*n > max)
		return false;
	*out = dg_arena_alloc(a, (*n + 1) * sizeof **out);
	for (size_t i = 0; i < *n; i++) {
		const char *s = json_string_value(json_array_get(list, i));
		if (!s)
			return false;
		(*out)[i] = s;
	}
	return true;
}

/*
 * fl: each result keeps only the fields listed (comma or space separated;
 * unknown ones are left out, "*" keeps all), as Solr's field list.
 */
static void only_fields(json_t *results, const char *fl)
{
	size_t i;
	json_t *pkg;
	if (strchr(fl, '*') || !dg_str_trim(dg_str_of(fl)).n)
		return;
	json_array_foreach (results, i, pkg) {
		json_t *kept = json_object();
		struct dg_str rest = dg_str_of(fl), item;
		while (rest.p) {
			rest = dg_str_cut(rest, ',', &item);
			/* a space also separates: cut the item again on spaces */
			struct dg_str sub = dg_str_trim(item), word;
			while (sub.p) {
				sub = dg_str_cut(sub, ' ', &word);
				word = dg_str_trim(word);
				char key[64];
				if (!word.n || word.n >= sizeof key)
					continue;
				memcpy(key, word.p, word.n);
				key[word.n] = '\0';
				json_t *v = json_object_get(pkg, key);
				if (v)
					json_object_set(kept, key, v);
			}
		}
		json_object_clear(pkg);
		json_object_update(pkg, kept);
		json_decref(kept);
	}
}

/*
 * The parameters package_search knows: its own, Solr's that CKAN passes
 * through (VALID_SOLR_PARAMETERS, the ones dgov has no use for accepted and
 * ignored) and the ext_* of extensions. Anything else is CKAN's Search Query
 * Error, so a misspelt parameter does not silently return everything.
 */
static const char *unknown_search_param(json_t *params)
{
	static const char *const known[] = {
		"q",
		"fq",
		"fq_list",
		"rows",
		"start",
		"sort",
		"fl",
		"facet",
		"facet.field",
		"facet.limit",
		"facet.mincount",
		"include_private",
		"include_drafts",
		"include_deleted",
		"use_default_schema",
		"wt",
		"qf",
		"bf",
		"boost",
		"tie",
		"defType",
		"mm",
		"df",
		"extras",
		"hl",
		"hl.fl",
	};
	const char *k;
	json_t *v;
	json_object_foreach (params, k, v) {
		bool ok = strncmp(k, "ext_", 4) == 0;
		for (size_t i = 0; !ok && i < sizeof known / sizeof known[0]; i++)
			ok = strcmp(k, known[i]) == 0;
		if (!ok)
			return k;
	}
	return NULL;
}

/* fl as a string: a JSON list (in a body or a query string) joined by spaces; NULL when bad. */
static const char *fl_of(struct dg_arena *a, json_t *params, bool *bad)
{
	json_t *v = json_object_get(params, "fl");
	*bad = false;
	if (!v || json_is_null(v))
		return NULL;
	if (json_is_string(v) && json_string_value(v)[0] != '[')
		return json_string_value(v);
	json_t *l = param_list(params, "fl");
	struct dg_buf b;
	dg_buf_init(&b, 4096);
	size_t i;
	json_t *f;
	json_array_foreach (l, i, f)
		if (!json_is_string(f) || dg_buf_addf(&b, "%s ", json_string_value(f)))
			*bad = true;
	*bad = *bad || !l;
	const char *out = *bad ? NULL : dg_arena_strdup(a, dg_buf_str(&b));
	dg_buf_release(&b);
	json_decref(l);
	return out;
}

DG_CKAN_ACTION_FN(package_search)
{
	struct dg_od_search s = {.now_ms = dg_now_ms(), .memo = r->env->searches};
	const char *stray = unknown_search_param(params);
	if (stray) {
		char msg[200];
		snprintf(msg, sizeof msg, "\"Invalid search parameters: ['%.100s']\"", stray);
		return search_query_error(msg, res, err);
	}
	json_t *errs = json_object();
	json_t *v = json_object_get(params, "q");
	if (v && !json_is_string(v) && !json_is_null(v))
		add_err(errs, "q", "Must be a string");
	s.q = json_string_value(v);
	if (param_nat(params, "rows", 10, &s.rows))
		add_err(errs, "rows", "Must be a natural number");
	if (param_nat(params, "start", 0, &s.start))
		add_err(errs, "start", "Must be a natural number");
	if (s.rows > DG_OD_ROWS_MAX)
		s.rows = DG_OD_ROWS_MAX; /* CKAN caps rows silently at rows_max */
	v = json_object_get(params, "sort");
	if (v && !json_is_string(v))
		add_err(errs, "sort", "Must be a string");
	s.sort = json_string_value(v);

	/* fq (one string) and fq_list (a list of strings): all must hold */
	const char **fq = dg_arena_alloc(r->arena, (DG_OD_FQ_MAX + 1) * sizeof *fq);
	v = json_object_get(params, "fq");
	if (v && !json_is_string(v))
		add_err(errs, "fq", "Must be a string");
	else if (v)
		fq[s.nfq++] = json_string_value(v);
	json_t *fql = param_list(params, "fq_list");
	const char **more = NULL;
	size_t nmore = 0;
	if (json_object_get(params, "fq_list") &&
	    (!fql || !strings_of(r->arena, fql, &more, &nmore, DG_OD_FQ_MAX - s.nfq)))
		add_err(errs, "fq_list", "Must be a list of at most 15 strings");
	for (size_t i = 0; i < nmore; i++)
		fq[s.nfq++] = more[i];
	s.fq = fq;

	bool facet = true, include_private = false, drafts = false, include_deleted = false;
	if (param_bool(params, "facet", true, &facet))
		add_err(errs, "facet", "Must be a boolean");
	/* no drafts are made through this API: the flag is checked, then has nothing to add */
	if (param_bool(params, "include_drafts", false, &drafts))
		add_err(errs, "include_drafts", "Must be a boolean");
	bool fl_bad = false;
	const char *fl = fl_of(r->arena, params, &fl_bad);
	if (fl_bad)
		add_err(errs, "fl", "Must be a list of field names, or a string of them");
	if (param_bool(params, "include_private", false, &include_private))
		add_err(errs, "include_private", "Must be a boolean");
	if (param_bool(params, "include_deleted", false, &include_deleted))
		add_err(errs, "include_deleted", "Must be a boolean");
	json_t *ff = param_list(params, "facet.field");
	const char **facets = NULL;
	if (json_object_get(params, "facet.field") &&
	    (!ff || !strings_of(r->arena, ff, &facets, &s.nfacets, DG_OD_FACETS_MAX)))
		add_err(errs, "facet.field", "Must be a JSON list of at most 16 field names");
	s.facets = facet ? facets : NULL;
	if (!facet)
		s.nfacets = 0;
	int64_t flimit = 50;
	v = json_object_get(params, "facet.limit");
	if (v && ((json_is_integer(v) && json_integer_value(v) == -1) ||
		  (json_is_string(v) && strcmp(json_string_value(v), "-1") == 0)))
		flimit = -1; /* Solr's "no limit" (capped at DG_OD_ROWS_MAX) */
	else if (param_nat(params, "facet.limit", 50, &flimit))
		add_err(errs, "facet.limit", "Must be a natural number or -1");
	s.facet_limit = flimit;
	if (param_nat(params, "facet.mincount", 1, &s.facet_mincount))
		add_err(errs, "facet.mincount", "Must be a natural number");

	struct dg_db *db = NULL;
	dg_rc rc = DG_OK;
	if (json_object_size(errs)) {
		rc = validation_failed(errs, res, err);
		errs = NULL;
	}
	if (!rc)
		rc = dg_req_db(r, &db);
	/* private datasets: only with include_private, only the requester's department's */
	if (!rc && include_private)
		rc = dg_od_writer(r, db, false, &s.private_dept);
	/* deleted datasets, as CKAN: to whoever may see them (package_show's rule: their
	 * department's staff, administrators all); to anyone else the flag adds nothing */
	if (!rc && include_deleted)
		rc = dg_od_writer(r, db, false, &s.deleted_dept);
	if (!rc) {
		rc = dg_od_search_run(db, r->arena, &s, res, err);
		if (rc == DG_EINVAL)
			rc = search_query_error(err->msg, res, err);
	}
	if (!rc && fl)
		only_fields(json_object_get(*res, "results"), fl);
	json_decref(errs);
	json_decref(fql);
	json_decref(ff);
	return rc;
}

/* ---- organizations, groups, tags ---- */

static dg_rc group_list(struct dg_req *r, json_t *params, bool orgs, json_t **res,
			struct dg_err *err)
{
	bool all = false, with_count = true;
	int64_t limit = 0, offset = 0;
	json_t *errs = json_object();
	if (param_bool(params, "all_fields", false, &all))
		add_err(errs, "all_fields", "Must be a boolean");
	if (param_bool(params, "include_dataset_count", true, &with_count))
		add_err(errs, "include_dataset_count", "Must be a boolean");
	/* CKAN's limits: 1000 names, or 25 dicts with all_fields */
	if (param_nat(params, "limit", all ? 25 : 1000, &limit))
		add_err(errs, "limit", "Must be a natural number");
	if (param_nat(params, "offset", 0, &offset))
		add_err(errs, "offset", "Must be a natural number");
	if (json_object_size(errs))
		return validation_failed(errs, res, err);
	json_decref(errs);
	if (limit > 1000)
		limit = 1000;
	bool bad = false;
	json_t *only = param_names(params, orgs ? "organizations" : "groups", &bad);
	size_t k;
	json_t *name;
	json_array_foreach (only, k, name)
		bad = bad || !json_is_string(name);
	if (bad) {
		json_decref(only);
		errs = json_object();
		add_err(errs, orgs ? "organizations" : "groups", "Must be a list of names");
		return validation_failed(errs, res, err);
	}
	struct dg_od_group_query gq = {
		.orgs = orgs,
		.sort = str_of(params, "sort"),
		.q = str_of(params, "q"),
		.only = only,
		.limit = limit,
		.offset = offset,
	};
	struct dg_db *db = NULL;
	json_t *list = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_od_group_list(db, &gq, &list, err);
	json_decref(only);
	if (rc)
		return rc;
	size_t i;
	json_t *g;
	json_t *out = json_array();
	json_array_foreach (list, i, g) {
		if (!with_count)
			json_object_del(g, "package_count");
		json_array_append(out, all ? g : json_object_get(g, "name"));
	}
	json_decref(list);
	*res = out;
	return DG_OK;
}

DG_CKAN_ACTION_FN(organization_list)
{
	return group_list(r, params, true, res, err);
}

DG_CKAN_ACTION_FN(group_list)
{
	return group_list(r, params, false, res, err);
}

/* A Solr phrase for value: quoted, with " and \ escaped. */
static const char *phrase(struct dg_arena *a, const char *field, const char *value)
{
	size_t n = strlen(value);
	char *out = dg_arena_alloc(a, strlen(field) + 2 * n + 4), *o = out;
	o += snprintf(o, strlen(field) + 3, "%s:\"", field);
	for (; *value; value++) {
		if (*value == '"' || *value == '\\')
			*o++ = '\\';
		*o++ = *value;
	}
	*o++ = '"';
	*o = '\0';
	return out;
}

/* The id and include_datasets of the *_show actions. */
static dg_rc show_params(json_t *params, const char **id, bool *with_ds, struct dg_err *err)
{
	*id = str_of(params, "id");
	if (!*id || !**id)
		return dg_err_field(err, DG_EINVAL, "id", "Missing value");
	if (param_bool(params, "include_datasets", false, with_ds))
		return dg_err_field(err, DG_EINVAL, "include_datasets", "Must be a boolean");
	return DG_OK;
}

static dg_rc group_show(struct dg_req *r, json_t *params, bool org, json_t **res,
			struct dg_err *err)
{
	const char *id = NULL;
	bool with_ds = false;
	dg_rc rc = show_params(params, &id, &with_ds, err);
	if (rc)
		return rc;
	struct dg_db *db = NULL;
	json_t *g = NULL;
	rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_od_group_show(db, org, id, &g);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, rc, "Not found: %s not found",
				  org ? "Organization" : "Group");
	if (rc)
		return rc;
	if (with_ds) {
		/* CKAN caps the list: 10 datasets for an organization, 1000 for a group */
		const char *fq = phrase(r->arena, org ? "organization" : "groups", id);
		struct dg_od_search s = {.fq = &fq,
					 .nfq = 1,
					 .rows = org ? 10 : 1000,
					 .sort = "name asc",
					 .now_ms = dg_now_ms()};
		json_t *found = NULL;
		rc = dg_od_search_run(db, r->arena, &s, &found, err);
		if (rc) {
			json_decref(g);
			return rc;
		}
		json_object_set(g, "packages", json_object_get(found, "results"));
		json_decref(found);
	}
	*res = g;
	return DG_OK;
}

DG_CKAN_ACTION_FN(organization_show)
{
	return group_show(r, params, true, res, err);
}

DG_CKAN_ACTION_FN(group_show)
{
	return group_show(r, params, false, res, err);
}

/*
 * organization_update/patch and group_update/patch, as CKAN 2.10 has them
 * (logic/action/update.py _group_or_org_update, patch.py): the group is
 * named by id (its name); update sets title, description and image_url
 * when sent and keeps them when absent, and replaces the extras (absent:
 * none), as CKAN's group_dict_save does; patch changes only the keys
 * sent. Only administrators may (organization_create and group_create are
 * theirs too in dgov: departments and themes are the platform's). What a
 * client may not set is ignored: created, package_count, state, type,
 * users, packages and the like, which `ckanapi load` sends back as dumped.
 * A name other than the group's renames it (names.c): the id stays, the
 * new name follows CKAN's name rule and must not be another group's id,
 * name or old name, the old names keep answering, and the datasets, the
 * facets and the kept searches show the new one.
 */
#define GROUP_TITLE_MAX  200
#define GROUP_TEXT_MAX   10000
#define GROUP_URL_MAX    2000
#define GROUP_EXTRAS_MAX 100

static void check_name(const char *name, const char *key, json_t *errs);

static void group_err(json_t *errs, const char *field, const char *msg)
{
	json_t *list = json_object_get(errs, field);
	if (!list) {
		list = json_array();
		json_object_set_new(errs, field, list);
	}
	json_array_append_new(list, json_string(msg));
}

/* A string field sent as a string (or null, taken as ""), at most max bytes. */
static void group_text(json_t *params, const char *key, size_t max, json_t *out, json_t *errs)
{
	json_t *v = json_object_get(params, key);
	if (!v)
		return;
	if (json_is_null(v))
		v = json_string("");
	else if (!json_is_string(v)) {
		group_err(errs, key, "Must be a string");
		return;
	} else
		json_incref(v);
	if (json_string_length(v) > max)
		group_err(errs, key, "Value is too long");
	else
		json_object_set(out, key, v);
	json_decref(v);
}

static void group_extras(json_t *params, json_t *out, json_t *errs)
{
	json_t *list = json_object_get(params, "extras");
	if (!list)
		return;
	if (!json_is_array(list) || json_array_size(list) > GROUP_EXTRAS_MAX) {
		group_err(errs, "extras", "Must be a list of at most 100 {key, value} objects");
		return;
	}
	json_t *kept = json_array(), *seen = json_object(), *e;
	size_t i;
	json_array_foreach (list, i, e) {
		json_t *k = json_object_get(e, "key"), *v = json_object_get(e, "value");
		if (json_is_true(json_object_get(e, "deleted")))
			continue; /* CKAN's way to drop one */
		if (!json_is_string(k) || !json_string_length(k) || json_string_length(k) > 200 ||
		    (v && !json_is_string(v) && !json_is_null(v)) ||
		    (json_is_string(v) && json_string_length(v) > GROUP_TEXT_MAX)) {
			group_err(errs, "extras", "Each extra needs a key and a string value");
			break;
		}
		if (json_object_get(seen, json_string_value(k))) {
			group_err(errs, "extras", "Duplicate key");
			break;
		}
		json_object_set_new(seen, json_string_value(k), json_true());
		json_array_append_new(kept,
				      json_pack("{s:O, s:s}", "key", k, "value",
						json_is_string(v) ? json_string_value(v) : ""));
	}
	json_object_set(out, "extras", kept);
	json_decref(kept);
	json_decref(seen);
}

static dg_rc group_write(struct dg_req *r, json_t *params, bool org, bool patch, json_t **res,
			 struct dg_err *err)
{
	const char *id = str_of(params, "id");
	if (!id || !id[0])
		return dg_err_field(err, DG_EINVAL, "id", "Missing value");
	struct dg_db *db = NULL;
	const char *mine = NULL;
	json_t *cur = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_od_group_show(db, org, id, &cur);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, rc, "Not found: Group was not found.");
	if (!rc)
		rc = dg_od_writer(r, db, true, &mine);
	if (rc) {
		json_decref(cur);
		return rc;
	}
	if (!mine || strcmp(mine, "*") != 0) {
		json_decref(cur);
		return denied(r, dg_arena_printf(r->arena, "edit group %s", id), err);
	}
	json_t *errs = json_object(), *set = json_object();
	const char *name = str_of(params, "name"),
		   *gid = dg_arena_strdup(r->arena, str_of(cur, "id"));
	if (json_object_get(params, "name") && !name)
		group_err(errs, "name", "Must be a string");
	else if (name && strcmp(name, str_of(cur, "name")) == 0)
		name = NULL; /* kept as it is */
	else if (name)
		check_name(name, "name", errs);
	group_text(params, "title", GROUP_TITLE_MAX, set, errs);
	group_text(params, "description", GROUP_TEXT_MAX, set, errs);
	group_text(params, "image_url", GROUP_URL_MAX, set, errs);
	group_extras(params, set, errs);
	if (json_object_size(errs)) {
		json_decref(cur);
		json_decref(set);
		return validation_failed(errs, res, err);
	}
	json_decref(errs);
	/* update: extras not sent are none; title and the texts not sent stay */
	if (!patch && !json_object_get(set, "extras"))
		json_object_set_new(set, "extras", json_array());
	json_t *now = json_deep_copy(cur);
	json_object_update(now, set);
	json_decref(set);
	/* (an organization's title_en shown from its department is kept as an extra then: the same)
	 */
	json_t *extras = json_object_get(now, "extras");
	char *text = json_dumps(extras, JSON_COMPACT);
	int64_t at = dg_now_ms();
	/* the rename and what is kept of the group change together or not at all */
	rc = dg_db_begin(db);
	if (!rc && name)
		rc = dg_od_group_rename(db, org, gid, name, at);
	if (!rc)
		rc = dg_od_group_meta_save(db, org, gid, str_of(now, "title"),
					   str_of(now, "description"), str_of(now, "image_url"),
					   text ? text : "[]", at);
	if (!rc)
		rc = dg_db_commit(db);
	if (rc && dg_db_in_tx(db))
		dg_db_rollback(db);
	free(text);
	json_decref(now);
	json_decref(cur);
	if (rc == DG_ECONFLICT) {
		errs = json_object();
		group_err(errs, "name", "Group name already exists in database");
		return validation_failed(errs, res, err);
	}
	if (!rc)
		rc = dg_od_group_show(db, org, gid, res);
	return rc;
}

DG_CKAN_ACTION_FN(organization_update)
{
	return group_write(r, params, true, false, res, err);
}

DG_CKAN_ACTION_FN(organization_patch)
{
	return group_write(r, params, true, true, res, err);
}

DG_CKAN_ACTION_FN(group_update)
{
	return group_write(r, params, false, false, res, err);
}

DG_CKAN_ACTION_FN(group_patch)
{
	return group_write(r, params, false, true, res, err);
}

DG_CKAN_ACTION_FN(tag_list)
{
	const char *q = str_of(params, "query");
	bool all = false;
	if (!q)
		q = str_of(params, "q");
	if (param_bool(params, "all_fields", false, &all))
		return dg_err_field(err, DG_EINVAL, "all_fields", "Must be a boolean");
	if (json_object_get(params, "vocabulary_id")) {
		*res = json_array(); /* dgov's tags are free tags: no vocabularies */
		return DG_OK;
	}
	struct dg_db *db = NULL;
	json_t *names = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_od_tag_list(db, q, &names);
	if (rc)
		return rc;
	if (all) {
		json_t *dicts = json_array();
		size_t i;
		json_t *n;
		json_array_foreach (names, i, n) {
			const char *s = json_string_value(n);
			json_array_append_new(dicts,
					      json_pack("{s:s, s:s, s:s, s:n}", "id", s, "name", s,
							"display_name", s, "vocabulary_id"));
		}
		json_decref(names);
		names = dicts;
	}
	*res = names;
	return DG_OK;
}

DG_CKAN_ACTION_FN(tag_show)
{
	const char *id = NULL;
	bool with_ds = false;
	dg_rc rc = show_params(params, &id, &with_ds, err);
	if (rc)
		return rc;
	/* a tag is known through the datasets the public may see that carry it */
	const char *fq = phrase(r->arena, "tags", id);
	struct dg_od_search s = {.fq = &fq,
				 .nfq = 1,
				 .rows = with_ds ? 1000 : 0,
				 .sort = "name asc",
				 .now_ms = dg_now_ms()};
	struct dg_db *db = NULL;
	json_t *found = NULL;
	rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_od_search_run(db, r->arena, &s, &found, err);
	if (rc)
		return rc;
	if (json_integer_value(json_object_get(found, "count")) == 0) {
		json_decref(found);
		return dg_err_set(err, DG_ENOTFOUND, "Not found: Could not find tag \"%.100s\"",
				  id);
	}
	*res = json_pack("{s:s, s:s, s:s, s:n, s:O}", "id", id, "name", id, "display_name", id,
			 "vocabulary_id", "package_count", json_object_get(found, "count"));
	if (with_ds)
		json_object_set(*res, "packages", json_object_get(found, "results"));
	json_decref(found);
	return DG_OK;
}

/* ---- package_create / update / patch ---- */

/* A text field: absent or null is "", else a string of at most max code points. */
static const char *text_field(json_t *params, const char *key, size_t max, json_t *errs)
{
	json_t *v = json_object_get(params, key);
	if (!v || json_is_null(v))
		return "";
	const char *s = json_string_value(v);
	if (!s) {
		add_errk(errs, key, "not_string", NULL, "Must be a string");
		return "";
	}
	size_t n = strlen(s);
	if (!dg_utf8_valid(s, n) || dg_utf8_len(s, n) > max) {
		char msg[64], arg[24];
		snprintf(msg, sizeof msg, "Must be at most %zu characters long", max);
		snprintf(arg, sizeof arg, "%zu", max);
		add_errk(errs, key, "too_long", arg, msg);
	}
	return s;
}

/* CKAN's e-mail rule, in short: a local part, one @, and a domain of dot-separated labels. */
static void check_email(const char *addr, const char *key, json_t *errs)
{
	const char *at = strchr(addr, '@');
	bool ok = at && at > addr && !strchr(at + 1, '@') && at[1] && at[1] != '.';
	for (const char *p = addr; ok && p < at; p++)
		ok = *p > ' ' && *p < 0x7f && !strchr("\"(),:;<>[\\]", *p);
	for (const char *p = at ? at + 1 : ""; ok && *p; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		     (*p >= '0' && *p <= '9') || *p == '-' || (*p == '.' && p[1] && p[1] != '.');
	if (!ok && addr[0]) {
		char msg[160];
		snprintf(msg, sizeof msg, "Email %.100s is not a valid format", addr);
		add_errk(errs, key, "email", NULL, msg);
	}
}

/* CKAN's package name rule: 2 to 100 of a-z 0-9 - _. */
static void check_name(const char *name, const char *key, json_t *errs)
{
	size_t n = strlen(name);
	if (n == 0) {
		add_errk(errs, key, "missing", NULL, "Missing value");
		return;
	}
	if (n < 2)
		add_errk(errs, key, "name_short", NULL, "Must be at least 2 characters long");
	if (n > 100)
		add_errk(errs, key, "name_long", NULL,
			 "Name must be a maximum of 100 characters long");
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_')) {
			add_errk(errs, key, "name_chars", NULL,
				 "Must be purely lowercase alphanumeric (ascii) characters and "
				 "these "
				 "symbols: -_");
			return;
		}
}

char *dg_ckan_new_id(struct dg_arena *a)
{
	unsigned char b[16];
	dg_rand_bytes(b, sizeof b);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	return dg_arena_printf(
		a, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
		b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		b[14], b[15]);
}

/* CKAN's tag rule: 2 to 100 characters, letters, digits, space and - _ . */
static void check_tag(const char *t, json_t *errs)
{
	char msg[200];
	size_t n = strlen(t);
	if (!dg_utf8_valid(t, n) || dg_utf8_len(t, n) < 2 || dg_utf8_len(t, n) > 100) {
		snprintf(msg, sizeof msg, "Tag \"%.60s\" must be 2 to 100 characters long", t);
		add_errk(errs, "tags", "tag_length", t, msg);
		return;
	}
	for (const unsigned char *p = (const unsigned char *)t; *p; p++)
		if (*p < 0x80 && !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				   (*p >= '0' && *p <= '9') || strchr(" -_.", *p))) {
			snprintf(msg, sizeof msg,
				 "Tag \"%.60s\" must be alphanumeric characters or symbols: -_.",
				 t);
			add_errk(errs, "tags", "tag_chars", t, msg);
			return;
		}
}

static void read_tags(struct dg_arena *a, json_t *params, struct dg_od_pkg_in *p, json_t *errs)
{
	json_t *tags = json_object_get(params, "tags");
	const char *tag_string = str_of(params, "tag_string");
	size_t n = json_array_size(tags);
	json_t *split = NULL;
	if (!tags && tag_string) {
		/* "a,b, c": CKAN's form of the list */
		split = json_array();
		struct dg_str rest = dg_str_of(tag_string), item;
		while (rest.p && json_array_size(split) <= TAGS_MAX) {
			rest = dg_str_cut(rest, ',', &item);
			item = dg_str_trim(item);
			if (item.n)
				json_array_append_new(split,
						      json_pack("{s:s%}", "name", item.p, item.n));
		}
		tags = split;
		n = json_array_size(tags);
	} else if (tags && !json_is_array(tags)) {
		add_errk(errs, "tags", "tags_list", NULL, "Must be a list");
		return;
	}
	if (n > TAGS_MAX) {
		add_errk(errs, "tags", "tags_many", NULL, "At most 100 tags");
		json_decref(split);
		return;
	}
	p->tags = dg_arena_alloc(a, (n + 1) * sizeof *p->tags);
	for (size_t i = 0; i < n; i++) {
		json_t *t = json_array_get(tags, i);
		const char *name = json_is_string(t) ? json_string_value(t) : str_of(t, "name");
		if (!name) {
			add_errk(errs, "tags", "tag_name", NULL, "Each tag needs a name");
			continue;
		}
		check_tag(name, errs);
		bool dup = false;
		for (size_t k = 0; k < p->ntags; k++)
			dup = dup || strcmp(p->tags[k], name) == 0;
		if (!dup)
			p->tags[p->ntags++] = dg_arena_strdup(a, name);
	}
	json_decref(split);
}

/* extras: the three dgov keeps in columns, and free ones. */
static void read_extras(struct dg_arena *a, json_t *params, struct dg_od_pkg_in *p, json_t *errs)
{
	json_t *extras = json_object_get(params, "extras");
	size_t n = json_array_size(extras);
	if (extras && !json_is_array(extras)) {
		add_errk(errs, "extras", "extras_list", NULL,
			 "Must be a list of {\"key\", \"value\"}");
		return;
	}
	if (n > EXTRAS_MAX) {
		add_errk(errs, "extras", "extras_many", NULL, "At most 50 extras");
		return;
	}
	p->extra_keys = dg_arena_alloc(a, (n + 1) * sizeof *p->extra_keys);
	p->extra_vals = dg_arena_alloc(a, (n + 1) * sizeof *p->extra_vals);
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(extras, i);
		const char *k = str_of(e, "key"), *v = str_of(e, "value");
		if (!k || !k[0] || strlen(k) > 100 || !v || strlen(v) > 10000 ||
		    !dg_utf8_valid(k, strlen(k)) || !dg_utf8_valid(v, strlen(v))) {
			add_errk(errs, "extras", "extra_bad", NULL,
				 "Each extra needs a key (1 to 100 characters) and a string value "
				 "(at most 10000)");
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (json_equal(json_object_get(json_array_get(extras, j), "key"),
				       json_object_get(e, "key"))) {
				char msg[160];
				snprintf(msg, sizeof msg, "Duplicate key \"%.100s\"", k);
				add_errk(errs, "extras", "extra_dup", k, msg);
			}
		if (strcmp(k, "update_frequency") == 0)
			p->frequency = v;
		else if (strcmp(k, "region") == 0)
			p->region = v;
		else if (strcmp(k, "open_tier") == 0)
			p->tier = v;
		else {
			p->extra_keys[p->nextras] = k;
			p->extra_vals[p->nextras++] = v;
		}
	}
	if (strcmp(p->tier, "open") != 0 && strcmp(p->tier, "conditional") != 0 &&
	    strcmp(p->tier, "closed") != 0)
		add_errk(errs, "extras", "tier", NULL,
			 "open_tier must be open, conditional or closed");
	if (strlen(p->frequency) > 32 || strlen(p->region) > 32)
		add_errk(errs, "extras", "freq_region_long", NULL,
			 "update_frequency and region are at most 32 characters");
}

/*
 * ckanext-fluent's multilingual core fields: {"en": ..., "zh_Hans_CN" or
 * "zh": ...}, sent as an object or as its JSON text. Each is kept as a free
 * extra of the same key holding the object's JSON text (keys sorted), which
 * package_show gives back as the object (sql.c), as fluent stores them.
 * tags_translated holds a list of tags for each language (fluent_tags); the
 * pages pair the "en" list with the "zh_Hans_CN" (or "zh") one by place to
 * label the dataset's tags in English.
 */
#define TAGS_TRANSLATED_MAX 100 /* tags of one language */
static const struct {
	const char *key;
	size_t max; /* bytes of one language's text (or tag): the core field's own cap */
	bool list;  /* a list of texts for each language */
} translated[] = {{"title_translated", 500, false},
		  {"notes_translated", 20000, false},
		  {"tags_translated", 100, true}};

static bool is_translated(const char *k)
{
	for (size_t i = 0; i < sizeof translated / sizeof translated[0]; i++)
		if (strcmp(k, translated[i].key) == 0)
			return true;
	return false;
}

static bool text_ok(json_t *t, size_t max)
{
	return json_is_string(t) && json_string_length(t) <= max &&
	       dg_utf8_valid(json_string_value(t), json_string_length(t));
}

/* One language's value of translated field i: a text, or a list of them. */
static bool translated_ok(json_t *t, size_t i)
{
	json_t *each;
	size_t k;
	if (!translated[i].list)
		return text_ok(t, translated[i].max);
	if (!json_is_array(t) || json_array_size(t) > TAGS_TRANSLATED_MAX)
		return false;
	json_array_foreach (t, k, each)
		if (!text_ok(each, translated[i].max))
			return false;
	return true;
}

/* One fluent value checked; its stored text (arena), NULL for none, or NULL with an error. */
static const char *translated_text(struct dg_arena *a, json_t *v, size_t i, json_t *errs)
{
	json_t *o = json_is_string(v) ? json_loads(json_string_value(v), 0, NULL) : json_incref(v);
	const char *k, *out = NULL;
	json_t *t;
	bool ok = json_is_object(o) && json_object_size(o) <= 3;
	json_object_foreach (o, k, t)
		ok = ok &&
		     (strcmp(k, "en") == 0 || strcmp(k, "zh") == 0 ||
		      strcmp(k, "zh_Hans_CN") == 0) &&
		     translated_ok(t, i);
	if (!ok && !json_is_null(v))
		add_errk(errs, translated[i].key,
			 translated[i].list ? "translated_tags" : "translated", NULL,
			 translated[i].list
				 ? "Must be an object of language codes (en, zh, zh_Hans_CN) and "
				   "lists of tags"
				 : "Must be an object of language codes (en, zh, zh_Hans_CN) and "
				   "texts");
	else if (ok && json_object_size(o)) {
		char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		out = dg_arena_strdup(a, text);
		free(text);
	}
	json_decref(o);
	return out;
}

/*
 * title_translated and notes_translated into p's free extras: as sent at
 * the top level, else as sent among the extras, else (an update) as the
 * dataset had them, as a title left out stays. null or {} removes one.
 */
static void read_translated(struct dg_arena *a, json_t *params, json_t *old, struct dg_od_pkg_in *p,
			    json_t *errs)
{
	size_t room = p->nextras + sizeof translated / sizeof translated[0];
	const char **keys = dg_arena_alloc(a, room * sizeof *keys);
	const char **vals = dg_arena_alloc(a, room * sizeof *vals);
	size_t n = 0;
	for (size_t e = 0; e < p->nextras; e++)
		if (!is_translated(p->extra_keys[e])) {
			keys[n] = p->extra_keys[e];
			vals[n++] = p->extra_vals[e];
		}
	for (size_t i = 0; i < sizeof translated / sizeof translated[0]; i++) {
		json_t *v = json_object_get(params, translated[i].key), *sent_extra = NULL;
		for (size_t e = 0; !v && e < p->nextras; e++)
			if (strcmp(p->extra_keys[e], translated[i].key) == 0)
				v = sent_extra = json_string(p->extra_vals[e]);
		if (!v && old)
			v = json_object_get(old, translated[i].key);
		const char *text = v ? translated_text(a, v, i, errs) : NULL;
		json_decref(sent_extra);
		if (text) {
			keys[n] = translated[i].key;
			vals[n++] = text;
		}
	}
	p->extra_keys = keys;
	p->extra_vals = vals;
	p->nextras = n;
}

/* Keys of a resource that dgov keeps itself or that are not the resource's own. */
static bool core_key(const char *k)
{
	static const char *const core[] = {
		"id",
		"package_id",
		"url",
		"name",
		"description",
		"format",
		"mimetype",
		"size",
		"hash",
		"created",
		"last_modified",
		"metadata_modified",
		"position",
		"state",
		"url_type",
		"datastore_active",
		"upload",
		"clear_upload",
		"tracking_summary",
		"revision_id",
	};
	for (size_t i = 0; i < sizeof core / sizeof core[0]; i++)
		if (strcmp(k, core[i]) == 0)
			return true;
	return false;
}

#define RES_EXTRAS_MAX      50
#define RES_EXTRAS_MAX_TEXT (64 << 10)

/* The free keys of src (CKAN keeps any key a client sends, nested values too). */
static const char *read_res_extras(struct dg_arena *a, json_t *src, json_t *rerr)
{
	const char *k;
	json_t *v, *free_keys = json_object();
	json_object_foreach (src, k, v) {
		if (core_key(k))
			continue;
		if (!k[0] || strlen(k) > 100 || !dg_utf8_valid(k, strlen(k))) {
			add_errk(rerr, "extras", "res_extra_key", NULL,
				 "A resource's own keys are 1 to 100 characters");
			continue;
		}
		json_object_set(free_keys, k, v);
	}
	char *text = json_dumps(free_keys, JSON_COMPACT | JSON_SORT_KEYS);
	const char *out = "{}";
	if (json_object_size(free_keys) > RES_EXTRAS_MAX || strlen(text) > RES_EXTRAS_MAX_TEXT)
		add_errk(rerr, "extras", "res_extras_big", NULL,
			 "At most 50 keys of a resource's own, 64 KiB in all");
	else
		out = dg_arena_strdup(a, text);
	free(text);
	json_decref(free_keys);
	return out;
}

/* A time the client sent (created, last_modified): CKAN's ISO form; -1 when none. */
static int64_t read_time(json_t *src, const char *key, json_t *rerr)
{
	json_t *v = json_object_get(src, key);
	int64_t ms = -1;
	bool has_time = false;
	if (!v || json_is_null(v) || (json_is_string(v) && !json_string_length(v)))
		return -1;
	if (!json_is_string(v) || dg_od_iso_parse(json_string_value(v), &ms, &has_time) != DG_OK) {
		add_errk(rerr, key, "date", NULL, "Date format incorrect");
		return -1;
	}
	return ms;
}

/* Whether the resource as read says the same as stored (its times may then stay). */
static bool res_same(const struct dg_od_res_in *r, json_t *stored)
{
	json_t *size = json_object_get(stored, "size");
	bool same_size =
		r->size < 0 ? json_is_null(size) || !size : json_integer_value(size) == r->size;
	json_t *mine = json_loads(r->extras ? r->extras : "{}", 0, NULL), *theirs = json_object();
	const char *k;
	json_t *v;
	json_object_foreach (stored, k, v)
		if (!core_key(k))
			json_object_set(theirs, k, v);
	bool same = same_size && json_equal(mine, theirs) &&
		    strcmp(r->url, str_of(stored, "url") ? str_of(stored, "url") : "") == 0;
	static const char *const keys[] = {"name", "description", "format", "mimetype", "hash"};
	const char *const vals[] = {r->name, r->description, r->format, r->mimetype, r->hash};
	for (size_t i = 0; same && i < sizeof keys / sizeof keys[0]; i++)
		same = !vals[i] ||
		       strcmp(vals[i], str_of(stored, keys[i]) ? str_of(stored, keys[i]) : "") == 0;
	same = same && (!r->url_type || strcmp(r->url_type, str_of(stored, "url_type")) == 0);
	json_decref(mine);
	json_decref(theirs);
	return same;
}

/*
 * A resource's fields; errors go into rerr (one dict per resource, as CKAN).
 * stored is the resource as it is (NULL for a new one): an uploaded file's
 * url may come back as it is, which keeps the file; another url makes the
 * resource a link and lets the file go. Keys dgov does not keep itself are
 * the resource's own (CKAN's free extras), stored as sent; a link's hash is
 * the client's; created and last_modified stay as the client sends them; a
 * link without a format or mimetype gets the ones its URL names.
 */
static void read_resource(struct dg_arena *a, json_t *src, json_t *stored, struct dg_od_res_in *res,
			  json_t *rerr)
{
	const char *id = str_of(src, "id");
	const char *type = str_of(stored, "url_type");
	const char *kept = type && strcmp(type, "upload") == 0 ? str_of(stored, "url") : NULL;
	memset(res, 0, sizeof *res);
	res->id = id && id[0] ? id : dg_ckan_new_id(a);
	if (!dg_od_id_ok(res->id))
		add_errk(rerr, "id", "id_chars", NULL, "Must be 1 to 100 of a-z A-Z 0-9 - _");
	res->url = text_field(src, "url", 2000, rerr);
	const char *hash = text_field(src, "hash", 200, rerr);
	if (kept && (!res->url[0] || strcmp(res->url, kept) == 0)) {
		res->url = kept; /* url_type NULL: the file stays, with its own hash */
	} else {
		if (res->url[0] && strncmp(res->url, "http://", 7) != 0 &&
		    strncmp(res->url, "https://", 8) != 0 && strncmp(res->url, "ftp://", 6) != 0)
			add_errk(rerr, "url", "url_scheme", NULL,
				 "Must be an http, https or ftp URL");
		if (kept)
			res->url_type = "link", res->file_key = res->file_name = "";
		const char *ut = str_of(src, "url_type");
		if (ut && strcmp(ut, "datastore") == 0)
			res->url_type = "datastore"; /* CKAN's mark of rows kept by the DataStore */
		else if (ut && strcmp(ut, "upload") != 0 && type && strcmp(type, "datastore") == 0)
			res->url_type = "link";
		res->hash = hash;
	}
	res->name = text_field(src, "name", 500, rerr);
	res->description = text_field(src, "description", 20000, rerr);
	res->format = text_field(src, "format", 100, rerr);
	res->mimetype = text_field(src, "mimetype", 200, rerr);
	const char *gformat = NULL, *gmime = NULL;
	if (!kept || res->url != kept)
		dg_od_guess_type(res->url, &gformat, &gmime);
	if (!res->mimetype[0] && gmime)
		res->mimetype = gmime;
	if (!stored && !res->format[0] && gformat)
		res->format = gformat; /* CKAN guesses a new resource's format */
	res->size = -1;
	json_t *sz = json_object_get(src, "size");
	if (sz && !json_is_null(sz) && (param_nat(src, "size", -1, &res->size) != DG_OK))
		add_errk(rerr, "size", "natural", NULL, "Must be a natural number");
	res->extras = read_res_extras(a, src, rerr);
	res->created_ms = read_time(src, "created", rerr);
	res->last_modified_ms = read_time(src, "last_modified", rerr);
	if (stored) {
		res->unchanged = res_same(res, stored);
		/* a time sent back as it was shown is no change either */
		char iso[64];
		if (res->created_ms >= 0 && str_of(stored, "created")) {
			dg_od_iso_time(res->created_ms, iso);
			if (strcmp(iso, str_of(stored, "created")) != 0)
				res->unchanged = false;
		}
		if (res->last_modified_ms >= 0 && str_of(stored, "last_modified")) {
			dg_od_iso_time(res->last_modified_ms, iso);
			if (strcmp(iso, str_of(stored, "last_modified")) != 0)
				res->unchanged = false;
		}
	}
}

static json_t *resource_in(json_t *pkg, const char *id);

static void read_resources(struct dg_arena *a, json_t *params, json_t *old, struct dg_od_pkg_in *p,
			   json_t *errs)
{
	json_t *list = json_object_get(params, "resources");
	size_t n = json_array_size(list);
	if (!list && old) {
		p->keep_resources = true; /* CKAN 2.10: resources not sent are kept */
		return;
	}
	if (list && !json_is_array(list)) {
		add_errk(errs, "resources", "resources_list", NULL, "Must be a list");
		return;
	}
	if (n > RESOURCES_MAX) {
		add_errk(errs, "resources", "resources_many", NULL, "At most 100 resources");
		return;
	}
	p->res = dg_arena_alloc(a, (n + 1) * sizeof *p->res);
	json_t *all = json_array();
	bool bad = false;
	for (size_t i = 0; i < n; i++) {
		json_t *rerr = json_object(), *src = json_array_get(list, i);
		if (!json_is_object(src))
			add_errk(rerr, "url", "resource_object", NULL,
				 "Each resource must be an object");
		else
			read_resource(a, src,
				      old && str_of(src, "id") ? resource_in(old, str_of(src, "id"))
							       : NULL,
				      &p->res[p->nres++], rerr);
		json_object_del(rerr,
				DG_CKAN_KEYS); /* nested in the API's answer: CKAN's text only */
		bad = bad || json_object_size(rerr) > 0;
		json_array_append_new(all, rerr);
	}
	if (bad)
		json_object_set(errs, "resources", all);
	json_decref(all);
}

/*
 * A whole dataset from params into *p, every problem into errs. For an
 * update, old is the stored dataset: its id stays, and the three column
 * extras and the owner are kept when params leave them out (dropping the
 * tier would publish a closed dataset).
 */
static void read_package(struct dg_arena *a, json_t *params, json_t *old, struct dg_od_pkg_in *p,
			 json_t *errs)
{
	memset(p, 0, sizeof *p);
	/* an update identifies the dataset by id: name and title left out stay (CKAN 2.10) */
	if (old && !json_object_get(params, "name"))
		p->name = str_of(old, "name");
	else
		p->name = text_field(params, "name", 1000, errs); /* check_name: CKAN's message */
	check_name(p->name, "name", errs);
	if (old && !json_object_get(params, "title"))
		p->title = str_of(old, "title");
	else
		p->title = text_field(params, "title", 500, errs);
	if (!p->title[0])
		p->title = p->name;
	p->notes = text_field(params, "notes", 20000, errs);
	p->license_id = text_field(params, "license_id", 100, errs);
	if (!p->license_id[0])
		p->license_id = "notspecified";
	p->author = text_field(params, "author", 500, errs);
	p->author_email = text_field(params, "author_email", 500, errs);
	p->maintainer = text_field(params, "maintainer", 500, errs);
	p->maintainer_email = text_field(params, "maintainer_email", 500, errs);
	check_email(p->author_email, "author_email", errs);
	check_email(p->maintainer_email, "maintainer_email", errs);
	p->url = text_field(params, "url", 2000, errs);
	p->version = text_field(params, "version", 100, errs);
	if (param_bool(params, "private", false, &p->is_private))
		add_errk(errs, "private", "bool", NULL, "Must be a boolean");
	const char *owner = text_field(params, "owner_org", 100, errs);
	p->dept = owner[0] ? owner : old ? str_of(old, "owner_org") : "";
	if (!p->dept[0])
		add_errk(errs, "owner_org", "missing", NULL, "Missing value");
	p->theme = "";
	json_t *groups = json_object_get(params, "groups");
	if (!groups && old) /* groups not sent are kept, as CKAN keeps memberships */
		groups = json_object_get(old, "groups");
	if (groups && (!json_is_array(groups) || json_array_size(groups) > 1))
		add_errk(errs, "groups", "one_group", NULL,
			 "A dataset belongs to at most one group (its theme)");
	else if (json_array_size(groups) == 1) {
		json_t *g = json_array_get(groups, 0);
		const char *t = str_of(g, "name") ? str_of(g, "name") : str_of(g, "id");
		if (!t || !t[0] || strlen(t) > 300)
			add_errk(errs, "groups", "group_name", NULL, "A group needs a name");
		else
			p->theme = t;
	}
	json_t *extras = old ? json_object_get(old, "extras") : NULL;
	p->frequency = p->region = "";
	p->tier = "open";
	for (size_t i = 0; i < json_array_size(extras); i++) {
		json_t *e = json_array_get(extras, i);
		const char *k = str_of(e, "key"), *v = str_of(e, "value");
		if (k && v && strcmp(k, "update_frequency") == 0)
			p->frequency = v;
		else if (k && v && strcmp(k, "region") == 0)
			p->region = v;
		else if (k && v && strcmp(k, "open_tier") == 0)
			p->tier = v;
	}
	/* state: kept when not sent; "active" restores a deleted dataset, "deleted" deletes it */
	p->state = old && str_of(old, "state") ? str_of(old, "state") : "active";
	json_t *st = json_object_get(params, "state");
	if (old && st && !json_is_null(st)) {
		const char *v = json_string_value(st);
		if (v && (strcmp(v, "active") == 0 || strcmp(v, "deleted") == 0))
			p->state = v;
		else
			add_errk(errs, "state", "state", NULL, "Must be active or deleted");
	}
	read_tags(a, params, p, errs);
	read_extras(a, params, p, errs);
	read_translated(a, params, old, p, errs);
	read_resources(a, params, old, p, errs);
	const char *id = str_of(params, "id");
	if (old)
		p->id = str_of(old, "id");
	else if (id && id[0] && !dg_od_id_ok(id))
		add_errk(errs, "id", "id_chars", NULL, "Must be 1 to 100 of a-z A-Z 0-9 - _");
	else
		p->id = id && id[0] ? id : dg_ckan_new_id(a);
}

/* A removed resource's table and files, which nothing may serve any more. */
static void drop_data(struct dg_req *r, const char *rid)
{
	if (dg_datastore_drop(r, rid) != DG_OK)
		dg_warn("req=%s could not drop the table of removed resource %s", r->id, rid);
	dg_od_file_remove_all(r, rid);
}

/*
 * After an update: old's resources that p dropped lose their tables and
 * files; uploads that p made links lose their files (a table stays, as a
 * link's table made by datastore_create would).
 */
static void forget_files(struct dg_req *r, json_t *old, const struct dg_od_pkg_in *p)
{
	size_t i;
	json_t *res;
	if (p->keep_resources)
		return;
	json_array_foreach (json_object_get(old, "resources"), i, res) {
		const char *id = str_of(res, "id"), *type = str_of(res, "url_type");
		const struct dg_od_res_in *now = NULL;
		if (!id)
			continue;
		for (size_t k = 0; k < p->nres; k++)
			if (strcmp(p->res[k].id, id) == 0)
				now = &p->res[k];
		if (!now)
			drop_data(r, id);
		else if (type && strcmp(type, "upload") == 0 && now->url_type &&
			 strcmp(now->url_type, "link") == 0)
			dg_od_file_remove_all(r, id);
	}
}

static bool same_str(const char *a, json_t *o, const char *key)
{
	const char *b = str_of(o, key);
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Whether name is among the n strings of v. */
static bool among(const char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return true;
	return false;
}

/*
 * Whether p says what old (the stored dataset) says: then an update changes
 * nothing, and CKAN leaves metadata_modified as it was.
 */
/* How many of p's free extras are translated fields. */
static size_t ntr_count(const struct dg_od_pkg_in *p)
{
	size_t n = 0;
	for (size_t e = 0; e < p->nextras; e++)
		n += is_translated(p->extra_keys[e]);
	return n;
}

static bool package_same(const struct dg_od_pkg_in *p, json_t *old)
{
	static const char *const keys[] = {
		"name",   "title",        "notes",      "license_id",
		"author", "author_email", "maintainer", "maintainer_email",
		"url",    "version",      "owner_org"};
	const char *const vals[] = {p->name,   p->title,        p->notes,      p->license_id,
				    p->author, p->author_email, p->maintainer, p->maintainer_email,
				    p->url,    p->version,      p->dept};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (!same_str(vals[i], old, keys[i]))
			return false;
	if (p->is_private != json_is_true(json_object_get(old, "private")) ||
	    !same_str(p->state, old, "state") ||
	    !same_str(p->theme, json_array_get(json_object_get(old, "groups"), 0), "id"))
		return false;
	json_t *tags = json_object_get(old, "tags"), *t;
	size_t i;
	if (json_array_size(tags) != p->ntags)
		return false;
	json_array_foreach (tags, i, t)
		if (!among(p->tags, p->ntags, str_of(t, "name") ? str_of(t, "name") : ""))
			return false;
	/* the extras: the three with columns, then the free ones by key; the
	   translated fields, which show as their own keys, compared as sorted text */
	json_t *extras = json_object_get(old, "extras");
	const char *cols[] = {p->frequency, p->region, p->tier};
	size_t ntr = 0;
	for (size_t e = 0; e < p->nextras; e++) {
		if (!is_translated(p->extra_keys[e]))
			continue;
		char *was = json_dumps(json_object_get(old, p->extra_keys[e]),
				       JSON_COMPACT | JSON_SORT_KEYS);
		bool same = was && strcmp(was, p->extra_vals[e]) == 0;
		free(was);
		if (!same)
			return false;
		ntr++;
	}
	for (size_t k = 0; k < sizeof translated / sizeof translated[0]; k++)
		ntr -= json_object_get(old, translated[k].key) ? 1 : 0;
	if (ntr != 0 || json_array_size(extras) != 3 + p->nextras - ntr_count(p))
		return false;
	json_array_foreach (extras, i, t) {
		const char *k = str_of(t, "key"), *v = str_of(t, "value");
		if (!k || !v)
			return false;
		if (i < 3 && strcmp(v, cols[i]) != 0)
			return false;
		bool found = i < 3;
		for (size_t e = 0; !found && e < p->nextras; e++)
			found = strcmp(p->extra_keys[e], k) == 0 &&
				strcmp(p->extra_vals[e], v) == 0;
		if (!found)
			return false;
	}
	if (p->keep_resources)
		return true;
	json_t *res = json_object_get(old, "resources");
	if (json_array_size(res) != p->nres)
		return false;
	for (i = 0; i < p->nres; i++)
		if (!p->res[i].unchanged || !same_str(p->res[i].id, json_array_get(res, i), "id"))
			return false;
	return true;
}

/*
 * An uploaded file's link sent back as it was shown (the site URL in
 * front, as ckanapi load sends package_show's output) is the stored one:
 * the file stays.
 */
static void own_link(struct dg_req *r, json_t *src, json_t *stored)
{
	const char *type = str_of(stored, "url_type"), *url = str_of(src, "url");
	const char *rel = dg_od_link_relative(r, url);
	if (type && strcmp(type, "upload") == 0 && rel != url && str_of(stored, "url") &&
	    strcmp(rel, str_of(stored, "url")) == 0)
		json_object_set_new(src, "url", json_string(rel));
}

/*
 * The names' rule of catalog_int.h (dg_od_name_org), checked before any
 * clash: a name or an id that belongs to another organisation is refused
 * as such whether a dataset has it or not, and a closed dataset's name
 * must belong to its own. A name kept as it was (same name, same owner) is
 * not checked again, so datasets named before the rule can still be edited.
 */
static dg_rc check_names(struct dg_db *db, const struct dg_od_pkg_in *p, json_t *old,
			 const char *given_id, json_t *errs)
{
	char org[DG_OD_CODE_MAX], msg[200];
	dg_rc rc = DG_OK;
	bool kept = old && same_str(p->name, old, "name") && same_str(p->dept, old, "owner_org");
	if (p->name[0] && !json_object_get(errs, "name"))
		rc = dg_od_name_org(db, p->name, org);
	else
		org[0] = '\0';
	if (!rc && org[0] && strcmp(org, p->dept) != 0 && !kept) {
		snprintf(msg, sizeof msg,
			 "Names starting with \"%s-\" are kept for the organization %s", org, org);
		add_errk(errs, "name", "name_reserved", org, msg);
	} else if (!rc && p->dept[0] && strcmp(p->tier, "closed") == 0 &&
		   strcmp(org, p->dept) != 0 && !json_object_get(errs, "name")) {
		snprintf(msg, sizeof msg,
			 "A closed dataset's name starts with its organization and a hyphen: "
			 "%s-...",
			 p->dept);
		add_errk(errs, "name", "name_closed", p->dept, msg);
	}
	bool id_sent = !old && p->id && given_id && given_id[0] && !json_object_get(errs, "id");
	if (!rc && id_sent)
		rc = dg_od_name_org(db, p->id, org);
	if (!rc && id_sent && org[0] && strcmp(org, p->dept) != 0) {
		snprintf(msg, sizeof msg,
			 "Ids starting with \"%s-\" are kept for the organization %s", org, org);
		add_errk(errs, "id", "id_reserved", org, msg);
	}
	return rc;
}

dg_rc dg_ckan_package_save(struct dg_req *r, struct dg_db *db, json_t *params, json_t *old,
			   const char *mine, const char **id, json_t **errs_out)
{
	struct dg_od_pkg_in p;
	json_t *errs = json_object();
	*errs_out = NULL;
	size_t i;
	json_t *src;
	json_array_foreach (json_object_get(params, "resources"), i, src) {
		const char *rid = str_of(src, "id");
		if (json_is_object(src) && rid && old)
			own_link(r, src, resource_in(old, rid));
	}
	read_package(r->arena, params, old, &p, errs);
	bool taken = false, exists = true;
	/* a group or organization named by a name it has or had: its id (names.c) */
	dg_rc rc = p.theme[0] ? dg_od_group_id(db, false, p.theme, r->arena, &p.theme) : DG_OK;
	if (!rc && p.dept[0])
		rc = dg_od_group_id(db, true, p.dept, r->arena, &p.dept);
	if (!rc)
		rc = check_names(db, &p, old, str_of(params, "id"), errs);
	if (!rc && p.name[0] && !json_object_get(errs, "name"))
		rc = dg_od_name_taken(db, p.name, old ? p.id : NULL, &taken);
	if (!rc && taken)
		add_errk(errs, "name", "name_taken", NULL, "That URL is already in use.");
	if (!rc && !old && p.id && !json_object_get(errs, "id")) {
		rc = dg_od_name_taken(db, p.id, NULL, &taken);
		if (!rc && taken)
			add_errk(errs, "id", "id_taken", NULL, "Dataset id already exists");
	}
	if (!rc && p.dept[0])
		rc = dg_od_dept_exists(db, p.dept, &exists);
	if (!rc && !exists)
		add_errk(errs, "owner_org", "owner_unknown", NULL, "Organization does not exist");
	/* permission on the (new) owner before anything about the input is answered */
	if (!rc && exists && p.dept[0] && !dg_od_may_edit(mine, p.dept))
		rc = DG_EDENIED;
	if (!rc && json_object_size(errs))
		rc = DG_EINVAL;
	if (!rc && old && package_same(&p, old)) {
		/* nothing to change: the dataset and its metadata_modified stay */
	} else if (!rc) {
		rc = dg_od_package_save(db, &p, old == NULL, dg_now_ms());
		if (!rc && old)
			forget_files(r, old, &p);
		if (rc == DG_ECONFLICT) {
			add_errk(errs, "resources", "res_conflict", NULL,
				 "A resource id belongs to another dataset");
			rc = DG_EINVAL;
		}
	}
	if (rc == DG_EINVAL)
		*errs_out = errs;
	else
		json_decref(errs);
	*id = p.id;
	return rc;
}

/*
 * The shared tail of create, update and patch: validate and save as the
 * API's writer, and answer the stored dataset.
 */
static dg_rc save(struct dg_req *r, struct dg_db *db, json_t *params, json_t *old, json_t **res,
		  struct dg_err *err)
{
	const char *mine = NULL, *id = NULL;
	json_t *errs = NULL;
	dg_rc rc = dg_od_writer(r, db, true, &mine);
	if (!rc)
		rc = dg_ckan_package_save(r, db, params, old, mine, &id, &errs);
	if (rc == DG_EDENIED)
		return denied(r, "create datasets in this organization", err);
	if (rc == DG_EINVAL)
		return validation_failed(errs, res, err);
	return rc ? rc : dg_od_package_read_all(db, id, res);
}

DG_CKAN_ACTION_FN(package_create)
{
	struct dg_db *db = NULL;
	const char *mine = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_od_writer(r, db, true, &mine);
	if (rc)
		return rc;
	/* CKAN asks who before what: nobody outside a department learns about validation */
	if (!mine)
		return denied(r, "create datasets", err);
	return save(r, db, params, NULL, res, err);
}

static dg_rc update(struct dg_req *r, json_t *params, bool patch, json_t **res, struct dg_err *err)
{
	struct dg_db *db = NULL;
	json_t *old = NULL;
	const char *id = str_of(params, "id");
	if (!id)
		id = str_of(params, "name");
	dg_rc rc;
	if (!id || !id[0])
		return dg_err_field(err, DG_EINVAL, "id", "Missing value");
	rc = dg_req_db(r, &db);
	if (!rc)
		rc = writable_package(r, db, id, true, &old, err);
	if (rc)
		return rc;
	json_t *merged = params;
	if (patch) {
		/* show, merge the top-level keys given, update */
		merged = json_deep_copy(old);
		json_object_update(merged, params);
		json_object_set(merged, "id", json_object_get(old, "id"));
		if (!json_object_get(params, "resources"))
			json_object_del(merged, "resources"); /* left as they are, times too */
	}
	rc = save(r, db, merged, old, res, err);
	if (patch)
		json_decref(merged);
	json_decref(old);
	return rc;
}

DG_CKAN_ACTION_FN(package_update)
{
	return update(r, params, false, res, err);
}

DG_CKAN_ACTION_FN(package_patch)
{
	return update(r, params, true, res, err);
}

/* ---- resources ---- */

/* The resource dict with id in pkg's resources (borrowed), or NULL. */
static json_t *resource_in(json_t *pkg, const char *id)
{
	size_t i;
	json_t *res;
	json_array_foreach (json_object_get(pkg, "resources"), i, res) {
		const char *rid = str_of(res, "id");
		if (rid && strcmp(rid, id) == 0)
			return res;
	}
	return NULL;
}

DG_CKAN_ACTION_FN(resource_show)
{
	const char *id = str_of(params, "id");
	if (!id || !id[0])
		return dg_err_field(err, DG_EINVAL, "id", "Missing value");
	struct dg_db *db = NULL;
	char *pkg_id = NULL;
	json_t *pkg = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_od_resource_package(db, id, r->arena, &pkg_id);
	if (!rc) /* as package_show: private and closed ones to their editors */
		rc = dg_od_package_for(r, db, pkg_id, &pkg);
	json_t *found = rc ? NULL : resource_in(pkg, id);
	if (rc == DG_ENOTFOUND || (!rc && !found))
		rc = dg_err_set(err, DG_ENOTFOUND, "Not found: Resource was not found.");
	if (!rc)
		*res = json_incref(found);
	json_decref(pkg);
	return rc;
}

dg_rc dg_ckan_resource_save(struct dg_req *r, struct dg_db *db, const char *pkg_id, json_t *stored,
			    json_t *src, const struct dg_upload *up, const char **rid, int64_t *job,
			    json_t **errs_out)
{
	struct dg_od_res_in in;
	struct dg_od_file f = {0};
	struct dg_err ferr = {0};
	json_t *errs = json_object();
	bool create = stored == NULL;
	*errs_out = NULL;
	*job = 0;
	if (up)
		json_object_del(src, "url"); /* CKAN sets an upload's url itself */
	else if (stored)
		own_link(r, src, stored);
	read_resource(r->arena, src, stored, &in, errs);
	*rid = in.id;
	dg_rc rc = json_object_size(errs) ? DG_EINVAL : DG_OK;
	if (!rc && up) {
		rc = dg_od_file_keep(r, pkg_id, in.id, up, &f, &ferr);
		if (rc == DG_EINVAL || rc == DG_ETOOBIG)
			add_errk(errs, "upload", rc == DG_ETOOBIG ? "upload_big" : "upload_empty",
				 NULL, ferr.msg);
		if (rc == DG_ETOOBIG)
			rc = DG_EINVAL;
		if (!rc) {
			dg_od_file_apply(&f, &in);
			in.unchanged = false; /* a new file is a change, whatever else is */
		}
	}
	if (!rc) {
		rc = dg_od_resource_save(db, pkg_id, &in, create, dg_now_ms());
		if (rc == DG_ECONFLICT) {
			add_errk(errs, "id", "res_exists", NULL,
				 "A resource with this id already exists");
			rc = DG_EINVAL;
		}
		if (rc)
			dg_od_file_discard(r, in.id, &f);
	}
	if (!rc && up && dg_od_file_saved(r, db, in.id, &f, job) != DG_OK)
		dg_warn("req=%s resource %s: its file is saved, its table load was not queued",
			r->id, in.id);
	else if (!rc && in.url_type && strcmp(in.url_type, "link") == 0)
		dg_od_file_remove_all(r, in.id);
	if (rc && rc != DG_EINVAL && ferr.msg[0])
		dg_warn("req=%s resource %s: %s", r->id, in.id, ferr.msg);
	if (rc == DG_EINVAL)
		*errs_out = errs;
	else
		json_decref(errs);
	return rc;
}

/* The resource id (or, for create, its package) that a writer may change. */
static dg_rc resource_target(struct dg_req *r, json_t *params, bool create, struct dg_db **db,
			     json_t **pkg, struct dg_err *err)
{
	const char *key = create ? "package_id" : "id";
	const char *id = str_of(params, key);
	char *pkg_id = NULL;
	if (!id || !id[0])
		return dg_err_field(err, DG_EINVAL, key, "Missing value");
	dg_rc rc = dg_req_db(r, db);
	if (!rc && !create) {
		rc = dg_od_resource_package(*db, id, r->arena, &pkg_id);
		if (rc == DG_ENOTFOUND)
			return dg_err_set(err, rc, "Not found: Resource was not found.");
	}
	if (!rc)
		rc = writable_package(r, *db, create ? id : pkg_id, false, pkg, err);
	return rc;
}

/*
 * Validate, keep the upload (if any) once the rest is valid, save, and only
 * then let the older file go and queue the table's load: a refused call
 * leaves neither a row nor a file.
 */
static dg_rc resource_write(struct dg_req *r, json_t *params, bool create, bool patch, json_t **res,
			    struct dg_err *err)
{
	struct dg_db *db = NULL;
	json_t *pkg = NULL;
	dg_rc rc = resource_target(r, params, create, &db, &pkg, err);
	if (rc)
		return rc;
	json_t *stored = create ? NULL : resource_in(pkg, str_of(params, "id"));
	json_t *src = patch && stored ? json_deep_copy(stored) : json_object();
	json_object_update(src, params);
	json_t *errs = NULL;
	const char *pkg_id = str_of(pkg, "id"), *rid = NULL;
	int64_t job = 0;
	rc = dg_ckan_resource_save(r, db, pkg_id, stored, src, dg_od_file_upload(r), &rid, &job,
				   &errs);
	if (rc == DG_EINVAL)
		rc = validation_failed(errs, res, err);
	json_t *fresh = NULL;
	if (!rc)
		rc = dg_od_package_read(db, pkg_id, true, &fresh);
	if (!rc)
		*res = json_incref(resource_in(fresh, rid));
	json_decref(fresh);
	json_decref(src);
	json_decref(pkg);
	return rc;
}

DG_CKAN_ACTION_FN(resource_create)
{
	return resource_write(r, params, true, false, res, err);
}

DG_CKAN_ACTION_FN(resource_update)
{
	return resource_write(r, params, false, false, res, err);
}

DG_CKAN_ACTION_FN(resource_patch)
{
	return resource_write(r, params, false, true, res, err);
}

dg_rc dg_ckan_resource_remove(struct dg_req *r, struct dg_db *db, const char *rid)
{
	dg_rc rc = dg_od_resource_delete(db, rid, dg_now_ms());
	if (!rc)
		drop_data(r, rid);
	return rc;
}

DG_CKAN_ACTION_FN(resource_delete)
{
	struct dg_db *db = NULL;
	json_t *pkg = NULL;
	dg_rc rc = resource_target(r, params, false, &db, &pkg, err);
	json_decref(pkg);
	if (!rc)
		rc = dg_ckan_resource_remove(r, db, str_of(params, "id"));
	if (!rc)
		*res = json_null();
	return rc;
}

DG_CKAN_ACTION_FN(dataset_purge)
{
	const char *id = str_of(params, "id"), *mine = NULL;
	char *pkg_id = NULL, *dept = NULL;
	struct dg_db *db = NULL;
	json_t *rids = NULL;
	if (!id || !id[0])
		return dg_err_field(err, DG_EINVAL, "id", "Missing value");
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_od_package_any(db, id, r->arena, &pkg_id, &dept);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, rc, "Not found: Dataset not found");
	if (!rc)
		rc = dg_od_writer(r, db, true, &mine);
	/* for good: administrators only (a department's staff may delete, CKAN's sysadmin purges)
	 */
	if (!rc && !dg_od_may_edit(mine, dept))
		rc = refuse(r, db, pkg_id, "purge this dataset", err);
	else if (!rc && strcmp(mine, "*") != 0)
		rc = denied(r, "purge this dataset", err);
	if (!rc)
		rc = dg_od_package_purge(db, pkg_id, &rids);
	size_t i;
	json_t *rid;
	json_array_foreach (rids, i, rid)
		drop_data(r, json_string_value(rid));
	json_decref(rids);
	if (!rc)
		*res = json_null();
	return rc;
}
