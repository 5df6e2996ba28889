/*
 * date.h - clocks, calendar days and working days.
 *
 * A day is a count of days since 1970-01-01 (dg_day, may be negative), so
 * date arithmetic is integer arithmetic. Working days follow a calendar that
 * lists public holidays and the weekend days that are worked in exchange
 * (调休); everything else is a working day from Monday to Friday.
 */
#ifndef DG_DATE_H
#define DG_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef int32_t dg_day;

int64_t dg_now_ms(void);  /* wall clock, ms since the epoch */
int64_t dg_mono_ms(void); /* monotonic, for durations */
double dg_mono_sec(void);

dg_day dg_day_from_ymd(int y, int m, int d);
void dg_day_to_ymd(dg_day day, int *y, int *m, int *d);
bool dg_ymd_valid(int y, int m, int d);
int dg_day_weekday(dg_day day); /* 1 = Monday ... 7 = Sunday */
dg_day dg_day_today(void);      /* today in the server's local time zone */

/* Strict "YYYY-MM-DD" (a real date); EINVAL otherwise. */
dg_rc dg_day_parse(const char *s, dg_day *out) DG_MUST;
/* Writes "YYYY-MM-DD" and a NUL into out (at least 11 bytes). */
void dg_day_format(dg_day day, char out[static 11]);
/* RFC 7231 date for HTTP headers into out (at least 30 bytes). */
void dg_http_date(int64_t epoch_sec, char out[static 30]);

enum dg_daykind { DG_DAY_HOLIDAY = 1, DG_DAY_WORKDAY = 2 };

struct dg_calendar_entry {
	dg_day day;
	enum dg_daykind kind;
};

/* A holiday calendar; entries are kept sorted by day, one per day. */
struct dg_calendar {
	struct dg_calendar_entry *entries;
	size_t n, cap;
};

void dg_calendar_init(struct dg_calendar *c);
void dg_calendar_release(struct dg_calendar *c);
/* Marks a day as a holiday or a worked weekend day (replaces any earlier mark). */
void dg_calendar_set(struct dg_calendar *c, dg_day day, enum dg_daykind kind);
bool dg_calendar_is_workday(const struct dg_calendar *c, dg_day day);
/*
 * The day that is n working days after start (n >= 0; start itself does not
 * count). Bounded: n is capped at 3650 so a bad input cannot spin.
 */
dg_day dg_workdays_add(const struct dg_calendar *c, dg_day start, int n);
/* Working days in (from, to]; negative when to < from. */
int dg_workdays_between(const struct dg_calendar *c, dg_day from, dg_day to);

#endif
