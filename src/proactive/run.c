/*
 * run.c - matching runs: one policy's rules over the registries, as a
 * durable job.
 *
 * A run is queued by pr_run_start, which claims the policy's one running
 * slot (pr_policies.running_run) in the same transaction: a second run of a
 * policy is refused while one is under way. The job compiles the version in
 * force for the run's date, loads the data through one call (pr_load_data),
 * and answers every record of each rule's entity with the engine's own
 * explanation (rule/explain.h), so what is stored equals what `dgov rule
 * explain` gives for the same data and date. Answers are written in batches
 * under the run's id (first_run), with progress, and stand until a later
 * run closes them (sql.c, PR_AS_OF): a full run writes every answer and
 * closes the runs before's at its end; a keyed incremental run writes only
 * those it gives afresh and closes what they replace. The last transaction
 * marks the changes against the run before, records the counts and moves
 * the policy's current_run to this run. A run killed halfway therefore
 * leaves the last complete results shown (what it closed still stands in
 * that run); when a run of the policy starts again it undoes what the
 * unfinished one left (undo_unfinished) and starts its answers afresh.
 *
 * The data comes from the shared registries through the exchange's reader
 * for the rule engine, under the owning department's grants (pr_load_data);
 * a run without a grant fails with the exchange's reason and tells nobody.
 *
 * The scheduler: the job kind proactive.schedule runs every minute (a task
 * of the module) and queues each policy's daily run once its time of day
 * (pr_policies.schedule, "HH:MM" local time) has come.
 */
#include "proactive/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/failpoint.h"
#include "core/keys.h"
#include "core/log.h"
#include "core/mem.h"
#include "exchange/exchange.h"
#include "notify/notify.h"
#include "rule/rule.h"

#define BATCH        500 /* answers written per transaction */
#define MAX_ATTEMPTS 3
#define MAX_CONDS    64
#define RESEND_MS    (90LL * 86400 * 1000) /* a rule is not told to one account again within */
#define REACH_MAX    100000                /* messages one run sends at most */
#define WHY_MAX      1000                  /* bytes of the explanation in a message */
#define PEND_MAX     128                   /* fresh answers written together: one IN list of keys */
#define RES_COLS     13                    /* a pr_answers row's values as answer() writes them */
#define WHO_COLS     6                     /* a pr_answer_who row's */

/* A new run of policy code for ref (0: today) with the policy's one running slot, in db's
 * transaction; ECONFLICT while a run is under way, ENOTFOUND for no such policy. */
static dg_rc claim(struct dg_db *db, const char *code, dg_day ref, bool full, int64_t user_id,
		   int64_t *run, struct dg_err *err)
{
	int64_t pid = 0, version = 0, changed = 0;
	char day[11];
	if (!ref)
		ref = dg_day_today();
	dg_day_format(ref, day);
	dg_rc rc = pr_policy_id(db, code, &pid);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, rc, "proactive.err.no_policy");
	if (!rc)
		rc = dg_db_query_int(db, "SELECT version FROM pr_policies WHERE id = ?",
				     DG_ARGS(DG_VI(pid)), &version);
	if (!rc)
		rc = dg_db_query_int(
			db,
			"INSERT INTO pr_runs (policy_id, version, ref_date, state,"
			" created_by, created_ms, full_run) VALUES (?, ?, ?, 'queued', ?, ?,"
			" ?) RETURNING id",
			DG_ARGS(DG_VI(pid), DG_VI(version), DG_VT(day), DG_VI(user_id),
				DG_VI(dg_now_ms()), DG_VI(full)),
			run);
	/* the one running slot: free, or held by a run that ended (its job gave up) */
	if (!rc)
		rc = dg_db_exec(db,
				"UPDATE pr_policies SET running_run = ? WHERE id = ? AND"
				" (running_run = 0 OR running_run IN (SELECT r.id FROM pr_runs r"
				" LEFT JOIN jobs j ON j.id = r.job_id WHERE r.state IN"
				" ('done','failed') OR j.state = 'failed'))",
				DG_ARGS(DG_VI(*run), DG_VI(pid)), &changed);
	if (!rc && changed == 0)
		return dg_err_set(err, DG_ECONFLICT, "proactive.err.running");
	return rc ? dg_err_set(err, rc, "proactive.err.store") : DG_OK;
}

dg_rc pr_run_start(struct dg_db *db, const char *code, dg_day ref, bool full, int64_t user_id,
		   int64_t *run, int64_t *job, struct dg_err *err)
{
	dg_rc rc = dg_db_begin(db);
	if (rc)
		return dg_err_set(err, rc, "proactive.err.store");
	rc = claim(db, code, ref, full, user_id, run, err);
	json_t *payload = NULL;
	if (!rc) {
		payload = json_pack("{s:I}", "run", (json_int_t)*run);
		rc = dg_job_enqueue(db, "proactive.run", payload, user_id, NULL, job);
		json_decref(payload);
	}
	if (!rc)
		rc = dg_db_exec(db, "UPDATE pr_runs SET job_id = ? WHERE id = ?",
				DG_ARGS(DG_VI(*job), DG_VI(*run)), NULL);
	if (!rc)
		rc = dg_db_commit(db);
	if (rc) {
		if (!err->msg[0])
			dg_err_set(err, rc, "proactive.err.store");
		dg_db_rollback(db);
	}
	return rc;
}

/* An account tied to a record: by hand (pr_subjects), or as the agent of the enterprise. */
struct pr_tie {
	int ent;
	int64_t row;
	int64_t user;
};

/*
 * Fresh answers of one rule not yet written, and pr_who rows (of any rule):
 * flush() writes them a batch a statement, so a run costs a few round trips
 * per PEND_MAX answers instead of several per answer. Their strings live in
 * a, freed at each flush.
 */
struct pend {
	int ri;
	size_t n, nwho, capwho;
	struct dg_arena *a;
	struct dg_val res[PEND_MAX * RES_COLS]; /* the change (last column) set by flush() */
	bool eligible[PEND_MAX];
	int64_t amount[PEND_MAX]; /* -1 when none is known */
	struct dg_val *who;       /* WHO_COLS values a row */
};

struct run_ctx {
	struct dg_job *job;
	bool inline_tx; /* in the caller's transaction, with no job row (pr_run_inline) */
	int64_t run, policy, prev;
	char code[PR_CODE_MAX + 1];
	char dept[32];
	char *rule_text;
	dg_day ref;
	struct dg_program *p;
	struct dg_intern codes;
	struct dg_data *data;
	struct dg_code *cc;
	struct dg_arena *a;
	int64_t total, done;
	int64_t eligible, unknown, newly, gone, changed_amount, told;
	int64_t read_ms, answer_ms; /* how long reading the registries and answering took */
	/* incremental runs (incr.c): the registries' version read, and whether only the
	   records marked in dirty are answered afresh, the others carried from prev */
	bool full; /* every record answered afresh, as asked */
	bool incremental;
	int64_t reg_version, since, reread;
	int64_t kept; /* a keyed run's answers copied and still standing */
	bool recount; /* a keyed run counts its answers in the store (prev_counts) */
	uint8_t *dirty[DG_MAX_ENT];
	/* keyed (pr_load_data): only the records the changes reach were read, keys[e]
	   the IDs wanted; the others' answers are copied from prev in bulk */
	bool keyed;
	json_t *keys[DG_MAX_ENT];
	json_t *changes;     /* the change log pr_incr_keys read, for plan() */
	struct pr_tie *ties; /* sorted by entity and row */
	size_t nties;
	int district[DG_MAX_ENT]; /* each entity's district field (takeup.c), -1: none */
	struct pend *pend;
};

/*
 * The registries' records for a run or a what-if, in the engine's columns:
 * the one call that yields their data. Through the exchange, under the
 * owning department's bulk grants for the policy's purpose (its first
 * rule's id, as the grants name it) with use (the run or what-if) named in
 * every use; without a grant the read is refused (DG_EDENIED, nothing read).
 * With DGOV_PROACTIVE_DATA set, the CSV files of that folder instead (tests,
 * and trying a policy on an extract). *source says which.
 */
