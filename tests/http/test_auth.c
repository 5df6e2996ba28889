/*
 * test_auth.c - sign-in, sessions, API tokens and the account pages through
 * the real server (tests/http/harness.h), on whichever store DGOV_TEST_DB
 * selects: good and bad sign-in, the lock-out and the administrator's
 * unlock, sign-out ending the session on the server, cookie attributes,
 * session fixation, the "next" parameter, tokens created, used and revoked,
 * password change and revealing one's own ID number.
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

static long login_resp(struct th_client *c, const char *user, const char *pw, const char *next,
		       struct th_resp *out)
{
	char *u = th_enc(user), *p = th_enc(pw), *n = th_enc(next ? next : "");
	char *body = NULL;
	assert_true(asprintf(&body, "username=%s&password=%s%s%s", u, p, next ? "&next=" : "",
			     next ? n : "") > 0);
	long st = th_post_csrf(c, "/login", "/login", body, out);
	free(body);
	free(u);
	free(p);
	free(n);
	return st;
}

/* The value of cookie name in the response's Set-Cookie headers (malloc'd), or NULL. */
static char *set_cookie(const struct th_resp *r, const char *name, char **attrs)
{
	size_t nl = strlen(name);
	for (const char *line = r->headers; line && *line;) {
		const char *end = strstr(line, "\r\n");
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (len > 12 && strncasecmp(line, "Set-Cookie: ", 12) == 0 &&
		    strncmp(line + 12, name, nl) == 0 && line[12 + nl] == '=') {
			const char *v = line + 12 + nl + 1;
			const char *semi = memchr(v, ';', (size_t)(line + len - v));
			size_t vl = semi ? (size_t)(semi - v) : (size_t)(line + len - v);
			if (attrs)
				*attrs = strndup(line, len);
			return strndup(v, vl);
		}
		line = end ? end + 2 : line + len;
	}
	return NULL;
}

static int64_t user_id(const char *username)
{
	struct dg_db *db = NULL;
	int64_t id = 0;
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_db_query_int(db, "SELECT id FROM users WHERE username = ?",
					 DG_ARGS(DG_VT(username)), &id),
			 DG_OK);
	dg_db_put(db);
	return id;
}

static void login_good_and_bad(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r;
	assert_int_equal(th_get(c, "/login", &r), 200);
	assert_non_null(strstr(r.body, "name=\"csrf\""));
	assert_non_null(strstr(r.body, "autocomplete=\"current-password\""));
	th_resp_release(&r);
	assert_int_equal(login_resp(c, DG_DEMO_CITIZEN, "wrong-password-1", NULL, &r), 401);
	assert_non_null(strstr(r.body, "error-summary"));
	assert_non_null(strstr(r.body, "aria-invalid=\"true\""));
	assert_null(strstr(r.body, "wrong-password-1")); /* passwords are never echoed */
	th_resp_release(&r);
	/* an unknown user gets the very same answer */
	assert_int_equal(login_resp(c, "no_such_user", "wrong-password-1", NULL, &r), 401);
	th_resp_release(&r);
	assert_int_equal(login_resp(c, "", "", NULL, &r), 422);
	th_resp_release(&r);
	assert_int_equal(login_resp(c, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD, NULL, &r), 303);
	char *loc = th_header(&r, "Location");
	assert_string_equal(loc, "/account");
	free(loc);
	th_resp_release(&r);
	assert_int_equal(th_get(c, "/account", &r), 200);
	assert_non_null(strstr(r.body, "张三"));
	assert_non_null(strstr(r.body, "990100********"));
	assert_non_null(strstr(r.body, "138****0001"));
	assert_null(strstr(r.body, "13800000001"));
	th_resp_release(&r);
	th_client_free(c);
}

