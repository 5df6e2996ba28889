/*
 * demo.h - the demo region: a realistic small city to try dgov with.
 *
 * `dgov demo` (and `make run` on first start) runs every module's demo seed
 * in one transaction: the region settings, departments, staff with roles,
 * residents, enterprise agents, an administrator, and each domain's data.
 * The accounts below all share DG_DEMO_PASSWORD; the demo is deterministic,
 * so tests can sign in with them and modules' seeds can refer to them.
 */
#ifndef DG_NODE_DEMO_H
#define DG_NODE_DEMO_H

#include <stdbool.h>
#include <stdint.h>

#define DG_DEMO_PASSWORD "Demo-2026!"
#define DG_DEMO_ADMIN    "admin"    /* administrator */
#define DG_DEMO_STAFF    "mz_zhao"  /* civil affairs bureau staff: intake,review,approve */
#define DG_DEMO_STAFF2   "rs_qian"  /* human resources bureau staff: intake */
#define DG_DEMO_CITIZEN  "zhangsan" /* a resident */
#define DG_DEMO_CITIZEN2 "lisi"     /* another resident */
#define DG_DEMO_AGENT    "agent_hx" /* agent of an enterprise */

/* Rows of the demo's large open-data table (`dgov demo --rows N` changes it). */
#define DG_DEMO_BIG_ROWS 1000000

/* What `dgov demo` was asked for, handed to every module's seed. */
struct dg_demo_opts {
	bool tables;      /* write the open-data tables' files and queue their loads */
	int64_t rows;     /* rows of the large open-data table */
	int64_t datasets; /* generated datasets added to the open-data catalogue (--datasets N) */
	bool runs;        /* --with-runs: a finished matching run and a proposed grant batch */
};

#endif
