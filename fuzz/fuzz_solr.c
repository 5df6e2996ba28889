/*
 * fuzz_solr.c - libFuzzer target for package_search's Solr query parser
 * and its compiler (src/opendata/solr.c) over the catalogue's fields.
 * Beyond "no crash": a query either parses or has a message; the printer
 * works on every tree; and in the compiled SQL every '?' has exactly one
 * bound value, so no text of the query can have become SQL.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "opendata/catalog/catalog_int.h"
#include "opendata/catalog/solr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t marks(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '?';
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > DG_SOLR_MAX_LEN + 16)
		return 0;
	char *q = malloc(size + 1);
	memcpy(q, data, size);
	q[size] = '\0';
	struct dg_arena *a = dg_arena_new();
	struct dg_solr_node *n = NULL;
	struct dg_err err = {0};
	if (dg_solr_parse(q, a, &n, &err) != DG_OK) {
		if (!err.msg[0] || n)
			abort();
	} else {
		struct dg_buf b;
		dg_buf_init(&b, 1 << 20);
		if (dg_solr_print(n, &b) != DG_OK)
			abort();
		dg_buf_release(&b);
		struct dg_solr_sql *s = dg_solr_sql_new(a);
		if (dg_solr_compile(s, dg_od_search_schema(), n, 1700000000000, &err) == DG_OK) {
			if (marks(dg_buf_str(&s->where)) != s->nargs ||
			    marks(dg_buf_str(&s->score)) != s->nscore_args)
				abort();
		} else if (!err.msg[0]) {
			abort();
		}
	}
	dg_arena_free(a);
	free(q);
	return 0;
}
