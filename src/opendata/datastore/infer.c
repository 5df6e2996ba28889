/*
 * infer.c - strict type inference and column naming for datastore loads
 * (the rules are in datastore_int.h). Pure functions over bytes: no store, no HTTP.
 */
#include "opendata/datastore/datastore_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "core/str.h"

#define BIT(t) (1u << (t))
/* what inference may find; json is only ever asked for */
#define ALL                                                                                        \
	(BIT(DG_DS_INT) | BIT(DG_DS_NUMERIC) | BIT(DG_DS_DATE) | BIT(DG_DS_TIMESTAMP) |            \
	 BIT(DG_DS_BOOL))

const char *dg_ds_type_name(enum dg_ds_type t)
{
	static const char *const names[] = {"int",  "numeric", "date",  "timestamp", "bool",
					    "json", "_text",   "_int8", "_numeric",  "text"};
	return (unsigned)t <= DG_DS_TEXT ? names[t] : "text";
}

bool dg_ds_is_array(enum dg_ds_type t)
{
	return t == DG_DS_TEXT_ARRAY || t == DG_DS_INT_ARRAY || t == DG_DS_NUMERIC_ARRAY;
}

bool dg_ds_array_ok(enum dg_ds_type t, json_t *v)
{
	size_t i;
	json_t *e;
	if (!json_is_array(v))
		return false;
	json_array_foreach (v, i, e) {
		bool ok = json_is_null(e) || (t == DG_DS_TEXT_ARRAY && json_is_string(e)) ||
			  (t == DG_DS_INT_ARRAY && json_is_integer(e)) ||
			  (t == DG_DS_NUMERIC_ARRAY && json_is_number(e));
		if (!ok ||
		    (json_is_string(e) && strlen(json_string_value(e)) != json_string_length(e)))
			return false;
	}
	return true;
}

const char *dg_ds_type_answer(enum dg_ds_type t)
{
	return t == DG_DS_INT ? "int8" : dg_ds_type_name(t);
}

json_t *dg_ds_fields_answer(json_t *fields)
{
	json_t *out = json_deep_copy(fields ? fields : json_array()), *f;
	size_t i;
	enum dg_ds_type t;
	json_array_foreach (out, i, f) {
		const char *ty = json_string_value(json_object_get(f, "type"));
		if (ty && dg_ds_type_parse(ty, &t) == DG_OK)
			json_object_set_new(f, "type", json_string(dg_ds_type_answer(t)));
	}
	return out;
}

dg_rc dg_ds_type_parse(const char *name, enum dg_ds_type *out)
{
	static const struct {
		const char *name;
		enum dg_ds_type t;
	} map[] = {{"int", DG_DS_INT},
		   {"int4", DG_DS_INT},
		   {"int8", DG_DS_INT},
		   {"integer", DG_DS_INT},
		   {"bigint", DG_DS_INT},
		   {"numeric", DG_DS_NUMERIC},
		   {"float8", DG_DS_NUMERIC},
		   {"float", DG_DS_NUMERIC},
		   {"date", DG_DS_DATE},
		   {"timestamp", DG_DS_TIMESTAMP},
		   {"bool", DG_DS_BOOL},
		   {"boolean", DG_DS_BOOL},
		   {"json", DG_DS_JSON},
		   {"text", DG_DS_TEXT},
		   {"_text", DG_DS_TEXT_ARRAY},
		   {"text[]", DG_DS_TEXT_ARRAY},
		   {"_int", DG_DS_INT_ARRAY},
		   {"_int4", DG_DS_INT_ARRAY},
		   {"_int8", DG_DS_INT_ARRAY},
		   {"int[]", DG_DS_INT_ARRAY},
		   {"int4[]", DG_DS_INT_ARRAY},
		   {"int8[]", DG_DS_INT_ARRAY},
		   {"integer[]", DG_DS_INT_ARRAY},
		   {"bigint[]", DG_DS_INT_ARRAY},
		   {"_numeric", DG_DS_NUMERIC_ARRAY},
		   {"numeric[]", DG_DS_NUMERIC_ARRAY},
		   {"_float8", DG_DS_NUMERIC_ARRAY},
		   {"float8[]", DG_DS_NUMERIC_ARRAY}};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(name, map[i].name) == 0) {
			*out = map[i].t;
			return DG_OK;
		}
	return DG_EINVAL;
}

