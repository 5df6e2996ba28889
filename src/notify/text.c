/*
 * text.c - text messages to a mobile phone that has no account yet: the
 * one-time codes of sign-up and password reset (env->send_text).
 *
 * Inbox messages go to accounts, and the webhook names only the account;
 * a code is for someone who has none, so its message names the phone. It
 * is queued as a job ("notify.text") in the caller's transaction, with the
 * phone and the text sealed (keys.h) in the job's payload, and POSTed to
 * the node's webhook, signed as every notice is, by a job worker: a few
 * attempts only, since a code lives minutes. Without a webhook there is no
 * way to send one and the caller is told so (DG_EUNAVAIL); for a trial
 * node, DGOV_TEXT_LOG=1 writes the messages to the node's log instead.
 */
#include "notify/notify.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/keys.h"
#include "core/log.h"
#include "jobs/jobs.h"
#include "node/env.h"
#include "notify/internal.h"

#define TEXT_MAX 512 /* bytes of one text message */

/* Whether the node writes text messages to its log for want of a gateway. */
static bool log_texts(void)
{
	const char *v = getenv("DGOV_TEXT_LOG");
	return v && strcmp(v, "1") == 0;
}

dg_rc notify_send_text(struct dg_env *env, struct dg_db *db, const char *phone, const char *text,
		       struct dg_err *err)
{
	struct notify_conf c;
	notify_conf_get(&c);
	bool on = c.url[0] != 0;
	sodium_memzero(c.secret, sizeof(c.secret));
	if (!dg_phone_valid(phone) || !text || !text[0] || strlen(text) > TEXT_MAX)
		return dg_err_set(err, DG_EINVAL, "a text message needs a mobile phone and a text");
	if (!on) {
		if (!log_texts())
			return dg_err_set(err, DG_EUNAVAIL, "no gateway for text messages");
		dg_info("text message (DGOV_TEXT_LOG, no webhook) to %s: %s", phone, text);
		return DG_OK;
	}
	struct dg_arena *a = dg_arena_new();
	json_t *p = json_pack("{s:s, s:s}", "to", dg_pii_seal(&env->keys, a, phone), "text",
			      dg_pii_seal(&env->keys, a, text));
	int64_t job = 0;
	dg_rc rc = p ? dg_job_enqueue(db, NOTIFY_TEXT_JOB, p, 0, NULL, &job) : DG_EINTERNAL;
	json_decref(p);
	dg_arena_free(a);
	if (rc)
		dg_err_set(err, rc, "the text message could not be queued");
	return rc;
}

/* The POST's body: {"id", "kind": "text", "to", "text", "created_at"} (malloc'd). */
static char *text_body(int64_t id, const char *to, const char *text)
{
	char created[32];
	notify_rfc3339(dg_now_ms(), created);
	json_t *j = json_pack("{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)id, "kind", "text",
			      "to", to, "text", text, "created_at", created);
	char *out = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return out;
}

dg_rc notify_text_run(struct dg_job *job, struct dg_err *err)
{
	struct notify_conf c;
	char *to = NULL, *text = NULL, *body = NULL;
	long status = 0;
	if (!job->env)
		return dg_err_set(err, DG_EUNAVAIL, "the node's keys are not at hand");
	struct dg_arena *a = dg_arena_new();
	const char *sto = json_string_value(json_object_get(job->payload, "to"));
	const char *stext = json_string_value(json_object_get(job->payload, "text"));
	notify_conf_get(&c);
	dg_rc rc = DG_OK;
	if (!sto || !stext || dg_pii_open(&job->env->keys, a, sto, &to) ||
	    dg_pii_open(&job->env->keys, a, stext, &text)) {
		rc = dg_err_set(err, DG_EINVAL, "the job's message does not open");
		goto out;
	}
	if (!c.url[0]) {
		rc = dg_err_set(err, DG_EINVAL, "no webhook is configured any more");
		goto out;
	}
	body = text_body(job->id, to, text);
	if (!body) {
		rc = dg_err_set(err, DG_EINTERNAL, "the text message could not be serialised");
		goto out;
	}
	rc = notify_post(&c, job->id, body, &status, err);
out:
	sodium_memzero(c.secret, sizeof(c.secret));
	if (body)
		sodium_memzero(body, strlen(body));
	free(body);
	dg_arena_free(a);
	return rc;
}
