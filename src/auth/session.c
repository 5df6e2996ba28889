/*
 * session.c - who is asking: sessions in the "dg_session" cookie, bearer
 * API tokens, and dg_auth_identify, which the dispatcher calls for every
 * request.
 *
 * A session token is 32 random bytes (64 hex characters) that only the
 * browser holds; the store keeps its BLAKE2b hash, so a copy of the
 * database does not let anyone sign in. A session ends after 12 hours
 * without use or 7 days after sign-in, whichever is first. Identifying a
 * request costs one indexed query; last_seen_at is written at most once a
 * minute per session so reading pages does not turn into writes.
 */
#include "auth/auth_int.h"

#include <string.h>
#include <strings.h>

#include "node/env.h"
#include "auth/auth.h"
#include "core/date.h"
#include "core/log.h"
#include "core/rand.h"
#include "jobs/jobs.h"
#include "web/page.h"

#define TOUCH_EVERY_MS (60LL * 1000)

static bool hex_of_len(const char *s, size_t n)
{
	if (!s || strlen(s) != n)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static void forget_cookie(struct dg_req *r)
{
	dg_reply_cookie(r, DG_SESSION_COOKIE, "", 0, true);
}

dg_rc dg_session_identify(struct dg_req *r, const char **csrf_secret)
{
	struct dg_db *db = NULL;
	struct dg_rows *rows = NULL;
	*csrf_secret = NULL;
	const char *token = dg_kvs_get(&r->cookies, DG_SESSION_COOKIE);
	if (!token || !token[0])
		return DG_OK;
	if (!hex_of_len(token, 64)) {
		forget_cookie(r);
		return DG_OK;
	}
	dg_rc rc = dg_req_db(r, &db);
	if (rc)
		return rc;
	char *hash = dg_auth_hash(r->arena, token);
	int64_t now = dg_now_ms();
	rc = dg_db_query(db, dg_sql_user_by_session,
			 DG_ARGS(DG_VT(hash), DG_VI(now), DG_VI(now - DG_SESSION_IDLE_MS)), &rows);
	if (rc)
		return rc;
	rc = dg_rows_next(rows);
	if (rc == DG_ENOTFOUND) { /* expired or signed out: the browser can drop it */
		dg_rows_free(rows);
		forget_cookie(r);
		return DG_OK;
	}
	if (rc) {
		dg_rows_free(rows);
		return rc;
	}
	r->user = dg_user_from_row(r->arena, rows, r->lang);
	r->session_hash = hash;
	*csrf_secret = dg_arena_strdup(r->arena, dg_rows_text(rows, 10));
	bool stale = dg_rows_int(rows, 11) < now - TOUCH_EVERY_MS;
	/*
	 * Done with the row: an open statement would keep SQLite's read snapshot
	 * for the whole request, and a write on this connection after another
	 * connection's commit would then fail (SQLITE_BUSY_SNAPSHOT).
	 */
	dg_rows_free(rows);
	if (stale && dg_db_exec(db, dg_sql_session_touch, DG_ARGS(DG_VI(now), DG_VT(hash)), NULL))
		dg_warn("req=%s could not record session use", r->id);
	return DG_OK;
}

dg_rc dg_session_start(struct dg_req *r, int64_t user_id)
{
	struct dg_db *db = NULL;
	char token[65], secret[33];
	dg_rc rc = dg_req_db(r, &db);
	if (rc)
		return rc;
	/* a new token at every sign-in: a cookie planted before sign-in is worth nothing after */
	if (r->session_hash) {
		rc = dg_db_exec(db, dg_sql_session_delete, DG_ARGS(DG_VT(r->session_hash)), NULL);
		if (rc)
			return rc;
		r->session_hash = NULL;
	}
	int64_t now = dg_now_ms();
	dg_rand_hex(token, 32);
	dg_rand_hex(secret, 16);
	char *hash = dg_auth_hash(r->arena, token);
	const char *secretp = secret;
	rc = dg_db_exec(db, dg_sql_session_insert,
			DG_ARGS(DG_VT(hash), DG_VI(user_id), DG_VT(secretp), DG_VI(now),
				DG_VI(now + DG_SESSION_MAX_MS), DG_VI(now)),
			NULL);
	if (rc)
		return rc;
	dg_reply_cookie(r, DG_SESSION_COOKIE, token, -1, true);
	r->session_hash = hash;
	dg_csrf_set(r, secret);
	return DG_OK;
}

dg_rc dg_session_end(struct dg_req *r)
{
	struct dg_db *db = NULL;
	forget_cookie(r);
	if (!r->session_hash)
		return DG_OK;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_db_exec(db, dg_sql_session_delete, DG_ARGS(DG_VT(r->session_hash)), NULL);
	if (!rc)
		r->session_hash = NULL;
	return rc;
}

/* "Bearer xyz" (scheme case-insensitive) -> "xyz"; NULL for other schemes. */
static const char *bearer_of(const char *h)
{
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return h;
}

/*
 * CKAN clients send their key bare, in X-CKAN-API-Key or in Authorization
 * without a scheme. Only values shaped as dgov API tokens ("dgt_...") are
 * ours; other keys (open-data app keys) belong to the module that issued them.
 */
static const char *raw_token_of(const struct dg_req *r)
{
	const char *h = dg_req_header(r, "X-CKAN-API-Key");
	if (h && strncmp(h, DG_TOKEN_PREFIX, 4) == 0)
		return h;
	h = dg_req_header(r, "Authorization");
	if (h && strncmp(h, DG_TOKEN_PREFIX, 4) == 0)
		return h;
	return NULL;
}

dg_rc dg_auth_identify(struct dg_req *r)
{
	const char *secret = NULL;
	r->user = NULL;
	r->session_hash = NULL;
	r->csrf = "";
	/* other schemes (Basic from a proxy in front of a staging site) are not ours to judge */
	const char *bearer = bearer_of(dg_req_header(r, "Authorization"));
	if (!bearer)
		bearer = raw_token_of(r);
	if (bearer)
		return dg_token_identify(r, bearer);
	dg_rc rc = dg_session_identify(r, &secret);
	if (rc)
		return rc;
	dg_csrf_set(r, secret);
	return DG_OK;
}

dg_rc dg_auth_purge_run(struct dg_job *job, struct dg_err *err)
{
	/* expired sessions are refused anyway; this keeps the table to the live ones */
	int64_t now = dg_now_ms();
	dg_rc rc = dg_db_exec(job->db, dg_sql_session_purge,
			      DG_ARGS(DG_VI(now), DG_VI(now - DG_SESSION_IDLE_MS)), NULL);
	if (!rc)
		rc = dg_db_exec(job->db, dg_sql_attempt_purge,
				DG_ARGS(DG_VI(now), DG_VI(now - DG_ATTEMPT_KEEP_MS)), NULL);
	if (!rc)
		rc = dg_db_exec(job->db, dg_sql_addr_purge,
				DG_ARGS(DG_VI(now - DG_LOGIN_WINDOW_MS)), NULL);
	if (!rc)
		rc = dg_db_exec(job->db, dg_sql_code_purge, DG_ARGS(DG_VI(now)), NULL);
	if (!rc)
		rc = dg_db_exec(job->db, dg_sql_code_send_purge,
				DG_ARGS(DG_VI(now - DG_CODE_WINDOW_MS)), NULL);
	return rc ? dg_err_set(err, rc, "the expired sessions could not be removed") : DG_OK;
}
