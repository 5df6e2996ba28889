/*
 * test_ckan_catalog.c - the catalogue side of the CKAN Action API through
 * the real server, on whichever store DGOV_TEST_DB selects: what reads
 * better as code than as the compatibility suite's lines (tests/ckan/NAME.txt,
 * run by test_ckan_compat.c): private datasets and include_private, the
 * kept facet counts against a count of the datasets themselves after each
 * kind of write, and the DCAT-AP exports, whose Turtle is parsed by rapper
 * (raptor2-utils) when it is installed.
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
#include <time.h>

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
	assert_int_equal(count_of(DG_DEMO_ADMIN, "{\"q\":\"name:sj-internal-case-ledger\","
						 "\"include_private\":true}"),
			 0);
}

/* ---- the kept counts (catalog/facets.c) against the datasets themselves ---- */

#define ALL_FACETS                                                                                 \
	"\"facet.field\":[\"organization\",\"groups\",\"tags\",\"res_format\",\"license_id\","     \
	"\"update_frequency\",\"region\",\"open_tier\"],\"facet.limit\":-1"

static void inc(json_t *brute, const char *facet, const char *value)
{
	if (!value || !value[0])
		return;
	json_t *set = json_object_get(brute, facet);
	json_int_t n = json_integer_value(json_object_get(set, value));
	json_object_set_new(set, value, json_integer(n + 1));
}

/* Every facet counted in C over every dataset the public sees, as package_search's facets. */
static json_t *brute_counts(json_t *results)
{
	static const char *const names[] = {"organization", "groups",     "tags",
					    "res_format",   "license_id", "update_frequency",
					    "region",       "open_tier"};
	json_t *brute = json_object();
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		json_object_set_new(brute, names[i], json_object());
	size_t i, k;
	json_t *p, *x;
	json_array_foreach (results, i, p) {
		inc(brute, "organization",
		    json_string_value(json_object_get(json_object_get(p, "organization"), "name")));
		json_array_foreach (json_object_get(p, "groups"), k, x)
			inc(brute, "groups", json_string_value(json_object_get(x, "name")));
		json_array_foreach (json_object_get(p, "tags"), k, x)
			inc(brute, "tags", json_string_value(json_object_get(x, "name")));
		json_t *formats = json_object(); /* a dataset counts once per format */
		json_array_foreach (json_object_get(p, "resources"), k, x) {
			const char *f = json_string_value(json_object_get(x, "format"));
			if (f && f[0])
				json_object_set_new(formats, f, json_true());
		}
		const char *f;
		json_t *t;
		json_object_foreach (formats, f, t)
			inc(brute, "res_format", f);
		json_decref(formats);
		inc(brute, "license_id", json_string_value(json_object_get(p, "license_id")));
		json_array_foreach (json_object_get(p, "extras"), k, x) {
			const char *key = json_string_value(json_object_get(x, "key"));
			if (strcmp(key, "update_frequency") == 0 || strcmp(key, "region") == 0 ||
			    strcmp(key, "open_tier") == 0)
				inc(brute, key, json_string_value(json_object_get(x, "value")));
		}
	}
	return brute;
}

static json_t *result_of(const char *user, const char *action, const char *body)
{
	long st = 0;
	json_t *ans = call(user, action, body, &st);
	assert_int_equal(st, 200);
	json_t *res = json_incref(json_object_get(ans, "result"));
	json_decref(ans);
	return res;
}

/*
 * Searches with free text and facets, counted over their matched rows (and
 * the second time of each read from what the node kept of the first): each
 * one's count and facets against the brute count of its results.
 */
