/*
 * fuzz_tmpl.c - libFuzzer target for the template engine: the input is parsed
 * as a template (it may fail, but must never crash or leak), and when it
 * parses it is rendered with a fixed JSON document into a capped buffer,
 * alongside a layout and a partial it may extend or include.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "web/tmpl.h"

static const char *data_json =
	"{\"title\":\"<T & 'x'>\",\"n\":3,\"r\":1.5,\"yes\":true,\"no\":false,\"nil\":null,"
	"\"user\":{\"name\":\"张三\",\"role\":\"citizen\"},\"items\":[{\"id\":1,\"name\":\"a\"},"
	"{\"id\":2,\"name\":\"<b>\"}],\"empty\":[],\"obj\":{}}";

static const char *tr(void *ctx, const char *key)
{
	(void)ctx;
	if (strcmp(key, "greet") == 0)
		return "Hi {user.name}, {n} {missing} {title}";
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
	static json_t *data;
	if (!data)
		data = json_loads(data_json, 0, NULL);
	struct dg_tmpl_set *s = dg_tmpl_set_new();
	struct dg_err err = {0};
	static const char layout[] =
		"<h1>{% block title %}{{ title }}{% end %}</h1>{% block main %}{% end %}";
	static const char part[] = "{% for i in items %}[{{ i.name }}{{ loop.index }}]{% end %}";
	if (dg_tmpl_add(s, "layout.html", layout, sizeof(layout) - 1, &err) ||
	    dg_tmpl_add(s, "part.html", part, sizeof(part) - 1, &err))
		__builtin_trap();
	if (dg_tmpl_add(s, "fuzz.html", (const char *)in, len, &err) == DG_OK) {
		struct dg_buf out;
		dg_buf_init(&out, 1 << 16);
		(void)dg_tmpl_render(s, "fuzz.html", data, tr, NULL, &out, &err);
		dg_buf_release(&out);
	}
	dg_tmpl_set_free(s);
	return 0;
}
