/*
 * demo.c - the demo region's cases, one or more at every stage, made through
 * the same transitions as real ones and then, where a stage needs the past
 * (overdue, waiting for weeks), moved back in time.
 */
#include "cases/cases.h"

#include <stdio.h>
#include <string.h>

#include "node/demo.h"
#include "node/env.h"
#include "cases/internal.h"
#include "catalog/catalog.h"

struct demo_case {
	const char *user, *item, *answers; /* answers: JSON over the pre-filled ones */
	const char *steps; /* "draft", or staff actions in order: "accept,request_supplement,..." */
	const char *staff;
	int rating; /* 0: none */
	const char *comment;
	int days_ago;    /* moved back this many days (0: today) */
	const char *ref; /* a fixed reference instead of the day's and the row's (NULL) */
};

static const char default_answers[] = "{\"purpose\": \"按指南要求申请，材料已准备齐全。\"}";

static const struct demo_case cases[] = {
	{"zhangsan", "990100-MZ-004", NULL, "draft", NULL, 0, NULL, 0},
	{"lisi", "990100-MZ-004", "{\"method\": \"social_card\"}", "", NULL, 0, NULL, 0},
	{"wangwu", "990100-MZ-004",
	 "{\"method\": \"bank\", \"bank\": \"示范市农商银行\", \"account\": "
	 "\"6230580000001234567\"}",
	 "accept", "mz_zhao", 0, NULL, 0},
	{"zhaoliu", "990100-MZ-003", default_answers, "accept", "mz_zhao", 0, NULL, 40},
	{"sunqi", "990100-MZ-005", default_answers, "accept,request_supplement", "mz_zhao", 0, NULL,
	 3},
	{"zhouba", "990100-MZ-004", "{\"method\": \"social_card\"}", "accept,review,approve",
	 "mz_zhao", 5, "办理很快，全程网上办，不用跑腿。", 12},
	{"wujiu", "990100-MZ-002", default_answers, "accept,deny", "mz_zhao", 0, NULL, 8},
	{"zhengshi", "990100-MZ-001", default_answers, "refuse", "mz_zhao", 0, NULL, 6},
	{"chenmei", "990100-MZ-007", default_answers, "accept,approve", "mz_zhao", 2,
	 "补贴到账比承诺的晚，打电话也没人说清楚原因。", 20},
	{"liuyang", "990100-MZ-004", "{\"method\": \"social_card\"}", "accept,approve", "mz_zhao",
	 1, "网上说不用交材料，结果又让我跑了一趟窗口。", 30},
	{"zhangsan", "990100-RS-002", default_answers, "accept", "rs_qian", 0, NULL, 2},
	{"lisi", "990100-YB-002", default_answers, "accept,review", "yb_zhou", 0, NULL, 15},
	{"wangwu", "990100-YB-001", default_answers, "accept,approve", "yb_zhou", 4, "", 9},
	{"agent_hx", "990100-SC-004", default_answers, "", NULL, 0, NULL, 1},
	{"sunqi", "990100-MZ-007", default_answers, "transfer", "mz_zhao", 0, NULL, 1},
};

/*
 * With --with-runs (the browser tests' demo): zhangsan's draft of public
 * rental housing, whose form names registry fields, under a reference that
 * does not change from one demo to the next, so that its pre-fill page
 * (what will be fetched, from which department) has a stable address
 * (tests/e2e/pages.json). No reference the day and a row id make ends in
 * -000000: row ids start at 1.
 */
static const struct demo_case run_cases[] = {
	{"zhangsan", "990100-ZJ-002", NULL, "draft", NULL, 0, NULL, 0, "20260101-000000"},
};

/* An account as an actor; roles (the actor's staff_roles) is copied into the caller's buffer. */
static dg_rc user_of(struct dg_db *db, const struct dg_keys *keys, const char *username,
		     struct case_actor *a, char roles[64], json_t **me)
{
	struct dg_rows *rw = NULL;
	memset(a, 0, sizeof(*a));
	dg_rc rc = dg_db_query(db,
			       "SELECT u.id, u.role, u.name, COALESCE(u.dept_id, 0), "
			       "u.staff_roles, u.uscc, u.org_name"
			       " FROM users u WHERE u.username = ?",
			       DG_ARGS(DG_VT(username)), &rw);
	if (!rc)
		rc = dg_rows_next(rw);
	if (!rc) {
		const char *role = dg_rows_text(rw, 1);
		a->user_id = dg_rows_int(rw, 0);
		a->role = !strcmp(role, "staff")   ? DG_ROLE_STAFF
			  : !strcmp(role, "agent") ? DG_ROLE_AGENT
			  : !strcmp(role, "admin") ? DG_ROLE_ADMIN
						   : DG_ROLE_CITIZEN;
		a->dept_id = dg_rows_int(rw, 3);
		a->keys = keys;
		snprintf(roles, 64, "%s", dg_rows_text(rw, 4));
		a->staff_roles = roles;
		if (me)
			*me = json_pack("{s:s, s:s, s:s, s:s}", "name", dg_rows_text(rw, 2),
					"phone", "13800000000", "uscc", dg_rows_text(rw, 5),
					"org_name", dg_rows_text(rw, 6));
	}
	dg_rows_free(rw);
	return rc;
}

