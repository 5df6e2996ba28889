/*
 * test_proactive_incr.c - incremental matching runs over the demo region's
 * shared registries (read through the exchange), on the store DGOV_TEST_DB
 * selects:
 *
 * - the first run of a policy is full; a second run of the same version
 *   for the same date re-reads only the records changed in the registries
 *   since (none: every answer carried forward);
 * - with nothing changed it reads nothing: no resident's record is read;
 * - after an income change, a change in a member of a household, an ended
 *   person, a new person and a person who moved to another household, an
 *   incremental run's answers equal a full run's over the same data
 *   exactly, explanation and all (outcome, amount, conditions, the values
 *   used), for a household rule (dibao, which sums its members) and a person
 *   rule (elderly_allowance); it reads those records and what they reach by
 *   key, far fewer than a full run;
 * - a chain of incremental runs, each continuing the one before (an income
 *   change; a person moving between households; a person deleted and one
 *   added), ends with the answers and counts of a full run, and each run's
 *   changes are exactly those between its answers and the run before's;
 * - a change to a registry a shown run's policy reads queues one incremental
 *   run of it (a burst of changes, one run; a change to a registry it does
 *   not read, none; within the delay after its last run, none yet), and
 *   that run's answers equal a full run's;
 * - another date, a new version of the policy, or {"full": true} make a run
 *   full; a "full" that is not true or false is refused and starts nothing;
 * - the policy's page says which runs were incremental;
 * - a run that cannot find the changed records by key reads them all,
 *   answers afresh only what the changes reach and still equals a full run;
 * - more persons leaving the registry than a batch drops at once: an
 *   incremental run still equals a full run, each one eligible before
 *   listed ABSENT, gone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "app/app.h"
#include "core/failpoint.h"
#include "core/keys.h"
#include "jobs/jobs.h"
#include "node/demo.h"
#include "rule/rule.h"
#include "rule/yaml.h"
#include "store/store.h"
#include "harness.h"

/* The two policies of the demo the tests run. */
static const char *const POLICIES[] = {"dibao", "elderly_allowance"};

static char *mz_tok, *admin_tok;
static char root[4096];

static long api(const char *tok, const char *method, const char *path, json_t *body, json_t **out)
{
	struct th_client *cl = th_client_new(th_shared);
	const char *hdrs[] = {tok, NULL};
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct th_resp r = {0};
	long st = th_request(cl, method, path, body ? "application/json" : NULL, text,
			     text ? strlen(text) : 0, hdrs, &r);
	if (out)
		*out = r.body ? json_loads(r.body, 0, NULL) : NULL;
	free(text);
	th_resp_release(&r);
	th_client_free(cl);
	return st;
}

/* Run policy code for date (full: asked to be full), wait for its job; the run's id. */
static int64_t run_policy(const char *code, const char *date, bool full)
{
	json_t *j = NULL, *b = json_pack("{s:s}", "date", date);
	if (full)
		json_object_set_new(b, "full", json_true());
	char path[256];
	snprintf(path, sizeof path, "/api/proactive/policies/%s/runs", code);
	assert_int_equal(api(mz_tok, "POST", path, b, &j), 202);
	json_decref(b);
	int64_t job = json_integer_value(json_object_get(j, "job"));
	json_decref(j);
	json_decref(th_wait_job(th_shared, job));
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT id FROM pr_runs WHERE job_id = %lld", (long long)job);
	return th_sql_int(th_shared, sql);
}

/* The run's counts, after checking it is done. */
static json_t *counts_of(int64_t run)
{
	json_t *j = NULL;
	char path[128];
	snprintf(path, sizeof path, "/api/proactive/runs/%lld", (long long)run);
	assert_int_equal(api(mz_tok, "GET", path, NULL, &j), 200);
	if (strcmp(json_string_value(json_object_get(j, "state")), "done") != 0)
		fail_msg("run %lld: %s", (long long)run,
			 json_string_value(json_object_get(j, "error")));
	json_t *c = json_incref(json_object_get(j, "counts"));
	json_decref(j);
	return c;
}

/* The residents whose records run read (one use each, on "who used my data"). */
static int64_t read_by(int64_t run)
{
	char sql[128];
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM xr_uses WHERE run = 'proactive-run-%lld'",
		 (long long)run);
	return th_sql_int(th_shared, sql);
}

static const char *mode_of(json_t *counts)
{
	return json_string_value(json_object_get(counts, "mode"));
}

/* Every answer of a run but the records gone from the registries, keyed "rule/id". */
static json_t *answers(int64_t run)
{
	json_t *all = json_object();
	for (int page = 1;; page++) {
		json_t *j = NULL;
		char path[256];
		snprintf(path, sizeof path,
			 "/api/proactive/runs/%lld/matches?per_page=500&explain=1&page=%d",
			 (long long)run, page);
		assert_int_equal(api(mz_tok, "GET", path, NULL, &j), 200);
		json_t *l = json_object_get(j, "matches");
		size_t i;
		json_t *m;
		json_array_foreach (l, i, m) {
			if (!strcmp(json_string_value(json_object_get(m, "outcome")), "ABSENT"))
				continue;
			char key[256];
			snprintf(key, sizeof key, "%s/%s",
				 json_string_value(json_object_get(m, "rule")),
				 json_string_value(json_object_get(m, "id")));
			json_object_del(m, "change"); /* against each run's own run before */
			json_object_set(all, key, m);
		}
		size_t n = json_array_size(l);
		json_decref(j);
		if (n < 500)
			break;
	}
	return all;
}

