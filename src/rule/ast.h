/*
 * ast.h - the rule language's syntax tree, its types, and the diagnostics
 * that every stage reports through.
 *
 * Invariants: every node, name and string lives in the program's arena and
 * dies with it; line and column are 1-based positions in the file named by
 * the node's source, so any error can point at the text with a caret. The
 * checker fills in each expression node's type; the compiler reads only
 * checked trees.
 */
#ifndef DG_RULE_AST_H
#define DG_RULE_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/date.h"

/* One source file kept for carets. */
struct dg_rule_src {
	const char *path;
	const char *text;
	size_t len;
};

/* Diagnostics: errors stop compilation, warnings do not. Capped in count. */
struct dg_rule_diag {
	struct dg_buf out; /* rendered messages, with carets */
	int errors, warnings;
};

void dg_rule_diag_init(struct dg_rule_diag *d);
void dg_rule_diag_release(struct dg_rule_diag *d);
/* Report at src:line:col; kind is "error" or "warning". */
void dg_rule_diag_at(struct dg_rule_diag *d, const struct dg_rule_src *src, int line, int col,
		     bool warning, const char *fmt, ...) DG_PRINTF(6, 7);
/* The closest candidate within a small edit distance, or NULL. */
const char *dg_rule_did_you_mean(const char *name, const char *const *cands, size_t n);

/* Base types. MONEY is fen; DEC is a fixed-point ratio scaled by DG_DEC_ONE. */
enum dg_ty {
	TY_ERR = 0,
	TY_BOOL,
	TY_INT,
	TY_MONEY,
	TY_RAW, /* money from * decimal or / : must go through round() */
	TY_DEC,
	TY_DATE,
	TY_CODE,
	TY_GROUP, /* household.members: only inside an aggregate */
	TY_LINK,  /* a link used alone: only as a path step */
	TY_DUR,   /* 6 months, 30 days: only added to a date or multiplying money */
};
#define DG_DEC_ONE 1000000

struct dg_type {
	enum dg_ty base;
	uint8_t per;  /* money and counts: months the amount covers (0 = none) */
	bool monthly; /* a monthly field not yet put through a window */
};

const char *dg_rule_ty_name(struct dg_type t, char *tmp, size_t n);

enum dg_node_kind {
	N_INT,
	N_DEC,
	N_MONEY,
	N_DATE,
	N_STR,
	N_BOOL,
	N_REF,
	N_SET,
	N_NAME,  /* name: a field, parameter or let */
	N_PATH,  /* a.b: through a link or to a group */
	N_INDEX, /* param[expr] */
	N_AT,    /* monthly at month K */
	N_BIN,
	N_NOT,
	N_NEG,
	N_IF,
	N_BETWEEN,
	N_IN,
	N_WITHIN,
	N_CALL,
	N_WINDOW, /* last N months / months A to B / year Y */
	N_DUR,    /* N days|months|years, or PARAM months: ival count, ival2 unit */
};

/* duration units (N_DUR ival2); years are 12 months */
enum { DUR_DAYS, DUR_MONTHS, DUR_YEARS };

enum dg_binop {
	BOP_ADD,
	BOP_SUB,
	BOP_MUL,
	BOP_DIV,
	BOP_LT,
	BOP_LE,
	BOP_GT,
	BOP_GE,
	BOP_EQ,
	BOP_NE,
	BOP_AND,
	BOP_OR
};

struct dg_node {
	enum dg_node_kind kind;
	int op;
	int line, col;
	const struct dg_rule_src *src;
	struct dg_node *a, *b, *c;
	struct dg_node **args; /* calls and sets */
	int nargs;
	struct dg_node *where; /* aggregates */
	const char *name;
	int64_t ival;  /* literals; window: from month */
	int64_t ival2; /* window: to month */
	/* filled by the checker */
	struct dg_type ty;
	int ent;   /* entity the expression is evaluated over */
	int field; /* resolved field / param / link index, -1 if none */
	int link;  /* N_PATH: link field on the source entity, -1 */
	int agg;   /* aggregate slot, -1 */
	int param; /* param index, -1 */
};