static void session_cookie_flags_and_rotation(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r;
	char *attrs = NULL;
	assert_int_equal(login_resp(c, DG_DEMO_CITIZEN2, DG_DEMO_PASSWORD, NULL, &r), 303);
	char *first = set_cookie(&r, "dg_session", &attrs);
	assert_non_null(first);
	assert_int_equal(strlen(first), 64);
	assert_non_null(strstr(attrs, "HttpOnly"));
	assert_non_null(strstr(attrs, "SameSite=Lax"));
	assert_non_null(strstr(attrs, "Path=/"));
	free(attrs);
	th_resp_release(&r);
	/* signing in again (already signed in) rotates the token and ends the old one */
	assert_int_equal(login_resp(c, DG_DEMO_CITIZEN2, DG_DEMO_PASSWORD, NULL, &r), 303);
	char *second = set_cookie(&r, "dg_session", NULL);
	assert_non_null(second);
	assert_string_not_equal(first, second);
	th_resp_release(&r);
	struct th_client *c2 = th_client_new(th_shared);
	char *hdr = NULL;
	assert_true(asprintf(&hdr, "Cookie: dg_session=%s", first) > 0);
	const char *h[] = {hdr, NULL};
	assert_int_equal(th_request(c2, "GET", "/api/v1/me", NULL, NULL, 0, h, NULL), 401);
	free(hdr);
	free(first);
	free(second);
	th_client_free(c2);
	th_client_free(c);
}

static void session_fixation_planted_cookie_replaced(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r;
	char *csrf = th_csrf(c, "/login");
	const char *planted = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	char *hdr = NULL, *body = NULL;
	assert_true(asprintf(&hdr, "Cookie: dg_session=%s", planted) > 0);
	assert_true(asprintf(&body, "username=%s&password=%s&csrf=%s", DG_DEMO_CITIZEN,
			     "Demo-2026%21", csrf) > 0);
	const char *h[] = {hdr, NULL};
	/* the planted cookie is unknown: the server ignores it and issues its own */
	long st = th_request(c, "POST", "/login", "application/x-www-form-urlencoded", body,
			     strlen(body), h, &r);
	assert_int_equal(st, 303);
	char *issued = set_cookie(&r, "dg_session", NULL);
	assert_non_null(issued);
	assert_string_not_equal(issued, planted);
	th_resp_release(&r);
	free(issued);
	free(hdr);
	free(body);
	free(csrf);
	th_client_free(c);
}

static void logout_ends_session_on_server(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r;
	assert_int_equal(login_resp(c, DG_DEMO_STAFF, DG_DEMO_PASSWORD, NULL, &r), 303);
	char *cookie = set_cookie(&r, "dg_session", NULL);
	th_resp_release(&r);
	assert_int_equal(th_post_csrf(c, "/login", "/logout", "", &r), 303);
	char *gone = NULL;
	char *cleared = set_cookie(&r, "dg_session", &gone);
	assert_non_null(cleared);
	assert_string_equal(cleared, "");
	assert_non_null(strstr(gone, "Max-Age=0"));
	free(cleared);
	free(gone);
	th_resp_release(&r);
	/* replaying the old cookie from elsewhere no longer works */
	struct th_client *c2 = th_client_new(th_shared);
	char *hdr = NULL;
	assert_true(asprintf(&hdr, "Cookie: dg_session=%s", cookie) > 0);
	const char *h[] = {hdr, NULL};
	assert_int_equal(th_request(c2, "GET", "/account", NULL, NULL, 0, h, &r), 303);
	char *loc = th_header(&r, "Location");
	assert_true(strncmp(loc, "/login", 6) == 0);
	free(loc);
	th_resp_release(&r);
	assert_int_equal(th_request(c2, "GET", "/api/v1/me", NULL, NULL, 0, h, NULL), 401);
	free(hdr);
	free(cookie);
	th_client_free(c2);
	th_client_free(c);
}

