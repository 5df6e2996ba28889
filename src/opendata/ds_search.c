/*
 * ds_search.c - datastore_search (contract in ds_search.h): parameters are
 * parsed and validated into a WHERE clause of checked column names and '?'
 * placeholders with bound values, then one page is read and shaped as CKAN
 * returns it (fields, records in the asked format, total, _links). This is
 * the one place besides ds_sql.c that writes SQL: a query builder can only
 * live where the parameters are understood.
 */
#include "opendata/ds_search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "opendata/ds_infer.h"

#define MAX_ARGS 200 /* store.h's PostgreSQL backend binds at most 256 */

struct col {
	const char *id;
	enum dg_ds_type type;
};

struct q {
	struct dg_db *db;
	struct col *cols; /* "_id" first, then the table's fields */
	size_t ncols;
	struct dg_buf where;
	struct dg_val args[MAX_ARGS];
	char *owned[MAX_ARGS]; /* text values formatted here */
	size_t nargs;
	bool filtered;
};

static const struct col *find_col(const struct q *q, const char *name)
{
	for (size_t i = 0; i < q->ncols; i++)
		if (strcmp(q->cols[i].id, name) == 0)
			return &q->cols[i];
	return NULL;
}

static dg_rc unknown(struct dg_err *err, const char *param, const char *name)
{
	return dg_err_field(err, DG_EINVAL, param, "field \"%.60s\" not in table", name);
}

/* Bind a JSON value for a comparison with a column of type t. */
static dg_rc bind(struct q *q, const struct col *c, json_t *v, const char *param,
		  struct dg_err *err)
{
	char tmp[64];
	const char *s = NULL;
	if (q->nargs >= MAX_ARGS)
		return dg_err_field(err, DG_EINVAL, param, "too many filter values (at most %d)",
				    MAX_ARGS);
	if (json_is_string(v))
		s = json_string_value(v);
	else if (json_is_integer(v))
		snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v)), s = tmp;
	else if (json_is_real(v))
		snprintf(tmp, sizeof tmp, "%.17g", json_real_value(v)), s = tmp;
	else if (json_is_boolean(v))
		s = json_is_true(v) ? "true" : "false";
	if (!s)
		return dg_err_field(err, DG_EINVAL, param, "field \"%s\": a value must be a string "
				    "or a number", c->id);
	if (strlen(s) == 0 || !dg_ds_value_ok(c->type, s, strlen(s)))
		return dg_err_field(err, DG_EINVAL, param, "field \"%s\": \"%.40s\" is not %s",
				    c->id, s, dg_ds_type_name(c->type));
	if (c->type == DG_DS_INT)
		q->args[q->nargs] = DG_VI(strtoll(s, NULL, 10));
	else if (c->type == DG_DS_NUMERIC)
		q->args[q->nargs] = DG_VR(strtod(s, NULL));
	else if (c->type == DG_DS_BOOL)
		q->args[q->nargs] = DG_VT((s[0] == 't' || s[0] == 'T') ? "1" : "0");
	else {
		q->owned[q->nargs] = dg_xstrdup(s);
		q->args[q->nargs] = DG_VT(q->owned[q->nargs]);
	}
	q->nargs++;
	return DG_OK;
}

static dg_rc add_and(struct q *q)
{
	q->filtered = true;
	return dg_buf_adds(&q->where, dg_buf_str(&q->where)[0] ? " AND " : " WHERE ");
}

/* {"gte": .., "lt": ..}: the 2.12 range operators. */
static dg_rc range(struct q *q, const struct col *c, json_t *ops, struct dg_err *err)
{
	static const struct {
		const char *name, *sql;
	} map[] = {{"gte", ">="}, {"gt", ">"}, {"lte", "<="}, {"lt", "<"}, {"eq", "="}};
	const char *op;
	json_t *v;
	dg_rc rc;
	json_object_foreach(ops, op, v)
	{
		size_t i;
		for (i = 0; i < sizeof map / sizeof map[0]; i++)
			if (strcmp(op, map[i].name) == 0)
				break;
		if (i == sizeof map / sizeof map[0])
			return dg_err_field(err, DG_EINVAL, "filters",
					    "field \"%s\": unknown operator \"%.20s\"", c->id, op);
		if ((rc = add_and(q)) != DG_OK ||
		    (rc = dg_buf_addf(&q->where, "\"%s\" %s ?", c->id, map[i].sql)) != DG_OK ||
		    (rc = bind(q, c, v, "filters", err)) != DG_OK)
			return rc;
	}
	return DG_OK;
}

