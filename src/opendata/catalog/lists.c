/*
 * lists.c - per-token lists of the catalogue's search documents, kept in
 * the node's memory beside the map of the public's documents (docmap.c),
 * so that free text of whole tokens is matched and ranked in C instead of
 * by the index's ranked read (FTS5's bm25 asks each match's size with a
 * statement of its own: 190,000 of them for a word in every dataset).
 *
 * What is kept: each document's length in tokens (all of the index's
 * documents, as FTS5 counts its rows and their sizes), and for each token
 * a search asked for that is in more than LIST_MIN documents, its
 * documents in order with their counts in each of the four fields. Both
 * are read from the index itself (FTS5's own sizes and instances on
 * SQLite; the tsvector's positions by weight on PostgreSQL), so they are
 * the tokens the search module wrote, never tokenized a second time. A
 * list is built on the first search that asks for its token; a token in
 * LIST_MIN documents or fewer is remembered as rare and left to the index
 * (fast for such a token). They follow the map: every document recorded in
 * od_doc_changes is read again (its length and its counts of the kept
 * tokens), and a map read whole drops them all. A token whose list would
 * pass POSTS_MAX entries in all is left to the index too.
 *
 * The rank is FTS5's bm25 with the fields weighed 10, 4, 2, 1 (search.c's
 * -bm25(od_search, 10, 4, 2, 1)), in FTS5's own order of operations, so
 * on SQLite each document gets the very double the index gives it
 * (bench/catalog/rank_check.py checks this on a catalogue). On PostgreSQL
 * the same bm25 over the tsvector's counts (a tsvector keeps at most 256
 * positions a token) orders the same set as ts_rank would, differently.
 *
 * Bounds: LISTS_MAX lists and POSTS_MAX entries in all (past them, the
 * index answers), RARE_MAX tokens left to it remembered, a document's
 * counts capped at 65,535 a field; the lengths take 4 bytes a document. Not thread-safe:
 * the map's lock guards them (docmap.c).
 */
#include "opendata/catalog/catalog_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "search/search.h"

#define LIST_MIN  32        /* a token in this many documents or fewer is the index's */
#define LISTS_MAX 256       /* tokens with a list */
#define POSTS_MAX (1 << 21) /* entries of all lists: 12 bytes each, 25 MB */
#define RARE_MAX  4096      /* tokens left to the index, remembered */
#define NFIELDS   4

struct post {
	uint32_t doc;
	uint16_t n[NFIELDS]; /* the token's count in each field */
};

struct tlist {
	char *tok;
	struct post *p; /* by document, ascending */
	size_t n, cap;
};

struct dg_od_lists {
	bool lengths;  /* every document's length read */
	uint32_t *len; /* per document: its tokens + 1; 0: no such document */
	size_t nlen;
	int64_t nrow, ntok; /* documents and their tokens, as FTS5's averages */
	struct tlist lists[LISTS_MAX];
	size_t nlists, nposts;
	char *rare[RARE_MAX];
	size_t nrare;
};

struct dg_od_lists *dg_od_lists_new(void)
{
	return dg_xcalloc(1, sizeof(struct dg_od_lists));
}

void dg_od_lists_clear(struct dg_od_lists *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nlists; i++) {
		free(l->lists[i].tok);
		free(l->lists[i].p);
	}
	for (size_t i = 0; i < l->nrare; i++)
		free(l->rare[i]);
	free(l->len);
	memset(l, 0, sizeof *l);
}

void dg_od_lists_free(struct dg_od_lists *l)
{
	dg_od_lists_clear(l);
	free(l);
}

static struct tlist *list_of(const struct dg_od_lists *l, const char *tok)
{
	for (size_t i = 0; i < l->nlists; i++)
		if (strcmp(l->lists[i].tok, tok) == 0)
			return (struct tlist *)&l->lists[i];
	return NULL;
}

static bool is_rare(const struct dg_od_lists *l, const char *tok)
{
	for (size_t i = 0; i < l->nrare; i++)
		if (strcmp(l->rare[i], tok) == 0)
			return true;
	return false;
}