struct dg_data *pr_load_data(struct dg_job *job, const struct dg_program *p,
			     struct dg_intern *codes, const char *dept, const char *use,
			     const struct pr_keyed *keyed, char *source, size_t n,
			     struct dg_err *err)
{
	const char *dir = getenv("DGOV_PROACTIVE_DATA");
	if (dir && *dir) {
		struct stat st;
		snprintf(source, n, "csv");
		if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
			dg_err_set(err, DG_EINVAL,
				   "no registry data to read: the data folder is missing");
			return NULL;
		}
		return dg_data_load_csv(p->schema, codes, dir, err);
	}
	snprintf(source, n, "exchange");
	struct dg_exchange_reader *xr = NULL;
	if (dg_exchange_reader_open(job->env, job->db, p->schema, dept, p->rules[0].id, use, &xr,
				    err))
		return NULL;
	if (keyed && keyed->since > 0) {
		struct dg_err ke = {0};
		/* the failpoint proactive.incr.keys: the records cannot be found by key (as when
		   a link to follow backward is sealed), so the run reads them all */
		dg_rc kr = dg_failpoint_hit("proactive.incr.keys");
		if (kr)
			dg_err_set(&ke, kr, "the failpoint proactive.incr.keys");
		if (kr || pr_incr_keys(job->env, job->db, p, xr, keyed->since, keyed->keys,
				       keyed->read, &ke))
			dg_warn("proactive: %s reads every record: %s", use, ke.msg);
		else
			*keyed->on = true;
	}
	struct dg_data *d = dg_data_load(p->schema, codes, dg_exchange_reader_rule(xr), err);
	dg_exchange_reader_close(xr);
	return d;
}

static dg_rc load_run(struct run_ctx *c, struct dg_err *err)
{
	struct dg_db *db = c->job->db;
	char *s = NULL;
	int64_t version = 0;
	dg_rc rc = dg_db_query_int(db, "SELECT policy_id FROM pr_runs WHERE id = ?",
				   DG_ARGS(DG_VI(c->run)), &c->policy);
	if (!rc)
		rc = dg_db_query_int(db, "SELECT version FROM pr_runs WHERE id = ?",
				     DG_ARGS(DG_VI(c->run)), &version);
	int64_t full = 0;
	if (!rc)
		rc = dg_db_query_int(db, "SELECT full_run FROM pr_runs WHERE id = ?",
				     DG_ARGS(DG_VI(c->run)), &full);
	c->full = full != 0;
	if (!rc)
		rc = dg_db_query_text(db, "SELECT ref_date FROM pr_runs WHERE id = ?",
				      DG_ARGS(DG_VI(c->run)), c->a, &s);
	if (!rc && dg_day_parse(s, &c->ref))
		rc = DG_EINVAL;
	if (!rc)
		rc = dg_db_query_text(db, "SELECT code FROM pr_policies WHERE id = ?",
				      DG_ARGS(DG_VI(c->policy)), c->a, &s);
	if (!rc)
		snprintf(c->code, sizeof c->code, "%s", s);
	if (!rc)
		rc = dg_db_query_text(db, "SELECT dept FROM pr_policies WHERE id = ?",
				      DG_ARGS(DG_VI(c->policy)), c->a, &s);
	if (!rc)
		snprintf(c->dept, sizeof c->dept, "%s", s);
	if (!rc)
		rc = dg_db_query_int(db, "SELECT current_run FROM pr_policies WHERE id = ?",
				     DG_ARGS(DG_VI(c->policy)), &c->prev);
	if (!rc)
		rc = dg_db_query_text(db,
				      "SELECT rule_text FROM pr_versions WHERE policy_id = ?"
				      " AND version = ?",
				      DG_ARGS(DG_VI(c->policy), DG_VI(version)), c->a,
				      &c->rule_text);
	if (rc == DG_ENOTFOUND || rc == DG_EINVAL)
		return dg_err_set(err, DG_EINVAL, "run %lld: no such run or policy version",
				  (long long)c->run);
	return rc ? dg_err_set(err, rc, "the run could not be read") : DG_OK;
}

static dg_rc prev_since(struct run_ctx *c, int64_t *since, struct dg_err *err);
static dg_rc plan(struct run_ctx *c, int64_t since, struct dg_err *err);

static dg_rc prepare(struct run_ctx *c, char *source, size_t n, struct dg_err *err)
{
	c->p = pr_compile(c->job->env, c->code, c->rule_text, strlen(c->rule_text));
	if (c->p->diag.errors)
		return dg_err_set(err, DG_EINVAL, "the policy's rules do not compile");
	int64_t t0 = dg_mono_ms();
	char use[40];
	snprintf(use, sizeof use, "proactive-run-%lld", (long long)c->run);
	/* the registries' version before reading: a change made while they are read is
	   then re-read by the next run, never missed (0: unknown, the next run is full) */
	struct dg_err ve = {0};
	if (!c->job->env || dg_exchange_changes_since(c->job->env, c->job->db, c->p->schema, 0,
						      NULL, &c->reg_version, &ve))
		c->reg_version = 0;
	int64_t since = 0;
	dg_rc rc = prev_since(c, &since, err);
	if (rc)
		return rc;
	struct pr_keyed keyed = {
		.since = since, .on = &c->keyed, .keys = c->keys, .read = &c->changes};
	c->data = pr_load_data(c->job, c->p, &c->codes, c->dept, use, &keyed, source, n, err);
	c->read_ms = dg_mono_ms() - t0;
	if (strcmp(source, "exchange") != 0)
		c->reg_version = 0; /* a folder of CSV files has no change log */
	if (!c->data) {
		/* a refused grant, a registry that is not there: the run cannot succeed */
		char why[sizeof err->msg];
		snprintf(why, sizeof why, "%s",
			 err->msg[0] ? err->msg : "the registries could not be read");
		return dg_err_set(err, DG_EINVAL, "%s", why);
	}
	struct dg_rule_diag diag;
	dg_rule_diag_init(&diag);
	c->cc = dg_rule_compile(c->p, &c->codes, c->ref, NULL, 0, &diag);
	dg_rule_diag_release(&diag);
	if (!c->cc)
		return dg_err_set(err, DG_EINVAL, "the rules do not compile for the run's date");
	for (int i = 0; i < c->p->nrules; i++)
		c->total += c->data->t[c->p->rules[i].ent].n;
	for (int e = 0; e < c->p->schema->ne; e++)
		c->district[e] = pr_district_field(&c->p->schema->e[e]);
	return plan(c, since, err);
}

/*
 * Whether this run may answer afresh only the records changed since the run
 * before (incr.c), carrying the others' answers: not when a full run was
 * asked for, nor when the run before did not finish, did not read the
 * registries at a known version, was of another version of the policy (its
 * rules or parameters changed) or for another date (ages and periods move
 * with the date). *since gets the version the run before read (0: none).
 */
static dg_rc prev_since(struct run_ctx *c, int64_t *since, struct dg_err *err)
{
	*since = 0;
	if (c->full || !c->prev || !c->reg_version)
		return DG_OK;
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(c->job->db,
			       "SELECT b.reg_version FROM pr_runs b JOIN pr_runs r ON r.id = ?"
			       " WHERE b.id = ? AND b.state = 'done' AND b.source = 'exchange'"
			       " AND b.version = r.version AND b.ref_date = r.ref_date",
			       DG_ARGS(DG_VI(c->run), DG_VI(c->prev)), &rows);
	if (!rc)
		rc = dg_rows_next(rows);
	if (!rc)
		*since = dg_rows_int(rows, 0) > 0 ? dg_rows_int(rows, 0) : 0;
	dg_rows_free(rows);
	if (rc && rc != DG_ENOTFOUND)
		return dg_err_set(err, rc, "the run before could not be read");
	return DG_OK;
}

