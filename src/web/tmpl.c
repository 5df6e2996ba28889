/*
 * tmpl.c - the template engine: parse once into a tree, render from the tree.
 *
 * A template is parsed at load into a list of nodes (text, values, messages,
 * if/for/include/block), kept in an arena owned by the template, so a broken
 * template is refused with "name:line: why" before any request sees it.
 * Rendering walks the tree and appends to a capped dg_buf: every value goes
 * through dg_buf_add_html unless the template asked for raw output with
 * {{{ }}}. Names in loops shadow the data; "loop" is the innermost loop's
 * counters. Include and extends nesting is capped at DEPTH_MAX, which also
 * stops a template that includes itself.
 */
#include "web/tmpl.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/arena.h"
#include "core/mem.h"

#define DEPTH_MAX     16
#define PATH_SEGS_MAX 16
#define TEMPLATE_MAX  ((size_t)1 << 20)
#define NAME_MAX_LEN  256
#define NEST_MAX      64 /* if/for/block inside each other; bounds the parser's recursion */

enum kind { N_TEXT, N_VAR, N_RAW, N_T, N_IF, N_FOR, N_INCLUDE, N_BLOCK };
enum expr_kind { E_PATH, E_NOT, E_EQ, E_NE };

struct path {
	const char **seg;
	size_t n;
};

struct expr {
	enum expr_kind kind;
	struct path path;
	const char *lit;  /* E_EQ / E_NE */
	struct expr *sub; /* E_NOT */
};

struct node {
	enum kind kind;
	int line;
	struct node *next;
	const char *text; /* N_TEXT bytes, N_T key, N_INCLUDE / N_BLOCK name, N_FOR variable */
	size_t len;
	struct path path;  /* N_VAR, N_RAW, N_FOR list */
	struct expr *cond; /* N_IF */
	struct node *body; /* N_IF then, N_FOR body, N_BLOCK body */
	struct node *alt;  /* N_IF: the elif chain as a nested N_IF, or else; N_FOR: else */
};

struct tmpl {
	char *name;
	struct dg_arena *arena;
	struct node *nodes;
	const char *extends;
	int extends_line;
};

struct dg_tmpl_set {
	struct tmpl **v;
	size_t n, cap;
};

/* ---- parsing ---- */

struct parser {
	const char *name;
	const char *s, *end;
	int line;
	struct dg_arena *a;
	struct dg_err *err;
	int nest;
};

/* A tag's words: identifiers/paths, "strings", == and !=. */
struct tok {
	enum { T_WORD, T_STR, T_OP } kind;
	const char *p;
	size_t n;
};
#define TOKS_MAX 8

static dg_rc perr(struct parser *p, int line, const char *why, const char *what)
{
	return dg_err_set(p->err, DG_EINVAL, "%s:%d: %s%s%s", p->name, line, why, what ? " " : "",
			  what ? what : "");
}

static bool is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

/* Split the inside of a tag into at most TOKS_MAX tokens. */
static dg_rc tokenize(struct parser *p, int line, const char *s, const char *e, struct tok *t,
		      size_t *nt)
{
	size_t n = 0;
	while (s < e) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
			s++;
			continue;
		}
		if (n == TOKS_MAX)
			return perr(p, line, "too many words in a tag", NULL);
		if (*s == '"') {
			const char *q = ++s;
			while (s < e && *s != '"')
				s++;
			if (s == e)
				return perr(p, line, "unterminated string", NULL);
			t[n++] = (struct tok){T_STR, q, (size_t)(s - q)};
			s++;
		} else if ((*s == '=' || *s == '!') && s + 1 < e && s[1] == '=') {
			t[n++] = (struct tok){T_OP, s, 2};
			s += 2;
		} else if (is_word_char(*s)) {
			const char *q = s;
			while (s < e && is_word_char(*s))
				s++;
			t[n++] = (struct tok){T_WORD, q, (size_t)(s - q)};
		} else {
			return perr(p, line, "unexpected character in a tag", NULL);
		}
	}
	*nt = n;
	return DG_OK;
}

static bool tok_is(const struct tok *t, const char *w)
{
	return t->kind == T_WORD && strlen(w) == t->n && memcmp(t->p, w, t->n) == 0;
}

