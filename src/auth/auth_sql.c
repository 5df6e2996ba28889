/*
 * auth_sql.c - every SQL statement of the auth domain, and its migrations.
 *
 * Kept in one place so the schema and the statements that depend on it are
 * read together. Times are ms since the epoch (BIGINT), passed as parameters
 * rather than taken from the database clock so both stores agree and tests
 * can reason about them. Secrets (session and API tokens) are stored only as
 * hashes; ID numbers and phones only sealed, with a blind index for lookup.
 *
 * Sign-in failures are counted per username and client address in
 * login_attempts, for names that exist and names that do not alike, so that
 * locking cannot be used to find out which usernames exist, and a stranger
 * who fails five times locks the name only for their own address, not for
 * its owner. Attempts are also counted per address in login_addr (in
 * windows of DG_LOGIN_WINDOW_MS), so that one address cannot make the node
 * hash passwords for made-up names without end.
 */
#include "auth/auth_int.h"

#include "auth/auth.h"

const struct dg_migration dg_auth_migrations[] = {
	{"auth-001-accounts",
	 "CREATE TABLE departments ("
	 " id {{pk}},"
	 " code TEXT NOT NULL UNIQUE,"
	 " name_zh TEXT NOT NULL,"
	 " name_en TEXT NOT NULL);"
	 "CREATE TABLE users ("
	 " id {{pk}},"
	 " role TEXT NOT NULL CHECK (role IN ('citizen','agent','staff','admin')),"
	 " username TEXT NOT NULL UNIQUE,"
	 " name TEXT NOT NULL,"
	 " pw_hash TEXT NOT NULL,"
	 " id_number_sealed TEXT,"
	 " id_number_index TEXT,"
	 " phone_sealed TEXT,"
	 " phone_index TEXT,"
	 " dept_id BIGINT REFERENCES departments(id),"
	 " staff_roles TEXT NOT NULL DEFAULT '',"
	 " uscc TEXT NOT NULL DEFAULT '',"
	 " org_name TEXT NOT NULL DEFAULT '',"
	 " disabled INTEGER NOT NULL DEFAULT 0,"
	 " created_at BIGINT NOT NULL);"
	 "CREATE INDEX users_id_number_index ON users(id_number_index);"
	 "CREATE INDEX users_phone_index ON users(phone_index);"
	 "CREATE INDEX users_dept ON users(dept_id);"
	 "CREATE TABLE login_attempts ("
	 " username TEXT PRIMARY KEY,"
	 " failures INTEGER NOT NULL DEFAULT 0,"
	 " locked_until BIGINT NOT NULL DEFAULT 0);"
	 "CREATE TABLE sessions ("
	 " token_hash TEXT PRIMARY KEY,"
	 " user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	 " csrf_secret TEXT NOT NULL,"
	 " created_at BIGINT NOT NULL,"
	 " expires_at BIGINT NOT NULL,"
	 " last_seen_at BIGINT NOT NULL);"
	 "CREATE INDEX sessions_user ON sessions(user_id);"
	 "CREATE TABLE api_tokens ("
	 " id {{pk}},"
	 " user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	 " name TEXT NOT NULL,"
	 " token_hash TEXT NOT NULL UNIQUE,"
	 " created_at BIGINT NOT NULL,"
	 " last_used_at BIGINT,"
	 " revoked_at BIGINT);"
	 "CREATE INDEX api_tokens_user ON api_tokens(user_id);"},
	{"auth-002-throttle",
	 /* failures were per username alone; what was counted is forgotten */
	 "DROP TABLE login_attempts;"
	 "CREATE TABLE login_attempts ("
	 " username TEXT NOT NULL,"
	 " addr TEXT NOT NULL,"
	 " failures INTEGER NOT NULL DEFAULT 0,"
	 " locked_until BIGINT NOT NULL DEFAULT 0,"
	 " updated_ms BIGINT NOT NULL DEFAULT 0,"
	 " PRIMARY KEY (username, addr));"
	 "CREATE TABLE login_addr ("
	 " addr TEXT PRIMARY KEY,"
	 " window_ms BIGINT NOT NULL,"
	 " attempts INTEGER NOT NULL);"
	 /* tokens: what they may do; ended when the password changes */
	 "ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'write';"},
	{"auth-003-codes",
	 /* one-time codes of sign-up and reset: the flow token and the code only hashed */
	 "CREATE TABLE auth_codes ("
	 " flow_hash TEXT PRIMARY KEY,"
	 " purpose TEXT NOT NULL CHECK (purpose IN ('signup','reset')),"
	 " code_hash TEXT NOT NULL,"
	 " subject TEXT NOT NULL,"
	 " attempts INTEGER NOT NULL DEFAULT 0,"
	 " expires_ms BIGINT NOT NULL,"
	 " used_ms BIGINT NOT NULL DEFAULT 0,"
	 " created_ms BIGINT NOT NULL);"
	 "CREATE INDEX auth_codes_expires ON auth_codes(expires_ms);"
	 "CREATE TABLE auth_code_sends ("
	 " rkey TEXT PRIMARY KEY,"
	 " window_ms BIGINT NOT NULL,"
	 " sends INTEGER NOT NULL);"},
	{NULL, NULL},
};

