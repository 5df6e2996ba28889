/*
 * signup.c - creating an account online and resetting a password, each in
 * two steps, as the provincial portals do it:
 *
 *   GET/POST /signup         name, ID number and mobile phone; the name and
 *                            ID are checked against the population registry
 *                            (env->person_check, kept by the exchange)
 *   POST /signup/verify      the code sent to the phone, a username and a
 *                            password: the account is made and signed in
 *   GET/POST /reset          ID number and the account's mobile phone
 *   POST /reset/verify       the code and a new password: signed in
 *
 * The first step always answers the same way when the details are well
 * formed ("we sent a text to 138****5678"), whether the person is in the
 * registry, already has an account, or has none: only the text sent to the
 * phone differs (a code, or why there is none). So the pages tell no one
 * which ID numbers or phones have accounts. The codes' rules (hashes, a
 * short life, single use, a few tries, caps per phone and address) are in
 * codes.c. Every form carries the CSRF token (checked by the dispatcher)
 * and a safe, same-site `next` to return to once signed in.
 */
#include "auth/auth_int.h"

#include <string.h>

#include "auth/auth.h"
#include "core/keys.h"
#include "core/log.h"
#include "core/str.h"
#include "node/env.h"
#include "web/page.h"

/* next as given when it is a local path, else "" (never another site's address). */
static const char *safe_next(const char *next)
{
	return next && next[0] && dg_is_local_path(next) ? next : "";
}

/* next for the hidden field, and next_q ("?next=...", or "") for links to the other steps. */
static void set_next(struct dg_req *r, json_t *data, const char *next)
{
	json_object_set_new(data, "next", json_string(safe_next(next)));
	json_object_set_new(data, "next_q", json_string(auth_next_q(r, next)));
}

/* The text message for a code, or (code NULL) the one saying why none came, by key. */
static const char *text_for(struct dg_req *r, const char *key, const char *code)
{
	bool en = strcmp(r->lang, "en") == 0;
	const char *region = en ? r->env->region.name_en : r->env->region.name_zh;
	if (code)
		return dg_arena_printf(r->arena, "[%s] %s%s%s", region, dg_t(r, key), code,
				       dg_t(r, "auth.text.code_after"));
	return dg_arena_printf(r->arena, "[%s] %s", region, dg_t(r, key));
}

/* The first step's page again, with data's errors and answers, or closed. */
static dg_rc first_page(struct dg_req *r, bool reset, unsigned status, json_t *data)
{
	json_object_set_new(data, "hotline", json_string(r->env->region.hotline));
	return auth_page(r, status, reset ? "auth/reset.html" : "auth/signup.html", data,
			 reset ? "auth.reset.heading" : "auth.signup.heading");
}

static dg_rc code_page(struct dg_req *r, bool reset, unsigned status, json_t *data)
{
	json_object_set_new(data, "reset", json_boolean(reset));
	json_object_set_new(data, "hotline", json_string(r->env->region.hotline));
	return auth_page(r, status, "auth/code.html", data,
			 reset ? "auth.reset.code_heading" : "auth.signup.code_heading");
}

static dg_rc signup_get(struct dg_req *r)
{
	json_t *data = json_object();
	set_next(r, data, dg_kvs_get(&r->query, "next"));
	json_object_set_new(data, "closed", json_boolean(!r->env->person_check));
	return first_page(r, false, 200, data);
}

static dg_rc reset_get(struct dg_req *r)
{
	json_t *data = json_object();
	set_next(r, data, dg_kvs_get(&r->query, "next"));
	return first_page(r, true, 200, data);
}

