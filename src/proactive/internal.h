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
#include "core/buf.h"
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

/*
 * A run's answers (sql.c): each pr_answers and pr_answer_who row holds from
 * the run that wrote it (first_run) to the last run it stands in (last_run,
 * NULL while it stands), so a run writes only the answers it changes. PR_AS_OF
 * is the one test of "row x stands in run r" (SQL text: x an alias, r a column
 * or a placeholder); the views pr_results and pr_who give every run's answers
 * through it, under the run's id (run_id), to every reader.
 */
#define PR_AS_OF(x, r)                                                                             \
	" " x ".first_run <= " r " AND (" x ".last_run IS NULL OR " x ".last_run >= " r ")"

/* A policy's id, and its owning department's code (in a), by its code
 * (sql.c); ENOTFOUND when there is no such policy. */
dg_rc pr_policy_id(struct dg_db *db, const char *code, int64_t *id) DG_MUST;
dg_rc pr_policy_dept(struct dg_db *db, const char *code, struct dg_arena *a, char **dept) DG_MUST;

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
 * Queue a matching run of policy code for date ref (0: today), as a job;
 * full asks every record to be answered afresh even where the run could
 * re-read only the records changed since the last (incr.c). ECONFLICT when a run of that policy is
 * under way; ENOTFOUND for no such policy. *run and *job get the ids.
 */
dg_rc pr_run_start(struct dg_db *db, const char *code, dg_day ref, bool full, int64_t user_id,
		   int64_t *run, int64_t *job, struct dg_err *err) DG_MUST;

struct dg_intern;
struct dg_data;
/* A run that may read only what changed since the run before (incr.c). */
struct pr_keyed {
	int64_t since; /* the run before's registries' version; 0: read everything */
	bool *on;      /* set when only the records wanted were read */
	json_t **keys; /* DG_MAX_ENT: the IDs wanted per entity (the caller decrefs them) */
	json_t **read; /* the changes read for them (the caller decrefs it), for pr_incr_mark */
};

/*
 * The registries' records for program p, through the exchange under dept's
 * bulk grants (use names the reader in each record's use), or from the CSV
 * folder $DGOV_PROACTIVE_DATA; source ("exchange" or "csv") says which.
 * With keyed (may be NULL) and its since, only the records an incremental
 * run needs (pr_incr_keys), when they can be found by key. NULL with err's
 * message when they cannot be read (run.c).
 */
struct pr_keyed;
struct dg_data *pr_load_data(struct dg_job *job, const struct dg_program *p,
			     struct dg_intern *codes, const char *dept, const char *use,
			     const struct pr_keyed *keyed, char *source, size_t n,
			     struct dg_err *err);

/*
 * A run of policy code for ref done at once in db's open transaction, with
 * no job (the demo's seed): its answers, differences and counts written and
 * the policy's results switched to it, all committed or rolled back with the
 * caller's transaction. *run gets its id. EINVAL outside a transaction.
 */
dg_rc pr_run_inline(struct dg_env *env, struct dg_db *db, const char *code, dg_day ref,
		    int64_t user, int64_t *run, struct dg_err *err) DG_MUST;

struct dg_program;
/*
 * Incremental runs (incr.c): into dirty[e] (DG_MAX_ENT pointers; one byte per record of entity e
 * in d, allocated here; pr_incr_free frees them) 1 for each record whose
 * answer may differ from the one given when the registries were at version
 * since: changed since in a registry it reads, or reaching a changed record
 * through the links and groups p's rules follow, as the data is now or was
 * then. read (borrowed; NULL: read here) is the change log since, when
 * pr_incr_keys already read it. Errors are the exchange's (the change log
 * could not be read).
 */
dg_rc pr_incr_mark(const struct dg_env *env, struct dg_db *db, const struct dg_program *p,
		   const struct dg_data *d, int64_t since, json_t *read, uint8_t **dirty,
		   struct dg_err *err) DG_MUST;
void pr_incr_free(uint8_t **dirty);
struct dg_exchange_reader;
/*
 * The records a run after version since must read, set on xr as keyed
 * reads (dg_exchange_reader_only): those changed since, those the links of
 * changed records pointed at then, and every record reached from them by
 * the links and groups p's rules follow, both ways, as the data is now.
 * keys[e] (DG_MAX_ENT, the caller's) gets the IDs wanted of entity e, and
 * *read (when read is not NULL; the caller's) the change log read. DG_EUNAVAIL when a link that
 * must be followed backward is kept sealed (the run then reads everything); otherwise errors are
 * the exchange's. Nothing is set on xr on error.
 */
