/* media.h - files in `pier`: `/send PATH` and `pier send --file PATH` upload with tus over
 * libcurl (a progress bar; an interrupted upload resumes where it stopped, also in a later run:
 * its tus URL is kept in ~/.cache/pier/uploads until it is done), then post the message;
 * incoming media is numbered for `/open N`, which downloads it (progress bar, resuming a
 * partial download) to ~/Downloads (or the temporary directory) and opens it with the
 * desktop's opener (xdg-open) where there is one.
 *
 * Files go over HTTP(S) to the server's HTTP port: --http-url, else http://HOST:8080 (with
 * --tls https://HOST:8443, checked like the chat connection: --ca-file, --insecure).
 * Transfers block the caller; they are bounded by timeouts and retries.
 */
#ifndef PIER_CLI_MEDIA_H
#define PIER_CLI_MEDIA_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "pier.h"

#define CLI_MEDIA_SEEN_MAX 1000     /* media remembered for /open (the oldest are forgotten) */

/* What the interactive chat lends the media commands. */
struct cli_media_host {
	void *ctx;
	const char *(*token)(void *ctx);        /* the session token (NULL: none) */
	const char *(*self)(void *ctx);         /* the user's name */
	/* Queues req (taken) with a fresh ref; -1 when it cannot go (offline). */
	int (*request)(void *ctx, json_t *req, char ref_out[PIER_REF_MAX]);
	void (*info)(void *ctx, const char *text);
	void (*error)(void *ctx, const char *text);
	void (*show)(void *ctx, const json_t *msg);   /* a chat message, as others are shown */
	/* True when a file for target goes end-to-end encrypted (media_e2ee.h); then it is
	 * posted by send_encrypted (file: the payload's "file" object). May be NULL. */
	bool (*encrypts)(void *ctx, const char *target);
	void (*send_encrypted)(void *ctx, const char *target, const char *caption,
	                       const json_t *file, int64_t media);
};

struct cli_media_send;

struct cli_media {
	const struct cli_options *o;
	struct cli_media_host host;
	char base[512];                 /* the HTTP side's URL, without a trailing '/' */
	json_t *seen[CLI_MEDIA_SEEN_MAX];   /* media objects by number - 1 (a ring past the max) */
	int nseen;                      /* numbers given so far */
	struct cli_media_send *sends;   /* media messages awaiting their `sent` */
	bool e2ee_upload;               /* the next upload is ciphertext (tus metadata "e2ee") */
	const char *into;               /* downloads go here instead of ~/Downloads (NULL) */
};

/* Fills m (the caller's); host may be NULL (one-shot commands). */
void cli_media_init(struct cli_media *m, const struct cli_options *o,
                    const struct cli_media_host *host);
void cli_media_release(struct cli_media *m);

/* "/send PATH [CAPTION]" (PATH may be quoted) to target: uploads, then sends. */
void cli_media_command_send(struct cli_media *m, const char *target, const char *args);
/* "/open N": downloads media number N and opens it. */
void cli_media_command_open(struct cli_media *m, const char *args);
/* The reply to a media send (shown here): true; any other event: false. */
bool cli_media_event(struct cli_media *m, const json_t *ev);

/* Numbers media (a message's "media" object) for /open: its number, the same for the same id
 * (0 when m is NULL). */
int cli_media_remember(struct cli_media *m, const json_t *media);
/* " [image: NAME, 1.2 MB, image/png, 640x480] /open N" for a message with media. */
void cli_media_describe(FILE *f, const json_t *msg, int number);

/* `pier send --file PATH --to TARGET [CAPTION]` on a logged-in connection. Exit status. */
int cli_media_oneshot_send(struct pier_conn *conn, const struct cli_options *o, const char *token,
                           const char *to, const char *caption);

/* The blocking transfers (0 or the media id on success; -1 with err set). */
int64_t cli_media_upload(struct cli_media *m, const char *token, const char *path, char *err,
                         size_t errlen);
int cli_media_download(struct cli_media *m, const char *token, const json_t *media, char *path,
                       size_t pathlen, char *err, size_t errlen);
/* Opens path with the desktop's opener, without waiting; false when there is none. */
bool cli_media_open_file(const char *path);

#endif
