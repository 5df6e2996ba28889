/*
 * vm.c - the block interpreter and the batch engine around it.
 *
 * Each instruction works on a whole block: a tight loop over up to
 * DG_VM_BLOCK values and their known bytes, which the compiler vectorises.
 * Three-valued logic is carried by the known byte: AND is false as soon as
 * one side is known false, OR true as soon as one side is known true, and
 * everything else is unknown when an input is unknown. Arithmetic that
 * overflows 64 bits gives unknown, never a wrapped value: sums and
 * differences test the sign bits (so the loops still vectorise), products
 * and decimal operations go through 128 bits.
 *
 * exec() is the dispatch switch; it is long on purpose (one case per opcode,
 * each a loop) so the whole interpreter reads in one place.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

#include "rule/engine.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/mem.h"

#define BLK DG_VM_BLOCK

const char *dg_outcome_name(enum dg_outcome o)
{
	static const char *const n[] = {"ELIGIBLE", "NOT_ELIGIBLE", "UNKNOWN", "CONFLICT",
					"NOT_IN_FORCE"};
	return n[o];
}

struct vm {
	const struct dg_code *code;
	const struct dg_data *data;
	struct dg_result *res;
	const struct dg_col *temps;
	int64_t *rv[DG_NREG];
	uint8_t *rk[DG_NREG];
	int64_t *ov[DG_NREG];
	uint8_t *ok[DG_NREG];
	int64_t *zv;
	uint8_t *zk;
	uint8_t *accv, *acck, *confl; /* the rule being evaluated: running and, conflict */
	uint8_t *fl;                  /* scratch for bit packing, 3 * BLK */
	__int128 *amount_total;       /* exact: a total past 64 bits is reported, never wrapped */
	int64_t *amount_unknown, *cond_unknown;
	struct dg_trace *tr; /* one-record mode */
	int tr_from;
};

static void vm_init(struct vm *m, const struct dg_code *code, const struct dg_data *data,
		    struct dg_result *res, const struct dg_col *temps)
{
	memset(m, 0, sizeof(*m));
	m->code = code;
	m->data = data;
	m->res = res;
	m->temps = temps;
	for (int i = 0; i < DG_NREG; i++) {
		m->ov[i] = dg_xcalloc(BLK, sizeof(int64_t));
		m->ok[i] = dg_xcalloc(BLK, 1);
		m->rv[i] = m->ov[i];
		m->rk[i] = m->ok[i];
	}
	m->zv = dg_xcalloc(BLK, sizeof(int64_t));
	m->zk = dg_xcalloc(BLK, 1);
	m->accv = dg_xcalloc(BLK, 1);
	m->acck = dg_xcalloc(BLK, 1);
	m->confl = dg_xcalloc(BLK, 1);
	m->fl = dg_xcalloc(3 * BLK, 1);
	m->amount_total = dg_xcalloc((size_t)code->nrules + 1, sizeof(__int128));
	m->amount_unknown = dg_xcalloc((size_t)code->nrules + 1, sizeof(int64_t));
	m->cond_unknown = dg_xcalloc((size_t)code->nconds + 1, sizeof(int64_t));
}

static void vm_release(struct vm *m)
{
	for (int i = 0; i < DG_NREG; i++) {
		free(m->ov[i]);
		free(m->ok[i]);
	}
	free(m->zv);
	free(m->zk);
	free(m->accv);
	free(m->acck);
	free(m->confl);
	free(m->fl);
	free(m->amount_total);
	free(m->amount_unknown);
	free(m->cond_unknown);
}

/* Pack n (0/1) bytes into the bitset at base. Whole words when aligned. */
static void put_bits(uint64_t *bs, int64_t base, int n, const uint8_t *x)
{
	if ((base & 63) == 0 && (n & 7) == 0) {
		uint8_t *out = (uint8_t *)bs + (base >> 3);
		for (int j = 0; j < n; j += 8) {
			uint64_t w;
			memcpy(&w, x + j, 8);
			/* eight 0/1 bytes to eight bits (little-endian byte order) */
			out[j >> 3] = (uint8_t)((w * 0x0102040810204080ull) >> 56);
		}
		return;
	}
	for (int i = 0; i < n; i++) {
		int64_t r = base + i;
		uint64_t bit = (uint64_t)1 << (r & 63);
		if (x[i])
			bs[r >> 6] |= bit;
		else
			bs[r >> 6] &= ~bit;
	}
}

/* Wrapping arithmetic through unsigned (defined behaviour); the callers test for overflow. */
#define ADDW(a, b) ((int64_t)((uint64_t)(a) + (uint64_t)(b)))
#define SUBW(a, b) ((int64_t)((uint64_t)(a) - (uint64_t)(b)))
/* r = a + b overflowed when a and b have one sign and r the other; a - b when a and b
 * differ in sign and r differs from a. */
#define ADD_OVF(a, b, r) ((((a) ^ (r)) & ((b) ^ (r))) < 0)
#define SUB_OVF(a, b, r) ((((a) ^ (b)) & ((a) ^ (r))) < 0)

/* round num/den (den > 0) to a multiple of unit with a mode: 0 half_up 1 down 2 up 3 half_even */
static bool round_div(__int128 num, __int128 den, int64_t unit, int mode, int64_t *out)
{
	den *= unit;
	if (den == 0)
		return false;
	if (den < 0) {
		den = -den;
		num = -num;
	}
	__int128 q = num / den, r = num % den;
	if (r < 0) { /* floor */
		q -= 1;
		r += den;
	}
	switch (mode) {
	case 0: /* half away from zero */
		if (num >= 0 ? 2 * r >= den : 2 * r > den)
			q += 1;
		break;
	case 1: /* toward zero */
		if (num < 0 && r != 0)
			q += 1;
		break;
	case 2: /* away from zero */
		if (num > 0 && r != 0)
			q += 1;
		break;
	default: /* half to even */
		if (2 * r > den || (2 * r == den && (q & 1)))
			q += 1;
	}
	q *= unit;
	if (q > INT64_MAX || q < INT64_MIN)
		return false;
	*out = (int64_t)q;
	return true;
}

static const int64_t unit_fen[] = {1, 10, 100};

static int months_between(int64_t a, int64_t b)
{
	int y1, m1, d1, y2, m2, d2;
	dg_day_to_ymd((dg_day)a, &y1, &m1, &d1);
	dg_day_to_ymd((dg_day)b, &y2, &m2, &d2);
	int mo = (y2 - y1) * 12 + (m2 - m1);
	if (mo > 0 && d2 < d1)
		mo--;
	else if (mo < 0 && d2 > d1)
		mo++;
	return mo;
}

