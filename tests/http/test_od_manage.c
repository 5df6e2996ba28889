/*
 * test_od_manage.c - department staff publish and edit datasets in the
 * browser, through the real server on the store DGOV_TEST_DB selects: a new
 * dataset shows on /data and package_show; bad fields are a 422 that says
 * what is wrong in the reader's language (Chinese, or English) and saves
 * nothing; a name in use is refused; another department's staff get 404, a
 * resident 403, a post without the CSRF token 403; an edit changes the
 * fields and a closed tier hides the dataset from the public; link
 * resources are added, edited and deleted; a dataset is deleted after its
 * confirmation page; a column's type override queues the reload (the same
 * as datastore_load) whose report the page shows.
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
#include "node/demo.h"
#include "harness.h"
#include "opendata/datastore/datastore.h"
#include "opendata/datastore/datastore_int.h"
#include "store/store.h"

/* The demo resource of elderly-care-institutions (department mz, open). */
#define RID  "00000000-0000-4000-9000-000000000002"
#define COLS "/data/datasets/elderly-care-institutions/resources/" RID "/columns"

static struct th_srv *srv;
static char tmpdir[] = "/tmp/dgov-odm-XXXXXX";
static struct th_client *mz, *rs, *cit, *adm;

static char *get_as(struct th_client *c, const char *path, long want)
{
	char *b = th_get_body(c, path, want);
	assert_non_null(b);
	return b;
}

/* POST fields (encoded) with the form's CSRF token; the status, and the body in *out (malloc'd)
 * when given. */
static long post(struct th_client *c, const char *path, const char *fields, char **out)
{
	struct th_resp r = {0};
	long st = th_post_csrf(c, "/data/manage", path, fields, &r);
	if (out)
		*out = strdup(r.body ? r.body : "");
	th_resp_release(&r);
	return st;
}

/* The one integer of a query, its text made as printf does (with the tests' own quote-free values).
 */
__attribute__((format(printf, 1, 2))) static int64_t count_of(const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	return th_sql_int(srv, text);
}

static int64_t packages_named(const char *name)
{
	return count_of("SELECT COUNT(*) FROM od_packages WHERE name = '%s' AND state = 'active'",
			name);
}

/* package_show as anyone; the result (owned) when want is 200, else NULL. */
static json_t *shown(const char *name, long want)
{
	char path[256];
	snprintf(path, sizeof path, "/api/3/action/package_show?id=%s", name);
	json_t *j = th_get_json(srv, path, want);
	assert_non_null(j);
	if (want != 200) {
		json_decref(j);
		return NULL;
	}
	json_t *res = json_incref(json_object_get(j, "result"));
	json_decref(j);
	return res;
}

static const char *extra(json_t *pkg, const char *key)
{
	json_t *e;
	size_t i;
	json_array_foreach (json_object_get(pkg, "extras"), i, e)
		if (strcmp(json_string_value(json_object_get(e, "key")), key) == 0)
			return json_string_value(json_object_get(e, "value"));
	return "";
}

#define TITLE "%E5%85%BB%E8%80%81%E5%BA%8A%E4%BD%8D%E7%BB%9F%E8%AE%A1" /* 养老床位统计 */

/* A whole form with the given (encoded) title, name, tier, tags and author's e-mail. */
static char *form_of(const char *title, const char *name, const char *tier, const char *tags,
		     const char *email)
{
	char *b = NULL;
	assert_true(asprintf(&b,
			     "title=%s&name=%s"
			     "&notes=Beds+by+district&license_id=cc-by&theme=%%E5%%85%%BB%%E8%%80%%"
			     "81%%E6%%9C%%8D%%E5%%8A%%A1"
			     "&frequency=monthly&region=990100&tier=%s&tags=%s&author=Zhao"
			     "&author_email=%s&maintainer=&maintainer_email=&version=1.0&url=https%"
			     "%3A%%2F%%2Fexample.gov.cn%%2Fbeds",
			     title, name, tier, tags, email) > 0);
	return b;
}

static char *dataset_body(const char *name, const char *tier, const char *tags, const char *email)
{
	return form_of(TITLE, name, tier, tags, email);
}

