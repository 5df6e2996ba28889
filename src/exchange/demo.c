/*
 * demo.c - the exchange's part of the demo region 示范市: registries of
 * persons in their households (about 10,000 persons with the full demo,
 * 300 when the demo is made without its tables, as the tests make it),
 * social insurance for the adults among them and a few enterprises, all
 * generated deterministically; the demo residents (accounts of the auth
 * module) are among the persons. Each person also has what the other
 * departments keep (income, disability, veterans, degrees, homes, medical
 * costs, benefits paid), drawn so that each demo policy (the .rule files)
 * finds some people entitled, and each policy's owning department has a
 * bulk grant, for the policy's id as purpose, of everything the rule
 * engine's schema reads (src/exchange/reader.c). Three department systems with keys,
 * grants between departments (one needing the person's consent), a pending
 * and a refused request, consent given and withdrawn by demo residents, and
 * uses of zhangsan's records, so every page has something to show.
 *
 * The persons' ID numbers are fictional (area 990100, which no real place
 * has) with correct check digits; (birth day, sequence) pairs never repeat
 * below 116,000 persons, and the sequences (200-999) are not those of the
 * demo accounts (below 200).
 */
#include "exchange/internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cert/cert.h"
#include "core/date.h"
#include "core/mem.h"
#include "node/demo.h"

#define PERSONS_FULL  10000
#define PERSONS_SMALL 300

static const char *const surnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵",
				       "吴", "周", "徐", "孙", "马", "朱", "胡", "郭"};
static const char *const given[] = {"伟",   "芳",   "娜",   "敏",   "静",   "强",   "磊",   "军",
				    "洋",   "勇",   "艳",   "杰",   "娟",   "涛",   "明",   "超",
				    "秀英", "桂兰", "建国", "海燕", "志强", "晓东", "丽华", "文博"};
static const char *const streets[] = {"人民路", "解放路", "建设路", "和平街", "中山路", "滨河路"};

