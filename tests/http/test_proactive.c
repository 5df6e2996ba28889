/*
 * test_proactive.c - proactive services through the real server on the
 * store DGOV_TEST_DB selects, with the registries' records read from a
 * scratch copy of the rule tests' CSV data (DGOV_PROACTIVE_DATA):
 *
 * - the demo region's policies are published (every one compiled and its
 *   tests passed);
 * - publishing is refused, with nothing changed, for a rule file that does
 *   not compile (each error with its line, on the API and on the page in
 *   the reader's language), for failing tests, for another schema, and for
 *   staff of another department; the owner publishes a new version;
 * - a run's answers, through the truth API, equal the engine's own
 *   explanation for the same data and date, record by record;
 * - a second run of a policy is refused while one is under way; another
 *   department may neither run a policy nor see its matches;
 * - a person gone from the registry between runs is no longer matched and
 *   shows as no longer eligible; a run over a missing data folder fails
 *   with a clear error and leaves the last results shown;
 * - /my/benefits shows a resident their answers with each condition, in
 *   zh and en.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "app/app.h"
#include "core/date.h"
#include "jobs/jobs.h"
#include "node/demo.h"
#include "rule/rule.h"
#include "rule/yaml.h"
#include "harness.h"

static char *admin_tok, *mz_tok, *rs_tok;
static char datadir[] = "/tmp/dgov-proactive-XXXXXX";
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
	th_resp_release(&r);
	th_client_free(cl);
	return st;
}

static char *slurp(const char *rel)
{
	char path[4200];
	char *text = NULL;
	size_t len = 0;
	struct dg_err err = {0};
	snprintf(path, sizeof path, "%s/%s", root, rel);
	assert_int_equal(dg_rule_read_file(path, 1 << 22, &text, &len, &err), DG_OK);
	return text;
}

/* Replace the first from in s by to (a new malloc'd string). */
static char *replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	assert_non_null(p);
	size_t n = strlen(s) - strlen(from) + strlen(to) + 1;
	char *out = malloc(n);
	snprintf(out, n, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
	return out;
}

static json_t *publish_body(const char *code, const char *dept, const char *rule, const char *tests)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "code", code, "dept", dept, "item",
			 "990100-MZ-003", "mode", "apply", "effective", "2025-01-01", "rule", rule,
			 "tests", tests);
}

static int64_t version_of(const char *code)
{
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT version FROM pr_policies WHERE code = '%s'", code);
	return th_sql_int(th_shared, sql);
}

static void demo_policies(void **state)
{
	(void)state;
	json_t *j = NULL;
	assert_int_equal(api(mz_tok, "GET", "/api/proactive/policies", NULL, &j), 200);
	json_t *l = json_object_get(j, "policies");
	assert_int_equal(json_array_size(l), 12);
	int rules = 0;
	size_t i;
	json_t *p;
	json_array_foreach (l, i, p) {
		assert_int_equal(json_integer_value(json_object_get(p, "version")), 1);
		assert_true(json_integer_value(json_object_get(p, "tests_passed")) > 0);
		const char *rs = json_string_value(json_object_get(p, "rules"));
		rules++;
		for (const char *c = rs; *c; c++)
			rules += *c == ',';
	}
	assert_int_equal(rules, 13);
	json_decref(j);
	assert_int_equal(api(mz_tok, "GET", "/api/proactive/policies/dibao", NULL, &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "mode")), "apply");
	assert_string_equal(json_string_value(json_object_get(j, "item")), "990100-MZ-003");
	json_decref(j);
	assert_int_equal(api(mz_tok, "GET", "/api/proactive/policies/nosuch", NULL, NULL), 404);
}

