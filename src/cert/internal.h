/*
 * internal.h - what the certificate module's files share: one certificate
 * as read from its row (struct cert_rec), the store functions (cert_sql.c),
 * and the canonical form, signing and checking (cert.c).
 *
 * The canonical JSON of a certificate (docs/certificates.md) is rebuilt from
 * the row's columns every time it is checked, so a change to any printed
 * column shows as a signature that no longer fits.
 */
#ifndef DG_CERT_INTERNAL_H
#define DG_CERT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/keys.h"
#include "cert/cert.h"
#include "core/arena.h"

#define CERT_FORMAT            "dgov-cert/1"
#define CERT_REVOCATION_FORMAT "dgov-cert-revocation/1"
#define CERT_ID_LEN            25 /* "CERT-" + 20 base32 characters */
#define CERT_MAX_FIELDS        12
#define CERT_LIST_MAX          200 /* certificates listed on one page */

/* One certificate row; strings live in the arena it was read into ("" for NULL). */
struct cert_rec {
	const char *id, *item_code, *title_zh, *title_en, *holder_name, *case_ref, *issuer;
	const char *dept_code, *dept_name_zh, *dept_name_en;
	const char *fields;      /* JSON object text, in the issuer's order */
	const char *valid_from;  /* YYYY-MM-DD */
	const char *valid_until; /* YYYY-MM-DD, or "" for no expiry */
	const char *payload, *signature, *key_id;
	const char *revoke_reason, *revoke_sig;
	int64_t holder_user_id, dept_id, issued_ms;
	int64_t revoked_ms, revoked_by; /* 0 when not revoked */
	bool revoked_ms_null;
};

/* ---- cert_sql.c ---- */
dg_rc cert_insert(struct dg_db *db, const struct cert_rec *c) DG_MUST;
/* ENOTFOUND when there is no such id. */
dg_rc cert_load(struct dg_db *db, struct dg_arena *a, const char *id, struct cert_rec *out) DG_MUST;
/* A holder's certificates, newest first, at most CERT_LIST_MAX. */
dg_rc cert_list_holder(struct dg_db *db, struct dg_arena *a, int64_t user_id, struct cert_rec **out,
		       size_t *n) DG_MUST;
/* Record a revocation unless there is one; ECONFLICT when there was. */
dg_rc cert_set_revoked(struct dg_db *db, const char *id, int64_t ms, int64_t by, const char *reason,
		       const char *sig) DG_MUST;
/* The node's region code from the region table ("" when none). */
dg_rc cert_region_code(struct dg_db *db, struct dg_arena *a, const char **out) DG_MUST;
/* A department's code and names; ENOTFOUND when none. */
dg_rc cert_dept(struct dg_db *db, struct dg_arena *a, int64_t dept_id, const char **code,
		const char **name_zh, const char **name_en) DG_MUST;
/* ENOTFOUND when there is no such account. */
dg_rc cert_user_exists(struct dg_db *db, int64_t user_id) DG_MUST;

/* ---- cert.c ---- */
/* "CERT-" + 20 characters of A-Z2-7. */
bool cert_id_valid(const char *id);
/* The canonical JSON of c (malloc'd, never NULL). */
char *cert_canonical(const struct cert_rec *c, const struct dg_keys *k);
/* The canonical JSON of c's revocation record (malloc'd, never NULL). */
char *cert_revocation_canonical(const struct cert_rec *c);
/* Base64 (standard alphabet, padded) of the Ed25519 signature of text. */
char *cert_sign(const struct dg_keys *k, struct dg_arena *a, const char *text);
/* True when sig_b64 is a valid signature of text under the node's key. */
bool cert_sig_ok(const struct dg_keys *k, const char *text, const char *sig_b64);
/* Check a stored certificate as dg_cert_verify does. */
enum dg_cert_status cert_check(const struct cert_rec *c, const struct dg_keys *k, dg_day today);
/* "张三" -> "张*", "Zhang San" -> "Z********": the first character, then one '*' per character. */
char *cert_mask_name(struct dg_arena *a, const char *name);
/* A local YYYY-MM-DD for a time in ms. */
void cert_day_of_ms(int64_t ms, char out[static 11]);

#endif
