/*
 * audit.c - the hash-chained audit log (audit.h): appending under the head
 * row's lock, signed checkpoints, and the walk that verifies both.
 *
 * A record's hash: BLAKE2b-256 over the previous hash (32 bytes, all zero
 * before the first record), then seq and at_ms as 8 bytes big-endian, then
 * kind, actor, subject, purpose and detail each as 4 bytes of length
 * big-endian and the bytes as stored. A checkpoint signs the text
 * "dgov-audit-checkpoint\n<region>\n<seq>\n<hash hex>\n".
 *
 * The walk reads the log in pages of PAGE records by seq, so it holds two
 * pages a part whatever the log's length (and the checkpoints' seqs and
 * hashes); every loop is bounded by the log's size.
 */
#include "audit/audit.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/failpoint.h"
#include "core/log.h"
#include "core/mem.h"

#define HASH_BYTES 32
#define HASH_HEX   (2 * HASH_BYTES)
#define PAGE       5000

const struct dg_migration dg_audit_migrations[] = {
	{"audit-001-log", "CREATE TABLE audit_log ("
			  " seq BIGINT PRIMARY KEY,"
			  " at_ms BIGINT NOT NULL,"
			  " kind TEXT NOT NULL,"
			  " actor TEXT NOT NULL,"
			  " subject TEXT NOT NULL,"
			  " purpose TEXT NOT NULL,"
			  " detail TEXT NOT NULL,"
			  " hash TEXT NOT NULL);"
			  "CREATE INDEX audit_log_subject ON audit_log(subject, seq);"
			  "CREATE TABLE audit_head ("
			  " id INTEGER PRIMARY KEY CHECK (id = 1),"
			  " seq BIGINT NOT NULL,"
			  " hash TEXT NOT NULL);"
			  "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0,"
			  " '0000000000000000000000000000000000000000000000000000000000000000');"
			  "CREATE TABLE audit_checkpoints ("
			  " seq BIGINT PRIMARY KEY,"
			  " hash TEXT NOT NULL,"
			  " at_ms BIGINT NOT NULL,"
			  " signature TEXT NOT NULL)"},
	{NULL, NULL},
};

/* b = v as 8 bytes big-endian. */
static void be64(unsigned char *b, int64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)((uint64_t)v >> (56 - 8 * i));
}

/* b = n as 4 bytes big-endian (a text's length as a link hashes it). */
static void be32(unsigned char *b, size_t n)
{
	b[0] = (unsigned char)(n >> 24);
	b[1] = (unsigned char)(n >> 16);
	b[2] = (unsigned char)(n >> 8);
	b[3] = (unsigned char)n;
}

static void put_u64(crypto_generichash_state *st, int64_t v)
{
	unsigned char b[8];
	be64(b, v);
	crypto_generichash_update(st, b, sizeof b);
}

static void put_text(crypto_generichash_state *st, const char *s)
{
	size_t n = strlen(s);
	unsigned char b[4];
	be32(b, n);
	crypto_generichash_update(st, b, sizeof b);
	crypto_generichash_update(st, (const unsigned char *)s, n);
}

/* The fields of one stored record, as text. */
struct row {
	int64_t seq, at_ms;
	const char *kind, *actor, *subject, *purpose, *detail;
};

/* out = the link after prev (both HASH_BYTES) over seq, at_ms and the n texts. */
static void link_bin(const unsigned char *prev, int64_t seq, int64_t at_ms,
		     const char *const *texts, size_t n, unsigned char *out)
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, HASH_BYTES);
	crypto_generichash_update(&st, prev, HASH_BYTES);
	put_u64(&st, seq);
	put_u64(&st, at_ms);
	for (size_t i = 0; i < n; i++)
		put_text(&st, texts[i]);
	crypto_generichash_final(&st, out, HASH_BYTES);
}

