/* pg_media.c - uploads, thumbnails and files over HTTP with libcurl (see pg_media.h). */
#include "pg_media.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <glib/gstdio.h>
#include <sodium.h>

#include "pg_e2ee_file.h"
#include "pg_i18n.h"
#include "pg_session.h"

#define DOWNLOAD_MAX   (256 * 1024 * 1024)   /* bytes kept in memory for one download */
#define THUMBS_MAX     256                   /* thumbnails cached in memory */

struct pg_media {
	int refs;             /* the owner's, and one per download in flight */
	struct pg_session *session;   /* read only when a download starts */
	char *data_dir;
	GHashTable *thumbs;   /* media id -> GdkTexture */
};

static struct pg_media *media_ref(struct pg_media *m)
{
	m->refs++;
	return m;
}

static void media_unref(struct pg_media *m)
{
	if (--m->refs > 0)
		return;
	g_hash_table_unref(m->thumbs);
	g_free(m->data_dir);
	g_free(m);
}

/* One HTTP exchange, run on a worker thread. Strings are copies: the thread reads nothing
 * the main loop may change. */
struct job {
	char *url;
	char *token;
	char *ca_file;
	char *upload_path;        /* upload this file (tus) */
	char *base;               /* http(s)://host:port */
	char *location;           /* the tus upload's path, once created */
	int64_t offset;           /* bytes the server has */
	int64_t total;            /* the file's size */
	int64_t media_id;         /* Pier-Media-Id, when finished */
	char *type;               /* the file's type as guessed here (the message's kind) */
	GByteArray *body;         /* the answer */
	long status;
	char *error;
	GCancellable *cancel;
	pg_media_progress_cb progress;
	gpointer ud;
	gint64 last_progress;     /* monotonic us of the last progress report */
	GTask *task;              /* borrowed: the task running the job (its data) */
	bool done;                /* main thread: the done callback ran; no progress after it */
	char *e2ee_src;           /* an encrypted upload: the plaintext file (pg_e2ee_file.h) */
	json_t *e2ee_media;       /* an encrypted download: the media object with its key */
};

static void job_free(gpointer p)
{
	struct job *j = p;

	g_free(j->url);
	g_free(j->token);
	g_free(j->ca_file);
	g_free(j->upload_path);
	g_free(j->base);
	g_free(j->location);
	g_free(j->type);
	if (j->body != NULL)
		g_byte_array_unref(j->body);
	g_free(j->error);
	g_clear_object(&j->cancel);
	g_free(j->e2ee_src);
	json_decref(j->e2ee_media);
	g_free(j);
}

static struct job *job_new(struct pg_media *m, const char *path, GCancellable *cancel)
{
	struct job *j = g_new0(struct job, 1);

	j->base = g_strdup(pg_session_http_base(m->session));
	j->url = g_strconcat(j->base, path, NULL);
	j->token = g_strdup(pg_session_token(m->session));
	j->ca_file = g_strdup(pg_session_ca_file(m->session));
	j->body = g_byte_array_new();
	j->cancel = cancel != NULL ? g_object_ref(cancel) : NULL;
	return j;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
	struct job *j = ud;

	if (j->body->len + size * n > DOWNLOAD_MAX)
		return 0;
	g_byte_array_append(j->body, (const guint8 *)data, (guint)(size * n));
	return size * n;
}

/* A progress report on its way to the main loop; it holds the task (and so the job) so
 * that it can see whether the upload ended meanwhile. */
struct progress_msg {
	GTask *task;
	double fraction;
};

static gboolean deliver_progress(gpointer p)
{
	struct progress_msg *pm = p;
	struct job *j = g_task_get_task_data(pm->task);

	if (!j->done)
		j->progress(pm->fraction, j->ud);
	g_object_unref(pm->task);
	g_free(pm);
	return G_SOURCE_REMOVE;
}

