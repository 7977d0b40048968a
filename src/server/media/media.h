/* media.h - files in chat: uploads (one request, or resumable with tus 1.0), downloads with
 * ranges, thumbnails, the browser's session cookie; and what chat needs to carry a media item
 * in a message. docs/PROTOCOL.md (Media) is the contract.
 *
 * Files are stored once per content, named by their SHA-256, under DATA/media/; the store
 * holds who uploaded what (STORE_MEDIA_*). Nothing here blocks the loop: file I/O is uv_fs_*,
 * hashing goes piece by piece as writes complete, type detection (libmagic) and thumbnails
 * (GdkPixbuf) run on libuv's thread pool.
 */
#ifndef PIER_MEDIA_H
#define PIER_MEDIA_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct http_exchange;
struct server;

/* Creates DATA/media, DATA/media/thumbs and DATA/uploads, removes what a crash left of simple
 * uploads, loads libmagic's database. 0, or -1 (logged). */
int media_init(struct server *srv);
/* Frees the media state (after the loop ended). */
void media_release(struct server *srv);
/* True while media work that may still use the store is running (a clean stop waits). */
bool media_is_busy(const struct server *srv);

/* ---- HTTP handlers (routes.c) ---- */
void media_upload_head(struct http_exchange *x);          /* POST /api/media */
void media_upload_body(struct http_exchange *x, const char *data, size_t len);
void media_upload_end(struct http_exchange *x);
void media_get_head(struct http_exchange *x);             /* GET /media/ID[/thumb] */
void media_get_writable(struct http_exchange *x);
void media_session_head(struct http_exchange *x);         /* POST, DELETE /api/session */
void media_req_done(struct http_exchange *x);             /* on_done of every media route */
void tus_head(struct http_exchange *x);                   /* /api/tus[/KEY], every method */
void tus_body(struct http_exchange *x, const char *data, size_t len);
void tus_end(struct http_exchange *x);

/* ---- messages ---- */

/* True for the kinds a message may show media as: "image", "video", "audio", "file". */
bool media_kind_valid(const char *kind);
/* True if a media item of type may be sent as kind ("file" fits everything). */
bool media_kind_fits(const char *kind, const char *type);
/* {"id","name","size","type"} plus "width" and "height" when known. New reference. */
json_t *media_json(int64_t id, const char *name, int64_t size, const char *type, int width,
                   int height);

#endif
