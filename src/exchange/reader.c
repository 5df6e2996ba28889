/*
 * reader.c - the exchange's reader for the rule engine: a policy run reads
 * the shared registries, not CSV files, under the reading department's bulk
 * grants for the policy's purpose.
 *
 * The rule schema says where each of its fields is kept (rule/data.h:
 * an entity's registry, a field's from_reg and from_field). Opening the
 * reader checks, before anything is read, that every registry and field
 * named exists and is granted in bulk for the purpose, personal and
 * sensitive ones (and personal IDs) in clear, since the engine needs the
 * values themselves; a missing grant refuses the whole read and is audited
 * as a refusal. A granted read is audited once per registry; each record
 * read counts as one use for its subject, one line per run (uses.c).
 *
 * Records are read a page at a time in key order: a page of the entity's
 * own registry, then for each registry joined to it the records whose keys
 * fall in the same range (keys are the same blind index of the same ID
 * number in every registry about persons), so memory is bounded by a page
 * and not by the registry.
 */
#include "exchange/exchange.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "exchange/internal.h"

#define PAGE    500 /* records of a registry read at once */
#define KEYED   250 /* records read at once by key: a key is a parameter, a store takes 256 */
#define MAX_REG X_READS_MAX

struct dg_exchange_reader {
	const struct dg_env *env;
	struct dg_db *db;
	const struct dg_schema *s;
	const char *dept, *purpose, *run, *actor;
	struct dg_arena *arena; /* lives as long as the reader */
	struct dg_arena *rec;   /* one page's strings: freed with the page */
	struct dg_rule_reader rd;
	struct x_reads rs;
	/* the entity being read */
	int ent;
	const struct dg_entity *base; /* its registry */
	int join[DG_MAX_FIELDS];      /* per field: its registry's index in rs, -1 none */
	json_t *page;                 /* [{key, subject, values}] of the base registry */
	json_t *joined[MAX_REG];      /* per registry: key -> values, for the page's keys */
	size_t at;                    /* next record in page */
	char after[256];              /* the last key read (keys are at most 64 bytes) */
	bool done;
	/* keyed reads (dg_exchange_reader_only): per rule entity the IDs to read,
	   NULL for all; for the entity being read, its keys in order and the next */
	json_t *only[DG_MAX_ENT];
	const char **keys;
	size_t nkeys, kat;
	bool keyed;
	struct dg_rule_cell *cells;
	char (*num)[24]; /* the text of numbers and booleans, one per cell */
	size_t ncap;
	/* benefits */
	bool bopen, bdone;
	const char *bwith; /* the registry of the entity the benefits are about */
	const char *bid;
	void *bfield, *bmonth; /* iterators over the current record's fields and months */
	json_t *bvalues;
};

static int reads_index(const struct x_reads *rs, const struct dg_entity *e)
{
	for (int i = 0; i < rs->n; i++)
		if (rs->reg[i].e == e)
			return i;
	return -1;
}

static int reg_index(struct dg_exchange_reader *r, const struct dg_entity *e)
{
	return reads_index(&r->rs, e);
}

/* Note that field of registry reg is read. */
static dg_rc need(struct x_reads *rs, const char *reg, const char *field, struct dg_err *err)
{
	const struct dg_entity *e = x_registry(reg);
	if (!e)
		return dg_err_set(err, DG_EINVAL, "the registries have no registry %s", reg);
	if (field && x_field(e, field) < 0)
		return dg_err_set(err, DG_EINVAL, "registry %s has no field %s", reg, field);
	int i = reads_index(rs, e);
	if (i < 0) {
		if (rs->n == X_READS_MAX)
			return dg_err_set(err, DG_ETOOBIG,
					  "a schema may read at most %d registries", X_READS_MAX);
		i = rs->n++;
		rs->reg[i].e = e;
	}
	if (field && !x_list_has(rs->reg[i].fields, field)) {
		size_t n = strlen(rs->reg[i].fields);
		if (n + strlen(field) + 2 > sizeof(rs->reg[i].fields))
			return dg_err_set(err, DG_ETOOBIG, "too many fields of %s", reg);
		snprintf(rs->reg[i].fields + n, sizeof(rs->reg[i].fields) - n, "%s%s", n ? "," : "",
			 field);
	}
	return DG_OK;
}

dg_rc x_schema_reads(const struct dg_schema *s, struct x_reads *rs, struct dg_err *err)
{
	memset(rs, 0, sizeof(*rs));
	for (int i = 0; i < s->ne; i++) {
		const struct dg_entity *e = &s->e[i];
		if (e->registry && need(rs, e->registry, NULL, err))
			return err->rc;
		for (int j = 0; j < e->nf; j++) {
			const struct dg_field *f = &e->f[j];
			if (!f->from_reg)
				continue;
			dg_rc rc = need(rs, f->from_reg, f->from_field, err);
			if (rc)
				return rc;
			const struct dg_entity *re = x_registry(f->from_reg);
			const struct dg_field *rf = &re->f[x_field(re, f->from_field)];
			if (rf->monthly != f->monthly)
				return dg_err_set(
					err, DG_EINVAL, "%s.%s is %smonthly but %s.%s is %smonthly",
					e->name, f->name, f->monthly ? "" : "not ", f->from_reg,
					f->from_field, rf->monthly ? "" : "not ");
		}
	}
	if (s->benefits_registry) {
		const struct dg_entity *b = x_registry(s->benefits_registry);
		if (!b)
			return dg_err_set(err, DG_EINVAL, "the registries have no registry %s",
					  s->benefits_registry);
		for (int j = 0; j < b->nf; j++)
			if (need(rs, b->name, b->f[j].name, err))
				return err->rc;
	}
	return DG_OK;
}

