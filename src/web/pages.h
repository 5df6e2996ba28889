/*
 * pages.h - the portal's general pages: home, help, the policies entrance,
 * language and elder-mode switches, static files.
 */
#ifndef DG_PAGES_H
#define DG_PAGES_H

#include <stddef.h>

#include "http/router.h"
#include "node/module.h"

const struct dg_route *dg_web_routes(size_t *n);

/* The web module: its tables, routes, jobs and demo data, for src/app. */
extern const struct dg_module dg_web_module;

#endif
