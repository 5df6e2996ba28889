/*
 * test_ckan_concurrent.c - package_search from several clients at once
 * while another client writes the catalogue, on whichever store
 * DGOV_TEST_DB selects: the node's documents in memory (docmap.c) are
 * patched at each version raise while searches read them.
 *
 * One writer creates datasets, one at a time, and acts on the one before
 * it in turn: updates it (it stays visible), makes it private, deletes it
 * or purges it (it is hidden from the public). READERS readers search all
 * the while, anonymously, with free text alone (the ranked page from the
 * map), free text with a filter, the same with the order of the map's keys,
 * and no query at all (the kept counts). Each answer must be consistent in
 * itself: its count equals the sum of the organisation facet (every
 * dataset has one organisation) and, where the page holds every match, the
 * number of its results; and no dataset hidden by a write that was
 * acknowledged before the search was sent is in its page. At the end the
 * public sees exactly the datasets the writer left visible. Nothing here
 * is timed; under ASan it is also a test that the map's locks hold.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "harness.h"
#include "node/demo.h"

#define READERS 4
#define STEPS   48
#define PROBE   "quokkaprobe"

static char *staff_hdr, *admin_hdr;

/* What the writer has had acknowledged, and what the readers found wrong. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static bool hidden[STEPS];  /* conc-N hidden from the public, acknowledged */
static bool writing = true; /* the writer has not finished */
static int nsearches;       /* answers checked */
static int nfailed;
static char failure[1024]; /* the last failure printed */

static void failed(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pthread_mutex_lock(&mu);
	if (nfailed++ < 10) {
		vsnprintf(failure, sizeof failure, fmt, ap);
		fprintf(stderr, "# %s\n", failure);
	}
	pthread_mutex_unlock(&mu);
	va_end(ap);
}

/* An API call as the holder of hdr (NULL: anonymous): the status, *out the answer. */
static long call(const char *hdr, const char *action, const char *body, json_t **out)
{
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	char path[128];
	snprintf(path, sizeof path, "/api/3/action/%s", action);
	const char *hdrs[] = {hdr, NULL};
	long st = th_request(c, "POST", path, "application/json", body, strlen(body),
			     hdr ? hdrs : NULL, &r);
	*out = json_loadb(r.body ? r.body : "", r.len, JSON_DECODE_ANY, NULL);
	th_resp_release(&r);
	th_client_free(c);
	return st;
}

static void write_ok(const char *hdr, const char *action, const char *body)
{
	json_t *ans = NULL;
	long st = call(hdr, action, body, &ans);
	if (st != 200) {
		char *text = json_dumps(ans, 0);
		failed("%s %s: %ld %s", action, body, st, text ? text : "");
		free(text);
	}
	json_decref(ans);
}

static void *writer(void *arg)
{
	(void)arg;
	char body[600];
	for (int i = 0; i < STEPS; i++) {
		snprintf(body, sizeof body,
			 "{\"name\":\"conc-%d\",\"title\":\"" PROBE
			 " 并发样本 %d\",\"owner_org\":\"mz\","
			 "\"notes\":\"" PROBE " %s\",\"tags\":[{\"name\":\"并发探针\"}],"
			 "\"resources\":[{\"url\":\"https://example.org/"
			 "%d.csv\",\"format\":\"CSV\"}]}",
			 i, i, i % 2 ? PROBE : "notes", i);
		write_ok(staff_hdr, "package_create", body);
		if (i == 0)
			continue;
		int prev = i - 1;
		switch (prev % 4) {
		case 0: /* updated: still visible, its rank changes */
			snprintf(body, sizeof body,
				 "{\"id\":\"conc-%d\",\"title\":\"" PROBE " " PROBE " 改过 %d\"}",
				 prev, prev);
			write_ok(staff_hdr, "package_patch", body);
			break;
		case 1:
			snprintf(body, sizeof body, "{\"id\":\"conc-%d\",\"private\":true}", prev);
			write_ok(staff_hdr, "package_patch", body);
			break;
		case 2:
			snprintf(body, sizeof body, "{\"id\":\"conc-%d\"}", prev);
			write_ok(staff_hdr, "package_delete", body);
			break;
		default:
			snprintf(body, sizeof body, "{\"id\":\"conc-%d\"}", prev);
			write_ok(admin_hdr, "dataset_purge", body);
		}
		if (prev % 4) {
			pthread_mutex_lock(&mu);
			hidden[prev] = true;
			pthread_mutex_unlock(&mu);
		}
	}
	pthread_mutex_lock(&mu);
	writing = false;
	pthread_mutex_unlock(&mu);
	return NULL;
}

/* The searches the readers send in turn: with the rows each asks for. */
static const char *const searches[] = {
	"{\"q\":\"" PROBE "\",\"rows\":1000,\"facet.field\":[\"organization\",\"tags\"]}",
	"{\"q\":\"" PROBE "\",\"fq\":\"tags:并发探针\",\"rows\":1000,"
	"\"facet.field\":[\"organization\"]}",
	"{\"q\":\"" PROBE "\",\"sort\":\"metadata_modified desc\",\"rows\":1000,"
	"\"facet.field\":[\"organization\"]}",
	"{\"q\":\"" PROBE " OR 并发样本\",\"rows\":7,\"start\":2,"
	"\"facet.field\":[\"organization\"]}",
	"{\"rows\":1000,\"facet.field\":[\"organization\"],\"facet.limit\":-1}",
};

