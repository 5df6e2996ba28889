/*
 * test_datastore_stream.c - /datastore/dump streamed (issue 16, issue 15
 * point 15), through the real server on whichever store DGOV_TEST_DB
 * selects, on a table of ROWS rows (many pages of the dump's keyset walk):
 *   - CSV, TSV and JSON equal what datastore_search returns for the same
 *     rows, paged by _id and put together here; filters, q, fields, limit,
 *     bom and labels still apply; the answer is chunked, with no length;
 *   - the first bytes arrive while the next page is still held in the
 *     server (failpoint datastore.dump.page, kind hold);
 *   - a page that fails after the headers went out cuts the transfer off
 *     (no last chunk) and the server goes on;
 *   - clients that leave after a few KB give their dump slots back, and the
 *     server answers the next requests;
 *   - XLSX, still built before it is sent, is capped with a clear 413.
 */
#include <setjmp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/failpoint.h"
#include "node/demo.h"
#include "opendata/datastore/datastore.h"
#include "harness.h"
#include "hardening.h"

/* The demo resource of minimum-living-allowance (department mz, open). */
#define RID   "00000000-0000-4000-9000-000000000001"
#define ROWS  12500
#define BATCH 2500

static char *mz;

static void arm(const char *spec)
{
	struct dg_err err = {0};
	assert_int_equal(dg_failpoint_set(spec, &err), DG_OK);
}

/* POST an action as who (a header line or NULL): the status; *ans the parsed body. */
static long call(const char *who, const char *action, const char *body, json_t **ans)
{
	struct th_client *c = th_client_new(th_shared);
	struct th_resp r = {0};
	char path[128];
	const char *h[] = {who, NULL};
	snprintf(path, sizeof path, "/api/3/action/%s", action);
	long st = th_request(c, "POST", path, "application/json", body, strlen(body),
			     who ? h : NULL, &r);
	json_error_t je;
	*ans = json_loadb(r.body ? r.body : "", r.len, JSON_DECODE_ANY, &je);
	th_resp_release(&r);
	th_client_free(c);
	return st;
}

/* Row x's note: NULL, or text with what CSV and TSV must quote, or Chinese. */
static json_t *note_of(long x)
{
	char s[64];
	switch (x % 5) {
	case 0: return json_null();
	case 1: snprintf(s, sizeof s, "逗号, \"引号\" %ld", x); break;
	case 2: snprintf(s, sizeof s, "line\nbreak %ld", x); break;
	case 3: snprintf(s, sizeof s, "tab\there %ld", x); break;
	default: snprintf(s, sizeof s, "中文 %ld", x); break;
	}
	return json_string(s);
}

