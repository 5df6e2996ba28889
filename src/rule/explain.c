/*
 * explain.c - explanations built from a one-record trace: the condition
 * labels become the sentences, the traced leaves become the values with
 * their sources, and the top comparison of a numeric condition gives the
 * gap (in fen for money, in days for an age or a date, in units otherwise).
 */
#include "rule/explain.h"

#include <stdio.h>
#include <string.h>

#include "rule/check.h"

dg_rc dg_rule_fmt_value(struct dg_buf *out, const struct dg_intern *codes, struct dg_type ty,
			int64_t v, bool known, bool json)
{
	char day[11];
	if (!known)
		return dg_buf_adds(out, json ? "null" : "unknown");
	switch (ty.base) {
	case TY_BOOL: return dg_buf_adds(out, v ? "true" : "false");
	case TY_MONEY:
	case TY_RAW:
		return dg_buf_addf(out, json ? "%s%lld.%02lld" : "%s%lld.%02lld yuan",
				   v < 0 ? "-" : "", (long long)((v < 0 ? -(v / 100) : v / 100)),
				   (long long)((v < 0 ? -(v % 100) : v % 100)));
	case TY_DEC: {
		uint64_t a = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
		return dg_buf_addf(out, "%s%llu.%06llu", v < 0 ? "-" : "",
				   (unsigned long long)(a / DG_DEC_ONE),
				   (unsigned long long)(a % DG_DEC_ONE));
	}
	case TY_DATE:
		if (v < -3000000 || v > 3000000)
			return dg_buf_adds(out, json ? "null" : "?");
		dg_day_format((dg_day)v, day);
		return json ? dg_buf_addf(out, "\"%s\"", day) : dg_buf_adds(out, day);
	case TY_CODE:
		if (v >= 0 && v < codes->n)
			return json ? dg_buf_add_json_str(out, codes->s[v], strlen(codes->s[v]))
				    : dg_buf_adds(out, codes->s[v]);
		return dg_buf_adds(out, json ? "null" : "?");
	default: return dg_buf_addf(out, "%lld", (long long)v);
	}
}

/* gap: how far the left side is from passing "lhs CMP rhs" */
static bool gap_of(const struct dg_ccode *cc, const struct dg_trace *tr, int from, int64_t *gap)
{
	if (cc->cmp < 0 || cc->lhs_ins < from)
		return false;
	int li = cc->lhs_ins - from;
	if (li < 0 || li >= tr->n || !tr->k[li])
		return false;
	int64_t l = tr->v[li], r = cc->rhs_imm;
	if (cc->rhs_ins >= 0) {
		int ri = cc->rhs_ins - from;
		if (ri < 0 || ri >= tr->n || !tr->k[ri])
			return false;
		r = tr->v[ri];
	}
	/* in 128 bits: hostile values must not overflow; clamp to what prints */
	__int128 g;
	switch (cc->cmp) {
	case OP_LT: g = l < r ? 0 : (__int128)l - r + 1; break;
	case OP_LE: g = l <= r ? 0 : (__int128)l - r; break;
	case OP_GT: g = l > r ? 0 : (__int128)r - l + 1; break;
	case OP_GE: g = l >= r ? 0 : (__int128)r - l; break;
	default: return false;
	}
	*gap = g > INT64_MAX ? INT64_MAX : (int64_t)g;
	return true;
}

dg_rc dg_rule_explain_eval(const struct dg_code *code, const struct dg_data *data, int rule,
			   int64_t row, enum dg_outcome *outcome, int64_t *amount,
			   bool *amount_known, struct dg_explain_cond *conds, int max, int *n,
			   struct dg_err *err)
{
	struct dg_trace tr;
	const struct dg_rule *r = &code->prog->rules[rule];
	const struct dg_rcode *rc = &code->rc[rule];
	dg_rc e = dg_rule_eval_one(code, data, rule, row, &tr, err);
	if (e)
		return e;
	*outcome = tr.outcome;
	*amount = tr.amount;
	*amount_known = tr.amount_known;
	*n = 0;
	for (int i = 0; i < r->nc && *n < max; i++) {
		if (r->c[i].kind != CL_COND)
			continue;
		const struct dg_ccode *cc = &rc->cc[i];
		int ci = cc->to - 1 - rc->from;
		struct dg_explain_cond *x = &conds[(*n)++];
		x->id = r->c[i].id;
		x->result = !tr.k[ci] ? DG_UNKNOWN : tr.v[ci] ? DG_ELIGIBLE : DG_NOT_ELIGIBLE;
		x->has_gap = gap_of(cc, &tr, rc->from, &x->gap);
	}
	dg_trace_release(&tr);
	return DG_OK;
}