static void create_and_show(void **state)
{
	(void)state;
	char *b = get_as(mz, "/data/manage/new", 200);
	assert_null(strstr(b, "multipart")); /* the dataset form posts no files */
	assert_non_null(strstr(b, "name=\"license_id\""));
	free(b);
	char *body = dataset_body("elderly-beds", "open", "%E5%85%BB%E8%80%81%0Abeds%2C+care",
				  "zhao%40mz.example.gov.cn");
	assert_int_equal(post(mz, "/data/manage/new", body, NULL), 303);
	free(body);
	json_t *pkg = shown("elderly-beds", 200);
	assert_string_equal(json_string_value(json_object_get(pkg, "title")), "养老床位统计");
	assert_string_equal(json_string_value(json_object_get(pkg, "owner_org")), "mz");
	assert_string_equal(json_string_value(json_object_get(pkg, "version")), "1.0");
	assert_string_equal(json_string_value(json_object_get(pkg, "author_email")),
			    "zhao@mz.example.gov.cn");
	assert_string_equal(extra(pkg, "update_frequency"), "monthly");
	assert_string_equal(extra(pkg, "open_tier"), "open");
	assert_string_equal(extra(pkg, "region"), "990100");
	assert_int_equal(json_array_size(json_object_get(pkg, "tags")), 3);
	json_t *group = json_array_get(json_object_get(pkg, "groups"), 0);
	assert_string_equal(json_string_value(json_object_get(group, "id")), "养老服务");
	assert_string_equal(json_string_value(json_object_get(group, "name")), "elderly-care");
	json_decref(pkg);
	/* the public catalogue finds it; the staff's list has it, with its link */
	struct th_client *anon = th_client_new(srv);
	b = get_as(anon, "/data?q=%E5%85%BB%E8%80%81%E5%BA%8A%E4%BD%8D", 200);
	assert_non_null(strstr(b, "elderly-beds"));
	free(b);
	b = get_as(anon, "/data/datasets/elderly-beds", 200);
	assert_null(
		strstr(b, "/data/datasets/elderly-beds/edit")); /* no edit link for the public */
	free(b);
	th_client_free(anon);
	b = get_as(mz, "/data/datasets/elderly-beds", 200);
	assert_non_null(strstr(b, "/data/datasets/elderly-beds/edit"));
	/* its region, the node's division code, by the region's name; the API keeps the code */
	assert_non_null(strstr(b, "<dd>示范市</dd>"));
	assert_null(strstr(b, "<dd>990100</dd>"));
	free(b);
	/* the edit form shows the theme itself (the group's id), not its ASCII name */
	b = get_as(mz, "/data/datasets/elderly-beds/edit", 200);
	assert_non_null(strstr(b, "value=\"养老服务\""));
	assert_null(strstr(b, "value=\"elderly-care\""));
	free(b);
	b = get_as(mz, "/data/manage", 200);
	assert_non_null(strstr(b, "/data/datasets/elderly-beds/edit"));
	assert_null(strstr(b, "employment-statistics")); /* another department's */
	/* the staff navigation leads here, and only this item is current */
	assert_non_null(strstr(b, "<a href=\"/data/manage\" aria-current=\"page\">"));
	assert_non_null(strstr(b, "<a href=\"/data\">"));
	free(b);
	b = get_as(adm, "/data/manage", 200);
	assert_non_null(strstr(b, "employment-statistics"));
	free(b);
}

static void bad_fields_say_why(void **state)
{
	(void)state;
	char *out = NULL;
	char *body = dataset_body("Bad+Name", "open", "a%0Aok-tag", "nope");
	assert_int_equal(post(mz, "/data/manage/new", body, &out), 422);
	assert_non_null(strstr(out, "error-summary"));
	assert_non_null(strstr(out, "href=\"#name\""));
	assert_non_null(strstr(out, "只能使用小写英文字母"));
	assert_non_null(strstr(out, "电子邮箱格式不对"));
	assert_non_null(strstr(out, "标签“a”须为 2 到 100 个字符"));
	assert_non_null(strstr(out, "value=\"Bad Name\"")); /* kept as typed */
	assert_non_null(strstr(out, "<title>错误："));
	free(out);
	assert_int_equal(packages_named("Bad Name"), 0);
	assert_int_equal(
		count_of("SELECT COUNT(*) FROM od_packages WHERE title = '%s'", "养老床位统计"), 1);
	/* a tier that is none of the three, and an over-long version */
	free(body);
	body = dataset_body("fine-name", "secret", "", "");
	assert_int_equal(post(mz, "/data/manage/new", body, &out), 422);
	assert_non_null(strstr(out, "请选择无条件开放、有条件开放或不予开放"));
	assert_non_null(strstr(out, "href=\"#tier\""));
	free(out);
	assert_int_equal(packages_named("fine-name"), 0);
	/* the same in English */
	struct th_client *en = th_signed_in(srv, DG_DEMO_STAFF);
	free(get_as(en, "/prefs?lang=en", 303));
	assert_int_equal(post(en, "/data/manage/new", body, &out), 422);
	assert_non_null(strstr(out, "choose open, conditional or closed"));
	free(out);
	th_client_free(en);
	free(body);
	/* a name in use (by another department's dataset too) */
	body = dataset_body("employment-statistics", "open", "", "");
	assert_int_equal(post(mz, "/data/manage/new", body, &out), 422);
	assert_non_null(strstr(out, "这个网址标识已被其他数据集使用"));
	free(out);
	free(body);
	assert_int_equal(count_of("SELECT COUNT(*) FROM od_packages WHERE name = '%s'",
				  "employment-statistics"),
			 1);
}

