/*
 * prefill.c - data travels instead of people (数据多跑路): an application
 * is filled from the departments' registries through the exchange, under
 * the item's code as purpose and the grants of the department that handles
 * the item, instead of the applicant typing or uploading what a department
 * already holds.
 *
 * What can be fetched (the plan): each form field that names a registry
 * field ("registry": "household.address"), and each material the item's
 * guide marks as shared (source "department") that the exchange knows how
 * to make from registries (evidence[] below: a household register extract
 * from the person and household registries). A registry whose records are
 * keyed by ID number is read under the applicant's own; another one is
 * reached through the link field of the applicant's person record that
 * points at it (person.household).
 *
 * Every read goes through the same checks as a department system's call
 * (xapi.c): the grant for the handling department, registry, purpose and
 * mode "one"; the person's consent when the grant needs it; and it is one
 * audit record (exchange.read, or exchange.refused with the reason) and one
 * line on the applicant's /my/data-use. A value the grant gives only masked
 * is not filled. A material comes as the signed answer (sign.c) of the
 * reads it is made of, attached to the case as a JSON document anyone can
 * check with POST /x/v1/verify. xr_prefills keeps, per case, where each
 * filled answer and document came from and how fresh the record was.
 */
#include "exchange/internal.h"

#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "catalog/catalog.h"
#include "cert/cert.h"
#include "core/date.h"
#include "core/rand.h"
#include "core/str.h"

/* Materials the exchange can make from registries, by their name in the guide. */
static const struct evidence {
	const char *material; /* name_zh in the item's materials */
	const char *registry;
	const char *fields;
} evidence[] = {
	{"居民户口簿", "person", "name,sex,birth_date,hukou_region,household"},
	{"居民户口簿", "household", "address,size,head"},
};
#define NEVIDENCE (sizeof(evidence) / sizeof(evidence[0]))

/*
 * Materials that are a certificate dgov itself issues, by their name in the
 * guide: the item whose approval issues it. The applicant's own valid
 * certificate of that item is attached by reference (its number, the hash
 * of its signed text, its signature), not copied, so it cannot drift from
 * the register, and a revocation after the fact shows when it is checked.
 */
static const struct cert_material {
	const char *material;
	const char *item;
} cert_materials[] = {
	{"结婚证", "990100-MZ-001"},
	{"出生医学证明", "990100-WJ-001"},
};
#define NCERTMAT (sizeof(cert_materials) / sizeof(cert_materials[0]))

static const char *sget(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* "household.address" of a form field, checked against the registries. */
static bool field_source(const json_t *f, const struct dg_entity **e, const char **rfield)
{
	const char *src = sget(f, "registry");
	const char *dot = strchr(src, '.');
	char reg[64];
	if (!dot || (size_t)(dot - src) >= sizeof reg)
		return false;
	snprintf(reg, sizeof reg, "%.*s", (int)(dot - src), src);
	*e = x_registry(reg);
	*rfield = dot + 1;
	return *e && x_field(*e, *rfield) >= 0;
}

static const char *cert_item_of(const char *material)
{
	for (size_t i = 0; i < NCERTMAT; i++)
		if (!strcmp(cert_materials[i].material, material))
			return cert_materials[i].item;
	return NULL;
}

static bool material_known(const char *name)
{
	for (size_t i = 0; i < NEVIDENCE; i++)
		if (!strcmp(evidence[i].material, name))
			return true;
	return false;
}

bool x_prefill_offered(const json_t *item)
{
	json_t *p, *f;
	size_t i, j;
	const struct dg_entity *e;
	const char *rf;
	/* only an item whose own form names registry fields sends every applicant here
	 * (its shared materials come along); for the others the step is offered, not
	 * imposed: /my/cases/{ref}/prefill is there for any draft */
	json_array_foreach (json_object_get(json_object_get(item, "form"), "pages"), i, p)
		json_array_foreach (json_object_get(p, "fields"), j, f)
			if (field_source(f, &e, &rf))
				return true;
	/* nor is a certificate dgov issued asked for again */
	json_array_foreach (json_object_get(item, "materials"), i, p)
		if (!strcmp(sget(p, "source"), "department") && cert_item_of(sget(p, "name_zh")))
			return true;
	return false;
}

static json_t *source_json(const struct dg_entity *e, const char *fields)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "registry", e->name, "title",
			 e->title ? e->title : e->name, "dept", e->owner ? e->owner : "", "fields",
			 fields);
}

