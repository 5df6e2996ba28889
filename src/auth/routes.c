/*
 * routes.c - the auth pages: sign-in and sign-out, the account page (with
 * the owner's own ID number revealed after re-entering the password),
 * changing the password, API tokens, and the administrators' user pages;
 * and GET /api/v1/me.
 *
 * Handlers are short: read and cap the fields, call accounts.c / session.c /
 * tokens.c, render a template. Forms that fail are re-rendered with the
 * error summary and the answers kept (never the passwords). Every message
 * comes from templates/i18n/auth.*.json. The route table at the end is the
 * access policy of these pages.
 */
#include "auth/auth.h"

#include <sodium.h>
#include <string.h>

#include "node/env.h"
#include "auth/auth_int.h"
#include "core/keys.h"
#include "core/buf.h"
#include "core/date.h"
#include "core/log.h"
#include "core/proxy.h"
#include "core/str.h"
#include "web/page.h"

const char *auth_field(struct dg_req *r, const char *name)
{
	const char *v = dg_kvs_get(&r->form, name);
	return v ? v : "";
}

/* The first submitted field over DG_AUTH_FIELD_MAX bytes, or NULL. */
const char *auth_oversized(struct dg_req *r)
{
	for (size_t i = 0; i < r->form.n; i++)
		if (r->form.v[i].len > DG_AUTH_FIELD_MAX)
			return r->form.v[i].key;
	return NULL;
}

void auth_form_error(struct dg_req *r, json_t *data, const char *field_name, const char *key)
{
	dg_form_error(data, field_name, dg_t(r, key));
}

/* Keep an answer for the re-rendered form; one over the cap is not echoed back. */
void auth_keep(json_t *data, const char *name, const char *value)
{
	if (strlen(value) > DG_AUTH_FIELD_MAX)
		value = "";
	json_t *values = json_object_get(data, "values");
	if (!values) {
		values = json_object();
		json_object_set_new(data, "values", values);
	}
	json_object_set_new(values, name, json_string(value));
}

static json_t *str_or_empty(const char *s)
{
	return json_string(s ? s : "");
}

/* The client's address: the peer, or what trusted proxies say (proxy.h). */
const char *auth_client_addr(struct dg_req *r)
{
	char *out = dg_arena_alloc(r->arena, DG_ADDR_TEXT);
	return dg_proxies_client(&r->env->cfg->trusted_proxies, r->remote_addr,
				 dg_req_header(r, "X-Forwarded-For"), out);
}

static dg_rc param_id(struct dg_req *r, int64_t *id)
{
	if (dg_str_to_i64(dg_str_of(dg_kvs_get(&r->params, "id")), id) || *id <= 0)
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "auth.err.not_found"));
	return DG_OK;
}

/* Render with the page's title, prefixed "Error: " when the form has errors (WCAG 3.3.1). */
dg_rc auth_page(struct dg_req *r, unsigned status, const char *tmpl, json_t *data,
		const char *title_key)
{
	const char *title = dg_t(r, title_key);
	if (json_object_get(data, "errors"))
		title = dg_arena_printf(r->arena, "%s %s", dg_t(r, "auth.error_prefix"), title);
	json_object_set_new(data, "title", json_string(title));
	return dg_page(r, status, tmpl, data);
}

const char *auth_next_q(struct dg_req *r, const char *next)
{
	struct dg_buf b;
	if (!next || !next[0] || !dg_is_local_path(next))
		return "";
	dg_buf_init(&b, DG_AUTH_FIELD_MAX * 4);
	if (dg_buf_adds(&b, "?next=") || dg_buf_add_url(&b, next, strlen(next)))
		dg_buf_reset(&b);
	const char *out = dg_arena_strdup(r->arena, dg_buf_str(&b));
	dg_buf_release(&b);
	return out;
}

/* ---- sign-in and sign-out ---- */

static dg_rc login_page(struct dg_req *r, unsigned status, json_t *data, const char *next)
{
	next = next && dg_is_local_path(next) ? next : "";
	json_object_set_new(data, "next", json_string(next));
	/* the links to sign-up and reset carry next on */
	json_object_set_new(data, "next_q", json_string(auth_next_q(r, next)));
	return auth_page(r, status, "auth/login.html", data, "auth.login.heading");
}

static dg_rc login_get(struct dg_req *r)
{
	const char *next = dg_kvs_get(&r->query, "next");
	return login_page(r, 200, json_object(), next);
}

