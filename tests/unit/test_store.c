/*
 * test_store.c - unit tests for src/store: the dialect translation, and the
 * same behaviour checks run against SQLite (a temporary file) and, when
 * DGOV_TEST_DB is a postgresql:// URL, PostgreSQL (public schema recreated
 * before each test): placeholders, NULLs, 64-bit integers, quoting,
 * transactions, conflict mapping, pool exhaustion, migrations (idempotent,
 * failing, concurrent), concurrent writers, and the prepared-statement cache
 * (reuse, nested result sets, eviction, schema changes, failed transactions).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "store/backend.h"
#include "store/store.h"
#include "store/tally.h"

struct fx {
	enum dg_store_kind kind;
	char url[512];
	char dir[256];
};

static const char *pg_url(void)
{
	const char *u = getenv("DGOV_TEST_DB");
	return u && strncmp(u, "postgresql://", 13) == 0 ? u : NULL;
}

static void reset_pg(const char *url)
{
	struct dg_store *s = NULL;
	struct dg_db *db = NULL;
	assert_int_equal(dg_store_open(url, 1, &s, NULL), DG_OK);
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_db_exec_script(db, "DROP SCHEMA IF EXISTS public CASCADE;"
					       "CREATE SCHEMA public;"),
			 DG_OK);
	dg_db_put(db);
	dg_store_close(s);
}

static int setup_sqlite(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->kind = DG_STORE_SQLITE;
	snprintf(f->dir, sizeof(f->dir), "/tmp/dgov-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->url, sizeof(f->url), "%s/t.db", f->dir);
	*state = f;
	return 0;
}

static int setup_pg(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->kind = DG_STORE_PG;
	if (pg_url()) {
		snprintf(f->url, sizeof(f->url), "%s", pg_url());
		reset_pg(f->url);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->dir[0]) {
		char cmd[512];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", f->dir);
	}
	free(f);
	return 0;
}

/* Open the fixture's store, or skip when it is PostgreSQL and none is configured. */
static struct dg_store *open_fx(void **state, unsigned pool)
{
	struct fx *f = *state;
	if (!f->url[0])
		skip();
	struct dg_store *s = NULL;
	struct dg_err err = {0};
	assert_int_equal(dg_store_open(f->url, pool, &s, &err), DG_OK);
	assert_int_equal(dg_store_kind(s), f->kind);
	return s;
}

static void expect_translation(enum dg_store_kind k, const char *in, const char *want)
{
	struct dg_buf b;
	dg_buf_init(&b, 4096);
	assert_int_equal(dg_sql_translate(k, in, &b), DG_OK);
	assert_string_equal(dg_buf_str(&b), want);
	dg_buf_release(&b);
}

static void translate_cases(void **state)
{
	(void)state;
	expect_translation(DG_STORE_PG, "SELECT ? + ?", "SELECT $1 + $2");
	expect_translation(DG_STORE_SQLITE, "SELECT ? + ?", "SELECT ? + ?");
	expect_translation(DG_STORE_PG, "SELECT 'it''s?', \"a?b\", ? -- why?\n, ?",
			   "SELECT 'it''s?', \"a?b\", $1 -- why?\n, $2");
	expect_translation(DG_STORE_PG, "SELECT /* ? */ ?", "SELECT /* ? */ $1");
	expect_translation(DG_STORE_PG, "CREATE TABLE t(id {{pk}})",
			   "CREATE TABLE t(id BIGSERIAL PRIMARY KEY)");
	expect_translation(DG_STORE_SQLITE, "CREATE TABLE t(id {{pk}})",
			   "CREATE TABLE t(id INTEGER PRIMARY KEY AUTOINCREMENT)");
	expect_translation(DG_STORE_SQLITE, "SELECT 1 {{skip_locked}}", "SELECT 1 ");
	expect_translation(DG_STORE_PG, "SELECT 1 {{skip_locked}}",
			   "SELECT 1 FOR UPDATE SKIP LOCKED");
	expect_translation(DG_STORE_PG, "SELECT {{now_ms}}",
			   "SELECT (extract(epoch from clock_timestamp())*1000)::bigint");
	expect_translation(DG_STORE_SQLITE, "SELECT {{now_ms}}",
			   "SELECT CAST((julianday('now') - 2440587.5)*86400000 AS INTEGER)");
	/* tokens inside literals are data */
	expect_translation(DG_STORE_PG, "SELECT '{{pk}}'", "SELECT '{{pk}}'");
	expect_translation(DG_STORE_PG, "", "");
	/* one store's blocks: kept for it, dropped for the other */
	expect_translation(DG_STORE_SQLITE, "A;{{sqlite}}B 'x';{{end}}{{pg}}C ?;{{end}}D",
			   "A;B 'x';D");
	expect_translation(DG_STORE_PG, "A;{{sqlite}}B 'x';{{end}}{{pg}}C {{pk}};{{end}}D ?",
			   "A;C BIGSERIAL PRIMARY KEY;D $1");

	struct dg_buf b;
	dg_buf_init(&b, 4096);
	assert_int_equal(dg_sql_translate(DG_STORE_PG, "SELECT {{nope}}", &b), DG_EINVAL);
	/* blocks must be closed, not nested, not ended twice */
	assert_int_equal(dg_sql_translate(DG_STORE_PG, "{{pg}}A", &b), DG_EINVAL);
	assert_int_equal(dg_sql_translate(DG_STORE_PG, "{{pg}}{{sqlite}}A{{end}}", &b), DG_EINVAL);
	assert_int_equal(dg_sql_translate(DG_STORE_PG, "A{{end}}", &b), DG_EINVAL);
	dg_buf_release(&b);
	/* the buffer's cap holds */
	dg_buf_init(&b, 8);
	assert_int_equal(dg_sql_translate(DG_STORE_PG, "SELECT {{now_ms}}", &b), DG_ETOOBIG);
	dg_buf_release(&b);
}

static void open_errors(void **state)
{
	(void)state;
	struct dg_store *s = NULL;
	struct dg_err err = {0};
	assert_int_equal(dg_store_open("", 1, &s, &err), DG_EINVAL);
	assert_null(s);
	assert_int_equal(dg_store_open("mysql://x/y", 1, &s, &err), DG_EINVAL);
	assert_int_equal(dg_store_open("/nonexistent-dir/x/y.db", 1, &s, &err), DG_EDB);
	assert_null(s);
	assert_int_equal(dg_store_open("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", 1,
				       &s, &err),
			 DG_EDB);
	assert_null(s);
}

