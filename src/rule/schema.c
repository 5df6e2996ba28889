/*
 * schema.c - the registry schema file: entities, typed fields, links and
 * groups, read from YAML.
 *
 * Field types are written as "date", "money", "int", "bool", "code",
 * "monthly money", "link household"; a field may instead be a map
 * {type: ..., source: ...} naming the registry it comes from.
 *
 * The same file declares the registries departments share (exchange): an
 * entity may name its owner (a department code), a title, an update
 * frequency, a legal basis and the class of its ID (id_class), and a field
 * map may add class (public, internal, personal, sensitive) and sharing
 * (unconditional, conditional, none, or 无条件 / 有条件 / 不予共享).
 *
 * A rule schema says where its data is kept in those registries: an entity
 * names the registry whose records are its rows (`registry: person`), a
 * field the registry and field its value comes from (`from: tax.income`,
 * joined by the record's ID), and `benefits_registry` the registry of the
 * benefit history. The exchange's reader for the rule engine follows them.
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

const char *dg_class_name(enum dg_class c)
{
	static const char *const n[] = {"public", "internal", "personal", "sensitive"};
	return (unsigned)c < 4 ? n[c] : "internal";
}

const char *dg_sharing_name(enum dg_sharing s)
{
	static const char *const n[] = {"unconditional", "conditional", "none"};
	return (unsigned)s < 3 ? n[s] : "conditional";
}

static int parse_class(const char *t)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(t, dg_class_name((enum dg_class)i)) == 0)
			return i;
	return -1;
}

static int parse_sharing(const char *t)
{
	static const char *const zh[] = {"无条件共享", "有条件共享", "不予共享"};
	for (int i = 0; i < 3; i++)
		if (strcmp(t, dg_sharing_name((enum dg_sharing)i)) == 0 || strcmp(t, zh[i]) == 0)
			return i;
	return -1;
}

/* "registry.field" into f's from_reg and from_field. */
static dg_rc parse_from(struct dg_schema *s, struct dg_field *f, const char *t)
{
	const char *dot = t ? strchr(t, '.') : NULL;
	if (!dot || dot == t || (size_t)(dot - t) > 4 * DG_NAME_MAX)
		return DG_EINVAL;
	char *reg = dg_arena_strndup(s->arena, t, (size_t)(dot - t));
	if (!dg_text_name_ok(reg) || !dg_text_name_ok(dot + 1))
		return DG_EINVAL;
	f->from_reg = reg;
	f->from_field = dot + 1;
	return DG_OK;
}

/* what every name message ends with */
#define NAME_RULE                                                                                  \
	"a name is ASCII letters, digits, '_' and Chinese characters, not starting with a digit, " \
	"at most 64 characters"

struct dg_schema *dg_schema_load(const char *path, struct dg_err *err)
{
	char *text = NULL;
	size_t len = 0;
	if (dg_rule_read_file(path, 1 << 20, &text, &len, err))
		return NULL;
	struct dg_schema *s = dg_schema_parse(path, text, len, err);
	free(text);
	return s;
}

struct dg_schema *dg_schema_parse(const char *path, const char *text, size_t len,
				  struct dg_err *err)
{
	struct dg_yaml *root = NULL;
	struct dg_schema *s = dg_xcalloc(1, sizeof(*s));
	const char *link_to[DG_MAX_ENT][DG_MAX_FIELDS] = {{0}};
	const char *group_of[DG_MAX_ENT][16] = {{0}};
	s->arena = dg_arena_new();

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
		e->owner = (v = dg_yaml_get(ey, "owner")) ? v->s : NULL;
		e->title = (v = dg_yaml_get(ey, "title")) ? v->s : NULL;
		e->frequency = (v = dg_yaml_get(ey, "frequency")) ? v->s : NULL;
		e->legal_basis = (v = dg_yaml_get(ey, "legal_basis")) ? v->s : NULL;
		e->registry = (v = dg_yaml_get(ey, "registry")) ? v->s : NULL;
		if (e->registry && !dg_text_name_ok(e->registry)) {
			dg_err_set(err, DG_EINVAL, "%s:%d: registry of %s: " NAME_RULE, path,
				   v->line, e->name);
			goto fail;
		}
		e->id_class = DG_CLASS_INTERNAL;
		if ((v = dg_yaml_get(ey, "id_class"))) {
			int c = parse_class(v->s);
			if (c < 0) {
				dg_err_set(err, DG_EINVAL,
					   "%s:%d: id_class of %s: use public, internal, personal "
					   "or sensitive",
					   path, v->line, e->name);
				goto fail;
			}
			e->id_class = (enum dg_class)c;
		}
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
			f->from_reg = e->registry;
			f->from_field = f->name;
			f->cls = DG_CLASS_INTERNAL;
			f->sharing = DG_SHARE_CONDITIONAL;
			const char *t = fy->s;
			if (fy->kind == DG_Y_MAP) {
				t = (v = dg_yaml_get(fy, "type")) ? v->s : "";
				if ((v = dg_yaml_get(fy, "source")))
					f->source = v->s;
				if ((v = dg_yaml_get(fy, "from")) &&
				    parse_from(s, f, v->s) != DG_OK) {
					dg_err_set(
						err, DG_EINVAL,
						"%s:%d: field '%s': from is REGISTRY.FIELD, like "
						"'tax.income' (" NAME_RULE ")",
						path, v->line, f->name);
					goto fail;
				}
				int c = (v = dg_yaml_get(fy, "class")) ? parse_class(v->s) : 1;
				int sh = (v = dg_yaml_get(fy, "sharing")) ? parse_sharing(v->s) : 1;
				if (c < 0 || sh < 0) {
					dg_err_set(
						err, DG_EINVAL, "%s:%d: field '%s': %s", path,
						fy->line, f->name,
						c < 0 ? "class is public, internal, personal or "
							"sensitive"
						      : "sharing is unconditional, conditional or "
							"none");
					goto fail;
				}
				f->cls = (enum dg_class)c;
				f->sharing = (enum dg_sharing)sh;
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
	if ((b = dg_yaml_get(root, "benefits_registry"))) {
		if (b->kind != DG_Y_SCALAR || !dg_text_name_ok(b->s)) {
			dg_err_set(err, DG_EINVAL, "%s:%d: benefits_registry: " NAME_RULE, path,
				   b->line);
			goto fail;
		}
		s->benefits_registry = b->s;
	}
	if ((b = dg_yaml_get(root, "benefits_entity"))) {
		s->benefits_entity = b->kind == DG_Y_SCALAR ? dg_schema_entity(s, b->s) : -1;
		if (s->benefits_entity < 0) {
			dg_err_set(err, DG_EINVAL, "%s:%d: benefits_entity names no entity", path,
				   b->line);
			goto fail;
		}
	}
	return s;
fail:
	dg_schema_free(s);
	return NULL;
}
