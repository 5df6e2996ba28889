/*
 * generate.c - `dgov demo --datasets N`: a large, realistic data catalogue
 * written straight into the store for benchmarks and for trying the pages
 * at the size the report counts (190,000 datasets). Each dataset is made
 * from its number alone by a small PRNG (xorshift64*), so the four bulk
 * passes (datasets, resources, tags, the full-text index: a copy may not
 * share its connection with another statement) regenerate the same
 * dataset each time instead of holding N of them in memory.
 *
 * What is realistic about it: Chinese titles of the shapes the provincial
 * portals use (a district, a subject, a kind of table, a year), notes of a
 * few sentences with an English word now and then, the demo's departments
 * as organisations, twenty groups, tags drawn from the subject's own words,
 * one to four resources in the formats portals publish, dates spread over
 * five years, most datasets open, some conditional, closed or private.
 */
#include "opendata/catalog/catalog_int.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/log.h"
#include "search/search.h"

static const char *const districts[] = {
	"示范市",   "东城区", "西城区", "南湖区", "北山区",   "高新区", "经开区", "滨江区",
	"临港新区", "青山县", "白水县", "云岭镇", "石桥街道", "全市",   "全省",
};
/* a subject, its group and two tags of its own */
static const char *const subjects[][4] = {
	{"最低生活保障", "社会救助", "低保", "救助"},
	{"特困人员供养", "社会救助", "特困", "救助"},
	{"养老机构", "养老服务", "养老", "机构"},
	{"居家养老服务", "养老服务", "养老", "居家"},
	{"婚姻登记", "民政", "婚姻", "登记"},
	{"社会组织", "民政", "社会组织", "登记"},
	{"城镇新增就业", "就业创业", "就业", "统计"},
	{"职业技能培训", "就业创业", "培训", "技能"},
	{"社会保险参保", "社会保障", "社保", "参保"},
	{"养老保险待遇", "社会保障", "养老金", "社保"},
	{"市场主体登记", "市场监管", "企业", "登记"},
	{"食品安全抽检", "市场监管", "食品", "抽检"},
	{"医疗机构", "卫生健康", "医疗", "机构"},
	{"传染病监测", "卫生健康", "疾控", "监测"},
	{"户籍人口", "公共安全", "户籍", "人口"},
	{"交通事故", "公共安全", "交通", "事故"},
	{"建筑工程施工许可", "城乡建设", "建设", "许可"},
	{"保障性住房", "城乡建设", "住房", "保障"},
	{"医保定点药店", "医疗保障", "医保", "药店"},
	{"医保基金结算", "医疗保障", "医保", "结算"},
	{"空气质量监测", "生态环境", "空气", "监测"},
	{"水质自动监测", "生态环境", "水质", "监测"},
	{"公交线路站点", "交通运输", "公交", "线路"},
	{"道路运输许可", "交通运输", "运输", "许可"},
	{"中小学校名录", "教育文化", "教育", "学校"},
	{"公共图书馆", "教育文化", "图书馆", "文化"},
	{"农产品价格", "农业农村", "农业", "价格"},
	{"高标准农田", "农业农村", "农田", "建设"},
	{"政府采购公告", "财税金融", "采购", "公告"},
	{"财政预算执行", "财税金融", "财政", "预算"},
	{"旅游景区", "文化旅游", "旅游", "景区"},
	{"气象观测", "气象服务", "气象", "观测"},
	{"政务服务事项", "政务服务", "政务", "事项"},
	{"12345热线工单", "政务服务", "热线", "工单"},
	{"专利授权", "科技创新", "专利", "科技"},
	{"高新技术企业", "科技创新", "科技", "企业"},
	{"消防安全重点单位", "应急管理", "消防", "安全"},
	{"自然灾害救助", "应急管理", "灾害", "救助"},
	{"统计年鉴", "综合统计", "统计", "年鉴"},
	{"人口普查", "综合统计", "人口", "普查"},
};
static const char *const kinds[] = {"统计", "名录", "信息", "数据", "目录", "清单",
				    "情况", "公示", "汇总", "明细", "台账", "分布"};
static const char *const english[] = {"open data", "statistics", "registry", "monthly report",
				      "API",       "geojson",    "quality",  "public service"};
static const char *const formats[][2] = {{"CSV", "csv"},        {"XLSX", "xlsx"}, {"JSON", "json"},
					 {"XML", "xml"},        {"PDF", "pdf"},   {"API", "api"},
					 {"GeoJSON", "geojson"}};
static const char *const licenses[] = {"cc-by",  "cc-by",      "cc-by",       "cc-by-sa",
				       "odc-by", "other-open", "notspecified"};
