/* pg_e2ee_file.c - encrypting uploads and decrypting downloads of encrypted chats (see
 * pg_e2ee_file.h), on the crypto core's secretstream. */
#include "pg_e2ee_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <sodium.h>

#include "pier_e2ee.h"

int pg_e2ee_file_encrypt(const char *src, const char *dst, uint8_t key[32], uint8_t header[24])
{
	FILE *in = g_fopen(src, "rb"), *out = NULL;
	int fd, rc = -1;

	g_unlink(dst);
	fd = g_open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		out = fdopen(fd, "wb");
	if (in == NULL || out == NULL) {
		if (fd >= 0 && out == NULL)
			close(fd);
		goto out;
	}
	rc = pier_e2ee_file_encrypt_stream(in, out, NULL, key, header) == PIER_E2EE_OK ? 0 : -1;
	if (fclose(out) != 0)
		rc = -1;
	out = NULL;
out:
	if (in != NULL)
		fclose(in);
	if (rc != 0) {
		sodium_memzero(key, 32);
		g_unlink(dst);
	}
	return rc;
}

json_t *pg_e2ee_file_object(int64_t media, const char *name, const char *type, int64_t size,
                            const char *kind, const uint8_t key[32], const uint8_t header[24])
{
	json_t *f = json_pack("{s:I, s:s, s:s, s:I, s:s}", "media", (json_int_t)media, "name", name,
	                      "type", type, "size", (json_int_t)size, "kind", kind);

	pier_e2ee_json_set_bytes(f, "key", key, 32);
	pier_e2ee_json_set_bytes(f, "header", header, PIER_E2EE_FILE_HEADER);
	return f;
}

gboolean pg_e2ee_file_is_encrypted(const json_t *media)
{
	return json_is_string(json_object_get(media, "key")) &&
	       json_is_string(json_object_get(media, "header"));
}

GBytes *pg_e2ee_file_decrypt(const json_t *media, const guint8 *data, gsize len)
{
	uint8_t key[32], header[PIER_E2EE_FILE_HEADER];
	struct pier_e2ee_file f;
	GByteArray *out;
	gsize at = 0;
	bool last = false;

	if (len > PG_E2EE_FILE_MAX + PG_E2EE_FILE_MAX / 1024 ||
	    pier_e2ee_json_bytes(media, "key", key, sizeof key) != PIER_E2EE_OK ||
	    pier_e2ee_json_bytes(media, "header", header, sizeof header) != PIER_E2EE_OK ||
	    pier_e2ee_file_pull_init(&f, key, header) != PIER_E2EE_OK) {
		sodium_memzero(key, sizeof key);
		return NULL;
	}
	sodium_memzero(key, sizeof key);
	out = g_byte_array_sized_new((guint)(len > 17 ? len - 17 : 0));
	while (at < len && !last) {
		gsize n = len - at < PIER_E2EE_FILE_CHUNK_CT ? len - at : PIER_E2EE_FILE_CHUNK_CT;
		size_t got = 0;
		guint old = out->len;

		g_byte_array_set_size(out, old + PIER_E2EE_FILE_CHUNK);
		if (pier_e2ee_file_pull(&f, data + at, n, out->data + old, &got, &last) != PIER_E2EE_OK)
			goto bad;
		g_byte_array_set_size(out, old + (guint)got);
		at += n;
	}
	/* a stream cut before its FINAL chunk, or bytes after it, is no file */
	if (!last || at != len)
		goto bad;
	pier_e2ee_file_release(&f);
	return g_byte_array_free_to_bytes(out);
bad:
	pier_e2ee_file_release(&f);
	sodium_memzero(out->data, out->len);
	g_byte_array_unref(out);
	return NULL;
}
