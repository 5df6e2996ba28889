/*
 * parse.h - building a program from rule files.
 *
 * A program collects the parameters, definitions and rules of one or more
 * files that share one registry schema. Errors go to prog->diag; the caller
 * checks prog->diag.errors after each step.
 */
#ifndef DG_RULE_PARSE_H
#define DG_RULE_PARSE_H

#include "rule/ast.h"
#include "rule/data.h"

struct dg_program *dg_program_new(void);
void dg_program_free(struct dg_program *p);
/* Parse one file's text (copied) into p. */
void dg_program_parse(struct dg_program *p, const char *path, const char *text, size_t len);

#endif
