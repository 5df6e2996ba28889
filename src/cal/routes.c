/*
 * routes.c - /admin/holidays: administrators keep the region's holiday
 * calendar, a year at a time. The page lists the year's holidays and worked
 * weekend days (调休), each with a remove button, and a form to add a day.
 * A failed form comes back with the error summary and the answers kept;
 * every word is from templates/i18n/cal.*.json. The route table at the end
 * is the access policy: administrators only.
 */
#include "cal/cal.h"

#include <string.h>

#include "node/env.h"
#include "core/log.h"
#include "core/str.h"
#include "web/page.h"

#define FIELD_MAX 256 /* bytes in any one field of the form */
#define YEAR_MIN  1900
#define YEAR_MAX  2200

static const char *field(struct dg_req *r, const char *name)
{
	const char *v = dg_kvs_get(&r->form, name);
	return v ? v : "";
}

static int year_of(dg_day day)
{
	int y, m, d;
	dg_day_to_ymd(day, &y, &m, &d);
	return y;
}

/* ?year=YYYY, the current year when absent; EINVAL for anything else. */
static dg_rc read_year(struct dg_req *r, int *year)
{
	const char *s = dg_kvs_get(&r->query, "year");
	int64_t y = 0;
	*year = year_of(dg_day_today());
	if (!s || !*s)
		return DG_OK;
	if (dg_str_to_i64(dg_str_of(s), &y) || y < YEAR_MIN || y > YEAR_MAX)
		return dg_err_field(&r->err, DG_EINVAL, "year", "%s", dg_t(r, "cal.err.year"));
	*year = (int)y;
	return DG_OK;
}

/* Labels for the year's days in the request's language. */
static void label_days(struct dg_req *r, json_t *days)
{
	json_t *d;
	size_t i;
	json_array_foreach (days, i, d) {
		json_int_t kind = json_integer_value(json_object_get(d, "kind"));
		json_int_t wd = json_integer_value(json_object_get(d, "weekday"));
		json_object_set_new(
			d, "kind_label",
			json_string(dg_t(r, kind == DG_DAY_WORKDAY ? "cal.kind.workday"
								   : "cal.kind.holiday")));
		json_object_set_new(d, "worked", json_boolean(kind == DG_DAY_WORKDAY));
		json_object_set_new(
			d, "weekday_label",
			json_string(dg_t(r, dg_arena_printf(r->arena, "cal.weekday.%d", (int)wd))));
		json_t *lang = json_object();
		dg_page_pick(r, d, lang, "shown", json_string_value(json_object_get(d, "name")),
			     json_string_value(json_object_get(d, "name_en")));
		json_object_set_new(d, "shown_lang",
				    json_object_get(lang, "shown")
					    ? json_incref(json_object_get(lang, "shown"))
					    : json_string(""));
		json_decref(lang);
	}
}

/* Render the year's page; data (stolen) may carry form errors and values. */
static dg_rc holidays_page(struct dg_req *r, unsigned status, int year, json_t *data)
{
	struct dg_db *db = NULL;
	json_t *days = NULL;
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_cal_list_year(db, year, &days);
	if (rc) {
		json_decref(data);
		return rc;
	}
	label_days(r, days);
	json_object_set_new(data, "days", days);
	json_object_set_new(data, "year", json_integer(year));
	if (year > YEAR_MIN)
		json_object_set_new(data, "prev_year", json_integer(year - 1));
	if (year < YEAR_MAX)
		json_object_set_new(data, "next_year", json_integer(year + 1));
	const char *title = dg_t(r, "cal.heading");
	if (json_object_get(data, "errors"))
		title = dg_arena_printf(r->arena, "%s %s", dg_t(r, "cal.error_prefix"), title);
	json_object_set_new(data, "title", json_string(title));
	return dg_page(r, status, "cal/holidays.html", data);
}

static dg_rc holidays_get(struct dg_req *r)
{
	int year = 0;
	dg_rc rc = read_year(r, &year);
	if (rc)
		return rc;
	json_t *data = json_object();
	/* the confirmation after a redirect: a date only, shown as text */
	static const char *const notes[] = {"added", "removed"};
	for (size_t i = 0; i < 2; i++) {
		const char *v = dg_kvs_get(&r->query, notes[i]);
		dg_day day;
		char date[11];
		if (v && dg_day_parse(v, &day) == DG_OK) {
			dg_day_format(day, date);
			json_object_set_new(data, notes[i], json_string(date));
		}
	}
	return holidays_page(r, 200, year, data);
}

