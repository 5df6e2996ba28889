/*
 * static.c - serving the files of the static folder.
 *
 * A request names a file by the {path...} parameter. Any segment that starts
 * with '.' is refused (no "..", no dotfiles), the joined path is resolved
 * with realpath() and must still lie inside the folder (a symlink may point
 * within it, never out), and only regular files with a known extension are
 * served. Everything refused is a plain 404, so probing learns nothing.
 */
#include "http/static.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	const char *ext, *type;
} types[] = {
	{".css", "text/css; charset=utf-8"},
	{".js", "text/javascript; charset=utf-8"},
	{".svg", "image/svg+xml"},
	{".png", "image/png"},
	{".ico", "image/x-icon"},
	{".woff2", "font/woff2"},
	{".txt", "text/plain; charset=utf-8"},
	{".json", "application/json; charset=utf-8"},
	{".html", "text/html; charset=utf-8"},
};

static const char *type_for(const char *path)
{
	const char *dot = strrchr(path, '.');
	const char *slash = strrchr(path, '/');
	if (!dot || (slash && dot < slash))
		return NULL;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

/* No segment may be empty or start with '.'; no backslashes or control bytes. */
static bool name_ok(const char *rel)
{
	const char *seg = rel;
	for (const char *p = rel;; p++) {
		if (*p == '/' || *p == '\0') {
			if (p == seg || seg[0] == '.')
				return false;
			if (*p == '\0')
				return true;
			seg = p + 1;
		} else if ((unsigned char)*p < 0x20 || *p == '\\' || *p == 0x7f) {
			return false;
		}
	}
}

static dg_rc not_found(struct dg_req *r)
{
	return dg_err_set(&r->err, DG_ENOTFOUND, "%s", "");
}

/* Open root/rel if it resolves inside root; -1 otherwise. */
static int open_inside(const char *root, const char *rel)
{
	char rroot[PATH_MAX], joined[PATH_MAX], real[PATH_MAX];
	if (!realpath(root, rroot))
		return -1;
	int n = snprintf(joined, sizeof(joined), "%s/%s", rroot, rel);
	if (n < 0 || (size_t)n >= sizeof(joined) || !realpath(joined, real))
		return -1;
	size_t rl = strlen(rroot);
	if (strncmp(real, rroot, rl) != 0 || real[rl] != '/')
		return -1;
	return open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

dg_rc dg_static_handler(struct dg_req *r)
{
	const char *rel = dg_kvs_get(&r->params, "path");
	const char *type = rel ? type_for(rel) : NULL;
	if (!rel || !type || !name_ok(rel) || !r->http || !r->http->static_dir)
		return not_found(r);
	int fd = open_inside(r->http->static_dir, rel);
	struct stat st;
	if (fd < 0)
		return not_found(r);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return not_found(r);
	}
	char etag[64];
	snprintf(etag, sizeof(etag), "\"%lld-%lld\"", (long long)st.st_size,
		 (long long)st.st_mtime);
	const char *inm = dg_req_header(r, "If-None-Match");
	if (inm && (strstr(inm, etag) || strcmp(inm, "*") == 0)) {
		close(fd);
		dg_reply_bytes(r, 304, type, NULL, 0);
	} else {
		dg_reply_file(r, 200, type, fd, (uint64_t)st.st_size);
	}
	dg_reply_header(r, "ETag", etag);
	dg_reply_header(r, "Cache-Control", "public, max-age=86400");
	return DG_OK;
}
