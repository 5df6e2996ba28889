/*
 * test_accounts.c - unit tests for src/auth/accounts.c and tokens.c over a
 * real store (SQLite by default, PostgreSQL when DGOV_TEST_DB is set):
 * creating accounts with every validation failure refused and nothing
 * stored, identifiers sealed with a working blind index, sign-in with the
 * lock-out after five failures (for unknown usernames too) and the unlock,
 * password changes, and API tokens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/app.h"
#include "auth/auth.h"
#include "auth/auth_int.h"
#include "core/keys.h"
#include "node/demo.h"
#include "core/log.h"
#include "core/rand.h"

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define PW      "Good-pass-1"

static struct dg_app app;
static struct dg_db *db;
static char tmpdir[] = "/tmp/dgov-acc-XXXXXX";
static char dbpath[256];

static void reset_pg(const char *url)
{
	struct dg_store *s = NULL;
	struct dg_db *d = NULL;
	struct dg_err err = {0};
	assert_int_equal(dg_store_open(url, 1, &s, &err), DG_OK);
	assert_int_equal(dg_db_get(s, &d), DG_OK);
	assert_int_equal(dg_db_exec_script(d, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"),
			 DG_OK);
	dg_db_put(d);
	dg_store_close(s);
}

static int setup(void **state)
{
	(void)state;
	struct dg_err err = {0};
	dg_log_set_level(DG_LOG_OFF);
	if (dg_rand_init())
		return -1;
	dg_config_defaults(&app.cfg);
	app.env.cfg = &app.cfg;
	app.cfg.pwhash = DG_PWHASH_MIN;
	const char *url = getenv("DGOV_TEST_DB");
	if (url && url[0]) {
		reset_pg(url);
	} else {
		if (!mkdtemp(tmpdir))
			return -1;
		snprintf(dbpath, sizeof(dbpath), "%s/test.db", tmpdir);
		url = dbpath;
	}
	if (dg_keys_load(&app.env.keys, KEY_HEX, NULL, &err))
		return -1;
	if (dg_store_open(url, 2, &app.env.store, &err))
		return -1;
	const struct dg_migration *lists[64];
	size_t nlists = dg_app_migration_lists(lists, 64);
	if (dg_store_migrate(app.env.store, lists, nlists, &err))
		return -1;
	if (dg_app_init_modules(&app.env, &err))
		return -1;
	return dg_db_get(app.env.store, &db) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	dg_db_put(db);
	dg_store_close(app.env.store);
	dg_keys_release(&app.env.keys);
	if (dbpath[0]) {
		char p[300];
		const char *sfx[] = {"", "-wal", "-shm"};
		for (int i = 0; i < 3; i++) {
			snprintf(p, sizeof(p), "%s%s", dbpath, sfx[i]);
			unlink(p);
		}
		rmdir(tmpdir);
	}
	return 0;
}

static int64_t count_users(void)
{
	int64_t n = -1;
	assert_int_equal(dg_db_query_int(db, "SELECT COUNT(*) FROM users", DG_NOARGS, &n), DG_OK);
	return n;
}

/* Runs first: the demo region also provides the department "mz" the other tests use. */
static void demo_seed_once_with_valid_identifiers(void **state)
{
	(void)state;
	struct dg_err err = {0};
	struct dg_demo_opts demo = {.tables = false};
	int64_t regions = -1;
	assert_int_equal(dg_db_query_int(db, "SELECT COUNT(*) FROM region", DG_NOARGS, &regions),
			 DG_OK);
	assert_int_equal(regions, 0);
	assert_int_equal(dg_app_demo_seed(&app, &demo, &err), DG_OK);
	assert_int_equal(dg_db_query_int(db, "SELECT COUNT(*) FROM region", DG_NOARGS, &regions),
			 DG_OK);
	assert_int_equal(regions, 1);
	assert_string_equal(app.env.region.code, "990100");
	assert_string_equal(app.env.region.name_zh, "示范市");
	assert_string_equal(app.env.region.hotline, "12345");
	int64_t users = count_users();
	assert_true(users >= 15);
	assert_int_equal(dg_db_query_int(db, "SELECT COUNT(*) FROM departments", DG_NOARGS, &users),
			 DG_OK);
	assert_int_equal(users, 12);
	users = count_users();
	/* every sealed ID number opens to a valid one in the fictional area 990100 */
	struct dg_rows *rows = NULL;
	struct dg_arena *a = dg_arena_new();
	assert_int_equal(dg_db_query(db,
				     "SELECT id_number_sealed FROM users"
				     " WHERE id_number_sealed IS NOT NULL",
				     DG_NOARGS, &rows),
			 DG_OK);
	int seen = 0;
	while (dg_rows_next(rows) == DG_OK) {
		char *plain = NULL;
		assert_int_equal(dg_pii_open(&app.env.keys, a, dg_rows_text(rows, 0), &plain),
				 DG_OK);
		assert_true(dg_id_number_valid(plain));
		assert_true(strncmp(plain, "990100", 6) == 0);
		seen++;
	}
	dg_rows_free(rows);
	assert_true(seen >= 10);
	assert_int_equal(
		dg_db_query(db, "SELECT uscc FROM users WHERE role = 'agent'", DG_NOARGS, &rows),
		DG_OK);
	seen = 0;
	while (dg_rows_next(rows) == DG_OK) {
		assert_true(dg_uscc_valid(dg_rows_text(rows, 0)));
		seen++;
	}
	dg_rows_free(rows);
	assert_true(seen >= 2);
	dg_arena_free(a);
	/* the accounts named in demo.h sign in with the demo password */
	const char *names[] = {DG_DEMO_ADMIN,   DG_DEMO_STAFF,    DG_DEMO_STAFF2,
			       DG_DEMO_CITIZEN, DG_DEMO_CITIZEN2, DG_DEMO_AGENT};
	for (size_t i = 0; i < 6; i++) {
		int64_t id = 0;
		assert_int_equal(
			dg_auth_login(&app.env, db, "", names[i], DG_DEMO_PASSWORD, &id, NULL),
			DG_OK);
		assert_true(id > 0);
	}
	/* a second seed changes nothing */
	memset(&err, 0, sizeof(err));
	assert_int_equal(dg_app_demo_seed(&app, &demo, &err), DG_ECONFLICT);
	assert_int_equal(count_users(), users);
}

