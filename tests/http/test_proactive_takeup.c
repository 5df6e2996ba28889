/*
 * test_proactive_takeup.c - a policy's take-up through the real server on
 * the store DGOV_TEST_DB selects, with the registries' records read from a
 * scratch copy of the rule tests' CSV data (DGOV_PROACTIVE_DATA):
 *
 * - a run counts, per district, the records the engine finds eligible
 *   (equal, district by district, to the engine's own answers for the same
 *   data and date), those with an account told, and those with an account
 *   that applied through the policy's item; entitled but not receiving is
 *   eligible less applied and granted;
 * - the CSV of every run by district is exactly the expected bytes (BOM,
 *   CRLF, every cell quoted by dg_csv_cell);
 * - the public page and the staff page draw both charts, each a figure with
 *   its caption and the table of its numbers, in zh and en;
 * - an unknown policy is 404 on the page and the file, and changes nothing;
 *   a resident has no staff page.
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
#include "core/buf.h"
#include "core/csv.h"
#include "core/date.h"
#include "node/demo.h"
#include "rule/rule.h"
#include "harness.h"

static char *mz_tok;
static char datadir[] = "/tmp/dgov-takeup-XXXXXX";
static char root[4096];

static int64_t run_dibao(void)
{
	struct th_client *cl = th_client_new(th_shared);
	const char *hdrs[] = {mz_tok, NULL};
	const char *body = "{\"date\": \"2025-07-01\"}";
	struct th_resp r = {0};
	assert_int_equal(th_request(cl, "POST", "/api/proactive/policies/dibao/runs",
				    "application/json", body, strlen(body), hdrs, &r),
			 202);
	json_t *j = json_loads(r.body, 0, NULL);
	int64_t job = json_integer_value(json_object_get(j, "job"));
	json_decref(j);
	th_resp_release(&r);
	th_client_free(cl);
	json_decref(th_wait_job(th_shared, job));
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT id FROM pr_runs WHERE job_id = %lld AND state = 'done'",
		 (long long)job);
	return th_sql_int(th_shared, sql);
}

/* The engine's eligible households of the fixture on 2025-07-01, by region: "code=n;...". */
static void engine_by_district(char *out, size_t n)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/policies/dibao.rule", root);
	char *paths[] = {path};
	struct dg_program *p = dg_rule_load(paths, 1);
	assert_int_equal(p->diag.errors, 0);
	struct dg_intern codes;
	struct dg_err err = {0};
	dg_intern_init(&codes);
	struct dg_data *d = dg_data_load_csv(p->schema, &codes, datadir, &err);
	assert_non_null(d);
	dg_day ref;
	assert_int_equal(dg_day_parse("2025-07-01", &ref), DG_OK);
	struct dg_rule_diag diag;
	dg_rule_diag_init(&diag);
	struct dg_code *code = dg_rule_compile(p, &codes, ref, NULL, 0, &diag);
	dg_rule_diag_release(&diag);
	assert_non_null(code);
	assert_int_equal(p->nrules, 1);
	int ent = p->rules[0].ent;
	int f = dg_schema_field(p->schema, ent, "region");
	assert_true(f >= 0);
	json_t *by = json_object();
	for (int64_t row = 0; row < d->t[ent].n; row++) {
		enum dg_outcome o;
		int64_t amount = 0;
		bool known = false;
		struct dg_explain_cond conds[64];
		int nc = 0;
		assert_int_equal(dg_rule_explain_eval(code, d, 0, row, &o, &amount, &known, conds,
						      64, &nc, &err),
				 DG_OK);
		if (o != DG_ELIGIBLE)
			continue;
		const char *region = codes.s[d->t[ent].col[f].v[row]];
		json_object_set_new(
			by, region,
			json_integer(json_integer_value(json_object_get(by, region)) + 1));
	}
	/* in the order of the codes, as the file has them */
	const char *keys[16];
	size_t k = 0;
	const char *key;
	json_t *v;
	json_object_foreach (by, key, v)
		if (k < 16)
			keys[k++] = key;
	for (size_t i = 0; i < k; i++)
		for (size_t j = i + 1; j < k; j++)
			if (strcmp(keys[j], keys[i]) < 0) {
				const char *t = keys[i];
				keys[i] = keys[j];
				keys[j] = t;
			}
	out[0] = '\0';
	for (size_t i = 0; i < k; i++)
		snprintf(out + strlen(out), n - strlen(out), "%s=%lld;", keys[i],
			 (long long)json_integer_value(json_object_get(by, keys[i])));
	json_decref(by);
	dg_code_free(code);
	dg_data_free(d);
	dg_intern_release(&codes);
	dg_program_free(p);
}

