/*
 * node.c - the node's own module: the region table, the region row of the
 * demo, /healthz (the last background check of the store, node/health.h)
 * and /readyz (a round trip to the store now). First in the app's list.
 */
#include "node/module.h"

#include <string.h>

#include "core/buf.h"
#include "node/health.h"

/*
 * Both answer {"status": "ok"|"error", "store": kind, "schema": migrations},
 * with "reason" when not ok (503). /healthz reads the last background check
 * and touches no store; /readyz makes the round trip now.
 */
static void reply_health(struct dg_req *r, bool ok, int64_t schema, const char *reason)
{
	/*
	 * Formatted here rather than built as a jansson object and dumped: a
	 * load balancer asks many times a second, and these are the same bytes
	 * (jansson's compact form) with one buffer instead of a dozen allocations.
	 */
	struct dg_buf b;
	dg_buf_init(&b, 1024);
	dg_rc rc = dg_buf_addf(&b, "{\"status\":\"%s\",\"store\":\"%s\",\"schema\":%lld",
			       ok ? "ok" : "error", dg_store_kind_name(r->env->store),
			       (long long)schema);
	if (!rc && !ok)
		rc = dg_buf_adds(&b, ",\"reason\":");
	if (!rc && !ok)
		rc = dg_buf_add_json_str(&b, reason ? reason : "", reason ? strlen(reason) : 0);
	if (!rc)
		rc = dg_buf_addc(&b, '}');
	if (rc)
		dg_reply_bytes(r, 500, "application/json; charset=utf-8", "{}", 2);
	else
		dg_reply_buf(r, ok ? 200 : dg_rc_http_status(DG_EUNAVAIL),
			     "application/json; charset=utf-8", &b);
	dg_buf_release(&b);
}

static dg_rc readyz(struct dg_req *r)
{
	int64_t schema = 0;
	char reason[160];
	dg_rc rc = dg_health_probe(r->env->store, &schema, reason, sizeof(reason));
	reply_health(r, rc == DG_OK, schema, reason);
	return DG_OK;
}

static dg_rc healthz(struct dg_req *r)
{
	/* no server thread checking (an environment built by hand): ask now */
	if (!r->env->health)
		return readyz(r);
	struct dg_health_state st;
	dg_health_get(r->env->health, &st);
	reply_health(r, st.ok, st.schema, st.reason);
	return DG_OK;
}

static const struct dg_route route_list[] = {
	{"GET", "/healthz", healthz, DG_ROLE_ANY, DG_ROUTE_PUBLIC},
	{"GET", "/readyz", readyz, DG_ROLE_ANY, DG_ROUTE_PUBLIC},
};

static const struct dg_route *node_routes(size_t *n)
{
	*n = sizeof(route_list) / sizeof(route_list[0]);
	return route_list;
}

static dg_rc demo_seed(struct dg_env *env, struct dg_db *db, const struct dg_demo_opts *o,
		       struct dg_err *err)
{
	(void)env;
	(void)o;
	dg_rc rc = dg_db_exec(db,
			      "INSERT INTO region (id, code, name_zh, name_en, hotline)"
			      " VALUES (1, '990100', '示范市', 'Demo City', '12345')",
			      DG_NOARGS, NULL);
	if (rc)
		return dg_err_set(err, rc == DG_ECONFLICT ? rc : DG_EDB,
				  "the region could not be created");
	return DG_OK;
}

static const struct dg_migration *const migrations[] = {dg_env_migrations, NULL};
static const dg_routes_fn routes[] = {node_routes, NULL};

const struct dg_module dg_node_module = {
	.name = "node",
	.migrations = migrations,
	.routes = routes,
	.demo_seed = demo_seed,
};
