/*
 * publish.c - a policy becomes a platform object: its rule text is compiled
 * as if it were policies/<code>.rule (so `schema "schema.yaml"` reads the
 * registries' schema beside the demo policies, and nothing else), every
 * compiler error is kept with its line, the YAML tests (the format of
 * policies/tests/NAME.yaml) are run against the text being published, and only
 * then is a version written. Messages in err are message keys
 * (templates/i18n/proactive.*.json) for the caller to put in the reader's
 * language; compiler and test output is the engine's own.
 */
#include "proactive/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "rule/check.h"
#include "rule/parse.h"
#include "rule/ytest.h"

const char *pr_policies_dir(const struct dg_env *env, char *buf, size_t n)
{
	const char *dir = getenv("DGOV_POLICIES");
	if (dir && *dir) {
		snprintf(buf, n, "%s", dir);
		return buf;
	}
	const char *t =
		env && env->cfg && env->cfg->templates_dir ? env->cfg->templates_dir : "templates";
	const char *slash = strrchr(t, '/');
	if (slash)
		snprintf(buf, n, "%.*s/policies", (int)(slash - t), t);
	else
		snprintf(buf, n, "policies");
	return buf;
}

static bool code_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > PR_CODE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/* "HH:MM" or "" (no daily run). */
static bool schedule_ok(const char *s)
{
	if (!s || !*s)
		return true;
	return strlen(s) == 5 && s[0] >= '0' && s[0] <= '2' && s[1] >= '0' && s[1] <= '9' &&
	       s[2] == ':' && s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9' &&
	       (s[0] < '2' || s[1] <= '3');
}

/*
 * A rule file may name one schema only: the registries' (schema.yaml beside
 * it). Any other `schema "..."` would make the server read a file of the
 * publisher's choosing, so it is refused before the text is parsed.
 */
static int foreign_schema_line(const char *text, size_t len)
{
	int line = 1;
	for (size_t i = 0; i < len; line++) {
		size_t e = i;
		while (e < len && text[e] != '\n')
			e++;
		size_t b = i;
		while (b < e && (text[b] == ' ' || text[b] == '\t'))
			b++;
		if (e - b > 6 && memcmp(text + b, "schema", 6) == 0 &&
		    (text[b + 6] == ' ' || text[b + 6] == '\t')) {
			size_t q = b + 6;
			while (q < e && (text[q] == ' ' || text[q] == '\t'))
				q++;
			static const char want[] = "\"schema.yaml\"";
			size_t wl = sizeof(want) - 1;
			size_t t = q + wl;
			while (t < e && (text[t] == ' ' || text[t] == '\t' || text[t] == '\r'))
				t++;
			if (e - q < wl || memcmp(text + q, want, wl) != 0 ||
			    (t < e && text[t] != '#'))
				return line;
		}
		i = e + 1;
	}
	return 0;
}

/*
 * The compiler's messages as {line, col, message}: each error starts
 * "path:LINE:COL: error: message" (warnings are left out; the caret lines
 * under each are for a terminal).
 */
static void diag_errors(const char *out, json_t *errors)
{
	const char *p = out;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *m = memmem(p, n, ": error: ", 9);
		if (m) {
			long line = 0, col = 0;
			/* path:LINE:COL just before ": error: " */
			const char *c = m;
			const char *c2 = c;
			while (c2 > p && c2[-1] != ':')
				c2--;
			const char *l2 = c2 > p ? c2 - 1 : p;
			while (l2 > p && l2[-1] != ':')
				l2--;
			if (c2 > p && l2 > p) {
				line = strtol(l2, NULL, 10);
				col = strtol(c2, NULL, 10);
			}
			const char *msg = m + 9;
			json_array_append_new(errors,
					      json_pack("{s:I,s:I,s:s%}", "line", (json_int_t)line,
							"col", (json_int_t)col, "message", msg,
							(size_t)(p + n - msg)));
		} else if (n > 7 && strncmp(p, "error: ", 7) == 0) {
			json_array_append_new(errors, json_pack("{s:i,s:i,s:s%}", "line", 0, "col",
								0, "message", p + 7, n - 7));
		}
		p += n;
		if (*p)
			p++;
	}
}

/* The failing cases of a TAP report as errors with line 0. */
static void tap_failures(const char *tap, json_t *errors)
{
	const char *p = tap;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n > 7 && strncmp(p, "not ok ", 7) == 0) {
			const char *why = "";
			size_t wn = 0;
			if (e && strncmp(e + 1, "#   ", 4) == 0) {
				why = e + 5;
				const char *we = strchr(why, '\n');
				wn = we ? (size_t)(we - why) : strlen(why);
			}
			json_array_append_new(errors,
					      json_pack("{s:i,s:i,s:s%,s:s%}", "line", 0, "col", 0,
							"message", p + 7, n - 7, "why", why, wn));
		}
		p += n;
		if (*p)
			p++;
	}
}