static const char *const freqs[][2] = {{"daily", "每日"},   {"monthly", "每月"},
				       {"monthly", "每月"}, {"quarterly", "每季度"},
				       {"yearly", "每年"},  {"irregular", "不定期"}};
static const char *const depts[] = {"mz", "rs", "sc", "wj", "ga", "zj", "yb", "sj"};

#define N_(a)   (sizeof(a) / sizeof((a)[0]))
#define MAX_RES 4
#define YEAR_MS (365LL * 86400000LL)

struct rng {
	uint64_t s;
};

static uint64_t next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 2685821657736338717ULL;
}

static size_t pick(struct rng *r, size_t n)
{
	return (size_t)(next(r) % n);
}

/* One generated dataset; its strings are its own buffers or constants. */
struct gen {
	char id[64], name[64], title[160], notes[600], doc[24], created[24], modified[24];
	const char *dept, *theme, *license, *freq, *freq_zh, *tier, *priv;
	const char *tags[3];
	size_t ntags;
	char res_id[MAX_RES][64], res_name[MAX_RES][200], res_url[MAX_RES][120];
	const char *res_format[MAX_RES];
	size_t nres;
	int64_t search_id;
};

static void gen_one(int64_t i, int64_t base_id, int64_t now, struct gen *g)
{
	struct rng r = {(uint64_t)i * 0x9E3779B97F4A7C15ULL + 1};
	for (int k = 0; k < 4; k++)
		next(&r);
	const char *const *sub = subjects[pick(&r, N_(subjects))];
	const char *dist = districts[pick(&r, N_(districts))];
	const char *kind = kinds[pick(&r, N_(kinds))];
	int year = 2019 + (int)pick(&r, 7);
	memset(g, 0, sizeof *g);
	g->search_id = base_id + i + 1;
	snprintf(g->doc, sizeof g->doc, "%lld", (long long)g->search_id);
	snprintf(g->id, sizeof g->id, "a0000000-0000-4000-8000-%012lld", (long long)i + 1);
	snprintf(g->name, sizeof g->name, "dataset-%07lld", (long long)i + 1);
	snprintf(g->title, sizeof g->title, "%s%s%s（%d年）", dist, sub[0], kind, year);
	const char *en = pick(&r, 4) == 0 ? english[pick(&r, N_(english))] : "";
	g->dept = depts[pick(&r, N_(depts))];
	size_t fq = pick(&r, N_(freqs));
	g->freq = freqs[fq][0];
	g->freq_zh = freqs[fq][1];
	snprintf(g->notes, sizeof g->notes,
		 "本数据集提供%s%d年%s%s，数据来源于相关部门业务系统，按%s更新。"
		 "字段包括名称、地址、类别和统计日期。%s",
		 dist, year, sub[0], kind, g->freq_zh, en);
	g->theme = sub[1];
	g->license = licenses[pick(&r, N_(licenses))];
	size_t t = pick(&r, 100);
	g->tier = t < 85 ? "open" : t < 95 ? "conditional" : "closed";
	if (t >= 95) /* a closed dataset's name starts with its organisation's (catalog_int.h) */
		snprintf(g->name, sizeof g->name, "%s-dataset-%07lld", g->dept, (long long)i + 1);
	g->priv = pick(&r, 100) < 3 ? "1" : "0";
	g->tags[g->ntags++] = sub[2];
	if (pick(&r, 3))
		g->tags[g->ntags++] = sub[3];
	if (pick(&r, 4) == 0 && strcmp(kind, sub[2]) != 0 && strcmp(kind, sub[3]) != 0)
		g->tags[g->ntags++] = kind;
	int64_t created = now - (int64_t)(next(&r) % (uint64_t)(5 * YEAR_MS));
	int64_t modified = created + (int64_t)(next(&r) % (uint64_t)(now - created + 1));
	snprintf(g->created, sizeof g->created, "%lld", (long long)created);
	snprintf(g->modified, sizeof g->modified, "%lld", (long long)modified);
	/* 1 to 4 resources, about 2.1 on average (400,000 for 190,000 datasets) */
	size_t u = pick(&r, 100);
	g->nres = u < 30 ? 1 : u < 75 ? 2 : u < 95 ? 3 : 4;
	for (size_t k = 0; k < g->nres; k++) {
		const char *const *f = formats[pick(&r, N_(formats))];
		g->res_format[k] = f[0];
		snprintf(g->res_id[k], sizeof g->res_id[k], "b%07lld-0000-4000-9000-%012zu",
			 (long long)i + 1, k);
		snprintf(g->res_name[k], sizeof g->res_name[k], "%s%s%s（%s）", sub[0], kind,
			 k ? "附表" : "", f[0]);
		snprintf(g->res_url[k], sizeof g->res_url[k],
			 "https://data.example.gov.cn/files/%s-%zu.%s", g->name, k, f[1]);
	}
}

