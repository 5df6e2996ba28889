/*
 * catalog.c - the catalogue's face to the module (catalog.h): its routes
 * (the DCAT exports and the resources' file downloads) and the demo
 * region's datasets. Its reads are in sql.c, its CKAN actions in basic.c
 * and actions.c, which api/ckan.c's table calls.
 */
#include "opendata/catalog/catalog_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/date.h"

static const struct dg_route routes[] = {
	{"GET", "/dataset/{file}", dg_dcat_dataset, DG_ROLE_ANY, 0},
	{"GET", "/dataset/{pkg}/resource/{rid}/download/{filename}", dg_od_file_download,
	 DG_ROLE_ANY, 0},
	{"GET", "/catalog.ttl", dg_dcat_catalog_ttl, DG_ROLE_ANY, 0},
	{"GET", "/catalog.jsonld", dg_dcat_catalog_jsonld, DG_ROLE_ANY, 0},
	{"GET", "/catalog.rdf", dg_dcat_catalog_rdf, DG_ROLE_ANY, 0},
	{"GET", "/catalog", dg_dcat_catalog, DG_ROLE_ANY, 0},
	{"GET", "/organization/{name}", dg_dcat_organization, DG_ROLE_ANY, 0},
	{"GET", "/group/{name}", dg_dcat_group, DG_ROLE_ANY, 0},
};

const struct dg_route *dg_od_catalog_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}

/* The demo datasets: name, title, department, theme, frequency, tier, tag, format. */
static const char *const demo[][8] = {
	{"minimum-living-allowance", "城乡最低生活保障对象统计", "mz", "社会救助", "monthly",
	 "open", "低保", "CSV"},
	{"elderly-care-institutions", "养老机构名录", "mz", "养老服务", "quarterly", "open", "养老",
	 "CSV"},
	{"marriage-registrations", "婚姻登记数量统计", "mz", "民政", "yearly", "open", "婚姻",
	 "CSV"},
	{"employment-statistics", "城镇新增就业人数", "rs", "就业创业", "monthly", "open", "就业",
	 "CSV"},
	{"social-insurance-coverage", "社会保险参保人数", "rs", "社会保障", "quarterly", "open",
	 "社保", "CSV"},
	{"market-entities", "市场主体登记统计", "sc", "市场监管", "monthly", "open", "企业", "CSV"},
	{"food-safety-inspections", "食品安全抽检结果", "sc", "市场监管", "monthly", "conditional",
	 "食品", "CSV"},
	{"medical-institutions", "医疗卫生机构名录", "wj", "卫生健康", "yearly", "open", "医疗",
	 "CSV"},
	{"household-registration", "户籍人口统计", "ga", "公共安全", "yearly", "open", "户籍",
	 "CSV"},
	{"building-permits", "建筑工程施工许可", "zj", "城乡建设", "monthly", "open", "建设",
	 "JSON"},
	{"designated-pharmacies", "医保定点药店名录", "yb", "医疗保障", "quarterly", "open", "医保",
	 "CSV"},
	{"sj-internal-case-ledger", "内部办件台账", "sj", "政务服务", "daily", "closed", "办件",
	 "CSV"},
};

/* The demo datasets' tag in English (tags_translated, as ckanext-fluent keeps it), in demo's order.
 */
static const char *const demo_tag_en[] = {
	"minimum living allowance",
	"elderly care",
	"marriage",
	"employment",
	"social insurance",
	"enterprises",
	"food",
	"medical care",
	"household registration",
	"construction",
	"medical insurance",
	"cases",
};

/* The demo datasets' English title and description (ckanext-fluent's fields), in demo's order. */
static const char *const demo_en[][2] = {
	{"Recipients of the minimum living allowance",
	 "Monthly counts of urban and rural residents receiving the minimum living allowance "
	 "(dibao), by district."},
	{"Elderly care institutions",
	 "A list of the region's elderly care institutions, with their addresses and beds."},
	{"Marriage registrations", "Yearly counts of marriage and divorce registrations."},
	{"New urban jobs", "Monthly counts of new jobs created in towns and cities, by district."},
	{"People covered by social insurance",
	 "Quarterly counts of people insured, by kind of social insurance."},
	{"Registered market entities", "Monthly counts of companies and sole traders registered."},
	{"Food safety sampling results",
	 "Results of food safety sampling inspections (conditional: apply to use)."},
	{"Medical and health institutions",
	 "A list of hospitals, clinics and other medical institutions."},
	{"Registered population",
	 "Yearly counts of the registered (hukou) population, by district."},
	{"Construction permits", "Construction permits issued, month by month."},
	{"Pharmacies in the medical insurance scheme",
	 "A list of pharmacies designated for medical insurance."},
	{"Internal case ledger", "The department's internal ledger of cases (closed data)."},
};

/* A fluent field (t, taken) as the free extra key holding its JSON text, as actions.c keeps it. */
static dg_rc fluent_extra(struct dg_db *db, const char *id, const char *key, json_t *t)
{
	char *text = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS);
	dg_rc rc = dg_od_insert_extra(db, id, key, text);
	free(text);
	json_decref(t);
	return rc;
}

static dg_rc seed_one(struct dg_db *db, size_t i, int64_t now)
{
	char id[40], rid[40], url[160];
	snprintf(id, sizeof id, "00000000-0000-4000-8000-%012zu", i + 1);
	snprintf(rid, sizeof rid, "00000000-0000-4000-9000-%012zu", i + 1);
	/* the rows demo.c loads, as dgov's own dump serves them (made absolute for clients) */
	snprintf(url, sizeof url, "/datastore/dump/%s%s", rid,
		 demo[i][7][0] == 'C' ? "" : "?format=json");
	struct dg_od_package p = {
		.id = id,
		.name = demo[i][0],
		.title = demo[i][1],
		.notes = demo[i][1],
		.license_id = "cc-by",
		.author = demo[i][2],
		.dept = demo[i][2],
		.theme = demo[i][3],
		.frequency = demo[i][4],
		.region = "demo",
		.tier = demo[i][5],
	};
	json_t *before = json_object(); /* a new dataset gave nothing */
	dg_rc rc = dg_od_insert_package(db, &p, now);
	if (!rc)
		rc = dg_od_insert_resource(db, rid, id, demo[i][1], demo[i][7], url, 0, now);
	if (!rc)
		rc = dg_od_insert_tag(db, id, demo[i][6]);
	for (int k = 0; !rc && k < 2; k++)
		rc = fluent_extra(
			db, id, k ? "notes_translated" : "title_translated",
			json_pack("{s:s, s:s}", "en", demo_en[i][k], "zh_Hans_CN", demo[i][1]));
	if (!rc)
		rc = fluent_extra(db, id, "tags_translated",
				  json_pack("{s:[s], s:[s]}", "en", demo_tag_en[i], "zh_Hans_CN",
					    demo[i][6]));
	if (!rc)
		rc = dg_od_index_package(db, id);
	if (!rc) {
		rc = dg_od_facets_follow(db, id, before);
		before = NULL;
	}
	json_decref(before);
	return rc;
}

dg_rc dg_od_catalog_demo_seed(struct dg_db *db, struct dg_err *err)
{
	int64_t now = dg_now_ms();
	for (size_t i = 0; i < sizeof(demo) / sizeof(demo[0]); i++) {
		dg_rc rc = seed_one(db, i, now);
		if (rc)
			return dg_err_set(err, rc, "open-data demo dataset %s", demo[i][0]);
	}
	return DG_OK;
}
