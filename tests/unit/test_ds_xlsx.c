/*
 * test_ds_xlsx.c - the dumps' XLSX writer (xlsx.h) read back with Debian's
 * unzip and xmllint: a deflated zip whose parts are well-formed, cells as
 * numbers, booleans and inline text, empty cells left out, controls
 * dropped, text cut at Excel's 32,767 characters on a character boundary,
 * and Excel's column limit refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "opendata/datastore/xlsx.h"

static char dir[] = "/tmp/dgov-xlsx-unit-XXXXXX";
static char path[128];

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof path, "%s/t.xlsx", dir);
	setenv("F", path, 1); /* the workbook, for the shell commands below */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void cells_read_back(void **state)
{
	(void)state;
	struct dg_xlsx *x = NULL;
	/* 40,000 characters of three bytes each: cut at 32,767 characters */
	size_t n = 40000;
	char *long_text = malloc(3 * n + 1);
	for (size_t i = 0; i < n; i++)
		memcpy(long_text + 3 * i, "数", 3);
	long_text[3 * n] = '\0';
	assert_int_equal(dg_xlsx_open(path, dir, &x), DG_OK);
	assert_int_equal(dg_xlsx_row(x), DG_OK);
	assert_int_equal(dg_xlsx_text(x, "code"), DG_OK);
	assert_int_equal(dg_xlsx_text(x, "<a & b>"), DG_OK);
	assert_int_equal(dg_xlsx_row(x), DG_OK);
	assert_int_equal(dg_xlsx_number(x, 7), DG_OK);
	dg_xlsx_blank(x);
	assert_int_equal(dg_xlsx_bool(x, false), DG_OK);
	assert_int_equal(dg_xlsx_number(x, -2.5), DG_OK);
	assert_int_equal(dg_xlsx_text(x, "a\x01"
					 "b\tc"),
			 DG_OK);
	assert_int_equal(dg_xlsx_row(x), DG_OK);
	assert_int_equal(dg_xlsx_text(x, long_text), DG_OK);
	assert_true(dg_xlsx_bytes(x) > 3 * 32767);
	assert_int_equal(dg_xlsx_close(x), DG_OK);
	free(long_text);

	assert_int_equal(system("unzip -tqq \"$F\" >/dev/null"), 0);
	assert_int_equal(system("unzip -v \"$F\" xl/worksheets/sheet1.xml | grep -q Defl"), 0);
	assert_int_equal(system("unzip -p \"$F\" xl/worksheets/sheet1.xml | xmllint --noout -"), 0);
	assert_int_equal(system("unzip -p \"$F\" xl/workbook.xml | grep -q 'sheet name=\"data\"'"),
			 0);
	assert_int_equal(
		system("unzip -p \"$F\" xl/worksheets/sheet1.xml | grep -q "
		       "'<c r=\"B1\" t=\"inlineStr\"><is><t>&lt;a &amp; b&gt;</t></is></c>'"),
		0);
	assert_int_equal(
		system("unzip -p \"$F\" xl/worksheets/sheet1.xml | grep -q '<c "
		       "r=\"A2\"><v>7</v></c>'"
		       " && unzip -p \"$F\" xl/worksheets/sheet1.xml | grep -q "
		       "'<c r=\"C2\" t=\"b\"><v>0</v></c><c r=\"D2\"><v>-2.5</v></c>'"
		       " && ! unzip -p \"$F\" xl/worksheets/sheet1.xml | grep -q 'r=\"B2\"'"),
		0);
	/* the control is gone, the tab stays, and nothing was escaped as _xHHHH_ */
	assert_int_equal(
		system("unzip -p \"$F\" xl/worksheets/sheet1.xml | grep -q '<t[^>]*>ab\tc</t>'"
		       " && ! unzip -p \"$F\" xl/worksheets/sheet1.xml | grep -q '_x00'"),
		0);
	/* the cut: exactly 32,767 characters in A3 (XPath counts characters) */
	assert_int_equal(
		system("test \"$(unzip -p \"$F\" xl/worksheets/sheet1.xml | xmllint --xpath"
		       " 'string-length(//*[local-name()=\"c\" and @r=\"A3\"])' -)\" = 32767"),
		0);
}

static void limits(void **state)
{
	(void)state;
	struct dg_xlsx *x = NULL;
	assert_int_equal(dg_xlsx_open(path, dir, &x), DG_OK);
	assert_int_equal(dg_xlsx_text(x, "before any row"), DG_ETOOBIG);
	dg_xlsx_free(x);

	assert_int_equal(dg_xlsx_open(path, dir, &x), DG_OK);
	assert_int_equal(dg_xlsx_row(x), DG_OK);
	for (int i = 0; i < 16384; i++)
		dg_xlsx_blank(x);
	assert_int_equal(dg_xlsx_number(x, 1), DG_ETOOBIG);
	/* the error sticks, and closing reports it without writing a workbook */
	assert_int_equal(dg_xlsx_row(x), DG_ETOOBIG);
	unlink(path);
	assert_int_equal(dg_xlsx_close(x), DG_ETOOBIG);
	assert_int_not_equal(access(path, F_OK), 0);
	dg_xlsx_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cells_read_back),
		cmocka_unit_test(limits),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
