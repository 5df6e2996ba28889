/*
 * file.c - files uploaded as a dataset's resources (see catalog_int.h).
 *
 * A resource's files live in <data>/resources/<resource id>/, each under a
 * random name (http/upload.c moves it there). A new file is kept before the
 * resource is saved and the older ones are removed only after the save
 * commits, so a crash in between leaves at worst a file no row refers to,
 * never a row without its file. The folder is outside anything served as
 * static: the only way to a file is the download route here, which applies
 * the dataset's own read rules (dg_datastore_check, as the dumps do).
 *
 * The type is found from the content's first bytes, the name's extension
 * only telling apart formats that share a container (XLSX is a ZIP file,
 * XLS an OLE2 one) or plain text (CSV, TSV, TXT).
 */
#include "opendata/catalog/catalog_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/env.h"
#include "web/page.h"
#include "core/log.h"
#include "core/str.h"
#include "http/upload.h"
#include "opendata/access/access.h"
#include "opendata/datastore/datastore.h"

#define NAME_MAX_BYTES 200  /* a shown file name, in bytes of UTF-8 */
#define HEAD_BYTES     4096 /* what the type is found from */

const struct dg_upload *dg_od_file_upload(const struct dg_req *r)
{
	for (size_t i = 0; i < r->nuploads; i++)
		if (strcmp(r->uploads[i].field, "upload") == 0)
			return &r->uploads[i];
	return NULL;
}

static const char *dir_of(struct dg_req *r, const char *rid)
{
	return dg_arena_printf(r->arena, "%s/resources/%s", r->env->cfg->data_dir, rid);
}

/*
 * The client's file name made safe to show and to put in a URL segment: its
 * last path part, control characters and / \ " ; % turned into "_", at most
 * NAME_MAX_BYTES of valid UTF-8; "file" when nothing is left.
 */
static const char *safe_name(struct dg_arena *a, const char *given)
{
	const char *base = given ? given : "";
	for (const char *p = base; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	size_t n = strlen(base);
	while (n > NAME_MAX_BYTES || (n > 0 && !dg_utf8_valid(base, n)))
		n--; /* cut back to a whole character */
	char *out = dg_arena_strndup(a, base, n);
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || strchr("/\\\";%", *p))
			*p = '_';
	return out[0] && strcmp(out, ".") && strcmp(out, "..") ? out : "file";
}

/* name percent-encoded for a path segment (RFC 3986 unreserved bytes kept). */
static const char *pct_encode(struct dg_arena *a, const char *name)
{
	char *out = dg_arena_alloc(a, strlen(name) * 3 + 1), *o = out;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p))
			*o++ = (char)*p;
		else
			o += snprintf(o, 4, "%%%02X", *p);
	}
	*o = '\0';
	return out;
}

static const char *ext_of(const char *name)
{
	const char *dot = strrchr(name, '.');
	return dot ? dot + 1 : "";
}

/* Text formats by extension, then what the first bytes of a text file look like. */
static void type_of_text(const char *ext, const unsigned char *h, size_t n, struct dg_od_file *f)
{
	static const char *const by_ext[][3] = {
		{"csv", "CSV", "text/csv"},
		{"tsv", "TSV", "text/tab-separated-values"},
		{"tab", "TSV", "text/tab-separated-values"},
		{"json", "JSON", "application/json"},
		{"geojson", "GeoJSON", "application/geo+json"},
		{"xml", "XML", "application/xml"},
		{"rdf", "RDF", "application/rdf+xml"},
		{"ttl", "TTL", "text/turtle"},
		{"txt", "TXT", "text/plain"},
		{"md", "MD", "text/markdown"},
		{"html", "HTML", "text/html"},
	};
	for (size_t i = 0; i < sizeof by_ext / sizeof by_ext[0]; i++)
		if (strcasecmp(ext, by_ext[i][0]) == 0) {
			f->format = by_ext[i][1];
			f->mimetype = by_ext[i][2];
			return;
		}
	size_t i = 0;
	while (i < n && strchr(" \t\r\n", h[i]))
		i++;
	if (i < n && (h[i] == '{' || h[i] == '[')) {
		f->format = "JSON", f->mimetype = "application/json";
	} else if (i < n && h[i] == '<') {
		f->format = "XML", f->mimetype = "application/xml";
	} else if (memchr(h, '\t', n)) {
		f->format = "TSV", f->mimetype = "text/tab-separated-values";
	} else if (memchr(h, ',', n)) {
		f->format = "CSV", f->mimetype = "text/csv";
	} else {
		f->format = "TXT", f->mimetype = "text/plain";
	}
}

