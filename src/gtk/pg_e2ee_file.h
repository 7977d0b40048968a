/* pg_e2ee_file.h - files of end-to-end encrypted chats in pier-gtk: encrypted into a file in
 * the user's data dir before the upload, decrypted in memory after the download (docs/E2EE.md
 * "Files in private chats": secretstream, 64 KiB chunks, a fresh key per file). Pure: called
 * from pg_media's worker threads. */
#ifndef PG_E2EE_FILE_H
#define PG_E2EE_FILE_H

#include <stdint.h>

#include <glib.h>
#include <jansson.h>

#define PG_E2EE_FILE_MAX  (256u << 20)   /* the most decrypted in memory */

/* Encrypts the file at src into dst (created 0600, replaced): 0 with the new key and header,
 * or -1. */
int pg_e2ee_file_encrypt(const char *src, const char *dst, uint8_t key[32], uint8_t header[24]);

/* The payload's "file" of an encrypted upload: {media, key, header, name, type, size, kind}
 * (a new reference). */
json_t *pg_e2ee_file_object(int64_t media, const char *name, const char *type, int64_t size,
                            const char *kind, const uint8_t key[32], const uint8_t header[24]);

/* Whether media (a message's "media") is an encrypted file (it holds a key). */
gboolean pg_e2ee_file_is_encrypted(const json_t *media);

/* Decrypts len bytes of ciphertext with media's key and header: the plaintext, or NULL (a
 * damaged key, a tampered or cut file, over PG_E2EE_FILE_MAX). */
GBytes *pg_e2ee_file_decrypt(const json_t *media, const guint8 *data, gsize len);

#endif
