/*
 * test_notify.c - the inbox and its webhook, through the real server (with
 * one job worker) on the store DGOV_TEST_DB selects.
 *
 * The inbox: a message reaches its user's /inbox, /inbox/{id} and
 * /api/v1/inbox and no one else's (404 for another user, even to mark it
 * read); opening it marks it read; unknown kinds, users, links and params
 * are EINVAL with nothing stored; placeholders filled with markup stay text;
 * the list of kinds and the catalogues agree both ways.
 *
 * The webhook: a receiver is started here (libmicrohttpd on an ephemeral
 * loopback port) answering from a script of statuses. A delivery carries the
 * documented JSON and an HMAC-SHA256 signature that is checked here; a 500
 * then a 200 ends delivered after a retry (the jobs module's backoff is
 * shortened for the test); a receiver that keeps failing ends with the
 * message marked failed after the last attempt; without a webhook no job is
 * queued; a caller's rollback takes the message and its job away together.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <time.h>

#include "app/app.h"
#include "core/config.h"
#include "node/demo.h"
#include "harness.h"
#include "jobs/internal.h"
#include "notify/internal.h"
#include "notify/notify.h"
#include "store/store.h"
#include "web/i18n.h"

#define SECRET   "a-test-secret-of-some-length"
#define ATTEMPTS 3

static struct th_srv *srv;

/* ---- the webhook receiver ---- */

#define SCRIPT_MAX 8
#define SEEN_MAX   16

struct seen {
	char *body;
	char sig[128];
	char delivery[32];
	char ctype[64];
};

static struct {
	pthread_mutex_t mu;
	struct MHD_Daemon *d;
	unsigned port;
	unsigned script[SCRIPT_MAX]; /* statuses to answer in turn; then 200 */
	size_t nscript, next;
	struct seen seen[SEEN_MAX];
	size_t nseen;
} rx = {.mu = PTHREAD_MUTEX_INITIALIZER};

struct upload {
	char *p;
	size_t n;
};

static void copy_header(struct MHD_Connection *c, const char *name, char *out, size_t n)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
	snprintf(out, n, "%s", v ? v : "");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *size, void **con_cls)
{
	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	struct upload *u = *con_cls;
	if (!u) {
		*con_cls = calloc(1, sizeof(*u));
		return MHD_YES;
	}
	if (*size) {
		u->p = realloc(u->p, u->n + *size + 1);
		memcpy(u->p + u->n, data, *size);
		u->n += *size;
		u->p[u->n] = 0;
		*size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&rx.mu);
	unsigned status = rx.next < rx.nscript ? rx.script[rx.next] : 200;
	rx.next++;
	if (rx.nseen < SEEN_MAX) {
		struct seen *s = &rx.seen[rx.nseen++];
		s->body = u->p ? strdup(u->p) : strdup("");
		copy_header(c, "X-Dgov-Signature", s->sig, sizeof(s->sig));
		copy_header(c, "X-Dgov-Delivery", s->delivery, sizeof(s->delivery));
		copy_header(c, "Content-Type", s->ctype, sizeof(s->ctype));
	}
	pthread_mutex_unlock(&rx.mu);
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
		    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	struct upload *u = *con_cls;
	if (u) {
		free(u->p);
		free(u);
	}
	*con_cls = NULL;
}

static void rx_start(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	rx.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, NULL,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a,
				MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_END);
	assert_non_null(rx.d);
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(rx.d, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	rx.port = info->port;
}

/* Forget what was seen and answer the given statuses next (0-terminated). */
static void rx_reset(const unsigned *script)
{
	pthread_mutex_lock(&rx.mu);
	for (size_t i = 0; i < rx.nseen; i++)
		free(rx.seen[i].body);
	memset(rx.seen, 0, sizeof(rx.seen));
	rx.nseen = rx.next = rx.nscript = 0;
	for (; script && *script && rx.nscript < SCRIPT_MAX; script++)
		rx.script[rx.nscript++] = *script;
	pthread_mutex_unlock(&rx.mu);
}

static size_t rx_count(void)
{
	pthread_mutex_lock(&rx.mu);
	size_t n = rx.nseen;
	pthread_mutex_unlock(&rx.mu);
	return n;
}