static void values_roundtrip(void **state)
{
	struct dg_store *s = open_fx(state, 2);
	struct dg_db *db = NULL;
	assert_int_equal(dg_store_ping(s), DG_OK);
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(
		dg_db_exec_script(db, "CREATE TABLE t(id {{pk}}, n BIGINT, s TEXT, r REAL);"),
		DG_OK);
	const int64_t big = INT64_C(5000000000), neg = INT64_MIN + 1;
	const char *odd = "it's \"quoted\"? and ?? -- not a comment; 中文";
	int64_t changes = 0;
	assert_int_equal(dg_db_exec(db, "INSERT INTO t(n, s, r) VALUES (?, ?, ?)",
				    DG_ARGS(DG_VI(big), DG_VT(odd), DG_VR(2.5)), &changes),
			 DG_OK);
	assert_int_equal(changes, 1);
	assert_int_equal(dg_db_exec(db, "INSERT INTO t(n, s, r) VALUES (?, ?, ?)",
				    DG_ARGS(DG_VI(neg), DG_VT(NULL), DG_VNULL), NULL),
			 DG_OK);
	struct dg_rows *r = NULL;
	assert_int_equal(dg_db_query(db,
				     "SELECT id, n, s, r FROM t WHERE s = ? OR s IS NULL"
				     " ORDER BY id",
				     DG_ARGS(DG_VT(odd)), &r),
			 DG_OK);
	assert_int_equal(dg_rows_ncols(r), 4);
	assert_string_equal(dg_rows_colname(r, 2), "s");
	assert_int_equal(dg_rows_next(r), DG_OK);
	assert_int_equal(dg_rows_int(r, 1), big);
	assert_string_equal(dg_rows_text(r, 2), odd);
	assert_true(dg_rows_real(r, 3) == 2.5);
	assert_false(dg_rows_isnull(r, 2));
	assert_int_equal(dg_rows_next(r), DG_OK);
	assert_int_equal(dg_rows_int(r, 1), neg);
	assert_true(dg_rows_isnull(r, 2));
	assert_true(dg_rows_isnull(r, 3));
	assert_string_equal(dg_rows_text(r, 2), "");
	assert_int_equal(dg_rows_next(r), DG_ENOTFOUND);
	assert_int_equal(dg_rows_next(r), DG_ENOTFOUND);
	dg_rows_free(r);

	/* a '?' inside a literal is not a placeholder */
	struct dg_arena *a = dg_arena_new();
	char *text = NULL;
	assert_int_equal(
		dg_db_query_text(db, "SELECT 'a?''b' || ?", DG_ARGS(DG_VT("c?")), a, &text), DG_OK);
	assert_string_equal(text, "a?'bc?");
	assert_int_equal(
		dg_db_query_text(db, "SELECT s FROM t WHERE n = ?", DG_ARGS(DG_VI(neg)), a, &text),
		DG_OK);
	assert_null(text);
	assert_int_equal(
		dg_db_query_text(db, "SELECT s FROM t WHERE n = ?", DG_ARGS(DG_VI(7)), a, &text),
		DG_ENOTFOUND);
	int64_t v = 0;
	assert_int_equal(dg_db_query_int(db, "SELECT n + ? FROM t WHERE n > ?",
					 DG_ARGS(DG_VI(1), DG_VI(INT32_MAX)), &v),
			 DG_OK);
	assert_int_equal(v, big + 1);
	assert_int_equal(
		dg_db_query_int(db, "SELECT n FROM t WHERE id = ?", DG_ARGS(DG_VI(99)), &v),
		DG_ENOTFOUND);
	assert_int_equal(dg_db_exec(db, "UPDATE t SET n = n + 1", DG_NOARGS, &changes), DG_OK);
	assert_int_equal(changes, 2);
	/* a wrong number of arguments or bad SQL is EDB, and the connection stays usable */
	assert_int_equal(dg_db_exec(db, "SELEC nonsense", DG_NOARGS, NULL), DG_EDB);
	assert_int_equal(dg_db_exec(db, "SELECT {{bad_token}}", DG_NOARGS, NULL), DG_EDB);
	assert_int_equal(dg_db_query_int(db, "SELECT COUNT(*) FROM t", DG_NOARGS, &v), DG_OK);
	assert_int_equal(v, 2);
	dg_arena_free(a);
	dg_db_put(db);
	dg_store_close(s);
}

static void transactions(void **state)
{
	struct dg_store *s = open_fx(state, 1);
	struct dg_db *db = NULL;
	int64_t n = -1;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_db_exec_script(db, "CREATE TABLE t(id {{pk}}, v INTEGER)"), DG_OK);
	assert_int_equal(dg_db_begin(db), DG_OK);
	assert_int_equal(dg_db_begin(db), DG_EINTERNAL); /* not nested */
	assert_int_equal(dg_db_exec(db, "INSERT INTO t(v) VALUES (?)", DG_ARGS(DG_VI(1)), NULL),
			 DG_OK);
	dg_db_rollback(db);
	assert_int_equal(dg_db_query_int(db, "SELECT COUNT(*) FROM t", DG_NOARGS, &n), DG_OK);
	assert_int_equal(n, 0);
	assert_int_equal(dg_db_begin(db), DG_OK);
	assert_int_equal(dg_db_exec(db, "INSERT INTO t(v) VALUES (?)", DG_ARGS(DG_VI(2)), NULL),
			 DG_OK);
	assert_int_equal(dg_db_commit(db), DG_OK);
	/* an open transaction is rolled back when the connection goes back to the pool */
	assert_int_equal(dg_db_begin(db), DG_OK);
	assert_int_equal(dg_db_exec(db, "INSERT INTO t(v) VALUES (?)", DG_ARGS(DG_VI(3)), NULL),
			 DG_OK);
	dg_db_put(db);
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_db_query_int(db, "SELECT SUM(v) FROM t", DG_NOARGS, &n), DG_OK);
	assert_int_equal(n, 2);
	/* a failed statement inside a transaction: rollback leaves the connection usable */
	assert_int_equal(dg_db_begin(db), DG_OK);
	assert_int_equal(dg_db_exec(db, "INSERT INTO nope VALUES (1)", DG_NOARGS, NULL), DG_EDB);
	dg_db_rollback(db);
	assert_int_equal(dg_db_begin(db), DG_OK);
	assert_int_equal(dg_db_commit(db), DG_OK);
	dg_db_put(db);
	dg_store_close(s);
}

/* A statement that would run for ever is cut off by the budget, and the
 * budget goes with the borrower. */
static void time_budget(void **state)
{
	static const char forever[] =
		"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)"
		" SELECT COUNT(*) FROM c";
	static const char slow[] = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c"
				   " WHERE x < 300000) SELECT COUNT(*) FROM c";
	struct dg_store *s = open_fx(state, 1);
	struct dg_db *db = NULL;
	int64_t n = 0;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_false(dg_db_timed_out(db));
	assert_int_equal(dg_db_set_timeout_ms(db, 50), DG_OK);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(dg_db_query_int(db, forever, DG_NOARGS, &n), DG_EDB);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(dg_db_timed_out(db));
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms < 5000);
	/* the connection stays usable, and a quick statement clears the flag */
	assert_int_equal(dg_db_query_int(db, "SELECT 7", DG_NOARGS, &n), DG_OK);
	assert_int_equal(n, 7);
	assert_false(dg_db_timed_out(db));
	/* a failure that is not the budget is not reported as one */
	assert_int_equal(dg_db_exec(db, "INSERT INTO nope VALUES (1)", DG_NOARGS, NULL), DG_EDB);
	assert_false(dg_db_timed_out(db));
	dg_db_put(db);
	/* put removed the budget: the next borrower runs a long statement to its end */
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_db_query_int(db, slow, DG_NOARGS, &n), DG_OK);
	assert_int_equal(n, 300000);
	assert_int_equal(dg_db_set_timeout_ms(db, 0), DG_OK);
	dg_db_put(db);
	dg_store_close(s);
}