static const struct dg_col *month_col(const struct dg_table *t, int field, int64_t month)
{
	if (!t->mcol[field] || t->m0 == 0)
		return NULL;
	int64_t m = month - t->m0;
	if (m < 0 || m >= DG_MAX_MONTHS || !t->mcol[field][m].v)
		return NULL;
	return &t->mcol[field][m];
}

/* Completed years from b to ref for the very old (the cut-off table stops at 151):
 * a birthday on 29 February falls on 1 March in a common year. */
static int64_t old_age(int64_t b, int64_t ref)
{
	int by, bm, bd, ry, rm, rd;
	dg_day_to_ymd((dg_day)b, &by, &bm, &bd);
	dg_day_to_ymd((dg_day)ref, &ry, &rm, &rd);
	int64_t age = ry - by;
	if (bm == 2 && bd == 29 && !dg_ymd_valid(ry, 2, 29))
		bm = 3, bd = 1;
	if (rm < bm || (rm == bm && rd < bd))
		age--;
	return age;
}

static int month_days(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && dg_ymd_valid(y, 2, 29) ? 29 : days[m - 1];
}

static bool day_ok(int64_t d);

/*
 * The same day k months later (or earlier); a day the month lacks becomes the first
 * of the next month (31 January + 1 month = 1 March, 29 February + 1 year = 1 March),
 * as age() treats a 29 February birthday. False out of range.
 */
static bool add_months(int64_t day, int64_t k, int64_t *out)
{
	int y, m, d;
	if (!day_ok(day) || k > 120000 || k < -120000)
		return false;
	dg_day_to_ymd((dg_day)day, &y, &m, &d);
	int64_t t = (int64_t)y * 12 + (m - 1) + k;
	int64_t ny = t >= 0 ? t / 12 : -((-t + 11) / 12);
	int nm = (int)(t - ny * 12) + 1;
	if (ny < 1 || ny > 9999)
		return false;
	if (d > month_days((int)ny, nm))
		*out = (int64_t)dg_day_from_ymd((int)ny, nm, month_days((int)ny, nm)) + 1;
	else
		*out = dg_day_from_ymd((int)ny, nm, d);
	return day_ok(*out);
}

/* safe date range for day arithmetic on hostile values */
static bool day_ok(int64_t d)
{
	return d > -3000000 && d < 3000000;
}

/*
 * Built twice where the compiler can (AVX2 and the baseline), picked at load
 * time: 64-bit compares only vectorise well with AVX2, and the baseline
 * x86-64 the build targets has none.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__)
#define DG_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DG_CLONES
#endif

DG_CLONES
static void exec(struct vm *m, const struct dg_kernel *k, int from, int to, int64_t base, int n)
{
	const struct dg_table *t = &m->data->t[k->ent];
	for (int pc = from; pc < to; pc++) {
		const struct dg_ins *in = &k->ins[pc];
		int64_t *dv = m->ov[in->d];
		uint8_t *dk = m->ok[in->d];
		const int64_t *av = m->rv[in->a], *bv = m->rv[in->b];
		const uint8_t *ak = m->rk[in->a], *bk = m->rk[in->b];
		/* one-operand ops go through the immediate path: operand b is not read */
		const bool imm =
			(in->flags & DG_F_IMM) || in->op == OP_TODEC || in->op == OP_ROUNDM;
		const int64_t K = in->imm;
		int64_t link0 = 0;
		if (m->tr)
			link0 = ak[0] ? av[0] : -1;
#define BIN(EXPR)                                                                                  \
	do {                                                                                       \
		if (imm) {                                                                         \
			for (int i = 0; i < n; i++) {                                              \
				const int64_t a = av[i], b = K;                                    \
				dv[i] = (EXPR);                                                    \
			}                                                                          \
			if (dk != ak)                                                              \
				memcpy(dk, ak, (size_t)n);                                         \
		} else {                                                                           \
			for (int i = 0; i < n; i++) {                                              \
				const int64_t a = av[i], b = bv[i];                                \
				dv[i] = (EXPR);                                                    \
				dk[i] = ak[i] & bk[i];                                             \
			}                                                                          \
		}                                                                                  \
		m->rv[in->d] = dv;                                                                 \
		m->rk[in->d] = dk;                                                                 \
	} while (0)
/* like BIN, but the value is unknown where OVF (over a, b and r) holds */
#define CBIN(VEXPR, OVF)                                                                           \
	do {                                                                                       \
		for (int i = 0; i < n; i++) {                                                      \
			const int64_t a = av[i], b = imm ? K : bv[i];                              \
			const int64_t r = (VEXPR);                                                 \
			dv[i] = r;                                                                 \
			dk[i] = ak[i] & (imm ? 1 : bk[i]) & !(OVF);                                \
		}                                                                                  \
		m->rv[in->d] = dv;                                                                 \
		m->rk[in->d] = dk;                                                                 \
	} while (0)
#define SLOWBIN(BODY)                                                                              \
	do {                                                                                       \
		for (int i = 0; i < n; i++) {                                                      \
			const int64_t a = av[i], b = imm ? K : bv[i];                              \
			uint8_t kn = ak[i] & (imm ? 1 : bk[i]);                                    \
			int64_t r = 0;                                                             \
			BODY;                                                                      \
			dv[i] = r;                                                                 \
			dk[i] = kn;                                                                \
		}                                                                                  \
		m->rv[in->d] = dv;                                                                 \
		m->rk[in->d] = dk;                                                                 \
	} while (0)