static dg_rc parse_path(struct parser *p, int line, const struct tok *t, struct path *out)
{
	if (t->kind != T_WORD)
		return perr(p, line, "expected a name", NULL);
	const char *s = t->p, *e = t->p + t->n;
	const char *seg[PATH_SEGS_MAX];
	size_t n = 0;
	while (s <= e) {
		const char *d = memchr(s, '.', (size_t)(e - s));
		if (!d)
			d = e;
		if (d == s)
			return perr(p, line, "empty part in name", NULL);
		if (n == PATH_SEGS_MAX)
			return perr(p, line, "name has too many parts", NULL);
		seg[n++] = dg_arena_strndup(p->a, s, (size_t)(d - s));
		s = d + 1;
	}
	out->seg = dg_arena_alloc(p->a, n * sizeof(*out->seg));
	memcpy(out->seg, seg, n * sizeof(*seg));
	out->n = n;
	return DG_OK;
}

static dg_rc parse_expr(struct parser *p, int line, const struct tok *t, size_t n,
			struct expr **out)
{
	struct expr *x = dg_arena_alloc(p->a, sizeof(*x));
	dg_rc rc;
	if (n == 0)
		return perr(p, line, "missing condition", NULL);
	if (tok_is(&t[0], "not")) {
		x->kind = E_NOT;
		rc = parse_expr(p, line, t + 1, n - 1, &x->sub);
	} else if (n == 1) {
		x->kind = E_PATH;
		rc = parse_path(p, line, &t[0], &x->path);
	} else if (n == 3 && t[1].kind == T_OP && t[2].kind == T_STR) {
		x->kind = t[1].p[0] == '=' ? E_EQ : E_NE;
		x->lit = dg_arena_strndup(p->a, t[2].p, t[2].n);
		rc = parse_path(p, line, &t[0], &x->path);
	} else {
		return perr(
			p, line,
			"bad condition (use: name, not ..., name == \"text\", name != \"text\")",
			NULL);
	}
	*out = x;
	return rc;
}

/* Where a body stopped: the closing tag's word and its other tokens. */
struct stop {
	enum { S_EOF, S_END, S_ELSE, S_ELIF } kind;
	int line;
	struct tok t[TOKS_MAX];
	size_t nt;
};

static dg_rc parse_body(struct parser *p, struct node **out, struct stop *st);

static struct node *new_node(struct parser *p, enum kind k, int line)
{
	struct node *n = dg_arena_alloc(p->a, sizeof(*n));
	n->kind = k;
	n->line = line;
	return n;
}

static void count_lines(struct parser *p, const char *s, const char *e)
{
	for (; s < e; s++)
		if (*s == '\n')
			p->line++;
}

/* {% if %} ... up to and including its {% end %}; elif chains become nested ifs. */
static dg_rc parse_if(struct parser *p, int line, const struct tok *t, size_t nt, struct node **out)
{
	struct node *n = new_node(p, N_IF, line);
	struct stop st;
	dg_rc rc = parse_expr(p, line, t, nt, &n->cond);
	if (!rc)
		rc = parse_body(p, &n->body, &st);
	if (rc)
		return rc;
	if (st.kind == S_ELIF) {
		rc = parse_if(p, st.line, st.t + 1, st.nt - 1, &n->alt);
	} else if (st.kind == S_ELSE) {
		rc = parse_body(p, &n->alt, &st);
		if (!rc && st.kind != S_END)
			rc = st.kind == S_EOF
				     ? perr(p, line, "'if' is never closed with {% end %}", NULL)
				     : perr(p, st.line, "'elif' or 'else' after 'else'", NULL);
	} else if (st.kind == S_EOF) {
		rc = perr(p, line, "'if' is never closed with {% end %}", NULL);
	}
	*out = n;
	return rc;
}

