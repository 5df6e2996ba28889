/*
 * test_security.c - the auth pages under attack, through the real server:
 * every POST route of the auth module refuses a missing, wrong or foreign
 * CSRF token with 403 and changes nothing; script injection in every field
 * that is echoed comes back escaped; SQL metacharacters are only data;
 * oversized fields are refused with a clear message.
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

/* A digest of what the auth tables hold, to show that nothing changed. */
static void snapshot(int64_t out[5])
{
	out[0] = count("SELECT COUNT(*) FROM users");
	out[1] = count("SELECT COUNT(*) FROM sessions");
	out[2] = count("SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NULL");
	out[3] = count("SELECT COUNT(*) FROM login_attempts");
	out[4] = count("SELECT COUNT(*) FROM api_tokens");
}

static long post_raw(struct th_client *c, const char *path, const char *body, struct th_resp *out)
{
	return th_post_form(c, path, body, out);
}

struct csrf_case {
	const char *path;
	const char *body; /* a valid body but for the token */
	bool admin;
};

static void csrf_refused_everywhere(void **state)
{
	(void)state;
	struct th_client *cit = th_client_new(th_shared), *adm = th_client_new(th_shared);
	struct th_client *stranger = th_client_new(th_shared);
	assert_true(th_login(cit, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD));
	assert_true(th_login(adm, DG_DEMO_ADMIN, DG_DEMO_PASSWORD));
	assert_true(th_login(stranger, DG_DEMO_CITIZEN2, DG_DEMO_PASSWORD));
	struct th_resp r;
	/* a token to try revoking */
	assert_int_equal(th_post_csrf(cit, "/login", "/account/tokens", "name=keep", &r), 201);
	th_resp_release(&r);
	assert_int_equal(th_get(cit, "/account/tokens", &r), 200);
	const char *act = strstr(r.body, "action=\"/account/tokens/");
	assert_non_null(act);
	char *revoke = strndup(act + 8, strcspn(act + 8, "\""));
	th_resp_release(&r);
	char *unlock = NULL;
	assert_true(asprintf(&unlock, "/admin/users/%d/unlock", 1) > 0);

	const struct csrf_case cases[] = {
		{"/login", "username=zhangsan&password=Demo-2026%21", false},
		{"/logout", "", false},
		{"/account/reveal", "password=Demo-2026%21", false},
		{"/account/password", "current=Demo-2026%21&password=Changed-99&confirm=Changed-99",
		 false},
		{"/account/tokens", "name=evil", false},
		{revoke, "", false},
		{"/admin/users/new", "role=admin&username=evil&name=evil&password=Evil-pass-99",
		 true},
		{unlock, "", true},
	};
	char *foreign = th_csrf(stranger, "/login");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct th_client *c = cases[i].admin ? adm : cit;
		const char *tokens[] = {NULL, "csrf=", "csrf=0000", NULL};
		char *fb = NULL;
		assert_true(asprintf(&fb, "csrf=%s", foreign) > 0);
		tokens[3] = fb;
		for (size_t t = 0; t < 4; t++) {
			int64_t before[5], after[5];
			snapshot(before);
			char *body = NULL;
			const char *sep = cases[i].body[0] && tokens[t] ? "&" : "";
			assert_true(asprintf(&body, "%s%s%s", cases[i].body, sep,
					     tokens[t] ? tokens[t] : "") >= 0);
			long st = post_raw(c, cases[i].path, body, &r);
			if (st != 403)
				fail_msg("POST %s with %s -> %ld", cases[i].path,
					 tokens[t] ? tokens[t] : "no token", st);
			assert_null(
				strstr(r.headers, "dg_session=")); /* no session made or ended */
			th_resp_release(&r);
			snapshot(after);
			assert_memory_equal(before, after, sizeof(before));
			free(body);
		}
		free(fb);
	}
	/* still signed in, password unchanged, no token revoked */
	assert_int_equal(th_get(cit, "/account", &r), 200);
	th_resp_release(&r);
	struct th_client *again = th_client_new(th_shared);
	assert_true(th_login(again, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD));
	th_client_free(again);
	/* the header form of the token works for scripts that post JSON-free forms */
	char *csrf = th_csrf(cit, "/login");
	char *hdr = NULL;
	assert_true(asprintf(&hdr, "X-CSRF-Token: %s", csrf) > 0);
	const char *h[] = {hdr, NULL};
	assert_int_equal(th_request(cit, "POST", "/account/tokens",
				    "application/x-www-form-urlencoded", "name=by-header", 14, h,
				    &r),
			 201);
	th_resp_release(&r);
	free(hdr);
	free(csrf);
	free(foreign);
	free(revoke);
	free(unlock);
	th_client_free(stranger);
	th_client_free(adm);
	th_client_free(cit);
}

