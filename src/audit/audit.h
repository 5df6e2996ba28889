/*
 * audit.h - the audit log nobody can edit quietly: one append-only record
 * per use of someone's data (an exchange read, granted or refused; a grant
 * changed; a sealed value revealed; a member of staff viewing a person's
 * record; consent given or withdrawn), hash-chained to the record before
 * it, with the chain's head signed by the node's key at intervals (a
 * checkpoint).
 *
 * Invariants, which dg_audit_verify checks from the first record on:
 * - seq runs 1, 2, 3 ... without a gap;
 * - each record's hash is BLAKE2b-256 over the previous record's hash and
 *   the record's own fields, exactly as stored (seq, time, kind, actor,
 *   subject, purpose, detail), each length-prefixed;
 * - each checkpoint's Ed25519 signature, by the node's key, covers the
 *   region, its seq and the hash of the record at that seq.
 * Editing, deleting or reordering any record by hand breaks the chain at
 * that record; rewriting the chain from there on breaks the next
 * checkpoint's signature. Only the records after the last checkpoint can
 * be cut off the end unseen, so checkpoints are made often (a scheduled
 * task every 10 minutes, and on demand).
 *
 * Appends are serialised by the one head row (a row lock on PostgreSQL, the
 * write lock on SQLite) and happen inside the caller's transaction when it
 * has one, so a record commits with the change it records, or not at all;
 * a caller without one may have its record committed in a batch with
 * others' (dg_audit_append_group), before it goes on.
 * The person a record is about is kept as a blind index (core/keys.h), never
 * in clear; their page "who used my data" finds their records by it.
 */
#ifndef DG_AUDIT_H
#define DG_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/keys.h"
#include "node/module.h"
#include "store/store.h"

#define DG_AUDIT_FIELD_MAX  256        /* bytes of kind, actor, subject, purpose */
#define DG_AUDIT_DETAIL_MAX (16 << 10) /* bytes of the detail's JSON */

/* One record to append; strings borrowed. */
struct dg_audit_rec {
	const char *kind;  /* "exchange.read", "exchange.refused", "grant.change", "reveal", ... */
	const char *actor; /* who: "dept:mz/system:dibao" or "user:42" */
	const char *subject; /* whose data: a blind index (dg_pii_index), or "" */
	const char *purpose; /* why: a catalogue item code, a policy id, or "" */
	json_t *detail;      /* what: fields, request id, outcome ... (borrowed; may be NULL) */
};

/*
 * Append rec to the chain: inside db's transaction when it is in one, else
 * in a transaction of its own. *seq (may be NULL) gets its place. EINVAL
 * for a field over its cap or a kind that is empty.
 */
dg_rc dg_audit_append(struct dg_db *db, const struct dg_audit_rec *rec, int64_t *seq) DG_MUST;

/*
 * dg_audit_append for a caller with no transaction open on db (a
 * connection of store s): the record is queued and written with the others
 * queued meanwhile, in one transaction, by whichever caller finds none
 * being written (on its own db). Returns once the record is committed (or
 * failed with its batch); *seq as dg_audit_append. So many appenders share
 * one commit's wait instead of each holding the head row through its own.
 * With a transaction open on db it is dg_audit_append.
 */
dg_rc dg_audit_append_group(struct dg_store *s, struct dg_db *db, const struct dg_audit_rec *rec,
			    int64_t *seq) DG_MUST;

/*
 * The hooks of dg_audit_append_async. then (may be NULL) runs in the batch's
 * transaction once the record is chained, with its seq: what must commit
 * with the record or not at all. An error from it fails its own record
 * alone (neither it nor what the hook wrote is kept; done gets the hook's
 * error): the batch's other records are written without it.
 * done runs once the batch is committed (rc DG_OK, seq its place) or
 * failed (rc the error, seq 0), on the thread that wrote the batch; it
 * must be short and must not append.
 */
typedef dg_rc (*dg_audit_then_fn)(struct dg_db *db, int64_t seq, void *ctx);
typedef void (*dg_audit_done_fn)(void *ctx, dg_rc rc, int64_t seq);

/*
 * dg_audit_append_group without waiting: the record is queued (its detail
 * copied; kind, actor, subject and purpose borrowed until done runs) and
 * written with the others in a batch, by a waiting appender or by a writer
 * thread of the log's own (on a connection of s it borrows for the batch),
 * then done(ctx, ...) is called exactly once. EINVAL as dg_audit_append,
 * and then neither hook runs. So a server can answer many callers from a
 * few threads: none of them holds a thread while its record waits for its
 * commit.
 */
dg_rc dg_audit_append_async(struct dg_store *s, const struct dg_audit_rec *rec,
			    dg_audit_then_fn then, dg_audit_done_fn done, void *ctx) DG_MUST;

/*
 * Sign the chain's head as a checkpoint by the node's key (nothing to do
 * when the head is signed already). *seq (may be NULL) gets the head's seq.
 */
dg_rc dg_audit_checkpoint(struct dg_db *db, const struct dg_keys *k, const char *region,
			  int64_t *seq) DG_MUST;

/* What dg_audit_verify found. */
struct dg_audit_report {
	int64_t records;     /* records read */
	int64_t checkpoints; /* checkpoints whose signature held */
	int64_t bad_seq;     /* the first broken record (0: none) */
	char why[256];       /* what is wrong with it, in words */
};

/*
 * Walk the whole chain and every checkpoint. DG_OK with bad_seq 0 when all
 * holds; DG_ECONFLICT with bad_seq and why naming the first broken record;
 * a store error otherwise.
 */
dg_rc dg_audit_verify(struct dg_db *db, const struct dg_keys *k, const char *region,
		      struct dg_audit_report *out) DG_MUST;

/*
 * One link of a hash chain, as the log's records are linked: hex (at least
 * DG_AUDIT_HASH_HEX + 1 bytes) gets BLAKE2b-256 over the previous link's 32
 * bytes (prev_hex, DG_AUDIT_ZERO_HASH before the first), seq and at_ms as 8
 * bytes big-endian, and each of the n texts as 4 bytes of length and its
 * bytes. Other chained tables (the exchange's consent revisions) link
 * their rows with it, so there is one chaining code. EINVAL when prev_hex
 * is not a hash.
 */
#define DG_AUDIT_HASH_HEX  64
#define DG_AUDIT_ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
dg_rc dg_audit_link(const char *prev_hex, int64_t seq, int64_t at_ms, const char *const *texts,
		    size_t n, char *hex) DG_MUST;

/* The audit tables (audit_log, audit_head, audit_checkpoints). */
extern const struct dg_migration dg_audit_migrations[];

/* The audit module: its tables, the checkpoint task and `dgov audit`. */
extern const struct dg_module dg_audit_module;

#endif
