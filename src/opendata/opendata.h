/*
 * opendata.h - the open data (数据开放) as one module for src/app: the
 * catalogue and its CKAN Action API, the DataStore, access tiers and
 * quotas, and the pages, each a sub-folder (base, access, datastore,
 * catalog, api, pages) with a public header named after it.
 */
#ifndef DG_OPENDATA_H
#define DG_OPENDATA_H

#include "node/module.h"

/* The opendata module: its tables, routes, jobs and demo data (module.c). */
extern const struct dg_module dg_opendata_module;

#endif