/* A small deterministic generator (an LCG: the same demo every time). */
static uint32_t next_rand(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

static void make_id(char out[19], dg_day birth, unsigned seq)
{
	int y, m, d;
	dg_day_to_ymd(birth, &y, &m, &d);
	snprintf(out, 19, "990100%04d%02d%02d%03u", y, m, d, seq % 1000);
	out[17] = dg_id_check_char(out);
	out[18] = '\0';
}

static dg_rc put(struct dg_env *env, struct dg_db *db, struct dg_arena *a, const char *registry,
		 const char *id, json_t *values, struct dg_err *err)
{
	int64_t v = 0;
	dg_rc rc = x_record_put(env, db, a, x_registry(registry), id, values, "2026-01-01", true,
				"demo", &v, err);
	json_decref(values);
	return rc;
}

static dg_rc add_client(struct dg_db *db, const char *dept, const char *system, const char *name,
			const char *key, int rate)
{
	unsigned char h[32];
	char hex[65];
	crypto_generichash(h, sizeof h, (const unsigned char *)key, strlen(key), NULL, 0);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	return dg_db_exec(db,
			  "INSERT INTO xr_clients (dept, system, name, key_hash, rate_per_min,"
			  " created_ms) VALUES (?, ?, ?, ?, ?, ?)",
			  DG_ARGS(DG_VT(dept), DG_VT(system), DG_VT(name), DG_VT(hex), DG_VI(rate),
				  DG_VI(dg_now_ms())),
			  NULL);
}

struct demo_req {
	const char *dept, *registry, *fields;
	bool clear;
	const char *purpose, *basis, *mode, *ends;
	const char *decision, *reason; /* NULL: left as it is */
	bool consent;                  /* reads need the person's consent */
};

static const struct demo_req reqs[] = {
	{"mz", "person", "name,sex,birth_date,hukou_region,household,alive", true, "990100-MZ-001",
	 "《社会救助暂行办法》第十一条：核对申请人户籍与家庭成员", "one", "2030-12-31", "approve",
	 NULL},
	{"mz", "insurance", "months", false, "990100-MZ-001",
	 "《社会救助暂行办法》第十一条：核对收入来源", "one", "2030-12-31", NULL, NULL},
	{"rs", "person", "name,birth_date,alive,hukou_region", false, "990100-RS-003",
	 "《中华人民共和国社会保险法》第十六条：退休资格比对", "bulk", "2030-12-31", "approve",
	 NULL},
	{"sj", "household", "region,size,dibao", false, "policy:elder_subsidy",
	 "《示范市高龄津贴办法》第五条：免申即享比对", "bulk", "2030-12-31", "approve", NULL},
	{"rs", "household", "region,dibao,dibao_amount", false, "990100-RS-001",
	 "《失业保险条例》第十四条：核对家庭困难情况", "one", "2027-12-31", NULL, NULL},
	{"sc", "person", "name,phone", true, "990100-SC-001", "《市场主体登记管理条例》第十条",
	 "one", "2027-12-31", "refuse",
	 "登记核验只需身份核验结果，不需要联系电话；请改为申请身份核验服务。"},
	{"zj", "person", "name,sex,birth_date,hukou_region,household", true, "990100-ZJ-002",
	 "《公共租赁住房管理办法》第七条：核对申请人户籍（户口簿信息由数据共享获取）", "one",
	 "2030-12-31", "approve", NULL, false},
	{"zj", "household", "size,address,head,dibao", true, "990100-ZJ-002",
	 "《公共租赁住房管理办法》第七条：经申请人同意核对家庭住房与低保情况", "one", "2030-12-31",
	 "approve", NULL, true},
};

static dg_rc seed_requests(struct dg_db *db, struct dg_arena *a, int64_t admin, struct dg_err *err)
{
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		const struct demo_req *q = &reqs[i];
		struct x_request_new n = {.dept = q->dept,
					  .registry = q->registry,
					  .fields = q->fields,
					  .clear = q->clear,
					  .purpose = q->purpose,
					  .legal_basis = q->basis,
					  .mode = q->mode,
					  .ends = q->ends,
					  .user_id = admin,
					  .consent = q->consent};
		int64_t id = 0;
		dg_rc rc = x_request_create(db, a, &n, &id, err);
		if (!rc && q->decision)
			rc = x_request_decide(db, a, id, q->decision, q->reason, NULL, true, admin,
					      err);
		if (rc)
			return rc;
	}
	return DG_OK;
}

/* Uses of a demo resident's records, recorded as the exchange records them. */
static dg_rc seed_uses(struct dg_env *env, struct dg_db *db, struct dg_arena *a,
		       const char *id_number)
{
	const char *subject = dg_pii_index(&env->keys, a, "id", id_number);
	struct {
		const char *kind, *dept, *system, *official, *purpose, *fields, *run;
	} uses[] = {
		{"one", "mz", "dibao", "赵*", "990100-MZ-001", "name,sex,birth_date,household", ""},
		{"bulk", "rs", "pension", "", "990100-RS-003", "name,birth_date,alive",
		 "retire-check-2026-06"},
	};
	for (size_t i = 0; i < 2; i++) {
		json_t *d = json_pack("{s:s,s:s,s:s,s:s}", "outcome", "ok", "registry", "person",
				      "fields", uses[i].fields, "run", uses[i].run);
		char actor[64];
		snprintf(actor, sizeof actor, "dept:%s/system:%s", uses[i].dept, uses[i].system);
		struct dg_audit_rec rec = {.kind = i ? "exchange.bulk" : "exchange.read",
					   .actor = actor,
					   .subject = i ? "" : subject,
					   .purpose = uses[i].purpose,
					   .detail = d};
		int64_t seq = 0;
		dg_rc rc = dg_audit_append(db, &rec, &seq);
		json_decref(d);
		struct x_use u = {.subject = subject,
				  .kind = uses[i].kind,
				  .dept = uses[i].dept,
				  .system = uses[i].system,
				  .official = uses[i].official,
				  .purpose = uses[i].purpose,
				  .registry = "person",
				  .fields = uses[i].fields,
				  .run = uses[i].run,
				  .audit_seq = seq};
		if (!rc)
			rc = x_use_add(db, &u);
		if (rc)
			return rc;
	}
	return DG_OK;
}

