/*
 * whatif.c - parameter overrides evaluated against the baseline, only for
 * the rules that depend on them.
 */
#include "rule/whatif.h"

#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/mem.h"
#include "rule/explain.h"
#include "rule/text.h"

/* A name in a column of the given width, padded by what a terminal shows (a
 * Chinese character takes two columns), on the left or the right. */
static dg_rc add_padded(struct dg_buf *out, const char *name, int width, bool right)
{
	int pad = width - dg_text_width(name, strlen(name));
	pad = pad > 0 ? pad : 0;
	return right ? dg_buf_addf(out, "%*s%s", pad, "", name)
		     : dg_buf_addf(out, "%s%*s", name, pad, "");
}

static bool depends(const struct dg_code *c, int rule, const struct dg_override *ov, int nov)
{
	for (int i = 0; i < nov; i++)
		if ((c->rc[rule].param_deps[ov[i].param / 64] >> (ov[i].param % 64)) & 1)
			return true;
	return false;
}

static uint64_t mag(int64_t v)
{
	return v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
}

static int64_t count_diff(const uint64_t *a, const uint64_t *b, int64_t n)
{
	int64_t c = 0;
	for (int64_t w = 0; w < (n + 63) / 64; w++) {
		uint64_t x = a[w] & ~b[w];
		if (w == n / 64 && (n & 63))
			x &= ((uint64_t)1 << (n & 63)) - 1;
		c += __builtin_popcountll(x);
	}
	return c;
}

dg_rc dg_whatif_open(const struct dg_program *p, const struct dg_data *data,
		     const struct dg_intern *codes, dg_day ref, const struct dg_override *ov,
		     int nov, int nthreads, bool amounts, struct dg_whatif *w, struct dg_err *err)
{
	dg_rc rc = DG_EINVAL;
	struct dg_rule_diag diag;
	memset(w, 0, sizeof *w);
	w->sel = dg_xcalloc((size_t)p->nrules + 1, sizeof(bool));
	dg_rule_diag_init(&diag);
	w->base = dg_rule_compile(p, codes, ref, NULL, 0, &diag);
	w->alt = w->base ? dg_rule_compile(p, codes, ref, ov, nov, &diag) : NULL;
	if (!w->alt) {
		dg_err_set(err, DG_EINVAL, "%s", dg_buf_str(&diag.out));
		goto out;
	}
	for (int i = 0; i < p->nrules; i++)
		w->nsel += w->sel[i] = depends(w->base, i, ov, nov);
	struct dg_run_opts o = {.select = w->sel, .nthreads = nthreads, .amounts = amounts};
	double t0 = dg_mono_sec();
	if ((rc = dg_rule_run_opts(w->base, data, &o, &w->rb, err)) ||
	    (rc = dg_rule_run_opts(w->alt, data, &o, &w->ra, err)))
		goto out;
	w->secs = dg_mono_sec() - t0;
out:
	dg_rule_diag_release(&diag);
	if (rc)
		dg_whatif_close(w);
	return rc;
}

void dg_whatif_close(struct dg_whatif *w)
{
	dg_result_free(w->rb);
	dg_result_free(w->ra);
	dg_code_free(w->base);
	dg_code_free(w->alt);
	free(w->sel);
	memset(w, 0, sizeof *w);
}

dg_rc dg_rule_whatif(const struct dg_program *p, const struct dg_data *data,
		     const struct dg_intern *codes, dg_day ref, const struct dg_override *ov,
		     int nov, int nthreads, bool json, struct dg_buf *out, struct dg_err *err)
{
	struct dg_whatif w;
	dg_rc rc = dg_whatif_open(p, data, codes, ref, ov, nov, nthreads, false, &w, err);
	if (rc)
		return rc;
	const bool *sel = w.sel;
	const struct dg_result *rb = w.rb, *ra = w.ra;
	int nsel = w.nsel;
	double secs = w.secs;
	dg_rc e = DG_OK;
	if (json)
		e |= dg_buf_addf(out, "{\"affected_rules\":%d,\"seconds\":%.3f,\"rules\":[", nsel,
				 secs);
	else
		e |= dg_buf_addf(out,
				 "what-if: %d of %d rules read the changed parameters "
				 "(evaluated twice in %.3f s)\n",
				 nsel, p->nrules, secs);
	int k = 0;
	for (int i = 0; i < p->nrules; i++) {
		if (!sel[i] || !rb->selected[i])
			continue;
		int64_t n = data->t[p->rules[i].ent].n;
		int64_t before = dg_bits_count(rb->elig[i], n),
			after = dg_bits_count(ra->elig[i], n);
		int64_t gain = count_diff(ra->elig[i], rb->elig[i], n);
		int64_t lose = count_diff(rb->elig[i], ra->elig[i], n);
		int64_t du = dg_bits_count(ra->unk[i], n) - dg_bits_count(rb->unk[i], n);
		int64_t dam;
		bool big = ra->amount_overflow[i] || rb->amount_overflow[i] ||
			   __builtin_sub_overflow(ra->amount_sum[i], rb->amount_sum[i], &dam);
		if (json) {
			e |= dg_buf_addf(out,
					 "%s{\"rule\":\"%s\",\"eligible_before\":%lld,\"eligible_"
					 "after\":%lld,"
					 "\"gain\":%lld,\"lose\":%lld,\"unknown_change\":%lld,"
					 "\"amount_change_fen\":",
					 k++ ? "," : "", p->rules[i].id, (long long)before,
					 (long long)after, (long long)gain, (long long)lose,
					 (long long)du);
			e |= big ? dg_buf_adds(out, "null}")
				 : dg_buf_addf(out, "%lld}", (long long)dam);
		} else {
			e |= dg_buf_adds(out, "  ");
			e |= add_padded(out, p->rules[i].id, 28, false);
			e |= dg_buf_addf(out,
					 " eligible %lld -> %lld   gain %lld   lose %lld   "
					 "unknown %+lld   amount ",
					 (long long)before, (long long)after, (long long)gain,
					 (long long)lose, (long long)du);
			e |= big ? dg_buf_adds(out, "too large to total\n")
				 : dg_buf_addf(out, "%s%llu.%02llu yuan\n", dam < 0 ? "-" : "+",
					       (unsigned long long)(mag(dam) / 100),
					       (unsigned long long)(mag(dam) % 100));
		}
	}
	if (json)
		e |= dg_buf_adds(out, "]}\n");
	rc = e ? dg_err_set(err, DG_ETOOBIG, "output too long") : DG_OK;
	dg_whatif_close(&w);
	return rc;
}

