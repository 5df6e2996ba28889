/*
 * accounts.c - accounts: creating them with full validation, passwords
 * (argon2id), and signing in with a lock-out after repeated failures.
 *
 * Errors for people carry a message key (templates/i18n/auth.*.json) in
 * err->msg and the form field in err->field; pages and the CLI translate
 * the key into the reader's language.
 *
 * Sign-in does the same work whether or not the username exists: an unknown
 * name is checked against a dummy hash of the same cost, and failures are
 * counted per username and address in login_attempts for every name tried,
 * so neither timing nor the lock-out message tells which usernames exist.
 * Before any of that, attempts are counted per client address: past the
 * node's limit an address is refused without a hash being computed, so a
 * flood of made-up names costs the node a row update each, not a hash; and
 * since the lock is per address, a stranger cannot lock a user out.
 */
#include "auth/auth_int.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "node/env.h"
#include "auth/auth.h"
#include "core/keys.h"
#include "core/date.h"
#include "core/log.h"
#include "core/proxy.h"
#include "core/str.h"

const char *dg_role_name(enum dg_role role)
{
	switch (role) {
	case DG_ROLE_CITIZEN: return "citizen";
	case DG_ROLE_AGENT: return "agent";
	case DG_ROLE_STAFF: return "staff";
	case DG_ROLE_ADMIN: return "admin";
	default: return "anonymous";
	}
}

enum dg_role dg_role_parse(const char *s)
{
	static const enum dg_role all[] = {DG_ROLE_CITIZEN, DG_ROLE_AGENT, DG_ROLE_STAFF,
					   DG_ROLE_ADMIN};
	for (size_t i = 0; s && i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, dg_role_name(all[i])) == 0)
			return all[i];
	return 0;
}

static void pw_cost(enum dg_pwhash_cost c, unsigned long long *ops, size_t *mem)
{
	switch (c) {
	case DG_PWHASH_MIN:
		*ops = crypto_pwhash_OPSLIMIT_MIN;
		*mem = crypto_pwhash_MEMLIMIT_MIN;
		break;
	case DG_PWHASH_MODERATE:
		*ops = crypto_pwhash_OPSLIMIT_MODERATE;
		*mem = crypto_pwhash_MEMLIMIT_MODERATE;
		break;
	default:
		*ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		*mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
		break;
	}
}

dg_rc dg_pw_hash(const struct dg_env *env, const char *password, char *out)
{
	unsigned long long ops;
	size_t mem;
	pw_cost(env->cfg->pwhash, &ops, &mem);
	if (crypto_pwhash_str(out, password, strlen(password), ops, mem) != 0)
		return DG_EINTERNAL; /* only when out of memory */
	return DG_OK;
}

dg_rc dg_pw_check(const char *password, const char **why)
{
	size_t n = password ? strlen(password) : 0;
	*why = NULL;
	if (n == 0)
		*why = "auth.err.password_missing";
	else if (n > DG_PASSWORD_MAX || !dg_utf8_valid(password, n))
		*why = "auth.err.password_long";
	else if (dg_utf8_len(password, n) < DG_PASSWORD_MIN)
		*why = "auth.err.password_short";
	if (*why)
		return DG_EINVAL;
	/* at least two kinds of characters: letters, digits, others */
	int letters = 0, digits = 0, others = 0;
	for (const char *p = password; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c | 32) >= 'a' && (c | 32) <= 'z')
			letters = 1;
		else if (c >= '0' && c <= '9')
			digits = 1;
		else
			others = 1;
	}
	if (letters + digits + others < 2) {
		*why = "auth.err.password_weak";
		return DG_EINVAL;
	}
	return DG_OK;
}

/* The dummy hash for unknown usernames, made once per cost. */
static const char *dummy_hash(const struct dg_env *env)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static char hashes[3][crypto_pwhash_STRBYTES];
	unsigned c = (unsigned)env->cfg->pwhash < 3 ? (unsigned)env->cfg->pwhash : 1;
	pthread_mutex_lock(&mu);
	if (!hashes[c][0] && dg_pw_hash(env, "dgov-no-such-user", hashes[c]))
		hashes[c][0] = '\0';
	pthread_mutex_unlock(&mu);
	return hashes[c];
}

