/*
 * test_proactive_grants.c - 免申即享 grant batches through the real server
 * on the store DGOV_TEST_DB selects, with the demo region's registries read
 * through the exchange (the old-age allowance, a policy in mode grant):
 *
 * - a policy not in mode grant, or without a finished run, makes no batch;
 * - a batch lists the run's eligible; staff of another department find no
 *   batch (404); an empty selection, an unknown line or one named twice is
 *   refused with nothing changed; nothing is granted before approval;
 * - the member of staff who proposed a batch may not approve it (403); a
 *   second one approves part of it: only the proposed lines are granted,
 *   written to the benefits registry (change log, audit, data-use), the
 *   person is told in the inbox, and the payment file is exactly the lines
 *   granted;
 * - the next run no longer finds the granted person eligible, and the next
 *   batch lists the others as unchanged; an approval that fails once a line
 *   is written leaves nothing granted, and approved again grants each once;
 * - the person declines on /my/benefits (another resident may not); staff
 *   revoke a grant only with a reason, which the person sees.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "app/app.h"
#include "auth/auth.h"
#include "core/failpoint.h"
#include "core/keys.h"
#include "node/demo.h"
#include "harness.h"

static char *a_tok, *b_tok, *rs_tok;
static int64_t batch1, batch2;
static char grantee_id[32]; /* line 1 of the first batch: the account made for them */

static long api(const char *tok, const char *method, const char *path, json_t *body, json_t **out)
{
	struct th_client *cl = th_client_new(th_shared);
	const char *hdrs[] = {tok, "Accept-Language: en", NULL};
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct th_resp r = {0};
	long st = th_request(cl, method, path, body ? "application/json" : NULL, text,
			     text ? strlen(text) : 0, hdrs, &r);
	if (out)
		*out = r.body ? json_loads(r.body, 0, NULL) : NULL;
	free(text);
	th_resp_release(&r);
	th_client_free(cl);
	return st;
}

/* A request whose body is kept as text (the payment file). */
static long get_text(const char *tok, const char *path, char **out)
{
	struct th_client *cl = th_client_new(th_shared);
	const char *hdrs[] = {tok, NULL};
	struct th_resp r = {0};
	long st = th_request(cl, "GET", path, NULL, NULL, 0, hdrs, &r);
	*out = r.body ? strdup(r.body) : NULL;
	th_resp_release(&r);
	th_client_free(cl);
	return st;
}

/* Whether j, as JSON text, contains s. */
static bool says(json_t *j, const char *s)
{
	char *t = json_dumps(j, 0);
	bool yes = t && strstr(t, s);
	free(t);
	return yes;
}

static long post(const char *tok, const char *path, json_t *body, json_t **out)
{
	long st = api(tok, "POST", path, body, out);
	json_decref(body);
	return st;
}

/* A count from SQL with one number (%lld) filled in. */
static int64_t sql_int(const char *fmt, int64_t v)
{
	char sql[512];
	const char *at = strstr(fmt, "%lld");
	assert_non_null(at);
	snprintf(sql, sizeof sql, "%.*s%lld%s", (int)(at - fmt), fmt, (long long)v, at + 4);
	return th_sql_int(th_shared, sql);
}

/* Run the old-age allowance for 2026-12-01, wait for its job; the run's id. */
static int64_t run_policy(void)
{
	json_t *j = NULL;
	assert_int_equal(post(a_tok, "/api/proactive/policies/elderly_allowance/runs",
			      json_pack("{s:s}", "date", "2026-12-01"), &j),
			 202);
	int64_t job = json_integer_value(json_object_get(j, "job"));
	json_decref(j);
	json_decref(th_wait_job(th_shared, job));
	int64_t run = sql_int("SELECT id FROM pr_runs WHERE job_id = %lld", job);
	assert_int_equal(
		sql_int("SELECT COUNT(*) FROM pr_runs WHERE id = %lld AND state = 'done'", run), 1);
	return run;
}

static json_t *get_batch(int64_t id)
{
	char path[128];
	json_t *j = NULL;
	snprintf(path, sizeof path, "/api/proactive/batches/%lld", (long long)id);
	assert_int_equal(api(a_tok, "GET", path, NULL, &j), 200);
	return j;
}

