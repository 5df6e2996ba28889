/*
 * dump.c - GET /datastore/dump/{resource_id}: a whole table (or the rows
 * its filters and q select) as CSV, TSV, JSON or XLSX, as CKAN's dump does:
 * ?format=csv|tsv|json|xlsx (csv by default), &bom=true for a UTF-8 byte
 * order mark (csv, tsv; off unless asked, as CKAN's: dgov's own pages ask,
 * for Excel on Chinese Windows), &filters= &q= &fields= &limit=, and
 * &labels=zh|en for a header row of the columns' labels (info.label,
 * info.label_en; a column without one keeps its name) instead of names.
 * The file is named after the dataset's title and the resource's name
 * (RFC 5987 filename*, with the dataset's ASCII name as the plain filename).
 *
 * A text cell of CSV, TSV or XLSX that begins with =, +, -, @, a tab or a
 * carriage return is written after a single quote, as OWASP advises against
 * formula injection: a spreadsheet shows it as text instead of running it.
 * &raw=true, for programs that read the file, keeps every cell as stored.
 *
 * Rows are read in pages by keyset on "_id" (each page one short query
 * under the read budget, never an OFFSET scan): at most PAGE rows, and a
 * page stops early once CHUNK bytes of it are formatted. CSV, TSV and JSON
 * are streamed (req.h, dg_reply_stream): the handler checks everything and
 * reads the first page on the request's connection, so a bad request or a
 * store that fails at once still gets its error status; then each later
 * page borrows a store connection, reads, and gives it back before its
 * bytes are sent. Memory is one page and its formatted text, whatever the
 * table's size, and a slow client holds no connection between pages (only
 * its dump slot). A page that fails once the headers are out cuts the
 * transfer off (the client sees an incomplete download) and is logged.
 *
 * XLSX is not streamed: libxlsxwriter writes the sheet's XML to its own
 * temporary file and deflates it into a named workbook when closed (xlsx.h),
 * which is then sent with dg_reply_file. It is capped at DG_DS_XLSX_MAX bytes
 * of sheet XML (and Excel's rows), a 413 that says to narrow it or use CSV,
 * and XLSX_AT_ONCE are built at once on the whole server (429 past that).
 *
 * Pages are separate statements, so rows written while a dump runs may or
 * may not be in it; no row appears twice. Access is checked when the dump
 * starts and, for a caller who is not the table's department, again before
 * each later page: once the dataset is deleted, closed or made private, or
 * the caller's grant to conditional data ends, the download is cut off.
 * HEAD answers with the headers a GET would, after the same checks, and
 * reads no rows (nor counts a download).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/env.h"
#include "web/page.h"
#include "core/failpoint.h"
#include "core/buf.h"
#include "core/csv.h"
#include "core/log.h"
#include "core/mem.h"
#include "opendata/datastore/datastore.h"
#include "opendata/access/access.h"
#include "opendata/datastore/filter.h"
#include "opendata/datastore/datastore_int.h"
#include "opendata/datastore/fts.h"
#include "opendata/datastore/xlsx.h"

#define PAGE         1000                /* rows one page query asks for */
#define CHUNK        ((size_t)256 << 10) /* a page stops once this much text is made */
#define XLSX_AT_ONCE 4                   /* XLSX files being built, server-wide */

enum fmt { F_CSV, F_TSV, F_JSON, F_XLSX };

