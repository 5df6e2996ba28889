/*
 * search.c - the catalogue's search SQL: the fields Solr queries may
 * name (each a SQL template with '?' for the value, see solr.h), the sort
 * whitelist, the facet sources, and the group, organization and tag lists.
 * Kept beside sql.c rather than in it only so that search can change
 * without touching the catalogue's reads and writes.
 *
 * Every statement is built from fixed pieces of this file and the compiled
 * query, whose values are all bound parameters. The visible set is the one
 * sql.c uses: active, not closed, and not private unless the requester's
 * department owns it (or "*" for an administrator).
 */
#include "opendata/catalog/catalog_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/str.h"
#include "opendata/catalog/solr.h"
#include "web/pcache.h"

#define LIKE  "LIKE ? ESCAPE '\\'"
#define NRES  "(SELECT COUNT(*) FROM od_resources r WHERE r.package_id = p.id)"
#define NTAGS "(SELECT COUNT(*) FROM od_tags t WHERE t.package_id = p.id)"

static const struct dg_solr_field fields[] = {
	{"id", DG_SOLR_STRING, "p.id = ?"},
	{"name", DG_SOLR_STRING, "p.name = ?"},
	{"title", DG_SOLR_TEXT, "LOWER(p.title) " LIKE, 1},
	{"notes", DG_SOLR_TEXT, "LOWER(p.notes) " LIKE, 4},
	{"author", DG_SOLR_TEXT, "LOWER(p.author) " LIKE},
	{"maintainer", DG_SOLR_TEXT, "LOWER(p.maintainer) " LIKE},
	{"tags", DG_SOLR_STRING,
	 "EXISTS (SELECT 1 FROM od_tags t WHERE t.package_id = p.id AND t.name = ?)"},
	/* by name, current or old (names.c); owner_org is the id, as in CKAN */
	{"organization", DG_SOLR_STRING, "p.owner_dept = " DG_OD_ID_OF("1")},
	{"owner_org", DG_SOLR_STRING, "p.owner_dept = ?"},
	{"groups", DG_SOLR_STRING, "p.theme = " DG_OD_ID_OF("0")},
	{"res_format", DG_SOLR_STRING,
	 "EXISTS (SELECT 1 FROM od_resources r WHERE r.package_id = p.id AND r.format = ?)"},
	{"res_name", DG_SOLR_TEXT,
	 "EXISTS (SELECT 1 FROM od_resources r WHERE r.package_id = p.id AND LOWER(r.name) " LIKE
	 ")",
	 8},
	{"license_id", DG_SOLR_STRING, "p.license_id = ?"},
	{"version", DG_SOLR_STRING, "p.version = ?"},
	{"url", DG_SOLR_STRING, "p.url = ?"},
	{"type", DG_SOLR_STRING, "'dataset' = ?"},
	{"state", DG_SOLR_STRING, "p.state = ?"},
	{"capacity", DG_SOLR_STRING,
	 "(CASE WHEN p.private = 1 THEN 'private' ELSE 'public' END) = ?"},
	{"metadata_modified", DG_SOLR_DATE, "p.metadata_modified"},
	{"metadata_created", DG_SOLR_DATE, "p.metadata_created"},
	{"num_resources", DG_SOLR_INT, NRES},
	{"num_tags", DG_SOLR_INT, NTAGS},
	/* CKAN indexes each extra both as extras_KEY and, when free, as KEY */
	{"update_frequency", DG_SOLR_STRING, "p.frequency = ?"},
	{"extras_update_frequency", DG_SOLR_STRING, "p.frequency = ?"},
	{"region", DG_SOLR_STRING, "p.region = ?"},
	{"extras_region", DG_SOLR_STRING, "p.region = ?"},
	{"open_tier", DG_SOLR_STRING, "p.tier = ?"},
	{"extras_open_tier", DG_SOLR_STRING, "p.tier = ?"},
	{"extras_*", DG_SOLR_STRING,
	 "EXISTS (SELECT 1 FROM od_extras e WHERE e.package_id = p.id AND e.key = {k} AND e.value "
	 "= ?)"},
	{"text", DG_SOLR_TEXT,
	 "LOWER(p.name) " LIKE " OR LOWER(p.title) " LIKE " OR LOWER(p.notes) " LIKE
	 " OR LOWER(p.theme) " LIKE
	 " OR EXISTS (SELECT 1 FROM od_tags t WHERE t.package_id = p.id AND LOWER(t.name) " LIKE ")"
	 " OR EXISTS (SELECT 1 FROM od_resources r WHERE r.package_id = p.id AND"
	 " (LOWER(r.name) " LIKE " OR LOWER(r.description) " LIKE "))",
	 15},
};

/*
 * Free text is matched through the full-text index (index.c) and ranked by
 * it: its fields weigh as CKAN's name^4 title^4 tags^2 groups^2 text do,
 * title above tags above notes and resources. text_sql remains for a
 * schema without one.
 */
static const struct dg_solr_schema schema = {
	fields,
	sizeof fields / sizeof fields[0],
	"LOWER(p.name) " LIKE " OR LOWER(p.title) " LIKE " OR LOWER(p.notes) " LIKE
	" OR LOWER(p.theme) " LIKE
	" OR EXISTS (SELECT 1 FROM od_tags t WHERE t.package_id = p.id AND LOWER(t.name) " LIKE ")"
	" OR EXISTS (SELECT 1 FROM od_resources r WHERE r.package_id = p.id AND"
	" (LOWER(r.name) " LIKE " OR LOWER(r.description) " LIKE "))",
	NULL,
	&dg_od_index,
	"p.search_id",
};

const struct dg_solr_schema *dg_od_search_schema(void)
{
	return &schema;
}

/* Sort keys: the name clients send -> the SQL expression. */
static const char *const sorts[][2] = {
	{"score", "score"},
	{"id", "p.id"},
	{"name", "p.name"},
	{"title", "p.title"},
	{"title_string", "p.title"},
	{"metadata_modified", "p.metadata_modified"},
	{"metadata_created", "p.metadata_created"},
	{"license_id", "p.license_id"},
	{"organization", "p.owner_dept"},
	{"num_resources", NRES},
	{"num_tags", NTAGS},
};

/* Facet sources: name, value expression, its display name, the join it needs. */
static const char *const facet_src[][4] = {
	{"organization", DG_OD_NAME_OF("1", "p.owner_dept"), "d.name_zh",
	 " JOIN departments d ON d.code = p.owner_dept"},
	{"groups", DG_OD_NAME_OF("0", "p.theme"), "p.theme", ""},
	{"tags", "t.name", "t.name", " JOIN od_tags t ON t.package_id = p.id"},
	{"res_format", "r.format", "r.format", " JOIN od_resources r ON r.package_id = p.id"},
	{"license_id", "p.license_id", "p.license_id", ""},
	{"update_frequency", "p.frequency", "p.frequency", ""},
	{"region", "p.region", "p.region", ""},
	{"open_tier", "p.tier", "p.tier", ""},
};

/*
 * An order the node's map of documents can give (docmap.c): its keys, each
 * the rank, metadata_modified or the name, ascending or descending; n -1
 * when the sort names another key.
 */
enum okey { K_RANK, K_MODIFIED, K_NAME };
struct order {
	int n;
	struct {
		enum okey key;
		bool desc;
	} k[DG_OD_SORT_KEYS_MAX + 1];
};

/* The key of the order expression expr, or -1 when the map does not hold it. */
static int order_key(const char *expr)
{
	return strcmp(expr, "score") == 0                 ? K_RANK
	       : strcmp(expr, "p.metadata_modified") == 0 ? K_MODIFIED
	       : strcmp(expr, "p.name") == 0              ? K_NAME
							  : -1;
}

