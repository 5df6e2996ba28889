/*
 * ytest.c - the YAML test runner behind `dgov rule test`: builds the
 * records of each case into the columnar store through the loader interface,
 * compiles the rules for the case's date and overrides, and compares
 * outcomes, amounts, blocking and unknown conditions. It uses the rule
 * library only through its public header. The same runner checks a policy
 * before the proactive services publish it (dg_rule_test_text).
 */
#include "rule/ytest.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "rule/rule.h"
#include "rule/yaml.h"

struct tcase {
	const char *file;
	const struct dg_yaml *y;
	const char *name;
	FILE *out;
	struct dg_ytest_stats *st;
	char why[512];
};

static void report(struct tcase *tc, bool ok, const char *suffix)
{
	tc->st->n++;
	if (ok)
		tc->st->pass++;
	else
		tc->st->fail++;
	fprintf(tc->out, "%s %d - %s: %s%s\n", ok ? "ok" : "not ok", tc->st->n, tc->file, tc->name,
		suffix ? suffix : "");
	if (!ok)
		fprintf(tc->out, "#   %s\n", tc->why);
}

static bool set_month_values(struct dg_data *d, int ent, int64_t row, int f,
			     const struct dg_yaml *v, struct tcase *tc)
{
	struct dg_err err = {0};
	if (v->kind != DG_Y_MAP) {
		snprintf(tc->why, sizeof(tc->why),
			 "line %d: a monthly field takes {YYYY-MM: value} "
			 "or {YYYY-MM..YYYY-MM: value}",
			 v->line);
		return false;
	}
	for (int i = 0; i < v->n; i++) {
		const char *k = v->keys[i]->s;
		int32_t m0, m1;
		const char *dots = strstr(k, "..");
		if (dots ? (dg_data_parse_month(k, (size_t)(dots - k), &m0) ||
			    dg_data_parse_month(dots + 2, strlen(dots + 2), &m1))
			 : dg_data_parse_month(k, strlen(k), &m0)) {
			snprintf(tc->why, sizeof(tc->why),
				 "line %d: '%s' is not YYYY-MM or a range", v->keys[i]->line, k);
			return false;
		}
		if (!dots)
			m1 = m0;
		if (m1 < m0 || m1 - m0 > DG_MAX_MONTHS) {
			snprintf(tc->why, sizeof(tc->why), "line %d: bad month range",
				 v->keys[i]->line);
			return false;
		}
		const char *val = v->vals[i]->s;
		for (int32_t m = m0; m <= m1; m++)
			if (dg_data_set_month(d, ent, row, f, m, val, strlen(val), &err)) {
				snprintf(tc->why, sizeof(tc->why), "line %d: %s", v->vals[i]->line,
					 err.msg);
				return false;
			}
	}
	return true;
}

