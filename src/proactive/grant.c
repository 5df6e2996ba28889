/*
 * grant.c - 免申即享 grants: a policy in mode grant pays its benefit
 * without an application, but never without two members of the owning
 * department's staff.
 *
 * A batch is made from the policy's shown run (pr_batch_make): one line per
 * record the run found eligible and not granted already (nor declined) by
 * an earlier batch, with the amount and what changed since the batch
 * before: new, unchanged, or gone (listed before, not eligible now; shown,
 * never granted). Making a batch supersedes one of the policy not yet
 * issued. One member of staff proposes it, every line or some
 * (pr_batch_propose); another approves it (pr_batch_approve: the proposer
 * is refused), and the approval issues every selected line in its one
 * transaction: the benefit written as paid for the batch's month in the
 * benefits registry through the exchange (its change log, the audit log
 * and the resident's data-use page), the payee's name kept sealed for the
 * payment file, and each account of the person told in its own language.
 * A crash or a fault before the commit (the failpoint proactive.grant.line,
 * after each line) leaves the batch proposed and nothing granted;
 * the approval's first statement moves the batch out of proposed, so two
 * approvals never both issue it.
 *
 * A granted line may be declined by the person or revoked by staff with a
 * reason (pr_grant_end): the benefit's month is written as stopped, the
 * line keeps who and why, and both are audited. The payment instruction
 * file (pr_batch_csv) lists an issued batch's lines still granted.
 */
#include "proactive/internal.h"

#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "core/csv.h"
#include "core/failpoint.h"
#include "core/keys.h"
#include "exchange/exchange.h"
#include "notify/notify.h"
#include "rule/rule.h"

#define TELL_MAX 16 /* accounts told of one line at most */

/* The benefits registry of policy pid's version in force, after checking every rule
 * of it can be recorded there: for the registry's entity, and a benefit of it. */
static dg_rc benefits_registry(struct dg_env *env, struct dg_db *db, struct dg_arena *a,
			       int64_t pid, const char **registry, struct dg_err *err)
{
	char *code = NULL, *text = NULL;
	dg_rc rc = dg_db_query_text(db, "SELECT code FROM pr_policies WHERE id = ?",
				    DG_ARGS(DG_VI(pid)), a, &code);
	if (!rc)
		rc = dg_db_query_text(db,
				      "SELECT v.rule_text FROM pr_versions v JOIN pr_policies p"
				      " ON p.id = v.policy_id AND p.version = v.version WHERE"
				      " p.id = ?",
				      DG_ARGS(DG_VI(pid)), a, &text);
	if (rc)
		return dg_err_set(err, rc, "proactive.err.store");
	struct dg_program *p = pr_compile(env, code, text, strlen(text));
	rc = p->diag.errors || !p->schema->benefits_registry ? DG_EINVAL : DG_OK;
	for (int i = 0; !rc && i < p->nrules; i++)
		if (p->rules[i].ent != p->schema->benefits_entity ||
		    !dg_exchange_field_exists(p->schema->benefits_registry, p->rules[i].id))
			rc = DG_EINVAL;
	if (!rc)
		*registry = dg_arena_strdup(a, p->schema->benefits_registry);
	dg_program_free(p);
	return rc ? dg_err_set(err, rc, "proactive.err.not_recordable") : DG_OK;
}