static int on_xfer(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                   curl_off_t ulnow)
{
	struct job *j = ud;
	gint64 now = g_get_monotonic_time();

	(void)dltotal;
	(void)dlnow;
	if (j->cancel != NULL && g_cancellable_is_cancelled(j->cancel))
		return 1;   /* aborts the transfer */
	if (j->progress != NULL && ultotal > 0 && now - j->last_progress > 100000) {
		struct progress_msg *pm = g_new(struct progress_msg, 1);

		j->last_progress = now;
		pm->task = g_object_ref(j->task);
		pm->fraction = j->total > 0 ? (double)(j->offset + ulnow) / (double)j->total
		                            : (double)ulnow / (double)ultotal;
		g_idle_add(deliver_progress, pm);
	}
	return 0;
}

/* The headers tus answers with. */
static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
	struct job *j = ud;
	size_t len = size * n;
	char *line = g_strstrip(g_strndup(data, len));
	char *colon = strchr(line, ':');

	if (colon != NULL) {
		const char *value = colon + 1;

		*colon = '\0';
		while (*value == ' ')
			value++;
		if (g_ascii_strcasecmp(line, "Location") == 0) {
			g_free(j->location);
			j->location = g_strdup(value);
		} else if (g_ascii_strcasecmp(line, "Upload-Offset") == 0) {
			j->offset = g_ascii_strtoll(value, NULL, 10);
		} else if (g_ascii_strcasecmp(line, "Pier-Media-Id") == 0) {
			j->media_id = g_ascii_strtoll(value, NULL, 10);
		}
	}
	g_free(line);
	return len;
}

/* A handle with what every request of j has: the token, the pinned certificate, progress. */
static CURL *job_curl(struct job *j, const char *url, struct curl_slist **hdr)
{
	CURL *curl = curl_easy_init();
	char *auth = g_strconcat("Authorization: Bearer ", j->token != NULL ? j->token : "", NULL);

	*hdr = curl_slist_append(*hdr, auth);
	g_free(auth);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_xfer);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, j);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 15L);
	if (j->ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, j->ca_file);
	return curl;
}

/* One request; the HTTP status, or -1 (transport error in *err, "cancelled" when cancelled). */
static long perform(struct job *j, CURL *curl, struct curl_slist *hdr, char **err)
{
	CURLcode rc;
	long status = -1;

	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, j);
	g_byte_array_set_size(j->body, 0);
	rc = curl_easy_perform(curl);
	g_clear_pointer(err, g_free);
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		*err = g_strdup("cancelled");
	else if (rc != CURLE_OK)
		*err = g_strdup(curl_easy_strerror(rc));
	else
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

#define TUS_CHUNK     (4 * 1024 * 1024)
#define TUS_ATTEMPTS  12     /* tries after a dropped connection: about a minute with backoff */

/* tus (docs/PROTOCOL.md, Resumable uploads): create, then PATCH a piece at a time; after a
 * dropped connection, HEAD says where to go on. Cancelled: the upload is deleted. */
