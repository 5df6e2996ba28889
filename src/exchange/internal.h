/*
 * internal.h - what the exchange's files share: the registries read from
 * the schema file, records and their change log, requests and grants, the
 * exchange call's parser, signing, and the uses a resident can see.
 *
 * The registries' schema is read once at start-up (module init) and never
 * changes while the node runs, so every thread reads it without a lock.
 */
#ifndef DG_EXCHANGE_INTERNAL_H
#define DG_EXCHANGE_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/keys.h"
#include "http/router.h"
#include "node/env.h"
#include "rule/data.h"
#include "store/store.h"

struct dg_demo_opts;
struct dg_job;

#define X_ID_MAX       64  /* bytes of a record's ID */
#define X_VALUE_MAX    512 /* bytes of one field's value */
#define X_PAGE_MAX     500 /* records in one page of a bulk read */
#define X_PAGE_DEFAULT 100
#define X_PURPOSE_MAX  64  /* a catalogue item code or a policy id */
#define X_BASIS_MAX    500 /* bytes of a request's legal basis */
#define X_REASON_MAX   500 /* bytes of a refusal's reason */
#define X_RATE_DEFAULT 600 /* calls a department system may make in a minute */

extern const struct dg_migration dg_exchange_migrations[];

/* --- registries (registry.c) --- */

/* Read the registries' schema file (once, at init). */
dg_rc x_schema_open(const char *path, struct dg_err *err) DG_MUST;
void x_schema_close(void);
const struct dg_schema *x_schema(void);
/* The folder the registries' file was read from (the rule engine's schema.yaml is beside it). */
const char *x_schema_dir(void);
/* The registry called name, or NULL. */
const struct dg_entity *x_registry(const char *name);
/* The index of a field of e, or -1. */
int x_field(const struct dg_entity *e, const char *name);
/* "code", "date", ... as written in the file. */
const char *x_type_name(const struct dg_field *f);
bool x_id_personal(const struct dg_entity *e);
/* Whether id is well formed for e (an ID number when it is personal). */
bool x_id_ok(const struct dg_entity *e, const char *id);
/* The key a record is stored under: a blind index when the ID is personal. */
const char *x_record_key(const struct dg_env *env, struct dg_arena *a, const struct dg_entity *e,
			 const char *id);

/* Create (create true) or update a record; values is an object of field -> value. */
dg_rc x_record_put(const struct dg_env *env, struct dg_db *db, struct dg_arena *a,
		   const struct dg_entity *e, const char *id, json_t *values, const char *effective,
		   bool create, const char *actor, int64_t *version, struct dg_err *err) DG_MUST;
/* What x_record_put checks before it reads the store (the bulk load's first pass). */
dg_rc x_record_check(const struct dg_entity *e, const char *id, json_t *values,
		     const char *effective, struct dg_err *err) DG_MUST;
/* End a record from the date effective (it stays, marked ended). */
dg_rc x_record_end(const struct dg_env *env, struct dg_db *db, struct dg_arena *a,
		   const struct dg_entity *e, const char *id, const char *effective,
		   const char *actor, int64_t *version, struct dg_err *err) DG_MUST;

/* A record as read: every field's value in clear (owned), with its bookkeeping. */
struct x_record {
	json_t *values;                                /* owned by the caller: json_decref */
	const char *id;                                /* the ID in clear */
	const char *key, *subject, *effective, *ended; /* arena */
	int64_t version;
	bool consent; /* x_record_page with a purpose: the subject's consent to it is given */
};
/* Read the record stored under key. ENOTFOUND when there is none. */
dg_rc x_record_read(const struct dg_env *env, struct dg_db *db, struct dg_arena *a,
		    const struct dg_entity *e, const char *key, struct x_record *out) DG_MUST;
/*
 * The records in force of e after key after ("" or NULL: from the first), at
 * most limit of them in key order, read in one query: *out (arena) holds *n,
 * each one's values owned by the caller. With a purpose, each record's
 * consent says whether its subject's consent to that purpose is given (as
 * x_consent_has answers), read in the same query.
 */
