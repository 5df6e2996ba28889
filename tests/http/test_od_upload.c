/*
 * test_od_upload.c - resource files through the CKAN actions, on whichever
 * store DGOV_TEST_DB selects: a CSV uploaded with resource_create is kept
 * (size, SHA-256, url), served back byte for byte by the download route
 * and loaded into the DataStore; a re-upload replaces file and table; the
 * refusals (another department, anonymous, an empty file, over the node's
 * cap) store nothing; downloads follow the dataset's tier; deleted and
 * purged resources are no longer served. Also the small CKAN gaps: GET on a
 * write action, tag_show, package_search's fl.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "app/app.h"
#include "node/demo.h"
#include "harness.h"
#include "opendata/datastore/datastore.h"
#include "store/store.h"

#define MZ_PKG     "00000000-0000-4000-8000-000000000001" /* open, department mz */
#define SC_PKG     "00000000-0000-4000-8000-000000000007" /* conditional, department sc */
#define CLOSED_PKG "00000000-0000-4000-8000-000000000012" /* closed, department sj */
#define BOUNDARY   "dgovtestboundary7MA4YWxk"
#define CSV1       "name,beds\nEast home,10\nWest home,25\n"
#define CSV2       "name,beds,city\nNorth home,40,A\nSouth home,5,B\nRiver home,12,C\n"

static char *mz, *rs, *adm;

static char *token(const char *user)
{
	char *h = th_token_header(th_shared, user, DG_DEMO_PASSWORD);
	assert_non_null(h);
	return h;
}

static int setup(void **state)
{
	(void)state;
	/* a job worker, for the loads uploads queue */
	struct th_opts o = {.demo = true, .job_workers = 1, .job_lease_sec = 5};
	th_shared = th_start_opts(&o);
	if (!th_shared)
		return -1;
	mz = token(DG_DEMO_STAFF);
	rs = token(DG_DEMO_STAFF2);
	adm = token(DG_DEMO_ADMIN);
	return 0;
}

static int teardown(void **state)
{
	free(mz), free(rs), free(adm);
	return th_group_teardown(state);
}

/* A multipart body: text fields (name, value pairs, NULL-ended), then the file "upload". */
static char *multipart(const char *const *fields, const char *filename, const char *data, size_t n,
		       size_t *len)
{
	size_t cap = n + 4096;
	char *b = malloc(cap);
	size_t at = 0;
	for (size_t i = 0; fields && fields[i]; i += 2)
		at += (size_t)snprintf(b + at, cap - at,
				       "--" BOUNDARY "\r\nContent-Disposition: form-data; "
				       "name=\"%s\"\r\n\r\n%s\r\n",
				       fields[i], fields[i + 1]);
	if (filename) {
		at += (size_t)snprintf(b + at, cap - at,
				       "--" BOUNDARY "\r\nContent-Disposition: form-data; "
				       "name=\"upload\"; filename=\"%s\"\r\nContent-Type: "
				       "application/octet-stream\r\n\r\n",
				       filename);
		memcpy(b + at, data, n);
		at += n;
		at += (size_t)snprintf(b + at, cap - at, "\r\n");
	}
	at += (size_t)snprintf(b + at, cap - at, "--" BOUNDARY "--\r\n");
	*len = at;
	return b;
}

/* POST action as who (a header or NULL) with a multipart body; the answer's JSON in *ans. */
static long post_file(const char *who, const char *action, const char *const *fields,
		      const char *filename, const char *data, size_t n, json_t **ans)
{
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	size_t len = 0;
	char *body = multipart(fields, filename, data, n, &len), path[128];
	const char *h[] = {who, NULL};
	snprintf(path, sizeof path, "/api/3/action/%s", action);
	long st = th_request(c, "POST", path, "multipart/form-data; boundary=" BOUNDARY, body, len,
			     who ? h : NULL, &r);
	*ans = json_loadb(r.body ? r.body : "", r.len, JSON_DECODE_ANY, NULL);
	free(body);
	th_resp_release(&r);
	th_client_free(c);
	return st;
}

