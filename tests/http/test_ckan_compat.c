/*
 * test_ckan_compat.c - dgov's CKAN compatibility suite: every file
 * tests/ckan/NAME.txt, each against a fresh demo region on whichever store
 * DGOV_TEST_DB selects, its lines run in order. One line is one behaviour a
 * CKAN client can observe (taken from CKAN's documentation, its action and
 * DataStore tests, and what ckanapi, ckanr and the harvester send). Every
 * line runs even after a failure, each failure is reported with its file
 * and line, and the total is printed as
 *   # CKAN compatibility: N behaviours checked, M passed
 * which `make test` shows for each store.
 *
 * A line:  [AS user] [FORM] [WITH Name=value]... METHOD PATH STATUS
 *          [HEADER Name~text]... EXPECT [BODY]
 *   AS user         send that demo user's API token (Authorization: Bearer)
 *   FORM            send BODY as application/x-www-form-urlencoded (else JSON)
 *   WITH Name=value add a request header
 *   HEADER Name~text the answer has header Name containing text; Name!~ : absent
 *   EXPECT          a JSON value the answer must contain (below), or
 *                   TEXT "substring" for an answer that is not JSON
 * Containing: objects by key, recursively; arrays element by element over
 * the expected length, exactly that length when the last expected element is
 * "$end". Strings: "$any" matches any value that is there, "$absent" a key
 * that must not be there, "$=name" the same value as the first "$=name"
 * matched (which remembers it), "$!=name" a value other than the one
 * remembered, "$~text" a string containing text. The path
 * is percent-encoded by the runner (bytes outside unreserved and / ? = & %).
 * $SITE anywhere in a line is the server's site URL (http://127.0.0.1:PORT,
 * the default --site-url of its listen address). The servers allow CORS
 * from https://app.example and http://localhost:3000 (--cors-origins).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "harness.h"
#include "node/demo.h"

#define MAX_HEADERS 8

/* Tokens by user name and remembered values, per server. */
struct run {
	struct th_srv *srv;
	struct {
		char *user, *hdr;
	} tokens[16];
	json_t *vars; /* "$=name" values */
	const char *file;
	int lineno;
	int checked, passed;
};

static const char *token_of(struct run *rn, const char *user)
{
	size_t i = 0;
	for (; i < 16 && rn->tokens[i].user; i++)
		if (strcmp(rn->tokens[i].user, user) == 0)
			return rn->tokens[i].hdr;
	if (i == 16)
		return NULL;
	rn->tokens[i].user = strdup(user);
	rn->tokens[i].hdr = th_token_header(rn->srv, user, DG_DEMO_PASSWORD);
	return rn->tokens[i].hdr;
}

static char *encode_path(const char *p)
{
	char *out = malloc(strlen(p) * 3 + 1), *o = out;
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~/?=&%+", c))
			*o++ = (char)c;
		else
			o += snprintf(o, 4, "%%%02X", c);
	}
	*o = '\0';
	return out;
}

/* Whether got contains want (see the header); why says where it did not. */
static bool contains(struct run *rn, json_t *want, json_t *got, char *why, size_t whylen)
{
	const char *s = json_string_value(want);
	if (s && strcmp(s, "$any") == 0)
		return got != NULL;
	if (s && strncmp(s, "$=", 2) == 0) {
		json_t *had = json_object_get(rn->vars, s + 2);
		if (!got)
			return false;
		if (!had) {
			json_object_set(rn->vars, s + 2, got);
			return true;
		}
		if (json_equal(had, got))
			return true;
		char *a = json_dumps(had, JSON_ENCODE_ANY), *b = json_dumps(got, JSON_ENCODE_ANY);
		snprintf(why, whylen, "%s was %.200s, now %.200s", s, a, b);
		free(a);
		free(b);
		return false;
	}
	if (s && strncmp(s, "$!=", 3) == 0) {
		json_t *had = json_object_get(rn->vars, s + 3);
		if (got && had && !json_equal(had, got))
			return true;
		snprintf(why, whylen, "%s: the same value as before", s);
		return false;
	}
	if (s && strncmp(s, "$~", 2) == 0)
		return json_is_string(got) && strstr(json_string_value(got), s + 2);
	if (json_is_object(want)) {
		const char *k;
		json_t *v;
		if (!json_is_object(got))
			return false;
		json_object_foreach (want, k, v) {
			const char *vs = json_string_value(v);
			if (vs && strcmp(vs, "$absent") == 0) {
				if (json_object_get(got, k)) {
					snprintf(why, whylen, "key \"%s\" should be absent", k);
					return false;
				}
				continue;
			}
			if (!contains(rn, v, json_object_get(got, k), why, whylen)) {
				if (!why[0])
					snprintf(why, whylen, "at key \"%s\"", k);
				return false;
			}
		}
		return true;
	}
	if (json_is_array(want)) {
		size_t n = json_array_size(want);
		json_t *last = json_array_get(want, n ? n - 1 : 0);
		bool exact =
			n && json_is_string(last) && strcmp(json_string_value(last), "$end") == 0;
		if (exact)
			n--;
		if (!json_is_array(got) || json_array_size(got) < n ||
		    (exact && json_array_size(got) != n))
			return false;
		for (size_t i = 0; i < n; i++)
			if (!contains(rn, json_array_get(want, i), json_array_get(got, i), why,
				      whylen))
				return false;
		return true;
	}
	return json_equal(want, got);
}

