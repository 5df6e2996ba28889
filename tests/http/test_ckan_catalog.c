/*
 * test_ckan_catalog.c - the catalogue side of the CKAN Action API through
 * the real server, on whichever store DGOV_TEST_DB selects: what reads
 * better as code than as the compatibility suite's lines (tests/ckan/NAME.txt,
 * run by test_ckan_compat.c): private datasets and include_private, and the DCAT-AP exports, whose
 * Turtle is parsed by rapper (raptor2-utils) when it is installed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "node/demo.h"
#include "harness.h"

/* A fresh API token of a demo user (malloc'd "Authorization: Bearer ..." header). */
static char *token_header(const char *user)
{
	char *h = th_token_header(th_shared, user, DG_DEMO_PASSWORD);
	assert_non_null(h);
	return h;
}

/* Tokens by user name, made once per binary. */
static struct {
	char *user;
	char *hdr;
} tokens[8];

static const char *token_of(const char *user)
{
	size_t i = 0;
	for (; i < 8 && tokens[i].user; i++)
		if (strcmp(tokens[i].user, user) == 0)
			return tokens[i].hdr;
	assert_true(i < 8);
	tokens[i].user = strdup(user);
	tokens[i].hdr = token_header(user);
	return tokens[i].hdr;
}

/* An API call as user (NULL: anonymous) with a JSON body; the parsed answer. */
static json_t *call(const char *user, const char *action, const char *body, long *status)
{
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	char path[128];
	snprintf(path, sizeof path, "/api/3/action/%s", action);
	const char *hdrs[] = {user ? token_of(user) : NULL, NULL};
	*status = th_request(c, "POST", path, "application/json", body, strlen(body),
			     user ? hdrs : NULL, &r);
	json_t *ans = json_loadb(r.body ? r.body : "", r.len, JSON_DECODE_ANY, NULL);
	th_resp_release(&r);
	th_client_free(c);
	return ans;
}

static json_int_t count_of(const char *user, const char *body)
{
	long st = 0;
	json_t *ans = call(user, "package_search", body, &st);
	assert_int_equal(st, 200);
	json_int_t n = json_integer_value(json_object_get(json_object_get(ans, "result"), "count"));
	json_decref(ans);
	return n;
}

static void private_datasets(void **state)
{
	(void)state;
	long st = 0;
	json_t *ans =
		call(DG_DEMO_STAFF, "package_create",
		     "{\"name\":\"mz-private-draft\",\"title\":\"draft\",\"owner_org\":\"mz\","
		     "\"private\":true,\"tags\":[{\"name\":\"草稿\"}]}",
		     &st);
	assert_int_equal(st, 200);
	json_decref(ans);
	const char *q = "{\"q\":\"name:mz-private-draft\",\"include_private\":true}";
	const char *q_pub = "{\"q\":\"name:mz-private-draft\"}";
	/* the owner's department sees it only when asking for private ones */
	assert_int_equal(count_of(DG_DEMO_STAFF, q), 1);
	assert_int_equal(count_of(DG_DEMO_STAFF, q_pub), 0);
	assert_int_equal(count_of(DG_DEMO_ADMIN, q), 1);
	/* nobody else, asking or not */
	assert_int_equal(count_of(DG_DEMO_STAFF2, q), 0);
	assert_int_equal(count_of(DG_DEMO_CITIZEN, q), 0);
	assert_int_equal(count_of(NULL, q), 0);
	/* package_show and the lists never show it to the public */
	ans = call(NULL, "package_show", "{\"id\":\"mz-private-draft\"}", &st);
	assert_int_equal(st, 404);
	json_decref(ans);
	ans = call(NULL, "tag_list", "{}", &st);
	char *text = json_dumps(ans, 0);
	assert_null(strstr(text, "草稿"));
	free(text);
	json_decref(ans);
	/* closed datasets never appear, even to their own department */
	assert_int_equal(count_of(DG_DEMO_ADMIN, "{\"q\":\"name:internal-case-ledger\","
						 "\"include_private\":true}"),
			 0);
}

/* GET path into r (status returned). */
static long get(const char *path, struct th_resp *r)
{
	struct th_client *c = th_client_new(th_shared);
	long st = th_get(c, path, r);
	th_client_free(c);
	return st;
}

/* Whether rapper accepts text as Turtle (true when rapper is not installed: skipped). */
static bool turtle_parses(const char *text, size_t len, int *triples)
{
	*triples = -1;
	if (system("command -v rapper >/dev/null 2>&1") != 0) {
		fprintf(stderr, "rapper not installed: Turtle not parsed\n");
		return true;
	}
	char path[] = "/tmp/dgov-ttl-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rapper -q -i turtle -c %s 2>&1", path);
	FILE *p = popen(cmd, "r");
	char out[512] = "";
	size_t n = fread(out, 1, sizeof out - 1, p);
	out[n] = '\0';
	int rc = pclose(p);
	unlink(path);
	/* rapper -c reports "Parsing returned N triples" */
	const char *at = strstr(out, "returned ");
	if (at)
		*triples = atoi(at + 9);
	if (rc != 0)
		fprintf(stderr, "rapper: %s\n", out);
	return rc == 0;
}

