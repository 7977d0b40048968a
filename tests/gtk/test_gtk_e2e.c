/* test_gtk_e2e.c - end to end: pier-gtk (its real window, in this process, on a headless X
 * server: xvfb-run) against a real pierd and the real terminal client `pier` on a pty.
 *
 * Driven through GTK itself: widgets are found by name, text goes into entries and the text
 * view, buttons and window actions are activated; never pixel coordinates. It logs in (a
 * wrong password first: the report's status text), exchanges messages with the terminal both
 * ways in #lobby and privately, sends and receives an image (the thumbnail shows), then pierd
 * restarts under both clients while each types a message: after the reconnect every message
 * is there once, in the window, in the terminal and on the server. Screenshots of each
 * screen, light and dark, in the language of $LANGUAGE, go to $PIER_SCREENSHOTS.
 *
 * Both clients have end-to-end encryption (each is its user's first device): the private
 * messages and the private image between them are encrypted; test_gtk_e2ee.c looks at that
 * closer (safety numbers, the server's database, a second device).
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gtk/gtk.h>

#include "cliterm.h"
#include "gtkdrive.h"
#include "harness.h"
#include "pg_i18n.h"
#include "pg_window.h"

#define WAIT_MS            20000
#define RECONNECT_WAIT_MS  60000

static GtkWindow *win;
static struct pg_window *pw;
static const char *lang_tag;   /* "en" or "zh", for screenshot names */
static char *shots;

static GtkWidget *find(const char *name)
{
	return gtkdrive_need(GTK_WIDGET(win), name);
}

#define spin gtkdrive_spin
#define spin_until gtkdrive_until
#define find_in gtkdrive_find
#define find_label_in gtkdrive_find_label
#define toplevel_named gtkdrive_toplevel

static gboolean message_shown(gconstpointer text)
{
	return find_label_in(find_in(GTK_WIDGET(win), "msg-list"), "msg-text", text) != NULL;
}

/* A thumbnail is shown: a media button whose picture has its image. */
static gboolean find_thumb(GtkWidget *root)
{
	if (GTK_IS_PICTURE(root) && gtk_picture_get_paintable(GTK_PICTURE(root)) != NULL &&
	    gtk_widget_get_mapped(root))
		return TRUE;
	for (GtkWidget *c = gtk_widget_get_first_child(root); c != NULL;
	     c = gtk_widget_get_next_sibling(c))
		if (find_thumb(c))
			return TRUE;
	return FALSE;
}

static gboolean thumbnail_shown(gconstpointer ud)
{
	(void)ud;
	return find_thumb(find_in(GTK_WIDGET(win), "msg-list"));
}

static gboolean composer_empty(gconstpointer ud)
{
	GtkTextBuffer *buf = gtk_text_view_get_buffer(GTK_TEXT_VIEW(find_in(GTK_WIDGET(win),
	                                                                   "composer-text")));

	(void)ud;
	return gtk_text_buffer_get_char_count(buf) == 0;
}

/* Types text and activates the send button (a button's activation clicks it after a short
 * visual press: wait until the composer took the text). */
static void type_in_composer(const char *text)
{
	GtkWidget *tv = find("composer-text");

	gtk_text_buffer_set_text(gtk_text_view_get_buffer(GTK_TEXT_VIEW(tv)), text, -1);
	gtk_widget_activate(find("send-button"));
	CHECK(spin_until(composer_empty, NULL, WAIT_MS, "the send button"), "sent: %s", text);
}

static void screenshot(const char *screen)
{
	char *path;

	spin(400);
	path = g_strdup_printf("%s/gtk-%s-%s.png", shots, screen, lang_tag);
	CHECK(pg_window_screenshot(GTK_WIDGET(win), path), "screenshot %s", path);
	g_free(path);
}

/* Light, then dark, then light again. */
static void screenshots(const char *screen)
{
	char *dark = g_strdup_printf("%s-dark", screen);

	pg_window_set_look(pw, TRUE, PG_STYLE_LIGHT);
	screenshot(screen);
	pg_window_set_look(pw, TRUE, PG_STYLE_DARK);
	screenshot(dark);
	pg_window_set_look(pw, TRUE, PG_STYLE_LIGHT);
	g_free(dark);
}

