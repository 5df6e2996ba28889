/*
 * fuzz_ds_filter.c - libFuzzer target for the datastore's filters (JSON ->
 * WHERE). Beyond "no crash": a refused filter leaves the clause empty with no
 * value bound; an accepted one binds at most DG_DS_MAX_ARGS values, one per
 * '?', and is SQL that SQLite prepares against a table with those columns.
 * Filters a write accepts (dg_ds_filters_narrow) never hold a clause that
 * matches every row by emptiness ("1 = 1").
 */
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opendata/datastore/filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fields[] = "[{\"id\":\"a\",\"type\":\"int\"},{\"id\":\"b\",\"type\":\"text\"},"
			     "{\"id\":\"c\",\"type\":\"bool\"},{\"id\":\"d\",\"type\":\"numeric\"},"
			     "{\"id\":\"e\",\"type\":\"date\"},{\"id\":\"$x\",\"type\":\"text\"}]";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sqlite3 *db;
	if (!db && (sqlite3_open(":memory:", &db) != SQLITE_OK ||
		    sqlite3_exec(db,
				 "CREATE TABLE t (\"_id\" INTEGER PRIMARY KEY, a INTEGER, b TEXT,"
				 " c INTEGER, d REAL, e TEXT, \"$x\" TEXT)",
				 NULL, NULL, NULL) != SQLITE_OK))
		abort();
	json_t *f = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!f)
		return 0;
	struct dg_ds_table t = {.fields = json_loads(fields, 0, NULL)};
	size_t ncols;
	struct dg_ds_col *cols = dg_ds_cols(&t, &ncols);
	struct dg_ds_where w;
	struct dg_err err = {0};
	dg_ds_where_init(&w);
	dg_rc rc = dg_ds_where_filters(&w, cols, ncols, f, &err);
	if (rc != DG_OK && (w.nargs != 0 || w.sql.len != 0 || !err.msg[0]))
		abort();
	if (rc == DG_OK) {
		size_t marks = 0;
		for (size_t i = 0; i < w.sql.len; i++)
			marks += w.sql.ptr[i] == '?';
		if (marks != w.nargs || w.nargs > DG_DS_MAX_ARGS)
			abort();
		char *sql = NULL;
		if (asprintf(&sql, "SELECT COUNT(*) FROM t%s", dg_buf_str(&w.sql)) < 0)
			abort();
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
		    sqlite3_bind_parameter_count(st) != (int)w.nargs)
			abort();
		sqlite3_finalize(st);
		free(sql);
		struct dg_err nerr = {0};
		if (dg_ds_filters_narrow(f, &nerr) == DG_OK &&
		    (w.sql.len == 0 || strstr(dg_buf_str(&w.sql), "1 = 1")))
			abort();
	}
	dg_ds_where_release(&w);
	free(cols);
	json_decref(t.fields);
	json_decref(f);
	return 0;
}