dg_rc x_record_page(const struct dg_env *env, struct dg_db *db, struct dg_arena *a,
		    const struct dg_entity *e, const char *after, int64_t limit,
		    const char *purpose, struct x_record **out, size_t *n) DG_MUST;
/* Changes of e after version since (at most limit): an array of {version, record, op, ...}. */
dg_rc x_changes(struct dg_db *db, const struct dg_entity *e, int64_t since, int64_t limit,
		json_t **out) DG_MUST;
/* Sign-up's real-name check (env->person_check): ENOTFOUND unless name and ID are one living
 * person. */
dg_rc x_person_check(struct dg_env *env, struct dg_db *db, const char *name,
		     const char *id_number) DG_MUST;
/* A personal value as it may be shown: 110101********1234, 138****5678, 张**. */
json_t *x_mask(struct dg_arena *a, const char *field, json_t *v);

/* --- requests and grants (grants.c) --- */

struct x_request_new {
	const char *dept; /* the asking department's code */
	const char *registry;
	const char *fields; /* comma list */
	bool clear;         /* personal values in clear */
	const char *purpose;
	const char *legal_basis;
	const char *mode; /* "one" or "bulk" */
	const char *ends; /* YYYY-MM-DD */
	int64_t user_id;
	bool consent; /* reads need the person's consent (consent.c) */
};
/* Make a request; unconditional fields are granted at once. err names the field at fault. */
dg_rc x_request_create(struct dg_db *db, struct dg_arena *a, const struct x_request_new *q,
		       int64_t *id, struct dg_err *err) DG_MUST;
/*
 * approve, refuse (reason needed) or revoke a request, as a member of
 * staff of dept (the owner's), or any department when admin.
 */
dg_rc x_request_decide(struct dg_db *db, struct dg_arena *a, int64_t id, const char *action,
		       const char *reason, const char *dept, bool admin, int64_t user_id,
		       struct dg_err *err) DG_MUST;
/* Requests asked by dept (out) and to dept's registries (in); admin sees all in `in`. */
dg_rc x_requests_list(struct dg_db *db, const char *dept, bool admin, json_t **out,
		      json_t **in) DG_MUST;

/* A grant that covers a call, as x_grant_find found it. */
struct x_grant {
	int64_t id;
	char granted[1024]; /* comma list */
	bool clear;
	bool consent; /* a read needs the person's current consent to the purpose */
};
/*
 * The grant for dept reading registry for purpose in mode ("one"/"bulk"):
 * DG_OK, or DG_EDENIED with *why one of no_grant, wrong_purpose,
 * grant_expired, wrong_mode.
 */
dg_rc x_grant_find(struct dg_db *db, const char *dept, const char *registry, const char *purpose,
		   const char *mode, struct x_grant *g, const char **why) DG_MUST;
bool x_list_has(const char *list, const char *name);
/*
 * One row of xr_requests that grants fields, as x_grant_find and the
 * node's copy of the grants (xcache.c) read it: X_GRANT_COLS from
 * xr_requests X_GRANT_WHERE. The strings are borrowed.
 */
struct x_grant_row {
	int64_t id;
	const char *purpose, *mode, *ends, *granted;
	bool clear, consent;
};
#define X_GRANT_COLS  "id, purpose, mode, ends, granted, clear, consent, dept, registry"
#define X_GRANT_WHERE " WHERE granted <> '' AND status IN ('approved','pending')"
/* The current row of a query of X_GRANT_COLS (borrowed until dg_rows_next). */
void x_grant_row_of(struct dg_rows *rows, struct x_grant_row *row);
/* x_grant_find over rows: a department's grants for one registry, in id order. */
dg_rc x_grant_pick(const struct x_grant_row *rows, size_t n, const char *purpose, const char *mode,
		   struct x_grant *g, const char **why) DG_MUST;

/* --- the node's copy of keys and grants (xcache.c) --- */

/* A department system that holds a key, as the node's copy has it. */
struct x_client {
	int64_t id, rate;
	char dept[17], system[33];
};
/*
 * Forget the copy kept for store (module init: a node that opens a store
 * starts without one, whatever a node before it kept at that address).
 */
