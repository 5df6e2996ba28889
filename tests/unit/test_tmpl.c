/*
 * test_tmpl.c - the template engine: escaping, conditions, loops, includes,
 * layouts, missing values, load errors with line numbers, and the caps.
 * Then the real templates (DGOV_ROOT, else "."): they all load, and the page
 * helpers (error page, its plain-text fallback, form errors) render them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "web/tmpl.h"

#include "node/env.h"
#include "web/i18n.h"
#include "web/page.h"

static const char *tr(void *ctx, const char *key)
{
	(void)ctx;
	if (strcmp(key, "hello") == 0)
		return "Hello, {user.name}! <b>{count}</b> {missing} {not closed";
	if (strcmp(key, "amp") == 0)
		return "A & B";
	return NULL;
}

/* Add templates name/src pairs (NULL-terminated) and render `name` with json data. */
static char *render_set(const char *const *pairs, const char *name, const char *json, dg_rc *rc_out,
			struct dg_err *err)
{
	struct dg_tmpl_set *s = dg_tmpl_set_new();
	for (size_t i = 0; pairs[i]; i += 2)
		assert_int_equal(dg_tmpl_add(s, pairs[i], pairs[i + 1], strlen(pairs[i + 1]), err),
				 DG_OK);
	json_t *data = json_loads(json, 0, NULL);
	assert_non_null(data);
	struct dg_buf out;
	dg_buf_init(&out, 1 << 20);
	*rc_out = dg_tmpl_render(s, name, data, tr, NULL, &out, err);
	char *text = dg_buf_take(&out);
	dg_buf_release(&out);
	json_decref(data);
	dg_tmpl_set_free(s);
	return text;
}

static void check(const char *src, const char *json, const char *want)
{
	const char *pairs[] = {"t.html", src, NULL};
	struct dg_err err = {0};
	dg_rc rc;
	char *got = render_set(pairs, "t.html", json, &rc, &err);
	assert_int_equal(rc, DG_OK);
	assert_string_equal(got, want);
	free(got);
}

static void check_parse_error(const char *src, const char *want_msg)
{
	struct dg_tmpl_set *s = dg_tmpl_set_new();
	struct dg_err err = {0};
	assert_int_equal(dg_tmpl_add(s, "bad.html", src, strlen(src), &err), DG_EINVAL);
	if (!strstr(err.msg, want_msg))
		fail_msg("error \"%s\" does not contain \"%s\"", err.msg, want_msg);
	dg_tmpl_set_free(s);
}

static void test_escapes_values(void **state)
{
	(void)state;
	check("<p title=\"{{ v }}\">{{ v }}</p>", "{\"v\":\"<a href='x'>\\\"&\\\"</a>\"}",
	      "<p title=\"&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;\">"
	      "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;</p>");
}

static void test_raw(void **state)
{
	(void)state;
	check("{{{ html }}}|{{ html }}", "{\"html\":\"<b>x</b>\"}",
	      "<b>x</b>|&lt;b&gt;x&lt;/b&gt;");
}

static void test_scalars_and_missing(void **state)
{
	(void)state;
	check("[{{ i }}][{{ r }}][{{ b }}][{{ f }}][{{ n }}][{{ o }}][{{ a }}][{{ nope.deeper }}]",
	      "{\"i\":-42,\"r\":1.5,\"b\":true,\"f\":false,\"n\":null,\"o\":{\"x\":1},\"a\":[1]}",
	      "[-42][1.5][true][false][][][][]");
}

static void test_translate_escapes_placeholders(void **state)
{
	(void)state;
	check("{{ t \"hello\" }}|{{ t \"amp\" }}|{{ t \"no.such\" }}",
	      "{\"user\":{\"name\":\"<Zhang & 'San'>\"},\"count\":3}",
	      "Hello, &lt;Zhang &amp; &#39;San&#39;&gt;! &lt;b&gt;3&lt;/b&gt;  {not closed|A &amp; "
	      "B|no.such");
}

