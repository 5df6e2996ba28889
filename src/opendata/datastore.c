/*
 * datastore.c - tabular resources as tables (placeholder until it lands).
 */
#include "opendata/datastore.h"

const struct dg_migration dg_datastore_migrations[] = {{NULL, NULL}};

void dg_datastore_register_jobs(void)
{
}

dg_rc dg_datastore_action(struct dg_req *r, const char *action, json_t *params, json_t **result,
			  struct dg_err *err)
{
	(void)r;
	(void)params;
	*result = NULL;
	return dg_err_set(err, DG_ENOTFOUND, "Action %s is not available", action);
}

dg_rc dg_datastore_exists(struct dg_db *db, const char *resource_id, bool *out)
{
	(void)db;
	(void)resource_id;
	*out = false;
	return DG_OK;
}

dg_rc dg_datastore_load_enqueue(struct dg_db *db, const char *resource_id, const char *path,
				json_t *options, int64_t user_id, int64_t *job_id)
{
	(void)db;
	(void)resource_id;
	(void)path;
	(void)options;
	(void)user_id;
	*job_id = 0;
	return DG_EUNAVAIL;
}
