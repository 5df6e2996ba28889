/*
 * pdf.c - the certificate as a one-page PDF (written by core/pdf.c).
 *
 * Layout (A4, points from the bottom left): a double border, the region,
 * the title in both languages, rows of label and value, a status banner
 * when the certificate is not valid, and at the bottom the QR code with the
 * verification address beside it.
 */
#include "cert/pdf.h"

#include <stdbool.h>
#include <stdio.h>

#include "core/pdf.h"

#define LEFT        64.0
#define VALUE_X     200.0
#define VALUE_W     330.0
#define ROWS_BOTTOM 240.0 /* rows stop above the QR block */
#define MAX_LINES   3

struct layout {
	struct dg_buf *cs;
	double y;
	bool cut;
};

/* A row: a label (in Chinese, and in English below it when given) and a wrapped value. */
static dg_rc row(struct layout *l, const char *label_zh, const char *label_en, const char *value)
{
	char lines[MAX_LINES][DG_PDF_LINE];
	int n = dg_pdf_wrap(value && *value ? value : "-", 12, VALUE_W, lines, MAX_LINES);
	double h =
		(n * 16.0 > (*label_en ? 22.0 : 14.0) ? n * 16.0 : (*label_en ? 22.0 : 14.0)) + 10;
	if (l->cut || l->y - h < ROWS_BOTTOM) {
		l->cut = true;
		return DG_OK;
	}
	char lab[MAX_LINES][DG_PDF_LINE];
	(void)dg_pdf_wrap(label_zh, 11, VALUE_X - LEFT - 8, lab, MAX_LINES);
	dg_rc rc = dg_pdf_text(l->cs, LEFT, l->y, 11, lab[0]);
	if (!rc && *label_en)
		rc = dg_pdf_text(l->cs, LEFT, l->y - 11, 8, label_en);
	for (int i = 0; i < n && !rc; i++)
		rc = dg_pdf_text(l->cs, VALUE_X, l->y - i * 16.0, 12, lines[i]);
	l->y -= h;
	return rc;
}

static dg_rc draw_qr(struct dg_buf *cs, const struct dg_qr *q, double x0, double y0, double side)
{
	int full = q->size + 2 * DG_QR_QUIET;
	double m = side / full;
	dg_rc rc = dg_buf_adds(cs, "0 g\n");
	for (int y = 0; y < q->size && !rc; y++) {
		double py = y0 + (full - 1 - (y + DG_QR_QUIET)) * m;
		for (int x = 0, run; !rc && (run = dg_qr_run(q, &x, y)) > 0; x += run)
			rc = dg_buf_addf(cs, "%.3f %.3f %.3f %.3f re\n", x0 + (x + DG_QR_QUIET) * m,
					 py, run * m, m);
	}
	if (!rc)
		rc = dg_buf_adds(cs, "f\n");
	return rc;
}

static dg_rc content(const struct dg_cert_pdf *in, struct dg_buf *cs)
{
	struct layout l = {cs, 660, false};
	char valid[128];
	/* a double border */
	dg_rc rc = dg_buf_addf(
		cs, "0.62 0.1 0.1 RG 2 w 36 36 %.2f %.2f re S 0.6 w 42 42 %.2f %.2f re S 0 G\n",
		DG_PDF_PAGE_W - 72, DG_PDF_PAGE_H - 72, DG_PDF_PAGE_W - 84, DG_PDF_PAGE_H - 84);
	if (!rc && *in->region_zh)
		rc = dg_pdf_centered(cs, 780, 12, 460, in->region_zh);
	if (!rc)
		rc = dg_pdf_centered(cs, 736, 26, 470, in->title_zh);
	if (!rc && *in->title_en)
		rc = dg_pdf_centered(cs, 712, 13, 470, in->title_en);
	if (!rc)
		rc = dg_buf_adds(cs, "0.5 w 64 696 m 531.28 696 l S\n");
	if (!rc)
		rc = row(&l, "持证人", "Holder", in->holder_name);
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)in->fields, k, v) {
		if (!rc && json_is_string(v))
			rc = row(&l, k, "", json_string_value(v));
	}
	if (*in->valid_until)
		snprintf(valid, sizeof(valid), "%s 至 %s", in->valid_from, in->valid_until);
	else
		snprintf(valid, sizeof(valid), "%s 起长期有效", in->valid_from);
	if (!rc)
		rc = row(&l, "有效期", "Valid", valid);
	if (!rc)
		rc = row(&l, "发证机关", "Issued by", in->dept_zh);
	if (!rc && *in->dept_en && !l.cut && l.y + 22 < 660) {
		/* the department's English name under its Chinese one */
		l.y += 12;
		rc = row(&l, "", "", in->dept_en);
	}
	if (!rc)
		rc = row(&l, "发证日期", "Issued on", in->issued_on);
	if (!rc)
		rc = row(&l, "事项编码", "Service item", in->item_code);
	if (!rc && *in->case_ref)
		rc = row(&l, "办件编号", "Case", in->case_ref);
	if (!rc)
		rc = row(&l, "证照编号", "Certificate ID", in->id);
	if (!rc && l.cut)
		rc = dg_pdf_text(cs, LEFT, ROWS_BOTTOM + 4, 9,
				 "（更多内容请到核验页面查看 / more on the verification page）");
	if (!rc && *in->status_zh) {
		rc = dg_buf_adds(cs, "0.75 0 0 rg\n");
		if (!rc)
			rc = dg_pdf_text(cs, LEFT, 222, 16, in->status_zh);
		if (!rc && *in->status_en)
			rc = dg_pdf_text(cs, LEFT + dg_pdf_text_width(in->status_zh, 16) + 12, 222,
					 14, in->status_en);
		if (!rc)
			rc = dg_buf_adds(cs, "0 g\n");
	}
	if (!rc && in->qr)
		rc = draw_qr(cs, in->qr, LEFT - 6, 62, 140);
	if (!rc)
		rc = dg_pdf_text(cs, 210, 180, 10.5, "扫描二维码或访问下面的网址，核验证照真伪：");
	if (!rc)
		rc = dg_pdf_text(cs, 210, 166, 9,
				 "Scan the code or visit this address to check the certificate:");
	double us = 10;
	if (!rc && dg_pdf_text_width(in->url, us) > VALUE_W)
		us = us * VALUE_W / dg_pdf_text_width(in->url, us);
	if (!rc)
		rc = dg_pdf_text(cs, 210, 148, us, in->url);
	if (!rc)
		rc = dg_pdf_text(cs, 210, 120, 9, "本证照由发证机关以电子签名（Ed25519）签发，");
	if (!rc)
		rc = dg_pdf_text(cs, 210, 107, 9,
				 "签名公钥见本平台 /.well-known/dgov-signing-key。");
	if (!rc)
		rc = dg_pdf_text(cs, 210, 92, 8,
				 "Signed electronically (Ed25519) by the issuing authority; the "
				 "public key is at");
	if (!rc)
		rc = dg_pdf_text(cs, 210, 81, 8, "/.well-known/dgov-signing-key on this platform.");
	return rc;
}

dg_rc dg_cert_pdf_write(const struct dg_cert_pdf *in, struct dg_buf *out)
{
	struct dg_buf cs;
	dg_buf_init(&cs, 1u << 20);
	dg_rc rc = content(in, &cs);
	if (!rc)
		rc = dg_pdf_write(&cs, 1, in->title_zh, in->id, out);
	dg_buf_release(&cs);
	return rc;
}