static char *get(const char *path, long want)
{
	struct th_client *c = th_client_new(th_shared);
	char *body = th_get_body(c, path, want);
	th_client_free(c);
	return body;
}

/* The CSV's rows of one run as "district=eligible;..." and its other columns summed. */
static void csv_run(const char *csv, int64_t run, char *by, size_t n, int64_t sums[6])
{
	char prefix[32];
	snprintf(prefix, sizeof prefix, "\"%lld\",", (long long)run);
	by[0] = '\0';
	memset(sums, 0, 6 * sizeof *sums);
	for (const char *l = csv; l && *l; l = strstr(l, "\r\n") ? strstr(l, "\r\n") + 2 : NULL) {
		if (strncmp(l, prefix, strlen(prefix)) != 0)
			continue;
		char district[32];
		long long c[6];
		assert_int_equal(
			sscanf(l + strlen(prefix),
			       "\"%*[^\"]\",\"%31[^\"]\",\"%lld\",\"%lld\",\"%lld\",\"%lld\","
			       "\"%lld\",\"%lld\"",
			       district, &c[0], &c[1], &c[2], &c[3], &c[4], &c[5]),
			7);
		if (c[0])
			snprintf(by + strlen(by), n - strlen(by), "%s=%lld;", district, c[0]);
		for (int i = 0; i < 6; i++)
			sums[i] += c[i];
	}
}

/* One run's take-up equals the engine's answers, and the CSV is exactly its rows. */
static void counts_equal_engine(void **state)
{
	(void)state;
	int64_t run = run_dibao();
	assert_true(run > 0);
	char want[512], got[512];
	engine_by_district(want, sizeof want);
	assert_true(strlen(want) > 0);
	char *csv = get("/policies/dibao/takeup.csv", 200);
	int64_t sums[6];
	csv_run(csv, run, got, sizeof got, sums);
	assert_string_equal(got, want);
	/* zhangsan, tied to H02, was told of it in this first run */
	char q[256];
	snprintf(q, sizeof q,
		 "SELECT COUNT(*) FROM pr_results WHERE run_id = %lld AND outcome = 'ELIGIBLE'",
		 (long long)run);
	int64_t eligible = th_sql_int(th_shared, q);
	assert_int_equal(sums[0], eligible);
	snprintf(q, sizeof q,
		 "SELECT COUNT(*) FROM pr_results x JOIN pr_who w ON w.run_id = x.run_id AND"
		 " w.rule = x.rule AND w.rid = x.rid WHERE x.run_id = %lld AND x.outcome ="
		 " 'ELIGIBLE' AND w.user_id <> 0",
		 (long long)run);
	int64_t tied = th_sql_int(th_shared, q);
	assert_int_equal(sums[1], tied);
	assert_int_equal(sums[2], 0);                  /* applied */
	assert_int_equal(sums[3], 0);                  /* granted: dibao is not a grant */
	assert_int_equal(sums[5], eligible - sums[2]); /* entitled, not receiving */
	free(csv);
}

/* The ID of an eligible record of the shown run of dibao, from the truth API (malloc'd). */
static char *an_eligible(void)
{
	char path[128];
	snprintf(path, sizeof path, "/api/proactive/runs/%lld/matches?outcome=ELIGIBLE",
		 (long long)th_sql_int(th_shared,
				       "SELECT current_run FROM pr_policies WHERE code = 'dibao'"));
	struct th_client *cl = th_client_new(th_shared);
	const char *hdrs[] = {mz_tok, NULL};
	struct th_resp r = {0};
	assert_int_equal(th_request(cl, "GET", path, NULL, NULL, 0, hdrs, &r), 200);
	json_t *j = json_loads(r.body, 0, NULL);
	const char *id = json_string_value(
		json_object_get(json_array_get(json_object_get(j, "matches"), 0), "id"));
	assert_non_null(id);
	char *out = strdup(id);
	json_decref(j);
	th_resp_release(&r);
	th_client_free(cl);
	return out;
}

