/*
 * test_exchange_concurrent.c - the exchange under many callers at once,
 * and the keys' commands, on the store DGOV_TEST_DB selects.
 *
 * An answer waits for its audit record's commit without holding a server
 * thread (the connection is suspended, the record written in a batch with
 * the others): THREADS callers, more than the server's threads, each make
 * CALLS lookups at once; every lookup granted gets its own record (the
 * right person, its own request id) and exactly one audit record and one
 * use line; the refused ones (a revoked key, a department whose grants
 * are for other purposes) are refused with their code and logged once
 * each; the chain verifies after. When the store refuses the audit record, the caller gets the
 * store error and nothing of the record, and nothing is logged as read.
 * When the store refuses a call's use line, that call alone gets the store
 * error; the other calls of its batch get their answers and their records.
 * Answers waiting for their records keep no store connection, even with a
 * session cookie: more of them than the pool's connections all complete.
 * `dgov exchange key revoke|rotate`: a revoked key is refused on the next
 * call, a rotated key's old half is refused and the new one read with, and
 * each mistake (an unknown system, a key revoked twice, a bad name) is an
 * error with its exit code.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "app/app.h"
#include "audit/audit.h"
#include "core/failpoint.h"
#include "exchange/exchange.h"
#include "harness.h"
#include "node/demo.h"
#include "store/store.h"

#define ZHANGSAN_ID "990100198503120313" /* the demo resident zhangsan */
#define LISI_ID     "990100199207040428"
#define PURPOSE     "990100-MZ-902"
#define KEY_OK      "test-conc-key-0001"
#define KEY_REVOKED "test-conc-key-0002"
#define KEY_NOGRANT "test-conc-key-0003"
/* six times the server's threads, and under the node's 32 connections an address */
#define THREADS 24
#define CALLS   8

static int seq_ids;

static void add_client(const char *dept, const char *system, const char *key, long revoked)
{
	unsigned char h[32];
	char hex[65], sql[512];
	crypto_generichash(h, sizeof h, (const unsigned char *)key, strlen(key), NULL, 0);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	snprintf(sql, sizeof sql,
		 "INSERT INTO xr_clients (dept, system, key_hash, rate_per_min, created_ms,"
		 " revoked_ms) VALUES ('%s', '%s', '%s', 100000, 0, %ld)",
		 dept, system, hex, revoked);
	th_sql(th_shared, sql);
}

/*
 * GET /x/v1/person/ID as client with key and request id rid, on the
 * connection of cl (NULL: a new one): the status, *out the body.
 */
static long lookup_fields(struct th_client *cl, const char *client, const char *key, const char *id,
			  const char *rid, const char *fields, json_t **out)
{
	char h[4][120], path[120];
	snprintf(h[0], sizeof h[0], "X-Dgov-Client: %s", client);
	snprintf(h[1], sizeof h[1], "X-Dgov-Key: %s", key);
	snprintf(h[2], sizeof h[2], "X-Dgov-Purpose: " PURPOSE);
	snprintf(h[3], sizeof h[3], "X-Dgov-Request-Id: %s", rid);
	snprintf(path, sizeof path, "/x/v1/person/%s?fields=%s", id, fields);
	const char *hdrs[] = {h[0], h[1], h[2], h[3], NULL};
	struct th_client *own = cl ? NULL : th_client_new(th_shared);
	struct th_resp r = {0};
	long st = th_request(cl ? cl : own, "GET", path, NULL, NULL, 0, hdrs, &r);
	*out = r.body ? json_loads(r.body, 0, NULL) : NULL;
	th_resp_release(&r);
	if (own)
		th_client_free(own);
	return st;
}

static long lookup_on(struct th_client *cl, const char *client, const char *key, const char *id,
		      const char *rid, json_t **out)
{
	return lookup_fields(cl, client, key, id, rid, "name,birth_date", out);
}

static long lookup(const char *client, const char *key, const char *id, const char *rid,
		   json_t **out)
{
	return lookup_on(NULL, client, key, id, rid, out);
}

static const char *err_code(json_t *j)
{
	const char *c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
	return c ? c : "";
}

static const char *answer_name(json_t *j)
{
	json_t *f =
		json_object_get(json_object_get(json_object_get(j, "answer"), "fields"), "name");
	return json_string_value(f) ? json_string_value(f) : "";
}

/* records of kind whose detail names request id rid */
static int64_t records_of(const char *kind, const char *rid)
{
	char q[300];
	snprintf(q, sizeof q,
		 "SELECT COUNT(*) FROM audit_log WHERE kind = '%s'"
		 " AND detail LIKE '%%\"request_id\":\"%s\"%%'",
		 kind, rid);
	return th_sql_int(th_shared, q);
}

