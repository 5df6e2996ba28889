/*
 * test_signup.c - creating an account online and resetting a password by a
 * code sent to the phone, through the real server, on whichever store
 * DGOV_TEST_DB selects.
 *
 * The texts go where a gateway would take them: the webhook is configured
 * (at an address nothing answers; no job worker runs), and each text waits
 * in the jobs table as a "notify.text" job with the phone and the text
 * sealed by the node's key. The tests open them with that key, as the
 * delivery job does; nothing in the server hands a code out.
 *
 * Residents to sign up are added to the population registry through the
 * exchange's record API as the administrator. Covered: the happy path to a
 * signed-in account; a wrong name for an ID and an unknown ID answering as
 * a known one does; wrong codes and the cap on tries; an expired code; a
 * code used twice; the caps per phone and per address; reset; next kept and
 * unsafe next refused; no registry and no gateway refusing with nothing
 * changed; CSRF.
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
#include "core/arena.h"
#include "core/keys.h"
#include "node/demo.h"
#include "notify/notify.h"
#include "harness.h"
#include "store/store.h"

#define SECRET   "signup-test-webhook-secret-0001"
#define PASSWORD "Signup-2026!"

static struct th_srv *srv;

/* An ID number of the demo area with its GB 11643 check character. */
static void make_id(char out[19], const char *birth, const char *seq)
{
	static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
	snprintf(out, 19, "990100%.8s%.3s", birth, seq);
	int sum = 0;
	for (int i = 0; i < 17; i++)
		sum += (out[i] - '0') * w[i];
	out[17] = "10X98765432"[sum % 11];
	out[18] = '\0';
}

/* Add a person to the population registry as the administrator. */
static void add_person(const char *id, const char *name)
{
	static char *auth;
	if (!auth)
		auth = th_token_header(srv, DG_DEMO_ADMIN, DG_DEMO_PASSWORD);
	assert_non_null(auth);
	struct th_client *c = th_client_new(srv);
	char *body = NULL;
	assert_true(asprintf(&body,
			     "{\"id\":\"%s\",\"values\":{\"name\":\"%s\",\"alive\":true},"
			     "\"effective\":\"2026-01-01\"}",
			     id, name) > 0);
	const char *hdrs[] = {auth, NULL};
	struct th_resp r = {0};
	long st = th_request(c, "POST", "/api/exchange/registries/person/records",
			     "application/json", body, strlen(body), hdrs, &r);
	if (st != 200 && st != 201)
		fail_msg("adding %s to the registry: %ld %s", id, st, r.body ? r.body : "");
	th_resp_release(&r);
	free(body);
	th_client_free(c);
}

static void hook_on(void)
{
	struct dg_err err = {0};
	assert_int_equal(dg_notify_configure("http://127.0.0.1:9/texts", SECRET,
					     th_app(srv)->env.i18n, &err),
			 DG_OK);
}

static int64_t texts(void)
{
	return th_sql_int(srv, "SELECT COUNT(*) FROM jobs WHERE kind = 'notify.text'");
}

/* The newest text queued: its text (malloc'd), and its phone in *to (malloc'd) when asked. */
static char *last_text(char **to)
{
	struct dg_db *db = NULL;
	struct dg_arena *a = dg_arena_new();
	char *payload = NULL, *out = NULL, *phone = NULL, *text = NULL;
	assert_int_equal(dg_db_get(th_app(srv)->env.store, &db), DG_OK);
	assert_int_equal(dg_db_query_text(db,
					  "SELECT payload FROM jobs WHERE kind = 'notify.text'"
					  " ORDER BY id DESC LIMIT 1",
					  DG_NOARGS, a, &payload),
			 DG_OK);
	dg_db_put(db);
	json_t *j = json_loads(payload, 0, NULL);
	assert_non_null(j);
	const struct dg_keys *k = &th_app(srv)->env.keys;
	assert_int_equal(dg_pii_open(k, a, json_string_value(json_object_get(j, "to")), &phone),
			 DG_OK);
	assert_int_equal(dg_pii_open(k, a, json_string_value(json_object_get(j, "text")), &text),
			 DG_OK);
	/* nothing in the clear at rest */
	assert_null(strstr(payload, phone));
	out = strdup(text);
	if (to)
		*to = strdup(phone);
	json_decref(j);
	dg_arena_free(a);
	return out;
}

