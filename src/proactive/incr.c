/*
 * incr.c - incremental runs: which records a run must answer afresh.
 *
 * A run records the registries' version it read (pr_runs.reg_version). The
 * next run of the same policy version for the same date asks the exchange
 * what changed since (dg_exchange_changes_since) and answers afresh only the
 * records whose answer may differ; the others' answers are carried forward
 * (run.c). A record may answer differently when it changed in any registry
 * its entity reads (or in the benefit history), or when it reaches such a
 * record through the links and groups the rules follow (dg_rule_steps):
 * a household whose member's income changed, the members of a household
 * whose region changed. Links are followed as the data is now and as it was
 * at the earlier run, so a person who moved marks the household they left
 * as well as the one they joined, and one who left the registry marks the
 * household that had them.
 *
 * The marking is a fixed point over the steps the rules take, each pass
 * linear in the records: it ends after as many passes as the longest chain
 * of steps (two or three for the demo's rules), since a pass that marks
 * nothing new stops it.
 */
#include "proactive/internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "exchange/exchange.h"
#include "rule/rule.h"

static void mark(uint8_t **dirty, int ent, int64_t row, int64_t *n)
{
	if (row >= 0 && !dirty[ent][row]) {
		dirty[ent][row] = 1;
		(*n)++;
	}
}

/* Whether field f of entity e is kept in registry reg; *name: its name there. */
static bool kept_in(const struct dg_entity *e, const struct dg_field *f, const char *reg,
		    const char **name)
{
	const char *from = f->from_reg ? f->from_reg : e->registry;
	*name = f->from_field ? f->from_field : f->name;
	return from && strcmp(from, reg) == 0;
}

/* Whether entity e reads registry reg (its own, a field's, or the benefit history). */
static bool reads(const struct dg_schema *s, int ent, const char *reg)
{
	const struct dg_entity *e = &s->e[ent];
	const char *name;
	if (e->registry && strcmp(e->registry, reg) == 0)
		return true;
	if (s->benefits_registry && ent == s->benefits_entity &&
	    strcmp(s->benefits_registry, reg) == 0)
		return true;
	for (int f = 0; f < e->nf; f++)
		if (kept_in(e, &e->f[f], reg, &name))
			return true;
	return false;
}

/* One changed record: it, and the records its links pointed at before. */
static void mark_change(const struct dg_data *d, json_t *ch, uint8_t **dirty, int64_t *n)
{
	const struct dg_schema *s = d->schema;
	const char *reg = json_string_value(json_object_get(ch, "registry"));
	const char *id = json_string_value(json_object_get(ch, "id"));
	json_t *before = json_object_get(ch, "before");
	for (int e = 0; reg && id && e < s->ne; e++) {
		if (!reads(s, e, reg))
			continue;
		mark(dirty, e, dg_data_find(d, e, id, strlen(id)), n);
		for (int f = 0; json_is_object(before) && f < s->e[e].nf; f++) {
			const struct dg_field *fd = &s->e[e].f[f];
			const char *name;
			if (fd->ty != TY_LINK || !kept_in(&s->e[e], fd, reg, &name))
				continue;
			const char *to = json_string_value(json_object_get(before, name));
			if (to && *to)
				mark(dirty, fd->link_ent,
				     dg_data_find(d, fd->link_ent, to, strlen(to)), n);
		}
	}
}

/* One pass over the steps the rules take: how many records it marked. */
static int64_t spread(const struct dg_data *d, bool links[][DG_MAX_FIELDS], bool groups[][16],
		      uint8_t **dirty)
{
	const struct dg_schema *s = d->schema;
	int64_t n = 0;
	for (int e = 0; e < s->ne; e++) {
		const struct dg_table *t = &d->t[e];
		for (int f = 0; f < s->e[e].nf; f++) {
			if (!links[e][f] || !t->col[f].v)
				continue;
			int to = s->e[e].f[f].link_ent;
			for (int64_t x = 0; x < t->n; x++)
				if (!dirty[e][x] && t->col[f].k[x] && t->col[f].v[x] >= 0 &&
				    dirty[to][t->col[f].v[x]])
					mark(dirty, e, x, &n);
		}
		for (int g = 0; g < s->e[e].ng; g++) {
			if (!groups[e][g] || !t->goff[g])
				continue;
			int m = s->e[e].g[g].member_ent;
			for (int64_t o = 0; o < t->n; o++)
				for (int64_t k = t->goff[g][o];
				     !dirty[e][o] && k < t->goff[g][o + 1]; k++)
					if (dirty[m][t->grow[g][k]])
						mark(dirty, e, o, &n);
		}
	}
	return n;
}

