/*
 * case_query.c - lists over cases: a department's queue and an applicant's
 * cases, rectification tasks and their steps, and satisfaction figures.
 */
#include "cases/internal.h"

#include <stdio.h>
#include <string.h>

#include "cal/cal.h"
#include "core/buf.h"
#include "core/str.h"
#include "notify/notify.h"

/*
 * The last column says whether the applicant's material is the latest thing
 * to have happened: sent, and no one in the department has acted since.
 */
#define LIST_COLS                                                                                  \
	"c.ref, c.item_code, c.item_name_zh, c.item_name_en, c.status, c.updated_ms, "             \
	"c.submitted_ms,"                                                                          \
	" c.due_day, d.code, d.name_zh, d.name_en, u.name, c.on_behalf,"                           \
	" CASE WHEN (SELECT e.action FROM case_events e WHERE e.case_id = c.id AND e.action <> "   \
	"'reveal'"                                                                                 \
	" ORDER BY e.id DESC LIMIT 1) = 'supplement' THEN 1 ELSE 0 END"

/*
 * A department's queue: cases still open before those that have ended; of
 * the open, new submissions first (taking them in is due now), then by the
 * promised date; an applicant sees their latest first.
 */
#define QUEUE_ORDER                                                                                \
	"CASE WHEN c.status IN ('approved', 'denied', 'refused', 'withdrawn') THEN 1 ELSE 0 END,"  \
	" CASE WHEN c.status = 'submitted' THEN 0 ELSE 1 END, CASE WHEN c.due_day = 0 THEN 1 "     \
	"ELSE 0 END,"                                                                              \
	" c.due_day, c.id"

static const char *const statuses[] = {"draft",     "submitted", "accepted", "supplement",
				       "reviewed",  "approved",  "denied",   "refused",
				       "withdrawn", NULL};

int case_status_known(const char *s)
{
	for (size_t i = 0; s && statuses[i]; i++)
		if (!strcmp(s, statuses[i]))
			return 1;
	return 0;
}

const char *case_due_state(const struct dg_calendar *cal, const char *status, int64_t due)
{
	if (!due || (strcmp(status, "accepted") && strcmp(status, "reviewed")))
		return "";
	dg_day today = dg_day_today();
	if (due < today)
		return "overdue";
	return dg_workdays_between(cal, today, (dg_day)due) <= CASE_DUE_SOON_DAYS ? "due_soon"
										  : "ok";
}

