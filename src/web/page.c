/*
 * page.c - turning a handler's data into a whole HTML page.
 *
 * dg_page() adds what layout.html needs on every page (the request's
 * language, elder mode, the signed-in user, the switch links, the region's
 * name and hotline, the navigation) and renders into a buffer capped at
 * PAGE_MAX. dg_page_error() is the last line of defence: it must always
 * answer, so when the error template itself cannot render it replies in
 * plain text. The form helpers build the data of the error-summary pattern.
 */
#include "web/page.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "node/env.h"
#include "web/i18n.h"
#include "web/tmpl.h"

#define PAGE_MAX ((size_t)4 << 20)
#define LINK_MAX 4096

const char *dg_t(const struct dg_req *r, const char *key)
{
	const struct dg_i18n *i = r && r->env ? r->env->i18n : NULL;
	if (!i)
		return key ? key : "";
	return dg_i18n_get(i, r->lang ? r->lang : "zh", key);
}

/* Whether s holds a CJK character (U+3000 to U+9FFF: UTF-8 lead bytes E3 to E9). */
static bool has_han(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s >= 0xe3 && (unsigned char)*s <= 0xe9)
			return true;
	return false;
}

/* Whether s holds a Latin letter (digits and signs belong to no language). */
static bool has_latin(const char *s)
{
	for (; s && *s; s++)
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
			return true;
	return false;
}

const char *dg_page_lang_of(const struct dg_req *r, const char *text)
{
	bool en_page = r->lang && strcmp(r->lang, "en") == 0;
	if (!text || !*text)
		return NULL;
	if (has_han(text))
		return en_page ? "zh-CN" : NULL;
	return en_page || !has_latin(text) ? NULL : "en";
}

bool dg_page_pick(const struct dg_req *r, json_t *out, json_t *langs, const char *key,
		  const char *zh, const char *en)
{
	bool want_en = r->lang && strcmp(r->lang, "en") == 0;
	const char *mine = want_en ? en : zh, *other = want_en ? zh : en;
	bool fell = !(mine && *mine) && other && *other;
	const char *text = fell ? other : mine ? mine : "";
	const char *lang = fell ? dg_page_lang_of(r, text) : NULL;
	json_object_set_new(out, key, json_string(text));
	if (lang)
		json_object_set_new(langs, key, json_string(lang));
	return lang != NULL;
}

static const char *translate(void *ctx, const char *key)
{
	return dg_t(ctx, key);
}

static bool is_en(const struct dg_req *r)
{
	return r->lang && strcmp(r->lang, "en") == 0;
}

/*
 * Append this request's path and query to b, the path's segments and the
 * query's keys and values encoded again (they were decoded on the way in),
 * leaving out the parameter named skip (none when NULL). *sep is the
 * character the next parameter would start with.
 */
static dg_rc add_here(struct dg_buf *b, const struct dg_req *r, const char *skip, char *sep)
{
	const char *path = r->path && r->path[0] == '/' ? r->path : "/";
	dg_rc rc = DG_OK;
	for (const char *s = path; !rc && *s;) {
		const char *slash = strchr(s + 1, '/');
		size_t n = slash ? (size_t)(slash - s - 1) : strlen(s + 1);
		rc = dg_buf_addc(b, '/');
		if (!rc)
			rc = dg_buf_add_url(b, s + 1, n);
		s = slash ? slash : s + 1 + n;
	}
	*sep = '?';
	for (size_t i = 0; !rc && i < r->query.n; i++) {
		const struct dg_kv *kv = &r->query.v[i];
		if (skip && strcmp(kv->key, skip) == 0)
			continue;
		rc = dg_buf_addc(b, *sep);
		if (!rc)
			rc = dg_buf_add_url(b, kv->key, strlen(kv->key));
		if (!rc)
			rc = dg_buf_addc(b, '=');
		if (!rc)
			rc = dg_buf_add_url(b, kv->val, kv->len);
		*sep = '&';
	}
	return rc;
}

