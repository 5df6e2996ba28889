/*
 * internal.h - what the proactive module's files share: publishing a
 * policy, starting and running a matching run, and the folders it reads.
 */
#ifndef DG_PROACTIVE_INTERNAL_H
#define DG_PROACTIVE_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/date.h"
#include "core/err.h"
#include "jobs/jobs.h"
#include "node/env.h"
#include "proactive/proactive.h"
#include "store/store.h"

#define PR_RULE_MAX  (256 * 1024)  /* bytes of a rule file */
#define PR_TESTS_MAX (1024 * 1024) /* bytes of its YAML tests */
#define PR_CODE_MAX  40            /* a policy's code: [a-z0-9_], the rule file's stem */
#define PR_PAGE_MAX  500           /* matches in one page of the truth API */

extern const struct dg_migration pr_migrations[];

/* What a member of staff publishes (every string borrowed). */
struct pr_publish {
	const char *code, *dept, *item, *mode, *effective, *rule, *tests, *schedule;
	int64_t user_id;
	const char *user_dept; /* the publisher's department code; "" for none */
	bool admin;
};

/*
 * Publish a new version of a policy: the rule text must compile (every error
 * goes into *errors as {line, col, message}) and its tests must pass (the
 * failing cases go into *errors with line 0). Only staff of the owning
 * department, or an administrator, may. EINVAL / EDENIED / ENOTFOUND with a
 * message in err (its field names the form field); *errors (may be NULL on
 * return) is the caller's. On success *version is the new version number.
 */
dg_rc pr_publish(struct dg_env *env, struct dg_db *db, const struct pr_publish *in, json_t **errors,
		 int64_t *version, struct dg_err *err) DG_MUST;

struct dg_program;
/* Compile text as the file policies/<code>.rule (never NULL; see p->diag, free
 * with dg_program_free). Only `schema "schema.yaml"` may be named. */
struct dg_program *pr_compile(const struct dg_env *env, const char *code, const char *text,
			      size_t len);

/*
 * Compile text as pr_compile does and list its errors as {line, col,
 * message} (line 0: about the whole file); an empty array when it compiles.
 * The caller owns the array.
 */
json_t *pr_compile_errors(const struct dg_env *env, const char *code, const char *text, size_t len);

/* The folder of the rule files and schema (policies/, beside the templates). */
const char *pr_policies_dir(const struct dg_env *env, char *buf, size_t n);

/*
 * Queue a matching run of policy code for date ref (0: today), as a job.
 * ECONFLICT when a run of that policy is under way; ENOTFOUND for no such
 * policy. *run and *job get the ids.
 */
dg_rc pr_run_start(struct dg_db *db, const char *code, dg_day ref, int64_t user_id, int64_t *run,
		   int64_t *job, struct dg_err *err) DG_MUST;

/* The job kinds: one run, and the daily scheduler. */
dg_rc pr_run_job(struct dg_job *job, struct dg_err *err);
dg_rc pr_schedule_job(struct dg_job *job, struct dg_err *err);

/* Routes: the office pages and API, the truth API, /my/benefits. */
const struct dg_route *pr_routes(size_t *n);

/* The demo region's policies, published from policies/NAME.rule with their tests. */
dg_rc pr_demo_seed(struct dg_env *env, struct dg_db *db, const struct dg_demo_opts *o,
		   struct dg_err *err);

#endif
