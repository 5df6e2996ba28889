/*
 * sqlite.c - the SQLite backend of the store: the embedded default.
 *
 * Each pooled connection is opened NOMUTEX (the pool guarantees one thread
 * at a time) and set to WAL, synchronous=FULL, foreign keys on and a 10 s
 * busy wait, so writers from several threads queue instead of failing. The
 * wait is our own handler, polling every half millisecond: SQLite's
 * built-in one backs off to sleeps of up to 100 ms, so a writer that just
 * missed the lock slept long after it was free again, and the tail of every
 * write (and of the requests queued behind it on the same HTTP thread) was
 * those sleeps (bench/soak: p99 767 ms with it, 140 ms with this).
 * FULL, not NORMAL: in WAL mode NORMAL may lose the last commits when the
 * machine (not just the process) goes down, and what dgov has acknowledged
 * to a resident must survive that too.
 * Statements that recur are kept prepared in the connection's cache
 * (stmtcache.h), prepared with SQLITE_PREPARE_PERSISTENT and reset with
 * their bindings cleared when their caller is done, so no kept statement
 * holds a read transaction open; a schema change makes SQLite re-prepare one
 * at its next step, and an error there fails that step like any other. The
 * rest are prepared per call and finalized. A statement that is not inside
 * an explicit transaction and still meets SQLITE_BUSY (a stale WAL snapshot
 * does not wait in the busy handler) is retried a bounded number of times.
 */
#include "store/backend.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"

#define BUSY_RETRIES 200     /* x 5..50 ms: about the 10 s of the busy wait */
#define BUSY_POLL_NS 500000L /* the busy wait's step: half a millisecond */
#define BUSY_POLLS   20000   /* steps in 10 s */

/* SQLite's busy handler: wait a step and try again, for up to 10 s. */
static int busy_wait(void *arg, int calls)
{
	(void)arg;
	if (calls >= BUSY_POLLS)
		return 0;
	struct timespec ts = {0, BUSY_POLL_NS};
	nanosleep(&ts, NULL);
	return 1;
}

struct sq_rows {
	struct dg_rows base;
	sqlite3_stmt *st;
	struct dg_stmt_slot *slot; /* st's place in the cache, NULL when not kept */
	bool started, done;
};

static void sq_log(sqlite3 *h, int code, const char *what)
{
	dg_error("sqlite: %s: %s (%d)", what, h ? sqlite3_errmsg(h) : sqlite3_errstr(code), code);
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The progress handler: a non-zero answer interrupts the statement. */
static int over_budget(void *arg)
{
	struct dg_db *db = arg;
	return db->timeout_ms && now_us() > db->deadline_us;
}

/* A statement's budget starts at its first step. */
static void start_budget(struct dg_db *db)
{
	if (db->timeout_ms)
		db->deadline_us = now_us() + (int64_t)db->timeout_ms * 1000;
}

/* Note a statement cut off by the budget (SQLITE_INTERRUPT from over_budget). */
static void note_interrupt(struct dg_db *db, int code)
{
	if ((code & 0xff) == SQLITE_INTERRUPT && db->timeout_ms)
		db->timed_out = true;
}

static dg_rc sq_set_timeout(struct dg_db *db)
{
	/* every 1000 VM steps: well under a millisecond between checks */
	if (db->timeout_ms)
		sqlite3_progress_handler(db->conn, 1000, over_budget, db);
	else
		sqlite3_progress_handler(db->conn, 0, NULL, NULL);
	return DG_OK;
}

static dg_rc map_rc(int code)
{
	switch (code) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_FOREIGNKEY: return DG_ECONFLICT;
	case SQLITE_FULL: return DG_ENOSPC;
	case SQLITE_TOOBIG: return DG_ETOOBIG; /* a value over the connection's length limit */
	default: return DG_EDB;
	}
}