#define UN(VEXPR, KEXPR)                                                                           \
	do {                                                                                       \
		for (int i = 0; i < n; i++) {                                                      \
			const int64_t a = av[i];                                                   \
			const uint8_t ka = ak[i];                                                  \
			(void)a;                                                                   \
			(void)ka;                                                                  \
			dv[i] = (VEXPR);                                                           \
			dk[i] = (KEXPR);                                                           \
		}                                                                                  \
		m->rv[in->d] = dv;                                                                 \
		m->rk[in->d] = dk;                                                                 \
	} while (0)
		switch (in->op) {
		case OP_COL:
			m->rv[in->d] = t->col[in->aux].v + base;
			m->rk[in->d] = t->col[in->aux].k + base;
			break;
		case OP_MCOL: {
			const struct dg_col *c = month_col(t, in->aux, K);
			m->rv[in->d] = c ? c->v + base : m->zv;
			m->rk[in->d] = c ? c->k + base : m->zk;
			break;
		}
		case OP_TCOL:
			m->rv[in->d] = m->temps[in->aux].v + base;
			m->rk[in->d] = m->temps[in->aux].k + base;
			break;
		case OP_GATHER:
		case OP_TGATHER: {
			const struct dg_col *c = in->op == OP_GATHER
							 ? &m->data->t[in->c].col[in->aux]
							 : &m->temps[in->aux];
			for (int i = 0; i < n; i++) {
				int64_t l = av[i];
				if (ak[i] && l >= 0) {
					dv[i] = c->v[l];
					dk[i] = c->k[l];
				} else {
					dv[i] = 0;
					dk[i] = 0;
				}
			}
			m->rv[in->d] = dv;
			m->rk[in->d] = dk;
			break;
		}
		case OP_KI:
		case OP_KU:
			for (int i = 0; i < n; i++) {
				dv[i] = K;
				dk[i] = in->op == OP_KI;
			}
			m->rv[in->d] = dv;
			m->rk[in->d] = dk;
			break;
		case OP_ADD: CBIN(ADDW(a, b), ADD_OVF(a, b, r)); break;
		case OP_SUB: CBIN(SUBW(a, b), SUB_OVF(a, b, r)); break;
		case OP_MUL:
			SLOWBIN({
				if (__builtin_mul_overflow(a, b, &r))
					kn = 0;
			});
			break;
		case OP_MIN: BIN(a < b ? a : b); break;
		case OP_MAX: BIN(a > b ? a : b); break;
		case OP_LT: BIN(a < b); break;
		case OP_LE: BIN(a <= b); break;
		case OP_GT: BIN(a > b); break;
		case OP_GE: BIN(a >= b); break;
		case OP_EQ: BIN(a == b); break;
		case OP_NE: BIN(a != b); break;
		case OP_NEG: UN(SUBW(0, a), ka & (a != INT64_MIN)); break;
		case OP_ABS: UN(a < 0 ? SUBW(0, a) : a, ka & (a != INT64_MIN)); break;
		case OP_NOT: UN(a ^ 1, ka); break;
		case OP_KNOWN: UN(ka, 1); break;
		case OP_ISTRUE: UN(ka & a, 1); break;
		case OP_TODEC:
			SLOWBIN({
				__int128 x = (__int128)a * DG_DEC_ONE;
				(void)b;
				if (x > INT64_MAX || x < INT64_MIN)
					kn = 0;
				else
					r = (int64_t)x;
			});
			break;
		case OP_AND:
		case OP_OR: {
			/* Kleene: known when both sides are, or when one side alone decides
			 * (false for and, true for or). b may be the immediate (a constant or
			 * a bool parameter on the right). */
			const int64_t dec = in->op == OP_OR;
			for (int i = 0; i < n; i++) {
				int64_t a = av[i], b = imm ? K : bv[i];
				uint8_t kb = imm ? 1 : bk[i];
				dv[i] = dec ? a | b : a & b;
				dk[i] = (ak[i] & kb) | (ak[i] & (a == dec)) | (kb & (b == dec));
			}
			m->rv[in->d] = dv;
			m->rk[in->d] = dk;
			break;
		}
		case OP_MULDEC:
			SLOWBIN({
				__int128 x = (__int128)a * b / DG_DEC_ONE;
				if (x > INT64_MAX || x < INT64_MIN)
					kn = 0;
				else
					r = (int64_t)x;
			});
			break;
		case OP_DIVDEC:
			SLOWBIN({
				if (b == 0) {
					kn = 0;
				} else {
					__int128 x = (__int128)a * DG_DEC_ONE / b;
					if (x > INT64_MAX || x < INT64_MIN)
						kn = 0;
					else
						r = (int64_t)x;
				}
			});
			break;
		case OP_DIVDI:
			SLOWBIN({
				if (b == 0)
					kn = 0;
				else if (b == -1 && a == INT64_MIN)
					kn = 0;
				else
					r = a / b;
			});
			break;
		case OP_MULR:
			SLOWBIN({
				if (!round_div((__int128)a * b, DG_DEC_ONE, unit_fen[in->aux],
					       in->c, &r))
					kn = 0;
			});
			break;
		case OP_DIVR:
			SLOWBIN({
				if (b == 0 || !round_div(a, b, unit_fen[in->aux], in->c, &r))
					kn = 0;
			});
			break;
		case OP_ROUNDM:
			SLOWBIN({
				(void)b;
				if (!round_div(a, 1, unit_fen[in->aux], in->c, &r))
					kn = 0;
			});
			break;
		case OP_IF: {
			const int64_t *cv = m->rv[in->c];
			const uint8_t *ck = m->rk[in->c];
			for (int i = 0; i < n; i++) {
				int64_t a = av[i];
				dv[i] = a ? bv[i] : cv[i];
				dk[i] = ak[i] & (a ? bk[i] : ck[i]);
			}
			m->rv[in->d] = dv;
			m->rk[in->d] = dk;
			break;
		}
		case OP_LOOKUP: {
			const struct dg_table_lut *l = &m->code->luts[in->aux];
			for (int i = 0; i < n; i++) {
				int64_t id = av[i];
				if (ak[i] && id >= 0 && id < l->n) {
					dv[i] = l->v[id];
					dk[i] = l->k[id];
				} else {
					dv[i] = 0;
					dk[i] = 0;
				}
			}
			m->rv[in->d] = dv;
			m->rk[in->d] = dk;
			break;
		}
		case OP_AGE: {
			const int32_t *cut = m->code->age_cut;
			for (int i = 0; i < n; i++) {
				int64_t b = av[i];
				if (!ak[i] || b > cut[0] || !day_ok(b)) {
					dv[i] = 0;
					dk[i] = 0;
					continue;
				}
				int64_t age;
				if (b <= cut[151]) { /* past the table: from the calendar */
					age = old_age(b, cut[0]);
				} else {
					age = (cut[0] - b) / 366;
					while (b <= cut[age + 1])
						age++;
				}
				dv[i] = age;
				dk[i] = 1;
			}
			m->rv[in->d] = dv;
			m->rk[in->d] = dk;
			break;
		}
		case OP_AGEGE:
		case OP_AGELT: {
			/* age(x) >= K as one date compare; a birth date after @ref (aux) has no
			 * age, as in OP_AGE */
			const int64_t R = in->aux;
			const bool ge = in->op == OP_AGEGE;
			for (int i = 0; i < n; i++) {
				int64_t a = av[i];
				dv[i] = ge ? a <= K : a > K;
				dk[i] = ak[i] & (a <= R);
			}
			m->rv[in->d] = dv;
			m->rk[in->d] = dk;
			break;
		}
		case OP_ADDMON:
			for (int i = 0; i < n; i++) {
				int64_t r = 0;
				dk[i] = ak[i] && add_months(av[i], K, &r);
				dv[i] = r;
			}
			m->rv[in->d] = dv;
			m->rk[in->d] = dk;
			break;
		case OP_DATEPART:
			for (int i = 0; i < n; i++) {
				int y, mo, d;
				int64_t a = av[i];
				dk[i] = ak[i] && day_ok(a);
				dv[i] = 0;
				if (!dk[i])
					continue;
				dg_day_to_ymd((dg_day)a, &y, &mo, &d);
				dv[i] = in->aux == 0   ? y
					: in->aux == 1 ? mo
					: in->aux == 2 ? d
						       : dg_day_from_ymd(y, mo, month_days(y, mo));
			}
			m->rv[in->d] = dv;
			m->rk[in->d] = dk;
			break;
		case OP_DATEOF: {
			const int64_t *cv = m->rv[in->c];
			const uint8_t *ck = m->rk[in->c];
			for (int i = 0; i < n; i++) {
				int64_t y = av[i], mo = bv[i], d = cv[i];
				dk[i] = ak[i] && bk[i] && ck[i] && y >= 1 && y <= 9999 && mo >= 1 &&
					mo <= 12 && d >= 1 && d <= month_days((int)y, (int)mo);
				dv[i] = dk[i] ? dg_day_from_ymd((int)y, (int)mo, (int)d) : 0;
			}
			m->rv[in->d] = dv;
			m->rk[in->d] = dk;
			break;
		}
		case OP_COALESCE:
			for (int i = 0; i < n; i++) {
				int64_t b = imm ? K : bv[i];
				uint8_t kb = imm ? 1 : bk[i];
				dv[i] = ak[i] ? av[i] : b;
				dk[i] = ak[i] | kb;
			}
			m->rv[in->d] = dv;
			m->rk[in->d] = dk;
			break;
		case OP_DAYSB: CBIN(SUBW(b, a), SUB_OVF(b, a, r)); break;
		case OP_MONTHSB:
			SLOWBIN({
				if (!day_ok(a) || !day_ok(b))
					kn = 0;
				else
					r = months_between(a, b);
			});
			break;
		case OP_WSUM:
		case OP_WCOUNT: {
			/* a sum is exact: a record whose running sum overflowed is summed again
			 * in 128 bits and is unknown only when the total does not fit */
			uint8_t *ovf = m->fl, anyovf = 0;
			bool whole = true;
			memset(dv, 0, sizeof(int64_t) * (size_t)n);
			memset(dk, 1, (size_t)n);
			memset(ovf, 0, (size_t)n);
			for (int j = 0; j < in->c; j++) {
				const struct dg_col *c = month_col(t, in->aux, K + j);
				if (!c) {
					memset(dk, 0, (size_t)n);
					whole = false;
					break;
				}
				const int64_t *cv = c->v + base;
				const uint8_t *ck = c->k + base;
				if (in->op == OP_WSUM)
					for (int i = 0; i < n; i++) {
						int64_t x = dv[i], y = cv[i], r = ADDW(x, y);
						dv[i] = r;
						ovf[i] |= ADD_OVF(x, y, r);
						dk[i] &= ck[i];
					}
				else
					for (int i = 0; i < n; i++) {
						dv[i] += cv[i] != 0;
						dk[i] &= ck[i];
					}
			}
			for (int i = 0; i < n && whole; i++)
				anyovf |= ovf[i];
			for (int i = 0; i < n && anyovf; i++) {
				if (!ovf[i] || !dk[i])
					continue;
				__int128 sum = 0;
				for (int j = 0; j < in->c; j++)
					sum += month_col(t, in->aux, K + j)->v[base + i];
				dk[i] = sum <= INT64_MAX && sum >= INT64_MIN;
				dv[i] = dk[i] ? (int64_t)sum : 0;
			}
			m->rv[in->d] = dv;
			m->rk[in->d] = dk;
			break;
		}
		case OP_CONTM:
			/* Back from month K while months are paid, up to cap months: the count is
			 * known when the run ends at a month known to be unpaid or fills the cap
			 * (enough to decide the comparison it feeds); a month with no data or an
			 * empty cell first makes it unknown. */
			for (int i = 0; i < n; i++) {
				int64_t cap = in->c, cnt = 0;
				uint8_t kn = 1;
				if (in->flags & DG_F_CAPREG) {
					kn = bk[i];
					cap = bv[i] > DG_MAX_MONTHS ? DG_MAX_MONTHS
					      : bv[i] < 0           ? 0
								    : bv[i] + in->c;
					if (cap > DG_MAX_MONTHS)
						cap = DG_MAX_MONTHS;
				}
				for (; kn && cnt < cap; cnt++) {
					const struct dg_col *c = month_col(t, in->aux, K - cnt);
					if (!c || !c->k[base + i]) {
						kn = 0;
						break;
					}
					if (!c->v[base + i])
						break;
				}
				dv[i] = cnt;
				dk[i] = kn;
			}
			m->rv[in->d] = dv;
			m->rk[in->d] = dk;
			break;
		case OP_BEN:
			for (int i = 0; i < n; i++) {
				int64_t r = base + i, found = 0;
				for (int64_t j = t->boff[r]; j < t->boff[r + 1]; j++) {
					const struct dg_benefit_rec *b = &t->brec[j];
					if (b->benefit == in->aux && b->month >= K &&
					    b->month < K + in->c &&
					    (in->b == 0 ? b->status != BEN_STOPPED
							: b->status == in->b))
						found = 1;
				}
				dv[i] = found;
				dk[i] = 1;
			}
			m->rv[in->d] = dv;
			m->rk[in->d] = dk;
			break;
		case OP_RBEGIN:
			memset(m->accv, 1, (size_t)n);
			memset(m->acck, 1, (size_t)n);
			memset(m->confl, 0, (size_t)n);
			break;
		case OP_COND: {
			/* acc = acc and a; failed = known false; count unknowns. The running
			 * result lives in bytes (m->accv/acck) so this loop vectorises. */
			uint8_t *__restrict fl = m->fl;
			uint8_t *__restrict accv = m->accv, *__restrict acck = m->acck;
			const int64_t *__restrict a64 = av;
			const uint8_t *__restrict ka8 = ak;
			int64_t unk = 0;
			for (int i = 0; i < n; i++) {
				uint8_t a = (uint8_t)(a64[i] != 0), ka = ka8[i];
				uint8_t c = accv[i], kc = acck[i];
				fl[i] = ka & (a ^ 1);
				unk += ka ^ 1;
				accv[i] = a & c;
				acck[i] = (ka & kc) | (ka & (a ^ 1)) | (kc & (c ^ 1));
			}
			m->cond_unknown[in->aux] += unk;
			if (m->res)
				put_bits(m->res->fail[in->aux], base, n, fl);
			if (m->tr) { /* one-record mode: expose the accumulator as a register */
				m->ov[DG_REG_ACC][0] = accv[0];
				m->ok[DG_REG_ACC][0] = acck[0];
			}
			break;
		}
		case OP_CONFL:
			for (int i = 0; i < n; i++)
				m->confl[i] |= ak[i] & (av[i] >= 2);
			break;
		case OP_REND: {
			uint8_t *__restrict el = m->fl, *__restrict un = m->fl + BLK;
			const uint8_t *__restrict accv = m->accv, *__restrict acck = m->acck;
			uint8_t *__restrict cfv = m->confl;
			__int128 sum = 0; /* 1024 amounts of 64 bits cannot overflow 128 */
			int64_t amu = 0;
			const int64_t *amv = in->c != DG_NOREG ? m->rv[in->c] : NULL;
			const uint8_t *amk = in->c != DG_NOREG ? m->rk[in->c] : NULL;
			/* a conflict matters only where the record would otherwise be eligible:
			 * a blocked or undecided record keeps that outcome */
			for (int i = 0; i < n; i++) {
				uint8_t pass = acck[i] & accv[i];
				cfv[i] &= pass;
				el[i] = pass & (cfv[i] ^ 1);
				un[i] = acck[i] ^ 1;
			}
			if (amv)
				for (int i = 0; i < n; i++) {
					if (!el[i])
						continue;
					if (amk[i])
						sum += amv[i];
					else
						amu++;
				}
			m->amount_total[in->aux] += sum;
			m->amount_unknown[in->aux] += amu;
			if (m->res && m->res->amount && m->res->amount[in->aux]) {
				/* per record: the amount where eligible and known */
				uint8_t *ak8 = m->fl + 2 * BLK;
				memcpy(m->res->amount[in->aux] + base, amv,
				       sizeof(int64_t) * (size_t)n);
				for (int i = 0; i < n; i++)
					ak8[i] = el[i] & amk[i];
				put_bits(m->res->amount_known[in->aux], base, n, ak8);
			}
			if (m->res) {
				put_bits(m->res->elig[in->aux], base, n, el);
				put_bits(m->res->unk[in->aux], base, n, un);
				if (m->res->confl[in->aux])
					put_bits(m->res->confl[in->aux], base, n, cfv);
			}
			if (m->tr) {
				m->tr->outcome = cfv[0]  ? DG_CONFLICT
						 : el[0] ? DG_ELIGIBLE
						 : un[0] ? DG_UNKNOWN
							 : DG_NOT_ELIGIBLE;
				m->tr->amount = amv ? amv[0] : 0;
				m->tr->amount_known = amv && amk[0];
			}
			break;
		}
		case OP_STORE: {
			struct dg_col *c = (struct dg_col *)&m->temps[in->aux];
			memcpy(c->v + base, av, sizeof(int64_t) * (size_t)n);
			memcpy(c->k + base, ak, (size_t)n);
			break;
		}
		}
		if (m->tr && pc >= m->tr_from && pc - m->tr_from < m->tr->n) {
			int j = pc - m->tr_from;
			int r = in->op == OP_COND ? in->a : in->d;
			m->tr->v[j] = m->rv[r][0];
			m->tr->k[j] = m->rk[r][0];
			m->tr->link[j] = link0;
		}
	}