/* Whether dept's grants let it read fields of e for purpose; *why when not. */
static dg_rc covered(struct dg_db *db, const char *dept, const struct dg_entity *e,
		     const char *purpose, const char *fields, bool *ok, const char **why)
{
	struct x_grant g;
	*ok = false;
	dg_rc rc = x_grant_find(db, dept, e->name, purpose, "one", &g, why);
	if (rc == DG_EDENIED)
		return DG_OK;
	if (rc)
		return rc;
	struct dg_str rest = dg_str_of(fields), head;
	*ok = true;
	while (rest.n && *ok) {
		rest = dg_str_cut(rest, ',', &head);
		char name[64];
		snprintf(name, sizeof name, "%.*s", (int)head.n, head.p);
		*ok = x_list_has(g.granted, name);
	}
	if (!*ok)
		*why = "no_grant";
	return DG_OK;
}

/*
 * The plan's entry for material m, a certificate dgov issues (item): the
 * issuing department, and the applicant's certificates of that item with
 * their status, so the applicant sees which one would be attached.
 */
static dg_rc plan_certificate(struct dg_db *db, const struct dg_keys *keys, int64_t applicant,
			      const json_t *m, const char *item, json_t **out)
{
	json_t *issuing = NULL, *held = NULL, *c;
	size_t i;
	bool any = false;
	dg_rc rc = dg_catalog_item(db, item, &issuing);
	if (rc == DG_ENOTFOUND) {
		issuing = json_object();
		rc = DG_OK;
	}
	if (!rc)
		rc = dg_cert_held(db, keys, applicant, item, dg_day_today(), &held);
	if (rc) {
		json_decref(issuing);
		return rc;
	}
	json_array_foreach (held, i, c) {
		bool valid = !strcmp(sget(c, "status"), "valid");
		json_object_set_new(c, "valid", json_boolean(valid));
		/* the first valid one is the one offered */
		json_object_set_new(c, "chosen", json_boolean(valid && !any));
		any = any || valid;
	}
	*out = json_pack("{s:s,s:s,s:s,s:s,s:[{s:s,s:s,s:s,s:s}],s:s,s:o,s:b,s:s}", "kind",
			 "certificate", "name", sget(m, "name_zh"), "label_zh", sget(m, "name_zh"),
			 "label_en", sget(m, "name_en"), "sources", "registry", "certificates",
			 "title", sget(issuing, "name_zh"), "dept", sget(issuing, "dept"), "fields",
			 "", "item", item, "certs", held, "available", any, "why",
			 any ? "" : "no_certificate");
	json_decref(issuing);
	return DG_OK;
}

