/*
 * blank.c - an item's application form as a blank PDF to print and fill by
 * hand, for the material a guide lists as the form (a material whose
 * "blank" is "form"): the same questions the online form asks, page by page,
 * each with its label in both languages and a box to write in, the choices
 * of a select or radio question as tick boxes, the other materials as a
 * checklist, and a declaration to sign. It gives at the top the address to
 * apply online, where the filled form can be uploaded.
 *
 * Served at GET /services/{code}/form.pdf (catalog.c); drawn with core/pdf.h.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "catalog/catalog.h"
#include "catalog/internal.h"
#include "core/pdf.h"

#define LEFT     56.0
#define RIGHT    539.28
#define TOP      790.0
#define BOTTOM   64.0
#define BOX_H    22.0
#define AREA_H   66.0
#define WRAP_MAX 4

struct sheet {
	struct dg_buf pages[DG_PDF_MAX_PAGES];
	int n;    /* pages started */
	double y; /* where the next thing goes on the current page */
	const char *code;
};

static const char *sget(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static struct dg_buf *page(struct sheet *s)
{
	return &s->pages[s->n - 1];
}

/* The page number and item code at the bottom of the current page. */
static dg_rc footer(struct sheet *s)
{
	char line[160];
	snprintf(line, sizeof(line), "%s  ·  第 %d 页 / Page %d", s->code, s->n, s->n);
	return dg_pdf_text(page(s), LEFT, 36, 8, line);
}

static dg_rc new_page(struct sheet *s)
{
	if (s->n == DG_PDF_MAX_PAGES)
		return DG_ETOOBIG;
	dg_buf_init(&s->pages[s->n++], 1u << 20);
	s->y = TOP;
	return footer(s);
}

/* Make room for h points, on a new page when this one is full. */
static dg_rc room(struct sheet *s, double h)
{
	return s->y - h < BOTTOM ? new_page(s) : DG_OK;
}

/* Wrapped text at x, size pt, advancing y. */
static dg_rc para(struct sheet *s, double x, double size, const char *text)
{
	char lines[WRAP_MAX][DG_PDF_LINE];
	int n = dg_pdf_wrap(text, size, RIGHT - x, lines, WRAP_MAX);
	dg_rc rc = room(s, n * size * 1.35);
	for (int i = 0; i < n && !rc; i++) {
		rc = dg_pdf_text(page(s), x, s->y - size, size, lines[i]);
		s->y -= size * 1.35;
	}
	return rc;
}

/* An empty box, h points high, across the page. */
static dg_rc box(struct sheet *s, double h)
{
	dg_rc rc = dg_buf_addf(page(s), "0.4 w %.2f %.2f %.2f %.2f re S\n", LEFT, s->y - h,
			       RIGHT - LEFT, h);
	s->y -= h + 10;
	return rc;
}

/* "□ 中文 English" for each option, as many to a line as fit. */
static dg_rc options(struct sheet *s, const json_t *opts)
{
	double x = LEFT + 8;
	json_t *o;
	size_t i;
	dg_rc rc = room(s, 18);
	json_array_foreach (opts, i, o) {
		char text[DG_PDF_LINE];
		snprintf(text, sizeof(text), "□ %s %s", sget(o, "zh"), sget(o, "en"));
		double w = dg_pdf_text_width(text, 10.5) + 18;
		if (x > LEFT + 8 && x + w > RIGHT) {
			s->y -= 18;
			x = LEFT + 8;
			rc = room(s, 18);
		}
		if (!rc)
			rc = dg_pdf_text(page(s), x, s->y - 12, 10.5, text);
		x += w;
		if (rc)
			break;
	}
	s->y -= 26;
	return rc;
}

/* One question: its label (with * when required), its hint, and where to answer. */
static dg_rc question(struct sheet *s, const json_t *f)
{
	const char *type = sget(f, "type");
	bool choice = !strcmp(type, "select") || !strcmp(type, "radio");
	double need = 28 + (choice ? 26 : !strcmp(type, "textarea") ? AREA_H : BOX_H);
	dg_rc rc = room(s, need);
	char label[DG_PDF_LINE];
	snprintf(label, sizeof(label), "%s%s  %s",
		 json_is_true(json_object_get(f, "required")) ? "* " : "", sget(f, "label_zh"),
		 sget(f, "label_en"));
	if (!rc)
		rc = para(s, LEFT, 11, label);
	json_t *when = json_object_get(f, "when");
	if (!rc && when)
		rc = para(s, LEFT + 8, 8.5,
			  "（仅在前面的回答需要时填写 / only if an earlier answer calls for it）");
	if (!rc && *sget(f, "hint_zh"))
		rc = para(s, LEFT + 8, 8.5, sget(f, "hint_zh"));
	if (!rc && !strcmp(type, "date"))
		rc = para(s, LEFT + 8, 8.5, "年 / 月 / 日（YYYY-MM-DD）");
	s->y -= 2;
	if (!rc)
		rc = choice ? options(s, json_object_get(f, "options"))
			    : box(s, !strcmp(type, "textarea") ? AREA_H : BOX_H);
	return rc;
}

static dg_rc heading(struct sheet *s, const char *zh, const char *en)
{
	char text[DG_PDF_LINE];
	snprintf(text, sizeof(text), "%s  %s", zh, en);
	dg_rc rc = room(s, 40);
	if (!rc) {
		s->y -= 8;
		rc = para(s, LEFT, 13, text);
	}
	if (!rc)
		rc = dg_buf_addf(page(s), "0.6 w %.2f %.2f m %.2f %.2f l S\n", LEFT, s->y + 2,
				 RIGHT, s->y + 2);
	s->y -= 8;
	return rc;
}

static dg_rc body(struct sheet *s, const json_t *item, const json_t *form, const char *region,
		  const char *apply_url)
{
	char text[DG_PDF_LINE];
	dg_rc rc = new_page(s);
	if (!rc && *region)
		rc = dg_pdf_centered(page(s), s->y - 12, 12, RIGHT - LEFT, region);
	s->y -= 48;
	snprintf(text, sizeof(text), "%s申请表", sget(item, "name_zh"));
	if (!rc)
		rc = dg_pdf_centered(page(s), s->y, 20, RIGHT - LEFT, text);
	snprintf(text, sizeof(text), "%s: application form", sget(item, "name_en"));
	if (!rc)
		rc = dg_pdf_centered(page(s), s->y - 22, 12, RIGHT - LEFT, text);
	s->y -= 44;
	if (!rc)
		rc = para(s, LEFT, 9,
			  "也可网上申请，填好的表可扫描上传 / You can also apply online and upload "
			  "this "
			  "form filled in:");
	if (!rc)
		rc = para(s, LEFT, 9, apply_url);
	if (!rc)
		rc = para(s, LEFT, 9,
			  "带 * 的为必填项。请用黑色或蓝色笔填写。/ Questions marked * must be "
			  "answered. Write in black or blue ink.");
	json_t *p, *f;
	size_t i, j;
	json_array_foreach (json_object_get(form, "pages"), i, p) {
		bool heading_done = false;
		json_array_foreach (json_object_get(p, "fields"), j, f) {
			if (rc || !strcmp(sget(f, "type"), "file"))
				continue; /* files are the checklist's */
			if (!heading_done) {
				rc = heading(s, sget(p, "title_zh"), sget(p, "title_en"));
				heading_done = true;
			}
			if (!rc)
				rc = question(s, f);
		}
	}
	json_t *m;
	bool listed = false;
	json_array_foreach (json_object_get(item, "materials"), i, m) {
		if (rc || !strcmp(sget(m, "blank"), "form"))
			continue;
		if (!listed) {
			rc = heading(s, "随表提交的材料", "Documents to bring with this form");
			listed = true;
		}
		snprintf(text, sizeof(text), "□ %s  %s%s", sget(m, "name_zh"), sget(m, "name_en"),
			 !strcmp(sget(m, "source"), "department")
				 ? "（部门共享获取，无需提交 / "
				   "the department gets it, no need to "
				   "bring）"
				 : "");
		if (!rc)
			rc = para(s, LEFT + 4, 10.5, text);
	}
	if (!rc)
		rc = heading(s, "申请人承诺", "Declaration");
	if (!rc)
		rc = para(s, LEFT, 10.5,
			  "本人承诺以上所填信息及所提交材料真实、有效，如有虚假，愿承担相应责任。");
	if (!rc)
		rc = para(s, LEFT, 9,
			  "I declare that what I have written and the documents I bring are true, "
			  "and I accept responsibility if they are not.");
	if (!rc)
		rc = room(s, 40);
	s->y -= 28;
	if (!rc)
		rc = dg_pdf_text(page(s), LEFT, s->y, 10.5,
				 "申请人签名 Signature: ______________________    日期 Date: "
				 "______________");
	return rc;
}

dg_rc cat_blank_pdf(const json_t *item, const json_t *form, const char *region,
		    const char *apply_url, struct dg_buf *out)
{
	struct sheet s = {.n = 0, .y = TOP, .code = sget(item, "code")};
	dg_rc rc = body(&s, item, form, region, apply_url);
	if (!rc) {
		char title[DG_PDF_LINE];
		snprintf(title, sizeof(title), "%s申请表", sget(item, "name_zh"));
		rc = dg_pdf_write(s.pages, s.n, title, s.code, out);
	}
	for (int i = 0; i < s.n; i++)
		dg_buf_release(&s.pages[i]);
	return rc;
}