#undef BIN
#undef SLOWBIN
#undef UN
}

/* ---- aggregates: reduce member values per group ---- */

/*
 * any(g, e where w) is Kleene's or over the members of (w and e), all(g, e where w)
 * Kleene's and of (not w or e): a member whose filter is unknown still decides when
 * its value does (all: a true value; any: a false one keeps it out).
 */
static void reduce_any_all(const struct dg_agg *ag, const struct dg_table *gt,
			   const struct dg_col *w, const struct dg_col *v, struct dg_col *out,
			   int64_t g)
{
	bool any = ag->op == AGG_ANY, decided = false, unknown = false;
	for (int64_t j = gt->goff[ag->group][g]; j < gt->goff[ag->group][g + 1] && !decided; j++) {
		int64_t m = gt->grow[ag->group][j];
		bool wk = w ? w->k[m] : true, wv = w ? w->v[m] != 0 : true;
		bool ek = v ? v->k[m] : true, ev = v ? v->v[m] != 0 : true;
		bool t_known, t;
		if (any) {
			t_known = (wk && !wv) || (ek && !ev) || (wk && ek);
			t = wv && ev;
		} else {
			t_known = (wk && !wv) || (ek && ev) || (wk && ek);
			t = !wv || ev;
		}
		if (!t_known)
			unknown = true;
		else if (t == any)
			decided = true;
	}
	out->v[g] = any ? decided : !decided;
	out->k[g] = decided || !unknown;
}