static void run_tus(struct job *j)
{
	FILE *in = g_fopen(j->upload_path, "rb");
	char *base = g_path_get_basename(j->upload_path), *b64, *err = NULL;
	struct curl_slist *hdr = NULL;
	GStatBuf st;
	CURL *curl;
	long status;
	int attempt = 0;

	if (in == NULL || g_stat(j->upload_path, &st) != 0) {
		j->error = g_strdup(g_strerror(errno));
		goto out;
	}
	j->total = st.st_size;
	/* create */
	{
		char *len = g_strdup_printf("Upload-Length: %" G_GINT64_FORMAT, j->total);
		char *meta, *url = g_strconcat(j->base, "/api/tus/", NULL);

		b64 = g_base64_encode((const guchar *)base, strlen(base));
		/* ciphertext of an encrypted chat: the tus metadata "e2ee" says so */
		meta = g_strconcat("Upload-Metadata: filename ", b64,
		                   j->e2ee_src != NULL ? ",e2ee MQ==" : "", NULL);
		hdr = curl_slist_append(hdr, "Tus-Resumable: 1.0.0");
		hdr = curl_slist_append(hdr, len);
		hdr = curl_slist_append(hdr, meta);
		curl = job_curl(j, url, &hdr);
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
		status = perform(j, curl, hdr, &err);
		curl_easy_cleanup(curl);
		curl_slist_free_all(hdr);
		hdr = NULL;
		g_free(len);
		g_free(meta);
		g_free(b64);
		g_free(url);
		if (status != 201 || j->location == NULL) {
			j->error = err != NULL ? err : g_strdup_printf("HTTP %ld", status);
			err = NULL;
			if (j->body->len > 0)
				j->status = status;
			goto out;
		}
	}
	/* upload, resuming after drops */
	while (j->media_id == 0) {
		char *url = g_str_has_prefix(j->location, "http") ? g_strdup(j->location)
		            : g_strconcat(j->base, j->location, NULL);
		int64_t piece = j->total - j->offset < TUS_CHUNK ? j->total - j->offset : TUS_CHUNK;
		char *off = g_strdup_printf("Upload-Offset: %" G_GINT64_FORMAT, j->offset);

		hdr = curl_slist_append(hdr, "Tus-Resumable: 1.0.0");
		hdr = curl_slist_append(hdr, "Content-Type: application/offset+octet-stream");
		hdr = curl_slist_append(hdr, off);
		hdr = curl_slist_append(hdr, "Expect:");
		curl = job_curl(j, url, &hdr);
		curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PATCH");
		curl_easy_setopt(curl, CURLOPT_READDATA, in);
		curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)piece);
		fseeko(in, (off_t)j->offset, SEEK_SET);
		status = perform(j, curl, hdr, &err);
		curl_easy_cleanup(curl);
		curl_slist_free_all(hdr);
		hdr = NULL;
		g_free(off);
		if (err != NULL && strcmp(err, "cancelled") == 0) {
			g_free(url);
			break;
		}
		if (status == 204) {
			attempt = 0;
			g_free(url);
			continue;   /* Upload-Offset moved on (and Pier-Media-Id at the end) */
		}
		if (status >= 400 && status != 409 && status != 423) {
			j->error = g_strdup_printf("HTTP %ld", status);
			j->status = status;
			g_free(url);
			goto out;
		}
		/* A drop (or a conflict): wait, ask where the server is, go on from there. */
		if (++attempt > TUS_ATTEMPTS) {
			j->error = err != NULL ? g_strdup(err) : g_strdup_printf("HTTP %ld", status);
			g_free(url);
			goto out;
		}
		for (int w = 0; w < (attempt < 5 ? attempt : 5) * 10; w++) {
			if (j->cancel != NULL && g_cancellable_is_cancelled(j->cancel))
				break;
			g_usleep(100000);
		}
		hdr = curl_slist_append(hdr, "Tus-Resumable: 1.0.0");
		curl = job_curl(j, url, &hdr);
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
		perform(j, curl, hdr, &err);
		curl_easy_cleanup(curl);
		curl_slist_free_all(hdr);
		hdr = NULL;
		g_free(url);
		if (err != NULL && strcmp(err, "cancelled") == 0)
			break;
	}
	if (err != NULL && strcmp(err, "cancelled") == 0) {
		/* termination: the server drops the part (a fresh handle: this one was cancelled) */
		char *url = g_strconcat(j->base, j->location, NULL);
		GCancellable *c = j->cancel;

		j->cancel = NULL;
		/* 423 while the server still writes the cut PATCH: a moment later. */
		for (int tries = 0; tries < 30; tries++) {
			hdr = curl_slist_append(hdr, "Tus-Resumable: 1.0.0");
			curl = job_curl(j, url, &hdr);
			curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "DELETE");
			status = perform(j, curl, hdr, &err);
			curl_easy_cleanup(curl);
			curl_slist_free_all(hdr);
			hdr = NULL;
			if (status != 423)
				break;
			g_usleep(100000);
		}
		j->cancel = c;
		g_free(url);
		j->error = g_strdup("cancelled");
	}
out:
	if (j->media_id > 0 && j->error == NULL) {
		char *ct = g_content_type_guess(j->upload_path, NULL, 0, NULL);
		char *mime = ct != NULL ? g_content_type_get_mime_type(ct) : NULL;
		json_t *a = json_pack("{s:I, s:s}", "id", (json_int_t)j->media_id, "type",
		                      mime != NULL ? mime : "");
		char *answer = json_dumps(a, JSON_COMPACT);

		json_decref(a);
		g_byte_array_set_size(j->body, 0);
		if (answer != NULL)
			g_byte_array_append(j->body, (const guint8 *)answer, (guint)strlen(answer));
		free(answer);
		g_free(mime);
		g_free(ct);
	}
	if (in != NULL)
		fclose(in);
	g_free(err);
	g_free(base);
}

