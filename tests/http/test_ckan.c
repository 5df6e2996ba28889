/*
 * test_ckan.c - the CKAN Action API through the real server, on whichever
 * store DGOV_TEST_DB selects: the checks that read better as code than as
 * the compatibility suite's lines (tests/ckan/, test_ckan_compat.c): closed-tier
 * datasets never listed, package_delete only by the owning department's
 * staff or an administrator over an API token.
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

#include "node/demo.h"
#include "harness.h"

static void closed_never_listed(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	assert_int_equal(th_get(c, "/api/3/action/package_list", &r), 200);
	assert_null(strstr(r.body, "sj-internal-case-ledger"));
	assert_non_null(strstr(r.body, "food-safety-inspections")); /* conditional is listed */
	th_resp_release(&r);
	th_client_free(c);
}

static void envelope_help_and_content_type(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	assert_int_equal(th_get(c, "/api/3/action/package_show?id=market-entities", &r), 200);
	char *ct = th_header(&r, "Content-Type");
	assert_non_null(ct);
	assert_non_null(strstr(ct, "application/json"));
	free(ct);
	assert_non_null(strstr(r.body, "\"help\""));
	assert_non_null(strstr(r.body, "help_show?name=package_show"));
	th_resp_release(&r);
	/* form bodies are parameters too */
	assert_int_equal(th_post_form(c, "/api/action/package_show", "id=market-entities", &r),
			 200);
	assert_non_null(strstr(r.body, "\"market-entities\""));
	th_resp_release(&r);
	th_client_free(c);
}

static char *token_header(const char *user)
{
	char *h = th_token_header(th_shared, user, DG_DEMO_PASSWORD);
	assert_non_null(h);
	return h;
}

static long delete_as(struct th_client *c, const char *hdr, const char *id, struct th_resp *r)
{
	char body[256];
	snprintf(body, sizeof body, "{\"id\":\"%s\"}", id);
	const char *h[] = {hdr, NULL};
	return th_request(c, "POST", "/api/3/action/package_delete", "application/json", body,
			  strlen(body), hdr ? h : NULL, r);
}

static void package_delete_permissions(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	char *mz = token_header(DG_DEMO_STAFF), *rs = token_header(DG_DEMO_STAFF2);
	char *cit = token_header(DG_DEMO_CITIZEN);
	/* anonymous, a citizen, another department: 403 Authorization Error, nothing changed */
	const char *who[] = {NULL, cit, rs};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(delete_as(c, who[i], "minimum-living-allowance", &r), 403);
		assert_non_null(strstr(r.body, "\"Authorization Error\""));
		th_resp_release(&r);
	}
	/* a closed dataset of another department is not found, not forbidden */
	assert_int_equal(delete_as(c, rs, "sj-internal-case-ledger", &r), 404);
	th_resp_release(&r);
	assert_int_equal(delete_as(c, mz, "no-such-dataset", &r), 404);
	th_resp_release(&r);
	/* a signed-in browser session without a token cannot write (no CSRF on this route) */
	struct th_client *browser = th_client_new(th_shared);
	assert_true(th_login(browser, DG_DEMO_STAFF, DG_DEMO_PASSWORD));
	assert_int_equal(delete_as(browser, NULL, "minimum-living-allowance", &r), 403);
	th_resp_release(&r);
	th_client_free(browser);
	assert_int_equal(th_get(c, "/api/3/action/package_show?id=minimum-living-allowance", &r),
			 200);
	th_resp_release(&r);
	/* the owning department's staff deletes it; then it is gone from show and list */
	assert_int_equal(delete_as(c, mz, "minimum-living-allowance", &r), 200);
	json_t *ans = json_loadb(r.body, r.len, 0, NULL);
	assert_true(json_is_true(json_object_get(ans, "success")));
	assert_true(json_is_null(json_object_get(ans, "result")));
	json_decref(ans);
	th_resp_release(&r);
	assert_int_equal(th_get(c, "/api/3/action/package_show?id=minimum-living-allowance", &r),
			 404);
	th_resp_release(&r);
	assert_int_equal(th_get(c, "/api/3/action/package_list", &r), 200);
	assert_null(strstr(r.body, "minimum-living-allowance"));
	th_resp_release(&r);
	assert_int_equal(delete_as(c, mz, "minimum-living-allowance", &r), 404);
	th_resp_release(&r);
	free(mz);
	free(rs);
	free(cit);
	th_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(closed_never_listed),
		cmocka_unit_test(envelope_help_and_content_type),
		cmocka_unit_test(package_delete_permissions),
	};
	return cmocka_run_group_tests(tests, th_group_setup, th_group_teardown);
}
