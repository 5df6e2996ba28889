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

struct dg_keys;

extern const struct dg_migration dg_cert_migrations[];

/*
 * Pages and API: /certificates/{id} (public verification page, QR target),
 * /certificates/{id}/qr.svg, /certificates/{id}.pdf (holder, issuing staff),
 * /my/certificates, POST /certificates/{id}/revoke (staff of the issuing
 * department), GET /api/v1/certificates/{id}, GET /api/v1/certificates/{id}/verify,
 * GET /.well-known/dgov-signing-key.
 */
const struct dg_route *dg_cert_routes(size_t *n);

/* What a certificate says. Strings are borrowed for the call. */
struct dg_cert_in {
	const char *item_code;   /* the service item it results from */
	const char *title_zh;    /* e.g. "高龄津贴核定通知书" */
	const char *title_en;
	int64_t holder_user_id;  /* the applicant's account (the holder) */
	const char *holder_name; /* as printed */
	int64_t dept_id;         /* the issuing department */
	const char *case_ref;    /* the case that led to it ("" when none) */
	json_t *fields;          /* borrowed: an object of label -> text printed on it, may be NULL */
	dg_day valid_from;       /* usually the day of approval */
	dg_day valid_until;      /* 0: no expiry */
};

/*
 * Issue a certificate inside the caller's open transaction on db: assigns an
 * id ("CERT-" + 20 base32 characters, unguessable), signs the canonical JSON
 * of its fields with keys->sign_sk and stores it. id_out receives the id.
 * EINVAL (naming the field) for missing data.
 */
dg_rc dg_cert_issue(struct dg_db *db, const struct dg_keys *keys, const struct dg_cert_in *in,
		    char id_out[static 48], struct dg_err *err) DG_MUST;

#endif