static long batch_post(const char *tok, int64_t id, const char *what, json_t *body, json_t **out)
{
	char path[128];
	snprintf(path, sizeof path, "/api/proactive/batches/%lld/%s", (long long)id, what);
	return post(tok, path, body ? body : json_object(), out);
}

static int64_t benefit_changes(void)
{
	return th_sql_int(th_shared, "SELECT COUNT(*) FROM xr_changes WHERE registry = 'benefits'");
}

static int64_t granted(void)
{
	return th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_grants WHERE state = 'granted'");
}

/* The name the person registry keeps for ID number id (malloc'd). */
static char *registry_name(const char *id)
{
	struct dg_env *env = &th_app(th_shared)->env;
	struct dg_db *db = NULL;
	struct dg_arena *a = dg_arena_new();
	char *sealed = NULL, *plain = NULL;
	assert_int_equal(dg_db_get(env->store, &db), DG_OK);
	assert_int_equal(dg_db_query_text(db,
					  "SELECT sealed FROM xr_records WHERE registry = 'person'"
					  " AND rkey = ?",
					  DG_ARGS(DG_VT(dg_pii_index(&env->keys, a, "id", id))), a,
					  &sealed),
			 DG_OK);
	dg_db_put(db);
	assert_int_equal(dg_pii_open(&env->keys, a, sealed, &plain), DG_OK);
	json_t *o = json_loads(plain, 0, NULL);
	char *name = strdup(json_string_value(json_object_get(o, "name")));
	json_decref(o);
	dg_arena_free(a);
	return name;
}

/* A policy not in mode grant, or one that has not run, makes no batch. */
static void no_batch_without_grant_mode(void **state)
{
	(void)state;
	json_t *j = NULL;
	assert_int_equal(post(a_tok, "/api/proactive/policies/dibao/batches", NULL, &j), 400);
	assert_true(says(j, "mode grant"));
	json_decref(j);
	assert_int_equal(
		post(a_tok, "/api/proactive/policies/elderly_allowance/batches", NULL, NULL), 400);
	assert_int_equal(post(a_tok, "/api/proactive/policies/nosuch/batches", NULL, NULL), 404);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_batches"), 0);
}

