/*
 * date.c - clocks, civil-date arithmetic and working days.
 *
 * The civil-date conversions are the proleptic Gregorian algorithms over
 * 400-year eras, exact for any int32 day.
 */
#include "date.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem.h"

int64_t dg_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t dg_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double dg_mono_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

dg_day dg_day_from_ymd(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void dg_day_to_ymd(dg_day day, int *y, int *m, int *d)
{
	int z = day + 719468;
	int era = (z >= 0 ? z : z - 146096) / 146097;
	int doe = z - era * 146097;
	int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

bool dg_ymd_valid(int y, int m, int d)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
		return false;
	int max = mdays[m - 1];
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		max = 29;
	return d <= max;
}

int dg_day_weekday(dg_day day)
{
	/* 1970-01-01 was a Thursday (4) */
	int w = (int)((day % 7 + 7) % 7);
	return (w + 3) % 7 + 1;
}

dg_day dg_day_today(void)
{
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	return dg_day_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

dg_rc dg_day_parse(const char *s, dg_day *out)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return DG_EINVAL;
	int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
	if (y < 0 || m < 0 || d < 0 || !dg_ymd_valid(y, m, d))
		return DG_EINVAL;
	*out = dg_day_from_ymd(y, m, d);
	return DG_OK;
}

void dg_day_format(dg_day day, char out[static 11])
{
	int y, m, d;
	dg_day_to_ymd(day, &y, &m, &d);
	/* the cast bounds each part so the output is always exactly 10 bytes */
	unsigned uy = (unsigned)(y < 0 ? 0 : y) % 10000u, um = (unsigned)m % 100u,
		 ud = (unsigned)d % 100u;
	snprintf(out, 11, "%04u-%02u-%02u", uy, um, ud);
}

void dg_http_date(int64_t epoch_sec, char out[static 30])
{
	time_t t = (time_t)epoch_sec;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 30, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

void dg_calendar_init(struct dg_calendar *c)
{
	memset(c, 0, sizeof(*c));
}

void dg_calendar_release(struct dg_calendar *c)
{
	free(c->entries);
	memset(c, 0, sizeof(*c));
}

/* Index of the first entry with day >= day. */
static size_t lower_bound(const struct dg_calendar *c, dg_day day)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->entries[mid].day < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void dg_calendar_set(struct dg_calendar *c, dg_day day, enum dg_daykind kind)
{
	size_t i = lower_bound(c, day);
	if (i < c->n && c->entries[i].day == day) {
		c->entries[i].kind = kind;
		return;
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 32;
		c->entries = dg_xrealloc(c->entries, c->cap * sizeof(*c->entries));
	}
	memmove(c->entries + i + 1, c->entries + i, (c->n - i) * sizeof(*c->entries));
	c->entries[i] = (struct dg_calendar_entry){day, kind};
	c->n++;
}

bool dg_calendar_is_workday(const struct dg_calendar *c, dg_day day)
{
	size_t i = c ? lower_bound(c, day) : 0;
	if (c && i < c->n && c->entries[i].day == day)
		return c->entries[i].kind == DG_DAY_WORKDAY;
	return dg_day_weekday(day) <= 5;
}

dg_day dg_workdays_add(const struct dg_calendar *c, dg_day start, int n)
{
	if (n > 3650)
		n = 3650;
	dg_day day = start;
	/* each step finds the next working day; a calendar cannot mark every day a
	 * holiday for long, but cap the search so a broken one cannot spin */
	for (int left = n; left > 0;) {
		day++;
		if (dg_calendar_is_workday(c, day))
			left--;
		if (day - start > 3650 * 3)
			break;
	}
	return day;
}

int dg_workdays_between(const struct dg_calendar *c, dg_day from, dg_day to)
{
	int sign = 1;
	if (to < from) {
		dg_day t = from;
		from = to;
		to = t;
		sign = -1;
	}
	int count = 0;
	for (dg_day d = from + 1; d <= to; d++)
		count += dg_calendar_is_workday(c, d);
	return sign * count;
}
