/*
 * consent.c - a resident's consent to uses of their records that the law
 * does not already allow (GovStack's Consent building block, kept simpler).
 *
 * A grant may need consent (xr_requests.consent): the asking department
 * says so when it asks, or the owning department when it approves. Under
 * such a grant the exchange gives a person's record only while that
 * person's latest revision for the grant's purpose says "given"
 * (xapi.c refuses a read with no_consent and leaves the person out of a
 * bulk page).
 *
 * Each give or withdraw is a revision: the resident's revisions run 1, 2,
 * 3 ... and each one's hash links the one before it, with the audit log's
 * chaining code (audit.h dg_audit_link) over subject, purpose, state and
 * actor. Every revision is also an audit record (consent.change) in the
 * same transaction, so x_consent_verify finds an edited or reordered
 * revision by its hash, a removed one by the gap it leaves, and a removed
 * last one by the audit records that outnumber the revisions.
 */
#include "exchange/internal.h"

#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "core/date.h"

#define REVS_SHOWN 200 /* revisions listed to the resident */

dg_rc x_consent_has(struct dg_db *db, const char *subject, const char *purpose, bool *given)
{
	struct dg_rows *rows = NULL;
	*given = false;
	if (!subject || !*subject)
		return DG_OK;
	dg_rc rc = dg_db_query(db,
			       "SELECT state FROM xr_consent WHERE subject = ? AND purpose = ?"
			       " ORDER BY rev DESC LIMIT 1",
			       DG_ARGS(DG_VT(subject), DG_VT(purpose)), &rows);
	if (!rc)
		rc = dg_rows_next(rows);
	if (!rc)
		*given = strcmp(dg_rows_text(rows, 0), "given") == 0;
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

/* Whether any grant in force or asked for needs consent to purpose. */
static dg_rc purpose_asked(struct dg_db *db, const char *purpose, bool *asked)
{
	int64_t n = 0;
	dg_rc rc = dg_db_query_int(db,
				   "SELECT COUNT(*) FROM xr_requests WHERE consent = 1 AND"
				   " purpose = ? AND status IN ('approved','pending')",
				   DG_ARGS(DG_VT(purpose)), &n);
	*asked = n > 0;
	return rc;
}

/* The resident's last revision (0 and the zero hash when none) into rev and hash. */
static dg_rc last_rev(struct dg_db *db, const char *subject, int64_t *rev,
		      char hash[DG_AUDIT_HASH_HEX + 1])
{
	struct dg_rows *rows = NULL;
	*rev = 0;
	snprintf(hash, DG_AUDIT_HASH_HEX + 1, "%s", DG_AUDIT_ZERO_HASH);
	dg_rc rc = dg_db_query(db,
			       "SELECT rev, hash FROM xr_consent WHERE subject = ?"
			       " ORDER BY rev DESC LIMIT 1",
			       DG_ARGS(DG_VT(subject)), &rows);
	if (!rc)
		rc = dg_rows_next(rows);
	if (!rc) {
		*rev = dg_rows_int(rows, 0);
		snprintf(hash, DG_AUDIT_HASH_HEX + 1, "%s", dg_rows_text(rows, 1));
	}
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

static dg_rc link_of(const char *prev, int64_t rev, int64_t at_ms, const char *subject,
		     const char *purpose, const char *state, const char *actor,
		     char hex[DG_AUDIT_HASH_HEX + 1])
{
	const char *const texts[] = {subject, purpose, state, actor};
	return dg_audit_link(prev, rev, at_ms, texts, sizeof(texts) / sizeof(texts[0]), hex);
}

static dg_rc set_in_tx(struct dg_db *db, const char *subject, const char *purpose, bool give,
		       const char *actor, int64_t *rev, struct dg_err *err)
{
	bool given = false, asked = false;
	dg_rc rc = x_consent_has(db, subject, purpose, &given);
	if (!rc && give)
		rc = purpose_asked(db, purpose, &asked);
	if (rc)
		return rc;
	if (give && !asked)
		return dg_err_field(err, DG_EINVAL, "purpose",
				    "no department asks for your consent to %s", purpose);
	if (give == given)
		return dg_err_field(err, DG_ECONFLICT, "purpose",
				    give ? "your consent to %s is given already"
					 : "you have not given consent to %s: there is nothing to "
					   "withdraw",
				    purpose);
	char prev[DG_AUDIT_HASH_HEX + 1], hash[DG_AUDIT_HASH_HEX + 1];
	int64_t last = 0, at = dg_now_ms();
	const char *state = give ? "given" : "withdrawn";
	rc = last_rev(db, subject, &last, prev);
	if (!rc)
		rc = link_of(prev, last + 1, at, subject, purpose, state, actor, hash);
	if (rc)
		return rc == DG_EINVAL ? DG_EINTERNAL : rc;
	const char *h = hash;
	rc = dg_db_exec(db,
			"INSERT INTO xr_consent (subject, rev, purpose, state, at_ms, actor, hash)"
			" VALUES (?, ?, ?, ?, ?, ?, ?)",
			DG_ARGS(DG_VT(subject), DG_VI(last + 1), DG_VT(purpose), DG_VT(state),
				DG_VI(at), DG_VT(actor), DG_VT(h)),
			NULL);
	if (rc == DG_ECONFLICT)
		return dg_err_set(err, rc, "your consent changed at the same time: try again");
	if (rc)
		return rc;
	json_t *d = json_pack("{s:s,s:I,s:s}", "state", state, "rev", (json_int_t)(last + 1),
			      "hash", hash);
	struct dg_audit_rec rec = {.kind = "consent.change",
				   .actor = actor,
				   .subject = subject,
				   .purpose = purpose,
				   .detail = d};
	rc = dg_audit_append(db, &rec, NULL);
	json_decref(d);
	if (!rc && rev)
		*rev = last + 1;
	return rc;
}

dg_rc x_consent_set(struct dg_db *db, const char *subject, const char *purpose, bool give,
		    const char *actor, int64_t *rev, struct dg_err *err)
{
	if (!subject || !*subject)
		return dg_err_set(err, DG_EDENIED,
				  "consent is given by a resident whose ID number is on record");
	if (!purpose || !x_token_ok(purpose, X_PURPOSE_MAX))
		return dg_err_field(err, DG_EINVAL, "purpose",
				    "the purpose is a catalogue item code or a policy id");
	bool own = !dg_db_in_tx(db); /* the demo gives consent inside its transaction */
	dg_rc rc = own ? dg_db_begin(db) : DG_OK;
	if (rc)
		return rc;
	rc = set_in_tx(db, subject, purpose, give, actor, rev, err);
	if (!rc && own)
		rc = dg_db_commit(db);
	if (rc && own)
		dg_db_rollback(db);
	return rc;
}

/* The purposes grants ask consent for, each with who asks: {purpose: {asks: [...]}}. */
static dg_rc asks_by_purpose(struct dg_db *db, json_t *by)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db,
			       "SELECT r.purpose, r.dept, COALESCE(d.name_zh, r.dept),"
			       " COALESCE(d.name_en, r.dept), r.registry, r.fields, r.legal_basis,"
			       " r.status, r.ends FROM xr_requests r"
			       " LEFT JOIN departments d ON d.code = r.dept"
			       " WHERE r.consent = 1 AND r.status IN ('approved','pending')"
			       " ORDER BY r.purpose, r.id LIMIT 1000",
			       DG_NOARGS, &rows);
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		const char *p = dg_rows_text(rows, 0);
		json_t *entry = json_object_get(by, p);
		if (!entry) {
			entry = json_pack("{s:s,s:b,s:I,s:[]}", "purpose", p, "given", 0, "at_ms",
					  (json_int_t)0, "asks");
			json_object_set_new(by, p, entry);
		}
		json_array_append_new(
			json_object_get(entry, "asks"),
			json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "dept",
				  dg_rows_text(rows, 1), "dept_zh", dg_rows_text(rows, 2),
				  "dept_en", dg_rows_text(rows, 3), "registry",
				  dg_rows_text(rows, 4), "fields", dg_rows_text(rows, 5),
				  "legal_basis", dg_rows_text(rows, 6), "status",
				  dg_rows_text(rows, 7), "ends", dg_rows_text(rows, 8)));
	}
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