/* A growing text (malloc'd, NUL-terminated). */
struct text {
	char *p;
	size_t len, cap;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		t->p = realloc(t->p, t->cap);
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

/* One value as dump.c must write it into CSV (sep ',') or TSV (sep '\t'). */
static void put_cell(struct text *t, json_t *v, char sep)
{
	char tmp[64];
	const char *s = tmp;
	if (json_is_null(v))
		s = "";
	else if (json_is_integer(v))
		snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
	else
		s = json_string_value(v);
	bool quote = strchr(s, sep) || strpbrk(s, "\"\r\n");
	if (quote)
		put(t, "\"", 1);
	for (; *s; s++)
		put(t, *s == '"' && quote ? "\"\"" : s, *s == '"' && quote ? 2 : 1);
	if (quote)
		put(t, "\"", 1);
}

/*
 * What datastore_search returns for filters (a JSON object's text, or NULL)
 * and q (or NULL), fields in order, up to limit records: every page, by _id,
 * as one array of lists (owned).
 */
static json_t *search_all(const char *filters, const char *q, const char *const *fields,
			  size_t nfields, long limit)
{
	json_t *all = json_array();
	long long last = 0;
	for (;;) {
		json_t *f = filters ? json_loads(filters, 0, NULL) : json_object();
		json_t *fl = json_array();
		size_t id_at = nfields; /* where _id is in each record */
		for (size_t i = 0; i < nfields; i++) {
			json_array_append_new(fl, json_string(fields[i]));
			if (strcmp(fields[i], "_id") == 0)
				id_at = i;
		}
		if (id_at == nfields)
			json_array_append_new(fl, json_string("_id"));
		json_object_set_new(f, "_id", json_pack("{s:I}", "gt", (json_int_t)last));
		json_t *b = json_pack("{s:s, s:i, s:s, s:s, s:o, s:o}", "resource_id", RID, "limit",
				      4000, "records_format", "lists", "sort", "_id", "filters", f,
				      "fields", fl);
		if (q)
			json_object_set_new(b, "q", json_string(q));
		char *body = json_dumps(b, 0);
		json_t *ans = NULL;
		assert_int_equal(call(NULL, "datastore_search", body, &ans), 200);
		json_t *recs = json_object_get(json_object_get(ans, "result"), "records");
		size_t i;
		json_t *rec;
		json_array_foreach (recs, i, rec) {
			if ((long)json_array_size(all) < limit) {
				json_t *row = json_array();
				for (size_t k = 0; k < nfields; k++)
					json_array_append(row, json_array_get(rec, k));
				json_array_append(all, row);
				json_decref(row);
			}
			last = json_integer_value(json_array_get(rec, id_at));
		}
		size_t n = json_array_size(recs);
		json_decref(ans);
		json_decref(b);
		free(body);
		if (n < 4000 || (long)json_array_size(all) >= limit)
			break;
	}
	return all;
}

/* rows (lists) as the dump writes CSV or TSV: a header of names, CRLF line ends. */
static char *as_delimited(json_t *rows, const char *const *fields, size_t nfields, char sep)
{
	struct text t = {0};
	size_t i;
	json_t *row;
	put(&t, "", 0);
	for (size_t k = 0; k < nfields; k++) {
		json_t *name = json_string(fields[k]);
		if (k)
			put(&t, &sep, 1);
		put_cell(&t, name, sep);
		json_decref(name);
	}
	put(&t, "\r\n", 2);
	json_array_foreach (rows, i, row) {
		for (size_t k = 0; k < nfields; k++) {
			if (k)
				put(&t, &sep, 1);
			put_cell(&t, json_array_get(row, k), sep);
		}
		put(&t, "\r\n", 2);
	}
	return t.p;
}

/* GET a dump (path after the resource id): the status, and the reply in *r. */
static long dump(const char *query, struct th_resp *r)
{
	struct th_client *c = th_client_new(th_shared);
	char path[1024];
	snprintf(path, sizeof path, "/datastore/dump/" RID "%s", query);
	long st = th_get(c, path, r);
	th_client_free(c);
	return st;
}

static void header_has(struct th_resp *r, const char *name, const char *want)
{
	char *v = th_header(r, name);
	if (want ? !v || !strstr(v, want) : v != NULL)
		fail_msg("%s: \"%s\", not \"%s\"", name, v ? v : "(none)", want ? want : "(none)");
	free(v);
}

static const char *const all_fields[] = {"_id", "name", "n", "note"};

/* The dump of query in format sep (',' CSV, '\t' TSV) equals the search's rows. */
static void delimited_equals_search(const char *query, char sep, const char *filters, const char *q,
				    const char *const *fields, size_t nfields, long limit)
{
	struct th_resp r = {0};
	assert_int_equal(dump(query, &r), 200);
	json_t *rows = search_all(filters, q, fields, nfields, limit);
	char *want = as_delimited(rows, fields, nfields, sep);
	if (r.len != strlen(want) || memcmp(r.body, want, r.len) != 0) {
		size_t at = 0;
		while (at < r.len && r.body[at] == want[at])
			at++;
		fail_msg("%s: %zu bytes, want %zu; first difference at %zu: \"%.40s\" / \"%.40s\"",
			 query, r.len, strlen(want), at, r.body + at, want + at);
	}
	/* streamed: chunked, no length */
	header_has(&r, "Content-Length", NULL);
	free(want);
	json_decref(rows);
	th_resp_release(&r);
}

static void each_format_equals_search(void **state)
{
	(void)state;
	/* CSV: every row, over many pages, named after the dataset */
	delimited_equals_search("", ',', NULL, NULL, all_fields, 4, ROWS);
	struct th_resp r = {0};
	assert_int_equal(dump("?limit=3", &r), 200);
	header_has(&r, "Content-Type", "text/csv");
	header_has(&r, "Content-Disposition",
		   "attachment; filename=\"minimum-living-allowance.csv\"");
	header_has(&r, "Content-Disposition", "filename*=UTF-8''");
	th_resp_release(&r);
	/* TSV */
	delimited_equals_search("?format=tsv", '\t', NULL, NULL, all_fields, 4, ROWS);
	/* JSON: the same rows as lists, the fields first */
	assert_int_equal(dump("?format=json", &r), 200);
	header_has(&r, "Content-Type", "application/json");
	header_has(&r, "Content-Length", NULL);
	json_error_t je;
	json_t *j = json_loadb(r.body, r.len, 0, &je);
	if (!j)
		fail_msg("the JSON dump does not parse: %s at %d", je.text, je.position);
	json_t *rows = search_all(NULL, NULL, all_fields, 4, ROWS);
	assert_int_equal(json_array_size(json_object_get(j, "records")), ROWS);
	assert_true(json_equal(json_object_get(j, "records"), rows));
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(j, "fields"), 3), "id")),
			    "note");
	json_decref(rows);
	json_decref(j);
	th_resp_release(&r);
	/* BOM and labels */
	assert_int_equal(dump("?bom=true&labels=zh&fields=name&limit=1", &r), 200);
	assert_string_equal(r.body, "\xef\xbb\xbf名称\r\nrow 1\r\n");
	th_resp_release(&r);
	assert_int_equal(dump("?labels=en&format=tsv&fields=name,n&limit=1", &r), 200);
	assert_string_equal(r.body, "Name\tn\r\nrow 1\t1\r\n");
	th_resp_release(&r);
	/* XLSX is a file, with its length */
	assert_int_equal(dump("?format=xlsx", &r), 200);
	header_has(&r, "Content-Type", "spreadsheetml.sheet");
	header_has(&r, "Content-Length", "");
	assert_true(r.len > 1000 && memcmp(r.body, "PK", 2) == 0);
	th_resp_release(&r);
}