void x_cache_reset(const struct dg_store *s);
/* The version of the store's keys and grants (xr_version: raised by every change). */
dg_rc x_cache_version(struct dg_db *db, int64_t *v) DG_MUST;
/*
 * Bring the copy kept for store s to version v at least: when it is older
 * (or there is none), read the keys and grants again on db. v is a version
 * the caller read from the store before this call. DG_ETOOBIG when the
 * store holds too many keys or grants to keep: read them on each call.
 */
dg_rc x_cache_sync(struct dg_store *s, struct dg_db *db, int64_t v) DG_MUST;
/*
 * The client whose key hashes to key_hash in the copy: *found, *out, and
 * the copy's version in *v (0 when there is no copy yet).
 */
void x_cache_client(const struct dg_store *s, const char *key_hash, struct x_client *out,
		    bool *found, int64_t *v);
/*
 * x_grant_find answered from the copy, which must hold version v at least
 * (DG_ECONFLICT when it does not: sync first). The end date is checked
 * against today on every call.
 */
dg_rc x_cache_grant(const struct dg_store *s, int64_t v, const char *dept, const char *registry,
		    const char *purpose, const char *mode, struct x_grant *g,
		    const char **why) DG_MUST;

/* --- the exchange call (xparse.c: pure, fuzzed) --- */

#define X_MAX_FIELDS 64

struct x_call {
	char dept[17], system[33]; /* X-Dgov-Client: DEPT/SYSTEM */
	const char *key;           /* X-Dgov-Key */
	const char *purpose;       /* X-Dgov-Purpose */
	const char *request_id;    /* X-Dgov-Request-Id */
	int64_t user_id;           /* X-Dgov-User-Id, 0 when absent */
	const char *run;           /* X-Dgov-Run (bulk), or the request id */
	const char *fields[X_MAX_FIELDS];
	int nfields;       /* 0: every granted field */
	int64_t limit;     /* bulk: records in the page */
	const char *after; /* bulk: the key to continue after, or "" */
};

/* The headers and query of a call, as text (any may be NULL). */
struct x_call_in {
	const char *client, *key, *purpose, *request_id, *user_id, *run;
	const char *fields, *limit, *after;
};

/*
 * Parse and check the form of a call. DG_OK, or an error with *code one of
 * missing_client, bad_client, missing_key, missing_purpose, bad_purpose,
 * missing_request_id, bad_request_id, bad_user, bad_fields, bad_limit,
 * oversized_page, bad_after. Strings point into the arena or the input.
 */
dg_rc x_call_parse(struct dg_arena *a, const struct x_call_in *in, struct x_call *out,
		   const char **code) DG_MUST;
bool x_token_ok(const char *s, size_t max);

/* --- signing (sign.c) --- */

/* base64 SHA-512 of the call's canonical text (method, path, query, headers). */
char *x_request_hash(struct dg_arena *a, const char *method, const char *path,
		     const struct x_call *c);
/* Sign request hash and answer: the envelope {request_hash, answer, signature, key} (owned). */
json_t *x_sign(const struct dg_keys *k, const char *request_hash, json_t *answer);
/*
 * The same envelope as x_sign's, as its JSON text into out (initialised
 * here; the caller owns it): the answer is dumped once, as the signed text
 * has it (compact, keys sorted), so the body carries the very bytes signed.
 * DG_ETOOBIG (out released) for an answer over 64 MiB.
 */
struct dg_buf;
dg_rc x_sign_text(const struct dg_keys *k, const char *request_hash, json_t *answer,
		  struct dg_buf *out) DG_MUST;
/* Whether an envelope's signature holds under the node's key. */
bool x_verify(const struct dg_keys *k, json_t *envelope);

/* --- uses of a resident's records (uses.c) --- */

struct x_use {
	const char *subject, *kind, *dept, *system, *official, *purpose, *registry, *fields, *run;
	int64_t audit_seq;
};
dg_rc x_use_add(struct dg_db *db, const struct x_use *u) DG_MUST;
/*
 * The same use u (its subject ignored) for each of n distinct subjects, a
 * few statements in all: a bulk reader's page. Empty subjects are skipped;
 * a subject that already has a line for u's run gets none.
 */