static long call(const char *method, const char *who, const char *action, const char *body,
		 json_t **ans)
{
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	char path[256];
	const char *h[] = {who, NULL};
	snprintf(path, sizeof path, "/api/3/action/%s", action);
	long st = th_request(c, method, path, body ? "application/json" : NULL, body,
			     body ? strlen(body) : 0, who ? h : NULL, &r);
	*ans = json_loadb(r.body ? r.body : "", r.len, JSON_DECODE_ANY, NULL);
	th_resp_release(&r);
	th_client_free(c);
	return st;
}

static const char *res_str(json_t *ans, const char *key)
{
	return json_string_value(json_object_get(json_object_get(ans, "result"), key));
}

/* Entries of the folder data/resources/<sub> (0 when it is gone). */
static int entries(const char *sub)
{
	char dir[600];
	snprintf(dir, sizeof dir, "%s/resources/%s", th_app(th_shared)->cfg.data_dir, sub);
	DIR *d = opendir(dir);
	int n = 0;
	if (!d)
		return 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Files kept for resource rid. */
static int files_of(const char *rid)
{
	return entries(rid);
}

/* Folders under data/resources (every resource that has files). */
static int resource_dirs(void)
{
	return entries("");
}

static void sha256_hex(const char *data, size_t n, char hex[65])
{
	unsigned char sum[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(sum, (const unsigned char *)data, n);
	sodium_bin2hex(hex, 65, sum, sizeof sum);
}

/* GET url: a path, or an absolute link of this server's site (its own part asked for). */
static long download(const char *who, const char *url, struct th_resp *r)
{
	char *site = th_url(th_shared, "");
	if (strncmp(url, site, strlen(site)) == 0)
		url += strlen(site);
	free(site);
	struct th_client *c = th_client_new(th_shared);
	const char *h[] = {who, NULL};
	long st = th_request(c, "GET", url, NULL, NULL, 0, who ? h : NULL, r);
	th_client_free(c);
	return st;
}

/* Wait for the newest datastore.load job to end; its state must be done. */
static void wait_load(void)
{
	struct dg_db *db = NULL;
	int64_t id = 0;
	assert_int_equal(dg_db_get(th_app(th_shared)->env.store, &db), DG_OK);
	assert_int_equal(dg_db_query_int(db,
					 "SELECT MAX(id) FROM jobs WHERE kind = 'datastore.load'",
					 DG_NOARGS, &id),
			 DG_OK);
	dg_db_put(db);
	json_t *job = th_wait_job(th_shared, id);
	assert_non_null(job);
	assert_string_equal(json_string_value(json_object_get(job, "state")), "done");
	json_decref(job);
}

static int64_t total_rows(const char *rid)
{
	char body[200];
	json_t *ans = NULL;
	snprintf(body, sizeof body, "{\"resource_id\":\"%s\"}", rid);
	assert_int_equal(call("POST", NULL, "datastore_search", body, &ans), 200);
	int64_t n = json_integer_value(json_object_get(json_object_get(ans, "result"), "total"));
	json_decref(ans);
	return n;
}

static void upload_download_replace(void **state)
{
	(void)state;
	json_t *ans = NULL;
	const char *fields[] = {"package_id", MZ_PKG, "name", "Homes", NULL};
	assert_int_equal(post_file(mz, "resource_create", fields, "homes 2024.csv", CSV1,
				   strlen(CSV1), &ans),
			 200);
	char hex[65], rid[128], url[512];
	sha256_hex(CSV1, strlen(CSV1), hex);
	snprintf(rid, sizeof rid, "%s", res_str(ans, "id"));
	snprintf(url, sizeof url, "%s", res_str(ans, "url"));
	assert_string_equal(res_str(ans, "url_type"), "upload");
	assert_string_equal(res_str(ans, "hash"), hex);
	assert_string_equal(res_str(ans, "format"), "CSV");
	assert_string_equal(res_str(ans, "mimetype"), "text/csv");
	assert_string_equal(res_str(ans, "name"), "Homes");
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(ans, "result"), "size")),
		strlen(CSV1));
	/* absolute, from the site URL (here the listen address), as CKAN's links are */
	char want[512];
	snprintf(want, sizeof want,
		 "http://127.0.0.1:%u/dataset/%s/resource/%s/download/homes%%202024.csv",
		 th_port(th_shared), MZ_PKG, rid);
	assert_string_equal(url, want);
	json_decref(ans);
	assert_int_equal(files_of(rid), 1);

	/* the original bytes, with their type, length and name */
	struct th_resp r = {0};
	assert_int_equal(download(NULL, url, &r), 200);
	assert_int_equal(r.len, strlen(CSV1));
	assert_memory_equal(r.body, CSV1, r.len);
	char *ct = th_header(&r, "Content-Type"), *cl = th_header(&r, "Content-Length"),
	     *cd = th_header(&r, "Content-Disposition");
	assert_string_equal(ct, "text/csv");
	assert_int_equal((int)strtol(cl, NULL, 10), (int)strlen(CSV1));
	assert_string_equal(cd, "attachment; filename=\"homes 2024.csv\"; "
				"filename*=UTF-8''homes%202024.csv");
	free(ct), free(cl), free(cd);
	th_resp_release(&r);
	/* another dataset's path, or a resource without a file: 404 */
	char other[512];
	snprintf(other, sizeof other, "/dataset/%s/resource/%s/download/x.csv", SC_PKG, rid);
	assert_int_equal(download(NULL, other, &r), 404);
	th_resp_release(&r);

	/* the load follows: rows, and the resource says datastore_active */
	wait_load();
	assert_int_equal(total_rows(rid), 2);
	char body[256];
	snprintf(body, sizeof body, "{\"id\":\"%s\"}", rid);
	assert_int_equal(call("POST", NULL, "resource_show", body, &ans), 200);
	assert_true(
		json_is_true(json_object_get(json_object_get(ans, "result"), "datastore_active")));
	json_decref(ans);

	/* resource_patch with a new file: new bytes, new table, the old file gone */
	const char *patch[] = {"id", rid, NULL};
	assert_int_equal(
		post_file(mz, "resource_patch", patch, "homes-2025.csv", CSV2, strlen(CSV2), &ans),
		200);
	sha256_hex(CSV2, strlen(CSV2), hex);
	assert_string_equal(res_str(ans, "hash"), hex);
	assert_string_equal(res_str(ans, "name"), "Homes"); /* kept by the patch */
	snprintf(url, sizeof url, "%s", res_str(ans, "url"));
	assert_non_null(strstr(url, "/download/homes-2025.csv"));
	json_decref(ans);
	assert_int_equal(files_of(rid), 1);
	assert_int_equal(download(NULL, url, &r), 200);
	assert_int_equal(r.len, strlen(CSV2));
	assert_memory_equal(r.body, CSV2, r.len);
	th_resp_release(&r);
	wait_load();
	assert_int_equal(total_rows(rid), 3);

	/* a patch of the text keeps the file */
	snprintf(body, sizeof body, "{\"id\":\"%s\",\"description\":\"beds by home\"}", rid);
	assert_int_equal(call("POST", mz, "resource_patch", body, &ans), 200);
	assert_string_equal(res_str(ans, "url_type"), "upload");
	assert_string_equal(res_str(ans, "url"), url);
	json_decref(ans);
	assert_int_equal(files_of(rid), 1);

	/* resource_delete: no file served, none kept */
	snprintf(body, sizeof body, "{\"id\":\"%s\"}", rid);
	assert_int_equal(call("POST", mz, "resource_delete", body, &ans), 200);
	json_decref(ans);
	assert_int_equal(download(NULL, url, &r), 404);
	th_resp_release(&r);
	assert_int_equal(files_of(rid), 0);
}