dg_rc case_list(struct dg_db *db, const struct case_filter *f, json_t **out)
{
	/* the filter's conditions: fixed texts, so the cap is never reached */
	struct dg_buf wb;
	dg_buf_init(&wb, 512);
	dg_rc brc = dg_buf_adds(&wb, " WHERE 1 = 1");
	struct dg_val args[8];
	size_t n = 0;
	dg_day today = dg_day_today(), soon = 0;
	*out = NULL;
	if (f->dept_id) {
		brc = brc ? brc : dg_buf_adds(&wb, " AND c.dept_id = ? AND c.status <> 'draft'");
		args[n++] = DG_VI(f->dept_id);
	}
	if (f->applicant) {
		brc = brc ? brc : dg_buf_adds(&wb, " AND c.applicant_id = ?");
		args[n++] = DG_VI(f->applicant);
	}
	if (!f->dept_id && !f->applicant)
		brc = brc ? brc : dg_buf_adds(&wb, " AND c.status <> 'draft'");
	const char *st = f->status && *f->status ? f->status : NULL;
	if (st && !strcmp(st, "open")) {
		brc = brc ? brc
			  : dg_buf_adds(&wb, " AND c.status IN ('submitted', 'accepted', "
					     "'supplement', 'reviewed')");
	} else if (st && !strcmp(st, "overdue")) {
		brc = brc ? brc
			  : dg_buf_adds(
				    &wb,
				    " AND c.status IN ('accepted', 'reviewed') AND c.due_day < ?");
		args[n++] = DG_VI(today);
	} else if (st && !strcmp(st, "due_soon")) {
		dg_rc rc = dg_cal_workdays_add(db, today, CASE_DUE_SOON_DAYS, &soon);
		if (rc) {
			dg_buf_release(&wb);
			return rc;
		}
		brc = brc ? brc
			  : dg_buf_adds(&wb, " AND c.status IN ('accepted', 'reviewed') AND "
					     "c.due_day >= ? AND c.due_day <= ?");
		args[n++] = DG_VI(today);
		args[n++] = DG_VI(soon);
	} else if (st) {
		if (!case_status_known(st)) {
			dg_buf_release(&wb);
			return DG_EINVAL;
		}
		brc = brc ? brc : dg_buf_adds(&wb, " AND c.status = ?");
		args[n++] = DG_VT(st);
	}
	if (f->item && *f->item) {
		brc = brc ? brc : dg_buf_adds(&wb, " AND c.item_code = ?");
		args[n++] = DG_VT(f->item);
	}
	if (f->due_before) {
		brc = brc ? brc : dg_buf_adds(&wb, " AND c.due_day > 0 AND c.due_day < ?");
		args[n++] = DG_VI(f->due_before);
	}
	char where[512];
	snprintf(where, sizeof(where), "%s", brc ? "" : dg_buf_str(&wb));
	dg_buf_release(&wb);
	if (brc)
		return brc;
	int64_t total = 0, page = f->page > 0 ? f->page : 1;
	char sql[2048]; /* the longest list query with the longest filter fits */
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM cases c%s", where);
	dg_rc rc = dg_db_query_int(db, sql, args, n, &total);
	if (rc)
		return rc;
	snprintf(sql, sizeof(sql),
		 "SELECT " LIST_COLS " FROM cases c JOIN departments d ON d.id = c.dept_id"
		 " JOIN users u ON u.id = c.applicant_id%s ORDER BY %s LIMIT %d OFFSET %lld",
		 where, f->applicant ? "c.updated_ms DESC, c.id DESC" : QUEUE_ORDER, CASE_PAGE,
		 (long long)((page - 1) * CASE_PAGE));
	struct dg_rows *rw = NULL;
	struct dg_calendar cal; /* read once for the whole page, not per case */
	json_t *list = json_array();
	dg_calendar_init(&cal);
	rc = dg_cal_load(db, &cal);
	if (!rc)
		rc = dg_db_query(db, sql, args, n, &rw);
	while (!rc && (rc = dg_rows_next(rw)) == DG_OK) {
		const char *status = dg_rows_text(rw, 4);
		int64_t due = dg_rows_int(rw, 7);
		char day[11] = "";
		if (due)
			dg_day_format((dg_day)due, day);
		const char *state = case_due_state(&cal, status, due);
		json_array_append_new(
			list,
			json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s, "
				  "s:s, s:s, s:b}",
				  "ref", dg_rows_text(rw, 0), "item_code", dg_rows_text(rw, 1),
				  "item_name_zh", dg_rows_text(rw, 2), "item_name_en",
				  dg_rows_text(rw, 3), "status", status, "updated_ms",
				  (json_int_t)dg_rows_int(rw, 5), "submitted_ms",
				  (json_int_t)dg_rows_int(rw, 6), "due_on", day, "due_state", state,
				  "dept", dg_rows_text(rw, 8), "dept_name_zh", dg_rows_text(rw, 9),
				  "dept_name_en", dg_rows_text(rw, 10), "applicant_name",
				  dg_rows_text(rw, 11), "on_behalf", dg_rows_text(rw, 12),
				  "supplied", dg_rows_int(rw, 13) != 0));
	}
	dg_rows_free(rw);
	dg_calendar_release(&cal);
	if (rc != DG_ENOTFOUND) {
		json_decref(list);
		return rc;
	}
	*out = json_pack("{s:I, s:I, s:I, s:o}", "total", (json_int_t)total, "page",
			 (json_int_t)page, "per_page", (json_int_t)CASE_PAGE, "cases", list);
	return DG_OK;
}

/* ---- rectification --------------------------------------------------- */

#define RECT_SELECT                                                                                \
	"SELECT x.id, x.stage, x.due_day, x.finding, x.action_taken, x.reply, x.review, "          \
	"x.created_ms,"                                                                            \
	" x.updated_ms, c.ref, c.item_name_zh, c.item_name_en, r.level, r.comment, x.dept_id, "    \
	"c.applicant_id"                                                                           \
	" FROM case_rectifications x JOIN cases c ON c.id = x.case_id JOIN case_ratings r ON "     \
	"r.id = x.rating_id"

