/*
 * harness.c - the in-process HTTP test harness (see harness.h).
 *
 * th_start_opts() builds a configuration like `dgov serve` would, on a fresh
 * store in a temporary folder (or a wiped PostgreSQL schema), opens the app,
 * seeds the demo when asked and starts the real server on an ephemeral
 * loopback port. Clients are libcurl easy handles kept for their life, so
 * cookies and the keep-alive connection carry from one request to the next.
 */
#include "harness.h"

#include <curl/curl.h>
#include <ftw.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "core/config.h"
#include "core/mem.h"
#include "node/demo.h"
#include "http/server.h"
#include "jobs/jobs.h"
#include "opendata/datastore/datastore.h"
#include "store/tally.h"

struct th_srv {
	struct dg_app app;
	struct dg_server *server;
	char dir[256];
	char db[512], key[512], tmpl[512], stat[512], upload[512];
};

struct th_client {
	struct th_srv *s;
	CURL *h;
};

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "harness: %s: %s\n", what, detail ? detail : "");
	exit(2);
}

static void reset_pg(const char *url)
{
	PGconn *c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK)
		die("cannot connect to DGOV_TEST_DB", PQerrorMessage(c));
	PGresult *res = PQexec(c, "SET client_min_messages = warning;"
				  "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		die("cannot reset the test database", PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
}

/* peer: a node on peer's store and key (nothing reset), or NULL for a fresh store */
static void fill_config(struct th_srv *s, const struct th_opts *o, struct dg_config *cfg,
			const struct th_srv *peer)
{
	const char *root = getenv("DGOV_ROOT");
	const char *pg = getenv("DGOV_TEST_DB");
	if (!root || !root[0])
		root = ".";
	dg_config_defaults(cfg);
	snprintf(s->db, sizeof(s->db), "%s/test.db", s->dir);
	snprintf(s->key, sizeof(s->key), "%s/dgov.key", s->dir);
	snprintf(s->tmpl, sizeof(s->tmpl), "%s/templates", root);
	snprintf(s->stat, sizeof(s->stat), "%s/static", root);
	snprintf(s->upload, sizeof(s->upload), "%s/tmp", s->dir);
	if (peer) {
		snprintf(s->db, sizeof(s->db), "%s", peer->db);
		snprintf(s->key, sizeof(s->key), "%s", peer->key);
	}
	if (pg && pg[0]) {
		if (!peer)
			reset_pg(pg);
		cfg->db = pg;
	} else {
		cfg->db = s->db;
	}
	cfg->data_dir = s->dir;
	cfg->key_file = s->key;
	cfg->key_hex = NULL;
	cfg->templates_dir = s->tmpl;
	cfg->static_dir = o->static_dir ? o->static_dir : s->stat;
	cfg->host = "127.0.0.1";
	cfg->port = 0;
	cfg->threads = 4;
	cfg->pwhash = DG_PWHASH_MIN;
	cfg->log_level = getenv("DGOV_TEST_VERBOSE") ? DG_LOG_DEBUG : DG_LOG_WARN;
	cfg->job_workers = o->job_workers;
	if (o->job_lease_sec)
		cfg->job_lease_sec = o->job_lease_sec;
	if (o->max_body)
		cfg->max_body = o->max_body;
	cfg->cors_origins = o->cors_origins;
	if (o->health_ms)
		cfg->health_ms = o->health_ms;
	if (o->page_cache_mb)
		cfg->page_cache_mb = o->page_cache_mb;
	if (o->no_page_cache)
		cfg->page_cache_mb = 0;
	if (o->trusted_proxy && dg_proxies_parse(o->trusted_proxy, &cfg->trusted_proxies, NULL)) {
		fprintf(stderr, "harness: bad trusted proxy list %s\n", o->trusted_proxy);
		exit(1);
	}
}

