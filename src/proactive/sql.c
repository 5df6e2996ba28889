/*
 * sql.c - the proactive services' tables.
 *
 * pr_policies is one row per policy: its code (the rule file's stem), the
 * owning department, the catalogue item one applies through, the mode, the
 * daily time its run is queued at (empty: on demand only), the version in
 * force, the run whose results are shown (current_run: switched in the one
 * transaction that finishes a run, so a run killed halfway leaves the last
 * complete results visible) and the run under way (running_run: at most one
 * per policy). pr_versions keeps every published version's rule text and
 * tests. pr_runs is one row per matching run; pr_results its answers, one
 * per record and rule: the record's ID as its blind index (rid, what every
 * lookup and the difference between runs use) and sealed (rid_sealed,
 * opened only where it is shown), the outcome, the amount in fen, the
 * blocking and unknown conditions and the engine's explanation (sealed: they
 * carry the values used, names, birth dates, incomes; core/keys.h), and the
 * change against the run before (new, gone, amount, or empty). pr_subjects
 * ties an account to records by hand (entity and record ID), read by each
 * run. pr_sent is when each account was last told of each rule (not again
 * within a period); pr_optouts the policies an account does not want to
 * hear about (policy_id 0: none at all). pr_who says who an answer is
 * about: residents by the blind index of their ID number (the record's own
 * ID when it is a resident ID number, and its group members', a
 * household's), so an account finds its answers, and is told of them,
 * without an ID number kept in clear for the lookup; and the accounts tied
 * to the record otherwise (user_id, with subject "user:<id>"): by
 * pr_subjects, or as the agent of the enterprise whose USCC is the record's
 * ID, as they were when the run was made. pr_versions.names keeps each
 * rule's names in Chinese and English for the public page.
 *
 * Since proactive-008-intervals the answers and who they are about are the
 * tables pr_answers and pr_answer_who, each row standing from the run that
 * wrote it (first_run) to the last run it stands in (last_run, NULL while
 * it stands: internal.h, PR_AS_OF), so a run writes only what it changes;
 * pr_results and pr_who are views giving each run's (run_id) answers, what
 * the text above describes.
 *
 * pr_batches is one 免申即享 grant batch (grant.c): made from a policy's
 * shown run, for the month of its date (period); proposed by one member of
 * the owning department's staff and approved by another; issued in the
 * approval's transaction (draft, proposed, issued; superseded when a newer
 * batch of the policy replaces one not yet issued). pr_grants is one line
 * of a batch: the record's blind index and its sealed ID (as in
 * pr_results), the rule, the amount in fen, what changed since the batch
 * before (new, unchanged, gone: no longer eligible, never granted), whether
 * the proposal selected it, its state (listed, granted, declined, revoked),
 * the payee's name sealed (read from the person registry when issued), and
 * the reason and who and when for a decline or a revocation.
 *
 * Take-up (takeup.c): pr_results.district and pr_grants.district are the
 * district code of the record an answer or a grant line is about (its
 * region field; empty when it has none). pr_takeup is written by each run
 * as it finishes, one row per district: the records that qualified, how
 * many of them had an account told of the rule, and how many had an
 * account that applied through the policy's item. Counts only; they stay
 * when the run's answers are dropped, so take-up can be drawn over time.
 *
 * pr_whatifs is one what-if (whatif.c): the policy's version, the date, the
 * parameters changed (sets: "NAME=VALUE" strings) and the sweep asked for,
 * its job and state, and its answer sealed (it lists people).
 */
#include "proactive/internal.h"

dg_rc pr_policy_id(struct dg_db *db, const char *code, int64_t *id)
{
	return dg_db_query_int(db, "SELECT id FROM pr_policies WHERE code = ?",
			       DG_ARGS(DG_VT(code ? code : "")), id);
}

dg_rc pr_policy_dept(struct dg_db *db, const char *code, struct dg_arena *a, char **dept)
{
	return dg_db_query_text(db, "SELECT dept FROM pr_policies WHERE code = ?",
				DG_ARGS(DG_VT(code ? code : "")), a, dept);
}