static void filters_q_fields_and_limit_apply(void **state)
{
	(void)state;
	static const char *const name_n[] = {"name", "n"};
	/* n >= 90: a few rows of each page */
	delimited_equals_search("?filters=%7B%22n%22%3A%7B%22gte%22%3A90%7D%7D", ',',
				"{\"n\":{\"gte\":90}}", NULL, all_fields, 4, ROWS);
	/* q and fields */
	delimited_equals_search("?q=%E4%B8%AD%E6%96%87&fields=name,n&format=tsv", '\t', NULL,
				"中文", name_n, 2, ROWS);
	/* limit past a page, with a filter */
	delimited_equals_search("?limit=2345&fields=name,n&filters=%7B%22n%22%3A%5B1%2C2%2C3%5D%7D",
				',', "{\"n\":[1,2,3]}", NULL, name_n, 2, 2345);
	delimited_equals_search("?limit=2345&fields=name,n", ',', NULL, NULL, name_n, 2, 2345);
	/* nothing matches: the header alone */
	struct th_resp r = {0};
	assert_int_equal(dump("?filters=%7B%22n%22%3A-1%7D&fields=n", &r), 200);
	assert_string_equal(r.body, "n\r\n");
	th_resp_release(&r);
	/* bad parameters are still refused before anything is sent */
	assert_int_equal(dump("?fields=nope", &r), 400);
	th_resp_release(&r);
	long st = dump("?filters=%7B%22nope%22%3A1%7D", &r);
	assert_true(st >= 400 && st < 500);
	th_resp_release(&r);
}

