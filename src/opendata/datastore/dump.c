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
 * Rows are read in pages of PAGE by keyset on "_id" (each page a short query
 * under the read budget, never an OFFSET scan) and written to an unnamed
 * temporary file that is then sent with dg_reply_file: memory stays at one
 * page whatever the table's size. The file is capped at DUMP_MAX bytes; an
 * XLSX's sheet, whose XML goes to libxlsxwriter's temporary file before it
 * is deflated into a named one (xlsx.h), is capped at as much XML.
 * Pages are separate statements, so rows written while a dump runs may or
 * may not be in it; no row appears twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/env.h"
#include "web/page.h"
#include "core/failpoint.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "opendata/datastore/datastore.h"
#include "opendata/access/access.h"
#include "opendata/datastore/filter.h"
#include "opendata/datastore/datastore_int.h"
#include "opendata/datastore/xlsx.h"

#define PAGE     5000
#define DUMP_MAX ((int64_t)1 << 30)

enum fmt { F_CSV, F_TSV, F_JSON, F_XLSX };

static const struct {
	const char *name, *ext, *type;
} formats[] = {
	{"csv", "csv", "text/csv; charset=utf-8"},
	{"tsv", "tsv", "text/tab-separated-values; charset=utf-8"},
	{"json", "json", "application/json; charset=utf-8"},
	{"xlsx", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
};

struct dump {
	struct dg_req *r;
	struct dg_db *db;
	const struct dg_ds_table *t;
	struct dg_ds_col *cols;
	size_t ncols;
	size_t *sel, nsel;
	enum fmt f;
	FILE *fp;
	struct dg_xlsx *x;
	char xlsx_path[PATH_MAX]; /* the workbook until it is opened as fp and unlinked */
	struct dg_buf line;       /* one formatted row */
	int64_t rows;
	bool raw;           /* &raw=true: text cells as stored, no formula guard */
	const char *labels; /* &labels=: NULL (names), "label" or "label_en" */
};

/* The header cell of output column i: its label when asked for and given, else its name. */
static const char *head_name(const struct dump *d, size_t i)
{
	const char *id = d->cols[d->sel[i]].id;
	json_t *f;
	size_t k;
	if (!d->labels)
		return id;
	json_array_foreach (d->t->fields, k, f) {
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
 * address): each holds a store connection and a file for as long as it
 * runs, so one caller may run DUMPS_PER_CALLER and the server DUMP_SLOTS
 * (slots of different callers); the rest are answered 429 at once.
 */
#define DUMPS_PER_CALLER 2
#define DUMP_SLOTS       32

static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char who[64];
	int n;
} slots[DUMP_SLOTS];

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

/* A text cell a spreadsheet would read as a formula (OWASP's list). */
static bool formula_like(const char *s)
{
	return s && *s && strchr("=+-@\t\r", *s) != NULL;
}

static void tmp_dir(struct dg_req *r, char dir[512])
{
	snprintf(dir, 512, "%s/tmp", r->env ? r->env->cfg->data_dir : "/tmp");
}

/* An unnamed file in the data folder's tmp (gone when closed), or in /tmp. */
static FILE *temp_file(struct dg_req *r)
{
	char dir[512];
	tmp_dir(r, dir);
	int fd = open(dir, O_TMPFILE | O_RDWR, 0600);
	if (fd < 0)
		fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	if (fd < 0) {
		/* no O_TMPFILE on this file system: a named file, unlinked at once */
		char path[] = "/tmp/dgov-dump-XXXXXX";
		fd = mkstemp(path);
		if (fd >= 0)
			unlink(path);
	}
	FILE *fp = fd >= 0 ? fdopen(fd, "w+") : NULL;
	if (!fp && fd >= 0)
		close(fd);
	return fp;
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
static dg_rc select_cols(struct dump *d, json_t *params)
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
			rc = dg_err_field(&d->r->err, DG_EINVAL, "fields",
					  "field \"%.60s\" not in table", name);
		else
			d->sel[d->nsel++] = (size_t)(c - d->cols);
	}
	json_decref(list);
	if (rc == DG_OK && d->nsel == 0)
		rc = dg_err_field(&d->r->err, DG_EINVAL, "fields", "No fields");
	return rc;
}

static dg_rc out(struct dump *d, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, d->fp) != n)
		return DG_EIO;
	return DG_OK;
}