static void refusals_store_nothing(void **state)
{
	(void)state;
	json_t *ans = NULL;
	int dirs = resource_dirs();
	const char *fields[] = {"package_id", MZ_PKG, "id", "refused-upload-1", NULL};
	/* another department, anonymous */
	assert_int_equal(
		post_file(rs, "resource_create", fields, "a.csv", CSV1, strlen(CSV1), &ans), 403);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(ans, "error"), "__type")),
		"Authorization Error");
	json_decref(ans);
	assert_int_equal(
		post_file(NULL, "resource_create", fields, "a.csv", CSV1, strlen(CSV1), &ans), 403);
	json_decref(ans);
	/* an empty file */
	assert_int_equal(post_file(mz, "resource_create", fields, "a.csv", "", 0, &ans), 409);
	json_t *e = json_object_get(ans, "error");
	assert_string_equal(json_string_value(json_object_get(e, "__type")), "Validation Error");
	assert_non_null(strstr(json_string_value(json_array_get(json_object_get(e, "upload"), 0)),
			       "empty"));
	json_decref(ans);
	/* another field wrong: nothing kept either */
	const char *bad[] = {"package_id", MZ_PKG, "id", "bad id!", NULL};
	assert_int_equal(post_file(mz, "resource_create", bad, "a.csv", CSV1, strlen(CSV1), &ans),
			 409);
	json_decref(ans);
	/* over the node's cap: a clear message */
	struct dg_app *app = th_app(th_shared);
	size_t cap = app->cfg.max_resource;
	app->cfg.max_resource = 16;
	assert_int_equal(
		post_file(mz, "resource_create", fields, "a.csv", CSV1, strlen(CSV1), &ans), 409);
	app->cfg.max_resource = cap;
	const char *msg = json_string_value(
		json_array_get(json_object_get(json_object_get(ans, "error"), "upload"), 0));
	assert_non_null(msg);
	assert_non_null(strstr(msg, "over this site's limit of 16 bytes"));
	json_decref(ans);
	/* a resource id taken by another dataset: the kept file is discarded */
	const char *taken[] = {"package_id", MZ_PKG, "id", "00000000-0000-4000-9000-000000000004",
			       NULL};
	assert_int_equal(post_file(mz, "resource_create", taken, "a.csv", CSV1, strlen(CSV1), &ans),
			 409);
	json_decref(ans);
	assert_int_equal(resource_dirs(), dirs);
	assert_int_equal(files_of("refused-upload-1"), 0);
	assert_int_equal(call("POST", NULL, "resource_show", "{\"id\":\"refused-upload-1\"}", &ans),
			 404);
	json_decref(ans);
}

