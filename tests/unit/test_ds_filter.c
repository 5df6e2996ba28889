/*
 * test_ds_filter.c - the datastore's filters as SQL (cases as data: filters
 * -> WHERE clause and number of bound values, or the error).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "opendata/datastore/filter.h"

static const char fields[] = "[{\"id\":\"a\",\"type\":\"int\"},{\"id\":\"b\",\"type\":\"text\"},"
			     "{\"id\":\"c\",\"type\":\"bool\"},{\"id\":\"$x\",\"type\":\"text\"}]";

static void filters_to_sql(void **state)
{
	(void)state;
	static const struct {
		const char *filters, *sql; /* sql NULL: refused, with the message in sql's place */
		size_t nargs;
		const char *err;
	} cases[] = {
		{"{\"a\":1}", " WHERE (\"a\" = ?)", 1, NULL},
		{"\"{\\\"a\\\":1}\"", " WHERE (\"a\" = ?)", 1, NULL}, /* JSON text, as GET sends */
		{"{\"a\":[1,2],\"b\":null}", " WHERE (\"a\" IN (?, ?) AND \"b\" IS NULL)", 2, NULL},
		{"{\"a\":[]}", " WHERE (1 = 0)", 0, NULL},
		{"{\"a\":{\"gte\":1,\"lt\":9}}", " WHERE ((\"a\" >= ? AND \"a\" < ?))", 2, NULL},
		{"{\"a\":{\"in\":[1]}}", " WHERE ((\"a\" IN (?)))", 1, NULL},
		{"{\"a\":[{\"gt\":5},1,2]}", " WHERE (((\"a\" > ?) OR \"a\" IN (?, ?)))", 3, NULL},
		{"{\"$or\":[{\"a\":1},{\"b\":\"x\",\"c\":true}]}",
		 " WHERE (((\"a\" = ?) OR (\"b\" = ? AND \"c\" = ?)))", 3, NULL},
		{"[{\"a\":1},{\"a\":2}]", " WHERE ((\"a\" = ?) OR (\"a\" = ?))", 2, NULL},
		{"{\"$and\":[]}", " WHERE (1 = 1)", 0, NULL},
		{"{\"$or\":[]}", " WHERE (1 = 0)", 0, NULL},
		{"{\"$$x\":\"v\"}", " WHERE (\"$x\" = ?)", 1, NULL},
		{"{}", " WHERE 1 = 1", 0, NULL},
		{"[]", "", 0, NULL},
		{"null", "", 0, NULL},
		{"{\"z\":1}", NULL, 0, "field \"z\" not in table"},
		{"{\"a\":\"x\"}", NULL, 0, "\"x\" is not int"},
		{"{\"a\":1.5}", NULL, 0, "is not int"},
		{"{\"c\":2}", NULL, 0, "is not bool"},
		{"{\"a\":{\"like\":1}}", NULL, 0, "Unknown filter operation"},
		{"{\"a\":{}}", NULL, 0, "no operator"},
		{"{\"a\":{\"in\":1}}", NULL, 0, "takes a list"},
		{"{\"$nor\":[]}", NULL, 0, "must be one of $or, $and"},
		{"{\"$or\":{\"a\":1}}", NULL, 0, "list of dicts"},
		{"{\"$or\":[1]}", NULL, 0, "must be dictionaries"},
		{"{\"a\":[[1]]}", NULL, 0, "a list holds values"},
		{"7", NULL, 0, "dict or a list of dicts"},
		{"\"{nope\"", NULL, 0, "Cannot parse JSON"},
		{"{\"$or\":[{\"$or\":[{\"$or\":[{\"$or\":[{\"$or\":[{\"$or\":[{\"$or\":[{\"$or\":[{"
		 "\"$or\":[{\"$or\":[{\"$or\":[{\"a\":1}]}]}]}]}]}]}]}]}]}]}]}",
		 NULL, 0, "nesting depth"},
	};
	json_t *fj = json_loads(fields, 0, NULL);
	struct dg_ds_table t = {.fields = fj};
	size_t ncols;
	struct dg_ds_col *cols = dg_ds_cols(&t, &ncols);
	assert_int_equal(ncols, 5);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dg_ds_where w;
		struct dg_err err = {0};
		json_t *f = json_loads(cases[i].filters, JSON_DECODE_ANY, NULL);
		assert_non_null(f);
		dg_ds_where_init(&w);
		dg_rc rc = dg_ds_where_filters(&w, cols, ncols, f, &err);
		if (cases[i].sql) {
			if (rc != DG_OK || strcmp(dg_buf_str(&w.sql), cases[i].sql) != 0 ||
			    w.nargs != cases[i].nargs)
				fail_msg("case %zu %s: rc %d [%s] %zu args (%s)", i,
					 cases[i].filters, rc, dg_buf_str(&w.sql), w.nargs,
					 err.msg);
		} else {
			if (rc != DG_EINVAL || !strstr(err.msg, cases[i].err) ||
			    strcmp(err.field, "filters") != 0 || w.nargs || w.sql.len)
				fail_msg("case %zu %s: rc %d, \"%s\"", i, cases[i].filters, rc,
					 err.msg);
		}
		dg_ds_where_release(&w);
		json_decref(f);
	}
	free(cols);
	json_decref(fj);
}