static dg_rc record_failure(struct dg_db *db, const char *username, const char *addr)
{
	int64_t failures = 0, now = dg_now_ms();
	dg_rc rc = dg_db_exec(db, dg_sql_attempt_fail,
			      DG_ARGS(DG_VT(username), DG_VT(addr), DG_VI(now)), NULL);
	if (!rc)
		rc = dg_db_query_int(db, dg_sql_attempt_get, DG_ARGS(DG_VT(username), DG_VT(addr)),
				     &failures);
	if (!rc && failures >= DG_LOCK_FAILURES) {
		dg_info("sign-in locked for 15 minutes after %d failures from one address",
			DG_LOCK_FAILURES);
		rc = dg_db_exec(db, dg_sql_attempt_lock,
				DG_ARGS(DG_VI(now + DG_LOCK_MS), DG_VT(username), DG_VT(addr)),
				NULL);
	}
	return rc;
}

static dg_rc locked(struct dg_db *db, const char *username, const char *addr, bool *is_locked)
{
	struct dg_rows *rows = NULL;
	*is_locked = false;
	dg_rc rc =
		dg_db_query(db, dg_sql_attempt_get, DG_ARGS(DG_VT(username), DG_VT(addr)), &rows);
	if (rc)
		return rc;
	rc = dg_rows_next(rows);
	if (rc == DG_OK)
		*is_locked = dg_rows_int(rows, 1) > dg_now_ms();
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

/*
 * Count one attempt from addr, before any hashing; *over when the address
 * has had more than the node's limit in the current window. Counted before
 * the work, so many attempts at once cannot all slip under the limit.
 */
static dg_rc address_hit(struct dg_env *env, struct dg_db *db, const char *addr, bool *over)
{
	int64_t n = 0, now = dg_now_ms(), old = now - DG_LOGIN_WINDOW_MS;
	*over = false;
	if (!env->cfg->login_limit || !addr[0])
		return DG_OK;
	dg_rc rc = dg_db_query_int(db, dg_sql_addr_hit,
				   DG_ARGS(DG_VT(addr), DG_VI(now), DG_VI(old), DG_VI(old)), &n);
	*over = !rc && n > (int64_t)env->cfg->login_limit;
	return rc;
}

/* Look the user up; *id stays 0 and *hash NULL when unknown or disabled. */
static dg_rc lookup(struct dg_db *db, struct dg_arena *a, const char *username, int64_t *id,
		    char **hash)
{
	struct dg_rows *rows = NULL;
	*id = 0;
	*hash = NULL;
	dg_rc rc = dg_db_query(db, dg_sql_login_lookup, DG_ARGS(DG_VT(username)), &rows);
	if (rc)
		return rc;
	rc = dg_rows_next(rows);
	if (rc == DG_OK && dg_rows_int(rows, 2) == 0) {
		*id = dg_rows_int(rows, 0);
		*hash = dg_arena_strdup(a, dg_rows_text(rows, 1));
	}
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

dg_rc dg_auth_login(struct dg_env *env, struct dg_db *db, const char *addr, const char *username,
		    const char *password, int64_t *user_id, struct dg_err *err)
{
	struct dg_arena *a = dg_arena_new();
	bool is_locked = false, over = false;
	int64_t id = 0;
	char *hash = NULL;
	char key[DG_ADDR_TEXT];
	*user_id = 0;
	addr = dg_addr_key(addr ? addr : "", key);
	dg_rc rc = address_hit(env, db, addr, &over);
	if (!rc && over) {
		dg_info("sign-in refused: too many attempts from %s", addr);
		rc = dg_err_set(err, DG_ELOCKED, "%s", "auth.err.throttled");
		goto out;
	}
	if (!rc)
		rc = locked(db, username, addr, &is_locked);
	if (rc)
		goto out;
	if (is_locked) {
		rc = dg_err_set(err, DG_ELOCKED, "%s", "auth.err.locked");
		goto out;
	}
	rc = lookup(db, a, username, &id, &hash);
	if (rc)
		goto out;
	const char *check = hash ? hash : dummy_hash(env);
	bool ok = crypto_pwhash_str_verify(check, password, strlen(password)) == 0 && hash;
	if (!ok) {
		rc = record_failure(db, username, addr);
		if (!rc)
			rc = dg_err_set(err, DG_EAUTH, "%s", "auth.err.bad_login");
		goto out;
	}
	rc = dg_db_exec(db, dg_sql_attempt_clear, DG_ARGS(DG_VT(username), DG_VT(addr)), NULL);
	if (!rc && env->cfg->login_limit && addr[0])
		rc = dg_db_exec(db, dg_sql_addr_success, DG_ARGS(DG_VT(addr)), NULL);
	if (!rc)
		*user_id = id;
out:
	dg_arena_free(a);
	return rc;
}

dg_rc dg_auth_unlock(struct dg_db *db, int64_t user_id)
{
	struct dg_arena *a = dg_arena_new();
	char *username = NULL;
	dg_rc rc =
		dg_db_query_text(db, dg_sql_user_username, DG_ARGS(DG_VI(user_id)), a, &username);
	if (!rc)
		rc = dg_db_exec(db, dg_sql_attempt_clear_all, DG_ARGS(DG_VT(username)), NULL);
	dg_arena_free(a);
	return rc;
}

dg_rc dg_auth_set_password(struct dg_env *env, struct dg_db *db, int64_t user_id,
			   const char *password, const char *keep_session, struct dg_err *err)
{
	const char *why = NULL;
	char hash[crypto_pwhash_STRBYTES];
	int64_t changes = 0;
	if (dg_pw_check(password, &why))
		return dg_err_field(err, DG_EINVAL, "password", "%s", why);
	dg_rc rc = dg_pw_hash(env, password, hash);
	if (rc)
		return dg_err_set(err, rc, "%s", "error.generic");
	const char *hashp = hash; /* DG_VT tests its argument: give it a pointer, not an array */
	rc = dg_db_exec(db, dg_sql_user_set_pw, DG_ARGS(DG_VT(hashp), DG_VI(user_id)), &changes);
	if (!rc && changes == 0)
		rc = DG_ENOTFOUND;
	/*
	 * A changed password ends every other session of the account, and every
	 * API token: a token made by whoever knew the old password is theirs.
	 */
	if (!rc)
		rc = dg_db_exec(db, dg_sql_session_delete_user,
				DG_ARGS(DG_VI(user_id), DG_VT(keep_session ? keep_session : "")),
				NULL);
	if (!rc)
		rc = dg_db_exec(db, dg_sql_token_revoke_user,
				DG_ARGS(DG_VI(dg_now_ms()), DG_VI(user_id)), NULL);
	if (rc)
		dg_err_set(err, rc, "%s",
			   rc == DG_ENOTFOUND ? "auth.err.no_user" : "error.generic");
	return rc;
}

char *dg_auth_hash(struct dg_arena *a, const char *s)
{
	unsigned char h[32];
	crypto_generichash(h, sizeof(h), (const unsigned char *)s, strlen(s), NULL, 0);
	char *hex = dg_arena_alloc(a, 65);
	sodium_bin2hex(hex, 65, h, sizeof(h));
	return hex;
}

struct dg_user *dg_user_from_row(struct dg_arena *a, struct dg_rows *rows, const char *lang)
{
	struct dg_user *u = dg_arena_alloc(a, sizeof(*u));
	u->id = dg_rows_int(rows, 0);
	u->role = dg_role_parse(dg_rows_text(rows, 1));
	u->username = dg_arena_strdup(a, dg_rows_text(rows, 2));
	u->name = dg_arena_strdup(a, dg_rows_text(rows, 3));
	u->dept_id = dg_rows_int(rows, 4);
	bool en = lang && strcmp(lang, "en") == 0;
	u->dept_name = dg_arena_strdup(a, dg_rows_text(rows, en ? 6 : 5));
	u->staff_roles = dg_arena_strdup(a, dg_rows_text(rows, 7));
	u->uscc = dg_arena_strdup(a, dg_rows_text(rows, 8));
	u->org_name = dg_arena_strdup(a, dg_rows_text(rows, 9));
	return u;
}

/* ---- creating accounts ---- */

bool dg_username_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 3 || n > 32)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '.' || *s == '-'))
			return false;
	return true;
}

