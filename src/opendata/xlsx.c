/*
 * xlsx.c - a streamed one-sheet XLSX (contract and limits in xlsx.h).
 *
 * Layout of the file: the four fixed parts as stored ZIP entries, then the
 * worksheet's entry, whose local header is written with a zero CRC and size
 * and patched at close, then the central directory. Every write goes
 * through put(), which keeps the offset and a sticky error.
 */
#include "opendata/xlsx.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define NENTRIES 5
#define SHEET 4 /* the worksheet's entry */
#define MAX_ROWS 1048576u
#define MAX_COLS 16384u
#define MAX_CELL 32767u
#define ZIP_MAX 0xffffffffu
#define DOS_DATE 0x0021 /* 1980-01-01: fixed, so the same rows give the same file */

static const char content_types[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
	"<Default Extension=\"rels\" "
	"ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
	"<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
	"<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/"
	"vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>"
	"<Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/"
	"vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
	"</Types>";

static const char root_rels[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
	"<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
	"relationships/officeDocument\" Target=\"xl/workbook.xml\"/>"
	"</Relationships>";

static const char workbook[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
	"xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
	"<sheets><sheet name=\"data\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";

static const char workbook_rels[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
	"<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
	"relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
	"</Relationships>";

static const char sheet_head[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
	"<sheetData>";

static const char sheet_tail[] = "</sheetData></worksheet>";

static const char *const names[NENTRIES] = {"[Content_Types].xml", "_rels/.rels",
					    "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
					    "xl/worksheets/sheet1.xml"};

struct entry {
	uint32_t crc, size, offset;
};

struct dg_xlsx {
	FILE *out;
	dg_rc rc;	 /* sticky: the first error */
	uint64_t offset; /* bytes written so far */
	struct entry e[NENTRIES];
	uint32_t rows, cols; /* rows started; cells in the current row */
};

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t dg_crc32(uint32_t crc, const void *p, size_t n)
{
	pthread_once(&crc_once, crc_init);
	const unsigned char *b = p;
	crc = ~crc;
	for (size_t i = 0; i < n; i++)
		crc = crc_table[(crc ^ b[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void put(struct dg_xlsx *x, const void *p, size_t n)
{
	if (x->rc != DG_OK)
		return;
	if (x->offset + n > ZIP_MAX) {
		x->rc = DG_ETOOBIG;
		return;
	}
	if (n && fwrite(p, 1, n, x->out) != n) {
		x->rc = DG_EIO;
		return;
	}
	x->offset += n;
}

static void le16(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void le32(unsigned char *p, uint32_t v)
{
	le16(p, v & 0xffff);
	le16(p + 2, v >> 16);
}

/* The 30-byte local header of entry i (CRC and sizes as known now). */
static void local_header(struct dg_xlsx *x, int i)
{
	unsigned char h[30] = {0};
	le32(h, 0x04034b50);
	le16(h + 4, 20);	 /* version needed */
	le16(h + 8, 0);		 /* stored */
	le16(h + 12, DOS_DATE);
	le32(h + 14, x->e[i].crc);
	le32(h + 18, x->e[i].size);
	le32(h + 22, x->e[i].size);
	le16(h + 26, (uint32_t)strlen(names[i]));
	put(x, h, sizeof h);
	put(x, names[i], strlen(names[i]));
}

static void fixed_entry(struct dg_xlsx *x, int i, const char *text)
{
	size_t n = strlen(text);
	x->e[i] = (struct entry){dg_crc32(0, text, n), (uint32_t)n, (uint32_t)x->offset};
	local_header(x, i);
	put(x, text, n);
}

/* Worksheet bytes: counted into the entry's CRC and size. */
static void sheet(struct dg_xlsx *x, const char *p, size_t n)
{
	put(x, p, n);
	if (x->rc == DG_OK) {
		x->e[SHEET].crc = dg_crc32(x->e[SHEET].crc, p, n);
		x->e[SHEET].size += (uint32_t)n;
	}
}

static void sheets(struct dg_xlsx *x, const char *s)
{
	sheet(x, s, strlen(s));
}

dg_rc dg_xlsx_open(FILE *out, struct dg_xlsx **xp)
{
	struct dg_xlsx *x = dg_xcalloc(1, sizeof *x);
	x->out = out;
	fixed_entry(x, 0, content_types);
	fixed_entry(x, 1, root_rels);
	fixed_entry(x, 2, workbook);
	fixed_entry(x, 3, workbook_rels);
	x->e[SHEET].offset = (uint32_t)x->offset;
	local_header(x, SHEET);
	sheets(x, sheet_head);
	*xp = x;
	return x->rc;
}

dg_rc dg_xlsx_row(struct dg_xlsx *x)
{
	char tag[40];
	if (x->rows >= MAX_ROWS)
		return x->rc = DG_ETOOBIG;
	if (x->rows)
		sheets(x, "</row>");
	x->rows++;
	x->cols = 0;
	snprintf(tag, sizeof tag, "<row r=\"%u\">", x->rows);
	sheets(x, tag);
	return x->rc;
}

/* Open a cell: <c r="B7"[ t="..."]>; DG_ETOOBIG past the last column. */
static dg_rc cell(struct dg_xlsx *x, const char *type)
{
	char ref[8], tag[64];
	int n = 0;
	if (x->cols >= MAX_COLS)
		return x->rc = DG_ETOOBIG;
	/* bijective base 26: 0 -> A, 25 -> Z, 26 -> AA */
	for (uint32_t c = x->cols + 1; c; c = (c - 1) / 26)
		ref[n++] = (char)('A' + (c - 1) % 26);
	for (int i = 0; i < n / 2; i++) {
		char t = ref[i];
		ref[i] = ref[n - 1 - i];
		ref[n - 1 - i] = t;
	}
	ref[n] = '\0';
	x->cols++;
	snprintf(tag, sizeof tag, "<c r=\"%s%u\"%s%s%s>", ref, x->rows, type ? " t=\"" : "",
		 type ? type : "", type ? "\"" : "");
	sheets(x, tag);
	return x->rc;
}

void dg_xlsx_blank(struct dg_xlsx *x)
{
	if (x->cols < MAX_COLS)
		x->cols++;
}

dg_rc dg_xlsx_text(struct dg_xlsx *x, const char *s)
{
	size_t n = strlen(s), from = 0;
	if (cell(x, "inlineStr") != DG_OK)
		return x->rc;
	if (n > MAX_CELL) {
		n = MAX_CELL;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--; /* not in the middle of a character */
	}
	sheets(x, "<is><t xml:space=\"preserve\">");
	/* runs of plain bytes go out as they are; the rest is escaped or dropped */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : NULL;
		bool drop = c < 0x20 && c != '\t' && c != '\n' && c != '\r';
		if (!esc && !drop)
			continue;
		sheet(x, s + from, i - from);
		if (esc)
			sheets(x, esc);
		from = i + 1;
	}
	sheet(x, s + from, n - from);
	sheets(x, "</t></is></c>");
	return x->rc;
}

static bool numeric(const char *s)
{
	if (!*s || strlen(s) > 40)
		return false;
	for (; *s; s++)
		if (!strchr("0123456789-+.eE", *s))
			return false;
	return true;
}

dg_rc dg_xlsx_number(struct dg_xlsx *x, const char *s)
{
	if (!numeric(s))
		return dg_xlsx_text(x, s);
	if (cell(x, NULL) != DG_OK)
		return x->rc;
	sheets(x, "<v>");
	sheets(x, s);
	sheets(x, "</v></c>");
	return x->rc;
}

dg_rc dg_xlsx_bool(struct dg_xlsx *x, bool v)
{
	if (cell(x, "b") != DG_OK)
		return x->rc;
	sheets(x, v ? "<v>1</v></c>" : "<v>0</v></c>");
	return x->rc;
}

static void central(struct dg_xlsx *x)
{
	uint32_t start = (uint32_t)x->offset;
	for (int i = 0; i < NENTRIES; i++) {
		unsigned char h[46] = {0};
		le32(h, 0x02014b50);
		le16(h + 4, 20); /* made by */
		le16(h + 6, 20); /* needed */
		le16(h + 14, DOS_DATE);
		le32(h + 16, x->e[i].crc);
		le32(h + 20, x->e[i].size);
		le32(h + 24, x->e[i].size);
		le16(h + 28, (uint32_t)strlen(names[i]));
		le32(h + 42, x->e[i].offset);
		put(x, h, sizeof h);
		put(x, names[i], strlen(names[i]));
	}
	unsigned char end[22] = {0};
	le32(end, 0x06054b50);
	le16(end + 8, NENTRIES);
	le16(end + 10, NENTRIES);
	le32(end + 12, (uint32_t)x->offset - start);
	le32(end + 16, start);
	put(x, end, sizeof end);
}

dg_rc dg_xlsx_close(struct dg_xlsx *x)
{
	if (x->rows)
		sheets(x, "</row>");
	sheets(x, sheet_tail);
	central(x);
	/* patch the worksheet's local header with its CRC and sizes */
	if (x->rc == DG_OK) {
		unsigned char h[12];
		le32(h, x->e[SHEET].crc);
		le32(h + 4, x->e[SHEET].size);
		le32(h + 8, x->e[SHEET].size);
		if (fseek(x->out, (long)x->e[SHEET].offset + 14, SEEK_SET) != 0 ||
		    fwrite(h, 1, sizeof h, x->out) != sizeof h || fseek(x->out, 0, SEEK_END) != 0 ||
		    fflush(x->out) != 0)
			x->rc = DG_EIO;
	}
	dg_rc rc = x->rc;
	free(x);
	return rc;
}

void dg_xlsx_free(struct dg_xlsx *x)
{
	free(x);
}
