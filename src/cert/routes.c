/*
 * routes.c - certificates over HTTP: the public verification page a QR code
 * points at, the QR code itself, the PDF for the holder and the issuing
 * department, the holder's list, revocation, and the JSON API (the signed
 * document, a check by id, a check of a presented copy, the public key).
 *
 * Who sees what: anyone with a certificate's id (it is printed on the
 * certificate and unguessable) sees whether it is valid, what it is, who
 * issued it and the holder's name masked (张*); the holder, staff of the
 * issuing department and administrators see the name in full, the case and
 * the revocation reason, and may print it. Only staff of the issuing
 * department and administrators may revoke, with a reason.
 */
#include "cert/cert.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "node/env.h"
#include "cert/internal.h"
#include "cert/pdf.h"
#include "cert/qr.h"
#include "core/str.h"
#include "web/i18n.h"
#include "web/page.h"

#define PRESENTED_MAX (64u << 10) /* bytes of a presented document to check */
#define REASON_CHARS  200

static bool is_en(const struct dg_req *r)
{
	return r->lang && strcmp(r->lang, "en") == 0;
}

/*
 * The site's address (--site-url, config.h) for printed links and QR codes:
 * never the request's Host header, which anyone can write.
 */
static const char *base_url(struct dg_req *r)
{
	char buf[DG_SITE_URL_MAX];
	return dg_arena_strdup(r->arena, dg_config_site_url(r->env->cfg, buf));
}

static const char *verify_url(struct dg_req *r, const char *id)
{
	return dg_arena_printf(r->arena, "%s/certificates/%s", base_url(r), id);
}

/* The certificate named by {id}; ENOTFOUND (with a message) when there is none. */
static dg_rc load(struct dg_req *r, struct cert_rec *c)
{
	struct dg_db *db = NULL;
	const char *id = dg_kvs_get(&r->params, "id");
	dg_rc rc = cert_id_valid(id) ? dg_req_db(r, &db) : DG_ENOTFOUND;
	if (!rc)
		rc = cert_load(db, r->arena, id, c);
	if (rc == DG_ENOTFOUND)
		dg_err_set(&r->err, rc, "%s", dg_t(r, "cert.err.not_found"));
	return rc;
}

static bool is_issuer_staff(const struct dg_req *r, const struct cert_rec *c)
{
	return r->user && (r->user->role == DG_ROLE_ADMIN ||
			   (r->user->role == DG_ROLE_STAFF && r->user->dept_id == c->dept_id));
}

static bool is_holder(const struct dg_req *r, const struct cert_rec *c)
{
	return r->user && r->user->id == c->holder_user_id;
}

static const char *status_key(struct dg_req *r, const char *prefix, enum dg_cert_status st)
{
	return dg_t(r, dg_arena_printf(r->arena, "%s%s", prefix, dg_cert_status_name(st)));
}

static const char *title_of(const struct dg_req *r, const struct cert_rec *c)
{
	return is_en(r) && *c->title_en ? c->title_en : c->title_zh;
}

/* What a page shows of c; privileged viewers see the full name, the case, the reason. */
static json_t *view(struct dg_req *r, const struct cert_rec *c, enum dg_cert_status st,
		    bool privileged)
{
	char issued[11], revoked[11];
	cert_day_of_ms(c->issued_ms, issued);
	json_t *v = json_object();
	json_object_set_new(v, "id", json_string(c->id));
	json_object_set_new(v, "title", json_string(title_of(r, c)));
	json_object_set_new(v, "holder",
			    json_string(privileged ? c->holder_name
						   : cert_mask_name(r->arena, c->holder_name)));
	json_object_set_new(v, "item_code", json_string(c->item_code));
	json_object_set_new(v, "dept", json_string(is_en(r) ? c->dept_name_en : c->dept_name_zh));
	json_object_set_new(v, "valid_from", json_string(c->valid_from));
	json_object_set_new(v, "valid_until", json_string(c->valid_until));
	json_object_set_new(v, "issued_on", json_string(issued));
	json_object_set_new(v, "status", json_string(dg_cert_status_name(st)));
	json_object_set_new(v, "status_label", json_string(status_key(r, "cert.status.", st)));
	json_object_set_new(v, "status_help", json_string(status_key(r, "cert.status_help.", st)));
	/* the state in the other language too, for a visitor who reads only that one */
	json_object_set_new(v, "status_other",
			    json_string(dg_i18n_get(r->env->i18n, is_en(r) ? "zh" : "en",
						    dg_arena_printf(r->arena, "cert.status.%s",
								    dg_cert_status_name(st)))));
	json_object_set_new(v, "other_lang", json_string(is_en(r) ? "zh-CN" : "en"));
	json_object_set_new(v, "tag",
			    json_string(st == DG_CERT_VALID ? "tag-green"
					: st == DG_CERT_REVOKED || st == DG_CERT_TAMPERED
						? "tag-red"
						: "tag-grey"));
	json_object_set_new(v, "tampered", json_boolean(st == DG_CERT_TAMPERED));
	if (privileged && *c->case_ref)
		json_object_set_new(v, "case_ref", json_string(c->case_ref));
	if (st == DG_CERT_REVOKED) {
		cert_day_of_ms(c->revoked_ms, revoked);
		json_object_set_new(v, "revoked_on", json_string(revoked));
		if (privileged)
			json_object_set_new(v, "revoke_reason", json_string(c->revoke_reason));
	}
	json_t *fields = json_loads(c->fields, 0, NULL), *list = json_array(), *fv;
	const char *k;
	json_object_foreach (fields, k, fv)
		json_array_append_new(
			list, json_pack("{s:s, s:s?}", "label", k, "value", json_string_value(fv)));
	json_decref(fields);
	json_object_set_new(v, "fields", list);
	return v;
}

