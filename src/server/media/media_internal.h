/* media_internal.h - what the media files share (media.c, media_file.c, media_http.c, tus.c).
 * Not for other modules: they use media.h.
 *
 * The pieces:
 *   - struct media: the server's media state (the files under DATA/, libmagic, the tus uploads
 *     in progress, the count of work in flight that a clean stop waits for);
 *   - struct media_req: one HTTP exchange of a media endpoint, living until its last
 *     asynchronous step ends even if the connection went first (x is NULL then);
 *   - struct upload: a file being received. Bytes go to DATA/uploads/NAME.part with uv_fs_write
 *     (one write in flight, the body paused while too much waits) and into a SHA-256 as each
 *     write completes, so the hash always covers exactly the bytes in the file. Reference
 *     counted: a tus upload lives in the table between its PATCH requests;
 *   - finishing: media_file_finish (media_file.c) on the thread pool (hash if unknown, libmagic,
 *     thumbnail, rename into DATA/media/), then STORE_MEDIA_CREATE.
 */
#ifndef PIER_MEDIA_INTERNAL_H
#define PIER_MEDIA_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uthash.h>
#include <uv.h>

#include "media.h"
#include "protocol.h"
#include "store.h"

struct http_exchange;
struct server;
struct user;
struct upload;
typedef struct evp_md_ctx_st EVP_MD_CTX;

#define MEDIA_PATH_MAX     4096
#define MEDIA_DIR_MAX      3072             /* the data directory's path, at most */
#define MEDIA_THUMB_SIZE   320              /* longest side of a thumbnail, pixels */
#define MEDIA_MAX_PIXELS   (50 * 1000 * 1000) /* larger images get no thumbnail */
#define UPLOAD_BUF         (256 * 1024)     /* one write; the body pauses past this waiting */

struct media {
	struct server *srv;
	char data_dir[MEDIA_DIR_MAX];
	void *magic;                 /* magic_t; used under magic_lock (it is not thread-safe) */
	uv_mutex_t magic_lock;
	struct upload *uploads;      /* tus uploads known in memory, by key */
	unsigned busy;               /* finishing uploads and file operations a stop waits for */
};

/* ---- media_file.c: blocking, for the thread pool ---- */

/* In and out of media_file_finish. */
struct media_finish {
	/* in */
	const struct media *m;
	char part[MEDIA_PATH_MAX];   /* the received file; gone (renamed or removed) after */
	bool have_sha;               /* sha256 holds the hash of every byte of part */
	/* out (sha256 and size in as well when have_sha) */
	char sha256[65];
	int64_t size;
	char type[STORE_MEDIA_TYPE_MAX + 1];
	int width, height;
	char thumb[32];              /* the thumbnail's MIME type, "" when none */
	bool e2ee;                   /* ciphertext: no type detection, no thumbnail */
	int err;                     /* 0, or an errno value: the file could not be stored */
};

/* Hashes part if needed, detects its type (libmagic), moves it to DATA/media/ab/cdef... (or
 * drops it when that content is stored already), and for JPEG, PNG, GIF and WebP images reads
 * the size and makes the thumbnail DATA/media/thumbs/SHA.png|.jpg once. */
void media_file_finish(struct media_finish *f);
/* DATA/media/ab/cdef... for a hash; DATA/media/thumbs/SHA.ext for its thumbnail. */
void media_blob_path(const struct media *m, const char *sha256, char *out, size_t n);
void media_thumb_path(const struct media *m, const char *sha256, const char *thumb_type,
                      char *out, size_t n);
/* Removes DATA/uploads/tmp-* (simple uploads a crash interrupted). At start, synchronous. */
void media_file_sweep(const struct media *m);

/* ---- media.c: requests, authentication, uploads ---- */

enum media_req_kind {
	REQ_UPLOAD, REQ_GET, REQ_THUMB, REQ_SESSION,
	REQ_TUS_CREATE, REQ_TUS_HEAD, REQ_TUS_PATCH, REQ_TUS_DELETE, REQ_TUS_OPTIONS
};

struct media_req {
	struct server *srv;
	struct media *m;
	struct http_exchange *x;     /* NULL once the exchange is over */
	enum media_req_kind kind;
	unsigned pending;            /* asynchronous steps in flight (store job, fs, work) */
	int64_t user_id;             /* after authentication */
	struct user *user;
	struct store_job job;        /* one store job at a time */
	char key[STORE_UPLOAD_KEY_MAX + 1];  /* tus: the upload's key */
	void (*next)(struct media_req *r);   /* what runs after authentication */
	/* tus: what runs once the upload is found (up NULL: it was finished as media_id) */
	void (*found)(struct media_req *r, struct upload *up, int64_t media_id);
	/* uploads */
	struct upload *up;
	uint64_t received;           /* body bytes so far */
	int64_t declared;            /* Content-Length or Upload-Length; -1 when not declared */
	bool ended;                  /* on_end came */
	bool answered;
	char name[STORE_MEDIA_NAME_MAX + 1];      /* uploads: the file's name */
	char type_hint[STORE_MEDIA_TYPE_MAX + 1]; /* uploads: the client's Content-Type */
	bool e2ee;                   /* uploads: ciphertext (?e2ee=1, tus metadata e2ee) */
	int64_t usage;               /* uploads: the user's stored bytes before this one */
	int64_t reserved;            /* uploads: bytes of r->user->media_reserved held by r */
	/* downloads */
	int64_t media_id;
	struct store_media media;
	uv_fs_t fs;
	uv_file fd;                  /* -1 when closed */
	int64_t pos, end;            /* bytes [pos, end) remain to send */
	char *rbuf;
	bool reading;
};

