/*
 * failpoint.h - named places where a test makes a real fault happen: the
 * store busy, slow, gone, or its disk full, at one step. SQLite's
 * test_malloc and curl's `-t` are the models.
 *
 * Production code calls dg_failpoint_hit(name) at each place that can fail
 * for outside reasons (the store's get, begin, exec, query and commit);
 * it costs one atomic read while nothing is armed. A test arms a place with
 * a spec, in-process with dg_failpoint_set() or for a whole process with
 * the environment variable DGOV_FAILPOINTS, read once:
 *
 *   NAME=KIND[:MS][*COUNT][,NAME=KIND...]
 *
 * KIND is busy (DG_EUNAVAIL, as a store past its busy wait), gone (the
 * store went away: DG_EUNAVAIL), full (the disk is full: DG_ENOSPC), slow
 * (wait MS milliseconds, then go on) or hold (wait until the failpoints are
 * set again, e.g. disarmed, or MS milliseconds, 60 s when 0; then go on:
 * a test holds a request where it is, sees it there with
 * dg_failpoint_fired, and lets it go). COUNT limits how many hits fire
 * (default: every hit). An empty spec disarms everything.
 */
#ifndef DG_CORE_FAILPOINT_H
#define DG_CORE_FAILPOINT_H

#include "core/err.h"

#define DG_FAILPOINT_MAX 16 /* places armed at once */

/* Arm (or, with "" or NULL, disarm) failpoints; EINVAL names the bad part in err. */
dg_rc dg_failpoint_set(const char *spec, struct dg_err *err) DG_MUST;

/* How many hits of name have fired since it was armed (0 when it is not). */
long dg_failpoint_fired(const char *name);

/* The fault armed at name, if any: DG_OK to go on (after a slow one's wait). */
dg_rc dg_failpoint_hit(const char *name) DG_MUST;

#endif
