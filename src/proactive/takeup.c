/*
 * takeup.c - take-up of a policy, by district and over time: of the records
 * a run found eligible, how many had an account told (notified), how many
 * applied through the policy's item, how many were granted or declined a
 * 免申即享 grant made from that run, and how many are entitled but not
 * receiving (应享未享: eligible, and neither applied nor granted).
 *
 * A run counts its eligible, notified and applied records per district as
 * it finishes (pr_takeup_record, in the transaction that switches its
 * results in), since its answers are dropped two runs later; grants are
 * counted when read, since they are made and declined after the run. The
 * district is the record's region field (pr_district_field), kept beside
 * each answer and each grant line; a record without one counts under "".
 * Counts only, nothing about a person.
 */
#include "proactive/internal.h"

#include <stdio.h>
#include <string.h>

#include "core/csv.h"
#include "rule/rule.h"

#define TAKEUP_RUNS 24 /* runs drawn over time, the latest */

/* The fields that hold a record's district, the first one present wins. */
static const char *const district_names[] = {"district", "region", "hukou_region"};

int pr_district_field(const struct dg_entity *e)
{
	for (size_t k = 0; k < sizeof district_names / sizeof district_names[0]; k++)
		for (int f = 0; f < e->nf; f++)
			if (e->f[f].ty == TY_CODE && !e->f[f].monthly &&
			    strcmp(e->f[f].name, district_names[k]) == 0)
				return f;
	return -1;
}

const char *pr_district_of(const struct dg_data *d, int ent, int field, int64_t row)
{
	if (field < 0 || !d->t[ent].col[field].k[row])
		return "";
	int64_t v = d->t[ent].col[field].v[row];
	return v >= 0 && v < d->codes->n ? d->codes->s[v] : "";
}

/* The accounts an answer of run ? (twice) is about, as reach() in run.c finds them. */
#define ACCOUNTS                                                                                   \
	"(SELECT w.rule AS rule, w.rid AS rid, w.user_id AS uid FROM pr_who w WHERE"               \
	" w.run_id = ? AND w.user_id <> 0 UNION SELECT w.rule, w.rid, u.id FROM pr_who w"          \
	" JOIN users u ON u.id_number_index = w.subject WHERE w.run_id = ? AND"                    \
	" u.id_number_index <> '')"

/* Add each row's (district, count) to counts[district][key]. */
static dg_rc tally(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs,
		   json_t *counts, const char *key)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, sql, args, nargs, &rows);
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		const char *d = dg_rows_text(rows, 0);
		json_t *o = json_object_get(counts, d);
		if (!o) {
			o = json_pack("{s:I,s:I,s:I}", "eligible", (json_int_t)0, "notified",
				      (json_int_t)0, "applied", (json_int_t)0);
			json_object_set_new(counts, d, o);
		}
		json_object_set_new(o, key, json_integer(dg_rows_int(rows, 1)));
	}
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

dg_rc pr_takeup_record(struct dg_db *db, int64_t run, int64_t policy)
{
	json_t *counts = json_object();
	dg_rc rc = tally(db,
			 "SELECT district, COUNT(*) FROM pr_results WHERE run_id = ? AND"
			 " outcome = 'ELIGIBLE' GROUP BY district",
			 DG_ARGS(DG_VI(run)), counts, "eligible");
	if (!rc)
		rc = tally(db,
			   "SELECT x.district, COUNT(DISTINCT x.rule || ' ' || x.rid) FROM"
			   " pr_results x JOIN " ACCOUNTS " a ON a.rule = x.rule AND a.rid = x.rid"
			   " JOIN pr_sent s ON s.user_id = a.uid AND s.policy_id = ? AND s.rule ="
			   " x.rule WHERE x.run_id = ? AND x.outcome = 'ELIGIBLE' GROUP BY"
			   " x.district",
			   DG_ARGS(DG_VI(run), DG_VI(run), DG_VI(policy), DG_VI(run)), counts,
			   "notified");
	if (!rc)
		rc = tally(db,
			   "SELECT x.district, COUNT(DISTINCT x.rule || ' ' || x.rid) FROM"
			   " pr_results x JOIN " ACCOUNTS " a ON a.rule = x.rule AND a.rid = x.rid"
			   " JOIN cases k ON k.applicant_id = a.uid AND k.submitted_ms > 0 JOIN"
			   " pr_policies p ON p.id = ? AND p.item = k.item_code WHERE x.run_id = ?"
			   " AND x.outcome = 'ELIGIBLE' GROUP BY x.district",
			   DG_ARGS(DG_VI(run), DG_VI(run), DG_VI(policy), DG_VI(run)), counts,
			   "applied");
	/* a run that found no one still has its point in time */
	if (!rc && json_object_size(counts) == 0)
		json_object_set_new(counts, "",
				    json_pack("{s:I,s:I,s:I}", "eligible", (json_int_t)0,
					      "notified", (json_int_t)0, "applied", (json_int_t)0));
	if (!rc)
		rc = dg_db_exec(db, "DELETE FROM pr_takeup WHERE run_id = ?", DG_ARGS(DG_VI(run)),
				NULL);
	const char *d;
	json_t *o;
	json_object_foreach (counts, d, o) {
		if (rc)
			break;
		rc = dg_db_exec(
			db,
			"INSERT INTO pr_takeup (run_id, district, eligible, notified, applied)"
			" VALUES (?, ?, ?, ?, ?)",
			DG_ARGS(DG_VI(run), DG_VT(d),
				DG_VI(json_integer_value(json_object_get(o, "eligible"))),
				DG_VI(json_integer_value(json_object_get(o, "notified"))),
				DG_VI(json_integer_value(json_object_get(o, "applied")))),
			NULL);
	}
	json_decref(counts);
	return rc;
}