/* Consent to the housing bureau's check: the first resident gave it; the second gave and
 * withdrew it. */
static dg_rc seed_consent(struct dg_env *env, struct dg_db *db, struct dg_arena *a, json_t *res)
{
	struct dg_err err = {0};
	dg_rc rc = DG_OK;
	for (size_t i = 0; !rc && i < 2 && i < json_array_size(res); i++) {
		const char *id = json_string_value(json_object_get(json_array_get(res, i), "id"));
		const char *subject = dg_pii_index(&env->keys, a, "id", id);
		rc = x_consent_set(db, subject, "990100-ZJ-002", true, "demo", NULL, &err);
		if (!rc && i == 1)
			rc = x_consent_set(db, subject, "990100-ZJ-002", false, "demo", NULL, &err);
	}
	return rc;
}

/* The demo residents, from the auth module's accounts: name, ID number, phone. */
static dg_rc residents(struct dg_env *env, struct dg_db *db, struct dg_arena *a, json_t **out)
{
	struct dg_rows *rows = NULL;
	dg_rc rc =
		dg_db_query(db,
			    "SELECT name, id_number_sealed, COALESCE(phone_sealed, '') FROM users"
			    " WHERE role = 'citizen' AND id_number_sealed IS NOT NULL ORDER BY id",
			    DG_NOARGS, &rows);
	*out = json_array();
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		char *id = NULL, *phone = NULL;
		if (dg_pii_open(&env->keys, a, dg_rows_text(rows, 1), &id))
			continue;
		if (!dg_rows_text(rows, 2)[0] ||
		    dg_pii_open(&env->keys, a, dg_rows_text(rows, 2), &phone))
			phone = NULL;
		json_array_append_new(*out,
				      json_pack("{s:s,s:s,s:s*}", "name", dg_rows_text(rows, 0),
						"id", id, "phone", phone));
	}
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

static json_t *person(const char *name, const char *id, const char *phone, const char *household,
		      const char *region, const char *role)
{
	char birth[11];
	snprintf(birth, sizeof birth, "%.4s-%.2s-%.2s", id + 6, id + 10, id + 12);
	int seq = (id[16] - '0');
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s*,s:b,s:s}", "name", name, "sex",
			 seq % 2 ? "1" : "2", "birth_date", birth, "hukou_region", region,
			 "household", household, "phone", phone, "alive", 1, "role", role);
}

/* The months the demo's monthly values cover: from y0-m0, n of them. */
#define DEMO_Y0 2026
#define DEMO_M0 1
#define DEMO_NM 12

static const char *month_of(char out[8], int y, int m, int k)
{
	int t = y * 12 + (m - 1) + k;
	snprintf(out, 8, "%04d-%02d", t / 12, t % 12 + 1);
	return out;
}

/* A monthly value: the same value v for n months from y-m (v is taken). */
static json_t *months(int y, int m, int n, json_t *v)
{
	json_t *o = json_object();
	char k[8];
	for (int i = 0; i < n; i++)
		json_object_set(o, month_of(k, y, m, i), v);
	json_decref(v);
	return o;
}

/* Amounts in yuan, one a month, drawn around base. */
static json_t *amounts(uint32_t *s, int base, int spread)
{
	json_t *o = json_object();
	char k[8], v[24];
	for (int i = 0; i < DEMO_NM; i++) {
		snprintf(v, sizeof v, "%d.00", base + (int)(next_rand(s) % (uint32_t)spread));
		json_object_set_new(o, month_of(k, DEMO_Y0, DEMO_M0, i), json_string(v));
	}
	return o;
}

/* How a person's household stands, for the other departments' records. */
struct demo_hh {
	bool poor, dibao;
};