dg_rc dg_rule_sweep_counts(const struct dg_program *p, const struct dg_data *data,
			   const struct dg_intern *codes, dg_day ref, const struct dg_override *ov,
			   const int64_t *values, int n, int nthreads, int64_t *counts,
			   struct dg_err *err)
{
	struct dg_rule_diag diag;
	dg_rc rc = DG_OK;
	bool *sel = dg_xcalloc((size_t)p->nrules + 1, sizeof(bool));
	dg_rule_diag_init(&diag);
	struct dg_code *base = dg_rule_compile(p, codes, ref, NULL, 0, &diag);
	if (!base) {
		rc = dg_err_set(err, DG_EINVAL, "%s", dg_buf_str(&diag.out));
		goto out;
	}
	for (int i = 0; i < p->nrules; i++)
		sel[i] = depends(base, i, ov, 1);
	/* up to 32 values per pass: each block of records is read once for all of them */
	for (int v0 = 0; v0 < n && !rc; v0 += 32) {
		int nv = n - v0 < 32 ? n - v0 : 32;
		struct dg_code *cs[32] = {0};
		struct dg_result *rs[32] = {0};
		for (int v = 0; v < nv && !rc; v++) {
			struct dg_override o = *ov;
			o.value = values[v0 + v];
			cs[v] = dg_rule_compile(p, codes, ref, &o, 1, &diag);
			if (!cs[v])
				rc = dg_err_set(err, DG_EINVAL, "%s", dg_buf_str(&diag.out));
		}
		if (!rc)
			rc = dg_rule_run_many((const struct dg_code *const *)cs, nv, data, sel,
					      nthreads, rs, err);
		for (int v = 0; v < nv && !rc; v++)
			for (int i = 0; i < p->nrules; i++)
				counts[(size_t)(v0 + v) * (size_t)p->nrules + (size_t)i] =
					sel[i] && rs[v]->selected[i]
						? dg_bits_count(rs[v]->elig[i],
								data->t[p->rules[i].ent].n)
						: -1;
		for (int v = 0; v < nv; v++) {
			dg_result_free(rs[v]);
			dg_code_free(cs[v]);
		}
	}
out:
	dg_code_free(base);
	dg_rule_diag_release(&diag);
	free(sel);
	return rc;
}

dg_rc dg_rule_sweep(const struct dg_program *p, const struct dg_data *data,
		    const struct dg_intern *codes, dg_day ref, const struct dg_override *ov,
		    const int64_t *values, int n, int nthreads, struct dg_buf *out,
		    struct dg_err *err)
{
	int64_t *counts = dg_xcalloc((size_t)n * (size_t)p->nrules + 1, sizeof *counts);
	double t0 = dg_mono_sec();
	dg_rc rc = dg_rule_sweep_counts(p, data, codes, ref, ov, values, n, nthreads, counts, err);
	double secs = dg_mono_sec() - t0;
	/* a rule reads the parameter for every value or for none */
	bool *sel = dg_xcalloc((size_t)p->nrules + 1, sizeof(bool));
	for (int i = 0; i < p->nrules && n > 0; i++)
		sel[i] = counts[i] >= 0;
	if (!rc) {
		rc |= dg_buf_addf(out, "sweep of %s:\n  %-14s", p->params[ov->param].name, "value");
		for (int i = 0; i < p->nrules; i++)
			if (sel[i])
				rc |= dg_buf_adds(out, " ") |
				      add_padded(out, p->rules[i].id, 16, true);
		rc |= dg_buf_adds(out, "\n");
	}
	for (int v = 0; v < n && !rc; v++) {
		rc |= dg_buf_adds(out, "  ");
		size_t before = out->len;
		rc |= dg_rule_fmt_value(out, codes, p->params[ov->param].ty, values[v], true,
					false);
		for (size_t pad = out->len - before; pad < 14; pad++)
			rc |= dg_buf_addc(out, ' ');
		for (int i = 0; i < p->nrules; i++)
			if (sel[i])
				rc |= dg_buf_addf(
					out, " %16lld",
					(long long)
						counts[(size_t)v * (size_t)p->nrules + (size_t)i]);
		rc |= dg_buf_adds(out, "\n");
	}
	int passes = (n + 31) / 32;
	if (!rc)
		rc = dg_buf_addf(out, "%d values in %d pass%s over the data, %.3f s\n", n, passes,
				 passes == 1 ? "" : "es", secs);
	free(sel);
	free(counts);
	return rc;
}
