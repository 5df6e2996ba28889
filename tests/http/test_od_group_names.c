/*
 * test_od_group_names.c - the names of the catalogue's groups and
 * organisations as CKAN's clients see them, through the real server on the
 * store DGOV_TEST_DB selects: every name group_list and organization_list
 * give follows CKAN's name rule (2 to 100 of [a-z0-9_-]), each of the 21
 * themes is named by the slug of its English name in the messages; the
 * theme itself still names its group on the pages and their links; and the
 * migration that gives the names (opendata-012-theme-names), run on a store
 * made before it, leaves alone a group an administrator renamed, gives no
 * group a name that another group or a dataset's theme already has, makes
 * kept searches show the new names, and changes nothing when run again;
 * a rename records its datasets' documents for every node's kept map.
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
#include "store/store.h"

#define MIGRATION "opendata-012-theme-names"

static bool ckan_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 2 || n > 100)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '_'))
			return false;
	return true;
}

/* The names an action's result lists; how many there were. */
static size_t all_ckan_names(const char *path)
{
	json_t *j = th_get_json(th_shared, path, 200);
	assert_non_null(j);
	json_t *list = json_object_get(j, "result"), *v;
	size_t i;
	json_array_foreach (list, i, v) {
		if (!ckan_name(json_string_value(v)))
			fail_msg("%s: \"%s\" is not a CKAN name", path, json_string_value(v));
	}
	size_t n = json_array_size(list);
	json_decref(j);
	return n;
}

/* "Employment and business start-ups" -> "employment-and-business-start-ups" (malloc'd). */
static char *slug(const char *english)
{
	char *out = malloc(strlen(english) + 1), *o = out;
	for (const char *p = english; *p; p++) {
		char c = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (alnum)
			*o++ = c;
		else if (o > out && o[-1] != '-')
			*o++ = '-';
	}
	while (o > out && o[-1] == '-')
		o--;
	*o = '\0';
	return out;
}

__attribute__((format(printf, 1, 2))) static int64_t count_of(const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	return th_sql_int(th_shared, text);
}

static void names_follow_ckans_rule(void **state)
{
	(void)state;
	/* the demo's public datasets have ten themes; every department is an organisation */
	assert_int_equal(all_ckan_names("/api/3/action/group_list?limit=1000"), 10);
	assert_int_equal(all_ckan_names("/api/3/action/organization_list?limit=1000"), 12);
	assert_int_equal(all_ckan_names("/api/3/action/group_list?all_fields=false&sort=title"),
			 10);
	/* each theme the messages name is named by the slug of its English name, and only so */
	const char *root = getenv("DGOV_ROOT");
	char path[1024];
	snprintf(path, sizeof path, "%s/templates/i18n/data.en.json", root && root[0] ? root : ".");
	json_t *en = json_load_file(path, 0, NULL);
	assert_non_null(en);
	const char *key;
	json_t *v;
	int themes = 0;
	json_object_foreach (en, key, v) {
		if (strncmp(key, "odp.theme.", 10) != 0)
			continue;
		char *name = slug(json_string_value(v));
		assert_true(ckan_name(name));
		if (count_of("SELECT COUNT(*) FROM od_group_names WHERE is_org = 0 AND current = 1"
			     " AND id = '%s' AND name = '%s'",
			     key + 10, name) != 1)
			fail_msg("theme %s is not named %s", key + 10, name);
		free(name);
		themes++;
	}
	json_decref(en);
	assert_int_equal(themes, 21);
	assert_int_equal(count_of("SELECT COUNT(*) FROM od_group_names WHERE is_org = 0"), 21);
}

/* A page's body, anonymous, expecting status want (malloc'd). */
static char *page(const char *path, long want)
{
	struct th_client *c = th_client_new(th_shared);
	char *b = th_get_body(c, path, want);
	th_client_free(c);
	assert_non_null(b);
	return b;
}

