/*
 * cal.h - the region's holiday calendar, kept in the store and maintained by
 * an administrator at /admin/holidays: public holidays and the weekend days
 * worked in exchange (调休). Promised dates of cases are computed from it.
 */
#ifndef DG_CAL_H
#define DG_CAL_H

#include <jansson.h>
#include <stddef.h>

#include "core/date.h"
#include "core/err.h"
#include "http/router.h"
#include "store/store.h"
#include "node/module.h"

extern const struct dg_migration dg_cal_migrations[];

/* /admin/holidays (list, add, remove; administrators). */
const struct dg_route *dg_cal_routes(size_t *n);

/* Read the whole calendar from the store into c (initialised by the caller). */
dg_rc dg_cal_load(struct dg_db *db, struct dg_calendar *c) DG_MUST;

/* The day n working days after start by the stored calendar; EINVAL unless 0 <= n <= 3650. */
dg_rc dg_cal_workdays_add(struct dg_db *db, dg_day start, int n, dg_day *out) DG_MUST;

/*
 * Working days in (from, to] by the stored calendar, negative when to < from;
 * EINVAL when the two are more than 100 years apart (the count walks the days).
 */
dg_rc dg_cal_workdays_between(struct dg_db *db, dg_day from, dg_day to, int *out) DG_MUST;

/*
 * Add one day to the calendar: kind DG_DAY_HOLIDAY (a public holiday) or
 * DG_DAY_WORKDAY (a Saturday or Sunday worked in exchange, 调休); name is
 * what the day is ("国庆节", "国庆节调休上班"), 1..DG_CAL_NAME_CHARS characters,
 * and name_en its English name for English pages (NULL or "" for none: they
 * show the Chinese), at most as long.
 * EINVAL with err->field ("date", "kind", "name", "name_en") and err->msg a message key
 * ("cal.err.*") for the caller to translate; ECONFLICT (field "date") when
 * the day is listed already. Nothing changes on error.
 */
#define DG_CAL_NAME_CHARS 40
dg_rc dg_cal_add(struct dg_db *db, dg_day day, int kind, const char *name, const char *name_en,
		 struct dg_err *err) DG_MUST;

/* Remove a day from the calendar; ENOTFOUND when it is not listed. */
dg_rc dg_cal_remove(struct dg_db *db, dg_day day) DG_MUST;

/*
 * The days listed in year (1..9999), in order, as a JSON array of
 * {"date":"YYYY-MM-DD","day":dg_day,"weekday":1..7,"kind":1|2,"name":"...","name_en":"..."}.
 * Caller owns the reference.
 */
dg_rc dg_cal_list_year(struct dg_db *db, int year, json_t **out) DG_MUST;

/* The demo region's calendar (2026 and 2027 holidays, 调休 days), in the caller's transaction. */
dg_rc dg_cal_demo_seed(struct dg_env *env, struct dg_db *db, const struct dg_demo_opts *o,
		       struct dg_err *err) DG_MUST;

/* The cal module: its tables, routes, jobs and demo data, for src/app. */
extern const struct dg_module dg_cal_module;

#endif