dg_rc x_prefill_plan(struct dg_db *db, const struct dg_keys *keys, int64_t applicant,
		     const char *dept, const char *purpose, const json_t *form, const json_t *item,
		     json_t **out)
{
	json_t *plan = json_array(), *p, *f, *m;
	size_t i, j;
	dg_rc rc = DG_OK;
	json_array_foreach (json_object_get(form, "pages"), i, p)
		json_array_foreach (json_object_get(p, "fields"), j, f) {
			const struct dg_entity *e;
			const char *rf, *why = "";
			bool ok = false;
			if (rc || !field_source(f, &e, &rf))
				continue;
			rc = covered(db, dept, e, purpose, rf, &ok, &why);
			json_array_append_new(
				plan, json_pack("{s:s,s:s,s:s,s:s,s:[o],s:b,s:s}", "kind", "field",
						"name", sget(f, "name"), "label_zh",
						sget(f, "label_zh"), "label_en",
						sget(f, "label_en"), "sources", source_json(e, rf),
						"available", ok, "why", ok ? "" : why));
		}
	json_array_foreach (json_object_get(item, "materials"), i, m) {
		const char *cert_item = cert_item_of(sget(m, "name_zh"));
		if (!rc && cert_item && !strcmp(sget(m, "source"), "department")) {
			json_t *entry = NULL;
			rc = plan_certificate(db, keys, applicant, m, cert_item, &entry);
			if (!rc)
				json_array_append_new(plan, entry);
			continue;
		}
		if (rc || strcmp(sget(m, "source"), "department") ||
		    !material_known(sget(m, "name_zh")))
			continue;
		json_t *sources = json_array();
		bool all = true;
		const char *why = "";
		for (size_t k = 0; !rc && k < NEVIDENCE; k++) {
			const struct dg_entity *e = x_registry(evidence[k].registry);
			bool ok = false;
			if (strcmp(evidence[k].material, sget(m, "name_zh")) || !e)
				continue;
			rc = covered(db, dept, e, purpose, evidence[k].fields, &ok, &why);
			all = all && ok;
			json_array_append_new(sources, source_json(e, evidence[k].fields));
		}
		json_array_append_new(plan, json_pack("{s:s,s:s,s:s,s:s,s:o,s:b,s:s}", "kind",
						      "material", "name", sget(m, "name_zh"),
						      "label_zh", sget(m, "name_zh"), "label_en",
						      sget(m, "name_en"), "sources", sources,
						      "available", all, "why", all ? "" : why));
	}
	if (rc) {
		json_decref(plan);
		return rc;
	}
	*out = plan;
	return DG_OK;
}

/* ---- fetching ------------------------------------------------------- */

struct fetch {
	const struct dg_env *env;
	struct dg_db *db;
	struct dg_arena *a;
	const char *dept, *purpose, *ref, *subject;
	int64_t applicant;
};

static const char *actor(const struct fetch *x)
{
	return dg_arena_printf(x->a, "dept:%s/system:prefill", x->dept);
}

static dg_rc audit_refusal(const struct fetch *x, const struct dg_entity *e, const char *why)
{
	json_t *d = json_pack("{s:s,s:s,s:s,s:b}", "outcome", why, "registry", e->name, "case",
			      x->ref, "bulk", 0);
	struct dg_audit_rec rec = {.kind = "exchange.refused",
				   .actor = actor(x),
				   .subject = x->subject,
				   .purpose = x->purpose,
				   .detail = d};
	dg_rc rc = dg_audit_append(x->db, &rec, NULL);
	json_decref(d);
	return rc;
}

