/*
 * module.h - what a domain declares to join the node: one descriptor, as
 * nginx's ngx_module_t is for its modules.
 *
 * A domain (src/<domain>) exports one `const struct dg_module`; src/app
 * holds the ordered array of them and nothing else per domain. The order is
 * the dependency order: a module's migrations may refer to tables of the
 * modules before it, its demo seed may use their rows, and its routes are
 * matched after theirs (the router takes the first match). Every list here
 * is terminated by an empty entry; every field may be NULL.
 */
#ifndef DG_NODE_MODULE_H
#define DG_NODE_MODULE_H

#include "core/err.h"
#include "http/router.h"
#include "node/env.h"
#include "store/store.h"

struct dg_job;       /* jobs/jobs.h: what a job's handler sees */
struct dg_demo_opts; /* node/demo.h */

/* A kind of durable job the module runs (jobs/jobs.h's dg_job_fn). */
struct dg_job_kind {
	const char *kind; /* "datastore.load" */
	dg_rc (*run)(struct dg_job *job, struct dg_err *err);
	int max_attempts;
};

/*
 * A task run on a schedule: every every_sec seconds, on one node of the
 * region, as a job of kind `name` (so it is durable, shows progress and is
 * never run twice for one period, even with several nodes). The kind must
 * be one of the module's job kinds.
 */
struct dg_task {
	const char *name;
	unsigned every_sec;
};

/* A `dgov COMMAND ...` of the module: argv[0] is the command. Returns the exit code. */
struct dg_command {
	const char *name;    /* "user" */
	const char *summary; /* one line for `dgov --help` */
	int (*run)(struct dg_env *env, int argc, char **argv);
	/*
	 * May be NULL: looks at the arguments before anything is opened, so
	 * that help and mistakes create no database or key file. Returns -1
	 * when run should be called; otherwise it has printed the help (and
	 * returns 0) or what is wrong (and returns 2), and main exits with that.
	 */
	int (*check)(int argc, char **argv);
};

/* A module's routes, as one of its files lists them. */
typedef const struct dg_route *(*dg_routes_fn)(size_t *n);

struct dg_module {
	const char *name;
	/* table lists, applied in this order (migration names must be unique across modules) */
	const struct dg_migration *const *migrations;
	const dg_routes_fn *routes;
	const struct dg_job_kind *jobs;
	const struct dg_task *tasks;
	const struct dg_command *commands;
	/* once the environment is open, before serving or a command (settings, caches) */
	dg_rc (*init)(struct dg_env *env, struct dg_err *err);
	/* the module's part of the demo region, in the one demo transaction */
	dg_rc (*demo_seed)(struct dg_env *env, struct dg_db *db, const struct dg_demo_opts *o,
			   struct dg_err *err);
};

/* The node's own module: the region table, /healthz and /readyz (node.c). */
extern const struct dg_module dg_node_module;

#endif
