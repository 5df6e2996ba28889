/*
 * fuzz_rule_compile.c - libFuzzer target for the rule language front end:
 * the input is a rule file's text (the schema line is added); it is parsed,
 * checked, compiled for a reference date, dumped, and explained against an
 * empty registry. Nothing may crash, leak or trip a sanitizer, whatever
 * the text.
 */
#include <stdint.h>

#include "fuzz_rule_common.h"
#include "rule/check.h"
#include "rule/code.h"
#include "rule/engine.h"
#include "rule/parse.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_write_schema();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	char path[300];
	snprintf(path, sizeof(path), "%s/in.rule", fuzz_dir);
	size_t cap = size + 64;
	char *text = malloc(cap);
	int n = snprintf(text, cap, "schema \"schema.yaml\"\n");
	memcpy(text + n, data, size);
	struct dg_program *p = dg_program_new();
	dg_program_parse(p, path, text, (size_t)n + size);
	free(text);
	if (!p->diag.errors)
		dg_rule_check(p);
	if (!p->diag.errors) {
		struct dg_intern codes;
		struct dg_rule_diag diag;
		dg_intern_init(&codes);
		dg_rule_diag_init(&diag);
		struct dg_code *c =
			dg_rule_compile(p, &codes, dg_day_from_ymd(2025, 7, 1), NULL, 0, &diag);
		if (c) {
			struct dg_buf b;
			dg_buf_init(&b, 1 << 20);
			(void)!dg_rule_dump(c, &b);
			dg_buf_release(&b);
			struct dg_data *d = dg_data_new(p->schema, &codes);
			struct dg_result *r = NULL;
			if (!dg_data_finish(d, NULL) && !dg_rule_run(c, d, NULL, 1, &r, NULL))
				dg_result_free(r);
			dg_data_free(d);
			dg_code_free(c);
		}
		dg_rule_diag_release(&diag);
		dg_intern_release(&codes);
	}
	dg_program_free(p);
	return 0;
}
