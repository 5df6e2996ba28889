/*
 * test_exchange_demo.c - the demo region as `dgov demo --with-runs` seeds it
 * (the browser tests' demo) holds a draft whose pre-fill page has a stable
 * address, /my/cases/20260101-000000/prefill (tests/e2e/pages.json): its
 * applicant sees what would be fetched and from which department, and
 * nothing is fetched by the look; another resident and staff cannot reach
 * it. Runs on the store DGOV_TEST_DB selects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "node/demo.h"

#define PAGE "/my/cases/20260101-000000/prefill"

static void prefill_page_at_a_fixed_address(void **state)
{
	(void)state;
	int64_t audits = th_sql_int(th_shared, "SELECT COUNT(*) FROM audit_log");
	struct th_client *c = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	char *b = th_get_body(c, PAGE, 200);
	assert_non_null(b);
	assert_non_null(strstr(b, "部门已有的数据"));
	assert_non_null(strstr(b, "公安局"));
	assert_non_null(strstr(b, "民政局"));
	free(b);
	th_client_free(c);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM cases WHERE ref ="
					       " '20260101-000000' AND status = 'draft'"
					       " AND item_code = '990100-ZJ-002'"),
			 1);
	/* looking fetches nothing */
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM audit_log"), audits);
	assert_int_equal(th_sql_int(th_shared, "SELECT COUNT(*) FROM xr_prefills"
					       " WHERE case_ref = '20260101-000000'"),
			 0);
	c = th_signed_in(th_shared, DG_DEMO_CITIZEN2);
	assert_int_equal(th_get(c, PAGE, NULL), 404);
	th_client_free(c);
	c = th_signed_in(th_shared, DG_DEMO_STAFF);
	assert_int_equal(th_get(c, PAGE, NULL), 403);
	th_client_free(c);
}

static int setup(void **state)
{
	(void)state;
	unsetenv("DGOV_PROACTIVE_DATA"); /* the demo's run reads the registries */
	struct th_opts o = {.demo = true, .demo_runs = true};
	th_shared = th_start_opts(&o);
	return !th_shared;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(prefill_page_at_a_fixed_address),
	};
	return cmocka_run_group_tests(tests, setup, th_group_teardown);
}
