/*
 * fuzz_ds_sqlq.c - libFuzzer target for datastore_search_sql's checker.
 * Beyond "no crash": every resource id it asks the resolver about is one it
 * then names as the table "t"; an accepted statement that SQLite prepares
 * (against a store with "t" and a table "secret") is read-only and reads no
 * table but "t" (an authorizer watches every column read), and it calls only
 * functions of the checker's list (no replace(): nested, it builds a
 * string that doubles per level). An accepted statement never names one of
 * PostgreSQL's store values (current_user...) outside quotes.
 */
#include <ctype.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "opendata/datastore/sqlq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static dg_rc resolve(void *ctx, const char *id, char table[DG_DS_TABLE_MAX], struct dg_err *err)
{
	(void)ctx;
	if (strcmp(id, "r") != 0)
		return dg_err_set(err, DG_ENOTFOUND, "not found");
	snprintf(table, DG_DS_TABLE_MAX, "t");
	return DG_OK;
}

static int watch(void *ctx, int action, const char *a, const char *b, const char *c, const char *d)
{
	static const char *const ok_fn[] = {
		"count",        "sum",     "avg",        "min",         "max",       "total",
		"group_concat", "lower",   "upper",      "length",      "abs",       "round",
		"coalesce",     "nullif",  "ifnull",     "substr",      "substring", "trim",
		"ltrim",        "rtrim",   "instr",      "date",        "strftime",  "julianday",
		"like",         "glob",    "regexp",     "match",       "char",      "floor",
		"ceil",         "ceiling", "string_agg", "char_length", "position",  "date_part",
		"date_trunc",   "to_char",
	};
	(void)ctx, (void)c, (void)d;
	if (action == SQLITE_READ && a && strcmp(a, "t") != 0)
		abort(); /* a table other than the resource's */
	if (action == SQLITE_FUNCTION) {
		for (size_t i = 0; i < sizeof ok_fn / sizeof ok_fn[0]; i++)
			if (b && strcasecmp(b, ok_fn[i]) == 0)
				return SQLITE_OK;
		abort(); /* a function off the list */
	}
	if (action != SQLITE_SELECT && action != SQLITE_READ && action != SQLITE_FUNCTION)
		abort(); /* anything but reading */
	return SQLITE_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sqlite3 *db;
	if (!db && (sqlite3_open(":memory:", &db) != SQLITE_OK ||
		    sqlite3_exec(db,
				 "CREATE TABLE t (\"_id\" INTEGER PRIMARY KEY, a INTEGER, b TEXT);"
				 "CREATE TABLE secret (a INTEGER, b TEXT);",
				 NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_set_authorizer(db, watch, NULL) != SQLITE_OK))
		abort();
	struct dg_buf out;
	struct dg_err err = {0};
	dg_buf_init(&out, DG_DS_SQLQ_MAX * 2);
	dg_rc rc = dg_ds_sqlq_check((const char *)data, size, resolve, NULL, &out, &err);
	if (rc == DG_OK) {
		static const char *const never[] = {"current_user", "current_catalog",
						    "session_user", "current_schema"};
		/* outside quotes: the checker's output quotes nothing but names and strings */
		const char *s = dg_buf_str(&out);
		for (size_t i = 0; s[i]; i++) {
			if (s[i] == '"' || s[i] == '\'') {
				char q = s[i];
				while (s[++i] && s[i] != q)
					;
				if (!s[i])
					break;
				continue;
			}
			for (size_t k = 0; k < sizeof never / sizeof never[0]; k++) {
				size_t n = strlen(never[k]);
				if (strncasecmp(s + i, never[k], n) == 0 &&
				    (i == 0 ||
				     !(isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_')) &&
				    !(isalnum((unsigned char)s[i + n]) || s[i + n] == '_'))
					abort();
			}
		}
		sqlite3_stmt *st = NULL;
		const char *tail = NULL;
		if (sqlite3_prepare_v2(db, dg_buf_str(&out), -1, &st, &tail) == SQLITE_OK && st) {
			if (!sqlite3_stmt_readonly(st) || (tail && *tail))
				abort();
			sqlite3_finalize(st);
		}
	} else if (rc == DG_EINVAL && strcmp(err.field, "sql") != 0) {
		abort(); /* a refusal names the parameter */
	}
	dg_buf_release(&out);
	return 0;
}
