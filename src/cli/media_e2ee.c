/* media_e2ee.c - encrypting files before upload and decrypting them after download in
 * encrypted private chats (media_e2ee.h), on the crypto core's secretstream helpers. */
#include "media_e2ee.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "msgrules.h"
#include "pier_e2ee.h"

/* A type from the name's extension (the terminal has no content sniffing; the receiver's
 * client decides what to do with it). */
static const char *type_of(const char *name)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".png", "image/png" }, { ".jpg", "image/jpeg" }, { ".jpeg", "image/jpeg" },
		{ ".gif", "image/gif" }, { ".webp", "image/webp" }, { ".txt", "text/plain" },
		{ ".pdf", "application/pdf" }, { ".mp4", "video/mp4" }, { ".webm", "video/webm" },
		{ ".mp3", "audio/mpeg" }, { ".ogg", "audio/ogg" }, { ".zip", "application/zip" },
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot != NULL && i < sizeof types / sizeof types[0]; i++)
		if (strcasecmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

int64_t media_e2ee_upload(struct cli_media *m, const char *token, const char *path,
                          json_t **file, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR"), *slash = strrchr(path, '/');
	const char *name = slash != NULL ? slash + 1 : path;
	char dir[512], enc[600];
	uint8_t key[32], header[PIER_E2EE_FILE_HEADER];
	FILE *in = NULL, *out = NULL;
	struct stat st;
	int64_t id = -1;
	int rc;

	*file = NULL;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		snprintf(err, errlen, "%s", st.st_size == 0 ? "the file is empty" : strerror(errno));
		return -1;
	}
	snprintf(dir, sizeof dir, "%s/pier-e2ee-XXXXXX", tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		snprintf(err, errlen, "cannot make a temporary directory: %s", strerror(errno));
		return -1;
	}
	/* the server sees this name, not the real one */
	snprintf(enc, sizeof enc, "%s/encrypted", dir);
	in = fopen(path, "rb");
	out = fopen(enc, "wb");
	if (in == NULL || out == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto out;
	}
	rc = pier_e2ee_file_encrypt_stream(in, out, NULL, key, header);
	if (fclose(out) != 0 || rc != PIER_E2EE_OK) {
		out = NULL;
		snprintf(err, errlen, "cannot encrypt the file");
		goto out;
	}
	out = NULL;
	m->e2ee_upload = true;
	id = cli_media_upload(m, token, enc, err, errlen);
	m->e2ee_upload = false;
	if (id > 0) {
		const char *type = type_of(name);

		*file = json_pack("{s:I, s:s, s:s, s:I, s:s}", "media", (json_int_t)id, "name", name,
		                  "type", type, "size", (json_int_t)st.st_size, "kind",
		                  pier_media_kind_for_type(type));
		pier_e2ee_json_set_bytes(*file, "key", key, sizeof key);
		pier_e2ee_json_set_bytes(*file, "header", header, sizeof header);
	}
out:
	sodium_memzero(key, sizeof key);
	if (in != NULL)
		fclose(in);
	if (out != NULL)
		fclose(out);
	unlink(enc);
	rmdir(dir);
	return id;
}

int media_e2ee_decrypt(const json_t *media, const char *path, char *err, size_t errlen)
{
	uint8_t key[32], header[PIER_E2EE_FILE_HEADER];
	char plain[4200];
	FILE *in = NULL, *out = NULL;
	int rc = -1, st;

	if (json_object_get(media, "key") == NULL)
		return 0;                  /* not an encrypted file */
	if (pier_e2ee_json_bytes(media, "key", key, sizeof key) != PIER_E2EE_OK ||
	    pier_e2ee_json_bytes(media, "header", header, sizeof header) != PIER_E2EE_OK) {
		snprintf(err, errlen, "the file's key is damaged");
		goto out;
	}
	snprintf(plain, sizeof plain, "%s.dec", path);
	in = fopen(path, "rb");
	out = fopen(plain, "wb");
	if (in == NULL || out == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto out;
	}
	st = pier_e2ee_file_decrypt_stream(in, out, key, header);
	if (fclose(out) != 0 || st != PIER_E2EE_OK) {
		out = NULL;
		unlink(plain);
		unlink(path);
		snprintf(err, errlen, "the file did not decrypt (altered or cut): removed");
		goto out;
	}
	out = NULL;
	if (rename(plain, path) != 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(key, sizeof key);
	if (in != NULL)
		fclose(in);
	if (out != NULL)
		fclose(out);
	return rc;
}

/* A private temporary directory (0700): 0, or -1 with err. */
static int temp_dir(char *dir, size_t size, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, size, "%s/pier-e2ee-XXXXXX", tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		snprintf(err, errlen, "cannot make a temporary directory: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int64_t media_e2ee_send_history(struct cli_media *m, const char *token,
                                const struct pier_e2ee_history *hist, json_t **file, char *err,
                                size_t errlen)
{
	char dir[512], path[600];
	json_t *ex = pier_e2ee_history_export(hist, PIER_E2EE_HISTORY_MAX);
	char *text = json_dumps(ex, JSON_COMPACT);
	int64_t id = -1;
	FILE *f;

	*file = NULL;
	json_decref(ex);
	if (text == NULL || temp_dir(dir, sizeof dir, err, errlen) != 0) {
		free(text);
		return -1;
	}
	snprintf(path, sizeof path, "%s/history.json", dir);
	f = fopen(path, "wx");
	if (f != NULL && fputs(text, f) >= 0 && fclose(f) == 0)
		id = media_e2ee_upload(m, token, path, file, err, errlen);
	else if (f != NULL)
		fclose(f);
	sodium_memzero(text, strlen(text));
	free(text);
	unlink(path);
	rmdir(dir);
	return id;
}

long media_e2ee_take_history(struct cli_media *m, const char *token, const json_t *file,
                             struct pier_e2ee_history *hist, char *err, size_t errlen)
{
	char dir[512], path[PATH_MAX + 32];
	json_t *media = pier_e2ee_file_media(file), *j = NULL;
	size_t before = hist->count;
	long n = -1;

	if (media == NULL) {
		snprintf(err, errlen, "the history reference is damaged");
		return -1;
	}
	if (temp_dir(dir, sizeof dir, err, errlen) != 0) {
		json_decref(media);
		return -1;
	}
	m->into = dir;
	if (cli_media_download(m, token, media, path, sizeof path, err, errlen) == 0 &&
	    media_e2ee_decrypt(media, path, err, errlen) == 0) {
		j = json_load_file(path, 0, NULL);
		if (j == NULL || pier_e2ee_history_import(hist, j, NULL) != 0)
			snprintf(err, errlen, "the history file is damaged");
		else
			n = (long)(hist->count - before);
		unlink(path);
	}
	m->into = NULL;
	rmdir(dir);
	json_decref(j);
	json_decref(media);
	return n;
}