static void partial_approval(void **state)
{
	(void)state;
	int64_t run = run_policy();
	int64_t eligible = sql_int("SELECT COUNT(*) FROM pr_results WHERE run_id = %lld AND"
				   " outcome = 'ELIGIBLE'",
				   run);
	assert_true(eligible >= 2);
	/* another department: no such policy to make a batch of */
	assert_int_equal(
		post(rs_tok, "/api/proactive/policies/elderly_allowance/batches", NULL, NULL), 404);
	json_t *j = NULL;
	assert_int_equal(post(a_tok, "/api/proactive/policies/elderly_allowance/batches", NULL, &j),
			 201);
	batch1 = json_integer_value(json_object_get(j, "batch"));
	json_decref(j);
	json_t *b = get_batch(batch1);
	json_t *lines = json_object_get(b, "lines");
	assert_int_equal((int64_t)json_array_size(lines), eligible);
	assert_string_equal(json_string_value(json_object_get(b, "period")), "2026-12");
	assert_string_equal(json_string_value(json_object_get(b, "state")), "draft");
	json_t *l1 = json_array_get(lines, 0);
	assert_string_equal(json_string_value(json_object_get(l1, "change")), "new");
	assert_non_null(strstr(json_string_value(json_object_get(l1, "why")), "80"));
	snprintf(grantee_id, sizeof grantee_id, "%s", json_string_value(json_object_get(l1, "id")));
	int64_t fen = json_integer_value(json_object_get(l1, "amount_fen"));
	assert_true(fen > 0);
	json_decref(b);
	/* the person has an account: they will be told */
	struct dg_env *env = &th_app(th_shared)->env;
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	int64_t uid = 0;
	struct dg_user_new u = {.role = DG_ROLE_CITIZEN,
				.username = "grantee",
				.password = DG_DEMO_PASSWORD,
				.name = "受助人",
				.id_number = grantee_id};
	assert_int_equal(dg_db_get(env->store, &db), DG_OK);
	assert_int_equal(dg_user_create(env, db, &u, &uid, &err), DG_OK);
	dg_db_put(db);

	/* another department finds no batch */
	char path[128];
	snprintf(path, sizeof path, "/api/proactive/batches/%lld", (long long)batch1);
	assert_int_equal(api(rs_tok, "GET", path, NULL, NULL), 404);
	snprintf(path, sizeof path, "/office/batches/%lld", (long long)batch1);
	struct th_client *rs = th_signed_in(th_shared, DG_DEMO_STAFF2);
	free(th_get_body(rs, path, 404));
	th_client_free(rs);
	assert_int_equal(
		batch_post(rs_tok, batch1, "propose", json_pack("{s:s}", "lines", "all"), NULL),
		404);
	/* nothing is granted before a proposal and an approval */
	int64_t changes = benefit_changes();
	assert_int_equal(batch_post(b_tok, batch1, "approve", NULL, NULL), 409);
	/* bad selections change nothing */
	assert_int_equal(batch_post(a_tok, batch1, "propose", json_pack("{s:[]}", "lines"), NULL),
			 400);
	assert_int_equal(batch_post(a_tok, batch1, "propose", NULL, NULL), 400);
	assert_int_equal(
		batch_post(a_tok, batch1, "propose", json_pack("{s:[i]}", "lines", 99999), NULL),
		400);
	assert_int_equal(
		batch_post(a_tok, batch1, "propose", json_pack("{s:[i,i]}", "lines", 1, 1), NULL),
		400);
	assert_int_equal(
		batch_post(a_tok, batch1, "propose", json_pack("{s:[i,s]}", "lines", 1, "2"), NULL),
		400);
	assert_int_equal(sql_int("SELECT COUNT(*) FROM pr_batches WHERE id = %lld AND state ="
				 " 'draft' AND proposed_by = 0",
				 batch1),
			 1);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_grants WHERE selected = 1"),
			 0);
	/* A proposes line 1 only; A may not approve it; B does */
	assert_int_equal(
		batch_post(a_tok, batch1, "propose", json_pack("{s:[i]}", "lines", 1), NULL), 200);
	assert_int_equal(
		batch_post(a_tok, batch1, "propose", json_pack("{s:[i]}", "lines", 2), NULL), 409);
	assert_int_equal(batch_post(a_tok, batch1, "approve", NULL, &j), 403);
	assert_true(says(j, "Another member of staff"));
	json_decref(j);
	assert_int_equal(batch_post(rs_tok, batch1, "approve", NULL, NULL), 404);
	assert_int_equal(benefit_changes(), changes);
	assert_int_equal(granted(), 0);
	assert_int_equal(sql_int("SELECT COUNT(*) FROM notify_messages WHERE user_id = %lld", uid),
			 0);
	assert_int_equal(batch_post(b_tok, batch1, "approve", NULL, &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "issued");
	json_decref(j);
	assert_int_equal(batch_post(b_tok, batch1, "approve", NULL, NULL), 409);
	/* only the proposed line: in the registry's change log, audited, on the data-use page */
	assert_int_equal(granted(), 1);
	assert_int_equal(benefit_changes(), changes + 1);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM audit_log WHERE kind ="
					       " 'exchange.write'"),
			 1);
	assert_int_equal(
		sql_int("SELECT COUNT(*) FROM xr_uses WHERE run = 'proactive-batch-%lld'", batch1),
		1);
	/* the person is told, in their inbox */
	assert_int_equal(sql_int("SELECT COUNT(*) FROM notify_messages WHERE user_id = %lld AND"
				 " kind = 'policy.granted' AND link = '/my/benefits#receive'",
				 uid),
			 1);
	/* the payment file: exactly the line granted */
	char *csv = NULL;
	snprintf(path, sizeof path, "/api/proactive/batches/%lld/payments.csv", (long long)batch1);
	assert_int_equal(get_text(rs_tok, path, &csv), 404);
	free(csv);
	assert_int_equal(get_text(b_tok, path, &csv), 200);
	char *name = registry_name(grantee_id);
	assert_true(name[0] != '\0');
	char want[2048];
	snprintf(want, sizeof want,
		 "\xEF\xBB\xBF\"batch\",\"line\",\"name\",\"id_number\",\"bank_account\","
		 "\"amount\",\"policy\",\"benefit\",\"period\"\r\n"
		 "\"%lld\",\"1\",\"%s\",\"%s\",\"\",\"%lld.%02lld\",\"elderly_allowance\","
		 "\"elderly_allowance\",\"2026-12\"\r\n",
		 (long long)batch1, name, grantee_id, (long long)(fen / 100),
		 (long long)(fen % 100));
	assert_string_equal(csv, want);
	free(csv);
	free(name);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM audit_log WHERE kind ="
					       " 'proactive.payments'"),
			 1);
}

