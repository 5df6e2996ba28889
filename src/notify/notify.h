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

#include "core/buf.h"
#include "core/err.h"
#include "http/router.h"
#include "store/store.h"
#include "node/module.h"

struct dg_i18n;

extern const struct dg_migration dg_notify_migrations[];

/* /inbox, /inbox/{id}, POST /inbox/{id}/read, GET /api/v1/inbox. */
const struct dg_route *dg_notify_routes(size_t *n);

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

/* A few messages in the demo resident's inbox (zhangsan), in the caller's transaction. */
dg_rc dg_notify_demo_seed(struct dg_env *env, struct dg_db *db, const struct dg_demo_opts *o,
			  struct dg_err *err) DG_MUST;

/* Messages' caps: params as JSON, a link, one placeholder's name. */
#define DG_NOTIFY_PARAMS_MAX 4096
#define DG_NOTIFY_LINK_MAX   512
#define DG_NOTIFY_NAME_MAX   64

/* Unread messages in user_id's inbox. */
dg_rc dg_notify_unread(struct dg_db *db, int64_t user_id, int64_t *n) DG_MUST;

/*
 * Set the webhook and the catalogue the delivery job renders messages with.
 * url NULL or "" turns the webhook off; otherwise it must be http:// or
 * https:// and secret at least 16 bytes (EINVAL with a message in err).
 * i18n is borrowed and must outlive the job workers. dg_app_open calls this
 * from the configuration; tests call it again to switch (thread-safe).
 */
dg_rc dg_notify_configure(const char *url, const char *secret, const struct dg_i18n *i18n,
			  struct dg_err *err) DG_MUST;

/* The known kinds, in catalogue order (n gets how many). */
const char *const *dg_notify_kinds(size_t *n);

/*
 * Fill tmpl's {name} placeholders (name: letters, digits, '_', at most
 * DG_NOTIFY_NAME_MAX) from params into out as plain text, for the template
 * engine or JSON to escape. A placeholder takes params' "<name>_<lang>"
 * member when there is one, else "<name>"; strings print as they are,
 * integers in decimal, anything else or a missing member as nothing. A '{'
 * that does not open a placeholder prints as it is. ETOOBIG at out's cap.
 */
dg_rc dg_notify_fill(const char *tmpl, const json_t *params, const char *lang,
		     struct dg_buf *out) DG_MUST;

/* The notify module: its tables, routes, jobs and demo data, for src/app. */
extern const struct dg_module dg_notify_module;

#endif
