/*
 * config.h - server configuration from defaults, then the environment, then
 * command-line flags (later wins).
 *
 * Environment: PORT, DGOV_LISTEN (host:port), DGOV_DB, DGOV_DATA_DIR,
 * DGOV_KEY_FILE, DGOV_KEY (hex, overrides the file), DGOV_TEMPLATES,
 * DGOV_STATIC, DGOV_THREADS, DGOV_JOB_WORKERS, DGOV_JOB_LEASE,
 * DGOV_MAX_BODY, DGOV_MAX_RESOURCE_SIZE, DGOV_LOG_LEVEL, DGOV_PWHASH (interactive|moderate|min),
 * DGOV_WEBHOOK_URL, DGOV_WEBHOOK_SECRET, DGOV_TRUSTED_PROXY, DGOV_SITE_URL,
 * DGOV_MAX_CONN, DGOV_CONN_PER_ADDR, DGOV_CONN_RESERVE, DGOV_HEADER_TIMEOUT,
 * DGOV_IDLE_TIMEOUT, DGOV_MIN_BODY_RATE, DGOV_LOGIN_LIMIT, DGOV_SQLITE_HEAP_MB.
 * Strings point into argv, the environment or static defaults; the config
 * owns nothing and needs no release.
 */
#ifndef DG_CONFIG_H
#define DG_CONFIG_H

#include <stddef.h>

#include "err.h"
#include "log.h"
#include "proxy.h"

enum dg_pwhash_cost { DG_PWHASH_MIN, DG_PWHASH_INTERACTIVE, DG_PWHASH_MODERATE };

struct dg_config {
	const char *host;          /* "127.0.0.1" */
	unsigned port;             /* 8080; 0 picks a free port */
	const char *db;            /* "dgov.db" or "postgresql://..." */
	const char *data_dir;      /* uploads and other files: "data" */
	const char *key_file;      /* "dgov.key" */
	const char *key_hex;       /* DGOV_KEY, or NULL */
	const char *templates_dir; /* "templates" */
	const char *static_dir;    /* "static" */
	unsigned threads;          /* HTTP worker threads: 4 */
	unsigned job_workers;      /* job worker threads: 2 */
	unsigned job_lease_sec;    /* a claimed job is retaken after this: 30 */
	unsigned health_ms;        /* the store is checked for /healthz this often: 1000 */
	size_t max_body;           /* bytes in a request body: 10 MiB */
	size_t max_upload;         /* bytes in one uploaded file: 50 MiB */
	size_t max_resource; /* bytes in a dataset's resource file: 50 MiB (raises max_upload) */
	size_t max_header;   /* bytes of request headers: 16 KiB */
	enum dg_log_level log_level;
	enum dg_pwhash_cost pwhash;
	const char *site_url;       /* "https://portal.example.gov" (no trailing '/'), or NULL:
				       dg_config_site_url builds it from the listen address */
	int secure_cookies;         /* 1 when site_url is https: Secure cookies, HSTS */
	const char *webhook_url;    /* notices are also POSTed here (http/https), or NULL */
	const char *webhook_secret; /* key of their HMAC-SHA256 signature, or NULL */
	struct dg_proxies trusted_proxies; /* whose X-Forwarded-For is believed (proxy.h): none */
	/* connections (http/guard.c): so that one client cannot hold them all */
	unsigned max_conn;       /* open connections in all: 1000 */
	unsigned conn_per_addr;  /* open connections from one address: 32 (0: no cap) */
	unsigned conn_reserve;   /* the last this many go only to addresses holding none: 100 */
	unsigned header_timeout; /* seconds for a request's headers to arrive: 10 */
	unsigned idle_timeout;   /* seconds a connection may be silent: 30 */
	unsigned min_body_rate;  /* bytes a second a body must average after header_timeout: 1024 */
	unsigned login_limit; /* failed sign-ins from one address per 15 minutes: 20 (0: no cap) */
	unsigned sqlite_heap_mb;  /* SQLite's soft heap limit, MiB: 256 (0: none) */
	unsigned page_cache_mb;   /* catalogue pages kept (web/pcache.h), MiB: 16 (0: off) */
	const char *cors_origins; /* origins whose pages may read the open-data API: "*", a
				     comma-separated list, or NULL (none, as CKAN by default) */
};

/* The longest site URL accepted, with its NUL. */
#define DG_SITE_URL_MAX 256

void dg_config_defaults(struct dg_config *c);

/* Apply DGOV_* / PORT variables; EINVAL with a message naming the variable. */
dg_rc dg_config_from_env(struct dg_config *c, struct dg_err *err) DG_MUST;

/*
 * Apply flags from argv[0..argc): --listen HOST:PORT, --port N, --db URL,
 * --data DIR, --key-file F, --templates DIR, --static DIR, --threads N,
 * --job-workers N, --job-lease SEC, --max-body BYTES, --max-resource-size BYTES,
 * --log-level L, --pwhash COST, --webhook-url URL, --webhook-secret S,
 * --trusted-proxy LIST, --site-url URL, --max-conn N, --conn-per-addr N,
 * --conn-reserve N, --header-timeout SEC, --idle-timeout SEC,
 * --min-body-rate BYTES, --login-limit N, --cors-origins LIST,
 * --sqlite-heap-mb N. Unknown flags are EINVAL.
 */
dg_rc dg_config_from_args(struct dg_config *c, int argc, char **argv, struct dg_err *err) DG_MUST;

/* True when --name (without dashes, before any '=') is one of the flags above. */
int dg_config_has_flag(const char *name);

/*
 * The site's address, from which every absolute link (certificate
 * verification links and QR codes, catalogue addresses) is built and never
 * from a request's Host header: --site-url as given (without a trailing
 * '/'), else "http://HOST:PORT" of the listen address ("[::1]" for IPv6).
 * Returns site_url itself, or out filled in.
 */
const char *dg_config_site_url(const struct dg_config *c, char out[DG_SITE_URL_MAX]);
/* Whether a page on origin (an Origin header) may read the open-data API (--cors-origins). */
int dg_config_cors_allows(const struct dg_config *c, const char *origin);
/* Whether the site is served over https (site_url starts with https://). */
int dg_config_site_https(const struct dg_config *c);

/* The flag help text for --help. */
const char *dg_config_usage(void);

#endif
