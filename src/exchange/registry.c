/*
 * registry.c - department registries: the schema they are declared in
 * (policies/registries.yaml, read by the rule engine's schema reader), their
 * records, and the change log every write goes through.
 *
 * A write checks every value against its field's type before anything is
 * stored, keeps personal and sensitive values sealed in one blob (the ID
 * itself too, under "_id"), and appends a change with a new version in the
 * same transaction as the record, so "changes since N" never misses one.
 * Values are kept as JSON: strings for codes, dates and money ("1234.50"),
 * integers for int, true/false for bool. A monthly field is an object of
 * month -> value ({"2026-05": "3200.00"}); a write may give it so or as
 * field@YYYY-MM keys, and its months are merged into those kept.
 */
#include "exchange/internal.h"

#include <stdio.h>
#include <string.h>

#include "core/date.h"
#include "core/str.h"

static struct dg_schema *schema;
static char schema_dir[4096]; /* the folder of the registries' file */

dg_rc x_schema_open(const char *path, struct dg_err *err)
{
	struct dg_schema *s = dg_schema_load(path, err);
	if (!s)
		return err->rc ? err->rc : DG_EINVAL;
	for (int i = 0; i < s->ne; i++) {
		const struct dg_entity *e = &s->e[i];
		if (!e->owner) {
			dg_schema_free(s);
			return dg_err_set(err, DG_EINVAL, "%s: registry %s names no owner", path,
					  e->name);
		}
	}
	x_schema_close();
	schema = s;
	const char *slash = strrchr(path, '/');
	snprintf(schema_dir, sizeof schema_dir, "%.*s", slash ? (int)(slash - path) : 1,
		 slash ? path : ".");
	return DG_OK;
}

void x_schema_close(void)
{
	dg_schema_free(schema);
	schema = NULL;
}

const struct dg_schema *x_schema(void)
{
	return schema;
}

const char *x_schema_dir(void)
{
	return schema_dir;
}

const struct dg_entity *x_registry(const char *name)
{
	if (!schema || !name)
		return NULL;
	int i = dg_schema_entity(schema, name);
	return i < 0 ? NULL : &schema->e[i];
}

int x_field(const struct dg_entity *e, const char *name)
{
	for (int i = 0; i < e->nf; i++)
		if (strcmp(e->f[i].name, name) == 0)
			return i;
	return -1;
}

const char *x_type_name(const struct dg_field *f)
{
	switch (f->ty) {
	case TY_BOOL: return f->monthly ? "monthly bool" : "bool";
	case TY_INT: return f->monthly ? "monthly int" : "int";
	case TY_MONEY: return f->monthly ? "monthly money" : "money";
	case TY_DATE: return f->monthly ? "monthly date" : "date";
	case TY_LINK: return "link";
	default: return f->monthly ? "monthly code" : "code";
	}
}

bool x_id_personal(const struct dg_entity *e)
{
	return e->id_class >= DG_CLASS_PERSONAL;
}

bool x_id_ok(const struct dg_entity *e, const char *id)
{
	if (!id)
		return false;
	if (x_id_personal(e))
		return dg_id_number_valid(id);
	return x_token_ok(id, X_ID_MAX);
}

const char *x_record_key(const struct dg_env *env, struct dg_arena *a, const struct dg_entity *e,
			 const char *id)
{
	return x_id_personal(e) ? dg_pii_index(&env->keys, a, "id", id) : id;
}

static bool is_personal(const struct dg_field *f)
{
	return f->cls >= DG_CLASS_PERSONAL;
}

