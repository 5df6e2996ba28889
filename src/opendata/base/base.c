/*
 * base.c - what every part of the open data shares (base.h): the
 * catalogue's tables, the writer of a request, and the helpers over rows
 * and times. The catalogue's own reads and writes are in catalog/.
 */
#include "opendata/base/base.h"

#include "search/search.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/date.h"
#include "node/env.h"

/*
 * The catalogue's themes (its CKAN groups, whose id is the theme) and the
 * name each is known by to CKAN's clients: a slug of the theme's English
 * name (templates/i18n/data.en.json), since CKAN's names are 2 to 100 of
 * [a-z0-9_-] and `ckanapi load groups`, harvesters and /group/{name} IRIs
 * take nothing else. Fixed here, not taken from the translations at run
 * time: a name, once given, is what clients hold. Each as X(theme, name).
 */
#define THEMES(X)                                                                                  \
	X("社会救助", "social-assistance")                                                         \
	X("养老服务", "elderly-care")                                                              \
	X("民政", "civil-affairs")                                                                 \
	X("就业创业", "employment-and-business-start-ups")                                         \
	X("社会保障", "social-security")                                                           \
	X("市场监管", "market-regulation")                                                         \
	X("卫生健康", "health")                                                                    \
	X("公共安全", "public-security")                                                           \
	X("城乡建设", "urban-and-rural-construction")                                              \
	X("医疗保障", "medical-insurance")                                                         \
	X("政务服务", "government-services")                                                       \
	X("生态环境", "ecology-and-environment")                                                   \
	X("交通运输", "transport")                                                                 \
	X("教育文化", "education-and-culture")                                                     \
	X("农业农村", "agriculture-and-rural-affairs")                                             \
	X("财税金融", "public-finance-and-taxation")                                               \
	X("文化旅游", "culture-and-tourism")                                                       \
	X("气象服务", "weather-services")                                                          \
	X("科技创新", "science-and-innovation")                                                    \
	X("应急管理", "emergency-management")                                                      \
	X("综合统计", "statistics")
/* THEMES as rows (id, name) of SQL */
#define THEME_ROW(theme, name) " UNION ALL SELECT '" theme "', '" name "'"
#define THEMES_TABLE           "(SELECT '' AS id, '' AS name WHERE 1 = 0" THEMES(THEME_ROW) ")"

