/* test_gtk_media.c - end to end: the paths of pier-gtk that were built but not tested before,
 * in its real window (xvfb-run, dbus-run-session) against a real pierd and a libpier peer:
 *
 * - the session token in the desktop keyring (libsecret): the test session's Secret Service
 *   is gnome-keyring-daemon, started unlocked (gtkdrive_keyring); the token is stored there,
 *   not in the file, and the next start logs in with it;
 * - video and audio played in the window (GtkVideo, GTK's GStreamer media backend): a tiny
 *   committed WebM clip (VP8) and WAV tone, sent, opened from their message, and their media
 *   stream reaches "prepared" without an error and plays (the stream, not pixels);
 * - the save dialog for other files, portal-less (GTK_USE_PORTAL=0: GtkFileChooserNative
 *   falls back to its GtkFileChooserDialog, answered here): the saved bytes equal the sent;
 * - drag and drop of a file onto the message list (its GtkDropTarget's "drop" with a
 *   GdkFileList): the file is uploaded and sent;
 * - input methods: text committed through the composer's GtkIMContext arrives intact (CJK),
 *   and Enter while an input method composes (preedit) is the input method's, not a send.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "gtkdrive.h"
#include "harness.h"
#include "pg_i18n.h"
#include "pg_secret.h"
#include "pg_window.h"

#define WAIT_MS       30000

static GtkWindow *win;
static struct pg_window *pw;
static struct pier_conn *peer;
static json_t *seen;

#define spin gtkdrive_spin
#define spin_until gtkdrive_until
#define find_in gtkdrive_find

static GtkWidget *find(const char *name)
{
	return gtkdrive_need(GTK_WIDGET(win), name);
}

static void peer_read(void)
{
	gtkdrive_drain(peer, seen);
}

/* The peer's msg event whose text is text, or whose media's name is name. */
static json_t *peer_msg(const char *text, const char *name)
{
	json_t *ev;
	size_t i;

	peer_read();
	json_array_foreach(seen, i, ev) {
		if (!is_op(ev, "msg"))
			continue;
		if (text != NULL && g_strcmp0(jstr(ev, "text"), text) == 0)
			return ev;
		if (name != NULL && g_strcmp0(jstr(json_object_get(ev, "media"), "name"), name) == 0)
			return ev;
	}
	return NULL;
}

static gboolean peer_has_text(gconstpointer text)
{
	return peer_msg(text, NULL) != NULL;
}

static gboolean peer_has_file(gconstpointer name)
{
	return peer_msg(NULL, name) != NULL;
}

static gboolean upload_done(gconstpointer ud)
{
	(void)ud;
	return !pg_window_uploading(pw) && pg_session_outbox_count(pg_window_session(pw)) == 0;
}

static GtkWidget *toplevel_where(gboolean (*pred)(GtkWidget *w))
{
	GListModel *tops = gtk_window_get_toplevels();

	for (guint i = 0; i < g_list_model_get_n_items(tops); i++) {
		GtkWidget *w = g_list_model_get_item(tops, i);

		g_object_unref(w);
		if (gtk_widget_get_visible(w) && pred(w))
			return w;
	}
	return NULL;
}

static gboolean is_viewer(GtkWidget *w)
{
	return g_strcmp0(gtk_widget_get_name(w), "media-viewer") == 0;
}

static gboolean is_file_dialog(GtkWidget *w)
{
	return GTK_IS_FILE_CHOOSER_DIALOG(w);
}

static gboolean viewer_open(gconstpointer ud)
{
	(void)ud;
	return toplevel_where(is_viewer) != NULL;
}

static gboolean dialog_open(gconstpointer ud)
{
	(void)ud;
	return toplevel_where(is_file_dialog) != NULL;
}

/* The save dialog shows folder path. */
static gboolean dialog_in(gconstpointer path)
{
	GtkWidget *dlg = toplevel_where(is_file_dialog);
	GFile *f = dlg != NULL ? gtk_file_chooser_get_current_folder(GTK_FILE_CHOOSER(dlg)) : NULL;
	char *p = f != NULL ? g_file_get_path(f) : NULL;
	gboolean same = g_strcmp0(p, path) == 0;

	g_free(p);
	g_clear_object(&f);
	if (!same)
		g_usleep(20000);
	return same;
}

