/*
 * demo.c - the demo region's service catalogue: about thirty published items
 * across the demo departments, each with a complete guide.
 *
 * Items are written as rows of a table and turned into the item JSON that
 * import takes, then drafted and published through the same functions, so the
 * demo exercises the real path. Materials are named by short keys looked up
 * in a second table; those issued by a department are marked as obtainable
 * from shared data.
 */
#include "catalog/catalog.h"

#include <stdbool.h>
#include <string.h>

#include "catalog/internal.h"

struct demo_mat {
	const char *key, *zh, *en, *medium, *format, *source;
};

static const struct demo_mat mats[] = {
	{"id", "居民身份证", "Resident identity card", "both", "原件", "applicant"},
	{"hukou", "居民户口簿", "Household register", "electronic", "电子证照", "department"},
	{"photo", "近期免冠照片", "Recent photograph", "both", "JPG", "applicant"},
	{"marriage", "结婚证", "Marriage certificate", "electronic", "电子证照", "department"},
	{"birth", "出生医学证明", "Medical birth certificate", "electronic", "电子证照",
	 "department"},
	{"form", "申请表", "Application form", "both", "PDF", "applicant"},
	{"income", "家庭收入证明", "Household income statement", "paper", "原件", "applicant"},
	{"license", "营业执照", "Business licence", "electronic", "电子证照", "department"},
	{"lease", "经营场所证明", "Proof of business premises", "both", "PDF", "applicant"},
	{"social", "社会保障卡", "Social security card", "both", "原件", "applicant"},
	{"labor", "劳动合同", "Employment contract", "both", "PDF", "applicant"},
	{"property", "不动产权证书", "Real estate title certificate", "electronic", "电子证照",
	 "department"},
	{"medical", "医疗费用票据", "Medical expense receipts", "paper", "原件", "applicant"},
	{"death", "死亡医学证明", "Medical death certificate", "electronic", "电子证照",
	 "department"},
	{"disability", "残疾人证", "Disability certificate", "electronic", "电子证照",
	 "department"},
	{"vehicle", "机动车行驶证", "Vehicle registration certificate", "electronic", "电子证照",
	 "department"},
	{"charter", "公司章程", "Articles of association", "both", "PDF", "applicant"},
	{"health", "健康证明", "Health certificate", "both", "PDF", "applicant"},
	{"tax", "完税证明", "Tax payment certificate", "electronic", "电子证照", "department"},
};

struct demo_item {
	const char *code, *dept, *zh, *en, *aliases, *kind, *audience, *themes, *events;
	int statutory, promised, fee_fen, trips;
	const char *depth, *scope, *conditions, *basis, *materials;
};

