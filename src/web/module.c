/*
 * module.c - the general pages' descriptor: home, help, the switches and
 * static files, the notices every public service has, and the feedback
 * table of "report a problem with this page". Last in the app's list, so
 * any domain's page of the same path comes first.
 */
#include "web/pages.h"

static const struct dg_migration *const migrations[] = {dg_web_migrations, NULL};
static const dg_routes_fn routes[] = {dg_web_routes, dg_web_feedback_routes, NULL};

const struct dg_module dg_web_module = {
	.name = "web",
	.migrations = migrations,
	.routes = routes,
};
