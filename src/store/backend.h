/*
 * backend.h - what store.c (the pool and the common API) needs from a
 * database driver, and the structs they share. Private to src/store/ and to
 * the store's own tests.
 *
 * store.c owns the pool, the dialect translation and the transaction flag;
 * a backend (sqlite.c, pg.c) owns one kind of connection and its result sets.
 * SQL reaching a backend is already translated for it. Every backend error is
 * logged with dg_error by the backend and returned as DG_EDB or DG_ECONFLICT.
 */
#ifndef DG_STORE_BACKEND_H
#define DG_STORE_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/stmtcache.h"
#include "store/store.h"

struct dg_backend;

/* One pooled connection. */
struct dg_db {
	struct dg_store *store;
	const struct dg_backend *be;
	void *conn; /* sqlite3 * or PGconn * */
	bool in_tx; /* between dg_db_begin and commit/rollback */
	bool borrowed;
	struct dg_buf sql;           /* the translated statement */
	unsigned timeout_ms;         /* dg_db_set_timeout_ms's budget, 0 for none */
	int64_t deadline_us;         /* SQLite: when the running statement's budget ends */
	bool timed_out;              /* the last statement was cut off by the budget */
	bool lazy;                   /* dg_db_set_lazy: commits do not wait for the disk */
	struct dg_stmt_cache *stmts; /* prepared statements kept (stmtcache.h) */
};

/* A result set; backends embed it first in their own struct. */
struct dg_rows {
	const struct dg_backend *be;
	struct dg_db *db;
};

/* An open bulk load (store.h's dg_db_copy_*). */
struct dg_copy {
	struct dg_db *db;
	size_t ncols;
	void *st;          /* SQLite: the prepared INSERT of `group` rows */
	struct dg_buf buf; /* PostgreSQL: rows escaped, not yet sent; SQLite: values waiting */
	dg_rc failed;      /* the first failure; every later call returns it */
	/* SQLite: rows waiting in buf for a statement (value k of row r at off[r * ncols + k] - 1,
	 * 0 for NULL) */
	size_t group, pending;
	size_t *off;
	char *sql; /* SQLite: the one-row INSERT, whose VALUES tuple a statement repeats */
};

struct dg_backend {
	enum dg_store_kind kind;
	const char *name;
	dg_rc (*connect)(const char *url, void **conn);
	void (*disconnect)(void *conn);
	/* Called on dg_db_get: make the connection usable (PG reconnects a bad one). */
	dg_rc (*check)(struct dg_db *db);
	/* True when the connection is inside a transaction (to roll back on put). */
	bool (*in_tx)(struct dg_db *db);
	/* cache: the statement may be taken from and kept in db->stmts */
	dg_rc (*exec)(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs,
		      int64_t *changes, bool cache);
	dg_rc (*exec_script)(struct dg_db *db, const char *sql);
	/* Apply db->timeout_ms (0: none) to the statements that follow. */
	dg_rc (*set_timeout)(struct dg_db *db);
	dg_rc (*query)(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs,
		       struct dg_rows **out, bool cache);
	/* Drop the cached statements before the connection closes. */
	void (*forget)(struct dg_db *db);
	dg_rc (*next)(struct dg_rows *r);
	int (*ncols)(const struct dg_rows *r);
	const char *(*colname)(const struct dg_rows *r, int col);
	bool (*isnull)(const struct dg_rows *r, int col);
	enum dg_vtype (*vtype)(const struct dg_rows *r, int col);
	const char *(*text)(const struct dg_rows *r, int col);
	int64_t (*int64)(const struct dg_rows *r, int col);
	double (*real)(const struct dg_rows *r, int col);
	void (*free_rows)(struct dg_rows *r);
	/* Bulk load: sql is "INSERT INTO t (cols) VALUES (?, ...)" for SQLite
	 * and "COPY t (cols) FROM STDIN" for PostgreSQL (built by store.c). */
	dg_rc (*copy_begin)(struct dg_copy *c, const char *sql);
	dg_rc (*copy_row)(struct dg_copy *c, const char *const *vals);
	dg_rc (*copy_end)(struct dg_copy *c, bool keep);
};

extern const struct dg_backend dg_sqlite_backend;
extern const struct dg_backend dg_pg_backend;

/* dg_db_get with a bound of ms milliseconds instead of 10 s (tests). */
dg_rc dg_db_get_wait(struct dg_store *s, unsigned ms, struct dg_db **out) DG_MUST;

/* The text of the first statement of a PostgreSQL advisory lock for migrations. */
const char *dg_sql_migrate_lock(enum dg_store_kind kind);

#endif
