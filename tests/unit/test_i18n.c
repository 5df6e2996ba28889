/*
 * test_i18n.c - message catalogues (merge, duplicates, fallbacks), the
 * choice of language from cookie and Accept-Language, and completeness: every
 * key that a template (any .html under templates/) or C file (any .c under
 * src/, as dg_t(r, "...")) uses exists in both Chinese and English, so no page shows a raw key.
 * The repository root comes from DGOV_ROOT, else ".".
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "web/i18n.h"

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void rm_rf(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_merge_and_fallbacks(void **state)
{
	(void)state;
	char dir[] = "/tmp/dgov_i18n_XXXXXX";
	assert_non_null(mkdtemp(dir));
	write_file(dir, "core.zh.json", "{\"a\":\"甲\",\"b\":\"乙\"}");
	write_file(dir, "core.en.json", "{\"a\":\"A\"}");
	write_file(dir, "auth.zh.json", "{\"c\":\"丙\"}");
	write_file(dir, "auth.en.json", "{\"c\":\"C\"}");
	write_file(dir, "README.md", "not a catalogue");
	struct dg_i18n *i = NULL;
	struct dg_err err = {0};
	assert_int_equal(dg_i18n_load_dir(dir, &i, &err), DG_OK);
	assert_string_equal(dg_i18n_get(i, "zh", "a"), "甲");
	assert_string_equal(dg_i18n_get(i, "en", "a"), "A");
	assert_string_equal(dg_i18n_get(i, "en", "c"), "C");
	/* missing in English: Chinese; missing everywhere: the key */
	assert_string_equal(dg_i18n_get(i, "en", "b"), "乙");
	assert_string_equal(dg_i18n_get(i, "en", "zzz"), "zzz");
	assert_string_equal(dg_i18n_get(i, "fr", "a"), "甲");
	assert_null(dg_i18n_find(i, "en", "b"));
	assert_string_equal(dg_i18n_find(i, "zh", "b"), "乙");
	dg_i18n_free(i);
	rm_rf(dir);
}

static void expect_load_error(const char *name, const char *text, const char *want)
{
	char dir[] = "/tmp/dgov_i18n_XXXXXX";
	assert_non_null(mkdtemp(dir));
	write_file(dir, "core.zh.json", "{\"a\":\"甲\"}");
	write_file(dir, name, text);
	struct dg_i18n *i = NULL;
	struct dg_err err = {0};
	assert_int_equal(dg_i18n_load_dir(dir, &i, &err), DG_EINVAL);
	assert_null(i);
	if (!strstr(err.msg, want))
		fail_msg("error \"%s\" does not contain \"%s\"", err.msg, want);
	rm_rf(dir);
}

static void test_load_errors(void **state)
{
	(void)state;
	expect_load_error("other.zh.json", "{\"a\":\"again\"}",
			  "other.zh.json: key \"a\" is already defined in core.zh.json");
	expect_load_error("other.zh.json", "{\"x\":\"1\",\"x\":\"2\"}", "other.zh.json:1");
	expect_load_error("other.zh.json", "{\"x\": 3}", "is not a string");
	expect_load_error("other.zh.json", "[\"x\"]", "not a JSON object");
	expect_load_error("other.zh.json", "{\n\"x\": ", "other.zh.json:2");
	expect_load_error("other.fr.json", "{}", "unknown language");
	struct dg_i18n *i = NULL;
	struct dg_err err = {0};
	assert_int_equal(dg_i18n_load_dir("/nonexistent/dgov", &i, &err), DG_EIO);
}

static void test_pick(void **state)
{
	(void)state;
	assert_string_equal(dg_i18n_pick("en", "zh-CN"), "en");
	assert_string_equal(dg_i18n_pick("zh", "en-US"), "zh");
	assert_string_equal(dg_i18n_pick("fr", "en-US,en;q=0.9"), "en");
	assert_string_equal(dg_i18n_pick(NULL, NULL), "zh");
	assert_string_equal(dg_i18n_pick(NULL, ""), "zh");
	assert_string_equal(dg_i18n_pick(NULL, "fr-FR,de;q=0.5"), "zh");
	assert_string_equal(dg_i18n_pick(NULL, "EN-gb"), "en");
	assert_string_equal(dg_i18n_pick(NULL, "zh-CN,zh;q=0.9,en;q=0.8"), "zh");
	assert_string_equal(dg_i18n_pick(NULL, "zh;q=0.5, en;q=0.8"), "en");
	assert_string_equal(dg_i18n_pick(NULL, "fr, en ; q=0.3, zh;q=0.25"), "en");
	assert_string_equal(dg_i18n_pick(NULL, "en;q=0, zh;q=0.1"), "zh");
	assert_string_equal(dg_i18n_pick(NULL, "en;q=0"), "zh");
	assert_string_equal(dg_i18n_pick(NULL, "en;q=1.000, zh;q=1"), "en");
	assert_string_equal(dg_i18n_pick(NULL, "en;q=garbage"), "en");
	assert_string_equal(dg_i18n_pick(NULL, ",,;;q=,en-"), "en");
}