static void hook_on(void)
{
	char url[64];
	struct dg_err err = {0};
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook", rx.port);
	assert_int_equal(dg_notify_configure(url, SECRET, th_app(srv)->env.i18n, &err), DG_OK);
}

static void hook_off(void)
{
	struct dg_err err = {0};
	assert_int_equal(dg_notify_configure(NULL, NULL, th_app(srv)->env.i18n, &err), DG_OK);
}

/* ---- fixtures ---- */

static int setup(void **state)
{
	(void)state;
	/* retries come quickly, and give up after ATTEMPTS */
	dg_jobs_backoff_unit_ms = 5;
	struct th_opts o = {.demo = true, .job_workers = 1, .job_lease_sec = 30};
	srv = th_start_opts(&o);
	dg_jobs_set_attempts("notify.webhook", ATTEMPTS);
	rx_start();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_stop(srv);
	MHD_stop_daemon(rx.d);
	rx_reset(NULL);
	return 0;
}

static struct dg_db *db_get(void)
{
	struct dg_db *db = NULL;
	assert_int_equal(dg_db_get(th_app(srv)->env.store, &db), DG_OK);
	return db;
}

static int64_t user_id(const char *username)
{
	struct dg_db *db = db_get();
	int64_t id = 0;
	assert_int_equal(dg_db_query_int(db, "SELECT id FROM users WHERE username = ?",
					 DG_ARGS(DG_VT(username)), &id),
			 DG_OK);
	dg_db_put(db);
	return id;
}

static int64_t count(const char *sql)
{
	struct dg_db *db = db_get();
	int64_t n = 0;
	assert_int_equal(dg_db_query_int(db, sql, DG_NOARGS, &n), DG_OK);
	dg_db_put(db);
	return n;
}

static int64_t last_message(void)
{
	return count("SELECT MAX(id) FROM notify_messages");
}

/* dg_notify in its own transaction; params as JSON text (NULL for none). */
static dg_rc notify(int64_t uid, const char *kind, const char *params, const char *link,
		    struct dg_err *err)
{
	struct dg_db *db = db_get();
	json_t *p = params ? json_loads(params, 0, NULL) : NULL;
	if (params)
		assert_non_null(p);
	assert_int_equal(dg_db_begin(db), DG_OK);
	dg_rc rc = dg_notify(db, uid, kind, p, link, err);
	if (rc)
		dg_db_rollback(db);
	else
		assert_int_equal(dg_db_commit(db), DG_OK);
	json_decref(p);
	dg_db_put(db);
	return rc;
}

static struct th_client *as(const char *user)
{
	struct th_client *c = th_client_new(srv);
	if (user)
		assert_true(th_login(c, user, DG_DEMO_PASSWORD));
	return c;
}

static char *get_body(struct th_client *c, const char *path, long want)
{
	struct th_resp r = {0};
	long st = th_get(c, path, &r);
	if (st != want)
		fprintf(stderr, "GET %s: %ld, wanted %ld\n", path, st, want);
	assert_int_equal(st, want);
	char *b = r.body;
	r.body = NULL;
	th_resp_release(&r);
	return b;
}

static json_t *get_json(struct th_client *c, const char *path)
{
	char *b = get_body(c, path, 200);
	json_t *j = json_loads(b, 0, NULL);
	assert_non_null(j);
	free(b);
	return j;
}

/* The API's item with this id, or NULL (borrowed from list). */
static json_t *find_item(json_t *list, int64_t id)
{
	json_t *it;
	size_t i;
	json_array_foreach (json_object_get(list, "items"), i, it)
		if (json_integer_value(json_object_get(it, "id")) == id)
			return it;
	return NULL;
}

/* ---- the inbox ---- */

