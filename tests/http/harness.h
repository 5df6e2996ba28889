/*
 * harness.h - in-process HTTP tests: the real dgov app and server on an
 * ephemeral loopback port, driven with libcurl.
 *
 * th_start() opens a fresh store: with DGOV_TEST_DB unset, a new SQLite file
 * in a temporary folder; with DGOV_TEST_DB=postgresql://..., that database
 * with its public schema dropped and recreated first. Tests in one binary
 * share the server; each client has its own cookie jar. Bodies and headers
 * returned are malloc'd and freed by th_resp_release().
 */
#ifndef TH_HARNESS_H
#define TH_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct dg_app;

struct th_opts {
	bool demo;       /* seed the demo region (default in th_start) */
	size_t max_body; /* 0: the default */
	unsigned job_workers;
	unsigned job_lease_sec;
	const char *trusted_proxy; /* --trusted-proxy's list, or NULL */
	const char *static_dir;    /* --static, or NULL for the project's static/ */
	const char *cors_origins;  /* --cors-origins, or NULL (none) */
	unsigned health_ms;        /* the store checked for /healthz this often; 0: the default */
	unsigned page_cache_mb;    /* --page-cache-mb; 0: the default */
	bool no_page_cache;        /* --page-cache-mb 0 */
	bool demo_runs;            /* the demo as `dgov demo --with-runs` seeds it */
};

struct th_srv;
struct th_client;

struct th_resp {
	long status;
	char *body;
	size_t len;
	char *headers; /* raw header block of the final response */
};

struct th_srv *th_start(void); /* demo seeded, defaults */

/*
 * cmocka group fixtures for the common case: th_group_setup starts one demo
 * server for the whole binary into th_shared, th_group_teardown stops it.
 */
extern struct th_srv *th_shared;
int th_group_setup(void **state);
int th_group_teardown(void **state);
struct th_srv *th_start_opts(const struct th_opts *o);
void th_stop(struct th_srv *s);
/*
 * A second node on first's store and key, as `dgov serve` on another
 * machine would be: nothing reset or seeded, its own port and folder.
 * o may be NULL (the defaults); its demo is ignored. th_stop it first.
 */
struct th_srv *th_start_peer(struct th_srv *first, const struct th_opts *o);
/*
 * A demo server whose one job worker runs datastore loads (5 s lease), and
 * a new scratch folder made from the mkdtemp template dir, for the files to
 * load; NULL when either cannot be made. th_stop_loads stops the server and
 * removes the folder.
 */
struct th_srv *th_start_loads(char *dir);
void th_stop_loads(struct th_srv *s, const char *dir);
struct dg_app *th_app(struct th_srv *s);
unsigned th_port(struct th_srv *s);
/* "http://127.0.0.1:PORT" + path, malloc'd */
char *th_url(struct th_srv *s, const char *path);

struct th_client *th_client_new(struct th_srv *s);
void th_client_free(struct th_client *c);

/*
 * One request. extra_headers: NULL-terminated array of "Name: value" or NULL.
 * body may be NULL. Redirects are not followed. Returns the HTTP status (0 on
 * a transport error).
 */
long th_request(struct th_client *c, const char *method, const char *path, const char *content_type,
		const char *body, size_t len, const char *const *extra_headers,
		struct th_resp *out);
long th_get(struct th_client *c, const char *path, struct th_resp *out);
/* application/x-www-form-urlencoded; body is already encoded */
long th_post_form(struct th_client *c, const char *path, const char *body, struct th_resp *out);
void th_resp_release(struct th_resp *r);
/* Value of a response header (case-insensitive), malloc'd, or NULL. */
char *th_header(const struct th_resp *r, const char *name);

/* GET path and return the value of its hidden csrf field (malloc'd), or NULL. */
char *th_csrf(struct th_client *c, const char *path);
/*
 * POST fields (encoded, may be "") to path with the CSRF token of page's
 * form added; returns the status, *out the reply. Exits when page has no
 * token.
 */
long th_post_csrf(struct th_client *c, const char *page, const char *path, const char *fields,
		  struct th_resp *out);
