/*
 * multipart.c - multipart/form-data, parsed as it arrives.
 *
 * The body goes through a small window (at most one part-header block plus
 * one chunk). The parser acts as if the body began with CRLF, so every
 * boundary, the first included, is the delimiter "\r\n--" + boundary. In a
 * part's body everything but the last (delimiter length - 1) bytes of the
 * window is known to be data and is handed on, so a delimiter split across
 * any number of chunks is still found. step() is the state machine; it is
 * long because the states read best side by side.
 */
#include "http/multipart.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/str.h"

#define CHUNK        16384
#define MAX_BOUNDARY 70

enum state { PREAMBLE, AFTER_DELIM, HEADERS, BODY, DONE };

struct tmpfile {
	int fd;
	char *path;
};

struct part {
	char *name, *filename, *ctype;
	struct tmpfile *file; /* NULL for a text field */
	size_t size;
	struct dg_buf text;
};

struct dg_mp {
	struct dg_arena *a;
	struct dg_mp_limits lim;
	const char *dir;
	char delim[MAX_BOUNDARY + 5];
	size_t dlen;
	char *win;
	size_t len, cap;
	enum state st;
	dg_rc rc;
	const char *msg;
	struct part cur;
	bool in_part;
	size_t nparts;
	struct dg_kvs fields;
	struct dg_upload *ups;
	size_t nups, capups;
};

static dg_rc fail(struct dg_mp *m, dg_rc rc, const char *msg)
{
	m->rc = rc;
	m->msg = msg;
	return rc;
}

static void drop_tmpfile(void *p)
{
	struct tmpfile *t = p;
	if (t->fd >= 0)
		close(t->fd);
	unlink(t->path);
}

static void release_text(void *p)
{
	dg_buf_release(&((struct dg_mp *)p)->cur.text);
}

/* boundary=... (token or quoted) among the content type's parameters */
static dg_rc find_boundary(const char *ct, struct dg_str *out)
{
	struct dg_str type;
	struct dg_str rest = dg_str_cut(dg_str_of(ct), ';', &type);
	if (!dg_str_case_eqs(dg_str_trim(type), "multipart/form-data"))
		return DG_EINVAL;
	while (rest.p && rest.n) {
		struct dg_str param, key;
		rest = dg_str_cut(rest, ';', &param);
		struct dg_str val = dg_str_cut(dg_str_trim(param), '=', &key);
		if (!dg_str_case_eqs(dg_str_trim(key), "boundary"))
			continue;
		val = dg_str_trim(val);
		if (val.n >= 2 && val.p[0] == '"' && val.p[val.n - 1] == '"') {
			val.p++;
			val.n -= 2;
		}
		*out = val;
		return DG_OK;
	}
	return DG_EINVAL;
}

static bool boundary_ok(struct dg_str b)
{
	if (b.n < 1 || b.n > MAX_BOUNDARY || b.p[b.n - 1] == ' ')
		return false;
	for (size_t i = 0; i < b.n; i++) {
		unsigned char c = (unsigned char)b.p[i];
		if (c < 0x20 || c > 0x7e || c == '"')
			return false;
	}
	return true;
}

dg_rc dg_mp_new(const char *content_type, const char *upload_dir, const struct dg_mp_limits *lim,
		struct dg_arena *a, struct dg_mp **out)
{
	struct dg_str b = {0};
	if (!content_type || find_boundary(content_type, &b) || !boundary_ok(b))
		return DG_EINVAL;
	struct dg_mp *m = dg_arena_alloc(a, sizeof(*m));
	m->a = a;
	m->lim = *lim;
	m->dir = dg_arena_strdup(a, upload_dir ? upload_dir : "/tmp");
	memcpy(m->delim, "\r\n--", 4);
	memcpy(m->delim + 4, b.p, b.n);
	m->dlen = 4 + b.n;
	m->cap = lim->max_header + m->dlen + CHUNK + 8;
	m->win = dg_arena_alloc(a, m->cap);
	memcpy(m->win, "\r\n", 2); /* see the top of the file */
	m->len = 2;
	dg_buf_init(&m->cur.text, lim->max_field);
	dg_arena_defer(a, release_text, m);
	*out = m;
	return DG_OK;
}