static dg_rc login_check(struct dg_req *r, json_t *data, const char *user, const char *pw)
{
	if (auth_oversized(r)) {
		auth_form_error(r, data, "username", "auth.err.too_long");
		return DG_ETOOBIG;
	}
	if (!user[0])
		auth_form_error(r, data, "username", "auth.err.username_missing");
	if (!pw[0])
		auth_form_error(r, data, "password", "auth.err.password_missing");
	return user[0] && pw[0] ? DG_OK : DG_EINVAL;
}

static dg_rc login_post(struct dg_req *r)
{
	json_t *data = json_object();
	const char *next = auth_field(r, "next");
	char *user = dg_arena_strdup(r->arena, auth_field(r, "username"));
	const char *pw = auth_field(r, "password");
	struct dg_db *db = NULL;
	int64_t id = 0;
	for (char *p = user; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	auth_keep(data, "username", user);
	dg_rc rc = login_check(r, data, user, pw);
	if (rc)
		return login_page(r, dg_rc_form_status(rc == DG_ETOOBIG ? rc : DG_EINVAL), data,
				  next);
	struct dg_err err = {0};
	rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_auth_login(r->env, db, auth_client_addr(r), user, pw, &id, &err);
	if (rc == DG_ELOCKED || rc == DG_EAUTH) {
		auth_form_error(r, data, "username", err.msg);
		if (rc == DG_ELOCKED)
			dg_reply_header(r, "Retry-After", "900");
		return login_page(r, dg_rc_http_status(rc), data, next);
	}
	if (!rc)
		rc = dg_session_start(r, id);
	json_decref(data);
	if (rc)
		return rc;
	dg_reply_redirect(r, next[0] && dg_is_local_path(next) ? next : "/account");
	return DG_OK;
}

/* Sign out, then to next (a local path: signing in with another account) or home. */
static dg_rc logout_post(struct dg_req *r)
{
	const char *next = auth_field(r, "next");
	dg_rc rc = dg_session_end(r);
	if (rc)
		return rc;
	dg_reply_redirect(r, next[0] && dg_is_local_path(next) ? next : "/");
	return DG_OK;
}

/* ---- the account page ---- */

dg_rc dg_auth_dept_code(struct dg_req *r, struct dg_db *db, const char **code)
{
	*code = "";
	if (!r->user || !r->user->dept_id)
		return DG_OK;
	char *c = NULL;
	dg_rc rc = dg_db_query_text(db, "SELECT code FROM departments WHERE id = ?",
				    DG_ARGS(DG_VI(r->user->dept_id)), r->arena, &c);
	if (rc == DG_ENOTFOUND)
		return DG_OK;
	if (!rc)
		*code = c;
	return rc;
}

dg_rc dg_auth_me_json(struct dg_req *r, bool full, json_t **out)
{
	struct dg_db *db = NULL;
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_db_query(db, dg_sql_user_sealed, DG_ARGS(DG_VI(r->user->id)), &rows);
	if (rc)
		return rc;
	dg_rows_defer(rows, r->arena);
	rc = dg_rows_next(rows);
	if (rc)
		return rc == DG_ENOTFOUND ? DG_EAUTH : rc;
	const struct dg_keys *k = &r->env->keys;
	char *id = NULL, *phone = NULL;
	if (dg_rows_text(rows, 0)[0] && dg_pii_open(k, r->arena, dg_rows_text(rows, 0), &id))
		dg_warn("req=%s a sealed ID number did not open", r->id);
	if (dg_rows_text(rows, 1)[0] && dg_pii_open(k, r->arena, dg_rows_text(rows, 1), &phone))
		dg_warn("req=%s a sealed phone did not open", r->id);
	const struct dg_user *u = r->user;
	*out = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "id",
			 (json_int_t)u->id, "username", u->username, "name", u->name, "role",
			 dg_role_name(u->role), "dept", str_or_empty(u->dept_name), "staff_roles",
			 str_or_empty(u->staff_roles), "uscc", str_or_empty(u->uscc), "org_name",
			 str_or_empty(u->org_name), "id_number",
			 str_or_empty(id ? (full ? id : dg_mask_id(r->arena, id)) : ""), "phone",
			 str_or_empty(phone ? (full ? phone : dg_mask_phone(r->arena, phone)) : ""),
			 "revealed", full);
	return *out ? DG_OK : DG_EINTERNAL;
}