/* The verification page, with data (stolen) holding any form errors. */
static dg_rc show(struct dg_req *r, const struct cert_rec *c, unsigned status, json_t *d)
{
	enum dg_cert_status st = cert_check(c, &r->env->keys, dg_day_today());
	bool staff = is_issuer_staff(r, c), privileged = staff || is_holder(r, c);
	json_object_set_new(d, "title", json_string(dg_t(r, "cert.verify.title")));
	json_object_set_new(d, "cert", view(r, c, st, privileged));
	json_object_set_new(d, "url", json_string(verify_url(r, c->id)));
	json_object_set_new(d, "can_pdf", json_boolean(privileged && st != DG_CERT_TAMPERED));
	json_object_set_new(d, "can_revoke",
			    json_boolean(staff && st != DG_CERT_REVOKED && st != DG_CERT_TAMPERED));
	return dg_page(r, status, "cert/show.html", d);
}

static dg_rc page_cert(struct dg_req *r)
{
	struct cert_rec c;
	dg_rc rc = load(r, &c);
	if (rc)
		return rc;
	json_t *d = json_object();
	const char *done = dg_kvs_get(&r->query, "done");
	if (done && strcmp(done, "revoked") == 0)
		json_object_set_new(d, "done", json_string(dg_t(r, "cert.revoke.done")));
	return show(r, &c, 200, d);
}

static dg_rc qr_for(struct dg_req *r, const char *id, struct dg_qr **out)
{
	const char *url = verify_url(r, id);
	*out = dg_arena_alloc(r->arena, sizeof(**out));
	return dg_qr_encode(url, strlen(url), NULL, *out);
}

static dg_rc qr_svg(struct dg_req *r)
{
	struct cert_rec c;
	struct dg_qr *q = NULL;
	struct dg_buf b;
	dg_rc rc = load(r, &c);
	if (!rc)
		rc = qr_for(r, c.id, &q);
	if (rc)
		return rc;
	dg_buf_init(&b, 1u << 20);
	rc = dg_qr_svg(q, dg_t(r, "cert.qr.alt"), 0, &b);
	if (!rc) {
		dg_reply_header(r, "Cache-Control", "public, max-age=3600");
		dg_reply_buf(r, 200, "image/svg+xml", &b);
	}
	dg_buf_release(&b);
	return rc;
}

