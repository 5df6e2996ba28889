/*
 * pdf.c - A4 pages of text as a PDF 1.4 file, written by hand (pdf.h).
 *
 * Why not a PDF library: dgov's pages are fixed layouts of text, and
 * libharu, the one Debian keeps, takes CJK text only in GB encodings (so
 * every string would be converted from UTF-8) and embeds more than these
 * pages need; this writer is a few hundred lines, tested by reading its
 * output back with pdfinfo and pdftotext.
 *
 * Objects: 1 the catalog, 2 the page tree, 3-5 the CJK font (Type0
 * STSong-Light / UniGB-UCS2-H, its CIDFont and descriptor), 6 Helvetica,
 * 7 the CJK font's ToUnicode map, 8 the document information, then for each
 * page its page object and its content stream. Nothing is embedded or
 * compressed; the cross-reference table records each object's byte offset
 * as written.
 */
#include "core/pdf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

double dg_pdf_text_width(const char *s, double size)
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
dg_rc dg_pdf_text(struct dg_buf *cs, double x, double y, double size, const char *s)
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

dg_rc dg_pdf_centered(struct dg_buf *cs, double y, double size, double max_w, const char *s)
{
	double w = dg_pdf_text_width(s, size);
	if (w > max_w) {
		size = size * max_w / w;
		w = max_w;
	}
	return dg_pdf_text(cs, (DG_PDF_PAGE_W - w) / 2, y, size, s);
}

int dg_pdf_wrap(const char *s, double size, double width, char (*lines)[DG_PDF_LINE], int max)
{
	int n = 0;
	while (*s && n < max) {
		const char *start = s, *p = s, *space = NULL;
		double w = 0;
		while (*p) {
			const char *q = p;
			uint32_t c = next_cp(&q);
			double cw = char_width(c, size);
			if ((w + cw > width && p > start) || q - start >= DG_PDF_LINE - 4)
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
		while (len > 0 && dg_pdf_text_width(last, size) + 3 * 0.3 * size > width) {
			do
				len--;
			while (len > 0 && ((unsigned char)last[len] & 0xC0) == 0x80);
			last[len] = '\0';
		}
		memcpy(last + len, "...", 4);
	}
	return n;
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

#define FIXED_OBJ 8 /* objects before the pages' own */

/* Object n of the fixed part. */
static dg_rc fixed_object(struct dg_buf *out, int n, int npages, const struct dg_buf *cmap,
			  const char *title, const char *subject)
{
	dg_rc rc = DG_OK;
	switch (n) {
	case 1: return dg_buf_adds(out, "<< /Type /Catalog /Pages 2 0 R >>");
	case 2:
		rc = dg_buf_adds(out, "<< /Type /Pages /Kids [");
		for (int i = 0; i < npages && !rc; i++)
			rc = dg_buf_addf(out, "%s%d 0 R", i ? " " : "", FIXED_OBJ + 1 + 2 * i);
		if (!rc)
			rc = dg_buf_addf(out, "] /Count %d >>", npages);
		return rc;
	case 3:
		return dg_buf_adds(out, "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light"
					" /Encoding /UniGB-UCS2-H /DescendantFonts [4 0 R] "
					"/ToUnicode 7 0 R >>");
	case 4:
		return dg_buf_adds(out,
				   "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light"
				   " /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) "
				   "/Supplement 2 >>"
				   " /FontDescriptor 5 0 R /DW 1000 /W [1 95 500] >>");
	case 5:
		return dg_buf_adds(out, "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6"
					" /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880"
					" /Descent -120 /CapHeight 880 /StemV 93 >>");
	case 6:
		return dg_buf_adds(out, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica"
					" /Encoding /WinAnsiEncoding >>");
	case 7:
		rc = dg_buf_addf(out, "<< /Length %zu >>\nstream\n", cmap->len);
		if (!rc)
			rc = dg_buf_add(out, cmap->ptr, cmap->len);
		if (!rc)
			rc = dg_buf_adds(out, "\nendstream");
		return rc;
	default:
		rc = dg_buf_adds(out, "<< /Producer (dgov) /Title ");
		if (!rc)
			rc = utf16_hex(out, title ? title : "");
		if (!rc)
			rc = dg_buf_adds(out, " /Subject ");
		if (!rc)
			rc = utf16_hex(out, subject ? subject : "");
		if (!rc)
			rc = dg_buf_adds(out, " >>");
		return rc;
	}
}

dg_rc dg_pdf_write(const struct dg_buf *pages, int npages, const char *title, const char *subject,
		   struct dg_buf *out)
{
	if (npages < 1 || npages > DG_PDF_MAX_PAGES)
		return DG_EINVAL;
	int nobj = FIXED_OBJ + 2 * npages;
	size_t off[FIXED_OBJ + 2 * DG_PDF_MAX_PAGES + 1];
	struct dg_buf cmap;
	dg_buf_init(&cmap, 64u << 10);
	dg_rc rc = to_unicode(&cmap);
	size_t base = out->len;
	if (!rc)
		rc = dg_buf_add(out, "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n", 15);
	for (int n = 1; n <= nobj && !rc; n++) {
		off[n] = out->len - base;
		rc = dg_buf_addf(out, "%d 0 obj\n", n);
		if (rc)
			break;
		if (n <= FIXED_OBJ) {
			rc = fixed_object(out, n, npages, &cmap, title, subject);
		} else if ((n - FIXED_OBJ) % 2 == 1) { /* a page */
			rc = dg_buf_addf(out,
					 "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f]"
					 " /Resources << /Font << /F1 3 0 R /F2 6 0 R >> /ProcSet "
					 "[/PDF /Text] >> /Contents %d 0 R >>",
					 DG_PDF_PAGE_W, DG_PDF_PAGE_H, n + 1);
		} else { /* its content */
			const struct dg_buf *cs = &pages[(n - FIXED_OBJ) / 2 - 1];
			rc = dg_buf_addf(out, "<< /Length %zu >>\nstream\n", cs->len);
			if (!rc && cs->len)
				rc = dg_buf_add(out, cs->ptr, cs->len);
			if (!rc)
				rc = dg_buf_adds(out, "\nendstream");
		}
		if (!rc)
			rc = dg_buf_adds(out, "\nendobj\n");
	}
	size_t xref = out->len - base;
	if (!rc)
		rc = dg_buf_addf(out, "xref\n0 %d\n0000000000 65535 f \n", nobj + 1);
	for (int n = 1; n <= nobj && !rc; n++)
		rc = dg_buf_addf(out, "%010zu 00000 n \n", off[n]);
	if (!rc)
		rc = dg_buf_addf(out,
				 "trailer\n<< /Size %d /Root 1 0 R /Info 8 0 R "
				 ">>\nstartxref\n%zu\n%%%%EOF\n",
				 nobj + 1, xref);
	dg_buf_release(&cmap);
	return rc;
}
