/*
 * node.c - the node's own module: the region table, the region row of the
 * demo, and /healthz. First in the app's list.
 */
#include "node/module.h"

#include <jansson.h>

static dg_rc healthz(struct dg_req *r)
{
	int64_t version = 0;
	dg_rc rc = dg_store_ping(r->env->store);
	if (!rc)
		rc = dg_store_version(r->env->store, &version);
	json_t *j = json_pack("{s:s, s:s, s:I}", "status", rc ? "error" : "ok", "store",
			      dg_store_kind_name(r->env->store), "schema", (json_int_t)version);
	dg_reply_json(r, rc ? dg_rc_http_status(DG_EUNAVAIL) : 200, j);
	return DG_OK;
}

static const struct dg_route route_list[] = {
	{"GET", "/healthz", healthz, DG_ROLE_ANY, DG_ROUTE_PUBLIC},
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