/* themes and events are ",a,b" lists of tags; materials "key,key". */
static const struct demo_item items[] = {
	{"990100-MZ-001", "mz", "结婚登记", "Marriage registration",
	 "领结婚证 marriage certificate", "confirm", "person", "family", "marriage", 1, 1, 0, 1,
	 "online_apply", "province",
	 "男方年满二十二周岁、女方年满二十周岁，双方完全自愿，均无配偶，且无禁止结婚的亲属关系。",
	 "《中华人民共和国民法典》第一千零四十九条；《婚姻登记条例》第四条", "id,hukou,photo"},
	{"990100-MZ-002", "mz", "离婚登记", "Divorce registration", "", "confirm", "person",
	 "family", "marriage", 30, 30, 0, 1, "online_apply", "local",
	 "双方自愿离婚，并对子女抚养、财产及债务处理等事项协商一致。",
	 "《中华人民共和国民法典》第一千零七十六条", "id,hukou,marriage,form"},
	{"990100-MZ-003", "mz", "最低生活保障申请", "Minimum living allowance (dibao)", "低保 救助",
	 "benefit", "person", "social-assistance", "hardship", 30, 20, 0, 0, "full_online", "local",
	 "共同生活的家庭成员人均收入低于本市最低生活保障标准，且家庭财产符合规定。",
	 "《社会救助暂行办法》第九条至第十一条", "id,hukou,income,form"},
	{"990100-MZ-004", "mz", "高龄津贴申领", "Old-age allowance for people over 80",
	 "老年人 补贴", "benefit", "person", "elderly,social-assistance", "retirement", 20, 10, 0,
	 0, "full_online", "local", "本市户籍、年满八十周岁的老年人。",
	 "《中华人民共和国老年人权益保障法》第三十三条", "id,hukou"},
	{"990100-MZ-005", "mz", "残疾人两项补贴申请", "Disability living and care subsidies",
	 "残疾 补贴", "benefit", "person", "disability,social-assistance", "hardship", 20, 15, 0, 0,
	 "full_online", "province", "持有第二代残疾人证的困难残疾人和重度残疾人。",
	 "《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》",
	 "id,disability,form"},
	{"990100-MZ-006", "mz", "社会团体成立登记", "Registration of a social organisation", "社团",
	 "permit", "enterprise", "organisations", "start-business", 60, 30, 0, 1, "online_apply",
	 "local", "有五十个以上个人会员或三十个以上单位会员，有规范的名称、章程和固定住所。",
	 "《社会团体登记管理条例》第十条", "form,charter,lease"},
	{"990100-MZ-007", "mz", "殡葬补贴申领", "Funeral subsidy", "丧葬 补助", "benefit", "person",
	 "family,social-assistance", "death", 15, 10, 0, 0, "full_online", "local",
	 "本市户籍居民身故，遗体在本市殡仪馆火化。", "本市《惠民殡葬政策实施办法》",
	 "id,death,hukou"},
	{"990100-RS-001", "rs", "失业保险金申领", "Unemployment insurance benefit", "失业金 社保",
	 "benefit", "person", "social-security,employment", "job-loss", 10, 5, 0, 0, "full_online",
	 "inter", "非本人意愿中断就业，已办理失业登记并有求职要求，缴纳失业保险费满一年。",
	 "《失业保险条例》第十四条", "id,social,form"},
	{"990100-RS-002", "rs", "社会保障卡申领", "Social security card application", "社保卡",
	 "public", "person", "social-security", "new-job", 20, 10, 0, 0, "full_online", "province",
	 "参加本市社会保险的人员。", "《中华人民共和国社会保险法》第五十八条", "id,photo"},
	{"990100-RS-003", "rs", "职工基本养老保险退休申请", "Retirement pension application",
	 "退休 养老金 社保", "benefit", "person", "social-security,elderly", "retirement", 20, 10,
	 0, 1, "online_apply", "inter", "达到法定退休年龄，累计缴费满十五年。",
	 "《中华人民共和国社会保险法》第十六条", "id,social,form"},
	{"990100-RS-004", "rs", "就业创业证申领", "Employment and entrepreneurship certificate",
	 "就业登记", "public", "person", "employment", "job-loss,start-business", 5, 1, 0, 0,
	 "full_online", "province", "在法定劳动年龄内、有劳动能力和就业要求的本市常住人员。",
	 "《就业服务与就业管理规定》第六十一条", "id,photo"},
	{"990100-RS-005", "rs", "企业职工参保登记", "Employer social insurance registration",
	 "社保开户", "public", "enterprise", "social-security,employment", "start-business,new-job",
	 15, 3, 0, 0, "full_online", "province", "依法设立的用人单位自成立之日起三十日内办理。",
	 "《中华人民共和国社会保险法》第五十七条", "license,form"},
	{"990100-RS-006", "rs", "劳动人事争议仲裁申请", "Labour dispute arbitration",
	 "仲裁 劳动纠纷", "confirm", "both", "employment", "job-loss", 45, 45, 0, 1, "online_apply",
	 "local", "劳动者与用人单位发生劳动争议，自知道权利被侵害之日起一年内申请。",
	 "《中华人民共和国劳动争议调解仲裁法》第二十七条", "id,labor,form"},
	{"990100-SC-001", "sc", "企业设立登记", "Company registration",
	 "开办企业 营业执照 business licence", "permit", "enterprise", "business", "start-business",
	 15, 1, 0, 0, "full_online", "province", "有符合规定的名称、住所、章程和法定代表人。",
	 "《中华人民共和国市场主体登记管理条例》第十九条", "form,charter,lease,id"},
	{"990100-SC-002", "sc", "个体工商户登记", "Sole trader registration", "个体户", "permit",
	 "person", "business", "start-business", 15, 1, 0, 0, "full_online", "local",
	 "有经营能力的自然人，有固定经营场所。", "《促进个体工商户发展条例》", "id,lease"},
	{"990100-SC-003", "sc", "食品经营许可", "Food business licence", "餐饮 食品", "permit",
	 "enterprise", "business,health", "start-business", 20, 10, 0, 1, "online_apply", "local",
	 "具有与经营的食品品种、数量相适应的场所和设备，有食品安全管理人员。",
	 "《中华人民共和国食品安全法》第三十五条", "license,lease,health,form"},
	{"990100-SC-004", "sc", "企业注销登记", "Company deregistration", "注销", "permit",
	 "enterprise", "business", "close-business", 10, 3, 0, 0, "full_online", "province",
	 "企业已清算完毕，无未结清的债权债务。", "《中华人民共和国市场主体登记管理条例》第三十一条",
	 "license,form"},
	{"990100-GA-001", "ga", "新生儿入户", "Household registration for a newborn", "落户 户口",
	 "confirm", "person", "household,family", "birth", 10, 1, 0, 0, "online_apply", "province",
	 "新生儿父母一方为本市户籍。", "《中华人民共和国户口登记条例》第七条",
	 "birth,hukou,marriage"},
	{"990100-GA-002", "ga", "居民身份证换领", "Renewal of a resident identity card", "身份证",
	 "confirm", "person", "household", "moving", 60, 20, 2000, 1, "info", "inter",
	 "居民身份证有效期满或证件损坏。", "《中华人民共和国居民身份证法》第十一条、第二十条",
	 "id,photo"},
	{"990100-GA-003", "ga", "居住证申领", "Residence permit application", "居住证", "confirm",
	 "person", "household", "moving", 15, 7, 0, 0, "full_online", "local",
	 "离开常住户口所在地，在本市居住半年以上，有合法稳定就业、住所或就读。",
	 "《居住证暂行条例》第二条", "id,lease,photo"},
	{"990100-GA-004", "ga", "机动车驾驶证补领", "Replacement driving licence", "驾照",
	 "confirm", "person", "transport", "", 1, 1, 1000, 0, "full_online", "inter",
	 "机动车驾驶证遗失或损毁。", "《机动车驾驶证申领和使用规定》第六十二条", "id"},
	{"990100-GA-005", "ga", "机动车检验标志核发", "Vehicle inspection sticker", "年检",
	 "confirm", "both", "transport", "", 1, 1, 0, 0, "full_online", "province",
	 "机动车已经检验合格，且交通违法和事故已处理完毕。",
	 "《中华人民共和国道路交通安全法》第十三条", "vehicle"},
	{"990100-ZJ-001", "zj", "住房公积金提取", "Housing provident fund withdrawal", "公积金",
	 "benefit", "person", "housing", "buy-home,retirement", 3, 1, 0, 0, "full_online", "inter",
	 "购买、建造、翻建、大修自住住房，或离休、退休。", "《住房公积金管理条例》第二十四条",
	 "id,property"},
	{"990100-ZJ-002", "zj", "公共租赁住房申请", "Public rental housing application",
	 "公租房 保障房", "benefit", "person", "housing,social-assistance", "hardship,moving", 60,
	 40, 0, 0, "online_apply", "local",
	 "本市户籍或持居住证，家庭人均收入和住房面积低于规定标准。",
	 "《公共租赁住房管理办法》第七条", "id,hukou,income,form"},
	{"990100-ZJ-003", "zj", "建筑工程施工许可", "Construction permit", "施工", "permit",
	 "enterprise", "construction", "", 15, 7, 0, 0, "full_online", "local",
	 "已办理用地批准手续，有满足施工需要的资金安排和施工图纸。",
	 "《中华人民共和国建筑法》第八条", "license,property,form"},
	{"990100-WJ-001", "wj", "出生医学证明办理", "Medical birth certificate", "出生证", "public",
	 "person", "health,family", "birth", 5, 1, 0, 0, "online_apply", "local",
	 "在本市助产机构出生的新生儿。", "《中华人民共和国母婴保健法》第二十三条", "id,marriage"},
	{"990100-WJ-002", "wj", "医师执业注册", "Registration of a medical practitioner",
	 "医生 执业", "permit", "person", "health", "new-job", 20, 10, 0, 0, "full_online",
	 "province", "取得医师资格，经受聘医疗机构同意。", "《中华人民共和国医师法》第十三条",
	 "id,photo,health,form"},
	{"990100-WJ-003", "wj", "生育登记", "Childbirth registration", "生育服务证", "public",
	 "person", "family,health", "birth", 1, 1, 0, 0, "full_online", "province",
	 "夫妻双方任一方户籍或居住地在本市。", "《中华人民共和国人口与计划生育法》", "id,marriage"},
	{"990100-YB-001", "yb", "异地就医备案",
	 "Registration for medical treatment in another region", "医保 跨省 医疗保险", "public",
	 "person", "social-security,health", "moving", 1, 1, 0, 0, "full_online", "inter",
	 "参加本市基本医疗保险，需在异地长期居住或转诊就医。",
	 "《国家医疗保障局 财政部关于进一步做好基本医疗保险跨省异地就医直接结算工作的通知》",
	 "id,social"},
	{"990100-YB-002", "yb", "医疗费用零星报销", "Reimbursement of medical expenses",
	 "医保 报销", "benefit", "person", "social-security,health", "", 20, 10, 0, 0,
	 "online_apply", "local", "参保人员因急诊等原因未能直接结算的合规医疗费用。",
	 "《中华人民共和国社会保险法》第二十八条", "id,medical,form"},
	{"990100-YB-003", "yb", "城乡居民医保参保登记", "Residents' medical insurance enrolment",
	 "医保 参保 社保", "public", "person", "social-security,health", "birth,moving", 5, 1, 0, 0,
	 "full_online", "province", "未参加职工基本医疗保险的本市户籍人员或持居住证人员。",
	 "《中华人民共和国社会保险法》第二十五条", "id,hukou"},
	{"990100-SJ-001", "sj", "个人所得税纳税记录开具", "Individual income tax payment record",
	 "完税证明 纳税 税务", "public", "person", "tax", "buy-home", 1, 1, 0, 0, "full_online",
	 "inter", "在本地申报缴纳个人所得税的纳税人。", "《中华人民共和国税收征收管理法》", "id"},
	{"990100-SJ-002", "sj", "企业开办一件事", "Starting a business, all in one",
	 "开办企业 一件事 税务登记", "public", "enterprise", "business,tax", "start-business", 3, 1,
	 0, 0, "full_online", "local",
	 "新设立的企业，同时办理营业执照、公章刻制、发票申领、社保登记和公积金开户。",
	 "《国务院关于加快推进政务服务“高效办成一件事”的指导意见》", "form,charter,lease,id"},
};

