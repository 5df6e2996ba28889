/*
 * case_sql.c - the cases' schema, their transitions and every statement on
 * them. internal.h has the state machine.
 *
 * Each transition is one guarded UPDATE (WHERE status = the status it came
 * from), so of two staff acting on the same case at once one wins and the
 * other gets ECONFLICT; its event row and the applicant's inbox message are
 * written in the same transaction.
 */
#include "cases/internal.h"

#include <stdio.h>
#include <string.h>

#include "core/keys.h"
#include "cal/cal.h"
#include "cert/cert.h"
#include "catalog/catalog.h"
#include "core/mem.h"
#include "core/rand.h"
#include "core/str.h"
#include "node/env.h"
#include "notify/notify.h"

const struct dg_migration dg_cases_migrations[] = {
	{"cases-001-cases",
	 "CREATE TABLE cases ("
	 " id {{pk}}, ref TEXT NOT NULL UNIQUE, item_code TEXT NOT NULL, item_version BIGINT NOT "
	 "NULL,"
	 " item_name_zh TEXT NOT NULL, item_name_en TEXT NOT NULL, promised_days BIGINT NOT NULL,"
	 " dept_id BIGINT NOT NULL REFERENCES departments(id),"
	 " applicant_id BIGINT NOT NULL REFERENCES users(id), on_behalf TEXT NOT NULL DEFAULT '',"
	 " status TEXT NOT NULL, form TEXT NOT NULL, answers TEXT NOT NULL, prefilled TEXT NOT "
	 "NULL,"
	 " created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL, submitted_ms BIGINT NOT NULL "
	 "DEFAULT 0,"
	 " accepted_day BIGINT NOT NULL DEFAULT 0, due_day BIGINT NOT NULL DEFAULT 0,"
	 " paused_day BIGINT NOT NULL DEFAULT 0, paused_from TEXT NOT NULL DEFAULT '',"
	 " decided_ms BIGINT NOT NULL DEFAULT 0, reason TEXT NOT NULL DEFAULT '',"
	 " cert_id TEXT NOT NULL DEFAULT '');"
	 "CREATE INDEX cases_queue ON cases(dept_id, status, due_day);"
	 "CREATE INDEX cases_applicant ON cases(applicant_id, updated_ms);"
	 "CREATE TABLE case_events ("
	 " id {{pk}}, case_id BIGINT NOT NULL REFERENCES cases(id), at_ms BIGINT NOT NULL,"
	 " actor_id BIGINT NOT NULL, action TEXT NOT NULL, from_status TEXT NOT NULL,"
	 " to_status TEXT NOT NULL, note TEXT NOT NULL, dept_id BIGINT NOT NULL);"
	 "CREATE INDEX case_events_case ON case_events(case_id, id);"
	 "CREATE TABLE case_files ("
	 " id {{pk}}, case_id BIGINT NOT NULL REFERENCES cases(id), field TEXT NOT NULL,"
	 " filename TEXT NOT NULL, mime TEXT NOT NULL, size BIGINT NOT NULL, sha256 TEXT NOT NULL,"
	 " stored TEXT NOT NULL, stage TEXT NOT NULL, created_ms BIGINT NOT NULL);"
	 "CREATE INDEX case_files_case ON case_files(case_id, id);"
	 "CREATE TABLE case_ratings ("
	 " id {{pk}}, case_id BIGINT NOT NULL UNIQUE REFERENCES cases(id), level BIGINT NOT NULL,"
	 " comment TEXT NOT NULL, created_ms BIGINT NOT NULL);"
	 "CREATE TABLE case_rectifications ("
	 " id {{pk}}, rating_id BIGINT NOT NULL UNIQUE REFERENCES case_ratings(id),"
	 " case_id BIGINT NOT NULL REFERENCES cases(id), dept_id BIGINT NOT NULL, stage TEXT NOT "
	 "NULL,"
	 " due_day BIGINT NOT NULL, finding TEXT NOT NULL DEFAULT '', action_taken TEXT NOT NULL "
	 "DEFAULT '',"
	 " reply TEXT NOT NULL DEFAULT '', review TEXT NOT NULL DEFAULT '', created_ms BIGINT NOT "
	 "NULL,"
	 " updated_ms BIGINT NOT NULL);"
	 "CREATE INDEX case_rect_dept ON case_rectifications(dept_id, stage, due_day);"},
	{NULL, NULL},
};

static const char *str_of(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

int case_has_role(const char *roles, const char *role)
{
	const char *s = roles ? roles : "";
	size_t n = strlen(role);
	while (*s) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if (len == n && !strncmp(s, role, n))
			return 1;
		s += len + (e ? 1 : 0);
	}
	return 0;
}

void case_actor_of(const struct dg_req *r, struct case_actor *a)
{
	memset(a, 0, sizeof(*a));
	a->keys = &r->env->keys;
	if (!r->user)
		return;
	a->user_id = r->user->id;
	a->role = r->user->role;
	a->dept_id = r->user->dept_id;
	a->staff_roles = r->user->staff_roles;
	a->keys = &r->env->keys;
}

const char *case_may_apply(const struct case_actor *who, const json_t *item)
{
	const char *aud = str_of(item, "audience");
	if (!strcmp(str_of(item, "depth"), "info"))
		return "cases.err.counter_only";
	if ((who->role == DG_ROLE_AGENT && !strcmp(aud, "person")) ||
	    (who->role == DG_ROLE_CITIZEN && !strcmp(aud, "enterprise")))
		return "cases.err.audience";
	return NULL;
}

