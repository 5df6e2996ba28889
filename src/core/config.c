/*
 * config.c - defaults, environment and flags (see config.h).
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "str.h"

void dg_config_defaults(struct dg_config *c)
{
	*c = (struct dg_config){
		.host = "127.0.0.1",
		.port = 8080,
		.db = "dgov.db",
		.data_dir = "data",
		.key_file = "dgov.key",
		.templates_dir = "templates",
		.static_dir = "static",
		.threads = 4,
		.job_workers = 2,
		.job_lease_sec = 30,
		.health_ms = 1000,
		.max_body = (size_t)10 << 20,
		.max_upload = (size_t)50 << 20,
		.max_resource = (size_t)50 << 20,
		.max_header = (size_t)16 << 10,
		.log_level = DG_LOG_INFO,
		.pwhash = DG_PWHASH_INTERACTIVE,
		.max_conn = 1000,
		.conn_per_addr = 32,
		.conn_reserve = 100,
		.header_timeout = 10,
		.idle_timeout = 30,
		.min_body_rate = 1024,
		.login_limit = 20,
		.sqlite_heap_mb = 256,
		.page_cache_mb = 16,
	};
}

/*
 * http(s)://host[:port][/path]: a host of letters, digits, '.', '-' or an
 * IPv6 literal in brackets; a path without query, fragment, quotes or
 * spaces. Trailing '/' is dropped (links are the site URL plus "/...").
 */
static dg_rc set_site_url(struct dg_config *c, const char *v, struct dg_err *err)
{
	static _Thread_local char url[DG_SITE_URL_MAX];
	size_t n = strlen(v);
	const char *host = !strncmp(v, "https://", 8)  ? v + 8
			   : !strncmp(v, "http://", 7) ? v + 7
						       : NULL;
	while (n > 0 && v[n - 1] == '/')
		n--;
	if (!host || n >= sizeof(url) || (size_t)(host - v) >= n)
		return dg_err_set(
			err, DG_EINVAL,
			"site URL must be http:// or https:// and a host, under %d characters",
			DG_SITE_URL_MAX);
	bool in_path = false;
	for (const char *p = host; p < v + n; p++) {
		unsigned char ch = (unsigned char)*p;
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
			  (!in_path && strchr(":[]", ch)) || (in_path && strchr("/_~%", ch));
		if (ch == '/')
			in_path = ok = true;
		if (!ok)
			return dg_err_set(err, DG_EINVAL,
					  "site URL may hold only a host, a port and a plain path");
	}
	memcpy(url, v, n);
	url[n] = '\0';
	c->site_url = url;
	c->secure_cookies = host == v + 8;
	return DG_OK;
}

const char *dg_config_site_url(const struct dg_config *c, char out[DG_SITE_URL_MAX])
{
	if (c->site_url && c->site_url[0])
		return c->site_url;
	const char *h = c->host && c->host[0] ? c->host : "127.0.0.1";
	bool v6 = strchr(h, ':') != NULL;
	snprintf(out, DG_SITE_URL_MAX, "http://%s%s%s:%u", v6 ? "[" : "", h, v6 ? "]" : "",
		 c->port);
	return out;
}

int dg_config_site_https(const struct dg_config *c)
{
	return c->site_url && !strncmp(c->site_url, "https://", 8);
}

/*
 * "*" or origins separated by commas, each scheme://host[:port] with
 * nothing after it (an Origin header's form).
 */
