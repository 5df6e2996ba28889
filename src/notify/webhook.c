/*
 * webhook.c - delivering inbox messages to the configured webhook, one job
 * ("notify.webhook") per message, so an SMS or mail gateway can pass them on.
 *
 * Each attempt renders the message in Chinese and English, POSTs it as JSON
 * with an HMAC-SHA256 signature of the exact body bytes (X-Dgov-Signature)
 * and the message id (X-Dgov-Delivery, for the receiver to drop repeats),
 * and records the outcome on the message: a 2xx answer is delivered; any
 * other answer, a timeout or a refused connection is an error the jobs
 * module retries with its backoff, until the job's last attempt, when the
 * message is marked failed. Delivery is at least once: a receiver may see a
 * message twice (a worker that died after the POST), never zero times while
 * attempts remain. The outcome is written together with the job's lease
 * check, so a worker that lost its job does not overwrite the one that has it.
 */
#include "notify/notify.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/date.h"
#include "core/log.h"
#include "core/mem.h"
#include "notify/internal.h"
#include "web/i18n.h"

#define TIMEOUT_MS         10000 /* one POST, from connect to the last byte of the answer */
#define CONNECT_TIMEOUT_MS 5000
#define TEXT_MAX           ((size_t)16 << 10) /* a rendered title or body */

/* The message as stored. */
struct message {
	int64_t id, user_id, created_ms;
	char kind[64];
	char *link;     /* NULL when none */
	json_t *params; /* an object */
	char delivery[16];
};

static void message_release(struct message *m)
{
	free(m->link);
	json_decref(m->params);
	memset(m, 0, sizeof(*m));
}

static dg_rc load_message(struct dg_db *db, int64_t id, struct message *m)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db,
			       "SELECT user_id, kind, params, link, created_ms, delivery"
			       " FROM notify_messages WHERE id = ?",
			       DG_ARGS(DG_VI(id)), &rows);
	if (!rc)
		rc = dg_rows_next(rows);
	if (!rc) {
		m->id = id;
		m->user_id = dg_rows_int(rows, 0);
		snprintf(m->kind, sizeof(m->kind), "%s", dg_rows_text(rows, 1));
		m->params = notify_open_params(dg_rows_text(rows, 2));
		if (!json_is_object(m->params)) {
			json_decref(m->params);
			m->params = json_object();
		}
		m->link = dg_rows_isnull(rows, 3) ? NULL : dg_xstrdup(dg_rows_text(rows, 3));
		m->created_ms = dg_rows_int(rows, 4);
		snprintf(m->delivery, sizeof(m->delivery), "%s", dg_rows_text(rows, 5));
	}
	dg_rows_free(rows);
	return rc;
}

/* The catalogue's text for kind and part ("title" / "body") in lang, filled. */
static json_t *render(const struct dg_i18n *i18n, const struct message *m, const char *lang,
		      const char *part)
{
	char key[96];
	struct dg_buf b;
	snprintf(key, sizeof(key), "notify.%s.%s", m->kind, part);
	dg_buf_init(&b, TEXT_MAX);
	json_t *out = NULL;
	if (dg_notify_fill(dg_i18n_get(i18n, lang, key), m->params, lang, &b) == DG_OK)
		out = json_string(dg_buf_str(&b));
	dg_buf_release(&b);
	return out ? out : json_string("");
}

void notify_rfc3339(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

/* The body of the POST, compact JSON (malloc'd). */
static char *build_body(const struct dg_i18n *i18n, const struct message *m)
{
	char created[32];
	notify_rfc3339(m->created_ms, created);
	json_t *j = json_pack(
		"{s:I, s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:s}", "id", (json_int_t)m->id, "user",
		(json_int_t)m->user_id, "kind", m->kind, "title_zh", render(i18n, m, "zh", "title"),
		"body_zh", render(i18n, m, "zh", "body"), "title_en",
		render(i18n, m, "en", "title"), "body_en", render(i18n, m, "en", "body"), "link",
		m->link ? json_string(m->link) : json_null(), "created_at", created);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return text;
}

/* "sha256=" and the hex HMAC-SHA256 of body under secret (any length of key). */
static void sign(const char *secret, const char *body, size_t len, char out[7 + 65])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	memcpy(out, "sha256=", 7);
	sodium_bin2hex(out + 7, 65, mac, sizeof(mac));
	sodium_memzero(&st, sizeof(st));
}

/* The answer's body is not used; reading it lets the connection finish cleanly. */
static size_t discard(char *p, size_t size, size_t nmemb, void *ud)
{
	(void)p;
	(void)ud;
	return size * nmemb;
}

