/*
 * benefit.c - other domains write a resident's benefit history: a
 * 免申即享 grant issued, declined or revoked is one month's status of one
 * benefit (a field of the benefits registry) in that registry, written
 * through the record API's own code (x_record_put: checked, sealed, in the
 * change log), audited, and shown on the resident's page of who used their
 * data. The person's name is read from the person registry in the same
 * step, for the payment instruction the grant goes into.
 */
#include "exchange/internal.h"

#include <string.h>

#include "audit/audit.h"
#include "exchange/exchange.h"

/* The name in the person registry's record of ID number id, or "" (arena). */
static const char *name_of(const struct dg_env *env, struct dg_db *db, struct dg_arena *a,
			   const char *id)
{
	const struct dg_entity *pe = x_registry("person");
	struct x_record rec;
	if (!pe || x_field(pe, "name") < 0 || !x_id_ok(pe, id) ||
	    x_record_read(env, db, a, pe, x_record_key(env, a, pe, id), &rec) != DG_OK)
		return "";
	const char *n = json_string_value(json_object_get(rec.values, "name"));
	const char *out = dg_arena_strdup(a, n ? n : "");
	json_decref(rec.values);
	return out;
}

dg_rc dg_exchange_benefit_set(const struct dg_env *env, struct dg_db *db, struct dg_arena *a,
			      const struct dg_exchange_benefit *b, const char **name,
			      struct dg_err *err)
{
	const struct dg_entity *e = x_registry(b->registry);
	if (!e)
		return dg_err_set(err, DG_EINVAL, "there is no registry %s", b->registry);
	if (x_field(e, b->benefit) < 0)
		return dg_err_set(err, DG_EINVAL, "the registry %s has no benefit %s", e->name,
				  b->benefit);
	json_t *values = json_object();
	json_object_set_new(values, dg_arena_printf(a, "%s@%s", b->benefit, b->month),
			    json_string(b->status));
	int64_t version = 0;
	const char *key = x_record_key(env, a, e, b->id);
	struct x_record old;
	dg_rc rc = x_record_read(env, db, a, e, key, &old);
	bool exists = rc == DG_OK;
	if (exists)
		json_decref(old.values);
	if (rc == DG_OK || rc == DG_ENOTFOUND)
		rc = x_record_put(env, db, a, e, b->id, values, b->effective, !exists, b->actor,
				  &version, err);
	json_decref(values);
	if (rc)
		return err->msg[0] ? rc : dg_err_set(err, rc, "the benefit could not be written");
	const char *subject = x_id_personal(e) ? key : "";
	json_t *d =
		json_pack("{s:s,s:s,s:s,s:s,s:I}", "registry", e->name, "benefit", b->benefit,
			  "month", b->month, "status", b->status, "version", (json_int_t)version);
	struct dg_audit_rec rec = {.kind = "exchange.write",
				   .actor = b->actor,
				   .subject = subject,
				   .purpose = b->purpose,
				   .detail = d};
	int64_t seq = 0;
	rc = dg_audit_append(db, &rec, &seq);
	json_decref(d);
	*name = rc ? "" : name_of(env, db, a, b->id);
	struct x_use u = {.subject = subject,
			  .kind = "one",
			  .dept = b->dept,
			  .system = "proactive",
			  .official = "",
			  .purpose = b->purpose,
			  .registry = e->name,
			  .fields = **name ? dg_arena_printf(a, "%s,person.name", b->benefit)
					   : b->benefit,
			  .run = b->run,
			  .audit_seq = seq};
	if (!rc)
		rc = x_use_add(db, &u);
	return rc ? dg_err_set(err, rc, "the benefit could not be recorded") : DG_OK;
}

bool dg_exchange_field_exists(const char *registry, const char *field)
{
	const struct dg_entity *e = registry ? x_registry(registry) : NULL;
	return e && field && x_field(e, field) >= 0;
}