/* ---- creating and reading ------------------------------------------- */

static const char *const prefill_keys[] = {"name", "phone", "id_number", "org_name", "uscc", NULL};

static dg_rc add_event(struct dg_db *db, int64_t id, const struct case_actor *who,
		       const char *action, const char *from, const char *to, const char *note,
		       int64_t dept);
static dg_rc tell(struct dg_db *db, const json_t *c, const char *kind, const json_t *extra,
		  struct dg_err *err);

dg_rc case_create(struct dg_db *db, const json_t *item, const struct case_actor *who,
		  const json_t *me, char ref[CASE_REF_MAX], struct dg_err *err)
{
	json_t *draft = case_draft_new(item, me);
	dg_rc rc = case_insert(db, item, who, me, draft, false, ref, err);
	json_decref(draft);
	return rc;
}

json_t *case_draft_new(const json_t *item, const json_t *me)
{
	json_t *form = dg_itemform_of(item), *answers = json_object(), *pre = json_array(), *p, *f;
	size_t i, j;
	json_array_foreach (json_object_get(form, "pages"), i, p)
		json_array_foreach (json_object_get(p, "fields"), j, f) {
			const char *src = str_of(f, "prefill");
			for (size_t k = 0; *src && prefill_keys[k]; k++) {
				const char *v = str_of(me, src);
				if (!strcmp(src, prefill_keys[k]) && *v) {
					json_object_set_new(answers, str_of(f, "name"),
							    json_string(v));
					json_array_append_new(pre, json_string(str_of(f, "name")));
				}
			}
		}
	return json_pack("{s:o, s:o, s:o}", "form", form, "answers", answers, "prefilled", pre);
}

dg_rc case_insert(struct dg_db *db, const json_t *item, const struct case_actor *who,
		  const json_t *me, json_t *draft, bool submit, char ref[CASE_REF_MAX],
		  struct dg_err *err)
{
	/* the answers hold the account's ID number and phone: they are stored sealed */
	char *form_s = json_dumps(json_object_get(draft, "form"), JSON_COMPACT),
	     *ans_s = case_seal_answers(who->keys, json_object_get(draft, "answers")),
	     *pre_s = json_dumps(json_object_get(draft, "prefilled"), JSON_COMPACT), tmp[40];
	int64_t id = 0, now = dg_now_ms();
	dg_rand_hex(tmp, 16);
	const char *behalf = who->role == DG_ROLE_AGENT ? str_of(me, "org_name") : "";
	if (!form_s || !ans_s || !pre_s) {
		free(form_s);
		free(ans_s);
		free(pre_s);
		return dg_err_set(err, DG_EINTERNAL, "error.store");
	}
	/* a case submitted as it is started is written submitted: no draft row to move on */
	dg_rc rc = dg_db_query_int(
		db,
		"INSERT INTO cases (ref, item_code, item_version, item_name_zh, item_name_en, "
		"promised_days, dept_id,"
		" applicant_id, on_behalf, status, form, answers, prefilled, created_ms, "
		"updated_ms, submitted_ms)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
		DG_ARGS(DG_VT(tmp), DG_VT(str_of(item, "code")),
			DG_VI(json_integer_value(json_object_get(item, "version"))),
			DG_VT(str_of(item, "name_zh")), DG_VT(str_of(item, "name_en")),
			DG_VI(json_integer_value(json_object_get(item, "promised_days"))),
			DG_VI(json_integer_value(json_object_get(item, "dept_id"))),
			DG_VI(who->user_id), DG_VT(behalf), DG_VT(submit ? "submitted" : "draft"),
			DG_VT(form_s), DG_VT(ans_s), DG_VT(pre_s), DG_VI(now), DG_VI(now),
			DG_VI(submit ? now : 0)),
		&id);
	free(form_s);
	free(ans_s);
	free(pre_s);
	if (rc)
		return dg_err_set(err, rc, "error.store");
	/* the reference: the day it was started and the row id, readable over the phone */
	int y, m, d;
	dg_day_to_ymd(dg_day_today(), &y, &m, &d);
	snprintf(ref, CASE_REF_MAX, "%04d%02d%02d-%06lld", y, m, d, (long long)id);
	rc = dg_db_exec(db, "UPDATE cases SET ref = ? WHERE id = ?", DG_ARGS(DG_VT(ref), DG_VI(id)),
			NULL);
	if (rc)
		return dg_err_set(err, rc, "error.store");
	json_object_set_new(draft, "id", json_integer(id));
	if (!submit)
		return DG_OK;
	int64_t dept = json_integer_value(json_object_get(item, "dept_id"));
	rc = add_event(db, id, who, "submit", "draft", "submitted", "", dept);
	if (rc)
		return dg_err_set(err, rc, "error.store");
	json_t *c = json_pack("{s:s, s:s, s:s, s:I}", "ref", ref, "item_name_zh",
			      str_of(item, "name_zh"), "item_name_en", str_of(item, "name_en"),
			      "applicant_id", (json_int_t)who->user_id);
	rc = tell(db, c, "case.submitted", NULL, err);
	json_decref(c);
	return rc;
}

#define CASE_COLS                                                                                  \
	"c.id, c.ref, c.item_code, c.item_name_zh, c.item_name_en, c.dept_id, d.code, d.name_zh, " \
	"d.name_en,"                                                                               \
	" c.applicant_id, u.name, c.on_behalf, c.status, c.created_ms, c.updated_ms, "             \
	"c.submitted_ms,"                                                                          \
	" c.accepted_day, c.due_day, c.paused_day, c.paused_from, c.decided_ms, c.reason, "        \
	"c.cert_id,"                                                                               \
	" c.promised_days"
