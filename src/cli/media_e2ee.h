/* media_e2ee.h - files in end-to-end encrypted chats: encrypted on this device before the
 * upload (secretstream, a fresh key per file; uploaded with the tus metadata "e2ee", so the
 * server stores and serves ciphertext only), decrypted after the download. The key, the real
 * name, type and size travel inside the encrypted message (the payload's "file"). The
 * terminal makes no thumbnails. */
#ifndef PIER_CLI_MEDIA_E2EE_H
#define PIER_CLI_MEDIA_E2EE_H

#include <stddef.h>
#include <stdint.h>

#include "media.h"
#include "pier_e2ee.h"

/* Encrypts path into a temporary file and uploads that: the media id (> 0) and *file, the
 * payload's {"media","key","header","name","type","size","kind"} (a new reference); -1 with
 * err. */
int64_t media_e2ee_upload(struct cli_media *m, const char *token, const char *path,
                          json_t **file, char *err, size_t errlen);

/* After /open downloaded media to path: when media is an encrypted file (it has "key"),
 * decrypts path in place. 0, or -1 with err (a tampered or cut file is removed). */
int media_e2ee_decrypt(const json_t *media, const char *path, char *err, size_t errlen);

/* History transfer (docs/E2EE.md "History for a new device"): hist's newest
 * PIER_E2EE_HISTORY_MAX messages as an encrypted upload; the grant's "history" file object
 * in *file (new reference). The media id, or -1 with err. */
int64_t media_e2ee_send_history(struct cli_media *m, const char *token,
                                const struct pier_e2ee_history *hist, json_t **file, char *err,
                                size_t errlen);
/* Downloads and decrypts a grant's history file into hist (messages already there stay).
 * The number of messages it held, or -1 with err. */
long media_e2ee_take_history(struct cli_media *m, const char *token, const json_t *file,
                             struct pier_e2ee_history *hist, char *err, size_t errlen);

#endif
