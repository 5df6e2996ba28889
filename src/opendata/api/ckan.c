/*
 * ckan.c - CKAN's Action API v3 (api.h): one dispatcher for
 * /api/3/action/{action} and /api/action/{action}, GET (query parameters)
 * and POST (JSON object body or form body), and the one table of actions
 * it consults, the catalogue's and the DataStore's alike. Answers in
 * CKAN's envelope {"help", "success", "result"} or {"help", "success":
 * false, "error": {"__type", "message"}} with CKAN's statuses, which one
 * function here chooses (ckan_failure); an unknown action, and a write
 * asked for by GET, are 400 with a bare JSON string, as CKAN answers them.
 * In front of every known action: the access gate (keys and quotas,
 * access.h); after every answered one: its use counted.
 */
#include "opendata/api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "node/env.h"
#include "opendata/access/access.h"
#include "opendata/catalog/catalog.h"
#include "opendata/datastore/datastore.h"
#include "web/page.h"

/* What an answered call counts as (access.h's counters). */
enum counts {
	AS_CALL,     /* a call */
	AS_VIEW,     /* a view of the dataset it answers (its result's id) */
	AS_RESOURCE, /* a call on the resource named by resource_id or id */
};

/*
 * The actions. write: the action changes something, so it must be a POST
 * (CKAN's side_effect_free, reversed); who may write what is the action's
 * own check, since it depends on the dataset. counts: how an answered call
 * is counted.
 */
static const struct action {
	const char *name;
	dg_ckan_action_fn fn;
	bool write;
	enum counts counts;
	bool links; /* its result holds datasets or resources: their files' links made absolute */
} actions[] = {
	{"status_show", dg_ckan_status_show, false, AS_CALL},
	{"site_read", dg_ckan_site_read, false, AS_CALL},
	{"license_list", dg_ckan_license_list, false, AS_CALL},
	{"package_list", dg_ckan_package_list, false, AS_CALL},
	{"package_show", dg_ckan_package_show, false, AS_VIEW, true},
	{"package_search", dg_ckan_package_search, false, AS_CALL, true},
	{"organization_list", dg_ckan_organization_list, false, AS_CALL},
	{"organization_show", dg_ckan_organization_show, false, AS_CALL, true},
	{"group_list", dg_ckan_group_list, false, AS_CALL},
	{"group_show", dg_ckan_group_show, false, AS_CALL, true},
	{"tag_list", dg_ckan_tag_list, false, AS_CALL},
	{"tag_show", dg_ckan_tag_show, false, AS_CALL},
	{"resource_show", dg_ckan_resource_show, false, AS_CALL, true},
	{"package_create", dg_ckan_package_create, true, AS_CALL, true},
	{"package_update", dg_ckan_package_update, true, AS_CALL, true},
	{"package_patch", dg_ckan_package_patch, true, AS_CALL, true},
	{"package_delete", dg_ckan_package_delete, true, AS_CALL},
	{"dataset_purge", dg_ckan_dataset_purge, true, AS_CALL},
	{"resource_create", dg_ckan_resource_create, true, AS_CALL, true},
	{"resource_update", dg_ckan_resource_update, true, AS_CALL, true},
	{"resource_patch", dg_ckan_resource_patch, true, AS_CALL, true},
	{"resource_delete", dg_ckan_resource_delete, true, AS_CALL},
	{"organization_update", dg_ckan_organization_update, true, AS_CALL},
	{"organization_patch", dg_ckan_organization_patch, true, AS_CALL},
	{"group_update", dg_ckan_group_update, true, AS_CALL},
	{"group_patch", dg_ckan_group_patch, true, AS_CALL},
	{"datastore_search", dg_ckan_datastore_search, false, AS_RESOURCE},
	{"datastore_info", dg_ckan_datastore_info, false, AS_RESOURCE},
	{"datastore_search_sql", dg_ckan_datastore_search_sql, false, AS_RESOURCE},
	{"datastore_create", dg_ckan_datastore_create, true, AS_RESOURCE},
	{"datastore_upsert", dg_ckan_datastore_upsert, true, AS_RESOURCE},
	{"datastore_delete", dg_ckan_datastore_delete, true, AS_RESOURCE},
	{"datastore_records_delete", dg_ckan_datastore_records_delete, true, AS_RESOURCE},
	{"datastore_load", dg_ckan_datastore_load, true, AS_RESOURCE},
};

static const struct action *action_of(const char *name)
{
	for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
		if (strcmp(actions[i].name, name) == 0)
			return &actions[i];
	return NULL;
}