/* Compile text as the file policies/<code>.rule; the program is the caller's. */
struct dg_program *pr_compile(const struct dg_env *env, const char *code, const char *text,
			      size_t len)
{
	char dir[4096];
	char path[4200];
	snprintf(path, sizeof path, "%s/%s.rule", pr_policies_dir(env, dir, sizeof dir), code);
	struct dg_program *p = dg_program_new();
	int bad = foreign_schema_line(text, len);
	if (bad) {
		struct dg_rule_src src = {path, text, len};
		dg_rule_diag_at(&p->diag, &src, bad, 1, false,
				"a policy reads the registries' schema: schema \"schema.yaml\"");
		return p;
	}
	dg_program_parse(p, path, text, len);
	if (!p->diag.errors && !p->schema) {
		dg_rule_diag_at(&p->diag, NULL, 0, 0, false,
				"the rules need the registries' schema: schema \"schema.yaml\"");
		return p;
	}
	if (!p->diag.errors)
		dg_rule_check(p);
	if (!p->diag.errors && p->nrules == 0)
		dg_rule_diag_at(&p->diag, NULL, 0, 0, false, "the file has no rule");
	return p;
}

json_t *pr_compile_errors(const struct dg_env *env, const char *code, const char *text, size_t len)
{
	struct dg_program *p = pr_compile(env, code, text, len);
	json_t *errors = json_array();
	if (p->diag.errors)
		diag_errors(dg_buf_str(&p->diag.out), errors);
	if (p->diag.errors && json_array_size(errors) == 0) /* past the cap of messages */
		json_array_append_new(errors,
				      json_pack("{s:i,s:i,s:s}", "line", 0, "col", 0, "message",
						"the rule file does not compile"));
	dg_program_free(p);
	return errors;
}

/* Run the tests; *passed gets how many cases passed. Failures go to errors. */
static dg_rc run_tests(const struct dg_program *p, const char *code, const char *tests,
		       json_t *errors, int *passed, struct dg_err *err)
{
	char *tap = NULL;
	size_t taplen = 0;
	FILE *f = open_memstream(&tap, &taplen);
	if (!f)
		return dg_err_set(err, DG_EIO, "proactive.err.internal");
	struct dg_ytest_stats st = {0};
	struct dg_err terr = {0};
	dg_rc rc = dg_rule_test_text(p, code, tests, strlen(tests), f, &st, &terr);
	fclose(f);
	if (rc) {
		json_array_append_new(errors, json_pack("{s:i,s:i,s:s}", "line", 0, "col", 0,
							"message", terr.msg));
		rc = dg_err_field(err, DG_EINVAL, "tests", "proactive.err.tests_bad");
	} else if (st.fail || st.n == 0) {
		tap_failures(tap ? tap : "", errors);
		rc = dg_err_field(err, DG_EINVAL, "tests", "proactive.err.tests_fail");
	}
	*passed = st.pass;
	free(tap);
	return rc;
}

static dg_rc check_input(struct dg_db *db, const struct pr_publish *in, struct dg_err *err)
{
	int64_t n = 0;
	if (!code_ok(in->code))
		return dg_err_field(err, DG_EINVAL, "code", "proactive.err.code");
	if (!in->dept || !*in->dept ||
	    dg_db_query_int(db, "SELECT COUNT(*) FROM departments WHERE code = ?",
			    DG_ARGS(DG_VT(in->dept)), &n) ||
	    n == 0)
		return dg_err_field(err, DG_EINVAL, "dept", "proactive.err.dept");
	if (!in->admin && strcmp(in->dept, in->user_dept ? in->user_dept : "") != 0)
		return dg_err_field(err, DG_EDENIED, "dept", "proactive.err.not_yours");
	if (in->item && *in->item &&
	    (dg_db_query_int(db, "SELECT COUNT(*) FROM catalog_items WHERE code = ?",
			     DG_ARGS(DG_VT(in->item)), &n) ||
	     n == 0))
		return dg_err_field(err, DG_EINVAL, "item", "proactive.err.item");
	if (!in->mode ||
	    (strcmp(in->mode, "notify") && strcmp(in->mode, "apply") && strcmp(in->mode, "grant")))
		return dg_err_field(err, DG_EINVAL, "mode", "proactive.err.mode");
	dg_day d;
	if (!in->effective || dg_day_parse(in->effective, &d))
		return dg_err_field(err, DG_EINVAL, "effective", "proactive.err.effective");
	if (!schedule_ok(in->schedule))
		return dg_err_field(err, DG_EINVAL, "schedule", "proactive.err.schedule");
	if (!in->rule || !*in->rule)
		return dg_err_field(err, DG_EINVAL, "rule", "proactive.err.rule_empty");
	if (strlen(in->rule) > PR_RULE_MAX)
		return dg_err_field(err, DG_ETOOBIG, "rule", "proactive.err.rule_big");
	if (!in->tests || !*in->tests)
		return dg_err_field(err, DG_EINVAL, "tests", "proactive.err.tests_empty");
	if (strlen(in->tests) > PR_TESTS_MAX)
		return dg_err_field(err, DG_ETOOBIG, "tests", "proactive.err.tests_big");
	/* a policy already published belongs to its department for good */
	char *owner = NULL;
	struct dg_arena *a = dg_arena_new();
	dg_rc rc = pr_policy_dept(db, in->code, a, &owner);
	if (rc == DG_OK && strcmp(owner, in->dept) != 0)
		rc = dg_err_field(err, DG_EDENIED, "dept", "proactive.err.other_owner");
	else if (rc == DG_ENOTFOUND)
		rc = DG_OK;
	else if (rc)
		rc = dg_err_set(err, rc, "proactive.err.store");
	dg_arena_free(a);
	return rc;
}

