/*
 * search.h - dgov's one search text: the tokenizer every full-text search
 * uses (the service catalogue, the data catalogue, the DataStore's q), the
 * queries over its tokens, and the indexes that hold them on either store.
 *
 * Tokens. Neither store's stock parser splits Chinese, so dgov indexes its
 * own normalised text (tokens.c): words of Latin letters and digits,
 * lower-cased (full-width forms are folded first: ＡＢＣ１２ is abc12);
 * letters of other alphabets (Latin-1, Greek, Cyrillic) likewise, as words;
 * runs of CJK characters (with kana and hangul) as overlapping bigrams, and
 * the run's last character alone once more at the end of the text, so a
 * one-character query finds it wherever it stands (社会保险 -> 社会 会保 保险
 * ... 险). Everything else separates tokens. Invariant: a token holds no
 * ASCII byte but a-z and 0-9, so no syntax of FTS5, tsquery, tsvector or
 * LIKE can be spelled with one; a word longer than DG_SEARCH_WORD_MAX bytes
 * is cut there.
 *
 * Queries (expr.c). A user's words become a query over one index: every
 * token must be there (in any order), Latin words and lone CJK characters
 * as prefixes ("regist" finds registration, 养 finds 养老 and 供养); a
 * quoted phrase asks for its tokens side by side. Queries combine with AND
 * and OR and render as an FTS5 MATCH expression (SQLite) or a tsquery
 * (PostgreSQL), always bound as one parameter.
 *
 * The grammar (query.c) is what a search box accepts: words side by side
 * (all required), "quoted phrases" (an unclosed quote runs to the end),
 * OR and AND between them (OR binds tighter than words side by side, AND
 * tighter than OR, as CKAN's Solr reads them) and parentheses. It never
 * fails on what a person types: an operator with nothing to join is
 * dropped, a stray parenthesis ignored; only a query over its caps is
 * refused.
 *
 * Indexes (index.c). An index is a table of its own, one row per document
 * id (an integer the owner keeps unique), with up to DG_SEARCH_FIELDS_MAX
 * fields of text. On SQLite it is an FTS5 table whose columns are the
 * fields, tokenized by 'ascii' over the token text; on PostgreSQL it is a
 * table (doc, tsv) whose tsvector is built here with positions, field i
 * with weight A, B, C, D, under a GIN index. A field restriction is a
 * column filter on SQLite and a weight on PostgreSQL. Writers call
 * dg_search_put in the transaction that changes the document, so the index
 * is never behind what it indexes.
 */
#ifndef DG_SEARCH_H
#define DG_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"

#define DG_SEARCH_WORD_MAX   60    /* bytes of one Latin word token */
#define DG_SEARCH_FIELDS_MAX 4     /* fields of an index (PostgreSQL has 4 weights) */
#define DG_SEARCH_TERMS_MAX  16    /* tokens of one query word used */
#define DG_SEARCH_POS_MAX    16383 /* PostgreSQL's last tsvector position */

/*
 * ---- tokens (tokens.c) ----
 */

/*
 * Append the tokens of text (NUL-terminated UTF-8; invalid bytes separate)
 * to out as " tok tok ... tok " (a space before and after each), so that
 * "% tok %" in LIKE finds a token. ETOOBIG when out's cap is reached (out
 * then holds what fitted).
 */
dg_rc dg_search_tokens(const char *text, struct dg_buf *out) DG_MUST;
/* The same for n bytes of text (no NUL needed). */
dg_rc dg_search_tokensn(const char *text, size_t n, struct dg_buf *out) DG_MUST;

/*
 * ---- queries (expr.c) ----
 *
 * A query lives in the arena it was built in. Fields are a bit mask of the
 * index's fields (bit i: field i); 0 means all of them.
 */
struct dg_search_expr;

/*
 * The words of text as a query on fields: every token (prefixes as above);
 * with phrase, the tokens in order side by side (no prefixes). NULL when
 * text has no token (punctuation only): such a word constrains nothing.
 * At most DG_SEARCH_TERMS_MAX tokens of it are used.
 */