dg_rc pr_incr_mark(const struct dg_env *env, struct dg_db *db, const struct dg_program *p,
		   const struct dg_data *d, int64_t since, json_t *read, uint8_t **dirty,
		   struct dg_err *err)
{
	json_t *changes = json_incref(read);
	int64_t newest = 0, n = 0;
	dg_rc rc = changes ? DG_OK
			   : dg_exchange_changes_since(env, db, p->schema, since, &changes, &newest,
						       err);
	if (rc)
		return rc;
	for (int e = 0; e < p->schema->ne; e++)
		dirty[e] = dg_xcalloc((size_t)(d->t[e].n ? d->t[e].n : 1), 1);
	size_t i;
	json_t *ch;
	json_array_foreach (changes, i, ch)
		mark_change(d, ch, dirty, &n);
	json_decref(changes);
	bool(*links)[DG_MAX_FIELDS] = dg_xcalloc(DG_MAX_ENT, sizeof *links);
	bool(*groups)[16] = dg_xcalloc(DG_MAX_ENT, sizeof *groups);
	dg_rule_steps(p, links, groups);
	while (n && spread(d, links, groups, dirty))
		;
	free(links);
	free(groups);
	return DG_OK;
}

dg_rc pr_incr_touched(const struct dg_env *env, struct dg_db *db, const struct dg_program *p,
		      int64_t since, bool *touched, struct dg_err *err)
{
	const struct dg_schema *s = p->schema;
	bool reached[DG_MAX_ENT] = {false};
	*touched = false;
	for (int r = 0; r < p->nrules; r++)
		reached[p->rules[r].ent] = true;
	bool(*links)[DG_MAX_FIELDS] = dg_xcalloc(DG_MAX_ENT, sizeof *links);
	bool(*groups)[16] = dg_xcalloc(DG_MAX_ENT, sizeof *groups);
	dg_rule_steps(p, links, groups);
	/* the entities the rules reach: bounded by the entities, each adds at most once */
	for (bool more = true; more;) {
		more = false;
		for (int e = 0; e < s->ne; e++) {
			for (int f = 0; reached[e] && f < s->e[e].nf; f++)
				if (links[e][f] && !reached[s->e[e].f[f].link_ent])
					more = reached[s->e[e].f[f].link_ent] = true;
			for (int g = 0; reached[e] && g < s->e[e].ng; g++)
				if (groups[e][g] && !reached[s->e[e].g[g].member_ent])
					more = reached[s->e[e].g[g].member_ent] = true;
		}
	}
	free(links);
	free(groups);
	json_t *changes = NULL;
	int64_t newest = 0;
	dg_rc rc = dg_exchange_changes_since(env, db, s, since, &changes, &newest, err);
	size_t i;
	json_t *ch;
	json_array_foreach (changes, i, ch) {
		const char *reg = json_string_value(json_object_get(ch, "registry"));
		for (int e = 0; reg && !*touched && e < s->ne; e++)
			*touched = reached[e] && reads(s, e, reg);
		if (*touched)
			break;
	}
	json_decref(changes);
	return rc;
}

/* Add key k to set[e] and, when new, to the frontier fr[e]. */
static void want(json_t **set, json_t **fr, int e, const char *k)
{
	if (k && *k && !json_object_get(set[e], k)) {
		json_object_set_new(set[e], k, json_true());
		json_object_set_new(fr[e], k, json_true());
	}
}

/* The changed records and the records their links pointed at before. */
static void seed(const struct dg_schema *s, json_t *changes, json_t **set, json_t **fr)
{
	size_t i;
	json_t *ch;
	json_array_foreach (changes, i, ch) {
		const char *reg = json_string_value(json_object_get(ch, "registry"));
		const char *id = json_string_value(json_object_get(ch, "id"));
		json_t *before = json_object_get(ch, "before");
		for (int e = 0; reg && id && e < s->ne; e++) {
			if (!reads(s, e, reg))
				continue;
			want(set, fr, e, id);
			for (int f = 0; json_is_object(before) && f < s->e[e].nf; f++) {
				const struct dg_field *fd = &s->e[e].f[f];
				const char *name;
				if (fd->ty == TY_LINK && kept_in(&s->e[e], fd, reg, &name))
					want(set, fr, fd->link_ent,
					     json_string_value(json_object_get(before, name)));
			}
		}
	}
}

