/*
 * log.c - formatted one-line logging (see log.h).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum dg_log_level current = DG_LOG_INFO;
static const char *names[] = {"debug", "info", "warn", "error", "off"};

void dg_log_set_level(enum dg_log_level level)
{
	current = level;
}

dg_rc dg_log_parse_level(const char *s, enum dg_log_level *out)
{
	for (int i = 0; i <= DG_LOG_OFF; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum dg_log_level)i;
			return DG_OK;
		}
	}
	return DG_EINVAL;
}

static void emit(enum dg_log_level level, const char *fmt, va_list ap) DG_PRINTF(2, 0);

static void emit(enum dg_log_level level, const char *fmt, va_list ap)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ts.tv_nsec / 1000000, names[level]);
	if (n < 0)
		return;
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	/* one write per line keeps lines from different threads whole */
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}

void dg_log(enum dg_log_level level, const char *fmt, ...)
{
	if (level < current || level >= DG_LOG_OFF)
		return;
	va_list ap;
	va_start(ap, fmt);
	emit(level, fmt, ap);
	va_end(ap);
}

void dg_log_request(const char *request_id, const char *method, const char *path, unsigned status,
		    double duration_ms)
{
	/* the path comes from the client: no control bytes may reach the log */
	char safe[256];
	size_t i = 0;
	for (; path[i] && i < sizeof(safe) - 1; i++)
		safe[i] = ((unsigned char)path[i] < 0x20 || path[i] == 0x7f) ? '?' : path[i];
	safe[i] = '\0';
	dg_log(status >= 500 ? DG_LOG_ERROR : DG_LOG_INFO, "req=%s %s %s %u %.2fms", request_id,
	       method, safe, status, duration_ms);
}