static int64_t count_sql(const char *q)
{
	return th_sql_int(th_shared, q);
}

/* what each caller thread does, and what it found */
struct caller {
	int n;
	const char *client, *key;
	long want;            /* the status every call of this caller must get */
	const char *code;     /* the refusal's code, or NULL for a granted read */
	const char *names[2]; /* the name each person's answer must carry */
	const char *fields;   /* the fields asked for (NULL: name and birth date) */
	const char *rid;      /* the request ids' prefix (NULL: "test-conc") */
	bool cookie;          /* calls with a signed-in resident's session cookie */
	int bad;              /* calls that were not answered as wanted */
	char why[200];
};

static void *caller_main(void *arg)
{
	struct caller *c = arg;
	/* one connection each, kept alive, as a department system's client would */
	struct th_client *cl =
		c->cookie ? th_signed_in(th_shared, "wangwu") : th_client_new(th_shared);
	for (int i = 0; i < CALLS; i++) {
		char rid[40];
		snprintf(rid, sizeof rid, "%s-%02d-%02d", c->rid ? c->rid : "test-conc", c->n, i);
		const char *id = (c->n + i) % 2 ? LISI_ID : ZHANGSAN_ID;
		json_t *j = NULL;
		long st = lookup_fields(cl, c->client, c->key, id, rid,
					c->fields ? c->fields : "name,birth_date", &j);
		bool ok = st == c->want;
		if (ok && c->code)
			ok = strcmp(err_code(j), c->code) == 0 && !json_object_get(j, "answer");
		if (ok && !c->code) {
			json_t *a = json_object_get(j, "answer");
			ok = !strcmp(json_string_value(json_object_get(a, "request_id")), rid) &&
			     !strcmp(answer_name(j), c->names[(c->n + i) % 2]) &&
			     json_object_get(j, "signature");
		}
		if (!ok && !c->bad++)
			snprintf(c->why, sizeof c->why, "%s: status %ld, code '%s', name '%s'", rid,
				 st, err_code(j), answer_name(j));
		json_decref(j);
	}
	th_client_free(cl);
	return NULL;
}

static void verify_chain(void)
{
	struct dg_app *app = th_app(th_shared);
	struct dg_db *db = NULL;
	struct dg_audit_report rep;
	assert_int_equal(dg_db_get(app->env.store, &db), DG_OK);
	dg_rc rc = dg_audit_verify(db, &app->env.keys, app->env.region.code, &rep);
	dg_db_put(db);
	if (rc)
		fail_msg("the chain breaks at %lld: %s", (long long)rep.bad_seq, rep.why);
}

/*
 * THREADS callers at once, CALLS each, against a server of 4 threads:
 * granted reads (the right person each), a revoked key and a department
 * whose grants are for other purposes among them.
 */
static void many_callers(void **state)
{
	(void)state;
	/* each person's name, from one call alone */
	const char *names[2];
	char *keep[2];
	const char *ids[2] = {ZHANGSAN_ID, LISI_ID};
	for (int i = 0; i < 2; i++) {
		char rid[32];
		json_t *j = NULL;
		snprintf(rid, sizeof rid, "test-conc-first-%d", ++seq_ids);
		assert_int_equal(lookup("mz/conc", KEY_OK, ids[i], rid, &j), 200);
		keep[i] = strdup(answer_name(j));
		names[i] = keep[i];
		json_decref(j);
	}
	assert_string_not_equal(names[0], names[1]);
	assert_true(names[0][0] && names[1][0]);

	int64_t reads0 = count_sql("SELECT COUNT(*) FROM audit_log WHERE kind = 'exchange.read'");
	int64_t refused0 =
		count_sql("SELECT COUNT(*) FROM audit_log WHERE kind = 'exchange.refused'");
	int64_t uses0 = count_sql("SELECT COUNT(*) FROM xr_uses");
	struct caller cs[THREADS];
	pthread_t th[THREADS];
	int granted = 0, refused = 0;
	for (int t = 0; t < THREADS; t++) {
		cs[t] = (struct caller){.n = t, .names = {names[0], names[1]}};
		if (t % 8 == 3) {
			cs[t].client = "mz/revoked", cs[t].key = KEY_REVOKED;
			cs[t].want = 401, cs[t].code = "bad_key";
		} else if (t % 8 == 5) {
			cs[t].client = "rs/conc", cs[t].key = KEY_NOGRANT;
			cs[t].want = 403, cs[t].code = "wrong_purpose";
		} else {
			cs[t].client = "mz/conc", cs[t].key = KEY_OK;
			cs[t].want = 200;
		}
		if (cs[t].code)
			refused += CALLS;
		else
			granted += CALLS;
		assert_int_equal(pthread_create(&th[t], NULL, caller_main, &cs[t]), 0);
	}
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	for (int t = 0; t < THREADS; t++)
		if (cs[t].bad)
			fail_msg("caller %d: %d calls not as wanted; first %s", t, cs[t].bad,
				 cs[t].why);
	/* one record per call, of its kind, naming its request id; one use line per read */
	assert_int_equal(count_sql("SELECT COUNT(*) FROM audit_log WHERE kind = 'exchange.read'"),
			 reads0 + granted);
	assert_int_equal(
		count_sql("SELECT COUNT(*) FROM audit_log WHERE kind = 'exchange.refused'"),
		refused0 + refused);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM xr_uses"), uses0 + granted);
	for (int t = 0; t < THREADS; t++)
		for (int i = 0; i < CALLS; i++) {
			char rid[40];
			snprintf(rid, sizeof rid, "test-conc-%02d-%02d", t, i);
			const char *kind = cs[t].code ? "exchange.refused" : "exchange.read";
			if (records_of(kind, rid) != 1)
				fail_msg("%s: %lld %s records, wanted 1", rid,
					 (long long)records_of(kind, rid), kind);
		}
	/* the use lines point at their reads' records */
	assert_int_equal(count_sql("SELECT COUNT(*) FROM xr_uses u JOIN audit_log a"
				   " ON a.seq = u.audit_seq WHERE a.kind = 'exchange.read'"
				   " AND u.purpose = '" PURPOSE "'"),
			 granted + 2);
	verify_chain();
	free(keep[0]);
	free(keep[1]);
}

