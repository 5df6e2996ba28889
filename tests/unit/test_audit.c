/*
 * test_audit.c - the audit log (src/audit) over a real store (SQLite, or
 * PostgreSQL when DGOV_TEST_DB names one): a chain that verifies; every
 * kind of hand edit found at the record it touched — a changed field, a
 * deleted record, two records swapped, a chain rewritten from one record on
 * (caught by the signed checkpoint), records cut off the end, a forged
 * checkpoint; a break on either side of a page's end (the walk reads
 * pages of 5000) found at its record; appends from several threads at once that still chain, and
 * group appends (committed in batches) that chain with the others, each
 * committed when its call returns; async appends, told once committed,
 * whose hook commits with them, and a failing hook that fails its own
 * record alone, the rest of its batch committed; a
 * record appended inside a transaction that rolls back leaves nothing.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit/audit.h"
#include "core/keys.h"
#include "core/log.h"
#include "core/rand.h"

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define REGION  "990100"

static struct dg_store *store;
static struct dg_keys keys;
static char tmpdir[] = "/tmp/dgov-audit-XXXXXX";
static char dbpath[256];

static struct dg_db *get(void)
{
	struct dg_db *db = NULL;
	assert_int_equal(dg_db_get(store, &db), DG_OK);
	return db;
}

static void sql(const char *text)
{
	struct dg_db *db = get();
	assert_int_equal(dg_db_exec_script(db, text), DG_OK);
	dg_db_put(db);
}

/* A fresh store with the audit tables, before each test. */
static int setup(void **state)
{
	(void)state;
	struct dg_err err = {0};
	const char *url = getenv("DGOV_TEST_DB");
	if (!(url && url[0])) {
		snprintf(dbpath, sizeof dbpath, "%s/audit.db", tmpdir);
		unlink(dbpath);
		url = dbpath;
	}
	if (dg_store_open(url, 8, &store, &err))
		return -1;
	struct dg_db *db = get();
	dg_rc rc = dg_db_exec_script(db, "DROP TABLE IF EXISTS audit_log;"
					 "DROP TABLE IF EXISTS audit_head;"
					 "DROP TABLE IF EXISTS audit_checkpoints;"
					 "DROP TABLE IF EXISTS audit_keep;"
					 "DROP TABLE IF EXISTS schema_migrations");
	dg_db_put(db);
	const struct dg_migration *lists[] = {dg_audit_migrations};
	if (rc || dg_store_migrate(store, lists, 1, &err))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dg_store_close(store);
	store = NULL;
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	struct dg_err err = {0};
	dg_log_set_level(getenv("TH_AUDIT_LOG") ? DG_LOG_WARN : DG_LOG_OFF);
	if (dg_rand_init() || !mkdtemp(tmpdir))
		return -1;
	return dg_keys_load(&keys, KEY_HEX, NULL, &err) ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	char p[300];
	const char *sfx[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", dbpath, sfx[i]);
		unlink(p);
	}
	rmdir(tmpdir);
	dg_keys_release(&keys);
	return 0;
}

static void append(int i)
{
	struct dg_db *db = get();
	json_t *detail = json_pack("{s:i, s:[s,s]}", "n", i, "fields", "name", "income");
	struct dg_audit_rec rec = {"exchange.read", "dept:mz/system:dibao", "a1b2c3",
				   "990100-MZ-004", detail};
	int64_t seq = 0;
	assert_int_equal(dg_audit_append(db, &rec, &seq), DG_OK);
	assert_true(seq > 0);
	json_decref(detail);
	dg_db_put(db);
}

static void checkpoint(void)
{
	struct dg_db *db = get();
	assert_int_equal(dg_audit_checkpoint(db, &keys, REGION, NULL), DG_OK);
	dg_db_put(db);
}

/* Verify; returns the first broken record (0 when the log holds). */
static int64_t verify(struct dg_audit_report *rep)
{
	struct dg_db *db = get();
	dg_rc rc = dg_audit_verify(db, &keys, REGION, rep);
	dg_db_put(db);
	assert_true(rc == DG_OK || rc == DG_ECONFLICT);
	assert_int_equal(rc == DG_OK, rep->bad_seq == 0);
	return rep->bad_seq;
}

