/*
 * api.h - CKAN's Action API v3 (opendata/api): one dispatcher for
 * /api/3/action/{action} and /api/action/{action} and the one table of
 * actions it consults (ckan.c). The actions themselves are the
 * catalogue's (catalog.h) and the DataStore's (datastore.h).
 */
#ifndef DG_OD_API_H
#define DG_OD_API_H

#include <stddef.h>

#include "http/router.h"

/* GET and POST /api/3/action/{action} and /api/action/{action}. */
const struct dg_route *dg_od_api_routes(size_t *n);

#endif