/* Whether v fits field f; an empty value is null. */
static bool value_ok(const struct dg_field *f, json_t *v)
{
	if (json_is_null(v))
		return true;
	switch (f->ty) {
	case TY_BOOL: return json_is_boolean(v);
	case TY_INT: return json_is_integer(v);
	case TY_MONEY: {
		if (json_is_integer(v))
			return true;
		const char *s = json_string_value(v);
		if (!s || !*s || strlen(s) > 20)
			return false;
		int dots = 0, after = 0;
		for (const char *p = *s == '-' ? s + 1 : s; *p; p++) {
			if (*p == '.')
				dots++;
			else if (*p < '0' || *p > '9')
				return false;
			else if (dots)
				after++;
		}
		return dots <= 1 && after <= 2 && s[strlen(s) - 1] != '.';
	}
	case TY_DATE: {
		dg_day d;
		const char *s = json_string_value(v);
		return s && strlen(s) == 10 && dg_day_parse(s, &d) == DG_OK;
	}
	default: {
		const char *s = json_string_value(v);
		return s && strlen(s) <= X_VALUE_MAX && dg_utf8_valid(s, strlen(s));
	}
	}
}

/* Whether m is a month as YYYY-MM. */
static bool month_ok(const char *m)
{
	int32_t v;
	return m && dg_data_parse_month(m, strlen(m), &v) == DG_OK;
}

/*
 * The values of a write as stored: field@YYYY-MM keys gathered into their
 * monthly field's object, every value checked against its field (owned;
 * NULL with err naming the field at fault).
 */
static json_t *normalise(const struct dg_entity *e, json_t *values, struct dg_err *err)
{
	json_t *out = json_object();
	const char *k;
	json_t *v;
	json_object_foreach (values, k, v) {
		const char *at = strchr(k, '@');
		char name[256]; /* a field name: 64 characters of up to 4 bytes */
		size_t n = at ? (size_t)(at - k) : strlen(k);
		if (n >= sizeof name)
			n = sizeof name - 1;
		memcpy(name, k, n);
		name[n] = '\0';
		int fi = x_field(e, name);
		if (fi < 0) {
			dg_err_field(err, DG_EINVAL, k, "%s has no field %s", e->name, name);
			goto bad;
		}
		const struct dg_field *f = &e->f[fi];
		if (at && (!f->monthly || !month_ok(at + 1))) {
			dg_err_field(err, DG_EINVAL, k,
				     f->monthly ? "%s: the month is YYYY-MM, like %s@2026-05"
						: "%s is not a monthly field",
				     k, name);
			goto bad;
		}
		if (f->monthly && !at && !json_is_object(v)) {
			dg_err_field(
				err, DG_EINVAL, k,
				"%s is monthly: give an object of YYYY-MM -> value, or %s@YYYY-MM",
				k, k);
			goto bad;
		}
		if (!f->monthly) {
			if (!value_ok(f, v)) {
				dg_err_field(err, DG_EINVAL, k, "%s is not a valid %s", k,
					     x_type_name(f));
				goto bad;
			}
			json_object_set(out, k, v);
			continue;
		}
		json_t *months = json_object_get(out, name);
		if (!months)
			json_object_set_new(out, name, months = json_object());
		json_t *one = at ? json_pack("{sO}", at + 1, v) : json_incref(v);
		const char *m;
		json_t *mv;
		json_object_foreach (one, m, mv) {
			if (!month_ok(m) || !value_ok(f, mv)) {
				dg_err_field(err, DG_EINVAL, k, "%s@%s is not a valid %s", name, m,
					     x_type_name(f));
				json_decref(one);
				goto bad;
			}
			json_object_set(months, m, mv);
		}
		json_decref(one);
	}
	return out;
bad:
	json_decref(out);
	return NULL;
}

/* Merge a write's values into the record's: a monthly field's months one by one. */
static void merge(const struct dg_entity *e, json_t *all, json_t *values)
{
	const char *k;
	json_t *v;
	json_object_foreach (values, k, v) {
		int fi = x_field(e, k);
		json_t *old = json_object_get(all, k);
		if (fi >= 0 && e->f[fi].monthly && json_is_object(old))
			json_object_update(old, v);
		else
			json_object_set(all, k, v);
	}
}

/* Today as YYYY-MM-DD, or the given date when it is one. */
static dg_rc effective_of(const char *in, char out[11], struct dg_err *err)
{
	dg_day d = dg_day_today();
	if (in && *in && (strlen(in) != 10 || dg_day_parse(in, &d) != DG_OK))
		return dg_err_field(err, DG_EINVAL, "effective",
				    "effective must be a date as YYYY-MM-DD");
	dg_day_format(d, out);
	return DG_OK;
}

