/*
 * test_proactive_exchange.c - matching runs that read the demo region's
 * shared registries through the exchange (exchange.h's reader for the rule
 * engine), on the store DGOV_TEST_DB selects:
 *
 * - a run's answers, through the truth API, equal the engine's own
 *   explanation over the same registries read the same way, record by
 *   record; each account tied by its ID number is told of what it newly
 *   qualifies for, and finds its answers on /my/benefits;
 * - a run whose department has no grant for the policy fails with the
 *   exchange's reason, tells nobody and leaves the last results shown;
 * - a what-if reads the registries the same way, each record read a use
 *   named after it, and without a grant fails with the exchange's reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "app/app.h"
#include "core/date.h"
#include "exchange/exchange.h"
#include "node/demo.h"
#include "rule/rule.h"
#include "harness.h"

static char *mz_tok;
static char root[4096];

static long api(const char *method, const char *path, json_t *body, json_t **out)
{
	struct th_client *cl = th_client_new(th_shared);
	const char *hdrs[] = {mz_tok, NULL};
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

/* Run policy code for date, wait for its job; the run's id. */
static int64_t run_policy(const char *code, const char *date)
{
	json_t *j = NULL, *b = json_pack("{s:s}", "date", date);
	char path[256];
	snprintf(path, sizeof path, "/api/proactive/policies/%s/runs", code);
	assert_int_equal(api("POST", path, b, &j), 202);
	json_decref(b);
	int64_t job = json_integer_value(json_object_get(j, "job"));
	json_decref(j);
	json_t *done = th_wait_job(th_shared, job);
	assert_non_null(done);
	json_decref(done);
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT id FROM pr_runs WHERE job_id = %lld", (long long)job);
	return th_sql_int(th_shared, sql);
}

/* Every answer of a run, page by page, keyed "rule/id". */
static json_t *all_matches(int64_t run, json_t **meta)
{
	json_t *all = json_object();
	for (int page = 1;; page++) {
		json_t *j = NULL;
		char path[256];
		snprintf(path, sizeof path, "/api/proactive/runs/%lld/matches?per_page=500&page=%d",
			 (long long)run, page);
		assert_int_equal(api("GET", path, NULL, &j), 200);
		json_t *l = json_object_get(j, "matches");
		size_t i;
		json_t *m;
		json_array_foreach (l, i, m) {
			char key[256];
			snprintf(key, sizeof key, "%s/%s",
				 json_string_value(json_object_get(m, "rule")),
				 json_string_value(json_object_get(m, "id")));
			json_object_set(all, key, m);
		}
		size_t n = json_array_size(l);
		if (page == 1)
			*meta = json_incref(j);
		json_decref(j);
		if (n < 500)
			break;
	}
	return all;
}