static void who_may(void **state)
{
	(void)state;
	char *body = dataset_body("elderly-beds", "closed", "", "");
	/* another department's staff: not there */
	free(get_as(rs, "/data/datasets/elderly-beds/edit", 404));
	assert_int_equal(post(rs, "/data/datasets/elderly-beds/edit", body, NULL), 404);
	assert_int_equal(post(rs, "/data/datasets/elderly-beds/delete", "", NULL), 404);
	free(get_as(rs, "/data/datasets/elderly-beds/resources/new", 404));
	/* a resident may not manage at all */
	free(get_as(cit, "/data/manage", 403));
	free(get_as(cit, "/data/manage/new", 403));
	free(get_as(cit, "/data/datasets/elderly-beds/edit", 403));
	assert_int_equal(post(cit, "/data/datasets/elderly-beds/edit", body, NULL), 403);
	/* the owner without the form's token */
	struct th_resp r = {0};
	assert_int_equal(th_post_form(mz, "/data/datasets/elderly-beds/edit", body, &r), 403);
	th_resp_release(&r);
	assert_int_equal(th_post_form(mz, "/data/manage/new", "csrf=wrong&name=x-y-z", &r), 403);
	th_resp_release(&r);
	free(body);
	json_t *pkg = shown("elderly-beds", 200); /* unchanged: still open */
	assert_string_equal(extra(pkg, "open_tier"), "open");
	json_decref(pkg);
	assert_int_equal(packages_named("x-y-z"), 0);
}

static void edit_and_close(void **state)
{
	(void)state;
	char *b = get_as(mz, "/data/datasets/elderly-beds/edit", 200);
	assert_non_null(strstr(b, "养老床位统计"));
	assert_non_null(strstr(b, "value=\"https://example.gov.cn/beds\""));
	free(b);
	/* closed keeps the name only with the department's code in front */
	char *body = form_of("Beds+v2", "elderly-beds", "closed", "beds", ""), *edited = NULL,
	     *out = NULL;
	assert_int_equal(post(mz, "/data/datasets/elderly-beds/edit", body, &out), 422);
	assert_non_null(strstr(out, "网址标识须以本部门代码和连字符开头，如 mz-"));
	free(out);
	json_t *still = shown("elderly-beds", 200);
	assert_string_equal(extra(still, "open_tier"), "open");
	json_decref(still);
	free(body);
	/* a new title and name, closed and private */
	body = form_of("Beds+v2", "mz-elderly-beds", "closed", "beds", "");
	assert_true(asprintf(&edited, "%s&private=true", body) > 0);
	assert_int_equal(post(mz, "/data/datasets/elderly-beds/edit", edited, NULL), 303);
	free(body);
	free(edited);
	/* closed and private: gone for the public, kept for the department */
	shown("mz-elderly-beds", 404);
	struct th_client *anon = th_client_new(srv);
	free(get_as(anon, "/data/datasets/mz-elderly-beds", 404));
	b = get_as(anon, "/data?q=beds", 200);
	assert_null(strstr(b, "elderly-beds"));
	free(b);
	th_client_free(anon);
	b = get_as(mz, "/data/manage", 200);
	assert_non_null(strstr(b, "Beds v2"));
	assert_non_null(strstr(b, "不予开放"));
	free(b);
	b = get_as(mz, "/data/datasets/mz-elderly-beds/edit", 200);
	assert_non_null(strstr(b, "value=\"closed\" checked"));
	assert_non_null(strstr(b, "value=\"true\" aria-describedby=\"private-hint\" checked"));
	free(b);
	/* back to open and its old name for the tests after */
	body = dataset_body("elderly-beds", "open", "beds", "");
	assert_int_equal(post(mz, "/data/datasets/mz-elderly-beds/edit", body, NULL), 303);
	free(body);
	json_t *pkg = shown("elderly-beds", 200);
	assert_int_equal(json_array_size(json_object_get(pkg, "tags")), 1);
	assert_false(json_is_true(json_object_get(pkg, "private")));
	json_decref(pkg);
}

/*
 * Another department's staff cannot tell a closed dataset's name from a
 * free one (issue 16): names starting with a department's code are that
 * department's, so sj's closed sj-internal-case-ledger and the free
 * sj-no-such-set get the same status and the same message, on the page and
 * over the API, and nothing is created; sj's own staff meet the clash.
 */
static void closed_names_do_not_leak(void **state)
{
	(void)state;
	char *taken = NULL, *free_name = NULL;
	char *body = dataset_body("sj-internal-case-ledger", "open", "", "");
	assert_int_equal(post(mz, "/data/manage/new", body, &taken), 422);
	free(body);
	body = dataset_body("sj-no-such-set", "open", "", "");
	assert_int_equal(post(mz, "/data/manage/new", body, &free_name), 422);
	free(body);
	const char *msg = "以“sj-”开头的网址标识留给该部门的数据集，请换一个";
	assert_non_null(strstr(taken, msg));
	assert_non_null(strstr(free_name, msg));
	assert_null(strstr(taken, "已被其他数据集使用"));
	free(taken);
	free(free_name);
	/* the API: the whole answers are the same */
	char *tok = th_token_header(srv, DG_DEMO_STAFF, DG_DEMO_PASSWORD);
	const char *hdrs[] = {tok, NULL};
	struct th_client *c = th_client_new(srv);
	struct th_resp r1 = {0}, r2 = {0};
	const char *b1 = "{\"name\":\"sj-internal-case-ledger\",\"owner_org\":\"mz\"}",
		   *b2 = "{\"name\":\"sj-no-such-set\",\"owner_org\":\"mz\"}";
	long s1 = th_request(c, "POST", "/api/3/action/package_create", "application/json", b1,
			     strlen(b1), hdrs, &r1);
	long s2 = th_request(c, "POST", "/api/3/action/package_create", "application/json", b2,
			     strlen(b2), hdrs, &r2);
	assert_int_equal(s1, 409);
	assert_int_equal(s2, 409);
	json_t *j1 = json_loads(r1.body, 0, NULL), *j2 = json_loads(r2.body, 0, NULL);
	assert_non_null(j1);
	assert_non_null(j2);
	assert_true(json_equal(json_object_get(j1, "error"), json_object_get(j2, "error")));
	assert_non_null(strstr(r1.body, "are kept for the organization sj"));
	json_decref(j1);
	json_decref(j2);
	th_resp_release(&r1);
	th_resp_release(&r2);
	th_client_free(c);
	free(tok);
	assert_int_equal(packages_named("sj-no-such-set"), 0);
	assert_int_equal(
		count_of("SELECT COUNT(*) FROM od_packages WHERE owner_dept = 'mz' AND name"
			 " LIKE 'sj-%%'"),
		0);
	/* inside sj the clash is what it is */
	struct th_client *sj = th_signed_in(srv, "sj_wu"); /* staff of sj (demo) */
	body = dataset_body("sj-internal-case-ledger", "closed", "", "");
	assert_int_equal(th_post_csrf(sj, "/data/manage", "/data/manage/new", body, &r1), 422);
	assert_non_null(strstr(r1.body, "这个网址标识已被其他数据集使用"));
	th_resp_release(&r1);
	free(body);
	th_client_free(sj);
}

