/*
 * cookie.c - parsing the Cookie header and formatting Set-Cookie values.
 *
 * Both sides use the same notion of a valid name (an RFC 7230 token) and a
 * valid value (RFC 6265 cookie-octets), so what dgov sets it can read back
 * and nothing it sets can split a header.
 */
#include "http/cookie.h"

#include <string.h>

#include "core/str.h"

static bool token_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return strchr("()<>@,;:\\\"/[]?={}", c) == NULL;
}

/* cookie-octet, widened to UTF-8 bytes (browsers send them; we check UTF-8 apart) */
static bool value_char(unsigned char c)
{
	if (c < 0x21 || c == 0x7f)
		return false;
	return c != '"' && c != ',' && c != ';' && c != '\\';
}

static bool valid_name(struct dg_str s)
{
	if (s.n == 0)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (!token_char((unsigned char)s.p[i]))
			return false;
	return true;
}

static bool valid_value(struct dg_str s)
{
	for (size_t i = 0; i < s.n; i++)
		if (!value_char((unsigned char)s.p[i]))
			return false;
	return dg_utf8_valid(s.p, s.n);
}

static void add_pair(struct dg_str pair, struct dg_arena *a, struct dg_kvs *out)
{
	struct dg_str name;
	struct dg_str val = dg_str_cut(pair, '=', &name);
	if (!val.p)
		return; /* no '=' */
	name = dg_str_trim(name);
	val = dg_str_trim(val);
	if (val.n >= 2 && val.p[0] == '"' && val.p[val.n - 1] == '"') {
		val.p++;
		val.n -= 2;
	}
	if (!valid_name(name) || !valid_value(val))
		return;
	dg_kvs_add(out, a, dg_arena_strndup(a, name.p, name.n), dg_arena_strndup(a, val.p, val.n),
		   val.n);
}

void dg_cookie_parse(const char *h, size_t max, struct dg_arena *a, struct dg_kvs *out)
{
	struct dg_str rest = dg_str_of(h);
	size_t added = 0;
	/* one segment per turn: at most strlen(h) turns */
	while (rest.n > 0 && added < max) {
		struct dg_str pair;
		rest = dg_str_cut(rest, ';', &pair);
		size_t before = out->n;
		add_pair(pair, a, out);
		added += out->n - before;
	}
}

dg_rc dg_cookie_format(struct dg_buf *b, const char *name, const char *value, long max_age,
		       bool http_only, bool secure)
{
	struct dg_str n = dg_str_of(name), v = dg_str_of(value);
	if (!valid_name(n) || !valid_value(v))
		return DG_EINVAL;
	dg_rc rc = dg_buf_addf(b, "%s=%s; Path=/; SameSite=Lax", name, value ? value : "");
	if (!rc && max_age >= 0)
		rc = dg_buf_addf(b, "; Max-Age=%ld", max_age);
	if (!rc && http_only)
		rc = dg_buf_adds(b, "; HttpOnly");
	if (!rc && secure)
		rc = dg_buf_adds(b, "; Secure");
	return rc;
}