/* One filter: a value, a list of values (IN) or range operators. */
static dg_rc filter(struct q *q, const char *name, json_t *v, struct dg_err *err)
{
	const struct col *c = find_col(q, name);
	dg_rc rc;
	if (!c)
		return unknown(err, "filters", name);
	if (json_is_object(v))
		return range(q, c, v, err);
	if ((rc = add_and(q)) != DG_OK)
		return rc;
	if (!json_is_array(v)) {
		if ((rc = dg_buf_addf(&q->where, "\"%s\" = ?", c->id)) != DG_OK)
			return rc;
		return bind(q, c, v, "filters", err);
	}
	if (json_array_size(v) == 0)
		return dg_buf_adds(&q->where, "1 = 0");
	if ((rc = dg_buf_addf(&q->where, "\"%s\" IN (", c->id)) != DG_OK)
		return rc;
	for (size_t i = 0; i < json_array_size(v); i++) {
		if ((rc = dg_buf_adds(&q->where, i ? ", ?" : "?")) != DG_OK ||
		    (rc = bind(q, c, json_array_get(v, i), "filters", err)) != DG_OK)
			return rc;
	}
	return dg_buf_addc(&q->where, ')');
}

static dg_rc filters(struct q *q, json_t *f, struct dg_err *err)
{
	const char *name;
	json_t *v;
	dg_rc rc;
	if (!f || json_is_null(f))
		return DG_OK;
	if (!json_is_object(f))
		return dg_err_field(err, DG_EINVAL, "filters", "filters must be an object");
	json_object_foreach(f, name, v)
	{
		if ((rc = filter(q, name, v, err)) != DG_OK)
			return rc;
	}
	return DG_OK;
}

/* q: every text column LIKE %q% (ORed); simple but bounded by the page. */
static dg_rc fulltext(struct q *q, json_t *v, struct dg_err *err)
{
	dg_rc rc;
	bool any = false;
	if (!v || json_is_null(v) || (json_is_string(v) && !json_string_length(v)))
		return DG_OK;
	if (!json_is_string(v) || json_string_length(v) > 200)
		return dg_err_field(err, DG_EINVAL, "q", "q must be a string of at most 200 bytes");
	if ((rc = add_and(q)) != DG_OK || (rc = dg_buf_addc(&q->where, '(')) != DG_OK)
		return rc;
	for (size_t i = 1; i < q->ncols; i++) {
		if (q->cols[i].type != DG_DS_TEXT)
			continue;
		if (q->nargs >= MAX_ARGS)
			return dg_err_field(err, DG_EINVAL, "q", "too many columns to search");
		if ((rc = dg_buf_addf(&q->where, "%s\"%s\" LIKE ?", any ? " OR " : "",
				      q->cols[i].id)) != DG_OK)
			return rc;
		q->owned[q->nargs] = dg_xmalloc(json_string_length(v) + 3);
		snprintf(q->owned[q->nargs], json_string_length(v) + 3, "%%%s%%",
			 json_string_value(v));
		q->args[q->nargs] = DG_VT(q->owned[q->nargs]);
		q->nargs++;
		any = true;
	}
	return dg_buf_adds(&q->where, any ? ")" : "1 = 0)");
}

/* A parameter that may come as a JSON value or (GET, forms) as a string. */
static dg_rc get_int(json_t *params, const char *name, long long def, long long max,
		     long long *out, struct dg_err *err)
{
	json_t *v = json_object_get(params, name);
	char *end = NULL;
	*out = def;
	if (!v || json_is_null(v))
		return DG_OK;
	if (json_is_integer(v))
		*out = json_integer_value(v);
	else if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) < 20) {
		*out = strtoll(json_string_value(v), &end, 10);
		if (*end)
			return dg_err_field(err, DG_EINVAL, name, "Invalid integer");
	} else {
		return dg_err_field(err, DG_EINVAL, name, "Invalid integer");
	}
	if (*out < 0)
		return dg_err_field(err, DG_EINVAL, name, "Must be a positive integer");
	if (*out > max)
		return dg_err_field(err, DG_EINVAL, name, "Must be at most %lld", max);
	return DG_OK;
}

static bool get_bool(json_t *params, const char *name, bool def)
{
	json_t *v = json_object_get(params, name);
	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_string(v))
		return strcmp(json_string_value(v), "true") == 0 ||
		       strcmp(json_string_value(v), "True") == 0;
	return def;
}

