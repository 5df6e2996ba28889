/*
 * filter.c - datastore filters and q as a WHERE clause (grammar and bounds
 * in filter.h). A recursive descent over the JSON value writes one SQL
 * expression with '?' placeholders; a failure anywhere leaves w as it was.
 */
#include "opendata/datastore/filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/mem.h"
#include "opendata/datastore/datastore_int.h"
#include "opendata/datastore/fts.h"
#include "search/search.h"

#define Q_MAX 200 /* bytes of a q search */

struct dg_ds_col *dg_ds_cols(const struct dg_ds_table *t, size_t *n)
{
	*n = json_array_size(t->fields) + 1;
	struct dg_ds_col *cols = dg_xcalloc(*n, sizeof *cols);
	cols[0] = (struct dg_ds_col){"_id", DG_DS_INT};
	for (size_t i = 1; i < *n; i++) {
		json_t *f = json_array_get(t->fields, i - 1);
		const char *ty = json_string_value(json_object_get(f, "type"));
		cols[i].id = json_string_value(json_object_get(f, "id"));
		if (!cols[i].id)
			cols[i].id = "_invalid";
		if (!ty || dg_ds_type_parse(ty, &cols[i].type) != DG_OK)
			cols[i].type = DG_DS_TEXT;
	}
	return cols;
}

const struct dg_ds_col *dg_ds_col_find(const struct dg_ds_col *cols, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (strcmp(cols[i].id, name) == 0)
			return &cols[i];
	return NULL;
}

void dg_ds_where_init(struct dg_ds_where *w)
{
	memset(w, 0, sizeof *w);
	dg_buf_init(&w->sql, 1 << 20);
}

void dg_ds_where_release(struct dg_ds_where *w)
{
	for (size_t i = 0; i < w->nranks; i++)
		free(w->ranks[i].query);
	w->nranks = 0;
	for (size_t i = 0; i < w->nargs; i++)
		free(w->owned[i]);
	dg_buf_release(&w->sql);
	w->nargs = 0;
}

/*
 * A json column takes any JSON value, an array column a list of its
 * element type, stored as compact text (as CKAN stores json.dumps of it).
 * Neither is a filter's: the stores compare JSON differently (jsonb by
 * meaning, SQLite's text by bytes).
 */
static dg_rc bind_json(const struct dg_ds_col *c, json_t *v, const char *param, struct dg_val *out,
		       char **owned, struct dg_err *err)
{
	if (strcmp(param, "records") != 0)
		return dg_err_field(err, DG_EINVAL, param,
				    "field \"%s\": a %s column cannot be filtered", c->id,
				    dg_ds_type_name(c->type));
	if (dg_ds_is_array(c->type) && !dg_ds_array_ok(c->type, v))
		return dg_err_field(err, DG_EINVAL, param, "field \"%s\": %s is a list of %s",
				    c->id, dg_ds_type_name(c->type),
				    c->type == DG_DS_TEXT_ARRAY  ? "strings"
				    : c->type == DG_DS_INT_ARRAY ? "integers"
								 : "numbers");
	*owned = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!*owned)
		return dg_err_field(err, DG_EINVAL, param, "field \"%s\": not JSON", c->id);
	*out = DG_VT(*owned);
	return DG_OK;
}