static GtkMediaStream *viewer_stream(void)
{
	GtkWidget *v = toplevel_where(is_viewer);
	GtkWidget *child = v != NULL ? gtk_window_get_child(GTK_WINDOW(v)) : NULL;

	return child != NULL && GTK_IS_VIDEO(child) ? gtk_video_get_media_stream(GTK_VIDEO(child))
	                                            : NULL;
}

static gboolean stream_prepared(gconstpointer ud)
{
	GtkMediaStream *s = viewer_stream();

	(void)ud;
	return s != NULL && (gtk_media_stream_is_prepared(s) || gtk_media_stream_get_error(s) != NULL);
}

static gboolean stream_moved(gconstpointer ud)
{
	GtkMediaStream *s = viewer_stream();

	(void)ud;
	return s != NULL && (gtk_media_stream_get_timestamp(s) > 0 ||
	                     gtk_media_stream_get_ended(s) || gtk_media_stream_get_error(s) != NULL);
}

/* The media button of the newest message with a file named name. */
static GtkWidget *media_button(const char *name)
{
	GtkWidget *list = find("msg-list"), *found = NULL;
	GSList *stack = g_slist_prepend(NULL, list);

	while (stack != NULL) {
		GtkWidget *w = stack->data;

		stack = g_slist_delete_link(stack, stack);
		if (GTK_IS_BUTTON(w) && g_strcmp0(gtk_widget_get_name(w), "msg-media") == 0 &&
		    gtk_widget_get_tooltip_text(w) != NULL &&
		    strstr(gtk_widget_get_tooltip_text(w), name) != NULL)
			found = w;
		for (GtkWidget *c = gtk_widget_get_first_child(w); c != NULL;
		     c = gtk_widget_get_next_sibling(c))
			stack = g_slist_prepend(stack, c);
	}
	return found;
}

static gboolean media_shown(gconstpointer name)
{
	return media_button(name) != NULL;
}

struct lookup {
	bool done;
	char *token;
};

static void on_lookup(const char *token, void *ud)
{
	struct lookup *l = ud;

	l->done = true;
	l->token = g_strdup(token);
}

static gboolean lookup_done(gconstpointer ud)
{
	return ((const struct lookup *)ud)->done;
}

/* Sends the file at path from the window and waits until the peer has it. */
static void send_file(const char *path, const char *name)
{
	pg_window_attach(pw, path);
	CHECK(spin_until(upload_done, NULL, WAIT_MS, "the upload"), "%s uploaded and sent", name);
	CHECK(spin_until(peer_has_file, name, WAIT_MS, "the peer's copy"), "the peer gets %s", name);
	CHECK(spin_until(media_shown, name, WAIT_MS, "the message"), "the window shows %s", name);
}

/* Opens the file name from its message and checks its stream prepares and plays. */
static void play(const char *name, const char *kind)
{
	GtkWidget *b = media_button(name);
	GtkMediaStream *s;

	if (b != NULL)
		g_signal_emit_by_name(b, "clicked");
	CHECK(spin_until(viewer_open, NULL, WAIT_MS, "the player"), "%s opens in a player", name);
	CHECK(spin_until(stream_prepared, NULL, WAIT_MS, "the stream"), "its stream prepares");
	s = viewer_stream();
	CHECK(s != NULL && gtk_media_stream_get_error(s) == NULL, "%s plays without an error (%s)",
	      name, s != NULL && gtk_media_stream_get_error(s) != NULL
	            ? gtk_media_stream_get_error(s)->message : "none");
	if (strcmp(kind, "video") == 0)
		CHECK(s != NULL && gtk_media_stream_has_video(s), "the clip has video");
	else
		CHECK(s != NULL && gtk_media_stream_has_audio(s), "the tone has audio");
	CHECK(s != NULL && gtk_media_stream_get_playing(s), "and plays (autoplay)");
	CHECK(spin_until(stream_moved, NULL, WAIT_MS, "the stream to move"),
	      "its position moves on (or it ended)");
	if (toplevel_where(is_viewer) != NULL)
		gtk_window_destroy(GTK_WINDOW(toplevel_where(is_viewer)));
	spin(200);
}