static json_t *rect_json(struct dg_rows *rw)
{
	char day[11];
	dg_day_format((dg_day)dg_rows_int(rw, 2), day);
	const char *stage = dg_rows_text(rw, 1);
	return json_pack("{s:I, s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:I, "
			 "s:s, s:I, s:I}",
			 "id", (json_int_t)dg_rows_int(rw, 0), "stage", stage, "due_on", day,
			 "overdue", strcmp(stage, "closed") && dg_rows_int(rw, 2) < dg_day_today(),
			 "finding", dg_rows_text(rw, 3), "action_taken", dg_rows_text(rw, 4),
			 "reply", dg_rows_text(rw, 5), "review", dg_rows_text(rw, 6), "created_ms",
			 (json_int_t)dg_rows_int(rw, 7), "updated_ms",
			 (json_int_t)dg_rows_int(rw, 8), "ref", dg_rows_text(rw, 9), "item_name_zh",
			 dg_rows_text(rw, 10), "item_name_en", dg_rows_text(rw, 11), "level",
			 (json_int_t)dg_rows_int(rw, 12), "comment", dg_rows_text(rw, 13),
			 "dept_id", (json_int_t)dg_rows_int(rw, 14), "applicant_id",
			 (json_int_t)dg_rows_int(rw, 15));
}

dg_rc case_rectify_list(struct dg_db *db, int64_t dept_id, json_t **out)
{
	struct dg_rows *rw = NULL;
	json_t *list = json_array();
	dg_rc rc = dg_db_query(db,
			       RECT_SELECT " WHERE (? = 0 OR x.dept_id = ?)"
					   " ORDER BY CASE WHEN x.stage = 'closed' THEN 1 ELSE 0 "
					   "END, x.due_day, x.id LIMIT 200",
			       DG_ARGS(DG_VI(dept_id), DG_VI(dept_id)), &rw);
	while (!rc && (rc = dg_rows_next(rw)) == DG_OK)
		json_array_append_new(list, rect_json(rw));
	dg_rows_free(rw);
	if (rc != DG_ENOTFOUND) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return DG_OK;
}

static dg_rc rect_one(struct dg_db *db, const char *sql, const struct dg_val *args, size_t n,
		      json_t **out)
{
	struct dg_rows *rw = NULL;
	*out = NULL;
	dg_rc rc = dg_db_query(db, sql, args, n, &rw);
	if (!rc)
		rc = dg_rows_next(rw);
	if (!rc)
		*out = rect_json(rw);
	dg_rows_free(rw);
	return rc;
}

dg_rc case_rectify_get(struct dg_db *db, int64_t id, int64_t dept_id, json_t **out)
{
	return rect_one(db, RECT_SELECT " WHERE x.id = ? AND (? = 0 OR x.dept_id = ?)",
			DG_ARGS(DG_VI(id), DG_VI(dept_id), DG_VI(dept_id)), out);
}

dg_rc case_rectify_of_case(struct dg_db *db, int64_t case_id, json_t **out)
{
	return rect_one(db, RECT_SELECT " WHERE x.case_id = ?", DG_ARGS(DG_VI(case_id)), out);
}

/*
 * One step: verify (what was found) -> rectify (what was done) -> reply (to
 * the applicant, who is told) -> review (a reviewer closes it).
 */
