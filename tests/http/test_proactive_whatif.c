/*
 * test_proactive_whatif.c - what-if for policy staff through the real
 * server on the store DGOV_TEST_DB selects, with the registries' records
 * read from a scratch copy of the rule tests' CSV data
 * (DGOV_PROACTIVE_DATA):
 *
 * - a what-if's answer per rule equals what the engine's own what-if (the
 *   code `dgov rule whatif --json` prints) gives for the same data and date,
 *   and its districts and people add up to it; a sweep gives the CLI's
 *   counts;
 * - the form page lists the policy's parameters; posting it queues the job
 *   and its answer page draws the charts with their tables;
 * - bad input (an unknown parameter, a value not of its type, a sweep of
 *   too many values, nothing asked, a bad date) is refused with a clear
 *   error and nothing written; a second what-if of a policy while one is
 *   under way is 409;
 * - staff of another department find neither the form nor an answer (404);
 *   a resident has no such page.
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
#include "node/demo.h"
#include "rule/rule.h"
#include "harness.h"

static char *mz_tok, *rs_tok;
static char datadir[] = "/tmp/dgov-whatif-XXXXXX";
static char root[4096];

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
	json_decref(body);
	th_resp_release(&r);
	th_client_free(cl);
	return st;
}

/* Ask for a what-if of code, wait for its job; its answer (GET /api/proactive/whatifs/N). */
static json_t *whatif(const char *code, json_t *body)
{
	char path[256];
	json_t *j = NULL;
	snprintf(path, sizeof path, "/api/proactive/policies/%s/whatif", code);
	assert_int_equal(api(mz_tok, "POST", path, body, &j), 202);
	int64_t id = json_integer_value(json_object_get(j, "whatif"));
	json_decref(th_wait_job(th_shared, json_integer_value(json_object_get(j, "job"))));
	json_decref(j);
	snprintf(path, sizeof path, "/api/proactive/whatifs/%lld", (long long)id);
	assert_int_equal(api(mz_tok, "GET", path, NULL, &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "done");
	return j;
}

/* The engine's own what-if (as `dgov rule whatif --json` prints it) for file and set. */
static json_t *engine_whatif(const char *file, const char *set)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/policies/%s.rule", root, file);
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
	struct dg_arena *a = dg_arena_new();
	struct dg_override ov;
	assert_int_equal(dg_rule_parse_override(p, a, set, &ov, &err), DG_OK);
	struct dg_buf b;
	dg_buf_init(&b, 1 << 20);
	assert_int_equal(dg_rule_whatif(p, d, &codes, ref, &ov, 1, 1, true, &b, &err), DG_OK);
	json_t *j = json_loads(dg_buf_str(&b), 0, NULL);
	assert_non_null(j);
	dg_buf_release(&b);
	dg_arena_free(a);
	dg_data_free(d);
	dg_intern_release(&codes);
	dg_program_free(p);
	return j;
}

/* got's rules equal the engine's, and its districts and people add up to them. */
static void agrees(json_t *got, json_t *want)
{
	json_t *res = json_object_get(got, "result");
	json_t *rules = json_object_get(res, "rules"), *wr = json_object_get(want, "rules");
	assert_int_equal(json_array_size(rules), json_array_size(wr));
	assert_true(json_array_size(rules) > 0);
	int64_t gain = 0, lose = 0;
	for (size_t i = 0; i < json_array_size(rules); i++) {
		json_t *g = json_array_get(rules, i), *w = json_array_get(wr, i);
		const char *keys[] = {"eligible_before", "eligible_after", "gain", "lose",
				      "amount_change_fen"};
		assert_string_equal(json_string_value(json_object_get(g, "rule")),
				    json_string_value(json_object_get(w, "rule")));
		for (int k = 0; k < 5; k++)
			assert_int_equal(json_integer_value(json_object_get(g, keys[k])),
					 json_integer_value(json_object_get(w, keys[k])));
		gain += json_integer_value(json_object_get(g, "gain"));
		lose += json_integer_value(json_object_get(g, "lose"));
	}
	int64_t dg = 0, dl = 0, pg = 0, pl = 0;
	size_t i;
	json_t *o;
	json_array_foreach (json_object_get(res, "by_district"), i, o) {
		dg += json_integer_value(json_object_get(o, "gain"));
		dl += json_integer_value(json_object_get(o, "lose"));
	}
	json_array_foreach (json_object_get(res, "people"), i, o) {
		const char *ch = json_string_value(json_object_get(o, "change"));
		pg += !strcmp(ch, "gain");
		pl += !strcmp(ch, "lose");
	}
	assert_int_equal(dg, gain);
	assert_int_equal(dl, lose);
	assert_int_equal(pg, gain);
	assert_int_equal(pl, lose);
}

