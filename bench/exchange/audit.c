/*
 * audit.c - the audit benchmark's driver, built against libdgov.a by
 * bench/exchange/run.sh (not part of dgov itself):
 *
 *   audit gen N FILE               write N records of a valid chain (seq 1..N
 *                                  after the empty log) as CSV in audit_log's
 *                                  column order; print "N HASH" (the head)
 *   audit append URL SECONDS T     T threads append exchange.read records
 *                                  with dg_audit_append for SECONDS; print
 *                                  the records appended and records/s
 *   audit group URL SECONDS T      the same with dg_audit_append_group
 *                                  (records committed in batches)
 *
 * gen links each record with dg_audit_link, the log's own chaining code, so
 * `dgov audit verify` walks a chain made exactly as appends make it; the
 * records look like the exchange's one-record reads (a blind index as
 * subject, a detail of about 250 bytes). append opens the store with its
 * own pool and applies the audit tables' migrations only.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "core/date.h"
#include "core/log.h"
#include "store/store.h"

#define THREADS_MAX 64

/* splitmix64: each thread draws from its own stream */
static uint64_t next(uint64_t *seed)
{
	uint64_t z = (*seed += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* 64 hex digits drawn from the stream: a stand-in for a blind index or hash. */
static void hex64(uint64_t *seed, char *out)
{
	for (int i = 0; i < 4; i++)
		snprintf(out + 16 * i, 17, "%016llx", (unsigned long long)next(seed));
}

/* The detail an exchange read records. */
static json_t *detail_of(long long n, const char *request_hash)
{
	char rid[32];
	snprintf(rid, sizeof rid, "bench-%012lld", (long long)n);
	json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:b,s:s}", "outcome", "ok", "registry",
			      "household", "request_id", rid, "request_hash", request_hash, "grant",
			      (json_int_t)1, "records", (json_int_t)1, "bulk", 0, "fields",
			      "region,size,address,dibao");
	return d;
}

/* One CSV field, quoted (the detail holds quotes and commas). */
static void put_csv(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static int gen(long long n, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		return 1;
	}
	char prev[DG_AUDIT_HASH_HEX + 1], hex[DG_AUDIT_HASH_HEX + 1];
	char subject[65], rh[65];
	uint64_t seed = 0x5eed0a0d;
	snprintf(prev, sizeof prev, "%s", DG_AUDIT_ZERO_HASH);
	int64_t at = dg_now_ms() - n; /* one record a millisecond, ending now */
	const char *kind = "exchange.read", *actor = "dept:rs/system:bench",
		   *purpose = "990100-RS-001";
	for (long long seq = 1; seq <= n; seq++) {
		hex64(&seed, subject);
		hex64(&seed, rh);
		/* compact with sorted keys, as dg_audit_append stores a detail */
		json_t *d = detail_of(seq, rh);
		char *detail = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(d);
		const char *const texts[] = {kind, actor, subject, purpose, detail};
		if (dg_audit_link(prev, seq, at + seq, texts, 5, hex)) {
			free(detail);
			fclose(f);
			return 1;
		}
		fprintf(f, "%lld,%lld,%s,%s,%s,%s,", seq, (long long)(at + seq), kind, actor,
			subject, purpose);
		put_csv(f, detail);
		fprintf(f, ",%s\n", hex);
		free(detail);
		memcpy(prev, hex, sizeof prev);
	}
	if (fclose(f)) {
		perror(path);
		return 1;
	}
	printf("%lld %s\n", n, prev);
	return 0;
}

struct appender {
	struct dg_store *store;
	int64_t until_ms;
	atomic_llong done;
	atomic_int failed;
	bool group;
};

static void *append_loop(void *arg)
{
	struct appender *ap = arg;
	struct dg_db *db = NULL;
	if (dg_db_get(ap->store, &db)) {
		atomic_store(&ap->failed, 1);
		return NULL;
	}
	char subject[65], rh[65];
	uint64_t seed = (uint64_t)(uintptr_t)&seed;
	while (dg_now_ms() < ap->until_ms) {
		hex64(&seed, subject);
		hex64(&seed, rh);
		long long n = atomic_fetch_add(&ap->done, 1) + 1;
		json_t *d = detail_of(n, rh);
		struct dg_audit_rec rec = {.kind = "exchange.read",
					   .actor = "dept:rs/system:bench",
					   .subject = subject,
					   .purpose = "990100-RS-001",
					   .detail = d};
		dg_rc rc = ap->group ? dg_audit_append_group(ap->store, db, &rec, NULL)
				     : dg_audit_append(db, &rec, NULL);
		json_decref(d);
		if (rc) {
			atomic_fetch_sub(&ap->done, 1);
			atomic_store(&ap->failed, 1);
			break;
		}
	}
	dg_db_put(db);
	return NULL;
}

static int append(const char *url, int seconds, int threads, bool group)
{
	struct dg_err err = {0};
	struct appender ap = {.group = group};
	if (dg_store_open(url, (unsigned)threads, &ap.store, &err)) {
		fprintf(stderr, "audit: %s\n", err.msg);
		return 1;
	}
	const struct dg_migration *const lists[] = {dg_audit_migrations};
	if (dg_store_migrate(ap.store, lists, 1, &err)) {
		fprintf(stderr, "audit: %s\n", err.msg);
		dg_store_close(ap.store);
		return 1;
	}
	pthread_t t[THREADS_MAX];
	int64_t t0 = dg_now_ms();
	ap.until_ms = t0 + 1000LL * seconds;
	int started = 0;
	for (; started < threads; started++)
		if (pthread_create(&t[started], NULL, append_loop, &ap))
			break;
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	int64_t t1 = dg_now_ms();
	dg_store_close(ap.store);
	long long n = atomic_load(&ap.done);
	printf("%lld %.0f\n", n, t1 > t0 ? n * 1000.0 / (double)(t1 - t0) : 0.0);
	if (atomic_load(&ap.failed) || started < threads) {
		fprintf(stderr, "audit: an append failed\n");
		return 1;
	}
	return 0;
}

/* A whole number from 1 to max, or 0. */
static long long count_of(const char *s, long long max)
{
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	return end != s && !*end && v >= 1 && v <= max ? v : 0;
}

int main(int argc, char **argv)
{
	dg_log_set_level(DG_LOG_WARN);
	if (argc == 4 && strcmp(argv[1], "gen") == 0 && count_of(argv[2], 1LL << 40))
		return gen(count_of(argv[2], 1LL << 40), argv[3]);
	bool group = argc == 5 && strcmp(argv[1], "group") == 0;
	if (argc == 5 && (group || strcmp(argv[1], "append") == 0) && count_of(argv[3], 86400) &&
	    count_of(argv[4], THREADS_MAX))
		return append(argv[2], (int)count_of(argv[3], 86400),
			      (int)count_of(argv[4], THREADS_MAX), group);
	fprintf(stderr, "usage: audit gen N FILE | append|group URL SECONDS THREADS (1..%d)\n",
		THREADS_MAX);
	return 2;
}
