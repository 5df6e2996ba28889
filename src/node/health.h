/*
 * health.h - the store's health as /healthz tells it, kept in memory: a
 * thread started with the HTTP server runs one round trip to the store
 * every period (a second by default) and keeps the last outcome, so that a
 * load balancer probing /healthz many times a second costs the store
 * nothing. /readyz still makes the round trip on the request.
 *
 * The owner is the app (dg_app_listen starts it, dg_app_serve and
 * dg_app_close stop it, always before the store closes); handlers read it
 * through env->health, which is NULL when no server runs.
 */
#ifndef DG_NODE_HEALTH_H
#define DG_NODE_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

/* A check older than this (or none yet) makes the node unhealthy. */
#define DG_HEALTH_STALE_MS 5000

struct dg_health;

/* What the last check found, as of now. */
struct dg_health_state {
	bool ok;          /* the last check succeeded, within DG_HEALTH_STALE_MS */
	int64_t schema;   /* migrations applied, as of the last successful check */
	int64_t age_ms;   /* since the last successful check; -1: none yet */
	char reason[160]; /* why not ok, for the operator; "" when ok */
};

/*
 * One round trip: the store answers and says how many migrations it has
 * applied (*schema). On failure, reason says which step (the store's own
 * message is logged, never shown).
 */
dg_rc dg_health_probe(struct dg_store *s, int64_t *schema, char *reason,
		      size_t reason_size) DG_MUST;

struct dg_tally; /* store/tally.h */

/*
 * Check s now (so the state is known before the first request), then every
 * period_ms (0: 1000) on a thread of its own, which also writes the node's
 * held counts (tally, may be NULL) each time, so that they reach the store
 * within a period even when no further call comes. EINTERNAL when the
 * thread cannot start.
 */
dg_rc dg_health_start(struct dg_store *s, unsigned period_ms, struct dg_tally *tally,
		      struct dg_health **out) DG_MUST;
/* Wake the thread, wait for it to end, free everything. NULL is a no-op. */
void dg_health_stop(struct dg_health *h);
/* The state as of now: thread-safe, touches no store. */
void dg_health_get(struct dg_health *h, struct dg_health_state *out);

#endif