/* Document doc's length: n tokens, or none (absent). */
static void set_len(struct dg_od_lists *l, int64_t doc, bool absent, int64_t n)
{
	if (doc < 0 || doc >= (int64_t)UINT32_MAX)
		return;
	l->len = dg_xgrow_zeroed(l->len, &l->nlen, (size_t)doc, sizeof *l->len);
	if (l->len[doc]) {
		l->nrow--;
		l->ntok -= l->len[doc] - 1;
	}
	l->len[doc] = absent ? 0 : (uint32_t)(n + 1);
	if (!absent) {
		l->nrow++;
		l->ntok += n;
	}
}

/* The sum of SQLite's varints in hex text (FTS5's docsize record: one size a column). */
static int64_t varint_sum(const char *hex)
{
	int64_t sum = 0, v = 0;
	int k = 0;
	for (const char *p = hex; p[0] && p[1]; p += 2) {
		char b[3] = {p[0], p[1], 0};
		unsigned c = (unsigned)strtoul(b, NULL, 16);
		if (k == 8) { /* the ninth byte is whole */
			sum += (v << 8) | c;
			v = 0;
			k = 0;
			continue;
		}
		v = (v << 7) | (c & 0x7f);
		k++;
		if (!(c & 0x80)) {
			sum += v;
			v = 0;
			k = 0;
		}
	}
	return sum;
}

/* The length of every document (doc < 0) or of doc, from the index's own record of it. */
static dg_rc read_lengths(struct dg_od_lists *l, struct dg_db *db, int64_t doc)
{
	bool sqlite = dg_db_kind(db) == DG_STORE_SQLITE;
	char sql[256];
	snprintf(sql, sizeof sql, "%s%s",
		 sqlite ? "SELECT id, hex(sz) FROM od_search_docsize"
			: "SELECT doc, (SELECT COALESCE(SUM(array_length(positions, 1)), 0)"
			  " FROM unnest(tsv)) FROM od_search",
		 doc < 0  ? ""
		 : sqlite ? " WHERE id = ?"
			  : " WHERE doc = ?");
	struct dg_val arg[1] = {DG_VI(doc)};
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, sql, arg, doc < 0 ? 0 : 1, &rows);
	bool seen = false;
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		seen = true;
		set_len(l, dg_rows_int(rows, 0), false,
			sqlite ? varint_sum(dg_rows_text(rows, 1)) : dg_rows_int(rows, 1));
	}
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND && doc >= 0 && !seen)
		set_len(l, doc, true, 0); /* purged: no document any more */
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

static void count_weights(const char *weights, uint32_t n[NFIELDS])
{
	for (const char *w = weights; *w; w++)
		if (*w >= 'A' && *w <= 'D')
			n[*w - 'A']++;
}

static int field_of(const char *col)
{
	for (int i = 0; i < NFIELDS; i++)
		if (strcmp(dg_od_index.fields[i], col) == 0)
			return i;
	return -1;
}

static void list_add(struct tlist *t, int64_t doc, const uint32_t n[NFIELDS])
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->p = dg_xrealloc(t->p, t->cap * sizeof *t->p);
	}
	struct post *p = &t->p[t->n++];
	p->doc = (uint32_t)doc;
	for (int i = 0; i < NFIELDS; i++)
		p->n[i] = (uint16_t)(n[i] > UINT16_MAX ? UINT16_MAX : n[i]);
}

