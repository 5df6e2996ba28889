/*
 * whatif.c - what-if for policy staff, as a durable job: change parameters
 * of a policy's version in force and see who would gain or lose, the change
 * in cost, by district; and a sweep of one parameter's values.
 *
 * The engine does the work (rule/whatif.h: the same code `dgov rule whatif`
 * prints from): the program compiled as is and with the overrides, each
 * evaluated over the registries read as a run reads them (pr_load_data,
 * under the owning department's grants). This file compares the two record
 * by record, for the districts and the people, and keeps the answer sealed
 * (it names people) in pr_whatifs.result.
 *
 * Caps, so a what-if cannot run away: at most PR_WHATIF_SETS parameters
 * changed, a sweep of at most PR_SWEEP_MAX values, at most PR_WHATIF_PEOPLE
 * people listed, and one what-if of a policy under way at a time.
 */
#include "proactive/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/keys.h"
#include "core/log.h"
#include "core/mem.h"
#include "rule/rule.h"

dg_rc pr_policy_version(struct dg_db *db, struct dg_arena *a, const char *code,
			struct pr_version *out)
{
	dg_rc rc = pr_policy_id(db, code, &out->id);
	if (!rc)
		rc = pr_policy_dept(db, code, a, &out->dept);
	if (!rc)
		rc = dg_db_query_int(db, "SELECT version FROM pr_policies WHERE id = ?",
				     DG_ARGS(DG_VI(out->id)), &out->version);
	if (!rc)
		rc = dg_db_query_text(db,
				      "SELECT rule_text FROM pr_versions WHERE policy_id = ? AND"
				      " version = ?",
				      DG_ARGS(DG_VI(out->id), DG_VI(out->version)), a, &out->text);
	return rc;
}

/*
 * The overrides of sets (strings "NAME=VALUE" or "NAME[REGION]=VALUE") and
 * the sweep's values; EINVAL with a message key and the field at fault.
 */
static dg_rc parse_input(const struct dg_program *p, struct dg_arena *a, json_t *sets,
			 const char *sweep, struct dg_override *ov, int *nov,
			 struct dg_override *sw, int64_t *vals, int *nvals, struct dg_err *err)
{
	struct dg_err e = {0};
	*nov = 0;
	*nvals = 0;
	if (json_array_size(sets) > PR_WHATIF_SETS)
		return dg_err_field(err, DG_EINVAL, "set", "proactive.w.err.too_many");
	size_t i;
	json_t *s;
	json_array_foreach (sets, i, s) {
		const char *spec = json_string_value(s);
		if (!spec || dg_rule_parse_override(p, a, spec, &ov[*nov], &e))
			return dg_err_field(err, DG_EINVAL, "set", "proactive.w.err.set");
		(*nov)++;
	}
	if (sweep && *sweep && dg_rule_parse_sweep(p, a, sweep, PR_SWEEP_MAX, sw, vals, nvals, &e))
		return dg_err_field(err, DG_EINVAL, "sweep", "proactive.w.err.sweep");
	if (!*nov && !*nvals)
		return dg_err_field(err, DG_EINVAL, "set", "proactive.w.err.nothing");
	return DG_OK;
}

/*
 * A new what-if row of policy code, checked; with queue, in its own
 * transaction with its job, else in the caller's with none (*job 0).
 */
