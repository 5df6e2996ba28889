/*
 * fuzz_rule_run.c - libFuzzer target that runs random valid programs on
 * random data and checks the engine against the reference evaluator.
 *
 * The input bytes drive the generator shared with the population property
 * test (tests/rule/gen_rules.h): the first part writes a program from the
 * language's grammar (well-typed by construction, though the checker still
 * has the last word), the rest fills persons, households and enterprises with
 * values, unknowns, extremes, dangling links and monthly columns that start
 * and stop around the reference month. The oracle: the tree-walking reference
 * evaluator (tests/rule/ref_eval.h), which shares nothing with the compiler or
 * the block machine, must agree with the batch engine on one and on two
 * threads and with one-record evaluation, on every outcome, failed condition
 * and amount; and nothing may trip a sanitizer.
 */
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tests/rule/gen_rules.h"

static char fuzz_dir[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/dg_fuzz_rule_run_%d", (int)getpid());
	if ((mkdir(fuzz_dir, 0700) != 0 && access(fuzz_dir, F_OK) != 0) ||
	    gen_write_schema(fuzz_dir))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int ymd[][3] = {{2025, 7, 1}, {2025, 7, 31}, {2024, 2, 29}, {2025, 12, 31}};
	struct gen_src s = {data, size, 0};
	char *text = calloc(1, 32768);
	char path[300], why[512] = "";
	struct gen_out o = {text, 32768, 0};
	gen_program(&s, &o);
	snprintf(path, sizeof(path), "%s/run.rule", fuzz_dir);
	struct dg_program *p = dg_program_new();
	dg_program_parse(p, path, text, strlen(text));
	if (!p->diag.errors)
		dg_rule_check(p);
	if (p->diag.errors) {
		dg_program_free(p);
		free(text);
		return 0;
	}
	struct dg_intern codes;
	dg_intern_init(&codes);
	struct dg_data *d = dg_data_new(p->schema, &codes);
	/* a person per byte left, so long inputs reach a second block of the engine */
	size_t left = size > s.i ? size - s.i : 0;
	int np = 1 + (int)(left > 64 ? (left - 64) * 4 : gen_pick(&s, 8));
	if (np > 1500)
		np = 1500;
	const int *r = ymd[gen_pick(&s, 4)];
	dg_day ref = dg_day_from_ymd(r[0], r[1], r[2]);
	gen_data(&s, d, np);
	struct dg_rule_diag diag;
	dg_rule_diag_init(&diag);
	struct dg_code *c = NULL;
	struct dg_result *r1 = NULL, *r2 = NULL;
	if (dg_data_finish(d, NULL))
		abort();
	c = dg_rule_compile(p, &codes, ref, NULL, 0, &diag);
	if (!c) /* a checked program always compiles, unless too deep for the registers */
		goto out;
	struct dg_run_opts ro = {NULL, 2, true}; /* amounts per record on the second */
	if (dg_rule_run(c, d, NULL, 1, &r1, NULL) || dg_rule_run_opts(c, d, &ro, &r2, NULL))
		abort();
	/* one-record evaluation is slow per call (it sets up a whole machine): a sample */
	if (gen_check(p, d, c, r1, ref, np > 64 ? 61 : 1, why, sizeof(why)) ||
	    gen_check(p, d, c, r2, ref, INT32_MAX, why, sizeof(why))) {
		fprintf(stderr, "engine and reference disagree: %s\n%s", why, text);
		abort();
	}
out:
	dg_result_free(r1);
	dg_result_free(r2);
	dg_code_free(c);
	dg_rule_diag_release(&diag);
	dg_data_free(d);
	dg_intern_release(&codes);
	dg_program_free(p);
	free(text);
	return 0;
}
