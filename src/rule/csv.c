/*
 * csv.c - registry CSV files into the columnar store.
 *
 * One file per entity, named by the schema; the header names the ID column
 * and the fields; a monthly field is one column per month written
 * "income@2025-06". Every non-monthly field of the schema must have a column
 * (a missing column is an error, an empty cell is an unknown value).
 * The benefits file has the columns entity,id,benefit,status,month.
 * Fields are RFC 4180: quotes, doubled quotes, CRLF. The record reader is a
 * small state machine over the whole file in memory, bounded by its length.
 */
#include "rule/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "rule/yaml.h"

#define MAX_COLS      1024
#define MAX_CSV_BYTES ((size_t)16 << 30)

struct csv {
	char *p, *end;
	long line;
};

struct cell {
	const char *s;
	size_t n;
};

/* Next record into cells (unquoted in place). Returns count, 0 at end, -1 bad. */
static int next_record(struct csv *c, struct cell *cells, int max)
{
	int n = 0;
	if (c->p >= c->end)
		return 0;
	c->line++;
	for (;;) {
		if (n == max)
			return -1;
		char *w = c->p, *start = c->p;
		if (c->p < c->end && *c->p == '"') {
			c->p++;
			start = w = c->p;
			for (;;) {
				if (c->p >= c->end)
					return -1;
				if (*c->p == '"') {
					if (c->p + 1 < c->end && c->p[1] == '"') {
						*w++ = '"';
						c->p += 2;
						continue;
					}
					c->p++;
					break;
				}
				if (*c->p == '\n')
					c->line++;
				*w++ = *c->p++;
			}
			if (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
				return -1;
		} else {
			while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
				c->p++;
			w = c->p;
		}
		cells[n].s = start;
		cells[n].n = (size_t)(w - start);
		n++;
		if (c->p >= c->end)
			return n;
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		if (*c->p == '\r')
			c->p++;
		if (c->p < c->end && *c->p == '\n')
			c->p++;
		return n;
	}
}

static char *join(const char *dir, const char *file)
{
	size_t n = strlen(dir) + strlen(file) + 2;
	char *p = dg_xmalloc(n);
	snprintf(p, n, "%s/%s", dir, file);
	return p;
}

static dg_rc load_entity(struct dg_data *d, int ent, const char *path, struct dg_err *err)
{
	const struct dg_entity *e = &d->schema->e[ent];
	char *text = NULL;
	size_t len;
	dg_rc rc;
	struct cell *cells = dg_xmalloc(sizeof(struct cell) * MAX_COLS);
	int *fld = dg_xmalloc(sizeof(int) * MAX_COLS);
	int32_t *mon = dg_xmalloc(sizeof(int32_t) * MAX_COLS);
	bool seen[DG_MAX_FIELDS] = {false};
	int idcol = -1;

	if ((rc = dg_rule_read_file(path, MAX_CSV_BYTES, &text, &len, err)))
		goto out;
	struct csv c = {text, text + len, 0};
	int nh = next_record(&c, cells, MAX_COLS);
	rc = DG_EINVAL;
	if (nh <= 0) {
		dg_err_set(err, DG_EINVAL, "%s: no header line", path);
		goto out;
	}
	for (int i = 0; i < nh; i++) {
		char name[128];
		size_t n = cells[i].n < sizeof(name) - 1 ? cells[i].n : sizeof(name) - 1;
		memcpy(name, cells[i].s, n);
		name[n] = '\0';
		fld[i] = -1;
		mon[i] = 0;
		char *at = strchr(name, '@');
		if (at)
			*at = '\0';
		if (!at && strcmp(name, e->id_col) == 0) {
			idcol = i;
			continue;
		}
		int f = dg_schema_field(d->schema, ent, name);
		if (f < 0)
			continue; /* extra columns are allowed and ignored */
		if (at && e->f[f].monthly && dg_data_parse_month(at + 1, strlen(at + 1), &mon[i])) {
			dg_err_set(err, DG_EINVAL, "%s: column '%s@%s': the month must be YYYY-MM",
			           path, name, at + 1);
			goto out;
		}
		if (e->f[f].monthly != (at != NULL)) {
			dg_err_set(err, DG_EINVAL,
			           e->f[f].monthly
			               ? "%s: column '%s' is monthly: name it %s@YYYY-MM"
			               : "%s: column '%s' is not monthly: name it %s",
			           path, name, name);
			goto out;
		}
		fld[i] = f;
		seen[f] = true;
	}
	if (idcol < 0) {
		dg_err_set(err, DG_EINVAL, "%s: missing the id column '%s'", path, e->id_col);
		goto out;
	}
	for (int f = 0; f < e->nf; f++)
		if (!seen[f] && !e->f[f].monthly) {
			dg_err_set(err, DG_EINVAL, "%s: missing column '%s' (%s.%s in the schema)",
			           path, e->f[f].name, e->name, e->f[f].name);
			goto out;
		}
	/* one record per line in the usual case: size the columns once */
	int64_t lines = 0;
	for (const char *q = c.p; (q = memchr(q, '\n', (size_t)(c.end - q))); q++)
		lines++;
	dg_data_reserve(d, ent, lines + 1, (size_t)(lines + 1) * 16);
	int nc;
	while ((nc = next_record(&c, cells, MAX_COLS)) != 0) {
		struct dg_err ferr = {0};
		int64_t row;
		if (nc == 1 && cells[0].n == 0)
			continue; /* blank line */
		if (nc != nh) {
			dg_err_set(err, DG_EINVAL, "%s:%ld: %d fields where the header has %d",
			           path, c.line, nc < 0 ? 0 : nc, nh);
			goto out;
		}
		if (dg_data_add_row(d, ent, cells[idcol].s, cells[idcol].n, &row, &ferr)) {
			dg_err_set(err, DG_EINVAL, "%s:%ld: %s", path, c.line, ferr.msg);
			goto out;
		}
		for (int i = 0; i < nc; i++) {
			if (fld[i] < 0)
				continue;
			dg_rc r = mon[i] ? dg_data_set_month(d, ent, row, fld[i], mon[i],
			                                     cells[i].s, cells[i].n, &ferr)
			                 : dg_data_set(d, ent, row, fld[i], cells[i].s, cells[i].n,
			                               &ferr);
			if (r) {
				dg_err_set(err, DG_EINVAL, "%s:%ld: %s", path, c.line, ferr.msg);
				goto out;
			}
		}
	}
	rc = DG_OK;
out:
	free(text);
	free(cells);
	free(fld);
	free(mon);
	return rc;
}

static dg_rc load_benefits(struct dg_data *d, const char *path, struct dg_err *err)
{
	char *text = NULL;
	size_t len;
	dg_rc rc;
	struct cell cells[8];
	if ((rc = dg_rule_read_file(path, MAX_CSV_BYTES, &text, &len, err)))
		return rc;
	struct csv c = {text, text + len, 0};
	rc = DG_EINVAL;
	int nc = next_record(&c, cells, 8);
	if (nc != 5 || strncmp(cells[0].s, "entity", 6) || strncmp(cells[4].s, "month", 5)) {
		dg_err_set(err, DG_EINVAL, "%s: header must be entity,id,benefit,status,month",
		           path);
		goto out;
	}
	while ((nc = next_record(&c, cells, 8)) != 0) {
		char ent[64], ben[128], st[32];
		int32_t month;
		struct dg_err ferr = {0};
		if (nc == 1 && cells[0].n == 0)
			continue;
		if (nc != 5 || cells[0].n >= sizeof(ent) || cells[2].n >= sizeof(ben) ||
		    cells[3].n >= sizeof(st)) {
			dg_err_set(err, DG_EINVAL, "%s:%ld: expected 5 fields", path, c.line);
			goto out;
		}
		memcpy(ent, cells[0].s, cells[0].n);
		ent[cells[0].n] = '\0';
		memcpy(ben, cells[2].s, cells[2].n);
		ben[cells[2].n] = '\0';
		memcpy(st, cells[3].s, cells[3].n);
		st[cells[3].n] = '\0';
		int e = dg_schema_entity(d->schema, ent);
		if (e < 0) {
			dg_err_set(err, DG_EINVAL, "%s:%ld: unknown entity '%s'", path, c.line,
			           ent);
			goto out;
		}
		int64_t row = dg_data_find(d, e, cells[1].s, cells[1].n);
		if (row < 0) {
			dg_err_set(err, DG_EINVAL, "%s:%ld: no %s with id '%.*s'", path, c.line,
			           ent, (int)(cells[1].n > 60 ? 60 : cells[1].n), cells[1].s);
			goto out;
		}
		if (dg_data_parse_month(cells[4].s, cells[4].n, &month)) {
			dg_err_set(err, DG_EINVAL, "%s:%ld: month must be YYYY-MM", path, c.line);
			goto out;
		}
		if (dg_data_add_benefit(d, e, row, ben, st, month, &ferr)) {
			dg_err_set(err, DG_EINVAL, "%s:%ld: %s", path, c.line, ferr.msg);
			goto out;
		}
	}
	rc = DG_OK;
out:
	free(text);
	return rc;
}

struct dg_data *dg_data_load_csv(const struct dg_schema *s, struct dg_intern *codes,
                                 const char *dir, struct dg_err *err)
{
	struct dg_data *d = dg_data_new(s, codes);
	for (int e = 0; e < s->ne; e++) {
		if (!s->e[e].file)
			continue;
		char *path = join(dir, s->e[e].file);
		dg_rc rc = load_entity(d, e, path, err);
		free(path);
		if (rc)
			goto fail;
	}
	if (s->benefits_file) {
		char *path = join(dir, s->benefits_file);
		FILE *f = fopen(path, "rb");
		dg_rc rc = DG_OK;
		if (f) {
			fclose(f);
			rc = load_benefits(d, path, err);
		}
		free(path);
		if (rc)
			goto fail;
	}
	if (dg_data_finish(d, err))
		goto fail;
	return d;
fail:
	dg_data_free(d);
	return NULL;
}
