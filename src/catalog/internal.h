/*
 * internal.h - what the catalogue's files share: the JSON shape of an item,
 * the store functions (catalog_sql.c) and the search tokenizer (search.c).
 *
 * An item travels as one JSON object (import, export, API, demo seed):
 * {"code","dept","name_zh","name_en","aliases","kind","audience","themes":[],
 *  "events":[],"scope","depth","statutory_days","promised_days","fee_fen",
 *  "fee_basis","trips","legal_basis","conditions","place","hours","consult",
 *  "complain","faq":[{"q","a"}],"materials":[{"name_zh","name_en","required",
 *  "medium","copies","format","source","blank"}]}; a material's "blank" is
 *  "form" when it is the application form itself (blank.c prints it), else "".
 */
#ifndef DG_CATALOG_INTERNAL_H
#define DG_CATALOG_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"

#define CAT_MAX_TOKENS 8  /* query tokens used for a search */
#define CAT_PAGE       20 /* results per page */

/* Search filters; NULL or "" means any. */
struct cat_query {
	const char *q;
	const char *theme;
	const char *event;
	const char *dept;     /* department code */
	const char *audience; /* person | enterprise (both matches either) */
	int64_t page;         /* from 1 */
};

/* synonyms.c: everyday words and the catalogue terms they mean (templates/catalog/synonyms.json) */
#define SYN_MAX_TERMS 8
struct dg_env;
struct dg_arena;
/* Read the list (again); a missing file leaves none, a malformed one is EINVAL. */
dg_rc cat_synonyms_load(const char *templates_dir, struct dg_err *err) DG_MUST;
/* The catalogue terms meant by q's everyday words (owned; [] when none). */
json_t *cat_synonym_terms(struct dg_arena *a, const char *q);
/* Every word and term, for the search box's suggestions (owned). */
json_t *cat_synonym_suggestions(void);

/*
 * The catalogue's version: raised by every write below (publish, amend,
 * retire, drafts, import, the index rebuilt), in the writer's transaction.
 */
dg_rc cat_version(struct dg_db *db, int64_t *out) DG_MUST;
/* Check an item's JSON; EINVAL naming the field in err. */
dg_rc cat_validate(const json_t *item, struct dg_err *err) DG_MUST;
/* Insert a new draft version of item (creating the item when new). */
dg_rc cat_put_draft(struct dg_db *db, const json_t *item, int64_t *item_id,
		    struct dg_err *err) DG_MUST;
/* The draft becomes the version in force; the old one is superseded. */
dg_rc cat_publish(struct dg_db *db, const char *code, struct dg_err *err) DG_MUST;
/* A draft copy of the version in force (ECONFLICT when a draft exists). */
dg_rc cat_amend(struct dg_db *db, const char *code, struct dg_err *err) DG_MUST;
/* Retire: gone from search, the guide says it is retired. */
dg_rc cat_retire(struct dg_db *db, const char *code, struct dg_err *err) DG_MUST;
/*
 * The item in force as JSON (plus "status", "version", "dept_name_zh/en",
 * "dept_id"); ENOTFOUND when no such code or nothing published yet.
 */
dg_rc cat_get(struct dg_db *db, const char *code, json_t **out) DG_MUST;
/* The draft version as item JSON; ENOTFOUND when there is none. */
dg_rc cat_get_draft(struct dg_db *db, const char *code, json_t **out) DG_MUST;
/* Check it, then replace the item's draft (or start one) with it. */
dg_rc cat_save_draft(struct dg_db *db, const json_t *item, struct dg_err *err) DG_MUST;
/* Every version, newest first: {version, state, name_zh, name_en, created_ms, published_ms};
 * ENOTFOUND for no item. */
dg_rc cat_versions(struct dg_db *db, const char *code, json_t **out) DG_MUST;
/* Results {"total", "items":[summary...]} for q, ranked with name hits first. */
dg_rc cat_search(struct dg_db *db, const struct cat_query *q, json_t **out) DG_MUST;
/* Counts of active items per theme, event, department and audience. */
dg_rc cat_facets(struct dg_db *db, json_t **out) DG_MUST;
/* Items of a department (0: all) with code, name_zh/en, status, version, draft. */
dg_rc cat_list_managed(struct dg_db *db, int64_t dept_id, json_t **out) DG_MUST;
/* The owning department of an item; ENOTFOUND when no such code. */
dg_rc cat_dept_of(struct dg_db *db, const char *code, int64_t *dept_id) DG_MUST;
/*
 * blank.c: item's application form (its "form", or the default one) as a
 * blank PDF to fill by hand, with region's name at the top and the address
 * to apply online; ETOOBIG past DG_PDF_MAX_PAGES pages.
 */
dg_rc cat_blank_pdf(const json_t *item, const json_t *form, const char *region,
		    const char *apply_url, struct dg_buf *out) DG_MUST;

/* Every item in force, full JSON, for export. */
dg_rc cat_export(struct dg_db *db, json_t **out) DG_MUST;

/*
 * The search index (the search module's catalog_search, one document a
 * version) written again, with each version's token columns, when it is
 * older than the module's tokenizer or was never built. Run at start.
 */
dg_rc cat_index_rebuild(struct dg_db *db) DG_MUST;

#endif
