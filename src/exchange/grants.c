/*
 * grants.c - requests for a registry's fields and the grants they become,
 * deny by default.
 *
 * A department asks for named fields of a registry, for a purpose (a
 * catalogue item code or a policy id), with a legal basis, a lookup mode
 * (one record by ID, or bulk for a policy run) and an end date. Fields the
 * schema shares unconditionally are granted at once (the request still
 * names the purpose); the rest wait for the owning department, which
 * approves or refuses with a reason; an approved grant can be revoked.
 * Fields shared with nobody cannot be asked for. Every change of a grant is
 * a record in the audit log, in the transaction that makes it.
 */
#include "exchange/internal.h"

#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "core/date.h"
#include "core/str.h"

bool x_list_has(const char *list, const char *name)
{
	struct dg_str rest = dg_str_of(list), head;
	while (rest.n) {
		rest = dg_str_cut(rest, ',', &head);
		if (dg_str_eqs(head, name))
			return true;
	}
	return false;
}

static dg_rc audit_grant(struct dg_db *db, int64_t id, const char *what, const char *dept,
			 const char *registry, const char *purpose, const char *fields,
			 int64_t user_id, const char *reason)
{
	char actor[64];
	snprintf(actor, sizeof actor, "user:%lld", (long long)user_id);
	json_t *d = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s}", "request", (json_int_t)id, "change",
			      what, "dept", dept, "registry", registry, "fields", fields, "reason",
			      reason ? reason : "");
	struct dg_audit_rec rec = {.kind = "grant.change",
				   .actor = actor,
				   .subject = "",
				   .purpose = purpose,
				   .detail = d};
	dg_rc rc = dg_audit_append(db, &rec, NULL);
	json_decref(d);
	return rc;
}

/* Check the fields asked for; *granted gets the unconditional ones. */
static dg_rc check_fields(struct dg_arena *a, const struct dg_entity *e, const char *list,
			  const char **norm, const char **granted, struct dg_err *err)
{
	struct dg_buf all, now;
	dg_buf_init(&all, 4096);
	dg_buf_init(&now, 4096);
	struct dg_str rest = dg_str_of(list), head;
	dg_rc rc = DG_OK;
	int n = 0;
	while (rest.n && !rc) {
		rest = dg_str_cut(rest, ',', &head);
		head = dg_str_trim(head);
		if (!head.n)
			continue;
		char *name = dg_arena_strndup(a, head.p, head.n);
		int fi = x_field(e, name);
		if (fi < 0) {
			rc = dg_err_field(err, DG_EINVAL, "fields", "%s has no field %s", e->name,
					  name);
			break;
		}
		if (e->f[fi].sharing == DG_SHARE_NONE) {
			rc = dg_err_field(err, DG_EINVAL, "fields",
					  "%s.%s is not shared (不予共享)", e->name, name);
			break;
		}
		if (x_list_has(dg_buf_str(&all), name))
			continue;
		if ((all.len && dg_buf_addc(&all, ',')) || dg_buf_adds(&all, name)) {
			rc = dg_err_field(err, DG_ETOOBIG, "fields", "too many fields");
			break;
		}
		n++;
		if (e->f[fi].sharing == DG_SHARE_UNCONDITIONAL &&
		    ((now.len && dg_buf_addc(&now, ',')) || dg_buf_adds(&now, name)))
			rc = dg_err_field(err, DG_ETOOBIG, "fields", "too many fields");
	}
	if (!rc && n == 0)
		rc = dg_err_field(err, DG_EINVAL, "fields", "name at least one field");
	*norm = dg_arena_strdup(a, dg_buf_str(&all));
	*granted = dg_arena_strdup(a, dg_buf_str(&now));
	dg_buf_release(&all);
	dg_buf_release(&now);
	return rc;
}

