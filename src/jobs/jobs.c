/*
 * jobs.c - the durable job queue and its worker threads.
 *
 * The queue is the jobs table. A worker claims one runnable job (queued and
 * due, or running with a lease that ran out because its worker died) with a
 * single UPDATE ... WHERE id = (SELECT ... SKIP LOCKED) ... RETURNING that
 * sets a fresh owner token and lease, runs the kind's handler with its own
 * connection, and records the outcome only while it still owns the job.
 * Workers sleep on a condition variable that dg_job_enqueue signals for jobs
 * queued in this process, and otherwise poll every 500 ms (for jobs queued
 * by other nodes or the CLI, and for retries coming due). An enqueue inside
 * the caller's transaction signals before its commit, when the row is not
 * yet there to claim (PostgreSQL shows nothing; SQLite's claim waits for the
 * writer): a worker woken for nothing looks again after 1, 2, 4 ... 256 ms,
 * so a job queued by a request starts when the request commits, not a poll
 * later.
 */
#include "jobs/jobs.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/date.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/rand.h"
#include "jobs/internal.h"

#define MAX_KINDS            64
#define KIND_MAX             64
#define DEFAULT_MAX_ATTEMPTS 5
#define RECHECK_MAX_MS       256 /* the last look after a wake-up for nothing */
#define BACKOFF_CAP_MS       600000
#define PAYLOAD_MAX          ((size_t)1 << 20) /* a job's JSON payload */

int64_t dg_jobs_backoff_unit_ms = 1000;
unsigned dg_jobs_poll_ms = 500;

const struct dg_migration dg_jobs_migrations[] = {
	{"jobs-001-jobs", "CREATE TABLE jobs ("
			  " id {{pk}},"
			  " kind TEXT NOT NULL,"
			  " state TEXT NOT NULL DEFAULT 'queued',"
			  " payload TEXT NOT NULL,"
			  " checkpoint TEXT,"
			  " result TEXT,"
			  " error TEXT,"
			  " progress_done BIGINT NOT NULL DEFAULT 0,"
			  " progress_total BIGINT NOT NULL DEFAULT 0,"
			  " attempts INTEGER NOT NULL DEFAULT 0,"
			  " max_attempts INTEGER NOT NULL DEFAULT 5,"
			  " run_at BIGINT NOT NULL,"
			  " lease_until BIGINT,"
			  " owner TEXT,"
			  " idem_key TEXT UNIQUE,"
			  " created_by BIGINT NOT NULL DEFAULT 0,"
			  " created_at BIGINT NOT NULL,"
			  " updated_at BIGINT NOT NULL);"
			  "CREATE INDEX jobs_claim ON jobs(state, run_at);"
			  "CREATE INDEX jobs_created_by ON jobs(created_by, id);"},
	{"jobs-002-demo-tally", "CREATE TABLE demo_tally ("
				" id {{pk}},"
				" job_id BIGINT NOT NULL,"
				" step INTEGER NOT NULL,"
				" created_at BIGINT NOT NULL,"
				" UNIQUE (job_id, step));"},
	{NULL, NULL},
};

struct kind {
	char name[KIND_MAX];
	dg_job_fn fn;
	int max_attempts;
};

static struct kind kinds[MAX_KINDS];
static size_t nkinds;

/* In-process wake-up for workers: a sequence number bumped on each enqueue. */
static pthread_mutex_t kick_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t kick_cv;
static pthread_once_t kick_once = PTHREAD_ONCE_INIT;
static uint64_t kick_seq;

/* A scheduled task (node/module.h) and when it is next due. */
struct sched {
	char name[KIND_MAX];
	int64_t every_ms;
	int64_t next_ms; /* 0: not yet looked at */
};

struct dg_jobs {
	struct dg_store *store;
	struct dg_env *env;
	int64_t lease_ms;
	unsigned nworkers;
	pthread_t *threads;
	atomic_int stopping;
	pthread_mutex_t sched_mu; /* one worker at a time queues the due tasks */
	struct sched *tasks;
	size_t ntasks;
};

