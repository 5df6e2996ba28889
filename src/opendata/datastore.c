/*
 * datastore.c - the DataStore's entry points (datastore.h): the CKAN
 * datastore_* actions, the load job's registration and queueing. The work is
 * in ds_csv (reading), ds_infer (types and names), ds_load (the job),
 * ds_search (queries) and ds_sql (statements).
 */
#include "opendata/datastore.h"

#include <string.h>

#include "app/app.h"
#include "jobs/jobs.h"
#include "opendata/ds_load.h"
#include "opendata/ds_search.h"
#include "opendata/ds_sql.h"

#define LOAD_ATTEMPTS 5
#define MAX_RESOURCE_ID 200

void dg_datastore_register_jobs(void)
{
	dg_jobs_register("datastore.load", dg_ds_load_run, LOAD_ATTEMPTS);
}

static dg_rc resource_param(json_t *params, const char **id, struct dg_err *err)
{
	json_t *v = json_object_get(params, "resource_id");
	if (!v)
		v = json_object_get(params, "id");
	*id = json_string_value(v);
	if (!*id || !**id)
		return dg_err_field(err, DG_EINVAL, "resource_id", "Missing value");
	if (strlen(*id) > MAX_RESOURCE_ID)
		return dg_err_field(err, DG_EINVAL, "resource_id", "Too long");
	return DG_OK;
}

static dg_rc table_of(struct dg_db *db, const char *id, struct dg_ds_table *t, struct dg_err *err)
{
	dg_rc rc = dg_ds_sql_lookup(db, id, t);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, DG_ENOTFOUND, "Resource \"%.100s\" was not found.", id);
	if (rc != DG_OK)
		return dg_err_set(err, rc, "The store is not available");
	return DG_OK;
}

static dg_rc action_search(struct dg_db *db, json_t *params, json_t **result, struct dg_err *err)
{
	struct dg_ds_table t = {0};
	const char *id;
	dg_rc rc = resource_param(params, &id, err);
	if (rc == DG_OK && (rc = table_of(db, id, &t, err)) == DG_OK)
		rc = dg_ds_search(db, id, &t, params, result, err);
	json_decref(t.fields);
	return rc;
}

static dg_rc action_info(struct dg_db *db, json_t *params, json_t **result, struct dg_err *err)
{
	struct dg_ds_table t = {0};
	const char *id;
	dg_rc rc = resource_param(params, &id, err);
	if (rc != DG_OK || (rc = table_of(db, id, &t, err)) != DG_OK)
		goto out;
	json_t *fields = json_array();
	json_array_append_new(fields, json_pack("{s:s, s:s}", "id", "_id", "type", "int"));
	json_array_extend(fields, t.fields);
	*result = json_pack("{s:{s:I, s:s}, s:o}", "meta", "count", (json_int_t)t.row_count,
			    "table_type", "BASE TABLE", "fields", fields);
out:
	json_decref(t.fields);
	return rc;
}

dg_rc dg_datastore_action(struct dg_req *r, const char *action, json_t *params, json_t **result,
			  struct dg_err *err)
{
	struct dg_db *db = NULL;
	dg_rc rc;
	*result = NULL;
	if (!json_is_object(params))
		return dg_err_set(err, DG_EINVAL, "The parameters must be an object");
	if (strcmp(action, "datastore_search_sql") == 0)
		return dg_err_set(err, DG_EDENIED,
				  "datastore_search_sql is turned off on this site");
	if (strcmp(action, "datastore_search") != 0 && strcmp(action, "datastore_info") != 0)
		return dg_err_set(err, DG_ENOTFOUND, "Action %.60s is not available", action);
	if ((rc = dg_req_db(r, &db)) != DG_OK)
		return dg_err_set(err, rc, "The store is not available");
	if (strcmp(action, "datastore_search") == 0)
		return action_search(db, params, result, err);
	return action_info(db, params, result, err);
}

dg_rc dg_datastore_exists(struct dg_db *db, const char *resource_id, bool *out)
{
	struct dg_ds_table t;
	dg_rc rc = dg_ds_sql_lookup(db, resource_id, &t);
	*out = rc == DG_OK;
	json_decref(t.fields);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

static dg_rc check_options(json_t *options, struct dg_err *err)
{
	json_t *types = json_object_get(options, "types"), *v;
	const char *key;
	enum dg_ds_type t;
	if (!options)
		return DG_OK;
	if (!json_is_object(options))
		return dg_err_field(err, DG_EINVAL, "options", "options must be an object");
	if (types && !json_is_object(types))
		return dg_err_field(err, DG_EINVAL, "types", "types must be an object");
	json_object_foreach(types, key, v)
	{
		if (!json_is_string(v) || dg_ds_type_parse(json_string_value(v), &t) != DG_OK)
			return dg_err_field(err, DG_EINVAL, "types",
					    "Column \"%.60s\": the type must be text, int, numeric, "
					    "date or bool",
					    key);
	}
	return DG_OK;
}

dg_rc dg_datastore_load_enqueue(struct dg_db *db, const char *resource_id, const char *path,
				json_t *options, int64_t user_id, int64_t *job_id)
{
	struct dg_err err = {0};
	*job_id = 0;
	if (!resource_id || !*resource_id || strlen(resource_id) > MAX_RESOURCE_ID || !path)
		return DG_EINVAL;
	if (check_options(options, &err) != DG_OK)
		return DG_EINVAL;
	json_t *payload = json_pack("{s:s, s:s, s:O?}", "resource_id", resource_id, "path", path,
				    "options", options);
	dg_rc rc = dg_job_enqueue(db, "datastore.load", payload, user_id, NULL, job_id);
	json_decref(payload);
	return rc;
}
