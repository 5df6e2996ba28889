/*
 * catalog_sql.c - every statement of the service catalogue, and its schema.
 *
 * An item (catalog_items) has versions (catalog_versions): at most one
 * 'draft', at most one 'published' (the version in force, also named by
 * catalog_items.in_force), and any number of 'superseded'. Materials belong
 * to a version. The search columns (name_tokens, tokens, see search.c) are
 * written with each version; searching reads the version in force of items
 * whose status is 'active'. The `form` column holds the item's own
 * application form (form.c), NULL for the default form.
 */
#include "catalog/internal.h"

#include "catalog/catalog.h"
#include "core/arena.h"
#include "core/mem.h"
#include "search/search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const struct dg_migration dg_catalog_migrations[] = {
	{"catalog-001-items",
	 "CREATE TABLE catalog_items ("
	 " id {{pk}}, code TEXT NOT NULL UNIQUE, dept_id BIGINT NOT NULL REFERENCES "
	 "departments(id),"
	 " status TEXT NOT NULL DEFAULT 'active', in_force BIGINT NOT NULL DEFAULT 0,"
	 " created_ms BIGINT NOT NULL);"
	 "CREATE TABLE catalog_versions ("
	 " id {{pk}}, item_id BIGINT NOT NULL REFERENCES catalog_items(id), version BIGINT NOT "
	 "NULL,"
	 " state TEXT NOT NULL, name_zh TEXT NOT NULL, name_en TEXT NOT NULL, aliases TEXT NOT "
	 "NULL,"
	 " kind TEXT NOT NULL, audience TEXT NOT NULL, themes TEXT NOT NULL, events TEXT NOT NULL,"
	 " scope TEXT NOT NULL, depth TEXT NOT NULL, statutory_days BIGINT NOT NULL,"
	 " promised_days BIGINT NOT NULL, fee_fen BIGINT NOT NULL, fee_basis TEXT NOT NULL,"
	 " trips BIGINT NOT NULL, legal_basis TEXT NOT NULL, conditions TEXT NOT NULL,"
	 " place TEXT NOT NULL, hours TEXT NOT NULL, consult TEXT NOT NULL, complain TEXT NOT NULL,"
	 " faq TEXT NOT NULL, form TEXT, name_tokens TEXT NOT NULL, tokens TEXT NOT NULL,"
	 " created_ms BIGINT NOT NULL, published_ms BIGINT NOT NULL DEFAULT 0,"
	 " UNIQUE (item_id, version));"
	 "CREATE TABLE catalog_materials ("
	 " id {{pk}}, version_id BIGINT NOT NULL REFERENCES catalog_versions(id), pos BIGINT NOT "
	 "NULL,"
	 " name_zh TEXT NOT NULL, name_en TEXT NOT NULL, required BIGINT NOT NULL, medium TEXT NOT "
	 "NULL,"
	 " copies BIGINT NOT NULL, format TEXT NOT NULL, source TEXT NOT NULL);"
	 "CREATE INDEX catalog_materials_version ON catalog_materials(version_id, pos);"},
	/* a full-text index over the search tokens (search.c): FTS5 on SQLite,
	 * a GIN index of the 'simple' tsvector on PostgreSQL */
	{"catalog-002-search",
	 "{{sqlite}}CREATE VIRTUAL TABLE catalog_fts USING fts5(tokens, tokenize = 'unicode61 "
	 "remove_diacritics 0');"
	 "INSERT INTO catalog_fts (rowid, tokens) SELECT id, tokens FROM catalog_versions;{{end}}"
	 "{{pg}}CREATE INDEX catalog_versions_fts ON catalog_versions USING GIN "
	 "(to_tsvector('simple', tokens));{{end}}"},
	/* the search module's index replaces catalog_fts (its tokens are the
	 * module's, its document a version; cat_index_rebuild fills it) */
	{"catalog-003-search-index",
	 "{{sqlite}}DROP TABLE catalog_fts;{{end}}"
	 "{{pg}}DROP INDEX catalog_versions_fts;{{end}}" DG_SEARCH_MIGRATION("catalog_search",
									     "name, body")},
	/* a material may be the application form itself, printed blank by blank.c */
	{"catalog-004-material-blank",
	 "ALTER TABLE catalog_materials ADD COLUMN blank TEXT NOT NULL DEFAULT '';"},
	/* the catalogue's version: one more at every write (bump), so pages
	 * rendered from it can be kept until it changes, on every node */
	{"catalog-005-state",
	 "CREATE TABLE catalog_state (id BIGINT PRIMARY KEY, version BIGINT NOT NULL);"
	 "INSERT INTO catalog_state (id, version) VALUES (1, 1);"},
	/* the guide's text fields in English, as a JSON object by field name
	 * (en_fields below); the FAQ's English stays in faq's own entries */
	{"catalog-006-english",
	 "ALTER TABLE catalog_versions ADD COLUMN en TEXT NOT NULL DEFAULT '{}';"},
	{NULL, NULL},
};

/*
 * Every write to the catalogue's tables raises its version first, in the
 * writer's transaction: the row's lock is then the first one any catalogue
 * writer takes on PostgreSQL, so writers queue on it in one order and never
 * deadlock on each other's items, and readers see the new version together
 * with the new rows. Outside a transaction the new version could be read
 * before the rows it stands for, and a page of the old rows kept under it:
 * refused (every caller holds one).
 */
static dg_rc bump(struct dg_db *db)
{
	if (!dg_db_in_tx(db))
		return DG_EINTERNAL;
	return dg_db_exec(db, "UPDATE catalog_state SET version = version + 1 WHERE id = 1",
			  DG_NOARGS, NULL);
}

dg_rc cat_version(struct dg_db *db, int64_t *out)
{
	return dg_db_query_int(db, "SELECT version FROM catalog_state WHERE id = 1", DG_NOARGS,
			       out);
}