/* An application through the item counts as applied, and not as entitled-not-receiving. */
static void applied_counts(void **state)
{
	(void)state;
	/* lisi is tied to an eligible household, and has applied for dibao */
	char *id = an_eligible(), q[256];
	snprintf(q, sizeof q,
		 "INSERT INTO pr_subjects (user_id, ent, rid) SELECT id, 'household', '%s' FROM"
		 " users WHERE username = 'lisi'",
		 id);
	th_sql(th_shared, q);
	free(id);
	th_sql(th_shared,
	       "INSERT INTO cases (ref, item_code, item_version, item_name_zh, item_name_en,"
	       " promised_days, dept_id, applicant_id, status, form, answers, prefilled,"
	       " created_ms, updated_ms, submitted_ms) SELECT 'T-TAKEUP-1', '990100-MZ-003', 1,"
	       " '低保', 'dibao', 20, (SELECT MIN(id) FROM departments), u.id, 'submitted', '{}',"
	       " '{}', '{}', 1, 1, 1 FROM users u WHERE u.username = 'lisi'");
	int64_t run = run_dibao();
	char *csv = get("/policies/dibao/takeup.csv", 200);
	char by[512];
	int64_t sums[6];
	csv_run(csv, run, by, sizeof by, sums);
	assert_int_equal(sums[2], 1);
	assert_int_equal(sums[5], sums[0] - sums[2]);
	/* the file is exactly the rows of the store's counts, both runs, in order */
	struct dg_buf want;
	dg_buf_init(&want, 1 << 20);
	assert_int_equal(dg_buf_adds(&want, "\xEF\xBB\xBF"), DG_OK);
	const char *head[] = {"run",     "ref_date", "district", "eligible",     "notified",
			      "applied", "granted",  "declined", "not_receiving"};
	for (int i = 0; i < 9; i++)
		assert_int_equal(dg_csv_cell(&want, head[i], i == 8), DG_OK);
	int64_t nrows = th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_takeup t JOIN pr_runs r ON"
					      " r.id = t.run_id JOIN pr_policies p ON p.id ="
					      " r.policy_id WHERE p.code = 'dibao'");
	for (int64_t k = 0; k < nrows; k++) {
		char sql[512], cell[64];
		const char *cols[] = {"t.run_id", "t.eligible", "t.notified", "t.applied"};
		int64_t v[4];
		for (int c = 0; c < 4; c++) {
			snprintf(sql, sizeof sql,
				 "SELECT %s FROM pr_takeup t JOIN pr_runs r ON r.id = t.run_id JOIN"
				 " pr_policies p ON p.id = r.policy_id WHERE p.code = 'dibao'"
				 " ORDER BY t.run_id, t.district LIMIT 1 OFFSET %lld",
				 cols[c], (long long)k);
			v[c] = th_sql_int(th_shared, sql);
		}
		/* districts as text: the k-th code by the same order, from the fixture's regions */
		snprintf(sql, sizeof sql,
			 "SELECT CAST(t.district AS BIGINT) FROM pr_takeup t JOIN pr_runs r ON"
			 " r.id = t.run_id JOIN pr_policies p ON p.id = r.policy_id WHERE p.code ="
			 " 'dibao' ORDER BY t.run_id, t.district LIMIT 1 OFFSET %lld",
			 (long long)k);
		int64_t district = th_sql_int(th_shared, sql);
		snprintf(cell, sizeof cell, "%lld", (long long)v[0]);
		assert_int_equal(dg_csv_cell(&want, cell, false), DG_OK);
		assert_int_equal(dg_csv_cell(&want, "2025-07-01", false), DG_OK);
		snprintf(cell, sizeof cell, "%lld", (long long)district);
		assert_int_equal(dg_csv_cell(&want, cell, false), DG_OK);
		int64_t left = v[1] - v[3];
		int64_t counts[6] = {v[1], v[2], v[3], 0, 0, left > 0 ? left : 0};
		for (int c = 0; c < 6; c++) {
			snprintf(cell, sizeof cell, "%lld", (long long)counts[c]);
			assert_int_equal(dg_csv_cell(&want, cell, c == 5), DG_OK);
		}
	}
	assert_string_equal(csv, dg_buf_str(&want));
	assert_non_null(strstr(csv, "\"run\",\"ref_date\",\"district\",\"eligible\""));
	assert_non_null(strstr(csv, "\"not_receiving\"\r\n"));
	dg_buf_release(&want);
	free(csv);
}

