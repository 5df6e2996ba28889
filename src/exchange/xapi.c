/*
 * xapi.c - the exchange API, X-Road style, for department systems:
 *
 *   GET  /x/v1/{registry}/{id}?fields=a,b     one record
 *   GET  /x/v1/{registry}?fields=a,b&limit=N&after=K   a page of a bulk read
 *   POST /x/v1/verify                          does an answer's signature hold
 *
 * A call carries X-Dgov-Client (DEPT/SYSTEM), X-Dgov-Key (the system's
 * key), X-Dgov-Purpose (a catalogue item code or policy id), X-Dgov-Request-Id
 * (used once), and may carry X-Dgov-User-Id (the official at the keyboard)
 * and X-Dgov-Run (the bulk run a page belongs to). The checks run in a
 * fixed order, each before anything is read: the call's form, the key and
 * whose it is, the request id not seen before, the caller's rate, the
 * registry, the fields, the official, the record's ID and region, and the
 * grant for this department, registry, purpose and mode. A refusal is a
 * JSON error {"error":{"code","message"}} with its status, and it is
 * appended to the audit log just as an answer is, in the same transaction
 * as the request id and the rate count.
 *
 * An answer lists the fields given, the fields withheld (outside the grant)
 * and the fields masked (personal, and the grant does not allow them in
 * clear), and comes in an envelope with the request hash and the node's
 * signature of both (sign.c).
 */
#include "exchange/internal.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "core/buf.h"
#include "core/date.h"
#include "core/log.h"
#include "http/server.h"
#include "web/page.h"

struct refusal {
	const char *code;
	unsigned status;
	const char *message;
};

static const struct refusal refusals[] = {
	{"missing_client", 400, "X-Dgov-Client must name the calling system as DEPT/SYSTEM"},
	{"bad_client", 400, "X-Dgov-Client must be DEPT/SYSTEM in letters, digits, '-', '_'"},
	{"missing_key", 401, "X-Dgov-Key must carry the calling system's key"},
	{"bad_key", 401, "the key is not one this node gave out, or it was revoked"},
	{"wrong_department", 401, "the key belongs to another department's system"},
	{"missing_request_id", 400, "X-Dgov-Request-Id must carry a new id for every call"},
	{"bad_request_id", 400, "X-Dgov-Request-Id is 8 to 64 letters, digits, '-', '_', '.', ':'"},
	{"missing_purpose", 400, "X-Dgov-Purpose must name the catalogue item or policy"},
	{"bad_purpose", 400, "X-Dgov-Purpose is a catalogue item code or a policy id"},
	{"bad_user", 400, "X-Dgov-User-Id is not a member of staff of the calling department"},
	{"bad_run", 400, "X-Dgov-Run is at most 64 letters, digits, '-', '_', '.', ':'"},
	{"bad_fields", 400, "fields is a comma list of field names"},
	{"bad_limit", 400, "limit is a whole number of records from 1"},
	{"oversized_page", 413, "a page holds at most 500 records"},
	{"bad_after", 400, "after is the next key given by the page before"},
	{"replayed", 409, "this request id was used before: every call needs a new one"},
	{"over_rate", 429, "the calling system has made too many calls this minute"},
	{"unknown_registry", 404, "there is no such registry"},
	{"unknown_field", 400, "the registry has no such field"},
	{"bad_id", 400, "the record's ID is malformed"},
	{"other_region", 403, "the record belongs to another region's registry"},
	{"no_grant", 403, "the department has no grant for this registry (deny by default)"},
	{"wrong_purpose", 403, "the department's grants for this registry are for other purposes"},
	{"grant_expired", 403, "the grant for this purpose has ended"},
	{"wrong_mode", 403, "the grant is for reading one record by ID, not bulk"},
	{"no_consent", 403,
	 "the grant needs the person's consent to this purpose, and it is not given"},
	{"not_found", 404, "the registry has no record with that ID"},
	{"store", 503, "the registry could not be read; nothing was read"},
};

static const struct refusal *refusal_of(const char *code)
{
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		if (strcmp(refusals[i].code, code) == 0)
			return &refusals[i];
	return &refusals[sizeof(refusals) / sizeof(refusals[0]) - 1];
}

