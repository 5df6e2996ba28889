/*
 * test_exchange_reader.c - the rule engine reading the shared registries
 * through the exchange (exchange.h: dg_exchange_reader_open), on the store
 * DGOV_TEST_DB selects.
 *
 * The rule engine's CSV fixture (tests/rule/data, the schema of the demo
 * policies) is loaded into the registries through the record API, field by
 * field where the schema's `from:` says each is kept; the demo policies'
 * outcomes and amounts over the reader's data then equal those of the same
 * files read as CSV (`dgov rule run`'s loader), record by record. Also: the
 * demo's data finds people for the policies; a department without the grant
 * is refused with nothing read and the refusal audited; a schema naming an
 * unknown registry is refused; a run is one line per subject on "who used
 * my data"; changes since a version name the subjects changed; monthly
 * fields in the record API (field@YYYY-MM, checked, merged) and in the
 * exchange API.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "app/app.h"
#include "audit/audit.h"
#include "core/keys.h"
#include "exchange/exchange.h"
#include "exchange/internal.h"
#include "harness.h"
#include "node/demo.h"
#include "rule/code.h"
#include "rule/engine.h"
#include "rule/load.h"
#include "store/store.h"

#define FIXTURE "tests/rule/data"
#define REF     "2025-07-01" /* the fixture's months run up to 2025-06 */

static char *admin_tok;
static char dir[64] = "/tmp/dgov-xreader-XXXXXX";
static char *policy_paths[32];
static int npolicies;

/* The fixture's person P001 ... as an ID number the person registry takes. */
static void id_of(const char *p, char out[19])
{
	snprintf(out, 19, "99010019310101%03u", (unsigned)(100 + strtol(p + 1, NULL, 10)) % 1000u);
	out[17] = dg_id_check_char(out);
	out[18] = '\0';
}

static long post_json(const char *path, json_t *body, json_t **out)
{
	struct th_client *cl = th_client_new(th_shared);
	const char *hdrs[] = {admin_tok, NULL};
	struct th_resp r = {0};
	char *text = json_dumps(body, JSON_COMPACT);
	long st = th_request(cl, "POST", path, "application/json", text, strlen(text), hdrs, &r);
	if (out)
		*out = r.body ? json_loads(r.body, 0, NULL) : NULL;
	free(text);
	th_resp_release(&r);
	th_client_free(cl);
	return st;
}

/* Split a line of the fixture (no quotes in it) at commas, in place. */
static int split(char *line, char **f, int max)
{
	int n = 0;
	line[strcspn(line, "\r\n")] = '\0';
	for (char *p = line; n < max;) {
		f[n++] = p;
		char *c = strchr(p, ',');
		if (!c)
			break;
		*c = '\0';
		p = c + 1;
	}
	return n;
}

/* A CSV value as JSON in the type of the registry field it goes to. */
static json_t *typed(const struct dg_field *f, const char *v)
{
	if (f->ty == TY_BOOL)
		return json_boolean(strcmp(v, "true") == 0);
	if (f->ty == TY_INT)
		return json_integer(strtoll(v, NULL, 10));
	return json_string(v);
}

/*
 * Load one entity's fixture file: written again (person IDs as ID numbers)
 * into dir for the CSV loader, and put into the registries its fields come
 * from through the record API.
 */
