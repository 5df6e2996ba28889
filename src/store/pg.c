/*
 * pg.c - the PostgreSQL backend of the store, for several nodes on one
 * database.
 *
 * Statements go through PQexecParams with parameters as text: integers are
 * typed int8 and reals float8 so that "? + 1" and comparisons resolve, text
 * is left untyped for the server to infer. Statements that recur are named
 * prepared statements instead ("dg<n>", a number never reused on a
 * connection), kept in the connection's cache (stmtcache.h) under their SQL
 * and those parameter types, and DEALLOCATEd when evicted. Inside a failed
 * transaction the cache is not used (nothing would run, and DEALLOCATE would
 * fail too); DDL run on the connection empties it, and a kept statement
 * whose result's shape another connection's DDL changed (SQLSTATE 0A000,
 * "cached plan must not change result type") is dropped and, outside a
 * transaction, the statement is run once more unprepared. A reconnected
 * session has lost its statements: the cache forgets them. Unique and
 * foreign-key violations
 * (SQLSTATE 23505, 23503) become DG_ECONFLICT. A connection found broken
 * when it is borrowed is reset once; if that fails the borrower gets
 * DG_EUNAVAIL and the next borrower tries again.
 */
#include "store/backend.h"

#include <ctype.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/mem.h"

#define INT8OID    20
#define FLOAT8OID  701
#define MAX_PARAMS 256
#define NUM_LEN    32

struct pg_rows {
	struct dg_rows base;
	PGresult *res;
	int row; /* -1 before the first dg_rows_next */
	int nrows;
};

static void quiet_notices(void *arg, const char *msg)
{
	(void)arg;
	(void)msg; /* "relation already exists, skipping" and the like */
}

static dg_rc pg_connect(const char *url, void **conn)
{
	PGconn *c = PQconnectdb(url);
	*conn = NULL;
	if (!c || PQstatus(c) != CONNECTION_OK) {
		/* PQerrorMessage has no password: libpq does not echo it */
		dg_error("postgresql: connect: %s", c ? PQerrorMessage(c) : "out of memory");
		PQfinish(c);
		return DG_EDB;
	}
	PQsetNoticeProcessor(c, quiet_notices, NULL);
	*conn = c;
	return DG_OK;
}

static void pg_disconnect(void *conn)
{
	PQfinish(conn);
}

static dg_rc pg_check(struct dg_db *db)
{
	if (PQstatus(db->conn) == CONNECTION_OK)
		return DG_OK;
	dg_warn("postgresql: connection lost, reconnecting");
	PQreset(db->conn);
	db->in_tx = false;
	dg_stmt_cache_clear(db->stmts, NULL, NULL); /* the old session took them along */
	if (PQstatus(db->conn) == CONNECTION_OK) {
		PQsetNoticeProcessor(db->conn, quiet_notices, NULL);
		return DG_OK;
	}
	dg_error("postgresql: reconnect: %s", PQerrorMessage(db->conn));
	return DG_EUNAVAIL;
}

static bool pg_in_tx(struct dg_db *db)
{
	PGTransactionStatusType t = PQtransactionStatus(db->conn);
	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

/* Map a failed result to an rc, logging what the database said. */
static dg_rc result_rc(struct dg_db *db, PGresult *res, const char *sql)
{
	PGconn *c = db->conn;
	ExecStatusType st = PQresultStatus(res);
	if (res && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK))
		return DG_OK;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state && strcmp(state, "57014") == 0 && db->timeout_ms) {
		/* query_canceled: statement_timeout, the caller's budget */
		db->timed_out = true;
		dg_warn("postgresql: statement cut off after %u ms: %.200s", db->timeout_ms, sql);
		return DG_EDB;
	}
	if (state && strncmp(state, "53", 2) == 0) {
		/* insufficient_resources: disk_full (53100), out of memory, connections */
		dg_error("postgresql: %s [%s]", res ? PQresultErrorMessage(res) : PQerrorMessage(c),
			 state);
		return strcmp(state, "53100") == 0 ? DG_ENOSPC : DG_EUNAVAIL;
	}
	if (state && (strcmp(state, "23505") == 0 || strcmp(state, "23503") == 0)) {
		dg_debug("postgresql: constraint %s", state);
		return DG_ECONFLICT;
	}
	dg_error("postgresql: %s [%s] in: %.200s",
		 res ? PQresultErrorMessage(res) : PQerrorMessage(c), state ? state : "-", sql);
	return DG_EDB;
}