static void tiers_of_downloads(void **state)
{
	(void)state;
	json_t *ans = NULL;
	struct th_resp r = {0};
	char url[512];
	/* closed: its department (here an administrator) only */
	const char *closed[] = {"package_id", CLOSED_PKG, NULL};
	assert_int_equal(
		post_file(adm, "resource_create", closed, "ledger.csv", CSV1, strlen(CSV1), &ans),
		200);
	snprintf(url, sizeof url, "%s", res_str(ans, "url"));
	json_decref(ans);
	assert_int_equal(download(NULL, url, &r), 404);
	th_resp_release(&r);
	assert_int_equal(download(mz, url, &r), 404);
	th_resp_release(&r);
	assert_int_equal(download(adm, url, &r), 200);
	assert_memory_equal(r.body, CSV1, strlen(CSV1));
	th_resp_release(&r);
	wait_load();
	/* conditional: not without a granted app */
	const char *cond[] = {"package_id", SC_PKG, NULL};
	assert_int_equal(
		post_file(adm, "resource_create", cond, "checks.json", "{\"a\":1}", 7, &ans), 200);
	assert_string_equal(res_str(ans, "format"), "JSON");
	snprintf(url, sizeof url, "%s", res_str(ans, "url"));
	json_decref(ans);
	assert_int_equal(download(NULL, url, &r), 403);
	th_resp_release(&r);
	assert_int_equal(download(mz, url, &r), 403);
	th_resp_release(&r);
	assert_int_equal(download(adm, url, &r), 200);
	th_resp_release(&r);
}