/* The 6-digit code in a text (static), or "" when it has none. */
static const char *code_in(const char *text)
{
	static char code[7];
	code[0] = '\0';
	for (const char *p = text; *p; p++) {
		size_t n = strspn(p, "0123456789");
		if (n == 6) {
			memcpy(code, p, 6);
			code[6] = '\0';
			return code;
		}
		if (n)
			p += n - 1;
	}
	return code;
}

/* The value of the hidden field name in body (malloc'd), or NULL. */
static char *hidden(const char *body, const char *name)
{
	char pat[64];
	snprintf(pat, sizeof pat, "name=\"%s\" value=\"", name);
	const char *at = body ? strstr(body, pat) : NULL;
	if (!at)
		return NULL;
	at += strlen(pat);
	return strndup(at, strcspn(at, "\""));
}

/* Step 1 of path ("/signup" or "/reset") with fields; the reply in *r. */
static long step1(struct th_client *c, const char *path, const char *fields, struct th_resp *r)
{
	return th_post_csrf(c, path, path, fields, r);
}

static char *signup_fields(const char *name, const char *id, const char *phone)
{
	char *n = th_enc(name), *out = NULL;
	assert_true(asprintf(&out, "name=%s&id_number=%s&phone=%s", n, id, phone) > 0);
	free(n);
	return out;
}

/*
 * Step 2 of path ("/signup/verify", "/reset/verify"): flow, code, username
 * (NULL for reset), the password twice, next (NULL for none).
 */
static long step2(struct th_client *c, const char *page, const char *path, const char *flow,
		  const char *code, const char *username, const char *next, struct th_resp *r)
{
	char *fields = NULL, *n = th_enc(next ? next : "");
	assert_true(
		asprintf(
			&fields,
			"flow=%s&code=%s&sent_to=139****0001%s%s&password=%s&password_again=%s%s%s",
			flow ? flow : "", code, username ? "&username=" : "",
			username ? username : "", PASSWORD, PASSWORD, next ? "&next=" : "",
			next ? n : "") > 0);
	long st = th_post_csrf(c, page, path, fields, r);
	free(fields);
	free(n);
	return st;
}

/* Start a sign-up for a registered person: the flow (malloc'd) and the code sent (static). */
static char *start_signup(struct th_client *c, const char *name, const char *id, const char *phone,
			  const char **code)
{
	struct th_resp r = {0};
	char *f = signup_fields(name, id, phone);
	assert_int_equal(step1(c, "/signup", f, &r), 200);
	char *flow = hidden(r.body, "flow");
	assert_non_null(flow);
	char *to = NULL, *text = last_text(&to);
	assert_string_equal(to, phone);
	*code = code_in(text);
	assert_int_equal(strlen(*code), 6);
	free(to);
	free(text);
	free(f);
	th_resp_release(&r);
	return flow;
}

static int64_t users_named(const char *username)
{
	char sql[160];
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM users WHERE username = '%s'", username);
	return th_sql_int(srv, sql);
}

/* ---- fixtures ---- */

static int setup(void **state)
{
	(void)state;
	struct th_opts o = {.demo = true, .job_workers = 0};
	srv = th_start_opts(&o);
	hook_on();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_stop(srv);
	return 0;
}

/* Each test starts with the send counts at zero: all come from one address. */
static int fresh(void **state)
{
	(void)state;
	th_sql(srv, "DELETE FROM auth_code_sends");
	return 0;
}

/* ---- tests ---- */