/*
 * A workbook is written by name (libxlsxwriter opens its file itself): a
 * new name in the data folder's tmp, or in /tmp, with the sheet's own
 * temporary file beside it.
 */
static dg_rc xlsx_start(struct dump *d)
{
	char dir[512];
	tmp_dir(d->r, dir);
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
	if (rc == DG_OK && !(d->fp = fopen(d->xlsx_path, "rb")))
		rc = DG_EIO;
	unlink(d->xlsx_path);
	d->xlsx_path[0] = '\0';
	if (rc == DG_OK && fseek(d->fp, 0, SEEK_END) != 0)
		rc = DG_EIO;
	return rc;
}

static dg_rc head(struct dump *d, bool bom)
{
	dg_rc rc = DG_OK;
	if (d->f == F_XLSX) {
		if ((rc = xlsx_start(d)) == DG_OK)
			rc = dg_xlsx_row(d->x);
		for (size_t i = 0; rc == DG_OK && i < d->nsel; i++)
			rc = dg_xlsx_text(d->x, head_name(d, i));
		return rc;
	}
	dg_buf_reset(&d->line);
	if (bom && (d->f == F_CSV || d->f == F_TSV))
		rc = dg_buf_adds(&d->line, "\xef\xbb\xbf");
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
		rc = dg_buf_addf(&d->line, "{\"fields\": %s, \"records\": [", s);
		free(s);
	} else {
		char sep = d->f == F_CSV ? ',' : '\t';
		for (size_t i = 0; rc == DG_OK && i < d->nsel; i++) {
			json_t *name = json_string(head_name(d, i));
			if (i)
				rc = dg_buf_addc(&d->line, sep);
			if (rc == DG_OK)
				rc = dg_ds_add_delim(&d->line, name, sep);
			json_decref(name);
		}
		if (rc == DG_OK)
			rc = dg_buf_adds(&d->line, "\r\n");
	}
	return rc == DG_OK ? out(d, d->line.ptr, d->line.len) : rc;
}

/* One row: the select's columns after "_id" (column 0 of the page query). */
static dg_rc row(struct dump *d, struct dg_rows *rows)
{
	dg_rc rc = DG_OK;
	json_t *vals = json_array();
	for (size_t i = 0; i < d->nsel; i++)
		json_array_append_new(vals,
				      dg_ds_value_json(rows, (int)i + 1, d->cols[d->sel[i]].type));
	dg_buf_reset(&d->line);
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
		if (json_is_string(v) && formula_like(json_string_value(v))) {
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
		rc = dg_buf_addf(&d->line, "%s%s", d->rows ? ",\n" : "\n", s);
		free(s);
	} else {
		char sep = d->f == F_CSV ? ',' : '\t';
		for (size_t i = 0; rc == DG_OK && i < d->nsel; i++) {
			if (i)
				rc = dg_buf_addc(&d->line, sep);
			if (rc == DG_OK)
				rc = dg_ds_add_delim(&d->line, json_array_get(vals, i), sep);
		}
		if (rc == DG_OK)
			rc = dg_buf_adds(&d->line, "\r\n");
	}
	json_decref(vals);
	if (rc == DG_OK && d->line.len)
		rc = out(d, d->line.ptr, d->line.len);
	d->rows++;
	return rc;
}

static dg_rc tail(struct dump *d)
{
	if (d->f == F_XLSX)
		return xlsx_finish(d);
	if (d->f == F_JSON)
		return out(d, "\n]}\n", 4);
	return DG_OK;
}

