/*
 * pages.h - the portal's general pages: home, help, the notices every public
 * service has, language and elder-mode switches, static files, and "report
 * a problem with this page".
 */
#ifndef DG_PAGES_H
#define DG_PAGES_H

#include <stddef.h>

#include "http/router.h"
#include "node/module.h"

const struct dg_route *dg_web_routes(size_t *n);
/* "report a problem with this page" and its administrators' list (feedback.c) */
const struct dg_route *dg_web_feedback_routes(size_t *n);
/* the feedback table */
extern const struct dg_migration dg_web_migrations[];

/* The web module: its tables, routes, jobs and demo data, for src/app. */
extern const struct dg_module dg_web_module;

#endif
