/*
 * module.c - the applications' and cases' descriptor: the applicant's
 * pages, the back office and the API, and the demo's cases at every stage.
 */
#include "cases/cases.h"

#include "cases/internal.h"
#include "node/env.h"

/* The home and account pages learn from here what needs the signed-in person. */
static dg_rc init(struct dg_env *env, struct dg_err *err)
{
	(void)err;
	env->attention = case_attention_json;
	return DG_OK;
}

static const struct dg_migration *const migrations[] = {dg_cases_migrations, NULL};
static const dg_routes_fn routes[] = {dg_cases_apply_routes, dg_cases_office_routes,
				      dg_cases_api_routes, NULL};

const struct dg_module dg_cases_module = {
	.name = "cases",
	.migrations = migrations,
	.routes = routes,
	.init = init,
	.demo_seed = dg_cases_demo_seed,
};
