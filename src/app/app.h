/*
 * app.h - the running node: the ordered list of modules, and what joins
 * them: configuration, the environment every domain sees, the router, the
 * job workers, and the dispatcher every request goes through.
 *
 * The dispatcher is where deny-by-default lives: route match (404/405) ->
 * identify the requester (auth) -> the route's roles mask (anonymous to a
 * page: redirect to sign-in; anonymous to the API: 401; wrong role: 403) ->
 * CSRF on unsafe methods -> the handler -> an error page or JSON error for
 * whatever the handler returned.
 *
 * Only src/app and main.c include this header: domains see the node through
 * node/env.h and declare themselves with node/module.h.
 */
#ifndef DG_APP_H
#define DG_APP_H

#include "core/config.h"
#include "core/err.h"
#include "http/req.h"
#include "http/router.h"
#include "http/server.h"
#include "node/env.h"
#include "node/module.h"

struct dg_jobs;

struct dg_app {
	struct dg_config cfg;
	struct dg_env env; /* env.cfg points at cfg */
	struct dg_router *router;
	struct dg_jobs *jobs; /* NULL unless job workers run */
};

/* Every module, in dependency order (app.c); n gets how many. */
const struct dg_module *const *dg_app_modules(size_t *n);

/*
 * Every module's migration lists, in the order they are applied, into
 * out[0..max); returns how many there are (more than max: some left out).
 */
size_t dg_app_migration_lists(const struct dg_migration **out, size_t max);

/*
 * Each module's init, in order, over an environment whose store is migrated
 * (dg_app_open calls it; a test that builds its environment by hand does too).
 */
dg_rc dg_app_init_modules(struct dg_env *env, struct dg_err *err) DG_MUST;

/*
 * Open everything but the HTTP server and the job workers: keys, store (and
 * migrations), templates, messages, routes, job kinds, region, and each
 * module's init. On error all is closed.
 */
dg_rc dg_app_open(struct dg_app *app, const struct dg_config *cfg, struct dg_err *err) DG_MUST;
void dg_app_close(struct dg_app *app);

/* Start workers job workers (0: none) with the modules' scheduled tasks. */
dg_rc dg_app_start_jobs(struct dg_app *app, unsigned workers, unsigned lease_sec) DG_MUST;

/* The HTTP server on the configured address, with upload_dir for multipart files. */
dg_rc dg_app_listen(struct dg_app *app, const char *upload_dir, struct dg_server **out,
		    struct dg_err *err) DG_MUST;

/* Serve until SIGTERM/SIGINT, then stop gracefully. Returns the exit code. */
int dg_app_serve(struct dg_app *app);

/* A module's command named cmd, or NULL. */
const struct dg_command *dg_app_command(const char *cmd);

/*
 * The demo region: every module's demo seed in one transaction (ECONFLICT
 * when a region exists already), then the region reloaded.
 */
dg_rc dg_app_demo_seed(struct dg_app *app, const struct dg_demo_opts *o,
		       struct dg_err *err) DG_MUST;
/* `dgov demo [--if-missing] [--rows N]`; argv[0] is "demo". Returns the exit code. */
int dg_app_demo_main(struct dg_app *app, int argc, char **argv);

/* server.h's dispatch callback; ctx is the app. */
void dg_app_dispatch(void *ctx, struct dg_req *r);
/* server.h's error callback: the error page in the requester's language. */
void dg_app_error(struct dg_req *r, dg_rc rc);

#endif