/* a value shown once per condition even when the expression reads it twice */
static bool dup_leaf(const struct dg_ccode *cc, int l)
{
	for (int j = 0; j < l; j++)
		if (!strcmp(cc->leaves[j].name, cc->leaves[l].name))
			return true;
	return false;
}

static bool dup_param(const struct dg_ccode *cc, int l)
{
	for (int j = 0; j < l; j++)
		if (!strcmp(cc->params[j].name, cc->params[l].name))
			return true;
	for (int j = 0; j < cc->nleaves; j++)
		if (!strcmp(cc->leaves[j].name, cc->params[l].name))
			return true;
	return false;
}

/* A value coalesce() replaced by its default: not missing. */
static bool defaulted(const struct dg_leaf *lf, const struct dg_trace *tr, int from)
{
	int di = lf->dflt_ins - from;
	return lf->dflt_ins >= 0 && di >= 0 && di < tr->n && tr->k[di];
}

/* missing inputs are listed once per rule */
static bool seen_before(const struct dg_rcode *rc, const struct dg_rule *r, int ci, int l)
{
	const char *name = rc->cc[ci].leaves[l].name;
	for (int i = 0; i <= ci; i++) {
		if (r->c[i].kind != CL_COND)
			continue;
		int upto = i == ci ? l : rc->cc[i].nleaves;
		for (int j = 0; j < upto; j++)
			if (!strcmp(rc->cc[i].leaves[j].name, name))
				return true;
	}
	return false;
}

static const char *res_word(const struct dg_trace *tr, int i)
{
	return !tr->k[i] ? "null" : tr->v[i] ? "true" : "false";
}