/* One read of e's record about the applicant: its granted wanted fields in *got (owned). */
static dg_rc read_one(const struct fetch *x, const struct dg_entity *e, const char *wanted,
		      json_t **got, const char **why)
{
	struct x_grant g;
	*got = NULL;
	*why = NULL;
	dg_rc rc = x_grant_find(x->db, x->dept, e->name, x->purpose, "one", &g, why);
	if (rc == DG_EDENIED)
		return audit_refusal(x, e, *why);
	if (rc)
		return rc;
	*why = NULL;
	const char *key = x->subject;
	if (!x_id_personal(e)) {
		/* reached through the applicant's person record's link to e */
		const struct dg_entity *pe = x_registry("person");
		const struct dg_schema *s = x_schema();
		const char *link = NULL;
		for (int i = 0; pe && i < pe->nf && !link; i++)
			if (pe->f[i].ty == TY_LINK && pe->f[i].link_ent >= 0 &&
			    pe->f[i].link_ent < s->ne && &s->e[pe->f[i].link_ent] == e)
				link = pe->f[i].name;
		json_t *pv = NULL;
		if (!link) {
			*why = "not_found";
			return audit_refusal(x, e, *why);
		}
		rc = read_one(x, pe, link, &pv, why);
		if (rc || *why)
			return rc;
		const char *id = json_string_value(json_object_get(pv, link));
		key = id ? dg_arena_strdup(x->a, id) : NULL;
		json_decref(pv);
		if (!key) {
			*why = "not_found";
			return audit_refusal(x, e, *why);
		}
	}
	struct x_record rec;
	rc = x_record_read(x->env, x->db, x->a, e, key, &rec);
	if (rc == DG_ENOTFOUND) {
		*why = "not_found";
		return audit_refusal(x, e, *why);
	}
	if (rc)
		return rc;
	bool given = true;
	if (g.consent && (rc = x_consent_has(x->db, rec.subject, x->purpose, &given)) == DG_OK &&
	    !given) {
		json_decref(rec.values);
		*why = "no_consent";
		return audit_refusal(x, e, *why);
	}
	if (rc) {
		json_decref(rec.values);
		return rc;
	}
	json_t *out = json_object();
	struct dg_buf shown;
	dg_buf_init(&shown, 4096);
	struct dg_str rest = dg_str_of(wanted), head;
	while (rest.n) {
		rest = dg_str_cut(rest, ',', &head);
		char name[64];
		snprintf(name, sizeof name, "%.*s", (int)head.n, head.p);
		int fi = x_field(e, name);
		json_t *v = json_object_get(rec.values, name);
		/* outside the grant, or given only masked: not filled */
		if (fi < 0 || !v || !x_list_has(g.granted, name) ||
		    (e->f[fi].cls >= DG_CLASS_PERSONAL && !g.clear))
			continue;
		json_object_set(out, name, v);
		if ((shown.len && dg_buf_addc(&shown, ',')) || dg_buf_adds(&shown, name))
			break;
	}
	int64_t updated = 0, seq = 0;
	rc = dg_db_query_int(x->db,
			     "SELECT updated_ms FROM xr_records WHERE registry = ? AND rkey = ?",
			     DG_ARGS(DG_VT(e->name), DG_VT(key)), &updated);
	const char *fields = dg_arena_strdup(x->a, dg_buf_str(&shown));
	dg_buf_release(&shown);
	json_t *d = json_pack("{s:s,s:s,s:s,s:I,s:I,s:b,s:s}", "outcome", "ok", "registry", e->name,
			      "case", x->ref, "grant", (json_int_t)g.id, "records", (json_int_t)1,
			      "bulk", 0, "fields", fields);
	struct dg_audit_rec ar = {.kind = "exchange.read",
				  .actor = actor(x),
				  .subject = rec.subject,
				  .purpose = x->purpose,
				  .detail = d};
	if (!rc)
		rc = dg_audit_append(x->db, &ar, &seq);
	json_decref(d);
	struct x_use u = {.subject = rec.subject,
			  .kind = "one",
			  .dept = x->dept,
			  .system = "prefill",
			  .official = "",
			  .purpose = x->purpose,
			  .registry = e->name,
			  .fields = fields,
			  .run = "",
			  .audit_seq = seq};
	if (!rc)
		rc = x_use_add(x->db, &u);
	json_object_set_new(out, "_meta",
			    json_pack("{s:s,s:s,s:s*,s:I,s:I,s:I}", "registry", e->name,
				      "effective", rec.effective, "ended", rec.ended, "version",
				      (json_int_t)rec.version, "updated_ms", (json_int_t)updated,
				      "audit_seq", (json_int_t)seq));
	json_decref(rec.values);
	if (rc) {
		json_decref(out);
		return rc;
	}
	*got = out;
	return DG_OK;
}