dg_rc x_request_create(struct dg_db *db, struct dg_arena *a, const struct x_request_new *q,
		       int64_t *id, struct dg_err *err)
{
	const struct dg_entity *e = x_registry(q->registry);
	if (!e)
		return dg_err_field(err, DG_EINVAL, "registry", "choose a registry");
	if (!q->dept || !*q->dept)
		return dg_err_set(err, DG_EDENIED, "only a department can ask for data");
	const char *fields = NULL, *granted = NULL;
	dg_rc rc = check_fields(a, e, q->fields, &fields, &granted, err);
	if (rc)
		return rc;
	if (!q->purpose || !x_token_ok(q->purpose, X_PURPOSE_MAX))
		return dg_err_field(err, DG_EINVAL, "purpose",
				    "the purpose is a catalogue item code or a policy id, such as "
				    "990100-MZ-001");
	size_t bl = q->legal_basis ? strlen(q->legal_basis) : 0;
	if (bl == 0 || bl > X_BASIS_MAX || !dg_utf8_valid(q->legal_basis, bl))
		return dg_err_field(err, DG_EINVAL, "legal_basis",
				    "name the law or rule that allows this use (at most %d bytes)",
				    X_BASIS_MAX);
	if (!q->mode || (strcmp(q->mode, "one") && strcmp(q->mode, "bulk")))
		return dg_err_field(err, DG_EINVAL, "mode", "choose one record by ID or bulk");
	dg_day ends;
	if (!q->ends || strlen(q->ends) != 10 || dg_day_parse(q->ends, &ends) != DG_OK)
		return dg_err_field(err, DG_EINVAL, "ends", "the end date is YYYY-MM-DD");
	if (ends < dg_day_today())
		return dg_err_field(err, DG_EINVAL, "ends", "the end date has passed");
	const char *status = strcmp(fields, granted) == 0 ? "approved" : "pending";
	struct dg_rows *rows = NULL;
	bool own = !dg_db_in_tx(db); /* the demo makes requests inside its transaction */
	rc = own ? dg_db_begin(db) : DG_OK;
	if (!rc)
		rc = dg_db_query(
			db,
			"INSERT INTO xr_requests (dept, registry, fields, clear, purpose,"
			" legal_basis, mode, ends, status, granted, created_by, created_ms,"
			" consent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
			DG_ARGS(DG_VT(q->dept), DG_VT(e->name), DG_VT(fields),
				DG_VI(q->clear ? 1 : 0), DG_VT(q->purpose), DG_VT(q->legal_basis),
				DG_VT(q->mode), DG_VT(q->ends), DG_VT(status), DG_VT(granted),
				DG_VI(q->user_id), DG_VI(dg_now_ms()), DG_VI(q->consent ? 1 : 0)),
			&rows);
	if (!rc)
		rc = dg_rows_next(rows);
	if (!rc)
		*id = dg_rows_int(rows, 0);
	dg_rows_free(rows);
	if (!rc)
		rc = audit_grant(db, *id,
				 granted[0] ? "requested, unconditional fields granted"
					    : "requested",
				 q->dept, e->name, q->purpose, granted, q->user_id, NULL);
	if (!rc && own)
		rc = dg_db_commit(db);
	if (rc && own)
		dg_db_rollback(db);
	return rc;
}

