/*
 * rule.c - `dgov rule ...`: check, dump, test, run, explain and whatif, over
 * the rule library's public header.
 *
 * Exit codes: 0 done, 1 the rules, data or tests are wrong (messages say
 * where), 2 the command line is wrong.
 */
#include "cmd/rule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule/ytest.h"
#include "core/date.h"
#include "core/mem.h"
#include "core/str.h"
#include "rule/rule.h"
#include "rule/yaml.h"

#define MAX_FILES 64
#define MAX_SETS  32

struct opts {
	char *files[MAX_FILES];
	int nfiles;
	const char *data, *out, *rule, *entity, *sweep, *ids_file;
	const char **ids; /* explain: --id, once or more, and --ids FILE */
	int nids, capids;
	const char *sets[MAX_SETS];
	int nsets;
	dg_day ref;
	bool have_ref, json, boundaries;
	int threads;
};

static int usage(void)
{
	fprintf(stderr,
		"usage: dgov rule check FILE...\n"
		"       dgov rule dump FILE... [--ref-date YYYY-MM-DD]\n"
		"       dgov rule test [--boundaries] TESTFILE.yaml...\n"
		"       dgov rule run --rules FILE... --data DIR --ref-date YYYY-MM-DD [--out "
		"FILE]\n"
		"                     [--threads 1|2] [--json]   (--out: rule,entity,id,outcome,"
		"amount,blocking)\n"
		"       dgov rule explain --rules FILE... --data DIR --ref-date D --id ID [--id "
		"ID]...\n"
		"                     [--ids FILE] [--rule RULE] [--entity NAME] [--json]\n"
		"       dgov rule whatif --rules FILE... --data DIR --ref-date D --set "
		"PARAM=VALUE...\n"
		"                     [--set PARAM[REGION]=VALUE] [--sweep PARAM=FROM..TO:STEP] "
		"[--json]\n");
	return 2;
}

static void add_id(struct opts *o, const char *id)
{
	if (o->nids == o->capids) {
		o->capids = o->capids ? o->capids * 2 : 16;
		o->ids = dg_xrealloc(o->ids, sizeof(*o->ids) * (size_t)o->capids);
	}
	o->ids[o->nids++] = id;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->threads = 2;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--rules")) {
			continue; /* the files that follow are rule files, like bare arguments */
		} else if (!strcmp(a, "--json")) {
			o->json = true;
		} else if (!strcmp(a, "--boundaries")) {
			o->boundaries = true;
		} else if (!strcmp(a, "--data") || !strcmp(a, "--out") || !strcmp(a, "--id") ||
			   !strcmp(a, "--ids") || !strcmp(a, "--rule") || !strcmp(a, "--entity") ||
			   !strcmp(a, "--set") || !strcmp(a, "--sweep") ||
			   !strcmp(a, "--ref-date") || !strcmp(a, "--threads")) {
			if (!next) {
				fprintf(stderr, "dgov rule: %s needs a value\n", a);
				return -1;
			}
			i++;
			if (!strcmp(a, "--data"))
				o->data = next;
			else if (!strcmp(a, "--out"))
				o->out = next;
			else if (!strcmp(a, "--id"))
				add_id(o, next);
			else if (!strcmp(a, "--ids"))
				o->ids_file = next;
			else if (!strcmp(a, "--rule"))
				o->rule = next;
			else if (!strcmp(a, "--entity"))
				o->entity = next;
			else if (!strcmp(a, "--sweep"))
				o->sweep = next;
			else if (!strcmp(a, "--set")) {
				if (o->nsets == MAX_SETS) {
					fprintf(stderr, "dgov rule: at most %d --set\n", MAX_SETS);
					return -1;
				}
				o->sets[o->nsets++] = next;
			} else if (!strcmp(a, "--threads")) {
				int64_t t;
				if (dg_str_to_i64(dg_str_of(next), &t) || t < 1 || t > 2) {
					fprintf(stderr, "dgov rule: --threads is 1 or 2\n");
					return -1;
				}
				o->threads = (int)t;
			} else {
				if (dg_day_parse(next, &o->ref)) {
					fprintf(stderr,
						"dgov rule: --ref-date '%s' is not YYYY-MM-DD\n",
						next);
					return -1;
				}
				o->have_ref = true;
			}
		} else if (a[0] == '-' && a[1] == '-') {
			fprintf(stderr, "dgov rule: unknown option %s\n", a);
			return -1;
		} else {
			if (o->nfiles == MAX_FILES) {
				fprintf(stderr, "dgov rule: at most %d files\n", MAX_FILES);
				return -1;
			}
			o->files[o->nfiles++] = argv[i];
		}
	}
	return 0;
}