static dg_rc pdf(struct dg_req *r)
{
	struct cert_rec c;
	struct dg_qr *q = NULL;
	char issued[11];
	dg_rc rc = load(r, &c);
	if (rc)
		return rc;
	if (!is_issuer_staff(r, &c) && !is_holder(r, &c))
		return dg_err_set(&r->err, DG_EDENIED, "%s", dg_t(r, "cert.err.pdf_denied"));
	enum dg_cert_status st = cert_check(&c, &r->env->keys, dg_day_today());
	if (st == DG_CERT_TAMPERED)
		return dg_err_set(&r->err, DG_ECONFLICT, "%s",
				  dg_t(r, "cert.status_help.tampered"));
	rc = qr_for(r, c.id, &q);
	if (rc)
		return rc;
	cert_day_of_ms(c.issued_ms, issued);
	json_t *fields = json_loads(c.fields, 0, NULL);
	struct dg_cert_pdf in = {
		.region_zh = r->env->region.name_zh,
		.region_en = r->env->region.name_en,
		.title_zh = c.title_zh,
		.title_en = c.title_en,
		.holder_name = c.holder_name,
		.item_code = c.item_code,
		.case_ref = c.case_ref,
		.fields = fields,
		.valid_from = c.valid_from,
		.valid_until = c.valid_until,
		.dept_zh = c.dept_name_zh,
		.dept_en = c.dept_name_en,
		.issued_on = issued,
		.id = c.id,
		.url = verify_url(r, c.id),
		.status_zh = st == DG_CERT_REVOKED         ? "已撤销，本证照不再有效"
			     : st == DG_CERT_EXPIRED       ? "已过期"
			     : st == DG_CERT_NOT_YET_VALID ? "尚未生效"
							   : "",
		.status_en = st == DG_CERT_REVOKED         ? "REVOKED"
			     : st == DG_CERT_EXPIRED       ? "EXPIRED"
			     : st == DG_CERT_NOT_YET_VALID ? "NOT YET VALID"
							   : "",
		.qr = q,
	};
	struct dg_buf b;
	dg_buf_init(&b, 4u << 20);
	rc = dg_cert_pdf_write(&in, &b);
	json_decref(fields);
	if (!rc) {
		dg_reply_header(r, "Content-Disposition",
				dg_arena_printf(r->arena, "inline; filename=\"%s.pdf\"", c.id));
		dg_reply_header(r, "Cache-Control", "private, no-store");
		dg_reply_buf(r, 200, "application/pdf", &b);
	}
	dg_buf_release(&b);
	return rc;
}

static dg_rc page_mine(struct dg_req *r)
{
	struct dg_db *db = NULL;
	struct cert_rec *list = NULL;
	size_t n = 0;
	char issued[11];
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = cert_list_holder(db, r->arena, r->user->id, &list, &n);
	if (rc)
		return rc;
	json_t *certs = json_array();
	dg_day today = dg_day_today();
	for (size_t i = 0; i < n; i++) {
		enum dg_cert_status st = cert_check(&list[i], &r->env->keys, today);
		cert_day_of_ms(list[i].issued_ms, issued);
		json_array_append_new(
			certs,
			json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "id", list[i].id,
				  "title", title_of(r, &list[i]), "dept",
				  is_en(r) ? list[i].dept_name_en : list[i].dept_name_zh,
				  "issued_on", issued, "valid_until", list[i].valid_until,
				  "status_label", status_key(r, "cert.status.", st), "tag",
				  st == DG_CERT_VALID                               ? "tag-green"
				  : st == DG_CERT_REVOKED || st == DG_CERT_TAMPERED ? "tag-red"
										    : "tag-grey",
				  "can_pdf", st != DG_CERT_TAMPERED));
	}
	json_t *d = json_object();
	json_object_set_new(d, "title", json_string(dg_t(r, "cert.my.title")));
	json_object_set_new(d, "certs", certs);
	return dg_page(r, 200, "cert/my.html", d);
}

/* A reason typed in a text area: line breaks and tabs become spaces, ends trimmed. */
static char *clean_reason(struct dg_req *r, const char *s)
{
	char *out = dg_arena_strdup(r->arena, s ? s : "");
	for (char *p = out; *p; p++)
		if (*p == '\r' || *p == '\n' || *p == '\t')
			*p = ' ';
	struct dg_str t = dg_str_trim(dg_str_of(out));
	return dg_arena_strndup(r->arena, t.p ? t.p : "", t.n);
}

