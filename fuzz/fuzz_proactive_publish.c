/*
 * fuzz_proactive_publish.c - libFuzzer target for the text a member of
 * staff publishes as a policy: the check that only the registries' schema
 * is named, the compiler, and the reading of its messages into
 * {line, col, message}. Beyond "no crash": every error's line is within the
 * text (0 for one about the whole file) and its message is text, and a text
 * naming another schema file never compiles.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_rule_common.h"
#include "proactive/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		fuzz_write_schema();
		setenv("DGOV_POLICIES", fuzz_dir, 1);
		ready = 1;
	}
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	long lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	json_t *errors = pr_compile_errors(NULL, "fuzz", text, size);
	size_t i;
	json_t *e;
	json_array_foreach (errors, i, e) {
		json_int_t line = json_integer_value(json_object_get(e, "line"));
		if (line < 0 || line > lines || !json_is_string(json_object_get(e, "message")))
			abort();
	}
	if (strstr(text, "schema \"/") && json_array_size(errors) == 0)
		abort();
	json_decref(errors);
	free(text);
	return 0;
}