static const struct {
	const char *name, *ext, *type;
} formats[] = {
	{"csv", "csv", "text/csv; charset=utf-8"},
	{"tsv", "tsv", "text/tab-separated-values; charset=utf-8"},
	{"json", "json", "application/json; charset=utf-8"},
	{"xlsx", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
};

/*
 * One dump. Heap-owned and self-contained: a streamed dump outlives its
 * request (req.h), so nothing here points into the request's arena.
 */
struct dump {
	struct dg_store *store; /* where a streamed page borrows its connection */
	char req_id[17];        /* the request's id, for the log */
	struct dg_ds_table t;   /* t.fields owned */
	struct dg_ds_col *cols; /* borrow names from t.fields */
	size_t ncols;
	size_t *sel, nsel;
	struct dg_ds_where w;
	enum fmt f;
	bool raw;            /* &raw=true: text cells as stored, no formula guard */
	const char *labels;  /* &labels=: NULL (names), "label" or "label_en" */
	int64_t limit;       /* rows at most (&limit=) */
	int64_t rows;        /* rows written so far */
	int64_t last;        /* "_id" of the last row written (keyset) */
	bool ended;          /* the last page was read and the tail written */
	struct dg_buf sql;   /* the page query being built */
	struct dg_buf first; /* made before the reply: the head and the first page */
	int slot;            /* the caller's dump slot, -1 when none */
	char *rid;           /* the resource, when each page must check access again */
	int64_t app_id;      /* the caller's app (0: none), for that check */
	/* XLSX */
	struct dg_xlsx *x;
	char xlsx_path[PATH_MAX]; /* the workbook until it is opened as fp and unlinked */
	FILE *fp;
	bool to_file; /* dg_ds_dump_file: the workbook stays where it is written */
};

/* The header cell of output column i: its label when asked for and given, else its name. */
static const char *head_name(const struct dump *d, size_t i)
{
	const char *id = d->cols[d->sel[i]].id;
	json_t *f;
	size_t k;
	if (!d->labels)
		return id;
	json_array_foreach (d->t.fields, k, f) {
		const char *fid = json_string_value(json_object_get(f, "id"));
		const char *l =
			json_string_value(json_object_get(json_object_get(f, "info"), d->labels));
		if (fid && strcmp(fid, id) == 0)
			return l && *l ? l : id;
	}
	return id;
}

/*
 * Dumps running at once, per caller (the app key's app, else the peer's
 * address): each holds a slot for as long as it runs (a streamed one until
 * its last page is read or its client leaves; no store connection between
 * pages), so one caller may run DUMPS_PER_CALLER and the server DUMP_SLOTS
 * (slots of different callers); the rest are answered 429 at once.
 */
#define DUMPS_PER_CALLER 2
#define DUMP_SLOTS       32

static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char who[64];
	int n;
} slots[DUMP_SLOTS];
static atomic_int xlsx_running;
static _Atomic uint64_t xlsx_max = DG_DS_XLSX_MAX;

const char *dg_datastore_dump_type(const char *format)
{
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if (strcmp(format, formats[i].name) == 0)
			return formats[i].type;
	return formats[F_CSV].type;
}

void dg_datastore_set_xlsx_max(uint64_t bytes)
{
	xlsx_max = bytes ? bytes : DG_DS_XLSX_MAX;
}

/* A slot for who: its index, or -1 when who runs its most or none is free. */
static int slot_take(const char *who)
{
	int got = -1, free_slot = -1;
	pthread_mutex_lock(&slots_mu);
	for (int i = 0; i < DUMP_SLOTS && got < 0; i++) {
		if (slots[i].n > 0 && strcmp(slots[i].who, who) == 0)
			got = slots[i].n < DUMPS_PER_CALLER ? i : DUMP_SLOTS;
		else if (slots[i].n == 0 && free_slot < 0)
			free_slot = i;
	}
	if (got < 0 && free_slot >= 0) {
		got = free_slot;
		snprintf(slots[got].who, sizeof slots[got].who, "%s", who);
	}
	if (got == DUMP_SLOTS)
		got = -1;
	if (got >= 0)
		slots[got].n++;
	pthread_mutex_unlock(&slots_mu);
	return got;
}

static void slot_put(int i)
{
	if (i < 0)
		return;
	pthread_mutex_lock(&slots_mu);
	slots[i].n--;
	pthread_mutex_unlock(&slots_mu);
}

/* Everything a dump holds, its slot last; NULL is a no-op. */
static void dump_free(struct dump *d)
{
	if (!d)
		return;
	dg_xlsx_free(d->x);
	if (d->xlsx_path[0])
		unlink(d->xlsx_path);
	if (d->fp)
		fclose(d->fp);
	dg_buf_release(&d->sql);
	dg_buf_release(&d->first);
	dg_ds_where_release(&d->w);
	free(d->cols);
	free(d->sel);
	json_decref(d->t.fields);
	slot_put(d->slot);
	free(d->rid);
	free(d);
}

static void tmp_dir(struct dg_req *r, char dir[512])
{
	snprintf(dir, 512, "%s/tmp", r->env ? r->env->cfg->data_dir : "/tmp");
}

/* The query string as datastore_search parameters. */
static json_t *params_of(struct dg_req *r)
{
	json_t *o = json_object();
	for (size_t i = 0; i < r->query.n; i++)
		json_object_set_new(o, r->query.v[i].key,
				    json_stringn(r->query.v[i].val, r->query.v[i].len));
	return o;
}

