/* pier_e2ee_keyfile.c - keys at rest: the device state and the local message store as files of
 * mode 0600 in a 0700 directory, written atomically (a temporary file, fsync, rename, fsync of
 * the directory), optionally sealed with a passphrase (argon2id + XChaCha20-Poly1305). A file
 * that others may read is refused when loading: keys that leaked are not used as if safe.
 *
 * A sealed file is JSON: {"pier_sealed":1,"kdf":"argon2id13","ops":N,"mem":N,"salt":B64,
 * "nonce":B64,"box":B64}, box = XChaCha20-Poly1305-IETF(key, nonce, ad = "pier-keyfile-v1",
 * the plain file). docs/E2EE.md "Keys at rest".
 */
#include "pier_e2ee.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "xalloc.h"

#define SEAL_AD "pier-keyfile-v1"

static void set_err(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_err(char **err, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	free(*err);
	*err = xstrdup(buf);
}

int pier_e2ee_mkdirs(const char *dir, char **err)
{
	char path[PIER_E2EE_PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof path) {
		set_err(err, "bad directory name");
		return -1;
	}
	memcpy(path, dir, n + 1);
	for (char *p = path + 1; ; p++) {
		bool end = *p == '\0';

		if (*p != '/' && !end)
			continue;
		*p = '\0';
		/* Only the last component (pier's own) is forced to 0700; parents are made 0700 too
		 * when missing but left as they are when they exist ($HOME, ~/.local/share). */
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			set_err(err, "cannot make %s: %s", path, strerror(errno));
			return -1;
		}
		if (end)
			break;
		*p = '/';
	}
	if (chmod(path, 0700) != 0) {
		set_err(err, "cannot chmod %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The directory part of path into dir ("." when none). */
static void dir_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, size, ".");
	else if (slash == path)
		snprintf(dir, size, "/");
	else
		snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

void pier_e2ee_seal_init(struct pier_e2ee_seal *seal, const char *passphrase)
{
	memset(seal, 0, sizeof *seal);
	seal->passphrase = passphrase != NULL ? xstrdup(passphrase) : NULL;
}

void pier_e2ee_seal_release(struct pier_e2ee_seal *seal)
{
	if (seal->passphrase != NULL) {
		sodium_memzero(seal->passphrase, strlen(seal->passphrase));
		free(seal->passphrase);
	}
	sodium_memzero(seal, sizeof *seal);
}

/* Derives seal's key from its passphrase with salt, ops, mem: 0 or -1 (out of memory). */
static int derive(struct pier_e2ee_seal *seal, const unsigned char salt[16],
                  unsigned long long ops, size_t mem)
{
	if (crypto_pwhash(seal->key, sizeof seal->key, seal->passphrase, strlen(seal->passphrase),
	                  salt, ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return -1;
	memcpy(seal->salt, salt, sizeof seal->salt);
	seal->ops = ops;
	seal->mem = mem;
	seal->derived = true;
	return 0;
}

/* Seals plain: a new string (the sealed file's JSON), or NULL. */
static char *seal_bytes(struct pier_e2ee_seal *seal, const char *plain, size_t len)
{
	unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	unsigned char *box;
	unsigned long long boxlen = 0;
	char *out = NULL, *s_salt, *s_nonce, *s_box;
	json_t *j;

	if (!seal->derived) {
		unsigned char salt[crypto_pwhash_SALTBYTES];

		randombytes_buf(salt, sizeof salt);
		if (derive(seal, salt, crypto_pwhash_OPSLIMIT_INTERACTIVE,
		           crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
			return NULL;
	}
	randombytes_buf(nonce, sizeof nonce);
	box = xmalloc(len + crypto_aead_xchacha20poly1305_ietf_ABYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(box, &boxlen, (const unsigned char *)plain, len,
	                                           (const unsigned char *)SEAL_AD,
	                                           strlen(SEAL_AD), NULL, nonce, seal->key);
	s_salt = pier_b64_encode(seal->salt, sizeof seal->salt);
	s_nonce = pier_b64_encode(nonce, sizeof nonce);
	s_box = pier_b64_encode(box, (size_t)boxlen);
	j = json_pack("{s:i, s:s, s:I, s:I, s:s, s:s, s:s}", "pier_sealed", 1, "kdf", "argon2id13",
	              "ops", (json_int_t)seal->ops, "mem", (json_int_t)seal->mem, "salt", s_salt,
	              "nonce", s_nonce, "box", s_box);
	if (j != NULL)
		out = json_dumps(j, JSON_COMPACT);
	free(box);
	free(s_salt);
	free(s_nonce);
	free(s_box);
	json_decref(j);
	return out;
}

/* Opens a sealed file's JSON j: the plain bytes (malloc'd, NUL-terminated) or NULL. */
static char *unseal(const json_t *j, struct pier_e2ee_seal *seal, size_t *len, char **err)
{
	unsigned char salt[crypto_pwhash_SALTBYTES];
	unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	json_int_t ops = json_integer_value(json_object_get(j, "ops"));
	json_int_t mem = json_integer_value(json_object_get(j, "mem"));
	unsigned char *box = NULL;
	char *plain = NULL;
	size_t boxlen = 0;
	unsigned long long plen = 0;

	if (seal == NULL || seal->passphrase == NULL) {
		set_err(err, "the key file is protected by a passphrase (--passphrase or "
		        "PIER_PASSPHRASE)");
		return NULL;
	}
	/* Bounds before work: a file could ask for any amount of memory or time. */
	if (ops < (json_int_t)crypto_pwhash_OPSLIMIT_MIN || ops > 64 ||
	    mem < (json_int_t)crypto_pwhash_MEMLIMIT_MIN || mem > (json_int_t)1 << 30 ||
	    pier_b64_decode_fixed(json_string_value(json_object_get(j, "salt")), salt,
	                          sizeof salt) != 0 ||
	    pier_b64_decode_fixed(json_string_value(json_object_get(j, "nonce")), nonce,
	                          sizeof nonce) != 0 ||
	    (box = pier_b64_decode(json_string_value(json_object_get(j, "box")), &boxlen)) == NULL ||
	    boxlen < crypto_aead_xchacha20poly1305_ietf_ABYTES) {
		set_err(err, "the key file is damaged");
		goto out;
	}
	if ((!seal->derived || memcmp(seal->salt, salt, sizeof salt) != 0 ||
	     seal->ops != (unsigned long long)ops || seal->mem != (size_t)mem) &&
	    derive(seal, salt, (unsigned long long)ops, (size_t)mem) != 0) {
		set_err(err, "out of memory deriving the key");
		goto out;
	}
	plain = xmalloc(boxlen + 1);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)plain, &plen, NULL, box,
	                                               boxlen, (const unsigned char *)SEAL_AD,
	                                               strlen(SEAL_AD), nonce, seal->key) != 0) {
		set_err(err, "wrong passphrase (or a damaged key file)");
		seal->derived = false;
		sodium_memzero(seal->key, sizeof seal->key);
		free(plain);
		plain = NULL;
		goto out;
	}
	plain[plen] = '\0';
	*len = (size_t)plen;
out:
	free(box);
	return plain;
}

int pier_e2ee_keyfile_write(const char *path, const char *data, size_t len,
                            struct pier_e2ee_seal *seal, char **err)
{
	char dir[PIER_E2EE_PATH_MAX], tmp[PIER_E2EE_PATH_MAX + 16];
	char *sealed = NULL;
	const char *bytes = data;
	size_t n = len, done = 0;
	int fd = -1, rc = -1;

	if (strlen(path) >= PIER_E2EE_PATH_MAX) {
		set_err(err, "path too long");
		return -1;
	}
	dir_of(path, dir, sizeof dir);
	if (pier_e2ee_mkdirs(dir, err) != 0)
		return -1;
	if (seal != NULL && seal->passphrase != NULL) {
		sealed = seal_bytes(seal, data, len);
		if (sealed == NULL) {
			set_err(err, "cannot seal %s", path);
			return -1;
		}
		bytes = sealed;
		n = strlen(sealed);
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0) {
		set_err(err, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	while (done < n) {
		ssize_t w = write(fd, bytes + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			set_err(err, "cannot write %s: %s", tmp, strerror(errno));
			goto out;
		}
		done += (size_t)w;
	}
	if (fsync(fd) != 0) {
		set_err(err, "cannot sync %s: %s", tmp, strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) != 0) {
		set_err(err, "cannot rename to %s: %s", path, strerror(errno));
		goto out;
	}
	/* The rename is durable only once the directory is. */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		(void)fsync(fd);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		(void)unlink(tmp);
	if (sealed != NULL) {
		sodium_memzero(sealed, strlen(sealed));
		free(sealed);
	}
	return rc;
}

int pier_e2ee_keyfile_read(const char *path, struct pier_e2ee_seal *seal, size_t max,
                           char **data, size_t *len, char **err)
{
	struct stat st;
	char *buf = NULL, *plain = NULL;
	size_t n = 0;
	int fd, rc = -1;
	json_t *j = NULL;

	*data = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		set_err(err, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		set_err(err, "%s is not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
		set_err(err, "%s may be read by others (it must be yours, mode 0600): refused; "
		        "fix it with chmod 600 if nobody else had access", path);
		goto out;
	}
	if ((size_t)st.st_size > max) {
		set_err(err, "%s is too large", path);
		goto out;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	j = json_loadb(buf, n, 0, NULL);
	if (j != NULL && json_integer_value(json_object_get(j, "pier_sealed")) == 1) {
		plain = unseal(j, seal, len, err);
		if (plain == NULL)
			goto out;
		*data = plain;
	} else {
		*data = buf;
		*len = n;
		buf = NULL;
	}
	rc = 0;
out:
	json_decref(j);
	if (buf != NULL) {
		sodium_memzero(buf, n);
		free(buf);
	}
	close(fd);
	return rc;
}

int pier_e2ee_save_json(const char *path, const json_t *j, struct pier_e2ee_seal *seal,
                        char **err)
{
	char *s = json_dumps(j, JSON_COMPACT);
	int rc;

	if (s == NULL) {
		set_err(err, "cannot encode %s", path);
		return -1;
	}
	rc = pier_e2ee_keyfile_write(path, s, strlen(s), seal, err);
	sodium_memzero(s, strlen(s));
	free(s);
	return rc;
}

int pier_e2ee_load_json(const char *path, struct pier_e2ee_seal *seal, size_t max, json_t **out,
                        char **err)
{
	char *data = NULL;
	size_t len = 0;
	json_error_t jerr;
	int rc = pier_e2ee_keyfile_read(path, seal, max, &data, &len, err);

	*out = NULL;
	if (rc != 0)
		return rc;
	*out = json_loadb(data, len, 0, &jerr);
	sodium_memzero(data, len);
	free(data);
	if (*out == NULL || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		set_err(err, "%s is not valid JSON", path);
		return -1;
	}
	return 0;
}

int pier_e2ee_lock_dir(const char *dir)
{
	char path[PIER_E2EE_PATH_MAX + 16];
	int fd;

	if (pier_e2ee_mkdirs(dir, NULL) != 0)
		return -1;
	if ((size_t)snprintf(path, sizeof path, "%s/lock", dir) >= sizeof path)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return -2;
	}
	return fd;
}
