/*
 * fts.c - each DataStore table's full-text index (contract in fts.h): its
 * making and dropping, the documents of rows as they are written, and the
 * rebuild at start of the indexes a table lacks.
 *
 * Table names are dg_ds_table_name's ("ds_<hex>_<n>"), so "<table>_q" is
 * a plain identifier on both stores; every value is bound.
 */
#include "opendata/datastore/fts.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "opendata/datastore/datastore_int.h"

#define TEXT_MAX  64
#define BATCH_MAX 20000 /* rows a rebuild indexes a statement */

void dg_ds_fts_init(struct dg_ds_fts *f, const char *table)
{
	snprintf(f->name, sizeof f->name, "%s_q", table);
	f->ix = (struct dg_search_index){f->name, {"body"}, 1};
}

dg_rc dg_ds_fts_create(struct dg_db *db, const char *table)
{
	struct dg_ds_fts f;
	dg_ds_fts_init(&f, table);
	dg_rc rc = dg_search_drop(db, &f.ix);
	return rc ? rc : dg_search_create(db, &f.ix);
}

dg_rc dg_ds_fts_create_unindexed(struct dg_db *db, const char *table)
{
	struct dg_ds_fts f;
	dg_ds_fts_init(&f, table);
	dg_rc rc = dg_search_drop(db, &f.ix);
	return rc ? rc : dg_search_create_unindexed(db, &f.ix);
}

dg_rc dg_ds_fts_index_build(struct dg_db *db, const char *table)
{
	struct dg_ds_fts f;
	dg_ds_fts_init(&f, table);
	return dg_search_index_build(db, &f.ix);
}

dg_rc dg_ds_fts_drop(struct dg_db *db, const char *table)
{
	struct dg_ds_fts f;
	dg_ds_fts_init(&f, table);
	return dg_search_drop(db, &f.ix);
}

/*
 * A stored value's text as the API answers it (fts.h): s as the store reads
 * it back, NULL for NULL.
 */
static const char *stored_text(enum dg_ds_type t, const char *s, char buf[TEXT_MAX])
{
	if (!s)
		return NULL;
	switch (t) {
	case DG_DS_NUMERIC: snprintf(buf, TEXT_MAX, "%.15g", strtod(s, NULL)); return buf;
	case DG_DS_BOOL: return (s[0] == 't' || s[0] == '1') ? "true" : "false";
	case DG_DS_TIMESTAMP:
		/* the date and the time as words of their own ("08:30" finds 08:30:00) */
		if (strlen(s) > 10 && s[10] == 'T') {
			snprintf(buf, TEXT_MAX, "%.10s %s", s, s + 11);
			return buf;
		}
		return s;
	default: return s;
	}
}

/* A value's text as the API answers it (fts.h), for both stores alike. */
static const char *value_text(struct dg_rows *rows, int i, enum dg_ds_type t, char buf[TEXT_MAX])
{
	if (dg_rows_isnull(rows, i))
		return NULL;
	if (t == DG_DS_NUMERIC) { /* the store's number, whatever its text */
		snprintf(buf, TEXT_MAX, "%.15g", dg_rows_real(rows, i));
		return buf;
	}
	return stored_text(t, dg_rows_text(rows, i), buf);
}

/* The texts of the current row's columns 1..ncols-1 (column 0 is "_id"). */
static void row_texts(struct dg_rows *rows, const struct dg_ds_col *cols, size_t ncols,
		      const char **texts, char (*bufs)[TEXT_MAX])
{
	for (size_t i = 1; i < ncols; i++)
		texts[i - 1] = value_text(rows, (int)i, cols[i].type, bufs[i - 1]);
}

dg_rc dg_ds_fts_put(struct dg_db *db, const char *table, const struct dg_ds_col *cols, size_t ncols,
		    struct dg_rows *rows)
{
	struct dg_ds_fts f;
	const char **texts = dg_xcalloc(ncols, sizeof *texts);
	char(*bufs)[TEXT_MAX] = dg_xcalloc(ncols, sizeof *bufs);
	dg_ds_fts_init(&f, table);
	row_texts(rows, cols, ncols, texts, bufs);
	dg_rc rc = dg_search_put_cols(db, &f.ix, dg_rows_int(rows, 0), texts, ncols - 1);
	free(texts);
	free(bufs);
	return rc;
}

