/*
 * module.c - the service catalogue's descriptor: items and their versions,
 * the pages (editing first, so its paths win), the demo items and
 * `dgov catalog`.
 */
#include "catalog/catalog.h"

#include "catalog/internal.h"
#include "node/env.h"

static const struct dg_migration *const migrations[] = {dg_catalog_migrations, NULL};
static const dg_routes_fn routes[] = {dg_catalog_edit_routes, dg_catalog_routes, NULL};
static const struct dg_command commands[] = {
	{"catalog", "catalog import FILE | export [FILE]   service items as JSON", dg_catalog_main,
	 dg_catalog_check},
	{NULL, NULL, NULL, NULL},
};

/* A catalogue older than its search index is indexed before serving; the
 * everyday words are read from the templates folder. */
static dg_rc init(struct dg_env *env, struct dg_err *err)
{
	struct dg_db *db = NULL;
	dg_rc rc = dg_db_get(env->store, &db);
	if (!rc)
		rc = cat_index_rebuild(db);
	if (db)
		dg_db_put(db);
	if (rc)
		return dg_err_set(err, rc, "catalogue: the search index");
	return cat_synonyms_load(env->cfg->templates_dir, err);
}

const struct dg_module dg_catalog_module = {
	.name = "catalog",
	.migrations = migrations,
	.routes = routes,
	.commands = commands,
	.init = init,
	.demo_seed = dg_catalog_demo_seed,
};
