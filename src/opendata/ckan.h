/*
 * ckan.h - CKAN's Action API v3 (ckan.c): one route handler that serves
 * every action named by the path parameter {action}.
 */
#ifndef DG_CKAN_H
#define DG_CKAN_H

#include <stddef.h>

#include "http/req.h"

/* CKAN's license list (license_list): {id, English title}, dg_ckan_nlicenses of them. */
extern const char *const dg_ckan_licenses[][2];
extern const size_t dg_ckan_nlicenses;

/* The handler for /api/3/action/{action} and /api/action/{action}. */
dg_rc dg_ckan_handle(struct dg_req *r) DG_MUST;

#endif