static void kinds_match_catalogues(void **state)
{
	(void)state;
	size_t n = 0;
	const char *const *kinds = dg_notify_kinds(&n);
	const struct dg_i18n *i18n = th_app(srv)->env.i18n;
	static const char *const required[] = {
		"case.submitted", "case.accepted",   "case.refused", "case.supplement",
		"case.resumed",   "case.approved",   "case.denied",  "case.transferred",
		"case.withdrawn", "case.due_soon",   "cert.issued",  "cert.revoked",
		"rating.replied", "rectify.assigned"};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		bool found = false;
		for (size_t k = 0; k < n; k++)
			found |= strcmp(kinds[k], required[i]) == 0;
		if (!found)
			fail_msg("kind %s is missing", required[i]);
	}
	/* every kind has a title and a body in both languages */
	for (size_t k = 0; k < n; k++) {
		static const char *const parts[] = {"title", "body"}, *const langs[] = {"zh", "en"};
		for (size_t p = 0; p < 2; p++)
			for (size_t l = 0; l < 2; l++) {
				char key[128];
				snprintf(key, sizeof(key), "notify.%s.%s", kinds[k], parts[p]);
				if (!dg_i18n_find(i18n, langs[l], key))
					fail_msg("%s is missing in %s", key, langs[l]);
			}
	}
	/* and every title or body in the catalogue files is a known kind's */
	const char *root = getenv("DGOV_ROOT");
	for (size_t l = 0; l < 2; l++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/templates/i18n/notify.%s.json",
			 root && *root ? root : ".", l ? "en" : "zh");
		json_t *cat = json_load_file(path, 0, NULL);
		assert_non_null(cat);
		const char *key;
		json_t *v;
		json_object_foreach (cat, key, v) {
			size_t len = strlen(key);
			size_t tail = len > 6 && strcmp(key + len - 6, ".title") == 0  ? 6
				      : len > 5 && strcmp(key + len - 5, ".body") == 0 ? 5
										       : 0;
			if (!tail)
				continue;
			char kind[128];
			snprintf(kind, sizeof(kind), "%.*s", (int)(len - tail - 7), key + 7);
			assert_true(strncmp(key, "notify.", 7) == 0);
			if (!notify_kind_known(kind))
				fail_msg("%s: %s names no known kind", path, key);
		}
		json_decref(cat);
	}
}

/* Start a test with an empty inbox for uid (the demo's cases leave messages in every resident's).
 */
static void clear_inbox(int64_t uid)
{
	struct dg_db *db = db_get();
	assert_int_equal(dg_db_exec(db, "DELETE FROM notify_messages WHERE user_id = ?",
				    DG_ARGS(DG_VI(uid)), NULL),
			 DG_OK);
	dg_db_put(db);
}

