/*
 * module.c - the exchange's descriptor: its tables, routes, the registries'
 * schema read at start-up, the demo's registries, and `dgov exchange`:
 *
 *   dgov exchange verify FILE           does a saved answer's signature hold
 *   dgov exchange key DEPT SYSTEM [RATE] give a department system a key
 *   dgov exchange key revoke DEPT SYSTEM  its key stops working
 *   dgov exchange key rotate DEPT SYSTEM  a new key for it; the old one stops working
 *   dgov exchange consent               do the consent revisions' chains hold
 *   dgov exchange load REGISTRY FILE --effective DATE   queue a bulk CSV load (load.c)
 */
#include "exchange/exchange.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/rand.h"
#include "core/str.h"
#include "exchange/internal.h"
#include "jobs/jobs.h"

static dg_rc init(struct dg_env *env, struct dg_err *err)
{
	const char *path = getenv("DGOV_REGISTRIES");
	char buf[4096];
	if (!path || !*path) {
		const char *t =
			env->cfg && env->cfg->templates_dir ? env->cfg->templates_dir : "templates";
		const char *slash = strrchr(t, '/');
		if (slash)
			snprintf(buf, sizeof buf, "%.*s/policies/registries.yaml", (int)(slash - t),
				 t);
		else
			snprintf(buf, sizeof buf, "policies/registries.yaml");
		path = buf;
	}
	env->person_check = x_person_check;
	/* the cases module offers the pre-fill step when there is something to fetch */
	env->prefill_offered = x_prefill_offered;
	env->prefill_sources = x_prefill_sources;
	env->record_viewed = x_record_viewed;
	/* a node that opens a store starts without a copy of its keys and grants */
	x_cache_reset(env->store);
	return x_schema_open(path, err);
}

static int usage(FILE *to)
{
	fprintf(to,
		"usage: dgov exchange verify FILE | key DEPT SYSTEM [RATE] | consent\n"
		"       dgov exchange key revoke|rotate DEPT SYSTEM\n"
		"       dgov exchange load REGISTRY FILE --effective YYYY-MM-DD\n"
		"  verify FILE           check the signature of an answer saved from /x/v1/...\n"
		"  consent               walk every resident's consent revisions; name the first\n"
		"                        one edited, reordered or removed\n"
		"  key DEPT SYSTEM RATE  give a department's system a key for the exchange\n"
		"                        (RATE calls a minute, default %d); prints the key once\n"
		"  key revoke DEPT SYSTEM  the system's key is refused from its next call on\n"
		"  key rotate DEPT SYSTEM  a new key for the system (also after a revoke),\n"
		"                        printed once; the old one is refused from then on\n"
		"  load REGISTRY FILE    queue a load of a CSV file into a registry (its ID\n"
		"                        column and fields; monthly ones as field@YYYY-MM)\n",
		X_RATE_DEFAULT);
	return to == stdout ? 0 : 2;
}

static int check(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "verify") == 0)
		return -1;
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "key") == 0)
		return -1;
	if (argc == 2 && strcmp(argv[1], "consent") == 0)
		return -1;
	if (argc == 6 && strcmp(argv[1], "load") == 0 && strcmp(argv[4], "--effective") == 0)
		return -1;
	if (argc == 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")))
		return usage(stdout);
	return usage(stderr);
}

/* A new key (key, 80 bytes) and the hash the store keeps of it (hex, 65 bytes). */
static void new_key(char *key, char *hex)
{
	char secret[65];
	dg_rand_hex(secret, 32);
	snprintf(key, 80, "dgx_%s", secret);
	unsigned char h[32];
	crypto_generichash(h, sizeof h, (const unsigned char *)key, strlen(key), NULL, 0);
	sodium_bin2hex(hex, 65, h, sizeof h);
}

static int make_key(struct dg_env *env, const char *dept, const char *system, long rate)
{
	if (!x_token_ok(dept, 16) || !x_token_ok(system, 32) || rate <= 0) {
		fprintf(stderr,
			"dgov exchange: DEPT and SYSTEM are letters and digits; RATE from 1\n");
		return 2;
	}
	char key[80], hex[65];
	new_key(key, hex);
	struct dg_db *db = NULL;
	if (dg_db_get(env->store, &db)) {
		fprintf(stderr, "dgov exchange: the store is not available\n");
		return 1;
	}
	dg_rc rc = dg_db_exec(
		db,
		"INSERT INTO xr_clients (dept, system, key_hash, rate_per_min, created_ms)"
		" VALUES (?, ?, ?, ?, ?)",
		DG_ARGS(DG_VT(dept), DG_VT(system), DG_VT(hex), DG_VI(rate), DG_VI(dg_now_ms())),
		NULL);
	dg_db_put(db);
	if (rc) {
		fprintf(stderr, "dgov exchange: %s/%s %s\n", dept, system,
			rc == DG_ECONFLICT ? "has a key already" : "could not be given a key");
		return 1;
	}
	printf("%s\n", key);
	return 0;
}

/*
 * Revoke or rotate a system's key. One UPDATE each: the store's triggers
 * raise the keys' version in its transaction, so every node's copy of the
 * keys (xcache.c) is read again before its next call is let through.
 * Rotating also lifts a revoke: the system gets a key that works again.
 */