const char *dg_page_here(struct dg_req *r)
{
	struct dg_buf b;
	char sep;
	dg_buf_init(&b, LINK_MAX);
	dg_rc rc = add_here(&b, r, NULL, &sep);
	const char *out = rc ? "/" : dg_arena_strdup(r->arena, dg_buf_str(&b));
	dg_buf_release(&b);
	return out;
}

const char *dg_count_text(struct dg_req *r, int64_t n)
{
	char digits[32], out[48];
	/* the magnitude as unsigned: -INT64_MIN does not fit an int64_t */
	uint64_t m = n < 0 ? 0 - (uint64_t)n : (uint64_t)n;
	int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)m);
	size_t o = 0;
	if (n < 0)
		out[o++] = '-';
	for (int i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
	return dg_arena_strdup(r->arena, out);
}

/* This request's path and query with page=n in place of any page given (none for page 1). */
static const char *page_link(struct dg_req *r, int64_t n)
{
	struct dg_buf b;
	char sep;
	dg_buf_init(&b, LINK_MAX * 4);
	dg_rc rc = add_here(&b, r, "page", &sep);
	if (!rc && n > 1)
		rc = dg_buf_addf(&b, "%cpage=%lld", sep, (long long)n);
	const char *out = rc ? (r->path && r->path[0] == '/' ? r->path : "/")
			     : dg_arena_strdup(r->arena, dg_buf_str(&b));
	dg_buf_release(&b);
	return out;
}

json_t *dg_pager(struct dg_req *r, int64_t total, int64_t page, int64_t per_page)
{
	if (per_page < 1)
		per_page = 1;
	if (total < 0)
		total = 0;
	int64_t pages = total ? (total + per_page - 1) / per_page : 1;
	if (page < 1)
		page = 1;
	int64_t first = total ? (page - 1) * per_page + 1 : 0;
	int64_t last = page * per_page < total ? page * per_page : total;
	if (first > total)
		first = last = 0;
	json_t *links = json_array();
	/* the first, the last, and two either side of this page; a gap between */
	int64_t prev_shown = 0;
	for (int64_t n = 1; (pages > 1 || page > pages) && n <= pages; n++) {
		if (n != 1 && n != pages && (n < page - 2 || n > page + 2))
			continue;
		if (prev_shown && n > prev_shown + 1)
			json_array_append_new(links, json_pack("{s:b}", "gap", 1));
		json_array_append_new(links, json_pack("{s:I, s:s, s:s, s:b}", "n", (json_int_t)n,
						       "text", dg_count_text(r, n), "href",
						       page_link(r, n), "current", n == page));
		prev_shown = n;
	}
	json_t *j = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "total", (json_int_t)total,
			      "page", (json_int_t)page, "pages", (json_int_t)pages, "per_page",
			      (json_int_t)per_page, "first", (json_int_t)first, "last",
			      (json_int_t)last, "links", links);
	/* the same numbers as people read them, as the counts beside the pager are */
	json_object_set_new(j, "total_text", json_string(dg_count_text(r, total)));
	json_object_set_new(j, "page_text", json_string(dg_count_text(r, page)));
	json_object_set_new(j, "pages_text", json_string(dg_count_text(r, pages)));
	json_object_set_new(j, "first_text", json_string(dg_count_text(r, first)));
	json_object_set_new(j, "last_text", json_string(dg_count_text(r, last)));
	if (page > 1)
		json_object_set_new(j, "prev",
				    json_string(page_link(r, page <= pages ? page - 1 : pages)));
	if (page < pages)
		json_object_set_new(j, "next", json_string(page_link(r, page + 1)));
	return j;
}

/* "/prefs?name=value&back=..." */
static const char *switch_link(struct dg_req *r, const char *name, const char *value,
			       const char *back)
{
	struct dg_buf b;
	dg_buf_init(&b, LINK_MAX * 4);
	dg_rc rc = dg_buf_addf(&b, "/prefs?%s=%s&back=", name, value);
	if (!rc)
		rc = dg_buf_add_url(&b, back, strlen(back));
	const char *out = dg_arena_strdup(r->arena, rc ? "/prefs" : dg_buf_str(&b));
	dg_buf_release(&b);
	return out;
}