static struct dg_program *load_or_report(struct opts *o)
{
	struct dg_program *p = dg_rule_load(o->files, o->nfiles);
	fputs(dg_buf_str(&p->diag.out), stderr);
	if (p->diag.errors) {
		fprintf(stderr, "%d error%s, %d warning%s\n", p->diag.errors,
			p->diag.errors == 1 ? "" : "s", p->diag.warnings,
			p->diag.warnings == 1 ? "" : "s");
		dg_program_free(p);
		return NULL;
	}
	return p;
}

static int cmd_check(struct opts *o)
{
	if (o->nfiles == 0)
		return usage();
	struct dg_program *p = load_or_report(o);
	if (!p)
		return 1;
	printf("ok: %d rule%s, %d parameter%s, %d definition%s; %d warning%s\n", p->nrules,
	       p->nrules == 1 ? "" : "s", p->nparams, p->nparams == 1 ? "" : "s", p->nlets,
	       p->nlets == 1 ? "" : "s", p->diag.warnings, p->diag.warnings == 1 ? "" : "s");
	/* the data-sharing contract: fields each rule reads */
	for (int i = 0; i < p->nrules; i++) {
		const char *f[128];
		int n = dg_rule_fields(p, i, f, 128);
		printf("  %s (%s / %s) for %s reads:\n", p->rules[i].id, p->rules[i].name_zh,
		       p->rules[i].name_en, p->rules[i].for_ent);
		for (int j = 0; j < n; j++)
			printf("      %s\n", f[j]);
	}
	dg_program_free(p);
	return 0;
}

static int cmd_dump(struct opts *o)
{
	if (o->nfiles == 0)
		return usage();
	struct dg_program *p = load_or_report(o);
	if (!p)
		return 1;
	struct dg_intern codes;
	dg_intern_init(&codes);
	struct dg_rule_diag diag;
	dg_rule_diag_init(&diag);
	struct dg_code *c =
		dg_rule_compile(p, &codes, o->have_ref ? o->ref : dg_day_today(), NULL, 0, &diag);
	int ret = 1;
	fputs(dg_buf_str(&diag.out), stderr);
	if (c) {
		struct dg_buf b;
		dg_buf_init(&b, 0);
		if (!dg_rule_dump(c, &b)) {
			fputs(dg_buf_str(&b), stdout);
			ret = 0;
		}
		dg_buf_release(&b);
	}
	dg_code_free(c);
	dg_rule_diag_release(&diag);
	dg_intern_release(&codes);
	dg_program_free(p);
	return ret;
}

static int cmd_test(struct opts *o)
{
	struct dg_ytest_stats st = {0};
	int bad = 0;
	if (o->nfiles == 0)
		return usage();
	st.boundaries = o->boundaries;
	for (int i = 0; i < o->nfiles; i++)
		if (dg_rule_test_file(o->files[i], stdout, &st)) {
			st.n++;
			st.fail++;
			bad++;
			printf("not ok %d - %s: the test file could not be used\n", st.n,
			       o->files[i]);
		}
	printf("1..%d\n%d passed, %d failed\n", st.n, st.pass, st.fail);
	return st.fail || bad ? 1 : 0;
}