/* ---- conditions ---- */

static gboolean login_status_is(gconstpointer text)
{
	GtkWidget *l = find_in(GTK_WIDGET(win), "login-status");

	return l != NULL && strcmp(gtk_label_get_text(GTK_LABEL(l)), text) == 0;
}

static gboolean user_online(gconstpointer user)
{
	char *with = g_strconcat("@", user, NULL);
	gboolean on = pg_conv_list_find(pg_session_online(pg_window_session(pw)), with, NULL) != NULL;

	g_free(with);
	return on;
}

static gboolean online_fetched(gconstpointer ud)
{
	(void)ud;
	return !pg_session_fetching_online(pg_window_session(pw));
}

static gboolean has_unread(gconstpointer with)
{
	PgConv *c = pg_conv_list_find(pg_session_conversations(pg_window_session(pw)), with, NULL);

	return c != NULL && c->unread > 0;
}

static gboolean upload_done(gconstpointer ud)
{
	(void)ud;
	return !pg_window_uploading(pw) && pg_session_outbox_count(pg_window_session(pw)) == 0;
}

static gboolean active_is(gconstpointer with)
{
	return g_strcmp0(pg_window_active(pw), with) == 0;
}

static gboolean uploading(gconstpointer ud)
{
	(void)ud;
	return pg_window_uploading(pw) || pg_session_outbox_count(pg_window_session(pw)) > 0;
}

/* The members popover's list holds both users (#lobby's members are every user). */
static gboolean members_listed(gconstpointer ud)
{
	GtkWidget *list = gtkdrive_find(GTK_WIDGET(gtk_menu_button_get_popover(GTK_MENU_BUTTON(
		gtkdrive_find(GTK_WIDGET(win), "members-button")))), "members-list");
	int rows = 0;

	(void)ud;
	for (GtkWidget *c = list != NULL ? gtk_widget_get_first_child(list) : NULL; c != NULL;
	     c = gtk_widget_get_next_sibling(c))
		rows++;
	return rows >= 2;
}

static gboolean viewer_open(gconstpointer ud)
{
	GtkWidget *v = toplevel_named("media-viewer");
	GtkWidget *pic = v != NULL ? gtk_window_get_child(GTK_WINDOW(v)) : NULL;

	(void)ud;
	return pic != NULL && GTK_IS_PICTURE(pic) && gtk_picture_get_paintable(GTK_PICTURE(pic));
}

/* How many messages of the store with hold text; and whether ids are strictly ascending. */
static int count_in_store(const char *with, const char *text, bool *ascending)
{
	PgMsgStore *st = pg_session_open(pg_window_session(pw), with);
	int n = 0;
	int64_t prev = 0;

	*ascending = true;
	for (guint i = 0; i < g_list_model_get_n_items(G_LIST_MODEL(st)); i++) {
		PgMsg *m = pg_msg_store_peek(st, i);

		if (strcmp(m->text, text) == 0)
			n++;
		if (!m->pending) {
			*ascending = *ascending && m->id > prev;
			prev = m->id;
		}
	}
	return n;
}

static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; p != NULL && (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* A small PNG at path. */
static void write_png(const char *path, guint32 rgba)
{
	GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, TRUE, 8, 64, 48);

	gdk_pixbuf_fill(pb, rgba);
	gdk_pixbuf_save(pb, path, "png", NULL, NULL);
	g_object_unref(pb);
}