/* The documents of tok with their counts, by document, into t (empty). */
static dg_rc read_list(struct dg_db *db, const char *tok, struct tlist *t)
{
	bool sqlite = dg_db_kind(db) == DG_STORE_SQLITE;
	dg_rc rc = sqlite ? dg_db_exec(db,
				       "CREATE VIRTUAL TABLE IF NOT EXISTS temp.od_search_instances"
				       " USING fts5vocab(main, od_search, instance)",
				       DG_NOARGS, NULL)
			  : DG_OK;
	char quoted[DG_SEARCH_WORD_MAX * 4 + 8];
	snprintf(quoted, sizeof quoted, "'%s'", tok); /* a token holds no quote (search.h) */
	struct dg_rows *rows = NULL;
	if (!rc)
		rc = sqlite ? dg_db_query(db,
					  "SELECT doc, col, 1 FROM temp.od_search_instances"
					  " WHERE term = ? ORDER BY doc",
					  DG_ARGS(DG_VT(tok)), &rows)
			    : dg_db_query(db,
					  "SELECT s.doc, '', array_to_string(u.weights, '')"
					  " FROM od_search s, unnest(s.tsv) u"
					  " WHERE s.tsv @@ CAST(? AS tsquery) AND u.lexeme = ?"
					  " ORDER BY s.doc",
					  DG_ARGS(DG_VT(quoted), DG_VT(tok)), &rows);
	int64_t cur = -1;
	uint32_t n[NFIELDS] = {0};
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		int64_t doc = dg_rows_int(rows, 0);
		if (doc < 0 || doc >= (int64_t)UINT32_MAX)
			continue;
		if (doc != cur && cur >= 0) {
			list_add(t, cur, n);
			memset(n, 0, sizeof n);
		}
		cur = doc;
		if (sqlite) {
			int f = field_of(dg_rows_text(rows, 1));
			if (f >= 0)
				n[f]++;
		} else
			count_weights(dg_rows_text(rows, 2), n);
	}
	dg_rows_free(rows);
	if (cur >= 0)
		list_add(t, cur, n);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

dg_rc dg_od_lists_want(struct dg_od_lists *l, struct dg_db *db, const char *const *toks, size_t n)
{
	dg_rc rc = DG_OK;
	for (size_t i = 0; !rc && i < n; i++) {
		if (list_of(l, toks[i]) || is_rare(l, toks[i]) || l->nlists == LISTS_MAX ||
		    l->nposts >= POSTS_MAX)
			continue;
		if (!l->lengths) {
			rc = read_lengths(l, db, -1);
			l->lengths = !rc;
			if (rc)
				break;
		}
		struct tlist t = {dg_xstrdup(toks[i]), NULL, 0, 0};
		rc = read_list(db, toks[i], &t);
		if (!rc && t.n > LIST_MIN && l->nposts + t.n <= POSTS_MAX) {
			l->nposts += t.n;
			l->lists[l->nlists++] = t;
			continue;
		}
		free(t.tok);
		free(t.p);
		if (!rc && l->nrare < RARE_MAX)
			l->rare[l->nrare++] = dg_xstrdup(toks[i]);
	}
	return rc;
}

/* The index of doc in t, or where it would go. */
static size_t find(const struct tlist *t, uint32_t doc)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->p[mid].doc < doc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Document doc's entry in t set to counts n (all 0: none); *nposts follows. */
static void list_set(struct tlist *t, int64_t doc, const uint32_t n[NFIELDS], size_t *nposts)
{
	if (doc < 0 || doc >= (int64_t)UINT32_MAX)
		return;
	size_t at = find(t, (uint32_t)doc);
	bool there = at < t->n && t->p[at].doc == (uint32_t)doc;
	bool any = n[0] || n[1] || n[2] || n[3];
	if (there && !any) {
		memmove(&t->p[at], &t->p[at + 1], (t->n - at - 1) * sizeof *t->p);
		t->n--;
		--*nposts;
		return;
	}
	if (!any)
		return;
	if (!there) {
		list_add(t, doc, n); /* room at the end, then moved into place */
		++*nposts;
		memmove(&t->p[at + 1], &t->p[at], (t->n - 1 - at) * sizeof *t->p);
	}
	t->p[at].doc = (uint32_t)doc;
	for (int i = 0; i < NFIELDS; i++)
		t->p[at].n[i] = (uint16_t)(n[i] > UINT16_MAX ? UINT16_MAX : n[i]);
}