static void reduce_group(const struct dg_code *code, const struct dg_data *data,
			 const struct dg_col *temps, int a, int64_t g)
{
	const struct dg_agg *ag = &code->prog->aggs[a];
	const struct dg_aggcode *ac = &code->aggs[a];
	const struct dg_table *gt = &data->t[ag->group_ent];
	const struct dg_col *w = ac->where_temp >= 0 ? &temps[ac->where_temp] : NULL;
	const struct dg_col *v = ac->val_temp >= 0 ? &temps[ac->val_temp] : NULL;
	struct dg_col *out = (struct dg_col *)&temps[ac->out_temp];
	if (ag->op == AGG_ANY || ag->op == AGG_ALL) {
		reduce_any_all(ag, gt, w, v, out, g);
		return;
	}
	int64_t acc = 0, n = 0;
	bool unknown = false, overflow = false;
	__int128 wide = 0; /* sums are exact; unknown when the total does not fit */
	for (int64_t j = gt->goff[ag->group][g]; j < gt->goff[ag->group][g + 1]; j++) {
		int64_t mrow = gt->grow[ag->group][j];
		if (w) {
			if (!w->k[mrow]) {
				unknown = true;
				continue;
			}
			if (!w->v[mrow])
				continue;
		}
		if (ag->op == AGG_COUNT) {
			n++;
			continue;
		}
		if (!v->k[mrow]) {
			unknown = true;
			continue;
		}
		int64_t x = v->v[mrow];
		switch (ag->op) {
		case AGG_SUM: wide += x; break;
		case AGG_MIN: acc = n == 0 || x < acc ? x : acc; break;
		case AGG_MAX: acc = n == 0 || x > acc ? x : acc; break;
		default: break;
		}
		n++;
	}
	if (ag->op == AGG_COUNT)
		acc = n;
	if (ag->op == AGG_SUM) {
		overflow = wide > INT64_MAX || wide < INT64_MIN;
		acc = overflow ? 0 : (int64_t)wide;
	}
	out->v[g] = acc;
	/* count, sum, min and max need every member's filter and value; min and max of
	 * no member are unknown */
	out->k[g] = !overflow && !unknown && !((ag->op == AGG_MIN || ag->op == AGG_MAX) && n == 0);
}

