/*
 * csv.c - the CSV files of a data folder as a registry reader (struct
 * dg_rule_reader, data.h), over the one shared streaming CSV reader
 * (core/csv.h), so rule data gets the same GB18030 decoding, caps and
 * messages as every other CSV dgov reads.
 *
 * One file per entity, named by the schema; the header names the ID column
 * and the fields; a monthly field is one column per month written
 * "income@2025-06". Every non-monthly field of the schema must have a column
 * (a missing column is an error, an empty cell is an unknown value); extra
 * columns are ignored. The benefits file has the columns
 * entity,id,benefit,status,month and may be absent. Before a file is parsed
 * its lines are counted (a plain byte scan) so the columns are sized once.
 */
#include "rule/data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"
#include "core/mem.h"
#include "rule/text.h"

/* A registry row may hold many months of several monthly fields. */
#define MAX_COLS 4096
/* Ids and codes are at most 200 bytes; names and free text a little more. */
#define MAX_FIELD (64u << 10)

struct csv_src {
	const struct dg_schema *s;
	const char *dir;
	char *path; /* the file being read */
	FILE *fp;
	struct dg_csv *csv;
	struct dg_csv_row row;
	/* the open entity: what each column holds */
	int ent, ncols, idcol;
	int *fld;     /* per column: schema field, -1 ignored */
	int32_t *mon; /* per column: month of a monthly field, 0 otherwise */
	struct dg_rule_cell *cells;
	bool benefits; /* the benefits file is open */
	bool benefits_done;
};

static void src_close(struct csv_src *c)
{
	dg_csv_free(c->csv);
	c->csv = NULL;
	if (c->fp)
		fclose(c->fp);
	c->fp = NULL;
	free(c->path);
	c->path = NULL;
}

static dg_rc open_file(struct csv_src *c, const char *file, bool may_be_absent, struct dg_err *err)
{
	char eb[128];
	size_t n = strlen(c->dir) + strlen(file) + 2;
	src_close(c);
	c->path = dg_xmalloc(n);
	snprintf(c->path, n, "%s/%s", c->dir, file);
	c->fp = fopen(c->path, "rb");
	if (!c->fp) {
		if (may_be_absent && errno == ENOENT)
			return DG_ENOTFOUND;
		return dg_err_set(err, DG_EIO, "%s: %s", c->path,
				  strerror_r(errno, eb, sizeof(eb)));
	}
	return DG_OK;
}

/* Lines in the open file (a size hint), leaving it at its start. */
static int64_t count_lines(FILE *fp)
{
	char *buf = dg_xmalloc(1 << 20);
	int64_t lines = 0;
	size_t got;
	while ((got = fread(buf, 1, 1 << 20, fp)) > 0)
		for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + got - p))); p++)
			lines++;
	free(buf);
	rewind(fp);
	return lines;
}

/* The shared reader's messages say "Line N"; ours lead with the file. */
static dg_rc next_row(struct csv_src *c, struct dg_err *err)
{
	struct dg_err e = {0};
	dg_rc rc = dg_csv_next(c->csv, &c->row, &e);
	if (rc == DG_OK || rc == DG_ENOTFOUND)
		return rc;
	return dg_err_set(err, rc, "%s: %s", c->path, e.msg);
}

static dg_rc start_csv(struct csv_src *c, struct dg_err *err)
{
	struct dg_err e = {0};
	dg_rc rc = dg_csv_open(c->fp, MAX_FIELD, MAX_COLS, &c->csv, &e);
	if (rc)
		return dg_err_set(err, rc, "%s: %s", c->path, e.msg);
	rc = next_row(c, err);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, DG_EINVAL, "%s: no header line", c->path);
	return rc;
}

/* Map the header's columns to fields; every non-monthly field must be there. */
static dg_rc map_header(struct csv_src *c, struct dg_err *err)
{
	const struct dg_entity *e = &c->s->e[c->ent];
	bool seen[DG_MAX_FIELDS] = {false};
	c->ncols = (int)c->row.ncols;
	c->idcol = -1;
	for (int i = 0; i < c->ncols; i++) {
		char name[4 * DG_NAME_MAX + 16]; /* a name and @YYYY-MM; longer is no field */
		size_t n = c->row.n[i] < sizeof(name) - 1 ? c->row.n[i] : sizeof(name) - 1;
		memcpy(name, c->row.f[i], n);
		name[n] = '\0';
		c->fld[i] = -1;
		c->mon[i] = 0;
		char *at = strchr(name, '@');
		if (at)
			*at = '\0';
		if (!at && strcmp(name, e->id_col) == 0) {
			c->idcol = i;
			continue;
		}
		int f = dg_schema_field(c->s, c->ent, name);
		if (f < 0)
			continue; /* extra columns are allowed and ignored */
		if (at && e->f[f].monthly &&
		    dg_data_parse_month(at + 1, strlen(at + 1), &c->mon[i]))
			return dg_err_set(err, DG_EINVAL,
					  "%s: column '%s@%s': the month must be YYYY-MM", c->path,
					  name, at + 1);
		if (e->f[f].monthly != (at != NULL))
			return dg_err_set(err, DG_EINVAL,
					  e->f[f].monthly
						  ? "%s: column '%s' is monthly: name it %s@YYYY-MM"
						  : "%s: column '%s' is not monthly: name it %s",
					  c->path, name, name);
		c->fld[i] = f;
		seen[f] = true;
	}
	if (c->idcol < 0)
		return dg_err_set(err, DG_EINVAL, "%s: missing the id column '%s'", c->path,
				  e->id_col);
	for (int f = 0; f < e->nf; f++)
		if (!seen[f] && !e->f[f].monthly)
			return dg_err_set(err, DG_EINVAL,
					  "%s: missing column '%s' (%s.%s in the schema)", c->path,
					  e->f[f].name, e->name, e->f[f].name);
	return DG_OK;
}

