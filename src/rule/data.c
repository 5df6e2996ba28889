/*
 * data.c - the columnar registry store: interned codes, rows with id lookup,
 * typed columns with known flags, monthly columns, links, groups and the
 * benefit history index.
 *
 * Columns of one entity grow together (doubling) while rows are added;
 * monthly columns are created the first time a month is seen. Finish turns
 * link targets from text into row numbers (a target that is not there stays
 * unknown, counted as dangling) and builds the CSR indexes.
 */
#include "rule/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/str.h"
#include "rule/text.h"

static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

void dg_intern_init(struct dg_intern *in)
{
	memset(in, 0, sizeof(*in));
}

void dg_intern_release(struct dg_intern *in)
{
	for (int i = 0; i < in->n; i++)
		free(in->s[i]);
	free(in->s);
	free(in->slot);
	memset(in, 0, sizeof(*in));
}

int dg_intern_find(const struct dg_intern *in, const char *s, size_t n)
{
	if (!in->nslot)
		return -1;
	size_t mask = (size_t)in->nslot - 1;
	for (size_t i = hash_bytes(s, n) & mask;; i = (i + 1) & mask) {
		int id = in->slot[i] - 1;
		if (id < 0)
			return -1;
		if (strlen(in->s[id]) == n && memcmp(in->s[id], s, n) == 0)
			return id;
	}
}

int dg_intern_get(struct dg_intern *in, const char *s, size_t n)
{
	int id = dg_intern_find(in, s, n);
	if (id >= 0)
		return id;
	if ((in->n + 1) * 2 > in->nslot) {
		int ns = in->nslot ? in->nslot * 2 : 256;
		int *slot = dg_xcalloc((size_t)ns, sizeof(int));
		for (int j = 0; j < in->n; j++) {
			size_t i = hash_bytes(in->s[j], strlen(in->s[j])) & (size_t)(ns - 1);
			while (slot[i])
				i = (i + 1) & (size_t)(ns - 1);
			slot[i] = j + 1;
		}
		free(in->slot);
		in->slot = slot;
		in->nslot = ns;
	}
	if (in->n == in->cap) {
		in->cap = in->cap ? in->cap * 2 : 64;
		in->s = dg_xrealloc(in->s, sizeof(char *) * (size_t)in->cap);
	}
	id = in->n++;
	in->s[id] = dg_xstrndup(s, n);
	size_t i = hash_bytes(s, n) & (size_t)(in->nslot - 1);
	while (in->slot[i])
		i = (i + 1) & (size_t)(in->nslot - 1);
	in->slot[i] = id + 1;
	return id;
}

struct dg_data *dg_data_new(const struct dg_schema *s, struct dg_intern *codes)
{
	struct dg_data *d = dg_xcalloc(1, sizeof(*d));
	d->schema = s;
	d->codes = codes;
	for (int e = 0; e < s->ne; e++)
		for (int f = 0; f < DG_MAX_FIELDS; f++)
			dg_buf_init(&d->t[e].pend[f], (size_t)1 << 34);
	return d;
}

void dg_data_free(struct dg_data *d)
{
	if (!d)
		return;
	for (int e = 0; e < DG_MAX_ENT; e++) {
		struct dg_table *t = &d->t[e];
		free(t->idbuf);
		free(t->idoff);
		free(t->hash);
		for (int f = 0; f < DG_MAX_FIELDS; f++) {
			free(t->col[f].v);
			free(t->col[f].k);
			if (t->mcol[f]) {
				for (int m = 0; m < DG_MAX_MONTHS; m++) {
					free(t->mcol[f][m].v);
					free(t->mcol[f][m].k);
				}
				free(t->mcol[f]);
			}
			dg_buf_release(&t->pend[f]);
		}
		for (int g = 0; g < 16; g++) {
			free(t->goff[g]);
			free(t->grow[g]);
		}
		free(t->boff);
		free(t->brec);
		free(t->bowner);
	}
	free(d);
}

