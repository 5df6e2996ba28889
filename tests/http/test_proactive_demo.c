/*
 * test_proactive_demo.c - the demo region as `dgov demo --with-runs` seeds
 * it, on the store DGOV_TEST_DB selects: the old-age allowance has run
 * (run 1, through the exchange, its results shown) and its grant batch 1 is
 * proposed by the civil affairs bureau's staff with every line, so the
 * batch page, the take-up charts and the what-if page have something to
 * show; nothing is granted until a second member of staff approves it.
 * A resident's export of an open-data table is finished too, so its page
 * (/data/exports/{job}) has something to show to the browser audits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/demo.h"
#include "harness.h"

static void seeded(void **state)
{
	(void)state;
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_runs"), 1);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_runs WHERE id = 1 AND"
					       " state = 'done' AND ref_date = '2026-12-01' AND"
					       " source = 'exchange'"),
			 1);
	assert_int_equal(th_sql_int(th_shared, "SELECT current_run FROM pr_policies WHERE code ="
					       " 'elderly_allowance'"),
			 1);
	assert_int_equal(th_sql_int(th_shared, "SELECT running_run FROM pr_policies WHERE code ="
					       " 'elderly_allowance'"),
			 0);
	int64_t eligible = th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_results WHERE run_id ="
						 " 1 AND outcome = 'ELIGIBLE'");
	assert_true(eligible > 0);
	/* batch 1: every eligible record listed and proposed by mz_zhao, nothing granted */
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_batches b JOIN users u ON"
					       " u.id = b.proposed_by WHERE b.id = 1 AND b.state ="
					       " 'proposed' AND u.username = 'mz_zhao'"),
			 1);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_grants WHERE batch_id = 1"
					       " AND selected = 1 AND state = 'listed'"),
			 eligible);
	/* the take-up counts the run, district by district */
	assert_int_equal(th_sql_int(th_shared, "SELECT SUM(eligible) FROM pr_takeup WHERE run_id ="
					       " 1"),
			 eligible);
	/* no job was queued for the run: nothing will run it again */
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM jobs WHERE kind ="
					       " 'proactive.run'"),
			 0);
}

static void pages(void **state)
{
	(void)state;
	struct th_client *c = th_signed_in(th_shared, DG_DEMO_STAFF);
	char *body = th_get_body(c, "/office/batches/1", 200);
	assert_non_null(strstr(body, "2026-12"));
	free(body);
	body = th_get_body(c, "/office/policies/elderly_allowance", 200);
	assert_non_null(strstr(body, "<title id=\"takeup-district-title\">"));
	free(body);
	th_client_free(c);
	c = th_client_new(th_shared);
	body = th_get_body(c, "/policies/elderly_allowance", 200);
	assert_non_null(strstr(body, "<title id=\"takeup-time-title\">"));
	free(body);
	th_client_free(c);
	/* the proposer may not approve it: nothing granted */
	c = th_signed_in(th_shared, DG_DEMO_STAFF);
	struct th_resp r = {0};
	assert_int_equal(th_post_csrf(c, "/office/batches/1", "/office/batches/1/approve", "", &r),
			 403);
	th_resp_release(&r);
	th_client_free(c);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM pr_grants WHERE state ="
					       " 'granted'"),
			 0);
}

/* zhangsan's finished export: its page, its file (the table with its labels), no one else's */
static void export_seeded(void **state)
{
	(void)state;
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM jobs WHERE kind ="
					       " 'datastore.export'"),
			 1);
	int64_t job =
		th_sql_int(th_shared, "SELECT j.id FROM jobs j JOIN users u ON u.id ="
				      " j.created_by WHERE j.kind = 'datastore.export' AND"
				      " j.state = 'done' AND u.username = '" DG_DEMO_CITIZEN "'");
	assert_true(job > 0);
	char path[64], file[80];
	snprintf(path, sizeof path, "/data/exports/%lld", (long long)job);
	snprintf(file, sizeof file, "%s/file", path);
	struct th_client *c = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	struct th_resp r = {0};
	assert_int_equal(th_get(c, path, &r), 200);
	assert_non_null(strstr(r.body, file));
	assert_non_null(strstr(r.body, "22"));
	th_resp_release(&r);
	assert_int_equal(th_get(c, file, &r), 200);
	assert_non_null(strstr(r.body, "\xEF\xBB\xBF_id,月份,区县,城镇新增就业人数"));
	assert_non_null(strstr(r.body, "2025-10"));
	th_resp_release(&r);
	th_client_free(c);
	c = th_signed_in(th_shared, DG_DEMO_CITIZEN2);
	assert_int_equal(th_get(c, path, &r), 404);
	th_resp_release(&r);
	assert_int_equal(th_get(c, file, &r), 404);
	th_resp_release(&r);
	th_client_free(c);
}

static int setup(void **state)
{
	(void)state;
	unsetenv("DGOV_PROACTIVE_DATA");
	struct th_opts o = {.demo = true, .demo_runs = true};
	th_shared = th_start_opts(&o);
	return !th_shared;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seeded),
		cmocka_unit_test(pages),
		cmocka_unit_test(export_seeded),
	};
	return cmocka_run_group_tests(tests, setup, th_group_teardown);
}
