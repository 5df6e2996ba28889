/*
 * log.h - one-line logs to standard error.
 *
 * Lines are "time level message"; a request line carries the request id,
 * method, path, status and duration so a slow or failing request can be found
 * from a user's report of its id. Thread-safe: a line is written with one
 * write(2). Never log secrets, passwords, tokens or personal identifiers.
 */
#ifndef DG_LOG_H
#define DG_LOG_H

#include "err.h"

enum dg_log_level { DG_LOG_DEBUG, DG_LOG_INFO, DG_LOG_WARN, DG_LOG_ERROR, DG_LOG_OFF };

void dg_log_set_level(enum dg_log_level level);
/* "debug" "info" "warn" "error" "off"; EINVAL otherwise. */
dg_rc dg_log_parse_level(const char *s, enum dg_log_level *out) DG_MUST;

void dg_log(enum dg_log_level level, const char *fmt, ...) DG_PRINTF(2, 3);
#define dg_debug(...) dg_log(DG_LOG_DEBUG, __VA_ARGS__)
#define dg_info(...)  dg_log(DG_LOG_INFO, __VA_ARGS__)
#define dg_warn(...)  dg_log(DG_LOG_WARN, __VA_ARGS__)
#define dg_error(...) dg_log(DG_LOG_ERROR, __VA_ARGS__)

void dg_log_request(const char *request_id, const char *method, const char *path, unsigned status,
		    double duration_ms);

#endif