/* What the claim returned, owned by the worker for one attempt. */
struct claim {
	int64_t id;
	char kind[KIND_MAX];
	char *payload;
	char *checkpoint; /* NULL when none */
	int attempts, max_attempts;
};

static void kick_init(void)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&kick_cv, &ca);
	pthread_condattr_destroy(&ca);
}

static void kick(void)
{
	pthread_once(&kick_once, kick_init);
	pthread_mutex_lock(&kick_mu);
	kick_seq++;
	pthread_cond_broadcast(&kick_cv);
	pthread_mutex_unlock(&kick_mu);
}

/* The wake-up count now: read it before looking for work, hand it to wait_kick. */
static uint64_t kick_seen(void)
{
	pthread_once(&kick_once, kick_init);
	pthread_mutex_lock(&kick_mu);
	uint64_t seen = kick_seq;
	pthread_mutex_unlock(&kick_mu);
	return seen;
}

/*
 * Sleep up to ms, or until an enqueue in this process since seen (even one
 * made while the worker was looking) or a stop. True when an enqueue woke it.
 */
static bool wait_kick(struct dg_jobs *j, unsigned ms, uint64_t seen)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_once(&kick_once, kick_init);
	pthread_mutex_lock(&kick_mu);
	while (kick_seq == seen && !atomic_load(&j->stopping)) {
		if (pthread_cond_timedwait(&kick_cv, &kick_mu, &ts) != 0)
			break;
	}
	bool kicked = kick_seq != seen;
	pthread_mutex_unlock(&kick_mu);
	return kicked;
}

static struct kind *find_kind(const char *name)
{
	for (size_t i = 0; i < nkinds; i++)
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	return NULL;
}

void dg_jobs_set_attempts(const char *kind, int max_attempts)
{
	struct kind *k = find_kind(kind);
	if (k && max_attempts > 0)
		k->max_attempts = max_attempts;
}

/* Registering a kind again replaces its handler (tests and `dgov jobs` do). */
void dg_jobs_register(const char *kind, dg_job_fn fn, int max_attempts)
{
	struct kind *k = find_kind(kind);
	if (!k) {
		if (nkinds == MAX_KINDS || strlen(kind) >= KIND_MAX) {
			dg_error("jobs: cannot register kind %s", kind);
			return;
		}
		k = &kinds[nkinds++];
	}
	snprintf(k->name, sizeof(k->name), "%s", kind);
	k->fn = fn;
	k->max_attempts = max_attempts > 0 ? max_attempts : DEFAULT_MAX_ATTEMPTS;
}

int64_t dg_jobs_backoff_ms(int attempt)
{
	int shift = attempt < 0 ? 0 : attempt > 20 ? 20 : attempt;
	int64_t ms = dg_jobs_backoff_unit_ms * ((int64_t)1 << shift);
	return ms > BACKOFF_CAP_MS ? BACKOFF_CAP_MS : ms;
}

static dg_rc enqueue_insert(struct dg_db *db, const char *kind, const char *payload,
			    int max_attempts, int64_t created_by, const char *idem_key,
			    int64_t *id_out)
{
	return dg_db_query_int(
		db,
		"INSERT INTO jobs(kind, state, payload, max_attempts, run_at, idem_key, created_by,"
		" created_at, updated_at) VALUES (?, 'queued', ?, ?, {{now_ms}}, ?, ?, {{now_ms}},"
		" {{now_ms}}) ON CONFLICT (idem_key) DO NOTHING RETURNING id",
		DG_ARGS(DG_VT(kind), DG_VT(payload), DG_VI(max_attempts), DG_VT(idem_key),
			DG_VI(created_by)),
		id_out);
}

dg_rc dg_job_enqueue(struct dg_db *db, const char *kind, json_t *payload, int64_t created_by,
		     const char *idem_key, int64_t *id_out)
{
	*id_out = 0;
	if (!kind || !*kind || strlen(kind) >= KIND_MAX || !json_is_object(payload))
		return DG_EINVAL;
	const struct kind *k = find_kind(kind);
	char *text = json_dumps(payload, JSON_COMPACT);
	dg_rc rc = DG_EINVAL;
	if (!text || strlen(text) > PAYLOAD_MAX)
		goto out;
	rc = enqueue_insert(db, kind, text, k ? k->max_attempts : DEFAULT_MAX_ATTEMPTS, created_by,
			    idem_key, id_out);
	/* no row back: the idempotency key is taken, so this is the job queued before */
	if (rc == DG_ENOTFOUND && idem_key)
		rc = dg_db_query_int(db, "SELECT id FROM jobs WHERE idem_key = ?",
				     DG_ARGS(DG_VT(idem_key)), id_out);
	if (rc == DG_OK)
		kick();
out:
	free(text);
	return rc;
}

