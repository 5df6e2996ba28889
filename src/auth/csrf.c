/*
 * csrf.c - tokens that prove a form was served by us to this browser.
 *
 * For a session the token is keyed BLAKE2b(keys.csrf, "s" || csrf_secret),
 * the secret living in the session row; before sign-in it is keyed
 * BLAKE2b(keys.csrf, "a" || the random "dg_csrf" cookie), set HttpOnly and
 * SameSite=Lax on the first page. Another site can make the browser post to
 * us but cannot read the token out of our pages, so its forms fail. The
 * submitted value ("csrf" form field or X-CSRF-Token header) is compared in
 * constant time.
 */
#include "auth/auth_int.h"

#include <sodium.h>
#include <string.h>

#include "node/env.h"
#include "auth/auth.h"
#include "core/rand.h"
#include "core/str.h"
#include "web/page.h"

#define TOKEN_HEX 64

static char *token_for(struct dg_req *r, char kind, const char *secret)
{
	crypto_generichash_state st;
	unsigned char h[32];
	crypto_generichash_init(&st, r->env->keys.csrf, sizeof(r->env->keys.csrf), sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)&kind, 1);
	crypto_generichash_update(&st, (const unsigned char *)secret, strlen(secret));
	crypto_generichash_final(&st, h, sizeof(h));
	char *hex = dg_arena_alloc(r->arena, TOKEN_HEX + 1);
	sodium_bin2hex(hex, TOKEN_HEX + 1, h, sizeof(h));
	return hex;
}

static bool anon_cookie_ok(const char *s)
{
	if (!s || strlen(s) != 32)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

void dg_csrf_set(struct dg_req *r, const char *session_secret)
{
	if (session_secret && session_secret[0]) {
		r->csrf = token_for(r, 's', session_secret);
		return;
	}
	const char *c = dg_kvs_get(&r->cookies, DG_CSRF_COOKIE);
	if (!anon_cookie_ok(c) && r->api) {
		/* API clients post JSON with a token or a session, never an anonymous form */
		r->csrf = NULL;
		return;
	}
	if (!anon_cookie_ok(c)) {
		char *fresh = dg_arena_alloc(r->arena, 33);
		dg_rand_hex(fresh, 16);
		dg_reply_cookie(r, DG_CSRF_COOKIE, fresh, -1, true);
		c = fresh;
	}
	r->csrf = token_for(r, 'a', c);
}

dg_rc dg_auth_check_csrf(struct dg_req *r)
{
	const char *given = dg_kvs_get(&r->form, "csrf");
	if (!given)
		given = dg_req_header(r, "X-CSRF-Token");
	const char *want = r->csrf;
	if (!given || !want || strlen(want) != TOKEN_HEX || strlen(given) != TOKEN_HEX ||
	    !dg_ct_eq(given, want, TOKEN_HEX))
		return dg_err_set(&r->err, DG_EDENIED, "%s", dg_t(r, "auth.err.csrf"));
	return DG_OK;
}