/* What one call has found out so far, for its audit record. */
struct xctx {
	struct dg_req *r;
	struct dg_db *db;
	struct x_call c;
	bool parsed;
	int64_t client_id;
	const char *registry, *id, *subject, *hash;
	bool bulk;
};

static const char *actor_of(struct xctx *x)
{
	if (!x->client_id)
		return "unknown";
	if (x->c.user_id)
		return dg_arena_printf(x->r->arena, "dept:%s/system:%s/user:%lld", x->c.dept,
				       x->c.system, (long long)x->c.user_id);
	return dg_arena_printf(x->r->arena, "dept:%s/system:%s", x->c.dept, x->c.system);
}

/* The refusal's JSON error as the reply. */
static void reply_refusal(struct dg_req *r, const struct refusal *f, const char *request_id)
{
	json_t *body = json_pack("{s:{s:s,s:s},s:s}", "error", "code", f->code, "message",
				 f->message, "request_id", request_id);
	dg_reply_header(r, "X-Dgov-Error", f->code);
	dg_reply_json(r, f->status, body);
}

/* Audit a refusal, commit what the call wrote (request id, rate) and answer it. */
static dg_rc refuse(struct xctx *x, const char *code)
{
	struct dg_req *r = x->r;
	const struct refusal *f = refusal_of(code);
	json_t *d = json_pack("{s:s,s:s,s:s,s:b}", "outcome", code, "registry",
			      x->registry && x_token_ok(x->registry, 64) ? x->registry : "",
			      "request_id", x->parsed ? x->c.request_id : "", "bulk", x->bulk);
	if (x->hash)
		json_object_set_new(d, "request_hash", json_string(x->hash));
	struct dg_audit_rec rec = {.kind = "exchange.refused",
				   .actor = actor_of(x),
				   .subject = x->subject ? x->subject : "",
				   .purpose = x->parsed ? x->c.purpose : "",
				   .detail = d};
	/* what the call wrote (request id, rate) first, then the refusal's record */
	dg_rc rc = x->db ? DG_OK : DG_EUNAVAIL;
	if (!rc && dg_db_in_tx(x->db))
		rc = dg_db_commit(x->db);
	if (!rc)
		rc = dg_db_set_lazy(x->db, false);
	if (!rc)
		rc = dg_audit_append_group(r->env->store, x->db, &rec, NULL);
	json_decref(d);
	if (rc) {
		if (x->db)
			dg_db_rollback(x->db);
		/* a refusal that cannot be recorded is not given as if it were */
		f = refusal_of("store");
		dg_warn("req=%s exchange refusal %s could not be audited: %s", r->id, code,
			dg_rc_name(rc));
	}
	reply_refusal(r, f, x->parsed ? x->c.request_id : "");
	return DG_OK;
}

/*
 * An answer waiting for its audit record's commit (dg_audit_append_async):
 * the use lines on the resident's page are written in the same
 * transaction as the record (then), and the answer goes once the commit
 * is done (done, then resumed on a server thread); a failed commit gives
 * the caller the store error instead, and nothing of the record.
 */
struct xwait {
	struct dg_req *r;
	dg_rc rc;
	const char *request_id;
	struct x_use use;  /* the subject and seq set per line */
	const char **subs; /* the records' subjects ("" for nobody) */
	size_t nsubs;
};

static dg_rc uses_then(struct dg_db *db, int64_t seq, void *ctx)
{
	struct xwait *w = ctx;
	dg_rc rc = DG_OK;
	for (size_t i = 0; !rc && i < w->nsubs; i++) {
		struct x_use u = w->use;
		u.subject = w->subs[i];
		u.audit_seq = seq;
		rc = x_use_add(db, &u);
	}
	return rc;
}

static void audit_done(void *ctx, dg_rc rc, int64_t seq)
{
	struct xwait *w = ctx;
	(void)seq;
	w->rc = rc;
	dg_server_release(w->r);
}