/* Add a key to o, or mark it as one the map cannot give. */
static void order_add(struct order *o, const char *expr, bool desc)
{
	int key = order_key(expr);
	if (o->n < 0 || key < 0 || o->n > DG_OD_SORT_KEYS_MAX) {
		o->n = -1;
		return;
	}
	o->k[o->n].key = (enum okey)key;
	o->k[o->n++].desc = desc;
}

/*
 * The ORDER BY for sort ("field dir, field dir"), with p.name as the last
 * key so pages never overlap. Every word is checked against the whitelist.
 * The same keys go into *o (n -1 when the map does not hold one of them).
 */
static dg_rc order_by(const char *sort, bool scored, struct dg_buf *out, struct order *o,
		      struct dg_err *err)
{
	o->n = 0;
	struct dg_str rest = dg_str_of(sort), item;
	int keys = 0, written = 0;
	bool by_name = false;
	dg_rc rc = dg_buf_adds(out, " ORDER BY ");
	while (!rc && rest.p) {
		rest = dg_str_cut(rest, ',', &item);
		item = dg_str_trim(item);
		if (item.n == 0)
			continue;
		if (++keys > DG_OD_SORT_KEYS_MAX)
			return dg_err_field(err, DG_EINVAL, "sort",
					    "Invalid \"sort\" parameter: at most %d keys",
					    DG_OD_SORT_KEYS_MAX);
		struct dg_str field, dir;
		dir = dg_str_trim(dg_str_cut(item, ' ', &field));
		bool desc = dg_str_case_eqs(dir, "desc");
		if (!desc && !dg_str_case_eqs(dir, "asc"))
			return dg_err_field(
				err, DG_EINVAL, "sort",
				"Invalid \"sort\" parameter: \"%.*s\" needs asc or desc",
				(int)(item.n > 64 ? 64 : item.n), item.p);
		const char *expr = NULL;
		for (size_t i = 0; i < sizeof sorts / sizeof sorts[0]; i++)
			if (dg_str_eqs(field, sorts[i][0]))
				expr = sorts[i][1];
		if (!expr)
			return dg_err_field(err, DG_EINVAL, "sort",
					    "Invalid \"sort\" parameter: cannot sort by \"%.*s\"",
					    (int)(field.n > 64 ? 64 : field.n), field.p);
		by_name = by_name || strcmp(expr, "p.name") == 0;
		/* without free text every score is 0: the order is the next keys' (an index's) */
		if (!scored && strcmp(expr, "score") == 0)
			continue;
		rc = dg_buf_addf(out, "%s%s %s", written++ ? ", " : "", expr,
				 desc ? "DESC" : "ASC");
		order_add(o, expr, desc);
	}
	if (!rc && !by_name) {
		rc = dg_buf_addf(out, "%sp.name ASC", written ? ", " : "");
		order_add(o, "p.name", false);
	}
	return rc;
}

/*
 * The visible set's condition and its bound values (up to two): active
 * datasets, and deleted ones too with include_deleted (deleted_dept: the
 * department whose deleted datasets are shown, "*" all of them).
 */
static const char *visible(struct dg_arena *a, const struct dg_od_search *s, struct dg_val *arg,
			   size_t *nargs)
{
	const char *private_dept = s->private_dept, *deleted = s->deleted_dept;
	const char *state = "p.state = 'active'";
	*nargs = 0;
	if (deleted && strcmp(deleted, "*") == 0) {
		state = "p.state IN ('active', 'deleted')";
	} else if (deleted) {
		state = "(p.state = 'active' OR (p.state = 'deleted' AND p.owner_dept = ?))";
		arg[(*nargs)++] = DG_VT(deleted);
	}
	if (private_dept && strcmp(private_dept, "*") == 0)
		return dg_arena_printf(a, "%s AND p.tier <> 'closed'", state);
	if (private_dept) {
		arg[(*nargs)++] = DG_VT(private_dept);
		return dg_arena_printf(a,
				       "%s AND p.tier <> 'closed' AND (p.private = 0 OR "
				       "p.owner_dept = ?)",
				       state);
	}
	return dg_arena_printf(a, "%s AND p.tier <> 'closed' AND p.private = 0", state);
}

/* A query's args: the prefix (score), visibility, the where args, then extra. */
static struct dg_val *join_args(struct dg_arena *a, const struct dg_val *pre, size_t npre,
				const struct dg_val *vis, size_t nvis, const struct dg_solr_sql *s,
				const struct dg_val *extra, size_t nextra, size_t *n)
{
	*n = npre + nvis + s->nargs + nextra;
	struct dg_val *v = dg_arena_alloc(a, (*n + 1) * sizeof *v);
	size_t k = 0;
	for (size_t i = 0; i < npre; i++)
		v[k++] = pre[i];
	for (size_t i = 0; i < nvis; i++)
		v[k++] = vis[i];
	for (size_t i = 0; i < s->nargs; i++)
		v[k++] = s->args[i];
	for (size_t i = 0; i < nextra; i++)
		v[k++] = extra[i];
	return v;
}

static dg_rc compile_one(struct dg_solr_sql *sql, struct dg_arena *a, const char *q,
			 const char *field, int64_t now, struct dg_err *err)
{
	struct dg_solr_node *n = NULL;
	dg_rc rc = dg_solr_parse(q, a, &n, err);
	if (!rc)
		rc = dg_solr_compile(sql, dg_od_search_schema(), n, now, err);
	if (rc) {
		/* every query problem is the caller's: CKAN's Search Query Error */
		snprintf(err->field, sizeof err->field, "%s", field);
		err->rc = DG_EINVAL;
		return DG_EINVAL;
	}
	return DG_OK;
}

/* A facet's rows (value, display name, count) as CKAN's facets and search_facets; frees rows. */
static dg_rc facet_rows(struct dg_rows *rows, const char *name, json_t *facets,
			json_t *search_facets)
{
	dg_rc rc;
	json_t *counts = json_object(), *items = json_array();
	while ((rc = dg_rows_next(rows)) == DG_OK) {
		const char *v = dg_rows_text(rows, 0);
		json_int_t c = (json_int_t)dg_rows_int(rows, 2);
		json_object_set_new(counts, v, json_integer(c));
		json_array_append_new(items, json_pack("{s:s, s:s, s:I}", "name", v, "display_name",
						       dg_rows_text(rows, 1), "count", c));
	}
	dg_rows_free(rows);
	json_object_set_new(facets, name, counts);
	json_object_set_new(search_facets, name,
			    json_pack("{s:s, s:o}", "title", name, "items", items));
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

static int64_t facet_limit(const struct dg_od_search *s)
{
	return s->facet_limit < 0 || s->facet_limit > DG_OD_ROWS_MAX ? DG_OD_ROWS_MAX
								     : s->facet_limit;
}

/* One facet's counts in scope, as kept (facets.c): no dataset is read. */
static dg_rc facet_kept(struct dg_db *db, const char *scope, const char *const src[4],
			const struct dg_od_search *s, json_t *facets, json_t *search_facets)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(
		db,
		"SELECT CASE c.facet WHEN 'organization' THEN " DG_OD_NAME_OF(
			"1",
			"c.value") " WHEN 'groups' THEN " DG_OD_NAME_OF("0",
									"c.value") " ELSE c.value "
										   "END,"
										   " COALESCE(d."
										   "name_zh, "
										   "c.value), c.n "
										   "FROM "
										   "od_facet_"
										   "counts c"
										   " LEFT JOIN "
										   "departments d "
										   "ON c.facet = "
										   "'organization' "
										   "AND d.code = "
										   "c.value"
										   " WHERE c.scope "
										   "= ? AND "
										   "c.facet = ? "
										   "AND c.n > 0 "
										   "AND c.n >= ?"
										   " ORDER BY c.n "
										   "DESC, c.value "
										   "LIMIT ?",
		DG_ARGS(DG_VT(scope), DG_VT(src[0]), DG_VI(s->facet_mincount),
			DG_VI(facet_limit(s))),
		&rows);
	return rc ? rc : facet_rows(rows, src[0], facets, search_facets);
}