/* A list parameter: a JSON array of strings or "a,b,c". Owned array. */
static json_t *get_list(json_t *params, const char *name)
{
	json_t *v = json_object_get(params, name);
	if (json_is_array(v))
		return json_incref(v);
	json_t *a = json_array();
	if (!json_is_string(v))
		return a;
	const char *s = json_string_value(v);
	while (*s) {
		const char *e = strchr(s, ',');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		while (n > 0 && *s == ' ')
			s++, n--;
		while (n > 0 && s[n - 1] == ' ')
			n--;
		if (n > 0)
			json_array_append_new(a, json_stringn(s, n));
		s += (e ? (size_t)(e - s) + 1 : strlen(s));
	}
	return a;
}

/* The selected columns into sel (indexes into q->cols). */
static dg_rc select_cols(struct q *q, json_t *params, size_t *sel, size_t *nsel,
			 struct dg_err *err)
{
	json_t *list = get_list(params, "fields");
	dg_rc rc = DG_OK;
	*nsel = 0;
	if (json_array_size(list) == 0) {
		for (size_t i = 0; i < q->ncols; i++)
			sel[(*nsel)++] = i;
		goto out;
	}
	for (size_t i = 0; i < json_array_size(list) && *nsel < q->ncols; i++) {
		const char *name = json_string_value(json_array_get(list, i));
		const struct col *c = name ? find_col(q, name) : NULL;
		if (!c) {
			rc = unknown(err, "fields", name ? name : "?");
			goto out;
		}
		sel[(*nsel)++] = (size_t)(c - q->cols);
	}
out:
	json_decref(list);
	return rc;
}

/* sort: "a desc, b" with checked names into an ORDER BY. */
static dg_rc order_by(struct q *q, json_t *params, struct dg_buf *b, struct dg_err *err)
{
	json_t *list = get_list(params, "sort");
	dg_rc rc = dg_buf_adds(b, " ORDER BY ");
	for (size_t i = 0; rc == DG_OK && i < json_array_size(list) && i < 8; i++) {
		const char *item = json_string_value(json_array_get(list, i));
		char name[DG_DS_NAME_MAX] = "";
		const char *dir = "ASC";
		size_t n = item ? strcspn(item, " ") : 0;
		if (!item || n == 0 || n >= sizeof name) {
			rc = dg_err_field(err, DG_EINVAL, "sort", "Invalid sort \"%.60s\"",
					  item ? item : "");
			break;
		}
		memcpy(name, item, n);
		const char *rest = item + n;
		while (*rest == ' ')
			rest++;
		if (strcasecmp(rest, "desc") == 0)
			dir = "DESC";
		else if (*rest && strcasecmp(rest, "asc") != 0) {
			rc = dg_err_field(err, DG_EINVAL, "sort", "Invalid sort \"%.60s\"", item);
			break;
		}
		if (!find_col(q, name)) {
			rc = unknown(err, "sort", name);
			break;
		}
		rc = dg_buf_addf(b, "\"%s\" %s, ", name, dir);
	}
	if (rc == DG_OK)
		rc = dg_buf_adds(b, "\"_id\"");
	json_decref(list);
	return rc;
}

static json_t *value_json(struct dg_rows *rows, int i, enum dg_ds_type t)
{
	if (dg_rows_isnull(rows, i))
		return json_null();
	const char *s = dg_rows_text(rows, i);
	switch (t) {
	case DG_DS_INT:
		return json_integer(dg_rows_int(rows, i));
	case DG_DS_NUMERIC:
		return json_real(dg_rows_real(rows, i));
	case DG_DS_BOOL:
		return json_boolean(s[0] == 't' || s[0] == '1');
	default:
		return json_string(s);
	}
}

/* Append one value to a CSV/TSV text (quoted when needed). */
static dg_rc add_delim(struct dg_buf *b, json_t *v, char sep)
{
	char tmp[64];
	const char *s = tmp;
	if (json_is_null(v))
		return DG_OK;
	if (json_is_string(v))
		s = json_string_value(v);
	else if (json_is_integer(v))
		snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(tmp, sizeof tmp, "%.15g", json_real_value(v));
	else
		snprintf(tmp, sizeof tmp, "%s", json_is_true(v) ? "true" : "false");
	if (!strpbrk(s, sep == ',' ? ",\"\r\n" : "\t\"\r\n"))
		return dg_buf_adds(b, s);
	dg_rc rc = dg_buf_addc(b, '"');
	for (; rc == DG_OK && *s; s++)
		rc = *s == '"' ? dg_buf_adds(b, "\"\"") : dg_buf_addc(b, *s);
	return rc == DG_OK ? dg_buf_addc(b, '"') : rc;
}