/* Runs a and b gave the same answers, record by record, explanation and all. */
static void same_answers(int64_t a, int64_t b)
{
	json_t *x = answers(a), *y = answers(b);
	assert_true(json_object_size(x) > 0);
	const char *k;
	json_t *v;
	json_object_foreach (x, k, v) {
		json_t *w = json_object_get(y, k);
		if (!w)
			fail_msg("run %lld answers %s, run %lld does not", (long long)a, k,
				 (long long)b);
		if (!json_equal(v, w)) {
			char *s1 = json_dumps(v, JSON_COMPACT), *s2 = json_dumps(w, JSON_COMPACT);
			fail_msg("%s: run %lld: %s\nrun %lld: %s", k, (long long)a, s1,
				 (long long)b, s2);
		}
	}
	assert_int_equal(json_object_size(x), json_object_size(y));
	json_decref(x);
	json_decref(y);
}

/* The demo's persons: ID number -> household, opened as the exchange keeps them. */
static json_t *persons(void)
{
	struct dg_db *db = NULL;
	struct dg_rows *rows = NULL;
	struct dg_arena *a = dg_arena_new();
	json_t *out = json_object();
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	dg_rc rc = dg_db_query(db,
			       "SELECT data, sealed FROM xr_records WHERE registry = 'person'"
			       " AND ended IS NULL ORDER BY rkey",
			       DG_NOARGS, &rows);
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		json_t *clear = json_loads(dg_rows_text(rows, 0), 0, NULL);
		char *plain = NULL;
		assert_int_equal(
			dg_pii_open(&th_app(th_shared)->env.keys, a, dg_rows_text(rows, 1), &plain),
			DG_OK);
		json_t *sealed = json_loads(plain, 0, NULL);
		const char *hh = json_string_value(json_object_get(clear, "household"));
		json_object_set_new(out, json_string_value(json_object_get(sealed, "_id")),
				    json_string(hh ? hh : ""));
		json_decref(clear);
		json_decref(sealed);
	}
	assert_int_equal(rc, DG_ENOTFOUND);
	dg_rows_free(rows);
	dg_db_put(db);
	dg_arena_free(a);
	return out;
}

/* The members of household hh in ps. */
static int members(json_t *ps, const char *hh)
{
	int n = 0;
	const char *k;
	json_t *v;
	json_object_foreach (ps, k, v)
		n += !strcmp(json_string_value(v), hh);
	return n;
}

static void write_record(const char *registry, const char *id, const char *what, json_t *body)
{
	char path[256];
	snprintf(path, sizeof path, "/api/exchange/registries/%s/records%s%s%s", registry,
		 id ? "/" : "", id ? id : "", what);
	json_t *j = NULL;
	long st = api(admin_tok, "POST", path, body, &j);
	if (st == 404 && id && !*what) {
		/* no record of that person in the registry yet: create it */
		json_decref(j);
		json_object_set_new(body, "id", json_string(id));
		snprintf(path, sizeof path, "/api/exchange/registries/%s/records", registry);
		st = api(admin_tok, "POST", path, body, &j);
	}
	json_decref(body);
	if (st != 200 && st != 201) {
		char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
		fail_msg("%s: %ld %s", path, st, t ? t : "");
	}
	json_decref(j);
}

/* A new ID number for a person born on 1940-01-01 that no record has. */
static void new_id(json_t *ps, char out[19])
{
	for (unsigned seq = 901;; seq++) {
		snprintf(out, 19, "99010019400101%03u", seq % 1000u);
		out[17] = dg_id_check_char(out);
		out[18] = '\0';
		if (!json_object_get(ps, out))
			return;
	}
}

static void first_full_then_carried(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++) {
		int64_t first = run_policy(POLICIES[i], "2026-12-01", false);
		json_t *c = counts_of(first);
		assert_string_equal(mode_of(c), "full");
		assert_int_equal(json_integer_value(json_object_get(c, "reread")),
				 json_integer_value(json_object_get(c, "answers")));
		json_decref(c);
		/* nothing changed since: every answer carried */
		int64_t again = run_policy(POLICIES[i], "2026-12-01", false);
		c = counts_of(again);
		assert_string_equal(mode_of(c), "incremental");
		assert_int_equal(json_integer_value(json_object_get(c, "reread")), 0);
		assert_true(json_integer_value(json_object_get(c, "answers")) > 0);
		assert_int_equal(json_integer_value(json_object_get(c, "newly_eligible")), 0);
		json_decref(c);
		same_answers(first, again);
		/* and nothing was read: no record of anyone */
		assert_true(read_by(first) > 0);
		assert_int_equal(read_by(again), 0);
	}
}

/*
 * Two households of at least min members in ps (person -> household): *from
 * and *to, and *mover, a member of the first.
 */