static void audit(struct dg_exchange_reader *r, const char *kind, const struct x_read *g,
		  const char *why, int64_t *seq)
{
	json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:s}", "outcome", why ? why : "ok", "registry",
			      g->e->name, "fields", g->fields, "run", r->run, "mode", "bulk");
	struct dg_audit_rec rec = {
		.kind = kind, .actor = r->actor, .subject = "", .purpose = r->purpose, .detail = d};
	if (dg_audit_append(r->db, &rec, seq))
		dg_warn("exchange reader: the %s of %s for %s could not be audited", kind,
			g->e->name, r->purpose);
	json_decref(d);
}

/* Whether dept's bulk grants for the purpose cover every field of g. */
static dg_rc check_grant(struct dg_exchange_reader *r, const struct x_read *g, struct dg_err *err)
{
	struct x_grant gr;
	const char *why = NULL;
	dg_rc rc = x_grant_find(r->db, r->dept, g->e->name, r->purpose, "bulk", &gr, &why);
	if (rc == DG_EDENIED) {
		audit(r, "exchange.refused", g, why, NULL);
		return dg_err_set(err, DG_EDENIED,
				  "%s has no bulk grant of registry %s for purpose %s (%s)",
				  r->dept, g->e->name, r->purpose, why);
	}
	if (rc)
		return dg_err_set(err, rc, "the grants of %s could not be read", r->dept);
	struct dg_str rest = dg_str_of(g->fields), head;
	while (rest.n) {
		rest = dg_str_cut(rest, ',', &head);
		char name[256];
		snprintf(name, sizeof name, "%.*s", (int)head.n, head.p);
		const struct dg_field *f = &g->e->f[x_field(g->e, name)];
		const char *miss = NULL;
		if (!x_list_has(gr.granted, name))
			miss = "not granted";
		else if (f->cls >= DG_CLASS_PERSONAL && !gr.clear)
			miss = "granted only masked, and a policy run needs it in clear";
		if (miss) {
			audit(r, "exchange.refused", g, "no_grant", NULL);
			return dg_err_set(err, DG_EDENIED,
					  "%s.%s is %s to %s for purpose %s: ask %s for it",
					  g->e->name, name, miss, r->dept, r->purpose, g->e->owner);
		}
	}
	if (x_id_personal(g->e) && !gr.clear) {
		audit(r, "exchange.refused", g, "no_grant", NULL);
		return dg_err_set(
			err, DG_EDENIED,
			"the IDs of %s are granted only masked to %s for purpose %s, and a "
			"policy run needs them in clear",
			g->e->name, r->dept, r->purpose);
	}
	return DG_OK;
}

/* Join a record's clear values and its opened sealed ones (owned); NULL when they do not open. */
static json_t *values_of(struct dg_exchange_reader *r, const char *clear, const char *sealed)
{
	json_t *all = json_loads(clear, 0, NULL);
	if (all && sealed && *sealed) {
		char *plain = NULL;
		json_t *p = dg_pii_open(&r->env->keys, r->rec, sealed, &plain)
				    ? NULL
				    : json_loads(plain, 0, NULL);
		if (plain)
			sodium_memzero(plain, strlen(plain));
		if (!p) {
			json_decref(all);
			return NULL;
		}
		json_object_update(all, p);
		json_decref(p);
	}
	return all;
}

/* The rows of a query for records (rkey, subject, data, sealed) as [{key, subject, values}]. */
static dg_rc fetch(struct dg_exchange_reader *r, const struct dg_entity *e, const char *sql,
		   const struct dg_val *args, size_t n, json_t **out, struct dg_err *err)
{
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(r->db, sql, args, n, &rows);
	json_t *arr = json_array();
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		json_t *v = values_of(r, dg_rows_text(rows, 2), dg_rows_text(rows, 3));
		if (!v) {
			rc = dg_err_set(err, DG_EINTERNAL, "a record of %s could not be opened",
					e->name);
			break;
		}
		json_array_append_new(arr,
				      json_pack("{s:s,s:s,s:o}", "key", dg_rows_text(rows, 0),
						"subject", dg_rows_text(rows, 1), "values", v));
	}
	dg_rows_free(rows);
	if (rc != DG_ENOTFOUND) {
		json_decref(arr);
		return err->rc ? rc
			       : dg_err_set(err, rc, "the registry %s could not be read", e->name);
	}
	*out = arr;
	return DG_OK;
}