/* Check the first step's fields into data's errors; DG_OK when all are well formed. */
static dg_rc first_check(struct dg_req *r, json_t *data, bool reset, const char *id)
{
	const char *big = auth_oversized(r);
	if (big) {
		auth_form_error(r, data, big, "auth.err.too_long");
		return DG_ETOOBIG;
	}
	const char *name = auth_field(r, "name"), *phone = auth_field(r, "phone");
	bool ok = true;
	if (!reset && (!name[0] || !dg_utf8_valid(name, strlen(name)) ||
		       dg_utf8_len(name, strlen(name)) > 64)) {
		auth_form_error(r, data, "name", "auth.signup.err.name");
		ok = false;
	}
	if (!id[0] || !dg_id_number_valid(id)) {
		auth_form_error(r, data, "id_number",
				id[0] ? "auth.err.id_invalid" : "auth.err.id_missing");
		ok = false;
	}
	if (!dg_phone_valid(phone)) {
		auth_form_error(r, data, "phone",
				phone[0] ? "auth.err.phone_invalid"
					 : "auth.signup.err.phone_missing");
		ok = false;
	}
	return ok ? DG_OK : DG_EINVAL;
}

/*
 * For sign-up: whom the details are (subject, or NULL) and the message key
 * of the text to send. A person in the registry without an account gets a
 * code; one with an account is sent to reset; anyone else is told the
 * details did not match.
 */
static dg_rc signup_subject(struct dg_req *r, struct dg_db *db, const char *name, const char *id,
			    const char *phone, json_t **subject, const char **text_key)
{
	int64_t uid = 0;
	*subject = NULL;
	*text_key = "auth.text.no_match";
	dg_rc rc = r->env->person_check(r->env, db, name, id);
	if (rc == DG_ENOTFOUND)
		return DG_OK;
	if (rc == DG_EUNAVAIL)
		*text_key = NULL; /* no registry to check against: sign-up is closed */
	if (rc)
		return rc;
	rc = dg_db_query_int(db, dg_sql_user_by_id_index,
			     DG_ARGS(DG_VT(dg_pii_index(&r->env->keys, r->arena, "id", id))), &uid);
	if (rc == DG_OK) {
		*text_key = "auth.text.has_account";
		return DG_OK;
	}
	if (rc != DG_ENOTFOUND)
		return rc;
	*subject = json_pack("{s:s, s:s, s:s}", "name", name, "id", id, "phone", phone);
	*text_key = "auth.text.code";
	return DG_OK;
}

