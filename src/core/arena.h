/*
 * arena.h - region allocator for memory that lives as long as one request or
 * one job step.
 *
 * Invariants: allocations are never freed one by one; dg_arena_free() runs the
 * registered cleanups in reverse order of registration, then releases every
 * block. Things that are not memory (statements, result sets, JSON references,
 * secrets to wipe) register a cleanup with dg_arena_defer(). Allocation aborts
 * on out-of-memory like mem.h; sizes driven by input are capped by callers.
 */
#ifndef DG_ARENA_H
#define DG_ARENA_H

#include <stdarg.h>
#include <stddef.h>

#include "err.h"

struct dg_arena;

struct dg_arena *dg_arena_new(void);
void dg_arena_free(struct dg_arena *a);

/* n bytes aligned for any type; zeroed. Never NULL. */
void *dg_arena_alloc(struct dg_arena *a, size_t n);
char *dg_arena_strdup(struct dg_arena *a, const char *s);
char *dg_arena_strndup(struct dg_arena *a, const char *s, size_t n);
char *dg_arena_printf(struct dg_arena *a, const char *fmt, ...) DG_PRINTF(2, 3);
char *dg_arena_vprintf(struct dg_arena *a, const char *fmt, va_list ap) DG_PRINTF(2, 0);

/* Run fn(p) when the arena is freed (last registered runs first). */
void dg_arena_defer(struct dg_arena *a, void (*fn)(void *), void *p);

/* Bytes handed out so far (for logs and tests). */
size_t dg_arena_used(const struct dg_arena *a);

#endif