static dg_rc post_revoke(struct dg_req *r)
{
	struct cert_rec c;
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	dg_rc rc = load(r, &c);
	if (rc)
		return rc;
	if (!is_issuer_staff(r, &c))
		return dg_err_set(&r->err, DG_EDENIED, "%s", dg_t(r, "cert.err.not_issuer"));
	char *reason = clean_reason(r, dg_req_field(r, "reason"));
	const char *problem = NULL;
	if (!*reason)
		problem = "cert.revoke.reason_missing";
	else if (!dg_utf8_valid(reason, strlen(reason)) ||
		 dg_utf8_len(reason, strlen(reason)) > REASON_CHARS ||
		 strlen(reason) > 3 * REASON_CHARS)
		problem = "cert.revoke.reason_long";
	if (problem) {
		json_t *d = json_object();
		dg_form_keep_values(r, d);
		dg_form_error(d, "reason", dg_t(r, problem));
		return show(r, &c, dg_rc_form_status(DG_EINVAL), d);
	}
	rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_db_begin(db);
	if (rc)
		return rc;
	rc = dg_cert_revoke(db, &r->env->keys, c.id, r->user->id, reason, &err);
	if (!rc)
		rc = dg_db_commit(db);
	if (rc) {
		dg_db_rollback(db);
		if (rc == DG_ECONFLICT)
			dg_err_set(&r->err, rc, "%s", dg_t(r, "cert.revoke.already"));
		return rc;
	}
	dg_reply_redirect(r, dg_arena_printf(r->arena, "/certificates/%s?done=revoked", c.id));
	return DG_OK;
}

/* ---- API -------------------------------------------------------------------- */

static void key_fields(struct dg_req *r, json_t *o)
{
	char kid[17];
	dg_cert_key_id(&r->env->keys, kid);
	json_object_set_new(o, "key_id", json_string(kid));
	json_object_set_new(o, "algorithm", json_string("Ed25519"));
}

static dg_rc api_cert(struct dg_req *r)
{
	struct cert_rec c;
	dg_rc rc = load(r, &c);
	if (rc)
		return rc;
	enum dg_cert_status st = cert_check(&c, &r->env->keys, dg_day_today());
	/* the document as the columns say now: a changed column makes it fail to verify */
	char *canon = cert_canonical(&c, &r->env->keys);
	json_t *doc = json_loads(canon, 0, NULL);
	json_t *o = json_pack("{s:o, s:s, s:s, s:s, s:s}", "certificate", doc ? doc : json_null(),
			      "payload", canon, "signature", c.signature, "status",
			      dg_cert_status_name(st), "verify_url", verify_url(r, c.id));
	free(canon);
	key_fields(r, o);
	if (st == DG_CERT_REVOKED)
		json_object_set_new(o, "revoked_ms", json_integer(c.revoked_ms));
	dg_reply_json(r, 200, o);
	return DG_OK;
}

static json_t *verdict(enum dg_cert_status st, const struct cert_rec *c)
{
	char today[11];
	dg_day_format(dg_day_today(), today);
	json_t *o = json_pack("{s:b, s:s, s:s, s:s}", "valid", st == DG_CERT_VALID, "status",
			      dg_cert_status_name(st), "id", c->id, "checked_on", today);
	json_object_set_new(o, "valid_from", json_string(c->valid_from));
	json_object_set_new(o, "valid_until",
			    *c->valid_until ? json_string(c->valid_until) : json_null());
	if (st == DG_CERT_REVOKED)
		json_object_set_new(o, "revoked_ms", json_integer(c->revoked_ms));
	return o;
}

static dg_rc api_verify(struct dg_req *r)
{
	struct cert_rec c;
	dg_rc rc = load(r, &c);
	if (rc)
		return rc;
	json_t *o = verdict(cert_check(&c, &r->env->keys, dg_day_today()), &c);
	key_fields(r, o);
	dg_reply_json(r, 200, o);
	return DG_OK;
}

/*
 * A presented copy: {"certificate":{...},"signature":"..."} (what GET
 * /api/v1/certificates/{id} gives) or {"payload":"...","signature":"..."} as
 * JSON, a form or a query string. The signature is checked against this
 * node's key; a good one is then compared with the register.
 */
