/*
 * store.h - the one interface to dgov's database, over SQLite or PostgreSQL.
 *
 * A struct dg_store is a pool of connections to one database, chosen by URL:
 * a file path (SQLite, WAL, busy timeout) or "postgresql://..." (libpq). Code
 * borrows a struct dg_db from the pool for one request or one job step and
 * gives it back; a borrowed connection is used by one thread at a time.
 *
 * SQL is written once for both stores: '?' placeholders (translated to $n for
 * PostgreSQL), and the few dialect differences written as tokens that
 * dialect.c expands (see dg_sql_translate): {{pk}} an auto-increment primary
 * key, {{skip_locked}} "FOR UPDATE SKIP LOCKED" or nothing, {{now_ms}} the
 * current time in ms. Times are stored as integer ms since the epoch, truth as
 * 0/1 integers, binary data as text (hex or base64), so columns read the same
 * on both.
 *
 * Errors: DG_EDB for a failed statement (the database's message goes to the
 * log, not to users), DG_ECONFLICT for a unique or foreign-key violation,
 * DG_EUNAVAIL when no connection can be had in time, DG_ENOSPC when the
 * database's disk is full. The failpoints store.get, store.begin, store.exec,
 * store.query and store.commit (core/failpoint.h) make these happen in tests.
 */
#ifndef DG_STORE_H
#define DG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"

struct dg_store;
struct dg_db;
struct dg_rows;

enum dg_store_kind { DG_STORE_SQLITE, DG_STORE_PG };

enum dg_vtype { DG_V_NULL, DG_V_INT, DG_V_REAL, DG_V_TEXT };

/* One bound parameter; text is NUL-terminated and borrowed for the call. */
struct dg_val {
	enum dg_vtype t;
	int64_t i;
	double r;
	const char *s;
};

#define DG_VNULL ((struct dg_val){.t = DG_V_NULL})
#define DG_VI(x) ((struct dg_val){.t = DG_V_INT, .i = (int64_t)(x)})
#define DG_VR(x) ((struct dg_val){.t = DG_V_REAL, .r = (double)(x)})
/* NULL text binds SQL NULL (a function, so arrays may be passed without a warning) */
static inline struct dg_val dg_val_text(const char *s)
{
	return (struct dg_val){.t = s ? DG_V_TEXT : DG_V_NULL, .s = s};
}
#define DG_VT(x) dg_val_text(x)
/* args and their count, for the (args, nargs) parameter pairs below */
#define DG_ARGS(...)                                                                               \
	(const struct dg_val[]){__VA_ARGS__},                                                      \
		(sizeof((const struct dg_val[]){__VA_ARGS__}) / sizeof(struct dg_val))
#define DG_NOARGS NULL, 0

/*
 * Open a store. url: a file path or "file:PATH" for SQLite, or a
 * "postgresql://" / "postgres://" URL. pool is the number of connections
 * (at least 1). EINVAL for a bad URL, EDB when the database cannot be opened.
 */
dg_rc dg_store_open(const char *url, unsigned pool, struct dg_store **out,
		    struct dg_err *err) DG_MUST;
/*
 * SQLite's soft heap limit, in MiB (0: none): over it SQLite gives back its
 * page caches before it takes more memory. It is one limit for the whole
 * process (SQLite has no per-connection one); what one statement may build
 * is bounded by dg_db_set_value_max. PostgreSQL: nothing (its own server
 * bounds its memory).
 */
void dg_store_set_heap_mb(struct dg_store *s, unsigned mb);
/* Waits for borrowed connections to come back (bounded), closes them all. */
void dg_store_close(struct dg_store *s);
enum dg_store_kind dg_store_kind(const struct dg_store *s);
const char *dg_store_kind_name(const struct dg_store *s); /* "sqlite" | "postgresql" */

/*
 * A migration: a stable id ("auth-001-users") and a script of one or more
 * statements (dialect tokens allowed, no parameters). Each domain owns a list
 * ending with {NULL, NULL}; the app passes all lists in a fixed order.
 */
struct dg_migration {
	const char *id;
	const char *sql;
};

/*
 * Apply, in order, every migration not yet recorded in schema_migrations,
 * each in its own transaction with its record. Safe to run on every start and
 * from several nodes at once (the second waits, then finds nothing to do).
 */