/* ---- batch ---- */

/*
 * One pass over an entity's records in blocks. A job carries one or more
 * variants (the same rules compiled with different parameter values, for a
 * sweep): each block is evaluated by every variant while it is in cache,
 * so a sweep reads the data once.
 */
#define MAX_VARIANTS 32

struct variant {
	const struct dg_code *code;
	struct dg_result *res;
	const struct dg_kernel *k;
	const int *segs; /* pairs from,to */
	int nsegs;
	__int128 *total; /* per rule: amount totals, summed over threads and entities */
};

struct job {
	const struct dg_data *data;
	struct variant v[MAX_VARIANTS];
	int nv;
	int64_t nrows;
	atomic_llong next;
	pthread_mutex_t lock;
};

static void run_blocks(struct job *j, struct vm *m)
{
	for (;;) {
		/* claim 16 blocks at a time: few atomics, still balanced */
		int64_t b0 = atomic_fetch_add(&j->next, 16);
		if (b0 * BLK >= j->nrows)
			break;
		for (int64_t b = b0; b < b0 + 16 && b * BLK < j->nrows; b++) {
			int64_t base = b * BLK;
			int n = (int)(j->nrows - base < BLK ? j->nrows - base : BLK);
			for (int v = 0; v < j->nv; v++)
				for (int s = 0; s < j->v[v].nsegs; s++)
					exec(&m[v], j->v[v].k, j->v[v].segs[2 * s],
					     j->v[v].segs[2 * s + 1], base, n);
		}
	}
}

static void *worker(void *arg)
{
	struct job *j = arg;
	struct vm *m = dg_xcalloc((size_t)j->nv, sizeof(*m));
	for (int v = 0; v < j->nv; v++)
		vm_init(&m[v], j->v[v].code, j->data, j->v[v].res, j->v[v].res->temps);
	run_blocks(j, m);
	pthread_mutex_lock(&j->lock);
	for (int v = 0; v < j->nv; v++) {
		struct dg_result *res = j->v[v].res;
		for (int r = 0; r < j->v[v].code->nrules; r++) {
			j->v[v].total[r] += m[v].amount_total[r];
			res->amount_unknown[r] += m[v].amount_unknown[r];
		}
		for (int c = 0; c < j->v[v].code->nconds; c++)
			res->cond_unknown[c] += m[v].cond_unknown[c];
	}
	pthread_mutex_unlock(&j->lock);
	for (int v = 0; v < j->nv; v++)
		vm_release(&m[v]);
	free(m);
	return NULL;
}

static void run_job(struct job *j, int nthreads)
{
	atomic_init(&j->next, 0);
	pthread_mutex_init(&j->lock, NULL);
	int total = 0;
	for (int v = 0; v < j->nv; v++)
		total += j->v[v].nsegs;
	if (total > 0 && j->nrows > 0) {
		if (nthreads > 1 && j->nrows > 4 * BLK) {
			pthread_t th;
			bool started = pthread_create(&th, NULL, worker, j) == 0;
			worker(j);
			if (started)
				pthread_join(th, NULL);
		} else {
			worker(j);
		}
	}
	pthread_mutex_destroy(&j->lock);
}

static void run_kernel(const struct dg_code *code, const struct dg_data *data,
		       struct dg_result *res, const struct dg_kernel *k, const int *segs, int nsegs,
		       int nthreads)
{
	struct job j;
	memset(&j, 0, sizeof(j));
	j.data = data;
	j.nv = 1;
	j.v[0].code = code;
	j.v[0].res = res;
	j.v[0].k = k;
	j.v[0].segs = segs;
	j.v[0].nsegs = nsegs;
	j.v[0].total = dg_xcalloc((size_t)code->nrules + 1, sizeof(__int128));
	j.nrows = data->t[k->ent].n;
	run_job(&j, nthreads);
	free(j.v[0].total);
}

static struct dg_col *alloc_temps(const struct dg_code *code, const struct dg_data *data)
{
	struct dg_col *t = dg_xcalloc((size_t)code->ntemps + 1, sizeof(*t));
	for (int i = 0; i < code->ntemps; i++) {
		int64_t n = data->t[code->temps[i].ent].n + 1;
		t[i].v = dg_xcalloc((size_t)n, sizeof(int64_t));
		t[i].k = dg_xcalloc((size_t)n, 1);
	}
	return t;
}

static void free_temps(const struct dg_code *code, struct dg_col *t)
{
	for (int i = 0; t && i < code->ntemps; i++) {
		free(t[i].v);
		free(t[i].k);
	}
	free(t);
}

void dg_result_free(struct dg_result *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->code->nrules; i++) {
		free(r->elig[i]);
		free(r->unk[i]);
		free(r->confl[i]);
	}
	for (int i = 0; i < r->code->nconds; i++)
		free(r->fail[i]);
	free(r->elig);
	free(r->unk);
	free(r->confl);
	free(r->fail);
	free(r->selected);
	free(r->cond_unknown);
	free(r->amount_sum);
	free(r->amount_unknown);
	free(r->amount_overflow);
	for (int i = 0; r->amount && i < r->code->nrules; i++) {
		free(r->amount[i]);
		free(r->amount_known[i]);
	}
	free(r->amount);
	free(r->amount_known);
	free_temps(r->code, r->temps);
	free(r);
}

int64_t dg_bits_count(const uint64_t *bits, int64_t n)
{
	int64_t c = 0;
	for (int64_t w = 0; w < (n + 63) / 64; w++) {
		uint64_t x = bits[w];
		if (w == n / 64 && (n & 63))
			x &= ((uint64_t)1 << (n & 63)) - 1;
		c += __builtin_popcountll(x);
	}
	return c;
}

