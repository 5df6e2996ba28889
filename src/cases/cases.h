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

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "http/router.h"
#include "store/store.h"
#include "node/module.h"

struct dg_env;
struct dg_keys;

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

/*
 * For the modules above (the exchange's pre-fill step, which sits above
 * cases): an applicant's draft, its answers filled from registries, and
 * documents attached to it (external.c). Every call works only on a case
 * that is user_id's and still a draft.
 */
struct dg_case_draft {
	int64_t id;
	char ref[32];
	char item_code[64];
	int64_t dept_id;
	char dept_code[17]; /* the department that handles it */
	json_t *prefilled;  /* owned: the names of the answers filled for the applicant */
};
/* Read ref if it is user_id's draft (ENOTFOUND otherwise); *form and *answers owned. */
dg_rc dg_case_draft_get(struct dg_db *db, const struct dg_keys *k, const char *ref, int64_t user_id,
			struct dg_case_draft *out, json_t **form, json_t **answers) DG_MUST;
void dg_case_draft_release(struct dg_case_draft *d);
/*
 * Set the answers named in values (name -> string) into answers and save
 * them, sealed, marking each as filled for the applicant (it is then fixed
 * on the form). In the caller's transaction.
 */
dg_rc dg_case_draft_prefill(struct dg_db *db, const struct dg_keys *k,
			    const struct dg_case_draft *d, json_t *answers,
			    const json_t *values) DG_MUST;
/* Attach n bytes the platform made (mime as given) as document field, kept like an upload. */
dg_rc dg_case_draft_attach(struct dg_db *db, const struct dg_keys *k, const char *data_dir,
			   const struct dg_case_draft *d, const char *field, const char *filename,
			   const char *mime, const char *bytes, size_t n, int64_t *id) DG_MUST;
/* Attach an upload as document field: ETOOBIG over the cap, EINVAL a type not accepted. */
dg_rc dg_case_draft_attach_upload(struct dg_db *db, const struct dg_keys *k, const char *data_dir,
				  const struct dg_case_draft *d, const char *field,
				  const struct dg_upload *u, int64_t *id) DG_MUST;

/* The cases module: its tables, routes, jobs and demo data, for src/app. */
extern const struct dg_module dg_cases_module;

#endif