/* " AND EXISTS ...": a current record in registry with too ("" when with is NULL). */
static const char *with_clause(const char *with)
{
	return with ? " AND EXISTS (SELECT 1 FROM xr_records w WHERE w.registry = ? AND"
		      " w.rkey = x.rkey AND w.ended IS NULL)"
		    : "";
}

/*
 * Current records of registry e with keys in (lo, hi] ("" hi: no bound), at
 * most limit, in key order; with a current record in registry with too
 * (NULL: any).
 */
static dg_rc read_range(struct dg_exchange_reader *r, const struct dg_entity *e, const char *lo,
			const char *hi, int64_t limit, const char *with, json_t **out,
			struct dg_err *err)
{
	/* the bounds are written into the statement, not tested as (? = '' OR ...):
	   the store then walks the key index from lo to hi and stops there, where
	   an optional bound would have it read every record to the registry's end
	   for each page */
	char sql[512];
	struct dg_val args[6];
	size_t n = 0;
	args[n++] = DG_VT(e->name);
	args[n++] = DG_VT(lo);
	snprintf(sql, sizeof sql,
		 "SELECT rkey, subject, data, sealed FROM xr_records x WHERE registry = ? AND"
		 " rkey > ?%s AND ended IS NULL%s ORDER BY rkey LIMIT ?",
		 *hi ? " AND rkey <= ?" : "", with_clause(with));
	if (*hi)
		args[n++] = DG_VT(hi);
	if (with)
		args[n++] = DG_VT(with);
	args[n++] = DG_VI(limit);
	return fetch(r, e, sql, args, n, out, err);
}

/*
 * Current records of registry e stored under keys[0..n) (n at most KEYED),
 * in key order; with a current record in registry with too (NULL: any).
 */
static dg_rc read_keys(struct dg_exchange_reader *r, const struct dg_entity *e, const char **keys,
		       size_t n, const char *with, json_t **out, struct dg_err *err)
{
	if (n == 0) { /* "IN ()" is not SQL to every store */
		*out = json_array();
		return DG_OK;
	}
	struct dg_buf sql;
	struct dg_val *args = dg_xcalloc(n + 2, sizeof *args);
	size_t m = 0;
	dg_buf_init(&sql, 64 * 1024);
	args[m++] = DG_VT(e->name);
	dg_rc rc = dg_buf_adds(&sql, "SELECT rkey, subject, data, sealed FROM xr_records x WHERE"
				     " registry = ? AND rkey IN (");
	for (size_t i = 0; !rc && i < n; i++) {
		rc = dg_buf_adds(&sql, i ? ",?" : "?");
		args[m++] = DG_VT(keys[i]);
	}
	if (!rc)
		rc = dg_buf_addf(&sql, ") AND ended IS NULL%s ORDER BY rkey", with_clause(with));
	if (with)
		args[m++] = DG_VT(with);
	if (!rc)
		rc = fetch(r, e, dg_buf_str(&sql), args, m, out, err);
	else
		rc = dg_err_set(err, rc, "a keyed read of %s is too long", e->name);
	dg_buf_release(&sql);
	free(args);
	return rc;
}

/*
 * One use per subject and run (uses.c keeps one line for each), for the
 * records of a page ([[registry index, subject]...]): the page's subjects
 * made distinct first (a person's records in a dozen registries are one
 * line, named by the first registry read), then a few statements per
 * registry, in one transaction when the caller has none open.
 */
static dg_rc record_uses(struct dg_exchange_reader *r, json_t *uses, struct dg_err *err)
{
	json_t *first = json_object(); /* subject -> the registry that read it first */
	size_t k;
	json_t *u;
	json_array_foreach (uses, k, u) {
		const char *subject = json_string_value(json_array_get(u, 1));
		if (subject && *subject && !json_object_get(first, subject))
			json_object_set(first, subject, json_array_get(u, 0));
	}
	const char **subjects = dg_xcalloc(json_object_size(first) + 1, sizeof *subjects);
	bool own = !dg_db_in_tx(r->db);
	dg_rc rc = own ? dg_db_begin(r->db) : DG_OK;
	for (int i = 0; !rc && i < r->rs.n; i++) {
		size_t n = 0;
		const char *subject;
		json_t *reg;
		json_object_foreach (first, subject, reg)
			if (json_integer_value(reg) == i)
				subjects[n++] = subject;
		const struct x_read *g = &r->rs.reg[i];
		struct x_use use = {.kind = "bulk",
				    .dept = r->dept,
				    .system = "rule",
				    .official = "",
				    .purpose = r->purpose,
				    .registry = g->e->name,
				    .fields = g->fields,
				    .run = r->run,
				    .audit_seq = g->audit_seq};
		if (n)
			rc = x_uses_add_many(r->db, &use, subjects, n);
	}
	if (own && rc)
		dg_db_rollback(r->db);
	else if (own)
		rc = dg_db_commit(r->db);
	free(subjects);
	json_decref(first);
	return rc ? dg_err_set(err, rc, "the uses of the records read could not be recorded")
		  : DG_OK;
}