/* The subject of a record: its key when the ID is personal, else its first link to a person. */
static const char *subject_of(const struct dg_env *env, struct dg_arena *a,
			      const struct dg_entity *e, const char *key, json_t *all)
{
	if (x_id_personal(e))
		return key;
	for (int i = 0; i < e->nf; i++) {
		const struct dg_field *f = &e->f[i];
		if (f->ty != TY_LINK || strcmp(schema->e[f->link_ent].name, "person") != 0)
			continue;
		const char *v = json_string_value(json_object_get(all, f->name));
		if (v && dg_id_number_valid(v))
			return dg_pii_index(&env->keys, a, "id", v);
	}
	return "";
}

/* Split all into the clear JSON text and the sealed blob (NULL when nothing is personal). */
static void split(const struct dg_env *env, struct dg_arena *a, const struct dg_entity *e,
		  json_t *all, const char *id, char **clear, char **sealed)
{
	json_t *c = json_object(), *p = json_object();
	const char *k;
	json_t *v;
	json_object_foreach (all, k, v) {
		int fi = x_field(e, k);
		json_object_set(fi >= 0 && is_personal(&e->f[fi]) ? p : c, k, v);
	}
	if (x_id_personal(e))
		json_object_set_new(p, "_id", json_string(id));
	char *ct = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
	*clear = dg_arena_strdup(a, ct ? ct : "{}");
	free(ct);
	*sealed = NULL;
	if (json_object_size(p)) {
		char *pt = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
		*sealed = dg_pii_seal(&env->keys, a, pt ? pt : "{}");
		free(pt);
	}
	json_decref(c);
	json_decref(p);
}

/* Join the clear text and the opened blob into one object (owned). */
static dg_rc join(const struct dg_env *env, struct dg_arena *a, const char *clear,
		  const char *sealed, json_t **out)
{
	json_t *all = json_loads(clear, 0, NULL);
	if (!all)
		return DG_EINTERNAL;
	if (sealed && *sealed) {
		char *plain = NULL;
		dg_rc rc = dg_pii_open(&env->keys, a, sealed, &plain);
		json_t *p = rc ? NULL : json_loads(plain, 0, NULL);
		if (!p) {
			json_decref(all);
			return DG_EINTERNAL;
		}
		json_object_update(all, p);
		json_decref(p);
	}
	*out = all;
	return DG_OK;
}

#define RECORD_COLS "rkey, subject, data, sealed, version, effective, ended"

/* The record in the current row of rows (RECORD_COLS), its sealed fields opened. */
static dg_rc record_of_row(const struct dg_env *env, struct dg_arena *a, struct dg_rows *rows,
			   struct x_record *out)
{
	memset(out, 0, sizeof(*out));
	out->key = dg_arena_strdup(a, dg_rows_text(rows, 0));
	out->subject = dg_arena_strdup(a, dg_rows_text(rows, 1));
	out->version = dg_rows_int(rows, 4);
	out->effective = dg_arena_strdup(a, dg_rows_text(rows, 5));
	out->ended = dg_rows_isnull(rows, 6) ? NULL : dg_arena_strdup(a, dg_rows_text(rows, 6));
	dg_rc rc = join(env, a, dg_rows_text(rows, 2), dg_rows_text(rows, 3), &out->values);
	if (!rc) {
		json_t *id = json_object_get(out->values, "_id");
		out->id = id ? dg_arena_strdup(a, json_string_value(id)) : out->key;
		json_object_del(out->values, "_id");
	}
	return rc;
}

dg_rc x_record_read(const struct dg_env *env, struct dg_db *db, struct dg_arena *a,
		    const struct dg_entity *e, const char *key, struct x_record *out)
{
	struct dg_rows *rows = NULL;
	memset(out, 0, sizeof(*out));
	dg_rc rc = dg_db_query(
		db, "SELECT " RECORD_COLS " FROM xr_records WHERE registry = ? AND rkey = ?",
		DG_ARGS(DG_VT(e->name), DG_VT(key)), &rows);
	if (!rc)
		rc = dg_rows_next(rows);
	if (!rc)
		rc = record_of_row(env, a, rows, out);
	dg_rows_free(rows);
	return rc;
}