/* 30 records with checkpoints after the 10th and the 20th. */
static void fill(void)
{
	for (int i = 1; i <= 30; i++) {
		append(i);
		if (i % 10 == 0 && i < 30)
			checkpoint();
	}
}

static void chain_verifies(void **state)
{
	(void)state;
	struct dg_audit_report rep;
	assert_int_equal(verify(&rep), 0); /* an empty log holds */
	assert_int_equal(rep.records, 0);
	fill();
	assert_int_equal(verify(&rep), 0);
	assert_int_equal(rep.records, 30);
	assert_int_equal(rep.checkpoints, 2);
	/* a checkpoint of an unchanged head adds nothing */
	checkpoint();
	checkpoint();
	assert_int_equal(verify(&rep), 0);
	assert_int_equal(rep.checkpoints, 3);
}

static void changed_field_found(void **state)
{
	(void)state;
	struct dg_audit_report rep;
	fill();
	sql("UPDATE audit_log SET purpose = 'something else' WHERE seq = 17");
	assert_int_equal(verify(&rep), 17);
	assert_non_null(strstr(rep.why, "changed"));
	assert_int_equal(rep.records, 16);
}

static void deleted_record_found(void **state)
{
	(void)state;
	struct dg_audit_report rep;
	fill();
	sql("DELETE FROM audit_log WHERE seq = 5");
	assert_int_equal(verify(&rep), 5);
	assert_non_null(strstr(rep.why, "missing"));
}

static void swapped_records_found(void **state)
{
	(void)state;
	struct dg_audit_report rep;
	fill();
	/* records 8 and 9 trade places, each keeping its own hash */
	sql("UPDATE audit_log SET seq = -8 WHERE seq = 8;"
	    "UPDATE audit_log SET seq = 8 WHERE seq = 9;"
	    "UPDATE audit_log SET seq = 9 WHERE seq = -8");
	assert_int_equal(verify(&rep), 8);
}

/* Whoever rewrites every hash from a record on still cannot sign the checkpoint. */
static void rewritten_chain_found_by_checkpoint(void **state)
{
	(void)state;
	struct dg_audit_report rep;
	fill();
	/* take records 12..30 out and append them again with a change: a chain that holds */
	sql("DELETE FROM audit_log WHERE seq >= 12;"
	    "UPDATE audit_head SET seq = 11, hash = (SELECT hash FROM audit_log WHERE seq = 11)");
	for (int i = 12; i <= 30; i++)
		append(1000 + i);
	assert_int_equal(verify(&rep), 20); /* the checkpoint at 20 no longer matches */
	assert_non_null(strstr(rep.why, "checkpoint"));
}

static void cut_tail_found(void **state)
{
	(void)state;
	struct dg_audit_report rep;
	fill();
	/* the last ten go, head and all: the checkpoint at 20 still names record 20 */
	sql("DELETE FROM audit_log WHERE seq >= 16;"
	    "UPDATE audit_head SET seq = 15, hash = (SELECT hash FROM audit_log WHERE seq = 15)");
	assert_int_equal(verify(&rep), 20);
}

/* Without moving the head too, any cut shows, past the last checkpoint as well. */
static void cut_tail_with_head_found(void **state)
{
	(void)state;
	struct dg_audit_report rep;
	fill();
	sql("DELETE FROM audit_log WHERE seq >= 29");
	assert_int_equal(verify(&rep), 29);
	assert_non_null(strstr(rep.why, "removed"));
}

static void forged_checkpoint_found(void **state)
{
	(void)state;
	struct dg_audit_report rep;
	fill();
	sql("UPDATE audit_checkpoints SET signature = '00' || substr(signature, 3) WHERE seq = 10");
	assert_int_equal(verify(&rep), 10);
	assert_non_null(strstr(rep.why, "not signed"));
}

/*
 * The walk checks the log in two parts at once (records 1 to 15 of 30, and
 * 16 on, from record 15's stored hash): a break on either side of the
 * middle, or in the middle record's hash that the second part starts from,
 * is found at the same record as a walk from the start would find it.
 */
