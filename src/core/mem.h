/*
 * mem.h - allocation that never returns NULL.
 *
 * dgov is a server, not a library: running out of memory is not a condition
 * a request can recover from, so these wrappers abort with a message and call
 * sites never check. Growth driven by input is bounded elsewhere, by caps.
 */
#ifndef DG_MEM_H
#define DG_MEM_H

#include <stddef.h>

void *dg_xmalloc(size_t n);
void *dg_xcalloc(size_t count, size_t n);
void *dg_xrealloc(void *p, size_t n);
char *dg_xstrdup(const char *s);
char *dg_xstrndup(const char *s, size_t n);

/*
 * Grow p, an array of *n elements of size bytes each, so that element i
 * is in it: the length doubles from 1024 until it is, the new elements are
 * zeros, and *n becomes the new length. Returns the array (p when it was
 * long enough).
 */
void *dg_xgrow_zeroed(void *p, size_t *n, size_t i, size_t size);

/* Overwrite n bytes of p with zeros in a way the compiler keeps. */
void dg_wipe(void *p, size_t n);

#endif