static void test_translate_without_catalogue(void **state)
{
	(void)state;
	const char *pairs[] = {"t.html", "{{ t \"a<b\" }}", NULL};
	struct dg_tmpl_set *s = dg_tmpl_set_new();
	struct dg_err err = {0};
	assert_int_equal(dg_tmpl_add(s, pairs[0], pairs[1], strlen(pairs[1]), &err), DG_OK);
	struct dg_buf out;
	dg_buf_init(&out, 1024);
	assert_int_equal(dg_tmpl_render(s, "t.html", NULL, NULL, NULL, &out, &err), DG_OK);
	assert_string_equal(dg_buf_str(&out), "a&lt;b");
	dg_buf_release(&out);
	dg_tmpl_set_free(s);
}

static void test_if(void **state)
{
	(void)state;
	const char *src = "{% if a %}A{% elif b == \"x\" %}B{% elif not c %}C{% else %}D{% end %}";
	check(src, "{\"a\":1}", "A");
	check(src, "{\"a\":0,\"b\":\"x\"}", "B");
	check(src, "{\"b\":\"y\"}", "C");
	check(src, "{\"b\":\"y\",\"c\":[1]}", "D");
	check("{% if s != \"x\" %}ne{% end %}{% if n == \"3\" %}three{% end %}",
	      "{\"s\":\"y\",\"n\":3}", "nethree");
	check("{% if m == \"\" %}empty{% end %}", "{}", "empty");
	/* every falsy kind */
	check("{% if a %}1{% end %}{% if b %}2{% end %}{% if c %}3{% end %}{% if d %}4{% end %}"
	      "{% if e %}5{% end %}{% if f %}6{% end %}{% if g %}7{% end %}{% if not not h %}8{% "
	      "end %}",
	      "{\"a\":null,\"b\":false,\"c\":0,\"d\":\"\",\"e\":[],\"f\":{},\"h\":\"x\"}", "8");
}

static void test_for(void **state)
{
	(void)state;
	check("{% for x in xs %}{{ loop.index }}:{{ x.n }}{% if loop.first %}F{% end %}"
	      "{% if loop.last %}L{% end %};{% else %}none{% end %}",
	      "{\"xs\":[{\"n\":\"a\"},{\"n\":\"<\"},{\"n\":\"c\"}]}", "1:aF;2:&lt;;3:cL;");
	check("{% for x in xs %}x{% else %}none{% end %}", "{\"xs\":[]}", "none");
	check("{% for x in xs %}x{% else %}none{% end %}", "{}", "none");
	check("{% for x in xs %}x{% else %}none{% end %}", "{\"xs\":\"str\"}", "none");
}

static void test_nested_loops_shadow(void **state)
{
	(void)state;
	check("{% for row in rows %}{% for c in row.cells %}{{ loop.index }}{{ c }}{% end %}"
	      "/{{ loop.index }}{{ name }}|{% end %}{{ name }}",
	      "{\"name\":\"top\",\"rows\":[{\"cells\":[\"a\",\"b\"]},{\"cells\":[\"c\"]}]}",
	      "1a2b/1top|1c/2top|top");
	check("{% for name in names %}{{ name }}{% end %}{{ name }}",
	      "{\"name\":\"outer\",\"names\":[\"x\",\"y\"]}", "xyouter");
}

static void test_include(void **state)
{
	(void)state;
	const char *pairs[] = {"page.html",
			       "<{% for u in us %}{% include \"part.html\" %}{% end %}>",
			       "part.html", "[{{ u }}{{ title }}]", NULL};
	struct dg_err err = {0};
	dg_rc rc;
	char *got = render_set(pairs, "page.html", "{\"title\":\"T\",\"us\":[1,2]}", &rc, &err);
	assert_int_equal(rc, DG_OK);
	assert_string_equal(got, "<[1T][2T]>");
	free(got);
}

