/*
 * count.c - remembered totals of filtered searches (see count.h): a
 * table of slots chosen by a hash of the key, each holding its whole key so
 * a hit is exact, under one mutex.
 */
#include "opendata/datastore/count.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"

#define SLOTS   1024
#define KEY_MAX 4096

struct slot {
	char *key;
	size_t len;
	int64_t total;
};

static struct slot slots[SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* The key's bytes: every part followed by a separator no value can hold
 * ambiguously (lengths are written, not implied). */
static bool key_bytes(const struct dg_ds_count_key *k, struct dg_buf *b)
{
	dg_rc rc = dg_buf_addf(b, "%zu:%s|%lld|%zu:%s|", strlen(k->table), k->table,
			       (long long)k->version, strlen(k->sql), k->sql);
	for (size_t i = 0; i < k->nargs && rc == DG_OK; i++) {
		const struct dg_val *v = &k->args[i];
		switch (v->t) {
		case DG_V_INT: rc = dg_buf_addf(b, "i%lld|", (long long)v->i); break;
		case DG_V_REAL: rc = dg_buf_addf(b, "r%a|", v->r); break;
		case DG_V_TEXT: rc = dg_buf_addf(b, "t%zu:%s|", strlen(v->s), v->s); break;
		default: rc = dg_buf_adds(b, "n|");
		}
	}
	return rc == DG_OK;
}

static size_t slot_of(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ull;
	}
	return (size_t)(h % SLOTS);
}

bool dg_ds_count_get(const struct dg_ds_count_key *k, int64_t *total)
{
	struct dg_buf b;
	bool hit = false;
	dg_buf_init(&b, KEY_MAX);
	if (key_bytes(k, &b)) {
		struct slot *s = &slots[slot_of(b.ptr, b.len)];
		pthread_mutex_lock(&lock);
		if (s->key && s->len == b.len && memcmp(s->key, b.ptr, b.len) == 0) {
			*total = s->total;
			hit = true;
		}
		pthread_mutex_unlock(&lock);
	}
	dg_buf_release(&b);
	return hit;
}

void dg_ds_count_put(const struct dg_ds_count_key *k, int64_t total)
{
	struct dg_buf b;
	dg_buf_init(&b, KEY_MAX);
	if (key_bytes(k, &b)) {
		char *copy = dg_xmalloc(b.len);
		memcpy(copy, b.ptr, b.len);
		struct slot *s = &slots[slot_of(b.ptr, b.len)];
		pthread_mutex_lock(&lock);
		char *old = s->key;
		s->key = copy;
		s->len = b.len;
		s->total = total;
		pthread_mutex_unlock(&lock);
		free(old);
	}
	dg_buf_release(&b);
}

void dg_ds_count_clear(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < SLOTS; i++) {
		free(slots[i].key);
		slots[i] = (struct slot){0};
	}
	pthread_mutex_unlock(&lock);
}