dg_rc x_record_page(const struct dg_env *env, struct dg_db *db, struct dg_arena *a,
		    const struct dg_entity *e, const char *after, int64_t limit,
		    const char *purpose, struct x_record **out, size_t *n)
{
	struct dg_rows *rows = NULL;
	*out = NULL;
	*n = 0;
	if (limit <= 0)
		return DG_OK;
	struct x_record *recs = dg_arena_alloc(a, (size_t)limit * sizeof(*recs));
	/* each record's subject's latest consent to purpose, as x_consent_has reads it */
	dg_rc rc = dg_db_query(
		db,
		"SELECT " RECORD_COLS ", (SELECT c.state FROM xr_consent c WHERE c.subject ="
		" r.subject AND c.purpose = ? ORDER BY c.rev DESC LIMIT 1) FROM xr_records r"
		" WHERE registry = ? AND rkey > ? AND ended IS NULL ORDER BY rkey LIMIT ?",
		DG_ARGS(DG_VT(purpose ? purpose : ""), DG_VT(e->name), DG_VT(after ? after : ""),
			DG_VI(limit)),
		&rows);
	size_t got = 0;
	while (!rc && got < (size_t)limit && (rc = dg_rows_next(rows)) == DG_OK) {
		rc = record_of_row(env, a, rows, &recs[got]);
		if (!rc) {
			recs[got].consent = purpose && *recs[got].subject &&
					    !dg_rows_isnull(rows, 7) &&
					    strcmp(dg_rows_text(rows, 7), "given") == 0;
			got++;
		}
	}
	dg_rows_free(rows);
	if (rc && rc != DG_ENOTFOUND) {
		for (size_t i = 0; i < got; i++)
			json_decref(recs[i].values);
		return rc;
	}
	*out = recs;
	*n = got;
	return DG_OK;
}

/* The names of the fields in values, comma-separated (arena). */
static const char *names_of(struct dg_arena *a, json_t *values)
{
	struct dg_buf b;
	dg_buf_init(&b, 8192);
	const char *k;
	json_t *v;
	dg_rc rc = DG_OK;
	json_object_foreach (values, k, v) {
		if (!rc && b.len)
			rc = dg_buf_addc(&b, ',');
		if (!rc)
			rc = dg_buf_adds(&b, k);
	}
	const char *s = dg_arena_strdup(a, dg_buf_str(&b));
	dg_buf_release(&b);
	return s;
}

static dg_rc log_change(struct dg_db *db, const struct dg_entity *e, const char *key,
			const char *op, const char *fields, const char *clear, const char *sealed,
			const char *effective, const char *actor, int64_t *version)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db,
			       "INSERT INTO xr_changes (registry, rkey, op, fields, data, sealed,"
			       " effective, actor, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
			       " RETURNING version",
			       DG_ARGS(DG_VT(e->name), DG_VT(key), DG_VT(op), DG_VT(fields),
				       DG_VT(clear), DG_VT(sealed), DG_VT(effective), DG_VT(actor),
				       DG_VI(dg_now_ms())),
			       &rows);
	if (!rc)
		rc = dg_rows_next(rows);
	if (!rc)
		*version = dg_rows_int(rows, 0);
	dg_rows_free(rows);
	return rc;
}

static dg_rc put_values(const struct dg_env *env, struct dg_db *db, struct dg_arena *a,
			const struct dg_entity *e, const char *id, json_t *values, const char *eff,
			bool create, const char *actor, int64_t *version, struct dg_err *err);