static struct dg_data *build_data(const struct dg_schema *s, struct dg_intern *codes,
				  const struct dg_yaml *input, struct tcase *tc)
{
	struct dg_data *d = dg_data_new(s, codes);
	struct dg_err err = {0};
	if (!input || input->kind != DG_Y_MAP) {
		snprintf(tc->why, sizeof(tc->why), "the case needs an 'input:' map");
		goto fail;
	}
	/* rows of every entity first, so links can point anywhere */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < input->n; i++) {
			const char *en = input->keys[i]->s;
			const struct dg_yaml *recs = input->vals[i];
			if (!strcmp(en, "benefits"))
				continue;
			int ent = dg_schema_entity(s, en);
			if (ent < 0) {
				snprintf(tc->why, sizeof(tc->why),
					 "line %d: no entity '%s' in the schema",
					 input->keys[i]->line, en);
				goto fail;
			}
			for (int j = 0; recs->kind == DG_Y_MAP && j < recs->n; j++) {
				const char *id = recs->keys[j]->s;
				int64_t row;
				if (pass == 0) {
					if (dg_data_add_row(d, ent, id, strlen(id), &row, &err)) {
						snprintf(tc->why, sizeof(tc->why), "line %d: %s",
							 recs->keys[j]->line, err.msg);
						goto fail;
					}
					continue;
				}
				row = dg_data_find(d, ent, id, strlen(id));
				const struct dg_yaml *fs = recs->vals[j];
				for (int k = 0; fs->kind == DG_Y_MAP && k < fs->n; k++) {
					const char *fn = fs->keys[k]->s;
					int f = dg_schema_field(s, ent, fn);
					if (f < 0) {
						const char *c[DG_MAX_FIELDS];
						for (int q = 0; q < s->e[ent].nf; q++)
							c[q] = s->e[ent].f[q].name;
						const char *best = dg_rule_did_you_mean(
							fn, c, (size_t)s->e[ent].nf);
						snprintf(tc->why, sizeof(tc->why),
							 "line %d: %s has no field '%s'%s%s%s",
							 fs->keys[k]->line, en, fn,
							 best ? " (did you mean '" : "",
							 best ? best : "", best ? "'?)" : "");
						goto fail;
					}
					const struct dg_yaml *v = fs->vals[k];
					if (s->e[ent].f[f].monthly) {
						if (!set_month_values(d, ent, row, f, v, tc))
							goto fail;
						continue;
					}
					if (v->kind != DG_Y_SCALAR ||
					    (strcmp(v->s, "~") && strcmp(v->s, "null") &&
					     dg_data_set(d, ent, row, f, v->s, strlen(v->s),
							 &err))) {
						snprintf(tc->why, sizeof(tc->why), "line %d: %s",
							 v->line,
							 v->kind != DG_Y_SCALAR
								 ? "expected one value"
								 : err.msg);
						goto fail;
					}
				}
			}
		}
	}
	const struct dg_yaml *ben = dg_yaml_get(input, "benefits");
	for (int i = 0; ben && i < ben->n; i++) {
		const struct dg_yaml *b = ben->vals[i];
		const struct dg_yaml *en = dg_yaml_get(b, "entity"), *id = dg_yaml_get(b, "id"),
				     *bn = dg_yaml_get(b, "benefit"),
				     *stt = dg_yaml_get(b, "status"), *mo = dg_yaml_get(b, "month");
		int ent = dg_schema_entity(s, en ? en->s : "person");
		int32_t month;
		int64_t row = ent >= 0 && id ? dg_data_find(d, ent, id->s, strlen(id->s)) : -1;
		if (row < 0 || !bn || !stt || !mo ||
		    dg_data_parse_month(mo->s, strlen(mo->s), &month) ||
		    dg_data_add_benefit(d, ent, row, bn->s, stt->s, month, &err)) {
			snprintf(tc->why, sizeof(tc->why),
				 "line %d: a benefit record needs entity, an existing id, benefit, "
				 "status and month YYYY-MM%s%s",
				 b->line, err.msg[0] ? ": " : "", err.msg);
			goto fail;
		}
	}
	if (dg_data_finish(d, &err)) {
		snprintf(tc->why, sizeof(tc->why), "%s", err.msg);
		goto fail;
	}
	return d;
fail:
	dg_data_free(d);
	return NULL;
}

static bool list_has(const struct dg_yaml *l, const char *s)
{
	for (int i = 0; l && i < l->n; i++)
		if (!strcmp(l->vals[i]->s, s))
			return true;
	return false;
}