static void test_extends_blocks(void **state)
{
	(void)state;
	const char *pairs[] = {
		"layout.html",
		"<html>{% block title %}Default{% end %}|{% block main %}{% end %}"
		"|{% block foot %}F{% end %}</html>",
		"mid.html",
		"{# a middle layer #}\n{% extends \"layout.html\" %}\n"
		"{% block foot %}MidFoot{% end %}{% block main %}mid{% end %}",
		"page.html",
		"  {% extends \"mid.html\" %}\n{% block main %}<p>{{ x }}</p>{% end %}\n",
		NULL};
	struct dg_err err = {0};
	dg_rc rc;
	char *got = render_set(pairs, "page.html", "{\"x\":\"&\"}", &rc, &err);
	assert_int_equal(rc, DG_OK);
	assert_string_equal(got, "<html>Default|<p>&amp;</p>|MidFoot</html>");
	free(got);
}

static void test_unknown_template(void **state)
{
	(void)state;
	const char *pairs[] = {"a.html", "x", NULL};
	struct dg_err err = {0};
	dg_rc rc;
	char *got = render_set(pairs, "b.html", "{}", &rc, &err);
	assert_int_equal(rc, DG_ENOTFOUND);
	free(got);
}

static void test_parse_errors(void **state)
{
	(void)state;
	check_parse_error("ok\n\n{{ name", "bad.html:3: unclosed tag");
	check_parse_error("{% if a %}\nnever closed", "bad.html:1: 'if' is never closed");
	check_parse_error("x\n{% for a in b %}", "bad.html:2: 'for' is never closed");
	check_parse_error("a\nb\n{% frobnicate %}", "bad.html:3: unknown tag");
	check_parse_error("{% end %}", "bad.html:1: 'end' without an open tag");
	check_parse_error("\n{% else %}", "bad.html:2: 'else' or 'elif' outside");
	check_parse_error("x{% extends \"l.html\" %}", "bad.html:1: 'extends' must come first");
	check_parse_error("{% extends l.html %}", "bad.html:1: bad extends");
	check_parse_error("{% extends \"l.html\" %}\ntext outside",
			  "bad.html:2: content outside a block");
	check_parse_error("{% if a == b %}{% end %}", "bad condition");
	check_parse_error("{% if %}{% end %}", "missing condition");
	check_parse_error("{% for in xs %}{% end %}", "bad loop");
	check_parse_error("{% include part.html %}", "bad include");
	check_parse_error("{{ a b }}", "bad output");
	check_parse_error("{{ a..b }}", "empty part in name");
	check_parse_error("{{ \"unterminated }}", "unterminated string");
	check_parse_error("{# no end", "unclosed tag");
	check_parse_error("{% if a %}{% else %}{% else %}{% end %}", "after 'else'");
	check_parse_error("{% block b %}", "'block' is never closed");
	/* nesting is capped, so the recursive parser cannot run out of stack */
	char deep[100 * 10 + 1] = "";
	for (int i = 0; i < 100; i++)
		memcpy(deep + i * 10, "{% if a %}", 10);
	check_parse_error(deep, "nested too deep");
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_load_dir(void **state)
{
	(void)state;
	char dir[] = "/tmp/dgov_tmpl_XXXXXX";
	assert_non_null(mkdtemp(dir));
	char sub[600];
	snprintf(sub, sizeof(sub), "%s/parts", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_file(dir, "page.html", "{% include \"parts/x.html\" %}");
	write_file(dir, "parts/x.html", "X{{ v }}");
	write_file(dir, "notes.txt", "{% not a template");
	struct dg_tmpl_set *s = dg_tmpl_set_new();
	struct dg_err err = {0};
	assert_int_equal(dg_tmpl_load_dir(s, dir, &err), DG_OK);
	struct dg_buf out;
	dg_buf_init(&out, 64);
	json_t *d = json_pack("{s:s}", "v", "1");
	assert_int_equal(dg_tmpl_render(s, "page.html", d, NULL, NULL, &out, &err), DG_OK);
	assert_string_equal(dg_buf_str(&out), "X1");
	dg_tmpl_set_free(s);

	/* an include that does not resolve refuses the load */
	write_file(dir, "broken.html", "a\n{% include \"parts/none.html\" %}");
	s = dg_tmpl_set_new();
	assert_int_equal(dg_tmpl_load_dir(s, dir, &err), DG_EINVAL);
	assert_non_null(strstr(err.msg, "broken.html:2"));
	dg_tmpl_set_free(s);
	/* a cycle of extends refuses the load */
	write_file(dir, "broken.html", "{% extends \"broken2.html\" %}");
	write_file(dir, "broken2.html", "{% extends \"broken.html\" %}");
	s = dg_tmpl_set_new();
	assert_int_equal(dg_tmpl_load_dir(s, dir, &err), DG_EINVAL);
	assert_non_null(strstr(err.msg, "nested too deep"));
	dg_tmpl_set_free(s);
	/* a syntax error names the file and line */
	write_file(dir, "broken.html", "\n\n{% if x %}");
	write_file(dir, "broken2.html", "ok");
	s = dg_tmpl_set_new();
	assert_int_equal(dg_tmpl_load_dir(s, dir, &err), DG_EINVAL);
	assert_non_null(strstr(err.msg, "broken.html:3"));
	dg_tmpl_set_free(s);
	json_decref(d);
	dg_buf_release(&out);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_include_depth_cap(void **state)
{
	(void)state;
	const char *pairs[] = {"self.html", "x{% include \"self.html\" %}", NULL};
	struct dg_err err = {0};
	dg_rc rc;
	char *got = render_set(pairs, "self.html", "{}", &rc, &err);
	assert_int_equal(rc, DG_EINVAL);
	assert_non_null(strstr(err.msg, "nested deeper than 16"));
	free(got);
}

static void test_output_cap(void **state)
{
	(void)state;
	struct dg_tmpl_set *s = dg_tmpl_set_new();
	struct dg_err err = {0};
	const char *src = "{% for x in xs %}0123456789{% end %}";
	assert_int_equal(dg_tmpl_add(s, "t.html", src, strlen(src), &err), DG_OK);
	json_t *xs = json_array();
	for (int i = 0; i < 100; i++)
		json_array_append_new(xs, json_integer(i));
	json_t *d = json_pack("{s:o}", "xs", xs);
	struct dg_buf out;
	dg_buf_init(&out, 500);
	assert_int_equal(dg_tmpl_render(s, "t.html", d, NULL, NULL, &out, &err), DG_ETOOBIG);
	assert_true(out.len <= 500);
	dg_buf_release(&out);
	json_decref(d);
	dg_tmpl_set_free(s);
}

static void test_replace(void **state)
{
	(void)state;
	struct dg_tmpl_set *s = dg_tmpl_set_new();
	struct dg_err err = {0};
	assert_int_equal(dg_tmpl_add(s, "a.html", "one", 3, &err), DG_OK);
	assert_int_equal(dg_tmpl_add(s, "a.html", "two", 3, &err), DG_OK);
	/* a failed add keeps the old one */
	assert_int_equal(dg_tmpl_add(s, "a.html", "{% if", 5, &err), DG_EINVAL);
	struct dg_buf out;
	dg_buf_init(&out, 64);
	assert_int_equal(dg_tmpl_render(s, "a.html", NULL, NULL, NULL, &out, &err), DG_OK);
	assert_string_equal(dg_buf_str(&out), "two");
	dg_buf_release(&out);
	dg_tmpl_set_free(s);
}

static void test_lone_braces(void **state)
{
	(void)state;
	check("a { b } {x} }} %} {", "{}", "a { b } {x} }} %} {");
}

/* ---- the real templates and the page helpers ---- */

static const char *root(void)
{
	const char *r = getenv("DGOV_ROOT");
	return r && r[0] ? r : ".";
}

struct fixture {
	struct dg_env env;
	struct dg_req r;
};

static struct fixture *fixture_new(bool with_templates)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	struct dg_err err = {0};
	char dir[600];
	if (with_templates) {
		f->env.tmpl = dg_tmpl_set_new();
		snprintf(dir, sizeof(dir), "%s/templates", root());
		if (dg_tmpl_load_dir(f->env.tmpl, dir, &err) != DG_OK)
			fail_msg("templates do not load: %s", err.msg);
		snprintf(dir, sizeof(dir), "%s/templates/i18n", root());
		if (dg_i18n_load_dir(dir, &f->env.i18n, &err) != DG_OK)
			fail_msg("catalogues do not load: %s", err.msg);
	}
	snprintf(f->env.region.name_zh, sizeof(f->env.region.name_zh), "示范市");
	snprintf(f->env.region.name_en, sizeof(f->env.region.name_en), "Demo <City>");
	snprintf(f->env.region.hotline, sizeof(f->env.region.hotline), "12345");
	f->r.arena = dg_arena_new();
	f->r.env = &f->env;
	f->r.method = "GET";
	f->r.path = "/x y";
	f->r.lang = "en";
	f->r.csrf = "tok";
	dg_buf_init(&f->r.out, 1 << 20);
	dg_kvs_add(&f->r.query, f->r.arena, "q", "a&b", 3);
	return f;
}

static void fixture_free(struct fixture *f)
{
	dg_buf_release(&f->r.out);
	dg_arena_free(f->r.arena);
	dg_tmpl_set_free(f->env.tmpl);
	dg_i18n_free(f->env.i18n);
	free(f);
}

static void test_error_page(void **state)
{
	(void)state;
	struct fixture *f = fixture_new(true);
	dg_err_set(&f->r.err, DG_ENOTFOUND, "No <such> job");
	dg_page_error(&f->r, DG_ENOTFOUND);
	const char *html = dg_buf_str(&f->r.out);
	assert_int_equal(f->r.status, 404);
	assert_non_null(strstr(f->r.content_type, "text/html"));
	assert_non_null(strstr(html, "<html lang=\"en\""));
	assert_non_null(strstr(html, "Page not found"));
	assert_non_null(strstr(html, "No &lt;such&gt; job"));
	assert_non_null(strstr(html, "Demo &lt;City&gt;"));
	assert_non_null(strstr(html, "href=\"/\""));
	/* the switches come back to the same path and query, encoded */
	assert_non_null(strstr(html, "/prefs?lang=zh&amp;back=%2Fx%2520y%3Fq%3Da%2526b"));
	/* server faults keep their details out of the page */
	dg_err_set(&f->r.err, DG_EDB, "secret SQL detail");
	f->r.lang = "zh";
	f->r.elder = true;
	dg_page_error(&f->r, DG_EDB);
	html = dg_buf_str(&f->r.out);
	assert_int_equal(f->r.status, 500);
	assert_null(strstr(html, "secret"));
	assert_non_null(strstr(html, "系统出错了"));
	assert_non_null(strstr(html, "class=\"elder\""));
	assert_non_null(strstr(html, "示范市"));
	fixture_free(f);
}

static void test_error_page_fallback(void **state)
{
	(void)state;
	struct fixture *f = fixture_new(false);
	dg_page_error(&f->r, DG_ELOCKED);
	assert_int_equal(f->r.status, 429);
	assert_non_null(strstr(f->r.content_type, "text/plain"));
	assert_non_null(strstr(dg_buf_str(&f->r.out), "429"));
	/* a broken error template falls back too */
	fixture_free(f);
	f = fixture_new(true);
	struct dg_err err = {0};
	static const char loop[] = "{% include \"errors/error.html\" %}";
	assert_int_equal(
		dg_tmpl_add(f->env.tmpl, "errors/error.html", loop, sizeof(loop) - 1, &err), DG_OK);
	dg_page_error(&f->r, DG_EDENIED);
	assert_int_equal(f->r.status, 403);
	assert_non_null(strstr(f->r.content_type, "text/plain"));
	assert_non_null(strstr(dg_buf_str(&f->r.out), "Not allowed"));
	fixture_free(f);
}

static void test_form_errors(void **state)
{
	(void)state;
	struct fixture *f = fixture_new(true);
	dg_kvs_add(&f->r.form, f->r.arena, "phone", "1<3", 3);
	dg_kvs_add(&f->r.form, f->r.arena, "password", "secret", 6);
	dg_kvs_add(&f->r.form, f->r.arena, "csrf", "tok", 3);
	json_t *data = json_object();
	dg_form_keep_values(&f->r, data);
	dg_form_error(data, "phone", "Enter a phone number, like 13800000000");
	dg_form_error(data, "name", "Enter your <name>");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(data, "values"), "phone")),
		"1<3");
	assert_null(json_object_get(json_object_get(data, "values"), "password"));
	assert_null(json_object_get(json_object_get(data, "values"), "csrf"));
	assert_int_equal(json_array_size(json_object_get(data, "errors")), 2);
	struct dg_buf out;
	dg_buf_init(&out, 1 << 16);
	struct dg_err err = {0};
	/* the summary is the layout's, first in main, on every page with errors */
	assert_int_equal(dg_tmpl_render(f->env.tmpl, "layout.html", data, NULL, NULL, &out, &err),
			 DG_OK);
	const char *html = dg_buf_str(&out);
	assert_non_null(strstr(html, "role=\"alert\""));
	assert_non_null(strstr(html, "<a href=\"#phone\">Enter a phone number"));
	assert_non_null(strstr(html, "<a href=\"#name\">Enter your &lt;name&gt;</a>"));
	dg_buf_release(&out);
	json_decref(data);
	fixture_free(f);
}