/* Read fd until at_least bytes came (0: until it closes, or ms pass): all of it, malloc'd. */
static char *read_until(int fd, size_t at_least, int ms, size_t *len, bool *closed)
{
	size_t cap = 1 << 16;
	char *p = malloc(cap + 1);
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	*len = 0;
	*closed = false;
	p[0] = '\0';
	while (!(at_least && *len >= at_least) && poll(&pf, 1, ms) > 0) {
		if (*len == cap)
			p = realloc(p, (cap *= 2) + 1);
		ssize_t k = recv(fd, p + *len, cap - *len, 0);
		if (k <= 0) {
			*closed = true;
			break;
		}
		*len += (size_t)k;
		p[*len] = '\0';
	}
	return p;
}

/*
 * The body of a chunked reply as read so far (raw: status line, headers,
 * chunks), as far as whole chunks go (malloc'd); *ended when the last,
 * empty chunk came.
 */
static char *dechunk(const char *raw, size_t len, size_t *out_len, bool *ended)
{
	struct text t = {0};
	const char *p = strstr(raw, "\r\n\r\n"), *end = raw + len;
	put(&t, "", 0);
	*ended = false;
	for (p = p ? p + 4 : end; p < end;) {
		char *q = NULL;
		unsigned long n = strtoul(p, &q, 16);
		const char *data = q ? strstr(q, "\r\n") : NULL;
		if (!data || q == p)
			break;
		data += 2;
		if (n == 0) {
			*ended = true;
			break;
		}
		if ((size_t)(end - data) < n + 2)
			break;
		put(&t, data, n);
		p = data + n + 2;
	}
	*out_len = t.len;
	return t.p;
}

static const char get_dump[] = "GET /datastore/dump/" RID " HTTP/1.1\r\nHost: x\r\n"
			       "Connection: close\r\n\r\n";

static void first_bytes_come_at_once(void **state)
{
	(void)state;
	/* every page after the first is held in the server */
	arm("datastore.dump.page=hold:30000");
	int fd = dial("127.0.0.1", th_port(th_shared));
	send_all(fd, get_dump);
	size_t len, blen;
	bool closed, ended;
	char *got = read_until(fd, 16384, 10000, &len, &closed);
	assert_false(closed);
	assert_non_null(strstr(got, "HTTP/1.1 200"));
	assert_non_null(strstr(got, "Transfer-Encoding: chunked\r\n"));
	assert_null(strstr(got, "Content-Length:"));
	char *body = dechunk(got, len, &blen, &ended);
	assert_false(ended);
	static const char start[] = "_id,name,n,note\r\n1,row 1,1,";
	assert_true(strncmp(body, start, strlen(start)) == 0);
	assert_non_null(strstr(body, "\r\n300,row 300,"));
	free(body);
	for (int i = 0; i < 1000 && dg_failpoint_fired("datastore.dump.page") < 1; i++)
		th_sleep_ms(10);
	assert_int_equal(dg_failpoint_fired("datastore.dump.page"), 1);
	free(got);
	/* let it go: the rest comes, and the chunked body ends properly */
	arm("");
	char *rest = read_until(fd, 0, 10000, &len, &closed);
	assert_true(closed);
	free(rest);
	close(fd);
	/* the same again, read whole: every row once */
	fd = dial("127.0.0.1", th_port(th_shared));
	send_all(fd, get_dump);
	got = read_until(fd, 0, 10000, &len, &closed);
	body = dechunk(got, len, &blen, &ended);
	assert_true(ended);
	json_t *rows = search_all(NULL, NULL, all_fields, 4, ROWS);
	char *want = as_delimited(rows, all_fields, 4, ',');
	assert_int_equal(blen, strlen(want));
	assert_memory_equal(body, want, blen);
	free(want);
	json_decref(rows);
	free(body);
	free(got);
	close(fd);
}

