/*
 * i18n.c - message catalogues and the choice of language for a request.
 *
 * Every templates/i18n/<module>.<lang>.json is a flat object of strings; the
 * files of one language are merged into one jansson object, and a key that
 * two files define is refused at load (naming both files) so no module can
 * silently overwrite another's words. Lookups fall back from English to
 * Chinese to the key itself, so a page never shows nothing.
 */
#include "web/i18n.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/str.h"

#define FILES_MAX 512

struct dg_i18n {
	json_t *zh, *en;
	json_t *origin; /* "lang:key" -> file name, to name both files in a duplicate error */
};

static json_t **catalogue(struct dg_i18n *i, const char *lang)
{
	if (strcmp(lang, "zh") == 0)
		return &i->zh;
	if (strcmp(lang, "en") == 0)
		return &i->en;
	return NULL;
}

/* "core.zh.json" -> "zh"; NULL when the name does not follow the pattern. */
static const char *file_lang(const char *name, char *lang, size_t n)
{
	size_t len = strlen(name);
	if (len < 6 || strcmp(name + len - 5, ".json") != 0)
		return NULL;
	const char *end = name + len - 5, *dot = end;
	while (dot > name && dot[-1] != '.')
		dot--;
	if (dot == name || (size_t)(end - dot) >= n || dot - 1 == name)
		return NULL;
	memcpy(lang, dot, (size_t)(end - dot));
	lang[end - dot] = 0;
	return lang;
}

static dg_rc merge(struct dg_i18n *i, json_t *cat, const char *lang, const char *file, json_t *msgs,
		   struct dg_err *err)
{
	const char *key;
	json_t *v;
	json_object_foreach (msgs, key, v) {
		if (!json_is_string(v))
			return dg_err_set(err, DG_EINVAL, "%s: \"%s\" is not a string", file, key);
		char okey[512];
		snprintf(okey, sizeof(okey), "%s:%s", lang, key);
		if (json_object_get(cat, key))
			return dg_err_set(err, DG_EINVAL, "%s: key \"%s\" is already defined in %s",
					  file, key,
					  json_string_value(json_object_get(i->origin, okey)));
		json_object_set(cat, key, v);
		json_object_set_new(i->origin, okey, json_string(file));
	}
	return DG_OK;
}

static dg_rc load_file(struct dg_i18n *i, const char *dir, const char *name, struct dg_err *err)
{
	char lang[16], path[4096];
	if (!file_lang(name, lang, sizeof(lang)))
		return DG_OK; /* not a catalogue */
	json_t **cat = catalogue(i, lang);
	if (!cat)
		return dg_err_set(err, DG_EINVAL, "%s: unknown language \"%s\" (zh or en)", name,
				  lang);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	json_error_t je;
	json_t *msgs = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!msgs)
		return dg_err_set(err, DG_EINVAL, "%s:%d: %s", name, je.line, je.text);
	dg_rc rc = json_is_object(msgs) ? merge(i, *cat, lang, name, msgs, err)
					: dg_err_set(err, DG_EINVAL, "%s: not a JSON object", name);
	json_decref(msgs);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* File names in dir, sorted so duplicate errors name files in a stable order. */
static dg_rc list_dir(const char *dir, char **names, size_t *n, struct dg_err *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return dg_err_set(err, DG_EIO, "%s: cannot open folder", dir);
	struct dirent *de;
	*n = 0;
	dg_rc rc = DG_OK;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (*n == FILES_MAX) {
			rc = dg_err_set(err, DG_ETOOBIG, "%s: more than %d files", dir, FILES_MAX);
			break;
		}
		names[(*n)++] = dg_xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, *n, sizeof(*names), by_name);
	return rc;
}

dg_rc dg_i18n_load_dir(const char *dir, struct dg_i18n **out, struct dg_err *err)
{
	struct dg_i18n *i = dg_xcalloc(1, sizeof(*i));
	i->zh = json_object();
	i->en = json_object();
	i->origin = json_object();
	char **names = dg_xcalloc(FILES_MAX, sizeof(*names));
	size_t n = 0;
	dg_rc rc = list_dir(dir, names, &n, err);
	for (size_t k = 0; !rc && k < n; k++)
		rc = load_file(i, dir, names[k], err);
	for (size_t k = 0; k < n; k++)
		free(names[k]);
	free(names);
	json_decref(i->origin);
	i->origin = NULL;
	if (rc) {
		dg_i18n_free(i);
		return rc;
	}
	*out = i;
	return DG_OK;
}

void dg_i18n_free(struct dg_i18n *i)
{
	if (!i)
		return;
	json_decref(i->zh);
	json_decref(i->en);
	json_decref(i->origin);
	free(i);
}

const char *dg_i18n_find(const struct dg_i18n *i, const char *lang, const char *key)
{
	if (!i || !lang || !key)
		return NULL;
	const json_t *cat = strcmp(lang, "en") == 0   ? i->en
			    : strcmp(lang, "zh") == 0 ? i->zh
						      : NULL;
	return json_string_value(json_object_get(cat, key));
}

const char *dg_i18n_get(const struct dg_i18n *i, const char *lang, const char *key)
{
	const char *m = dg_i18n_find(i, lang, key);
	if (!m)
		m = dg_i18n_find(i, "zh", key);
	return m ? m : key ? key : "";
}

/* q=0.8 -> 800; a missing or malformed q counts as 1. */
static int qvalue(struct dg_str params)
{
	while (params.n) {
		struct dg_str p;
		params = dg_str_cut(params, ';', &p);
		p = dg_str_trim(p);
		if (p.n < 2 || (p.p[0] != 'q' && p.p[0] != 'Q') || p.p[1] != '=')
			continue;
		int q = 0, scale = 1000;
		bool dot = false;
		for (size_t k = 2; k < p.n && k < 7; k++) {
			char c = p.p[k];
			if (c == '.' && !dot) {
				dot = true;
			} else if (c >= '0' && c <= '9') {
				if (!dot)
					q = q * 10 + (c - '0') * 1000;
				else if ((scale /= 10) > 0)
					q += (c - '0') * scale;
			} else {
				return 1000;
			}
		}
		return q > 1000 ? 1000 : q;
	}
	return 1000;
}

const char *dg_i18n_pick(const char *cookie, const char *accept_language)
{
	if (cookie && (strcmp(cookie, "en") == 0 || strcmp(cookie, "zh") == 0))
		return strcmp(cookie, "en") == 0 ? "en" : "zh";
	struct dg_str rest = dg_str_of(accept_language);
	const char *best = "zh";
	int best_q = 0;
	/* Bounded by the header's length: each turn consumes one comma-separated item. */
	while (rest.n) {
		struct dg_str item, tag;
		rest = dg_str_cut(rest, ',', &item);
		struct dg_str params = dg_str_cut(item, ';', &tag);
		tag = dg_str_trim(tag);
		struct dg_str primary;
		dg_str_cut(tag, '-', &primary);
		const char *lang = dg_str_case_eqs(primary, "zh")   ? "zh"
				   : dg_str_case_eqs(primary, "en") ? "en"
								    : NULL;
		int q = qvalue(params);
		if (lang && q > best_q) {
			best = lang;
			best_q = q;
		}
	}
	return best;
}