static void citizen(struct dg_user_new *u, const char *username)
{
	memset(u, 0, sizeof(*u));
	u->role = DG_ROLE_CITIZEN;
	u->username = username;
	u->password = PW;
	u->name = "张三";
	u->id_number = "11010519491231002X";
	u->phone = "13812345678";
}

static void create_citizen_seals_identifiers(void **state)
{
	(void)state;
	struct dg_user_new u;
	struct dg_err err = {0};
	int64_t id = 0;
	citizen(&u, "alice");
	assert_int_equal(dg_user_create(&app.env, db, &u, &id, &err), DG_OK);
	assert_true(id > 0);
	struct dg_arena *a = dg_arena_new();
	char *sealed = NULL, *plain = NULL, *hash = NULL;
	assert_int_equal(dg_db_query_text(db, "SELECT id_number_sealed FROM users WHERE id = ?",
					  DG_ARGS(DG_VI(id)), a, &sealed),
			 DG_OK);
	assert_null(strstr(sealed, "11010519491231002X"));
	assert_int_equal(dg_pii_open(&app.env.keys, a, sealed, &plain), DG_OK);
	assert_string_equal(plain, "11010519491231002X");
	/* the blind index finds the account without the clear value in the store */
	int64_t found = 0;
	assert_int_equal(dg_db_query_int(db, "SELECT id FROM users WHERE id_number_index = ?",
					 DG_ARGS(DG_VT(dg_pii_index(&app.env.keys, a, "id",
								    "11010519491231002X"))),
					 &found),
			 DG_OK);
	assert_int_equal(found, id);
	assert_int_equal(dg_db_query_text(db, "SELECT pw_hash FROM users WHERE id = ?",
					  DG_ARGS(DG_VI(id)), a, &hash),
			 DG_OK);
	assert_true(strncmp(hash, "$argon2id$", 10) == 0);
	dg_arena_free(a);
	/* the same username again is a conflict on the username field */
	memset(&err, 0, sizeof(err));
	assert_int_equal(dg_user_create(&app.env, db, &u, NULL, &err), DG_ECONFLICT);
	assert_string_equal(err.field, "username");
}

struct bad_case {
	const char *what;
	void (*change)(struct dg_user_new *u);
	const char *field;
};