/* The composer's input method context: its key controller's. */
static GtkIMContext *composer_im(void)
{
	GListModel *ctls = gtk_widget_observe_controllers(find("composer-text"));
	GtkIMContext *im = NULL;

	for (guint i = 0; i < g_list_model_get_n_items(ctls) && im == NULL; i++) {
		GtkEventController *c = g_list_model_get_item(ctls, i);

		if (GTK_IS_EVENT_CONTROLLER_KEY(c))
			im = gtk_event_controller_key_get_im_context(GTK_EVENT_CONTROLLER_KEY(c));
		g_object_unref(c);
	}
	g_object_unref(ctls);
	return im;
}

/* Enter on the composer, through its own capture-phase key controller (as GTK delivers it). */
static gboolean press_enter(void)
{
	GListModel *ctls = gtk_widget_observe_controllers(find("composer-text"));
	gboolean handled = FALSE;

	for (guint i = 0; i < g_list_model_get_n_items(ctls) && !handled; i++) {
		GtkEventController *c = g_list_model_get_item(ctls, i);

		if (GTK_IS_EVENT_CONTROLLER_KEY(c) &&
		    gtk_event_controller_get_propagation_phase(c) == GTK_PHASE_CAPTURE)
			g_signal_emit_by_name(c, "key-pressed", GDK_KEY_Return, 36, (GdkModifierType)0,
			                      &handled);
		g_object_unref(c);
	}
	g_object_unref(ctls);
	return handled;
}

static char *composer_text(void)
{
	GtkTextBuffer *buf = gtk_text_view_get_buffer(GTK_TEXT_VIEW(find("composer-text")));
	GtkTextIter a, b;

	gtk_text_buffer_get_bounds(buf, &a, &b);
	return gtk_text_buffer_get_text(buf, &a, &b, FALSE);
}

static void test_keyring(struct pierd *p, const char *tmp, const char *user)
{
	char *session = g_build_filename(tmp, "pier-gtk", "session.json", NULL);
	char *server = g_strdup_printf("127.0.0.1:%s", pierd_port_str(p));
	json_t *j;
	struct lookup l = { 0 };
	GCancellable *cancel = g_cancellable_new();

	if (!gtkdrive_keyring()) {
		printf("# SKIP the keyring: gnome-keyring-daemon is not installed (scripts/deps.sh "
		       "installs it)\n");
		g_free(session);
		g_free(server);
		g_object_unref(cancel);
		return;
	}
	spin(500);
	j = json_load_file(session, 0, NULL);
	CHECK(j != NULL && jtrue(j, "keyring") && json_object_get(j, "token") == NULL,
	      "the session file says the keyring has the token, and has none itself (%s)",
	      jdump(j));
	json_decref(j);
	pg_secret_lookup(server, user, cancel, on_lookup, &l);
	CHECK(spin_until(lookup_done, &l, WAIT_MS, "the keyring"), "the keyring answers");
	CHECK(l.token != NULL && g_strcmp0(l.token, pg_session_token(pg_window_session(pw))) == 0,
	      "it holds the session's token");
	g_free(l.token);
	/* The next start logs in with the keyring's token */
	gtk_window_destroy(win);
	spin(300);
	win = gtkdrive_window("org.pier.GtkMediaTest2", gtkdrive_fill_pierd, p);
	REQUIRE(win != NULL, , "a second window opens");
	pw = pg_window_from(win);
	CHECK(gtkdrive_until_state(win, PG_SESSION_ONLINE, WAIT_MS, "token login"),
	      "the next start logs in with the keyring's token");
	g_free(session);
	g_free(server);
	g_object_unref(cancel);
}