/* Compare one expectation {outcome, amount, blocking, unknown} for one record and rule. */
static bool check_expect(const struct dg_code *code, const struct dg_data *data,
			 const struct dg_result *batch, int ent, int64_t row, int rule,
			 const struct dg_yaml *ex, struct tcase *tc)
{
	enum dg_outcome oc;
	int64_t amount;
	bool ak;
	struct dg_explain_cond conds[64];
	int nc;
	struct dg_err err = {0};
	const struct dg_rule *r = &code->prog->rules[rule];
	if (r->ent != ent) {
		snprintf(tc->why, sizeof(tc->why), "rule %s is for %s records", r->id,
			 code->prog->schema->e[r->ent].name);
		return false;
	}
	if (dg_rule_explain_eval(code, data, rule, row, &oc, &amount, &ak, conds, 64, &nc, &err)) {
		snprintf(tc->why, sizeof(tc->why), "%s", err.msg);
		return false;
	}
	enum dg_outcome bo = dg_result_outcome(batch, rule, row);
	if (bo != oc) {
		snprintf(tc->why, sizeof(tc->why), "batch engine says %s, one-record says %s",
			 dg_outcome_name(bo), dg_outcome_name(oc));
		return false;
	}
	const struct dg_yaml *o = dg_yaml_get(ex, "outcome");
	if (o && strcmp(o->s, dg_outcome_name(oc))) {
		snprintf(tc->why, sizeof(tc->why), "%s: expected %s, got %s", r->id, o->s,
			 dg_outcome_name(oc));
		return false;
	}
	const struct dg_yaml *am = dg_yaml_get(ex, "amount");
	if (am) {
		int64_t want;
		if (!strcmp(am->s, "unknown")) {
			if (ak && oc == DG_ELIGIBLE) {
				snprintf(tc->why, sizeof(tc->why), "%s: expected an unknown amount",
					 r->id);
				return false;
			}
		} else if (dg_data_parse_value(TY_MONEY, am->s, strlen(am->s), NULL, &want)) {
			snprintf(tc->why, sizeof(tc->why),
				 "line %d: amount '%s' is not yuan like 150.00", am->line, am->s);
			return false;
		} else {
			int64_t got = oc == DG_ELIGIBLE && ak ? amount : 0;
			if (got != want || (want != 0 && !ak)) {
				snprintf(tc->why, sizeof(tc->why),
					 "%s: expected amount %lld.%02lld, got %s%lld.%02lld",
					 r->id, (long long)(want / 100),
					 (long long)(llabs(want) % 100), ak ? "" : "unknown ",
					 (long long)(got / 100), (long long)(llabs(got) % 100));
				return false;
			}
		}
	}
	const struct dg_yaml *bl = dg_yaml_get(ex, "blocking"), *un = dg_yaml_get(ex, "unknown");
	for (int i = 0; i < nc; i++) {
		bool failed = conds[i].result == DG_NOT_ELIGIBLE;
		bool unk = conds[i].result == DG_UNKNOWN;
		if (bl && failed != list_has(bl, conds[i].id)) {
			snprintf(tc->why, sizeof(tc->why), "%s: condition %s %s", r->id,
				 conds[i].id,
				 failed ? "blocks but was not expected to"
					: "was expected to block");
			return false;
		}
		if (un && unk != list_has(un, conds[i].id)) {
			snprintf(tc->why, sizeof(tc->why), "%s: condition %s %s", r->id,
				 conds[i].id,
				 unk ? "is unknown but was not expected to be"
				     : "was expected to be unknown");
			return false;
		}
	}
	for (int i = 0; bl && i < bl->n; i++) {
		bool found = false;
		for (int j = 0; j < nc; j++)
			found |= !strcmp(conds[j].id, bl->vals[i]->s);
		if (!found) {
			snprintf(tc->why, sizeof(tc->why), "%s has no condition '%s'", r->id,
				 bl->vals[i]->s);
			return false;
		}
	}
	return true;
}

/* naive completed-years age, written independently of the compiler's cut-off table */
static int naive_age(dg_day birth, dg_day ref)
{
	int by, bm, bd, ry, rm, rd;
	dg_day_to_ymd(birth, &by, &bm, &bd);
	dg_day_to_ymd(ref, &ry, &rm, &rd);
	int age = ry - by;
	/* birthday this year; 29 February counts as 1 March in a common year */
	int am = bm, ad = bd;
	if (bm == 2 && bd == 29 && !dg_ymd_valid(ry, 2, 29)) {
		am = 3;
		ad = 1;
	}
	if (rm < am || (rm == am && rd < ad))
		age--;
	return age;
}