static void break_at_the_middle_found(void **state)
{
	(void)state;
	static const struct {
		const char *sql;
		int64_t bad;
		const char *why;
	} cases[] = {
		{"UPDATE audit_log SET purpose = 'x' WHERE seq = 15", 15, "changed"},
		{"UPDATE audit_log SET purpose = 'x' WHERE seq = 16", 16, "changed"},
		{"DELETE FROM audit_log WHERE seq = 15", 15, "missing"},
		{"DELETE FROM audit_log WHERE seq = 16", 16, "missing"},
		{"DELETE FROM audit_log WHERE seq IN (14, 15, 16)", 14, "missing"},
		/* the middle record's hash replaced by the next one's: the second part starts
		 * from a hash that is not the chain's */
		{"UPDATE audit_log SET hash = (SELECT hash FROM audit_log WHERE seq = 16)"
		 " WHERE seq = 15",
		 15, "changed"},
		/* the same hash in capitals is not the hash dgov wrote */
		{"UPDATE audit_log SET hash = upper(hash) WHERE seq = 3", 3, "changed"},
		/* everything from 12 on gone, head left: the checkpoint at 20 names a lost record
		 */
		{"DELETE FROM audit_log WHERE seq >= 12", 20, "ends before it"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		teardown(state);
		assert_int_equal(setup(state), 0);
		fill();
		sql(cases[i].sql);
		struct dg_audit_report rep;
		int64_t bad = verify(&rep);
		if (bad != cases[i].bad || !strstr(rep.why, cases[i].why))
			fail_msg("%s: broken at %lld (%s), not %lld", cases[i].sql, (long long)bad,
				 rep.why, (long long)cases[i].bad);
		/* the records before it held, and the checkpoints among them */
		if (strcmp(cases[i].why, "ends before it") == 0) {
			assert_int_equal(rep.records, 11);
		} else {
			assert_int_equal(rep.records, cases[i].bad - 1);
			assert_int_equal(rep.checkpoints, cases[i].bad > 10 ? 1 : 0);
		}
	}
}

/*
 * The walk reads each part in pages of 5000 records (on PostgreSQL the
 * next page read by a thread while this one is hashed). Over 10002
 * records (parts 1 to 5001 and 5002 on; pages ending at 5000 and 10000) a
 * record changed, deleted or moved on either side of a page's end or of
 * the parts' middle is found at that record, the records before it
 * counted and the checkpoint at 5001 held when the break is after it; put
 * back, the log holds again.
 */
static void break_at_a_page_end_found(void **state)
{
	(void)state;
	enum { N = 10002 };
	struct dg_db *db = get();
	assert_int_equal(dg_db_begin(db), DG_OK);
	struct dg_audit_rec rec = {"exchange.read", "dept:mz/system:dibao", "a1b2c3",
				   "990100-MZ-004", NULL};
	for (int i = 1; i <= N; i++) {
		assert_int_equal(dg_audit_append(db, &rec, NULL), DG_OK);
		if (i == 5001) {
			assert_int_equal(dg_db_commit(db), DG_OK);
			assert_int_equal(dg_audit_checkpoint(db, &keys, REGION, NULL), DG_OK);
			assert_int_equal(dg_db_begin(db), DG_OK);
		}
	}
	assert_int_equal(dg_db_commit(db), DG_OK);
	dg_db_put(db);
	sql("CREATE TABLE audit_keep AS SELECT * FROM audit_log");
	struct dg_audit_report rep;
	assert_int_equal(verify(&rep), 0);
	assert_int_equal(rep.records, N);
	assert_int_equal(rep.checkpoints, 1);
	static const struct {
		const char *sql;
		int64_t bad;
		const char *why;
	} cases[] = {
		{"UPDATE audit_log SET detail = 'x' WHERE seq = 5000", 5000, "changed"},
		{"UPDATE audit_log SET detail = 'x' WHERE seq = 5001", 5001, "changed"},
		{"UPDATE audit_log SET detail = 'x' WHERE seq = 5002", 5002, "changed"},
		{"UPDATE audit_log SET at_ms = at_ms + 1 WHERE seq = 10000", 10000, "changed"},
		{"UPDATE audit_log SET actor = 'x' WHERE seq = 10001", 10001, "changed"},
		{"DELETE FROM audit_log WHERE seq = 5001", 5001, "missing"},
		{"DELETE FROM audit_log WHERE seq = 10001", 10001, "missing"},
		/* records 5000 and 5001 swapped across the page's end */
		{"UPDATE audit_log SET seq = -1 WHERE seq = 5000;"
		 "UPDATE audit_log SET seq = 5000 WHERE seq = 5001;"
		 "UPDATE audit_log SET seq = 5001 WHERE seq = -1",
		 5000, "changed"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sql(cases[i].sql);
		int64_t bad = verify(&rep);
		if (bad != cases[i].bad || !strstr(rep.why, cases[i].why))
			fail_msg("%s: broken at %lld (%s), not %lld", cases[i].sql, (long long)bad,
				 rep.why, (long long)cases[i].bad);
		assert_int_equal(rep.records, cases[i].bad - 1);
		assert_int_equal(rep.checkpoints, cases[i].bad > 5001 ? 1 : 0);
		sql("DELETE FROM audit_log; INSERT INTO audit_log SELECT * FROM audit_keep");
		assert_int_equal(verify(&rep), 0);
		assert_int_equal(rep.records, N);
	}
	sql("DROP TABLE audit_keep");
}

/* With no second connection free the walk is one part, and finds the same. */
static void walk_alone_when_pool_busy(void **state)
{
	(void)state;
	fill();
	sql("UPDATE audit_log SET purpose = 'x' WHERE seq = 17");
	struct dg_db *held[7];
	for (size_t i = 0; i < 7; i++)
		held[i] = get();
	struct dg_db *db = get();
	struct dg_db *none = NULL;
	assert_int_equal(dg_db_try_get(store, &none), DG_EUNAVAIL);
	struct dg_audit_report rep;
	assert_int_equal(dg_audit_verify(db, &keys, REGION, &rep), DG_ECONFLICT);
	assert_int_equal(rep.bad_seq, 17);
	assert_int_equal(rep.records, 16);
	assert_int_equal(rep.checkpoints, 1);
	dg_db_put(db);
	for (size_t i = 0; i < 7; i++)
		dg_db_put(held[i]);
	struct dg_audit_report again;
	assert_int_equal(verify(&again), 17);
}

static void *appender(void *arg)
{
	for (int i = 0; i < 25; i++)
		append((int)(intptr_t)arg * 100 + i);
	return NULL;
}

static void concurrent_appends_chain(void **state)
{
	(void)state;
	pthread_t t[4];
	for (intptr_t i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, appender, (void *)i), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	struct dg_audit_report rep;
	assert_int_equal(verify(&rep), 0);
	assert_int_equal(rep.records, 100);
}

/* Group appends from 6 threads, 40 each: every caller gets its own seq back once committed. */
static void *group_appender(void *arg)
{
	int64_t *seqs = arg;
	for (int i = 0; i < 40; i++) {
		struct dg_db *db = get();
		struct dg_audit_rec rec = {"exchange.read", "dept:rs/system:bench", "d4e5f6",
					   "990100-RS-001", NULL};
		assert_int_equal(dg_audit_append_group(store, db, &rec, &seqs[i]), DG_OK);
		/* committed: visible on another connection before the call returned */
		struct dg_db *other = get();
		int64_t n = 0;
		assert_int_equal(dg_db_query_int(other,
						 "SELECT COUNT(*) FROM audit_log WHERE seq = ?",
						 DG_ARGS(DG_VI(seqs[i])), &n),
				 DG_OK);
		assert_int_equal(n, 1);
		dg_db_put(other);
		dg_db_put(db);
	}
	return NULL;
}

static void group_appends_chain(void **state)
{
	(void)state;
	pthread_t t[6];
	static int64_t seqs[6][40];
	memset(seqs, 0, sizeof seqs);
	append(1); /* after a record appended the other way */
	for (int i = 0; i < 6; i++)
		assert_int_equal(pthread_create(&t[i], NULL, group_appender, seqs[i]), 0);
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	append(2);
	/* 241 distinct places, 2 .. 241 */
	static bool seen[243];
	memset(seen, 0, sizeof seen);
	for (int i = 0; i < 6; i++)
		for (int j = 0; j < 40; j++) {
			assert_true(seqs[i][j] >= 2 && seqs[i][j] <= 241);
			assert_false(seen[seqs[i][j]]);
			seen[seqs[i][j]] = true;
		}
	checkpoint();
	struct dg_audit_report rep;
	assert_int_equal(verify(&rep), 0);
	assert_int_equal(rep.records, 242);
	/* a caller inside a transaction keeps its record in it: a rollback leaves nothing */
	struct dg_db *db = get();
	struct dg_audit_rec rec = {"exchange.read", "dept:rs/system:bench", "", "", NULL};
	int64_t seq = 0;
	assert_int_equal(dg_db_begin(db), DG_OK);
	assert_int_equal(dg_audit_append_group(store, db, &rec, &seq), DG_OK);
	dg_db_rollback(db);
	dg_db_put(db);
	/* an oversized field is refused, nothing written */
	char big[DG_AUDIT_FIELD_MAX + 2];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	struct dg_audit_rec bad = {"exchange.read", big, "", "", NULL};
	db = get();
	assert_int_equal(dg_audit_append_group(store, db, &bad, NULL), DG_EINVAL);
	dg_db_put(db);
	assert_int_equal(verify(&rep), 0);
	assert_int_equal(rep.records, 242);
}

/*
 * Async appends (dg_audit_append_async) beside waiting ones: each record's
 * done runs once, after its commit, with its own seq; its then hook ran in
 * the same transaction (a side row per record, naming its seq); a hook that
 * fails fails its own record alone, which is then not in the log, and the
 * chain still verifies.
 */
#define ASYNC_N 150

static pthread_mutex_t async_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t async_cv = PTHREAD_COND_INITIALIZER;

struct async_rec {
	int n;
	bool fail;     /* its then hook fails */
	bool null_row; /* its then hook breaks a constraint of the store */
	int done;      /* times done ran */
	dg_rc rc;
	int64_t seq;
};

static dg_rc async_then(struct dg_db *db, int64_t seq, void *ctx)
{
	struct async_rec *a = ctx;
	if (a->fail)
		return DG_EDB;
	if (a->null_row)
		return dg_db_exec(db, "INSERT INTO th_side (seq, n) VALUES (?, NULL)",
				  DG_ARGS(DG_VI(seq)), NULL);
	return dg_db_exec(db, "INSERT INTO th_side (seq, n) VALUES (?, ?)",
			  DG_ARGS(DG_VI(seq), DG_VI(a->n)), NULL);
}

static void async_done(void *ctx, dg_rc rc, int64_t seq)
{
	struct async_rec *a = ctx;
	pthread_mutex_lock(&async_mu);
	a->done++;
	a->rc = rc;
	a->seq = seq;
	pthread_cond_broadcast(&async_cv);
	pthread_mutex_unlock(&async_mu);
}

/* 20 waiting appends; *arg gets the first failure (cmocka asserts only on the main thread) */
static void *waiting_appender(void *arg)
{
	dg_rc *failed = arg;
	for (int i = 0; i < 20; i++) {
		struct dg_db *db = NULL;
		dg_rc rc = dg_db_get(store, &db);
		struct dg_audit_rec rec = {"exchange.refused", "dept:rs/system:bench", "", "",
					   NULL};
		if (!rc)
			rc = dg_audit_append_group(store, db, &rec, NULL);
		dg_db_put(db);
		if (rc && !*failed)
			*failed = rc;
	}
	return NULL;
}

/* Record i was written at seq: in the log as a read, with its hook's side row. */
static void written_with_side(struct dg_db *db, int64_t seq, int i)
{
	int64_t n = -1, in_log = -1;
	assert_int_equal(
		dg_db_query_int(db, "SELECT n FROM th_side WHERE seq = ?", DG_ARGS(DG_VI(seq)), &n),
		DG_OK);
	assert_int_equal(n, i);
	assert_int_equal(dg_db_query_int(db,
					 "SELECT COUNT(*) FROM audit_log WHERE seq = ?"
					 " AND kind = 'exchange.read'",
					 DG_ARGS(DG_VI(seq)), &in_log),
			 DG_OK);
	assert_int_equal(in_log, 1);
}

/* The reads in the log and the hooks' side rows. */
static void reads_and_sides(struct dg_db *db, int64_t *reads, int64_t *side)
{
	assert_int_equal(
		dg_db_query_int(db, "SELECT COUNT(*) FROM audit_log WHERE kind = 'exchange.read'",
				DG_NOARGS, reads),
		DG_OK);
	assert_int_equal(dg_db_query_int(db, "SELECT COUNT(*) FROM th_side", DG_NOARGS, side),
			 DG_OK);
}

static void async_appends_chain(void **state)
{
	(void)state;
	sql("DROP TABLE IF EXISTS th_side; CREATE TABLE th_side (seq BIGINT PRIMARY KEY, n INTEGER "
	    "NOT NULL)");
	static struct async_rec recs[ASYNC_N];
	memset(recs, 0, sizeof recs);
	pthread_t t[2];
	dg_rc failed[2] = {DG_OK, DG_OK};
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, waiting_appender, &failed[i]), 0);
	/* the failing one after the waiting appenders are done: its batch holds no waiter's */
	for (int i = 0; i < ASYNC_N; i++) {
		if (i == ASYNC_N - 1)
			for (int k = 0; k < 2; k++)
				pthread_join(t[k], NULL);
		recs[i].n = i;
		recs[i].fail = i == ASYNC_N - 1;
		struct dg_audit_rec rec = {"exchange.read", "dept:rs/system:bench", "d4e5f6",
					   "990100-RS-001", NULL};
		assert_int_equal(
			dg_audit_append_async(store, &rec, async_then, async_done, &recs[i]),
			DG_OK);
	}
	assert_string_equal(dg_rc_name(failed[0]), dg_rc_name(DG_OK));
	assert_string_equal(dg_rc_name(failed[1]), dg_rc_name(DG_OK));
	pthread_mutex_lock(&async_mu);
	for (int i = 0; i < ASYNC_N; i++)
		while (!recs[i].done)
			pthread_cond_wait(&async_cv, &async_mu);
	pthread_mutex_unlock(&async_mu);
	/* the last one's hook failed: it is not in the log, nor its side row; its batch is */
	assert_int_not_equal(recs[ASYNC_N - 1].rc, DG_OK);
	assert_int_equal(recs[ASYNC_N - 1].seq, 0);
	struct dg_db *db = get();
	int64_t ok = 0;
	for (int i = 0; i < ASYNC_N; i++) {
		assert_int_equal(recs[i].done, 1);
		if (recs[i].rc) {
			assert_int_equal(recs[i].seq, 0);
			continue;
		}
		ok++;
		written_with_side(db, recs[i].seq, i);
	}
	int64_t reads = 0, side = 0;
	reads_and_sides(db, &reads, &side);
	dg_db_put(db);
	assert_int_equal(reads, ok);
	assert_int_equal(side, ok);
	assert_int_equal(ok, ASYNC_N - 1);
	/* an oversized field: refused at once, neither hook runs */
	char big[DG_AUDIT_FIELD_MAX + 2];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	struct async_rec never = {0};
	struct dg_audit_rec bad = {"exchange.read", big, "", "", NULL};
	assert_int_equal(dg_audit_append_async(store, &bad, async_then, async_done, &never),
			 DG_EINVAL);
	assert_int_equal(never.done, 0);
	checkpoint();
	struct dg_audit_report rep;
	assert_int_equal(verify(&rep), 0);
	assert_int_equal(rep.records, ok + 40);
}