/* One document a version: its names and aliases, then its conditions. */
static const struct dg_search_index cat_index = {"catalog_search", {"name", "body"}, 2};

static const char *const kinds[] = {"permit",  "benefit", "public", "confirm",
				    "inspect", "reward",  "other",  NULL};
static const char *const audiences[] = {"person", "enterprise", "both", NULL};
static const char *const scopes[] = {"local", "province", "inter", NULL};
static const char *const depths[] = {"info", "online_apply", "full_online", NULL};
static const char *const media[] = {"paper", "electronic", "both", NULL};
static const char *const sources[] = {"applicant", "department", NULL};
static const char *const blanks[] = {"", "form", NULL};

/*
 * The guide's text fields that also have an English version, which the
 * item's JSON carries as "<field>_en" (en_keys, in the same order) and the
 * store keeps in the version's "en" column as one object by field name.
 */
static const char *const en_fields[] = {"fee_basis", "legal_basis", "conditions", "place",
					"hours",     "consult",     "complain",   NULL};
static const char *const en_keys[] = {"fee_basis_en", "legal_basis_en", "conditions_en", "place_en",
				      "hours_en",     "consult_en",     "complain_en",   NULL};

static int one_of(const char *s, const char *const *list)
{
	for (; s && *list; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

static const char *str_of(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static int64_t int_of(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* A tag or code: [A-Za-z0-9-], 1..max characters. */
static int is_slug(const char *s, size_t max)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (n >= max || !((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
				  (s[n] >= '0' && s[n] <= '9') || s[n] == '-'))
			return 0;
	return n > 0;
}

static dg_rc need_text(const json_t *it, const char *k, size_t max, int required,
		       struct dg_err *err)
{
	json_t *v = json_object_get(it, k);
	if (!v && !required)
		return DG_OK;
	if (!json_is_string(v) || (required && json_string_length(v) == 0))
		return dg_err_field(err, DG_EINVAL, k, "%s: a text is required", k);
	if (json_string_length(v) > max)
		return dg_err_field(err, DG_EINVAL, k, "%s: longer than %zu bytes", k, max);
	return DG_OK;
}

static dg_rc need_count(const json_t *it, const char *k, int64_t max, struct dg_err *err)
{
	json_t *v = json_object_get(it, k);
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return dg_err_field(err, DG_EINVAL, k,
				    "%s: a whole number from 0 to %lld is required", k,
				    (long long)max);
	return DG_OK;
}

static dg_rc need_tags(const json_t *it, const char *k, struct dg_err *err)
{
	json_t *v = json_object_get(it, k), *t;
	size_t i;
	if (!v)
		return DG_OK;
	if (!json_is_array(v) || json_array_size(v) > 16)
		return dg_err_field(err, DG_EINVAL, k, "%s: a list of at most 16 tags is required",
				    k);
	json_array_foreach (v, i, t)
		if (!json_is_string(t) || !is_slug(json_string_value(t), 40))
			return dg_err_field(err, DG_EINVAL, k,
					    "%s: tags are letters, digits and '-'", k);
	return DG_OK;
}

static dg_rc need_enum(const json_t *it, const char *k, const char *const *list, struct dg_err *err)
{
	if (!one_of(json_string_value(json_object_get(it, k)), list))
		return dg_err_field(err, DG_EINVAL, k, "%s: not one of the allowed values", k);
	return DG_OK;
}

static dg_rc check_material(const json_t *m, size_t i, struct dg_err *err)
{
	if (!json_is_object(m) || !*str_of(m, "name_zh") || !*str_of(m, "name_en") ||
	    strlen(str_of(m, "name_zh")) > 400 || strlen(str_of(m, "name_en")) > 400)
		return dg_err_field(err, DG_EINVAL, "materials",
				    "materials[%zu]: name_zh and name_en are required", i);
	if (!one_of(str_of(m, "medium"), media) || !one_of(str_of(m, "source"), sources))
		return dg_err_field(err, DG_EINVAL, "materials",
				    "materials[%zu]: medium or source not allowed", i);
	if (json_object_get(m, "blank") && !one_of(str_of(m, "blank"), blanks))
		return dg_err_field(err, DG_EINVAL, "materials",
				    "materials[%zu]: blank is \"form\" or \"\"", i);
	if (int_of(m, "copies") < 0 || int_of(m, "copies") > 99)
		return dg_err_field(err, DG_EINVAL, "materials",
				    "materials[%zu]: copies from 0 to 99", i);
	return DG_OK;
}

static dg_rc check_lists(const json_t *it, struct dg_err *err)
{
	json_t *mats = json_object_get(it, "materials"), *faq = json_object_get(it, "faq"), *v;
	size_t i;
	if (mats && (!json_is_array(mats) || json_array_size(mats) > 50))
		return dg_err_field(err, DG_EINVAL, "materials", "materials: a list of at most 50");
	json_array_foreach (mats, i, v)
		if (check_material(v, i, err))
			return DG_EINVAL;
	if (faq && (!json_is_array(faq) || json_array_size(faq) > 30))
		return dg_err_field(err, DG_EINVAL, "faq", "faq: a list of at most 30");
	json_array_foreach (faq, i, v) {
		if (!*str_of(v, "q") || !*str_of(v, "a"))
			return dg_err_field(err, DG_EINVAL, "faq", "faq[%zu]: q and a are required",
					    i);
		for (const char *const *k = (const char *const[]){"q_en", "a_en", NULL}; *k; k++)
			if (json_object_get(v, *k) && (!json_is_string(json_object_get(v, *k)) ||
						       strlen(str_of(v, *k)) > 4000))
				return dg_err_field(err, DG_EINVAL, "faq",
						    "faq[%zu]: %s must be a text of at most 4000 "
						    "bytes",
						    i, *k);
	}
	return DG_OK;
}

dg_rc cat_validate(const json_t *it, struct dg_err *err)
{
	static const char *const texts[] = {"aliases",    "fee_basis", "legal_basis",
					    "conditions", "place",     "hours",
					    "consult",    "complain",  NULL};
	if (!json_is_object(it))
		return dg_err_set(err, DG_EINVAL, "an item must be a JSON object");
	if (!is_slug(str_of(it, "code"), 40))
		return dg_err_field(err, DG_EINVAL, "code",
				    "code: letters, digits and '-', at most 40");
	dg_rc rc = need_text(it, "name_zh", 200, 1, err);
	if (!rc)
		rc = need_text(it, "name_en", 300, 1, err);
	if (!rc)
		rc = need_text(it, "dept", 16, 1, err);
	for (size_t i = 0; !rc && texts[i]; i++)
		rc = need_text(it, texts[i], 4000, 0, err);
	for (size_t i = 0; !rc && en_keys[i]; i++)
		rc = need_text(it, en_keys[i], 4000, 0, err);
	if (!rc)
		rc = need_enum(it, "kind", kinds, err);
	if (!rc)
		rc = need_enum(it, "audience", audiences, err);
	if (!rc)
		rc = need_enum(it, "scope", scopes, err);
	if (!rc)
		rc = need_enum(it, "depth", depths, err);
	if (!rc)
		rc = need_count(it, "statutory_days", 3650, err);
	if (!rc)
		rc = need_count(it, "promised_days", 3650, err);
	if (!rc)
		rc = need_count(it, "fee_fen", 100000000, err);
	if (!rc)
		rc = need_count(it, "trips", 1, err);
	if (!rc && int_of(it, "promised_days") > int_of(it, "statutory_days"))
		rc = dg_err_field(err, DG_EINVAL, "promised_days",
				  "promised_days: not longer than statutory_days");
	if (!rc)
		rc = need_tags(it, "themes", err);
	if (!rc)
		rc = need_tags(it, "events", err);
	if (!rc)
		rc = check_lists(it, err);
	if (!rc && json_object_get(it, "form"))
		rc = dg_itemform_check(json_object_get(it, "form"), err);
	return rc;
}

/* ",a,b," from a JSON list of tags, so LIKE '%,a,%' finds one. */
static char *tag_text(const json_t *list)
{
	struct dg_buf b;
	json_t *v;
	size_t i;
	dg_buf_init(&b, 4096);
	int bad = dg_buf_addc(&b, ',') != DG_OK;
	json_array_foreach (list, i, v)
		bad |= dg_buf_addf(&b, "%s,", json_string_value(v)) != DG_OK;
	(void)bad; /* at most 16 tags of 40 bytes: cannot overflow */
	return dg_buf_take(&b);
}

static dg_rc item_id_for(struct dg_db *db, const json_t *it, int64_t *id, struct dg_err *err)
{
	int64_t dept = 0;
	dg_rc rc = dg_db_query_int(db, "SELECT id FROM departments WHERE code = ?",
				   DG_ARGS(DG_VT(str_of(it, "dept"))), &dept);
	if (rc == DG_ENOTFOUND)
		return dg_err_field(err, DG_EINVAL, "dept", "dept: no department with code %s",
				    str_of(it, "dept"));
	if (rc)
		return rc;
	rc = dg_db_query_int(db, "SELECT id FROM catalog_items WHERE code = ?",
			     DG_ARGS(DG_VT(str_of(it, "code"))), id);
	if (rc != DG_ENOTFOUND)
		return rc;
	rc = dg_db_exec(
		db,
		"INSERT INTO catalog_items (code, dept_id, created_ms) VALUES (?, ?, {{now_ms}})",
		DG_ARGS(DG_VT(str_of(it, "code")), DG_VI(dept)), NULL);
	if (rc)
		return rc;
	return dg_db_query_int(db, "SELECT id FROM catalog_items WHERE code = ?",
			       DG_ARGS(DG_VT(str_of(it, "code"))), id);
}

static dg_rc put_materials(struct dg_db *db, int64_t vid, const json_t *mats)
{
	json_t *m;
	size_t i;
	dg_rc rc = DG_OK;
	json_array_foreach (mats, i, m) {
		json_t *req = json_object_get(m, "required");
		rc = dg_db_exec(
			db,
			"INSERT INTO catalog_materials (version_id, pos, name_zh, name_en, "
			"required, medium,"
			" copies, format, source, blank) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			DG_ARGS(DG_VI(vid), DG_VI(i), DG_VT(str_of(m, "name_zh")),
				DG_VT(str_of(m, "name_en")), DG_VI(req ? json_is_true(req) : 1),
				DG_VT(str_of(m, "medium")), DG_VI(int_of(m, "copies")),
				DG_VT(str_of(m, "format")), DG_VT(str_of(m, "source")),
				DG_VT(str_of(m, "blank"))),
			NULL);
		if (rc)
			break;
	}
	return rc;
}

/* The search text of an item: names and aliases, then conditions. */
static dg_rc tokens_of(const json_t *it, char **name_tok, char **all_tok)
{
	struct dg_buf n, a;
	dg_buf_init(&n, 16384);
	dg_buf_init(&a, 65536);
	dg_rc rc = dg_search_tokens(str_of(it, "name_zh"), &n);
	if (!rc)
		rc = dg_search_tokens(str_of(it, "name_en"), &n);
	if (!rc)
		rc = dg_search_tokens(str_of(it, "aliases"), &n);
	if (!rc)
		rc = dg_buf_adds(&a, dg_buf_str(&n));
	if (!rc)
		rc = dg_search_tokens(str_of(it, "conditions"), &a);
	if (!rc)
		rc = dg_search_tokens(str_of(it, "conditions_en"), &a);
	*name_tok = dg_buf_take(&n);
	*all_tok = dg_buf_take(&a);
	dg_buf_release(&n);
	dg_buf_release(&a);
	return rc;
}

/*
 * Write version vid's document in the search index: its names and aliases,
 * then its conditions in Chinese and English, so English words find it too.
 */
static dg_rc index_version(struct dg_db *db, int64_t vid, const json_t *it)
{
	struct dg_buf names, body;
	dg_buf_init(&names, 65536);
	dg_buf_init(&body, 65536);
	dg_rc rc = dg_buf_addf(&names, "%s %s %s", str_of(it, "name_zh"), str_of(it, "name_en"),
			       str_of(it, "aliases"));
	if (!rc)
		rc = dg_buf_addf(&body, "%s %s", str_of(it, "conditions"),
				 str_of(it, "conditions_en"));
	const char *texts[2] = {dg_buf_str(&names), dg_buf_str(&body)};
	if (!rc)
		rc = dg_search_put(db, &cat_index, vid, texts);
	dg_buf_release(&names);
	dg_buf_release(&body);
	return rc;
}

/* The "<field>_en" texts of an item as the object the "en" column keeps (owned). */
static char *en_text(const json_t *it)
{
	json_t *o = json_object();
	for (size_t i = 0; en_fields[i]; i++)
		if (*str_of(it, en_keys[i]))
			json_object_set(o, en_fields[i], json_object_get(it, en_keys[i]));
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* The "en" column's object back into the item's "<field>_en" members. */
static void en_read(json_t *it, const char *text)
{
	json_t *o = json_loads(text ? text : "{}", 0, NULL);
	for (size_t i = 0; en_fields[i]; i++) {
		const char *v = json_string_value(json_object_get(o, en_fields[i]));
		json_object_set_new(it, en_keys[i], json_string(v ? v : ""));
	}
	json_decref(o);
}

dg_rc cat_index_rebuild(struct dg_db *db)
{
	bool stale = false;
	dg_rc rc = dg_search_stale(db, cat_index.table, &stale);
	if (rc || !stale)
		return rc;
	struct dg_rows *rw = NULL;
	json_t *rows = json_array();
	rc = dg_db_begin(db);
	if (!rc)
		rc = bump(db);
	if (!rc)
		rc = dg_db_query(db,
				 "SELECT id, name_zh, name_en, aliases, conditions, en FROM "
				 "catalog_versions",
				 DG_NOARGS, &rw);
	while (!rc && (rc = dg_rows_next(rw)) == DG_OK)
		json_array_append_new(rows,
				      json_pack("[I, s, s, s, s, s]",
						(json_int_t)dg_rows_int(rw, 0), dg_rows_text(rw, 1),
						dg_rows_text(rw, 2), dg_rows_text(rw, 3),
						dg_rows_text(rw, 4), dg_rows_text(rw, 5)));
	dg_rows_free(rw);
	rc = rc == DG_ENOTFOUND ? DG_OK : rc;
	size_t i;
	json_t *r;
	json_array_foreach (rows, i, r) {
		if (rc)
			break;
		json_t *it = json_pack("{s:O, s:O, s:O, s:O}", "name_zh", json_array_get(r, 1),
				       "name_en", json_array_get(r, 2), "aliases",
				       json_array_get(r, 3), "conditions", json_array_get(r, 4));
		en_read(it, json_string_value(json_array_get(r, 5)));
		int64_t vid = (int64_t)json_integer_value(json_array_get(r, 0));
		char *nt = NULL, *at = NULL;
		rc = tokens_of(it, &nt, &at);
		if (!rc)
			rc = dg_db_exec(db,
					"UPDATE catalog_versions SET name_tokens = ?, tokens = ? "
					"WHERE id = ?",
					DG_ARGS(DG_VT(nt), DG_VT(at), DG_VI(vid)), NULL);
		if (!rc)
			rc = index_version(db, vid, it);
		free(nt);
		free(at);
		json_decref(it);
	}
	json_decref(rows);
	if (!rc)
		rc = dg_search_built(db, cat_index.table);
	if (!rc)
		rc = dg_db_commit(db);
	if (rc && dg_db_in_tx(db))
		dg_db_rollback(db);
	return rc;
}

static dg_rc insert_version(struct dg_db *db, int64_t item, int64_t ver, const json_t *it,
			    const char *nt, const char *at, const char *themes, const char *events,
			    const char *faq, const char *form, const char *en)
{
	struct dg_val args[] = {
		DG_VI(item),
		DG_VI(ver),
		DG_VT(str_of(it, "name_zh")),
		DG_VT(str_of(it, "name_en")),
		DG_VT(str_of(it, "aliases")),
		DG_VT(str_of(it, "kind")),
		DG_VT(str_of(it, "audience")),
		DG_VT(themes),
		DG_VT(events),
		DG_VT(str_of(it, "scope")),
		DG_VT(str_of(it, "depth")),
		DG_VI(int_of(it, "statutory_days")),
		DG_VI(int_of(it, "promised_days")),
		DG_VI(int_of(it, "fee_fen")),
		DG_VT(str_of(it, "fee_basis")),
		DG_VI(int_of(it, "trips")),
		DG_VT(str_of(it, "legal_basis")),
		DG_VT(str_of(it, "conditions")),
		DG_VT(str_of(it, "place")),
		DG_VT(str_of(it, "hours")),
		DG_VT(str_of(it, "consult")),
		DG_VT(str_of(it, "complain")),
		DG_VT(faq),
		DG_VT(nt),
		DG_VT(at),
		DG_VT(form),
		DG_VT(en),
	};
	return dg_db_exec(
		db,
		"INSERT INTO catalog_versions (item_id, version, state, name_zh, name_en, aliases, "
		"kind,"
		" audience, themes, events, scope, depth, statutory_days, promised_days, fee_fen,"
		" fee_basis, trips, legal_basis, conditions, place, hours, consult, complain, faq,"
		" name_tokens, tokens, form, en, created_ms) VALUES (?, ?, 'draft', ?, ?, ?, ?, ?, "
		"?, "
		"?, ?,"
		" ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {{now_ms}})",
		args, sizeof(args) / sizeof(args[0]), NULL);
}

dg_rc cat_put_draft(struct dg_db *db, const json_t *it, int64_t *item_id, struct dg_err *err)
{
	char *nt = NULL, *at = NULL, *themes = NULL, *events = NULL, *faq = NULL, *form = NULL;
	char *en = NULL;
	int64_t item = 0, ver = 0, vid = 0, drafts = 0;
	dg_rc rc = cat_validate(it, err);
	if (!rc)
		rc = bump(db);
	if (!rc)
		rc = item_id_for(db, it, &item, err);
	if (!rc)
		rc = dg_db_query_int(db,
				     "SELECT COUNT(*) FROM catalog_versions WHERE item_id = ? AND "
				     "state = 'draft'",
				     DG_ARGS(DG_VI(item)), &drafts);
	if (!rc && drafts)
		rc = dg_err_field(err, DG_ECONFLICT, "code", "%s: a draft exists already",
				  str_of(it, "code"));
	if (!rc)
		rc = dg_db_query_int(
			db,
			"SELECT COALESCE(MAX(version), 0) FROM catalog_versions WHERE item_id = ?",
			DG_ARGS(DG_VI(item)), &ver);
	if (rc)
		goto out;
	rc = tokens_of(it, &nt, &at);
	if (rc) {
		dg_err_set(err, rc, "%s: the text is too long to index", str_of(it, "code"));
		goto out;
	}
	themes = tag_text(json_object_get(it, "themes"));
	events = tag_text(json_object_get(it, "events"));
	json_t *f = json_object_get(it, "faq");
	faq = f ? json_dumps(f, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	json_t *fm = json_object_get(it, "form");
	form = fm ? json_dumps(fm, JSON_COMPACT) : NULL;
	en = en_text(it);
	rc = insert_version(db, item, ver + 1, it, nt, at, themes, events, faq ? faq : "[]", form,
			    en);
	if (!rc)
		rc = dg_db_query_int(
			db, "SELECT id FROM catalog_versions WHERE item_id = ? AND version = ?",
			DG_ARGS(DG_VI(item), DG_VI(ver + 1)), &vid);
	if (!rc)
		rc = index_version(db, vid, it);
	if (!rc)
		rc = put_materials(db, vid, json_object_get(it, "materials"));
	if (!rc && item_id)
		*item_id = item;
out:
	free(nt);
	free(at);
	free(themes);
	free(events);
	free(faq);
	free(form);
	free(en);
	return rc;
}

dg_rc cat_publish(struct dg_db *db, const char *code, struct dg_err *err)
{
	int64_t item = 0, ver = 0;
	dg_rc rc = bump(db);
	if (!rc)
		rc = dg_db_query_int(db, "SELECT id FROM catalog_items WHERE code = ?",
				     DG_ARGS(DG_VT(code)), &item);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, rc, "%s: no such item", code);
	if (!rc)
		rc = dg_db_query_int(db,
				     "SELECT version FROM catalog_versions WHERE item_id = ? AND "
				     "state = 'draft'",
				     DG_ARGS(DG_VI(item)), &ver);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, DG_ECONFLICT, "%s: there is no draft to publish", code);
	if (!rc)
		rc = dg_db_exec(db,
				"UPDATE catalog_versions SET state = 'superseded' WHERE item_id = "
				"? AND state = 'published'",
				DG_ARGS(DG_VI(item)), NULL);
	if (!rc)
		rc = dg_db_exec(
			db,
			"UPDATE catalog_versions SET state = 'published', published_ms = {{now_ms}}"
			" WHERE item_id = ? AND version = ?",
			DG_ARGS(DG_VI(item), DG_VI(ver)), NULL);
	if (!rc)
		rc = dg_db_exec(
			db, "UPDATE catalog_items SET in_force = ?, status = 'active' WHERE id = ?",
			DG_ARGS(DG_VI(ver), DG_VI(item)), NULL);
	return rc;
}

dg_rc cat_retire(struct dg_db *db, const char *code, struct dg_err *err)
{
	int64_t n = 0;
	dg_rc rc = bump(db);
	if (!rc)
		rc = dg_db_exec(db,
				"UPDATE catalog_items SET status = 'retired' WHERE code = ? AND "
				"status = 'active'",
				DG_ARGS(DG_VT(code)), &n);
	if (!rc && n == 0)
		rc = dg_err_set(err, DG_ENOTFOUND, "%s: no such active item", code);
	return rc;
}

dg_rc cat_amend(struct dg_db *db, const char *code, struct dg_err *err)
{
	json_t *it = NULL;
	dg_rc rc = cat_get(db, code, &it);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, rc, "%s: no version in force to amend", code);
	if (!rc)
		rc = cat_put_draft(db, it, NULL, err);
	json_decref(it);
	return rc;
}

/* ---- reading ---------------------------------------------------------- */

#define VCOLS                                                                                      \
	"i.code, d.code, d.name_zh, d.name_en, v.name_zh, v.name_en, v.aliases, v.kind, "          \
	"v.audience,"                                                                              \
	" v.themes, v.events, v.scope, v.depth, v.statutory_days, v.promised_days, v.fee_fen, "    \
	"v.fee_basis,"                                                                             \
	" v.trips, v.legal_basis, v.conditions, v.place, v.hours, v.consult, v.complain, v.faq, "  \
	"v.id,"                                                                                    \
	" i.status, v.version, i.dept_id, v.form, v.published_ms, v.en"

/* ",a,b," -> ["a","b"] */
static json_t *tag_list(const char *s)
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

static json_t *row_json(struct dg_rows *rw)
{
	static const char *const names[] = {
		"code", "dept",     "dept_name_zh", "dept_name_en", "name_zh", "name_en", "aliases",
		"kind", "audience", "themes",       "events",       "scope",   "depth"};
	json_t *o = json_object();
	for (int c = 0; c < 13; c++)
		json_object_set_new(o, names[c],
				    (c == 9 || c == 10) ? tag_list(dg_rows_text(rw, c))
							: json_string(dg_rows_text(rw, c)));
	static const char *const ints[] = {"statutory_days", "promised_days", "fee_fen"};
	for (int c = 0; c < 3; c++)
		json_object_set_new(o, ints[c], json_integer(dg_rows_int(rw, 13 + c)));
	json_object_set_new(o, "fee_basis", json_string(dg_rows_text(rw, 16)));
	json_object_set_new(o, "trips", json_integer(dg_rows_int(rw, 17)));
	static const char *const more[] = {"legal_basis", "conditions", "place",
					   "hours",       "consult",    "complain"};
	for (int c = 0; c < 6; c++)
		json_object_set_new(o, more[c], json_string(dg_rows_text(rw, 18 + c)));
	json_t *faq = json_loads(dg_rows_text(rw, 24), 0, NULL);
	json_object_set_new(o, "faq", faq ? faq : json_array());
	json_object_set_new(o, "status", json_string(dg_rows_text(rw, 26)));
	json_object_set_new(o, "version", json_integer(dg_rows_int(rw, 27)));
	json_object_set_new(o, "dept_id", json_integer(dg_rows_int(rw, 28)));
	json_t *form = dg_rows_isnull(rw, 29) ? NULL : json_loads(dg_rows_text(rw, 29), 0, NULL);
	if (form)
		json_object_set_new(o, "form", form);
	/* the guide's "last updated": the day this version was published (local time) */
	int64_t pub = dg_rows_int(rw, 30);
	if (pub > 0) {
		char day[16];
		time_t t = (time_t)(pub / 1000);
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
		json_object_set_new(o, "updated_on", json_string(day));
	}
	en_read(o, dg_rows_text(rw, 31));
	return o;
}

static dg_rc load_materials(struct dg_db *db, int64_t vid, json_t *item)
{
	struct dg_rows *rw = NULL;
	json_t *list = json_array();
	json_object_set_new(item, "materials", list);
	dg_rc rc = dg_db_query(
		db,
		"SELECT name_zh, name_en, required, medium, copies, format, source, blank "
		"FROM catalog_materials"
		" WHERE version_id = ? ORDER BY pos",
		DG_ARGS(DG_VI(vid)), &rw);
	while (!rc && (rc = dg_rows_next(rw)) == DG_OK) {
		json_t *m = json_object();
		json_object_set_new(m, "name_zh", json_string(dg_rows_text(rw, 0)));
		json_object_set_new(m, "name_en", json_string(dg_rows_text(rw, 1)));
		json_object_set_new(m, "required", json_boolean(dg_rows_int(rw, 2)));
		json_object_set_new(m, "medium", json_string(dg_rows_text(rw, 3)));
		json_object_set_new(m, "copies", json_integer(dg_rows_int(rw, 4)));
		json_object_set_new(m, "format", json_string(dg_rows_text(rw, 5)));
		json_object_set_new(m, "source", json_string(dg_rows_text(rw, 6)));
		json_object_set_new(m, "blank", json_string(dg_rows_text(rw, 7)));
		json_array_append_new(list, m);
	}
	dg_rows_free(rw);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

/* The version of code that cond (on v and i) picks, as item JSON. */
static dg_rc get_where(struct dg_db *db, const char *code, const char *cond, json_t **out)
{
	struct dg_rows *rw = NULL;
	char sql[1024];
	*out = NULL;
	snprintf(sql, sizeof(sql),
		 "SELECT " VCOLS " FROM catalog_items i JOIN departments d ON d.id = i.dept_id"
		 " JOIN catalog_versions v ON v.item_id = i.id AND %s WHERE i.code = ?",
		 cond);
	dg_rc rc = dg_db_query(db, sql, DG_ARGS(DG_VT(code)), &rw);
	if (!rc)
		rc = dg_rows_next(rw);
	int64_t vid = rc ? 0 : dg_rows_int(rw, 25);
	if (!rc)
		*out = row_json(rw);
	dg_rows_free(rw);
	if (!rc)
		rc = load_materials(db, vid, *out);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

dg_rc cat_get(struct dg_db *db, const char *code, json_t **out)
{
	return get_where(db, code, "v.version = i.in_force", out);
}

dg_rc cat_get_draft(struct dg_db *db, const char *code, json_t **out)
{
	return get_where(db, code, "v.state = 'draft'", out);
}

dg_rc cat_save_draft(struct dg_db *db, const json_t *it, struct dg_err *err)
{
	int64_t vid = 0;
	dg_rc rc = cat_validate(it, err);
	if (!rc)
		rc = bump(db);
	if (rc)
		return rc;
	rc = dg_db_query_int(
		db,
		"SELECT v.id FROM catalog_versions v JOIN catalog_items i ON i.id = v.item_id"
		" WHERE i.code = ? AND v.state = 'draft'",
		DG_ARGS(DG_VT(str_of(it, "code"))), &vid);
	if (!rc)
		rc = dg_db_exec(db, "DELETE FROM catalog_materials WHERE version_id = ?",
				DG_ARGS(DG_VI(vid)), NULL);
	if (!rc)
		rc = dg_search_delete(db, &cat_index, vid);
	if (!rc)
		rc = dg_db_exec(db, "DELETE FROM catalog_versions WHERE id = ?",
				DG_ARGS(DG_VI(vid)), NULL);
	if (rc && rc != DG_ENOTFOUND)
		return rc;
	return cat_put_draft(db, it, NULL, err);
}

dg_rc cat_versions(struct dg_db *db, const char *code, json_t **out)
{
	struct dg_rows *rw = NULL;
	json_t *list = json_array();
	dg_rc rc = dg_db_query(
		db,
		"SELECT v.version, v.state, v.name_zh, v.name_en, v.created_ms, v.published_ms"
		" FROM catalog_versions v JOIN catalog_items i ON i.id = v.item_id WHERE i.code = ?"
		" ORDER BY v.version DESC",
		DG_ARGS(DG_VT(code)), &rw);
	while (!rc && (rc = dg_rows_next(rw)) == DG_OK)
		json_array_append_new(list,
				      json_pack("{s:I, s:s, s:s, s:s, s:I, s:I}", "version",
						(json_int_t)dg_rows_int(rw, 0), "state",
						dg_rows_text(rw, 1), "name_zh", dg_rows_text(rw, 2),
						"name_en", dg_rows_text(rw, 3), "created_ms",
						(json_int_t)dg_rows_int(rw, 4), "published_ms",
						(json_int_t)dg_rows_int(rw, 5)));
	dg_rows_free(rw);
	if (rc == DG_ENOTFOUND && json_array_size(list))
		rc = DG_OK;
	if (rc) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return DG_OK;
}

dg_rc cat_export(struct dg_db *db, json_t **out)
{
	struct dg_rows *rw = NULL;
	json_t *all = json_array();
	dg_rc rc =
		dg_db_query(db, "SELECT code FROM catalog_items WHERE in_force > 0 ORDER BY code",
			    DG_NOARGS, &rw);
	while (!rc && (rc = dg_rows_next(rw)) == DG_OK)
		json_array_append_new(all, json_string(dg_rows_text(rw, 0)));
	dg_rows_free(rw);
	rc = rc == DG_ENOTFOUND ? DG_OK : rc;
	for (size_t i = 0; !rc && i < json_array_size(all); i++) {
		json_t *it = NULL;
		rc = cat_get(db, json_string_value(json_array_get(all, i)), &it);
		if (!rc) {
			json_object_del(it, "dept_name_zh");
			json_object_del(it, "dept_name_en");
			json_object_del(it, "dept_id");
			json_object_del(it, "version");
			json_array_set_new(all, i, it);
		}
	}
	if (rc) {
		json_decref(all);
		all = NULL;
	}
	*out = all;
	return rc;
}

/* ---- search and browse ----------------------------------------------- */

#define SEARCH_ROWS 2000 /* bound on rows read for one search */

struct where {
	struct dg_buf sql;
	struct dg_val args[4 * CAT_MAX_TOKENS + 8];
	size_t n;
	char *owned[4 * CAT_MAX_TOKENS + 8];
	size_t nowned;
};

static const char *keep(struct where *w, char *s)
{
	w->owned[w->nowned++] = s;
	return s;
}

static dg_rc add_filter(struct where *w, const char *sql, const char *val)
{
	if (!val || !*val)
		return DG_OK;
	w->args[w->n++] = DG_VT(val);
	return dg_buf_adds(&w->sql, sql);
}

static const char *tag_pattern(struct where *w, const char *tag);

/*
 * The search: q in the search module's grammar through the catalogue's
 * index; names that hold the query's words rank first. ETOOBIG or EINVAL
 * for a query over the grammar's caps.
 */
static dg_rc build_search(enum dg_store_kind kind, struct dg_arena *a, const struct cat_query *q,
			  struct where *w)
{
	struct dg_search_expr *e = NULL;
	struct dg_err err = {0};
	dg_rc rc = dg_search_parse(a, q->q, 0, &e, &err);
	size_t np = 0;
	const char *const *pats = dg_search_patterns(a, dg_search_words(a, q->q, 0, false), &np);
	if (np > CAT_MAX_TOKENS)
		np = CAT_MAX_TOKENS;
	if (!rc)
		rc = dg_buf_adds(&w->sql, "SELECT " VCOLS ", (0");
	for (size_t i = 0; !rc && i < np; i++) {
		w->args[w->n++] = DG_VT(pats[i]);
		rc = dg_buf_adds(&w->sql, " + CASE WHEN v.name_tokens LIKE ? THEN 1 ELSE 0 END");
	}
	if (!rc)
		rc = dg_buf_adds(
			&w->sql,
			") AS rank FROM catalog_items i JOIN departments d ON d.id = i.dept_id"
			" JOIN catalog_versions v ON v.item_id = i.id AND v.version = i.in_force"
			" WHERE i.status = 'active'");
	if (!rc && e) {
		struct dg_buf fq;
		dg_buf_init(&fq, 16384);
		rc = dg_search_render(kind, &cat_index, e, &fq);
		if (!rc)
			w->args[w->n++] = DG_VT(dg_arena_strdup(a, dg_buf_str(&fq)));
		dg_buf_release(&fq);
		rc = rc ? rc : dg_buf_adds(&w->sql, " AND ");
		rc = rc ? rc : dg_search_cond(kind, &cat_index, "v.id", &w->sql);
	}
	if (!rc)
		rc = add_filter(w, " AND v.themes LIKE ?", tag_pattern(w, q->theme));
	if (!rc)
		rc = add_filter(w, " AND v.events LIKE ?", tag_pattern(w, q->event));
	if (!rc)
		rc = add_filter(w, " AND d.code = ?", q->dept);
	if (!rc && q->audience && *q->audience) {
		w->args[w->n++] = DG_VT(q->audience);
		rc = dg_buf_adds(&w->sql, " AND (v.audience = ? OR v.audience = 'both')");
	}
	if (!rc)
		rc = dg_buf_adds(&w->sql, " ORDER BY rank DESC, i.code");
	return rc;
}

/* "%,tag,%" for a valid tag; a tag that cannot exist matches nothing. */
static const char *tag_pattern(struct where *w, const char *tag)
{
	if (!tag || !*tag)
		return NULL;
	struct dg_buf b;
	dg_buf_init(&b, 128);
	/* "-" never matches a ",tag," list: an impossible tag finds nothing */
	if (!is_slug(tag, 40) || dg_buf_addf(&b, "%%,%s,%%", tag) != DG_OK) {
		dg_buf_release(&b);
		return keep(w, dg_xstrdup("-"));
	}
	return keep(w, dg_buf_take(&b));
}

static json_t *summary_of(json_t *full)
{
	static const char *const keys[] = {"code",    "dept",    "dept_name_zh",  "dept_name_en",
					   "name_zh", "name_en", "kind",          "audience",
					   "themes",  "events",  "promised_days", "fee_fen",
					   "trips",   "depth",   "scope"};
	json_t *o = json_object();
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		json_object_set(o, keys[i], json_object_get(full, keys[i]));
	return o;
}

dg_rc cat_search(struct dg_db *db, const struct cat_query *q, json_t **out)
{
	struct where w = {.n = 0, .nowned = 0};
	struct dg_arena *a = dg_arena_new();
	struct dg_rows *rw = NULL;
	json_t *items = json_array();
	int64_t total = 0, first = (q->page > 0 ? q->page - 1 : 0) * CAT_PAGE;
	dg_buf_init(&w.sql, 8192);
	*out = NULL;
	dg_rc rc = build_search(dg_db_kind(db), a, q, &w);
	if (rc) {
		rc = DG_OK; /* a query over the grammar's caps finds nothing */
		goto done;
	}
	rc = dg_db_query(db, dg_buf_str(&w.sql), w.args, w.n, &rw);
	while (!rc && total < SEARCH_ROWS && (rc = dg_rows_next(rw)) == DG_OK) {
		if (total >= first && total < first + CAT_PAGE) {
			json_t *full = row_json(rw);
			json_array_append_new(items, summary_of(full));
			json_decref(full);
		}
		total++;
	}
	rc = rc == DG_ENOTFOUND ? DG_OK : rc;
done:
	dg_rows_free(rw);
	for (size_t i = 0; i < w.nowned; i++)
		free(w.owned[i]);
	dg_buf_release(&w.sql);
	dg_arena_free(a);
	if (rc) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{s:I, s:I, s:I, s:o}", "total", (json_int_t)total, "page",
			 (json_int_t)(q->page > 0 ? q->page : 1), "per_page", (json_int_t)CAT_PAGE,
			 "items", items);
	return DG_OK;
}

static void count_into(json_t *obj, const char *key)
{
	json_t *n = json_object_get(obj, key);
	json_object_set_new(obj, key, json_integer(json_integer_value(n) + 1));
}

dg_rc cat_facets(struct dg_db *db, json_t **out)
{
	struct dg_rows *rw = NULL;
	json_t *th = json_object(), *ev = json_object(), *de = json_object(), *au = json_object();
	json_t *dn = json_object();
	dg_rc rc = dg_db_query(
		db,
		"SELECT v.themes, v.events, d.code, v.audience, d.name_zh, d.name_en"
		" FROM catalog_items i JOIN departments d ON d.id = i.dept_id"
		" JOIN catalog_versions v ON v.item_id = i.id AND v.version = i.in_force"
		" WHERE i.status = 'active'",
		DG_NOARGS, &rw);
	while (!rc && (rc = dg_rows_next(rw)) == DG_OK) {
		json_t *t = tag_list(dg_rows_text(rw, 0)), *e = tag_list(dg_rows_text(rw, 1)), *x;
		size_t i;
		json_array_foreach (t, i, x)
			count_into(th, json_string_value(x));
		json_array_foreach (e, i, x)
			count_into(ev, json_string_value(x));
		json_decref(t);
		json_decref(e);
		count_into(de, dg_rows_text(rw, 2));
		count_into(au, dg_rows_text(rw, 3));
		json_object_set_new(dn, dg_rows_text(rw, 2),
				    json_pack("{s:s, s:s}", "zh", dg_rows_text(rw, 4), "en",
					      dg_rows_text(rw, 5)));
	}
	dg_rows_free(rw);
	rc = rc == DG_ENOTFOUND ? DG_OK : rc;
	*out = json_pack("{s:o, s:o, s:o, s:o, s:o}", "themes", th, "events", ev, "depts", de,
			 "audiences", au, "dept_names", dn);
	return rc;
}

/* ---- management ------------------------------------------------------ */

dg_rc cat_dept_of(struct dg_db *db, const char *code, int64_t *dept_id)
{
	return dg_db_query_int(db, "SELECT dept_id FROM catalog_items WHERE code = ?",
			       DG_ARGS(DG_VT(code)), dept_id);
}

dg_rc cat_list_managed(struct dg_db *db, int64_t dept_id, json_t **out)
{
	struct dg_rows *rw = NULL;
	json_t *list = json_array();
	/* the latest version names the item: a draft's name before it is published */
	dg_rc rc = dg_db_query(db,
			       "SELECT i.code, v.name_zh, v.name_en, i.status, i.in_force,"
			       " (SELECT COUNT(*) FROM catalog_versions x WHERE x.item_id = i.id "
			       "AND x.state = 'draft')"
			       " FROM catalog_items i JOIN catalog_versions v ON v.item_id = i.id"
			       " AND v.version = (SELECT MAX(version) FROM catalog_versions y "
			       "WHERE y.item_id = i.id)"
			       " WHERE (? = 0 OR i.dept_id = ?) ORDER BY i.code",
			       DG_ARGS(DG_VI(dept_id), DG_VI(dept_id)), &rw);
	while (!rc && (rc = dg_rows_next(rw)) == DG_OK)
		json_array_append_new(
			list,
			json_pack("{s:s, s:s, s:s, s:s, s:I, s:b}", "code", dg_rows_text(rw, 0),
				  "name_zh", dg_rows_text(rw, 1), "name_en", dg_rows_text(rw, 2),
				  "status", dg_rows_text(rw, 3), "version",
				  (json_int_t)dg_rows_int(rw, 4), "draft", dg_rows_int(rw, 5) > 0));
	dg_rows_free(rw);
	rc = rc == DG_ENOTFOUND ? DG_OK : rc;
	if (rc) {
		json_decref(list);
		list = NULL;
	}
	*out = list;
	return rc;
}