/* "/login?next=..." back to this page; plain "/login" where coming back makes no sense. */
static const char *login_link(struct dg_req *r, const char *back)
{
	const char *m = r->method ? r->method : "GET";
	/* HEAD is a GET without the body: the same page, byte for byte (pcache.c keys on that) */
	if ((strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0) || strcmp(back, "/") == 0 ||
	    strncmp(back, "/login", 6) == 0)
		return "/login";
	struct dg_buf b;
	dg_buf_init(&b, LINK_MAX * 4);
	dg_rc rc = dg_buf_adds(&b, "/login?next=");
	if (!rc)
		rc = dg_buf_add_url(&b, back, strlen(back));
	const char *out = dg_arena_strdup(r->arena, rc ? "/login" : dg_buf_str(&b));
	dg_buf_release(&b);
	return out;
}

/* "/feedback?page=PATH": the "report a problem with this page" link; the path only, never the
 * query. */
static const char *feedback_link(struct dg_req *r)
{
	const char *path = r->path && dg_is_local_path(r->path) ? r->path : "/";
	struct dg_buf b;
	dg_buf_init(&b, LINK_MAX * 4);
	dg_rc rc = dg_buf_adds(&b, "/feedback?page=");
	if (!rc)
		rc = dg_buf_add_url(&b, path, strlen(path));
	const char *out = dg_arena_strdup(r->arena, rc ? "/feedback" : dg_buf_str(&b));
	dg_buf_release(&b);
	return out;
}

/*
 * A page answering a POST (a form shown again with its errors) has no
 * address to come back to by GET: its switches post the answers again,
 * through POST /prefs, which sends the browser back to the same address
 * with a 307 so that the form is shown again, answers kept, in the new
 * language or mode. Never the CSRF token (the switch form has its own),
 * passwords, or the switch's own fields.
 */
bool dg_page_switched(const struct dg_req *r)
{
	return dg_kvs_get(&r->form, "pref_back") != NULL;
}

void dg_page_switch_to(json_t *data, const char *path, const char *const *fields)
{
	json_t *list = json_array();
	for (size_t i = 0; fields && fields[i] && fields[i + 1]; i += 2)
		json_array_append_new(
			list, json_pack("{s:s, s:s}", "name", fields[i], "value", fields[i + 1]));
	json_object_set_new(data, "switch_back", json_string(path));
	json_object_set_new(data, "switch_fields", list);
}

static json_t *resubmit_json(const struct dg_req *r)
{
	json_t *list = json_array();
	for (size_t i = 0; i < r->form.n; i++) {
		const struct dg_kv *kv = &r->form.v[i];
		if (strcmp(kv->key, "csrf") == 0 || strstr(kv->key, "password") ||
		    strncmp(kv->key, "pref_", 5) == 0)
			continue;
		json_array_append_new(
			list, json_pack("{s:s, s:s%}", "name", kv->key, "value", kv->val, kv->len));
	}
	return list;
}

static const char *role_key(enum dg_role role)
{
	switch (role) {
	case DG_ROLE_CITIZEN: return "role.citizen";
	case DG_ROLE_AGENT: return "role.agent";
	case DG_ROLE_STAFF: return "role.staff";
	case DG_ROLE_ADMIN: return "role.admin";
	default: return "role.anon";
	}
}

static json_t *user_json(const struct dg_req *r)
{
	const struct dg_user *u = r->user;
	json_t *j = json_object();
	json_object_set_new(j, "name",
			    json_string(u->name && u->name[0] ? u->name
					: u->username         ? u->username
							      : ""));
	json_object_set_new(j, "username", json_string(u->username ? u->username : ""));
	json_object_set_new(j, "role", json_string(dg_t(r, role_key(u->role))));
	json_object_set_new(j, "role_code", json_string(role_key(u->role) + 5));
	json_object_set_new(j, "dept_name", json_string(u->dept_name ? u->dept_name : ""));
	json_object_set_new(j, "org_name", json_string(u->org_name ? u->org_name : ""));
	return j;
}

