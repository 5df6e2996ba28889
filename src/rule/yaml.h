/*
 * yaml.h - a YAML document as a small tree, read with libyaml.
 *
 * Rule tests and registry schemas are YAML. This turns one document into
 * scalars, maps and sequences in an arena so the readers above it can walk it
 * with positions for their error messages. Anchors and aliases are refused
 * (they let a small file expand without bound); depth and node count are
 * capped.
 */
#ifndef DG_RULE_YAML_H
#define DG_RULE_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/err.h"

enum dg_yaml_kind { DG_Y_SCALAR, DG_Y_MAP, DG_Y_SEQ };

struct dg_yaml {
	enum dg_yaml_kind kind;
	const char *s;                 /* scalar text (NUL-terminated), "" for containers */
	bool quoted;                   /* scalar was quoted: never a number or a date */
	int line, col;                 /* 1-based */
	struct dg_yaml **keys, **vals; /* maps: keys[i] -> vals[i]; seqs: vals */
	int n, cap;
};

#define DG_YAML_MAX_DEPTH 64
#define DG_YAML_MAX_NODES 2000000

/* Parse the first document of text. On error, err says where and why. */
dg_rc dg_yaml_parse(struct dg_arena *a, const char *text, size_t len, struct dg_yaml **out,
		    struct dg_err *err) DG_MUST;

/* Value of key in a map, or NULL (also when y is not a map). */
const struct dg_yaml *dg_yaml_get(const struct dg_yaml *y, const char *key);

/* Read a whole file (at most max bytes) into a NUL-terminated heap string. */
dg_rc dg_rule_read_file(const char *path, size_t max, char **out, size_t *len,
			struct dg_err *err) DG_MUST;

#endif
