/*
 * demo.c - the auth module's part of the demo region 示范市 (Demo City,
 * code 990100): its departments, staff with roles, residents, enterprise
 * agents and an administrator, created in the one demo transaction.
 *
 * The identifiers are fictional but well-formed: ID numbers use the area
 * code 990100, which no real place has, with a correct GB 11643 check digit
 * computed here; the enterprises' codes get a correct GB 32100 check
 * character the same way. Everything is deterministic, so tests can sign in
 * as the accounts named in node/demo.h.
 */
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/auth_int.h"
#include "core/keys.h"
#include "node/demo.h"
#include "store/store.h"

struct demo_dept {
	const char *code, *name_zh, *name_en;
};

static const struct demo_dept depts[] = {
	{"mz", "民政局", "Civil Affairs Bureau"},
	{"rs", "人力资源和社会保障局", "Human Resources and Social Security Bureau"},
	{"sc", "市场监督管理局", "Market Regulation Administration"},
	{"wj", "卫生健康委员会", "Health Commission"},
	{"ga", "公安局", "Public Security Bureau"},
	{"zj", "住房和城乡建设局", "Housing and Urban-Rural Development Bureau"},
	{"yb", "医疗保障局", "Healthcare Security Administration"},
	{"sj", "政务服务和数据管理局", "Government Services and Data Administration"},
	{"sw", "税务局", "Tax Bureau"},
	{"cl", "残疾人联合会", "Disabled Persons' Federation"},
	{"tj", "退役军人事务局", "Veterans Affairs Bureau"},
	{"jy", "教育局", "Education Bureau"},
};

/* One account; birth and seq make the ID number, phone_tail the phone. */
struct demo_user {
	enum dg_role role;
	const char *username, *name;
	const char *birth; /* YYYYMMDD, citizens and agents */
	const char *seq;   /* 3 digits: odd for men, even for women */
	const char *phone;
	const char *dept, *staff_roles;
	const char *org_code; /* 9 characters of the USCC after "91990100" */
	const char *org_name;
	const char *what;
};

static const struct demo_user users[] = {
	{DG_ROLE_ADMIN, DG_DEMO_ADMIN, "系统管理员", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 "manage accounts: /admin/users"},
	{DG_ROLE_STAFF, DG_DEMO_STAFF, "赵敏", NULL, NULL, "13900000101", "mz",
	 "intake,review,approve", NULL, NULL, "civil affairs: take, review, approve cases"},
	{DG_ROLE_STAFF, DG_DEMO_STAFF2, "钱磊", NULL, NULL, "13900000102", "rs", "intake", NULL,
	 NULL, "human resources: take in cases"},
	{DG_ROLE_STAFF, "sc_sun", "孙丽", NULL, NULL, NULL, "sc", "intake,review", NULL, NULL,
	 "market regulation: licences"},
	{DG_ROLE_STAFF, "wj_li", "李华", NULL, NULL, NULL, "wj", "review,approve", NULL, NULL,
	 "health: review, approve"},
	{DG_ROLE_STAFF, "yb_zhou", "周洁", NULL, NULL, NULL, "yb", "intake,review,approve", NULL,
	 NULL, "healthcare security: benefits"},
	{DG_ROLE_STAFF, "sj_wu", "吴刚", NULL, NULL, NULL, "sj", "data,intake", NULL, NULL,
	 "data administration: shared registries"},
	{DG_ROLE_CITIZEN, DG_DEMO_CITIZEN, "张三", "19850312", "031", "13800000001", NULL, NULL,
	 NULL, NULL, "a resident: apply, see your cases"},
	{DG_ROLE_CITIZEN, DG_DEMO_CITIZEN2, "李四", "19920704", "042", "13800000002", NULL, NULL,
	 NULL, NULL, "another resident"},
	{DG_ROLE_CITIZEN, "wangwu", "王五", "19480215", "013", "13800000003", NULL, NULL, NULL,
	 NULL, "an elderly resident: try elder mode"},
	{DG_ROLE_CITIZEN, "zhaoliu", "赵六", "19761130", "024", "13800000004", NULL, NULL, NULL,
	 NULL, "a resident"},
	{DG_ROLE_CITIZEN, "sunqi", "孙七", "20010909", "055", "13800000005", NULL, NULL, NULL, NULL,
	 "a young resident"},
	{DG_ROLE_CITIZEN, "zhouba", "周八", "19580521", "066", "13800000006", NULL, NULL, NULL,
	 NULL, "a resident near retirement"},
	{DG_ROLE_CITIZEN, "wujiu", "吴九", "19690101", "077", "13800000007", NULL, NULL, NULL, NULL,
	 "a resident"},
	{DG_ROLE_CITIZEN, "zhengshi", "郑十", "19950817", "088", "13800000008", NULL, NULL, NULL,
	 NULL, "a resident"},
	{DG_ROLE_CITIZEN, "chenmei", "陈梅", "19400606", "102", "13800000009", NULL, NULL, NULL,
	 NULL, "an elderly resident"},
	{DG_ROLE_CITIZEN, "liuyang", "刘洋", "19881223", "119", "13800000010", NULL, NULL, NULL,
	 NULL, "a resident"},
	{DG_ROLE_AGENT, DG_DEMO_AGENT, "黄欣", "19870420", "126", "13700000001", NULL, NULL,
	 "MAHX00001", "示范市华兴科技有限公司", "an enterprise: business services"},
	{DG_ROLE_AGENT, "agent_ly", "林源", "19790918", "137", "13700000002", NULL, NULL,
	 "MALY00002", "示范市绿源农业专业合作社", "an enterprise"},
	{DG_ROLE_AGENT, "agent_jm", "金明", "19830227", "148", "13700000003", NULL, NULL,
	 "MAJM00003", "示范市锦明餐饮管理有限公司", "an enterprise"},
};