static void bad_role(struct dg_user_new *u)
{
	u->role = 0;
}
static void bad_username(struct dg_user_new *u)
{
	u->username = "Bob Smith";
}
static void short_username(struct dg_user_new *u)
{
	u->username = "ab";
}
static void sql_username(struct dg_user_new *u)
{
	u->username = "x' OR '1'='1";
}
static void no_name(struct dg_user_new *u)
{
	u->name = "";
}
static void long_name(struct dg_user_new *u)
{
	u->name = "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十"
		  "一二三四五六七八九十一二三四五六七八九十一二三四五";
}
static void ctl_name(struct dg_user_new *u)
{
	u->name = "bad\x01name";
}
static void short_pw(struct dg_user_new *u)
{
	u->password = "Ab1!";
}
static void weak_pw(struct dg_user_new *u)
{
	u->password = "abcdefghij";
}
static void no_id(struct dg_user_new *u)
{
	u->id_number = NULL;
}
static void bad_id(struct dg_user_new *u)
{
	u->id_number = "110105194912310021";
}
static void bad_phone(struct dg_user_new *u)
{
	u->phone = "12812345678";
}
static void staff_no_dept(struct dg_user_new *u)
{
	u->role = DG_ROLE_STAFF;
}
static void staff_bad_dept(struct dg_user_new *u)
{
	u->role = DG_ROLE_STAFF;
	u->dept_code = "nope";
}
static void staff_bad_roles(struct dg_user_new *u)
{
	u->role = DG_ROLE_STAFF;
	u->dept_code = "mz";
	u->staff_roles = "intake,,review";
}
static void agent_no_uscc(struct dg_user_new *u)
{
	u->role = DG_ROLE_AGENT;
	u->org_name = "华兴";
}
static void agent_bad_uscc(struct dg_user_new *u)
{
	u->role = DG_ROLE_AGENT;
	u->uscc = "91350100M000100Y44";
	u->org_name = "华兴";
}
static void agent_no_org(struct dg_user_new *u)
{
	u->role = DG_ROLE_AGENT;
	u->uscc = "91350100M000100Y43";
}

static void invalid_accounts_are_refused(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
		{"role", bad_role, "role"},
		{"username with space", bad_username, "username"},
		{"short username", short_username, "username"},
		{"sql in username", sql_username, "username"},
		{"no name", no_name, "name"},
		{"long name", long_name, "name"},
		{"control in name", ctl_name, "name"},
		{"short password", short_pw, "password"},
		{"weak password", weak_pw, "password"},
		{"citizen without id", no_id, "id_number"},
		{"bad check digit", bad_id, "id_number"},
		{"bad phone", bad_phone, "phone"},
		{"staff without dept", staff_no_dept, "dept"},
		{"unknown dept", staff_bad_dept, "dept"},
		{"bad staff roles", staff_bad_roles, "staff_roles"},
		{"agent without uscc", agent_no_uscc, "uscc"},
		{"agent bad uscc", agent_bad_uscc, "uscc"},
		{"agent without org", agent_no_org, "org"},
	};
	int64_t before = count_users();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dg_user_new u;
		struct dg_err err = {0};
		citizen(&u, "badcase");
		cases[i].change(&u);
		dg_rc rc = dg_user_create(&app.env, db, &u, NULL, &err);
		if (rc != DG_EINVAL || strcmp(err.field, cases[i].field) != 0)
			fail_msg("%s: rc %s field '%s'", cases[i].what, dg_rc_name(rc), err.field);
		assert_true(strncmp(err.msg, "auth.err.", 9) == 0);
	}
	assert_int_equal(count_users(), before);
}

static void staff_and_agent_accounts(void **state)
{
	(void)state;
	struct dg_user_new u;
	struct dg_err err = {0};
	citizen(&u, "zhao");
	u.role = DG_ROLE_STAFF;
	u.id_number = NULL;
	u.dept_code = "mz";
	u.staff_roles = "intake,review";
	assert_int_equal(dg_user_create(&app.env, db, &u, NULL, &err), DG_OK);
	citizen(&u, "agent1");
	u.role = DG_ROLE_AGENT;
	u.id_number = NULL;
	u.uscc = "91350100M000100Y43";
	u.org_name = "示范市华兴科技有限公司";
	assert_int_equal(dg_user_create(&app.env, db, &u, NULL, &err), DG_OK);
	citizen(&u, "root1");
	u.role = DG_ROLE_ADMIN;
	u.id_number = NULL;
	u.phone = NULL;
	assert_int_equal(dg_user_create(&app.env, db, &u, NULL, &err), DG_OK);
}