static json_t *req_json(struct dg_req *r, bool keep_answers)
{
	const char *back = dg_page_here(r);
	bool en = is_en(r);
	json_t *j = json_object();
	json_object_set_new(j, "lang", json_string(en ? "en" : "zh"));
	json_object_set_new(j, "html_lang", json_string(en ? "en" : "zh-CN"));
	json_object_set_new(j, "elder", json_boolean(r->elder));
	json_object_set_new(j, "path", json_string(r->path ? r->path : "/"));
	json_object_set_new(j, "back", json_string(back));
	json_object_set_new(j, "csrf", json_string(r->csrf ? r->csrf : ""));
	json_object_set_new(j, "lang_href",
			    json_string(switch_link(r, "lang", en ? "zh" : "en", back)));
	json_object_set_new(j, "elder_href",
			    json_string(switch_link(r, "elder", r->elder ? "0" : "1", back)));
	json_object_set_new(j, "login_href", json_string(login_link(r, back)));
	json_object_set_new(j, "feedback_href", json_string(feedback_link(r)));
	bool posted = r->method && strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0;
	json_object_set_new(j, "posted", json_boolean(posted));
	if (posted && keep_answers)
		json_object_set_new(j, "resubmit", resubmit_json(r));
	if (r->user)
		json_object_set_new(j, "user", user_json(r));
	return j;
}

static bool nav_current(const char *path, const char *href)
{
	size_t n = strlen(href);
	if (strcmp(href, "/") == 0)
		return strcmp(path, "/") == 0;
	return strncmp(path, href, n) == 0 && (path[n] == 0 || path[n] == '/');
}

static json_t *nav_json(const struct dg_req *r)
{
	static const char *const items[][3] = {
		{"/", "nav.home"},     {"/services", "nav.services"},
		{"/data", "nav.data"}, {"/policies", "nav.policies"},
		{"/help", "nav.help"},
	};
	/*
	 * What a signed-in user comes back for: their cases, certificates, who
	 * used their data and messages; or the queue, the data they publish,
	 * the data-sharing exchange and messages (users, for administrators).
	 */
	enum { NMINE = 4 };
	static const char *const applicant[NMINE][3] = {{"/my/cases", "nav.my_cases"},
							{"/my/certificates", "nav.my_certs"},
							{"/my/data-use", "nav.my_data_use"},
							{"/inbox", "nav.inbox"}};
	static const char *const staff[NMINE][3] = {
		{"/office", "nav.office"},
		{"/data/manage", "nav.data_manage"},
		{"/exchange/directory", "nav.exchange", "/exchange"},
		{"/inbox", "nav.inbox"}};
	static const char *const admin[NMINE][3] = {
		{"/office", "nav.office"},
		{"/data/manage", "nav.data_manage"},
		{"/exchange/directory", "nav.exchange", "/exchange"},
		{"/admin/users", "nav.admin"}};
	enum dg_role role = r->user ? r->user->role : DG_ROLE_ANON;
	const char *const(*mine)[3] = role == DG_ROLE_CITIZEN || role == DG_ROLE_AGENT ? applicant
				      : role == DG_ROLE_STAFF                          ? staff
				      : role == DG_ROLE_ADMIN                          ? admin
										       : NULL;
	json_t *list = json_array();
	const char *path = r->path ? r->path : "/";
	size_t nbase = sizeof(items) / sizeof(items[0]), nmine = mine ? NMINE : 0;
	/* one current item: the longest that holds the path (/data/manage, not /data too) */
	size_t best = SIZE_MAX, best_len = 0;
	for (size_t i = 0; i < nbase + nmine; i++) {
		const char *const *e = i < nbase ? items[i] : mine[i - nbase];
		const char *under = e[2] ? e[2] : e[0]; /* the pages it stands for */
		if (e[0] && nav_current(path, under) && strlen(under) >= best_len)
			best = i, best_len = strlen(under);
	}
	for (size_t i = 0; i < nbase + nmine; i++) {
		const char *const *e = i < nbase ? items[i] : mine[i - nbase];
		if (!e[0])
			continue;
		json_t *it = json_object();
		json_object_set_new(it, "href", json_string(e[0]));
		json_object_set_new(it, "label", json_string(dg_t(r, e[1])));
		json_object_set_new(it, "current", json_boolean(i == best));
		json_array_append_new(list, it);
	}
	return list;
}