/* fields=a,b or a JSON list: the output columns (all by default). */
static dg_rc select_cols(struct dump *d, json_t *params, struct dg_err *err)
{
	const char *s = json_string_value(json_object_get(params, "fields"));
	json_t *list = NULL;
	dg_rc rc = DG_OK;
	d->sel = dg_xcalloc(d->ncols, sizeof *d->sel);
	if (!s || !*s) {
		for (size_t i = 0; i < d->ncols; i++)
			d->sel[d->nsel++] = i;
		return DG_OK;
	}
	list = s[0] == '[' ? json_loads(s, 0, NULL) : NULL;
	for (size_t i = 0; rc == DG_OK;) {
		char name[DG_DS_NAME_MAX + 1] = "";
		if (list) {
			if (i >= json_array_size(list))
				break;
			snprintf(name, sizeof name, "%s",
				 json_string_value(json_array_get(list, i))
					 ? json_string_value(json_array_get(list, i))
					 : "");
			i++;
		} else {
			size_t n = strcspn(s + i, ",");
			if (n == 0 && !s[i])
				break;
			snprintf(name, sizeof name, "%.*s",
				 (int)(n < DG_DS_NAME_MAX ? n : DG_DS_NAME_MAX), s + i);
			i += n + (s[i + n] == ',');
		}
		const struct dg_ds_col *c = dg_ds_col_find(d->cols, d->ncols, name);
		if (!c || d->nsel >= d->ncols)
			rc = dg_err_field(err, DG_EINVAL, "fields", "field \"%.60s\" not in table",
					  name);
		else
			d->sel[d->nsel++] = (size_t)(c - d->cols);
	}
	json_decref(list);
	if (rc == DG_OK && d->nsel == 0)
		rc = dg_err_field(err, DG_EINVAL, "fields", "No fields");
	return rc;
}

/*
 * A workbook is written by name (libxlsxwriter opens its file itself): a
 * new name in the data folder's tmp, or in /tmp, with the sheet's own
 * temporary file beside it.
 */
static dg_rc xlsx_start(struct dump *d, struct dg_req *r)
{
	char dir[512];
	tmp_dir(r, dir);
	for (int i = 0; i < 2; i++) {
		snprintf(d->xlsx_path, sizeof d->xlsx_path, "%s/dgov-dump-XXXXXX",
			 i ? "/tmp" : dir);
		int fd = mkstemp(d->xlsx_path);
		if (fd < 0)
			continue;
		close(fd);
		if (dg_xlsx_open(d->xlsx_path, i ? "/tmp" : dir, &d->x) == DG_OK)
			return DG_OK;
		unlink(d->xlsx_path);
	}
	d->xlsx_path[0] = '\0';
	return DG_EIO;
}

/* The workbook written: open it as the file to send, and let its name go. */
static dg_rc xlsx_finish(struct dump *d)
{
	dg_rc rc = dg_xlsx_close(d->x);
	d->x = NULL;
	if (d->to_file)
		return rc;
	if (rc == DG_OK && !(d->fp = fopen(d->xlsx_path, "rb")))
		rc = DG_EIO;
	unlink(d->xlsx_path);
	d->xlsx_path[0] = '\0';
	if (rc == DG_OK && fseek(d->fp, 0, SEEK_END) != 0)
		rc = DG_EIO;
	return rc;
}

/* The header row (the XLSX's first row; for JSON, the fields and the records' start). */
static dg_rc head(struct dump *d, bool bom, struct dg_buf *out)
{
	dg_rc rc = DG_OK;
	if (d->f == F_XLSX) {
		rc = dg_xlsx_row(d->x);
		for (size_t i = 0; rc == DG_OK && i < d->nsel; i++)
			rc = dg_xlsx_text(d->x, head_name(d, i));
		return rc;
	}
	if (bom && (d->f == F_CSV || d->f == F_TSV))
		rc = dg_buf_adds(out, "\xef\xbb\xbf");
	if (d->f == F_JSON) {
		json_t *fields = json_array();
		for (size_t i = 0; i < d->nsel; i++)
			json_array_append_new(
				fields,
				json_pack("{s:s, s:s}", "id", d->cols[d->sel[i]].id, "type",
					  d->sel[i] == 0
						  ? "int"
						  : dg_ds_type_answer(d->cols[d->sel[i]].type)));
		char *s = json_dumps(fields, JSON_COMPACT);
		json_decref(fields);
		if (rc == DG_OK)
			rc = dg_buf_addf(out, "{\"fields\": %s, \"records\": [", s);
		free(s);
	} else {
		char sep = d->f == F_CSV ? ',' : '\t';
		for (size_t i = 0; rc == DG_OK && i < d->nsel; i++) {
			json_t *name = json_string(head_name(d, i));
			if (i)
				rc = dg_buf_addc(out, sep);
			if (rc == DG_OK)
				rc = dg_ds_add_delim(out, name, sep);
			json_decref(name);
		}
		if (rc == DG_OK)
			rc = dg_buf_adds(out, "\r\n");
	}
	return rc;
}