static void grow_col(struct dg_col *c, int64_t old, int64_t cap)
{
	c->v = dg_xrealloc(c->v, sizeof(int64_t) * (size_t)cap);
	c->k = dg_xrealloc(c->k, (size_t)cap);
	memset(c->v + old, 0, sizeof(int64_t) * (size_t)(cap - old));
	memset(c->k + old, 0, (size_t)(cap - old));
}

static void rehash(struct dg_table *t, int64_t nh)
{
	free(t->hash);
	t->hash = dg_xcalloc((size_t)nh, sizeof(int32_t));
	t->nhash = nh;
	for (int64_t r = 0; r < t->n; r++) {
		const char *id = t->idbuf + t->idoff[r];
		size_t i = hash_bytes(id, strlen(id)) & (size_t)(nh - 1);
		while (t->hash[i])
			i = (i + 1) & (size_t)(nh - 1);
		t->hash[i] = (int32_t)(r + 1);
	}
}

int64_t dg_data_find(const struct dg_data *d, int ent, const char *id, size_t n)
{
	const struct dg_table *t = &d->t[ent];
	if (!t->nhash)
		return -1;
	size_t mask = (size_t)t->nhash - 1;
	for (size_t i = hash_bytes(id, n) & mask;; i = (i + 1) & mask) {
		int64_t r = t->hash[i] - 1;
		if (r < 0)
			return -1;
		const char *s = t->idbuf + t->idoff[r];
		if (strncmp(s, id, n) == 0 && s[n] == '\0')
			return r;
	}
}

const char *dg_data_id(const struct dg_data *d, int ent, int64_t row)
{
	if (row < 0 || row >= d->t[ent].n)
		return "?";
	return d->t[ent].idbuf + d->t[ent].idoff[row];
}

/* Grow every column of the table to hold cap rows. */
static void table_grow(struct dg_data *d, int ent, int64_t cap)
{
	struct dg_table *t = &d->t[ent];
	const struct dg_entity *e = &d->schema->e[ent];
	if (cap <= t->cap)
		return;
	for (int f = 0; f < e->nf; f++) {
		if (e->f[f].monthly) {
			for (int m = 0; t->mcol[f] && m < DG_MAX_MONTHS; m++)
				if (t->mcol[f][m].v)
					grow_col(&t->mcol[f][m], t->cap, cap);
		} else {
			grow_col(&t->col[f], t->cap, cap);
		}
	}
	t->idoff = dg_xrealloc(t->idoff, sizeof(int64_t) * (size_t)cap);
	t->cap = cap;
}

void dg_data_reserve(struct dg_data *d, int ent, int64_t rows, size_t id_bytes)
{
	struct dg_table *t = &d->t[ent];
	if (d->finished || rows <= 0 || rows > ((int64_t)1 << 31))
		return;
	table_grow(d, ent, t->n + rows);
	if (t->idlen + id_bytes > t->idcap) {
		t->idcap = t->idlen + id_bytes;
		t->idbuf = dg_xrealloc(t->idbuf, t->idcap);
	}
	int64_t nh = 2048;
	while (nh < 2 * (t->n + rows))
		nh *= 2;
	if (nh > t->nhash)
		rehash(t, nh);
}

dg_rc dg_data_add_row(struct dg_data *d, int ent, const char *id, size_t idn, int64_t *row,
		      struct dg_err *err)
{
	struct dg_table *t = &d->t[ent];
	const struct dg_entity *e = &d->schema->e[ent];
	if (d->finished)
		return dg_err_set(err, DG_EINVAL, "data already finished");
	if (idn == 0 || idn > 200 || memchr(id, '\0', idn))
		return dg_err_set(err, DG_EINVAL, "%s: an id must be 1 to 200 bytes", e->name);
	if (t->n >= INT32_MAX - 1)
		return dg_err_set(err, DG_ETOOBIG, "%s: too many records", e->name);
	if (dg_data_find(d, ent, id, idn) >= 0)
		return dg_err_set(err, DG_ECONFLICT, "%s: id '%.*s' appears twice", e->name,
				  (int)idn, id);
	if (t->n == t->cap)
		table_grow(d, ent, t->cap ? t->cap * 2 : 1024);
	if (t->idlen + idn + 1 > t->idcap) {
		t->idcap = t->idcap ? t->idcap * 2 : 65536;
		while (t->idlen + idn + 1 > t->idcap)
			t->idcap *= 2;
		t->idbuf = dg_xrealloc(t->idbuf, t->idcap);
	}
	memcpy(t->idbuf + t->idlen, id, idn);
	t->idbuf[t->idlen + idn] = '\0';
	t->idoff[t->n] = (int64_t)t->idlen;
	t->idlen += idn + 1;
	*row = t->n++;
	if (t->n * 2 > t->nhash) {
		rehash(t, t->nhash ? t->nhash * 2 : 2048);
	} else {
		size_t i = hash_bytes(id, idn) & (size_t)(t->nhash - 1);
		while (t->hash[i])
			i = (i + 1) & (size_t)(t->nhash - 1);
		t->hash[i] = (int32_t)(*row + 1);
	}
	return DG_OK;
}

