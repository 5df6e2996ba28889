/*
 * cli.c - `dgov user ...`: accounts from the console, for the first
 * administrator and for scripts.
 *
 *   dgov user add --role citizen|agent|staff|admin --username U --name N
 *                 [--id-number ID] [--phone P] [--dept CODE --staff-roles R]
 *                 [--uscc CODE --org NAME] [--password P]
 *   dgov user list
 *   dgov user passwd U          (new password read from standard input)
 *   dgov user token U [NAME] [--scope read|write]
 *                               (prints a new API token, once; write by default)
 *
 * A password not given with --password is read from standard input, one
 * line, so it stays out of the process list and shell history. Errors go to
 * standard error in English and the exit code is non-zero.
 */
#include "auth/auth.h"

#include <stdio.h>
#include <string.h>

#include "node/env.h"
#include "auth/auth_int.h"
#include "core/str.h"
#include "web/i18n.h"

static const char usage[] =
	"usage: dgov user add --role citizen|agent|staff|admin --username U --name N\n"
	"                     [--id-number ID] [--phone P] [--dept CODE] [--staff-roles R]\n"
	"                     [--uscc CODE] [--org NAME] [--password P]\n"
	"       dgov user list\n"
	"       dgov user passwd USERNAME     (new password on standard input)\n"
	"       dgov user token USERNAME [NAME] [--scope read|write]\n";

static const char *msg(struct dg_env *env, const char *key)
{
	return env->i18n ? dg_i18n_get(env->i18n, "en", key) : key;
}

static int fail_err(struct dg_env *env, const struct dg_err *err)
{
	if (err->field[0])
		fprintf(stderr, "dgov user: %s: %s\n", err->field, msg(env, err->msg));
	else
		fprintf(stderr, "dgov user: %s\n", msg(env, err->msg));
	return 1;
}

/* One line from stdin into buf (newline removed); false when none or too long. */
static bool read_password(char *buf, size_t n)
{
	if (!fgets(buf, (int)n, stdin))
		return false;
	size_t len = strlen(buf);
	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	else if (!feof(stdin))
		return false; /* longer than the buffer */
	if (len && buf[len - 1] == '\r')
		buf[--len] = '\0';
	return true;
}

/* Match "--name VALUE" at argv[*i]; advances *i past the value. */
static bool opt(int argc, char **argv, int *i, const char *name, const char **out)
{
	if (strcmp(argv[*i], name) != 0 || *i + 1 >= argc)
		return false;
	*out = argv[++*i];
	return true;
}

static bool parse_add(int argc, char **argv, struct dg_user_new *u, const char **role)
{
	for (int i = 2; i < argc; i++) {
		if (!(opt(argc, argv, &i, "--role", role) ||
		      opt(argc, argv, &i, "--username", &u->username) ||
		      opt(argc, argv, &i, "--name", &u->name) ||
		      opt(argc, argv, &i, "--id-number", &u->id_number) ||
		      opt(argc, argv, &i, "--phone", &u->phone) ||
		      opt(argc, argv, &i, "--dept", &u->dept_code) ||
		      opt(argc, argv, &i, "--staff-roles", &u->staff_roles) ||
		      opt(argc, argv, &i, "--uscc", &u->uscc) ||
		      opt(argc, argv, &i, "--org", &u->org_name) ||
		      opt(argc, argv, &i, "--password", &u->password))) {
			fprintf(stderr, "dgov user add: unknown or incomplete option %s\n%s",
				argv[i], usage);
			return false;
		}
	}
	return true;
}

static int cmd_add(struct dg_env *env, struct dg_db *db, int argc, char **argv)
{
	struct dg_user_new u = {0};
	struct dg_err err = {0};
	const char *role = NULL;
	char pw[DG_PASSWORD_MAX + 2];
	int64_t id = 0;
	if (!parse_add(argc, argv, &u, &role))
		return 2;
	u.role = dg_role_parse(role);
	if (!u.password) {
		if (!read_password(pw, sizeof(pw))) {
			fprintf(stderr,
				"dgov user add: give --password or one line on standard input\n");
			return 1;
		}
		u.password = pw;
	}
	dg_rc rc = dg_user_create(env, db, &u, &id, &err);
	memset(pw, 0, sizeof(pw));
	if (rc)
		return fail_err(env, &err);
	printf("created %s account %s (id %lld)\n", dg_role_name(u.role), u.username,
	       (long long)id);
	return 0;
}