dg_rc notify_post(const struct notify_conf *c, int64_t id, const char *body, long *status,
		  struct dg_err *err)
{
	char sig[7 + 65], hdr_sig[96], hdr_id[64], ebuf[CURL_ERROR_SIZE] = "";
	sign(c->secret, body, strlen(body), sig);
	snprintf(hdr_sig, sizeof(hdr_sig), "X-Dgov-Signature: %s", sig);
	snprintf(hdr_id, sizeof(hdr_id), "X-Dgov-Delivery: %lld", (long long)id);
	*status = 0;
	CURL *h = curl_easy_init();
	if (!h)
		return dg_err_set(err, DG_EIO, "the HTTP client could not start");
	struct curl_slist *hdrs = NULL;
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json; charset=utf-8");
	hdrs = curl_slist_append(hdrs, hdr_sig);
	hdrs = curl_slist_append(hdrs, hdr_id);
	hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "dgov-notify/1");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	CURLcode cc = curl_easy_perform(h);
	if (cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	sodium_memzero(sig, sizeof(sig));
	sodium_memzero(hdr_sig, sizeof(hdr_sig));
	if (cc != CURLE_OK)
		return dg_err_set(err, DG_EIO, "no answer: %s",
				  ebuf[0] ? ebuf : curl_easy_strerror(cc));
	if (*status < 200 || *status > 299)
		return dg_err_set(err, DG_EIO, "answered HTTP %ld", *status);
	return DG_OK;
}

/* Write the attempt's outcome on the message, if this worker still holds the job. */
static dg_rc record(struct dg_job *job, int64_t id, const char *delivery, long status,
		    const char *error)
{
	struct dg_db *db = job->db;
	bool done = strcmp(delivery, "delivered") == 0;
	struct dg_val at = done ? DG_VI(dg_now_ms()) : DG_VNULL;
	dg_rc rc = dg_db_begin(db);
	if (!rc)
		rc = dg_db_exec(db,
				"UPDATE notify_messages SET delivery = ?, attempts = ?,"
				" last_status = ?, last_error = ?,"
				" delivered_ms = COALESCE(?, delivered_ms) WHERE id = ?",
				DG_ARGS(DG_VT(delivery), DG_VI(job->attempt), DG_VI(status),
					DG_VT(error), at, DG_VI(id)),
				NULL);
	if (!rc)
		rc = dg_job_save(job, 1, 1, NULL);
	if (!rc)
		rc = dg_db_commit(db);
	if (rc)
		dg_db_rollback(db);
	return rc;
}

/* Whether this attempt is the job's last. */
static bool last_attempt(struct dg_job *job)
{
	int64_t max = 0;
	if (dg_db_query_int(job->db, "SELECT max_attempts FROM jobs WHERE id = ?",
			    DG_ARGS(DG_VI(job->id)), &max))
		return false;
	return job->attempt >= max;
}

dg_rc notify_webhook_run(struct dg_job *job, struct dg_err *err)
{
	struct notify_conf c;
	struct message m = {0};
	char *body = NULL;
	long status = 0;
	json_int_t id = json_integer_value(json_object_get(job->payload, "message"));
	if (id <= 0)
		return dg_err_set(err, DG_EINVAL, "the job names no message");
	notify_conf_get(&c);
	dg_rc rc = load_message(job->db, id, &m);
	if (rc == DG_ENOTFOUND) {
		rc = dg_err_set(err, DG_EINVAL, "message %lld is gone", (long long)id);
		goto out;
	}
	if (rc)
		goto out;
	/* a repeated run of a message already delivered (its worker died after recording it) */
	if (strcmp(m.delivery, "delivered") == 0)
		goto out;
	if (!c.url[0]) {
		rc = dg_err_set(err, DG_EINVAL, "no webhook is configured any more");
		if (record(job, id, "failed", 0, err->msg))
			dg_warn("notify: message %lld: the failure could not be recorded",
				(long long)id);
		goto out;
	}
	if (!c.i18n) {
		rc = dg_err_set(err, DG_EUNAVAIL, "the messages catalogue is not loaded");
		goto out;
	}
	body = build_body(c.i18n, &m);
	if (!body) {
		rc = dg_err_set(err, DG_EINTERNAL, "the notice could not be serialised");
		goto out;
	}
	rc = notify_post(&c, id, body, &status, err);
	const char *delivery = !rc ? "delivered" : last_attempt(job) ? "failed" : "queued";
	dg_rc wrc = record(job, id, delivery, status, rc ? err->msg : NULL);
	if (wrc && !rc)
		rc = dg_err_set(err, wrc, "delivered, but the outcome could not be recorded");
out:
	sodium_memzero(c.secret, sizeof(c.secret));
	free(body);
	message_release(&m);
	return rc;
}