/* The rule ids of a program as "a,b". */
static char *rule_ids(const struct dg_program *p, struct dg_arena *a)
{
	char *s = dg_arena_strdup(a, "");
	for (int i = 0; i < p->nrules; i++)
		s = dg_arena_printf(a, "%s%s%s", s, i ? "," : "", p->rules[i].id);
	return s;
}

/* The rules' names as JSON [{"id", "zh", "en"}] (malloc'd). */
static char *rule_names(const struct dg_program *p)
{
	json_t *l = json_array();
	for (int i = 0; i < p->nrules; i++)
		json_array_append_new(l, json_pack("{s:s,s:s,s:s}", "id", p->rules[i].id, "zh",
						   p->rules[i].name_zh ? p->rules[i].name_zh : "",
						   "en",
						   p->rules[i].name_en ? p->rules[i].name_en : ""));
	char *s = json_dumps(l, JSON_COMPACT);
	json_decref(l);
	return s;
}

static dg_rc write_version(struct dg_db *db, const struct pr_publish *in, const char *rules,
			   const char *names, int passed, int64_t *version, struct dg_err *err)
{
	int64_t id = 0, v = 0;
	int64_t now = dg_now_ms();
	/* inside the demo's one transaction, or a transaction of its own */
	bool own = !dg_db_in_tx(db);
	dg_rc rc = own ? dg_db_begin(db) : DG_OK;
	if (rc)
		return dg_err_set(err, rc, "proactive.err.store");
	rc = pr_policy_id(db, in->code, &id);
	if (rc == DG_ENOTFOUND)
		rc = dg_db_query_int(db,
				     "INSERT INTO pr_policies (code, dept, item, mode, schedule,"
				     " created_ms) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
				     DG_ARGS(DG_VT(in->code), DG_VT(in->dept),
					     DG_VT(in->item ? in->item : ""), DG_VT(in->mode),
					     DG_VT(in->schedule ? in->schedule : ""), DG_VI(now)),
				     &id);
	else if (!rc)
		rc = dg_db_exec(
			db, "UPDATE pr_policies SET item = ?, mode = ?, schedule = ? WHERE id = ?",
			DG_ARGS(DG_VT(in->item ? in->item : ""), DG_VT(in->mode),
				DG_VT(in->schedule ? in->schedule : ""), DG_VI(id)),
			NULL);
	if (!rc)
		rc = dg_db_query_int(db,
				     "SELECT COALESCE(MAX(version), 0) + 1 FROM pr_versions"
				     " WHERE policy_id = ?",
				     DG_ARGS(DG_VI(id)), &v);
	if (!rc)
		rc = dg_db_exec(
			db,
			"INSERT INTO pr_versions (policy_id, version, rule_text, tests_text,"
			" effective, rules, names, tests_passed, published_by, published_ms)"
			" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			DG_ARGS(DG_VI(id), DG_VI(v), DG_VT(in->rule), DG_VT(in->tests),
				DG_VT(in->effective), DG_VT(rules), DG_VT(names), DG_VI(passed),
				DG_VI(in->user_id), DG_VI(now)),
			NULL);
	if (!rc)
		rc = dg_db_exec(db, "UPDATE pr_policies SET version = ? WHERE id = ?",
				DG_ARGS(DG_VI(v), DG_VI(id)), NULL);
	if (!rc && own)
		rc = dg_db_commit(db);
	if (rc) {
		if (own)
			dg_db_rollback(db);
		return dg_err_set(err, rc, "proactive.err.store");
	}
	*version = v;
	return DG_OK;
}

dg_rc pr_publish(struct dg_env *env, struct dg_db *db, const struct pr_publish *in, json_t **errors,
		 int64_t *version, struct dg_err *err)
{
	*errors = json_array();
	dg_rc rc = check_input(db, in, err);
	if (rc)
		return rc;
	struct dg_program *p = pr_compile(env, in->code, in->rule, strlen(in->rule));
	struct dg_arena *a = dg_arena_new();
	int passed = 0;
	if (p->diag.errors) {
		diag_errors(dg_buf_str(&p->diag.out), *errors);
		rc = dg_err_field(err, DG_EINVAL, "rule", "proactive.err.compile");
		goto out;
	}
	rc = run_tests(p, in->code, in->tests, *errors, &passed, err);
	if (rc)
		goto out;
	char *names = rule_names(p);
	rc = write_version(db, in, rule_ids(p, a), names, passed, version, err);
	free(names);
out:
	dg_arena_free(a);
	dg_program_free(p);
	return rc;
}