static dg_rc parse_for(struct parser *p, int line, const struct tok *t, size_t nt,
		       struct node **out)
{
	if (nt != 3 || t[0].kind != T_WORD || !tok_is(&t[1], "in") || memchr(t[0].p, '.', t[0].n) ||
	    tok_is(&t[0], "loop"))
		return perr(p, line, "bad loop (use: {% for item in list %})", NULL);
	struct node *n = new_node(p, N_FOR, line);
	n->text = dg_arena_strndup(p->a, t[0].p, t[0].n);
	struct stop st;
	dg_rc rc = parse_path(p, line, &t[2], &n->path);
	if (!rc)
		rc = parse_body(p, &n->body, &st);
	if (!rc && st.kind == S_ELSE)
		rc = parse_body(p, &n->alt, &st);
	if (!rc && st.kind != S_END)
		rc = st.kind == S_EOF
			     ? perr(p, line, "'for' is never closed with {% end %}", NULL)
			     : perr(p, st.line, "'elif' or a second 'else' in a loop", NULL);
	*out = n;
	return rc;
}

/* One {% ... %} tag: a statement that becomes a node, or a body-closing word. */
static dg_rc parse_stmt(struct parser *p, int line, const char *s, const char *e, struct node **out,
			struct stop *st)
{
	struct tok t[TOKS_MAX];
	size_t nt;
	dg_rc rc = tokenize(p, line, s, e, t, &nt);
	if (rc)
		return rc;
	*out = NULL;
	st->line = line;
	if (nt == 0)
		return perr(p, line, "empty tag", NULL);
	if (tok_is(&t[0], "end") || tok_is(&t[0], "else") || tok_is(&t[0], "elif")) {
		if (!tok_is(&t[0], "elif") && nt != 1)
			return perr(p, line, "unexpected words after",
				    tok_is(&t[0], "end") ? "end" : "else");
		st->kind = tok_is(&t[0], "end") ? S_END : tok_is(&t[0], "else") ? S_ELSE : S_ELIF;
		memcpy(st->t, t, sizeof(t));
		st->nt = nt;
		return DG_OK;
	}
	if (tok_is(&t[0], "if"))
		return parse_if(p, line, t + 1, nt - 1, out);
	if (tok_is(&t[0], "for"))
		return parse_for(p, line, t + 1, nt - 1, out);
	bool inc = tok_is(&t[0], "include"), blk = tok_is(&t[0], "block");
	if (inc || blk) {
		if (nt != 2 || t[1].kind != (inc ? T_STR : T_WORD) || t[1].n == 0 ||
		    t[1].n >= NAME_MAX_LEN)
			return perr(p, line,
				    inc ? "bad include (use: {% include \"file.html\" %})"
					: "bad block (use: {% block name %})",
				    NULL);
		struct node *n = new_node(p, inc ? N_INCLUDE : N_BLOCK, line);
		n->text = dg_arena_strndup(p->a, t[1].p, t[1].n);
		if (blk) {
			struct stop bst;
			rc = parse_body(p, &n->body, &bst);
			if (!rc && bst.kind != S_END)
				rc = bst.kind == S_EOF
					     ? perr(p, line,
						    "'block' is never closed with {% end %}", NULL)
					     : perr(p, bst.line, "'else' or 'elif' inside a block",
						    NULL);
		}
		*out = n;
		return rc;
	}
	if (tok_is(&t[0], "extends"))
		return perr(p, line, "'extends' must come first in the file", NULL);
	char word[32];
	snprintf(word, sizeof(word), "'%.*s'", (int)(t[0].n > 20 ? 20 : t[0].n), t[0].p);
	return perr(p, line, "unknown tag", word);
}

/* {{ path }}, {{ t "key" }} or {{{ path }}}. */
static dg_rc parse_output(struct parser *p, int line, const char *s, const char *e, bool raw,
			  struct node **out)
{
	struct tok t[TOKS_MAX];
	size_t nt;
	dg_rc rc = tokenize(p, line, s, e, t, &nt);
	if (rc)
		return rc;
	if (!raw && nt == 2 && tok_is(&t[0], "t") && t[1].kind == T_STR) {
		struct node *n = new_node(p, N_T, line);
		n->text = dg_arena_strndup(p->a, t[1].p, t[1].n);
		*out = n;
		return DG_OK;
	}
	if (nt != 1)
		return perr(p, line,
			    raw ? "bad raw output (use: {{{ name }}})"
				: "bad output (use: {{ name }} or {{ t \"key\" }})",
			    NULL);
	struct node *n = new_node(p, raw ? N_RAW : N_VAR, line);
	*out = n;
	return parse_path(p, line, &t[0], &n->path);
}