static void answer_resumed(struct dg_req *r, void *ctx)
{
	struct xwait *w = ctx;
	if (!w->rc)
		return;
	dg_warn("req=%s exchange answer not given: its audit record failed: %s", r->id,
		dg_rc_name(w->rc));
	reply_refusal(r, refusal_of("store"), w->request_id);
}

static const char *hash_key(struct dg_arena *a, const char *key)
{
	unsigned char h[32];
	char *hex = dg_arena_alloc(a, 65);
	crypto_generichash(h, sizeof h, (const unsigned char *)key, strlen(key), NULL, 0);
	sodium_bin2hex(hex, 65, h, sizeof h);
	return hex;
}

/* The key from the store, as before the node kept a copy (a store with too many keys). */
static const char *client_read(struct xctx *x, const char *kh, struct x_client *cl)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(x->db,
			       "SELECT id, dept, system, rate_per_min FROM xr_clients"
			       " WHERE key_hash = ? AND revoked_ms = 0",
			       DG_ARGS(DG_VT(kh)), &rows);
	if (!rc)
		rc = dg_rows_next(rows);
	if (!rc) {
		cl->id = dg_rows_int(rows, 0);
		snprintf(cl->dept, sizeof cl->dept, "%s", dg_rows_text(rows, 1));
		snprintf(cl->system, sizeof cl->system, "%s", dg_rows_text(rows, 2));
		cl->rate = dg_rows_int(rows, 3);
	}
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? "bad_key" : rc ? "store" : NULL;
}

/*
 * Write the call's request id and count it in the minute: *seen false
 * when the id was used before, *n the minute's count. With v > 0 only if
 * the store's keys and grants are still at version v, else nothing is
 * written and *stale gets the version they are at. On PostgreSQL one
 * statement does it all, its own transaction, committed lazily
 * (set_config(..., true) lasts until that commit: no SET before and after);
 * on SQLite (no writes inside WITH, and no round trips to save) three, in
 * the caller's transaction, which the caller made lazy.
 */
static dg_rc note_call(struct xctx *x, int64_t client, int64_t v, bool *seen, int64_t *n,
		       int64_t *stale)
{
	int64_t now = dg_now_ms();
	*stale = 0;
	if (dg_db_kind(x->db) == DG_STORE_PG) {
		struct dg_rows *rows = NULL;
		dg_rc rc = dg_db_query(
			x->db,
			"WITH lazy AS (SELECT set_config('synchronous_commit', 'off', true)),"
			" ok AS (SELECT 1 FROM xr_version, lazy WHERE id = 1 AND (v = ? OR ? = 0)),"
			" s AS (INSERT INTO xr_seen (client_id, request_id, at_ms)"
			" SELECT CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT) FROM ok"
			" ON CONFLICT (client_id, request_id) DO NOTHING RETURNING 1),"
			" r AS (INSERT INTO xr_rate (client_id, minute, n)"
			" SELECT CAST(? AS BIGINT), CAST(? AS BIGINT), 1 FROM s"
			" ON CONFLICT (client_id, minute) DO UPDATE SET n = xr_rate.n + 1 "
			"RETURNING n)"
			" SELECT (SELECT v FROM xr_version WHERE id = 1), (SELECT COUNT(*) FROM "
			"ok),"
			" (SELECT COUNT(*) FROM s), COALESCE((SELECT n FROM r), 0)",
			DG_ARGS(DG_VI(v), DG_VI(v), DG_VI(client), DG_VT(x->c.request_id),
				DG_VI(now), DG_VI(client), DG_VI(now / 60000)),
			&rows);
		if (!rc)
			rc = dg_rows_next(rows);
		if (!rc) {
			if (dg_rows_int(rows, 1) == 0)
				*stale = dg_rows_int(rows, 0);
			*seen = dg_rows_int(rows, 2) != 0;
			*n = dg_rows_int(rows, 3);
		}
		dg_rows_free(rows);
		return rc;
	}
	if (v) {
		int64_t now_v = 0;
		dg_rc rc = x_cache_version(x->db, &now_v);
		if (rc)
			return rc;
		if (now_v != v) {
			*stale = now_v;
			return DG_OK;
		}
	}
	int64_t changed = 0;
	dg_rc rc = dg_db_exec(x->db,
			      "INSERT INTO xr_seen (client_id, request_id, at_ms) VALUES (?, ?, ?)"
			      " ON CONFLICT (client_id, request_id) DO NOTHING",
			      DG_ARGS(DG_VI(client), DG_VT(x->c.request_id), DG_VI(now)), &changed);
	*seen = changed != 0;
	if (rc || !*seen)
		return rc;
	return dg_db_query_int(x->db,
			       "INSERT INTO xr_rate (client_id, minute, n) VALUES (?, ?, 1)"
			       " ON CONFLICT (client_id, minute) DO UPDATE SET n = xr_rate.n + 1"
			       " RETURNING n",
			       DG_ARGS(DG_VI(client), DG_VI(now / 60000)), n);
}

