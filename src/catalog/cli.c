/*
 * cli.c - `dgov catalog import FILE` and `dgov catalog export [FILE]`.
 *
 * Import reads a JSON array of items (the shape in internal.h), checks each
 * and writes each as a new published version, all in one transaction: one
 * bad item and nothing changes, and the message names the item and field.
 * Export writes every item's version in force as the same JSON, so an export
 * imports again.
 */
#include "catalog/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/env.h"
#include "catalog/internal.h"

#define IMPORT_MAX_ITEMS 5000

static const char usage[] = "usage: dgov catalog import FILE | export [FILE]\n";

dg_rc dg_catalog_import_json(struct dg_db *db, const json_t *items, struct dg_err *err)
{
	json_t *it;
	size_t i;
	if (!json_is_array(items))
		return dg_err_set(err, DG_EINVAL, "the file must hold a JSON array of items");
	if (json_array_size(items) > IMPORT_MAX_ITEMS)
		return dg_err_set(err, DG_ETOOBIG, "at most %d items in one import",
				  IMPORT_MAX_ITEMS);
	dg_rc rc = dg_db_begin(db);
	if (rc)
		return dg_err_set(err, rc, "the store is not available");
	json_array_foreach (items, i, it) {
		struct dg_err e = {0};
		const char *code = json_string_value(json_object_get(it, "code"));
		rc = cat_put_draft(db, it, NULL, &e);
		if (!rc)
			rc = cat_publish(db, code, &e);
		if (rc) {
			dg_err_field(err, rc, e.field, "item %zu (%s): %s", i + 1,
				     code ? code : "no code", e.msg[0] ? e.msg : dg_rc_name(rc));
			dg_db_rollback(db);
			return rc;
		}
	}
	rc = dg_db_commit(db);
	if (rc)
		dg_err_set(err, rc, "the import could not be committed");
	return rc;
}

static int do_import(struct dg_db *db, const char *path)
{
	json_error_t jerr;
	struct dg_err err = {0};
	json_t *items = json_load_file(path, 0, &jerr);
	if (!items) {
		fprintf(stderr, "dgov catalog import: %s:%d: %s\n", path, jerr.line, jerr.text);
		return 2;
	}
	dg_rc rc = dg_catalog_import_json(db, items, &err);
	size_t n = json_array_size(items);
	json_decref(items);
	if (rc) {
		fprintf(stderr, "dgov catalog import: %s; nothing was imported\n", err.msg);
		return 1;
	}
	printf("imported %zu items\n", n);
	return 0;
}

static int do_export(struct dg_db *db, const char *path)
{
	json_t *all = NULL;
	dg_rc rc = cat_export(db, &all);
	if (rc) {
		fprintf(stderr, "dgov catalog export: %s\n", dg_rc_name(rc));
		return 1;
	}
	int fail = path ? json_dump_file(all, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER)
			: json_dumpf(all, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(all);
	if (!path)
		fputc('\n', stdout);
	if (fail) {
		fprintf(stderr, "dgov catalog export: cannot write %s\n", path ? path : "stdout");
		return 1;
	}
	return 0;
}

int dg_catalog_check(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
		    (i == 1 && strcmp(argv[i], "help") == 0)) {
			fputs(usage, stdout);
			return 0;
		}
	int imp = argc == 3 && strcmp(argv[1], "import") == 0;
	int exp = (argc == 2 || argc == 3) && strcmp(argv[1], "export") == 0;
	if (imp || exp)
		return -1;
	fputs(usage, stderr);
	return 2;
}

int dg_catalog_main(struct dg_env *env, int argc, char **argv)
{
	struct dg_db *db = NULL;
	int code = 2;
	int imp = argc == 3 && strcmp(argv[1], "import") == 0;
	int exp = (argc == 2 || argc == 3) && strcmp(argv[1], "export") == 0;
	if (!imp && !exp) {
		fputs(usage, stderr);
		return 2;
	}
	if (dg_db_get(env->store, &db) != DG_OK) {
		fprintf(stderr, "dgov catalog: the store is not available\n");
		return 1;
	}
	code = imp ? do_import(db, argv[2]) : do_export(db, argc == 3 ? argv[2] : NULL);
	dg_db_put(db);
	return code;
}