static void consume(struct dg_mp *m, size_t k)
{
	memmove(m->win, m->win + k, m->len - k);
	m->len -= k;
}

/* Parse one parameter of Content-Disposition at *s: key and (unquoted) value. */
static bool next_param(struct dg_str *s, struct dg_str *key, char *val, size_t valcap, size_t *vlen)
{
	*s = dg_str_trim(*s);
	if (s->n == 0)
		return false;
	struct dg_str rest = dg_str_cut(*s, '=', key);
	*key = dg_str_trim(*key);
	*vlen = 0;
	if (!rest.p)
		return false;
	rest = dg_str_trim(rest);
	size_t i = 0;
	if (rest.n && rest.p[0] == '"') {
		/* quoted-string: backslash escapes the next byte */
		for (i = 1; i < rest.n && rest.p[i] != '"'; i++) {
			if (rest.p[i] == '\\' && i + 1 < rest.n)
				i++;
			if (*vlen + 1 >= valcap)
				return false;
			val[(*vlen)++] = rest.p[i];
		}
		if (i >= rest.n)
			return false;
		i++;
	} else {
		for (; i < rest.n && rest.p[i] != ';'; i++) {
			if (*vlen + 1 >= valcap)
				return false;
			val[(*vlen)++] = rest.p[i];
		}
	}
	val[*vlen] = '\0';
	struct dg_str after = dg_str_trim((struct dg_str){rest.p + i, rest.n - i});
	if (after.n && after.p[0] != ';')
		return false;
	*s = after.n ? (struct dg_str){after.p + 1, after.n - 1} : after;
	return true;
}

/* The file name as a display string: its last path component. */
static char *display_name(struct dg_arena *a, const char *v, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] == '/' || v[i] == '\\')
			start = i + 1;
	return dg_arena_strndup(a, v + start, n - start);
}

static dg_rc parse_disposition(struct dg_mp *m, struct dg_str v)
{
	struct dg_str type;
	struct dg_str rest = dg_str_cut(v, ';', &type);
	if (!dg_str_case_eqs(dg_str_trim(type), "form-data"))
		return fail(m, DG_EINVAL, "a part is not form-data");
	char val[1024];
	size_t vlen;
	struct dg_str key;
	while (rest.p && dg_str_trim(rest).n) {
		if (!next_param(&rest, &key, val, sizeof(val), &vlen))
			return fail(m, DG_EINVAL, "a part's Content-Disposition is malformed");
		if (!dg_utf8_valid(val, vlen))
			return fail(m, DG_EINVAL, "a part's name is not UTF-8");
		if (dg_str_case_eqs(key, "name") && !m->cur.name)
			m->cur.name = dg_arena_strndup(m->a, val, vlen);
		else if (dg_str_case_eqs(key, "filename") && !m->cur.filename)
			m->cur.filename = display_name(m->a, val, vlen);
		else if (dg_str_case_eqs(key, "name") || dg_str_case_eqs(key, "filename"))
			return fail(m, DG_EINVAL, "a part names itself twice");
	}
	if (!m->cur.name || !m->cur.name[0])
		return fail(m, DG_EINVAL, "a part has no name");
	return DG_OK;
}

static dg_rc parse_header_line(struct dg_mp *m, struct dg_str line, bool *seen_cd)
{
	struct dg_str name;
	struct dg_str val = dg_str_cut(line, ':', &name);
	if (!val.p || name.n == 0 || name.p[0] == ' ' || name.p[0] == '\t')
		return fail(m, DG_EINVAL, "a part header is malformed");
	val = dg_str_trim(val);
	for (size_t i = 0; i < val.n; i++)
		if ((unsigned char)val.p[i] < 0x20 && val.p[i] != '\t')
			return fail(m, DG_EINVAL, "a part header holds a control byte");
	if (dg_str_case_eqs(name, "Content-Disposition")) {
		if (*seen_cd)
			return fail(m, DG_EINVAL, "a part has two Content-Disposition headers");
		*seen_cd = true;
		return parse_disposition(m, val);
	}
	if (dg_str_case_eqs(name, "Content-Type")) {
		if (m->cur.ctype)
			return fail(m, DG_EINVAL, "a part has two Content-Type headers");
		m->cur.ctype = dg_arena_strndup(m->a, val.p, val.n);
	}
	return DG_OK;
}