enum dg_outcome dg_result_outcome(const struct dg_result *r, int rule, int64_t row)
{
	if (!r->selected[rule])
		return DG_NOT_IN_FORCE;
	if (r->confl[rule] && dg_bit(r->confl[rule], row))
		return DG_CONFLICT;
	if (dg_bit(r->elig[rule], row))
		return DG_ELIGIBLE;
	if (dg_bit(r->unk[rule], row))
		return DG_UNKNOWN;
	return DG_NOT_ELIGIBLE;
}

/* Zeroed and touched now, so the evaluation does not stop for page faults. */
static uint64_t *bits_new(size_t words)
{
	uint64_t *b = dg_xmalloc(words * 8);
	memset(b, 0, words * 8);
	return b;
}

/* Result arrays for the selected rules, and aggregates computed. */
static dg_rc prepare(const struct dg_code *code, const struct dg_data *data,
		     const struct dg_run_opts *o, struct dg_result **out, struct dg_err *err)
{
	const bool *select = o->select;
	int nthreads = o->nthreads;
	const struct dg_program *p = code->prog;
	*out = NULL;
	if (!data->finished || data->schema != p->schema)
		return dg_err_set(err, DG_EINVAL, "data and rules do not share one schema");
	if (data->codes != code->codes || data->codes->n != code->ncodes)
		return dg_err_set(
			err, DG_EINVAL,
			"the rules were compiled before this data was loaded: compile again");
	struct dg_result *r = dg_xcalloc(1, sizeof(*r));
	r->code = code;
	r->data = data;
	r->selected = dg_xcalloc((size_t)p->nrules + 1, sizeof(bool));
	r->elig = dg_xcalloc((size_t)p->nrules + 1, sizeof(uint64_t *));
	r->unk = dg_xcalloc((size_t)p->nrules + 1, sizeof(uint64_t *));
	r->confl = dg_xcalloc((size_t)p->nrules + 1, sizeof(uint64_t *));
	r->fail = dg_xcalloc((size_t)code->nconds + 1, sizeof(uint64_t *));
	r->cond_unknown = dg_xcalloc((size_t)code->nconds + 1, sizeof(int64_t));
	r->amount_sum = dg_xcalloc((size_t)p->nrules + 1, sizeof(int64_t));
	r->amount_unknown = dg_xcalloc((size_t)p->nrules + 1, sizeof(int64_t));
	r->amount_overflow = dg_xcalloc((size_t)p->nrules + 1, sizeof(bool));
	if (o->amounts) {
		r->amount = dg_xcalloc((size_t)p->nrules + 1, sizeof(int64_t *));
		r->amount_known = dg_xcalloc((size_t)p->nrules + 1, sizeof(uint64_t *));
	}
	r->temps = alloc_temps(code, data);
	bool any = false;
	for (int i = 0; i < p->nrules; i++) {
		const struct dg_rcode *rc = &code->rc[i];
		r->selected[i] = rc->in_force && (!select || select[i]);
		if (!r->selected[i])
			continue;
		size_t words = (size_t)(data->t[rc->ent].n + 64) / 64 + BLK / 64;
		r->elig[i] = bits_new(words);
		r->unk[i] = bits_new(words);
		if (rc->has_conflict)
			r->confl[i] = bits_new(words);
		if (r->amount && rc->has_amount) {
			r->amount[i] = dg_xcalloc(words * 64, sizeof(int64_t));
			r->amount_known[i] = bits_new(words);
		}
		for (int c = 0; c < rc->ncond; c++)
			r->fail[rc->cond0 + c] = bits_new(words);
		any = true;
	}
	double t0 = dg_mono_sec();
	if (any && code->naggs > 0) {
		/* member values for every aggregate, then one reduction per group */
		for (int e = 0; e < DG_MAX_ENT; e++) {
			int *segs = dg_xmalloc(sizeof(int) * 2 * (size_t)(code->naggs + 1));
			int ns = 0;
			for (int a = 0; a < code->naggs; a++)
				if (p->aggs[a].member_ent == e &&
				    code->aggs[a].to > code->aggs[a].from) {
					segs[2 * ns] = code->aggs[a].from;
					segs[2 * ns + 1] = code->aggs[a].to;
					ns++;
				}
			run_kernel(code, data, r, &code->member[e], segs, ns, nthreads);
			free(segs);
		}
		for (int a = 0; a < code->naggs; a++)
			for (int64_t g = 0; g < data->t[p->aggs[a].group_ent].n; g++)
				reduce_group(code, data, r->temps, a, g);
	}
	if (any) { /* definitions read through links, which may use the aggregates */
		int *segs = dg_xmalloc(sizeof(int) * 2 * (size_t)(p->nlets + 1));
		for (int e = 0; e < DG_MAX_ENT; e++) {
			int ns = 0;
			for (int l = 0; l < p->nlets; l++)
				if (code->letc[l].temp >= 0 && p->lets[l].ent == e) {
					segs[2 * ns] = code->letc[l].from;
					segs[2 * ns + 1] = code->letc[l].to;
					ns++;
				}
			if (ns)
				run_kernel(code, data, r, &code->lets[e], segs, ns, nthreads);
		}
		free(segs);
	}
	r->agg_sec = dg_mono_sec() - t0;
	*out = r;
	return DG_OK;
}

/* The selected rules' segments of the kernel of entity e, as from,to pairs. */
static int rule_segments(const struct dg_code *code, const struct dg_result *r, int e, int *segs)
{
	int ns = 0;
	for (int i = 0; i < code->prog->nrules; i++)
		if (r->selected[i] && code->rc[i].ent == e) {
			segs[2 * ns] = code->rc[i].from;
			segs[2 * ns + 1] = code->rc[i].to;
			ns++;
		}
	return ns;
}

