/*
 * module.c - the inbox's descriptor: messages, the inbox pages, the signed
 * webhook's delivery job and its settings.
 */
#include "notify/internal.h"
#include "notify/notify.h"

#include <curl/curl.h>

#include "node/env.h"

static const struct dg_migration *const migrations[] = {dg_notify_migrations, NULL};
static const dg_routes_fn routes[] = {dg_notify_routes, NULL};
static const struct dg_job_kind jobs[] = {
	{NOTIFY_JOB, notify_webhook_run, NOTIFY_ATTEMPTS},
	{NOTIFY_TEXT_JOB, notify_text_run, NOTIFY_TEXT_ATTEMPTS},
	{NULL, NULL, 0},
};

static dg_rc init(struct dg_env *env, struct dg_err *err)
{
	/* at start-up, before any worker thread can make the first request */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	notify_set_keys(&env->keys);
	env->send_text = notify_send_text;
	return dg_notify_configure(env->cfg->webhook_url, env->cfg->webhook_secret, env->i18n, err);
}

const struct dg_module dg_notify_module = {
	.name = "notify",
	.migrations = migrations,
	.routes = routes,
	.jobs = jobs,
	.init = init,
	.demo_seed = dg_notify_demo_seed,
};
