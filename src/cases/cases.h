/*
 * cases.h - online applications and their handling (一网通办): a resident or
 * an enterprise's agent fills an item's form (saved as they go), submits it
 * and follows the case; the owning department's staff accept or refuse it,
 * ask for supplementary material, review, approve or deny, or transfer it,
 * each within the promised working days; approval issues an e-certificate;
 * the applicant rates the case, and a bad rating opens a rectification task.
 */
#ifndef DG_CASES_H
#define DG_CASES_H

#include <stddef.h>

#include "core/err.h"
#include "http/router.h"
#include "store/store.h"
#include "node/module.h"

struct dg_env;

extern const struct dg_migration dg_cases_migrations[];

/* The applicant's pages (apply.c), the back office and /ratings (office.c), the API (api.c). */
const struct dg_route *dg_cases_apply_routes(size_t *n);
const struct dg_route *dg_cases_office_routes(size_t *n);
const struct dg_route *dg_cases_api_routes(size_t *n);

/*
 * The demo region's cases at every stage (drafts, submitted, accepted,
 * waiting for supplement, overdue, approved with a certificate, denied,
 * rated, in rectification), made through the same transitions as real ones.
 * Inside the demo's one transaction on db.
 */
dg_rc dg_cases_demo_seed(struct dg_env *env, struct dg_db *db, const struct dg_demo_opts *o,
			 struct dg_err *err) DG_MUST;

/* The cases module: its tables, routes, jobs and demo data, for src/app. */
extern const struct dg_module dg_cases_module;

#endif