#define USER_COLS                                                                                  \
	"u.id, u.role, u.username, u.name, COALESCE(u.dept_id, 0), COALESCE(d.name_zh, ''),"       \
	" COALESCE(d.name_en, ''), u.staff_roles, u.uscc, u.org_name"

/* One indexed query per request: the session row, its user and department. */
const char dg_sql_user_by_session[] =
	"SELECT " USER_COLS ", s.csrf_secret, s.last_seen_at"
	" FROM sessions s JOIN users u ON u.id = s.user_id"
	" LEFT JOIN departments d ON d.id = u.dept_id"
	" WHERE s.token_hash = ? AND s.expires_at > ? AND s.last_seen_at > ? AND u.disabled = 0";
const char dg_sql_user_by_token[] =
	"SELECT " USER_COLS ", t.id, t.scope, COALESCE(t.last_used_at, 0)"
	" FROM api_tokens t JOIN users u ON u.id = t.user_id"
	" LEFT JOIN departments d ON d.id = u.dept_id"
	" WHERE t.token_hash = ? AND t.revoked_at IS NULL AND u.disabled = 0";
const char dg_sql_session_touch[] = "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?";
const char dg_sql_session_insert[] = "INSERT INTO sessions (token_hash, user_id, csrf_secret, "
				     "created_at, expires_at, last_seen_at)"
				     " VALUES (?, ?, ?, ?, ?, ?)";
const char dg_sql_session_delete[] = "DELETE FROM sessions WHERE token_hash = ?";
const char dg_sql_session_delete_user[] =
	"DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?";
const char dg_sql_session_purge[] =
	"DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?";
const char dg_sql_login_lookup[] = "SELECT id, pw_hash, disabled FROM users WHERE username = ?";
const char dg_sql_attempt_get[] =
	"SELECT failures, locked_until FROM login_attempts WHERE username = ? AND addr = ?";
const char dg_sql_attempt_fail[] =
	"INSERT INTO login_attempts (username, addr, failures, locked_until, updated_ms)"
	" VALUES (?, ?, 1, 0, ?) ON CONFLICT (username, addr) DO UPDATE"
	" SET failures = login_attempts.failures + 1, updated_ms = excluded.updated_ms";
const char dg_sql_attempt_lock[] =
	"UPDATE login_attempts SET failures = 0, locked_until = ? WHERE username = ? AND addr = ?";
const char dg_sql_attempt_clear[] = "DELETE FROM login_attempts WHERE username = ? AND addr = ?";
/* an administrator's unlock: the name, from every address */
const char dg_sql_attempt_clear_all[] = "DELETE FROM login_attempts WHERE username = ?";
/* counts no lock depends on any more: ? is the oldest update kept */
const char dg_sql_attempt_purge[] =
	"DELETE FROM login_attempts WHERE locked_until <= ? AND updated_ms <= ?";
/*
 * One more attempt from an address: a new window once the old one is over
 * (? 3 and 4: the start of the oldest window still running). Returns the
 * attempts in the window, this one included.
 */
const char dg_sql_addr_hit[] =
	"INSERT INTO login_addr (addr, window_ms, attempts) VALUES (?, ?, 1)"
	" ON CONFLICT (addr) DO UPDATE SET"
	" attempts = CASE WHEN login_addr.window_ms <= ? THEN 1 ELSE login_addr.attempts + 1 END,"
	" window_ms = CASE WHEN login_addr.window_ms <= ? THEN excluded.window_ms"
	" ELSE login_addr.window_ms END"
	" RETURNING attempts";
/* a sign-in that worked does not count against its address */
const char dg_sql_addr_success[] =
	"UPDATE login_addr SET attempts = attempts - 1 WHERE addr = ? AND attempts > 0";
const char dg_sql_addr_purge[] = "DELETE FROM login_addr WHERE window_ms <= ?";
const char dg_sql_user_insert[] =
	"INSERT INTO users (role, username, name, pw_hash, id_number_sealed, id_number_index,"
	" phone_sealed, phone_index, dept_id, staff_roles, uscc, org_name, created_at)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const char dg_sql_user_set_pw[] = "UPDATE users SET pw_hash = ? WHERE id = ?";
