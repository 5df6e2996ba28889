/*
 * test_hardening_auth.c - sign-in and API tokens against abuse, through the
 * real server:
 *
 *   - a flood of sign-ins with made-up names from one address is refused
 *     (429) past the limit, before any name is looked up or password hashed,
 *     while another address signs in;
 *   - a stranger who fails five times at the administrator's name locks it
 *     only for their own address: the administrator still signs in;
 *   - API tokens work under /api/, and elsewhere only to read what anyone
 *     may (not for the account pages, minting tokens, revealing an ID number
 *     or changing the password); a read-only token cannot write; a new
 *     password ends every token.
 *
 * The server trusts 127.0.0.1 as a proxy, so each test speaks from its own
 * address with X-Forwarded-For.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/app.h"
#include "node/demo.h"
#include "harness.h"
#include "store/store.h"

static int64_t count(const char *sql)
{
	struct dg_db *db = NULL;
	int64_t n = -1;
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_db_query_int(db, sql, DG_NOARGS, &n), DG_OK);
	dg_db_put(db);
	return n;
}

/* POST /login as c from address `from` (X-Forwarded-For); the status, *out the reply. */
static long login_from(struct th_client *c, const char *from, const char *user, const char *pw,
		       struct th_resp *out)
{
	char *csrf = th_csrf(c, "/login");
	assert_non_null(csrf);
	char *u = th_enc(user), *p = th_enc(pw), *body = NULL, *xff = NULL;
	assert_true(asprintf(&body, "username=%s&password=%s&csrf=%s", u, p, csrf) > 0);
	assert_true(asprintf(&xff, "X-Forwarded-For: %s", from) > 0);
	const char *h[] = {xff, NULL};
	long st = th_request(c, "POST", "/login", "application/x-www-form-urlencoded", body,
			     strlen(body), h, out);
	free(u);
	free(p);
	free(body);
	free(xff);
	free(csrf);
	return st;
}

static void flood_of_made_up_names(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r;
	char name[64];
	unsigned limit = th_app(th_shared)->cfg.login_limit;
	assert_int_equal(limit, 20);
	for (unsigned i = 0; i < limit; i++) {
		snprintf(name, sizeof(name), "nobody-%u", i);
		assert_int_equal(login_from(c, "203.0.113.10", name, "Guess-1234", &r), 401);
		th_resp_release(&r);
	}
	int64_t counted = count("SELECT COUNT(*) FROM login_attempts WHERE addr = '203.0.113.10'");
	for (unsigned i = limit; i < limit + 30; i++) {
		snprintf(name, sizeof(name), "nobody-%u", i);
		assert_int_equal(login_from(c, "203.0.113.10", name, "Guess-1234", &r), 429);
		char *after = th_header(&r, "Retry-After");
		assert_non_null(after);
		free(after);
		assert_non_null(strstr(r.body, "15"));
		assert_null(strstr(r.headers, "dg_session="));
		th_resp_release(&r);
	}
	/* none of those was looked up or hashed: no failure was counted for them */
	assert_int_equal(count("SELECT COUNT(*) FROM login_attempts WHERE addr = '203.0.113.10'"),
			 counted);
	/* the right password waits there too; elsewhere it works */
	assert_int_equal(login_from(c, "203.0.113.10", DG_DEMO_CITIZEN, DG_DEMO_PASSWORD, &r), 429);
	th_resp_release(&r);
	struct th_client *other = th_client_new(th_shared);
	assert_int_equal(login_from(other, "203.0.113.11", DG_DEMO_CITIZEN, DG_DEMO_PASSWORD, &r),
			 303);
	th_resp_release(&r);
	th_client_free(other);
	th_client_free(c);
}

static void stranger_cannot_lock_the_administrator_out(void **state)
{
	(void)state;
	struct th_client *stranger = th_client_new(th_shared), *admin = th_client_new(th_shared);
	struct th_resp r;
	for (int round = 0; round < 3; round++) {
		/* five failures lock the name, for the stranger's address */
		for (int i = 0; i < 5; i++) {
			long st = login_from(stranger, "198.51.100.66", DG_DEMO_ADMIN,
					     "Wrong-pass-1", &r);
			th_resp_release(&r);
			assert_true(st == 401 || st == 429);
		}
		assert_int_equal(
			login_from(stranger, "198.51.100.66", DG_DEMO_ADMIN, DG_DEMO_PASSWORD, &r),
			429);
		th_resp_release(&r);
		/* the administrator, from theirs, signs in every time */
		assert_int_equal(
			login_from(admin, "192.0.2.1", DG_DEMO_ADMIN, DG_DEMO_PASSWORD, &r), 303);
		th_resp_release(&r);
	}
	/* the lock shows on the administrators' user list, and their unlock lifts it */
	assert_true(count("SELECT COUNT(*) FROM login_attempts WHERE username = 'admin' AND "
			  "locked_until > 0") > 0);
	th_client_free(stranger);
	th_client_free(admin);
}