/*
 * An incremental run (prev_since found the version the run before read):
 * which of the records read must be answered afresh. A change log that
 * cannot be read makes the run full, or, when only some records were read,
 * fails it for its job to try again.
 */
static dg_rc plan(struct run_ctx *c, int64_t since, struct dg_err *err)
{
	if (!since || !c->reg_version)
		return DG_OK;
	struct dg_err e = {0};
	if (pr_incr_mark(c->job->env, c->job->db, c->p, c->data, since, c->changes, c->dirty, &e)) {
		dg_warn("proactive: run %lld answers every record afresh: %s", (long long)c->run,
			e.msg);
		pr_incr_free(c->dirty);
		if (c->keyed)
			return dg_err_set(err, DG_EUNAVAIL,
					  "the registries' changes could not be read");
		return DG_OK;
	}
	c->incremental = true;
	c->since = since;
	return DG_OK;
}

static int tie_cmp(const void *x, const void *y)
{
	const struct pr_tie *a = x, *b = y;
	if (a->ent != b->ent)
		return a->ent < b->ent ? -1 : 1;
	return a->row < b->row ? -1 : a->row > b->row;
}

/*
 * The accounts tied to the run's records other than by an ID number: by hand
 * in pr_subjects (entity and record ID), and the agents of an enterprise (the
 * account's USCC as the record's ID, in any entity). Read once per run, so
 * the answers can be stored under the records' blind indexes only.
 */
static dg_rc load_ties(struct run_ctx *c, struct dg_err *err)
{
	struct dg_rows *rows = NULL;
	size_t cap = 0;
	dg_rc rc = dg_db_query(c->job->db,
			       "SELECT user_id, ent, rid FROM pr_subjects UNION ALL SELECT id, '',"
			       " uscc FROM users WHERE uscc <> ''",
			       DG_NOARGS, &rows);
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		const char *ent = dg_rows_text(rows, 1), *id = dg_rows_text(rows, 2);
		for (int e = 0; e < c->p->schema->ne; e++) {
			if (*ent && strcmp(ent, c->p->schema->e[e].name) != 0)
				continue;
			int64_t row = dg_data_find(c->data, e, id, strlen(id));
			if (row < 0)
				continue;
			if (c->nties == cap) {
				cap = cap ? cap * 2 : 64;
				c->ties = dg_xrealloc(c->ties, cap * sizeof *c->ties);
			}
			c->ties[c->nties++] =
				(struct pr_tie){.ent = e, .row = row, .user = dg_rows_int(rows, 0)};
		}
	}
	dg_rows_free(rows);
	if (rc != DG_ENOTFOUND)
		return dg_err_set(err, rc, "the accounts tied to records could not be read");
	if (c->nties)
		qsort(c->ties, c->nties, sizeof *c->ties, tie_cmp);
	return DG_OK;
}

/* A pr_who row queued for flush(): subject (user the account tied) is what the answer
 * of rule ri stored under rid is about. */
static void who_add(struct run_ctx *c, int ri, const char *rid, const char *subject, int64_t user)
{
	struct pend *q = c->pend;
	if (q->nwho == q->capwho) {
		q->capwho = q->capwho ? q->capwho * 2 : 256;
		q->who = dg_xrealloc(q->who, q->capwho * WHO_COLS * sizeof *q->who);
	}
	struct dg_val *v = q->who + q->nwho++ * WHO_COLS;
	v[0] = DG_VT(subject);
	v[1] = DG_VI(c->run);
	v[2] = DG_VI(c->policy);
	v[3] = DG_VT(c->p->rules[ri].id);
	v[4] = DG_VT(rid);
	v[5] = DG_VI(user);
}

/* One pr_who row: the resident with ID number id is what the answer is about. */
static void who_one(struct run_ctx *c, int ri, const char *rid, const char *id)
{
	if (!dg_id_number_valid(id) || !c->job->env)
		return;
	who_add(c, ri, rid, dg_pii_index(&c->job->env->keys, c->pend->a, "id", id), 0);
}

/*
 * Who an answer (stored under rid, the record's blind index, in the pending
 * arena) is about: the record itself, the members of its groups, and the
 * accounts tied to it; queued for flush().
 */
static void who(struct run_ctx *c, int ri, int eid, int64_t row, const char *rid)
{
	const struct dg_entity *e = &c->p->schema->e[eid];
	const struct dg_table *t = &c->data->t[eid];
	who_one(c, ri, rid, dg_data_id(c->data, eid, row));
	for (int g = 0; g < e->ng; g++) {
		if (!t->goff[g])
			continue;
		for (int64_t k = t->goff[g][row]; k < t->goff[g][row + 1]; k++)
			who_one(c, ri, rid, dg_data_id(c->data, e->g[g].member_ent, t->grow[g][k]));
	}
	struct pr_tie key = {.ent = eid, .row = row};
	size_t lo = 0, hi = c->nties;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (tie_cmp(&c->ties[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < c->nties && !tie_cmp(&c->ties[i], &key); i++)
		who_add(c, ri, rid,
			dg_arena_printf(c->pend->a, "user:%lld", (long long)c->ties[i].user),
			c->ties[i].user);
}

/*
 * The SQL "head (?, ?, ...)" with PEND_MAX places for keys rids[0..n) (n
 * from 1 to PEND_MAX), into args from at on, the last repeated to fill the
 * list so the statement has one shape however many there are; in arena a.
 */
static const char *rids_sql(struct dg_arena *a, const char *head, const char *const *rids, size_t n,
			    struct dg_val *args, size_t at)
{
	struct dg_buf b;
	dg_buf_init(&b, 64 * 1024);
	dg_rc rc = dg_buf_adds(&b, head);
	for (size_t i = 0; !rc && i < PEND_MAX; i++) {
		args[at + i] = DG_VT(rids[i < n ? i : n - 1]);
		rc = dg_buf_adds(&b, i ? ", ?" : " (?");
	}
	if (!rc)
		rc = dg_buf_addc(&b, ')');
	const char *sql = rc ? NULL : dg_arena_strdup(a, dg_buf_str(&b));
	dg_buf_release(&b);
	return sql;
}

/* The pending answers' keys (their rids, borrowed) into rids[0..q->n). */
static void pend_rids(const struct pend *q, const char **rids)
{
	for (size_t i = 0; i < q->n; i++)
		rids[i] = q->res[i * RES_COLS + 4].s;
}

/* rids_sql for the pending answers' keys. */
static const char *keys_sql(struct pend *q, const char *head, struct dg_val *args, size_t at)
{
	const char *rids[PEND_MAX];
	pend_rids(q, rids);
	return rids_sql(q->a, head, rids, q->n, args, at);
}

/* The pending answer stored under rid (-1: none). */
static ssize_t pend_find(const struct pend *q, const char *rid)
{
	for (size_t i = 0; i < q->n; i++)
		if (!strcmp(q->res[i * RES_COLS + 4].s, rid))
			return (ssize_t)i;
	return -1;
}

/*
 * A keyed run: the answers of rule ri standing under rids[0..n) (n from 1 to
 * PEND_MAX) since the run before, and who they are about, closed (their last
 * run is the run before): one statement each for the batch. The run's counts
 * lose them; was[i] (may be NULL) is set when the answer to rids[i] was
 * ELIGIBLE. Statements and strings in arena a.
 */
static dg_rc drop_rids(struct run_ctx *c, struct dg_arena *a, int ri, const char *const *rids,
		       size_t n, bool *was)
{
	struct dg_val args[PEND_MAX + 4] = {DG_VI(c->prev), DG_VI(c->policy),
					    DG_VT(c->p->rules[ri].id), DG_VI(c->run)};
	const char *sql = rids_sql(a,
				   "UPDATE pr_answers SET last_run = ? WHERE policy_id = ? AND rule"
				   " = ? AND first_run < ? AND last_run IS NULL AND rid IN",
				   rids, n, args, 4);
	if (!sql)
		return DG_ETOOBIG;
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(c->job->db, dg_arena_printf(a, "%s RETURNING rid, outcome", sql),
			       args, PEND_MAX + 4, &rows);
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		const char *o = dg_rows_text(rows, 1);
		bool eligible = strcmp(o, "ELIGIBLE") == 0;
		c->eligible -= eligible;
		c->unknown -= strcmp(o, "UNKNOWN") == 0;
		c->kept--;
		for (size_t i = 0; was && eligible && i < n; i++)
			was[i] = was[i] || !strcmp(rids[i], dg_rows_text(rows, 0));
	}
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND)
		rc = DG_OK;
	if (!rc)
		rc = dg_db_exec(c->job->db,
				rids_sql(a,
					 "UPDATE pr_answer_who SET last_run = ? WHERE policy_id = ?"
					 " AND rule = ? AND first_run < ? AND last_run IS NULL AND"
					 " rid IN",
					 rids, n, args, 4),
				args, PEND_MAX + 4, NULL);
	return rc;
}