/* ---- encrypted files (pg_e2ee_file.h) ---- */

/* An encrypted download: the body becomes the plaintext (in memory only). */
static void decrypt_body(struct job *j)
{
	GBytes *plain = pg_e2ee_file_decrypt(j->e2ee_media, j->body->data, j->body->len);

	g_byte_array_set_size(j->body, 0);
	if (plain == NULL) {
		j->error = g_strdup(_("the file did not decrypt (altered or cut)"));
		return;
	}
	g_byte_array_append(j->body, g_bytes_get_data(plain, NULL), (guint)g_bytes_get_size(plain));
	g_bytes_unref(plain);
}

/* An encrypted upload: the file is encrypted into upload_path (in the user's data dir, named
 * "encrypted": the server sees neither the name nor the bytes), uploaded, removed; the
 * answer carries the payload's "file" with the key. */
static void run_tus_e2ee(struct job *j)
{
	uint8_t key[32], header[24];
	char *dir = g_path_get_dirname(j->upload_path);
	GStatBuf st;

	if (g_stat(j->e2ee_src, &st) != 0 || pg_e2ee_file_encrypt(j->e2ee_src, j->upload_path, key,
	                                                          header) != 0) {
		j->error = g_strdup(_("the file could not be encrypted"));
		g_free(dir);
		return;
	}
	run_tus(j);
	g_unlink(j->upload_path);
	g_rmdir(dir);
	g_free(dir);
	if (j->media_id > 0 && j->error == NULL) {
		char *ct = g_content_type_guess(j->e2ee_src, NULL, 0, NULL);
		char *mime = ct != NULL ? g_content_type_get_mime_type(ct) : NULL;
		char *name = g_path_get_basename(j->e2ee_src), *answer;
		const char *type = mime != NULL ? mime : "application/octet-stream";
		json_t *file = pg_e2ee_file_object(j->media_id, name, type, (int64_t)st.st_size,
		                                   pg_media_kind_of(type), key, header);
		json_t *a = json_pack("{s:I, s:s, s:o}", "id", (json_int_t)j->media_id, "type", type,
		                      "file", file);

		answer = json_dumps(a, JSON_COMPACT);
		json_decref(a);
		g_byte_array_set_size(j->body, 0);
		if (answer != NULL)
			g_byte_array_append(j->body, (const guint8 *)answer, (guint)strlen(answer));
		free(answer);
		g_free(name);
		g_free(mime);
		g_free(ct);
	}
	sodium_memzero(key, sizeof key);
}

static void run_job(GTask *task, gpointer src, gpointer data, GCancellable *cancel)
{
	struct job *j = data;
	struct curl_slist *hdr = NULL;
	char *err = NULL;
	CURL *curl;

	(void)src;
	(void)cancel;
	if (j->upload_path != NULL && j->e2ee_src != NULL) {
		run_tus_e2ee(j);
	} else if (j->upload_path != NULL) {
		run_tus(j);
	} else {
		curl = job_curl(j, j->url, &hdr);
		j->status = perform(j, curl, hdr, &err);
		if (err != NULL)
			j->error = g_strdup(err);
		else if (j->status < 200 || j->status >= 300)
			j->error = g_strdup_printf("HTTP %ld", j->status);
		curl_easy_cleanup(curl);
		curl_slist_free_all(hdr);
		g_free(err);
		if (j->error == NULL && j->e2ee_media != NULL)
			decrypt_body(j);
	}
	g_task_return_boolean(task, TRUE);
}

/* Runs j on a worker thread; done(task) on the main loop. */
static void start_job(struct job *j, GAsyncReadyCallback done, gpointer ud)
{
	GTask *task = g_task_new(NULL, NULL, done, ud);

	j->task = task;
	g_task_set_task_data(task, j, job_free);
	g_task_run_in_thread(task, run_job);
	g_object_unref(task);
}

/* ---- thumbnails ---- */

struct thumb_req {
	struct pg_media *m;
	int64_t id;
	pg_media_texture_cb cb;
	gpointer ud;
};

