/*
 * demo_tally.h - the "demo.tally" job kind: a job that counts, slowly, one
 * committed row per step, to show progress and crash-resume.
 *
 * Payload {"steps":N,"step_ms":M} (1 <= N <= 100000, 0 <= M <= 60000). Each
 * step inserts (job_id, step) into demo_tally and saves the checkpoint
 * {"next":step+1} in one transaction, so a step is never done twice even when
 * a worker dies between steps. The result is {"steps":N}.
 */
#ifndef DG_DEMO_TALLY_H
#define DG_DEMO_TALLY_H

#include "core/err.h"

struct dg_job;

#define DG_DEMO_TALLY_ATTEMPTS 10

/* The kind's handler (jobs/module.c lists it). */
dg_rc dg_demo_tally_run(struct dg_job *job, struct dg_err *err) DG_MUST;
/* Register the kind again (tests that start workers of their own; start-up only). */
void dg_demo_tally_register(void);

#endif
