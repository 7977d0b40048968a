/* media_http.c - the media endpoints but tus: POST /api/media (a whole file in one request),
 * GET /media/ID and /media/ID/thumb (access checked, ranges, ETag, streamed with uv_fs_read
 * one piece at a time as the socket takes them), and POST/DELETE /api/session (the browser's
 * cookie). docs/PROTOCOL.md, Media, is the contract. */
#include "media_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth.h"
#include "http.h"
#include "http_fields.h"
#include "hub.h"
#include "log.h"
#include "server.h"
#include "static_files.h"
#include "xalloc.h"

#define READ_CHUNK (64 * 1024)
#define MEDIA_CSP  "default-src 'none'; img-src 'self'; media-src 'self'; " \
                   "style-src 'unsafe-inline'; sandbox"

/* ---- small helpers ---- */

static json_t *limit_extra(const char *key, int64_t value)
{
	json_t *j = json_object();

	json_object_set_new(j, key, json_integer(value));
	return j;
}

static void answer_too_large(struct media_req *r)
{
	size_t max = r->srv->cfg.media_max_size;

	media_error_extra(r->x, 413, limit_extra("limit", (int64_t)max), PIER_ERR_TOO_LARGE,
	                  "the file is over the size limit of %zu bytes", max);
}

static void answer_over_quota(struct media_req *r)
{
	size_t quota = r->srv->cfg.media_quota;
	json_t *extra = limit_extra("quota", (int64_t)quota);

	json_object_set_new(extra, "used", json_integer(r->usage));
	json_object_set_new(extra, "reserved", json_integer(r->user->media_reserved));
	media_error_extra(r->x, 413, extra, PIER_ERR_OVER_QUOTA,
	                  "the file would pass your storage quota of %zu bytes (%lld used, %lld "
	                  "reserved by uploads in progress)", quota, (long long)r->usage,
	                  (long long)r->user->media_reserved);
}

/* The upload went wrong or was refused: the received bytes go. */
static void abandon_upload(struct media_req *r)
{
	struct upload *up = r->up;

	if (up == NULL || up->feeder != r)
		return;
	up->feeder = NULL;
	up->gone = true;
	upload_close(up, upload_remove_file);
}

/* ---- POST /api/media ---- */

static void upload_answer(struct media_req *r, struct store_job *job)
{
	json_t *j;
	char *body;

	media_quota_release(r);      /* stored: the usage counts it now; or it failed */
	if (r->x == NULL)
		return;
	if (job->status != STORE_OK) {
		media_error(r->x, 500, PIER_ERR_STORE_FAILED, "the file could not be stored");
		return;
	}
	j = media_json(job->media.id, job->media.name, job->media.size, job->media.type,
	               job->media.width, job->media.height);
	json_object_set_new(j, "thumb", json_boolean(job->media.thumb[0] != '\0'));
	if (job->media.e2ee)
		json_object_set_new(j, "e2ee", json_true());
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	http_response_start(r->x, 201, (int64_t)strlen(body));
	http_response_header(r->x, "Content-Type", "application/json");
	http_response_header(r->x, "Location", "/media/%lld", (long long)job->media.id);
	http_response_header(r->x, "Cache-Control", "no-store");
	http_response_body(r->x, body, strlen(body));
	http_response_end(r->x);
	free(body);
	r->answered = true;
}

static void upload_closed(struct upload *up)
{
	struct media_req *r = up->feeder;

	up->feeder = NULL;
	if (up->io_error != 0) {
		if (r->x != NULL)
			media_error(r->x, 500, PIER_ERR_STORE_FAILED, "the file could not be written");
		upload_remove_file(up);
	} else {
		upload_finish(up, r, upload_answer);
	}
	media_req_put(r);
}

static void upload_opened(struct media_req *r, int status)
{
	if (r->x == NULL)
		return;
	if (status < 0) {
		log_warn("media: cannot create %s: %s", r->up->path, uv_strerror(status));
		r->up->feeder = NULL;
		media_error(r->x, 500, PIER_ERR_STORE_FAILED, "the file could not be created");
		return;
	}
	http_pause_body(r->x, false);
}