static void publish_refused(void **state)
{
	(void)state;
	char *rule = slurp("policies/dibao.rule"), *tests = slurp("policies/tests/dibao.yaml");
	json_t *j = NULL, *b;
	/* a misspelt name on line 26 of the file: the error names that line */
	char *bad =
		replace(rule, "income_pc < dibao_line[region]", "income_pc < dibao_lin[region]");
	b = publish_body("dibao", "mz", bad, tests);
	assert_int_equal(api(mz_tok, "POST", "/api/proactive/policies", b, &j), 422);
	json_t *e = json_object_get(j, "error");
	assert_string_equal(json_string_value(json_object_get(e, "field")), "rule");
	json_t *first = json_array_get(json_object_get(e, "errors"), 0);
	assert_int_equal(json_integer_value(json_object_get(first, "line")), 24);
	assert_non_null(
		strstr(json_string_value(json_object_get(first, "message")), "line[region]"));
	json_decref(j);
	json_decref(b);
	free(bad);
	/* a test that expects what the rules do not give */
	bad = replace(tests, "H2: {dibao: {outcome: NOT_ELIGIBLE",
		      "H2: {dibao: {outcome: ELIGIBLE");
	b = publish_body("dibao", "mz", rule, bad);
	assert_int_equal(api(mz_tok, "POST", "/api/proactive/policies", b, &j), 422);
	e = json_object_get(j, "error");
	assert_string_equal(json_string_value(json_object_get(e, "field")), "tests");
	assert_true(json_array_size(json_object_get(e, "errors")) >= 1);
	json_decref(j);
	json_decref(b);
	free(bad);
	/* another schema file would be read from the server's disk: refused first */
	bad = replace(rule, "schema \"schema.yaml\"", "schema \"../../etc/hosts\"");
	b = publish_body("dibao", "mz", bad, tests);
	assert_int_equal(api(mz_tok, "POST", "/api/proactive/policies", b, &j), 422);
	first = json_array_get(json_object_get(json_object_get(j, "error"), "errors"), 0);
	assert_int_equal(json_integer_value(json_object_get(first, "line")), 4);
	json_decref(j);
	json_decref(b);
	free(bad);
	/* staff of another department, for this department or their own */
	b = publish_body("dibao", "mz", rule, tests);
	assert_int_equal(api(rs_tok, "POST", "/api/proactive/policies", b, NULL), 403);
	json_decref(b);
	b = publish_body("dibao", "rs", rule, tests);
	assert_int_equal(api(rs_tok, "POST", "/api/proactive/policies", b, NULL), 403);
	json_decref(b);
	/* bad fields */
	b = publish_body("Dibao!", "mz", rule, tests);
	assert_int_equal(api(mz_tok, "POST", "/api/proactive/policies", b, NULL), 422);
	json_decref(b);
	b = publish_body("dibao", "mz", rule, tests);
	json_object_set_new(b, "mode", json_string("pay"));
	assert_int_equal(api(mz_tok, "POST", "/api/proactive/policies", b, NULL), 422);
	json_object_set_new(b, "mode", json_string("apply"));
	json_object_set_new(b, "item", json_string("990100-XX-999"));
	assert_int_equal(api(mz_tok, "POST", "/api/proactive/policies", b, NULL), 422);
	json_object_set_new(b, "item", json_string("990100-MZ-003"));
	json_object_set_new(b, "effective", json_string("2025-02-30"));
	assert_int_equal(api(mz_tok, "POST", "/api/proactive/policies", b, NULL), 422);
	json_decref(b);
	/* nothing changed */
	assert_int_equal(version_of("dibao"), 1);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_versions"), 12);
	/* the owner publishes a new version */
	b = publish_body("dibao", "mz", rule, tests);
	assert_int_equal(api(mz_tok, "POST", "/api/proactive/policies", b, &j), 201);
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 2);
	json_decref(j);
	json_decref(b);
	assert_int_equal(version_of("dibao"), 2);
	free(rule);
	free(tests);
}

