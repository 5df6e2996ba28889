/*
 * app.c - the running node: opening its parts in order, the dispatcher every
 * request goes through (deny by default), /healthz, and serving until told
 * to stop.
 */
#include "app/app.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/auth.h"
#include "cal/cal.h"
#include "cases/cases.h"
#include "catalog/catalog.h"
#include "cert/cert.h"
#include "core/log.h"
#include "core/rand.h"
#include "http/server.h"
#include "jobs/demo_tally.h"
#include "jobs/jobs.h"
#include "notify/notify.h"
#include "opendata/access.h"
#include "opendata/datastore.h"
#include "opendata/opendata.h"
#include "opendata/pages.h"
#include "web/i18n.h"
#include "web/page.h"
#include "web/pages.h"
#include "web/tmpl.h"

const struct dg_migration dg_app_migrations[] = {
	{"app-001-region",
	 "CREATE TABLE region ("
	 " id INTEGER PRIMARY KEY CHECK (id = 1),"
	 " code TEXT NOT NULL,"
	 " name_zh TEXT NOT NULL,"
	 " name_en TEXT NOT NULL,"
	 " hotline TEXT NOT NULL DEFAULT '12345')"},
	{NULL, NULL},
};

static dg_rc healthz(struct dg_req *r);

static const struct dg_route app_routes[] = {
	{"GET", "/healthz", healthz, DG_ROLE_ANY, DG_ROUTE_PUBLIC},
};

static dg_rc healthz(struct dg_req *r)
{
	int64_t version = 0;
	dg_rc rc = dg_store_ping(r->app->store);
	if (!rc)
		rc = dg_store_version(r->app->store, &version);
	json_t *j = json_pack("{s:s, s:s, s:I}", "status", rc ? "error" : "ok", "store",
			      dg_store_kind_name(r->app->store), "schema", (json_int_t)version);
	dg_reply_json(r, rc ? 503 : 200, j);
	return DG_OK;
}

dg_rc dg_app_load_region(struct dg_app *app)
{
	struct dg_db *db = NULL;
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_get(app->store, &db);
	if (rc)
		goto out;
	rc = dg_db_query(db, "SELECT code, name_zh, name_en, hotline FROM region WHERE id = 1",
			 DG_NOARGS, &rows);
	if (rc)
		goto out;
	rc = dg_rows_next(rows);
	if (rc == DG_ENOTFOUND) {
		/* a node without a region yet still names itself on its pages */
		snprintf(app->region.code, sizeof(app->region.code), "%s", "");
		snprintf(app->region.name_zh, sizeof(app->region.name_zh), "%s", "dgov 政务服务平台");
		snprintf(app->region.name_en, sizeof(app->region.name_en), "%s", "dgov government services");
		snprintf(app->region.hotline, sizeof(app->region.hotline), "%s", "12345");
		rc = DG_OK;
		goto out;
	}
	if (rc)
		goto out;
	snprintf(app->region.code, sizeof(app->region.code), "%s", dg_rows_text(rows, 0));
	snprintf(app->region.name_zh, sizeof(app->region.name_zh), "%s", dg_rows_text(rows, 1));
	snprintf(app->region.name_en, sizeof(app->region.name_en), "%s", dg_rows_text(rows, 2));
	snprintf(app->region.hotline, sizeof(app->region.hotline), "%s", dg_rows_text(rows, 3));
out:
	dg_rows_free(rows);
	dg_db_put(db);
	return rc;
}

static dg_rc add_routes(struct dg_app *app, struct dg_err *err)
{
	/* domains' routes come before the general pages, so a domain's page
	 * (e.g. /services) replaces the thin entrance of the same path */
	const struct dg_route *(*const sources[])(size_t *) = {
		dg_catalog_edit_routes, dg_catalog_routes,      dg_cases_apply_routes,
		dg_cases_office_routes, dg_cases_api_routes,    dg_od_access_routes,
		dg_od_access_admin_routes,
		dg_opendata_routes,
		dg_od_pages_routes,     dg_od_manage_routes,
		dg_datastore_routes,    dg_auth_routes,         dg_jobs_routes,
		dg_cert_routes,         dg_notify_routes,       dg_cal_routes,
		dg_web_routes,
	};
	app->router = dg_router_new();
	if (dg_router_add(app->router, app_routes, sizeof(app_routes) / sizeof(app_routes[0])))
		return dg_err_set(err, DG_EINTERNAL, "a route pattern is malformed");
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		size_t n = 0;
		const struct dg_route *list = sources[i](&n);
		if (n && dg_router_add(app->router, list, n))
			return dg_err_set(err, DG_EINTERNAL, "a route pattern is malformed");
	}
	return DG_OK;
}

const struct dg_migration *const *dg_app_migration_lists(size_t *n)
{
	/* dependency order: accounts' departments before the domains that use them */
	static const struct dg_migration *const lists[] = {
		dg_app_migrations,     dg_jobs_migrations,     dg_auth_migrations,
		dg_catalog_migrations, dg_opendata_migrations, dg_datastore_migrations,
		dg_od_pages_migrations,
		dg_notify_migrations,  dg_cal_migrations,
		dg_cases_migrations,
		dg_cert_migrations,
		dg_od_access_migrations,
	};
	*n = sizeof(lists) / sizeof(lists[0]);
	return lists;
}

