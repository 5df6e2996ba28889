/*
 * ckan.c - CKAN's Action API v3 over the catalogue: one handler for
 * /api/3/action/{action} and /api/action/{action}, GET (query parameters)
 * and POST (JSON object body or form body). Answers in CKAN's envelope
 * {"help", "success", "result"} or {"help", "success": false, "error":
 * {"__type", "message"}} with CKAN's statuses; an unknown action is 400 with
 * a bare JSON string, as CKAN does. The table of actions is at the bottom.
 */
#include "opendata/ckan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/env.h"
#include "web/page.h"
#include "core/date.h"
#include "core/log.h"
#include "core/str.h"
#include "opendata/access.h"
#include "opendata/ckan_catalog.h"
#include "opendata/datastore.h"
#include "opendata/od_sql.h"

#define LIST_MAX 1000 /* cap on package_list's limit */

const char *const dg_ckan_licenses[][2] = {
	{"cc-by", "Creative Commons Attribution"},
	{"cc-by-sa", "Creative Commons Attribution Share-Alike"},
	{"cc-zero", "Creative Commons CCZero"},
	{"cc-nc", "Creative Commons Non-Commercial (Any)"},
	{"odc-by", "Open Data Commons Attribution License"},
	{"odc-odbl", "Open Data Commons Open Database License (ODbL)"},
	{"odc-pddl", "Open Data Commons Public Domain Dedication and License (PDDL)"},
	{"other-open", "Other (Open)"},
	{"other-pd", "Other (Public Domain)"},
	{"other-at", "Other (Attribution)"},
	{"other-nc", "Other (Non-Commercial)"},
	{"other-closed", "Other (Not Open)"},
	{"notspecified", "License not specified"},
};
const size_t dg_ckan_nlicenses = sizeof dg_ckan_licenses / sizeof dg_ckan_licenses[0];

/* The request's parameters as one JSON object (new reference). */
static json_t *params_of(struct dg_req *r)
{
	if (r->json && json_is_object(r->json))
		return json_incref(r->json);
	const struct dg_kvs *kv = strcmp(r->method, "GET") == 0 ? &r->query : &r->form;
	json_t *o = json_object();
	for (size_t i = 0; i < kv->n; i++)
		json_object_set_new(o, kv->v[i].key, json_stringn(kv->v[i].val, kv->v[i].len));
	return o;
}

static const char *param_str(json_t *params, const char *key)
{
	return json_string_value(json_object_get(params, key));
}

/* An integer parameter given as a JSON number or a decimal string; EINVAL otherwise. */
static dg_rc param_int(json_t *params, const char *key, int64_t dflt, int64_t *out)
{
	json_t *v = json_object_get(params, key);
	*out = dflt;
	if (!v)
		return DG_OK;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return *out < 0 ? DG_EINVAL : DG_OK;
	}
	if (json_is_string(v) &&
	    dg_str_to_i64(dg_str_of(json_string_value(v)), out) == DG_OK && *out >= 0)
		return DG_OK;
	return DG_EINVAL;
}

static void reply_env(struct dg_req *r, const char *action, unsigned status, bool ok, json_t *body)
{
	char help[256];
	snprintf(help, sizeof help, "/api/3/action/help_show?name=%.200s", action);
	json_t *env = json_pack("{s:s, s:b}", "help", help, "success", ok);
	json_object_set_new(env, ok ? "result" : "error", body);
	dg_reply_json(r, status, env);
}

static dg_rc reply_error(struct dg_req *r, const char *action, dg_rc rc, const char *msg,
			 const char *field)
{
	unsigned status = 500;
	const char *type = "Internal Error";
	if (rc == DG_ENOTFOUND)
		status = 404, type = "Not Found Error";
	else if (rc == DG_EINVAL)
		status = 409, type = "Validation Error";
	else if (rc == DG_EDENIED || rc == DG_EAUTH)
		status = 403, type = "Authorization Error";
	json_t *e = json_pack("{s:s}", "__type", type);
	if (rc == DG_EINVAL && field && field[0])
		json_object_set_new(e, field, json_pack("[s]", msg));
	else
		json_object_set_new(e, "message", json_string(msg));
	reply_env(r, action, status, false, e);
	return DG_OK;
}

static dg_rc act_status_show(struct dg_req *r, json_t *params, json_t **res, struct dg_err *err)
{
	(void)r, (void)params, (void)err;
	*res = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s]}", "ckan_version", "2.10.4",
			 "site_title", "dgov", "site_description", "dgov open data", "site_url",
			 "", "locale_default", "zh_Hans_CN", "extensions", "datastore");
	return DG_OK;
}