static void usage_checked(struct store_job *job)
{
	struct media_req *r = job->data;
	char key[40], rnd[12];

	if (r->x == NULL)
		goto out;
	if (job->status != STORE_OK) {
		media_error(r->x, 500, PIER_ERR_STORE_FAILED, "could not read your storage use");
		goto out;
	}
	r->usage = job->usage;
	/* Taken before the body flows: a declared length whole, a chunked body as it arrives. */
	if (!media_quota_reserve(r, r->usage, r->declared > 0 ? r->declared : 0)) {
		answer_over_quota(r);
		goto out;
	}
	randombytes_buf(rnd, sizeof(rnd));
	memcpy(key, "tmp-", 4);
	sodium_bin2hex(key + 4, sizeof(key) - 4, (unsigned char *)rnd, sizeof(rnd));
	r->up = upload_new(r->m, key, false);
	r->up->user_id = r->user_id;
	snprintf(r->up->name, sizeof(r->up->name), "%s", r->name);
	snprintf(r->up->type_hint, sizeof(r->up->type_hint), "%s", r->type_hint);
	r->up->e2ee = r->e2ee;
	r->up->feeder = r;
	upload_open(r->up, r, true, upload_opened);
out:
	store_job_release(job);
	media_req_put(r);
}

static void upload_authed(struct media_req *r)
{
	store_job_init(&r->job, STORE_MEDIA_USAGE);
	r->job.user_id = r->user_id;
	r->job.data = r;
	r->job.done = usage_checked;
	r->pending++;
	store_submit(r->srv->store, &r->job);
}

void media_upload_head(struct http_exchange *x)
{
	struct media_req *r = media_req_new(x, REQ_UPLOAD);
	size_t max = r->srv->cfg.media_max_size;
	int64_t len = http_content_length(x);
	const char *ct = http_header(x, "Content-Type");
	char raw[STORE_MEDIA_NAME_MAX * 3 + 1];

	http_pause_body(x, true);     /* until the user and the quota are known */
	/* Past max this handler answers 413 itself (JSON); the layer's limit is a backstop. */
	http_set_max_body(x, (uint64_t)max + 1024 * 1024);
	if (len > 0 && (uint64_t)len > max) {
		answer_too_large(r);
		return;
	}
	if (len == 0) {
		media_error(x, 400, PIER_ERR_EMPTY_FILE, "the request has no body (send the file as the body)");
		return;
	}
	r->declared = len;
	if (!http_field_query_param(http_query(x), "name", raw, sizeof(raw)) &&
	    !http_field_disposition_name(http_header(x, "Content-Disposition"), raw, sizeof(raw)))
		snprintf(raw, sizeof(raw), "file");
	media_clean_name(raw, r->name, sizeof(r->name));
	if (ct != NULL)
		snprintf(r->type_hint, sizeof(r->type_hint), "%.*s", (int)strcspn(ct, ";"), ct);
	/* Ciphertext of an end-to-end encrypted chat: its real name travels in the payload. */
	r->e2ee = http_field_query_param(http_query(x), "e2ee", raw, sizeof(raw)) &&
	          strcmp(raw, "1") == 0;
	if (r->e2ee)
		snprintf(r->name, sizeof(r->name), "encrypted");
	r->next = upload_authed;
	media_authenticate(r, false);
}

void media_upload_body(struct http_exchange *x, const char *data, size_t len)
{
	struct media_req *r = http_data(x);

	if (r == NULL || r->answered || r->up == NULL)
		return;
	if (r->up->io_error != 0) {
		media_error(x, 500, PIER_ERR_STORE_FAILED, "the file could not be written");
		abandon_upload(r);
		return;
	}
	r->received += len;
	if (r->received > r->srv->cfg.media_max_size) {
		answer_too_large(r);
		abandon_upload(r);
		return;
	}
	if (r->received > (uint64_t)r->reserved &&
	    !media_quota_reserve(r, r->usage, (int64_t)r->received - r->reserved)) {
		answer_over_quota(r);
		abandon_upload(r);
		media_quota_release(r);
		return;
	}
	upload_put(r->up, data, len);
}

