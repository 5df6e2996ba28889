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

/*
 * POST body to c's webhook, signed, with id as X-Dgov-Delivery. *status
 * gets the HTTP status (0 when there was no answer); DG_OK for 2xx, DG_EIO
 * otherwise with the reason in err.
 */
dg_rc notify_post(const struct notify_conf *c, int64_t id, const char *body, long *status,
		  struct dg_err *err) DG_MUST;
/* RFC 3339 in UTC with milliseconds: "2026-10-01T08:30:00.000Z". */
void notify_rfc3339(int64_t ms, char out[32]);

#define NOTIFY_TEXT_JOB "notify.text"
/* A text message's delivery attempts: its one-time code is short-lived. */
#define NOTIFY_TEXT_ATTEMPTS 4

struct dg_env;
struct dg_db;
/* env->send_text (text.c): queue a text message to phone for the webhook. */
dg_rc notify_send_text(struct dg_env *env, struct dg_db *db, const char *phone, const char *text,
		       struct dg_err *err) DG_MUST;
/* The text message job's handler (text.c). */
dg_rc notify_text_run(struct dg_job *job, struct dg_err *err) DG_MUST;

/* The delivery job's handler (webhook.c). */
dg_rc notify_webhook_run(struct dg_job *job, struct dg_err *err) DG_MUST;

/* True when kind is in the catalogue of kinds. */
bool notify_kind_known(const char *kind);

#endif