static void two_households(json_t *ps, int min, const char **from, const char **to,
			   const char **mover)
{
	const char *k;
	json_t *v;
	json_object_foreach (ps, k, v) {
		const char *hh = json_string_value(v);
		if (!*hh || members(ps, hh) < min)
			continue;
		if (!*from) {
			*from = hh;
			*mover = k;
		} else if (strcmp(hh, *from) != 0) {
			*to = hh;
			break;
		}
	}
	assert_non_null(*to);
}

static void changes_equal_full(void **state)
{
	(void)state;
	json_t *ps = persons();
	/* two households of two or more: a member of the first moves to the second */
	const char *from = NULL, *to = NULL, *mover = NULL;
	two_households(ps, 2, &from, &to, &mover);
	/* someone of a third household earns more; someone else leaves the registry */
	const char *earner = NULL, *ended = NULL, *k;
	json_t *v;
	json_object_foreach (ps, k, v) {
		const char *hh = json_string_value(v);
		if (!strcmp(hh, from) || !strcmp(hh, to))
			continue;
		if (!earner)
			earner = k;
		else if (strcmp(hh, json_string_value(json_object_get(ps, earner))) != 0) {
			ended = k;
			break;
		}
	}
	assert_non_null(ended);
	/* a member of a fourth household of two or more earns less: dibao sums its members */
	const char *member = NULL;
	json_object_foreach (ps, k, v) {
		const char *hh = json_string_value(v);
		if (*hh && members(ps, hh) >= 2 && strcmp(hh, from) && strcmp(hh, to) &&
		    strcmp(k, earner) && strcmp(k, ended) &&
		    strcmp(hh, json_string_value(json_object_get(ps, earner))) &&
		    strcmp(hh, json_string_value(json_object_get(ps, ended)))) {
			member = k;
			break;
		}
	}
	assert_non_null(member);
	write_record("tax", member, "",
		     json_pack("{s:{s:s,s:s,s:s}}", "values", "income@2026-09", "0.00",
			       "income@2026-10", "0.00", "income@2026-11", "0.00"));
	char born[19];
	new_id(ps, born);
	write_record("person", mover, "", json_pack("{s:{s:s}}", "values", "household", to));
	write_record("tax", earner, "",
		     json_pack("{s:{s:s,s:s,s:s}}", "values", "income@2026-09", "5200.00",
			       "income@2026-10", "5300.00", "income@2026-11", "5400.00"));
	write_record("person", ended, "/end", json_pack("{s:s}", "effective", "2026-11-01"));
	write_record("person", NULL, "",
		     json_pack("{s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s,s:b}}", "id", born, "values",
			       "name", "新居民", "sex", "F", "birth_date", "1940-01-01",
			       "hukou_region", "990100", "household", from, "role", "member",
			       "alive", 1));
	json_decref(ps);
	for (int i = 0; i < 2; i++) {
		int64_t incr = run_policy(POLICIES[i], "2026-12-01", false);
		json_t *c = counts_of(incr);
		assert_string_equal(mode_of(c), "incremental");
		int64_t reread = json_integer_value(json_object_get(c, "reread"));
		assert_true(reread > 0);
		assert_true(reread < json_integer_value(json_object_get(c, "answers")));
		json_decref(c);
		int64_t full = run_policy(POLICIES[i], "2026-12-01", true);
		c = counts_of(full);
		assert_string_equal(mode_of(c), "full");
		json_decref(c);
		same_answers(incr, full);
		/* the incremental run read the changed records and what they reach, by key:
		   some residents' records, far fewer than the full run's */
		assert_true(read_by(incr) > 0);
		assert_true(read_by(incr) * 4 < read_by(full));
	}
	/* the ended person is no longer answered; the new one is */
	struct dg_arena *a = dg_arena_new();
	char sql[512];
	snprintf(sql, sizeof sql,
		 "SELECT COUNT(*) FROM pr_results r JOIN pr_policies p ON p.current_run ="
		 " r.run_id WHERE p.code = 'elderly_allowance' AND r.rid = '%s' AND r.outcome"
		 " <> 'ABSENT'",
		 dg_pii_index(&th_app(th_shared)->env.keys, a, "id", born));
	assert_int_equal(th_sql_int(th_shared, sql), 1);
	dg_arena_free(a);
}

/* Every answer of a run, ABSENT ones included, with its change, keyed "rule/id". */
static json_t *marked(int64_t run)
{
	json_t *all = json_object();
	for (int page = 1;; page++) {
		json_t *j = NULL;
		char path[256];
		snprintf(path, sizeof path, "/api/proactive/runs/%lld/matches?per_page=500&page=%d",
			 (long long)run, page);
		assert_int_equal(api(mz_tok, "GET", path, NULL, &j), 200);
		json_t *l = json_object_get(j, "matches");
		size_t i;
		json_t *m;
		json_array_foreach (l, i, m) {
			char key[256];
			snprintf(key, sizeof key, "%s/%s",
				 json_string_value(json_object_get(m, "rule")),
				 json_string_value(json_object_get(m, "id")));
			json_object_set(all, key, m);
		}
		size_t n = json_array_size(l);
		json_decref(j);
		if (n < 500)
			break;
	}
	return all;
}

static bool is_eligible(json_t *m)
{
	return m && !strcmp(json_string_value(json_object_get(m, "outcome")), "ELIGIBLE");
}