/* Every page, by "_id", up to limit rows. */
static dg_rc pages(struct dump *d, struct dg_ds_where *w, long long limit)
{
	struct dg_buf sql;
	struct dg_val args[DG_DS_MAX_ARGS + 1];
	int64_t last = INT64_MIN;
	dg_rc rc = DG_OK;
	dg_buf_init(&sql, 1 << 20);
	memcpy(args, w->args, w->nargs * sizeof *args);
	for (;;) {
		struct dg_rows *rs = NULL;
		int64_t n = 0, want = limit - d->rows < PAGE ? limit - d->rows : PAGE;
		if (want <= 0)
			break;
		dg_buf_reset(&sql);
		rc = dg_buf_adds(&sql, "SELECT \"_id\"");
		for (size_t i = 0; rc == DG_OK && i < d->nsel; i++)
			rc = dg_buf_addf(&sql, ", \"%s\"", d->cols[d->sel[i]].id);
		if (rc == DG_OK)
			rc = dg_buf_addf(&sql,
					 " FROM \"%s\"%s%s \"_id\" > ? ORDER BY \"_id\" LIMIT %lld",
					 d->t->table, dg_buf_str(&w->sql),
					 dg_ds_where_empty(w) ? " WHERE" : " AND", (long long)want);
		args[w->nargs] = DG_VI(last);
		if (rc == DG_OK)
			rc = dg_db_query(d->db, dg_buf_str(&sql), args, w->nargs + 1, &rs);
		while (rc == DG_OK && (rc = dg_rows_next(rs)) == DG_OK) {
			last = dg_rows_int(rs, 0);
			n++;
			rc = row(d, rs);
		}
		dg_rows_free(rs);
		if (rc == DG_ENOTFOUND)
			rc = DG_OK;
		if (rc != DG_OK || n < want)
			break;
		if ((d->x ? (int64_t)dg_xlsx_bytes(d->x) : (int64_t)ftell(d->fp)) > DUMP_MAX) {
			rc = DG_ETOOBIG;
			break;
		}
	}
	dg_buf_release(&sql);
	return rc;
}

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