#define CASE_FROM                                                                                  \
	" FROM cases c JOIN departments d ON d.id = c.dept_id JOIN users u ON u.id = "             \
	"c.applicant_id"

static json_t *day_json(int64_t day)
{
	char s[11];
	if (!day)
		return json_null();
	dg_day_format((dg_day)day, s);
	return json_string(s);
}

static json_t *case_row(struct dg_rows *rw)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(dg_rows_int(rw, 0)));
	static const char *const texts[] = {"ref", "item_code", "item_name_zh", "item_name_en"};
	for (int c = 0; c < 4; c++)
		json_object_set_new(o, texts[c], json_string(dg_rows_text(rw, 1 + c)));
	json_object_set_new(o, "dept_id", json_integer(dg_rows_int(rw, 5)));
	json_object_set_new(o, "dept", json_string(dg_rows_text(rw, 6)));
	json_object_set_new(o, "dept_name_zh", json_string(dg_rows_text(rw, 7)));
	json_object_set_new(o, "dept_name_en", json_string(dg_rows_text(rw, 8)));
	json_object_set_new(o, "applicant_id", json_integer(dg_rows_int(rw, 9)));
	json_object_set_new(o, "applicant_name", json_string(dg_rows_text(rw, 10)));
	json_object_set_new(o, "on_behalf", json_string(dg_rows_text(rw, 11)));
	const char *status = dg_rows_text(rw, 12);
	json_object_set_new(o, "status", json_string(status));
	json_object_set_new(o, "created_ms", json_integer(dg_rows_int(rw, 13)));
	json_object_set_new(o, "updated_ms", json_integer(dg_rows_int(rw, 14)));
	json_object_set_new(o, "submitted_ms", json_integer(dg_rows_int(rw, 15)));
	json_object_set_new(o, "accepted_on", day_json(dg_rows_int(rw, 16)));
	json_object_set_new(o, "due_on", day_json(dg_rows_int(rw, 17)));
	json_object_set_new(o, "due_day", json_integer(dg_rows_int(rw, 17)));
	json_object_set_new(o, "paused_on", day_json(dg_rows_int(rw, 18)));
	json_object_set_new(o, "paused_from", json_string(dg_rows_text(rw, 19)));
	json_object_set_new(o, "decided_ms", json_integer(dg_rows_int(rw, 20)));
	json_object_set_new(o, "reason", json_string(dg_rows_text(rw, 21)));
	json_object_set_new(o, "cert_id", json_string(dg_rows_text(rw, 22)));
	json_object_set_new(o, "promised_days", json_integer(dg_rows_int(rw, 23)));
	return o;
}

static int may_see(const struct case_actor *who, const json_t *c)
{
	if (who->role == DG_ROLE_ADMIN)
		return 1;
	if (who->role == DG_ROLE_STAFF)
		return who->dept_id > 0 &&
		       json_integer_value(json_object_get(c, "dept_id")) == who->dept_id &&
		       strcmp(str_of(c, "status"), "draft") != 0;
	return json_integer_value(json_object_get(c, "applicant_id")) == who->user_id;
}

static dg_rc load_events(struct dg_db *db, int64_t id, json_t *c)
{
	struct dg_rows *rw = NULL;
	json_t *list = json_array();
	json_object_set_new(c, "events", list);
	dg_rc rc = dg_db_query(
		db,
		"SELECT e.at_ms, e.action, e.from_status, e.to_status, e.note, COALESCE(u.name, "
		"''),"
		" COALESCE(d.name_zh, ''), COALESCE(d.name_en, '')"
		" FROM case_events e LEFT JOIN users u ON u.id = e.actor_id"
		" LEFT JOIN departments d ON d.id = e.dept_id WHERE e.case_id = ? ORDER BY e.id",
		DG_ARGS(DG_VI(id)), &rw);
	while (!rc && (rc = dg_rows_next(rw)) == DG_OK)
		json_array_append_new(
			list,
			json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "at_ms",
				  (json_int_t)dg_rows_int(rw, 0), "action", dg_rows_text(rw, 1),
				  "from", dg_rows_text(rw, 2), "to", dg_rows_text(rw, 3), "note",
				  dg_rows_text(rw, 4), "actor", dg_rows_text(rw, 5), "dept_name_zh",
				  dg_rows_text(rw, 6), "dept_name_en", dg_rows_text(rw, 7)));
	dg_rows_free(rw);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

static dg_rc load_files(struct dg_db *db, const struct dg_keys *keys, int64_t id, json_t *c)
{
	struct dg_rows *rw = NULL;
	struct dg_arena *a = dg_arena_new();
	json_t *list = json_array();
	json_object_set_new(c, "files", list);
	dg_rc rc = dg_db_query(
		db,
		"SELECT id, field, filename, mime, size, stage, created_ms FROM case_files"
		" WHERE case_id = ? ORDER BY id",
		DG_ARGS(DG_VI(id)), &rw);
	while (!rc && (rc = dg_rows_next(rw)) == DG_OK) {
		/* a file's name often says whose it is: sealed like the answers (or from before
		 * that) */
		char *name = NULL;
		if (dg_pii_open(keys, a, dg_rows_text(rw, 2), &name) != DG_OK)
			name = dg_arena_strdup(a, dg_rows_text(rw, 2));
		json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:s, s:I, s:s, s:I}", "id",
						      (json_int_t)dg_rows_int(rw, 0), "field",
						      dg_rows_text(rw, 1), "filename", name, "mime",
						      dg_rows_text(rw, 3), "size",
						      (json_int_t)dg_rows_int(rw, 4), "stage",
						      dg_rows_text(rw, 5), "created_ms",
						      (json_int_t)dg_rows_int(rw, 6)));
	}
	dg_rows_free(rw);
	dg_arena_free(a);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