static dg_rc open_file(struct dg_mp *m)
{
	struct tmpfile *t = dg_arena_alloc(m->a, sizeof(*t));
	t->path = dg_arena_printf(m->a, "%s/dgup-XXXXXX", m->dir);
	t->fd = mkostemp(t->path, O_CLOEXEC);
	if (t->fd < 0)
		return fail(m, DG_EIO, "the upload could not be stored");
	dg_arena_defer(m->a, drop_tmpfile, t);
	m->cur.file = t;
	return DG_OK;
}

static dg_rc start_part(struct dg_mp *m, const char *block, size_t n)
{
	m->cur.name = m->cur.filename = m->cur.ctype = NULL;
	m->cur.file = NULL;
	m->cur.size = 0;
	dg_buf_reset(&m->cur.text);
	bool seen_cd = false;
	struct dg_str rest = {block, n};
	/* header lines are CRLF-separated; a bare CR or LF is refused */
	while (rest.n) {
		const char *crlf = memmem(rest.p, rest.n, "\r\n", 2);
		size_t len = crlf ? (size_t)(crlf - rest.p) : rest.n;
		struct dg_str line = {rest.p, len};
		if (memchr(line.p, '\r', len) || memchr(line.p, '\n', len))
			return fail(m, DG_EINVAL, "a part header holds a bare CR or LF");
		dg_rc rc = parse_header_line(m, line, &seen_cd);
		if (rc)
			return rc;
		rest = crlf ? (struct dg_str){crlf + 2, rest.n - len - 2}
			    : (struct dg_str){NULL, 0};
	}
	if (!seen_cd)
		return fail(m, DG_EINVAL, "a part has no Content-Disposition");
	m->in_part = true;
	return m->cur.filename ? open_file(m) : DG_OK;
}

static dg_rc write_all(struct dg_mp *m, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(m->cur.file->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return fail(m, DG_EIO, "the upload could not be stored");
		p += w;
		n -= (size_t)w;
	}
	return DG_OK;
}

static dg_rc emit(struct dg_mp *m, const char *p, size_t n)
{
	if (!n)
		return DG_OK;
	if (!m->cur.file) {
		if (dg_buf_add(&m->cur.text, p, n))
			return fail(m, DG_ETOOBIG, "a form field is too long");
		return DG_OK;
	}
	if (n > m->lim.max_file - m->cur.size)
		return fail(m, DG_ETOOBIG, "an uploaded file is too large");
	m->cur.size += n;
	return write_all(m, p, n);
}

static dg_rc end_part(struct dg_mp *m)
{
	struct part *c = &m->cur;
	m->in_part = false;
	if (!c->file) {
		if (!dg_utf8_valid(c->text.ptr ? c->text.ptr : "", c->text.len))
			return fail(m, DG_EINVAL, "a form field is not UTF-8");
		dg_kvs_add(&m->fields, m->a, c->name,
			   dg_arena_strndup(m->a, dg_buf_str(&c->text), c->text.len), c->text.len);
		return DG_OK;
	}
	close(c->file->fd);
	c->file->fd = -1;
	if (!c->filename[0] && c->size == 0)
		return DG_OK; /* a file input left empty */
	if (m->nups == m->capups) {
		size_t cap = m->capups ? m->capups * 2 : 4;
		struct dg_upload *v = dg_arena_alloc(m->a, cap * sizeof(*v));
		if (m->nups)
			memcpy(v, m->ups, m->nups * sizeof(*v));
		m->ups = v;
		m->capups = cap;
	}
	m->ups[m->nups++] = (struct dg_upload){c->name, c->filename,
					       c->ctype ? c->ctype : "application/octet-stream",
					       c->file->path, c->size};
	return DG_OK;
}