dg_rc dg_od_lists_doc(struct dg_od_lists *l, struct dg_db *db, int64_t doc)
{
	if (!l->lengths)
		return DG_OK; /* nothing kept yet */
	dg_rc rc = read_lengths(l, db, doc);
	if (rc || !l->nlists)
		return rc;
	uint32_t(*n)[NFIELDS] = dg_xcalloc(l->nlists, sizeof *n);
	bool sqlite = dg_db_kind(db) == DG_STORE_SQLITE;
	struct dg_rows *rows = NULL;
	rc = sqlite ? dg_db_query(db,
				  "SELECT title, tags, notes, res FROM od_search WHERE rowid = ?",
				  DG_ARGS(DG_VI(doc)), &rows)
		    : dg_db_query(db,
				  "SELECT u.lexeme, array_to_string(u.weights, '')"
				  " FROM od_search s, unnest(s.tsv) u WHERE s.doc = ?",
				  DG_ARGS(DG_VI(doc)), &rows);
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		if (!sqlite) {
			struct tlist *t = list_of(l, dg_rows_text(rows, 0));
			if (t)
				count_weights(dg_rows_text(rows, 1), n[t - l->lists]);
			continue;
		}
		/* the stored token text: tokens between spaces (search.h's dg_search_tokens) */
		for (int f = 0; f < NFIELDS; f++) {
			const char *s = dg_rows_isnull(rows, f) ? "" : dg_rows_text(rows, f);
			while (*s) {
				while (*s == ' ')
					s++;
				size_t k = strcspn(s, " ");
				for (size_t i = 0; k && i < l->nlists; i++)
					if (strlen(l->lists[i].tok) == k &&
					    memcmp(l->lists[i].tok, s, k) == 0)
						n[i][f]++;
				s += k;
			}
		}
	}
	dg_rows_free(rows);
	if (rc == DG_ENOTFOUND) {
		rc = DG_OK;
		for (size_t i = 0; i < l->nlists; i++)
			list_set(&l->lists[i], doc, n[i], &l->nposts);
	}
	free(n);
	return rc;
}

bool dg_od_lists_rank(const struct dg_od_lists *l, const char *const *toks, size_t n,
		      struct dg_od_hit **out, size_t *nout)
{
	*out = NULL;
	*nout = 0;
	if (!l || !l->lengths || n == 0 || n > 64 || l->nrow <= 0)
		return false;
	const struct tlist *t[64];
	size_t drive = 0;
	for (size_t i = 0; i < n; i++) {
		t[i] = list_of(l, toks[i]);
		if (!t[i])
			return false;
		if (t[i]->n < t[drive]->n)
			drive = i;
	}
	/* FTS5's bm25 (fts5_aux.c): its constants, its IDF floor, its order of operations */
	const double k1 = 1.2, b = 0.75;
	double avgdl = (double)l->ntok / (double)l->nrow, idf[64];
	for (size_t i = 0; i < n; i++) {
		double hit = (double)t[i]->n;
		idf[i] = log(((double)l->nrow - hit + 0.5) / (hit + 0.5));
		if (idf[i] <= 0.0)
			idf[i] = 1e-6;
	}
	static const double w[NFIELDS] = {10.0, 4.0, 2.0, 1.0};
	struct dg_od_hit *h = dg_xmalloc((t[drive]->n + 1) * sizeof *h);
	size_t nh = 0, at[64] = {0};
	for (size_t k = 0; k < t[drive]->n; k++) {
		uint32_t doc = t[drive]->p[k].doc;
		bool all = true;
		for (size_t i = 0; all && i < n; i++) {
			/* the lists are by document: each cursor only moves forward */
			while (at[i] < t[i]->n && t[i]->p[at[i]].doc < doc)
				at[i]++;
			all = at[i] < t[i]->n && t[i]->p[at[i]].doc == doc;
		}
		if (!all || doc >= l->nlen || !l->len[doc])
			continue;
		double D = (double)(l->len[doc] - 1), score = 0.0;
		for (size_t i = 0; i < n; i++) {
			const struct post *p = &t[i]->p[at[i]];
			/* FTS5 adds each instance's weight: whole numbers, so the sum is exact */
			double f = 0.0;
			for (int c = 0; c < NFIELDS; c++)
				f += w[c] * (double)p->n[c];
			score += idf[i] * ((f * (k1 + 1.0)) / (f + k1 * (1 - b + b * D / avgdl)));
		}
		h[nh++] = (struct dg_od_hit){doc, score};
	}
	*out = h;
	*nout = nh;
	return true;
}