/*
 * The next page of the base registry (only records that also are in
 * registry with, when not NULL) and the joined records in its key range.
 */
static dg_rc next_page(struct dg_exchange_reader *r, const char *with, struct dg_err *err)
{
	json_decref(r->page);
	r->page = NULL;
	for (int i = 0; i < r->rs.n; i++) {
		json_decref(r->joined[i]);
		r->joined[i] = NULL;
	}
	dg_arena_free(r->rec);
	r->rec = dg_arena_new();
	r->at = 0;
	size_t nk = r->nkeys - r->kat < KEYED ? r->nkeys - r->kat : KEYED;
	dg_rc rc = r->keyed ? read_keys(r, r->base, r->keys + r->kat, nk, with, &r->page, err)
			    : read_range(r, r->base, r->after, "", PAGE, with, &r->page, err);
	if (rc)
		return rc;
	r->kat += r->keyed ? nk : 0;
	size_t n = json_array_size(r->page);
	if (n == 0 && (!r->keyed || r->kat == r->nkeys)) {
		r->done = true;
		return DG_OK;
	}
	if (n == 0)
		return DG_OK;
	/* a keyed page's joined records: those of the records found */
	const char **found = dg_arena_alloc(r->rec, n * sizeof *found);
	for (size_t i = 0; i < n; i++)
		found[i] = dg_arena_strdup(r->rec, json_string_value(json_object_get(
							   json_array_get(r->page, i), "key")));
	const char *lo = dg_arena_strdup(r->rec, r->after);
	const char *hi = dg_arena_strdup(
		r->rec, json_string_value(json_object_get(json_array_get(r->page, n - 1), "key")));
	int bi = reg_index(r, r->base);
	json_t *uses = json_array(), *row;
	size_t k;
	json_array_foreach (r->page, k, row)
		json_array_append_new(uses, json_pack("[iO]", bi, json_object_get(row, "subject")));
	for (int i = 0; i < r->rs.n; i++) {
		bool used = false;
		for (int j = 0; j < r->s->e[r->ent].nf; j++)
			used = used || r->join[j] == i;
		if (!used || i == bi)
			continue;
		json_t *arr = NULL;
		rc = r->keyed ? read_keys(r, r->rs.reg[i].e, found, n, NULL, &arr, err)
			      : read_range(r, r->rs.reg[i].e, lo, hi, INT64_MAX, NULL, &arr, err);
		if (rc)
			break;
		r->joined[i] = json_object();
		json_t *v;
		json_array_foreach (arr, k, v) {
			json_object_set(r->joined[i], json_string_value(json_object_get(v, "key")),
					json_object_get(v, "values"));
			json_array_append_new(uses,
					      json_pack("[iO]", i, json_object_get(v, "subject")));
		}
		json_decref(arr);
	}
	if (!rc)
		rc = record_uses(r, uses, err);
	json_decref(uses);
	if (!rc)
		snprintf(r->after, sizeof r->after, "%s", hi);
	return rc;
}

