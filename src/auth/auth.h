/*
 * auth.h - accounts, sessions, CSRF and API tokens.
 *
 * Accounts are citizens, enterprise agents, department staff and
 * administrators (enum dg_role). Passwords are argon2id hashes (libsodium);
 * ID numbers and phones are sealed with a blind index (keys.h). A session is
 * a random token in an HttpOnly, SameSite=Lax cookie ("dg_session"); the store
 * keeps only its BLAKE2b hash. API tokens ("Authorization: Bearer dgt_...")
 * are stored hashed the same way. Repeated failed sign-ins lock the account
 * (and slow the answer) for a while.
 *
 * CSRF: every page request gets r->csrf, a token bound to the session (or,
 * before sign-in, to an anonymous "dg_csrf" cookie); every form posts it back
 * as the field "csrf", and an unsafe request without the right token is
 * refused with 403 and changes nothing. Requests authenticated by an API token
 * carry no cookies and need no CSRF token.
 */
#ifndef DG_AUTH_H
#define DG_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "http/req.h"
#include "http/router.h"
#include "store/store.h"
#include "node/module.h"

struct dg_env;

/* The auth tables (users, departments, sessions, tokens, ...). */
extern const struct dg_migration dg_auth_migrations[];

/*
 * Work out who is asking: an API token ("Authorization: Bearer dgt_...", or
 * bare as CKAN clients send it, in X-CKAN-API-Key or Authorization), else
 * the session cookie. Bare values without the "dgt_" prefix are left alone
 * (open-data app keys). Sets r->user and
 * r->session_hash (or leaves them NULL) and r->csrf, setting the anonymous
 * CSRF cookie on the reply when the visitor has none. EAUTH for a bearer
 * token that is unknown, expired or revoked.
 */
dg_rc dg_auth_identify(struct dg_req *r) DG_MUST;

/* For unsafe methods from a browser: the form's "csrf" must match. EDENIED otherwise. */
dg_rc dg_auth_check_csrf(struct dg_req *r) DG_MUST;

/* Sign-in, sign-out, account, tokens, and the administrators' user pages. */
const struct dg_route *dg_auth_routes(size_t *n);

/* The code of the signed-in user's department ("" when none: not staff, or no such department). */
dg_rc dg_auth_dept_code(struct dg_req *r, struct dg_db *db, const char **code) DG_MUST;
/*
 * The signed-in user's account as JSON {id, username, name, role, dept,
 * staff_roles, uscc, org_name, id_number, phone, revealed}: the ID number and
 * phone unsealed, in full when full, else masked. EAUTH when the account is gone.
 */
dg_rc dg_auth_me_json(struct dg_req *r, bool full, json_t **out) DG_MUST;

/* New account fields; strings borrowed. */
struct dg_user_new {
	enum dg_role role;
	const char *username;
	const char *password;
	const char *name;
	const char *id_number; /* citizens and agents */
	const char *phone;
	const char *dept_code; /* staff */
	const char *staff_roles;
	const char *uscc; /* agents */
	const char *org_name;
};

/*
 * Validate and create; EINVAL (field named in err) or ECONFLICT (username
 * taken). err->msg holds a message key ("auth.err.id_invalid") for the caller
 * to translate in its reader's language, not finished text.
 */
dg_rc dg_user_create(struct dg_env *env, struct dg_db *db, const struct dg_user_new *u,
		     int64_t *id_out, struct dg_err *err) DG_MUST;

/* `dgov user add|list|passwd|token ...`; argv[0] is "user". Returns the exit code. */
int dg_user_main(struct dg_env *env, int argc, char **argv);
/* Its arguments, before anything is opened (struct dg_command's check). */
int dg_user_check(int argc, char **argv);

/* The demo region's departments and accounts (demo.c), in the demo's transaction. */
dg_rc dg_auth_demo_seed(struct dg_env *env, struct dg_db *db, const struct dg_demo_opts *o,
			struct dg_err *err) DG_MUST;
/* Print the demo accounts and what each can do, for the console. */
void dg_auth_demo_print_accounts(void);

struct dg_job;
/* The "auth.purge" task: ends expired sessions and forgets old sign-in failures. */
dg_rc dg_auth_purge_run(struct dg_job *job, struct dg_err *err) DG_MUST;

/* The auth module: its tables, routes, jobs and demo data, for src/app. */
extern const struct dg_module dg_auth_module;

#endif