dg_rc pr_batch_make(struct dg_env *env, struct dg_db *db, const char *code, int64_t user,
		    int64_t *batch, struct dg_err *err)
{
	struct dg_arena *a = dg_arena_new();
	char *mode = NULL, *ref = NULL, *state = NULL;
	const char *registry = NULL;
	int64_t pid = 0, run = 0, prev = 0, n = 0;
	/* inside the demo's one transaction, or a transaction of its own */
	bool own = !dg_db_in_tx(db);
	dg_rc rc = own ? dg_db_begin(db) : DG_OK;
	if (rc) {
		dg_arena_free(a);
		return dg_err_set(err, rc, "proactive.err.store");
	}
	rc = pr_policy_id(db, code, &pid);
	if (rc == DG_ENOTFOUND) {
		dg_err_set(err, rc, "proactive.err.no_policy");
		goto out;
	}
	if (!rc)
		rc = dg_db_query_text(db, "SELECT mode FROM pr_policies WHERE id = ?",
				      DG_ARGS(DG_VI(pid)), a, &mode);
	if (!rc && strcmp(mode, "grant") != 0) {
		rc = dg_err_set(err, DG_EINVAL, "proactive.err.not_grant");
		goto out;
	}
	if (!rc)
		rc = dg_db_query_int(db, "SELECT current_run FROM pr_policies WHERE id = ?",
				     DG_ARGS(DG_VI(pid)), &run);
	if (!rc && run)
		rc = dg_db_query_text(db, "SELECT state FROM pr_runs WHERE id = ?",
				      DG_ARGS(DG_VI(run)), a, &state);
	if (!rc && (!run || strcmp(state, "done") != 0)) {
		rc = dg_err_set(err, DG_EINVAL, "proactive.err.no_results");
		goto out;
	}
	if (!rc && (rc = benefits_registry(env, db, a, pid, &registry, err)) != DG_OK)
		goto out;
	rc = dg_db_query_text(db, "SELECT ref_date FROM pr_runs WHERE id = ?", DG_ARGS(DG_VI(run)),
			      a, &ref);
	/* the batch before: the latest not superseded (0 for the first) */
	if (!rc)
		rc = dg_db_query_int(
			db,
			"SELECT COALESCE(MAX(id), 0) FROM pr_batches WHERE policy_id = ?"
			" AND state <> 'superseded'",
			DG_ARGS(DG_VI(pid)), &prev);
	if (!rc)
		rc = dg_db_exec(db,
				"UPDATE pr_batches SET state = 'superseded' WHERE policy_id = ? AND"
				" state IN ('draft','proposed')",
				DG_ARGS(DG_VI(pid)), NULL);
	if (!rc)
		rc = dg_db_query_int(
			db,
			"INSERT INTO pr_batches (policy_id, run_id, prev_batch, period, state,"
			" created_by, created_ms) VALUES (?, ?, ?, ?, 'draft', ?, ?) RETURNING id",
			DG_ARGS(DG_VI(pid), DG_VI(run), DG_VI(prev),
				DG_VT(dg_arena_printf(a, "%.7s", ref)), DG_VI(user),
				DG_VI(dg_now_ms())),
			batch);
	/* the eligible not granted nor declined by an earlier batch; line numbers follow
	   rule and blind index, an order that tells nothing about the person */
	if (!rc)
		rc = dg_db_exec(
			db,
			"INSERT INTO pr_grants (batch_id, line, rule, rid, rid_sealed, amount,"
			" district, change) SELECT ?, ROW_NUMBER() OVER (ORDER BY x.rule, x.rid),"
			" x.rule, x.rid, x.rid_sealed, x.amount, x.district, CASE WHEN EXISTS "
			"(SELECT 1 FROM pr_grants "
			"o"
			" WHERE o.batch_id = ? AND o.rule = x.rule AND o.rid = x.rid AND o.change"
			" <> 'gone') THEN 'unchanged' ELSE 'new' END FROM pr_results x WHERE"
			" x.run_id = ? AND x.outcome = 'ELIGIBLE' AND NOT EXISTS (SELECT 1 FROM"
			" pr_grants g JOIN pr_batches b ON b.id = g.batch_id WHERE b.policy_id = ?"
			" AND g.rule = x.rule AND g.rid = x.rid AND g.state IN"
			" ('granted','declined'))",
			DG_ARGS(DG_VI(*batch), DG_VI(prev), DG_VI(run), DG_VI(pid)), &n);
	/* listed before and not granted, not eligible now: shown as gone */
	if (!rc)
		rc = dg_db_exec(db,
				"INSERT INTO pr_grants (batch_id, line, rule, rid, rid_sealed,"
				" district, change) SELECT ?, ? + ROW_NUMBER() OVER (ORDER BY"
				" o.rule, o.rid), o.rule, o.rid, o.rid_sealed, o.district, 'gone' "
				"FROM pr_grants o WHERE"
				" o.batch_id = ? AND o.change <> 'gone' AND o.state = 'listed' AND"
				" NOT EXISTS (SELECT 1 FROM pr_grants g WHERE g.batch_id = ? AND"
				" g.rule = o.rule AND g.rid = o.rid)",
				DG_ARGS(DG_VI(*batch), DG_VI(n), DG_VI(prev), DG_VI(*batch)), NULL);
	if (!rc && own)
		rc = dg_db_commit(db);
	if (rc)
		dg_err_set(err, rc, "proactive.err.store");
out:
	if (rc && own)
		dg_db_rollback(db);
	dg_arena_free(a);
	return rc;
}