enum fmt { F_OBJECTS, F_LISTS, F_CSV, F_TSV };

static dg_rc read_page(struct q *q, const char *sql, const size_t *sel, size_t nsel, enum fmt f,
		       json_t **records, struct dg_err *err)
{
	struct dg_rows *rows = NULL;
	struct dg_buf text;
	dg_rc rc;
	dg_buf_init(&text, 64 << 20);
	json_t *recs = json_array();
	if ((rc = dg_db_query(q->db, sql, q->args, q->nargs, &rows)) != DG_OK) {
		rc = dg_err_set(err, rc, "The query failed");
		goto out;
	}
	while ((rc = dg_rows_next(rows)) == DG_OK) {
		json_t *rec = f == F_OBJECTS ? json_object() : json_array();
		for (size_t i = 0; i < nsel; i++) {
			json_t *v = value_json(rows, (int)i, q->cols[sel[i]].type);
			if (f == F_OBJECTS)
				json_object_set_new(rec, q->cols[sel[i]].id, v);
			else
				json_array_append_new(rec, v);
		}
		if (f == F_CSV || f == F_TSV) {
			for (size_t i = 0; rc == DG_OK && i < nsel; i++) {
				if (i)
					rc = dg_buf_addc(&text, f == F_CSV ? ',' : '\t');
				if (rc == DG_OK)
					rc = add_delim(&text, json_array_get(rec, i),
						       f == F_CSV ? ',' : '\t');
			}
			if (rc == DG_OK)
				rc = dg_buf_adds(&text, "\n");
			json_decref(rec);
			if (rc != DG_OK) {
				rc = dg_err_set(err, DG_ETOOBIG, "The page is too large: lower limit");
				goto out;
			}
		} else {
			json_array_append_new(recs, rec);
		}
	}
	if (rc == DG_ENOTFOUND)
		rc = DG_OK;
	else
		rc = dg_err_set(err, rc, "The query failed");
out:
	dg_rows_free(rows);
	if (rc == DG_OK && (f == F_CSV || f == F_TSV)) {
		json_decref(recs);
		recs = json_string(dg_buf_str(&text));
	}
	dg_buf_release(&text);
	if (rc != DG_OK) {
		json_decref(recs);
		recs = NULL;
	}
	*records = recs;
	return rc;
}

static dg_rc parse_fmt(json_t *params, enum fmt *f, struct dg_err *err)
{
	const char *s = json_string_value(json_object_get(params, "records_format"));
	*f = F_OBJECTS;
	if (!s || strcmp(s, "objects") == 0)
		return DG_OK;
	if (strcmp(s, "lists") == 0)
		*f = F_LISTS;
	else if (strcmp(s, "csv") == 0)
		*f = F_CSV;
	else if (strcmp(s, "tsv") == 0)
		*f = F_TSV;
	else
		return dg_err_field(err, DG_EINVAL, "records_format",
				    "must be objects, lists, csv or tsv");
	return DG_OK;
}

static void load_cols(struct q *q, const struct dg_ds_table *t)
{
	q->ncols = json_array_size(t->fields) + 1;
	q->cols = dg_xcalloc(q->ncols, sizeof *q->cols);
	q->cols[0] = (struct col){"_id", DG_DS_INT};
	for (size_t i = 1; i < q->ncols; i++) {
		json_t *f = json_array_get(t->fields, i - 1);
		const char *ty = json_string_value(json_object_get(f, "type"));
		q->cols[i].id = json_string_value(json_object_get(f, "id"));
		if (!q->cols[i].id)
			q->cols[i].id = "_invalid";
		if (!ty || dg_ds_type_parse(ty, &q->cols[i].type) != DG_OK)
			q->cols[i].type = DG_DS_TEXT;
	}
}

static dg_rc where_clause(struct q *q, json_t *params, struct dg_err *err)
{
	json_t *f = json_object_get(params, "filters");
	json_t *parsed = NULL;
	dg_rc rc;
	if (json_is_string(f)) { /* GET and forms send filters as JSON text */
		parsed = json_loads(json_string_value(f), 0, NULL);
		if (!parsed) {
			rc = dg_err_field(err, DG_EINVAL, "filters", "Cannot parse JSON");
			goto out;
		}
		f = parsed;
	}
	if ((rc = filters(q, f, err)) != DG_OK)
		goto out;
	rc = fulltext(q, json_object_get(params, "q"), err);
out:
	json_decref(parsed);
	return rc;
}