struct params {
	Oid types[MAX_PARAMS];
	const char *values[MAX_PARAMS];
	char nums[MAX_PARAMS][NUM_LEN];
};

static dg_rc fill_params(struct params *p, const struct dg_val *args, size_t nargs)
{
	if (nargs > MAX_PARAMS) {
		dg_error("postgresql: %zu parameters, at most %d", nargs, MAX_PARAMS);
		return DG_EDB;
	}
	for (size_t i = 0; i < nargs; i++) {
		p->types[i] = 0;
		p->values[i] = NULL;
		if (args[i].t == DG_V_INT) {
			p->types[i] = INT8OID;
			snprintf(p->nums[i], NUM_LEN, "%" PRId64, args[i].i);
			p->values[i] = p->nums[i];
		} else if (args[i].t == DG_V_REAL) {
			p->types[i] = FLOAT8OID;
			snprintf(p->nums[i], NUM_LEN, "%.17g", args[i].r);
			p->values[i] = p->nums[i];
		} else if (args[i].t == DG_V_TEXT) {
			p->values[i] = args[i].s;
		}
	}
	return DG_OK;
}

#define STMT_NAME 24 /* "dg" and a number */

static void stmt_name(char *out, const void *stmt)
{
	snprintf(out, STMT_NAME, "dg%" PRIuPTR, (uintptr_t)stmt);
}

/* The cache's drop: DEALLOCATE one statement (ctx is the PGconn). */
static void drop_stmt(void *ctx, void *stmt)
{
	char name[STMT_NAME], sql[STMT_NAME + 16];
	stmt_name(name, stmt);
	snprintf(sql, sizeof sql, "DEALLOCATE %s", name);
	PGresult *res = PQexec(ctx, sql);
	/* the name is never reused: a failure only leaves it until the session ends */
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		dg_warn("postgresql: %s: %s", sql, PQerrorMessage(ctx));
	PQclear(res);
}

/* The cache key: the SQL, then one letter per parameter type (they are fixed at prepare). */
static char *stmt_key(const char *sql, const struct params *p, size_t nargs)
{
	size_t n = strlen(sql);
	char *key = dg_xmalloc(n + nargs + 2);
	memcpy(key, sql, n);
	key[n] = '\x1f';
	for (size_t i = 0; i < nargs; i++)
		key[n + 1 + i] = p->types[i] == INT8OID     ? 'i'
				 : p->types[i] == FLOAT8OID ? 'r'
							    : 'u';
	key[n + 1 + nargs] = '\0';
	return key;
}

/* SQLSTATE 0A000 from a kept statement: a table's shape changed under its plan. */
static bool plan_changed(const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	return state && strcmp(state, "0A000") == 0;
}

/*
 * The cached statement for sql, prepared now on its second sighting; NULL
 * to run it unprepared (first sighting, or every slot busy). A failed
 * prepare is *rc.
 */
static struct dg_stmt_slot *cached(struct dg_db *db, const char *sql, const struct params *p,
				   size_t nargs, dg_rc *rc)
{
	struct dg_stmt_cache *c = db->stmts;
	char *key = stmt_key(sql, p, nargs);
	uint64_t hash = dg_stmt_hash(key);
	struct dg_stmt_slot *slot = dg_stmt_cache_find(c, key, hash);
	*rc = DG_OK;
	if (!slot && dg_stmt_cache_admit(c, hash)) {
		void *id = (void *)(uintptr_t)++c->serial;
		char name[STMT_NAME];
		stmt_name(name, id);
		PGresult *res = PQprepare(db->conn, name, sql, (int)nargs, p->types);
		*rc = result_rc(db, res, sql);
		PQclear(res);
		if (*rc == DG_OK) {
			slot = dg_stmt_cache_add(c, key, hash, id, drop_stmt, db->conn);
			if (!slot)
				drop_stmt(db->conn, id);
		}
	}
	free(key);
	return slot;
}

