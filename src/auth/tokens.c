/*
 * tokens.c - API tokens for programs: "dgt_" and 64 hex characters, shown
 * once when made and stored only as a BLAKE2b hash; sent as
 * "Authorization: Bearer dgt_..."; revocable by their owner, and ended when
 * the owner's password changes. A request made with a token carries no
 * cookies, so it needs no CSRF token; for that reason a token is good only
 * under /api/, and elsewhere only to read what is open to anyone (a
 * private file a CKAN client fetches with its key): the browser's pages and
 * forms (making tokens, revealing an ID number, changing the password) want
 * the person, signed in. A token's scope is "read" (GET and HEAD) or
 * "write" (all of the API the account may use).
 */
#include "auth/auth_int.h"

#include <string.h>

#include "node/env.h"
#include "auth/auth.h"
#include "core/date.h"
#include "core/log.h"
#include "core/rand.h"
#include "core/str.h"
#include "http/router.h"
#include "web/page.h"

#define TOKEN_LEN      (4 + 64)
#define TOUCH_EVERY_MS (60LL * 1000)

static bool token_shape_ok(const char *t)
{
	if (strlen(t) != TOKEN_LEN || strncmp(t, DG_TOKEN_PREFIX, 4) != 0)
		return false;
	for (t += 4; *t; t++)
		if (!((*t >= '0' && *t <= '9') || (*t >= 'a' && *t <= 'f')))
			return false;
	return true;
}

dg_rc dg_token_identify(struct dg_req *r, const char *bearer)
{
	struct dg_db *db = NULL;
	struct dg_rows *rows = NULL;
	if (!token_shape_ok(bearer))
		return dg_err_set(&r->err, DG_EAUTH, "%s", dg_t(r, "auth.err.bad_token"));
	dg_rc rc = dg_req_db(r, &db);
	if (rc)
		return rc;
	char *hash = dg_auth_hash(r->arena, bearer);
	rc = dg_db_query(db, dg_sql_user_by_token, DG_ARGS(DG_VT(hash)), &rows);
	if (rc)
		return rc;
	rc = dg_rows_next(rows);
	if (rc) {
		dg_rows_free(rows);
		if (rc == DG_ENOTFOUND)
			return dg_err_set(&r->err, DG_EAUTH, "%s", dg_t(r, "auth.err.bad_token"));
		return rc;
	}
	struct dg_user *u = dg_user_from_row(r->arena, rows, r->lang);
	u->via_token = true;
	int64_t token_id = dg_rows_int(rows, 10), now = dg_now_ms();
	bool read_only = strcmp(dg_rows_text(rows, 11), "write") != 0;
	/* a token's use is recorded once a minute, like a session's: reads stay reads */
	bool stale = dg_rows_int(rows, 12) < now - TOUCH_EVERY_MS;
	/* done with the row, so that no read snapshot outlives it (see session.c) */
	dg_rows_free(rows);
	bool reads = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
	/*
	 * Outside /api/ a token may only read what anyone may ask for (a file
	 * that CKAN clients fetch with their key): the pages of signed-in
	 * people and every form want the person, who has a session.
	 */
	bool open_to_all = r->route && (r->route->roles & DG_ROLE_ANON);
	if (!r->api && !(reads && open_to_all))
		return dg_err_set(&r->err, DG_EDENIED, "%s", dg_t(r, "auth.err.token_api_only"));
	if (read_only && !reads)
		return dg_err_set(&r->err, DG_EDENIED, "%s", dg_t(r, "auth.err.token_read_only"));
	r->user = u;
	if (stale && dg_db_exec(db, dg_sql_token_touch, DG_ARGS(DG_VI(now), DG_VI(token_id)), NULL))
		dg_warn("req=%s could not record token use", r->id);
	return DG_OK;
}

static bool name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > DG_TOKEN_NAME_MAX * 4 || !dg_utf8_valid(s, n) ||
	    dg_utf8_len(s, n) > DG_TOKEN_NAME_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

dg_rc dg_token_create(struct dg_env *env, struct dg_db *db, struct dg_arena *a, int64_t user_id,
		      const char *name, const char *scope, char **token, struct dg_err *err)
{
	(void)env;
	*token = NULL;
	if (!name_ok(name))
		return dg_err_field(err, DG_EINVAL, "name", "%s", "auth.err.token_name");
	if (!scope || (strcmp(scope, "read") != 0 && strcmp(scope, "write") != 0))
		return dg_err_field(err, DG_EINVAL, "scope", "%s", "auth.err.token_scope");
	char *t = dg_arena_alloc(a, TOKEN_LEN + 1);
	memcpy(t, DG_TOKEN_PREFIX, 4);
	dg_rand_hex(t + 4, 32);
	dg_rc rc = dg_db_exec(db, dg_sql_token_insert,
			      DG_ARGS(DG_VI(user_id), DG_VT(name), DG_VT(dg_auth_hash(a, t)),
				      DG_VI(dg_now_ms()), DG_VT(scope)),
			      NULL);
	if (rc)
		return dg_err_set(err, rc, "%s", "error.generic");
	*token = t;
	return DG_OK;
}

dg_rc dg_token_revoke(struct dg_db *db, int64_t user_id, int64_t token_id)
{
	int64_t changes = 0;
	dg_rc rc =
		dg_db_exec(db, dg_sql_token_revoke,
			   DG_ARGS(DG_VI(dg_now_ms()), DG_VI(token_id), DG_VI(user_id)), &changes);
	if (!rc && changes == 0)
		rc = DG_ENOTFOUND;
	return rc;
}
