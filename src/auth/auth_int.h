/*
 * auth_int.h - what the auth module's files share with each other: the SQL
 * (all of it in auth_sql.c), sign-in with lock-out, password hashing,
 * sessions, CSRF tokens and API tokens. Not for other modules: they use
 * auth.h.
 */
#ifndef DG_AUTH_INT_H
#define DG_AUTH_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "http/req.h"
#include "http/router.h"
#include "store/store.h"

struct dg_env;

#define DG_SESSION_COOKIE  "dg_session"
#define DG_CSRF_COOKIE     "dg_csrf"
#define DG_SESSION_IDLE_MS (12LL * 3600 * 1000)
#define DG_SESSION_MAX_MS  (7LL * 24 * 3600 * 1000)
#define DG_LOCK_FAILURES   5
#define DG_LOCK_MS         (15LL * 60 * 1000)
#define DG_LOGIN_WINDOW_MS                                                                         \
	(15LL * 60 * 1000) /* per-address sign-in attempts are counted in these */
#define DG_ATTEMPT_KEEP_MS                                                                         \
	(24LL * 3600 * 1000) /* failure counts untouched this long are forgotten */
/* one-time codes of sign-up and password reset (codes.c) */
#define DG_CODE_DIGITS    6
#define DG_CODE_TTL_MS    (10LL * 60 * 1000) /* a code is good for ten minutes */
#define DG_CODE_TRIES     5                  /* tries at one code, right or wrong */
#define DG_CODE_WINDOW_MS (60LL * 60 * 1000) /* codes sent are counted in hours */
#define DG_CODE_PER_PHONE 5                  /* codes sent to one phone an hour */
#define DG_CODE_PER_ADDR  20                 /* codes asked for from one address an hour */
#define DG_FLOW_BYTES     32                 /* the random flow token, hex in the form */
#define DG_PASSWORD_MIN   8
#define DG_PASSWORD_MAX   128
#define DG_TOKEN_PREFIX   "dgt_"
#define DG_TOKEN_NAME_MAX 64

/* SQL of the auth domain (auth_sql.c). */
extern const char dg_sql_user_by_session[];
extern const char dg_sql_user_by_token[];
extern const char dg_sql_session_touch[];
extern const char dg_sql_session_insert[];
extern const char dg_sql_session_delete[];
extern const char dg_sql_session_delete_user[];
extern const char dg_sql_session_purge[];
extern const char dg_sql_login_lookup[];
extern const char dg_sql_attempt_get[];
extern const char dg_sql_attempt_purge[];
extern const char dg_sql_attempt_fail[];
extern const char dg_sql_attempt_lock[];
extern const char dg_sql_attempt_clear[];
extern const char dg_sql_attempt_clear_all[];
extern const char dg_sql_addr_hit[];
extern const char dg_sql_addr_success[];
extern const char dg_sql_addr_purge[];
extern const char dg_sql_token_revoke_user[];
extern const char dg_sql_user_insert[];
extern const char dg_sql_user_set_pw[];
extern const char dg_sql_user_username[];
extern const char dg_sql_user_sealed[];
extern const char dg_sql_user_list[];
extern const char dg_sql_user_id_by_name[];
extern const char dg_sql_dept_by_code[];
extern const char dg_sql_dept_list[];
extern const char dg_sql_dept_insert[];
extern const char dg_sql_token_insert[];
extern const char dg_sql_token_touch[];
extern const char dg_sql_token_list[];
extern const char dg_sql_token_revoke[];

extern const char dg_sql_code_insert[];
extern const char dg_sql_code_get[];
extern const char dg_sql_code_try[];
extern const char dg_sql_code_use[];
extern const char dg_sql_code_purge[];
extern const char dg_sql_code_send_hit[];
extern const char dg_sql_code_send_purge[];
extern const char dg_sql_user_by_id_index[];

/*
 * Count one code asked for, for phone and from addr ("" when not known),
 * before anything is looked up: ELOCKED when either is past its cap in the
 * current hour. Counted for phones with and without accounts alike.
 */
dg_rc dg_code_throttle(struct dg_env *env, struct dg_db *db, const char *phone,
		       const char *addr) DG_MUST;
/*
 * Start a flow of purpose ("signup" | "reset"): a random flow token and a
 * code of DG_CODE_DIGITS digits (both in a), stored only hashed, with
 * subject (borrowed, sealed; NULL when the details given matched nothing,
 * and then no code will ever pass) for DG_CODE_TTL_MS.
 */
dg_rc dg_code_start(struct dg_env *env, struct dg_db *db, struct dg_arena *a, const char *purpose,
		    json_t *subject, char **flow, char **code) DG_MUST;
/*
 * Try code against flow: DG_OK and *subject (owned) when it is right.
 * Otherwise err->msg is a message key: ENOTFOUND for an unknown, used or
 * expired flow ("auth.code.err.expired"), ELOCKED past DG_CODE_TRIES tries
 * ("auth.code.err.tries"), EAUTH for a wrong code ("auth.code.err.wrong",
 * *left tries remaining).
 */
dg_rc dg_code_check(struct dg_env *env, struct dg_db *db, const char *purpose, const char *flow,
		    const char *code, json_t **subject, int *left, struct dg_err *err) DG_MUST;
