/*
 * ckan.h - CKAN's Action API v3 (ckan.c): one route handler that serves
 * every action named by the path parameter {action}.
 */
#ifndef DG_CKAN_H
#define DG_CKAN_H

#include "http/req.h"

/* The handler for /api/3/action/{action} and /api/action/{action}. */
dg_rc dg_ckan_handle(struct dg_req *r) DG_MUST;

#endif