static dg_rc set_cors(struct dg_config *c, const char *v, struct dg_err *err)
{
	if (strcmp(v, "*") != 0) {
		struct dg_str rest = dg_str_of(v), o;
		while (rest.p) {
			rest = dg_str_cut(rest, ',', &o);
			o = dg_str_trim(o);
			size_t skip = o.n > 8 && !strncmp(o.p, "https://", 8)  ? 8
				      : o.n > 7 && !strncmp(o.p, "http://", 7) ? 7
									       : 0;
			bool ok = skip && o.n < DG_SITE_URL_MAX;
			for (size_t i = skip; ok && i < o.n; i++) {
				unsigned char ch = (unsigned char)o.p[i];
				ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				     (ch >= '0' && ch <= '9') || strchr(".-:[]", ch);
			}
			if (!ok)
				return dg_err_set(
					err, DG_EINVAL,
					"CORS origins must be * or http(s)://host[:port], "
					"comma-separated");
		}
	}
	c->cors_origins = v;
	return DG_OK;
}

int dg_config_cors_allows(const struct dg_config *c, const char *origin)
{
	if (!c->cors_origins || !origin || !origin[0])
		return 0;
	if (strcmp(c->cors_origins, "*") == 0)
		return 1;
	struct dg_str rest = dg_str_of(c->cors_origins), o;
	while (rest.p) {
		rest = dg_str_cut(rest, ',', &o);
		o = dg_str_trim(o);
		if (o.n == strlen(origin) && strncasecmp(o.p, origin, o.n) == 0)
			return 1;
	}
	return 0;
}

static dg_rc parse_uint(const char *name, const char *v, unsigned long long max,
			unsigned long long *out, struct dg_err *err)
{
	int64_t n;
	if (dg_str_to_i64(dg_str_of(v), &n) || n < 0 || (unsigned long long)n > max)
		return dg_err_set(err, DG_EINVAL, "%s must be a whole number from 0 to %llu", name,
				  max);
	*out = (unsigned long long)n;
	return DG_OK;
}

static dg_rc set_listen(struct dg_config *c, const char *v, struct dg_err *err)
{
	/* "host:port" or ":port" or "port"; the host part is kept as given */
	const char *colon = strrchr(v, ':');
	unsigned long long port;
	dg_rc rc = parse_uint("listen port", colon ? colon + 1 : v, 65535, &port, err);
	if (rc)
		return rc;
	c->port = (unsigned)port;
	if (colon && colon != v) {
		static _Thread_local char host[256];
		size_t n = (size_t)(colon - v);
		if (n >= sizeof(host))
			return dg_err_set(err, DG_EINVAL, "listen host is too long");
		memcpy(host, v, n);
		host[n] = '\0';
		c->host = host;
	}
	return DG_OK;
}

static dg_rc set_pwhash(struct dg_config *c, const char *v, struct dg_err *err)
{
	if (strcmp(v, "min") == 0)
		c->pwhash = DG_PWHASH_MIN;
	else if (strcmp(v, "interactive") == 0)
		c->pwhash = DG_PWHASH_INTERACTIVE;
	else if (strcmp(v, "moderate") == 0)
		c->pwhash = DG_PWHASH_MODERATE;
	else
		return dg_err_set(err, DG_EINVAL,
				  "password hash cost must be min, interactive or moderate");
	return DG_OK;
}

/* The connection and sign-in limits; EINVAL for an unknown flag. */
static dg_rc set_limit(struct dg_config *c, const char *key, const char *v, struct dg_err *err)
{
	static const struct {
		const char *key, *what;
		size_t off;
		unsigned long long min, max;
	} limits[] = {
		{"max-conn", "max conn", offsetof(struct dg_config, max_conn), 16, 1000000},
		{"conn-per-addr", "conn per addr", offsetof(struct dg_config, conn_per_addr), 0,
		 1000000},
		{"conn-reserve", "conn reserve", offsetof(struct dg_config, conn_reserve), 0,
		 1000000},
		{"header-timeout", "header timeout", offsetof(struct dg_config, header_timeout), 1,
		 3600},
		{"idle-timeout", "idle timeout", offsetof(struct dg_config, idle_timeout), 1,
		 86400},
		{"min-body-rate", "min body rate", offsetof(struct dg_config, min_body_rate), 0,
		 1u << 30},
		{"login-limit", "login limit", offsetof(struct dg_config, login_limit), 0, 1000000},
		{"sqlite-heap-mb", "sqlite heap mb", offsetof(struct dg_config, sqlite_heap_mb), 0,
		 1u << 20},
		{"page-cache-mb", "page cache mb", offsetof(struct dg_config, page_cache_mb), 0,
		 1u << 16},
	};
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		unsigned long long n;
		if (strcmp(key, limits[i].key) != 0)
			continue;
		dg_rc rc = parse_uint(limits[i].what, v, limits[i].max, &n, err);
		if (!rc && n < limits[i].min)
			rc = dg_err_set(err, DG_EINVAL, "%s must be at least %llu", limits[i].what,
					limits[i].min);
		if (!rc)
			*(unsigned *)(void *)((char *)c + limits[i].off) = (unsigned)n;
		return rc;
	}
	return dg_err_set(err, DG_EINVAL, "unknown option --%s", key);
}