static dg_rc load_rating(struct dg_db *db, int64_t id, json_t *c)
{
	struct dg_rows *rw = NULL;
	dg_rc rc = dg_db_query(
		db, "SELECT level, comment, created_ms FROM case_ratings WHERE case_id = ?",
		DG_ARGS(DG_VI(id)), &rw);
	if (!rc && (rc = dg_rows_next(rw)) == DG_OK)
		json_object_set_new(c, "rating",
				    json_pack("{s:I, s:s, s:I}", "level",
					      (json_int_t)dg_rows_int(rw, 0), "comment",
					      dg_rows_text(rw, 1), "created_ms",
					      (json_int_t)dg_rows_int(rw, 2)));
	dg_rows_free(rw);
	if (rc && rc != DG_ENOTFOUND)
		return rc;
	json_t *x = NULL;
	rc = case_rectify_of_case(db, id, &x);
	if (!rc)
		json_object_set_new(c, "rectification", x);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

/* The bare row by ref, without the visibility check. */
static dg_rc row_by_ref(struct dg_db *db, const char *ref, json_t **out)
{
	struct dg_rows *rw = NULL;
	*out = NULL;
	if (!ref || strlen(ref) >= CASE_REF_MAX)
		return DG_ENOTFOUND;
	dg_rc rc = dg_db_query(db, "SELECT " CASE_COLS CASE_FROM " WHERE c.ref = ?",
			       DG_ARGS(DG_VT(ref)), &rw);
	if (!rc)
		rc = dg_rows_next(rw);
	if (!rc)
		*out = case_row(rw);
	dg_rows_free(rw);
	return rc;
}

dg_rc case_get(struct dg_db *db, const char *ref, const struct case_actor *who, json_t **out,
	       struct dg_err *err)
{
	json_t *c = NULL;
	struct dg_rows *rw = NULL;
	*out = NULL;
	dg_rc rc = row_by_ref(db, ref, &c);
	if (!rc && !may_see(who, c))
		rc = DG_ENOTFOUND;
	if (rc) {
		json_decref(c);
		return dg_err_set(err, rc,
				  rc == DG_ENOTFOUND ? "cases.err.no_case" : "error.store");
	}
	int64_t id = json_integer_value(json_object_get(c, "id"));
	rc = dg_db_query(db, "SELECT form, answers, prefilled FROM cases WHERE id = ?",
			 DG_ARGS(DG_VI(id)), &rw);
	if (!rc)
		rc = dg_rows_next(rw);
	if (!rc) {
		json_t *form = json_loads(dg_rows_text(rw, 0), 0, NULL);
		json_t *pre = json_loads(dg_rows_text(rw, 2), 0, NULL);
		json_object_set_new(c, "form", form ? form : json_object());
		json_object_set_new(c, "answers",
				    case_open_answers(who->keys, dg_rows_text(rw, 1)));
		json_object_set_new(c, "prefilled", pre ? pre : json_array());
	}
	dg_rows_free(rw);
	if (!rc) {
		struct dg_calendar cal;
		dg_calendar_init(&cal);
		rc = dg_cal_load(db, &cal);
		if (!rc)
			json_object_set_new(
				c, "due_state",
				json_string(case_due_state(
					&cal, str_of(c, "status"),
					json_integer_value(json_object_get(c, "due_day")))));
		dg_calendar_release(&cal);
	}
	if (!rc)
		rc = load_events(db, id, c);
	if (!rc)
		rc = load_files(db, who->keys, id, c);
	if (!rc)
		rc = load_rating(db, id, c);
	if (rc) {
		json_decref(c);
		return dg_err_set(err, rc, "error.store");
	}
	*out = c;
	return DG_OK;
}

dg_rc case_save_answers(struct dg_db *db, const struct dg_keys *keys, int64_t case_id,
			const json_t *answers)
{
	char *s = case_seal_answers(keys, answers);
	int64_t n = 0;
	dg_rc rc = s ? dg_db_exec(db,
				  "UPDATE cases SET answers = ?, updated_ms = ? WHERE id = ? AND "
				  "status = 'draft'",
				  DG_ARGS(DG_VT(s), DG_VI(dg_now_ms()), DG_VI(case_id)), &n)
		     : DG_EINTERNAL;
	free(s);
	return rc ? rc : n == 1 ? DG_OK : DG_ECONFLICT;
}

dg_rc case_add_file(struct dg_db *db, const struct dg_keys *keys, int64_t case_id,
		    const char *field, const char *filename, const char *mime, int64_t size,
		    const char *sha256, const char *stored, const char *stage, int64_t *id_out)
{
	int64_t n = 0;
	struct dg_arena *a = dg_arena_new();
	filename = dg_pii_seal(keys, a, filename);
	dg_rc rc = dg_db_query_int(db, "SELECT COUNT(*) FROM case_files WHERE case_id = ?",
				   DG_ARGS(DG_VI(case_id)), &n);
	if (!rc && n >= CASE_FILES_MAX)
		rc = DG_ETOOBIG;
	if (!rc)
		rc = dg_db_query_int(db,
				     "INSERT INTO case_files (case_id, field, filename, mime, "
				     "size, sha256, stored, stage,"
				     " created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
				     DG_ARGS(DG_VI(case_id), DG_VT(field), DG_VT(filename),
					     DG_VT(mime), DG_VI(size), DG_VT(sha256), DG_VT(stored),
					     DG_VT(stage), DG_VI(dg_now_ms())),
				     id_out);
	dg_arena_free(a);
	return rc;
}

/* ---- transitions ----------------------------------------------------- */

static dg_rc add_event(struct dg_db *db, int64_t id, const struct case_actor *who,
		       const char *action, const char *from, const char *to, const char *note,
		       int64_t dept)
{
	struct dg_arena *a = dg_arena_new();
	/* what people type may hold an ID number or a phone: those are sealed */
	dg_rc rc = dg_db_exec(db,
			      "INSERT INTO case_events (case_id, at_ms, actor_id, action, "
			      "from_status, to_status, note,"
			      " dept_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			      DG_ARGS(DG_VI(id), DG_VI(dg_now_ms()), DG_VI(who->user_id),
				      DG_VT(action), DG_VT(from), DG_VT(to),
				      DG_VT(case_seal_text(who->keys, a, note ? note : "")),
				      DG_VI(dept)),
			      NULL);
	dg_arena_free(a);
	return rc;
}