/* The counts of one facet over the matched set, found through the query's indexes. */
static dg_rc facet_one(struct dg_db *db, struct dg_arena *a, const char *const src[4],
		       const char *vis, const struct dg_val *visarg, size_t nvis,
		       const struct dg_solr_sql *sql, const struct dg_od_search *s, json_t *facets,
		       json_t *search_facets)
{
	struct dg_buf q;
	dg_buf_init(&q, 0);
	/*
	 * Each matched dataset gives one row, or one a tag (od_tags' key is the
	 * pair), so only formats, which several resources may share, need
	 * their datasets told apart: the rest count rows, with no sort to
	 * remove duplicates first.
	 */
	const char *n = strcmp(src[0], "res_format") == 0 ? "COUNT(DISTINCT id)" : "COUNT(*)";
	dg_rc rc = dg_buf_addf(&q,
			       "SELECT v, MIN(dn), %s FROM (SELECT p.id AS id, %s AS v, %s AS dn"
			       " FROM od_packages p%s WHERE %s AND %s) x WHERE v <> ''"
			       " GROUP BY v HAVING %s >= ? ORDER BY %s DESC, v LIMIT ?",
			       n, src[1], src[2], src[3], vis, dg_buf_str(&sql->where), n, n);
	struct dg_val extra[2] = {DG_VI(s->facet_mincount), DG_VI(facet_limit(s))};
	size_t nargs = 0;
	struct dg_val *args = join_args(a, NULL, 0, visarg, nvis, sql, extra, 2, &nargs);
	struct dg_rows *rows = NULL;
	if (!rc)
		rc = dg_db_query(db, dg_buf_str(&q), args, nargs, &rows);
	dg_buf_release(&q);
	return rc ? rc : facet_rows(rows, src[0], facets, search_facets);
}

/*
 * where without its " AND 1=1" (what *:* and an empty q or fq add) and the
 * "1=1 AND " it starts with before a condition, into out.
 */
static void without_all(const char *where, struct dg_buf *out)
{
	struct dg_buf all;
	dg_buf_init(&all, 0);
	for (const char *w = where; *w;) {
		if (strncmp(w, " AND 1=1", 8) == 0 && (w[8] == '\0' || w[8] == ' ')) {
			w += 8;
			continue;
		}
		if (dg_buf_addc(&all, *w++) != DG_OK)
			break;
	}
	const char *rest = dg_buf_str(&all);
	if (strncmp(rest, "1=1 AND ", 8) == 0)
		rest += 8;
	if (dg_buf_adds(out, rest) != DG_OK)
		dg_buf_reset(out);
	dg_buf_release(&all);
}

/*
 * The scope of the kept counts (facets.c) that answers the compiled query
 * for the public: "" when it holds every dataset, "o:CODE" when it holds
 * one organisation's (organization:CODE and nothing else), "g:THEME" one
 * group's; NULL when none does and the counts come from the matched rows.
 * The organisation's and group's forms are found by compiling the same
 * filter, so they follow the field table above.
 */
static const char *kept_scope(struct dg_db *db, struct dg_arena *a, const struct dg_od_search *s,
			      const struct dg_solr_sql *sql, int64_t now)
{
	static const char *const probes[][2] = {{"organization:x", "o:"}, {"groups:x", "g:"}};
	if (s->private_dept || s->deleted_dept || sql->rank)
		return NULL;
	struct dg_buf mine;
	dg_buf_init(&mine, 0);
	without_all(dg_buf_str(&sql->where), &mine);
	const char *scope = NULL;
	if (sql->nargs == 0 && strcmp(dg_buf_str(&mine), "1=1") == 0)
		scope = "";
	/* organization:NAME binds the name twice (DG_OD_ID_OF); the scope is the id's */
	bool one = (sql->nargs == 1 || (sql->nargs == 2 && sql->args[1].t == DG_V_TEXT &&
					strcmp(sql->args[0].s, sql->args[1].s) == 0)) &&
		   sql->args[0].t == DG_V_TEXT;
	for (size_t i = 0; !scope && one && i < 2; i++) {
		struct dg_solr_sql *probe = dg_solr_sql_new(a);
		struct dg_err err = {0};
		probe->kind = sql->kind;
		if (compile_one(probe, a, probes[i][0], "fq", now, &err) != DG_OK)
			continue;
		struct dg_buf theirs;
		dg_buf_init(&theirs, 0);
		without_all(dg_buf_str(&probe->where), &theirs);
		const char *id = sql->args[0].s;
		if (strcmp(dg_buf_str(&mine), dg_buf_str(&theirs)) == 0 &&
		    (probe->nargs == 1 || dg_od_group_id(db, i == 0, id, a, &id) == DG_OK))
			scope = dg_arena_printf(a, "%s%s", probes[i][1], id);
		dg_buf_release(&theirs);
	}
	dg_buf_release(&mine);
	return scope;
}

/* The sources of s's facet fields into srcs (room for s->nfacets); EINVAL for an unknown one. */
static dg_rc facet_srcs(const struct dg_od_search *s, const char *const **srcs, struct dg_err *err)
{
	for (size_t i = 0; i < s->nfacets; i++) {
		const char *name = s->facets[i];
		if (strncmp(name, "extras_", 7) == 0)
			name += 7;
		srcs[i] = NULL;
		for (size_t k = 0; k < sizeof facet_src / sizeof facet_src[0]; k++)
			if (strcmp(facet_src[k][0], name) == 0)
				srcs[i] = facet_src[k];
		if (!srcs[i])
			return dg_err_field(err, DG_EINVAL, "facet.field",
					    "cannot facet on \"%.64s\"", s->facets[i]);
	}
	return DG_OK;
}

static dg_rc facets_of(struct dg_db *db, struct dg_arena *a, const char *vis,
		       const struct dg_val *visarg, size_t nvis, const struct dg_solr_sql *sql,
		       const struct dg_od_search *s, const char *const *const *srcs,
		       const char *scope, json_t *res)
{
	json_t *facets = json_object(), *search_facets = json_object();
	json_object_set_new(res, "facets", facets);
	json_object_set_new(res, "search_facets", search_facets);
	for (size_t i = 0; i < s->nfacets; i++) {
		dg_rc rc = scope ? facet_kept(db, scope, srcs[i], s, facets, search_facets)
				 : facet_one(db, a, srcs[i], vis, visarg, nvis, sql, s, facets,
					     search_facets);
		if (rc)
			return rc;
	}
	return DG_OK;
}

/* Full packages for the ids (a list of strings) in order. */
static dg_rc packages_of(struct dg_db *db, json_t *ids, json_t **out)
{
	json_t *list = json_array();
	dg_rc rc = DG_OK;
	size_t i;
	json_t *id;
	json_array_foreach (ids, i, id) {
		json_t *p = NULL;
		/* the search already applied visibility to this id */
		rc = dg_od_package_read_all(db, json_string_value(id), &p);
		if (rc)
			break;
		json_array_append_new(list, p);
	}
	if (rc) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return DG_OK;
}

/* Full packages for the ids in rows (freed here); their ids into *ids. */
static dg_rc results_of(struct dg_db *db, struct dg_rows *rows, json_t **out, json_t **ids)
{
	*ids = json_array();
	dg_rc rc;
	while ((rc = dg_rows_next(rows)) == DG_OK)
		json_array_append_new(*ids, json_string(dg_rows_text(rows, 0)));
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? packages_of(db, *ids, out) : rc;
}