/* Find the closing marker from p->s; the tag's inside is [p->s, *close). */
static dg_rc find_close(struct parser *p, int line, const char *marker, const char **close)
{
	const char *c = memmem(p->s, (size_t)(p->end - p->s), marker, strlen(marker));
	if (!c)
		return perr(p, line, "unclosed tag, expected", marker);
	*close = c;
	return DG_OK;
}

/* One tag starting at p->s (which points at "{{", "{%" or "{#"). */
static dg_rc parse_tag(struct parser *p, struct node **out, struct stop *st)
{
	int line = p->line;
	const char *open = p->s, *close = NULL;
	bool raw = open + 2 < p->end && open[1] == '{' && open[2] == '{';
	const char *marker = open[1] == '%' ? "%}" : open[1] == '#' ? "#}" : raw ? "}}}" : "}}";
	p->s += raw ? 3 : 2;
	dg_rc rc = find_close(p, line, marker, &close);
	if (rc)
		return rc;
	const char *inner = p->s;
	count_lines(p, inner, close);
	p->s = close + strlen(marker);
	*out = NULL;
	if (open[1] == '#')
		return DG_OK;
	if (open[1] == '%')
		return parse_stmt(p, line, inner, close, out, st);
	return parse_output(p, line, inner, close, raw, out);
}

static const char *next_tag(const char *s, const char *e)
{
	for (; s + 1 < e; s++) {
		s = memchr(s, '{', (size_t)(e - s - 1));
		if (!s)
			return NULL;
		if (s[1] == '{' || s[1] == '%' || s[1] == '#')
			return s;
	}
	return NULL;
}

/* Nodes until EOF or a closing word (end / else / elif), which *st names. */
static dg_rc parse_body(struct parser *p, struct node **out, struct stop *st)
{
	struct node head = {0}, *tail = &head;
	st->kind = S_EOF;
	st->nt = 0;
	if (p->nest >= NEST_MAX)
		return perr(p, p->line, "tags nested too deep", NULL);
	p->nest++;
	while (p->s < p->end) {
		const char *tag = next_tag(p->s, p->end);
		const char *stop = tag ? tag : p->end;
		if (stop > p->s) {
			struct node *n = new_node(p, N_TEXT, p->line);
			n->text = p->s;
			n->len = (size_t)(stop - p->s);
			count_lines(p, p->s, stop);
			p->s = stop;
			tail = tail->next = n;
			continue;
		}
		struct node *n = NULL;
		st->kind = S_EOF;
		dg_rc rc = parse_tag(p, &n, st);
		if (rc)
			return rc;
		if (n)
			tail = tail->next = n;
		else if (st->kind != S_EOF)
			break;
	}
	p->nest--;
	*out = head.next;
	return DG_OK;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
	return true;
}

/* Leading {% extends "x" %}, after any blank text and comments. */
static dg_rc parse_extends(struct parser *p, struct tmpl *t)
{
	for (;;) {
		while (p->s < p->end && blank(p->s, 1)) {
			count_lines(p, p->s, p->s + 1);
			p->s++;
		}
		if (p->end - p->s >= 2 && p->s[0] == '{' && p->s[1] == '#') {
			const char *c = NULL;
			int line = p->line;
			p->s += 2;
			dg_rc rc = find_close(p, line, "#}", &c);
			if (rc)
				return rc;
			count_lines(p, p->s, c);
			p->s = c + 2;
			continue;
		}
		break;
	}
	const char *s = p->s;
	if (p->end - s < 2 || s[0] != '{' || s[1] != '%')
		return DG_OK;
	const char *c = memmem(s, (size_t)(p->end - s), "%}", 2);
	struct tok tk[TOKS_MAX];
	size_t nt;
	if (!c || tokenize(p, p->line, s + 2, c, tk, &nt) || nt == 0 || !tok_is(&tk[0], "extends"))
		return DG_OK; /* not extends: the body parser reports any error */
	if (nt != 2 || tk[1].kind != T_STR || tk[1].n == 0 || tk[1].n >= NAME_MAX_LEN)
		return perr(p, p->line, "bad extends (use: {% extends \"layout.html\" %})", NULL);
	t->extends = dg_arena_strndup(p->a, tk[1].p, tk[1].n);
	t->extends_line = p->line;
	count_lines(p, s, c);
	p->s = c + 2;
	return DG_OK;
}