/* Everything run, explain and whatif share: rules, data, reference date. */
struct session {
	struct dg_program *p;
	struct dg_intern codes;
	struct dg_data *data;
	double load_sec;
};

static int open_session(struct opts *o, struct session *s)
{
	memset(s, 0, sizeof(*s));
	dg_intern_init(&s->codes);
	if (o->nfiles == 0 || !o->data || !o->have_ref) {
		fprintf(stderr, "dgov rule: needs --rules FILE..., --data DIR and --ref-date\n");
		return 2;
	}
	s->p = load_or_report(o);
	if (!s->p)
		return 1;
	struct dg_err err = {0};
	double t0 = dg_mono_sec();
	s->data = dg_data_load_csv(s->p->schema, &s->codes, o->data, &err);
	s->load_sec = dg_mono_sec() - t0;
	if (!s->data) {
		fprintf(stderr, "dgov rule: data: %s\n", err.msg);
		return 1;
	}
	for (int e = 0; e < s->p->schema->ne; e++)
		if (s->data->t[e].dangling)
			fprintf(stderr,
				"warning: %lld %s links point at records that do not exist "
				"(treated as unknown)\n",
				(long long)s->data->t[e].dangling, s->p->schema->e[e].name);
	return 0;
}

static void close_session(struct session *s)
{
	dg_data_free(s->data);
	dg_program_free(s->p);
	dg_intern_release(&s->codes);
}

/* Peak resident memory in MB (Linux), -1 when unknown. */
static long peak_rss_mb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb / 1024;
}

static void print_money(FILE *f, int64_t v)
{
	fprintf(f, "%s%lld.%02lld", v < 0 ? "-" : "", (long long)llabs(v / 100),
		(long long)llabs(v % 100));
}

/* A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static int write_out(const char *path, const struct dg_code *c, const struct dg_result *r)
{
	const struct dg_program *p = c->prog;
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		return 1;
	}
	fprintf(f, "rule,entity,id,outcome,amount,blocking\n");
	for (int i = 0; i < p->nrules; i++) {
		if (!r->selected[i])
			continue;
		const struct dg_rcode *rc = &c->rc[i];
		int64_t n = r->data->t[rc->ent].n;
		for (int64_t row = 0; row < n; row++) {
			enum dg_outcome oc = dg_result_outcome(r, i, row);
			int64_t am;
			csv_field(f, p->rules[i].id);
			fputc(',', f);
			csv_field(f, p->schema->e[rc->ent].name);
			fputc(',', f);
			csv_field(f, dg_data_id(r->data, rc->ent, row));
			fprintf(f, ",%s,", dg_outcome_name(oc));
			/* a payment list needs the amount: yuan for an eligible record, "unknown"
			 * when its amount is, empty otherwise */
			if (oc == DG_ELIGIBLE && rc->has_amount) {
				if (dg_result_amount(r, i, row, &am))
					print_money(f, am);
				else
					fputs("unknown", f);
			}
			fputc(',', f);
			int nb = 0;
			for (int cnd = 0, ci = 0; cnd < p->rules[i].nc; cnd++) {
				if (p->rules[i].c[cnd].kind != CL_COND)
					continue;
				if (dg_bit(r->fail[rc->cond0 + ci], row))
					fprintf(f, "%s%s", nb++ ? ";" : "", p->rules[i].c[cnd].id);
				ci++;
			}
			fputc('\n', f);
		}
	}
	if (fclose(f)) {
		perror(path);
		return 1;
	}
	return 0;
}