/* drop_rids for the pending answers' records: their fresh answers replace the old. */
static dg_rc drop_copies(struct run_ctx *c)
{
	struct pend *q = c->pend;
	const char *rids[PEND_MAX];
	pend_rids(q, rids);
	return drop_rids(c, q->a, q->ri, rids, q->n, NULL);
}

/*
 * A keyed run's differences for the pending answers, against the run
 * before's answers of the same records (one lookup for the batch, so
 * finish() need not compare every answer): new, gone, amount, or "".
 */
static dg_rc changes_of(struct run_ctx *c)
{
	struct pend *q = c->pend;
	bool was[PEND_MAX] = {false};
	int64_t before[PEND_MAX];
	for (size_t i = 0; i < q->n; i++)
		before[i] = -1;
	struct dg_val args[PEND_MAX + 2] = {DG_VI(c->prev), DG_VT(c->p->rules[q->ri].id)};
	const char *sql = keys_sql(q,
				   "SELECT rid, outcome, COALESCE(amount, -1) FROM pr_results"
				   " WHERE run_id = ? AND rule = ? AND rid IN",
				   args, 2);
	if (!sql)
		return DG_ETOOBIG;
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(c->job->db, sql, args, PEND_MAX + 2, &rows);
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		ssize_t i = pend_find(q, dg_rows_text(rows, 0));
		if (i < 0)
			continue;
		was[i] = strcmp(dg_rows_text(rows, 1), "ELIGIBLE") == 0;
		before[i] = dg_rows_int(rows, 2);
	}
	dg_rows_free(rows);
	if (rc != DG_ENOTFOUND)
		return rc;
	for (size_t i = 0; i < q->n; i++) {
		const char *change = "";
		if (q->eligible[i] && !was[i]) {
			change = "new";
			c->newly++;
		} else if (!q->eligible[i] && was[i]) {
			change = "gone";
			c->gone++;
		} else if (q->eligible[i] && before[i] != q->amount[i]) {
			change = "amount";
			c->changed_amount++;
		}
		q->res[i * RES_COLS + RES_COLS - 1] = DG_VT(change);
	}
	return DG_OK;
}

/*
 * The pending answers and pr_who rows written, a batch a statement; a keyed
 * run first drops their copies and marks their changes.
 */
static dg_rc flush(struct run_ctx *c)
{
	struct pend *q = c->pend;
	dg_rc rc = DG_OK;
	if (q->n && c->keyed)
		rc = drop_copies(c);
	if (!rc && q->n && c->keyed)
		rc = changes_of(c);
	if (!rc)
		rc = dg_db_exec_rows(
			c->job->db,
			"INSERT INTO pr_answers (first_run, policy_id, rule, ent, rid,"
			" rid_sealed, outcome, amount, blocking, missing, explain, district,"
			" change) VALUES ",
			NULL, RES_COLS, q->res, q->n, NULL);
	if (!rc)
		rc = dg_db_exec_rows(
			c->job->db,
			"INSERT INTO pr_answer_who (subject, first_run, policy_id, rule, rid,"
			" user_id) VALUES ",
			" ON CONFLICT DO NOTHING", WHO_COLS, q->who, q->nwho, NULL);
	q->n = q->nwho = 0;
	dg_arena_free(q->a);
	q->a = dg_arena_new();
	return rc;
}

/* One record's answer, from the engine's explanation of it. */
static dg_rc answer(struct run_ctx *c, int ri, int64_t row, struct dg_err *err)
{
	enum dg_outcome o;
	int64_t amount = 0;
	bool known = false;
	struct dg_explain_cond conds[MAX_CONDS];
	int nc = 0;
	if (!c->job->env)
		return dg_err_set(err, DG_EINTERNAL, "no keys to seal the answers with");
	dg_rc rc = dg_rule_explain_eval(c->cc, c->data, ri, row, &o, &amount, &known, conds,
					MAX_CONDS, &nc, err);
	if (rc)
		return rc;
	struct dg_buf ex;
	dg_buf_init(&ex, 1 << 20);
	rc = dg_rule_explain_json(c->cc, c->data, ri, row, &ex, err);
	json_t *j = rc ? NULL : json_loads(dg_buf_str(&ex), 0, NULL);
	dg_buf_release(&ex);
	if (!j)
		return rc ? rc : dg_err_set(err, DG_EINTERNAL, "an explanation is not JSON");
	json_t *blocking = json_object_get(j, "blocking");
	json_t *missing = json_object_get(j, "missing_inputs");
	char *bs = json_dumps(blocking ? blocking : json_array(), JSON_COMPACT);
	char *ms = json_dumps(missing ? missing : json_array(), JSON_COMPACT);
	char *es = json_dumps(j, JSON_COMPACT);
	int eid = c->p->rules[ri].ent;
	/* the record's ID and the values the answer was reached with are personal:
	   the ID kept as its blind index and sealed, the values sealed */
	const struct dg_keys *k = &c->job->env->keys;
	const char *id = dg_data_id(c->data, eid, row);
	struct pend *q = c->pend;
	/* one rule's answers to a batch: a keyed run looks up and drops them by rule */
	if (q->n == PEND_MAX || (q->n && q->ri != ri))
		rc = flush(c);
	struct dg_arena *a = q->a;
	const char *rid = dg_pii_index(k, a, "id", id);
	if (!rc) {
		const struct dg_val v[RES_COLS] = {
			DG_VI(c->run),
			DG_VI(c->policy),
			DG_VT(c->p->rules[ri].id),
			DG_VT(c->p->schema->e[eid].name),
			DG_VT(rid),
			DG_VT(dg_pii_seal(k, a, id)),
			DG_VT(dg_outcome_name(o)),
			o == DG_ELIGIBLE && known ? DG_VI(amount) : DG_VNULL,
			DG_VT(dg_pii_seal(k, a, bs)),
			DG_VT(dg_pii_seal(k, a, ms)),
			DG_VT(dg_pii_seal(k, a, es)),
			DG_VT(dg_arena_strdup(a,
					      pr_district_of(c->data, eid, c->district[eid], row))),
			DG_VT(""), /* a keyed run's change: flush() */
		};
		memcpy(q->res + q->n * RES_COLS, v, sizeof v);
		q->ri = ri;
		q->eligible[q->n] = o == DG_ELIGIBLE;
		q->amount[q->n] = o == DG_ELIGIBLE && known ? amount : -1;
		q->n++;
	}
	dg_wipe(bs, strlen(bs));
	dg_wipe(ms, strlen(ms));
	dg_wipe(es, strlen(es));
	free(bs);
	free(ms);
	free(es);
	json_decref(j);
	if (!rc)
		who(c, ri, eid, row, rid);
	if (o == DG_ELIGIBLE)
		c->eligible++;
	else if (o == DG_UNKNOWN)
		c->unknown++;
	return rc ? dg_err_set(err, rc, "an answer could not be written") : DG_OK;
}

/*
 * The answers the run before gave rule ri's records held[0..*n) (*n at most
 * PEND_MAX), carried into this run in one statement, each with who it is
 * about as the run now knows it; a record the run before has no answer for
 * is answered afresh. *n is then 0.
 */
