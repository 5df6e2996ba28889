/*
 * cal.c - the holiday calendar kept in the store: its table, reading it into
 * a struct dg_calendar for core/date.c's working-day arithmetic, adding and
 * removing days, and the demo region's official arrangement.
 *
 * The store holds one row per listed day (a public holiday, or a weekend day
 * worked in exchange); every other day follows the week (Monday to Friday
 * work). The counting itself is date.c's; this file only supplies the days.
 */
#include "cal/cal.h"

#include <string.h>

#include "core/str.h"

#define LOAD_MAX     100000 /* listed days read into one calendar: centuries of holidays */
#define SPAN_MAX     36525  /* days between() walks at most (100 years) */
#define WORKDAYS_MAX 3650   /* what date.c's dg_workdays_add accepts */

const struct dg_migration dg_cal_migrations[] = {
	{"cal-001-holidays", "CREATE TABLE holidays ("
			     " day INTEGER PRIMARY KEY,"
			     " kind INTEGER NOT NULL CHECK (kind IN (1, 2)),"
			     " name TEXT NOT NULL DEFAULT '',"
			     " created_at BIGINT NOT NULL)"},
	/* the day's name in English, for English pages ('' shows the Chinese) */
	{"cal-002-name-en", "ALTER TABLE holidays ADD COLUMN name_en TEXT NOT NULL DEFAULT ''"},
	{NULL, NULL},
};

dg_rc dg_cal_load(struct dg_db *db, struct dg_calendar *c)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, "SELECT day, kind FROM holidays ORDER BY day", DG_NOARGS, &rows);
	size_t n = 0;
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		if (++n > LOAD_MAX) {
			rc = DG_ETOOBIG;
			break;
		}
		int64_t kind = dg_rows_int(rows, 1);
		dg_calendar_set(c, (dg_day)dg_rows_int(rows, 0),
				kind == DG_DAY_WORKDAY ? DG_DAY_WORKDAY : DG_DAY_HOLIDAY);
	}
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

dg_rc dg_cal_workdays_add(struct dg_db *db, dg_day start, int n, dg_day *out)
{
	if (n < 0 || n > WORKDAYS_MAX)
		return DG_EINVAL;
	struct dg_calendar c;
	dg_calendar_init(&c);
	dg_rc rc = dg_cal_load(db, &c);
	if (!rc)
		*out = dg_workdays_add(&c, start, n);
	dg_calendar_release(&c);
	return rc;
}

dg_rc dg_cal_workdays_between(struct dg_db *db, dg_day from, dg_day to, int *out)
{
	int64_t span = (int64_t)to - (int64_t)from;
	if (span > SPAN_MAX || span < -SPAN_MAX)
		return DG_EINVAL;
	struct dg_calendar c;
	dg_calendar_init(&c);
	dg_rc rc = dg_cal_load(db, &c);
	if (!rc)
		*out = dg_workdays_between(&c, from, to);
	dg_calendar_release(&c);
	return rc;
}

/* A day's name: printable text of 1..DG_CAL_NAME_CHARS characters. */
static bool name_ok(const char *name)
{
	size_t len = name ? strlen(name) : 0;
	if (len == 0 || len > DG_CAL_NAME_CHARS * 4 || !dg_utf8_valid(name, len) ||
	    dg_utf8_len(name, len) > DG_CAL_NAME_CHARS)
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

dg_rc dg_cal_add(struct dg_db *db, dg_day day, int kind, const char *name, const char *name_en,
		 struct dg_err *err)
{
	int y, m, d;
	dg_day_to_ymd(day, &y, &m, &d);
	if (!dg_ymd_valid(y, m, d))
		return dg_err_field(err, DG_EINVAL, "date", "cal.err.date_invalid");
	if (kind != DG_DAY_HOLIDAY && kind != DG_DAY_WORKDAY)
		return dg_err_field(err, DG_EINVAL, "kind", "cal.err.kind_missing");
	/* a worked day in exchange only means something on a weekend */
	if (kind == DG_DAY_WORKDAY && dg_day_weekday(day) < 6)
		return dg_err_field(err, DG_EINVAL, "kind", "cal.err.workday_weekday");
	if (!name_ok(name))
		return dg_err_field(err, DG_EINVAL, "name",
				    name && *name ? "cal.err.name_bad" : "cal.err.name_missing");
	if (name_en && *name_en && !name_ok(name_en))
		return dg_err_field(err, DG_EINVAL, "name_en", "cal.err.name_bad");
	dg_rc rc = dg_db_exec(
		db,
		"INSERT INTO holidays (day, kind, name, name_en, created_at)"
		" VALUES (?, ?, ?, ?, {{now_ms}})",
		DG_ARGS(DG_VI(day), DG_VI(kind), DG_VT(name), DG_VT(name_en ? name_en : "")), NULL);
	if (rc == DG_ECONFLICT)
		return dg_err_field(err, rc, "date", "cal.err.date_taken");
	return rc;
}

dg_rc dg_cal_remove(struct dg_db *db, dg_day day)
{
	int64_t changes = 0;
	dg_rc rc =
		dg_db_exec(db, "DELETE FROM holidays WHERE day = ?", DG_ARGS(DG_VI(day)), &changes);
	if (!rc && changes == 0)
		rc = DG_ENOTFOUND;
	return rc;
}

dg_rc dg_cal_list_year(struct dg_db *db, int year, json_t **out)
{
	struct dg_rows *rows = NULL;
	*out = NULL;
	if (year < 1 || year > 9999)
		return DG_EINVAL;
	dg_day from = dg_day_from_ymd(year, 1, 1), to = dg_day_from_ymd(year + 1, 1, 1);
	dg_rc rc = dg_db_query(
		db,
		"SELECT day, kind, name, name_en FROM holidays WHERE day >= ? AND day < ?"
		" ORDER BY day",
		DG_ARGS(DG_VI(from), DG_VI(to)), &rows);
	json_t *list = json_array();
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		dg_day day = (dg_day)dg_rows_int(rows, 0);
		char date[11];
		dg_day_format(day, date);
		json_array_append_new(
			list, json_pack("{s:s, s:I, s:i, s:I, s:s, s:s}", "date", date, "day",
					(json_int_t)day, "weekday", dg_day_weekday(day), "kind",
					(json_int_t)dg_rows_int(rows, 1), "name",
					dg_rows_text(rows, 2), "name_en", dg_rows_text(rows, 3)));
	}
	dg_rows_free(rows);
	if (rc != DG_ENOTFOUND) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return DG_OK;
}