int main(void)
{
	static const char *const args[] = { "--no-rate-limits", NULL };
	struct pierd *p;
	char gtk_user[HARNESS_NAME_MAX], cli_user[HARNESS_NAME_MAX], *tmp, *with_cli, *png_gtk,
	     *png_cli, *line, *http_url;
	struct pier_conn *c;
	struct term t;
	enum pier_lang lang;
	json_t *hist, *m;
	size_t i;
	int n_gtk = 0, n_cli = 0;
	guint notified;
	gboolean was_active;
	bool asc;

	harness_watchdog(420);
	tmp = gtkdrive_begin("e2e");
	lang = pg_i18n_lang();
	lang_tag = lang == PIER_LANG_ZH ? "zh" : "en";
	shots = gtkdrive_shots_dir();

	p = pierd_start(args);
	REQUIRE(p != NULL, harness_done(), "pierd starts");
	REQUIRE(gtkdrive_register(p, gtk_user, "gtk") && gtkdrive_register(p, cli_user, "term"),
	        harness_done(), "register");

	win = gtkdrive_window("org.pier.GtkTest", gtkdrive_fill_pierd, p);
	REQUIRE(win != NULL, harness_done(), "the window opens");
	pw = pg_window_from(win);
	spin(300);
	screenshots("login");

	/* A wrong password: the report's text, in the user's language. */
	gtk_editable_set_text(GTK_EDITABLE(find("login-user")), gtk_user);
	gtk_editable_set_text(GTK_EDITABLE(find("login-password")), "not-the-password");
	gtk_widget_activate(find("login-button"));
	CHECK(spin_until(login_status_is, pier_login_status_text(PIER_LOGIN_WRONG_PASSWORD, lang),
	                 WAIT_MS, "the wrong-password text"), "wrong password: %s",
	      pier_login_status_text(PIER_LOGIN_WRONG_PASSWORD, lang));
	screenshot("login-refused");
	gtk_editable_set_text(GTK_EDITABLE(find("login-password")), HARNESS_PASSWORD);
	gtk_widget_activate(find("login-button"));
	REQUIRE(gtkdrive_until_state(win, PG_SESSION_ONLINE, WAIT_MS, "login"),
	        harness_done(), "logged in");
	CHECK(login_status_is(pier_login_status_text(PIER_LOGIN_OK, lang)), "login text %s",
	      pier_login_status_text(PIER_LOGIN_OK, lang));
	CHECK(g_strcmp0(pg_window_active(pw), "#lobby") == 0, "#lobby is shown after login");

	/* The terminal client comes online: a stranger (#lobby only), so no presence; the
	 * sidebar's "Show everyone online" asks the server and lists it. */
	http_url = g_strdup_printf("http://127.0.0.1:%d", pierd_http_port(p));
	REQUIRE(term_start(&t, pierd_port_str(p), HARNESS_PASSWORD,
	                   ARGS("--no-color", "--user", cli_user, "--http-url", http_url)),
	        harness_done(), "pier starts");
	expect(&t, "#lobby> ", "the terminal is logged in");
	spin(500);
	CHECK(!user_online(cli_user), "a stranger's login is not pushed to the online list");
	CHECK(strcmp(gtk_button_get_label(GTK_BUTTON(find("online-refresh"))),
	             lang_tag[0] == 'z' ? "显示所有在线用户" : "Show everyone online") == 0,
	      "the button offers everyone online: %s",
	      gtk_button_get_label(GTK_BUTTON(find("online-refresh"))));
	for (int k = 0; k < 20 && !user_online(cli_user); k++) {
		/* "clicked" itself: activating a button emits it only after its press animation */
		g_signal_emit_by_name(find("online-refresh"), "clicked");
		spin_until(online_fetched, NULL, WAIT_MS, "the users pages");
		if (!user_online(cli_user))
			spin(200);
	}
	CHECK(user_online(cli_user), "the terminal user is listed once everyone online is asked for");
	CHECK(pg_session_online_total(pg_window_session(pw)) == 2 &&
	      strstr(gtk_label_get_text(GTK_LABEL(find("online-heading"))), "2") != NULL,
	      "the heading counts 2 online: %s", gtk_label_get_text(GTK_LABEL(find("online-heading"))));

	/* Room, both ways. */
	type_in_composer("hello from the desktop");
	CHECK(gtkdrive_until_sent(win, WAIT_MS, "sent"), "sent");
	CHECK(pg_window_notice(pw) == NULL, "no complaint (%s)", pg_window_notice(pw));
	expect(&t, "hello from the desktop", "the terminal gets the desktop's room message");
	type(&t, "hello from the terminal\r");
	CHECK(spin_until(message_shown, "hello from the terminal", WAIT_MS, "room message"),
	      "the window shows the terminal's room message");
	screenshots("room");

	/* /join creates and opens a room; the menu's "Leave this room" leaves it. */
	type_in_composer("/join #gtk-e2e");
	CHECK(spin_until(active_is, "#gtk-e2e", WAIT_MS, "the joined room"), "/join opens the room");
	CHECK(pg_conv_list_find(pg_session_conversations(pg_window_session(pw)), "#gtk-e2e", NULL),
	      "and lists it");
	gtk_widget_activate_action(GTK_WIDGET(win), "win.part", NULL);
	CHECK(spin_until(active_is, "#lobby", WAIT_MS, "#lobby again"), "leaving goes to #lobby");
	CHECK(!pg_conv_list_find(pg_session_conversations(pg_window_session(pw)), "#gtk-e2e", NULL),
	      "and the room is gone from the list");

	/* The room's members, from the header's button. */
	gtk_menu_button_popup(GTK_MENU_BUTTON(find("members-button")));
	CHECK(spin_until(members_listed, NULL, WAIT_MS, "the members"),
	      "the members popover lists both users");
	{
		/* A popover is a surface of its own: its own screenshot. */
		char *path = g_strdup_printf("%s/gtk-members-%s.png", shots, lang_tag);

		spin(300);
		CHECK(pg_window_screenshot(GTK_WIDGET(gtk_menu_button_get_popover(GTK_MENU_BUTTON(
		          find("members-button")))), path), "screenshot %s", path);
		g_free(path);
	}
	gtk_menu_button_popdown(GTK_MENU_BUTTON(find("members-button")));

	/* Every control has a name for screen readers (its own label, or a label it is
	 * labelled by, or its text). */
	{
		static const char *const controls[] = { "composer-text", "send-button",
			"attach-button", "join-entry", "conv-list", "online-list", "online-refresh", "msg-list",
			"main-menu", "offline-banner", "members-button" };

		for (size_t k = 0; k < G_N_ELEMENTS(controls); k++) {
			GtkWidget *w = find(controls[k]);

			CHECK(w != NULL && (gtk_test_accessible_has_property(GTK_ACCESSIBLE(w),
			                        GTK_ACCESSIBLE_PROPERTY_LABEL) ||
			                    gtk_test_accessible_has_relation(GTK_ACCESSIBLE(w),
			                        GTK_ACCESSIBLE_RELATION_LABELLED_BY)),
			      "%s has an accessible label", controls[k]);
		}
	}

	/* Private, both ways: text~user from the window, /msg from the terminal. */
	line = g_strdup_printf("a private word~%s", cli_user);
	type_in_composer(line);
	g_free(line);
	CHECK(gtkdrive_until_sent(win, WAIT_MS, "sent"), "private sent");
	expect(&t, "a private word", "the terminal gets the private message");
	/* Ctrl+K opens the quick switcher, which takes the focus from the main window. */
	gtk_widget_activate_action(GTK_WIDGET(win), "win.switcher", NULL);
	spin(300);
	notified = pg_window_notifications(pw);
	was_active = gtk_window_is_active(win);
	term_typef(&t, "/msg %s a private answer\r", gtk_user);
	with_cli = g_strconcat("@", cli_user, NULL);
	CHECK(spin_until(has_unread, with_cli, WAIT_MS, "unread private"),
	      "the private chat counts an unread message");
	/* A private message notifies while the window does not have the focus, and only then. */
	printf("# private message with the window %s: %u notification(s)\n",
	       was_active ? "focused" : "in the background", pg_window_notifications(pw) - notified);
	if (was_active == gtk_window_is_active(win))
		CHECK(pg_window_notifications(pw) == notified + (was_active ? 0 : 1),
		      "notified: %u (window %s)", pg_window_notifications(pw) - notified,
		      was_active ? "focused" : "in the background");
	/* The quick switcher finds it by a part of its name. */
	{
		GtkWidget *sw = toplevel_named("switcher");

		REQUIRE(sw != NULL, harness_done(), "the quick switcher opens");
		screenshot("switcher-behind");
		CHECK(pg_window_screenshot(sw, g_build_filename(shots, lang_tag[0] == 'z'
		                                                ? "gtk-switcher-zh.png"
		                                                : "gtk-switcher-en.png", NULL)),
		      "switcher screenshot");
		gtk_editable_set_text(GTK_EDITABLE(find_in(sw, "switcher-entry")), cli_user + 4);
		spin(200);
		g_signal_emit_by_name(find_in(sw, "switcher-entry"), "activate");
	}
	spin(200);
	CHECK(g_strcmp0(pg_window_active(pw), with_cli) == 0, "the switcher opened %s (%s)",
	      with_cli, pg_window_active(pw));
	CHECK(spin_until(message_shown, "a private answer", WAIT_MS, "private message"),
	      "the window shows the private answer");
	/* Read when shown in a focused window only; without a window manager (Xvfb) the focus
	 * may not come back from the switcher: then it must still count as unread. */
	if (gtk_window_is_active(win))
		CHECK(!has_unread(with_cli), "read once shown in the focused window");
	else
		CHECK(has_unread(with_cli), "shown in a window without the focus: still unread");
	screenshots("private");

	/* Alt+Up / Alt+Down move between conversations (the window's actions they are bound to). */
	gtk_widget_activate_action(GTK_WIDGET(win), "win.prev-conversation", NULL);
	CHECK(g_strcmp0(pg_window_active(pw), "#lobby") == 0, "Alt+Up: #lobby (%s)",
	      pg_window_active(pw));
	gtk_widget_activate_action(GTK_WIDGET(win), "win.next-conversation", NULL);
	CHECK(g_strcmp0(pg_window_active(pw), with_cli) == 0, "Alt+Down: back to %s (%s)",
	      with_cli, pg_window_active(pw));

	/* An image from the window (into the private chat) ... */
	png_gtk = g_build_filename(tmp, "desktop.png", NULL);
	png_cli = g_build_filename(tmp, "terminal.png", NULL);
	write_png(png_gtk, 0xc01c28ff);
	write_png(png_cli, 0x3584e4ff);
	pg_window_attach(pw, png_gtk);
	CHECK(spin_until(upload_done, NULL, WAIT_MS, "upload"), "uploaded and sent");
	CHECK(spin_until(thumbnail_shown, NULL, WAIT_MS, "own thumbnail"),
	      "the window shows the image it sent");
	expect(&t, "[image: desktop.png", "the terminal gets the image");
	/* A pasted image (Ctrl+V of a picture in the composer) is sent as a file too. */
	{
		GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, 32, 32);
		GdkTexture *tex;

		gdk_pixbuf_fill(pb, 0xe5a50aff);
		tex = gdk_texture_new_for_pixbuf(pb);
		gdk_clipboard_set_texture(gtk_widget_get_clipboard(find("composer-text")), tex);
		g_signal_emit_by_name(find("composer-text"), "paste-clipboard");
		CHECK(spin_until(uploading, NULL, WAIT_MS, "the paste's upload"), "a paste uploads");
		CHECK(spin_until(upload_done, NULL, WAIT_MS, "the paste's upload"), "and is sent");
		expect(&t, "[image: pasted-", "the terminal gets the pasted image");
		g_object_unref(tex);
		g_object_unref(pb);
	}

	/* ... and one from the terminal (into #lobby, its conversation). */
	term_typef(&t, "/send %s\r", png_cli);
	expect(&t, "[image: terminal.png", "the terminal sends its image");
	gtk_widget_activate_action(GTK_WIDGET(win), "win.open", "s", "#lobby");
	CHECK(g_strcmp0(pg_window_active(pw), "#lobby") == 0, "back in #lobby");
	CHECK(spin_until(thumbnail_shown, NULL, WAIT_MS, "thumbnail"),
	      "the window shows the terminal's image as a thumbnail");
	screenshots("image");
	/* A thumbnail opens the image full size in a window of its own. */
	{
		GtkWidget *media = find("msg-media");

		if (media != NULL)
			g_signal_emit_by_name(media, "clicked");
		CHECK(spin_until(viewer_open, NULL, WAIT_MS, "the image viewer"),
		      "the image opens full size");
		if (toplevel_named("media-viewer") != NULL)
			gtk_window_destroy(GTK_WINDOW(toplevel_named("media-viewer")));
	}

	/* pierd restarts; both sides type while it is down. */
	CHECK(pierd_stop(p), "pierd stops cleanly");
	CHECK(gtkdrive_until_state(win, PG_SESSION_OFFLINE, WAIT_MS, "offline"),
	      "the window goes offline");
	CHECK(gtk_widget_get_visible(find("offline-banner")), "and says so");
	type_in_composer("typed while the server was down");
	type(&t, "the terminal typed this meanwhile\r");
	screenshots("offline");
	REQUIRE(pierd_restart_same_port(p) == 0, harness_done(), "pierd restarts");
	CHECK(gtkdrive_until_sent(win, RECONNECT_WAIT_MS, "reconnect"),
	      "the window reconnects and sends its outbox");
	CHECK(!gtk_widget_get_visible(find("offline-banner")), "the banner goes");
	expect_within(&t, "typed while the server was down", "the terminal gets it",
	              RECONNECT_WAIT_MS);
	CHECK(spin_until(message_shown, "the terminal typed this meanwhile", RECONNECT_WAIT_MS,
	                 "the terminal's message"), "the window gets the terminal's message");
	spin(1500);   /* anything doubled would arrive by now */
	term_read(&t, 500);
	CHECK(count_in_store("#lobby", "typed while the server was down", &asc) == 1 && asc,
	      "shown once, in order, in the window");
	CHECK(count_in_store("#lobby", "the terminal typed this meanwhile", &asc) == 1 && asc,
	      "the terminal's shown once in the window");
	CHECK(count_in_store("#lobby", "hello from the terminal", &asc) == 1,
	      "earlier messages not doubled by the catch-up");
	CHECK(count_of(t.buf, "typed while the server was down") == 1,
	      "shown once in the terminal (%d)", count_of(t.buf, "typed while the server was down"));
	c = client_login(p, cli_user, HARNESS_PASSWORD);
	hist = c != NULL ? client_call(c, pier_req_history("#lobby", 0, 200)) : NULL;
	json_array_foreach(json_object_get(hist, "messages"), i, m) {
		n_gtk += g_strcmp0(jstr(m, "text"), "typed while the server was down") == 0;
		n_cli += g_strcmp0(jstr(m, "text"), "the terminal typed this meanwhile") == 0;
	}
	CHECK(n_gtk == 1 && n_cli == 1, "stored once each on the server (%d, %d)", n_gtk, n_cli);
	json_decref(hist);
	pier_conn_close(c);

	/* The next start logs in with the saved token, no password asked. */
	gtk_window_destroy(win);
	spin(200);
	win = gtkdrive_window("org.pier.GtkTest2", gtkdrive_fill_pierd, p);
	REQUIRE(win != NULL, harness_done(), "a second window opens");
	pw = pg_window_from(win);
	CHECK(gtkdrive_until_state(win, PG_SESSION_ONLINE, WAIT_MS, "token login"),
	      "the next start logs in by itself");
	CHECK(g_strcmp0(pg_session_user(pg_window_session(pw)), gtk_user) == 0, "as %s", gtk_user);
	/* Logging out forgets the token and the conversations, and shows the login page. */
	gtk_widget_activate_action(GTK_WIDGET(win), "win.logout", NULL);
	spin(300);
	CHECK(g_strcmp0(gtk_stack_get_visible_child_name(GTK_STACK(find("main-stack"))), "login") == 0,
	      "the login page after logging out");
	{
		char *session = g_build_filename(tmp, "pier-gtk", "session.json", NULL);

		CHECK(!g_file_test(session, G_FILE_TEST_EXISTS), "the token file is gone");
		g_free(session);
	}
	CHECK(g_list_model_get_n_items(G_LIST_MODEL(pg_session_conversations(
		pg_window_session(pw)))) == 0, "the conversations are forgotten");

	type(&t, "/quit\r");
	CHECK(term_finish(&t) == 0, "pier exits 0");
	term_free(&t);
	gtk_window_destroy(win);
	spin(200);
	CHECK(pierd_stop(p), "pierd stops cleanly");
	g_free(with_cli);
	g_free(http_url);
	g_free(png_gtk);
	g_free(png_cli);
	g_free(shots);
	curl_global_cleanup();
	return harness_done();
}