static dg_rc carry(struct run_ctx *c, int ri, const int64_t *held, size_t *n, struct dg_err *err)
{
	if (*n == 0)
		return DG_OK;
	int eid = c->p->rules[ri].ent;
	struct dg_arena *a = dg_arena_new();
	const char *rids[PEND_MAX];
	bool carried[PEND_MAX] = {false};
	for (size_t i = 0; i < *n; i++)
		rids[i] = dg_pii_index(&c->job->env->keys, a, "id",
				       dg_data_id(c->data, eid, held[i]));
	struct dg_val args[PEND_MAX + 3] = {DG_VI(c->run), DG_VI(c->prev),
					    DG_VT(c->p->rules[ri].id)};
	const char *sql = rids_sql(
		a,
		"INSERT INTO pr_answers (first_run, policy_id, rule, ent, rid, rid_sealed,"
		" outcome, amount, blocking, missing, explain, district) SELECT ?, policy_id,"
		" rule, ent, rid, rid_sealed, outcome, amount, blocking, missing, explain,"
		" district FROM pr_results WHERE run_id = ? AND rule = ? AND outcome <>"
		" 'ABSENT' AND rid IN",
		rids, *n, args, 3);
	struct dg_rows *rows = NULL;
	dg_rc rc =
		sql ? dg_db_query(c->job->db, dg_arena_printf(a, "%s RETURNING rid, outcome", sql),
				  args, PEND_MAX + 3, &rows)
		    : DG_ETOOBIG;
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		const char *o = dg_rows_text(rows, 1);
		c->eligible += strcmp(o, "ELIGIBLE") == 0;
		c->unknown += strcmp(o, "UNKNOWN") == 0;
		for (size_t i = 0; i < *n; i++)
			carried[i] = carried[i] || !strcmp(rids[i], dg_rows_text(rows, 0));
	}
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND)
		rc = DG_OK;
	if (rc)
		rc = dg_err_set(err, rc, "the answers could not be carried forward");
	/* who() keeps the rid until the next flush: a copy in the pending arena */
	for (size_t i = 0; !rc && i < *n; i++) {
		if (carried[i]) {
			who(c, ri, eid, held[i], dg_arena_strdup(c->pend->a, rids[i]));
			continue;
		}
		rc = answer(c, ri, held[i], err);
		c->reread++;
	}
	dg_arena_free(a);
	*n = 0;
	return rc;
}

/*
 * A keyed run's counts to begin with: the run before's own (its answers
 * stand in this run until replaced), so they need not be counted again;
 * drop_rids and answer() then keep them. A run before without them makes
 * the run count its answers in the store when they are written (recount).
 */
static dg_rc prev_counts(struct run_ctx *c)
{
	char *s = NULL;
	struct dg_arena *a = dg_arena_new();
	dg_rc rc = dg_db_query_text(c->job->db, "SELECT counts FROM pr_runs WHERE id = ?",
				    DG_ARGS(DG_VI(c->prev)), a, &s);
	json_t *j = rc ? NULL : json_loads(s, 0, NULL);
	json_t *n = json_object_get(j, "answers");
	c->recount = !json_is_integer(n);
	c->kept = json_integer_value(n);
	c->eligible = json_integer_value(json_object_get(j, "eligible"));
	c->unknown = json_integer_value(json_object_get(j, "unknown"));
	json_decref(j);
	dg_arena_free(a);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

/*
 * A keyed run, once its answers are written: the accounts tied to records by
 * hand or as agents tied afresh, as they are now, to the answers standing in
 * this run: the ties of the runs before closed, each tie's answers (one
 * lookup a tie and rule) tied again under this run. Statements a tie, not a
 * record: the answers themselves stand where unchanged.
 */
static dg_rc retie(struct run_ctx *c)
{
	struct dg_db *db = c->job->db;
	dg_rc rc = dg_db_exec(db,
			      "UPDATE pr_answer_who SET last_run = ? WHERE subject >= 'user:' AND"
			      " subject < 'user;' AND policy_id = ? AND first_run < ? AND"
			      " last_run IS NULL",
			      DG_ARGS(DG_VI(c->prev), DG_VI(c->policy), DG_VI(c->run)), NULL);
	struct dg_rows *rows = NULL;
	json_t *ties = json_array();
	if (!rc)
		rc = dg_db_query(db,
				 "SELECT user_id, ent, rid FROM pr_subjects UNION ALL SELECT id,"
				 " '', uscc FROM users WHERE uscc <> ''",
				 DG_NOARGS, &rows);
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK)
		json_array_append_new(ties,
				      json_pack("[Iss]", (json_int_t)dg_rows_int(rows, 0),
						dg_rows_text(rows, 1), dg_rows_text(rows, 2)));
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND)
		rc = DG_OK;
	size_t i;
	json_t *t;
	json_array_foreach (ties, i, t) {
		struct dg_arena *a = dg_arena_new();
		int64_t user = json_integer_value(json_array_get(t, 0));
		const char *ent = json_string_value(json_array_get(t, 1));
		const char *rid = dg_pii_index(&c->job->env->keys, a, "id",
					       json_string_value(json_array_get(t, 2)));
		const char *subject = dg_arena_printf(a, "user:%lld", (long long)user);
		for (int ri = 0; !rc && ri < c->p->nrules; ri++)
			rc = dg_db_exec(
				db,
				"INSERT INTO pr_answer_who (subject, first_run, policy_id, rule,"
				" rid, user_id) SELECT ?, run_id, policy_id, rule, rid, ? FROM"
				" pr_results WHERE run_id = ? AND rule = ? AND rid = ? AND outcome"
				" <> 'ABSENT' AND (? = '' OR ent = ?) ON CONFLICT DO NOTHING",
				DG_ARGS(DG_VT(subject), DG_VI(user), DG_VI(c->run),
					DG_VT(c->p->rules[ri].id), DG_VT(rid), DG_VT(ent),
					DG_VT(ent)),
				NULL);
		dg_arena_free(a);
		if (rc)
			break;
	}
	json_decref(ties);
	return rc;
}

/*
 * Rule ri's records wanted that the registries no longer hold (rids[0..n),
 * n from 1 to PEND_MAX): their answers closed, and those eligible before
 * given an ABSENT, gone answer that stands in this run only (as finish()
 * marks a full run's); a few statements for the batch.
 */
static dg_rc drop_gone_rids(struct run_ctx *c, struct dg_arena *a, int ri, const char *const *rids,
			    size_t n)
{
	bool was[PEND_MAX] = {false};
	const char *gone[PEND_MAX];
	size_t ng = 0;
	dg_rc rc = drop_rids(c, a, ri, rids, n, was);
	for (size_t i = 0; i < n; i++)
		if (was[i])
			gone[ng++] = rids[i];
	if (rc || ng == 0)
		return rc;
	struct dg_val args[PEND_MAX + 4] = {DG_VI(c->run), DG_VI(c->run), DG_VI(c->prev),
					    DG_VT(c->p->rules[ri].id)};
	const char *sql = rids_sql(a,
				   "INSERT INTO pr_answers (first_run, last_run, policy_id, rule,"
				   " ent, rid, rid_sealed, outcome, change) SELECT ?, ?, policy_id,"
				   " rule, ent, rid, rid_sealed, 'ABSENT', 'gone' FROM pr_results"
				   " WHERE run_id = ? AND rule = ? AND rid IN",
				   gone, ng, args, 4);
	if (!sql)
		return DG_ETOOBIG;
	c->gone += (int64_t)ng;
	return dg_db_exec(c->job->db, sql, args, PEND_MAX + 4, NULL);
}

/*
 * The records wanted that the registries no longer hold: no answer in this
 * run, and one eligible before is kept as ABSENT, gone; PEND_MAX records a
 * batch (drop_gone_rids).
 */
