/*
 * store.c - the connection pool and the backend-independent half of store.h.
 *
 * A store holds a fixed array of connections opened at start-up, a mutex and
 * a condition variable: dg_db_get takes a free one or waits (bounded) for one
 * to come back. Statements are translated by dialect.c into the connection's
 * buffer and handed to the backend (sqlite.c or pg.c) through its vtable,
 * with whether the backend may keep it prepared (cacheable below).
 * Migrations are here too, since they are written once for both backends.
 */
#include "store/store.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/failpoint.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/backend.h"

#define SQL_MAX       ((size_t)1 << 20) /* a translated statement; ours are far smaller */
#define GET_WAIT_MS   10000
#define CLOSE_WAIT_MS 5000

struct dg_store {
	const struct dg_backend *be;
	char *url;
	struct dg_db *dbs;
	unsigned n, nfree;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC */
};

static bool is_pg_url(const char *url)
{
	return strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0;
}

static void deadline_after(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void store_free(struct dg_store *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		if (s->dbs[i].conn) {
			s->be->forget(&s->dbs[i]);
			s->be->disconnect(s->dbs[i].conn);
		}
		dg_buf_release(&s->dbs[i].sql);
		free(s->dbs[i].stmts);
	}
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s->dbs);
	free(s->url);
	free(s);
}

static struct dg_store *store_new(const struct dg_backend *be, const char *url, unsigned pool)
{
	struct dg_store *s = dg_xcalloc(1, sizeof(*s));
	s->be = be;
	s->url = dg_xstrdup(url);
	s->n = pool;
	s->dbs = dg_xcalloc(pool, sizeof(*s->dbs));
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	for (unsigned i = 0; i < pool; i++) {
		s->dbs[i].store = s;
		s->dbs[i].be = be;
		dg_buf_init(&s->dbs[i].sql, SQL_MAX);
		s->dbs[i].stmts = dg_xcalloc(1, sizeof(*s->dbs[i].stmts));
	}
	return s;
}

dg_rc dg_store_open(const char *url, unsigned pool, struct dg_store **out, struct dg_err *err)
{
	*out = NULL;
	if (!url || !*url)
		return dg_err_set(err, DG_EINVAL, "no database given");
	if (pool < 1)
		pool = 1;
	const struct dg_backend *be = is_pg_url(url) ? &dg_pg_backend : &dg_sqlite_backend;
	if (strncmp(url, "file:", 5) == 0)
		url += 5;
	if (!*url || (!is_pg_url(url) && strstr(url, "://")))
		return dg_err_set(err, DG_EINVAL, "the database URL is not understood");
	struct dg_store *s = store_new(be, url, pool);
	for (unsigned i = 0; i < pool; i++) {
		if (be->connect(s->url, &s->dbs[i].conn) != DG_OK) {
			store_free(s);
			return dg_err_set(err, DG_EDB, "cannot open the %s database", be->name);
		}
	}
	s->nfree = pool;
	*out = s;
	return DG_OK;
}

void dg_store_close(struct dg_store *s)
{
	if (!s)
		return;
	struct timespec ts;
	deadline_after(&ts, CLOSE_WAIT_MS);
	pthread_mutex_lock(&s->mu);
	while (s->nfree < s->n) {
		if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT) {
			dg_error("store: closing with %u connections still borrowed",
				 s->n - s->nfree);
			break;
		}
	}
	pthread_mutex_unlock(&s->mu);
	store_free(s);
}

enum dg_store_kind dg_store_kind(const struct dg_store *s)
{
	return s->be->kind;
}

const char *dg_store_kind_name(const struct dg_store *s)
{
	return s->be->name;
}

enum dg_store_kind dg_db_kind(const struct dg_db *db)
{
	return db->be->kind;
}

static struct dg_db *take_free(struct dg_store *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		if (!s->dbs[i].borrowed) {
			s->dbs[i].borrowed = true;
			s->nfree--;
			return &s->dbs[i];
		}
	}
	return NULL;
}

