/*
 * module.c - the auth module's descriptor: accounts, sessions and tokens,
 * the demo region's departments and accounts, and `dgov user`.
 */
#include "auth/auth.h"

#include "auth/auth_int.h"

static const struct dg_migration *const migrations[] = {dg_auth_migrations, NULL};
static const dg_routes_fn routes[] = {dg_auth_routes, dg_auth_signup_routes, NULL};
static const struct dg_job_kind jobs[] = {
	{"auth.purge", dg_auth_purge_run, 3},
	{NULL, NULL, 0},
};
static const struct dg_task tasks[] = {
	{"auth.purge", 3600},
	{NULL, 0},
};
static const struct dg_command commands[] = {
	{"user", "user add|list|passwd|token ...   manage accounts (dgov user --help)",
	 dg_user_main, dg_user_check},
	{NULL, NULL, NULL, NULL},
};

const struct dg_module dg_auth_module = {
	.name = "auth",
	.migrations = migrations,
	.routes = routes,
	.jobs = jobs,
	.tasks = tasks,
	.commands = commands,
	.demo_seed = dg_auth_demo_seed,
};