/* WCAG 3.1.2 marks: which fragments need a lang, and the text picked with its fallback. */
static void test_lang_marks(void **state)
{
	(void)state;
	struct fixture *f = fixture_new(false);
	f->r.lang = "en";
	assert_string_equal(dg_page_lang_of(&f->r, "国庆节"), "zh-CN");
	assert_string_equal(dg_page_lang_of(&f->r, "Day 国庆"), "zh-CN");
	assert_null(dg_page_lang_of(&f->r, "National Day"));
	assert_null(dg_page_lang_of(&f->r, ""));
	assert_null(dg_page_lang_of(&f->r, NULL));
	f->r.lang = "zh";
	assert_null(dg_page_lang_of(&f->r, "国庆节"));
	assert_string_equal(dg_page_lang_of(&f->r, "CSV"), "en");
	assert_null(dg_page_lang_of(&f->r, "2026-10-01 9:00")); /* digits and signs: none */
	json_t *out = json_object(), *langs = json_object();
	f->r.lang = "en";
	/* English given: it, unmarked */
	assert_false(dg_page_pick(&f->r, out, langs, "a", "条件", "Conditions"));
	assert_string_equal(json_string_value(json_object_get(out, "a")), "Conditions");
	assert_null(json_object_get(langs, "a"));
	/* none: the Chinese, marked, said */
	assert_true(dg_page_pick(&f->r, out, langs, "b", "条件", ""));
	assert_string_equal(json_string_value(json_object_get(out, "b")), "条件");
	assert_string_equal(json_string_value(json_object_get(langs, "b")), "zh-CN");
	/* a fallback that is not Chinese at all needs no mark and no note */
	assert_false(dg_page_pick(&f->r, out, langs, "c", "9-17", NULL));
	assert_string_equal(json_string_value(json_object_get(out, "c")), "9-17");
	/* a Chinese page without Chinese: the English, marked en */
	f->r.lang = "zh";
	assert_true(dg_page_pick(&f->r, out, langs, "d", NULL, "Only English"));
	assert_string_equal(json_string_value(json_object_get(langs, "d")), "en");
	/* neither: empty */
	assert_false(dg_page_pick(&f->r, out, langs, "e", NULL, NULL));
	assert_string_equal(json_string_value(json_object_get(out, "e")), "");
	json_decref(out);
	json_decref(langs);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes_values),
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_scalars_and_missing),
		cmocka_unit_test(test_translate_escapes_placeholders),
		cmocka_unit_test(test_translate_without_catalogue),
		cmocka_unit_test(test_if),
		cmocka_unit_test(test_for),
		cmocka_unit_test(test_nested_loops_shadow),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_extends_blocks),
		cmocka_unit_test(test_unknown_template),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_load_dir),
		cmocka_unit_test(test_include_depth_cap),
		cmocka_unit_test(test_output_cap),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_lone_braces),
		cmocka_unit_test(test_error_page),
		cmocka_unit_test(test_error_page_fallback),
		cmocka_unit_test(test_form_errors),
		cmocka_unit_test(test_lang_marks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
