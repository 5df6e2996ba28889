/*
 * test_od_rank.c - free text of whole tokens matched and ranked from the
 * per-token lists a node keeps with its map of the public's documents
 * (catalog/lists.c), against the index's own answer, through the real
 * server on the store DGOV_TEST_DB selects. On a generated catalogue, a
 * table of queries is asked of a node that keeps the lists and of a second
 * node of the same store that keeps nothing (its searches go to the index
 * and count in SQL): their counts, facets and result sets must be the same
 * (on SQLite the order too: the lists' rank is FTS5's bm25 to the bit),
 * before and after a write, a delete, a privacy change, a rename and a
 * purge between the searches.
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
#include "harness.h"
#include "node/demo.h"
#include "opendata/catalog/catalog.h"
#include "store/store.h"

/* words in many of the generated datasets (generate.c), a rare one, and some the index answers */
static const char *const queries[] = {
	"统计",         "数据",           "养老 机构",       "统计 数据",
	"机构",         "数据 统计 信息", "城镇新增就业",    "年鉴",
	"养老",         "rankquokka",     "统计 rankquokka", "\"统计 数据\"",
	"统计 OR 年鉴", "data",           "统 计",           "zzqqxx",
};

/* An action as user (JSON body); its status. */
static long call(const char *user, const char *action, const char *body)
{
	return th_action_as(th_shared, user, DG_DEMO_PASSWORD, action, body);
}

/* package_search of q on s, every match on one page with four facets in full. */
static json_t *search(struct th_srv *s, const char *q)
{
	char *enc = th_enc(q), path[512];
	snprintf(path, sizeof path,
		 "/api/3/action/package_search?q=%s&rows=1000&facet.limit=-1&facet.field="
		 "%%5B%%22organization%%22,%%22groups%%22,%%22tags%%22,%%22res_format%%22%%5D",
		 enc);
	free(enc);
	json_t *j = th_get_json(s, path, 200);
	assert_non_null(j);
	json_t *res = json_incref(json_object_get(j, "result"));
	json_decref(j);
	return res;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of the results, in their order or sorted (strings borrowed from res). */
static const char **names_of(json_t *res, bool sorted, size_t *n)
{
	json_t *list = json_object_get(res, "results"), *p;
	*n = json_array_size(list);
	const char **out = calloc(*n + 1, sizeof *out);
	size_t i;
	json_array_foreach (list, i, p)
		out[i] = json_string_value(json_object_get(p, "name"));
	if (sorted)
		qsort(out, *n, sizeof *out, by_str);
	return out;
}

/* Each query answered alike by the node with lists and by the one without; the total matched. */
static int64_t same_answers(struct th_srv *plain, const char *when)
{
	bool sqlite = dg_store_kind(th_app(th_shared)->env.store) == DG_STORE_SQLITE;
	int64_t total = 0;
	for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++) {
		json_t *x = search(th_shared, queries[q]), *y = search(plain, queries[q]);
		int64_t cx = json_integer_value(json_object_get(x, "count")),
			cy = json_integer_value(json_object_get(y, "count"));
		if (cx != cy)
			fail_msg("%s, q=%s: count %lld with lists, %lld without", when, queries[q],
				 (long long)cx, (long long)cy);
		if (!json_equal(json_object_get(x, "facets"), json_object_get(y, "facets")))
			fail_msg("%s, q=%s: the facets differ", when, queries[q]);
		size_t nx, ny;
		const char **a = names_of(x, !sqlite, &nx), **b = names_of(y, !sqlite, &ny);
		assert_int_equal(nx, ny);
		for (size_t i = 0; i < nx; i++)
			if (strcmp(a[i], b[i]) != 0)
				fail_msg("%s, q=%s: result %zu is %s with lists, %s without", when,
					 queries[q], i, a[i], b[i]);
		total += cx;
		free(a);
		free(b);
		json_decref(x);
		json_decref(y);
	}
	return total;
}

/* The name of the best match of q among the public's datasets (malloc'd). */
static char *best_match(const char *q)
{
	json_t *res = search(th_shared, q);
	json_t *first = json_array_get(json_object_get(res, "results"), 0);
	assert_non_null(first);
	char *name = strdup(json_string_value(json_object_get(first, "name")));
	json_decref(res);
	return name;
}

static void lists_answer_as_the_index(void **state)
{
	(void)state;
	struct dg_db *db = NULL;
	struct dg_err err = {0};
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_db_begin(db), DG_OK);
	assert_int_equal(dg_od_catalog_generate(db, 300, &err), DG_OK);
	assert_int_equal(dg_db_commit(db), DG_OK);
	dg_db_put(db);
	struct th_opts off = {.no_page_cache = true};
	struct th_srv *plain = th_start_peer(th_shared, &off);
	assert_true(same_answers(plain, "generated") > 300);

	/* a write: a new dataset with two of the common words and a rare one */
	assert_int_equal(
		call(DG_DEMO_STAFF, "package_create",
		     "{\"name\":\"rank-new\",\"owner_org\":\"mz\",\"title\":\"统计数据"
		     " rankquokka\",\"notes\":\"养老机构统计\",\"tags\":[{\"name\":\"统计\"}]}"),
		200);
	same_answers(plain, "after a create");
	/* a delete, a privacy change, a rename, a purge */
	char *gone = best_match("统计"), body[256];
	snprintf(body, sizeof body, "{\"id\":\"%s\"}", gone);
	assert_int_equal(call(DG_DEMO_ADMIN, "package_delete", body), 200);
	same_answers(plain, "after a delete");
	char *hidden = best_match("数据");
	snprintf(body, sizeof body, "{\"id\":\"%s\",\"private\":true}", hidden);
	assert_int_equal(call(DG_DEMO_ADMIN, "package_patch", body), 200);
	same_answers(plain, "after a privacy change");
	assert_int_equal(call(DG_DEMO_ADMIN, "organization_patch",
			      "{\"id\":\"mz\",\"name\":\"rankquokka\"}"),
			 200);
	same_answers(plain, "after a rename");
	assert_int_equal(call(DG_DEMO_ADMIN, "dataset_purge", "{\"id\":\"rank-new\"}"), 200);
	same_answers(plain, "after a purge");
	free(gone);
	free(hidden);
	th_stop(plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lists_answer_as_the_index),
	};
	return cmocka_run_group_tests(tests, th_group_setup, th_group_teardown);
}