static void keep(json_t *data, const char *name, const char *value)
{
	json_t *values = json_object_get(data, "values");
	if (!values) {
		values = json_object();
		json_object_set_new(data, "values", values);
	}
	json_object_set_new(values, name, json_string(strlen(value) > FIELD_MAX ? "" : value));
}

static void form_error(struct dg_req *r, json_t *data, const char *name, const char *key)
{
	dg_form_error(data, name, dg_t(r, key));
}

/* Redirect to the year of day with a note ("added" / "removed") naming it. */
static void back_to_year(struct dg_req *r, dg_day day, const char *note)
{
	char date[11];
	dg_day_format(day, date);
	dg_reply_redirect(r, dg_arena_printf(r->arena, "/admin/holidays?year=%d&%s=%s",
					     year_of(day), note, date));
}

static dg_rc holidays_add(struct dg_req *r)
{
	json_t *data = json_object();
	const char *date = field(r, "date"), *kind_s = field(r, "kind"), *name = field(r, "name");
	const char *name_en = field(r, "name_en");
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	int year = year_of(dg_day_today());
	dg_day day = 0;
	keep(data, "date", date);
	keep(data, "kind", kind_s);
	keep(data, "name", name);
	keep(data, "name_en", name_en);
	if (strlen(date) > FIELD_MAX || strlen(kind_s) > FIELD_MAX || strlen(name) > FIELD_MAX ||
	    strlen(name_en) > FIELD_MAX) {
		form_error(r, data,
			   strlen(date) > FIELD_MAX   ? "date"
			   : strlen(name) > FIELD_MAX ? "name"
						      : "name_en",
			   "cal.err.too_long");
		return holidays_page(r, dg_rc_form_status(DG_ETOOBIG), year, data);
	}
	struct dg_str ds = dg_str_trim(dg_str_of(date)), ns = dg_str_trim(dg_str_of(name));
	char *dtext = dg_arena_strndup(r->arena, ds.p, ds.n);
	name = dg_arena_strndup(r->arena, ns.p, ns.n);
	struct dg_str es = dg_str_trim(dg_str_of(name_en));
	name_en = dg_arena_strndup(r->arena, es.p, es.n);
	int kind = strcmp(kind_s, "1") == 0   ? DG_DAY_HOLIDAY
		   : strcmp(kind_s, "2") == 0 ? DG_DAY_WORKDAY
					      : 0;
	if (!dtext[0])
		form_error(r, data, "date", "cal.err.date_missing");
	else if (dg_day_parse(dtext, &day) != DG_OK || year_of(day) < YEAR_MIN ||
		 year_of(day) > YEAR_MAX)
		form_error(r, data, "date", "cal.err.date_invalid");
	else
		year = year_of(day);
	if (!kind)
		form_error(r, data, "kind", "cal.err.kind_missing");
	if (!name[0])
		form_error(r, data, "name", "cal.err.name_missing");
	if (json_object_get(data, "errors"))
		return holidays_page(r, dg_rc_form_status(DG_EINVAL), year, data);
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_cal_add(db, day, kind, name, name_en, &err);
	if (rc == DG_EINVAL || rc == DG_ECONFLICT) {
		form_error(r, data, err.field, err.msg);
		return holidays_page(r, dg_rc_form_status(rc), year, data);
	}
	json_decref(data);
	if (rc)
		return rc;
	dg_info("req=%s admin %lld added %s to the holiday calendar", r->id, (long long)r->user->id,
		dtext);
	back_to_year(r, day, "added");
	return DG_OK;
}

static dg_rc holidays_remove(struct dg_req *r)
{
	struct dg_db *db = NULL;
	dg_day day = 0;
	const char *date = dg_kvs_get(&r->params, "date");
	if (!date || dg_day_parse(date, &day) != DG_OK)
		return dg_err_set(&r->err, DG_ENOTFOUND, "%s", dg_t(r, "cal.err.not_found"));
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_cal_remove(db, day);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(&r->err, rc, "%s", dg_t(r, "cal.err.not_found"));
	if (rc)
		return rc;
	dg_info("req=%s admin %lld removed %s from the holiday calendar", r->id,
		(long long)r->user->id, date);
	back_to_year(r, day, "removed");
	return DG_OK;
}

/* The access policy of the calendar pages: one line per route. */
static const struct dg_route routes[] = {
	{"GET", "/admin/holidays", holidays_get, DG_ROLE_ADMIN, 0},
	{"POST", "/admin/holidays", holidays_add, DG_ROLE_ADMIN, 0},
	{"POST", "/admin/holidays/{date}/delete", holidays_remove, DG_ROLE_ADMIN, 0},
};

const struct dg_route *dg_cal_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