/* A lower-case hex digit's value plus one; 0 for any other byte. */
static const unsigned char hex_digit[256] = {
	['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
	['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

/* bin (HASH_BYTES) = the hash hex spells, as dgov writes it (64 lower-case digits). */
static bool hash_of_hex(const char *hex, unsigned char *bin)
{
	const unsigned char *h = (const unsigned char *)hex;
	for (size_t i = 0; i < HASH_BYTES; i++) {
		unsigned hi = hex_digit[h[2 * i]];
		unsigned lo = hi ? hex_digit[h[2 * i + 1]] : 0;
		if (!lo)
			return false;
		bin[i] = (unsigned char)((hi - 1) << 4 | (lo - 1));
	}
	return h[HASH_HEX] == '\0';
}

dg_rc dg_audit_link(const char *prev_hex, int64_t seq, int64_t at_ms, const char *const *texts,
		    size_t n, char *hex)
{
	unsigned char prev[HASH_BYTES], out[HASH_BYTES];
	if (!hash_of_hex(prev_hex, prev))
		return DG_EINVAL;
	link_bin(prev, seq, at_ms, texts, n, out);
	sodium_bin2hex(hex, HASH_HEX + 1, out, sizeof out);
	return DG_OK;
}

/* hex (HASH_HEX + 1) = the record's hash after prev_hex; EINVAL when prev_hex is not hex. */
static dg_rc record_hash(const char *prev_hex, const struct row *w, char *hex)
{
	const char *const texts[] = {w->kind, w->actor, w->subject, w->purpose, w->detail};
	return dg_audit_link(prev_hex, w->seq, w->at_ms, texts, sizeof(texts) / sizeof(texts[0]),
			     hex);
}

static bool fits(const char *s)
{
	return strlen(s) <= DG_AUDIT_FIELD_MAX;
}

/*
 * Insert rows w[0..n) (seq set, hashes in hex[i]) a few statements in all
 * (dg_db_exec_rows: 32 rows of the 8 columns a statement, then 8, 2, 1), so
 * a batch costs a few round trips, not one a record.
 */
#define ROW_COLS 8

static dg_rc insert_rows(struct dg_db *db, struct row *const *w, char (*hex)[HASH_HEX + 1],
			 size_t n)
{
	struct dg_val *args = dg_xmalloc((n ? n : 1) * ROW_COLS * sizeof *args);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		const struct row *r = w[i];
		args[m++] = DG_VI(r->seq);
		args[m++] = DG_VI(r->at_ms);
		args[m++] = DG_VT(r->kind);
		args[m++] = DG_VT(r->actor);
		args[m++] = DG_VT(r->subject);
		args[m++] = DG_VT(r->purpose);
		args[m++] = DG_VT(r->detail);
		args[m++] = DG_VT(hex[i]);
	}
	dg_rc rc = dg_db_exec_rows(db,
				   "INSERT INTO audit_log (seq, at_ms, kind, actor, subject,"
				   " purpose, detail, hash) VALUES ",
				   NULL, ROW_COLS, args, n, NULL);
	free(args);
	return rc;
}

/* Chain rows w[0..n) after the head and insert them, in db's open transaction. */
static dg_rc append_rows(struct dg_db *db, struct row *const *w, size_t n)
{
	struct dg_rows *rows = NULL;
	/* the head row's lock serialises appenders until this transaction ends */
	dg_rc rc = dg_db_query(db,
			       "UPDATE audit_head SET seq = seq + ? WHERE id = 1"
			       " RETURNING seq, hash",
			       DG_ARGS(DG_VI((int64_t)n)), &rows);
	if (!rc)
		rc = dg_rows_next(rows);
	if (rc) {
		dg_rows_free(rows);
		return rc == DG_ENOTFOUND ? DG_EINTERNAL : rc;
	}
	int64_t first = dg_rows_int(rows, 0) - (int64_t)n + 1;
	char prev[HASH_HEX + 1];
	snprintf(prev, sizeof prev, "%s", dg_rows_text(rows, 1));
	dg_rows_free(rows);
	char(*hex)[HASH_HEX + 1] = dg_xcalloc(n, sizeof *hex);
	for (size_t i = 0; i < n; i++) {
		struct row *r = w[i];
		r->seq = first + (int64_t)i;
		if (record_hash(i ? hex[i - 1] : prev, r, hex[i])) {
			dg_error("audit: the head's hash is not a hash; the log needs `dgov "
				 "audit verify`");
			free(hex);
			return DG_EINTERNAL;
		}
	}
	rc = insert_rows(db, w, hex, n);
	if (!rc) {
		const char *h = hex[n - 1];
		rc = dg_db_exec(db, "UPDATE audit_head SET hash = ? WHERE id = 1",
				DG_ARGS(DG_VT(h)), NULL);
	}
	free(hex);
	return rc;
}

static dg_rc append_in_tx(struct dg_db *db, const struct row *w, int64_t *seq)
{
	struct row r = *w, *one = &r;
	dg_rc rc = append_rows(db, &one, 1);
	if (!rc && seq)
		*seq = r.seq;
	return rc;
}

/* rec as a row to store; *detail (free it) holds the detail's text. EINVAL over a cap. */
static dg_rc row_of(const struct dg_audit_rec *rec, struct row *w, char **detail)
{
	*detail = rec->detail ? json_dumps(rec->detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	*w = (struct row){
		.at_ms = dg_now_ms(),
		.kind = rec->kind ? rec->kind : "",
		.actor = rec->actor ? rec->actor : "",
		.subject = rec->subject ? rec->subject : "",
		.purpose = rec->purpose ? rec->purpose : "",
		.detail = *detail ? *detail : "{}",
	};
	if (!w->kind[0] || !fits(w->kind) || !fits(w->actor) || !fits(w->subject) ||
	    !fits(w->purpose) || strlen(w->detail) > DG_AUDIT_DETAIL_MAX)
		return DG_EINVAL;
	return DG_OK;
}

dg_rc dg_audit_append(struct dg_db *db, const struct dg_audit_rec *rec, int64_t *seq)
{
	char *detail = NULL;
	struct row w;
	dg_rc rc = row_of(rec, &w, &detail);
	if (rc)
		goto out;
	if (dg_db_in_tx(db)) {
		rc = append_in_tx(db, &w, seq);
		goto out;
	}
	rc = dg_db_begin(db);
	if (!rc)
		rc = append_in_tx(db, &w, seq);
	if (!rc)
		rc = dg_db_commit(db);
	else
		dg_db_rollback(db);
out:
	free(detail);
	return rc;
}

/*
 * Group commit. Appenders that do not need their record inside a
 * transaction of their own queue it here; whoever finds no batch being
 * written takes the whole queue (up to GROUP_MAX) and writes it in one
 * transaction, then wakes the others. So while one commit waits for the
 * disk, the records arriving meanwhile gather and go in the next one: the
 * head row is locked once per batch, not once per record, and each caller
 * learns its outcome only once its record is committed.
 *
 * A caller of dg_audit_append_group waits: its record lives on its stack,
 * and when it finds no batch being written it writes one on its own db. A
 * caller of dg_audit_append_async does not wait: its record is copied to
 * the heap, and when no batch is being written and no writer thread runs,
 * one is started; it writes batch after batch on a connection it borrows
 * for each, and ends when the queue is empty. So the queue never holds a
 * record with nobody to write it: a waiting caller writes when nobody
 * does, and a writer thread runs while the queue holds an async record.
 * One queue per store (GROUPS of them, for the few stores one process
 * opens).
 */
#define GROUP_MAX 256
#define GROUPS    8

struct pending {
	struct row w;
	dg_rc rc;
	bool done;
	/* async only: the caller's hooks, and the detail's text (freed with it) */
	bool async;
	dg_audit_then_fn then;
	dg_audit_done_fn done_fn;
	void *ctx;
	char *detail;
	struct pending *next;
};

static struct group {
	struct dg_store *store;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pending *head, *tail;
	bool writing;
	bool thread; /* a writer thread runs (or is starting) */
} groups[GROUPS];
static pthread_mutex_t groups_mu = PTHREAD_MUTEX_INITIALIZER;

static struct group *group_of(struct dg_store *s)
{
	struct group *g = NULL;
	pthread_mutex_lock(&groups_mu);
	for (size_t i = 0; i < GROUPS && !g; i++)
		if (groups[i].store == s)
			g = &groups[i];
	for (size_t i = 0; i < GROUPS && !g; i++)
		if (!groups[i].store) {
			g = &groups[i];
			g->store = s;
			pthread_mutex_init(&g->mu, NULL);
			pthread_cond_init(&g->cv, NULL);
		}
	pthread_mutex_unlock(&groups_mu);
	return g;
}

/*
 * Run the then hooks of the batch's records w[0..n) (chained, in db's
 * transaction). With guard, each runs inside a savepoint, so one that fails
 * is undone alone (PostgreSQL aborts a transaction at its first error: the
 * savepoint is what lets the others go on). A hook that fails sets its
 * record's rc; *failed counts them. Else a store error (the batch fails).
 */
static dg_rc run_hooks(struct dg_db *db, struct pending *const *w, size_t n, bool guard,
		       size_t *failed)
{
	*failed = 0;
	for (size_t i = 0; i < n; i++) {
		struct pending *p = w[i];
		if (!p->then)
			continue;
		dg_rc rc = guard ? dg_db_exec(db, "SAVEPOINT audit_then", DG_NOARGS, NULL) : DG_OK;
		if (rc)
			return rc;
		dg_rc hook = p->then(db, p->w.seq, p->ctx);
		if (!hook) {
			rc = guard ? dg_db_exec(db, "RELEASE SAVEPOINT audit_then", DG_NOARGS, NULL)
				   : DG_OK;
			if (rc)
				return rc;
			continue;
		}
		p->rc = hook;
		(*failed)++;
		if (!guard)
			return DG_OK; /* the transaction may be aborted: the caller starts over */
		rc = dg_db_exec(db, "ROLLBACK TO SAVEPOINT audit_then", DG_NOARGS, NULL);
		if (!rc)
			rc = dg_db_exec(db, "RELEASE SAVEPOINT audit_then", DG_NOARGS, NULL);
		if (rc)
			return rc;
	}
	return DG_OK;
}

/*
 * Write a batch taken off the queue in one transaction; each gets the
 * outcome. The async records' then hooks run in it, after the chaining. A
 * record and what its hook writes commit together or not at all, and one
 * record whose hook fails fails alone: the transaction is rolled back and
 * the batch written again without it (hooks guarded by savepoints from
 * then on, so each further pass drops every record whose hook failed; at
 * most one pass per record, and the common batch is written once, with no
 * savepoint).
 */
static void write_batch(struct dg_db *db, struct pending *batch)
{
	struct pending *w[GROUP_MAX] = {0};
	struct row *rows[GROUP_MAX] = {0};
	for (struct pending *p = batch; p; p = p->next)
		p->rc = DG_OK;
	dg_rc rc = DG_OK;
	for (bool guard = false;; guard = true) {
		size_t n = 0, failed = 0;
		for (struct pending *p = batch; p; p = p->next)
			if (!p->rc) {
				w[n] = p;
				rows[n++] = &p->w;
			}
		if (!n)
			return; /* every record's hook failed: each has its own error */
		rc = dg_db_begin(db);
		if (!rc)
			rc = append_rows(db, rows, n);
		if (!rc)
			rc = run_hooks(db, w, n, guard, &failed);
		if (!rc && !failed && !(rc = dg_db_commit(db)))
			return;
		dg_db_rollback(db);
		if (rc)
			break;
	}
	for (struct pending *p = batch; p; p = p->next)
		if (!p->rc)
			p->rc = rc;
}

/* Take up to GROUP_MAX records off g's queue (not empty; g->mu held) and mark g writing. */
static struct pending *take_batch(struct group *g)
{
	struct pending *batch = g->head, *last = batch;
	for (size_t n = 1; n < GROUP_MAX && last->next; n++)
		last = last->next;
	g->head = last->next;
	if (!g->head)
		g->tail = NULL;
	last->next = NULL;
	g->writing = true;
	return batch;
}

static void *writer_main(void *arg);

/* A writer thread for g when an async record may be left with nobody to write it (g->mu held). */
static void kick(struct group *g)
{
	bool async = false;
	for (struct pending *p = g->head; p && !async; p = p->next)
		async = p->async;
	if (!async || g->writing || g->thread)
		return;
	pthread_t t;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	g->thread = pthread_create(&t, &at, writer_main, g) == 0;
	pthread_attr_destroy(&at);
	if (!g->thread)
		dg_error("audit: no writer thread could be started; records wait for the next "
			 "appender");
}

/*
 * The batch is written (g->mu held, dropped and taken again): the waiting
 * callers are woken, the async ones told and freed. A waiting caller's
 * record is on its stack: once done is set and the lock dropped it may be
 * gone, so nothing here reads it after.
 */
static void finish_batch(struct group *g, struct pending *batch)
{
	struct pending *told = NULL;
	for (struct pending *p = batch, *nx; p; p = nx) {
		nx = p->next;
		if (p->async) {
			p->next = told;
			told = p;
		} else {
			p->done = true;
		}
	}
	g->writing = false;
	pthread_cond_broadcast(&g->cv);
	kick(g);
	pthread_mutex_unlock(&g->mu);
	for (struct pending *p = told, *nx; p; p = nx) {
		nx = p->next;
		p->done_fn(p->ctx, p->rc, p->rc ? 0 : p->w.seq);
		free(p->detail);
		free(p);
	}
	pthread_mutex_lock(&g->mu);
}

/* The writer thread: batch after batch while the queue holds records, each on a borrowed
 * connection given back before its callers are told (they may close the store then). */
static void *writer_main(void *arg)
{
	struct group *g = arg;
	pthread_mutex_lock(&g->mu);
	while (g->head) {
		if (g->writing) {
			pthread_cond_wait(&g->cv, &g->mu);
			continue;
		}
		struct pending *batch = take_batch(g);
		pthread_mutex_unlock(&g->mu);
		struct dg_db *db = NULL;
		/* a test holds the writer here, to see what the waiting callers hold */
		dg_rc rc = dg_failpoint_hit("audit.writer");
		if (!rc)
			rc = dg_db_get(g->store, &db);
		if (rc) {
			dg_error("audit: no store connection to write a batch: %s", dg_rc_name(rc));
			for (struct pending *p = batch; p; p = p->next)
				p->rc = rc;
		} else {
			write_batch(db, batch);
			dg_db_put(db);
		}
		pthread_mutex_lock(&g->mu);
		finish_batch(g, batch);
	}
	g->thread = false;
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

dg_rc dg_audit_append_group(struct dg_store *s, struct dg_db *db, const struct dg_audit_rec *rec,
			    int64_t *seq)
{
	char *detail = NULL;
	struct pending me = {.rc = DG_EINTERNAL};
	dg_rc rc = row_of(rec, &me.w, &detail);
	struct group *g = rc ? NULL : group_of(s);
	if (rc || !g || dg_db_in_tx(db)) {
		free(detail);
		/* no queue left, or the caller's transaction must hold the record */
		return rc ? rc : dg_audit_append(db, rec, seq);
	}
	pthread_mutex_lock(&g->mu);
	if (g->tail)
		g->tail->next = &me;
	else
		g->head = &me;
	g->tail = &me;
	while (!me.done) {
		if (g->writing) {
			pthread_cond_wait(&g->cv, &g->mu);
			continue;
		}
		/* lead: take up to GROUP_MAX from the queue and write them on this db */
		struct pending *batch = take_batch(g);
		pthread_mutex_unlock(&g->mu);
		write_batch(db, batch);
		pthread_mutex_lock(&g->mu);
		finish_batch(g, batch);
	}
	pthread_mutex_unlock(&g->mu);
	free(detail);
	if (!me.rc && seq)
		*seq = me.w.seq;
	return me.rc;
}

dg_rc dg_audit_append_async(struct dg_store *s, const struct dg_audit_rec *rec,
			    dg_audit_then_fn then, dg_audit_done_fn done, void *ctx)
{
	struct pending *p = dg_xcalloc(1, sizeof(*p));
	dg_rc rc = row_of(rec, &p->w, &p->detail);
	struct group *g = rc ? NULL : group_of(s);
	if (rc) {
		free(p->detail);
		free(p);
		return rc;
	}
	p->then = then;
	if (!g) {
		/* no queue left for this store: a batch of one, written here */
		struct dg_db *db = NULL;
		rc = dg_db_get(s, &db);
		if (!rc) {
			write_batch(db, p);
			rc = p->rc;
		}
		dg_db_put(db);
		free(p->detail);
		int64_t seq = p->w.seq;
		free(p);
		done(ctx, rc, rc ? 0 : seq);
		return DG_OK;
	}
	p->async = true;
	p->done_fn = done;
	p->ctx = ctx;
	pthread_mutex_lock(&g->mu);
	if (g->tail)
		g->tail->next = p;
	else
		g->head = p;
	g->tail = p;
	kick(g);
	pthread_mutex_unlock(&g->mu);
	return DG_OK;
}

/* The text a checkpoint signs, into out (cap bytes). */
static void signed_text(char *out, size_t cap, const char *region, int64_t seq, const char *hash)
{
	snprintf(out, cap, "dgov-audit-checkpoint\n%s\n%lld\n%s\n", region, (long long)seq, hash);
}

dg_rc dg_audit_checkpoint(struct dg_db *db, const struct dg_keys *k, const char *region,
			  int64_t *seq)
{
	struct dg_rows *rows = NULL;
	int64_t head = 0, done = 0;
	char hash[HASH_HEX + 1] = "";
	dg_rc rc = dg_db_begin(db);
	if (rc)
		return rc;
	rc = dg_db_query(db, "SELECT seq, hash FROM audit_head WHERE id = 1", DG_NOARGS, &rows);
	if (!rc)
		rc = dg_rows_next(rows);
	if (!rc) {
		head = dg_rows_int(rows, 0);
		snprintf(hash, sizeof hash, "%s", dg_rows_text(rows, 1));
	}
	dg_rows_free(rows);
	if (!rc)
		rc = dg_db_query_int(db, "SELECT COUNT(*) FROM audit_checkpoints WHERE seq = ?",
				     DG_ARGS(DG_VI(head)), &done);
	if (!rc && head > 0 && !done) {
		char text[512], sig_hex[2 * crypto_sign_BYTES + 1];
		unsigned char sig[crypto_sign_BYTES];
		signed_text(text, sizeof text, region, head, hash);
		crypto_sign_detached(sig, NULL, (const unsigned char *)text, strlen(text),
				     k->sign_sk);
		sodium_bin2hex(sig_hex, sizeof sig_hex, sig, sizeof sig);
		const char *h = hash, *s = sig_hex;
		rc = dg_db_exec(db,
				"INSERT INTO audit_checkpoints (seq, hash, at_ms, signature)"
				" VALUES (?, ?, ?, ?)",
				DG_ARGS(DG_VI(head), DG_VT(h), DG_VI(dg_now_ms()), DG_VT(s)), NULL);
	}
	if (!rc)
		rc = dg_db_commit(db);
	else
		dg_db_rollback(db);
	if (!rc && seq)
		*seq = head;
	return rc;
}

static dg_rc broken(struct dg_audit_report *out, int64_t seq, const char *why)
{
	out->bad_seq = seq;
	snprintf(out->why, sizeof out->why, "%s", why);
	return DG_ECONFLICT;
}

static const char why_missing[] = "this record is missing: the log skips it";
static const char why_changed[] = "this record was changed, or the one before it was";

/*
 * ---- the walk ----
 *
 * Record s holds when its stored hash is the link after the hash stored in
 * record s - 1. Once every record holds and seq has no gap, the chain holds
 * from the first record on, and the chain's hash at any record is the hash
 * stored there. So the log can be checked in two parts at once, each on its
 * own connection (the second only when the pool has one free): record 1 to
 * the middle, and the rest, which starts from the hash stored in the middle
 * record. The first broken record is the lowest either part finds; the
 * checkpoints are then checked in seq order against the hashes the parts
 * kept at their seqs, and the head against where the chain ends.
 *
 * On PostgreSQL each part has a reader (a thread of its own when one
 * starts) that fetches the next page while the part hashes the one before;
 * on SQLite, whose reads take the caller's CPU, the part reads its own. It
 * lays each record out as the bytes its link hashes, after room for the
 * previous hash, so hashing a record is one call over one buffer. A part
 * holds at most two pages, reused from page to page.
 */

/* The checkpoints' seqs in order, and the chain's hash at each (kept by the parts). */
struct cps {
	size_t n;
	int64_t *seq;
	unsigned char (*chain)[HASH_BYTES];
	bool *seen; /* a part checked the record at seq */
};

/*
 * One page of records as read: record i's seq, its stored hash (hex_ok
 * false when it is not a hash dgov writes) and, at msg + off[i], HASH_BYTES
 * of room for the previous hash then seq, at_ms and the five texts as
 * link_bin hashes them, up to msg + off[i + 1].
 */
struct page {
	size_t n;
	int64_t seq[PAGE];
	bool hex_ok[PAGE];
	unsigned char stored[PAGE][HASH_BYTES];
	size_t off[PAGE + 1];
	unsigned char *msg;
	size_t cap;
	bool last; /* nothing follows: fewer than PAGE records, or a store error */
	dg_rc rc;  /* a store error, or DG_OK */
};

/* One part of the walk: records [from, to], on its own connection. */
struct part {
	struct dg_db *db;
	int64_t from, to; /* to: INT64_MAX for the last part */
	struct cps *cps;
	dg_rc rc;        /* a store error, or DG_OK */
	int64_t bad_seq; /* the first broken record found (0: none) */
	const char *why; /* what is wrong with it */
	int64_t next;    /* the seq after the last record that held */
	bool saw_any;    /* any record at or after from - 1 */
	bool started;    /* the record before from was read (from 1: nothing to read) */
	unsigned char last[HASH_BYTES]; /* the hash stored in record next - 1 */
	/* the reader's side: the next seq to read, and two pages handed over in turn */
	int64_t at;
	struct page *pages[2];
	size_t filled, taken; /* pages read, pages taken by the hasher */
	bool threaded;        /* the reader is a thread; else the hasher reads */
	bool stop;            /* the hasher needs no more pages */
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/* The first checkpoint at or after seq. */
static size_t cps_from(const struct cps *c, int64_t seq)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->seq[mid] < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static unsigned char *page_room(struct page *g, size_t used, size_t more)
{
	if (used + more > g->cap) {
		g->cap = (used + more) * 2;
		g->msg = dg_xrealloc(g->msg, g->cap);
	}
	return g->msg + used;
}

/* Read part p's next page (from p->at) into g, as link_bin would hash its records. */
static void read_page(struct part *p, struct page *g)
{
	struct dg_rows *rows = NULL;
	size_t used = 0;
	g->n = 0;
	g->rc = dg_db_query(p->db,
			    "SELECT seq, at_ms, kind, actor, subject, purpose, detail, hash"
			    " FROM audit_log WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT ?",
			    DG_ARGS(DG_VI(p->at), DG_VI(p->to), DG_VI(PAGE)), &rows);
	while (!g->rc && g->n < PAGE && (g->rc = dg_rows_next(rows)) == DG_OK) {
		size_t i = g->n++;
		int64_t seq = dg_rows_int(rows, 0);
		g->seq[i] = seq;
		g->hex_ok[i] = hash_of_hex(dg_rows_text(rows, 7), g->stored[i]);
		g->off[i] = used;
		unsigned char *b = page_room(g, used, HASH_BYTES + 16);
		be64(b + HASH_BYTES, seq);
		be64(b + HASH_BYTES + 8, dg_rows_int(rows, 1));
		used += HASH_BYTES + 16;
		for (int col = 2; col <= 6; col++) {
			const char *s = dg_rows_text(rows, col);
			size_t len = strlen(s);
			b = page_room(g, used, 4 + len);
			be32(b, len);
			memcpy(b + 4, s, len);
			used += 4 + len;
		}
		p->at = seq + 1;
	}
	g->off[g->n] = used;
	dg_rows_free(rows);
	if (g->rc == DG_ENOTFOUND)
		g->rc = DG_OK;
	g->last = g->rc || g->n < PAGE;
}

/* The reader thread of part p: pages in turn, while the hasher has room and wants them. */
static void *read_part(void *arg)
{
	struct part *p = arg;
	for (bool last = false; !last;) {
		pthread_mutex_lock(&p->mu);
		while (!p->stop && p->filled - p->taken == 2)
			pthread_cond_wait(&p->cv, &p->mu);
		bool stop = p->stop;
		pthread_mutex_unlock(&p->mu);
		if (stop)
			break;
		struct page *g = p->pages[p->filled % 2];
		read_page(p, g);
		last = g->last;
		pthread_mutex_lock(&p->mu);
		p->filled++;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	return NULL;
}

/* The next page of part p for its hasher (NULL: none follows), read by the reader or here. */
static struct page *take_page(struct part *p)
{
	if (!p->threaded) {
		read_page(p, p->pages[0]);
		return p->pages[0];
	}
	pthread_mutex_lock(&p->mu);
	while (p->filled == p->taken)
		pthread_cond_wait(&p->cv, &p->mu);
	struct page *g = p->pages[p->taken % 2];
	pthread_mutex_unlock(&p->mu);
	return g;
}

/* The hasher is done with the page take_page gave it; stop: it needs no more. */
static void give_page(struct part *p, bool stop)
{
	if (!p->threaded)
		return;
	pthread_mutex_lock(&p->mu);
	p->taken++;
	p->stop = p->stop || stop;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* Check record i of page g read by part p: its seq follows, its hash links. False to stop. */
static bool check_row(struct part *p, struct page *g, size_t i, size_t *ci)
{
	int64_t seq = g->seq[i];
	unsigned char got[HASH_BYTES];
	if (seq != p->next) {
		p->bad_seq = p->next;
		p->why = why_missing;
		return false;
	}
	unsigned char *m = g->msg + g->off[i];
	memcpy(m, p->last, HASH_BYTES);
	crypto_generichash(got, HASH_BYTES, m, g->off[i + 1] - g->off[i], NULL, 0);
	if (!g->hex_ok[i] || memcmp(got, g->stored[i], HASH_BYTES) != 0) {
		p->bad_seq = seq;
		p->why = why_changed;
		return false;
	}
	memcpy(p->last, g->stored[i], HASH_BYTES);
	struct cps *c = p->cps;
	while (*ci < c->n && c->seq[*ci] < seq)
		(*ci)++;
	if (*ci < c->n && c->seq[*ci] == seq) {
		memcpy(c->chain[*ci], g->stored[i], HASH_BYTES);
		c->seen[*ci] = true;
	}
	p->next++;
	return true;
}

/* Walk part p (a thread's start routine): page by page, by seq, as its reader hands them. */
static void *walk_part(void *arg)
{
	struct part *p = arg;
	size_t ci = cps_from(p->cps, p->from);
	p->next = p->from;
	p->started = p->from == 1;
	memset(p->last, 0, sizeof p->last);
	for (bool go = true; go;) {
		struct page *g = take_page(p);
		for (size_t i = 0; go && i < g->n; i++) {
			p->saw_any = true;
			if (p->started)
				go = check_row(p, g, i, &ci);
			else if (g->seq[i] == p->from - 1 && g->hex_ok[i]) {
				memcpy(p->last, g->stored[i], HASH_BYTES);
				p->started = true;
			} else
				go = false; /* the part before finds what is wrong there */
		}
		if (g->rc) {
			p->rc = g->rc;
			go = false;
		}
		go = go && !g->last;
		give_page(p, !go);
	}
	return NULL;
}

/* The checkpoints' seqs, in order. */
static dg_rc cps_load(struct dg_db *db, struct cps *c)
{
	int64_t n = 0;
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query_int(db, "SELECT COUNT(*) FROM audit_checkpoints", DG_NOARGS, &n);
	if (rc)
		return rc;
	c->seq = dg_xcalloc((size_t)n + 1, sizeof *c->seq);
	c->chain = dg_xcalloc((size_t)n + 1, sizeof *c->chain);
	c->seen = dg_xcalloc((size_t)n + 1, sizeof *c->seen);
	rc = dg_db_query(db, "SELECT seq FROM audit_checkpoints ORDER BY seq", DG_NOARGS, &rows);
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK && c->n < (size_t)n)
		c->seq[c->n++] = dg_rows_int(rows, 0);
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

/* Part p's pages and, when one starts, its reader thread (*th). */
static void part_open(struct part *p, pthread_t *th)
{
	p->at = p->from > 1 ? p->from - 1 : 1;
	for (size_t i = 0; i < 2; i++)
		p->pages[i] = dg_xcalloc(1, sizeof *p->pages[i]);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	/* SQLite reads on the caller's CPU, so a reader of its own would only take turns with it */
	p->threaded =
		dg_db_kind(p->db) != DG_STORE_SQLITE && pthread_create(th, NULL, read_part, p) == 0;
}

/* Join part p's reader (it stops once the hasher has stopped) and free its pages. */
static void part_close(struct part *p, pthread_t th)
{
	if (p->threaded)
		pthread_join(th, NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	for (size_t i = 0; i < 2; i++) {
		free(p->pages[i]->msg);
		free(p->pages[i]);
	}
}

/*
 * Walk parts[0..nparts) (the first on this thread, the others on threads
 * of their own, each with its reader) and put together where the chain
 * breaks or ends: *bad_seq and *why for a broken record, else *end (the
 * seq after the last record) and last (its hash). A store error otherwise.
 */
static dg_rc walk(struct part *parts, size_t nparts, int64_t *bad_seq, const char **why,
		  int64_t *end, unsigned char *last)
{
	pthread_t th[2], readers[2];
	bool started[2] = {false, false};
	for (size_t i = 0; i < nparts; i++)
		part_open(&parts[i], &readers[i]);
	for (size_t i = 1; i < nparts; i++)
		started[i] = pthread_create(&th[i], NULL, walk_part, &parts[i]) == 0;
	walk_part(&parts[0]);
	for (size_t i = 1; i < nparts; i++) {
		if (started[i])
			pthread_join(th[i], NULL);
		else
			walk_part(&parts[i]);
	}
	for (size_t i = 0; i < nparts; i++)
		part_close(&parts[i], readers[i]);
	*bad_seq = 0;
	for (size_t i = 0; i < nparts; i++)
		if (parts[i].rc)
			return parts[i].rc;
	for (size_t i = 0; i < nparts; i++) {
		const struct part *p = &parts[i];
		if (p->bad_seq) {
			*bad_seq = p->bad_seq;
			*why = p->why;
			return DG_OK;
		}
		bool last_part = i + 1 == nparts;
		if (last_part || p->next <= p->to) {
			/* the chain ends here, unless a later part still found records */
			if (!last_part && parts[i + 1].saw_any) {
				*bad_seq = p->next;
				*why = why_missing;
			} else {
				*end = p->next;
				memcpy(last, p->last, HASH_BYTES);
			}
			return DG_OK;
		}
		if (!parts[i + 1].started) {
			/* this part read its last record; the next one did not (a change meanwhile)
			 */
			*bad_seq = p->to;
			*why = why_missing;
			return DG_OK;
		}
	}
	return DG_OK;
}

/* One checkpoint: its signature, and the hash the chain had at its seq. */
static dg_rc check_point(const struct dg_keys *k, const char *region, struct dg_rows *cp,
			 const unsigned char *chain, struct dg_audit_report *out)
{
	int64_t seq = dg_rows_int(cp, 0);
	const char *hash = dg_rows_text(cp, 1), *sig_hex = dg_rows_text(cp, 2);
	unsigned char sig[crypto_sign_BYTES], at[HASH_BYTES];
	size_t got = 0;
	char text[512];
	signed_text(text, sizeof text, region, seq, hash);
	if (sodium_hex2bin(sig, sizeof sig, sig_hex, strlen(sig_hex), NULL, &got, NULL) != 0 ||
	    got != sizeof sig ||
	    crypto_sign_verify_detached(sig, (const unsigned char *)text, strlen(text),
					k->sign_pk) != 0)
		return broken(out, seq, "the checkpoint at this record is not signed by this node");
	if (!hash_of_hex(hash, at) || memcmp(at, chain, HASH_BYTES) != 0)
		return broken(out, seq,
			      "the chain up to this record differs from its signed checkpoint");
	out->checkpoints++;
	return DG_OK;
}

/*
 * The checkpoints, in seq order, up to the first broken record (bad_seq, 0
 * for none) or where the chain ends (end): each one's signature and the
 * chain's hash at its seq; one past the end of a chain that holds is a cut.
 */
static dg_rc check_points(struct dg_db *db, const struct dg_keys *k, const char *region,
			  const struct cps *c, int64_t bad_seq, int64_t end,
			  struct dg_audit_report *out)
{
	struct dg_rows *rows = NULL;
	dg_rc rc =
		dg_db_query(db, "SELECT seq, hash, signature FROM audit_checkpoints ORDER BY seq",
			    DG_NOARGS, &rows);
	for (size_t i = 0; !rc && (rc = dg_rows_next(rows)) == DG_OK; i++) {
		int64_t seq = dg_rows_int(rows, 0);
		if (bad_seq && seq >= bad_seq)
			break;
		if (!bad_seq && seq >= end) {
			out->records = end - 1;
			rc = broken(out, seq,
				    "a signed checkpoint names this record, but the log ends "
				    "before it");
			break;
		}
		if (i >= c->n || c->seq[i] != seq || !c->seen[i])
			continue; /* no record of its seq: nothing it could vouch for */
		rc = check_point(k, region, rows, c->chain[i], out);
		if (rc)
			out->records = seq;
	}
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

dg_rc dg_audit_verify(struct dg_db *db, const struct dg_keys *k, const char *region,
		      struct dg_audit_report *out)
{
	memset(out, 0, sizeof(*out));
	struct cps cps = {0};
	int64_t head = 0, bad_seq = 0, end = 1;
	const char *why = NULL;
	unsigned char last[HASH_BYTES] = {0};
	struct dg_db *db2 = NULL;
	dg_rc rc = cps_load(db, &cps);
	if (!rc)
		rc = dg_db_query_int(db, "SELECT seq FROM audit_head WHERE id = 1", DG_NOARGS,
				     &head);
	if (rc)
		goto out;
	struct part parts[2] = {{.db = db, .from = 1, .to = INT64_MAX, .cps = &cps}};
	size_t nparts = 1;
	/* a second part on a connection of its own, when the pool has one free now */
	if (head >= 2 && dg_db_try_get(dg_db_store(db), &db2) == DG_OK) {
		parts[0].to = head / 2;
		parts[1] = (struct part){
			.db = db2, .from = head / 2 + 1, .to = INT64_MAX, .cps = &cps};
		nparts = 2;
	}
	rc = walk(parts, nparts, &bad_seq, &why, &end, last);
	dg_db_put(db2);
	if (rc)
		goto out;
	rc = check_points(db, k, region, &cps, bad_seq, end, out);
	if (rc)
		goto out;
	if (bad_seq) {
		out->records = bad_seq - 1;
		rc = broken(out, bad_seq, why);
		goto out;
	}
	out->records = end - 1;
	/* the head must be where the chain ends */
	struct dg_rows *h = NULL;
	unsigned char at[HASH_BYTES];
	rc = dg_db_query(db, "SELECT seq, hash FROM audit_head WHERE id = 1", DG_NOARGS, &h);
	if (!rc)
		rc = dg_rows_next(h);
	if (!rc && (dg_rows_int(h, 0) != end - 1 || !hash_of_hex(dg_rows_text(h, 1), at) ||
		    memcmp(at, last, HASH_BYTES) != 0))
		rc = broken(out, end,
			    "the log ends before its head: records at the end were removed");
	dg_rows_free(h);
out:
	free(cps.seq);
	free(cps.chain);
	free(cps.seen);
	return rc;
}