/* In a template that extends another, only blocks are shown: anything else is a mistake. */
static dg_rc check_child(struct parser *p, const struct tmpl *t)
{
	for (const struct node *n = t->nodes; n; n = n->next) {
		if (n->kind == N_BLOCK || (n->kind == N_TEXT && blank(n->text, n->len)))
			continue;
		int line = n->line;
		/* name the line of the first visible character, not where the text began */
		for (size_t i = 0; n->kind == N_TEXT && i < n->len && blank(n->text + i, 1); i++)
			line += n->text[i] == '\n';
		return perr(p, line, "content outside a block in a template that extends",
			    t->extends);
	}
	return DG_OK;
}

static void tmpl_free(struct tmpl *t)
{
	if (!t)
		return;
	dg_arena_free(t->arena);
	free(t->name);
	free(t);
}

static dg_rc tmpl_parse(const char *name, const char *src, size_t len, struct tmpl **out,
			struct dg_err *err)
{
	struct tmpl *t = dg_xcalloc(1, sizeof(*t));
	t->name = dg_xstrdup(name);
	t->arena = dg_arena_new();
	/* The tree points into the source, so the arena keeps a copy. */
	char *copy = dg_arena_strndup(t->arena, src, len);
	struct parser p = {t->name, copy, copy + len, 1, t->arena, err, 0};
	struct stop st;
	dg_rc rc = DG_EINVAL;
	if (len > TEMPLATE_MAX) {
		rc = perr(&p, 1, "template too large", NULL);
		goto out;
	}
	rc = parse_extends(&p, t);
	if (!rc)
		rc = parse_body(&p, &t->nodes, &st);
	if (!rc && st.kind != S_EOF)
		rc = perr(&p, st.line,
			  st.kind == S_END ? "'end' without an open tag"
					   : "'else' or 'elif' outside 'if' or 'for'",
			  NULL);
	if (!rc && t->extends)
		rc = check_child(&p, t);
out:
	if (rc) {
		tmpl_free(t);
		return rc;
	}
	*out = t;
	return DG_OK;
}

/* ---- the set ---- */

struct dg_tmpl_set *dg_tmpl_set_new(void)
{
	return dg_xcalloc(1, sizeof(struct dg_tmpl_set));
}

void dg_tmpl_set_free(struct dg_tmpl_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		tmpl_free(s->v[i]);
	free(s->v);
	free(s);
}

static struct tmpl *find(const struct dg_tmpl_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i]->name, name) == 0)
			return s->v[i];
	return NULL;
}

dg_rc dg_tmpl_add(struct dg_tmpl_set *s, const char *name, const char *src, size_t len,
		  struct dg_err *err)
{
	struct tmpl *t = NULL;
	dg_rc rc = tmpl_parse(name, src, len, &t, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->v[i]->name, name) == 0) {
			tmpl_free(s->v[i]);
			s->v[i] = t;
			return DG_OK;
		}
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = dg_xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = t;
	return DG_OK;
}

static dg_rc read_file(const char *path, char **out, size_t *len, struct dg_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return dg_err_set(err, DG_EIO, "%s: cannot open", path);
	char *buf = dg_xmalloc(TEMPLATE_MAX + 1);
	size_t n = fread(buf, 1, TEMPLATE_MAX + 1, f);
	bool bad = ferror(f);
	fclose(f);
	if (bad || n > TEMPLATE_MAX) {
		free(buf);
		return dg_err_set(err, bad ? DG_EIO : DG_ETOOBIG, "%s: %s", path,
				  bad ? "read error" : "template too large");
	}
	*out = buf;
	*len = n;
	return DG_OK;
}

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Every *.html under dir/rel (depth-capped), added with its relative name. */
static dg_rc load_tree(struct dg_tmpl_set *s, const char *dir, const char *rel, int depth,
		       struct dg_err *err)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s%s%s", dir, rel[0] ? "/" : "", rel);
	if (depth > DEPTH_MAX)
		return dg_err_set(err, DG_EINVAL, "%s: folders nested too deep", path);
	DIR *d = opendir(path);
	if (!d)
		return dg_err_set(err, DG_EIO, "%s: cannot open folder", path);
	dg_rc rc = DG_OK;
	struct dirent *de;
	while (!rc && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char sub[4096], full[8192];
		snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
		snprintf(full, sizeof(full), "%s/%s", dir, sub);
		struct stat st;
		if (stat(full, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			rc = load_tree(s, dir, sub, depth + 1, err);
		} else if (S_ISREG(st.st_mode) && ends_with(sub, ".html")) {
			char *src = NULL;
			size_t len = 0;
			rc = read_file(full, &src, &len, err);
			if (!rc)
				rc = dg_tmpl_add(s, sub, src, len, err);
			free(src);
		}
	}
	closedir(d);
	return rc;
}

