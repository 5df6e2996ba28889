/*
 * load.h - reading rule files into a checked program, and the what-if
 * parameter overrides written as NAME=VALUE or NAME[REGION]=VALUE.
 */
#ifndef DG_RULE_LOAD_H
#define DG_RULE_LOAD_H

#include "rule/code.h"
#include "rule/parse.h"

/* Parse and check every file. Never NULL; see p->diag for errors. */
struct dg_program *dg_rule_load(char *const *paths, int n);

/* Parse "name=value" / "name[region]=value" against p's parameters. */
dg_rc dg_rule_parse_override(const struct dg_program *p, struct dg_arena *a, const char *spec,
			     struct dg_override *out, struct dg_err *err) DG_MUST;
/*
 * A sweep written "NAME=FROM..TO:STEP" (values in the parameter's type): ov
 * the parameter, vals[0..*n) the values, at most max of them (vals holds
 * max). EINVAL with a message for a bad spec, FROM > TO, STEP <= 0 or more
 * than max values.
 */
dg_rc dg_rule_parse_sweep(const struct dg_program *p, struct dg_arena *a, const char *spec, int max,
			  struct dg_override *ov, int64_t *vals, int *n,
			  struct dg_err *err) DG_MUST;
/* A parameter value written as text in the parameter's type. */
dg_rc dg_rule_parse_param_value(const struct dg_param *pm, const char *s, int64_t *out) DG_MUST;

#endif
