/*
 * test_keys.c - unit tests for src/auth/keys.c: loading and creating the
 * master key, derived keys, sealing personal identifiers (and refusing
 * tampered ones), blind indexes, masks, and the validators of ID numbers
 * (GB 11643), mobile numbers and unified social credit codes (GB 32100).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/keys.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/rand.h"

#define HEX_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEX_B "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static int setup(void **state)
{
	(void)state;
	dg_log_set_level(DG_LOG_OFF);
	return dg_rand_init() == DG_OK ? 0 : -1;
}

static void keys_from_hex_are_derived_and_distinct(void **state)
{
	(void)state;
	struct dg_keys a, a2, b;
	struct dg_err err = {0};
	assert_int_equal(dg_keys_load(&a, HEX_A, NULL, &err), DG_OK);
	assert_int_equal(dg_keys_load(&a2, HEX_A, "/nonexistent/never-used", &err), DG_OK);
	assert_int_equal(dg_keys_load(&b, HEX_B, NULL, &err), DG_OK);
	assert_memory_equal(a.seal, a2.seal, 32);
	assert_memory_equal(a.sign_pk, a2.sign_pk, 32);
	assert_memory_not_equal(a.seal, b.seal, 32);
	assert_memory_not_equal(a.seal, a.index, 32);
	assert_memory_not_equal(a.index, a.csrf, 32);
	dg_keys_release(&a);
	unsigned char zero[32] = {0};
	assert_memory_equal(a.seal, zero, 32);
	dg_keys_release(&a2);
	dg_keys_release(&b);
}

static void bad_hex_is_refused(void **state)
{
	(void)state;
	struct dg_keys k;
	struct dg_err err = {0};
	assert_int_equal(dg_keys_load(&k, "abcd", NULL, &err), DG_EINVAL);
	assert_non_null(strstr(err.msg, "DGOV_KEY"));
	assert_int_equal(dg_keys_load(&k, HEX_A "00", NULL, &err), DG_EINVAL);
	char bad[65];
	memcpy(bad, HEX_A, 65);
	bad[10] = 'g';
	assert_int_equal(dg_keys_load(&k, bad, NULL, &err), DG_EINVAL);
}

static void key_file_created_0600_then_reused(void **state)
{
	(void)state;
	char dir[] = "/tmp/dgov-keys-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/dgov.key", dir);
	struct dg_keys k1, k2;
	struct dg_err err = {0};
	assert_int_equal(dg_keys_load(&k1, NULL, path, &err), DG_OK);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 65);
	assert_int_equal(dg_keys_load(&k2, "", path, &err), DG_OK);
	assert_memory_equal(k1.seal, k2.seal, 32);
	assert_memory_equal(k1.sign_sk, k2.sign_sk, 64);
	/* a damaged file is an error, not a silent new key */
	FILE *f = fopen(path, "w");
	fputs("not a key\n", f);
	fclose(f);
	assert_int_equal(dg_keys_load(&k2, NULL, path, &err), DG_EINVAL);
	/* a folder that does not exist cannot hold a new key */
	snprintf(path, sizeof(path), "%s/missing/dgov.key", dir);
	assert_int_equal(dg_keys_load(&k2, NULL, path, &err), DG_EIO);
	snprintf(path, sizeof(path), "%s/dgov.key", dir);
	unlink(path);
	rmdir(dir);
}

static void seal_open_round_trip_and_tamper(void **state)
{
	(void)state;
	struct dg_keys k, other;
	struct dg_err err = {0};
	assert_int_equal(dg_keys_load(&k, HEX_A, NULL, &err), DG_OK);
	assert_int_equal(dg_keys_load(&other, HEX_B, NULL, &err), DG_OK);
	struct dg_arena *a = dg_arena_new();
	const char *id = "11010519491231002X";
	char *s1 = dg_pii_seal(&k, a, id);
	char *s2 = dg_pii_seal(&k, a, id);
	assert_null(strstr(s1, id));
	assert_string_not_equal(s1, s2); /* random nonce */
	char *plain = NULL;
	assert_int_equal(dg_pii_open(&k, a, s1, &plain), DG_OK);
	assert_string_equal(plain, id);
	assert_int_equal(dg_pii_open(&k, a, s2, &plain), DG_OK);
	assert_string_equal(plain, id);
	/* flip one character in the middle: authentication fails */
	char *t = dg_arena_strdup(a, s1);
	size_t mid = strlen(t) / 2;
	t[mid] = t[mid] == 'A' ? 'B' : 'A';
	assert_int_equal(dg_pii_open(&k, a, t, &plain), DG_EINVAL);
	assert_null(plain);
	assert_int_equal(dg_pii_open(&other, a, s1, &plain), DG_EINVAL);
	assert_int_equal(dg_pii_open(&k, a, "not base64!", &plain), DG_EINVAL);
	assert_int_equal(dg_pii_open(&k, a, "AAAA", &plain), DG_EINVAL);
	assert_int_equal(dg_pii_open(&k, a, "", &plain), DG_EINVAL);
	/* the empty string seals and opens too */
	assert_int_equal(dg_pii_open(&k, a, dg_pii_seal(&k, a, ""), &plain), DG_OK);
	assert_string_equal(plain, "");
	dg_arena_free(a);
	dg_keys_release(&k);
	dg_keys_release(&other);
}

