/*
 * infer.c - strict type inference and column naming for datastore loads
 * (the rules are in datastore_int.h). Pure functions over bytes: no store, no HTTP.
 */
#include "opendata/datastore/datastore_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define BIT(t) (1u << (t))
#define ALL    (BIT(DG_DS_INT) | BIT(DG_DS_NUMERIC) | BIT(DG_DS_DATE) | BIT(DG_DS_BOOL))

const char *dg_ds_type_name(enum dg_ds_type t)
{
	static const char *const names[] = {"int", "numeric", "date", "bool", "text"};
	return (unsigned)t <= DG_DS_TEXT ? names[t] : "text";
}

dg_rc dg_ds_type_parse(const char *name, enum dg_ds_type *out)
{
	static const struct {
		const char *name;
		enum dg_ds_type t;
	} map[] = {{"int", DG_DS_INT},        {"int4", DG_DS_INT},      {"int8", DG_DS_INT},
		   {"integer", DG_DS_INT},    {"bigint", DG_DS_INT},    {"numeric", DG_DS_NUMERIC},
		   {"float8", DG_DS_NUMERIC}, {"float", DG_DS_NUMERIC}, {"date", DG_DS_DATE},
		   {"timestamp", DG_DS_DATE}, {"bool", DG_DS_BOOL},     {"boolean", DG_DS_BOOL},
		   {"text", DG_DS_TEXT}};
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

static bool is_date(const char *s, size_t n)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (n != 10 || s[4] != '-' || s[7] != '-')
		return false;
	int y = num(s, 4), m = num(s + 5, 2), d = num(s + 8, 2);
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return !(m == 2 && d == 29 && !leap);
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
		return BIT(DG_DS_DATE);
	if (is_bool(s, n))
		return BIT(DG_DS_BOOL);
	return 0;
}

bool dg_ds_value_ok(enum dg_ds_type t, const char *s, size_t n)
{
	if (n == 0 || t == DG_DS_TEXT)
		return true;
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

void dg_ds_infer_add(struct dg_ds_infer *inf, size_t n, char *const *f, const size_t *len)
{
	for (size_t i = 0; i < n && i < inf->ncols; i++) {
		if (len[i] == 0 || inf->mask[i] == 0)
			continue;
		inf->seen[i] = true;
		inf->mask[i] &= value_mask(f[i], len[i]);
	}
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

static bool taken(char (*names)[DG_DS_NAME_MAX], size_t upto, const char *s)
{
	for (size_t j = 0; j < upto; j++)
		if (strcmp(names[j], s) == 0)
			return true;
	return false;
}

void dg_ds_names(size_t n, char *const *labels, char (*names)[DG_DS_NAME_MAX])
{
	for (size_t i = 0; i < n; i++) {
		char base[DG_DS_NAME_MAX];
		sanitize(labels[i], base, i);
		memcpy(names[i], base, DG_DS_NAME_MAX);
		/* bounded: at most n names can collide */
		for (size_t k = 2; taken(names, i, names[i]) && k <= n + 1; k++)
			snprintf(names[i], DG_DS_NAME_MAX, "%.40s_%zu", base, k);
	}
}

bool dg_ds_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= DG_DS_NAME_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}