static void lockout_and_admin_unlock(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(login_resp(c, "wangwu", "wrong-password-1", NULL, &r), 401);
		th_resp_release(&r);
	}
	assert_int_equal(login_resp(c, "wangwu", DG_DEMO_PASSWORD, NULL, &r), 429);
	assert_non_null(strstr(r.body, "15"));
	th_resp_release(&r);
	/* the administrator sees the lock and lifts it */
	struct th_client *adm = th_client_new(th_shared);
	assert_true(th_login(adm, DG_DEMO_ADMIN, DG_DEMO_PASSWORD));
	char *path = NULL;
	assert_true(asprintf(&path, "/admin/users/%lld/unlock", (long long)user_id("wangwu")) > 0);
	assert_int_equal(th_get(adm, "/admin/users?role=citizen", &r), 200);
	assert_non_null(strstr(r.body, path));
	th_resp_release(&r);
	assert_int_equal(th_post_csrf(adm, "/login", path, "", &r), 303);
	th_resp_release(&r);
	assert_int_equal(th_post_csrf(adm, "/login", "/admin/users/999999/unlock", "", &r), 404);
	th_resp_release(&r);
	free(path);
	assert_true(th_login(c, "wangwu", DG_DEMO_PASSWORD));
	th_client_free(adm);
	th_client_free(c);
}

static void next_is_local_only(void **state)
{
	(void)state;
	static const struct {
		const char *next, *want;
	} cases[] = {
		{"/account/tokens", "/account/tokens"}, {"//evil.example/x", "/account"},
		{"https://evil.example/", "/account"},  {"javascript:alert(1)", "/account"},
		{"/\\evil.example", "/account"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct th_client *c = th_client_new(th_shared);
		struct th_resp r;
		assert_int_equal(login_resp(c, "zhengshi", DG_DEMO_PASSWORD, cases[i].next, &r),
				 303);
		char *loc = th_header(&r, "Location");
		if (strcmp(loc, cases[i].want) != 0)
			fail_msg("next=%s went to %s", cases[i].next, loc);
		free(loc);
		th_resp_release(&r);
		th_client_free(c);
	}
	/* an anonymous page visit is sent to sign in and back */
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r;
	assert_int_equal(th_get(c, "/account/tokens", &r), 303);
	char *loc = th_header(&r, "Location");
	assert_string_equal(loc, "/login?next=%2Faccount%2Ftokens");
	free(loc);
	th_resp_release(&r);
	assert_int_equal(th_get(c, "/login?next=%2Faccount%2Ftokens", &r), 200);
	assert_non_null(strstr(r.body, "name=\"next\" value=\"/account/tokens\""));
	th_resp_release(&r);
	th_client_free(c);
}

/* The token shown once on the page after creating it (malloc'd). */
static char *token_from(const char *body)
{
	const char *at = strstr(body, "dgt_");
	assert_non_null(at);
	return strndup(at, 68);
}

static void api_tokens_create_use_revoke(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r;
	assert_true(th_login(c, DG_DEMO_AGENT, DG_DEMO_PASSWORD));
	assert_int_equal(th_post_csrf(c, "/login", "/account/tokens", "name=", &r), 422);
	th_resp_release(&r);
	assert_int_equal(th_post_csrf(c, "/login", "/account/tokens", "name=sync+script", &r), 201);
	char *tok = token_from(r.body);
	th_resp_release(&r);
	/* shown once: the list does not show it again */
	assert_int_equal(th_get(c, "/account/tokens", &r), 200);
	assert_null(strstr(r.body, tok));
	assert_non_null(strstr(r.body, "sync script"));
	const char *act = strstr(r.body, "action=\"/account/tokens/");
	assert_non_null(act);
	char *revoke = strndup(act + 8, strcspn(act + 8, "\""));
	th_resp_release(&r);

	struct th_client *api = th_client_new(th_shared);
	char *hdr = NULL;
	assert_true(asprintf(&hdr, "Authorization: Bearer %s", tok) > 0);
	const char *h[] = {hdr, NULL};
	assert_int_equal(th_request(api, "GET", "/api/v1/me", NULL, NULL, 0, h, &r), 200);
	assert_non_null(strstr(r.body, "\"agent_hx\""));
	assert_non_null(strstr(r.body, "137****0001"));
	assert_null(strstr(r.body, "13700000001"));
	th_resp_release(&r);
	/* a token request carries no cookies: none are set for it */
	assert_int_equal(th_request(api, "GET", "/api/v1/me", NULL, NULL, 0, h, &r), 200);
	assert_null(strstr(r.headers, "dg_session="));
	th_resp_release(&r);

	assert_int_equal(th_post_csrf(c, "/login", revoke, "", &r), 303);
	th_resp_release(&r);
	assert_int_equal(th_post_csrf(c, "/login", revoke, "", &r), 404);
	th_resp_release(&r);
	assert_int_equal(th_request(api, "GET", "/api/v1/me", NULL, NULL, 0, h, &r), 401);
	assert_non_null(strstr(r.body, "\"error\""));
	th_resp_release(&r);
	free(tok);
	free(revoke);
	free(hdr);
	th_client_free(api);
	th_client_free(c);
}

static void bad_bearer_is_401_json(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"Authorization: Bearer nonsense",
		"Authorization: Bearer "
		"dgt_0000000000000000000000000000000000000000000000000000000000000000",
		"Authorization: Bearer ",
		"Authorization: Basic YWRtaW46RGVtby0yMDI2IQ==",
	};
	struct th_client *c = th_client_new(th_shared);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct th_resp r;
		const char *h[] = {bad[i], NULL};
		long st = th_request(c, "GET", "/api/v1/me", NULL, NULL, 0, h, &r);
		if (st != 401)
			fail_msg("%s -> %ld", bad[i], st);
		char *ct = th_header(&r, "Content-Type");
		assert_non_null(ct);
		assert_non_null(strstr(ct, "json"));
		assert_non_null(strstr(r.body, "EAUTH"));
		free(ct);
		th_resp_release(&r);
	}
	struct th_resp r;
	assert_int_equal(th_get(c, "/api/v1/me", &r), 401);
	assert_non_null(strstr(r.body, "\"error\""));
	th_resp_release(&r);
	th_client_free(c);
}