/* The next run sees the grant in the benefit history; the next batch the rest unchanged. */
static void next_batch(void **state)
{
	(void)state;
	int64_t n1 = sql_int("SELECT COUNT(*) FROM pr_grants WHERE batch_id = %lld", batch1);
	int64_t run = run_policy();
	char path[256];
	json_t *j = NULL;
	snprintf(path, sizeof path, "/api/proactive/runs/%lld/matches?per_page=500",
		 (long long)run);
	assert_int_equal(api(a_tok, "GET", path, NULL, &j), 200);
	size_t i;
	json_t *m;
	int seen = 0;
	json_array_foreach (json_object_get(j, "matches"), i, m) {
		if (strcmp(json_string_value(json_object_get(m, "id")), grantee_id) != 0)
			continue;
		seen++;
		assert_string_equal(json_string_value(json_object_get(m, "outcome")),
				    "NOT_ELIGIBLE");
	}
	json_decref(j);
	assert_int_equal(seen, 1);
	assert_int_equal(post(a_tok, "/api/proactive/policies/elderly_allowance/batches", NULL, &j),
			 201);
	batch2 = json_integer_value(json_object_get(j, "batch"));
	json_decref(j);
	json_t *b = get_batch(batch2);
	json_t *lines = json_object_get(b, "lines");
	assert_int_equal((int64_t)json_array_size(lines), n1 - 1);
	json_array_foreach (lines, i, m) {
		assert_string_not_equal(json_string_value(json_object_get(m, "id")), grantee_id);
		assert_string_equal(json_string_value(json_object_get(m, "change")), "unchanged");
	}
	assert_int_equal(json_integer_value(json_object_get(b, "prev_batch")), batch1);
	json_decref(b);
	/* roles the other way round: B proposes every line, A approves */
	assert_int_equal(
		batch_post(b_tok, batch2, "propose", json_pack("{s:s}", "lines", "all"), NULL),
		200);
	assert_int_equal(batch_post(b_tok, batch2, "approve", NULL, NULL), 403);
	/* the disk fills once a line is written: nothing of the approval stays */
	struct dg_err err = {0};
	int64_t changes = benefit_changes(), msgs = th_sql_int(th_shared, "SELECT COUNT(*) FROM"
									  " notify_messages");
	assert_int_equal(dg_failpoint_set("proactive.grant.line=full*1", &err), DG_OK);
	assert_int_equal(batch_post(a_tok, batch2, "approve", NULL, NULL), 507);
	assert_int_equal(dg_failpoint_fired("proactive.grant.line"), 1);
	assert_int_equal(dg_failpoint_set("", &err), DG_OK);
	assert_int_equal(granted(), 1);
	assert_int_equal(benefit_changes(), changes);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM notify_messages"), msgs);
	assert_int_equal(sql_int("SELECT COUNT(*) FROM pr_batches WHERE id = %lld AND state ="
				 " 'proposed' AND approved_by = 0",
				 batch2),
			 1);
	/* approved again: every line granted once */
	assert_int_equal(batch_post(a_tok, batch2, "approve", NULL, NULL), 200);
	assert_int_equal(granted(), n1);
	assert_int_equal(benefit_changes(), changes + n1 - 1);
	char *csv = NULL;
	snprintf(path, sizeof path, "/api/proactive/batches/%lld/payments.csv", (long long)batch2);
	assert_int_equal(get_text(a_tok, path, &csv), 200);
	int rows = 0;
	for (const char *p = csv; (p = strstr(p, "\r\n")) != NULL; p += 2)
		rows++;
	assert_int_equal(rows, n1); /* the header and n1 - 1 lines */
	free(csv);
}

