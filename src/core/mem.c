/*
 * mem.c - abort-on-failure allocation (see mem.h for why).
 */
#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
	fprintf(stderr, "dgov: out of memory allocating %zu bytes\n", n);
	abort();
}

void *dg_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *dg_xcalloc(size_t count, size_t n)
{
	void *p = calloc(count ? count : 1, n ? n : 1);
	if (!p)
		oom(count * n);
	return p;
}

void *dg_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *dg_xstrndup(const char *s, size_t n)
{
	char *p = dg_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *dg_xstrdup(const char *s)
{
	return dg_xstrndup(s, strlen(s));
}

void dg_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
}

void *dg_xgrow_zeroed(void *p, size_t *n, size_t i, size_t size)
{
	if (i < *n)
		return p;
	size_t cap = *n ? *n : 1024;
	while (cap <= i)
		cap *= 2;
	unsigned char *q = dg_xrealloc(p, cap * size);
	memset(q + *n * size, 0, (cap - *n) * size);
	*n = cap;
	return q;
}