/*
 * POST a multipart/form-data body to path: the CSRF token of page's form,
 * one text field (text_name NULL: none) and the file filename with content
 * as file_field; returns the status, *out the reply.
 */
long th_post_multipart(struct th_client *c, const char *page, const char *path,
		       const char *file_field, const char *filename, const char *content,
		       const char *text_name, const char *text, struct th_resp *out);
/* Sign in through the sign-in form; true when it worked. */
bool th_login(struct th_client *c, const char *username, const char *password);
/* A new client of s signed in as the demo account user (the demo password);
 * fails the test when it cannot. */
struct th_client *th_signed_in(struct th_srv *s, const char *user);
/*
 * A fresh API token of user (signing in and creating it on /account/tokens):
 * the whole "Authorization: Bearer dgt_..." header, malloc'd; NULL on failure.
 */
char *th_token_header(struct th_srv *s, const char *user, const char *password);
/*
 * GET path and return its body (malloc'd, NUL-terminated) when the status is
 * want; otherwise print the status and the start of the body and return NULL.
 */
char *th_get_body(struct th_client *c, const char *path, long want);
/*
 * POST body (JSON) to CKAN's /api/3/action/ACTION on s with a fresh token
 * of user (password: the demo's); the status, with the body printed when
 * it is not 200.
 */
long th_action_as(struct th_srv *s, const char *user, const char *password, const char *action,
		  const char *body);
/* GET path as a new anonymous client and parse the body as JSON; NULL unless the status is want. */
json_t *th_get_json(struct th_srv *s, const char *path, long want);
/*
 * Whether got contains want: objects by key, arrays by position over want's
 * length; an expected array whose last element is "$end" must also have
 * exactly the elements before it.
 */
int th_json_subset(json_t *want, json_t *got);
/*
 * The real binary as child processes (crash tests): a private folder, the
 * store (DGOV_TEST_DB, reset, or a SQLite file in the folder), a free port,
 * and a log file both stdout and stderr of every child go to.
 */
struct th_proc {
	char dir[256], db[512], key[300], data[300], log[300], port[16];
	char templates[300], stat[300];
	const char *bin; /* DGOV_BIN, default build/dgov */
};
/* Fill p under a new folder /tmp/PREFIX-XXXXXX; exits the test binary when that cannot be done. */
void th_proc_init(struct th_proc *p, const char *prefix);
/* Start argv (argv[0] is p->bin) with stdout to out_fd (-1: the log). */
int th_proc_spawn(const struct th_proc *p, const char *const argv[], int out_fd);
/* `dgov serve` on p's store and port with a 2 s job lease and one job worker. */
int th_proc_serve(const struct th_proc *p);
/* SIGTERM, then SIGKILL after 10 s; reaps it. */
void th_proc_stop(int pid);
/* Remove p's folder. */
void th_proc_cleanup(const struct th_proc *p);
void th_sleep_ms(long ms);
/* Wait up to 30 s for job id to be done or failed: its JSON (owned), or NULL. */
json_t *th_wait_job(struct th_srv *s, int64_t id);
/*
 * Write the counts s holds in memory (quotas, usage counters: store/tally.h)
 * to its store, as the node does within a second; th_sql and th_sql_int do
 * it first, so that they read what a second node would.
 */
void th_tally_flush(struct th_srv *s);
/* Run a SQL script on s's store; the test fails when it does not work. */
void th_sql(struct th_srv *s, const char *text);
/* The one integer a query on s's store returns, -1 for no row; the test fails when it does not
 * work. */
int64_t th_sql_int(struct th_srv *s, const char *text);
/*
 * A PDF read back as poppler's tools read it: the text pdftotext finds
 * (malloc'd) and the page count pdfinfo gives; NULL, with what they said on
 * stderr, when pdfinfo reports any error. DGOV_KEEP_PDF=1 keeps the file.
 */
char *th_pdf_text(const void *pdf, size_t len, int *pages);
/* Percent-encode for a form body (malloc'd). */
char *th_enc(const char *s);

#endif