/* The English of each item's conditions and legal basis, by code. */
static const struct {
	const char *code, *conditions, *basis;
} items_en[] = {
	{"990100-MZ-001",
	 "The man is at least 22 and the woman at least 20, both marry of their own free will, "
	 "neither is married, and they are not related in a way that forbids marriage.",
	 "Civil Code of the People's Republic of China, Article 1049; Regulations on Marriage "
	 "Registration, Article 4"},
	{"990100-MZ-002",
	 "Both spouses agree to divorce and have agreed on the care of their children and the "
	 "division of property and debts.",
	 "Civil Code of the People's Republic of China, Article 1076"},
	{"990100-MZ-003",
	 "The household's income per person is below the city's minimum living standard and its "
	 "property is within the set limits.",
	 "Interim Measures for Social Assistance, Articles 9 to 11"},
	{"990100-MZ-004", "Residents registered in the city who are 80 or older.",
	 "Law of the People's Republic of China on the Protection of the Rights and Interests of "
	 "the Elderly, Article 33"},
	{"990100-MZ-005",
	 "People with a second-generation disability certificate who are on a low income or "
	 "severely disabled.",
	 "State Council opinions on living subsidies for people with disabilities on low incomes "
	 "and care subsidies for the severely disabled"},
	{"990100-MZ-006",
	 "At least 50 individual or 30 organisational members, a proper name, articles of "
	 "association and a fixed address.",
	 "Regulations on the Registration of Social Organisations, Article 10"},
	{"990100-MZ-007",
	 "A resident registered in the city has died and was cremated at a funeral home in the "
	 "city.",
	 "The city's measures for funeral benefits"},
	{"990100-RS-001",
	 "Employment ended against the person's will, they have registered as unemployed and are "
	 "looking for work, and they paid unemployment insurance for at least a year.",
	 "Regulations on Unemployment Insurance, Article 14"},
	{"990100-RS-002", "Anyone insured under the city's social insurance.",
	 "Social Insurance Law of the People's Republic of China, Article 58"},
	{"990100-RS-003",
	 "The person has reached the statutory retirement age and has paid contributions for at "
	 "least 15 years in all.",
	 "Social Insurance Law of the People's Republic of China, Article 16"},
	{"990100-RS-004", "Residents of the city of working age who are able and willing to work.",
	 "Provisions on Employment Services and Employment Management, Article 61"},
	{"990100-RS-005", "An employer registers within 30 days of being set up.",
	 "Social Insurance Law of the People's Republic of China, Article 57"},
	{"990100-RS-006",
	 "A worker in a labour dispute with an employer applies within one year of learning that "
	 "their rights were infringed.",
	 "Law of the People's Republic of China on Labour Dispute Mediation and Arbitration, "
	 "Article 27"},
	{"990100-SC-001",
	 "The company has a lawful name, address, articles of association and legal "
	 "representative.",
	 "Regulations of the People's Republic of China on the Registration of Market Entities, "
	 "Article 19"},
	{"990100-SC-002", "A person able to run a business, with fixed business premises.",
	 "Regulations on Promoting the Development of Individual Businesses"},
	{"990100-SC-003",
	 "Premises and equipment suited to the kinds and amounts of food sold, and a food safety "
	 "manager.",
	 "Food Safety Law of the People's Republic of China, Article 35"},
	{"990100-SC-004", "The company has been liquidated and has no outstanding claims or debts.",
	 "Regulations of the People's Republic of China on the Registration of Market Entities, "
	 "Article 31"},
	{"990100-GA-001", "One of the newborn's parents is registered in the city.",
	 "Regulations of the People's Republic of China on Household Registration, Article 7"},
	{"990100-GA-002", "The resident identity card has expired or is damaged.",
	 "Law of the People's Republic of China on Resident Identity Cards, Articles 11 and 20"},
	{"990100-GA-003",
	 "The person has left the place of their household registration, has lived in the city for "
	 "at least six months and has a lawful job, home or place of study here.",
	 "Interim Regulations on Residence Permits, Article 2"},
	{"990100-GA-004", "The driving licence was lost or damaged.",
	 "Provisions on the Application for and Use of Motor Vehicle Driving Licences, Article 62"},
	{"990100-GA-005",
	 "The vehicle has passed its inspection and its traffic offences and accidents have been "
	 "dealt with.",
	 "Road Traffic Safety Law of the People's Republic of China, Article 13"},
	{"990100-ZJ-001", "Buying, building, rebuilding or renovating one's own home, or retiring.",
	 "Regulations on the Administration of the Housing Provident Fund, Article 24"},
	{"990100-ZJ-002",
	 "Registered in the city or holding a residence permit, with household income per person "
	 "and housing space below the set standards.",
	 "Measures for the Administration of Public Rental Housing, Article 7"},
	{"990100-ZJ-003",
	 "Land use has been approved, and funds and construction drawings are ready for the work.",
	 "Construction Law of the People's Republic of China, Article 8"},
	{"990100-WJ-001", "A baby born in a maternity facility in the city.",
	 "Law of the People's Republic of China on Maternal and Infant Health Care, Article 23"},
	{"990100-WJ-002", "The doctor is qualified and the hiring medical institution agrees.",
	 "Law of the People's Republic of China on Medical Practitioners, Article 13"},
	{"990100-WJ-003", "Either spouse is registered or lives in the city.",
	 "Population and Family Planning Law of the People's Republic of China"},
	{"990100-YB-001",
	 "Insured under the city's basic medical insurance and living in another region for a long "
	 "time or referred for treatment there.",
	 "Notice of the National Healthcare Security Administration and the Ministry of Finance on "
	 "direct settlement of medical treatment in another province"},
	{"990100-YB-002",
	 "Eligible medical costs that could not be settled directly, for example after emergency "
	 "treatment.",
	 "Social Insurance Law of the People's Republic of China, Article 28"},
	{"990100-YB-003",
	 "People registered in the city, or holding a residence permit, who are not in the "
	 "employees' basic medical insurance.",
	 "Social Insurance Law of the People's Republic of China, Article 25"},
	{"990100-SJ-001", "Taxpayers who declare and pay individual income tax here.",
	 "Law of the People's Republic of China on the Administration of Tax Collection"},
	{"990100-SJ-002",
	 "A new company that gets its business licence, company seal, invoices, social insurance "
	 "and housing fund accounts all at once.",
	 "State Council guidance on getting things done efficiently as one matter"},
};

