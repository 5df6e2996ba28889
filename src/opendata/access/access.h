/*
 * access.h - who may use the open data, and how much (opendata/access):
 * app keys, daily quotas, conditional data behind approved applications,
 * and usage counters; what the DataStore, the catalogue, the API and the
 * module may use. Its files (access.c, the user's and the office's pages
 * in pages.c, the administrator's in admin.c) share access_int.h.
 *
 * An app belongs to a signed-in user and has a key ("dgk_" and 48 hex
 * characters) shown once and stored as a BLAKE2b hash. CKAN clients send it
 * in X-CKAN-API-Key or bare in Authorization. Every CKAN API call and dump
 * counts against a daily quota (UTC days): per app, per signed-in user, or
 * per client address for anonymous callers (behind a trusted proxy, the
 * address it forwarded: core/proxy.h); the limits live in the store
 * (od_access_settings, od_apps.daily_quota) so every node sees the same.
 * Datasets of the conditional tier are listed, but their rows are served
 * only to an app holding an unexpired grant (an approved application) and to
 * the owning department. Quotas and counters are counted in memory and
 * written in batches, once a second (store/tally.h).
 */
#ifndef DG_OD_ACCESS_H
#define DG_OD_ACCESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "http/req.h"
#include "http/router.h"
#include "store/store.h"

extern const struct dg_migration dg_od_access_migrations[];

/* /data/apps, /data/applications, /data/datasets/{id}/apply, /office/data-applications. */
const struct dg_route *dg_od_access_routes(size_t *n);

/* /admin/data-access: default quotas, and every app's quota and key (admin.c). */
const struct dg_route *dg_od_access_admin_routes(size_t *n);

/* Who is calling the data API, as the gate found it. */
struct dg_od_caller {
	int64_t app_id; /* the app whose key came with the request, else 0 */
};

/*
 * The gate in front of the CKAN API and the dumps: resolves an app key, and
 * counts the call against its quota: a write (write true: an action that
 * changes the catalogue or the DataStore) by a department's staff or an
 * administrator against their write budget (the setting
 * staff_write_daily, per account), anything else against the daily read
 * quota (anon_daily, app_daily, or the app's own). When it returns other
 * than DG_OK the reply is already made: 403 for an unknown or revoked key,
 * 429 over quota with Retry-After (seconds to the next UTC day),
 * RateLimit-Policy naming the quota, and the quota's name in the error
 * ("quota") and its message, in CKAN's error envelope for action (or plain
 * JSON when action is NULL).
 */
dg_rc dg_od_access_gate(struct dg_req *r, const char *action, bool write,
			struct dg_od_caller *c) DG_MUST;

/*
 * The headers of a 429: Retry-After (retry_s seconds, at least 1) and
 * RateLimit-Policy with the quota's name and limit, over window_s seconds,
 * or, when window_s is 0, as a number of requests at once.
 */
void dg_od_limit_headers(struct dg_req *r, const char *name, int64_t limit, int64_t window_s,
			 int64_t retry_s);

/*
 * May the requester read the rows of resource_id? DG_OK for resources of
 * open datasets (or none); for a conditional dataset only with an app key
 * holding an unexpired grant, else DG_EDENIED with a message in err. The
 * owning department's staff and administrators are let through by the caller.
 * The app is the one the gate found (r->app_id), read again from the key only
 * where no gate ran (the pages).
 */
dg_rc dg_od_access_rows(struct dg_req *r, struct dg_db *db, const char *resource_id,
			struct dg_err *err) DG_MUST;

/*
 * dg_od_access_rows for a caller no longer at hand, by its app id (0:
 * none): *ok whether the rows are still open to it. A long download asks
 * between its pages, so a grant that ends stops it.
 */
dg_rc dg_od_rows_open_to(struct dg_db *db, const char *resource_id, int64_t app_id,
			 bool *ok) DG_MUST;

enum dg_od_count_kind { DG_OD_VIEW, DG_OD_DOWNLOAD, DG_OD_CALL };

/*
 * Count one use, by dataset id (package_id, may be "") or, when resource_id is
 * given, by the dataset that owns it; app_id 0 for none. Held by the node's
 * tally and written within a second (db, not in a transaction, may write);
 * r NULL (no request: tests, commands) writes it at once.
 */
dg_rc dg_od_count(struct dg_req *r, struct dg_db *db, enum dg_od_count_kind kind,
		  const char *package_id, const char *resource_id, int64_t app_id) DG_MUST;

/*
 * The quotas' and counters' calls this node holds, written now: before a
 * page reads od_quota or od_counters, so that it shows every call so far.
 */
dg_rc dg_od_usage_flush(struct dg_req *r, struct dg_db *db) DG_MUST;

/*
 * Totals of views, downloads and calls, all days, grouped by "dataset"
 * (name), "dept" (department code), "theme" or "app" (name): *out gets
 * {"by": by, "rows": [{"key", "views", "downloads", "calls"}...], "total":
 * {"views", "downloads", "calls"}} (owned by the caller). EINVAL for another by.
 */
dg_rc dg_od_counters(struct dg_db *db, const char *by, json_t **out) DG_MUST;

#endif