static dg_rc run_variants(const struct dg_code *const *codes, int ncodes,
			  const struct dg_data *data, const struct dg_run_opts *o,
			  struct dg_result **out, struct dg_err *err)
{
	int nthreads = o->nthreads;
	if (ncodes < 1 || ncodes > MAX_VARIANTS)
		return dg_err_set(err, DG_ETOOBIG, "at most %d variants in one pass", MAX_VARIANTS);
	for (int v = 0; v < ncodes; v++) {
		out[v] = NULL;
		if (codes[v]->prog != codes[0]->prog)
			return dg_err_set(err, DG_EINVAL, "variants must come from one program");
	}
	for (int v = 0; v < ncodes; v++) {
		dg_rc rc = prepare(codes[v], data, o, &out[v], err);
		if (rc) {
			for (int w = 0; w < v; w++) {
				dg_result_free(out[w]);
				out[w] = NULL;
			}
			return rc;
		}
	}
	double t1 = dg_mono_sec();
	int nr = codes[0]->prog->nrules;
	int *segs = dg_xmalloc(sizeof(int) * 2 * (size_t)(nr + 1) * (size_t)ncodes);
	__int128 *totals = dg_xcalloc((size_t)(nr + 1) * (size_t)ncodes, sizeof(__int128));
	for (int e = 0; e < DG_MAX_ENT; e++) {
		struct job j;
		memset(&j, 0, sizeof(j));
		j.data = data;
		j.nv = ncodes;
		j.nrows = data->t[e].n;
		for (int v = 0; v < ncodes; v++) {
			int *sv = segs + 2 * (size_t)(nr + 1) * (size_t)v;
			j.v[v].code = codes[v];
			j.v[v].res = out[v];
			j.v[v].k = &codes[v]->rules[e];
			j.v[v].segs = sv;
			j.v[v].nsegs = rule_segments(codes[v], out[v], e, sv);
			j.v[v].total = totals + (size_t)(nr + 1) * (size_t)v;
		}
		run_job(&j, nthreads);
	}
	free(segs);
	double secs = dg_mono_sec() - t1;
	for (int v = 0; v < ncodes; v++) {
		out[v]->eval_sec = secs;
		for (int r = 0; r < nr; r++) {
			__int128 t = totals[(size_t)(nr + 1) * (size_t)v + (size_t)r];
			out[v]->amount_overflow[r] = t > INT64_MAX || t < INT64_MIN;
			out[v]->amount_sum[r] = out[v]->amount_overflow[r] ? 0 : (int64_t)t;
		}
	}
	free(totals);
	return DG_OK;
}

dg_rc dg_rule_run_many(const struct dg_code *const *codes, int ncodes, const struct dg_data *data,
		       const bool *select, int nthreads, struct dg_result **out, struct dg_err *err)
{
	struct dg_run_opts o = {select, nthreads, false};
	return run_variants(codes, ncodes, data, &o, out, err);
}

dg_rc dg_rule_run(const struct dg_code *code, const struct dg_data *data, const bool *select,
		  int nthreads, struct dg_result **out, struct dg_err *err)
{
	struct dg_run_opts o = {select, nthreads, false};
	return run_variants(&code, 1, data, &o, out, err);
}

dg_rc dg_rule_run_opts(const struct dg_code *code, const struct dg_data *data,
		       const struct dg_run_opts *opts, struct dg_result **out, struct dg_err *err)
{
	return run_variants(&code, 1, data, opts, out, err);
}

bool dg_result_amount(const struct dg_result *r, int rule, int64_t row, int64_t *amount)
{
	if (!r->amount || !r->amount[rule] || !dg_bit(r->amount_known[rule], row))
		return false;
	*amount = r->amount[rule][row];
	return true;
}

/* ---- one record ---- */

void dg_trace_release(struct dg_trace *tr)
{
	free(tr->v);
	free(tr->k);
	free(tr->link);
	memset(tr, 0, sizeof(*tr));
}

struct reach {
	int ent;
	int64_t row;
};

/* The record, the records it links to and theirs, up to max (duplicates do no harm). */
static int reachable(const struct dg_schema *s, const struct dg_data *data, int ent, int64_t row,
		     struct reach *out, int max)
{
	int n = 0, from = 0, to = 1;
	out[n++] = (struct reach){ent, row};
	for (int step = 0; step < 2; step++, from = to, to = n)
		for (int i = from; i < to; i++) {
			const struct dg_entity *e = &s->e[out[i].ent];
			const struct dg_col *col = data->t[out[i].ent].col;
			for (int f = 0; f < e->nf && n < max; f++)
				if (e->f[f].ty == TY_LINK && col[f].k[out[i].row] &&
				    col[f].v[out[i].row] >= 0)
					out[n++] = (struct reach){e->f[f].link_ent,
								  col[f].v[out[i].row]};
		}
	return n;
}

dg_rc dg_rule_eval_one(const struct dg_code *code, const struct dg_data *data, int rule,
		       int64_t row, struct dg_trace *tr, struct dg_err *err)
{
	const struct dg_program *p = code->prog;
	const struct dg_rcode *rc = &code->rc[rule];
	memset(tr, 0, sizeof(*tr));
	if (row < 0 || row >= data->t[rc->ent].n)
		return dg_err_set(err, DG_ENOTFOUND, "no such record");
	if (data->codes != code->codes || data->codes->n != code->ncodes)
		return dg_err_set(
			err, DG_EINVAL,
			"the rules were compiled before this data was loaded: compile again");
	struct dg_col *temps = alloc_temps(code, data);
	struct vm m;
	vm_init(&m, code, data, NULL, temps);
	/* aggregates and definitions read through links, only for the records this one
	 * reaches: itself, the records it links to, and the records those link to (a
	 * definition of the household may aggregate over a group of its own links) */
	struct reach r[1 + DG_MAX_FIELDS + DG_MAX_FIELDS * DG_MAX_FIELDS / 8];
	int nr = reachable(p->schema, data, rc->ent, row, r, (int)(sizeof(r) / sizeof(r[0])));
	for (int a = 0; a < code->naggs; a++) {
		const struct dg_agg *ag = &p->aggs[a];
		const struct dg_table *gt = &data->t[ag->group_ent];
		for (int i = 0; i < nr; i++) {
			if (r[i].ent != ag->group_ent)
				continue;
			int64_t g = r[i].row;
			for (int64_t j = gt->goff[ag->group][g]; j < gt->goff[ag->group][g + 1];
			     j++)
				exec(&m, &code->member[ag->member_ent], code->aggs[a].from,
				     code->aggs[a].to, gt->grow[ag->group][j], 1);
			reduce_group(code, data, temps, a, g);
		}
	}
	for (int l = 0; l < p->nlets; l++) {
		const struct dg_letcode *lc = &code->letc[l];
		for (int i = 0; lc->temp >= 0 && i < nr; i++)
			if (r[i].ent == p->lets[l].ent)
				exec(&m, &code->lets[r[i].ent], lc->from, lc->to, r[i].row, 1);
	}
	tr->n = rc->to - rc->from;
	tr->v = dg_xcalloc((size_t)tr->n + 1, sizeof(int64_t));
	tr->k = dg_xcalloc((size_t)tr->n + 1, 1);
	tr->link = dg_xcalloc((size_t)tr->n + 1, sizeof(int64_t));
	tr->row = row;
	m.tr = tr;
	m.tr_from = rc->from;
	exec(&m, &code->rules[rc->ent], rc->from, rc->to, row, 1);
	if (!rc->in_force)
		tr->outcome = DG_NOT_IN_FORCE;
	vm_release(&m);
	free_temps(code, temps);
	return DG_OK;
}
