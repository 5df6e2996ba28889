/*
 * env.h - the running node as every domain sees it: the store, the keys,
 * the templates and messages, the region and the settings. (The request's
 * own connection, taken from env->store's pool, is dg_req_db in
 * web/page.h, since its error speaks the requester's language.)
 *
 * The app (src/app) owns one environment and fills it before any domain
 * runs; domains only borrow it (r->env in a handler, the env argument of a
 * module's hooks). Nothing here changes after start-up except the region,
 * which `dgov demo` reloads before serving. This header sits below every
 * domain and above core, store and http: it names the templates and
 * messages only as opaque types, so the web layer can build on it.
 */
#ifndef DG_NODE_ENV_H
#define DG_NODE_ENV_H

#include <jansson.h>
#include <stdbool.h>

#include "core/config.h"
#include "core/err.h"
#include "core/keys.h"
#include "http/req.h"
#include "store/store.h"

struct dg_tmpl_set;
struct dg_i18n;
struct dg_health; /* node/health.h */
struct dg_pcache; /* web/pcache.h */
struct dg_tally;  /* store/tally.h */

/* The region this node serves (one row in the store). */
struct dg_region {
	char code[16]; /* administrative division code, e.g. "990100" */
	char name_zh[128];
	char name_en[128];
	char hotline[32]; /* e.g. "12345" */
};

struct dg_env {
	const struct dg_config *cfg; /* the settings: data folder, caps, costs, site */
	struct dg_keys keys;
	struct dg_store *store;
	struct dg_tmpl_set *tmpl;
	struct dg_i18n *i18n;
	struct dg_region region;
	/* the store's last health check, for /healthz; NULL while no server runs */
	struct dg_health *health;
	/* rendered pages kept by version (web/pcache.h); NULL when off (--page-cache-mb 0) */
	struct dg_pcache *pages;
	/*
	 * Counts held in memory and written in batches (store/tally.h): the
	 * open data's quotas and usage counters; NULL writes each call at once
	 */
	struct dg_tally *tally;
	/*
	 * the open data's search counts, first pages and facets kept by the
	 * catalogue's version (opendata/catalog/search.c), a table of its own
	 * since that version is not the service catalogue's; NULL when off
	 */
	struct dg_pcache *searches;
	/*
	 * What needs the signed-in requester (material asked for, unread
	 * messages, certificates issued; for staff, their queue), as JSON for
	 * the home and account pages (web/page.h dg_page_attention). Set once by
	 * the module that knows, from its init; NULL when none does.
	 */
	dg_rc (*attention)(struct dg_req *r, json_t **out);
	/*
	 * Sign-up's real-name check: DG_OK when name and id_number are one
	 * living person of the population registry, DG_ENOTFOUND when not (no
	 * record, another name, an ended record). Set by the module that keeps
	 * the registry, from its init; NULL when none does, and then no one can
	 * sign up online.
	 */
	dg_rc (*person_check)(struct dg_env *env, struct dg_db *db, const char *name,
			      const char *id_number);
	/*
	 * Send text (a one-time code's message, plain text) to a mobile phone,
	 * queued in the caller's transaction on db. DG_EUNAVAIL when the node
	 * has no gateway for text messages. Set by the module that delivers
	 * notices, from its init; NULL when none does.
	 */
	dg_rc (*send_text)(struct dg_env *env, struct dg_db *db, const char *phone,
			   const char *text, struct dg_err *err);
	/*
	 * Whether an application for item (the catalogue's JSON) has anything
	 * the exchange can fetch for the applicant (form fields that name a
	 * registry field, materials shared in its guide): the cases module then
	 * sends a new application to the pre-fill step (/my/cases/{ref}/prefill)
	 * before its form. Set once by the exchange from its init; NULL when
	 * no module does.
	 */
	bool (*prefill_offered)(const json_t *item);
	/*
	 * Where the answers of case ref that were fetched from registries came
	 * from: *out (owned) maps each answer's name to {dept_name, registry,
	 * effective, updated}, in the requester's language, for the question
	 * page. Set by the exchange from its init; NULL when no module does.
	 */
	dg_rc (*prefill_sources)(struct dg_req *r, const char *ref, json_t **out);
	/*
	 * A member of staff or an administrator (r->user) is shown the record
	 * of the person with account holder, for case ref of item: one audit
	 * record ("record.view", actor user:ID, subject the person's blind
	 * index, purpose the case) and a line on that person's /my/data-use,
	 * committed before the page is shown (in db's transaction when it is
	 * in one). what is "case" or "reveal". Set by the exchange from its
	 * init; NULL when no module does.
	 */
	dg_rc (*record_viewed)(struct dg_req *r, struct dg_db *db, int64_t holder, const char *ref,
			       const char *item, const char *what);
};

/* The region table's migration (owned by the node, applied before any domain's). */
extern const struct dg_migration dg_env_migrations[];

/* Read the region settings from the store into env->region (a placeholder when none yet). */
dg_rc dg_env_load_region(struct dg_env *env) DG_MUST;

#endif