struct dg_search_expr *dg_search_words(struct dg_arena *a, const char *text, unsigned fields,
				       bool phrase);
/* l AND r, l OR r; either may be NULL (the other is returned). */
struct dg_search_expr *dg_search_and(struct dg_arena *a, struct dg_search_expr *l,
				     struct dg_search_expr *r);
struct dg_search_expr *dg_search_or(struct dg_arena *a, struct dg_search_expr *l,
				    struct dg_search_expr *r);
/* l AND NOT r (FTS5 has no NOT alone); l when r is NULL, NULL when l is. */
struct dg_search_expr *dg_search_andnot(struct dg_arena *a, struct dg_search_expr *l,
					struct dg_search_expr *r);

/*
 * Whether e asks only for whole tokens, each in any field: words side by
 * side (AND), none a prefix, a phrase of more than one token, restricted to
 * fields or over columns, and no OR or NOT. Then its tokens, in the order
 * the rendered query names them (FTS5's phrases' order), go to toks (at
 * most max; more: false) and *n gets their number.
 */
bool dg_search_whole_tokens(const struct dg_search_expr *e, const char **toks, size_t max,
			    size_t *n);

/*
 * LIKE patterns for the tokens of a words query (not AND/OR), to test a
 * stored token text (" tok tok ") for them: "% tok %", or "% tok%" for a
 * prefix. *n gets their number; the patterns are the arena's.
 */
const char *const *dg_search_patterns(struct dg_arena *a, const struct dg_search_expr *w,
				      size_t *n);

/*
 * ---- the grammar (query.c) ----
 */
#define DG_SEARCH_QUERY_MAX 1024 /* bytes of one query */
#define DG_SEARCH_ITEMS_MAX 32   /* words and phrases of one query */
#define DG_SEARCH_DEPTH_MAX 8    /* nested parentheses */

/*
 * Parse q (NUL-terminated; NULL is "") as a query on fields into *out, in
 * arena a. *out is NULL when q holds no token (empty, blanks, punctuation,
 * operators alone): the query constrains nothing. ETOOBIG with a message in
 * err past DG_SEARCH_QUERY_MAX bytes or DG_SEARCH_ITEMS_MAX words, EINVAL
 * past DG_SEARCH_DEPTH_MAX parentheses; *out is then NULL.
 */
dg_rc dg_search_parse(struct dg_arena *a, const char *q, unsigned fields,
		      struct dg_search_expr **out, struct dg_err *err) DG_MUST;

/*
 * The full-text syntax (PostgreSQL's to_tsquery, as CKAN's DataStore takes
 * q with plain=false), which unlike the search box refuses what it cannot
 * read: words side by side or joined by AND, & or && (all required), OR,
 * | or || (OR binds tighter, as above), NOT or ! before a word, a phrase
 * or a group (it must narrow something: "a NOT b", "a & !b" and "NOT a b"
 * are read, a query or an OR alternative of negations alone is
 * refused, as FTS5 cannot run it), "quoted phrases", parentheses, and a
 * Latin word is whole unless it ends in * or :* (a prefix). CJK text is
 * read as in the search box. EINVAL with a message in err for an unclosed
 * quote or parenthesis, a stray ')', an operator with nothing to join, an
 * empty group or a word with no letter or digit; the caps as above.
 */
dg_rc dg_search_parse_syntax(struct dg_arena *a, const char *q, unsigned fields,
			     struct dg_search_expr **out, struct dg_err *err) DG_MUST;

/*
 * The query in a canonical form, for tests and logs: words as [tok tok*],
 * phrases as "tok tok", (AND x y), (OR x y); "" for NULL. ETOOBIG past b's cap.
 */
dg_rc dg_search_print(const struct dg_search_expr *e, struct dg_buf *b) DG_MUST;

/*
 * ---- indexes (index.c) ----
 */
struct dg_search_index {
	const char *table;                        /* the index's table */
	const char *fields[DG_SEARCH_FIELDS_MAX]; /* field names (FTS5 columns) */
	size_t nfields;
};