static void check_q_counts(void)
{
	/* q and fq: free text alone, with a filter, a filter alone, English words */
	static const char *const qs[][2] = {
		{"统计", ""},
		{"养老 OR 医疗", ""},
		{"名录", ""},
		{"zzqqxx", ""},
		{"title:统计", ""},
		{"统计", "organization:mz"},
		{"社区 OR 统计", "res_format:CSV"},
		{"", "tags:社区"},
		{"", "res_format:JSON OR license_id:cc-by"},
		{"counts", ""},
		{"elderly care", "-organization:mz"},
	};
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		for (int twice = 0; twice < 2; twice++) {
			json_t *q = json_string(qs[i][0]), *fq = json_string(qs[i][1]);
			char *qj = json_dumps(q, JSON_ENCODE_ANY);
			char *fqj = json_dumps(fq, JSON_ENCODE_ANY);
			json_decref(q);
			json_decref(fq);
			char body[700];
			snprintf(body, sizeof body,
				 "{\"q\":%s,\"fq\":%s,\"rows\":1000," ALL_FACETS "}", qj, fqj);
			free(qj);
			free(fqj);
			json_t *found = result_of(NULL, "package_search", body);
			json_t *results = json_object_get(found, "results");
			assert_int_equal(json_integer_value(json_object_get(found, "count")),
					 json_array_size(results));
			json_t *brute = brute_counts(results);
			const char *name;
			json_t *want;
			json_object_foreach (brute, name, want) {
				json_t *got =
					json_object_get(json_object_get(found, "facets"), name);
				if (!json_equal(want, got)) {
					char *w = json_dumps(want, JSON_SORT_KEYS);
					char *g = json_dumps(got, JSON_SORT_KEYS);
					fail_msg("q %s fq %s facet %s: counted %s, got %s",
						 qs[i][0], qs[i][1], name, w, g);
				}
			}
			json_decref(brute);
			json_decref(found);
		}
	}
}

/*
 * The unfiltered search (kept counts), the same search through a filter that
 * holds for every visible dataset (counted over the matched rows), tag_list,
 * organization_list and group_list all agree with the brute count; each
 * organisation's and group's search (kept counts of its scope) agrees with
 * the same search counted over its rows.
 */
static void check_counts(void)
{
	json_t *all = result_of(NULL, "package_search", "{\"rows\":1000," ALL_FACETS "}");
	json_t *results = json_object_get(all, "results");
	json_t *brute = brute_counts(results);
	assert_int_equal(json_integer_value(json_object_get(all, "count")),
			 json_array_size(results));
	json_t *filtered = result_of(NULL, "package_search",
				     "{\"rows\":0,\"fq\":\"state:active\"," ALL_FACETS "}");
	assert_int_equal(json_integer_value(json_object_get(filtered, "count")),
			 json_array_size(results));
	const char *name;
	json_t *want;
	json_object_foreach (brute, name, want) {
		if (!json_equal(want, json_object_get(json_object_get(all, "facets"), name)) ||
		    !json_equal(want, json_object_get(json_object_get(filtered, "facets"), name))) {
			char *w = json_dumps(want, JSON_SORT_KEYS);
			char *g = json_dumps(json_object_get(all, "facets"), JSON_SORT_KEYS);
			fail_msg("facet %s: counted %s, kept %s", name, w, g);
		}
	}
	/* tag_list: the brute count's tags, sorted */
	json_t *tags = result_of(NULL, "tag_list", "{}");
	assert_int_equal(json_array_size(tags), json_object_size(json_object_get(brute, "tags")));
	size_t i;
	json_t *t;
	json_array_foreach (tags, i, t)
		assert_non_null(
			json_object_get(json_object_get(brute, "tags"), json_string_value(t)));
	json_decref(tags);
	/* organization_list and group_list: each one's package_count */
	static const char *const lists[][2] = {{"organization_list", "organization"},
					       {"group_list", "groups"}};
	for (size_t l = 0; l < 2; l++) {
		json_t *gs = result_of(NULL, lists[l][0], "{\"all_fields\":true,\"limit\":1000}");
		json_t *g;
		size_t n = 0;
		json_array_foreach (gs, i, g) {
			json_int_t c = json_integer_value(json_object_get(g, "package_count"));
			json_t *b = json_object_get(json_object_get(brute, lists[l][1]),
						    json_string_value(json_object_get(g, "name")));
			assert_int_equal(c, b ? json_integer_value(b) : 0);
			n += c > 0;
		}
		assert_int_equal(n, json_object_size(json_object_get(brute, lists[l][1])));
		json_decref(gs);
	}
	/* each organisation's and group's kept counts against the same counted over its rows */
	static const char *const scoped[][2] = {{"organization", "organization"},
						{"groups", "groups"}};
	for (size_t l = 0; l < 2; l++) {
		json_t *n;
		json_object_foreach (json_object_get(brute, scoped[l][0]), name, n) {
			json_t *fqs = json_sprintf("%s:\"%s\"", scoped[l][1], name);
			char *fq = json_dumps(fqs, JSON_ENCODE_ANY);
			json_decref(fqs);
			char body[512], body2[600];
			snprintf(body, sizeof body, "{\"rows\":0,\"fq\":%s," ALL_FACETS "}", fq);
			snprintf(body2, sizeof body2,
				 "{\"rows\":0,\"fq\":%s,\"fq_list\":[\"state:active\"]," ALL_FACETS
				 "}",
				 fq);
			free(fq);
			json_t *kept = result_of(NULL, "package_search", body);
			json_t *counted = result_of(NULL, "package_search", body2);
			assert_int_equal(json_integer_value(json_object_get(kept, "count")),
					 json_integer_value(n));
			assert_int_equal(json_integer_value(json_object_get(counted, "count")),
					 json_integer_value(n));
			if (!json_equal(json_object_get(kept, "facets"),
					json_object_get(counted, "facets"))) {
				char *k =
					json_dumps(json_object_get(kept, "facets"), JSON_SORT_KEYS);
				char *c = json_dumps(json_object_get(counted, "facets"),
						     JSON_SORT_KEYS);
				fail_msg("%s %s: kept %s, counted %s", scoped[l][0], name, k, c);
			}
			json_decref(kept);
			json_decref(counted);
		}
	}
	json_decref(brute);
	json_decref(filtered);
	json_decref(all);
	check_q_counts();
}

