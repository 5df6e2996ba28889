/*
 * load.c - the datastore load job (contract in datastore.h).
 *
 * Pass 1 infers the types from the first SAMPLE_ROWS records (the whole
 * file when it is no longer) and estimates the records from their bytes.
 * Pass 2 then reads the whole file once, on two cores: a parser thread reads, checks and converts
 * the records into chunks, and the job's thread writes them through dg_db_copy_* (PostgreSQL's
 * COPY, SQLite's prepared INSERT), one transaction per batch of batch_rows() rows or BATCH_BYTES of
 * values with the job's progress. A bounded queue holds the chunks between the two, so memory is a
 * few chunks whatever the file size. Bad rows (wrong number of fields, a value that does not fit an
 * overridden type) are skipped and reported by line and column unless the options ask for strict,
 * which fails the job instead. A later value that does not fit the type the sample gave its column
 * (an int column with "1.5" at row 200,000), or a value in a column the sample saw empty, means the
 * sample was wrong: the attempt's table is dropped and the file loaded again, with types inferred
 * over every record as pass 1 then reads them. Either way the table gets the types whole-file
 * inference gives (see check_row), and a file whose first rows tell its types is read once before
 * its switch instead of twice. The switch makes the table readable; its full-text index is built
 * right after by the same job (q is refused until then: fts.h), then the columns' indexes.
 *
 * The same passes serve a private staging load (dg_datastore_stage): strict,
 * every column text plus the record's line, into a table no DataStore
 * action can name, whose records are then handed to the caller batch by
 * batch and dropped.
 */
#include "opendata/datastore/datastore_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/failpoint.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/csv.h"
#include "jobs/jobs.h"
#include "opendata/datastore/fts.h"

#define MAX_REPORTED 100
/*
 * Records pass 1 infers from before pass 2 writes (the rest are checked as
 * they are written, above). A wrong guess costs a second load of the file,
 * so the sample is large enough for a column's kind to show, and small
 * next to the files where reading once matters (about 1 MB of a typical
 * file).
 */
#define SAMPLE_ROWS 10000
#define BATCH_BYTES (32u << 20)
#define BATCH_ROWS  20000u

/*
 * Rows a batch holds: BATCH_ROWS, or DGOV_LOAD_BATCH_ROWS (100 to 1,000,000)
 * where a node wants shorter transactions (and the crash test wants a load
 * long enough to be interrupted).
 */
static size_t batch_rows(void)
{
	const char *v = getenv("DGOV_LOAD_BATCH_ROWS");
	long n = v ? strtol(v, NULL, 10) : 0;
	return n >= 100 && n <= 1000000 ? (size_t)n : BATCH_ROWS;
}
/* a datastore table's column cap (datastore_create's too) */
#define MAX_PARAMS 256u

/*
 * Pass 2's hand-off: the parser queues chunks of CHUNK_ROWS rows (or
 * CHUNK_BYTES of values; a bigger record makes a bigger one) and waits
 * while QUEUE_MAX are queued, so memory stays a few chunks.
 */
#define CHUNK_ROWS  4096u
#define CHUNK_BYTES (4u << 20)
#define QUEUE_MAX   4u

/* Rows as written: each row's values. */
struct chunk {
	struct chunk *next;
	size_t nrows, nvals, nv; /* rows; values a row; values of the row being added */
	char *data;              /* the values, each NUL-terminated */
	size_t len, cap;
	size_t *off;  /* value k of row r at data + off[r * nvals + k] - 1; 0 for NULL */
	long *line;   /* each row's line in the file */
	size_t bytes; /* the rows' bytes in the file (BATCH_BYTES counts them) */
};

/* The queue between the parser thread and the writer (mu guards every field). */
struct pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* a chunk queued or taken, the end, a cancel */
	struct chunk *head, *tail;
	size_t n;
	bool done, cancel; /* the parser has ended; the writer gave up */
	bool changed;      /* the parser met a value the sample's types do not allow */
	int64_t records;   /* the records the parser read, at its end */
	dg_rc rc;          /* the parser's end: ENOTFOUND when it read the whole file */
	struct dg_err err;
};

struct load {
	struct dg_job *job;
	const char *resource_id, *path;
	bool strict, tabs; /* tabs: TSV */
	json_t *types;     /* borrowed overrides */
	size_t ncols;
	char **labels;
	char (*names)[DG_DS_NAME_MAX];
	enum dg_ds_type *type;
	int64_t total, rows, bad; /* total: estimated while sampled, until pass 2 ends */
	/*
	 * Sampled: pass 1 read SAMPLE_ROWS records of a longer file. Then
	 * from_sample[i] says column i's type came from the sample (1), or
	 * from a sample with no value in it (2: text so far, late watching
	 * the values the rest of the file gives it); 0 for given types.
	 */
	bool sampled, retype; /* retype: pass 2 found the sample's types wrong */
	unsigned char *from_sample;
	struct dg_ds_infer late;
	json_t *errors;
	char table[DG_DS_TABLE_MAX];
	const char **cols; /* names[i], for the copy */
	/* pass 2: the parser's record, values and reader (its thread's alone while it runs) */
	const char **vals;
	char (*norm)[DG_DS_NORM_MAX]; /* a column's value as stored, when it differs */
	struct dg_csv *csv;
	struct pipe pipe;
	/* the writer's current batch, and its one COPY (open from its first chunk to its commit) */
	size_t nb, batch_bytes;
	struct dg_copy *copy;
	/* staging: the caller's callbacks, or NULL for a resource's load */
	const struct dg_ds_stage *stage;
	size_t ncopy; /* columns copied: ncols, and the line when staging */
};

/* Progress total: a staged record counts twice (staged, then applied). */
static int64_t progress_total(const struct load *l)
{
	int64_t t = l->total, done = l->rows + (int64_t)l->nb;
	if (t < done) /* the sample's estimate fell short */
		t = done;
	return l->stage ? 2 * t : t;
}

