/*
 * chart.c - a chart drawn by the server as SVG, as bars or a line, so it
 * shows without JavaScript and prints: the open-data dataset page's chart
 * of a numeric column, the proactive services' take-up and what-if charts.
 * It is an image with a <title> and <desc> (role="img"); the page puts the
 * same numbers in a table beside it for those who cannot see it.
 *
 * The drawing is in a fixed 640 x 320 box scaled by the browser (viewBox),
 * so it fits a 320 px phone. Colours are presentation attributes (the
 * Content-Security-Policy allows no inline style) and keep 3:1 against
 * white for the marks and 4.5:1 for the text.
 */
#include "web/chart.h"

#include <math.h>
#include <string.h>

#define W          640.0
#define H          320.0
#define LEFT       72.0 /* room for the value axis' labels */
#define RIGHT      16.0
#define TOP        16.0
#define BOTTOM     56.0 /* room for the category labels */
#define MAX_LABELS 8    /* category labels written under the axis; others are in the table */

static dg_rc add_text(struct dg_buf *b, const char *s)
{
	return dg_buf_add_html(b, s, strlen(s));
}

/* A label cut to 12 characters (whole UTF-8 characters) so labels never overlap. */
static dg_rc add_short(struct dg_buf *b, const char *s)
{
	size_t n = 0, chars = 0;
	while (s[n] && chars < 12) {
		n++;
		while ((s[n] & 0xC0) == 0x80)
			n++;
		chars++;
	}
	dg_rc rc = dg_buf_add_html(b, s, n);
	if (!rc && s[n])
		rc = dg_buf_adds(b, "…");
	return rc;
}

/* A round step for about 5 grid lines over span. */
static double nice_step(double span)
{
	if (span <= 0)
		return 1;
	double raw = span / 5, mag = pow(10, floor(log10(raw)));
	double f = raw / mag;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

static dg_rc grid(struct dg_buf *b, double lo, double hi, double step)
{
	dg_rc rc = DG_OK;
	/* bounded: (hi - lo) / step is at most about 12 by nice_step */
	for (double v = lo; v <= hi + step / 2 && !rc; v += step) {
		double y = TOP + (H - TOP - BOTTOM) * (1 - (v - lo) / (hi - lo));
		rc = dg_buf_addf(
			b,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#b1b4b6\""
			" stroke-width=\"1\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"13\""
			" text-anchor=\"end\" fill=\"#0b0c0c\">%.10g</text>",
			LEFT, y, W - RIGHT, y, LEFT - 6, y + 4, fabs(v) < step / 1e6 ? 0 : v);
	}
	return rc;
}

dg_rc dg_chart_svg(struct dg_buf *b, const char *id, const char *title, const char *desc,
		   const char *const *labels, const double *values, size_t n, bool line)
{
	if (n > DG_CHART_MAX)
		n = DG_CHART_MAX;
	double lo = 0, hi = 0;
	for (size_t i = 0; i < n; i++) {
		if (values[i] < lo)
			lo = values[i];
		if (values[i] > hi)
			hi = values[i];
	}
	double step = nice_step(hi - lo);
	lo = floor(lo / step) * step;
	hi = ceil(hi / step) * step;
	if (hi <= lo)
		hi = lo + step;
	dg_rc rc = dg_buf_addf(b,
			       "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\""
			       " width=\"100%%\" role=\"img\" aria-labelledby=\"%s-title %s-desc\""
			       " class=\"chart\"><title id=\"%s-title\">",
			       W, H, id, id, id);
	if (!rc)
		rc = add_text(b, title);
	if (!rc)
		rc = dg_buf_addf(b, "</title><desc id=\"%s-desc\">", id);
	if (!rc)
		rc = add_text(b, desc);
	if (!rc)
		rc = dg_buf_adds(b, "</desc><rect x=\"0\" y=\"0\" width=\"640\" height=\"320\" "
				    "fill=\"#ffffff\"/>");
	if (!rc)
		rc = grid(b, lo, hi, step);
	double plot_w = W - LEFT - RIGHT, plot_h = H - TOP - BOTTOM;
	double slot = n ? plot_w / (double)n : plot_w;
	double zero = TOP + plot_h * (1 - (0 - lo) / (hi - lo));
	if (!rc && line && n)
		rc = dg_buf_adds(
			b,
			"<polyline fill=\"none\" stroke=\"#1d70b8\" stroke-width=\"3\" points=\"");
	for (size_t i = 0; i < n && !rc; i++) {
		double x = LEFT + slot * (double)i,
		       y = TOP + plot_h * (1 - (values[i] - lo) / (hi - lo));
		if (line)
			rc = dg_buf_addf(b, "%.1f,%.1f ", x + slot / 2, y);
		else
			rc = dg_buf_addf(
				b,
				"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\""
				" fill=\"#1d70b8\"/>",
				x + slot * 0.15, y < zero ? y : zero, slot * 0.7,
				fabs(zero - y) < 1 ? 1 : fabs(zero - y));
	}
	if (!rc && line && n)
		rc = dg_buf_adds(b, "\"/>");
	for (size_t i = 0; i < n && line && !rc; i++) {
		double x = LEFT + slot * (double)i,
		       y = TOP + plot_h * (1 - (values[i] - lo) / (hi - lo));
		rc = dg_buf_addf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#1d70b8\"/>",
				 x + slot / 2, y);
	}
	/* every k-th label, so at most MAX_LABELS sit under the axis */
	size_t k = n > MAX_LABELS ? (n + MAX_LABELS - 1) / MAX_LABELS : 1;
	for (size_t i = 0; i < n && !rc; i += k) {
		rc = dg_buf_addf(
			b,
			"<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" text-anchor=\"middle\""
			" fill=\"#0b0c0c\">",
			LEFT + slot * (double)i + slot / 2, H - BOTTOM + 20);
		if (!rc)
			rc = add_short(b, labels[i]);
		if (!rc)
			rc = dg_buf_adds(b, "</text>");
	}
	if (!rc)
		rc = dg_buf_addf(
			b,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#0b0c0c\""
			" stroke-width=\"2\"/></svg>",
			LEFT, zero, W - RIGHT, zero);
	return rc;
}