static json_t *site_json(const struct dg_req *r)
{
	const struct dg_region *g = r->env ? &r->env->region : NULL;
	bool en = is_en(r);
	const char *name = g ? (en && g->name_en[0] ? g->name_en : g->name_zh) : "";
	if (!name[0])
		name = dg_t(r, "site.default_name");
	json_t *j = json_object();
	json_object_set_new(j, "name", json_string(name));
	json_object_set_new(j, "hotline", json_string(g && g->hotline[0] ? g->hotline : "12345"));
	json_t *other = json_object();
	json_object_set_new(other, "code", json_string(en ? "zh" : "en"));
	json_object_set_new(other, "html_lang", json_string(en ? "zh-CN" : "en"));
	json_object_set_new(other, "label", json_string(en ? "中文" : "English"));
	json_object_set_new(j, "lang_other", other);
	json_object_set_new(j, "nav", nav_json(r));
	return j;
}

/* Render tmpl with data and the common parts into a capped buffer. */
static dg_rc render(struct dg_req *r, const char *tmpl, json_t *data, struct dg_buf *b,
		    bool keep_answers)
{
	if (!r->env || !r->env->tmpl)
		return dg_err_set(&r->err, DG_EINTERNAL, "templates are not loaded");
	/* a form shown again with its errors says so first in its title (WCAG 3.3.1) */
	const char *title = json_string_value(json_object_get(data, "title"));
	const char *prefix = dg_t(r, "form.error_prefix");
	if (title && json_array_size(json_object_get(data, "errors")) &&
	    strncmp(title, prefix, strlen(prefix)) != 0)
		json_object_set_new(data, "title",
				    json_string(dg_arena_printf(r->arena, "%s %s", prefix, title)));
	json_object_set_new(data, "req", req_json(r, keep_answers));
	json_object_set_new(data, "site", site_json(r));
	struct dg_err err = {0};
	dg_rc rc = dg_tmpl_render(r->env->tmpl, tmpl, data, translate, r, b, &err);
	if (rc)
		dg_error("req=%s template %s: %s", r->id, tmpl, err.msg);
	return rc;
}

/* The page into out (initialised here); keep_answers as render's. */
static dg_rc render_page(struct dg_req *r, const char *tmpl, json_t *data, struct dg_buf *out,
			 bool keep_answers)
{
	if (!data)
		data = json_object();
	dg_buf_init(out, PAGE_MAX);
	dg_rc rc = render(r, tmpl, data, out, keep_answers);
	json_decref(data);
	/* a page that fails to render (even by size) is our bug, not the user's: 500 */
	return rc ? DG_EINTERNAL : DG_OK;
}

dg_rc dg_page_render(struct dg_req *r, const char *tmpl, json_t *data, struct dg_buf *out)
{
	return render_page(r, tmpl, data, out, true);
}

dg_rc dg_page(struct dg_req *r, unsigned status, const char *tmpl, json_t *data)
{
	struct dg_buf b;
	/* answers refused for their size are never echoed back, not even by the switches */
	dg_rc rc = render_page(r, tmpl, data, &b, status != 413);
	if (!rc)
		dg_reply_buf(r, status, "text/html; charset=utf-8", &b);
	dg_buf_release(&b);
	return rc;
}

static unsigned known_status(unsigned s)
{
	static const unsigned known[] = {400, 401, 403, 404, 405, 409, 413,
					 422, 429, 431, 500, 503, 507};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (known[i] == s)
			return s;
	return s >= 500 ? 500 : 400;
}

static void plain_error(struct dg_req *r, unsigned status, const char *title, const char *detail)
{
	struct dg_buf b;
	dg_buf_init(&b, 4096);
	if (dg_buf_addf(&b, "%u %s\n%s\n", status, title, detail))
		dg_buf_reset(&b);
	dg_reply_buf(r, status, "text/plain; charset=utf-8", &b);
	dg_buf_release(&b);
}