static void signup_happy_path(void **state)
{
	(void)state;
	char id[19];
	const char *code = NULL;
	make_id(id, "20000229", "111");
	add_person(id, "钱多多");
	struct th_client *c = th_client_new(srv);
	/* the first step says what it needs, up front */
	char *page = th_get_body(c, "/signup", 200);
	assert_non_null(strstr(page, "name=\"id_number\""));
	assert_non_null(strstr(page, "至少 8 位"));
	free(page);
	char *flow = start_signup(c, "钱多多", id, "13911110001", &code);
	char saved[7];
	memcpy(saved, code, 7);
	struct th_resp r = {0};
	assert_int_equal(step2(c, "/signup", "/signup/verify", flow, saved, "qianduoduo", NULL, &r),
			 303);
	char *loc = th_header(&r, "Location");
	assert_string_equal(loc, "/account?welcome=1");
	free(loc);
	th_resp_release(&r);
	/* signed in, as the person the registry knows */
	page = th_get_body(c, "/account", 200);
	assert_non_null(strstr(page, "钱多多"));
	assert_non_null(strstr(page, "qianduoduo"));
	free(page);
	/* and the password works on its own */
	struct th_client *again = th_client_new(srv);
	assert_true(th_login(again, "qianduoduo", PASSWORD));
	th_client_free(again);
	assert_int_equal(th_sql_int(srv,
				    "SELECT COUNT(*) FROM users u WHERE u.username ="
				    " 'qianduoduo' AND u.role = 'citizen' AND"
				    " u.id_number_index IS NOT NULL AND u.phone_index IS NOT NULL"),
			 1);
	/* the code at rest is a hash, not the code */
	assert_int_equal(th_sql_int(srv, "SELECT COUNT(*) FROM auth_codes WHERE used_ms > 0"), 1);

	/* a code works once */
	struct th_client *other = th_client_new(srv);
	assert_int_equal(
		step2(other, "/signup", "/signup/verify", flow, saved, "qianduoduo2", NULL, &r),
		422);
	assert_non_null(strstr(r.body, "已过期或已使用"));
	th_resp_release(&r);
	assert_int_equal(users_named("qianduoduo2"), 0);

	/* signing up again with the same ID: the same answer, and a text that says why no code */
	char *f = signup_fields("钱多多", id, "13911110001");
	assert_int_equal(step1(other, "/signup", f, &r), 200);
	assert_non_null(strstr(r.body, "139****0001"));
	th_resp_release(&r);
	char *text = last_text(NULL);
	assert_string_equal(code_in(text), "");
	assert_non_null(strstr(text, "找回密码"));
	free(text);
	free(f);
	th_client_free(other);
	free(flow);
	th_client_free(c);
}

/*
 * The page's main part with the flow token blanked (it differs every time;
 * its length does not). The header's language switch carries the answers
 * posted, which differ by design.
 */
static char *blank_flow(char *body)
{
	char *main_at = strstr(body, "<main"), *end = main_at ? strstr(main_at, "</main>") : NULL;
	assert_non_null(end);
	*end = '\0';
	body = main_at;
	char *at = strstr(body, "name=\"flow\" value=\"");
	assert_non_null(at);
	at += strlen("name=\"flow\" value=\"");
	for (; *at && *at != '"'; at++)
		*at = 'x';
	return body;
}

static void wrong_name_and_unknown_id_answer_alike(void **state)
{
	(void)state;
	char known[19], unknown[19];
	make_id(known, "19990909", "113");
	make_id(unknown, "20010303", "123");
	add_person(known, "孙小美");
	struct th_client *c = th_client_new(srv);
	struct th_resp right = {0}, wrong = {0}, none = {0};
	char *f1 = signup_fields("孙小美", known, "13911110002");
	char *f2 = signup_fields("孙大美", known, "13911110002");
	char *f3 = signup_fields("孙小美", unknown, "13911110002");
	int64_t before = texts();
	int64_t audited = th_sql_int(srv, "SELECT COUNT(*) FROM audit_log"
					  " WHERE kind = 'exchange.realname'");
	assert_int_equal(step1(c, "/signup", f1, &right), 200);
	char *t1 = last_text(NULL);
	assert_int_equal(step1(c, "/signup", f2, &wrong), 200);
	char *t2 = last_text(NULL);
	assert_int_equal(step1(c, "/signup", f3, &none), 200);
	char *t3 = last_text(NULL);
	/* the pages are the same, whoever the details are */
	char *flow = hidden(wrong.body, "flow");
	const char *main_right = blank_flow(right.body);
	assert_string_equal(main_right, blank_flow(wrong.body));
	assert_string_equal(main_right, blank_flow(none.body));
	/* each check of the registry is on the record, with its outcome */
	assert_int_equal(th_sql_int(srv, "SELECT COUNT(*) FROM audit_log"
					 " WHERE kind = 'exchange.realname'"),
			 audited + 3);
	assert_int_equal(th_sql_int(srv, "SELECT COUNT(*) FROM audit_log WHERE kind ="
					 " 'exchange.realname' AND detail LIKE '%no_match%'"),
			 1);
	/* each sent a text; only the match got a code */
	assert_int_equal(texts(), before + 3);
	assert_int_equal(strlen(code_in(t1)), 6);
	assert_string_equal(code_in(t2), "");
	assert_string_equal(code_in(t3), "");
	assert_non_null(strstr(t2, "不符"));
	/* a flow that matched nothing takes no code */
	struct th_resp r = {0};
	assert_int_equal(
		step2(c, "/signup", "/signup/verify", flow, code_in(t1), "sunxiaomei", NULL, &r),
		422);
	assert_int_equal(users_named("sunxiaomei"), 0);
	th_resp_release(&r);
	free(flow);
	free(t1);
	free(t2);
	free(t3);
	free(f1);
	free(f2);
	free(f3);
	th_resp_release(&right);
	th_resp_release(&wrong);
	th_resp_release(&none);
	th_client_free(c);
}