/* A new request state for x (set as its data). */
struct media_req *media_req_new(struct http_exchange *x, enum media_req_kind kind);
/* on_done of every media route: the exchange is over; the state lives on while steps run. */
void media_req_done(struct http_exchange *x);
/* Drops a step's hold (pending--); frees r when nothing runs and the exchange is over. */
void media_req_put(struct media_req *r);

/* Authenticates x (Authorization: Bearer, or with allow_cookie the pier_session cookie) and
 * calls r->next with r->user_id and r->user set; answers 401 itself when that fails. */
void media_authenticate(struct media_req *r, bool allow_cookie);

/* A JSON error answer {"error":code,"message":...} (and for 401 a WWW-Authenticate). */
void media_error(struct http_exchange *x, int status, enum pier_error code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same with more members (extra, taken: e.g. "limit") in the JSON body. */
void media_error_extra(struct http_exchange *x, int status, json_t *extra, enum pier_error code,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Reserves bytes of r->user's quota for r, given usage (the store's count of the user's
 * files and unfinished tus uploads): false, reserving nothing, if usage, every other
 * reservation of the user and bytes together pass --media-quota. The reservation is taken
 * before a body is accepted and held until the store counts the bytes (or they are refused). */
bool media_quota_reserve(struct media_req *r, int64_t usage, int64_t bytes);
/* Gives back what r reserved (nothing held is fine). Called when the store's usage has
 * counted the bytes, when the upload fails, and when r is freed in any case. */
void media_quota_release(struct media_req *r);

/* Makes a file name safe to store and show: no directories, no control characters, no
 * format or bidi control characters (pier_filename_clean), valid UTF-8, at most
 * STORE_MEDIA_NAME_MAX bytes; "file" when nothing is left. Every name that enters (POST
 * ?name= or Content-Disposition, tus metadata) goes through here. */
void media_clean_name(const char *raw, char *out, size_t n);

/* ---- uploads (media.c) ---- */

struct upload {
	struct media *m;
	unsigned refs;
	bool tus;
	char key[STORE_UPLOAD_KEY_MAX + 1];  /* tus key, or the temporary name */
	char path[MEDIA_PATH_MAX];           /* DATA/uploads/KEY.part */
	int64_t user_id;
	int64_t length;              /* declared total, -1 unknown (simple uploads) */
	int64_t offset;              /* bytes in the file */
	char name[STORE_MEDIA_NAME_MAX + 1];
	char type_hint[STORE_MEDIA_TYPE_MAX + 1];
	EVP_MD_CTX *sha;             /* NULL: unknown (after a restart): hashed again at the end */
	bool e2ee;                   /* ciphertext: stored as application/octet-stream, named
	                              * "encrypted", never typed by content nor thumbnailed */
	/* the body being received */
	struct media_req *feeder;    /* the exchange writing into it, NULL when none */
	uv_file fd;                  /* -1 when closed */
	uv_fs_t fs;                  /* one file operation at a time */
	bool fs_busy;
	bool fs_synced;              /* closing: the fsync is done */
	struct media_req *open_req;  /* upload_open's caller and callback */
	void (*open_done)(struct media_req *r, int status);
	char *wbuf, *pbuf;           /* being written; waiting */
	size_t wlen, woff, plen, wcap, pcap;
	int io_error;                /* a write failed: the rest of this body is refused */
	bool closing;                /* after the last write: fsync and close, then on_closed */
	void (*on_closed)(struct upload *up);
	bool finishing;              /* complete: being turned into media */
	bool gone;                   /* abandoned or terminated: bytes dropped, never finished */
	UT_hash_handle hh;
};

/* A new upload (one reference) writing to DATA/uploads/KEY.part. */
struct upload *upload_new(struct media *m, const char *key, bool tus);
void upload_ref(struct upload *up);
void upload_unref(struct upload *up);
/* Opens the part file for writing, creating it (and with exclusive, failing if it exists),
 * then calls done(r, status) with 0 or a libuv error. r holds a step while it runs. */
void upload_open(struct upload *up, struct media_req *r, bool exclusive,
                 void (*done)(struct media_req *r, int status));
/* Body bytes for the file (at up->offset onwards): copied, written in order. Pauses the
 * feeder's body while more than UPLOAD_BUF wait. */
void upload_put(struct upload *up, const char *data, size_t len);
/* After the last upload_put (or when the feeder went): writes what waits, fsyncs, closes the
 * file and calls on_closed(up) (up->io_error says whether every byte was written). */
void upload_close(struct upload *up, void (*on_closed)(struct upload *up));
/* Turns a complete upload into media: thread pool, then STORE_MEDIA_CREATE as r->user_id;
 * calls done(r, job) with the job (status, media) on the loop. */
void upload_finish(struct upload *up, struct media_req *r,
                   void (*done)(struct media_req *r, struct store_job *job));
/* Removes the part file (asynchronously, nobody waits). */
void upload_remove_file(struct upload *up);

/* ---- tus.c ---- */
void tus_release_all(struct media *m);

#endif