dg_rc dg_ds_bind_value(const struct dg_ds_col *c, json_t *v, const char *param, struct dg_val *out,
		       char **owned, struct dg_err *err)
{
	char tmp[64], norm[DG_DS_NORM_MAX];
	const char *s = NULL;
	*owned = NULL;
	if (c->type == DG_DS_JSON || dg_ds_is_array(c->type))
		return bind_json(c, v, param, out, owned, err);
	if (json_is_string(v))
		s = json_string_value(v);
	else if (json_is_integer(v))
		snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v)), s = tmp;
	else if (json_is_real(v))
		snprintf(tmp, sizeof tmp, "%.17g", json_real_value(v)), s = tmp;
	else if (json_is_boolean(v))
		s = json_is_true(v) ? "true" : "false";
	if (!s)
		return dg_err_field(err, DG_EINVAL, param,
				    "field \"%s\": a value must be a string, a number or a boolean",
				    c->id);
	size_t n = strlen(s);
	if (json_is_string(v) && n != json_string_length(v))
		return dg_err_field(err, DG_EINVAL, param, "field \"%s\": a NUL byte in a value",
				    c->id);
	/* a real number for an int column is not an int, whatever it prints as */
	if ((json_is_real(v) && c->type == DG_DS_INT) ||
	    (json_is_boolean(v) && c->type != DG_DS_BOOL && c->type != DG_DS_TEXT) ||
	    ((json_is_integer(v) || json_is_real(v)) && c->type == DG_DS_BOOL) ||
	    (c->type != DG_DS_TEXT && (n == 0 || !dg_ds_value_ok(c->type, s, n))))
		return dg_err_field(err, DG_EINVAL, param, "field \"%s\": \"%.40s\" is not %s",
				    c->id, s, dg_ds_type_name(c->type));
	if (c->type == DG_DS_INT)
		*out = DG_VI(strtoll(s, NULL, 10));
	else if (c->type == DG_DS_NUMERIC)
		*out = DG_VR(strtod(s, NULL));
	else if (c->type == DG_DS_BOOL)
		*out = DG_VT((s[0] == 't' || s[0] == 'T') ? "1" : "0");
	else {
		*owned = dg_xstrdup(dg_ds_value_norm(c->type, s, n, norm));
		*out = DG_VT(*owned);
	}
	return DG_OK;
}

/* One filter walk: the expression goes to sql, values to w. */
struct walk {
	struct dg_ds_where *w;
	const struct dg_ds_col *cols;
	size_t ncols;
	struct dg_buf *sql;
	struct dg_err *err;
};

static dg_rc bind(struct walk *k, const struct dg_ds_col *c, json_t *v)
{
	struct dg_ds_where *w = k->w;
	if (w->nargs >= DG_DS_MAX_ARGS)
		return dg_err_field(k->err, DG_EINVAL, "filters",
				    "too many filter values (at most %d)", DG_DS_MAX_ARGS);
	dg_rc rc =
		dg_ds_bind_value(c, v, "filters", &w->args[w->nargs], &w->owned[w->nargs], k->err);
	if (rc == DG_OK)
		w->nargs++;
	return rc == DG_OK ? dg_buf_addc(k->sql, '?') : rc;
}

static dg_rc count_op(struct walk *k)
{
	if (++k->w->nops > DG_DS_FILTER_OPS)
		return dg_err_field(k->err, DG_EINVAL, "filters",
				    "Maximum number of filter operations exceeded");
	return DG_OK;
}

static bool scalar(json_t *v)
{
	return json_is_string(v) || json_is_number(v) || json_is_boolean(v);
}

/* col IN (v, ...) over the scalars of list (skipping objects). */
static dg_rc in_list(struct walk *k, const struct dg_ds_col *c, json_t *list)
{
	size_t i, n = 0;
	json_t *v;
	dg_rc rc = count_op(k);
	json_array_foreach (list, i, v)
		if (!json_is_object(v))
			n++;
	if (rc != DG_OK)
		return rc;
	if (n == 0)
		return dg_buf_adds(k->sql, "1 = 0");
	if ((rc = dg_buf_addf(k->sql, "\"%s\" IN (", c->id)) != DG_OK)
		return rc;
	n = 0;
	json_array_foreach (list, i, v) {
		if (json_is_object(v))
			continue;
		if (!scalar(v))
			return dg_err_field(k->err, DG_EINVAL, "filters",
					    "field \"%s\": a list holds values or operator objects",
					    c->id);
		if ((n++ && (rc = dg_buf_adds(k->sql, ", ")) != DG_OK) ||
		    (rc = bind(k, c, v)) != DG_OK)
			return rc;
	}
	return dg_buf_addc(k->sql, ')');
}

