/*
 * rule.h - `dgov rule ...`: the command line over the rule library (check,
 * dump, test, run, explain, whatif). The library itself is src/rule/rule.h.
 */
#ifndef DG_CMD_RULE_H
#define DG_CMD_RULE_H

/* `dgov rule SUBCOMMAND ...`: argv[0] is "rule". Returns the process exit code:
 * 0 done, 1 the rules, data or tests are wrong, 2 the command line is wrong. */
int dg_rule_main(int argc, char **argv);

#endif