static void theme_still_names_its_group(void **state)
{
	(void)state;
	/* the IRI by the theme answers 301 to the IRI by the name */
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	char *enc = th_enc("民政"), path[256];
	snprintf(path, sizeof path, "/group/%s", enc);
	const char *hdrs[] = {"Accept: text/html", NULL};
	assert_int_equal(th_request(c, "GET", path, NULL, NULL, 0, hdrs, &r), 301);
	char *loc = th_header(&r, "Location");
	assert_non_null(loc);
	assert_string_equal(loc, "/group/civil-affairs");
	free(loc);
	th_resp_release(&r);
	th_client_free(c);
	/* /data filters by either, and its links and the dataset page's use the name */
	snprintf(path, sizeof path, "/data?group=%s", enc);
	char *by_theme = page(path, 200), *by_name = page("/data?group=civil-affairs", 200);
	assert_non_null(strstr(by_theme, "/data/datasets/marriage-registrations"));
	assert_non_null(strstr(by_name, "/data/datasets/marriage-registrations"));
	assert_null(strstr(by_theme, "/data/datasets/employment-statistics"));
	assert_null(strstr(by_name, "/data/datasets/employment-statistics"));
	free(by_theme);
	free(by_name);
	char *all = page("/data", 200);
	assert_non_null(strstr(all, "group=civil-affairs"));
	assert_null(strstr(all, "group=%E6%B0%91%E6%94%BF"));
	free(all);
	char *ds = page("/data/datasets/marriage-registrations", 200);
	assert_non_null(strstr(ds, "/data?group=civil-affairs"));
	free(ds);
	free(enc);
}

/* An action as user (JSON body); its status. */
static long call(const char *user, const char *action, const char *body)
{
	return th_action_as(th_shared, user, DG_DEMO_PASSWORD, action, body);
}

/* group_show's name of the group id or name given as its percent-encoded form (malloc'd). */
static char *name_of(const char *id)
{
	char *enc = th_enc(id), path[256];
	snprintf(path, sizeof path, "/api/3/action/group_show?id=%s", enc);
	free(enc);
	json_t *j = th_get_json(th_shared, path, 200);
	assert_non_null(j);
	char *name =
		strdup(json_string_value(json_object_get(json_object_get(j, "result"), "name")));
	json_decref(j);
	return name;
}

static void assert_named(const char *id, const char *want)
{
	char *got = name_of(id);
	if (strcmp(got, want) != 0)
		fail_msg("group %s is named %s, not %s", id, got, want);
	free(got);
}

static void migrate(void)
{
	th_sql(th_shared, "DELETE FROM schema_migrations WHERE id = '" MIGRATION "'");
	const struct dg_migration *lists[32];
	size_t n = dg_app_migration_lists(lists, 32);
	struct dg_err err = {0};
	assert_int_equal(dg_store_migrate(th_app(th_shared)->env.store, lists, n, &err), DG_OK);
	assert_int_equal(
		count_of("SELECT COUNT(*) FROM schema_migrations WHERE id = '" MIGRATION "'"), 1);
}

/* The groups facet of the whole catalogue (a kept search once asked). */
static json_t *group_facets(void)
{
	json_t *j = th_get_json(
		th_shared, "/api/3/action/package_search?facet.field=%5B%22groups%22%5D&rows=0",
		200);
	assert_non_null(j);
	json_t *f = json_incref(
		json_object_get(json_object_get(json_object_get(j, "result"), "facets"), "groups"));
	json_decref(j);
	assert_non_null(f);
	return f;
}