static dg_rc check_refs(const struct dg_tmpl_set *s, const struct tmpl *t, const struct node *n,
			struct dg_err *err)
{
	for (; n; n = n->next) {
		if (n->kind == N_INCLUDE && !find(s, n->text))
			return dg_err_set(err, DG_EINVAL,
					  "%s:%d: included template \"%s\" not found", t->name,
					  n->line, n->text);
		dg_rc rc = check_refs(s, t, n->body, err);
		if (!rc)
			rc = check_refs(s, t, n->alt, err);
		if (rc)
			return rc;
	}
	return DG_OK;
}

static dg_rc check_extends(const struct dg_tmpl_set *s, const struct tmpl *t, struct dg_err *err)
{
	const struct tmpl *c = t;
	for (int depth = 0; c->extends; depth++) {
		const struct tmpl *parent = find(s, c->extends);
		if (!parent)
			return dg_err_set(err, DG_EINVAL,
					  "%s:%d: extended template \"%s\" not found", c->name,
					  c->extends_line, c->extends);
		if (depth >= DEPTH_MAX)
			return dg_err_set(err, DG_EINVAL,
					  "%s:%d: extends nested too deep (a cycle?)", t->name,
					  t->extends_line);
		c = parent;
	}
	return DG_OK;
}

dg_rc dg_tmpl_load_dir(struct dg_tmpl_set *s, const char *dir, struct dg_err *err)
{
	dg_rc rc = load_tree(s, dir, "", 0, err);
	for (size_t i = 0; !rc && i < s->n; i++) {
		rc = check_refs(s, s->v[i], s->v[i]->nodes, err);
		if (!rc)
			rc = check_extends(s, s->v[i], err);
	}
	return rc;
}

/* ---- rendering ---- */

struct scope {
	const char *name;
	json_t *val;
	json_t *loop;
	const struct scope *up;
};

struct render {
	const struct dg_tmpl_set *set;
	json_t *data;
	dg_tmpl_translate tr;
	void *tr_ctx;
	struct dg_buf *out;
	struct dg_err *err;
	const struct tmpl *blocks_from[DEPTH_MAX + 1]; /* the extends chain, child first */
	size_t nblocks_from;
	int depth;
};

static json_t *lookup_first(const struct render *rd, const struct scope *sc, const char *name)
{
	bool want_loop = strcmp(name, "loop") == 0;
	for (; sc; sc = sc->up) {
		if (want_loop)
			return sc->loop;
		if (strcmp(sc->name, name) == 0)
			return sc->val;
	}
	return json_object_get(rd->data, name);
}

static json_t *lookup(const struct render *rd, const struct scope *sc, const struct path *p)
{
	json_t *v = lookup_first(rd, sc, p->seg[0]);
	for (size_t i = 1; v && i < p->n; i++)
		v = json_object_get(v, p->seg[i]);
	return v;
}

static bool truthy(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING: return json_string_length(v) > 0;
	case JSON_INTEGER: return json_integer_value(v) != 0;
	case JSON_REAL: return json_real_value(v) != 0;
	case JSON_TRUE: return true;
	case JSON_ARRAY: return json_array_size(v) > 0;
	case JSON_OBJECT: return json_object_size(v) > 0;
	default: return false;
	}
}