/*
 * Records queued while another transaction holds the log's head, so they
 * are written in one batch: two of them have hooks that fail (one breaks a
 * NOT NULL constraint in the store, which aborts the transaction on
 * PostgreSQL; one returns an error after its first has been dropped). Those
 * two fail alone, with neither record nor side row kept; every other
 * record of the batch commits with its side row, and the chain verifies.
 */
#define ALONE_N 9

static void failing_hook_fails_alone(void **state)
{
	(void)state;
	fill();
	sql("DROP TABLE IF EXISTS th_side; CREATE TABLE th_side (seq BIGINT PRIMARY KEY, n INTEGER "
	    "NOT NULL)");
	static struct async_rec recs[ALONE_N];
	memset(recs, 0, sizeof recs);
	struct dg_db *holder = get();
	assert_int_equal(dg_db_begin(holder), DG_OK);
	assert_int_equal(
		dg_db_exec(holder, "UPDATE audit_head SET seq = seq WHERE id = 1", DG_NOARGS, NULL),
		DG_OK);
	for (int i = 0; i < ALONE_N; i++) {
		recs[i].n = i;
		recs[i].null_row = i == 4;
		recs[i].fail = i == 6;
		struct dg_audit_rec rec = {"exchange.read", "dept:rs/system:bench", "d4e5f6",
					   "990100-RS-001", NULL};
		assert_int_equal(
			dg_audit_append_async(store, &rec, async_then, async_done, &recs[i]),
			DG_OK);
	}
	usleep(200 * 1000);
	/* nothing is written while the head is held */
	pthread_mutex_lock(&async_mu);
	for (int i = 0; i < ALONE_N; i++)
		assert_int_equal(recs[i].done, 0);
	pthread_mutex_unlock(&async_mu);
	dg_db_rollback(holder);
	dg_db_put(holder);
	pthread_mutex_lock(&async_mu);
	for (int i = 0; i < ALONE_N; i++)
		while (!recs[i].done)
			pthread_cond_wait(&async_cv, &async_mu);
	pthread_mutex_unlock(&async_mu);
	struct dg_db *db = get();
	for (int i = 0; i < ALONE_N; i++) {
		assert_int_equal(recs[i].done, 1);
		if (i == 4 || i == 6) {
			assert_int_not_equal(recs[i].rc, DG_OK);
			assert_int_equal(recs[i].seq, 0);
			continue;
		}
		if (recs[i].rc)
			fail_msg("record %d failed with the one whose hook failed: %s", i,
				 dg_rc_name(recs[i].rc));
		written_with_side(db, recs[i].seq, i);
	}
	int64_t reads = 0, side = 0;
	reads_and_sides(db, &reads, &side);
	dg_db_put(db);
	assert_int_equal(reads, 30 + ALONE_N - 2); /* fill's 30 are reads too */
	assert_int_equal(side, ALONE_N - 2);
	checkpoint();
	struct dg_audit_report rep;
	assert_int_equal(verify(&rep), 0);
	assert_int_equal(rep.records, 30 + ALONE_N - 2);
}