/* One row: the select's columns after "_id" (column 0 of the page query). */
static dg_rc row(struct dump *d, struct dg_rows *rows, struct dg_buf *out)
{
	dg_rc rc = DG_OK;
	json_t *vals = json_array();
	for (size_t i = 0; i < d->nsel; i++)
		json_array_append_new(vals,
				      dg_ds_value_json(rows, (int)i + 1, d->cols[d->sel[i]].type));
	for (size_t i = 0; d->f != F_JSON && i < d->nsel; i++) {
		json_t *v = json_array_get(vals, i);
		if (json_is_object(v) || json_is_array(v)) { /* a json column's, as its text */
			char *text = json_dumps(v, JSON_COMPACT);
			json_array_set_new(vals, i, json_string(text ? text : ""));
			free(text);
		}
	}
	for (size_t i = 0; !d->raw && d->f != F_JSON && i < d->nsel; i++) {
		json_t *v = json_array_get(vals, i);
		if (json_is_string(v) && dg_csv_formula_like(json_string_value(v))) {
			char *q = dg_xmalloc(json_string_length(v) + 2);
			q[0] = '\'';
			memcpy(q + 1, json_string_value(v), json_string_length(v) + 1);
			json_array_set_new(vals, i, json_string(q));
			free(q);
		}
	}
	if (d->f == F_XLSX) {
		rc = dg_xlsx_row(d->x);
		for (size_t i = 0; rc == DG_OK && i < d->nsel; i++) {
			json_t *v = json_array_get(vals, i);
			if (json_is_null(v))
				dg_xlsx_blank(d->x);
			else if (json_is_boolean(v))
				rc = dg_xlsx_bool(d->x, json_is_true(v));
			else if (json_is_number(v))
				rc = dg_xlsx_number(d->x, json_number_value(v));
			else
				rc = dg_xlsx_text(d->x, json_string_value(v));
		}
	} else if (d->f == F_JSON) {
		char *s = json_dumps(vals, JSON_COMPACT);
		rc = dg_buf_addf(out, "%s%s", d->rows ? ",\n" : "\n", s);
		free(s);
	} else {
		char sep = d->f == F_CSV ? ',' : '\t';
		for (size_t i = 0; rc == DG_OK && i < d->nsel; i++) {
			if (i)
				rc = dg_buf_addc(out, sep);
			if (rc == DG_OK)
				rc = dg_ds_add_delim(out, json_array_get(vals, i), sep);
		}
		if (rc == DG_OK)
			rc = dg_buf_adds(out, "\r\n");
	}
	json_decref(vals);
	d->rows++;
	return rc;
}

static dg_rc tail(struct dump *d, struct dg_buf *out)
{
	if (d->f == F_XLSX)
		return xlsx_finish(d);
	if (d->f == F_JSON)
		return dg_buf_adds(out, "\n]}\n");
	return DG_OK;
}

/*
 * The next page, after d->last, on db: up to PAGE rows (fewer near the
 * limit), stopping early once out holds CHUNK bytes (the rest of the page
 * is read again next time, from the last row written). After the last
 * page, the tail, and d->ended.
 */