static dg_rc whatif_new(struct dg_env *env, struct dg_db *db, const char *code, dg_day ref,
			json_t *sets, const char *sweep, int64_t user, bool queue, int64_t *id,
			int64_t *job, struct dg_err *err)
{
	struct dg_arena *a = dg_arena_new();
	struct pr_version pol = {0};
	struct dg_program *p = NULL;
	struct dg_override ov[PR_WHATIF_SETS], sw;
	int64_t vals[PR_SWEEP_MAX];
	int nov = 0, nvals = 0;
	char day[11];
	dg_day_format(ref ? ref : dg_day_today(), day);
	dg_rc rc = pr_policy_version(db, a, code, &pol);
	if (rc) {
		dg_err_set(err, rc,
			   rc == DG_ENOTFOUND ? "proactive.err.no_policy" : "proactive.err.store");
		goto out;
	}
	p = pr_compile(env, code, pol.text, strlen(pol.text));
	if (p->diag.errors) {
		rc = dg_err_set(err, DG_EINVAL, "proactive.err.compile");
		goto out;
	}
	rc = parse_input(p, a, sets, sweep, ov, &nov, &sw, vals, &nvals, err);
	if (rc)
		goto out;
	char *sets_text = json_dumps(sets ? sets : json_array(), JSON_COMPACT);
	*job = 0;
	rc = queue ? dg_db_begin(db) : DG_OK;
	int64_t busy = 0;
	/* one what-if of a policy under way at a time; one whose job gave up does not count */
	if (!rc)
		rc = dg_db_query_int(db,
				     "SELECT COUNT(*) FROM pr_whatifs w LEFT JOIN jobs j ON j.id ="
				     " w.job_id WHERE w.policy_id = ? AND w.state IN"
				     " ('queued','running') AND COALESCE(j.state, '') <> 'failed'",
				     DG_ARGS(DG_VI(pol.id)), &busy);
	if (!rc && busy)
		rc = dg_err_set(err, DG_ECONFLICT, "proactive.w.err.running");
	if (!rc)
		rc = dg_db_query_int(db,
				     "INSERT INTO pr_whatifs (policy_id, version, ref_date, sets,"
				     " sweep, state, created_by, created_ms) VALUES (?, ?, ?, ?, ?,"
				     " 'queued', ?, ?) RETURNING id",
				     DG_ARGS(DG_VI(pol.id), DG_VI(pol.version), DG_VT(day),
					     DG_VT(sets_text), DG_VT(sweep ? sweep : ""),
					     DG_VI(user), DG_VI(dg_now_ms())),
				     id);
	free(sets_text);
	json_t *payload = NULL;
	if (!rc && queue) {
		payload = json_pack("{s:I}", "whatif", (json_int_t)*id);
		rc = dg_job_enqueue(db, "proactive.whatif", payload, user, NULL, job);
		json_decref(payload);
	}
	if (!rc && queue)
		rc = dg_db_exec(db, "UPDATE pr_whatifs SET job_id = ? WHERE id = ?",
				DG_ARGS(DG_VI(*job), DG_VI(*id)), NULL);
	if (!rc && queue)
		rc = dg_db_commit(db);
	if (rc) {
		if (queue)
			dg_db_rollback(db);
		if (!err->msg[0])
			dg_err_set(err, rc, "proactive.err.store");
	}
out:
	if (p)
		dg_program_free(p);
	dg_arena_free(a);
	return rc;
}

dg_rc pr_whatif_start(struct dg_env *env, struct dg_db *db, const char *code, dg_day ref,
		      json_t *sets, const char *sweep, int64_t user, int64_t *id, int64_t *job,
		      struct dg_err *err)
{
	return whatif_new(env, db, code, ref, sets, sweep, user, true, id, job, err);
}

/* A value of parameter pm as people write it. */
static const char *value_text(struct dg_arena *a, const struct dg_intern *codes,
			      const struct dg_param *pm, int64_t v)
{
	struct dg_buf b;
	dg_buf_init(&b, 256);
	const char *out = "";
	if (!dg_rule_fmt_value(&b, codes, pm->ty, v, true, false))
		out = dg_arena_strdup(a, dg_buf_str(&b));
	dg_buf_release(&b);
	return out;
}

json_t *pr_whatif_params(const struct dg_program *p, dg_day ref, struct dg_arena *a)
{
	struct dg_intern none;
	dg_intern_init(&none);
	json_t *out = json_array();
	for (int i = 0; i < p->nparams; i++) {
		const struct dg_param *pm = &p->params[i];
		int64_t v = 0;
		bool known = dg_rule_param_value(p, i, NULL, ref, NULL, 0, &v);
		json_array_append_new(out, json_pack("{s:s,s:s,s:b,s:s}", "name", pm->name, "value",
						     known ? value_text(a, &none, pm, v) : "",
						     "by_region", pm->by_region, "legal",
						     pm->legal ? pm->legal : ""));
	}
	dg_intern_release(&none);
	return out;
}