static void wrong_codes_and_too_many_tries(void **state)
{
	(void)state;
	char id[19];
	const char *code = NULL;
	make_id(id, "19990909", "113"); /* added by the test before */
	struct th_client *c = th_client_new(srv);
	char *flow = start_signup(c, "孙小美", id, "13911110002", &code);
	char right[7], bad[12];
	memcpy(right, code, 7);
	snprintf(bad, sizeof bad, "%06d", ((int)strtol(right, NULL, 10) + 1) % 1000000);
	struct th_resp r = {0};
	for (int i = 1; i < 5; i++) {
		assert_int_equal(
			step2(c, "/signup", "/signup/verify", flow, bad, "sunxiaomei", NULL, &r),
			422);
		assert_non_null(strstr(r.body, "验证码不正确"));
		char want[32];
		snprintf(want, sizeof want, "剩余次数： %d", 5 - i);
		assert_non_null(strstr(r.body, want));
		th_resp_release(&r);
	}
	/* the fifth wrong try spends the code */
	assert_int_equal(step2(c, "/signup", "/signup/verify", flow, bad, "sunxiaomei", NULL, &r),
			 429);
	assert_non_null(strstr(r.body, "尝试次数过多"));
	th_resp_release(&r);
	/* and then even the right one is refused */
	assert_int_equal(step2(c, "/signup", "/signup/verify", flow, right, "sunxiaomei", NULL, &r),
			 429);
	th_resp_release(&r);
	assert_int_equal(users_named("sunxiaomei"), 0);
	/* a form error costs no try: the code is still good after it */
	free(flow);
	flow = start_signup(c, "孙小美", id, "13911110002", &code);
	memcpy(right, code, 7);
	int64_t tries = th_sql_int(srv, "SELECT SUM(attempts) FROM auth_codes");
	assert_int_equal(step2(c, "/signup", "/signup/verify", flow, right, "X!", NULL, &r), 422);
	assert_non_null(strstr(r.body, "用户名"));
	th_resp_release(&r);
	assert_int_equal(th_sql_int(srv, "SELECT SUM(attempts) FROM auth_codes"), tries);
	free(flow);
	th_client_free(c);
}

/*
 * The language and elder-mode switches of the code page (POST /prefs, then
 * a 307 back with pref_back): they show the page again and neither send
 * another code nor spend a try.
 */
