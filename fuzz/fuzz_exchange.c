/*
 * fuzz_exchange.c - libFuzzer target for the exchange's two readers of
 * untrusted text: the call parser (src/exchange/xparse.c) and the
 * registries' schema reader (src/rule/schema.c, dg_schema_parse).
 *
 * The input's first byte picks which. For a call, the rest is split at
 * newlines into the headers and query values (client, key, purpose,
 * request id, user id, run, fields, limit, after). Beyond "no crash": a
 * call that parses has a client of two tokens, a request id of 8 to 64
 * characters, at most X_MAX_FIELDS fields and a page of 1 to X_PAGE_MAX;
 * a refused one names its reason. A schema that loads has 1 to DG_MAX_ENT
 * entities and every field's class and sharing in range; one that does not
 * says why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exchange/internal.h"
#include "rule/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void call(const char *text)
{
	const char *part[9] = {0};
	char *copy = strdup(text), *p = copy;
	for (int i = 0; i < 9 && p; i++) {
		part[i] = p;
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		p = nl ? nl + 1 : NULL;
	}
	struct x_call_in in = {part[0], part[1], part[2], part[3], part[4],
			       part[5], part[6], part[7], part[8]};
	struct dg_arena *a = dg_arena_new();
	struct x_call c;
	const char *code = NULL;
	if (x_call_parse(a, &in, &c, &code) == DG_OK) {
		size_t rn = strlen(c.request_id);
		if (!c.dept[0] || !c.system[0] || rn < 8 || rn > 64 || c.nfields > X_MAX_FIELDS ||
		    c.limit < 1 || c.limit > X_PAGE_MAX || !c.purpose || !c.key)
			abort();
	} else if (!code || !code[0]) {
		abort();
	}
	dg_arena_free(a);
	free(copy);
}

static void schema(const char *text, size_t len)
{
	struct dg_err err = {0};
	struct dg_schema *s = dg_schema_parse("fuzz.yaml", text, len, &err);
	if (!s) {
		if (!err.msg[0])
			abort();
		return;
	}
	if (s->ne < 1 || s->ne > DG_MAX_ENT)
		abort();
	for (int i = 0; i < s->ne; i++)
		for (int j = 0; j < s->e[i].nf; j++)
			if ((unsigned)s->e[i].f[j].cls > DG_CLASS_SENSITIVE ||
			    (unsigned)s->e[i].f[j].sharing > DG_SHARE_NONE)
				abort();
	dg_schema_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1 << 16))
		return 0;
	char *text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (data[0] & 1)
		schema(text, size - 1);
	else if (strlen(text) == size - 1)
		call(text);
	free(text);
	return 0;
}