static dg_rc parse_limit(struct dg_req *r, long long *limit)
{
	const char *s = dg_kvs_get(&r->query, "limit");
	char *end = NULL;
	*limit = INT64_MAX;
	if (!s || !*s)
		return DG_OK;
	*limit = strtoll(s, &end, 10);
	if (*end || *limit < 0)
		return dg_err_field(&r->err, DG_EINVAL, "limit", "Must be a positive integer");
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
static const char *utf8_name(struct dump *d, const struct dg_ds_names *n)
{
	if (!n->pkg_title || !n->pkg_title[0])
		return "";
	bool same = !n->res_name[0] || strcmp(n->res_name, n->pkg_title) == 0;
	char *s = dg_arena_printf(d->r->arena, "%s%s%s", n->pkg_title, same ? "" : "-",
				  same ? "" : n->res_name);
	size_t len = strlen(s);
	if (len > NAME_BYTES) {
		len = NAME_BYTES;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
		s[len] = '\0';
	}
	name_clean(s);
	return dg_arena_printf(d->r->arena, "%s.%s", s, formats[d->f].ext);
}

/*
 * Send the finished file: Content-Type, and Content-Disposition with a
 * plain ASCII filename (the dataset's name, else the resource id, in safe
 * bytes) for old clients and the readable UTF-8 one as RFC 5987 filename*.
 */
static dg_rc send_file(struct dump *d, const char *id)
{
	char name[160];
	size_t n = 0;
	long size = ftell(d->fp);
	struct dg_ds_names names = {0};
	if (dg_ds_sql_names(d->db, id, d->r->arena, &names) != DG_OK)
		memset(&names, 0, sizeof names);
	const char *ascii = names.pkg_name && names.pkg_name[0] ? names.pkg_name : id;
	for (const char *p = ascii; *p && n < 100; p++)
		name[n++] = (strchr("-_.", *p) || (*p >= '0' && *p <= '9') ||
			     (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
				    ? *p
				    : '_';
	snprintf(name + n, sizeof name - n, ".%s", formats[d->f].ext);
	if (fflush(d->fp) != 0 || size < 0)
		return DG_EIO;
	struct dg_buf disp;
	dg_buf_init(&disp, 2048);
	dg_rc rc = dg_buf_addf(&disp, "attachment; filename=\"%s\"", name);
	const char *utf8 = utf8_name(d, &names);
	if (rc == DG_OK && utf8[0]) {
		rc = dg_buf_adds(&disp, "; filename*=UTF-8''");
		if (rc == DG_OK)
			rc = dg_buf_add_url(&disp, utf8, strlen(utf8));
	}
	int fd = rc == DG_OK ? dup(fileno(d->fp)) : -1;
	if (fd < 0) {
		dg_buf_release(&disp);
		return DG_EIO;
	}
	dg_reply_file(d->r, 200, formats[d->f].type, fd, (uint64_t)size);
	dg_reply_header(d->r, "Content-Disposition", dg_buf_str(&disp));
	dg_buf_release(&disp);
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

static dg_rc dump_handle(struct dg_req *r)
{
	dg_od_cors(r);
	struct dump d = {.r = r};
	struct dg_ds_table t = {0};
	struct dg_ds_where w;
	const char *id = dg_kvs_get(&r->params, "resource_id");
	json_t *params = params_of(r);
	long long limit;
	bool bom = dg_kvs_get(&r->query, "bom") &&
		   strcasecmp(dg_kvs_get(&r->query, "bom"), "true") == 0;
	dg_rc rc;
	struct dg_od_caller caller;
	char who[64];
	int slot = -1;
	if ((rc = dg_od_access_gate(r, NULL, false, &caller)) != DG_OK) {
		json_decref(params);
		return r->replied ? DG_OK : rc; /* a refusal already made, or a store failure */
	}
	if (caller.app_id)
		snprintf(who, sizeof who, "app:%" PRId64, caller.app_id);
	else
		snprintf(who, sizeof who, "ip:%s", r->remote_addr ? r->remote_addr : "");
	if ((slot = slot_take(who)) < 0) {
		json_decref(params);
		dg_od_limit_headers(r, "dumps_at_once", DUMPS_PER_CALLER, 0, 10);
		return dg_err_set(&r->err, DG_ELOCKED,
				  "Too many dumps at once (dumps_at_once: %d): wait for one to"
				  " finish, then try again",
				  DUMPS_PER_CALLER);
	}
	d.raw = dg_kvs_get(&r->query, "raw") &&
		strcasecmp(dg_kvs_get(&r->query, "raw"), "true") == 0;
	dg_ds_where_init(&w);
	dg_buf_init(&d.line, 64 << 20);
	/* a test holds a running dump here (failpoint.h) */
	if ((rc = dg_failpoint_hit("datastore.dump.run")) || (rc = parse_format(r, &d.f)) ||
	    (rc = parse_limit(r, &limit)) || (rc = parse_labels(r, &d.labels)) ||
	    (rc = dg_req_db(r, &d.db)) ||
	    (rc = dg_datastore_check(r, d.db, id, false, false, &r->err)))
		goto out;
	if ((rc = dg_ds_sql_lookup(d.db, id, &t)) != DG_OK) {
		dg_err_set(&r->err, rc,
			   rc == DG_ENOTFOUND ? "This resource has no DataStore table."
					      : "The store is not available");
		goto out;
	}
	d.t = &t;
	d.cols = dg_ds_cols(&t, &d.ncols);
	if ((rc = select_cols(&d, params)) ||
	    (rc = dg_ds_where_filters(&w, d.cols, d.ncols, json_object_get(params, "filters"),
				      &r->err)) ||
	    (rc = dg_ds_where_q(&w, d.cols, d.ncols, json_object_get(params, "q"), &r->err)))
		goto out;
	if (d.f != F_XLSX && !(d.fp = temp_file(r))) {
		rc = dg_err_set(&r->err, DG_EIO, "No room for the file");
		goto out;
	}
	if ((rc = dg_db_set_timeout_ms(d.db, DG_DS_READ_MS)) != DG_OK)
		goto out;
	if ((rc = head(&d, bom)) == DG_OK && (rc = pages(&d, &w, limit)) == DG_OK)
		rc = tail(&d);
	if (rc == DG_OK)
		rc = send_file(&d, id);
	if (rc == DG_OK && dg_od_count(d.db, DG_OD_DOWNLOAD, "", id, caller.app_id) != DG_OK)
		dg_warn("req=%s could not count the download", r->id);
	if (rc == DG_EDB && dg_db_timed_out(d.db))
		dg_err_set(&r->err, DG_EUNAVAIL,
			   "Reading the table took too long; try again later.");
	else if (rc == DG_ETOOBIG)
		dg_err_set(&r->err, rc,
			   "The download is over its size cap: narrow it with filters, "
			   "fields or limit, or use csv");
	else if (rc != DG_OK && r->err.rc == DG_OK)
		dg_err_set(&r->err, rc, "The download could not be made.");
	if (dg_db_set_timeout_ms(d.db, 0) != DG_OK && rc == DG_OK)
		rc = DG_EDB;
out:
	dg_xlsx_free(d.x);
	if (d.xlsx_path[0])
		unlink(d.xlsx_path);
	if (d.fp)
		fclose(d.fp);
	dg_buf_release(&d.line);
	dg_ds_where_release(&w);
	free(d.cols);
	free(d.sel);
	json_decref(t.fields);
	json_decref(params);
	slot_put(slot);
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