static dg_rc sq_connect(const char *url, void **conn)
{
	sqlite3 *h = NULL;
	*conn = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	int code = sqlite3_open_v2(url, &h, flags, NULL);
	if (code != SQLITE_OK) {
		sq_log(h, code, "open");
		sqlite3_close(h);
		return DG_EDB;
	}
	sqlite3_extended_result_codes(h, 1);
	/* not sqlite3_busy_timeout (nor PRAGMA busy_timeout, which would replace this): see above
	 */
	sqlite3_busy_handler(h, busy_wait, NULL);
	static const char setup[] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
				    "PRAGMA foreign_keys=ON;";
	char *msg = NULL;
	code = sqlite3_exec(h, setup, NULL, NULL, &msg);
	if (code != SQLITE_OK) {
		dg_error("sqlite: setup: %s", msg ? msg : sqlite3_errstr(code));
		sqlite3_free(msg);
		sqlite3_close(h);
		return DG_EDB;
	}
	*conn = h;
	return DG_OK;
}

static void sq_disconnect(void *conn)
{
	sqlite3_close_v2(conn);
}

static dg_rc sq_check(struct dg_db *db)
{
	(void)db;
	return DG_OK;
}

static bool sq_in_tx(struct dg_db *db)
{
	return sqlite3_get_autocommit(db->conn) == 0;
}

static dg_rc bind_all(sqlite3 *h, sqlite3_stmt *st, const struct dg_val *args, size_t nargs)
{
	int code = SQLITE_OK;
	for (size_t i = 0; i < nargs && code == SQLITE_OK; i++) {
		int k = (int)i + 1;
		switch (args[i].t) {
		case DG_V_INT: code = sqlite3_bind_int64(st, k, args[i].i); break;
		case DG_V_REAL: code = sqlite3_bind_double(st, k, args[i].r); break;
		case DG_V_TEXT:
			code = args[i].s ? sqlite3_bind_text(st, k, args[i].s, -1, SQLITE_STATIC)
					 : sqlite3_bind_null(st, k);
			break;
		default: code = sqlite3_bind_null(st, k);
		}
	}
	if (code != SQLITE_OK) {
		sq_log(h, code, "bind");
		return DG_EDB;
	}
	return DG_OK;
}