/*
 * The key, whose it is, a request id not seen before, and the rate. NULL
 * when all holds; *v then gets the version of keys and grants the key was
 * checked at (0: read from the store, not the node's copy).
 *
 * The key comes from the node's copy (xcache.c), checked by the version in
 * the statement that writes the request id: a copy found older is read
 * again and the check made again, at most a few times (a store whose keys
 * change faster than that is answered "store", nothing written).
 */
static const char *check_caller(struct xctx *x, int64_t *v)
{
	struct dg_store *s = x->r->env->store;
	const char *kh = hash_key(x->r->arena, x->c.key);
	struct x_client cl = {0};
	bool found = false, seen = false, copy = true;
	int64_t cv = 0, stale = 0, n = 0;
	for (int tries = 0;; tries++) {
		if (tries == 4)
			return "store";
		x_cache_client(s, kh, &cl, &found, &cv);
		if (found && !strcmp(cl.dept, x->c.dept) && !strcmp(cl.system, x->c.system)) {
			if (note_call(x, cl.id, cv, &seen, &n, &stale))
				return "store";
			if (!stale)
				break;
		} else {
			/* not in the copy, or another system's: the copy is current, or read it
			 * again */
			if (x_cache_version(x->db, &stale))
				return "store";
			if (cv && stale <= cv)
				return found ? "wrong_department" : "bad_key";
		}
		dg_rc rc = x_cache_sync(s, x->db, stale);
		if (rc == DG_ETOOBIG) {
			copy = false;
			break;
		}
		if (rc)
			return "store";
	}
	if (!copy) {
		const char *code = client_read(x, kh, &cl);
		if (code)
			return code;
		if (strcmp(cl.dept, x->c.dept) || strcmp(cl.system, x->c.system))
			return "wrong_department";
		if (note_call(x, cl.id, 0, &seen, &n, &stale))
			return "store";
		cv = 0;
	}
	x->client_id = cl.id;
	*v = cv;
	if (!seen)
		return "replayed";
	return n > cl.rate ? "over_rate" : NULL;
}

/* The official's name as initials: the first character and '*'s. */
static const char *check_official(struct xctx *x, const char **initials)
{
	*initials = "";
	if (!x->c.user_id)
		return NULL;
	char *name = NULL;
	dg_rc rc = dg_db_query_text(
		x->db,
		"SELECT u.name FROM users u JOIN departments d ON d.id = u.dept_id"
		" WHERE u.id = ? AND u.role = 'staff' AND d.code = ?"
		" AND u.disabled = 0",
		DG_ARGS(DG_VI(x->c.user_id), DG_VT(x->c.dept)), x->r->arena, &name);
	if (rc == DG_ENOTFOUND)
		return "bad_user";
	if (rc)
		return "store";
	*initials = x_initials(x->r->arena, name);
	return NULL;
}