/* The page: a compile error is shown with its line, in the reader's language. */
static void publish_page(void **state)
{
	(void)state;
	struct th_client *c = th_signed_in(th_shared, DG_DEMO_STAFF);
	struct th_resp r = {0};
	char *body = th_get_body(c, "/office/policies", 200);
	assert_non_null(strstr(body, "dibao"));
	assert_non_null(strstr(body, "<textarea"));
	free(body);
	char *rule = th_enc("schema \"schema.yaml\"\nrule x \"x\" / \"x\"\n  for household\n"
			    "  condition c \"c\" / \"c\":\n    nosuchfield > 1\nend\n");
	char *tests = th_enc("tests: []\n");
	char fields[2048];
	snprintf(fields, sizeof fields,
		 "code=newone&dept=mz&item=&mode=notify&effective=2026-01-01&schedule=&rule=%s"
		 "&tests=%s",
		 rule, tests);
	assert_int_equal(th_post_csrf(c, "/office/policies", "/office/policies", fields, &r), 422);
	assert_non_null(strstr(r.body, "行 5"));
	assert_non_null(strstr(r.body, "nosuchfield"));
	assert_non_null(strstr(r.body, "规则文件无法编译"));
	th_resp_release(&r);
	assert_int_equal(
		th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_policies WHERE code = 'newone'"), 0);
	free(rule);
	free(tests);
	th_client_free(c);
}

static int64_t start_run(const char *tok, const char *code, const char *date, long want)
{
	json_t *j = NULL, *b = json_pack("{s:s}", "date", date);
	char path[256];
	snprintf(path, sizeof path, "/api/proactive/policies/%s/runs", code);
	assert_int_equal(api(tok, "POST", path, b, &j), want);
	json_decref(b);
	int64_t job = json_integer_value(json_object_get(j, "job"));
	json_decref(j);
	if (want != 202)
		return 0;
	json_t *done = th_wait_job(th_shared, job);
	assert_non_null(done);
	json_decref(done);
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT id FROM pr_runs WHERE job_id = %lld", (long long)job);
	return th_sql_int(th_shared, sql);
}

static json_t *matches(const char *tok, int64_t run, long want)
{
	json_t *j = NULL;
	char path[256];
	snprintf(path, sizeof path, "/api/proactive/runs/%lld/matches?per_page=500",
		 (long long)run);
	assert_int_equal(api(tok, "GET", path, NULL, &j), want);
	return j;
}

/* The same answers from the engine itself: every record, outcome and amount. */
static void engine_agrees(const char *file, const char *date, json_t *got)
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
	assert_int_equal(dg_day_parse(date, &ref), DG_OK);
	struct dg_rule_diag diag;
	dg_rule_diag_init(&diag);
	struct dg_code *code = dg_rule_compile(p, &codes, ref, NULL, 0, &diag);
	dg_rule_diag_release(&diag);
	assert_non_null(code);
	json_t *list = json_object_get(got, "matches");
	size_t n = 0;
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
			const char *id = dg_data_id(d, ent, row);
			json_t *m = NULL;
			size_t i;
			json_t *x;
			json_array_foreach (list, i, x)
				if (!strcmp(json_string_value(json_object_get(x, "id")), id) &&
				    !strcmp(json_string_value(json_object_get(x, "rule")),
					    p->rules[ri].id))
					m = x;
			assert_non_null(m);
			assert_string_equal(json_string_value(json_object_get(m, "outcome")),
					    dg_outcome_name(o));
			json_t *fen = json_object_get(m, "amount_fen");
			if (o == DG_ELIGIBLE && known)
				assert_int_equal(json_integer_value(fen), amount);
			else
				assert_true(json_is_null(fen));
			int blocking = 0;
			for (int k = 0; k < nc; k++)
				blocking += conds[k].result == DG_NOT_ELIGIBLE;
			if (o == DG_NOT_ELIGIBLE)
				assert_int_equal(json_array_size(json_object_get(m, "blocking")),
						 blocking);
		}
	}
	assert_int_equal(json_integer_value(json_object_get(got, "total")), n);
	dg_code_free(code);
	dg_data_free(d);
	dg_intern_release(&codes);
	dg_program_free(p);
}

static void run_equals_engine(void **state)
{
	(void)state;
	int64_t run = start_run(mz_tok, "dibao", "2025-07-01", 202);
	assert_true(run > 0);
	json_t *j = matches(mz_tok, run, 200);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "done");
	assert_true(json_is_true(json_object_get(j, "current")));
	engine_agrees("dibao", "2025-07-01", j);
	json_decref(j);
	run = start_run(mz_tok, "disability_subsidies", "2025-07-01", 202);
	j = matches(mz_tok, run, 200);
	engine_agrees("disability_subsidies", "2025-07-01", j);
	json_decref(j);
	/* filters and paging */
	char path[256];
	snprintf(path, sizeof path,
		 "/api/proactive/runs/%lld/matches?rule=disability_living&per_page=2&page=1",
		 (long long)run);
	assert_int_equal(api(mz_tok, "GET", path, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "matches")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "total")), 15);
	json_decref(j);
	snprintf(path, sizeof path, "/api/proactive/runs/%lld/matches?per_page=501",
		 (long long)run);
	assert_int_equal(api(mz_tok, "GET", path, NULL, NULL), 400);
	/* another department sees neither the run nor its matches, nor may run it */
	json_decref(matches(rs_tok, run, 403));
	start_run(rs_tok, "dibao", "2025-07-01", 403);
	start_run(mz_tok, "nosuch", "2025-07-01", 404);
	start_run(mz_tok, "dibao", "2025-13-01", 400);
	/* the policy's page lists the run and its answers */
	struct th_client *c = th_signed_in(th_shared, DG_DEMO_STAFF);
	char *body = th_get_body(c, "/office/policies/disability_subsidies", 200);
	assert_non_null(strstr(body, "disability_living"));
	assert_non_null(strstr(body, "/jobs/"));
	free(body);
	th_client_free(c);
}

