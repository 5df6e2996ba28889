/*
 * rule_test.h - rule tests as YAML data (dgov rule test).
 *
 * A test file names its rule files and lists cases: a reference date,
 * records per entity, benefit records, parameter overrides, and per record
 * and rule the expected outcome, amount, blocking conditions and unknown
 * conditions. Each case also runs the batch engine on the same records and
 * checks it agrees with the one-record evaluation, and, with boundaries on,
 * moves every direct threshold input to the threshold and one unit either
 * side and checks the condition flips exactly there.
 */
#ifndef DG_CMD_RULE_TEST_H
#define DG_CMD_RULE_TEST_H

#include <stdbool.h>
#include <stdio.h>

#include "core/err.h"

struct dg_ytest_stats {
	int pass, fail, n;
	bool boundaries;
};

/* Run one test file, printing TAP lines to out. EINVAL when the file itself is bad. */
dg_rc dg_rule_test_file(const char *path, FILE *out, struct dg_ytest_stats *st) DG_MUST;

#endif