/* Digits with no leading zero (except "0" itself); returns digits consumed. */
static size_t int_part(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i > 1 && s[0] == '0')
		return 0;
	return i;
}

static bool is_int(const char *s, size_t n)
{
	size_t neg = n > 0 && s[0] == '-';
	size_t d = int_part(s + neg, n - neg);
	/* 18 digits always fit an int64; longer numbers are numeric */
	return d > 0 && d <= 18 && neg + d == n;
}

static bool is_decimal(const char *s, size_t n)
{
	size_t neg = n > 0 && s[0] == '-';
	size_t d = int_part(s + neg, n - neg);
	size_t i = neg + d;
	if (d == 0 || d > 30)
		return false;
	if (i == n)
		return true;
	if (s[i] != '.' || i + 1 == n)
		return false;
	for (i++; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n <= 64;
}

static int num(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * A calendar date at the start of s: YYYY-MM-DD, or as people write them
 * in tables, YYYY-M-D and YYYY/M/D (one separator twice, a month and a day
 * of one or two digits). Its length, 0 when there is none.
 */
static size_t date_part(const char *s, size_t n, int *y, int *m, int *d)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	size_t i = 5, mlen, dlen;
	if (n < 8 || (s[4] != '-' && s[4] != '/'))
		return 0;
	for (mlen = 0; i + mlen < n && mlen < 3 && s[i + mlen] >= '0' && s[i + mlen] <= '9';)
		mlen++;
	if (mlen < 1 || mlen > 2 || i + mlen >= n || s[i + mlen] != s[4])
		return 0;
	i += mlen + 1;
	for (dlen = 0; i + dlen < n && dlen < 3 && s[i + dlen] >= '0' && s[i + dlen] <= '9';)
		dlen++;
	if (dlen < 1 || dlen > 2)
		return 0;
	*y = num(s, 4), *m = num(s + 5, mlen), *d = num(s + i, dlen);
	if (*y < 1 || *m < 1 || *m > 12 || *d < 1 || *d > mdays[*m - 1])
		return 0;
	bool leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
	return *m == 2 && *d == 29 && !leap ? 0 : i + dlen;
}

static bool is_date(const char *s, size_t n)
{
	int y, m, d;
	return date_part(s, n, &y, &m, &d) == n;
}

/*
 * A time after a date: "T" or a space, HH:MM, then :SS and a fraction of
 * at most 6 digits, each optional; no zone (CKAN's timestamp has none).
 * Its length from s, 0 when it is not one; *frac gets the fraction's digits.
 */
static size_t time_part(const char *s, size_t n, int *h, int *mi, int *sec, size_t *frac)
{
	*sec = 0, *frac = 0;
	if (n < 6 || (s[0] != 'T' && s[0] != ' ') || s[3] != ':')
		return 0;
	*h = num(s + 1, 2), *mi = num(s + 4, 2);
	if (*h < 0 || *h > 23 || *mi < 0 || *mi > 59)
		return 0;
	size_t i = 6;
	if (i == n)
		return i;
	if (n < 9 || s[6] != ':' || (*sec = num(s + 7, 2)) < 0 || *sec > 59)
		return 0;
	i = 9;
	if (i == n)
		return i;
	if (s[9] != '.')
		return 0;
	for (i = 10; i < n && s[i] >= '0' && s[i] <= '9' && *frac < 6; i++)
		(*frac)++;
	return *frac ? i : 0;
}

static bool is_timestamp(const char *s, size_t n)
{
	int y, m, d, h, mi, sec;
	size_t frac, k = date_part(s, n, &y, &m, &d);
	return k && k < n && time_part(s + k, n - k, &h, &mi, &sec, &frac) == n - k;
}

const char *dg_ds_value_norm(enum dg_ds_type t, const char *s, size_t n, char buf[DG_DS_NORM_MAX])
{
	int y, m, d, h = 0, mi = 0, sec = 0;
	size_t frac = 0, k;
	if ((t != DG_DS_DATE && t != DG_DS_TIMESTAMP) || !(k = date_part(s, n, &y, &m, &d)))
		return s;
	if (k < n && time_part(s + k, n - k, &h, &mi, &sec, &frac) != n - k)
		return s;
	if (t == DG_DS_DATE) {
		if (k < n || (n == 10 && s[4] == '-' && s[7] == '-'))
			return s;
		snprintf(buf, DG_DS_NORM_MAX, "%04d-%02d-%02d", y, m, d);
	} else {
		/* trailing zeros of the fraction dropped, as PostgreSQL writes it */
		while (frac > 0 && s[k + 10 + frac - 1] == '0')
			frac--;
		snprintf(buf, DG_DS_NORM_MAX, "%04d-%02d-%02dT%02d:%02d:%02d%s%.*s", y, m, d, h, mi,
			 sec, frac ? "." : "", (int)frac, frac ? s + k + 10 : "");
	}
	return buf;
}

static bool is_bool(const char *s, size_t n)
{
	return (n == 4 && strncasecmp(s, "true", 4) == 0) ||
	       (n == 5 && strncasecmp(s, "false", 5) == 0);
}

static unsigned value_mask(const char *s, size_t n)
{
	if (is_int(s, n))
		return BIT(DG_DS_INT) | BIT(DG_DS_NUMERIC);
	if (is_decimal(s, n))
		return BIT(DG_DS_NUMERIC);
	if (is_date(s, n))
		return BIT(DG_DS_DATE) | BIT(DG_DS_TIMESTAMP);
	if (is_timestamp(s, n))
		return BIT(DG_DS_TIMESTAMP);
	if (is_bool(s, n))
		return BIT(DG_DS_BOOL);
	return 0;
}

bool dg_ds_value_ok(enum dg_ds_type t, const char *s, size_t n)
{
	if (n == 0 || t == DG_DS_TEXT)
		return true;
	if (t == DG_DS_JSON || dg_ds_is_array(t)) {
		json_t *v = json_loadb(s, n, JSON_DECODE_ANY, NULL);
		bool ok = v && (t == DG_DS_JSON || dg_ds_array_ok(t, v));
		json_decref(v);
		return ok;
	}
	return (value_mask(s, n) & BIT(t)) != 0;
}

void dg_ds_infer_init(struct dg_ds_infer *inf, size_t ncols)
{
	inf->ncols = ncols;
	inf->mask = dg_xcalloc(ncols ? ncols : 1, sizeof *inf->mask);
	inf->seen = dg_xcalloc(ncols ? ncols : 1, sizeof *inf->seen);
	for (size_t i = 0; i < ncols; i++)
		inf->mask[i] = ALL;
}

void dg_ds_infer_release(struct dg_ds_infer *inf)
{
	free(inf->mask);
	free(inf->seen);
	inf->mask = NULL;
	inf->seen = NULL;
	inf->ncols = 0;
}

void dg_ds_infer_add_one(struct dg_ds_infer *inf, size_t col, const char *s, size_t n)
{
	if (col >= inf->ncols || n == 0 || inf->mask[col] == 0)
		return;
	inf->seen[col] = true;
	inf->mask[col] &= value_mask(s, n);
}

void dg_ds_infer_add(struct dg_ds_infer *inf, size_t n, char *const *f, const size_t *len)
{
	for (size_t i = 0; i < n && i < inf->ncols; i++)
		dg_ds_infer_add_one(inf, i, f[i], len[i]);
}

enum dg_ds_type dg_ds_infer_type(const struct dg_ds_infer *inf, size_t col)
{
	if (col >= inf->ncols || !inf->seen[col])
		return DG_DS_TEXT;
	for (int t = DG_DS_INT; t < DG_DS_TEXT; t++)
		if (inf->mask[col] & BIT(t))
			return (enum dg_ds_type)t;
	return DG_DS_TEXT;
}

/* Lowercase [a-z0-9_] with runs of anything else folded into one '_'. */
static void sanitize(const char *in, char *out, size_t i)
{
	size_t o = 0;
	bool alnum = false;
	for (const unsigned char *p = (const unsigned char *)in; *p && o < DG_DS_NAME_MAX - 1;
	     p++) {
		unsigned char ch = *p;
		if (ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch - 'A' + 'a');
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
			out[o++] = (char)ch;
			alnum = true;
		} else if (o > 0 && out[o - 1] != '_') {
			out[o++] = '_';
		}
	}
	while (o > 0 && out[o - 1] == '_')
		o--;
	out[o] = '\0';
	if (!alnum || o == 0) {
		snprintf(out, DG_DS_NAME_MAX, "col_%zu", i + 1);
	} else if (out[0] >= '0' && out[0] <= '9') {
		char tmp[DG_DS_NAME_MAX];
		snprintf(tmp, sizeof tmp, "c_%.*s", DG_DS_NAME_MAX - 3, out);
		memcpy(out, tmp, DG_DS_NAME_MAX);
	}
}