/*
 * Items with their own application form; the others get the default one
 * (who is applying, what for, one upload per material the applicant
 * provides). The old-age allowance asks nothing a department already holds:
 * age and household come from shared data, so no upload is needed.
 */
static const struct {
	const char *code, *json;
} forms[] = {
	{"990100-MZ-004",
	 "{\"pages\": ["
	 "{\"id\": \"applicant\", \"title_zh\": \"申请人信息\", \"title_en\": \"About you\", "
	 "\"fields\": ["
	 "{\"name\": \"name\", \"type\": \"text\", \"label_zh\": \"姓名\", \"label_en\": \"Full "
	 "name\", \"required\": true, \"prefill\": \"name\"},"
	 "{\"name\": \"id_number\", \"type\": \"id_number\", \"label_zh\": \"居民身份证号码\", "
	 "\"label_en\": \"Resident ID number\", \"required\": true, \"prefill\": \"id_number\"},"
	 "{\"name\": \"phone\", \"type\": \"phone\", \"label_zh\": \"联系电话\", \"label_en\": "
	 "\"Phone number\", \"required\": true, \"prefill\": \"phone\"}]},"
	 "{\"id\": \"payment\", \"title_zh\": \"津贴发放方式\", \"title_en\": \"How the allowance "
	 "is paid\", \"fields\": ["
	 "{\"name\": \"method\", \"type\": \"radio\", \"label_zh\": \"发放到\", \"label_en\": "
	 "\"Pay it into\", \"required\": true,"
	 " \"options\": [{\"value\": \"social_card\", \"zh\": \"本人社会保障卡\", \"en\": \"My "
	 "social security card\"},"
	 " {\"value\": \"bank\", \"zh\": \"本人银行账户\", \"en\": \"My bank account\"}]},"
	 "{\"name\": \"bank\", \"type\": \"text\", \"label_zh\": \"开户银行\", \"label_en\": "
	 "\"Bank\", \"required\": true, \"max\": 60,"
	 " \"when\": {\"field\": \"method\", \"equals\": \"bank\"}},"
	 "{\"name\": \"account\", \"type\": \"text\", \"max\": 30, \"label_zh\": \"银行账号\", "
	 "\"label_en\": \"Account number\", \"required\": true,"
	 " \"hint_zh\": \"请填写本人名下的银行卡号，只填数字。\", \"hint_en\": \"A card in your "
	 "own name; digits only.\","
	 " \"when\": {\"field\": \"method\", \"equals\": \"bank\"}}]},"
	 "{\"id\": \"more\", \"title_zh\": \"其他情况\", \"title_en\": \"Anything else\", "
	 "\"fields\": ["
	 "{\"name\": \"note\", \"type\": \"textarea\", \"label_zh\": \"需要说明的情况\", "
	 "\"label_en\": \"Anything we should know\", \"max\": 500}]}"
	 "]}"},
	/* public rental housing: the household's size and address and the applicant's birth
	   date come from the registries (the exchange's pre-fill step), not from the applicant */
	{"990100-ZJ-002",
	 "{\"pages\": ["
	 "{\"id\": \"applicant\", \"title_zh\": \"申请人信息\", \"title_en\": \"About you\", "
	 "\"fields\": ["
	 "{\"name\": \"name\", \"type\": \"text\", \"label_zh\": \"姓名\", \"label_en\": \"Full "
	 "name\", \"required\": true, \"prefill\": \"name\"},"
	 "{\"name\": \"id_number\", \"type\": \"id_number\", \"label_zh\": \"居民身份证号码\", "
	 "\"label_en\": \"Resident ID number\", \"required\": true, \"prefill\": \"id_number\"},"
	 "{\"name\": \"birth_date\", \"type\": \"date\", \"label_zh\": \"出生日期\", "
	 "\"label_en\": \"Date of birth\", \"required\": true, \"registry\": "
	 "\"person.birth_date\"}]},"
	 "{\"id\": \"household\", \"title_zh\": \"家庭情况\", \"title_en\": \"Your household\", "
	 "\"fields\": ["
	 "{\"name\": \"household_size\", \"type\": \"number\", \"label_zh\": \"家庭人口\", "
	 "\"label_en\": \"People in the household\", \"required\": true, \"min\": 1, \"max\": 20, "
	 "\"registry\": \"household.size\"},"
	 "{\"name\": \"address\", \"type\": \"text\", \"label_zh\": \"现住址\", \"label_en\": "
	 "\"Current address\", \"required\": true, \"max\": 100, \"registry\": "
	 "\"household.address\"},"
	 "{\"name\": \"income\", \"type\": \"number\", \"label_zh\": \"家庭月收入（元）\", "
	 "\"label_en\": \"Household income a month (yuan)\", \"required\": true, \"min\": 0, "
	 "\"max\": 1000000}]}"
	 "]}"},
};