static int key_cmp(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Whether the read of entity ent's records (of r->base) is keyed: its keys in order. */
static void start_keys(struct dg_exchange_reader *r, int ent)
{
	free(r->keys);
	r->keys = NULL;
	r->nkeys = r->kat = 0;
	r->keyed = r->only[ent] != NULL;
	if (!r->keyed)
		return;
	r->keys = dg_xcalloc(json_object_size(r->only[ent]) + 1, sizeof *r->keys);
	const char *id;
	json_t *v;
	json_object_foreach (r->only[ent], id, v)
		if (x_id_ok(r->base, id))
			r->keys[r->nkeys++] = x_record_key(r->env, r->arena, r->base, id);
	qsort(r->keys, r->nkeys, sizeof *r->keys, key_cmp);
}

static dg_rc rd_open(void *ctx, int ent, int64_t *rows, struct dg_err *err)
{
	struct dg_exchange_reader *r = ctx;
	const struct dg_entity *e = &r->s->e[ent];
	(void)err;
	*rows = -1;
	r->ent = ent;
	r->done = true;
	if (!e->registry)
		return DG_ENOTFOUND;
	r->base = x_registry(e->registry);
	json_decref(r->page);
	r->page = NULL;
	for (int j = 0; j < e->nf; j++)
		r->join[j] = e->f[j].from_reg ? reg_index(r, x_registry(e->f[j].from_reg)) : -1;
	r->after[0] = '\0';
	r->done = false;
	start_keys(r, ent);
	return DG_OK;
}

/* Value v of field f as text in a cell (numbers and booleans into slot). */
static void cell_of(struct dg_rule_cell *c, json_t *v, char slot[24])
{
	c->s = "";
	c->n = 0;
	if (json_is_string(v)) {
		c->s = json_string_value(v);
		c->n = json_string_length(v);
	} else if (json_is_integer(v)) {
		c->n = (size_t)snprintf(slot, 24, "%lld", (long long)json_integer_value(v));
		c->s = slot;
	} else if (json_is_boolean(v)) {
		c->s = json_is_true(v) ? "true" : "false";
		c->n = strlen(c->s);
	}
}

static void grow_cells(struct dg_exchange_reader *r, size_t n)
{
	if (n <= r->ncap)
		return;
	size_t cap = r->ncap ? r->ncap * 2 : 256;
	while (cap < n)
		cap *= 2;
	r->cells = dg_xrealloc(r->cells, cap * sizeof(*r->cells));
	r->num = dg_xrealloc(r->num, cap * sizeof(*r->num));
	r->ncap = cap;
}

static dg_rc rd_next(void *ctx, struct dg_rule_record *rec, struct dg_err *err)
{
	struct dg_exchange_reader *r = ctx;
	/* a keyed page may find none of its keys (records ended): the next one then */
	while (!r->done && (!r->page || r->at == json_array_size(r->page))) {
		dg_rc rc = next_page(r, NULL, err);
		if (rc)
			return rc;
	}
	if (r->done)
		return DG_ENOTFOUND;
	json_t *row = json_array_get(r->page, r->at++);
	const char *key = json_string_value(json_object_get(row, "key"));
	json_t *own = json_object_get(row, "values");
	const struct dg_entity *e = &r->s->e[r->ent];
	int bi = reg_index(r, r->base);
	size_t n = 0;
	for (int j = 0; j < e->nf; j++) {
		const struct dg_field *f = &e->f[j];
		if (r->join[j] < 0)
			continue;
		json_t *src = r->join[j] == bi ? own : json_object_get(r->joined[r->join[j]], key);
		json_t *v = json_object_get(src, f->from_field);
		if (!f->monthly) {
			grow_cells(r, n + 1);
			r->cells[n].field = j;
			r->cells[n].month = 0;
			cell_of(&r->cells[n], v, r->num[n]);
			n++;
			continue;
		}
		const char *m;
		json_t *mv;
		json_object_foreach (v, m, mv) {
			int32_t month;
			if (dg_data_parse_month(m, strlen(m), &month))
				continue; /* written through normalise: never happens */
			grow_cells(r, n + 1);
			r->cells[n].field = j;
			r->cells[n].month = month;
			cell_of(&r->cells[n], mv, r->num[n]);
			n++;
		}
	}
	json_t *id = json_object_get(own, "_id");
	rec->id = id ? json_string_value(id) : key;
	rec->idn = strlen(rec->id);
	rec->cells = r->cells;
	rec->ncells = n;
	return DG_OK;
}

/* it, or the next field of the benefits record after it: a benefit with months. */
static void *benefit_field(struct dg_exchange_reader *r, void *it)
{
	while (it && (x_field(r->base, json_object_iter_key(it)) < 0 ||
		      !json_is_object(json_object_iter_value(it))))
		it = json_object_iter_next(r->bvalues, it);
	return it;
}

/* The next benefit: each field of each record of the benefits registry, month by month. */
static dg_rc rd_next_benefit(void *ctx, struct dg_rule_benefit_row *b, struct dg_err *err)
{
	struct dg_exchange_reader *r = ctx;
	if (!r->s->benefits_registry || r->bdone)
		return DG_ENOTFOUND;
	if (!r->bopen) {
		/* only records about someone the entity's registry has: the loader refuses a
		   benefit of an unknown ID */
		const struct dg_entity *owner = &r->s->e[r->s->benefits_entity];
		r->bopen = true;
		r->bwith = owner->registry;
		r->base = x_registry(r->s->benefits_registry);
		r->ent = r->s->benefits_entity;
		json_decref(r->page);
		r->page = NULL;
		r->after[0] = '\0';
		r->done = false;
		for (int j = 0; j < DG_MAX_FIELDS; j++)
			r->join[j] = -1;
		start_keys(r, r->ent);
	}
	for (;;) {
		if (r->bmonth) {
			json_t *v = json_object_iter_value(r->bmonth);
			const char *m = json_object_iter_key(r->bmonth);
			r->bmonth =
				json_object_iter_next(json_object_iter_value(r->bfield), r->bmonth);
			if (!json_is_string(v) || dg_data_parse_month(m, strlen(m), &b->month))
				continue;
			b->ent = r->s->benefits_entity;
			b->id = r->bid;
			b->idn = strlen(r->bid);
			b->benefit = json_object_iter_key(r->bfield);
			b->status = json_string_value(v);
			return DG_OK;
		}
		if (r->bfield) {
			r->bfield = benefit_field(r, json_object_iter_next(r->bvalues, r->bfield));
			r->bmonth = r->bfield ? json_object_iter(json_object_iter_value(r->bfield))
					      : NULL;
			continue;
		}
		while (!r->done && (!r->page || r->at == json_array_size(r->page))) {
			dg_rc rc = next_page(r, r->bwith, err);
			if (rc)
				return rc;
		}
		if (r->done) {
			r->bdone = true;
			return DG_ENOTFOUND;
		}
		json_t *row = json_array_get(r->page, r->at++);
		r->bvalues = json_object_get(row, "values");
		json_t *id = json_object_get(r->bvalues, "_id");
		r->bid =
			id ? json_string_value(id) : json_string_value(json_object_get(row, "key"));
		r->bfield = benefit_field(r, json_object_iter(r->bvalues));
		r->bmonth = r->bfield ? json_object_iter(json_object_iter_value(r->bfield)) : NULL;
	}
}

static const char *rd_where(void *ctx, char *buf, size_t n)
{
	struct dg_exchange_reader *r = ctx;
	snprintf(buf, n, "registry %s", r->base ? r->base->name : "?");
	return buf;
}

dg_rc dg_exchange_reader_open(const struct dg_env *env, struct dg_db *db, const struct dg_schema *s,
			      const char *dept, const char *purpose, const char *run,
			      struct dg_exchange_reader **out, struct dg_err *err)
{
	*out = NULL;
	if (!x_schema())
		return dg_err_set(err, DG_EUNAVAIL, "the registries' schema is not loaded");
	if (!dept || !x_token_ok(dept, 16))
		return dg_err_set(err, DG_EINVAL, "the department is a code of letters and digits");
	if (!purpose || !x_token_ok(purpose, X_PURPOSE_MAX))
		return dg_err_set(err, DG_EINVAL, "the purpose is a policy id");
	if (!run || !x_token_ok(run, 64))
		return dg_err_set(err, DG_EINVAL,
				  "the run is named by at most 64 letters and digits");
	struct dg_exchange_reader *r = dg_xcalloc(1, sizeof(*r));
	r->env = env;
	r->db = db;
	r->s = s;
	r->arena = dg_arena_new();
	r->rec = dg_arena_new();
	r->dept = dg_arena_strdup(r->arena, dept);
	r->purpose = dg_arena_strdup(r->arena, purpose);
	r->run = dg_arena_strdup(r->arena, run);
	r->actor = dg_arena_printf(r->arena, "dept:%s/system:rule", dept);
	r->rd = (struct dg_rule_reader){.ctx = r,
					.open = rd_open,
					.next = rd_next,
					.next_benefit = rd_next_benefit,
					.where = rd_where};
	dg_rc rc = x_schema_reads(s, &r->rs, err);
	for (int i = 0; !rc && i < r->rs.n; i++)
		rc = check_grant(r, &r->rs.reg[i], err);
	for (int i = 0; !rc && i < r->rs.n; i++)
		audit(r, "exchange.bulk", &r->rs.reg[i], NULL, &r->rs.reg[i].audit_seq);
	if (rc) {
		dg_exchange_reader_close(r);
		return rc;
	}
	*out = r;
	return DG_OK;
}

void dg_exchange_reader_only(struct dg_exchange_reader *r, int ent, json_t *ids)
{
	if (ent < 0 || ent >= r->s->ne)
		return;
	json_decref(r->only[ent]);
	r->only[ent] = json_incref(ids);
}

/* Where field f of entity ent is kept: its registry and its name there. */
static const struct dg_entity *kept(struct dg_exchange_reader *r, int ent, int f, const char **name)
{
	const struct dg_entity *e = &r->s->e[ent];
	const struct dg_field *fd = &e->f[f];
	*name = fd->from_field ? fd->from_field : fd->name;
	return x_registry(fd->from_reg ? fd->from_reg : e->registry);
}

/* A record's ID in clear: its sealed _id when its ID is personal, else its key. */
static const char *id_of(json_t *row)
{
	json_t *id = json_object_get(json_object_get(row, "values"), "_id");
	return json_is_string(id) ? json_string_value(id)
				  : json_string_value(json_object_get(row, "key"));
}

dg_rc dg_exchange_reader_links(struct dg_exchange_reader *r, int ent, int f, json_t *ids,
			       json_t *out, struct dg_err *err)
{
	const char *name;
	const struct dg_entity *reg = kept(r, ent, f, &name);
	if (!reg || !r->s->e[ent].registry)
		return DG_OK;
	size_t n = 0, cap = json_object_size(ids);
	const char **keys = dg_xcalloc(cap + 1, sizeof *keys);
	struct dg_arena *a = dg_arena_new();
	const char *id;
	json_t *v;
	json_object_foreach (ids, id, v)
		if (x_id_ok(reg, id))
			keys[n++] = x_record_key(r->env, a, reg, id);
	dg_rc rc = DG_OK;
	for (size_t at = 0; !rc && at < n; at += KEYED) {
		json_t *arr = NULL;
		dg_arena_free(r->rec);
		r->rec = dg_arena_new();
		rc = read_keys(r, reg, keys + at, n - at < KEYED ? n - at : KEYED, NULL, &arr, err);
		size_t k;
		json_t *row;
		json_array_foreach (arr, k, row) {
			const char *to = json_string_value(
				json_object_get(json_object_get(row, "values"), name));
			if (to && *to)
				json_object_set_new(out, to, json_true());
		}
		json_decref(arr);
	}
	dg_arena_free(a);
	free(keys);
	return rc;
}

dg_rc dg_exchange_reader_linking(struct dg_exchange_reader *r, int ent, int f, json_t *to,
				 json_t *out, struct dg_err *err)
{
	const char *name;
	const struct dg_entity *reg = kept(r, ent, f, &name);
	if (!reg || !r->s->e[ent].registry || json_object_size(to) == 0)
		return DG_OK;
	int rf = x_field(reg, name);
	if (rf < 0 || reg->f[rf].cls >= DG_CLASS_PERSONAL)
		return dg_err_set(err, DG_EUNAVAIL, "%s.%s is kept sealed: it cannot be looked up",
				  reg->name, name);
	/* the store finds the records by the link's value in their clear fields */
	const char *field = dg_db_kind(r->db) == DG_STORE_PG ? "(data::json ->> CAST(? AS TEXT))"
							     : "json_extract(data, '$.' || ?)";
	const char **ids = dg_xcalloc(json_object_size(to) + 1, sizeof *ids);
	size_t n = 0;
	const char *id;
	json_t *v;
	json_object_foreach (to, id, v)
		ids[n++] = id;
	dg_rc rc = DG_OK;
	struct dg_val *args = dg_xcalloc(KEYED + 2, sizeof *args);
	struct dg_buf sql;
	dg_buf_init(&sql, 64 * 1024);
	for (size_t at = 0; !rc && at < n; at += KEYED) {
		size_t k = n - at < KEYED ? n - at : KEYED, m = 0;
		dg_buf_reset(&sql);
		args[m++] = DG_VT(reg->name);
		args[m++] = DG_VT(name);
		rc = dg_buf_addf(&sql,
				 "SELECT rkey, subject, data, sealed FROM xr_records x WHERE"
				 " registry = ? AND ended IS NULL AND %s IN (",
				 field);
		for (size_t i = 0; !rc && i < k; i++) {
			rc = dg_buf_adds(&sql, i ? ",?" : "?");
			args[m++] = DG_VT(ids[at + i]);
		}
		if (!rc)
			rc = dg_buf_adds(&sql, ") ORDER BY rkey");
		json_t *arr = NULL;
		dg_arena_free(r->rec);
		r->rec = dg_arena_new();
		if (!rc)
			rc = fetch(r, reg, dg_buf_str(&sql), args, m, &arr, err);
		size_t i;
		json_t *row;
		json_array_foreach (arr, i, row)
			json_object_set_new(out, id_of(row), json_true());
		json_decref(arr);
	}
	dg_buf_release(&sql);
	free(args);
	free(ids);
	return rc;
}

const struct dg_rule_reader *dg_exchange_reader_rule(struct dg_exchange_reader *r)
{
	return &r->rd;
}

void dg_exchange_reader_close(struct dg_exchange_reader *r)
{
	if (!r)
		return;
	json_decref(r->page);
	for (int i = 0; i < MAX_REG; i++)
		json_decref(r->joined[i]);
	for (int i = 0; i < DG_MAX_ENT; i++)
		json_decref(r->only[i]);
	free(r->keys);
	free(r->cells);
	free(r->num);
	dg_arena_free(r->rec);
	dg_arena_free(r->arena);
	free(r);
}

/*
 * The registries rs names as "?,?,..." into in (n bytes), their names into
 * args after args[0] (left to the caller).
 */
static void registry_args(const struct x_reads *rs, struct dg_val *args, char *in, size_t n)
{
	size_t used = 0;
	in[0] = '\0';
	for (int i = 0; i < rs->n; i++) {
		args[i + 1] = DG_VT(rs->reg[i].e->name);
		used += (size_t)snprintf(in + used, n - used, "%s?", i ? "," : "");
	}
}

/* The newest version of the registries rs names (since when none is newer). */
static dg_rc newest_of(struct dg_db *db, const struct x_reads *rs, int64_t since, int64_t *newest)
{
	struct dg_val args[MAX_REG + 1];
	char in[4 * MAX_REG], sql[256];
	args[0] = DG_VI(since);
	registry_args(rs, args, in, sizeof in);
	snprintf(sql, sizeof sql,
		 "SELECT COALESCE(MAX(version), 0) FROM xr_changes WHERE version >= ?"
		 " AND registry IN (%s)",
		 in);
	dg_rc rc = dg_db_query_int(db, sql, args, (size_t)rs->n + 1, newest);
	if (!rc && *newest < since)
		*newest = since;
	return rc;
}

dg_rc dg_exchange_changed_since(struct dg_db *db, const struct dg_schema *s, int64_t since,
				json_t **subjects, int64_t *newest, struct dg_err *err)
{
	struct dg_exchange_reader r = {.s = s};
	*subjects = NULL;
	*newest = since;
	if (!x_schema())
		return dg_err_set(err, DG_EUNAVAIL, "the registries' schema is not loaded");
	dg_rc rc = x_schema_reads(s, &r.rs, err);
	if (rc)
		return rc;
	if (r.rs.n == 0) {
		*subjects = json_array();
		return DG_OK;
	}
	/* registry IN (?, ?, ...): at most MAX_REG names */
	struct dg_val args[MAX_REG + 1];
	char in[4 * MAX_REG];
	args[0] = DG_VI(since);
	registry_args(&r.rs, args, in, sizeof in);
	char sql[512];
	snprintf(sql, sizeof sql,
		 "SELECT DISTINCT r.subject FROM xr_changes c JOIN xr_records r"
		 " ON r.registry = c.registry AND r.rkey = c.rkey"
		 " WHERE c.version > ? AND c.registry IN (%s) AND r.subject <> ''"
		 " ORDER BY r.subject",
		 in);
	struct dg_rows *rows = NULL;
	rc = dg_db_query(db, sql, args, (size_t)r.rs.n + 1, &rows);
	json_t *arr = json_array();
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK)
		json_array_append_new(arr, json_string(dg_rows_text(rows, 0)));
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND)
		rc = newest_of(db, &r.rs, since, newest);
	if (rc) {
		json_decref(arr);
		return dg_err_set(err, rc, "the registries' changes could not be read");
	}
	*subjects = arr;
	return DG_OK;
}

