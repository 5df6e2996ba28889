/*
 * upload.h - keeping an uploaded file for good (upload.c).
 *
 * A multipart file part arrives as a temporary file that is deleted with the
 * request (multipart.h). A module that keeps it (a case's documents, a
 * dataset's resource files) hashes it and moves it into a folder of its own
 * under a new random name, with this one function, so both keep files the
 * same way: outside anything served as static, mode 0600 in 0700 folders.
 */
#ifndef DG_UPLOAD_H
#define DG_UPLOAD_H

#include "core/err.h"
#include "http/req.h"

/*
 * Hash u's temporary file (SHA-256, lower-case hex into hash) and move it to
 * dir/name, name being 32 random hex characters chosen here. dir is made
 * when missing, and so is its parent (not further up). Afterwards u->path
 * names no file. EIO when the file cannot be read or moved or dir made; the
 * temporary file is then left for the request's cleanup.
 */
dg_rc dg_upload_keep(const struct dg_upload *u, const char *dir, char name[33],
		     char hash[65]) DG_MUST;

/*
 * The media type of a file from its first n bytes, for the binary formats
 * whose signature says what they are (PDF, JPEG, PNG, GIF, ZIP, OLE2,
 * gzip), else NULL (text, or unknown). ZIP and OLE2 are containers: their
 * types are "application/zip" and "application/x-ole-storage".
 */
const char *dg_upload_sniff(const unsigned char *p, size_t n);
/* The short format name of a type dg_upload_sniff gives ("PDF", "ZIP"...), or "". */
const char *dg_upload_format(const char *mimetype);

#endif