static void thumb_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct thumb_req *tr = data;
	struct job *j = g_task_get_task_data(G_TASK(res));
	GdkTexture *tex = NULL;

	(void)src;
	if (j->cancel != NULL && g_cancellable_is_cancelled(j->cancel)) {
		tr->cb(NULL, tr->ud);   /* lets the caller drop what it holds */
		media_unref(tr->m);
		g_free(tr);
		return;
	}
	if (j->error == NULL && j->body->len > 0) {
		GBytes *bytes = g_bytes_new(j->body->data, j->body->len);

		tex = gdk_texture_new_from_bytes(bytes, NULL);
		g_bytes_unref(bytes);
	}
	if (tex != NULL) {
		if (g_hash_table_size(tr->m->thumbs) >= THUMBS_MAX)
			g_hash_table_remove_all(tr->m->thumbs);
		g_hash_table_replace(tr->m->thumbs, g_memdup2(&tr->id, sizeof tr->id),
		                     g_object_ref(tex));
	}
	tr->cb(tex, tr->ud);
	if (tex != NULL)
		g_object_unref(tex);
	media_unref(tr->m);
	g_free(tr);
}

/* A thumbnail request for id, or NULL when the cache has it (cb was called with it). */
static struct thumb_req *thumb_req_new(struct pg_media *m, int64_t id, pg_media_texture_cb cb,
                                       gpointer ud)
{
	GdkTexture *tex = g_hash_table_lookup(m->thumbs, &id);
	struct thumb_req *tr;

	if (tex != NULL) {
		cb(tex, ud);
		return NULL;
	}
	tr = g_new0(struct thumb_req, 1);
	tr->m = media_ref(m);
	tr->id = id;
	tr->cb = cb;
	tr->ud = ud;
	return tr;
}

void pg_media_thumbnail_e2ee(struct pg_media *m, const json_t *media, GCancellable *cancel,
                             pg_media_texture_cb cb, gpointer ud)
{
	int64_t id = json_integer_value(json_object_get(media, "id"));
	struct thumb_req *tr = thumb_req_new(m, id, cb, ud);
	struct job *j;
	char *path;

	if (tr == NULL)
		return;
	/* the server has no thumbnail of ciphertext: the whole file, decrypted in memory */
	path = g_strdup_printf("/media/%" G_GINT64_FORMAT, id);
	j = job_new(m, path, cancel);
	j->e2ee_media = json_deep_copy(media);
	start_job(j, thumb_done, tr);
	g_free(path);
}

void pg_media_thumbnail(struct pg_media *m, int64_t id, GCancellable *cancel,
                        pg_media_texture_cb cb, gpointer ud)
{
	struct thumb_req *tr = thumb_req_new(m, id, cb, ud);
	char *path;

	if (tr == NULL)
		return;
	path = g_strdup_printf("/media/%" G_GINT64_FORMAT "/thumb", id);
	start_job(job_new(m, path, cancel), thumb_done, tr);
	g_free(path);
}

/* ---- opening ---- */

struct open_req {
	struct pg_media *m;
	GtkWidget *from;      /* a ref */
	char *kind;
	char *name;
	int64_t id;
};

static void open_req_free(struct open_req *o)
{
	media_unref(o->m);
	g_object_unref(o->from);
	g_free(o->kind);
	g_free(o->name);
	g_free(o);
}

static GtkWindow *parent_of(GtkWidget *w)
{
	GtkRoot *root = gtk_widget_get_root(w);

	return GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL;
}

static GtkWidget *viewer_new(GtkWidget *from, const char *title, GtkWidget *child)
{
	GtkWidget *win = gtk_window_new();

	gtk_window_set_title(GTK_WINDOW(win), title);
	gtk_window_set_transient_for(GTK_WINDOW(win), parent_of(from));
	gtk_window_set_default_size(GTK_WINDOW(win), 800, 600);
	gtk_window_set_child(GTK_WINDOW(win), child);
	gtk_widget_set_name(win, "media-viewer");
	gtk_window_present(GTK_WINDOW(win));
	return win;
}

struct save_req {
	GBytes *bytes;
};