static int cmd_list(struct dg_db *db)
{
	struct dg_rows *rows = NULL;
	if (dg_db_query(db, dg_sql_user_list, DG_ARGS(DG_VNULL, DG_VNULL, DG_VNULL, DG_VNULL),
			&rows)) {
		fprintf(stderr, "dgov user list: the store could not be read\n");
		return 1;
	}
	printf("%-6s %-8s %-16s %-20s %s\n", "id", "role", "username", "name", "department");
	while (dg_rows_next(rows) == DG_OK)
		printf("%-6lld %-8s %-16s %-20s %s\n", (long long)dg_rows_int(rows, 0),
		       dg_rows_text(rows, 1), dg_rows_text(rows, 2), dg_rows_text(rows, 3),
		       dg_rows_text(rows, 4));
	dg_rows_free(rows);
	return 0;
}

static dg_rc user_id(struct dg_db *db, const char *username, int64_t *id)
{
	dg_rc rc = dg_db_query_int(db, dg_sql_user_id_by_name, DG_ARGS(DG_VT(username)), id);
	if (rc == DG_ENOTFOUND)
		fprintf(stderr, "dgov user: no account named %s\n", username);
	else if (rc)
		fprintf(stderr, "dgov user: the store could not be read\n");
	return rc;
}

static int cmd_passwd(struct dg_env *env, struct dg_db *db, const char *username)
{
	char pw[DG_PASSWORD_MAX + 2];
	struct dg_err err = {0};
	int64_t id = 0;
	if (user_id(db, username, &id))
		return 1;
	if (!read_password(pw, sizeof(pw))) {
		fprintf(stderr, "dgov user passwd: write the new password on standard input\n");
		return 1;
	}
	dg_rc rc = dg_auth_set_password(env, db, id, pw, NULL, &err);
	memset(pw, 0, sizeof(pw));
	if (rc)
		return fail_err(env, &err);
	printf("password changed for %s; their sessions have ended\n", username);
	return 0;
}

/* `token U [NAME] [--scope S]`: the name and scope; false when the arguments are wrong. */
static bool token_args(int argc, char **argv, const char **name, const char **scope)
{
	*name = "cli";
	*scope = "write";
	int named = 0;
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--scope") == 0 && i + 1 < argc)
			*scope = argv[++i];
		else if (!named++ && strncmp(argv[i], "--", 2) != 0)
			*name = argv[i];
		else
			return false;
	}
	return strcmp(*scope, "read") == 0 || strcmp(*scope, "write") == 0;
}

static int cmd_token(struct dg_env *env, struct dg_db *db, const char *username, const char *name,
		     const char *scope)
{
	struct dg_arena *a = dg_arena_new();
	struct dg_err err = {0};
	char *token = NULL;
	int64_t id = 0;
	int code = 1;
	if (user_id(db, username, &id))
		goto out;
	if (dg_token_create(env, db, a, id, name, scope, &token, &err)) {
		code = fail_err(env, &err);
		goto out;
	}
	printf("%s\n", token);
	code = 0;
out:
	dg_arena_free(a);
	return code;
}

static int run(struct dg_env *env, struct dg_db *db, int argc, char **argv)
{
	const char *cmd = argv[1];
	if (strcmp(cmd, "add") == 0)
		return cmd_add(env, db, argc, argv);
	if (strcmp(cmd, "list") == 0 && argc == 2)
		return cmd_list(db);
	if (strcmp(cmd, "passwd") == 0 && argc == 3)
		return cmd_passwd(env, db, argv[2]);
	const char *name, *scope;
	if (strcmp(cmd, "token") == 0 && argc >= 3 && token_args(argc, argv, &name, &scope))
		return cmd_token(env, db, argv[2], name, scope);
	fprintf(stderr, "%s", usage);
	return 2;
}

int dg_user_check(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
		    (i == 1 && strcmp(argv[i], "help") == 0)) {
			fputs(usage, stdout);
			return 0;
		}
	const char *cmd = argc > 1 ? argv[1] : "";
	if (strcmp(cmd, "add") == 0) {
		struct dg_user_new u = {0};
		const char *role = NULL;
		if (!parse_add(argc, argv, &u, &role))
			return 2;
		if (!dg_role_parse(role)) {
			fprintf(stderr,
				"dgov user add: --role must be citizen, agent, staff or admin\n%s",
				usage);
			return 2;
		}
		return -1;
	}
	const char *name, *scope;
	if ((strcmp(cmd, "list") == 0 && argc == 2) || (strcmp(cmd, "passwd") == 0 && argc == 3) ||
	    (strcmp(cmd, "token") == 0 && argc >= 3 && token_args(argc, argv, &name, &scope)))
		return -1;
	fputs(usage, stderr);
	return 2;
}

int dg_user_main(struct dg_env *env, int argc, char **argv)
{
	struct dg_db *db = NULL;
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fprintf(argc < 2 ? stderr : stdout, "%s", usage);
		return argc < 2 ? 2 : 0;
	}
	if (dg_db_get(env->store, &db)) {
		fprintf(stderr, "dgov user: the store is not available\n");
		return 1;
	}
	int code = run(env, db, argc, argv);
	dg_db_put(db);
	return code;
}