static void conflicts(void **state)
{
	struct dg_store *s = open_fx(state, 1);
	struct dg_db *db = NULL;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(
		dg_db_exec_script(db, "CREATE TABLE p(id {{pk}}, code TEXT UNIQUE);"
				      "CREATE TABLE c(id {{pk}}, p_id BIGINT REFERENCES p(id));"),
		DG_OK);
	assert_int_equal(
		dg_db_exec(db, "INSERT INTO p(code) VALUES (?)", DG_ARGS(DG_VT("a")), NULL), DG_OK);
	assert_int_equal(
		dg_db_exec(db, "INSERT INTO p(code) VALUES (?)", DG_ARGS(DG_VT("a")), NULL),
		DG_ECONFLICT);
	assert_int_equal(
		dg_db_exec(db, "INSERT INTO c(p_id) VALUES (?)", DG_ARGS(DG_VI(999)), NULL),
		DG_ECONFLICT);
	/* a conflict inside a transaction, then rollback */
	assert_int_equal(dg_db_begin(db), DG_OK);
	assert_int_equal(
		dg_db_exec(db, "INSERT INTO p(code) VALUES (?)", DG_ARGS(DG_VT("a")), NULL),
		DG_ECONFLICT);
	dg_db_rollback(db);
	int64_t n = 0;
	assert_int_equal(dg_db_query_int(db, "SELECT COUNT(*) FROM p", DG_NOARGS, &n), DG_OK);
	assert_int_equal(n, 1);
	dg_db_put(db);
	dg_store_close(s);
}

/* Bulk loads: escaping round trips, NULLs, types, abandon, a refused value. */
static void bulk_copy(void **state)
{
	struct dg_store *s = open_fx(state, 1);
	struct dg_db *db = NULL;
	struct dg_copy *c = NULL;
	const char *cols[] = {"n", "t"};
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_db_exec_script(db, "CREATE TABLE bulk(id {{pk}}, n BIGINT, t TEXT);"),
			 DG_OK);
	/* identifiers with a quote are refused before anything runs */
	const char *badcols[] = {"n", "t\"x"};
	assert_int_equal(dg_db_copy_begin(db, "bulk", badcols, 2, &c), DG_EINVAL);
	assert_null(c);
	assert_int_equal(dg_db_copy_begin(db, "bu\"lk", cols, 2, &c), DG_EINVAL);

	static const char *const texts[] = {
		"plain", "tab\there", "line\nbreak\r\n", "back\\slash \\N", "\\.", "", "中文 ✓"};
	enum { NT = sizeof texts / sizeof texts[0] };
	assert_int_equal(dg_db_begin(db), DG_OK);
	assert_int_equal(dg_db_copy_begin(db, "bulk", cols, 2, &c), DG_OK);
	for (int i = 0; i < NT; i++) {
		char num[16];
		snprintf(num, sizeof num, "%d", i - 3);
		const char *v[] = {num, texts[i]};
		assert_int_equal(dg_db_copy_row(c, v), DG_OK);
	}
	const char *nulls[] = {NULL, NULL};
	assert_int_equal(dg_db_copy_row(c, nulls), DG_OK);
	for (int i = 0; i < 5000; i++) { /* more than one send buffer on PostgreSQL */
		const char *v[] = {
			"100",
			"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"};
		assert_int_equal(dg_db_copy_row(c, v), DG_OK);
	}
	assert_int_equal(dg_db_copy_end(c, true), DG_OK);
	assert_int_equal(dg_db_commit(db), DG_OK);

	struct dg_rows *r = NULL;
	assert_int_equal(dg_db_query(db, "SELECT n, t FROM bulk ORDER BY id", DG_NOARGS, &r),
			 DG_OK);
	for (int i = 0; i < NT; i++) {
		assert_int_equal(dg_rows_next(r), DG_OK);
		assert_int_equal(dg_rows_int(r, 0), i - 3);
		assert_string_equal(dg_rows_text(r, 1), texts[i]);
		assert_false(dg_rows_isnull(r, 1));
	}
	assert_int_equal(dg_rows_next(r), DG_OK);
	assert_true(dg_rows_isnull(r, 0));
	assert_true(dg_rows_isnull(r, 1));
	dg_rows_free(r);
	int64_t n = 0;
	assert_int_equal(
		dg_db_query_int(db, "SELECT COUNT(*) FROM bulk WHERE n = 100", DG_NOARGS, &n),
		DG_OK);
	assert_int_equal(n, 5000);

	/* abandoned: nothing of it stays */
	assert_int_equal(dg_db_begin(db), DG_OK);
	assert_int_equal(dg_db_copy_begin(db, "bulk", cols, 2, &c), DG_OK);
	const char *one[] = {"7", "gone"};
	assert_int_equal(dg_db_copy_row(c, one), DG_OK);
	assert_int_equal(dg_db_copy_end(c, false), DG_OK);
	dg_db_rollback(db);
	assert_int_equal(
		dg_db_query_int(db, "SELECT COUNT(*) FROM bulk WHERE t = 'gone'", DG_NOARGS, &n),
		DG_OK);
	assert_int_equal(n, 0);

	/* a value the column refuses fails the copy (PostgreSQL: at its end) */
	const char *icols[] = {"id"};
	assert_int_equal(dg_db_begin(db), DG_OK);
	assert_int_equal(dg_db_copy_begin(db, "bulk", icols, 1, &c), DG_OK);
	const char *dup[] = {"1"};
	dg_rc rc = dg_db_copy_row(c, dup);
	dg_rc end = dg_db_copy_end(c, true);
	assert_true(rc != DG_OK || end != DG_OK);
	dg_db_rollback(db);
	/* the connection is usable afterwards */
	assert_int_equal(dg_db_query_int(db, "SELECT COUNT(*) FROM bulk", DG_NOARGS, &n), DG_OK);
	assert_int_equal(n, NT + 1 + 5000);
	assert_int_equal(dg_db_copy_end(NULL, true), DG_OK);
	dg_db_put(db);
	dg_store_close(s);
}

/*
 * Bulk loads in order and whole whatever the rows' sizes: small rows (which
 * SQLite sends 32 to a statement), rows whose values pass a megabyte (sent
 * before the group is full), a row of over a megabyte alone, and a partial
 * group at the end: every row once, in the order given.
 */