static void load_entity(const struct dg_schema *s, int ent)
{
	const struct dg_entity *e = &s->e[ent];
	char path[256], line[8192], *h[512], *f[512];
	snprintf(path, sizeof path, FIXTURE "/%s", e->file);
	FILE *in = fopen(path, "r");
	snprintf(path, sizeof path, "%s/%s", dir, e->file);
	FILE *out = fopen(path, "w");
	assert_non_null(in);
	assert_non_null(out);
	static char head[8192];
	assert_non_null(fgets(head, sizeof head, in));
	fputs(head, out);
	int nh = split(head, h, 512);
	while (fgets(line, sizeof line, in)) {
		int n = split(line, f, 512);
		assert_int_equal(n, nh);
		json_t *by_reg = json_object();
		char id[32];
		for (int i = 0; i < n; i++) {
			char col[128];
			snprintf(col, sizeof col, "%s", h[i]);
			char *at = strchr(col, '@');
			if (at)
				*at = '\0';
			int fi = dg_schema_field(s, ent, col);
			bool person_id = (i == 0 && strcmp(e->name, "person") == 0) ||
					 (fi >= 0 && e->f[fi].ty == TY_LINK &&
					  strcmp(s->e[e->f[fi].link_ent].name, "person") == 0);
			char mapped[19];
			const char *v = f[i];
			if (person_id && *v) {
				id_of(v, mapped);
				v = mapped;
			}
			fprintf(out, "%s%s", i ? "," : "", v);
			if (i == 0) {
				snprintf(id, sizeof id, "%s", v);
				continue;
			}
			if (fi < 0 || !*v)
				continue;
			const struct dg_field *sf = &e->f[fi];
			const struct dg_entity *re = x_registry(sf->from_reg);
			assert_non_null(re);
			const struct dg_field *rf = &re->f[x_field(re, sf->from_field)];
			json_t *vals = json_object_get(by_reg, re->name);
			if (!vals)
				json_object_set_new(by_reg, re->name, vals = json_object());
			char key[160];
			snprintf(key, sizeof key, "%s%s%s", sf->from_field, at ? "@" : "",
				 at ? at + 1 : "");
			json_object_set_new(vals, key, typed(rf, v));
		}
		fputc('\n', out);
		/* the entity's own registry first: the others are joined to it */
		const char *k;
		json_t *vals;
		json_t *own = json_object_get(by_reg, e->registry);
		if (!own)
			json_object_set_new(by_reg, e->registry, own = json_object());
		if (json_object_size(own) == 0)
			json_object_set_new(own, e->f[0].from_field, json_null());
		json_object_foreach (by_reg, k, vals) {
			char url[256];
			snprintf(url, sizeof url, "/api/exchange/registries/%s/records", k);
			json_t *body = json_pack("{s:s,s:O}", "id", id, "values", vals),
			       *ans = NULL;
			long st = post_json(url, body, &ans);
			if (st != 200 && st != 201) {
				char *t = json_dumps(ans, 0);
				fail_msg("%s %s: %ld %s", url, id, st, t ? t : "");
			}
			json_decref(body);
			json_decref(ans);
		}
		json_decref(by_reg);
	}
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

/* The benefit history: rows of benefits.csv as benefit@month values of the benefits registry. */
static void load_benefits(const struct dg_schema *s)
{
	char line[512], *f[8], path[256];
	FILE *in = fopen(FIXTURE "/benefits.csv", "r");
	snprintf(path, sizeof path, "%s/benefits.csv", dir);
	FILE *out = fopen(path, "w");
	assert_non_null(in);
	assert_non_null(out);
	assert_non_null(fgets(line, sizeof line, in));
	fputs(line, out);
	json_t *by_id = json_object();
	while (fgets(line, sizeof line, in)) {
		assert_int_equal(split(line, f, 8), 5);
		assert_string_equal(f[0], "person");
		char id[19], key[128];
		id_of(f[1], id);
		fprintf(out, "person,%s,%s,%s,%s\n", id, f[2], f[3], f[4]);
		json_t *v = json_object_get(by_id, id);
		if (!v)
			json_object_set_new(by_id, id, v = json_object());
		snprintf(key, sizeof key, "%s@%s", f[2], f[4]);
		json_object_set_new(v, key, json_string(f[3]));
	}
	fclose(in);
	assert_int_equal(fclose(out), 0);
	const char *id;
	json_t *v;
	char url[128];
	snprintf(url, sizeof url, "/api/exchange/registries/%s/records", s->benefits_registry);
	json_object_foreach (by_id, id, v) {
		json_t *body = json_pack("{s:s,s:O}", "id", id, "values", v);
		assert_int_equal(post_json(url, body, NULL), 201);
		json_decref(body);
	}
	json_decref(by_id);
}

static struct dg_program *policies(void)
{
	struct dg_program *p = dg_rule_load(policy_paths, npolicies);
	if (p->diag.errors)
		fail_msg("%s", dg_buf_str(&p->diag.out));
	return p;
}

/* The data of s through the reader, as dept for purpose; NULL with err set when refused. */
static struct dg_data *read_registries(struct dg_db *db, const struct dg_schema *s,
				       struct dg_intern *codes, const char *dept,
				       const char *purpose, const char *run, struct dg_err *err)
{
	struct dg_app *app = th_app(th_shared);
	struct dg_exchange_reader *r = NULL;
	if (dg_exchange_reader_open(&app->env, db, s, dept, purpose, run, &r, err))
		return NULL;
	struct dg_data *d = dg_data_load(s, codes, dg_exchange_reader_rule(r), err);
	dg_exchange_reader_close(r);
	return d;
}

static struct dg_result *run(const struct dg_code *c, const struct dg_data *d)
{
	struct dg_run_opts ro = {NULL, 1, true};
	struct dg_result *r = NULL;
	struct dg_err err = {0};
	if (dg_rule_run_opts(c, d, &ro, &r, &err))
		fail_msg("run: %s", err.msg);
	return r;
}

static void same_as_csv(void **state)
{
	(void)state;
	struct dg_program *p = policies();
	const struct dg_schema *s = p->schema;
	assert_non_null(mkdtemp(dir));
	for (int e = 0; e < s->ne; e++)
		load_entity(s, e);
	load_benefits(s);

	struct dg_intern codes;
	dg_intern_init(&codes);
	struct dg_err err = {0};
	struct dg_data *csv = dg_data_load_csv(s, &codes, dir, &err);
	if (!csv)
		fail_msg("csv: %s", err.msg);
	struct dg_db *db = NULL;
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	struct dg_data *reg = read_registries(db, s, &codes, "mz", "dibao", "test-same", &err);
	if (!reg)
		fail_msg("reader: %s", err.msg);
	dg_day ref;
	assert_int_equal(dg_day_parse(REF, &ref), DG_OK);
	struct dg_rule_diag diag;
	dg_rule_diag_init(&diag);
	struct dg_code *c = dg_rule_compile(p, &codes, ref, NULL, 0, &diag);
	assert_non_null(c);
	struct dg_result *a = run(c, csv), *b = run(c, reg);
	int64_t compared = 0, eligible = 0;
	for (int i = 0; i < p->nrules; i++) {
		if (!a->selected[i])
			continue;
		int ent = c->rc[i].ent;
		for (int64_t row = 0; row < csv->t[ent].n; row++) {
			const char *id = dg_data_id(csv, ent, row);
			int64_t row2 = dg_data_find(reg, ent, id, strlen(id));
			if (row2 < 0)
				fail_msg("%s %s is not in the registries' data", s->e[ent].name,
					 id);
			enum dg_outcome o1 = dg_result_outcome(a, i, row),
					o2 = dg_result_outcome(b, i, row2);
			if (o1 != o2)
				fail_msg("%s %s: %s from CSV, %s from the registries",
					 p->rules[i].id, id, dg_outcome_name(o1),
					 dg_outcome_name(o2));
			int64_t m1 = 0, m2 = 0;
			bool k1 = dg_result_amount(a, i, row, &m1),
			     k2 = dg_result_amount(b, i, row2, &m2);
			assert_int_equal(k1, k2);
			assert_int_equal(m1, m2);
			compared++;
			eligible += o1 == DG_ELIGIBLE;
		}
	}
	assert_true(compared > 50);
	assert_true(eligible > 5); /* the fixture is made to find some */
	dg_result_free(a);
	dg_result_free(b);
	dg_code_free(c);
	dg_rule_diag_release(&diag);
	dg_data_free(csv);
	dg_data_free(reg);
	dg_intern_release(&codes);
	dg_db_put(db);
	dg_program_free(p);
}

/* The demo's registries (300 persons in tests) find people for every demo policy. */
static void demo_finds_people(void **state)
{
	(void)state;
	struct dg_program *p = policies();
	struct dg_intern codes;
	dg_intern_init(&codes);
	struct dg_err err = {0};
	struct dg_db *db = NULL;
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	struct dg_data *d =
		read_registries(db, p->schema, &codes, "rs", "talent_rent", "test-demo", &err);
	if (!d)
		fail_msg("reader: %s", err.msg);
	dg_day ref;
	assert_int_equal(dg_day_parse("2026-12-01", &ref), DG_OK);
	struct dg_rule_diag diag;
	dg_rule_diag_init(&diag);
	struct dg_code *c = dg_rule_compile(p, &codes, ref, NULL, 0, &diag);
	assert_non_null(c);
	struct dg_result *r = run(c, d);
	int found = 0;
	for (int i = 0; i < p->nrules; i++) {
		int64_t n = d->t[c->rc[i].ent].n;
		int64_t el = r->selected[i] ? dg_bits_count(r->elig[i], n) : 0;
		print_message("%s: %lld eligible of %lld\n", p->rules[i].id, (long long)el,
			      (long long)n);
		found += el > 0;
	}
	assert_int_equal(found, p->nrules);
	dg_result_free(r);
	dg_code_free(c);
	dg_rule_diag_release(&diag);
	dg_data_free(d);
	dg_intern_release(&codes);
	dg_db_put(db);
	dg_program_free(p);
}

static void refused(void **state)
{
	(void)state;
	struct dg_program *p = policies();
	struct dg_app *app = th_app(th_shared);
	struct dg_db *db = NULL;
	assert_int_equal(dg_db_get(app->env.store, &db), DG_OK);
	int64_t before = th_sql_int(th_shared, "SELECT COUNT(*) FROM audit_log WHERE kind = "
					       "'exchange.refused'");
	struct dg_exchange_reader *r = NULL;
	struct dg_err err = {0};
	/* 市场监管 has no grant for the dibao run */
	assert_int_equal(dg_exchange_reader_open(&app->env, db, p->schema, "sc", "dibao",
						 "test-refused", &r, &err),
			 DG_EDENIED);
	assert_null(r);
	assert_non_null(strstr(err.msg, "no bulk grant"));
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM audit_log WHERE kind = "
					       "'exchange.refused'"),
			 before + 1);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM xr_uses WHERE run = "
					       "'test-refused'"),
			 0);
	/* 民政's grant is for dibao, not for another purpose */
	err = (struct dg_err){0};
	assert_int_equal(dg_exchange_reader_open(&app->env, db, p->schema, "mz", "veterans_benefit",
						 "test-refused", &r, &err),
			 DG_EDENIED);
	/* a schema naming a registry that is not there */
	const char *bad = "entities:\n  person:\n    registry: nope\n    fields:\n      x: int\n";
	struct dg_schema *s = dg_schema_parse("bad.yaml", bad, strlen(bad), &err);
	assert_non_null(s);
	err = (struct dg_err){0};
	assert_int_equal(
		dg_exchange_reader_open(&app->env, db, s, "mz", "dibao", "test-refused", &r, &err),
		DG_EINVAL);
	assert_non_null(strstr(err.msg, "nope"));
	dg_schema_free(s);
	/* and a malformed `from` in the schema file */
	const char *bad2 = "entities:\n  person:\n    fields:\n      x: {type: int, from: nodot}\n";
	assert_null(dg_schema_parse("bad2.yaml", bad2, strlen(bad2), &err));
	assert_non_null(strstr(err.msg, "REGISTRY.FIELD"));
	dg_db_put(db);
	dg_program_free(p);
}