/* Move each of from's keys into set[e] and fr[e] when new; from is emptied. */
static void merge(json_t *from, json_t **set, json_t **fr, int e)
{
	const char *k;
	json_t *v;
	json_object_foreach (from, k, v)
		want(set, fr, e, k);
	json_object_clear(from);
}

/* Move each of found's keys not yet in set into next; found is emptied. */
static void take_new(json_t *found, json_t *set, json_t *next)
{
	const char *k;
	json_t *v;
	json_object_foreach (found, k, v)
		if (!json_object_get(set, k))
			json_object_set_new(next, k, json_true());
	json_object_clear(found);
}

dg_rc pr_incr_keys(const struct dg_env *env, struct dg_db *db, const struct dg_program *p,
		   struct dg_exchange_reader *xr, int64_t since, json_t **keys, json_t **read,
		   struct dg_err *err)
{
	const struct dg_schema *s = p->schema;
	json_t *changes = NULL, *set[DG_MAX_ENT] = {0}, *fr[DG_MAX_ENT] = {0};
	int64_t newest = 0;
	dg_rc rc = dg_exchange_changes_since(env, db, s, since, &changes, &newest, err);
	if (rc)
		return rc;
	for (int e = 0; e < s->ne; e++) {
		set[e] = json_object();
		fr[e] = json_object();
	}
	seed(s, changes, set, fr);
	if (read) /* pr_incr_mark's, not read twice */
		*read = json_incref(changes);
	json_decref(changes);
	bool(*links)[DG_MAX_FIELDS] = dg_xcalloc(DG_MAX_ENT, sizeof *links);
	bool(*groups)[16] = dg_xcalloc(DG_MAX_ENT, sizeof *groups);
	dg_rule_steps(p, links, groups);
	/* a group of e is its members' link to e, followed the other way */
	for (int e = 0; e < s->ne; e++)
		for (int g = 0; g < s->e[e].ng; g++)
			if (groups[e][g])
				links[s->e[e].g[g].member_ent][s->e[e].g[g].link_field] = true;
	/*
	 * Every step the rules take, both ways, until nothing new is wanted: the
	 * records that reach a changed one (whose answers may differ) and all
	 * they reach in turn (what their answers are worked out from). Each pass
	 * follows the steps from the records new in the pass before, so it ends
	 * after as many passes as the longest chain of steps.
	 */
	json_t *next[DG_MAX_ENT], *found = json_object();
	for (int e = 0; e < s->ne; e++)
		next[e] = json_object();
	for (bool more = true; !rc && more;) {
		more = false;
		for (int e = 0; !rc && e < s->ne; e++)
			for (int f = 0; !rc && f < s->e[e].nf; f++) {
				if (!links[e][f] || s->e[e].f[f].ty != TY_LINK)
					continue;
				int to = s->e[e].f[f].link_ent;
				rc = dg_exchange_reader_links(xr, e, f, fr[e], found, err);
				if (!rc) {
					take_new(found, set[to], next[to]);
					rc = dg_exchange_reader_linking(xr, e, f, fr[to], found,
									err);
				}
				if (!rc)
					take_new(found, set[e], next[e]);
			}
		for (int e = 0; !rc && e < s->ne; e++) {
			json_object_clear(fr[e]);
			merge(next[e], set, fr, e);
			more = more || json_object_size(fr[e]) > 0;
		}
	}
	for (int e = 0; e < s->ne; e++) {
		if (!rc) {
			dg_exchange_reader_only(xr, e, set[e]);
			keys[e] = json_incref(set[e]);
		}
		json_decref(set[e]);
		json_decref(fr[e]);
		json_decref(next[e]);
	}
	json_decref(found);
	free(links);
	free(groups);
	return rc;
}

void pr_incr_free(uint8_t **dirty)
{
	for (int e = 0; e < DG_MAX_ENT; e++) {
		free(dirty[e]);
		dirty[e] = NULL;
	}
}
