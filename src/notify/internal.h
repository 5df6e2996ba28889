/*
 * internal.h - what the inbox's files share (notify.c, webhook.c, routes.c)
 * and the knob its tests turn; not for other modules.
 */
#ifndef DG_NOTIFY_INTERNAL_H
#define DG_NOTIFY_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "jobs/jobs.h"

struct dg_i18n;

#define NOTIFY_JOB "notify.webhook"

/*
 * Delivery attempts of one message before it is recorded as failed: with
 * the jobs module's backoff, about 37 minutes of retries. Tests lower it
 * with dg_jobs_set_attempts.
 */
#define NOTIFY_ATTEMPTS 12

/* The webhook settings as they are now, copied out under the lock. */
struct notify_conf {
	char url[2048];
	char secret[256];
	const struct dg_i18n *i18n;
};

/* Copy the current settings into c (wipe c->secret after use). */
void notify_conf_get(struct notify_conf *c);

struct dg_keys;
/*
 * A message's parameters are stored sealed (keys.h): a reason a member of
 * staff typed may hold an ID number or a phone. The keys are the node's,
 * set once at start-up (borrowed for the process's life).
 */
void notify_set_keys(const struct dg_keys *k);
/* The parameters of a stored message, opened (or read as written before sealing); a new object. */
json_t *notify_open_params(const char *stored);

/* The delivery job's handler (webhook.c). */
dg_rc notify_webhook_run(struct dg_job *job, struct dg_err *err) DG_MUST;

/* True when kind is in the catalogue of kinds. */
bool notify_kind_known(const char *kind);

#endif
