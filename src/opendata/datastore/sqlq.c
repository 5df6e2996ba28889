/*
 * sqlq.c - datastore_search_sql's checker (see sqlq.h): a tokenizer,
 * then one pass over the tokens that refuses what a read of the DataStore
 * does not need and writes the statement with each resource id replaced by
 * its table.
 */
#include "opendata/datastore/sqlq.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"

enum kind { T_END, T_WORD, T_QUOTED, T_STRING, T_NUMBER, T_OP, T_LPAREN, T_RPAREN, T_COMMA, T_DOT };

struct tok {
	enum kind k;
	const char *p;
	size_t n;
};

/* Words refused anywhere: they write, lock, name tables outside FROM, or start other statements. */
static const char *const refused[] = {
	"into",       "for",    "table",  "only",     "with",      "lateral",     "returning",
	"insert",     "update", "delete", "drop",     "create",    "alter",       "grant",
	"revoke",     "pragma", "attach", "detach",   "copy",      "execute",     "prepare",
	"deallocate", "call",   "do",     "set",      "lock",      "vacuum",      "analyze",
	"explain",    "begin",  "commit", "rollback", "savepoint", "release",     "reindex",
	"truncate",   "listen", "notify", "load",     "import",    "tablesample",
};

/* Functions that may be called (and type names that take a precision). */
static const char *const functions[] = {
	"count",        "sum",        "avg",      "min",       "max",     "total",
	"group_concat", "string_agg", "lower",    "upper",     "length",  "char_length",
	"abs",          "round",      "floor",    "ceil",      "ceiling", "coalesce",
	"nullif",       "ifnull",     "substr",   "substring", "trim",    "ltrim",
	"rtrim",        "instr",      "position", "cast",      "extract", "date_part",
	"date_trunc",   "date",       "strftime", "julianday", "to_char", "numeric",
	"decimal",      "varchar",    "char",
};

/*
 * Words that are not columns but a value of the store's own (the role, the
 * database, the schema, the settings): PostgreSQL reads them without a
 * parenthesis. Refused on both stores alike; a column so named is quoted.
 */
static const char *const store_values[] = {
	"user",         "current_user",    "session_user",   "system_user",
	"current_role", "current_catalog", "current_schema", "current_database",
};

/*
 * The types a CAST may name: values, never PostgreSQL's object references
 * (regclass, regproc...) or its system types (oid, pg_lsn...). The same list
 * on both stores. "double" and "precision" make DOUBLE PRECISION.
 */
static const char *const cast_types[] = {
	"text",     "varchar", "char",      "character", "integer", "int",     "bigint",
	"smallint", "real",    "double",    "precision", "float",   "numeric", "decimal",
	"date",     "boolean", "timestamp", "time",      "varying", "int4",    "int8",
};

/* Words of the grammar that a parenthesis may follow. */
static const char *const before_paren[] = {
	"select", "distinct", "all",       "from",   "join",   "on",     "using",
	"where",  "and",      "or",        "not",    "in",     "exists", "by",
	"having", "then",     "else",      "when",   "case",   "is",     "between",
	"like",   "union",    "intersect", "except", "values", "limit",  "offset",
};

/* Words a 'string' may follow (a typed literal is only DATE '...' or TIMESTAMP '...'). */
static const char *const before_string[] = {
	"select",    "distinct", "all",     "where",    "and",    "or",      "not",
	"like",      "then",     "else",    "when",     "case",   "is",      "between",
	"having",    "by",       "on",      "as",       "escape", "from",    "date",
	"timestamp", "values",   "in",      "limit",    "offset", "similar", "to",
	"ilike",     "glob",     "leading", "trailing", "both",
};

/* Words that end a FROM list at their depth. */
static const char *const end_from[] = {
	"where",  "group", "order",     "having", "limit",
	"offset", "union", "intersect", "except", "window",
};

static bool word_in(const struct tok *t, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == t->n && strncasecmp(list[i], t->p, t->n) == 0)
			return true;
	return false;
}

#define IN(t, list) word_in(t, list, sizeof(list) / sizeof(list[0]))

/* EINVAL on "sql": before, the token's text (at most 60 bytes), after. */
static dg_rc refuse(struct dg_err *err, const char *before, const struct tok *t, const char *after)
{
	return dg_err_field(err, DG_EINVAL, "sql", "%s%.*s%s", before, t->n < 60 ? (int)t->n : 60,
			    t->p, after);
}

/* A quoted token ('...' or "...", the quote doubled inside): its length, 0 when unterminated. */
static size_t quoted_len(const char *s, size_t len, char q)
{
	for (size_t i = 1; i < len; i++) {
		if (s[i] != q)
			continue;
		if (i + 1 < len && s[i + 1] == q) {
			i++;
			continue;
		}
		return i + 1;
	}
	return 0;
}