/*
 * The request's parameters as one JSON object (new reference). A GET's
 * callback (JSONP) and "_" (the cache breaker jQuery adds to it) are the
 * transport's, not the action's, as in CKAN.
 */
static json_t *params_of(struct dg_req *r)
{
	if (r->json && json_is_object(r->json))
		return json_incref(r->json);
	bool get = strcmp(r->method, "GET") == 0;
	const struct dg_kvs *kv = get ? &r->query : &r->form;
	json_t *o = json_object();
	for (size_t i = 0; i < kv->n; i++)
		if (!get ||
		    (strcmp(kv->v[i].key, "callback") != 0 && strcmp(kv->v[i].key, "_") != 0))
			json_object_set_new(o, kv->v[i].key,
					    json_stringn(kv->v[i].val, kv->v[i].len));
	return o;
}

static const char *param_str(json_t *params, const char *key)
{
	return json_string_value(json_object_get(params, key));
}

/*
 * JSONP (CKAN's callback on a GET): the name of a function, dotted names
 * of letters, digits, _ and $ up to 100 characters, so the answer cannot
 * be made into anything but a call.
 */
static bool callback_ok(const char *cb)
{
	size_t n = strlen(cb);
	if (!n || n > 100 || cb[0] == '.' || cb[n - 1] == '.' || (cb[0] >= '0' && cb[0] <= '9'))
		return false;
	for (; *cb; cb++)
		if (!((*cb >= 'a' && *cb <= 'z') || (*cb >= 'A' && *cb <= 'Z') ||
		      (*cb >= '0' && *cb <= '9') || *cb == '_' || *cb == '$' || *cb == '.'))
			return false;
	return true;
}

/* The GET's callback, or NULL (then the answer is JSON). */
static const char *callback_of(struct dg_req *r)
{
	return strcmp(r->method, "GET") == 0 ? dg_kvs_get(&r->query, "callback") : NULL;
}

static void reply_env(struct dg_req *r, const char *action, unsigned status, bool ok, json_t *body)
{
	char site[DG_SITE_URL_MAX];
	json_t *env = json_pack("{s:o, s:b}", "help",
				json_sprintf("%s/api/3/action/help_show?name=%.200s",
					     dg_config_site_url(r->env->cfg, site), action),
				"success", ok);
	json_object_set_new(env, ok ? "result" : "error", body);
	const char *cb = callback_of(r);
	if (status != 200 || !cb) {
		dg_reply_json(r, status, env);
		return;
	}
	/* CKAN wraps a GET's 200 answer: callback(...); as application/javascript */
	char *text = json_dumps(env, JSON_COMPACT);
	json_decref(env);
	char *js = dg_arena_printf(r->arena, "%s(%s);", cb, text);
	free(text);
	dg_reply_bytes(r, 200, "application/javascript; charset=utf-8", js, strlen(js));
}

/*
 * CKAN's protocol mapping, made here only: a failed action as CKAN's
 * status and error object. An error object the action left in res (a
 * validation's several fields, or a search query's error) is sent as it
 * is; otherwise one is made from err. The store's failures (busy, gone,
 * full) keep CKAN's envelope too, with their own status and a message that
 * says what happened, so a client sees a CKAN error and nothing changed.
 */
static void ckan_failure(struct dg_req *r, const char *action, dg_rc rc, json_t *res,
			 const struct dg_err *err)
{
	const char *type = NULL;
	unsigned status = 0;
	if (rc == DG_EINVAL && json_is_object(res)) {
		type = json_string_value(json_object_get(res, "__type"));
		status = type && strcmp(type, "Search Query Error") == 0 ? 400 : 409;
		reply_env(r, action, status, false, json_incref(res));
		return;
	}
	if (rc == DG_ENOTFOUND)
		status = 404, type = "Not Found Error";
	else if (rc == DG_EINVAL)
		status = 409, type = "Validation Error";
	else if (rc == DG_EDENIED || rc == DG_EAUTH)
		status = 403, type = "Authorization Error";
	else
		status = dg_rc_http_status(rc), type = "Internal Error";
	const char *msg = err->msg[0] ? err->msg : "Error";
	if (status >= 500) {
		/* the store's own words stay in the log; the caller learns what happened */
		char key[32];
		dg_error("req=%s %s failed: %s %s", r->id, action, dg_rc_name(rc), err->msg);
		snprintf(key, sizeof(key), "error.%u.body", status);
		msg = dg_t(r, key);
	}
	json_t *e = json_pack("{s:s}", "__type", type);
	if (rc == DG_EINVAL && err->field[0])
		json_object_set_new(e, err->field, json_pack("[s]", msg));
	else
		json_object_set_new(e, "message", json_string(msg));
	reply_env(r, action, status, false, e);
}

