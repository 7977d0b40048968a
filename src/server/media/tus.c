/* tus.c - resumable uploads by the tus 1.0.0 protocol (https://tus.io/protocols/resumable-upload):
 * core (HEAD, PATCH, OPTIONS), creation (POST) and termination (DELETE), at /api/tus.
 *
 * An upload is a row of the store's uploads table (owner, declared length, name) and the file
 * DATA/uploads/KEY.part; its offset is the file's size, so it survives a restart of pierd.
 * In memory (struct media's table) an upload keeps its offset and the SHA-256 of the bytes
 * written so far; one loaded after a restart is hashed again when it completes. A PATCH writes
 * at the offset, fsyncs, then answers; the one that brings the last byte turns the upload into
 * media (as POST /api/media does) and answers with the media's id in Pier-Media-Id. Only the
 * owner sees an upload: anyone else gets 404.
 */
#include "media_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "http.h"
#include "http_fields.h"
#include "log.h"
#include "server.h"
#include "xalloc.h"

#define KEY_BYTES (HTTP_TUS_KEY_LEN / 2)

static void tus_headers(struct http_exchange *x)
{
	http_response_header(x, "Tus-Resumable", HTTP_TUS_VERSION);
	http_response_header(x, "Cache-Control", "no-store");
}

/* ---- finding an upload ---- */

/* Unlinks up from the table (it stays alive while others hold it). */
static void forget(struct media *m, struct upload *up)
{
	struct upload *found = NULL;

	HASH_FIND_STR(m->uploads, up->key, found);
	if (found == up) {
		HASH_DEL(m->uploads, up);
		upload_unref(up);
	}
}

static void part_stated(uv_fs_t *req)
{
	struct media_req *r = req->data;
	struct media *m = r->m;
	int64_t size = req->result == 0 ? (int64_t)req->statbuf.st_size : 0;
	struct upload *up = NULL;

	if (req->result < 0 && req->result != UV_ENOENT)
		log_warn("media: stat of upload %s: %s", r->key, uv_strerror((int)req->result));
	uv_fs_req_cleanup(req);
	if (r->x == NULL)
		goto out;
	HASH_FIND_STR(m->uploads, r->key, up);
	if (up == NULL) {
		/* Not in memory (pierd restarted): the file's size is the offset. The hash of the
		 * bytes before it is not known: it is computed again at the end. */
		up = upload_new(m, r->key, true);
		up->user_id = r->user_id;
		up->length = r->job.upload_length;
		up->offset = size > up->length ? up->length : size;
		snprintf(up->name, sizeof(up->name), "%s", r->job.media.name);
		snprintf(up->type_hint, sizeof(up->type_hint), "%s", r->job.media.type);
		up->e2ee = r->job.media.e2ee;
		if (up->offset > 0 && up->sha != NULL) {
			EVP_MD_CTX_free(up->sha);
			up->sha = NULL;
		}
		HASH_ADD_STR(m->uploads, key, up);
	}
	r->found(r, up, 0);
out:
	media_req_put(r);
}

