/*
 * tmpl.h - the template engine: HTML templates that escape by default.
 *
 * Templates are files under templates/ named by their relative path
 * ("auth/login.html"), parsed once at start-up into a tree and rendered with a
 * JSON object as data. Syntax (docs/templates.md has the full grammar):
 *
 *   {{ user.name }}            value at a dotted path, HTML-escaped
 *   {{{ page.body_html }}}     raw output: only for HTML the server built itself
 *   {{ t "home.title" }}       message in the request's language, escaped; a
 *                              message may contain {path} placeholders filled,
 *                              escaped, from the data
 *   {% if expr %} {% elif expr %} {% else %} {% end %}
 *        expr: path | not expr | path == "literal" | path != "literal"
 *        truth: false for missing, null, false, 0, "", [] and {}
 *   {% for item in list %} ... {% else %} (when empty) {% end %}
 *        inside: item, and loop.index (1-based), loop.first, loop.last
 *   {% include "part.html" %}  another template, same data
 *   {% extends "layout.html" %} first in a file, then {% block name %}...{% end %}
 *        blocks override the layout's blocks of the same name
 *   {# comment #}
 *
 * Errors in a template are reported at load with name:line and refuse the
 * load, so a broken template never reaches a user. Rendering is bounded:
 * include/extends depth is capped at 16 and output by the buffer's cap.
 */
#ifndef DG_TMPL_H
#define DG_TMPL_H

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

struct dg_tmpl_set;

/* Looks up a message by key; returns the message, or NULL when missing. */
typedef const char *(*dg_tmpl_translate)(void *ctx, const char *key);

struct dg_tmpl_set *dg_tmpl_set_new(void);
void dg_tmpl_set_free(struct dg_tmpl_set *s);

/* Parse src as template name (replacing one of that name). EINVAL with "name:line: why". */
dg_rc dg_tmpl_add(struct dg_tmpl_set *s, const char *name, const char *src, size_t len,
		  struct dg_err *err) DG_MUST;
/* Add every *.html under dir, recursively; then check includes/extends resolve. */
dg_rc dg_tmpl_load_dir(struct dg_tmpl_set *s, const char *dir, struct dg_err *err) DG_MUST;

/*
 * Render template name with data (borrowed) into out. tr may be NULL (then
 * keys print as themselves). ENOTFOUND for an unknown template, ETOOBIG when
 * out's cap is reached.
 */
dg_rc dg_tmpl_render(const struct dg_tmpl_set *s, const char *name, json_t *data,
		     dg_tmpl_translate tr, void *tr_ctx, struct dg_buf *out,
		     struct dg_err *err) DG_MUST;

#endif