static void switches_send_and_spend_nothing(void **state)
{
	(void)state;
	char id[19];
	make_id(id, "19880808", "121");
	add_person(id, "郑一");
	struct th_client *c = th_client_new(srv);
	struct th_resp r = {0};
	char *f = signup_fields("郑一", id, "13911110009");
	assert_int_equal(step1(c, "/signup", f, &r), 200);
	/* the code page's switches post back to step 2, with the flow, not to step 1 */
	assert_non_null(strstr(r.body, "name=\"pref_back\" value=\"/signup/verify\""));
	char *flow = hidden(r.body, "flow");
	assert_non_null(flow);
	th_resp_release(&r);
	char *text = last_text(NULL);
	char right[7];
	memcpy(right, code_in(text), 7);
	free(text);
	int64_t sent = texts();
	int64_t tries = th_sql_int(srv, "SELECT SUM(attempts) FROM auth_codes");
	/* step 1 posted again through a switch: its form, nothing sent */
	char *again = NULL;
	assert_true(asprintf(&again, "%s&pref_back=/signup&pref_lang=en", f) > 0);
	assert_int_equal(step1(c, "/signup", again, &r), 200);
	assert_non_null(strstr(r.body, "name=\"id_number\""));
	th_resp_release(&r);
	assert_int_equal(texts(), sent);
	/* the fresh code page through a switch: the same page, no error, no try */
	char *fields = NULL;
	assert_true(asprintf(&fields,
			     "flow=%s&sent_to=139****0009&pref_back=/signup/verify&pref_lang=en",
			     flow) > 0);
	assert_int_equal(th_post_csrf(c, "/signup", "/signup/verify", fields, &r), 200);
	assert_non_null(strstr(r.body, "name=\"code\""));
	assert_null(strstr(r.body, "error-summary"));
	char *kept = hidden(r.body, "flow");
	assert_string_equal(kept, flow);
	free(kept);
	th_resp_release(&r);
	free(fields);
	/* a page with a wrong code through a switch: its form errors, the code not tried */
	char bad[12];
	snprintf(bad, sizeof bad, "%06d", ((int)strtol(right, NULL, 10) + 1) % 1000000);
	assert_true(asprintf(&fields,
			     "flow=%s&code=%s&username=zhengyi&sent_to=139****0009"
			     "&pref_back=/signup/verify&pref_elder=1",
			     flow, bad) > 0);
	assert_int_equal(th_post_csrf(c, "/signup", "/signup/verify", fields, &r), 422);
	assert_non_null(strstr(r.body, "error-summary"));
	th_resp_release(&r);
	free(fields);
	assert_int_equal(th_sql_int(srv, "SELECT SUM(attempts) FROM auth_codes"), tries);
	assert_int_equal(texts(), sent);
	/* and the code sent first still makes the account */
	assert_int_equal(step2(c, "/signup", "/signup/verify", flow, right, "zhengyi", NULL, &r),
			 303);
	th_resp_release(&r);
	assert_int_equal(users_named("zhengyi"), 1);
	free(again);
	free(flow);
	free(f);
	th_client_free(c);
}

static void expired_code(void **state)
{
	(void)state;
	char id[19];
	const char *code = NULL;
	make_id(id, "19990909", "113");
	struct th_client *c = th_client_new(srv);
	char *flow = start_signup(c, "孙小美", id, "13911110002", &code);
	char right[7];
	memcpy(right, code, 7);
	/* ten minutes later */
	th_sql(srv, "UPDATE auth_codes SET expires_ms = expires_ms - 600001");
	struct th_resp r = {0};
	assert_int_equal(step2(c, "/signup", "/signup/verify", flow, right, "sunxiaomei", NULL, &r),
			 422);
	assert_non_null(strstr(r.body, "已过期"));
	/* the way on is to start again */
	assert_non_null(strstr(r.body, "href=\"/signup\""));
	th_resp_release(&r);
	assert_int_equal(users_named("sunxiaomei"), 0);
	free(flow);
	th_client_free(c);
}

static void rate_limits(void **state)
{
	(void)state;
	char id[19];
	make_id(id, "20010303", "123"); /* in no registry: the caps count all the same */
	struct th_client *c = th_client_new(srv);
	struct th_resp r = {0};
	char *f = signup_fields("某某", id, "13911119999");
	int64_t before = texts();
	for (int i = 0; i < 5; i++) {
		assert_int_equal(step1(c, "/signup", f, &r), 200);
		th_resp_release(&r);
	}
	/* the sixth code for one phone in an hour */
	assert_int_equal(step1(c, "/signup", f, &r), 429);
	assert_non_null(strstr(r.body, "次数过多"));
	char *ra = th_header(&r, "Retry-After");
	assert_non_null(ra);
	free(ra);
	th_resp_release(&r);
	assert_int_equal(texts(), before + 5);
	free(f);
	/* one address: 20 an hour, whatever the phones (6 counted above) */
	for (int i = 0; i < 14; i++) {
		char phone[12];
		snprintf(phone, sizeof phone, "139222200%02d", i);
		f = signup_fields("某某", id, phone);
		assert_int_equal(step1(c, "/signup", f, &r), 200);
		th_resp_release(&r);
		free(f);
	}
	f = signup_fields("某某", id, "13922229999");
	assert_int_equal(step1(c, "/signup", f, &r), 429);
	th_resp_release(&r);
	free(f);
	/* reset counts the same way */
	f = signup_fields("", id, "13922229998");
	assert_int_equal(step1(c, "/reset", f, &r), 429);
	th_resp_release(&r);
	free(f);
	th_client_free(c);
}