/* One answer checked: count, facets, page, and the hidden datasets before it was sent. */
static void check(const char *search, json_t *ans, const bool *was_hidden)
{
	json_t *res = json_object_get(ans, "result");
	json_int_t count = json_integer_value(json_object_get(res, "count"));
	json_t *orgs = json_object_get(json_object_get(res, "facets"), "organization");
	json_int_t sum = 0;
	const char *k;
	json_t *v;
	json_object_foreach (orgs, k, v)
		sum += json_integer_value(v);
	if (sum != count)
		failed("%s: count %lld, organisations' sum %lld", search, (long long)count,
		       (long long)sum);
	json_t *results = json_object_get(res, "results");
	json_int_t rows = strstr(search, "\"rows\":7") ? 7 : 1000, start = rows == 7 ? 2 : 0;
	json_int_t want = count - start < 0 ? 0 : count - start > rows ? rows : count - start;
	if ((json_int_t)json_array_size(results) != want)
		failed("%s: count %lld, %zu results", search, (long long)count,
		       json_array_size(results));
	size_t i;
	json_array_foreach (results, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		int n = -1;
		if (name && sscanf(name, "conc-%d", &n) == 1 && n >= 0 && n < STEPS &&
		    was_hidden[n])
			failed("%s: %s in the page after it was hidden", search, name);
	}
}

static void *reader(void *arg)
{
	size_t turn = (size_t)(uintptr_t)arg;
	for (;;) {
		bool was_hidden[STEPS], more;
		pthread_mutex_lock(&mu);
		memcpy(was_hidden, hidden, sizeof hidden);
		more = writing;
		pthread_mutex_unlock(&mu);
		const char *search = searches[turn++ % (sizeof searches / sizeof searches[0])];
		json_t *ans = NULL;
		long st = call(NULL, "package_search", search, &ans);
		if (st != 200)
			failed("%s: status %ld", search, st);
		else
			check(search, ans, was_hidden);
		json_decref(ans);
		pthread_mutex_lock(&mu);
		nsearches++;
		pthread_mutex_unlock(&mu);
		if (!more)
			break;
	}
	return NULL;
}

static void search_while_writing(void **state)
{
	(void)state;
	staff_hdr = th_token_header(th_shared, DG_DEMO_STAFF, DG_DEMO_PASSWORD);
	admin_hdr = th_token_header(th_shared, DG_DEMO_ADMIN, DG_DEMO_PASSWORD);
	assert_non_null(staff_hdr);
	assert_non_null(admin_hdr);
	/* the readers are anonymous: the public's daily quota lifted (0: none) */
	th_sql(th_shared, "UPDATE od_access_settings SET value = 0 WHERE key = 'anon_daily'");
	pthread_t w, r[READERS];
	for (size_t i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&r[i], NULL, reader, (void *)(uintptr_t)i), 0);
	assert_int_equal(pthread_create(&w, NULL, writer, NULL), 0);
	pthread_join(w, NULL);
	for (size_t i = 0; i < READERS; i++)
		pthread_join(r[i], NULL);
	if (nfailed)
		fail_msg("%d of %d answers inconsistent; the tenth at most: %s", nfailed, nsearches,
			 failure);
	/* the readers searched all the while: at least once each after the last write */
	assert_true(nsearches >= READERS);

	/* at the end: exactly the datasets left visible, each found by the word */
	json_t *ans = NULL;
	assert_int_equal(call(NULL, "package_search",
			      "{\"q\":\"" PROBE "\",\"rows\":1000,\"sort\":\"name asc\"}", &ans),
			 200);
	json_t *results = json_object_get(json_object_get(ans, "result"), "results");
	char want[STEPS * 12] = "", got[STEPS * 12] = "";
	for (int i = 0; i < STEPS; i++)
		if (!hidden[i])
			snprintf(want + strlen(want), sizeof want - strlen(want), "conc-%d ", i);
	size_t i;
	json_t *v;
	json_array_foreach (results, i, v)
		snprintf(got + strlen(got), sizeof got - strlen(got), "%s ",
			 json_string_value(json_object_get(v, "name")));
	int nwant = 0;
	for (int n = 0; n < STEPS; n++)
		nwant += !hidden[n];
	assert_int_equal(json_array_size(results), nwant);
	json_decref(ans);
	for (int n = 0; n < STEPS; n++) {
		char name[24];
		snprintf(name, sizeof name, "conc-%d ", n);
		/* whole names: "conc-1 " must not be found inside "conc-11 " */
		char whole[26];
		snprintf(whole, sizeof whole, " %s", name);
		bool in = strncmp(got, name, strlen(name)) == 0 || strstr(got, whole) != NULL;
		if (in != !hidden[n])
			fail_msg("conc-%d: %s at the end (want %s, got %s)", n,
				 in ? "visible" : "hidden", want, got);
	}
	free(staff_hdr);
	free(admin_hdr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(search_while_writing),
	};
	return cmocka_run_group_tests(tests, th_group_setup, th_group_teardown);
}
