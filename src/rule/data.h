/*
 * data.h - registries in columnar form: the schema that describes them and
 * the loader interface that fills them.
 *
 * A schema names entities (person, household, enterprise, ...), each with an
 * ID column, typed fields, monthly fields, links to other entities and groups
 * (the reverse of a link: household.members is every person whose household
 * link points at it). Data is held per entity as one int64 value array and
 * one known byte array per field, so a missing value is never a zero; monthly
 * fields hold one such column per month. Codes (regions, roles, benefit
 * names) are interned to small integers shared with the compiler.
 *
 * Loading goes through dg_data_add_row / dg_data_set / dg_data_set_month and
 * ends with dg_data_finish, which resolves links and builds group and benefit
 * indexes; CSV (csv.c) and YAML tests (test.c) both feed it, and the store
 * will later do the same.
 */
#ifndef DG_RULE_DATA_H
#define DG_RULE_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "rule/ast.h"

#define DG_MAX_ENT    8
#define DG_MAX_FIELDS 128
#define DG_MAX_MONTHS 240

struct dg_field {
	const char *name;
	enum dg_ty ty; /* TY_BOOL INT MONEY DATE CODE, or TY_LINK */
	bool monthly;
	int link_ent; /* links: target entity */
	const char *source;
};

struct dg_group {
	const char *name;
	int member_ent;
	int link_field; /* field of member_ent that points here */
};

struct dg_entity {
	const char *name;
	const char *file; /* CSV file name relative to the data folder */
	const char *id_col;
	const char *source; /* registry the records come from */
	struct dg_field f[DG_MAX_FIELDS];
	int nf;
	struct dg_group g[16];
	int ng;
};

struct dg_schema {
	struct dg_arena *arena;
	struct dg_entity e[DG_MAX_ENT];
	int ne;
	const char *benefits_file; /* optional: entity,id,benefit,status,month */
};

/* Read a schema file. NULL on error with err set (file:line: message). */
struct dg_schema *dg_schema_load(const char *path, struct dg_err *err);
void dg_schema_free(struct dg_schema *s);
int dg_schema_entity(const struct dg_schema *s, const char *name);
int dg_schema_field(const struct dg_schema *s, int ent, const char *name);
int dg_schema_group(const struct dg_schema *s, int ent, const char *name);

/* Interned strings: dense ids from 0. */
struct dg_intern {
	char **s;
	int n, cap;
	int *slot; /* open addressing: id+1, 0 empty */
	int nslot;
};
void dg_intern_init(struct dg_intern *in);
void dg_intern_release(struct dg_intern *in);
int dg_intern_get(struct dg_intern *in, const char *s, size_t n);        /* adds when absent */
int dg_intern_find(const struct dg_intern *in, const char *s, size_t n); /* -1 absent */

struct dg_col {
	int64_t *v;
	uint8_t *k;
};

enum { BEN_PAID = 1, BEN_APPLIED = 2, BEN_REFUSED = 3, BEN_STOPPED = 4 };
struct dg_benefit_rec {
	int32_t benefit; /* interned */
	int32_t month;   /* year*12 + month-1 */
	int32_t status;
};

struct dg_table {
	int64_t n, cap;
	/* ids: one buffer of NUL-terminated strings and an offset per row */
	char *idbuf;
	size_t idlen, idcap;
	int64_t *idoff;
	int32_t *hash; /* open addressing: row+1, 0 empty (rows < 2^31 - 1) */
	int64_t nhash;
	struct dg_col col[DG_MAX_FIELDS];   /* non-monthly fields and links */
	struct dg_col *mcol[DG_MAX_FIELDS]; /* monthly: DG_MAX_MONTHS columns, NULL = none */
	int32_t m0;                         /* absolute month of mcol[f][0] */
	/* links before finish: target ids as text */
	struct dg_buf pend[DG_MAX_FIELDS];
	/* groups after finish: CSR of member rows */
	int64_t *goff[16];
	int64_t *grow[16];
	/* benefit history after finish: CSR */
	int64_t *boff;
	struct dg_benefit_rec *brec;
	int64_t nbrec, capbrec;
	int64_t *bowner;  /* before finish: owner row per record */
	int64_t dangling; /* link targets not found */
};

struct dg_data {
	const struct dg_schema *schema;
	struct dg_intern *codes; /* borrowed */
	struct dg_table t[DG_MAX_ENT];
	bool finished;
};

#define DG_DATA_MONTH(y, m) ((int32_t)(y)*12 + (m)-1)

struct dg_data *dg_data_new(const struct dg_schema *s, struct dg_intern *codes);
void dg_data_free(struct dg_data *d);

/* Add a record; ECONFLICT if the id is already present. */
dg_rc dg_data_add_row(struct dg_data *d, int ent, const char *id, size_t idn, int64_t *row,
                      struct dg_err *err) DG_MUST;
/* Make room for rows more records with id_bytes of ids in all (a hint: loaders that
 * know their size avoid growing by doubling, which would cost memory). */
void dg_data_reserve(struct dg_data *d, int ent, int64_t rows, size_t id_bytes);
int64_t dg_data_find(const struct dg_data *d, int ent, const char *id, size_t n); /* -1 */
const char *dg_data_id(const struct dg_data *d, int ent, int64_t row);
/* Parse text as the field's type ("" = unknown). EINVAL with a message on bad text. */
dg_rc dg_data_set(struct dg_data *d, int ent, int64_t row, int field, const char *text, size_t n,
                  struct dg_err *err) DG_MUST;
dg_rc dg_data_set_month(struct dg_data *d, int ent, int64_t row, int field, int32_t month,
                        const char *text, size_t n, struct dg_err *err) DG_MUST;
dg_rc dg_data_add_benefit(struct dg_data *d, int ent, int64_t row, const char *benefit,
                          const char *status, int32_t month, struct dg_err *err) DG_MUST;
/* Resolve links, build groups and benefit indexes. After this, no more rows. */
dg_rc dg_data_finish(struct dg_data *d, struct dg_err *err) DG_MUST;

/* Parse a typed literal: money "12.34" -> 1234 fen, dates, bools, ints. */
dg_rc dg_data_parse_value(enum dg_ty ty, const char *s, size_t n, struct dg_intern *codes,
                          int64_t *out) DG_MUST;
/* "YYYY-MM" -> absolute month */
dg_rc dg_data_parse_month(const char *s, size_t n, int32_t *out) DG_MUST;

/* Load every entity's CSV file and the benefits file from dir. */
struct dg_data *dg_data_load_csv(const struct dg_schema *s, struct dg_intern *codes,
                                 const char *dir, struct dg_err *err);

#endif