/*
 * ---- searches kept by the catalogue's version ----
 *
 * A search's count, its page's ids and its facets depend only on its
 * parameters and the catalogue's rows, and every write of those raises the
 * catalogue's version in its own transaction (facets.c). So they are kept
 * in the node's table (s->memo) under the parameters and the version read
 * before they were counted: a search kept at version V counted rows at
 * least as new as V, and the first write after it makes every later
 * search read a newer version and count again, on every node, since each
 * reads the version from the store. The datasets themselves are read each
 * time, and so are the organisations' names (departments are not the
 * catalogue's). NOW moves without a write: a query naming it is not kept.
 */

/* The key of s's search (its parameters as a JSON array), or NULL when it is not kept. */
static char *memo_key(const struct dg_od_search *s)
{
	if (!s->memo || (s->q && strstr(s->q, "NOW")))
		return NULL;
	json_t *fq = json_array(), *facets = json_array();
	for (size_t i = 0; i < s->nfq; i++) {
		if (strstr(s->fq[i], "NOW")) {
			json_decref(fq);
			json_decref(facets);
			return NULL;
		}
		json_array_append_new(fq, json_string(s->fq[i]));
	}
	for (size_t i = 0; i < s->nfacets; i++)
		json_array_append_new(facets, json_string(s->facets[i]));
	/* who asks matters only through what they may see: private and deleted datasets */
	json_t *k = json_pack("[s, o, s, I, I, o, I, I, s?, s?, s?, I]", s->q ? s->q : "", fq,
			      s->sort ? s->sort : "", (json_int_t)s->rows, (json_int_t)s->start,
			      facets, (json_int_t)s->facet_limit, (json_int_t)s->facet_mincount,
			      s->private_dept, s->deleted_dept, s->after_name,
			      (json_int_t)s->after_modified);
	char *key = k ? json_dumps(k, JSON_COMPACT) : NULL;
	json_decref(k);
	return key;
}

/* The organisation facet's display names as the departments have them now. */
static dg_rc org_names(struct dg_db *db, json_t *search_facets)
{
	json_t *items = json_object_get(json_object_get(search_facets, "organization"), "items");
	if (!json_array_size(items))
		return DG_OK;
	struct dg_rows *rows = NULL;
	dg_rc rc =
		dg_db_query(db, "SELECT " DG_OD_NAME_OF("1", "code") ", name_zh FROM departments",
			    DG_NOARGS, &rows);
	if (rc)
		return rc;
	json_t *names = json_object();
	while ((rc = dg_rows_next(rows)) == DG_OK)
		json_object_set_new(names, dg_rows_text(rows, 0),
				    json_string(dg_rows_text(rows, 1)));
	dg_rows_free(rows);
	size_t i;
	json_t *it;
	json_array_foreach (items, i, it) {
		json_t *n = json_object_get(names, json_string_value(json_object_get(it, "name")));
		json_object_set(it, "display_name", n ? n : json_object_get(it, "name"));
	}
	json_decref(names);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

/* The answer from a kept search (taken): its datasets read now. */
static dg_rc from_kept(struct dg_db *db, json_t *kept, json_t **out)
{
	json_t *results = NULL;
	dg_rc rc = packages_of(db, json_object_get(kept, "ids"), &results);
	if (!rc)
		rc = org_names(db, json_object_get(kept, "search_facets"));
	if (rc) {
		json_decref(kept);
		return rc;
	}
	/* in the order a counted answer has its keys */
	json_t *res =
		json_pack("{s:O, s:o, s:O, s:O, s:O}", "count", json_object_get(kept, "count"),
			  "results", results, "sort", json_object_get(kept, "sort"), "facets",
			  json_object_get(kept, "facets"), "search_facets",
			  json_object_get(kept, "search_facets"));
	json_decref(kept);
	if (!res)
		return DG_EINTERNAL;
	*out = res;
	return DG_OK;
}

/* Keep res (borrowed) with its page's ids instead of its datasets. */
static void keep(const struct dg_od_search *s, const char *key, int64_t version, json_t *res,
		 json_t *ids)
{
	json_t *k = json_copy(res);
	json_object_del(k, "results");
	json_object_set(k, "ids", ids);
	char *text = json_dumps(k, JSON_COMPACT);
	if (text)
		dg_pcache_put(s->memo, key, version, text, strlen(text));
	free(text);
	json_decref(k);
}

/*
 * ---- counts over the matched set, for the public ----
 *
 * od_dataset_facets (base.h, kept by facets.c) holds a row for each public
 * dataset (kind "") and one for each of its facet values, by search
 * document. So the count and every facet of a public search are one pass
 * over the rows of the documents it matched, grouped by kind and value:
 * no dataset, tag or resource row is read, and a query of free text alone
 * takes its documents straight from the index (the table holds only what
 * the public may see).
 */
struct fcount {
	const char *value;
	int64_t n;
};

static int by_count(const void *a, const void *b)
{
	const struct fcount *x = a, *y = b;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->value, y->value);
}

/*
 * Whether the compiled query is free text alone, one lookup of the index
 * ("(p.search_id IN (SELECT ...))" and nothing else); then *sub gets that
 * subquery (the arena's), the documents it matched.
 */
static bool text_alone(struct dg_db *db, struct dg_arena *a, const struct dg_solr_sql *sql,
		       const char **sub)
{
	struct dg_buf mine, text;
	dg_buf_init(&mine, 0);
	dg_buf_init(&text, 0);
	without_all(dg_buf_str(&sql->where), &mine);
	const char *id_sql = dg_od_search_schema()->index_id_sql;
	dg_rc rc = dg_buf_addc(&text, '(');
	rc = rc ? rc : dg_search_cond(dg_db_kind(db), &dg_od_index, id_sql, &text);
	rc = rc ? rc : dg_buf_addc(&text, ')');
	/* "(id IN (SELECT ...))": the SELECT, without its parentheses */
	size_t skip = strlen(id_sql) + strlen(" IN ") + 2;
	bool alone = !rc && sql->nargs == 1 && strcmp(dg_buf_str(&mine), dg_buf_str(&text)) == 0;
	if (alone)
		*sub = dg_arena_strndup(a, dg_buf_str(&text) + skip, text.len - skip - 2);
	dg_buf_release(&mine);
	dg_buf_release(&text);
	return alone;
}

/* The SQL of the matched documents (into q) for the public: vis AND the compiled where. */
static dg_rc matched_docs(struct dg_db *db, struct dg_arena *a, const char *vis,
			  const struct dg_solr_sql *sql, struct dg_buf *q)
{
	const char *sub = NULL;
	/* free text alone: the index's documents (the table holds only the public's) */
	if (text_alone(db, a, sql, &sub))
		return dg_buf_adds(q, sub);
	return dg_buf_addf(q, "SELECT %s FROM od_packages p WHERE %s AND %s",
			   dg_od_search_schema()->index_id_sql, vis, dg_buf_str(&sql->where));
}

/* One facet's counts (n of them, sorted here) as CKAN's facets and search_facets. */
static void facet_json(const char *name, struct fcount *c, size_t n, const struct dg_od_search *s,
		       json_t *facets, json_t *search_facets)
{
	json_t *counts = json_object(), *items = json_array();
	if (n) /* a facet no matched dataset has: no array at all */
		qsort(c, n, sizeof *c, by_count);
	for (size_t i = 0; i < n && (int64_t)i < facet_limit(s) && c[i].n >= s->facet_mincount;
	     i++) {
		json_object_set_new(counts, c[i].value, json_integer((json_int_t)c[i].n));
		json_array_append_new(items, json_pack("{s:s, s:s, s:I}", "name", c[i].value,
						       "display_name", c[i].value, "count",
						       (json_int_t)c[i].n));
	}
	json_object_set_new(facets, name, counts);
	json_object_set_new(search_facets, name,
			    json_pack("{s:s, s:o}", "title", name, "items", items));
}

/*
 * The count and the facets srcs[0..n) of the public's matched set, into
 * *count and res. The values live in the arena.
 */