static int cmd_run(struct opts *o)
{
	struct session s;
	int ret = open_session(o, &s);
	struct dg_code *c = NULL;
	struct dg_result *r = NULL;
	struct dg_rule_diag diag;
	dg_rule_diag_init(&diag);
	if (ret)
		goto out;
	ret = 1;
	c = dg_rule_compile(s.p, &s.codes, o->ref, NULL, 0, &diag);
	fputs(dg_buf_str(&diag.out), stderr);
	struct dg_err err = {0};
	struct dg_run_opts ro = {NULL, o->threads, o->out != NULL};
	if (!c || dg_rule_run_opts(c, s.data, &ro, &r, &err)) {
		fprintf(stderr, "dgov rule run: %s\n", err.msg);
		goto out;
	}
	const struct dg_program *p = s.p;
	char day[11];
	dg_day_format(o->ref, day);
	int64_t evals = 0;
	if (!o->json)
		printf("run at %s: %d rules; load %.3f s, aggregates %.3f s, rules %.3f s\n", day,
		       p->nrules, s.load_sec, r->agg_sec, r->eval_sec);
	else
		printf("{\"ref_date\":\"%s\",\"load_seconds\":%.3f,\"eval_seconds\":%.3f,\"rules\":"
		       "[",
		       day, s.load_sec, r->eval_sec);
	for (int i = 0; i < p->nrules; i++) {
		const struct dg_rule *ru = &p->rules[i];
		const struct dg_rcode *rc = &c->rc[i];
		int64_t n = s.data->t[ru->ent].n;
		if (!r->selected[i]) {
			if (o->json)
				printf("%s{\"rule\":\"%s\",\"in_force\":false}", i ? "," : "",
				       ru->id);
			else
				printf("%s: not in force on %s\n", ru->id, day);
			continue;
		}
		evals += n;
		int64_t el = dg_bits_count(r->elig[i], n), un = dg_bits_count(r->unk[i], n);
		int64_t cf = r->confl[i] ? dg_bits_count(r->confl[i], n) : 0;
		int64_t ne = n - el - un - cf;
		if (o->json) {
			printf("%s{\"rule\":\"%s\",\"entity\":\"%s\",\"records\":%lld,\"eligible\":"
			       "%"
			       "lld,"
			       "\"not_eligible\":%lld,\"unknown\":%lld,\"conflict\":%lld,"
			       "\"amount\":",
			       i ? "," : "", ru->id, ru->for_ent, (long long)n, (long long)el,
			       (long long)ne, (long long)un, (long long)cf);
			if (r->amount_overflow[i])
				printf("null,\"amount_too_large\":true");
			else
				print_money(stdout, r->amount_sum[i]);
			printf(",\"amount_unknown\":%lld,\"blocking\":{",
			       (long long)r->amount_unknown[i]);
		} else {
			printf("%s (%s) v%s over %lld %s records\n  eligible %lld   not eligible "
			       "%lld"
			       "   unknown %lld   conflict %lld",
			       ru->id, ru->name_zh, ru->version ? ru->version : "-", (long long)n,
			       ru->for_ent, (long long)el, (long long)ne, (long long)un,
			       (long long)cf);
			if (rc->has_amount) {
				printf("   amount ");
				if (r->amount_overflow[i]) {
					printf("too large to total");
				} else {
					print_money(stdout, r->amount_sum[i]);
					printf(" yuan");
				}
				if (r->amount_unknown[i])
					printf(" (+%lld eligible with unknown amount)",
					       (long long)r->amount_unknown[i]);
			}
			printf("\n  blocking:");
		}
		for (int cnd = 0, ci = 0; cnd < ru->nc; cnd++) {
			if (ru->c[cnd].kind != CL_COND)
				continue;
			int g = rc->cond0 + ci++;
			int64_t f = dg_bits_count(r->fail[g], n);
			if (o->json)
				printf("%s\"%s\":{\"failed\":%lld,\"unknown\":%lld}",
				       ci > 1 ? "," : "", ru->c[cnd].id, (long long)f,
				       (long long)r->cond_unknown[g]);
			else
				printf("  %s %lld%s", ru->c[cnd].id, (long long)f,
				       r->cond_unknown[g] ? "" : "");
		}
		if (o->json) {
			printf("}}");
		} else {
			printf("\n  unknown because:");
			for (int cnd = 0, ci = 0; cnd < ru->nc; cnd++) {
				if (ru->c[cnd].kind != CL_COND)
					continue;
				int g = rc->cond0 + ci++;
				if (r->cond_unknown[g])
					printf("  %s %lld", ru->c[cnd].id,
					       (long long)r->cond_unknown[g]);
			}
			printf("\n");
		}
	}
	if (o->json)
		printf("],\"evaluations\":%lld,\"peak_rss_mb\":%ld}\n", (long long)evals,
		       peak_rss_mb());
	else if (r->eval_sec > 0)
		printf("%lld record-rule evaluations in %.3f s (%.3g per second)\n",
		       (long long)evals, r->eval_sec, (double)evals / r->eval_sec);
	ret = o->out ? write_out(o->out, c, r) : 0;
out:
	dg_result_free(r);
	dg_code_free(c);
	dg_rule_diag_release(&diag);
	close_session(&s);
	return ret;
}

