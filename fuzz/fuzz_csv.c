/*
 * fuzz_csv.c - libFuzzer target for the datastore's CSV reader. Beyond "no
 * crash": every record has at least one field, no field is over the cap,
 * each recorded length is the real one, and line numbers never go back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	FILE *fp = fmemopen((void *)data, size, "rb");
	if (!fp)
		return 0;
	struct dg_csv *c = NULL;
	struct dg_csv_row row;
	struct dg_err err = {0};
	long last = 0;
	if (dg_csv_open(fp, 256, 16, &c, &err) == DG_OK) {
		while (dg_csv_next(c, &row, &err) == DG_OK) {
			if (row.ncols == 0 || row.ncols > 16 || row.line < last)
				abort();
			for (size_t i = 0; i < row.ncols; i++)
				if (row.n[i] > 256 || row.f[i][row.n[i]] != '\0')
					abort();
			last = row.line;
		}
		dg_csv_free(c);
	}
	fclose(fp);
	return 0;
}