/* A scalar as text into b (capped scratch); objects, arrays, null and missing are "". */
static const char *scalar_text(const json_t *v, char *b, size_t n, size_t *len)
{
	const char *s = "";
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING: *len = json_string_length(v); return json_string_value(v);
	case JSON_INTEGER:
		snprintf(b, n, "%lld", (long long)json_integer_value(v));
		s = b;
		break;
	case JSON_REAL:
		snprintf(b, n, "%.15g", json_real_value(v));
		s = b;
		break;
	case JSON_TRUE: s = "true"; break;
	case JSON_FALSE: s = "false"; break;
	default: break;
	}
	*len = strlen(s);
	return s;
}

static bool eval(const struct render *rd, const struct scope *sc, const struct expr *x)
{
	if (x->kind == E_NOT)
		return !eval(rd, sc, x->sub);
	json_t *v = lookup(rd, sc, &x->path);
	if (x->kind == E_PATH)
		return truthy(v);
	char b[64];
	size_t len;
	const char *s = scalar_text(v, b, sizeof(b), &len);
	bool eq = len == strlen(x->lit) && memcmp(s, x->lit, len) == 0;
	return x->kind == E_EQ ? eq : !eq;
}

static dg_rc out_rc(struct render *rd, dg_rc rc)
{
	if (rc == DG_ETOOBIG)
		return dg_err_set(rd->err, rc, "rendered page is over %zu bytes", rd->out->max);
	return rc;
}

static dg_rc emit_value(struct render *rd, json_t *v, bool raw)
{
	char b[64];
	size_t len;
	const char *s = scalar_text(v, b, sizeof(b), &len);
	return out_rc(rd, raw ? dg_buf_add(rd->out, s, len) : dg_buf_add_html(rd->out, s, len));
}

/* A message with {path} placeholders filled from the data, all escaped. */
static dg_rc emit_message(struct render *rd, const struct scope *sc, const char *key)
{
	const char *m = rd->tr ? rd->tr(rd->tr_ctx, key) : NULL;
	if (!m)
		m = key;
	dg_rc rc = DG_OK;
	while (!rc && *m) {
		const char *o = strchr(m, '{');
		const char *c = o ? strchr(o + 1, '}') : NULL;
		size_t i = 1;
		while (c && o + i < c && is_word_char(o[i]) && o[i] != '-')
			i++;
		if (!o || !c || o + i != c || c == o + 1 || o[1] == '.' || c[-1] == '.') {
			size_t n = o ? (size_t)(o - m) + 1 : strlen(m);
			rc = dg_buf_add_html(rd->out, m, n);
			m += n;
			continue;
		}
		rc = dg_buf_add_html(rd->out, m, (size_t)(o - m));
		size_t nl = (size_t)(c - o - 1);
		char name[128];
		const char *seg[PATH_SEGS_MAX];
		struct path p = {seg, 0};
		if (!rc && nl < sizeof(name)) {
			memcpy(name, o + 1, nl);
			name[nl] = 0;
			/* split at dots in place; the checks above ruled out empty parts at the
			 * ends */
			for (char *s = name; s && p.n < PATH_SEGS_MAX;) {
				char *d = strchr(s, '.');
				if (d)
					*d++ = 0;
				if (*s)
					seg[p.n++] = s;
				s = d;
			}
			if (p.n)
				rc = emit_value(rd, lookup(rd, sc, &p), false);
		}
		m = c + 1;
	}
	return out_rc(rd, rc);
}

static dg_rc render_nodes(struct render *rd, const struct scope *sc, const struct node *n);
static dg_rc render_tmpl(struct render *rd, const struct tmpl *t, const struct scope *sc, int line);

static dg_rc render_for(struct render *rd, const struct scope *sc, const struct node *n)
{
	json_t *list = lookup(rd, sc, &n->path);
	size_t len = json_is_array(list) ? json_array_size(list) : 0;
	if (len == 0)
		return render_nodes(rd, sc, n->alt);
	json_t *loop = json_object();
	struct scope inner = {n->text, NULL, loop, sc};
	dg_rc rc = DG_OK;
	for (size_t i = 0; !rc && i < len; i++) {
		inner.val = json_array_get(list, i);
		json_object_set_new(loop, "index", json_integer((json_int_t)i + 1));
		json_object_set_new(loop, "first", json_boolean(i == 0));
		json_object_set_new(loop, "last", json_boolean(i + 1 == len));
		rc = render_nodes(rd, &inner, n->body);
	}
	json_decref(loop);
	return rc;
}

