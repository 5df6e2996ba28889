/*
 * pages.c - the portal's general pages: home, help, the notices every
 * public service has (accessibility, privacy, cookies, terms), the language
 * and elder-mode switches, and static files. Services is the catalogue's
 * (src/catalog), open data the open-data module's (src/opendata), and
 * /policies the proactive services' public summary (src/proactive).
 *
 * The switches are plain links to /prefs that set a cookie and come back, so
 * they work without JavaScript and from any page.
 */
#include "web/pages.h"

#include <string.h>

#include "http/static.h"
#include "web/page.h"
#include "web/pcache.h"

#define PREF_MAX_AGE (365L * 24 * 3600)

static json_t *titled(const struct dg_req *r, const char *key)
{
	json_t *d = json_object();
	json_object_set_new(d, "title", json_string(dg_t(r, key)));
	return d;
}

/*
 * A page whose words are all in its template and i18n files: the same for
 * every anonymous visitor in one language and mode, so served from the
 * page cache (pcache.h) with its ETag; a signed-in user's is rendered for
 * them each time and never kept. Only the home page shows a signed-in
 * user what needs them (attention), which reads the store.
 */
static dg_rc fixed_page(struct dg_req *r, const char *tmpl, const char *title_key, bool attention)
{
	int64_t version = dg_page_fixed_version(r);
	if (dg_page_cached(r, version))
		return DG_OK;
	json_t *d = titled(r, title_key);
	if (attention)
		dg_page_attention(r, d);
	return dg_page_versioned(r, version, tmpl, d);
}

static dg_rc home(struct dg_req *r)
{
	return fixed_page(r, "home.html", "home.title", true);
}

static dg_rc help(struct dg_req *r)
{
	return fixed_page(r, "help.html", "help.title", false);
}

/*
 * The pages every public service has (templates/web/): the accessibility
 * statement, the privacy and cookie notices and the terms of use. Their
 * words are in templates/i18n/web.*.json; the privacy notice links to the
 * resident's own record of who used their data (/my/data-use).
 */
static dg_rc accessibility(struct dg_req *r)
{
	return fixed_page(r, "web/accessibility.html", "web.a11y.title", false);
}

static dg_rc privacy(struct dg_req *r)
{
	return fixed_page(r, "web/privacy.html", "web.privacy.title", false);
}

static dg_rc cookies(struct dg_req *r)
{
	return fixed_page(r, "web/cookies.html", "web.cookies.title", false);
}

static dg_rc terms(struct dg_req *r)
{
	return fixed_page(r, "web/terms.html", "web.terms.title", false);
}

/*
 * POST /prefs from a page that answered a form (layout.html): the same
 * choice in pref_lang / pref_elder, then a 307 to pref_back, so the browser
 * posts the form's answers there again and the form comes back in the new
 * language or mode, answers kept.
 */
static dg_rc prefs_post(struct dg_req *r)
{
	const char *lang = dg_kvs_get(&r->form, "pref_lang");
	const char *elder = dg_kvs_get(&r->form, "pref_elder");
	const char *back = dg_kvs_get(&r->form, "pref_back");
	if (lang && (strcmp(lang, "en") == 0 || strcmp(lang, "zh") == 0))
		dg_reply_cookie(r, "lang", lang, PREF_MAX_AGE, true);
	if (elder && (strcmp(elder, "1") == 0 || strcmp(elder, "0") == 0))
		dg_reply_cookie(r, "elder", elder, PREF_MAX_AGE, true);
	if (back && dg_is_local_path(back) && strncmp(back, "/prefs", 6) != 0)
		dg_reply_resubmit(r, back);
	else
		dg_reply_redirect(r, "/");
	return DG_OK;
}

/* GET /prefs?lang=en|zh&elder=1|0&back=/path: remember the choice, go back. */
static dg_rc prefs(struct dg_req *r)
{
	const char *lang = dg_kvs_get(&r->query, "lang");
	const char *elder = dg_kvs_get(&r->query, "elder");
	const char *back = dg_kvs_get(&r->query, "back");
	if (lang && (strcmp(lang, "en") == 0 || strcmp(lang, "zh") == 0))
		dg_reply_cookie(r, "lang", lang, PREF_MAX_AGE, true);
	if (elder && (strcmp(elder, "1") == 0 || strcmp(elder, "0") == 0))
		dg_reply_cookie(r, "elder", elder, PREF_MAX_AGE, true);
	dg_reply_redirect(r, back && dg_is_local_path(back) ? back : "/");
	return DG_OK;
}

static const struct dg_route routes[] = {
	{"GET", "/", home, DG_ROLE_ANY, 0},
	{"GET", "/help", help, DG_ROLE_ANY, 0},
	{"GET", "/accessibility", accessibility, DG_ROLE_ANY, 0},
	{"GET", "/privacy", privacy, DG_ROLE_ANY, 0},
	{"GET", "/cookies", cookies, DG_ROLE_ANY, 0},
	{"GET", "/terms", terms, DG_ROLE_ANY, 0},
	{"GET", "/prefs", prefs, DG_ROLE_ANY, 0},
	{"POST", "/prefs", prefs_post, DG_ROLE_ANY, 0},
	{"GET", "/static/{path...}", dg_static_handler, DG_ROLE_ANY, DG_ROUTE_PUBLIC},
};

const struct dg_route *dg_web_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
