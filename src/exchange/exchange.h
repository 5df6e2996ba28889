/*
 * exchange.h - data sharing between departments (政务数据共享): registries
 * declared in a schema file (policies/registries.yaml), their records and
 * change log, the shared-data directory, requests and grants (deny by
 * default), the signed exchange API for department systems, and each
 * resident's page of who used their data. Every read, refusal and grant
 * change is a record in the audit log (audit/audit.h).
 *
 * The registries' schema is found at $DGOV_REGISTRIES, or else at
 * policies/registries.yaml beside the templates folder.
 *
 * Other domains (proactive services) read registries for the rule engine
 * through dg_exchange_reader_open: the rule schema's fields say which
 * registry and field each comes from (`from: registry.field`,
 * docs/rules.md), and the read happens under the reading department's bulk
 * grants for the policy's purpose.
 */
#ifndef DG_EXCHANGE_H
#define DG_EXCHANGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "node/env.h"
#include "node/module.h"
#include "rule/data.h"
#include "store/store.h"

extern const struct dg_module dg_exchange_module;

struct dg_exchange_reader;

/*
 * Read the registries that rule schema s's entities come from, under dept's
 * bulk grants for purpose (a policy id); each record read counts as one use
 * named run for its subject (/my/data-use shows one line per run and
 * subject); the read is audited once per registry. DG_EDENIED with a clear
 * message when a needed field is not granted (nothing is read); DG_EINVAL
 * when s names a registry or field the registries do not have. The reader
 * borrows env, db and s until it is closed; *out is the caller's.
 */
dg_rc dg_exchange_reader_open(const struct dg_env *env, struct dg_db *db, const struct dg_schema *s,
			      const char *dept, const char *purpose, const char *run,
			      struct dg_exchange_reader **out, struct dg_err *err) DG_MUST;
/* The reader for dg_data_load (borrowed from r, valid until it is closed). */
const struct dg_rule_reader *dg_exchange_reader_rule(struct dg_exchange_reader *r);
void dg_exchange_reader_close(struct dg_exchange_reader *r);

/*
 * Keyed reads, for a run that reads only what changed and what it reaches:
 * from now on dg_data_load through r reads, of rule entity ent, only the
 * current records whose IDs are keys of object ids (and, for the benefits'
 * entity, only their benefits), by key, under the same grants and each a
 * use as before; ids NULL: every record again. r keeps a reference.
 */
void dg_exchange_reader_only(struct dg_exchange_reader *r, int ent, json_t *ids);
/*
 * Following link field f of rule entity ent: into out (an object used as a
 * set of IDs) the values f has in the current records whose IDs are keys
 * of ids (forward), or the IDs of the current records whose f is a key of
 * to (backward: the members of a group). Backward needs f kept in clear:
 * DG_EUNAVAIL when it is sealed. Errors are the store's.
 */
dg_rc dg_exchange_reader_links(struct dg_exchange_reader *r, int ent, int f, json_t *ids,
			       json_t *out, struct dg_err *err) DG_MUST;
dg_rc dg_exchange_reader_linking(struct dg_exchange_reader *r, int ent, int f, json_t *to,
				 json_t *out, struct dg_err *err) DG_MUST;

/*
 * The subjects (blind indexes) whose records in any registry s reads changed
 * after version since, and the registries' newest version. *subjects is a
 * JSON array of strings, the caller's (json_decref).
 */
dg_rc dg_exchange_changed_since(struct dg_db *db, const struct dg_schema *s, int64_t since,
				json_t **subjects, int64_t *newest, struct dg_err *err) DG_MUST;

/*
 * The records of the registries s reads that changed after version since
 * (created, updated or ended), for a reader that read them at since and
 * reads them again: *changes (the caller's; NULL: only *newest is wanted)
 * is an array of {"registry", "id" (the record's ID in clear), "before"
 * (its values as of since, sealed ones opened; null when it had none)};
 * *newest is the registries' newest version, read before the changes so
 * that a change made meanwhile is found again, never missed.
 */
dg_rc dg_exchange_changes_since(const struct dg_env *env, struct dg_db *db,
				const struct dg_schema *s, int64_t since, json_t **changes,
				int64_t *newest, struct dg_err *err) DG_MUST;

/* One month's status of one benefit of a resident, as another domain writes it. */
struct dg_exchange_benefit {
	const char *registry;  /* the benefits registry (the rule schema's benefits_registry) */
	const char *id;        /* the person's ID number */
	const char *benefit;   /* a field of that registry (the rule's id) */
	const char *month;     /* YYYY-MM */
	const char *status;    /* paid, applied, refused or stopped (docs/rules.md) */
	const char *effective; /* YYYY-MM-DD; NULL or "": today */
	const char *dept;      /* the department that writes it */
	const char *actor;     /* "user:<id>" of the confirming member of staff */
	const char *purpose;   /* the policy */
	const char *run;       /* what the resident's data-use line is named by ("" for none) */
};

/*
 * Write b in the caller's transaction: the record is created or updated
 * through the record API's code (checked, sealed, in the change log), the
 * write is audited ("exchange.write") and shows as a use on the resident's
 * /my/data-use. *name gets the person's name from the person registry (""
 * when there is none; arena a). EINVAL with a message for an unknown
 * registry or benefit, a malformed ID or month.
 */
dg_rc dg_exchange_benefit_set(const struct dg_env *env, struct dg_db *db, struct dg_arena *a,
			      const struct dg_exchange_benefit *b, const char **name,
			      struct dg_err *err) DG_MUST;

/* Whether the registries have registry with a field field. */
bool dg_exchange_field_exists(const char *registry, const char *field);

#endif
