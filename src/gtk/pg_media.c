/* pg_media.c - uploads, thumbnails and files over HTTP with libcurl (see pg_media.h). */
#include "pg_media.h"

#include <string.h>

#include <curl/curl.h>
#include <glib/gstdio.h>

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
	char *upload_path;        /* POST this file */
	GByteArray *body;         /* the answer */
	long status;
	char *error;
	GCancellable *cancel;
	pg_media_progress_cb progress;
	gpointer ud;
	gint64 last_progress;     /* monotonic us of the last progress report */
};

static void job_free(gpointer p)
{
	struct job *j = p;

	g_free(j->url);
	g_free(j->token);
	g_free(j->ca_file);
	g_free(j->upload_path);
	if (j->body != NULL)
		g_byte_array_unref(j->body);
	g_free(j->error);
	g_clear_object(&j->cancel);
	g_free(j);
}

static struct job *job_new(struct pg_media *m, const char *path, GCancellable *cancel)
{
	struct job *j = g_new0(struct job, 1);

	j->url = g_strconcat(pg_session_http_base(m->session), path, NULL);
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

struct progress_msg {
	pg_media_progress_cb cb;
	gpointer ud;
	double fraction;
};

static gboolean deliver_progress(gpointer p)
{
	struct progress_msg *pm = p;

	pm->cb(pm->fraction, pm->ud);
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
		pm->cb = j->progress;
		pm->ud = j->ud;
		pm->fraction = (double)ulnow / (double)ultotal;
		g_idle_add(deliver_progress, pm);
	}
	return 0;
}

static void run_job(GTask *task, gpointer src, gpointer data, GCancellable *cancel)
{
	struct job *j = data;
	CURL *curl = curl_easy_init();
	struct curl_slist *hdr = NULL;
	char *auth = g_strconcat("Authorization: Bearer ", j->token != NULL ? j->token : "", NULL);
	FILE *in = NULL;
	CURLcode rc;

	(void)src;
	(void)cancel;
	hdr = curl_slist_append(hdr, auth);
	curl_easy_setopt(curl, CURLOPT_URL, j->url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_xfer);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, j);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 15L);
	if (j->ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, j->ca_file);
	if (j->upload_path != NULL) {
		GStatBuf st;

		in = g_fopen(j->upload_path, "rb");
		if (in == NULL || g_stat(j->upload_path, &st) != 0) {
			j->error = g_strdup(g_strerror(errno));
			goto out;
		}
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_READDATA, in);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)st.st_size);
		hdr = curl_slist_append(hdr, "Content-Type: application/octet-stream");
		hdr = curl_slist_append(hdr, "Expect:");
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
	}
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &j->status);
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		j->error = g_strdup("cancelled");
	else if (rc != CURLE_OK)
		j->error = g_strdup(curl_easy_strerror(rc));
	else if (j->status < 200 || j->status >= 300)
		j->error = g_strdup_printf("HTTP %ld", j->status);
out:
	if (in != NULL)
		fclose(in);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(curl);
	g_free(auth);
	g_task_return_boolean(task, TRUE);
}

/* Runs j on a worker thread; done(task) on the main loop. */
static void start_job(struct job *j, GAsyncReadyCallback done, gpointer ud)
{
	GTask *task = g_task_new(NULL, NULL, done, ud);

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

void pg_media_thumbnail(struct pg_media *m, int64_t id, GCancellable *cancel,
                        pg_media_texture_cb cb, gpointer ud)
{
	GdkTexture *tex = g_hash_table_lookup(m->thumbs, &id);
	struct thumb_req *tr;
	char *path;

	if (tex != NULL) {
		cb(tex, ud);
		return;
	}
	tr = g_new0(struct thumb_req, 1);
	tr->m = media_ref(m);
	tr->id = id;
	tr->cb = cb;
	tr->ud = ud;
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
	start_job(job_new(m, path, NULL), open_done, o);
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
	if (j->error == NULL)
		answer = json_loadb((const char *)j->body->data, j->body->len, 0, NULL);
	if (answer == NULL && j->body->len > 0 && j->error != NULL) {
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
	char *base = g_path_get_basename(path);
	char *name = g_uri_escape_string(base, NULL, FALSE);
	char *url = g_strconcat("/api/media?name=", name, NULL);
	struct job *j = job_new(m, url, cancel);
	struct upload_req *ur = g_new0(struct upload_req, 1);

	j->upload_path = g_strdup(path);
	j->progress = progress;
	j->ud = ud;
	ur->done = done;
	ur->ud = ud;
	start_job(j, upload_done, ur);
	g_free(base);
	g_free(name);
	g_free(url);
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