static dg_rc act_site_read(struct dg_req *r, json_t *params, json_t **res, struct dg_err *err)
{
	(void)r, (void)params, (void)err;
	*res = json_true();
	return DG_OK;
}

static dg_rc act_license_list(struct dg_req *r, json_t *params, json_t **res, struct dg_err *err)
{
	(void)r, (void)params, (void)err;
	json_t *list = json_array();
	for (size_t i = 0; i < dg_ckan_nlicenses; i++) {
		const char *const *lic = dg_ckan_licenses[i];
		bool open = strcmp(lic[0], "other-closed") != 0 &&
			    strcmp(lic[0], "notspecified") != 0;
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:b, s:b, s:b}", "id",
						      lic[0], "title", lic[1],
						      "status", "active", "od_conformance", open,
						      "osd_conformance", open, "domain_data", 1));
	}
	*res = list;
	return DG_OK;
}

static dg_rc act_package_list(struct dg_req *r, json_t *params, json_t **res, struct dg_err *err)
{
	int64_t limit = 0, offset = 0;
	struct dg_db *db = NULL;
	if (param_int(params, "limit", LIST_MAX, &limit) != DG_OK)
		return dg_err_field(err, DG_EINVAL, "limit", "Must be a natural number");
	if (param_int(params, "offset", 0, &offset) != DG_OK)
		return dg_err_field(err, DG_EINVAL, "offset", "Must be a natural number");
	if (limit > LIST_MAX)
		limit = LIST_MAX;
	dg_rc rc = dg_req_db(r, &db);
	return rc ? rc : dg_od_package_names(db, limit, offset, res);
}

static dg_rc act_package_show(struct dg_req *r, json_t *params, json_t **res, struct dg_err *err)
{
	struct dg_db *db = NULL;
	const char *id = param_str(params, "id");
	if (!id || !id[0])
		return dg_err_field(err, DG_EINVAL, "id", "Missing value");
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_od_package_show(db, id, res);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, DG_ENOTFOUND, "Not found: Dataset not found");
	return rc;
}

/*
 * May the requester write the dataset? Only over an API token (a session
 * cookie on a CSRF-free route would let other sites write), as staff of the
 * owning department or an administrator. A closed dataset is "not found" to
 * anyone who may not write it, as everywhere else.
 */
static dg_rc may_write(struct dg_req *r, struct dg_db *db, const char *id, struct dg_err *err)
{
	char *dept = NULL, *tier = NULL, *mine = NULL;
	dg_rc rc = dg_od_package_owner(db, id, r->arena, &dept, &tier);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, rc, "Not found: Dataset not found");
	if (rc)
		return rc;
	const struct dg_user *u = r->user;
	if (u && u->via_token && u->role == DG_ROLE_ADMIN)
		return DG_OK;
	if (u && u->via_token && u->role == DG_ROLE_STAFF) {
		rc = dg_od_dept_code(db, u->dept_id, r->arena, &mine);
		if (rc && rc != DG_ENOTFOUND)
			return rc;
		if (mine && strcmp(mine, dept) == 0)
			return DG_OK;
	}
	if (strcmp(tier, "closed") == 0)
		return dg_err_set(err, DG_ENOTFOUND, "Not found: Dataset not found");
	return dg_err_set(err, DG_EDENIED, "Access denied: User %s not authorized to edit package %s",
			  u ? u->username : "anonymous", id);
}

static dg_rc act_package_delete(struct dg_req *r, json_t *params, json_t **res,
				struct dg_err *err)
{
	struct dg_db *db = NULL;
	const char *id = param_str(params, "id");
	if (!id || !id[0])
		return dg_err_field(err, DG_EINVAL, "id", "Missing value");
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = may_write(r, db, id, err);
	if (!rc)
		rc = dg_od_package_delete(db, id, dg_now_ms());
	if (rc == DG_ENOTFOUND && !err->msg[0])
		dg_err_set(err, rc, "Not found: Dataset not found");
	if (!rc)
		*res = json_null();
	return rc;
}

static dg_rc act_datastore(struct dg_req *r, const char *action, json_t *params, json_t **res,
			   struct dg_err *err)
{
	return dg_datastore_action(r, action, params, res, err);
}