dg_rc x_uses_add_many(struct dg_db *db, const struct x_use *u, const char *const *subjects,
		      size_t n) DG_MUST;
/* The uses of the resident whose blind index is subject, newest first. */
dg_rc x_uses_of(struct dg_db *db, const char *subject, int64_t limit, json_t **out) DG_MUST;

/* An official's name as shown to residents: its first character and '*' (arena). */
const char *x_initials(struct dg_arena *a, const char *name);
/* env.h's record_viewed: a staff view of a person's record, audited and on their page
 * (views.c). */
dg_rc x_record_viewed(struct dg_req *r, struct dg_db *db, int64_t holder, const char *ref,
		      const char *item, const char *what) DG_MUST;

/* --- the rule engine's reads (reader.c) --- */

#define X_READS_MAX 24 /* registries one rule schema may read */

/* The registries a rule schema reads, each with the fields it reads (comma list). */
struct x_reads {
	struct x_read {
		const struct dg_entity *e;
		char fields[1024];
		int64_t audit_seq; /* the audit record of this run's read */
	} reg[X_READS_MAX];
	int n;
};
/* What s reads, checked against the registries: EINVAL naming an unknown registry or field. */
dg_rc x_schema_reads(const struct dg_schema *s, struct x_reads *rs, struct dg_err *err) DG_MUST;

/* --- consent (consent.c) --- */

/* *given: subject's latest revision for purpose is "given" (false when none). */
dg_rc x_consent_has(struct dg_db *db, const char *subject, const char *purpose,
		    bool *given) DG_MUST;
/*
 * Give (give true) or withdraw subject's consent to purpose, as actor: a
 * revision linked to the one before and an audit record, in one
 * transaction (the caller's when it has one). *rev (may be NULL) gets its
 * number. EINVAL: a malformed purpose, or no grant asks consent for it;
 * ECONFLICT: the consent is in that state already; EDENIED: no subject.
 */
dg_rc x_consent_set(struct dg_db *db, const char *subject, const char *purpose, bool give,
		    const char *actor, int64_t *rev, struct dg_err *err) DG_MUST;
/*
 * What subject is asked to consent to and their revisions (owned):
 * {"purposes": [{purpose, given, at_ms, asks: [{dept, dept_zh, dept_en,
 * registry, fields, legal_basis, status, ends}]}], "revisions": [...]}.
 */
dg_rc x_consent_of(struct dg_db *db, const char *subject, json_t **out) DG_MUST;
/* Make request id need consent, as the owning department or an administrator (the asking
 * department says so in its request, x_request_new.consent). Audited as a grant change. */
dg_rc x_request_require_consent(struct dg_db *db, struct dg_arena *a, int64_t id, const char *dept,
				bool admin, int64_t user_id, struct dg_err *err) DG_MUST;
struct x_consent_report {
	int64_t revisions; /* revisions read */
	char subject[129]; /* the resident (blind index) of the first broken revision */
	int64_t bad_rev;   /* 0: all holds */
	char why[200];
};
/* Walk every resident's revisions: DG_OK, or ECONFLICT naming the first broken one. */
dg_rc x_consent_verify(struct dg_db *db, struct x_consent_report *out) DG_MUST;

/* --- pre-fill of applications (prefill.c) --- */

/* Whether an application for item has anything the exchange can fetch (env.h's hook). */
bool x_prefill_offered(const json_t *item);
/*
 * What can be fetched for a draft of item with form, handled by dept under
 * purpose (the item's code) (owned): [{kind "field"|"material", name,
 * label_zh, label_en, sources: [{registry, title, dept, fields}],
 * available, why}]; why is a refusal code (no_grant, wrong_purpose, ...)
 * when dept's grants do not cover it. A material that is a certificate dgov
 * issues is kind "certificate", with its issuing item and the applicant's
 * certificates of it: certs [{id, dept_name_zh, valid_from, status, valid,
 * chosen, ...}] (dg_cert_held), available when one is valid, else why
 * "no_certificate".
 */
