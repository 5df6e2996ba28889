/*
 * code.h - compiled rules: the opcode list, instructions, kernels and what
 * explanations need.
 *
 * Invariants: a compiled dg_code is bound to one reference date and one
 * parameter overlay (what-if compiles again with the overlay); parameter
 * values are immediates. A kernel is evaluated over one entity in blocks;
 * the rules of one entity share one kernel, each rule a contiguous segment,
 * so a block is loaded once and every rule runs over it while it is in
 * cache. Registers are block-sized vectors of int64 values with a known
 * byte each; a register may alias a column instead of holding a copy.
 */
#ifndef DG_RULE_CODE_H
#define DG_RULE_CODE_H

#include <stdbool.h>
#include <stdint.h>

#include "rule/ast.h"
#include "rule/data.h"

/* X(name, operands shown by dump) */
#define DG_OPCODES(X)                                                                              \
	X(COL, "d field")         /* alias a column of the block's entity */                       \
	X(MCOL, "d field month")  /* alias one month of a monthly column */                        \
	X(TCOL, "d temp")         /* alias a computed column (aggregate) */                        \
	X(GATHER, "d link field") /* value of the linked record's field */                         \
	X(TGATHER, "d link temp") /* value of the linked record's aggregate */                     \
	X(KI, "d imm")            /* constant, known */                                            \
	X(KU, "d")                /* unknown */                                                    \
	X(ADD, "d a b")                                                                            \
	X(SUB, "d a b")                                                                            \
	X(MUL, "d a b")                                                                            \
	X(NEG, "d a")                                                                              \
	X(ABS, "d a")                                                                              \
	X(MIN, "d a b")                                                                            \
	X(MAX, "d a b")                                                                            \
	X(TODEC, "d a")            /* int -> decimal */                                            \
	X(MULDEC, "d a b")         /* decimal product */                                           \
	X(DIVDEC, "d a b")         /* ratio as decimal; /0 unknown */                              \
	X(DIVDI, "d a b")          /* decimal / int */                                             \
	X(MULR, "d a b unit mode") /* money * decimal, rounded */                                  \
	X(DIVR, "d a b unit mode") /* money / int, rounded */                                      \
	X(ROUNDM, "d a unit mode") /* money to a unit */                                           \
	X(LT, "d a b")                                                                             \
	X(LE, "d a b")                                                                             \
	X(GT, "d a b")                                                                             \
	X(GE, "d a b")                                                                             \
	X(EQ, "d a b")                                                                             \
	X(NE, "d a b")                                                                             \
	X(AND, "d a b")                                                                            \
	X(OR, "d a b")                                                                             \
	X(NOT, "d a")                                                                              \
	X(KNOWN, "d a")                                                                            \
	X(ISTRUE, "d a") /* known and true, always known */                                        \
	X(IF, "d a b c")                                                                           \
	X(LOOKUP, "d a table")  /* code -> value (in, within, region parameter) */                 \
	X(AGE, "d a")           /* completed years at @ref */                                      \
	X(AGEGE, "d a cut")     /* born on or before cut (age >= K); unknown after @ref */         \
	X(AGELT, "d a cut")     /* born after cut (age < K); unknown after @ref */                 \
	X(ADDMON, "d a months") /* a date moved by months; a day the month lacks: the 1st after */ \
	X(DATEPART, "d a part") /* year, month, day or end of month of a date */                   \
	X(DATEOF, "d a b c")    /* the date of year a, month b, day c; unknown if none */          \
	X(COALESCE, "d a b")    /* a when known, else b */                                         \
	X(DAYSB, "d a b")                                                                          \
	X(MONTHSB, "d a b")                                                                        \
	X(WSUM, "d field from n")    /* sum over months; any missing month: unknown */             \
	X(WCOUNT, "d field from n")  /* months with a non-zero value */                            \
	X(CONTM, "d field last cap") /* consecutive months ending at last, up to cap */            \
	X(BEN, "d benefit from to status")                                                         \
	X(RBEGIN, "rule")                                                                          \
	X(COND, "acc a cond") /* record fail/unknown bits, acc = acc and a */                      \
	X(CONFL, "d a")       /* conflict when a >= 2 */                                           \
	X(REND, "rule acc conflict amount")                                                        \
	X(STORE, "a temp")

enum dg_opcode {
#define X(n, s) OP_##n,
	DG_OPCODES(X)
#undef X
		OP__COUNT
};

#define DG_F_IMM    1 /* operand b is the immediate */
#define DG_F_CAPREG 2 /* CONTM: the cap is register b plus c, per record */

struct dg_ins {
	uint8_t op, flags;
	uint16_t d, a, b, c;
	int32_t aux;
	int64_t imm;
};

