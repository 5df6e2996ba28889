/*
 * cert.h - electronic certificates (电子证照): structured data signed with the
 * node's Ed25519 key, verifiable by anyone from a QR code, printable as PDF,
 * revocable by the issuing department.
 *
 * A certificate is issued by the case-handling code when a case is approved,
 * inside that code's transaction, so a case is never approved without its
 * certificate nor a certificate left without its case.
 */
#ifndef DG_CERT_H
#define DG_CERT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "core/err.h"
#include "http/router.h"
#include "store/store.h"
#include "node/module.h"

struct dg_keys;

extern const struct dg_migration dg_cert_migrations[];

/*
 * Pages and API: /certificates/{id} (public verification page, QR target),
 * /certificates/{id}/qr.svg, /certificates/{id}/pdf (holder, issuing staff,
 * administrators), /my/certificates, POST /certificates/{id}/revoke (staff of
 * the issuing department, administrators), GET /api/v1/certificates/{id} (the
 * signed document), GET /api/v1/certificates/{id}/verify, GET and POST
 * /api/v1/certificates/verify (check a presented copy),
 * GET /.well-known/dgov-signing-key. docs/certificates.md has the formats.
 */
const struct dg_route *dg_cert_routes(size_t *n);

/*
 * What a certificate says. Strings are borrowed for the call; text is UTF-8
 * without control characters. Limits: item_code and case_ref 64 bytes, titles
 * and holder_name 200 bytes, at most 12 fields, a label 60 bytes, a value 200
 * bytes (strings; integers are printed as decimal text).
 */
struct dg_cert_in {
	const char *item_code;   /* the service item it results from */
	const char *title_zh;    /* e.g. "高龄津贴核定通知书" */
	const char *title_en;    /* may be NULL or "": pages then show title_zh */
	int64_t holder_user_id;  /* the applicant's account (the holder) */
	const char *holder_name; /* as printed */
	int64_t dept_id;         /* the issuing department */
	const char *case_ref;    /* the case that led to it ("" when none) */
	json_t *fields;     /* borrowed: an object of label -> text printed on it, may be NULL */
	dg_day valid_from;  /* usually the day of approval */
	dg_day valid_until; /* 0: no expiry */
};

/*
 * Issue a certificate inside the caller's open transaction on db: assigns an
 * id ("CERT-" + 20 base32 characters, unguessable), signs the canonical JSON
 * of its fields with keys->sign_sk and stores it. id_out receives the id.
 * EINVAL (naming the field) for missing data, data over the limits, or a
 * holder or department that does not exist; EDB when the store fails (the
 * caller's transaction should then be rolled back).
 */
dg_rc dg_cert_issue(struct dg_db *db, const struct dg_keys *keys, const struct dg_cert_in *in,
		    char id_out[static 48], struct dg_err *err) DG_MUST;

/*
 * What a check of a stored certificate found, in order of precedence:
 * TAMPERED (a column no longer matches the signature, or the revocation
 * record is not the one signed), REVOKED, NOT_YET_VALID, EXPIRED, VALID.
 */
enum dg_cert_status {
	DG_CERT_VALID,
	DG_CERT_NOT_YET_VALID,
	DG_CERT_EXPIRED,
	DG_CERT_REVOKED,
	DG_CERT_TAMPERED,
};

/* "valid", "not_yet_valid", "expired", "revoked", "tampered". */
const char *dg_cert_status_name(enum dg_cert_status s);

/*
 * Check the certificate id as stored on db on the day today: the canonical
 * JSON is rebuilt from the columns and its signature checked with the node's
 * public key. ENOTFOUND when there is no such certificate.
 */
dg_rc dg_cert_verify(struct dg_db *db, const struct dg_keys *keys, const char *id, dg_day today,
		     enum dg_cert_status *out) DG_MUST;

/*
 * Revoke inside the caller's open transaction: records who, when and why,
 * and signs that record. Whether by_user_id may do it is the caller's check.
 * EINVAL (field "reason") for an empty reason, one over 600 bytes or with
 * control characters,
 * ENOTFOUND, ECONFLICT when it is revoked already.
 */
dg_rc dg_cert_revoke(struct dg_db *db, const struct dg_keys *keys, const char *id,
		     int64_t by_user_id, const char *reason, struct dg_err *err) DG_MUST;

/*
 * The certificates user_id holds (at most 200, newest first), only those
 * item_code issued unless it is NULL, each as checked on today (owned):
 * [{id, item_code, title_zh, title_en, dept_code, dept_name_zh,
 * dept_name_en, valid_from, valid_until (null: no expiry), issued_ms,
 * status (dg_cert_status_name), key_id, signature, payload_sha256 (hex of
 * SHA-256 of the signed text)}]. What is printed on them (holder's name,
 * fields) is left out: a reference and its hash, not a copy.
 */
dg_rc dg_cert_held(struct dg_db *db, const struct dg_keys *keys, int64_t user_id,
		   const char *item_code, dg_day today, json_t **out) DG_MUST;

/* The signing key's id: hex of the first 8 bytes of SHA-256 of the public key. */
void dg_cert_key_id(const struct dg_keys *keys, char out[static 17]);

/* The cert module: its tables, routes, jobs and demo data, for src/app. */
extern const struct dg_module dg_cert_module;

#endif
