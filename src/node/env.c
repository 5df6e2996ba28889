/*
 * env.c - the node's own table (the region it serves) and reading it into
 * the environment.
 */
#include "node/env.h"

#include <stdio.h>

const struct dg_migration dg_env_migrations[] = {
	{"app-001-region", "CREATE TABLE region ("
			   " id INTEGER PRIMARY KEY CHECK (id = 1),"
			   " code TEXT NOT NULL,"
			   " name_zh TEXT NOT NULL,"
			   " name_en TEXT NOT NULL,"
			   " hotline TEXT NOT NULL DEFAULT '12345')"},
	{NULL, NULL},
};

static void set_region(struct dg_region *g, const char *code, const char *zh, const char *en,
		       const char *hotline)
{
	snprintf(g->code, sizeof(g->code), "%s", code);
	snprintf(g->name_zh, sizeof(g->name_zh), "%s", zh);
	snprintf(g->name_en, sizeof(g->name_en), "%s", en);
	snprintf(g->hotline, sizeof(g->hotline), "%s", hotline);
}

dg_rc dg_env_load_region(struct dg_env *env)
{
	struct dg_db *db = NULL;
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_get(env->store, &db);
	if (rc)
		goto out;
	rc = dg_db_query(db, "SELECT code, name_zh, name_en, hotline FROM region WHERE id = 1",
			 DG_NOARGS, &rows);
	if (rc)
		goto out;
	rc = dg_rows_next(rows);
	if (rc == DG_ENOTFOUND) {
		/* a node without a region yet still names itself on its pages */
		set_region(&env->region, "", "dgov 政务服务平台", "dgov government services",
			   "12345");
		rc = DG_OK;
		goto out;
	}
	if (rc)
		goto out;
	set_region(&env->region, dg_rows_text(rows, 0), dg_rows_text(rows, 1),
		   dg_rows_text(rows, 2), dg_rows_text(rows, 3));
out:
	dg_rows_free(rows);
	dg_db_put(db);
	return rc;
}