const struct dg_migration dg_opendata_migrations[] = {
	{"opendata-001-packages",
	 "CREATE TABLE od_packages ("
	 " id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, title TEXT NOT NULL,"
	 " notes TEXT NOT NULL DEFAULT '', license_id TEXT NOT NULL DEFAULT 'notspecified',"
	 " author TEXT NOT NULL DEFAULT '', maintainer TEXT NOT NULL DEFAULT '',"
	 " url TEXT NOT NULL DEFAULT '', version TEXT NOT NULL DEFAULT '',"
	 " state TEXT NOT NULL DEFAULT 'active', private INTEGER NOT NULL DEFAULT 0,"
	 " metadata_created BIGINT NOT NULL, metadata_modified BIGINT NOT NULL,"
	 " owner_dept TEXT NOT NULL, theme TEXT NOT NULL DEFAULT '',"
	 " frequency TEXT NOT NULL DEFAULT '', region TEXT NOT NULL DEFAULT '',"
	 " tier TEXT NOT NULL DEFAULT 'open');"
	 "CREATE INDEX od_packages_dept ON od_packages(owner_dept);"
	 "CREATE TABLE od_resources ("
	 " id TEXT PRIMARY KEY, package_id TEXT NOT NULL REFERENCES od_packages(id),"
	 " name TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '',"
	 " format TEXT NOT NULL DEFAULT '', url TEXT NOT NULL DEFAULT '',"
	 " url_type TEXT NOT NULL DEFAULT 'link', size BIGINT, mimetype TEXT NOT NULL DEFAULT '',"
	 " created BIGINT NOT NULL, last_modified BIGINT NOT NULL, position INTEGER NOT NULL);"
	 "CREATE INDEX od_resources_pkg ON od_resources(package_id, position);"
	 "CREATE TABLE od_tags (package_id TEXT NOT NULL REFERENCES od_packages(id),"
	 " name TEXT NOT NULL, PRIMARY KEY (package_id, name));"},
	/* CKAN's free extras and the contact e-mails, for package_create/update */
	{"opendata-002-extras",
	 "ALTER TABLE od_packages ADD COLUMN author_email TEXT NOT NULL DEFAULT '';"
	 "ALTER TABLE od_packages ADD COLUMN maintainer_email TEXT NOT NULL DEFAULT '';"
	 "CREATE TABLE od_extras (package_id TEXT NOT NULL REFERENCES od_packages(id),"
	 " key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (package_id, key));"
	 "CREATE INDEX od_tags_name ON od_tags(name);"},
	/* uploaded files (catalog/file.c): their hash, the name kept on disk, the name shown */
	{"opendata-003-files",
	 "ALTER TABLE od_resources ADD COLUMN hash TEXT NOT NULL DEFAULT '';"
	 "ALTER TABLE od_resources ADD COLUMN file_key TEXT NOT NULL DEFAULT '';"
	 "ALTER TABLE od_resources ADD COLUMN file_name TEXT NOT NULL DEFAULT '';"},
	/*
	 * the full-text index (catalog/index.c): a dataset's document id, kept
	 * unique by a trigger on SQLite (the next after the largest, which
	 * VACUUM cannot renumber as it may rowids) and a sequence on PostgreSQL
	 */
	{"opendata-004-search",
	 "{{sqlite}}ALTER TABLE od_packages ADD COLUMN search_id INTEGER;"
	 "UPDATE od_packages SET search_id = rowid;"
	 "CREATE TRIGGER od_packages_search_id AFTER INSERT ON od_packages"
	 " WHEN new.search_id IS NULL BEGIN UPDATE od_packages SET search_id ="
	 " (SELECT COALESCE(MAX(search_id), 0) + 1 FROM od_packages) WHERE rowid = new.rowid; END;"
	 "{{end}}"
	 "{{pg}}ALTER TABLE od_packages ADD COLUMN search_id BIGSERIAL;{{end}}"
	 "CREATE UNIQUE INDEX od_packages_search_id ON od_packages(search_id);" DG_SEARCH_MIGRATION(
		 "od_search", "title, tags, notes, res")},
	/* CKAN's free resource keys (a JSON object) and a resource's own change time */
	{"opendata-005-resource-extras",
	 "ALTER TABLE od_resources ADD COLUMN extras TEXT NOT NULL DEFAULT '{}';"
	 "ALTER TABLE od_resources ADD COLUMN metadata_modified BIGINT;"},
	/*
	 * the kept counts of the whole catalogue, of each organisation and of
	 * each group (catalog/facets.c), filled from the datasets there are;
	 * and the orders the public's datasets are listed in, as indexes of
	 * those datasets only (package_search's and the pages' visibility
	 * condition names the same three columns)
	 */
	{"opendata-006-facets",
	 "CREATE TABLE od_facet_counts (scope TEXT NOT NULL, facet TEXT NOT NULL,"
	 " value TEXT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (scope, facet, "
	 "value));" DG_OD_FACETS_FILL
	 "CREATE INDEX od_packages_public_modified ON od_packages(metadata_modified DESC, name)"
	 " WHERE state = 'active' AND tier <> 'closed' AND private = 0;"
	 "CREATE INDEX od_packages_public_dept ON od_packages(owner_dept, metadata_modified DESC,"
	 " name) WHERE state = 'active' AND tier <> 'closed' AND private = 0;"
	 "CREATE INDEX od_packages_public_theme ON od_packages(theme, metadata_modified DESC, name)"
	 " WHERE state = 'active' AND tier <> 'closed' AND private = 0;"
	 "CREATE INDEX od_packages_public_title ON od_packages(title, name)"
	 " WHERE state = 'active' AND tier <> 'closed' AND private = 0;"
	 "CREATE INDEX od_packages_public_name ON od_packages(name)"
	 " WHERE state = 'active' AND tier <> 'closed' AND private = 0;"},
	/*
	 * what organization_update/patch and group_update/patch keep of an
	 * organization (a department) or a group (a theme) beyond its name:
	 * title (NULL: the department's or theme's own), description,
	 * image_url and extras (a JSON list of {key, value})
	 */
	{"opendata-007-group-meta",
	 "CREATE TABLE od_group_meta (is_org INTEGER NOT NULL, name TEXT NOT NULL, title TEXT,"
	 " description TEXT NOT NULL DEFAULT '', image_url TEXT NOT NULL DEFAULT '',"
	 " extras TEXT NOT NULL DEFAULT '[]', modified BIGINT NOT NULL,"
	 " PRIMARY KEY (is_org, name));"},
	/*
	 * a closed dataset's name starts with its organisation's code and a
	 * hyphen (catalog_int.h, dg_od_name_org), so that a clash on create
	 * reveals it to nobody outside that organisation: the closed ones named
	 * before get the prefix, or, when that name is in use, the code and their id
	 */
	{"opendata-008-closed-names",
	 "UPDATE od_packages SET name = owner_dept || '-' || name"
	 " WHERE tier = 'closed' AND owner_dept <> ''"
	 " AND substr(name, 1, length(owner_dept) + 1) <> owner_dept || '-'"
	 " AND NOT EXISTS (SELECT 1 FROM od_packages o"
	 " WHERE o.name = od_packages.owner_dept || '-' || od_packages.name"
	 " OR o.id = od_packages.owner_dept || '-' || od_packages.name);"
	 "UPDATE od_packages SET name = owner_dept || '-' || id"
	 " WHERE tier = 'closed' AND owner_dept <> ''"
	 " AND substr(name, 1, length(owner_dept) + 1) <> owner_dept || '-';"},
	/*
	 * the catalogue's version, raised by every write (catalog/facets.c);
	 * the public's datasets by creation time, for the DCAT catalogue's
	 * dct:issued (its first)
	 */
	{"opendata-009-version",
	 "CREATE TABLE od_catalog_state (id BIGINT PRIMARY KEY, version BIGINT NOT NULL);"
	 "INSERT INTO od_catalog_state (id, version) VALUES (1, 1);"
	 "CREATE INDEX od_packages_public_created ON od_packages(metadata_created)"
	 " WHERE state = 'active' AND tier <> 'closed' AND private = 0;"},
	/*
	 * organization and group names (catalog/names.c): an organisation's id
	 * is its department's code and a group's its theme, and neither
	 * changes; a rename gives it another name (current = 1) and keeps
	 * every name it had (current = 0) so that old names still resolve and
	 * no other organisation or group can take them
	 */
	{"opendata-010-group-names",
	 "CREATE TABLE od_group_names (is_org INTEGER NOT NULL, name TEXT NOT NULL,"
	 " id TEXT NOT NULL, current INTEGER NOT NULL, modified BIGINT NOT NULL,"
	 " PRIMARY KEY (is_org, name));"
	 "CREATE INDEX od_group_names_id ON od_group_names(is_org, id, current);"},
	/*
	 * each public dataset's facet values by its search document (base.h),
	 * for a search's facets from the documents it matched (by its key
	 * alone: a second index by kind would draw SQLite's planner into
	 * scanning a kind's rows rather than seeking each document's); and the
	 * search index written again at start (catalog/index.c), now that it
	 * holds the English titles and notes too
	 */
	{"opendata-011-dataset-facets",
	 "CREATE TABLE od_dataset_facets (doc BIGINT NOT NULL, kind TEXT NOT NULL,"
	 " value TEXT NOT NULL, PRIMARY KEY (doc, kind, value))"
	 "{{sqlite}} WITHOUT ROWID{{end}};" DG_OD_DATASET_FACETS_FILL
	 "CREATE TABLE IF NOT EXISTS search_built (name TEXT PRIMARY KEY, version BIGINT NOT NULL);"
	 "DELETE FROM search_built WHERE name = 'od_search';"},
	/*
	 * each theme's name from THEMES as its current name (catalog/names.c),
	 * its theme staying its id and so one of its names, which therefore
	 * still answers; unless the group was renamed before (its name is the
	 * one an administrator chose) or the name is already another group's
	 * name or theme. Kept searches hold names: they are counted again.
	 */
	{"opendata-012-theme-names",
	 "INSERT INTO od_group_names (is_org, name, id, current, modified)"
	 " SELECT 0, t.name, t.id, 1, 0 FROM " THEMES_TABLE " t"
	 " WHERE NOT EXISTS (SELECT 1 FROM od_group_names g WHERE g.is_org = 0"
	 " AND (g.id = t.id OR g.name = t.name))"
	 " AND NOT EXISTS (SELECT 1 FROM od_packages p WHERE p.theme = t.name);"
	 "UPDATE od_catalog_state SET version = version + 1 WHERE id = 1;"},
	/*
	 * the catalogue's version at which each search document's rows last
	 * changed (doc -1: all of them, a bulk load's recount), so that a node
	 * holding the public's documents in memory (catalog/docmap.c) reads
	 * again only what changed since the version it holds
	 */
	{"opendata-013-doc-changes",
	 "CREATE TABLE od_doc_changes (doc BIGINT PRIMARY KEY, version BIGINT NOT NULL);"
	 "CREATE INDEX od_doc_changes_version ON od_doc_changes (version);"},
	/*
	 * search documents hold their group's and organisation's names
	 * (catalog/index.c): every document is written again at start, and
	 * kept searches are counted again
	 */
	{"opendata-014-search-group-names",
	 "DELETE FROM search_built WHERE name = 'od_search';"
	 "UPDATE od_catalog_state SET version = version + 1 WHERE id = 1;"},
	{NULL, NULL},
};

