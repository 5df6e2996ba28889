/*
 * fuzz_search.c - libFuzzer target for the search module (src/search): the
 * search box's grammar and the tokenizer under it, and the text each store
 * is handed. The first byte picks the fields searched. Beyond "no crash": a
 * query over a cap is refused with a message and no tree; an accepted one
 * prints, and renders for FTS5 and for tsquery within a bound set by its
 * caps, with balanced quotes; tokens hold no ASCII but a-z and 0-9, so no
 * syntax of either store can be spelled by the query.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "search/search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct dg_search_index ix = {"ix", {"title", "tags", "notes", "res"}, 4};

static void count_quotes(const char *s, char q)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == q;
	if (n % 2)
		abort();
}

static void tokens_clean(const char *text)
{
	struct dg_buf b;
	dg_buf_init(&b, 1 << 20);
	if (dg_search_tokens(text, &b) != DG_OK)
		abort(); /* 1 MB holds the tokens of any input this target takes */
	for (const unsigned char *s = (const unsigned char *)dg_buf_str(&b); *s; s++)
		if (*s < 0x80 && *s != ' ' && !(*s >= 'a' && *s <= 'z') &&
		    !(*s >= '0' && *s <= '9'))
			abort();
	dg_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4 * DG_SEARCH_QUERY_MAX)
		return 0;
	unsigned fields = data[0] & 0xF;
	char *q = malloc(size);
	memcpy(q, data + 1, size - 1);
	q[size - 1] = '\0';
	tokens_clean(q);
	struct dg_arena *a = dg_arena_new();
	struct dg_search_expr *e = NULL;
	struct dg_err err = {0};
	if (dg_search_parse(a, q, fields, &e, &err) != DG_OK) {
		if (!err.msg[0] || e)
			abort();
	} else {
		struct dg_buf b;
		dg_buf_init(&b, 1 << 20);
		if (dg_search_print(e, &b) != DG_OK)
			abort();
		for (int k = 0; e && k < 2; k++) {
			dg_buf_reset(&b);
			enum dg_store_kind kind = k ? DG_STORE_PG : DG_STORE_SQLITE;
			if (dg_search_render(kind, &ix, e, &b) != DG_OK)
				abort();
			count_quotes(dg_buf_str(&b), k ? '\'' : '"');
		}
		dg_buf_release(&b);
	}
	dg_arena_free(a);
	free(q);
	return 0;
}
