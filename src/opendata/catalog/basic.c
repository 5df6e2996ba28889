/*
 * basic.c - the first slice of CKAN's actions over the catalogue
 * (catalog.h): status_show, site_read, license_list (whose list the
 * staff's form also offers), package_list, package_show and
 * package_delete. The rest are in actions.c.
 */
#include "opendata/catalog/catalog_int.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/date.h"
#include "node/env.h"
#include "core/str.h"
#include "web/page.h"

#define LIST_MAX 1000 /* cap on package_list's limit */

const char *const dg_ckan_licenses[][2] = {
	{"cc-by", "Creative Commons Attribution"},
	{"cc-by-sa", "Creative Commons Attribution Share-Alike"},
	{"cc-zero", "Creative Commons CCZero"},
	{"cc-nc", "Creative Commons Non-Commercial (Any)"},
	{"odc-by", "Open Data Commons Attribution License"},
	{"odc-odbl", "Open Data Commons Open Database License (ODbL)"},
	{"odc-pddl", "Open Data Commons Public Domain Dedication and License (PDDL)"},
	{"other-open", "Other (Open)"},
	{"other-pd", "Other (Public Domain)"},
	{"other-at", "Other (Attribution)"},
	{"other-nc", "Other (Non-Commercial)"},
	{"other-closed", "Other (Not Open)"},
	{"notspecified", "License not specified"},
};
const size_t dg_ckan_nlicenses = sizeof dg_ckan_licenses / sizeof dg_ckan_licenses[0];

static const char *param_str(json_t *params, const char *key)
{
	return json_string_value(json_object_get(params, key));
}

/* An integer parameter given as a JSON number or a decimal string; EINVAL otherwise. */
static dg_rc param_int(json_t *params, const char *key, int64_t dflt, int64_t *out)
{
	json_t *v = json_object_get(params, key);
	*out = dflt;
	if (!v)
		return DG_OK;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return *out < 0 ? DG_EINVAL : DG_OK;
	}
	if (json_is_string(v) && dg_str_to_i64(dg_str_of(json_string_value(v)), out) == DG_OK &&
	    *out >= 0)
		return DG_OK;
	return DG_EINVAL;
}

DG_CKAN_ACTION_FN(status_show)
{
	(void)params, (void)err;
	char site[DG_SITE_URL_MAX];
	*res = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s]}", "ckan_version", "2.10.4", "site_title",
			 "dgov", "site_description", "dgov open data", "site_url",
			 dg_config_site_url(r->env->cfg, site), "locale_default", "zh_Hans_CN",
			 "extensions", "datastore");
	return DG_OK;
}

DG_CKAN_ACTION_FN(site_read)
{
	(void)r, (void)params, (void)err;
	*res = json_true();
	return DG_OK;
}

DG_CKAN_ACTION_FN(license_list)
{
	(void)r, (void)params, (void)err;
	json_t *list = json_array();
	for (size_t i = 0; i < dg_ckan_nlicenses; i++) {
		const char *const *lic = dg_ckan_licenses[i];
		bool open =
			strcmp(lic[0], "other-closed") != 0 && strcmp(lic[0], "notspecified") != 0;
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:b, s:b, s:b}", "id",
						      lic[0], "title", lic[1], "status", "active",
						      "od_conformance", open, "osd_conformance",
						      open, "domain_data", 1));
	}
	*res = list;
	return DG_OK;
}