/* One setting by its flag name; shared by the environment and argv paths. */
static dg_rc set(struct dg_config *c, const char *key, const char *v, struct dg_err *err)
{
	unsigned long long n;
	dg_rc rc = DG_OK;
	if (strcmp(key, "listen") == 0)
		return set_listen(c, v, err);
	if (strcmp(key, "port") == 0) {
		if (!(rc = parse_uint("port", v, 65535, &n, err)))
			c->port = (unsigned)n;
	} else if (strcmp(key, "db") == 0) {
		c->db = v;
	} else if (strcmp(key, "data") == 0) {
		c->data_dir = v;
	} else if (strcmp(key, "key-file") == 0) {
		c->key_file = v;
	} else if (strcmp(key, "templates") == 0) {
		c->templates_dir = v;
	} else if (strcmp(key, "static") == 0) {
		c->static_dir = v;
	} else if (strcmp(key, "threads") == 0) {
		if (!(rc = parse_uint("threads", v, 256, &n, err)))
			c->threads = n ? (unsigned)n : 1;
	} else if (strcmp(key, "job-workers") == 0) {
		if (!(rc = parse_uint("job workers", v, 64, &n, err)))
			c->job_workers = (unsigned)n;
	} else if (strcmp(key, "job-lease") == 0) {
		if (!(rc = parse_uint("job lease", v, 86400, &n, err)))
			c->job_lease_sec = n ? (unsigned)n : 1;
	} else if (strcmp(key, "max-body") == 0) {
		if (!(rc = parse_uint("max body", v, (unsigned long long)1 << 34, &n, err)))
			c->max_body = (size_t)n;
	} else if (strcmp(key, "max-resource-size") == 0) {
		if (!(rc = parse_uint("max resource size", v, (unsigned long long)1 << 40, &n,
				      err)))
			c->max_resource = (size_t)n ? (size_t)n : 1;
		/* the server must let such a file in before the actions can take it */
		if (!rc && c->max_resource > c->max_upload)
			c->max_upload = c->max_resource;
	} else if (strcmp(key, "log-level") == 0) {
		if (dg_log_parse_level(v, &c->log_level))
			rc = dg_err_set(err, DG_EINVAL,
					"log level must be debug, info, warn, error or off");
	} else if (strcmp(key, "pwhash") == 0) {
		rc = set_pwhash(c, v, err);
	} else if (strcmp(key, "webhook-url") == 0) {
		/* other schemes (file:, ftp: ...) would let the setting read or reach too much */
		if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
			rc = dg_err_set(err, DG_EINVAL,
					"webhook URL must start with http:// or https://");
		else
			c->webhook_url = v;
	} else if (strcmp(key, "webhook-secret") == 0) {
		c->webhook_secret = v;
	} else if (strcmp(key, "trusted-proxy") == 0) {
		rc = dg_proxies_parse(v, &c->trusted_proxies, err);
	} else if (strcmp(key, "site-url") == 0) {
		rc = set_site_url(c, v, err);
	} else if (strcmp(key, "cors-origins") == 0) {
		rc = set_cors(c, v, err);
	} else {
		rc = set_limit(c, key, v, err);
	}
	return rc;
}

