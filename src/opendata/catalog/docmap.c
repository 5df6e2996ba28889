/*
 * docmap.c - the public's datasets held in the node's memory by search
 * document, so that a search matching most of the catalogue counts its
 * facets and orders its first page in a loop over small integers instead of
 * grouping and sorting rows in SQL.
 *
 * For each document the public may see (a row of kind "" in
 * od_dataset_facets): its dataset's id, name and modification time (the
 * keys of the orders search.c pages from here, with the index's rank) and
 * its facet values, each an integer naming one (kind, value) pair of a
 * table of them. A document not held, or held as not public, is one the
 * public does not see.
 *
 * The map is labelled with a catalogue version V: it holds rows at least as
 * new as V. Every write of a dataset raises the version and records its
 * document with the new version in od_doc_changes in its transaction
 * (facets.c); a bulk recount records document -1. So a search that read
 * version W > V first reads again the documents recorded after V (all of
 * them after a -1) and labels the map W: like the kept answers, nothing
 * counted from it is older than the version it is kept under. A raised
 * version with nothing recorded (a migration's) costs one index lookup; a
 * rename records the documents of its datasets, which it wrote again.
 * The per-token lists of lists.c live here too, under the same lock: each
 * document read again is read again there, and a map read whole drops them.
 *
 * Threads: a reader holds the read lock while it counts; one patcher at a
 * time (patch_mu) takes the write lock to change the map. The map only moves
 * forward. Bounds: documents are numbered densely by the store (MAX + 1), so
 * they index an array; a number past DOCS_MAX turns the map off (searches
 * count in SQL as before).
 */
#include "opendata/catalog/catalog_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "web/pcache.h"

#define DOCS_MAX (1 << 24)

struct doc {
	char *id, *name;
	int64_t modified;
	uint32_t *vals; /* value ids */
	uint32_t nvals;
	bool public;
};

struct value {
	int kind; /* dg_od_docmap_kind's index */
	char *text;
};

struct dg_od_docmap {
	pthread_rwlock_t lock;
	pthread_mutex_t patch_mu;
	int64_t version; /* -1: not built */
	bool off;        /* a document past DOCS_MAX */
	bool bytewise;   /* the store orders names as strcmp does */
	struct doc *docs;
	size_t ndocs; /* room: docs[0..ndocs) */
	struct value *vals;
	size_t nvals, capvals;
	/* (kind, text) -> value id + 1, open addressing, a power of two */
	uint32_t *slots;
	size_t nslots;
	struct dg_od_lists *lists; /* per-token lists (lists.c), patched with the documents */
};

static const char *const kinds[] = {
	"organization", "groups",           "tags",   "res_format",
	"license_id",   "update_frequency", "region", "open_tier",
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

int dg_od_docmap_kind(const char *facet)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (strcmp(kinds[i], facet) == 0)
			return (int)i;
	return -1;
}

static void *make(void)
{
	struct dg_od_docmap *m = dg_xcalloc(1, sizeof *m);
	pthread_rwlock_init(&m->lock, NULL);
	pthread_mutex_init(&m->patch_mu, NULL);
	m->version = -1;
	m->lists = dg_od_lists_new();
	return m;
}

static void clear_doc(struct doc *d)
{
	free(d->id);
	free(d->name);
	free(d->vals);
	memset(d, 0, sizeof *d);
}

static void free_map(void *p)
{
	struct dg_od_docmap *m = p;
	if (!m)
		return;
	for (size_t i = 0; i < m->ndocs; i++)
		clear_doc(&m->docs[i]);
	for (size_t i = 0; i < m->nvals; i++)
		free(m->vals[i].text);
	free(m->docs);
	free(m->vals);
	free(m->slots);
	dg_od_lists_free(m->lists);
	pthread_rwlock_destroy(&m->lock);
	pthread_mutex_destroy(&m->patch_mu);
	free(m);
}