/* Build one record's answer: given, withheld and masked fields. */
static json_t *answer_record(struct xctx *x, const struct dg_entity *e, const struct x_grant *g,
			     struct x_record *rec, const char **shown)
{
	struct dg_arena *a = x->r->arena;
	json_t *fields = json_object(), *withheld = json_array(), *masked = json_array();
	struct dg_buf b;
	dg_buf_init(&b, 8192);
	for (int i = 0; i < (x->c.nfields ? x->c.nfields : e->nf); i++) {
		const char *name = x->c.nfields ? x->c.fields[i] : e->f[i].name;
		const struct dg_field *f = &e->f[x_field(e, name)];
		if (!x_list_has(g->granted, name)) {
			if (x->c.nfields)
				json_array_append_new(withheld, json_string(name));
			continue;
		}
		json_t *v = json_object_get(rec->values, name);
		if (!v)
			v = json_null();
		else
			json_incref(v);
		if (f->cls >= DG_CLASS_PERSONAL && !g->clear) {
			json_t *m = x_mask(a, name, v);
			json_decref(v);
			v = m;
			json_array_append_new(masked, json_string(name));
		}
		json_object_set_new(fields, name, v);
		if ((b.len && dg_buf_addc(&b, ',')) || dg_buf_adds(&b, name))
			break;
	}
	*shown = dg_arena_strdup(a, dg_buf_str(&b));
	dg_buf_release(&b);
	const char *id = rec->id;
	if (x_id_personal(e) && !g->clear)
		id = dg_mask_id(a, id);
	return json_pack("{s:s,s:I,s:s,s:o,s:o,s:o,s:o}", "id", id, "version",
			 (json_int_t)rec->version, "effective", rec->effective, "ended",
			 rec->ended ? json_string(rec->ended) : json_null(), "fields", fields,
			 "withheld", withheld, "masked", masked);
}