dg_rc x_prefill_plan(struct dg_db *db, const struct dg_keys *keys, int64_t applicant,
		     const char *dept, const char *purpose, const json_t *form, const json_t *item,
		     json_t **out) DG_MUST;
/* One pre-fill's circumstances: the case, its department and purpose, the applicant. */
struct x_prefill_ctx {
	const struct dg_env *env;
	struct dg_db *db; /* in a transaction */
	struct dg_arena *a;
	const char *dept, *purpose, *ref;
	const char *subject; /* the applicant's blind index */
	int64_t applicant;
};
/*
 * Fetch a plan's field entry: values[name] gets the answer. Each read is
 * checked (grant, consent), audited and listed on /my/data-use. *why is a
 * refusal code (the refusal audited) or "masked", with DG_OK; an error is
 * the store's.
 */
dg_rc x_prefill_field(const struct x_prefill_ctx *c, const json_t *entry, json_t *values,
		      const char **why) DG_MUST;
/* Fetch a plan's material entry: *doc (owned) the signed document to attach. */
dg_rc x_prefill_material(const struct x_prefill_ctx *c, const json_t *entry, json_t **doc,
			 const char **why) DG_MUST;
/*
 * Attach certificate id to a plan's certificate entry: *doc (owned) the
 * signed reference to it (number, hash of its signed text, its signature;
 * not a copy), audited as a read and listed on the applicant's
 * /my/data-use. DG_EINVAL with *bad an i18n key when id is not one of the
 * applicant's certificates of the item, or is revoked, expired or not
 * valid today: nothing is written then.
 */
dg_rc x_prefill_certificate(const struct x_prefill_ctx *c, const json_t *entry, const char *id,
			    json_t **doc, const char **bad) DG_MUST;
/* Note the document a material became. */
dg_rc x_prefill_file_set(struct dg_db *db, const char *ref, const char *name,
			 int64_t file_id) DG_MUST;
/* env.h's prefill_sources: case ref's fetched answers by name, labelled for r (prefill_pages.c). */
dg_rc x_prefill_sources(struct dg_req *r, const char *ref, json_t **out) DG_MUST;
/* What was fetched for case ref, with its department and freshness (owned). */
dg_rc x_prefills_of(struct dg_db *db, const char *ref, json_t **out) DG_MUST;

/* pages.c's helpers for the other page files: a field of the JSON body or
 * the form; the signed-in resident's blind index ("" when no ID number). */
const char *x_input(struct dg_req *r, const char *name);
dg_rc x_my_subject(struct dg_req *r, struct dg_db *db, const char **subject) DG_MUST;

/* --- routes --- */
const struct dg_route *x_api_routes(size_t *n);
const struct dg_route *x_page_routes(size_t *n);
const struct dg_route *x_consent_routes(size_t *n);
const struct dg_route *x_prefill_routes(size_t *n);
/* The path's {registry}, when the requester may write it (its department's staff, an admin). */
dg_rc x_owned_registry(struct dg_req *r, struct dg_db *db, const struct dg_entity **out) DG_MUST;

/* --- bulk CSV loads (load.c) --- */
const struct dg_route *x_load_routes(size_t *n);
/* The "exchange.load" job, and `dgov exchange load REGISTRY FILE --effective DATE`. */
dg_rc x_load_run(struct dg_job *job, struct dg_err *err) DG_MUST;
int x_load_main(struct dg_env *env, const char *registry, const char *file, const char *effective);

/* --- demo --- */
dg_rc x_demo_seed(struct dg_env *env, struct dg_db *db, const struct dg_demo_opts *o,
		  struct dg_err *err) DG_MUST;
/* The demo's department systems and their keys (tests use them). */
#define X_DEMO_MZ_KEY "demo-mz-dibao-key-0001"
#define X_DEMO_RS_KEY "demo-rs-pension-key-0002"
#define X_DEMO_SJ_KEY "demo-sj-match-key-0003"

#endif