/* Whether the public's package_search, tag_list and organization mz hold the test dataset. */
static void assert_seen(bool seen)
{
	assert_int_equal(count_of(NULL, "{\"q\":\"name:facet-probe\"}"), seen ? 1 : 0);
	/* by its title's English words and its Chinese ones, each search answered afresh */
	assert_int_equal(count_of(NULL, "{\"q\":\"quillwort\"}"), seen ? 1 : 0);
	assert_int_equal(count_of(NULL, "{\"q\":\"探针\",\"facet.field\":[\"tags\"]}"),
			 seen ? 1 : 0);
	assert_int_equal(count_of(NULL, "{\"fq\":\"tags:探针标签\"}"), seen ? 1 : 0);
	json_t *tags = result_of(NULL, "tag_list", "{\"query\":\"探针\"}");
	assert_int_equal(json_array_size(tags), seen ? 1 : 0);
	json_decref(tags);
	json_t *all = result_of(NULL, "package_search", "{\"rows\":0," ALL_FACETS "}");
	json_t *facets = json_object_get(all, "facets");
	assert_true(!json_object_get(json_object_get(facets, "groups"), "探针主题") == !seen);
	assert_true(!json_object_get(json_object_get(facets, "res_format"), "PROBE") == !seen);
	json_decref(all);
}

static void post_ok(const char *user, const char *action, const char *body)
{
	long st = 0;
	json_t *ans = call(user, action, body, &st);
	if (st != 200) {
		char *text = json_dumps(ans, 0);
		fail_msg("%s %s: %ld %s", action, body, st, text);
	}
	json_decref(ans);
}