const char *const pr_takeup_cols[PR_TAKEUP_NCOLS] = {
	"eligible", "notified", "applied", "granted", "declined", "not_receiving",
};

dg_rc pr_takeup_rows(struct dg_db *db, int64_t policy, json_t **out)
{
	struct dg_rows *rows = NULL;
	*out = json_array();
	dg_rc rc = dg_db_query(
		db,
		"SELECT r.id, r.ref_date, t.district, t.eligible, t.notified, t.applied,"
		" (SELECT COUNT(*) FROM pr_grants g JOIN pr_batches b ON b.id = g.batch_id WHERE"
		" b.run_id = r.id AND g.district = t.district AND g.state = 'granted'),"
		" (SELECT COUNT(*) FROM pr_grants g JOIN pr_batches b ON b.id = g.batch_id WHERE"
		" b.run_id = r.id AND g.district = t.district AND g.state = 'declined')"
		" FROM pr_takeup t JOIN pr_runs r ON r.id = t.run_id WHERE r.id IN (SELECT q.id"
		" FROM pr_runs q WHERE q.policy_id = ? AND q.state = 'done' AND EXISTS (SELECT 1"
		" FROM pr_takeup e WHERE e.run_id = q.id) ORDER BY q.id DESC LIMIT ?)"
		" ORDER BY r.id, t.district",
		DG_ARGS(DG_VI(policy), DG_VI(TAKEUP_RUNS)), &rows);
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		int64_t eligible = dg_rows_int(rows, 3), applied = dg_rows_int(rows, 5),
			granted = dg_rows_int(rows, 6);
		int64_t left = eligible - applied - granted;
		json_array_append_new(
			*out, json_pack("{s:I,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I}", "run",
					(json_int_t)dg_rows_int(rows, 0), "ref_date",
					dg_rows_text(rows, 1), "district", dg_rows_text(rows, 2),
					"eligible", (json_int_t)eligible, "notified",
					(json_int_t)dg_rows_int(rows, 4), "applied",
					(json_int_t)applied, "granted", (json_int_t)granted,
					"declined", (json_int_t)dg_rows_int(rows, 7),
					"not_receiving", (json_int_t)(left > 0 ? left : 0)));
	}
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND)
		return DG_OK;
	json_decref(*out);
	*out = NULL;
	return rc;
}

dg_rc pr_takeup_csv(const json_t *rows, struct dg_buf *out)
{
	static const char *const head[] = {"run", "ref_date", "district"};
	dg_rc rc = dg_buf_adds(out, "\xEF\xBB\xBF");
	for (size_t c = 0; !rc && c < 3; c++)
		rc = dg_csv_cell(out, head[c], false);
	for (size_t c = 0; !rc && c < PR_TAKEUP_NCOLS; c++)
		rc = dg_csv_cell(out, pr_takeup_cols[c], c + 1 == PR_TAKEUP_NCOLS);
	size_t i;
	json_t *o;
	json_array_foreach (rows, i, o) {
		char n[24];
		if (!rc) {
			snprintf(n, sizeof n, "%lld",
				 (long long)json_integer_value(json_object_get(o, "run")));
			rc = dg_csv_cell(out, n, false);
		}
		if (!rc)
			rc = dg_csv_cell(out, json_string_value(json_object_get(o, "ref_date")),
					 false);
		if (!rc)
			rc = dg_csv_cell(out, json_string_value(json_object_get(o, "district")),
					 false);
		for (size_t c = 0; !rc && c < PR_TAKEUP_NCOLS; c++) {
			snprintf(n, sizeof n, "%lld",
				 (long long)json_integer_value(
					 json_object_get(o, pr_takeup_cols[c])));
			rc = dg_csv_cell(out, n, c + 1 == PR_TAKEUP_NCOLS);
		}
	}
	return rc;
}