static void bulk_copy_groups(void **state)
{
	struct dg_store *s = open_fx(state, 1);
	struct dg_db *db = NULL;
	struct dg_copy *c = NULL;
	/* a column's name may hold the words that end an INSERT's column list */
	const char *cols[] = {"n", "t) VALUES (x"};
	enum { ROWS = 200, BIG = 3 * (1 << 20) / 2, MID = 300 * 1024 };
	char *big = malloc(BIG + 1), *mid = malloc(MID + 1);
	assert_non_null(big);
	assert_non_null(mid);
	memset(big, 'b', BIG);
	big[BIG] = '\0';
	memset(mid, 'm', MID);
	mid[MID] = '\0';
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(
		dg_db_exec_script(db,
				  "CREATE TABLE grp(id {{pk}}, n BIGINT, \"t) VALUES (x\" TEXT);"),
		DG_OK);
	assert_int_equal(dg_db_begin(db), DG_OK);
	assert_int_equal(dg_db_copy_begin(db, "grp", cols, 2, &c), DG_OK);
	for (int i = 0; i < ROWS; i++) {
		char num[16];
		snprintf(num, sizeof num, "%d", i);
		/* row 50 alone is over a megabyte; rows 100-109 pass one together */
		const char *t = i == 50 ? big : i >= 100 && i < 110 ? mid : i % 7 ? num : NULL;
		const char *v[] = {num, t};
		assert_int_equal(dg_db_copy_row(c, v), DG_OK);
	}
	assert_int_equal(dg_db_copy_end(c, true), DG_OK);
	assert_int_equal(dg_db_commit(db), DG_OK);
	struct dg_rows *r = NULL;
	assert_int_equal(
		dg_db_query(
			db,
			"SELECT n, \"t) VALUES (x\", LENGTH(\"t) VALUES (x\") FROM grp ORDER BY id",
			DG_NOARGS, &r),
		DG_OK);
	for (int i = 0; i < ROWS; i++) {
		assert_int_equal(dg_rows_next(r), DG_OK);
		assert_int_equal(dg_rows_int(r, 0), i);
		if (i == 50)
			assert_int_equal(dg_rows_int(r, 2), BIG);
		else if (i >= 100 && i < 110)
			assert_int_equal(dg_rows_int(r, 2), MID);
		else if (i % 7 == 0)
			assert_true(dg_rows_isnull(r, 1));
		else
			assert_int_equal(dg_rows_int(r, 1), i);
	}
	assert_int_equal(dg_rows_next(r), DG_ENOTFOUND);
	dg_rows_free(r);
	free(big);
	free(mid);
	dg_db_put(db);
	dg_store_close(s);
}

static void *put_later(void *p)
{
	struct timespec ts = {0, 150 * 1000000L};
	nanosleep(&ts, NULL);
	dg_db_put(p);
	return NULL;
}

static void pool_exhaustion(void **state)
{
	struct dg_store *s = open_fx(state, 2);
	struct dg_db *a = NULL, *b = NULL, *c = NULL;
	assert_int_equal(dg_db_get(s, &a), DG_OK);
	assert_int_equal(dg_db_get(s, &b), DG_OK);
	assert_ptr_not_equal(a, b);
	assert_int_equal(dg_db_get_wait(s, 200, &c), DG_EUNAVAIL);
	assert_null(c);
	/* a waiter gets the connection another thread gives back */
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, put_later, b), 0);
	assert_int_equal(dg_db_get_wait(s, 5000, &c), DG_OK);
	assert_ptr_equal(c, b);
	pthread_join(t, NULL);
	dg_db_put(a);
	dg_db_put(c);
	dg_db_put(NULL);
	dg_store_close(s);
}

static const struct dg_migration mig_a[] = {
	{"test-001-a", "CREATE TABLE ma(id {{pk}}, v TEXT); INSERT INTO ma(v) VALUES ('one');"},
	{"test-002-b", "CREATE TABLE mb(id {{pk}})"},
	{NULL, NULL},
};
static const struct dg_migration mig_b[] = {
	{"test-003-c", "INSERT INTO ma(v) VALUES ('two')"},
	{NULL, NULL},
};
static const struct dg_migration mig_bad[] = {
	{"test-004-ok", "CREATE TABLE mc(id {{pk}})"},
	{"test-005-bad", "CREATE TABLE md(id {{pk}}); INSERT INTO nowhere VALUES (1);"},
	{NULL, NULL},
};

static void migrations(void **state)
{
	struct dg_store *s = open_fx(state, 1);
	struct dg_err err = {0};
	const struct dg_migration *const one[] = {mig_a};
	const struct dg_migration *const two[] = {mig_a, mig_b};
	const struct dg_migration *const bad[] = {mig_a, mig_b, mig_bad};
	int64_t v = -1;
	assert_int_equal(dg_store_version(s, &v), DG_OK);
	assert_int_equal(v, 0);
	assert_int_equal(dg_store_migrate(s, one, 1, &err), DG_OK);
	assert_int_equal(dg_store_migrate(s, one, 1, &err), DG_OK);
	assert_int_equal(dg_store_version(s, &v), DG_OK);
	assert_int_equal(v, 2);
	assert_int_equal(dg_store_migrate(s, two, 2, &err), DG_OK);
	assert_int_equal(dg_store_migrate(s, two, 2, &err), DG_OK);
	assert_int_equal(dg_store_version(s, &v), DG_OK);
	assert_int_equal(v, 3);
	struct dg_db *db = NULL;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_db_query_int(db, "SELECT COUNT(*) FROM ma", DG_NOARGS, &v), DG_OK);
	assert_int_equal(v, 2); /* each script ran once */
	dg_db_put(db);
	/* a failing migration is not recorded and leaves nothing behind; earlier ones stay */
	assert_int_equal(dg_store_migrate(s, bad, 3, &err), DG_EDB);
	assert_non_null(strstr(err.msg, "test-005-bad"));
	assert_int_equal(dg_store_version(s, &v), DG_OK);
	assert_int_equal(v, 4);
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_db_exec(db, "SELECT * FROM md", DG_NOARGS, NULL), DG_EDB);
	assert_int_equal(dg_db_exec(db, "SELECT * FROM mc", DG_NOARGS, NULL), DG_OK);
	dg_db_put(db);
	dg_store_close(s);
}

struct mig_thread {
	const char *url;
	dg_rc rc;
};

static void *migrate_thread(void *p)
{
	struct mig_thread *m = p;
	struct dg_store *s = NULL;
	struct dg_err err = {0};
	const struct dg_migration *const two[] = {mig_a, mig_b};
	m->rc = dg_store_open(m->url, 1, &s, &err);
	if (m->rc == DG_OK)
		m->rc = dg_store_migrate(s, two, 2, &err);
	dg_store_close(s);
	return NULL;
}

static void migrations_two_nodes(void **state)
{
	struct fx *f = *state;
	dg_store_close(open_fx(state, 1)); /* skips without a database */
	struct mig_thread m[2] = {{f->url, DG_EINTERNAL}, {f->url, DG_EINTERNAL}};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, migrate_thread, &m[i]), 0);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(m[i].rc, DG_OK);
	}
	struct dg_store *s = open_fx(state, 1);
	int64_t v = 0;
	assert_int_equal(dg_store_version(s, &v), DG_OK);
	assert_int_equal(v, 3);
	struct dg_db *db = NULL;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_db_query_int(db, "SELECT COUNT(*) FROM ma", DG_NOARGS, &v), DG_OK);
	assert_int_equal(v, 2);
	dg_db_put(db);
	dg_store_close(s);
}

