/*
 * cols.c - documents of many columns in one field (search.h): a table's
 * row, each token of column k written behind the column's tag "c<k>x", as
 * FTS5 token text or as a tsvector, and the queries over them (a word in
 * any of a set of columns) and their rank.
 *
 * Tags are prefix-free (digits, then the 'x' no digit is), and every token
 * of such a document carries one, so a query token behind tag k can only
 * meet tokens of column k, and no text a user writes can spell a tag: it
 * would be tagged again.
 */
#include "search/search_int.h"

#include <stdio.h>
#include <string.h>

#define DOC_TEXT_MAX (4u << 20) /* bytes of one document's text */

struct tagged {
	struct dg_buf *out;
	char tag[16];
	bool pg;
	unsigned pos;
	bool full; /* PostgreSQL's positions ran out: the rest is left out */
};

static dg_rc tag_token(void *ctx, const char *tok, size_t n, enum tok_kind kind)
{
	struct tagged *t = ctx;
	dg_rc rc;
	(void)kind;
	if (!t->pg) {
		rc = dg_buf_adds(t->out, t->tag);
		if (rc == DG_OK)
			rc = dg_buf_add(t->out, tok, n);
		return rc ? rc : dg_buf_addc(t->out, ' ');
	}
	if (t->pos > DG_SEARCH_POS_MAX) {
		t->full = true;
		return DG_OK;
	}
	/* no printf: a load writes one of these a token (it was most of a load's time) */
	char pos[16];
	size_t np = sizeof pos;
	unsigned v = t->pos;
	do
		pos[--np] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	pos[--np] = ':';
	pos[--np] = '\'';
	rc = t->out->len ? dg_buf_addc(t->out, ' ') : DG_OK;
	if (rc == DG_OK)
		rc = dg_buf_addc(t->out, '\'');
	if (rc == DG_OK)
		rc = dg_buf_adds(t->out, t->tag);
	if (rc == DG_OK)
		rc = dg_buf_add(t->out, tok, n);
	if (rc == DG_OK)
		rc = dg_buf_add(t->out, pos + np, sizeof pos - np);
	t->pos++;
	return rc;
}

/* Cut out back to its last whole token (after ETOOBIG). */
static void cut_to_token(struct dg_buf *out)
{
	const char *s = dg_buf_str(out), *end = strrchr(s, ' ');
	out->len = end ? (size_t)(end - s) : 0;
	if (out->ptr)
		out->ptr[out->len] = '\0';
}

dg_rc dg_search_cols_text(enum dg_store_kind kind, const char *const *texts, size_t n,
			  struct dg_buf *out)
{
	struct tagged t = {.out = out, .pg = kind == DG_STORE_PG, .pos = 1};
	size_t len0 = out->len;
	dg_rc rc = t.pg ? DG_OK : dg_buf_addc(out, ' ');
	for (size_t i = 0; rc == DG_OK && i < n && i < DG_SEARCH_COLS_MAX && !t.full; i++) {
		if (!texts[i] || !texts[i][0])
			continue;
		snprintf(t.tag, sizeof t.tag, "c%zux", i + 1);
		rc = dg_search_scan(texts[i], strlen(texts[i]), true, tag_token, &t);
		t.pos++; /* a gap between columns */
	}
	if (rc == DG_ETOOBIG && out->len > len0) {
		/* a row past the cap is indexed as far as it fits, at a token's end */
		cut_to_token(out);
		rc = DG_OK;
	}
	return rc;
}

dg_rc dg_search_put_cols(struct dg_db *db, const struct dg_search_index *ix, int64_t id,
			 const char *const *texts, size_t n)
{
	enum dg_store_kind kind = dg_db_kind(db);
	struct dg_buf doc, sql;
	dg_buf_init(&doc, DOC_TEXT_MAX);
	dg_buf_init(&sql, 512);
	dg_rc rc = dg_search_cols_text(kind, texts, n, &doc);
	if (rc == DG_OK && kind == DG_STORE_PG)
		rc = dg_buf_addf(&sql,
				 "INSERT INTO %s (doc, tsv) VALUES (?, CAST(? AS tsvector))"
				 " ON CONFLICT (doc) DO UPDATE SET tsv = excluded.tsv",
				 ix->table);
	else if (rc == DG_OK)
		rc = dg_buf_addf(&sql, "INSERT OR REPLACE INTO %s (rowid, %s) VALUES (?, ?)",
				 ix->table, ix->fields[0]);
	if (rc == DG_OK)
		rc = dg_db_exec(db, dg_buf_str(&sql), DG_ARGS(DG_VI(id), DG_VT(dg_buf_str(&doc))),
				NULL);
	dg_buf_release(&doc);
	dg_buf_release(&sql);
	return rc;
}

