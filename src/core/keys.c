/*
 * keys.c - the node's master key, the working keys derived from it, and the
 * protection of personal identifiers: sealing (secretbox), blind indexes
 * (keyed BLAKE2b), masks for display and the format checks of resident ID
 * numbers (GB 11643), mobile numbers and unified social credit codes
 * (GB 32100).
 *
 * The key file holds 64 hex characters and a newline. It is created with
 * O_CREAT|O_EXCL and mode 0600 so two nodes starting at once cannot both
 * write one; a file readable by others is used but warned about.
 */
#include "core/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/date.h"
#include "core/log.h"
#include "core/mem.h"

#define KDF_CTX "dgovkeys" /* crypto_kdf contexts are exactly 8 bytes */
enum { KDF_SEAL = 1, KDF_INDEX = 2, KDF_CSRF = 3, KDF_SIGN = 4 };

static dg_rc parse_hex_key(const char *hex, size_t n, unsigned char key[32])
{
	size_t got = 0;
	if (n != 64 || sodium_hex2bin(key, 32, hex, n, NULL, &got, NULL) != 0 || got != 32)
		return DG_EINVAL;
	return DG_OK;
}

/* Create a new key file; EEXIST from open() is left in errno for the caller. */
static dg_rc create_key_file(const char *path, unsigned char key[32], struct dg_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;
		if (e != EEXIST)
			dg_err_set(err, DG_EIO, "cannot create the key file %s: %s", path,
				   strerror(e));
		errno = e;
		return DG_EIO;
	}
	char hex[66];
	randombytes_buf(key, 32);
	sodium_bin2hex(hex, 65, key, 32);
	hex[64] = '\n';
	dg_rc rc = DG_OK;
	if (write(fd, hex, 65) != 65 || fsync(fd) != 0)
		rc = dg_err_set(err, DG_EIO, "cannot write the key file %s: %s", path,
				strerror(errno));
	close(fd);
	dg_wipe(hex, sizeof(hex));
	if (!rc)
		dg_info("created a new master key in %s (keep it safe: sealed data needs it)",
			path);
	return rc;
}

static dg_rc read_key_file(const char *path, unsigned char key[32], struct dg_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dg_err_set(err, DG_EIO, "cannot open the key file %s: %s", path,
				  strerror(errno));
	struct stat st;
	if (fstat(fd, &st) == 0 && (st.st_mode & 077))
		dg_warn("the key file %s can be read by other users; chmod 600 it", path);
	char hex[80];
	ssize_t n = read(fd, hex, sizeof(hex));
	close(fd);
	dg_rc rc = DG_OK;
	while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == '\r' || hex[n - 1] == ' '))
		n--;
	if (n <= 0 || parse_hex_key(hex, (size_t)n, key))
		rc = dg_err_set(err, DG_EINVAL, "the key file %s must hold 64 hex characters",
				path);
	dg_wipe(hex, sizeof(hex));
	return rc;
}

static dg_rc master_key(const char *key_hex, const char *key_file, unsigned char key[32],
			struct dg_err *err)
{
	if (key_hex && key_hex[0]) {
		if (parse_hex_key(key_hex, strlen(key_hex), key))
			return dg_err_set(err, DG_EINVAL, "DGOV_KEY must be 64 hex characters");
		return DG_OK;
	}
	if (!key_file || !key_file[0])
		return dg_err_set(err, DG_EINVAL, "no key: set DGOV_KEY or a key file");
	int fd = open(key_file, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return read_key_file(key_file, key, err);
	}
	dg_rc rc = create_key_file(key_file, key, err);
	if (rc == DG_EIO && errno == EEXIST) /* another node created it meanwhile */
		return read_key_file(key_file, key, err);
	return rc;
}

dg_rc dg_keys_load(struct dg_keys *k, const char *key_hex, const char *key_file, struct dg_err *err)
{
	unsigned char master[32];
	unsigned char seed[32];
	memset(k, 0, sizeof(*k));
	dg_rc rc = DG_EINTERNAL;
	if (sodium_init() < 0) {
		rc = dg_err_set(err, DG_EINTERNAL, "libsodium could not start");
		goto out;
	}
	rc = master_key(key_hex, key_file, master, err);
	if (rc)
		goto out;
	crypto_kdf_derive_from_key(k->seal, 32, KDF_SEAL, KDF_CTX, master);
	crypto_kdf_derive_from_key(k->index, 32, KDF_INDEX, KDF_CTX, master);
	crypto_kdf_derive_from_key(k->csrf, 32, KDF_CSRF, KDF_CTX, master);
	crypto_kdf_derive_from_key(seed, 32, KDF_SIGN, KDF_CTX, master);
	crypto_sign_seed_keypair(k->sign_pk, k->sign_sk, seed);
out:
	dg_wipe(master, sizeof(master));
	dg_wipe(seed, sizeof(seed));
	return rc;
}

void dg_keys_release(struct dg_keys *k)
{
	dg_wipe(k, sizeof(*k));
}