static dg_rc open_csv(struct load *l, FILE **fp, struct dg_csv **c, struct dg_err *err)
{
	*fp = fopen(l->path, "rb");
	if (!*fp)
		return dg_err_set(err, DG_EINVAL, "The uploaded file is missing");
	dg_rc rc = dg_csv_open(*fp, 0, 0, c, err);
	if (rc == DG_OK && l->tabs)
		dg_csv_set_sep(*c, '\t');
	if (rc != DG_OK) {
		fclose(*fp);
		*fp = NULL;
	}
	return rc;
}

static void report(struct load *l, long line, size_t col, const char *msg)
{
	l->bad++;
	if (json_array_size(l->errors) >= MAX_REPORTED)
		return;
	json_array_append_new(l->errors, json_pack("{s:I, s:I, s:s}", "line", (json_int_t)line,
						   "column", (json_int_t)col, "message", msg));
}

/* The header: labels, safe names, then overrides keyed by label or name. */
static dg_rc read_header(struct load *l, struct dg_csv *c, struct dg_err *err)
{
	struct dg_csv_row row;
	dg_rc rc = dg_csv_next(c, &row, err);
	if (rc == DG_ENOTFOUND)
		return dg_err_set(err, DG_EINVAL, "The file is empty: it needs a header row");
	if (rc != DG_OK)
		return rc;
	if (row.ncols > MAX_PARAMS)
		return dg_err_set(err, DG_EINVAL,
				  "The file has %zu columns; at most %u can be loaded", row.ncols,
				  MAX_PARAMS);
	l->ncols = row.ncols;
	l->labels = dg_xcalloc(row.ncols, sizeof *l->labels);
	for (size_t i = 0; i < row.ncols; i++)
		l->labels[i] = dg_xstrdup(row.f[i]);
	/* one more slot: a staged record's line */
	l->names = dg_xcalloc(row.ncols + 1, sizeof *l->names);
	l->type = dg_xcalloc(row.ncols + 1, sizeof *l->type);
	dg_ds_names(row.ncols, l->labels, l->names);
	l->cols = dg_xcalloc(row.ncols + 1, sizeof *l->cols);
	for (size_t i = 0; i < row.ncols; i++)
		l->cols[i] = l->names[i];
	l->ncopy = row.ncols;
	if (!l->stage)
		return DG_OK;
	/* "_line" cannot clash: dg_ds_names never starts a name with '_' */
	snprintf(l->names[row.ncols], DG_DS_NAME_MAX, "_line");
	l->type[row.ncols] = DG_DS_INT;
	l->cols[row.ncols] = l->names[row.ncols];
	l->ncopy = row.ncols + 1;
	return l->stage->header ? l->stage->header(l->stage->ctx, row.ncols, l->labels, err)
				: DG_OK;
}

static dg_rc apply_overrides(struct load *l, struct dg_err *err)
{
	const char *key;
	json_t *v;
	json_object_foreach (l->types, key, v) {
		size_t i;
		for (i = 0; i < l->ncols; i++)
			if (strcmp(key, l->labels[i]) == 0 || strcmp(key, l->names[i]) == 0)
				break;
		if (i == l->ncols)
			return dg_err_field(err, DG_EINVAL, "types", "No column named \"%.60s\"",
					    key);
		if (!json_is_string(v) ||
		    dg_ds_type_parse(json_string_value(v), &l->type[i]) != DG_OK)
			return dg_err_field(err, DG_EINVAL, "types",
					    "Column \"%.60s\": the type must be text, int, "
					    "numeric, date or bool",
					    key);
	}
	return DG_OK;
}

/*
 * The records' estimate from a sample of them: the file's bytes at the
 * sample's rate (the reader's position is a chunk ahead of its record, so
 * this errs low by at most a chunk's worth; progress_total covers that).
 */
static int64_t estimate_records(FILE *fp, int64_t sampled)
{
	long at = ftell(fp);
	if (at <= 0 || fseek(fp, 0, SEEK_END) != 0)
		return sampled;
	long size = ftell(fp);
	return size > at ? (int64_t)((double)sampled * (double)size / (double)at) : sampled;
}

/*
 * Pass 1: infer each column's type over the first `limit` records, or
 * every record when limit is 0, and count them (estimate, when sampled).
 */
static dg_rc pass1(struct load *l, int64_t limit, struct dg_err *err)
{
	FILE *fp = NULL;
	struct dg_csv *c = NULL;
	struct dg_csv_row row;
	struct dg_ds_infer inf = {0};
	dg_rc rc = open_csv(l, &fp, &c, err);
	if (rc != DG_OK)
		return rc;
	if ((rc = read_header(l, c, err)) != DG_OK)
		goto out;
	dg_ds_infer_init(&inf, l->ncols);
	while ((limit == 0 || l->total < limit) && (rc = dg_csv_next(c, &row, err)) == DG_OK) {
		l->total++;
		if (row.ncols == l->ncols && !l->stage) /* staged columns are text */
			dg_ds_infer_add(&inf, row.ncols, row.f, row.n);
	}
	if (rc == DG_OK) { /* the limit: is there more? */
		rc = dg_csv_next(c, &row, err);
		if (rc == DG_OK) {
			l->sampled = true;
			l->total = estimate_records(fp, l->total);
			rc = DG_ENOTFOUND;
		}
	}
	if (rc != DG_ENOTFOUND)
		goto out;
	/* staged values stay as written: the caller checks them by its own types */
	for (size_t i = 0; i < l->ncols; i++)
		l->type[i] = l->stage ? DG_DS_TEXT : dg_ds_infer_type(&inf, i);
	rc = l->stage ? DG_OK : apply_overrides(l, err);
	if (rc != DG_OK || !l->sampled)
		goto out;
	l->from_sample = dg_xcalloc(l->ncols, 1);
	dg_ds_infer_init(&l->late, l->ncols);
	for (size_t i = 0; i < l->ncols; i++)
		if (!json_object_get(l->types, l->labels[i]) &&
		    !json_object_get(l->types, l->names[i]))
			l->from_sample[i] = inf.seen[i] ? 1 : 2;
out:
	dg_ds_infer_release(&inf);
	dg_csv_free(c);
	fclose(fp);
	return rc;
}