static int change_key(struct dg_env *env, const char *what, const char *dept, const char *system)
{
	if (!x_token_ok(dept, 16) || !x_token_ok(system, 32)) {
		fprintf(stderr, "dgov exchange: DEPT and SYSTEM are letters and digits\n");
		return 2;
	}
	bool rotate = strcmp(what, "rotate") == 0;
	char key[80] = "", hex[65] = "";
	const char *h = hex;
	if (rotate)
		new_key(key, hex);
	struct dg_db *db = NULL;
	if (dg_db_get(env->store, &db)) {
		fprintf(stderr, "dgov exchange: the store is not available\n");
		return 1;
	}
	int64_t changed = 0, known = 0;
	dg_rc rc = rotate ? dg_db_exec(db,
				       "UPDATE xr_clients SET key_hash = ?, revoked_ms = 0"
				       " WHERE dept = ? AND system = ?",
				       DG_ARGS(DG_VT(h), DG_VT(dept), DG_VT(system)), &changed)
			  : dg_db_exec(db,
				       "UPDATE xr_clients SET revoked_ms = ?"
				       " WHERE dept = ? AND system = ? AND revoked_ms = 0",
				       DG_ARGS(DG_VI(dg_now_ms()), DG_VT(dept), DG_VT(system)),
				       &changed);
	if (!rc && !changed)
		rc = dg_db_query_int(
			db, "SELECT COUNT(*) FROM xr_clients WHERE dept = ? AND system = ?",
			DG_ARGS(DG_VT(dept), DG_VT(system)), &known);
	dg_db_put(db);
	if (rc) {
		fprintf(stderr, "dgov exchange: the key of %s/%s could not be changed (%s)\n", dept,
			system, dg_rc_name(rc));
		return 1;
	}
	if (!changed) {
		fprintf(stderr, "dgov exchange: %s/%s %s\n", dept, system,
			known ? "has its key revoked already"
			      : "has no key: there is no such system");
		return 1;
	}
	if (rotate)
		printf("%s\n", key);
	else
		printf("revoked: %s/%s\n", dept, system);
	return 0;
}

static int verify_file(struct dg_env *env, const char *path)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	if (!j) {
		fprintf(stderr, "dgov exchange: %s: %s\n", path, jerr.text);
		return 2;
	}
	bool ok = x_verify(&env->keys, j);
	json_decref(j);
	printf("%s\n", ok ? "valid: signed by this node's key"
			  : "INVALID: the signature does not hold for this request and answer");
	return ok ? 0 : 1;
}

static int verify_consent(struct dg_env *env)
{
	struct dg_db *db = NULL;
	struct x_consent_report rep;
	if (dg_db_get(env->store, &db)) {
		fprintf(stderr, "dgov exchange: the store is not available\n");
		return 1;
	}
	dg_rc rc = x_consent_verify(db, &rep);
	dg_db_put(db);
	if (rc == DG_OK) {
		printf("consent: %lld revisions, every chain holds\n", (long long)rep.revisions);
		return 0;
	}
	if (rc == DG_ECONFLICT) {
		printf("consent: BROKEN at resident %s, revision %lld: %s\n", rep.subject,
		       (long long)rep.bad_rev, rep.why);
		return 1;
	}
	fprintf(stderr, "dgov exchange: the consent revisions could not be read (%s)\n",
		dg_rc_name(rc));
	return 1;
}

static int exchange_main(struct dg_env *env, int argc, char **argv)
{
	if (check(argc, argv) != -1)
		return 2;
	if (strcmp(argv[1], "verify") == 0)
		return verify_file(env, argv[2]);
	if (strcmp(argv[1], "consent") == 0)
		return verify_consent(env);
	if (strcmp(argv[1], "load") == 0)
		return x_load_main(env, argv[2], argv[3], argv[5]);
	if (argc == 5 && (!strcmp(argv[2], "revoke") || !strcmp(argv[2], "rotate")))
		return change_key(env, argv[2], argv[3], argv[4]);
	int64_t rate = X_RATE_DEFAULT;
	if (argc == 5 && (dg_str_to_i64(dg_str_of(argv[4]), &rate) || rate > 1000000))
		rate = 0;
	return make_key(env, argv[2], argv[3], (long)rate);
}

/* The per-minute call counts older than an hour decide nothing: drop them. The
 * request ids seen stay, as the exchange's message log: an id is never reused. */
static dg_rc purge_run(struct dg_job *job, struct dg_err *err)
{
	dg_rc rc = dg_db_exec(job->db, "DELETE FROM xr_rate WHERE minute < ?",
			      DG_ARGS(DG_VI(dg_now_ms() / 60000 - 60)), NULL);
	return rc ? dg_err_set(err, rc, "the exchange's old call counts could not be removed")
		  : DG_OK;
}

static const struct dg_migration *const migrations[] = {dg_exchange_migrations, NULL};
static const struct dg_job_kind jobs[] = {
	{"exchange.purge", purge_run, 3},
	{"exchange.load", x_load_run, 3},
	{NULL, NULL, 0},
};
static const struct dg_task tasks[] = {
	{"exchange.purge", 3600},
	{NULL, 0},
};
static const dg_routes_fn routes[] = {x_api_routes,     x_page_routes, x_consent_routes,
				      x_prefill_routes, x_load_routes, NULL};
static const struct dg_command commands[] = {
	{"exchange", "exchange verify|key|consent|load  the data exchange between departments",
	 exchange_main, check},
	{NULL, NULL, NULL, NULL},
};

const struct dg_module dg_exchange_module = {
	.name = "exchange",
	.migrations = migrations,
	.routes = routes,
	.jobs = jobs,
	.tasks = tasks,
	.commands = commands,
	.init = init,
	.demo_seed = x_demo_seed,
};