dg_rc pr_batch_propose(struct dg_db *db, int64_t batch, int64_t user, json_t *lines,
		       struct dg_err *err)
{
	int64_t n = 0, changed = 0;
	bool all = json_is_string(lines) && strcmp(json_string_value(lines), "all") == 0;
	if (!all && (!json_is_array(lines) || json_array_size(lines) == 0))
		return dg_err_field(err, DG_EINVAL, "lines", "proactive.err.no_lines");
	/* inside the demo's one transaction, or a transaction of its own */
	bool own = !dg_db_in_tx(db);
	dg_rc rc = own ? dg_db_begin(db) : DG_OK;
	if (rc)
		return dg_err_set(err, rc, "proactive.err.store");
	rc = dg_db_exec(db,
			"UPDATE pr_batches SET state = 'proposed', proposed_by = ?, proposed_ms = ?"
			" WHERE id = ? AND state = 'draft'",
			DG_ARGS(DG_VI(user), DG_VI(dg_now_ms()), DG_VI(batch)), &changed);
	if (!rc && changed != 1) {
		rc = dg_err_set(err, DG_ECONFLICT, "proactive.err.not_draft");
		goto out;
	}
	if (!rc && all)
		rc = dg_db_exec(db,
				"UPDATE pr_grants SET selected = 1 WHERE batch_id = ? AND change"
				" <> 'gone'",
				DG_ARGS(DG_VI(batch)), &n);
	size_t i;
	json_t *v;
	json_array_foreach (all ? NULL : lines, i, v) {
		if (rc)
			break;
		/* each a line of the batch that can be granted, once */
		if (!json_is_integer(v)) {
			rc = DG_EINVAL;
			break;
		}
		rc = dg_db_exec(db,
				"UPDATE pr_grants SET selected = 1 WHERE batch_id = ? AND line = ?"
				" AND change <> 'gone' AND selected = 0",
				DG_ARGS(DG_VI(batch), DG_VI(json_integer_value(v))), &changed);
		if (!rc && changed != 1)
			rc = DG_EINVAL;
		n += changed;
	}
	if (rc == DG_EINVAL || (!rc && n == 0)) {
		rc = dg_err_field(err, DG_EINVAL, "lines", "proactive.err.lines");
		goto out;
	}
	if (!rc && own)
		rc = dg_db_commit(db);
	if (rc)
		dg_err_set(err, rc, "proactive.err.store");
out:
	if (rc && own)
		dg_db_rollback(db);
	return rc;
}

/* The rule's name in zh and en from the version's names ([{id, zh, en}]). */
static void rule_names(struct dg_db *db, struct dg_arena *a, int64_t pid, const char *rule,
		       const char **zh, const char **en)
{
	char *names = NULL;
	*zh = *en = rule;
	if (dg_db_query_text(db,
			     "SELECT v.names FROM pr_versions v JOIN pr_policies p ON p.id ="
			     " v.policy_id AND p.version = v.version WHERE p.id = ?",
			     DG_ARGS(DG_VI(pid)), a, &names) != DG_OK)
		return;
	json_t *l = json_loads(names, 0, NULL);
	size_t i;
	json_t *o;
	json_array_foreach (l, i, o) {
		const char *id = json_string_value(json_object_get(o, "id"));
		if (!id || strcmp(id, rule) != 0)
			continue;
		const char *z = json_string_value(json_object_get(o, "zh"));
		const char *e = json_string_value(json_object_get(o, "en"));
		*zh = dg_arena_strdup(a, z ? z : rule);
		*en = dg_arena_strdup(a, e ? e : rule);
	}
	json_decref(l);
}