static void migration_keeps_what_staff_chose(void **state)
{
	(void)state;
	/* a store from before the migration: each group named by its theme */
	th_sql(th_shared, "DELETE FROM od_group_names WHERE is_org = 0");
	th_sql(th_shared, "UPDATE od_catalog_state SET version = version + 1 WHERE id = 1");
	assert_named("民政", "民政");
	/* where an administrator renamed groups, once to another theme's name-to-be */
	assert_int_equal(
		call(DG_DEMO_ADMIN, "group_patch", "{\"id\":\"民政\",\"name\":\"minzheng\"}"), 200);
	assert_int_equal(call(DG_DEMO_ADMIN, "group_patch",
			      "{\"id\":\"公共安全\",\"name\":\"social-assistance\"}"),
			 200);
	/* and where a dataset's group was a theme of its own that is a theme's name-to-be */
	assert_int_equal(call(DG_DEMO_STAFF, "package_create",
			      "{\"name\":\"own-theme-health\",\"title\":\"t\",\"owner_org\":\"mz\","
			      "\"groups\":[{\"name\":\"health\"}]}"),
			 200);
	assert_int_equal(count_of("SELECT COUNT(*) FROM od_packages WHERE theme = 'health'"), 1);
	json_t *before = group_facets(); /* kept, with the themes as names */
	assert_non_null(json_object_get(before, "市场监管"));
	json_decref(before);
	int64_t version = count_of("SELECT version FROM od_catalog_state WHERE id = 1");

	migrate();
	assert_named("民政", "minzheng"); /* the administrator's names stay */
	assert_named("公共安全", "social-assistance");
	assert_named("社会救助", "社会救助"); /* its name is another's: none given */
	assert_named("卫生健康", "卫生健康"); /* its name is a dataset's theme */
	assert_named("health", "health");
	assert_named("市场监管", "market-regulation"); /* the rest are named */
	assert_named("market-regulation", "market-regulation");
	assert_named("养老服务", "elderly-care");
	json_t *j = th_get_json(th_shared, "/api/3/action/group_show?id=civil-affairs", 404);
	json_decref(j);
	assert_int_equal(count_of("SELECT COUNT(*) FROM od_group_names WHERE is_org = 0"
				  " AND current = 1 AND name = 'civil-affairs'"),
			 0);
	/* the kept search is counted again, with the names */
	assert_true(count_of("SELECT version FROM od_catalog_state WHERE id = 1") > version);
	json_t *after = group_facets();
	assert_int_equal(json_integer_value(json_object_get(after, "market-regulation")), 2);
	assert_null(json_object_get(after, "市场监管"));
	assert_int_equal(json_integer_value(json_object_get(after, "minzheng")), 1);
	json_decref(after);

	/* run again, it changes nothing */
	int64_t rows = count_of("SELECT COUNT(*) FROM od_group_names WHERE is_org = 0");
	migrate();
	assert_int_equal(count_of("SELECT COUNT(*) FROM od_group_names WHERE is_org = 0"), rows);
	assert_named("民政", "minzheng");
	assert_named("社会救助", "社会救助");
}

/* package_search of q on node s, as the public asks it: its count and its facet's names. */
static int64_t found_by(struct th_srv *s, const char *q, const char *facet, json_t **names)
{
	char path[256];
	snprintf(path, sizeof path,
		 "/api/3/action/package_search?q=%s&facet.field=%%5B%%22%s%%22%%5D&rows=0", q,
		 facet);
	json_t *j = th_get_json(s, path, 200);
	assert_non_null(j);
	json_t *res = json_object_get(j, "result");
	int64_t n = json_integer_value(json_object_get(res, "count"));
	if (names)
		*names = json_incref(json_object_get(json_object_get(res, "facets"), facet));
	json_decref(j);
	return n;
}

/*
 * A rename writes its datasets' documents again (they hold its name) and
 * records each of them in od_doc_changes at the version it raises, as a
 * dataset's write does: a second node that had read the catalogue (its map
 * of the public's documents built, its answers kept) finds the datasets by
 * the new name and not by the old one, and whatever it keeps per document
 * is read again. For an organisation and for a group.
 */