void dg_od_guess_type(const char *url, const char **format, const char **mimetype)
{
	static const char *const by_ext[][3] = {
		{"csv", "CSV", "text/csv"},
		{"tsv", "TSV", "text/tab-separated-values"},
		{"json", "JSON", "application/json"},
		{"geojson", "GeoJSON", "application/geo+json"},
		{"jsonld", "JSON-LD", "application/ld+json"},
		{"xml", "XML", "application/xml"},
		{"rdf", "RDF", "application/rdf+xml"},
		{"ttl", "TTL", "text/turtle"},
		{"txt", "TXT", "text/plain"},
		{"html", "HTML", "text/html"},
		{"htm", "HTML", "text/html"},
		{"pdf", "PDF", "application/pdf"},
		{"zip", "ZIP", "application/zip"},
		{"xlsx", "XLSX",
		 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
		{"xls", "XLS", "application/vnd.ms-excel"},
		{"ods", "ODS", "application/vnd.oasis.opendocument.spreadsheet"},
		{"docx", "DOCX",
		 "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"doc", "DOC", "application/msword"},
		{"kml", "KML", "application/vnd.google-earth.kml+xml"},
		{"png", "PNG", "image/png"},
		{"jpg", "JPEG", "image/jpeg"},
		{"jpeg", "JPEG", "image/jpeg"},
		{"parquet", "Parquet", "application/vnd.apache.parquet"},
	};
	*format = *mimetype = NULL;
	/* the last path segment's extension, before any query or fragment */
	size_t end = strcspn(url, "?#");
	const char *dot = NULL;
	for (size_t i = 0; i < end; i++)
		if (url[i] == '.')
			dot = url + i;
		else if (url[i] == '/')
			dot = NULL;
	if (!dot)
		return;
	size_t n = (size_t)(url + end - (dot + 1));
	for (size_t i = 0; i < sizeof by_ext / sizeof by_ext[0]; i++)
		if (strlen(by_ext[i][0]) == n && strncasecmp(dot + 1, by_ext[i][0], n) == 0) {
			*format = by_ext[i][1];
			*mimetype = by_ext[i][2];
			return;
		}
}

/* mimetype and format of the file at path named name. */
static void type_of(const char *path, const char *name, struct dg_od_file *f)
{
	unsigned char h[HEAD_BYTES];
	ssize_t got = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		got = read(fd, h, sizeof h);
		close(fd);
	}
	size_t n = got > 0 ? (size_t)got : 0;
	const char *ext = ext_of(name), *sniffed = dg_upload_sniff(h, n);
	f->format = "", f->mimetype = "application/octet-stream";
	if (sniffed && strcmp(sniffed, "application/zip") == 0 && strcasecmp(ext, "xlsx") == 0)
		f->format = "XLSX",
		f->mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
	else if (sniffed && strcmp(sniffed, "application/x-ole-storage") == 0 &&
		 strcasecmp(ext, "xls") == 0)
		f->format = "XLS", f->mimetype = "application/vnd.ms-excel";
	else if (sniffed)
		f->format = dg_upload_format(sniffed), f->mimetype = sniffed;
	else if (!memchr(h, '\0', n) && dg_utf8_valid((const char *)h, n > 3 ? n - 3 : n))
		type_of_text(ext, h, n, f); /* the last bytes may cut a character */
}

/* n bytes as "12.3 MiB" (or KiB, or bytes). */
static const char *human(struct dg_arena *a, uint64_t n)
{
	if (n >= (uint64_t)1 << 20)
		return dg_arena_printf(a, "%.1f MiB", (double)n / (1 << 20));
	if (n >= 1024)
		return dg_arena_printf(a, "%.1f KiB", (double)n / 1024);
	return dg_arena_printf(a, "%llu bytes", (unsigned long long)n);
}

dg_rc dg_od_file_keep(struct dg_req *r, const char *pkg_id, const char *rid,
		      const struct dg_upload *up, struct dg_od_file *out, struct dg_err *err)
{
	char key[33], hash[65];
	size_t cap = r->env->cfg->max_resource;
	memset(out, 0, sizeof *out);
	if (!dg_od_id_ok(rid) || !dg_od_id_ok(pkg_id))
		return dg_err_set(err, DG_EINVAL, "The resource id cannot name a file");
	if (up->size == 0)
		return dg_err_field(err, DG_EINVAL, "upload", "The uploaded file is empty");
	if (cap && up->size > cap)
		return dg_err_field(
			err, DG_ETOOBIG, "upload",
			"The file is %s, over this site's limit of %s for a resource file",
			human(r->arena, up->size), human(r->arena, cap));
	out->name = safe_name(r->arena, up->filename);
	type_of(up->path, out->name, out);
	if (dg_upload_keep(up, dir_of(r, rid), key, hash) != DG_OK) {
		dg_error("req=%s could not keep an upload for resource %s: %s", r->id, rid,
			 strerror(errno));
		return dg_err_field(err, DG_EIO, "upload", "The file could not be stored");
	}
	out->key = dg_arena_strdup(r->arena, key);
	out->hash = dg_arena_strdup(r->arena, hash);
	out->size = (int64_t)up->size;
	out->url = dg_arena_printf(r->arena, "/dataset/%s/resource/%s/download/%s", pkg_id, rid,
				   pct_encode(r->arena, out->name));
	return DG_OK;
}

void dg_od_file_discard(struct dg_req *r, const char *rid, const struct dg_od_file *f)
{
	if (!f || !f->key || !dg_od_id_ok(rid))
		return;
	const char *dir = dir_of(r, rid);
	if (unlink(dg_arena_printf(r->arena, "%s/%s", dir, f->key)) != 0 && errno != ENOENT)
		dg_warn("req=%s could not remove a file of resource %s", r->id, rid);
	rmdir(dir); /* only when it is empty: an older file may still be in force */
}

/* Remove every file of rid's folder but keep (NULL: all, and the folder). */
static void remove_but(struct dg_req *r, const char *rid, const char *keep)
{
	const char *dir = dir_of(r, rid);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || (keep && strcmp(e->d_name, keep) == 0))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) != 0)
			dg_warn("req=%s could not remove an old file of resource %s", r->id, rid);
	}
	closedir(d);
	if (!keep)
		rmdir(dir);
}

