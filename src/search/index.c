/*
 * index.c - the search indexes on either store (search.h): the condition a
 * query adds to its statement, the tsvector text of a document for
 * PostgreSQL, the FTS5 rows of SQLite, and the record of which tokenizer
 * version built an index.
 *
 * Every statement here is built from the index's names (fixed strings of
 * its owner, never input) and binds every value.
 */
#include "search/search_int.h"

#include <stdio.h>
#include <string.h>

#define FIELD_TEXT_MAX (4u << 20) /* bytes of one field's token text */

dg_rc dg_search_cond(enum dg_store_kind kind, const struct dg_search_index *ix, const char *id_sql,
		     struct dg_buf *sql)
{
	if (kind == DG_STORE_PG)
		return dg_buf_addf(sql,
				   "%s IN (SELECT doc FROM %s WHERE tsv @@ CAST(? AS tsquery))",
				   id_sql, ix->table);
	return dg_buf_addf(sql, "%s IN (SELECT rowid FROM %s WHERE %s MATCH ?)", id_sql, ix->table,
			   ix->table);
}

struct tsv {
	struct dg_buf *out;
	unsigned pos;
	char weight;
	bool full; /* positions ran out: the rest is left out */
};

static dg_rc tsv_token(void *ctx, const char *tok, size_t n, enum tok_kind kind)
{
	struct tsv *t = ctx;
	(void)kind;
	if (t->pos > DG_SEARCH_POS_MAX) {
		t->full = true;
		return DG_OK;
	}
	dg_rc rc = dg_buf_addf(t->out, "%s'", t->out->len ? " " : "");
	if (rc == DG_OK)
		rc = dg_buf_add(t->out, tok, n);
	if (rc == DG_OK)
		rc = dg_buf_addf(t->out, "':%u%c", t->pos, t->weight);
	t->pos++;
	return rc;
}

dg_rc dg_search_tsvector(const char *const *texts, size_t n, struct dg_buf *out)
{
	struct tsv t = {.out = out, .pos = 1};
	dg_rc rc = DG_OK;
	for (size_t i = 0; rc == DG_OK && i < n && i < DG_SEARCH_FIELDS_MAX && !t.full; i++) {
		t.weight = (char)('A' + i);
		const char *s = texts[i] ? texts[i] : "";
		rc = dg_search_scan(s, strlen(s), true, tsv_token, &t);
		t.pos++; /* a gap between fields: no phrase spans two */
	}
	return rc;
}

/* PostgreSQL: the document's tsvector, upserted. */
static dg_rc put_pg(struct dg_db *db, const struct dg_search_index *ix, int64_t id,
		    const char *const *texts)
{
	struct dg_buf tsv, sql;
	dg_buf_init(&tsv, FIELD_TEXT_MAX);
	dg_buf_init(&sql, 512);
	dg_rc rc = dg_search_tsvector(texts, ix->nfields, &tsv);
	if (rc == DG_ETOOBIG) {
		/* a document past the cap is indexed as far as it fits, at a token's end */
		const char *s = dg_buf_str(&tsv), *end = strrchr(s, ' ');
		tsv.len = end ? (size_t)(end - s) : 0;
		if (tsv.ptr)
			tsv.ptr[tsv.len] = '\0';
		rc = DG_OK;
	}
	if (rc == DG_OK)
		rc = dg_buf_addf(&sql,
				 "INSERT INTO %s (doc, tsv) VALUES (?, CAST(? AS tsvector))"
				 " ON CONFLICT (doc) DO UPDATE SET tsv = excluded.tsv",
				 ix->table);
	if (rc == DG_OK)
		rc = dg_db_exec(db, dg_buf_str(&sql), DG_ARGS(DG_VI(id), DG_VT(dg_buf_str(&tsv))),
				NULL);
	dg_buf_release(&tsv);
	dg_buf_release(&sql);
	return rc;
}

