/*
 * cert.c - issuing, signing, checking and revoking electronic certificates.
 *
 * The signed text is the certificate's canonical JSON: one object holding
 * every printed field, its id, the issuer (the node's region code) and the
 * issue time, written with keys sorted by byte order and no whitespace
 * (jansson's JSON_SORT_KEYS | JSON_COMPACT; text has no control characters,
 * so no escapes beyond \" and \\ ever appear). Ed25519 over those bytes, with
 * the node's signing key, is the signature. Anyone holding the public key
 * (GET /.well-known/dgov-signing-key) can check a copy offline.
 *
 * A check never trusts the stored payload alone: it rebuilds the canonical
 * text from the columns, requires it to equal the payload that was signed,
 * and checks the signature over it. A revocation is a second signed record,
 * so a forged or half-erased revocation shows as tampering too.
 */
#include "cert/internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/rand.h"
#include "core/str.h"

#define TEXT_MAX   200
#define CODE_MAX   64
#define LABEL_MAX  60
#define REASON_MAX 600 /* bytes: 200 Chinese characters */

const char *dg_cert_status_name(enum dg_cert_status s)
{
	switch (s) {
	case DG_CERT_VALID: return "valid";
	case DG_CERT_NOT_YET_VALID: return "not_yet_valid";
	case DG_CERT_EXPIRED: return "expired";
	case DG_CERT_REVOKED: return "revoked";
	case DG_CERT_TAMPERED: return "tampered";
	}
	return "tampered";
}

void dg_cert_key_id(const struct dg_keys *keys, char out[static 17])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, keys->sign_pk, sizeof(keys->sign_pk));
	sodium_bin2hex(out, 17, h, 8);
}

bool cert_id_valid(const char *id)
{
	if (!id || strlen(id) != CERT_ID_LEN || strncmp(id, "CERT-", 5) != 0)
		return false;
	for (const char *p = id + 5; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '2' && *p <= '7')))
			return false;
	return true;
}

/* 100 random bits as 20 characters of RFC 4648 base32. */
static void new_id(char out[48])
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char r[13];
	dg_rand_bytes(r, sizeof(r));
	memcpy(out, "CERT-", 5);
	for (int i = 0; i < 20; i++) {
		int bit = i * 5;
		unsigned v = ((unsigned)r[bit / 8] << 8 | r[bit / 8 + 1]) >> (11 - bit % 8);
		out[5 + i] = b32[v & 31];
	}
	out[CERT_ID_LEN] = '\0';
	sodium_memzero(r, sizeof(r));
}

/* An opaque reference binding the certificate to its holder's account. */
static void holder_ref(const struct dg_keys *k, const char *id, int64_t user_id, char out[33])
{
	char msg[128];
	int n = snprintf(msg, sizeof(msg), "dgov-cert-holder:%s:%lld", id, (long long)user_id);
	unsigned char h[16];
	crypto_generichash(h, sizeof(h), (const unsigned char *)msg, (size_t)n, k->index,
			   sizeof(k->index));
	sodium_bin2hex(out, 33, h, sizeof(h));
}

char *cert_canonical(const struct cert_rec *c, const struct dg_keys *k)
{
	char ref[33];
	holder_ref(k, c->id, c->holder_user_id, ref);
	json_t *fields = json_loads(c->fields, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(fields)) {
		/* a damaged column still gives a text, one that no signature fits */
		json_decref(fields);
		fields = json_string(c->fields);
	}
	json_t *o = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
		" s:o, s:s, s:o, s:I}",
		"format", CERT_FORMAT, "id", c->id, "issuer", c->issuer, "dept_code", c->dept_code,
		"dept_name_zh", c->dept_name_zh, "dept_name_en", c->dept_name_en, "item_code",
		c->item_code, "title_zh", c->title_zh, "title_en", c->title_en, "holder_name",
		c->holder_name, "holder_ref", ref, "case_ref", c->case_ref, "key_id", c->key_id,
		"fields", fields ? fields : json_null(), "valid_from", c->valid_from, "valid_until",
		*c->valid_until ? json_string(c->valid_until) : json_null(), "issued_ms",
		(json_int_t)c->issued_ms);
	char *s = o ? json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	json_decref(o);
	/* only invalid UTF-8 in a column can make packing fail: an unsignable text */
	return s ? s : strdup("{\"format\":\"damaged\"}");
}

