/*
 * demo.c - rows for the demo region's twelve datasets (datastore.h's
 * dg_datastore_demo_load): each is generated deterministically into a CSV
 * under <data>/demo and loaded by a queued "datastore.load" job, so `dgov
 * demo` stays quick and the large table (market entities, big_rows rows)
 * loads in the background with its job's progress. Nothing here is real:
 * names, codes and figures come from a fixed pseudo-random sequence. A
 * small table given whole (the pages' demo) is made at once instead, by
 * dg_datastore_demo_table.
 */
#include "opendata/datastore/datastore_int.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "opendata/datastore/fts.h"

#define NDIST 10
static const char *const district[NDIST] = {"海曙区", "江北区", "北仑区", "镇海区", "鄞州区",
					    "奉化区", "余姚市", "慈溪市", "宁海县", "象山县"};
static const char *const surname[] = {"华", "安", "康", "宏", "瑞", "恒", "信", "达", "明", "泰"};
static const char *const trade[] = {"贸易", "科技", "餐饮", "建材", "物流",
				    "服装", "电子", "文化", "农业", "医药"};

/* A fixed sequence (xorshift64*), seeded per dataset. */
struct rnd {
	uint64_t s;
};

static uint64_t next(struct rnd *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 2685821657736338717ull;
}

static unsigned pick(struct rnd *r, unsigned n)
{
	return (unsigned)(next(r) % n);
}

#define PICK(r, a) (a)[pick(r, sizeof(a) / sizeof((a)[0]))]

/* "2024-05-17": a day of year y (no day past the 28th, always valid). */
static void day(struct rnd *r, int y, char out[11])
{
	snprintf(out, 11, "%04d-%02u-%02u", y, pick(r, 12) + 1, pick(r, 28) + 1);
}

/* One dataset's header and its i-th row (i from 0). */
static void row(FILE *fp, size_t set, struct rnd *r, int64_t i)
{
	char d[11];
	const char *dist = district[i % NDIST];
	switch (set) {
	case 0: /* minimum-living-allowance: a district's month */
		fprintf(fp, "%s,2024-%02d,%u,%u,%u.%02u\n", dist, (int)(i / NDIST) % 12 + 1,
			800 + pick(r, 1200), 1500 + pick(r, 2500), 600000 + pick(r, 900000),
			pick(r, 100));
		break;
	case 1: /* elderly-care-institutions */
		fprintf(fp, "%s%s颐养院,%s,%u,%s,0574-%08u,%d-%02u-01\n", PICK(r, surname),
			PICK(r, surname), dist, 40 + pick(r, 460), pick(r, 3) ? "民办" : "公办",
			pick(r, 100000000), 1995 + (int)pick(r, 29), pick(r, 12) + 1);
		break;
	case 2: /* marriage-registrations: district and year */
		fprintf(fp, "%d,%s,%u,%u\n", 2015 + (int)(i / NDIST), dist, 2000 + pick(r, 4000),
			600 + pick(r, 1500));
		break;
	case 3: /* employment-statistics */
		fprintf(fp, "2024-%02d,%s,%u,%u\n", (int)(i / NDIST) % 12 + 1, dist,
			500 + pick(r, 3000), 100 + pick(r, 900));
		break;
	case 4: /* social-insurance-coverage */
		fprintf(fp, "%dQ%d,%s,%u,%u,%u\n", 2020 + (int)(i / (NDIST * 4)),
			(int)(i / NDIST) % 4 + 1, dist, 200000 + pick(r, 300000),
			400000 + pick(r, 500000), 100000 + pick(r, 200000));
		break;
	case 5: /* market-entities: the large one */
		day(r, 1990 + (int)pick(r, 35), d);
		fprintf(fp, "91330200MA%08" PRId64 ",%s%s%s有限公司,%s,%s,%s,%u.%u,%s\n", i,
			PICK(r, surname), PICK(r, surname), PICK(r, trade),
			pick(r, 5) ? "有限责任公司" : "个体工商户", dist, d, 1 + pick(r, 5000),
			pick(r, 10), pick(r, 20) ? "存续" : "注销");
		break;
	case 6: /* food-safety-inspections */
		day(r, 2024, d);
		fprintf(fp, "SC2024%06" PRId64 ",%s,%s,%s,%s\n", i + 1, d,
			(const char *[]){"粮食加工品", "乳制品", "肉制品", "蔬菜",
					 "饮料"}[pick(r, 5)],
			dist, pick(r, 30) ? "合格" : "不合格");
		break;
	case 7: /* medical-institutions */
		fprintf(fp, "%08" PRId64 ",%s%s医院,%s,%s,%u\n", 33020000 + i, dist,
			PICK(r, surname), (const char *[]){"一级", "二级", "三级"}[pick(r, 3)],
			dist, 20 + pick(r, 1500));
		break;
	case 8: /* household-registration: yearly change may be negative */
		fprintf(fp, "%d,%s,%u,%u,%d\n", 2015 + (int)(i / NDIST), dist,
			150000 + pick(r, 200000), 400000 + pick(r, 600000),
			(int)pick(r, 12000) - 4000);
		break;
	case 9: /* building-permits */
		day(r, 2024, d);
		fprintf(fp, "330200202400%05" PRId64 ",%s%s项目,%s,%u.%u,%s\n", i + 1, dist,
			PICK(r, trade), dist, 1000 + pick(r, 90000), pick(r, 10), d);
		break;
	case 10: /* designated-pharmacies: codes with leading zeros stay text */
		fprintf(fp, "%06" PRId64 ",%s%s大药房,%s,0574-%08u\n", i + 1, PICK(r, surname),
			PICK(r, surname), dist, pick(r, 100000000));
		break;
	default: /* sj-internal-case-ledger */
		day(r, 2024, d);
		fprintf(fp, "%s,%s,%u,%u\n", d,
			(const char *[]){"户籍迁入", "营业执照", "社保转移",
					 "低保申请"}[pick(r, 4)],
			pick(r, 200), pick(r, 5));
	}
}