static void inbox_own_only(void **state)
{
	(void)state;
	hook_off();
	struct dg_err err = {0};
	int64_t lisi = user_id(DG_DEMO_CITIZEN2);
	clear_inbox(lisi);
	assert_int_equal(notify(lisi, "case.accepted",
				"{\"ref\":\"R2026-TEST-1\",\"service\":\"结婚登记\","
				"\"service_en\":\"Marriage registration\",\"due\":\"2026-10-12\"}",
				"/services/990100-MZ-001", &err),
			 DG_OK);
	int64_t id = last_message();
	char path[64], form[160];

	struct th_client *owner = as(DG_DEMO_CITIZEN2), *other = as(DG_DEMO_CITIZEN);
	/* the list: newest first, unread said in words */
	char *b = get_body(owner, "/inbox", 200);
	assert_non_null(strstr(b, "您的申请 R2026-TEST-1 已受理"));
	assert_non_null(strstr(b, "未读"));
	free(b);
	json_t *j = get_json(owner, "/api/v1/inbox?unread=1");
	json_t *it = find_item(j, id);
	assert_non_null(it);
	assert_false(json_is_true(json_object_get(it, "read")));
	assert_string_equal(json_string_value(json_object_get(it, "kind")), "case.accepted");
	assert_string_equal(json_string_value(json_object_get(it, "link")),
			    "/services/990100-MZ-001");
	/* newest first */
	json_t *first = json_array_get(json_object_get(j, "items"), 0);
	assert_int_equal(json_integer_value(json_object_get(first, "id")), id);
	json_decref(j);
	int64_t unread = 0;
	struct dg_db *db = db_get();
	assert_int_equal(dg_notify_unread(db, lisi, &unread), DG_OK);
	dg_db_put(db);
	assert_int_equal(unread, 1);

	/* another user: not in their list, 404 on the page and on marking it read */
	j = get_json(other, "/api/v1/inbox");
	assert_null(find_item(j, id));
	json_decref(j);
	snprintf(path, sizeof(path), "/inbox/%lld", (long long)id);
	free(get_body(other, path, 404));
	char *csrf = th_csrf(other, "/inbox");
	snprintf(form, sizeof(form), "csrf=%s", csrf);
	snprintf(path, sizeof(path), "/inbox/%lld/read", (long long)id);
	assert_int_equal(th_post_form(other, path, form, NULL), 404);
	free(csrf);
	char unread_sql[128];
	snprintf(unread_sql, sizeof(unread_sql),
		 "SELECT COUNT(*) FROM notify_messages WHERE read_ms IS NOT NULL AND id = %lld",
		 (long long)id);
	assert_int_equal(count(unread_sql), 0);

	/* the owner opens it, in English: rendered in the reader's language, now read */
	const char *const en[] = {"Accept-Language: en", NULL};
	struct th_resp r = {0};
	snprintf(path, sizeof(path), "/inbox/%lld", (long long)id);
	assert_int_equal(th_request(owner, "GET", path, NULL, NULL, 0, en, &r), 200);
	assert_non_null(strstr(r.body, "Your application R2026-TEST-1 has been accepted"));
	assert_non_null(strstr(r.body, "Your application for &quot;Marriage registration&quot;"));
	assert_non_null(strstr(r.body, "href=\"/services/990100-MZ-001\""));
	th_resp_release(&r);
	j = get_json(owner, "/api/v1/inbox?unread=1");
	assert_null(find_item(j, id));
	json_decref(j);
	j = get_json(owner, "/api/v1/inbox");
	assert_true(json_is_true(json_object_get(find_item(j, id), "read")));
	json_decref(j);

	/* marking read by the form (no script needed) */
	assert_int_equal(notify(lisi, "case.withdrawn", "{\"ref\":\"R2026-TEST-2\"}", NULL, &err),
			 DG_OK);
	int64_t id2 = last_message();
	csrf = th_csrf(owner, "/inbox");
	snprintf(form, sizeof(form), "csrf=%s", csrf);
	snprintf(path, sizeof(path), "/inbox/%lld/read", (long long)id2);
	assert_int_equal(th_post_form(owner, path, form, NULL), 303);
	assert_int_equal(th_post_form(owner, path, "csrf=wrong", NULL), 403);
	free(csrf);
	j = get_json(owner, "/api/v1/inbox");
	assert_true(json_is_true(json_object_get(find_item(j, id2), "read")));
	json_decref(j);
	free(get_body(owner, "/inbox/999999999", 404));
	free(get_body(owner, "/inbox/abc", 404));
	free(get_body(owner, "/inbox?page=0", 400));
	free(get_body(owner, "/api/v1/inbox?page=x", 400));

	/* anonymous visitors sign in first; the API says 401 */
	struct th_client *anon = as(NULL);
	assert_int_equal(th_get(anon, "/inbox", NULL), 303);
	assert_int_equal(th_get(anon, "/api/v1/inbox", NULL), 401);
	th_client_free(anon);
	th_client_free(owner);
	th_client_free(other);
}

static void paging(void **state)
{
	(void)state;
	hook_off();
	struct dg_err err = {0};
	int64_t uid = user_id("zhaoliu");
	clear_inbox(uid);
	for (int i = 0; i < 23; i++) {
		char p[64];
		snprintf(p, sizeof(p), "{\"ref\":\"R-PAGE-%02d\"}", i);
		assert_int_equal(notify(uid, "case.submitted", p, NULL, &err), DG_OK);
	}
	struct th_client *c = as("zhaoliu");
	json_t *j = get_json(c, "/api/v1/inbox");
	assert_int_equal(json_integer_value(json_object_get(j, "total")), 23);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 20);
	/* newest first */
	assert_non_null(strstr(json_string_value(json_object_get(
				       json_array_get(json_object_get(j, "items"), 0), "title")),
			       "R-PAGE-22"));
	json_decref(j);
	j = get_json(c, "/api/v1/inbox?page=2");
	assert_int_equal(json_array_size(json_object_get(j, "items")), 3);
	json_decref(j);
	char *b = get_body(c, "/inbox?page=2", 200);
	assert_non_null(strstr(b, "<span class=\"visually-hidden\">第 </span>2<span "
				  "class=\"visually-hidden\"> 页（当前页）"));
	assert_non_null(strstr(b, "href=\"/inbox\" rel=\"prev\""));
	free(b);
	th_client_free(c);
}

