/*
 * consent_pages.c - a resident's consent, as a page and as JSON:
 *
 *   GET  /my/consent              what departments ask consent for, and mine
 *   POST /my/consent              give or withdraw (purpose, action)
 *   GET  /api/my/consent          the same as JSON
 *   POST /api/my/consent          {"purpose", "action": "give"|"withdraw"}
 *
 * The page works without JavaScript: one small form per purpose. Errors on
 * the page are in the resident's language; the API's are JSON. The logic
 * and its checks are consent.c's.
 */
#include "exchange/internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "web/page.h"

static void when(json_t *o)
{
	int64_t ms = json_integer_value(json_object_get(o, "at_ms"));
	if (!ms)
		return;
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char s[32];
	localtime_r(&t, &tm);
	strftime(s, sizeof s, "%Y-%m-%d %H:%M", &tm);
	json_object_set_new(o, "when", json_string(s));
}

/* Words and dates the template shows: department names in the page's language. */
static void label(struct dg_req *r, json_t *c)
{
	bool en = r->lang && strcmp(r->lang, "en") == 0;
	size_t i, j;
	json_t *p, *q;
	json_array_foreach (json_object_get(c, "purposes"), i, p) {
		when(p);
		json_array_foreach (json_object_get(p, "asks"), j, q) {
			json_object_set(q, "dept_name",
					json_object_get(q, en ? "dept_en" : "dept_zh"));
			const struct dg_entity *e =
				x_registry(json_string_value(json_object_get(q, "registry")));
			json_object_set_new(q, "registry_title",
					    json_string(e && e->title ? e->title : ""));
		}
	}
	json_array_foreach (json_object_get(c, "revisions"), i, p) {
		when(p);
		json_object_set_new(
			p, "given",
			json_boolean(
				!strcmp(json_string_value(json_object_get(p, "state")), "given")));
	}
}

static dg_rc page_with(struct dg_req *r, unsigned status, json_t *data)
{
	struct dg_db *db = NULL;
	const char *subject = "";
	json_t *c = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = x_my_subject(r, db, &subject);
	if (!rc)
		rc = x_consent_of(db, subject, &c);
	if (rc) {
		json_decref(data);
		return rc;
	}
	label(r, c);
	json_object_update(data, c);
	json_decref(c);
	json_object_set_new(data, "title", json_string(dg_t(r, "exchange.consent.heading")));
	json_object_set_new(data, "has_id", json_boolean(subject[0] != '\0'));
	const char *done = dg_kvs_get(&r->query, "done");
	if (done && (!strcmp(done, "given") || !strcmp(done, "withdrawn")))
		json_object_set_new(
			data, "done",
			json_string(dg_t(r, !strcmp(done, "given")
						    ? "exchange.consent.done_given"
						    : "exchange.consent.done_withdrawn")));
	return dg_page(r, status, "exchange/consent.html", data);
}

static dg_rc consent_page(struct dg_req *r)
{
	return page_with(r, 200, json_object());
}

static dg_rc consent_api(struct dg_req *r)
{
	struct dg_db *db = NULL;
	const char *subject = "";
	json_t *c = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = x_my_subject(r, db, &subject);
	if (!rc)
		rc = x_consent_of(db, subject, &c);
	if (rc)
		return rc;
	json_object_set_new(c, "has_id", json_boolean(subject[0] != '\0'));
	dg_reply_json(r, 200, c);
	return DG_OK;
}

/* The words on the page for an error of x_consent_set. */
static const char *page_message(struct dg_req *r, dg_rc rc)
{
	switch (rc) {
	case DG_EDENIED: return dg_t(r, "exchange.consent.err.no_id");
	case DG_ECONFLICT: return dg_t(r, "exchange.consent.err.state");
	default: return dg_t(r, "exchange.consent.err.purpose");
	}
}

static dg_rc consent_post(struct dg_req *r)
{
	struct dg_db *db = NULL;
	const char *subject = "";
	struct dg_err err = {0};
	int64_t rev = 0;
	const char *purpose = x_input(r, "purpose"), *action = x_input(r, "action");
	bool give = action && strcmp(action, "give") == 0;
	bool withdraw = action && strcmp(action, "withdraw") == 0;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = x_my_subject(r, db, &subject);
	if (rc)
		return rc;
	if (!give && !withdraw)
		rc = dg_err_field(&err, DG_EINVAL, "action", "the action is give or withdraw");
	else
		rc = x_consent_set(db, subject, purpose, give,
				   dg_arena_printf(r->arena, "user:%lld", (long long)r->user->id),
				   &rev, &err);
	if (r->api) {
		if (rc) {
			dg_reply_json_error(r, rc, err.msg[0] ? err.msg : dg_rc_name(rc),
					    err.field[0] ? err.field : NULL);
			return DG_OK;
		}
		dg_reply_json(r, 200,
			      json_pack("{s:s,s:s,s:I}", "purpose", purpose, "state",
					give ? "given" : "withdrawn", "rev", (json_int_t)rev));
		return DG_OK;
	}
	if (rc == DG_EINVAL || rc == DG_ECONFLICT || rc == DG_EDENIED) {
		json_t *data = json_object();
		dg_form_error(data, "consent", page_message(r, rc));
		return page_with(r, dg_rc_form_status(rc), data);
	}
	if (rc)
		return rc;
	dg_reply_redirect(r, give ? "/my/consent?done=given" : "/my/consent?done=withdrawn");
	return DG_OK;
}

#define RESIDENT (DG_ROLE_CITIZEN | DG_ROLE_AGENT)

static const struct dg_route routes[] = {
	{"GET", "/my/consent", consent_page, RESIDENT, 0},
	{"POST", "/my/consent", consent_post, RESIDENT, 0},
	{"GET", "/api/my/consent", consent_api, RESIDENT, 0},
	{"POST", "/api/my/consent", consent_post, RESIDENT, 0},
};

const struct dg_route *x_consent_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