static void blind_index_is_stable_keyed_and_kinded(void **state)
{
	(void)state;
	struct dg_keys k, other;
	struct dg_err err = {0};
	assert_int_equal(dg_keys_load(&k, HEX_A, NULL, &err), DG_OK);
	assert_int_equal(dg_keys_load(&other, HEX_B, NULL, &err), DG_OK);
	struct dg_arena *a = dg_arena_new();
	char *i1 = dg_pii_index(&k, a, "id", "11010519491231002X");
	assert_int_equal(strlen(i1), 32);
	assert_string_equal(i1, dg_pii_index(&k, a, "id", "11010519491231002X"));
	assert_string_not_equal(i1, dg_pii_index(&other, a, "id", "11010519491231002X"));
	assert_string_not_equal(i1, dg_pii_index(&k, a, "phone", "11010519491231002X"));
	/* "kind\0value" keeps ("ab","c") and ("a","bc") apart */
	assert_string_not_equal(dg_pii_index(&k, a, "ab", "c"), dg_pii_index(&k, a, "a", "bc"));
	dg_arena_free(a);
	dg_keys_release(&k);
	dg_keys_release(&other);
}

static void masks(void **state)
{
	(void)state;
	struct dg_arena *a = dg_arena_new();
	assert_string_equal(dg_mask_id(a, "110101199001011234"), "110101********1234");
	assert_string_equal(dg_mask_id(a, "11010519491231002X"), "110105********002X");
	assert_string_equal(dg_mask_phone(a, "13812345678"), "138****5678");
	assert_string_equal(dg_mask_id(a, "12345"), "*****");
	assert_string_equal(dg_mask_phone(a, "1234567"), "*******");
	assert_string_equal(dg_mask_id(a, ""), "");
	/* non-ASCII is masked whole rather than cut inside a character */
	assert_string_equal(dg_mask_id(a, "张三张三张三"), "******************");
	dg_arena_free(a);
}

static void id_numbers(void **state)
{
	(void)state;
	/* the GB 11643 standard's own example, with X as check character */
	assert_true(dg_id_number_valid("11010519491231002X"));
	assert_true(dg_id_number_valid("11010519491231002x"));
	assert_true(dg_id_number_valid("440524188001010014"));
	assert_false(dg_id_number_valid("110105194912310021")); /* wrong check digit */
	assert_false(dg_id_number_valid("11010519491231002"));  /* 17 characters */
	assert_false(dg_id_number_valid("11010519491231002XX"));
	assert_false(dg_id_number_valid("1101051949123100AX"));
	assert_false(dg_id_number_valid(""));
	assert_false(dg_id_number_valid(NULL));
	/* a correct check digit on an impossible birth date (Feb 30) */
	char id[19] = "99010019900230123";
	id[17] = dg_id_check_char(id);
	id[18] = 0;
	assert_false(dg_id_number_valid(id));
	memcpy(id, "99010019900228123", 17);
	id[17] = dg_id_check_char(id);
	assert_true(dg_id_number_valid(id));
	assert_int_equal(dg_id_check_char("1101051949123100A"), 0);
}

static void phones(void **state)
{
	(void)state;
	assert_true(dg_phone_valid("13812345678"));
	assert_true(dg_phone_valid("19912345678"));
	assert_false(dg_phone_valid("12812345678")); /* second digit 2 */
	assert_false(dg_phone_valid("23812345678"));
	assert_false(dg_phone_valid("1381234567"));
	assert_false(dg_phone_valid("138123456789"));
	assert_false(dg_phone_valid("1381234567a"));
	assert_false(dg_phone_valid("+8613812345678"));
	assert_false(dg_phone_valid(NULL));
}

static void usccs(void **state)
{
	(void)state;
	/* the code often given as the GB 32100 example */
	assert_true(dg_uscc_valid("91350100M000100Y43"));
	assert_false(dg_uscc_valid("91350100M000100Y44"));
	assert_false(dg_uscc_valid("91350100M000100Y4"));
	assert_false(dg_uscc_valid("91350100M00010OY43")); /* O is not in the alphabet */
	assert_false(dg_uscc_valid("91350100m000100Y43"));
	assert_false(dg_uscc_valid(""));
	assert_false(dg_uscc_valid(NULL));
	char code[19] = "91990100MAHX00001";
	code[17] = dg_uscc_check_char(code);
	code[18] = 0;
	assert_true(dg_uscc_valid(code));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keys_from_hex_are_derived_and_distinct),
		cmocka_unit_test(bad_hex_is_refused),
		cmocka_unit_test(key_file_created_0600_then_reused),
		cmocka_unit_test(seal_open_round_trip_and_tamper),
		cmocka_unit_test(blind_index_is_stable_keyed_and_kinded),
		cmocka_unit_test(masks),
		cmocka_unit_test(id_numbers),
		cmocka_unit_test(phones),
		cmocka_unit_test(usccs),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
