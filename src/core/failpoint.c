/*
 * failpoint.c - the armed faults (failpoint.h): a small table under a
 * mutex, and an atomic count of armed entries so an unarmed process pays
 * one load per place.
 */
#include "core/failpoint.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/str.h"

enum kind { K_BUSY, K_GONE, K_FULL, K_SLOW, K_HOLD };

struct point {
	char name[48];
	enum kind kind;
	long ms;
	long left;  /* hits that still fire; < 0: all */
	long fired; /* hits that fired since it was armed */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct point points[DG_FAILPOINT_MAX];
static size_t npoints;
static atomic_int armed;
static atomic_long generation; /* one more at each dg_failpoint_set: ends the holds */
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static dg_rc parse_one(const char *s, size_t n, struct point *p, struct dg_err *err)
{
	const char *eq = memchr(s, '=', n);
	if (!eq || eq == s || (size_t)(eq - s) >= sizeof(p->name))
		return dg_err_set(err, DG_EINVAL, "failpoint '%.*s': expected NAME=KIND", (int)n,
				  s);
	memset(p, 0, sizeof(*p));
	memcpy(p->name, s, (size_t)(eq - s));
	const char *k = eq + 1, *end = s + n;
	size_t kn = 0;
	while (k + kn < end && k[kn] != ':' && k[kn] != '*')
		kn++;
	static const struct {
		const char *name;
		enum kind kind;
	} kinds[] = {{"busy", K_BUSY},
		     {"gone", K_GONE},
		     {"full", K_FULL},
		     {"slow", K_SLOW},
		     {"hold", K_HOLD}};
	size_t i = 0;
	while (i < sizeof(kinds) / sizeof(kinds[0]) &&
	       !(strlen(kinds[i].name) == kn && memcmp(kinds[i].name, k, kn) == 0))
		i++;
	if (i == sizeof(kinds) / sizeof(kinds[0]))
		return dg_err_set(err, DG_EINVAL,
				  "failpoint %s: kind must be busy, gone, full, slow or hold",
				  p->name);
	p->kind = kinds[i].kind;
	p->left = -1;
	const char *q = k + kn;
	int64_t v = 0;
	while (q < end) {
		char sep = *q++;
		size_t vn = 0;
		while (q + vn < end && q[vn] != ':' && q[vn] != '*')
			vn++;
		if (dg_str_to_i64((struct dg_str){q, vn}, &v) || v < 0 || v > 3600000)
			return dg_err_set(err, DG_EINVAL, "failpoint %s: a bad number", p->name);
		if (sep == ':')
			p->ms = (long)v;
		else
			p->left = (long)v;
		q += vn;
	}
	return DG_OK;
}

dg_rc dg_failpoint_set(const char *spec, struct dg_err *err)
{
	struct point next[DG_FAILPOINT_MAX];
	size_t n = 0;
	for (const char *s = spec ? spec : ""; *s;) {
		size_t len = strcspn(s, ",");
		if (len) {
			if (n == DG_FAILPOINT_MAX)
				return dg_err_set(err, DG_EINVAL, "more than %d failpoints",
						  DG_FAILPOINT_MAX);
			dg_rc rc = parse_one(s, len, &next[n], err);
			if (rc)
				return rc;
			n++;
		}
		s += len + (s[len] == ',');
	}
	pthread_mutex_lock(&mu);
	memcpy(points, next, n * sizeof(next[0]));
	npoints = n;
	atomic_store(&armed, (int)n);
	atomic_fetch_add(&generation, 1);
	pthread_mutex_unlock(&mu);
	return DG_OK;
}

long dg_failpoint_fired(const char *name)
{
	long n = 0;
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < npoints; i++)
		if (strcmp(points[i].name, name) == 0)
			n += points[i].fired;
	pthread_mutex_unlock(&mu);
	return n;
}

/* A hold: wait until the failpoints are set again, or ms (0: 60 s) at most. */
static void hold(long gen, long ms)
{
	struct timespec tick = {0, 10 * 1000000L};
	for (long waited = 0; atomic_load(&generation) == gen && waited < (ms ? ms : 60000);
	     waited += 10)
		nanosleep(&tick, NULL);
}

static void from_env(void)
{
	const char *spec = getenv("DGOV_FAILPOINTS");
	struct dg_err err = {0};
	if (spec && *spec && dg_failpoint_set(spec, &err))
		dg_error("DGOV_FAILPOINTS: %s", err.msg);
}

dg_rc dg_failpoint_hit(const char *name)
{
	pthread_once(&env_once, from_env);
	if (atomic_load(&armed) == 0)
		return DG_OK;
	enum kind kind = K_BUSY;
	long ms = 0;
	bool fire = false;
	long gen = 0;
	pthread_mutex_lock(&mu);
	gen = atomic_load(&generation);
	for (size_t i = 0; i < npoints; i++) {
		struct point *p = &points[i];
		if (strcmp(p->name, name) != 0 || p->left == 0)
			continue;
		if (p->left > 0)
			p->left--;
		kind = p->kind;
		ms = p->ms;
		p->fired++;
		fire = true;
		break;
	}
	pthread_mutex_unlock(&mu);
	if (!fire)
		return DG_OK;
	switch (kind) {
	case K_SLOW: {
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
		return DG_OK;
	}
	case K_HOLD: hold(gen, ms); return DG_OK;
	case K_FULL: return DG_ENOSPC;
	case K_BUSY:
	case K_GONE: return DG_EUNAVAIL;
	}
	return DG_OK;
}