/* One counter per answered call, as the table says. */
static void count_use(struct dg_req *r, const struct action *a, json_t *params, json_t *res,
		      int64_t app_id)
{
	struct dg_db *db = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc && a->counts == AS_VIEW)
		rc = dg_od_count(r, db, DG_OD_VIEW, json_string_value(json_object_get(res, "id")),
				 NULL, app_id);
	else if (!rc && a->counts == AS_RESOURCE) {
		const char *rid = param_str(params, "resource_id");
		rc = dg_od_count(r, db, DG_OD_CALL, "", rid ? rid : param_str(params, "id"),
				 app_id);
	} else if (!rc)
		rc = dg_od_count(r, db, DG_OD_CALL, "", NULL, app_id);
	if (rc)
		dg_warn("req=%s could not count the call", r->id);
}

/* CKAN's bare JSON string body (not an envelope), which dg_reply_json does not write. */
static void reply_string(struct dg_req *r, const char *msg)
{
	json_t *js = json_string(msg);
	char *text = json_dumps(js, JSON_ENCODE_ANY);
	json_decref(js);
	dg_reply_bytes(r, 400, "application/json; charset=utf-8", text, strlen(text));
	free(text);
}

static dg_rc dispatch(struct dg_req *r)
{
	const char *name = dg_kvs_get(&r->params, "action");
	const struct action *a = action_of(name);
	if (!a || !a->write)
		dg_od_cors(r);
	const char *cb = callback_of(r);
	if (cb && !callback_ok(cb)) {
		dg_reply_json(r, 409,
			      json_pack("{s:b, s:{s:s, s:[s]}}", "success", 0, "error", "__type",
					"Validation Error", "callback",
					"Must be a JavaScript function name (letters, digits, _, $ "
					"and dots, at most 100)"));
		return DG_OK;
	}
	if (cb)
		r->user = NULL; /* JSONP is anonymous (CKAN): a page elsewhere must not borrow a
				   session */
	if (!a) {
		char msg[256];
		snprintf(msg, sizeof msg, "Bad request: Action name not known: %.200s", name);
		reply_string(r, msg);
		return DG_OK;
	}
	if (a->write && strcmp(r->method, "POST") != 0) {
		reply_string(r,
			     "Bad request: JSON Error: Invalid request. Please use POST method for "
			     "your request");
		return DG_OK;
	}
	struct dg_od_caller caller;
	dg_rc rc = dg_od_access_gate(r, name, a->write, &caller);
	if (rc && !r->replied) {
		/* the gate could not read its counters: a store failure, in CKAN's shape */
		ckan_failure(r, name, rc, NULL, &r->err);
		return DG_OK;
	}
	if (rc)
		return DG_OK; /* a refusal the gate made itself */
	json_t *params = params_of(r);
	json_t *res = NULL;
	struct dg_err err = {0};
	rc = a->fn(r, params, &res, &err);
	if (rc == DG_OK)
		count_use(r, a, params, res, caller.app_id);
	json_decref(params);
	if (rc == DG_OK) {
		if (a->links)
			dg_od_links_absolute(r, res);
		reply_env(r, name, 200, true, res);
		return DG_OK;
	}
	ckan_failure(r, name, rc, res, &err);
	json_decref(res);
	return DG_OK;
}

/* OPTIONS: the CORS preflight, allowed for the actions that read. */
static dg_rc preflight(struct dg_req *r)
{
	const struct action *a = action_of(dg_kvs_get(&r->params, "action"));
	return dg_od_cors_preflight(r, a && !a->write);
}

static const struct dg_route routes[] = {
	{"OPTIONS", "/api/3/action/{action}", preflight, DG_ROLE_ANY, 0},
	{"OPTIONS", "/api/action/{action}", preflight, DG_ROLE_ANY, 0},
	{"GET", "/api/3/action/{action}", dispatch, DG_ROLE_ANY, 0},
	{"POST", "/api/3/action/{action}", dispatch, DG_ROLE_ANY, DG_ROUTE_NO_CSRF},
	{"GET", "/api/action/{action}", dispatch, DG_ROLE_ANY, 0},
	{"POST", "/api/action/{action}", dispatch, DG_ROLE_ANY, DG_ROUTE_NO_CSRF},
};

const struct dg_route *dg_od_api_routes(size_t *n)
{
	*n = sizeof routes / sizeof routes[0];
	return routes;
}