/* The next space-separated word of *p (into out); false at the end of the line. */
static bool word(const char **p, char *out, size_t n)
{
	while (**p == ' ')
		(*p)++;
	size_t len = strcspn(*p, " ");
	if (!len || len >= n)
		return false;
	memcpy(out, *p, len);
	out[len] = '\0';
	*p += len;
	return true;
}

/* One line; false (with a message printed) when the answer is not as expected. */
static bool run_line(struct run *rn, const char *line)
{
	char tok[1024], method[16] = "", user[64] = "", *url = NULL;
	const char *hdrs[MAX_HEADERS + 2] = {0};
	char *owned[MAX_HEADERS] = {0};
	size_t nh = 0;
	bool form = false, ok = false;
	const char *p = line;
	json_t *want = NULL, *ans = NULL;
	struct th_resp r = {0};
	char why[512] = "";
	while (word(&p, tok, sizeof tok)) {
		if (strcmp(tok, "AS") == 0 && word(&p, user, sizeof user))
			continue;
		if (strcmp(tok, "FORM") == 0) {
			form = true;
			continue;
		}
		if (strcmp(tok, "WITH") == 0 && nh < MAX_HEADERS && word(&p, tok, sizeof tok)) {
			char *eq = strchr(tok, '=');
			if (!eq)
				break;
			*eq = '\0';
			size_t len = strlen(tok) + strlen(eq + 1) + 3;
			owned[nh] = malloc(len);
			snprintf(owned[nh], len, "%s: %s", tok, eq + 1);
			hdrs[nh] = owned[nh];
			nh++;
			continue;
		}
		snprintf(method, sizeof method, "%s", tok);
		break;
	}
	char path[2048];
	long status = 0;
	if (!method[0] || !word(&p, path, sizeof path) || !word(&p, tok, sizeof tok) ||
	    (status = strtol(tok, NULL, 10)) < 100) {
		snprintf(why, sizeof why, "cannot read the line");
		goto out;
	}
	/* HEADER checks, then the expectation */
	char checks[8][256];
	size_t nchecks = 0;
	while (*p == ' ')
		p++;
	while (strncmp(p, "HEADER ", 7) == 0 && nchecks < 8) {
		p += 7;
		if (!word(&p, checks[nchecks], sizeof checks[0]))
			break;
		nchecks++;
		while (*p == ' ')
			p++;
	}
	json_error_t je;
	bool text = strncmp(p, "TEXT ", 5) == 0;
	if (text)
		p += 5;
	want = json_loads(p, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &je);
	if (!want) {
		snprintf(why, sizeof why, "bad expected JSON: %s", je.text);
		goto out;
	}
	const char *body = p + je.position;
	while (*body == ' ')
		body++;
	if (user[0]) {
		const char *t = token_of(rn, user);
		if (!t) {
			snprintf(why, sizeof why, "no token for %s", user);
			goto out;
		}
		hdrs[nh++] = t;
	}
	url = encode_path(path);
	struct th_client *c = th_client_new(rn->srv);
	long got = th_request(
		c, method, url,
		*body ? (form ? "application/x-www-form-urlencoded" : "application/json") : NULL,
		*body ? body : NULL, strlen(body), nh ? hdrs : NULL, &r);
	th_client_free(c);
	if (got != status) {
		snprintf(why, sizeof why, "status %ld, not %ld", got, status);
		goto out;
	}
	for (size_t i = 0; i < nchecks; i++) {
		char *tilde = strchr(checks[i], '~');
		bool absent = tilde && tilde > checks[i] && tilde[-1] == '!';
		if (!tilde)
			continue;
		*tilde = '\0';
		if (absent)
			tilde[-1] = '\0';
		char *v = th_header(&r, checks[i]);
		bool has = v && strstr(v, tilde + 1);
		if (absent ? v != NULL : !has) {
			snprintf(why, sizeof why, "header %.60s: %.200s", checks[i],
				 v ? v : "(none)");
			free(v);
			goto out;
		}
		free(v);
	}
	if (text) {
		ok = json_is_string(want) && strstr(r.body ? r.body : "", json_string_value(want));
		if (!ok)
			snprintf(why, sizeof why, "the body lacks the text");
		goto out;
	}
	ans = json_loadb(r.body ? r.body : "", r.len, JSON_DECODE_ANY, &je);
	ok = ans && contains(rn, want, ans, why, sizeof why);
out:
	if (!ok)
		printf("# %s:%d: %s\n#   %.160s\n#   got: %.1500s\n", rn->file, rn->lineno, why,
		       line, r.body ? r.body : "");
	for (size_t i = 0; i < MAX_HEADERS; i++)
		free(owned[i]);
	free(url);
	json_decref(want);
	json_decref(ans);
	th_resp_release(&r);
	return ok;
}

