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
 * indexes. A source of records implements struct dg_rule_reader and hands it
 * to dg_data_load, which makes those calls: the CSV files of a data folder
 * (csv.c) are one such reader, the shared registries (exchange) another. The YAML tests call
 * the functions directly.
 */
#ifndef DG_RULE_DATA_H
#define DG_RULE_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"
#include "rule/ast.h"

#define DG_MAX_ENT    16 /* the registries file declares a dozen departments' registries */
#define DG_MAX_FIELDS 128
#define DG_MAX_MONTHS 240

enum dg_class { DG_CLASS_PUBLIC, DG_CLASS_INTERNAL, DG_CLASS_PERSONAL, DG_CLASS_SENSITIVE };
enum dg_sharing { DG_SHARE_UNCONDITIONAL, DG_SHARE_CONDITIONAL, DG_SHARE_NONE };

/* "public" ... and "unconditional" ..., the words the schema file uses. */
const char *dg_class_name(enum dg_class c);
const char *dg_sharing_name(enum dg_sharing s);

struct dg_field {
	const char *name;
	enum dg_ty ty; /* TY_BOOL INT MONEY DATE CODE, or TY_LINK */
	bool monthly;
	int link_ent; /* links: target entity */
	const char *source;
	/*
	 * Where the value is kept in the shared registries (exchange): the
	 * registry and its field (`from: disability.grade`; by default the
	 * entity's registry and the field's own name). NULL when the entity
	 * names no registry: such a schema is read from CSV only.
	 */
	const char *from_reg, *from_field;
	/*
	 * For registries shared between departments (exchange): who may see the
	 * value (GB/T 35273: public, internal, personal, sensitive; default
	 * internal) and how it is shared (unconditional, conditional, none:
	 * 无条件共享, 有条件共享, 不予共享; default conditional). The rule engine
	 * reads them and ignores them.
	 */
	enum dg_class cls;
	enum dg_sharing sharing;
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
	/* the shared registry (exchange) whose records are this entity's rows,
	   joined by ID with the registries its fields come from; NULL: none */
	const char *registry;
	/* registries (exchange): the owning department's code, what the registry is,
	   how often it changes, the law that allows it; NULL when not written */
	const char *owner, *title, *frequency, *legal_basis;
	enum dg_class id_class; /* the ID's own class (personal: kept as a blind index) */
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
	/* optional: the shared registry that holds the benefit history, each of
	   its fields a benefit whose monthly value is the status, about records
	   of entity benefits_entity (by default the first) */
	const char *benefits_registry;
	int benefits_entity;
};

/* Read a schema file. NULL on error with err set (file:line: message). */
struct dg_schema *dg_schema_load(const char *path, struct dg_err *err);
/* The same from text in memory (len bytes); name is used in messages. */
struct dg_schema *dg_schema_parse(const char *name, const char *text, size_t len,
				  struct dg_err *err);
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

/*
 * A source of registry records: the loader pulls each entity's records, then the
 * benefit history. Values are text in the field's type ("" = unknown), so every
 * source is checked the same way. What the callbacks hand out is borrowed until the
 * next call.
 */
struct dg_rule_cell {
	int field;     /* index in the entity's schema fields */
	int32_t month; /* DG_DATA_MONTH for a monthly field, 0 otherwise */
	const char *s; /* the value as text, not NUL-terminated; n == 0: unknown */
	size_t n;
};

struct dg_rule_record {
	const char *id;
	size_t idn;
	const struct dg_rule_cell *cells; /* fields not given are unknown */
	size_t ncells;
};

struct dg_rule_benefit_row {
	int ent; /* schema entity of the record it belongs to */
	const char *id;
	size_t idn;
	const char *benefit, *status; /* NUL-terminated; status paid|applied|refused|stopped */
	int32_t month;                /* DG_DATA_MONTH */
};

struct dg_rule_reader {
	void *ctx;
	/* Start on entity ent's records. *rows is the expected count (-1 unknown), a
	 * hint to size the columns once. DG_ENOTFOUND: the source has no such registry
	 * (its records stay empty). */
	dg_rc (*open)(void *ctx, int ent, int64_t *rows, struct dg_err *err);
	/* The entity's next record: DG_OK, DG_ENOTFOUND after the last. */
	dg_rc (*next)(void *ctx, struct dg_rule_record *rec, struct dg_err *err);
	/* The next benefit record: DG_OK, DG_ENOTFOUND after the last. May be NULL. */
	dg_rc (*next_benefit)(void *ctx, struct dg_rule_benefit_row *b, struct dg_err *err);
	/* Where the last record came from, for messages ("persons.csv:12"). May be NULL. */
	const char *(*where)(void *ctx, char *buf, size_t n);
};

/* Every record the reader gives, then finish. NULL with err set (where: message). */
struct dg_data *dg_data_load(const struct dg_schema *s, struct dg_intern *codes,
			     const struct dg_rule_reader *rd, struct dg_err *err);

/*
 * Every entity's CSV file and the benefits file from dir, read with the shared
 * streaming reader (core/csv.h: UTF-8 or GB18030, capped fields). The header names
 * the id column and the fields; a monthly field is one column per month
 * (income@2025-06); every non-monthly field needs a column; extra columns are
 * ignored. The benefits file is entity,id,benefit,status,month; it may be absent.
 */
struct dg_data *dg_data_load_csv(const struct dg_schema *s, struct dg_intern *codes,
				 const char *dir, struct dg_err *err);

#endif
