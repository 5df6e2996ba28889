/*
 * rand.h - identifiers and secrets from the system's CSPRNG (libsodium).
 *
 * dg_rand_init() must run once before any other call (dg main does it).
 */
#ifndef DG_RAND_H
#define DG_RAND_H

#include <stddef.h>

#include "err.h"

dg_rc dg_rand_init(void) DG_MUST;
void dg_rand_bytes(void *p, size_t n);
/* 2*nbytes lower-case hex characters and a NUL into out (size 2*nbytes+1). */
void dg_rand_hex(char *out, size_t nbytes);
/*
 * A request id: 16 lower-case hex characters and a NUL. Unique for the
 * life of the process (a per-thread splitmix64 sequence, seeded once from
 * the CSPRNG), but predictable from earlier ids: for logs and headers,
 * never for a secret. No system call after a thread's first id.
 */
void dg_rand_id(char out[17]);

#endif