/* {registry, id, before} of one changed record of registry e (a row of changes_since's query). */
static json_t *change_of(struct dg_exchange_reader *r, const struct dg_entity *e,
			 struct dg_rows *rows)
{
	json_t *last = values_of(r, dg_rows_text(rows, 2),
				 dg_rows_isnull(rows, 3) ? NULL : dg_rows_text(rows, 3));
	json_t *before = NULL;
	if (!dg_rows_isnull(rows, 4) && strcmp(dg_rows_text(rows, 6), "end") != 0) {
		before = values_of(r, dg_rows_text(rows, 4),
				   dg_rows_isnull(rows, 5) ? NULL : dg_rows_text(rows, 5));
		if (!before) {
			json_decref(last);
			return NULL;
		}
	}
	if (!last) {
		json_decref(before);
		return NULL;
	}
	/* a personal ID is kept sealed under _id, the key being its blind index */
	json_t *id = json_object_get(last, "_id");
	json_t *c =
		json_pack("{s:s,s:s,s:o}", "registry", e->name, "id",
			  id && json_is_string(id) ? json_string_value(id) : dg_rows_text(rows, 1),
			  "before", before ? before : json_null());
	json_decref(last);
	return c;
}

dg_rc dg_exchange_changes_since(const struct dg_env *env, struct dg_db *db,
				const struct dg_schema *s, int64_t since, json_t **changes,
				int64_t *newest, struct dg_err *err)
{
	struct dg_exchange_reader r = {.env = env, .db = db, .s = s};
	if (changes)
		*changes = NULL;
	*newest = since;
	if (!x_schema())
		return dg_err_set(err, DG_EUNAVAIL, "the registries' schema is not loaded");
	dg_rc rc = x_schema_reads(s, &r.rs, err);
	if (rc || r.rs.n == 0) {
		if (!rc && changes)
			*changes = json_array();
		return rc;
	}
	/* the newest version first: a change made while the records are read is
	   then found again by the next reader, never missed */
	rc = newest_of(db, &r.rs, since, newest);
	json_t *arr = json_array();
	r.rec = dg_arena_new();
	for (int i = 0; !rc && changes && i < r.rs.n; i++) {
		const struct dg_entity *e = r.rs.reg[i].e;
		struct dg_rows *rows = NULL;
		/* each record changed after since: its last change (for its ID) and the
		   last one up to since (its values then; none when created after) */
		rc = dg_db_query(
			db,
			"SELECT c.registry, c.rkey, l.data, l.sealed, b.data, b.sealed,"
			" COALESCE(b.op, '') FROM (SELECT registry, rkey, MAX(version) AS last"
			" FROM xr_changes WHERE registry = ? AND version > ? AND version <= ?"
			" GROUP BY registry, rkey) c JOIN xr_changes l ON l.version = c.last"
			" LEFT JOIN xr_changes b ON b.version = (SELECT MAX(q.version) FROM"
			" xr_changes q WHERE q.registry = c.registry AND q.rkey = c.rkey AND"
			" q.version <= ?) ORDER BY c.rkey",
			DG_ARGS(DG_VT(e->name), DG_VI(since), DG_VI(*newest), DG_VI(since)), &rows);
		while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
			json_t *c = change_of(&r, e, rows);
			if (!c) {
				rc = dg_err_set(err, DG_EINTERNAL,
						"a change of %s could not be opened", e->name);
				break;
			}
			json_array_append_new(arr, c);
		}
		dg_rows_free(rows);
		if (rc == DG_ENOTFOUND)
			rc = DG_OK;
	}
	dg_arena_free(r.rec);
	if (rc) {
		json_decref(arr);
		return err->msg[0]
			       ? rc
			       : dg_err_set(err, rc, "the registries' changes could not be read");
	}
	if (changes)
		*changes = arr;
	else
		json_decref(arr);
	return DG_OK;
}