/* The person declines on /my/benefits; another resident cannot decline it. */
static void resident_declines(void **state)
{
	(void)state;
	struct th_client *c = th_signed_in(th_shared, "grantee");
	char *body = th_get_body(c, "/my/benefits", 200);
	assert_non_null(strstr(body, "我正在享受的"));
	assert_non_null(strstr(body, "高龄津贴"));
	char action[128];
	snprintf(action, sizeof action, "/my/benefits/grants/%lld/1/decline", (long long)batch1);
	assert_non_null(strstr(body, action));
	free(body);
	struct th_client *other = th_signed_in(th_shared, DG_DEMO_CITIZEN2);
	struct th_resp r = {0};
	assert_int_equal(th_post_csrf(other, "/my/benefits", action, "", &r), 404);
	th_resp_release(&r);
	th_client_free(other);
	int64_t changes = benefit_changes();
	assert_int_equal(th_post_csrf(c, "/my/benefits", action, "", &r), 303);
	th_resp_release(&r);
	assert_int_equal(sql_int("SELECT COUNT(*) FROM pr_grants WHERE batch_id = %lld AND line = 1"
				 " AND state = 'declined'",
				 batch1),
			 1);
	assert_int_equal(benefit_changes(), changes + 1);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM audit_log WHERE kind ="
					       " 'proactive.decline'"),
			 1);
	/* a second time: nothing granted to decline */
	assert_int_equal(th_post_csrf(c, "/my/benefits", action, "", &r), 404);
	th_resp_release(&r);
	body = th_get_body(c, "/my/benefits", 200);
	assert_non_null(strstr(body, "本人已放弃"));
	free(body);
	th_client_free(c);
	/* the payment file no longer lists it */
	char *csv = NULL, path[128];
	snprintf(path, sizeof path, "/api/proactive/batches/%lld/payments.csv", (long long)batch1);
	assert_int_equal(get_text(a_tok, path, &csv), 200);
	assert_null(strstr(csv, grantee_id));
	free(csv);
}

/* Staff revoke a wrong grant only with a reason. */
static void staff_revoke(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "/api/proactive/batches/%lld/lines/1/revoke",
		 (long long)batch2);
	int64_t changes = benefit_changes();
	assert_int_equal(post(a_tok, path, json_object(), NULL), 400);
	assert_int_equal(post(a_tok, path, json_pack("{s:s}", "reason", ""), NULL), 400);
	assert_int_equal(post(rs_tok, path, json_pack("{s:s}", "reason", "wrong"), NULL), 404);
	assert_int_equal(benefit_changes(), changes);
	assert_int_equal(sql_int("SELECT COUNT(*) FROM pr_grants WHERE batch_id = %lld AND line = 1"
				 " AND state = 'granted'",
				 batch2),
			 1);
	assert_int_equal(post(b_tok, path, json_pack("{s:s}", "reason", "已迁出本市"), NULL), 200);
	assert_int_equal(sql_int("SELECT COUNT(*) FROM pr_grants WHERE batch_id = %lld AND line = 1"
				 " AND state = 'revoked' AND reason = '已迁出本市'",
				 batch2),
			 1);
	assert_int_equal(benefit_changes(), changes + 1);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM audit_log WHERE kind ="
					       " 'proactive.revoke'"),
			 1);
	assert_int_equal(post(b_tok, path, json_pack("{s:s}", "reason", "again"), NULL), 404);
}

/* The staff pages: the batch with its lines, masked IDs, no approve button for the proposer. */
static void staff_pages(void **state)
{
	(void)state;
	struct th_client *c = th_signed_in(th_shared, DG_DEMO_STAFF);
	char *body = th_get_body(c, "/office/policies/elderly_allowance", 200);
	assert_non_null(strstr(body, "/batches\""));
	free(body);
	char path[128];
	snprintf(path, sizeof path, "/office/batches/%lld", (long long)batch2);
	body = th_get_body(c, path, 200);
	assert_non_null(strstr(body, "********"));
	assert_non_null(strstr(body, "payments.csv"));
	assert_non_null(strstr(body, "已迁出本市"));
	free(body);
	/* the payment file from the page, for the signed-in member of staff */
	snprintf(path, sizeof path, "/office/batches/%lld/payments.csv", (long long)batch2);
	struct th_resp r = {0};
	assert_int_equal(th_get(c, path, &r), 200);
	char *type = th_header(&r, "Content-Type");
	assert_non_null(strstr(type, "text/csv"));
	free(type);
	assert_int_equal(memcmp(r.body, "\xEF\xBB\xBF\"batch\"", 10), 0);
	th_resp_release(&r);
	th_client_free(c);
}

