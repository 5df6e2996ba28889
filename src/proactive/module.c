/*
 * module.c - the proactive services' descriptor: their tables, routes, the
 * matching run and the daily scheduler as job kinds, and the demo region's
 * policies.
 */
#include "proactive/internal.h"

static const struct dg_migration *const migrations[] = {pr_migrations, NULL};
static const dg_routes_fn routes[] = {pr_routes, pr_grant_routes, pr_takeup_routes,
				      pr_whatif_routes, NULL};
static const struct dg_job_kind jobs[] = {
	{"proactive.run", pr_run_job, 3},
	{"proactive.schedule", pr_schedule_job, 3},
	{"proactive.whatif", pr_whatif_job, 3},
	{NULL, NULL, 0},
};
/* every minute: a policy's daily run is queued once its time of day has come */
static const struct dg_task tasks[] = {
	{"proactive.schedule", 60},
	{NULL, 0},
};

const struct dg_module dg_proactive_module = {
	.name = "proactive",
	.migrations = migrations,
	.routes = routes,
	.jobs = jobs,
	.tasks = tasks,
	.demo_seed = pr_demo_seed,
};