static void add_materials(json_t *it, const char *keys)
{
	json_t *list = json_array();
	while (*keys) {
		const char *e = strchr(keys, ',');
		size_t n = e ? (size_t)(e - keys) : strlen(keys);
		for (size_t i = 0; i < sizeof(mats) / sizeof(mats[0]); i++) {
			const struct demo_mat *m = &mats[i];
			if (strlen(m->key) != n || strncmp(m->key, keys, n))
				continue;
			json_array_append_new(
				list, json_pack("{s:s, s:s, s:b, s:s, s:i, s:s, s:s}", "name_zh",
						m->zh, "name_en", m->en, "required",
						strcmp(m->key, "photo") != 0, "medium", m->medium,
						"copies", strcmp(m->medium, "paper") ? 0 : 1,
						"format", m->format, "source", m->source));
			if (!strcmp(m->key, "form")) /* the online form, printable blank */
				json_object_set_new(json_array_get(list, json_array_size(list) - 1),
						    "blank", json_string("form"));
		}
		keys += n + (e ? 1 : 0);
	}
	json_object_set_new(it, "materials", list);
}

static json_t *tags(const char *s)
{
	json_t *a = json_array();
	while (*s) {
		const char *e = strchr(s, ',');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n)
			json_array_append_new(a, json_stringn(s, n));
		s += n + (e ? 1 : 0);
	}
	return a;
}

