/*
 * app.h - the running node: configuration, store, keys, templates, jobs and
 * routes, wired together, and the dispatcher every request goes through.
 *
 * The dispatcher is where deny-by-default lives: route match (404/405) ->
 * identify the requester (auth) -> the route's roles mask (anonymous to a
 * page: redirect to sign-in; anonymous to the API: 401; wrong role: 403) ->
 * CSRF on unsafe methods -> the handler -> an error page or JSON error for
 * whatever the handler returned.
 */
#ifndef DG_APP_H
#define DG_APP_H

#include "auth/keys.h"
#include "core/config.h"
#include "core/err.h"
#include "http/req.h"
#include "http/router.h"
#include "store/store.h"

struct dg_tmpl_set;
struct dg_i18n;
struct dg_jobs;

struct dg_region {
	char code[16];      /* administrative division code, e.g. "990100" */
	char name_zh[128];
	char name_en[128];
	char hotline[32];   /* e.g. "12345" */
};

struct dg_app {
	struct dg_config cfg;
	struct dg_keys keys;
	struct dg_store *store;
	struct dg_tmpl_set *tmpl;
	struct dg_i18n *i18n;
	struct dg_router *router;
	struct dg_jobs *jobs; /* NULL unless serving */
	struct dg_region region;
};

/* The tables the app itself owns (region settings). */
extern const struct dg_migration dg_app_migrations[];

/* Every domain's migration list, in the order they are applied. */
const struct dg_migration *const *dg_app_migration_lists(size_t *n);

/*
 * Open everything but the HTTP server and the job workers: keys, store (and
 * migrations), templates, messages, routes, region. On error all is closed.
 */
dg_rc dg_app_open(struct dg_app *app, const struct dg_config *cfg, struct dg_err *err) DG_MUST;
void dg_app_close(struct dg_app *app);

/* Reload the region settings from the store (after `dgov demo`). */
dg_rc dg_app_load_region(struct dg_app *app) DG_MUST;

/* Serve until SIGTERM/SIGINT, then stop gracefully. Returns the exit code. */
int dg_app_serve(struct dg_app *app);

/* server.h's dispatch callback. */
void dg_app_dispatch(struct dg_req *r);
/* server.h's error callback: the error page in the requester's language. */
void dg_app_error(struct dg_req *r, dg_rc rc);

/* A connection for this request, returned to the pool when the request ends. */
dg_rc dg_req_db(struct dg_req *r, struct dg_db **out) DG_MUST;

#endif