struct th_srv *th_start_opts(const struct th_opts *o)
{
	struct th_srv *s = dg_xcalloc(1, sizeof(*s));
	struct dg_config cfg;
	struct dg_err err = {0};
	snprintf(s->dir, sizeof(s->dir), "/tmp/dgov-test-XXXXXX");
	if (!mkdtemp(s->dir))
		die("mkdtemp", s->dir);
	fill_config(s, o, &cfg, NULL);
	char mk[600];
	snprintf(mk, sizeof(mk), "%s", s->upload);
	if (mkdir(mk, 0700) != 0)
		die("mkdir", mk);
	if (dg_app_open(&s->app, &cfg, &err))
		die("cannot open the app", err.msg);
	/* the demo's accounts and data, without the open-data tables' files and loads */
	struct dg_demo_opts demo = {.tables = false, .runs = o->demo_runs};
	if (o->demo && dg_app_demo_seed(&s->app, &demo, &err))
		die("cannot seed the demo", err.msg);
	if (o->job_workers &&
	    dg_app_start_jobs(&s->app, o->job_workers,
			      s->app.cfg.job_lease_sec ? s->app.cfg.job_lease_sec : 30))
		die("cannot start the job workers", NULL);
	if (dg_app_listen(&s->app, s->upload, &s->server, &err))
		die("cannot start the server", err.msg);
	return s;
}

struct th_srv *th_start_peer(struct th_srv *first, const struct th_opts *o)
{
	struct th_opts none = {0};
	struct th_srv *s = dg_xcalloc(1, sizeof(*s));
	struct dg_config cfg;
	struct dg_err err = {0};
	snprintf(s->dir, sizeof(s->dir), "/tmp/dgov-test-XXXXXX");
	if (!mkdtemp(s->dir))
		die("mkdtemp", s->dir);
	fill_config(s, o ? o : &none, &cfg, first);
	if (mkdir(s->upload, 0700) != 0)
		die("mkdir", s->upload);
	if (dg_app_open(&s->app, &cfg, &err))
		die("cannot open the second node", err.msg);
	if (dg_app_listen(&s->app, s->upload, &s->server, &err))
		die("cannot start the second node's server", err.msg);
	return s;
}

struct th_srv *th_start(void)
{
	struct th_opts o = {.demo = true};
	return th_start_opts(&o);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

struct th_srv *th_start_loads(char *dir)
{
	struct th_opts o = {.demo = true, .job_workers = 1, .job_lease_sec = 5};
	return mkdtemp(dir) ? th_start_opts(&o) : NULL;
}

void th_stop_loads(struct th_srv *s, const char *dir)
{
	th_stop(s);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void th_stop(struct th_srv *s)
{
	if (!s)
		return;
	/* tests run one request at a time: nothing is in flight when they stop */
	dg_server_stop(s->server, 0);
	dg_app_close(&s->app);
	nftw(s->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(s);
}

struct dg_app *th_app(struct th_srv *s)
{
	return &s->app;
}

unsigned th_port(struct th_srv *s)
{
	return dg_server_port(s->server);
}

char *th_url(struct th_srv *s, const char *path)
{
	size_t n = strlen(path) + 64;
	char *u = dg_xmalloc(n);
	snprintf(u, n, "http://127.0.0.1:%u%s", th_port(s), path);
	return u;
}

struct th_client *th_client_new(struct th_srv *s)
{
	struct th_client *c = dg_xcalloc(1, sizeof(*c));
	c->s = s;
	c->h = curl_easy_init();
	if (!c->h)
		die("curl_easy_init", NULL);
	curl_easy_setopt(c->h, CURLOPT_COOKIEFILE, ""); /* in-memory cookie engine */
	curl_easy_setopt(c->h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	/* send "/a/../b" as written, so tests can try traversal */
	curl_easy_setopt(c->h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 60L);
	return c;
}

void th_client_free(struct th_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->h);
	free(c);
}

/* a response's body or headers, grown by doubling (a 4 MiB answer arrives in
 * hundreds of pieces; growing by each piece copies it hundreds of times) */
static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
	size_t n = size * nmemb;
	return dg_buf_add(ud, p, n) == DG_OK ? n : 0;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	size_t n = size * nmemb;
	/* keep only the final response's block (after a 100 Continue, say) */
	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0)
		dg_buf_reset(ud);
	return on_data(p, size, nmemb, ud);
}

struct upload {
	const char *p;
	size_t left;
};

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
	struct upload *u = ud;
	size_t n = size * nitems;
	if (n > u->left)
		n = u->left;
	/* small pieces so a chunked body really arrives in several chunks */
	if (n > 1024)
		n = 1024;
	memcpy(buf, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

static bool is_chunked(const char *const *extra)
{
	for (; extra && *extra; extra++)
		if (strcasecmp(*extra, "Transfer-Encoding: chunked") == 0)
			return true;
	return false;
}

static void set_method(CURL *h, const char *method, const char *body, size_t len, bool chunked,
		       struct upload *up)
{
	curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		return;
	}
	if (body && chunked) {
		up->p = body;
		up->left = len;
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, up);
	} else if (body || strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
}

long th_request(struct th_client *c, const char *method, const char *path, const char *content_type,
		const char *body, size_t len, const char *const *extra_headers, struct th_resp *out)
{
	struct dg_buf data, hdrs;
	dg_buf_init(&data, (size_t)1 << 30);
	dg_buf_init(&hdrs, DG_BUF_DEFAULT_MAX);
	struct upload up = {0};
	struct curl_slist *list = NULL;
	char ct[512];
	char *url = th_url(c->s, path);
	if (content_type) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
		list = curl_slist_append(list, ct);
	}
	for (const char *const *e = extra_headers; e && *e; e++)
		list = curl_slist_append(list, *e);
	CURL *h = c->h;
	set_method(h, method, body, len, is_chunked(extra_headers), &up);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &data);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &hdrs);
	long status = 0;
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(list);
	free(url);
	if (out) {
		size_t n = data.len;
		*out = (struct th_resp){status, dg_buf_take(&data), n, dg_buf_take(&hdrs)};
	} else {
		dg_buf_release(&data);
		dg_buf_release(&hdrs);
	}
	return status;
}