/* Both pages draw both charts with their tables; no script; zh and en. */
static void pages(void **state)
{
	(void)state;
	char *body = get("/policies/dibao", 200);
	assert_non_null(strstr(body, "<figure"));
	assert_non_null(strstr(body, "<figcaption>"));
	assert_non_null(strstr(body, "<title id=\"takeup-district-title\">各区应享未享人数"));
	assert_non_null(strstr(body, "aria-labelledby=\"takeup-time-title takeup-time-desc\""));
	assert_non_null(strstr(body, "<caption id=\"takeup-district-caption\">"));
	assert_non_null(strstr(body, "<th scope=\"row\">440303</th>"));
	assert_non_null(strstr(body, "href=\"/policies/dibao/takeup.csv\""));
	free(body);
	struct th_client *c = th_client_new(th_shared);
	const char *en[] = {"Accept-Language: en", NULL};
	struct th_resp r = {0};
	assert_int_equal(th_request(c, "GET", "/policies/dibao", NULL, NULL, 0, en, &r), 200);
	assert_non_null(strstr(r.body, "Entitled but not receiving, by district"));
	assert_non_null(strstr(r.body, "Subsistence allowance"));
	th_resp_release(&r);
	th_client_free(c);
	/* the list links to it */
	body = get("/policies", 200);
	assert_non_null(strstr(body, "href=\"/policies/dibao\""));
	free(body);
	/* a policy that has not run says so */
	body = get("/policies/veterans", 200);
	assert_null(strstr(body, "<figure"));
	free(body);
	/* the staff page has the same section */
	c = th_signed_in(th_shared, DG_DEMO_STAFF);
	body = th_get_body(c, "/office/policies/dibao", 200);
	assert_non_null(strstr(body, "<title id=\"takeup-district-title\">"));
	assert_non_null(strstr(body, "<title id=\"takeup-time-title\">"));
	free(body);
	th_client_free(c);
	/* a resident has no staff page */
	c = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	free(th_get_body(c, "/office/policies/dibao", 403));
	th_client_free(c);
}

/* An unknown policy: 404 on the page and the file, nothing written. */
static void unknown_policy(void **state)
{
	(void)state;
	int64_t rows = th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_takeup");
	free(get("/policies/nosuch", 404));
	free(get("/policies/nosuch/takeup.csv", 404));
	free(get("/policies/NO%20SUCH/takeup.csv", 404));
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_takeup"), rows);
}

static int setup(void **state)
{
	(void)state;
	const char *r = getenv("DGOV_ROOT");
	snprintf(root, sizeof root, "%s", r ? r : ".");
	if (!mkdtemp(datadir))
		return 1;
	char cmd[8400];
	snprintf(cmd, sizeof cmd, "cp '%s'/tests/rule/data/*.csv '%s'/", root, datadir);
	if (system(cmd) != 0)
		return 1;
	setenv("DGOV_PROACTIVE_DATA", datadir, 1);
	struct th_opts o = {.demo = true, .job_workers = 1, .job_lease_sec = 5};
	th_shared = th_start_opts(&o);
	if (!th_shared)
		return 1;
	/* zhangsan is household H02 of the fixture */
	th_sql(th_shared, "INSERT INTO pr_subjects (user_id, ent, rid) SELECT id, 'household',"
			  " 'H02' FROM users WHERE username = 'zhangsan'");
	mz_tok = th_token_header(th_shared, DG_DEMO_STAFF, DG_DEMO_PASSWORD);
	return !mz_tok;
}

static int teardown(void **state)
{
	free(mz_tok);
	char cmd[8400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", datadir);
	if (system(cmd) != 0)
		return 1;
	return th_group_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counts_equal_engine),
		cmocka_unit_test(applied_counts),
		cmocka_unit_test(pages),
		cmocka_unit_test(unknown_policy),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