static void pg_reconnect(void **state)
{
	struct fx *f = *state;
	if (f->kind != DG_STORE_PG)
		skip();
	struct dg_store *s = open_fx(state, 2);
	struct dg_db *a = NULL, *b = NULL;
	int64_t pid = 0, ok = 0;
	assert_int_equal(dg_db_get(s, &a), DG_OK);
	assert_int_equal(dg_db_get(s, &b), DG_OK);
	assert_int_equal(dg_db_query_int(a, "SELECT pg_backend_pid()", DG_NOARGS, &pid), DG_OK);
	assert_int_equal(
		dg_db_query_int(b, "SELECT pg_terminate_backend(?::int)", DG_ARGS(DG_VI(pid)), &ok),
		DG_OK);
	assert_int_equal(ok, 1);
	/* the server closed a's session: its next statement fails, then a fresh borrow reconnects
	 */
	assert_int_equal(dg_db_query_int(a, "SELECT 1", DG_NOARGS, &ok), DG_EDB);
	dg_db_put(a);
	dg_db_put(b);
	for (int i = 0; i < 2; i++) {
		struct dg_db *c[2] = {NULL, NULL};
		assert_int_equal(dg_db_get(s, &c[0]), DG_OK);
		assert_int_equal(dg_db_get(s, &c[1]), DG_OK);
		for (int k = 0; k < 2; k++) {
			assert_int_equal(dg_db_query_int(c[k], "SELECT 2", DG_NOARGS, &ok), DG_OK);
			assert_int_equal(ok, 2);
			dg_db_put(c[k]);
		}
	}
	dg_store_close(s);
}

#define WRITERS 4
#define WRITES  150

struct writer {
	struct dg_store *s;
	int id;
	int errors;
};

static void *writer_thread(void *p)
{
	struct writer *w = p;
	for (int i = 0; i < WRITES; i++) {
		struct dg_db *db = NULL;
		if (dg_db_get(w->s, &db) != DG_OK) {
			w->errors++;
			continue;
		}
		dg_rc rc;
		if (i % 2) {
			/* a read-then-write transaction, the pattern that deadlocks without
			 * IMMEDIATE */
			int64_t n = 0;
			rc = dg_db_begin(db);
			if (rc == DG_OK)
				rc = dg_db_query_int(db, "SELECT COUNT(*) FROM w", DG_NOARGS, &n);
			if (rc == DG_OK)
				rc = dg_db_exec(db, "INSERT INTO w(who, i) VALUES (?, ?)",
						DG_ARGS(DG_VI(w->id), DG_VI(i)), NULL);
			if (rc == DG_OK)
				rc = dg_db_commit(db);
		} else {
			rc = dg_db_exec(db, "INSERT INTO w(who, i) VALUES (?, ?)",
					DG_ARGS(DG_VI(w->id), DG_VI(i)), NULL);
		}
		w->errors += rc != DG_OK;
		dg_db_put(db);
	}
	return NULL;
}

static void concurrent_writers(void **state)
{
	struct dg_store *s = open_fx(state, WRITERS);
	struct dg_db *db = NULL;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_db_exec_script(db, "CREATE TABLE w(id {{pk}}, who INTEGER, i INTEGER)"),
			 DG_OK);
	dg_db_put(db);
	struct writer w[WRITERS];
	pthread_t t[WRITERS];
	for (int k = 0; k < WRITERS; k++) {
		w[k] = (struct writer){s, k, 0};
		assert_int_equal(pthread_create(&t[k], NULL, writer_thread, &w[k]), 0);
	}
	for (int k = 0; k < WRITERS; k++) {
		pthread_join(t[k], NULL);
		assert_int_equal(w[k].errors, 0);
	}
	int64_t n = 0;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_db_query_int(db, "SELECT COUNT(*) FROM w", DG_NOARGS, &n), DG_OK);
	assert_int_equal(n, WRITERS * WRITES);
	dg_db_put(db);
	dg_store_close(s);
}

/* ---- the tally: counts held per node and written in batches (tally.h) ---- */

static const struct dg_tally_kind quota_kind = {
	"INSERT INTO q (subject, day, n) VALUES (?, ?, CAST(? AS BIGINT))"
	" ON CONFLICT (subject, day) DO UPDATE SET n = q.n + excluded.n RETURNING n",
	2, true};
static const struct dg_tally_kind use_kind = {
	"INSERT INTO q (subject, day, n) VALUES (?, ?, CAST(? AS BIGINT))"
	" ON CONFLICT (subject, day) DO UPDATE SET n = q.n + excluded.n",
	2, false};

enum { TALLY_LIMIT = 100, TALLY_CALLS = 150 };

/* One caller: TALLY_CALLS calls of one quota on its node t, admitted while within the limit. */
struct caller {
	struct dg_store *s;
	struct dg_tally *t;
	const char *subject;
	int admitted, errors;
};

static void *call_thread(void *arg)
{
	struct caller *c = arg;
	const char *key[] = {c->subject, "2026-12-07"};
	for (int i = 0; i < TALLY_CALLS; i++) {
		struct dg_db *db = NULL;
		int64_t n = 0;
		if (dg_db_get(c->s, &db) || dg_tally_add(c->t, db, &quota_kind, key, &n))
			c->errors++;
		else if (n <= TALLY_LIMIT)
			c->admitted++;
		dg_db_put(db);
	}
	return NULL;
}

/*
 * Four callers of subject on nodes[k % nnodes]: how many calls were
 * admitted; every call is stored.
 */
static int run_callers(struct dg_store *s, const char *subject, struct dg_tally **nodes, int nnodes)
{
	struct caller c[4];
	pthread_t th[4];
	struct dg_db *db = NULL;
	int admitted = 0;
	for (int k = 0; k < 4; k++) {
		c[k] = (struct caller){s, nodes[k % nnodes], subject, 0, 0};
		assert_int_equal(pthread_create(&th[k], NULL, call_thread, &c[k]), 0);
	}
	for (int k = 0; k < 4; k++) {
		pthread_join(th[k], NULL);
		assert_int_equal(c[k].errors, 0);
		admitted += c[k].admitted;
	}
	int64_t n = 0;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	for (int k = 0; k < nnodes; k++)
		assert_int_equal(dg_tally_flush(nodes[k], db), DG_OK);
	assert_int_equal(dg_db_query_int(db, "SELECT n FROM q WHERE subject = ?",
					 DG_ARGS(DG_VT(subject)), &n),
			 DG_OK);
	assert_int_equal(n, 4 * TALLY_CALLS);
	dg_db_put(db);
	return admitted;
}

/*
 * A quota counted by the tally from several threads: on one node exactly
 * the limit is admitted; on two nodes over one store, at most
 * DG_TALLY_BATCH more (the margin docs/opendata.md states), never fewer.
 */
static void tally_quota_margin(void **state)
{
	struct dg_store *s = open_fx(state, 6);
	struct dg_db *db = NULL;
	struct dg_tally *t[2] = {dg_tally_new(), dg_tally_new()};
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(
		dg_db_exec_script(db, "CREATE TABLE q (subject TEXT NOT NULL, day TEXT"
				      " NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (subject, day))"),
		DG_OK);
	dg_db_put(db);
	assert_int_equal(run_callers(s, "app:1", t, 1), TALLY_LIMIT);
	int admitted = run_callers(s, "app:2", t, 2);
	assert_true(admitted >= TALLY_LIMIT);
	assert_true(admitted <= TALLY_LIMIT + DG_TALLY_BATCH);
	dg_tally_free(t[0]);
	dg_tally_free(t[1]);
	dg_store_close(s);
}