static dg_rc remember(const struct fetch *x, const char *name, const char *kind,
		      const char *registry, const char *dept, json_t *meta, int64_t file_id)
{
	const struct dg_val args[] = {
		DG_VT(x->ref),
		DG_VT(name),
		DG_VT(kind),
		DG_VT(registry),
		DG_VT(dept),
		DG_VT(sget(meta, "effective")),
		DG_VI(json_integer_value(json_object_get(meta, "updated_ms"))),
		DG_VI(json_integer_value(json_object_get(meta, "version"))),
		DG_VI(dg_now_ms()),
		DG_VI(json_integer_value(json_object_get(meta, "audit_seq"))),
		DG_VI(file_id),
	};
	return dg_db_exec(
		x->db,
		"INSERT INTO xr_prefills (case_ref, name, kind, registry, dept, effective,"
		" updated_ms, version, at_ms, audit_seq, file_id)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		" ON CONFLICT (case_ref, name, registry) DO UPDATE SET"
		" effective = excluded.effective, updated_ms = excluded.updated_ms,"
		" version = excluded.version, at_ms = excluded.at_ms,"
		" audit_seq = excluded.audit_seq, file_id = excluded.file_id",
		args, sizeof(args) / sizeof(args[0]), NULL);
}

/* A value as the form's answer: text as it is, numbers and truth as text. */
static json_t *as_answer(struct dg_arena *a, json_t *v)
{
	if (json_is_string(v))
		return json_incref(v);
	if (json_is_integer(v))
		return json_string(dg_arena_printf(a, "%lld", (long long)json_integer_value(v)));
	if (json_is_boolean(v))
		return json_string(json_is_true(v) ? "1" : "0");
	return NULL;
}

dg_rc x_prefill_field(const struct x_prefill_ctx *c, const json_t *entry, json_t *values,
		      const char **why)
{
	struct fetch x = {c->env,     c->db,  c->a,       c->dept,
			  c->purpose, c->ref, c->subject, c->applicant};
	json_t *src = json_array_get(json_object_get(entry, "sources"), 0);
	const struct dg_entity *e = x_registry(sget(src, "registry"));
	const char *rf = sget(src, "fields");
	json_t *got = NULL;
	*why = NULL;
	if (!e)
		return DG_EINVAL;
	dg_rc rc = read_one(&x, e, rf, &got, why);
	if (rc || *why)
		return rc;
	json_t *v = as_answer(c->a, json_object_get(got, rf));
	if (!v) {
		*why = "masked";
	} else {
		json_object_set_new(values, sget(entry, "name"), v);
		rc = remember(&x, sget(entry, "name"), "field", e->name, e->owner ? e->owner : "",
			      json_object_get(got, "_meta"), 0);
	}
	json_decref(got);
	return rc;
}

/*
 * A fetched material as a document: the node's signed answer, as a
 * department system would get it, naming the material, the case, the
 * handling department and the purpose; what holds the evidence goes under
 * key (taken). Owned.
 */
static json_t *signed_doc(const struct x_prefill_ctx *c, const char *name, const char *key,
			  json_t *what)
{
	struct x_call call = {.purpose = c->purpose, .request_id = "", .after = ""};
	snprintf(call.dept, sizeof call.dept, "%s", c->dept);
	snprintf(call.system, sizeof call.system, "prefill");
	char rid[40];
	dg_rand_hex(rid, 16);
	call.request_id = dg_arena_printf(c->a, "prefill-%s", rid);
	const char *path = dg_arena_printf(c->a, "/prefill/%s/%s", c->ref, name);
	const char *hash = x_request_hash(c->a, "GET", path, &call);
	json_t *answer =
		json_pack("{s:s,s:s,s:s,s:s,s:o,s:I}", "material", name, "case", c->ref, "client",
			  dg_arena_printf(c->a, "%s/prefill", c->dept), "purpose", c->purpose, key,
			  what, "at_ms", (json_int_t)dg_now_ms());
	json_t *doc = x_sign(&c->env->keys, hash, answer);
	json_decref(answer);
	return doc;
}

