/*
 * catalog.h - the service catalogue (事项): service items with the national
 * guide fields, versioned (publish, amend, retire), searchable in Chinese and
 * English, browsable by theme, life event, department and audience.
 */
#ifndef DG_CATALOG_H
#define DG_CATALOG_H

#include <jansson.h>
#include <stddef.h>

#include "core/err.h"
#include "http/router.h"
#include "store/store.h"
#include "node/module.h"

struct dg_env;

extern const struct dg_migration dg_catalog_migrations[];

/* Pages (/services, /services/{code}, ...) and GET /api/v1/services[/{code}]. */
const struct dg_route *dg_catalog_routes(size_t *n);
/* Editing items in the browser and the version history (edit.c); before dg_catalog_routes. */
const struct dg_route *dg_catalog_edit_routes(size_t *n);

/*
 * The item's version in force as JSON (the shape in docs/catalog.md, plus
 * "status" active|retired, "version", "dept_id", "dept_name_zh/en" and its
 * "form" when it has its own); ENOTFOUND when nothing is published.
 */
dg_rc dg_catalog_item(struct dg_db *db, const char *code, json_t **out) DG_MUST;

/* The demo region's service items, inside the caller's transaction. */
dg_rc dg_catalog_demo_seed(struct dg_env *env, struct dg_db *db, const struct dg_demo_opts *o,
			   struct dg_err *err) DG_MUST;

/*
 * Import a JSON array of items (docs/catalog.md): each is checked and
 * published as a new version, all in one transaction on db (which must not
 * be in one). EINVAL/ECONFLICT with err naming the item and the field;
 * nothing changes on error.
 */
dg_rc dg_catalog_import_json(struct dg_db *db, const json_t *items, struct dg_err *err) DG_MUST;

#define DG_ITEMFORM_MAX_PAGES  12
#define DG_ITEMFORM_MAX_FIELDS 20

/*
 * An item's application form (form.c has the shape): check a definition
 * (EINVAL naming the page and field), and the form of an item as JSON (its
 * own, or the default: who is applying, what for, and one upload per
 * material the applicant provides). The caller owns the reference.
 */
dg_rc dg_itemform_check(const json_t *form, struct dg_err *err) DG_MUST;
json_t *dg_itemform_of(const json_t *item);

/* `dgov catalog import FILE | export [FILE]`; argv[0] is "catalog". Returns the exit code. */
int dg_catalog_main(struct dg_env *env, int argc, char **argv);
/* Its arguments, before anything is opened (struct dg_command's check). */
int dg_catalog_check(int argc, char **argv);

/* The catalog module: its tables, routes, jobs and demo data, for src/app. */
extern const struct dg_module dg_catalog_module;

#endif