/* ---- links as clients see them ---- */

/* An uploaded file's link, and a link to the site's own dump (the demo's), made absolute. */
static void resource_link(json_t *res, const char *site)
{
	const char *type = json_string_value(json_object_get(res, "url_type"));
	const char *url = json_string_value(json_object_get(res, "url"));
	if (url && url[0] == '/' && url[1] != '/' &&
	    ((type && strcmp(type, "upload") == 0) || strncmp(url, "/datastore/dump/", 16) == 0))
		json_object_set_new(res, "url", json_sprintf("%s%s", site, url));
}

static void package_links(json_t *pkg, const char *site)
{
	size_t i;
	json_t *res;
	json_array_foreach (json_object_get(pkg, "resources"), i, res)
		resource_link(res, site);
}

void dg_od_links_absolute(struct dg_req *r, json_t *v)
{
	char buf[DG_SITE_URL_MAX];
	const char *site = dg_config_site_url(r->env->cfg, buf);
	json_t *list = json_object_get(v, "results");
	if (!json_is_array(list))
		list = json_object_get(v, "packages");
	size_t i;
	json_t *pkg;
	json_array_foreach (list, i, pkg)
		package_links(pkg, site);
	if (json_is_array(json_object_get(v, "resources")))
		package_links(v, site);
	else if (json_object_get(v, "url_type"))
		resource_link(v, site);
}

const char *dg_od_link_relative(struct dg_req *r, const char *url)
{
	char buf[DG_SITE_URL_MAX];
	const char *site = dg_config_site_url(r->env->cfg, buf);
	size_t n = strlen(site);
	if (url && strncmp(url, site, n) == 0 && strncmp(url + n, "/dataset/", 9) == 0)
		return url + n;
	return url;
}

