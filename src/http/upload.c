/*
 * upload.c - hash an upload and move it into its folder (see upload.h).
 *
 * The temporary file lives in the data folder's tmp, on the same file
 * system as the folders files are kept in, so the move is a rename. When an
 * operator puts them apart (EXDEV), the bytes are copied instead and the
 * temporary file is left for the request's cleanup.
 */
#include "http/upload.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/rand.h"

#define CHUNK 65536

static int make_dir(const char *path)
{
	return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* dir and its parent, as upload.h promises. */
static int make_dirs(const char *dir)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(dir, '/');
	if (slash && slash != dir && (size_t)(slash - dir) < sizeof parent) {
		memcpy(parent, dir, (size_t)(slash - dir));
		parent[slash - dir] = '\0';
		if (make_dir(parent))
			return -1;
	}
	return make_dir(dir);
}

/* Stream from to (an open fd) when given, hashing as it goes; -1 on a read or write error. */
static int hash_file(const char *path, int to, unsigned char sum[crypto_hash_sha256_BYTES])
{
	unsigned char buf[CHUNK];
	crypto_hash_sha256_state st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	crypto_hash_sha256_init(&st);
	ssize_t got;
	int bad = 0;
	while (!bad && (got = read(fd, buf, sizeof buf)) > 0) {
		crypto_hash_sha256_update(&st, buf, (unsigned long long)got);
		for (ssize_t off = 0; to >= 0 && off < got;) {
			ssize_t put = write(to, buf + off, (size_t)(got - off));
			if (put < 0 && errno == EINTR)
				continue;
			if (put <= 0) {
				bad = 1;
				break;
			}
			off += put;
		}
	}
	bad = bad || got < 0;
	close(fd);
	crypto_hash_sha256_final(&st, sum);
	return bad ? -1 : 0;
}

/* The bytes of from into a new file at path (EXDEV's way). */
static int copy_to(const char *from, const char *path, unsigned char sum[crypto_hash_sha256_BYTES])
{
	int to = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (to < 0)
		return -1;
	int bad = hash_file(from, to, sum);
	if (close(to) != 0)
		bad = -1;
	if (bad)
		unlink(path);
	return bad;
}

dg_rc dg_upload_keep(const struct dg_upload *u, const char *dir, char name[33], char hash[65])
{
	unsigned char sum[crypto_hash_sha256_BYTES];
	char path[PATH_MAX];
	dg_rand_hex(name, 16);
	int n = snprintf(path, sizeof path, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof path || make_dirs(dir))
		return DG_EIO;
	if (hash_file(u->path, -1, sum))
		return DG_EIO;
	if (rename(u->path, path) != 0 && (errno != EXDEV || copy_to(u->path, path, sum)))
		return DG_EIO;
	sodium_bin2hex(hash, 65, sum, sizeof sum);
	return DG_OK;
}

static const struct {
	const char *magic;
	size_t n;
	const char *type, *format;
} signatures[] = {
	{"%PDF-", 5, "application/pdf", "PDF"},
	{"\xFF\xD8\xFF", 3, "image/jpeg", "JPEG"},
	{"\x89PNG\r\n\x1a\n", 8, "image/png", "PNG"},
	{"GIF8", 4, "image/gif", "GIF"},
	{"PK\x03\x04", 4, "application/zip", "ZIP"},
	{"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8, "application/x-ole-storage", ""},
	{"\x1F\x8B", 2, "application/gzip", "GZ"},
};

const char *dg_upload_sniff(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < sizeof signatures / sizeof signatures[0]; i++)
		if (n >= signatures[i].n && memcmp(p, signatures[i].magic, signatures[i].n) == 0)
			return signatures[i].type;
	return NULL;
}

const char *dg_upload_format(const char *mimetype)
{
	for (size_t i = 0; i < sizeof signatures / sizeof signatures[0]; i++)
		if (strcmp(mimetype, signatures[i].type) == 0)
			return signatures[i].format;
	return "";
}