/* The values an answer was reached with are sealed at rest and opened for staff. */
static void sealed_at_rest(void **state)
{
	(void)state;
	int64_t run = start_run(admin_tok, "elderly_allowance", "2025-07-01", 202);
	assert_true(run > 0);
	/* no ID, name or birth date of the fixture in clear in any stored column
	   ('|' and '"' around an ID: neither is in a sealed text's base64) */
	char path[4200];
	snprintf(path, sizeof path, "%s/persons.csv", datadir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[2048];
	int people = 0;
	assert_non_null(fgets(line, sizeof line, f)); /* the header */
	while (fgets(line, sizeof line, f)) {
		char *rest = line;
		const char *id = strsep(&rest, ",");
		const char *name = strsep(&rest, ",");
		const char *birth = strsep(&rest, ",");
		assert_non_null(birth);
		const char *all = "'|' || rule || '|' || ent || '|' || rid || '|' || rid_sealed ||"
				  " '|' || outcome || '|' || blocking || '|' || missing || '|' ||"
				  " explain || '|' || change || '|'";
		char sql[1024];
		snprintf(sql, sizeof sql,
			 "SELECT COUNT(*) FROM pr_results WHERE run_id = %lld AND (%s LIKE"
			 " '%%|%s|%%' OR %s LIKE '%%\"%s\"%%')",
			 (long long)run, all, id, all, id);
		assert_int_equal(th_sql_int(th_shared, sql), 0);
		const char *values[] = {name, birth};
		for (int v = 0; v < 2; v++) {
			if (!*values[v])
				continue;
			snprintf(sql, sizeof sql,
				 "SELECT COUNT(*) FROM pr_results WHERE run_id = %lld AND %s LIKE"
				 " '%%%s%%'",
				 (long long)run, all, values[v]);
			assert_int_equal(th_sql_int(th_shared, sql), 0);
		}
		people++;
	}
	fclose(f);
	assert_true(people > 10);
	char sql[256];
	snprintf(sql, sizeof sql,
		 "SELECT COUNT(*) FROM pr_results WHERE run_id = %lld AND (explain LIKE '{%%'"
		 " OR blocking LIKE '[%%' OR missing LIKE '[%%' OR LENGTH(rid) <> 32)",
		 (long long)run);
	assert_int_equal(th_sql_int(th_shared, sql), 0);
	/* the people an answer is about are found without their record's ID */
	snprintf(sql, sizeof sql,
		 "SELECT COUNT(*) FROM pr_who WHERE run_id = %lld AND rid LIKE 'P0%%'",
		 (long long)run);
	assert_int_equal(th_sql_int(th_shared, sql), 0);
	/* the truth API opens them: P003's explanation holds the birth date it used */
	json_t *j = NULL;
	snprintf(path, sizeof path, "/api/proactive/runs/%lld/matches?per_page=500&explain=1",
		 (long long)run);
	assert_int_equal(api(admin_tok, "GET", path, NULL, &j), 200);
	bool found = false;
	size_t i;
	json_t *m;
	json_array_foreach (json_object_get(j, "matches"), i, m)
		if (!strcmp(json_string_value(json_object_get(m, "id")), "P003")) {
			char *ex = json_dumps(json_object_get(m, "explain"), 0);
			assert_non_null(strstr(ex, "1945-07-02"));
			free(ex);
			assert_true(json_is_array(json_object_get(m, "blocking")));
			assert_true(json_is_array(json_object_get(m, "missing")));
			found = true;
		}
	assert_true(found);
	json_decref(j);
	/* and not for staff of another department */
	json_decref(matches(rs_tok, run, 403));
}

static void one_run_at_a_time(void **state)
{
	(void)state;
	/* a run under way (its job not yet claimed) holds the policy's slot */
	th_sql(th_shared, "INSERT INTO pr_runs (policy_id, version, ref_date, state, created_ms)"
			  " SELECT id, version, '2025-07-01', 'running', 0 FROM pr_policies"
			  " WHERE code = 'temporary_assistance'");
	th_sql(th_shared, "UPDATE pr_policies SET running_run = (SELECT MAX(id) FROM pr_runs)"
			  " WHERE code = 'temporary_assistance'");
	int64_t before = th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_runs");
	start_run(mz_tok, "temporary_assistance", "2025-07-01", 409);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_runs"), before);
	/* once it has ended, the next may start */
	th_sql(th_shared, "UPDATE pr_runs SET state = 'failed' WHERE id = (SELECT running_run"
			  " FROM pr_policies WHERE code = 'temporary_assistance')");
	assert_true(start_run(mz_tok, "temporary_assistance", "2025-07-01", 202) > 0);
}

static void gone_from_registry(void **state)
{
	(void)state;
	int64_t run1 = start_run(admin_tok, "elderly_allowance", "2025-07-01", 202);
	json_t *j = matches(admin_tok, run1, 200);
	engine_agrees("elderly_allowance", "2025-07-01", j);
	bool found = false;
	size_t i;
	json_t *m;
	json_array_foreach (json_object_get(j, "matches"), i, m)
		if (!strcmp(json_string_value(json_object_get(m, "id")), "P014")) {
			assert_string_equal(json_string_value(json_object_get(m, "outcome")),
					    "ELIGIBLE");
			found = true;
		}
	assert_true(found);
	json_decref(j);
	/* P014 leaves the registry */
	char path[4200], cmd[13000];
	snprintf(path, sizeof path, "%s/persons.csv", datadir);
	snprintf(cmd, sizeof cmd, "cp '%s' '%s.keep' && sed -i '/^P014,/d' '%s'", path, path, path);
	assert_int_equal(system(cmd), 0);
	int64_t run2 = start_run(admin_tok, "elderly_allowance", "2025-07-01", 202);
	j = matches(admin_tok, run2, 200);
	found = false;
	json_array_foreach (json_object_get(j, "matches"), i, m)
		if (!strcmp(json_string_value(json_object_get(m, "id")), "P014")) {
			assert_string_equal(json_string_value(json_object_get(m, "outcome")),
					    "ABSENT");
			assert_string_equal(json_string_value(json_object_get(m, "change")),
					    "gone");
			found = true;
		}
	assert_true(found);
	assert_true(json_integer_value(json_object_get(json_object_get(j, "counts"),
						       "no_longer_eligible")) >= 1);
	json_decref(j);
	/* back again: newly eligible, and the accounts tied to the record are told once,
	   in their language, unless they opted out (lisi, of this policy) */
	snprintf(cmd, sizeof cmd, "mv '%s.keep' '%s'", path, path);
	assert_int_equal(system(cmd), 0);
	th_sql(th_shared, "INSERT INTO pr_subjects (user_id, ent, rid) SELECT id, 'person', 'P014'"
			  " FROM users WHERE username IN ('zhangsan', 'lisi')");
	struct th_client *li = th_signed_in(th_shared, DG_DEMO_CITIZEN2);
	struct th_resp r = {0};
	assert_int_equal(th_post_csrf(li, "/my/benefits", "/my/benefits/messages",
				      "policy=elderly_allowance&action=stop", &r),
			 303);
	th_resp_release(&r);
	assert_int_equal(th_post_csrf(li, "/my/benefits", "/my/benefits/messages",
				      "policy=nosuch&action=stop", &r),
			 404);
	th_resp_release(&r);
	th_client_free(li);
	const char *told = "SELECT COUNT(*) FROM notify_messages m JOIN users u ON u.id ="
			   " m.user_id WHERE m.kind = 'policy.eligible' AND m.link ="
			   " '/services/990100-MZ-004/apply' AND"
			   " u.username = ";
	char q[512];
	snprintf(q, sizeof q, "%s'zhangsan'", told);
	int64_t zs0 = th_sql_int(th_shared, q);
	/* as if the period without a second message had passed since any earlier message */
	th_sql(th_shared, "UPDATE pr_sent SET sent_ms = 0");
	int64_t run_new = start_run(admin_tok, "elderly_allowance", "2025-07-01", 202);
	j = matches(admin_tok, run_new, 200);
	found = false;
	json_array_foreach (json_object_get(j, "matches"), i, m)
		if (!strcmp(json_string_value(json_object_get(m, "id")), "P014")) {
			assert_string_equal(json_string_value(json_object_get(m, "change")), "new");
			found = true;
		}
	assert_true(found);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "counts"), "told")),
			 1);
	json_decref(j);
	assert_int_equal(th_sql_int(th_shared, q), zs0 + 1);
	snprintf(q, sizeof q, "%s'lisi'", told);
	assert_int_equal(th_sql_int(th_shared, q), 0);
	/* zhangsan's inbox has it in English too, with the engine's sentence */
	struct th_client *zs = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	const char *en[] = {"Accept-Language: en", NULL};
	snprintf(q, sizeof q, "/inbox/%lld",
		 (long long)th_sql_int(
			 th_shared, "SELECT MAX(m.id) FROM notify_messages m JOIN users u ON"
				    " u.id = m.user_id WHERE u.username = 'zhangsan' AND m.kind ="
				    " 'policy.eligible'"));
	assert_int_equal(th_request(zs, "GET", q, NULL, NULL, 0, en, &r), 200);
	assert_non_null(strstr(r.body, "P014 qualifies for"));
	th_resp_release(&r);
	th_client_free(zs);
	/* out and back once more: newly eligible again, but not told twice within the period */
	snprintf(cmd, sizeof cmd, "cp '%s' '%s.keep' && sed -i '/^P014,/d' '%s'", path, path, path);
	assert_int_equal(system(cmd), 0);
	start_run(admin_tok, "elderly_allowance", "2025-07-01", 202);
	snprintf(cmd, sizeof cmd, "mv '%s.keep' '%s'", path, path);
	assert_int_equal(system(cmd), 0);
	run2 = start_run(admin_tok, "elderly_allowance", "2025-07-01", 202);
	snprintf(q, sizeof q, "%s'zhangsan'", told);
	assert_int_equal(th_sql_int(th_shared, q), zs0 + 1);
	/* the data gone: the run fails, says why, and the last results stay shown */
	char moved[4200];
	snprintf(moved, sizeof moved, "%s.away", datadir);
	assert_int_equal(rename(datadir, moved), 0);
	int64_t run3 = start_run(admin_tok, "elderly_allowance", "2025-07-01", 202);
	assert_int_equal(rename(moved, datadir), 0);
	char sql[256];
	snprintf(sql, sizeof sql,
		 "SELECT COUNT(*) FROM pr_runs WHERE id = %lld AND state ="
		 " 'failed' AND error LIKE '%%data folder%%'",
		 (long long)run3);
	assert_int_equal(th_sql_int(th_shared, sql), 1);
	assert_int_equal(th_sql_int(th_shared, "SELECT current_run FROM pr_policies WHERE code ="
					       " 'elderly_allowance'"),
			 run2);
	assert_int_equal(th_sql_int(th_shared, "SELECT running_run FROM pr_policies WHERE code ="
					       " 'elderly_allowance'"),
			 0);
}