char *cert_revocation_canonical(const struct cert_rec *c)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I}", "format", CERT_REVOCATION_FORMAT, "id",
			      c->id, "reason", c->revoke_reason, "revoked_by",
			      (json_int_t)c->revoked_by, "revoked_ms", (json_int_t)c->revoked_ms);
	char *s = o ? json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	json_decref(o);
	return s ? s : strdup("{\"format\":\"damaged\"}");
}

char *cert_sign(const struct dg_keys *k, struct dg_arena *a, const char *text)
{
	unsigned char sig[crypto_sign_BYTES];
	crypto_sign_detached(sig, NULL, (const unsigned char *)text, strlen(text), k->sign_sk);
	size_t n = sodium_base64_ENCODED_LEN(sizeof(sig), sodium_base64_VARIANT_ORIGINAL);
	char *out = dg_arena_alloc(a, n);
	sodium_bin2base64(out, n, sig, sizeof(sig), sodium_base64_VARIANT_ORIGINAL);
	return out;
}

bool cert_sig_ok(const struct dg_keys *k, const char *text, const char *sig_b64)
{
	unsigned char sig[crypto_sign_BYTES];
	size_t n = 0;
	if (!text || !sig_b64 || strlen(sig_b64) > 100)
		return false;
	if (sodium_base642bin(sig, sizeof(sig), sig_b64, strlen(sig_b64), NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n != sizeof(sig))
		return false;
	return crypto_sign_verify_detached(sig, (const unsigned char *)text, strlen(text),
					   k->sign_pk) == 0;
}

enum dg_cert_status cert_check(const struct cert_rec *c, const struct dg_keys *k, dg_day today)
{
	char *canon = cert_canonical(c, k);
	bool ok = strcmp(canon, c->payload) == 0 && cert_sig_ok(k, canon, c->signature);
	free(canon);
	if (!ok)
		return DG_CERT_TAMPERED;
	/* any trace of a revocation must be the whole signed record */
	if (!c->revoked_ms_null || *c->revoke_sig || *c->revoke_reason || c->revoked_by) {
		char *rv = cert_revocation_canonical(c);
		ok = !c->revoked_ms_null && cert_sig_ok(k, rv, c->revoke_sig);
		free(rv);
		return ok ? DG_CERT_REVOKED : DG_CERT_TAMPERED;
	}
	dg_day from = 0, until = 0;
	if (dg_day_parse(c->valid_from, &from) != DG_OK ||
	    (*c->valid_until && dg_day_parse(c->valid_until, &until) != DG_OK))
		return DG_CERT_TAMPERED;
	if (today < from)
		return DG_CERT_NOT_YET_VALID;
	if (*c->valid_until && today > until)
		return DG_CERT_EXPIRED;
	return DG_CERT_VALID;
}

char *cert_mask_name(struct dg_arena *a, const char *name)
{
	size_t n = strlen(name), first = 0;
	if (n == 0 || !dg_utf8_valid(name, n))
		return dg_arena_strdup(a, "*");
	first = 1;
	while (first < n && ((unsigned char)name[first] & 0xC0) == 0x80)
		first++;
	size_t stars = dg_utf8_len(name, n) - 1;
	if (stars == 0)
		stars = 1;
	char *out = dg_arena_alloc(a, first + stars + 1);
	memcpy(out, name, first);
	memset(out + first, '*', stars);
	return out;
}

void cert_day_of_ms(int64_t ms, char out[static 11])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	dg_day_format(dg_day_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday), out);
}

/* ---- issuing ----------------------------------------------------------------- */

