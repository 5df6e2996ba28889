/*
 * module.c - the e-certificates' descriptor.
 */
#include "cert/cert.h"

static const struct dg_migration *const migrations[] = {dg_cert_migrations, NULL};
static const dg_routes_fn routes[] = {dg_cert_routes, NULL};

const struct dg_module dg_cert_module = {
	.name = "cert",
	.migrations = migrations,
	.routes = routes,
};
