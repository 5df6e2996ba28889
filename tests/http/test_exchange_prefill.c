/*
 * test_exchange_prefill.c - an application filled through the exchange,
 * through the real server on the store DGOV_TEST_DB selects: starting an
 * item whose form names registry fields leads to the pre-fill step (an
 * item without leads to its form); the step shows what would be fetched
 * and from whom and fetches nothing by itself; fetching the ticked entries
 * fills the answers (fixed on the form), attaches the household register
 * extract as a signed document that verifies, records each source and its
 * freshness, audits every read and lists it on /my/data-use; a grant that
 * needs consent refuses without it (audited, nothing filled); a material
 * can be uploaded instead, and a bad upload changes nothing; another
 * resident, staff and visitors cannot reach the step, nor can a case that
 * is no longer a draft.
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
#include <jansson.h>

#include "app/app.h"
#include "harness.h"
#include "node/demo.h"

#define ITEM      "990100-ZJ-002" /* public rental housing: its form names registry fields */
#define HUKOU_ENC "%E5%B1%85%E6%B0%91%E6%88%B7%E5%8F%A3%E7%B0%BF" /* 居民户口簿 */
#define PNG       "\x89PNG\r\n\x1a\n0000IHDR-test-image"

static int64_t count(const char *sql)
{
	return th_sql_int(th_shared, sql);
}

/* Start an application for item; returns its reference (owned) and *to where it led. */
static char *start(struct th_client *c, const char *item, char to[160])
{
	struct th_resp r = {0};
	char page[128];
	snprintf(page, sizeof page, "/services/%s/apply", item);
	assert_int_equal(th_post_csrf(c, page, page, "", &r), 303);
	char *loc = th_header(&r, "Location");
	assert_non_null(loc);
	snprintf(to, 160, "%s", loc);
	const char *p = strstr(loc, "/my/cases/");
	assert_non_null(p);
	p += strlen("/my/cases/");
	char *ref = strndup(p, strcspn(p, "/"));
	free(loc);
	th_resp_release(&r);
	return ref;
}

static void offered_only_where_it_fits(void **state)
{
	(void)state;
	struct th_client *c = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	char to[160], want[160];
	char *ref = start(c, ITEM, to);
	snprintf(want, sizeof want, "/my/cases/%s/prefill", ref);
	assert_string_equal(to, want);
	free(ref);
	/* an item whose form names no registry field goes straight to its form */
	ref = start(c, "990100-MZ-007", to);
	snprintf(want, sizeof want, "/my/cases/%s/form/1", ref);
	assert_string_equal(to, want);
	free(ref);
	th_client_free(c);
}

static void preview_then_fetch(void **state)
{
	(void)state;
	struct th_client *c = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	char to[160], path[160], q[300];
	char *ref = start(c, ITEM, to);
	int64_t reads = count("SELECT COUNT(*) FROM audit_log WHERE kind = 'exchange.read'");
	int64_t uses = count("SELECT COUNT(*) FROM xr_uses");
	/* the preview: what, from whom; nothing fetched yet */
	snprintf(path, sizeof path, "/my/cases/%s/prefill", ref);
	char *b = th_get_body(c, path, 200);
	assert_non_null(b);
	assert_non_null(strstr(b, "部门已有的数据"));
	assert_non_null(strstr(b, "公安局"));
	assert_non_null(strstr(b, "民政局"));
	assert_non_null(strstr(b, "居民户口簿"));
	assert_non_null(strstr(b, "name=\"fetch\" value=\"birth_date\""));
	assert_non_null(strstr(b, "name=\"upload-3\""));
	free(b);
	assert_int_equal(count("SELECT COUNT(*) FROM audit_log WHERE kind = 'exchange.read'"),
			 reads);
	assert_int_equal(count("SELECT COUNT(*) FROM xr_uses"), uses);
	/* fetch all but the address */
	struct th_resp r = {0};
	assert_int_equal(th_post_csrf(c, path, path,
				      "fetch=birth_date&fetch=household_size&fetch=" HUKOU_ENC, &r),
			 200);
	assert_non_null(strstr(r.body, "继续填写申请表"));
	assert_non_null(strstr(r.body, "记录生效日期"));
	th_resp_release(&r);
	/* birth date: person; household size: person's link, household; extract: 3 reads */
	assert_int_equal(count("SELECT COUNT(*) FROM audit_log WHERE kind = 'exchange.read'"),
			 reads + 6);
	snprintf(q, sizeof q,
		 "SELECT COUNT(*) FROM xr_prefills WHERE case_ref = '%s' AND dept IN ('ga','mz')"
		 " AND effective = '2026-01-01' AND updated_ms > 0",
		 ref);
	assert_int_equal(count(q), 4); /* 2 fields, the extract from 2 registries */
	/* the answers are filled and fixed; the address is left to the applicant */
	snprintf(path, sizeof path, "/my/cases/%s/form/1", ref);
	b = th_get_body(c, path, 200);
	assert_non_null(strstr(b, "1985-03-12"));
	/* with its source and freshness; the account's answers still say so */
	assert_non_null(strstr(b, "已通过数据共享获取"));
	assert_non_null(strstr(b, "公安局"));
	assert_non_null(strstr(b, "2026-01-01"));
	assert_non_null(strstr(b, "已根据您的账户信息自动填写"));
	free(b);
	/* the extract is a document of the case, signed by the node */
	snprintf(q, sizeof q,
		 "SELECT MAX(file_id) FROM xr_prefills WHERE case_ref = '%s' AND kind = 'material'",
		 ref);
	int64_t fid = count(q);
	assert_true(fid > 0);
	snprintf(path, sizeof path, "/cases/%s/files/%lld", ref, (long long)fid);
	struct th_resp f = {0};
	assert_int_equal(th_get(c, path, &f), 200);
	assert_non_null(strstr(f.body, "\"signature\""));
	struct th_client *anon = th_client_new(th_shared);
	struct th_resp v = {0};
	assert_int_equal(th_request(anon, "POST", "/x/v1/verify", "application/json", f.body,
				    strlen(f.body), NULL, &v),
			 200);
	json_t *j = json_loads(v.body, 0, NULL);
	assert_true(json_is_true(json_object_get(j, "valid")));
	json_decref(j);
	th_resp_release(&v);
	th_resp_release(&f);
	th_client_free(anon);
	/* every read is on the resident's page */
	b = th_get_body(c, "/my/data-use", 200);
	assert_non_null(strstr(b, ITEM));
	assert_non_null(strstr(b, "prefill"));
	free(b);
	free(ref);
	th_client_free(c);
}