/* Plain counts are held until a batch is due, then written in one statement per key. */
static void tally_counts_batched(void **state)
{
	struct dg_store *s = open_fx(state, 1);
	struct dg_db *db = NULL;
	struct dg_tally *t = dg_tally_new();
	int64_t n = 0;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(
		dg_db_exec_script(db, "CREATE TABLE q (subject TEXT NOT NULL, day TEXT"
				      " NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (subject, day))"),
		DG_OK);
	for (int i = 0; i < 30; i++) {
		const char *key[] = {i % 3 ? "a" : "b", "d1"};
		assert_int_equal(dg_tally_add(t, db, &use_kind, key, NULL), DG_OK);
	}
	/* fewer than a batch, within the second: nothing written yet */
	assert_int_equal(dg_db_query_int(db, "SELECT COUNT(*) FROM q", DG_NOARGS, &n), DG_OK);
	assert_int_equal(n, 0);
	assert_int_equal(dg_tally_flush(t, db), DG_OK);
	assert_int_equal(dg_db_query_int(db, "SELECT n FROM q WHERE subject = 'a'", DG_NOARGS, &n),
			 DG_OK);
	assert_int_equal(n, 20);
	assert_int_equal(dg_db_query_int(db, "SELECT n FROM q WHERE subject = 'b'", DG_NOARGS, &n),
			 DG_OK);
	assert_int_equal(n, 10);
	/* a batch's worth of one key is written at once */
	for (int i = 0; i < DG_TALLY_BATCH; i++) {
		const char *key[] = {"c", "d1"};
		assert_int_equal(dg_tally_add(t, db, &use_kind, key, NULL), DG_OK);
	}
	assert_int_equal(dg_db_query_int(db, "SELECT n FROM q WHERE subject = 'c'", DG_NOARGS, &n),
			 DG_OK);
	assert_int_equal(n, DG_TALLY_BATCH);
	/* without a tally, each call is written at once */
	const char *key[] = {"d", "d1"};
	assert_int_equal(dg_tally_add(NULL, db, &use_kind, key, NULL), DG_OK);
	assert_int_equal(dg_db_query_int(db, "SELECT n FROM q WHERE subject = 'd'", DG_NOARGS, &n),
			 DG_OK);
	assert_int_equal(n, 1);
	dg_db_put(db);
	dg_tally_free(t);
	dg_store_close(s);
}

/* The connection's statement counters, read into *st; returns st for chaining. */
static const struct dg_stmt_stats *stmt_stats(struct dg_db *db, struct dg_stmt_stats *st)
{
	dg_db_stmt_stats(db, st);
	return st;
}

static void expect_name(struct dg_db *db, int64_t id, const char *want)
{
	char *got = NULL;
	struct dg_arena *a = dg_arena_new();
	assert_int_equal(dg_db_query_text(db, "SELECT name FROM t WHERE id = ?", DG_ARGS(DG_VI(id)),
					  a, &got),
			 DG_OK);
	assert_string_equal(got, want);
	dg_arena_free(a);
}

/* The same SQL many times, with different arguments: right rows, and hits. */
static void stmt_cache_reuse(void **state)
{
	struct dg_store *s = open_fx(state, 1);
	struct dg_db *db = NULL;
	struct dg_stmt_stats st0, st;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_db_exec_script(db, "CREATE TABLE t(id BIGINT PRIMARY KEY, name TEXT)"),
			 DG_OK);
	stmt_stats(db, &st0);
	char name[32];
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof name, "n%d", i);
		assert_int_equal(dg_db_exec(db, "INSERT INTO t(id, name) VALUES (?, ?)",
					    DG_ARGS(DG_VI(i), DG_VT(name)), NULL),
				 DG_OK);
	}
	for (int i = 49; i >= 0; i--) {
		snprintf(name, sizeof name, "n%d", i);
		expect_name(db, i, name);
	}
	/* two statements, each kept from its second run: 48 + 48 reuses */
	stmt_stats(db, &st);
	assert_int_equal(st.hits - st0.hits, 96);
	assert_int_equal(st.misses - st0.misses, 4);
	assert_int_equal(st.cached, st0.cached + 2);
	/* a NULL argument, and (PostgreSQL: another parameter type) a text id */
	assert_int_equal(dg_db_exec(db, "INSERT INTO t(id, name) VALUES (?, ?)",
				    DG_ARGS(DG_VI(50), DG_VNULL), NULL),
			 DG_OK);
	int64_t n = -1;
	assert_int_equal(
		dg_db_query_int(db, "SELECT COUNT(*) FROM t WHERE name IS NULL", DG_NOARGS, &n),
		DG_OK);
	assert_int_equal(n, 1);
	expect_name(db, 7, "n7");
	/* one-shot SQL is neither counted nor kept */
	stmt_stats(db, &st0);
	for (int i = 0; i < 3; i++) {
		struct dg_rows *r = NULL;
		assert_int_equal(dg_db_query_once(db, "SELECT name FROM t WHERE id = ?",
						  DG_ARGS(DG_VI(3)), &r),
				 DG_OK);
		assert_int_equal(dg_rows_next(r), DG_OK);
		assert_string_equal(dg_rows_text(r, 0), "n3");
		dg_rows_free(r);
	}
	stmt_stats(db, &st);
	assert_int_equal(st.hits, st0.hits);
	assert_int_equal(st.misses, st0.misses);
	assert_int_equal(st.cached, st0.cached);
	dg_db_put(db);
	dg_store_close(s);
}

/* Two open result sets of the same SQL on one connection never share a statement. */
static void stmt_cache_nested(void **state)
{
	static const char q[] = "SELECT id FROM t WHERE id >= ? ORDER BY id";
	struct dg_store *s = open_fx(state, 1);
	struct dg_db *db = NULL;
	struct dg_stmt_stats st0, st;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_db_exec_script(db, "CREATE TABLE t(id BIGINT PRIMARY KEY);"
					       "INSERT INTO t VALUES (1), (2), (3), (4);"),
			 DG_OK);
	int64_t n = 0;
	for (int i = 0; i < 2; i++) /* now kept */
		assert_int_equal(dg_db_query_int(db, q, DG_ARGS(DG_VI(1)), &n), DG_OK);
	stmt_stats(db, &st0);
	struct dg_rows *outer = NULL;
	assert_int_equal(dg_db_query(db, q, DG_ARGS(DG_VI(1)), &outer), DG_OK);
	int64_t sum = 0, rows = 0;
	while (dg_rows_next(outer) == DG_OK) {
		int64_t o = dg_rows_int(outer, 0);
		struct dg_rows *inner = NULL;
		assert_int_equal(dg_db_query(db, q, DG_ARGS(DG_VI(o)), &inner), DG_OK);
		int64_t want = o;
		while (dg_rows_next(inner) == DG_OK) {
			assert_int_equal(dg_rows_int(inner, 0), want++);
			sum += dg_rows_int(inner, 0);
		}
		assert_int_equal(want, 5);
		dg_rows_free(inner);
		rows++;
	}
	dg_rows_free(outer);
	assert_int_equal(rows, 4);
	assert_int_equal(sum, (1 + 2 + 3 + 4) + (2 + 3 + 4) + (3 + 4) + 4);
	stmt_stats(db, &st);
	/* the outer run reused the kept statement; the inner ones could not
	 * while it was open (SQLite), but the result is the same on both */
	assert_true(st.hits - st0.hits >= 1);
	/* afterwards the kept statement is idle again */
	stmt_stats(db, &st0);
	assert_int_equal(dg_db_query_int(db, q, DG_ARGS(DG_VI(2)), &n), DG_OK);
	assert_int_equal(n, 2);
	stmt_stats(db, &st);
	assert_int_equal(st.hits - st0.hits, 1);
	dg_db_put(db);
	dg_store_close(s);
}