/* {"gte": 1, "lt": 9, "in": [..]}: each operator ANDed. */
static dg_rc ops(struct walk *k, const struct dg_ds_col *c, json_t *o)
{
	static const struct {
		const char *name, *sql;
	} map[] = {{"gte", ">="}, {"gt", ">"}, {"lte", "<="}, {"lt", "<"}, {"eq", "="}};
	const char *op;
	json_t *v;
	size_t n = 0;
	dg_rc rc = DG_OK;
	if (json_object_size(o) == 0)
		return dg_err_field(k->err, DG_EINVAL, "filters", "field \"%s\": no operator",
				    c->id);
	if ((rc = dg_buf_addc(k->sql, '(')) != DG_OK)
		return rc;
	json_object_foreach (o, op, v) {
		if (n++ && (rc = dg_buf_adds(k->sql, " AND ")) != DG_OK)
			return rc;
		if (strcmp(op, "in") == 0) {
			if (!json_is_array(v))
				return dg_err_field(k->err, DG_EINVAL, "filters",
						    "field \"%s\": \"in\" takes a list", c->id);
			if ((rc = in_list(k, c, v)) != DG_OK)
				return rc;
			continue;
		}
		size_t i;
		for (i = 0; i < sizeof map / sizeof map[0]; i++)
			if (strcmp(op, map[i].name) == 0)
				break;
		if (i == sizeof map / sizeof map[0])
			return dg_err_field(k->err, DG_EINVAL, "filters",
					    "Unknown filter operation: \"%.20s\" (field \"%s\")",
					    op, c->id);
		if ((rc = count_op(k)) != DG_OK)
			return rc;
		if (json_is_null(v) && i == 4)
			rc = dg_buf_addf(k->sql, "\"%s\" IS NULL", c->id);
		else if ((rc = dg_buf_addf(k->sql, "\"%s\" %s ", c->id, map[i].sql)) == DG_OK)
			rc = bind(k, c, v);
		if (rc != DG_OK)
			return rc;
	}
	return dg_buf_addc(k->sql, ')');
}

/* One "col": value member. */
static dg_rc field(struct walk *k, const char *name, json_t *v)
{
	if (name[0] == '$' && name[1] == '$')
		name++;
	const struct dg_ds_col *c = dg_ds_col_find(k->cols, k->ncols, name);
	dg_rc rc;
	if (!c)
		return dg_err_field(k->err, DG_EINVAL, "filters", "field \"%.60s\" not in table",
				    name);
	if (json_is_object(v))
		return ops(k, c, v);
	if (!json_is_array(v)) {
		if ((rc = count_op(k)) != DG_OK)
			return rc;
		if (json_is_null(v))
			return dg_buf_addf(k->sql, "\"%s\" IS NULL", c->id);
		if ((rc = dg_buf_addf(k->sql, "\"%s\" = ", c->id)) != DG_OK)
			return rc;
		return bind(k, c, v);
	}
	/* a list: values are IN, operator objects are ORed with them */
	size_t i, nobj = 0;
	json_t *m;
	json_array_foreach (v, i, m)
		if (json_is_object(m))
			nobj++;
	if (nobj == 0)
		return in_list(k, c, v);
	if ((rc = dg_buf_addc(k->sql, '(')) != DG_OK)
		return rc;
	size_t n = 0;
	json_array_foreach (v, i, m) {
		if (!json_is_object(m))
			continue;
		if ((n++ && (rc = dg_buf_adds(k->sql, " OR ")) != DG_OK) ||
		    (rc = ops(k, c, m)) != DG_OK)
			return rc;
	}
	if (nobj < json_array_size(v) &&
	    ((rc = dg_buf_adds(k->sql, " OR ")) != DG_OK || (rc = in_list(k, c, v)) != DG_OK))
		return rc;
	return dg_buf_addc(k->sql, ')');
}

static dg_rc object(struct walk *k, json_t *o, int depth);