/* Search for the delimiter; hand on what is surely data. Sets *progress. */
static dg_rc scan_body(struct dg_mp *m, bool data, bool *progress)
{
	const char *hit = memmem(m->win, m->len, m->delim, m->dlen);
	if (hit) {
		size_t at = (size_t)(hit - m->win);
		dg_rc rc = data ? emit(m, m->win, at) : DG_OK;
		if (!rc && data)
			rc = end_part(m);
		if (rc)
			return rc;
		consume(m, at + m->dlen);
		m->st = AFTER_DELIM;
		*progress = true;
		return DG_OK;
	}
	if (m->len < m->dlen)
		return DG_OK;
	size_t safe = m->len - (m->dlen - 1);
	dg_rc rc = data ? emit(m, m->win, safe) : DG_OK;
	if (rc)
		return rc;
	consume(m, safe);
	*progress = true;
	return DG_OK;
}

static dg_rc after_delim(struct dg_mp *m, bool *progress)
{
	if (m->len < 2)
		return DG_OK;
	*progress = true;
	if (m->win[0] == ' ' || m->win[0] == '\t') {
		consume(m, 1); /* transport padding */
		return DG_OK;
	}
	if (memcmp(m->win, "--", 2) == 0) {
		m->st = DONE;
		return DG_OK;
	}
	if (memcmp(m->win, "\r\n", 2) != 0)
		return fail(m, DG_EINVAL, "a boundary is followed by garbage");
	if (++m->nparts > m->lim.max_parts)
		return fail(m, DG_ETOOBIG, "the form has too many parts");
	consume(m, 2);
	m->st = HEADERS;
	return DG_OK;
}

static dg_rc headers(struct dg_mp *m, bool *progress)
{
	const char *end = memmem(m->win, m->len, "\r\n\r\n", 4);
	if (m->len >= 2 && memcmp(m->win, "\r\n", 2) == 0)
		return fail(m, DG_EINVAL, "a part has no headers");
	if (!end) {
		if (m->len > m->lim.max_header + 4)
			return fail(m, DG_ETOOBIG, "a part's headers are too long");
		return DG_OK;
	}
	size_t n = (size_t)(end - m->win);
	if (n > m->lim.max_header)
		return fail(m, DG_ETOOBIG, "a part's headers are too long");
	dg_rc rc = start_part(m, m->win, n);
	if (rc)
		return rc;
	consume(m, n + 4);
	m->st = BODY;
	*progress = true;
	return DG_OK;
}

static dg_rc step(struct dg_mp *m, bool *progress)
{
	*progress = false;
	switch (m->st) {
	case PREAMBLE: return scan_body(m, false, progress);
	case AFTER_DELIM: return after_delim(m, progress);
	case HEADERS: return headers(m, progress);
	case BODY: return scan_body(m, true, progress);
	case DONE:
		m->len = 0; /* the epilogue is ignored */
		return DG_OK;
	}
	return DG_EINTERNAL;
}

dg_rc dg_mp_feed(struct dg_mp *m, const char *p, size_t n)
{
	if (m->rc)
		return m->rc;
	while (n) {
		size_t take = m->cap - m->len < n ? m->cap - m->len : n;
		if (take > CHUNK)
			take = CHUNK;
		if (take == 0)
			return fail(m, DG_EINTERNAL, "the multipart window is full");
		memcpy(m->win + m->len, p, take);
		m->len += take;
		p += take;
		n -= take;
		bool progress = true;
		/* every step either consumes bytes or changes state toward consuming them */
		while (progress) {
			dg_rc rc = step(m, &progress);
			if (rc)
				return rc;
		}
	}
	return DG_OK;
}

dg_rc dg_mp_finish(struct dg_mp *m, struct dg_kvs *form, struct dg_upload **uploads,
		   size_t *nuploads)
{
	if (m->rc)
		return m->rc;
	if (m->st != DONE)
		return fail(m, DG_EINVAL, "the form ended without its final boundary");
	for (size_t i = 0; i < m->fields.n; i++)
		dg_kvs_add(form, m->a, m->fields.v[i].key, m->fields.v[i].val, m->fields.v[i].len);
	*uploads = m->ups;
	*nuploads = m->nups;
	return DG_OK;
}

const char *dg_mp_error(const struct dg_mp *m)
{
	return m->msg ? m->msg : "";
}