/* One counter per answered call: package_show is a view, the others calls. */
static void count_use(struct dg_req *r, const char *action, json_t *params, json_t *res,
		      int64_t app_id)
{
	struct dg_db *db = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc && strcmp(action, "package_show") == 0)
		rc = dg_od_count(db, DG_OD_VIEW, json_string_value(json_object_get(res, "id")), NULL,
				 app_id);
	else if (!rc && strncmp(action, "datastore_", 10) == 0) {
		const char *rid = param_str(params, "resource_id");
		rc = dg_od_count(db, DG_OD_CALL, "", rid ? rid : param_str(params, "id"), app_id);
	} else if (!rc)
		rc = dg_od_count(db, DG_OD_CALL, "", NULL, app_id);
	if (rc)
		dg_warn("req=%s could not count the call", r->id);
}

typedef dg_rc (*action_fn)(struct dg_req *r, json_t *params, json_t **res, struct dg_err *err);

/* write: the action changes something, so it must be a POST (CKAN's side_effect_free reversed). */
static const struct {
	const char *name;
	action_fn fn;
	bool write;
} actions[] = {
	{"status_show", act_status_show, false},
	{"site_read", act_site_read, false},
	{"license_list", act_license_list, false},
	{"package_list", act_package_list, false},
	{"package_show", act_package_show, false},
	{"organization_list", dg_ckan_organization_list, false},
	{"package_delete", act_package_delete, true},
	{"dataset_purge", dg_ckan_dataset_purge, true},
	{"package_search", dg_ckan_package_search, false},
	{"organization_show", dg_ckan_organization_show, false},
	{"group_list", dg_ckan_group_list, false},
	{"group_show", dg_ckan_group_show, false},
	{"tag_list", dg_ckan_tag_list, false},
	{"tag_show", dg_ckan_tag_show, false},
	{"package_create", dg_ckan_package_create, true},
	{"package_update", dg_ckan_package_update, true},
	{"package_patch", dg_ckan_package_patch, true},
	{"resource_show", dg_ckan_resource_show, false},
	{"resource_create", dg_ckan_resource_create, true},
	{"resource_update", dg_ckan_resource_update, true},
	{"resource_patch", dg_ckan_resource_patch, true},
	{"resource_delete", dg_ckan_resource_delete, true},
};

/* CKAN's bare JSON string body (not an envelope), which dg_reply_json does not write. */
static void reply_string(struct dg_req *r, const char *msg)
{
	json_t *js = json_string(msg);
	char *text = json_dumps(js, JSON_ENCODE_ANY);
	json_decref(js);
	dg_reply_bytes(r, 400, "application/json; charset=utf-8", text, strlen(text));
	free(text);
}

dg_rc dg_ckan_handle(struct dg_req *r)
{
	const char *action = dg_kvs_get(&r->params, "action");
	action_fn fn = NULL;
	bool ds = strncmp(action, "datastore_", 10) == 0, write = ds && dg_datastore_is_write(action);
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(actions[i].name, action) == 0)
			fn = actions[i].fn, write = actions[i].write;
	if (!fn && !ds) {
		char msg[256];
		snprintf(msg, sizeof msg, "Bad request: Action name not known: %.200s", action);
		reply_string(r, msg);
		return DG_OK;
	}
	if (write && strcmp(r->method, "POST") != 0) {
		reply_string(r, "Bad request: JSON Error: Invalid request. Please use POST method for "
				"your request");
		return DG_OK;
	}
	struct dg_od_caller caller;
	dg_rc rc = dg_od_access_gate(r, action, &caller);
	if (rc)
		return r->replied ? DG_OK : rc; /* a refusal already made, or a store failure */
	json_t *params = params_of(r);
	json_t *res = NULL;
	struct dg_err err = {0};
	rc = ds ? act_datastore(r, action, params, &res, &err) : fn(r, params, &res, &err);
	if (rc == DG_OK)
		count_use(r, action, params, res, caller.app_id);
	json_decref(params);
	if (rc == DG_OK) {
		reply_env(r, action, 200, true, res);
		return DG_OK;
	}
	if (rc == DG_EINVAL && json_is_object(res)) {
		/* the action's own CKAN error object (several fields, or a search error) */
		const char *type = json_string_value(json_object_get(res, "__type"));
		bool search = type && strcmp(type, "Search Query Error") == 0;
		reply_env(r, action, search ? 400 : 409, false, res);
		return DG_OK;
	}
	json_decref(res);
	if (rc != DG_ENOTFOUND && rc != DG_EINVAL && rc != DG_EDENIED && rc != DG_EAUTH)
		return rc; /* store failures: the dispatcher's 500 */
	return reply_error(r, action, rc, err.msg[0] ? err.msg : "Error", err.field);
}