/* "$or"/"$and": [{...}, ...] joined by op. */
static dg_rc group(struct walk *k, const char *op, json_t *list, int depth)
{
	bool is_or = strcmp(op, "$or") == 0;
	size_t i;
	json_t *m;
	dg_rc rc;
	if (!is_or && strcmp(op, "$and") != 0)
		return dg_err_field(k->err, DG_EINVAL, "filters",
				    "Unknown operators (must be one of $or, $and): %.20s", op);
	if (depth >= DG_DS_FILTER_DEPTH)
		return dg_err_field(k->err, DG_EINVAL, "filters",
				    "Maximum nesting depth for filter operations reached");
	if (!json_is_array(list))
		return dg_err_field(k->err, DG_EINVAL, "filters",
				    "Filter operations must be defined as a list of dicts");
	if ((rc = count_op(k)) != DG_OK)
		return rc;
	if (json_array_size(list) == 0)
		return dg_buf_adds(k->sql, is_or ? "1 = 0" : "1 = 1");
	if ((rc = dg_buf_addc(k->sql, '(')) != DG_OK)
		return rc;
	json_array_foreach (list, i, m) {
		if (!json_is_object(m))
			return dg_err_field(k->err, DG_EINVAL, "filters",
					    "Filter operation members must be dictionaries");
		if ((i && (rc = dg_buf_adds(k->sql, is_or ? " OR " : " AND ")) != DG_OK) ||
		    (rc = object(k, m, depth + 1)) != DG_OK)
			return rc;
	}
	return dg_buf_addc(k->sql, ')');
}

/* An object: its members ANDed. */
static dg_rc object(struct walk *k, json_t *o, int depth)
{
	const char *key;
	json_t *v;
	size_t n = 0;
	dg_rc rc;
	if (json_object_size(o) == 0)
		return dg_buf_adds(k->sql, "1 = 1");
	if ((rc = dg_buf_addc(k->sql, '(')) != DG_OK)
		return rc;
	json_object_foreach (o, key, v) {
		if (n++ && (rc = dg_buf_adds(k->sql, " AND ")) != DG_OK)
			return rc;
		if (key[0] == '$' && key[1] != '$')
			rc = group(k, key, v, depth);
		else
			rc = field(k, key, v);
		if (rc != DG_OK)
			return rc;
	}
	return dg_buf_addc(k->sql, ')');
}

/* Append expr (built in e) to w's clause, or undo the values it bound. */
static dg_rc commit(struct dg_ds_where *w, struct dg_buf *e, size_t nargs0, dg_rc rc)
{
	if (rc == DG_OK)
		rc = dg_buf_adds(&w->sql, w->sql.len ? " AND " : " WHERE ");
	if (rc == DG_OK)
		rc = dg_buf_add(&w->sql, e->ptr, e->len);
	if (rc != DG_OK) {
		for (size_t i = nargs0; i < w->nargs; i++) {
			free(w->owned[i]);
			w->owned[i] = NULL;
		}
		w->nargs = nargs0;
	}
	dg_buf_release(e);
	return rc;
}

dg_rc dg_ds_where_filters(struct dg_ds_where *w, const struct dg_ds_col *cols, size_t ncols,
			  json_t *filters, struct dg_err *err)
{
	json_t *parsed = NULL;
	struct dg_buf e;
	size_t nargs0 = w->nargs;
	dg_rc rc;
	if (!filters || json_is_null(filters))
		return DG_OK;
	if (json_is_string(filters)) { /* GET and forms send filters as JSON text */
		if (json_string_length(filters) == 0)
			return DG_OK;
		parsed = json_loads(json_string_value(filters), 0, NULL);
		if (!parsed)
			return dg_err_field(err, DG_EINVAL, "filters", "Cannot parse JSON");
		filters = parsed;
	}
	struct walk k = {w, cols, ncols, &e, err};
	dg_buf_init(&e, 1 << 20);
	if (json_is_object(filters)) {
		rc = object(&k, filters, 0);
	} else if (json_is_array(filters)) {
		/* a list of objects: ORed, as "$or" */
		rc = json_array_size(filters) ? group(&k, "$or", filters, 0) : DG_OK;
		if (rc == DG_OK && json_array_size(filters) == 0) {
			json_decref(parsed);
			dg_buf_release(&e);
			return DG_OK;
		}
	} else {
		rc = dg_err_field(err, DG_EINVAL, "filters",
				  "Filters must be defined as a dict or a list of dicts");
	}
	if (rc == DG_ETOOBIG)
		rc = dg_err_field(err, DG_EINVAL, "filters", "The filters are too long");
	json_decref(parsed);
	return commit(w, &e, nargs0, rc);
}