long th_get(struct th_client *c, const char *path, struct th_resp *out)
{
	return th_request(c, "GET", path, NULL, NULL, 0, NULL, out);
}

long th_post_form(struct th_client *c, const char *path, const char *body, struct th_resp *out)
{
	return th_request(c, "POST", path, "application/x-www-form-urlencoded", body, strlen(body),
			  NULL, out);
}

void th_resp_release(struct th_resp *r)
{
	free(r->body);
	free(r->headers);
	memset(r, 0, sizeof(*r));
}

char *th_header(const struct th_resp *r, const char *name)
{
	size_t nl = strlen(name);
	for (const char *line = r->headers; line && *line;) {
		const char *end = strstr(line, "\r\n");
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (len > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			const char *v = line + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			return dg_xstrndup(v, (size_t)(line + len - v));
		}
		line = end ? end + 2 : line + len;
	}
	return NULL;
}

char *th_csrf(struct th_client *c, const char *path)
{
	struct th_resp r;
	th_get(c, path, &r);
	char *tok = NULL;
	const char *at = strstr(r.body, "name=\"csrf\" value=\"");
	if (at) {
		at += strlen("name=\"csrf\" value=\"");
		const char *end = strchr(at, '"');
		if (end)
			tok = dg_xstrndup(at, (size_t)(end - at));
	}
	th_resp_release(&r);
	return tok;
}

struct th_client *th_signed_in(struct th_srv *s, const char *user)
{
	struct th_client *c = th_client_new(s);
	if (!th_login(c, user, DG_DEMO_PASSWORD)) {
		fprintf(stderr, "harness: %s could not sign in\n", user);
		exit(1);
	}
	return c;
}

bool th_login(struct th_client *c, const char *username, const char *password)
{
	char *csrf = th_csrf(c, "/login");
	if (!csrf)
		return false;
	char *u = th_enc(username), *p = th_enc(password), *t = th_enc(csrf);
	size_t n = strlen(u) + strlen(p) + strlen(t) + 64;
	char *body = dg_xmalloc(n);
	snprintf(body, n, "username=%s&password=%s&csrf=%s", u, p, t);
	struct th_resp r;
	long st = th_post_form(c, "/login", body, &r);
	char *loc = th_header(&r, "Location");
	bool ok = st == 303 && loc && strncmp(loc, "/login", 6) != 0;
	free(loc);
	th_resp_release(&r);
	free(body);
	free(u);
	free(p);
	free(t);
	free(csrf);
	return ok;
}

