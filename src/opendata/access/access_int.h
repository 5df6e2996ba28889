/*
 * access_int.h - what the access layer's files share (opendata/access;
 * what others may use is access.h): the stored form of an app key, which
 * the gate (access.c) looks up and the apps page (pages.c) stores.
 */
#ifndef DG_OD_ACCESS_INT_H
#define DG_OD_ACCESS_INT_H

#include "core/arena.h"
#include "opendata/access/access.h"

/* The stored form of an app key: hex BLAKE2b (arena memory). */
char *dg_od_key_hash(struct dg_arena *a, const char *key);

#endif