dg_rc dg_od_dept_code(struct dg_db *db, int64_t dept_id, struct dg_arena *a, char **out)
{
	return dg_db_query_text(db, "SELECT code FROM departments WHERE id = ?",
				DG_ARGS(DG_VI(dept_id)), a, out);
}

dg_rc dg_od_writer(struct dg_req *r, struct dg_db *db, bool token_only, const char **out)
{
	const struct dg_user *u = r->user;
	*out = NULL;
	if (!u || (token_only && !u->via_token))
		return DG_OK;
	if (u->role == DG_ROLE_ADMIN) {
		*out = "*";
		return DG_OK;
	}
	if (u->role != DG_ROLE_STAFF)
		return DG_OK;
	char *code = NULL;
	dg_rc rc = dg_od_dept_code(db, u->dept_id, r->arena, &code);
	if (rc && rc != DG_ENOTFOUND)
		return rc;
	*out = code;
	return DG_OK;
}

bool dg_od_may_edit(const char *mine, const char *dept)
{
	return mine && dept && (strcmp(mine, "*") == 0 || strcmp(mine, dept) == 0);
}

dg_rc dg_od_first_column(struct dg_rows *rows, json_t **out)
{
	json_t *list = json_array();
	dg_rc rc;
	while ((rc = dg_rows_next(rows)) == DG_OK)
		json_array_append_new(list, json_string(dg_rows_text(rows, 0)));
	dg_rows_free(rows);
	if (rc != DG_ENOTFOUND) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return DG_OK;
}