long th_post_csrf(struct th_client *c, const char *page, const char *path, const char *fields,
		  struct th_resp *out)
{
	char *csrf = th_csrf(c, page), *body = NULL;
	if (!csrf || asprintf(&body, "%s%scsrf=%s", fields, *fields ? "&" : "", csrf) < 0) {
		fprintf(stderr, "harness: no CSRF token on %s\n", page);
		exit(1);
	}
	long st = th_post_form(c, path, body, out);
	free(body);
	free(csrf);
	return st;
}

long th_post_multipart(struct th_client *c, const char *page, const char *path,
		       const char *file_field, const char *filename, const char *content,
		       const char *text_name, const char *text, struct th_resp *out)
{
	char *csrf = th_csrf(c, page), *body = NULL;
	int n = csrf ? asprintf(&body,
				"--XyZ\r\nContent-Disposition: form-data; "
				"name=\"csrf\"\r\n\r\n%s\r\n"
				"%s%s%s%s%s"
				"--XyZ\r\nContent-Disposition: form-data; name=\"%s\"; "
				"filename=\"%s\"\r\n"
				"Content-Type: application/octet-stream\r\n\r\n%s\r\n--XyZ--\r\n",
				csrf,
				text_name ? "--XyZ\r\nContent-Disposition: form-data; name=\"" : "",
				text_name ? text_name : "", text_name ? "\"\r\n\r\n" : "",
				text_name ? text : "", text_name ? "\r\n" : "", file_field,
				filename, content)
		     : -1;
	if (n < 0) {
		fprintf(stderr, "harness: no CSRF token on %s\n", page);
		exit(1);
	}
	long st = th_request(c, "POST", path, "multipart/form-data; boundary=XyZ", body, (size_t)n,
			     NULL, out);
	free(body);
	free(csrf);
	return st;
}

void th_tally_flush(struct th_srv *s)
{
	struct dg_db *db = NULL;
	dg_rc rc = dg_db_get(th_app(s)->env.store, &db);
	if (!rc)
		rc = dg_tally_flush(th_app(s)->env.tally, db);
	dg_db_put(db);
	if (rc) {
		fprintf(stderr, "harness: the node's counts could not be written (%d)\n", (int)rc);
		exit(1);
	}
}

void th_sql(struct th_srv *s, const char *text)
{
	struct dg_db *db = NULL;
	th_tally_flush(s);
	dg_rc rc = dg_db_get(th_app(s)->env.store, &db);
	if (!rc)
		rc = dg_db_exec_script(db, text);
	dg_db_put(db);
	if (rc) {
		fprintf(stderr, "harness: SQL failed (%d): %s\n", (int)rc, text);
		exit(1);
	}
}

int64_t th_sql_int(struct th_srv *s, const char *text)
{
	struct dg_db *db = NULL;
	int64_t v = 0;
	th_tally_flush(s);
	dg_rc rc = dg_db_get(th_app(s)->env.store, &db);
	if (!rc)
		rc = dg_db_query_int(db, text, DG_NOARGS, &v);
	dg_db_put(db);
	if (rc == DG_ENOTFOUND)
		return -1;
	if (rc) {
		fprintf(stderr, "harness: SQL failed (%d): %s\n", (int)rc, text);
		exit(1);
	}
	return v;
}

char *th_enc(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *o = dg_xmalloc(3 * n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch)) {
			o[k++] = (char)ch;
		} else {
			o[k++] = '%';
			o[k++] = hex[ch >> 4];
			o[k++] = hex[ch & 15];
		}
	}
	o[k] = '\0';
	return o;
}

struct th_srv *th_shared;

int th_group_setup(void **state)
{
	(void)state;
	th_shared = th_start();
	return th_shared ? 0 : -1;
}

int th_group_teardown(void **state)
{
	(void)state;
	th_stop(th_shared);
	th_shared = NULL;
	return 0;
}