dg_rc dg_job_record_done(struct dg_db *db, const char *kind, json_t *payload, int64_t created_by,
			 int64_t total, json_t *result, int64_t *id_out)
{
	*id_out = 0;
	if (!kind || !*kind || strlen(kind) >= KIND_MAX || !json_is_object(payload) ||
	    !json_is_object(result))
		return DG_EINVAL;
	char *text = json_dumps(payload, JSON_COMPACT), *res = json_dumps(result, JSON_COMPACT);
	dg_rc rc = DG_EINVAL;
	if (text && res && strlen(text) <= PAYLOAD_MAX)
		rc = dg_db_query_int(
			db,
			"INSERT INTO jobs(kind, state, payload, result, progress_done, "
			"progress_total,"
			" attempts, run_at, created_by, created_at, updated_at) VALUES (?, 'done', "
			"?,"
			" ?, ?, ?, 1, {{now_ms}}, ?, {{now_ms}}, {{now_ms}}) RETURNING id",
			DG_ARGS(DG_VT(kind), DG_VT(text), DG_VT(res), DG_VI(total), DG_VI(total),
				DG_VI(created_by)),
			id_out);
	free(text);
	free(res);
	return rc;
}

dg_rc dg_job_save(struct dg_job *job, int64_t done, int64_t total, json_t *checkpoint)
{
	char *text = checkpoint ? json_dumps(checkpoint, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	int64_t changes = 0;
	int64_t lease = job->runner ? job->runner->lease_ms : 30000;
	dg_rc rc = dg_db_exec(
		job->db,
		"UPDATE jobs SET progress_done = ?, progress_total = ?,"
		" checkpoint = COALESCE(?, checkpoint), lease_until = {{now_ms}} + ?,"
		" updated_at = {{now_ms}} WHERE id = ? AND owner = ? AND state = 'running'",
		DG_ARGS(DG_VI(done), DG_VI(total), DG_VT(text), DG_VI(lease), DG_VI(job->id),
			DG_VT(job->owner)),
		&changes);
	free(text);
	if (rc == DG_OK && changes == 0) {
		dg_warn("jobs: job %lld: lease lost, step abandoned", (long long)job->id);
		return DG_ECONFLICT;
	}
	if (rc == DG_OK && checkpoint) {
		json_decref(job->checkpoint);
		job->checkpoint = json_incref(checkpoint);
	}
	return rc;
}

dg_rc dg_job_result(struct dg_job *job, json_t *result)
{
	char *text = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
	int64_t changes = 0;
	dg_rc rc = dg_db_exec(job->db,
			      "UPDATE jobs SET result = ?, updated_at = {{now_ms}}"
			      " WHERE id = ? AND owner = ? AND state = 'running'",
			      DG_ARGS(DG_VT(text), DG_VI(job->id), DG_VT(job->owner)), &changes);
	free(text);
	if (rc == DG_OK && changes == 0)
		return DG_ECONFLICT;
	return rc;
}

int dg_job_stopping(const struct dg_job *job)
{
	return job->runner ? atomic_load(&job->runner->stopping) : 0;
}

static json_t *json_or_null(const char *text)
{
	json_t *j = text && *text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
	return j ? j : json_null();
}

static json_t *text_or_null(struct dg_rows *r, int col)
{
	return dg_rows_isnull(r, col) ? json_null() : json_string(dg_rows_text(r, col));
}

dg_rc dg_job_get_json(struct dg_db *db, int64_t id, json_t **out)
{
	struct dg_rows *r = NULL;
	*out = NULL;
	dg_rc rc = dg_db_query(db,
			       "SELECT id, kind, state, progress_done, progress_total, attempts,"
			       " max_attempts, result, error, created_by, created_at, updated_at"
			       " FROM jobs WHERE id = ?",
			       DG_ARGS(DG_VI(id)), &r);
	if (rc == DG_OK)
		rc = dg_rows_next(r);
	if (rc != DG_OK)
		goto out;
	*out = json_pack(
		"{s:I, s:s, s:s, s:{s:I, s:I}, s:I, s:I, s:o, s:o, s:I, s:I, s:I}", "id",
		(json_int_t)dg_rows_int(r, 0), "kind", dg_rows_text(r, 1), "state",
		dg_rows_text(r, 2), "progress", "done", (json_int_t)dg_rows_int(r, 3), "total",
		(json_int_t)dg_rows_int(r, 4), "attempts", (json_int_t)dg_rows_int(r, 5),
		"max_attempts", (json_int_t)dg_rows_int(r, 6), "result",
		json_or_null(dg_rows_isnull(r, 7) ? NULL : dg_rows_text(r, 7)), "error",
		text_or_null(r, 8), "created_by", (json_int_t)dg_rows_int(r, 9), "created_at",
		(json_int_t)dg_rows_int(r, 10), "updated_at", (json_int_t)dg_rows_int(r, 11));
	rc = *out ? DG_OK : DG_EINTERNAL;
out:
	dg_rows_free(r);
	return rc;
}

static void claim_release(struct claim *c)
{
	free(c->payload);
	free(c->checkpoint);
	memset(c, 0, sizeof(*c));
}

/* Take one runnable job for owner; ENOTFOUND when there is none. */
static dg_rc claim(struct dg_db *db, const char *owner, int64_t lease_ms, struct claim *c)
{
	struct dg_rows *r = NULL;
	dg_rc rc = dg_db_query(
		db,
		"UPDATE jobs SET state = 'running', owner = ?, attempts = attempts + 1,"
		" lease_until = {{now_ms}} + ?, updated_at = {{now_ms}}"
		" WHERE id = (SELECT id FROM jobs WHERE (state = 'queued' AND run_at <= {{now_ms}})"
		"  OR (state = 'running' AND lease_until < {{now_ms}})"
		"  ORDER BY run_at, id LIMIT 1 {{skip_locked}})"
		" AND ((state = 'queued' AND run_at <= {{now_ms}})"
		"  OR (state = 'running' AND lease_until < {{now_ms}}))"
		" RETURNING id, kind, payload, checkpoint, attempts, max_attempts",
		DG_ARGS(DG_VT(owner), DG_VI(lease_ms)), &r);
	if (rc == DG_OK)
		rc = dg_rows_next(r);
	if (rc == DG_OK) {
		c->id = dg_rows_int(r, 0);
		snprintf(c->kind, sizeof(c->kind), "%s", dg_rows_text(r, 1));
		c->payload = dg_xstrdup(dg_rows_text(r, 2));
		c->checkpoint = dg_rows_isnull(r, 3) ? NULL : dg_xstrdup(dg_rows_text(r, 3));
		c->attempts = (int)dg_rows_int(r, 4);
		c->max_attempts = (int)dg_rows_int(r, 5);
	}
	dg_rows_free(r);
	return rc;
}

/* Record how the attempt ended, if this worker still owns the job. */
static void finish(struct dg_jobs *j, struct dg_db *db, const struct claim *c, const char *owner,
		   dg_rc rc, const char *msg)
{
	dg_rc wrc;
	int64_t changes = 0;
	if (rc == DG_OK) {
		wrc = dg_db_exec(db,
				 "UPDATE jobs SET state = 'done', owner = NULL, lease_until = NULL,"
				 " error = NULL, updated_at = {{now_ms}}"
				 " WHERE id = ? AND owner = ? AND state = 'running'",
				 DG_ARGS(DG_VI(c->id), DG_VT(owner)), &changes);
	} else if (rc == DG_EUNAVAIL && atomic_load(&j->stopping)) {
		/* stopped, not failed: hand it back without counting the attempt */
		wrc = dg_db_exec(
			db,
			"UPDATE jobs SET state = 'queued', owner = NULL, lease_until = NULL,"
			" attempts = attempts - 1, run_at = {{now_ms}}, updated_at = {{now_ms}}"
			" WHERE id = ? AND owner = ? AND state = 'running'",
			DG_ARGS(DG_VI(c->id), DG_VT(owner)), &changes);
	} else if (c->attempts >= c->max_attempts) {
		wrc = dg_db_exec(
			db,
			"UPDATE jobs SET state = 'failed', owner = NULL, lease_until = NULL,"
			" error = ?, updated_at = {{now_ms}}"
			" WHERE id = ? AND owner = ? AND state = 'running'",
			DG_ARGS(DG_VT(msg), DG_VI(c->id), DG_VT(owner)), &changes);
	} else {
		wrc = dg_db_exec(
			db,
			"UPDATE jobs SET state = 'queued', owner = NULL, lease_until = NULL,"
			" error = ?, run_at = {{now_ms}} + ?, updated_at = {{now_ms}}"
			" WHERE id = ? AND owner = ? AND state = 'running'",
			DG_ARGS(DG_VT(msg), DG_VI(dg_jobs_backoff_ms(c->attempts)), DG_VI(c->id),
				DG_VT(owner)),
			&changes);
	}
	if (wrc != DG_OK)
		dg_error("jobs: job %lld: cannot record its outcome", (long long)c->id);
	else if (changes == 0)
		dg_warn("jobs: job %lld: lease lost before the outcome was recorded",
			(long long)c->id);
}

/* Run the handler for one claimed job and record the outcome. */
static void run_claimed(struct dg_jobs *j, struct dg_db *db, struct claim *c, const char *owner)
{
	struct dg_err err = {0};
	const struct kind *k = find_kind(c->kind);
	struct dg_job job = {.id = c->id,
			     .kind = c->kind,
			     .attempt = c->attempts,
			     .db = db,
			     .env = j->env,
			     .runner = j};
	snprintf(job.owner, sizeof(job.owner), "%s", owner);
	job.payload = json_loads(c->payload, 0, NULL);
	job.checkpoint = json_or_null(c->checkpoint);
	dg_rc rc;
	if (c->attempts > c->max_attempts) {
		rc = dg_err_set(&err, DG_EUNAVAIL, "gave up after %d attempts", c->max_attempts);
	} else if (!k) {
		rc = dg_err_set(&err, DG_EINVAL, "no handler for job kind %s", c->kind);
	} else if (!json_is_object(job.payload)) {
		rc = dg_err_set(&err, DG_EINVAL, "the payload is not a JSON object");
		c->attempts = c->max_attempts; /* retrying cannot help */
	} else {
		dg_info("jobs: job %lld (%s) attempt %d", (long long)c->id, c->kind, c->attempts);
		rc = k->fn(&job, &err);
		if (rc == DG_EINVAL)
			c->attempts = c->max_attempts; /* bad input stays bad: fail now */
	}
	/* a handler that returned inside its transaction: undo the half-done step (no-op otherwise)
	 */
	dg_db_rollback(db);
	if (rc != DG_OK)
		dg_warn("jobs: job %lld (%s) attempt %d: %s %s", (long long)c->id, c->kind,
			c->attempts, dg_rc_name(rc), err.msg);
	finish(j, db, c, owner, rc, err.msg[0] ? err.msg : dg_rc_name(rc));
	json_decref(job.payload);
	json_decref(job.checkpoint);
}

/* Claim and run at most one job; *ran tells whether there was one. */
static void run_one(struct dg_jobs *j, int *ran)
{
	struct dg_db *db = NULL;
	struct claim c = {0};
	char owner[33];
	*ran = 0;
	if (dg_db_get(j->store, &db) != DG_OK)
		return;
	dg_rand_hex(owner, 16);
	if (claim(db, owner, j->lease_ms, &c) == DG_OK) {
		*ran = 1;
		run_claimed(j, db, &c, owner);
	}
	claim_release(&c);
	dg_db_put(db);
}

/*
 * Queue each task whose period has begun, as a job keyed by its name and
 * period: every node of the region tries, the first insert wins, so a task
 * runs once per period however many nodes there are.
 */
static void queue_due_tasks(struct dg_jobs *j)
{
	if (!j->ntasks || pthread_mutex_trylock(&j->sched_mu) != 0)
		return;
	int64_t now = dg_now_ms();
	struct dg_db *db = NULL;
	for (size_t i = 0; i < j->ntasks; i++) {
		struct sched *t = &j->tasks[i];
		if (now < t->next_ms)
			continue;
		if (!db && dg_db_get(j->store, &db) != DG_OK)
			break;
		int64_t period = now / t->every_ms;
		char key[KIND_MAX + 32];
		snprintf(key, sizeof(key), "task:%s:%lld", t->name, (long long)period);
		json_t *payload = json_object();
		int64_t id = 0;
		dg_rc rc = dg_job_enqueue(db, t->name, payload, 0, key, &id);
		json_decref(payload);
		if (rc)
			dg_warn("jobs: task %s could not be queued: %s", t->name, dg_rc_name(rc));
		else
			t->next_ms = (period + 1) * t->every_ms;
	}
	dg_db_put(db);
	pthread_mutex_unlock(&j->sched_mu);
}

/*
 * The worker's loop. It claims before it queues the node's due tasks, so a
 * job waiting when the node starts is not kept behind their inserts. After
 * a wake-up that found nothing (an enqueue not yet committed) it looks again
 * at doubling delays up to RECHECK_MAX_MS (about half a second in all, nine
 * claims at most), then sleeps the poll interval.
 */
static void *worker(void *arg)
{
	struct dg_jobs *j = arg;
	unsigned recheck = 0; /* ms; 0: no wake-up for nothing pending */
	while (!atomic_load(&j->stopping)) {
		int ran = 0;
		uint64_t seen = kick_seen();
		run_one(j, &ran);
		queue_due_tasks(j);
		if (ran) {
			recheck = 0;
			continue;
		}
		if (wait_kick(j, recheck ? recheck : dg_jobs_poll_ms, seen))
			recheck = 1;
		else if (recheck)
			recheck = recheck < RECHECK_MAX_MS ? recheck * 2 : 0;
	}
	return NULL;
}

dg_rc dg_jobs_start(struct dg_store *store, struct dg_env *env, unsigned workers,
		    unsigned lease_sec, const struct dg_task *tasks, struct dg_jobs **out)
{
	*out = NULL;
	if (lease_sec < 1)
		return DG_EINVAL;
	struct dg_jobs *j = dg_xcalloc(1, sizeof(*j));
	j->store = store;
	j->env = env;
	j->lease_ms = (int64_t)lease_sec * 1000;
	atomic_init(&j->stopping, 0);
	pthread_mutex_init(&j->sched_mu, NULL);
	for (const struct dg_task *t = tasks; t && t->name; t++)
		j->ntasks++;
	j->tasks = dg_xcalloc(j->ntasks ? j->ntasks : 1, sizeof(*j->tasks));
	for (size_t i = 0; i < j->ntasks; i++) {
		snprintf(j->tasks[i].name, sizeof(j->tasks[i].name), "%s", tasks[i].name);
		j->tasks[i].every_ms =
			(int64_t)(tasks[i].every_sec ? tasks[i].every_sec : 1) * 1000;
	}
	j->threads = dg_xcalloc(workers ? workers : 1, sizeof(pthread_t));
	for (unsigned i = 0; i < workers; i++) {
		if (pthread_create(&j->threads[i], NULL, worker, j) != 0) {
			dg_error("jobs: cannot start worker %u", i);
			dg_jobs_stop(j);
			return DG_EINTERNAL;
		}
		j->nworkers++;
	}
	*out = j;
	return DG_OK;
}

void dg_jobs_stop(struct dg_jobs *j)
{
	if (!j)
		return;
	atomic_store(&j->stopping, 1);
	kick();
	for (unsigned i = 0; i < j->nworkers; i++)
		pthread_join(j->threads[i], NULL);
	free(j->threads);
	free(j->tasks);
	pthread_mutex_destroy(&j->sched_mu);
	free(j);
}