void dg_od_file_remove_all(struct dg_req *r, const char *rid)
{
	if (dg_od_id_ok(rid))
		remove_but(r, rid, NULL);
}

dg_rc dg_od_file_saved(struct dg_req *r, struct dg_db *db, const char *rid,
		       const struct dg_od_file *f, int64_t *job_id)
{
	*job_id = 0;
	if (!dg_od_id_ok(rid))
		return DG_EINVAL;
	remove_but(r, rid, f->key);
	if (strcmp(f->format, "CSV") != 0 && strcmp(f->format, "TSV") != 0)
		return DG_OK;
	json_t *opts = strcmp(f->format, "TSV") == 0 ? json_pack("{s:b}", "tabs", 1) : NULL;
	const char *path = dg_arena_printf(r->arena, "%s/%s", dir_of(r, rid), f->key);
	dg_rc rc =
		dg_datastore_load_enqueue(db, rid, path, opts, r->user ? r->user->id : 0, job_id);
	json_decref(opts);
	return rc;
}

void dg_od_file_apply(const struct dg_od_file *f, struct dg_od_res_in *in)
{
	in->url = f->url;
	in->url_type = "upload";
	in->size = f->size;
	in->hash = f->hash;
	in->mimetype = f->mimetype;
	in->file_key = f->key;
	in->file_name = f->name;
	if (!in->format || !in->format[0])
		in->format = f->format;
	if (!in->name || !in->name[0])
		in->name = f->name;
}

/*
 * Content-Disposition for name (RFC 6266): an ASCII fallback in quotes, and
 * the UTF-8 name percent-encoded in filename* (RFC 5987/8187).
 */
static const char *disposition(struct dg_arena *a, const char *name)
{
	char *ascii = dg_arena_strdup(a, name);
	for (char *p = ascii; *p; p++)
		if ((unsigned char)*p >= 0x80 || *p == '"' || *p == '\\')
			*p = '_';
	return dg_arena_printf(a, "attachment; filename=\"%s\"; filename*=UTF-8''%s", ascii,
			       pct_encode(a, name));
}

dg_rc dg_od_file_download(struct dg_req *r)
{
	dg_od_cors(r);
	const char *pkg = dg_kvs_get(&r->params, "pkg"), *rid = dg_kvs_get(&r->params, "rid");
	struct dg_od_caller caller;
	struct dg_od_file_row row;
	struct dg_db *db = NULL;
	dg_rc rc = dg_od_access_gate(r, NULL, false, &caller);
	if (rc)
		return r->replied ? DG_OK : rc; /* a refusal already made, or a store failure */
	if ((rc = dg_req_db(r, &db)) != DG_OK)
		return rc;
	rc = dg_od_id_ok(rid) ? dg_od_file_find(db, rid, r->arena, &row) : DG_ENOTFOUND;
	if (rc == DG_OK && strcmp(pkg, row.package_id) != 0 && strcmp(pkg, row.package_name) != 0)
		rc = DG_ENOTFOUND;
	if (rc == DG_ENOTFOUND)
		return dg_err_set(&r->err, rc, "No such file.");
	/* the dataset's read rules, as for its rows: closed/private 404, conditional a grant */
	if (rc == DG_OK)
		rc = dg_datastore_check(r, db, rid, false, false, &r->err);
	if (rc)
		return rc;
	const char *path = dg_arena_printf(r->arena, "%s/%s", dir_of(r, rid), row.file_key);
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		dg_error("req=%s the file of resource %s is missing", r->id, rid);
		return dg_err_set(&r->err, DG_ENOTFOUND, "No such file.");
	}
	dg_reply_file(r, 200, row.mimetype[0] ? row.mimetype : "application/octet-stream", fd,
		      (uint64_t)st.st_size);
	dg_reply_header(r, "Content-Disposition", disposition(r->arena, row.file_name));
	dg_reply_header(r, "X-Content-Type-Options", "nosniff");
	if (dg_od_count(r, db, DG_OD_DOWNLOAD, "", rid, caller.app_id) != DG_OK)
		dg_warn("req=%s could not count the download", r->id);
	return DG_OK;
}
