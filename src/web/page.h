/*
 * page.h - rendering a whole HTML page for a request.
 *
 * dg_page() adds what every page needs to the handler's data and renders the
 * template, which extends layout.html: under "req" it puts lang, elder,
 * path, csrf, the path to come back to after a switch (back), and the user
 * (name, role, dept) when signed in; under "site" the region's name, the
 * hotline and the navigation. Handlers put their own data at the top level.
 */
#ifndef DG_PAGE_H
#define DG_PAGE_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"
#include "http/req.h"

/* Render tmpl with data (stolen; may be NULL) and reply with it. */
dg_rc dg_page(struct dg_req *r, unsigned status, const char *tmpl, json_t *data) DG_MUST;
/*
 * The same page as dg_page(r, 200, ...) into out (initialised here; the
 * caller releases it) instead of a reply: for pages kept in memory
 * (web/pcache.h). DG_EINTERNAL when it cannot render.
 */
dg_rc dg_page_render(struct dg_req *r, const char *tmpl, json_t *data, struct dg_buf *out) DG_MUST;

/*
 * The error page for rc (403, 404, 405, 413, 431, 429, 500 ...) in the
 * request's language, with r->err.msg shown when set. Never fails: falls
 * back to plain text if templates are broken.
 */
void dg_page_error(struct dg_req *r, dg_rc rc);

/*
 * Form errors, in the error-summary pattern: data gets "errors" (a list of
 * {field, message}) and "error_for" (field -> message), and "values" (every
 * submitted field, so answers are kept). Adds one error per call.
 */
void dg_form_error(json_t *data, const char *field, const char *message);
/* Copy every submitted form field of r into data.values. */
void dg_form_keep_values(struct dg_req *r, json_t *data);

/* This request's path and query, re-encoded, in r's arena: where to come back to. */
const char *dg_page_here(struct dg_req *r);

/*
 * Whether this POST came back through the language or elder-mode switch of a
 * page that answered a form (POST /prefs, then a 307 here with the form's
 * answers): a handler whose POST does something that must not be done twice
 * (sending a code, trying one) shows its form again instead.
 */
bool dg_page_switched(const struct dg_req *r);

/*
 * Where the switch of a page that answered a POST sends the answers back,
 * when not to the address that was posted (by default the form's own answers
 * to the same address): data gets "switch_back" and "switch_fields", which
 * layout.html uses instead; fields is a NULL-ended list of name, value pairs.
 */
void dg_page_switch_to(json_t *data, const char *path, const char *const *fields);

/*
 * "12,345": a count for people, a comma between groups of three digits in
 * both languages, in r's arena. Pages show every count and page number so
 * (the pager's too); JSON answers keep the numbers.
 */
const char *dg_count_text(struct dg_req *r, int64_t n);

/*
 * The pages of a list, for partials/pager.html (new reference): total,
 * page, pages, first and last (the numbers of the items shown, 0 when none),
 * prev and next (links, absent at the ends), and links: page 1, the last
 * page and two either side of this one, each {n, text, href, current}, with
 * {gap: true} where pages are left out. Links are this request's path and
 * query with page=N. A page past the last shows no items and links back.
 * total_text, page_text, pages_text, first_text, last_text and each link's
 * text are the numbers as dg_count_text writes them, for the templates.
 */
json_t *dg_pager(struct dg_req *r, int64_t total, int64_t page, int64_t per_page);

/*
 * Put what needs the signed-in requester into data.attention (env.h's
 * attention hook), for partials/attention.html. Nothing for visitors, and
 * nothing when the hook fails: the page is still shown, the failure logged.
 */
void dg_page_attention(struct dg_req *r, json_t *data);

/* The message for key in the request's language. */
const char *dg_t(const struct dg_req *r, const char *key);

/*
 * The lang attribute a fragment of text needs on r's page (WCAG 3.1.2):
 * "zh-CN" for text with Chinese characters on an English page, "en" for
 * Latin words without any on a Chinese page, NULL when none is needed (the
 * page's own language, or only digits and signs).
 */
const char *dg_page_lang_of(const struct dg_req *r, const char *text);

/*
 * Text kept in Chinese and English (zh, en; either may be NULL or ""), for
 * a page in r's language: out[key] gets the one in the page's language, or
 * the other when that one is missing (a fallback the page should say it
 * made), and then langs[key] gets the lang attribute the text needs
 * (dg_page_lang_of), if any. Returns true when it did: the text shown is
 * in the other language.
 */
bool dg_page_pick(const struct dg_req *r, json_t *out, json_t *langs, const char *key,
		  const char *zh, const char *en);

struct dg_db;
/*
 * The request's own store connection: taken from r->env's pool on first
 * use and returned when the request ends. A full pool is an error with
 * r->err in the requester's language.
 */
dg_rc dg_req_db(struct dg_req *r, struct dg_db **out) DG_MUST;
/*
 * Give the request's store connection back before the request ends (one
 * whose reply waits for something else, holding nothing meanwhile); a
 * transaction still open on it is rolled back. A later dg_req_db takes
 * another. Nothing to do when it holds none.
 */
void dg_req_db_put(struct dg_req *r);

#endif
