/*
 * demo.c - the exchange's part of the demo region 示范市: registries of
 * persons in their households (about 10,000 persons with the full demo,
 * 300 when the demo is made without its tables, as the tests make it),
 * social insurance for the adults among them and a few enterprises, all
 * generated deterministically; the demo residents (accounts of the auth
 * module) are among the persons. Three department systems with keys,
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
#include <string.h>

#include "audit/audit.h"
#include "core/date.h"
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

static json_t *person(const char *name, const char *id, const char *phone, const char *household)
{
	char birth[11];
	snprintf(birth, sizeof birth, "%.4s-%.2s-%.2s", id + 6, id + 10, id + 12);
	int seq = (id[16] - '0');
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s*,s:b}", "name", name, "sex", seq % 2 ? "1" : "2",
			 "birth_date", birth, "hukou_region", "990100", "household", household,
			 "phone", phone, "alive", 1);
}

dg_rc x_demo_seed(struct dg_env *env, struct dg_db *db, const struct dg_demo_opts *o,
		  struct dg_err *err)
{
	if (!x_schema() || !x_registry("person") || !x_registry("household") ||
	    !x_registry("insurance") || !x_registry("enterprise"))
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
	dg_day base = dg_day_from_ymd(1940, 1, 1);
	char first_head[19] = "";
	while (!rc && made < persons) {
		/* a household of 1 to 5; the demo residents head the first ones */
		char hid[32], head[19];
		int size = 1 + (int)(next_rand(&s) % 5);
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
				make_id(id, birth, 200u + (unsigned)(i % 800));
				snprintf(nm, sizeof nm, "%s%s", surnames[next_rand(&s) % 16],
					 given[next_rand(&s) % 24]);
				snprintf(ph, sizeof ph, "139%08u", next_rand(&s) % 100000000u);
				name = nm;
				phone = ph;
			}
			if (k == 0)
				snprintf(head, sizeof head, "%s", id);
			json_array_append_new(members, json_string(id));
			rc = put(env, db, a, "person", id, person(name, id, phone, hid), err);
			made++;
			if (rc)
				break;
			/* social insurance for adults of working age */
			int by = (id[6] - '0') * 1000 + (id[7] - '0') * 100 + (id[8] - '0') * 10 +
				 (id[9] - '0');
			if (by >= 1966 && by <= 2006)
				rc = put(env, db, a, "insurance", id,
					 json_pack("{s:b,s:i,s:s,s:s}", "insured",
						   next_rand(&s) % 10 != 0, "months",
						   (int)(next_rand(&s) % 360), "base",
						   (next_rand(&s) % 2) ? "5200.00" : "7800.00",
						   "employer", "91990100MAHX00001X"),
					 err);
			if (rc)
				break;
		}
		if (!first_head[0])
			snprintf(first_head, sizeof first_head, "%s", head);
		if (!rc) {
			bool dibao = next_rand(&s) % 20 == 0;
			char addr[96];
			snprintf(addr, sizeof addr, "示范市%s%u号", streets[next_rand(&s) % 6],
				 1 + next_rand(&s) % 300);
			rc = put(env, db, a, "household", hid,
				 json_pack("{s:s,s:i,s:s,s:s,s:b,s:s}", "region", "990100", "size",
					   (int)json_array_size(members), "address", addr, "head",
					   head, "dibao", dibao, "dibao_amount",
					   dibao ? "860.00" : "0.00"),
				 err);
		}
		json_decref(members);
	}
	for (int i = 1; !rc && i <= 20; i++) {
		char id[32];
		snprintf(id, sizeof id, "ENT-990100-%04d", i);
		rc = put(env, db, a, "enterprise", id,
			 json_pack("{s:s,s:s,s:s,s:s,s:s}", "name",
				   dg_arena_printf(a, "示范市第%d实业有限公司", i), "region",
				   "990100", "founded", "2015-06-01", "status",
				   i % 7 ? "active" : "closed", "legal_rep", first_head),
			 err);
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
		rc = seed_consent(env, db, a, res);
	if (!rc && nres)
		rc = seed_uses(env, db, a,
			       json_string_value(json_object_get(json_array_get(res, 0), "id")));
	json_decref(res);
	dg_arena_free(a);
	return rc;
}