static bool is_busy(int code)
{
	return (code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED;
}

static void busy_pause(int attempt)
{
	long ms = 5 + (attempt % 10) * 5;
	struct timespec ts = {0, ms * 1000000L};
	nanosleep(&ts, NULL);
}

static void drop_stmt(void *ctx, void *st)
{
	(void)ctx;
	sqlite3_finalize(st);
}

/* A statement's caller is done with it: back into the cache, or finalized. */
static void give_back(struct dg_db *db, sqlite3_stmt *st, struct dg_stmt_slot *slot)
{
	if (!slot) {
		sqlite3_finalize(st);
		return;
	}
	sqlite3_reset(st); /* its error, if any, was reported by the step that met it */
	sqlite3_clear_bindings(st);
	dg_stmt_cache_release(db->stmts, slot);
	if (slot->stale)
		dg_stmt_cache_remove(db->stmts, slot, drop_stmt, NULL);
}

/*
 * A statement for sql with args bound: the cached one when cache allows and
 * it is idle, else a new one, kept in the cache from the second sighting.
 */
static dg_rc prepare(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs,
		     bool cache, sqlite3_stmt **out, struct dg_stmt_slot **slot)
{
	sqlite3 *h = db->conn;
	uint64_t hash = cache ? dg_stmt_hash(sql) : 0;
	*out = NULL;
	*slot = cache ? dg_stmt_cache_find(db->stmts, sql, hash) : NULL;
	/* preparing may run the VM too (re-reading a changed schema), so the
	   progress handler must not see the last statement's deadline */
	start_budget(db);
	if (*slot) {
		*out = (*slot)->stmt;
	} else {
		bool keep = cache && dg_stmt_cache_admit(db->stmts, hash);
		unsigned flags = keep ? SQLITE_PREPARE_PERSISTENT : 0;
		int code = sqlite3_prepare_v3(h, sql, -1, flags, out, NULL);
		if (code != SQLITE_OK) {
			sq_log(h, code, "prepare");
			dg_error("sqlite: in: %.200s", sql);
			return DG_EDB;
		}
		if (keep)
			*slot = dg_stmt_cache_add(db->stmts, sql, hash, *out, drop_stmt, NULL);
	}
	dg_rc rc = DG_EDB;
	if (sqlite3_bind_parameter_count(*out) != (int)nargs)
		dg_error("sqlite: %d placeholders but %zu arguments in: %.200s",
			 sqlite3_bind_parameter_count(*out), nargs, sql);
	else
		rc = bind_all(h, *out, args, nargs);
	if (rc != DG_OK) {
		give_back(db, *out, *slot);
		*out = NULL;
		*slot = NULL;
	}
	return rc;
}

/* First step, retrying a busy statement outside an explicit transaction. */
static int first_step(sqlite3 *h, sqlite3_stmt *st)
{
	int code = sqlite3_step(st);
	for (int i = 0; is_busy(code) && sqlite3_get_autocommit(h) && i < BUSY_RETRIES; i++) {
		sqlite3_reset(st);
		busy_pause(i);
		code = sqlite3_step(st);
	}
	return code;
}

static dg_rc sq_exec(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs,
		     int64_t *changes, bool cache)
{
	sqlite3 *h = db->conn;
	sqlite3_stmt *st = NULL;
	struct dg_stmt_slot *slot = NULL;
	dg_rc rc = prepare(db, sql, args, nargs, cache, &st, &slot);
	if (rc != DG_OK)
		return rc;
	start_budget(db);
	int code = first_step(h, st);
	while (code == SQLITE_ROW)
		code = sqlite3_step(st);
	if (code != SQLITE_DONE) {
		note_interrupt(db, code);
		rc = map_rc(code);
		if (rc == DG_EDB)
			sq_log(h, code, "exec");
		else
			dg_debug("sqlite: constraint: %s", sqlite3_errmsg(h));
	} else if (changes) {
		*changes = sqlite3_changes64(h);
	}
	give_back(db, st, slot);
	return rc;
}

static dg_rc sq_exec_script(struct dg_db *db, const char *sql)
{
	char *msg = NULL;
	start_budget(db);
	int code = sqlite3_exec(db->conn, sql, NULL, NULL, &msg);
	if (code == SQLITE_OK)
		return DG_OK;
	note_interrupt(db, code);
	dg_error("sqlite: script: %s", msg ? msg : sqlite3_errstr(code));
	sqlite3_free(msg);
	return map_rc(sqlite3_extended_errcode(db->conn));
}

static const struct dg_backend *self(void);

static dg_rc sq_query(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs,
		      struct dg_rows **out, bool cache)
{
	sqlite3_stmt *st = NULL;
	struct dg_stmt_slot *slot = NULL;
	dg_rc rc = prepare(db, sql, args, nargs, cache, &st, &slot);
	if (rc != DG_OK)
		return rc;
	struct sq_rows *r = dg_xcalloc(1, sizeof(*r));
	r->base.be = self();
	r->base.db = db;
	r->st = st;
	r->slot = slot;
	*out = &r->base;
	return DG_OK;
}

static dg_rc sq_next(struct dg_rows *base)
{
	struct sq_rows *r = (struct sq_rows *)base;
	sqlite3 *h = base->db->conn;
	if (r->done)
		return DG_ENOTFOUND; /* stepping again would rerun the statement */
	/* a statement that has not stepped yet may retry on busy */
	if (!r->started)
		start_budget(base->db);
	int code = r->started ? sqlite3_step(r->st) : first_step(h, r->st);
	r->started = true;
	if (code == SQLITE_ROW)
		return DG_OK;
	r->done = true;
	if (code == SQLITE_DONE)
		return DG_ENOTFOUND;
	note_interrupt(base->db, code);
	dg_rc rc = map_rc(code);
	if (rc == DG_EDB)
		sq_log(h, code, "step");
	return rc;
}

static int sq_ncols(const struct dg_rows *base)
{
	return sqlite3_column_count(((const struct sq_rows *)base)->st);
}

static const char *sq_colname(const struct dg_rows *base, int col)
{
	const char *n = sqlite3_column_name(((const struct sq_rows *)base)->st, col);
	return n ? n : "";
}

static bool sq_isnull(const struct dg_rows *base, int col)
{
	return sqlite3_column_type(((const struct sq_rows *)base)->st, col) == SQLITE_NULL;
}

static enum dg_vtype sq_vtype(const struct dg_rows *base, int col)
{
	switch (sqlite3_column_type(((const struct sq_rows *)base)->st, col)) {
	case SQLITE_NULL: return DG_V_NULL;
	case SQLITE_INTEGER: return DG_V_INT;
	case SQLITE_FLOAT: return DG_V_REAL;
	default: return DG_V_TEXT;
	}
}

static const char *sq_text(const struct dg_rows *base, int col)
{
	const unsigned char *t = sqlite3_column_text(((const struct sq_rows *)base)->st, col);
	return t ? (const char *)t : "";
}

static int64_t sq_int(const struct dg_rows *base, int col)
{
	return sqlite3_column_int64(((const struct sq_rows *)base)->st, col);
}

static double sq_real(const struct dg_rows *base, int col)
{
	return sqlite3_column_double(((const struct sq_rows *)base)->st, col);
}

static void sq_free_rows(struct dg_rows *base)
{
	struct sq_rows *r = (struct sq_rows *)base;
	give_back(base->db, r->st, r->slot);
	free(r);
}

static void sq_forget(struct dg_db *db)
{
	dg_stmt_cache_clear(db->stmts, drop_stmt, NULL);
}

/*
 * Bulk loading. A statement per row paid SQLite's per-statement work for
 * every row: preparing the step, and with an AUTOINCREMENT key (every
 * DataStore table's `_id`) reading and writing sqlite_sequence, which is
 * done once per statement, not per row. So rows wait (their values copied
 * into c->buf) until COPY_GROUP of them fill one prepared INSERT of that
 * many VALUES tuples (fewer when the columns would pass SQLite's limit of
 * variables): measured on 200 000 rows of 7 columns, about half the CPU of
 * one INSERT per row. Rows waiting when the values pass COPY_FLUSH bytes,
 * and at the end, go in a statement of their own size; a row bigger than
 * that alone goes straight in. The cost: a value the store refuses fails
 * the row that sends its group, or the copy's end, not its own row.
 */
#define COPY_GROUP 32
#define COPY_FLUSH ((size_t)1 << 20)

/* An INSERT of rows tuples: sql (one row's, ending in its VALUES tuple), the tuple repeated. */
static sqlite3_stmt *group_stmt(sqlite3 *h, const char *sql, size_t rows)
{
	/* the last ") VALUES (": a quoted column name may hold those words, the tuple cannot */
	const char *tuple = NULL;
	for (const char *p = strstr(sql, ") VALUES ("); p; p = strstr(p + 1, ") VALUES ("))
		tuple = p;
	sqlite3_stmt *st = NULL;
	if (!tuple)
		return NULL;
	tuple += 9;
	size_t n = strlen(sql), t = strlen(tuple);
	char *text = dg_xmalloc(n + (rows - 1) * (t + 2) + 1), *p = text;
	memcpy(p, sql, n);
	p += n;
	for (size_t i = 1; i < rows; i++, p += t + 2) {
		memcpy(p, ", ", 2);
		memcpy(p + 2, tuple, t);
	}
	*p = '\0';
	int code = sqlite3_prepare_v2(h, text, (int)(p - text), &st, NULL);
	if (code != SQLITE_OK) {
		sq_log(h, code, "prepare");
		dg_error("sqlite: in: %.200s", sql);
		st = NULL;
	}
	free(text);
	return st;
}

static dg_rc sq_copy_begin(struct dg_copy *c, const char *sql)
{
	sqlite3 *h = c->db->conn;
	int vars = sqlite3_limit(h, SQLITE_LIMIT_VARIABLE_NUMBER, -1);
	c->group = vars > 0 && (size_t)vars / c->ncols < COPY_GROUP ? (size_t)vars / c->ncols
								    : COPY_GROUP;
	if (c->group == 0)
		c->group = 1;
	start_budget(c->db);
	c->st = group_stmt(h, sql, c->group);
	if (!c->st)
		return DG_EDB;
	c->sql = dg_xstrdup(sql);
	c->off = dg_xcalloc(c->group * c->ncols, sizeof *c->off);
	return DG_OK;
}

/* Step st with rows rows of values: each vals(r)[k], bound as they are (not copied). */
static dg_rc step_rows(struct dg_copy *c, sqlite3_stmt *st, size_t rows, const char *const *one)
{
	int code = SQLITE_OK;
	for (size_t r = 0; code == SQLITE_OK && r < rows; r++)
		for (size_t k = 0; code == SQLITE_OK && k < c->ncols; k++) {
			const char *v = one ? one[k] : NULL;
			size_t off = one ? 0 : c->off[r * c->ncols + k];
			if (!one && off)
				v = c->buf.ptr + off - 1;
			int i = (int)(r * c->ncols + k) + 1;
			code = v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC)
				 : sqlite3_bind_null(st, i);
		}
	if (code == SQLITE_OK) {
		start_budget(c->db);
		code = sqlite3_step(st);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (code == SQLITE_DONE)
		return DG_OK;
	note_interrupt(c->db, code);
	sq_log(c->db->conn, code, "copy");
	return map_rc(code);
}

/* The rows waiting (or only `one`, when given) into the table, in a statement of their number. */
static dg_rc flush_rows(struct dg_copy *c, const char *const *one)
{
	size_t rows = one ? 1 : c->pending;
	if (rows == 0)
		return DG_OK;
	sqlite3_stmt *st = rows == c->group ? c->st : group_stmt(c->db->conn, c->sql, rows);
	dg_rc rc = st ? step_rows(c, st, rows, one) : DG_EDB;
	if (st && st != c->st)
		sqlite3_finalize(st);
	if (!one) {
		c->pending = 0;
		dg_buf_reset(&c->buf);
	}
	return rc;
}

static dg_rc sq_copy_row(struct dg_copy *c, const char *const *vals)
{
	size_t bytes = 0;
	for (size_t k = 0; k < c->ncols; k++)
		bytes += vals[k] ? strlen(vals[k]) + 1 : 0;
	dg_rc rc = DG_OK;
	if (c->pending && c->buf.len + bytes > COPY_FLUSH)
		rc = flush_rows(c, NULL);
	if (rc != DG_OK || bytes > COPY_FLUSH)
		return rc != DG_OK ? rc : flush_rows(c, vals);
	size_t *off = c->off + c->pending * c->ncols;
	for (size_t k = 0; rc == DG_OK && k < c->ncols; k++) {
		off[k] = vals[k] ? c->buf.len + 1 : 0;
		if (vals[k])
			rc = dg_buf_add(&c->buf, vals[k], strlen(vals[k]) + 1);
	}
	if (rc != DG_OK)
		return rc;
	if (++c->pending == c->group)
		rc = flush_rows(c, NULL);
	return rc;
}

static dg_rc sq_copy_end(struct dg_copy *c, bool keep)
{
	/* the rows are in the caller's transaction: it commits or rolls back */
	dg_rc rc = keep ? flush_rows(c, NULL) : DG_OK;
	sqlite3_finalize(c->st);
	c->st = NULL;
	free(c->off);
	c->off = NULL;
	free(c->sql);
	c->sql = NULL;
	return rc;
}

const struct dg_backend dg_sqlite_backend = {
	.kind = DG_STORE_SQLITE,
	.name = "sqlite",
	.connect = sq_connect,
	.disconnect = sq_disconnect,
	.check = sq_check,
	.in_tx = sq_in_tx,
	.exec = sq_exec,
	.exec_script = sq_exec_script,
	.set_timeout = sq_set_timeout,
	.query = sq_query,
	.next = sq_next,
	.ncols = sq_ncols,
	.colname = sq_colname,
	.isnull = sq_isnull,
	.vtype = sq_vtype,
	.text = sq_text,
	.int64 = sq_int,
	.real = sq_real,
	.free_rows = sq_free_rows,
	.forget = sq_forget,
	.copy_begin = sq_copy_begin,
	.copy_row = sq_copy_row,
	.copy_end = sq_copy_end,
};

static const struct dg_backend *self(void)
{
	return &dg_sqlite_backend;
}

int dg_db_set_value_max(struct dg_db *db, int bytes)
{
	if (dg_db_kind(db) != DG_STORE_SQLITE)
		return 0;
	/* over the compiled-in bound SQLite takes the bound: INT_MAX restores it */
	return sqlite3_limit(db->conn, SQLITE_LIMIT_LENGTH, bytes > 0 ? bytes : INT_MAX);
}

void dg_store_set_heap_mb(struct dg_store *s, unsigned mb)
{
	if (dg_store_kind(s) == DG_STORE_SQLITE)
		(void)sqlite3_soft_heap_limit64((sqlite3_int64)mb << 20);
}