static dg_rc serve(struct dg_req *r, bool bulk)
{
	struct xctx x = {.r = r, .bulk = bulk};
	r->api = true;
	x.registry = dg_kvs_get(&r->params, "registry");
	x.id = bulk ? NULL : dg_kvs_get(&r->params, "id");
	const char *code = NULL, *initials = "";
	struct x_call_in in = {
		.client = dg_req_header(r, "X-Dgov-Client"),
		.key = dg_req_header(r, "X-Dgov-Key"),
		.purpose = dg_req_header(r, "X-Dgov-Purpose"),
		.request_id = dg_req_header(r, "X-Dgov-Request-Id"),
		.user_id = dg_req_header(r, "X-Dgov-User-Id"),
		.run = dg_req_header(r, "X-Dgov-Run"),
		.fields = dg_kvs_get(&r->query, "fields"),
		.limit = bulk ? dg_kvs_get(&r->query, "limit") : NULL,
		.after = bulk ? dg_kvs_get(&r->query, "after") : NULL,
	};
	/*
	 * The caller's checks write the request id and the minute's count, a row
	 * every call of the client updates: committed lazily, in a transaction of
	 * their own, so that row is not held while a commit waits for the disk
	 * (a crash may forget the last moment's ids and counts, never an audit
	 * record). An answer's record is then committed with the others arriving
	 * meanwhile (dg_audit_append_async), its use lines in the same
	 * transaction, while the answer waits without a server thread or a store
	 * connection (dg_server_hold); it leaves once the commit is done. A
	 * refusal's record is committed the same way, waiting on its thread.
	 */
	/* the request's one connection (a call with a session cookie has it already) */
	if (dg_req_db(r, &x.db)) {
		x.db = NULL;
		return refuse(&x, "store");
	}
	if (x_call_parse(r->arena, &in, &x.c, &code))
		return refuse(&x, code);
	x.parsed = true;
	x.hash = x_request_hash(r->arena, r->method, r->path, &x.c);
	/* PostgreSQL writes them in one lazy statement, SQLite in a lazy transaction of a few */
	if (dg_db_kind(x.db) == DG_STORE_SQLITE &&
	    (dg_db_set_lazy(x.db, true) || dg_db_begin(x.db)))
		return refuse(&x, "store");
	int64_t v = 0;
	if ((code = check_caller(&x, &v)))
		return refuse(&x, code);
	if ((dg_db_in_tx(x.db) && dg_db_commit(x.db)) || dg_db_set_lazy(x.db, false))
		return refuse(&x, "store");
	const struct dg_entity *e = x_registry(x.registry);
	if (!e)
		return refuse(&x, "unknown_registry");
	for (int i = 0; i < x.c.nfields; i++)
		if (x_field(e, x.c.fields[i]) < 0)
			return refuse(&x, "unknown_field");
	if ((code = check_official(&x, &initials)))
		return refuse(&x, code);
	const char *key = NULL;
	if (!bulk) {
		if (!x_id_ok(e, x.id))
			return refuse(&x, "bad_id");
		key = x_record_key(r->env, r->arena, e, x.id);
		if (x_id_personal(e)) {
			x.subject = key;
			if (strncmp(x.id, r->env->region.code, 6) != 0)
				return refuse(&x, "other_region");
		}
	}
	struct x_grant g;
	const char *why = NULL;
	const char *mode = bulk ? "bulk" : "one";
	/* from the node's copy, at the version the key was checked at or later */
	dg_rc rc =
		v ? x_cache_grant(r->env->store, v, x.c.dept, e->name, x.c.purpose, mode, &g, &why)
		  : DG_ECONFLICT;
	if (rc == DG_ECONFLICT || rc == DG_ETOOBIG)
		rc = x_grant_find(x.db, x.c.dept, e->name, x.c.purpose, mode, &g, &why);
	if (rc == DG_EDENIED)
		return refuse(&x, why);
	if (rc)
		return refuse(&x, "store");

	json_t *answer = NULL;
	const char *shown = "";
	int64_t count = 0, no_consent = 0; /* records left out for want of consent */
	const char *next = NULL;
	json_t *subjects = json_array();
	if (!bulk) {
		struct x_record rec;
		rc = x_record_read(r->env, x.db, r->arena, e, key, &rec);
		if (rc == DG_ENOTFOUND) {
			json_decref(subjects);
			return refuse(&x, "not_found");
		}
		if (rc) {
			json_decref(subjects);
			return refuse(&x, "store");
		}
		x.subject = rec.subject;
		if (g.consent) {
			/* nothing of the record leaves without the person's consent */
			bool given = false;
			rc = x_consent_has(x.db, rec.subject, x.c.purpose, &given);
			if (rc || !given) {
				json_decref(rec.values);
				json_decref(subjects);
				return refuse(&x, rc ? "store" : "no_consent");
			}
		}
		answer = answer_record(&x, e, &g, &rec, &shown);
		json_decref(rec.values);
		json_array_append_new(subjects, json_string(rec.subject));
		count = 1;
	} else {
		json_t *records = json_array();
		struct x_record *recs = NULL;
		size_t n = 0;
		rc = x_record_page(r->env, x.db, r->arena, e, x.c.after, x.c.limit,
				   g.consent ? x.c.purpose : NULL, &recs, &n);
		for (size_t i = 0; i < n; i++) {
			struct x_record *rec = &recs[i];
			next = rec->key;
			if (g.consent && !rec->consent) {
				/* left out: the page still advances past it */
				json_decref(rec->values);
				no_consent++;
				continue;
			}
			json_array_append_new(records, answer_record(&x, e, &g, rec, &shown));
			json_array_append_new(subjects, json_string(rec->subject));
			json_decref(rec->values);
			count++;
		}
		if (count + no_consent < x.c.limit)
			next = NULL;
		if (rc) {
			json_decref(records);
			json_decref(subjects);
			return refuse(&x, "store");
		}
		answer =
			json_pack("{s:o,s:o,s:I,s:I}", "records", records, "next",
				  next ? json_string(next) : json_null(), "count",
				  (json_int_t)count, "withheld_no_consent", (json_int_t)no_consent);
	}
	json_object_set_new(answer, "registry", json_string(e->name));
	json_object_set_new(answer, "client",
			    json_string(dg_arena_printf(r->arena, "%s/%s", x.c.dept, x.c.system)));
	json_object_set_new(answer, "purpose", json_string(x.c.purpose));
	json_object_set_new(answer, "request_id", json_string(x.c.request_id));
	json_object_set_new(answer, "grant", json_integer(g.id));
	json_object_set_new(answer, "at_ms", json_integer(dg_now_ms()));

	json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:b}", "outcome", "ok", "registry", e->name,
			      "request_id", x.c.request_id, "request_hash", x.hash, "grant",
			      (json_int_t)g.id, "records", (json_int_t)count, "bulk", bulk);
	json_object_set_new(d, "fields", json_string(shown));
	if (bulk)
		json_object_set_new(d, "run", json_string(x.c.run));
	if (no_consent)
		json_object_set_new(d, "withheld_no_consent", json_integer(no_consent));
	struct dg_audit_rec rec = {.kind = bulk ? "exchange.bulk" : "exchange.read",
				   .actor = actor_of(&x),
				   .subject = bulk ? "" : (x.subject ? x.subject : ""),
				   .purpose = x.c.purpose,
				   .detail = d};
	struct xwait *w = dg_arena_alloc(r->arena, sizeof *w);
	*w = (struct xwait){.r = r,
			    .request_id = x.c.request_id,
			    .use = {.kind = bulk ? "bulk" : "one",
				    /* x.c is on this stack: what the wait reads is in the arena */
				    .dept = dg_arena_strdup(r->arena, x.c.dept),
				    .system = dg_arena_strdup(r->arena, x.c.system),
				    .official = initials,
				    .purpose = x.c.purpose,
				    .registry = e->name,
				    .fields = shown,
				    .run = bulk ? x.c.run : ""}};
	w->nsubs = json_array_size(subjects);
	w->subs = dg_arena_alloc(r->arena, (w->nsubs + 1) * sizeof *w->subs);
	size_t i;
	json_t *s;
	json_array_foreach (subjects, i, s)
		w->subs[i] = dg_arena_strdup(r->arena, json_string_value(s));
	json_decref(subjects);
	/*
	 * The answer is made now and held: it leaves once its record is
	 * committed. Its JSON is dumped once, for the signature, and the reply
	 * carries those bytes (a page of 500 records was dumped twice).
	 */
	struct dg_buf body;
	rc = x_sign_text(&r->env->keys, x.hash, answer, &body);
	json_decref(answer);
	if (rc) {
		/* over 64 MiB: no page of 500 gets there; nothing leaves, the refusal is audited */
		json_decref(d);
		return refuse(&x, "store");
	}
	dg_reply_header(r, "X-Dgov-Request-Hash", x.hash);
	dg_reply_buf(r, 200, "application/json; charset=utf-8", &body);
	dg_buf_release(&body);
	/* nothing more is read: the connection goes back before the wait */
	dg_req_db_put(r);
	x.db = NULL;
	dg_server_hold(r, answer_resumed, w);
	rc = dg_audit_append_async(r->env->store, &rec, w->nsubs ? uses_then : NULL, audit_done, w);
	json_decref(d);
	if (rc) {
		/* never queued: no hook runs, so the release is ours */
		w->rc = rc;
		dg_server_release(r);
	}
	return DG_OK;
}

