/*
 * schema.c - the registry schema file: entities, typed fields, links and
 * groups, read from YAML.
 *
 * Field types are written as "date", "money", "int", "bool", "code",
 * "monthly money", "link household"; a field may instead be a map
 * {type: ..., source: ...} naming the registry it comes from.
 */
#include "rule/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "rule/text.h"
#include "rule/yaml.h"

int dg_schema_entity(const struct dg_schema *s, const char *name)
{
	for (int i = 0; i < s->ne; i++)
		if (strcmp(s->e[i].name, name) == 0)
			return i;
	return -1;
}

int dg_schema_field(const struct dg_schema *s, int ent, const char *name)
{
	const struct dg_entity *e = &s->e[ent];
	for (int i = 0; i < e->nf; i++)
		if (strcmp(e->f[i].name, name) == 0)
			return i;
	return -1;
}

int dg_schema_group(const struct dg_schema *s, int ent, const char *name)
{
	const struct dg_entity *e = &s->e[ent];
	for (int i = 0; i < e->ng; i++)
		if (strcmp(e->g[i].name, name) == 0)
			return i;
	return -1;
}

void dg_schema_free(struct dg_schema *s)
{
	if (!s)
		return;
	dg_arena_free(s->arena);
	free(s);
}

static dg_rc parse_type(struct dg_schema *s, struct dg_field *f, const char *t,
                        const char **link_to)
{
	if (strncmp(t, "monthly ", 8) == 0) {
		f->monthly = true;
		t += 8;
	}
	if (strncmp(t, "link ", 5) == 0 && !f->monthly) {
		f->ty = TY_LINK;
		*link_to = dg_arena_strdup(s->arena, t + 5);
		return DG_OK;
	}
	static const struct {
		const char *n;
		enum dg_ty t;
	} names[] = {{"bool", TY_BOOL},
	             {"int", TY_INT},
	             {"money", TY_MONEY},
	             {"date", TY_DATE},
	             {"code", TY_CODE}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(t, names[i].n) == 0) {
			f->ty = names[i].t;
			return DG_OK;
		}
	return DG_EINVAL;
}

/* what every name message ends with */
#define NAME_RULE                                                                                  \
	"a name is ASCII letters, digits, '_' and Chinese characters, not starting with a digit, " \
	"at most 64 characters"

struct dg_schema *dg_schema_load(const char *path, struct dg_err *err)
{
	char *text = NULL;
	size_t len = 0;
	struct dg_yaml *root = NULL;
	struct dg_schema *s = dg_xcalloc(1, sizeof(*s));
	const char *link_to[DG_MAX_ENT][DG_MAX_FIELDS] = {{0}};
	const char *group_of[DG_MAX_ENT][16] = {{0}};
	s->arena = dg_arena_new();