static void on_save_response(GtkNativeDialog *dlg, int response, gpointer data)
{
	struct save_req *sr = data;

	if (response == GTK_RESPONSE_ACCEPT) {
		GFile *f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dlg));

		g_file_replace_contents(f, g_bytes_get_data(sr->bytes, NULL),
		                        g_bytes_get_size(sr->bytes), NULL, FALSE,
		                        G_FILE_CREATE_PRIVATE, NULL, NULL, NULL);
		g_object_unref(f);
	}
	g_bytes_unref(sr->bytes);
	g_free(sr);
	g_object_unref(dlg);
}

static void open_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct open_req *o = data;
	struct job *j = g_task_get_task_data(G_TASK(res));
	GBytes *bytes;

	(void)src;
	if (j->error != NULL) {
		g_warning("pier-gtk: download of %s: %s", o->name, j->error);
		open_req_free(o);
		return;
	}
	bytes = g_bytes_new(j->body->data, j->body->len);
	if (strcmp(o->kind, "image") == 0) {
		GdkTexture *tex = gdk_texture_new_from_bytes(bytes, NULL);
		GtkWidget *pic = gtk_picture_new_for_paintable(GDK_PAINTABLE(tex));

		gtk_accessible_update_property(GTK_ACCESSIBLE(pic), GTK_ACCESSIBLE_PROPERTY_LABEL,
		                               o->name, -1);
		viewer_new(o->from, o->name, pic);
		g_clear_object(&tex);
	} else if (strcmp(o->kind, "video") == 0 || strcmp(o->kind, "audio") == 0) {
		/* Played from a file in the user's data dir (GStreamer wants a file or a URI). */
		char *dir = g_build_filename(o->m->data_dir, "media", NULL);
		char *base = g_strdup_printf("%" G_GINT64_FORMAT "-%s", o->id, o->name);
		char *path;
		GtkWidget *video;

		g_strdelimit(base, "/\\", '_');
		path = g_build_filename(dir, base, NULL);
		g_mkdir_with_parents(dir, 0700);
		g_file_set_contents_full(path, g_bytes_get_data(bytes, NULL),
		                         (gssize)g_bytes_get_size(bytes),
		                         G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL);
		video = gtk_video_new_for_filename(path);
		gtk_video_set_autoplay(GTK_VIDEO(video), TRUE);
		viewer_new(o->from, o->name, video);
		g_free(dir);
		g_free(base);
		g_free(path);
	} else {
		GtkFileChooserNative *dlg = gtk_file_chooser_native_new(
			_("Save file"), parent_of(o->from), GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"),
			_("_Cancel"));
		struct save_req *sr = g_new0(struct save_req, 1);

		sr->bytes = g_bytes_ref(bytes);
		gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(dlg), o->name);
		g_signal_connect(dlg, "response", G_CALLBACK(on_save_response), sr);
		gtk_native_dialog_show(GTK_NATIVE_DIALOG(dlg));
	}
	g_bytes_unref(bytes);
	open_req_free(o);
}

void pg_media_open(struct pg_media *m, GtkWidget *from, json_t *media, const char *kind)
{
	struct open_req *o = g_new0(struct open_req, 1);
	char *path;

	o->m = media_ref(m);
	o->from = g_object_ref(from);
	o->kind = g_strdup(kind != NULL ? kind : "file");
	o->name = g_strdup(json_string_value(json_object_get(media, "name")));
	if (o->name == NULL)
		o->name = g_strdup("file");
	o->id = json_integer_value(json_object_get(media, "id"));
	path = g_strdup_printf("/media/%" G_GINT64_FORMAT, o->id);
	{
		struct job *j = job_new(m, path, NULL);

		if (pg_e2ee_file_is_encrypted(media))
			j->e2ee_media = json_deep_copy(media);   /* decrypted in memory */
		start_job(j, open_done, o);
	}
	g_free(path);
}

/* ---- uploads ---- */

struct upload_req {
	pg_media_done_cb done;
	gpointer ud;
};