/* Run b's changes are those from run a's answers to b's, each; *newly counts "new". */
static void changes_between(int64_t a, int64_t b, int64_t *newly)
{
	json_t *x = marked(a), *y = marked(b);
	const char *k;
	json_t *v;
	*newly = 0;
	json_object_foreach (y, k, v) {
		json_t *w = json_object_get(x, k);
		const char *want = "";
		if (is_eligible(v) && !is_eligible(w))
			want = "new";
		else if (!is_eligible(v) && is_eligible(w))
			want = "gone";
		else if (is_eligible(v) && !json_equal(json_object_get(v, "amount_fen"),
						       json_object_get(w, "amount_fen")))
			want = "amount";
		*newly += !strcmp(want, "new");
		if (strcmp(json_string_value(json_object_get(v, "change")), want) != 0)
			fail_msg("%s: run %lld marks '%s', its answers say '%s'", k, (long long)b,
				 json_string_value(json_object_get(v, "change")), want);
	}
	/* every answer eligible in a is still listed in b, if only as ABSENT */
	json_object_foreach (x, k, v)
		if (is_eligible(v) && !json_object_get(y, k))
			fail_msg("%s: eligible in run %lld, not listed in run %lld", k,
				 (long long)a, (long long)b);
	json_decref(x);
	json_decref(y);
}

/*
 * The counts of run, an incremental run after before (owned): its mode is
 * incremental and its newly eligible are those changes_between finds.
 */
static json_t *incremental_after(int64_t before, int64_t run)
{
	json_t *c = counts_of(run);
	assert_string_equal(mode_of(c), "incremental");
	int64_t newly = 0;
	changes_between(before, run, &newly);
	assert_int_equal(json_integer_value(json_object_get(c, "newly_eligible")), newly);
	return c;
}

/* A full run of policy now answers as run did, answer by answer, with its counts. */
static void equals_full_run(const char *policy, int64_t run)
{
	int64_t full = run_policy(policy, "2026-12-01", true);
	same_answers(run, full);
	json_t *ci = counts_of(run), *cf = counts_of(full);
	const char *n[] = {"answers", "eligible", "unknown"};
	for (int i = 0; i < 3; i++)
		assert_int_equal(json_integer_value(json_object_get(ci, n[i])),
				 json_integer_value(json_object_get(cf, n[i])));
	json_decref(ci);
	json_decref(cf);
}

/* A run of each policy now (not forced full) into last. */
static void runs_now(int64_t last[2])
{
	for (int p = 0; p < 2; p++)
		last[p] = run_policy(POLICIES[p], "2026-12-01", false);
}

/* An eligible person of elderly_allowance's shown run, none of skip's households. */
static char *eligible_person(json_t *ps, const char *skip1, const char *skip2)
{
	int64_t run = th_sql_int(th_shared, "SELECT current_run FROM pr_policies WHERE code ="
					    " 'elderly_allowance'");
	json_t *m = marked(run);
	const char *k;
	json_t *v;
	char *out = NULL;
	json_object_foreach (m, k, v) {
		const char *id = json_string_value(json_object_get(v, "id"));
		const char *hh = json_string_value(json_object_get(ps, id));
		if (is_eligible(v) && hh && strcmp(hh, skip1) && strcmp(hh, skip2)) {
			out = strdup(id);
			break;
		}
	}
	json_decref(m);
	return out;
}

/*
 * The people a chain of changes acts on, from ps: a mover from one
 * household (from) to another (to), an eligible person of neither who
 * will leave (leaver, malloc'd) and an ID no one has yet (born).
 */
static void chain_cast(json_t *ps, const char **from, const char **to, const char **mover,
		       char **leaver, char born[19])
{
	two_households(ps, 3, from, to, mover);
	*leaver = eligible_person(ps, *from, *to);
	assert_non_null(*leaver);
	new_id(ps, born);
}

/*
 * Several incremental runs in a row, each continuing the one before: an
 * income change, a person moving between households with another income
 * change, then a person eligible before leaving the registry (deleted)
 * and a new one joining. The chain's last run equals a full run answer by
 * answer; each run's changes are exactly those between its answers and the
 * run before's, ABSENT for the one who left; its counts equal the full run's.
 */