static void facet_counts(void **state)
{
	(void)state;
	check_counts();
	/* created: every count it carries goes up */
	post_ok(DG_DEMO_STAFF, "package_create",
		"{\"name\":\"facet-probe\",\"title\":\"探针\",\"owner_org\":\"mz\","
		"\"title_translated\":{\"en\":\"Quillwort survey\",\"zh\":\"探针\"},"
		"\"license_id\":\"odc-by\",\"groups\":[{\"name\":\"探针主题\"}],"
		"\"tags\":[{\"name\":\"探针标签\"},{\"name\":\"社区\"}],"
		"\"extras\":[{\"key\":\"update_frequency\",\"value\":\"weekly\"},"
		"{\"key\":\"region\",\"value\":\"probe-region\"}],"
		"\"resources\":[{\"url\":\"https://example.org/a.csv\",\"format\":\"PROBE\"},"
		"{\"url\":\"https://example.org/b.csv\",\"format\":\"PROBE\"},"
		"{\"url\":\"https://example.org/c.json\",\"format\":\"JSON\"}]}");
	check_counts();
	assert_seen(true);
	/* updated: tags, licence and frequency move */
	post_ok(DG_DEMO_STAFF, "package_patch",
		"{\"id\":\"facet-probe\",\"license_id\":\"cc-by\","
		"\"tags\":[{\"name\":\"探针标签\"},{\"name\":\"另一个\"}],"
		"\"extras\":[{\"key\":\"update_frequency\",\"value\":\"daily\"}]}");
	check_counts();
	/* a resource added, one removed */
	post_ok(DG_DEMO_STAFF, "resource_create",
		"{\"package_id\":\"facet-probe\",\"url\":\"https://example.org/d.xml\","
		"\"format\":\"XML\"}");
	check_counts();
	json_t *pkg = result_of(DG_DEMO_STAFF, "package_show", "{\"id\":\"facet-probe\"}");
	json_t *res = json_array_get(json_object_get(pkg, "resources"), 2);
	char body[200];
	snprintf(body, sizeof body, "{\"id\":\"%s\"}",
		 json_string_value(json_object_get(res, "id")));
	json_decref(pkg);
	post_ok(DG_DEMO_STAFF, "resource_delete", body);
	check_counts();
	/* closed, then open again; private, then public again */
	post_ok(DG_DEMO_STAFF, "package_patch",
		"{\"id\":\"facet-probe\",\"name\":\"mz-facet-probe\",\"extras\":[{\"key\":"
		"\"open_tier\",\"value\":\"closed\"}]}");
	check_counts();
	assert_seen(false);
	post_ok(DG_DEMO_STAFF, "package_patch",
		"{\"id\":\"mz-facet-probe\",\"name\":\"facet-probe\",\"extras\":[{\"key\":"
		"\"open_tier\",\"value\":\"conditional\"}]}");
	check_counts();
	assert_seen(true);
	post_ok(DG_DEMO_STAFF, "package_patch", "{\"id\":\"facet-probe\",\"private\":true}");
	check_counts();
	assert_seen(false);
	post_ok(DG_DEMO_STAFF, "package_patch", "{\"id\":\"facet-probe\",\"private\":false}");
	check_counts();
	/* deleted: it leaves every count and result at once; restored: back */
	post_ok(DG_DEMO_STAFF, "package_delete", "{\"id\":\"facet-probe\"}");
	check_counts();
	assert_seen(false);
	post_ok(DG_DEMO_STAFF, "package_patch", "{\"id\":\"facet-probe\",\"state\":\"active\"}");
	check_counts();
	assert_seen(true);
	/* a refused write changes no count: another department may not touch it */
	long st = 0;
	json_t *ans = call(DG_DEMO_STAFF2, "package_patch",
			   "{\"id\":\"facet-probe\",\"private\":true}", &st);
	assert_int_equal(st, 403);
	json_decref(ans);
	check_counts();
	assert_seen(true);
	/* purged: gone from every count */
	post_ok(DG_DEMO_ADMIN, "dataset_purge", "{\"id\":\"facet-probe\"}");
	check_counts();
	assert_seen(false);
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
	assert_null(strstr(r.body, "sj-internal-case-ledger"));
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
	assert_int_equal(get("/dataset/sj-internal-case-ledger.ttl", &r), 404);
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
	/* its resource's link: the table's dump, served by dgov */
	assert_non_null(strstr(r.body, "/datastore/dump/00000000-0000-4000-9000-000000000001"));
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

/*
 * Pages by keyset. package_list: each full page's Link header names the
 * next (after its last name), and walking them gives package_list's whole
 * list in order; offset counts from after; a bad after is refused. The
 * DCAT catalogue from after=MS.NAME holds exactly the datasets after that
 * one in its order (package_search's sort metadata_modified desc); a bad
 * after, or after with page, is refused.
 */
static void deep_pages(void **state)
{
	(void)state;
	json_t *all = result_of(NULL, "package_list", "{}");
	assert_true(json_array_size(all) >= 6);
	json_t *walked = json_array();
	char path[512];
	snprintf(path, sizeof path, "/api/3/action/package_list?limit=4");
	for (int pages = 0; pages < 100; pages++) {
		struct th_resp r = {0};
		assert_int_equal(get(path, &r), 200);
		json_t *ans = json_loadb(r.body, r.len, 0, NULL);
		json_t *list = json_object_get(ans, "result");
		json_array_extend(walked, list);
		char *link = th_header(&r, "Link");
		th_resp_release(&r);
		assert_true((link != NULL) == (json_array_size(list) == 4));
		json_decref(ans);
		if (!link)
			break;
		/* </api/3/action/package_list?limit=4&after=NAME>; rel="next" */
		char *end = strchr(link, '>');
		assert_non_null(end);
		assert_non_null(strstr(end, "rel=\"next\""));
		*end = 0;
		snprintf(path, sizeof path, "%s", link + 1);
		free(link);
	}
	assert_true(json_equal(all, walked));
	json_decref(walked);
	char body[300];
	snprintf(body, sizeof body, "{\"after\":\"%s\",\"offset\":1,\"limit\":2}",
		 json_string_value(json_array_get(all, 1)));
	json_t *two = result_of(NULL, "package_list", body);
	assert_int_equal(json_array_size(two), 2);
	assert_string_equal(json_string_value(json_array_get(two, 0)),
			    json_string_value(json_array_get(all, 3)));
	json_decref(two);
	long st = 0;
	json_decref(call(NULL, "package_list", "{\"after\":7}", &st));
	assert_int_equal(st, 409);
	json_decref(all);

	/* the DCAT catalogue after the third dataset in its order */
	json_t *order = result_of(NULL, "package_search",
				  "{\"rows\":1000,\"sort\":\"metadata_modified desc\"}");
	json_t *res = json_object_get(order, "results"), *third = json_array_get(res, 2);
	assert_non_null(third);
	/* the keyset is the time in ms, as package_search's ISO time has it */
	const char *iso = json_string_value(json_object_get(third, "metadata_modified"));
	struct tm tm = {0};
	int us = 0;
	assert_int_equal(sscanf(iso, "%d-%d-%dT%d:%d:%d.%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
				&tm.tm_hour, &tm.tm_min, &tm.tm_sec, &us),
			 7);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	long long ms = (long long)timegm(&tm) * 1000 + us / 1000;
	snprintf(path, sizeof path, "/catalog.jsonld?after=%lld.%s", ms,
		 json_string_value(json_object_get(third, "name")));
	struct th_resp r = {0};
	assert_int_equal(get(path, &r), 200);
	size_t i;
	json_t *p;
	json_array_foreach (res, i, p) {
		char id[200];
		snprintf(id, sizeof id, "/dataset/%s\"",
			 json_string_value(json_object_get(p, "id")));
		if ((strstr(r.body, id) != NULL) != (i > 2))
			fail_msg("dataset %zu of %zu: %s in the page after the third", i,
				 json_array_size(res), i > 2 ? "not" : "");
	}
	assert_null(strstr(r.body, "hydra:nextPage")); /* fewer than a page */
	th_resp_release(&r);
	json_decref(order);
	static const char *const bad[] = {"/catalog.ttl?after=x", "/catalog.ttl?after=12",
					  "/catalog.ttl?after=12.a%20b", "/catalog.ttl?after=.a",
					  "/catalog.ttl?after=1.a&page=1"};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		assert_int_equal(get(bad[k], &r), 400);
		th_resp_release(&r);
	}
}

