/*
 * ytest.h - rule tests as YAML data (dgov rule test, and the tests a
 * policy must pass before it is published).
 *
 * A test file names its rule files and lists cases: a reference date,
 * records per entity, benefit records, parameter overrides, and per record
 * and rule the expected outcome, amount, blocking conditions and unknown
 * conditions. Each case also runs the batch engine on the same records and
 * checks it agrees with the one-record evaluation, and, with boundaries on,
 * moves every direct threshold input to the threshold and one unit either
 * side and checks the condition flips exactly there.
 */
#ifndef DG_RULE_YTEST_H
#define DG_RULE_YTEST_H

#include <stdbool.h>
#include <stdio.h>

#include "core/err.h"
#include "rule/ast.h"

struct dg_ytest_stats {
	int pass, fail, n;
	bool boundaries;
};

/* Run one test file, printing TAP lines to out. EINVAL when the file itself is bad. */
dg_rc dg_rule_test_file(const char *path, FILE *out, struct dg_ytest_stats *st) DG_MUST;

/*
 * Run the cases of a test file held in memory (text, len bytes; name is used
 * in the TAP lines) against p, a checked program without errors, instead of
 * the rule files the test file names (a policy being published: its text is
 * not yet a file). EINVAL when the test text itself is bad, with err saying
 * where and why; the cases' own failures are counted in st.
 */
dg_rc dg_rule_test_text(const struct dg_program *p, const char *name, const char *text, size_t len,
			FILE *out, struct dg_ytest_stats *st, struct dg_err *err) DG_MUST;

#endif