static void chain_equals_full(void **state)
{
	(void)state;
	int64_t last[2];
	runs_now(last);
	json_t *ps = persons();
	const char *from = NULL, *to = NULL, *mover = NULL;
	char *leaver = NULL, born[19];
	chain_cast(ps, &from, &to, &mover, &leaver, born);
	json_t *steps[3];
	steps[0] = json_pack("[[s,s,s,o]]", "tax", mover, "",
			     json_pack("{s:{s:s,s:s,s:s}}", "values", "income@2026-09", "0.00",
				       "income@2026-10", "0.00", "income@2026-11", "0.00"));
	steps[1] = json_pack("[[s,s,s,o],[s,s,s,o]]", "person", mover, "",
			     json_pack("{s:{s:s}}", "values", "household", to), "tax", mover, "",
			     json_pack("{s:{s:s,s:s,s:s}}", "values", "income@2026-09", "3100.00",
				       "income@2026-10", "3100.00", "income@2026-11", "3100.00"));
	steps[2] = json_pack("[[s,s,s,o],[s,n,s,o]]", "person", leaver, "/end",
			     json_pack("{s:s}", "effective", "2026-11-01"), "person", "",
			     json_pack("{s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s,s:b}}", "id", born,
				       "values", "name", "新居民", "sex", "M", "birth_date",
				       "1940-01-01", "hukou_region", "990100", "household", to,
				       "role", "member", "alive", 1));
	for (int s = 0; s < 3; s++) {
		size_t i;
		json_t *w;
		json_array_foreach (steps[s], i, w) {
			json_t *id = json_array_get(w, 1);
			write_record(json_string_value(json_array_get(w, 0)),
				     json_is_string(id) ? json_string_value(id) : NULL,
				     json_string_value(json_array_get(w, 2)),
				     json_incref(json_array_get(w, 3)));
		}
		json_decref(steps[s]);
		for (int p = 0; p < 2; p++) {
			int64_t run = run_policy(POLICIES[p], "2026-12-01", false);
			json_t *c = incremental_after(last[p], run);
			assert_true(json_integer_value(json_object_get(c, "reread")) > 0);
			json_decref(c);
			last[p] = run;
		}
	}
	for (int p = 0; p < 2; p++)
		equals_full_run(POLICIES[p], last[p]);
	/* the one who left is listed as ABSENT, gone, by the run after they left */
	struct dg_arena *a = dg_arena_new();
	char sql[512];
	snprintf(sql, sizeof sql,
		 "SELECT COUNT(*) FROM pr_results WHERE run_id = %lld AND rid = '%s' AND"
		 " outcome = 'ABSENT' AND change = 'gone'",
		 (long long)last[1], dg_pii_index(&th_app(th_shared)->env.keys, a, "id", leaver));
	assert_int_equal(th_sql_int(th_shared, sql), 1);
	dg_arena_free(a);
	free(leaver);
	json_decref(ps);
}

/*
 * Changes reaching more records than a run writes in one batch of fresh
 * answers (128 a batch, looked up and dropped a statement each): 140
 * persons renamed, every seventh also with no income. The incremental run
 * answers them afresh across batch boundaries and still equals a full run
 * answer by answer, with its changes those between its answers and the
 * run before's, and the full run's counts.
 */
static void many_changes_cross_batches(void **state)
{
	(void)state;
	int64_t last[2];
	runs_now(last);
	json_t *ps = persons();
	const char *k;
	json_t *v;
	int n = 0;
	json_object_foreach (ps, k, v) {
		if (n == 140)
			break;
		char name[32];
		snprintf(name, sizeof name, "改名%d", n);
		write_record("person", k, "", json_pack("{s:{s:s}}", "values", "name", name));
		if (n % 7 == 0)
			write_record("tax", k, "",
				     json_pack("{s:{s:s,s:s,s:s}}", "values", "income@2026-09",
					       "0.00", "income@2026-10", "0.00", "income@2026-11",
					       "0.00"));
		n++;
	}
	assert_int_equal(n, 140);
	json_decref(ps);
	for (int p = 0; p < 2; p++) {
		int64_t run = run_policy(POLICIES[p], "2026-12-01", false);
		json_t *ci = incremental_after(last[p], run);
		/* the person rule answers each renamed person afresh: more than a batch */
		if (p == 1)
			assert_true(json_integer_value(json_object_get(ci, "reread")) >= 140);
		json_decref(ci);
		equals_full_run(POLICIES[p], run);
	}
}

/* What run wrote of its own: answer rows and who-rows (not those it left standing). */
static int64_t rows_written(const char *table, int64_t run)
{
	char sql[128];
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s WHERE first_run = %lld", table,
		 (long long)run);
	return th_sql_int(th_shared, sql);
}

/* The answers of run whose change is marked (as the run stands, in the view). */
static int64_t changed_in(int64_t run)
{
	char sql[128];
	snprintf(sql, sizeof sql,
		 "SELECT COUNT(*) FROM pr_results WHERE run_id = %lld AND"
		 " change <> ''",
		 (long long)run);
	return th_sql_int(th_shared, sql);
}

/*
 * An incremental run after one changed record writes the few answers that
 * record reaches, not the population's: the answers it leaves standing are
 * not copied. The run before still reads as it did, answer by answer and
 * change by change, while the new run equals a full run.
 */
static void one_change_writes_few_rows(void **state)
{
	(void)state;
	int64_t last[2];
	runs_now(last);
	json_t *ps = persons();
	char *who = eligible_person(ps, "", "");
	json_decref(ps);
	assert_non_null(who);
	json_t *before = answers(last[1]);
	int64_t marked_before = changed_in(last[1]);
	write_record("tax", who, "", json_pack("{s:{s:s}}", "values", "income@2026-11", "1234.00"));
	free(who);
	int64_t run = run_policy(POLICIES[1], "2026-12-01", false);
	json_t *c = incremental_after(last[1], run);
	int64_t reread = json_integer_value(json_object_get(c, "reread"));
	int64_t total = json_integer_value(json_object_get(c, "answers"));
	json_decref(c);
	/* the changed person and those the rules join to it: a handful, each one row */
	assert_true(reread >= 1 && reread <= 10);
	assert_int_equal(rows_written("pr_answers", run), reread);
	assert_true(rows_written("pr_answer_who", run) <= 10 * reread);
	assert_true(total > 100 * reread);
	/* the run before, read as of itself, is untouched */
	json_t *after = answers(last[1]);
	assert_true(json_equal(before, after));
	assert_int_equal(changed_in(last[1]), marked_before);
	json_decref(before);
	json_decref(after);
	equals_full_run(POLICIES[1], run);
}