/*
 * A member of staff's roles in words ("受理、审查、审批" for
 * "intake,review,approve"); a role with no name in the messages is shown as
 * it is stored.
 */
static const char *staff_roles_label(struct dg_req *r, const char *roles)
{
	struct dg_buf b;
	dg_buf_init(&b, 1024);
	dg_rc rc = DG_OK;
	bool en = strcmp(r->lang, "en") == 0;
	for (const char *s = roles ? roles : ""; !rc && *s;) {
		size_t n = strcspn(s, ",");
		if (n) {
			const char *word = dg_arena_strndup(r->arena, s, n);
			const char *key = dg_arena_printf(r->arena, "auth.staff_role.%s", word);
			const char *name = dg_t(r, key);
			if (b.len)
				rc = dg_buf_adds(&b, en ? ", " : "、");
			if (!rc)
				rc = dg_buf_adds(&b, strcmp(name, key) ? name : word);
		}
		s += n + (s[n] == ',');
	}
	const char *out = dg_arena_strdup(r->arena, rc ? (roles ? roles : "") : dg_buf_str(&b));
	dg_buf_release(&b);
	return out;
}

static dg_rc account_page(struct dg_req *r, unsigned status, bool full, json_t *data)
{
	json_t *me = NULL;
	dg_rc rc = dg_auth_me_json(r, full, &me);
	if (rc) {
		json_decref(data);
		return rc;
	}
	json_object_set_new(me, "staff_roles",
			    json_string(staff_roles_label(r, r->user->staff_roles)));
	dg_page_attention(r, data);
	json_object_set_new(data, "me", me);
	json_object_set_new(data, "role_label",
			    json_string(dg_t(r, dg_arena_printf(r->arena, "auth.role.%s",
								dg_role_name(r->user->role)))));
	return auth_page(r, status, "auth/account.html", data, "auth.account.heading");
}

static dg_rc account_get(struct dg_req *r)
{
	json_t *data = json_object();
	/* where sign-up and reset land: say what just happened */
	json_object_set_new(data, "welcome", json_boolean(dg_kvs_get(&r->query, "welcome")));
	json_object_set_new(data, "reset_done", json_boolean(dg_kvs_get(&r->query, "reset")));
	return account_page(r, 200, false, data);
}

/*
 * Re-check the signed-in user's password (failures count toward the
 * lock-out and the address's limit); *why is the message key of a failure.
 */
static dg_rc recheck_password(struct dg_req *r, const char *pw, const char **why)
{
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	int64_t id = 0;
	*why = "auth.err.wrong_password";
	if (!pw[0] || strlen(pw) > DG_PASSWORD_MAX)
		return DG_EAUTH;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_auth_login(r->env, db, auth_client_addr(r), r->user->username, pw, &id,
				   &err);
	if (!rc && id != r->user->id)
		rc = DG_EAUTH;
	if (rc == DG_ELOCKED)
		*why = dg_arena_strdup(r->arena, err.msg);
	return rc;
}

static dg_rc account_reveal(struct dg_req *r)
{
	json_t *data = json_object();
	const char *why = NULL;
	dg_rc rc = recheck_password(r, auth_field(r, "password"), &why);
	if (rc == DG_EAUTH || rc == DG_ELOCKED) {
		auth_form_error(r, data, "password", why);
		/* 422, not 401: the person is signed in, an answer on the form is wrong */
		return account_page(r, dg_rc_form_status(rc == DG_ELOCKED ? rc : DG_EINVAL), false,
				    data);
	}
	if (rc) {
		json_decref(data);
		return rc;
	}
	dg_info("req=%s user %lld revealed their own identifiers", r->id, (long long)r->user->id);
	return account_page(r, 200, true, data);
}

/* ---- changing the password ---- */

static dg_rc password_get(struct dg_req *r)
{
	return auth_page(r, 200, "auth/password.html", json_object(), "auth.password.heading");
}