/*
 * The datasets in catalog/catalog.c's demo order: header, each column's
 * Chinese and English label ("zh|en" per column, ';' between, in the
 * header's order) and rows (0: big_rows).
 */
static const struct {
	const char *name, *header, *labels;
	int64_t rows;
} sets[] = {
	{"minimum-living-allowance", "district,month,households,persons,amount_yuan",
	 "区县|District;月份|Month;户数|Households;人数|Persons;发放金额（元）|Amount (yuan)", 120},
	{"elderly-care-institutions", "name,district,beds,ownership,phone,opened",
	 "机构名称|Name;区县|District;床位数|Beds;性质|Ownership;联系电话|Phone;开业时间|Opened",
	 240},
	{"marriage-registrations", "year,district,marriages,divorces",
	 "年份|Year;区县|District;结婚登记|Marriages;离婚登记|Divorces", 100},
	{"employment-statistics", "month,district,new_jobs,reemployed",
	 "月份|Month;区县|District;城镇新增就业|New jobs;失业人员再就业|Re-employed", 120},
	{"social-insurance-coverage", "quarter,district,pension,medical,unemployment",
	 "季度|Quarter;区县|District;养老保险|Pension;医疗保险|Medical;失业保险|Unemployment", 200},
	{"market-entities", "uscc,name,kind,district,registered,capital_wan,status",
	 "统一社会信用代码|Unified social credit code;名称|Name;类型|Kind;区县|District;"
	 "成立日期|Registered;注册资本（万元）|Capital (10,000 yuan);登记状态|Status",
	 0},
	{"food-safety-inspections", "sample_no,sampled,category,district,result",
	 "样品编号|Sample no.;抽样日期|Sampled;食品类别|Category;区县|District;检验结论|Result",
	 5000},
	{"medical-institutions", "code,name,level,district,beds",
	 "机构代码|Code;机构名称|Name;等级|Level;区县|District;床位数|Beds", 600},
	{"household-registration", "year,district,households,population,change",
	 "年份|Year;区县|District;户数|Households;户籍人口|Population;比上年增减|Change", 100},
	{"building-permits", "permit_no,project,district,area_m2,issued",
	 "许可证编号|Permit no.;项目名称|Project;区县|District;建筑面积（平方米）|Area (m²);"
	 "发证日期|Issued",
	 1500},
	{"designated-pharmacies", "code,name,district,phone",
	 "定点编号|Code;药店名称|Name;区县|District;联系电话|Phone", 800},
	{"sj-internal-case-ledger", "day,service,cases,overdue",
	 "日期|Day;事项|Service;办件量|Cases;超期件|Overdue", 3000},
};