/*
 * What a run killed halfway leaves (its own answers written, answers of the
 * shown run closed by the ones it gave afresh) changes nothing in the shown
 * run, read as of itself; the next run of the policy undoes it and answers
 * as a full run does.
 */
static void unfinished_run_undone(void **state)
{
	(void)state;
	int64_t last[2];
	runs_now(last);
	int64_t shown = last[1];
	json_t *before = answers(shown);
	char sql[768];
	snprintf(sql, sizeof sql,
		 "INSERT INTO pr_runs (policy_id, version, ref_date, state, created_ms) SELECT"
		 " policy_id, version, ref_date, 'running', 0 FROM pr_runs WHERE id = %lld",
		 (long long)shown);
	th_sql(th_shared, sql);
	int64_t killed = th_sql_int(th_shared, "SELECT MAX(id) FROM pr_runs");
	snprintf(sql, sizeof sql,
		 "UPDATE pr_answers SET last_run = %lld WHERE last_run IS NULL AND rid IN (SELECT"
		 " rid FROM pr_results WHERE run_id = %lld AND outcome = 'ELIGIBLE' ORDER BY rid"
		 " LIMIT 5) AND policy_id = (SELECT policy_id FROM pr_runs WHERE id = %lld)",
		 (long long)shown, (long long)shown, (long long)shown);
	th_sql(th_shared, sql);
	snprintf(sql, sizeof sql,
		 "INSERT INTO pr_answers (first_run, policy_id, rule, ent, rid, rid_sealed,"
		 " outcome) SELECT %lld, policy_id, rule, ent, rid, rid_sealed, 'INELIGIBLE' FROM"
		 " pr_answers WHERE last_run = %lld AND first_run <= %lld AND outcome <> 'ABSENT'",
		 (long long)killed, (long long)shown, (long long)shown);
	th_sql(th_shared, sql);
	assert_int_equal(rows_written("pr_answers", killed), 5);
	json_t *after = answers(shown);
	assert_true(json_equal(before, after));
	json_decref(before);
	json_decref(after);
	int64_t run = run_policy(POLICIES[1], "2026-12-01", false);
	assert_int_equal(rows_written("pr_answers", killed), 0);
	same_answers(shown, run);
	snprintf(sql, sizeof sql, "UPDATE pr_runs SET state = 'failed' WHERE id = %lld",
		 (long long)killed);
	th_sql(th_shared, sql);
	equals_full_run(POLICIES[1], run);
}

/*
 * A run that cannot find the changed records by key (the failpoint
 * proactive.incr.keys, as when a link the rules follow backward is sealed)
 * reads every record, answers afresh only those the changes reach and
 * carries the others: after an income change, a move between households,
 * a person eligible before leaving and one joining, it equals a full run
 * answer by answer, with the full run's counts, its changes those between
 * its answers and the run before's.
 */
static void every_record_read_equals_full(void **state)
{
	(void)state;
	int64_t last[2];
	runs_now(last);
	json_t *ps = persons();
	const char *from = NULL, *to = NULL, *mover = NULL;
	char *leaver = NULL, born[19];
	chain_cast(ps, &from, &to, &mover, &leaver, born);
	write_record("tax", mover, "",
		     json_pack("{s:{s:s,s:s,s:s}}", "values", "income@2026-09", "0.00",
			       "income@2026-10", "0.00", "income@2026-11", "0.00"));
	write_record("person", mover, "", json_pack("{s:{s:s}}", "values", "household", to));
	write_record("person", leaver, "/end", json_pack("{s:s}", "effective", "2026-11-01"));
	write_record("person", NULL, "",
		     json_pack("{s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s,s:b}}", "id", born, "values",
			       "name", "新居民", "sex", "F", "birth_date", "1940-01-01",
			       "hukou_region", "990100", "household", to, "role", "member", "alive",
			       1));
	struct dg_err err = {0};
	assert_int_equal(dg_failpoint_set("proactive.incr.keys=gone", &err), DG_OK);
	int64_t run[2];
	for (int p = 0; p < 2; p++)
		run[p] = run_policy(POLICIES[p], "2026-12-01", false);
	long fired = dg_failpoint_fired("proactive.incr.keys");
	assert_int_equal(dg_failpoint_set("", &err), DG_OK);
	assert_int_equal(fired, 2);
	for (int p = 0; p < 2; p++) {
		json_t *ci = incremental_after(last[p], run[p]);
		int64_t reread = json_integer_value(json_object_get(ci, "reread"));
		assert_true(reread > 0);
		assert_true(reread < json_integer_value(json_object_get(ci, "answers")));
		json_decref(ci);
		equals_full_run(POLICIES[p], run[p]);
	}
	free(leaver);
	json_decref(ps);
}

/*
 * More records leaving the registry than one batch of the drop (128 a
 * statement): 140 persons ended, the eligible ones of elderly_allowance's
 * shown run first. Each incremental run equals a full run answer by answer,
 * with the full run's counts; its changes are those between its answers and
 * the run before's; every person eligible before who left is listed ABSENT,
 * gone (no_longer_eligible of the person rule counts exactly them).
 */