/*
 * The ids of package_search's results for body, asked by a department's
 * staff (the public's datasets, with a key's quota, not the anonymous one).
 */
static json_t *ids_of(const char *body, json_int_t *count)
{
	json_t *found = result_of(DG_DEMO_STAFF2, "package_search", body);
	json_t *ids = json_array(), *p;
	size_t i;
	json_array_foreach (json_object_get(found, "results"), i, p)
		json_array_append(ids, json_object_get(p, "id"));
	*count = json_integer_value(json_object_get(found, "count"));
	json_decref(found);
	return ids;
}

/*
 * A sort the node pages from its documents in memory (mem, "" the default)
 * and the same order spelled out with a key the memory does not hold (sql:
 * "id" after the unique name changes nothing), which is paged in SQL.
 */
static const char *const sorts[][2] = {
	{"", "score desc, metadata_modified desc, name asc, id asc"},
	{"metadata_modified desc", "metadata_modified desc, name asc, id asc"},
	{"metadata_modified asc", "metadata_modified asc, name asc, id asc"},
	{"name asc", "name asc, id asc"},
	{"name desc", "name desc, id desc"},
	{"score desc, name desc", "score desc, name desc, id asc"},
};

/* package_search's body for q, start, rows and sort ("" none). */
static void search_body(char *body, size_t size, const char *q, json_int_t start, int rows,
			const char *sort)
{
	snprintf(body, size, "{\"q\":\"%s\",\"start\":%lld,\"rows\":%d%s%s%s}", q, (long long)start,
		 rows, sort[0] ? ",\"sort\":\"" : "", sort, sort[0] ? "\"" : "");
}