static dg_rc drop_gone(struct run_ctx *c)
{
	dg_rc rc = DG_OK;
	const char *rids[PEND_MAX];
	for (int ri = 0; !rc && ri < c->p->nrules; ri++) {
		int e = c->p->rules[ri].ent;
		struct dg_arena *a = dg_arena_new();
		size_t n = 0;
		const char *id;
		json_t *v;
		json_object_foreach (c->keys[e], id, v) {
			if (dg_data_find(c->data, e, id, strlen(id)) >= 0)
				continue;
			rids[n++] = dg_pii_index(&c->job->env->keys, a, "id", id);
			if (n < PEND_MAX)
				continue;
			rc = drop_gone_rids(c, a, ri, rids, n);
			n = 0;
			dg_arena_free(a);
			a = dg_arena_new();
			if (rc)
				break;
		}
		if (!rc && n)
			rc = drop_gone_rids(c, a, ri, rids, n);
		dg_arena_free(a);
	}
	return rc;
}

/* A keyed run's counts, from its answers, when the run before's could not serve. */
static dg_rc recount(struct run_ctx *c)
{
	dg_rc rc = dg_db_query_int(c->job->db,
				   "SELECT COUNT(*) FROM pr_results WHERE run_id = ? AND"
				   " outcome <> 'ABSENT'",
				   DG_ARGS(DG_VI(c->run)), &c->done);
	if (!rc)
		rc = dg_db_query_int(c->job->db,
				     "SELECT COUNT(*) FROM pr_results WHERE run_id = ? AND"
				     " outcome = 'ELIGIBLE'",
				     DG_ARGS(DG_VI(c->run)), &c->eligible);
	if (!rc)
		rc = dg_db_query_int(c->job->db,
				     "SELECT COUNT(*) FROM pr_results WHERE run_id = ? AND"
				     " outcome = 'UNKNOWN'",
				     DG_ARGS(DG_VI(c->run)), &c->unknown);
	c->total = c->done;
	return rc;
}

/*
 * What runs of the policy after the shown one (c->prev) left, killed or
 * failed halfway, this one included when its job is claimed again, undone:
 * the rows they wrote dropped, the rows they closed standing again. ABSENT
 * answers are written closed (they stand in their own run only) and stay so.
 */
static dg_rc undo_unfinished(struct run_ctx *c)
{
	struct dg_db *db = c->job->db;
	static const char *const sql[] = {
		"DELETE FROM pr_answers WHERE first_run IN (SELECT id FROM pr_runs WHERE"
		" policy_id = ? AND id > ?)",
		"DELETE FROM pr_answer_who WHERE first_run IN (SELECT id FROM pr_runs WHERE"
		" policy_id = ? AND id > ?)",
		"UPDATE pr_answers SET last_run = NULL WHERE policy_id = ? AND last_run >= ?"
		" AND outcome <> 'ABSENT'",
		"UPDATE pr_answer_who SET last_run = NULL WHERE policy_id = ? AND last_run >= ?",
	};
	dg_rc rc = DG_OK;
	for (size_t i = 0; !rc && i < sizeof sql / sizeof *sql; i++)
		rc = dg_db_exec(db, sql[i], DG_ARGS(DG_VI(c->policy), DG_VI(c->prev)), NULL);
	return rc;
}

/* Every rule's records, BATCH answers to a transaction, with progress. */
static dg_rc answer_all(struct run_ctx *c, struct dg_err *err)
{
	struct dg_db *db = c->job->db;
	c->pend = dg_xcalloc(1, sizeof *c->pend);
	c->pend->a = dg_arena_new();
	dg_rc rc = c->inline_tx ? DG_OK : dg_db_begin(db);
	if (!rc)
		rc = undo_unfinished(c);
	if (!rc)
		rc = dg_db_exec(db, "UPDATE pr_runs SET state = 'running' WHERE id = ?",
				DG_ARGS(DG_VI(c->run)), NULL);
	if (!rc && c->keyed)
		rc = prev_counts(c);
	if (!rc && c->keyed)
		rc = drop_gone(c);
	/* a run that read every record carries the unchanged answers PEND_MAX a statement */
	int64_t held[PEND_MAX];
	size_t nheld = 0;
	for (int ri = 0; !rc && ri < c->p->nrules; ri++) {
		int64_t n = c->data->t[c->p->rules[ri].ent].n;
		int ent = c->p->rules[ri].ent;
		for (int64_t row = 0; !rc && row < n; row++) {
			bool fresh = true;
			if (c->keyed && !c->dirty[ent][row])
				fresh = false; /* its answer stands (a fresh one closes it: flush)
						*/
			else if (!c->keyed && c->incremental && !c->dirty[ent][row]) {
				held[nheld++] = row;
				fresh = false;
				if (nheld == PEND_MAX)
					rc = carry(c, ri, held, &nheld, err);
			}
			if (!rc && fresh) {
				rc = answer(c, ri, row, err);
				c->reread++;
			}
			if (rc)
				break;
			if (++c->done % BATCH || c->inline_tx)
				continue;
			rc = carry(c, ri, held, &nheld, err);
			if (!rc)
				rc = flush(c);
			if (!rc)
				rc = dg_job_save(c->job, c->done, c->total, NULL);
			if (!rc)
				rc = dg_db_commit(db);
			if (!rc)
				rc = dg_db_begin(db);
			if (!rc && dg_job_stopping(c->job))
				rc = dg_err_set(err, DG_EUNAVAIL, "the node is stopping");
		}
		if (!rc) /* one rule's records a statement */
			rc = carry(c, ri, held, &nheld, err);
	}
	if (!rc)
		rc = flush(c);
	if (!rc && c->keyed)
		rc = retie(c);
	if (!rc && c->keyed && c->recount)
		rc = recount(c);
	else if (c->keyed)
		c->done = c->total = c->kept + c->reread;
	if (rc) {
		if (!c->inline_tx)
			dg_db_rollback(db);
		return err->msg[0] ? rc : dg_err_set(err, rc, "the answers could not be written");
	}
	return DG_OK; /* the transaction stays open for finish() */
}

/* The engine's sentence for one answer in lang: its first line, at most WHY_MAX bytes. */
static char *why(struct run_ctx *c, int ri, int64_t row, const char *lang)
{
	struct dg_buf b;
	struct dg_err e = {0};
	dg_buf_init(&b, 64 * 1024);
	char *out = NULL;
	if (!dg_rule_explain_text(c->cc, c->data, ri, row, lang, &b, &e)) {
		const char *t = dg_buf_str(&b);
		size_t n = strcspn(t, "\n");
		while (n > WHY_MAX) /* back to the start of a character */
			for (n = WHY_MAX; n > 0 && ((unsigned char)t[n] & 0xC0) == 0x80; n--)
				;
		out = dg_arena_printf(c->a, "%.*s", (int)n, t);
	}
	dg_buf_release(&b);
	return out ? out : dg_arena_strdup(c->a, "");
}

/* pr_answer_who w: who answer x is about, as x's own run stands */
#define WHO_AT_X                                                                                   \
	"pr_answer_who w ON w.policy_id = x.policy_id AND w.rule = x.rule AND w.rid = x.rid "      \
	"AND" PR_AS_OF("w", "x.first_run")

/*
 * Reaching people, in finish()'s transaction: each account tied to a record
 * newly eligible in this run, that has not opted out of the policy (or of
 * all) and was not told of the rule within RESEND_MS, gets a message in its
 * inbox (and the webhook) in its own language, with the engine's sentence
 * and a link to the item's application (or to /my/benefits when the policy
 * names no item). A run that fails sends nothing: the messages are written
 * in the transaction that switches its results in.
 */