/* Printable UTF-8 of 1..max code points, no control characters. */
static bool text_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max * 4 || !dg_utf8_valid(s, n) || dg_utf8_len(s, n) > max)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* "intake,review,approve": lower-case words, commas between, up to 128 bytes. */
static bool staff_roles_ok(const char *s)
{
	size_t n = strlen(s);
	if (n > 128)
		return false;
	bool want_word = true;
	for (; *s; s++) {
		if (*s >= 'a' && *s <= 'z')
			want_word = false;
		else if (*s == ',' && !want_word)
			want_word = true;
		else if (*s != '_' || want_word)
			return false;
	}
	return n == 0 || !want_word;
}

static bool present(const char *s)
{
	return s && s[0];
}

static dg_rc check_kind(const struct dg_user_new *u, struct dg_err *err)
{
	if (u->role == DG_ROLE_CITIZEN && !present(u->id_number))
		return dg_err_field(err, DG_EINVAL, "id_number", "%s", "auth.err.id_missing");
	if (present(u->id_number) && !dg_id_number_valid(u->id_number))
		return dg_err_field(err, DG_EINVAL, "id_number", "%s", "auth.err.id_invalid");
	if (present(u->phone) && !dg_phone_valid(u->phone))
		return dg_err_field(err, DG_EINVAL, "phone", "%s", "auth.err.phone_invalid");
	if (u->role == DG_ROLE_STAFF && !present(u->dept_code))
		return dg_err_field(err, DG_EINVAL, "dept", "%s", "auth.err.dept_missing");
	if (present(u->staff_roles) && !staff_roles_ok(u->staff_roles))
		return dg_err_field(err, DG_EINVAL, "staff_roles", "%s", "auth.err.staff_roles");
	if (u->role == DG_ROLE_AGENT && !present(u->uscc))
		return dg_err_field(err, DG_EINVAL, "uscc", "%s", "auth.err.uscc_missing");
	if (present(u->uscc) && !dg_uscc_valid(u->uscc))
		return dg_err_field(err, DG_EINVAL, "uscc", "%s", "auth.err.uscc_invalid");
	if (u->role == DG_ROLE_AGENT && !text_ok(u->org_name, 128))
		return dg_err_field(err, DG_EINVAL, "org", "%s", "auth.err.org_invalid");
	return DG_OK;
}

