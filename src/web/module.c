/*
 * module.c - the general pages' descriptor: home, help, the switches and
 * static files. Last in the app's list, so any domain's page of the same
 * path comes first.
 */
#include "web/pages.h"

static const dg_routes_fn routes[] = {dg_web_routes, NULL};

const struct dg_module dg_web_module = {
	.name = "web",
	.routes = routes,
};
