/*
 * proactive.h - proactive services (免申即享 · 反向办 · 精准推送): policies
 * published as platform objects (a rule file with its YAML tests, versions,
 * an effective date, the owning department, the catalogue item one applies
 * through and a mode: notify, apply or grant), matching runs as durable
 * jobs, on demand and daily, whose results are stored per entity and rule
 * with the difference to the last run, the truth API that lists a run's
 * matches, and each resident's /my/benefits. docs/proactive.md says how.
 */
#ifndef DG_PROACTIVE_H
#define DG_PROACTIVE_H

#include "node/module.h"

extern const struct dg_module dg_proactive_module;

#endif