static void dcat_exports(void **state)
{
	(void)state;
	struct th_resp r = {0};
	int triples = 0;
	/* a dataset whose text needs escaping in Turtle and JSON-LD */
	long st = 0;
	json_t *ans =
		call(DG_DEMO_STAFF, "package_create",
		     "{\"name\":\"escaping-check\",\"title\":\"A \\\"quoted\\\" title\\\\ with \\n"
		     "newline >\",\"owner_org\":\"mz\",\"notes\":\"tab\\there; 中文 'single' "
		     "\\\"\\\"\\\"\","
		     "\"extras\":[{\"key\":\"update_frequency\",\"value\":\"monthly\"}],"
		     "\"resources\":[{\"url\":\"https://example.org/a b<c>{d}.csv?x=\\\"1\\\"\","
		     "\"format\":\"CSV\",\"name\":\"r\"}]}",
		     &st);
	assert_int_equal(st, 200);
	json_decref(ans);

	assert_int_equal(get("/dataset/escaping-check.ttl", &r), 200);
	char *ct = th_header(&r, "Content-Type");
	assert_non_null(strstr(ct, "text/turtle"));
	free(ct);
	assert_non_null(strstr(r.body, "dcat:Dataset"));
	assert_non_null(strstr(r.body, "MONTHLY"));
	assert_true(turtle_parses(r.body, r.len, &triples));
	assert_true(triples == -1 || triples >= 12); /* dataset, distribution, publisher */
	th_resp_release(&r);
	/* IRIs from the site URL, whatever Host the request names */
	char iri[128];
	snprintf(iri, sizeof iri, "<http://127.0.0.1:%u/dataset/", th_port(th_shared));
	struct th_client *c = th_client_new(th_shared);
	const char *evil[] = {"Host: evil.example", NULL};
	assert_int_equal(
		th_request(c, "GET", "/dataset/escaping-check.ttl", NULL, NULL, 0, evil, &r), 200);
	th_client_free(c);
	assert_non_null(strstr(r.body, iri));
	assert_null(strstr(r.body, "evil.example"));
	th_resp_release(&r);

	assert_int_equal(get("/dataset/escaping-check.jsonld", &r), 200);
	json_t *doc = json_loadb(r.body, r.len, 0, NULL);
	assert_non_null(doc);
	json_t *graph = json_object_get(doc, "@graph");
	assert_true(json_array_size(graph) >= 3);
	char *text = json_dumps(doc, 0);
	assert_non_null(strstr(text, "A \\\"quoted\\\" title\\\\ with \\nnewline >"));
	free(text);
	json_decref(doc);
	th_resp_release(&r);

	/* the catalogue, paged by 100 with hydra links */
	assert_int_equal(get("/catalog.ttl", &r), 200);
	assert_non_null(strstr(r.body, "dcat:Catalog"));
	assert_non_null(strstr(r.body, "hydra:totalItems"));
	assert_null(strstr(r.body, "internal-case-ledger"));
	assert_true(turtle_parses(r.body, r.len, &triples));
	th_resp_release(&r);
	assert_int_equal(get("/catalog.jsonld?page=1", &r), 200);
	doc = json_loadb(r.body, r.len, 0, NULL);
	assert_non_null(doc);
	text = json_dumps(doc, 0);
	assert_non_null(strstr(text, "hydra:PagedCollection"));
	assert_non_null(strstr(text, "dcat:Catalog"));
	free(text);
	json_decref(doc);
	th_resp_release(&r);

	/* not found, closed, bad suffix, bad page */
	assert_int_equal(get("/dataset/no-such.ttl", &r), 404);
	th_resp_release(&r);
	assert_int_equal(get("/dataset/internal-case-ledger.ttl", &r), 404);
	th_resp_release(&r);
	assert_int_equal(get("/dataset/market-entities.exe", &r), 404);
	th_resp_release(&r);
	assert_int_equal(get("/catalog.ttl?page=0", &r), 400);
	th_resp_release(&r);
	assert_int_equal(get("/catalog.ttl?page=x", &r), 400);
	th_resp_release(&r);
	assert_int_equal(get("/catalog.ttl?page=99", &r), 404);
	th_resp_release(&r);
	assert_int_equal(get("/catalog.jsonld?fq=nosuchfield:x", &r), 400);
	th_resp_release(&r);
	assert_int_equal(get("/catalog.ttl?modified_since=yesterday", &r), 400);
	th_resp_release(&r);
	/* filters as package_search: only mz's datasets, one page */
	assert_int_equal(get("/catalog.jsonld?fq=organization:mz&modified_since=2020-01-01", &r),
			 200);
	assert_non_null(strstr(r.body, "minimum-living-allowance.csv")); /* its resource link */
	assert_null(strstr(r.body, "market-entities"));
	th_resp_release(&r);
}

static int teardown(void **state)
{
	for (size_t i = 0; i < 8; i++) {
		free(tokens[i].user);
		free(tokens[i].hdr);
	}
	return th_group_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(private_datasets),
		cmocka_unit_test(dcat_exports),
	};
	return cmocka_run_group_tests(tests, th_group_setup, teardown);
}
