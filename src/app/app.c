/*
 * app.c - the running node: the ordered list of modules, opening their
 * parts in order, the dispatcher every request goes through (deny by
 * default), and serving until told to stop.
 *
 * Adding a domain is one folder with its descriptor (node/module.h) and one
 * line in `modules` below; nothing else here names a domain.
 */
#include "app/app.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "cal/cal.h"
#include "cases/cases.h"
#include "catalog/catalog.h"
#include "cert/cert.h"
#include "core/log.h"
#include "core/rand.h"
#include "exchange/exchange.h"
#include "jobs/jobs.h"
#include "node/health.h"
#include "notify/notify.h"
#include "opendata/opendata.h"
#include "proactive/proactive.h"
#include "store/tally.h"
#include "web/i18n.h"
#include "web/page.h"
#include "web/pages.h"
#include "web/pcache.h"
#include "web/tmpl.h"

/*
 * Dependency order: a module's tables may refer to those before it, and its
 * routes are matched after theirs. The general pages come last, so a
 * domain's page (e.g. /services) replaces the thin entrance of that path.
 */
static const struct dg_module *const modules[] = {
	&dg_node_module,  &dg_jobs_module,     &dg_audit_module,    &dg_auth_module,
	&dg_cal_module,   &dg_catalog_module,  &dg_notify_module,   &dg_cert_module,
	&dg_cases_module, &dg_opendata_module, &dg_exchange_module, &dg_proactive_module,
	&dg_web_module,
};
#define NMODULES (sizeof(modules) / sizeof(modules[0]))

/* Every migration list of every module: at most this many in all. */
#define MAX_LISTS 64
/* Every scheduled task of every module: at most this many in all. */
#define MAX_TASKS 64

const struct dg_module *const *dg_app_modules(size_t *n)
{
	*n = NMODULES;
	return modules;
}

size_t dg_app_migration_lists(const struct dg_migration **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < NMODULES; i++)
		for (const struct dg_migration *const *l = modules[i]->migrations; l && *l; l++)
			if (n < max)
				out[n++] = *l;
	return n;
}

const struct dg_command *dg_app_command(const char *cmd)
{
	for (size_t i = 0; i < NMODULES; i++)
		for (const struct dg_command *c = modules[i]->commands; c && c->name; c++)
			if (strcmp(c->name, cmd) == 0)
				return c;
	return NULL;
}

static dg_rc add_routes(struct dg_app *app, struct dg_err *err)
{
	app->router = dg_router_new();
	for (size_t i = 0; i < NMODULES; i++) {
		for (const dg_routes_fn *f = modules[i]->routes; f && *f; f++) {
			size_t n = 0;
			const struct dg_route *list = (*f)(&n);
			if (n && dg_router_add(app->router, list, n))
				return dg_err_set(err, DG_EINTERNAL,
						  "module %s: a route pattern is malformed",
						  modules[i]->name);
		}
	}
	return DG_OK;
}

/* Job kinds are process-wide (jobs.h): registered again on every open, the same each time. */
static void register_jobs(void)
{
	for (size_t i = 0; i < NMODULES; i++)
		for (const struct dg_job_kind *k = modules[i]->jobs; k && k->kind; k++)
			dg_jobs_register(k->kind, k->run, k->max_attempts);
}

dg_rc dg_app_init_modules(struct dg_env *env, struct dg_err *err)
{
	for (size_t i = 0; i < NMODULES; i++) {
		if (!modules[i]->init)
			continue;
		dg_rc rc = modules[i]->init(env, err);
		if (rc)
			return rc;
	}
	return DG_OK;
}

dg_rc dg_app_open(struct dg_app *app, const struct dg_config *cfg, struct dg_err *err)
{
	const struct dg_migration *lists[MAX_LISTS];
	size_t nlists = dg_app_migration_lists(lists, MAX_LISTS);
	memset(app, 0, sizeof(*app));
	app->cfg = *cfg;
	app->env.cfg = &app->cfg;
	struct dg_env *env = &app->env;
	dg_log_set_level(cfg->log_level);
	dg_rc rc = dg_rand_init();
	if (rc) {
		dg_err_set(err, rc, "the random number generator could not start");
		goto out;
	}
	if (nlists == MAX_LISTS) {
		rc = dg_err_set(err, DG_EINTERNAL, "more than %d migration lists", MAX_LISTS);
		goto out;
	}
	rc = dg_keys_load(&env->keys, cfg->key_hex, cfg->key_file, err);
	if (rc)
		goto out;
	unsigned pool = cfg->threads + cfg->job_workers + 2;
	rc = dg_store_open(cfg->db, pool, &env->store, err);
	if (rc)
		goto out;
	dg_store_set_heap_mb(env->store, cfg->sqlite_heap_mb);
	rc = dg_store_migrate(env->store, lists, nlists, err);
	if (rc)
		goto out;
	env->tmpl = dg_tmpl_set_new();
	rc = dg_tmpl_load_dir(env->tmpl, cfg->templates_dir, err);
	if (rc)
		goto out;
	char i18n_dir[4096];
	snprintf(i18n_dir, sizeof(i18n_dir), "%s/i18n", cfg->templates_dir);
	rc = dg_i18n_load_dir(i18n_dir, &env->i18n, err);
	if (rc)
		goto out;
	env->pages = dg_pcache_new((size_t)cfg->page_cache_mb << 20);
	env->tally = dg_tally_new();
	env->searches = dg_pcache_new((size_t)cfg->page_cache_mb << 20);
	rc = add_routes(app, err);
	if (rc)
		goto out;
	register_jobs();
	rc = dg_env_load_region(env);
	if (rc) {
		dg_err_set(err, rc, "the region settings could not be read");
		goto out;
	}
	rc = dg_app_init_modules(env, err);
out:
	if (rc)
		dg_app_close(app);
	return rc;
}

