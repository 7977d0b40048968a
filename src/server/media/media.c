/* media.c - the media state, request lifetimes, HTTP authentication, and uploads: bytes
 * written with uv_fs_write and hashed as each write completes, then finished on the thread
 * pool (media_file.c) and recorded in the store (see media_internal.h). */
#include "media_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <magic.h>
#include <openssl/evp.h>

#include "auth.h"
#include "clock.h"
#include "hub.h"
#include "http.h"
#include "http_fields.h"
#include "log.h"
#include "msgrules.h"
#include "names.h"
#include "server.h"
#include "xalloc.h"

#define COOKIE_NAME "pier_session"

/* ---- the media state ---- */

static int make_dir(const char *base, const char *sub)
{
	char path[MEDIA_PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s%s", base, sub);
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		log_error("media: cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int media_init(struct server *srv)
{
	struct media *m = xcalloc(1, sizeof(*m));

	m->srv = srv;
	srv->media = m;
	uv_mutex_init(&m->magic_lock);
	if (strlen(srv->cfg.data_dir) >= sizeof(m->data_dir)) {
		log_error("media: the data directory's path is too long");
		return -1;
	}
	memcpy(m->data_dir, srv->cfg.data_dir, strlen(srv->cfg.data_dir) + 1);
	if (make_dir(m->data_dir, "/media") != 0 || make_dir(m->data_dir, "/media/thumbs") != 0 ||
	    make_dir(m->data_dir, "/uploads") != 0)
		return -1;
	/* No decompressing (libmagic would run external programs for it), no following links. */
	m->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
	if (m->magic == NULL || magic_load(m->magic, NULL) != 0) {
		log_error("media: cannot load libmagic's database: %s",
		          m->magic ? magic_error(m->magic) : "out of memory");
		return -1;
	}
	media_file_sweep(m);
	return 0;
}

void media_release(struct server *srv)
{
	struct media *m = srv->media;

	if (m == NULL)
		return;
	tus_release_all(m);
	if (m->magic != NULL)
		magic_close(m->magic);
	uv_mutex_destroy(&m->magic_lock);
	free(m);
	srv->media = NULL;
}

bool media_is_busy(const struct server *srv)
{
	return srv->media != NULL && srv->media->busy > 0;
}

/* ---- kinds and JSON ---- */

bool media_kind_valid(const char *kind)
{
	return kind != NULL && (strcmp(kind, "image") == 0 || strcmp(kind, "video") == 0 ||
	                        strcmp(kind, "audio") == 0 || strcmp(kind, "file") == 0);
}

bool media_kind_fits(const char *kind, const char *type)
{
	return strcmp(kind, "file") == 0 || strcmp(kind, pier_media_kind_for_type(type)) == 0;
}

json_t *media_json(int64_t id, const char *name, int64_t size, const char *type, int width,
                   int height)
{
	json_t *j = json_pack("{s:I, s:s, s:I, s:s}", "id", (json_int_t)id, "name", name, "size",
	                      (json_int_t)size, "type", type);

	if (j == NULL)   /* a name that is not UTF-8 (never stored so, but be safe) */
		j = json_pack("{s:I, s:s, s:I, s:s}", "id", (json_int_t)id, "name", "file", "size",
		              (json_int_t)size, "type", type);
	if (width > 0 && height > 0) {
		json_object_set_new(j, "width", json_integer(width));
		json_object_set_new(j, "height", json_integer(height));
	}
	return j;
}

/* ---- request state ---- */

struct media_req *media_req_new(struct http_exchange *x, enum media_req_kind kind)
{
	struct server *srv = http_server(x);
	struct media_req *r = xcalloc(1, sizeof(*r));

	r->srv = srv;
	r->m = srv->media;
	r->x = x;
	r->kind = kind;
	r->fd = -1;
	r->declared = -1;
	r->m->busy++;
	http_set_data(x, r);
	return r;
}

static void close_file_cb(uv_fs_t *req)
{
	uv_fs_req_cleanup(req);
	free(req);
}

bool media_quota_reserve(struct media_req *r, int64_t usage, int64_t bytes)
{
	uint64_t total = (uint64_t)usage + (uint64_t)r->user->media_reserved + (uint64_t)bytes;

	if (total > (uint64_t)r->srv->cfg.media_quota)
		return false;
	r->user->media_reserved += bytes;
	r->reserved += bytes;
	return true;
}

void media_quota_release(struct media_req *r)
{
	if (r->reserved == 0)
		return;
	r->user->media_reserved -= r->reserved;
	r->reserved = 0;
}

static void req_free(struct media_req *r)
{
	media_quota_release(r);
	if (r->fd >= 0) {
		uv_fs_t *req = xmalloc(sizeof(*req));

		uv_fs_close(r->srv->loop, req, r->fd, close_file_cb);
	}
	if (r->up != NULL) {
		if (r->up->feeder == r)
			r->up->feeder = NULL;
		upload_unref(r->up);
	}
	store_job_release(&r->job);
	free(r->rbuf);
	r->m->busy--;
	free(r);
}

void media_req_put(struct media_req *r)
{
	r->pending--;
	if (r->pending == 0 && r->x == NULL)
		req_free(r);
}

void media_req_done(struct http_exchange *x)
{
	struct media_req *r = http_data(x);

	if (r == NULL)
		return;
	http_set_data(x, NULL);
	r->x = NULL;
	/* A body that stopped in the middle: what was received is written, then the file
	 * closes (a tus upload keeps it; a simple one is removed). */
	if (r->up != NULL && r->up->feeder == r && !r->ended) {
		struct upload *up = r->up;

		up->feeder = NULL;
		if (up->tus) {
			upload_close(up, NULL);
		} else {
			up->gone = true;
			upload_close(up, upload_remove_file);
		}
	}
	if (r->pending == 0)
		req_free(r);
}

/* ---- answers ---- */

static void verror(struct http_exchange *x, int status, json_t *extra, enum pier_error code,
                   const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void verror(struct http_exchange *x, int status, json_t *extra, enum pier_error code,
                   const char *fmt, va_list ap)
{
	struct media_req *r = http_data(x);
	char msg[512];
	json_t *j = extra != NULL ? extra : json_object(), *text;
	char *body;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	json_object_set_new(j, "error", json_string(pier_error_name(code)));
	text = json_string(msg);
	json_object_set_new(j, "message", text != NULL ? text : json_string(pier_error_name(code)));
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	http_response_start(x, status, (int64_t)strlen(body));
	http_response_header(x, "Content-Type", "application/json");
	http_response_header(x, "Cache-Control", "no-store");
	if (status == 401)
		http_response_header(x, "WWW-Authenticate", "Bearer realm=\"pier\"");
	if (r != NULL && r->kind >= REQ_TUS_CREATE)
		http_response_header(x, "Tus-Resumable", "1.0.0");
	http_response_body(x, body, strlen(body));
	http_response_end(x);
	free(body);
	if (r != NULL)
		r->answered = true;
	/* An answer while the body waits paused (a refusal after the quota check): the body must
	 * flow again so that the HTTP layer sees the early answer, stops reading and closes after
	 * it; paused, the connection would stay open until the client went. */
	http_pause_body(x, false);
}

void media_error(struct http_exchange *x, int status, enum pier_error code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(x, status, NULL, code, fmt, ap);
	va_end(ap);
}

void media_error_extra(struct http_exchange *x, int status, json_t *extra, enum pier_error code,
                       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(x, status, extra, code, fmt, ap);
	va_end(ap);
}

/* ---- authentication ---- */

static void token_checked(struct store_job *job)
{
	struct media_req *r = job->data;

	if (r->x != NULL) {
		r->user = job->status == STORE_OK ? hub_find_user(&r->srv->hub, job->user_name) : NULL;
		if (r->user == NULL) {
			media_error(r->x, 401, PIER_ERR_BAD_TOKEN, "unknown or revoked token");
		} else {
			r->user_id = r->user->id;
			store_job_release(job);
			r->next(r);
		}
	}
	media_req_put(r);
}

void media_authenticate(struct media_req *r, bool allow_cookie)
{
	char token[AUTH_TOKEN_MAX + 1];
	int found = http_field_bearer(http_header(r->x, "Authorization"), token, sizeof(token));

	if (found == 0 && allow_cookie)
		found = http_field_cookie(http_header(r->x, "Cookie"), COOKIE_NAME, token,
		                          sizeof(token));
	if (found == 0) {
		media_error(r->x, 401, PIER_ERR_NOT_LOGGED_IN,
		            allow_cookie ? "send Authorization: Bearer TOKEN (or the session cookie)"
		                         : "send Authorization: Bearer TOKEN");
		return;
	}
	if (found < 0) {                 /* longer than any token */
		media_error(r->x, 401, PIER_ERR_BAD_TOKEN, "unknown or revoked token");
		return;
	}
	store_job_release(&r->job);
	store_job_init(&r->job, STORE_TOKEN_USER);
	auth_token_hash(token, r->job.token_hash);
	r->job.data = r;
	r->job.done = token_checked;
	r->pending++;
	store_submit(r->srv->store, &r->job);
}

/* ---- names ---- */

/* Length of the valid UTF-8 sequence at p (at most avail bytes), 0 if it is not one. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
	size_t len;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > avail)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void media_clean_name(const char *raw, char *out, size_t n)
{
	char valid[STORE_MEDIA_NAME_MAX * 3 + 1], in[sizeof(valid)];
	const char *base = in;
	size_t o = 0, max = n - 1 < STORE_MEDIA_NAME_MAX ? n - 1 : STORE_MEDIA_NAME_MAX;
	size_t avail = strlen(raw), v = 0;

	/* Valid UTF-8 first (a malformed byte becomes '_'): dropping a character between two
	 * malformed bytes must not join them into a new one ("\xE2" U+202E "\x80\xAE" would
	 * leave U+202E itself). */
	for (size_t i = 0; i < avail;) {
		size_t len = utf8_len((const unsigned char *)raw + i, avail - i);

		if (v + (len == 0 ? 1 : len) >= sizeof(valid))
			break;
		if (len == 0) {
			valid[v++] = '_';
			i++;
			continue;
		}
		memcpy(valid + v, raw + i, len);
		v += len;
		i += len;
	}
	valid[v] = '\0';
	/* Bidi and other format characters: they could make "x\u202Egpj.exe" show as
	 * "xexe.jpg" wherever the name is shown. */
	pier_filename_clean(valid, in, sizeof(in));
	for (const char *p = in; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	avail = strlen(base);
	for (size_t i = 0; i < avail;) {
		const unsigned char *p = (const unsigned char *)base + i;
		size_t len = utf8_len(p, avail - i);

		if (len == 0 || (len == 1 && (p[0] < 0x20 || p[0] == 0x7f))) {
			if (o + 1 > max)
				break;
			out[o++] = '_';
			i += len == 0 ? 1 : len;
			continue;
		}
		if (o + len > max)
			break;
		memcpy(out + o, p, len);
		o += len;
		i += len;
	}
	out[o] = '\0';
	if (o == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		snprintf(out, n, "file");
}

/* ---- uploads ---- */

struct upload *upload_new(struct media *m, const char *key, bool tus)
{
	struct upload *up = xcalloc(1, sizeof(*up));

	up->m = m;
	up->refs = 1;
	up->tus = tus;
	up->fd = -1;
	up->length = -1;
	snprintf(up->key, sizeof(up->key), "%s", key);
	snprintf(up->path, sizeof(up->path), "%s/uploads/%s.part", m->data_dir, key);
	up->sha = EVP_MD_CTX_new();
	if (up->sha == NULL || EVP_DigestInit_ex(up->sha, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(up->sha);
		up->sha = NULL;
	}
	return up;
}

void upload_ref(struct upload *up)
{
	up->refs++;
}

void upload_unref(struct upload *up)
{
	if (--up->refs > 0)
		return;
	EVP_MD_CTX_free(up->sha);
	free(up->wbuf);
	free(up->pbuf);
	free(up);
}

/* The feeder's body may flow again (or must wait). */
static void feeder_pause(struct upload *up, bool pause)
{
	if (up->feeder != NULL && up->feeder->x != NULL)
		http_pause_body(up->feeder->x, pause);
}

static void open_cb(uv_fs_t *req);
static void write_cb(uv_fs_t *req);
static void fsync_cb(uv_fs_t *req);
static void close_cb(uv_fs_t *req);

/* Starts the next file operation: a write while bytes wait, then when closing fsync and
 * close, then on_closed. */
static void step(struct upload *up)
{
	uv_loop_t *loop = up->m->srv->loop;

	if (up->fs_busy)
		return;
	if (up->fd >= 0 && up->io_error == 0 && !up->gone && (up->woff < up->wlen || up->plen > 0)) {
		uv_buf_t b;

		if (up->woff == up->wlen) {
			char *t = up->wbuf;
			size_t tcap = up->wcap;

			up->wbuf = up->pbuf;
			up->wcap = up->pcap;
			up->wlen = up->plen;
			up->woff = 0;
			up->pbuf = t;
			up->pcap = tcap;
			up->plen = 0;
			feeder_pause(up, false);
		}
		b = uv_buf_init(up->wbuf + up->woff, (unsigned)(up->wlen - up->woff));
		up->fs_busy = true;
		up->fs.data = up;
		upload_ref(up);
		uv_fs_write(loop, &up->fs, up->fd, &b, 1, up->offset, write_cb);
		return;
	}
	if (!up->closing)
		return;
	if (up->fd >= 0 && !up->fs_synced && up->io_error == 0 && !up->gone) {
		up->fs_busy = true;
		up->fs.data = up;
		upload_ref(up);
		uv_fs_fsync(loop, &up->fs, up->fd, fsync_cb);
		return;
	}
	if (up->fd >= 0) {
		up->fs_busy = true;
		up->fs.data = up;
		upload_ref(up);
		uv_fs_close(loop, &up->fs, up->fd, close_cb);
		return;
	}
	up->closing = false;
	up->fs_synced = false;
	if (up->on_closed != NULL) {
		void (*cb)(struct upload *) = up->on_closed;

		up->on_closed = NULL;
		cb(up);
	}
	upload_unref(up);        /* upload_close's */
}

static void open_cb(uv_fs_t *req)
{
	struct upload *up = req->data;
	struct media_req *r = up->open_req;
	void (*done)(struct media_req *, int) = up->open_done;
	int status = (int)req->result;

	uv_fs_req_cleanup(req);
	up->fs_busy = false;
	up->open_req = NULL;
	if (status >= 0) {
		up->fd = status;
		status = 0;
	}
	done(r, status);
	step(up);
	media_req_put(r);
	upload_unref(up);
}

void upload_open(struct upload *up, struct media_req *r, bool exclusive,
                 void (*done)(struct media_req *r, int status))
{
	int flags = O_WRONLY | O_CLOEXEC | O_CREAT | (exclusive ? O_EXCL : 0);

	up->open_req = r;
	up->open_done = done;
	up->io_error = 0;
	up->fs_busy = true;
	up->fs.data = up;
	r->pending++;
	upload_ref(up);
	uv_fs_open(up->m->srv->loop, &up->fs, up->path, flags, 0600, open_cb);
}

static void write_cb(uv_fs_t *req)
{
	struct upload *up = req->data;
	ssize_t n = req->result;

	uv_fs_req_cleanup(req);
	up->fs_busy = false;
	if (n <= 0) {
		log_warn("media: writing %s: %s", up->path, n < 0 ? uv_strerror((int)n) : "no progress");
		up->io_error = n < 0 ? (int)n : UV_EIO;
		up->wlen = up->woff = up->plen = 0;
		feeder_pause(up, false);  /* the feeder sees io_error and answers */
	} else {
		/* The hash follows the file exactly: bytes count once they are written. */
		if (up->sha != NULL)
			EVP_DigestUpdate(up->sha, up->wbuf + up->woff, (size_t)n);
		up->woff += (size_t)n;
		up->offset += n;
		up->m->srv->metrics.upload_bytes += (uint64_t)n;
	}
	step(up);
	upload_unref(up);
}

static void fsync_cb(uv_fs_t *req)
{
	struct upload *up = req->data;

	if (req->result < 0) {
		log_warn("media: fsync %s: %s", up->path, uv_strerror((int)req->result));
		up->io_error = (int)req->result;
	}
	uv_fs_req_cleanup(req);
	up->fs_busy = false;
	up->fs_synced = true;
	step(up);
	upload_unref(up);
}

static void close_cb(uv_fs_t *req)
{
	struct upload *up = req->data;

	uv_fs_req_cleanup(req);
	up->fs_busy = false;
	up->fd = -1;
	step(up);
	upload_unref(up);
}

void upload_put(struct upload *up, const char *data, size_t len)
{
	if (up->io_error != 0 || len == 0)
		return;
	if (up->plen + len > up->pcap) {
		size_t cap = up->pcap ? up->pcap : UPLOAD_BUF;

		while (cap < up->plen + len)
			cap *= 2;
		up->pbuf = xrealloc(up->pbuf, cap);
		up->pcap = cap;
	}
	memcpy(up->pbuf + up->plen, data, len);
	up->plen += len;
	/* Only pbuf grows here: wbuf may be under a uv_fs_write right now. The two trade places
	 * with their capacities (step), so each keeps its own size. */
	if (up->plen >= UPLOAD_BUF)
		feeder_pause(up, true);
	step(up);
}

void upload_close(struct upload *up, void (*on_closed)(struct upload *up))
{
	if (up->closing) {
		if (on_closed != NULL)
			up->on_closed = on_closed;
		return;
	}
	up->closing = true;
	up->on_closed = on_closed;
	upload_ref(up);              /* until on_closed ran */
	step(up);
}

static void unlink_cb(uv_fs_t *req)
{
	uv_fs_req_cleanup(req);
	free(req);
}

void upload_remove_file(struct upload *up)
{
	uv_fs_t *req = xmalloc(sizeof(*req));

	uv_fs_unlink(up->m->srv->loop, req, up->path, unlink_cb);
}

/* ---- finishing ---- */

struct finish {
	uv_work_t work;
	struct media_finish f;
	struct upload *up;
	struct media_req *r;
	void (*done)(struct media_req *r, struct store_job *job);
};

static void finish_work(uv_work_t *w)
{
	struct finish *fin = w->data;

	media_file_finish(&fin->f);
}

static void finish_end(struct finish *fin)
{
	struct media_req *r = fin->r;

	fin->done(r, &r->job);
	store_job_release(&r->job);
	fin->up->finishing = false;
	upload_unref(fin->up);
	free(fin);
	media_req_put(r);
}

static void media_created(struct store_job *job)
{
	struct finish *fin = job->data;

	if (job->status == STORE_OK)
		fin->r->srv->metrics.uploads++;
	else
		log_warn("media: could not record %s (%s)", fin->f.sha256, fin->up->key);
	finish_end(fin);
}

static void finish_after(uv_work_t *w, int status)
{
	struct finish *fin = w->data;
	struct media_req *r = fin->r;
	struct upload *up = fin->up;
	struct store_job *job = &r->job;

	store_job_release(job);
	store_job_init(job, STORE_MEDIA_CREATE);
	job->data = fin;
	if (status != 0 || fin->f.err != 0) {
		job->status = STORE_FAILED;
		finish_end(fin);
		return;
	}
	job->user_id = up->user_id;
	job->upload_key = up->tus ? up->key : NULL;
	job->ts = pier_now_ms();
	snprintf(job->media.sha256, sizeof(job->media.sha256), "%s", fin->f.sha256);
	snprintf(job->media.name, sizeof(job->media.name), "%s", up->name);
	snprintf(job->media.type, sizeof(job->media.type), "%s", fin->f.type);
	snprintf(job->media.thumb, sizeof(job->media.thumb), "%s", fin->f.thumb);
	job->media.size = fin->f.size;
	job->media.width = fin->f.width;
	job->media.height = fin->f.height;
	job->media.e2ee = up->e2ee;
	job->done = media_created;
	store_submit(r->srv->store, job);
}

void upload_finish(struct upload *up, struct media_req *r,
                   void (*done)(struct media_req *r, struct store_job *job))
{
	struct finish *fin = xcalloc(1, sizeof(*fin));

	fin->up = up;
	fin->r = r;
	fin->done = done;
	fin->work.data = fin;
	fin->f.m = up->m;
	snprintf(fin->f.part, sizeof(fin->f.part), "%s", up->path);
	fin->f.size = up->offset;
	fin->f.e2ee = up->e2ee;
	if (up->sha != NULL) {
		static const char digits[] = "0123456789abcdef";
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;

		if (EVP_DigestFinal_ex(up->sha, md, &mdlen) == 1 && mdlen == 32) {
			for (unsigned i = 0; i < 32; i++) {
				fin->f.sha256[2 * i] = digits[md[i] >> 4];
				fin->f.sha256[2 * i + 1] = digits[md[i] & 15];
			}
			fin->f.sha256[64] = '\0';
			fin->f.have_sha = true;
		}
		EVP_MD_CTX_free(up->sha);
		up->sha = NULL;
	}
	up->finishing = true;
	upload_ref(up);
	r->pending++;
	uv_queue_work(r->srv->loop, &fin->work, finish_work, finish_after);
}