static void change_password_flow(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared), *other = th_client_new(th_shared);
	struct th_resp r;
	assert_true(th_login(c, "zhaoliu", DG_DEMO_PASSWORD));
	assert_true(th_login(other, "zhaoliu", DG_DEMO_PASSWORD));
	assert_int_equal(th_get(c, "/account/password", &r), 200);
	th_resp_release(&r);
	assert_int_equal(
		th_post_csrf(c, "/login", "/account/password",
			     "current=wrong-pass-1&password=New-pass-99&confirm=New-pass-99", &r),
		422);
	th_resp_release(&r);
	assert_int_equal(
		th_post_csrf(c, "/login", "/account/password",
			     "current=Demo-2026%21&password=New-pass-99&confirm=New-pass-98", &r),
		422);
	th_resp_release(&r);
	assert_int_equal(th_post_csrf(c, "/login", "/account/password",
				      "current=Demo-2026%21&password=short&confirm=short", &r),
			 422);
	th_resp_release(&r);
	assert_int_equal(
		th_post_csrf(c, "/login", "/account/password",
			     "current=Demo-2026%21&password=New-pass-99&confirm=New-pass-99", &r),
		200);
	th_resp_release(&r);
	/* this session goes on; the other one has ended */
	assert_int_equal(th_get(c, "/account", &r), 200);
	th_resp_release(&r);
	assert_int_equal(th_get(other, "/account", &r), 303);
	th_resp_release(&r);
	struct th_client *c3 = th_client_new(th_shared);
	assert_false(th_login(c3, "zhaoliu", DG_DEMO_PASSWORD));
	assert_true(th_login(c3, "zhaoliu", "New-pass-99"));
	th_client_free(c3);
	th_client_free(other);
	th_client_free(c);
}

