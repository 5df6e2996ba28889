/*
 * synonyms.c - everyday words and the catalogue terms they mean, kept as
 * data in templates/catalog/synonyms.json ({"entries": [{"words": [...],
 * "terms": [...]}]}) and read once when the node starts.
 *
 * A search that finds nothing is tried again with the terms of every entry
 * whose words the query contains (生小孩 -> 出生医学证明, 新生儿入户, 生育登记),
 * and those terms are offered as "did you mean"; the words and terms are also
 * what the search box suggests as one types (a datalist, no script). The
 * query is compared lower-cased, so "Business Licence" finds its entry.
 * Bounds: at most SYN_MAX_ENTRIES entries are read, and a query matches at
 * most SYN_MAX_TERMS terms in all.
 */
#include "catalog/internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/log.h"
#include "node/env.h"

#define SYN_MAX_ENTRIES 1000

static json_t *entries; /* the file's entries; NULL until read, or when there is none */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

dg_rc cat_synonyms_load(const char *templates_dir, struct dg_err *err)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/catalog/synonyms.json", templates_dir);
	json_error_t je;
	json_t *doc = json_load_file(path, 0, &je), *list = json_object_get(doc, "entries");
	if (!doc) {
		/* no list is no suggestions, not a node that cannot start */
		dg_warn("catalog: no synonyms read from %s: %s", path, je.text);
		json_decref(doc);
		return DG_OK;
	}
	if (!json_is_array(list) || json_array_size(list) > SYN_MAX_ENTRIES) {
		json_decref(doc);
		return dg_err_set(err, DG_EINVAL, "%s: \"entries\" must be a list of at most %d",
				  path, SYN_MAX_ENTRIES);
	}
	pthread_mutex_lock(&lock);
	json_decref(entries);
	entries = json_incref(list);
	pthread_mutex_unlock(&lock);
	json_decref(doc);
	return DG_OK;
}

/* q lower-cased (ASCII letters only; other bytes as they are), in a. */
static char *lower(struct dg_arena *a, const char *q)
{
	char *s = dg_arena_strdup(a, q);
	for (char *p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return s;
}

json_t *cat_synonym_terms(struct dg_arena *a, const char *q)
{
	json_t *out = json_array(), *e, *w, *t;
	size_t i, j, k;
	if (!q || !*q)
		return out;
	const char *lq = lower(a, q);
	pthread_mutex_lock(&lock);
	json_array_foreach (entries, i, e) {
		bool hit = false;
		json_array_foreach (json_object_get(e, "words"), j, w) {
			const char *word = json_string_value(w);
			if (word && *word && strstr(lq, lower(a, word)))
				hit = true;
		}
		if (!hit)
			continue;
		json_array_foreach (json_object_get(e, "terms"), k, t) {
			bool seen = false;
			json_t *o;
			size_t m;
			json_array_foreach (out, m, o)
				seen |= json_equal(o, t);
			if (!seen && json_is_string(t) && json_array_size(out) < SYN_MAX_TERMS)
				json_array_append(out, t);
		}
	}
	pthread_mutex_unlock(&lock);
	return out;
}

json_t *cat_synonym_suggestions(void)
{
	json_t *out = json_array(), *e, *v;
	size_t i, j;
	pthread_mutex_lock(&lock);
	json_array_foreach (entries, i, e) {
		json_array_foreach (json_object_get(e, "terms"), j, v)
			if (json_is_string(v))
				json_array_append(out, v);
		json_array_foreach (json_object_get(e, "words"), j, v)
			if (json_is_string(v))
				json_array_append(out, v);
	}
	pthread_mutex_unlock(&lock);
	return out;
}
