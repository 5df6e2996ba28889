/*
 * cert_sql.c - every statement of the certificate module, and its schema.
 *
 * A certificate row keeps each printed field in its own column, the exact
 * canonical text that was signed (payload), the signature and the id of the
 * key that made it. The department's code and names are copied at issue
 * time, because the certificate says what the department was called then.
 * Revocation adds four columns; its record is signed too (revoke_sig).
 */
#include "cert/internal.h"

#include <string.h>

const struct dg_migration dg_cert_migrations[] = {
	{"cert-001-certificates",
	 "CREATE TABLE certificates ("
	 " id TEXT PRIMARY KEY,"
	 " item_code TEXT NOT NULL,"
	 " title_zh TEXT NOT NULL,"
	 " title_en TEXT NOT NULL,"
	 " holder_user_id BIGINT NOT NULL REFERENCES users(id),"
	 " holder_name TEXT NOT NULL,"
	 " dept_id BIGINT NOT NULL REFERENCES departments(id),"
	 " dept_code TEXT NOT NULL,"
	 " dept_name_zh TEXT NOT NULL,"
	 " dept_name_en TEXT NOT NULL,"
	 " issuer TEXT NOT NULL,"
	 " case_ref TEXT NOT NULL DEFAULT '',"
	 " fields TEXT NOT NULL,"
	 " valid_from TEXT NOT NULL,"
	 " valid_until TEXT,"
	 " issued_ms BIGINT NOT NULL,"
	 " payload TEXT NOT NULL,"
	 " signature TEXT NOT NULL,"
	 " key_id TEXT NOT NULL,"
	 " revoked_ms BIGINT,"
	 " revoke_reason TEXT,"
	 " revoked_by BIGINT REFERENCES users(id),"
	 " revoke_sig TEXT);"
	 "CREATE INDEX certificates_holder ON certificates(holder_user_id, issued_ms);"
	 "CREATE INDEX certificates_dept ON certificates(dept_id, issued_ms);"
	 "CREATE INDEX certificates_case ON certificates(case_ref);"},
	{NULL, NULL},
};

#define COLS                                                                                       \
	"id, item_code, title_zh, title_en, holder_user_id, holder_name, dept_id, dept_code,"      \
	" dept_name_zh, dept_name_en, issuer, case_ref, fields, valid_from, valid_until,"          \
	" issued_ms, payload, signature, key_id, revoked_ms, revoke_reason, revoked_by, "          \
	"revoke_sig"

dg_rc cert_insert(struct dg_db *db, const struct cert_rec *c)
{
	return dg_db_exec(db,
			  "INSERT INTO certificates (id, item_code, title_zh, title_en, "
			  "holder_user_id, holder_name,"
			  " dept_id, dept_code, dept_name_zh, dept_name_en, issuer, case_ref, "
			  "fields, valid_from,"
			  " valid_until, issued_ms, payload, signature, key_id)"
			  " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			  DG_ARGS(DG_VT(c->id), DG_VT(c->item_code), DG_VT(c->title_zh),
				  DG_VT(c->title_en), DG_VI(c->holder_user_id),
				  DG_VT(c->holder_name), DG_VI(c->dept_id), DG_VT(c->dept_code),
				  DG_VT(c->dept_name_zh), DG_VT(c->dept_name_en), DG_VT(c->issuer),
				  DG_VT(c->case_ref), DG_VT(c->fields), DG_VT(c->valid_from),
				  DG_VT(*c->valid_until ? c->valid_until : NULL),
				  DG_VI(c->issued_ms), DG_VT(c->payload), DG_VT(c->signature),
				  DG_VT(c->key_id)),
			  NULL);
}

static const char *col(struct dg_arena *a, struct dg_rows *rows, int i)
{
	return dg_arena_strdup(a, dg_rows_text(rows, i));
}