void dg_od_iso_time(int64_t ms, char out[64])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%06d", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000) * 1000);
}

/* n digits at s as a number, or -1. */
static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

dg_rc dg_od_iso_parse(const char *s, int64_t *ms, bool *has_time)
{
	int y = digits(s, 4), mo = -1, d = -1, h = 0, mi = 0, sec = 0, frac = 0;
	*ms = 0;
	*has_time = false;
	if (y < 1 || s[4] != '-' || (mo = digits(s + 5, 2)) < 0 || s[7] != '-' ||
	    (d = digits(s + 8, 2)) < 0 || !dg_ymd_valid(y, mo, d))
		return DG_EINVAL;
	s += 10;
	if (*s == 'T' || *s == ' ') {
		*has_time = true;
		if ((h = digits(s + 1, 2)) < 0 || s[3] != ':' || (mi = digits(s + 4, 2)) < 0 ||
		    h > 23 || mi > 59)
			return DG_EINVAL;
		s += 6;
		if (*s == ':') {
			if ((sec = digits(s + 1, 2)) < 0 || sec > 59)
				return DG_EINVAL;
			s += 3;
			if (*s == '.') {
				int n = 0, scale = 100;
				for (s++; *s >= '0' && *s <= '9'; s++, n++) {
					frac += (*s - '0') * scale;
					scale /= 10;
				}
				if (n < 1 || n > 9)
					return DG_EINVAL;
			}
		}
		if (*s == 'Z')
			s++;
		else if (strcmp(s, "+00:00") == 0)
			s += 6;
	}
	if (*s)
		return DG_EINVAL;
	int64_t days = dg_day_from_ymd(y, mo, d) - dg_day_from_ymd(1970, 1, 1);
	*ms = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)sec * 1000 + frac;
	return DG_OK;
}

void dg_od_cors(struct dg_req *r)
{
	const char *origin = dg_req_header(r, "Origin");
	if (!dg_config_cors_allows(r->env->cfg, origin))
		return;
	bool any = strcmp(r->env->cfg->cors_origins, "*") == 0;
	dg_reply_header(r, "Access-Control-Allow-Origin", any ? "*" : origin);
	if (!any)
		dg_reply_header(r, "Vary",
				"Origin"); /* caches must not hand it to another origin */
}

dg_rc dg_od_cors_preflight(struct dg_req *r, bool read)
{
	if (read && dg_config_cors_allows(r->env->cfg, dg_req_header(r, "Origin"))) {
		dg_od_cors(r);
		dg_reply_header(r, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
		dg_reply_header(r, "Access-Control-Allow-Headers",
				"Authorization, X-CKAN-API-Key, Content-Type");
		dg_reply_header(r, "Access-Control-Max-Age", "86400");
	}
	dg_reply_bytes(r, 204, "text/plain; charset=utf-8", "", 0);
	return DG_OK;
}