dg_rc dg_store_migrate(struct dg_store *s, const struct dg_migration *const *lists, size_t nlists,
		       struct dg_err *err) DG_MUST;
/* How many migrations the database has applied. */
dg_rc dg_store_version(struct dg_store *s, int64_t *out) DG_MUST;
/* A round trip to the database. */
dg_rc dg_store_ping(struct dg_store *s) DG_MUST;

/* Borrow a connection (waits up to 10 s, then EUNAVAIL). */
dg_rc dg_db_get(struct dg_store *s, struct dg_db **out) DG_MUST;
/* A free connection now, or EUNAVAIL at once (nothing logged: the caller makes do). */
dg_rc dg_db_try_get(struct dg_store *s, struct dg_db **out) DG_MUST;
/* The store db is a connection of. */
struct dg_store *dg_db_store(const struct dg_db *db);
/* Give it back; an open transaction is rolled back first. NULL is a no-op. */
void dg_db_put(struct dg_db *db);
enum dg_store_kind dg_db_kind(const struct dg_db *db);

/*
 * A time budget for each statement that follows on this connection: one that
 * runs longer than ms milliseconds is cut off and fails with DG_EDB, and
 * dg_db_timed_out() then tells that case apart. 0 removes the budget, and so
 * does dg_db_put, so a budget never outlives its borrower. PostgreSQL uses
 * the session's statement_timeout (a rollback undoes a SET made inside the
 * transaction: set it before dg_db_begin); SQLite checks a deadline every
 * 1000 virtual-machine steps (a progress handler), counted from the
 * statement's first step.
 */
dg_rc dg_db_set_timeout_ms(struct dg_db *db, unsigned ms) DG_MUST;
/*
 * The longest string or blob one statement on db may build, in bytes (0:
 * the store's default again). SQLite: sqlite3_limit's LENGTH, so a value
 * built inside one step (which the budget's progress handler never sees)
 * fails as too big instead of growing; PostgreSQL: nothing (its budget
 * stops any statement). Returns the previous cap.
 */
int dg_db_set_value_max(struct dg_db *db, int bytes);
/*
 * Lazy commits, for writes whose loss in a crash is acceptable (usage
 * counters): until dg_db_set_lazy(db, false) or dg_db_put, commits on db do
 * not wait for the disk. SQLite: synchronous=NORMAL (WAL stays consistent;
 * the last commits may be lost on power failure); PostgreSQL:
 * synchronous_commit=off (the same, bounded by wal_writer_delay). Outside
 * a transaction only.
 */
dg_rc dg_db_set_lazy(struct dg_db *db, bool lazy) DG_MUST;

/* Whether the last statement run on db failed because its budget ran out. */
bool dg_db_timed_out(const struct dg_db *db);

/* Run a statement; *changes (may be NULL) gets the rows it changed. */
dg_rc dg_db_exec(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs,
		 int64_t *changes) DG_MUST;
/*
 * A multi-row INSERT: nrows rows of ncols values each (args row after row)
 * written as head "(?, ...), (?, ...)" tail, in statements of as many rows as
 * DG_DB_MAX_PARAMS allows (at most 32), then 8, 2 and 1 for the rest: a
 * batch costs a few round trips, and the statement cache holds four shapes.
 * *changes (may be NULL) gets the rows changed in all. ncols is 1..32.
 */
#define DG_DB_MAX_PARAMS 256 /* a statement's parameters at most (the PostgreSQL store's cap) */
dg_rc dg_db_exec_rows(struct dg_db *db, const char *head, const char *tail, size_t ncols,
		      const struct dg_val *args, size_t nrows, int64_t *changes) DG_MUST;
/* Run a script of several statements without parameters (migrations, tests). */
dg_rc dg_db_exec_script(struct dg_db *db, const char *sql) DG_MUST;
/* Run a query; read it with dg_rows_next and free it with dg_rows_free. */
dg_rc dg_db_query(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs,
		  struct dg_rows **out) DG_MUST;
/*
 * dg_db_query for SQL that is run once: prepared for this call and never
 * kept in the connection's statement cache (SQL a user wrote).
 */
dg_rc dg_db_query_once(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs,
		       struct dg_rows **out) DG_MUST;
/* First column of the first row: ENOTFOUND when there is no row. */
dg_rc dg_db_query_int(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs,
		      int64_t *out) DG_MUST;