/* What the other departments keep about one person; grad gets the ID of a recent graduate. */
static dg_rc person_extras(struct dg_env *env, struct dg_db *db, struct dg_arena *a, const char *id,
			   int by, const struct demo_hh *h, uint32_t *s, char grad[19],
			   struct dg_err *err)
{
	int age = 2026 - by;
	dg_rc rc = DG_OK;
	if (age >= 18) {
		rc = put(env, db, a, "tax", id,
			 json_pack("{s:o}", "income",
				   h->poor ? amounts(s, 200, 500) : amounts(s, 3000, 12000)),
			 err);
		static const char *const vt[] = {"disabled", "martyr_family", "campaign", "other"};
		bool vet = next_rand(s) % 25 == 0;
		if (!rc)
			rc = put(env, db, a, "veterans", id,
				 vet ? json_pack("{s:b,s:s}", "is_veteran", 1, "type",
						 vt[next_rand(s) % 4])
				     : json_pack("{s:b}", "is_veteran", 0),
				 err);
		if (!rc)
			rc = put(env, db, a, "housing", id,
				 json_pack("{s:b}", "owns_home", next_rand(s) % 10 < 5), err);
	}
	if (!rc && age >= 22 && age <= 42 && next_rand(s) % 10 < 5) {
		static const char *const deg[] = {"bachelor", "bachelor", "bachelor", "master",
						  "master",   "phd",      "college"};
		bool recent = next_rand(s) % 5 == 0;
		char gd[16];
		snprintf(gd, sizeof gd, "%04d-06-30", recent ? 2025 : by + 22);
		if (recent && !grad[0])
			snprintf(grad, 19, "%s", id);
		rc = put(env, db, a, "education", id,
			 json_pack("{s:s,s:s}", "degree", deg[next_rand(s) % 7], "graduation_date",
				   gd),
			 err);
	}
	if (!rc && next_rand(s) % 20 == 0)
		rc = put(env, db, a, "disability", id,
			 json_pack("{s:i,s:s}", "grade", 1 + (int)(next_rand(s) % 4), "category",
				   next_rand(s) % 2 ? "physical" : "visual"),
			 err);
	if (!rc)
		rc = put(env, db, a, "medical", id,
			 json_pack("{s:o}", "expense",
				   next_rand(s) % 12 == 0 ? amounts(s, 4000, 9000)
							  : amounts(s, 0, 300)),
			 err);
	json_t *b = json_object();
	if (h->dibao)
		json_object_set_new(b, "dibao",
				    months(DEMO_Y0, DEMO_M0, DEMO_NM, json_string("paid")));
	else if (h->poor && next_rand(s) % 3 == 0)
		json_object_set_new(b, "dibao", months(2026, 10, 1, json_string("refused")));
	if (age >= 80 && next_rand(s) % 2)
		json_object_set_new(b, "elderly_allowance",
				    months(DEMO_Y0, DEMO_M0, DEMO_NM, json_string("paid")));
	if (h->poor && !h->dibao && next_rand(s) % 4 == 0)
		json_object_set_new(b, "tekun",
				    months(DEMO_Y0, DEMO_M0, DEMO_NM, json_string("paid")));
	if (!rc && json_object_size(b))
		rc = put(env, db, a, "benefits", id, json_incref(b), err);
	json_decref(b);
	return rc;
}

/* The demo policies and the department that runs each (its purpose is the policy's id). */
static const struct {
	const char *policy, *dept, *basis;
} policies[] = {
	{"childcare_subsidy", "wj", "《育儿补贴制度实施方案》：免申即享比对"},
	{"dibao", "mz", "《社会救助暂行办法》第十一条：低保主动发现"},
	{"disability_living", "mz", "《残疾人保障法》第四十八条：困难残疾人生活补贴比对"},
	{"disability_nursing", "mz", "《残疾人保障法》第四十八条：重度残疾人护理补贴比对"},
	{"elderly_allowance", "mz", "《老年人权益保障法》第三十三条：高龄津贴免申即享"},
	{"graduate_startup", "rs", "《就业促进法》第十七条：创业补贴比对"},
	{"heating_subsidy", "zj", "（示例）采暖补贴办法：低收入家庭比对"},
	{"job_stabilisation", "rs", "《失业保险条例》：稳岗返还免申即享"},
	{"medical_premium_support", "yb", "《社会救助暂行办法》第二十八条：医保参保资助比对"},
	{"small_business_tax_relief", "sw", "《企业所得税法》第二十八条：小型微利企业优惠比对"},
	{"talent_rent", "rs", "（示例）人才住房办法：租房补贴比对"},
	{"temporary_assistance", "mz", "《社会救助暂行办法》第四十七条：临时救助主动发现"},
	{"veterans_benefit", "tj", "《退役军人保障法》第五十二条：抚恤补助比对"},
};

