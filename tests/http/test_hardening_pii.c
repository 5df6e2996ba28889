/*
 * test_hardening_pii.c - personal identifiers are sealed wherever a case
 * keeps them, masked when shown, in full only for the department's staff
 * who ask (and that is on the record); the identity the account supplies
 * cannot be swapped for another; and a store that fails under a form keeps
 * what was typed.
 *
 * The scan: after the demo and a journey through every place a case keeps
 * text (answers copied from the account, a document's file name, the
 * applicant's note, staff's reasons, a rating's comment, a rectification's
 * reply, the inbox), the whole store is read back as bytes - the SQLite
 * file and its WAL, or a pg_dump of the PostgreSQL database - and must hold
 * no resident ID number or mobile number in clear: neither any account's
 * (opened from their sealed columns) nor those typed in the journey, nor
 * anything that looks like one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/app.h"
#include "core/failpoint.h"
#include "core/keys.h"
#include "node/demo.h"
#include "harness.h"
#include "store/store.h"

#define PDF         "%PDF-1.4\n% a test document\n"
#define TYPED_PHONE "13912345678" /* typed into free text by the applicant and staff */

static char typed_id[19]; /* a valid ID number of no account, typed the same way */

/* ---- helpers ---- */

static char *start(struct th_client *c, const char *item)
{
	struct th_resp r = {0};
	char page[128];
	snprintf(page, sizeof page, "/services/%s/apply", item);
	assert_int_equal(th_post_csrf(c, page, page, "", &r), 303);
	char *loc = th_header(&r, "Location");
	assert_non_null(loc);
	const char *p = strstr(loc, "/my/cases/") + strlen("/my/cases/");
	char *ref = strndup(p, strcspn(p, "/?"));
	free(loc);
	th_resp_release(&r);
	return ref;
}

static char *sql_text(const char *sql, const char *arg)
{
	struct dg_db *db = NULL;
	struct dg_rows *rw = NULL;
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_db_query(db, sql, DG_ARGS(DG_VT(arg)), &rw), DG_OK);
	assert_int_equal(dg_rows_next(rw), DG_OK);
	char *out = strdup(dg_rows_text(rw, 0));
	dg_rows_free(rw);
	dg_db_put(db);
	return out;
}

/* Every ID number and phone of every account, opened from their sealed columns. */
static size_t account_identifiers(char ***out)
{
	struct dg_db *db = NULL;
	struct dg_rows *rw = NULL;
	struct dg_arena *a = dg_arena_new();
	const struct dg_keys *k = &th_app(th_shared)->env.keys;
	size_t n = 0, cap = 64;
	char **list = calloc(cap, sizeof(char *));
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_db_query(db,
				     "SELECT COALESCE(id_number_sealed, ''), "
				     "COALESCE(phone_sealed, '') FROM users",
				     DG_NOARGS, &rw),
			 DG_OK);
	while (dg_rows_next(rw) == DG_OK) {
		for (int col = 0; col < 2; col++) {
			char *plain = NULL;
			if (!dg_rows_text(rw, col)[0])
				continue;
			assert_int_equal(dg_pii_open(k, a, dg_rows_text(rw, col), &plain), DG_OK);
			if (n + 1 >= cap)
				list = realloc(list, (cap *= 2) * sizeof(char *));
			list[n++] = strdup(plain);
		}
	}
	dg_rows_free(rw);
	dg_db_put(db);
	dg_arena_free(a);
	*out = list;
	return n;
}

/* ---- the journey ---- */

static char *journey_ref; /* the browser journey's case */

