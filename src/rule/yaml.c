/*
 * yaml.c - libyaml events folded into a tree of scalars, maps and sequences.
 *
 * The event loop below is a small state machine over a stack of open
 * containers; it is bounded by DG_YAML_MAX_DEPTH and DG_YAML_MAX_NODES.
 */
#include "rule/yaml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "core/mem.h"

static struct dg_yaml *node_new(struct dg_arena *a, enum dg_yaml_kind kind, const yaml_mark_t *m)
{
	struct dg_yaml *y = dg_arena_alloc(a, sizeof(*y));
	y->kind = kind;
	y->s = "";
	y->line = (int)m->line + 1;
	y->col = (int)m->column + 1;
	return y;
}

static void push_child(struct dg_arena *a, struct dg_yaml *parent, struct dg_yaml *key,
		       struct dg_yaml *val)
{
	if (parent->n == parent->cap) {
		int cap = parent->cap ? parent->cap * 2 : 8;
		struct dg_yaml **k = dg_arena_alloc(a, sizeof(*k) * (size_t)cap);
		struct dg_yaml **v = dg_arena_alloc(a, sizeof(*v) * (size_t)cap);
		if (parent->n) {
			memcpy(k, parent->keys, sizeof(*k) * (size_t)parent->n);
			memcpy(v, parent->vals, sizeof(*v) * (size_t)parent->n);
		}
		parent->keys = k;
		parent->vals = v;
		parent->cap = cap;
	}
	parent->keys[parent->n] = key;
	parent->vals[parent->n] = val;
	parent->n++;
}

struct frame {
	struct dg_yaml *node;
	struct dg_yaml *pending_key; /* maps: a key waiting for its value */
};

/* Attach a finished node to the open container on top of the stack. */
static dg_rc attach(struct dg_arena *a, struct frame *st, int depth, struct dg_yaml *y,
		    struct dg_yaml **root)
{
	if (depth == 0) {
		if (!*root)
			*root = y;
		return DG_OK;
	}
	struct frame *f = &st[depth - 1];
	if (f->node->kind == DG_Y_SEQ) {
		push_child(a, f->node, NULL, y);
	} else if (!f->pending_key) {
		if (y->kind != DG_Y_SCALAR)
			return DG_EINVAL;
		f->pending_key = y;
	} else {
		push_child(a, f->node, f->pending_key, y);
		f->pending_key = NULL;
	}
	return DG_OK;
}

dg_rc dg_yaml_parse(struct dg_arena *a, const char *text, size_t len, struct dg_yaml **out,
		    struct dg_err *err)
{
	dg_rc rc = DG_EINVAL;
	yaml_parser_t p;
	yaml_event_t ev;
	struct frame st[DG_YAML_MAX_DEPTH];
	int depth = 0;
	long nodes = 0;
	struct dg_yaml *root = NULL;
	bool done = false;

	*out = NULL;
	if (!yaml_parser_initialize(&p))
		return dg_err_set(err, DG_EINTERNAL, "cannot start the YAML reader");
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			dg_err_set(err, DG_EINVAL, "line %d column %d: %s",
				   (int)p.problem_mark.line + 1, (int)p.problem_mark.column + 1,
				   p.problem ? p.problem : "bad YAML");
			goto out;
		}
		struct dg_yaml *y = NULL;
		int line = (int)ev.start_mark.line + 1;
		if (++nodes > DG_YAML_MAX_NODES) {
			dg_err_set(err, DG_ETOOBIG, "more than %d YAML nodes", DG_YAML_MAX_NODES);
			rc = DG_ETOOBIG;
			yaml_event_delete(&ev);
			goto out;
		}
		switch (ev.type) {
		case YAML_ALIAS_EVENT:
			dg_err_set(err, DG_EINVAL, "line %d: YAML aliases are not allowed", line);
			yaml_event_delete(&ev);
			goto out;
		case YAML_SCALAR_EVENT:
			if (ev.data.scalar.anchor) {
				dg_err_set(err, DG_EINVAL, "line %d: YAML anchors are not allowed",
					   line);
				yaml_event_delete(&ev);
				goto out;
			}
			y = node_new(a, DG_Y_SCALAR, &ev.start_mark);
			y->s = dg_arena_strndup(a, (const char *)ev.data.scalar.value,
						ev.data.scalar.length);
			y->quoted = ev.data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
				    ev.data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
			if (attach(a, st, depth, y, &root)) {
				dg_err_set(err, DG_EINVAL, "line %d: a map key must be plain text",
					   line);
				yaml_event_delete(&ev);
				goto out;
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth == DG_YAML_MAX_DEPTH) {
				dg_err_set(err, DG_ETOOBIG, "line %d: YAML nested too deeply",
					   line);
				rc = DG_ETOOBIG;
				yaml_event_delete(&ev);
				goto out;
			}
			y = node_new(a, ev.type == YAML_SEQUENCE_START_EVENT ? DG_Y_SEQ : DG_Y_MAP,
				     &ev.start_mark);
			st[depth].node = y;
			st[depth].pending_key = NULL;
			depth++;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			y = st[depth].node;
			if (attach(a, st, depth, y, &root)) {
				dg_err_set(err, DG_EINVAL, "line %d: a map key must be plain text",
					   y->line);
				yaml_event_delete(&ev);
				goto out;
			}
			break;
		case YAML_DOCUMENT_END_EVENT:
		case YAML_STREAM_END_EVENT: done = true; break;
		default: break;
		}
		yaml_event_delete(&ev);
	}
	if (!root) {
		dg_err_set(err, DG_EINVAL, "the YAML document is empty");
		goto out;
	}
	*out = root;
	rc = DG_OK;
out:
	yaml_parser_delete(&p);
	return rc;
}

const struct dg_yaml *dg_yaml_get(const struct dg_yaml *y, const char *key)
{
	if (!y || y->kind != DG_Y_MAP)
		return NULL;
	for (int i = 0; i < y->n; i++)
		if (strcmp(y->keys[i]->s, key) == 0)
			return y->vals[i];
	return NULL;
}

dg_rc dg_rule_read_file(const char *path, size_t max, char **out, size_t *len, struct dg_err *err)
{
	dg_rc rc = DG_EIO;
	char *p = NULL;
	size_t n = 0, cap = 0;
	char eb[128];
	FILE *f = fopen(path, "rb");
	*out = NULL;
	if (!f) /* strerror_r (GNU): strerror may share a buffer between threads */
		return dg_err_set(err, DG_EIO, "%s: %s", path, strerror_r(errno, eb, sizeof(eb)));
	for (;;) {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 65536 * 2;
			p = dg_xrealloc(p, cap + 1);
		}
		size_t got = fread(p + n, 1, cap - n, f);
		n += got;
		if (n > max) {
			rc = dg_err_set(err, DG_ETOOBIG, "%s: larger than %zu bytes", path, max);
			goto out;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		dg_err_set(err, DG_EIO, "%s: read error", path);
		goto out;
	}
	p[n] = '\0';
	*out = p;
	*len = n;
	p = NULL;
	rc = DG_OK;
out:
	free(p);
	fclose(f);
	return rc;
}
