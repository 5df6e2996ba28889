/*
 * module.c - the applications' and cases' descriptor: the applicant's
 * pages, the back office and the API, and the demo's cases at every stage.
 */
#include "cases/cases.h"

static const struct dg_migration *const migrations[] = {dg_cases_migrations, NULL};
static const dg_routes_fn routes[] = {dg_cases_apply_routes, dg_cases_office_routes,
				      dg_cases_api_routes, NULL};

const struct dg_module dg_cases_module = {
	.name = "cases",
	.migrations = migrations,
	.routes = routes,
	.demo_seed = dg_cases_demo_seed,
};