static dg_rc facets_matched(struct dg_db *db, struct dg_arena *a, const char *vis,
			    const struct dg_solr_sql *sql, const struct dg_od_search *s,
			    const char *const *const *srcs, size_t n, int64_t *count, json_t *res)
{
	struct dg_buf q;
	dg_buf_init(&q, 0);
	/* organisations and groups by their current names (names.c), as the kept counts give them
	 */
	dg_rc rc = dg_buf_adds(
		&q,
		"SELECT f.kind, CASE f.kind WHEN 'organization' THEN " DG_OD_NAME_OF(
			"1",
			"f.value") " WHEN 'groups' THEN " DG_OD_NAME_OF("0",
									"f.value") " ELSE f.value "
										   "END,"
										   " COUNT(*) FROM "
										   "od_dataset_"
										   "facets f WHERE "
										   "f.doc IN (");
	rc = rc ? rc : matched_docs(db, a, vis, sql, &q);
	rc = rc ? rc : dg_buf_adds(&q, ") AND f.kind IN (''");
	for (size_t i = 0; !rc && i < n; i++)
		rc = dg_buf_adds(&q, ", ?");
	rc = rc ? rc : dg_buf_adds(&q, ") GROUP BY f.kind, f.value");
	struct dg_val *args = dg_arena_alloc(a, (sql->nargs + n + 1) * sizeof *args);
	size_t nargs = 0;
	for (size_t i = 0; i < sql->nargs; i++)
		args[nargs++] = sql->args[i];
	for (size_t i = 0; i < n; i++)
		args[nargs++] = DG_VT(srcs[i][0]);
	struct dg_rows *rows = NULL;
	if (!rc)
		rc = dg_db_query(db, dg_buf_str(&q), args, nargs, &rows);
	dg_buf_release(&q);
	if (rc)
		return rc;
	/* each facet's values gathered by kind, in the arena */
	size_t *nc = dg_arena_alloc(a, (n + 1) * sizeof *nc),
	       *cap = dg_arena_alloc(a, (n + 1) * sizeof *cap);
	struct fcount **c = dg_arena_alloc(a, (n + 1) * sizeof *c);
	memset(nc, 0, (n + 1) * sizeof *nc);
	memset(cap, 0, (n + 1) * sizeof *cap);
	*count = 0;
	while ((rc = dg_rows_next(rows)) == DG_OK) {
		const char *kind = dg_rows_text(rows, 0);
		if (!kind[0]) {
			*count = dg_rows_int(rows, 2);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			if (strcmp(srcs[i][0], kind) != 0)
				continue;
			if (nc[i] == cap[i]) {
				size_t ncap = cap[i] ? 2 * cap[i] : 64;
				struct fcount *grown = dg_arena_alloc(a, ncap * sizeof *grown);
				if (nc[i])
					memcpy(grown, c[i], nc[i] * sizeof *grown);
				c[i] = grown;
				cap[i] = ncap;
			}
			c[i][nc[i]++] = (struct fcount){dg_arena_strdup(a, dg_rows_text(rows, 1)),
							dg_rows_int(rows, 2)};
		}
	}
	dg_rows_free(rows);
	if (rc != DG_ENOTFOUND)
		return rc;
	json_t *facets = json_object(), *search_facets = json_object();
	json_object_set_new(res, "facets", facets);
	json_object_set_new(res, "search_facets", search_facets);
	for (size_t i = 0; i < n; i++)
		facet_json(srcs[i][0], c[i], nc[i], s, facets, search_facets);
	return org_names(db, search_facets);
}

/*
 * The datasets with the index's rank for the free text e, as a FROM
 * ("od_packages p LEFT JOIN (ranked) r ..."; with inner, only the matched
 * ones: "(ranked) r JOIN od_packages p ..."), and its values.
 */
static dg_rc rank_join(struct dg_db *db, struct dg_arena *a, const struct dg_search_expr *e,
		       bool inner, const char **join, struct dg_val **args, size_t *nargs)
{
	struct dg_buf q, sql;
	dg_buf_init(&q, DG_SOLR_SQL_MAX);
	dg_buf_init(&sql, 0);
	dg_rc rc = dg_search_render(dg_db_kind(db), &dg_od_index, e, &q);
	rc = rc ? rc : dg_buf_adds(&sql, inner ? "" : "od_packages p LEFT JOIN ");
	rc = rc ? rc : dg_search_ranked(dg_db_kind(db), &dg_od_index, "doc", "rank", &sql, nargs);
	rc = rc ? rc
		: dg_buf_adds(&sql, inner ? " r JOIN od_packages p ON p.search_id = r.doc"
					  : " r ON r.doc = p.search_id");
	if (!rc) {
		*join = dg_arena_strdup(a, dg_buf_str(&sql));
		*args = dg_arena_alloc(a, *nargs * sizeof **args);
		for (size_t i = 0; i < *nargs; i++)
			(*args)[i] = DG_VT(dg_arena_strdup(a, dg_buf_str(&q)));
	}
	dg_buf_release(&q);
	dg_buf_release(&sql);
	return rc;
}

/*
 * ---- the matched set counted in memory (docmap.c) ----
 *
 * The same count and facets as facets_matched, from the node's map of the
 * public's documents: the matched documents are read once (the index's, or
 * the query's), and each public one adds its values' ids to an array of
 * counts. When the order's keys are held in the map (the rank, the newest,
 * the name: see struct order) the page is the best start + rows of the
 * matched documents, kept in a bounded heap, so a deep start costs one pass
 * over the matches and no dataset row is read for a page that is not shown.
 * The rank comes with the index's documents (free text alone); the time
 * and the name are the map's. The name is compared as strcmp does, so this
 * is taken only where the store orders names so (dg_od_docmap_bytewise).
 * A search of every public dataset (its count kept, facets.c) takes its
 * page from the map's documents themselves.
 */
struct ranked {
	double rank;
	int64_t modified;
	const char *name, *id;
};

/* Whether x comes before y in the order o (its last key the name: no two tie). */
static bool before(const struct order *o, const struct ranked *x, const struct ranked *y)
{
	for (int i = 0; i < o->n; i++) {
		int c = o->k[i].key == K_RANK ? (x->rank > y->rank) - (x->rank < y->rank)
			: o->k[i].key == K_MODIFIED
				? (x->modified > y->modified) - (x->modified < y->modified)
				: strcmp(x->name, y->name);
		if (c)
			return o->k[i].desc ? c > 0 : c < 0;
	}
	return false;
}

/* The heap of the best k so far in order o, its worst at the root; room for cap, grown. */
struct best {
	const struct order *o;
	struct ranked *h;
	size_t n, k, cap;
};

static void sift_down(struct best *b, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, w = i;
		if (l < b->n && before(b->o, &b->h[w], &b->h[l]))
			w = l;
		if (r < b->n && before(b->o, &b->h[w], &b->h[r]))
			w = r;
		if (w == i)
			return;
		struct ranked t = b->h[i];
		b->h[i] = b->h[w];
		b->h[w] = t;
		i = w;
	}
}

static void best_add(struct best *b, const struct ranked *x)
{
	if (b->n < b->k) {
		if (b->n == b->cap) {
			b->cap = b->cap ? 2 * b->cap : 64;
			b->h = dg_xrealloc(b->h, b->cap * sizeof *b->h);
		}
		size_t i = b->n++;
		b->h[i] = *x;
		/* sift up: a worse one goes toward the root */
		while (i && before(b->o, &b->h[(i - 1) / 2], &b->h[i])) {
			struct ranked t = b->h[i];
			b->h[i] = b->h[(i - 1) / 2];
			b->h[(i - 1) / 2] = t;
			i = (i - 1) / 2;
		}
	} else if (b->k && before(b->o, x, &b->h[0])) {
		b->h[0] = *x;
		sift_down(b, 0);
	}
}