dg_rc x_prefill_material(const struct x_prefill_ctx *c, const json_t *entry, json_t **doc,
			 const char **why)
{
	struct fetch x = {c->env,     c->db,  c->a,       c->dept,
			  c->purpose, c->ref, c->subject, c->applicant};
	json_t *records = json_array(), *metas = json_array();
	dg_rc rc = DG_OK;
	*why = NULL;
	*doc = NULL;
	for (size_t k = 0; !rc && !*why && k < NEVIDENCE; k++) {
		const struct dg_entity *e = x_registry(evidence[k].registry);
		json_t *got = NULL;
		if (strcmp(evidence[k].material, sget(entry, "name")) || !e)
			continue;
		rc = read_one(&x, e, evidence[k].fields, &got, why);
		if (rc || *why)
			break;
		json_t *meta = json_object_get(got, "_meta");
		json_array_append(metas, meta);
		json_t *fields = json_deep_copy(got);
		json_object_del(fields, "_meta");
		json_array_append_new(
			records,
			json_pack("{s:s,s:s,s:s,s:O,s:I,s:o}", "registry", e->name, "dept",
				  e->owner ? e->owner : "", "effective", sget(meta, "effective"),
				  "ended",
				  json_object_get(meta, "ended") ? json_object_get(meta, "ended")
								 : json_null(),
				  "version",
				  (json_int_t)json_integer_value(json_object_get(meta, "version")),
				  "fields", fields));
		json_decref(got);
	}
	if (rc || *why) {
		json_decref(records);
		json_decref(metas);
		return rc;
	}
	*doc = signed_doc(c, sget(entry, "name"), "records", records);
	json_t *m;
	size_t i;
	json_array_foreach (metas, i, m) {
		const struct dg_entity *e = x_registry(sget(m, "registry"));
		if (!rc && e)
			rc = remember(&x, sget(entry, "name"), "material", e->name,
				      e->owner ? e->owner : "", m, 0);
	}
	json_decref(metas);
	if (rc) {
		json_decref(*doc);
		*doc = NULL;
	}
	return rc;
}

/* Why a certificate that is not valid today cannot be attached (an i18n key). */
static const char *cert_refusal(const char *status)
{
	if (!strcmp(status, "revoked"))
		return "exchange.prefill.err.cert_revoked";
	if (!strcmp(status, "expired"))
		return "exchange.prefill.err.cert_expired";
	return "exchange.prefill.err.cert_invalid";
}