/* Run sql through the cache; *out is NULL when it was not run (then run it unprepared). */
static dg_rc run_cached(struct dg_db *db, const char *sql, const struct params *p, size_t nargs,
			PGresult **out)
{
	struct dg_stmt_cache *c = db->stmts;
	dg_rc rc = DG_OK;
	dg_stmt_cache_purge(c, drop_stmt, db->conn);
	struct dg_stmt_slot *slot = cached(db, sql, p, nargs, &rc);
	if (!slot)
		return rc;
	char name[STMT_NAME];
	stmt_name(name, slot->stmt);
	*out = PQexecPrepared(db->conn, name, (int)nargs, p->values, NULL, NULL, 0);
	if (plan_changed(*out)) {
		dg_warn("postgresql: a table changed under a kept statement: %.200s", sql);
		dg_stmt_cache_doom(c, slot);
		if (PQtransactionStatus(db->conn) == PQTRANS_IDLE) {
			PQclear(*out);
			*out = NULL; /* not in a transaction: nothing was lost, run it again */
		}
	}
	dg_stmt_cache_release(c, slot);
	/* a failed transaction cannot DEALLOCATE: the next statement after it will */
	if (PQtransactionStatus(db->conn) != PQTRANS_INERROR)
		dg_stmt_cache_purge(c, drop_stmt, db->conn);
	return *out ? result_rc(db, *out, sql) : DG_OK;
}

static dg_rc run(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs,
		 bool cache, PGresult **out)
{
	struct params *p = dg_xmalloc(sizeof(*p));
	*out = NULL;
	dg_rc rc = fill_params(p, args, nargs);
	if (rc == DG_OK && cache && PQtransactionStatus(db->conn) != PQTRANS_INERROR)
		rc = run_cached(db, sql, p, nargs, out);
	if (rc == DG_OK && !*out) {
		*out = PQexecParams(db->conn, sql, (int)nargs, p->types, p->values, NULL, NULL, 0);
		rc = result_rc(db, *out, sql);
	}
	free(p);
	if (rc != DG_OK) {
		PQclear(*out);
		*out = NULL;
	}
	return rc;
}

/*
 * Whether sql may change a table kept statements read: DDL (a script that
 * is not a SET is taken to be DDL: migrations, tests).
 */
static bool changes_schema(const char *sql, bool script)
{
	while (isspace((unsigned char)*sql))
		sql++;
	if (script)
		return strncasecmp(sql, "SET ", 4) != 0;
	return strncasecmp(sql, "CREATE", 6) == 0 || strncasecmp(sql, "ALTER", 5) == 0 ||
	       strncasecmp(sql, "DROP", 4) == 0;
}

/* After DDL on this connection: its kept statements go (one round trip for all). */
static void forget_after(struct dg_db *db, const char *sql, bool script)
{
	if (!db->stmts->stats.cached || !changes_schema(sql, script) ||
	    PQtransactionStatus(db->conn) == PQTRANS_INERROR)
		return;
	dg_stmt_cache_clear(db->stmts, NULL, NULL);
	PGresult *res = PQexec(db->conn, "DEALLOCATE ALL");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		dg_warn("postgresql: DEALLOCATE ALL: %s", PQerrorMessage(db->conn));
	PQclear(res);
}

