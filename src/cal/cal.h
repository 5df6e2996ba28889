/*
 * cal.h - the region's holiday calendar, kept in the store and maintained by
 * an administrator at /admin/holidays: public holidays and the weekend days
 * worked in exchange (调休). Promised dates of cases are computed from it.
 */
#ifndef DG_CAL_H
#define DG_CAL_H

#include <stddef.h>

#include "core/date.h"
#include "core/err.h"
#include "http/router.h"
#include "store/store.h"

extern const struct dg_migration dg_cal_migrations[];

/* /admin/holidays (list, add, remove; administrators). */
const struct dg_route *dg_cal_routes(size_t *n);

/* Read the whole calendar from the store into c (initialised by the caller). */
dg_rc dg_cal_load(struct dg_db *db, struct dg_calendar *c) DG_MUST;

/* The day n working days after start by the stored calendar. */
dg_rc dg_cal_workdays_add(struct dg_db *db, dg_day start, int n, dg_day *out) DG_MUST;

/* Working days in (from, to] by the stored calendar. */
dg_rc dg_cal_workdays_between(struct dg_db *db, dg_day from, dg_day to, int *out) DG_MUST;

/* The demo region's calendar (this year's and next year's holidays), in the caller's transaction. */
dg_rc dg_cal_demo_seed(struct dg_db *db, struct dg_err *err) DG_MUST;

#endif