dg_rc case_rectify_step(struct dg_db *db, int64_t id, const struct case_actor *who,
			const char *text, struct dg_err *err)
{
	static const struct {
		const char *stage, *column, *next;
	} steps[] = {
		{"verify", "finding", "rectify"},
		{"rectify", "action_taken", "reply"},
		{"reply", "reply", "review"},
		{"review", "review", "closed"},
	};
	json_t *x = NULL;
	if (who->role != DG_ROLE_STAFF)
		return dg_err_set(err, DG_ENOTFOUND, "cases.err.no_task");
	dg_rc rc = case_rectify_get(db, id, who->dept_id, &x);
	if (rc)
		return dg_err_set(err, rc,
				  rc == DG_ENOTFOUND ? "cases.err.no_task" : "error.store");
	const char *stage = json_string_value(json_object_get(x, "stage"));
	size_t k;
	for (k = 0; k < 4; k++)
		if (!strcmp(stage, steps[k].stage))
			break;
	if (k == 4) {
		json_decref(x);
		return dg_err_set(err, DG_ECONFLICT, "cases.err.task_closed");
	}
	if (k == 3 && !case_has_role(who->staff_roles, "review") &&
	    !case_has_role(who->staff_roles, "approve")) {
		json_decref(x);
		return dg_err_set(err, DG_EDENIED, "cases.err.role");
	}
	size_t len = text ? strlen(text) : 0;
	if (!len || len > CASE_TEXT_MAX || !dg_utf8_valid(text, len)) {
		json_decref(x);
		return dg_err_field(err, DG_EINVAL, "text", "cases.err.text");
	}
	char sql[200];
	int64_t changed = 0;
	struct dg_arena *a = dg_arena_new();
	snprintf(sql, sizeof(sql),
		 "UPDATE case_rectifications SET %s = ?, stage = ?, updated_ms = ? WHERE id = ? "
		 "AND stage = ?",
		 steps[k].column);
	rc = dg_db_exec(db, sql,
			DG_ARGS(DG_VT(case_seal_text(who->keys, a, text)), DG_VT(steps[k].next),
				DG_VI(dg_now_ms()), DG_VI(id), DG_VT(stage)),
			&changed);
	dg_arena_free(a);
	if (!rc && changed != 1)
		rc = DG_ECONFLICT;
	if (!rc && k == 2) {
		char link[64];
		const char *ref = json_string_value(json_object_get(x, "ref"));
		snprintf(link, sizeof(link), "/my/cases/%s", ref);
		json_t *p = json_pack(
			"{s:s, s:s, s:s, s:s}", "ref", ref, "service",
			json_string_value(json_object_get(x, "item_name_zh")), "service_en",
			json_string_value(json_object_get(x, "item_name_en")), "reply", text);
		rc = dg_notify(db, json_integer_value(json_object_get(x, "applicant_id")),
			       "rating.replied", p, link, err);
		json_decref(p);
	}
	json_decref(x);
	if (rc && !err->msg[0])
		dg_err_set(err, rc, rc == DG_ECONFLICT ? "cases.err.task_closed" : "error.store");
	return rc;
}

/* ---- satisfaction ---------------------------------------------------- */

/* Rows of (key, name_zh, name_en, count, sum of levels, satisfied count) -> list. */
static dg_rc figures(struct dg_db *db, const char *sql, json_t *list)
{
	struct dg_rows *rw = NULL;
	dg_rc rc = dg_db_query(db, sql, DG_NOARGS, &rw);
	while (!rc && (rc = dg_rows_next(rw)) == DG_OK) {
		int64_t n = dg_rows_int(rw, 3), sum = dg_rows_int(rw, 4), good = dg_rows_int(rw, 5);
		char avg[16], pct[16];
		snprintf(avg, sizeof(avg), "%.2f", n ? (double)sum / (double)n : 0.0);
		snprintf(pct, sizeof(pct), "%.1f", n ? 100.0 * (double)good / (double)n : 0.0);
		json_array_append_new(list,
				      json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:I}", "key",
						dg_rows_text(rw, 0), "name_zh", dg_rows_text(rw, 1),
						"name_en", dg_rows_text(rw, 2), "ratings",
						(json_int_t)n, "average", avg, "satisfied_pct", pct,
						"unsatisfied", (json_int_t)(n - good)));
	}
	dg_rows_free(rw);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

dg_rc case_satisfaction(struct dg_db *db, json_t **out)
{
	json_t *items = json_array(), *depts = json_array();
	/* satisfied: 基本满意 and better (levels 3 to 5), as the national 好差评 figures count it
	 */
	dg_rc rc = figures(
		db,
		"SELECT c.item_code, MIN(c.item_name_zh), MIN(c.item_name_en), COUNT(*), "
		"SUM(r.level),"
		" SUM(CASE WHEN r.level >= 3 THEN 1 ELSE 0 END) FROM case_ratings r"
		" JOIN cases c ON c.id = r.case_id GROUP BY c.item_code ORDER BY c.item_code",
		items);
	if (!rc)
		rc = figures(
			db,
			"SELECT d.code, MIN(d.name_zh), MIN(d.name_en), COUNT(*), SUM(r.level),"
			" SUM(CASE WHEN r.level >= 3 THEN 1 ELSE 0 END) FROM case_ratings r"
			" JOIN cases c ON c.id = r.case_id JOIN departments d ON d.id = c.dept_id"
			" GROUP BY d.code ORDER BY d.code",
			depts);
	int64_t total = 0;
	if (!rc)
		rc = dg_db_query_int(db, "SELECT COUNT(*) FROM case_ratings", DG_NOARGS, &total);
	if (rc) {
		json_decref(items);
		json_decref(depts);
		return rc;
	}
	*out = json_pack("{s:o, s:o, s:I}", "items", items, "depts", depts, "total",
			 (json_int_t)total);
	return DG_OK;
}