dg_rc dg_data_parse_month(const char *s, size_t n, int32_t *out)
{
	int64_t y, m;
	if (n != 7 || s[4] != '-' || dg_str_to_i64((struct dg_str){s, 4}, &y) ||
	    dg_str_to_i64((struct dg_str){s + 5, 2}, &m) || y < 1900 || y > 2200 || m < 1 ||
	    m > 12 || s[5] == '-')
		return DG_EINVAL;
	*out = DG_DATA_MONTH(y, m);
	return DG_OK;
}

/*
 * "1234.5" yuan -> 123450 fen; at most two decimals. At most 13 digits before the
 * point (DG_MONEY_MAX_YUAN), so that any amount times a count or a ratio of up to a
 * few thousand still fits in 64 bits of fen; larger is DG_ETOOBIG.
 */
static dg_rc parse_money(const char *s, size_t n, int64_t *out)
{
	bool neg = false;
	size_t i = 0;
	int64_t yuan = 0, fen = 0;
	int digits = 0, dec = -1;
	if (n && s[0] == '-') {
		neg = true;
		i++;
	}
	for (; i < n; i++) {
		if (s[i] == '.' && dec < 0) {
			dec = 0;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return DG_EINVAL;
		if (dec >= 0) {
			if (++dec > 2)
				return DG_EINVAL;
			fen = fen * 10 + (s[i] - '0');
		} else {
			if (++digits > 13)
				return DG_ETOOBIG;
			yuan = yuan * 10 + (s[i] - '0');
		}
	}
	if (digits == 0 || dec == 0)
		return DG_EINVAL;
	if (dec == 1)
		fen *= 10;
	*out = (yuan * 100 + fen) * (neg ? -1 : 1);
	return DG_OK;
}

dg_rc dg_data_parse_value(enum dg_ty ty, const char *s, size_t n, struct dg_intern *codes,
			  int64_t *out)
{
	char tmp[16];
	switch (ty) {
	case TY_BOOL:
		if ((n == 4 && !memcmp(s, "true", 4)) || (n == 1 && s[0] == '1') ||
		    (n == 3 && !memcmp(s, "yes", 3)))
			*out = 1;
		else if ((n == 5 && !memcmp(s, "false", 5)) || (n == 1 && s[0] == '0') ||
			 (n == 2 && !memcmp(s, "no", 2)))
			*out = 0;
		else
			return DG_EINVAL;
		return DG_OK;
	case TY_INT: return dg_str_to_i64((struct dg_str){s, n}, out) ? DG_EINVAL : DG_OK;
	case TY_MONEY: return parse_money(s, n, out);
	case TY_DATE: {
		dg_day day;
		if (n != 10)
			return DG_EINVAL;
		memcpy(tmp, s, 10);
		tmp[10] = '\0';
		if (dg_day_parse(tmp, &day))
			return DG_EINVAL;
		*out = day;
		return DG_OK;
	}
	case TY_CODE:
		if (n > 200 || !dg_utf8_valid(s, n))
			return DG_EINVAL;
		*out = dg_intern_get(codes, s, n);
		return DG_OK;
	default: return DG_EINVAL;
	}
}

static const char *ty_word(enum dg_ty t)
{
	switch (t) {
	case TY_BOOL: return "true or false";
	case TY_INT: return "a whole number";
	case TY_MONEY: return "an amount in yuan like 1234.50";
	case TY_DATE: return "a date like 2025-07-01";
	case TY_CODE: return "a code";
	default: return "a value";
	}
}

/* The message for a value the field's type does not take. */
static dg_rc bad_value(const struct dg_field *f, const char *text, size_t n, dg_rc rc,
		       struct dg_err *err)
{
	if (rc == DG_ETOOBIG && f->ty == TY_MONEY)
		return dg_err_set(err, DG_EINVAL,
				  "%s '%.*s' is larger than the loader takes: at most 13 digits "
				  "before the point (9999999999999.99 yuan)",
				  f->name, (int)dg_text_cut(text, n, 40), text);
	return dg_err_set(err, DG_EINVAL, "%s '%.*s' is not %s", f->name,
			  (int)dg_text_cut(text, n, 40), text, ty_word(f->ty));
}

dg_rc dg_data_set(struct dg_data *d, int ent, int64_t row, int field, const char *text, size_t n,
		  struct dg_err *err)
{
	struct dg_table *t = &d->t[ent];
	dg_rc rc;
	const struct dg_field *f = &d->schema->e[ent].f[field];
	if (f->monthly)
		return dg_err_set(err, DG_EINVAL, "%s is monthly: give it per month", f->name);
	if (n == 0) {
		t->col[field].k[row] = 0;
		return DG_OK;
	}
	if (f->ty == TY_LINK) {
		struct dg_buf *b = &t->pend[field];
		int64_t off = (int64_t)b->len;
		if (n > 200 || dg_buf_add(b, text, n) || dg_buf_addc(b, '\0'))
			return dg_err_set(err, DG_ETOOBIG, "%s: link value too long", f->name);
		t->col[field].v[row] = off;
		t->col[field].k[row] = 1;
		return DG_OK;
	}
	int64_t v;
	if ((rc = dg_data_parse_value(f->ty, text, n, d->codes, &v)))
		return bad_value(f, text, n, rc, err);
	t->col[field].v[row] = v;
	t->col[field].k[row] = 1;
	return DG_OK;
}

dg_rc dg_data_set_month(struct dg_data *d, int ent, int64_t row, int field, int32_t month,
			const char *text, size_t n, struct dg_err *err)
{
	struct dg_table *t = &d->t[ent];
	dg_rc rc;
	const struct dg_field *f = &d->schema->e[ent].f[field];
	if (!f->monthly)
		return dg_err_set(err, DG_EINVAL, "%s is not a monthly field", f->name);
	if (!t->mcol[field]) {
		t->mcol[field] = dg_xcalloc(DG_MAX_MONTHS, sizeof(struct dg_col));
	}
	if (t->m0 == 0) {
		/* the first month seen anchors the window; leave room for older data */
		t->m0 = month - DG_MAX_MONTHS / 2;
	}
	int m = month - t->m0;
	if (m < 0 || m >= DG_MAX_MONTHS)
		return dg_err_set(err, DG_ETOOBIG,
				  "%s: months must lie within %d months of each other", f->name,
				  DG_MAX_MONTHS / 2);
	struct dg_col *c = &t->mcol[field][m];
	if (!c->v)
		grow_col(c, 0, t->cap);
	if (n == 0) {
		c->k[row] = 0;
		return DG_OK;
	}
	int64_t v;
	if ((rc = dg_data_parse_value(f->ty, text, n, d->codes, &v)))
		return bad_value(f, text, n, rc, err);
	c->v[row] = v;
	c->k[row] = 1;
	return DG_OK;
}

dg_rc dg_data_add_benefit(struct dg_data *d, int ent, int64_t row, const char *benefit,
			  const char *status, int32_t month, struct dg_err *err)
{
	struct dg_table *t = &d->t[ent];
	int st;
	if (!strcmp(status, "paid"))
		st = BEN_PAID;
	else if (!strcmp(status, "applied"))
		st = BEN_APPLIED;
	else if (!strcmp(status, "refused"))
		st = BEN_REFUSED;
	else if (!strcmp(status, "stopped"))
		st = BEN_STOPPED;
	else
		return dg_err_set(err, DG_EINVAL,
				  "benefit status '%s' must be paid, applied, refused or stopped",
				  status);
	if (!*benefit || strlen(benefit) > 100)
		return dg_err_set(err, DG_EINVAL, "a benefit record needs a benefit name");
	if (t->nbrec == t->capbrec) {
		t->capbrec = t->capbrec ? t->capbrec * 2 : 256;
		t->brec = dg_xrealloc(t->brec, sizeof(*t->brec) * (size_t)t->capbrec);
		t->bowner = dg_xrealloc(t->bowner, sizeof(int64_t) * (size_t)t->capbrec);
	}
	t->brec[t->nbrec].benefit = dg_intern_get(d->codes, benefit, strlen(benefit));
	t->brec[t->nbrec].month = month;
	t->brec[t->nbrec].status = st;
	t->bowner[t->nbrec] = row;
	t->nbrec++;
	return DG_OK;
}

/* Counting sort of (owner -> items) into CSR offsets and a row list. */
static void build_csr(int64_t nowner, int64_t nitems, const int64_t *owner_of, int64_t **offs,
		      int64_t **perm)
{
	int64_t *off = dg_xcalloc((size_t)nowner + 1, sizeof(int64_t));
	int64_t *p = dg_xmalloc(sizeof(int64_t) * (size_t)(nitems ? nitems : 1));
	for (int64_t i = 0; i < nitems; i++)
		if (owner_of[i] >= 0)
			off[owner_of[i] + 1]++;
	for (int64_t i = 0; i < nowner; i++)
		off[i + 1] += off[i];
	int64_t *fill = dg_xmalloc(sizeof(int64_t) * (size_t)(nowner + 1));
	memcpy(fill, off, sizeof(int64_t) * (size_t)(nowner + 1));
	for (int64_t i = 0; i < nitems; i++)
		if (owner_of[i] >= 0)
			p[fill[owner_of[i]]++] = i;
	free(fill);
	*offs = off;
	*perm = p;
}

dg_rc dg_data_finish(struct dg_data *d, struct dg_err *err)
{
	const struct dg_schema *s = d->schema;
	(void)err;
	if (d->finished)
		return DG_OK;
	for (int e = 0; e < s->ne; e++) {
		struct dg_table *t = &d->t[e];
		/* empty tables still get arrays so the VM can point at them */
		if (t->cap == 0) {
			t->cap = 64;
			for (int f = 0; f < s->e[e].nf; f++)
				if (!s->e[e].f[f].monthly)
					grow_col(&t->col[f], 0, t->cap);
		}
		for (int f = 0; f < s->e[e].nf; f++) {
			const struct dg_field *fd = &s->e[e].f[f];
			if (fd->ty != TY_LINK)
				continue;
			const char *pb = dg_buf_str(&t->pend[f]);
			for (int64_t r = 0; r < t->n; r++) {
				if (!t->col[f].k[r]) {
					t->col[f].v[r] = -1;
					continue;
				}
				const char *id = pb + t->col[f].v[r];
				int64_t to = dg_data_find(d, fd->link_ent, id, strlen(id));
				t->col[f].v[r] = to;
				if (to < 0) {
					t->col[f].k[r] = 0;
					t->dangling++;
				}
			}
			dg_buf_release(&t->pend[f]);
		}
	}
	for (int e = 0; e < s->ne; e++) {
		for (int g = 0; g < s->e[e].ng; g++) {
			const struct dg_group *gr = &s->e[e].g[g];
			struct dg_table *mt = &d->t[gr->member_ent];
			build_csr(d->t[e].n, mt->n, mt->col[gr->link_field].v, &d->t[e].goff[g],
				  &d->t[e].grow[g]);
		}
		struct dg_table *t = &d->t[e];
		int64_t *perm;
		build_csr(t->n, t->nbrec, t->bowner, &t->boff, &perm);
		struct dg_benefit_rec *sorted =
			dg_xmalloc(sizeof(*sorted) * (size_t)(t->nbrec ? t->nbrec : 1));
		for (int64_t i = 0; i < t->nbrec; i++)
			sorted[i] = t->brec[perm[i]];
		free(perm);
		free(t->brec);
		t->brec = sorted;
		free(t->bowner);
		t->bowner = NULL;
	}
	d->finished = true;
	return DG_OK;
}

/* err = "where: msg" */
static dg_rc fail_at(const struct dg_rule_reader *rd, const struct dg_err *ferr, struct dg_err *err)
{
	char buf[512];
	const char *w = rd->where ? rd->where(rd->ctx, buf, sizeof(buf)) : NULL;
	return dg_err_set(err, ferr->rc ? ferr->rc : DG_EINVAL, "%s%s%s", w ? w : "", w ? ": " : "",
			  ferr->msg);
}

static dg_rc load_record(struct dg_data *d, int ent, const struct dg_rule_record *rec,
			 struct dg_err *ferr)
{
	const struct dg_entity *e = &d->schema->e[ent];
	int64_t row;
	dg_rc rc;
	if ((rc = dg_data_add_row(d, ent, rec->id, rec->idn, &row, ferr)))
		return rc;
	for (size_t i = 0; i < rec->ncells; i++) {
		const struct dg_rule_cell *c = &rec->cells[i];
		if (c->field < 0 || c->field >= e->nf)
			return dg_err_set(ferr, DG_EINVAL, "%s has no field #%d", e->name,
					  c->field);
		rc = e->f[c->field].monthly
			     ? dg_data_set_month(d, ent, row, c->field, c->month, c->s, c->n, ferr)
			     : dg_data_set(d, ent, row, c->field, c->s, c->n, ferr);
		if (rc)
			return rc;
	}
	return DG_OK;
}

static dg_rc load_benefit(struct dg_data *d, const struct dg_rule_benefit_row *b,
			  struct dg_err *ferr)
{
	const struct dg_schema *s = d->schema;
	if (b->ent < 0 || b->ent >= s->ne)
		return dg_err_set(ferr, DG_EINVAL, "a benefit record of no known entity");
	int64_t row = dg_data_find(d, b->ent, b->id, b->idn);
	if (row < 0)
		return dg_err_set(ferr, DG_EINVAL, "no %s with id '%.*s'", s->e[b->ent].name,
				  (int)dg_text_cut(b->id, b->idn, 60), b->id);
	return dg_data_add_benefit(d, b->ent, row, b->benefit, b->status, b->month, ferr);
}

struct dg_data *dg_data_load(const struct dg_schema *s, struct dg_intern *codes,
			     const struct dg_rule_reader *rd, struct dg_err *err)
{
	struct dg_data *d = dg_data_new(s, codes);
	struct dg_err ferr = {0};
	dg_rc rc;
	for (int e = 0; e < s->ne; e++) {
		int64_t rows = -1;
		rc = rd->open(rd->ctx, e, &rows, err);
		if (rc == DG_ENOTFOUND)
			continue;
		if (rc)
			goto fail;
		if (rows > 0)
			dg_data_reserve(d, e, rows, (size_t)rows * 16);
		struct dg_rule_record rec;
		while ((rc = rd->next(rd->ctx, &rec, err)) == DG_OK)
			if (load_record(d, e, &rec, &ferr)) {
				fail_at(rd, &ferr, err);
				goto fail;
			}
		if (rc != DG_ENOTFOUND)
			goto fail;
	}
	struct dg_rule_benefit_row b;
	while (rd->next_benefit && (rc = rd->next_benefit(rd->ctx, &b, err)) != DG_ENOTFOUND) {
		if (rc)
			goto fail;
		if (load_benefit(d, &b, &ferr)) {
			fail_at(rd, &ferr, err);
			goto fail;
		}
	}
	if (dg_data_finish(d, err))
		goto fail;
	return d;
fail:
	dg_data_free(d);
	return NULL;
}