static json_t *item_json(const struct demo_item *d)
{
	json_t *it = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:i, s:i, s:i, s:s, s:i, s:s, s:s, "
		"s:s, s:s}",
		"code", d->code, "dept", d->dept, "name_zh", d->zh, "name_en", d->en, "aliases",
		d->aliases, "kind", d->kind, "audience", d->audience, "themes", tags(d->themes),
		"events", tags(d->events), "statutory_days", d->statutory, "promised_days",
		d->promised, "fee_fen", d->fee_fen, "fee_basis",
		d->fee_fen ? "《国家发展改革委 财政部关于规范证照工本费的通知》" : "", "trips",
		d->trips, "depth", d->depth, "scope", d->scope, "legal_basis", d->basis,
		"conditions", d->conditions);
	json_object_set_new(it, "place",
			    json_string("市民中心政务服务大厅（人民路1号）一楼综合窗口"));
	json_object_set_new(it, "hours",
			    json_string("周一至周五 9:00–12:00，13:30–17:00（法定节假日除外）"));
	json_object_set_new(it, "consult", json_string("12345 政务服务便民热线；窗口现场咨询"));
	json_object_set_new(
		it, "complain",
		json_string("12345 热线；“好差评”评价；市政务服务和数据管理局投诉窗口"));
	json_object_set_new(it, "place_en",
			    json_string("Citizen Service Centre (1 Renmin Road), ground floor, "
					"general counter"));
	json_object_set_new(it, "hours_en",
			    json_string("Monday to Friday 9:00–12:00 and 13:30–17:00 (closed on "
					"public holidays)"));
	json_object_set_new(
		it, "consult_en",
		json_string("The 12345 government service hotline, or ask at the counter"));
	json_object_set_new(
		it, "complain_en",
		json_string("The 12345 hotline; the service rating; the complaints "
			    "counter of the city's government service and data bureau"));
	if (d->fee_fen)
		json_object_set_new(
			it, "fee_basis_en",
			json_string("Notice of the National Development and Reform "
				    "Commission and the Ministry of Finance on fees for "
				    "certificates"));
	for (size_t i = 0; i < sizeof(items_en) / sizeof(items_en[0]); i++)
		if (!strcmp(items_en[i].code, d->code)) {
			json_object_set_new(it, "conditions_en",
					    json_string(items_en[i].conditions));
			json_object_set_new(it, "legal_basis_en", json_string(items_en[i].basis));
		}
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		if (!strcmp(forms[i].code, d->code))
			json_object_set_new(it, "form", json_loads(forms[i].json, 0, NULL));
	add_materials(it, d->materials);
	json_t *faq = json_array();
	bool counter = strcmp(d->depth, "info") == 0;
	json_array_append_new(
		faq,
		json_pack("{s:s, s:s, s:s, s:s}", "q", "可以网上办理吗？", "a",
			  counter ? "需到窗口办理，可先在网上预约并查看所需材料。"
				  : "可以，在本页点击“在线办理”，按提示填写并上传材料。",
			  "q_en", "Can I do this online?", "a_en",
			  counter ? "You need to come to the counter; you can book a time online "
				    "and check what to bring first."
				  : "Yes: choose \"Start now\" on this page, fill in the form and "
				    "upload the materials."));
	json_array_append_new(
		faq,
		json_pack("{s:s, s:s, s:s, s:s}", "q", "部门出具的证照需要自己提交吗？", "a",
			  "标注“可共享获取”的材料由系统通过数据共享获取，无需您再提交。", "q_en",
			  "Do I have to send certificates a department issued?", "a_en",
			  "No: materials marked as available from shared data are fetched "
			  "through data sharing; you do not need to send them."));
	json_object_set_new(it, "faq", faq);
	return it;
}

dg_rc dg_catalog_demo_seed(struct dg_env *env, struct dg_db *db, const struct dg_demo_opts *o,
			   struct dg_err *err)
{
	(void)env;
	(void)o;
	dg_rc rc = DG_OK;
	for (size_t i = 0; rc == DG_OK && i < sizeof(items) / sizeof(items[0]); i++) {
		json_t *it = item_json(&items[i]);
		rc = cat_put_draft(db, it, NULL, err);
		if (!rc)
			rc = cat_publish(db, items[i].code, err);
		json_decref(it);
	}
	return rc;
}