static int find_record(const struct session *s, const struct opts *o, const char *id, int *ent,
		       int64_t *row)
{
	for (int e = 0; e < s->p->schema->ne; e++) {
		if (o->entity && strcmp(o->entity, s->p->schema->e[e].name))
			continue;
		*row = dg_data_find(s->data, e, id, strlen(id));
		if (*row >= 0) {
			*ent = e;
			return 0;
		}
	}
	fprintf(stderr, "dgov rule explain: no record with id '%s'\n", id);
	return 1;
}

/* --ids FILE: one id a line; blank lines are skipped */
static int read_ids(struct opts *o, char **text)
{
	size_t len;
	struct dg_err err = {0};
	if (dg_rule_read_file(o->ids_file, 64 << 20, text, &len, &err)) {
		fprintf(stderr, "dgov rule explain: %s\n", err.msg);
		return 1;
	}
	for (char *p = *text, *nl; p && *p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		size_t n = strlen(p);
		if (n && p[n - 1] == '\r')
			p[--n] = '\0';
		if (n)
			add_id(o, p);
	}
	return 0;
}

/* One record's explanations against every rule of its entity (or --rule). */
static int explain_one(struct session *s, const struct opts *o, const struct dg_code *c, int only,
		       const char *id, int *nrules)
{
	int ent;
	int64_t row;
	struct dg_buf b;
	struct dg_err err = {0};
	int ret = 1;
	dg_buf_init(&b, 0);
	if (find_record(s, o, id, &ent, &row))
		goto out;
	if (only >= 0 && s->p->rules[only].ent != ent) {
		fprintf(stderr, "dgov rule explain: rule %s is for %s records, '%s' is a %s\n",
			o->rule, s->p->rules[only].for_ent, id, s->p->schema->e[ent].name);
		goto out;
	}
	for (int i = 0; i < s->p->nrules; i++) {
		if ((only >= 0 && i != only) || s->p->rules[i].ent != ent)
			continue;
		dg_rc e = dg_rule_explain_json(c, s->data, i, row, &b, &err);
		e |= dg_buf_adds(&b, "\n");
		if (!o->json) {
			e |= dg_rule_explain_text(c, s->data, i, row, "zh", &b, &err);
			e |= dg_buf_adds(&b, "\n");
			e |= dg_rule_explain_text(c, s->data, i, row, "en", &b, &err);
			e |= dg_buf_adds(&b, "\n");
		}
		if (e) {
			fprintf(stderr, "dgov rule explain: %s\n", err.msg);
			goto out;
		}
		(*nrules)++;
	}
	fputs(dg_buf_str(&b), stdout);
	ret = 0;
out:
	dg_buf_release(&b);
	return ret;
}