static dg_rc empty_filter(struct dg_err *err)
{
	return dg_err_field(err, DG_EINVAL, "filters",
			    "Must not be empty: an empty list, object or null names no rows "
			    "(to delete every row, filter on {\"_id\": {\"gte\": 1}})");
}

static dg_rc narrow_object(json_t *o, int depth, struct dg_err *err);

/* A column's value: a scalar or null, a non-empty list, or non-empty operators. */
static dg_rc narrow_value(json_t *v, int depth, struct dg_err *err)
{
	size_t i;
	json_t *m;
	const char *op;
	if (json_is_array(v)) {
		if (json_array_size(v) == 0)
			return empty_filter(err);
		json_array_foreach (v, i, m)
			if (json_is_object(m) || json_is_array(m))
				if (narrow_value(m, depth + 1, err) != DG_OK)
					return DG_EINVAL;
		return DG_OK;
	}
	if (!json_is_object(v))
		return DG_OK;
	if (json_object_size(v) == 0 || depth >= DG_DS_FILTER_DEPTH)
		return empty_filter(err);
	json_object_foreach (v, op, m)
		if ((json_is_array(m) || json_is_object(m)) && narrow_value(m, depth + 1, err))
			return DG_EINVAL;
	return DG_OK;
}

/* "$or"/"$and" lists of non-empty objects; a column's value as above (other "$" keys: the walk's).
 */
static dg_rc narrow_object(json_t *o, int depth, struct dg_err *err)
{
	const char *key;
	json_t *v, *m;
	size_t i;
	if (!json_is_object(o) || json_object_size(o) == 0 || depth >= DG_DS_FILTER_DEPTH)
		return empty_filter(err);
	json_object_foreach (o, key, v) {
		if (strcmp(key, "$or") == 0 || strcmp(key, "$and") == 0) {
			if (!json_is_array(v) || json_array_size(v) == 0)
				return empty_filter(err);
			json_array_foreach (v, i, m)
				if (narrow_object(m, depth + 1, err) != DG_OK)
					return DG_EINVAL;
		} else if (key[0] == '$' && key[1] != '$') {
			continue; /* an unknown operator: the walk refuses it */
		} else if (narrow_value(v, depth, err) != DG_OK) {
			return DG_EINVAL;
		}
	}
	return DG_OK;
}

dg_rc dg_ds_filters_narrow(json_t *filters, struct dg_err *err)
{
	json_t *parsed = NULL, *m;
	size_t i;
	dg_rc rc = DG_OK;
	if (json_is_string(filters)) {
		parsed = json_loads(json_string_value(filters), 0, NULL);
		if (!parsed && json_string_length(filters) > 0) /* the walk's own message */
			return DG_OK;
		filters = parsed;
	}
	if (json_is_array(filters)) {
		if (json_array_size(filters) == 0)
			rc = empty_filter(err);
		json_array_foreach (filters, i, m)
			if (rc == DG_OK)
				rc = narrow_object(m, 1, err);
	} else if (json_is_object(filters) || !filters || json_is_null(filters)) {
		rc = narrow_object(filters, 0, err);
	}
	json_decref(parsed);
	return rc;
}

static bool q_ok(json_t *v)
{
	return json_is_string(v) && json_string_length(v) <= Q_MAX &&
	       strlen(json_string_value(v)) == json_string_length(v);
}

/*
 * PostgreSQL's text search configurations whose text the tokenizer reads
 * as words (Latin and Cyrillic letters), "simple", and Chinese: each is
 * searched the same way, without stemming or stop words.
 */
const char *const dg_ds_languages[] = {
	"simple", "english", "chinese",   "zh",         "danish",  "dutch",   "finnish", "french",
	"german", "italian", "norwegian", "portuguese", "russian", "spanish", "swedish", NULL,
};