static void error_after_headers_cuts_off(void **state)
{
	(void)state;
	/* the second page's connection cannot be had */
	arm("datastore.dump.page=busy*1");
	int fd = dial("127.0.0.1", th_port(th_shared));
	send_all(fd, get_dump);
	size_t len, blen;
	bool closed, ended;
	char *got = read_until(fd, 0, 10000, &len, &closed);
	arm("");
	assert_true(closed);
	/* the status was sent; the body stops after the first page, without its last chunk */
	assert_non_null(strstr(got, "HTTP/1.1 200"));
	assert_non_null(strstr(got, "Transfer-Encoding: chunked\r\n"));
	char *body = dechunk(got, len, &blen, &ended);
	assert_false(ended);
	assert_non_null(strstr(body, "\r\n1000,row 1000,"));
	assert_null(strstr(body, "\r\n1001,row 1001,"));
	free(body);
	free(got);
	close(fd);
	/* a client reading with curl sees a failed transfer (status 0), not a short file */
	arm("datastore.dump.page=busy*1");
	struct th_resp r = {0};
	assert_int_equal(dump("", &r), 0);
	th_resp_release(&r);
	arm("");
	/* and the next one is whole */
	assert_int_equal(dump("?fields=_id", &r), 200);
	assert_non_null(strstr(r.body, "\r\n12500\r\n"));
	th_resp_release(&r);
}

struct held {
	long status;
};

static void *run_dump(void *arg)
{
	struct held *h = arg;
	struct th_resp r = {0};
	h->status = dump("?limit=1", &r);
	th_resp_release(&r);
	return NULL;
}

/*
 * Whether this address's DUMPS_PER_CALLER (2) dump slots are both free:
 * two dumps held where they start (each has its slot then) are both let in.
 */
static bool both_slots_free(void)
{
	pthread_t t[2];
	struct held h[2] = {{0}, {0}};
	arm("datastore.dump.run=hold:30000*2");
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, run_dump, &h[i]), 0);
	for (int i = 0; i < 300 && dg_failpoint_fired("datastore.dump.run") < 2 &&
			h[0].status != 429 && h[1].status != 429;
	     i++)
		th_sleep_ms(10);
	arm("");
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	return h[0].status == 200 && h[1].status == 200;
}

static void clients_that_leave_free_their_slots(void **state)
{
	(void)state;
	/* more clients than one address may run dumps at once, each gone after a few KB */
	for (int i = 0; i < 6; i++) {
		/* held after its first page, so it is mid-stream when its client goes */
		arm("datastore.dump.page=hold:30000");
		int fd = dial("127.0.0.1", th_port(th_shared));
		send_all(fd, get_dump);
		size_t len;
		bool closed;
		char *got = read_until(fd, 8192, 10000, &len, &closed);
		assert_true(len >= 8192);
		free(got);
		for (int k = 0; k < 1000 && dg_failpoint_fired("datastore.dump.page") < 1; k++)
			th_sleep_ms(10);
		close(fd); /* unread bytes make it a reset */
		arm("");
		/* its slot comes back (the server notices at its next write) */
		bool freed = false;
		for (int k = 0; k < 50 && !(freed = both_slots_free()); k++)
			th_sleep_ms(100);
		assert_true(freed);
	}
	/* the server answers the rest as before */
	json_t *health = th_get_json(th_shared, "/healthz", 200);
	assert_non_null(health);
	json_decref(health);
	struct th_resp r = {0};
	assert_int_equal(dump("?fields=_id&format=tsv", &r), 200);
	assert_non_null(strstr(r.body, "\r\n12500\r\n"));
	th_resp_release(&r);
}

