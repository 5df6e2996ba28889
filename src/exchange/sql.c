/*
 * sql.c - the exchange's tables.
 *
 * xr_records holds each registry's current records: the key (the ID, or its
 * blind index when the ID is personal), the subject (the blind index of the
 * person the record is about, for "who used my data"), the clear fields as
 * JSON and the personal and sensitive ones sealed (core/keys.h) in one
 * blob. xr_changes is the change log: every create, update and end, with a
 * version that only grows, so a reader can ask what changed since version
 * N. xr_requests holds requests and the grants they became. xr_clients are
 * the department systems that call the exchange, each with a key kept only
 * as a hash; xr_seen remembers their request ids (a replay is refused) and
 * xr_rate counts their calls per minute. xr_uses is what a resident's page
 * "who used my data" lists, one line per read and one per bulk run; the
 * audit log holds the evidence.
 */
#include "exchange/internal.h"

const struct dg_migration dg_exchange_migrations[] = {
	{"exchange-001-registries",
	 "CREATE TABLE xr_records ("
	 " registry TEXT NOT NULL,"
	 " rkey TEXT NOT NULL,"
	 " subject TEXT NOT NULL DEFAULT '',"
	 " data TEXT NOT NULL,"
	 " sealed TEXT,"
	 " version BIGINT NOT NULL,"
	 " effective TEXT NOT NULL,"
	 " ended TEXT,"
	 " updated_ms BIGINT NOT NULL,"
	 " PRIMARY KEY (registry, rkey));"
	 "CREATE TABLE xr_changes ("
	 " version {{pk}},"
	 " registry TEXT NOT NULL,"
	 " rkey TEXT NOT NULL,"
	 " op TEXT NOT NULL CHECK (op IN ('create','update','end')),"
	 " fields TEXT NOT NULL,"
	 " data TEXT NOT NULL,"
	 " sealed TEXT,"
	 " effective TEXT NOT NULL,"
	 " actor TEXT NOT NULL,"
	 " at_ms BIGINT NOT NULL);"
	 "CREATE INDEX xr_changes_registry ON xr_changes(registry, version);"
	 "CREATE TABLE xr_requests ("
	 " id {{pk}},"
	 " dept TEXT NOT NULL,"
	 " registry TEXT NOT NULL,"
	 " fields TEXT NOT NULL,"
	 " clear INTEGER NOT NULL DEFAULT 0,"
	 " purpose TEXT NOT NULL,"
	 " legal_basis TEXT NOT NULL,"
	 " mode TEXT NOT NULL CHECK (mode IN ('one','bulk')),"
	 " ends TEXT NOT NULL,"
	 " status TEXT NOT NULL CHECK (status IN ('pending','approved','refused','revoked')),"
	 " granted TEXT NOT NULL DEFAULT '',"
	 " reason TEXT NOT NULL DEFAULT '',"
	 " created_by BIGINT NOT NULL DEFAULT 0,"
	 " created_ms BIGINT NOT NULL,"
	 " decided_by BIGINT NOT NULL DEFAULT 0,"
	 " decided_ms BIGINT NOT NULL DEFAULT 0);"
	 "CREATE INDEX xr_requests_dept ON xr_requests(dept, registry);"
	 "CREATE TABLE xr_clients ("
	 " id {{pk}},"
	 " dept TEXT NOT NULL,"
	 " system TEXT NOT NULL,"
	 " name TEXT NOT NULL DEFAULT '',"
	 " key_hash TEXT NOT NULL UNIQUE,"
	 " rate_per_min INTEGER NOT NULL,"
	 " created_ms BIGINT NOT NULL,"
	 " revoked_ms BIGINT NOT NULL DEFAULT 0,"
	 " UNIQUE (dept, system));"
	 "CREATE TABLE xr_seen ("
	 " client_id BIGINT NOT NULL,"
	 " request_id TEXT NOT NULL,"
	 " at_ms BIGINT NOT NULL,"
	 " PRIMARY KEY (client_id, request_id));"
	 "CREATE TABLE xr_rate ("
	 " client_id BIGINT NOT NULL,"
	 " minute BIGINT NOT NULL,"
	 " n INTEGER NOT NULL,"
	 " PRIMARY KEY (client_id, minute));"
	 "CREATE TABLE xr_uses ("
	 " id {{pk}},"
	 " subject TEXT NOT NULL,"
	 " at_ms BIGINT NOT NULL,"
	 " kind TEXT NOT NULL,"
	 " dept TEXT NOT NULL,"
	 " system TEXT NOT NULL,"
	 " official TEXT NOT NULL DEFAULT '',"
	 " purpose TEXT NOT NULL,"
	 " registry TEXT NOT NULL,"
	 " fields TEXT NOT NULL,"
	 " run TEXT NOT NULL DEFAULT '',"
	 " audit_seq BIGINT NOT NULL DEFAULT 0);"
	 "CREATE INDEX xr_uses_subject ON xr_uses(subject, at_ms);"},
	/*
	 * Consent (consent.c): a grant may need the person's consent
	 * (xr_requests.consent); xr_consent holds each resident's consent
	 * revisions, per purpose, hash-chained per resident: rev runs 1, 2, 3
	 * and each hash links the revision before it (audit.h dg_audit_link).
	 */
	{"exchange-002-consent",
	 "ALTER TABLE xr_requests ADD COLUMN consent INTEGER NOT NULL DEFAULT 0;"
	 "CREATE TABLE xr_consent ("
	 " subject TEXT NOT NULL,"
	 " rev BIGINT NOT NULL,"
	 " purpose TEXT NOT NULL,"
	 " state TEXT NOT NULL CHECK (state IN ('given','withdrawn')),"
	 " at_ms BIGINT NOT NULL,"
	 " actor TEXT NOT NULL,"
	 " hash TEXT NOT NULL,"
	 " PRIMARY KEY (subject, rev));"
	 "CREATE INDEX xr_consent_purpose ON xr_consent(subject, purpose, rev);"},
	/*
	 * Pre-fill (prefill.c): per case, where each filled answer and each
	 * fetched document came from (registry, owning department) and how
	 * fresh the record was (effective date, last update, version), with the
	 * audit record of the read and the case's document it became.
	 */
	{"exchange-004-prefill", "CREATE TABLE xr_prefills ("
				 " case_ref TEXT NOT NULL,"
				 " name TEXT NOT NULL,"
				 " kind TEXT NOT NULL CHECK (kind IN ('field','material')),"
				 " registry TEXT NOT NULL,"
				 " dept TEXT NOT NULL,"
				 " effective TEXT NOT NULL,"
				 " updated_ms BIGINT NOT NULL,"
				 " version BIGINT NOT NULL,"
				 " at_ms BIGINT NOT NULL,"
				 " audit_seq BIGINT NOT NULL,"
				 " file_id BIGINT NOT NULL DEFAULT 0,"
				 " PRIMARY KEY (case_ref, name, registry));"},
	/* a record's changes in order: what a record was at a version (incremental runs) */
	{"exchange-005-change-keys",
	 "CREATE INDEX xr_changes_key ON xr_changes(registry, rkey, version);"},
	/*
	 * The version of the keys and grants (xcache.c): raised by every
	 * change of xr_clients or xr_requests, in its transaction, whoever
	 * makes it, so each node's copy of them knows when it is old.
	 */
	{"exchange-006-key-version",
	 "CREATE TABLE xr_version (id INTEGER PRIMARY KEY, v BIGINT NOT NULL);"
	 "INSERT INTO xr_version (id, v) VALUES (1, 1);"
	 "{{sqlite}}"
	 "CREATE TRIGGER xr_clients_ins AFTER INSERT ON xr_clients"
	 " BEGIN UPDATE xr_version SET v = v + 1 WHERE id = 1; END;"
	 "CREATE TRIGGER xr_clients_upd AFTER UPDATE ON xr_clients"
	 " BEGIN UPDATE xr_version SET v = v + 1 WHERE id = 1; END;"
	 "CREATE TRIGGER xr_clients_del AFTER DELETE ON xr_clients"
	 " BEGIN UPDATE xr_version SET v = v + 1 WHERE id = 1; END;"
	 "CREATE TRIGGER xr_requests_ins AFTER INSERT ON xr_requests"
	 " BEGIN UPDATE xr_version SET v = v + 1 WHERE id = 1; END;"
	 "CREATE TRIGGER xr_requests_upd AFTER UPDATE ON xr_requests"
	 " BEGIN UPDATE xr_version SET v = v + 1 WHERE id = 1; END;"
	 "CREATE TRIGGER xr_requests_del AFTER DELETE ON xr_requests"
	 " BEGIN UPDATE xr_version SET v = v + 1 WHERE id = 1; END;"
	 "{{end}}"
	 "{{pg}}"
	 "CREATE FUNCTION xr_version_raise() RETURNS trigger LANGUAGE plpgsql AS"
	 " 'BEGIN UPDATE xr_version SET v = v + 1 WHERE id = 1; RETURN NULL; END';"
	 "CREATE TRIGGER xr_clients_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
	 " ON xr_clients FOR EACH STATEMENT EXECUTE FUNCTION xr_version_raise();"
	 "CREATE TRIGGER xr_requests_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
	 " ON xr_requests FOR EACH STATEMENT EXECUTE FUNCTION xr_version_raise();"
	 "{{end}}"},
	{NULL, NULL},
};