static void bad_input_stores_nothing(void **state)
{
	(void)state;
	hook_on();
	struct dg_err err = {0};
	int64_t uid = user_id(DG_DEMO_CITIZEN);
	int64_t msgs = count("SELECT COUNT(*) FROM notify_messages");
	int64_t jobs = count("SELECT COUNT(*) FROM jobs");
	assert_int_equal(notify(uid, "case.nonsense", NULL, NULL, &err), DG_EINVAL);
	assert_non_null(strstr(err.msg, "unknown"));
	assert_int_equal(notify(uid, "", NULL, NULL, &err), DG_EINVAL);
	assert_int_equal(notify(uid, "notify.case.accepted", NULL, NULL, &err), DG_EINVAL);
	assert_int_equal(notify(987654321, "case.accepted", NULL, NULL, &err), DG_EINVAL);
	assert_int_equal(notify(uid, "case.accepted", NULL, "https://evil.example/", &err),
			 DG_EINVAL);
	assert_int_equal(notify(uid, "case.accepted", NULL, "//evil.example/", &err), DG_EINVAL);
	assert_int_equal(notify(uid, "case.accepted", NULL, "javascript:alert(1)", &err),
			 DG_EINVAL);
	assert_int_equal(notify(uid, "case.accepted", NULL, "/a b", &err), DG_EINVAL);
	assert_int_equal(notify(uid, "case.accepted", "[1]", NULL, &err), DG_EINVAL);
	assert_int_equal(notify(uid, "case.accepted", "{\"ref\":{\"x\":1}}", NULL, &err),
			 DG_EINVAL);
	assert_int_equal(notify(uid, "case.accepted", "{\"ref\":1.5}", NULL, &err), DG_EINVAL);
	assert_int_equal(notify(uid, "case.accepted", "{\"a b\":\"x\"}", NULL, &err), DG_EINVAL);
	char *big = malloc(DG_NOTIFY_PARAMS_MAX + 64);
	memset(big, 'x', DG_NOTIFY_PARAMS_MAX + 63);
	memcpy(big, "{\"ref\":\"", 8);
	memcpy(big + DG_NOTIFY_PARAMS_MAX + 60, "\"}", 3);
	assert_int_equal(notify(uid, "case.accepted", big, NULL, &err), DG_EINVAL);
	free(big);
	char *link = malloc(DG_NOTIFY_LINK_MAX + 2);
	memset(link, 'a', DG_NOTIFY_LINK_MAX + 1);
	link[0] = '/';
	link[DG_NOTIFY_LINK_MAX + 1] = 0;
	assert_int_equal(notify(uid, "case.accepted", NULL, link, &err), DG_EINVAL);
	free(link);
	assert_int_equal(count("SELECT COUNT(*) FROM notify_messages"), msgs);
	assert_int_equal(count("SELECT COUNT(*) FROM jobs"), jobs);
	hook_off();
}