enum pass { P_PACKAGES, P_RESOURCES, P_TAGS, P_INDEX };

static const char *const pkg_cols[] = {
	"id",
	"name",
	"title",
	"notes",
	"license_id",
	"author",
	"private",
	"metadata_created",
	"metadata_modified",
	"owner_dept",
	"theme",
	"frequency",
	"region",
	"tier",
	"search_id",
};
static const char *const res_cols[] = {"id",  "package_id", "name",    "description",   "format",
				       "url", "url_type",   "created", "last_modified", "position"};
static const char *const tag_cols[] = {"package_id", "name"};

/*
 * The current names of the organizations and groups that have one other
 * than their id (catalog/names.c), keyed "1 CODE" and "0 THEME", for the
 * search documents, which hold them as index.c's do.
 */
static dg_rc current_names(struct dg_db *db, json_t **out)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, "SELECT is_org, id, name FROM od_group_names WHERE current = 1",
			       DG_NOARGS, &rows);
	if (rc)
		return rc;
	json_t *m = json_object();
	char key[256];
	while ((rc = dg_rows_next(rows)) == DG_OK) {
		snprintf(key, sizeof key, "%lld %s", (long long)dg_rows_int(rows, 0),
			 dg_rows_text(rows, 1));
		json_object_set_new(m, key, json_string(dg_rows_text(rows, 2)));
	}
	dg_rows_free(rows);
	if (rc != DG_ENOTFOUND) {
		json_decref(m);
		return rc;
	}
	*out = m;
	return DG_OK;
}

/* The current name of organization (org) or group id in names (current_names()). */
static const char *name_of(json_t *names, bool org, const char *id)
{
	char key[256];
	snprintf(key, sizeof key, "%d %s", org ? 1 : 0, id);
	const char *name = json_string_value(json_object_get(names, key));
	return name ? name : id;
}

static dg_rc copy_pass(struct dg_db *db, enum pass p, int64_t n, int64_t base_id, int64_t now)
{
	const char *cols[DG_SEARCH_FIELDS_MAX + 1];
	const char *const *use = p == P_PACKAGES    ? pkg_cols
				 : p == P_RESOURCES ? res_cols
						    : tag_cols;
	size_t ncols = p == P_PACKAGES ? N_(pkg_cols) : p == P_RESOURCES ? N_(res_cols) : 2;
	const char *table = p == P_PACKAGES    ? "od_packages"
			    : p == P_RESOURCES ? "od_resources"
			    : p == P_TAGS      ? "od_tags"
					       : dg_od_index.table;
	if (p == P_INDEX) {
		ncols = dg_search_copy_cols(dg_db_kind(db), &dg_od_index, cols);
		use = cols;
	}
	struct dg_copy *c = NULL;
	struct dg_buf bufs[DG_SEARCH_FIELDS_MAX + 1], text[4];
	for (size_t k = 0; k < N_(bufs); k++)
		dg_buf_init(&bufs[k], 1 << 20);
	for (size_t k = 0; k < N_(text); k++)
		dg_buf_init(&text[k], 1 << 16);
	json_t *names = NULL;
	dg_rc rc = p == P_INDEX ? current_names(db, &names) : DG_OK;
	if (!rc)
		rc = dg_db_copy_begin(db, table, use, ncols, &c);
	struct gen g;
	for (int64_t i = 0; rc == DG_OK && i < n; i++) {
		gen_one(i, base_id, now, &g);
		if (p == P_PACKAGES) {
			const char *v[] = {g.id,    g.name, g.title,   g.notes,    g.license,
					   g.dept,  g.priv, g.created, g.modified, g.dept,
					   g.theme, g.freq, "demo",    g.tier,     g.doc};
			rc = dg_db_copy_row(c, v);
		}
		for (size_t k = 0; p == P_RESOURCES && rc == DG_OK && k < g.nres; k++) {
			char pos[24];
			snprintf(pos, sizeof pos, "%zu", k);
			const char *v[] = {g.res_id[k],     g.id,         g.res_name[k], "",
					   g.res_format[k], g.res_url[k], "link",        g.created,
					   g.modified,      pos};
			rc = dg_db_copy_row(c, v);
		}
		for (size_t k = 0; p == P_TAGS && rc == DG_OK && k < g.ntags; k++) {
			const char *v[] = {g.id, g.tags[k]};
			rc = dg_db_copy_row(c, v);
		}
		if (p == P_INDEX) {
			/* the same four fields as index.c writes */
			for (size_t k = 0; k < N_(text); k++)
				dg_buf_reset(&text[k]);
			rc = dg_buf_addf(&text[0], "%s %s", g.name, g.title);
			for (size_t k = 0; !rc && k < g.ntags; k++)
				rc = dg_buf_addf(&text[1], "%s ", g.tags[k]);
			rc = rc ? rc
				: dg_buf_addf(&text[2], "%s %s %s %s", g.notes, g.theme,
					      name_of(names, false, g.theme),
					      name_of(names, true, g.dept));
			for (size_t k = 0; !rc && k < g.nres; k++)
				rc = dg_buf_addf(&text[3], "%s %s ", g.res_name[k],
						 g.res_format[k]);
			const char *texts[4] = {dg_buf_str(&text[0]), dg_buf_str(&text[1]),
						dg_buf_str(&text[2]), dg_buf_str(&text[3])};
			const char *vals[DG_SEARCH_FIELDS_MAX + 1];
			rc = rc ? rc
				: dg_search_copy_vals(dg_db_kind(db), &dg_od_index, g.search_id,
						      texts, bufs, vals);
			rc = rc ? rc : dg_db_copy_row(c, vals);
		}
	}
	dg_rc erc = c ? dg_db_copy_end(c, rc == DG_OK) : DG_OK;
	json_decref(names);
	for (size_t k = 0; k < N_(bufs); k++)
		dg_buf_release(&bufs[k]);
	for (size_t k = 0; k < N_(text); k++)
		dg_buf_release(&text[k]);
	return rc ? rc : erc;
}

