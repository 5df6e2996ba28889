/*
 * load.c - rule files into a checked program; what-if overrides from text.
 */
#include "rule/load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "rule/check.h"
#include "rule/yaml.h"

#define MAX_RULE_FILE (4 << 20)

struct dg_program *dg_rule_load(char *const *paths, int n)
{
	struct dg_program *p = dg_program_new();
	for (int i = 0; i < n; i++) {
		char *text = NULL;
		size_t len = 0;
		struct dg_err err = {0};
		if (dg_rule_read_file(paths[i], MAX_RULE_FILE, &text, &len, &err)) {
			dg_rule_diag_at(&p->diag, NULL, 0, 0, false, "%s", err.msg);
			continue;
		}
		dg_program_parse(p, paths[i], text, len);
		free(text);
	}
	if (!p->diag.errors)
		dg_rule_check(p);
	return p;
}

dg_rc dg_rule_parse_param_value(const struct dg_param *pm, const char *s, int64_t *out)
{
	size_t n = strlen(s);
	switch (pm->ty.base) {
	case TY_DEC: {
		/* "1.5", "150%", "0.055" */
		bool pct = n && s[n - 1] == '%';
		int64_t whole = 0, frac = 0, scale = DG_DEC_ONE;
		size_t i = 0;
		bool neg = n && s[0] == '-';
		if (pct)
			n--;
		if (neg)
			i++;
		int digits = 0;
		for (; i < n && s[i] != '.'; i++, digits++) {
			if (s[i] < '0' || s[i] > '9' || digits > 12)
				return DG_EINVAL;
			whole = whole * 10 + (s[i] - '0');
		}
		if (i < n) {
			for (i++; i < n; i++) {
				if (s[i] < '0' || s[i] > '9' || scale == 1)
					return DG_EINVAL;
				scale /= 10;
				frac += (s[i] - '0') * scale;
			}
		}
		if (!digits)
			return DG_EINVAL;
		int64_t v = whole * DG_DEC_ONE + frac;
		if (pct) {
			if (v % 100)
				return DG_EINVAL;
			v /= 100;
		}
		*out = neg ? -v : v;
		return DG_OK;
	}
	case TY_BOOL:
	case TY_INT:
	case TY_MONEY:
	case TY_DATE: return dg_data_parse_value(pm->ty.base, s, n, NULL, out);
	default: return DG_EINVAL;
	}
}

dg_rc dg_rule_parse_override(const struct dg_program *p, struct dg_arena *a, const char *spec,
			     struct dg_override *out, struct dg_err *err)
{
	const char *eq = strchr(spec, '=');
	char name[512]; /* a name of up to 64 characters (256 bytes) and a region */
	const char *region = NULL;
	if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof(name))
		return dg_err_set(err, DG_EINVAL, "--set wants NAME=VALUE or NAME[REGION]=VALUE");
	memcpy(name, spec, (size_t)(eq - spec));
	name[eq - spec] = '\0';
	char *lb = strchr(name, '[');
	if (lb) {
		char *rb = strchr(lb, ']');
		if (!rb || rb[1] != '\0' || rb == lb + 1)
			return dg_err_set(err, DG_EINVAL, "--set %s: write NAME[REGION]=VALUE",
					  spec);
		*rb = '\0';
		region = dg_arena_strdup(a, lb + 1);
		*lb = '\0';
	}
	int pi = dg_rule_param_find(p, name);
	if (pi < 0) {
		const char *c[512];
		size_t nc = 0;
		for (int i = 0; i < p->nparams && nc < 512; i++)
			c[nc++] = p->params[i].name;
		const char *best = dg_rule_did_you_mean(name, c, nc);
		return dg_err_set(err, DG_EINVAL, "no parameter '%s'%s%s%s", name,
				  best ? " (did you mean '" : "", best ? best : "",
				  best ? "'?)" : "");
	}
	if (region && !p->params[pi].by_region)
		return dg_err_set(err, DG_EINVAL, "parameter %s is not set by region", name);
	out->param = pi;
	out->region = region;
	if (dg_rule_parse_param_value(&p->params[pi], eq + 1, &out->value))
		return dg_err_set(err, DG_EINVAL, "--set %s: '%s' is not a valid value for %s",
				  spec, eq + 1, name);
	return DG_OK;
}

dg_rc dg_rule_parse_sweep(const struct dg_program *p, struct dg_arena *a, const char *spec, int max,
			  struct dg_override *ov, int64_t *vals, int *n, struct dg_err *err)
{
	char buf[256];
	if (strlen(spec) >= sizeof buf)
		return dg_err_set(err, DG_EINVAL, "--sweep PARAM=FROM..TO:STEP");
	snprintf(buf, sizeof(buf), "%s", spec);
	char *dots = strstr(buf, ".."), *colon = strrchr(buf, ':'), *eq = strchr(buf, '=');
	if (!eq || !dots || !colon || colon < dots)
		return dg_err_set(err, DG_EINVAL, "--sweep PARAM=FROM..TO:STEP");
	*dots = '\0';
	*colon = '\0';
	dg_rc rc = dg_rule_parse_override(p, a, buf, ov, err);
	if (rc)
		return rc;
	int64_t to, step;
	const struct dg_param *pm = &p->params[ov->param];
	if (dg_rule_parse_param_value(pm, dots + 2, &to) ||
	    dg_rule_parse_param_value(pm, colon + 1, &step) || step <= 0 || to < ov->value ||
	    (to - ov->value) / step >= max)
		return dg_err_set(err, DG_EINVAL, "--sweep needs FROM <= TO and at most %d steps",
				  max);
	*n = 0;
	for (int64_t v = ov->value; v <= to; v += step)
		vals[(*n)++] = v;
	return DG_OK;
}
