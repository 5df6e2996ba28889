/*
 * module.c - the service catalogue's descriptor: items and their versions,
 * the pages (editing first, so its paths win), the demo items and
 * `dgov catalog`.
 */
#include "catalog/catalog.h"

#include "catalog/internal.h"

static const struct dg_migration *const migrations[] = {dg_catalog_migrations, NULL};
static const dg_routes_fn routes[] = {dg_catalog_edit_routes, dg_catalog_routes, NULL};
static const struct dg_command commands[] = {
	{"catalog", "catalog import FILE | export [FILE]   service items as JSON", dg_catalog_main,
	 dg_catalog_check},
	{NULL, NULL, NULL, NULL},
};

const struct dg_module dg_catalog_module = {
	.name = "catalog",
	.migrations = migrations,
	.routes = routes,
	.commands = commands,
	.init = cat_init,
	.demo_seed = dg_catalog_demo_seed,
};
