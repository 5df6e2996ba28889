/*
 * solr.h - the part of Solr's query syntax that CKAN clients send to
 * package_search (q and fq), parsed into a small tree (solr.c) and compiled
 * to a SQL condition in which every value is a bound parameter: no text of
 * the query ever becomes SQL text. Field names are looked up in a schema the
 * caller gives (search.c has the catalogue's); an unknown field is an error.
 *
 * Syntax: *:*; terms and "quoted phrases", bare (free text over the default
 * field) or as field:value; field:[a TO b] and field:{a TO b} ranges (ends
 * may be mixed, * leaves an end open; dates take NOW and NOW-7DAYS style
 * offsets); field:(a OR b) groups; +clause, -clause, NOT and !; AND and &&,
 * OR and ||; parentheses; backslash escapes; a ^boost is read and ignored.
 *
 * Precedence, loosest first: clauses side by side (all required, since
 * CKAN's default operator is AND), then OR, then AND, then NOT + -. So the
 * CKAN harvester's "organization:a OR organization:b metadata_modified:[X TO
 * *]" means (a OR b) AND the range, which is what it intends. Wildcards
 * other than *:* and open range ends, fuzzy ~ searches and Solr local
 * parameters {!...} are refused: the clients we serve do not send them.
 *
 * Caps: DG_SOLR_MAX_LEN bytes (ETOOBIG), DG_SOLR_MAX_DEPTH nested groups and
 * prefixes, DG_SOLR_MAX_CLAUSES terms and ranges (EINVAL). Every error has a
 * message for the user in err, without CKAN's "Search Query is invalid: ".
 */
#ifndef DG_SOLR_H
#define DG_SOLR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "search/search.h"
#include "store/store.h"

#define DG_SOLR_MAX_LEN     4096
#define DG_SOLR_MAX_DEPTH   16
#define DG_SOLR_MAX_CLAUSES 100

/* A parsed query; lives in the arena it was parsed into. */
struct dg_solr_node;

/*
 * Parse q (NUL-terminated) into *out, in arena a. An empty or all-blank q is
 * *:* (CKAN's default). EINVAL or ETOOBIG with a message on bad input.
 */
dg_rc dg_solr_parse(const char *q, struct dg_arena *a, struct dg_solr_node **out,
		    struct dg_err *err) DG_MUST;

/*
 * The tree in a canonical form, for tests and logs: (AND x y), (OR x y),
 * (NOT x), *:*, field:"value", "free text", field:[low TO high}, * for an
 * open end. ETOOBIG when b's cap is reached.
 */
dg_rc dg_solr_print(const struct dg_solr_node *n, struct dg_buf *b) DG_MUST;

/* How a field's values match. */
enum dg_solr_kind {
	DG_SOLR_STRING, /* exact, case-sensitive (Solr's string fields: name, tags, ...) */
	DG_SOLR_TEXT,   /* a case-folded substring (Solr's text fields: title, notes) */
	DG_SOLR_INT,    /* an integer; ranges allowed */
	DG_SOLR_DATE,   /* ISO 8601 UTC or NOW[+-N UNIT]; stored as ms since the epoch */
};

/*
 * A searchable field. name ending in '*' matches every name with that prefix
 * ("extras_*"). sql for STRING and TEXT is a condition in which each '?'
 * binds the value (for TEXT: "%value%", ASCII case-folded, LIKE-escaped with
 * '\') and each "{k}" binds what the '*' matched; for INT and DATE it is an
 * expression that the compiler compares (=, <, <=, >, >=) with the value.
 */
struct dg_solr_field {
	const char *name;
	enum dg_solr_kind kind;
	const char *sql;
	unsigned index_fields; /* TEXT: searched through the schema's index on these fields */
};

struct dg_solr_schema {
	const struct dg_solr_field *fields;
	size_t nfields;
	const char *text_sql; /* condition for a bare term; each '?' binds "%term%" as TEXT */
	const char
		*score_sql; /* without an index: the relevance of one bare term; '?' as text_sql */
	/*
	 * When set, bare terms and phrases (and TEXT fields with index_fields)
	 * are words of the search module (search.h) matched through this index,
	 * whose document id is index_id_sql; the free text of a query becomes
	 * one index lookup, and text_sql and score_sql are not used: the
	 * relevance is the index's own rank for the free text (rank below).
	 */
	const struct dg_search_index *index;
	const char *index_id_sql;
};

/*
 * A SQL condition and a relevance expression under construction, with their
 * bound values in order. where starts as "1=1" and score as "0"; each
 * compiled query is ANDed onto where, and each bare term outside a NOT adds
 * its score_sql to score (without an index) or its words to rank (with one). All memory is the
 * arena's (the buffers are released with it); caps: DG_SOLR_SQL_MAX bytes of SQL each.
 */
#define DG_SOLR_SQL_MAX (256u << 10)

struct dg_solr_sql {
	struct dg_arena *a;
	enum dg_store_kind kind; /* the store the SQL is for (SQLite unless set) */
	struct dg_buf where, score;
	struct dg_val *args, *score_args;
	size_t nargs, nscore_args, cap_args, cap_score_args;
	/* with an index: the free text outside any NOT, ORed (NULL: none), to rank by */
	struct dg_search_expr *rank;
};

/* A new one in arena a (its buffers are released with the arena). */
struct dg_solr_sql *dg_solr_sql_new(struct dg_arena *a);

/*
 * AND the query n onto s. now_ms resolves NOW. EINVAL with a message for an
 * unknown field, a range on a field that has none, a value that is not a
 * number or a date where one is needed; s is then unusable.
 */
dg_rc dg_solr_compile(struct dg_solr_sql *s, const struct dg_solr_schema *schema,
		      const struct dg_solr_node *n, int64_t now_ms, struct dg_err *err) DG_MUST;

/* A Solr date ("2024-01-31T08:00:00Z", "2024-01-31", NOW-1DAY) as ms; EINVAL otherwise. */
dg_rc dg_solr_date(const char *s, int64_t now_ms, int64_t *out) DG_MUST;

#endif