dg_rc dg_config_from_env(struct dg_config *c, struct dg_err *err)
{
	static const struct {
		const char *env, *key;
	} map[] = {
		{"PORT", "port"},
		{"DGOV_LISTEN", "listen"},
		{"DGOV_DB", "db"},
		{"DGOV_DATA_DIR", "data"},
		{"DGOV_KEY_FILE", "key-file"},
		{"DGOV_TEMPLATES", "templates"},
		{"DGOV_STATIC", "static"},
		{"DGOV_THREADS", "threads"},
		{"DGOV_JOB_WORKERS", "job-workers"},
		{"DGOV_JOB_LEASE", "job-lease"},
		{"DGOV_MAX_BODY", "max-body"},
		{"DGOV_LOG_LEVEL", "log-level"},
		{"DGOV_MAX_RESOURCE_SIZE", "max-resource-size"},
		{"DGOV_PWHASH", "pwhash"},
		{"DGOV_WEBHOOK_URL", "webhook-url"},
		{"DGOV_WEBHOOK_SECRET", "webhook-secret"},
		{"DGOV_TRUSTED_PROXY", "trusted-proxy"},
		{"DGOV_SITE_URL", "site-url"},
		{"DGOV_MAX_CONN", "max-conn"},
		{"DGOV_CONN_PER_ADDR", "conn-per-addr"},
		{"DGOV_CONN_RESERVE", "conn-reserve"},
		{"DGOV_HEADER_TIMEOUT", "header-timeout"},
		{"DGOV_IDLE_TIMEOUT", "idle-timeout"},
		{"DGOV_MIN_BODY_RATE", "min-body-rate"},
		{"DGOV_LOGIN_LIMIT", "login-limit"},
		{"DGOV_CORS_ORIGINS", "cors-origins"},
		{"DGOV_SQLITE_HEAP_MB", "sqlite-heap-mb"},
		{"DGOV_PAGE_CACHE_MB", "page-cache-mb"},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		const char *v = getenv(map[i].env);
		if (v && *v) {
			struct dg_err inner = {0};
			dg_rc rc = set(c, map[i].key, v, &inner);
			if (rc)
				return dg_err_set(err, rc, "%s: %s", map[i].env, inner.msg);
		}
	}
	const char *key = getenv("DGOV_KEY");
	if (key && *key)
		c->key_hex = key;
	return DG_OK;
}

dg_rc dg_config_from_args(struct dg_config *c, int argc, char **argv, struct dg_err *err)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) != 0)
			return dg_err_set(err, DG_EINVAL, "unexpected argument '%s'", a);
		a += 2;
		const char *eq = strchr(a, '=');
		char key[32];
		const char *val;
		if (eq) {
			size_t n = (size_t)(eq - a);
			if (n >= sizeof(key))
				return dg_err_set(err, DG_EINVAL, "unknown option --%s", a);
			memcpy(key, a, n);
			key[n] = '\0';
			val = eq + 1;
		} else {
			if (strlen(a) >= sizeof(key))
				return dg_err_set(err, DG_EINVAL, "unknown option --%s", a);
			memcpy(key, a, strlen(a) + 1);
			if (i + 1 >= argc)
				return dg_err_set(err, DG_EINVAL, "option --%s needs a value", key);
			val = argv[++i];
		}
		dg_rc rc = set(c, key, val, err);
		if (rc)
			return rc;
	}
	return DG_OK;
}