void dg_page_error(struct dg_req *r, dg_rc rc)
{
	unsigned status = dg_rc_http_status(rc ? rc : DG_EINTERNAL);
	unsigned shown = known_status(status);
	char tkey[64], bkey[64];
	snprintf(tkey, sizeof(tkey), "error.%u.title", shown);
	snprintf(bkey, sizeof(bkey), "error.%u.body", shown);
	const char *title = dg_t(r, tkey), *body = dg_t(r, bkey);
	/* Server faults keep their details in the log, not on the page. */
	const char *msg = status < 500 && r->err.msg[0] ? r->err.msg : "";
	json_t *data = json_object();
	json_object_set_new(data, "title", json_string(title));
	json_object_set_new(data, "status", json_integer(status));
	json_object_set_new(data, "explanation", json_string(body));
	json_object_set_new(data, "message", json_string(msg));
	struct dg_buf b;
	dg_buf_init(&b, PAGE_MAX);
	if (render(r, "errors/error.html", data, &b, false) == DG_OK)
		dg_reply_buf(r, status, "text/html; charset=utf-8", &b);
	else
		plain_error(r, status, title, msg[0] ? msg : body);
	dg_buf_release(&b);
	json_decref(data);
}

void dg_form_error(json_t *data, const char *field, const char *message)
{
	if (!data)
		return;
	json_t *errors = json_object_get(data, "errors");
	if (!json_is_array(errors)) {
		errors = json_array();
		json_object_set_new(data, "errors", errors);
	}
	json_t *by_field = json_object_get(data, "error_for");
	if (!json_is_object(by_field)) {
		by_field = json_object();
		json_object_set_new(data, "error_for", by_field);
	}
	json_t *e = json_object();
	json_object_set_new(e, "field", json_string(field ? field : ""));
	json_object_set_new(e, "message", json_string(message ? message : ""));
	json_array_append_new(errors, e);
	if (field && field[0] && !json_object_get(by_field, field))
		json_object_set_new(by_field, field, json_string(message ? message : ""));
}

void dg_form_keep_values(struct dg_req *r, json_t *data)
{
	if (!data)
		return;
	json_t *values = json_object_get(data, "values");
	if (!json_is_object(values)) {
		values = json_object();
		json_object_set_new(data, "values", values);
	}
	for (size_t i = 0; i < r->form.n; i++) {
		const struct dg_kv *kv = &r->form.v[i];
		/* Never echo secrets back into a page. */
		if (strcmp(kv->key, "csrf") == 0 || strstr(kv->key, "password"))
			continue;
		if (!json_object_get(values, kv->key))
			json_object_set_new(values, kv->key, json_stringn(kv->val, kv->len));
	}
}

void dg_page_attention(struct dg_req *r, json_t *data)
{
	json_t *a = NULL;
	if (!r->user || !r->env || !r->env->attention || !data)
		return;
	if (r->env->attention(r, &a)) {
		dg_warn("req=%s what needs the user could not be read: %s", r->id, r->err.msg);
		r->err.msg[0] = 0;
		return;
	}
	json_object_set_new(data, "attention", a);
}

/* The request's connection back to the pool, when the request ends or before (dg_req_db_put). */
static void req_db_put(void *arg)
{
	struct dg_req *r = arg;
	dg_db_put(r->db);
	r->db = NULL;
}

dg_rc dg_req_db(struct dg_req *r, struct dg_db **out)
{
	if (!r->db) {
		dg_rc rc = dg_db_get(r->env->store, &r->db);
		if (rc) {
			r->db = NULL;
			return dg_err_set(&r->err, rc, "%s", dg_t(r, "error.store_busy"));
		}
		/* once per connection taken: a second cleanup finds r->db NULL and does nothing */
		dg_arena_defer(r->arena, req_db_put, r);
	}
	*out = r->db;
	return DG_OK;
}

void dg_req_db_put(struct dg_req *r)
{
	req_db_put(r);
}