dg_rc x_consent_of(struct dg_db *db, const char *subject, json_t **out)
{
	json_t *by = json_object(), *revs = json_array();
	struct dg_rows *rows = NULL;
	dg_rc rc = asks_by_purpose(db, by);
	if (!rc && subject && *subject)
		rc = dg_db_query(db,
				 "SELECT rev, purpose, state, at_ms FROM xr_consent"
				 " WHERE subject = ? ORDER BY rev DESC LIMIT ?",
				 DG_ARGS(DG_VT(subject), DG_VI(REVS_SHOWN)), &rows);
	while (!rc && rows && (rc = dg_rows_next(rows)) == DG_OK) {
		const char *p = dg_rows_text(rows, 1), *state = dg_rows_text(rows, 2);
		int64_t at = dg_rows_int(rows, 3);
		json_array_append_new(revs, json_pack("{s:I,s:s,s:s,s:I}", "rev",
						      (json_int_t)dg_rows_int(rows, 0), "purpose",
						      p, "state", state, "at_ms", (json_int_t)at));
		json_t *entry = json_object_get(by, p);
		if (!entry) {
			/* no grant asks any more; a consent still given can be withdrawn */
			entry = json_pack("{s:s,s:b,s:I,s:[]}", "purpose", p, "given", 0, "at_ms",
					  (json_int_t)0, "asks");
			json_object_set_new(by, p, entry);
		}
		/* newest first: the first revision seen for a purpose is its state */
		if (json_integer_value(json_object_get(entry, "at_ms")) == 0) {
			json_object_set_new(entry, "given", json_boolean(!strcmp(state, "given")));
			json_object_set_new(entry, "at_ms", json_integer(at));
		}
	}
	dg_rows_free(rows);
	if (rc && rc != DG_ENOTFOUND) {
		json_decref(by);
		json_decref(revs);
		return rc;
	}
	json_t *purposes = json_array();
	const char *k;
	json_t *v;
	json_object_foreach (by, k, v)
		json_array_append(purposes, v);
	json_decref(by);
	*out = json_pack("{s:o,s:o}", "purposes", purposes, "revisions", revs);
	return DG_OK;
}