int dg_config_has_flag(const char *name)
{
	static const char *const flags[] = {"listen",         "port",          "db",
					    "data",           "key-file",      "templates",
					    "static",         "threads",       "job-workers",
					    "job-lease",      "max-body",      "max-resource-size",
					    "log-level",      "pwhash",        "webhook-url",
					    "webhook-secret", "trusted-proxy", "site-url",
					    "max-conn",       "conn-per-addr", "conn-reserve",
					    "header-timeout", "idle-timeout",  "min-body-rate",
					    "login-limit",    "cors-origins",  "sqlite-heap-mb",
					    "page-cache-mb"};
	size_t n = strcspn(name, "=");
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strlen(flags[i]) == n && strncmp(flags[i], name, n) == 0)
			return 1;
	return 0;
}

const char *dg_config_usage(void)
{
	return "  --listen HOST:PORT   address to serve on (default 127.0.0.1:8080; PORT= also "
	       "works)\n"
	       "  --port N             port only\n"
	       "  --db URL             dgov.db (SQLite file) or postgresql://user@host/db\n"
	       "  --data DIR           where uploads are kept (default data)\n"
	       "  --key-file FILE      node key, created on first run (default dgov.key)\n"
	       "  --templates DIR      page templates (default templates)\n"
	       "  --static DIR         CSS, images, scripts (default static)\n"
	       "  --threads N          HTTP worker threads (default 4)\n"
	       "  --job-workers N      background job workers (default 2)\n"
	       "  --job-lease SEC      a job whose worker vanished is retaken after this (default "
	       "30)\n"
	       "  --max-body BYTES     largest request body accepted (default 10 MiB)\n"
	       "  --max-resource-size BYTES\n"
	       "                       largest file uploaded as a dataset's resource (default 50 "
	       "MiB)\n"
	       "  --log-level L        debug, info, warn, error, off\n"
	       "  --pwhash COST        password hash cost: interactive (default), moderate, min\n"
	       "  --webhook-url URL    also POST every inbox notice here (http:// or https://)\n"
	       "  --webhook-secret S   key for the notices' HMAC-SHA256 signature (16+ bytes;\n"
	       "                       DGOV_WEBHOOK_SECRET keeps it out of the process list)\n"
	       "  --trusted-proxy LIST reverse proxies whose X-Forwarded-For is believed, for\n"
	       "                       per-address quotas: addresses and networks, comma-\n"
	       "                       separated (127.0.0.1,10.0.0.0/8,::1); default none\n"
	       "  --site-url URL       the site's address as visitors reach it, for every "
	       "absolute\n"
	       "                       link and QR code (https:// turns on Secure cookies and\n"
	       "                       HSTS); default http://HOST:PORT of --listen\n"
	       "  --max-conn N         open connections in all (default 1000)\n"
	       "  --conn-per-addr N    open connections from one address (default 32; 0 no cap;\n"
	       "                       trusted proxies are not capped)\n"
	       "  --conn-reserve N     the last N connections go only to addresses holding none\n"
	       "                       (default 100)\n"
	       "  --header-timeout SEC a request's headers must arrive within this (default 10)\n"
	       "  --idle-timeout SEC   a silent connection is closed after this (default 30)\n"
	       "  --min-body-rate BYTES\n"
	       "                       a body must average this many bytes a second after the\n"
	       "                       header timeout (default 1024; 0 no floor)\n"
	       "  --login-limit N      failed sign-ins from one address in 15 minutes before it\n"
	       "                       must wait (default 20; 0 no cap)\n"
	       "  --cors-origins LIST  web pages on these origins may read the open-data API\n"
	       "                       (CKAN's actions that read, dumps, DCAT): * or\n"
	       "                       https://a.example,https://b.example; default none\n"
	       "  --sqlite-heap-mb N   SQLite's soft heap limit in MiB: over it SQLite gives back\n"
	       "                       its caches before it takes more memory (default 256; 0 "
	       "none)\n"
	       "  --page-cache-mb N    memory for rendered catalogue pages kept until the\n"
	       "                       catalogue changes, in MiB (default 16; 0 off)\n";
}
