/*
 * module.c - the jobs module's descriptor: the queue's table, the job pages,
 * the demo's counting job and `dgov jobs`.
 */
#include "jobs/demo_tally.h"
#include "jobs/jobs.h"

static const struct dg_migration *const migrations[] = {dg_jobs_migrations, NULL};
static const dg_routes_fn routes[] = {dg_jobs_routes, NULL};
static const struct dg_job_kind jobs[] = {
	{"demo.tally", dg_demo_tally_run, DG_DEMO_TALLY_ATTEMPTS},
	{NULL, NULL, 0},
};
static const struct dg_command commands[] = {
	{"jobs", "jobs add|show|list ...           look at background jobs", dg_jobs_main,
	 dg_jobs_check},
	{NULL, NULL, NULL, NULL},
};

const struct dg_module dg_jobs_module = {
	.name = "jobs",
	.migrations = migrations,
	.routes = routes,
	.jobs = jobs,
	.commands = commands,
};
