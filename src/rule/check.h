/*
 * check.h - name resolution, types, units, periods and static warnings.
 *
 * After dg_rule_check() every expression node carries its type and what its
 * names resolve to (field, link, parameter, definition, aggregate slot).
 * Errors and warnings go to prog->diag; the program may be compiled only
 * when prog->diag.errors is zero.
 */
#ifndef DG_RULE_CHECK_H
#define DG_RULE_CHECK_H

#include "rule/ast.h"
#include "rule/data.h"

void dg_rule_check(struct dg_program *p);
/* Index of a parameter by name, -1 when absent. */
int dg_rule_param_find(const struct dg_program *p, const char *name);
/* Index of a rule by id, -1 when absent. */
int dg_rule_find(const struct dg_program *p, const char *id);

/* The registry fields (with their sources) and benefit histories a checked rule reads,
 * the data-sharing contract: up to max strings (arena-owned) into out; returns count. */
int dg_rule_fields(const struct dg_program *p, int rule, const char **out, int max);

/*
 * The steps between records a checked program takes: links[e][f] is set when
 * some expression follows link field f of entity e (household.region), and
 * groups[e][g] when some aggregate reads group g of entity e (household.members).
 * A record's answer depends only on its own values and those it reaches so.
 */
void dg_rule_steps(const struct dg_program *p, bool links[][DG_MAX_FIELDS], bool groups[][16]);

/* Function names with fixed meaning, for did-you-mean and docs. */
extern const char *const dg_rule_funcs[];

#endif