static void assert_escaped(const char *body, const char *raw)
{
	if (strstr(body, raw))
		fail_msg("found unescaped: %s", raw);
}

static const char *const attacks[] = {
	"<script>alert(1)</script>",
	"\"><img src=x onerror=alert(1)>",
	"'><svg onload=alert(1)>",
};

static void script_injection_is_escaped(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r;
	for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
		char *u = th_enc(attacks[i]), *body = NULL;
		/* username on a failed sign-in */
		assert_true(asprintf(&body, "username=%s&password=x1234567", u) > 0);
		assert_int_equal(th_post_csrf(c, "/login", "/login", body, &r), 401);
		assert_escaped(r.body, attacks[i]);
		assert_non_null(strstr(r.body, "&lt;"));
		th_resp_release(&r);
		free(body);
		/* next= on the sign-in page: kept only as an escaped local path */
		char *path = NULL;
		assert_true(asprintf(&path, "/login?next=/%s", u) > 0);
		assert_int_equal(th_get(c, path, &r), 200);
		assert_escaped(r.body, attacks[i]);
		th_resp_release(&r);
		free(path);
		free(u);
	}
	assert_int_equal(th_get(c, "/login?next=javascript:alert(1)", &r), 200);
	assert_null(strstr(r.body, "javascript:"));
	th_resp_release(&r);
	th_client_free(c);

	/* names and every other field on the administrators' form */
	struct th_client *adm = th_client_new(th_shared);
	assert_true(th_login(adm, DG_DEMO_ADMIN, DG_DEMO_PASSWORD));
	for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
		char *u = th_enc(attacks[i]), *body = NULL;
		assert_true(asprintf(&body,
				     "role=citizen&username=%s&name=%s&password=Good-pass-1"
				     "&id_number=%s&phone=%s&uscc=%s&org=%s&staff_roles=%s&dept=%s",
				     u, u, u, u, u, u, u, u) > 0);
		assert_int_equal(th_post_csrf(adm, "/login", "/admin/users/new", body, &r), 422);
		assert_escaped(r.body, attacks[i]);
		th_resp_release(&r);
		free(body);
		/* a token name is shown in the list */
		assert_true(asprintf(&body, "name=%s", u) > 0);
		assert_int_equal(th_post_csrf(adm, "/login", "/account/tokens", body, &r), 201);
		assert_escaped(r.body, attacks[i]);
		th_resp_release(&r);
		free(body);
		free(u);
	}
	/* a stored name with markup is escaped on the list page too */
	assert_int_equal(
		th_post_csrf(adm, "/login", "/admin/users/new",
			     "role=admin&username=xss_name&name=%3Cscript%3Ealert(1)%3C%2Fscript%3E"
			     "&password=Good-pass-1",
			     &r),
		303);
	th_resp_release(&r);
	assert_int_equal(th_get(adm, "/admin/users", &r), 200);
	assert_escaped(r.body, "<script>alert(1)</script>");
	assert_non_null(strstr(r.body, "&lt;script&gt;"));
	th_resp_release(&r);
	th_client_free(adm);
}