/* ---- completeness ---- */

static const char *root(void)
{
	const char *r = getenv("DGOV_ROOT");
	return r && r[0] ? r : ".";
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = calloc(1, 1 << 21);
	assert_non_null(buf);
	size_t n = fread(buf, 1, (1 << 21) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

struct scan {
	const struct dg_i18n *i;
	int keys, missing;
};

static void need_key(struct scan *sc, const char *file, const char *key, size_t n)
{
	char k[256];
	if (n >= sizeof(k))
		n = sizeof(k) - 1;
	memcpy(k, key, n);
	k[n] = 0;
	sc->keys++;
	for (int l = 0; l < 2; l++) {
		const char *lang = l ? "en" : "zh";
		if (!dg_i18n_find(sc->i, lang, k)) {
			print_error("%s: key \"%s\" is missing in the %s catalogue\n", file, k,
				    lang);
			sc->missing++;
		}
	}
}

/* Every literal key after `marker` up to the closing quote. */
static void scan_text(struct scan *sc, const char *file, const char *text, const char *marker)
{
	size_t ml = strlen(marker);
	for (const char *p = strstr(text, marker); p; p = strstr(p + ml, marker)) {
		const char *k = p + ml;
		const char *q = strchr(k, '"');
		if (q && q > k)
			need_key(sc, file, k, (size_t)(q - k));
	}
}

static void scan_tree(struct scan *sc, const char *dir, const char *ext, int depth)
{
	DIR *d = opendir(dir);
	if (!d || depth > 8) {
		if (d)
			closedir(d);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		struct stat st;
		if (stat(path, &st) != 0)
			continue;
		size_t n = strlen(de->d_name), el = strlen(ext);
		if (S_ISDIR(st.st_mode)) {
			scan_tree(sc, path, ext, depth + 1);
		} else if (n > el && strcmp(de->d_name + n - el, ext) == 0) {
			char *text = slurp(path);
			if (strcmp(ext, ".html") == 0) {
				scan_text(sc, path, text, "{{ t \"");
				scan_text(sc, path, text, "{{t \"");
			} else {
				scan_text(sc, path, text, "dg_t(r, \"");
			}
			free(text);
		}
	}
	closedir(d);
}

static void test_every_used_key_exists(void **state)
{
	(void)state;
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/templates/i18n", root());
	struct dg_i18n *i = NULL;
	struct dg_err err = {0};
	if (dg_i18n_load_dir(dir, &i, &err) != DG_OK)
		fail_msg("catalogues in %s do not load: %s (set DGOV_ROOT to the repository)", dir,
			 err.msg);
	struct scan sc = {i, 0, 0};
	snprintf(dir, sizeof(dir), "%s/templates", root());
	scan_tree(&sc, dir, ".html", 0);
	snprintf(dir, sizeof(dir), "%s/src", root());
	scan_tree(&sc, dir, ".c", 0);
	/* keys page.c builds at run time */
	static const char *const built[] = {
		"error.400.title", "error.401.title", "error.403.title",   "error.404.title",
		"error.405.title", "error.409.title", "error.413.title",   "error.422.title",
		"error.429.title", "error.431.title", "error.500.title",   "error.503.title",
		"error.400.body",  "error.401.body",  "error.403.body",    "error.404.body",
		"error.405.body",  "error.409.body",  "error.413.body",    "error.422.body",
		"error.429.body",  "error.431.body",  "error.500.body",    "error.503.body",
		"role.anon",       "role.citizen",    "role.agent",        "role.staff",
		"role.admin",      "nav.home",        "nav.services",      "nav.data",
		"nav.policies",    "nav.help",        "site.default_name",
	};
	for (size_t k = 0; k < sizeof(built) / sizeof(built[0]); k++)
		need_key(&sc, "src/web/page.c", built[k], strlen(built[k]));
	assert_true(sc.keys > 50);
	assert_int_equal(sc.missing, 0);
	dg_i18n_free(i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_and_fallbacks),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_every_used_key_exists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