dg_rc x_request_require_consent(struct dg_db *db, struct dg_arena *a, int64_t id, const char *dept,
				bool admin, int64_t user_id, struct dg_err *err)
{
	char *rdept = NULL, *registry = NULL, *purpose = NULL;
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db,
			       "SELECT dept, registry, purpose FROM xr_requests WHERE id = ?"
			       " AND status IN ('approved','pending')",
			       DG_ARGS(DG_VI(id)), &rows);
	if (!rc)
		rc = dg_rows_next(rows);
	if (!rc) {
		rdept = dg_arena_strdup(a, dg_rows_text(rows, 0));
		registry = dg_arena_strdup(a, dg_rows_text(rows, 1));
		purpose = dg_arena_strdup(a, dg_rows_text(rows, 2));
	}
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, rc, "there is no request %lld in force", (long long)id);
	if (rc)
		return rc;
	const struct dg_entity *e = x_registry(registry);
	if (!admin && (!dept || !e || strcmp(e->owner, dept) != 0))
		return dg_err_set(err, DG_EDENIED,
				  "only the department that owns %s decides on its requests",
				  registry);
	bool own = !dg_db_in_tx(db);
	rc = own ? dg_db_begin(db) : DG_OK;
	if (!rc)
		rc = dg_db_exec(db, "UPDATE xr_requests SET consent = 1 WHERE id = ?",
				DG_ARGS(DG_VI(id)), NULL);
	char actor[64];
	snprintf(actor, sizeof actor, "user:%lld", (long long)user_id);
	json_t *d = json_pack("{s:I,s:s,s:s,s:s}", "request", (json_int_t)id, "change",
			      "consent required", "dept", rdept, "registry", registry);
	struct dg_audit_rec rec = {.kind = "grant.change",
				   .actor = actor,
				   .subject = "",
				   .purpose = purpose,
				   .detail = d};
	if (!rc)
		rc = dg_audit_append(db, &rec, NULL);
	json_decref(d);
	if (!rc && own)
		rc = dg_db_commit(db);
	if (rc && own)
		dg_db_rollback(db);
	return rc;
}