static void placeholders_stay_text(void **state)
{
	(void)state;
	hook_off();
	struct dg_err err = {0};
	int64_t uid = user_id("sunqi");
	assert_int_equal(notify(uid, "case.refused",
				"{\"ref\":\"<script>alert(1)</script>\",\"service\":\"{reason}\","
				"\"reason\":\"<img src=x onerror=alert(2)> & \\\"q\\\"\"}",
				NULL, &err),
			 DG_OK);
	int64_t id = last_message();
	struct th_client *c = as("sunqi");
	char *b = get_body(c, "/inbox", 200);
	assert_null(strstr(b, "<script>alert"));
	assert_non_null(strstr(b, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	free(b);
	char path[64];
	snprintf(path, sizeof(path), "/inbox/%lld", (long long)id);
	b = get_body(c, path, 200);
	assert_null(strstr(b, "<img src=x"));
	assert_non_null(strstr(b, "&lt;img src=x onerror=alert(2)&gt; &amp; &quot;q&quot;"));
	/* a value is not a template: "{reason}" given as the service name prints as it is */
	assert_non_null(strstr(b, "“{reason}”"));
	free(b);
	/* the JSON carries the text as data */
	json_t *j = get_json(c, "/api/v1/inbox");
	assert_string_equal(json_string_value(json_object_get(find_item(j, id), "title")),
			    "您的申请 <script>alert(1)</script> 未予受理");
	json_decref(j);
	th_client_free(c);
}

static void fill_rules(void **state)
{
	(void)state;
	struct dg_buf b;
	json_t *p = json_pack("{s:s, s:s, s:I, s:b}", "a", "甲", "a_en", "A", "n", (json_int_t)42,
			      "t", 1);
	struct {
		const char *tmpl, *lang, *want;
	} cases[] = {
		{"{a}-{n}", "zh", "甲-42"},
		{"{a}-{n}", "en", "A-42"},
		{"{missing}|{t}|", "zh", "||"},
		{"{ {a-b} {} {a", "zh", "{ {a-b} {} {a"},
		{"{{a}}", "zh", "{甲}"},
		{"no placeholders", "zh", "no placeholders"},
		{"", "zh", ""},
		{"{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}", "zh",
		 "{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dg_buf_init(&b, 1024);
		assert_int_equal(dg_notify_fill(cases[i].tmpl, p, cases[i].lang, &b), DG_OK);
		assert_string_equal(dg_buf_str(&b), cases[i].want);
		dg_buf_release(&b);
	}
	dg_buf_init(&b, 4);
	assert_int_equal(dg_notify_fill("{a}{a}{a}", p, "zh", &b), DG_ETOOBIG);
	dg_buf_release(&b);
	json_decref(p);
}

/* ---- the webhook ---- */

/* Wait (up to 20 s) until the message's delivery is want; returns the row's attempts. */
static int64_t wait_delivery(int64_t id, const char *want)
{
	char sql[160];
	snprintf(sql, sizeof(sql),
		 "SELECT attempts FROM notify_messages WHERE id = %lld AND delivery = '%s'",
		 (long long)id, want);
	for (int i = 0; i < 2000; i++) {
		struct dg_db *db = db_get();
		int64_t n = 0;
		dg_rc rc = dg_db_query_int(db, sql, DG_NOARGS, &n);
		dg_db_put(db);
		if (rc == DG_OK)
			return n;
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
	fail_msg("message %lld never became %s", (long long)id, want);
	return -1;
}

/*
 * Wait (up to 20 s) until the query counts want: the job's own state is
 * written by the runner just after the handler has recorded the message.
 */
static void wait_count(const char *sql, int64_t want)
{
	for (int i = 0; i < 2000; i++) {
		if (count(sql) == want)
			return;
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
	fail_msg("%s never counted %lld", sql, (long long)want);
}

static void check_signature(const struct seen *s)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char hex[2 * sizeof(mac) + 1], want[80];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)SECRET, strlen(SECRET));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)s->body, strlen(s->body));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	snprintf(want, sizeof(want), "sha256=%s", hex);
	assert_string_equal(s->sig, want);
}

static void webhook_delivers_signed(void **state)
{
	(void)state;
	rx_reset(NULL);
	hook_on();
	struct dg_err err = {0};
	int64_t uid = user_id(DG_DEMO_CITIZEN);
	assert_int_equal(notify(uid, "cert.issued",
				"{\"cert\":\"结婚证\",\"cert_en\":\"marriage certificate\","
				"\"number\":\"C-0001\"}",
				"/my/certs/1", &err),
			 DG_OK);
	int64_t id = last_message();
	assert_int_equal(wait_delivery(id, "delivered"), 1);
	assert_int_equal(rx_count(), 1);
	struct seen *s = &rx.seen[0];
	check_signature(s);
	char idtext[32];
	snprintf(idtext, sizeof(idtext), "%lld", (long long)id);
	assert_string_equal(s->delivery, idtext);
	assert_non_null(strstr(s->ctype, "application/json"));
	json_t *j = json_loads(s->body, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "id")), id);
	assert_int_equal(json_integer_value(json_object_get(j, "user")), uid);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "cert.issued");
	assert_string_equal(json_string_value(json_object_get(j, "title_zh")),
			    "您的电子证照“结婚证”已签发");
	assert_string_equal(json_string_value(json_object_get(j, "title_en")),
			    "Your e-certificate \"marriage certificate\" has been issued");
	assert_non_null(strstr(json_string_value(json_object_get(j, "body_zh")), "C-0001"));
	assert_non_null(strstr(json_string_value(json_object_get(j, "body_en")), "C-0001"));
	assert_string_equal(json_string_value(json_object_get(j, "link")), "/my/certs/1");
	const char *at = json_string_value(json_object_get(j, "created_at"));
	assert_non_null(at);
	assert_int_equal(strlen(at), 24); /* 2026-10-01T08:30:00.000Z */
	assert_int_equal(at[10], 'T');
	assert_int_equal(at[23], 'Z');
	json_decref(j);
	/* the outcome is on the message */
	assert_int_equal(count("SELECT last_status FROM notify_messages WHERE id = (SELECT MAX(id)"
			       " FROM notify_messages)"),
			 200);
	assert_int_equal(count("SELECT COUNT(*) FROM notify_messages WHERE delivered_ms IS NOT NULL"
			       " AND id = (SELECT MAX(id) FROM notify_messages)"),
			 1);
	hook_off();
}

