/*
 * health.c - the store's health kept in memory for /healthz (health.h).
 *
 * One thread per server: it checks, then sleeps on a condition variable
 * (monotonic clock) for the period, so that dg_health_stop wakes it at once
 * instead of waiting out a sleep. The state is a few words under a mutex;
 * readers copy it out and compute the age themselves, so a check that hangs
 * (the store stuck) shows as stale after DG_HEALTH_STALE_MS without the
 * thread having to come back.
 */
#include "node/health.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/date.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/tally.h"

struct dg_health {
	struct dg_store *store;
	struct dg_tally *tally; /* the node's held counts, written each period */
	unsigned period_ms;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	bool stopping;
	/* the last check, under mu */
	bool ok;
	bool checked; /* at least one check has finished */
	int64_t schema;
	int64_t ok_at; /* dg_mono_ms of the last success; -1: none yet */
	char reason[160];
};

dg_rc dg_health_probe(struct dg_store *s, int64_t *schema, char *reason, size_t reason_size)
{
	struct dg_db *db = NULL;
	*schema = 0;
	dg_rc rc = dg_db_get(s, &db);
	if (rc) {
		snprintf(reason, reason_size, "the store gave no connection (%s)", dg_rc_name(rc));
		return DG_EUNAVAIL;
	}
	/* a real statement on a real connection, and the schema version in one */
	rc = dg_db_query_int(db, "SELECT COUNT(*) FROM schema_migrations", DG_NOARGS, schema);
	dg_db_put(db);
	if (rc) {
		snprintf(reason, reason_size, "the store did not answer a query (%s)",
			 dg_rc_name(rc));
		return DG_EUNAVAIL;
	}
	if (reason_size)
		reason[0] = '\0';
	return DG_OK;
}

static void check_once(struct dg_health *h)
{
	int64_t schema = 0;
	char reason[sizeof(h->reason)];
	dg_rc rc = dg_health_probe(h->store, &schema, reason, sizeof(reason));
	pthread_mutex_lock(&h->mu);
	bool was_ok = h->ok, was_checked = h->checked;
	h->ok = rc == DG_OK;
	h->checked = true;
	if (h->ok) {
		h->schema = schema;
		h->ok_at = dg_mono_ms();
	}
	memcpy(h->reason, reason, sizeof(reason));
	pthread_mutex_unlock(&h->mu);
	/* one line when the state changes, not one a second */
	if ((was_ok || !was_checked) && rc)
		dg_warn("health: %s", reason);
	else if (was_checked && !was_ok && !rc)
		dg_info("health: the store answers again");
}

/* The counts the node holds, to the store (a failure keeps them for the next time). */
static void write_counts(struct dg_health *h)
{
	struct dg_db *db = NULL;
	if (!h->tally || dg_db_get(h->store, &db) != DG_OK)
		return;
	if (dg_tally_flush(h->tally, db) != DG_OK)
		dg_debug("health: the held counts could not be written yet");
	dg_db_put(db);
}

static void *run(void *arg)
{
	struct dg_health *h = arg;
	pthread_mutex_lock(&h->mu);
	while (!h->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += h->period_ms / 1000;
		until.tv_nsec += (long)(h->period_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		/* a spurious or early wake-up only checks sooner */
		pthread_cond_timedwait(&h->wake, &h->mu, &until);
		if (h->stopping)
			break;
		pthread_mutex_unlock(&h->mu);
		check_once(h);
		write_counts(h);
		pthread_mutex_lock(&h->mu);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

dg_rc dg_health_start(struct dg_store *s, unsigned period_ms, struct dg_tally *tally,
		      struct dg_health **out)
{
	struct dg_health *h = dg_xcalloc(1, sizeof(*h));
	*out = NULL;
	h->store = s;
	h->tally = tally;
	h->period_ms = period_ms ? period_ms : 1000;
	h->ok_at = -1;
	snprintf(h->reason, sizeof(h->reason), "not checked yet");
	pthread_mutex_init(&h->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->wake, &ca);
	pthread_condattr_destroy(&ca);
	check_once(h);
	if (pthread_create(&h->thread, NULL, run, h) != 0) {
		pthread_cond_destroy(&h->wake);
		pthread_mutex_destroy(&h->mu);
		free(h);
		return DG_EINTERNAL;
	}
	*out = h;
	return DG_OK;
}

void dg_health_stop(struct dg_health *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->stopping = true;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->thread, NULL);
	pthread_cond_destroy(&h->wake);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

void dg_health_get(struct dg_health *h, struct dg_health_state *out)
{
	int64_t now = dg_mono_ms();
	pthread_mutex_lock(&h->mu);
	bool ok = h->ok;
	int64_t ok_at = h->ok_at;
	out->schema = h->schema;
	memcpy(out->reason, h->reason, sizeof(out->reason));
	pthread_mutex_unlock(&h->mu);
	out->age_ms = ok_at < 0 ? -1 : now - ok_at;
	out->ok = ok && out->age_ms >= 0 && out->age_ms <= DG_HEALTH_STALE_MS;
	if (ok && !out->ok)
		snprintf(out->reason, sizeof(out->reason),
			 "no check of the store has finished for %lld ms", (long long)out->age_ms);
}