/* Each policy's department gets, in bulk and in clear, what the rule engine's schema reads. */
static dg_rc seed_policy_grants(struct dg_db *db, struct dg_arena *a, int64_t admin,
				struct dg_err *err)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/schema.yaml", x_schema_dir());
	struct dg_schema *rs = dg_schema_load(path, err);
	if (!rs)
		return err->rc ? err->rc : DG_EINVAL;
	struct x_reads *reads = dg_xcalloc(1, sizeof(*reads));
	dg_rc rc = x_schema_reads(rs, reads, err);
	for (size_t p = 0; !rc && p < sizeof(policies) / sizeof(policies[0]); p++)
		for (int i = 0; !rc && i < reads->n; i++) {
			const struct x_read *g = &reads->reg[i];
			/* a registry read only for its IDs: ask for its first field */
			struct x_request_new n = {.dept = policies[p].dept,
						  .registry = g->e->name,
						  .fields = g->fields[0] ? g->fields
									 : g->e->f[0].name,
						  .clear = true,
						  .purpose = policies[p].policy,
						  .legal_basis = policies[p].basis,
						  .mode = "bulk",
						  .ends = "2030-12-31",
						  .user_id = admin};
			int64_t id = 0, pending = 0;
			rc = x_request_create(db, a, &n, &id, err);
			if (!rc)
				rc = dg_db_query_int(db,
						     "SELECT COUNT(*) FROM xr_requests WHERE id = ?"
						     " AND status = 'pending'",
						     DG_ARGS(DG_VI(id)), &pending);
			if (!rc && pending) /* unconditional fields alone are granted at once */
				rc = x_request_decide(db, a, id, "approve", NULL, NULL, true, admin,
						      err);
		}
	free(reads);
	dg_schema_free(rs);
	return rc;
}

/*
 * The marriage certificate 民政 issued to the demo resident in 2024 (item
 * 990100-MZ-001): the newborn's household registration (990100-GA-001)
 * asks for it in its guide, and the pre-fill step attaches it by reference
 * instead of an upload.
 */
static dg_rc seed_certificate(struct dg_env *env, struct dg_db *db, struct dg_arena *a,
			      struct dg_err *err)
{
	int64_t holder = 0, dept = 0;
	char *name = NULL, id[48];
	dg_rc rc = dg_db_query_int(db, "SELECT id FROM users WHERE username = ?",
				   DG_ARGS(DG_VT(DG_DEMO_CITIZEN)), &holder);
	if (!rc)
		rc = dg_db_query_text(db, "SELECT name FROM users WHERE id = ?",
				      DG_ARGS(DG_VI(holder)), a, &name);
	if (!rc)
		rc = dg_db_query_int(db, "SELECT id FROM departments WHERE code = 'mz'", DG_NOARGS,
				     &dept);
	if (rc == DG_ENOTFOUND)
		return DG_OK; /* a demo without its residents or 民政 */
	if (rc)
		return rc;
	json_t *fields = json_pack("{s:s}", "登记日期 Registered", "2024-05-20");
	struct dg_cert_in in = {
		.item_code = "990100-MZ-001",
		.title_zh = "结婚证",
		.title_en = "Marriage certificate",
		.holder_user_id = holder,
		.holder_name = name,
		.dept_id = dept,
		.case_ref = "",
		.fields = fields,
		.valid_from = dg_day_from_ymd(2024, 5, 20),
		.valid_until = 0,
	};
	rc = dg_cert_issue(db, &env->keys, &in, id, err);
	json_decref(fields);
	return rc;
}