/* A dated value of a parameter, optionally one per region prefix. */
struct dg_param_entry {
	const char *region; /* NULL = default for every region */
	int64_t value;
};
struct dg_param_version {
	dg_day from;
	struct dg_param_entry *e;
	int ne;
};
struct dg_param {
	const char *name;
	struct dg_type ty;
	bool by_region;
	const char *legal;
	struct dg_param_version *v;
	int nv;
	int line, col;
	const struct dg_rule_src *src;
};

struct dg_let {
	const char *name;
	int ent; /* entity it is defined over */
	struct dg_node *e;
	int state;       /* cycle check: 0 new, 1 in progress, 2 done */
	bool reads_link; /* reads a definition through a link (household.x) */
	bool via_link;   /* is read through a link: computed once per record of ent */
	int line, col;
	const struct dg_rule_src *src;
};

enum dg_clause { CL_COND, CL_EXC_COND, CL_EXC_AMOUNT };

/*
 * How the exceptions to one target combine where several apply ("exceptions to
 * TARGET: MODE"): CONFLICT (the default) reports the record for a person to decide;
 * ANY waives a condition when any applies; for the amount FIRST takes the first that
 * applies in the order written, MAX the largest, SUM adds each to the base amount.
 */
enum dg_combine { COMB_CONFLICT = 0, COMB_ANY, COMB_FIRST, COMB_MAX, COMB_SUM };

struct dg_combine_decl {
	const char *target; /* condition id or "amount" */
	enum dg_combine mode;
	int line, col;
};

struct dg_cond {
	enum dg_clause kind;
	const char *id;
	const char *label_zh, *label_en;
	const char *target;      /* exceptions: condition id or "amount" */
	int target_idx;          /* resolved condition index, -1 for amount */
	struct dg_node *e;       /* condition, or exception's "when" */
	struct dg_node *then;    /* amount exceptions */
	enum dg_combine combine; /* conditions: how their exceptions combine */
	int line, col;
};

struct dg_prefill {
	const char *name;
	struct dg_node *e;
};

struct dg_rule {
	const char *id, *name_zh, *name_en, *version, *legal;
	dg_day valid_from, valid_to; /* INT32_MIN / INT32_MAX when open */
	const char *for_ent;
	int ent;
	struct dg_cond *c;
	int nc;
	struct dg_node *amount;
	enum dg_combine amount_combine;
	struct dg_combine_decl *comb; /* as written; the checker sets the modes above */
	int ncomb;
	struct dg_prefill *pf;
	int npf;
	int line, col;
	const struct dg_rule_src *src;
};

struct dg_schema;

/* A parsed set of rule files: params, lets and rules from every file. */
struct dg_program {
	struct dg_arena *arena;
	struct dg_rule_diag diag;
	struct dg_schema *schema; /* owned */
	const char *schema_path;
	struct dg_param *params;
	int nparams, capparams;
	struct dg_let *lets;
	int nlets, caplets;
	struct dg_rule *rules;
	int nrules, caprules;
	struct dg_rule_src *srcs[64];
	int nsrcs;
	/* aggregates found by the checker, each computed once per group */
	struct dg_agg *aggs;
	int naggs, capaggs;
	bool checked;
};

/* One aggregate over a group: count/sum/any/all/min/max of members. */
enum dg_aggop { AGG_COUNT, AGG_SUM, AGG_ANY, AGG_ALL, AGG_MIN, AGG_MAX };
struct dg_agg {
	enum dg_aggop op;
	int group_ent; /* entity owning the group (household) */
	int group;     /* group index in that entity */
	int member_ent;
	struct dg_node *e;     /* value per member (NULL for count/any with where) */
	struct dg_node *where; /* filter, may be NULL */
	struct dg_type ty;     /* result type */
};

#endif