static void login_lockout_and_unlock(void **state)
{
	(void)state;
	struct dg_user_new u;
	struct dg_err err = {0};
	int64_t id = 0, got = 0;
	citizen(&u, "bob");
	assert_int_equal(dg_user_create(&app.env, db, &u, &id, &err), DG_OK);
	assert_int_equal(dg_auth_login(&app.env, db, "", "bob", PW, &got, NULL), DG_OK);
	assert_int_equal(got, id);
	assert_int_equal(dg_auth_login(&app.env, db, "", "bob", "wrong-pass-1", &got, NULL),
			 DG_EAUTH);
	assert_int_equal(got, 0);
	/* a success resets the count: four more failures do not lock */
	assert_int_equal(dg_auth_login(&app.env, db, "", "bob", PW, &got, NULL), DG_OK);
	for (int i = 0; i < 4; i++)
		assert_int_equal(dg_auth_login(&app.env, db, "", "bob", "wrong-pass-1", &got, NULL),
				 DG_EAUTH);
	assert_int_equal(dg_auth_login(&app.env, db, "", "bob", PW, &got, NULL), DG_OK);
	for (int i = 0; i < 5; i++)
		assert_int_equal(dg_auth_login(&app.env, db, "", "bob", "wrong-pass-1", &got, NULL),
				 DG_EAUTH);
	/* locked: even the right password is refused */
	assert_int_equal(dg_auth_login(&app.env, db, "", "bob", PW, &got, NULL), DG_ELOCKED);
	assert_int_equal(got, 0);
	assert_int_equal(dg_auth_unlock(db, id), DG_OK);
	assert_int_equal(dg_auth_login(&app.env, db, "", "bob", PW, &got, NULL), DG_OK);
	assert_int_equal(dg_auth_unlock(db, 999999), DG_ENOTFOUND);
}

static void unknown_usernames_behave_the_same(void **state)
{
	(void)state;
	int64_t got = 1;
	for (int i = 0; i < 5; i++)
		assert_int_equal(
			dg_auth_login(&app.env, db, "", "nobody", "whatever-1", &got, NULL),
			DG_EAUTH);
	assert_int_equal(got, 0);
	assert_int_equal(dg_auth_login(&app.env, db, "", "nobody", "whatever-1", &got, NULL),
			 DG_ELOCKED);
	/* SQL metacharacters are only data */
	assert_int_equal(dg_auth_login(&app.env, db, "", "' OR '1'='1", "' OR '1'='1", &got, NULL),
			 DG_EAUTH);
	assert_int_equal(
		dg_auth_login(&app.env, db, "", "alice\"; DROP TABLE users; --", PW, &got, NULL),
		DG_EAUTH);
	assert_true(count_users() > 0);
}

static void change_password(void **state)
{
	(void)state;
	struct dg_user_new u;
	struct dg_err err = {0};
	int64_t id = 0, got = 0;
	citizen(&u, "carol");
	assert_int_equal(dg_user_create(&app.env, db, &u, &id, &err), DG_OK);
	assert_int_equal(dg_auth_set_password(&app.env, db, id, "short", NULL, &err), DG_EINVAL);
	assert_string_equal(err.field, "password");
	assert_int_equal(dg_auth_login(&app.env, db, "", "carol", PW, &got, NULL), DG_OK);
	assert_int_equal(dg_auth_set_password(&app.env, db, id, "New-pass-22", NULL, &err), DG_OK);
	assert_int_equal(dg_auth_login(&app.env, db, "", "carol", PW, &got, NULL), DG_EAUTH);
	assert_int_equal(dg_auth_login(&app.env, db, "", "carol", "New-pass-22", &got, NULL),
			 DG_OK);
	assert_int_equal(dg_auth_set_password(&app.env, db, 999999, "New-pass-22", NULL, &err),
			 DG_ENOTFOUND);
}

static void password_rules(void **state)
{
	(void)state;
	const char *why = NULL;
	assert_int_equal(dg_pw_check("Demo-2026!", &why), DG_OK);
	assert_int_equal(dg_pw_check("密码密码密码密码1", &why), DG_OK);
	assert_int_equal(dg_pw_check("", &why), DG_EINVAL);
	assert_string_equal(why, "auth.err.password_missing");
	assert_int_equal(dg_pw_check("Ab1", &why), DG_EINVAL);
	assert_string_equal(why, "auth.err.password_short");
	assert_int_equal(dg_pw_check("12345678901", &why), DG_EINVAL);
	assert_string_equal(why, "auth.err.password_weak");
	char big[200];
	memset(big, 'a', sizeof(big) - 2);
	big[sizeof(big) - 2] = '1';
	big[sizeof(big) - 1] = 0;
	assert_int_equal(dg_pw_check(big, &why), DG_EINVAL);
	assert_string_equal(why, "auth.err.password_long");
	assert_int_equal(dg_pw_check("abc\xff\xfe"
				     "defgh1",
				     &why),
			 DG_EINVAL);
}

