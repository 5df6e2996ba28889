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

dg_rc dg_rule_whatif(const struct dg_program *p, const struct dg_data *data,
		     const struct dg_intern *codes, dg_day ref, const struct dg_override *ov,
		     int nov, int nthreads, bool json, struct dg_buf *out,
		     struct dg_err *err) DG_MUST;

/* values: n values of the parameter ov->param (ov->value ignored). */
dg_rc dg_rule_sweep(const struct dg_program *p, const struct dg_data *data,
		    const struct dg_intern *codes, dg_day ref, const struct dg_override *ov,
		    const int64_t *values, int n, int nthreads, struct dg_buf *out,
		    struct dg_err *err) DG_MUST;

#endif