static dg_rc reach(struct run_ctx *c, struct dg_err *err)
{
	struct dg_db *db = c->job->db;
	struct dg_rows *rows = NULL;
	char *item = NULL;
	int64_t now = dg_now_ms();
	json_t *todo = json_array();
	dg_rc rc = dg_db_query_text(db, "SELECT item FROM pr_policies WHERE id = ?",
				    DG_ARGS(DG_VI(c->policy)), c->a, &item);
	if (!rc)
		rc = dg_db_query(
			db,
			/* the answers this run wrote (its changes are theirs), and who
			   they are about as the run stands */
			"SELECT t.rule, t.rid_sealed, t.user_id FROM (SELECT x.rule, x.rid,"
			" x.rid_sealed, w.user_id FROM pr_answers x JOIN " WHO_AT_X " WHERE"
			" x.first_run = ? AND x.change = 'new' AND w.user_id <> 0 UNION SELECT"
			" x.rule, x.rid, x.rid_sealed, u.id FROM pr_answers x JOIN " WHO_AT_X
			" JOIN users u ON u.id_number_index = w.subject WHERE x.first_run = ? AND"
			" x.change = 'new' AND u.id_number_index <> '') t WHERE NOT EXISTS (SELECT "
			"1 FROM"
			" pr_optouts o WHERE o.user_id = t.user_id AND o.policy_id IN (0, ?)) AND"
			" NOT EXISTS (SELECT 1 FROM pr_sent p WHERE p.user_id = t.user_id AND"
			" p.policy_id = ? AND p.rule = t.rule AND p.sent_ms > ?)"
			" ORDER BY t.user_id, t.rule, t.rid",
			DG_ARGS(DG_VI(c->run), DG_VI(c->run), DG_VI(c->policy), DG_VI(c->policy),
				DG_VI(now - RESEND_MS)),
			&rows);
	/* read them all first: the messages are written on the same connection */
	while (!rc && json_array_size(todo) < REACH_MAX && (rc = dg_rows_next(rows)) == DG_OK)
		json_array_append_new(todo,
				      json_pack("{s:s,s:s,s:I}", "rule", dg_rows_text(rows, 0),
						"rid", dg_rows_text(rows, 1), "user",
						(json_int_t)dg_rows_int(rows, 2)));
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND)
		rc = DG_OK;
	const char *link =
		item && *item ? dg_arena_printf(c->a, "/services/%s/apply", item) : "/my/benefits";
	size_t i;
	json_t *t;
	json_array_foreach (todo, i, t) {
		if (rc)
			break;
		const char *rule = json_string_value(json_object_get(t, "rule"));
		char *rid = NULL;
		if (dg_pii_open(&c->job->env->keys, c->a,
				json_string_value(json_object_get(t, "rid")), &rid) != DG_OK)
			continue;
		int64_t user = json_integer_value(json_object_get(t, "user"));
		/* one message per account and rule, however many of its records matched */
		if (i > 0 &&
		    json_integer_value(json_object_get(json_array_get(todo, i - 1), "user")) ==
			    user &&
		    !strcmp(json_string_value(json_object_get(json_array_get(todo, i - 1), "rule")),
			    rule))
			continue;
		int ri = dg_rule_find(c->p, rule);
		int ent = ri < 0 ? -1 : c->p->rules[ri].ent;
		int64_t row = ent < 0 ? -1 : dg_data_find(c->data, ent, rid, strlen(rid));
		if (row < 0)
			continue;
		json_t *params = json_pack("{s:s,s:s,s:s,s:s}", "policy", c->p->rules[ri].name_zh,
					   "policy_en", c->p->rules[ri].name_en, "why",
					   why(c, ri, row, "zh"), "why_en", why(c, ri, row, "en"));
		rc = dg_notify(db, user, "policy.eligible", params, link, err);
		json_decref(params);
		if (!rc)
			rc = dg_db_exec(
				db,
				"DELETE FROM pr_sent WHERE user_id = ? AND policy_id = ? AND"
				" rule = ?",
				DG_ARGS(DG_VI(user), DG_VI(c->policy), DG_VT(rule)), NULL);
		if (!rc)
			rc = dg_db_exec(
				db,
				"INSERT INTO pr_sent (user_id, policy_id, rule, sent_ms)"
				" VALUES (?, ?, ?, ?)",
				DG_ARGS(DG_VI(user), DG_VI(c->policy), DG_VT(rule), DG_VI(now)),
				NULL);
		if (!rc)
			c->told++;
	}
	json_decref(todo);
	return rc ? dg_err_set(err, rc, "the newly eligible could not be told") : DG_OK;
}

/*
 * The changes against the run before, compared set-wise over every answer,
 * and the answers of the runs before closed: for a run that wrote every
 * record's answer (answered or carried). A keyed run marks its changes and
 * closes what it replaces as it answers (changes_of, drop_rids, drop_gone),
 * since the answers it did not write stand unchanged.
 */
static dg_rc marks(struct run_ctx *c)
{
	struct dg_db *db = c->job->db;
	int64_t n = 0;
	dg_rc rc = dg_db_exec(
		db,
		"UPDATE pr_answers SET change = 'new' WHERE first_run = ? AND outcome ="
		" 'ELIGIBLE' AND NOT EXISTS (SELECT 1 FROM pr_results o WHERE o.run_id = ? AND"
		" o.rule = pr_answers.rule AND o.rid = pr_answers.rid AND o.outcome ="
		" 'ELIGIBLE')",
		DG_ARGS(DG_VI(c->run), DG_VI(c->prev)), &c->newly);
	if (!rc)
		rc = dg_db_exec(db,
				"UPDATE pr_answers SET change = 'gone' WHERE first_run = ? AND"
				" outcome <> 'ELIGIBLE' AND EXISTS (SELECT 1 FROM pr_results o"
				" WHERE o.run_id = ? AND o.rule = pr_answers.rule AND o.rid ="
				" pr_answers.rid AND o.outcome = 'ELIGIBLE')",
				DG_ARGS(DG_VI(c->run), DG_VI(c->prev)), &c->gone);
	/* a record gone from the registry between the runs is no longer matched: an
	   answer that stands in this run only */
	if (!rc)
		rc = dg_db_exec(
			db,
			"INSERT INTO pr_answers (first_run, last_run, policy_id, rule, ent, rid,"
			" rid_sealed, outcome, change) SELECT ?, ?, o.policy_id, o.rule, o.ent,"
			" o.rid, o.rid_sealed, 'ABSENT', 'gone' FROM pr_results o WHERE o.run_id"
			" = ? AND o.outcome = 'ELIGIBLE' AND NOT EXISTS (SELECT 1 FROM pr_answers"
			" x WHERE x.first_run = ? AND x.rule = o.rule AND x.rid = o.rid)",
			DG_ARGS(DG_VI(c->run), DG_VI(c->run), DG_VI(c->prev), DG_VI(c->run)), &n);
	c->gone += rc ? 0 : n;
	if (!rc)
		rc = dg_db_exec(db,
				"UPDATE pr_answers SET change = 'amount' WHERE first_run = ? AND"
				" outcome = 'ELIGIBLE' AND EXISTS (SELECT 1 FROM pr_results o WHERE"
				" o.run_id = ? AND o.rule = pr_answers.rule AND o.rid ="
				" pr_answers.rid AND o.outcome = 'ELIGIBLE' AND COALESCE(o.amount,"
				" -1) <> COALESCE(pr_answers.amount, -1))",
				DG_ARGS(DG_VI(c->run), DG_VI(c->prev)), &c->changed_amount);
	/* this run wrote every answer: the runs before's stand no longer */
	if (!rc)
		rc = dg_db_exec(db,
				"UPDATE pr_answers SET last_run = ? WHERE policy_id = ? AND"
				" last_run IS NULL AND first_run < ?",
				DG_ARGS(DG_VI(c->prev), DG_VI(c->policy), DG_VI(c->run)), NULL);
	if (!rc)
		rc = dg_db_exec(db,
				"UPDATE pr_answer_who SET last_run = ? WHERE policy_id = ? AND"
				" last_run IS NULL AND first_run < ?",
				DG_ARGS(DG_VI(c->prev), DG_VI(c->policy), DG_VI(c->run)), NULL);
	return rc;
}