static void read_row(struct dg_arena *a, struct dg_rows *rows, struct cert_rec *c)
{
	memset(c, 0, sizeof(*c));
	c->id = col(a, rows, 0);
	c->item_code = col(a, rows, 1);
	c->title_zh = col(a, rows, 2);
	c->title_en = col(a, rows, 3);
	c->holder_user_id = dg_rows_int(rows, 4);
	c->holder_name = col(a, rows, 5);
	c->dept_id = dg_rows_int(rows, 6);
	c->dept_code = col(a, rows, 7);
	c->dept_name_zh = col(a, rows, 8);
	c->dept_name_en = col(a, rows, 9);
	c->issuer = col(a, rows, 10);
	c->case_ref = col(a, rows, 11);
	c->fields = col(a, rows, 12);
	c->valid_from = col(a, rows, 13);
	c->valid_until = col(a, rows, 14);
	c->issued_ms = dg_rows_int(rows, 15);
	c->payload = col(a, rows, 16);
	c->signature = col(a, rows, 17);
	c->key_id = col(a, rows, 18);
	c->revoked_ms_null = dg_rows_isnull(rows, 19);
	c->revoked_ms = c->revoked_ms_null ? 0 : dg_rows_int(rows, 19);
	c->revoke_reason = col(a, rows, 20);
	c->revoked_by = dg_rows_isnull(rows, 21) ? 0 : dg_rows_int(rows, 21);
	c->revoke_sig = col(a, rows, 22);
}

dg_rc cert_load(struct dg_db *db, struct dg_arena *a, const char *id, struct cert_rec *out)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, "SELECT " COLS " FROM certificates WHERE id = ?",
			       DG_ARGS(DG_VT(id)), &rows);
	if (!rc)
		rc = dg_rows_next(rows);
	if (!rc)
		read_row(a, rows, out);
	dg_rows_free(rows);
	return rc;
}

dg_rc cert_list_holder(struct dg_db *db, struct dg_arena *a, int64_t user_id, struct cert_rec **out,
		       size_t *n)
{
	struct dg_rows *rows = NULL;
	struct cert_rec *list = dg_arena_alloc(a, sizeof(*list) * CERT_LIST_MAX);
	*n = 0;
	*out = list;
	dg_rc rc = dg_db_query(db,
			       "SELECT " COLS " FROM certificates WHERE holder_user_id = ?"
			       " ORDER BY issued_ms DESC, id LIMIT ?",
			       DG_ARGS(DG_VI(user_id), DG_VI(CERT_LIST_MAX)), &rows);
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK && *n < CERT_LIST_MAX)
		read_row(a, rows, &list[(*n)++]);
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

dg_rc cert_set_revoked(struct dg_db *db, const char *id, int64_t ms, int64_t by, const char *reason,
		       const char *sig)
{
	int64_t changes = 0;
	dg_rc rc = dg_db_exec(
		db,
		"UPDATE certificates SET revoked_ms = ?, revoked_by = ?, revoke_reason = ?,"
		" revoke_sig = ? WHERE id = ? AND revoked_ms IS NULL",
		DG_ARGS(DG_VI(ms), DG_VI(by), DG_VT(reason), DG_VT(sig), DG_VT(id)), &changes);
	if (!rc && changes == 0)
		rc = DG_ECONFLICT;
	return rc;
}

dg_rc cert_region_code(struct dg_db *db, struct dg_arena *a, const char **out)
{
	char *code = NULL;
	dg_rc rc =
		dg_db_query_text(db, "SELECT code FROM region WHERE id = 1", DG_NOARGS, a, &code);
	*out = code ? code : "";
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

dg_rc cert_dept(struct dg_db *db, struct dg_arena *a, int64_t dept_id, const char **code,
		const char **name_zh, const char **name_en)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, "SELECT code, name_zh, name_en FROM departments WHERE id = ?",
			       DG_ARGS(DG_VI(dept_id)), &rows);
	if (!rc)
		rc = dg_rows_next(rows);
	if (!rc) {
		*code = col(a, rows, 0);
		*name_zh = col(a, rows, 1);
		*name_en = col(a, rows, 2);
	}
	dg_rows_free(rows);
	return rc;
}

dg_rc cert_user_exists(struct dg_db *db, int64_t user_id)
{
	int64_t one = 0;
	return dg_db_query_int(db, "SELECT 1 FROM users WHERE id = ?", DG_ARGS(DG_VI(user_id)),
			       &one);
}