void media_upload_end(struct http_exchange *x)
{
	struct media_req *r = http_data(x);

	if (r == NULL)
		return;
	r->ended = true;
	if (r->answered || r->up == NULL || r->up->feeder != r)
		return;
	if (r->received == 0) {
		media_error(x, 400, PIER_ERR_EMPTY_FILE, "the request has no body (send the file as the body)");
		abandon_upload(r);
		return;
	}
	r->pending++;
	upload_close(r->up, upload_closed);
}

/* ---- GET /media/ID[/thumb] ---- */

static void pump(struct media_req *r);

static void read_cb(uv_fs_t *req)
{
	struct media_req *r = req->data;
	ssize_t n = req->result;

	uv_fs_req_cleanup(req);
	r->reading = false;
	if (r->x != NULL) {
		if (n <= 0) {
			log_warn("media: reading %s: %s", r->media.sha256,
			         n < 0 ? uv_strerror((int)n) : "the file is shorter than stored");
			http_error(r->x, 500, "read failed");   /* cuts the answer short */
		} else {
			http_response_body(r->x, r->rbuf, (size_t)n);
			r->pos += n;
			pump(r);
		}
	}
	media_req_put(r);
}

/* Reads the next piece unless one is in flight or enough waits for the socket. */
static void pump(struct media_req *r)
{
	uv_buf_t b;
	int64_t left = r->end - r->pos;

	if (r->reading || r->x == NULL)
		return;
	if (left <= 0) {
		http_response_end(r->x);
		return;
	}
	if (http_response_backlogged(r->x))
		return;                   /* on_writable calls again */
	if (r->rbuf == NULL)
		r->rbuf = xmalloc(READ_CHUNK);
	b = uv_buf_init(r->rbuf, left < READ_CHUNK ? (unsigned)left : READ_CHUNK);
	r->reading = true;
	r->fs.data = r;
	r->pending++;
	uv_fs_read(r->srv->loop, &r->fs, r->fd, &b, 1, r->pos, read_cb);
}

void media_get_writable(struct http_exchange *x)
{
	struct media_req *r = http_data(x);

	if (r != NULL)
		pump(r);
}

/* Types a browser may show in place; everything else is offered as a download. */
static bool inline_type(const char *type)
{
	static const char *const types[] = {
		"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp",
		"audio/mpeg", "audio/ogg", "audio/wav", "audio/x-wav", "audio/flac", "audio/x-flac",
		"audio/webm", "audio/mp4", "audio/aac", "audio/opus",
		"video/mp4", "video/webm", "video/ogg", "video/quicktime",
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(type, types[i]) == 0)
			return true;
	return false;
}