static void many_leave_cross_batches(void **state)
{
	(void)state;
	int64_t last[2];
	runs_now(last);
	json_t *m = marked(last[1]), *ps = persons(), *leave = json_object();
	const char *k;
	json_t *v;
	int eligible = 0;
	json_object_foreach (m, k, v)
		if (is_eligible(v) && json_object_size(leave) < 140) {
			json_object_set_new(leave, json_string_value(json_object_get(v, "id")),
					    json_true());
			eligible++;
		}
	json_object_foreach (ps, k, v)
		if (json_object_size(leave) < 140)
			json_object_set_new(leave, k, json_true());
	assert_int_equal(json_object_size(leave), 140);
	assert_true(eligible > 0);
	json_object_foreach (leave, k, v)
		write_record("person", k, "/end", json_pack("{s:s}", "effective", "2026-11-01"));
	for (int p = 0; p < 2; p++) {
		int64_t run = run_policy(POLICIES[p], "2026-12-01", false);
		json_t *ci = incremental_after(last[p], run);
		if (p == 1) {
			char sql[256];
			snprintf(sql, sizeof sql,
				 "SELECT COUNT(*) FROM pr_results WHERE run_id = %lld AND"
				 " outcome = 'ABSENT' AND change = 'gone'",
				 (long long)run);
			assert_int_equal(th_sql_int(th_shared, sql), eligible);
			assert_int_equal(
				json_integer_value(json_object_get(ci, "no_longer_eligible")),
				eligible);
		}
		json_decref(ci);
		equals_full_run(POLICIES[p], run);
	}
	json_decref(leave);
	json_decref(ps);
	json_decref(m);
}

/* The check for registry changes (proactive.follow) run now, as its task runs it. */
static void follow_now(void)
{
	struct dg_db *db = NULL;
	int64_t job = 0;
	json_t *payload = json_object();
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_job_enqueue(db, "proactive.follow", payload, 0, NULL, &job), DG_OK);
	dg_db_put(db);
	json_decref(payload);
	json_t *j = th_wait_job(th_shared, job);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "done");
	json_decref(j);
}

static int64_t runs_of(const char *code)
{
	char sql[256];
	snprintf(sql, sizeof sql,
		 "SELECT COUNT(*) FROM pr_runs r JOIN pr_policies p ON p.id = r.policy_id"
		 " WHERE p.code = '%s'",
		 code);
	return th_sql_int(th_shared, sql);
}

/* The run of code queued last, once its job is done. */
static int64_t last_run_done(const char *code)
{
	char sql[256];
	snprintf(sql, sizeof sql,
		 "SELECT r.job_id FROM pr_runs r JOIN pr_policies p ON p.id = r.policy_id"
		 " WHERE p.code = '%s' ORDER BY r.id DESC LIMIT 1",
		 code);
	json_decref(th_wait_job(th_shared, th_sql_int(th_shared, sql)));
	snprintf(sql, sizeof sql,
		 "SELECT r.id FROM pr_runs r JOIN pr_policies p ON p.id = r.policy_id"
		 " WHERE p.code = '%s' ORDER BY r.id DESC LIMIT 1",
		 code);
	return th_sql_int(th_shared, sql);
}

/*
 * Runs started by a registry change (DGOV_PROACTIVE_FOLLOW, 0 s here): a
 * change to a registry no shown run's policy reads queues none; a burst of
 * changes to one elderly_allowance reads queues one incremental run, whose
 * answers reflect them (equal to a full run's); nothing changed since, none
 * again; and within the delay after a run, none.
 */
static void registry_change_starts_a_run(void **state)
{
	(void)state;
	setenv("DGOV_PROACTIVE_FOLLOW", "0", 1);
	int64_t eld = run_policy("elderly_allowance", "2026-12-01", false);
	int64_t dib = run_policy("dibao", "2026-12-01", false);
	int64_t n_eld = runs_of("elderly_allowance"), n_dib = runs_of("dibao");
	int64_t all = th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_runs");
	follow_now();
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_runs"), all);
	/* an enterprise's tax: neither policy's rules reach enterprises */
	write_record("enterprise_tax", NULL, "",
		     json_pack("{s:s,s:{s:s}}", "id", "91990100MA0000001X", "values",
			       "taxable_income", "100.00"));
	follow_now();
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_runs"), all);
	/* a burst: three persons' incomes, one of them twice */
	json_t *ps = persons();
	const char *k, *ids[3];
	json_t *v;
	int i = 0;
	json_object_foreach (ps, k, v) {
		if (i < 3)
			ids[i++] = k;
	}
	for (int w = 0; w < 4; w++)
		write_record("tax", ids[w % 3], "",
			     json_pack("{s:{s:s}}", "values", "income@2026-11",
				       w == 3 ? "9999.00" : "4321.00"));
	follow_now();
	follow_now(); /* a second check while the run is pending queues no other */
	assert_int_equal(runs_of("elderly_allowance"), n_eld + 1);
	assert_int_equal(runs_of("dibao"), n_dib + 1); /* it sums its members' incomes */
	int64_t incr = last_run_done("elderly_allowance");
	assert_true(incr > eld);
	json_t *c = counts_of(incr);
	assert_string_equal(mode_of(c), "incremental");
	assert_true(json_integer_value(json_object_get(c, "reread")) >= 3);
	json_decref(c);
	int64_t dincr = last_run_done("dibao");
	assert_true(dincr > dib);
	/* nothing changed since those runs: none again */
	all = th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_runs");
	follow_now();
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_runs"), all);
	/* within the delay after a run, a change waits */
	setenv("DGOV_PROACTIVE_FOLLOW", "3600", 1);
	write_record("tax", ids[0], "", json_pack("{s:{s:s}}", "values", "income@2026-11", "1.00"));
	follow_now();
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_runs"), all);
	setenv("DGOV_PROACTIVE_FOLLOW", "0", 1);
	follow_now();
	assert_int_equal(runs_of("elderly_allowance"), n_eld + 2);
	incr = last_run_done("elderly_allowance");
	dincr = last_run_done("dibao");
	json_decref(ps);
	/* the answers the change-started runs gave are a full run's */
	int64_t full = run_policy("elderly_allowance", "2026-12-01", true);
	same_answers(incr, full);
	full = run_policy("dibao", "2026-12-01", true);
	same_answers(dincr, full);
	setenv("DGOV_PROACTIVE_FOLLOW", "off", 1);
}

