/*
 * demo.h - the demo region: a realistic small city to try dgov with.
 *
 * `dgov demo` (and `make run` on first start) creates the region settings,
 * departments, staff with roles, citizens, enterprise agents and an
 * administrator. The accounts below all share DG_DEMO_PASSWORD; the demo is
 * deterministic, so tests can sign in with them.
 */
#ifndef DG_DEMO_H
#define DG_DEMO_H

#include "core/err.h"

struct dg_app;

#define DG_DEMO_PASSWORD "Demo-2026!"
#define DG_DEMO_ADMIN "admin"         /* administrator */
#define DG_DEMO_STAFF "mz_zhao"       /* civil affairs bureau staff: intake,review,approve */
#define DG_DEMO_STAFF2 "rs_qian"      /* human resources bureau staff: intake */
#define DG_DEMO_CITIZEN "zhangsan"    /* a resident */
#define DG_DEMO_CITIZEN2 "lisi"       /* another resident */
#define DG_DEMO_AGENT "agent_hx"      /* agent of an enterprise */

/* True when the store already holds a region (the demo or a real one). */
dg_rc dg_demo_exists(struct dg_app *app, int *exists) DG_MUST;
/* Create the demo region; ECONFLICT when a region exists already. */
dg_rc dg_demo_seed(struct dg_app *app, struct dg_err *err) DG_MUST;
/* Print the demo accounts and what each can do, for the console. */
void dg_demo_print_accounts(void);

/* Rows of the demo's large open-data table (`dgov demo --rows N` changes it). */
#define DG_DEMO_BIG_ROWS 1000000
/*
 * `dgov demo [--if-missing] [--rows N]`; argv[0] is "demo". Also writes the
 * open-data demo tables' files and queues their loads. Returns the exit code.
 */
int dg_demo_main(struct dg_app *app, int argc, char **argv);

#endif