/* SELECT "_id", "a", ... FROM "table" WHERE "_id" > ? ORDER BY "_id" [LIMIT n] */
static dg_rc select_rows(struct dg_buf *sql, const char *table, const struct dg_ds_col *cols,
			 size_t ncols, long limit)
{
	dg_rc rc = dg_buf_adds(sql, "SELECT ");
	for (size_t i = 0; rc == DG_OK && i < ncols; i++)
		rc = dg_buf_addf(sql, "%s\"%s\"", i ? ", " : "", cols[i].id);
	if (rc == DG_OK)
		rc = dg_buf_addf(sql, " FROM \"%s\" WHERE \"_id\" > ? ORDER BY \"_id\"", table);
	if (rc == DG_OK && limit > 0)
		rc = dg_buf_addf(sql, " LIMIT %ld", limit);
	return rc;
}

/*
 * fill_some runs on two threads: the caller's reads the rows and writes
 * their documents (both on its store connection), a maker thread makes the
 * documents (the tokenizer's work) meanwhile. Rows go between them in
 * slices of SLICE_ROWS rows or SLICE_BYTES of texts, two slices in turn,
 * so memory is two slices whatever the table's size.
 */
#define SLICE_ROWS  2048u
#define SLICE_BYTES (4u << 20)
/* a row's document's cap; a slice's texts and documents, a few of them */
#define DOC_MAX   (4u << 20)
#define SLICE_MAX (64u << 20)

struct slice {
	size_t n;
	int64_t id[SLICE_ROWS];
	size_t *off;      /* text k of row r at in.ptr + off[r * ntexts + k] - 1; 0 for NULL */
	struct dg_buf in; /* the texts, each NUL-terminated */
	size_t doc[SLICE_ROWS]; /* row r's document at out.ptr + doc[r] */
	struct dg_buf out;      /* the documents, each NUL-terminated */
	dg_rc rc;               /* the maker's */
};

/* The maker's hand-off (mu guards todo, done, quit). */
struct maker {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct slice *todo; /* given, not yet taken */
	struct slice *done; /* made */
	bool quit;
	enum dg_store_kind kind;
	size_t ntexts;
};

/* Documents for every row of s (the maker thread's; s is its own meanwhile). */
static void slice_make(struct maker *m, struct slice *s)
{
	const char **texts = dg_xcalloc(m->ntexts ? m->ntexts : 1, sizeof *texts), *vals[2];
	struct dg_buf vbufs[2];
	dg_buf_init(&vbufs[0], 32);
	dg_buf_init(&vbufs[1], DOC_MAX);
	dg_buf_reset(&s->out);
	s->rc = DG_OK;
	for (size_t r = 0; s->rc == DG_OK && r < s->n; r++) {
		for (size_t k = 0; k < m->ntexts; k++) {
			size_t o = s->off[r * m->ntexts + k];
			texts[k] = o ? s->in.ptr + o - 1 : NULL;
		}
		s->doc[r] = s->out.len;
		s->rc = dg_search_copy_cols_vals(m->kind, s->id[r], texts, m->ntexts, vbufs, vals);
		if (s->rc == DG_OK)
			s->rc = dg_buf_add(&s->out, vals[1], strlen(vals[1]) + 1);
	}
	dg_buf_release(&vbufs[0]);
	dg_buf_release(&vbufs[1]);
	free(texts);
}

