/*
 * pdf.c - the certificate as a one-page PDF 1.4 file, written by hand.
 *
 * Why not a PDF library: the page is one fixed layout, and libharu, the one
 * Debian keeps, takes CJK text only in GB encodings (so every string would
 * be converted from UTF-8) and embeds more than this page needs; this
 * writer is a few hundred lines, tested by reading its output back with
 * pdftotext.
 *
 * Ten objects: catalog, page tree, page, content stream, the CJK font
 * (Type0 STSong-Light / UniGB-UCS2-H, its CIDFont, descriptor and ToUnicode
 * map), Helvetica, and the document information. Nothing is embedded or
 * compressed, so the file is a few tens of KiB and readable as text; the
 * cross-reference table records each object's byte offset as written.
 *
 * Layout (A4, points from the bottom left): a double border, the region,
 * the title in both languages, rows of label and value, a status banner
 * when the certificate is not valid, and at the bottom the QR code with the
 * verification address beside it. Widths are estimated (CJK 1 em, ASCII from
 * Helvetica's metrics) to centre and wrap text.
 */
#include "cert/pdf.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define PAGE_W      595.28
#define PAGE_H      841.89
#define LEFT        64.0
#define VALUE_X     200.0
#define VALUE_W     330.0
#define ROWS_BOTTOM 240.0 /* rows stop above the QR block */
#define MAX_LINES   3
#define LINE_BYTES  640

/* Helvetica advance widths for ' ' to '~', per 1000 units of the font size. */
static const unsigned short helv[95] = {
	278,  278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
	556,  556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
	1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
	667,  778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
	333,  556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
	556,  556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
};

/* The next code point of s (advancing *s); malformed bytes give U+FFFD. */
static uint32_t next_cp(const char **s)
{
	const unsigned char *p = (const unsigned char *)*s;
	uint32_t c = p[0];
	int n = c < 0x80             ? 0
		: (c & 0xE0) == 0xC0 ? 1
		: (c & 0xF0) == 0xE0 ? 2
		: (c & 0xF8) == 0xF0 ? 3
				     : -1;
	if (n < 0) {
		*s += 1;
		return 0xFFFD;
	}
	c = n == 0 ? c : n == 1 ? c & 0x1F : n == 2 ? c & 0x0F : c & 0x07;
	for (int i = 1; i <= n; i++) {
		if ((p[i] & 0xC0) != 0x80) {
			*s += i;
			return 0xFFFD;
		}
		c = (c << 6) | (p[i] & 0x3F);
	}
	*s += n + 1;
	return c;
}