/* Fen as yuan with two decimals (arena). */
static const char *yuan_text(struct dg_arena *a, int64_t fen)
{
	int64_t v = fen < 0 ? -fen : fen;
	return dg_arena_printf(a, "%s%lld.%02lld", fen < 0 ? "-" : "", (long long)(v / 100),
			       (long long)(v % 100));
}

/*
 * Tell the accounts of a granted line (the person by their ID number's blind
 * index, and the accounts the run tied to the record) with message kind in
 * their own language; params are the message's. Read first, then written:
 * both go through the one connection.
 */
static dg_rc tell(struct dg_db *db, int64_t run, const char *rule, const char *rid,
		  const char *kind, json_t *params, struct dg_err *err)
{
	struct dg_rows *rows = NULL;
	int64_t users[TELL_MAX];
	size_t n = 0;
	dg_rc rc = dg_db_query(db,
			       "SELECT id FROM users WHERE id_number_index = ? AND"
			       " id_number_index <> '' UNION SELECT user_id FROM pr_who WHERE"
			       " run_id = ? AND rule = ? AND rid = ? AND user_id <> 0 ORDER BY 1",
			       DG_ARGS(DG_VT(rid), DG_VI(run), DG_VT(rule), DG_VT(rid)), &rows);
	while (!rc && n < TELL_MAX && (rc = dg_rows_next(rows)) == DG_OK)
		users[n++] = dg_rows_int(rows, 0);
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND)
		rc = DG_OK;
	for (size_t i = 0; !rc && i < n; i++)
		rc = dg_notify(db, users[i], kind, params, "/my/benefits#receive", err);
	return rc;
}

struct line {
	int64_t line, amount;
	bool has_amount;
	char *rule, *rid, *sealed;
};