/* Printable UTF-8 text of at most max bytes (required: at least one byte). */
static bool text_ok(const char *s, size_t max, bool required)
{
	if (!s)
		return !required;
	size_t n = strlen(s);
	if ((required && n == 0) || n > max || !dg_utf8_valid(s, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static dg_rc check_in(const struct dg_cert_in *in, struct dg_err *err)
{
	if (!text_ok(in->item_code, CODE_MAX, true))
		return dg_err_field(err, DG_EINVAL, "item_code",
				    "item_code: 1 to %d bytes of text are required", CODE_MAX);
	if (!text_ok(in->title_zh, TEXT_MAX, true))
		return dg_err_field(err, DG_EINVAL, "title_zh",
				    "title_zh: 1 to %d bytes of text are required", TEXT_MAX);
	if (!text_ok(in->title_en, TEXT_MAX, false))
		return dg_err_field(err, DG_EINVAL, "title_en",
				    "title_en: at most %d bytes of text", TEXT_MAX);
	if (in->holder_user_id <= 0)
		return dg_err_field(err, DG_EINVAL, "holder_user_id",
				    "holder_user_id: the holder's account is required");
	if (!text_ok(in->holder_name, TEXT_MAX, true))
		return dg_err_field(err, DG_EINVAL, "holder_name",
				    "holder_name: 1 to %d bytes of text are required", TEXT_MAX);
	if (in->dept_id <= 0)
		return dg_err_field(err, DG_EINVAL, "dept_id",
				    "dept_id: the issuing department is required");
	if (!text_ok(in->case_ref, CODE_MAX, false))
		return dg_err_field(err, DG_EINVAL, "case_ref",
				    "case_ref: at most %d bytes of text", CODE_MAX);
	if (in->valid_from <= 0)
		return dg_err_field(err, DG_EINVAL, "valid_from",
				    "valid_from: the first day of validity is required");
	if (in->valid_until != 0 && in->valid_until < in->valid_from)
		return dg_err_field(err, DG_EINVAL, "valid_until",
				    "valid_until: before valid_from");
	if (in->fields && !json_is_object(in->fields))
		return dg_err_field(err, DG_EINVAL, "fields",
				    "fields: an object of label -> text is required");
	if (json_object_size(in->fields) > CERT_MAX_FIELDS)
		return dg_err_field(err, DG_EINVAL, "fields", "fields: at most %d are printed",
				    CERT_MAX_FIELDS);
	const char *k;
	json_t *v;
	json_object_foreach (in->fields, k, v) {
		if (!text_ok(k, LABEL_MAX, true))
			return dg_err_field(err, DG_EINVAL, "fields",
					    "fields: a label is 1 to %d bytes of text", LABEL_MAX);
		if (!(json_is_string(v) && text_ok(json_string_value(v), TEXT_MAX, false)) &&
		    !json_is_integer(v))
			return dg_err_field(
				err, DG_EINVAL, "fields",
				"fields: \"%s\" must be text of at most %d bytes or a whole number",
				k, TEXT_MAX);
	}
	return DG_OK;
}

/* The fields as a JSON object text of strings, in the issuer's order (malloc'd). */
static char *fields_text(const json_t *fields)
{
	json_t *o = json_object(), *v;
	const char *k;
	json_object_foreach ((json_t *)fields, k, v) {
		if (json_is_integer(v)) {
			char num[32];
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
			json_object_set_new(o, k, json_string(num));
		} else {
			json_object_set(o, k, v);
		}
	}
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

dg_rc dg_cert_issue(struct dg_db *db, const struct dg_keys *keys, const struct dg_cert_in *in,
		    char id_out[static 48], struct dg_err *err)
{
	struct dg_arena *a = dg_arena_new();
	struct cert_rec c = {0};
	char id[48], from[11], until[11] = "", kid[17];
	char *fields = NULL, *payload = NULL;
	id_out[0] = '\0';
	dg_rc rc = check_in(in, err);
	if (rc)
		goto out;
	rc = cert_user_exists(db, in->holder_user_id);
	if (rc == DG_ENOTFOUND)
		rc = dg_err_field(err, DG_EINVAL, "holder_user_id",
				  "holder_user_id: no such account");
	if (rc)
		goto out;
	rc = cert_dept(db, a, in->dept_id, &c.dept_code, &c.dept_name_zh, &c.dept_name_en);
	if (rc == DG_ENOTFOUND)
		rc = dg_err_field(err, DG_EINVAL, "dept_id", "dept_id: no such department");
	if (rc)
		goto out;
	rc = cert_region_code(db, a, &c.issuer);
	if (rc)
		goto out;
	new_id(id);
	dg_cert_key_id(keys, kid);
	dg_day_format(in->valid_from, from);
	if (in->valid_until)
		dg_day_format(in->valid_until, until);
	fields = fields_text(in->fields);
	c.id = id;
	c.item_code = in->item_code;
	c.title_zh = in->title_zh;
	c.title_en = in->title_en ? in->title_en : "";
	c.holder_user_id = in->holder_user_id;
	c.holder_name = in->holder_name;
	c.dept_id = in->dept_id;
	c.case_ref = in->case_ref ? in->case_ref : "";
	c.fields = fields;
	c.valid_from = from;
	c.valid_until = until;
	c.issued_ms = dg_now_ms();
	c.key_id = kid;
	c.revoke_reason = c.revoke_sig = "";
	c.revoked_ms_null = true;
	payload = cert_canonical(&c, keys);
	c.payload = payload;
	c.signature = cert_sign(keys, a, payload);
	rc = cert_insert(db, &c);
	if (rc)
		dg_err_set(err, rc, "the certificate could not be stored");
	else
		memcpy(id_out, id, CERT_ID_LEN + 1);
out:
	free(fields);
	free(payload);
	dg_arena_free(a);
	return rc;
}

dg_rc dg_cert_verify(struct dg_db *db, const struct dg_keys *keys, const char *id, dg_day today,
		     enum dg_cert_status *out)
{
	struct dg_arena *a = dg_arena_new();
	struct cert_rec c;
	*out = DG_CERT_TAMPERED;
	dg_rc rc = cert_id_valid(id) ? cert_load(db, a, id, &c) : DG_ENOTFOUND;
	if (!rc)
		*out = cert_check(&c, keys, today);
	dg_arena_free(a);
	return rc;
}

dg_rc dg_cert_revoke(struct dg_db *db, const struct dg_keys *keys, const char *id,
		     int64_t by_user_id, const char *reason, struct dg_err *err)
{
	struct dg_arena *a = dg_arena_new();
	struct cert_rec c;
	dg_rc rc = DG_ENOTFOUND;
	if (!text_ok(reason, REASON_MAX, true)) {
		rc = dg_err_field(err, DG_EINVAL, "reason",
				  "reason: 1 to %d bytes of text are required", REASON_MAX);
		goto out;
	}
	if (!cert_id_valid(id) || (rc = cert_load(db, a, id, &c)) != DG_OK)
		goto out;
	if (!c.revoked_ms_null) {
		rc = DG_ECONFLICT;
		goto out;
	}
	c.revoked_ms = dg_now_ms();
	c.revoked_by = by_user_id;
	c.revoke_reason = reason;
	char *rv = cert_revocation_canonical(&c);
	const char *sig = cert_sign(keys, a, rv);
	free(rv);
	rc = cert_set_revoked(db, id, c.revoked_ms, by_user_id, reason, sig);
out:
	dg_arena_free(a);
	return rc;
}

dg_rc dg_cert_held(struct dg_db *db, const struct dg_keys *keys, int64_t user_id,
		   const char *item_code, dg_day today, json_t **out)
{
	struct dg_arena *a = dg_arena_new();
	struct cert_rec *list = NULL;
	size_t n = 0;
	dg_rc rc = cert_list_holder(db, a, user_id, &list, &n);
	json_t *arr = json_array();
	for (size_t i = 0; !rc && i < n; i++) {
		const struct cert_rec *c = &list[i];
		unsigned char h[crypto_hash_sha256_BYTES];
		char hex[2 * crypto_hash_sha256_BYTES + 1];
		if (item_code && strcmp(c->item_code, item_code))
			continue;
		/* the hash of the signed text: whoever holds the reference can fetch the
		   certificate again and see it is the one that was presented */
		crypto_hash_sha256(h, (const unsigned char *)c->payload, strlen(c->payload));
		sodium_bin2hex(hex, sizeof hex, h, sizeof h);
		json_array_append_new(
			arr,
			json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s?,s:I,s:s,s:s,s:s,s:s}",
				  "id", c->id, "item_code", c->item_code, "title_zh", c->title_zh,
				  "title_en", c->title_en, "dept_code", c->dept_code,
				  "dept_name_zh", c->dept_name_zh, "dept_name_en", c->dept_name_en,
				  "valid_from", c->valid_from, "valid_until",
				  *c->valid_until ? c->valid_until : NULL, "issued_ms",
				  (json_int_t)c->issued_ms, "status",
				  dg_cert_status_name(cert_check(c, keys, today)), "key_id",
				  c->key_id, "signature", c->signature, "payload_sha256", hex));
	}
	dg_arena_free(a);
	if (rc) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return DG_OK;
}