dg_rc pr_incr_keys(const struct dg_env *env, struct dg_db *db, const struct dg_program *p,
		   struct dg_exchange_reader *xr, int64_t since, json_t **keys, json_t **read,
		   struct dg_err *err) DG_MUST;

/*
 * *touched: whether a record changed after version since in a registry that
 * p's rules read, for their own entities or those their links and groups
 * reach (incr.c). Errors are the exchange's (the change log could not be read).
 */
dg_rc pr_incr_touched(const struct dg_env *env, struct dg_db *db, const struct dg_program *p,
		      int64_t since, bool *touched, struct dg_err *err) DG_MUST;

/* The job kinds: one run, the daily scheduler, and runs started by registry changes. */
dg_rc pr_run_job(struct dg_job *job, struct dg_err *err);
dg_rc pr_schedule_job(struct dg_job *job, struct dg_err *err);
dg_rc pr_follow_job(struct dg_job *job, struct dg_err *err);

/* Routes: the office pages and API, the truth API, /my/benefits. */
const struct dg_route *pr_routes(size_t *n);
/* The grant batches' pages and API (grant_routes.c). */
const struct dg_route *pr_grant_routes(size_t *n);

/* What the route files share (routes.c). */
struct dg_req;
/* A field from the JSON body (API) or the form (page); NULL when absent. */
const char *pr_input(struct dg_req *r, const char *name);
/* Rows as objects named by their columns (*out the caller's): integers as numbers. */
dg_rc pr_rows_json(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs,
		   json_t **out) DG_MUST;
/* Fen (borrowed) as yuan with two decimals, or null. */
json_t *pr_yuan(json_t *fen);
/* Whether the requester is staff of dept, or an administrator. */
dg_rc pr_may_manage(struct dg_req *r, struct dg_db *db, const char *dept, bool *ok) DG_MUST;

/* --- 免申即享 grants (grant.c) --- */

#define PR_REASON_MAX 500 /* bytes of a revocation's reason */

/* A batch as pr_batch_get reads it (strings in the arena). */
struct pr_batch_info {
	int64_t id, policy_id, run_id, proposed_by, approved_by, prev_batch;
	const char *code, *dept, *period, *state;
};
/* ENOTFOUND when there is no batch id. */
dg_rc pr_batch_get(struct dg_db *db, struct dg_arena *a, int64_t id,
		   struct pr_batch_info *out) DG_MUST;

/*
 * A draft batch from policy code's shown run, by user (the owning
 * department's: the caller checks). EINVAL when the policy is not in mode
 * grant, has no finished run, or a rule cannot be recorded in the benefits
 * registry; err's message is a key of the proactive catalogue.
 */
dg_rc pr_batch_make(struct dg_env *env, struct dg_db *db, const char *code, int64_t user,
		    int64_t *batch, struct dg_err *err) DG_MUST;
/*
 * Propose a draft batch: lines is the string "all" or an array of line
 * numbers. EINVAL (nothing changed) for an empty selection, a line that is
 * not the batch's, a gone line or one named twice; ECONFLICT unless draft.
 */
dg_rc pr_batch_propose(struct dg_db *db, int64_t batch, int64_t user, json_t *lines,
		       struct dg_err *err) DG_MUST;
/*
 * Approve a proposed batch and issue its selected lines, in one transaction.
 * EDENIED when user proposed it; ECONFLICT unless proposed.
 */
dg_rc pr_batch_approve(struct dg_env *env, struct dg_db *db, int64_t batch, int64_t user,
		       struct dg_err *err) DG_MUST;
/*
 * End a granted line: declined by the person (decline true) or revoked by
 * staff with a reason (required, at most PR_REASON_MAX bytes). ENOTFOUND
 * when the line is not granted.
 */
dg_rc pr_grant_end(struct dg_env *env, struct dg_db *db, int64_t batch, int64_t line, int64_t user,
		   bool decline, const char *reason, struct dg_err *err) DG_MUST;
/* The payment instruction file of a batch: its granted lines as CSV (BOM, CRLF). */
dg_rc pr_batch_csv(struct dg_env *env, struct dg_db *db, struct dg_arena *a, int64_t batch,
		   struct dg_buf *out) DG_MUST;

/* --- take-up by district and over time (takeup.c) --- */