dg_rc case_attention(struct dg_db *db, const struct dg_user *u, json_t **out)
{
	/*
	 * An applicant: cases waiting for their material, saved applications, and
	 * certificates issued in the last 30 days (at most five of each listed).
	 * Staff: their department's new submissions, material received and not
	 * yet acted on, and cases past their promised date.
	 */
	json_t *o = json_object();
	struct dg_rows *rw = NULL;
	dg_rc rc = DG_OK;
	int64_t n = 0;
	*out = NULL;
	if (u->role == DG_ROLE_STAFF) {
		static const char *const counts[][2] = {
			{"new", "SELECT COUNT(*) FROM cases c WHERE c.dept_id = ? AND c.status = "
				"'submitted' AND ? > 0"},
			{"supplied",
			 "SELECT COUNT(*) FROM cases c WHERE c.dept_id = ? AND c.status IN"
			 " ('submitted', 'accepted', 'reviewed') AND (SELECT e.action FROM "
			 "case_events e"
			 " WHERE e.case_id = c.id AND e.action <> 'reveal' ORDER BY e.id DESC "
			 "LIMIT 1)"
			 " = 'supplement' AND ? > 0"},
			{"overdue",
			 "SELECT COUNT(*) FROM cases c WHERE c.dept_id = ? AND c.status IN"
			 " ('accepted', 'reviewed') AND c.due_day > 0 AND c.due_day < ?"},
		};
		for (size_t i = 0; !rc && i < sizeof(counts) / sizeof(counts[0]); i++) {
			rc = dg_db_query_int(db, counts[i][1],
					     DG_ARGS(DG_VI(u->dept_id), DG_VI(dg_day_today())), &n);
			if (!rc)
				json_object_set_new(o, counts[i][0], json_integer(n));
		}
		goto out;
	}
	static const char *const lists[][2] = {
		{"supplement",
		 "SELECT ref, item_name_zh, item_name_en, '' FROM cases WHERE applicant_id = ?"
		 " AND status = 'supplement' AND ? > 0 ORDER BY updated_ms DESC LIMIT 5"},
		{"drafts",
		 "SELECT ref, item_name_zh, item_name_en, '' FROM cases WHERE applicant_id = ?"
		 " AND status = 'draft' AND ? > 0 ORDER BY updated_ms DESC LIMIT 5"},
		{"certs",
		 "SELECT ref, item_name_zh, item_name_en, cert_id FROM cases WHERE applicant_id = ?"
		 " AND status = 'approved' AND cert_id <> '' AND decided_ms > ?"
		 " ORDER BY decided_ms DESC LIMIT 5"},
	};
	int64_t since = dg_now_ms() - (int64_t)30 * 24 * 3600 * 1000;
	for (size_t i = 0; !rc && i < sizeof(lists) / sizeof(lists[0]); i++) {
		json_t *l = json_array();
		json_object_set_new(o, lists[i][0], l);
		rc = dg_db_query(db, lists[i][1], DG_ARGS(DG_VI(u->id), DG_VI(i == 2 ? since : 1)),
				 &rw);
		while (!rc && (rc = dg_rows_next(rw)) == DG_OK)
			json_array_append_new(
				l, json_pack("{s:s, s:s, s:s, s:s}", "ref", dg_rows_text(rw, 0),
					     "name_zh", dg_rows_text(rw, 1), "name_en",
					     dg_rows_text(rw, 2), "cert_id", dg_rows_text(rw, 3)));
		dg_rows_free(rw);
		rw = NULL;
		if (rc == DG_ENOTFOUND)
			rc = DG_OK;
	}
	if (!rc)
		rc = dg_notify_unread(db, u->id, &n);
	if (!rc)
		json_object_set_new(o, "unread", json_integer(n));
out:
	if (rc)
		json_decref(o);
	else
		*out = o;
	return rc;
}