dg_rc dg_search_copy_cols_vals(enum dg_store_kind kind, int64_t id, const char *const *texts,
			       size_t n, struct dg_buf *bufs, const char **vals)
{
	dg_buf_reset(&bufs[0]);
	dg_buf_reset(&bufs[1]);
	dg_rc rc = dg_buf_addf(&bufs[0], "%lld", (long long)id);
	if (rc == DG_OK)
		rc = dg_search_cols_text(kind, texts, n, &bufs[1]);
	vals[0] = dg_buf_str(&bufs[0]);
	vals[1] = dg_buf_str(&bufs[1]);
	return rc;
}

dg_rc dg_search_ranked(enum dg_store_kind kind, const struct dg_search_index *ix, const char *id_as,
		       const char *rank_as, struct dg_buf *sql, size_t *nparams)
{
	if (kind == DG_STORE_PG) {
		*nparams = 2;
		return dg_buf_addf(
			sql,
			"(SELECT doc AS %s, ts_rank(tsv, CAST(? AS tsquery)) AS %s FROM %s"
			" WHERE tsv @@ CAST(? AS tsquery))",
			id_as, rank_as, ix->table);
	}
	/*
	 * bm25 is lower for a better match: negated, higher is better on both
	 * stores; the fields weigh as PostgreSQL's default weights of A, B, C
	 * and D do (1, 0.4, 0.2, 0.1)
	 */
	static const char *const weight[DG_SEARCH_FIELDS_MAX] = {"10", "4", "2", "1"};
	*nparams = 1;
	dg_rc rc = dg_buf_addf(sql, "(SELECT rowid AS %s, -bm25(%s", id_as, ix->table);
	for (size_t i = 0; rc == DG_OK && i < ix->nfields; i++)
		rc = dg_buf_addf(sql, ", %s", weight[i]);
	return rc ? rc
		  : dg_buf_addf(sql, ") AS %s FROM %s WHERE %s MATCH ?)", rank_as, ix->table,
				ix->table);
}

/* PostgreSQL: the GIN index over an index's documents. */
static dg_rc gin_create(struct dg_db *db, const struct dg_search_index *ix)
{
	char sql[256];
	snprintf(sql, sizeof sql, "CREATE INDEX %s_tsv ON %s USING GIN (tsv)", ix->table,
		 ix->table);
	return dg_db_exec(db, sql, DG_NOARGS, NULL);
}

/*
 * The index's table, with its GIN index on PostgreSQL unless gin is false;
 * recorded as built only with it (a bulk load records it once the GIN
 * index is there: dg_search_index_build).
 */
static dg_rc create(struct dg_db *db, const struct dg_search_index *ix, bool gin)
{
	struct dg_buf sql;
	dg_buf_init(&sql, 1024);
	dg_rc rc;
	bool pg = dg_db_kind(db) == DG_STORE_PG;
	if (pg) {
		rc = dg_buf_addf(&sql,
				 "CREATE TABLE %s (doc BIGINT PRIMARY KEY, tsv tsvector NOT NULL)",
				 ix->table);
	} else {
		rc = dg_buf_addf(&sql, "CREATE VIRTUAL TABLE %s USING fts5(", ix->table);
		for (size_t i = 0; rc == DG_OK && i < ix->nfields; i++)
			rc = dg_buf_addf(&sql, "%s, ", ix->fields[i]);
		if (rc == DG_OK)
			rc = dg_buf_adds(&sql, "tokenize = 'ascii')");
	}
	if (rc == DG_OK)
		rc = dg_db_exec(db, dg_buf_str(&sql), DG_NOARGS, NULL);
	if (rc == DG_OK && pg && gin)
		rc = gin_create(db, ix);
	if (rc == DG_OK && gin)
		rc = dg_search_built(db, ix->table);
	dg_buf_release(&sql);
	return rc;
}

dg_rc dg_search_create(struct dg_db *db, const struct dg_search_index *ix)
{
	return create(db, ix, true);
}

dg_rc dg_search_create_unindexed(struct dg_db *db, const struct dg_search_index *ix)
{
	return create(db, ix, false);
}

dg_rc dg_search_index_build(struct dg_db *db, const struct dg_search_index *ix)
{
	dg_rc rc = DG_OK;
	if (dg_db_kind(db) == DG_STORE_PG) {
		/*
		 * GIN sorts its entries in maintenance_work_mem (64 MB by default)
		 * and merges runs past it; this transaction's build gets more
		 */
		rc = dg_db_exec(db, "SET LOCAL maintenance_work_mem = '256MB'", DG_NOARGS, NULL);
		if (rc == DG_OK)
			rc = gin_create(db, ix);
	}
	return rc ? rc : dg_search_built(db, ix->table);
}

dg_rc dg_search_drop(struct dg_db *db, const struct dg_search_index *ix)
{
	char sql[256];
	snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", ix->table);
	dg_rc rc = dg_db_exec(db, sql, DG_NOARGS, NULL);
	return rc ? rc : dg_search_forget(db, ix->table);
}