/*
 * opendata-008-closed-names on a store with closed datasets named before
 * the rule: each gets its department's code in front, or the code and its
 * id when that name is in use; the open ones and the prefixed keep theirs.
 */
static void migration_prefixes_closed_names(void **state)
{
	(void)state;
	static const char *const rows[][3] = {
		{"mig-1", "old-ledger", "closed"}, {"mig-2", "busy-name", "closed"},
		{"mig-3", "mz-busy-name", "open"}, {"mig-4", "mz-already", "closed"},
		{"mig-5", "plain-open", "open"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char sql[400];
		snprintf(
			sql, sizeof sql,
			"INSERT INTO od_packages (id, name, title, metadata_created,"
			" metadata_modified, owner_dept, tier) VALUES ('%s', '%s', 'x', 0, 0, 'mz',"
			" '%s')",
			rows[i][0], rows[i][1], rows[i][2]);
		th_sql(srv, sql);
	}
	th_sql(srv, "DELETE FROM schema_migrations WHERE id = 'opendata-008-closed-names'");
	const struct dg_migration *lists[32];
	size_t n = dg_app_migration_lists(lists, 32);
	struct dg_err err = {0};
	assert_int_equal(dg_store_migrate(th_app(srv)->env.store, lists, n, &err), DG_OK);
	assert_int_equal(packages_named("mz-old-ledger"), 1);
	assert_int_equal(packages_named("mz-mig-2"), 1);
	assert_int_equal(packages_named("mz-busy-name"), 1);
	assert_int_equal(packages_named("mz-already"), 1);
	assert_int_equal(packages_named("plain-open"), 1);
	assert_int_equal(count_of("SELECT COUNT(*) FROM od_packages WHERE tier = 'closed' AND"
				  " substr(name, 1, length(owner_dept) + 1) <> owner_dept || '-'"),
			 0);
	th_sql(srv, "DELETE FROM od_packages WHERE id LIKE 'mig-%'");
}

/* The id of the first resource of a dataset (malloc'd), or NULL. */
static char *first_resource(const char *name)
{
	json_t *pkg = shown(name, 200);
	json_t *res = json_array_get(json_object_get(pkg, "resources"), 0);
	char *id = res ? strdup(json_string_value(json_object_get(res, "id"))) : NULL;
	json_decref(pkg);
	return id;
}

static void link_resources(void **state)
{
	(void)state;
	char *out = NULL, path[256];
	free(get_as(mz, "/data/datasets/elderly-beds/resources/new", 200));
	assert_int_equal(
		post(mz, "/data/datasets/elderly-beds/resources/new",
		     "name=Beds+CSV&url=javascript%3Aalert(1)&format=CSV&description=", &out),
		422);
	assert_non_null(strstr(out, "须以 http://、https:// 或 ftp:// 开头"));
	assert_non_null(strstr(out, "href=\"#url\""));
	free(out);
	assert_null(first_resource("elderly-beds"));
	assert_int_equal(post(mz, "/data/datasets/elderly-beds/resources/new",
			      "name=Beds+CSV&url=https%3A%2F%2Fexample.gov.cn%2Fbeds.csv&format="
			      "CSV&description=All+beds",
			      NULL),
			 303);
	char *rid = first_resource("elderly-beds");
	assert_non_null(rid);
	/* another department cannot touch it */
	snprintf(path, sizeof path, "/data/datasets/elderly-beds/resources/%s/edit", rid);
	free(get_as(rs, path, 404));
	assert_int_equal(post(mz, path,
			      "name=Beds+by+district&url=https%3A%2F%2Fexample.gov.cn%2Fb.csv&"
			      "format=CSV&description=",
			      NULL),
			 303);
	json_t *pkg = shown("elderly-beds", 200);
	json_t *res = json_array_get(json_object_get(pkg, "resources"), 0);
	assert_string_equal(json_string_value(json_object_get(res, "name")), "Beds by district");
	assert_string_equal(json_string_value(json_object_get(res, "url")),
			    "https://example.gov.cn/b.csv");
	json_decref(pkg);
	/* delete: a confirmation page, then the POST */
	snprintf(path, sizeof path, "/data/datasets/elderly-beds/resources/%s/delete", rid);
	char *b = get_as(mz, path, 200);
	assert_non_null(strstr(b, "Beds by district"));
	free(b);
	assert_int_equal(post(rs, path, "", NULL), 404);
	assert_int_equal(post(mz, path, "", NULL), 303);
	assert_null(first_resource("elderly-beds"));
	free(get_as(mz, path, 404));
	free(rid);
}

static void delete_dataset(void **state)
{
	(void)state;
	char *b = get_as(mz, "/data/datasets/elderly-beds/delete", 200);
	assert_non_null(strstr(b, "elderly-beds"));
	free(b);
	assert_int_equal(post(mz, "/data/datasets/elderly-beds/delete", "", NULL), 303);
	shown("elderly-beds", 404);
	b = get_as(mz, "/data/manage", 200);
	assert_null(strstr(b, "elderly-beds"));
	free(b);
	free(get_as(mz, "/data/datasets/elderly-beds/edit", 404));
}

/* The type of column col of RID's table now. */
static char *column_type(const char *col)
{
	struct dg_db *db = NULL;
	struct dg_ds_table t = {0};
	assert_int_equal(dg_db_get(th_app(srv)->env.store, &db), DG_OK);
	assert_int_equal(dg_ds_sql_lookup(db, RID, &t), DG_OK);
	dg_db_put(db);
	char *type = NULL;
	json_t *f;
	size_t i;
	json_array_foreach (t.fields, i, f)
		if (strcmp(json_string_value(json_object_get(f, "id")), col) == 0)
			type = strdup(json_string_value(json_object_get(f, "type")));
	json_decref(t.fields);
	assert_non_null(type);
	return type;
}

/*
 * Post the columns form (body without the token) as c, wait for the load it
 * queued to end in state want, and return the columns page that shows it
 * (malloc'd).
 */
static char *reload_as(struct th_client *c, const char *body, const char *want)
{
	struct th_resp r = {0};
	assert_int_equal(th_post_csrf(c, COLS, COLS, body, &r), 303);
	char *loc = th_header(&r, "Location");
	assert_non_null(loc);
	const char *j = strstr(loc, "job=");
	assert_non_null(j);
	int64_t id = strtoll(j + 4, NULL, 10);
	json_t *job = th_wait_job(srv, id);
	assert_non_null(job);
	assert_string_equal(json_string_value(json_object_get(job, "state")), want);
	json_decref(job);
	char page[700];
	snprintf(page, sizeof page, COLS "?job=%lld", (long long)id);
	char *b = get_as(c, page, 200);
	free(loc);
	th_resp_release(&r);
	return b;
}

static void column_types(void **state)
{
	(void)state;
	char path[600];
	snprintf(path, sizeof path, "%s/beds.csv", tmpdir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("name,beds,opened\na,10,2020-01-01\nb,n/a,2021-02-02\nc,30,2022-03-03\n", fp);
	fclose(fp);
	struct dg_db *db = NULL;
	int64_t id = 0;
	assert_int_equal(dg_db_get(th_app(srv)->env.store, &db), DG_OK);
	assert_int_equal(dg_datastore_load_enqueue(db, RID, path, NULL, 0, &id), DG_OK);
	dg_db_put(db);
	json_decref(th_wait_job(srv, id));
	char *t = column_type("beds");
	assert_string_equal(t, "text");
	free(t);
	char *b = get_as(mz, COLS, 200);
	assert_non_null(strstr(b, "name=\"type_beds\""));
	free(b);
	free(get_as(rs, COLS, 404));
	free(get_as(cit, COLS, 403));
	/* a type that is not one of the five: said, nothing queued */
	int64_t jobs = count_of("SELECT COUNT(*) FROM jobs WHERE kind = '%s'", "datastore.load");
	struct th_resp r = {0};
	assert_int_equal(th_post_csrf(mz, COLS, COLS, "type_beds=varchar", &r), 422);
	assert_non_null(strstr(r.body, "href=\"#type_beds\""));
	th_resp_release(&r);
	assert_int_equal(count_of("SELECT COUNT(*) FROM jobs WHERE kind = '%s'", "datastore.load"),
			 jobs);
	/* beds as int: a job, the row that does not fit reported by line and column */
	b = reload_as(mz, "type_name=&type_beds=int&type_opened=", "done");
	assert_non_null(strstr(b, "已完成"));
	assert_non_null(strstr(
		b, "<td data-label=\"行号\">3</td><td data-label=\"列\">2 <code>beds</code></td>"));
	assert_non_null(strstr(b, "值“n/a”不符合类型：整数"));
	free(b);
	t = column_type("beds");
	assert_string_equal(t, "int");
	free(t);
	/* the name column as int: every row is reported, the load does not crash */
	b = reload_as(mz, "type_name=int&type_beds=int&type_opened=date", "done");
	assert_non_null(strstr(b, "值“a”不符合类型：整数"));
	free(b);
	/* strict: the job fails and says why; the table in force stays */
	b = reload_as(mz, "type_name=&type_beds=int&type_opened=date&strict=true", "failed");
	assert_non_null(strstr(b, "失败原因"));
	free(b);
	t = column_type("opened");
	assert_string_equal(t, "date");
	free(t);
}

static void admin_picks_the_department(void **state)
{
	(void)state;
	char *b = get_as(adm, "/data/manage/new", 200);
	assert_non_null(strstr(b, "name=\"owner_org\""));
	free(b);
	char *body = dataset_body("jobs-by-month", "conditional", "", ""), *full = NULL;
	assert_true(asprintf(&full, "%s&owner_org=rs", body) > 0);
	assert_int_equal(post(adm, "/data/manage/new", full, NULL), 303);
	free(full);
	free(body);
	json_t *pkg = shown("jobs-by-month", 200);
	assert_string_equal(json_string_value(json_object_get(pkg, "owner_org")), "rs");
	assert_string_equal(extra(pkg, "open_tier"), "conditional");
	json_decref(pkg);
	/* rs's staff may edit it, mz's may not */
	free(get_as(rs, "/data/datasets/jobs-by-month/edit", 200));
	free(get_as(mz, "/data/datasets/jobs-by-month/edit", 404));
	/* staff cannot name another department as the owner of a new dataset */
	body = dataset_body("mz-for-rs", "open", "", "");
	assert_true(asprintf(&full, "%s&owner_org=rs", body) > 0);
	assert_int_equal(post(mz, "/data/manage/new", full, NULL), 303);
	free(full);
	free(body);
	pkg = shown("mz-for-rs", 200);
	assert_string_equal(json_string_value(json_object_get(pkg, "owner_org")), "mz");
	json_decref(pkg);
}

/* A multipart upload to the dataset's upload form as c; the status, the Location in *loc when
 * given. */
static long upload(struct th_client *c, const char *ds, const char *filename, const char *content,
		   const char *name, char **loc)
{
	char page[256], path[256];
	struct th_resp r = {0};
	snprintf(page, sizeof page, "/data/datasets/%s/resources/new", ds);
	snprintf(path, sizeof path, "/data/datasets/%s/resources/upload", ds);
	long st = th_post_multipart(c, page, path, "upload", filename, content, "upload_name", name,
				    &r);
	if (loc)
		*loc = th_header(&r, "Location");
	th_resp_release(&r);
	return st;
}

static void upload_files(void **state)
{
	(void)state;
	char *loc = NULL;
	/* no file: said beside the field, nothing kept */
	assert_int_equal(upload(mz, "mz-for-rs", "empty.csv", "", "", NULL), 422);
	assert_null(first_resource("mz-for-rs"));
	/* another department's staff: not there; a resident: refused */
	assert_int_equal(upload(rs, "mz-for-rs", "a.csv", "a,b\n1,2\n", "", NULL), 404);
	/* a CSV: a resource with the file, and its load into a table */
	assert_int_equal(upload(mz, "mz-for-rs", "beds.csv", "district,beds\nA,10\nB,20\nC,30\n",
				"床位表", &loc),
			 303);
	assert_non_null(loc);
	const char *j = strstr(loc, "job=");
	assert_non_null(j);
	json_t *job = th_wait_job(srv, strtoll(j + 4, NULL, 10));
	assert_non_null(job);
	assert_string_equal(json_string_value(json_object_get(job, "state")), "done");
	json_decref(job);
	free(loc);
	json_t *pkg = shown("mz-for-rs", 200);
	json_t *res = json_array_get(json_object_get(pkg, "resources"), 0);
	assert_string_equal(json_string_value(json_object_get(res, "url_type")), "upload");
	assert_string_equal(json_string_value(json_object_get(res, "format")), "CSV");
	assert_string_equal(json_string_value(json_object_get(res, "name")), "床位表");
	const char *rid = json_string_value(json_object_get(res, "id"));
	assert_int_equal(
		count_of("SELECT row_count FROM datastore_tables WHERE resource_id = '%s'", rid),
		3);
	/* the file is served back as it was */
	struct th_client *anon = th_client_new(srv);
	const char *url = json_string_value(json_object_get(res, "url"));
	const char *p = strstr(url, "/dataset/");
	assert_non_null(p);
	char *b = get_as(anon, p, 200);
	assert_non_null(strstr(b, "B,20"));
	free(b);
	th_client_free(anon);
	/* the edit page lists it as an uploaded file with a table */
	b = get_as(mz, "/data/datasets/mz-for-rs/edit", 200);
	assert_non_null(strstr(b, "上传的文件"));
	free(b);
	/* renaming it keeps the file; deleting it lets the file go */
	char path[256], *download = strdup(p);
	snprintf(path, sizeof path, "/data/datasets/mz-for-rs/resources/%s/edit", rid);
	assert_int_equal(post(mz, path, "name=Beds&format=CSV&description=", NULL), 303);
	json_decref(pkg);
	pkg = shown("mz-for-rs", 200);
	res = json_array_get(json_object_get(pkg, "resources"), 0);
	assert_string_equal(json_string_value(json_object_get(res, "name")), "Beds");
	assert_string_equal(json_string_value(json_object_get(res, "url_type")), "upload");
	snprintf(path, sizeof path, "/data/datasets/mz-for-rs/resources/%s/delete",
		 json_string_value(json_object_get(res, "id")));
	assert_int_equal(post(mz, path, "", NULL), 303);
	anon = th_client_new(srv);
	free(get_as(anon, download, 404));
	th_client_free(anon);
	free(download);
	json_decref(pkg);
}

/* The API shares the rules and keeps CKAN's answer: English messages, no page keys. */
static void api_answer_unchanged(void **state)
{
	(void)state;
	char *auth = th_token_header(srv, DG_DEMO_STAFF, DG_DEMO_PASSWORD);
	assert_non_null(auth);
	const char *h[] = {auth, NULL};
	const char *body = "{\"name\":\"Bad Name\",\"owner_org\":\"mz\",\"author_email\":\"nope\","
			   "\"resources\":[{\"url\":\"javascript:x\"}]}";
	struct th_client *c = th_client_new(srv);
	struct th_resp r = {0};
	assert_int_equal(th_request(c, "POST", "/api/3/action/package_create", "application/json",
				    body, strlen(body), h, &r),
			 409);
	json_t *ans = json_loads(r.body, 0, NULL), *e = json_object_get(ans, "error");
	assert_string_equal(json_string_value(json_object_get(e, "__type")), "Validation Error");
	assert_non_null(strstr(json_string_value(json_array_get(json_object_get(e, "name"), 0)),
			       "lowercase"));
	assert_string_equal(
		json_string_value(json_array_get(json_object_get(e, "author_email"), 0)),
		"Email nope is not a valid format");
	assert_null(json_object_get(e, "__keys"));
	assert_null(json_object_get(json_array_get(json_object_get(e, "resources"), 0), "__keys"));
	assert_non_null(json_object_get(json_array_get(json_object_get(e, "resources"), 0), "url"));
	json_decref(ans);
	th_resp_release(&r);
	th_client_free(c);
	free(auth);
}

static int setup(void **state)
{
	(void)state;
	srv = th_start_loads(tmpdir);
	if (!srv)
		return -1;
	mz = th_signed_in(srv, DG_DEMO_STAFF);
	rs = th_signed_in(srv, DG_DEMO_STAFF2);
	cit = th_signed_in(srv, DG_DEMO_CITIZEN);
	adm = th_signed_in(srv, DG_DEMO_ADMIN);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_client_free(mz);
	th_client_free(rs);
	th_client_free(cit);
	th_client_free(adm);
	th_stop_loads(srv, tmpdir);
	return 0;
}

#define TAGS3 "%E7%94%B2%E7%B1%BB%0A%E4%B9%99%E7%B1%BB%0A%E4%B8%99%E7%B1%BB" /* 甲类 乙类 丙类 */

/* A form of the dataset mz-tags-en with tags TAGS3 and the English box tags_en (encoded). */
static char *tags_en_form(const char *tags_en)
{
	char *base = form_of(TITLE, "mz-tags-en", "open", TAGS3, ""), *b = NULL;
	assert_true(asprintf(&b, "%s&tags_en=%s", base, tags_en) > 0);
	free(base);
	return b;
}

/* mz-tags-en's tags_translated as JSON text (sorted keys), or "" for none (malloc'd). */
static char *tags_translated_of(void)
{
	json_t *pkg = shown("mz-tags-en", 200);
	json_t *tt = json_object_get(pkg, "tags_translated");
	char *s = tt ? json_dumps(tt, JSON_COMPACT | JSON_SORT_KEYS) : strdup("");
	json_decref(pkg);
	return s;
}

/*
 * Issue 14: the form's English labels for the tags, a line for each tag
 * in the tags box's order, saved as tags_translated (ckanext-fluent's
 * lists paired by place, only the labelled tags), pre-filled on edit and
 * shown on English pages; a box that does not pair with the tags, or a
 * label the catalogue's rules refuse, is a 422 beside the box in the
 * page's language and changes nothing; another department's staff do not
 * find the form, a resident may not use it.
 */
static void english_tag_labels(void **state)
{
	(void)state;
	char *b = get_as(mz, "/data/manage/new", 200);
	assert_non_null(strstr(b, "<label class=\"label\" for=\"tags_en\">英文标签</label>"));
	assert_non_null(strstr(b, "lang=\"en\" id=\"tags_en\" name=\"tags_en\""));
	free(b);
	/* the middle tag without English, the lines as a browser sends them (CR LF) */
	char *body = tags_en_form("class+a%0D%0A%0D%0A+class+c+");
	assert_int_equal(post(mz, "/data/manage/new", body, NULL), 303);
	free(body);
	char *tt = tags_translated_of();
	assert_string_equal(
		tt, "{\"en\":[\"class a\",\"class c\"],\"zh_Hans_CN\":[\"甲类\",\"丙类\"]}");
	free(tt);
	/* English pages label the tags; the one without English stays Chinese, marked */
	struct th_client *en = th_signed_in(srv, DG_DEMO_STAFF);
	free(get_as(en, "/prefs?lang=en", 303));
	b = get_as(en, "/data/datasets/mz-tags-en", 200);
	assert_non_null(strstr(b, ">class a</a>"));
	assert_non_null(strstr(b, ">class c</a>"));
	assert_non_null(strstr(b, "lang=\"zh-CN\">乙类</a>"));
	assert_null(strstr(b, ">甲类</a>"));
	free(b);
	b = get_as(mz, "/data/datasets/mz-tags-en", 200); /* Chinese pages: the tags */
	assert_non_null(strstr(b, ">甲类</a>"));
	assert_null(strstr(b, "class a"));
	free(b);
	/*
	 * the edit form: a line for each tag in the tags box's order (the
	 * catalogue's), the empty one kept past HTML's first line break
	 */
	b = get_as(mz, "/data/datasets/mz-tags-en/edit", 200);
	assert_non_null(strstr(b, ">\n丙类\n乙类\n甲类</textarea>"));
	assert_non_null(strstr(b, ">\nclass c\n\nclass a</textarea>"));
	free(b);

	/* lines that do not pair with the tags: more, and fewer */
	static const char *const unpaired[] = {"a%0Ab%0Ac%0Ad", "class+a%0Aclass+b"};
	static const char *const said[] = {"英文有 4 行，标签有 3 个", "英文有 2 行，标签有 3 个"};
	for (size_t i = 0; i < 2; i++) {
		char *out = NULL;
		body = tags_en_form(unpaired[i]);
		assert_int_equal(post(mz, "/data/datasets/mz-tags-en/edit", body, &out), 422);
		free(body);
		assert_non_null(strstr(out, "error-summary"));
		assert_non_null(strstr(out, "href=\"#tags_en\""));
		assert_non_null(strstr(out, said[i]));
		assert_non_null(strstr(out, "aria-invalid=\"true\">\n")); /* on the box */
		assert_non_null(strstr(out, "<title>错误："));
		free(out);
	}
	/* in English */
	char *out = NULL;
	body = tags_en_form("a%0Ab%0Ac%0Ad");
	assert_int_equal(post(en, "/data/datasets/mz-tags-en/edit", body, &out), 422);
	free(body);
	assert_non_null(strstr(out, "Tags in English: give one line for each tag, in the same "
				    "order, and an empty line for a "
				    "tag without English (lines: 4, tags: 3)"));
	free(out);
	/* a label over the catalogue's 100 bytes: its rules' message, in the page's language */
	char long_label[128];
	memset(long_label, 'x', 101);
	long_label[101] = '\0';
	char *lines = NULL;
	assert_true(asprintf(&lines, "%s%%0A%%0Ac", long_label) > 0);
	body = tags_en_form(lines);
	free(lines);
	assert_int_equal(post(mz, "/data/datasets/mz-tags-en/edit", body, &out), 422);
	assert_non_null(strstr(out, "英文标签：英文标签最多 100 个，每个最多 100 个字符"));
	free(out);
	assert_int_equal(post(en, "/data/datasets/mz-tags-en/edit", body, &out), 422);
	assert_non_null(strstr(out, "at most 100 English labels, each at most 100 characters"));
	free(out);
	free(body);
	/* another department's staff: no such form; a resident: refused */
	body = tags_en_form("x%0Ay%0Az");
	assert_int_equal(post(rs, "/data/datasets/mz-tags-en/edit", body, NULL), 404);
	assert_int_equal(post(cit, "/data/datasets/mz-tags-en/edit", body, NULL), 403);
	free(body);
	tt = tags_translated_of(); /* nothing changed */
	assert_string_equal(
		tt, "{\"en\":[\"class a\",\"class c\"],\"zh_Hans_CN\":[\"甲类\",\"丙类\"]}");
	free(tt);

	/* the edit form sent back as it was filled in: the same labels */
	char *base =
		form_of(TITLE, "mz-tags-en", "open",
			"%E4%B8%99%E7%B1%BB%0D%0A%E4%B9%99%E7%B1%BB%0D%0A%E7%94%B2%E7%B1%BB", "");
	assert_true(asprintf(&body, "%s&tags_en=class+c%%0D%%0A%%0D%%0Aclass+a", base) > 0);
	free(base);
	assert_int_equal(post(mz, "/data/datasets/mz-tags-en/edit", body, NULL), 303);
	free(body);
	tt = tags_translated_of();
	assert_string_equal(
		tt, "{\"en\":[\"class c\",\"class a\"],\"zh_Hans_CN\":[\"丙类\",\"甲类\"]}");
	free(tt);
	/* every line empty: no English any more */
	body = tags_en_form("%0D%0A%0D%0A");
	assert_int_equal(post(mz, "/data/datasets/mz-tags-en/edit", body, NULL), 303);
	free(body);
	tt = tags_translated_of();
	assert_string_equal(tt, "");
	free(tt);
	th_client_free(en);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_and_show),
		cmocka_unit_test(bad_fields_say_why),
		cmocka_unit_test(who_may),
		cmocka_unit_test(edit_and_close),
		cmocka_unit_test(closed_names_do_not_leak),
		cmocka_unit_test(migration_prefixes_closed_names),
		cmocka_unit_test(link_resources),
		cmocka_unit_test(delete_dataset),
		cmocka_unit_test(column_types),
		cmocka_unit_test(admin_picks_the_department),
		cmocka_unit_test(upload_files),
		cmocka_unit_test(api_answer_unchanged),
		cmocka_unit_test(english_tag_labels),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