static void purge(void **state)
{
	(void)state;
	json_t *ans = NULL;
	struct th_resp r = {0};
	assert_int_equal(call("POST", mz, "package_create",
			      "{\"name\":\"purge-me\",\"owner_org\":\"mz\",\"tags\":[{\"name\":"
			      "\"purge-tag\"}]}",
			      &ans),
			 200);
	char pkg[128], rid[128], url[512];
	snprintf(pkg, sizeof pkg, "%s", res_str(ans, "id"));
	json_decref(ans);
	const char *fields[] = {"package_id", pkg, NULL};
	assert_int_equal(
		post_file(mz, "resource_create", fields, "p.csv", CSV1, strlen(CSV1), &ans), 200);
	snprintf(rid, sizeof rid, "%s", res_str(ans, "id"));
	snprintf(url, sizeof url, "%s", res_str(ans, "url"));
	json_decref(ans);
	wait_load();
	/* tag_show knows the tag through the dataset */
	assert_int_equal(
		call("GET", NULL, "tag_show?id=purge-tag&include_datasets=true", NULL, &ans), 200);
	assert_string_equal(res_str(ans, "name"), "purge-tag");
	assert_int_equal(
		json_array_size(json_object_get(json_object_get(ans, "result"), "packages")), 1);
	json_decref(ans);
	/* who may purge: an administrator only (the owner's department may delete) */
	assert_int_equal(call("POST", rs, "dataset_purge", "{\"id\":\"purge-me\"}", &ans), 403);
	json_decref(ans);
	assert_int_equal(call("POST", NULL, "dataset_purge", "{\"id\":\"purge-me\"}", &ans), 403);
	json_decref(ans);
	assert_int_equal(call("POST", mz, "dataset_purge", "{\"id\":\"purge-me\"}", &ans), 403);
	json_decref(ans);
	assert_int_equal(call("POST", adm, "dataset_purge", "{\"id\":\"purge-me\"}", &ans), 200);
	assert_true(json_is_null(json_object_get(ans, "result")));
	json_decref(ans);
	/* gone for good: dataset, file, table, tag */
	assert_int_equal(call("GET", NULL, "package_show?id=purge-me", NULL, &ans), 404);
	json_decref(ans);
	assert_int_equal(download(NULL, url, &r), 404);
	th_resp_release(&r);
	assert_int_equal(files_of(rid), 0);
	char body[200];
	snprintf(body, sizeof body, "{\"resource_id\":\"%s\"}", rid);
	assert_int_equal(call("POST", NULL, "datastore_search", body, &ans), 404);
	json_decref(ans);
	assert_int_equal(call("GET", NULL, "tag_show?id=purge-tag", NULL, &ans), 404);
	json_decref(ans);
	assert_int_equal(call("POST", adm, "dataset_purge", "{\"id\":\"purge-me\"}", &ans), 404);
	json_decref(ans);
	/* the name is free again */
	assert_int_equal(call("POST", mz, "package_create",
			      "{\"name\":\"purge-me\",\"owner_org\":\"mz\"}", &ans),
			 200);
	json_decref(ans);
}