static void daily_schedule(void **state)
{
	(void)state;
	/* a policy whose time of day has come and that has not run today is queued once */
	th_sql(th_shared, "UPDATE pr_policies SET schedule = '00:00', last_scheduled = ''"
			  " WHERE code = 'veterans'");
	int64_t before = th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_runs r JOIN pr_policies p"
					       " ON p.id = r.policy_id WHERE p.code = 'veterans'");
	for (int k = 0; k < 2; k++) {
		struct dg_db *db = NULL;
		int64_t job = 0;
		json_t *payload = json_object();
		assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
		assert_int_equal(dg_job_enqueue(db, "proactive.schedule", payload, 0, NULL, &job),
				 DG_OK);
		dg_db_put(db);
		json_decref(payload);
		json_t *done = th_wait_job(th_shared, job);
		assert_string_equal(json_string_value(json_object_get(done, "state")), "done");
		json_decref(done);
	}
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_runs r JOIN pr_policies p"
					       " ON p.id = r.policy_id WHERE p.code = 'veterans'"),
			 before + 1);
}

static void my_benefits(void **state)
{
	(void)state;
	/* zhangsan is P003 of household H02 in the demo's extract; dibao has been run */
	struct th_client *c = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	char *body = th_get_body(c, "/my/benefits", 200);
	assert_non_null(strstr(body, "我的待遇"));
	assert_non_null(strstr(body, "最低生活保障"));
	free(body);
	const char *hdrs[] = {"Accept-Language: en", NULL};
	struct th_resp r = {0};
	assert_int_equal(th_request(c, "GET", "/my/benefits", NULL, NULL, 0, hdrs, &r), 200);
	assert_non_null(strstr(r.body, "My benefits"));
	assert_non_null(strstr(r.body, "Subsistence allowance"));
	th_resp_release(&r);
	th_client_free(c);
	/* staff have no benefits page */
	c = th_signed_in(th_shared, DG_DEMO_STAFF);
	free(th_get_body(c, "/my/benefits", 403));
	th_client_free(c);
}

