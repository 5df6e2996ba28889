/*
 * test_tables.c - every table cell in templates/ names its column: each
 * <td> carries data-label (the column's header, or "" for a row that spans
 * them all), which static/css/dgov.css shows before the value when a narrow
 * screen stacks the table's rows. Reads every .html under templates/
 * (DGOV_ROOT, else "."), skipping {# comments #}, and names each cell
 * without one by file and line. The checker is tried on known text first,
 * so the test cannot pass by finding nothing.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

/*
 * Templates whose cells need no label, each with its reason. None today:
 * a table that is not data (a layout grid) would be one, if ever needed.
 */
static const char *const exceptions[][2] = {
	{NULL, NULL},
};

static const char *root(void)
{
	const char *r = getenv("DGOV_ROOT");
	return r && *r ? r : ".";
}

static bool excepted(const char *rel)
{
	for (size_t i = 0; exceptions[i][0]; i++)
		if (strcmp(exceptions[i][0], rel) == 0)
			return true;
	return false;
}

/*
 * The cells of text (a template named name) without data-label: each is
 * reported with its line; returns how many. cells gets how many <td> there
 * were in all.
 */
static int unlabelled(const char *name, const char *text, int *cells)
{
	int bad = 0, line = 1;
	for (const char *p = text; *p; p++) {
		if (*p == '\n') {
			line++;
			continue;
		}
		if (p[0] == '{' && p[1] == '#') { /* a template comment: not markup */
			const char *end = strstr(p + 2, "#}");
			for (const char *q = p; end && q < end; q++)
				line += *q == '\n';
			if (!end)
				break;
			p = end + 1;
			continue;
		}
		if (strncmp(p, "<td", 3) != 0 || !strchr(" >\n{", p[3]) || !p[3])
			continue;
		(*cells)++;
		/* the tag ends at the first '>' outside {{ }} and {% %} */
		const char *q = p + 3;
		bool labelled = false;
		while (*q && *q != '>') {
			if (q[0] == '{' && (q[1] == '{' || q[1] == '%')) {
				const char *end = strstr(q + 2, q[1] == '{' ? "}}" : "%}");
				if (!end)
					break;
				q = end + 2;
				continue;
			}
			if (strncmp(q, " data-label=\"", 13) == 0)
				labelled = true;
			q++;
		}
		if (!labelled) {
			fprintf(stderr, "%s:%d: a <td> without data-label\n", name, line);
			bad++;
		}
	}
	return bad;
}

static void checker_finds_what_it_should(void **state)
{
	(void)state;
	int cells = 0;
	assert_int_equal(unlabelled("t", "<tr><td>1</td><td data-label=\"A\">2</td></tr>", &cells),
			 1);
	assert_int_equal(cells, 2);
	cells = 0;
	assert_int_equal(
		unlabelled(
			"t",
			"<td data-label=\"{{ t \"a.b\" }}\">x</td>\n"
			"<td{% if x %} class=\"y\"{% end %} data-label=\"\" colspan=\"3\">z</td>\n"
			"{# <td>in a comment</td> #}<tdx><table><thead></thead>",
			&cells),
		0);
	assert_int_equal(cells, 2);
	cells = 0;
	assert_int_equal(
		unlabelled("t", "<td\n class=\"a\">x</td><td title=\"data-label\">", &cells), 2);
}

struct walk {
	int files, cells, bad;
};

static void walk(struct walk *w, const char *dir, const char *rel)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[1024], sub[512];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		struct stat st;
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			walk(w, path, sub);
			continue;
		}
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 5, ".html") != 0 || excepted(sub))
			continue;
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		char *text = calloc(1, (size_t)st.st_size + 1);
		assert_non_null(text);
		assert_int_equal(fread(text, 1, (size_t)st.st_size, f), (size_t)st.st_size);
		fclose(f);
		w->files++;
		w->bad += unlabelled(sub, text, &w->cells);
		free(text);
	}
	closedir(d);
}

static void every_cell_names_its_column(void **state)
{
	(void)state;
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/templates", root());
	struct walk w = {0};
	walk(&w, dir, "");
	/* the templates were found: a wrong root must not pass */
	assert_true(w.files > 20);
	assert_true(w.cells > 50);
	assert_int_equal(w.bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(checker_finds_what_it_should),
		cmocka_unit_test(every_cell_names_its_column),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
