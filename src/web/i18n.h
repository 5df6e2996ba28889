/*
 * i18n.h - messages in Chinese (the default) and English.
 *
 * Catalogues are flat JSON objects, key -> message, one file per module and
 * language: templates/i18n/<module>.<lang>.json (core.zh.json, auth.en.json,
 * ...). All files of a language are merged; a key defined twice is an error
 * at load. A key missing in a language falls back to Chinese, then to the key.
 */
#ifndef DG_I18N_H
#define DG_I18N_H

#include "core/err.h"

struct dg_i18n;

dg_rc dg_i18n_load_dir(const char *dir, struct dg_i18n **out, struct dg_err *err) DG_MUST;
void dg_i18n_free(struct dg_i18n *i);

/* The message for key in lang ("zh" | "en"); never NULL (see fallbacks above). */
const char *dg_i18n_get(const struct dg_i18n *i, const char *lang, const char *key);
/* NULL when the key is missing in that language (for tests of completeness). */
const char *dg_i18n_find(const struct dg_i18n *i, const char *lang, const char *key);

/*
 * The language for a request: "en" or "zh" from the lang cookie if set,
 * else the best match in an Accept-Language header (q-values honoured), else "zh".
 */
const char *dg_i18n_pick(const char *cookie, const char *accept_language);

#endif
