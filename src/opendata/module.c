/*
 * module.c - the open data's descriptor: the catalogue, the DataStore, the
 * pages and the access layer; their tables in dependency order, their
 * routes (the access layer's first, the DataStore's last), the load and
 * export jobs,
 * and the demo's datasets, requests and tables. The only file of the
 * module that sees every sub-folder; each through its public header.
 */
#include "opendata/opendata.h"

#include "node/demo.h"
#include "opendata/access/access.h"
#include "opendata/api/api.h"
#include "opendata/base/base.h"
#include "opendata/catalog/catalog.h"
#include "opendata/datastore/datastore.h"
#include "opendata/pages/pages.h"

static const struct dg_migration *const migrations[] = {
	dg_opendata_migrations,
	dg_datastore_migrations,
	dg_od_pages_migrations,
	dg_od_access_migrations,
	NULL,
};
static const dg_routes_fn routes[] = {
	dg_od_access_routes,  dg_od_access_admin_routes, dg_od_api_routes,
	dg_od_catalog_routes, dg_od_pages_routes,        dg_od_manage_routes,
	dg_od_export_routes,  dg_datastore_routes,       NULL,
};
static const struct dg_job_kind jobs[] = {
	{"datastore.load", dg_ds_load_run, 5},
	{"datastore.stage_sweep", dg_ds_stage_sweep_run, 3},
	{"datastore.export", dg_ds_export_run, 3},
	{"datastore.export_sweep", dg_ds_export_sweep_run, 3},
	{NULL, NULL, 0},
};
/* staging tables a crash left behind: at start-up, then hourly */
static const struct dg_task tasks[] = {
	{"datastore.stage_sweep", 3600},
	{"datastore.export_sweep", 3600},
	{NULL, 0},
};

/*
 * With --with-runs, a resident's finished export of the pages' demo table
 * (employment-statistics), so that /data/exports/{job} has a page to audit.
 */
static dg_rc demo_export(struct dg_env *env, struct dg_db *db, struct dg_err *err)
{
	int64_t user = 0;
	dg_rc rc = dg_db_query_int(db, "SELECT id FROM users WHERE username = ?",
				   DG_ARGS(DG_VT(DG_DEMO_CITIZEN)), &user);
	if (rc)
		return dg_err_set(err, rc, "the demo's export: no user %s", DG_DEMO_CITIZEN);
	return dg_ds_export_demo(env, db, DG_OD_DEMO_TABLE, "employment-statistics", user, err);
}

/* The datasets, the requests and showcase, then each table's file and its queued load. */
static dg_rc demo_seed(struct dg_env *env, struct dg_db *db, const struct dg_demo_opts *o,
		       struct dg_err *err)
{
	dg_rc rc = dg_od_catalog_demo_seed(db, err);
	if (!rc)
		rc = dg_od_pages_demo_seed(db, err);
	if (!rc && o->datasets > 0)
		rc = dg_od_catalog_generate(db, o->datasets, err);
	if (!rc && o->tables)
		rc = dg_datastore_demo_load(db, env->cfg->data_dir, o->rows, err);
	if (!rc && o->runs)
		rc = demo_export(env, db, err);
	return rc;
}

/* A catalogue or a DataStore table older than its full-text index is indexed before serving. */
static dg_rc init(struct dg_env *env, struct dg_err *err)
{
	struct dg_db *db = NULL;
	dg_rc rc = dg_db_get(env->store, &db);
	if (!rc)
		rc = dg_od_index_rebuild(db);
	if (!rc)
		rc = dg_datastore_fts_rebuild(db);
	if (db)
		dg_db_put(db);
	return rc ? dg_err_set(err, rc, "open data: the catalogue's search index") : DG_OK;
}

const struct dg_module dg_opendata_module = {
	.name = "opendata",
	.migrations = migrations,
	.routes = routes,
	.jobs = jobs,
	.tasks = tasks,
	.init = init,
	.demo_seed = demo_seed,
};