/*
 * Tell the applicant: an inbox message of kind about case c, with the
 * reference and the service's names, and extra (borrowed, may be NULL) for
 * the kind's own placeholders.
 */
static dg_rc tell(struct dg_db *db, const json_t *c, const char *kind, const json_t *extra,
		  struct dg_err *err)
{
	char link[64];
	snprintf(link, sizeof(link), "/my/cases/%s", str_of(c, "ref"));
	json_t *p = json_pack("{s:s, s:s, s:s}", "ref", str_of(c, "ref"), "service",
			      str_of(c, "item_name_zh"), "service_en", str_of(c, "item_name_en"));
	if (extra)
		json_object_update(p, (json_t *)extra);
	dg_rc rc = dg_notify(db, json_integer_value(json_object_get(c, "applicant_id")), kind, p,
			     link, err);
	json_decref(p);
	return rc;
}

/*
 * Tell the staff of c's department (every active member: whoever picks the
 * case up next) that kind happened, with a link to the case in the office.
 */
static dg_rc tell_staff(struct dg_db *db, const json_t *c, const char *kind, struct dg_err *err)
{
	char link[64];
	snprintf(link, sizeof(link), "/office/cases/%s", str_of(c, "ref"));
	struct dg_rows *rw = NULL;
	dg_rc rc = dg_db_query(
		db,
		"SELECT id FROM users WHERE role = 'staff' AND dept_id = ? AND disabled = 0"
		" ORDER BY id",
		DG_ARGS(DG_VI(json_integer_value(json_object_get(c, "dept_id")))), &rw);
	json_t *p = json_pack("{s:s, s:s, s:s}", "ref", str_of(c, "ref"), "service",
			      str_of(c, "item_name_zh"), "service_en", str_of(c, "item_name_en"));
	/* ids first: a statement stays open on some stores while another runs */
	int64_t ids[64];
	size_t n = 0;
	while (!rc && (rc = dg_rows_next(rw)) == DG_OK)
		if (n < sizeof(ids) / sizeof(ids[0]))
			ids[n++] = dg_rows_int(rw, 0);
	dg_rows_free(rw);
	if (rc == DG_ENOTFOUND)
		rc = DG_OK;
	for (size_t i = 0; !rc && i < n; i++)
		rc = dg_notify(db, ids[i], kind, p, link, err);
	json_decref(p);
	return rc;
}

/* tell() with one extra placeholder. */
static dg_rc tell1(struct dg_db *db, const json_t *c, const char *kind, const char *key,
		   const char *val, struct dg_err *err)
{
	json_t *x = json_pack("{s:s}", key, val ? val : "");
	dg_rc rc = tell(db, c, kind, x, err);
	json_decref(x);
	return rc;
}

/*
 * Move case c from `from` to `to`, setting extra columns with set_sql
 * ("col = ?, ..." with its args, may be empty). ECONFLICT when the case is no
 * longer in `from` (someone acted first).
 */
static dg_rc move(struct dg_db *db, const json_t *c, const char *from, const char *to,
		  const char *set_sql, const struct dg_val *set_args, size_t nset)
{
	struct dg_val args[8];
	size_t n = 0;
	char sql[512];
	if (nset > 4)
		return DG_EINTERNAL;
	args[n++] = DG_VT(to);
	args[n++] = DG_VI(dg_now_ms());
	for (size_t i = 0; i < nset; i++)
		args[n++] = set_args[i];
	args[n++] = DG_VI(json_integer_value(json_object_get(c, "id")));
	args[n++] = DG_VT(from);
	snprintf(sql, sizeof(sql),
		 "UPDATE cases SET status = ?, updated_ms = ?%s%s WHERE id = ? AND status = ?",
		 *set_sql ? ", " : "", set_sql);
	int64_t changed = 0;
	dg_rc rc = dg_db_exec(db, sql, args, n, &changed);
	return rc ? rc : changed == 1 ? DG_OK : DG_ECONFLICT;
}

static int text_ok(const char *s, int required)
{
	if (!s || !*s)
		return !required;
	size_t n = strlen(s);
	return n <= CASE_TEXT_MAX && dg_utf8_valid(s, n);
}