static dg_rc csv_open(void *ctx, int ent, int64_t *rows, struct dg_err *err)
{
	struct csv_src *c = ctx;
	dg_rc rc;
	*rows = -1;
	c->ent = ent;
	if (!c->s->e[ent].file)
		return DG_ENOTFOUND;
	if ((rc = open_file(c, c->s->e[ent].file, false, err)))
		return rc;
	*rows = count_lines(c->fp);
	if ((rc = start_csv(c, err)))
		return rc;
	return map_header(c, err);
}

static dg_rc csv_next(void *ctx, struct dg_rule_record *rec, struct dg_err *err)
{
	struct csv_src *c = ctx;
	dg_rc rc = next_row(c, err);
	if (rc)
		return rc;
	const struct dg_csv_row *r = &c->row;
	if ((int)r->ncols != c->ncols)
		return dg_err_set(err, DG_EINVAL, "%s:%ld: %zu fields where the header has %d",
				  c->path, r->line, r->ncols, c->ncols);
	size_t k = 0;
	for (int i = 0; i < c->ncols; i++) {
		if (c->fld[i] < 0)
			continue;
		c->cells[k].field = c->fld[i];
		c->cells[k].month = c->mon[i];
		c->cells[k].s = r->f[i];
		c->cells[k].n = r->n[i];
		k++;
	}
	rec->id = r->f[c->idcol];
	rec->idn = r->n[c->idcol];
	rec->cells = c->cells;
	rec->ncells = k;
	return DG_OK;
}

static dg_rc csv_next_benefit(void *ctx, struct dg_rule_benefit_row *b, struct dg_err *err)
{
	struct csv_src *c = ctx;
	dg_rc rc;
	if (c->benefits_done || !c->s->benefits_file)
		return DG_ENOTFOUND;
	if (!c->benefits) {
		rc = open_file(c, c->s->benefits_file, true, err);
		if (rc == DG_ENOTFOUND)
			c->benefits_done = true;
		if (rc || (rc = start_csv(c, err)))
			return rc;
		const struct dg_csv_row *h = &c->row;
		if (h->ncols != 5 || strcmp(h->f[0], "entity") || strcmp(h->f[1], "id") ||
		    strcmp(h->f[2], "benefit") || strcmp(h->f[3], "status") ||
		    strcmp(h->f[4], "month"))
			return dg_err_set(err, DG_EINVAL,
					  "%s: header must be entity,id,benefit,status,month",
					  c->path);
		c->benefits = true;
	}
	if ((rc = next_row(c, err))) {
		if (rc == DG_ENOTFOUND)
			c->benefits_done = true;
		return rc;
	}
	const struct dg_csv_row *r = &c->row;
	if (r->ncols != 5)
		return dg_err_set(err, DG_EINVAL, "%s:%ld: expected 5 fields", c->path, r->line);
	b->ent = dg_schema_entity(c->s, r->f[0]);
	if (b->ent < 0)
		return dg_err_set(err, DG_EINVAL, "%s:%ld: unknown entity '%.*s'", c->path, r->line,
				  (int)dg_text_cut(r->f[0], r->n[0], 60), r->f[0]);
	if (dg_data_parse_month(r->f[4], r->n[4], &b->month))
		return dg_err_set(err, DG_EINVAL, "%s:%ld: month must be YYYY-MM", c->path,
				  r->line);
	b->id = r->f[1];
	b->idn = r->n[1];
	b->benefit = r->f[2];
	b->status = r->f[3];
	return DG_OK;
}

static const char *csv_where(void *ctx, char *buf, size_t n)
{
	struct csv_src *c = ctx;
	snprintf(buf, n, "%s:%ld", c->path ? c->path : "?", c->row.line);
	return buf;
}

struct dg_data *dg_data_load_csv(const struct dg_schema *s, struct dg_intern *codes,
				 const char *dir, struct dg_err *err)
{
	struct csv_src c = {0};
	c.s = s;
	c.dir = dir;
	c.fld = dg_xmalloc(sizeof(int) * MAX_COLS);
	c.mon = dg_xmalloc(sizeof(int32_t) * MAX_COLS);
	c.cells = dg_xmalloc(sizeof(struct dg_rule_cell) * MAX_COLS);
	struct dg_rule_reader rd = {&c, csv_open, csv_next, csv_next_benefit, csv_where};
	struct dg_data *d = dg_data_load(s, codes, &rd, err);
	src_close(&c);
	free(c.fld);
	free(c.mon);
	free(c.cells);
	return d;
}