/* The public summary: every policy by name, with its take-up counts, for anyone. */
static void public_summary(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	char *body = th_get_body(c, "/policies", 200);
	assert_non_null(strstr(body, "最低生活保障"));
	assert_non_null(strstr(body, "民政局"));
	assert_non_null(strstr(body, "/services/990100-MZ-003"));
	assert_non_null(strstr(body, "/my/benefits"));
	free(body);
	const char *en[] = {"Accept-Language: en", NULL};
	struct th_resp r = {0};
	assert_int_equal(th_request(c, "GET", "/policies", NULL, NULL, 0, en, &r), 200);
	assert_non_null(strstr(r.body, "Subsistence allowance (dibao)"));
	assert_non_null(strstr(r.body, "Old-age allowance"));
	th_resp_release(&r);
	th_client_free(c);
	/* staff find their way to the office pages from it */
	c = th_signed_in(th_shared, DG_DEMO_STAFF);
	body = th_get_body(c, "/policies", 200);
	assert_non_null(strstr(body, "href=\"/office/policies\""));
	free(body);
	th_client_free(c);
}

static int setup(void **state)
{
	const char *r = getenv("DGOV_ROOT");
	snprintf(root, sizeof root, "%s", r ? r : ".");
	if (!mkdtemp(datadir))
		return 1;
	char cmd[8400];
	snprintf(cmd, sizeof cmd, "cp '%s'/tests/rule/data/*.csv '%s'/", root, datadir);
	if (system(cmd) != 0)
		return 1;
	setenv("DGOV_PROACTIVE_DATA", datadir, 1);
	(void)state;
	/* one job worker runs the matching runs */
	struct th_opts o = {.demo = true, .job_workers = 1, .job_lease_sec = 5};
	th_shared = th_start_opts(&o);
	if (!th_shared)
		return 1;
	/* the demo residents' records in the CSV fixture */
	th_sql(th_shared, "INSERT INTO pr_subjects (user_id, ent, rid) SELECT id, 'person', 'P003'"
			  " FROM users WHERE username = 'zhangsan'");
	th_sql(th_shared, "INSERT INTO pr_subjects (user_id, ent, rid) SELECT id, 'household',"
			  " 'H02' FROM users WHERE username = 'zhangsan'");
	admin_tok = th_token_header(th_shared, DG_DEMO_ADMIN, DG_DEMO_PASSWORD);
	mz_tok = th_token_header(th_shared, DG_DEMO_STAFF, DG_DEMO_PASSWORD);
	rs_tok = th_token_header(th_shared, DG_DEMO_STAFF2, DG_DEMO_PASSWORD);
	return !admin_tok || !mz_tok || !rs_tok;
}

static int teardown(void **state)
{
	free(admin_tok);
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
		cmocka_unit_test(demo_policies),     cmocka_unit_test(publish_refused),
		cmocka_unit_test(publish_page),      cmocka_unit_test(run_equals_engine),
		cmocka_unit_test(one_run_at_a_time), cmocka_unit_test(gone_from_registry),
		cmocka_unit_test(daily_schedule),    cmocka_unit_test(my_benefits),
		cmocka_unit_test(public_summary),    cmocka_unit_test(sealed_at_rest),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