/* Past the bound the least recently used statement goes; one-shot SQL evicts nothing. */
static void stmt_cache_eviction(void **state)
{
	struct dg_store *s = open_fx(state, 1);
	struct dg_db *db = NULL;
	struct dg_stmt_stats st0, st;
	char sql[64];
	int64_t n = 0;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	stmt_stats(db, &st0);
	/* ten statements that recur */
	for (int round = 0; round < 3; round++)
		for (int k = 0; k < 10; k++) {
			snprintf(sql, sizeof sql, "SELECT ? + %d", k);
			assert_int_equal(dg_db_query_int(db, sql, DG_ARGS(DG_VI(round)), &n),
					 DG_OK);
			assert_int_equal(n, round + k);
		}
	stmt_stats(db, &st);
	assert_int_equal(st.hits - st0.hits, 10);
	/* a thousand statements seen once each (a new OFFSET every page) */
	for (int k = 0; k < 1000; k++) {
		snprintf(sql, sizeof sql, "SELECT ? + %d + 0", k);
		assert_int_equal(dg_db_query_int(db, sql, DG_ARGS(DG_VI(1)), &n), DG_OK);
		assert_int_equal(n, k + 1);
	}
	stmt_stats(db, &st0);
	assert_int_equal(st0.evictions, st.evictions);
	for (int k = 0; k < 10; k++) {
		snprintf(sql, sizeof sql, "SELECT ? + %d", k);
		assert_int_equal(dg_db_query_int(db, sql, DG_ARGS(DG_VI(5)), &n), DG_OK);
		assert_int_equal(n, 5 + k);
	}
	stmt_stats(db, &st);
	assert_int_equal(st.hits - st0.hits, 10);
	/* more recurring statements than the bound: evictions, never over it */
	stmt_stats(db, &st0);
	for (int round = 0; round < 2; round++)
		for (int k = 0; k < DG_STMT_CACHE_SLOTS + 20; k++) {
			snprintf(sql, sizeof sql, "SELECT ? * 2 + %d", k);
			assert_int_equal(dg_db_query_int(db, sql, DG_ARGS(DG_VI(round)), &n),
					 DG_OK);
			assert_int_equal(n, round * 2 + k);
		}
	stmt_stats(db, &st);
	assert_true(st.cached <= DG_STMT_CACHE_SLOTS);
	assert_int_equal(st.cached, DG_STMT_CACHE_SLOTS);
	assert_int_equal(st.evictions - st0.evictions, 10 + 20);
	/* the most recent ones are still there, the first ones were evicted */
	stmt_stats(db, &st0);
	snprintf(sql, sizeof sql, "SELECT ? * 2 + %d", DG_STMT_CACHE_SLOTS + 19);
	assert_int_equal(dg_db_query_int(db, sql, DG_ARGS(DG_VI(1)), &n), DG_OK);
	assert_int_equal(n, 2 + DG_STMT_CACHE_SLOTS + 19);
	stmt_stats(db, &st);
	assert_int_equal(st.hits - st0.hits, 1);
	assert_int_equal(dg_db_query_int(db, "SELECT ? + 0", DG_ARGS(DG_VI(9)), &n), DG_OK);
	assert_int_equal(n, 9);
	stmt_stats(db, &st0);
	assert_int_equal(st0.hits, st.hits);
	dg_db_put(db);
	dg_store_close(s);
}

static void expect_cols(struct dg_db *db, const char *sql, int64_t id, int ncols, const char *last)
{
	struct dg_rows *r = NULL;
	assert_int_equal(dg_db_query(db, sql, DG_ARGS(DG_VI(id)), &r), DG_OK);
	assert_int_equal(dg_rows_next(r), DG_OK);
	assert_int_equal(dg_rows_ncols(r), ncols);
	assert_string_equal(dg_rows_text(r, ncols - 1), last);
	assert_int_equal(dg_rows_next(r), DG_ENOTFOUND);
	dg_rows_free(r);
}

/* A table's shape changes between runs of a kept statement, on its connection and another. */
static void stmt_cache_schema(void **state)
{
	static const char q[] = "SELECT * FROM sc WHERE id = ?";
	struct dg_store *s = open_fx(state, 2);
	struct dg_db *db = NULL, *other = NULL;
	struct dg_stmt_stats st0, st;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_db_get(s, &other), DG_OK);
	assert_int_equal(dg_db_exec_script(db, "CREATE TABLE sc(id BIGINT, a TEXT);"
					       "INSERT INTO sc VALUES (1, 'x');"),
			 DG_OK);
	for (int i = 0; i < 3; i++)
		expect_cols(db, q, 1, 2, "x");
	stmt_stats(db, &st0);
	assert_true(st0.hits >= 1);
	/* on the same connection */
	assert_int_equal(
		dg_db_exec(db, "ALTER TABLE sc ADD COLUMN b TEXT DEFAULT 'y'", DG_NOARGS, NULL),
		DG_OK);
	expect_cols(db, q, 1, 3, "y");
	expect_cols(db, q, 1, 3, "y");
	expect_cols(db, q, 1, 3, "y");
	/* on another connection: the kept statement meets a table that changed under it */
	assert_int_equal(dg_db_exec_script(other,
					   "DROP TABLE sc;"
					   "CREATE TABLE sc(id BIGINT, c TEXT, d TEXT, e TEXT);"
					   "INSERT INTO sc VALUES (1, 'p', 'q', 'r');"),
			 DG_OK);
	expect_cols(db, q, 1, 4, "r");
	expect_cols(db, q, 1, 4, "r");
	/* the same, inside a transaction: it may fail once, then works again */
	assert_int_equal(dg_db_exec_script(other, "ALTER TABLE sc ADD COLUMN f TEXT DEFAULT 'z'"),
			 DG_OK);
	assert_int_equal(dg_db_begin(db), DG_OK);
	struct dg_rows *r = NULL;
	dg_rc rc = dg_db_query(db, q, DG_ARGS(DG_VI(1)), &r);
	if (rc == DG_OK) {
		assert_int_equal(dg_rows_next(r), DG_OK);
		assert_int_equal(dg_rows_ncols(r), 5);
		dg_rows_free(r);
	}
	dg_db_rollback(db);
	expect_cols(db, q, 1, 5, "z");
	expect_cols(db, q, 1, 5, "z");
	/* the table gone: an error, not a crash; back: the statement works again */
	assert_int_equal(dg_db_exec_script(other, "DROP TABLE sc"), DG_OK);
	/* (SQLite reports it at the kept statement's first step, PostgreSQL at once) */
	rc = dg_db_query(db, q, DG_ARGS(DG_VI(1)), &r);
	if (rc == DG_OK) {
		rc = dg_rows_next(r);
		dg_rows_free(r);
	}
	assert_int_equal(rc, DG_EDB);
	assert_int_equal(dg_db_exec_script(other, "CREATE TABLE sc(id BIGINT, g TEXT);"
						  "INSERT INTO sc VALUES (1, 'back');"),
			 DG_OK);
	expect_cols(db, q, 1, 2, "back");
	expect_cols(db, q, 1, 2, "back");
	stmt_stats(db, &st);
	assert_true(st.hits > st0.hits);
	dg_db_put(other);
	dg_db_put(db);
	dg_store_close(s);
}

