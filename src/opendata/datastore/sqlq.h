/*
 * sqlq.h - the SQL that datastore_search_sql accepts (sqlq.c).
 *
 * One SELECT, read-only by construction: the text is split into tokens
 * (words, "quoted names", 'strings', numbers and a short list of operators;
 * comments, ';', parameters, '::' casts and anything else are refused), then
 * checked as it is rewritten:
 *   - it starts with SELECT; words that write, lock, run other statements or
 *     name tables outside a FROM (INTO, FOR, TABLE, WITH, INSERT, PRAGMA...)
 *     are refused wherever they are;
 *   - every table, after FROM, JOIN or a comma of a FROM list, is a
 *     resource id in double quotes (or a parenthesised subquery); the
 *     caller's resolver decides whether the asker may read it and gives the
 *     table that holds it, which replaces the id in the text;
 *   - a call is of a function from a fixed list (aggregates, text and
 *     number functions, dates, CAST) and never of a quoted name; none that
 *     multiplies a string (replace, printf, zeroblob, repeat...);
 *   - CAST names a type from a fixed list (no regclass, oid...), a string
 *     follows only a word of the grammar (no typed literal but DATE and
 *     TIMESTAMP), and PostgreSQL's store values (current_user,
 *     current_catalog...) are refused: the same on both stores;
 *   - at most DG_DS_SQLQ_MAX bytes, DG_DS_SQLQ_DEPTH nested parentheses.
 * The caller still runs the result read-only and under a time budget.
 */
#ifndef DG_DS_SQLQ_H
#define DG_DS_SQLQ_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "opendata/datastore/datastore.h"

#define DG_DS_SQLQ_MAX   16384
#define DG_DS_SQLQ_DEPTH 32

/*
 * May the asker read resource id? DG_OK and the table's name in table, or
 * an error with err set (not found, not allowed), which check returns.
 */
typedef dg_rc (*dg_ds_sqlq_table_fn)(void *ctx, const char *resource_id,
				     char table[DG_DS_TABLE_MAX], struct dg_err *err);

/*
 * Check sql (len bytes) and write the statement to run into out. EINVAL with
 * err->field "sql" and a message naming what was refused; the resolver's
 * own error for a table it refused; ETOOBIG when out is full.
 */
dg_rc dg_ds_sqlq_check(const char *sql, size_t len, dg_ds_sqlq_table_fn table, void *ctx,
		       struct dg_buf *out, struct dg_err *err) DG_MUST;

#endif