/* A run is one line per subject on "who used my data", however many registries it read. */
static void one_line_per_run(void **state)
{
	(void)state;
	char id[19];
	id_of("P001", id);
	struct dg_arena *a = dg_arena_new();
	const char *subject = dg_pii_index(&th_app(th_shared)->env.keys, a, "id", id);
	char sql[256];
	snprintf(sql, sizeof sql,
		 "SELECT COUNT(*) FROM xr_uses WHERE subject = '%s' AND run = 'test-same'",
		 subject);
	assert_int_equal(th_sql_int(th_shared, sql), 1);
	assert_true(th_sql_int(th_shared, "SELECT COUNT(*) FROM audit_log WHERE kind = "
					  "'exchange.bulk'") >= 10);
	dg_arena_free(a);
}

static void changed_since(void **state)
{
	(void)state;
	struct dg_program *p = policies();
	struct dg_db *db = NULL;
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	json_t *subjects = NULL;
	int64_t newest = 0, newer = 0;
	struct dg_err err = {0};
	assert_int_equal(dg_exchange_changed_since(db, p->schema, 0, &subjects, &newest, &err),
			 DG_OK);
	assert_true(json_array_size(subjects) > 300);
	assert_true(newest > 0);
	json_decref(subjects);
	assert_int_equal(dg_exchange_changed_since(db, p->schema, newest, &subjects, &newer, &err),
			 DG_OK);
	assert_int_equal(json_array_size(subjects), 0);
	assert_int_equal(newer, newest);
	json_decref(subjects);
	/* one month of one person's income changes */
	char id[19], url[128];
	id_of("P004", id);
	snprintf(url, sizeof url, "/api/exchange/registries/tax/records/%s", id);
	json_t *body = json_pack("{s:{s:s}}", "values", "income@2025-07", "2100.00");
	assert_int_equal(post_json(url, body, NULL), 200);
	json_decref(body);
	assert_int_equal(dg_exchange_changed_since(db, p->schema, newest, &subjects, &newer, &err),
			 DG_OK);
	struct dg_arena *a = dg_arena_new();
	assert_int_equal(json_array_size(subjects), 1);
	assert_string_equal(json_string_value(json_array_get(subjects, 0)),
			    dg_pii_index(&th_app(th_shared)->env.keys, a, "id", id));
	assert_true(newer > newest);
	json_decref(subjects);
	dg_arena_free(a);
	dg_db_put(db);
	dg_program_free(p);
}