static int cmd_explain(struct opts *o)
{
	struct session s;
	int ret = open_session(o, &s);
	struct dg_code *c = NULL;
	struct dg_rule_diag diag;
	char *ids_text = NULL;
	dg_rule_diag_init(&diag);
	if (ret)
		goto out;
	ret = 1;
	if (o->ids_file && read_ids(o, &ids_text))
		goto out;
	if (!o->nids) {
		fprintf(stderr,
			"dgov rule explain: needs --id ID (again for more) or --ids FILE\n");
		ret = 2;
		goto out;
	}
	int only = -1;
	if (o->rule && (only = dg_rule_find(s.p, o->rule)) < 0) {
		fprintf(stderr, "dgov rule explain: no rule '%s'\n", o->rule);
		goto out;
	}
	c = dg_rule_compile(s.p, &s.codes, o->ref, NULL, 0, &diag);
	if (!c) {
		fputs(dg_buf_str(&diag.out), stderr);
		goto out;
	}
	double t0 = dg_mono_sec();
	int n = 0, bad = 0;
	/* every record is explained even when one is missing; the exit code tells */
	for (int i = 0; i < o->nids; i++)
		bad += explain_one(&s, o, c, only, o->ids[i], &n);
	double ms = (dg_mono_sec() - t0) * 1000;
	fprintf(stderr, "explained %d rule%s for %d record%s in %.2f ms\n", n, n == 1 ? "" : "s",
		o->nids - bad, o->nids - bad == 1 ? "" : "s", ms);
	ret = bad ? 1 : 0;
out:
	free(ids_text);
	dg_code_free(c);
	dg_rule_diag_release(&diag);
	close_session(&s);
	return ret;
}

static int cmd_whatif(struct opts *o)
{
	struct session s;
	int ret = open_session(o, &s);
	struct dg_arena *a = dg_arena_new();
	struct dg_override ov[MAX_SETS];
	struct dg_buf b;
	struct dg_err err = {0};
	dg_buf_init(&b, 0);
	if (ret)
		goto out;
	ret = 1;
	if (!o->nsets && !o->sweep) {
		fprintf(stderr, "dgov rule whatif: needs --set PARAM=VALUE or --sweep\n");
		ret = 2;
		goto out;
	}
	for (int i = 0; i < o->nsets; i++)
		if (dg_rule_parse_override(s.p, a, o->sets[i], &ov[i], &err)) {
			fprintf(stderr, "dgov rule whatif: %s\n", err.msg);
			goto out;
		}
	if (o->nsets && dg_rule_whatif(s.p, s.data, &s.codes, o->ref, ov, o->nsets, o->threads,
				       o->json, &b, &err)) {
		fprintf(stderr, "dgov rule whatif: %s\n", err.msg);
		goto out;
	}
	if (o->sweep) {
		struct dg_override sw;
		int64_t vals[256];
		int n;
		if (dg_rule_parse_sweep(s.p, a, o->sweep, 200, &sw, vals, &n, &err)) {
			fprintf(stderr, "dgov rule whatif: %s\n", err.msg);
			goto out;
		}
		if (dg_rule_sweep(s.p, s.data, &s.codes, o->ref, &sw, vals, n, o->threads, &b,
				  &err)) {
			fprintf(stderr, "dgov rule whatif: %s\n", err.msg);
			goto out;
		}
	}
	fputs(dg_buf_str(&b), stdout);
	ret = 0;
out:
	dg_buf_release(&b);
	dg_arena_free(a);
	close_session(&s);
	return ret;
}

int dg_rule_main(int argc, char **argv)
{
	struct opts o;
	int ret;
	if (argc < 2)
		return usage();
	const char *cmd = argv[1];
	if (parse_opts(argc, argv, &o))
		ret = 2;
	else if (!strcmp(cmd, "check"))
		ret = cmd_check(&o);
	else if (!strcmp(cmd, "dump"))
		ret = cmd_dump(&o);
	else if (!strcmp(cmd, "test"))
		ret = cmd_test(&o);
	else if (!strcmp(cmd, "run"))
		ret = cmd_run(&o);
	else if (!strcmp(cmd, "explain"))
		ret = cmd_explain(&o);
	else if (!strcmp(cmd, "whatif"))
		ret = cmd_whatif(&o);
	else {
		fprintf(stderr, "dgov rule: unknown command '%s'\n", cmd);
		ret = usage();
	}
	free(o.ids);
	return ret;
}
