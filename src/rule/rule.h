/*
 * rule.h - the policy rule language: the library's public face.
 *
 * The rule library is pure: it knows nothing of HTTP or the store. Its CLI,
 * `dgov rule ...`, enters through dg_rule_main().
 */
#ifndef DG_RULE_H
#define DG_RULE_H

/* `dgov rule SUBCOMMAND ...`: argv[0] is "rule". Returns the process exit code. */
int dg_rule_main(int argc, char **argv);

#endif