/* Add n to o[key] (an integer). */
static void add_to(json_t *o, const char *key, int64_t n)
{
	json_object_set_new(o, key, json_integer(json_integer_value(json_object_get(o, key)) + n));
}

/* One rule's gains and losses, by district and person, into res. */
static void compare_rule(const struct dg_program *p, const struct dg_data *d,
			 const struct dg_whatif *w, int ri, json_t *res)
{
	int ent = p->rules[ri].ent;
	int64_t n = d->t[ent].n;
	int df = pr_district_field(&p->schema->e[ent]);
	const struct dg_result *rb = w->rb, *ra = w->ra;
	int64_t gain = 0, lose = 0, dam = 0;
	bool big = ra->amount_overflow[ri] || rb->amount_overflow[ri] ||
		   __builtin_sub_overflow(ra->amount_sum[ri], rb->amount_sum[ri], &dam);
	json_t *districts = json_object_get(res, "by_district"),
	       *people = json_object_get(res, "people");
	for (int64_t row = 0; row < n; row++) {
		bool b = dg_bit(rb->elig[ri], row), x = dg_bit(ra->elig[ri], row);
		int64_t fb = 0, fa = 0;
		if (b && !dg_result_amount(rb, ri, row, &fb))
			fb = 0;
		if (x && !dg_result_amount(ra, ri, row, &fa))
			fa = 0;
		if (b == x && fb == fa)
			continue;
		const char *dist = pr_district_of(d, ent, df, row);
		json_t *o = json_object_get(districts, dist);
		if (!o) {
			o = json_pack("{s:s,s:I,s:I,s:I}", "district", dist, "gain", (json_int_t)0,
				      "lose", (json_int_t)0, "month_fen", (json_int_t)0);
			json_object_set_new(districts, dist, o);
		}
		add_to(o, "month_fen", fa - fb);
		if (b == x)
			continue;
		add_to(o, x ? "gain" : "lose", 1);
		if (x)
			gain++;
		else
			lose++;
		if (json_array_size(people) < PR_WHATIF_PEOPLE)
			json_array_append_new(people, json_pack("{s:s,s:s,s:s,s:s,s:I,s:I}", "rule",
								p->rules[ri].id, "id",
								dg_data_id(d, ent, row), "district",
								dist, "change", x ? "gain" : "lose",
								"before_fen", (json_int_t)fb,
								"after_fen", (json_int_t)fa));
	}
	json_array_append_new(
		json_object_get(res, "rules"),
		json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:o}", "rule", p->rules[ri].id, "name_zh",
			  p->rules[ri].name_zh ? p->rules[ri].name_zh : p->rules[ri].id, "name_en",
			  p->rules[ri].name_en ? p->rules[ri].name_en : p->rules[ri].id,
			  "eligible_before", (json_int_t)dg_bits_count(rb->elig[ri], n),
			  "eligible_after", (json_int_t)dg_bits_count(ra->elig[ri], n), "gain",
			  (json_int_t)gain, "lose", (json_int_t)lose, "amount_change_fen",
			  big ? json_null() : json_integer(dam)));
}

