/*
 * fuzz_ds_names.c - libFuzzer target for the DataStore's field names and
 * sort clauses. The input is taken as a name for datastore_create and as
 * one clause of datastore_search's sort. A name dg_ds_name_problem accepts
 * must be quoted safely: "name" as a column makes a table SQLite creates
 * with exactly one column of that name, and selects it back. A sort clause
 * dg_ds_sort_clause accepts gives a non-empty name that fits a field and
 * one of the directions it may give.
 */
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opendata/datastore/datastore_int.h"
#include "opendata/datastore/filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(sqlite3 *db, const char *s, size_t n)
{
	if (dg_ds_name_problem(s, n))
		return;
	if (memchr(s, '"', n) || memchr(s, '\0', n) || n >= DG_DS_NAME_MAX)
		abort();
	char *sql = NULL;
	if (asprintf(&sql, "CREATE TEMP TABLE t (\"%.*s\" TEXT)", (int)n, s) < 0)
		abort();
	sqlite3_stmt *st = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		abort();
	free(sql);
	if (asprintf(&sql, "SELECT \"%.*s\" FROM t", (int)n, s) < 0)
		abort();
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_column_count(st) != 1 || strlen(sqlite3_column_name(st, 0)) != n ||
	    memcmp(sqlite3_column_name(st, 0), s, n) != 0)
		abort();
	sqlite3_finalize(st);
	free(sql);
	if (sqlite3_exec(db, "DROP TABLE t", NULL, NULL, NULL) != SQLITE_OK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sqlite3 *db;
	if (!db && sqlite3_open(":memory:", &db) != SQLITE_OK)
		abort();
	if (size > 4096)
		return 0;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	check_name(db, s, size);
	char name[DG_DS_NAME_MAX];
	const char *dir = "ASC", *nulls = "";
	if (!memchr(s, '\0', size) && dg_ds_sort_clause(s, name, &dir, &nulls)) {
		size_t n = strnlen(name, sizeof name);
		if (n == 0 || n >= sizeof name ||
		    (strcmp(dir, "ASC") != 0 && strcmp(dir, "DESC") != 0) ||
		    (nulls[0] && strcmp(nulls, " NULLS FIRST") != 0 &&
		     strcmp(nulls, " NULLS LAST") != 0))
			abort();
	}
	free(s);
	return 0;
}
