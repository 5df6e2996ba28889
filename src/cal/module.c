/*
 * module.c - the holiday calendar's descriptor.
 */
#include "cal/cal.h"

static const struct dg_migration *const migrations[] = {dg_cal_migrations, NULL};
static const dg_routes_fn routes[] = {dg_cal_routes, NULL};

const struct dg_module dg_cal_module = {
	.name = "cal",
	.migrations = migrations,
	.routes = routes,
	.demo_seed = dg_cal_demo_seed,
};