static void *maker_main(void *arg)
{
	struct maker *m = arg;
	pthread_mutex_lock(&m->mu);
	for (;;) {
		while (!m->todo && !m->quit)
			pthread_cond_wait(&m->cv, &m->mu);
		if (!m->todo)
			break;
		struct slice *s = m->todo;
		m->todo = NULL;
		pthread_mutex_unlock(&m->mu);
		slice_make(m, s);
		pthread_mutex_lock(&m->mu);
		m->done = s;
		pthread_cond_broadcast(&m->cv);
	}
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

/* Hand s to the maker (it has nothing in hand: the caller waited for its last). */
static void maker_give(struct maker *m, struct slice *s)
{
	pthread_mutex_lock(&m->mu);
	m->todo = s;
	m->done = NULL;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

/* Wait until the maker has made s. */
static void maker_wait(struct maker *m, const struct slice *s)
{
	pthread_mutex_lock(&m->mu);
	while (m->done != s)
		pthread_cond_wait(&m->cv, &m->mu);
	pthread_mutex_unlock(&m->mu);
}

/*
 * The next rows of rows into s, up to SLICE_ROWS, SLICE_BYTES of texts or
 * *left rows (-1: no limit; 0 once rows has ended, which is not read again);
 * *after gets the last id. DG_ENOTFOUND: none left.
 */
static dg_rc slice_fill(struct slice *s, struct dg_rows *rows, const struct dg_ds_col *cols,
			size_t ncols, const char **texts, char (*bufs)[TEXT_MAX], long *left,
			int64_t *after)
{
	dg_rc rc = DG_OK;
	s->n = 0;
	dg_buf_reset(&s->in);
	while (s->n < SLICE_ROWS && s->in.len < SLICE_BYTES && *left != 0 &&
	       (rc = dg_rows_next(rows)) == DG_OK) {
		size_t r = s->n++;
		s->id[r] = *after = dg_rows_int(rows, 0);
		row_texts(rows, cols, ncols, texts, bufs);
		for (size_t k = 0; rc == DG_OK && k + 1 < ncols; k++) {
			s->off[r * (ncols - 1) + k] = texts[k] ? s->in.len + 1 : 0;
			if (texts[k])
				rc = dg_buf_add(&s->in, texts[k], strlen(texts[k]) + 1);
		}
		if (*left > 0)
			(*left)--;
	}
	if (rc == DG_ENOTFOUND)
		*left = 0;
	if (rc == DG_OK || rc == DG_ENOTFOUND)
		return s->n ? DG_OK : DG_ENOTFOUND;
	return rc;
}

/* s's documents into the index through copy. */
static dg_rc slice_copy(const struct slice *s, struct dg_copy *copy)
{
	char id[24];
	const char *vals[2] = {id, NULL};
	dg_rc rc = s->rc;
	for (size_t r = 0; rc == DG_OK && r < s->n; r++) {
		snprintf(id, sizeof id, "%lld", (long long)s->id[r]);
		vals[1] = s->out.ptr + s->doc[r];
		rc = dg_db_copy_row(copy, vals);
	}
	return rc;
}

/*
 * Up to limit rows (0: all) after *after into the index by the bulk API; *n
 * gets how many. The rows are read a slice ahead of the documents written
 * (above); the documents are written in _id order all the same.
 */
static dg_rc fill_some(struct dg_db *db, const char *table, const struct dg_ds_col *cols,
		       size_t ncols, int64_t *after, long limit, long *n)
{
	struct dg_ds_fts f;
	struct dg_buf sql;
	struct dg_rows *rows = NULL;
	struct dg_copy *copy = NULL;
	const char *ccols[DG_SEARCH_FIELDS_MAX + 1];
	const char **texts = dg_xcalloc(ncols, sizeof *texts);
	char(*bufs)[TEXT_MAX] = dg_xcalloc(ncols, sizeof *bufs);
	struct slice *sl = dg_xcalloc(2, sizeof *sl); /* 64 KiB: not the worker's stack */
	struct maker m = {.kind = dg_db_kind(db), .ntexts = ncols ? ncols - 1 : 0};
	long left = limit > 0 ? limit : -1;
	pthread_t th;
	bool started = false;
	dg_ds_fts_init(&f, table);
	dg_buf_init(&sql, 1 << 20);
	for (int i = 0; i < 2; i++) {
		sl[i].off = dg_xcalloc(SLICE_ROWS * (m.ntexts ? m.ntexts : 1), sizeof *sl[i].off);
		dg_buf_init(&sl[i].in, SLICE_MAX);
		dg_buf_init(&sl[i].out, SLICE_MAX);
	}
	pthread_mutex_init(&m.mu, NULL);
	pthread_cond_init(&m.cv, NULL);
	*n = 0;
	size_t nc = dg_search_copy_cols(m.kind, &f.ix, ccols);
	dg_rc rc = select_rows(&sql, table, cols, ncols, limit);
	if (rc == DG_OK)
		rc = dg_db_query(db, dg_buf_str(&sql), DG_ARGS(DG_VI(*after)), &rows);
	if (rc == DG_OK)
		rc = dg_db_copy_begin(db, f.name, ccols, nc, &copy);
	if (rc == DG_OK && pthread_create(&th, NULL, maker_main, &m) != 0)
		rc = DG_EIO;
	started = rc == DG_OK;
	struct slice *cur = &sl[0], *next = &sl[1];
	if (rc == DG_OK &&
	    (rc = slice_fill(cur, rows, cols, ncols, texts, bufs, &left, after)) == DG_OK)
		maker_give(&m, cur);
	/* one slice being made while the next is read; then the made one is written */
	while (rc == DG_OK) {
		dg_rc frc = slice_fill(next, rows, cols, ncols, texts, bufs, &left, after);
		maker_wait(&m, cur);
		if (frc == DG_OK)
			maker_give(&m, next);
		rc = slice_copy(cur, copy);
		*n += (long)cur->n;
		if (rc == DG_OK)
			rc = frc;
		struct slice *t = cur;
		cur = next;
		next = t;
	}
	if (rc == DG_ENOTFOUND)
		rc = DG_OK;
	if (started) { /* the maker ends once it has made what it was given */
		pthread_mutex_lock(&m.mu);
		m.quit = true;
		pthread_cond_broadcast(&m.cv);
		pthread_mutex_unlock(&m.mu);
		pthread_join(th, NULL);
	}
	if (copy) {
		dg_rc erc = dg_db_copy_end(copy, rc == DG_OK);
		if (rc == DG_OK)
			rc = erc;
	}
	dg_rows_free(rows);
	dg_buf_release(&sql);
	for (int i = 0; i < 2; i++) {
		free(sl[i].off);
		dg_buf_release(&sl[i].in);
		dg_buf_release(&sl[i].out);
	}
	free(sl);
	pthread_cond_destroy(&m.cv);
	pthread_mutex_destroy(&m.mu);
	free(texts);
	free(bufs);
	return rc;
}

dg_rc dg_ds_fts_fill(struct dg_db *db, const char *table, const struct dg_ds_col *cols,
		     size_t ncols, int64_t *after)
{
	long n = 0;
	return fill_some(db, table, cols, ncols, after, 0, &n);
}

dg_rc dg_ds_fts_refill(struct dg_db *db, const char *table, const struct dg_ds_col *cols,
		       size_t ncols, int64_t *after, long limit, long *n)
{
	struct dg_ds_fts f;
	char sql[2 * DG_DS_TABLE_MAX + 160];
	int64_t last = 0;
	const char *doc = dg_db_kind(db) == DG_STORE_PG ? "doc" : "rowid";
	dg_ds_fts_init(&f, table);
	/* the last of the next limit rows: the range's end (none: the rest) */
	snprintf(sql, sizeof sql,
		 "SELECT \"_id\" FROM \"%s\" WHERE \"_id\" > ? ORDER BY \"_id\" LIMIT 1 OFFSET ?",
		 table);
	dg_rc rc =
		dg_db_query_int(db, sql, DG_ARGS(DG_VI(*after), DG_VI((int64_t)limit - 1)), &last);
	if (rc != DG_OK && rc != DG_ENOTFOUND)
		return rc;
	/* a writer's documents of these rows go: they are made again from the rows as they are */
	snprintf(sql, sizeof sql, "DELETE FROM %s WHERE %s > ?%s", f.name, doc,
		 rc == DG_OK ? (dg_db_kind(db) == DG_STORE_PG ? " AND doc <= ?" : " AND rowid <= ?")
			     : "");
	if (rc == DG_OK)
		rc = dg_db_exec(db, sql, DG_ARGS(DG_VI(*after), DG_VI(last)), NULL);
	else
		rc = dg_db_exec(db, sql, DG_ARGS(DG_VI(*after)), NULL);
	return rc ? rc : fill_some(db, table, cols, ncols, after, limit, n);
}

dg_rc dg_ds_fts_check(struct dg_db *db, const char *table, const struct dg_ds_where *w,
		      struct dg_err *err)
{
	struct dg_ds_fts f;
	bool ready = false;
	if (w->nranks == 0) /* no q that reads the index */
		return DG_OK;
	dg_ds_fts_init(&f, table);
	dg_rc rc = dg_search_ready(db, f.name, &ready);
	if (rc != DG_OK)
		return dg_err_set(err, rc, "The store is not available");
	if (!ready)
		return dg_err_field(err, DG_EINVAL, "q",
				    "The full-text index of this table is being built (its rows "
				    "are readable; q works once every row is indexed): try again "
				    "in a moment");
	return DG_OK;
}

dg_rc dg_ds_fts_unindex(struct dg_db *db, const char *table, const char *where_sql,
			const struct dg_val *args, size_t nargs)
{
	struct dg_ds_fts f;
	struct dg_buf sql;
	dg_ds_fts_init(&f, table);
	dg_buf_init(&sql, 1 << 20);
	dg_rc rc = dg_buf_addf(&sql, "DELETE FROM %s WHERE %s IN (SELECT \"_id\" FROM \"%s\"%s)",
			       f.name, dg_db_kind(db) == DG_STORE_PG ? "doc" : "rowid", table,
			       where_sql);
	if (rc == DG_OK)
		rc = dg_db_exec(db, dg_buf_str(&sql), args, nargs, NULL);
	dg_buf_release(&sql);
	return rc;
}

/* One table's index made again from its rows, in one transaction. */
static dg_rc rebuild_one(struct dg_db *db, const char *resource_id)
{
	struct dg_ds_table t = {0};
	struct dg_ds_col *cols = NULL;
	size_t ncols = 0;
	int64_t after = 0;
	long n = 0;
	dg_rc rc = dg_db_begin(db);
	if (rc == DG_OK)
		rc = dg_ds_sql_lookup(db, resource_id, &t);
	if (rc == DG_OK) {
		cols = dg_ds_cols(&t, &ncols);
		rc = dg_ds_fts_create(db, t.table);
	}
	do
		rc = rc ? rc : fill_some(db, t.table, cols, ncols, &after, BATCH_MAX, &n);
	while (rc == DG_OK && n == BATCH_MAX);
	if (rc == DG_OK)
		rc = dg_db_commit(db);
	if (rc != DG_OK && dg_db_in_tx(db))
		dg_db_rollback(db);
	json_decref(t.fields);
	free(cols);
	return rc == DG_ENOTFOUND ? DG_OK : rc; /* dropped meanwhile */
}

dg_rc dg_datastore_fts_rebuild(struct dg_db *db)
{
	struct dg_rows *rows = NULL;
	json_t *todo = json_array();
	/* the list first: each rebuild is a transaction of its own */
	dg_rc rc = dg_db_query(db, "SELECT resource_id FROM datastore_tables ORDER BY resource_id",
			       DG_NOARGS, &rows);
	while (rc == DG_OK && (rc = dg_rows_next(rows)) == DG_OK)
		json_array_append_new(todo, json_string(dg_rows_text(rows, 0)));
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND)
		rc = DG_OK;
	size_t i;
	json_t *v;
	json_array_foreach (todo, i, v) {
		struct dg_ds_table t = {0};
		struct dg_ds_fts f;
		bool stale = false;
		if (rc != DG_OK)
			break;
		if ((rc = dg_ds_sql_lookup(db, json_string_value(v), &t)) == DG_ENOTFOUND) {
			rc = DG_OK;
			continue;
		}
		dg_ds_fts_init(&f, t.table);
		json_decref(t.fields);
		if (rc == DG_OK)
			rc = dg_search_stale(db, f.name, &stale);
		if (rc == DG_OK && stale) {
			dg_info("datastore: indexing the words of %s", t.table);
			rc = rebuild_one(db, json_string_value(v));
		}
	}
	json_decref(todo);
	return rc;
}