static dg_rc password_post(struct dg_req *r)
{
	json_t *data = json_object();
	const char *cur = auth_field(r, "current"), *pw = auth_field(r, "password");
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	if (auth_oversized(r)) {
		auth_form_error(r, data, "password", "auth.err.password_long");
		return auth_page(r, dg_rc_form_status(DG_ETOOBIG), "auth/password.html", data,
				 "auth.password.heading");
	}
	if (strcmp(pw, auth_field(r, "confirm")) != 0) {
		auth_form_error(r, data, "confirm", "auth.err.password_mismatch");
		return auth_page(r, dg_rc_form_status(DG_EINVAL), "auth/password.html", data,
				 "auth.password.heading");
	}
	const char *why = NULL;
	dg_rc rc = recheck_password(r, cur, &why);
	if (rc == DG_EAUTH || rc == DG_ELOCKED) {
		auth_form_error(r, data, "current", why);
		return auth_page(r, dg_rc_form_status(rc == DG_ELOCKED ? rc : DG_EINVAL),
				 "auth/password.html", data, "auth.password.heading");
	}
	if (!rc)
		rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_auth_set_password(r->env, db, r->user->id, pw, r->session_hash, &err);
	if (rc == DG_EINVAL) {
		auth_form_error(r, data, "password", err.msg);
		return auth_page(r, dg_rc_form_status(rc), "auth/password.html", data,
				 "auth.password.heading");
	}
	if (rc) {
		json_decref(data);
		return rc;
	}
	json_object_set_new(data, "done", json_true());
	return auth_page(r, 200, "auth/password.html", data, "auth.password.heading");
}

/* ---- API tokens ---- */

static json_t *token_list(struct dg_req *r)
{
	struct dg_db *db = NULL;
	struct dg_rows *rows = NULL;
	json_t *list = json_array();
	char day[11];
	if (dg_req_db(r, &db) ||
	    dg_db_query(db, dg_sql_token_list, DG_ARGS(DG_VI(r->user->id)), &rows))
		return list;
	dg_rows_defer(rows, r->arena);
	while (dg_rows_next(rows) == DG_OK) {
		int64_t used = dg_rows_int(rows, 3);
		dg_day_format((dg_day)(dg_rows_int(rows, 2) / 86400000), day);
		bool write = strcmp(dg_rows_text(rows, 5), "write") == 0;
		json_t *t = json_pack(
			"{s:I, s:s, s:s, s:b, s:s}", "id", (json_int_t)dg_rows_int(rows, 0), "name",
			dg_rows_text(rows, 1), "created", day, "revoked", dg_rows_int(rows, 4) != 0,
			"scope",
			dg_t(r, write ? "auth.tokens.scope_write" : "auth.tokens.scope_read"));
		dg_day_format((dg_day)(used / 86400000), day);
		json_object_set_new(t, "used", json_string(used ? day : ""));
		json_array_append_new(list, t);
	}
	return list;
}

static dg_rc tokens_page(struct dg_req *r, unsigned status, json_t *data)
{
	json_object_set_new(data, "tokens", token_list(r));
	return auth_page(r, status, "auth/tokens.html", data, "auth.tokens.heading");
}

static dg_rc tokens_get(struct dg_req *r)
{
	return tokens_page(r, 200, json_object());
}

static dg_rc tokens_post(struct dg_req *r)
{
	json_t *data = json_object();
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	char *token = NULL;
	const char *name = auth_field(r, "name");
	/* the form always sends a choice; a program that sends none gets what it got before scopes
	 */
	const char *scope = dg_kvs_get(&r->form, "scope") ? auth_field(r, "scope") : "write";
	auth_keep(data, "name", name);
	auth_keep(data, "scope", scope);
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_token_create(r->env, db, r->arena, r->user->id, name, scope, &token, &err);
	if (rc == DG_EINVAL) {
		auth_form_error(r, data, err.field[0] ? err.field : "name", err.msg);
		return tokens_page(r, dg_rc_form_status(rc), data);
	}
	if (rc) {
		json_decref(data);
		return rc;
	}
	json_object_set_new(data, "new_token", json_string(token));
	json_object_del(data, "values");
	return tokens_page(r, 201, data);
}

static dg_rc token_revoke(struct dg_req *r)
{
	struct dg_db *db = NULL;
	int64_t id = 0;
	dg_rc rc = param_id(r, &id);
	if (!rc)
		rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_token_revoke(db, r->user->id, id);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(&r->err, rc, "%s", dg_t(r, "auth.err.not_found"));
	if (rc)
		return rc;
	dg_reply_redirect(r, "/account/tokens");
	return DG_OK;
}

/* ---- administrators' user pages ---- */

static bool code_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 16)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static json_t *masked(struct dg_req *r, const char *sealed, bool phone)
{
	char *plain = NULL;
	if (!sealed[0] || dg_pii_open(&r->env->keys, r->arena, sealed, &plain))
		return json_string("");
	return json_string(phone ? dg_mask_phone(r->arena, plain) : dg_mask_id(r->arena, plain));
}