/* Compare each resident's last revision with their consent.change audit records. */
static dg_rc verify_tails(struct dg_db *db, struct x_consent_report *out)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db,
			       "SELECT c.subject, MAX(c.rev), (SELECT COUNT(*) FROM audit_log a"
			       " WHERE a.kind = 'consent.change' AND a.subject = c.subject)"
			       " FROM xr_consent c GROUP BY c.subject ORDER BY c.subject",
			       DG_NOARGS, &rows);
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		if (dg_rows_int(rows, 1) == dg_rows_int(rows, 2))
			continue;
		snprintf(out->subject, sizeof out->subject, "%s", dg_rows_text(rows, 0));
		out->bad_rev = dg_rows_int(rows, 1) + 1;
		snprintf(out->why, sizeof out->why,
			 "the audit log has %lld consent changes for this resident, the "
			 "revisions end at %lld",
			 (long long)dg_rows_int(rows, 2), (long long)dg_rows_int(rows, 1));
		rc = DG_ECONFLICT;
	}
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

dg_rc x_consent_verify(struct dg_db *db, struct x_consent_report *out)
{
	struct dg_rows *rows = NULL;
	memset(out, 0, sizeof(*out));
	char prev[DG_AUDIT_HASH_HEX + 1] = DG_AUDIT_ZERO_HASH, subject[129] = "";
	int64_t want = 1;
	/* one pass in (subject, rev) order: bounded by the table's size */
	dg_rc rc = dg_db_query(db,
			       "SELECT subject, rev, purpose, state, at_ms, actor, hash"
			       " FROM xr_consent ORDER BY subject, rev",
			       DG_NOARGS, &rows);
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		const char *s = dg_rows_text(rows, 0), *stored = dg_rows_text(rows, 6);
		int64_t rev = dg_rows_int(rows, 1);
		if (strcmp(s, subject) != 0) {
			snprintf(subject, sizeof subject, "%s", s);
			snprintf(prev, sizeof prev, "%s", DG_AUDIT_ZERO_HASH);
			want = 1;
		}
		char hash[DG_AUDIT_HASH_HEX + 1];
		out->revisions++;
		const char *why = NULL;
		if (rev != want)
			why = "a revision is missing before this one";
		else if (link_of(prev, rev, dg_rows_int(rows, 4), s, dg_rows_text(rows, 2),
				 dg_rows_text(rows, 3), dg_rows_text(rows, 5), hash) ||
			 strcmp(hash, stored) != 0)
			why = "its hash does not match its contents and the revision before";
		if (why) {
			snprintf(out->subject, sizeof out->subject, "%s", s);
			out->bad_rev = rev;
			snprintf(out->why, sizeof out->why, "%s", why);
			rc = DG_ECONFLICT;
			break;
		}
		snprintf(prev, sizeof prev, "%s", stored);
		want++;
	}
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND)
		rc = verify_tails(db, out);
	return rc;
}