static void upload_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct upload_req *ur = data;
	struct job *j = g_task_get_task_data(G_TASK(res));
	json_t *answer = NULL;

	(void)src;
	j->done = true;
	if (j->error == NULL)
		answer = json_loadb((const char *)j->body->data, j->body->len, 0, NULL);
	if (j->error != NULL && strcmp(j->error, "cancelled") == 0) {
		ur->done(NULL, j->error, ur->ud);
	} else if (answer == NULL && j->body->len > 0 && j->error != NULL) {
		json_t *err = json_loadb((const char *)j->body->data, j->body->len, 0, NULL);
		const char *code = json_string_value(json_object_get(err, "error"));
		const char *text = code != NULL ? pier_error_text(code, pg_i18n_lang()) : NULL;

		ur->done(NULL, text != NULL ? text : code != NULL ? code : j->error, ur->ud);
		json_decref(err);
	} else {
		ur->done(answer, answer != NULL ? NULL : j->error != NULL ? j->error : "bad answer",
		         ur->ud);
	}
	json_decref(answer);
	g_free(ur);
}

void pg_media_upload(struct pg_media *m, const char *path, GCancellable *cancel,
                     pg_media_progress_cb progress, pg_media_done_cb done, gpointer ud)
{
	struct job *j = job_new(m, "/api/tus/", cancel);
	struct upload_req *ur = g_new0(struct upload_req, 1);

	j->upload_path = g_strdup(path);
	j->progress = progress;
	j->ud = ud;
	ur->done = done;
	ur->ud = ud;
	start_job(j, upload_done, ur);
}

struct fetch_req {
	pg_media_bytes_cb cb;
	gpointer ud;
};

static void fetch_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct fetch_req *fr = data;
	struct job *j = g_task_get_task_data(G_TASK(res));
	GBytes *bytes = j->error == NULL ? g_bytes_new(j->body->data, j->body->len) : NULL;

	(void)src;
	fr->cb(bytes, j->error, fr->ud);
	if (bytes != NULL)
		g_bytes_unref(bytes);
	/* the plaintext leaves no copy behind in the job */
	sodium_memzero(j->body->data, j->body->len);
	g_free(fr);
}

void pg_media_fetch_e2ee(struct pg_media *m, const json_t *media, pg_media_bytes_cb cb,
                         gpointer ud)
{
	struct fetch_req *fr = g_new0(struct fetch_req, 1);
	char *path = g_strdup_printf("/media/%" G_GINT64_FORMAT,
	                             (gint64)json_integer_value(json_object_get(media, "id")));
	struct job *j = job_new(m, path, NULL);

	fr->cb = cb;
	fr->ud = ud;
	j->e2ee_media = json_deep_copy(media);
	start_job(j, fetch_done, fr);
	g_free(path);
}

void pg_media_upload_e2ee(struct pg_media *m, const char *path, GCancellable *cancel,
                          pg_media_progress_cb progress, pg_media_done_cb done, gpointer ud)
{
	struct job *j = job_new(m, "/api/tus/", cancel);
	struct upload_req *ur = g_new0(struct upload_req, 1);
	char *dir = g_build_filename(m->data_dir, "e2ee-upload-XXXXXX", NULL);

	if (g_mkdtemp_full(dir, 0700) == NULL) {
		g_free(dir);
		dir = g_build_filename(m->data_dir, "e2ee-upload", NULL);
		g_mkdir_with_parents(dir, 0700);
	}
	j->e2ee_src = g_strdup(path);
	j->upload_path = g_build_filename(dir, "encrypted", NULL);
	j->progress = progress;
	j->ud = ud;
	ur->done = done;
	ur->ud = ud;
	start_job(j, upload_done, ur);
	g_free(dir);
}

const char *pg_media_kind_of(const char *type)
{
	if (type == NULL)
		return "file";
	if (g_str_has_prefix(type, "image/") && strcmp(type, "image/svg+xml") != 0)
		return "image";
	if (g_str_has_prefix(type, "video/"))
		return "video";
	if (g_str_has_prefix(type, "audio/"))
		return "audio";
	return "file";
}

struct pg_media *pg_media_new(struct pg_session *session)
{
	struct pg_media *m = g_new0(struct pg_media, 1);

	m->refs = 1;
	m->session = session;
	m->data_dir = g_strdup(pg_session_data_dir(session));
	m->thumbs = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_object_unref);
	return m;
}

void pg_media_free(struct pg_media *m)
{
	if (m != NULL)
		media_unref(m);
}