static void run_equals_engine(void **state)
{
	(void)state;
	int64_t run = run_policy("dibao", "2026-12-01");
	json_t *meta = NULL;
	json_t *got = all_matches(run, &meta);
	if (strcmp(json_string_value(json_object_get(meta, "state")), "done") != 0)
		fail_msg("run %lld: %s", (long long)run,
			 json_string_value(json_object_get(meta, "error")));
	assert_string_equal(json_string_value(json_object_get(meta, "source")), "exchange");
	/* the engine over the same registries, read the same way */
	char path[4200];
	snprintf(path, sizeof path, "%s/policies/dibao.rule", root);
	char *paths[] = {path};
	struct dg_program *p = dg_rule_load(paths, 1);
	assert_int_equal(p->diag.errors, 0);
	struct dg_intern codes;
	struct dg_err err = {0};
	dg_intern_init(&codes);
	struct dg_db *db = NULL;
	struct dg_exchange_reader *xr = NULL;
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_exchange_reader_open(&th_app(th_shared)->env, db, p->schema, "mz",
						 "dibao", "test-compare", &xr, &err),
			 DG_OK);
	struct dg_data *d = dg_data_load(p->schema, &codes, dg_exchange_reader_rule(xr), &err);
	dg_exchange_reader_close(xr);
	dg_db_put(db);
	assert_non_null(d);
	dg_day ref;
	assert_int_equal(dg_day_parse("2026-12-01", &ref), DG_OK);
	struct dg_rule_diag diag;
	dg_rule_diag_init(&diag);
	struct dg_code *code = dg_rule_compile(p, &codes, ref, NULL, 0, &diag);
	dg_rule_diag_release(&diag);
	assert_non_null(code);
	int64_t n = 0, eligible = 0;
	for (int ri = 0; ri < p->nrules; ri++) {
		int ent = p->rules[ri].ent;
		for (int64_t row = 0; row < d->t[ent].n; row++, n++) {
			enum dg_outcome o;
			int64_t amount = 0;
			bool known = false;
			struct dg_explain_cond conds[64];
			int nc = 0;
			assert_int_equal(dg_rule_explain_eval(code, d, ri, row, &o, &amount, &known,
							      conds, 64, &nc, &err),
					 DG_OK);
			char key[256];
			snprintf(key, sizeof key, "%s/%s", p->rules[ri].id,
				 dg_data_id(d, ent, row));
			json_t *m = json_object_get(got, key);
			if (!m)
				fail_msg("no answer for %s", key);
			assert_string_equal(json_string_value(json_object_get(m, "outcome")),
					    dg_outcome_name(o));
			if (o == DG_ELIGIBLE && known)
				assert_int_equal(
					json_integer_value(json_object_get(m, "amount_fen")),
					amount);
			eligible += o == DG_ELIGIBLE;
		}
	}
	assert_int_equal(json_integer_value(json_object_get(meta, "total")), n);
	assert_true(eligible > 0);
	/* everyone newly eligible who has an account was told, once */
	json_t *counts = json_object_get(meta, "counts");
	assert_int_equal(json_integer_value(json_object_get(counts, "newly_eligible")), eligible);
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM pr_sent WHERE sent_ms > 0");
	assert_int_equal(th_sql_int(th_shared, sql),
			 json_integer_value(json_object_get(counts, "told")));
	json_decref(got);
	json_decref(meta);
	dg_code_free(code);
	dg_data_free(d);
	dg_intern_release(&codes);
	dg_program_free(p);
	/* the run's one use per subject shows on "who used my data": every resident
	   whose record it read, each once however many registries and pages held them */
	snprintf(sql, sizeof sql,
		 "SELECT COUNT(*) FROM xr_uses WHERE run = 'proactive-run-%lld' AND kind = 'bulk'"
		 " AND dept = 'mz' AND system = 'rule'",
		 (long long)run);
	int64_t uses = th_sql_int(th_shared, sql);
	snprintf(sql, sizeof sql,
		 "SELECT COUNT(DISTINCT subject) FROM xr_uses WHERE run = 'proactive-run-%lld'",
		 (long long)run);
	assert_int_equal(th_sql_int(th_shared, sql), uses);
	int64_t subjects =
		th_sql_int(th_shared, "SELECT COUNT(DISTINCT subject) FROM xr_records WHERE"
				      " ended IS NULL AND subject <> ''");
	assert_true(subjects > 200); /* more than one statement's worth (uses.c) */
	assert_int_equal(uses, subjects);
}

/* zhangsan is among the registries' persons: the answers about her and her household. */
static void my_benefits(void **state)
{
	(void)state;
	run_policy("elderly_allowance", "2026-12-01");
	/* the office page masks ID numbers (the truth API gives them whole) */
	struct th_client *st = th_signed_in(th_shared, DG_DEMO_STAFF);
	char *page = th_get_body(st, "/office/policies/elderly_allowance", 200);
	assert_non_null(page);
	assert_non_null(strstr(page, "********"));
	free(page);
	th_client_free(st);
	struct th_client *c = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	char *body = th_get_body(c, "/my/benefits", 200);
	assert_non_null(body);
	assert_non_null(strstr(body, "最低生活保障"));
	assert_non_null(strstr(body, "高龄津贴"));
	free(body);
	th_client_free(c);
}