#define NDEPTS (sizeof(depts) / sizeof(depts[0]))
#define NUSERS (sizeof(users) / sizeof(users[0]))

static void make_id(char out[19], const char *birth, const char *seq)
{
	snprintf(out, 19, "990100%.8s%.3s", birth, seq);
	out[17] = dg_id_check_char(out);
	out[18] = '\0';
}

static void make_uscc(char out[19], const char *org_code)
{
	snprintf(out, 19, "91990100%.9s", org_code);
	out[17] = dg_uscc_check_char(out);
	out[18] = '\0';
}

static dg_rc seed_depts(struct dg_db *db)
{
	for (size_t i = 0; i < NDEPTS; i++) {
		dg_rc rc = dg_db_exec(db, dg_sql_dept_insert,
				      DG_ARGS(DG_VT(depts[i].code), DG_VT(depts[i].name_zh),
					      DG_VT(depts[i].name_en)),
				      NULL);
		if (rc)
			return rc;
	}
	return DG_OK;
}

static dg_rc seed_user(struct dg_env *env, struct dg_db *db, const struct demo_user *d,
		       struct dg_err *err)
{
	char id[19] = "", uscc[19] = "";
	struct dg_err uerr = {0};
	if (d->birth)
		make_id(id, d->birth, d->seq);
	if (d->org_code)
		make_uscc(uscc, d->org_code);
	struct dg_user_new u = {
		.role = d->role,
		.username = d->username,
		.password = DG_DEMO_PASSWORD,
		.name = d->name,
		.id_number = d->birth ? id : NULL,
		.phone = d->phone,
		.dept_code = d->dept,
		.staff_roles = d->staff_roles,
		.uscc = d->org_code ? uscc : NULL,
		.org_name = d->org_name,
	};
	dg_rc rc = dg_user_create(env, db, &u, NULL, &uerr);
	if (rc)
		dg_err_set(err, rc, "demo account %s: %s %s", d->username, uerr.field, uerr.msg);
	return rc;
}

dg_rc dg_auth_demo_seed(struct dg_env *env, struct dg_db *db, const struct dg_demo_opts *o,
			struct dg_err *err)
{
	(void)o;
	dg_rc rc = seed_depts(db);
	if (rc)
		return dg_err_set(err, rc, "the departments could not be created");
	for (size_t i = 0; i < NUSERS && !rc; i++)
		rc = seed_user(env, db, &users[i], err);
	return rc;
}

void dg_auth_demo_print_accounts(void)
{
	printf("Demo accounts of 示范市 Demo City (password for all: %s)\n\n", DG_DEMO_PASSWORD);
	printf("  %-12s %-8s %s\n", "username", "role", "what to try");
	for (size_t i = 0; i < NUSERS; i++) {
		const char *role = users[i].role == DG_ROLE_ADMIN   ? "admin"
				   : users[i].role == DG_ROLE_STAFF ? "staff"
				   : users[i].role == DG_ROLE_AGENT ? "agent"
								    : "citizen";
		printf("  %-12s %-8s %s\n", users[i].username, role, users[i].what);
	}
	printf("\nSign in at /login.\n");
	fflush(stdout);
}