	if (dg_rule_read_file(path, 1 << 20, &text, &len, err))
		goto fail;
	struct dg_err yerr = {0};
	if (dg_yaml_parse(s->arena, text, len, &root, &yerr)) {
		dg_err_set(err, DG_EINVAL, "%s: %s", path, yerr.msg);
		goto fail;
	}
	const struct dg_yaml *ents = dg_yaml_get(root, "entities");
	if (!ents || ents->kind != DG_Y_MAP || ents->n == 0) {
		dg_err_set(err, DG_EINVAL, "%s: needs an 'entities:' map", path);
		goto fail;
	}
	if (ents->n > DG_MAX_ENT) {
		dg_err_set(err, DG_ETOOBIG, "%s: at most %d entities", path, DG_MAX_ENT);
		goto fail;
	}
	for (int i = 0; i < ents->n; i++) {
		struct dg_entity *e = &s->e[s->ne++];
		const struct dg_yaml *ey = ents->vals[i];
		e->name = ents->keys[i]->s;
		if (!dg_text_name_ok(e->name) || ey->kind != DG_Y_MAP) {
			dg_err_set(err, DG_EINVAL,
			           "%s:%d: entity '%s' must be a name with a map (" NAME_RULE ")",
			           path, ents->keys[i]->line, e->name);
			goto fail;
		}
		const struct dg_yaml *v;
		e->file = (v = dg_yaml_get(ey, "file")) ? v->s : NULL;
		e->id_col = (v = dg_yaml_get(ey, "id")) ? v->s : "id";
		e->source = (v = dg_yaml_get(ey, "source")) ? v->s : e->name;
		const struct dg_yaml *fs = dg_yaml_get(ey, "fields");
		for (int j = 0; fs && j < fs->n; j++) {
			if (e->nf == DG_MAX_FIELDS) {
				dg_err_set(err, DG_ETOOBIG, "%s: entity %s has more than %d fields",
				           path, e->name, DG_MAX_FIELDS);
				goto fail;
			}
			struct dg_field *f = &e->f[e->nf];
			const struct dg_yaml *fy = fs->vals[j];
			f->name = fs->keys[j]->s;
			f->source = e->source;
			const char *t = fy->s;
			if (fy->kind == DG_Y_MAP) {
				t = (v = dg_yaml_get(fy, "type")) ? v->s : "";
				if ((v = dg_yaml_get(fy, "source")))
					f->source = v->s;
			}
			if (!dg_text_name_ok(f->name)) {
				dg_err_set(err, DG_EINVAL, "%s:%d: field '%s' of %s: " NAME_RULE,
				           path, fs->keys[j]->line, f->name, e->name);
				goto fail;
			}
			if (dg_schema_field(s, (int)(e - s->e), f->name) >= 0) {
				dg_err_set(err, DG_EINVAL, "%s:%d: field '%s' of %s: repeated name",
				           path, fs->keys[j]->line, f->name, e->name);
				goto fail;
			}
			if (parse_type(s, f, t, &link_to[i][e->nf])) {
				dg_err_set(err, DG_EINVAL,
				           "%s:%d: field '%s': unknown type '%s' (use bool, int, "
				           "money, date, code, 'monthly money' or 'link ENTITY')",
				           path, fy->line, f->name, t);
				goto fail;
			}
			e->nf++;
		}
		const struct dg_yaml *gs = dg_yaml_get(ey, "groups");
		for (int j = 0; gs && j < gs->n && j < 16; j++) {
			if (!dg_text_name_ok(gs->keys[j]->s)) {
				dg_err_set(err, DG_EINVAL, "%s:%d: group '%s' of %s: " NAME_RULE,
				           path, gs->keys[j]->line, gs->keys[j]->s, e->name);
				goto fail;
			}
			e->g[e->ng].name = gs->keys[j]->s;
			group_of[i][e->ng] = gs->vals[j]->s;
			e->ng++;
		}
	}
	/* second pass: resolve link targets and group definitions */
	for (int i = 0; i < s->ne; i++) {
		struct dg_entity *e = &s->e[i];
		for (int j = 0; j < e->nf; j++) {
			if (e->f[j].ty != TY_LINK)
				continue;
			e->f[j].link_ent = dg_schema_entity(s, link_to[i][j]);
			if (e->f[j].link_ent < 0) {
				dg_err_set(err, DG_EINVAL,
				           "%s: link %s.%s points at unknown entity '%s'", path,
				           e->name, e->f[j].name, link_to[i][j]);
				goto fail;
			}
		}
		for (int j = 0; j < e->ng; j++) {
			char ent[4 * DG_NAME_MAX + 1] = "", fld[4 * DG_NAME_MAX + 1] = "";
			const char *g = group_of[i][j], *dot = strchr(g, '.');
			if (dot && (size_t)(dot - g) < sizeof(ent) &&
			    strlen(dot + 1) < sizeof(fld)) {
				memcpy(ent, g, (size_t)(dot - g));
				memcpy(fld, dot + 1, strlen(dot + 1));
			}
			int me = dg_schema_entity(s, ent);
			int lf = me >= 0 ? dg_schema_field(s, me, fld) : -1;
			if (lf < 0 || s->e[me].f[lf].ty != TY_LINK ||
			    s->e[me].f[lf].link_ent != i) {
				dg_err_set(err, DG_EINVAL,
				           "%s: group %s.%s must name a link to %s, like "
				           "'person.household' (got '%s')",
				           path, e->name, e->g[j].name, e->name, g);
				goto fail;
			}
			e->g[j].member_ent = me;
			e->g[j].link_field = lf;
		}
	}
	const struct dg_yaml *b = dg_yaml_get(root, "benefits");
	s->benefits_file = b ? b->s : NULL;
	free(text);
	return s;
fail:
	free(text);
	dg_schema_free(s);
	return NULL;
}