/* A set's labels as the load's "info" option: {"col": {"label", "label_en"}}. */
static json_t *labels_of(size_t set)
{
	json_t *info = json_object();
	const char *h = sets[set].header, *l = sets[set].labels;
	while (*h && *l) {
		size_t hn = strcspn(h, ","), ln = strcspn(l, ";");
		const char *bar = memchr(l, '|', ln);
		char id[DG_DS_NAME_MAX];
		snprintf(id, sizeof id, "%.*s", (int)hn, h);
		if (bar)
			json_object_set_new(info, id,
					    json_pack("{s:s%, s:s%}", "label", l, (size_t)(bar - l),
						      "label_en", bar + 1,
						      (size_t)(l + ln - bar - 1)));
		h += hn + (h[hn] == ',');
		l += ln + (l[ln] == ';');
	}
	return info;
}

/*
 * Write a set beside its path and rename it into place: a load of the file
 * queued by an earlier run may still be reading it, and must see the whole
 * old file or the whole new one, never one cut short by a rewrite.
 */
static dg_rc write_set(const char *path, size_t set, int64_t rows)
{
	char tmp[PATH_MAX + 140];
	snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
	FILE *fp = fopen(tmp, "w");
	if (!fp)
		return DG_EIO;
	struct rnd r = {0x9e3779b97f4a7c15ull + set};
	fprintf(fp, "%s\n", sets[set].header);
	for (int64_t i = 0; i < rows; i++)
		row(fp, set, &r, i);
	if (fclose(fp) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return DG_EIO;
	}
	return DG_OK;
}

dg_rc dg_datastore_demo_load(struct dg_db *db, const char *data_dir, int64_t big_rows,
			     struct dg_err *err)
{
	char rel[1024], dir[PATH_MAX], path[PATH_MAX + 100], rid[40];
	snprintf(rel, sizeof rel, "%s/demo", data_dir);
	if (mkdir(data_dir, 0700) != 0 && errno != EEXIST)
		return dg_err_set(err, DG_EIO, "cannot create %s", data_dir);
	if (mkdir(rel, 0700) != 0 && errno != EEXIST)
		return dg_err_set(err, DG_EIO, "cannot create %s", rel);
	/* the job may run in a server started elsewhere: an absolute path */
	if (!realpath(rel, dir))
		return dg_err_set(err, DG_EIO, "cannot find %s", rel);
	for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
		int64_t id = 0;
		int64_t rows = sets[i].rows ? sets[i].rows : big_rows;
		snprintf(path, sizeof path, "%s/%s.csv", dir, sets[i].name);
		if (write_set(path, i, rows) != DG_OK)
			return dg_err_set(err, DG_EIO, "cannot write %s", path);
		/* catalog/catalog.c's demo resource ids: the i-th dataset's one resource */
		snprintf(rid, sizeof rid, "00000000-0000-4000-9000-%012zu", i + 1);
		json_t *opts = json_pack("{s:o}", "info", labels_of(i));
		dg_rc rc = dg_datastore_load_enqueue(db, rid, path, opts, 0, &id);
		json_decref(opts);
		if (rc != DG_OK)
			return dg_err_set(err, rc, "the load of %s could not be queued",
					  sets[i].name);
	}
	return DG_OK;
}

dg_rc dg_datastore_demo_table(struct dg_db *db, const char *resource_id, size_t ncols,
			      char (*names)[DG_DS_NAME_MAX], const enum dg_ds_type *types,
			      const char *const *vals, size_t nrows)
{
	char table[DG_DS_TABLE_MAX], old[DG_DS_TABLE_MAX];
	dg_ds_table_name(resource_id, 1, table);
	json_t *fields = json_array();
	for (size_t i = 0; i < ncols; i++)
		json_array_append_new(fields, json_pack("{s:s, s:s}", "id", names[i], "type",
							dg_ds_type_name(types[i])));
	struct dg_ds_table t = {.fields = fields};
	size_t n = 0;
	struct dg_ds_col *cols = dg_ds_cols(&t, &n);
	int64_t after = 0;
	dg_rc rc = dg_ds_sql_create(db, table, ncols, names, types);
	if (!rc)
		rc = dg_ds_fts_create(db, table);
	if (!rc)
		rc = dg_ds_sql_insert(db, table, ncols, names, types, vals, nrows);
	if (!rc)
		rc = dg_ds_fts_fill(db, table, cols, n, &after);
	if (!rc)
		rc = dg_ds_sql_switch(db, resource_id, table, fields, (int64_t)nrows, NULL, old);
	free(cols);
	json_decref(fields);
	return rc;
}