/* The counts the node still holds, written before the store closes (after the last request). */
static void close_tally(struct dg_env *env)
{
	struct dg_db *db = NULL;
	if (env->tally && env->store && dg_db_get(env->store, &db) == DG_OK) {
		if (dg_tally_flush(env->tally, db) != DG_OK)
			dg_warn("the last usage counts could not be written");
		dg_db_put(db);
	}
	dg_tally_free(env->tally);
	env->tally = NULL;
}

void dg_app_close(struct dg_app *app)
{
	/* its thread uses the store: it ends before the store closes */
	dg_health_stop(app->env.health);
	app->env.health = NULL;
	if (app->jobs)
		dg_jobs_stop(app->jobs);
	dg_router_free(app->router);
	dg_i18n_free(app->env.i18n);
	dg_pcache_free(app->env.pages);
	close_tally(&app->env);
	dg_pcache_free(app->env.searches);
	dg_tmpl_set_free(app->env.tmpl);
	dg_store_close(app->env.store);
	dg_keys_release(&app->env.keys);
	memset(app, 0, sizeof(*app));
}

dg_rc dg_app_start_jobs(struct dg_app *app, unsigned workers, unsigned lease_sec)
{
	struct dg_task tasks[MAX_TASKS + 1];
	size_t n = 0;
	for (size_t i = 0; i < NMODULES; i++)
		for (const struct dg_task *t = modules[i]->tasks; t && t->name && n < MAX_TASKS;
		     t++)
			tasks[n++] = *t;
	tasks[n] = (struct dg_task){NULL, 0};
	return dg_jobs_start(app->env.store, &app->env, workers, lease_sec, tasks, &app->jobs);
}

static bool unsafe_method(const char *m)
{
	return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 && strcmp(m, "OPTIONS") != 0;
}

static void render_error(struct dg_req *r, dg_rc rc)
{
	if (rc == DG_OK)
		rc = DG_EINTERNAL;
	if (dg_rc_http_status(rc) >= 500)
		dg_error("req=%s %s %s failed: %s %s", r->id, r->method, r->path, dg_rc_name(rc),
			 r->err.msg);
	if (r->api)
		dg_reply_json_error(r, rc, r->err.msg[0] ? r->err.msg : dg_t(r, "error.generic"),
				    r->err.field[0] ? r->err.field : NULL);
	else
		dg_page_error(r, rc);
}

/* An anonymous visitor asking for a page that needs an account signs in first. */
static void ask_to_sign_in(struct dg_req *r)
{
	if (r->api || strcmp(r->method, "GET") != 0) {
		dg_err_set(&r->err, DG_EAUTH, "%s", dg_t(r, "error.sign_in_needed"));
		render_error(r, DG_EAUTH);
		return;
	}
	struct dg_buf b;
	dg_buf_init(&b, 8192);
	const char *here = dg_page_here(r);
	dg_rc rc = dg_buf_adds(&b, "/login?next=");
	if (!rc)
		rc = dg_buf_add_url(&b, here, strlen(here));
	dg_reply_redirect(r, rc ? "/login" : dg_buf_str(&b));
	dg_buf_release(&b);
}

/* Language and elder mode from the visitor's cookies and headers. */
static void read_prefs(struct dg_req *r)
{
	r->lang =
		dg_i18n_pick(dg_kvs_get(&r->cookies, "lang"), dg_req_header(r, "Accept-Language"));
	const char *elder = dg_kvs_get(&r->cookies, "elder");
	r->elder = elder && strcmp(elder, "1") == 0;
}

void dg_app_error(struct dg_req *r, dg_rc rc)
{
	read_prefs(r);
	render_error(r, rc);
}

