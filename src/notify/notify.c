/*
 * notify.c - the inbox: its table, putting a message in a user's inbox (and
 * queueing its webhook delivery in the same transaction), the unread count,
 * the webhook settings, and filling a message template's placeholders.
 *
 * A message is stored as its kind and parameters, never as finished text:
 * it is rendered when read, in the reader's language, from the catalogue
 * (templates/i18n/notify.<lang>.json, "notify.<kind>.title" / ".body"). The
 * list of kinds below is the contract with that catalogue; test_notify.c
 * checks that the two agree both ways.
 */
#include "notify/notify.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/keys.h"
#include "core/log.h"
#include "node/demo.h"
#include "http/req.h"
#include "notify/internal.h"

#define SECRET_MIN 16 /* bytes of a webhook secret: shorter keys are guessable */

const struct dg_migration dg_notify_migrations[] = {
	{"notify-001-messages",
	 "CREATE TABLE notify_messages ("
	 " id {{pk}},"
	 " user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	 " kind TEXT NOT NULL,"
	 " params TEXT NOT NULL DEFAULT '{}',"
	 " link TEXT,"
	 " created_ms BIGINT NOT NULL,"
	 " read_ms BIGINT,"
	 " delivery TEXT NOT NULL DEFAULT 'none'"
	 "  CHECK (delivery IN ('none', 'queued', 'delivered', 'failed')),"
	 " attempts INTEGER NOT NULL DEFAULT 0,"
	 " last_status INTEGER NOT NULL DEFAULT 0,"
	 " last_error TEXT,"
	 " delivered_ms BIGINT);"
	 "CREATE INDEX notify_messages_user ON notify_messages(user_id, id);"
	 "CREATE INDEX notify_messages_unread ON notify_messages(user_id, read_ms)"},
	{NULL, NULL},
};

/* Every kind a message may have; each has a title and a body in both catalogues. */
static const char *const kinds[] = {
	"case.submitted", "case.accepted",    "case.refused",    "case.supplement",
	"case.resumed",   "case.approved",    "case.denied",     "case.transferred",
	"case.withdrawn", "case.due_soon",    "cert.issued",     "cert.revoked",
	"rating.replied", "rectify.assigned", "policy.eligible", "case.supplied",
	"policy.granted", "policy.revoked",
};

const char *const *dg_notify_kinds(size_t *n)
{
	*n = sizeof(kinds) / sizeof(kinds[0]);
	return kinds;
}

bool notify_kind_known(const char *kind)
{
	for (size_t i = 0; kind && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i], kind) == 0)
			return true;
	return false;
}

/* ---- sealed parameters ---- */

/*
 * A copy of the node's sealing key (only that one), not a pointer: a test
 * process may open and close several nodes, and a closed node's keys are
 * wiped and freed. The last node opened is the one whose key is used.
 */
static pthread_mutex_t keys_mu = PTHREAD_MUTEX_INITIALIZER;
static struct dg_keys seal_copy;
static bool have_keys;

void notify_set_keys(const struct dg_keys *k)
{
	pthread_mutex_lock(&keys_mu);
	memcpy(seal_copy.seal, k->seal, sizeof(seal_copy.seal));
	have_keys = true;
	pthread_mutex_unlock(&keys_mu);
}

/* The sealing key into *k; false before start-up set one. */
static bool keys_get(struct dg_keys *k)
{
	pthread_mutex_lock(&keys_mu);
	bool ok = have_keys;
	if (ok)
		*k = seal_copy;
	pthread_mutex_unlock(&keys_mu);
	return ok;
}

/* text sealed into a malloc'd string (the caller frees both); NULL without keys. */
static char *seal(const char *text)
{
	struct dg_keys k;
	if (!keys_get(&k))
		return NULL;
	struct dg_arena *a = dg_arena_new();
	char *out = strdup(dg_pii_seal(&k, a, text));
	dg_arena_free(a);
	sodium_memzero(&k, sizeof(k));
	return out;
}

json_t *notify_open_params(const char *stored)
{
	struct dg_keys k;
	bool have = keys_get(&k);
	struct dg_arena *a = dg_arena_new();
	char *plain = NULL;
	json_t *v = NULL;
	if (have && stored && dg_pii_open(&k, a, stored, &plain) == DG_OK)
		v = json_loads(plain, 0, NULL);
	else if (stored && stored[0] == '{')
		v = json_loads(stored, 0, NULL); /* stored before parameters were sealed */
	dg_arena_free(a);
	sodium_memzero(&k, sizeof(k));
	if (!json_is_object(v)) {
		json_decref(v);
		v = json_object();
	}
	return v;
}

/* ---- the webhook settings ---- */

static pthread_mutex_t conf_mu = PTHREAD_MUTEX_INITIALIZER;
static struct notify_conf conf;

