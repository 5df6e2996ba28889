/*
 * module.c - the proactive services' descriptor: their tables, routes, the
 * matching run, the daily scheduler and the runs started by registry
 * changes as job kinds, and the demo region's
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
	{"proactive.follow", pr_follow_job, 3},
	{NULL, NULL, 0},
};
/* every minute: a policy's daily run is queued once its time of day has come, and a
   run of each policy whose registries changed (follow.c) */
static const struct dg_task tasks[] = {
	{"proactive.schedule", 60},
	{"proactive.follow", 60},
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