struct dg_entity;
struct dg_data;
/* The field that holds an entity's district (district, region or
 * hukou_region, a code), or -1. */
int pr_district_field(const struct dg_entity *e);
/* The district of a record (borrowed from d's codes); "" when unknown or field is -1. */
const char *pr_district_of(const struct dg_data *d, int ent, int field, int64_t row);
/* In a finishing run's transaction: its eligible, notified and applied per district. */
dg_rc pr_takeup_record(struct dg_db *db, int64_t run, int64_t policy) DG_MUST;

#define PR_TAKEUP_NCOLS 6
/* The counts of a take-up row, in order: eligible ... not_receiving. */
extern const char *const pr_takeup_cols[PR_TAKEUP_NCOLS];
/*
 * The take-up of policy's latest finished runs (at most 24), one object per
 * run and district in the order of run and district: run, ref_date,
 * district and the counts of pr_takeup_cols. *out is the caller's.
 */
dg_rc pr_takeup_rows(struct dg_db *db, int64_t policy, json_t **out) DG_MUST;
/* Those rows as a CSV file (BOM, CRLF, every cell by dg_csv_cell). */
dg_rc pr_takeup_csv(const json_t *rows, struct dg_buf *out) DG_MUST;
/* The take-up section of a policy's pages into data.takeup: tables and charts. */
dg_rc pr_takeup_view(struct dg_req *r, struct dg_db *db, int64_t policy, const char *code,
		     json_t *data) DG_MUST;
/* A chart of rows' key (a number) labelled by label_key, as SVG in r's arena
 * (web/chart.h; id names its title and desc); NULL when it cannot be drawn. */
const char *pr_chart(struct dg_req *r, const char *id, const char *title, const char *desc,
		     const json_t *rows, const char *label_key, const char *key, bool line);
/* The public take-up page and its CSV (takeup_routes.c). */
const struct dg_route *pr_takeup_routes(size_t *n);

/* --- what-if (whatif.c) --- */

#define PR_WHATIF_SETS   8   /* parameters one what-if changes at most */
#define PR_SWEEP_MAX     20  /* values of a sweep at most */
#define PR_WHATIF_PEOPLE 100 /* people listed as gaining or losing at most */

/*
 * Queue a what-if of policy code's version in force for date ref (0:
 * today): sets an array of "NAME=VALUE" / "NAME[REGION]=VALUE" strings
 * (may be NULL), sweep "NAME=FROM..TO:STEP" or NULL/"". EINVAL (nothing
 * written) with a message key and its field for a bad parameter or value,
 * too many, a sweep past PR_SWEEP_MAX, or nothing asked; ENOTFOUND for no
 * such policy; ECONFLICT while a what-if of the policy is under way.
 */
dg_rc pr_whatif_start(struct dg_env *env, struct dg_db *db, const char *code, dg_day ref,
		      json_t *sets, const char *sweep, int64_t user, int64_t *id, int64_t *job,
		      struct dg_err *err) DG_MUST;
/*
 * The same worked out at once in db's open transaction, with no job (the
 * demo's seed): *id gets the what-if, done or failed with the caller's
 * transaction. EINVAL outside a transaction, or as pr_whatif_start and the
 * job's own failures.
 */
dg_rc pr_whatif_inline(struct dg_env *env, struct dg_db *db, const char *code, dg_day ref,
		       json_t *sets, const char *sweep, int64_t user, int64_t *id,
		       struct dg_err *err) DG_MUST;
/* A policy's version in force: its id, department, version and rule text (in a). */
struct pr_version {
	int64_t id, version;
	char *dept, *text;
};
/* ENOTFOUND when there is no policy code. */
dg_rc pr_policy_version(struct dg_db *db, struct dg_arena *a, const char *code,
			struct pr_version *out) DG_MUST;
/* The job kind proactive.whatif. */
dg_rc pr_whatif_job(struct dg_job *job, struct dg_err *err);
/* A program's parameters for the form: name, value at ref, by_region, legal (a's strings). */
json_t *pr_whatif_params(const struct dg_program *p, dg_day ref, struct dg_arena *a);
/* The what-if pages and API (whatif_routes.c). */
const struct dg_route *pr_whatif_routes(size_t *n);

/* The demo region's policies, published from policies/NAME.rule with their tests. */
dg_rc pr_demo_seed(struct dg_env *env, struct dg_db *db, const struct dg_demo_opts *o,
		   struct dg_err *err);

#endif