static dg_rc next_tok(const char *s, size_t len, size_t *pos, struct tok *t, struct dg_err *err)
{
	size_t i = *pos;
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	*t = (struct tok){.k = T_END, .p = s + i, .n = 0};
	if (i == len) {
		*pos = i;
		return DG_OK;
	}
	const char *p = s + i;
	size_t rest = len - i, n = 1;
	unsigned char c = (unsigned char)*p;
	if (isalpha(c) || c == '_') {
		t->k = T_WORD;
		while (n < rest && (isalnum((unsigned char)p[n]) || p[n] == '_'))
			n++;
	} else if (isdigit(c) || (c == '.' && rest > 1 && isdigit((unsigned char)p[1]))) {
		t->k = T_NUMBER;
		while (n < rest && (isdigit((unsigned char)p[n]) || p[n] == '.'))
			n++;
		if (n < rest && (p[n] == 'e' || p[n] == 'E')) {
			size_t e = n + 1;
			if (e < rest && (p[e] == '+' || p[e] == '-'))
				e++;
			if (e < rest && isdigit((unsigned char)p[e])) {
				n = e;
				while (n < rest && isdigit((unsigned char)p[n]))
					n++;
			}
		}
	} else if (c == '"' || c == '\'') {
		t->k = c == '"' ? T_QUOTED : T_STRING;
		n = quoted_len(p, rest, (char)c);
		if (n == 0)
			return dg_err_field(err, DG_EINVAL, "sql", "A %s is not closed",
					    c == '"' ? "quoted name" : "string");
		if (c == '"' && n == 2)
			return dg_err_field(err, DG_EINVAL, "sql", "An empty quoted name");
	} else if (c == '(' || c == ')' || c == ',' || c == '.') {
		t->k = c == '(' ? T_LPAREN : c == ')' ? T_RPAREN : c == ',' ? T_COMMA : T_DOT;
	} else {
		static const char *const two[] = {"<=", ">=", "<>", "!=", "||"};
		t->k = T_OP;
		n = 0;
		if (rest > 1 && ((c == '-' && p[1] == '-') || (c == '/' && p[1] == '*')))
			return dg_err_field(err, DG_EINVAL, "sql", "Comments are not allowed");
		for (size_t k = 0; k < sizeof two / sizeof two[0] && rest > 1; k++)
			if (p[0] == two[k][0] && p[1] == two[k][1])
				n = 2;
		if (n == 0 && strchr("*+-/%=<>", c) && c)
			n = 1;
		if (n == 0) {
			if (c >= 0x20 && c < 0x7f)
				return dg_err_field(err, DG_EINVAL, "sql", "\"%c\" is not allowed",
						    c);
			return dg_err_field(
				err, DG_EINVAL, "sql",
				"Only ASCII outside quotes: put names in double quotes");
		}
	}
	t->n = n;
	*pos = i + n;
	return DG_OK;
}

/* The text of a quoted name, its doubled quotes undone (malloc'd). */
static char *unquote(const struct tok *t)
{
	char *s = dg_xmalloc(t->n);
	size_t o = 0;
	for (size_t i = 1; i + 1 < t->n; i++) {
		s[o++] = t->p[i];
		if (t->p[i] == '"')
			i++;
	}
	s[o] = '\0';
	return s;
}

struct check {
	int depth;
	bool from[DG_DS_SQLQ_DEPTH + 1]; /* inside a FROM list at this depth */
	bool func[DG_DS_SQLQ_DEPTH + 1]; /* this parenthesis holds a function's arguments */
	bool cast[DG_DS_SQLQ_DEPTH + 1]; /* this parenthesis holds CAST's argument */
	bool want_table, after_table, call, is_cast, want_type;
	dg_ds_sqlq_table_fn table;
	void *ctx;
	struct dg_buf *out;
	struct dg_err *err;
};

static dg_rc emit(struct check *c, const struct tok *t, const struct tok *prev)
{
	bool tight = prev && (prev->k == T_LPAREN || prev->k == T_DOT || t->k == T_RPAREN ||
			      t->k == T_COMMA || t->k == T_DOT || t->k == T_LPAREN);
	if (c->out->len > 0 && !tight) {
		dg_rc rc = dg_buf_adds(c->out, " ");
		if (rc != DG_OK)
			return rc;
	}
	return dg_buf_add(c->out, t->p, t->n);
}

/* A table in a FROM list: a quoted resource id the asker may read. */
static dg_rc table_ref(struct check *c, const struct tok *t, const struct tok *prev)
{
	char name[DG_DS_TABLE_MAX];
	if (t->k != T_QUOTED)
		return refuse(
			c->err,
			"A table is a resource id in double quotes, as FROM \"<resource id>\", "
			"not \"",
			t, "\"");
	char *id = unquote(t);
	dg_rc rc = c->table(c->ctx, id, name, c->err);
	free(id);
	if (rc != DG_OK)
		return rc;
	struct tok q = {.k = T_QUOTED, .p = "\"", .n = 1};
	if ((rc = emit(c, &q, prev)) == DG_OK && (rc = dg_buf_adds(c->out, name)) == DG_OK)
		rc = dg_buf_adds(c->out, "\"");
	c->want_table = false;
	c->after_table = true;
	return rc;
}