static void equals_engine(void **state)
{
	(void)state;
	json_t *got = whatif("elderly_allowance", json_pack("{s:s,s:[s]}", "date", "2025-07-01",
							    "set", "elderly_min_age=75"));
	json_t *want = engine_whatif("elderly_allowance", "elderly_min_age=75");
	agrees(got, want);
	json_t *r0 = json_array_get(json_object_get(json_object_get(got, "result"), "rules"), 0);
	assert_int_equal(json_integer_value(json_object_get(r0, "gain")), 2);
	json_decref(got);
	json_decref(want);
	/* a region's line lowered: one household of that district loses */
	got = whatif("dibao", json_pack("{s:s,s:[s]}", "date", "2025-07-01", "set",
					"dibao_line[440303]=900.00"));
	want = engine_whatif("dibao", "dibao_line[440303]=900.00");
	agrees(got, want);
	json_t *d0 =
		json_array_get(json_object_get(json_object_get(got, "result"), "by_district"), 0);
	assert_string_equal(json_string_value(json_object_get(d0, "district")), "440303");
	assert_int_equal(json_integer_value(json_object_get(d0, "lose")), 1);
	json_decref(got);
	json_decref(want);
	/* a sweep gives the CLI's counts (tests/rule/run.sh: 70 -> 4, 90 -> 1) */
	got = whatif("elderly_allowance", json_pack("{s:s,s:s}", "date", "2025-07-01", "sweep",
						    "elderly_min_age=70..90:5"));
	json_t *points =
		json_object_get(json_object_get(json_object_get(got, "result"), "sweep"), "points");
	assert_int_equal(json_array_size(points), 5);
	assert_string_equal(json_string_value(json_object_get(json_array_get(points, 0), "value")),
			    "70");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(points, 0), "eligible")),
			 4);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(points, 4), "eligible")),
			 1);
	json_decref(got);
}

static void bad_input(void **state)
{
	(void)state;
	const char *count = "SELECT COUNT(*) FROM pr_whatifs";
	int64_t before = th_sql_int(th_shared, count);
	const char *p = "/api/proactive/policies/elderly_allowance/whatif";
	json_t *j = NULL;
	assert_int_equal(api(mz_tok, "POST", p, json_pack("{s:[s]}", "set", "nosuch=1"), &j), 400);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(j, "error"), "field")), "set");
	json_decref(j);
	assert_int_equal(
		api(mz_tok, "POST", p, json_pack("{s:[s]}", "set", "elderly_min_age=abc"), NULL),
		400);
	assert_int_equal(
		api(mz_tok, "POST", p, json_pack("{s:s}", "sweep", "elderly_min_age=1..200:1"), &j),
		400);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(j, "error"), "field")), "sweep");
	json_decref(j);
	assert_int_equal(api(mz_tok, "POST", p, json_object(), NULL), 400);
	assert_int_equal(
		api(mz_tok, "POST", p,
		    json_pack("{s:s,s:[s]}", "date", "2025-13-01", "set", "elderly_min_age=75"),
		    NULL),
		400);
	assert_int_equal(api(mz_tok, "POST", "/api/proactive/policies/nosuch/whatif",
			     json_pack("{s:[s]}", "set", "elderly_min_age=75"), NULL),
			 404);
	assert_int_equal(th_sql_int(th_shared, count), before);
	/* one under way: a second is refused */
	th_sql(th_shared, "INSERT INTO pr_whatifs (policy_id, version, ref_date, state, created_ms)"
			  " SELECT id, version, '2025-07-01', 'queued', 1 FROM pr_policies WHERE"
			  " code = 'elderly_allowance'");
	assert_int_equal(
		api(mz_tok, "POST", p, json_pack("{s:[s]}", "set", "elderly_min_age=75"), NULL),
		409);
	th_sql(th_shared, "DELETE FROM pr_whatifs WHERE job_id = 0");
	assert_int_equal(th_sql_int(th_shared, count), before);
	/* the form says what is wrong in the reader's language, and keeps what was entered */
	struct th_client *c = th_signed_in(th_shared, DG_DEMO_STAFF);
	struct th_resp r = {0};
	const char *form = "/office/policies/elderly_allowance/whatif";
	assert_int_equal(th_post_csrf(c, form, form, "p_elderly_min_age=abc&date=", &r), 422);
	assert_non_null(strstr(r.body, "参数的新值与其类型不符"));
	assert_non_null(strstr(r.body, "value=\"abc\""));
	th_resp_release(&r);
	th_client_free(c);
	assert_int_equal(th_sql_int(th_shared, count), before);
}