/* The answer of a what-if: rules, districts, people and the sweep. */
static dg_rc answer(const struct dg_program *p, const struct dg_data *d,
		    const struct dg_intern *codes, dg_day ref, const struct dg_override *ov,
		    int nov, const struct dg_override *sw, const int64_t *vals, int nvals,
		    struct dg_arena *a, json_t *res, struct dg_err *err)
{
	json_object_set_new(res, "rules", json_array());
	json_object_set_new(res, "by_district", json_object());
	json_object_set_new(res, "people", json_array());
	dg_rc rc = DG_OK;
	if (nov) {
		struct dg_whatif w;
		rc = dg_whatif_open(p, d, codes, ref, ov, nov, 1, true, &w, err);
		for (int i = 0; !rc && i < p->nrules; i++)
			if (w.sel[i] && w.rb->selected[i])
				compare_rule(p, d, &w, i, res);
		if (!rc)
			dg_whatif_close(&w);
	}
	if (rc || !nvals)
		return rc;
	int64_t *counts = dg_xcalloc((size_t)nvals * (size_t)p->nrules + 1, sizeof *counts);
	rc = dg_rule_sweep_counts(p, d, codes, ref, sw, vals, nvals, 1, counts, err);
	json_t *points = json_array();
	for (int v = 0; !rc && v < nvals; v++) {
		int64_t total = 0;
		for (int i = 0; i < p->nrules; i++)
			total += counts[(size_t)v * (size_t)p->nrules + (size_t)i] > 0
					 ? counts[(size_t)v * (size_t)p->nrules + (size_t)i]
					 : 0;
		json_array_append_new(
			points, json_pack("{s:s,s:I}", "value",
					  value_text(a, codes, &p->params[sw->param], vals[v]),
					  "eligible", (json_int_t)total));
	}
	free(counts);
	json_object_set_new(
		res, "sweep",
		json_pack("{s:s,s:o}", "param", p->params[sw->param].name, "points", points));
	return rc;
}

/* A what-if that cannot succeed: say why on its row. */
static void fail_whatif(struct dg_db *db, int64_t id, const char *why)
{
	if (dg_db_exec(db,
		       "UPDATE pr_whatifs SET state = 'failed', error = ?, finished_ms = ? WHERE"
		       " id = ?",
		       DG_ARGS(DG_VT(why), DG_VI(dg_now_ms()), DG_VI(id)), NULL))
		dg_warn("proactive: what-if %lld could not be marked failed", (long long)id);
}