/* Monthly fields in the record API: field@YYYY-MM or an object, checked, merged by month. */
static void monthly_records(void **state)
{
	(void)state;
	char id[19], url[128];
	id_of("P004", id);
	snprintf(url, sizeof url, "/api/exchange/registries/tax/records/%s", id);
	struct {
		const char *values, *field;
	} bad[] = {
		{"{\"income@2025-13\":\"1.00\"}", "income@2025-13"},
		{"{\"income@2025-1\":\"1.00\"}", "income@2025-1"},
		{"{\"income\":\"1.00\"}", "income"},
		{"{\"income\":{\"2025-08\":\"abc\"}}", "income"},
		{"{\"income@2025-08\":true}", "income@2025-08"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *body = json_pack("{s:o}", "values", json_loads(bad[i].values, 0, NULL)),
		       *ans = NULL;
		assert_int_equal(post_json(url, body, &ans), 400);
		assert_string_equal(
			json_string_value(json_object_get(json_object_get(ans, "error"), "field")),
			bad[i].field);
		json_decref(body);
		json_decref(ans);
	}
	json_t *body = json_pack("{s:{s:s}}", "values", "owns_home@2025-08", "true");
	snprintf(url, sizeof url, "/api/exchange/registries/housing/records/%s", id);
	assert_int_equal(post_json(url, body, NULL), 400);
	json_decref(body);
	/* months merge: August added beside the months the fixture gave */
	snprintf(url, sizeof url, "/api/exchange/registries/tax/records/%s", id);
	body = json_pack("{s:{s:{s:s}}}", "values", "income", "2025-08", "2200.00");
	assert_int_equal(post_json(url, body, NULL), 200);
	json_decref(body);
	struct dg_app *app = th_app(th_shared);
	struct dg_db *db = NULL;
	struct dg_arena *a = dg_arena_new();
	assert_int_equal(dg_db_get(app->env.store, &db), DG_OK);
	const struct dg_entity *tax = x_registry("tax");
	struct x_record rec;
	assert_int_equal(
		x_record_read(&app->env, db, a, tax, x_record_key(&app->env, a, tax, id), &rec),
		DG_OK);
	json_t *inc = json_object_get(rec.values, "income");
	assert_string_equal(json_string_value(json_object_get(inc, "2025-08")), "2200.00");
	assert_non_null(json_object_get(inc, "2025-05"));
	json_decref(rec.values);
	dg_db_put(db);
	dg_arena_free(a);
}

/* GET an exchange call as 民政's demo system for the dibao run; the answer (owned). */
static json_t *xget_dibao(const char *path)
{
	static int seq;
	char rid[64];
	snprintf(rid, sizeof rid, "X-Dgov-Request-Id: reader-test-%04d", ++seq);
	const char *hdrs[] = {"X-Dgov-Client: mz/dibao", "X-Dgov-Key: " X_DEMO_MZ_KEY,
			      "X-Dgov-Purpose: dibao", rid, NULL};
	struct th_client *cl = th_client_new(th_shared);
	struct th_resp r = {0};
	long st = th_request(cl, "GET", path, NULL, NULL, 0, hdrs, &r);
	json_t *j = r.body ? json_loads(r.body, 0, NULL) : NULL;
	if (st != 200)
		fail_msg("%s: %ld %s", path, st, r.body ? r.body : "");
	th_resp_release(&r);
	th_client_free(cl);
	return j;
}

/* A monthly field in the exchange API: the object of months, or masked as one field. */
static void monthly_exchange(void **state)
{
	(void)state;
	char id[19], path[128];
	id_of("P005", id);
	snprintf(path, sizeof path, "/x/v1/tax/%s?fields=income", id);
	json_t *j = xget_dibao(path);
	json_t *f =
		json_object_get(json_object_get(json_object_get(j, "answer"), "fields"), "income");
	assert_string_equal(json_string_value(json_object_get(f, "2025-06")), "9000");
	json_decref(j);
	th_sql(th_shared, "UPDATE xr_requests SET clear = 0 WHERE dept = 'mz' AND purpose = "
			  "'dibao' AND registry = 'tax'");
	j = xget_dibao(path);
	json_t *ans = json_object_get(j, "answer");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(ans, "fields"), "income")),
		"***");
	assert_string_equal(json_string_value(json_array_get(json_object_get(ans, "masked"), 0)),
			    "income");
	json_decref(j);
	/* and then the rule engine may not read it: it needs values in clear */
	struct dg_program *p = policies();
	struct dg_db *db = NULL;
	struct dg_exchange_reader *r = NULL;
	struct dg_err err = {0};
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_exchange_reader_open(&th_app(th_shared)->env, db, p->schema, "mz",
						 "dibao", "test-masked", &r, &err),
			 DG_EDENIED);
	assert_non_null(strstr(err.msg, "tax.income is granted only masked"));
	dg_db_put(db);
	dg_program_free(p);
	th_sql(th_shared, "UPDATE xr_requests SET clear = 1 WHERE dept = 'mz' AND purpose = "
			  "'dibao' AND registry = 'tax'");
}