static void webhook_retries_then_delivers(void **state)
{
	(void)state;
	static const unsigned script[] = {500, 200, 0};
	rx_reset(script);
	hook_on();
	struct dg_err err = {0};
	assert_int_equal(notify(user_id(DG_DEMO_CITIZEN), "case.approved",
				"{\"ref\":\"R2026-RETRY\",\"service\":\"x\"}", NULL, &err),
			 DG_OK);
	int64_t id = last_message();
	assert_int_equal(wait_delivery(id, "delivered"), 2);
	assert_int_equal(rx_count(), 2);
	/* the same delivery id both times, so a receiver can drop a repeat */
	assert_string_equal(rx.seen[0].delivery, rx.seen[1].delivery);
	assert_string_equal(rx.seen[0].body, rx.seen[1].body);
	check_signature(&rx.seen[1]);
	char sql[128];
	snprintf(sql, sizeof(sql),
		 "SELECT COUNT(*) FROM jobs WHERE kind = 'notify.webhook'"
		 " AND state = 'done' AND attempts = 2 AND idem_key = 'notify.webhook:%lld'",
		 (long long)id);
	wait_count(sql, 1);
	hook_off();
}

static void webhook_gives_up(void **state)
{
	(void)state;
	static const unsigned script[] = {500, 502, 503, 500, 0};
	rx_reset(script);
	hook_on();
	struct dg_err err = {0};
	assert_int_equal(notify(user_id(DG_DEMO_CITIZEN), "case.denied",
				"{\"ref\":\"R2026-FAIL\",\"reason\":\"x\"}", NULL, &err),
			 DG_OK);
	int64_t id = last_message();
	assert_int_equal(wait_delivery(id, "failed"), ATTEMPTS);
	assert_int_equal(rx_count(), ATTEMPTS);
	char sql[160];
	snprintf(sql, sizeof(sql),
		 "SELECT last_status FROM notify_messages WHERE id = %lld AND last_error LIKE "
		 "'%%503%%'",
		 (long long)id);
	assert_int_equal(count(sql), 503);
	snprintf(sql, sizeof(sql),
		 "SELECT COUNT(*) FROM jobs WHERE state = 'failed' AND idem_key = "
		 "'notify.webhook:%lld'",
		 (long long)id);
	wait_count(sql, 1);
	/* the message is still in the inbox, whatever happened to the webhook */
	struct th_client *c = as(DG_DEMO_CITIZEN);
	json_t *j = get_json(c, "/api/v1/inbox");
	assert_non_null(find_item(j, id));
	json_decref(j);
	th_client_free(c);
	hook_off();
}

static void webhook_unreachable_is_recorded(void **state)
{
	(void)state;
	struct dg_err err = {0};
	/* a port nobody listens on: connection refused, recorded, retried, then failed */
	assert_int_equal(
		dg_notify_configure("http://127.0.0.1:1/hook", SECRET, th_app(srv)->env.i18n, &err),
		DG_OK);
	assert_int_equal(
		notify(user_id(DG_DEMO_CITIZEN), "case.resumed", "{\"ref\":\"R-X\"}", NULL, &err),
		DG_OK);
	int64_t id = last_message();
	assert_int_equal(wait_delivery(id, "failed"), ATTEMPTS);
	char sql[160];
	snprintf(sql, sizeof(sql),
		 "SELECT COUNT(*) FROM notify_messages WHERE id = %lld AND last_status = 0"
		 " AND last_error LIKE 'no answer%%'",
		 (long long)id);
	assert_int_equal(count(sql), 1);
	hook_off();
}

