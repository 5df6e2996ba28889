/*
 * chart.h - charts drawn by the server as SVG (chart.c), for pages that
 * must work without JavaScript: the page puts the same numbers in a table
 * beside each chart, which is the truth; the chart is its picture.
 */
#ifndef DG_WEB_CHART_H
#define DG_WEB_CHART_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

#define DG_CHART_MAX 60 /* points drawn at most; the rest are only in the table */

/*
 * A chart of labels[i] -> values[i] (n <= DG_CHART_MAX) appended to b as an
 * SVG image for people and screen readers: a line (true) or bars, its
 * <title> and <desc> from title and desc (escaped here), their element ids
 * "<id>-title" and "<id>-desc" (id: letters, digits and '-', unique on the
 * page, not escaped). ETOOBIG when b is full.
 */
dg_rc dg_chart_svg(struct dg_buf *b, const char *id, const char *title, const char *desc,
		   const char *const *labels, const double *values, size_t n, bool line) DG_MUST;

#endif