/*
 * A keyed read (dg_exchange_reader_only) gives exactly the records asked
 * for that the registries hold, values and all, however many statements it
 * takes (more than a store's parameters in one), and follows a link both
 * ways: a person's household, and a household's members.
 */
static void keyed_read(void **state)
{
	(void)state;
	struct dg_program *p = policies();
	const struct dg_schema *s = p->schema;
	struct dg_app *app = th_app(th_shared);
	struct dg_db *db = NULL;
	struct dg_intern codes;
	struct dg_err err = {0};
	dg_intern_init(&codes);
	assert_int_equal(dg_db_get(app->env.store, &db), DG_OK);
	struct dg_data *all = read_registries(db, s, &codes, "mz", "dibao", "test-all", &err);
	assert_non_null(all);
	int pe = dg_schema_entity(s, "person"), he = dg_schema_entity(s, "household");
	int hf = dg_schema_field(s, pe, "household");
	assert_true(pe >= 0 && he >= 0 && hf >= 0);
	assert_true(all->t[pe].n > 300);
	/* nine persons in ten (more than one statement's keys), and an ID no registry has */
	json_t *ids = json_object();
	int64_t asked = 0;
	for (int64_t row = 0; row < all->t[pe].n; row++)
		if (row % 10) {
			json_object_set_new(ids, dg_data_id(all, pe, row), json_true());
			asked++;
		}
	assert_true(asked > 250);
	json_object_set_new(ids, "110101190001010000", json_true());
	struct dg_exchange_reader *r = NULL;
	assert_int_equal(
		dg_exchange_reader_open(&app->env, db, s, "mz", "dibao", "test-keyed", &r, &err),
		DG_OK);
	for (int e = 0; e < s->ne; e++) {
		json_t *none = json_object();
		dg_exchange_reader_only(r, e, e == pe ? ids : none);
		json_decref(none);
	}
	/* the households of the first persons, and all their members */
	json_t *first = json_object(), *hh = json_object(), *members = json_object();
	json_object_set_new(first, dg_data_id(all, pe, 1), json_true());
	assert_int_equal(dg_exchange_reader_links(r, pe, hf, first, hh, &err), DG_OK);
	assert_int_equal(json_object_size(hh), 1);
	assert_int_equal(dg_exchange_reader_linking(r, pe, hf, hh, members, &err), DG_OK);
	int64_t hrow = dg_data_find(all, he, json_object_iter_key(json_object_iter(hh)),
				    strlen(json_object_iter_key(json_object_iter(hh))));
	assert_true(hrow >= 0);
	int g = dg_schema_group(s, he, "members");
	assert_true(g >= 0);
	assert_int_equal((int64_t)json_object_size(members),
			 all->t[he].goff[g][hrow + 1] - all->t[he].goff[g][hrow]);
	assert_non_null(json_object_get(members, dg_data_id(all, pe, 1)));
	struct dg_data *some = dg_data_load(s, &codes, dg_exchange_reader_rule(r), &err);
	dg_exchange_reader_close(r);
	assert_non_null(some);
	assert_int_equal(some->t[pe].n, asked);
	assert_int_equal(some->t[he].n, 0);
	for (int64_t row = 0; row < some->t[pe].n; row++) {
		const char *id = dg_data_id(some, pe, row);
		int64_t at = dg_data_find(all, pe, id, strlen(id));
		assert_true(at >= 0 && at % 10 != 0);
		for (int f = 0; f < s->e[pe].nf; f++)
			if (!s->e[pe].f[f].monthly && s->e[pe].f[f].ty != TY_LINK) {
				assert_int_equal(some->t[pe].col[f].k[row],
						 all->t[pe].col[f].k[at]);
				if (some->t[pe].col[f].k[row])
					assert_int_equal(some->t[pe].col[f].v[row],
							 all->t[pe].col[f].v[at]);
			}
	}
	json_decref(ids);
	json_decref(first);
	json_decref(hh);
	json_decref(members);
	dg_data_free(some);
	dg_data_free(all);
	dg_intern_release(&codes);
	dg_db_put(db);
	dg_program_free(p);
}