/* The checks of a write that need no store; *norm gets the values as stored (owned). */
static dg_rc check_put(const struct dg_entity *e, const char *id, json_t *values,
		       const char *effective, char eff[11], json_t **norm, struct dg_err *err)
{
	if (!x_id_ok(e, id))
		return dg_err_field(err, DG_EINVAL, "id",
				    x_id_personal(e)
					    ? "id must be a valid 18-character ID number"
					    : "id is 1 to 64 letters, digits, '-', '_' or '.'");
	if (!json_is_object(values) || json_object_size(values) == 0)
		return dg_err_field(err, DG_EINVAL, "values", "values must be an object of fields");
	dg_rc rc = effective_of(effective, eff, err);
	if (rc)
		return rc;
	*norm = normalise(e, values, err);
	if (!*norm)
		return err->rc ? err->rc : DG_EINVAL;
	return DG_OK;
}

dg_rc x_record_check(const struct dg_entity *e, const char *id, json_t *values,
		     const char *effective, struct dg_err *err)
{
	char eff[11];
	json_t *norm = NULL;
	dg_rc rc = check_put(e, id, values, effective, eff, &norm, err);
	json_decref(norm);
	return rc;
}

dg_rc x_record_put(const struct dg_env *env, struct dg_db *db, struct dg_arena *a,
		   const struct dg_entity *e, const char *id, json_t *values, const char *effective,
		   bool create, const char *actor, int64_t *version, struct dg_err *err)
{
	char eff[11];
	json_t *norm = NULL;
	dg_rc rc = check_put(e, id, values, effective, eff, &norm, err);
	if (rc)
		return rc;
	rc = put_values(env, db, a, e, id, norm, eff, create, actor, version, err);
	json_decref(norm);
	return rc;
}

static dg_rc put_values(const struct dg_env *env, struct dg_db *db, struct dg_arena *a,
			const struct dg_entity *e, const char *id, json_t *values, const char *eff,
			bool create, const char *actor, int64_t *version, struct dg_err *err)
{
	dg_rc rc;
	const char *key = x_record_key(env, a, e, id);
	struct x_record old;
	rc = x_record_read(env, db, a, e, key, &old);
	if (rc && rc != DG_ENOTFOUND)
		return rc;
	bool exists = rc == DG_OK;
	if (create && exists) {
		json_decref(old.values);
		return dg_err_field(err, DG_ECONFLICT, "id", "%s already has a record %s", e->name,
				    id);
	}
	if (!create && (!exists || old.ended)) {
		if (exists)
			json_decref(old.values);
		return dg_err_set(err, DG_ENOTFOUND, "%s has no current record %s", e->name, id);
	}
	json_t *all = exists ? old.values : json_object();
	merge(e, all, values);
	char *clear = NULL, *sealed = NULL;
	split(env, a, e, all, id, &clear, &sealed);
	const char *subject = subject_of(env, a, e, key, all);
	json_decref(all);
	rc = log_change(db, e, key, create ? "create" : "update", names_of(a, values), clear,
			sealed, eff, actor, version);
	if (rc)
		return rc;
	if (create)
		rc = dg_db_exec(
			db,
			"INSERT INTO xr_records (registry, rkey, subject, data, sealed, version,"
			" effective, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			DG_ARGS(DG_VT(e->name), DG_VT(key), DG_VT(subject), DG_VT(clear),
				DG_VT(sealed), DG_VI(*version), DG_VT(eff), DG_VI(dg_now_ms())),
			NULL);
	else
		rc = dg_db_exec(
			db,
			"UPDATE xr_records SET subject = ?, data = ?, sealed = ?, version = ?,"
			" effective = ?, updated_ms = ? WHERE registry = ? AND rkey = ?",
			DG_ARGS(DG_VT(subject), DG_VT(clear), DG_VT(sealed), DG_VI(*version),
				DG_VT(eff), DG_VI(dg_now_ms()), DG_VT(e->name), DG_VT(key)),
			NULL);
	return rc;
}

