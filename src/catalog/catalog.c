/*
 * catalog.c - the service catalogue (placeholder until the catalogue lands).
 */
#include "catalog/catalog.h"

#include <stdio.h>

const struct dg_migration dg_catalog_migrations[] = {{NULL, NULL}};

const struct dg_route *dg_catalog_routes(size_t *n)
{
	*n = 0;
	return NULL;
}

dg_rc dg_catalog_demo_seed(struct dg_db *db, struct dg_err *err)
{
	(void)db;
	(void)err;
	return DG_OK;
}

int dg_catalog_main(struct dg_app *app, int argc, char **argv)
{
	(void)app;
	(void)argc;
	(void)argv;
	fprintf(stderr, "dgov catalog: not available yet\n");
	return 2;
}