static void xlsx_is_capped(void **state)
{
	(void)state;
	struct th_resp r = {0};
	dg_datastore_set_xlsx_max(64 << 10);
	long st = dump("?format=xlsx", &r);
	dg_datastore_set_xlsx_max(0);
	assert_int_equal(st, 413);
	assert_non_null(strstr(r.body, "over its cap"));
	assert_non_null(strstr(r.body, "format=csv"));
	th_resp_release(&r);
	/* a narrower one fits */
	dg_datastore_set_xlsx_max(64 << 10);
	st = dump("?format=xlsx&limit=100", &r);
	dg_datastore_set_xlsx_max(0);
	assert_int_equal(st, 200);
	th_resp_release(&r);
	/* CSV has no cap */
	assert_int_equal(dump("?fields=_id", &r), 200);
	th_resp_release(&r);
}

/* Make the dataset holding RID private (true) or public again, as its department. */
static void set_private(bool priv)
{
	json_t *ans = NULL;
	assert_int_equal(call(mz, "resource_show", "{\"id\":\"" RID "\"}", &ans), 200);
	char body[200];
	snprintf(body, sizeof body, "{\"id\":\"%s\",\"private\":%s}",
		 json_string_value(json_object_get(json_object_get(ans, "result"), "package_id")),
		 priv ? "true" : "false");
	json_decref(ans);
	assert_int_equal(call(mz, "package_patch", body, &ans), 200);
	json_decref(ans);
}

/* A dump held after its first page, as the header line who (NULL: anonymous). */
struct held_dump {
	int fd;
	char *first; /* what came before the hold */
	size_t len;
};

static struct held_dump held_dump(const char *who)
{
	struct held_dump h;
	char req[512];
	bool closed;
	arm("datastore.dump.page=hold:30000");
	snprintf(req, sizeof req,
		 "GET /datastore/dump/" RID " HTTP/1.1\r\nHost: x\r\n%s%sConnection: close\r\n\r\n",
		 who ? who : "", who ? "\r\n" : "");
	h.fd = dial("127.0.0.1", th_port(th_shared));
	send_all(h.fd, req);
	h.first = read_until(h.fd, 8192, 10000, &h.len, &closed);
	assert_false(closed);
	assert_non_null(strstr(h.first, "HTTP/1.1 200"));
	for (int i = 0; i < 1000 && dg_failpoint_fired("datastore.dump.page") < 1; i++)
		th_sleep_ms(10);
	assert_int_equal(dg_failpoint_fired("datastore.dump.page"), 1);
	return h;
}

/* The whole of a held dump once let go: whether its chunked body ended properly. */
static bool rest_ends(struct held_dump h, bool *has_last_row)
{
	size_t len, blen;
	bool closed, ended;
	arm("");
	char *rest = read_until(h.fd, 0, 10000, &len, &closed);
	close(h.fd);
	assert_true(closed);
	char *all = malloc(h.len + len + 1);
	memcpy(all, h.first, h.len);
	memcpy(all + h.len, rest, len);
	all[h.len + len] = '\0';
	char *body = dechunk(all, h.len + len, &blen, &ended);
	assert_non_null(strstr(body, "\r\n1000,row 1000,"));
	*has_last_row = strstr(body, "\r\n12500,row 12500,") != NULL;
	free(body);
	free(all);
	free(rest);
	free(h.first);
	return ended;
}

static void access_that_ends_cuts_off(void **state)
{
	(void)state;
	bool last;
	/* an anonymous download: the dataset made private while it runs stops it */
	struct held_dump h = held_dump(NULL);
	set_private(true);
	assert_false(rest_ends(h, &last));
	assert_false(last);
	/* resource_show, as package_show: the private dataset's resource is its department's */
	json_t *ans = NULL;
	assert_int_equal(call(NULL, "resource_show", "{\"id\":\"" RID "\"}", &ans), 404);
	json_decref(ans);
	assert_int_equal(call(mz, "resource_show", "{\"id\":\"" RID "\"}", &ans), 200);
	json_decref(ans);
	/* the department's own download of its private dataset runs to the end */
	h = held_dump(mz);
	assert_true(rest_ends(h, &last));
	assert_true(last);
	set_private(false);
	/* public again: an anonymous download runs to the end */
	h = held_dump(NULL);
	assert_true(rest_ends(h, &last));
	assert_true(last);
}