dg_rc x_record_end(const struct dg_env *env, struct dg_db *db, struct dg_arena *a,
		   const struct dg_entity *e, const char *id, const char *effective,
		   const char *actor, int64_t *version, struct dg_err *err)
{
	char eff[11];
	if (!x_id_ok(e, id))
		return dg_err_field(err, DG_EINVAL, "id", "that is not a valid ID for %s", e->name);
	dg_rc rc = effective_of(effective, eff, err);
	if (rc)
		return rc;
	const char *key = x_record_key(env, a, e, id);
	struct dg_rows *rows = NULL;
	rc = dg_db_query(db,
			 "SELECT data, sealed FROM xr_records WHERE registry = ? AND rkey = ?"
			 " AND ended IS NULL",
			 DG_ARGS(DG_VT(e->name), DG_VT(key)), &rows);
	if (!rc)
		rc = dg_rows_next(rows);
	char *clear = NULL, *sealed = NULL;
	if (!rc) {
		clear = dg_arena_strdup(a, dg_rows_text(rows, 0));
		sealed = dg_rows_isnull(rows, 1) ? NULL : dg_arena_strdup(a, dg_rows_text(rows, 1));
	}
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, rc, "%s has no current record %s", e->name, id);
	if (!rc)
		rc = log_change(db, e, key, "end", "", clear, sealed, eff, actor, version);
	if (!rc)
		rc = dg_db_exec(db,
				"UPDATE xr_records SET ended = ?, version = ?, updated_ms = ?"
				" WHERE registry = ? AND rkey = ?",
				DG_ARGS(DG_VT(eff), DG_VI(*version), DG_VI(dg_now_ms()),
					DG_VT(e->name), DG_VT(key)),
				NULL);
	return rc;
}

dg_rc x_changes(struct dg_db *db, const struct dg_entity *e, int64_t since, int64_t limit,
		json_t **out)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db,
			       "SELECT version, rkey, op, fields, effective, at_ms FROM xr_changes"
			       " WHERE registry = ? AND version > ? ORDER BY version LIMIT ?",
			       DG_ARGS(DG_VT(e->name), DG_VI(since), DG_VI(limit)), &rows);
	if (rc)
		return rc;
	json_t *arr = json_array();
	while ((rc = dg_rows_next(rows)) == DG_OK) {
		json_t *fields = json_array();
		struct dg_str rest = dg_str_of(dg_rows_text(rows, 3)), head;
		while (rest.n) {
			rest = dg_str_cut(rest, ',', &head);
			if (head.n)
				json_array_append_new(fields, json_stringn(head.p, head.n));
		}
		json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:o,s:s,s:I}", "version",
						     (json_int_t)dg_rows_int(rows, 0), "record",
						     dg_rows_text(rows, 1), "op",
						     dg_rows_text(rows, 2), "fields", fields,
						     "effective", dg_rows_text(rows, 4), "at_ms",
						     (json_int_t)dg_rows_int(rows, 5)));
	}
	dg_rows_free(rows);
	if (rc != DG_ENOTFOUND) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return DG_OK;
}

/* The first UTF-8 character of s and then '*' for each of the rest, at most three. */
static char *mask_text(struct dg_arena *a, const char *s)
{
	size_t n = strlen(s), first = 1;
	if (n == 0)
		return dg_arena_strdup(a, "");
	while (first < n && ((unsigned char)s[first] & 0xC0) == 0x80)
		first++;
	size_t rest = dg_utf8_len(s + first, n - first);
	if (rest > 3)
		rest = 3;
	if (rest == 0)
		return dg_arena_strdup(a, "*");
	return dg_arena_printf(a, "%.*s%.*s", (int)first, s, (int)rest, "***");
}

json_t *x_mask(struct dg_arena *a, const char *field, json_t *v)
{
	if (json_is_null(v))
		return json_null();
	const char *s = json_string_value(v);
	if (!s)
		return json_string("***");
	if (dg_id_number_valid(s))
		return json_string(dg_mask_id(a, s));
	if (dg_phone_valid(s) || strcmp(field, "phone") == 0)
		return json_string(dg_mask_phone(a, s));
	if (strlen(s) == 10 && s[4] == '-' && s[7] == '-')
		return json_string(dg_arena_printf(a, "%.4s-**-**", s));
	return json_string(mask_text(a, s));
}