static void test_save(const char *tmp)
{
	char *src = g_build_filename(tmp, "notes.bin", NULL);
	char *dir = g_build_filename(tmp, "saved", NULL);
	char *dst = g_build_filename(dir, "notes-saved.bin", NULL);
	guchar bytes[3000];
	char *got = NULL;
	gsize len = 0;
	GtkWidget *dlg, *b;
	GFile *folder;

	for (size_t i = 0; i < sizeof bytes; i++)
		bytes[i] = (guchar)(i * 7 + 3);
	g_file_set_contents(src, (const char *)bytes, sizeof bytes, NULL);
	g_mkdir_with_parents(dir, 0700);
	send_file(src, "notes.bin");
	b = media_button("notes.bin");
	if (b != NULL)
		g_signal_emit_by_name(b, "clicked");
	CHECK(spin_until(dialog_open, NULL, WAIT_MS, "the save dialog"), "a save dialog opens");
	dlg = toplevel_where(is_file_dialog);
	if (dlg != NULL) {
		char *path = g_build_filename(tmp, "gtk-save-dialog.png", NULL);

		CHECK(gtk_file_chooser_get_action(GTK_FILE_CHOOSER(dlg)) == GTK_FILE_CHOOSER_ACTION_SAVE,
		      "to save");
		/* The folder, then the whole path typed in the name field, as a user may: the name
		 * field resolves what is typed against its own folder, which follows the folder
		 * shown only once that has loaded. */
		folder = g_file_new_for_path(dir);
		gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(dlg), folder, NULL);
		g_object_unref(folder);
		CHECK(spin_until(dialog_in, dir, WAIT_MS, "the dialog's folder"), "the dialog shows %s",
		      dir);
		gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(dlg), dst);
		if (getenv("PIER_SCREENSHOTS") != NULL) {
			g_free(path);
			path = g_build_filename(getenv("PIER_SCREENSHOTS"), "gtk-save-dialog-en.png", NULL);
			pg_window_screenshot(dlg, path);
		}
		g_free(path);
		gtk_dialog_response(GTK_DIALOG(dlg), GTK_RESPONSE_ACCEPT);
	}
	for (int i = 0; i < 100 && !g_file_test(dst, G_FILE_TEST_EXISTS); i++)
		spin(100);
	CHECK(g_file_get_contents(dst, &got, &len, NULL) && len == sizeof bytes &&
	      memcmp(got, bytes, len) == 0, "the saved bytes are the sent ones (%zu bytes)", len);
	g_free(got);
	g_free(src);
	g_free(dir);
	g_free(dst);
}

static void test_drop(const char *tmp)
{
	char *path = g_build_filename(tmp, "dropped.txt", NULL);
	GListModel *ctls;
	GtkDropTarget *target = NULL;
	GSList *files;
	GdkFileList *list;
	GValue v = G_VALUE_INIT;
	gboolean ok = FALSE;

	g_file_set_contents(path, "dropped on the message list\n", -1, NULL);
	ctls = gtk_widget_observe_controllers(find("msg-scroller"));
	for (guint i = 0; i < g_list_model_get_n_items(ctls) && target == NULL; i++) {
		GtkEventController *c = g_list_model_get_item(ctls, i);

		if (GTK_IS_DROP_TARGET(c))
			target = GTK_DROP_TARGET(c);
		g_object_unref(c);
	}
	g_object_unref(ctls);
	REQUIRE(target != NULL, , "the message list takes drops");
	files = g_slist_prepend(NULL, g_file_new_for_path(path));
	list = gdk_file_list_new_from_list(files);
	g_value_init(&v, GDK_TYPE_FILE_LIST);
	g_value_take_boxed(&v, list);
	g_signal_emit_by_name(target, "drop", &v, 10.0, 10.0, &ok);
	CHECK(ok, "the drop is accepted");
	g_value_unset(&v);
	g_slist_free_full(files, g_object_unref);
	CHECK(spin_until(upload_done, NULL, WAIT_MS, "the upload"), "the dropped file is sent");
	CHECK(spin_until(peer_has_file, "dropped.txt", WAIT_MS, "the peer"),
	      "the peer gets the dropped file");
	g_free(path);
}

