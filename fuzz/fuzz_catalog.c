/*
 * fuzz_catalog.c - libFuzzer target for what the catalogue reads from
 * outside: the search tokenizer (every query and every guide goes through
 * it) and an item's JSON with its application form (import and the browser
 * editor). Tokens must be what the search relies on: each surrounded by
 * single spaces, never containing SQL LIKE wildcards or quotes; a form the
 * checker accepts must give every page and field what the pages read.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "catalog/catalog.h"
#include "catalog/internal.h"
#include "core/buf.h"
#include "search/search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void tokens(const char *text)
{
	struct dg_buf b;
	dg_buf_init(&b, 1 << 20);
	if (dg_search_tokens(text, &b) == DG_OK) {
		const char *s = dg_buf_str(&b);
		size_t n = strlen(s);
		if (n && (s[0] != ' ' || s[n - 1] != ' '))
			abort();
		if (strpbrk(s, "%_'\"\\*") || strstr(s, "  "))
			abort();
	}
	dg_buf_release(&b);
}

static void form(const char *text, size_t size)
{
	json_t *j = json_loadb(text, size, 0, NULL);
	struct dg_err err = {0};
	if (j && dg_itemform_check(j, &err) == DG_OK) {
		json_t *p, *f;
		size_t i, k;
		json_array_foreach (json_object_get(j, "pages"), i, p)
			json_array_foreach (json_object_get(p, "fields"), k, f) {
				if (!json_is_string(json_object_get(f, "name")) ||
				    !json_is_string(json_object_get(f, "label_zh")))
					abort();
			}
	}
	/* the same input as an item's materials: the default form built from them must pass */
	json_t *it =
		json_pack("{s:s, s:o}", "audience", "person", "materials", j ? j : json_array());
	json_t *def = dg_itemform_of(it);
	if (!def || dg_itemform_check(def, &err) != DG_OK)
		abort(); /* the default form must pass the checker */
	json_decref(def);
	json_decref(it);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	tokens(text);
	form(text, size);
	free(text);
	return 0;
}