#define DG_NREG       64
#define DG_REG_ACC    0
#define DG_REG_CONFL  1
#define DG_REG_AMOUNT 2
#define DG_REG_FIRST  3
#define DG_NOREG      0xFFFF

/* A leaf value shown in an explanation. */
struct dg_leaf {
	int ins;          /* instruction whose result is the value */
	const char *name; /* "birth_date", "household.region", "dibao_line[...]" */
	int ent;          /* entity whose record holds it, -1 for parameters */
	int link_ins;     /* instruction giving the linked row, -1 = own record */
	struct dg_type ty;
	const char *source;
	int64_t value; /* parameters: the value read at @ref */
	int dflt_ins;  /* coalesce(): the instruction giving the value or its default, -1 */
};

struct dg_ccode {
	int global;           /* index into the run's condition bitsets */
	int from, to;         /* instruction range of the condition */
	int result_ins;       /* instruction giving the condition's value */
	int lhs_ins, rhs_ins; /* top comparison, for the gap; -1 when none */
	int64_t rhs_imm;
	int cmp; /* OP_LT.. or -1 */
	struct dg_type cmp_ty;
	struct dg_leaf *leaves;
	int nleaves;
	struct dg_leaf *params; /* parameters used (ins = -1) */
	int nparams;
};

struct dg_rcode {
	int rule; /* index in the program */
	int ent;
	bool in_force;       /* valid at the reference date */
	int from, to;        /* segment in the entity's kernel */
	int ncond;           /* conditions (not exceptions) */
	struct dg_ccode *cc; /* per clause of the rule, same order as rule->c */
	int cond0;           /* first global condition index */
	bool has_conflict;   /* two exceptions share a target */
	bool has_amount;
	int amount_ins;
	uint64_t *param_deps; /* bitset over program params */
	bool uses_aggs;
};

struct dg_kernel {
	int ent;
	struct dg_ins *ins;
	const char **note; /* per instruction: source name for dump, or NULL */
	int n, cap;
};

struct dg_table_lut {
	int64_t *v;
	uint8_t *k;
	int n;
};

struct dg_temp {
	int ent;
	struct dg_type ty;
};

struct dg_aggcode {
	int agg;
	int where_temp, val_temp, out_temp; /* -1 when absent */
	int from, to;                       /* segment in the member entity's kernel */
	uint64_t *deps;                     /* parameters its inputs read */
};

/* A definition read through a link: computed once per record of its entity. */
struct dg_letcode {
	int temp;       /* -1: not read through a link */
	int from, to;   /* segment in the entity's definitions kernel */
	uint64_t *deps; /* parameters it reads */
};

struct dg_code {
	struct dg_arena *arena;
	const struct dg_program *prog;
	const struct dg_intern *codes; /* the data's, read only */
	int ncodes;                    /* codes->n when compiled: the data must not grow after */
	struct dg_intern extra;        /* code constants the data lacks: id ncodes + i */
	dg_day ref;
	int32_t ref_month;
	int32_t age_cut[152];                /* latest birth date reaching age a at ref */
	struct dg_kernel member[DG_MAX_ENT]; /* aggregate inputs, per member entity */
	struct dg_kernel rules[DG_MAX_ENT];
	struct dg_kernel lets[DG_MAX_ENT]; /* definitions read through links, per entity */
	struct dg_aggcode *aggs;
	int naggs;
	struct dg_letcode *letc; /* per program definition */
	struct dg_rcode *rc;     /* per program rule */
	int nrules;
	int nconds; /* global condition count */
	struct dg_table_lut *luts;
	int nluts, capluts;
	struct dg_temp *temps;
	int ntemps, captemps;
};

/* An override of one parameter (what-if): region NULL = every region. */
struct dg_override {
	int param;
	const char *region;
	int64_t value;
};

/*
 * Compile a checked program (no errors) for reference date ref with optional
 * overrides. Messages (a parameter with no value at ref) go to diag. NULL on
 * error. codes is the data's code table: compile after the data is loaded; it is
 * only read, so several threads may compile against one data set at once. It must
 * outlive the code.
 */
struct dg_code *dg_rule_compile(const struct dg_program *p, const struct dg_intern *codes,
				dg_day ref, const struct dg_override *ov, int nov,
				struct dg_rule_diag *diag);
/* The text of a code id in compiled code (the data's, or a constant the data lacks). */
const char *dg_code_str(const struct dg_code *c, int64_t id);
void dg_code_free(struct dg_code *c);
/* Human-readable bytecode for every kernel (dgov rule dump). */
dg_rc dg_rule_dump(const struct dg_code *c, struct dg_buf *out) DG_MUST;
/* Value of a parameter at ref (after overrides) for display; false if none. */
bool dg_rule_param_value(const struct dg_program *p, int param, const char *region, dg_day ref,
			 const struct dg_override *ov, int nov, int64_t *out);

#endif
