/*
 * codes.c - one-time codes for sign-up and password reset, sent by text
 * message to a phone.
 *
 * A flow is a random token given to the browser in the form, and a code of
 * six digits sent to the phone; the store keeps only their hashes (the
 * code's hash keyed by the flow token, which is not stored, so a copy of
 * the table does not give the codes away by trying all million). A code
 * lives DG_CODE_TTL_MS, may be tried DG_CODE_TRIES times (each try counted
 * before the comparison, so tries at once cannot pass the cap) and is spent
 * once, in the transaction that does what it allowed. Sending is capped per
 * phone and per client address in hourly windows, counted before anything
 * is looked up, so the caps say nothing about which phones have accounts.
 * A flow whose details matched nothing is stored all the same, with no
 * subject: it answers as a real one does, and no code passes it.
 */
#include "auth/auth_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/keys.h"
#include "core/proxy.h"
#include "core/rand.h"
#include "node/env.h"

/* One more send for rkey in its window; *over past max. */
static dg_rc send_hit(struct dg_db *db, const char *rkey, int64_t max, bool *over)
{
	int64_t n = 0, now = dg_now_ms(), old = now - DG_CODE_WINDOW_MS;
	dg_rc rc = dg_db_query_int(db, dg_sql_code_send_hit,
				   DG_ARGS(DG_VT(rkey), DG_VI(now), DG_VI(old), DG_VI(old)), &n);
	*over = !rc && n > max;
	return rc;
}

dg_rc dg_code_throttle(struct dg_env *env, struct dg_db *db, const char *phone, const char *addr)
{
	struct dg_arena *a = dg_arena_new();
	char key[DG_ADDR_TEXT];
	bool over_phone = false, over_addr = false;
	const char *pkey = dg_arena_printf(a, "p:%s", dg_pii_index(&env->keys, a, "phone", phone));
	dg_rc rc = send_hit(db, pkey, DG_CODE_PER_PHONE, &over_phone);
	addr = dg_addr_key(addr ? addr : "", key);
	if (!rc && addr[0])
		rc = send_hit(db, dg_arena_printf(a, "a:%s", addr), DG_CODE_PER_ADDR, &over_addr);
	dg_arena_free(a);
	if (!rc && (over_phone || over_addr))
		rc = DG_ELOCKED;
	return rc;
}

/* The stored hash of code for flow: keyed by the flow token, which is not stored. */
static char *code_hash(struct dg_arena *a, const char *flow, const char *code)
{
	return dg_auth_hash(a, dg_arena_printf(a, "dgov-code\n%s\n%s", flow, code));
}

dg_rc dg_code_start(struct dg_env *env, struct dg_db *db, struct dg_arena *a, const char *purpose,
		    json_t *subject, char **flow, char **code)
{
	char *f = dg_arena_alloc(a, DG_FLOW_BYTES * 2 + 1);
	char *c = dg_arena_alloc(a, DG_CODE_DIGITS + 1);
	dg_rand_hex(f, DG_FLOW_BYTES);
	for (int i = 0; i < DG_CODE_DIGITS; i++)
		c[i] = (char)('0' + randombytes_uniform(10));
	c[DG_CODE_DIGITS] = '\0';
	const char *sealed = "";
	if (subject) {
		char *text = json_dumps(subject, JSON_COMPACT);
		if (!text)
			return DG_EINTERNAL;
		sealed = dg_pii_seal(&env->keys, a, text);
		sodium_memzero(text, strlen(text));
		free(text);
	}
	int64_t now = dg_now_ms();
	dg_rc rc = dg_db_exec(db, dg_sql_code_insert,
			      DG_ARGS(DG_VT(dg_auth_hash(a, f)), DG_VT(purpose),
				      DG_VT(code_hash(a, f, c)), DG_VT(sealed),
				      DG_VI(now + DG_CODE_TTL_MS), DG_VI(now)),
			      NULL);
	if (rc)
		return rc;
	*flow = f;
	*code = c;
	return DG_OK;
}

bool dg_code_flow_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n != DG_FLOW_BYTES * 2)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static bool code_ok(const char *s)
{
	if (!s || strlen(s) != DG_CODE_DIGITS)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

dg_rc dg_code_check(struct dg_env *env, struct dg_db *db, const char *purpose, const char *flow,
		    const char *code, json_t **subject, int *left, struct dg_err *err)
{
	struct dg_arena *a = dg_arena_new();
	struct dg_rows *rows = NULL;
	char *sealed = NULL, *want = NULL;
	int64_t tries = 0, changes = 0;
	*subject = NULL;
	*left = 0;
	dg_rc rc = DG_ENOTFOUND;
	const char *fh = dg_code_flow_ok(flow) ? dg_auth_hash(a, flow) : NULL;
	if (fh)
		rc = dg_db_query(db, dg_sql_code_get, DG_ARGS(DG_VT(fh), DG_VT(purpose)), &rows);
	if (!rc)
		rc = dg_rows_next(rows);
	if (!rc) {
		want = dg_arena_strdup(a, dg_rows_text(rows, 0));
		sealed = dg_arena_strdup(a, dg_rows_text(rows, 1));
		tries = dg_rows_int(rows, 2);
		if (dg_rows_int(rows, 3) <= dg_now_ms() || dg_rows_int(rows, 4) != 0)
			rc = DG_ENOTFOUND;
	}
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND) {
		dg_err_set(err, rc, "%s", "auth.code.err.expired");
		goto out;
	}
	if (rc)
		goto out;
	rc = dg_db_exec(db, dg_sql_code_try, DG_ARGS(DG_VT(fh), DG_VI(DG_CODE_TRIES)), &changes);
	if (!rc && changes == 0)
		rc = dg_err_set(err, DG_ELOCKED, "%s", "auth.code.err.tries");
	if (rc)
		goto out;
	tries++;
	bool right = code_ok(code) && sealed[0] && strlen(want) == 64 &&
		     sodium_memcmp(want, code_hash(a, flow, code), 64) == 0;
	if (!right) {
		*left = (int)(DG_CODE_TRIES - tries);
		rc = dg_err_set(err, *left > 0 ? DG_EAUTH : DG_ELOCKED, "%s",
				*left > 0 ? "auth.code.err.wrong" : "auth.code.err.tries");
		goto out;
	}
	char *text = NULL;
	if (dg_pii_open(&env->keys, a, sealed, &text) || !(*subject = json_loads(text, 0, NULL))) {
		rc = dg_err_set(err, DG_EINTERNAL, "%s", "error.generic");
		goto out;
	}
	*left = (int)(DG_CODE_TRIES - tries);
out:
	dg_arena_free(a);
	return rc;
}

dg_rc dg_code_use(struct dg_db *db, const char *flow)
{
	struct dg_arena *a = dg_arena_new();
	int64_t changes = 0;
	dg_rc rc = dg_db_exec(db, dg_sql_code_use,
			      DG_ARGS(DG_VI(dg_now_ms()), DG_VT(dg_auth_hash(a, flow))), &changes);
	dg_arena_free(a);
	if (!rc && changes == 0)
		rc = DG_ECONFLICT;
	return rc;
}