/*
 * Each sort of sorts is paged from memory for free text (ranked), a
 * field's query (its documents from SQL) and every dataset (q empty); the
 * same order spelled out is paged in SQL. Both give the same count and the
 * same datasets at every start: the first page, the second, one inside,
 * the last, at the count and past it (none, the count still right), and
 * each page is the slice of all of them.
 */
static void check_rank_pages(void)
{
	static const char *const qs[] = {"统计", "养老 OR 医疗",  "elderly care",
					 "数据", "zzqqxx",        "quillrank",
					 "",     "res_format:CSV"};
	char body[400];
	for (size_t o = 0; o < sizeof sorts / sizeof sorts[0]; o++)
		for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
			json_int_t total = 0, n = 0;
			search_body(body, sizeof body, qs[i], 0, 1000, sorts[o][0]);
			json_t *all = ids_of(body, &total);
			assert_int_equal(json_array_size(all), total);
			json_int_t starts[] = {
				0, 1, total / 2, total > 2 ? total - 2 : 0, total, total + 5};
			for (size_t k = 0; k < sizeof starts / sizeof starts[0]; k++) {
				search_body(body, sizeof body, qs[i], starts[k], 3, sorts[o][0]);
				json_t *mem = ids_of(body, &n);
				assert_int_equal(n, total);
				search_body(body, sizeof body, qs[i], starts[k], 3, sorts[o][1]);
				json_t *sql = ids_of(body, &n);
				assert_int_equal(n, total);
				if (!json_equal(mem, sql)) {
					char *m = json_dumps(mem, 0), *q = json_dumps(sql, 0);
					fail_msg("q \"%s\" sort \"%s\" start %lld: in memory %s, "
						 "in SQL %s",
						 qs[i], sorts[o][0], (long long)starts[k], m, q);
				}
				for (size_t j = 0; j < json_array_size(mem); j++)
					assert_true(json_equal(
						json_array_get(mem, j),
						json_array_get(all, (size_t)starts[k] + j)));
				assert_int_equal(json_array_size(mem), starts[k] >= total ? 0
								       : total - starts[k] < 3
									       ? total - starts[k]
									       : 3);
				json_decref(mem);
				json_decref(sql);
			}
			json_decref(all);
		}
}

/* The names of package_search's results for q in sort, joined by spaces, into out. */
static void names_of(const char *q, const char *sort, char *out, size_t size)
{
	char body[300];
	search_body(body, sizeof body, q, 0, 10, sort);
	json_t *found = result_of(NULL, "package_search", body), *p;
	size_t i, len = 0;
	out[0] = 0;
	json_array_foreach (json_object_get(found, "results"), i, p)
		len += (size_t)snprintf(out + len, size - len, "%s%s", i ? " " : "",
					json_string_value(json_object_get(p, "name")));
	json_decref(found);
}