char *th_token_header(struct th_srv *s, const char *user, const char *password)
{
	struct th_client *c = th_client_new(s);
	struct th_resp r = {0};
	char *csrf = NULL, *body = NULL, *hdr = NULL;
	if (!th_login(c, user, password) || !(csrf = th_csrf(c, "/account/tokens")) ||
	    asprintf(&body, "name=test&csrf=%s", csrf) < 0)
		goto out;
	if (th_post_form(c, "/account/tokens", body, &r) == 201 && r.body &&
	    strstr(r.body, "dgt_") &&
	    asprintf(&hdr, "Authorization: Bearer %.68s", strstr(r.body, "dgt_")) < 0)
		hdr = NULL;
out:
	th_resp_release(&r);
	free(body);
	free(csrf);
	th_client_free(c);
	return hdr;
}

char *th_get_body(struct th_client *c, const char *path, long want)
{
	struct th_resp r = {0};
	long st = th_get(c, path, &r);
	char *b = NULL;
	if (st != want)
		fprintf(stderr, "GET %s: %ld, wanted %ld\n%.*s\n", path, st, want,
			(int)(r.len > 600 ? 600 : r.len), r.body ? r.body : "");
	else
		b = r.body ? r.body : strdup("");
	if (b == r.body)
		r.body = NULL;
	th_resp_release(&r);
	return b;
}

long th_action_as(struct th_srv *s, const char *user, const char *password, const char *action,
		  const char *body)
{
	char *tok = th_token_header(s, user, password);
	if (!tok)
		return -1;
	struct th_client *c = th_client_new(s);
	struct th_resp r = {0};
	char path[128];
	snprintf(path, sizeof path, "/api/3/action/%s", action);
	const char *hdrs[] = {tok, NULL};
	long st = th_request(c, "POST", path, "application/json", body, strlen(body), hdrs, &r);
	if (st != 200)
		fprintf(stderr, "%s: %ld %.*s\n", action, st, (int)(r.len > 600 ? 600 : r.len),
			r.body ? r.body : "");
	th_resp_release(&r);
	th_client_free(c);
	free(tok);
	return st;
}

json_t *th_get_json(struct th_srv *s, const char *path, long want)
{
	struct th_client *c = th_client_new(s);
	char *b = th_get_body(c, path, want);
	json_t *j = b ? json_loads(b, 0, NULL) : NULL;
	free(b);
	th_client_free(c);
	return j;
}

/*
 * Whether got contains want: objects by key, arrays by position over want's
 * length; an expected array whose last element is "$end" must also have
 * exactly the elements before it.
 */
int th_json_subset(json_t *want, json_t *got)
{
	if (json_is_object(want)) {
		const char *k;
		json_t *v;
		if (!json_is_object(got))
			return 0;
		json_object_foreach (want, k, v)
			if (!th_json_subset(v, json_object_get(got, k)))
				return 0;
		return 1;
	}
	if (json_is_array(want)) {
		size_t n = json_array_size(want);
		json_t *last = json_array_get(want, n ? n - 1 : 0);
		bool exact =
			n && json_is_string(last) && strcmp(json_string_value(last), "$end") == 0;
		if (exact)
			n--;
		if (!json_is_array(got) || json_array_size(got) < n ||
		    (exact && json_array_size(got) != n))
			return 0;
		for (size_t i = 0; i < n; i++)
			if (!th_json_subset(json_array_get(want, i), json_array_get(got, i)))
				return 0;
		return 1;
	}
	return json_equal(want, got);
}

void th_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static unsigned free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		die("cannot find a free port", strerror(errno));
	close(fd);
	return ntohs(a.sin_port);
}