/* An error inside a transaction leaves the kept statements usable after the rollback. */
static void stmt_cache_tx_error(void **state)
{
	static const char ins[] = "INSERT INTO t(id, name) VALUES (?, ?)";
	struct dg_store *s = open_fx(state, 1);
	struct dg_db *db = NULL;
	struct dg_stmt_stats st0, st;
	int64_t n = 0;
	assert_int_equal(dg_db_get(s, &db), DG_OK);
	assert_int_equal(dg_db_exec_script(db, "CREATE TABLE t(id BIGINT PRIMARY KEY, name TEXT)"),
			 DG_OK);
	for (int i = 1; i <= 3; i++)
		assert_int_equal(dg_db_exec(db, ins, DG_ARGS(DG_VI(i), DG_VT("a")), NULL), DG_OK);
	expect_name(db, 1, "a");
	expect_name(db, 2, "a");
	/* seen once before the transaction, so prepared inside it (a rollback keeps it) */
	static const char below[] = "SELECT COUNT(*) FROM t WHERE id < ?";
	assert_int_equal(dg_db_query_int(db, below, DG_ARGS(DG_VI(3)), &n), DG_OK);
	assert_int_equal(n, 2);
	/* a conflict and a bad statement inside a transaction, then a kept one */
	assert_int_equal(dg_db_begin(db), DG_OK);
	assert_int_equal(dg_db_exec(db, ins, DG_ARGS(DG_VI(10), DG_VT("b")), NULL), DG_OK);
	assert_int_equal(dg_db_query_int(db, below, DG_ARGS(DG_VI(100)), &n), DG_OK);
	assert_int_equal(n, 4);
	assert_int_equal(dg_db_exec(db, ins, DG_ARGS(DG_VI(1), DG_VT("b")), NULL), DG_ECONFLICT);
	assert_int_equal(dg_db_query_int(db, "SELECT COUNT(*) FROM nope", DG_NOARGS, &n), DG_EDB);
	assert_int_equal(dg_db_query_int(db, "SELECT COUNT(*) FROM nope", DG_NOARGS, &n), DG_EDB);
	/* PostgreSQL refuses everything until the rollback; SQLite goes on */
	dg_rc rc = dg_db_exec(db, ins, DG_ARGS(DG_VI(11), DG_VT("b")), NULL);
	assert_int_equal(rc, dg_db_kind(db) == DG_STORE_PG ? DG_EDB : DG_OK);
	dg_db_rollback(db);
	stmt_stats(db, &st0);
	for (int i = 20; i < 25; i++)
		assert_int_equal(dg_db_exec(db, ins, DG_ARGS(DG_VI(i), DG_VT("c")), NULL), DG_OK);
	expect_name(db, 24, "c");
	assert_int_equal(dg_db_query_int(db, below, DG_ARGS(DG_VI(100)), &n), DG_OK);
	assert_int_equal(n, 3 + 5);
	stmt_stats(db, &st);
	assert_int_equal(st.hits - st0.hits, 7);
	assert_int_equal(dg_db_query_int(db, "SELECT COUNT(*) FROM t", DG_NOARGS, &n), DG_OK);
	assert_int_equal(n, 3 + 5);
	/* a statement cut off by the budget leaves its kept statement usable */
	static const char slow[] = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c"
				   " WHERE x < ?) SELECT COUNT(*) FROM c";
	for (int i = 0; i < 2; i++) {
		assert_int_equal(dg_db_query_int(db, slow, DG_ARGS(DG_VI(10)), &n), DG_OK);
		assert_int_equal(n, 10);
	}
	assert_int_equal(dg_db_set_timeout_ms(db, 50), DG_OK);
	assert_int_equal(dg_db_query_int(db, slow, DG_ARGS(DG_VI(INT64_C(1) << 40)), &n), DG_EDB);
	assert_true(dg_db_timed_out(db));
	assert_int_equal(dg_db_set_timeout_ms(db, 0), DG_OK);
	stmt_stats(db, &st0);
	assert_int_equal(dg_db_query_int(db, slow, DG_ARGS(DG_VI(20)), &n), DG_OK);
	assert_int_equal(n, 20);
	stmt_stats(db, &st);
	assert_int_equal(st.hits - st0.hits, 1);
	dg_db_put(db);
	dg_store_close(s);
}

int main(void)
{
	dg_log_set_level(getenv("DGOV_TEST_LOG") ? DG_LOG_DEBUG : DG_LOG_OFF);
	static const struct {
		const char *name;
		CMUnitTestFunction fn;
	} both[] = {
		{"values_roundtrip", values_roundtrip},
		{"transactions", transactions},
		{"conflicts", conflicts},
		{"bulk_copy", bulk_copy},
		{"bulk_copy_groups", bulk_copy_groups},
		{"time_budget", time_budget},
		{"pool_exhaustion", pool_exhaustion},
		{"migrations", migrations},
		{"migrations_two_nodes", migrations_two_nodes},
		{"concurrent_writers", concurrent_writers},
		{"stmt_cache_reuse", stmt_cache_reuse},
		{"stmt_cache_nested", stmt_cache_nested},
		{"stmt_cache_eviction", stmt_cache_eviction},
		{"stmt_cache_schema", stmt_cache_schema},
		{"stmt_cache_tx_error", stmt_cache_tx_error},
		{"tally_quota_margin", tally_quota_margin},
		{"tally_counts_batched", tally_counts_batched},
	};
	enum { NBOTH = sizeof(both) / sizeof(both[0]) };
	struct CMUnitTest tests[3 + 2 * NBOTH];
	static char names[2 * NBOTH][64];
	size_t n = 0;
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(translate_cases);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(open_errors);
	/* PostgreSQL cases only when DGOV_TEST_DB names one */
	for (int pg = 0; pg <= (pg_url() != NULL); pg++) {
		for (size_t i = 0; i < NBOTH; i++) {
			char *name = names[pg * NBOTH + i];
			snprintf(name, 64, "%s_%s", pg ? "pg" : "sqlite", both[i].name);
			tests[n++] = (struct CMUnitTest){
				name, both[i].fn, pg ? setup_pg : setup_sqlite, teardown, NULL};
		}
	}
	if (pg_url())
		tests[n++] =
			(struct CMUnitTest){"pg_reconnect", pg_reconnect, setup_pg, teardown, NULL};
	return _cmocka_run_group_tests("store", tests, n, NULL, NULL);
}