/* The status of method path with token header h (and a JSON or form body). */
static long with_token(const char *h, const char *method, const char *path, const char *ctype,
		       const char *body)
{
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r;
	const char *hs[] = {h, NULL};
	long st = th_request(c, method, path, ctype, body, body ? strlen(body) : 0, hs, &r);
	th_resp_release(&r);
	th_client_free(c);
	return st;
}

static void tokens_only_for_the_api(void **state)
{
	(void)state;
	char *tok = th_token_header(th_shared, DG_DEMO_CITIZEN2, DG_DEMO_PASSWORD);
	assert_non_null(tok);
	assert_int_equal(with_token(tok, "GET", "/api/v1/me", NULL, NULL), 200);
	int64_t tokens = count("SELECT COUNT(*) FROM api_tokens");
	/* the browser's pages want the person: minting tokens, revealing the ID, the password */
	assert_int_equal(with_token(tok, "GET", "/account", NULL, NULL), 403);
	assert_int_equal(with_token(tok, "GET", "/account/tokens", NULL, NULL), 403);
	assert_int_equal(with_token(tok, "POST", "/account/tokens",
				    "application/x-www-form-urlencoded", "name=minted"),
			 403);
	assert_int_equal(count("SELECT COUNT(*) FROM api_tokens"), tokens);
	assert_int_equal(with_token(tok, "POST", "/account/reveal",
				    "application/x-www-form-urlencoded", "password=Demo-2026%21"),
			 403);
	assert_int_equal(
		with_token(tok, "POST", "/account/password", "application/x-www-form-urlencoded",
			   "current=Demo-2026%21&password=Taken-over-1&confirm=Taken-over-1"),
		403);
	assert_int_equal(with_token(tok, "GET", "/my/cases", NULL, NULL), 403);
	/* what anyone may read, a token may read too (CKAN clients fetch files with their key) */
	assert_int_equal(with_token(tok, "GET", "/services", NULL, NULL), 200);
	/* still the old password */
	struct th_client *c = th_client_new(th_shared);
	assert_true(th_login(c, DG_DEMO_CITIZEN2, DG_DEMO_PASSWORD));
	th_client_free(c);
	free(tok);
}

static void token_scopes_and_password_change(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r;
	assert_true(th_login(c, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD));
	/* the form offers read only (chosen first) or read and write */
	assert_int_equal(th_get(c, "/account/tokens", &r), 200);
	assert_non_null(strstr(r.body, "name=\"scope\" value=\"read\" checked"));
	th_resp_release(&r);
	assert_int_equal(
		th_post_csrf(c, "/account/tokens", "/account/tokens", "name=reader&scope=read", &r),
		201);
	char *read_h = NULL;
	assert_true(asprintf(&read_h, "Authorization: Bearer %.68s", strstr(r.body, "dgt_")) > 0);
	th_resp_release(&r);
	assert_int_equal(
		th_post_csrf(c, "/account/tokens", "/account/tokens", "name=bad&scope=root", &r),
		422);
	th_resp_release(&r);
	assert_int_equal(th_post_csrf(c, "/account/tokens", "/account/tokens",
				      "name=writer&scope=write", &r),
			 201);
	char *write_h = NULL;
	assert_true(asprintf(&write_h, "Authorization: Bearer %.68s", strstr(r.body, "dgt_")) > 0);
	th_resp_release(&r);
	/* reading works with both; writing only with the write token */
	static const char app[] = "{\"item\": \"990100-MZ-007\", \"submit\": false}";
	assert_int_equal(with_token(read_h, "GET", "/api/v1/me", NULL, NULL), 200);
	int64_t cases = count("SELECT COUNT(*) FROM cases");
	assert_int_equal(
		with_token(read_h, "POST", "/api/v1/applications", "application/json", app), 403);
	assert_int_equal(count("SELECT COUNT(*) FROM cases"), cases);
	assert_int_equal(
		with_token(write_h, "POST", "/api/v1/applications", "application/json", app), 201);
	/* a new password ends both */
	assert_int_equal(
		th_post_csrf(
			c, "/account/password", "/account/password",
			"current=Demo-2026%21&password=Changed-2026%21&confirm=Changed-2026%21",
			&r),
		200);
	th_resp_release(&r);
	assert_int_equal(with_token(read_h, "GET", "/api/v1/me", NULL, NULL), 401);
	assert_int_equal(with_token(write_h, "GET", "/api/v1/me", NULL, NULL), 401);
	/* and back, for the other tests of this binary */
	assert_int_equal(
		th_post_csrf(c, "/account/password", "/account/password",
			     "current=Changed-2026%21&password=Demo-2026%21&confirm=Demo-2026%21",
			     &r),
		200);
	th_resp_release(&r);
	free(read_h);
	free(write_h);
	th_client_free(c);
}

static int setup(void **state)
{
	(void)state;
	struct th_opts o = {.demo = true, .trusted_proxy = "127.0.0.1"};
	th_shared = th_start_opts(&o);
	return th_shared ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flood_of_made_up_names),
		cmocka_unit_test(stranger_cannot_lock_the_administrator_out),
		cmocka_unit_test(tokens_only_for_the_api),
		cmocka_unit_test(token_scopes_and_password_change),
	};
	return cmocka_run_group_tests(tests, setup, th_group_teardown);
}