/* A run's answers and who they are about, under its id (proactive-008-intervals). */
/* clang-format cannot lay out string literals joined by a macro: */
/* clang-format off */
#define VIEWS                                                                                      \
	"CREATE VIEW pr_results AS SELECT r.id AS run_id, x.policy_id, x.first_run, x.last_run,"   \
	" x.rule, x.ent, x.rid, x.rid_sealed, x.outcome, x.amount, x.blocking, x.missing,"         \
	" x.explain, CASE WHEN x.first_run = r.id THEN x.change ELSE '' END AS change,"            \
	" x.district FROM pr_runs r JOIN pr_answers x ON x.policy_id = r.policy_id AND"            \
	PR_AS_OF("x", "r.id")                                                                      \
	" WHERE r.state IN ('running', 'done');"                                                   \
	"CREATE VIEW pr_who AS SELECT r.id AS run_id, w.policy_id, w.first_run, w.last_run,"       \
	" w.subject, w.rule, w.rid, w.user_id FROM pr_runs r JOIN pr_answer_who w ON"              \
	" w.policy_id = r.policy_id AND"                                                           \
	PR_AS_OF("w", "r.id")                                                                      \
	" WHERE r.state IN ('running', 'done');"
/* clang-format on */

const struct dg_migration pr_migrations[] = {
	{"proactive-001-policies",
	 "CREATE TABLE pr_policies ("
	 " id {{pk}},"
	 " code TEXT NOT NULL UNIQUE,"
	 " dept TEXT NOT NULL,"
	 " item TEXT NOT NULL DEFAULT '',"
	 " mode TEXT NOT NULL CHECK (mode IN ('notify','apply','grant')),"
	 " schedule TEXT NOT NULL DEFAULT '',"
	 " last_scheduled TEXT NOT NULL DEFAULT '',"
	 " version BIGINT NOT NULL DEFAULT 0,"
	 " current_run BIGINT NOT NULL DEFAULT 0,"
	 " running_run BIGINT NOT NULL DEFAULT 0,"
	 " created_ms BIGINT NOT NULL);"
	 "CREATE TABLE pr_versions ("
	 " policy_id BIGINT NOT NULL REFERENCES pr_policies(id),"
	 " version BIGINT NOT NULL,"
	 " rule_text TEXT NOT NULL,"
	 " tests_text TEXT NOT NULL,"
	 " effective TEXT NOT NULL,"
	 " rules TEXT NOT NULL,"
	 " tests_passed BIGINT NOT NULL,"
	 " published_by BIGINT NOT NULL DEFAULT 0,"
	 " published_ms BIGINT NOT NULL,"
	 " PRIMARY KEY (policy_id, version));"
	 "CREATE TABLE pr_runs ("
	 " id {{pk}},"
	 " policy_id BIGINT NOT NULL REFERENCES pr_policies(id),"
	 " version BIGINT NOT NULL,"
	 " job_id BIGINT NOT NULL DEFAULT 0,"
	 " ref_date TEXT NOT NULL,"
	 " state TEXT NOT NULL CHECK (state IN ('queued','running','done','failed')),"
	 " source TEXT NOT NULL DEFAULT '',"
	 " error TEXT NOT NULL DEFAULT '',"
	 " counts TEXT NOT NULL DEFAULT '{}',"
	 " created_by BIGINT NOT NULL DEFAULT 0,"
	 " created_ms BIGINT NOT NULL,"
	 " finished_ms BIGINT NOT NULL DEFAULT 0);"
	 "CREATE INDEX pr_runs_policy ON pr_runs(policy_id, id);"
	 "CREATE TABLE pr_results ("
	 " run_id BIGINT NOT NULL,"
	 " rule TEXT NOT NULL,"
	 " ent TEXT NOT NULL,"
	 " rid TEXT NOT NULL,"
	 " outcome TEXT NOT NULL,"
	 " amount BIGINT,"
	 " blocking TEXT NOT NULL DEFAULT '[]',"
	 " missing TEXT NOT NULL DEFAULT '[]',"
	 " explain TEXT NOT NULL DEFAULT '{}',"
	 " change TEXT NOT NULL DEFAULT '',"
	 " PRIMARY KEY (run_id, rule, rid));"
	 "CREATE INDEX pr_results_rid ON pr_results(rid, run_id);"
	 "CREATE TABLE pr_subjects ("
	 " user_id BIGINT NOT NULL,"
	 " ent TEXT NOT NULL,"
	 " rid TEXT NOT NULL,"
	 " PRIMARY KEY (user_id, ent, rid));"},
	{"proactive-002-reach",
	 "CREATE TABLE pr_sent ("
	 " user_id BIGINT NOT NULL,"
	 " policy_id BIGINT NOT NULL,"
	 " rule TEXT NOT NULL,"
	 " sent_ms BIGINT NOT NULL,"
	 " PRIMARY KEY (user_id, policy_id, rule));"
	 "CREATE TABLE pr_optouts ("
	 " user_id BIGINT NOT NULL,"
	 " policy_id BIGINT NOT NULL,"
	 " created_ms BIGINT NOT NULL,"
	 " PRIMARY KEY (user_id, policy_id));"
	 "CREATE TABLE pr_who ("
	 " subject TEXT NOT NULL,"
	 " run_id BIGINT NOT NULL,"
	 " rule TEXT NOT NULL,"
	 " rid TEXT NOT NULL,"
	 " PRIMARY KEY (subject, run_id, rule, rid));"
	 "CREATE INDEX pr_who_run ON pr_who(run_id, rule, rid);"
	 "ALTER TABLE pr_versions ADD COLUMN names TEXT NOT NULL DEFAULT '[]';"},
	/* answers written before they were sealed are dropped, not converted:
	   each policy shows none until its next run recomputes them */
	{"proactive-003-sealed",
	 "DELETE FROM pr_who;"
	 "DELETE FROM pr_results;"
	 "UPDATE pr_policies SET current_run = 0;"
	 "ALTER TABLE pr_results ADD COLUMN rid_sealed TEXT NOT NULL DEFAULT '';"
	 "ALTER TABLE pr_who ADD COLUMN user_id BIGINT NOT NULL DEFAULT 0;"},
	{"proactive-004-grants",
	 "CREATE TABLE pr_batches ("
	 " id {{pk}},"
	 " policy_id BIGINT NOT NULL REFERENCES pr_policies(id),"
	 " run_id BIGINT NOT NULL,"
	 " prev_batch BIGINT NOT NULL DEFAULT 0,"
	 " period TEXT NOT NULL,"
	 " state TEXT NOT NULL CHECK (state IN ('draft','proposed','issued','superseded')),"
	 " created_by BIGINT NOT NULL,"
	 " created_ms BIGINT NOT NULL,"
	 " proposed_by BIGINT NOT NULL DEFAULT 0,"
	 " proposed_ms BIGINT NOT NULL DEFAULT 0,"
	 " approved_by BIGINT NOT NULL DEFAULT 0,"
	 " approved_ms BIGINT NOT NULL DEFAULT 0);"
	 "CREATE INDEX pr_batches_policy ON pr_batches(policy_id, id);"
	 "CREATE TABLE pr_grants ("
	 " batch_id BIGINT NOT NULL REFERENCES pr_batches(id),"
	 " line BIGINT NOT NULL,"
	 " rule TEXT NOT NULL,"
	 " rid TEXT NOT NULL,"
	 " rid_sealed TEXT NOT NULL,"
	 " amount BIGINT,"
	 " change TEXT NOT NULL CHECK (change IN ('new','unchanged','gone')),"
	 " selected BIGINT NOT NULL DEFAULT 0,"
	 " state TEXT NOT NULL DEFAULT 'listed'"
	 "  CHECK (state IN ('listed','granted','declined','revoked')),"
	 " name_sealed TEXT NOT NULL DEFAULT '',"
	 " reason TEXT NOT NULL DEFAULT '',"
	 " ended_by BIGINT NOT NULL DEFAULT 0,"
	 " ended_ms BIGINT NOT NULL DEFAULT 0,"
	 " PRIMARY KEY (batch_id, line));"
	 "CREATE INDEX pr_grants_rid ON pr_grants(rid, state);"},
	{"proactive-005-takeup",
	 "ALTER TABLE pr_results ADD COLUMN district TEXT NOT NULL DEFAULT '';"
	 "ALTER TABLE pr_grants ADD COLUMN district TEXT NOT NULL DEFAULT '';"
	 "CREATE TABLE pr_takeup ("
	 " run_id BIGINT NOT NULL,"
	 " district TEXT NOT NULL,"
	 " eligible BIGINT NOT NULL,"
	 " notified BIGINT NOT NULL,"
	 " applied BIGINT NOT NULL,"
	 " PRIMARY KEY (run_id, district));"},
	{"proactive-006-whatif",
	 "CREATE TABLE pr_whatifs ("
	 " id {{pk}},"
	 " policy_id BIGINT NOT NULL REFERENCES pr_policies(id),"
	 " version BIGINT NOT NULL,"
	 " ref_date TEXT NOT NULL,"
	 " sets TEXT NOT NULL DEFAULT '[]',"
	 " sweep TEXT NOT NULL DEFAULT '',"
	 " state TEXT NOT NULL CHECK (state IN ('queued','running','done','failed')),"
	 " job_id BIGINT NOT NULL DEFAULT 0,"
	 " result TEXT NOT NULL DEFAULT '',"
	 " error TEXT NOT NULL DEFAULT '',"
	 " created_by BIGINT NOT NULL DEFAULT 0,"
	 " created_ms BIGINT NOT NULL,"
	 " finished_ms BIGINT NOT NULL DEFAULT 0);"
	 "CREATE INDEX pr_whatifs_policy ON pr_whatifs(policy_id, id);"},
	/* incremental runs: a full run asked for, and the registries' version a run read */
	{"proactive-007-incremental",
	 "ALTER TABLE pr_runs ADD COLUMN full_run BIGINT NOT NULL DEFAULT 0;"
	 "ALTER TABLE pr_runs ADD COLUMN reg_version BIGINT NOT NULL DEFAULT 0;"},
	/* a run's answers held from the run that wrote them to the last they stand in
	   (internal.h, PR_AS_OF): the tables renamed, the old names kept as the views
	   every reader goes through (a queued or failed run has no answers); the shown
	   run's rows stand, older ones closed */
	{"proactive-008-intervals",
	 "ALTER TABLE pr_results RENAME TO pr_answers;"
	 "ALTER TABLE pr_answers RENAME COLUMN run_id TO first_run;"
	 "ALTER TABLE pr_answers ADD COLUMN policy_id BIGINT NOT NULL DEFAULT 0;"
	 "ALTER TABLE pr_answers ADD COLUMN last_run BIGINT;"
	 "UPDATE pr_answers SET policy_id = COALESCE((SELECT r.policy_id FROM pr_runs r"
	 " WHERE r.id = pr_answers.first_run), 0);"
	 "UPDATE pr_answers SET last_run = first_run WHERE outcome = 'ABSENT' OR first_run"
	 " NOT IN (SELECT current_run FROM pr_policies);"
	 "DROP INDEX pr_results_rid;"
	 "CREATE INDEX pr_answers_key ON pr_answers(policy_id, rule, rid);"
	 "CREATE INDEX pr_answers_end ON pr_answers(policy_id, last_run);"
	 "ALTER TABLE pr_who RENAME TO pr_answer_who;"
	 "ALTER TABLE pr_answer_who RENAME COLUMN run_id TO first_run;"
	 "ALTER TABLE pr_answer_who ADD COLUMN policy_id BIGINT NOT NULL DEFAULT 0;"
	 "ALTER TABLE pr_answer_who ADD COLUMN last_run BIGINT;"
	 "UPDATE pr_answer_who SET policy_id = COALESCE((SELECT r.policy_id FROM pr_runs r"
	 " WHERE r.id = pr_answer_who.first_run), 0);"
	 "UPDATE pr_answer_who SET last_run = first_run WHERE first_run NOT IN (SELECT"
	 " current_run FROM pr_policies);"
	 "DROP INDEX pr_who_run;"
	 "CREATE INDEX pr_answer_who_key ON pr_answer_who(policy_id, rule, rid);"
	 "CREATE INDEX pr_answer_who_end ON pr_answer_who(policy_id, last_run);" VIEWS},
	{NULL, NULL},
};