/* The heap's entries in order, the best first: its worst moved to the end, one at a time. */
static void best_sort(struct best *b)
{
	size_t n = b->n;
	while (b->n > 1) {
		struct ranked t = b->h[0];
		b->h[0] = b->h[--b->n];
		b->h[b->n] = t;
		sift_down(b, 0);
	}
	b->n = n;
}

/* The current names of organisations (1) and groups (0) that have one, by id. */
static dg_rc current_names(struct dg_db *db, json_t *names[2])
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, "SELECT is_org, id, name FROM od_group_names WHERE current = 1",
			       DG_NOARGS, &rows);
	names[0] = json_object();
	names[1] = json_object();
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK)
		json_object_set_new(names[dg_rows_int(rows, 0) ? 1 : 0], dg_rows_text(rows, 1),
				    json_string(dg_rows_text(rows, 2)));
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

/* The facets srcs[0..n) from counts (by the map's value ids), as facets_matched gives them. */
static dg_rc facets_counted(struct dg_db *db, struct dg_arena *a, const struct dg_od_docmap *m,
			    const uint32_t *counts, const struct dg_od_search *s,
			    const char *const *const *srcs, size_t n, json_t *res)
{
	json_t *names[2] = {NULL, NULL};
	dg_rc rc = current_names(db, names);
	size_t nv = dg_od_docmap_nvalues(m);
	json_t *facets = json_object(), *search_facets = json_object();
	json_object_set_new(res, "facets", facets);
	json_object_set_new(res, "search_facets", search_facets);
	for (size_t i = 0; !rc && i < n; i++) {
		int want = dg_od_docmap_kind(srcs[i][0]);
		size_t nc = 0;
		struct fcount *c = dg_arena_alloc(a, (nv + 1) * sizeof *c);
		for (uint32_t v = 0; v < nv; v++) {
			int kind;
			const char *text;
			dg_od_docmap_value(m, v, &kind, &text);
			if (kind != want || !counts[v])
				continue;
			json_t *name = kind <= 1 ? json_object_get(names[kind == 0], text) : NULL;
			c[nc++] = (struct fcount){name ? json_string_value(name) : text, counts[v]};
		}
		facet_json(srcs[i][0], c, nc, s, facets, search_facets);
	}
	/* the names are borrowed by the JSON until here: copied into it by json_pack */
	rc = rc ? rc : org_names(db, search_facets);
	json_decref(names[0]);
	json_decref(names[1]);
	return rc;
}

/* The page start .. start + rows of b (sorted here) as its ids, into *page_ids. */
static void best_page(struct best *b, const struct dg_od_search *s, json_t **page_ids)
{
	best_sort(b);
	*page_ids = json_array();
	for (size_t i = (size_t)s->start; s->start < (int64_t)b->n && i < b->n; i++)
		json_array_append_new(*page_ids, json_string(b->h[i].id));
}

/* The heap for start + rows of s in order o (at most every match). */
static struct best best_for(const struct order *o, const struct dg_od_search *s)
{
	int64_t k64 = o ? s->start + s->rows : 0;
	return (struct best){o, NULL, 0, k64 > 0 ? (size_t)k64 : 0, 0};
}

/* The page of every public document in order o (no rank in it), from m alone. */
static void paged_from_map(const struct dg_od_docmap *m, const struct order *o,
			   const struct dg_od_search *s, json_t **page_ids)
{
	struct best b = best_for(o, s);
	for (size_t doc = 0; doc < dg_od_docmap_ndocs(m); doc++) {
		if (!dg_od_docmap_public(m, (int64_t)doc))
			continue;
		struct ranked x = {0, 0, NULL, NULL};
		dg_od_docmap_keys(m, (int64_t)doc, &x.id, &x.name, &x.modified);
		best_add(&b, &x);
	}
	best_page(&b, s, page_ids);
	free(b.h);
}

/* Whether order o has the rank among its keys. */
static bool has_rank(const struct order *o)
{
	for (int i = 0; i < o->n; i++)
		if (o->k[i].key == K_RANK)
			return true;
	return false;
}

/* A matched document doc with its rank: counted, and offered to the page b, if public. */
static void take(const struct dg_od_docmap *m, int64_t doc, double rank, const struct order *o,
		 uint32_t *counts, struct best *b, int64_t *count)
{
	if (!dg_od_docmap_public(m, doc))
		return;
	++*count;
	dg_od_docmap_count(m, doc, counts);
	if (!o)
		return;
	struct ranked x = {rank, 0, NULL, NULL};
	dg_od_docmap_keys(m, doc, &x.id, &x.name, &x.modified);
	best_add(b, &x);
}

/*
 * The count and facets of the public's matched set through the map m, into
 * *count and res; with an order o (its keys the map's; with the rank, free
 * text alone), also the page's ids into *page_ids. Free text alone of
 * whole tokens (toks[0..ntoks), or none) whose lists m keeps is matched
 * and ranked from them (lists.c); else the index is read. The values are
 * read while m is locked.
 */
static dg_rc counted_in_memory(struct dg_db *db, struct dg_arena *a, const struct dg_od_docmap *m,
			       const char *vis, const struct dg_solr_sql *sql,
			       const struct dg_od_search *s, const char *const *const *srcs,
			       const struct order *o, const char *const *toks, size_t ntoks,
			       int64_t *count, json_t *res, json_t **page_ids)
{
	struct dg_buf q;
	dg_buf_init(&q, 0);
	struct dg_val *args = NULL;
	size_t nargs = 0;
	dg_rc rc = DG_OK;
	bool ranked = o && has_rank(o);
	/* free text of whole tokens with lists (lists.c): matched and ranked here */
	struct dg_od_hit *hits = NULL;
	size_t nhits = 0;
	if (ranked && toks && dg_od_lists_rank(dg_od_docmap_lists(m), toks, ntoks, &hits, &nhits)) {
		dg_buf_release(&q);
		uint32_t *counts = dg_xcalloc(dg_od_docmap_nvalues(m) + 1, sizeof *counts);
		struct best b = best_for(o, s);
		*count = 0;
		for (size_t i = 0; i < nhits; i++)
			take(m, hits[i].doc, hits[i].rank, o, counts, &b, count);
		free(hits);
		rc = facets_counted(db, a, m, counts, s, srcs, s->nfacets, res);
		free(counts);
		if (!rc)
			best_page(&b, s, page_ids);
		free(b.h);
		return rc;
	}
	if (ranked) {
		/* the index's documents with their rank: one lookup for count, facets and page */
		struct dg_buf text;
		dg_buf_init(&text, DG_SOLR_SQL_MAX);
		rc = dg_search_render(dg_db_kind(db), &dg_od_index, sql->rank, &text);
		rc = rc ? rc : dg_buf_adds(&q, "SELECT r.doc, r.rank FROM ");
		rc = rc ? rc
			: dg_search_ranked(dg_db_kind(db), &dg_od_index, "doc", "rank", &q, &nargs);
		rc = rc ? rc : dg_buf_adds(&q, " r");
		args = dg_arena_alloc(a, (nargs + 1) * sizeof *args);
		for (size_t i = 0; !rc && i < nargs; i++)
			args[i] = DG_VT(dg_arena_strdup(a, dg_buf_str(&text)));
		dg_buf_release(&text);
	} else {
		rc = matched_docs(db, a, vis, sql, &q);
		args = sql->args;
		nargs = sql->nargs;
	}
	struct dg_rows *rows = NULL;
	if (!rc)
		rc = dg_db_query(db, dg_buf_str(&q), args, nargs, &rows);
	dg_buf_release(&q);
	if (rc)
		return rc;
	uint32_t *counts = dg_xcalloc(dg_od_docmap_nvalues(m) + 1, sizeof *counts);
	struct best b = best_for(o, s);
	*count = 0;
	while ((rc = dg_rows_next(rows)) == DG_OK)
		take(m, dg_rows_int(rows, 0), ranked ? dg_rows_real(rows, 1) : 0, o, counts, &b,
		     count);
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND)
		rc = facets_counted(db, a, m, counts, s, srcs, s->nfacets, res);
	free(counts);
	if (!rc && o)
		best_page(&b, s, page_ids);
	free(b.h);
	return rc;
}