static void reveal_own_id_after_password(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r;
	assert_true(th_login(c, "sunqi", DG_DEMO_PASSWORD));
	assert_int_equal(th_post_csrf(c, "/login", "/account/reveal", "password=wrong-pass-1", &r),
			 422);
	assert_non_null(strstr(r.body, "990100********"));
	th_resp_release(&r);
	assert_int_equal(th_post_csrf(c, "/login", "/account/reveal", "password=Demo-2026%21", &r),
			 200);
	assert_non_null(strstr(r.body, "99010020010909055"));
	assert_non_null(strstr(r.body, "13800000005"));
	th_resp_release(&r);
	/* and masked again on the next visit */
	assert_int_equal(th_get(c, "/account", &r), 200);
	assert_null(strstr(r.body, "99010020010909055"));
	th_resp_release(&r);
	th_client_free(c);
}

static void admin_creates_accounts(void **state)
{
	(void)state;
	struct th_client *adm = th_client_new(th_shared);
	struct th_resp r;
	assert_true(th_login(adm, DG_DEMO_ADMIN, DG_DEMO_PASSWORD));
	assert_int_equal(th_get(adm, "/admin/users/new", &r), 200);
	assert_non_null(strstr(r.body, "民政局"));
	th_resp_release(&r);
	/* an invalid ID number: refused, answers kept, password not echoed */
	assert_int_equal(th_post_csrf(adm, "/login", "/admin/users/new",
				      "role=citizen&username=newbie&name=%E6%96%B0%E4%BA%BA&"
				      "password=Secret-pass-7"
				      "&id_number=110105194912310021&phone=13912345678",
				      &r),
			 422);
	assert_non_null(strstr(r.body, "value=\"newbie\""));
	assert_non_null(strstr(r.body, "value=\"13912345678\""));
	assert_non_null(strstr(r.body, "href=\"#id_number\""));
	assert_null(strstr(r.body, "Secret-pass-7"));
	th_resp_release(&r);
	assert_int_equal(th_post_csrf(adm, "/login", "/admin/users/new",
				      "role=staff&username=newstaff&name=%E6%96%B0%E4%BA%BA&"
				      "password=Secret-pass-7"
				      "&dept=mz&staff_roles=intake",
				      &r),
			 303);
	th_resp_release(&r);
	assert_int_equal(
		th_post_csrf(adm, "/login", "/admin/users/new",
			     "role=staff&username=newstaff&name=x&password=Secret-pass-7&dept=mz",
			     &r),
		409);
	th_resp_release(&r);
	assert_int_equal(th_get(adm, "/admin/users?dept=mz", &r), 200);
	assert_non_null(strstr(r.body, "newstaff"));
	assert_null(strstr(r.body, "zhangsan"));
	th_resp_release(&r);
	struct th_client *c = th_client_new(th_shared);
	assert_true(th_login(c, "newstaff", "Secret-pass-7"));
	assert_int_equal(th_get(c, "/admin/users", &r), 403);
	th_resp_release(&r);
	th_client_free(c);
	th_client_free(adm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(login_good_and_bad),
		cmocka_unit_test(session_cookie_flags_and_rotation),
		cmocka_unit_test(session_fixation_planted_cookie_replaced),
		cmocka_unit_test(logout_ends_session_on_server),
		cmocka_unit_test(lockout_and_admin_unlock),
		cmocka_unit_test(next_is_local_only),
		cmocka_unit_test(api_tokens_create_use_revoke),
		cmocka_unit_test(bad_bearer_is_401_json),
		cmocka_unit_test(change_password_flow),
		cmocka_unit_test(reveal_own_id_after_password),
		cmocka_unit_test(admin_creates_accounts),
	};
	return cmocka_run_group_tests(tests, th_group_setup, th_group_teardown);
}