/* The store refuses the read's audit record: the caller gets the store error, no data. */
static void audit_refused(void **state)
{
	(void)state;
	bool pg = dg_store_kind(th_app(th_shared)->env.store) == DG_STORE_PG;
	th_sql(th_shared, pg ? "ALTER TABLE audit_log ADD CONSTRAINT th_no_reads"
			       " CHECK (kind <> 'exchange.read') NOT VALID"
			     : "CREATE TRIGGER th_no_reads BEFORE INSERT ON audit_log"
			       " WHEN NEW.kind = 'exchange.read'"
			       " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
	int64_t uses0 = count_sql("SELECT COUNT(*) FROM xr_uses");
	json_t *j = NULL;
	long st = lookup("mz/conc", KEY_OK, ZHANGSAN_ID, "test-conc-refused-1", &j);
	th_sql(th_shared, pg ? "ALTER TABLE audit_log DROP CONSTRAINT th_no_reads"
			     : "DROP TRIGGER th_no_reads");
	assert_int_equal(st, 503);
	assert_string_equal(err_code(j), "store");
	assert_null(json_object_get(j, "answer"));
	assert_null(json_object_get(j, "signature"));
	char *text = json_dumps(j, 0);
	assert_null(strstr(text, "birth_date"));
	free(text);
	json_decref(j);
	assert_int_equal(records_of("exchange.read", "test-conc-refused-1"), 0);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM xr_uses"), uses0);
	/* once the store takes records again, so do reads */
	assert_int_equal(lookup("mz/conc", KEY_OK, ZHANGSAN_ID, "test-conc-refused-2", &j), 200);
	json_decref(j);
	assert_int_equal(records_of("exchange.read", "test-conc-refused-2"), 1);
	verify_chain();
}

/* n callers started at once, CALLS each, as cs[] says */
static void start_callers(struct caller *cs, pthread_t *th, int n)
{
	for (int t = 0; t < n; t++)
		assert_int_equal(pthread_create(&th[t], NULL, caller_main, &cs[t]), 0);
}

/* ... and done; fails with the first caller answered wrongly */
static void join_callers(struct caller *cs, pthread_t *th, int n)
{
	for (int t = 0; t < n; t++)
		pthread_join(th[t], NULL);
	for (int t = 0; t < n; t++)
		if (cs[t].bad)
			fail_msg("caller %d: %d calls not as wanted; first %s", t, cs[t].bad,
				 cs[t].why);
}

/* the name each person's answer carries */
static void names_of(char *names[2])
{
	const char *ids[2] = {ZHANGSAN_ID, LISI_ID};
	for (int i = 0; i < 2; i++) {
		char rid[32];
		json_t *j = NULL;
		snprintf(rid, sizeof rid, "test-conc-first-%d", ++seq_ids);
		assert_int_equal(lookup("mz/conc", KEY_OK, ids[i], rid, &j), 200);
		names[i] = strdup(answer_name(j));
		json_decref(j);
	}
}

/*
 * The store refuses one kind of call's use line (the resident's "who used
 * my data" line; here every lookup of the name alone): callers asking for
 * the name alone and callers asking for more at once, so their records
 * share batches. Each refused use line fails its own call alone: it gets
 * the store error and nothing of the record, and has no record and no use
 * line; every other call gets its answer, its record and its use line,
 * and the chain verifies.
 */
static void one_use_fails_alone(void **state)
{
	(void)state;
	bool pg = dg_store_kind(th_app(th_shared)->env.store) == DG_STORE_PG;
	char *names[2];
	names_of(names);
	th_sql(th_shared, pg ? "ALTER TABLE xr_uses ADD CONSTRAINT th_no_name_use"
			       " CHECK (fields <> 'name') NOT VALID"
			     : "CREATE TRIGGER th_no_name_use BEFORE INSERT ON xr_uses"
			       " WHEN NEW.fields = 'name'"
			       " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
	int64_t reads0 = count_sql("SELECT COUNT(*) FROM audit_log WHERE kind = 'exchange.read'");
	int64_t uses0 = count_sql("SELECT COUNT(*) FROM xr_uses");
	enum { N = 12 };
	struct caller cs[N];
	int granted = 0;
	for (int t = 0; t < N; t++) {
		cs[t] = (struct caller){.n = t,
					.names = {names[0], names[1]},
					.client = "mz/conc",
					.key = KEY_OK,
					.rid = "test-conc-use",
					.want = 200};
		if (t % 4 == 1)
			cs[t].fields = "name", cs[t].want = 503, cs[t].code = "store";
		else
			granted += CALLS;
	}
	pthread_t th[N];
	start_callers(cs, th, N);
	join_callers(cs, th, N);
	th_sql(th_shared, pg ? "ALTER TABLE xr_uses DROP CONSTRAINT th_no_name_use"
			     : "DROP TRIGGER th_no_name_use");
	assert_int_equal(count_sql("SELECT COUNT(*) FROM audit_log WHERE kind = 'exchange.read'"),
			 reads0 + granted);
	assert_int_equal(count_sql("SELECT COUNT(*) FROM xr_uses"), uses0 + granted);
	for (int t = 0; t < N; t++)
		for (int i = 0; i < CALLS; i++) {
			char rid[40];
			snprintf(rid, sizeof rid, "test-conc-use-%02d-%02d", t, i);
			if (records_of("exchange.read", rid) != (cs[t].code ? 0 : 1))
				fail_msg("%s: %lld read records", rid,
					 (long long)records_of("exchange.read", rid));
		}
	verify_chain();
	free(names[0]);
	free(names[1]);
}

/*
 * Calls that come with a signed-in resident's session cookie (the session
 * is read on the request's store connection) from more callers at once
 * than the node's pool has connections (4 server threads + 1 job worker
 * + 2), while the audit log's writer is held before it takes a connection
 * for the batch: the answers waiting for it keep no connection (one is
 * free for the asking meanwhile), and once the writer goes on every call
 * is answered, none refused for want of a connection.
 */
static void held_calls_with_cookies(void **state)
{
	(void)state;
	char *names[2];
	names_of(names);
	int64_t reads0 = count_sql("SELECT COUNT(*) FROM audit_log WHERE kind = 'exchange.read'");
	struct caller cs[THREADS];
	for (int t = 0; t < THREADS; t++)
		cs[t] = (struct caller){.n = t,
					.names = {names[0], names[1]},
					.client = "mz/conc",
					.key = KEY_OK,
					.rid = "test-conc-cookie",
					.cookie = true,
					.want = 200};
	struct dg_err err = {0};
	assert_int_equal(dg_failpoint_set("audit.writer=hold:30000", &err), DG_OK);
	pthread_t th[THREADS];
	start_callers(cs, th, THREADS);
	for (int i = 0; i < 1000 && dg_failpoint_fired("audit.writer") < 1; i++)
		th_sleep_ms(10);
	bool held = dg_failpoint_fired("audit.writer") >= 1;
	/* the callers' first calls gather behind the held writer */
	th_sleep_ms(1500);
	struct dg_db *db = NULL;
	dg_rc rc = dg_db_try_get(th_app(th_shared)->env.store, &db);
	dg_db_put(db);
	assert_int_equal(dg_failpoint_set("", &err), DG_OK);
	join_callers(cs, th, THREADS);
	assert_true(held);
	if (rc)
		fail_msg("the calls waiting for their audit commit held every store connection");
	assert_int_equal(count_sql("SELECT COUNT(*) FROM audit_log WHERE kind = 'exchange.read'"),
			 reads0 + THREADS * CALLS);
	verify_chain();
	free(names[0]);
	free(names[1]);
}

/* `dgov exchange ARGS...` in this process; its exit code, *out what it printed (owned). */
static int command(char **out, int argc, ...)
{
	char *argv[8] = {0};
	argv[0] = (char *)"exchange";
	va_list ap;
	va_start(ap, argc);
	for (int i = 1; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	char path[] = "/tmp/dgov-test-conc-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stdout);
	int saved = dup(1);
	dup2(fd, 1);
	const struct dg_command *c = &dg_exchange_module.commands[0];
	int rc = c->check(argc, argv);
	if (rc == -1)
		rc = c->run(&th_app(th_shared)->env, argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	char buf[256] = "";
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	char *nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	close(fd);
	unlink(path);
	if (out)
		*out = strdup(buf);
	return rc;
}

static long call_status(const char *key, char code[32])
{
	char rid[40];
	json_t *j = NULL;
	snprintf(rid, sizeof rid, "test-conc-key-%d", ++seq_ids);
	long st = lookup("mz/keycmd", key, LISI_ID, rid, &j);
	snprintf(code, 32, "%s", err_code(j));
	json_decref(j);
	return st;
}

static void key_commands(void **state)
{
	(void)state;
	char *k1 = NULL, *k2 = NULL, *said = NULL, code[32];
	assert_int_equal(command(&k1, 4, "key", "mz", "keycmd"), 0);
	assert_true(strncmp(k1, "dgx_", 4) == 0);
	/* the node's copy of the keys is warm with k1 */
	assert_int_equal(call_status(k1, code), 200);
	assert_int_equal(call_status(k1, code), 200);

	assert_int_equal(command(&said, 5, "key", "revoke", "mz", "keycmd"), 0);
	assert_string_equal(said, "revoked: mz/keycmd");
	free(said);
	assert_int_equal(call_status(k1, code), 401);
	assert_string_equal(code, "bad_key");
	/* the refusal is logged */
	assert_true(count_sql("SELECT COUNT(*) FROM audit_log WHERE kind = 'exchange.refused'"
			      " AND actor = 'unknown' AND detail LIKE '%bad_key%'") > 0);
	/* a second revoke, an unknown system, a bad name: errors, nothing changed */
	assert_int_equal(command(NULL, 5, "key", "revoke", "mz", "keycmd"), 1);
	assert_int_equal(command(NULL, 5, "key", "revoke", "mz", "nosuch"), 1);
	assert_int_equal(command(NULL, 5, "key", "rotate", "mz", "nosuch"), 1);
	assert_int_equal(command(NULL, 5, "key", "revoke", "mz", "a b"), 2);
	assert_int_equal(command(NULL, 3, "key", "revoke"), 2);

	/* rotate: a new key that works (the revoke lifted), the old one refused */
	assert_int_equal(command(&k2, 5, "key", "rotate", "mz", "keycmd"), 0);
	assert_true(strncmp(k2, "dgx_", 4) == 0);
	assert_string_not_equal(k1, k2);
	assert_int_equal(call_status(k2, code), 200);
	assert_int_equal(call_status(k1, code), 401);
	assert_string_equal(code, "bad_key");
	/* and again, from a working key: the old half stops at once */
	char *k3 = NULL;
	assert_int_equal(command(&k3, 5, "key", "rotate", "mz", "keycmd"), 0);
	assert_int_equal(call_status(k2, code), 401);
	assert_string_equal(code, "bad_key");
	assert_int_equal(call_status(k3, code), 200);
	free(k1);
	free(k2);
	free(k3);
	verify_chain();
}

static int setup(void **state)
{
	if (th_group_setup(state))
		return 1;
	add_client("mz", "conc", KEY_OK, 0);
	add_client("mz", "revoked", KEY_REVOKED, 1);
	add_client("rs", "conc", KEY_NOGRANT, 0);
	th_sql(th_shared, "INSERT INTO xr_requests (dept, registry, fields, clear, purpose,"
			  " legal_basis, mode, ends, status, granted, created_ms) VALUES"
			  " ('mz', 'person', 'name,birth_date', 1, '" PURPOSE "', 'test', 'one',"
			  " '2099-12-31', 'approved', 'name,birth_date', 0)");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(many_callers),        cmocka_unit_test(audit_refused),
		cmocka_unit_test(one_use_fails_alone), cmocka_unit_test(held_calls_with_cookies),
		cmocka_unit_test(key_commands),
	};
	return cmocka_run_group_tests(tests, setup, th_group_teardown);
}