/* dg_db_get_wait, logging a wait that ended with none when loud. */
static dg_rc get_wait(struct dg_store *s, unsigned ms, bool loud, struct dg_db **out)
{
	struct timespec ts;
	deadline_after(&ts, ms);
	struct dg_db *db = NULL;
	*out = NULL;
	dg_rc frc = dg_failpoint_hit("store.get");
	if (frc)
		return frc;
	pthread_mutex_lock(&s->mu);
	while (s->nfree == 0 && ms > 0) {
		if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT)
			break;
	}
	if (s->nfree > 0)
		db = take_free(s);
	pthread_mutex_unlock(&s->mu);
	if (!db) {
		if (loud)
			dg_warn("store: no free connection after %u ms", ms);
		return DG_EUNAVAIL;
	}
	if (s->be->check(db) != DG_OK) {
		dg_db_put(db);
		return DG_EUNAVAIL;
	}
	*out = db;
	return DG_OK;
}

dg_rc dg_db_get_wait(struct dg_store *s, unsigned ms, struct dg_db **out)
{
	return get_wait(s, ms, true, out);
}

dg_rc dg_db_try_get(struct dg_store *s, struct dg_db **out)
{
	return get_wait(s, 0, false, out);
}

struct dg_store *dg_db_store(const struct dg_db *db)
{
	return db->store;
}

dg_rc dg_db_get(struct dg_store *s, struct dg_db **out)
{
	return dg_db_get_wait(s, GET_WAIT_MS, out);
}