/* The longest sealed text opened: a rule engine's explanation of one record
   (up to 1 MiB) in base64, with room to spare; identifiers are far shorter. */
#define SEALED_MAX ((size_t)2 << 20)

char *dg_pii_seal(const struct dg_keys *k, struct dg_arena *a, const char *plain)
{
	size_t n = strlen(plain);
	size_t clen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
	unsigned char *c = dg_arena_alloc(a, clen);
	randombytes_buf(c, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(c + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain, n, c,
			      k->seal);
	size_t blen = sodium_base64_ENCODED_LEN(clen, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = dg_arena_alloc(a, blen);
	sodium_bin2base64(b64, blen, c, clen, sodium_base64_VARIANT_ORIGINAL);
	return b64;
}

dg_rc dg_pii_open(const struct dg_keys *k, struct dg_arena *a, const char *sealed, char **plain)
{
	*plain = NULL;
	size_t blen = strlen(sealed);
	if (blen > SEALED_MAX)
		return DG_EINVAL;
	unsigned char *c = dg_arena_alloc(a, blen + 1);
	size_t clen = 0;
	if (sodium_base642bin(c, blen + 1, sealed, blen, NULL, &clen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return DG_EINVAL;
	if (clen < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
		return DG_EINVAL;
	size_t n = clen - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
	char *p = dg_arena_alloc(a, n + 1);
	if (crypto_secretbox_open_easy((unsigned char *)p, c + crypto_secretbox_NONCEBYTES,
				       clen - crypto_secretbox_NONCEBYTES, c, k->seal) != 0)
		return DG_EINVAL;
	p[n] = '\0';
	*plain = p;
	return DG_OK;
}

char *dg_pii_index(const struct dg_keys *k, struct dg_arena *a, const char *kind, const char *value)
{
	size_t kl = strlen(kind), vl = strlen(value);
	crypto_generichash_state st;
	unsigned char h[16];
	unsigned char zero = 0;
	crypto_generichash_init(&st, k->index, sizeof(k->index), sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)kind, kl);
	crypto_generichash_update(&st, &zero,
				  1); /* "kind\0value": no kind is a prefix of another */
	crypto_generichash_update(&st, (const unsigned char *)value, vl);
	crypto_generichash_final(&st, h, sizeof(h));
	char *hex = dg_arena_alloc(a, 33);
	sodium_bin2hex(hex, 33, h, sizeof(h));
	return hex;
}

static bool all_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* Keep the first head and last tail characters, stars between; all stars when too short. */
static char *mask(struct dg_arena *a, const char *s, size_t head, size_t tail)
{
	size_t n = strlen(s);
	char *m = dg_arena_alloc(a, n + 1);
	bool keep = all_ascii(s) && n >= head + tail + 4;
	for (size_t i = 0; i < n; i++)
		m[i] = keep && (i < head || i >= n - tail) ? s[i] : '*';
	return m;
}

char *dg_mask_id(struct dg_arena *a, const char *id)
{
	return mask(a, id, 6, 4);
}

char *dg_mask_phone(struct dg_arena *a, const char *phone)
{
	return mask(a, phone, 3, 4);
}

char dg_id_check_char(const char *first17)
{
	static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
	static const char map[] = "10X98765432";
	int sum = 0;
	for (int i = 0; i < 17; i++) {
		if (first17[i] < '0' || first17[i] > '9')
			return 0;
		sum += (first17[i] - '0') * w[i];
	}
	return map[sum % 11];
}

bool dg_id_number_valid(const char *s)
{
	if (!s || strlen(s) != 18)
		return false;
	char c = dg_id_check_char(s);
	char last = s[17] == 'x' ? 'X' : s[17];
	if (!c || c != last)
		return false;
	/* digits 7-14 are the date of birth */
	int y = 0, m = 0, d = 0;
	for (int i = 6; i < 10; i++)
		y = y * 10 + (s[i] - '0');
	m = (s[10] - '0') * 10 + (s[11] - '0');
	d = (s[12] - '0') * 10 + (s[13] - '0');
	return y >= 1800 && dg_ymd_valid(y, m, d);
}

bool dg_phone_valid(const char *s)
{
	if (!s || strlen(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9')
		return false;
	for (int i = 2; i < 11; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* GB 32100: 31 characters, no I, O, Z, S, V. */
static const char uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static int uscc_value(char c)
{
	const char *p = c ? strchr(uscc_alphabet, c) : NULL;
	return p ? (int)(p - uscc_alphabet) : -1;
}

char dg_uscc_check_char(const char *first17)
{
	static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
	int sum = 0;
	for (int i = 0; i < 17; i++) {
		int v = uscc_value(first17[i]);
		if (v < 0)
			return 0;
		sum += v * w[i];
	}
	int c = 31 - sum % 31;
	return uscc_alphabet[c == 31 ? 0 : c];
}

bool dg_uscc_valid(const char *s)
{
	if (!s || strlen(s) != 18)
		return false;
	char c = dg_uscc_check_char(s);
	return c && c == s[17];
}