#define TOKS_MAX 64 /* tokens of free text matched from the lists (lists.c) */

/* version: the catalogue's, read before (-1: not read, the map is not used) */
static dg_rc search_run(struct dg_db *db, struct dg_arena *a, const struct dg_od_search *s,
			int64_t version, json_t **out, json_t **ids, struct dg_err *err)
{
	struct dg_solr_sql *sql = dg_solr_sql_new(a);
	sql->kind = dg_db_kind(db);
	dg_rc rc = compile_one(sql, a, s->q ? s->q : "", "q", s->now_ms, err);
	for (size_t i = 0; !rc && i < s->nfq; i++)
		rc = compile_one(sql, a, s->fq[i], "fq", s->now_ms, err);
	const char *sort = s->sort && s->sort[0] ? s->sort : "score desc, metadata_modified desc";
	struct dg_buf order;
	dg_buf_init(&order, 4096);
	struct order ord = {0};
	if (!rc)
		rc = order_by(sort, sql->rank != NULL, &order, &ord, err);
	struct dg_val visarg[2];
	size_t nvis = 0;
	const char *vis = visible(a, s, visarg, &nvis);

	int64_t count = 0;
	size_t nargs = 0;
	struct dg_val *args = NULL;
	char *text = NULL;
	const char *const **srcs = dg_arena_alloc(a, (s->nfacets + 1) * sizeof *srcs);
	if (!rc)
		rc = facet_srcs(s, srcs, err);
	/* what the public sees of the catalogue, an organisation or a group: counts are kept */
	const char *scope = rc ? NULL : kept_scope(db, a, s, sql, s->now_ms);
	/* any other search of the public's: its count and facets from its documents' rows */
	bool matched = !scope && !s->private_dept && !s->deleted_dept;
	json_t *counted = json_object();
	/* the public's documents in memory, at least as new as the version */
	struct dg_od_docmap *m = NULL;
	json_t *page_ids = NULL;
	/* every public dataset in an order of the map's keys: the page from the map alone */
	bool every = scope && !scope[0] && ord.n > 0 && !has_rank(&ord) && !s->after_name;
	/* free text alone of whole tokens: their lists are kept with the map */
	const char *toks[TOKS_MAX], *sub1 = NULL;
	size_t ntoks = 0;
	if (!rc && matched && sql->rank &&
	    (!dg_search_whole_tokens(sql->rank, toks, TOKS_MAX, &ntoks) ||
	     !text_alone(db, a, sql, &sub1)))
		ntoks = 0;
	if (!rc && (matched || every) && version >= 0)
		rc = dg_od_docmap_get(s->memo, db, version, toks, ntoks, &m);
	/*
	 * a map another search brought past the version holds documents this
	 * search's snapshot does not: its count, facets and page are read from
	 * the store instead, at the snapshot, so that they agree
	 */
	if (m && dg_od_docmap_version(m) != version) {
		dg_od_docmap_put(m);
		m = NULL;
	}
	/* the page from the map: its keys held there, the rank only with free text alone */
	const char *sub0 = NULL;
	bool in_memory = m && ord.n > 0 && !s->after_name && dg_od_docmap_bytewise(m) &&
			 (!has_rank(&ord) || text_alone(db, a, sql, &sub0));
	if (scope) {
		rc = rc ? rc : dg_od_facets_total(db, scope, &count);
		if (!rc && m && in_memory)
			paged_from_map(m, &ord, s, &page_ids);
		dg_od_docmap_put(m);
	} else if (!rc && m) {
		rc = counted_in_memory(db, a, m, vis, sql, s, srcs, in_memory ? &ord : NULL,
				       ntoks ? toks : NULL, ntoks, &count, counted, &page_ids);
		dg_od_docmap_put(m);
	} else if (!rc && matched)
		rc = facets_matched(db, a, vis, sql, s, srcs, s->nfacets, &count, counted);
	else if (!rc) {
		text = dg_arena_printf(a, "SELECT COUNT(*) FROM od_packages p WHERE %s AND %s", vis,
				       dg_buf_str(&sql->where));
		args = join_args(a, NULL, 0, visarg, nvis, sql, NULL, 0, &nargs);
		rc = dg_db_query_int(db, text, args, nargs, &count);
	}
	struct dg_rows *rows = NULL;
	/* the relevance is the index's rank of the free text, for the datasets that have it */
	struct dg_val *rank = NULL;
	size_t nrank = 0;
	const char *ranked = "od_packages p";
	const char *sub = NULL;
	/*
	 * free text alone: the index's matches, ranked, are the rows (one
	 * lookup of the index, not a second one for the condition)
	 */
	bool alone = !rc && sql->rank && text_alone(db, a, sql, &sub);
	if (!rc && sql->rank && !page_ids)
		rc = rank_join(db, a, sql->rank, alone, &ranked, &rank, &nrank);
	if (!rc && !page_ids) {
		/* a keyset page starts after its dataset: the index of the order seeks there */
		text = dg_arena_printf(
			a, "SELECT p.id, %s AS score FROM %s WHERE %s AND %s%s%s LIMIT ? OFFSET ?",
			sql->rank ? "COALESCE(r.rank, 0)" : "0", ranked, vis,
			alone ? "1=1" : dg_buf_str(&sql->where),
			s->after_name ? " AND p.metadata_modified <= ? AND (p.metadata_modified < ?"
					" OR (p.metadata_modified = ? AND p.name > ?))"
				      : "",
			dg_buf_str(&order));
		/* the first bound alone is one an index can seek by (PostgreSQL's cannot the OR) */
		struct dg_val page[6] = {DG_VI(s->rows), DG_VI(s->start)};
		size_t npage = 2;
		if (s->after_name) {
			struct dg_val after[6] = {
				DG_VI(s->after_modified), DG_VI(s->after_modified),
				DG_VI(s->after_modified), DG_VT(s->after_name),
				DG_VI(s->rows),           DG_VI(s->start)};
			memcpy(page, after, sizeof page);
			npage = 6;
		}
		struct dg_solr_sql none = {.nargs = 0};
		args = join_args(a, rank, nrank, visarg, nvis, alone ? &none : sql, page, npage,
				 &nargs);
		rc = dg_db_query(db, text, args, nargs, &rows);
	}
	dg_buf_release(&order);
	json_t *results = NULL;
	if (!rc && page_ids) {
		*ids = page_ids;
		page_ids = NULL;
		rc = packages_of(db, *ids, &results);
	} else if (!rc)
		rc = results_of(db, rows, &results, ids);
	json_decref(page_ids);
	if (rc) {
		json_decref(counted);
		return rc;
	}
	json_t *res = json_pack("{s:I, s:o, s:s}", "count", (json_int_t)count, "results", results,
				"sort", sort);
	if (matched)
		json_object_update(res, counted);
	else
		rc = facets_of(db, a, vis, visarg, nvis, sql, s, srcs, scope, res);
	json_decref(counted);
	if (rc) {
		json_decref(res);
		return rc;
	}
	*out = res;
	return DG_OK;
}

/*
 * Open a read-only snapshot of the store on db, unless a transaction is
 * open: SQLite's deferred BEGIN (its first read fixes what every later one
 * sees), PostgreSQL's REPEATABLE READ (READ COMMITTED gives each
 * statement its own). Whether one was opened: without one a search still
 * answers, each statement reading the newest rows.
 */
static bool snapshot(struct dg_db *db)
{
	if (dg_db_in_tx(db))
		return false;
	return dg_db_exec(db,
			  dg_db_kind(db) == DG_STORE_PG
				  ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
				  : "BEGIN",
			  DG_NOARGS, NULL) == DG_OK;
}