/* The take-up counts each run's granted and declined lines, by the district kept with them. */
static void takeup_grants(void **state)
{
	(void)state;
	char *csv = NULL;
	assert_int_equal(get_text(NULL, "/policies/elderly_allowance/takeup.csv", &csv), 200);
	/* per run: the file's granted and declined summed over its districts */
	int64_t runs = th_sql_int(th_shared, "SELECT COUNT(DISTINCT run_id) FROM pr_batches");
	assert_true(runs >= 1);
	for (int64_t k = 0; k < runs; k++) {
		char q[256], prefix[32];
		snprintf(q, sizeof q,
			 "SELECT run_id FROM pr_batches GROUP BY run_id ORDER BY run_id LIMIT 1"
			 " OFFSET %lld",
			 (long long)k);
		int64_t run = th_sql_int(th_shared, q);
		snprintf(prefix, sizeof prefix, "\r\n\"%lld\",", (long long)run);
		long long granted = 0, declined = 0;
		for (const char *l = strstr(csv, prefix); l; l = strstr(l + 1, prefix)) {
			long long c[6];
			assert_int_equal(
				sscanf(l + strlen(prefix),
				       "\"%*[^\"]\",\"%*[^\"]\",\"%lld\",\"%lld\",\"%lld\","
				       "\"%lld\",\"%lld\",\"%lld\"",
				       &c[0], &c[1], &c[2], &c[3], &c[4], &c[5]),
				6);
			granted += c[3];
			declined += c[4];
		}
		snprintf(q, sizeof q,
			 "SELECT COUNT(*) FROM pr_grants g JOIN pr_batches b ON b.id = g.batch_id"
			 " WHERE b.run_id = %lld AND g.state = 'granted'",
			 (long long)run);
		assert_int_equal(granted, th_sql_int(th_shared, q));
		snprintf(q, sizeof q,
			 "SELECT COUNT(*) FROM pr_grants g JOIN pr_batches b ON b.id = g.batch_id"
			 " WHERE b.run_id = %lld AND g.state = 'declined'",
			 (long long)run);
		assert_int_equal(declined, th_sql_int(th_shared, q));
	}
	/* something was granted and something declined in this file's history */
	assert_true(th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_grants WHERE state ="
					  " 'declined'") >= 1);
	free(csv);
}

static int setup(void **state)
{
	(void)state;
	unsetenv("DGOV_PROACTIVE_DATA");
	struct th_opts o = {.demo = true, .job_workers = 1, .job_lease_sec = 30};
	th_shared = th_start_opts(&o);
	if (!th_shared)
		return 1;
	/* a second member of the civil affairs bureau's staff */
	struct dg_env *env = &th_app(th_shared)->env;
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	struct dg_user_new u = {.role = DG_ROLE_STAFF,
				.username = "mz_sun",
				.password = DG_DEMO_PASSWORD,
				.name = "孙审核",
				.dept_code = "mz",
				.staff_roles = "review"};
	if (dg_db_get(env->store, &db))
		return 1;
	dg_rc rc = dg_user_create(env, db, &u, NULL, &err);
	dg_db_put(db);
	if (rc)
		return 1;
	a_tok = th_token_header(th_shared, DG_DEMO_STAFF, DG_DEMO_PASSWORD);
	b_tok = th_token_header(th_shared, "mz_sun", DG_DEMO_PASSWORD);
	rs_tok = th_token_header(th_shared, DG_DEMO_STAFF2, DG_DEMO_PASSWORD);
	return !a_tok || !b_tok || !rs_tok;
}

static int teardown(void **state)
{
	free(a_tok);
	free(b_tok);
	free(rs_tok);
	return th_group_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_batch_without_grant_mode),
		cmocka_unit_test(partial_approval),
		cmocka_unit_test(next_batch),
		cmocka_unit_test(resident_declines),
		cmocka_unit_test(staff_revoke),
		cmocka_unit_test(staff_pages),
		cmocka_unit_test(takeup_grants),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