/* In the transaction answer_all left open: the changes, the counts, the switch. */
static dg_rc finish(struct run_ctx *c, const char *source, struct dg_err *err)
{
	struct dg_db *db = c->job->db;
	dg_rc rc = c->keyed ? DG_OK : marks(c);
	/* nobody newly eligible: nobody to tell (and no answer of the run to look through) */
	if (!rc && c->newly > 0)
		rc = reach(c, err);
	if (!rc && pr_takeup_record(db, c->run, c->policy))
		rc = dg_err_set(err, DG_EDB, "the run's take-up could not be counted");
	json_t *counts = json_pack(
		"{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s,s:I,s:I}", "answers", (json_int_t)c->done,
		"eligible", (json_int_t)c->eligible, "unknown", (json_int_t)c->unknown,
		"newly_eligible", (json_int_t)c->newly, "no_longer_eligible", (json_int_t)c->gone,
		"amount_changed", (json_int_t)c->changed_amount, "told", (json_int_t)c->told,
		"read_ms", (json_int_t)c->read_ms, "answer_ms", (json_int_t)c->answer_ms, "mode",
		c->incremental ? "incremental" : "full", "reread", (json_int_t)c->reread, "since",
		(json_int_t)c->since);
	char *cs = json_dumps(counts, JSON_COMPACT);
	if (!rc)
		rc = dg_db_exec(db,
				"UPDATE pr_runs SET state = 'done', source = ?, counts = ?,"
				" finished_ms = ?, reg_version = ? WHERE id = ?",
				DG_ARGS(DG_VT(source), DG_VT(cs), DG_VI(dg_now_ms()),
					DG_VI(c->reg_version), DG_VI(c->run)),
				NULL);
	free(cs);
	if (!rc)
		rc = dg_db_exec(
			db, "UPDATE pr_policies SET current_run = ?, running_run = 0 WHERE id = ?",
			DG_ARGS(DG_VI(c->run), DG_VI(c->policy)), NULL);
	/* answers are kept for the shown run and the one before it (what the next run's
	   differences need): a row that stands in neither goes; older runs keep their
	   counts */
	if (!rc)
		rc = dg_db_exec(db, "DELETE FROM pr_answers WHERE policy_id = ? AND last_run < ?",
				DG_ARGS(DG_VI(c->policy), DG_VI(c->prev)), NULL);
	if (!rc)
		rc = dg_db_exec(db,
				"DELETE FROM pr_answer_who WHERE policy_id = ? AND last_run < ?",
				DG_ARGS(DG_VI(c->policy), DG_VI(c->prev)), NULL);
	if (!rc && !c->inline_tx)
		rc = dg_job_save(c->job, c->done, c->total, NULL);
	if (!rc && !c->inline_tx)
		rc = dg_job_result(c->job, counts);
	json_decref(counts);
	if (c->inline_tx)
		return rc ? dg_err_set(err, rc, "the run's results could not be switched in")
			  : DG_OK;
	if (!rc)
		rc = dg_db_commit(db);
	if (rc) {
		dg_db_rollback(db);
		return err->msg[0]
			       ? rc
			       : dg_err_set(err, rc, "the run's results could not be switched in");
	}
	return DG_OK;
}

/* A run that will not succeed: say why on the run and free the policy's slot. */
static void fail_run(struct dg_db *db, int64_t run, const char *why)
{
	dg_rc rc = dg_db_exec(db,
			      "UPDATE pr_runs SET state = 'failed', error = ?, finished_ms = ?"
			      " WHERE id = ?",
			      DG_ARGS(DG_VT(why), DG_VI(dg_now_ms()), DG_VI(run)), NULL);
	if (!rc)
		rc = dg_db_exec(db, "UPDATE pr_policies SET running_run = 0 WHERE running_run = ?",
				DG_ARGS(DG_VI(run)), NULL);
	if (rc)
		dg_warn("proactive: run %lld could not be marked failed", (long long)run);
}

/* The run's work, from compiling its rules to switching its results in. */
static dg_rc run_exec(struct dg_job *job, int64_t run, bool inline_tx, struct dg_err *err)
{
	struct run_ctx c = {.job = job, .inline_tx = inline_tx, .run = run};
	char source[64] = "";
	c.a = dg_arena_new();
	dg_intern_init(&c.codes);
	dg_rc rc = load_run(&c, err);
	if (!rc)
		rc = prepare(&c, source, sizeof source, err);
	if (!rc)
		rc = load_ties(&c, err);
	if (!rc && !inline_tx)
		rc = dg_job_save(job, 0, c.total, NULL);
	if (!rc) {
		int64_t t0 = dg_mono_ms();
		rc = answer_all(&c, err);
		c.answer_ms = dg_mono_ms() - t0;
	}
	if (!rc)
		rc = finish(&c, source, err);
	if (!inline_tx && rc && rc != DG_EUNAVAIL &&
	    (rc == DG_EINVAL || job->attempt >= MAX_ATTEMPTS)) {
		fail_run(job->db, c.run, err->msg);
		rc = DG_EINVAL;
	}
	dg_code_free(c.cc);
	dg_data_free(c.data);
	pr_incr_free(c.dirty);
	for (int e = 0; e < DG_MAX_ENT; e++)
		json_decref(c.keys[e]);
	json_decref(c.changes);
	free(c.ties);
	if (c.pend) {
		dg_arena_free(c.pend->a);
		free(c.pend->who);
		free(c.pend);
	}
	dg_intern_release(&c.codes);
	if (c.p)
		dg_program_free(c.p);
	dg_arena_free(c.a);
	return rc;
}

dg_rc pr_run_job(struct dg_job *job, struct dg_err *err)
{
	return run_exec(job, json_integer_value(json_object_get(job->payload, "run")), false, err);
}

dg_rc pr_run_inline(struct dg_env *env, struct dg_db *db, const char *code, dg_day ref,
		    int64_t user, int64_t *run, struct dg_err *err)
{
	if (!dg_db_in_tx(db))
		return dg_err_set(err, DG_EINVAL, "a run inline needs the caller's transaction");
	dg_rc rc = claim(db, code, ref, false, user, run, err);
	json_t *payload = json_pack("{s:I}", "run", (json_int_t)*run);
	struct dg_job job = {
		.kind = "proactive.run", .payload = payload, .attempt = 1, .db = db, .env = env};
	if (!rc)
		rc = run_exec(&job, *run, true, err);
	json_decref(payload);
	return rc;
}

dg_rc pr_schedule_job(struct dg_job *job, struct dg_err *err)
{
	time_t now = time(NULL);
	struct tm tm;
	char hm[6], day[11];
	localtime_r(&now, &tm);
	strftime(hm, sizeof hm, "%H:%M", &tm);
	dg_day_format(dg_day_today(), day);
	struct dg_rows *rows = NULL;
	struct dg_arena *a = dg_arena_new();
	char *codes[256];
	int n = 0;
	dg_rc rc = dg_db_query(job->db,
			       "SELECT code FROM pr_policies WHERE schedule <> '' AND schedule <= ?"
			       " AND last_scheduled <> ? ORDER BY id",
			       DG_ARGS(DG_VT(hm), DG_VT(day)), &rows);
	while (!rc && n < 256 && (rc = dg_rows_next(rows)) == DG_OK)
		codes[n++] = dg_arena_strdup(a, dg_rows_text(rows, 0));
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND)
		rc = DG_OK;
	for (int i = 0; !rc && i < n; i++) {
		int64_t run = 0, jid = 0;
		struct dg_err e = {0};
		dg_rc r = pr_run_start(job->db, codes[i], 0, false, 0, &run, &jid, &e);
		if (r && r != DG_ECONFLICT)
			dg_warn("proactive: the daily run of %s could not be queued", codes[i]);
		rc = dg_db_exec(job->db, "UPDATE pr_policies SET last_scheduled = ? WHERE code = ?",
				DG_ARGS(DG_VT(day), DG_VT(codes[i])), NULL);
	}
	dg_arena_free(a);
	return rc ? dg_err_set(err, rc, "the daily runs could not be queued") : DG_OK;
}