static uint64_t hash(int kind, const char *s)
{
	uint64_t h = 14695981039346656037ull ^ (uint64_t)kind;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* The id of (kind, text), added when new. Values are never dropped: a map holds few. */
static uint32_t intern(struct dg_od_docmap *m, int kind, const char *text)
{
	if (2 * (m->nvals + 1) > m->nslots) {
		size_t n = m->nslots ? 2 * m->nslots : 1024;
		uint32_t *slots = dg_xcalloc(n, sizeof *slots);
		for (size_t i = 0; i < m->nvals; i++) {
			size_t k = hash(m->vals[i].kind, m->vals[i].text) & (n - 1);
			while (slots[k])
				k = (k + 1) & (n - 1);
			slots[k] = (uint32_t)i + 1;
		}
		free(m->slots);
		m->slots = slots;
		m->nslots = n;
	}
	size_t k = hash(kind, text) & (m->nslots - 1);
	for (; m->slots[k]; k = (k + 1) & (m->nslots - 1)) {
		struct value *v = &m->vals[m->slots[k] - 1];
		if (v->kind == kind && strcmp(v->text, text) == 0)
			return m->slots[k] - 1;
	}
	if (m->nvals == m->capvals) {
		m->capvals = m->capvals ? 2 * m->capvals : 1024;
		m->vals = dg_xrealloc(m->vals, m->capvals * sizeof *m->vals);
	}
	m->vals[m->nvals] = (struct value){kind, dg_xstrdup(text)};
	m->slots[k] = (uint32_t)m->nvals + 1;
	return (uint32_t)m->nvals++;
}

/* The document doc's slot, grown into; NULL past DOCS_MAX (the map turns off). */
static struct doc *slot(struct dg_od_docmap *m, int64_t doc)
{
	if (doc < 0 || doc >= DOCS_MAX) {
		m->off = true;
		return NULL;
	}
	m->docs = dg_xgrow_zeroed(m->docs, &m->ndocs, (size_t)doc, sizeof *m->docs);
	return &m->docs[doc];
}

/*
 * The rows of the documents that which selects ("": all of them; else " AND
 * f.doc = ?" with the document bound) into m: the public's, with their
 * datasets' keys (kind "" marks them), then their values.
 */
static dg_rc read_rows(struct dg_od_docmap *m, struct dg_db *db, const char *which,
		       const struct dg_val *arg, size_t nargs)
{
	char sql[512];
	snprintf(sql, sizeof sql,
		 "SELECT f.doc, p.id, p.name, p.metadata_modified FROM od_dataset_facets f"
		 " JOIN od_packages p ON p.search_id = f.doc WHERE f.kind = ''%s",
		 which);
	struct dg_rows *rows = NULL;
	dg_rc rc = dg_db_query(db, sql, arg, nargs, &rows);
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		struct doc *d = slot(m, dg_rows_int(rows, 0));
		if (!d)
			continue;
		clear_doc(d);
		d->id = dg_xstrdup(dg_rows_text(rows, 1));
		d->name = dg_xstrdup(dg_rows_text(rows, 2));
		d->modified = dg_rows_int(rows, 3);
		d->public = true;
	}
	dg_rows_free(rows);
	if (rc != DG_ENOTFOUND)
		return rc;
	/* a document's values together (the key's order) */
	snprintf(sql, sizeof sql,
		 "SELECT f.doc, f.kind, f.value FROM od_dataset_facets f WHERE f.kind <> ''%s"
		 " ORDER BY f.doc",
		 which);
	rc = dg_db_query(db, sql, arg, nargs, &rows);
	size_t cap = 0;
	while (!rc && (rc = dg_rows_next(rows)) == DG_OK) {
		struct doc *d = slot(m, dg_rows_int(rows, 0));
		int kind = dg_od_docmap_kind(dg_rows_text(rows, 1));
		if (!d || !d->public || kind < 0)
			continue;
		if (d->nvals == 0)
			cap = 0;
		if (d->nvals == cap) {
			cap = cap ? 2 * cap : 8;
			d->vals = dg_xrealloc(d->vals, cap * sizeof *d->vals);
		}
		d->vals[d->nvals++] = intern(m, kind, dg_rows_text(rows, 2));
	}
	dg_rows_free(rows);
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

/* Past this many documents changed since the map's version, it is read whole. */
#define CHANGED_MAX 4096

/*
 * Read the documents that changed after version since (all when since < 0)
 * into m: each is cleared, then read again by its key (a seek of the
 * primary key on either store, whatever the planner knows of the changes).
 */
static dg_rc reread(struct dg_od_docmap *m, struct dg_db *db, int64_t since)
{
	int64_t *docs = NULL;
	size_t n = 0;
	dg_rc rc = DG_OK;
	if (since >= 0) {
		struct dg_rows *rows = NULL;
		docs = dg_xmalloc((CHANGED_MAX + 1) * sizeof *docs);
		rc = dg_db_query(db, "SELECT doc FROM od_doc_changes WHERE version > ?",
				 DG_ARGS(DG_VI(since)), &rows);
		while (!rc && (rc = dg_rows_next(rows)) == DG_OK && n <= CHANGED_MAX)
			docs[n++] = dg_rows_int(rows, 0);
		dg_rows_free(rows);
		if (rc == DG_ENOTFOUND || rc == DG_OK)
			rc = DG_OK;
	}
	if (!rc && (since < 0 || n > CHANGED_MAX)) {
		for (size_t i = 0; i < m->ndocs; i++)
			clear_doc(&m->docs[i]);
		dg_od_lists_clear(m->lists); /* built again as searches ask */
		rc = read_rows(m, db, "", NULL, 0);
	} else {
		for (size_t i = 0; !rc && i < n; i++) {
			struct doc *d = slot(m, docs[i]);
			if (d)
				clear_doc(d);
			struct dg_val arg[1] = {DG_VI(docs[i])};
			rc = read_rows(m, db, " AND f.doc = ?", arg, 1);
			if (!rc)
				rc = dg_od_lists_doc(m->lists, db, docs[i]);
		}
	}
	free(docs);
	return rc;
}

/*
 * Whether the store orders names byte by byte, as strcmp does: SQLite's
 * BINARY always (the column names no collation); PostgreSQL's database
 * collation only when it is C or POSIX (C.UTF-8 too: code points, the
 * bytes' order in UTF-8), checked by two comparisons a linguistic one
 * (glibc's or ICU's) makes the other way.
 */
static dg_rc names_bytewise(struct dg_db *db, bool *out)
{
	*out = dg_db_kind(db) == DG_STORE_SQLITE;
	if (*out)
		return DG_OK;
	int64_t yes = 0;
	dg_rc rc = dg_db_query_int(db,
				   "SELECT CASE WHEN 'B' < 'a' AND 'a-c' < 'ab' AND (datcollate IN"
				   " ('C', 'POSIX') OR datcollate LIKE 'C.%') THEN 1 ELSE 0 END"
				   " FROM pg_database WHERE datname = current_database()",
				   DG_NOARGS, &yes);
	*out = !rc && yes == 1;
	return rc == DG_ENOTFOUND ? DG_OK : rc;
}

/* Bring m up to version (read before by the caller). Under patch_mu. */
static dg_rc patch(struct dg_od_docmap *m, struct dg_db *db, int64_t version)
{
	int64_t since = m->version, all = 0;
	bool bytewise = m->bytewise;
	dg_rc rc = since < 0 ? names_bytewise(db, &bytewise) : DG_OK;
	if (!rc && since >= 0) {
		rc = dg_db_query_int(db,
				     "SELECT COUNT(*) FROM od_doc_changes WHERE doc = -1"
				     " AND version > ?",
				     DG_ARGS(DG_VI(since)), &all);
		if (all)
			since = -1;
	}
	pthread_rwlock_wrlock(&m->lock);
	if (!rc)
		rc = reread(m, db, since);
	/* a failed read leaves some documents half read: built again next time */
	m->version = rc ? -1 : version;
	m->bytewise = bytewise;
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

dg_rc dg_od_docmap_get(struct dg_pcache *memo, struct dg_db *db, int64_t version,
		       const char *const *toks, size_t ntoks, struct dg_od_docmap **out)
{
	*out = NULL;
	struct dg_od_docmap *m = dg_pcache_attach(memo, make, free_map);
	if (!m)
		return DG_OK;
	dg_rc rc = DG_OK;
	pthread_mutex_lock(&m->patch_mu);
	if (!m->off && m->version < version)
		rc = patch(m, db, version);
	/* lists read at this snapshot belong to a map of its version only */
	if (!rc && !m->off && ntoks && m->version == version) {
		pthread_rwlock_wrlock(&m->lock);
		rc = dg_od_lists_want(m->lists, db, toks, ntoks);
		if (rc)
			dg_od_lists_clear(m->lists);
		pthread_rwlock_unlock(&m->lock);
	}
	pthread_mutex_unlock(&m->patch_mu);
	pthread_rwlock_rdlock(&m->lock);
	/* the map moves forward only: at least as new as version, or off */
	if (rc || m->off || m->version < version) {
		pthread_rwlock_unlock(&m->lock);
		return rc;
	}
	*out = m;
	return DG_OK;
}

void dg_od_docmap_put(struct dg_od_docmap *m)
{
	if (m)
		pthread_rwlock_unlock(&m->lock);
}

const struct dg_od_lists *dg_od_docmap_lists(const struct dg_od_docmap *m)
{
	return m->lists;
}

int64_t dg_od_docmap_version(const struct dg_od_docmap *m)
{
	return m->version;
}

bool dg_od_docmap_bytewise(const struct dg_od_docmap *m)
{
	return m->bytewise;
}

size_t dg_od_docmap_ndocs(const struct dg_od_docmap *m)
{
	return m->ndocs;
}

bool dg_od_docmap_public(const struct dg_od_docmap *m, int64_t doc)
{
	return doc >= 0 && (size_t)doc < m->ndocs && m->docs[doc].public;
}

void dg_od_docmap_keys(const struct dg_od_docmap *m, int64_t doc, const char **id,
		       const char **name, int64_t *modified)
{
	const struct doc *d = &m->docs[doc];
	*id = d->id;
	*name = d->name;
	*modified = d->modified;
}

size_t dg_od_docmap_nvalues(const struct dg_od_docmap *m)
{
	return m->nvals;
}

void dg_od_docmap_value(const struct dg_od_docmap *m, uint32_t v, int *kind, const char **text)
{
	*kind = m->vals[v].kind;
	*text = m->vals[v].text;
}

void dg_od_docmap_count(const struct dg_od_docmap *m, int64_t doc, uint32_t *counts)
{
	const struct doc *d = &m->docs[doc];
	for (uint32_t i = 0; i < d->nvals; i++)
		counts[d->vals[i]]++;
}
