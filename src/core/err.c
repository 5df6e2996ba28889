/*
 * err.c - names of error codes, their HTTP statuses, and the user message
 * that travels beside them.
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *dg_rc_name(dg_rc rc)
{
	switch (rc) {
	case DG_OK: return "OK";
	case DG_EINVAL: return "EINVAL";
	case DG_ENOTFOUND: return "ENOTFOUND";
	case DG_EAUTH: return "EAUTH";
	case DG_EDENIED: return "EDENIED";
	case DG_EMETHOD: return "EMETHOD";
	case DG_ECONFLICT: return "ECONFLICT";
	case DG_ETOOBIG: return "ETOOBIG";
	case DG_EHEADERS: return "EHEADERS";
	case DG_ELOCKED: return "ELOCKED";
	case DG_EIO: return "EIO";
	case DG_EDB: return "EDB";
	case DG_EUNAVAIL: return "EUNAVAIL";
	case DG_ENOSPC: return "ENOSPC";
	case DG_EINTERNAL: return "EINTERNAL";
	}
	return "EUNKNOWN";
}

unsigned dg_rc_http_status(dg_rc rc)
{
	switch (rc) {
	case DG_OK: return 200;
	case DG_EINVAL: return 400;
	case DG_ENOTFOUND: return 404;
	case DG_EAUTH: return 401;
	case DG_EDENIED: return 403;
	case DG_EMETHOD: return 405;
	case DG_ECONFLICT: return 409;
	case DG_ETOOBIG: return 413;
	case DG_EHEADERS: return 431;
	case DG_ELOCKED: return 429;
	case DG_EUNAVAIL: return 503;
	case DG_ENOSPC: return 507;
	case DG_EIO:
	case DG_EDB:
	case DG_EINTERNAL: return 500;
	}
	return 500;
}

unsigned dg_rc_form_status(dg_rc rc)
{
	return rc == DG_EINVAL ? 422 : dg_rc_http_status(rc);
}

static dg_rc vset(struct dg_err *err, dg_rc rc, const char *field, const char *fmt, va_list ap)
	DG_PRINTF(4, 0);

static dg_rc vset(struct dg_err *err, dg_rc rc, const char *field, const char *fmt, va_list ap)
{
	if (!err)
		return rc;
	err->rc = rc;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return rc;
}

dg_rc dg_err_set(struct dg_err *err, dg_rc rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(err, rc, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

dg_rc dg_err_field(struct dg_err *err, dg_rc rc, const char *field, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(err, rc, field, fmt, ap);
	va_end(ap);
	return rc;
}