/*
 * SQLite: the passes and the recount run with a page cache of 512 MiB. The
 * demo writes the whole catalogue in one transaction; with the
 * connection's usual cache (2 MiB) SQLite spills the pages of the
 * catalogue's indexes to the WAL long before the transaction ends and then
 * reads each one back through the WAL (190,000 datasets: the recount alone
 * ran for over 100 s, most of it in the WAL's lookup of pages). The memory
 * is held only while the passes run: the usual size is set back after.
 */
static dg_rc sqlite_cache(struct dg_db *db, int64_t size)
{
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA cache_size = %lld", (long long)size);
	return dg_db_exec(db, sql, DG_NOARGS, NULL);
}

dg_rc dg_od_catalog_generate(struct dg_db *db, int64_t n, struct dg_err *err)
{
	static const char *const names[] = {"datasets", "resources", "tags", "search index"};
	int64_t base_id = 0, now = dg_now_ms(), cache = 0;
	bool sqlite = dg_db_kind(db) == DG_STORE_SQLITE;
	dg_rc rc = dg_db_query_int(db, "SELECT COALESCE(MAX(search_id), 0) FROM od_packages",
				   DG_NOARGS, &base_id);
	bool bulk = !rc && sqlite;
	if (bulk)
		rc = dg_db_query_int(db, "PRAGMA cache_size", DG_NOARGS, &cache);
	if (bulk && !rc)
		rc = sqlite_cache(db, -524288);
	for (int p = P_PACKAGES; !rc && p <= P_INDEX; p++) {
		rc = copy_pass(db, (enum pass)p, n, base_id, now);
		if (rc) {
			rc = dg_err_set(err, rc, "generated catalogue: the %s could not be written",
					names[p]);
			goto out;
		}
		dg_info("demo: %lld generated datasets: %s written", (long long)n, names[p]);
	}
	/*
	 * PostgreSQL plans the recount below by the tables' statistics, which
	 * still describe them as they were before the copies (empty, for a new
	 * store): every join of the recount then walks an index once a dataset
	 * (93 s at 190,000 datasets, 2 cores) where one hash join does (40 s).
	 * Autovacuum would gather them, but only after the recount has run.
	 */
	if (!rc && !sqlite)
		rc = dg_db_exec(db, "ANALYZE od_packages, od_resources, od_tags", DG_NOARGS, NULL);
	if (!rc)
		rc = dg_od_facets_rebuild(db);
	if (!rc)
		dg_info("demo: %lld generated datasets: the catalogue's counts written",
			(long long)n);
	if (!rc && !sqlite) {
		/* the copy set search_id itself: the sequence moves past it */
		int64_t last = 0;
		rc = dg_db_query_int(
			db,
			"SELECT setval(pg_get_serial_sequence('od_packages', 'search_id'),"
			" (SELECT MAX(search_id) FROM od_packages))",
			DG_NOARGS, &last);
	}
	if (rc)
		rc = dg_err_set(err, rc, "generated catalogue");
out:
	if (bulk && cache) {
		dg_rc crc = sqlite_cache(db, cache);
		rc = rc ? rc : crc;
	}
	return rc;
}