static void pages(void **state)
{
	(void)state;
	struct th_client *c = th_signed_in(th_shared, DG_DEMO_STAFF);
	const char *form = "/office/policies/elderly_allowance/whatif";
	char *body = th_get_body(c, form, 200);
	assert_non_null(strstr(body, "name=\"p_elderly_min_age\""));
	assert_non_null(strstr(body, "<option value=\"elderly_min_age\">"));
	free(body);
	body = th_get_body(c, "/office/policies/elderly_allowance", 200);
	assert_non_null(strstr(body, "href=\"/office/policies/elderly_allowance/whatif\""));
	free(body);
	struct th_resp r = {0};
	assert_int_equal(th_post_csrf(c, form, form,
				      "date=2025-07-01&p_elderly_min_age=75&sweep_param="
				      "elderly_min_age&sweep_from=70&sweep_to=90&sweep_step=5",
				      &r),
			 303);
	th_resp_release(&r);
	int64_t id = th_sql_int(th_shared, "SELECT MAX(id) FROM pr_whatifs");
	char q[256];
	snprintf(q, sizeof q, "SELECT job_id FROM pr_whatifs WHERE id = %lld", (long long)id);
	json_decref(th_wait_job(th_shared, th_sql_int(th_shared, q)));
	snprintf(q, sizeof q, "/office/whatifs/%lld", (long long)id);
	body = th_get_body(c, q, 200);
	assert_non_null(strstr(body, "<title id=\"whatif-district-title\">"));
	assert_non_null(strstr(body, "<title id=\"whatif-sweep-title\">"));
	assert_non_null(strstr(body, "<caption id=\"whatif-sweep-caption\">"));
	assert_non_null(strstr(body, "<figcaption>"));
	free(body);
	th_client_free(c);
	/* the answer is sealed at rest: it lists people */
	snprintf(q, sizeof q,
		 "SELECT COUNT(*) FROM pr_whatifs WHERE id = %lld AND result <> '' AND result NOT"
		 " LIKE '%%{%%' AND result NOT LIKE '%%\"id\"%%'",
		 (long long)id);
	assert_int_equal(th_sql_int(th_shared, q), 1);
	/* another department finds neither the form nor the answer */
	c = th_signed_in(th_shared, DG_DEMO_STAFF2);
	free(th_get_body(c, form, 404));
	snprintf(q, sizeof q, "/office/whatifs/%lld", (long long)id);
	free(th_get_body(c, q, 404));
	th_client_free(c);
	snprintf(q, sizeof q, "/api/proactive/whatifs/%lld", (long long)id);
	assert_int_equal(api(rs_tok, "GET", q, NULL, NULL), 404);
	assert_int_equal(api(rs_tok, "POST", "/api/proactive/policies/elderly_allowance/whatif",
			     json_pack("{s:[s]}", "set", "elderly_min_age=75"), NULL),
			 404);
	/* a resident has no such page */
	c = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	free(th_get_body(c, form, 403));
	th_client_free(c);
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
	mz_tok = th_token_header(th_shared, DG_DEMO_STAFF, DG_DEMO_PASSWORD);
	rs_tok = th_token_header(th_shared, DG_DEMO_STAFF2, DG_DEMO_PASSWORD);
	return !mz_tok || !rs_tok;
}

static int teardown(void **state)
{
	free(mz_tok);
	free(rs_tok);
	char cmd[8400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", datadir);
	if (system(cmd) != 0)
		return 1;
	return th_group_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(equals_engine),
		cmocka_unit_test(bad_input),
		cmocka_unit_test(pages),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