/*
 * The migration script of an index named TABLE with FIELDS ("a, b, c"),
 * both string literals: an FTS5 table on SQLite, a (doc, tsv) table with a
 * GIN index on PostgreSQL.
 */
#define DG_SEARCH_MIGRATION(TABLE, FIELDS)                                                         \
	"{{sqlite}}CREATE VIRTUAL TABLE " TABLE " USING fts5(" FIELDS                              \
	", tokenize = 'ascii');{{end}}"                                                            \
	"{{pg}}CREATE TABLE " TABLE " (doc BIGINT PRIMARY KEY, tsv tsvector NOT NULL);"            \
	"CREATE INDEX " TABLE "_tsv ON " TABLE " USING GIN (tsv);{{end}}"

/*
 * The store's query text for e over index ix: an FTS5 MATCH expression or a
 * tsquery, appended to out. ETOOBIG past out's cap.
 */
dg_rc dg_search_render(enum dg_store_kind kind, const struct dg_search_index *ix,
		       const struct dg_search_expr *e, struct dg_buf *out) DG_MUST;

/*
 * Append the condition "document id_sql matches the query bound at '?'"
 * to sql: "<id_sql> IN (SELECT rowid FROM <table> WHERE <table> MATCH ?)"
 * on SQLite, "<id_sql> IN (SELECT doc FROM <table> WHERE tsv @@ CAST(? AS
 * tsquery))" on PostgreSQL. id_sql is the caller's SQL for the document id.
 */
dg_rc dg_search_cond(enum dg_store_kind kind, const struct dg_search_index *ix, const char *id_sql,
		     struct dg_buf *sql) DG_MUST;

/*
 * The tsvector text (PostgreSQL's input form) of a document whose field i
 * has the text texts[i] (NULL: empty): "'tok':1A 'tok':2A ...". Positions
 * run on across fields with a gap, so a phrase never spans two; past
 * DG_SEARCH_POS_MAX the rest is left out. ETOOBIG past out's cap.
 */
dg_rc dg_search_tsvector(const char *const *texts, size_t n, struct dg_buf *out) DG_MUST;

/*
 * (Re)write document id of ix with the fields' texts (NULL: empty),
 * tokenized here; a field past 4 MB of tokens is indexed as far as it
 * fits. Call in the writing transaction.
 */
dg_rc dg_search_put(struct dg_db *db, const struct dg_search_index *ix, int64_t id,
		    const char *const *texts) DG_MUST;
/* Remove document id from ix (none is fine). */
dg_rc dg_search_delete(struct dg_db *db, const struct dg_search_index *ix, int64_t id) DG_MUST;

/*
 * Bulk loads (store.h's dg_db_copy_*): the columns of ix's table, into cols
 * (room for DG_SEARCH_FIELDS_MAX + 1), and their number; then one
 * document's values, into vals (as many), made in bufs (as many, each
 * dg_buf_init'ed by the caller and reset here; vals point into them).
 * ETOOBIG when a field's tokens pass a buffer's cap.
 */
size_t dg_search_copy_cols(enum dg_store_kind kind, const struct dg_search_index *ix,
			   const char **cols);
dg_rc dg_search_copy_vals(enum dg_store_kind kind, const struct dg_search_index *ix, int64_t id,
			  const char *const *texts, struct dg_buf *bufs, const char **vals) DG_MUST;

/*
 * The tokenizer's version. An index written with an older one (or never
 * built) is stale and its owner rebuilds it, at start: dg_search_stale
 * tells, dg_search_built records the build (in the table search_built, one
 * row per index name, made here when missing).
 */
#define DG_SEARCH_VERSION 2
dg_rc dg_search_stale(struct dg_db *db, const char *name, bool *stale) DG_MUST;
dg_rc dg_search_built(struct dg_db *db, const char *name) DG_MUST;
/*
 * For a reader: whether name's build is recorded with this version (the
 * table search_built must exist: a reader makes nothing).
 */
dg_rc dg_search_ready(struct dg_db *db, const char *name, bool *ready) DG_MUST;
/* Forget name's build (its index was dropped). */
dg_rc dg_search_forget(struct dg_db *db, const char *name) DG_MUST;