/* One column to the store: SQLite folds ASCII case (dg_ds_name_same). */
static bool taken(char (*names)[DG_DS_NAME_MAX], size_t upto, const char *s)
{
	for (size_t j = 0; j < upto; j++)
		if (dg_ds_name_same(names[j], s))
			return true;
	return false;
}

/*
 * The header itself, as CKAN's loaders name a column: in NFC, without the
 * blanks around it, when it is a name datastore_create would take and no
 * earlier column's. False otherwise.
 */
static bool header_name(char (*names)[DG_DS_NAME_MAX], size_t i, const char *label)
{
	size_t n = strlen(label), len = 0;
	while (n > 0 && (*label == ' ' || *label == '\t'))
		label++, n--;
	while (n > 0 && (label[n - 1] == ' ' || label[n - 1] == '\t'))
		n--;
	char nfc[DG_DS_NAME_MAX];
	if (dg_utf8_nfc(label, n, nfc, sizeof nfc, &len) != DG_OK || dg_ds_name_problem(nfc, len) ||
	    taken(names, i, nfc))
		return false;
	memcpy(names[i], nfc, len + 1);
	return true;
}

void dg_ds_names(size_t n, char *const *labels, char (*names)[DG_DS_NAME_MAX])
{
	for (size_t i = 0; i < n; i++) {
		char base[DG_DS_NAME_MAX];
		if (header_name(names, i, labels[i]))
			continue;
		sanitize(labels[i], base, i);
		memcpy(names[i], base, DG_DS_NAME_MAX);
		/* bounded: at most n names can collide */
		for (size_t k = 2; taken(names, i, names[i]) && k <= n + 1; k++)
			snprintf(names[i], DG_DS_NAME_MAX, "%.40s_%zu", base, k);
	}
}

