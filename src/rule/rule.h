/*
 * rule.h - the policy rule library: what other modules include.
 *
 * The library is pure: it knows nothing of HTTP or the store. Its pipeline,
 * with the header that declares each step:
 *
 *   load     rule files -> a checked program            dg_rule_load (load.h)
 *   data     registries -> columns, from the CSV files of a folder or from any
 *            source that implements struct dg_rule_reader (data.h):
 *            dg_data_load_csv, dg_data_load
 *   compile  program + reference date + what-if overrides -> code
 *            dg_rule_compile (code.h), after the data is loaded
 *   run      every record of the population: dg_rule_run, or dg_rule_run_opts
 *            to keep each record's amount (engine.h)
 *   explain  one record, why: dg_rule_explain_json / _text (explain.h)
 *   what-if  overrides against the baseline: dg_rule_whatif / _sweep (whatif.h)
 *
 * Threads. Nothing in src/rule keeps mutable state outside the objects it is
 * given. A program, a loaded data set and compiled code are read-only once
 * built, so any number of threads (the proactive-services job workers) may
 * compile, run, explain and what-if over them at once. Two things write: the
 * checker (inside dg_rule_load) writes the program, and loading data adds to
 * the code table (struct dg_intern) it is given, so a load must not overlap a
 * compile or a run that uses the same table; compile only reads it, and a run
 * refuses code compiled before the data it is given was loaded.
 *
 * The command line over this (`dgov rule ...`) and the YAML test runner live
 * in src/cmd/.
 */
#ifndef DG_RULE_H
#define DG_RULE_H

#include "rule/check.h"
#include "rule/code.h"
#include "rule/data.h"
#include "rule/engine.h"
#include "rule/explain.h"
#include "rule/load.h"
#include "rule/whatif.h"

#endif
