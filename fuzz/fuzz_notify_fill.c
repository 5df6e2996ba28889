/*
 * fuzz_notify_fill.c - libFuzzer target for filling a notice template's
 * {name} placeholders. The input is a template, a NUL byte, then JSON
 * params. Beyond "no crash": a template without '{' comes out unchanged, the
 * output never passes the buffer's cap, and with no params the output is
 * never longer than the template (placeholders only shrink to nothing).
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "notify/notify.h"

#define OUT_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = 0;
	const char *tmpl = in;
	size_t tlen = strlen(tmpl);
	json_t *params = tlen < size ? json_loads(in + tlen + 1, 0, NULL) : NULL;
	struct dg_buf b;
	dg_buf_init(&b, OUT_MAX);
	dg_rc rc = dg_notify_fill(tmpl, params, tlen % 2 ? "en" : "zh", &b);
	if (rc != DG_OK && rc != DG_ETOOBIG)
		abort();
	if (b.len > OUT_MAX)
		abort();
	if (rc == DG_OK && !strchr(tmpl, '{') && strcmp(dg_buf_str(&b), tmpl) != 0)
		abort();
	dg_buf_release(&b);
	dg_buf_init(&b, OUT_MAX);
	if (dg_notify_fill(tmpl, NULL, "zh", &b) == DG_OK && b.len > tlen)
		abort();
	dg_buf_release(&b);
	json_decref(params);
	free(in);
	return 0;
}
