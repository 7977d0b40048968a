/* pg_media.h - pier-gtk's files: uploads (tus, resumed after a dropped connection, with
 * progress and cancel),
 * thumbnails and full images (kept in memory only), video and audio (downloaded into the
 * user's data directory, DATA_DIR/media, then played in the window with GtkVideo) and other
 * files (saved where the user chooses). Private files are never written outside the data dir
 * unless the user saves them; encrypted ones (end-to-end) are decrypted in memory, and video
 * and audio into the data dir only.
 *
 * HTTP is libcurl on a GTask worker thread (blocking curl in a thread is simpler and better
 * tested than a hand-made HTTP client on GIO, and it speaks TLS with the same pinned
 * certificate); results come back on the main loop. Nothing here blocks the UI thread.
 */
#ifndef PG_MEDIA_H
#define PG_MEDIA_H

#include <stdint.h>

#include <gtk/gtk.h>
#include <jansson.h>

struct pg_session;
struct pg_media;

/* Downloads use session's server, token and pinned certificate as they are when they start. */
struct pg_media *pg_media_new(struct pg_session *session);
void pg_media_free(struct pg_media *m);

typedef void (*pg_media_texture_cb)(GdkTexture *tex, gpointer ud);
/* Fetches media id's thumbnail; cb gets it (or NULL) on the main loop unless cancelled. */
void pg_media_thumbnail(struct pg_media *m, int64_t id, GCancellable *cancel,
                        pg_media_texture_cb cb, gpointer ud);

/* The same for an encrypted image (its "media" holds the key, pg_e2ee_file.h): the whole file
 * is fetched and decrypted in memory (the server has no thumbnail of ciphertext). */
void pg_media_thumbnail_e2ee(struct pg_media *m, const json_t *media, GCancellable *cancel,
                             pg_media_texture_cb cb, gpointer ud);

/* Opens media (the message's "media" object) as its kind says: an image full size in a
 * window, video or audio played, another file saved through a dialog. from: for the dialog's
 * parent. */
void pg_media_open(struct pg_media *m, GtkWidget *from, json_t *media, const char *kind);

typedef void (*pg_media_progress_cb)(double fraction, gpointer ud);
/* result: the upload's JSON answer (borrowed) or NULL with error set (cancelled: "cancelled"). */
typedef void (*pg_media_done_cb)(json_t *result, const char *error, gpointer ud);
/* Uploads the file at path with tus (/api/tus/: created, then sent 4 MiB at a time; after a
 * drop, HEAD tells where to go on, for about a minute of tries; cancelled, it is deleted).
 * result then has the media "id" and the "type" guessed from the file here. progress and
 * done run on the main loop. */
void pg_media_upload(struct pg_media *m, const char *path, GCancellable *cancel,
                     pg_media_progress_cb progress, pg_media_done_cb done, gpointer ud);
/* The same for a private chat with end-to-end encryption: the file is encrypted into the
 * user's data dir first (a fresh key), the ciphertext uploaded with the tus metadata "e2ee"
 * and removed; result also has "file", the payload's file object (pg_e2ee_add_file). */
void pg_media_upload_e2ee(struct pg_media *m, const char *path, GCancellable *cancel,
                          pg_media_progress_cb progress, pg_media_done_cb done, gpointer ud);
typedef void (*pg_media_bytes_cb)(GBytes *bytes, const char *error, gpointer ud);
/* Downloads an encrypted file (media: its "media" object with the key) and decrypts it in
 * memory: cb gets the plaintext (borrowed) or NULL with error, on the main loop. */
void pg_media_fetch_e2ee(struct pg_media *m, const json_t *media, pg_media_bytes_cb cb,
                         gpointer ud);
/* The message kind for a detected type: "image", "video", "audio" or "file". */
const char *pg_media_kind_of(const char *type);

#endif