static bool printable_ascii(uint32_t c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* Advance width of one character in points: Helvetica for ASCII, 1 em for the rest. */
static double char_width(uint32_t c, double size)
{
	return (printable_ascii(c) ? helv[c - 0x20] : 1000) * size / 1000.0;
}

static double text_width(const char *s, double size)
{
	double w = 0;
	while (*s)
		w += char_width(next_cp(&s), size);
	return w;
}

/*
 * One line of text at (x, y), in one text object: runs of ASCII in Helvetica
 * (F2, a literal string), the rest in STSong-Light (F1, UTF-16BE hex); each
 * Tj advances the position by the glyphs' own widths.
 */
static dg_rc put_text(struct dg_buf *cs, double x, double y, double size, const char *s)
{
	dg_rc rc = dg_buf_addf(cs, "BT %.2f %.2f Td", x, y);
	int font = 0; /* the run being written: 0 none, 1 CJK, 2 Helvetica */
	while (!rc && *s) {
		uint32_t c = next_cp(&s);
		int want = printable_ascii(c) ? 2 : 1;
		if (want != font) {
			rc = dg_buf_addf(cs, "%s /F%d %.2f Tf %c",
					 font == 1   ? "> Tj"
					 : font == 2 ? ") Tj"
						     : "",
					 want, size, want == 2 ? '(' : '<');
			font = want;
		}
		if (rc)
			break;
		if (font == 2) {
			rc = (c == '(' || c == ')' || c == '\\') ? dg_buf_addc(cs, '\\') : DG_OK;
			if (!rc)
				rc = dg_buf_addc(cs, (char)c);
			continue;
		}
		if (c > 0xFFFF || (c >= 0xD800 && c <= 0xDFFF) || c < 0x20 || c == 0xFFFD)
			c = 0xFF1F; /* a full-width question mark */
		rc = dg_buf_addf(cs, "%04X", (unsigned)c);
	}
	if (!rc)
		rc = dg_buf_adds(cs, font == 1 ? "> Tj ET\n" : font == 2 ? ") Tj ET\n" : " ET\n");
	return rc;
}

static dg_rc put_centered(struct dg_buf *cs, double y, double size, double max_w, const char *s)
{
	double w = text_width(s, size);
	if (w > max_w) {
		size = size * max_w / w;
		w = max_w;
	}
	return put_text(cs, (PAGE_W - w) / 2, y, size, s);
}

/*
 * Split s into at most MAX_LINES lines of at most width points, breaking
 * after a space where there is one. Returns the number of lines; the last
 * one ends in "..." when text was left over.
 */
static int wrap(const char *s, double size, double width, char lines[MAX_LINES][LINE_BYTES])
{
	int n = 0;
	while (*s && n < MAX_LINES) {
		const char *start = s, *p = s, *space = NULL;
		double w = 0;
		while (*p) {
			const char *q = p;
			uint32_t c = next_cp(&q);
			double cw = char_width(c, size);
			if ((w + cw > width && p > start) || q - start >= LINE_BYTES - 4)
				break;
			w += cw;
			if (c == ' ')
				space = q;
			p = q;
		}
		if (*p && space && space > start)
			p = space;
		size_t len = (size_t)(p - start);
		memcpy(lines[n], start, len);
		lines[n][len] = '\0';
		n++;
		s = p;
		while (*s == ' ')
			s++;
	}
	if (n == 0) {
		lines[0][0] = '\0';
		return 1;
	}
	if (*s) {
		/* cut: make room for the dots on the last line */
		char *last = lines[n - 1];
		size_t len = strlen(last);
		while (len > 0 && text_width(last, size) + 3 * 0.3 * size > width) {
			do
				len--;
			while (len > 0 && ((unsigned char)last[len] & 0xC0) == 0x80);
			last[len] = '\0';
		}
		memcpy(last + len, "...", 4);
	}
	return n;
}

struct layout {
	struct dg_buf *cs;
	double y;
	bool cut;
};

/* A row: a label (in Chinese, and in English below it when given) and a wrapped value. */
static dg_rc row(struct layout *l, const char *label_zh, const char *label_en, const char *value)
{
	char lines[MAX_LINES][LINE_BYTES];
	int n = wrap(value && *value ? value : "-", 12, VALUE_W, lines);
	double h =
		(n * 16.0 > (*label_en ? 22.0 : 14.0) ? n * 16.0 : (*label_en ? 22.0 : 14.0)) + 10;
	if (l->cut || l->y - h < ROWS_BOTTOM) {
		l->cut = true;
		return DG_OK;
	}
	char lab[MAX_LINES][LINE_BYTES];
	wrap(label_zh, 11, VALUE_X - LEFT - 8, lab);
	dg_rc rc = put_text(l->cs, LEFT, l->y, 11, lab[0]);
	if (!rc && *label_en)
		rc = put_text(l->cs, LEFT, l->y - 11, 8, label_en);
	for (int i = 0; i < n && !rc; i++)
		rc = put_text(l->cs, VALUE_X, l->y - i * 16.0, 12, lines[i]);
	l->y -= h;
	return rc;
}

static dg_rc draw_qr(struct dg_buf *cs, const struct dg_qr *q, double x0, double y0, double side)
{
	int full = q->size + 2 * DG_QR_QUIET;
	double m = side / full;
	dg_rc rc = dg_buf_adds(cs, "0 g\n");
	for (int y = 0; y < q->size && !rc; y++)
		for (int x = 0; x < q->size && !rc;) {
			if (!dg_qr_dark(q, x, y)) {
				x++;
				continue;
			}
			int run = 1;
			while (dg_qr_dark(q, x + run, y))
				run++;
			double py = y0 + (full - 1 - (y + DG_QR_QUIET)) * m;
			rc = dg_buf_addf(cs, "%.3f %.3f %.3f %.3f re\n", x0 + (x + DG_QR_QUIET) * m,
					 py, run * m, m);
			x += run;
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
		PAGE_W - 72, PAGE_H - 72, PAGE_W - 84, PAGE_H - 84);
	if (!rc && *in->region_zh)
		rc = put_centered(cs, 780, 12, 460, in->region_zh);
	if (!rc)
		rc = put_centered(cs, 736, 26, 470, in->title_zh);
	if (!rc && *in->title_en)
		rc = put_centered(cs, 712, 13, 470, in->title_en);
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
		rc = put_text(cs, LEFT, ROWS_BOTTOM + 4, 9,
			      "（更多内容请到核验页面查看 / more on the verification page）");
	if (!rc && *in->status_zh) {
		rc = dg_buf_adds(cs, "0.75 0 0 rg\n");
		if (!rc)
			rc = put_text(cs, LEFT, 222, 16, in->status_zh);
		if (!rc && *in->status_en)
			rc = put_text(cs, LEFT + text_width(in->status_zh, 16) + 12, 222, 14,
				      in->status_en);
		if (!rc)
			rc = dg_buf_adds(cs, "0 g\n");
	}
	if (!rc && in->qr)
		rc = draw_qr(cs, in->qr, LEFT - 6, 62, 140);
	if (!rc)
		rc = put_text(cs, 210, 180, 10.5, "扫描二维码或访问下面的网址，核验证照真伪：");
	if (!rc)
		rc = put_text(cs, 210, 166, 9,
			      "Scan the code or visit this address to check the certificate:");
	double us = 10;
	if (!rc && text_width(in->url, us) > VALUE_W)
		us = us * VALUE_W / text_width(in->url, us);
	if (!rc)
		rc = put_text(cs, 210, 148, us, in->url);
	if (!rc)
		rc = put_text(cs, 210, 120, 9, "本证照由发证机关以电子签名（Ed25519）签发，");
	if (!rc)
		rc = put_text(cs, 210, 107, 9, "签名公钥见本平台 /.well-known/dgov-signing-key。");
	if (!rc)
		rc = put_text(cs, 210, 92, 8,
			      "Signed electronically (Ed25519) by the issuing authority; the "
			      "public key is at");
	if (!rc)
		rc = put_text(cs, 210, 81, 8, "/.well-known/dgov-signing-key on this platform.");
	return rc;
}

/* The ToUnicode map: each 2-byte code is its own UTF-16 code unit (UCS-2). */
static dg_rc to_unicode(struct dg_buf *b)
{
	dg_rc rc = dg_buf_adds(
		b, "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
		   "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
		   "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
		   "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n");
	/* one range per high byte (a range may vary only in its last byte), no surrogates,
	 * at most 100 ranges to a block */
	int his[256], n = 0;
	for (int h = 0; h < 256; h++)
		if (h < 0xD8 || h > 0xDF)
			his[n++] = h;
	for (int i = 0; i < n && !rc; i += 100) {
		int count = n - i < 100 ? n - i : 100;
		rc = dg_buf_addf(b, "%d beginbfrange\n", count);
		for (int j = i; j < i + count && !rc; j++)
			rc = dg_buf_addf(b, "<%02X00> <%02XFF> <%02X00>\n", his[j], his[j], his[j]);
		if (!rc)
			rc = dg_buf_adds(b, "endbfrange\n");
	}
	if (!rc)
		rc = dg_buf_adds(
			b, "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
	return rc;
}

/* A PDF text string in UTF-16BE with its byte order mark, as hex. */
static dg_rc utf16_hex(struct dg_buf *b, const char *s)
{
	dg_rc rc = dg_buf_adds(b, "<FEFF");
	while (!rc && *s) {
		uint32_t c = next_cp(&s);
		if (c > 0xFFFF)
			rc = dg_buf_addf(b, "%04X%04X", 0xD800 + ((c - 0x10000) >> 10),
					 0xDC00 + ((c - 0x10000) & 0x3FF));
		else
			rc = dg_buf_addf(b, "%04X", (unsigned)c);
	}
	if (!rc)
		rc = dg_buf_addc(b, '>');
	return rc;
}

#define NOBJ 10

dg_rc dg_cert_pdf_write(const struct dg_cert_pdf *in, struct dg_buf *out)
{
	struct dg_buf cs, cmap;
	size_t off[NOBJ + 1];
	dg_buf_init(&cs, 1u << 20);
	dg_buf_init(&cmap, 64u << 10);
	dg_rc rc = content(in, &cs);
	if (!rc)
		rc = to_unicode(&cmap);
	size_t base = out->len;
	if (!rc)
		rc = dg_buf_add(out, "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n", 15);
	for (int i = 1; i <= NOBJ && !rc; i++) {
		off[i] = out->len - base;
		rc = dg_buf_addf(out, "%d 0 obj\n", i);
		if (rc)
			break;
		switch (i) {
		case 1: rc = dg_buf_adds(out, "<< /Type /Catalog /Pages 2 0 R >>"); break;
		case 2: rc = dg_buf_adds(out, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"); break;
		case 3:
			rc = dg_buf_addf(out,
					 "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f]"
					 " /Resources << /Font << /F1 5 0 R /F2 8 0 R >> /ProcSet "
					 "[/PDF /Text] >>"
					 " /Contents 4 0 R >>",
					 PAGE_W, PAGE_H);
			break;
		case 4:
			rc = dg_buf_addf(out, "<< /Length %zu >>\nstream\n", cs.len);
			if (!rc)
				rc = dg_buf_add(out, cs.ptr, cs.len);
			if (!rc)
				rc = dg_buf_adds(out, "\nendstream");
			break;
		case 5:
			rc = dg_buf_adds(out,
					 "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light"
					 " /Encoding /UniGB-UCS2-H /DescendantFonts [6 0 R] "
					 "/ToUnicode 9 0 R >>");
			break;
		case 6:
			rc = dg_buf_adds(
				out, "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light"
				     " /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) "
				     "/Supplement 2 >>"
				     " /FontDescriptor 7 0 R /DW 1000 /W [1 95 500] >>");
			break;
		case 7:
			rc = dg_buf_adds(out,
					 "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6"
					 " /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880"
					 " /Descent -120 /CapHeight 880 /StemV 93 >>");
			break;
		case 8:
			rc = dg_buf_adds(out, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica"
					      " /Encoding /WinAnsiEncoding >>");
			break;
		case 9:
			rc = dg_buf_addf(out, "<< /Length %zu >>\nstream\n", cmap.len);
			if (!rc)
				rc = dg_buf_add(out, cmap.ptr, cmap.len);
			if (!rc)
				rc = dg_buf_adds(out, "\nendstream");
			break;
		default:
			rc = dg_buf_adds(out, "<< /Producer (dgov) /Title ");
			if (!rc)
				rc = utf16_hex(out, in->title_zh);
			if (!rc)
				rc = dg_buf_adds(out, " /Subject ");
			if (!rc)
				rc = utf16_hex(out, in->id);
			if (!rc)
				rc = dg_buf_adds(out, " >>");
			break;
		}
		if (!rc)
			rc = dg_buf_adds(out, "\nendobj\n");
	}
	size_t xref = out->len - base;
	if (!rc)
		rc = dg_buf_addf(out, "xref\n0 %d\n0000000000 65535 f \n", NOBJ + 1);
	for (int i = 1; i <= NOBJ && !rc; i++)
		rc = dg_buf_addf(out, "%010zu 00000 n \n", off[i]);
	if (!rc)
		rc = dg_buf_addf(out,
				 "trailer\n<< /Size %d /Root 1 0 R /Info 10 0 R "
				 ">>\nstartxref\n%zu\n%%%%EOF\n",
				 NOBJ + 1, xref);
	dg_buf_release(&cs);
	dg_buf_release(&cmap);
	return rc;
}