/* The code point at p (valid UTF-8, n > 0 bytes left); *len gets its length. */
static unsigned code_point(const unsigned char *p, size_t *len)
{
	if (p[0] < 0x80)
		return *len = 1, p[0];
	if (p[0] < 0xe0)
		return *len = 2, ((p[0] & 0x1fu) << 6) | (p[1] & 0x3fu);
	if (p[0] < 0xf0)
		return *len = 3, ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
	return *len = 4, ((p[0] & 0x07u) << 18) | ((p[1] & 0x3fu) << 12) | ((p[2] & 0x3fu) << 6) |
				 (p[3] & 0x3fu);
}

/* Space as Python's str.strip() sees it (CKAN strips names with it). */
static bool is_space(unsigned c)
{
	return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
	       c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
	       c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Unicode's control and format characters (category C) that text may hold. */
static bool is_control(unsigned c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0xad || (c >= 0x600 && c <= 0x605) ||
	       c == 0x61c || c == 0x6dd || c == 0x70f || c == 0x180e ||
	       (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2060 && c <= 0x206f) || c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb) ||
	       (c >= 0xe000 && c <= 0xf8ff) || c >= 0xf0000;
}

const char *dg_ds_name_problem(const char *s, size_t n)
{
	if (n == 0)
		return "is empty";
	if (n >= DG_DS_NAME_MAX)
		return "is over 63 bytes";
	if (memchr(s, '\0', n))
		return "holds a control character";
	if (!dg_utf8_valid(s, n))
		return "is not UTF-8";
	if (s[0] == '_')
		return "starts with _";
	size_t len = 0;
	unsigned c = 0;
	for (size_t i = 0; i < n; i += len) {
		c = code_point((const unsigned char *)s + i, &len);
		if (c == 0 || is_control(c))
			return "holds a control character";
		if (c == '"')
			return "holds a double quote";
		if (c == ',')
			return "holds a comma (lists of fields are \"a,b\")";
		if (i == 0 && is_space(c))
			return "starts with a space";
	}
	if (is_space(c))
		return "ends with a space";
	/* one look, one name: a name that NFC would change is sent composed instead */
	char nfc[DG_DS_NAME_MAX * 3];
	size_t nlen = 0;
	if (dg_utf8_nfc(s, n, nfc, sizeof nfc, &nlen) != DG_OK || nlen != n ||
	    memcmp(nfc, s, n) != 0)
		return "is not in Unicode's normalization form C (NFC): send its characters "
		       "composed";
	return NULL;
}

bool dg_ds_name_same(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}