static json_t *links(const char *resource_id, long long limit, long long offset)
{
	char start[256], next[300];
	snprintf(start, sizeof start, "/api/3/action/datastore_search?resource_id=%.150s",
		 resource_id);
	snprintf(next, sizeof next, "%s&limit=%lld&offset=%lld", start, limit, offset + limit);
	return json_pack("{s:s, s:s}", "start", start, "next", next);
}

dg_rc dg_ds_search(struct dg_db *db, const char *resource_id, const struct dg_ds_table *t,
		   json_t *params, json_t **result, struct dg_err *err)
{
	struct q q = {.db = db};
	struct dg_buf sql;
	size_t *sel = NULL, nsel = 0;
	long long limit, offset;
	int64_t total = t->row_count;
	enum fmt f;
	json_t *records = NULL, *fields = NULL;
	dg_rc rc;
	dg_buf_init(&q.where, 1 << 20);
	dg_buf_init(&sql, 1 << 20);
	*result = NULL;
	load_cols(&q, t);
	sel = dg_xcalloc(q.ncols, sizeof *sel);
	if ((rc = get_int(params, "limit", DG_DS_DEFAULT_LIMIT, DG_DS_MAX_LIMIT, &limit, err)) ||
	    (rc = get_int(params, "offset", 0, DG_DS_MAX_OFFSET, &offset, err)) ||
	    (rc = parse_fmt(params, &f, err)) || (rc = where_clause(&q, params, err)) ||
	    (rc = select_cols(&q, params, sel, &nsel, err)))
		goto out;
	if ((rc = dg_buf_adds(&sql, get_bool(params, "distinct", false) ? "SELECT DISTINCT "
									 : "SELECT ")))
		goto out;
	for (size_t i = 0; i < nsel && rc == DG_OK; i++)
		rc = dg_buf_addf(&sql, "%s\"%s\"", i ? ", " : "", q.cols[sel[i]].id);
	if (rc || (rc = dg_buf_addf(&sql, " FROM \"%s\"%s", t->table, dg_buf_str(&q.where))))
		goto out;
	/* DISTINCT cannot order by a column it does not select: sort on the first */
	if (get_bool(params, "distinct", false))
		rc = dg_buf_addf(&sql, " ORDER BY \"%s\"", q.cols[sel[0]].id);
	else
		rc = order_by(&q, params, &sql, err);
	if (rc || (rc = dg_buf_addf(&sql, " LIMIT %lld OFFSET %lld", limit, offset)))
		goto out;
	if ((rc = read_page(&q, dg_buf_str(&sql), sel, nsel, f, &records, err)) != DG_OK)
		goto out;
	if (q.filtered && get_bool(params, "include_total", true)) {
		/* bounded by the filter's index; the count without filters is stored */
		dg_buf_reset(&sql);
		if ((rc = dg_buf_addf(&sql, "SELECT COUNT(*) FROM \"%s\"%s", t->table,
				      dg_buf_str(&q.where))) != DG_OK ||
		    (rc = dg_db_query_int(db, dg_buf_str(&sql), q.args, q.nargs, &total)) != DG_OK) {
			rc = dg_err_set(err, rc, "The count failed");
			goto out;
		}
	}
	fields = json_array();
	for (size_t i = 0; i < nsel; i++)
		json_array_append_new(fields, json_pack("{s:s, s:s}", "id", q.cols[sel[i]].id,
							"type", dg_ds_type_name(q.cols[sel[i]].type)));
	*result = json_pack("{s:s, s:o, s:o, s:I, s:I, s:s, s:o}", "resource_id", resource_id,
			    "fields", fields, "records", records, "limit", (json_int_t)limit,
			    "offset", (json_int_t)offset, "records_format",
			    f == F_OBJECTS ? "objects" : f == F_LISTS ? "lists" : f == F_CSV ? "csv" : "tsv",
			    "_links", links(resource_id, limit, offset));
	fields = records = NULL;
	if (get_bool(params, "include_total", true)) {
		json_object_set_new(*result, "total", json_integer(total));
		json_object_set_new(*result, "total_was_estimated", json_false());
	}
out:
	if (rc != DG_OK && err && err->rc == DG_OK)
		dg_err_set(err, rc, "The search could not be run");
	json_decref(records);
	json_decref(fields);
	for (size_t i = 0; i < q.nargs; i++)
		free(q.owned[i]);
	free(q.cols);
	free(sel);
	dg_buf_release(&q.where);
	dg_buf_release(&sql);
	return rc;
}
