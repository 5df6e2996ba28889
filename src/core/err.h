/*
 * err.h - dgov's one error vocabulary.
 *
 * Every fallible function returns a dg_rc. A message meant for the person who
 * caused the error (a field that is missing, a file that is too large) travels
 * beside it in a struct dg_err that the caller owns; messages are short and
 * carry no secrets. One mapping turns a dg_rc into an HTTP status (err.c):
 * dg_rc_http_status() for a request that fails, dg_rc_form_status() for an
 * answer that shows the submitted input again with its errors.
 */
#ifndef DG_ERR_H
#define DG_ERR_H

#include <stddef.h>

#define DG_MUST         __attribute__((warn_unused_result))
#define DG_PRINTF(a, b) __attribute__((format(printf, a, b)))

typedef enum dg_rc {
	DG_OK = 0,
	DG_EINVAL,    /* input does not parse or fails validation -> 400/422 */
	DG_ENOTFOUND, /* no such thing -> 404 */
	DG_EAUTH,     /* not signed in / bad credentials -> 401 */
	DG_EDENIED,   /* signed in but not allowed, or CSRF failure -> 403 */
	DG_EMETHOD,   /* path exists, method does not -> 405 */
	DG_ECONFLICT, /* state does not allow it (duplicate, already done) -> 409 */
	DG_ETOOBIG,   /* over a size cap -> 413 */
	DG_EHEADERS,  /* request headers over their cap -> 431 */
	DG_ELOCKED,   /* too many failed attempts, try later -> 429 */
	DG_EIO,       /* file system or network -> 500 */
	DG_EDB,       /* store failure -> 500 (503 when the store is gone) */
	DG_EUNAVAIL,  /* dependency down or shutting down -> 503 */
	DG_ENOSPC,    /* the disk (or the store's) is full -> 507 */
	DG_EINTERNAL, /* a bug -> 500 */
} dg_rc;

/* A message for the user, owned by the caller (usually on the stack). */
struct dg_err {
	dg_rc rc;
	char field[64]; /* form field the message belongs to, or "" */
	char msg[256];
};

/* Short stable name of a code ("EINVAL"), never NULL. */
const char *dg_rc_name(dg_rc rc);

/* The one mapping from an error code to an HTTP status. */
unsigned dg_rc_http_status(dg_rc rc);
/*
 * The status of a form (page or API) answered again with its errors: input
 * that fails validation is 422 Unprocessable Content rather than 400, the
 * rest as dg_rc_http_status. DG_OK is 200.
 */
unsigned dg_rc_form_status(dg_rc rc);

/*
 * Record rc and a formatted message in err (err may be NULL) and return rc,
 * so callers can write `return dg_err_set(err, DG_EINVAL, "...")`.
 */
dg_rc dg_err_set(struct dg_err *err, dg_rc rc, const char *fmt, ...) DG_PRINTF(3, 4);

/* Same, naming the form field the message is about. */
dg_rc dg_err_field(struct dg_err *err, dg_rc rc, const char *field, const char *fmt, ...)
	DG_PRINTF(4, 5);

#endif
