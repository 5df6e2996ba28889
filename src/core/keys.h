/*
 * keys.h - the node's secrets and the protection of personal identifiers.
 *
 * One 32-byte master key, from DGOV_KEY (64 hex characters) or the key file
 * (created on first run with mode 0600), from which every working key is
 * derived with crypto_kdf: one to seal personal identifiers (secretbox), one
 * for blind indexes (keyed BLAKE2b, so an ID number can be looked up without
 * being stored in clear), one for CSRF tokens, and the node's Ed25519
 * signing pair. Keys never leave memory and are wiped on release.
 */
#ifndef DG_CORE_KEYS_H
#define DG_CORE_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/err.h"

struct dg_keys {
	unsigned char seal[32];  /* crypto_secretbox key */
	unsigned char index[32]; /* crypto_generichash key for blind indexes */
	unsigned char csrf[32];  /* crypto_generichash key for CSRF tokens */
	unsigned char sign_pk[32];
	unsigned char sign_sk[64];
};

/* key_hex (may be NULL) wins over key_file; the file is created when missing. */
dg_rc dg_keys_load(struct dg_keys *k, const char *key_hex, const char *key_file,
		   struct dg_err *err) DG_MUST;
void dg_keys_release(struct dg_keys *k);

/* Seal plaintext: base64 of nonce||ciphertext, in the arena. */
char *dg_pii_seal(const struct dg_keys *k, struct dg_arena *a, const char *plain);
/* Open what dg_pii_seal made; EINVAL when it was tampered with or not ours. */
dg_rc dg_pii_open(const struct dg_keys *k, struct dg_arena *a, const char *sealed,
		  char **plain) DG_MUST;
/*
 * Blind index of a value within a kind ("id", "phone", ...): 32 hex chars,
 * the same for the same kind and value under the same key.
 */
char *dg_pii_index(const struct dg_keys *k, struct dg_arena *a, const char *kind,
		   const char *value);

/* "110101199001011234" -> "110101********1234"; short values become all '*'. */
char *dg_mask_id(struct dg_arena *a, const char *id);
/* "13812345678" -> "138****5678". */
char *dg_mask_phone(struct dg_arena *a, const char *phone);

/* Format checks: 18-character resident ID with a valid check digit; 11-digit mobile; USCC. */
bool dg_id_number_valid(const char *s);
bool dg_phone_valid(const char *s);
bool dg_uscc_valid(const char *s);

/*
 * Check characters of Chinese identifiers, for building valid values (the
 * demo region, tests): GB 11643's of the first 17 digits of an ID number
 * ('0'-'9' or 'X'; 0 if they are not digits), GB 32100's of the first 17
 * USCC characters (0 if one is not in the alphabet).
 */
char dg_id_check_char(const char *first17);
char dg_uscc_check_char(const char *first17);

#endif
