/*
 * demo.c - `dgov demo`: the demo region 示范市 (Demo City) made of every
 * module's demo seed, in module order, in one transaction, so a half-made
 * demo never exists. What each module adds is in its own demo seed; the
 * names they share are in node/demo.h.
 */
#include "app/app.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"
#include "core/str.h"
#include "node/demo.h"

/* True when the store already holds a region (the demo or a real one). */
static dg_rc region_exists(struct dg_env *env, int *exists)
{
	struct dg_db *db = NULL;
	int64_t n = 0;
	*exists = 0;
	dg_rc rc = dg_db_get(env->store, &db);
	if (!rc)
		rc = dg_db_query_int(db, "SELECT COUNT(*) FROM region", DG_NOARGS, &n);
	dg_db_put(db);
	if (!rc)
		*exists = n > 0;
	return rc;
}

static dg_rc seed_modules(struct dg_env *env, struct dg_db *db, const struct dg_demo_opts *o,
			  struct dg_err *err)
{
	size_t n = 0;
	const struct dg_module *const *mods = dg_app_modules(&n);
	for (size_t i = 0; i < n; i++) {
		if (!mods[i]->demo_seed)
			continue;
		dg_rc rc = mods[i]->demo_seed(env, db, o, err);
		if (rc)
			return rc;
	}
	return DG_OK;
}

dg_rc dg_app_demo_seed(struct dg_app *app, const struct dg_demo_opts *o, struct dg_err *err)
{
	struct dg_env *env = &app->env;
	struct dg_db *db = NULL;
	int exists = 0;
	dg_rc rc = region_exists(env, &exists);
	if (rc) {
		dg_err_set(err, rc, "the store could not be read");
		goto out;
	}
	if (exists) {
		rc = dg_err_set(err, DG_ECONFLICT, "a region exists already");
		goto out;
	}
	rc = dg_db_get(env->store, &db);
	if (!rc)
		rc = dg_db_begin(db);
	if (rc) {
		dg_err_set(err, rc, "the store is not available");
		goto out;
	}
	rc = seed_modules(env, db, o, err);
	if (rc) {
		dg_db_rollback(db);
		goto out;
	}
	rc = dg_db_commit(db);
	if (rc) {
		dg_err_set(err, rc, "the demo could not be saved");
		goto out;
	}
	dg_db_put(db);
	db = NULL;
	rc = dg_env_load_region(env);
	if (rc)
		dg_err_set(err, rc, "the region settings could not be read");
out:
	dg_db_put(db);
	return rc;
}

int dg_app_demo_main(struct dg_app *app, int argc, char **argv)
{
	struct dg_err err = {0};
	int exists = 0;
	bool if_missing = false;
	struct dg_demo_opts o = {.tables = true, .rows = DG_DEMO_BIG_ROWS};
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--if-missing") == 0) {
			if_missing = true;
		} else if (strcmp(argv[i], "--with-runs") == 0) {
			o.runs = true;
		} else if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc &&
			   dg_str_to_i64(dg_str_of(argv[i + 1]), &o.rows) == DG_OK && o.rows >= 0 &&
			   o.rows <= 100000000) {
			i++;
		} else if (strcmp(argv[i], "--datasets") == 0 && i + 1 < argc &&
			   dg_str_to_i64(dg_str_of(argv[i + 1]), &o.datasets) == DG_OK &&
			   o.datasets >= 0 && o.datasets <= 10000000) {
			i++;
		} else {
			fprintf(stderr, "usage: dgov demo [--if-missing] [--rows N] [--datasets N] "
					"[--with-runs]\n");
			return 2;
		}
	}
	if (region_exists(&app->env, &exists)) {
		fprintf(stderr, "dgov demo: the store could not be read\n");
		return 1;
	}
	if (exists && if_missing) {
		dg_auth_demo_print_accounts();
		return 0;
	}
	if (exists) {
		fprintf(stderr, "dgov demo: a region exists already; nothing was changed\n");
		return 1;
	}
	if (dg_app_demo_seed(app, &o, &err)) {
		fprintf(stderr, "dgov demo: %s\n", err.msg);
		return 1;
	}
	if (o.datasets)
		printf("Added %lld generated datasets to the open-data catalogue.\n",
		       (long long)o.datasets);
	printf("Created the demo region; its open-data tables (%lld rows in market-entities)"
	       " load in the background once `dgov serve` runs.\n",
	       (long long)o.rows);
	dg_auth_demo_print_accounts();
	return 0;
}
