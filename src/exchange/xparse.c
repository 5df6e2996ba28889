/*
 * xparse.c - the form of an exchange call, checked before anything is
 * looked up: the client's name, key, purpose and request id from the
 * headers, the fields and page from the query. Pure (no store, no keys) so
 * a fuzzer can drive it (fuzz/fuzz_exchange.c).
 *
 * Bounds: a client is DEPT/SYSTEM of at most 16 and 32 characters; a
 * request id 8 to 64; a purpose at most X_PURPOSE_MAX; at most X_MAX_FIELDS
 * fields of at most 64 characters each; a page of 1 to X_PAGE_MAX records.
 */
#include "exchange/internal.h"

#include <string.h>

#include "core/str.h"

bool x_token_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == ':'))
			return false;
	}
	return true;
}

static dg_rc refuse(const char **code, const char *what)
{
	*code = what;
	return DG_EINVAL;
}

/* DEPT/SYSTEM into c->dept and c->system. */
static bool parse_client(const char *s, struct x_call *c)
{
	const char *slash = strchr(s, '/');
	if (!slash)
		return false;
	size_t dn = (size_t)(slash - s), sn = strlen(slash + 1);
	if (dn == 0 || dn >= sizeof(c->dept) || sn == 0 || sn >= sizeof(c->system))
		return false;
	memcpy(c->dept, s, dn);
	c->dept[dn] = '\0';
	memcpy(c->system, slash + 1, sn + 1);
	return x_token_ok(c->dept, sizeof(c->dept) - 1) &&
	       x_token_ok(c->system, sizeof(c->system) - 1) && !strchr(c->system, '/');
}

dg_rc x_call_parse(struct dg_arena *a, const struct x_call_in *in, struct x_call *c,
		   const char **code)
{
	memset(c, 0, sizeof(*c));
	*code = "";
	if (!in->client || !*in->client)
		return refuse(code, "missing_client");
	if (!parse_client(in->client, c))
		return refuse(code, "bad_client");
	if (!in->key || !*in->key)
		return refuse(code, "missing_key");
	if (strlen(in->key) > 128)
		return refuse(code, "bad_key");
	c->key = in->key;
	if (!in->request_id || !*in->request_id)
		return refuse(code, "missing_request_id");
	size_t rn = strlen(in->request_id);
	if (rn < 8 || !x_token_ok(in->request_id, 64))
		return refuse(code, "bad_request_id");
	c->request_id = in->request_id;
	if (!in->purpose || !*in->purpose)
		return refuse(code, "missing_purpose");
	if (!x_token_ok(in->purpose, X_PURPOSE_MAX))
		return refuse(code, "bad_purpose");
	c->purpose = in->purpose;
	if (in->user_id && *in->user_id) {
		int64_t u = 0;
		if (dg_str_to_i64(dg_str_of(in->user_id), &u) || u <= 0)
			return refuse(code, "bad_user");
		c->user_id = u;
	}
	c->run = c->request_id;
	if (in->run && *in->run) {
		if (!x_token_ok(in->run, 64))
			return refuse(code, "bad_run");
		c->run = in->run;
	}
	if (in->fields && *in->fields) {
		if (strlen(in->fields) > X_MAX_FIELDS * 65)
			return refuse(code, "bad_fields");
		struct dg_str rest = dg_str_of(in->fields), head;
		while (rest.n) {
			rest = dg_str_cut(rest, ',', &head);
			if (head.n == 0 || head.n > 64 || c->nfields == X_MAX_FIELDS)
				return refuse(code, "bad_fields");
			char *f = dg_arena_strndup(a, head.p, head.n);
			if (!x_token_ok(f, 64) && !dg_utf8_valid(f, head.n))
				return refuse(code, "bad_fields");
			c->fields[c->nfields++] = f;
		}
	}
	c->limit = X_PAGE_DEFAULT;
	if (in->limit && *in->limit) {
		int64_t n = 0;
		if (dg_str_to_i64(dg_str_of(in->limit), &n) || n <= 0)
			return refuse(code, "bad_limit");
		if (n > X_PAGE_MAX)
			return refuse(code, "oversized_page");
		c->limit = n;
	}
	c->after = "";
	if (in->after && *in->after) {
		if (!x_token_ok(in->after, 128))
			return refuse(code, "bad_after");
		c->after = in->after;
	}
	return DG_OK;
}
