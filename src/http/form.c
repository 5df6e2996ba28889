/*
 * form.c - the urlencoded parser used for request bodies and query strings.
 *
 * One pass over '&'-separated segments, each split at its first '=' and
 * percent-decoded into the request's arena. Decoded text must be UTF-8
 * without NUL, so handlers never see bytes a template or SQL driver would
 * choke on. Bounded by max_bytes and max_fields.
 */
#include "http/form.h"

#include <string.h>

#include "core/str.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

dg_rc dg_form_decode(const char *p, size_t n, int plus_space, struct dg_arena *a, char **out,
		     size_t *len)
{
	/* decoding never lengthens the text */
	char *d = dg_arena_alloc(a, n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '%') {
			if (n - i < 3)
				return DG_EINVAL;
			int h = hexval(p[i + 1]), l = hexval(p[i + 2]);
			if (h < 0 || l < 0)
				return DG_EINVAL;
			c = (char)(h * 16 + l);
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		d[k++] = c;
	}
	d[k] = '\0';
	if (!dg_utf8_valid(d, k))
		return DG_EINVAL;
	*out = d;
	*len = k;
	return DG_OK;
}

static dg_rc add_pair(struct dg_str seg, struct dg_arena *a, struct dg_kvs *out)
{
	struct dg_str key;
	struct dg_str val = dg_str_cut(seg, '=', &key);
	char *k = NULL, *v = NULL;
	size_t klen = 0, vlen = 0;
	dg_rc rc = dg_form_decode(key.p, key.n, 1, a, &k, &klen);
	if (rc)
		return rc;
	rc = dg_form_decode(val.p ? val.p : "", val.n, 1, a, &v, &vlen);
	if (rc)
		return rc;
	if (klen > 0)
		dg_kvs_add(out, a, k, v, vlen);
	return DG_OK;
}

dg_rc dg_form_parse(const char *p, size_t n, size_t max_fields, size_t max_bytes,
		    struct dg_arena *a, struct dg_kvs *out)
{
	if (n > max_bytes)
		return DG_ETOOBIG;
	struct dg_str rest = {p, n};
	size_t fields = 0;
	/* each turn consumes one segment, so the loop ends after at most n turns */
	while (rest.n > 0) {
		struct dg_str seg;
		rest = dg_str_cut(rest, '&', &seg);
		if (seg.n == 0)
			continue;
		if (++fields > max_fields)
			return DG_ETOOBIG;
		dg_rc rc = add_pair(seg, a, out);
		if (rc)
			return rc;
	}
	return DG_OK;
}
