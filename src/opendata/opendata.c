/*
 * opendata.c - the open-data catalogue (placeholder until it lands).
 */
#include "opendata/opendata.h"

const struct dg_migration dg_opendata_migrations[] = {{NULL, NULL}};

const struct dg_route *dg_opendata_routes(size_t *n)
{
	*n = 0;
	return NULL;
}

dg_rc dg_opendata_demo_seed(struct dg_db *db, struct dg_err *err)
{
	(void)db;
	(void)err;
	return DG_OK;
}