static void api_tokens(void **state)
{
	(void)state;
	struct dg_user_new u;
	struct dg_err err = {0};
	int64_t id = 0, tid = 0;
	citizen(&u, "dave");
	assert_int_equal(dg_user_create(&app.env, db, &u, &id, &err), DG_OK);
	struct dg_arena *a = dg_arena_new();
	char *tok = NULL;
	assert_int_equal(dg_token_create(&app.env, db, a, id, "", "write", &tok, &err), DG_EINVAL);
	assert_null(tok);
	assert_int_equal(dg_token_create(&app.env, db, a, id, "sync", "write", &tok, &err), DG_OK);
	assert_int_equal(strlen(tok), 68);
	assert_true(strncmp(tok, "dgt_", 4) == 0);
	/* only the hash is stored */
	int64_t n = 0;
	assert_int_equal(dg_db_query_int(db, "SELECT COUNT(*) FROM api_tokens WHERE token_hash = ?",
					 DG_ARGS(DG_VT(tok)), &n),
			 DG_OK);
	assert_int_equal(n, 0);
	assert_int_equal(dg_db_query_int(db, "SELECT id FROM api_tokens WHERE token_hash = ?",
					 DG_ARGS(DG_VT(dg_auth_hash(a, tok))), &tid),
			 DG_OK);
	assert_int_equal(dg_token_revoke(db, id + 1000, tid), DG_ENOTFOUND); /* not theirs */
	assert_int_equal(dg_token_revoke(db, id, tid), DG_OK);
	assert_int_equal(dg_token_revoke(db, id, tid), DG_ENOTFOUND); /* already */
	dg_arena_free(a);
}

static int64_t count_of(const char *sql)
{
	int64_t n = -1;
	assert_int_equal(dg_db_query_int(db, sql, DG_NOARGS, &n), DG_OK);
	return n;
}

static void lock_is_per_address(void **state)
{
	(void)state;
	struct dg_user_new u;
	struct dg_err err = {0};
	int64_t id = 0, got = 0;
	citizen(&u, "erin");
	assert_int_equal(dg_user_create(&app.env, db, &u, &id, &err), DG_OK);
	/* a stranger fails five times from their address: the name is locked there */
	for (int i = 0; i < 5; i++)
		assert_int_equal(dg_auth_login(&app.env, db, "203.0.113.9", "erin", "wrong-pass-1",
					       &got, &err),
				 DG_EAUTH);
	assert_int_equal(dg_auth_login(&app.env, db, "203.0.113.9", "erin", PW, &got, &err),
			 DG_ELOCKED);
	assert_string_equal(err.msg, "auth.err.locked");
	/* and only there: the owner signs in from theirs, again and again */
	for (int i = 0; i < 3; i++)
		assert_int_equal(
			dg_auth_login(&app.env, db, "198.51.100.7", "erin", PW, &got, NULL), DG_OK);
	assert_int_equal(got, id);
	/* the administrator's unlock ends the lock at every address */
	assert_int_equal(dg_auth_unlock(db, id), DG_OK);
	assert_int_equal(dg_auth_login(&app.env, db, "203.0.113.9", "erin", PW, &got, NULL), DG_OK);
}