/* The value a column is written with: NULL for empty, 1/0 for booleans,
 * dates and timestamps as stored (dg_ds_value_norm, into buf). */
static const char *store_value(enum dg_ds_type t, const char *s, size_t n, char buf[DG_DS_NORM_MAX])
{
	if (n == 0)
		return NULL;
	if (t == DG_DS_BOOL)
		return (s[0] == 't' || s[0] == 'T' || s[0] == '1') ? "1" : "0";
	return dg_ds_value_norm(t, s, n, buf);
}

/* A batch is one transaction: its chunks' COPYs (or prepared INSERTs), then the progress. */
static dg_rc batch_open(struct load *l, struct dg_err *err)
{
	dg_rc rc = dg_db_begin(l->job->db);
	if (rc != DG_OK)
		return dg_err_set(err, rc, "The store is not available");
	l->nb = 0;
	l->batch_bytes = 0;
	return DG_OK;
}

/*
 * A pause after each committed batch, DGOV_LOAD_PAUSE_MS (0 to 10,000; none
 * by default): a node can keep a big load from crowding out the store's
 * other writers, and the crash test makes a load slow enough to interrupt.
 */
static void batch_pause(void)
{
	const char *v = getenv("DGOV_LOAD_PAUSE_MS");
	long ms = v ? strtol(v, NULL, 10) : 0;
	if (ms > 0 && ms <= 10000) {
		struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/*
 * End the batch's COPY (keep: its rows stay in the batch, or the batch
 * fails; PostgreSQL checks the rows it was sent only here).
 */
static dg_rc copy_close(struct load *l, bool keep, struct dg_err *err)
{
	dg_rc rc = dg_db_copy_end(l->copy, keep);
	l->copy = NULL;
	if (keep && rc != DG_OK)
		return dg_err_set(err, rc,
				  "Rows could not be written (the batch ending at row %lld)",
				  (long long)(l->rows + (int64_t)l->nb));
	return DG_OK;
}

/* End the batch: commit its rows with the job's progress, or drop them. */
static dg_rc batch_close(struct load *l, bool keep, struct dg_err *err)
{
	struct dg_db *db = l->job->db;
	dg_rc rc = copy_close(l, keep, err);
	if (!keep || rc != DG_OK) {
		dg_db_rollback(db);
		return rc;
	}
	rc = dg_job_save(l->job, l->rows + (int64_t)l->nb, progress_total(l), NULL);
	if (rc == DG_OK)
		rc = dg_db_commit(db);
	if (rc != DG_OK) {
		dg_db_rollback(db);
		return dg_err_set(err, rc,
				  "Rows could not be written (the batch ending at row %lld)",
				  (long long)(l->rows + (int64_t)l->nb));
	}
	l->rows += (int64_t)l->nb;
	batch_pause();
	return DG_OK;
}

/*
 * Does the record keep the sample's types? Whole-file inference narrows a
 * column's candidate types record by record and takes the first left
 * (dg_ds_infer_type); a value that allows the sample's type leaves that
 * type first, so the sample's types are the whole file's as long as every
 * later value fits them, and a column the sample saw empty stays text as
 * long as the rest of the file gives it no typed value (l->late, checked
 * at the end). Records of the wrong width count for neither, as in pass 1.
 */
static bool sample_holds(struct load *l, const struct dg_csv_row *row)
{
	for (size_t i = 0; i < l->ncols; i++) {
		if (l->from_sample[i] == 2)
			dg_ds_infer_add_one(&l->late, i, row->f[i], row->n[i]);
		else if (l->from_sample[i] == 1 &&
			 !dg_ds_value_ok(l->type[i], row->f[i], row->n[i]))
			return false;
	}
	return true;
}

/*
 * Check one record; DG_OK to keep it, DG_EINVAL (reported) to skip it,
 * DG_ECONFLICT (not reported) when it shows the sample's types wrong.
 */
static dg_rc check_row(struct load *l, const struct dg_csv_row *row, struct dg_err *err)
{
	char msg[200];
	if (row->ncols != l->ncols) {
		snprintf(msg, sizeof msg, "Line %ld: %zu fields, the header has %zu", row->line,
			 row->ncols, l->ncols);
		report(l, row->line, row->ncols < l->ncols ? row->ncols + 1 : l->ncols + 1, msg);
		return l->strict ? dg_err_set(err, DG_EINVAL, "%s", msg) : DG_EINVAL;
	}
	/* before the given types' checks: pass 1 infers from every record of the right width */
	if (l->sampled && !sample_holds(l, row))
		return DG_ECONFLICT;
	for (size_t i = 0; i < l->ncols; i++) {
		if (dg_ds_value_ok(l->type[i], row->f[i], row->n[i]))
			continue;
		snprintf(msg, sizeof msg, "Line %ld, column %zu (%.40s): \"%.40s\" is not %s",
			 row->line, i + 1, l->labels[i], row->f[i], dg_ds_type_name(l->type[i]));
		report(l, row->line, i + 1, msg);
		return l->strict ? dg_err_set(err, DG_EINVAL, "%s", msg) : DG_EINVAL;
	}
	if (l->stage && l->stage->check) {
		for (size_t i = 0; i < l->ncols; i++)
			l->vals[i] = row->n[i] ? row->f[i] : NULL;
		return l->stage->check(l->stage->ctx, row->line, l->vals, err);
	}
	return DG_OK;
}

/* ---- pass 2: a parser thread and the writer, a bounded queue between them ---- */

static struct chunk *chunk_new(size_t nvals)
{
	struct chunk *ch = dg_xcalloc(1, sizeof *ch);
	ch->nvals = nvals;
	ch->cap = 1u << 16;
	ch->data = dg_xmalloc(ch->cap);
	ch->off = dg_xmalloc(CHUNK_ROWS * nvals * sizeof *ch->off);
	ch->line = dg_xmalloc(CHUNK_ROWS * sizeof *ch->line);
	return ch;
}

static void chunk_free(struct chunk *ch)
{
	if (!ch)
		return;
	free(ch->data);
	free(ch->off);
	free(ch->line);
	free(ch);
}

/* Append one value (NULL: SQL NULL) to the chunk's current row. */
static void chunk_add(struct chunk *ch, const char *s)
{
	size_t k = ch->nrows * ch->nvals + ch->nv++;
	if (!s) {
		ch->off[k] = 0;
		return;
	}
	size_t n = strlen(s) + 1;
	if (ch->len + n > ch->cap) {
		while (ch->len + n > ch->cap)
			ch->cap *= 2;
		ch->data = dg_xrealloc(ch->data, ch->cap);
	}
	memcpy(ch->data + ch->len, s, n);
	ch->off[k] = ch->len + 1;
	ch->len += n;
}

/* Row r's values into out (ch->nvals of them, pointing into the chunk). */
static void chunk_vals(const struct chunk *ch, size_t r, const char **out)
{
	const size_t *off = ch->off + r * ch->nvals;
	for (size_t i = 0; i < ch->nvals; i++)
		out[i] = off[i] ? ch->data + off[i] - 1 : NULL;
}

/* One checked record, as written, into the chunk. */
static void chunk_row(struct load *l, struct chunk *ch, const struct dg_csv_row *row)
{
	char line[24];
	ch->nv = 0;
	for (size_t i = 0; i < l->ncols; i++) {
		l->vals[i] = store_value(l->type[i], row->f[i], row->n[i], l->norm[i]);
		chunk_add(ch, l->vals[i]);
		ch->bytes += row->n[i];
	}
	if (l->stage) {
		snprintf(line, sizeof line, "%ld", row->line);
		chunk_add(ch, line);
	}
	ch->line[ch->nrows++] = row->line;
}

/* Queue a full chunk, waiting while the queue is full; false when the writer gave up. */
static bool pipe_push(struct pipe *p, struct chunk *ch)
{
	pthread_mutex_lock(&p->mu);
	while (p->n >= QUEUE_MAX && !p->cancel)
		pthread_cond_wait(&p->cv, &p->mu);
	bool ok = !p->cancel;
	if (ok) {
		*(p->tail ? &p->tail->next : &p->head) = ch;
		p->tail = ch;
		p->n++;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return ok;
}

/* The next chunk, waiting for one; NULL once the parser has ended (p->rc says how). */
static struct chunk *pipe_pop(struct pipe *p)
{
	pthread_mutex_lock(&p->mu);
	while (!p->head && !p->done)
		pthread_cond_wait(&p->cv, &p->mu);
	struct chunk *ch = p->head;
	if (ch) {
		p->head = ch->next;
		if (!p->head)
			p->tail = NULL;
		p->n--;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return ch;
}

/*
 * The parser's last word: rc (ENOTFOUND: the whole file was read; ECONFLICT:
 * changed, the sample's types do not hold), the records read, its message.
 */
static void pipe_end(struct pipe *p, dg_rc rc, bool changed, int64_t records,
		     const struct dg_err *err)
{
	pthread_mutex_lock(&p->mu);
	p->done = true;
	p->rc = rc;
	p->changed = changed;
	p->records = records;
	p->err = *err;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static void pipe_cancel(struct pipe *p)
{
	pthread_mutex_lock(&p->mu);
	p->cancel = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/*
 * The parser thread: reads and checks every record after the header,
 * writes each kept one's values as stored into chunks
 * of CHUNK_ROWS rows or CHUNK_BYTES, and queues them. Bounded by the file;
 * stops early at a strict failure or when the writer cancels.
 */
static void *parse_main(void *arg)
{
	struct load *l = arg;
	struct dg_err err = {0};
	struct dg_csv_row row;
	struct chunk *ch = NULL;
	int64_t records = 0;
	bool changed = false;
	dg_rc rc;
	while ((rc = dg_csv_next(l->csv, &row, &err)) == DG_OK) {
		records++;
		dg_rc chk = check_row(l, &row, &err);
		if (chk == DG_ECONFLICT) {
			changed = true;
			break;
		}
		if (chk != DG_OK && l->strict) {
			rc = chk;
			break;
		}
		if (chk != DG_OK)
			continue;
		if (!ch)
			ch = chunk_new(l->ncopy);
		chunk_row(l, ch, &row);
		if (ch->nrows < CHUNK_ROWS && ch->len < CHUNK_BYTES)
			continue;
		if (!pipe_push(&l->pipe, ch))
			break; /* the writer gave up: its rc stands */
		ch = NULL;
	}
	/* a column the sample saw empty that the file then gave typed values */
	for (size_t i = 0; rc == DG_ENOTFOUND && l->sampled && i < l->ncols; i++)
		changed |= l->from_sample[i] == 2 && dg_ds_infer_type(&l->late, i) != DG_DS_TEXT;
	if (changed)
		rc = DG_ECONFLICT;
	if (rc == DG_ENOTFOUND && ch && pipe_push(&l->pipe, ch))
		ch = NULL;
	chunk_free(ch);
	pipe_end(&l->pipe, rc, changed, records, &err);
	return NULL;
}

/*
 * A chunk's rows into the table, in the open batch: into the batch's one
 * COPY (begun by its first chunk), so a batch is one statement and one
 * round trip at its end however many chunks it holds.
 */
static dg_rc write_chunk(struct load *l, const struct chunk *ch, const char **v, struct dg_err *err)
{
	size_t r = 0;
	dg_rc rc = DG_OK;
	if (!l->copy)
		rc = dg_db_copy_begin(l->job->db, l->table, (const char *const *)l->cols, l->ncopy,
				      &l->copy);
	for (; rc == DG_OK && r < ch->nrows; r++) {
		chunk_vals(ch, r, v);
		rc = dg_db_copy_row(l->copy, v);
	}
	/* a refusal shows at a later row than its own (store.h): the batch is named, not a line */
	if (rc != DG_OK) {
		(void)copy_close(l, false, NULL);
		return dg_err_set(err, rc,
				  "Rows could not be written (the batch ending at row %lld)",
				  (long long)(l->rows + (int64_t)l->nb + (int64_t)r));
	}
	l->nb += ch->nrows;
	l->batch_bytes += ch->bytes;
	return DG_OK;
}

/*
 * Pass 2: the parser thread reads, checks and converts the records while
 * this (the job's) thread writes them, one batch a transaction. At most
 * QUEUE_MAX chunks wait between the two (the parser waits when the writer
 * is behind), so memory stays a few chunks whatever the file's size. A
 * parser's error arrives after the chunks before it, with its line; a
 * writer's error or a stop cancels the parser, and a batch not committed
 * is rolled back.
 *
 * The batches commit lazily (dg_db_set_lazy: SQLite synchronous=NORMAL,
 * PostgreSQL synchronous_commit=off), not waiting for the disk. Safe, as
 * nothing acknowledges them: the table is the attempt's own until finish
 * switches it in, a crash before that restarts the job, which drops the
 * table whatever part of it was kept, and finish commits durably. Both
 * stores' logs are written in order (one WAL), so the switch's durable
 * commit makes every batch before it durable too. Neither setting can
 * corrupt the store (SQLite's WAL under NORMAL stays consistent; OFF
 * could not promise that, so it is not used).
 */
static dg_rc pass2(struct load *l, struct dg_err *err)
{
	FILE *fp = NULL;
	struct dg_csv_row row;
	struct chunk *ch;
	pthread_t th;
	bool started = false, open = false;
	const char **v = NULL;
	dg_rc rc = open_csv(l, &fp, &l->csv, err);
	if (rc != DG_OK)
		return rc;
	memset(&l->pipe, 0, sizeof l->pipe);
	pthread_mutex_init(&l->pipe.mu, NULL);
	pthread_cond_init(&l->pipe.cv, NULL);
	if ((rc = dg_csv_next(l->csv, &row, err)) != DG_OK) /* the header again */
		goto out;
	free(l->vals);
	free(l->norm);
	l->vals = dg_xcalloc(l->ncols + 1, sizeof *l->vals);
	l->norm = dg_xcalloc(l->ncols, sizeof *l->norm);
	v = dg_xcalloc(l->ncopy, sizeof *v);
	if ((rc = dg_db_set_lazy(l->job->db, true)) != DG_OK || (rc = batch_open(l, err)) != DG_OK)
		goto out;
	open = true;
	if (pthread_create(&th, NULL, parse_main, l) != 0) {
		rc = dg_err_set(err, DG_EIO, "The loader could not start");
		goto out;
	}
	started = true;
	while ((ch = pipe_pop(&l->pipe)) != NULL) {
		rc = write_chunk(l, ch, v, err);
		chunk_free(ch);
		if (rc == DG_OK && dg_job_stopping(l->job))
			rc = dg_err_set(err, DG_EUNAVAIL, "The server is stopping");
		if (rc != DG_OK)
			goto out;
		if (l->nb < batch_rows() && l->batch_bytes < BATCH_BYTES)
			continue;
		open = false;
		if ((rc = batch_close(l, true, err)) != DG_OK)
			goto out;
		if ((rc = batch_open(l, err)) != DG_OK)
			goto out;
		open = true;
	}
	rc = l->pipe.rc;
	if (l->pipe.changed) {
		rc = DG_ECONFLICT; /* the caller loads again; nothing to report */
		l->retype = true;
		goto out;
	}
	if (rc != DG_ENOTFOUND) {
		if (err)
			*err = l->pipe.err;
		goto out;
	}
	l->total = l->pipe.records; /* exact now, estimated while sampled */
	open = false;
	rc = batch_close(l, true, err);
out:
	if (started) {
		pipe_cancel(&l->pipe);
		pthread_join(th, NULL);
		while ((ch = l->pipe.head) != NULL) {
			l->pipe.head = ch->next;
			chunk_free(ch);
		}
	}
	if (open && batch_close(l, false, err) != DG_OK)
		rc = DG_EDB;
	if (dg_db_set_lazy(l->job->db, false) != DG_OK && rc == DG_OK)
		rc = dg_err_set(err, DG_EDB, "The store is not available");
	pthread_cond_destroy(&l->pipe.cv);
	pthread_mutex_destroy(&l->pipe.mu);
	free(v);
	dg_csv_free(l->csv);
	l->csv = NULL;
	fclose(fp);
	return rc;
}

/*
 * The new table's fields. A column's info starts as {"label": its header},
 * the options' "info" ({"col": {"label", "label_en"}}: the demo's labels)
 * over it, and a column of the same id in the table being replaced keeps
 * its info over both (the labels staff gave it survive a reload).
 */
static json_t *fields_json(const struct load *l, json_t *info)
{
	json_t *a = json_array();
	struct dg_ds_table prev = {0};
	if (dg_ds_sql_lookup(l->job->db, l->resource_id, &prev) != DG_OK)
		prev.fields = NULL;
	for (size_t i = 0; i < l->ncols; i++) {
		json_t *in = json_pack("{s:s}", "label", l->labels[i]), *f;
		json_t *given = json_object_get(info, l->names[i]);
		if (json_is_object(given))
			json_object_update(in, given);
		size_t k;
		json_array_foreach (prev.fields, k, f) {
			const char *id = json_string_value(json_object_get(f, "id"));
			json_t *old = json_object_get(f, "info");
			if (id && strcmp(id, l->names[i]) == 0 && json_is_object(old))
				json_object_update(in, old);
		}
		json_array_append_new(a, json_pack("{s:s, s:s, s:o}", "id", l->names[i], "type",
						   dg_ds_type_name(l->type[i]), "info", in));
	}
	json_decref(prev.fields);
	return a;
}

/*
 * The switch, the old table's drop and the job's result in one
 * transaction: from its commit readers see every row of the new table.
 * Its full-text index (index_words) and the columns' indexes follow.
 */
static dg_rc finish(struct load *l, json_t *fields, json_t *result, struct dg_err *err)
{
	struct dg_db *db = l->job->db;
	char old[DG_DS_TABLE_MAX];
	dg_rc rc = dg_db_begin(db);
	if (rc != DG_OK)
		return dg_err_set(err, rc, "The store is not available");
	rc = dg_ds_sql_switch(db, l->resource_id, l->table, fields, l->rows, result, old);
	if (rc == DG_OK && old[0] && strcmp(old, l->table) != 0)
		rc = dg_ds_sql_drop(db, old);
	if (rc == DG_OK)
		rc = dg_job_result(l->job, result);
	if (rc == DG_OK)
		rc = dg_job_save(l->job, l->rows, l->total, NULL);
	if (rc == DG_OK)
		rc = dg_db_commit(db);
	if (rc != DG_OK) {
		dg_db_rollback(db);
		return dg_err_set(err, rc, "The new table could not be put in place");
	}
	return DG_OK;
}

/*
 * The live table's full-text index, batch by batch, each batch a
 * transaction with the job's progress (rows indexed of rows), which holds
 * the table's writers back (PostgreSQL: the row lock their writes take;
 * SQLite has one writer) so that dg_ds_fts_refill sees its rows as they
 * are; the last builds the GIN index and records the index as built, from
 * which q reads it. Stops without error when the table is no longer the
 * resource's (replaced or dropped meanwhile). A stop or a crash leaves the
 * index unrecorded: the retry or the start's rebuild makes it whole. That
 * makes lazy commits safe here as in pass 2: a batch lost in a crash takes
 * every later one with it (the stores' logs are in order), the index's
 * record among them.
 */
static dg_rc index_words(struct load *l, struct dg_err *err)
{
	struct dg_db *db = l->job->db;
	const char *lock =
		dg_db_kind(db) == DG_STORE_PG
			? "SELECT table_name FROM datastore_tables WHERE resource_id = ?"
			  " FOR UPDATE"
			: "SELECT table_name FROM datastore_tables WHERE resource_id = ?";
	struct dg_ds_table t = {0};
	struct dg_ds_col *cols = NULL;
	size_t ncols = 0;
	int64_t after = 0, done = 0;
	long n = 0, batch = (long)batch_rows();
	dg_rc rc = dg_ds_sql_lookup(db, l->resource_id, &t);
	if (rc == DG_OK)
		cols = dg_ds_cols(&t, &ncols);
	if (rc == DG_OK)
		rc = dg_db_set_lazy(db, true);
	while (rc == DG_OK) {
		struct dg_rows *rows = NULL;
		bool ours = false;
		if ((rc = dg_db_begin(db)) != DG_OK)
			break;
		rc = dg_db_query(db, lock, DG_ARGS(DG_VT(l->resource_id)), &rows);
		if (rc == DG_OK && (rc = dg_rows_next(rows)) == DG_OK)
			ours = strcmp(dg_rows_text(rows, 0), l->table) == 0;
		dg_rows_free(rows);
		if (rc == DG_ENOTFOUND || (rc == DG_OK && !ours)) {
			dg_db_rollback(db);
			rc = DG_OK;
			break;
		}
		if (rc == DG_OK)
			rc = dg_ds_fts_refill(db, l->table, cols, ncols, &after, batch, &n);
		done += n;
		if (rc == DG_OK && n < batch)
			rc = dg_ds_fts_index_build(db, l->table);
		if (rc == DG_OK)
			rc = dg_job_save(l->job, done, t.row_count, NULL);
		if (rc == DG_OK)
			rc = dg_db_commit(db);
		if (rc != DG_OK)
			dg_db_rollback(db);
		if (rc != DG_OK || n < batch)
			break;
		if (dg_job_stopping(l->job))
			rc = DG_EUNAVAIL;
		else
			batch_pause();
	}
	json_decref(t.fields);
	free(cols);
	if (dg_db_set_lazy(db, false) != DG_OK && rc == DG_OK)
		rc = DG_EDB;
	if (rc == DG_ENOTFOUND) /* dropped meanwhile */
		return DG_OK;
	return rc ? dg_err_set(err, rc, "The table's words could not be indexed") : DG_OK;
}

/*
 * Is this job's table already the resource's (an attempt died after the
 * switch, while indexing)? Then only the indexes are left to build: its
 * full-text index unless the start's rebuild made it, and the columns'.
 */
static dg_rc switched(struct load *l, bool *out)
{
	struct dg_ds_table t;
	dg_rc rc = dg_ds_sql_lookup(l->job->db, l->resource_id, &t);
	*out = false;
	if (rc == DG_ENOTFOUND)
		return DG_OK;
	if (rc != DG_OK)
		return rc;
	*out = strcmp(t.table, l->table) == 0;
	json_decref(t.fields);
	return DG_OK;
}

/* Indexes on a live table: readers go on meanwhile; one that cannot be
 * built (a PostgreSQL text value too long for a b-tree) is left out. */
static dg_rc build_indexes(struct load *l)
{
	struct dg_ds_table t;
	dg_rc rc = dg_ds_sql_lookup(l->job->db, l->resource_id, &t);
	if (rc != DG_OK)
		return rc;
	size_t n = json_array_size(t.fields);
	char(*names)[DG_DS_NAME_MAX] = dg_xcalloc(n + 1, sizeof *names);
	for (size_t i = 0; i < n; i++)
		snprintf(names[i], DG_DS_NAME_MAX, "%s",
			 json_string_value(json_object_get(json_array_get(t.fields, i), "id")));
	rc = dg_ds_sql_index(l->job->db, l->table, n, names);
	free(names);
	json_decref(t.fields);
	return rc;
}

/* What pass 1 and pass 2 made of the file, so that it can be read afresh. */
static void load_reset(struct load *l)
{
	free(l->vals);
	free(l->norm);
	free(l->cols);
	for (size_t i = 0; l->labels && i < l->ncols; i++)
		free(l->labels[i]);
	free(l->labels);
	free(l->names);
	free(l->type);
	free(l->from_sample);
	dg_ds_infer_release(&l->late);
	l->vals = NULL;
	l->norm = NULL;
	l->cols = NULL;
	l->labels = NULL;
	l->names = NULL;
	l->type = NULL;
	l->from_sample = NULL;
	l->ncols = l->ncopy = 0;
	l->total = l->rows = l->bad = 0;
	l->sampled = l->retype = false;
	json_array_clear(l->errors);
}

static void load_release(struct load *l)
{
	load_reset(l);
	json_decref(l->errors);
}

/*
 * The file into the job's new table: pass 1 over the first `limit`
 * records (0: all), the table, pass 2. DG_ECONFLICT when a sampled pass 1
 * proved wrong (the table is then the caller's to drop).
 */
static dg_rc copy_file(struct load *l, int64_t limit, struct dg_err *err)
{
	dg_rc rc = pass1(l, limit, err);
	if (rc != DG_OK)
		return rc;
	if ((rc = dg_ds_sql_create(l->job->db, l->table, l->ncols, l->names, l->type)) != DG_OK ||
	    (rc = dg_ds_fts_create_unindexed(l->job->db, l->table)) != DG_OK)
		return dg_err_set(err, rc, "The table could not be created");
	return pass2(l, err);
}

dg_rc dg_ds_load_run(struct dg_job *job, struct dg_err *err)
{
	struct load l = {.job = job};
	json_t *opts = json_object_get(job->payload, "options");
	json_t *fields = NULL, *result = NULL;
	dg_rc rc = DG_EINVAL;
	l.resource_id = json_string_value(json_object_get(job->payload, "resource_id"));
	l.path = json_string_value(json_object_get(job->payload, "path"));
	l.strict = json_is_true(json_object_get(opts, "strict"));
	l.tabs = json_is_true(json_object_get(opts, "tabs"));
	l.types = json_object_get(opts, "types");
	l.errors = json_array();
	if (!l.resource_id || !l.path) {
		rc = dg_err_set(err, DG_EINVAL, "The job needs resource_id and path");
		goto out;
	}
	if (l.types && !json_is_object(l.types)) {
		rc = dg_err_field(err, DG_EINVAL, "types", "types must be an object");
		goto out;
	}
	dg_ds_table_name(l.resource_id, job->id, l.table);
	bool live = false;
	if ((rc = switched(&l, &live)) != DG_OK)
		goto out;
	if (live) {
		struct dg_ds_fts f;
		bool stale = false;
		dg_ds_fts_init(&f, l.table);
		if ((rc = dg_search_stale(job->db, f.name, &stale)) == DG_OK && stale)
			rc = index_words(&l, err);
		if (rc == DG_OK)
			rc = build_indexes(&l);
		goto out;
	}
	/* a previous attempt may have died half way: its table is ours to drop */
	if ((rc = dg_ds_sql_drop(job->db, l.table)) != DG_OK)
		goto out;
	rc = copy_file(&l, SAMPLE_ROWS, err);
	if (l.retype) {
		/* the sample's types were wrong: the file again, typed by all of it */
		dg_info("datastore: %s: a late value changes the inferred types; loading again",
			l.resource_id);
		load_reset(&l);
		if ((rc = dg_ds_sql_drop(job->db, l.table)) == DG_OK)
			rc = copy_file(&l, 0, err);
	}
	if (rc != DG_OK) {
		/* a file over the caps never loads: fail at once, no retries */
		if (rc == DG_ETOOBIG)
			rc = DG_EINVAL;
		goto drop;
	}
	fields = fields_json(&l, json_object_get(opts, "info"));
	/* source: what a reload (datastore_load) starts from */
	result = json_pack("{s:s, s:I, s:I, s:O, s:O, s:{s:s, s:O?}}", "table", l.table, "rows",
			   (json_int_t)l.rows, "bad_rows", (json_int_t)l.bad, "errors", l.errors,
			   "fields", fields, "source", "path", l.path, "options", opts);
	if ((rc = finish(&l, fields, result, err)) == DG_OK) {
		if ((rc = index_words(&l, err)) == DG_OK)
			rc = build_indexes(&l);
		goto out;
	}
drop:
	/* a failed load leaves nothing behind; the old table stays in force */
	if (dg_ds_sql_drop(job->db, l.table) != DG_OK)
		rc = DG_EDB;
out:
	json_decref(fields);
	json_decref(result);
	load_release(&l);
	return rc;
}

/* ---- private staging (datastore.h) ---- */

static void stage_table(int64_t job_id, char out[DG_DS_TABLE_MAX])
{
	snprintf(out, DG_DS_TABLE_MAX, DG_DS_STAGE_PREFIX "%lld", (long long)job_id);
}

/*
 * Read up to n staged records after _id `after` into memory (an array of
 * [_id, line, v1, ...], owned): the caller's writes then run on the same
 * connection with no statement of ours open.
 */
static dg_rc stage_page(struct load *l, int64_t after, size_t n, json_t **out)
{
	char sql[160];
	struct dg_rows *rows = NULL;
	snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" WHERE \"_id\" > ? ORDER BY \"_id\" LIMIT ?",
		 l->table);
	dg_rc rc = dg_db_query(l->job->db, sql, DG_ARGS(DG_VI(after), DG_VI((int64_t)n)), &rows);
	*out = json_array();
	while (rc == DG_OK && (rc = dg_rows_next(rows)) == DG_OK) {
		/* columns: _id, the file's columns, _line */
		json_t *rec = json_pack("[I,I]", (json_int_t)dg_rows_int(rows, 0),
					(json_int_t)dg_rows_int(rows, (int)l->ncols + 1));
		for (size_t i = 0; i < l->ncols; i++)
			json_array_append_new(
				rec, dg_rows_isnull(rows, (int)i + 1)
					     ? json_null()
					     : json_string(dg_rows_text(rows, (int)i + 1)));
		json_array_append_new(*out, rec);
	}
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND)
		return DG_OK;
	json_decref(*out);
	*out = NULL;
	return rc;
}

/* A staged record's values into l->vals (borrowed from rec); its line. */
static long stage_vals(struct load *l, json_t *rec)
{
	for (size_t c = 0; c < l->ncols; c++)
		l->vals[c] = json_string_value(json_array_get(rec, c + 2));
	return (long)json_integer_value(json_array_get(rec, 1));
}

/* Every staged record through verify, page by page, writing nothing. */
static dg_rc stage_verify(struct load *l, size_t batch, struct dg_err *err)
{
	int64_t last = 0;
	for (;;) {
		json_t *page = NULL, *rec;
		size_t i;
		dg_rc rc = stage_page(l, last, batch, &page);
		if (rc != DG_OK)
			return dg_err_set(err, rc, "The staged records could not be read");
		json_array_foreach (page, i, rec) {
			long line = stage_vals(l, rec);
			rc = l->stage->verify(l->stage->ctx, l->job->db, line, l->vals, err);
			if (rc != DG_OK)
				break;
			last = json_integer_value(json_array_get(rec, 0));
		}
		size_t n = json_array_size(page);
		json_decref(page);
		if (rc != DG_OK || n < batch)
			return rc;
	}
}

/* One batch of staged records through apply, committed with the progress and checkpoint. */
static dg_rc stage_apply_batch(struct load *l, json_t *page, int64_t *last, struct dg_err *err)
{
	struct dg_db *db = l->job->db;
	size_t i;
	json_t *rec;
	dg_rc rc = dg_db_begin(db);
	if (rc != DG_OK)
		return dg_err_set(err, rc, "The store is not available");
	json_array_foreach (page, i, rec) {
		long line = stage_vals(l, rec);
		if ((rc = l->stage->apply(l->stage->ctx, db, line, l->vals, err)) != DG_OK)
			goto out;
		*last = json_integer_value(json_array_get(rec, 0));
	}
	json_t *cp = json_pack("{s:I}", "applied", (json_int_t)*last);
	rc = dg_job_save(l->job, l->total + *last, progress_total(l), cp);
	json_decref(cp);
	if (rc == DG_OK)
		rc = dg_db_commit(db);
out:
	if (rc != DG_OK)
		dg_db_rollback(db);
	return rc;
}

/*
 * Every staged record through apply, in _id (file) order. _id counts the
 * records from 1 in the order they were copied, so the same file staged again
 * by a retry gives the same ids, and the checkpoint's last applied one says
 * where to go on.
 */
static dg_rc stage_apply(struct load *l, int64_t *applied, struct dg_err *err)
{
	size_t batch = l->stage->apply_batch ? l->stage->apply_batch : 500;
	int64_t last = json_integer_value(json_object_get(l->job->checkpoint, "applied"));
	dg_rc rc = DG_OK;
	if (l->stage->verify && (rc = stage_verify(l, batch, err)) != DG_OK)
		return rc;
	for (;;) {
		json_t *page = NULL;
		/* a test holds a load here to look at it from outside (slow) */
		if ((rc = dg_failpoint_hit("datastore.stage.batch")) != DG_OK)
			return dg_err_set(err, rc, "The store is not available");
		if ((rc = stage_page(l, last, batch, &page)) != DG_OK)
			return dg_err_set(err, rc, "The staged records could not be read");
		size_t n = json_array_size(page);
		if (n)
			rc = stage_apply_batch(l, page, &last, err);
		json_decref(page);
		if (rc != DG_OK || n < batch)
			break;
		if (dg_job_stopping(l->job))
			return dg_err_set(err, DG_EUNAVAIL, "The server is stopping");
	}
	*applied = last;
	return rc;
}

dg_rc dg_datastore_stage(struct dg_job *job, const char *path, const struct dg_ds_stage *cb,
			 int64_t *rows, struct dg_err *err)
{
	struct load l = {.job = job, .path = path, .strict = true, .stage = cb};
	dg_rc rc;
	l.errors = json_array();
	*rows = 0;
	stage_table(job->id, l.table);
	/* a previous attempt may have died half way: its table is ours to drop */
	if ((rc = dg_ds_sql_drop(job->db, l.table)) != DG_OK)
		goto out;
	if ((rc = pass1(&l, 0, err)) != DG_OK) {
		if (rc == DG_ETOOBIG) /* over the reader's caps: never loads */
			rc = DG_EINVAL;
		goto out;
	}
	if ((rc = dg_ds_sql_create(job->db, l.table, l.ncopy, l.names, l.type)) != DG_OK) {
		rc = dg_err_set(err, rc, "The staging table could not be created");
		goto out;
	}
	if ((rc = pass2(&l, err)) == DG_OK)
		rc = stage_apply(&l, rows, err);
	/* staged values never outlive the attempt, whatever happened */
	if (dg_ds_sql_drop(job->db, l.table) != DG_OK && rc == DG_OK)
		rc = dg_err_set(err, DG_EDB, "The staging table could not be dropped");
out:
	load_release(&l);
	return rc;
}

dg_rc dg_ds_stage_sweep_run(struct dg_job *job, struct dg_err *err)
{
	struct dg_rows *rows = NULL;
	/* '_' is a LIKE wildcard: the prefix is matched by substr instead */
	const char *q =
		dg_db_kind(job->db) == DG_STORE_PG
			? "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
			  " AND substr(tablename, 1, 4) = '" DG_DS_STAGE_PREFIX "'"
			: "SELECT name FROM sqlite_master WHERE type = 'table'"
			  " AND substr(name, 1, 4) = '" DG_DS_STAGE_PREFIX "'";
	json_t *names = json_array();
	dg_rc rc = dg_db_query(job->db, q, DG_NOARGS, &rows);
	while (rc == DG_OK && (rc = dg_rows_next(rows)) == DG_OK)
		json_array_append_new(names, json_string(dg_rows_text(rows, 0)));
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND)
		rc = DG_OK;
	size_t i;
	json_t *v;
	json_array_foreach (names, i, v) {
		const char *t = json_string_value(v);
		char *end = NULL;
		long long id = strtoll(t + strlen(DG_DS_STAGE_PREFIX), &end, 10);
		int64_t running = 0;
		if (rc != DG_OK || !end || *end || id <= 0)
			continue;
		/* a running attempt owns its table; any other state means it is left over */
		rc = dg_db_query_int(job->db,
				     "SELECT COUNT(*) FROM jobs WHERE id = ? AND state = 'running'",
				     DG_ARGS(DG_VI(id)), &running);
		if (rc == DG_OK && !running)
			rc = dg_ds_sql_drop(job->db, t);
	}
	json_decref(names);
	return rc != DG_OK ? dg_err_set(err, rc, "Staging tables could not be swept") : DG_OK;
}
