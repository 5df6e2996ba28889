/*
 * notify.h - the inbox and outbound notices.
 *
 * Every status change, supplement request, certificate and rating reply
 * reaches the user's inbox as a message made from a template (templates/i18n
 * notify.<lang>.json, key "notify.<kind>.title" / ".body", with {placeholders}
 * filled from params), shown in the reader's language. When the node has a
 * webhook configured (--webhook-url / DGOV_WEBHOOK_URL with a secret), each
 * message is also delivered there by a durable job, signed with HMAC-SHA256,
 * retried with backoff, its delivery status recorded on the message, so an
 * SMS or mail gateway can be plugged in.
 */
#ifndef DG_NOTIFY_H
#define DG_NOTIFY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "http/router.h"
#include "store/store.h"

extern const struct dg_migration dg_notify_migrations[];

/* /inbox, /inbox/{id}, POST /inbox/{id}/read, GET /api/v1/inbox. */
const struct dg_route *dg_notify_routes(size_t *n);

/* Register the webhook delivery job kind ("notify.webhook"); call before the workers start. */
void dg_notify_register_jobs(void);

/*
 * Put a message in user_id's inbox, inside the caller's transaction on db.
 * kind names the template ("case.accepted", "case.supplement", "cert.issued",
 * "rating.replied", ...); params (borrowed, may be NULL) is an object whose
 * string/integer members fill {name} placeholders; link is a site path the
 * message points to ("/my/cases/R..."), may be NULL. When a webhook is
 * configured a delivery job is queued in the same transaction.
 * EINVAL for an unknown kind or a user that does not exist.
 */
dg_rc dg_notify(struct dg_db *db, int64_t user_id, const char *kind, json_t *params,
		const char *link, struct dg_err *err) DG_MUST;

#endif