/* Spend flow's code, inside the transaction that does what it allowed: ECONFLICT when spent. */
dg_rc dg_code_use(struct dg_db *db, const char *flow) DG_MUST;
/* Whether s is a well-formed flow token (hex of DG_FLOW_BYTES). */
bool dg_code_flow_ok(const char *s);

/* "citizen" | "agent" | "staff" | "admin" and back; parse gives 0 for anything else. */
const char *dg_role_name(enum dg_role role);
enum dg_role dg_role_parse(const char *s);

/* argon2id at the app's configured cost; out has crypto_pwhash_STRBYTES. */
dg_rc dg_pw_hash(const struct dg_env *env, const char *password, char *out) DG_MUST;
/* EINVAL with a message key in *why ("auth.pw_short", ...) when a new password is unfit. */
dg_rc dg_pw_check(const char *password, const char **why) DG_MUST;

/*
 * Check a username and password from client address addr ("" when not
 * known). First the address: past the node's login_limit attempts in a
 * window it is ELOCKED without any hashing ("auth.err.throttled" in err).
 * Then failures are counted per username and address (known names or not,
 * so the answer reveals nothing): five lock the name for that address only
 * (ELOCKED, "auth.err.locked"). EAUTH for a wrong pair. Unknown users cost
 * the same hashing work as known ones. err may be NULL.
 */
dg_rc dg_auth_login(struct dg_env *env, struct dg_db *db, const char *addr, const char *username,
		    const char *password, int64_t *user_id, struct dg_err *err) DG_MUST;
/* Clear the failure count and lock of a user. ENOTFOUND for no such user. */
dg_rc dg_auth_unlock(struct dg_db *db, int64_t user_id) DG_MUST;
/* Replace a user's password (checked with dg_pw_check), end their other sessions and all their API
 * tokens. */
dg_rc dg_auth_set_password(struct dg_env *env, struct dg_db *db, int64_t user_id,
			   const char *password, const char *keep_session,
			   struct dg_err *err) DG_MUST;

/* Hex BLAKE2b-256 of s (unkeyed), 64 chars, in the arena: what the store keeps for secrets. */
char *dg_auth_hash(struct dg_arena *a, const char *s);

/* Start a session for user_id (ending the request's current one) and set the cookie. */
dg_rc dg_session_start(struct dg_req *r, int64_t user_id) DG_MUST;
/* End the request's session (row and cookie). */
dg_rc dg_session_end(struct dg_req *r) DG_MUST;
/* Load r->user from the session cookie, if any; sets *csrf_secret (or NULL). */
dg_rc dg_session_identify(struct dg_req *r, const char **csrf_secret) DG_MUST;
/* Load r->user from "Authorization: Bearer ..."; EAUTH for a bad token. */
dg_rc dg_token_identify(struct dg_req *r, const char *bearer) DG_MUST;

/* Set r->csrf for a session secret, or for the anonymous cookie (set when missing). */
void dg_csrf_set(struct dg_req *r, const char *session_secret);

/*
 * Create an API token for user_id with scope "read" (GET and HEAD on the
 * API) or "write" (all of the API the account may use): *token (arena) is
 * shown once and never stored. EINVAL for a bad name or scope.
 */
dg_rc dg_token_create(struct dg_env *env, struct dg_db *db, struct dg_arena *a, int64_t user_id,
		      const char *name, const char *scope, char **token,
		      struct dg_err *err) DG_MUST;
/* Revoke a token of user_id; ENOTFOUND when it is not theirs or already revoked. */
dg_rc dg_token_revoke(struct dg_db *db, int64_t user_id, int64_t token_id) DG_MUST;

/* ---- what the auth pages share (routes.c) ---- */
#define DG_AUTH_FIELD_MAX 256 /* bytes in any one text field of the auth forms */
/* A form field, "" when absent. */
const char *auth_field(struct dg_req *r, const char *name);
/* The first submitted field over DG_AUTH_FIELD_MAX bytes, or NULL. */
const char *auth_oversized(struct dg_req *r);
/* Add an error on field_name with the message key's text in the reader's language. */
void auth_form_error(struct dg_req *r, json_t *data, const char *field_name, const char *key);
/* Keep an answer for the re-rendered form; one over the cap is not echoed back. */
void auth_keep(json_t *data, const char *name, const char *value);
/* "?next=" and next URL-encoded when next is a local path, else "" (arena). */
const char *auth_next_q(struct dg_req *r, const char *next);
/* The client's address: the peer, or what trusted proxies say (proxy.h). */
const char *auth_client_addr(struct dg_req *r);
/* Render with the page's title, prefixed "Error: " when the form has errors (WCAG 3.3.1). */
dg_rc auth_page(struct dg_req *r, unsigned status, const char *tmpl, json_t *data,
		const char *title_key) DG_MUST;

/* A username: 3 to 32 lower-case letters, digits, '_', '.' or '-'. */
bool dg_username_ok(const char *s);
/* Sign-up and password reset by a code sent to the phone (signup.c). */
const struct dg_route *dg_auth_signup_routes(size_t *n);

/* Fill a struct dg_user from a row of dg_sql_user_by_* (columns 0..9). */
struct dg_user *dg_user_from_row(struct dg_arena *a, struct dg_rows *rows, const char *lang);

#endif