static void sql_metacharacters_are_data(void **state)
{
	(void)state;
	static const char *const sql[] = {
		"' OR '1'='1",
		"\"; DROP TABLE users; --",
		"admin'--",
		"x'); DELETE FROM sessions; --",
	};
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r;
	int64_t users = count("SELECT COUNT(*) FROM users");
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		char *e = th_enc(sql[i]), *body = NULL;
		assert_true(asprintf(&body, "username=%s&password=%s", e, e) > 0);
		assert_int_equal(th_post_csrf(c, "/login", "/login", body, &r), 401);
		assert_null(strstr(r.headers, "dg_session="));
		th_resp_release(&r);
		free(body);
		free(e);
	}
	assert_int_equal(count("SELECT COUNT(*) FROM users"), users);
	struct th_client *adm = th_client_new(th_shared);
	assert_true(th_login(adm, DG_DEMO_ADMIN, DG_DEMO_PASSWORD));
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		char *e = th_enc(sql[i]), *path = NULL;
		assert_true(asprintf(&path, "/admin/users?role=%s&dept=%s", e, e) > 0);
		assert_int_equal(th_get(adm, path, &r), 200);
		th_resp_release(&r);
		free(path);
		free(e);
	}
	/* a name full of SQL is stored as written */
	assert_int_equal(
		th_post_csrf(adm, "/login", "/admin/users/new",
			     "role=admin&username=sql_name&name=%22%3B+DROP+TABLE+users%3B+--"
			     "&password=Good-pass-1",
			     &r),
		303);
	th_resp_release(&r);
	assert_int_equal(count("SELECT COUNT(*) FROM users"), users + 1);
	assert_int_equal(
		count("SELECT COUNT(*) FROM users WHERE name = '\"; DROP TABLE users; --'"), 1);
	assert_true(th_login(c, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD));
	th_client_free(adm);
	th_client_free(c);
}

static void oversized_fields_refused_clearly(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r;
	char big[1001];
	memset(big, 'a', 1000);
	big[1000] = 0;
	char *body = NULL;
	assert_true(asprintf(&body, "username=%s&password=x", big) > 0);
	assert_int_equal(th_post_csrf(c, "/login", "/login", body, &r), 413);
	assert_non_null(strstr(r.body, "256"));
	assert_null(strstr(r.body, big));
	th_resp_release(&r);
	free(body);
	int64_t users = count("SELECT COUNT(*) FROM users");
	struct th_client *adm = th_client_new(th_shared);
	assert_true(th_login(adm, DG_DEMO_ADMIN, DG_DEMO_PASSWORD));
	assert_true(asprintf(&body, "role=admin&username=big1&name=%s&password=Good-pass-1", big) >
		    0);
	assert_int_equal(th_post_csrf(adm, "/login", "/admin/users/new", body, &r), 413);
	assert_non_null(strstr(r.body, "href=\"#name\""));
	th_resp_release(&r);
	free(body);
	assert_int_equal(count("SELECT COUNT(*) FROM users"), users);
	/* a long-but-under-the-cap name breaks the 64-character rule instead */
	char name[200];
	memset(name, 'b', 100);
	name[100] = 0;
	assert_true(asprintf(&body, "role=admin&username=big2&name=%s&password=Good-pass-1", name) >
		    0);
	assert_int_equal(th_post_csrf(adm, "/login", "/admin/users/new", body, &r), 422);
	assert_non_null(strstr(r.body, "64"));
	th_resp_release(&r);
	free(body);
	assert_true(asprintf(&body, "name=%s", big) > 0);
	assert_int_equal(th_post_csrf(adm, "/login", "/account/tokens", body, &r), 422);
	th_resp_release(&r);
	free(body);
	assert_int_equal(count("SELECT COUNT(*) FROM users"), users);
	th_client_free(adm);
	th_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(csrf_refused_everywhere),
		cmocka_unit_test(script_injection_is_escaped),
		cmocka_unit_test(sql_metacharacters_are_data),
		cmocka_unit_test(oversized_fields_refused_clearly),
	};
	return cmocka_run_group_tests(tests, th_group_setup, th_group_teardown);
}
