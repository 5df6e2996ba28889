/*
 * engine.h - evaluating compiled rules over a whole population, or over one
 * record with a trace.
 *
 * A batch run keeps, per rule, an eligible bit and an unknown bit per
 * record (and a conflict bit where two exceptions can collide), and per
 * condition a failed bit, so counts by blocking condition need no second
 * pass. Records are evaluated in blocks of DG_VM_BLOCK by up to two threads;
 * each block runs every selected rule of its entity while the block's
 * columns are in cache.
 */
#ifndef DG_RULE_ENGINE_H
#define DG_RULE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "rule/code.h"
#include "rule/data.h"

#define DG_VM_BLOCK 1024

enum dg_outcome { DG_ELIGIBLE, DG_NOT_ELIGIBLE, DG_UNKNOWN, DG_CONFLICT, DG_NOT_IN_FORCE };
const char *dg_outcome_name(enum dg_outcome o);

struct dg_result {
	const struct dg_code *code;
	const struct dg_data *data;
	struct dg_col *temps;
	bool *selected;                  /* per rule: evaluated in this run */
	uint64_t **elig, **unk, **confl; /* per rule, bitsets over the rule's entity */
	uint64_t **fail;                 /* per global condition */
	int64_t *cond_unknown;           /* per global condition: records where it was unknown */
	int64_t *amount_sum;             /* per rule: total amount over eligible records, fen */
	int64_t *amount_unknown;
	bool *amount_overflow;   /* per rule: the total does not fit in 64 bits */
	int64_t **amount;        /* with opts.amounts: per rule with an amount, per record, fen */
	uint64_t **amount_known; /* ... and whether it is known and the record eligible */
	double eval_sec;         /* rules only, after aggregates */
	double agg_sec;
};

/*
 * Evaluate the selected rules (NULL = every rule in force) over data with
 * nthreads (1 or 2). The result borrows code and data.
 */
dg_rc dg_rule_run(const struct dg_code *code, const struct dg_data *data, const bool *select,
		  int nthreads, struct dg_result **out, struct dg_err *err) DG_MUST;
/*
 * The same, for up to 32 variants of one program (compiled with different
 * parameter values): one pass over the data evaluates every variant on each
 * block; out[i] is variant i's result. Used by threshold sweeps.
 */
dg_rc dg_rule_run_many(const struct dg_code *const *codes, int ncodes, const struct dg_data *data,
		       const bool *select, int nthreads, struct dg_result **out,
		       struct dg_err *err) DG_MUST;
/* What a run computes besides outcomes: amounts per record are kept only when asked
 * (8 bytes per record and rule). */
struct dg_run_opts {
	const bool *select; /* NULL: every rule in force */
	int nthreads;       /* 1 or 2 */
	bool amounts;       /* keep each eligible record's amount (dg_result_amount) */
};
dg_rc dg_rule_run_opts(const struct dg_code *code, const struct dg_data *data,
		       const struct dg_run_opts *opts, struct dg_result **out,
		       struct dg_err *err) DG_MUST;
/* The amount of an eligible record whose amount is known (a run with amounts). */
bool dg_result_amount(const struct dg_result *r, int rule, int64_t row, int64_t *amount);
void dg_result_free(struct dg_result *r);
int64_t dg_bits_count(const uint64_t *bits, int64_t n);
static inline bool dg_bit(const uint64_t *bits, int64_t i)
{
	return (bits[i >> 6] >> (i & 63)) & 1;
}
enum dg_outcome dg_result_outcome(const struct dg_result *r, int rule, int64_t row);

/* One record against one rule, keeping every instruction's value. */
struct dg_trace {
	int64_t *v, *link;
	uint8_t *k;
	int n;
	enum dg_outcome outcome;
	int64_t amount;
	bool amount_known;
	int64_t row;
};

/* Evaluate rule for the record at row of the rule's entity, with a trace (arrays owned by
 * tr, free with dg_trace_release). Aggregates are computed for the record's groups only. */
dg_rc dg_rule_eval_one(const struct dg_code *code, const struct dg_data *data, int rule,
		       int64_t row, struct dg_trace *tr, struct dg_err *err) DG_MUST;
void dg_trace_release(struct dg_trace *tr);

#endif