static void head_sends_headers_only(void **state)
{
	(void)state;
	struct th_client *c = th_client_new(th_shared);
	struct th_resp get = {0}, head = {0};
	/* the store's queries are counted (a 1 ms wait each) to see what each one reads */
	arm("store.query=slow:1");
	assert_int_equal(th_get(c, "/datastore/dump/" RID "?format=tsv", &get), 200);
	long get_queries = dg_failpoint_fired("store.query");
	arm("store.query=slow:1");
	assert_int_equal(th_request(c, "HEAD", "/datastore/dump/" RID "?format=tsv", NULL, NULL, 0,
				    NULL, &head),
			 200);
	long head_queries = dg_failpoint_fired("store.query");
	arm("");
	assert_int_equal(head.len, 0);
	assert_true(get.len > 100000);
	/* the same headers as the GET's */
	char *want = th_header(&get, "Content-Disposition");
	assert_non_null(want);
	header_has(&head, "Content-Disposition", want);
	free(want);
	header_has(&head, "Content-Type", "text/tab-separated-values");
	/* fewer reads: none of the table's rows (GET read 13 pages) */
	assert_true(head_queries > 0);
	assert_true(head_queries + 13 <= get_queries);
	th_resp_release(&get);
	th_resp_release(&head);
	/* the checks a GET has: a bad format, and a private dataset to the public */
	assert_int_equal(th_request(c, "HEAD", "/datastore/dump/" RID "?format=doc", NULL, NULL, 0,
				    NULL, &head),
			 400);
	th_resp_release(&head);
	set_private(true);
	assert_int_equal(th_request(c, "HEAD", "/datastore/dump/" RID, NULL, NULL, 0, NULL, &head),
			 404);
	th_resp_release(&head);
	set_private(false);
	th_client_free(c);
}

static int setup(void **state)
{
	if (th_group_setup(state) != 0)
		return -1;
	mz = th_token_header(th_shared, DG_DEMO_STAFF, DG_DEMO_PASSWORD);
	if (!mz)
		return -1;
	json_t *ans = NULL;
	call(mz, "datastore_delete", "{\"resource_id\":\"" RID "\",\"force\":true}", &ans);
	json_decref(ans);
	long st = call(mz, "datastore_create",
		       "{\"resource_id\":\"" RID "\",\"force\":true,\"fields\":["
		       "{\"id\":\"name\",\"type\":\"text\","
		       "\"info\":{\"label\":\"名称\",\"label_en\":\"Name\"}},"
		       "{\"id\":\"n\",\"type\":\"int\"},{\"id\":\"note\",\"type\":\"text\"}]}",
		       &ans);
	json_decref(ans);
	if (st != 200)
		return -1;
	for (long x = 1; x <= ROWS; x += BATCH) {
		json_t *recs = json_array();
		for (long k = x; k < x + BATCH; k++) {
			char name[32];
			snprintf(name, sizeof name, "row %ld", k);
			json_array_append_new(recs,
					      json_pack("{s:s, s:I, s:o}", "name", name, "n",
							(json_int_t)(k % 97), "note", note_of(k)));
		}
		json_t *b = json_pack("{s:s, s:b, s:s, s:o}", "resource_id", RID, "force", 1,
				      "method", "insert", "records", recs);
		char *body = json_dumps(b, 0);
		st = call(mz, "datastore_upsert", body, &ans);
		free(body);
		json_decref(b);
		json_decref(ans);
		if (st != 200)
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	arm("");
	free(mz);
	return th_group_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_format_equals_search),
		cmocka_unit_test(filters_q_fields_and_limit_apply),
		cmocka_unit_test(first_bytes_come_at_once),
		cmocka_unit_test(error_after_headers_cuts_off),
		cmocka_unit_test(clients_that_leave_free_their_slots),
		cmocka_unit_test(xlsx_is_capped),
		cmocka_unit_test(access_that_ends_cuts_off),
		cmocka_unit_test(head_sends_headers_only),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