static void password_reset(void **state)
{
	(void)state;
	char id[19];
	make_id(id, "19850312", "031"); /* zhangsan, 13800000001 */
	struct th_client *c = th_client_new(srv);
	struct th_resp r = {0}, other = {0};
	char *page = th_get_body(c, "/login", 200);
	assert_non_null(strstr(page, "href=\"/reset\""));
	assert_non_null(strstr(page, "href=\"/signup\""));
	free(page);
	/* a phone that is not the account's: the same answer, a text without a code */
	char *f = signup_fields("", id, "13800009999");
	assert_int_equal(step1(c, "/reset", f, &other), 200);
	char *text = last_text(NULL);
	assert_string_equal(code_in(text), "");
	free(text);
	free(f);
	f = signup_fields("", id, "13800000001");
	assert_int_equal(step1(c, "/reset", f, &r), 200);
	free(f);
	char *to = NULL;
	text = last_text(&to);
	assert_string_equal(to, "13800000001");
	char code[7];
	memcpy(code, code_in(text), 7);
	assert_int_equal(strlen(code), 6);
	/* the pages differ only in the masked phone and the flow */
	assert_int_equal(strlen(r.body), strlen(other.body));
	char *flow = hidden(r.body, "flow");
	th_resp_release(&r);
	th_resp_release(&other);
	/* a sign-up flow's token is not a reset's */
	assert_int_equal(step2(c, "/signup", "/signup/verify", flow, code, "zhangsan2", NULL, &r),
			 422);
	th_resp_release(&r);
	assert_int_equal(step2(c, "/reset", "/reset/verify", flow, code, NULL, NULL, &r), 303);
	char *loc = th_header(&r, "Location");
	assert_string_equal(loc, "/account?reset=1");
	free(loc);
	th_resp_release(&r);
	page = th_get_body(c, "/account?reset=1", 200);
	assert_non_null(strstr(page, "密码已更改"));
	free(page);
	struct th_client *c2 = th_client_new(srv);
	assert_false(th_login(c2, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD));
	th_client_free(c2);
	c2 = th_client_new(srv);
	assert_true(th_login(c2, DG_DEMO_CITIZEN, PASSWORD));
	th_client_free(c2);
	/* used once */
	assert_int_equal(step2(c, "/reset", "/reset/verify", flow, code, NULL, NULL, &r), 422);
	th_resp_release(&r);
	free(flow);
	free(to);
	free(text);
	th_client_free(c);
}

static void next_is_kept_and_checked(void **state)
{
	(void)state;
	static const char *const evil[] = {"//evil.example", "https://evil.example",
					   "/\\evil.example", "javascript:alert(1)"};
	char id[19];
	const char *code = NULL;
	make_id(id, "19800101", "115");
	add_person(id, "吴新");
	struct th_client *c = th_client_new(srv);
	/* the login page passes next on to sign-up; sign-up keeps it */
	char *page = th_get_body(c, "/login?next=%2Fservices", 200);
	assert_non_null(strstr(page, "href=\"/signup?next=%2Fservices\""));
	free(page);
	page = th_get_body(c, "/signup?next=%2Fservices", 200);
	assert_non_null(strstr(page, "name=\"next\" value=\"/services\""));
	free(page);
	for (size_t i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		char *q = th_enc(evil[i]), *path = NULL;
		assert_true(asprintf(&path, "/signup?next=%s", q) > 0);
		page = th_get_body(c, path, 200);
		if (strstr(page, "name=\"next\""))
			fail_msg("next=%s was kept", evil[i]);
		free(page);
		free(path);
		free(q);
	}
	/* an unsafe next on the last step goes to the account instead */
	char *flow = start_signup(c, "吴新", id, "13911110003", &code);
	char right[7];
	memcpy(right, code, 7);
	struct th_resp r = {0};
	assert_int_equal(step2(c, "/signup", "/signup/verify", flow, right, "wuxin", evil[0], &r),
			 303);
	char *loc = th_header(&r, "Location");
	assert_string_equal(loc, "/account?welcome=1");
	free(loc);
	th_resp_release(&r);
	free(flow);
	th_client_free(c);

	/* a safe one is where the person goes back to */
	make_id(id, "19800101", "137");
	add_person(id, "吴新二");
	c = th_client_new(srv);
	flow = start_signup(c, "吴新二", id, "13911110004", &code);
	memcpy(right, code, 7);
	assert_int_equal(
		step2(c, "/signup", "/signup/verify", flow, right, "wuxin2", "/services", &r), 303);
	loc = th_header(&r, "Location");
	assert_string_equal(loc, "/services");
	free(loc);
	th_resp_release(&r);
	free(flow);
	th_client_free(c);
}