dg_rc dg_notify_configure(const char *url, const char *secret, const struct dg_i18n *i18n,
			  struct dg_err *err)
{
	bool on = url && *url;
	if (on && strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return dg_err_set(err, DG_EINVAL,
				  "webhook URL must start with http:// or https://");
	if (on && strlen(url) >= sizeof(conf.url))
		return dg_err_set(err, DG_EINVAL, "webhook URL is too long");
	if (on && (!secret || strlen(secret) < SECRET_MIN || strlen(secret) >= sizeof(conf.secret)))
		return dg_err_set(err, DG_EINVAL,
				  "a webhook needs a secret of %d to %zu bytes (--webhook-secret or"
				  " DGOV_WEBHOOK_SECRET)",
				  SECRET_MIN, sizeof(conf.secret) - 1);
	pthread_mutex_lock(&conf_mu);
	sodium_memzero(conf.secret, sizeof(conf.secret));
	snprintf(conf.url, sizeof(conf.url), "%s", on ? url : "");
	snprintf(conf.secret, sizeof(conf.secret), "%s", on ? secret : "");
	conf.i18n = i18n;
	pthread_mutex_unlock(&conf_mu);
	return DG_OK;
}

void notify_conf_get(struct notify_conf *c)
{
	pthread_mutex_lock(&conf_mu);
	*c = conf;
	pthread_mutex_unlock(&conf_mu);
}

static bool webhook_on(void)
{
	pthread_mutex_lock(&conf_mu);
	bool on = conf.url[0] != 0;
	pthread_mutex_unlock(&conf_mu);
	return on;
}

/* ---- filling placeholders ---- */

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* The length of the placeholder name at s (after a '{') when "name}" follows, else 0. */
static size_t placeholder(const char *s)
{
	size_t n = 0;
	while (n <= DG_NOTIFY_NAME_MAX && name_char(s[n]))
		n++;
	return n > 0 && n <= DG_NOTIFY_NAME_MAX && s[n] == '}' ? n : 0;
}

static dg_rc add_value(struct dg_buf *out, const json_t *v)
{
	if (json_is_string(v))
		return dg_buf_add(out, json_string_value(v), json_string_length(v));
	if (json_is_integer(v))
		return dg_buf_addf(out, "%lld", (long long)json_integer_value(v));
	return DG_OK;
}

dg_rc dg_notify_fill(const char *tmpl, const json_t *params, const char *lang, struct dg_buf *out)
{
	dg_rc rc = DG_OK;
	const char *s = tmpl ? tmpl : "";
	while (!rc && *s) {
		const char *o = strchr(s, '{');
		size_t n = o ? placeholder(o + 1) : 0;
		if (!o || !n) {
			size_t upto = o ? (size_t)(o - s) + 1 : strlen(s);
			rc = dg_buf_add(out, s, upto);
			s += upto;
			continue;
		}
		rc = dg_buf_add(out, s, (size_t)(o - s));
		char name[DG_NOTIFY_NAME_MAX + 8];
		memcpy(name, o + 1, n);
		name[n] = 0;
		const json_t *v = NULL;
		if (lang && strlen(lang) < 4) {
			char local[sizeof(name) + 8];
			snprintf(local, sizeof(local), "%s_%s", name, lang);
			v = json_object_get(params, local);
		}
		if (!v)
			v = json_object_get(params, name);
		if (!rc)
			rc = add_value(out, v);
		s = o + 1 + n + 1;
	}
	return rc;
}

/* ---- putting a message in an inbox ---- */

/* params: an object of at most DG_NOTIFY_PARAMS_MAX bytes, names as placeholders take them. */
static dg_rc check_params(const json_t *params, char **text, struct dg_err *err)
{
	const char *key;
	json_t *v;
	*text = NULL;
	if (!params)
		return DG_OK;
	if (!json_is_object(params))
		return dg_err_set(err, DG_EINVAL, "notice parameters must be a JSON object");
	json_object_foreach ((json_t *)params, key, v) {
		size_t n = strlen(key);
		bool ok = n > 0 && n <= DG_NOTIFY_NAME_MAX;
		for (size_t i = 0; ok && i < n; i++)
			ok = name_char(key[i]);
		if (!ok)
			return dg_err_set(err, DG_EINVAL, "notice parameter name is not valid");
		if (!json_is_string(v) && !json_is_integer(v))
			return dg_err_set(err, DG_EINVAL,
					  "notice parameter %s must be text or a number", key);
	}
	*text = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS);
	if (!*text || strlen(*text) > DG_NOTIFY_PARAMS_MAX) {
		free(*text);
		*text = NULL;
		return dg_err_set(err, DG_EINVAL, "notice parameters are over %d bytes",
				  DG_NOTIFY_PARAMS_MAX);
	}
	return DG_OK;
}