static json_t *user_row(struct dg_req *r, struct dg_rows *rows)
{
	bool en = strcmp(r->lang, "en") == 0;
	const char *role = dg_rows_text(rows, 1);
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:b, s:b}", "id",
			 (json_int_t)dg_rows_int(rows, 0), "role", role, "role_label",
			 dg_t(r, dg_arena_printf(r->arena, "auth.role.%s", role)), "username",
			 dg_rows_text(rows, 2), "name", dg_rows_text(rows, 3), "dept",
			 dg_rows_text(rows, en ? 6 : 5), "staff_roles",
			 staff_roles_label(r, dg_rows_text(rows, 7)), "uscc", dg_rows_text(rows, 8),
			 "org_name", dg_rows_text(rows, 9), "id_number",
			 masked(r, dg_rows_text(rows, 10), false), "phone",
			 masked(r, dg_rows_text(rows, 11), true), "locked",
			 dg_rows_int(rows, 12) > dg_now_ms(), "disabled",
			 dg_rows_int(rows, 13) != 0);
}

/* Options for a select; the one whose code is current is marked selected. */
static json_t *dept_options(struct dg_req *r, const char *current)
{
	struct dg_db *db = NULL;
	struct dg_rows *rows = NULL;
	json_t *list = json_array();
	bool en = strcmp(r->lang, "en") == 0;
	if (dg_req_db(r, &db) || dg_db_query(db, dg_sql_dept_list, DG_NOARGS, &rows))
		return list;
	dg_rows_defer(rows, r->arena);
	while (dg_rows_next(rows) == DG_OK) {
		const char *code = dg_rows_text(rows, 0);
		json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "code", code, "name",
						      dg_rows_text(rows, en ? 2 : 1), "selected",
						      current && strcmp(current, code) == 0));
	}
	return list;
}

static json_t *role_options(struct dg_req *r, const char *current)
{
	static const char *const roles[] = {"citizen", "agent", "staff", "admin"};
	json_t *list = json_array();
	for (size_t i = 0; i < 4; i++)
		json_array_append_new(
			list,
			json_pack("{s:s, s:s, s:b}", "code", roles[i], "name",
				  dg_t(r, dg_arena_printf(r->arena, "auth.role.%s", roles[i])),
				  "selected", current && strcmp(current, roles[i]) == 0));
	return list;
}

static dg_rc admin_users(struct dg_req *r)
{
	struct dg_db *db = NULL;
	struct dg_rows *rows = NULL;
	const char *role = dg_kvs_get(&r->query, "role");
	const char *dept = dg_kvs_get(&r->query, "dept");
	role = role && dg_role_parse(role) ? role : NULL;
	dept = dept && code_ok(dept) ? dept : NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_db_query(db, dg_sql_user_list,
				 DG_ARGS(DG_VT(role), DG_VT(role), DG_VT(dept), DG_VT(dept)),
				 &rows);
	if (rc)
		return rc;
	dg_rows_defer(rows, r->arena);
	json_t *list = json_array();
	while ((rc = dg_rows_next(rows)) == DG_OK)
		json_array_append_new(list, user_row(r, rows));
	if (rc != DG_ENOTFOUND) {
		json_decref(list);
		return rc;
	}
	json_t *data = json_pack("{s:o, s:o, s:o, s:{s:s, s:s}}", "users", list, "roles",
				 role_options(r, role), "depts", dept_options(r, dept), "filter",
				 "role", role ? role : "", "dept", dept ? dept : "");
	const char *created = dg_kvs_get(&r->query, "created");
	if (created && strlen(created) <= 32)
		json_object_set_new(data, "created", json_string(created));
	return auth_page(r, 200, "admin/users.html", data, "auth.admin.users_heading");
}

static dg_rc new_user_page(struct dg_req *r, unsigned status, json_t *data)
{
	json_t *values = json_object_get(data, "values");
	json_object_set_new(data, "roles",
			    role_options(r, json_string_value(json_object_get(values, "role"))));
	json_object_set_new(data, "depts",
			    dept_options(r, json_string_value(json_object_get(values, "dept"))));
	return auth_page(r, status, "admin/user_new.html", data, "auth.admin.new_heading");
}