/* line with every $SITE replaced by the site URL (malloc'd). */
static char *expand_site(struct run *rn, const char *line)
{
	char *site = th_url(rn->srv, "");
	size_t n = 0, sl = strlen(site);
	for (const char *p = line; (p = strstr(p, "$SITE")); p += 5)
		n++;
	char *out = malloc(strlen(line) + n * sl + 1), *o = out;
	for (const char *p = line, *q; *p; p = q + 5) {
		q = strstr(p, "$SITE");
		if (!q) {
			memcpy(o, p, strlen(p) + 1);
			o += strlen(p);
			break;
		}
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, site, sl);
		o += sl;
	}
	*o = '\0';
	free(site);
	return out;
}

static void run_file(struct run *rn, const char *file)
{
	FILE *fp = fopen(file, "r");
	assert_non_null(fp);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	rn->file = file;
	rn->lineno = 0;
	while ((n = getline(&line, &cap, fp)) >= 0) {
		rn->lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		rn->checked++;
		char *expanded = expand_site(rn, line);
		if (run_line(rn, expanded))
			rn->passed++;
		free(expanded);
	}
	free(line);
	fclose(fp);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void compatibility_suite(void **state)
{
	(void)state;
	DIR *d = opendir("tests/ckan");
	assert_non_null(d);
	char *files[64];
	size_t nfiles = 0;
	struct dirent *e;
	while ((e = readdir(d)) && nfiles < 64) {
		size_t len = strlen(e->d_name);
		if (len > 4 && strcmp(e->d_name + len - 4, ".txt") == 0) {
			files[nfiles] = malloc(len + 12);
			snprintf(files[nfiles++], len + 12, "tests/ckan/%s", e->d_name);
		}
	}
	closedir(d);
	qsort(files, nfiles, sizeof files[0], by_name);
	int checked = 0, passed = 0;
	for (size_t i = 0; i < nfiles; i++) {
		struct run rn = {.vars = json_object()};
		struct th_opts o = {.demo = true,
				    .cors_origins = "https://app.example,http://localhost:3000"};
		rn.srv = th_start_opts(&o);
		run_file(&rn, files[i]);
		printf("# %s: %d checked, %d passed\n", files[i], rn.checked, rn.passed);
		checked += rn.checked;
		passed += rn.passed;
		th_stop(rn.srv);
		for (size_t k = 0; k < 16; k++) {
			free(rn.tokens[k].user);
			free(rn.tokens[k].hdr);
		}
		json_decref(rn.vars);
		free(files[i]);
	}
	printf("# CKAN compatibility: %d behaviours checked, %d passed\n", checked, passed);
	fflush(stdout);
	assert_true(checked >= 200);
	assert_int_equal(passed, checked);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(compatibility_suite),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