static void upload_loaded(struct store_job *job)
{
	struct media_req *r = job->data;
	char path[MEDIA_PATH_MAX + 64];

	if (r->x == NULL)
		goto out;
	if (job->status == STORE_NOT_FOUND || (job->status == STORE_OK && job->user_id != r->user_id)) {
		media_error(r->x, 404, PIER_ERR_NO_SUCH_UPLOAD, "no such upload");
		goto out;
	}
	if (job->status != STORE_OK) {
		media_error(r->x, 500, PIER_ERR_STORE_FAILED, "could not read the upload");
		goto out;
	}
	if (job->media_id != 0) {
		r->declared = job->upload_length;
		r->found(r, NULL, job->media_id);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/uploads/%s.part", r->m->data_dir, r->key);
	r->fs.data = r;
	r->pending++;
	uv_fs_stat(r->srv->loop, &r->fs, path, part_stated);
out:
	media_req_put(r);
}

/* Finds the user's upload r->key and calls found (answers 404 itself). */
static void find_upload(struct media_req *r,
                        void (*found)(struct media_req *r, struct upload *up, int64_t media_id))
{
	struct upload *up = NULL;

	r->found = found;
	HASH_FIND_STR(r->m->uploads, r->key, up);
	if (up != NULL) {
		if (up->user_id != r->user_id)
			media_error(r->x, 404, PIER_ERR_NO_SUCH_UPLOAD, "no such upload");
		else
			found(r, up, 0);
		return;
	}
	store_job_init(&r->job, STORE_UPLOAD_GET);
	r->job.upload_key = r->key;
	r->job.data = r;
	r->job.done = upload_loaded;
	r->pending++;
	store_submit(r->srv->store, &r->job);
}

static bool upload_busy(const struct upload *up)
{
	return up->feeder != NULL || up->closing || up->finishing || up->fs_busy;
}

/* ---- POST: creation ---- */

static void created(struct store_job *job)
{
	struct media_req *r = job->data;
	struct upload *up;

	/* Committed: the store's usage counts the upload's length from now until it is finished
	 * or deleted. Failed: nothing is held. Either way the in-memory hold ends. */
	media_quota_release(r);
	if (r->x == NULL && job->status != STORE_OK)
		goto out;
	if (job->status != STORE_OK) {
		media_error(r->x, 500, PIER_ERR_STORE_FAILED, "could not create the upload");
		goto out;
	}
	up = upload_new(r->m, r->key, true);
	up->user_id = r->user_id;
	up->length = r->declared;
	up->offset = 0;
	snprintf(up->name, sizeof(up->name), "%s", r->name);
	snprintf(up->type_hint, sizeof(up->type_hint), "%s", r->type_hint);
	up->e2ee = r->e2ee;
	HASH_ADD_STR(r->m->uploads, key, up);
	if (r->x == NULL)
		goto out;
	http_response_start(r->x, 201, 0);
	tus_headers(r->x);
	http_response_header(r->x, "Location", "/api/tus/%s", r->key);
	http_response_header(r->x, "Upload-Offset", "0");
	http_response_end(r->x);
out:
	store_job_release(job);
	media_req_put(r);
}

static void create_usage(struct store_job *job)
{
	struct media_req *r = job->data;
	unsigned char rnd[KEY_BYTES];

	if (r->x == NULL)
		goto out;
	if (job->status != STORE_OK) {
		media_error(r->x, 500, PIER_ERR_STORE_FAILED, "could not read your storage use");
		goto out;
	}
	if (!media_quota_reserve(r, job->usage, r->declared)) {
		json_t *extra = json_object();

		json_object_set_new(extra, "quota", json_integer((json_int_t)r->srv->cfg.media_quota));
		json_object_set_new(extra, "used", json_integer(job->usage));
		json_object_set_new(extra, "reserved", json_integer(r->user->media_reserved));
		media_error_extra(r->x, 413, extra, PIER_ERR_OVER_QUOTA,
		                  "the file would pass your storage quota of %zu bytes (%lld used, %lld "
		                  "reserved by uploads in progress)", r->srv->cfg.media_quota,
		                  (long long)job->usage, (long long)r->user->media_reserved);
		goto out;
	}
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(r->key, sizeof(r->key), rnd, sizeof(rnd));
	store_job_release(job);
	store_job_init(job, STORE_UPLOAD_CREATE);
	job->user_id = r->user_id;
	job->upload_key = r->key;
	job->upload_length = r->declared;
	snprintf(job->media.name, sizeof(job->media.name), "%s", r->name);
	snprintf(job->media.type, sizeof(job->media.type), "%s", r->type_hint);
	job->media.e2ee = r->e2ee;
	job->data = r;
	job->done = created;
	r->pending++;
	store_submit(r->srv->store, job);
	media_req_put(r);
	return;
out:
	store_job_release(job);
	media_req_put(r);
}

static void create_authed(struct media_req *r)
{
	store_job_init(&r->job, STORE_MEDIA_USAGE);
	r->job.user_id = r->user_id;
	r->job.data = r;
	r->job.done = create_usage;
	r->pending++;
	store_submit(r->srv->store, &r->job);
}

static void tus_create(struct http_exchange *x, struct media_req *r)
{
	size_t max = r->srv->cfg.media_max_size;
	const char *meta = http_header(x, "Upload-Metadata");
	char raw[STORE_MEDIA_NAME_MAX * 3 + 1];

	if (http_header(x, "Upload-Defer-Length") != NULL) {
		media_error(x, 400, PIER_ERR_BAD_REQUEST, "Upload-Defer-Length is not supported: send Upload-Length");
		return;
	}
	r->declared = http_field_uint(http_header(x, "Upload-Length"));
	if (r->declared < 0) {
		media_error(x, 400, PIER_ERR_BAD_REQUEST, "Upload-Length is missing or not a number");
		return;
	}
	if (r->declared == 0) {
		media_error(x, 400, PIER_ERR_EMPTY_FILE, "an upload needs at least one byte");
		return;
	}
	if ((uint64_t)r->declared > max) {
		json_t *extra = json_object();

		json_object_set_new(extra, "limit", json_integer((json_int_t)max));
		media_error_extra(x, 413, extra, PIER_ERR_TOO_LARGE,
		                  "the file is over the size limit of %zu bytes", max);
		return;
	}
	if (http_content_length(x) > 0) {
		media_error(x, 400, PIER_ERR_BAD_REQUEST, "creation-with-upload is not supported: PATCH the bytes");
		return;
	}
	if (!http_field_tus_metadata(meta, "filename", raw, sizeof(raw)) &&
	    !http_field_tus_metadata(meta, "name", raw, sizeof(raw)))
		snprintf(raw, sizeof(raw), "file");
	media_clean_name(raw, r->name, sizeof(r->name));
	if (http_field_tus_metadata(meta, "filetype", raw, sizeof(raw)) ||
	    http_field_tus_metadata(meta, "type", raw, sizeof(raw)))
		snprintf(r->type_hint, sizeof(r->type_hint), "%.*s", (int)strcspn(raw, "; \r\n"), raw);
	/* Ciphertext (metadata "e2ee", any value): named "encrypted", typed by nobody. */
	r->e2ee = http_field_tus_metadata(meta, "e2ee", raw, sizeof(raw));
	if (r->e2ee)
		snprintf(r->name, sizeof(r->name), "encrypted");
	r->next = create_authed;
	media_authenticate(r, false);
}

/* ---- HEAD ---- */

static void head_found(struct media_req *r, struct upload *up, int64_t media_id)
{
	struct http_exchange *x = r->x;

	http_response_start(x, 200, -1);
	tus_headers(x);
	if (up == NULL) {
		http_response_header(x, "Upload-Offset", "%lld", (long long)r->declared);
		http_response_header(x, "Upload-Length", "%lld", (long long)r->declared);
		http_response_header(x, "Pier-Media-Id", "%lld", (long long)media_id);
	} else {
		http_response_header(x, "Upload-Offset", "%lld", (long long)up->offset);
		http_response_header(x, "Upload-Length", "%lld", (long long)up->length);
	}
	http_response_end(x);
}

static void head_authed(struct media_req *r)
{
	find_upload(r, head_found);
}

/* ---- PATCH ---- */

static void patch_finished(struct media_req *r, struct store_job *job)
{
	struct upload *up = r->up;

	forget(r->m, up);
	if (r->x == NULL)
		return;
	if (job->status != STORE_OK) {
		media_error(r->x, 500, PIER_ERR_STORE_FAILED, "the file could not be stored");
		return;
	}
	http_response_start(r->x, 204, -1);
	tus_headers(r->x);
	http_response_header(r->x, "Upload-Offset", "%lld", (long long)up->offset);
	http_response_header(r->x, "Pier-Media-Id", "%lld", (long long)job->media.id);
	http_response_end(r->x);
	r->answered = true;
}

static void patch_closed(struct upload *up)
{
	struct media_req *r = up->feeder;

	up->feeder = NULL;
	if (up->io_error != 0) {
		if (r->x != NULL)
			media_error(r->x, 500, PIER_ERR_STORE_FAILED, "the bytes could not be written");
	} else if (up->offset == up->length && !up->gone) {
		upload_finish(up, r, patch_finished);
	} else if (r->x != NULL) {
		http_response_start(r->x, 204, -1);
		tus_headers(r->x);
		http_response_header(r->x, "Upload-Offset", "%lld", (long long)up->offset);
		http_response_end(r->x);
		r->answered = true;
	}
	media_req_put(r);
}

static void patch_opened(struct media_req *r, int status)
{
	if (r->x == NULL)
		return;
	if (status < 0) {
		log_warn("media: cannot open %s: %s", r->up->path, uv_strerror(status));
		r->up->feeder = NULL;
		media_error(r->x, 500, PIER_ERR_STORE_FAILED, "the upload's file cannot be opened");
		return;
	}
	http_pause_body(r->x, false);
}

static void patch_found(struct media_req *r, struct upload *up, int64_t media_id)
{
	struct http_exchange *x = r->x;
	int64_t offset = http_field_uint(http_header(x, "Upload-Offset"));
	int64_t len = http_content_length(x);

	if (up == NULL || upload_busy(up)) {
		if (up == NULL) {
			media_error(x, 409, PIER_ERR_UPLOAD_COMPLETE, "this upload is complete (media %lld)",
			            (long long)media_id);
			return;
		}
		media_error(x, 423, PIER_ERR_UPLOAD_BUSY, "another request is writing this upload");
		return;
	}
	if (offset != up->offset) {
		media_error(x, 409, PIER_ERR_OFFSET_MISMATCH, "Upload-Offset is %lld, the upload is at %lld",
		            (long long)offset, (long long)up->offset);
		return;
	}
	if (len > up->length - up->offset) {
		media_error(x, 413, PIER_ERR_TOO_LARGE, "more bytes than Upload-Length");
		return;
	}
	r->declared = up->length - up->offset;     /* most bytes this PATCH may bring */
	r->up = up;
	upload_ref(up);
	up->feeder = r;
	upload_open(up, r, false, patch_opened);
}

static void patch_authed(struct media_req *r)
{
	find_upload(r, patch_found);
}

void tus_body(struct http_exchange *x, const char *data, size_t len)
{
	struct media_req *r = http_data(x);
	struct upload *up;

	if (r == NULL || r->answered || r->up == NULL || r->kind != REQ_TUS_PATCH)
		return;
	up = r->up;
	if (up->feeder != r)
		return;
	if (up->io_error != 0) {
		media_error(x, 500, PIER_ERR_STORE_FAILED, "the bytes could not be written");
		up->feeder = NULL;
		upload_close(up, NULL);
		return;
	}
	if (r->received + len > (uint64_t)r->declared) {
		media_error(x, 413, PIER_ERR_TOO_LARGE, "more bytes than Upload-Length");
		up->feeder = NULL;
		upload_close(up, NULL);   /* what fits is kept */
		return;
	}
	r->received += len;
	upload_put(up, data, len);
}

void tus_end(struct http_exchange *x)
{
	struct media_req *r = http_data(x);

	if (r == NULL)
		return;
	r->ended = true;
	if (r->kind != REQ_TUS_PATCH || r->answered || r->up == NULL || r->up->feeder != r)
		return;
	r->pending++;
	upload_close(r->up, patch_closed);
}

/* ---- DELETE: termination ---- */

static void deleted(struct store_job *job)
{
	struct media_req *r = job->data;

	if (r->x != NULL) {
		if (job->status == STORE_OK || job->status == STORE_NOT_FOUND) {
			http_response_start(r->x, 204, -1);
			tus_headers(r->x);
			http_response_end(r->x);
		} else {
			media_error(r->x, 500, PIER_ERR_STORE_FAILED, "could not delete the upload");
		}
	}
	store_job_release(job);
	media_req_put(r);
}

static void delete_found(struct media_req *r, struct upload *up, int64_t media_id)
{
	(void)media_id;
	if (up != NULL) {
		if (upload_busy(up)) {
			media_error(r->x, 423, PIER_ERR_UPLOAD_BUSY, "another request is writing this upload");
			return;
		}
		up->gone = true;
		upload_remove_file(up);
		forget(r->m, up);
	}
	store_job_release(&r->job);
	store_job_init(&r->job, STORE_UPLOAD_DELETE);
	r->job.upload_key = r->key;
	r->job.data = r;
	r->job.done = deleted;
	r->pending++;
	store_submit(r->srv->store, &r->job);
}

static void delete_authed(struct media_req *r)
{
	find_upload(r, delete_found);
}

/* ---- the route ---- */

void tus_head(struct http_exchange *x)
{
	const char *path = http_path(x), *method = http_method(x);
	const char *key = NULL;
	struct media_req *r;

	if (http_field_tus_path(path, &key) < 0) {
		r = media_req_new(x, REQ_TUS_HEAD);
		media_error(x, 404, PIER_ERR_NO_SUCH_UPLOAD, "no such upload");
		return;
	}
	if (strcmp(method, "OPTIONS") == 0) {
		r = media_req_new(x, REQ_TUS_OPTIONS);
		http_response_start(x, 204, -1);
		tus_headers(x);
		http_response_header(x, "Tus-Version", HTTP_TUS_VERSION);
		http_response_header(x, "Tus-Extension", "creation,termination");
		http_response_header(x, "Tus-Max-Size", "%zu", r->srv->cfg.media_max_size);
		http_response_end(x);
		return;
	}
	if (strcmp(method, "POST") == 0 && key == NULL)
		r = media_req_new(x, REQ_TUS_CREATE);
	else if (strcmp(method, "HEAD") == 0 && key != NULL)
		r = media_req_new(x, REQ_TUS_HEAD);
	else if (strcmp(method, "PATCH") == 0 && key != NULL)
		r = media_req_new(x, REQ_TUS_PATCH);
	else if (strcmp(method, "DELETE") == 0 && key != NULL)
		r = media_req_new(x, REQ_TUS_DELETE);
	else {
		r = media_req_new(x, REQ_TUS_OPTIONS);
		http_response_start(x, 405, 0);
		tus_headers(x);
		http_response_header(x, "Allow", "%s", key ? "HEAD, PATCH, DELETE, OPTIONS" : "POST, OPTIONS");
		http_response_end(x);
		return;
	}
	if (key != NULL)
		snprintf(r->key, sizeof(r->key), "%s", key);
	if (!http_field_tus_resumable(http_header(x, "Tus-Resumable"))) {
		http_response_start(x, 412, 0);
		http_response_header(x, "Tus-Version", HTTP_TUS_VERSION);
		http_response_end(x);
		return;
	}
	switch (r->kind) {
	case REQ_TUS_CREATE:
		tus_create(x, r);
		break;
	case REQ_TUS_HEAD:
		r->next = head_authed;
		media_authenticate(r, false);
		break;
	case REQ_TUS_PATCH: {
		const char *ct = http_header(x, "Content-Type");

		if (ct == NULL || strcmp(ct, "application/offset+octet-stream") != 0) {
			media_error(x, 415, PIER_ERR_BAD_REQUEST, "PATCH needs Content-Type: application/offset+octet-stream");
			return;
		}
		if (http_field_uint(http_header(x, "Upload-Offset")) < 0) {
			media_error(x, 400, PIER_ERR_BAD_REQUEST, "Upload-Offset is missing or not a number");
			return;
		}
		http_pause_body(x, true);   /* until the upload is found and its file open */
		http_set_max_body(x, (uint64_t)r->srv->cfg.media_max_size + 1024 * 1024);
		r->next = patch_authed;
		media_authenticate(r, false);
		break;
	}
	case REQ_TUS_DELETE:
		r->next = delete_authed;
		media_authenticate(r, false);
		break;
	default:
		break;
	}
}

void tus_release_all(struct media *m)
{
	struct upload *up, *tmp;

	HASH_ITER(hh, m->uploads, up, tmp) {
		HASH_DEL(m->uploads, up);
		upload_unref(up);
	}
}
