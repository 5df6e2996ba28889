/*
 * realname.c - sign-up's real-name check (实名核验) against the population
 * registry: whether a name and an ID number are one living person of the
 * "person" registry. Handed to the auth module through env->person_check,
 * since accounts sit below the exchange. It answers only yes or no: nothing
 * of the record leaves this file. Each check is a record in the audit log
 * (exchange.realname, with its outcome), as every read of a registry is.
 */
#include "exchange/internal.h"

#include <string.h>

#include "audit/audit.h"

dg_rc x_person_check(struct dg_env *env, struct dg_db *db, const char *name, const char *id_number)
{
	const struct dg_entity *e = x_registry("person");
	if (!e || !name || !id_number)
		return DG_EUNAVAIL;
	if (!x_id_ok(e, id_number))
		return DG_ENOTFOUND;
	struct dg_arena *a = dg_arena_new();
	struct x_record rec;
	const char *key = x_record_key(env, a, e, id_number);
	const char *outcome = "no_record";
	dg_rc rc = x_record_read(env, db, a, e, key, &rec);
	if (!rc) {
		json_t *n = json_object_get(rec.values, "name");
		json_t *alive = json_object_get(rec.values, "alive");
		bool same = json_is_string(n) && strcmp(json_string_value(n), name) == 0;
		/* a record that says nothing of being alive is taken as alive */
		bool dead = json_is_false(alive) ||
			    (json_is_integer(alive) && !json_integer_value(alive));
		if (!same || rec.ended || dead)
			rc = DG_ENOTFOUND;
		outcome = rc ? "no_match" : "match";
		json_decref(rec.values);
	}
	/* a read of the registry like any other: on the record, with its answer */
	if (!rc || rc == DG_ENOTFOUND) {
		json_t *d = json_pack("{s:s, s:s, s:s}", "outcome", outcome, "registry", e->name,
				      "fields", "name");
		struct dg_audit_rec ar = {.kind = "exchange.realname",
					  .actor = "system:signup",
					  .subject = key,
					  .purpose = "signup",
					  .detail = d};
		dg_rc arc = dg_audit_append(db, &ar, NULL);
		json_decref(d);
		if (arc)
			rc = arc;
	}
	dg_arena_free(a);
	return rc;
}
