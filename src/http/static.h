/*
 * static.h - files under the static folder (CSS, scripts, images).
 *
 * GET /static/{path...}: only regular files inside the folder (no "..", no
 * hidden files, symlinks not followed out), a content type by extension, an
 * ETag from size and mtime with 304 on If-None-Match, and
 * Cache-Control "public, max-age=86400".
 */
#ifndef DG_STATIC_H
#define DG_STATIC_H

#include "http/req.h"

/* Route handler; serves from r->env->cfg->static_dir the file named by the "path" parameter. */
dg_rc dg_static_handler(struct dg_req *r) DG_MUST;

#endif