dg_rc dg_rule_explain_json(const struct dg_code *code, const struct dg_data *data, int rule,
			   int64_t row, struct dg_buf *out, struct dg_err *err)
{
	struct dg_trace tr;
	const struct dg_program *p = code->prog;
	const struct dg_rule *r = &p->rules[rule];
	const struct dg_rcode *rc = &code->rc[rule];
	const struct dg_schema *s = p->schema;
	char day[11];
	dg_rc e = dg_rule_eval_one(code, data, rule, row, &tr, err);
	if (e)
		return e;
	const char *id = dg_data_id(data, r->ent, row);
	dg_day_format(code->ref, day);
	char ent_id[512]; /* a name of 64 characters and a 200-byte id */
	snprintf(ent_id, sizeof(ent_id), "%s/%s", s->e[r->ent].name, id);
	e |= dg_buf_adds(out, "{\"entity\":");
	e |= dg_buf_add_json_str(out, ent_id, strlen(ent_id));
	e |= dg_buf_adds(out, ",\"rule\":");
	char rid[512];
	snprintf(rid, sizeof(rid), "%s@%s", r->id, r->version ? r->version : "0");
	e |= dg_buf_add_json_str(out, rid, strlen(rid));
	e |= dg_buf_addf(out, ",\"name_zh\":");
	e |= dg_buf_add_json_str(out, r->name_zh, strlen(r->name_zh));
	e |= dg_buf_addf(out, ",\"name_en\":");
	e |= dg_buf_add_json_str(out, r->name_en, strlen(r->name_en));
	if (r->legal) {
		e |= dg_buf_adds(out, ",\"legal_basis\":");
		e |= dg_buf_add_json_str(out, r->legal, strlen(r->legal));
	}
	e |= dg_buf_addf(out, ",\"ref_date\":\"%s\",\"outcome\":\"%s\"", day,
			 dg_outcome_name(tr.outcome));
	/* blocking: conditions known false */
	e |= dg_buf_adds(out, ",\"blocking\":[");
	int nb = 0;
	for (int i = 0; i < r->nc; i++) {
		if (r->c[i].kind != CL_COND)
			continue;
		int ci = rc->cc[i].to - 1 - rc->from;
		if (tr.k[ci] && !tr.v[ci])
			e |= dg_buf_addf(out, "%s\"%s\"", nb++ ? "," : "", r->c[i].id);
	}
	e |= dg_buf_adds(out, "],\"missing_inputs\":[");
	int nm = 0;
	for (int i = 0; i < r->nc; i++) {
		if (r->c[i].kind != CL_COND)
			continue;
		const struct dg_ccode *cc = &rc->cc[i];
		for (int l = 0; l < cc->nleaves; l++) {
			int li = cc->leaves[l].ins - rc->from;
			if (li >= 0 && li < tr.n && !tr.k[li] && !seen_before(rc, r, i, l) &&
			    !defaulted(&cc->leaves[l], &tr, rc->from)) {
				e |= dg_buf_addf(out, "%s", nm++ ? "," : "");
				e |= dg_buf_add_json_str(out, cc->leaves[l].name,
							 strlen(cc->leaves[l].name));
			}
		}
	}
	e |= dg_buf_adds(out, "],\"conditions\":[");
	int first = 1;
	for (int i = 0; i < r->nc; i++) {
		const struct dg_cond *cd = &r->c[i];
		if (cd->kind != CL_COND)
			continue;
		const struct dg_ccode *cc = &rc->cc[i];
		int ci = cc->to - 1 - rc->from;
		e |= dg_buf_addf(out, "%s{\"id\":\"%s\",\"label\":", first ? "" : ",", cd->id);
		first = 0;
		e |= dg_buf_add_json_str(out, cd->label_zh, strlen(cd->label_zh));
		e |= dg_buf_adds(out, ",\"label_en\":");
		e |= dg_buf_add_json_str(out, cd->label_en, strlen(cd->label_en));
		e |= dg_buf_addf(out, ",\"result\":%s,\"values\":{", res_word(&tr, ci));
		int nv = 0;
		for (int l = 0; l < cc->nleaves; l++) {
			const struct dg_leaf *lf = &cc->leaves[l];
			int li = lf->ins - rc->from;
			if (li < 0 || li >= tr.n || dup_leaf(cc, l))
				continue;
			e |= dg_buf_addf(out, "%s", nv++ ? "," : "");
			e |= dg_buf_add_json_str(out, lf->name, strlen(lf->name));
			e |= dg_buf_adds(out, ":{\"v\":");
			if (!tr.k[li] && defaulted(lf, &tr, rc->from)) {
				/* not in the registry: the default the rule gives it */
				int di = lf->dflt_ins - rc->from;
				e |= dg_rule_fmt_value(out, code->codes, lf->ty, tr.v[di], true,
						       true);
				e |= dg_buf_adds(out, ",\"default\":true");
			} else {
				e |= dg_rule_fmt_value(out, code->codes, lf->ty, tr.v[li], tr.k[li],
						       true);
			}
			if (lf->ent >= 0) {
				int64_t rec = row;
				if (lf->link_ins >= 0) {
					int ki = lf->link_ins - rc->from;
					rec = ki >= 0 && ki < tr.n && tr.k[ki] ? tr.v[ki] : -1;
				}
				e |= dg_buf_adds(out, ",\"src\":");
				const char *src = lf->source ? lf->source : s->e[lf->ent].source;
				e |= dg_buf_add_json_str(out, src, strlen(src));
				if (rec >= 0) {
					char rec_id[512];
					snprintf(rec_id, sizeof(rec_id), "%s/%s",
						 s->e[lf->ent].name,
						 dg_data_id(data, lf->ent, rec));
					e |= dg_buf_adds(out, ",\"rec\":");
					e |= dg_buf_add_json_str(out, rec_id, strlen(rec_id));
				} else {
					e |= dg_buf_adds(out, ",\"rec\":null");
				}
			} else if (lf->source) {
				e |= dg_buf_adds(out, ",\"legal\":");
				e |= dg_buf_add_json_str(out, lf->source, strlen(lf->source));
			}
			e |= dg_buf_adds(out, "}");
		}
		for (int l = 0; l < cc->nparams; l++) {
			const struct dg_leaf *lf = &cc->params[l];
			if (dup_param(cc, l))
				continue;
			e |= dg_buf_addf(out, "%s", nv++ ? "," : "");
			e |= dg_buf_add_json_str(out, lf->name, strlen(lf->name));
			e |= dg_buf_adds(out, ":{\"param\":true,\"v\":");
			e |= dg_rule_fmt_value(out, code->codes, lf->ty, lf->value, true, true);
			if (lf->source) {
				e |= dg_buf_adds(out, ",\"legal\":");
				e |= dg_buf_add_json_str(out, lf->source, strlen(lf->source));
			}
			e |= dg_buf_adds(out, "}");
		}
		e |= dg_buf_adds(out, "}");
		int64_t gap;
		if (gap_of(cc, &tr, rc->from, &gap)) {
			e |= dg_buf_adds(out, ",\"gap\":");
			struct dg_type gt = cc->cmp_ty;
			if (gt.base == TY_DATE)
				e |= dg_buf_addf(out, "%lld,\"gap_unit\":\"days\"", (long long)gap);
			else {
				gt.per = 0;
				e |= dg_rule_fmt_value(out, code->codes, gt, gap, true, true);
				e |= dg_buf_addf(out, ",\"gap_unit\":\"%s\"",
						 gt.base == TY_MONEY ? "yuan" : "units");
			}
		}
		e |= dg_buf_adds(out, "}");
	}
	e |= dg_buf_adds(out, "],\"exceptions_applied\":[");
	nb = 0;
	for (int i = 0; i < r->nc; i++) {
		if (r->c[i].kind == CL_COND)
			continue;
		/* the compiler kept the instruction that gives the exception's "when" */
		int wi = rc->cc[i].result_ins - rc->from;
		if (wi >= 0 && wi < tr.n && tr.k[wi] && tr.v[wi]) {
			e |= dg_buf_addf(out, "%s{\"id\":\"%s\",\"to\":\"%s\",\"label\":",
					 nb++ ? "," : "", r->c[i].id, r->c[i].target);
			e |= dg_buf_add_json_str(out, r->c[i].label_zh, strlen(r->c[i].label_zh));
			e |= dg_buf_adds(out, "}");
		}
	}
	e |= dg_buf_adds(out, "],\"amount\":");
	if (rc->has_amount && tr.outcome == DG_ELIGIBLE)
		e |= dg_rule_fmt_value(out, code->codes, (struct dg_type){TY_MONEY, 0, false},
				       tr.amount, tr.amount_known, true);
	else
		e |= dg_buf_adds(out, "null");
	e |= dg_buf_adds(out, "}");
	dg_trace_release(&tr);
	return e ? dg_err_set(err, DG_ETOOBIG, "explanation too long") : DG_OK;
}

