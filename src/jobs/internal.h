/*
 * internal.h - knobs of the job runner that tests turn; not for other modules.
 */
#ifndef DG_JOBS_INTERNAL_H
#define DG_JOBS_INTERNAL_H

#include <stdint.h>

/*
 * The retry delay after attempt n is dg_jobs_backoff_unit_ms * 2^n, at most
 * 10 minutes. 1000 in production (2^n seconds); tests make it small. Set it
 * before dg_jobs_start.
 */
extern int64_t dg_jobs_backoff_unit_ms;

/*
 * How long an idle worker sleeps before it looks for jobs queued where it
 * cannot hear (another node, the CLI) or retries come due: 500 ms. A job
 * queued in this process wakes it at once. Tests set it long to show that.
 */
extern unsigned dg_jobs_poll_ms;

/* The delay before retrying after the given attempt (1-based), in ms. */
int64_t dg_jobs_backoff_ms(int attempt);

#endif