/* Content-Disposition with the name twice: plain ASCII, and RFC 5987 UTF-8. */
static void disposition(struct media_req *r, bool attachment)
{
	char ascii[STORE_MEDIA_NAME_MAX + 1], ext[STORE_MEDIA_NAME_MAX * 3 + 1];
	size_t a = 0, e = 0;

	for (const unsigned char *p = (const unsigned char *)r->media.name; *p != '\0'; p++) {
		bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		             (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL;

		if (a + 1 < sizeof(ascii))
			ascii[a++] = *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\' ? (char)*p : '_';
		if (e + 4 >= sizeof(ext))
			break;
		if (plain)
			ext[e++] = (char)*p;
		else
			e += (size_t)snprintf(ext + e, sizeof(ext) - e, "%%%02X", *p);
	}
	ascii[a] = '\0';
	ext[e] = '\0';
	http_response_header(r->x, "Content-Disposition", "%s; filename=\"%s\"; filename*=UTF-8''%s",
	                     attachment ? "attachment" : "inline", ascii, ext);
}

static void send_head(struct media_req *r, int64_t size)
{
	struct http_exchange *x = r->x;
	bool thumb = r->kind == REQ_THUMB;
	const char *type = thumb ? r->media.thumb : r->media.type;
	const char *if_range = http_header(x, "If-Range");
	char etag[80];
	int64_t a = 0, b = size - 1;
	enum http_range rc;

	snprintf(etag, sizeof(etag), "\"%s%s\"", r->media.sha256, thumb ? "-thumb" : "");
	rc = http_field_range(http_header(x, "Range"), size, &a, &b);
	if (if_range != NULL && strcmp(if_range, etag) != 0)
		rc = HTTP_RANGE_NONE;     /* the client's copy is another: the whole file */
	if (rc == HTTP_RANGE_UNSATISFIABLE) {
		http_response_start(x, 416, 0);
		http_response_header(x, "Content-Range", "bytes */%lld", (long long)size);
		http_response_header(x, "Accept-Ranges", "bytes");
		http_response_end(x);
		return;
	}
	if (rc == HTTP_RANGE_NONE) {
		a = 0;
		b = size - 1;
	}
	r->pos = a;
	r->end = b + 1;
	http_response_start(x, rc == HTTP_RANGE_PART ? 206 : 200, r->end - r->pos);
	http_response_header(x, "Content-Type", "%s", type);
	if (rc == HTTP_RANGE_PART)
		http_response_header(x, "Content-Range", "bytes %lld-%lld/%lld", (long long)a,
		                     (long long)b, (long long)size);
	http_response_header(x, "Accept-Ranges", "bytes");
	http_response_header(x, "ETag", "%s", etag);
	http_response_header(x, "Cache-Control", "private, no-cache");
	http_response_header(x, "Content-Security-Policy", "%s", MEDIA_CSP);
	http_response_header(x, "Cross-Origin-Resource-Policy", "same-origin");
	http_response_header(x, "Referrer-Policy", "no-referrer");
	disposition(r, !thumb && !inline_type(r->media.type));
	if (http_is_head(x) || r->pos >= r->end) {
		http_response_end(x);
		return;
	}
	pump(r);
}

static void stat_cb(uv_fs_t *req)
{
	struct media_req *r = req->data;
	int64_t size = req->result == 0 ? (int64_t)req->statbuf.st_size : -1;

	uv_fs_req_cleanup(req);
	if (r->x != NULL) {
		if (size < 0)
			media_error(r->x, 500, PIER_ERR_INTERNAL, "the file cannot be read");
		else
			send_head(r, size);
	}
	media_req_put(r);
}

static void open_cb(uv_fs_t *req)
{
	struct media_req *r = req->data;
	int fd = (int)req->result;

	uv_fs_req_cleanup(req);
	if (fd >= 0)
		r->fd = fd;
	if (r->x != NULL && fd < 0) {
		log_warn("media: %s of media %lld is missing: %s", r->kind == REQ_THUMB ? "thumbnail" : "file",
		         (long long)r->media.id, uv_strerror(fd));
		media_error(r->x, r->kind == REQ_THUMB ? 404 : 500, PIER_ERR_INTERNAL, "the file is missing");
	} else if (r->x != NULL) {
		r->fs.data = r;
		r->pending++;
		uv_fs_fstat(r->srv->loop, &r->fs, r->fd, stat_cb);
	}
	media_req_put(r);
}

static void media_found(struct store_job *job)
{
	struct media_req *r = job->data;
	struct http_exchange *x = r->x;
	char etag[80], path[MEDIA_PATH_MAX];

	if (x == NULL)
		goto out;
	if (job->status == STORE_NOT_FOUND) {
		media_error(x, 404, PIER_ERR_NO_SUCH_MEDIA, "no such media");
		goto out;
	}
	if (job->status == STORE_DENIED) {
		media_error(x, 403, PIER_ERR_FORBIDDEN, "this media is not in a conversation of yours");
		goto out;
	}
	if (job->status != STORE_OK) {
		media_error(x, 500, PIER_ERR_STORE_FAILED, "could not read the media");
		goto out;
	}
	r->media = job->media;
	if (r->kind == REQ_THUMB && r->media.thumb[0] == '\0') {
		media_error(x, 404, PIER_ERR_NO_THUMBNAIL, "this media has no thumbnail");
		goto out;
	}
	snprintf(etag, sizeof(etag), "\"%s%s\"", r->media.sha256, r->kind == REQ_THUMB ? "-thumb" : "");
	if (static_etag_matches(http_header(x, "If-None-Match"), etag)) {
		http_response_start(x, 304, -1);
		http_response_header(x, "ETag", "%s", etag);
		http_response_header(x, "Cache-Control", "private, no-cache");
		http_response_end(x);
		goto out;
	}
	if (r->kind == REQ_THUMB)
		media_thumb_path(r->m, r->media.sha256, r->media.thumb, path, sizeof(path));
	else
		media_blob_path(r->m, r->media.sha256, path, sizeof(path));
	r->fs.data = r;
	r->pending++;
	uv_fs_open(r->srv->loop, &r->fs, path, O_RDONLY | O_CLOEXEC, 0, open_cb);
out:
	store_job_release(job);
	media_req_put(r);
}

static void get_authed(struct media_req *r)
{
	store_job_init(&r->job, STORE_MEDIA_GET);
	r->job.user_id = r->user_id;
	r->job.media_id = r->media_id;
	r->job.data = r;
	r->job.done = media_found;
	r->pending++;
	store_submit(r->srv->store, &r->job);
}

void media_get_head(struct http_exchange *x)
{
	const char *p = http_path(x) + strlen("/media/");
	enum media_req_kind kind = REQ_GET;
	int64_t id = 0;
	struct media_req *r;

	if (*p < '1' || *p > '9') {
		media_error(x, 404, PIER_ERR_NO_SUCH_MEDIA, "no such media");
		return;
	}
	while (*p >= '0' && *p <= '9' && id < INT64_MAX / 10)
		id = id * 10 + (*p++ - '0');
	if (strcmp(p, "/thumb") == 0)
		kind = REQ_THUMB;
	else if (*p != '\0') {
		media_error(x, 404, PIER_ERR_NO_SUCH_MEDIA, "no such media");
		return;
	}
	r = media_req_new(x, kind);
	r->media_id = id;
	r->next = get_authed;
	media_authenticate(r, true);
}

/* ---- POST and DELETE /api/session ---- */

static void session_authed(struct media_req *r)
{
	struct http_exchange *x = r->x;
	char token[AUTH_TOKEN_MAX + 1] = "";
	char body[128];
	json_t *j;
	char *s;

	/* media_authenticate found the user by this very token: it is there and it fits. */
	http_field_bearer(http_header(x, "Authorization"), token, sizeof(token));
	j = json_pack("{s:s}", "user", r->user->name);
	s = json_dumps(j, JSON_COMPACT);
	snprintf(body, sizeof(body), "%s", s);
	free(s);
	json_decref(j);
	http_response_start(x, 200, (int64_t)strlen(body));
	http_response_header(x, "Content-Type", "application/json");
	http_response_header(x, "Cache-Control", "no-store");
	http_response_header(x, "Set-Cookie", "pier_session=%s; Path=/; HttpOnly; SameSite=Strict%s",
	                     token, http_is_tls(x) ? "; Secure" : "");
	http_response_body(x, body, strlen(body));
	http_response_end(x);
}

void media_session_head(struct http_exchange *x)
{
	struct media_req *r = media_req_new(x, REQ_SESSION);

	if (strcmp(http_method(x), "DELETE") == 0) {
		http_response_start(x, 204, -1);
		http_response_header(x, "Cache-Control", "no-store");
		http_response_header(x, "Set-Cookie", "pier_session=; Path=/; Max-Age=0; HttpOnly; "
		                     "SameSite=Strict%s", http_is_tls(x) ? "; Secure" : "");
		http_response_end(x);
		return;
	}
	r->next = session_authed;
	media_authenticate(r, false);
}