static void address_limit_before_the_hash(void **state)
{
	(void)state;
	struct dg_user_new u;
	struct dg_err err = {0};
	int64_t id = 0, got = 0;
	unsigned limit = app.cfg.login_limit;
	app.cfg.login_limit = 6;
	citizen(&u, "frank");
	assert_int_equal(dg_user_create(&app.env, db, &u, &id, &err), DG_OK);
	/* signing in that works does not count against the address */
	for (int i = 0; i < 10; i++)
		assert_int_equal(dg_auth_login(&app.env, db, "192.0.2.50", "frank", PW, &got, NULL),
				 DG_OK);
	/* made-up names from one address: six are checked, then the address waits */
	char name[32];
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "made-up-%d", i);
		assert_int_equal(
			dg_auth_login(&app.env, db, "192.0.2.50", name, "whatever-1", &got, NULL),
			DG_EAUTH);
	}
	int64_t counted = count_of("SELECT COUNT(*) FROM login_attempts WHERE addr = '192.0.2.50'");
	for (int i = 6; i < 40; i++) {
		snprintf(name, sizeof(name), "made-up-%d", i);
		assert_int_equal(
			dg_auth_login(&app.env, db, "192.0.2.50", name, "whatever-1", &got, &err),
			DG_ELOCKED);
		assert_string_equal(err.msg, "auth.err.throttled");
	}
	/* refused before the name was looked up or a hash computed: nothing more was counted */
	assert_int_equal(count_of("SELECT COUNT(*) FROM login_attempts WHERE addr = '192.0.2.50'"),
			 counted);
	/* the right password from there waits too; another address is not held up */
	assert_int_equal(dg_auth_login(&app.env, db, "192.0.2.50", "frank", PW, &got, NULL),
			 DG_ELOCKED);
	assert_int_equal(dg_auth_login(&app.env, db, "192.0.2.51", "frank", PW, &got, NULL), DG_OK);
	/* an IPv6 client is one /64, whichever address of it it uses */
	for (int i = 0; i < 6; i++) {
		char addr[64];
		snprintf(addr, sizeof(addr), "2001:db8:7:7::%x", i + 1);
		snprintf(name, sizeof(name), "made-up-v6-%d", i);
		assert_int_equal(dg_auth_login(&app.env, db, addr, name, "whatever-1", &got, NULL),
				 DG_EAUTH);
	}
	assert_int_equal(
		dg_auth_login(&app.env, db, "2001:db8:7:7:ffff::1", "frank", PW, &got, NULL),
		DG_ELOCKED);
	/* after the window the address may try again */
	assert_int_equal(dg_db_exec(db,
				    "UPDATE login_addr SET window_ms = window_ms - 16 * 60 * 1000",
				    DG_NOARGS, NULL),
			 DG_OK);
	assert_int_equal(dg_auth_login(&app.env, db, "192.0.2.50", "frank", PW, &got, NULL), DG_OK);
	app.cfg.login_limit = limit;
}

static void new_password_ends_tokens(void **state)
{
	(void)state;
	struct dg_user_new u;
	struct dg_err err = {0};
	int64_t id = 0;
	citizen(&u, "gina");
	assert_int_equal(dg_user_create(&app.env, db, &u, &id, &err), DG_OK);
	struct dg_arena *a = dg_arena_new();
	char *tok = NULL;
	assert_int_equal(dg_token_create(&app.env, db, a, id, "sync", "read", &tok, &err), DG_OK);
	assert_int_equal(dg_token_create(&app.env, db, a, id, "sync", "admin", &tok, &err),
			 DG_EINVAL);
	assert_string_equal(err.field, "scope");
	assert_int_equal(dg_token_create(&app.env, db, a, id, "deploy", "write", &tok, &err),
			 DG_OK);
	int64_t live = -1;
	assert_int_equal(
		dg_db_query_int(
			db,
			"SELECT COUNT(*) FROM api_tokens WHERE user_id = ? AND revoked_at IS NULL",
			DG_ARGS(DG_VI(id)), &live),
		DG_OK);
	assert_int_equal(live, 2);
	assert_int_equal(dg_auth_set_password(&app.env, db, id, "New-pass-33", NULL, &err), DG_OK);
	assert_int_equal(
		dg_db_query_int(
			db,
			"SELECT COUNT(*) FROM api_tokens WHERE user_id = ? AND revoked_at IS NULL",
			DG_ARGS(DG_VI(id)), &live),
		DG_OK);
	assert_int_equal(live, 0);
	dg_arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(demo_seed_once_with_valid_identifiers),
		cmocka_unit_test(create_citizen_seals_identifiers),
		cmocka_unit_test(invalid_accounts_are_refused),
		cmocka_unit_test(staff_and_agent_accounts),
		cmocka_unit_test(login_lockout_and_unlock),
		cmocka_unit_test(unknown_usernames_behave_the_same),
		cmocka_unit_test(change_password),
		cmocka_unit_test(password_rules),
		cmocka_unit_test(api_tokens),
		cmocka_unit_test(lock_is_per_address),
		cmocka_unit_test(address_limit_before_the_hash),
		cmocka_unit_test(new_password_ends_tokens),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