/*
 * Boundary cases: for each condition whose top test compares a field of the
 * record with a constant, set the field to the threshold and one unit either
 * side (a day for dates, a fen for money) and check the condition's result
 * against the comparison done here directly (and for age tests, against a
 * naive age computed here).
 */
static void boundaries(const struct dg_code *code, struct dg_data *data, int rule, int64_t row,
		       struct tcase *tc)
{
	const struct dg_rcode *rc = &code->rc[rule];
	const struct dg_rule *r = &code->prog->rules[rule];
	const struct dg_kernel *k = &code->rules[rc->ent];
	for (int i = 0; i < r->nc; i++) {
		const struct dg_ccode *cc = &rc->cc[i];
		if (r->c[i].kind != CL_COND || cc->cmp < 0 || cc->rhs_ins >= 0 || cc->lhs_ins < 0)
			continue;
		const struct dg_ins *li = &k->ins[cc->lhs_ins];
		if (li->op != OP_COL || cc->to - cc->from > 3)
			continue; /* only "field CMP constant" with no exceptions */
		struct dg_col *col = &data->t[rc->ent].col[li->aux];
		int64_t save_v = col->v[row];
		uint8_t save_k = col->k[row];
		bool ok = true;
		bool is_age = k->note[cc->lhs_ins + 1] &&
			      !strcmp(k->note[cc->lhs_ins + 1], "age cut-off");
		for (int64_t d = -1; d <= 1 && ok; d++) {
			int64_t x = cc->rhs_imm + d;
			col->v[row] = x;
			col->k[row] = 1;
			enum dg_outcome oc;
			int64_t am;
			bool ak;
			struct dg_explain_cond conds[64];
			int nc;
			struct dg_err err = {0};
			if (dg_rule_explain_eval(code, data, rule, row, &oc, &am, &ak, conds, 64,
						 &nc, &err))
				break;
			bool want;
			switch (cc->cmp) {
			case OP_LT: want = x < cc->rhs_imm; break;
			case OP_LE: want = x <= cc->rhs_imm; break;
			case OP_GT: want = x > cc->rhs_imm; break;
			case OP_GE: want = x >= cc->rhs_imm; break;
			case OP_EQ: want = x == cc->rhs_imm; break;
			default: want = x != cc->rhs_imm; break;
			}
			bool got = false;
			for (int j = 0; j < nc; j++)
				if (!strcmp(conds[j].id, r->c[i].id))
					got = conds[j].result == DG_ELIGIBLE;
			if (got != want) {
				ok = false;
				snprintf(tc->why, sizeof(tc->why),
					 "%s.%s at threshold%+lld: got %s", r->id, r->c[i].id,
					 (long long)d, got ? "true" : "false");
			}
			if (ok && is_age) {
				/* the age test must agree with a naive age at the birthday edge */
				int kage = naive_age((dg_day)cc->rhs_imm, code->ref);
				int age = naive_age((dg_day)x, code->ref);
				bool naive = cc->cmp == OP_LE ? age >= kage : age < kage;
				bool edge =
					naive_age((dg_day)cc->rhs_imm + 1, code->ref) == kage - 1;
				if (naive != got || !edge) {
					ok = false;
					snprintf(tc->why, sizeof(tc->why),
						 "%s.%s: the age test disagrees with a naive age "
						 "%d at "
						 "the birthday edge",
						 r->id, r->c[i].id, age);
				}
			}
		}
		col->v[row] = save_v;
		col->k[row] = save_k;
		char sfx[160];
		snprintf(sfx, sizeof(sfx), " [boundary %s.%s]", r->id, r->c[i].id);
		report(tc, ok, sfx);
	}
}