/* plain (true unless sent as false) and language (one of dg_ds_languages) of params. */
static dg_rc q_options(json_t *params, bool *plain, struct dg_err *err)
{
	json_t *v = json_object_get(params, "plain");
	const char *s = json_string_value(v);
	*plain = true;
	if (json_is_boolean(v))
		*plain = json_is_true(v);
	else if (s && (strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0))
		*plain = strcasecmp(s, "true") == 0;
	else if (v && !json_is_null(v))
		return dg_err_field(err, DG_EINVAL, "plain", "plain must be true or false");
	v = json_object_get(params, "language");
	if (!v || json_is_null(v))
		return DG_OK;
	for (size_t i = 0; json_is_string(v) && dg_ds_languages[i]; i++)
		if (strcasecmp(json_string_value(v), dg_ds_languages[i]) == 0)
			return DG_OK;
	char names[200] = "";
	size_t n = 0;
	for (size_t i = 0; dg_ds_languages[i] && n < sizeof names; i++)
		n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "",
				      dg_ds_languages[i]);
	return dg_err_field(err, DG_EINVAL, "language",
			    "language \"%.40s\" is not supported; dgov reads these alike, "
			    "without stemming: %s",
			    json_is_string(v) ? json_string_value(v) : "(not a string)", names);
}

/* One q: the index's query (NULL when the text has no word), rendered for the store. */
struct qpart {
	struct dg_ds_where *w;
	enum dg_store_kind kind;
	const struct dg_search_index *ix;
	struct dg_arena *a;
	struct dg_search_expr *all; /* every part ANDed */
	bool none;                  /* a part has no word: nothing matches */
	bool plain;                 /* words; else the full-text syntax */
};

/* Words of text (or a query in the full-text syntax) over the columns cols[0..n), ranked as rank.
 */
static dg_rc q_part(struct qpart *p, const char *text, const unsigned *cols, size_t n,
		    const char *rank, struct dg_err *err)
{
	struct dg_ds_where *w = p->w;
	struct dg_search_expr *e = NULL;
	struct dg_buf r;
	if (p->plain) {
		e = dg_search_words_cols(p->a, text, cols, n);
	} else {
		struct dg_err perr = {0};
		if (dg_search_parse_syntax(p->a, text, 0, &e, &perr) != DG_OK)
			return dg_err_field(err, DG_EINVAL, "q", "q is not a valid query: %s",
					    perr.msg);
		dg_search_on_cols(p->a, e, cols, n);
	}
	if (!e) {
		p->none = true;
		return DG_OK;
	}
	if (w->nranks >= DG_DS_RANKS_MAX)
		return dg_err_field(err, DG_EINVAL, "q", "q may name at most %d fields",
				    DG_DS_RANKS_MAX);
	dg_buf_init(&r, 1 << 16);
	dg_rc rc = dg_search_render(p->kind, p->ix, e, &r);
	if (rc == DG_OK) {
		struct dg_ds_rank *k = &w->ranks[w->nranks++];
		snprintf(k->name, sizeof k->name, "%s", rank);
		k->query = dg_xstrdup(dg_buf_str(&r));
	}
	dg_buf_release(&r);
	p->all = dg_search_and(p->a, p->all, e);
	return rc == DG_ETOOBIG ? dg_err_field(err, DG_EINVAL, "q", "q is too long") : rc;
}

/* The condition on "_id" for the parts' query, its text bound. */
static dg_rc q_cond(struct qpart *p, struct dg_buf *e, struct dg_err *err)
{
	struct dg_ds_where *w = p->w;
	struct dg_buf r;
	if (p->none || !p->all)
		return dg_buf_adds(e, "1 = 0");
	if (w->nargs >= DG_DS_MAX_ARGS)
		return dg_err_field(err, DG_EINVAL, "q", "too many values to search");
	dg_buf_init(&r, 1 << 20);
	dg_rc rc = dg_search_render(p->kind, p->ix, p->all, &r);
	if (rc == DG_OK) {
		w->owned[w->nargs] = dg_xstrdup(dg_buf_str(&r));
		w->args[w->nargs] = DG_VT(w->owned[w->nargs]);
		w->nargs++;
		rc = dg_search_cond(p->kind, p->ix, "\"_id\"", e);
	}
	dg_buf_release(&r);
	return rc;
}