dg_rc pr_whatif_job(struct dg_job *job, struct dg_err *err)
{
	int64_t id = json_integer_value(json_object_get(job->payload, "whatif"));
	struct dg_arena *a = dg_arena_new();
	struct dg_intern codes;
	struct dg_program *p = NULL;
	struct dg_data *d = NULL;
	struct dg_override ov[PR_WHATIF_SETS], sw;
	int64_t vals[PR_SWEEP_MAX], pid = 0, version = 0;
	int nov = 0, nvals = 0;
	char *ref_s = NULL, *sets_s = NULL, *sweep = NULL, *text = NULL, *dept = NULL;
	char source[16];
	dg_day ref = 0;
	json_t *sets = NULL, *res = json_object();
	dg_intern_init(&codes);
	struct dg_db *db = job->db;
	dg_rc rc = dg_db_query_int(db, "SELECT policy_id FROM pr_whatifs WHERE id = ?",
				   DG_ARGS(DG_VI(id)), &pid);
	if (!rc)
		rc = dg_db_query_int(db, "SELECT version FROM pr_whatifs WHERE id = ?",
				     DG_ARGS(DG_VI(id)), &version);
	if (!rc)
		rc = dg_db_query_text(db, "SELECT ref_date FROM pr_whatifs WHERE id = ?",
				      DG_ARGS(DG_VI(id)), a, &ref_s);
	if (!rc)
		rc = dg_db_query_text(db, "SELECT sets FROM pr_whatifs WHERE id = ?",
				      DG_ARGS(DG_VI(id)), a, &sets_s);
	if (!rc)
		rc = dg_db_query_text(db, "SELECT sweep FROM pr_whatifs WHERE id = ?",
				      DG_ARGS(DG_VI(id)), a, &sweep);
	if (!rc)
		rc = dg_db_query_text(db, "SELECT dept FROM pr_policies WHERE id = ?",
				      DG_ARGS(DG_VI(pid)), a, &dept);
	if (!rc)
		rc = dg_db_query_text(db,
				      "SELECT rule_text FROM pr_versions WHERE policy_id = ? AND"
				      " version = ?",
				      DG_ARGS(DG_VI(pid), DG_VI(version)), a, &text);
	if (!rc && dg_day_parse(ref_s, &ref))
		rc = DG_EINVAL;
	char *code = NULL;
	if (!rc)
		rc = dg_db_query_text(db, "SELECT code FROM pr_policies WHERE id = ?",
				      DG_ARGS(DG_VI(pid)), a, &code);
	if (rc) {
		rc = dg_err_set(err, DG_EINVAL, "what-if %lld: no such what-if or policy version",
				(long long)id);
		goto out;
	}
	if (dg_db_exec(db, "UPDATE pr_whatifs SET state = 'running' WHERE id = ?",
		       DG_ARGS(DG_VI(id)), NULL))
		dg_warn("proactive: what-if %lld could not be marked running", (long long)id);
	p = pr_compile(job->env, code, text, strlen(text));
	sets = json_loads(sets_s, 0, NULL);
	if (p->diag.errors) {
		rc = dg_err_set(err, DG_EINVAL, "the policy's rules do not compile");
		goto out;
	}
	if ((rc = parse_input(p, a, sets, sweep, ov, &nov, &sw, vals, &nvals, err))) {
		rc = dg_err_set(err, DG_EINVAL, "the parameters no longer fit the policy");
		goto out;
	}
	char use[48];
	snprintf(use, sizeof use, "proactive-whatif-%lld", (long long)id);
	d = pr_load_data(job, p, &codes, dept, use, NULL, source, sizeof source, err);
	if (!d) {
		char why[sizeof err->msg];
		snprintf(why, sizeof why, "%s",
			 err->msg[0] ? err->msg : "the registries could not be read");
		rc = dg_err_set(err, DG_EINVAL, "%s", why);
		goto out;
	}
	rc = answer(p, d, &codes, ref, ov, nov, &sw, vals, nvals, a, res, err);
	if (rc) {
		rc = DG_EINVAL;
		goto out;
	}
	json_object_set_new(res, "source", json_string(source));
	char *plain = json_dumps(res, JSON_COMPACT);
	const char *sealed = dg_pii_seal(&job->env->keys, a, plain);
	dg_wipe(plain, strlen(plain));
	free(plain);
	rc = dg_db_exec(db,
			"UPDATE pr_whatifs SET state = 'done', result = ?, finished_ms = ? WHERE"
			" id = ?",
			DG_ARGS(DG_VT(sealed), DG_VI(dg_now_ms()), DG_VI(id)), NULL);
	if (rc)
		rc = dg_err_set(err, rc, "the what-if's answer could not be written");
out:
	if (rc && rc != DG_EUNAVAIL && (rc == DG_EINVAL || job->attempt >= 3)) {
		fail_whatif(db, id, err->msg);
		rc = DG_EINVAL;
	}
	json_decref(res);
	json_decref(sets);
	dg_data_free(d);
	if (p)
		dg_program_free(p);
	dg_intern_release(&codes);
	dg_arena_free(a);
	return rc;
}

dg_rc pr_whatif_inline(struct dg_env *env, struct dg_db *db, const char *code, dg_day ref,
		       json_t *sets, const char *sweep, int64_t user, int64_t *id,
		       struct dg_err *err)
{
	int64_t none = 0;
	if (!dg_db_in_tx(db))
		return dg_err_set(err, DG_EINVAL,
				  "a what-if inline needs the caller's transaction");
	dg_rc rc = whatif_new(env, db, code, ref, sets, sweep, user, false, id, &none, err);
	if (rc)
		return rc;
	json_t *payload = json_pack("{s:I}", "whatif", (json_int_t)*id);
	struct dg_job job = {
		.kind = "proactive.whatif", .payload = payload, .attempt = 1, .db = db, .env = env};
	rc = pr_whatif_job(&job, err);
	json_decref(payload);
	return rc;
}
