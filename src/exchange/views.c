/*
 * views.c - a member of staff viewing a person's record is a use of that
 * person's data like an exchange read: the back office's case page (the
 * applicant's answers, their pre-filled data and documents) and its
 * reveal of identifiers in full each append one audit record
 * ("record.view": who, whose record, the case as purpose) and put a line
 * on the person's /my/data-use, before the page is shown. The cases module
 * calls it through env.h's record_viewed hook.
 */
#include "exchange/internal.h"

#include <string.h>

#include "audit/audit.h"

const char *x_initials(struct dg_arena *a, const char *name)
{
	/* keep only the first character */
	size_t first = 1, n = strlen(name);
	if (n == 0)
		return "";
	while (first < n && ((unsigned char)name[first] & 0xC0) == 0x80)
		first++;
	return dg_arena_printf(a, "%.*s*", (int)first, name);
}

static dg_rc append_view(struct dg_req *r, struct dg_db *db, int64_t holder, const char *ref,
			 const char *item, const char *what)
{
	char *index = NULL, *code = NULL;
	int64_t seq = 0;
	dg_rc rc = dg_db_query_text(db, "SELECT id_number_index FROM users WHERE id = ?",
				    DG_ARGS(DG_VI(holder)), r->arena, &index);
	if (rc == DG_ENOTFOUND)
		rc = DG_OK;
	if (!rc && r->user->dept_id) {
		rc = dg_db_query_text(db, "SELECT code FROM departments WHERE id = ?",
				      DG_ARGS(DG_VI(r->user->dept_id)), r->arena, &code);
		if (rc == DG_ENOTFOUND)
			rc = DG_OK;
	}
	if (rc)
		return rc;
	/* an applicant without an ID number has no page of uses: the log still has the view */
	const char *subject = index ? index : "";
	const char *dept = code ? code : r->user->role == DG_ROLE_ADMIN ? "admin" : "";
	json_t *d = json_pack("{s:s,s:s,s:s,s:s}", "case", ref, "item", item, "view", what, "dept",
			      dept);
	struct dg_audit_rec ar = {
		.kind = "record.view",
		.actor = dg_arena_printf(r->arena, "user:%lld", (long long)r->user->id),
		.subject = subject,
		.purpose = ref,
		.detail = d};
	rc = dg_audit_append(db, &ar, &seq);
	json_decref(d);
	struct x_use u = {.subject = subject,
			  .kind = "view",
			  .dept = dept,
			  .system = "office",
			  .official = x_initials(r->arena, r->user->name ? r->user->name : ""),
			  .purpose = ref,
			  .registry = "case",
			  .fields = what,
			  .run = "",
			  .audit_seq = seq};
	if (!rc)
		rc = x_use_add(db, &u);
	return rc;
}

dg_rc x_record_viewed(struct dg_req *r, struct dg_db *db, int64_t holder, const char *ref,
		      const char *item, const char *what)
{
	if (dg_db_in_tx(db))
		return append_view(r, db, holder, ref, item, what);
	dg_rc rc = dg_db_begin(db);
	if (rc)
		return rc;
	rc = append_view(r, db, holder, ref, item, what);
	if (!rc)
		rc = dg_db_commit(db);
	if (rc)
		dg_db_rollback(db);
	return rc;
}