dg_rc x_request_decide(struct dg_db *db, struct dg_arena *a, int64_t id, const char *action,
		       const char *reason, const char *dept, bool admin, int64_t user_id,
		       struct dg_err *err)
{
	bool approve = strcmp(action, "approve") == 0, refuse = strcmp(action, "refuse") == 0,
	     revoke = strcmp(action, "revoke") == 0;
	if (!approve && !refuse && !revoke)
		return dg_err_set(err, DG_ENOTFOUND, "no such action");
	size_t rl = reason ? strlen(reason) : 0;
	if (refuse && (rl == 0 || rl > X_REASON_MAX || !dg_utf8_valid(reason, rl)))
		return dg_err_field(err, DG_EINVAL, "reason",
				    "say why the request is refused (at most %d bytes)",
				    X_REASON_MAX);
	if (rl > X_REASON_MAX || (rl && !dg_utf8_valid(reason, rl)))
		return dg_err_field(err, DG_EINVAL, "reason", "the reason is too long");
	struct dg_rows *rows = NULL;
	bool own = !dg_db_in_tx(db);
	dg_rc rc = own ? dg_db_begin(db) : DG_OK;
	if (rc)
		return rc;
	rc = dg_db_query(db,
			 "SELECT dept, registry, fields, purpose, status FROM xr_requests"
			 " WHERE id = ?",
			 DG_ARGS(DG_VI(id)), &rows);
	if (!rc)
		rc = dg_rows_next(rows);
	char *rdept = NULL, *registry = NULL, *fields = NULL, *purpose = NULL, *status = NULL;
	if (!rc) {
		rdept = dg_arena_strdup(a, dg_rows_text(rows, 0));
		registry = dg_arena_strdup(a, dg_rows_text(rows, 1));
		fields = dg_arena_strdup(a, dg_rows_text(rows, 2));
		purpose = dg_arena_strdup(a, dg_rows_text(rows, 3));
		status = dg_arena_strdup(a, dg_rows_text(rows, 4));
	}
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND) {
		rc = dg_err_set(err, rc, "there is no request %lld", (long long)id);
		goto out;
	}
	if (rc)
		goto out;
	const struct dg_entity *e = x_registry(registry);
	if (!admin && (!e || !dept || strcmp(e->owner, dept) != 0)) {
		rc = dg_err_set(err, DG_EDENIED,
				"only the department that owns %s decides on its requests",
				registry);
		goto out;
	}
	if ((approve || refuse) && strcmp(status, "pending") != 0) {
		rc = dg_err_set(err, DG_ECONFLICT, "the request is %s already", status);
		goto out;
	}
	if (revoke && strcmp(status, "approved") != 0 && strcmp(status, "pending") != 0) {
		rc = dg_err_set(err, DG_ECONFLICT, "the request is %s: there is nothing to revoke",
				status);
		goto out;
	}
	const char *next = approve ? "approved" : refuse ? "refused" : "revoked";
	rc = dg_db_exec(
		db,
		"UPDATE xr_requests SET status = ?, granted = ?, reason = ?, decided_by = ?,"
		" decided_ms = ? WHERE id = ?",
		DG_ARGS(DG_VT(next), DG_VT(approve ? fields : ""), DG_VT(reason ? reason : ""),
			DG_VI(user_id), DG_VI(dg_now_ms()), DG_VI(id)),
		NULL);
	if (!rc)
		rc = audit_grant(db, id, next, rdept, registry, purpose, approve ? fields : "",
				 user_id, reason);
	if (!rc && own)
		rc = dg_db_commit(db);
out:
	if (rc && own)
		dg_db_rollback(db);
	return rc;
}

static json_t *request_json(struct dg_rows *rows)
{
	return json_pack("{s:I,s:s,s:s,s:s,s:b,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:b}", "id",
			 (json_int_t)dg_rows_int(rows, 0), "dept", dg_rows_text(rows, 1),
			 "registry", dg_rows_text(rows, 2), "fields", dg_rows_text(rows, 3),
			 "clear", dg_rows_int(rows, 4) != 0, "purpose", dg_rows_text(rows, 5),
			 "legal_basis", dg_rows_text(rows, 6), "mode", dg_rows_text(rows, 7),
			 "ends", dg_rows_text(rows, 8), "status", dg_rows_text(rows, 9), "granted",
			 dg_rows_text(rows, 10), "reason", dg_rows_text(rows, 11), "created_ms",
			 (json_int_t)dg_rows_int(rows, 12), "consent", dg_rows_int(rows, 13) != 0);
}

#define REQ_COLS                                                                                   \
	"id, dept, registry, fields, clear, purpose, legal_basis, mode, ends, status, granted,"    \
	" reason, created_ms, consent"