dg_rc x_demo_seed(struct dg_env *env, struct dg_db *db, const struct dg_demo_opts *o,
		  struct dg_err *err)
{
	if (!x_schema() || !x_registry("person") || !x_registry("household") ||
	    !x_registry("insurance") || !x_registry("enterprise") || !x_registry("tax") ||
	    !x_registry("benefits") || !x_registry("enterprise_insurance"))
		return dg_err_set(err, DG_EINVAL,
				  "the demo needs the registries of "
				  "policies/registries.yaml");
	struct dg_arena *a = dg_arena_new();
	json_t *res = NULL;
	uint32_t s = 20260101u;
	int persons = o && o->tables ? PERSONS_FULL : PERSONS_SMALL;
	int made = 0, hh = 0;
	dg_rc rc = residents(env, db, a, &res);
	size_t nres = json_array_size(res), r = 0;
	dg_day base = dg_day_from_ymd(1940, 1, 1), baby = dg_day_from_ymd(2024, 1, 1);
	char first_head[19] = "";
	char grad[19] = "";
	while (!rc && made < persons) {
		/* a household of 1 to 5; the demo residents head the first ones. Most live
		   where the demo policies apply (4403), some in a heating region (11) */
		char hid[32], head[19];
		int size = 1 + (int)(next_rand(&s) % 5);
		uint32_t rr = next_rand(&s) % 20;
		const char *region = rr < 14 ? "440303" : rr < 17 ? "110105" : "990100";
		struct demo_hh h = {.poor = next_rand(&s) % 8 == 0};
		h.dibao = h.poor && next_rand(&s) % 2;
		snprintf(hid, sizeof hid, "H990100-%06d", ++hh);
		json_t *members = json_array();
		for (int k = 0; k < size && made < persons; k++) {
			char id[19];
			const char *name, *phone = NULL;
			char nm[32], ph[12];
			if (k == 0 && r < nres) {
				json_t *d = json_array_get(res, r++);
				snprintf(id, sizeof id, "%s",
					 json_string_value(json_object_get(d, "id")));
				name = json_string_value(json_object_get(d, "name"));
				phone = json_string_value(json_object_get(d, "phone"));
			} else {
				int i = made;
				dg_day birth = base + (dg_day)(((int64_t)i * 7919) % 29000);
				unsigned seq = 200u + (unsigned)(i % 800);
				if (k >= 2 && next_rand(&s) % 3 == 0) {
					/* a small child, born after every adult above (from
					   2024): (day, seq) pairs repeat only past 720,000 */
					birth = baby + (dg_day)(((int64_t)i * 7919) % 900);
					seq = 200u + (unsigned)((i / 900) % 800);
				}
				make_id(id, birth, seq);
				snprintf(nm, sizeof nm, "%s%s", surnames[next_rand(&s) % 16],
					 given[next_rand(&s) % 24]);
				snprintf(ph, sizeof ph, "139%08u", next_rand(&s) % 100000000u);
				name = nm;
				phone = ph;
			}
			if (k == 0)
				snprintf(head, sizeof head, "%s", id);
			json_array_append_new(members, json_string(id));
			rc = put(env, db, a, "person", id,
				 person(name, id, phone, hid, region,
					k == 0   ? "head"
					: k == 1 ? "spouse"
						 : "child"),
				 err);
			made++;
			if (rc)
				break;
			/* social insurance for adults of working age */
			int by = (id[6] - '0') * 1000 + (id[7] - '0') * 100 + (id[8] - '0') * 10 +
				 (id[9] - '0');
			if (by >= 1966 && by <= 2006) {
				bool insured = next_rand(&s) % 10 != 0;
				rc = put(env, db, a, "insurance", id,
					 json_pack("{s:b,s:i,s:s,s:s,s:o}", "insured", insured,
						   "months", (int)(next_rand(&s) % 360), "base",
						   (next_rand(&s) % 2) ? "5200.00" : "7800.00",
						   "employer",
						   dg_arena_printf(a, "ENT-990100-%04u",
								   1 + next_rand(&s) % 20),
						   "contributed",
						   months(DEMO_Y0, DEMO_M0, DEMO_NM,
							  json_boolean(insured))),
					 err);
			}
			if (!rc)
				rc = person_extras(env, db, a, id, by, &h, &s, grad, err);
			if (rc)
				break;
		}
		if (!first_head[0])
			snprintf(first_head, sizeof first_head, "%s", head);
		if (!rc) {
			char addr[96];
			snprintf(addr, sizeof addr, "示范市%s%u号", streets[next_rand(&s) % 6],
				 1 + next_rand(&s) % 300);
			rc = put(env, db, a, "household", hid,
				 json_pack("{s:s,s:i,s:s,s:s,s:b,s:s,s:i}", "region", region,
					   "size", (int)json_array_size(members), "address", addr,
					   "head", head, "dibao", h.dibao, "dibao_amount",
					   h.dibao ? "860.00" : "0.00", "heating_area",
					   40 + (int)(next_rand(&s) % 90)),
				 err);
		}
		json_decref(members);
	}
	for (int i = 1; !rc && i <= 20; i++) {
		char id[32];
		bool young = i % 4 == 0; /* founded this year, by a recent graduate */
		int staff = 10 + i * 13;
		snprintf(id, sizeof id, "ENT-990100-%04d", i);
		rc = put(env, db, a, "enterprise", id,
			 json_pack("{s:s,s:s,s:s,s:s,s:s}", "name",
				   dg_arena_printf(a, "示范市第%d实业有限公司", i), "region",
				   i % 5 ? "440305" : "990100", "founded",
				   young ? "2026-03-01" : "2015-06-01", "status",
				   i % 7 ? "active" : "closed", "legal_rep",
				   young && grad[0] ? grad : first_head),
			 err);
		if (!rc)
			rc = put(env, db, a, "enterprise_tax", id,
				 json_pack("{s:s,s:s,s:b}", "taxable_income",
					   i % 3 ? "1200000.00" : "5200000.00", "total_assets",
					   i % 9 ? "20000000.00" : "80000000.00", "tax_arrears",
					   i % 6 == 0),
				 err);
		/* staff and premiums month by month: two years for the old ones */
		json_t *st = json_object(), *pp = json_object();
		char k[8];
		for (int m = young ? 14 : 0; m < 24; m++) {
			int n = staff - (i % 3 == 0 ? m / 2 : 0);
			month_of(k, 2025, 1, m);
			json_object_set_new(st, k, json_integer(n));
			json_object_set_new(pp, k,
					    json_string(dg_arena_printf(a, "%d.00", n * 160)));
		}
		if (!rc)
			rc = put(env, db, a, "enterprise_insurance", id,
				 json_pack("{s:o,s:o}", "staff", st, "premium_paid", pp), err);
		else {
			json_decref(st);
			json_decref(pp);
		}
	}
	int64_t admin = 0;
	if (!rc && dg_db_query_int(db, "SELECT id FROM users WHERE username = ?",
				   DG_ARGS(DG_VT(DG_DEMO_ADMIN)), &admin))
		admin = 0;
	if (!rc)
		rc = add_client(db, "mz", "dibao", "低保审核系统", X_DEMO_MZ_KEY, X_RATE_DEFAULT);
	if (!rc)
		rc = add_client(db, "rs", "pension", "养老保险业务系统", X_DEMO_RS_KEY,
				X_RATE_DEFAULT);
	if (!rc)
		rc = add_client(db, "sj", "match", "免申即享比对系统", X_DEMO_SJ_KEY,
				X_RATE_DEFAULT);
	if (!rc)
		rc = seed_requests(db, a, admin, err);
	if (!rc)
		rc = seed_policy_grants(db, a, admin, err);
	if (!rc)
		rc = seed_consent(env, db, a, res);
	if (!rc)
		rc = seed_certificate(env, db, a, err);
	if (!rc && nres)
		rc = seed_uses(env, db, a,
			       json_string_value(json_object_get(json_array_get(res, 0), "id")));
	json_decref(res);
	dg_arena_free(a);
	return rc;
}