static void rank_pages(void **state)
{
	(void)state;
	check_rank_pages();
	json_int_t before = count_of(DG_DEMO_STAFF2, "{\"q\":\"统计\"}");
	/* a match with the word in its title: first by rank, and its ties by time, then name */
	post_ok(DG_DEMO_STAFF, "package_create",
		"{\"name\":\"rank-probe\",\"title\":\"统计 统计 统计\",\"owner_org\":\"mz\","
		"\"notes\":\"统计\",\"tags\":[{\"name\":\"统计\"}]}");
	assert_int_equal(count_of(DG_DEMO_STAFF2, "{\"q\":\"统计\"}"), before + 1);
	json_int_t n = 0;
	json_t *first = ids_of("{\"q\":\"统计\",\"rows\":1}", &n);
	json_t *p = result_of(NULL, "package_show", "{\"id\":\"rank-probe\"}");
	assert_true(json_equal(json_array_get(first, 0), json_object_get(p, "id")));
	json_decref(p);
	json_decref(first);
	check_rank_pages();
	/* three of the same rank: the newest first, then by name */
	static const char *const tied[] = {"rank-tie-b", "rank-tie-a", "rank-tie-c"};
	for (size_t i = 0; i < 3; i++) {
		char body[300];
		snprintf(body, sizeof body,
			 "{\"name\":\"%s\",\"title\":\"quillrank\",\"owner_org\":\"mz\"}", tied[i]);
		post_ok(DG_DEMO_STAFF, "package_create", body);
	}
	check_rank_pages();
	/*
	 * The three modified in the same millisecond (as a harvest may give
	 * them), recorded as a write records its documents: ties on the time,
	 * broken by the name in either direction.
	 */
	th_sql(th_shared, "UPDATE od_packages SET metadata_modified = 1700000000000"
			  " WHERE name LIKE 'rank-tie-%'");
	th_sql(th_shared, "UPDATE od_catalog_state SET version = version + 1 WHERE id = 1");
	th_sql(th_shared, "INSERT INTO od_doc_changes (doc, version) SELECT p.search_id, s.version"
			  " FROM od_packages p, od_catalog_state s WHERE s.id = 1"
			  " AND p.name LIKE 'rank-tie-%'"
			  " ON CONFLICT (doc) DO UPDATE SET version = excluded.version");
	char names[300];
	names_of("quillrank", "metadata_modified desc", names, sizeof names);
	assert_string_equal(names, "rank-tie-a rank-tie-b rank-tie-c");
	names_of("quillrank", "name desc", names, sizeof names);
	assert_string_equal(names, "rank-tie-c rank-tie-b rank-tie-a");
	check_rank_pages();
	/* one made private, then one deleted: the next pages leave each out */
	post_ok(DG_DEMO_STAFF, "package_patch", "{\"id\":\"rank-tie-a\",\"private\":true}");
	names_of("quillrank", "metadata_modified asc", names, sizeof names);
	assert_string_equal(names, "rank-tie-b rank-tie-c");
	check_rank_pages();
	post_ok(DG_DEMO_STAFF, "package_delete", "{\"id\":\"rank-tie-c\"}");
	names_of("quillrank", "name asc", names, sizeof names);
	assert_string_equal(names, "rank-tie-b");
	check_rank_pages();
	for (size_t i = 0; i < 3; i++) {
		char body[100];
		snprintf(body, sizeof body, "{\"id\":\"%s\"}", tied[i]);
		post_ok(DG_DEMO_ADMIN, "dataset_purge", body);
	}
	post_ok(DG_DEMO_ADMIN, "dataset_purge", "{\"id\":\"rank-probe\"}");
	assert_int_equal(count_of(DG_DEMO_STAFF2, "{\"q\":\"统计\"}"), before);
	check_rank_pages();
}

/*
 * The English titles and notes (title_translated, notes_translated) are in
 * the search index: the demo's datasets are found by their English words,
 * a title's above a note's, and the search page finds them too.
 */
static void english_titles(void **state)
{
	(void)state;
	json_t *found = result_of(NULL, "package_search", "{\"q\":\"elderly care\"}");
	assert_true(json_integer_value(json_object_get(found, "count")) >= 1);
	json_t *first = json_array_get(json_object_get(found, "results"), 0);
	json_t *en = json_object_get(json_object_get(first, "title_translated"), "en");
	assert_string_equal(json_string_value(en), "Elderly care institutions");
	char title[300];
	snprintf(title, sizeof title, "%s", json_string_value(json_object_get(first, "title")));
	json_decref(found);
	/* a word of the notes only */
	assert_true(count_of(DG_DEMO_STAFF2, "{\"q\":\"dibao\"}") >= 1);
	assert_int_equal(count_of(DG_DEMO_STAFF2, "{\"q\":\"dibao elderly\"}"), 0);
	struct th_resp r = {0};
	assert_int_equal(get("/data?q=elderly", &r), 200);
	assert_non_null(strstr(r.body, title));
	th_resp_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(private_datasets), cmocka_unit_test(facet_counts),
		cmocka_unit_test(dcat_exports),     cmocka_unit_test(deep_pages),
		cmocka_unit_test(english_titles),   cmocka_unit_test(rank_pages),
	};
	return cmocka_run_group_tests(tests, th_group_setup, teardown);
}
