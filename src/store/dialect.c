/*
 * dialect.c - every difference between SQLite and PostgreSQL SQL, in one
 * place.
 *
 * dgov writes SQL once: '?' placeholders and a few {{tokens}}. For
 * PostgreSQL, '?' becomes $1, $2, ... (but not inside '...' literals, "..."
 * identifiers or comments); tokens expand to each dialect's spelling. An
 * unknown {{token}} is EINVAL, so a typo fails loudly in tests rather than
 * reaching the database. Where the two cannot share a statement (full-text
 * indexes), a script may hold {{sqlite}} ... {{end}} and {{pg}} ... {{end}}
 * blocks, kept for their store only; blocks do not nest and hold no '?'. SQL written for both
 * databases uses neither PostgreSQL's $$ quoting nor E'' escapes, so the scanner need not know
 * them.
 */
#include "store/store.h"

#include <string.h>

#include "store/backend.h" /* dg_sql_migrate_lock */

struct token {
	const char *name;
	const char *sqlite;
	const char *pg;
};

static const struct token tokens[] = {
	{"{{pk}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY"},
	{"{{skip_locked}}", "", "FOR UPDATE SKIP LOCKED"},
	{"{{now_ms}}", "CAST((julianday('now') - 2440587.5)*86400000 AS INTEGER)",
	 "(extract(epoch from clock_timestamp())*1000)::bigint"},
};

/* Length of the quoted run or comment starting at p (0 when none starts there). */
static size_t skip_quoted(const char *p)
{
	const char *e = NULL;
	if (p[0] == '\'' || p[0] == '"') {
		e = strchr(p + 1, p[0]);
	} else if (p[0] == '-' && p[1] == '-') {
		e = strchr(p, '\n');
	} else if (p[0] == '/' && p[1] == '*') {
		e = strstr(p + 2, "*/");
		if (e)
			e++;
	} else {
		return 0;
	}
	/* an unterminated literal runs to the end; the database reports it */
	return e ? (size_t)(e - p) + 1 : strlen(p);
}

static dg_rc add_token(enum dg_store_kind kind, const char **pp, struct dg_buf *out)
{
	for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
		size_t n = strlen(tokens[i].name);
		if (strncmp(*pp, tokens[i].name, n) == 0) {
			*pp += n;
			return dg_buf_adds(out,
					   kind == DG_STORE_PG ? tokens[i].pg : tokens[i].sqlite);
		}
	}
	return DG_EINVAL;
}

/* {{sqlite}}, {{pg}} and {{end}}: 1 when one starts at *pp (moved past it), setting *block. */
static int block_mark(const char **pp, int *block)
{
	static const char *const marks[] = {"{{end}}", "{{sqlite}}", "{{pg}}"};
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(marks[i]);
		if (strncmp(*pp, marks[i], n) == 0) {
			*pp += n;
			*block = i; /* 0 none, 1 SQLite's, 2 PostgreSQL's */
			return 1;
		}
	}
	return 0;
}

dg_rc dg_sql_translate(enum dg_store_kind kind, const char *sql, struct dg_buf *out)
{
	dg_rc rc = DG_OK;
	unsigned nparam = 0;
	int block = 0, was;
	const char *p = sql;
	dg_buf_reset(out);
	while (*p && rc == DG_OK) {
		size_t q = skip_quoted(p);
		int skip = (block == 1 && kind != DG_STORE_SQLITE) ||
			   (block == 2 && kind != DG_STORE_PG);
		was = block;
		if (q) {
			if (!skip)
				rc = dg_buf_add(out, p, q);
			p += q;
		} else if (p[0] == '{' && p[1] == '{' && block_mark(&p, &block)) {
			if ((was && block) || (!was && !block))
				rc = DG_EINVAL; /* nested, or an end without a start */
		} else if (skip) {
			p++;
		} else if (p[0] == '{' && p[1] == '{') {
			rc = add_token(kind, &p, out);
		} else if (*p == '?' && kind == DG_STORE_PG) {
			rc = dg_buf_addf(out, "$%u", ++nparam);
			p++;
		} else {
			rc = dg_buf_addc(out, *p);
			p++;
		}
	}
	return rc ? rc : block ? DG_EINVAL : DG_OK;
}

const char *dg_sql_migrate_lock(enum dg_store_kind kind)
{
	/* one fixed key for "dgov migrations"; SQLite's BEGIN IMMEDIATE already serialises */
	return kind == DG_STORE_PG ? "SELECT pg_advisory_xact_lock(7400110001)" : NULL;
}