static dg_rc api_check_copy(struct dg_req *r)
{
	const char *payload = NULL, *sig = NULL;
	char *dumped = NULL;
	if (r->json) {
		json_t *cert = json_object_get(r->json, "certificate");
		if (json_is_object(cert))
			payload = dumped = json_dumps(cert, JSON_SORT_KEYS | JSON_COMPACT);
		else
			payload = json_string_value(json_object_get(r->json, "payload"));
		sig = json_string_value(json_object_get(r->json, "signature"));
	} else {
		payload = dg_req_field(r, "payload");
		sig = dg_req_field(r, "signature");
		if (!payload && !sig && strcmp(r->method, "POST") == 0) {
			payload = dg_kvs_get(&r->query, "payload");
			sig = dg_kvs_get(&r->query, "signature");
		}
	}
	dg_rc rc = DG_OK;
	if (payload && strlen(payload) > PRESENTED_MAX)
		rc = dg_err_field(&r->err, DG_ETOOBIG, "payload", "%s",
				  dg_t(r, "cert.err.copy_too_big"));
	else if (!payload || !*payload)
		rc = dg_err_field(&r->err, DG_EINVAL, "payload", "%s",
				  dg_t(r, "cert.err.copy_missing"));
	else if (!sig || !*sig)
		rc = dg_err_field(&r->err, DG_EINVAL, "signature", "%s",
				  dg_t(r, "cert.err.copy_missing"));
	if (rc) {
		free(dumped);
		dg_reply_json_error(r, rc, r->err.msg, r->err.field);
		return DG_OK;
	}
	json_t *o = NULL;
	if (!cert_sig_ok(&r->env->keys, payload, sig)) {
		o = json_pack("{s:b, s:b, s:s}", "valid", 0, "signature_valid", 0, "status",
			      "tampered");
	} else {
		json_t *doc = json_loads(payload, 0, NULL);
		const char *id = json_string_value(json_object_get(doc, "id"));
		struct cert_rec c;
		struct dg_db *db = NULL;
		rc = cert_id_valid(id) ? dg_req_db(r, &db) : DG_ENOTFOUND;
		if (!rc)
			rc = cert_load(db, r->arena, id, &c);
		json_decref(doc);
		if (rc == DG_ENOTFOUND) {
			o = json_pack("{s:b, s:b, s:s}", "valid", 0, "signature_valid", 1, "status",
				      "unknown");
			rc = DG_OK;
		} else if (!rc) {
			enum dg_cert_status st = cert_check(&c, &r->env->keys, dg_day_today());
			bool same = strcmp(payload, c.payload) == 0;
			o = verdict(same ? st : DG_CERT_TAMPERED, &c);
			json_object_set_new(o, "signature_valid", json_true());
			json_object_set_new(o, "matches_register", json_boolean(same));
		}
	}
	free(dumped);
	if (rc)
		return rc;
	key_fields(r, o);
	dg_reply_json(r, 200, o);
	return DG_OK;
}

static dg_rc signing_key(struct dg_req *r)
{
	const struct dg_keys *k = &r->env->keys;
	char hex[65], b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2hex(hex, sizeof(hex), k->sign_pk, 32);
	sodium_bin2base64(b64, sizeof(b64), k->sign_pk, 32, sodium_base64_VARIANT_ORIGINAL);
	json_t *o = json_pack(
		"{s:s, s:s, s:s, s:s, s:s}", "public_key_base64", b64, "public_key_hex", hex,
		"issuer", r->env->region.code, "signed_text",
		"the certificate object as JSON: UTF-8, keys sorted by byte order, no whitespace",
		"signature_encoding", "base64 of the 64-byte Ed25519 signature");
	key_fields(r, o);
	dg_reply_header(r, "Cache-Control", "public, max-age=3600");
	dg_reply_json(r, 200, o);
	return DG_OK;
}

static const struct dg_route routes[] = {
	{"GET", "/certificates/{id}", page_cert, DG_ROLE_ANY, 0},
	{"GET", "/certificates/{id}/qr.svg", qr_svg, DG_ROLE_ANY, DG_ROUTE_PUBLIC},
	{"GET", "/certificates/{id}/pdf", pdf, DG_ROLE_USER, 0},
	{"POST", "/certificates/{id}/revoke", post_revoke, DG_ROLE_STAFF | DG_ROLE_ADMIN, 0},
	{"GET", "/my/certificates", page_mine, DG_ROLE_USER, 0},
	{"GET", "/api/v1/certificates/verify", api_check_copy, DG_ROLE_ANY, DG_ROUTE_PUBLIC},
	{"POST", "/api/v1/certificates/verify", api_check_copy, DG_ROLE_ANY,
	 DG_ROUTE_PUBLIC | DG_ROUTE_NO_CSRF},
	{"GET", "/api/v1/certificates/{id}", api_cert, DG_ROLE_ANY, DG_ROUTE_PUBLIC},
	{"GET", "/api/v1/certificates/{id}/verify", api_verify, DG_ROLE_ANY, DG_ROUTE_PUBLIC},
	{"GET", "/.well-known/dgov-signing-key", signing_key, DG_ROLE_ANY, DG_ROUTE_PUBLIC},
};

const struct dg_route *dg_cert_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
