/*
 * jobs.h - durable background jobs: a queue kept in the store, run by worker
 * threads.
 *
 * A job is a row (kind, JSON payload, state queued|running|done|failed,
 * progress done/total, a JSON checkpoint, result or error, attempts). A worker
 * claims a queued job by taking a lease (owner + lease_until); a worker that
 * dies loses its lease and the job is claimed again once the lease runs out,
 * resuming from its last checkpoint. A handler that must not repeat work does
 * each step and dg_job_save() in one transaction: the save fails with
 * ECONFLICT when the lease was lost, so the step is rolled back, never done
 * twice. A failed attempt is retried with exponential backoff (2^attempt s,
 * at most 10 min) up to the kind's max attempts, then the job is failed.
 */
#ifndef DG_JOBS_H
#define DG_JOBS_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"
#include "http/router.h"
#include "store/store.h"
#include "node/module.h"

struct dg_jobs;
struct dg_env;
struct dg_task;

/* The jobs table. */
extern const struct dg_migration dg_jobs_migrations[];

/* What a handler sees while it runs one attempt of one job. */
struct dg_job {
	int64_t id;
	const char *kind;
	json_t *payload;    /* borrowed, never NULL (an object) */
	json_t *checkpoint; /* borrowed: what the last dg_job_save stored, or null */
	int attempt;        /* 1 on the first try */
	struct dg_db *db;   /* a connection the handler may use for this attempt */
	struct dg_env *env; /* the node (keys, region, settings), or NULL in tests without one */
	/* private to jobs.c */
	struct dg_jobs *runner;
	char owner[33];
};

/*
 * A handler returns DG_OK when the job is done, DG_EINVAL when its input can
 * never succeed (the job fails at once), or another error to have the attempt
 * retried with backoff. err's message is recorded either way.
 */
typedef dg_rc (*dg_job_fn)(struct dg_job *job, struct dg_err *err);

/*
 * Register a kind before dg_jobs_start (not thread-safe; at start-up only).
 * The app registers every module's kinds (node/module.h) when it opens.
 */
void dg_jobs_register(const char *kind, dg_job_fn fn, int max_attempts);
/* Change a registered kind's attempts (tests that want a failure sooner). */
void dg_jobs_set_attempts(const char *kind, int max_attempts);

/*
 * Queue a job. payload is borrowed (serialised). created_by may be 0. With a
 * non-NULL idem_key, a second enqueue with the same key returns the first
 * job's id instead of queueing another. Works inside the caller's transaction.
 */
dg_rc dg_job_enqueue(struct dg_db *db, const char *kind, json_t *payload, int64_t created_by,
		     const char *idem_key, int64_t *id_out) DG_MUST;

/*
 * Record progress and a checkpoint (checkpoint may be NULL to keep the old
 * one) and renew the lease. Call it inside the transaction that did the step.
 * ECONFLICT when this worker no longer holds the job: roll back and return.
 */
dg_rc dg_job_save(struct dg_job *job, int64_t done, int64_t total, json_t *checkpoint) DG_MUST;
/* Store the job's result (an object, borrowed); the job is done when the handler returns OK. */
dg_rc dg_job_result(struct dg_job *job, json_t *result) DG_MUST;

/*
 * Record a job whose work the caller did itself, done at once and never
 * run (a demo's finished export, for its page): payload and result
 * (objects, borrowed) as a handler would have left them, progress
 * total/total. EINVAL for a bad kind or payload.
 */
dg_rc dg_job_record_done(struct dg_db *db, const char *kind, json_t *payload, int64_t created_by,
			 int64_t total, json_t *result, int64_t *id_out) DG_MUST;

/* True once dg_jobs_stop was called: long handlers should return (DG_EUNAVAIL) soon. */
int dg_job_stopping(const struct dg_job *job);

/*
 * The job as JSON: {id, kind, state, progress:{done,total}, attempts,
 * max_attempts, result, error, created_by, created_at, updated_at}.
 * ENOTFOUND when there is no such job. Caller owns the reference.
 */
dg_rc dg_job_get_json(struct dg_db *db, int64_t id, json_t **out) DG_MUST;

/*
 * Start workers threads (0 = none; jobs then only queue). lease_sec >= 1.
 * tasks (a list ending with an empty entry, or NULL) are queued as jobs of
 * their kind once per period (node/module.h). env (may be NULL) is handed
 * to every handler as job->env.
 */
dg_rc dg_jobs_start(struct dg_store *store, struct dg_env *env, unsigned workers,
		    unsigned lease_sec, const struct dg_task *tasks, struct dg_jobs **out) DG_MUST;
/* Ask workers to stop, wait for their current attempts to return, free. */
void dg_jobs_stop(struct dg_jobs *j);

/* GET /jobs/{id} (page with progress) and GET /api/v1/jobs/{id} (JSON). */
const struct dg_route *dg_jobs_routes(size_t *n);

/* `dgov jobs add KIND JSON | show ID | list`; argv[0] is "jobs". Returns the exit code. */
int dg_jobs_main(struct dg_env *env, int argc, char **argv);
/* Its arguments, before anything is opened (struct dg_command's check). */
int dg_jobs_check(int argc, char **argv);

/* The jobs module: its tables, routes, jobs and demo data, for src/app. */
extern const struct dg_module dg_jobs_module;

#endif
