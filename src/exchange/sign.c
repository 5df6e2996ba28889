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

/* a signature as base64, with its NUL */
#define SIG64_LEN sodium_base64_ENCODED_LEN(crypto_sign_BYTES, sodium_base64_VARIANT_ORIGINAL)

static int add_dump(const char *p, size_t n, void *b)
{
	return dg_buf_add(b, p, n) ? -1 : 0;
}

/*
 * The signed text of request_hash and answer into b (initialised here,
 * released by the caller; at most 64 MiB): the answer is dumped straight
 * into it, and *body is where the answer's JSON starts.
 */
static dg_rc signed_text(const char *request_hash, json_t *answer, struct dg_buf *b, size_t *body)
{
	dg_buf_init(b, (size_t)64 << 20);
	dg_rc rc = dg_buf_addf(b, "dgov-exchange-v1\n%s\n", request_hash);
	*body = b->len;
	if (!rc && json_dump_callback(answer, add_dump, b, JSON_COMPACT | JSON_SORT_KEYS) != 0)
		rc = DG_ETOOBIG;
	return rc;
}

/* Sign request hash and answer: the signature (base64) and the node's key (hex); *b the signed
 * text (released by the caller). A text that could not be made is signed as all zeros. */
static dg_rc sign(const struct dg_keys *k, const char *request_hash, json_t *answer,
		  struct dg_buf *b, size_t *body, char sig64[SIG64_LEN], char pk[65])
{
	unsigned char sig[crypto_sign_BYTES];
	dg_rc rc = signed_text(request_hash, answer, b, body);
	if (!rc)
		crypto_sign_detached(sig, NULL, (const unsigned char *)b->ptr, b->len, k->sign_sk);
	else
		memset(sig, 0, sizeof sig);
	sodium_bin2base64(sig64, SIG64_LEN, sig, sizeof sig, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2hex(pk, 65, k->sign_pk, sizeof k->sign_pk);
	return rc;
}

json_t *x_sign(const struct dg_keys *k, const char *request_hash, json_t *answer)
{
	char sig64[SIG64_LEN], pk[65];
	struct dg_buf b;
	size_t body = 0;
	(void)sign(k, request_hash, answer, &b, &body, sig64, pk);
	dg_buf_release(&b);
	return json_pack("{s:s,s:O,s:s,s:s}", "request_hash", request_hash, "answer", answer,
			 "signature", sig64, "key", pk);
}

dg_rc x_sign_text(const struct dg_keys *k, const char *request_hash, json_t *answer,
		  struct dg_buf *out)
{
	char sig64[SIG64_LEN], pk[65];
	struct dg_buf b;
	size_t body = 0;
	dg_rc rc = sign(k, request_hash, answer, &b, &body, sig64, pk);
	dg_buf_init(out, b.max + 1024);
	/* the same keys in the same order as x_sign's envelope */
	if (!rc)
		rc = dg_buf_adds(out, "{\"request_hash\":");
	if (!rc)
		rc = dg_buf_add_json_str(out, request_hash, strlen(request_hash));
	if (!rc)
		rc = dg_buf_adds(out, ",\"answer\":");
	if (!rc)
		rc = dg_buf_add(out, b.ptr + body, b.len - body);
	if (!rc)
		rc = dg_buf_addf(out, ",\"signature\":\"%s\",\"key\":\"%s\"}", sig64, pk);
	dg_buf_release(&b);
	if (rc)
		dg_buf_release(out);
	return rc;
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
	struct dg_buf b;
	size_t body = 0;
	bool ok = !signed_text(rh, answer, &b, &body) &&
		  crypto_sign_verify_detached(sig, (const unsigned char *)b.ptr, b.len,
					      k->sign_pk) == 0;
	dg_buf_release(&b);
	return ok;
}