void dg_app_dispatch(void *ctx, struct dg_req *r)
{
	const struct dg_app *app = ctx;
	read_prefs(r);

	const char *allow = NULL;
	dg_rc rc = dg_router_match(app->router, r->method, r->path, r->arena, &r->params, &r->route,
				   &allow);
	if (rc == DG_EMETHOD && allow)
		dg_reply_header(r, "Allow", allow);
	if (rc)
		goto fail;

	if (!(r->route->flags & DG_ROUTE_PUBLIC)) {
		rc = dg_auth_identify(r);
		if (rc)
			goto fail;
	}

	if (!(r->route->roles & dg_req_role(r))) {
		if (!r->user) {
			ask_to_sign_in(r);
			return;
		}
		rc = dg_err_set(&r->err, DG_EDENIED, "%s", dg_t(r, "error.not_allowed"));
		goto fail;
	}

	bool by_token = r->user && r->user->via_token;
	if (unsafe_method(r->method) && !(r->route->flags & DG_ROUTE_NO_CSRF) && !by_token) {
		rc = dg_auth_check_csrf(r);
		if (rc)
			goto fail;
	}

	rc = r->route->fn(r);
	if (!rc && !r->replied)
		rc = dg_err_set(&r->err, DG_EINTERNAL, "the handler sent no reply");
	if (!rc)
		return;
fail:
	render_error(r, rc);
}

dg_rc dg_app_listen(struct dg_app *app, const char *upload_dir, struct dg_server **out,
		    struct dg_err *err)
{
	struct dg_server_opts o = {
		.host = app->cfg.host,
		.port = app->cfg.port,
		.threads = app->cfg.threads,
		.max_body = app->cfg.max_body,
		.max_upload = app->cfg.max_upload,
		.max_header = app->cfg.max_header,
		.upload_dir = upload_dir,
		.max_conn = app->cfg.max_conn,
		.conn_per_addr = app->cfg.conn_per_addr,
		.conn_reserve = app->cfg.conn_reserve,
		.header_timeout = app->cfg.header_timeout,
		.idle_timeout = app->cfg.idle_timeout,
		.min_body_rate = app->cfg.min_body_rate,
		.http = {.secure_cookies = dg_config_site_https(&app->cfg),
			 .static_dir = app->cfg.static_dir,
			 .site_url = app->cfg.site_url,
			 .trusted = &app->cfg.trusted_proxies},
		.env = &app->env,
		.ctx = app,
		.dispatch = dg_app_dispatch,
		.error = dg_app_error,
	};
	/* the first check is done before the first request can ask */
	dg_rc rc = DG_OK;
	if (!app->env.health &&
	    dg_health_start(app->env.store, app->cfg.health_ms, app->env.tally, &app->env.health))
		return dg_err_set(err, DG_EINTERNAL, "the health check could not start");
	rc = dg_server_start(&o, out, err);
	/* a free port picked by the system is the one the default site URL names */
	if (!rc && app->cfg.port == 0)
		app->cfg.port = dg_server_port(*out);
	return rc;
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	return -1;
}

int dg_app_serve(struct dg_app *app)
{
	struct dg_err err = {0};
	char upload_dir[4096];
	snprintf(upload_dir, sizeof(upload_dir), "%s/tmp", app->cfg.data_dir);
	if (make_dir(app->cfg.data_dir) || make_dir(upload_dir)) {
		dg_error("cannot create the data folder %s: %s", upload_dir, strerror(errno));
		return 1;
	}

	/* block the stop signals in every thread we start; this thread waits for them */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (dg_app_start_jobs(app, app->cfg.job_workers, app->cfg.job_lease_sec)) {
		dg_error("the job workers could not start");
		return 1;
	}
	struct dg_server *srv = NULL;
	if (dg_app_listen(app, upload_dir, &srv, &err)) {
		dg_error("cannot serve on %s:%u: %s", app->cfg.host, app->cfg.port, err.msg);
		return 1;
	}
	dg_info("dgov serving %s (%s) on http://%s:%u/", app->env.region.name_zh,
		dg_store_kind_name(app->env.store), app->cfg.host, dg_server_port(srv));
	printf("dgov is serving %s at http://%s:%u/  (Ctrl-C to stop)\n", app->env.region.name_en,
	       app->cfg.host, dg_server_port(srv));
	fflush(stdout);

	int sig = 0;
	sigwait(&stop, &sig);
	dg_info("signal %d: finishing requests in flight, then stopping", sig);
	dg_server_stop(srv, 10000);
	dg_jobs_stop(app->jobs);
	app->jobs = NULL;
	dg_health_stop(app->env.health);
	app->env.health = NULL;
	dg_info("stopped");
	return 0;
}