/* Everything a case keeps text in, with an ID number and a phone typed into each free text. */
static void journey(void)
{
	struct th_client *cit = th_signed_in(th_shared, DG_DEMO_CITIZEN),
			 *mz = th_signed_in(th_shared, DG_DEMO_STAFF);
	struct th_resp r = {0};
	char path[160], page[160], body[512];
	/* over the API: the old-age allowance copies name, ID number and phone from the account */
	char *tok = th_token_header(th_shared, DG_DEMO_CITIZEN2, DG_DEMO_PASSWORD);
	assert_non_null(tok);
	const char *h[] = {tok, NULL};
	static const char app[] =
		"{\"item\":\"990100-MZ-004\",\"answers\":{\"method\":\"bank\","
		"\"bank\":\"Bank 13912345678\",\"account\":\"6230580000001234567\"}}";
	assert_int_equal(th_request(cit, "POST", "/api/v1/applications", "application/json", app,
				    strlen(app), h, &r),
			 201);
	th_resp_release(&r);
	free(tok);
	/* in the browser: a document whose name says whose it is, a note, a reason, a comment, a
	 * reply */
	char *ref = start(cit, "990100-MZ-007");
	snprintf(path, sizeof path, "/my/cases/%s/form/1", ref);
	assert_int_equal(th_post_csrf(cit, path, path, "", &r), 303);
	th_resp_release(&r);
	snprintf(path, sizeof path, "/my/cases/%s/form/2", ref);
	snprintf(body, sizeof body, "purpose=call+me+on+%s+about+%s", TYPED_PHONE, typed_id);
	assert_int_equal(th_post_csrf(cit, path, path, body, &r), 303);
	th_resp_release(&r);
	snprintf(path, sizeof path, "/my/cases/%s/form/3", ref);
	char fname[96];
	snprintf(fname, sizeof fname, "id-%s-%s.pdf", typed_id, TYPED_PHONE);
	assert_int_equal(th_post_multipart(cit, path, path, "m1", fname, PDF, NULL, NULL, &r), 303);
	th_resp_release(&r);
	snprintf(page, sizeof page, "/my/cases/%s/check", ref);
	snprintf(path, sizeof path, "/my/cases/%s/submit", ref);
	assert_int_equal(th_post_csrf(cit, page, path, "", &r), 303);
	th_resp_release(&r);
	snprintf(page, sizeof page, "/office/cases/%s", ref);
	snprintf(path, sizeof path, "/office/cases/%s/action", ref);
	assert_int_equal(th_post_csrf(mz, page, path, "action=accept", &r), 303);
	th_resp_release(&r);
	snprintf(body, sizeof body, "action=request_supplement&reason=the+card+of+%s%%2C+phone+%s",
		 typed_id, TYPED_PHONE);
	assert_int_equal(th_post_csrf(mz, page, path, body, &r), 303);
	th_resp_release(&r);
	snprintf(page, sizeof page, "/my/cases/%s", ref);
	snprintf(path, sizeof path, "/my/cases/%s/supplement", ref);
	snprintf(body, sizeof body, "sent, ring %s", TYPED_PHONE);
	assert_int_equal(
		th_post_multipart(cit, page, path, "files", "card.pdf", PDF, "note", body, &r),
		303);
	th_resp_release(&r);
	snprintf(page, sizeof page, "/office/cases/%s", ref);
	snprintf(path, sizeof path, "/office/cases/%s/action", ref);
	assert_int_equal(th_post_csrf(mz, page, path, "action=approve", &r), 303);
	th_resp_release(&r);
	snprintf(page, sizeof page, "/my/cases/%s", ref);
	snprintf(path, sizeof path, "/my/cases/%s/rating", ref);
	snprintf(body, sizeof body, "level=1&comment=nobody+answered+%s", TYPED_PHONE);
	assert_int_equal(th_post_csrf(cit, page, path, body, &r), 303);
	th_resp_release(&r);
	char *task = sql_text("SELECT x.id FROM case_rectifications x JOIN cases c ON c.id = "
			      "x.case_id WHERE c.ref = ?",
			      ref);
	snprintf(path, sizeof path, "/office/rectifications/%s", task);
	snprintf(body, sizeof body, "text=we+called+%s", TYPED_PHONE);
	const char *steps[] = {body, body, body};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(th_post_csrf(mz, path, path, steps[i], &r), 303);
		th_resp_release(&r);
	}
	free(task);
	journey_ref = ref;
	th_client_free(cit);
	th_client_free(mz);
}

