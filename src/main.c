/*
 * main.c - the dgov command line: serve, demo, user, jobs, rule, migrate,
 * routes. Configuration flags (see config.h) may appear anywhere after the
 * command; everything else goes to the command. Help and wrong arguments
 * are answered before the store and the key are opened, so they create
 * nothing in the current folder.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "cmd/rule.h"
#include "core/config.h"
#include "core/log.h"
#include "core/str.h"

#define DGOV_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f,
		"dgov %s - a digital-government platform in one binary\n"
		"\n"
		"usage: dgov COMMAND [options]\n"
		"\n"
		"commands:\n"
		"  serve                 serve the portal, the API and the back office\n"
		"  demo [--if-missing]   create the demo region (departments, staff, residents,\n"
		"                        enterprises, an administrator) and print its accounts\n",
		DGOV_VERSION);
	size_t n = 0;
	const struct dg_module *const *mods = dg_app_modules(&n);
	for (size_t i = 0; i < n; i++)
		for (const struct dg_command *c = mods[i]->commands; c && c->name; c++)
			fprintf(f, "  %s\n", c->summary);
	fprintf(f,
		"  rule check|dump|test|run|explain|whatif ...   policy rules (dgov rule --help)\n"
		"  migrate               bring the database schema up to date and exit\n"
		"  routes                list every route and who may call it\n"
		"  --help, --version\n"
		"\n"
		"options (also from the environment, see README):\n%s",
		dg_config_usage());
}

static bool is_help(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* `dgov demo`'s own arguments, as app/demo.c takes them: [--if-missing] [--rows N] [--datasets N]
 * [--with-runs]. */
static bool demo_args_ok(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		int64_t rows = 0;
		if (strcmp(argv[i], "--if-missing") == 0 || strcmp(argv[i], "--with-runs") == 0)
			continue;
		if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc &&
		    dg_str_to_i64(dg_str_of(argv[i + 1]), &rows) == DG_OK && rows >= 0 &&
		    rows <= 100000000) {
			i++;
			continue;
		}
		if (strcmp(argv[i], "--datasets") == 0 && i + 1 < argc &&
		    dg_str_to_i64(dg_str_of(argv[i + 1]), &rows) == DG_OK && rows >= 0 &&
		    rows <= 10000000) {
			i++;
			continue;
		}
		return false;
	}
	return true;
}

/*
 * Help and wrong arguments, answered before anything is opened (a store or
 * a key file would otherwise be created in the current folder): -1 when
 * the command should run, else the exit code, having printed what to do.
 */
static int check_args(const char *cmd, const struct dg_command *mc, int argc, char **argv)
{
	static const struct {
		const char *name, *usage;
	} own[] = {
		{"serve", "usage: dgov serve [options]\n"},
		{"demo", "usage: dgov demo [--if-missing] [--rows N] [--datasets N] [--with-runs]"
			 " [options]\n"},
		{"migrate", "usage: dgov migrate [options]\n"},
		{"routes", "usage: dgov routes [options]\n"},
	};
	if (mc && mc->check)
		return mc->check(argc, argv);
	bool help = argc > 1 && strcmp(argv[1], "help") == 0;
	for (int i = 1; i < argc; i++)
		help |= is_help(argv[i]);
	if (mc) {
		if (!help)
			return -1;
		printf("usage: dgov %s\n\noptions (see dgov --help):\n%s", mc->summary,
		       dg_config_usage());
		return 0;
	}
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		if (strcmp(cmd, own[i].name) != 0)
			continue;
		bool ok = strcmp(cmd, "demo") == 0 ? demo_args_ok(argc, argv) : argc == 1;
		if (help) {
			printf("%s\noptions:\n%s", own[i].usage, dg_config_usage());
			return 0;
		}
		if (ok)
			return -1;
		fprintf(stderr, "dgov %s: unexpected argument '%s'\n%s", cmd,
			argc > 1 ? argv[1] : "", own[i].usage);
		return 2;
	}
	return -1;
}

/*
 * Split argv after the command into configuration flags (applied to cfg)
 * and the command's own arguments (left in rest, in order).
 */
static int split_args(struct dg_config *cfg, int argc, char **argv, int *nrest, char **rest)
{
	char *flags[128];
	int nflags = 0;
	*nrest = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) == 0 && dg_config_has_flag(a + 2)) {
			if (nflags + 2 > 128)
				break;
			flags[nflags++] = argv[i];
			if (!strchr(a, '=') && i + 1 < argc)
				flags[nflags++] = argv[++i];
			continue;
		}
		rest[(*nrest)++] = argv[i];
	}
	struct dg_err err = {0};
	if (dg_config_from_env(cfg, &err) || dg_config_from_args(cfg, nflags, flags, &err)) {
		fprintf(stderr, "dgov: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int print_routes(struct dg_app *app)
{
	static const struct {
		unsigned bit;
		const char *name;
	} roles[] = {{DG_ROLE_ANON, "anonymous"},
		     {DG_ROLE_CITIZEN, "citizen"},
		     {DG_ROLE_AGENT, "agent"},
		     {DG_ROLE_STAFF, "staff"},
		     {DG_ROLE_ADMIN, "admin"}};
	for (size_t i = 0; i < dg_router_count(app->router); i++) {
		const struct dg_route *rt = dg_router_at(app->router, i);
		printf("%-6s %-40s", rt->method, rt->pattern);
		for (size_t k = 0; k < sizeof(roles) / sizeof(roles[0]); k++)
			if (rt->roles & roles[k].bit)
				printf(" %s", roles[k].name);
		printf("\n");
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("dgov %s\n", DGOV_VERSION);
		return 0;
	}
	const char *cmd = argv[1];
	/* the rule library is pure: it takes its own arguments and no store */
	if (strcmp(cmd, "rule") == 0)
		return dg_rule_main(argc - 1, argv + 1);

	static const char *const own[] = {"serve", "demo", "migrate", "routes"};
	const struct dg_command *mc = dg_app_command(cmd);
	int ok = mc != NULL;
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		ok |= strcmp(cmd, own[i]) == 0;
	if (!ok) {
		fprintf(stderr, "dgov: unknown command '%s'\n\n", cmd);
		usage(stderr);
		return 2;
	}

	struct dg_config cfg;
	dg_config_defaults(&cfg);
	char **rest = calloc((size_t)argc, sizeof(char *));
	int nrest = 0;
	if (!rest || split_args(&cfg, argc - 1, argv + 1, &nrest, rest)) {
		free(rest);
		return 2;
	}
	int early = check_args(cmd, mc, nrest, rest);
	if (early >= 0) {
		free(rest);
		return early;
	}

	struct dg_app app;
	struct dg_err err = {0};
	if (dg_app_open(&app, &cfg, &err)) {
		fprintf(stderr, "dgov: %s\n", err.msg[0] ? err.msg : "cannot start");
		free(rest);
		return 1;
	}
	int code = 0;
	if (strcmp(cmd, "serve") == 0)
		code = dg_app_serve(&app);
	else if (strcmp(cmd, "demo") == 0)
		code = dg_app_demo_main(&app, nrest, rest);
	else if (mc)
		code = mc->run(&app.env, nrest, rest);
	else if (strcmp(cmd, "routes") == 0)
		code = print_routes(&app);
	else if (strcmp(cmd, "migrate") == 0)
		printf("schema is up to date (%s)\n", dg_store_kind_name(app.env.store));
	dg_app_close(&app);
	free(rest);
	return code;
}