static void test_input_method(void)
{
	const char *committed = "输入法提交的中文：你好，世界 👋";
	GtkIMContext *im = composer_im();
	char *text;

	REQUIRE(im != NULL, , "the composer has an input method context");
	/* An input method composes: Enter is its (it commits), not a send */
	gtk_widget_grab_focus(find("composer-text"));
	g_signal_emit_by_name(find("composer-text"), "preedit-changed", "nihao");
	CHECK(!press_enter(), "Enter while composing is left to the input method");
	text = composer_text();
	CHECK(text[0] == '\0', "nothing was sent or typed by it (%s)", text);
	g_free(text);
	g_signal_emit_by_name(find("composer-text"), "preedit-changed", "");
	/* The input method commits: the text arrives in the composer intact, then Enter sends */
	g_signal_emit_by_name(im, "commit", committed);
	text = composer_text();
	CHECK(strcmp(text, committed) == 0, "the committed text is in the composer (%s)", text);
	g_free(text);
	CHECK(press_enter(), "Enter sends");
	CHECK(spin_until(peer_has_text, committed, WAIT_MS, "the peer"),
	      "the peer gets it intact: %s", committed);
}

int main(void)
{
	static const char *const args[] = { "--no-rate-limits", NULL };
	struct pierd *p;
	char gtk_user[HARNESS_NAME_MAX], peer_user[HARNESS_NAME_MAX], *tmp, *clip, *tone;
	json_t *ev;

	harness_watchdog(420);
	g_setenv("GTK_USE_PORTAL", "0", TRUE);
	tmp = gtkdrive_begin("media");
	/* A file dialog starts in the working directory: the test's own, not the build's. */
	if (g_chdir(tmp) != 0)
		CHECK(false, "into %s", tmp);
	seen = json_array();

	p = pierd_start(args);
	REQUIRE(p != NULL, harness_done(), "pierd starts");
	REQUIRE(gtkdrive_register(p, gtk_user, "gtk") && gtkdrive_register(p, peer_user, "peer"),
	        harness_done(), "register");
	peer = client_login(p, peer_user, HARNESS_PASSWORD);
	REQUIRE(peer != NULL, harness_done(), "the peer logs in");

	win = gtkdrive_window("org.pier.GtkMediaTest", gtkdrive_fill_pierd, p);
	REQUIRE(win != NULL, harness_done(), "the window opens");
	pw = pg_window_from(win);
	gtkdrive_login(win, gtk_user, HARNESS_PASSWORD, false);
	REQUIRE(gtkdrive_until_state(win, PG_SESSION_ONLINE, WAIT_MS, "login"),
	        harness_done(), "logged in");

	test_keyring(p, tmp, gtk_user);
	REQUIRE(win != NULL, harness_done(), "a window");
	gtk_widget_activate_action(GTK_WIDGET(win), "win.open", "s", "#lobby");
	spin(500);

	clip = g_build_filename(PIER_GTK_TEST_DATA, "clip.webm", NULL);
	tone = g_build_filename(PIER_GTK_TEST_DATA, "tone.wav", NULL);
	send_file(clip, "clip.webm");
	ev = peer_msg(NULL, "clip.webm");
	CHECK(g_strcmp0(jstr(ev, "kind"), "video") == 0, "sent as a video (%s)", jdump(ev));
	play("clip.webm", "video");
	send_file(tone, "tone.wav");
	ev = peer_msg(NULL, "tone.wav");
	CHECK(g_strcmp0(jstr(ev, "kind"), "audio") == 0, "sent as audio (%s)", jdump(ev));
	play("tone.wav", "audio");
	test_save(tmp);
	test_drop(tmp);
	test_input_method();

	pier_conn_close(peer);
	gtk_window_destroy(win);
	spin(200);
	CHECK(pierd_stop(p), "pierd stops cleanly");
	json_decref(seen);
	g_free(clip);
	g_free(tone);
	curl_global_cleanup();
	return harness_done();
}