/* ---- the scan ---- */

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	*n = 0;
	if (!f)
		return NULL;
	size_t cap = 1 << 20;
	char *buf = malloc(cap);
	size_t k;
	while ((k = fread(buf + *n, 1, cap - *n, f)) > 0) {
		*n += k;
		if (*n == cap)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	return buf;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The first thing in buf that is or looks like an identifier in clear; NULL when there is none. */
static const char *find_clear(const char *buf, size_t n, char *const *known, size_t nknown,
			      char what[64])
{
	for (size_t k = 0; k < nknown; k++) {
		const char *hit = memmem(buf, n, known[k], strlen(known[k]));
		if (hit) {
			snprintf(what, 64, "an account's %s",
				 strlen(known[k]) == 18 ? "ID number" : "phone");
			return hit;
		}
	}
	const char *extra[] = {typed_id, TYPED_PHONE};
	for (size_t k = 0; k < 2; k++) {
		const char *hit = memmem(buf, n, extra[k], strlen(extra[k]));
		if (hit) {
			snprintf(what, 64, "the %s typed in the journey",
				 k ? "phone" : "ID number");
			return hit;
		}
	}
	/* anything that looks like one: 990100 and 12 more with a right check character, or a
	 * mobile number */
	for (size_t i = 1; i + 18 < n; i++) {
		if (is_digit(buf[i - 1]) || !is_digit(buf[i]))
			continue;
		size_t j = i;
		while (j < n && is_digit(buf[j]))
			j++;
		char id[19];
		if (j - i == 17 && (buf[j] == 'X' || is_digit(buf[j])) &&
		    !memcmp(buf + i, "990100", 6)) {
			memcpy(id, buf + i, 18);
			id[18] = '\0';
			if (dg_id_number_valid(id)) {
				snprintf(what, 64, "an ID number %.18s", id);
				return buf + i;
			}
		}
		if (j - i == 18 && !memcmp(buf + i, "990100", 6)) {
			memcpy(id, buf + i, 18);
			id[18] = '\0';
			if (dg_id_number_valid(id)) {
				snprintf(what, 64, "an ID number %.18s", id);
				return buf + i;
			}
		}
		if (j - i == 11 && buf[i] == '1' && buf[i + 1] >= '3' && !is_alnum(buf[i - 1]) &&
		    !is_alnum(buf[j])) {
			snprintf(what, 64, "a mobile number %.11s", buf + i);
			return buf + i;
		}
	}
	return NULL;
}

static void scan(const char *name, const char *buf, size_t n)
{
	char **known = NULL;
	size_t nknown = account_identifiers(&known);
	assert_true(nknown >= 4); /* the demo's residents have ID numbers and phones */
	char what[64];
	const char *hit = find_clear(buf, n, known, nknown, what);
	if (hit) {
		size_t from = (size_t)(hit - buf) > 60 ? (size_t)(hit - buf) - 60 : 0;
		char ctx[161];
		size_t len = n - from < 160 ? n - from : 160;
		for (size_t i = 0; i < len; i++)
			ctx[i] =
				buf[from + i] >= 0x20 && buf[from + i] < 0x7f ? buf[from + i] : '.';
		ctx[len] = '\0';
		fail_msg("%s holds %s in clear: ...%s...", name, what, ctx);
	}
	for (size_t k = 0; k < nknown; k++)
		free(known[k]);
	free(known);
}

static void store_holds_no_identifier_in_clear(void **state)
{
	(void)state;
	journey();
	const char *pg = getenv("DGOV_TEST_DB");
	if (pg && pg[0]) {
		char cmd[1024];
		snprintf(cmd, sizeof cmd, "pg_dump --no-owner '%s' 2>/dev/null", pg);
		FILE *p = popen(cmd, "r");
		assert_non_null(p);
		size_t cap = 1 << 20, n = 0, k;
		char *buf = malloc(cap);
		while ((k = fread(buf + n, 1, cap - n, p)) > 0) {
			n += k;
			if (n == cap)
				buf = realloc(buf, cap *= 2);
		}
		assert_int_equal(pclose(p), 0);
		assert_true(n > 10000 &&
			    memmem(buf, n, "case_events", 11)); /* a dump, not an error */
		scan("the pg_dump", buf, n);
		free(buf);
		return;
	}
	const char *db = th_app(th_shared)->cfg.db;
	char wal[600];
	snprintf(wal, sizeof wal, "%s-wal", db);
	size_t n = 0, nw = 0;
	char *main_file = slurp(db, &n), *wal_file = slurp(wal, &nw);
	assert_non_null(main_file);
	assert_true(n + nw > 100000);
	scan("the SQLite file", main_file, n);
	if (wal_file)
		scan("the SQLite WAL", wal_file, nw);
	free(main_file);
	free(wal_file);
}

/* ---- shown masked; in full for staff who ask, on the record ---- */

static void masked_and_revealed_on_the_record(void **state)
{
	(void)state;
	assert_non_null(journey_ref);
	struct th_client *cit = th_signed_in(th_shared, DG_DEMO_CITIZEN),
			 *mz = th_signed_in(th_shared, DG_DEMO_STAFF);
	struct th_client *other = th_signed_in(th_shared, DG_DEMO_STAFF2),
			 *adm = th_signed_in(th_shared, DG_DEMO_ADMIN);
	struct th_resp r = {0};
	char page[160], path[160], masked_phone[16];
	snprintf(masked_phone, sizeof masked_phone, "%.3s****%s", TYPED_PHONE, TYPED_PHONE + 7);
	snprintf(page, sizeof page, "/office/cases/%s", journey_ref);
	snprintf(path, sizeof path, "/office/cases/%s/reveal", journey_ref);
	/* the applicant's and the department's pages mask them */
	struct th_client *viewers[] = {cit, mz};
	for (int i = 0; i < 2; i++) {
		char p[160];
		snprintf(p, sizeof p, "/%s/cases/%s", i ? "office" : "my", journey_ref);
		assert_int_equal(th_get(viewers[i], p, &r), 200);
		assert_null(strstr(r.body, TYPED_PHONE));
		assert_null(strstr(r.body, typed_id));
		assert_non_null(strstr(r.body, masked_phone));
		th_resp_release(&r);
	}
	/* staff of the department ask: in full, and it is on the case's history */
	assert_int_equal(th_post_csrf(mz, page, path, "", &r), 200);
	assert_non_null(strstr(r.body, TYPED_PHONE));
	assert_non_null(strstr(r.body, typed_id));
	th_resp_release(&r);
	char *n = sql_text("SELECT COUNT(*) FROM case_events e JOIN cases c ON c.id = e.case_id"
			   " WHERE c.ref = ? AND e.action = 'reveal'",
			   journey_ref);
	assert_string_equal(n, "1");
	free(n);
	snprintf(page, sizeof page, "/my/cases/%s", journey_ref);
	assert_int_equal(th_get(cit, page, &r), 200);
	assert_non_null(strstr(r.body, "查看了完整的身份证号和电话"));
	th_resp_release(&r);
	/* another department's staff, and an administrator, may not */
	snprintf(page, sizeof page, "/office/cases/%s", journey_ref);
	assert_int_equal(th_post_csrf(other, "/office", path, "", &r), 404);
	assert_null(strstr(r.body, TYPED_PHONE));
	th_resp_release(&r);
	assert_int_equal(th_post_csrf(adm, "/office", path, "", &r), 403);
	th_resp_release(&r);
	/* the API masks them too */
	char *tok = th_token_header(th_shared, DG_DEMO_CITIZEN2, DG_DEMO_PASSWORD);
	const char *h[] = {tok, NULL};
	char *ref = sql_text(
		"SELECT ref FROM cases c JOIN users u ON u.id = c.applicant_id"
		" WHERE u.username = ? AND c.item_code = '990100-MZ-004' ORDER BY c.id DESC",
		DG_DEMO_CITIZEN2);
	snprintf(path, sizeof path, "/api/v1/applications/%s", ref);
	assert_int_equal(th_request(cit, "GET", path, NULL, NULL, 0, h, &r), 200);
	assert_non_null(strstr(r.body, "********"));
	assert_null(strstr(r.body, TYPED_PHONE));
	char **known = NULL;
	size_t nknown = account_identifiers(&known);
	for (size_t k = 0; k < nknown; k++) {
		assert_null(strstr(r.body, known[k]));
		free(known[k]);
	}
	free(known);
	th_resp_release(&r);
	free(ref);
	free(tok);
	th_client_free(cit);
	th_client_free(mz);
	th_client_free(other);
	th_client_free(adm);
}

/* ---- the identity the account supplies stays ---- */

static void identity_from_the_account_is_fixed(void **state)
{
	(void)state;
	struct th_client *cit = th_signed_in(th_shared, DG_DEMO_CITIZEN);
	struct th_resp r = {0};
	char path[160];
	/* the page: shown, masked, not asked; another identity posted is refused */
	char *ref = start(cit, "990100-MZ-004");
	snprintf(path, sizeof path, "/my/cases/%s/form/1", ref);
	assert_int_equal(th_get(cit, path, &r), 200);
	assert_null(strstr(r.body, "name=\"id_number\""));
	assert_null(strstr(r.body, "name=\"name\""));
	assert_non_null(strstr(r.body, "********"));
	th_resp_release(&r);
	char *before = sql_text("SELECT answers FROM cases WHERE ref = ?", ref);
	char body[256];
	snprintf(body, sizeof body, "name=%%E6%%9D%%8E%%E5%%9B%%9B&id_number=%s&phone=13700000000",
		 typed_id);
	assert_int_equal(th_post_csrf(cit, path, path, body, &r), 422);
	assert_non_null(strstr(r.body, "不能在此修改"));
	th_resp_release(&r);
	char *after = sql_text("SELECT answers FROM cases WHERE ref = ?", ref);
	assert_string_equal(before, after);
	free(before);
	free(after);
	/* the API: another ID number or name is refused, in a draft too; the account's own is fine
	 */
	char *tok = th_token_header(th_shared, DG_DEMO_CITIZEN, DG_DEMO_PASSWORD);
	const char *h[] = {tok, NULL};
	char app[512];
	snprintf(app, sizeof app,
		 "{\"item\":\"990100-MZ-004\",\"submit\":false,\"answers\":{\"id_number\":\"%s\","
		 "\"name\":\"李四\"}}",
		 typed_id);
	char *n0 = sql_text("SELECT COUNT(*) FROM cases WHERE item_code = ?", "990100-MZ-004");
	assert_int_equal(th_request(cit, "POST", "/api/v1/applications", "application/json", app,
				    strlen(app), h, &r),
			 422);
	assert_non_null(strstr(r.body, "\"id_number\""));
	assert_non_null(strstr(r.body, "\"name\""));
	th_resp_release(&r);
	char *n1 = sql_text("SELECT COUNT(*) FROM cases WHERE item_code = ?", "990100-MZ-004");
	assert_string_equal(n0, n1);
	static const char same[] = "{\"item\":\"990100-MZ-004\",\"answers\":{\"name\":\"张三\","
				   "\"method\":\"social_card\"}}";
	assert_int_equal(th_request(cit, "POST", "/api/v1/applications", "application/json", same,
				    strlen(same), h, &r),
			 201);
	th_resp_release(&r);
	/* the department sees which answers came from the account */
	struct th_client *mz = th_signed_in(th_shared, DG_DEMO_STAFF);
	char *latest = sql_text("SELECT ref FROM cases WHERE item_code = ? ORDER BY id DESC",
				"990100-MZ-004");
	snprintf(path, sizeof path, "/office/cases/%s", latest);
	assert_int_equal(th_get(mz, path, &r), 200);
	assert_non_null(strstr(r.body, "来自账户"));
	th_resp_release(&r);
	free(latest);
	free(n0);
	free(n1);
	free(tok);
	free(ref);
	th_client_free(mz);
	th_client_free(cit);
}

/* ---- a full disk keeps what was typed ---- */

static void arm(const char *spec)
{
	struct dg_err err = {0};
	assert_int_equal(dg_failpoint_set(spec, &err), DG_OK);
}

static void full_disk_keeps_the_answers(void **state)
{
	(void)state;
	struct th_client *cit = th_signed_in(th_shared, DG_DEMO_CITIZEN),
			 *mz = th_signed_in(th_shared, DG_DEMO_STAFF);
	struct th_resp r = {0};
	char path[160], page[160];
	char *ref = start(cit, "990100-MZ-007");
	snprintf(path, sizeof path, "/my/cases/%s/form/2", ref);
	char *csrf = th_csrf(cit, path), *body = NULL;
	assert_true(asprintf(&body, "csrf=%s&purpose=my+father+passed+away+on+Monday", csrf) > 0);
	arm("store.exec=full");
	assert_int_equal(th_post_form(cit, path, body, &r), 507);
	arm("");
	assert_non_null(strstr(r.body, "存储空间已满"));
	assert_non_null(strstr(r.body, "my father passed away on Monday")); /* still in the box */
	assert_non_null(strstr(r.body, "name=\"purpose\""));
	th_resp_release(&r);
	/* the same in English, then it is sent again and saved */
	const char *en[] = {"Accept-Language: en", NULL};
	arm("store.exec=full");
	assert_int_equal(th_request(cit, "POST", path, "application/x-www-form-urlencoded", body,
				    strlen(body), en, &r),
			 507);
	arm("");
	assert_non_null(strstr(r.body, "nothing saved before was lost"));
	assert_non_null(strstr(r.body, "my father passed away on Monday"));
	th_resp_release(&r);
	assert_int_equal(th_post_form(cit, path, body, &r), 303);
	th_resp_release(&r);
	free(body);
	free(csrf);
	/* staff's reason, the applicant's note and comment are kept the same way */
	char *sub = NULL;
	{
		char p1[160];
		snprintf(p1, sizeof p1, "/my/cases/%s/form/3", ref);
		assert_int_equal(th_post_multipart(cit, p1, p1, "m1", "a.pdf", PDF, NULL, NULL, &r),
				 303);
		th_resp_release(&r);
		snprintf(page, sizeof page, "/my/cases/%s/check", ref);
		snprintf(p1, sizeof p1, "/my/cases/%s/submit", ref);
		assert_int_equal(th_post_csrf(cit, page, p1, "", &r), 303);
		th_resp_release(&r);
	}
	snprintf(page, sizeof page, "/office/cases/%s", ref);
	snprintf(path, sizeof path, "/office/cases/%s/action", ref);
	arm("store.exec=full");
	assert_int_equal(th_post_csrf(mz, page, path,
				      "action=refuse&reason=the+death+certificate+is+unreadable",
				      &r),
			 507);
	arm("");
	assert_non_null(strstr(r.body, "the death certificate is unreadable"));
	th_resp_release(&r);
	sub = sql_text("SELECT status FROM cases WHERE ref = ?", ref);
	assert_string_equal(sub, "submitted");
	free(sub);
	free(ref);
	th_client_free(cit);
	th_client_free(mz);
}

static int setup(void **state)
{
	/* a valid ID number of no account: 110101 1990 01 01 123 and its check character */
	snprintf(typed_id, sizeof typed_id, "11010119900101123");
	typed_id[17] = dg_id_check_char(typed_id);
	typed_id[18] = '\0';
	return th_group_setup(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(store_holds_no_identifier_in_clear),
		cmocka_unit_test(masked_and_revealed_on_the_record),
		cmocka_unit_test(identity_from_the_account_is_fixed),
		cmocka_unit_test(full_disk_keeps_the_answers),
	};
	return cmocka_run_group_tests(tests, setup, th_group_teardown);
}