dg_rc dg_app_open(struct dg_app *app, const struct dg_config *cfg, struct dg_err *err)
{
	size_t nmigrations = 0;
	const struct dg_migration *const *migrations = dg_app_migration_lists(&nmigrations);
	memset(app, 0, sizeof(*app));
	app->cfg = *cfg;
	dg_log_set_level(cfg->log_level);
	dg_rc rc = dg_rand_init();
	if (rc) {
		dg_err_set(err, rc, "the random number generator could not start");
		goto out;
	}
	rc = dg_keys_load(&app->keys, cfg->key_hex, cfg->key_file, err);
	if (rc)
		goto out;
	unsigned pool = cfg->threads + cfg->job_workers + 2;
	rc = dg_store_open(cfg->db, pool, &app->store, err);
	if (rc)
		goto out;
	rc = dg_store_migrate(app->store, migrations, nmigrations, err);
	if (rc)
		goto out;
	app->tmpl = dg_tmpl_set_new();
	rc = dg_tmpl_load_dir(app->tmpl, cfg->templates_dir, err);
	if (rc)
		goto out;
	char i18n_dir[4096];
	snprintf(i18n_dir, sizeof(i18n_dir), "%s/i18n", cfg->templates_dir);
	rc = dg_i18n_load_dir(i18n_dir, &app->i18n, err);
	if (!rc)
		rc = dg_notify_configure(cfg->webhook_url, cfg->webhook_secret, app->i18n, err);
	if (rc)
		goto out;
	rc = add_routes(app, err);
	if (rc)
		goto out;
	rc = dg_app_load_region(app);
	if (rc)
		dg_err_set(err, rc, "the region settings could not be read");
out:
	if (rc)
		dg_app_close(app);
	return rc;
}

void dg_app_close(struct dg_app *app)
{
	if (app->jobs)
		dg_jobs_stop(app->jobs);
	dg_router_free(app->router);
	dg_i18n_free(app->i18n);
	dg_tmpl_set_free(app->tmpl);
	dg_store_close(app->store);
	dg_keys_release(&app->keys);
	memset(app, 0, sizeof(*app));
}

dg_rc dg_req_db(struct dg_req *r, struct dg_db **out)
{
	if (!r->db) {
		dg_rc rc = dg_db_get(r->app->store, &r->db);
		if (rc)
			return dg_err_set(&r->err, rc, "%s", dg_t(r, "error.store_busy"));
		dg_arena_defer(r->arena, (void (*)(void *))dg_db_put, r->db);
	}
	*out = r->db;
	return DG_OK;
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
	dg_rc rc = dg_buf_adds(&b, "/login?next=");
	if (!rc)
		rc = dg_buf_add_url(&b, r->path, strlen(r->path));
	dg_reply_redirect(r, rc ? "/login" : dg_buf_str(&b));
	dg_buf_release(&b);
}

/* Language and elder mode from the visitor's cookies and headers. */
static void read_prefs(struct dg_req *r)
{
	r->lang = dg_i18n_pick(dg_kvs_get(&r->cookies, "lang"), dg_req_header(r, "Accept-Language"));
	const char *elder = dg_kvs_get(&r->cookies, "elder");
	r->elder = elder && strcmp(elder, "1") == 0;
}

void dg_app_error(struct dg_req *r, dg_rc rc)
{
	read_prefs(r);
	render_error(r, rc);
}

void dg_app_dispatch(struct dg_req *r)
{
	read_prefs(r);

	const char *allow = NULL;
	dg_rc rc = dg_router_match(r->app->router, r->method, r->path, r->arena, &r->params,
				   &r->route, &allow);
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

	dg_demo_tally_register();
	dg_datastore_register_jobs();
	dg_notify_register_jobs();
	if (dg_jobs_start(app->store, app->cfg.job_workers, app->cfg.job_lease_sec, &app->jobs)) {
		dg_error("the job workers could not start");
		return 1;
	}
	struct dg_server_opts o = {
		.host = app->cfg.host,
		.port = app->cfg.port,
		.threads = app->cfg.threads,
		.max_body = app->cfg.max_body,
		.max_upload = app->cfg.max_upload,
		.max_header = app->cfg.max_header,
		.upload_dir = upload_dir,
		.app = app,
		.dispatch = dg_app_dispatch,
		.error = dg_app_error,
	};
	struct dg_server *srv = NULL;
	if (dg_server_start(&o, &srv, &err)) {
		dg_error("cannot serve on %s:%u: %s", app->cfg.host, app->cfg.port, err.msg);
		return 1;
	}
	dg_info("dgov serving %s (%s) on http://%s:%u/", app->region.name_zh,
		dg_store_kind_name(app->store), app->cfg.host, dg_server_port(srv));
	printf("dgov is serving %s at http://%s:%u/  (Ctrl-C to stop)\n", app->region.name_en,
	       app->cfg.host, dg_server_port(srv));
	fflush(stdout);

	int sig = 0;
	sigwait(&stop, &sig);
	dg_info("signal %d: finishing requests in flight, then stopping", sig);
	dg_server_stop(srv, 10000);
	dg_jobs_stop(app->jobs);
	app->jobs = NULL;
	dg_info("stopped");
	return 0;
}