dg_rc dg_ds_where_q(struct dg_ds_where *w, enum dg_store_kind kind, const char *table,
		    const struct dg_ds_col *cols, size_t ncols, json_t *params, struct dg_err *err)
{
	json_t *parsed = NULL, *q = json_object_get(params, "q");
	struct dg_buf e;
	struct dg_ds_fts f;
	size_t nargs0 = w->nargs, nranks0 = w->nranks;
	bool plain = true;
	dg_rc rc = q_options(params, &plain, err);
	if (rc || !q || json_is_null(q) || (json_is_string(q) && !json_string_length(q)))
		return rc;
	/* q as an object may come as JSON text too */
	if (json_is_string(q) && json_string_value(q)[0] == '{') {
		parsed = json_loads(json_string_value(q), 0, NULL);
		if (json_is_object(parsed))
			q = parsed;
	}
	dg_ds_fts_init(&f, table);
	struct qpart p = {.w = w, .kind = kind, .ix = &f.ix, .a = dg_arena_new(), .plain = plain};
	dg_buf_init(&e, 1 << 20);
	if (json_is_object(q)) {
		const char *key;
		json_t *v;
		json_object_foreach (q, key, v) {
			const struct dg_ds_col *c = dg_ds_col_find(cols, ncols, key);
			char rank[DG_DS_NAME_MAX + 8];
			if (!c || c == cols) { /* "_id" is no text of the row */
				rc = dg_err_field(err, DG_EINVAL, "q",
						  "field \"%.60s\" not in table", key);
				break;
			}
			if (!q_ok(v)) {
				rc = dg_err_field(err, DG_EINVAL, "q",
						  "q values must be strings of at most %d bytes",
						  Q_MAX);
				break;
			}
			unsigned col = (unsigned)(c - cols);
			snprintf(rank, sizeof rank, "rank %s", c->id);
			if ((rc = q_part(&p, json_string_value(v), &col, 1, rank, err)) != DG_OK)
				break;
		}
	} else if (!q_ok(q)) {
		rc = dg_err_field(err, DG_EINVAL, "q", "q must be a string of at most %d bytes",
				  Q_MAX);
	} else {
		/* every column but "_id", by its 1-based place in the table */
		unsigned *all = dg_xcalloc(ncols, sizeof *all);
		for (size_t i = 1; i < ncols; i++)
			all[i - 1] = (unsigned)i;
		rc = q_part(&p, json_string_value(q), all, ncols - 1, "rank", err);
		free(all);
	}
	if (rc == DG_OK)
		rc = q_cond(&p, &e, err);
	if (rc != DG_OK) {
		for (size_t i = nranks0; i < w->nranks; i++)
			free(w->ranks[i].query);
		w->nranks = nranks0;
	}
	dg_arena_free(p.a);
	json_decref(parsed);
	return commit(w, &e, nargs0, rc);
}

/*
 * Whether s[0..*n) ends with word (any case) after at least one space; if
 * so, *n is cut to before those spaces.
 */
static bool cut_word(const char *s, size_t *n, const char *word)
{
	size_t w = strlen(word), k = *n;
	if (k <= w || strncasecmp(s + k - w, word, w) != 0 || s[k - w - 1] != ' ')
		return false;
	for (k -= w; k > 0 && s[k - 1] == ' ';)
		k--;
	*n = k;
	return true;
}

/* One clause of sort (filter.h). */
bool dg_ds_sort_clause(const char *item, char name[DG_DS_NAME_MAX], const char **dir,
		       const char **nulls)
{
	while (*item == ' ')
		item++;
	size_t n = strlen(item), keep;
	while (n > 0 && item[n - 1] == ' ')
		n--;
	keep = n;
	bool first = cut_word(item, &n, "first");
	if (first || cut_word(item, &n, "last")) {
		if (cut_word(item, &n, "nulls"))
			*nulls = first ? " NULLS FIRST" : " NULLS LAST";
		else
			n = keep; /* "first" was the name's */
	}
	if (cut_word(item, &n, "desc"))
		*dir = "DESC";
	else
		(void)cut_word(item, &n, "asc");
	if (n >= 2 && item[0] == '"' && item[n - 1] == '"')
		item++, n -= 2;
	if (n == 0 || n >= DG_DS_NAME_MAX)
		return false;
	memcpy(name, item, n);
	name[n] = '\0';
	return true;
}