const char dg_sql_user_username[] = "SELECT username FROM users WHERE id = ?";
const char dg_sql_user_sealed[] =
	"SELECT COALESCE(id_number_sealed, ''), COALESCE(phone_sealed, '') FROM users WHERE id = ?";
/* Filters are optional: a NULL parameter matches everything. Capped at 500 rows. */
const char dg_sql_user_list[] =
	"SELECT u.id, u.role, u.username, u.name, COALESCE(d.code, ''), COALESCE(d.name_zh, ''),"
	" COALESCE(d.name_en, ''), u.staff_roles, u.uscc, u.org_name,"
	" COALESCE(u.id_number_sealed, ''), COALESCE(u.phone_sealed, ''),"
	" COALESCE(a.locked_until, 0), u.disabled"
	" FROM users u LEFT JOIN departments d ON d.id = u.dept_id"
	" LEFT JOIN (SELECT username, MAX(locked_until) AS locked_until FROM login_attempts"
	"  GROUP BY username) a ON a.username = u.username"
	" WHERE (CAST(? AS TEXT) IS NULL OR u.role = ?) AND (CAST(? AS TEXT) IS NULL OR d.code = ?)"
	" ORDER BY u.role, u.username LIMIT 500";
const char dg_sql_user_id_by_name[] = "SELECT id FROM users WHERE username = ?";
const char dg_sql_dept_by_code[] = "SELECT id FROM departments WHERE code = ?";
const char dg_sql_dept_list[] = "SELECT code, name_zh, name_en FROM departments ORDER BY code";
const char dg_sql_dept_insert[] =
	"INSERT INTO departments (code, name_zh, name_en) VALUES (?, ?, ?)";
const char dg_sql_token_insert[] = "INSERT INTO api_tokens (user_id, name, token_hash, created_at, "
				   "scope) VALUES (?, ?, ?, ?, ?)";
/* a changed password ends every token of the account */
const char dg_sql_token_revoke_user[] =
	"UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL";
const char dg_sql_token_touch[] = "UPDATE api_tokens SET last_used_at = ? WHERE id = ?";
const char dg_sql_token_list[] =
	"SELECT id, name, created_at, COALESCE(last_used_at, 0), COALESCE(revoked_at, 0), scope"
	" FROM api_tokens WHERE user_id = ? ORDER BY id DESC LIMIT 200";
const char dg_sql_token_revoke[] =
	"UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL";

/* ---- one-time codes (codes.c) ---- */
const char dg_sql_code_insert[] =
	"INSERT INTO auth_codes (flow_hash, purpose, code_hash, subject, expires_ms, created_ms)"
	" VALUES (?, ?, ?, ?, ?, ?)";
const char dg_sql_code_get[] =
	"SELECT code_hash, subject, attempts, expires_ms, used_ms FROM auth_codes"
	" WHERE flow_hash = ? AND purpose = ?";
/* one try more, counted before the code is compared, so tries at once cannot pass the cap */
const char dg_sql_code_try[] = "UPDATE auth_codes SET attempts = attempts + 1"
			       " WHERE flow_hash = ? AND used_ms = 0 AND attempts < ?";
/* single use: of two requests with the right code, one changes the row */
const char dg_sql_code_use[] =
	"UPDATE auth_codes SET used_ms = ? WHERE flow_hash = ? AND used_ms = 0";
const char dg_sql_code_purge[] = "DELETE FROM auth_codes WHERE expires_ms <= ?";
/* one more code sent for a phone or an address in the window (as dg_sql_addr_hit) */
const char dg_sql_code_send_hit[] =
	"INSERT INTO auth_code_sends (rkey, window_ms, sends) VALUES (?, ?, 1)"
	" ON CONFLICT (rkey) DO UPDATE SET"
	" sends = CASE WHEN auth_code_sends.window_ms <= ? THEN 1"
	" ELSE auth_code_sends.sends + 1 END,"
	" window_ms = CASE WHEN auth_code_sends.window_ms <= ? THEN excluded.window_ms"
	" ELSE auth_code_sends.window_ms END"
	" RETURNING sends";
const char dg_sql_code_send_purge[] = "DELETE FROM auth_code_sends WHERE window_ms <= ?";
const char dg_sql_user_by_id_index[] = "SELECT id, COALESCE(phone_index, '') FROM users"
				       " WHERE id_number_index = ? AND disabled = 0 ORDER BY id";
