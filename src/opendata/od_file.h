/*
 * od_file.h - files uploaded as a dataset's resources (od_file.c).
 *
 * An uploaded file is kept under <data>/resources/<resource id>/ (outside
 * anything served as static), with its size, SHA-256 and a type found from
 * its content. The resource then has url_type "upload" and the url
 * /dataset/<package id>/resource/<resource id>/download/<file name>, which
 * serves the original file to whoever may see the dataset (closed: its
 * department and administrators; conditional: also a granted app), each
 * download counted. A CSV or TSV file is also loaded into the DataStore by a
 * durable datastore.load job, so its table follows every re-upload.
 *
 * The CKAN actions (resource_create/update/patch with a multipart "upload")
 * and the staff's pages in the browser both go through these functions.
 */
#ifndef DG_OD_FILE_H
#define DG_OD_FILE_H

#include <stdint.h>

#include "core/err.h"
#include "http/req.h"
#include "opendata/od_write.h"
#include "store/store.h"

/* What a kept file gives its resource (arena strings of the request). */
struct dg_od_file {
	const char *url;      /* the download path above */
	const char *name;     /* the file name as shown (the client's, made safe) */
	const char *mimetype; /* from the content */
	const char *format;   /* CSV, TSV, JSON, XLSX, XLS, PDF, ZIP, XML, TXT... */
	const char *hash;     /* hex SHA-256 */
	const char *key;      /* the name it is kept under in the resource's folder */
	int64_t size;
};

/*
 * Keep upload up as the file of resource rid of dataset pkg_id (replacing
 * the one it had once the resource is saved). The file moves into place
 * under a new name; nothing refers to it until the caller saves the
 * resource. On a failure to save, the caller calls dg_od_file_discard.
 * EINVAL an empty file (field "upload"); ETOOBIG over the node's resource
 * cap; EIO when it cannot be stored. err has a message for the API.
 */
dg_rc dg_od_file_keep(struct dg_req *r, const char *pkg_id, const char *rid,
		      const struct dg_upload *up, struct dg_od_file *out, struct dg_err *err) DG_MUST;

/* Remove a kept file that no resource came to refer to. */
void dg_od_file_discard(struct dg_req *r, const char *rid, const struct dg_od_file *f);

/*
 * The kept file as the resource's: url, url_type "upload", size, hash,
 * mimetype and the file's key and name; format and name too when in has none.
 */
void dg_od_file_apply(const struct dg_od_file *f, struct dg_od_res_in *in);

/* Remove every file of resource rid (deleted, purged, or turned into a link). */
void dg_od_file_remove_all(struct dg_req *r, const char *rid);

/*
 * GET /dataset/{pkg}/resource/{rid}/download/{filename}: the file, streamed,
 * to whoever may read the dataset's rows (dg_datastore_check), counted as a
 * download; 404 for a resource with no file or a dataset the requester may
 * not see. {filename} is not checked (CKAN's links may carry an older name).
 */
dg_rc dg_od_file_download(struct dg_req *r) DG_MUST;

/*
 * After the resource is saved: remove the resource's older files, and for a
 * CSV or TSV queue its load into the DataStore (*job_id, 0 when none).
 */
dg_rc dg_od_file_saved(struct dg_req *r, struct dg_db *db, const char *rid,
		       const struct dg_od_file *f, int64_t *job_id) DG_MUST;

/* The upload named "upload" of a multipart request, or NULL. */
const struct dg_upload *dg_od_file_upload(const struct dg_req *r);

#endif