static dg_rc x_one(struct dg_req *r)
{
	return serve(r, false);
}

static dg_rc x_bulk(struct dg_req *r)
{
	return serve(r, true);
}

static dg_rc x_verify_post(struct dg_req *r)
{
	r->api = true;
	if (!r->json || !json_is_object(r->json))
		return dg_err_set(&r->err, DG_EINVAL,
				  "send the answer's whole envelope as application/json");
	bool ok = x_verify(&r->env->keys, r->json);
	char pk[65];
	sodium_bin2hex(pk, sizeof pk, r->env->keys.sign_pk, sizeof r->env->keys.sign_pk);
	dg_reply_json(r, 200, json_pack("{s:b,s:s}", "valid", ok, "key", pk));
	return DG_OK;
}

/* Department systems identify themselves by key, not by session: no cookies, no CSRF. */
static const struct dg_route routes[] = {
	{"POST", "/x/v1/verify", x_verify_post, DG_ROLE_ANY, DG_ROUTE_PUBLIC | DG_ROUTE_NO_CSRF},
	{"GET", "/x/v1/{registry}", x_bulk, DG_ROLE_ANY, DG_ROUTE_PUBLIC},
	{"GET", "/x/v1/{registry}/{id}", x_one, DG_ROLE_ANY, DG_ROUTE_PUBLIC},
};

const struct dg_route *x_api_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