/* Filters ANDed with q; values bound typed. */
static void filters_and_q(void **state)
{
	(void)state;
	json_t *fj = json_loads(fields, 0, NULL);
	struct dg_ds_table t = {.fields = fj};
	size_t ncols;
	struct dg_ds_col *cols = dg_ds_cols(&t, &ncols);
	struct dg_ds_where w;
	struct dg_err err = {0};
	json_t *f = json_loads("{\"a\":\"42\",\"c\":\"true\"}", 0, NULL);
	json_t *q = json_pack("{s:s}", "q", "北京"); /* datastore_search's parameters */
	dg_ds_where_init(&w);
	assert_int_equal(dg_ds_where_filters(&w, cols, ncols, f, &err), DG_OK);
	assert_int_equal(dg_ds_where_q(&w, DG_STORE_SQLITE, "ds_t", cols, ncols, q, &err), DG_OK);
	/* q is a lookup of the table's index: every word in any column, each column tagged */
	assert_string_equal(dg_buf_str(&w.sql),
			    " WHERE (\"a\" = ? AND \"c\" = ?) AND \"_id\" IN (SELECT rowid FROM"
			    " ds_t_q WHERE ds_t_q MATCH ?)");
	assert_int_equal(w.args[0].t, DG_V_INT);
	assert_int_equal(w.args[0].i, 42);
	assert_string_equal(w.args[1].s, "1");
	assert_string_equal(w.args[2].s,
			    "((\"c1x北京\" OR \"c2x北京\" OR \"c3x北京\" OR \"c4x北京\"))");
	assert_int_equal(w.nranks, 1);
	assert_string_equal(w.ranks[0].name, "rank");
	json_decref(q);
	q = json_pack("{s:{s:s, s:s}}", "q", "b", "x", "zz", "y");
	assert_int_equal(dg_ds_where_q(&w, DG_STORE_SQLITE, "ds_t", cols, ncols, q, &err),
			 DG_EINVAL);
	assert_int_equal(w.nargs, 3); /* the refused q bound nothing */
	assert_int_equal(w.nranks, 1);
	json_decref(q);
	/* on one column, a Latin word as a prefix; PostgreSQL's tsquery */
	q = json_pack("{s:{s:s}}", "q", "$x", "Regist 养");
	assert_int_equal(dg_ds_where_q(&w, DG_STORE_PG, "ds_t", cols, ncols, q, &err), DG_OK);
	assert_string_equal(w.args[3].s, "(('c4xregist':*) & ('c4x养':*))");
	assert_int_equal(w.nranks, 2);
	assert_string_equal(w.ranks[1].name, "rank $x");
	json_decref(q);
	/* no word at all: nothing matches */
	q = json_pack("{s:s}", "q", "!!");
	dg_ds_where_release(&w);
	dg_ds_where_init(&w);
	assert_int_equal(dg_ds_where_q(&w, DG_STORE_SQLITE, "ds_t", cols, ncols, q, &err), DG_OK);
	assert_string_equal(dg_buf_str(&w.sql), " WHERE 1 = 0");
	dg_ds_where_release(&w);
	json_decref(q);
	json_decref(f);
	free(cols);
	json_decref(fj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(filters_to_sql),
		cmocka_unit_test(filters_and_q),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