void dg_db_put(struct dg_db *db)
{
	if (!db)
		return;
	if (db->in_tx || db->be->in_tx(db))
		dg_db_rollback(db);
	if (db->timeout_ms) {
		db->timeout_ms = 0;
		if (db->be->set_timeout(db) != DG_OK)
			dg_error("store: cannot remove a statement time budget");
	}
	db->timed_out = false;
	if (db->lazy && dg_db_set_lazy(db, false) != DG_OK)
		dg_error("store: cannot make commits durable again");
	struct dg_store *s = db->store;
	pthread_mutex_lock(&s->mu);
	db->borrowed = false;
	s->nfree++;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

dg_rc dg_db_set_timeout_ms(struct dg_db *db, unsigned ms)
{
	unsigned old = db->timeout_ms;
	db->timeout_ms = ms;
	dg_rc rc = db->be->set_timeout(db);
	if (rc != DG_OK)
		db->timeout_ms = old;
	return rc;
}

dg_rc dg_db_set_lazy(struct dg_db *db, bool lazy)
{
	static const char *const sql[2][2] = {
		{"PRAGMA synchronous=FULL", "PRAGMA synchronous=NORMAL"},
		{"SET synchronous_commit = on", "SET synchronous_commit = off"},
	};
	if (db->lazy == lazy)
		return DG_OK;
	dg_rc rc = dg_db_exec_script(db, sql[db->be->kind == DG_STORE_PG][lazy]);
	if (rc == DG_OK)
		db->lazy = lazy;
	return rc;
}

bool dg_db_timed_out(const struct dg_db *db)
{
	return db->timed_out;
}

/*
 * Whether a statement may be kept prepared: the ones requests repeat. DDL
 * is not (a table's shape changes under it, and it runs once), nor PRAGMA
 * and SET, which are cheap and change the connection.
 */
static bool cacheable(const char *sql)
{
	static const char *const verbs[] = {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"};
	while (isspace((unsigned char)*sql) || *sql == '(')
		sql++;
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		size_t n = strlen(verbs[i]);
		if (strncasecmp(sql, verbs[i], n) == 0 && !isalnum((unsigned char)sql[n]) &&
		    sql[n] != '_')
			return true;
	}
	return false;
}

/* Transaction statements are kept prepared on SQLite; PostgreSQL has no plan for them. */
static bool cache_tx(const struct dg_db *db)
{
	return db->be->kind == DG_STORE_SQLITE;
}

static dg_rc translate(struct dg_db *db, const char *sql)
{
	dg_rc rc = dg_sql_translate(db->be->kind, sql, &db->sql);
	if (rc != DG_OK)
		dg_error("store: cannot translate SQL (%s): %.80s", dg_rc_name(rc), sql);
	return rc == DG_OK ? DG_OK : DG_EDB;
}

dg_rc dg_db_exec(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs,
		 int64_t *changes)
{
	if (changes)
		*changes = 0;
	db->timed_out = false;
	dg_rc rc = dg_failpoint_hit("store.exec");
	if (!rc)
		rc = translate(db, sql);
	if (rc != DG_OK)
		return rc;
	const char *t = dg_buf_str(&db->sql);
	return db->be->exec(db, t, args, nargs, changes, cacheable(t));
}

dg_rc dg_db_exec_rows(struct dg_db *db, const char *head, const char *tail, size_t ncols,
		      const struct dg_val *args, size_t nrows, int64_t *changes)
{
	if (changes)
		*changes = 0;
	if (ncols == 0 || ncols > 32)
		return DG_EINVAL;
	size_t most = DG_DB_MAX_PARAMS / ncols, c = 0;
	const size_t chunks[] = {most < 32 ? most : 32, 8, 2, 1};
	struct dg_buf sql;
	dg_buf_init(&sql, 64 * 1024);
	dg_rc rc = DG_OK;
	for (size_t at = 0; !rc && at < nrows;) {
		while (chunks[c] > nrows - at)
			c++;
		size_t k = chunks[c];
		int64_t n = 0;
		dg_buf_reset(&sql);
		rc = dg_buf_adds(&sql, head);
		for (size_t i = 0; !rc && i < k; i++)
			for (size_t j = 0; !rc && j < ncols; j++)
				rc = dg_buf_adds(&sql, j ? ", ?" : i ? "), (?" : "(?");
		if (!rc)
			rc = dg_buf_addc(&sql, ')');
		if (!rc && tail)
			rc = dg_buf_adds(&sql, tail);
		if (!rc)
			rc = dg_db_exec(db, dg_buf_str(&sql), args + at * ncols, k * ncols, &n);
		if (changes)
			*changes += n;
		at += k;
	}
	dg_buf_release(&sql);
	return rc;
}

dg_rc dg_db_exec_script(struct dg_db *db, const char *sql)
{
	db->timed_out = false;
	dg_rc rc = translate(db, sql);
	if (rc != DG_OK)
		return rc;
	return db->be->exec_script(db, dg_buf_str(&db->sql));
}

static dg_rc query(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs,
		   struct dg_rows **out, bool once)
{
	*out = NULL;
	db->timed_out = false;
	dg_rc rc = dg_failpoint_hit("store.query");
	if (!rc)
		rc = translate(db, sql);
	if (rc != DG_OK)
		return rc;
	const char *t = dg_buf_str(&db->sql);
	return db->be->query(db, t, args, nargs, out, !once && cacheable(t));
}

dg_rc dg_db_query(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs,
		  struct dg_rows **out)
{
	return query(db, sql, args, nargs, out, false);
}

dg_rc dg_db_query_once(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs,
		       struct dg_rows **out)
{
	return query(db, sql, args, nargs, out, true);
}

void dg_db_stmt_stats(const struct dg_db *db, struct dg_stmt_stats *out)
{
	*out = db->stmts->stats;
}

dg_rc dg_db_query_int(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs,
		      int64_t *out)
{
	struct dg_rows *r = NULL;
	dg_rc rc = dg_db_query(db, sql, args, nargs, &r);
	if (rc != DG_OK)
		goto out;
	rc = dg_rows_next(r);
	if (rc == DG_OK)
		*out = dg_rows_int(r, 0);
out:
	dg_rows_free(r);
	return rc;
}

dg_rc dg_db_query_text(struct dg_db *db, const char *sql, const struct dg_val *args, size_t nargs,
		       struct dg_arena *a, char **out)
{
	struct dg_rows *r = NULL;
	*out = NULL;
	dg_rc rc = dg_db_query(db, sql, args, nargs, &r);
	if (rc != DG_OK)
		goto out;
	rc = dg_rows_next(r);
	if (rc == DG_OK && !dg_rows_isnull(r, 0))
		*out = dg_arena_strdup(a, dg_rows_text(r, 0));
out:
	dg_rows_free(r);
	return rc;
}

dg_rc dg_db_begin(struct dg_db *db)
{
	if (db->in_tx) {
		dg_error("store: nested transaction");
		return DG_EINTERNAL;
	}
	dg_rc rc = dg_failpoint_hit("store.begin");
	if (!rc)
		rc = db->be->exec(db, db->be->kind == DG_STORE_PG ? "BEGIN" : "BEGIN IMMEDIATE",
				  NULL, 0, NULL, cache_tx(db));
	db->in_tx = rc == DG_OK;
	return rc;
}

bool dg_db_in_tx(const struct dg_db *db)
{
	return db->in_tx;
}

dg_rc dg_db_commit(struct dg_db *db)
{
	/* a commit that fails leaves nothing behind: the work is rolled back below */
	dg_rc rc = dg_failpoint_hit("store.commit");
	if (!rc)
		rc = db->be->exec(db, "COMMIT", NULL, 0, NULL, cache_tx(db));
	db->in_tx = false;
	if (rc != DG_OK)
		dg_db_rollback(db);
	return rc;
}

void dg_db_rollback(struct dg_db *db)
{
	if (db->be->in_tx(db) && db->be->exec(db, "ROLLBACK", NULL, 0, NULL, cache_tx(db)) != DG_OK)
		dg_error("store: rollback failed");
	db->in_tx = false;
}

dg_rc dg_rows_next(struct dg_rows *r)
{
	return r->be->next(r);
}

int dg_rows_ncols(const struct dg_rows *r)
{
	return r->be->ncols(r);
}

const char *dg_rows_colname(const struct dg_rows *r, int col)
{
	return r->be->colname(r, col);
}

bool dg_rows_isnull(const struct dg_rows *r, int col)
{
	return r->be->isnull(r, col);
}

enum dg_vtype dg_rows_vtype(const struct dg_rows *r, int col)
{
	return r->be->vtype(r, col);
}

int64_t dg_rows_int(const struct dg_rows *r, int col)
{
	return r->be->int64(r, col);
}

double dg_rows_real(const struct dg_rows *r, int col)
{
	return r->be->real(r, col);
}

const char *dg_rows_text(const struct dg_rows *r, int col)
{
	return r->be->text(r, col);
}

void dg_rows_free(struct dg_rows *r)
{
	if (r)
		r->be->free_rows(r);
}

static void rows_free_cb(void *p)
{
	dg_rows_free(p);
}

void dg_rows_defer(struct dg_rows *r, struct dg_arena *a)
{
	if (r)
		dg_arena_defer(a, rows_free_cb, r);
}

dg_rc dg_store_ping(struct dg_store *s)
{
	struct dg_db *db = NULL;
	int64_t one = 0;
	dg_rc rc = dg_db_get(s, &db);
	if (rc == DG_OK)
		rc = dg_db_query_int(db, "SELECT 1", DG_NOARGS, &one);
	dg_db_put(db);
	return rc == DG_OK && one == 1 ? DG_OK : DG_EUNAVAIL;
}

static const char create_migrations_sql[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations(id TEXT PRIMARY KEY, applied_at BIGINT)";

dg_rc dg_store_version(struct dg_store *s, int64_t *out)
{
	struct dg_db *db = NULL;
	*out = 0;
	dg_rc rc = dg_db_get(s, &db);
	if (rc == DG_OK)
		rc = dg_db_exec(db, create_migrations_sql, DG_NOARGS, NULL);
	if (rc == DG_OK)
		rc = dg_db_query_int(db, "SELECT COUNT(*) FROM schema_migrations", DG_NOARGS, out);
	dg_db_put(db);
	return rc;
}

/* One migration in its own transaction, re-checked under the lock. */
static dg_rc migrate_one(struct dg_db *db, const struct dg_migration *m, struct dg_err *err)
{
	int64_t found = 0;
	const char *lock = dg_sql_migrate_lock(db->be->kind);
	dg_rc rc = dg_db_begin(db);
	if (rc == DG_OK && lock)
		rc = dg_db_exec(db, lock, DG_NOARGS, NULL);
	if (rc == DG_OK)
		rc = dg_db_exec(db, create_migrations_sql, DG_NOARGS, NULL);
	if (rc == DG_OK)
		rc = dg_db_query_int(db, "SELECT COUNT(*) FROM schema_migrations WHERE id = ?",
				     DG_ARGS(DG_VT(m->id)), &found);
	if (rc != DG_OK || found) {
		dg_db_rollback(db);
		goto out;
	}
	rc = dg_db_exec_script(db, m->sql);
	if (rc == DG_OK)
		rc = dg_db_exec(
			db, "INSERT INTO schema_migrations(id, applied_at) VALUES (?, {{now_ms}})",
			DG_ARGS(DG_VT(m->id)), NULL);
	if (rc == DG_OK)
		rc = dg_db_commit(db);
	else
		dg_db_rollback(db);
	if (rc == DG_OK)
		dg_info("store: applied migration %s", m->id);
out:
	if (rc != DG_OK)
		dg_err_set(err, rc, "database migration %s failed", m->id);
	return rc;
}

dg_rc dg_store_migrate(struct dg_store *s, const struct dg_migration *const *lists, size_t nlists,
		       struct dg_err *err)
{
	struct dg_db *db = NULL;
	dg_rc rc = dg_db_get(s, &db);
	if (rc != DG_OK) {
		dg_err_set(err, rc, "no database connection for migrations");
		goto out;
	}
	for (size_t l = 0; l < nlists && rc == DG_OK; l++) {
		for (const struct dg_migration *m = lists[l]; m && m->id && rc == DG_OK; m++)
			rc = migrate_one(db, m, err);
	}
out:
	dg_db_put(db);
	return rc;
}

#define COPY_MAX_COLS 1000

static dg_rc copy_sql(struct dg_db *db, const char *table, const char *const *cols, size_t ncols,
		      struct dg_buf *b)
{
	bool pg = db->be->kind == DG_STORE_PG;
	dg_rc rc = dg_buf_addf(b, "%s \"%s\" (", pg ? "COPY" : "INSERT INTO", table);
	for (size_t i = 0; rc == DG_OK && i < ncols; i++)
		rc = dg_buf_addf(b, "%s\"%s\"", i ? ", " : "", cols[i]);
	if (rc == DG_OK)
		rc = dg_buf_adds(b, pg ? ") FROM STDIN" : ") VALUES (");
	for (size_t i = 0; rc == DG_OK && !pg && i < ncols; i++)
		rc = dg_buf_adds(b, i ? ", ?" : "?");
	if (rc == DG_OK && !pg)
		rc = dg_buf_addc(b, ')');
	return rc;
}

dg_rc dg_db_copy_begin(struct dg_db *db, const char *table, const char *const *cols, size_t ncols,
		       struct dg_copy **out)
{
	*out = NULL;
	if (ncols == 0 || ncols > COPY_MAX_COLS || strchr(table, '"'))
		return DG_EINVAL;
	for (size_t i = 0; i < ncols; i++)
		if (!cols[i] || !*cols[i] || strchr(cols[i], '"'))
			return DG_EINVAL;
	db->timed_out = false;
	dg_buf_reset(&db->sql);
	if (copy_sql(db, table, cols, ncols, &db->sql) != DG_OK)
		return DG_EINVAL;
	struct dg_copy *c = dg_xcalloc(1, sizeof *c);
	c->db = db;
	c->ncols = ncols;
	dg_buf_init(&c->buf, SQL_MAX * 64);
	dg_rc rc = db->be->copy_begin(c, dg_buf_str(&db->sql));
	if (rc != DG_OK) {
		dg_buf_release(&c->buf);
		free(c);
		return rc;
	}
	*out = c;
	return DG_OK;
}

dg_rc dg_db_copy_row(struct dg_copy *c, const char *const *vals)
{
	if (c->failed != DG_OK)
		return c->failed;
	dg_rc rc = c->db->be->copy_row(c, vals);
	if (rc != DG_OK)
		c->failed = rc;
	return rc;
}

dg_rc dg_db_copy_end(struct dg_copy *c, bool keep)
{
	if (!c)
		return DG_OK;
	dg_rc rc = c->db->be->copy_end(c, keep && c->failed == DG_OK);
	if (c->failed != DG_OK)
		rc = c->failed;
	dg_buf_release(&c->buf);
	free(c);
	return rc;
}