/*
 * One search: the version, the count, the facets, the page and its
 * datasets are read in one snapshot, so an answer is the catalogue's at
 * one moment even while it is written (a count is the sum of an exhaustive
 * facet, and a dataset hidden by a write before the search began is in no
 * page).
 */
dg_rc dg_od_search_run(struct dg_db *db, struct dg_arena *a, const struct dg_od_search *s,
		       json_t **out, struct dg_err *err)
{
	*out = NULL;
	char *key = memo_key(s);
	int64_t version = 0;
	char *bytes = NULL;
	size_t len = 0;
	bool snap = snapshot(db);
	dg_rc rc = key ? dg_od_catalog_version(db, &version) : DG_OK;
	if (rc)
		goto out;
	json_t *kept = key && dg_pcache_get(s->memo, key, version, &bytes, &len)
			       ? json_loadb(bytes, len, 0, NULL)
			       : NULL;
	if (kept) {
		rc = from_kept(db, kept, out);
		goto out;
	}
	json_t *ids = NULL;
	rc = search_run(db, a, s, key ? version : -1, out, &ids, err);
	if (!rc && key)
		keep(s, key, version, *out, ids);
	json_decref(ids);
out:
	/* nothing was written: the snapshot's end */
	if (snap)
		dg_db_rollback(db);
	free(bytes);
	free(key);
	return rc;
}

/* ---- organizations, groups, tags ---- */

/* Groups and organizations with their datasets' counts as kept (facets.c). */
static const char *const group_from[2] = {
	/* groups: the themes the public's datasets have, with what group_update kept */
	"(SELECT c.value AS id, " DG_OD_NAME_OF(
		"0", "c.value") " AS name,"
				" COALESCE(m.title, c.value) AS title, '' AS title_en,"
				" c.n AS package_count, COALESCE(m.description, '') AS description,"
				" COALESCE(m.image_url, '') AS image_url, COALESCE(m.extras, '[]') "
				"AS extras"
				" FROM od_facet_counts c LEFT JOIN od_group_meta m ON m.is_org = 0 "
				"AND m.name = c.value"
				" WHERE c.scope = '' AND c.facet = 'groups') g",
	/* organizations: every department, with what organization_update kept */
	"(SELECT d.code AS id, " DG_OD_NAME_OF(
		"1", "d.code") " AS name,"
			       " COALESCE(m.title, d.name_zh) AS title, d.name_en AS title_en,"
			       " COALESCE(c.n, 0) AS package_count, COALESCE(m.description, '') AS "
			       "description,"
			       " COALESCE(m.image_url, '') AS image_url, COALESCE(m.extras, '[]') "
			       "AS extras"
			       " FROM departments d LEFT JOIN od_facet_counts c"
			       " ON c.scope = '' AND c.facet = 'organization' AND c.value = d.code"
			       " LEFT JOIN od_group_meta m ON m.is_org = 1 AND m.name = d.code) g",
};
#define GROUP_COLS                                                                                 \
	"g.name, g.title, g.title_en, g.package_count, g.description, g.image_url, g.extras, g.id"

static bool has_key(json_t *extras, const char *key)
{
	size_t i;
	json_t *e;
	json_array_foreach (extras, i, e) {
		const char *k = json_string_value(json_object_get(e, "key"));
		if (k && strcmp(k, key) == 0)
			return true;
	}
	return false;
}

static json_t *group_dict(struct dg_rows *rows, bool org)
{
	const char *name = dg_rows_text(rows, 0), *title = dg_rows_text(rows, 1);
	const char *image = dg_rows_text(rows, 5);
	json_t *extras = json_loads(dg_rows_text(rows, 6), 0, NULL);
	if (!json_is_array(extras)) {
		json_decref(extras);
		extras = json_array();
	}
	json_t *g =
		json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:I, s:i,"
			  " s:o, s:[], s:[], s:[]}",
			  "id", dg_rows_text(rows, 7), "name", name, "title", title, "display_name",
			  title, "description", dg_rows_text(rows, 4), "image_url", image,
			  "image_display_url", image, "type", org ? "organization" : "group",
			  "state", "active", "is_organization", org, "approval_status", "approved",
			  "package_count", (json_int_t)dg_rows_int(rows, 3), "num_followers", 0,
			  "extras", extras, "users", "groups", "tags");
	if (org && dg_rows_text(rows, 2)[0] && !has_key(extras, "title_en"))
		json_array_append_new(extras, json_pack("{s:s, s:s}", "key", "title_en", "value",
							dg_rows_text(rows, 2)));
	return g;
}

static bool in_list(json_t *list, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach (list, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
			return true;
	}
	return false;
}

dg_rc dg_od_group_list(struct dg_db *db, const struct dg_od_group_query *gq, json_t **out,
		       struct dg_err *err)
{
	*out = NULL;
	struct dg_str field, dir;
	dir = dg_str_trim(
		dg_str_cut(dg_str_trim(dg_str_of(gq->sort ? gq->sort : "name")), ' ', &field));
	const char *col = dg_str_eqs(field, "name")            ? "g.name"
			  : dg_str_eqs(field, "title")         ? "g.title"
			  : dg_str_eqs(field, "package_count") ? "g.package_count"
							       : NULL;
	bool desc = dg_str_case_eqs(dir, "desc");
	if (!col || (dir.n && !desc && !dg_str_case_eqs(dir, "asc")))
		return dg_err_field(err, DG_EINVAL, "sort",
				    "Invalid sort: use name, title or package_count, asc or desc");
	char like[300];
	snprintf(like, sizeof like, "%%%.200s%%", gq->q ? gq->q : "");
	char sql[2048];
	snprintf(sql, sizeof sql,
		 "SELECT " GROUP_COLS " FROM %s"
		 " WHERE (g.name LIKE ? OR g.title LIKE ?) ORDER BY %s %s, g.name LIMIT ? OFFSET ?",
		 group_from[gq->orgs], col, desc ? "DESC" : "ASC");
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(
		db, sql, DG_ARGS(DG_VT(like), DG_VT(like), DG_VI(gq->limit), DG_VI(gq->offset)),
		&rows);
	if (rc)
		return rc;
	json_t *list = json_array();
	while ((rc = dg_rows_next(rows)) == DG_OK) {
		if (gq->only && json_array_size(gq->only) &&
		    !in_list(gq->only, dg_rows_text(rows, 0)))
			continue;
		json_array_append_new(list, group_dict(rows, gq->orgs));
	}
	dg_rows_free(rows);
	if (rc != DG_ENOTFOUND) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return DG_OK;
}

dg_rc dg_od_group_show(struct dg_db *db, bool org, const char *id, json_t **out)
{
	*out = NULL;
	char sql[2048];
	snprintf(sql, sizeof sql, "SELECT " GROUP_COLS " FROM %s WHERE g.id = " DG_OD_ID_OF("%d"),
		 group_from[org], org);
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, sql, DG_ARGS(DG_VT(id), DG_VT(id)), &rows);
	if (rc)
		return rc;
	rc = dg_rows_next(rows);
	if (rc == DG_OK)
		*out = group_dict(rows, org);
	dg_rows_free(rows);
	return rc;
}

dg_rc dg_od_tag_list(struct dg_db *db, const char *q, json_t **out)
{
	*out = NULL;
	char like[300];
	snprintf(like, sizeof like, "%%%.200s%%", q ? q : "");
	struct dg_rows *rows = NULL;
	dg_rc rc =
		dg_db_query(db,
			    "SELECT value FROM od_facet_counts WHERE scope = '' AND facet = 'tags'"
			    " AND value LIKE ? ORDER BY value",
			    DG_ARGS(DG_VT(like)), &rows);
	if (rc)
		return rc;
	json_t *list = json_array();
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