static dg_rc one_case(struct dg_env *env, struct dg_db *db, const struct demo_case *d,
		      struct dg_err *err)
{
	struct case_actor who, staff;
	char who_roles[64], staff_roles[64];
	json_t *item = NULL, *me = NULL, *c = NULL;
	char ref[CASE_REF_MAX];
	dg_rc rc = user_of(db, &env->keys, d->user, &who, who_roles, &me);
	if (!rc)
		rc = dg_catalog_item(db, d->item, &item);
	if (rc)
		goto out;
	if (case_may_apply(&who, item))
		goto out; /* not a case this applicant could start */
	rc = case_create(db, item, &who, me, ref, err);
	if (!rc && d->ref) {
		rc = dg_db_exec(db, "UPDATE cases SET ref = ? WHERE ref = ?",
				DG_ARGS(DG_VT(d->ref), DG_VT(ref)), NULL);
		snprintf(ref, sizeof ref, "%s", d->ref);
	}
	if (!rc && d->answers) {
		rc = case_get(db, ref, &who, &c, err);
		json_t *extra = rc ? NULL : json_loads(d->answers, 0, NULL), *v;
		const char *k;
		json_object_foreach (extra, k, v)
			json_object_set(json_object_get(c, "answers"), k, v);
		json_decref(extra);
		if (!rc)
			rc = case_save_answers(db, &env->keys,
					       json_integer_value(json_object_get(c, "id")),
					       json_object_get(c, "answers"));
	}
	if (rc || !strcmp(d->steps, "draft"))
		goto out;
	rc = case_submit(db, ref, &who, err);
	if (!rc && d->staff)
		rc = user_of(db, &env->keys, d->staff, &staff, staff_roles, NULL);
	for (const char *s = d->steps; !rc && *s;) {
		char step[32];
		size_t n = strcspn(s, ",");
		snprintf(step, sizeof(step), "%.*s", (int)n, s);
		struct case_action act = {.action = step, .reason = "", .to_dept = NULL};
		if (!strcmp(step, "request_supplement"))
			act.reason = "请补充近三个月的银行流水（加盖银行公章）。";
		else if (!strcmp(step, "review"))
			act.reason = "材料齐全，经核查符合条件，建议准予。";
		else if (!strcmp(step, "deny"))
			act.reason = "经核查，双方未就子女抚养问题达成一致，不符合登记条件。";
		else if (!strcmp(step, "refuse"))
			act.reason = "本事项须双方本人到场办理，请预约后到婚姻登记处办理。";
		else if (!strcmp(step, "transfer")) {
			act.reason = "申请人户籍在外区，转户籍地部门办理。";
			act.to_dept = "rs";
		}
		rc = case_act(db, &env->keys, ref, &staff, &act, err);
		s += n + (s[n] == ',');
	}
	if (!rc && d->rating)
		rc = case_rate(db, ref, &who, d->rating, d->comment, err);
	if (!rc && d->days_ago) {
		/* the past: every date of the case and its history moves back together */
		int64_t ms = (int64_t)d->days_ago * 86400000;
		rc = dg_db_exec(
			db,
			"UPDATE cases SET created_ms = created_ms - ?, updated_ms = updated_ms - ?,"
			" submitted_ms = CASE WHEN submitted_ms > 0 THEN submitted_ms - ? ELSE 0 "
			"END,"
			" decided_ms = CASE WHEN decided_ms > 0 THEN decided_ms - ? ELSE 0 END,"
			" accepted_day = CASE WHEN accepted_day > 0 THEN accepted_day - ? ELSE 0 "
			"END,"
			" due_day = CASE WHEN due_day > 0 THEN due_day - ? ELSE 0 END,"
			" paused_day = CASE WHEN paused_day > 0 THEN paused_day - ? ELSE 0 END "
			"WHERE ref = ?",
			DG_ARGS(DG_VI(ms), DG_VI(ms), DG_VI(ms), DG_VI(ms), DG_VI(d->days_ago),
				DG_VI(d->days_ago), DG_VI(d->days_ago), DG_VT(ref)),
			NULL);
		if (!rc)
			rc = dg_db_exec(db,
					"UPDATE case_events SET at_ms = at_ms - ? WHERE case_id = "
					"(SELECT id FROM cases WHERE ref = ?)",
					DG_ARGS(DG_VI(ms), DG_VT(ref)), NULL);
		if (!rc)
			rc = dg_db_exec(
				db,
				"UPDATE case_rectifications SET due_day = due_day - ?, created_ms "
				"= created_ms - ?,"
				" updated_ms = updated_ms - ? WHERE case_id = (SELECT id FROM "
				"cases WHERE ref = ?)",
				DG_ARGS(DG_VI(d->days_ago), DG_VI(ms), DG_VI(ms), DG_VT(ref)),
				NULL);
	}
out:
	json_decref(c);
	json_decref(item);
	json_decref(me);
	if (rc && !err->msg[0])
		dg_err_set(err, rc, "demo case %s for %s could not be made", d->item, d->user);
	return rc;
}

dg_rc dg_cases_demo_seed(struct dg_env *env, struct dg_db *db, const struct dg_demo_opts *o,
			 struct dg_err *err)
{
	dg_rc rc = DG_OK;
	for (size_t i = 0; !rc && i < sizeof(cases) / sizeof(cases[0]); i++)
		rc = one_case(env, db, &cases[i], err);
	for (size_t i = 0; !rc && o && o->runs && i < sizeof(run_cases) / sizeof(run_cases[0]); i++)
		rc = one_case(env, db, &run_cases[i], err);
	return rc;
}