static void run_case(const struct dg_program *p, struct tcase *tc)
{
	const struct dg_yaml *y = tc->y;
	struct dg_intern codes;
	struct dg_data *data = NULL;
	struct dg_code *code = NULL;
	struct dg_result *res = NULL;
	struct dg_arena *a = dg_arena_new();
	struct dg_override ov[64];
	int nov = 0;
	struct dg_err err = {0};
	dg_intern_init(&codes);
	const struct dg_yaml *rd = dg_yaml_get(y, "ref_date");
	dg_day ref;
	if (!rd || dg_day_parse(rd->s, &ref)) {
		snprintf(tc->why, sizeof(tc->why), "line %d: ref_date: YYYY-MM-DD is required",
			 y->line);
		report(tc, false, NULL);
		goto out;
	}
	const struct dg_yaml *pa = dg_yaml_get(y, "params");
	for (int i = 0; pa && i < pa->n && nov < 64; i++) {
		char spec[300];
		snprintf(spec, sizeof(spec), "%s=%s", pa->keys[i]->s, pa->vals[i]->s);
		if (dg_rule_parse_override(p, a, spec, &ov[nov], &err)) {
			snprintf(tc->why, sizeof(tc->why), "line %d: %s", pa->keys[i]->line,
				 err.msg);
			report(tc, false, NULL);
			goto out;
		}
		nov++;
	}
	data = build_data(p->schema, &codes, dg_yaml_get(y, "input"), tc);
	if (!data) {
		report(tc, false, NULL);
		goto out;
	}
	struct dg_rule_diag diag;
	dg_rule_diag_init(&diag);
	code = dg_rule_compile(p, &codes, ref, ov, nov, &diag);
	if (!code) {
		snprintf(tc->why, sizeof(tc->why), "compile: %s", dg_buf_str(&diag.out));
		dg_rule_diag_release(&diag);
		report(tc, false, NULL);
		goto out;
	}
	dg_rule_diag_release(&diag);
	if (dg_rule_run(code, data, NULL, 1, &res, &err)) {
		snprintf(tc->why, sizeof(tc->why), "%s", err.msg);
		report(tc, false, NULL);
		goto out;
	}
	const struct dg_yaml *ex = dg_yaml_get(y, "expect");
	if (!ex || ex->kind != DG_Y_MAP || ex->n == 0) {
		snprintf(tc->why, sizeof(tc->why), "line %d: the case needs 'expect:'", y->line);
		report(tc, false, NULL);
		goto out;
	}
	bool ok = true;
	for (int i = 0; i < ex->n && ok; i++) {
		const char *id = ex->keys[i]->s;
		const struct dg_yaml *rules = ex->vals[i];
		int ent = -1;
		int64_t row = -1;
		for (int e = 0; e < p->schema->ne && row < 0; e++)
			if ((row = dg_data_find(data, e, id, strlen(id))) >= 0)
				ent = e;
		if (row < 0) {
			snprintf(tc->why, sizeof(tc->why), "line %d: no record '%s' in the input",
				 ex->keys[i]->line, id);
			ok = false;
			break;
		}
		for (int j = 0; j < rules->n && ok; j++) {
			int ri = dg_rule_find(p, rules->keys[j]->s);
			if (ri < 0) {
				snprintf(tc->why, sizeof(tc->why), "line %d: no rule '%s'",
					 rules->keys[j]->line, rules->keys[j]->s);
				ok = false;
				break;
			}
			ok = check_expect(code, data, res, ent, row, ri, rules->vals[j], tc);
		}
	}
	/* the batch engine's amount totals must match one-record evaluation */
	for (int ri = 0; ok && ri < p->nrules; ri++) {
		if (!res->selected[ri] || !code->rc[ri].has_amount)
			continue;
		int64_t sum = 0;
		for (int64_t row = 0; row < data->t[p->rules[ri].ent].n; row++) {
			struct dg_trace tr;
			if (dg_rule_eval_one(code, data, ri, row, &tr, NULL))
				continue;
			if (tr.outcome == DG_ELIGIBLE && tr.amount_known)
				sum += tr.amount;
			dg_trace_release(&tr);
		}
		if (sum != res->amount_sum[ri]) {
			snprintf(tc->why, sizeof(tc->why),
				 "%s: batch amount total %lld fen, one-record total %lld fen",
				 p->rules[ri].id, (long long)res->amount_sum[ri], (long long)sum);
			ok = false;
		}
	}
	report(tc, ok, NULL);
	if (ok && tc->st->boundaries) {
		for (int i = 0; i < ex->n; i++) {
			const char *id = ex->keys[i]->s;
			for (int j = 0; j < ex->vals[i]->n; j++) {
				int ri = dg_rule_find(p, ex->vals[i]->keys[j]->s);
				int64_t row = dg_data_find(data, p->rules[ri].ent, id, strlen(id));
				if (row >= 0)
					boundaries(code, data, ri, row, tc);
			}
		}
	}
out:
	dg_result_free(res);
	dg_code_free(code);
	dg_data_free(data);
	dg_intern_release(&codes);
	dg_arena_free(a);
}