static void no_grant(void **state)
{
	(void)state;
	int64_t shown = th_sql_int(th_shared, "SELECT current_run FROM pr_policies WHERE code ="
					      " 'dibao'");
	int64_t msgs = th_sql_int(th_shared, "SELECT COUNT(*) FROM notify_messages");
	th_sql(th_shared, "UPDATE xr_requests SET status = 'revoked' WHERE dept = 'mz' AND"
			  " purpose = 'dibao' AND status = 'approved'");
	th_sql(th_shared, "DELETE FROM pr_sent");
	int64_t run = run_policy("dibao", "2026-12-01");
	char sql[256];
	snprintf(sql, sizeof sql,
		 "SELECT COUNT(*) FROM pr_runs WHERE id = %lld AND state = 'failed' AND error"
		 " LIKE '%%grant%%'",
		 (long long)run);
	assert_int_equal(th_sql_int(th_shared, sql), 1);
	assert_int_equal(th_sql_int(th_shared, "SELECT current_run FROM pr_policies WHERE code ="
					       " 'dibao'"),
			 shown);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM notify_messages"), msgs);
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM pr_results WHERE run_id = %lld",
		 (long long)run);
	assert_int_equal(th_sql_int(th_shared, sql), 0);
	th_sql(th_shared, "UPDATE xr_requests SET status = 'approved' WHERE dept = 'mz' AND"
			  " purpose = 'dibao' AND status = 'revoked'");
}

/* Ask for a what-if, wait for its job; its row's id. */
static int64_t whatif(const char *code, json_t *body)
{
	char path[256];
	json_t *j = NULL;
	snprintf(path, sizeof path, "/api/proactive/policies/%s/whatif", code);
	assert_int_equal(api("POST", path, body, &j), 202);
	json_decref(body);
	int64_t id = json_integer_value(json_object_get(j, "whatif"));
	json_decref(th_wait_job(th_shared, json_integer_value(json_object_get(j, "job"))));
	json_decref(j);
	return id;
}

static void whatif_reads_exchange(void **state)
{
	(void)state;
	int64_t id = whatif("elderly_allowance", json_pack("{s:s,s:[s]}", "date", "2026-12-01",
							   "set", "elderly_min_age=70"));
	char path[128], sql[256];
	json_t *j = NULL;
	snprintf(path, sizeof path, "/api/proactive/whatifs/%lld", (long long)id);
	assert_int_equal(api("GET", path, NULL, &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "done");
	json_t *res = json_object_get(j, "result");
	assert_string_equal(json_string_value(json_object_get(res, "source")), "exchange");
	json_t *r0 = json_array_get(json_object_get(res, "rules"), 0);
	assert_true(json_integer_value(json_object_get(r0, "eligible_after")) >=
		    json_integer_value(json_object_get(r0, "eligible_before")));
	json_decref(j);
	snprintf(sql, sizeof sql,
		 "SELECT COUNT(*) FROM xr_uses WHERE run = 'proactive-whatif-%lld'", (long long)id);
	assert_true(th_sql_int(th_shared, sql) > 0);
	/* without a grant: failed with the exchange's reason */
	th_sql(th_shared, "UPDATE xr_requests SET status = 'revoked' WHERE dept = 'mz' AND"
			  " purpose = 'dibao' AND status = 'approved'");
	id = whatif("dibao",
		    json_pack("{s:s,s:[s]}", "date", "2026-12-01", "set", "dibao_line=900.00"));
	th_sql(th_shared, "UPDATE xr_requests SET status = 'approved' WHERE dept = 'mz' AND"
			  " purpose = 'dibao' AND status = 'revoked'");
	snprintf(sql, sizeof sql,
		 "SELECT COUNT(*) FROM pr_whatifs WHERE id = %lld AND state = 'failed' AND error"
		 " LIKE '%%grant%%' AND result = ''",
		 (long long)id);
	assert_int_equal(th_sql_int(th_shared, sql), 1);
}

static int setup(void **state)
{
	(void)state;
	const char *r = getenv("DGOV_ROOT");
	snprintf(root, sizeof root, "%s", r ? r : ".");
	unsetenv("DGOV_PROACTIVE_DATA");
	struct th_opts o = {.demo = true, .job_workers = 1, .job_lease_sec = 30};
	th_shared = th_start_opts(&o);
	if (!th_shared)
		return 1;
	mz_tok = th_token_header(th_shared, DG_DEMO_STAFF, DG_DEMO_PASSWORD);
	return !mz_tok;
}

static int teardown(void **state)
{
	free(mz_tok);
	return th_group_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(run_equals_engine),
		cmocka_unit_test(my_benefits),
		cmocka_unit_test(no_grant),
		cmocka_unit_test(whatif_reads_exchange),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
