/*
 * arena.c - bump allocator over a list of blocks, with cleanup hooks.
 *
 * Blocks start at 4 KiB and double up to 256 KiB; a request larger than half a
 * block gets a block of its own so small allocations keep packing.
 */
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define ALIGN       16
#define FIRST_BLOCK 4096
#define MAX_BLOCK   (256 * 1024)

struct block {
	struct block *next;
	size_t size, used;
	_Alignas(ALIGN) unsigned char data[];
};

struct cleanup {
	struct cleanup *next;
	void (*fn)(void *);
	void *p;
};

struct dg_arena {
	struct block *head;
	struct cleanup *cleanups;
	size_t next_size;
	size_t total;
};

struct dg_arena *dg_arena_new(void)
{
	struct dg_arena *a = dg_xcalloc(1, sizeof(*a));
	a->next_size = FIRST_BLOCK;
	return a;
}

void dg_arena_free(struct dg_arena *a)
{
	if (!a)
		return;
	struct cleanup *c = a->cleanups;
	while (c) {
		struct cleanup *next = c->next;
		c->fn(c->p);
		c = next; /* the cleanup record itself lives in a block */
	}
	struct block *b = a->head;
	while (b) {
		struct block *next = b->next;
		free(b);
		b = next;
	}
	free(a);
}

static struct block *new_block(struct dg_arena *a, size_t need)
{
	size_t size = a->next_size;
	if (need > size / 2) {
		size = need;
	} else if (a->next_size < MAX_BLOCK) {
		a->next_size *= 2;
	}
	struct block *b = dg_xmalloc(sizeof(*b) + size);
	b->size = size;
	b->used = 0;
	return b;
}

void *dg_arena_alloc(struct dg_arena *a, size_t n)
{
	size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (need == 0)
		need = ALIGN;
	struct block *b = a->head;
	if (!b || b->size - b->used < need) {
		struct block *nb = new_block(a, need);
		if (nb->size == need && b) {
			/* a dedicated big block goes second so the current one keeps filling */
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = b;
			a->head = nb;
		}
		b = nb;
	}
	void *p = b->data + b->used;
	b->used += need;
	a->total += need;
	memset(p, 0, n);
	return p;
}

char *dg_arena_strndup(struct dg_arena *a, const char *s, size_t n)
{
	char *p = dg_arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *dg_arena_strdup(struct dg_arena *a, const char *s)
{
	return dg_arena_strndup(a, s, strlen(s));
}

char *dg_arena_vprintf(struct dg_arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		n = 0;
	char *p = dg_arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *dg_arena_printf(struct dg_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = dg_arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

void dg_arena_defer(struct dg_arena *a, void (*fn)(void *), void *p)
{
	struct cleanup *c = dg_arena_alloc(a, sizeof(*c));
	c->fn = fn;
	c->p = p;
	c->next = a->cleanups;
	a->cleanups = c;
}

size_t dg_arena_used(const struct dg_arena *a)
{
	return a->total;
}