static void no_registry_or_no_gateway(void **state)
{
	(void)state;
	char id[19];
	make_id(id, "20000229", "111");
	struct dg_env *env = &th_app(srv)->env;
	dg_rc (*check)(struct dg_env *, struct dg_db *, const char *, const char *) =
		env->person_check;
	struct th_client *c = th_client_new(srv);
	struct th_resp r = {0};
	char *f = signup_fields("钱多多", id, "13911110005");
	int64_t codes = th_sql_int(srv, "SELECT COUNT(*) FROM auth_codes");
	int64_t before = texts();

	/* no registry to check against: said so, and refused */
	env->person_check = NULL;
	char *page = th_get_body(c, "/signup", 200);
	assert_non_null(strstr(page, "暂不能在网上注册"));
	assert_null(strstr(page, "name=\"id_number\""));
	free(page);
	assert_int_equal(th_post_csrf(c, "/login", "/signup", f, &r), 503);
	assert_non_null(strstr(r.body, "暂不能在网上注册"));
	th_resp_release(&r);
	env->person_check = check;

	/* no gateway for texts: said so, and nothing kept */
	struct dg_err err = {0};
	assert_int_equal(dg_notify_configure(NULL, NULL, env->i18n, &err), DG_OK);
	assert_int_equal(step1(c, "/signup", f, &r), 503);
	assert_non_null(strstr(r.body, "暂时无法发送短信"));
	th_resp_release(&r);
	hook_on();
	assert_int_equal(th_sql_int(srv, "SELECT COUNT(*) FROM auth_codes"), codes);
	assert_int_equal(texts(), before);

	/* and a form without its CSRF token changes nothing */
	assert_int_equal(th_post_form(c, "/signup", f, NULL), 403);
	assert_int_equal(texts(), before);
	free(f);
	th_client_free(c);
}

static void bad_input_in_english(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(srv);
	struct th_resp r = {0};
	const char *en[] = {"Accept-Language: en", NULL};
	char *csrf = th_csrf(c, "/signup");
	char *body = NULL, *t = th_enc(csrf);
	assert_true(asprintf(&body, "csrf=%s&name=&id_number=123&phone=12", t) > 0);
	int64_t before = texts();
	assert_int_equal(th_request(c, "POST", "/signup", "application/x-www-form-urlencoded", body,
				    strlen(body), en, &r),
			 422);
	assert_non_null(strstr(r.body, "Enter your full name"));
	assert_non_null(strstr(r.body, "valid 18-character"));
	assert_non_null(strstr(r.body, "11-digit"));
	assert_non_null(strstr(r.body, "<title>Error:"));
	assert_int_equal(texts(), before);
	th_resp_release(&r);
	free(body);
	free(t);
	free(csrf);
	th_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(signup_happy_path, fresh),
		cmocka_unit_test_setup(wrong_name_and_unknown_id_answer_alike, fresh),
		cmocka_unit_test_setup(wrong_codes_and_too_many_tries, fresh),
		cmocka_unit_test_setup(switches_send_and_spend_nothing, fresh),
		cmocka_unit_test_setup(expired_code, fresh),
		cmocka_unit_test_setup(rate_limits, fresh),
		cmocka_unit_test_setup(password_reset, fresh),
		cmocka_unit_test_setup(next_is_kept_and_checked, fresh),
		cmocka_unit_test_setup(no_registry_or_no_gateway, fresh),
		cmocka_unit_test_setup(bad_input_in_english, fresh),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