/* ---- the demo region's calendar ---- */

struct span {
	int y, m, d, days; /* first day and how many */
	int kind;
	const char *name, *name_en;
};

/*
 * 2026: the State Council's arrangement (国务院办公厅关于2026年部分节假日安排的
 * 通知), holidays with the weekend days worked in exchange.
 * 2027: no arrangement was published when this was written, so only the
 * statutory holiday days themselves are listed (元旦 1 day, 春节 除夕 to 初三,
 * 清明, 劳动节 2 days, 端午, 中秋, 国庆节 3 days), without 调休; replace them
 * from /admin/holidays once the year's notice is out.
 */
static const struct span demo_days[] = {
	{2026, 1, 1, 3, DG_DAY_HOLIDAY, "元旦", "New Year's Day"},
	{2026, 1, 4, 1, DG_DAY_WORKDAY, "元旦调休上班",
	 "Working day in exchange for New Year's Day"},
	{2026, 2, 14, 1, DG_DAY_WORKDAY, "春节调休上班",
	 "Working day in exchange for the Spring Festival"},
	{2026, 2, 15, 9, DG_DAY_HOLIDAY, "春节", "Spring Festival"},
	{2026, 2, 28, 1, DG_DAY_WORKDAY, "春节调休上班",
	 "Working day in exchange for the Spring Festival"},
	{2026, 4, 4, 3, DG_DAY_HOLIDAY, "清明节", "Qingming Festival"},
	{2026, 5, 1, 5, DG_DAY_HOLIDAY, "劳动节", "Labour Day"},
	{2026, 5, 9, 1, DG_DAY_WORKDAY, "劳动节调休上班", "Working day in exchange for Labour Day"},
	{2026, 6, 19, 3, DG_DAY_HOLIDAY, "端午节", "Dragon Boat Festival"},
	{2026, 9, 20, 1, DG_DAY_WORKDAY, "国庆节调休上班",
	 "Working day in exchange for National Day"},
	{2026, 9, 25, 3, DG_DAY_HOLIDAY, "中秋节", "Mid-Autumn Festival"},
	{2026, 10, 1, 7, DG_DAY_HOLIDAY, "国庆节", "National Day"},
	{2026, 10, 10, 1, DG_DAY_WORKDAY, "国庆节调休上班",
	 "Working day in exchange for National Day"},
	{2027, 1, 1, 1, DG_DAY_HOLIDAY, "元旦", "New Year's Day"},
	{2027, 2, 5, 4, DG_DAY_HOLIDAY, "春节", "Spring Festival"},
	{2027, 4, 5, 1, DG_DAY_HOLIDAY, "清明节", "Qingming Festival"},
	{2027, 5, 1, 2, DG_DAY_HOLIDAY, "劳动节", "Labour Day"},
	{2027, 6, 9, 1, DG_DAY_HOLIDAY, "端午节", "Dragon Boat Festival"},
	{2027, 9, 15, 1, DG_DAY_HOLIDAY, "中秋节", "Mid-Autumn Festival"},
	{2027, 10, 1, 3, DG_DAY_HOLIDAY, "国庆节", "National Day"},
};

dg_rc dg_cal_demo_seed(struct dg_env *env, struct dg_db *db, const struct dg_demo_opts *o,
		       struct dg_err *err)
{
	(void)env;
	(void)o;
	dg_rc rc = DG_OK;
	for (size_t i = 0; !rc && i < sizeof(demo_days) / sizeof(demo_days[0]); i++) {
		const struct span *s = &demo_days[i];
		dg_day first = dg_day_from_ymd(s->y, s->m, s->d);
		for (int k = 0; !rc && k < s->days; k++)
			rc = dg_db_exec(
				db,
				"INSERT INTO holidays (day, kind, name, name_en, created_at)"
				" VALUES (?, ?, ?, ?, {{now_ms}})"
				" ON CONFLICT (day) DO NOTHING",
				DG_ARGS(DG_VI(first + k), DG_VI(s->kind), DG_VT(s->name),
					DG_VT(s->name_en)),
				NULL);
	}
	if (rc)
		dg_err_set(err, rc, "the holiday calendar could not be created");
	return rc;
}