static void rename_is_recorded_for_every_node(void **state)
{
	(void)state;
	struct th_srv *peer = th_start_peer(th_shared, NULL);
	const struct {
		const char *action, *id, *facet, *sql_of;
	} cases[] = {
		{"organization_patch", "mz", "organization", "owner_dept = 'mz'"},
		{"group_patch", "民政", "groups", "theme = '民政'"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char body[256];
		const char *old = i ? "zzgroupold" : "zzorgold",
			   *to = i ? "zzgroupnew" : "zzorgnew";
		snprintf(body, sizeof body, "{\"id\":\"%s\",\"name\":\"%s\"}", cases[i].id, old);
		assert_int_equal(call(DG_DEMO_ADMIN, cases[i].action, body), 200);
		/* the peer reads the catalogue under the old name: its map and its answer kept */
		int64_t n = found_by(peer, old, cases[i].facet, NULL);
		assert_true(n > 0);
		assert_int_equal(found_by(peer, to, cases[i].facet, NULL), 0);
		int64_t before = count_of("SELECT version FROM od_catalog_state WHERE id = 1");

		snprintf(body, sizeof body, "{\"id\":\"%s\",\"name\":\"%s\"}", cases[i].id, to);
		assert_int_equal(call(DG_DEMO_ADMIN, cases[i].action, body), 200);
		int64_t version = count_of("SELECT version FROM od_catalog_state WHERE id = 1");
		assert_true(version > before);
		/* every dataset's document is recorded at the rename's version, and no other */
		int64_t datasets =
			count_of("SELECT COUNT(*) FROM od_packages WHERE %s", cases[i].sql_of);
		assert_true(datasets >= n);
		assert_int_equal(count_of("SELECT COUNT(*) FROM od_doc_changes c JOIN od_packages p"
					  " ON p.search_id = c.doc WHERE c.version = %lld AND p.%s",
					  (long long)version, cases[i].sql_of),
				 datasets);
		assert_int_equal(
			count_of("SELECT COUNT(*) FROM od_doc_changes WHERE version = %lld",
				 (long long)version),
			datasets);
		/* the peer finds them by the new name only, named so in the facet */
		json_t *names = NULL;
		assert_int_equal(found_by(peer, to, cases[i].facet, &names), n);
		assert_int_equal(json_integer_value(json_object_get(names, to)), n);
		assert_null(json_object_get(names, old));
		json_decref(names);
		assert_int_equal(found_by(peer, old, cases[i].facet, NULL), 0);
	}
	th_stop(peer);
}

/*
 * The index written again at start (a tokenizer of another version, or
 * migration opendata-014, which forgets its build) is every document
 * written again: recorded as document -1 at a version it raises, so a
 * running node reads all of them again.
 */
static void rebuild_is_recorded_for_every_node(void **state)
{
	(void)state;
	int64_t before = count_of("SELECT version FROM od_catalog_state WHERE id = 1");
	th_sql(th_shared, "DELETE FROM search_built WHERE name = 'od_search'");
	struct th_srv *peer = th_start_peer(th_shared, NULL); /* its start rebuilds the index */
	int64_t version = count_of("SELECT version FROM od_catalog_state WHERE id = 1");
	assert_true(version > before);
	assert_int_equal(count_of("SELECT COUNT(*) FROM od_doc_changes WHERE doc = -1"
				  " AND version = %lld",
				  (long long)version),
			 1);
	assert_int_equal(count_of("SELECT COUNT(*) FROM search_built WHERE name = 'od_search'"), 1);
	/* started again, nothing is stale: nothing raised */
	th_stop(peer);
	peer = th_start_peer(th_shared, NULL);
	assert_int_equal(count_of("SELECT version FROM od_catalog_state WHERE id = 1"), version);
	assert_int_equal(found_by(peer, "zzorgnew", "organization", NULL),
			 found_by(th_shared, "zzorgnew", "organization", NULL));
	th_stop(peer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_follow_ckans_rule),
		cmocka_unit_test(theme_still_names_its_group),
		cmocka_unit_test(migration_keeps_what_staff_chose),
		cmocka_unit_test(rename_is_recorded_for_every_node),
		cmocka_unit_test(rebuild_is_recorded_for_every_node),
	};
	return cmocka_run_group_tests(tests, th_group_setup, th_group_teardown);
}
