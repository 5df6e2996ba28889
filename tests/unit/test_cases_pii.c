/*
 * test_cases_pii.c - the personal identifiers in what a case keeps
 * (src/cases/pii.c): answers sealed and opened back (and those stored
 * before sealing still read), ID numbers and mobile numbers in free text
 * sealed as tokens, shown masked or in full, and what is not one left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cases/internal.h"
#include "core/keys.h"

static struct dg_keys keys;

static void answers_sealed_and_opened(void **state)
{
	(void)state;
	json_t *a = json_pack("{s:s, s:s, s:s}", "name", "张三", "id_number", "110101199001011237",
			      "phone", "13912345678");
	char *sealed = case_seal_answers(&keys, a);
	assert_non_null(sealed);
	assert_null(strstr(sealed, "1101011990"));
	assert_null(strstr(sealed, "139123"));
	assert_null(strstr(sealed, "张三"));
	json_t *back = case_open_answers(&keys, sealed);
	assert_true(json_equal(a, back));
	json_decref(back);
	/* answers stored before sealing are read as they are */
	back = case_open_answers(&keys, "{\"name\":\"李四\"}");
	assert_string_equal(json_string_value(json_object_get(back, "name")), "李四");
	json_decref(back);
	/* what does not open, and is no JSON object, is no answers at all */
	back = case_open_answers(&keys, "not sealed, not JSON");
	assert_int_equal(json_object_size(back), 0);
	json_decref(back);
	struct dg_keys other = keys;
	other.seal[0] ^= 1;
	back = case_open_answers(&other, sealed);
	assert_int_equal(json_object_size(back), 0);
	json_decref(back);
	free(sealed);
	json_decref(a);
}

static void free_text_tokens(void **state)
{
	(void)state;
	struct dg_arena *a = dg_arena_new();
	const char *text =
		"请致电13912345678，或持110101199001011237的身份证；12345678901234 is a number, "
		"110101199001011238 a wrong ID, 13700000000123 too long, and 11010119900101100x a "
		"lower x.";
	char *sealed = case_seal_text(&keys, a, text);
	assert_null(strstr(sealed, "13912345678"));
	assert_null(strstr(sealed, "110101199001011237"));
	assert_null(strstr(sealed, "11010119900101100x"));
	/* what only looks a little like one stays */
	assert_non_null(strstr(sealed, "12345678901234 is a number"));
	assert_non_null(strstr(sealed, "110101199001011238 a wrong ID"));
	assert_non_null(strstr(sealed, "13700000000123 too long"));
	char *masked = case_show_text(&keys, a, sealed, 0);
	assert_non_null(strstr(masked, "请致电139****5678，"));
	assert_non_null(strstr(masked, "持110101********1237的"));
	assert_non_null(strstr(masked, "110101********100X a lower x"));
	char *full = case_show_text(&keys, a, sealed, 1);
	assert_non_null(strstr(full, "请致电13912345678，或持110101199001011237的身份证"));
	assert_non_null(strstr(full, "11010119900101100X a lower x"));
	/* text that never was sealed is masked all the same */
	assert_string_equal(case_show_text(&keys, a, "ring 13912345678", 0), "ring 139****5678");
	/* a token that is not ours shows nothing of itself */
	assert_string_equal(case_show_text(&keys, a, "x {pii:i:AAAA} y", 1), "x *** y");
	assert_string_equal(case_seal_text(&keys, a, ""), "");
	dg_arena_free(a);
}

static void a_case_shown(void **state)
{
	(void)state;
	struct dg_arena *a = dg_arena_new();
	json_t *c = json_loads(
		"{\"form\":{\"pages\":[{\"fields\":[{\"name\":\"id\",\"type\":\"id_number\"},"
		"{\"name\":\"tel\",\"type\":\"phone\"},{\"name\":\"purpose\",\"type\":\"text\"}]}]}"
		","
		"\"answers\":{\"id\":\"110101199001011237\",\"tel\":\"13912345678\","
		"\"purpose\":\"call 13912345678\"},\"reason\":\"\",\"events\":[{\"note\":\"x\"}],"
		"\"files\":[{\"filename\":\"id-110101199001011237.pdf\"}]}",
		0, NULL);
	assert_non_null(c);
	json_t *copy = json_deep_copy(c);
	case_show(&keys, a, c, 0);
	json_t *ans = json_object_get(c, "answers");
	assert_string_equal(json_string_value(json_object_get(ans, "id")), "110101********1237");
	assert_string_equal(json_string_value(json_object_get(ans, "tel")), "139****5678");
	assert_string_equal(json_string_value(json_object_get(ans, "purpose")), "call 139****5678");
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(c, "files"), 0), "filename")),
			    "id-110101********1237.pdf");
	case_show(&keys, a, copy, 1);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(copy, "answers"), "id")),
		"110101199001011237");
	json_decref(c);
	json_decref(copy);
	dg_arena_free(a);
}

int main(void)
{
	memset(&keys, 0x5a, sizeof(keys));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(answers_sealed_and_opened),
		cmocka_unit_test(free_text_tokens),
		cmocka_unit_test(a_case_shown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
