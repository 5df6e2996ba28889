/*
 * multipart.h - an incremental multipart/form-data parser (RFC 7578).
 *
 * Fed the body in chunks of any size, in any split, it gives the same
 * result. Text parts become form fields (capped, UTF-8 without NUL); parts
 * with a filename are streamed to a temporary file under the upload folder,
 * each capped. Temporary files are closed and deleted when the arena is
 * freed. Errors are sticky: after one, feeding does nothing.
 *   EINVAL  no boundary in the content type, malformed part headers (a bare
 *           CR or LF, a part without a form-data name, a header repeated),
 *           a field that is not UTF-8, or no final boundary at the end
 *   ETOOBIG a part's headers, a text field, a file or the number of parts
 *           over its cap
 *   EIO     the temporary file could not be written
 */
#ifndef DG_MULTIPART_H
#define DG_MULTIPART_H

#include <stddef.h>

#include "core/arena.h"
#include "core/err.h"
#include "http/req.h"

struct dg_mp_limits {
	size_t max_field;  /* bytes of one text field */
	size_t max_file;   /* bytes of one file */
	size_t max_parts;  /* number of parts */
	size_t max_header; /* bytes of one part's header block */
};

struct dg_mp;

/* A parser for the body whose Content-Type is content_type (arena-owned). */
dg_rc dg_mp_new(const char *content_type, const char *upload_dir, const struct dg_mp_limits *lim,
		struct dg_arena *a, struct dg_mp **out) DG_MUST;
/* Feed the next n bytes of the body. */
dg_rc dg_mp_feed(struct dg_mp *m, const char *p, size_t n) DG_MUST;
/*
 * The body has ended: EINVAL unless the final boundary was seen. On success
 * fields are appended to form and *uploads / *nuploads set (arena memory).
 */
dg_rc dg_mp_finish(struct dg_mp *m, struct dg_kvs *form, struct dg_upload **uploads,
		   size_t *nuploads) DG_MUST;
/* A short message for the last error (English, for logs and the error page). */
const char *dg_mp_error(const struct dg_mp *m);

#endif