static void consent_and_uploads(void **state)
{
	(void)state;
	/* lisi withdrew her consent to the housing bureau's household check */
	struct th_client *c = th_signed_in(th_shared, DG_DEMO_CITIZEN2);
	char to[160], path[160], q[300];
	char *ref = start(c, ITEM, to);
	snprintf(path, sizeof path, "/my/cases/%s/prefill", ref);
	int64_t refused = count("SELECT COUNT(*) FROM audit_log WHERE kind = 'exchange.refused'"
				" AND detail LIKE '%no_consent%'");
	struct th_resp r = {0};
	assert_int_equal(th_post_csrf(c, path, path, "fetch=household_size&fetch=birth_date", &r),
			 200);
	assert_non_null(strstr(r.body, "需要您的授权"));
	th_resp_release(&r);
	assert_int_equal(count("SELECT COUNT(*) FROM audit_log WHERE kind = 'exchange.refused'"
			       " AND detail LIKE '%no_consent%'"),
			 refused + 1);
	snprintf(q, sizeof q, "SELECT COUNT(*) FROM xr_prefills WHERE case_ref = '%s'", ref);
	assert_int_equal(count(q), 1); /* the birth date only */
	/* a bad upload instead of the extract: an error in Chinese, nothing changes */
	int64_t files = count("SELECT COUNT(*) FROM case_files");
	assert_int_equal(th_post_multipart(c, path, path, "upload-3", "hukou.txt", "just some text",
					   "fetch", "birth_date", &r),
			 422);
	assert_non_null(strstr(r.body, "不是 PDF、JPG 或 PNG"));
	th_resp_release(&r);
	assert_int_equal(count("SELECT COUNT(*) FROM case_files"), files);
	assert_int_equal(count(q), 1);
	/* a good one is attached */
	assert_int_equal(
		th_post_multipart(c, path, path, "upload-3", "hukou.png", PNG, NULL, NULL, &r),
		200);
	assert_non_null(strstr(r.body, "已附上您上传的文件"));
	th_resp_release(&r);
	assert_int_equal(count("SELECT COUNT(*) FROM case_files"), files + 1);
	/* nothing ticked and nothing uploaded: on to the form */
	snprintf(q, sizeof q, "/my/cases/%s/form/1", ref);
	assert_int_equal(th_post_csrf(c, path, path, "", &r), 303);
	char *loc = th_header(&r, "Location");
	assert_string_equal(loc, q);
	free(loc);
	th_resp_release(&r);
	/* in English and in elder mode */
	assert_int_equal(th_get(c, "/prefs?lang=en", NULL), 303);
	assert_int_equal(th_get(c, "/prefs?elder=1", NULL), 303);
	char *b = th_get_body(c, path, 200);
	assert_non_null(strstr(b, "Data the departments already hold"));
	assert_non_null(strstr(b, "Fetch this from the department"));
	free(b);
	th_client_free(c);
	/* another resident, staff, visitors: not theirs */
	c = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	assert_int_equal(th_get(c, path, NULL), 404);
	assert_int_equal(th_post_csrf(c, "/my/cases", path, "fetch=birth_date", NULL), 404);
	th_client_free(c);
	c = th_signed_in(th_shared, DG_DEMO_STAFF);
	assert_int_equal(th_get(c, path, NULL), 403);
	th_client_free(c);
	c = th_client_new(th_shared);
	assert_int_equal(th_get(c, path, NULL), 303);
	th_client_free(c);
	/* a case no longer a draft */
	snprintf(q, sizeof q, "UPDATE cases SET status = 'submitted' WHERE ref = '%s'", ref);
	th_sql(th_shared, q);
	c = th_signed_in(th_shared, DG_DEMO_CITIZEN2);
	assert_int_equal(th_get(c, path, NULL), 404);
	th_client_free(c);
	free(ref);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(offered_only_where_it_fits),
		cmocka_unit_test(preview_then_fetch),
		cmocka_unit_test(consent_and_uploads),
	};
	return cmocka_run_group_tests(tests, th_group_setup, th_group_teardown);
}