/* package_update without an uploaded resource: its file and its table go with it. */
static void update_drops_resources(void **state)
{
	(void)state;
	json_t *ans = NULL;
	struct th_resp r = {0};
	assert_int_equal(call("POST", mz, "package_create",
			      "{\"name\":\"drop-a-resource\",\"owner_org\":\"mz\"}", &ans),
			 200);
	char pkg[128], rid[128], url[512], body[300];
	snprintf(pkg, sizeof pkg, "%s", res_str(ans, "id"));
	json_decref(ans);
	const char *fields[] = {"package_id", pkg, NULL};
	assert_int_equal(
		post_file(mz, "resource_create", fields, "d.csv", CSV1, strlen(CSV1), &ans), 200);
	snprintf(rid, sizeof rid, "%s", res_str(ans, "id"));
	snprintf(url, sizeof url, "%s", res_str(ans, "url"));
	json_decref(ans);
	wait_load();
	assert_true(total_rows(rid) > 0);
	/* the whole dataset again, with no resources: CKAN drops the ones left out */
	assert_int_equal(call("POST", mz, "package_update",
			      "{\"id\":\"drop-a-resource\",\"name\":\"drop-a-resource\","
			      "\"owner_org\":\"mz\",\"resources\":[]}",
			      &ans),
			 200);
	assert_int_equal(
		json_array_size(json_object_get(json_object_get(ans, "result"), "resources")), 0);
	json_decref(ans);
	assert_int_equal(download(NULL, url, &r), 404);
	th_resp_release(&r);
	assert_int_equal(files_of(rid), 0);
	snprintf(body, sizeof body, "{\"resource_id\":\"%s\"}", rid);
	assert_int_equal(call("POST", NULL, "datastore_search", body, &ans), 404);
	json_decref(ans);
}

/*
 * ckanapi dump then load: package_show's output, absolute links included,
 * sent back as package_update keeps the uploaded file; status_show and the
 * envelope's help name the site; another site's link to the same path is a
 * link, not the file.
 */
static void links_round_trip(void **state)
{
	(void)state;
	json_t *ans = NULL;
	struct th_resp r = {0};
	char *site = th_url(th_shared, "");
	assert_int_equal(call("POST", mz, "package_create",
			      "{\"name\":\"round-trip\",\"owner_org\":\"mz\"}", &ans),
			 200);
	char help[300];
	snprintf(help, sizeof help, "%s/api/3/action/help_show?name=package_create", site);
	assert_string_equal(json_string_value(json_object_get(ans, "help")), help);
	char pkg[128], rid[128], url[512];
	snprintf(pkg, sizeof pkg, "%s", res_str(ans, "id"));
	json_decref(ans);
	const char *fields[] = {"package_id", pkg, NULL};
	assert_int_equal(
		post_file(mz, "resource_create", fields, "t.csv", CSV1, strlen(CSV1), &ans), 200);
	snprintf(rid, sizeof rid, "%s", res_str(ans, "id"));
	snprintf(url, sizeof url, "%s", res_str(ans, "url"));
	json_decref(ans);
	assert_int_equal(strncmp(url, site, strlen(site)), 0);
	wait_load();
	/* the dump, as it is, loaded back */
	assert_int_equal(call("GET", NULL, "package_show?id=round-trip", NULL, &ans), 200);
	json_t *shown = json_incref(json_object_get(ans, "result"));
	json_decref(ans);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(shown, "resources"), 0), "url")),
			    url);
	char *body = json_dumps(shown, JSON_COMPACT);
	assert_int_equal(call("POST", mz, "package_update", body, &ans), 200);
	free(body);
	json_t *res0 =
		json_array_get(json_object_get(json_object_get(ans, "result"), "resources"), 0);
	assert_string_equal(json_string_value(json_object_get(res0, "url_type")), "upload");
	assert_string_equal(json_string_value(json_object_get(res0, "url")), url);
	json_decref(ans);
	assert_int_equal(files_of(rid), 1);
	assert_int_equal(download(NULL, url, &r), 200);
	th_resp_release(&r);
	/* DCAT names the file by its absolute link */
	char want[600];
	snprintf(want, sizeof want, "<%s>", url);
	assert_int_equal(download(NULL, "/dataset/round-trip.ttl", &r), 200);
	assert_non_null(strstr(r.body, want));
	th_resp_release(&r);
	/* resource_update with the shown url keeps it too */
	char rbody[1024];
	snprintf(rbody, sizeof rbody, "{\"id\":\"%s\",\"url\":\"%s\",\"name\":\"t2\"}", rid, url);
	assert_int_equal(call("POST", mz, "resource_update", rbody, &ans), 200);
	assert_string_equal(res_str(ans, "url_type"), "upload");
	assert_string_equal(res_str(ans, "url"), url);
	json_decref(ans);
	assert_int_equal(files_of(rid), 1);
	/* the same path on another site is a link: the file goes */
	snprintf(rbody, sizeof rbody, "{\"id\":\"%s\",\"url\":\"https://elsewhere.example%s\"}",
		 rid, url + strlen(site));
	assert_int_equal(call("POST", mz, "resource_update", rbody, &ans), 200);
	assert_string_equal(res_str(ans, "url_type"), "link");
	json_decref(ans);
	assert_int_equal(files_of(rid), 0);
	/* status_show names the site */
	assert_int_equal(call("GET", NULL, "status_show", NULL, &ans), 200);
	assert_string_equal(res_str(ans, "site_url"), site);
	json_decref(ans);
	json_decref(shown);
	free(site);
}