DG_CKAN_ACTION_FN(package_list)
{
	int64_t limit = 0, offset = 0;
	struct dg_db *db = NULL;
	if (param_int(params, "limit", LIST_MAX, &limit) != DG_OK)
		return dg_err_field(err, DG_EINVAL, "limit", "Must be a natural number");
	if (param_int(params, "offset", 0, &offset) != DG_OK)
		return dg_err_field(err, DG_EINVAL, "offset", "Must be a natural number");
	if (limit > LIST_MAX)
		limit = LIST_MAX;
	/* dgov's own: the names after this one (the Link header's next page) */
	const char *after = param_str(params, "after");
	if (json_object_get(params, "after") && (!after || strlen(after) > 1000))
		return dg_err_field(err, DG_EINVAL, "after", "Must be a dataset's name");
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_od_package_names(db, limit, offset, after ? after : "", res);
	/*
	 * A full page links the next by keyset (RFC 8288), so a client walking
	 * the list need not send an offset that the store steps over.
	 */
	size_t n = rc ? 0 : json_array_size(*res);
	if (n && (int64_t)n == limit) {
		const char *last = json_string_value(json_array_get(*res, n - 1));
		struct dg_buf link;
		dg_buf_init(&link, 4096);
		if (dg_buf_addf(&link, "</api/3/action/package_list?limit=%lld&after=",
				(long long)limit) == DG_OK &&
		    dg_buf_add_url(&link, last, strlen(last)) == DG_OK &&
		    dg_buf_adds(&link, ">; rel=\"next\"") == DG_OK)
			dg_reply_header(r, "Link", dg_buf_str(&link));
		dg_buf_release(&link);
	}
	return rc;
}

/*
 * A dataset the public may not see, for whoever may edit it (its
 * department's staff, administrators): private, closed and deleted ones too,
 * the last with state "deleted", as CKAN shows them to the organization's
 * editors. ENOTFOUND for anyone else.
 */
static dg_rc editor_show(struct dg_req *r, struct dg_db *db, const char *id, json_t **res)
{
	char *pkg_id = NULL, *dept = NULL;
	const char *mine = NULL;
	dg_rc rc = dg_od_package_any(db, id, r->arena, &pkg_id, &dept);
	if (!rc)
		rc = dg_od_writer(r, db, false, &mine);
	if (!rc && !dg_od_may_edit(mine, dept))
		rc = DG_ENOTFOUND;
	return rc ? rc : dg_od_package_read_all(db, pkg_id, res);
}

dg_rc dg_od_package_for(struct dg_req *r, struct dg_db *db, const char *id, json_t **res)
{
	dg_rc rc = dg_od_package_show(db, id, res);
	return rc == DG_ENOTFOUND ? editor_show(r, db, id, res) : rc;
}

DG_CKAN_ACTION_FN(package_show)
{
	struct dg_db *db = NULL;
	const char *id = param_str(params, "id");
	if (!id || !id[0])
		return dg_err_field(err, DG_EINVAL, "id", "Missing value");
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = dg_od_package_for(r, db, id, res);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, DG_ENOTFOUND, "Not found: Dataset not found");
	return rc;
}

/*
 * May the requester write the dataset? Only over an API token (a session
 * cookie on a CSRF-free route would let other sites write), as staff of the
 * owning department or an administrator. A closed dataset is "not found" to
 * anyone who may not write it, as everywhere else.
 */
static dg_rc may_write(struct dg_req *r, struct dg_db *db, const char *id, struct dg_err *err)
{
	char *dept = NULL, *tier = NULL;
	const char *mine = NULL;
	dg_rc rc = dg_od_package_owner(db, id, r->arena, &dept, &tier);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, rc, "Not found: Dataset not found");
	if (!rc)
		rc = dg_od_writer(r, db, true, &mine);
	if (rc)
		return rc;
	if (dg_od_may_edit(mine, dept))
		return DG_OK;
	if (strcmp(tier, "closed") == 0)
		return dg_err_set(err, DG_ENOTFOUND, "Not found: Dataset not found");
	return dg_err_set(err, DG_EDENIED,
			  "Access denied: User %s not authorized to edit package %s",
			  r->user ? r->user->username : "anonymous", id);
}

DG_CKAN_ACTION_FN(package_delete)
{
	struct dg_db *db = NULL;
	const char *id = param_str(params, "id");
	if (!id || !id[0])
		return dg_err_field(err, DG_EINVAL, "id", "Missing value");
	dg_rc rc = dg_req_db(r, &db);
	if (!rc)
		rc = may_write(r, db, id, err);
	if (!rc)
		rc = dg_od_package_delete(db, id, dg_now_ms());
	if (rc == DG_ENOTFOUND && !err->msg[0])
		dg_err_set(err, rc, "Not found: Dataset not found");
	if (!rc)
		*res = json_null();
	return rc;
}