/* For reset: the account with this ID number and phone (subject {user}), or NULL. */
static dg_rc reset_subject(struct dg_req *r, struct dg_db *db, const char *id, const char *phone,
			   json_t **subject, const char **text_key)
{
	struct dg_rows *rows = NULL;
	const char *pidx = dg_pii_index(&r->env->keys, r->arena, "phone", phone);
	*subject = NULL;
	*text_key = "auth.text.no_account";
	dg_rc rc =
		dg_db_query(db, dg_sql_user_by_id_index,
			    DG_ARGS(DG_VT(dg_pii_index(&r->env->keys, r->arena, "id", id))), &rows);
	if (rc)
		return rc;
	while ((rc = dg_rows_next(rows)) == DG_OK)
		if (strcmp(dg_rows_text(rows, 1), pidx) == 0) {
			*subject = json_pack("{s:I}", "user", (json_int_t)dg_rows_int(rows, 0));
			*text_key = "auth.text.code";
			break;
		}
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

/* The first step: check, count, look up, start the flow and send the text, in one transaction. */
static dg_rc first_post(struct dg_req *r, bool reset)
{
	json_t *data = json_object(), *subject = NULL;
	const char *name = auth_field(r, "name"), *phone = auth_field(r, "phone");
	/* the check character as printed on the card, whichever case was typed */
	char *id = dg_arena_strdup(r->arena, auth_field(r, "id_number"));
	size_t idn = strlen(id);
	if (idn == 18 && id[17] == 'x')
		id[17] = 'X';
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	char *flow = NULL, *code = NULL;
	const char *text_key = NULL;
	set_next(r, data, auth_field(r, "next"));
	auth_keep(data, "name", name);
	auth_keep(data, "id_number", id);
	auth_keep(data, "phone", phone);
	if (!reset && !r->env->person_check) {
		json_object_set_new(data, "closed", json_true());
		return first_page(r, reset, 503, data);
	}
	dg_rc rc = first_check(r, data, reset, id);
	if (rc)
		return first_page(r, reset, dg_rc_form_status(rc), data);
	if (dg_page_switched(r)) /* the language or mode changed: the form again, nothing sent */
		return first_page(r, reset, 200, data);
	rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_db_begin(db);
	if (rc) {
		json_decref(data);
		return rc;
	}
	rc = dg_code_throttle(r->env, db, phone, auth_client_addr(r));
	if (rc == DG_ELOCKED) {
		/* the count stays: it is what holds the next request back */
		rc = dg_db_commit(db);
		auth_form_error(r, data, "phone", "auth.code.err.throttled");
		if (!rc) {
			dg_reply_header(r, "Retry-After", "3600");
			return first_page(r, reset, 429, data);
		}
		goto fail;
	}
	if (!rc)
		rc = reset ? reset_subject(r, db, id, phone, &subject, &text_key)
			   : signup_subject(r, db, name, id, phone, &subject, &text_key);
	if (!rc)
		rc = dg_code_start(r->env, db, r->arena, reset ? "reset" : "signup", subject, &flow,
				   &code);
	bool matched = subject != NULL;
	json_decref(subject);
	if (!rc && !r->env->send_text)
		rc = DG_EUNAVAIL;
	if (!rc)
		rc = r->env->send_text(r->env, db, phone,
				       text_for(r, text_key, matched ? code : NULL), &err);
	if (!rc)
		rc = dg_db_commit(db);
	if (rc == DG_EUNAVAIL) {
		dg_db_rollback(db);
		dg_warn("req=%s no code sent: %s", r->id, err.msg[0] ? err.msg : "no gateway");
		json_object_set_new(data, text_key ? "no_texts" : "closed", json_true());
		return first_page(r, reset, 503, data);
	}
	if (rc)
		goto fail;
	json_object_del(data, "values");
	const char *sent_to = dg_mask_phone(r->arena, phone);
	json_object_set_new(data, "flow", json_string(flow));
	json_object_set_new(data, "sent_to", json_string(sent_to));
	/* the switches show this page again, not step 1 again (which would send another code) */
	const char *const keep[] = {
		"flow", flow, "sent_to", sent_to, "next", safe_next(auth_field(r, "next")), NULL};
	dg_page_switch_to(data, reset ? "/reset/verify" : "/signup/verify", keep);
	return code_page(r, reset, 200, data);
fail:
	dg_db_rollback(db);
	json_decref(data);
	return rc;
}

static dg_rc signup_post(struct dg_req *r)
{
	return first_post(r, false);
}

static dg_rc reset_post(struct dg_req *r)
{
	return first_post(r, true);
}

/* The new account's fields, checked before the code is tried, so a typo costs no try. */
static dg_rc second_check(struct dg_req *r, json_t *data, bool reset)
{
	const char *why = NULL, *pw = auth_field(r, "password");
	if (auth_oversized(r)) {
		auth_form_error(r, data, "code", "auth.err.too_long");
		return DG_ETOOBIG;
	}
	bool ok = true;
	if (!auth_field(r, "code")[0]) {
		auth_form_error(r, data, "code", "auth.code.err.missing");
		ok = false;
	}
	if (!reset && !dg_username_ok(auth_field(r, "username"))) {
		auth_form_error(r, data, "username", "auth.err.username");
		ok = false;
	}
	if (dg_pw_check(pw, &why)) {
		auth_form_error(r, data, "password", why);
		ok = false;
	} else if (strcmp(pw, auth_field(r, "password_again")) != 0) {
		auth_form_error(r, data, "password_again", "auth.err.password_mismatch");
		ok = false;
	}
	return ok ? DG_OK : DG_EINVAL;
}

/* Make the account the code allowed (in the caller's transaction); *uid gets its id. */
static dg_rc make_account(struct dg_req *r, struct dg_db *db, json_t *subject, int64_t *uid,
			  struct dg_err *err)
{
	struct dg_user_new u = {
		.role = DG_ROLE_CITIZEN,
		.username = auth_field(r, "username"),
		.password = auth_field(r, "password"),
		.name = json_string_value(json_object_get(subject, "name")),
		.id_number = json_string_value(json_object_get(subject, "id")),
		.phone = json_string_value(json_object_get(subject, "phone")),
	};
	return dg_user_create(r->env, db, &u, uid, err);
}

static dg_rc second_post(struct dg_req *r, bool reset)
{
	json_t *data = json_object(), *subject = NULL;
	const char *flow = auth_field(r, "flow");
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	int64_t uid = 0;
	int left = 0;
	set_next(r, data, auth_field(r, "next"));
	json_object_set_new(data, "flow", json_string(dg_code_flow_ok(flow) ? flow : ""));
	auth_keep(data, "username", auth_field(r, "username"));
	const char *sent_to = auth_field(r, "sent_to");
	json_object_set_new(data, "sent_to", json_string(strlen(sent_to) <= 16 ? sent_to : ""));
	/*
	 * Back through the language or mode switch: the page again, with the
	 * form's own errors when a code had been typed, and no try spent.
	 */
	if (dg_page_switched(r)) {
		dg_rc rc = auth_field(r, "code")[0] ? second_check(r, data, reset) : DG_OK;
		return code_page(r, reset, rc ? dg_rc_form_status(rc) : 200, data);
	}
	dg_rc rc = second_check(r, data, reset);
	if (rc)
		return code_page(r, reset, dg_rc_form_status(rc), data);
	rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_db_begin(db);
	if (rc) {
		json_decref(data);
		return rc;
	}
	rc = dg_code_check(r->env, db, reset ? "reset" : "signup", flow, auth_field(r, "code"),
			   &subject, &left, &err);
	if (rc == DG_EAUTH || rc == DG_ELOCKED || rc == DG_ENOTFOUND) {
		/* the try is counted even though nothing else is done */
		if (dg_db_commit(db))
			dg_db_rollback(db);
		if (rc == DG_EAUTH)
			json_object_set_new(data, "left", json_integer(left));
		json_object_set_new(data, "start_again", json_boolean(rc != DG_EAUTH));
		auth_form_error(r, data, "code", err.msg);
		return code_page(r, reset, dg_rc_form_status(rc == DG_ELOCKED ? rc : DG_EINVAL),
				 data);
	}
	if (!rc)
		rc = dg_code_use(db, flow);
	if (!rc && reset) {
		uid = (int64_t)json_integer_value(json_object_get(subject, "user"));
		rc = dg_auth_set_password(r->env, db, uid, auth_field(r, "password"), NULL, &err);
		if (!rc)
			rc = dg_auth_unlock(db, uid);
	} else if (!rc) {
		rc = make_account(r, db, subject, &uid, &err);
	}
	json_decref(subject);
	if (!rc)
		rc = dg_db_commit(db);
	if (rc == DG_EINVAL || rc == DG_ECONFLICT) {
		/* a username taken, say: the code is not spent and may be tried again */
		dg_db_rollback(db);
		auth_form_error(r, data, err.field[0] ? err.field : "code",
				err.msg[0] ? err.msg : "auth.code.err.expired");
		return code_page(r, reset, dg_rc_form_status(rc), data);
	}
	if (rc) {
		dg_db_rollback(db);
		json_decref(data);
		return rc;
	}
	dg_info("req=%s %s account %lld by a code sent to its phone", r->id,
		reset ? "reset the password of" : "made", (long long)uid);
	const char *next = safe_next(auth_field(r, "next"));
	json_decref(data);
	rc = dg_session_start(r, uid);
	if (rc)
		return rc;
	dg_reply_redirect(r, next[0] ? next : reset ? "/account?reset=1" : "/account?welcome=1");
	return DG_OK;
}

static dg_rc signup_verify(struct dg_req *r)
{
	return second_post(r, false);
}

static dg_rc reset_verify(struct dg_req *r)
{
	return second_post(r, true);
}

/* The access policy of sign-up and reset: anyone, signed in or not (CSRF on every POST). */
static const struct dg_route routes[] = {
	{"GET", "/signup", signup_get, DG_ROLE_ANY, 0},
	{"POST", "/signup", signup_post, DG_ROLE_ANY, 0},
	{"POST", "/signup/verify", signup_verify, DG_ROLE_ANY, 0},
	{"GET", "/reset", reset_get, DG_ROLE_ANY, 0},
	{"POST", "/reset", reset_post, DG_ROLE_ANY, 0},
	{"POST", "/reset/verify", reset_verify, DG_ROLE_ANY, 0},
};

const struct dg_route *dg_auth_signup_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