/* A link is a path on this site: the inbox shows it as a link, so nothing else may pass. */
static dg_rc check_link(const char *link, struct dg_err *err)
{
	if (!link || !*link)
		return DG_OK;
	if (strlen(link) > DG_NOTIFY_LINK_MAX || !dg_is_local_path(link))
		return dg_err_set(err, DG_EINVAL, "a notice's link must be a path on this site");
	for (const unsigned char *p = (const unsigned char *)link; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return dg_err_set(err, DG_EINVAL,
					  "a notice's link must be a path on this site");
	return DG_OK;
}

dg_rc dg_notify(struct dg_db *db, int64_t user_id, const char *kind, json_t *params,
		const char *link, struct dg_err *err)
{
	char *text = NULL, key[64];
	int64_t id = 0, job = 0, found = 0;
	bool hook = webhook_on();
	if (!notify_kind_known(kind))
		return dg_err_set(err, DG_EINVAL, "unknown notice kind %.64s", kind ? kind : "");
	dg_rc rc = check_link(link, err);
	if (!rc)
		rc = check_params(params, &text, err);
	if (rc)
		goto out;
	if (text) {
		char *sealed = seal(text);
		if (sealed) {
			free(text);
			text = sealed;
		}
	}
	rc = dg_db_query_int(db, "SELECT id FROM users WHERE id = ?", DG_ARGS(DG_VI(user_id)),
			     &found);
	if (rc == DG_ENOTFOUND) {
		rc = dg_err_set(err, DG_EINVAL, "no user %lld to notify", (long long)user_id);
		goto out;
	}
	if (rc)
		goto out;
	rc = dg_db_query_int(db,
			     "INSERT INTO notify_messages (user_id, kind, params, link, created_ms,"
			     " delivery) VALUES (?, ?, ?, ?, {{now_ms}}, ?) RETURNING id",
			     DG_ARGS(DG_VI(user_id), DG_VT(kind), DG_VT(text ? text : "{}"),
				     DG_VT(link && *link ? link : NULL),
				     DG_VT(hook ? "queued" : "none")),
			     &id);
	if (rc || !hook)
		goto out;
	/* one delivery per message, however often a retried caller queues it */
	snprintf(key, sizeof(key), "notify.webhook:%lld", (long long)id);
	json_t *payload = json_pack("{s:I}", "message", (json_int_t)id);
	rc = dg_job_enqueue(db, NOTIFY_JOB, payload, 0, key, &job);
	json_decref(payload);
out:
	if (rc && rc != DG_EINVAL)
		dg_err_set(err, rc, "the notice could not be stored");
	free(text);
	return rc;
}

dg_rc dg_notify_unread(struct dg_db *db, int64_t user_id, int64_t *n)
{
	return dg_db_query_int(db,
			       "SELECT COUNT(*) FROM notify_messages"
			       " WHERE user_id = ? AND read_ms IS NULL",
			       DG_ARGS(DG_VI(user_id)), n);
}

/* ---- the demo region ---- */

dg_rc dg_notify_demo_seed(struct dg_env *env, struct dg_db *db, const struct dg_demo_opts *o,
			  struct dg_err *err)
{
	(void)env;
	(void)o;
	static const struct {
		const char *kind, *params, *link;
		bool read;
	} msgs[] = {
		{"case.submitted",
		 "{\"ref\":\"R2026-000101\",\"service\":\"结婚登记\","
		 "\"service_en\":\"marriage registration\"}",
		 "/services", true},
		{"case.supplement",
		 "{\"ref\":\"R2026-000101\",\"service\":\"结婚登记\","
		 "\"service_en\":\"marriage registration\",\"materials\":\"户口簿原件照片\","
		 "\"materials_en\":\"a photo of the household register\",\"due\":\"2026-03-20\"}",
		 "/services", false},
		{"policy.eligible",
		 "{\"policy\":\"高龄津贴\",\"policy_en\":\"the old-age allowance\"}", "/policies",
		 false},
	};
	int64_t uid = 0;
	dg_rc rc = dg_db_query_int(db, "SELECT id FROM users WHERE username = ?",
				   DG_ARGS(DG_VT(DG_DEMO_CITIZEN)), &uid);
	for (size_t i = 0; !rc && i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		json_t *p = json_loads(msgs[i].params, 0, NULL);
		rc = dg_notify(db, uid, msgs[i].kind, p, msgs[i].link, err);
		json_decref(p);
		if (!rc && msgs[i].read)
			rc = dg_db_exec(db,
					"UPDATE notify_messages SET read_ms = {{now_ms}}"
					" WHERE id = (SELECT MAX(id) FROM notify_messages)",
					DG_NOARGS, NULL);
	}
	if (rc)
		dg_err_set(err, rc, "the demo inbox could not be filled");
	return rc;
}