static dg_rc page(struct dump *d, struct dg_db *db, struct dg_buf *out)
{
	struct dg_val args[DG_DS_MAX_ARGS + 1];
	struct dg_rows *rs = NULL;
	int64_t n = 0, want = d->limit - d->rows < PAGE ? d->limit - d->rows : PAGE;
	bool full = false;
	dg_rc rc = DG_OK;
	if (want > 0) {
		dg_buf_reset(&d->sql);
		rc = dg_buf_adds(&d->sql, "SELECT \"_id\"");
		for (size_t i = 0; rc == DG_OK && i < d->nsel; i++)
			rc = dg_buf_addf(&d->sql, ", \"%s\"", d->cols[d->sel[i]].id);
		if (rc == DG_OK)
			rc = dg_buf_addf(
				&d->sql, " FROM \"%s\"%s%s \"_id\" > ? ORDER BY \"_id\" LIMIT %lld",
				d->t.table, dg_buf_str(&d->w.sql),
				dg_ds_where_empty(&d->w) ? " WHERE" : " AND", (long long)want);
		memcpy(args, d->w.args, d->w.nargs * sizeof *args);
		args[d->w.nargs] = DG_VI(d->last);
		if (rc == DG_OK)
			rc = dg_db_query(db, dg_buf_str(&d->sql), args, d->w.nargs + 1, &rs);
		while (rc == DG_OK && !full && (rc = dg_rows_next(rs)) == DG_OK) {
			d->last = dg_rows_int(rs, 0);
			n++;
			rc = row(d, rs, out);
			full = out->len >= CHUNK;
		}
		dg_rows_free(rs);
		if (rc == DG_ENOTFOUND)
			rc = DG_OK;
	}
	if (rc == DG_OK && d->x && dg_xlsx_bytes(d->x) > atomic_load(&xlsx_max))
		rc = DG_ETOOBIG;
	if (rc == DG_OK && !full && n < want)
		want = 0; /* the query ran out of rows */
	if (rc == DG_OK && (want <= 0 || d->rows >= d->limit)) {
		rc = tail(d, out);
		d->ended = true;
	}
	return rc;
}

/*
 * A page after the first reads only while the caller may still read the
 * table: a dataset deleted, closed or made private, or a grant that ended,
 * cuts the download off (DG_EDENIED) at the next page.
 */
static dg_rc still_open(struct dump *d, struct dg_db *db)
{
	bool open = true;
	dg_rc rc = d->rid ? dg_ds_still_open(db, d->rid, d->app_id, &open) : DG_OK;
	return rc == DG_OK && !open ? DG_EDENIED : rc;
}

/*
 * The stream's producer: the bytes made before the reply first, then a
 * page at a time, each on a connection borrowed for that page alone.
 */
static dg_rc dump_produce(void *ctx, struct dg_buf *out, bool *done)
{
	struct dump *d = ctx;
	dg_rc rc = DG_OK;
	if (d->first.len) {
		rc = dg_buf_add(out, d->first.ptr, d->first.len);
		dg_buf_release(&d->first);
	} else if (!d->ended) {
		struct dg_db *db = NULL;
		/* a test makes a page fail here, after the headers went out (failpoint.h) */
		if ((rc = dg_failpoint_hit("datastore.dump.page")) == DG_OK &&
		    (rc = dg_db_get(d->store, &db)) == DG_OK &&
		    (rc = dg_db_set_timeout_ms(db, DG_DS_READ_MS)) == DG_OK &&
		    (rc = still_open(d, db)) == DG_OK)
			rc = page(d, db, out);
		if (rc != DG_OK)
			dg_warn("req=%s dump of table %s: the page after _id %" PRId64
				" failed (%s%s) after %" PRId64 " rows",
				d->req_id, d->t.table, d->last, dg_rc_name(rc),
				rc == DG_EDENIED            ? ", no longer open to the caller"
				: db && dg_db_timed_out(db) ? ", over the read budget"
							    : "",
				d->rows);
		dg_db_put(db); /* also ends the budget */
	}
	*done = rc == DG_OK && d->ended;
	if (*done) {
		/* what is left is bytes on their way: the caller may start another */
		slot_put(d->slot);
		d->slot = -1;
	}
	return rc;
}

static void dump_release(void *ctx)
{
	dump_free(ctx);
}

static const struct dg_stream_ops dump_stream = {dump_produce, dump_release};

static dg_rc parse_format(struct dg_req *r, enum fmt *f)
{
	const char *s = dg_kvs_get(&r->query, "format");
	if (!s || !*s)
		s = "csv";
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if (strcasecmp(s, formats[i].name) == 0) {
			*f = (enum fmt)i;
			return DG_OK;
		}
	return dg_err_field(&r->err, DG_EINVAL, "format", "format must be csv, tsv, json or xlsx");
}

static dg_rc parse_limit(struct dg_req *r, int64_t *limit)
{
	const char *s = dg_kvs_get(&r->query, "limit");
	char *end = NULL;
	*limit = INT64_MAX;
	if (!s || !*s)
		return DG_OK;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*end || v < 0 || errno)
		return dg_err_field(&r->err, DG_EINVAL, "limit", "Must be a positive integer");
	*limit = v;
	return DG_OK;
}

/* Bytes a file name may not hold (Windows' reserved ones, controls), as '_'. */
static void name_clean(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || strchr("/\\:*?\"<>|", *s))
			*s = '_';
}

/*
 * The download's name: "<dataset title>-<resource name>.<ext>" (the title
 * alone when the resource is named the same), at most NAME_BYTES bytes cut
 * at a character's start; "" when the table belongs to no resource.
 */