static int setup(void **state)
{
	if (th_group_setup(state))
		return 1;
	admin_tok = th_token_header(th_shared, DG_DEMO_ADMIN, DG_DEMO_PASSWORD);
	static const char *const names[] = {"childcare_subsidy",    "dibao",
					    "disability_subsidies", "elderly_allowance",
					    "graduate_startup",     "heating_subsidy",
					    "job_stabilisation",    "medical_premium",
					    "small_business_tax",   "talent_rent",
					    "temporary_assistance", "veterans"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[128];
		snprintf(path, sizeof path, "policies/%s.rule", names[i]);
		policy_paths[npolicies++] = strdup(path);
	}
	return !admin_tok;
}

static int teardown(void **state)
{
	free(admin_tok);
	for (int i = 0; i < npolicies; i++)
		free(policy_paths[i]);
	if (strchr(dir, 'X') == NULL) {
		static const char *const files[] = {"persons.csv", "households.csv",
						    "enterprises.csv", "benefits.csv"};
		for (size_t i = 0; i < 4; i++) {
			char path[128];
			snprintf(path, sizeof path, "%s/%s", dir, files[i]);
			unlink(path);
		}
		rmdir(dir);
	}
	return th_group_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(demo_finds_people), cmocka_unit_test(same_as_csv),
		cmocka_unit_test(refused),           cmocka_unit_test(one_line_per_run),
		cmocka_unit_test(changed_since),     cmocka_unit_test(monthly_records),
		cmocka_unit_test(monthly_exchange),  cmocka_unit_test(keyed_read),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