dg_rc dg_rule_explain_text(const struct dg_code *code, const struct dg_data *data, int rule,
			   int64_t row, const char *lang, struct dg_buf *out, struct dg_err *err)
{
	struct dg_trace tr;
	const struct dg_program *p = code->prog;
	const struct dg_rule *r = &p->rules[rule];
	const struct dg_rcode *rc = &code->rc[rule];
	bool zh = !strcmp(lang, "zh");
	char day[11];
	dg_rc e = dg_rule_eval_one(code, data, rule, row, &tr, err);
	if (e)
		return e;
	const char *id = dg_data_id(data, r->ent, row);
	dg_day_format(code->ref, day);
	const char *name = zh ? r->name_zh : r->name_en;
	switch (tr.outcome) {
	case DG_ELIGIBLE:
		e |= zh ? dg_buf_addf(out, "截至%s，%s 符合“%s”的条件", day, id, name)
			: dg_buf_addf(out, "On %s, %s qualifies for \"%s\"", day, id, name);
		if (rc->has_amount && tr.amount_known) {
			e |= dg_buf_adds(out, zh ? "，金额 " : ", amount ");
			e |= dg_rule_fmt_value(out, code->codes,
					       (struct dg_type){TY_MONEY, 0, false}, tr.amount,
					       true, true);
			e |= dg_buf_adds(out, zh ? " 元" : " yuan");
		}
		e |= dg_buf_adds(out, zh ? "。" : ".");
		break;
	case DG_CONFLICT:
		e |= zh ? dg_buf_addf(out, "截至%s，%s 对“%s”有两项例外同时适用，需人工裁定。", day,
				      id, name)
			: dg_buf_addf(out,
				      "On %s, two exceptions of \"%s\" both apply to %s: a person "
				      "must decide.",
				      day, name, id);
		break;
	case DG_NOT_IN_FORCE:
		e |= zh ? dg_buf_addf(out, "“%s”在%s不在有效期内。", name, day)
			: dg_buf_addf(out, "\"%s\" is not in force on %s.", name, day);
		break;
	default: {
		bool unknown = tr.outcome == DG_UNKNOWN;
		e |= zh ? dg_buf_addf(out, "截至%s，%s %s“%s”的条件", day, id,
				      unknown ? "能否享受尚无法确定：缺少数据，" : "不符合", name)
			: dg_buf_addf(out, "On %s, %s %s \"%s\"", day, id,
				      unknown ? "cannot yet be assessed for"
					      : "does not qualify for",
				      name);
		int nb = 0;
		for (int i = 0; i < r->nc; i++) {
			if (r->c[i].kind != CL_COND)
				continue;
			const struct dg_ccode *cc = &rc->cc[i];
			int ci = cc->to - 1 - rc->from;
			bool hit = unknown ? !tr.k[ci] : (tr.k[ci] && !tr.v[ci]);
			if (!hit)
				continue;
			const char *label = zh ? r->c[i].label_zh : r->c[i].label_en;
			if (zh)
				e |= dg_buf_addf(out, "%s%s“%s”", nb++ ? "；" : "：",
						 unknown ? "无法判断" : "未满足", label);
			else
				e |= dg_buf_addf(
					out, "%s%s \"%s\"", nb++ ? "; " : ": ",
					unknown ? "cannot tell whether" : "not met:", label);
			int64_t gap;
			if (!unknown && gap_of(cc, &tr, rc->from, &gap) && gap > 0) {
				if (cc->cmp_ty.base == TY_DATE)
					e |= zh ? dg_buf_addf(out, "（相差 %lld 天）",
							      (long long)gap)
						: dg_buf_addf(out, " (%lld days short)",
							      (long long)gap);
				else if (cc->cmp_ty.base == TY_MONEY) {
					e |= dg_buf_adds(out, zh ? "（相差 " : " (off by ");
					e |= dg_rule_fmt_value(out, code->codes, cc->cmp_ty, gap,
							       true, true);
					e |= dg_buf_adds(out, zh ? " 元）" : " yuan)");
				} else if (cc->cmp_ty.base == TY_INT)
					e |= zh ? dg_buf_addf(out, "（相差 %lld）", (long long)gap)
						: dg_buf_addf(out, " (off by %lld)",
							      (long long)gap);
			}
			if (unknown) {
				for (int l = 0; l < cc->nleaves; l++) {
					int li = cc->leaves[l].ins - rc->from;
					if (li >= 0 && li < tr.n && !tr.k[li] &&
					    !defaulted(&cc->leaves[l], &tr, rc->from))
						e |= zh ? dg_buf_addf(out, "（缺少 %s）",
								      cc->leaves[l].name)
							: dg_buf_addf(out, " (missing %s)",
								      cc->leaves[l].name);
				}
			}
		}
		e |= dg_buf_adds(out, zh ? "。" : ".");
	}
	}
	if (r->legal)
		e |= zh ? dg_buf_addf(out, "依据：%s。", r->legal)
			: dg_buf_addf(out, " Legal basis: %s.", r->legal);
	dg_trace_release(&tr);
	return e ? dg_err_set(err, DG_ETOOBIG, "explanation too long") : DG_OK;
}
