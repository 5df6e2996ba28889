/*
 * steps.c - which links and groups a checked program follows, so that a
 * caller that re-reads only the records that changed (an incremental
 * matching run) knows which other records each answer depends on.
 */
#include "rule/check.h"

#include <string.h>

static void walk(const struct dg_node *n, bool links[][DG_MAX_FIELDS])
{
	if (!n)
		return;
	if (n->kind == N_PATH && n->link >= 0 && n->a && n->a->ent >= 0)
		links[n->a->ent][n->link] = true;
	walk(n->a, links);
	walk(n->b, links);
	walk(n->c, links);
	walk(n->where, links);
	for (int i = 0; i < n->nargs; i++)
		walk(n->args[i], links);
}

void dg_rule_steps(const struct dg_program *p, bool links[][DG_MAX_FIELDS], bool groups[][16])
{
	memset(links, 0, sizeof(bool[DG_MAX_ENT][DG_MAX_FIELDS]));
	memset(groups, 0, sizeof(bool[DG_MAX_ENT][16]));
	for (int r = 0; r < p->nrules; r++) {
		const struct dg_rule *ru = &p->rules[r];
		for (int i = 0; i < ru->nc; i++) {
			walk(ru->c[i].e, links);
			walk(ru->c[i].then, links);
		}
		walk(ru->amount, links);
		for (int i = 0; i < ru->npf; i++)
			walk(ru->pf[i].e, links);
	}
	/* every definition, read or not: a few more steps than needed, never fewer */
	for (int i = 0; i < p->nlets; i++)
		walk(p->lets[i].e, links);
	for (int i = 0; i < p->naggs; i++) {
		const struct dg_agg *g = &p->aggs[i];
		if (g->group_ent >= 0 && g->group >= 0)
			groups[g->group_ent][g->group] = true;
		walk(g->e, links);
		walk(g->where, links);
	}
}