/* Load the case for an applicant's action: theirs, else ENOTFOUND. */
static dg_rc own_case(struct dg_db *db, const char *ref, const struct case_actor *who, json_t **c,
		      struct dg_err *err)
{
	dg_rc rc = row_by_ref(db, ref, c);
	if (!rc && json_integer_value(json_object_get(*c, "applicant_id")) != who->user_id)
		rc = DG_ENOTFOUND;
	if (rc) {
		json_decref(*c);
		*c = NULL;
		return dg_err_set(err, rc,
				  rc == DG_ENOTFOUND ? "cases.err.no_case" : "error.store");
	}
	return DG_OK;
}

static dg_rc finish(dg_rc rc, json_t *c, struct dg_err *err, const char *conflict_key)
{
	json_decref(c);
	if (rc && !err->msg[0])
		dg_err_set(err, rc, "%s", rc == DG_ECONFLICT ? conflict_key : "error.store");
	return rc;
}

dg_rc case_submit(struct dg_db *db, const char *ref, const struct case_actor *who,
		  struct dg_err *err)
{
	json_t *c = NULL;
	dg_rc rc = own_case(db, ref, who, &c, err);
	if (rc)
		return rc;
	rc = move(db, c, "draft", "submitted", "submitted_ms = ?", DG_ARGS(DG_VI(dg_now_ms())));
	if (!rc)
		rc = add_event(db, json_integer_value(json_object_get(c, "id")), who, "submit",
			       "draft", "submitted", "",
			       json_integer_value(json_object_get(c, "dept_id")));
	if (!rc)
		rc = tell(db, c, "case.submitted", NULL, err);
	return finish(rc, c, err, "cases.err.not_draft");
}

dg_rc case_withdraw(struct dg_db *db, const char *ref, const struct case_actor *who,
		    struct dg_err *err)
{
	json_t *c = NULL;
	dg_rc rc = own_case(db, ref, who, &c, err);
	if (rc)
		return rc;
	int64_t at = json_integer_value(json_object_get(c, "submitted_ms"));
	if (strcmp(str_of(c, "status"), "submitted") || dg_now_ms() - at > CASE_WITHDRAW_MS)
		return finish(dg_err_set(err, DG_ECONFLICT, "cases.err.withdraw_late"), c, err, "");
	rc = move(db, c, "submitted", "withdrawn", "decided_ms = ?", DG_ARGS(DG_VI(dg_now_ms())));
	if (!rc)
		rc = add_event(db, json_integer_value(json_object_get(c, "id")), who, "withdraw",
			       "submitted", "withdrawn", "",
			       json_integer_value(json_object_get(c, "dept_id")));
	if (!rc)
		rc = tell(db, c, "case.withdrawn", NULL, err);
	return finish(rc, c, err, "cases.err.withdraw_late");
}

dg_rc case_answer_supplement(struct dg_db *db, const char *ref, const struct case_actor *who,
			     const char *note, struct dg_err *err)
{
	json_t *c = NULL;
	if (!text_ok(note, 1))
		return dg_err_field(err, DG_EINVAL, "note", "cases.err.note");
	dg_rc rc = own_case(db, ref, who, &c, err);
	if (rc)
		return rc;
	if (strcmp(str_of(c, "status"), "supplement"))
		return finish(dg_err_set(err, DG_ECONFLICT, "cases.err.no_supplement"), c, err, "");
	const char *back = str_of(c, "paused_from");
	int64_t due = json_integer_value(json_object_get(c, "due_day"));
	if (!strcmp(back, "accepted") || !strcmp(back, "reviewed")) {
		/* the clock stood still while the applicant was asked: move the due date on by that
		 */
		json_t *pd = json_object_get(c, "paused_on");
		dg_day paused = 0, today = dg_day_today();
		int waited = 0;
		if (json_is_string(pd) && dg_day_parse(json_string_value(pd), &paused) == DG_OK &&
		    paused < today)
			rc = dg_cal_workdays_between(db, paused, today, &waited);
		dg_day moved = (dg_day)due;
		if (!rc && waited > 0)
			rc = dg_cal_workdays_add(db, (dg_day)due, waited, &moved);
		due = moved;
	} else {
		back = "submitted";
	}
	if (!rc)
		rc = move(db, c, "supplement", back,
			  "due_day = ?, paused_day = 0, paused_from = '', reason = ''",
			  DG_ARGS(DG_VI(due)));
	if (!rc)
		rc = add_event(db, json_integer_value(json_object_get(c, "id")), who, "supplement",
			       "supplement", back, note,
			       json_integer_value(json_object_get(c, "dept_id")));
	if (!rc)
		rc = tell(db, c, "case.resumed", NULL, err);
	if (!rc)
		rc = tell_staff(db, c, "case.supplied", err);
	return finish(rc, c, err, "cases.err.no_supplement");
}

