/*
 * node.c - the node's own module: the region table, the region row of the
 * demo, /healthz (the last background check of the store, node/health.h)
 * and /readyz (a round trip to the store now). First in the app's list.
 */
#include "node/module.h"

#include <jansson.h>

#include "node/health.h"

/*
 * Both answer {"status": "ok"|"error", "store": kind, "schema": migrations},
 * with "reason" when not ok (503). /healthz reads the last background check
 * and touches no store; /readyz makes the round trip now.
 */
static void reply_health(struct dg_req *r, bool ok, int64_t schema, const char *reason)
{
	json_t *j = json_pack("{s:s, s:s, s:I}", "status", ok ? "ok" : "error", "store",
			      dg_store_kind_name(r->env->store), "schema", (json_int_t)schema);
	if (!ok)
		json_object_set_new(j, "reason", json_string(reason));
	dg_reply_json(r, ok ? 200 : dg_rc_http_status(DG_EUNAVAIL), j);
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
