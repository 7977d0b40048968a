/* media_file.c - the blocking half of media, run on libuv's thread pool and never on the loop:
 * hashing a file whose hash is not known, type detection (libmagic), moving a received file
 * to its content address, image sizes and thumbnails (GdkPixbuf). */
#include "media_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <magic.h>
#include <openssl/evp.h>

#include "log.h"

#define HASH_CHUNK (1024 * 1024)

void media_blob_path(const struct media *m, const char *sha256, char *out, size_t n)
{
	snprintf(out, n, "%s/media/%.2s/%s", m->data_dir, sha256, sha256 + 2);
}

void media_thumb_path(const struct media *m, const char *sha256, const char *thumb_type,
                      char *out, size_t n)
{
	snprintf(out, n, "%s/media/thumbs/%s.%s", m->data_dir, sha256,
	         strcmp(thumb_type, "image/jpeg") == 0 ? "jpg" : "png");
}

void media_file_sweep(const struct media *m)
{
	char dir[MEDIA_PATH_MAX], path[MEDIA_PATH_MAX + 256];
	DIR *d;
	struct dirent *e;

	snprintf(dir, sizeof(dir), "%s/uploads", m->data_dir);
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "tmp-", 4) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) == 0)
			log_info("media: removed %s, left by an interrupted upload", path);
	}
	closedir(d);
}

/* SHA-256 of a whole file, in hex. 0 or an errno value. */
static int hash_file(const char *path, char hex[65], int64_t *size)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char *buf = malloc(HASH_CHUNK);
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	int64_t total = 0;

	if (ctx == NULL || buf == NULL || fd < 0 || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		err = fd < 0 ? errno : ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf, HASH_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			goto out;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		total += n;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
		err = EIO;
		goto out;
	}
	for (unsigned i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
	*size = total;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	EVP_MD_CTX_free(ctx);
	return err;
}

static void detect_type(const struct media *m, const char *path, char *out, size_t n)
{
	const char *t;

	uv_mutex_lock((uv_mutex_t *)&m->magic_lock);
	t = magic_file((magic_t)m->magic, path);
	snprintf(out, n, "%s", t != NULL && strchr(t, '/') != NULL ? t : "application/octet-stream");
	uv_mutex_unlock((uv_mutex_t *)&m->magic_lock);
}

/* Makes the directory (parents exist) unless it is there. */
static int make_dir(const char *path)
{
	return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : errno;
}

static void sync_dir(const char *file)
{
	char dir[MEDIA_PATH_MAX];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", file);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		return;
	*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Moves part to the content address, or drops it when that content is stored already. */
static int place_blob(const struct media_finish *f, const char *blob)
{
	char dir[MEDIA_PATH_MAX];
	int err;

	snprintf(dir, sizeof(dir), "%s/media/%.2s", f->m->data_dir, f->sha256);
	err = make_dir(dir);
	if (err != 0)
		return err;
	if (access(blob, F_OK) == 0) {
		unlink(f->part);         /* the same bytes are there: de-duplicated */
		return 0;
	}
	if (rename(f->part, blob) != 0)
		return errno;
	sync_dir(blob);
	return 0;
}

static bool thumbnailable(const char *type)
{
	return strcmp(type, "image/jpeg") == 0 || strcmp(type, "image/png") == 0 ||
	       strcmp(type, "image/gif") == 0 || strcmp(type, "image/webp") == 0;
}

/* Reads the size of an image and makes its thumbnail unless there is one. The size comes from
 * the header alone, so that a huge image (a "decompression bomb") gets no thumbnail rather
 * than eating the memory. */
static void make_thumb(struct media_finish *f, const char *blob)
{
	const char *ttype = strcmp(f->type, "image/jpeg") == 0 ? "image/jpeg" : "image/png";
	char path[MEDIA_PATH_MAX], tmp[MEDIA_PATH_MAX + 32];
	GdkPixbuf *pb = NULL, *oriented = NULL;
	GError *gerr = NULL;
	int w = 0, h = 0;
	gboolean ok;

	if (gdk_pixbuf_get_file_info(blob, &w, &h) == NULL || w <= 0 || h <= 0)
		return;
	f->width = w;
	f->height = h;
	if ((int64_t)w * h > MEDIA_MAX_PIXELS)
		return;
	media_thumb_path(f->m, f->sha256, ttype, path, sizeof(path));
	if (access(path, F_OK) == 0) {
		snprintf(f->thumb, sizeof(f->thumb), "%s", ttype);
		return;
	}
	pb = gdk_pixbuf_new_from_file_at_scale(blob, w > MEDIA_THUMB_SIZE ? MEDIA_THUMB_SIZE : w,
	                                       h > MEDIA_THUMB_SIZE ? MEDIA_THUMB_SIZE : h, TRUE,
	                                       &gerr);
	if (pb == NULL) {
		log_info("media: no thumbnail for %s: %s", f->sha256, gerr ? gerr->message : "?");
		goto out;
	}
	oriented = gdk_pixbuf_apply_embedded_orientation(pb);
	snprintf(tmp, sizeof(tmp), "%s.tmp%lx", path, (unsigned long)uv_thread_self());
	if (strcmp(ttype, "image/jpeg") == 0)
		ok = gdk_pixbuf_save(oriented ? oriented : pb, tmp, "jpeg", &gerr, "quality", "85", NULL);
	else
		ok = gdk_pixbuf_save(oriented ? oriented : pb, tmp, "png", &gerr, NULL);
	if (!ok || rename(tmp, path) != 0) {
		log_warn("media: cannot write thumbnail %s: %s", path, gerr ? gerr->message : strerror(errno));
		unlink(tmp);
		goto out;
	}
	snprintf(f->thumb, sizeof(f->thumb), "%s", ttype);
out:
	if (gerr != NULL)
		g_error_free(gerr);
	if (oriented != NULL)
		g_object_unref(oriented);
	if (pb != NULL)
		g_object_unref(pb);
}

void media_file_finish(struct media_finish *f)
{
	char blob[MEDIA_PATH_MAX];
	int64_t size = 0;

	f->err = 0;
	if (!f->have_sha) {
		f->err = hash_file(f->part, f->sha256, &size);
		if (f->err != 0)
			goto fail;
		f->size = size;
	}
	/* Ciphertext says nothing about what it hides: no type from its bytes, no thumbnail (the
	 * receiving client makes its own from what it decrypted). */
	if (f->e2ee)
		snprintf(f->type, sizeof(f->type), "application/octet-stream");
	else
		detect_type(f->m, f->part, f->type, sizeof(f->type));
	media_blob_path(f->m, f->sha256, blob, sizeof(blob));
	f->err = place_blob(f, blob);
	if (f->err != 0)
		goto fail;
	if (!f->e2ee && thumbnailable(f->type))
		make_thumb(f, blob);
	return;
fail:
	log_warn("media: cannot store %s: %s", f->part, strerror(f->err));
	unlink(f->part);
}