dg_rc case_rate(struct dg_db *db, const char *ref, const struct case_actor *who, int level,
		const char *comment, struct dg_err *err)
{
	json_t *c = NULL;
	int64_t rid = 0;
	if (level < 1 || level > 5)
		return dg_err_field(err, DG_EINVAL, "level", "cases.err.level");
	if (!text_ok(comment, level <= 2))
		return dg_err_field(err, DG_EINVAL, "comment",
				    level <= 2 ? "cases.err.comment_bad" : "cases.err.too_long");
	dg_rc rc = own_case(db, ref, who, &c, err);
	if (rc)
		return rc;
	const char *st = str_of(c, "status");
	if (strcmp(st, "approved") && strcmp(st, "denied") && strcmp(st, "refused"))
		return finish(dg_err_set(err, DG_ECONFLICT, "cases.err.not_ended"), c, err, "");
	int64_t id = json_integer_value(json_object_get(c, "id")), now = dg_now_ms();
	struct dg_arena *a = dg_arena_new();
	rc = dg_db_query_int(
		db,
		"INSERT INTO case_ratings (case_id, level, comment, created_ms) VALUES (?, ?, ?, ?)"
		" ON CONFLICT (case_id) DO NOTHING RETURNING id",
		DG_ARGS(DG_VI(id), DG_VI(level),
			DG_VT(case_seal_text(who->keys, a, comment ? comment : "")), DG_VI(now)),
		&rid);
	dg_arena_free(a);
	if (rc == DG_ENOTFOUND)
		return finish(dg_err_set(err, DG_ECONFLICT, "cases.err.rated"), c, err, "");
	if (!rc)
		rc = add_event(db, id, who, "rate", st, st, comment,
			       json_integer_value(json_object_get(c, "dept_id")));
	if (!rc && level <= 2) {
		/* 不满意 / 非常不满意: the department must verify, rectify, reply and have it
		 * reviewed */
		dg_day due = 0;
		rc = dg_cal_workdays_add(db, dg_day_today(), CASE_RECTIFY_DAYS, &due);
		if (!rc)
			rc = dg_db_exec(
				db,
				"INSERT INTO case_rectifications (rating_id, case_id, dept_id, "
				"stage, due_day,"
				" created_ms, updated_ms) VALUES (?, ?, ?, 'verify', ?, ?, ?)",
				DG_ARGS(DG_VI(rid), DG_VI(id),
					DG_VI(json_integer_value(json_object_get(c, "dept_id"))),
					DG_VI(due), DG_VI(now), DG_VI(now)),
				NULL);
	}
	return finish(rc, c, err, "cases.err.rated");
}

/* The department a transfer goes to: its id, and that it differs. */
static dg_rc transfer_target(struct dg_db *db, const json_t *c, const char *code, int64_t *out,
			     struct dg_err *err)
{
	dg_rc rc = code && *code && strlen(code) <= 16
			   ? dg_db_query_int(db, "SELECT id FROM departments WHERE code = ?",
					     DG_ARGS(DG_VT(code)), out)
			   : DG_ENOTFOUND;
	if (rc == DG_ENOTFOUND ||
	    (!rc && *out == json_integer_value(json_object_get(c, "dept_id"))))
		return dg_err_field(err, DG_EINVAL, "to_dept", "cases.err.to_dept");
	return rc;
}

static dg_rc approve(struct dg_db *db, const struct dg_keys *keys, json_t *c, const char *from,
		     struct dg_err *err)
{
	char cert[48] = "";
	json_t *fields = json_pack("{s:s, s:s}", "申请编号 Reference", str_of(c, "ref"),
				   "事项 Service", str_of(c, "item_name_zh"));
	if (*str_of(c, "on_behalf"))
		json_object_set_new(fields, "单位 Enterprise", json_string(str_of(c, "on_behalf")));
	struct dg_cert_in in = {
		.item_code = str_of(c, "item_code"),
		.title_zh = str_of(c, "item_name_zh"),
		.title_en = str_of(c, "item_name_en"),
		.holder_user_id = json_integer_value(json_object_get(c, "applicant_id")),
		.holder_name = *str_of(c, "on_behalf") ? str_of(c, "on_behalf")
						       : str_of(c, "applicant_name"),
		.dept_id = json_integer_value(json_object_get(c, "dept_id")),
		.case_ref = str_of(c, "ref"),
		.fields = fields,
		.valid_from = dg_day_today(),
		.valid_until = 0,
	};
	dg_rc rc = dg_cert_issue(db, keys, &in, cert, err);
	json_decref(fields);
	if (!rc)
		rc = move(db, c, from, "approved", "decided_ms = ?, cert_id = ?, reason = ''",
			  DG_ARGS(DG_VI(dg_now_ms()), DG_VT(cert)));
	if (!rc)
		rc = tell(db, c, "case.approved", NULL, err);
	if (!rc) {
		json_t *x = json_pack("{s:s, s:s, s:s}", "cert", in.title_zh, "cert_en",
				      in.title_en, "number", cert);
		rc = tell(db, c, "cert.issued", x, err);
		json_decref(x);
	}
	return rc;
}

dg_rc case_reveal(struct dg_db *db, const char *ref, const struct case_actor *who,
		  struct dg_err *err)
{
	json_t *c = NULL;
	dg_rc rc = row_by_ref(db, ref, &c);
	if (!rc && (who->role != DG_ROLE_STAFF || !may_see(who, c)))
		rc = DG_ENOTFOUND; /* another department's case is not revealed, nor is it said to
				      exist */
	if (rc)
		return finish(dg_err_set(err, rc,
					 rc == DG_ENOTFOUND ? "cases.err.no_case" : "error.store"),
			      c, err, "");
	const char *st = str_of(c, "status");
	rc = add_event(db, json_integer_value(json_object_get(c, "id")), who, "reveal", st, st, "",
		       json_integer_value(json_object_get(c, "dept_id")));
	return finish(rc, c, err, "cases.err.state");
}