/* The selected lines of a batch still listed (arena). */
static dg_rc selected_lines(struct dg_db *db, struct dg_arena *a, int64_t batch, struct line **out,
			    size_t *n)
{
	struct dg_rows *rows = NULL;
	int64_t count = 0;
	dg_rc rc = dg_db_query_int(db,
				   "SELECT COUNT(*) FROM pr_grants WHERE batch_id = ? AND"
				   " selected = 1 AND state = 'listed'",
				   DG_ARGS(DG_VI(batch)), &count);
	*n = 0;
	*out = dg_arena_alloc(a, (size_t)(count + 1) * sizeof **out);
	if (!rc)
		rc = dg_db_query(
			db,
			"SELECT line, rule, rid, rid_sealed, amount FROM pr_grants WHERE"
			" batch_id = ? AND selected = 1 AND state = 'listed' ORDER BY line",
			DG_ARGS(DG_VI(batch)), &rows);
	while (!rc && *n < (size_t)count && (rc = dg_rows_next(rows)) == DG_OK) {
		struct line *l = &(*out)[(*n)++];
		l->line = dg_rows_int(rows, 0);
		l->rule = dg_arena_strdup(a, dg_rows_text(rows, 1));
		l->rid = dg_arena_strdup(a, dg_rows_text(rows, 2));
		l->sealed = dg_arena_strdup(a, dg_rows_text(rows, 3));
		l->has_amount = !dg_rows_isnull(rows, 4);
		l->amount = l->has_amount ? dg_rows_int(rows, 4) : 0;
	}
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

/* One line granted: the registry, the name kept sealed, the person told. */
static dg_rc issue_line(struct dg_env *env, struct dg_db *db, struct dg_arena *a,
			const struct pr_batch_info *b, const char *registry, const struct line *l,
			int64_t user, struct dg_err *err)
{
	char *id = NULL;
	const char *name = "";
	if (dg_pii_open(&env->keys, a, l->sealed, &id) != DG_OK)
		return dg_err_set(err, DG_EINTERNAL, "proactive.err.store");
	struct dg_exchange_benefit eb = {
		.registry = registry,
		.id = id,
		.benefit = l->rule,
		.month = b->period,
		.status = "paid",
		.dept = b->dept,
		.actor = dg_arena_printf(a, "user:%lld", (long long)user),
		.purpose = b->code,
		.run = dg_arena_printf(a, "proactive-batch-%lld", (long long)b->id),
	};
	dg_rc rc = dg_exchange_benefit_set(env, db, a, &eb, &name, err);
	if (!rc)
		rc = dg_db_exec(db,
				"UPDATE pr_grants SET state = 'granted', name_sealed = ? WHERE"
				" batch_id = ? AND line = ?",
				DG_ARGS(DG_VT(dg_pii_seal(&env->keys, a, name)), DG_VI(b->id),
					DG_VI(l->line)),
				NULL);
	const char *zh = NULL, *en = NULL;
	rule_names(db, a, b->policy_id, l->rule, &zh, &en);
	json_t *params =
		json_pack("{s:s,s:s,s:s,s:s}", "policy", zh, "policy_en", en, "amount",
			  l->has_amount ? yuan_text(a, l->amount) : "-", "period", b->period);
	if (!rc)
		rc = tell(db, b->run_id, l->rule, l->rid, "policy.granted", params, err);
	json_decref(params);
	return rc;
}

dg_rc pr_batch_get(struct dg_db *db, struct dg_arena *a, int64_t batch, struct pr_batch_info *out)
{
	struct dg_rows *rows = NULL;
	memset(out, 0, sizeof *out);
	dg_rc rc = dg_db_query(db,
			       "SELECT b.id, b.policy_id, p.code, p.dept, b.run_id, b.period,"
			       " b.state, b.proposed_by, b.approved_by, b.prev_batch FROM"
			       " pr_batches b JOIN pr_policies p ON p.id = b.policy_id WHERE"
			       " b.id = ?",
			       DG_ARGS(DG_VI(batch)), &rows);
	if (!rc)
		rc = dg_rows_next(rows);
	if (!rc) {
		out->id = dg_rows_int(rows, 0);
		out->policy_id = dg_rows_int(rows, 1);
		out->code = dg_arena_strdup(a, dg_rows_text(rows, 2));
		out->dept = dg_arena_strdup(a, dg_rows_text(rows, 3));
		out->run_id = dg_rows_int(rows, 4);
		out->period = dg_arena_strdup(a, dg_rows_text(rows, 5));
		out->state = dg_arena_strdup(a, dg_rows_text(rows, 6));
		out->proposed_by = dg_rows_int(rows, 7);
		out->approved_by = dg_rows_int(rows, 8);
		out->prev_batch = dg_rows_int(rows, 9);
	}
	dg_rows_free(rows);
	return rc;
}

dg_rc pr_batch_approve(struct dg_env *env, struct dg_db *db, int64_t batch, int64_t user,
		       struct dg_err *err)
{
	struct dg_arena *a = dg_arena_new();
	struct pr_batch_info b;
	const char *registry = NULL;
	struct line *lines = NULL;
	size_t n = 0;
	int64_t changed = 0;
	dg_rc rc = dg_db_begin(db);
	if (rc) {
		dg_arena_free(a);
		return dg_err_set(err, rc, "proactive.err.store");
	}
	rc = pr_batch_get(db, a, batch, &b);
	if (rc == DG_ENOTFOUND) {
		dg_err_set(err, rc, "proactive.err.no_batch");
		goto out;
	}
	if (!rc && strcmp(b.state, "proposed") != 0) {
		rc = dg_err_set(err, DG_ECONFLICT, "proactive.err.not_proposed");
		goto out;
	}
	/* four eyes: who proposed a batch never approves it */
	if (!rc && b.proposed_by == user) {
		rc = dg_err_set(err, DG_EDENIED, "proactive.err.four_eyes");
		goto out;
	}
	if (!rc && (rc = benefits_registry(env, db, a, b.policy_id, &registry, err)) != DG_OK)
		goto out;
	rc = dg_db_exec(db,
			"UPDATE pr_batches SET state = 'issued', approved_by = ?, approved_ms = ?"
			" WHERE id = ? AND state = 'proposed'",
			DG_ARGS(DG_VI(user), DG_VI(dg_now_ms()), DG_VI(batch)), &changed);
	if (!rc && changed != 1) {
		rc = dg_err_set(err, DG_ECONFLICT, "proactive.err.not_proposed");
		goto out;
	}
	if (!rc)
		rc = selected_lines(db, a, batch, &lines, &n);
	for (size_t i = 0; !rc && i < n; i++) {
		rc = issue_line(env, db, a, &b, registry, &lines[i], user, err);
		/* where a test makes the approval fail with a line written: all of it rolls back */
		if (!rc)
			rc = dg_failpoint_hit("proactive.grant.line");
	}
	json_t *d = json_pack("{s:s,s:I,s:s,s:I}", "policy", b.code ? b.code : "", "batch",
			      (json_int_t)batch, "period", b.period ? b.period : "", "granted",
			      (json_int_t)n);
	struct dg_audit_rec rec = {.kind = "proactive.grant",
				   .actor = dg_arena_printf(a, "user:%lld", (long long)user),
				   .subject = "",
				   .purpose = b.code ? b.code : "",
				   .detail = d};
	if (!rc)
		rc = dg_audit_append(db, &rec, NULL);
	json_decref(d);
	if (!rc)
		rc = dg_db_commit(db);
	if (rc && !err->msg[0])
		dg_err_set(err, rc, "proactive.err.store");
out:
	if (rc)
		dg_db_rollback(db);
	dg_arena_free(a);
	return rc;
}

dg_rc pr_grant_end(struct dg_env *env, struct dg_db *db, int64_t batch, int64_t line, int64_t user,
		   bool decline, const char *reason, struct dg_err *err)
{
	struct dg_arena *a = dg_arena_new();
	struct pr_batch_info b;
	const char *registry = NULL;
	char *rule = NULL, *sealed = NULL, *rid = NULL, *id = NULL;
	const char *name = "";
	int64_t changed = 0;
	if (!decline && (!reason || !*reason || strlen(reason) > PR_REASON_MAX)) {
		dg_arena_free(a);
		return dg_err_field(err, DG_EINVAL, "reason", "proactive.err.reason");
	}
	dg_rc rc = dg_db_begin(db);
	if (rc) {
		dg_arena_free(a);
		return dg_err_set(err, rc, "proactive.err.store");
	}
	rc = pr_batch_get(db, a, batch, &b);
	if (!rc)
		rc = dg_db_query_text(db,
				      "SELECT rule FROM pr_grants WHERE batch_id = ? AND line = ?"
				      " AND state = 'granted'",
				      DG_ARGS(DG_VI(batch), DG_VI(line)), a, &rule);
	if (rc == DG_ENOTFOUND) {
		dg_err_set(err, rc, "proactive.err.no_grant");
		goto out;
	}
	if (!rc)
		rc = dg_db_query_text(db,
				      "SELECT rid_sealed FROM pr_grants WHERE batch_id = ? AND"
				      " line = ?",
				      DG_ARGS(DG_VI(batch), DG_VI(line)), a, &sealed);
	if (!rc)
		rc = dg_db_query_text(db,
				      "SELECT rid FROM pr_grants WHERE batch_id = ? AND line = ?",
				      DG_ARGS(DG_VI(batch), DG_VI(line)), a, &rid);
	if (!rc && dg_pii_open(&env->keys, a, sealed, &id) != DG_OK)
		rc = DG_EINTERNAL;
	if (!rc && (rc = benefits_registry(env, db, a, b.policy_id, &registry, err)) != DG_OK)
		goto out;
	const char *actor = dg_arena_printf(a, "user:%lld", (long long)user);
	struct dg_exchange_benefit eb = {
		.registry = registry,
		.id = id,
		.benefit = rule,
		.month = b.period,
		.status = "stopped",
		.dept = b.dept,
		.actor = actor,
		.purpose = b.code,
		.run = dg_arena_printf(a, "proactive-batch-%lld", (long long)batch),
	};
	if (!rc)
		rc = dg_exchange_benefit_set(env, db, a, &eb, &name, err);
	if (!rc)
		rc = dg_db_exec(
			db,
			"UPDATE pr_grants SET state = ?, reason = ?, ended_by = ?, ended_ms ="
			" ? WHERE batch_id = ? AND line = ? AND state = 'granted'",
			DG_ARGS(DG_VT(decline ? "declined" : "revoked"),
				DG_VT(reason ? reason : ""), DG_VI(user), DG_VI(dg_now_ms()),
				DG_VI(batch), DG_VI(line)),
			&changed);
	if (!rc && changed != 1)
		rc = dg_err_set(err, DG_ECONFLICT, "proactive.err.no_grant");
	json_t *d =
		json_pack("{s:I,s:I,s:s,s:s}", "batch", (json_int_t)batch, "line", (json_int_t)line,
			  "rule", rule ? rule : "", "reason", reason ? reason : "");
	struct dg_audit_rec rec = {.kind = decline ? "proactive.decline" : "proactive.revoke",
				   .actor = actor,
				   .subject = rid ? rid : "",
				   .purpose = b.code ? b.code : "",
				   .detail = d};
	if (!rc)
		rc = dg_audit_append(db, &rec, NULL);
	json_decref(d);
	if (!rc && !decline) {
		const char *zh = NULL, *en = NULL;
		rule_names(db, a, b.policy_id, rule, &zh, &en);
		json_t *params = json_pack("{s:s,s:s,s:s,s:s}", "policy", zh, "policy_en", en,
					   "period", b.period, "reason", reason);
		rc = tell(db, b.run_id, rule, rid, "policy.revoked", params, err);
		json_decref(params);
	}
	if (!rc)
		rc = dg_db_commit(db);
	if (rc && !err->msg[0])
		dg_err_set(err, rc, "proactive.err.store");
out:
	if (rc)
		dg_db_rollback(db);
	dg_arena_free(a);
	return rc;
}

dg_rc pr_batch_csv(struct dg_env *env, struct dg_db *db, struct dg_arena *a, int64_t batch,
		   struct dg_buf *out)
{
	struct pr_batch_info b;
	struct dg_rows *rows = NULL;
	dg_rc rc = pr_batch_get(db, a, batch, &b);
	if (rc)
		return rc;
	rc = dg_db_query(db,
			 "SELECT line, rule, rid_sealed, name_sealed, amount FROM pr_grants"
			 " WHERE batch_id = ? AND state = 'granted' ORDER BY line",
			 DG_ARGS(DG_VI(batch)), &rows);
	static const char *const head[] = {"batch",     "line",         "name",
					   "id_number", "bank_account", "amount",
					   "policy",    "benefit",      "period"};
	if (!rc)
		rc = dg_buf_adds(out, "\xEF\xBB\xBF");
	for (size_t c = 0; !rc && c < 9; c++)
		rc = dg_csv_cell(out, head[c], c == 8);
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		char *id = NULL, *name = NULL;
		if (dg_pii_open(&env->keys, a, dg_rows_text(rows, 2), &id) != DG_OK)
			id = NULL;
		if (dg_pii_open(&env->keys, a, dg_rows_text(rows, 3), &name) != DG_OK)
			name = NULL;
		/* the registries keep no bank account: the treasury matches the ID number */
		const char *cells[] = {
			dg_arena_printf(a, "%lld", (long long)b.id),
			dg_arena_printf(a, "%lld", (long long)dg_rows_int(rows, 0)),
			name ? name : "",
			id ? id : "",
			"",
			dg_rows_isnull(rows, 4) ? "" : yuan_text(a, dg_rows_int(rows, 4)),
			b.code,
			dg_rows_text(rows, 1),
			b.period,
		};
		for (size_t c = 0; !rc && c < 9; c++)
			rc = dg_csv_cell(out, cells[c], c == 8);
	}
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}