static dg_rc pg_exec(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs,
		     int64_t *changes, bool cache)
{
	PGresult *res = NULL;
	dg_rc rc = run(db, sql, args, nargs, cache, &res);
	if (rc == DG_OK && changes) {
		const char *n = PQcmdTuples(res);
		*changes = n && *n ? strtoll(n, NULL, 10) : 0;
	}
	PQclear(res);
	if (rc == DG_OK && !cache)
		forget_after(db, sql, false);
	return rc;
}

static dg_rc pg_exec_script(struct dg_db *db, const char *sql)
{
	PGresult *res = PQexec(db->conn, sql);
	dg_rc rc = result_rc(db, res, sql);
	PQclear(res);
	if (rc == DG_OK)
		forget_after(db, sql, true);
	return rc;
}

static dg_rc pg_set_timeout(struct dg_db *db)
{
	char sql[64];
	snprintf(sql, sizeof sql, "SET statement_timeout = %u", db->timeout_ms);
	return pg_exec_script(db, sql);
}

static const struct dg_backend *self(void);

static dg_rc pg_query(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs,
		      struct dg_rows **out, bool cache)
{
	PGresult *res = NULL;
	dg_rc rc = run(db, sql, args, nargs, cache, &res);
	if (rc != DG_OK)
		return rc;
	struct pg_rows *r = dg_xcalloc(1, sizeof(*r));
	r->base.be = self();
	r->base.db = db;
	r->res = res;
	r->row = -1;
	r->nrows = PQntuples(res);
	*out = &r->base;
	return DG_OK;
}

static dg_rc pg_next(struct dg_rows *base)
{
	struct pg_rows *r = (struct pg_rows *)base;
	if (r->row + 1 >= r->nrows) {
		r->row = r->nrows;
		return DG_ENOTFOUND;
	}
	r->row++;
	return DG_OK;
}

static const struct pg_rows *cr(const struct dg_rows *base)
{
	return (const struct pg_rows *)base;
}

static bool valid(const struct dg_rows *base, int col)
{
	const struct pg_rows *r = cr(base);
	return r->row >= 0 && r->row < r->nrows && col >= 0 && col < PQnfields(r->res);
}

static int pg_ncols(const struct dg_rows *base)
{
	return PQnfields(cr(base)->res);
}

static const char *pg_colname(const struct dg_rows *base, int col)
{
	const char *n = PQfname(cr(base)->res, col);
	return n ? n : "";
}

static bool pg_isnull(const struct dg_rows *base, int col)
{
	return !valid(base, col) || PQgetisnull(cr(base)->res, cr(base)->row, col);
}

static enum dg_vtype pg_vtype(const struct dg_rows *base, int col)
{
	if (pg_isnull(base, col))
		return DG_V_NULL;
	switch (PQftype(cr(base)->res, col)) {
	case 20: /* int8 */
	case 21: /* int2 */
	case 23: /* int4 */ return DG_V_INT;
	case 700: /* float4 */
	case 701: /* float8 */
	case 1700: /* numeric */ return DG_V_REAL;
	default: return DG_V_TEXT;
	}
}

static const char *pg_text(const struct dg_rows *base, int col)
{
	if (pg_isnull(base, col))
		return "";
	return PQgetvalue(cr(base)->res, cr(base)->row, col);
}

static int64_t pg_int(const struct dg_rows *base, int col)
{
	const char *t = pg_text(base, col);
	if (strcmp(t, "t") == 0)
		return 1; /* a boolean expression such as EXISTS(...) */
	return strtoll(t, NULL, 10);
}

static double pg_real(const struct dg_rows *base, int col)
{
	return strtod(pg_text(base, col), NULL);
}

static void pg_free_rows(struct dg_rows *base)
{
	struct pg_rows *r = (struct pg_rows *)base;
	PQclear(r->res);
	free(r);
}

static void pg_forget(struct dg_db *db)
{
	dg_stmt_cache_clear(db->stmts, NULL, NULL); /* PQfinish ends the session and them */
}

/* COPY rows are sent in chunks of about this size. */
#define COPY_CHUNK (1u << 20)