#define NAME_BYTES 150
static const char *utf8_name(struct dg_req *r, enum fmt f, const struct dg_ds_names *n)
{
	if (!n->pkg_title || !n->pkg_title[0])
		return "";
	bool same = !n->res_name[0] || strcmp(n->res_name, n->pkg_title) == 0;
	char *s = dg_arena_printf(r->arena, "%s%s%s", n->pkg_title, same ? "" : "-",
				  same ? "" : n->res_name);
	size_t len = strlen(s);
	if (len > NAME_BYTES) {
		len = NAME_BYTES;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
		s[len] = '\0';
	}
	name_clean(s);
	return dg_arena_printf(r->arena, "%s.%s", s, formats[f].ext);
}

/*
 * Content-Disposition: a plain ASCII filename (the dataset's name, else the
 * resource id, in safe bytes) for old clients and the readable UTF-8 one
 * as RFC 5987 filename*.
 */
static dg_rc disposition(struct dg_req *r, struct dg_db *db, const char *id, enum fmt f)
{
	char name[160];
	size_t n = 0;
	struct dg_ds_names names = {0};
	if (dg_ds_sql_names(db, id, r->arena, &names) != DG_OK)
		memset(&names, 0, sizeof names);
	const char *ascii = names.pkg_name && names.pkg_name[0] ? names.pkg_name : id;
	for (const char *p = ascii; *p && n < 100; p++)
		name[n++] = (strchr("-_.", *p) || (*p >= '0' && *p <= '9') ||
			     (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
				    ? *p
				    : '_';
	snprintf(name + n, sizeof name - n, ".%s", formats[f].ext);
	struct dg_buf disp;
	dg_buf_init(&disp, 2048);
	dg_rc rc = dg_buf_addf(&disp, "attachment; filename=\"%s\"", name);
	const char *utf8 = utf8_name(r, f, &names);
	if (rc == DG_OK && utf8[0]) {
		rc = dg_buf_adds(&disp, "; filename*=UTF-8''");
		if (rc == DG_OK)
			rc = dg_buf_add_url(&disp, utf8, strlen(utf8));
	}
	if (rc == DG_OK)
		dg_reply_header(r, "Content-Disposition", dg_buf_str(&disp));
	dg_buf_release(&disp);
	return rc;
}

/* The finished workbook, sent as a file. */
static dg_rc send_xlsx(struct dg_req *r, struct dump *d)
{
	long size = ftell(d->fp);
	int fd = size >= 0 && fflush(d->fp) == 0 ? dup(fileno(d->fp)) : -1;
	if (fd < 0)
		return DG_EIO;
	dg_reply_file(r, 200, formats[F_XLSX].type, fd, (uint64_t)size);
	return DG_OK;
}

/* &labels=zh|en: which info key names the header's columns (NULL: their names). */
static dg_rc parse_labels(struct dg_req *r, const char **key)
{
	const char *s = dg_kvs_get(&r->query, "labels");
	*key = NULL;
	if (!s || !*s)
		return DG_OK;
	if (strcmp(s, "zh") == 0)
		*key = "label";
	else if (strcmp(s, "en") == 0)
		*key = "label_en";
	else
		return dg_err_field(&r->err, DG_EINVAL, "labels", "labels must be zh or en");
	return DG_OK;
}

/* The request's parameters into d, and the table, checked on db. */
static dg_rc prepare(struct dg_req *r, struct dump *d, struct dg_db *db, const char *id)
{
	json_t *params = params_of(r);
	bool again = false;
	dg_rc rc;
	d->raw = dg_kvs_get(&r->query, "raw") &&
		 strcasecmp(dg_kvs_get(&r->query, "raw"), "true") == 0;
	if ((rc = parse_format(r, &d->f)) || (rc = parse_limit(r, &d->limit)) ||
	    (rc = parse_labels(r, &d->labels)) ||
	    (rc = dg_ds_check_read(r, db, id, &again, &r->err)))
		goto out;
	if (again)
		d->rid = dg_xstrdup(id);
	if ((rc = dg_ds_sql_lookup(db, id, &d->t)) != DG_OK) {
		dg_err_set(&r->err, rc,
			   rc == DG_ENOTFOUND ? "This resource has no DataStore table."
					      : "The store is not available");
		goto out;
	}
	d->cols = dg_ds_cols(&d->t, &d->ncols);
	if ((rc = select_cols(d, params, &r->err)) ||
	    (rc = dg_ds_where_filters(&d->w, d->cols, d->ncols, json_object_get(params, "filters"),
				      &r->err)))
		goto out;
	rc = dg_ds_where_q(&d->w, dg_db_kind(db), d->t.table, d->cols, d->ncols, params, &r->err);
	if (rc == DG_OK)
		rc = dg_ds_fts_check(db, d->t.table, &d->w, &r->err);
out:
	json_decref(params);
	return rc;
}

/*
 * Make the file before replying (XLSX) or the head and first page (the
 * rest streamed), on the request's connection under the read budget.
 */
static dg_rc run(struct dg_req *r, struct dump *d, struct dg_db *db, bool bom)
{
	dg_rc rc = dg_db_set_timeout_ms(db, DG_DS_READ_MS);
	if (rc == DG_OK && d->f == F_XLSX)
		rc = xlsx_start(d, r);
	if (rc == DG_OK)
		rc = head(d, bom, &d->first);
	if (rc == DG_OK)
		rc = page(d, db, &d->first);
	while (rc == DG_OK && d->f == F_XLSX && !d->ended)
		rc = page(d, db, &d->first);
	if (rc == DG_EDB && dg_db_timed_out(db))
		rc = dg_err_set(&r->err, DG_EUNAVAIL,
				"Reading the table took too long; try again later.");
	else if (rc == DG_ETOOBIG && d->f == F_XLSX)
		rc = dg_err_set(&r->err, rc,
				"The XLSX download is over its cap (%.1f MiB of sheet data, or "
				"Excel's 1,048,576 rows): narrow it with filters, fields or "
				"limit, or use format=csv, which has no cap",
				(double)atomic_load(&xlsx_max) / (1 << 20));
	else if (rc != DG_OK && r->err.rc == DG_OK)
		dg_err_set(&r->err, rc, "The download could not be made.");
	if (dg_db_set_timeout_ms(db, 0) != DG_OK && rc == DG_OK)
		rc = dg_err_set(&r->err, DG_EDB, "The store is not available");
	return rc;
}

static dg_rc dump_handle(struct dg_req *r)
{
	dg_od_cors(r);
	const char *id = dg_kvs_get(&r->params, "resource_id");
	bool bom = dg_kvs_get(&r->query, "bom") &&
		   strcasecmp(dg_kvs_get(&r->query, "bom"), "true") == 0;
	struct dg_od_caller caller;
	struct dg_db *db = NULL;
	struct dump *d = NULL;
	bool xlsx_counted = false;
	enum fmt f;
	char who[64];
	dg_rc rc;
	if ((rc = dg_od_access_gate(r, NULL, false, &caller)) != DG_OK)
		return r->replied ? DG_OK : rc; /* a refusal already made, or a store failure */
	if (caller.app_id)
		snprintf(who, sizeof who, "app:%" PRId64, caller.app_id);
	else
		snprintf(who, sizeof who, "ip:%s", r->remote_addr ? r->remote_addr : "");
	d = dg_xcalloc(1, sizeof *d);
	d->slot = -1;
	dg_ds_where_init(&d->w);
	dg_buf_init(&d->sql, 1 << 20);
	dg_buf_init(&d->first, DG_STREAM_BUF_MAX);
	d->store = r->env->store;
	d->app_id = caller.app_id;
	snprintf(d->req_id, sizeof d->req_id, "%s", r->id);
	if ((d->slot = slot_take(who)) < 0) {
		dg_od_limit_headers(r, "dumps_at_once", DUMPS_PER_CALLER, 0, 10);
		rc = dg_err_set(&r->err, DG_ELOCKED,
				"Too many dumps at once (dumps_at_once: %d): wait for one to"
				" finish, then try again",
				DUMPS_PER_CALLER);
		goto out;
	}
	/* a test holds a running dump here (failpoint.h) */
	if ((rc = dg_failpoint_hit("datastore.dump.run")) || (rc = dg_req_db(r, &db)) ||
	    (rc = prepare(r, d, db, id)))
		goto out;
	if (strcmp(r->method, "HEAD") == 0) {
		/*
		 * The headers a GET would send, after the same checks; no rows
		 * read. An empty body of known length, not a stream: a client
		 * that keeps the connection then finds nothing more on it.
		 */
		dg_reply_bytes(r, 200, formats[d->f].type, "", 0);
		if (disposition(r, db, id, d->f) != DG_OK)
			dg_warn("req=%s the download's name could not be made", r->id);
		goto out;
	}
	if (d->f == F_XLSX) {
		xlsx_counted = true;
		if (atomic_fetch_add(&xlsx_running, 1) >= XLSX_AT_ONCE) {
			dg_od_limit_headers(r, "xlsx_at_once", XLSX_AT_ONCE, 0, 30);
			rc = dg_err_set(&r->err, DG_ELOCKED,
					"Too many XLSX downloads are being made (xlsx_at_once: %d):"
					" try again in a minute, or use format=csv",
					XLSX_AT_ONCE);
			goto out;
		}
	}
	if ((rc = run(r, d, db, bom)) != DG_OK)
		goto out;
	f = d->f;
	if (f == F_XLSX)
		rc = send_xlsx(r, d);
	else
		dg_reply_stream(r, 200, formats[d->f].type, &dump_stream, d);
	if (rc != DG_OK) {
		dg_err_set(&r->err, rc, "The download could not be made.");
		goto out;
	}
	if (f != F_XLSX)
		d = NULL; /* the stream owns it now */
	if (disposition(r, db, id, f) != DG_OK)
		dg_warn("req=%s the download's name could not be made", r->id);
	if (dg_od_count(r, db, DG_OD_DOWNLOAD, "", id, caller.app_id) != DG_OK)
		dg_warn("req=%s could not count the download", r->id);
out:
	if (xlsx_counted)
		atomic_fetch_sub(&xlsx_running, 1);
	dump_free(d);
	return rc;
}

dg_rc dg_ds_dump_file(struct dg_db *db, const char *resource_id, const char *format,
		      const char *labels, const char *tmp_dir, const char *path,
		      dg_rc (*progress)(void *ctx, int64_t done, int64_t total), void *ctx)
{
	struct dump *d = dg_xcalloc(1, sizeof *d);
	struct dg_buf buf;
	FILE *out = NULL;
	dg_rc rc = DG_EINVAL;
	d->slot = -1;
	d->limit = INT64_MAX;
	d->labels = labels;
	d->to_file = true;
	dg_ds_where_init(&d->w);
	dg_buf_init(&d->sql, 1 << 20);
	dg_buf_init(&buf, DG_STREAM_BUF_MAX);
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if (strcmp(format, formats[i].name) == 0) {
			d->f = (enum fmt)i;
			rc = DG_OK;
		}
	if (rc || (rc = dg_ds_sql_lookup(db, resource_id, &d->t)))
		goto out;
	d->cols = dg_ds_cols(&d->t, &d->ncols);
	d->sel = dg_xcalloc(d->ncols, sizeof *d->sel);
	for (size_t i = 0; i < d->ncols; i++)
		d->sel[d->nsel++] = i;
	if (d->f == F_XLSX)
		rc = dg_xlsx_open(path, tmp_dir, &d->x);
	else if (!(out = fopen(path, "wb")))
		rc = DG_EIO;
	if (rc == DG_OK)
		rc = head(d, true, &buf); /* a CSV's BOM: Excel on Chinese Windows reads it */
	/* a page at a time, each under the read budget, its text written before the next */
	while (rc == DG_OK && !d->ended) {
		if (out && buf.len && fwrite(buf.ptr, 1, buf.len, out) != buf.len)
			rc = DG_EIO;
		dg_buf_reset(&buf);
		if (rc == DG_OK && (rc = dg_db_set_timeout_ms(db, DG_DS_READ_MS)) == DG_OK)
			rc = page(d, db, &buf);
		if (dg_db_set_timeout_ms(db, 0) != DG_OK && rc == DG_OK)
			rc = DG_EDB;
		if (rc == DG_OK && progress)
			rc = progress(ctx, d->rows, d->t.row_count);
	}
	if (rc == DG_OK && out && buf.len && fwrite(buf.ptr, 1, buf.len, out) != buf.len)
		rc = DG_EIO;
out:
	if (out && fclose(out) != 0 && rc == DG_OK)
		rc = DG_EIO;
	dg_buf_release(&buf);
	dump_free(d);
	return rc;
}

static dg_rc dump_preflight(struct dg_req *r)
{
	return dg_od_cors_preflight(r, true);
}

static const struct dg_route routes[] = {
	{"GET", "/datastore/dump/{resource_id}", dump_handle, DG_ROLE_ANY, 0},
	{"OPTIONS", "/datastore/dump/{resource_id}", dump_preflight, DG_ROLE_ANY, 0},
};

const struct dg_route *dg_datastore_routes(size_t *n)
{
	*n = sizeof routes / sizeof routes[0];
	return routes;
}