/*
 * An index made and dropped while running (the DataStore's, one a table),
 * as DG_SEARCH_MIGRATION makes one: create records its build; drop (none
 * is fine) forgets it. ix's names are the owner's, never input.
 */
dg_rc dg_search_create(struct dg_db *db, const struct dg_search_index *ix) DG_MUST;
dg_rc dg_search_drop(struct dg_db *db, const struct dg_search_index *ix) DG_MUST;
/*
 * For a bulk load: dg_search_create without PostgreSQL's GIN index and
 * without recording the build (dg_search_ready says no), which
 * dg_search_index_build then builds once over every document (faster than
 * keeping it up to date row by row; queries need it: build before they
 * run) and records. On SQLite FTS5 is its own index: create makes the
 * FTS5 table, and build only records it.
 */
dg_rc dg_search_create_unindexed(struct dg_db *db, const struct dg_search_index *ix) DG_MUST;
dg_rc dg_search_index_build(struct dg_db *db, const struct dg_search_index *ix) DG_MUST;

/*
 * ---- documents of columns (cols.c) ----
 *
 * A table's row as one document of a one-field index (the DataStore's
 * tables): each token of column k (1-based, up to DG_SEARCH_COLS_MAX) is
 * indexed behind the column's tag "c<k>x" (c12xbeijing), so that one index
 * answers a word in any column (an OR over their tags) and a word in one.
 * Tags are prefix-free and every token of such a document has one, so a
 * tagged query token only meets the tokens of its own column.
 */
#define DG_SEARCH_COLS_MAX 1024

/*
 * The document of n columns (texts[i] is column i+1's text; NULL or "":
 * none), appended to out as the index's field holds it: FTS5 token text
 * (" c1xtok c2xtok ") on SQLite, a tsvector's input form on PostgreSQL. A
 * document past out's cap (or PostgreSQL's positions) is cut at a token.
 */
dg_rc dg_search_cols_text(enum dg_store_kind kind, const char *const *texts, size_t n,
			  struct dg_buf *out) DG_MUST;
/* (Re)write document id of a one-field ix from its columns' texts. */
dg_rc dg_search_put_cols(struct dg_db *db, const struct dg_search_index *ix, int64_t id,
			 const char *const *texts, size_t n) DG_MUST;
/*
 * For bulk loads: the values of dg_search_copy_cols's columns (two: the
 * id and the document) into vals, made in bufs[0] and bufs[1].
 */
dg_rc dg_search_copy_cols_vals(enum dg_store_kind kind, int64_t id, const char *const *texts,
			       size_t n, struct dg_buf *bufs, const char **vals) DG_MUST;
/*
 * The words of text (as dg_search_words, no phrase) over such documents:
 * every token, in any of the columns cols[0..ncols) (1-based). NULL when
 * text has no token or there is no column.
 */
struct dg_search_expr *dg_search_words_cols(struct dg_arena *a, const char *text,
					    const unsigned *cols, size_t ncols);
/* Turn every words query of e (a parsed query) into one over the columns cols[0..ncols). */
void dg_search_on_cols(struct dg_arena *a, struct dg_search_expr *e, const unsigned *cols,
		       size_t ncols);
/*
 * Append a derived table of the documents that match the query bound at
 * '?' (rendered by dg_search_render), each with its rank, higher for a
 * better match: "(SELECT <doc> AS id_as, <rank> AS rank_as FROM ...)",
 * ts_rank on PostgreSQL, bm25 negated on SQLite with the fields weighed
 * as ts_rank's default weights of A to D (their figures differ; their
 * order is what to rely on: a match in field 0 above one in field 2). A join on it ranks a page's
 * rows with one index lookup. *nparams gets how many '?' it holds (bind the same query to each);
 * id_as and rank_as are the caller's identifiers.
 */
dg_rc dg_search_ranked(enum dg_store_kind kind, const struct dg_search_index *ix, const char *id_as,
		       const char *rank_as, struct dg_buf *sql, size_t *nparams) DG_MUST;

#endif