dg_rc x_prefill_certificate(const struct x_prefill_ctx *c, const json_t *entry, const char *id,
			    json_t **doc, const char **bad)
{
	struct fetch x = {c->env,     c->db,  c->a,       c->dept,
			  c->purpose, c->ref, c->subject, c->applicant};
	const char *name = sget(entry, "name"), *item = sget(entry, "item");
	json_t *held = NULL, *cert = NULL, *h;
	size_t i;
	int64_t seq = 0;
	*doc = NULL;
	*bad = NULL;
	/* only the applicant's own certificates of the item are listed: any other
	   number (another person's, another item's, none at all) is not found among them */
	dg_rc rc = dg_cert_held(c->db, &c->env->keys, c->applicant, item, dg_day_today(), &held);
	json_array_foreach (held, i, h)
		if (!cert && id && !strcmp(sget(h, "id"), id))
			cert = h;
	if (!rc && !cert)
		*bad = "exchange.prefill.err.cert_not_yours";
	else if (!rc && strcmp(sget(cert, "status"), "valid"))
		*bad = cert_refusal(sget(cert, "status"));
	if (rc || *bad) {
		json_decref(held);
		return rc ? rc : DG_EINVAL;
	}
	json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:s}", "outcome", "ok", "registry",
			      "certificates", "case", c->ref, "certificate", id, "item", item,
			      "bulk", 0, "fields", id);
	struct dg_audit_rec ar = {.kind = "exchange.read",
				  .actor = actor(&x),
				  .subject = c->subject,
				  .purpose = c->purpose,
				  .detail = d};
	rc = dg_audit_append(c->db, &ar, &seq);
	json_decref(d);
	struct x_use u = {.subject = c->subject,
			  .kind = "one",
			  .dept = c->dept,
			  .system = "prefill",
			  .official = "",
			  .purpose = c->purpose,
			  .registry = "certificates",
			  .fields = id,
			  .run = "",
			  .audit_seq = seq};
	if (!rc)
		rc = x_use_add(c->db, &u);
	if (!rc) {
		/* a reference and the hash of what was signed, not a copy of the certificate */
		json_t *ref = json_pack(
			"{s:s,s:s,s:s,s:s,s:s,s:s,s:O,s:O,s:s,s:s,s:s,s:s,s:s}", "id", id,
			"item_code", item, "title_zh", sget(cert, "title_zh"), "title_en",
			sget(cert, "title_en"), "dept_code", sget(cert, "dept_code"), "valid_from",
			sget(cert, "valid_from"), "valid_until",
			json_object_get(cert, "valid_until"), "issued_ms",
			json_object_get(cert, "issued_ms"), "key_id", sget(cert, "key_id"),
			"signature", sget(cert, "signature"), "payload_sha256",
			sget(cert, "payload_sha256"), "status", "valid", "verify",
			dg_arena_printf(c->a, "/api/v1/certificates/%s/verify", id));
		*doc = signed_doc(c, name, "certificate", ref);
		json_t *meta = json_pack("{s:s,s:O,s:i,s:I}", "effective", sget(cert, "valid_from"),
					 "updated_ms", json_object_get(cert, "issued_ms"),
					 "version", 0, "audit_seq", (json_int_t)seq);
		rc = remember(&x, name, "material", "certificates", sget(cert, "dept_code"), meta,
			      0);
		json_decref(meta);
	}
	json_decref(held);
	if (rc) {
		json_decref(*doc);
		*doc = NULL;
	}
	return rc;
}

dg_rc x_prefill_file_set(struct dg_db *db, const char *ref, const char *name, int64_t file_id)
{
	return dg_db_exec(db, "UPDATE xr_prefills SET file_id = ? WHERE case_ref = ? AND name = ?",
			  DG_ARGS(DG_VI(file_id), DG_VT(ref), DG_VT(name)), NULL);
}

dg_rc x_prefills_of(struct dg_db *db, const char *ref, json_t **out)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(
		db,
		"SELECT p.name, p.kind, p.registry, p.dept, COALESCE(d.name_zh, p.dept),"
		" COALESCE(d.name_en, p.dept), p.effective, p.updated_ms, p.version,"
		" p.at_ms, p.file_id FROM xr_prefills p"
		" LEFT JOIN departments d ON d.code = p.dept"
		" WHERE p.case_ref = ? ORDER BY p.at_ms, p.name, p.registry",
		DG_ARGS(DG_VT(ref)), &rows);
	json_t *arr = json_array();
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK)
		json_array_append_new(
			arr,
			json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I}", "name",
				  dg_rows_text(rows, 0), "kind", dg_rows_text(rows, 1), "registry",
				  dg_rows_text(rows, 2), "dept", dg_rows_text(rows, 3), "dept_zh",
				  dg_rows_text(rows, 4), "dept_en", dg_rows_text(rows, 5),
				  "effective", dg_rows_text(rows, 6), "updated_ms",
				  (json_int_t)dg_rows_int(rows, 7), "version",
				  (json_int_t)dg_rows_int(rows, 8), "at_ms",
				  (json_int_t)dg_rows_int(rows, 9), "file_id",
				  (json_int_t)dg_rows_int(rows, 10)));
	dg_rows_free(rows);
	if (rc != DG_ENOTFOUND) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return DG_OK;
}
