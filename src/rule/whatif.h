/*
 * whatif.h - what happens if a parameter moves.
 *
 * The program is compiled twice, once as is and once with the overrides;
 * only the rules that read a changed parameter (directly, through a
 * definition or through an aggregate) are evaluated, on both versions, and
 * compared record by record: how many gain eligibility and how many lose it.
 * A sweep does the same for a list of values of one parameter.
 */
#ifndef DG_RULE_WHATIF_H
#define DG_RULE_WHATIF_H

#include "core/buf.h"
#include "rule/code.h"
#include "rule/engine.h"

/*
 * Both sides of a what-if, for callers that compare record by record (the
 * proactive services' what-if page): the program compiled as is (base) and
 * with the overrides (alt), and each evaluated on the rules that read a
 * changed parameter (sel[i], nsel of them), with each eligible record's
 * amount when amounts is true. dg_rule_whatif prints from the same.
 */
struct dg_whatif {
	struct dg_code *base, *alt;
	struct dg_result *rb, *ra;
	bool *sel;
	int nsel;
	double secs; /* the two evaluations */
};
dg_rc dg_whatif_open(const struct dg_program *p, const struct dg_data *data,
		     const struct dg_intern *codes, dg_day ref, const struct dg_override *ov,
		     int nov, int nthreads, bool amounts, struct dg_whatif *w,
		     struct dg_err *err) DG_MUST;
void dg_whatif_close(struct dg_whatif *w);

dg_rc dg_rule_whatif(const struct dg_program *p, const struct dg_data *data,
		     const struct dg_intern *codes, dg_day ref, const struct dg_override *ov,
		     int nov, int nthreads, bool json, struct dg_buf *out,
		     struct dg_err *err) DG_MUST;

/*
 * The eligible records of each rule that reads parameter ov->param, for each
 * of n values of it (ov->value ignored): counts[v * p->nrules + i], and -1
 * for a rule that does not read it. dg_rule_sweep prints from the same.
 */
dg_rc dg_rule_sweep_counts(const struct dg_program *p, const struct dg_data *data,
			   const struct dg_intern *codes, dg_day ref, const struct dg_override *ov,
			   const int64_t *values, int n, int nthreads, int64_t *counts,
			   struct dg_err *err) DG_MUST;

/* values: n values of the parameter ov->param (ov->value ignored). */
dg_rc dg_rule_sweep(const struct dg_program *p, const struct dg_data *data,
		    const struct dg_intern *codes, dg_day ref, const struct dg_override *ov,
		    const int64_t *values, int n, int nthreads, struct dg_buf *out,
		    struct dg_err *err) DG_MUST;

#endif
