/*
 * sign.c - evidence of an exchange: the request hash and the node's
 * Ed25519 signature over it and the answer, so the caller can prove later
 * what it asked and what it was given (X-Road's request hash and signed
 * message log, in one envelope).
 *
 * The request hash is base64 SHA-512 of the call's canonical text: method,
 * path, the fields and page asked for, client, purpose, request id, user
 * and run, one per line. The signature covers "dgov-exchange-v1\n", the
 * request hash, "\n" and the answer as compact JSON with sorted keys; the
 * answer holds only strings, integers, booleans, nulls, arrays and objects,
 * so it serialises the same way again after a round trip.
 */
#include "exchange/internal.h"

#include <sodium.h>
#include <string.h>

#include "core/buf.h"

char *x_request_hash(struct dg_arena *a, const char *method, const char *path,
		     const struct x_call *c)
{
	struct dg_buf b;
	dg_buf_init(&b, 1 << 16);
	dg_rc rc = dg_buf_addf(&b, "%s\n%s\n", method, path);
	for (int i = 0; !rc && i < c->nfields; i++)
		rc = dg_buf_addf(&b, "%s%s", i ? "," : "", c->fields[i]);
	if (!rc)
		rc = dg_buf_addf(&b, "\n%lld\n%s\n%s/%s\n%s\n%s\n%lld\n%s\n", (long long)c->limit,
				 c->after ? c->after : "", c->dept, c->system, c->purpose,
				 c->request_id, (long long)c->user_id, c->run ? c->run : "");
	unsigned char h[crypto_hash_sha512_BYTES];
	crypto_hash_sha512(h, (const unsigned char *)dg_buf_str(&b), b.len);
	dg_buf_release(&b);
	size_t n = sodium_base64_ENCODED_LEN(sizeof h, sodium_base64_VARIANT_ORIGINAL);
	char *out = dg_arena_alloc(a, n);
	sodium_bin2base64(out, n, h, sizeof h, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

/* The signed text of request_hash and answer (malloc'd), or NULL. */
static char *signed_text(const char *request_hash, json_t *answer, size_t *len)
{
	char *body = json_dumps(answer, JSON_COMPACT | JSON_SORT_KEYS);
	if (!body)
		return NULL;
	struct dg_buf b;
	dg_buf_init(&b, (size_t)64 << 20);
	dg_rc rc = dg_buf_addf(&b, "dgov-exchange-v1\n%s\n", request_hash);
	if (!rc)
		rc = dg_buf_adds(&b, body);
	free(body);
	if (rc) {
		dg_buf_release(&b);
		return NULL;
	}
	*len = b.len;
	return dg_buf_take(&b);
}

json_t *x_sign(const struct dg_keys *k, const char *request_hash, json_t *answer)
{
	size_t len = 0;
	char *text = signed_text(request_hash, answer, &len);
	unsigned char sig[crypto_sign_BYTES];
	char sig64[sodium_base64_ENCODED_LEN(crypto_sign_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	char pk[65];
	if (text)
		crypto_sign_detached(sig, NULL, (const unsigned char *)text, len, k->sign_sk);
	else
		memset(sig, 0, sizeof sig);
	free(text);
	sodium_bin2base64(sig64, sizeof sig64, sig, sizeof sig, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2hex(pk, sizeof pk, k->sign_pk, sizeof k->sign_pk);
	return json_pack("{s:s,s:O,s:s,s:s}", "request_hash", request_hash, "answer", answer,
			 "signature", sig64, "key", pk);
}

bool x_verify(const struct dg_keys *k, json_t *env)
{
	const char *rh = json_string_value(json_object_get(env, "request_hash"));
	const char *s64 = json_string_value(json_object_get(env, "signature"));
	json_t *answer = json_object_get(env, "answer");
	unsigned char sig[crypto_sign_BYTES];
	size_t n = 0;
	if (!rh || !s64 || !json_is_object(answer) ||
	    sodium_base642bin(sig, sizeof sig, s64, strlen(s64), NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n != sizeof sig)
		return false;
	size_t len = 0;
	char *text = signed_text(rh, answer, &len);
	bool ok = text && crypto_sign_verify_detached(sig, (const unsigned char *)text, len,
						      k->sign_pk) == 0;
	free(text);
	return ok;
}