static void ckan_gaps(void **state)
{
	(void)state;
	json_t *ans = NULL;
	static const char *const writes[] = {
		"package_create",  "package_update",   "package_patch",    "package_delete",
		"dataset_purge",   "resource_create",  "resource_update",  "resource_patch",
		"resource_delete", "datastore_create", "datastore_upsert", "datastore_delete",
	};
	for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
		assert_int_equal(call("GET", mz, writes[i], NULL, &ans), 400);
		assert_string_equal(json_string_value(ans),
				    "Bad request: JSON Error: Invalid request. "
				    "Please use POST method for your request");
		json_decref(ans);
	}
	/* fl: only the fields asked for; unknown ones left out */
	assert_int_equal(
		call("GET", NULL, "package_search?q=*:*&rows=3&fl=name,title%20nope", NULL, &ans),
		200);
	json_t *first =
		json_array_get(json_object_get(json_object_get(ans, "result"), "results"), 0);
	assert_int_equal(json_object_size(first), 2);
	assert_non_null(json_object_get(first, "name"));
	assert_non_null(json_object_get(first, "title"));
	json_decref(ans);
	/* include_drafts is accepted */
	assert_int_equal(call("GET", NULL, "package_search?include_drafts=true&rows=0", NULL, &ans),
			 200);
	json_decref(ans);
	/* tag_show: a demo tag, and one nobody has */
	assert_int_equal(call("GET", NULL, "tag_show?id=%E5%85%BB%E8%80%81", NULL, &ans), 200);
	assert_string_equal(res_str(ans, "name"), "养老");
	assert_null(json_object_get(json_object_get(ans, "result"), "packages"));
	json_decref(ans);
	assert_int_equal(call("GET", NULL, "tag_show?id=no-such-tag", NULL, &ans), 404);
	json_decref(ans);
	assert_int_equal(call("GET", NULL, "tag_show", NULL, &ans), 409);
	json_decref(ans);
	/* the closed dataset's tag is not shown */
	assert_int_equal(call("GET", NULL, "tag_show?id=%E5%8A%9E%E4%BB%B6", NULL, &ans), 404);
	json_decref(ans);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(upload_download_replace),
		cmocka_unit_test(refusals_store_nothing),
		cmocka_unit_test(tiers_of_downloads),
		cmocka_unit_test(purge),
		cmocka_unit_test(update_drops_resources),
		cmocka_unit_test(links_round_trip),
		cmocka_unit_test(ckan_gaps),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