/* Same, as text copied into the arena (NULL column -> NULL). */
dg_rc dg_db_query_text(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs,
		       struct dg_arena *a, char **out) DG_MUST;

/*
 * Transactions: BEGIN IMMEDIATE on SQLite (so writers queue at the start, not
 * at the first write), BEGIN on PostgreSQL. Not nested.
 */
dg_rc dg_db_begin(struct dg_db *db) DG_MUST;
/* Whether db is inside a transaction dg_db_begin opened. */
bool dg_db_in_tx(const struct dg_db *db);
dg_rc dg_db_commit(struct dg_db *db) DG_MUST;
void dg_db_rollback(struct dg_db *db);

/*
 * Bulk loading: rows of text values into one table, as fast as the store
 * allows. PostgreSQL: COPY ... FROM STDIN in text format (values escaped
 * here, sent with PQputCopyData); SQLite: prepared INSERTs of up to 32 rows
 * each (the values copied until their statement is sent). Call between
 * dg_db_begin and dg_db_commit: begin, any number of rows,
 * then end (keep true to finish the COPY, false to abandon it: the caller
 * then rolls back). table and cols are identifiers (quoted here; a '"' in
 * one is EINVAL); vals[i] NULL is SQL NULL, any other text is converted by
 * the column's type. A value the store refuses fails a later
 * dg_db_copy_row (SQLite: the one that sends its group) or dg_db_copy_end
 * (PostgreSQL checks rows as they arrive), so which row it was is not known:
 * check values first. No other statement may run on db while
 * a copy is open. At most 1000 columns.
 */
struct dg_copy;
dg_rc dg_db_copy_begin(struct dg_db *db, const char *table, const char *const *cols, size_t ncols,
		       struct dg_copy **out) DG_MUST;
dg_rc dg_db_copy_row(struct dg_copy *c, const char *const *vals) DG_MUST;
/* Ends and frees c (NULL is a no-op returning DG_OK). */
dg_rc dg_db_copy_end(struct dg_copy *c, bool keep) DG_MUST;

/* DG_OK with a row, DG_ENOTFOUND after the last, DG_EDB on error. */
dg_rc dg_rows_next(struct dg_rows *r) DG_MUST;
int dg_rows_ncols(const struct dg_rows *r);
const char *dg_rows_colname(const struct dg_rows *r, int col);
bool dg_rows_isnull(const struct dg_rows *r, int col);
/*
 * The kind of a value of the current row: NULL, INT, REAL or TEXT (SQLite:
 * the value's storage class; PostgreSQL: the column's type, integers and
 * floating or numeric ones; every other type is TEXT).
 */
enum dg_vtype dg_rows_vtype(const struct dg_rows *r, int col);
int64_t dg_rows_int(const struct dg_rows *r, int col);
double dg_rows_real(const struct dg_rows *r, int col);
/* "" for NULL; valid until the next dg_rows_next or dg_rows_free. */
const char *dg_rows_text(const struct dg_rows *r, int col);
void dg_rows_free(struct dg_rows *r);
/* Free rows when the arena is freed (for handlers). */
void dg_rows_defer(struct dg_rows *r, struct dg_arena *a);

/*
 * Each connection keeps its last-used prepared statements (SQLite: prepared
 * with SQLITE_PREPARE_PERSISTENT, reset when done; PostgreSQL: named
 * statements, DEALLOCATEd when evicted), keyed by the translated SQL. Only
 * SELECT, INSERT, UPDATE, DELETE and WITH statements are kept (and, on
 * SQLite, BEGIN, COMMIT and ROLLBACK), and only from their second run (see
 * stmtcache.h): DDL, PRAGMA, SET, scripts, bulk loads and dg_db_query_once
 * are prepared each time. These counters are the connection's since it
 * opened: hits reused a statement, misses prepared a cacheable one.
 */
struct dg_stmt_stats {
	uint64_t hits, misses, evictions;
	unsigned cached; /* statements held now */
};
void dg_db_stmt_stats(const struct dg_db *db, struct dg_stmt_stats *out);

/* The dialect layer: expand tokens and placeholders of sql for kind into out. */
dg_rc dg_sql_translate(enum dg_store_kind kind, const char *sql, struct dg_buf *out) DG_MUST;

#endif