dg_rc dg_rule_test_file(const char *path, FILE *out, struct dg_ytest_stats *st)
{
	char *text = NULL;
	size_t len;
	struct dg_err err = {0};
	struct dg_arena *a = dg_arena_new();
	struct dg_yaml *root;
	struct dg_program *p = NULL;
	dg_rc rc = DG_EINVAL;
	if (dg_rule_read_file(path, 16 << 20, &text, &len, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		goto out;
	}
	if (dg_yaml_parse(a, text, len, &root, &err)) {
		fprintf(stderr, "%s: %s\n", path, err.msg);
		goto out;
	}
	const struct dg_yaml *rules = dg_yaml_get(root, "rules");
	const struct dg_yaml *tests = dg_yaml_get(root, "tests");
	if (!rules || rules->kind != DG_Y_SEQ || !tests || tests->kind != DG_Y_SEQ) {
		fprintf(stderr, "%s: needs 'rules: [files]' and 'tests: [cases]'\n", path);
		goto out;
	}
	char *paths[64];
	int np = 0;
	const char *slash = strrchr(path, '/');
	for (int i = 0; i < rules->n && np < 64; i++) {
		const char *r = rules->vals[i]->s;
		paths[np++] = r[0] == '/' || !slash
				      ? dg_arena_strdup(a, r)
				      : dg_arena_printf(a, "%.*s/%s", (int)(slash - path), path, r);
	}
	p = dg_rule_load(paths, np);
	if (p->diag.errors) {
		fprintf(stderr, "%s", dg_buf_str(&p->diag.out));
		goto out;
	}
	for (int i = 0; i < tests->n; i++) {
		struct tcase tc = {0};
		const struct dg_yaml *nm = dg_yaml_get(tests->vals[i], "name");
		tc.file = path;
		tc.y = tests->vals[i];
		tc.name = nm ? nm->s : "(unnamed)";
		tc.out = out;
		tc.st = st;
		run_case(p, &tc);
	}
	rc = DG_OK;
out:
	dg_program_free(p);
	free(text);
	dg_arena_free(a);
	return rc;
}

dg_rc dg_rule_test_text(const struct dg_program *p, const char *name, const char *text, size_t len,
			FILE *out, struct dg_ytest_stats *st, struct dg_err *err)
{
	struct dg_arena *a = dg_arena_new();
	struct dg_yaml *root;
	dg_rc rc = dg_yaml_parse(a, text, len, &root, err);
	if (rc)
		goto out;
	const struct dg_yaml *tests = dg_yaml_get(root, "tests");
	rc = DG_EINVAL;
	if (!tests || tests->kind != DG_Y_SEQ || tests->n == 0) {
		dg_err_set(err, DG_EINVAL, "the tests need 'tests:' with at least one case");
		goto out;
	}
	if (!p->schema || p->diag.errors) {
		dg_err_set(err, DG_EINVAL, "the rules do not compile");
		goto out;
	}
	for (int i = 0; i < tests->n; i++) {
		struct tcase tc = {0};
		const struct dg_yaml *nm = dg_yaml_get(tests->vals[i], "name");
		tc.file = name;
		tc.y = tests->vals[i];
		tc.name = nm ? nm->s : "(unnamed)";
		tc.out = out;
		tc.st = st;
		run_case(p, &tc);
	}
	rc = DG_OK;
out:
	dg_arena_free(a);
	return rc;
}
