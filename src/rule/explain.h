/*
 * explain.h - why one record is or is not eligible for one rule.
 *
 * Re-evaluates the record with tracing on and renders the outcome, every
 * condition with its result and label, the values used with their source
 * registry and record, the blocking conditions, the gap to passing a
 * numeric threshold, the exceptions that applied, the amount and pre-fill
 * fields: as JSON, and as a sentence in Chinese and in English built from
 * the labels.
 */
#ifndef DG_RULE_EXPLAIN_H
#define DG_RULE_EXPLAIN_H

#include "core/buf.h"
#include "rule/engine.h"

struct dg_explain_cond {
	const char *id;
	enum dg_outcome result; /* ELIGIBLE = true, NOT_ELIGIBLE = false, UNKNOWN */
	bool has_gap;
	int64_t gap;
};

/* Outcome and per-condition results (up to max) without rendering, for tests. */
dg_rc dg_rule_explain_eval(const struct dg_code *code, const struct dg_data *data, int rule,
			   int64_t row, enum dg_outcome *outcome, int64_t *amount,
			   bool *amount_known, struct dg_explain_cond *conds, int max, int *n,
			   struct dg_err *err) DG_MUST;

/* Append the explanation as one JSON object. */
dg_rc dg_rule_explain_json(const struct dg_code *code, const struct dg_data *data, int rule,
			   int64_t row, struct dg_buf *out, struct dg_err *err) DG_MUST;
/* Append the explanation as sentences; lang is "zh" or "en". */
dg_rc dg_rule_explain_text(const struct dg_code *code, const struct dg_data *data, int rule,
			   int64_t row, const char *lang, struct dg_buf *out,
			   struct dg_err *err) DG_MUST;
/* Write a typed value for people: money as yuan with two decimals, dates, codes. */
dg_rc dg_rule_fmt_value(struct dg_buf *out, const struct dg_intern *codes, struct dg_type ty,
			int64_t v, bool known, bool json) DG_MUST;

#endif