void th_proc_init(struct th_proc *p, const char *prefix)
{
	const char *pg = getenv("DGOV_TEST_DB");
	/* the suite runs from the repository root; DGOV_ROOT says where that is */
	const char *root = getenv("DGOV_ROOT") ? getenv("DGOV_ROOT") : ".";
	memset(p, 0, sizeof(*p));
	p->bin = getenv("DGOV_BIN") ? getenv("DGOV_BIN") : "build/dgov";
	if (access(p->bin, X_OK) != 0)
		die("no dgov binary (set DGOV_BIN)", p->bin);
	snprintf(p->dir, sizeof(p->dir), "/tmp/%s-XXXXXX", prefix);
	if (!mkdtemp(p->dir))
		die("cannot make a temporary folder", strerror(errno));
	if (pg && strncmp(pg, "postgresql://", 13) == 0) {
		snprintf(p->db, sizeof(p->db), "%s", pg);
		reset_pg(p->db);
	} else {
		snprintf(p->db, sizeof(p->db), "%s/dgov.db", p->dir);
	}
	snprintf(p->key, sizeof(p->key), "%s/dgov.key", p->dir);
	snprintf(p->data, sizeof(p->data), "%s/data", p->dir);
	snprintf(p->log, sizeof(p->log), "%s/server.log", p->dir);
	snprintf(p->port, sizeof(p->port), "%u", free_port());
	snprintf(p->templates, sizeof(p->templates), "%s/templates", root);
	snprintf(p->stat, sizeof(p->stat), "%s/static", root);
}

int th_proc_spawn(const struct th_proc *p, const char *const argv[], int out_fd)
{
	pid_t pid = fork();
	if (pid < 0)
		die("cannot fork", strerror(errno));
	if (pid == 0) {
		int logfd = open(p->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (logfd >= 0) {
			dup2(out_fd >= 0 ? out_fd : logfd, 1);
			dup2(logfd, 2);
		}
		execv(p->bin, (char *const *)argv); /* execv does not change them */
		_exit(127);
	}
	return pid;
}

int th_proc_serve(const struct th_proc *p)
{
	const char *argv[] = {p->bin,          "serve", "--db",        p->db,
			      "--port",        p->port, "--job-lease", "2",
			      "--job-workers", "1",     "--key-file",  p->key,
			      "--data",        p->data, "--templates", p->templates,
			      "--static",      p->stat, NULL};
	return th_proc_spawn(p, argv, -1);
}

void th_proc_stop(int pid)
{
	kill(pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		th_sleep_ms(100);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

void th_proc_cleanup(const struct th_proc *p)
{
	nftw(p->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

json_t *th_wait_job(struct th_srv *s, int64_t id)
{
	struct dg_db *db = NULL;
	json_t *job = NULL;
	if (dg_db_get(s->app.env.store, &db))
		return NULL;
	for (int i = 0; i < 600; i++) { /* 30 s */
		if (dg_job_get_json(db, id, &job))
			break;
		const char *st = json_string_value(json_object_get(job, "state"));
		if (st && (strcmp(st, "done") == 0 || strcmp(st, "failed") == 0))
			break;
		json_decref(job);
		job = NULL;
		th_sleep_ms(50);
	}
	dg_db_put(db);
	return job;
}

/* What "cmd 'file' after" prints, malloc'd. */
static char *output_of(const char *cmd, const char *file, const char *after)
{
	char line[1024];
	snprintf(line, sizeof(line), "%s '%s' %s", cmd, file, after);
	FILE *p = popen(line, "r");
	if (!p)
		return NULL;
	size_t cap = 1 << 20, n = 0, got;
	char *out = malloc(cap);
	while (out && (got = fread(out + n, 1, cap - 1 - n, p)) > 0)
		n += got;
	if (out)
		out[n] = '\0';
	pclose(p);
	return out;
}

char *th_pdf_text(const void *pdf, size_t len, int *pages)
{
	char file[] = "/tmp/dgov-pdf-XXXXXX";
	int fd = mkstemp(file);
	if (fd < 0)
		return NULL;
	bool wrote = write(fd, pdf, len) == (ssize_t)len;
	close(fd);
	char *info = wrote ? output_of("pdfinfo", file, "2>&1") : NULL;
	char *text = NULL;
	const char *p = info ? strstr(info, "Pages:") : NULL;
	*pages = 0;
	if (!p || sscanf(p + 6, "%d", pages) != 1 || strstr(info, "Error") ||
	    strstr(info, "error") || strstr(info, "Syntax"))
		fprintf(stderr, "# pdfinfo: %s\n", info ? info : "(did not run)");
	else
		text = output_of("pdftotext -enc UTF-8", file, "- 2>/dev/null");
	free(info);
	if (getenv("DGOV_KEEP_PDF")) /* to look at it: pdftoppm -png FILE */
		fprintf(stderr, "# kept %s\n", file);
	else
		unlink(file);
	return text;
}