static dg_rc check_new_user(const struct dg_user_new *u, struct dg_err *err)
{
	const char *why = NULL;
	if (!dg_role_parse(dg_role_name(u->role)))
		return dg_err_field(err, DG_EINVAL, "role", "%s", "auth.err.role");
	if (!dg_username_ok(u->username))
		return dg_err_field(err, DG_EINVAL, "username", "%s", "auth.err.username");
	if (!text_ok(u->name, 64))
		return dg_err_field(err, DG_EINVAL, "name", "%s", "auth.err.name");
	if (dg_pw_check(u->password, &why))
		return dg_err_field(err, DG_EINVAL, "password", "%s", why);
	return check_kind(u, err);
}

static dg_rc dept_id(struct dg_db *db, const struct dg_user_new *u, int64_t *id, struct dg_err *err)
{
	*id = 0;
	if (u->role != DG_ROLE_STAFF)
		return DG_OK;
	dg_rc rc = dg_db_query_int(db, dg_sql_dept_by_code, DG_ARGS(DG_VT(u->dept_code)), id);
	if (rc == DG_ENOTFOUND)
		return dg_err_field(err, DG_EINVAL, "dept", "%s", "auth.err.dept_unknown");
	return rc ? dg_err_set(err, rc, "%s", "error.generic") : DG_OK;
}

dg_rc dg_user_create(struct dg_env *env, struct dg_db *db, const struct dg_user_new *u,
		     int64_t *id_out, struct dg_err *err)
{
	struct dg_arena *a = dg_arena_new();
	char hash[crypto_pwhash_STRBYTES];
	int64_t dept = 0;
	dg_rc rc = check_new_user(u, err);
	if (rc)
		goto out;
	rc = dept_id(db, u, &dept, err);
	if (rc)
		goto out;
	rc = dg_pw_hash(env, u->password, hash);
	if (rc)
		goto out;
	bool id = present(u->id_number), ph = present(u->phone);
	const char *hashp = hash; /* DG_VT tests its argument: give it a pointer, not an array */
	rc = dg_db_exec(
		db, dg_sql_user_insert,
		DG_ARGS(DG_VT(dg_role_name(u->role)), DG_VT(u->username), DG_VT(u->name),
			DG_VT(hashp), DG_VT(id ? dg_pii_seal(&env->keys, a, u->id_number) : NULL),
			DG_VT(id ? dg_pii_index(&env->keys, a, "id", u->id_number) : NULL),
			DG_VT(ph ? dg_pii_seal(&env->keys, a, u->phone) : NULL),
			DG_VT(ph ? dg_pii_index(&env->keys, a, "phone", u->phone) : NULL),
			dept ? DG_VI(dept) : DG_VNULL, DG_VT(u->staff_roles ? u->staff_roles : ""),
			DG_VT(u->uscc ? u->uscc : ""), DG_VT(u->org_name ? u->org_name : ""),
			DG_VI(dg_now_ms())),
		NULL);
	if (rc == DG_ECONFLICT) {
		dg_err_field(err, rc, "username", "%s", "auth.err.username_taken");
		goto out;
	}
	if (rc) {
		dg_err_set(err, rc, "%s", "error.generic");
		goto out;
	}
	if (id_out)
		rc = dg_db_query_int(db, dg_sql_user_id_by_name, DG_ARGS(DG_VT(u->username)),
				     id_out);
out:
	sodium_memzero(hash, sizeof(hash));
	dg_arena_free(a);
	return rc;
}