static void what_makes_a_run_full(void **state)
{
	(void)state;
	/* another date */
	json_t *c = counts_of(run_policy("dibao", "2026-11-01", false));
	assert_string_equal(mode_of(c), "full");
	json_decref(c);
	c = counts_of(run_policy("dibao", "2026-11-01", false));
	assert_string_equal(mode_of(c), "incremental");
	json_decref(c);
	/* a new version of the policy (its rules or parameters changed) */
	char path[4200];
	char *rule = NULL, *tests = NULL;
	size_t len = 0;
	struct dg_err err = {0};
	snprintf(path, sizeof path, "%s/policies/dibao.rule", root);
	assert_int_equal(dg_rule_read_file(path, 1 << 22, &rule, &len, &err), DG_OK);
	snprintf(path, sizeof path, "%s/policies/tests/dibao.yaml", root);
	assert_int_equal(dg_rule_read_file(path, 1 << 22, &tests, &len, &err), DG_OK);
	json_t *b = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "code", "dibao", "dept", "mz",
			      "item", "990100-MZ-003", "mode", "apply", "effective", "2025-01-01",
			      "rule", rule, "tests", tests);
	assert_int_equal(api(mz_tok, "POST", "/api/proactive/policies", b, NULL), 201);
	json_decref(b);
	free(rule);
	free(tests);
	c = counts_of(run_policy("dibao", "2026-11-01", false));
	assert_string_equal(mode_of(c), "full");
	json_decref(c);
	/* "full" is true or false; anything else starts nothing */
	int64_t runs = th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_runs");
	b = json_pack("{s:s,s:s}", "date", "2026-11-01", "full", "yes");
	json_t *j = NULL;
	assert_int_equal(api(mz_tok, "POST", "/api/proactive/policies/dibao/runs", b, &j), 400);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(j, "error"), "field")), "full");
	json_decref(j);
	json_decref(b);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_runs"), runs);
	/* the page says which runs were incremental */
	struct th_client *st = th_signed_in(th_shared, DG_DEMO_STAFF);
	char *page = th_get_body(st, "/office/policies/dibao", 200);
	assert_non_null(page);
	assert_non_null(strstr(page, "增量匹配"));
	assert_non_null(strstr(page, "全量匹配"));
	assert_non_null(strstr(page, "name=\"full\""));
	free(page);
	th_client_free(st);
}

static int setup(void **state)
{
	(void)state;
	const char *r = getenv("DGOV_ROOT");
	snprintf(root, sizeof root, "%s", r ? r : ".");
	unsetenv("DGOV_PROACTIVE_DATA");
	/* no run started by a change but where registry_change_starts_a_run asks */
	setenv("DGOV_PROACTIVE_FOLLOW", "off", 1);
	struct th_opts o = {.demo = true, .job_workers = 1, .job_lease_sec = 30};
	th_shared = th_start_opts(&o);
	if (!th_shared)
		return 1;
	mz_tok = th_token_header(th_shared, DG_DEMO_STAFF, DG_DEMO_PASSWORD);
	admin_tok = th_token_header(th_shared, DG_DEMO_ADMIN, DG_DEMO_PASSWORD);
	return !mz_tok || !admin_tok;
}

static int teardown(void **state)
{
	free(mz_tok);
	free(admin_tok);
	return th_group_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(first_full_then_carried),
		cmocka_unit_test(changes_equal_full),
		cmocka_unit_test(chain_equals_full),
		cmocka_unit_test(many_changes_cross_batches),
		cmocka_unit_test(registry_change_starts_a_run),
		cmocka_unit_test(what_makes_a_run_full),
		cmocka_unit_test(every_record_read_equals_full),
		cmocka_unit_test(one_change_writes_few_rows),
		cmocka_unit_test(unfinished_run_undone),
		/* last: it ends 140 of the demo's persons */
		cmocka_unit_test(many_leave_cross_batches),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