static void rolled_back_append_leaves_nothing(void **state)
{
	(void)state;
	fill();
	struct dg_db *db = get();
	assert_int_equal(dg_db_begin(db), DG_OK);
	struct dg_audit_rec rec = {"reveal", "user:7", "x", "", NULL};
	assert_int_equal(dg_audit_append(db, &rec, NULL), DG_OK);
	dg_db_rollback(db);
	/* bad records are refused */
	struct dg_audit_rec empty = {"", "user:7", "x", "", NULL};
	assert_int_equal(dg_audit_append(db, &empty, NULL), DG_EINVAL);
	char big[DG_AUDIT_FIELD_MAX + 2];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	struct dg_audit_rec over = {"reveal", big, "x", "", NULL};
	assert_int_equal(dg_audit_append(db, &over, NULL), DG_EINVAL);
	dg_db_put(db);
	struct dg_audit_report rep;
	assert_int_equal(verify(&rep), 0);
	assert_int_equal(rep.records, 30);
	append(31);
	assert_int_equal(verify(&rep), 0);
	assert_int_equal(rep.records, 31);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(chain_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(changed_field_found, setup, teardown),
		cmocka_unit_test_setup_teardown(deleted_record_found, setup, teardown),
		cmocka_unit_test_setup_teardown(swapped_records_found, setup, teardown),
		cmocka_unit_test_setup_teardown(rewritten_chain_found_by_checkpoint, setup,
						teardown),
		cmocka_unit_test_setup_teardown(cut_tail_found, setup, teardown),
		cmocka_unit_test_setup_teardown(cut_tail_with_head_found, setup, teardown),
		cmocka_unit_test_setup_teardown(forged_checkpoint_found, setup, teardown),
		cmocka_unit_test_setup_teardown(break_at_the_middle_found, setup, teardown),
		cmocka_unit_test_setup_teardown(break_at_a_page_end_found, setup, teardown),
		cmocka_unit_test_setup_teardown(walk_alone_when_pool_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(concurrent_appends_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(group_appends_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(async_appends_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(failing_hook_fails_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(rolled_back_append_leaves_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