static dg_rc word(struct check *c, const struct tok *t, const struct tok *next)
{
	if (IN(t, refused))
		return refuse(c->err, "\"", t, "\" is not allowed: one SELECT that only reads");
	if (IN(t, store_values))
		return refuse(c->err, "\"", t,
			      "\" is not allowed: a column of that name goes in double quotes");
	if (c->want_type) {
		/* after CAST(x AS: a type from the list, its precision in parentheses */
		if (!IN(t, cast_types))
			return refuse(c->err, "Casts to \"", t, "\" are not allowed");
		c->want_type = next->k == T_WORD; /* DOUBLE PRECISION */
		c->call = next->k == T_LPAREN;
		return DG_OK;
	}
	/* a word before a string is PostgreSQL's typed literal (regclass 'users') */
	if (next->k == T_STRING && !IN(t, before_string))
		return refuse(c->err, "\"", t, "\" cannot be followed by a string");
	if (t->n == 2 && strncasecmp(t->p, "as", 2) == 0 && c->cast[c->depth]) {
		c->want_type = true;
		return DG_OK;
	}
	c->call = false;
	c->is_cast = false;
	if (next->k == T_LPAREN) {
		if (IN(t, functions)) {
			c->call = true;
			c->is_cast = t->n == 4 && strncasecmp(t->p, "cast", 4) == 0;
		} else if (!IN(t, before_paren))
			return refuse(c->err, "Function \"", t, "\" is not allowed");
	}
	if (t->n == 4 && strncasecmp(t->p, "from", 4) == 0 && !c->func[c->depth]) {
		c->from[c->depth] = true; /* not EXTRACT(year FROM x) */
		c->want_table = true;
	} else if (t->n == 4 && strncasecmp(t->p, "join", 4) == 0) {
		c->want_table = true;
	} else if (IN(t, end_from)) {
		c->from[c->depth] = false;
	}
	return DG_OK;
}

static dg_rc step(struct check *c, const struct tok *t, const struct tok *next,
		  const struct tok *prev)
{
	dg_rc rc;
	if (c->want_table && t->k != T_LPAREN)
		return table_ref(c, t, prev);
	c->want_table = false;
	if (c->after_table && t->k == T_DOT)
		return dg_err_field(c->err, DG_EINVAL, "sql", "A table cannot be qualified");
	c->after_table = false;
	if (c->want_type && t->k != T_WORD)
		return refuse(c->err, "A cast names a type as a word, not \"", t, "\"");
	switch (t->k) {
	case T_WORD: rc = word(c, t, next); break;
	case T_QUOTED:
		rc = next->k == T_LPAREN ? refuse(c->err, "", t, " cannot be called") : DG_OK;
		break;
	case T_LPAREN:
		if (c->depth == DG_DS_SQLQ_DEPTH)
			return dg_err_field(c->err, DG_EINVAL, "sql", "Nested too deeply");
		c->depth++;
		c->from[c->depth] = false;
		c->func[c->depth] = c->call;
		c->cast[c->depth] = c->is_cast;
		c->call = false;
		c->is_cast = false;
		rc = DG_OK;
		break;
	case T_RPAREN:
		if (c->depth == 0)
			return dg_err_field(c->err, DG_EINVAL, "sql", "A \")\" has no \"(\"");
		c->depth--;
		rc = DG_OK;
		break;
	case T_COMMA:
		if (c->from[c->depth] && !c->func[c->depth])
			c->want_table = true;
		rc = DG_OK;
		break;
	default: rc = DG_OK;
	}
	return rc == DG_OK ? emit(c, t, prev) : rc;
}

dg_rc dg_ds_sqlq_check(const char *sql, size_t len, dg_ds_sqlq_table_fn table, void *ctx,
		       struct dg_buf *out, struct dg_err *err)
{
	struct check c = {.table = table, .ctx = ctx, .out = out, .err = err};
	struct tok prev = {0}, t, next;
	size_t pos = 0;
	if (len == 0)
		return dg_err_field(err, DG_EINVAL, "sql", "Missing value");
	if (len > DG_DS_SQLQ_MAX)
		return dg_err_field(err, DG_EINVAL, "sql", "The statement is over %d bytes",
				    DG_DS_SQLQ_MAX);
	if (memchr(sql, '\0', len))
		return dg_err_field(err, DG_EINVAL, "sql", "The statement holds a NUL byte");
	dg_rc rc = next_tok(sql, len, &pos, &t, err);
	if (rc != DG_OK)
		return rc;
	if (t.k != T_WORD || t.n != 6 || strncasecmp(t.p, "select", 6) != 0)
		return dg_err_field(err, DG_EINVAL, "sql", "Only one SELECT statement is allowed");
	while (t.k != T_END) {
		if ((rc = next_tok(sql, len, &pos, &next, err)) != DG_OK)
			return rc;
		if ((rc = step(&c, &t, &next, prev.p ? &prev : NULL)) != DG_OK)
			return rc;
		prev = t;
		t = next;
	}
	if (c.want_table)
		return dg_err_field(err, DG_EINVAL, "sql", "A table is missing after FROM");
	if (c.depth != 0)
		return dg_err_field(err, DG_EINVAL, "sql", "A \"(\" is not closed");
	return DG_OK;
}
