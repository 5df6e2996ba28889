/*
 * uses.c - what a resident's page "who used my data" lists: one line per
 * read of a record about them, and one line per bulk run that read their
 * record however many pages it took (the audit log holds a record for
 * each call; these lines point at it by its seq).
 */
#include "exchange/internal.h"

#include <stdio.h>

#include "core/date.h"

dg_rc x_use_add(struct dg_db *db, const struct x_use *u)
{
	if (!u->subject || !*u->subject)
		return DG_OK;
	const struct dg_val args[] = {
		DG_VT(u->subject),
		DG_VI(dg_now_ms()),
		DG_VT(u->kind),
		DG_VT(u->dept),
		DG_VT(u->system),
		DG_VT(u->official),
		DG_VT(u->purpose),
		DG_VT(u->registry),
		DG_VT(u->fields),
		DG_VT(u->run ? u->run : ""),
		DG_VI(u->audit_seq),
		DG_VT(u->subject),
		DG_VT(u->run ? u->run : ""),
	};
	/* a bulk run is one line: a second page of the same run adds none */
	return dg_db_exec(
		db,
		"INSERT INTO xr_uses (subject, at_ms, kind, dept, system, official, purpose,"
		" registry, fields, run, audit_seq)"
		" SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM"
		" xr_uses WHERE subject = ? AND run = ? AND run <> '')",
		args, sizeof(args) / sizeof(args[0]), NULL);
}

/*
 * At most USES_BATCH subjects to a statement: the statement's parameters
 * (12 + one per subject) stay well under SQLite's and libpq's limits, and a
 * page of a bulk run is a handful of statements instead of one per record.
 */
#define USES_BATCH 200

dg_rc x_uses_add_many(struct dg_db *db, const struct x_use *u, const char *const *subjects,
		      size_t n)
{
	struct dg_val args[USES_BATCH + 12];
	char sql[400 + 4 * USES_BATCH];
	for (size_t at = 0; at < n; at += USES_BATCH) {
		size_t k = n - at < USES_BATCH ? n - at : USES_BATCH, m = 0;
		int len = snprintf(sql, sizeof sql,
				   "INSERT INTO xr_uses (subject, at_ms, kind, dept, system,"
				   " official, purpose, registry, fields, run, audit_seq)"
				   " SELECT v.column1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM (VALUES ");
		args[m++] = DG_VI(dg_now_ms());
		args[m++] = DG_VT(u->kind);
		args[m++] = DG_VT(u->dept);
		args[m++] = DG_VT(u->system);
		args[m++] = DG_VT(u->official);
		args[m++] = DG_VT(u->purpose);
		args[m++] = DG_VT(u->registry);
		args[m++] = DG_VT(u->fields);
		args[m++] = DG_VT(u->run ? u->run : "");
		args[m++] = DG_VI(u->audit_seq);
		for (size_t i = 0; i < k; i++) {
			len += snprintf(sql + len, sizeof sql - (size_t)len, "%s(?)", i ? "," : "");
			args[m++] = DG_VT(subjects[at + i]);
		}
		/* a bulk run is one line per subject: a second page adds none */
		snprintf(sql + len, sizeof sql - (size_t)len,
			 ") AS v WHERE v.column1 <> '' AND NOT EXISTS (SELECT 1 FROM xr_uses w"
			 " WHERE w.subject = v.column1 AND w.run = ? AND w.run <> '')");
		args[m++] = DG_VT(u->run ? u->run : "");
		dg_rc rc = dg_db_exec(db, sql, args, m, NULL);
		if (rc)
			return rc;
	}
	return DG_OK;
}

dg_rc x_uses_of(struct dg_db *db, const char *subject, int64_t limit, json_t **out)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db,
			       "SELECT at_ms, kind, u.dept, COALESCE(d.name_zh, u.dept),"
			       " COALESCE(d.name_en, u.dept), system, official, purpose, registry,"
			       " fields, run, audit_seq FROM xr_uses u"
			       " LEFT JOIN departments d ON d.code = u.dept"
			       " WHERE subject = ? ORDER BY at_ms DESC, u.id DESC LIMIT ?",
			       DG_ARGS(DG_VT(subject), DG_VI(limit)), &rows);
	if (rc)
		return rc;
	json_t *arr = json_array();
	while ((rc = dg_rows_next(rows)) == DG_OK)
		json_array_append_new(
			arr,
			json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "at_ms",
				  (json_int_t)dg_rows_int(rows, 0), "kind", dg_rows_text(rows, 1),
				  "dept", dg_rows_text(rows, 2), "dept_zh", dg_rows_text(rows, 3),
				  "dept_en", dg_rows_text(rows, 4), "system", dg_rows_text(rows, 5),
				  "official", dg_rows_text(rows, 6), "purpose",
				  dg_rows_text(rows, 7), "registry", dg_rows_text(rows, 8),
				  "fields", dg_rows_text(rows, 9), "run", dg_rows_text(rows, 10),
				  "audit_seq", (json_int_t)dg_rows_int(rows, 11)));
	dg_rows_free(rows);
	if (rc != DG_ENOTFOUND) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return DG_OK;
}