static const struct node *block_override(const struct render *rd, const char *name)
{
	for (size_t i = 0; i < rd->nblocks_from; i++)
		for (const struct node *b = rd->blocks_from[i]->nodes; b; b = b->next)
			if (b->kind == N_BLOCK && strcmp(b->text, name) == 0)
				return b;
	return NULL;
}

static dg_rc render_node(struct render *rd, const struct scope *sc, const struct node *n)
{
	switch (n->kind) {
	case N_TEXT: return out_rc(rd, dg_buf_add(rd->out, n->text, n->len));
	case N_VAR:
	case N_RAW: return emit_value(rd, lookup(rd, sc, &n->path), n->kind == N_RAW);
	case N_T: return emit_message(rd, sc, n->text);
	case N_IF: return render_nodes(rd, sc, eval(rd, sc, n->cond) ? n->body : n->alt);
	case N_FOR: return render_for(rd, sc, n);
	case N_INCLUDE: {
		const struct tmpl *t = find(rd->set, n->text);
		if (!t)
			return dg_err_set(rd->err, DG_ENOTFOUND, "template \"%s\" not found",
					  n->text);
		return render_tmpl(rd, t, sc, n->line);
	}
	case N_BLOCK: {
		const struct node *b = block_override(rd, n->text);
		return render_nodes(rd, sc, (b ? b : n)->body);
	}
	}
	return DG_OK;
}

static dg_rc render_nodes(struct render *rd, const struct scope *sc, const struct node *n)
{
	for (; n; n = n->next) {
		dg_rc rc = render_node(rd, sc, n);
		if (rc)
			return rc;
	}
	return DG_OK;
}

/*
 * A template, following its extends chain: the child's blocks (collected
 * child first, so the most derived wins) replace the root layout's.
 */
static dg_rc render_tmpl(struct render *rd, const struct tmpl *t, const struct scope *sc, int line)
{
	if (rd->depth >= DEPTH_MAX)
		return dg_err_set(rd->err, DG_EINVAL,
				  "%s:%d: include/extends nested deeper than %d", t->name, line,
				  DEPTH_MAX);
	rd->depth++;
	const struct tmpl *saved[DEPTH_MAX + 1];
	size_t nsaved = rd->nblocks_from;
	memcpy(saved, rd->blocks_from, sizeof(saved));
	dg_rc rc = DG_OK;
	if (t->extends) {
		/* An included template with its own layout starts a fresh block table. */
		rd->nblocks_from = 0;
		while (!rc && t->extends) {
			if (rd->nblocks_from == DEPTH_MAX) {
				rc = dg_err_set(rd->err, DG_EINVAL,
						"%s: extends nested deeper than %d", t->name,
						DEPTH_MAX);
				break;
			}
			rd->blocks_from[rd->nblocks_from++] = t;
			const struct tmpl *parent = find(rd->set, t->extends);
			if (!parent)
				rc = dg_err_set(rd->err, DG_ENOTFOUND,
						"%s:%d: template \"%s\" not found", t->name,
						t->extends_line, t->extends);
			t = parent;
		}
	}
	if (!rc)
		rc = render_nodes(rd, sc, t->nodes);
	rd->nblocks_from = nsaved;
	memcpy(rd->blocks_from, saved, sizeof(saved));
	rd->depth--;
	return rc;
}

dg_rc dg_tmpl_render(const struct dg_tmpl_set *s, const char *name, json_t *data,
		     dg_tmpl_translate tr, void *tr_ctx, struct dg_buf *out, struct dg_err *err)
{
	const struct tmpl *t = find(s, name);
	if (!t)
		return dg_err_set(err, DG_ENOTFOUND, "template \"%s\" not found", name);
	struct render rd = {
		.set = s, .data = data, .tr = tr, .tr_ctx = tr_ctx, .out = out, .err = err};
	return render_tmpl(&rd, t, NULL, 1);
}