static dg_rc pg_copy_begin(struct dg_copy *c, const char *sql)
{
	PGresult *res = PQexec(c->db->conn, sql);
	dg_rc rc = DG_OK;
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		rc = result_rc(c->db, res, sql);
		if (rc == DG_OK)
			rc = DG_EDB;
	}
	PQclear(res);
	return rc;
}

static dg_rc copy_send(struct dg_copy *c)
{
	size_t n = c->buf.len;
	int ok = n ? PQputCopyData(c->db->conn, c->buf.ptr, (int)n) : 1;
	dg_buf_reset(&c->buf);
	if (ok != 1) {
		dg_error("postgresql: copy: %s", PQerrorMessage(c->db->conn));
		return DG_EDB;
	}
	return DG_OK;
}

/* COPY's text format: \N is NULL; backslash, tab, CR and LF are escaped. */
static dg_rc copy_escape(struct dg_buf *b, const char *s)
{
	const char *run = s;
	dg_rc rc = DG_OK;
	for (const char *p = s; rc == DG_OK && *p; p++) {
		const char *e = *p == '\\'   ? "\\\\"
				: *p == '\t' ? "\\t"
				: *p == '\n' ? "\\n"
				: *p == '\r' ? "\\r"
					     : NULL;
		if (!e)
			continue;
		rc = dg_buf_add(b, run, (size_t)(p - run));
		if (rc == DG_OK)
			rc = dg_buf_adds(b, e);
		run = p + 1;
	}
	if (rc == DG_OK)
		rc = dg_buf_adds(b, run);
	return rc;
}

static dg_rc pg_copy_row(struct dg_copy *c, const char *const *vals)
{
	dg_rc rc = DG_OK;
	for (size_t i = 0; rc == DG_OK && i < c->ncols; i++) {
		if (i)
			rc = dg_buf_addc(&c->buf, '\t');
		if (rc == DG_OK)
			rc = vals[i] ? copy_escape(&c->buf, vals[i]) : dg_buf_adds(&c->buf, "\\N");
	}
	if (rc == DG_OK)
		rc = dg_buf_addc(&c->buf, '\n');
	if (rc != DG_OK) {
		dg_error("postgresql: copy: a row over the buffer's cap");
		return DG_EDB;
	}
	return c->buf.len >= COPY_CHUNK ? copy_send(c) : DG_OK;
}

static dg_rc pg_copy_end(struct dg_copy *c, bool keep)
{
	PGconn *conn = c->db->conn;
	dg_rc rc = keep ? copy_send(c) : DG_OK;
	if (PQputCopyEnd(conn, keep && rc == DG_OK ? NULL : "load abandoned") != 1) {
		dg_error("postgresql: copy end: %s", PQerrorMessage(conn));
		rc = DG_EDB;
	}
	/* the COPY's own result, then NULL; an abandoned COPY reports an error */
	PGresult *res;
	while ((res = PQgetResult(conn)) != NULL) {
		if (keep && rc == DG_OK)
			rc = result_rc(c->db, res, "COPY");
		PQclear(res);
	}
	return keep ? rc : DG_OK;
}

const struct dg_backend dg_pg_backend = {
	.kind = DG_STORE_PG,
	.name = "postgresql",
	.connect = pg_connect,
	.disconnect = pg_disconnect,
	.check = pg_check,
	.in_tx = pg_in_tx,
	.exec = pg_exec,
	.exec_script = pg_exec_script,
	.set_timeout = pg_set_timeout,
	.query = pg_query,
	.next = pg_next,
	.ncols = pg_ncols,
	.colname = pg_colname,
	.isnull = pg_isnull,
	.vtype = pg_vtype,
	.text = pg_text,
	.int64 = pg_int,
	.real = pg_real,
	.free_rows = pg_free_rows,
	.forget = pg_forget,
	.copy_begin = pg_copy_begin,
	.copy_row = pg_copy_row,
	.copy_end = pg_copy_end,
};

static const struct dg_backend *self(void)
{
	return &dg_pg_backend;
}