dg_rc case_act(struct dg_db *db, const struct dg_keys *keys, const char *ref,
	       const struct case_actor *who, const struct case_action *act, struct dg_err *err)
{
	static const struct {
		const char *action, *role, *from; /* from: ",a,b," */
		int need_reason;
	} rules[] = {
		{"accept", "intake", ",submitted,", 0},
		{"refuse", "intake", ",submitted,", 1},
		{"request_supplement", NULL, ",submitted,accepted,reviewed,", 1},
		{"review", "review", ",accepted,", 1},
		{"approve", "approve", ",accepted,reviewed,", 0},
		{"deny", "approve", ",accepted,reviewed,", 1},
		{"transfer", "intake", ",submitted,accepted,reviewed,", 1},
	};
	json_t *c = NULL;
	size_t k;
	for (k = 0; k < sizeof(rules) / sizeof(rules[0]); k++)
		if (act->action && !strcmp(act->action, rules[k].action))
			break;
	if (k == sizeof(rules) / sizeof(rules[0]))
		return dg_err_field(err, DG_EINVAL, "action", "cases.err.action");
	dg_rc rc = row_by_ref(db, ref, &c);
	if (!rc && (who->role != DG_ROLE_STAFF || !may_see(who, c)))
		rc = DG_ENOTFOUND; /* another department's case is not revealed */
	if (rc)
		return finish(dg_err_set(err, rc,
					 rc == DG_ENOTFOUND ? "cases.err.no_case" : "error.store"),
			      c, err, "");
	int allowed = rules[k].role ? case_has_role(who->staff_roles, rules[k].role)
				    : (case_has_role(who->staff_roles, "intake") ||
				       case_has_role(who->staff_roles, "review"));
	if (!allowed)
		return finish(dg_err_set(err, DG_EDENIED, "cases.err.role"), c, err, "");
	const char *from = str_of(c, "status");
	char probe[40];
	snprintf(probe, sizeof(probe), ",%s,", from);
	if (!strstr(rules[k].from, probe))
		return finish(dg_err_set(err, DG_ECONFLICT, "cases.err.state"), c, err, "");
	if (!text_ok(act->reason, rules[k].need_reason))
		return finish(dg_err_field(err, DG_EINVAL, "reason", "cases.err.reason"), c, err,
			      "");
	int64_t id = json_integer_value(json_object_get(c, "id")),
		dept = json_integer_value(json_object_get(c, "dept_id"));
	const char *reason = act->reason ? act->reason : "", *to = from;
	struct dg_arena *a = dg_arena_new();
	const char *kept =
		case_seal_text(who->keys, a, reason); /* the reason as the case keeps it */
	dg_day today = dg_day_today(), due = 0;
	switch (k) {
	case 0: /* accept: the clock starts */
		to = "accepted";
		rc = dg_cal_workdays_add(
			db, today, (int)json_integer_value(json_object_get(c, "promised_days")),
			&due);
		if (!rc)
			rc = move(db, c, from, to, "accepted_day = ?, due_day = ?",
				  DG_ARGS(DG_VI(today), DG_VI(due)));
		if (!rc) {
			char s[11];
			dg_day_format(due, s);
			rc = tell1(db, c, "case.accepted", "due", s, err);
		}
		break;
	case 1: /* refuse */
	case 5: /* deny */
		to = k == 1 ? "refused" : "denied";
		rc = move(db, c, from, to, "decided_ms = ?, reason = ?",
			  DG_ARGS(DG_VI(dg_now_ms()), DG_VT(kept)));
		if (!rc)
			rc = tell1(db, c, k == 1 ? "case.refused" : "case.denied", "reason", reason,
				   err);
		break;
	case 2: /* request_supplement: the clock stops */
		to = "supplement";
		rc = move(db, c, from, to, "paused_day = ?, paused_from = ?, reason = ?",
			  DG_ARGS(DG_VI(today), DG_VT(from), DG_VT(kept)));
		if (!rc)
			rc = tell1(db, c, "case.supplement", "materials", reason, err);
		break;
	case 3: /* review: an opinion on record */
		to = "reviewed";
		rc = move(db, c, from, to, "reason = ''", NULL, 0);
		break;
	case 4:
		to = "approved";
		rc = approve(db, keys, c, from, err);
		break;
	case 6: { /* transfer: same status, the other department's queue */
		int64_t target = 0;
		rc = transfer_target(db, c, act->to_dept, &target, err);
		if (!rc)
			rc = move(db, c, from, from, "dept_id = ?", DG_ARGS(DG_VI(target)));
		struct dg_rows *rw = NULL;
		json_t *x = NULL;
		if (!rc)
			rc = dg_db_query(db,
					 "SELECT name_zh, name_en FROM departments WHERE id = ?",
					 DG_ARGS(DG_VI(target)), &rw);
		if (!rc)
			rc = dg_rows_next(rw);
		if (!rc)
			x = json_pack("{s:s, s:s}", "dept", dg_rows_text(rw, 0), "dept_en",
				      dg_rows_text(rw, 1));
		dg_rows_free(rw);
		if (!rc)
			rc = tell(db, c, "case.transferred", x, err);
		json_decref(x);
		break;
	}
	}
	char note[CASE_TEXT_MAX + 40];
	snprintf(note, sizeof(note), "%s%s%s", k == 6 ? act->to_dept : "", k == 6 ? ": " : "",
		 reason);
	if (!rc)
		rc = add_event(db, id, who, act->action, from, to, note, dept);
	dg_arena_free(a);
	return finish(rc, c, err, "cases.err.state");
}