dg_rc x_requests_list(struct dg_db *db, const char *dept, bool admin, json_t **out, json_t **in)
{
	struct dg_rows *rows = NULL;
	*out = json_array();
	*in = json_array();
	dg_rc rc =
		dg_db_query(db, "SELECT " REQ_COLS " FROM xr_requests ORDER BY id DESC LIMIT 1000",
			    DG_NOARGS, &rows);
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		const struct dg_entity *e = x_registry(dg_rows_text(rows, 2));
		bool mine = dept && strcmp(dg_rows_text(rows, 1), dept) == 0;
		bool owned = e && dept && strcmp(e->owner, dept) == 0;
		if (mine)
			json_array_append_new(*out, request_json(rows));
		if (owned || admin)
			json_array_append_new(*in, request_json(rows));
	}
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND)
		return DG_OK;
	json_decref(*out);
	json_decref(*in);
	*out = *in = NULL;
	return rc;
}

/* How close the grants seen so far came to covering a call (x_grant_pick's walk). */
struct pick {
	int best; /* 1 purpose, 2 and in time, 3 and the mode */
	bool any;
};

static void pick_row(struct pick *p, const struct x_grant_row *row, const char *purpose,
		     const char *mode, const char *today, struct x_grant *g)
{
	int level = 0;
	p->any = true;
	if (strcmp(row->purpose, purpose) == 0) {
		level = 1;
		/* the end date is checked on every call: an expiry needs no change of the store */
		if (strcmp(row->ends, today) >= 0) {
			level = 2;
			if (strcmp(mode, "one") == 0 || strcmp(row->mode, "bulk") == 0)
				level = 3;
		}
	}
	if (level > p->best || (level == 3 && p->best == 3)) {
		p->best = level;
		if (level == 3 && strlen(row->granted) < sizeof(g->granted)) {
			/* several grants for the same purpose: their fields add up */
			size_t used = strlen(g->granted);
			snprintf(g->granted + used, sizeof(g->granted) - used, "%s%s",
				 used ? "," : "", row->granted);
			g->id = row->id;
			g->clear = g->clear || row->clear;
			g->consent = g->consent || row->consent;
		}
	}
}

static dg_rc pick_end(const struct pick *p, const char **why)
{
	static const char *const whys[] = {"wrong_purpose", "grant_expired", "wrong_mode"};
	if (p->best == 3)
		return DG_OK;
	*why = p->any ? whys[p->best] : "no_grant";
	return DG_EDENIED;
}

dg_rc x_grant_pick(const struct x_grant_row *rows, size_t n, const char *purpose, const char *mode,
		   struct x_grant *g, const char **why)
{
	char today[11];
	dg_day_format(dg_day_today(), today);
	struct pick p = {0};
	memset(g, 0, sizeof(*g));
	for (size_t i = 0; i < n; i++)
		pick_row(&p, &rows[i], purpose, mode, today, g);
	return pick_end(&p, why);
}

dg_rc x_grant_find(struct dg_db *db, const char *dept, const char *registry, const char *purpose,
		   const char *mode, struct x_grant *g, const char **why)
{
	struct dg_rows *rows = NULL;
	char today[11];
	dg_day_format(dg_day_today(), today);
	*why = "no_grant";
	memset(g, 0, sizeof(*g));
	dg_rc rc = dg_db_query(db,
			       "SELECT " X_GRANT_COLS " FROM xr_requests" X_GRANT_WHERE
			       " AND dept = ? AND registry = ? ORDER BY id",
			       DG_ARGS(DG_VT(dept), DG_VT(registry)), &rows);
	struct pick p = {0};
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		struct x_grant_row row;
		x_grant_row_of(rows, &row);
		pick_row(&p, &row, purpose, mode, today, g);
	}
	dg_rows_free(rows);
	if (rc != DG_ENOTFOUND)
		return rc;
	return pick_end(&p, why);
}

void x_grant_row_of(struct dg_rows *rows, struct x_grant_row *row)
{
	row->id = dg_rows_int(rows, 0);
	row->purpose = dg_rows_text(rows, 1);
	row->mode = dg_rows_text(rows, 2);
	row->ends = dg_rows_text(rows, 3);
	row->granted = dg_rows_text(rows, 4);
	row->clear = dg_rows_int(rows, 5) != 0;
	row->consent = dg_rows_int(rows, 6) != 0;
}