static dg_rc admin_new_get(struct dg_req *r)
{
	return new_user_page(r, 200, json_object());
}

static const char *const new_user_fields[] = {"role", "username",    "name", "id_number", "phone",
					      "dept", "staff_roles", "uscc", "org"};

static dg_rc admin_new_post(struct dg_req *r)
{
	json_t *data = json_object();
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	for (size_t i = 0; i < sizeof(new_user_fields) / sizeof(new_user_fields[0]); i++)
		auth_keep(data, new_user_fields[i], auth_field(r, new_user_fields[i]));
	const char *big = auth_oversized(r);
	if (big) {
		auth_form_error(r, data, big, "auth.err.too_long");
		return new_user_page(r, dg_rc_form_status(DG_ETOOBIG), data);
	}
	struct dg_user_new u = {
		.role = dg_role_parse(auth_field(r, "role")),
		.username = auth_field(r, "username"),
		.password = auth_field(r, "password"),
		.name = auth_field(r, "name"),
		.id_number = auth_field(r, "id_number"),
		.phone = auth_field(r, "phone"),
		.dept_code = auth_field(r, "dept"),
		.staff_roles = auth_field(r, "staff_roles"),
		.uscc = auth_field(r, "uscc"),
		.org_name = auth_field(r, "org"),
	};
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_user_create(r->env, db, &u, NULL, &err);
	if (rc == DG_EINVAL || rc == DG_ECONFLICT) {
		auth_form_error(r, data, err.field, err.msg);
		return new_user_page(r, dg_rc_form_status(rc), data);
	}
	json_decref(data);
	if (rc)
		return rc;
	dg_info("req=%s admin %lld created account %s", r->id, (long long)r->user->id, u.username);
	struct dg_buf b;
	dg_buf_init(&b, 1024);
	if (dg_buf_adds(&b, "/admin/users?created=") ||
	    dg_buf_add_url(&b, u.username, strlen(u.username)))
		dg_buf_reset(&b);
	dg_reply_redirect(r, b.len ? dg_buf_str(&b) : "/admin/users");
	dg_buf_release(&b);
	return DG_OK;
}

static dg_rc admin_unlock(struct dg_req *r)
{
	struct dg_db *db = NULL;
	int64_t id = 0;
	dg_rc rc = param_id(r, &id);
	if (!rc)
		rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_auth_unlock(db, id);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(&r->err, rc, "%s", dg_t(r, "auth.err.not_found"));
	if (rc)
		return rc;
	dg_info("req=%s admin %lld unlocked user %lld", r->id, (long long)r->user->id,
		(long long)id);
	dg_reply_redirect(r, "/admin/users");
	return DG_OK;
}

/* ---- JSON ---- */

static dg_rc api_me(struct dg_req *r)
{
	json_t *me = NULL;
	dg_rc rc = dg_auth_me_json(r, false, &me);
	if (rc)
		return rc;
	json_object_del(me, "revealed");
	dg_reply_json(r, 200, me);
	return DG_OK;
}

/* The access policy of the auth pages: one line per route. */
static const struct dg_route routes[] = {
	{"GET", "/login", login_get, DG_ROLE_ANY, 0},
	{"POST", "/login", login_post, DG_ROLE_ANY, 0},
	{"POST", "/logout", logout_post, DG_ROLE_USER, 0},
	{"GET", "/account", account_get, DG_ROLE_USER, 0},
	{"POST", "/account/reveal", account_reveal, DG_ROLE_USER, 0},
	{"GET", "/account/password", password_get, DG_ROLE_USER, 0},
	{"POST", "/account/password", password_post, DG_ROLE_USER, 0},
	{"GET", "/account/tokens", tokens_get, DG_ROLE_USER, 0},
	{"POST", "/account/tokens", tokens_post, DG_ROLE_USER, 0},
	{"POST", "/account/tokens/{id}/revoke", token_revoke, DG_ROLE_USER, 0},
	{"GET", "/admin/users", admin_users, DG_ROLE_ADMIN, 0},
	{"GET", "/admin/users/new", admin_new_get, DG_ROLE_ADMIN, 0},
	{"POST", "/admin/users/new", admin_new_post, DG_ROLE_ADMIN, 0},
	{"POST", "/admin/users/{id}/unlock", admin_unlock, DG_ROLE_ADMIN, 0},
	{"GET", "/api/v1/me", api_me, DG_ROLE_USER, 0},
};

const struct dg_route *dg_auth_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