static void no_webhook_no_job(void **state)
{
	(void)state;
	hook_off();
	rx_reset(NULL);
	struct dg_err err = {0};
	int64_t jobs = count("SELECT COUNT(*) FROM jobs WHERE kind = 'notify.webhook'");
	assert_int_equal(
		notify(user_id(DG_DEMO_CITIZEN), "case.submitted", "{\"ref\":\"R-N\"}", NULL, &err),
		DG_OK);
	assert_int_equal(count("SELECT COUNT(*) FROM jobs WHERE kind = 'notify.webhook'"), jobs);
	assert_int_equal(count("SELECT COUNT(*) FROM notify_messages WHERE delivery = 'none'"
			       " AND id = (SELECT MAX(id) FROM notify_messages)"),
			 1);
	assert_int_equal(rx_count(), 0);
}

static void rollback_takes_both(void **state)
{
	(void)state;
	hook_on();
	rx_reset(NULL);
	struct dg_err err = {0};
	int64_t msgs = count("SELECT COUNT(*) FROM notify_messages");
	int64_t jobs = count("SELECT COUNT(*) FROM jobs");
	struct dg_db *db = db_get();
	assert_int_equal(dg_db_begin(db), DG_OK);
	assert_int_equal(
		dg_notify(db, user_id(DG_DEMO_CITIZEN), "case.submitted", NULL, NULL, &err), DG_OK);
	dg_db_rollback(db);
	dg_db_put(db);
	assert_int_equal(count("SELECT COUNT(*) FROM notify_messages"), msgs);
	assert_int_equal(count("SELECT COUNT(*) FROM jobs"), jobs);
	hook_off();
}

static void configuration(void **state)
{
	(void)state;
	struct dg_err err = {0};
	const struct dg_i18n *i = th_app(srv)->env.i18n;
	assert_int_equal(dg_notify_configure("ftp://127.0.0.1/x", SECRET, i, &err), DG_EINVAL);
	assert_int_equal(dg_notify_configure("file:///etc/passwd", SECRET, i, &err), DG_EINVAL);
	assert_int_equal(dg_notify_configure("http://127.0.0.1/x", "short", i, &err), DG_EINVAL);
	assert_non_null(strstr(err.msg, "secret"));
	assert_int_equal(dg_notify_configure("http://127.0.0.1/x", NULL, i, &err), DG_EINVAL);
	assert_int_equal(dg_notify_configure("", NULL, i, &err), DG_OK);
	/* the flags and the environment */
	struct dg_config cfg;
	dg_config_defaults(&cfg);
	const char *bad[] = {"--webhook-url", "gopher://x"};
	assert_int_equal(dg_config_from_args(&cfg, 2, (char **)bad, &err), DG_EINVAL);
	const char *good[] = {"--webhook-url", "https://gw.example/notices",
			      "--webhook-secret=" SECRET};
	assert_int_equal(dg_config_from_args(&cfg, 3, (char **)good, &err), DG_OK);
	assert_string_equal(cfg.webhook_url, "https://gw.example/notices");
	assert_string_equal(cfg.webhook_secret, SECRET);
	assert_true(dg_config_has_flag("webhook-url"));
	assert_true(dg_config_has_flag("webhook-secret=x"));
	dg_config_defaults(&cfg);
	setenv("DGOV_WEBHOOK_URL", "http://127.0.0.1:9/n", 1);
	setenv("DGOV_WEBHOOK_SECRET", SECRET, 1);
	assert_int_equal(dg_config_from_env(&cfg, &err), DG_OK);
	assert_string_equal(cfg.webhook_url, "http://127.0.0.1:9/n");
	assert_string_equal(cfg.webhook_secret, SECRET);
	unsetenv("DGOV_WEBHOOK_URL");
	unsetenv("DGOV_WEBHOOK_SECRET");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kinds_match_catalogues),
		cmocka_unit_test(fill_rules),
		cmocka_unit_test(inbox_own_only),
		cmocka_unit_test(paging),
		cmocka_unit_test(bad_input_stores_nothing),
		cmocka_unit_test(placeholders_stay_text),
		cmocka_unit_test(webhook_delivers_signed),
		cmocka_unit_test(webhook_retries_then_delivers),
		cmocka_unit_test(webhook_gives_up),
		cmocka_unit_test(webhook_unreachable_is_recorded),
		cmocka_unit_test(no_webhook_no_job),
		cmocka_unit_test(rollback_takes_both),
		cmocka_unit_test(configuration),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