dg_rc dg_search_put(struct dg_db *db, const struct dg_search_index *ix, int64_t id,
		    const char *const *texts)
{
	if (dg_db_kind(db) == DG_STORE_PG)
		return put_pg(db, ix, id, texts);
	struct dg_buf sql, tok[DG_SEARCH_FIELDS_MAX];
	struct dg_val args[DG_SEARCH_FIELDS_MAX + 1];
	size_t n = ix->nfields;
	dg_buf_init(&sql, 4096);
	dg_rc rc = dg_buf_addf(&sql, "INSERT OR REPLACE INTO %s (rowid", ix->table);
	for (size_t i = 0; i < n; i++) {
		dg_buf_init(&tok[i], FIELD_TEXT_MAX);
		if (rc == DG_OK)
			rc = dg_buf_addf(&sql, ", %s", ix->fields[i]);
	}
	if (rc == DG_OK)
		rc = dg_buf_adds(&sql, ") VALUES (?");
	args[0] = DG_VI(id);
	for (size_t i = 0; rc == DG_OK && i < n; i++) {
		/* a field past the cap is indexed as far as it fits */
		dg_rc trc = dg_search_tokens(texts[i], &tok[i]);
		if (trc != DG_OK && trc != DG_ETOOBIG)
			rc = trc;
		args[i + 1] = DG_VT(dg_buf_str(&tok[i]));
		if (rc == DG_OK)
			rc = dg_buf_adds(&sql, ", ?");
	}
	if (rc == DG_OK)
		rc = dg_buf_addc(&sql, ')');
	if (rc == DG_OK)
		rc = dg_db_exec(db, dg_buf_str(&sql), args, n + 1, NULL);
	for (size_t i = 0; i < n; i++)
		dg_buf_release(&tok[i]);
	dg_buf_release(&sql);
	return rc;
}

dg_rc dg_search_delete(struct dg_db *db, const struct dg_search_index *ix, int64_t id)
{
	char sql[256];
	snprintf(sql, sizeof sql, "DELETE FROM %s WHERE %s = ?", ix->table,
		 dg_db_kind(db) == DG_STORE_PG ? "doc" : "rowid");
	return dg_db_exec(db, sql, DG_ARGS(DG_VI(id)), NULL);
}

size_t dg_search_copy_cols(enum dg_store_kind kind, const struct dg_search_index *ix,
			   const char **cols)
{
	if (kind == DG_STORE_PG) {
		cols[0] = "doc";
		cols[1] = "tsv";
		return 2;
	}
	cols[0] = "rowid";
	for (size_t i = 0; i < ix->nfields; i++)
		cols[i + 1] = ix->fields[i];
	return ix->nfields + 1;
}

dg_rc dg_search_copy_vals(enum dg_store_kind kind, const struct dg_search_index *ix, int64_t id,
			  const char *const *texts, struct dg_buf *bufs, const char **vals)
{
	size_t n = kind == DG_STORE_PG ? 2 : ix->nfields + 1;
	for (size_t i = 0; i < n; i++)
		dg_buf_reset(&bufs[i]);
	dg_rc rc = dg_buf_addf(&bufs[0], "%lld", (long long)id);
	if (rc == DG_OK && kind == DG_STORE_PG)
		rc = dg_search_tsvector(texts, ix->nfields, &bufs[1]);
	for (size_t i = 0; rc == DG_OK && kind != DG_STORE_PG && i < ix->nfields; i++)
		rc = dg_search_tokens(texts[i], &bufs[i + 1]);
	for (size_t i = 0; i < n; i++)
		vals[i] = dg_buf_str(&bufs[i]);
	return rc;
}

static dg_rc ensure_table(struct dg_db *db)
{
	return dg_db_exec(db,
			  "CREATE TABLE IF NOT EXISTS search_built (name TEXT PRIMARY KEY,"
			  " version BIGINT NOT NULL)",
			  DG_NOARGS, NULL);
}

dg_rc dg_search_stale(struct dg_db *db, const char *name, bool *stale)
{
	int64_t v = 0;
	*stale = true;
	dg_rc rc = ensure_table(db);
	if (rc == DG_OK)
		rc = dg_db_query_int(db, "SELECT version FROM search_built WHERE name = ?",
				     DG_ARGS(DG_VT(name)), &v);
	if (rc == DG_ENOTFOUND)
		return DG_OK;
	if (rc == DG_OK)
		*stale = v < DG_SEARCH_VERSION;
	return rc;
}

dg_rc dg_search_ready(struct dg_db *db, const char *name, bool *ready)
{
	int64_t v = 0;
	dg_rc rc = dg_db_query_int(db, "SELECT version FROM search_built WHERE name = ?",
				   DG_ARGS(DG_VT(name)), &v);
	*ready = rc == DG_OK && v >= DG_SEARCH_VERSION;
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

dg_rc dg_search_built(struct dg_db *db, const char *name)
{
	dg_rc rc = ensure_table(db);
	return rc ? rc
		  : dg_db_exec(db,
			       "INSERT INTO search_built (name, version) VALUES (?, ?)"
			       " ON CONFLICT (name) DO UPDATE SET version = excluded.version",
			       DG_ARGS(DG_VT(name), DG_VI(DG_SEARCH_VERSION)), NULL);
}

dg_rc dg_search_forget(struct dg_db *db, const char *name)
{
	dg_rc rc = ensure_table(db);
	return rc ? rc
		  : dg_db_exec(db, "DELETE FROM search_built WHERE name = ?", DG_ARGS(DG_VT(name)),
			       NULL);
}
