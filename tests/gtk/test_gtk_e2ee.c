/* test_gtk_e2ee.c - end to end: pier-gtk's end-to-end encrypted private chats (its real
 * windows, in this process, on a headless X server) against a real pierd and the real
 * terminal client `pier` on a pty, the terminal WITH its own encryption (a device of its
 * user's).
 *
 * Driven through GTK: widgets found by name, window actions activated, never pixel
 * coordinates. pier-gtk's first device sets itself up; private text goes both ways encrypted
 * (the terminal marks it [e2ee], the window shows the lock); an image goes both ways
 * encrypted (the window shows the terminal's as a thumbnail decrypted in memory and opens it
 * full size); the safety number pier-gtk shows equals the terminal's /safety, and "verified"
 * sticks; the server's database (read with sqlite3) and media directory hold none of the
 * texts nor a PNG. Then a second pier-gtk device of the same user (its own data dir) logs in:
 * pending with a code, approved from the first window's devices window by that code, it
 * reads what the terminal sends next. Screenshots (light and dark, in $LANGUAGE) of the
 * encrypted chat, the safety number, the devices window and the pending banner go to
 * $PIER_SCREENSHOTS.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <sqlite3.h>

#include "cliterm.h"
#include "gtkdrive.h"
#include "harness.h"
#include "pg_e2ee.h"
#include "pg_i18n.h"
#include "pg_msgactions.h"
#include "pg_msgview.h"
#include "pg_window.h"

#define WAIT_MS 30000

#define find_label_in gtkdrive_find_label
#define toplevel_named gtkdrive_toplevel
#define row_around gtkdrive_row_around

static const char *lang_tag;
static char *shots;

/* ---- finding things ---- */

/* A mapped widget named name under root. */
static GtkWidget *find_mapped(GtkWidget *root, const char *name)
{
	if (root == NULL)
		return NULL;
	if (g_strcmp0(gtk_widget_get_name(root), name) == 0 && gtk_widget_get_mapped(root))
		return root;
	for (GtkWidget *c = gtk_widget_get_first_child(root); c != NULL;
	     c = gtk_widget_get_next_sibling(c)) {
		GtkWidget *found = find_mapped(c, name);

		if (found != NULL)
			return found;
	}
	return NULL;
}

struct shown { GtkWindow *win; const char *text; };

static gboolean message_shown(gconstpointer ud)
{
	const struct shown *s = ud;

	return find_label_in(gtkdrive_find(GTK_WIDGET(s->win), "msg-list"), "msg-text",
	                     s->text) != NULL;
}

/* Thumbnails shown in win: at least as many as ud says. */
static GtkWindow *thumb_win;

static int count_thumbs(GtkWidget *root)
{
	int n = GTK_IS_PICTURE(root) && gtk_picture_get_paintable(GTK_PICTURE(root)) != NULL &&
	        gtk_widget_get_mapped(root);

	for (GtkWidget *c = gtk_widget_get_first_child(root); c != NULL;
	     c = gtk_widget_get_next_sibling(c))
		n += count_thumbs(c);
	return n;
}

static gboolean thumbnails_shown(gconstpointer ud)
{
	return count_thumbs(gtkdrive_find(GTK_WIDGET(thumb_win), "msg-list")) >= GPOINTER_TO_INT(ud);
}

static gboolean viewer_open(gconstpointer ud)
{
	GtkWidget *v = toplevel_named("media-viewer");
	GtkWidget *pic = v != NULL ? gtk_window_get_child(GTK_WINDOW(v)) : NULL;

	(void)ud;
	return pic != NULL && GTK_IS_PICTURE(pic) && gtk_picture_get_paintable(GTK_PICTURE(pic));
}

/* ---- a message's menu (pg_msgactions) ---- */

static GtkWidget *row_of(GtkWindow *win, const char *text)
{
	return row_around(find_label_in(gtkdrive_find(GTK_WIDGET(win), "msg-list"), "msg-text",
	                                text));
}

static GtkWidget *button_in(GtkWidget *root, const char *name)
{
	if (root == NULL)
		return NULL;
	if (GTK_IS_BUTTON(root) && g_strcmp0(gtk_widget_get_name(root), name) == 0)
		return root;
	for (GtkWidget *c = gtk_widget_get_first_child(root); c != NULL;
	     c = gtk_widget_get_next_sibling(c)) {
		GtkWidget *found = button_in(c, name);

		if (found != NULL)
			return found;
	}
	return NULL;
}

static gboolean menu_open(gconstpointer win)
{
	GtkWidget *p = pg_msgactions_open_popover(pg_window_actions(pg_window_from((GtkWindow *)win)));

	return p != NULL && gtk_widget_get_mapped(p);
}

/* Opens the menu of the message with text and clicks item (menu-reply, menu-edit). */
static bool menu_click(GtkWindow *win, const char *text, const char *item)
{
	GtkWidget *row = row_of(win, text), *b = row != NULL ? button_in(row, "msg-actions") : NULL;

	if (!CHECK(b != NULL, "the message \"%s\" has its actions button", text))
		return false;
	g_signal_emit_by_name(b, "clicked");
	if (!CHECK(gtkdrive_until(menu_open, win, WAIT_MS, "the menu"), "its menu opens"))
		return false;
	b = button_in(pg_msgactions_open_popover(pg_window_actions(pg_window_from(win))), item);
	if (!CHECK(b != NULL, "the menu has %s", item))
		return false;
	g_signal_emit_by_name(b, "clicked");
	return true;
}

struct quoted { GtkWindow *win; const char *text, *quote; };

static gboolean quote_shown(gconstpointer ud)
{
	const struct quoted *q = ud;
	GtkWidget *row = row_of(q->win, q->text);

	return row != NULL && find_label_in(row, "msg-quote", q->quote) != NULL;
}

/* ---- conditions on a window's session ---- */

static struct pg_session *session_of(GtkWindow *w)
{
	return pg_window_session(pg_window_from(w));
}

struct want_state { GtkWindow *win; enum pg_e2ee_state st; };

static gboolean e2ee_state_is(gconstpointer ud)
{
	const struct want_state *w = ud;

	return pg_session_state(session_of(w->win)) == PG_SESSION_ONLINE &&
	       pg_e2ee_state(pg_session_e2ee(session_of(w->win))) == w->st;
}

static gboolean flushed(gconstpointer ud)
{
	struct pg_session *s = session_of((GtkWindow *)ud);

	return pg_session_outbox_count(s) == 0 && pg_e2ee_jobs(pg_session_e2ee(s)) == 0 &&
	       !pg_window_uploading(pg_window_from((GtkWindow *)ud));
}

static gboolean composer_empty(gconstpointer ud)
{
	GtkWidget *tv = gtkdrive_find(GTK_WIDGET(ud), "composer-text");

	return gtk_text_buffer_get_char_count(gtk_text_view_get_buffer(GTK_TEXT_VIEW(tv))) == 0;
}

static void type_in(GtkWindow *win, const char *text)
{
	GtkWidget *tv = gtkdrive_find(GTK_WIDGET(win), "composer-text");

	gtk_text_buffer_set_text(gtk_text_view_get_buffer(GTK_TEXT_VIEW(tv)), text, -1);
	gtk_widget_activate(gtkdrive_find(GTK_WIDGET(win), "send-button"));
	CHECK(gtkdrive_until(composer_empty, win, WAIT_MS, "the send button"), "typed: %s", text);
}

static gboolean safety_known(gconstpointer ud)
{
	GtkWidget *w = toplevel_named("e2ee-safety");
	GtkWidget *l = w != NULL ? gtkdrive_find(w, "safety-number") : NULL;

	(void)ud;
	return l != NULL && strlen(gtk_label_get_text(GTK_LABEL(l))) >= 60;
}

static gboolean approve_offered(gconstpointer code)
{
	GtkWidget *w = toplevel_named("e2ee-devices");

	return w != NULL && find_mapped(w, "device-approve") != NULL &&
	       find_label_in(w, "device-info", code) != NULL;
}

static gboolean approve_offered_named(gconstpointer name)
{
	GtkWidget *w = toplevel_named("e2ee-devices");

	return w != NULL && find_label_in(w, "device-info", name) != NULL;
}

static gboolean device_gone(gconstpointer name)
{
	return !approve_offered_named(name);
}

static gboolean banner_gone(gconstpointer win)
{
	return find_mapped(GTK_WIDGET(win), "e2ee-banner") == NULL;
}

static gboolean banner_says(gconstpointer ud)
{
	const struct shown *s = ud;

	return find_label_in(GTK_WIDGET(s->win), "e2ee-banner-text", s->text) != NULL;
}

static int unread_of(GtkWindow *win, const char *with)
{
	PgConv *c = pg_conv_list_find(pg_session_conversations(session_of(win)), with, NULL);

	return c != NULL ? c->unread : -1;
}

static gconstpointer unread_win;

static gboolean has_unread(gconstpointer with)
{
	return unread_of((GtkWindow *)unread_win, with) > 0;
}

/* ---- screenshots ---- */

static void shot_of(GtkWidget *w, const char *screen)
{
	char *path = g_strdup_printf("%s/gtk-%s-%s.png", shots, screen, lang_tag);
	bool ok = false;

	/* a snapshot taken while GTK is between frames may come out empty: a frame later, again */
	for (int i = 0; i < 3 && !ok; i++) {
		gtkdrive_spin(400);
		ok = pg_window_screenshot(w, path);
	}
	CHECK(ok, "screenshot %s", path);
	g_free(path);
}

/* w light, then dark (win's look), then light again. */
static void shots_of(GtkWindow *win, GtkWidget *w, const char *screen)
{
	char *dark = g_strdup_printf("%s-dark", screen);

	pg_window_set_look(pg_window_from(win), TRUE, PG_STYLE_LIGHT);
	shot_of(w, screen);
	pg_window_set_look(pg_window_from(win), TRUE, PG_STYLE_DARK);
	shot_of(w, dark);
	pg_window_set_look(pg_window_from(win), TRUE, PG_STYLE_LIGHT);
	g_free(dark);
}

/* ---- the rest ---- */

struct fill_ud { struct pierd *p; const char *data_dir; };

static void fill(struct pg_settings *st, void *ud)
{
	struct fill_ud *f = ud;

	gtkdrive_fill_pierd(st, f->p);
	if (f->data_dir != NULL) {
		g_free(st->data_dir);
		st->data_dir = g_strdup(f->data_dir);
	}
}

static void write_png(const char *path, guint32 rgba)
{
	GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, TRUE, 8, 64, 48);

	gdk_pixbuf_fill(pb, rgba);
	gdk_pixbuf_save(pb, path, "png", NULL, NULL);
	g_object_unref(pb);
}

/* The 60 digits after "Safety number with" in the terminal's output: the first 12 groups
 * of exactly 5 digits (the lines also carry their time, which is no such group). */
static bool term_safety(const struct term *t, size_t from, char out[61])
{
	const char *p = strstr(t->buf + from, "Safety number with");
	size_t n = 0;

	if (p != NULL)
		p = strchr(p, '\n');
	while (p != NULL && *p != '\0' && n < 60) {
		size_t run = 0;

		while (p[run] >= '0' && p[run] <= '9')
			run++;
		if (run == 5 && (p[5] == ' ' || p[5] == '\r' || p[5] == '\n')) {
			memcpy(out + n, p, 5);
			n += 5;
		}
		p += run > 0 ? run : 1;
	}
	out[n] = '\0';
	return n == 60;
}

static void digits_of(const char *s, char out[61])
{
	size_t n = 0;

	for (; *s != '\0' && n < 60; s++)
		if (*s >= '0' && *s <= '9')
			out[n++] = *s;
	out[n] = '\0';
}

/* Rows of the server's messages whose text holds needle (sqlite3 on pier.db). */
static int db_rows_with(struct pierd *p, const char *needle)
{
	char *db = g_build_filename(pierd_dir(p), "pier.db", NULL), *like;
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int n = -1;

	like = g_strdup_printf("%%%s%%", needle);
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_busy_timeout(h, 5000) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, "SELECT count(*) FROM messages WHERE text LIKE ?1", -1, &st,
	                       NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, like, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	g_free(like);
	g_free(db);
	return n;
}

/* Private messages on the server (so that 0 rows above means something). */
static int db_private_rows(struct pierd *p)
{
	char *db = g_build_filename(pierd_dir(p), "pier.db", NULL);
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int n = -1;

	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_busy_timeout(h, 5000) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, "SELECT count(*) FROM messages WHERE recipient_id IS NOT NULL",
	                       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	g_free(db);
	return n;
}

/* Files under dir (recursively) that hold needle (len bytes). */
static int files_holding(const char *dir, const char *needle, size_t len)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;
	int n = 0;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		char *path = g_build_filename(dir, name, NULL), *data = NULL;
		gsize size = 0;

		if (g_file_test(path, G_FILE_TEST_IS_DIR))
			n += files_holding(path, needle, len);
		else if (g_file_get_contents(path, &data, &size, NULL))
			for (gsize i = 0; i + len <= size; i++)
				if (memcmp(data + i, needle, len) == 0) {
					n++;
					break;
				}
		g_free(data);
		g_free(path);
	}
	if (d != NULL)
		g_dir_close(d);
	return n;
}

int main(void)
{
	static const char *const args[] = { "--no-rate-limits", NULL };
	struct pierd *p;
	char gtk_user[HARNESS_NAME_MAX], cli_user[HARNESS_NAME_MAX], *tmp, *with_cli, *with_gtk,
	     *png_gtk, *png_cli, *http_url, *line, *cli_data, *second_dir;
	char code[10], gtk_safety[61], cli_safety[61], number[80];
	struct fill_ud f1, f2;
	GtkWindow *win, *win2;
	struct term t, t2;
	bool verified = false;
	gint64 t0;

	harness_watchdog(420);
	tmp = gtkdrive_begin("e2ee");
	lang_tag = pg_i18n_lang() == PIER_LANG_ZH ? "zh" : "en";
	shots = gtkdrive_shots_dir();
	cli_data = g_build_filename(tmp, "cli", NULL);
	g_setenv("PIER_CLI_DATA", cli_data, TRUE);
	second_dir = g_build_filename(tmp, "second-device", NULL);

	p = pierd_start(args);
	REQUIRE(p != NULL, harness_done(), "pierd starts");
	REQUIRE(gtkdrive_register(p, gtk_user, "gtk") && gtkdrive_register(p, cli_user, "term"),
	        harness_done(), "register");
	with_cli = g_strconcat("@", cli_user, NULL);
	with_gtk = g_strconcat("@", gtk_user, NULL);

	/* pier-gtk's first device: it makes the account key by itself */
	f1 = (struct fill_ud){ .p = p };
	win = gtkdrive_window("org.pier.GtkE2ee", fill, &f1);
	REQUIRE(win != NULL, harness_done(), "the window opens");
	t0 = g_get_monotonic_time();
	gtkdrive_login(win, gtk_user, HARNESS_PASSWORD, false);
	REQUIRE(gtkdrive_until(e2ee_state_is, &(struct want_state){ win, PG_E2EE_ACTIVE }, WAIT_MS,
	                       "the first device"), harness_done(),
	        "pier-gtk logs in and its first device is approved (active)");
	printf("# figure: login to an active first device: %lld ms\n",
	       (long long)(g_get_monotonic_time() - t0) / 1000);
	{
		char *dir = pg_e2ee_dir(pg_session_data_dir(session_of(win)), "127.0.0.1",
		                        pierd_port_str(p), gtk_user);
		char *dev = g_build_filename(dir, "device.json", NULL);
		GStatBuf st;

		CHECK(g_stat(dev, &st) == 0 && (st.st_mode & 0777) == 0600,
		      "the keys are in the user's data dir, mode 0600 (%o)", st.st_mode & 0777);
		CHECK(g_stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700, "in a 0700 directory");
		g_stat(dev, &st);
		printf("# figure: device.json of a new device: %lld bytes\n", (long long)st.st_size);
		g_free(dev);
		g_free(dir);
	}

	/* the terminal with its own device */
	http_url = g_strdup_printf("http://127.0.0.1:%d", pierd_http_port(p));
	REQUIRE(term_start(&t, pierd_port_str(p), HARNESS_PASSWORD,
	                   ARGS("--no-color", "--user", cli_user, "--http-url", http_url)),
	        harness_done(), "pier starts (with end-to-end encryption)");
	expect(&t, "End-to-end encryption is on", "the terminal's first device is set up");

	/* text, both ways */
	gtk_widget_activate_action(GTK_WIDGET(win), "win.open", "s", with_cli);
	t0 = g_get_monotonic_time();
	type_in(win, "secret from the desktop");
	CHECK(gtkdrive_until(flushed, win, WAIT_MS, "the encrypted send"), "sent");
	line = g_strdup_printf("[e2ee] %s -> %s: secret from the desktop", gtk_user, cli_user);
	expect(&t, line, "the terminal decrypts the window's message (marked [e2ee])");
	printf("# figure: first encrypted message (keys fetched, session made) typed to shown in "
	       "the terminal: %lld ms\n", (long long)(g_get_monotonic_time() - t0) / 1000);
	g_free(line);
	CHECK(pg_window_notice(pg_window_from(win)) == NULL ||
	      strstr(pg_window_notice(pg_window_from(win)), "Not sent") == NULL,
	      "no complaint (%s)", pg_window_notice(pg_window_from(win)));
	term_typef(&t, "/msg %s secret from the terminal\r", gtk_user);
	CHECK(gtkdrive_until(message_shown, &(struct shown){ win, "secret from the terminal" },
	                     WAIT_MS, "the terminal's message"),
	      "the window decrypts the terminal's message");
	CHECK(find_mapped(gtkdrive_find(GTK_WIDGET(win), "msg-list"), "msg-lock") != NULL,
	      "encrypted messages carry the lock");
	CHECK(find_mapped(GTK_WIDGET(win), "conv-lock") != NULL,
	      "and so does the conversation's title");

	/* a reply and an edit in the encrypted chat (the message menu): both go encrypted */
	if (menu_click(win, "secret from the terminal", "menu-reply")) {
		type_in(win, "an encrypted reply");
		expect(&t, "an encrypted reply", "the terminal reads the encrypted reply");
		CHECK(gtkdrive_until(quote_shown, &(struct quoted){ win, "an encrypted reply",
		                     "secret from the terminal" }, WAIT_MS, "the quote"),
		      "the window quotes the message it answers, from what it decrypted");
	}
	if (menu_click(win, "secret from the desktop", "menu-edit")) {
		type_in(win, "secret from the desktop, edited");
		expect(&t, "secret from the desktop, edited", "the terminal reads the encrypted edit");
		CHECK(gtkdrive_until(message_shown, &(struct shown){ win,
		                     "secret from the desktop, edited" }, WAIT_MS, "the edit"),
		      "the window shows the edited text");
	}
	CHECK(pg_window_notice(pg_window_from(win)) == NULL ||
	      strstr(pg_window_notice(pg_window_from(win)), "e2ee") == NULL,
	      "no refusal (%s)", pg_window_notice(pg_window_from(win)));

	/* an image, both ways */
	png_gtk = g_build_filename(tmp, "desktop.png", NULL);
	png_cli = g_build_filename(tmp, "terminal.png", NULL);
	write_png(png_gtk, 0xc01c28ff);
	write_png(png_cli, 0x3584e4ff);
	t0 = g_get_monotonic_time();
	pg_window_attach(pg_window_from(win), png_gtk);
	CHECK(gtkdrive_until(flushed, win, WAIT_MS, "the encrypted upload"), "uploaded and sent");
	expect(&t, "[image: desktop.png", "the terminal gets the encrypted image");
	{
		/* the file's key waited in uploads.json (0600) until its send was stored, then went */
		char *dir = pg_e2ee_dir(pg_session_data_dir(session_of(win)), "127.0.0.1",
		                        pierd_port_str(p), gtk_user);
		char *up = g_build_filename(dir, "uploads.json", NULL);
		json_t *j = json_load_file(up, 0, NULL);
		GStatBuf st;

		CHECK(g_stat(up, &st) == 0 && (st.st_mode & 0777) == 0600 && json_is_object(j) &&
		      json_object_size(j) == 0, "uploads.json: 0600, and the sent file's key is gone");
		json_decref(j);
		g_free(up);
		g_free(dir);
	}
	printf("# figure: encrypted image attached to shown in the terminal: %lld ms\n",
	       (long long)(g_get_monotonic_time() - t0) / 1000);
	term_typef(&t, "/switch %s\r", with_gtk);
	term_typef(&t, "/send %s\r", png_cli);
	expect(&t, "[image: terminal.png", "the terminal sends an encrypted image");
	thumb_win = win;
	CHECK(gtkdrive_until(thumbnails_shown, GINT_TO_POINTER(2), WAIT_MS, "both thumbnails"),
	      "the window shows both images, decrypted in memory");
	{
		GtkWidget *media = find_mapped(gtkdrive_find(GTK_WIDGET(win), "msg-list"), "msg-media");

		if (media != NULL)
			g_signal_emit_by_name(media, "clicked");
		CHECK(gtkdrive_until(viewer_open, NULL, WAIT_MS, "the image viewer"),
		      "an encrypted image opens full size");
		if (toplevel_named("media-viewer") != NULL)
			gtk_window_destroy(GTK_WINDOW(toplevel_named("media-viewer")));
	}
	shots_of(win, GTK_WIDGET(win), "e2ee-chat");

	/* the safety number: the same digits as the terminal's /safety */
	gtk_widget_activate_action(GTK_WIDGET(win), "win.e2ee-safety", NULL);
	CHECK(gtkdrive_until(safety_known, NULL, WAIT_MS, "the safety number"),
	      "the safety number window shows the number");
	if (toplevel_named("e2ee-safety") != NULL) {
		GtkWidget *sw = toplevel_named("e2ee-safety");
		size_t from = t.len;

		digits_of(gtk_label_get_text(GTK_LABEL(gtkdrive_find(sw, "safety-number"))), gtk_safety);
		term_typef(&t, "/safety %s\r", gtk_user);
		expect(&t, "Not verified", "the terminal's safety screen");
		CHECK(term_safety(&t, from, cli_safety) && strcmp(gtk_safety, cli_safety) == 0,
		      "the same 60 digits in pier-gtk and the terminal (%s / %s)", gtk_safety,
		      cli_safety);
		shots_of(win, sw, "e2ee-safety");
		gtk_check_button_set_active(GTK_CHECK_BUTTON(gtkdrive_find(sw, "verify-button")), TRUE);
		gtkdrive_spin(100);
		CHECK(pg_e2ee_safety(pg_session_e2ee(session_of(win)), with_cli, number, &verified) &&
		      verified, "marked verified");
		gtk_window_destroy(GTK_WINDOW(sw));
	}

	/* the terminal's user adds a device (approved by code from the first terminal): the
	 * window's next send, encrypted for the devices it knew, is refused (devices_changed),
	 * encrypted again for the new set, and read on the new device; the window says so */
	{
		char *cli2 = g_build_filename(tmp, "cli-second", NULL), tcode[10] = "", *want;
		const char *at;

		g_setenv("PIER_CLI_DATA", cli2, TRUE);
		REQUIRE(term_start(&t2, pierd_port_str(p), HARNESS_PASSWORD,
		                   ARGS("--no-color", "--user", cli_user, "--http-url", http_url)),
		        harness_done(), "a second terminal device starts");
		g_setenv("PIER_CLI_DATA", cli_data, TRUE);
		expect(&t2, "Its code: ", "the terminal's new device shows its code");
		term_read(&t2, 300);
		at = strstr(t2.buf, "Its code: ");
		if (at != NULL)
			g_strlcpy(tcode, at + 10, sizeof tcode);
		term_typef(&t, "/approve %s\r", tcode);
		expect(&t, "approved.", "approved from the first terminal");
		expect(&t2, "was approved", "the terminal's second device is active");
		type_in(win, "to both terminals");
		CHECK(gtkdrive_until(flushed, win, WAIT_MS, "the send"), "sent");
		expect(&t, "to both terminals", "the first terminal reads it");
		expect(&t2, "to both terminals", "the new terminal device reads it: the window "
		       "encrypted it again for the new device set");
		want = g_strdup_printf(_("%s added a device (now %u). Messages to them are encrypted for "
		                         "it too; their safety number is the same."), cli_user, 2u);
		CHECK(g_strcmp0(pg_window_notice(pg_window_from(win)), want) == 0,
		      "the window says the contact added a device (%s)",
		      pg_window_notice(pg_window_from(win)));
		g_free(want);
		g_free(cli2);
	}

	/* the server holds none of it */
	CHECK(db_private_rows(p) >= 4, "the server stored the private messages (%d)",
	      db_private_rows(p));
	CHECK(db_rows_with(p, "secret from") == 0, "no plaintext of them in pier.db's messages (%d)",
	      db_rows_with(p, "secret from"));
	{
		char *db = g_build_filename(pierd_dir(p), "pier.db", NULL), *data = NULL;
		char *wal = g_strconcat(db, "-wal", NULL);
		char *media = g_build_filename(pierd_dir(p), "media", NULL);
		gsize len = 0;
		bool found = false;

		for (int k = 0; k < 2; k++) {
			if (g_file_get_contents(k == 0 ? db : wal, &data, &len, NULL))
				for (gsize i = 0; i + 11 <= len && !found; i++)
					found = memcmp(data + i, "secret from", 11) == 0;
			g_free(data);
			data = NULL;
		}
		CHECK(!found, "nor anywhere in pier.db and its WAL");
		CHECK(files_holding(media, "\x89PNG", 4) == 0 && files_holding(media, "desktop.png", 11)
		      == 0, "the media directory holds no PNG and no file name: ciphertext only");
		g_free(db);
		g_free(wal);
		g_free(media);
	}

	/* a second pier-gtk device of the same user: pending, approved by its code */
	f2 = (struct fill_ud){ .p = p, .data_dir = second_dir };
	win2 = gtkdrive_window("org.pier.GtkE2ee2", fill, &f2);
	REQUIRE(win2 != NULL, harness_done(), "a second window opens");
	gtkdrive_login(win2, gtk_user, HARNESS_PASSWORD, false);
	REQUIRE(gtkdrive_until(e2ee_state_is, &(struct want_state){ win2, PG_E2EE_PENDING }, WAIT_MS,
	                       "the second device"), harness_done(), "the second device is pending");
	REQUIRE(pg_e2ee_code(pg_session_e2ee(session_of(win2)), code), harness_done(),
	        "it has a code");
	CHECK(gtkdrive_until(banner_says, &(struct shown){ win2, code }, WAIT_MS, "the code"),
	      "its banner shows its code %s", code);
	/* not approved yet: earlier messages are there, as on the other devices (no error) */
	gtk_widget_activate_action(GTK_WIDGET(win2), "win.open", "s", with_cli);
	CHECK(gtkdrive_until(message_shown, &(struct shown){ win2, _("(end-to-end encrypted: not "
	                     "readable on this device; it is on your other devices)") }, WAIT_MS,
	                     "the placeholder"),
	      "the pending device shows encrypted messages as on the other devices");
	CHECK(!message_shown(&(struct shown){ win2, "secret from" }), "and not their text");
	shots_of(win2, GTK_WIDGET(win2), "e2ee-pending");
	CHECK(gtkdrive_until(banner_says, &(struct shown){ win, "" }, WAIT_MS, "the first's banner")
	      && pg_e2ee_pending_count(pg_session_e2ee(session_of(win))) == 1,
	      "the first device says a device waits for approval");
	gtk_widget_activate_action(GTK_WIDGET(win), "win.e2ee-devices", NULL);
	CHECK(gtkdrive_until(approve_offered, code, WAIT_MS, "the pending device"),
	      "the devices window lists the pending device with the same code %s", code);
	if (toplevel_named("e2ee-devices") != NULL) {
		GtkWidget *dw = toplevel_named("e2ee-devices");

		shots_of(win, dw, "e2ee-devices");
		/* every control of it has a name for screen readers */
		{
			static const char *const controls[] = { "approve-code", "approve-button",
				"device-approve", "device-rename", "device-list" };

			for (size_t k = 0; k < G_N_ELEMENTS(controls); k++) {
				GtkWidget *c = find_mapped(dw, controls[k]);

				CHECK(c != NULL && gtk_test_accessible_has_property(GTK_ACCESSIBLE(c),
				                                                    GTK_ACCESSIBLE_PROPERTY_LABEL),
				      "%s has an accessible label", controls[k]);
			}
			CHECK(gtk_test_accessible_has_property(GTK_ACCESSIBLE(gtkdrive_find(GTK_WIDGET(win),
			          "conv-lock")), GTK_ACCESSIBLE_PROPERTY_LABEL), "the lock says what it is");
		}
		t0 = g_get_monotonic_time();
		g_signal_emit_by_name(find_mapped(dw, "device-approve"), "clicked");
	}
	CHECK(gtkdrive_until(e2ee_state_is, &(struct want_state){ win2, PG_E2EE_ACTIVE }, WAIT_MS,
	                     "the approval"), "approved from the first window: the second is active");
	printf("# figure: approve clicked to the second device active: %lld ms\n",
	       (long long)(g_get_monotonic_time() - t0) / 1000);
	/* the history came with the grant: what was sent before it existed is readable now */
	CHECK(gtkdrive_until(message_shown, &(struct shown){ win2, "secret from the terminal" },
	                     WAIT_MS, "the history"),
	      "the second device got the earlier messages from the first (history transfer)");
	{
		char *dir = pg_e2ee_dir(pg_session_data_dir(session_of(win)), "127.0.0.1",
		                        pierd_port_str(p), gtk_user);
		char *out = g_build_filename(dir, "history-out.json", NULL);

		CHECK(!g_file_test(out, G_FILE_TEST_EXISTS), "the plaintext export was removed");
		g_free(out);
		g_free(dir);
	}
	term_typef(&t, "/msg %s after the approval\r", gtk_user);
	CHECK(gtkdrive_until(message_shown, &(struct shown){ win2, "after the approval" }, WAIT_MS,
	                     "the second device"), "the second device reads the new message");
	shots_of(win2, GTK_WIDGET(win2), "e2ee-second-device");
	pg_msgview_scroll_to_bottom(pg_window_view(pg_window_from(win)));
	CHECK(gtkdrive_until(message_shown, &(struct shown){ win, "after the approval" }, WAIT_MS,
	                     "the first device"), "and so does the first");
	/* and it writes: the terminal and the first window read it */
	type_in(win2, "from the second desktop");
	CHECK(gtkdrive_until(flushed, win2, WAIT_MS, "the second's send"), "sent from the second");
	expect(&t, "from the second desktop", "the terminal reads the second device's message");
	CHECK(gtkdrive_until(message_shown, &(struct shown){ win, "from the second desktop" },
	                     WAIT_MS, "the own copy"), "the first device reads its own user's copy");
	if (toplevel_named("e2ee-devices") != NULL) {
		GtkWidget *dw = toplevel_named("e2ee-devices");

		CHECK(find_mapped(dw, "device-approve") == NULL, "nothing waits for approval any more");
		shots_of(win, dw, "e2ee-devices-two");
	}
	/* rename the second device from the first, then remove it: it is told and stops */
	{
		char id2[24];
		GtkWidget *dw = toplevel_named("e2ee-devices"), *row, *entry;

		pg_e2ee_device_id(pg_session_e2ee(session_of(win2)), id2);
		row = dw != NULL ? find_label_in(dw, "device-info", id2) : NULL;
		row = row != NULL ? gtk_widget_get_parent(row) : NULL;
		entry = row != NULL ? find_mapped(row, "device-rename") : NULL;
		REQUIRE(entry != NULL, harness_done(), "the second device's row can rename it");
		gtk_editable_set_text(GTK_EDITABLE(entry), "laptop two");
		g_signal_emit_by_name(entry, "activate");
		CHECK(gtkdrive_until(approve_offered_named, "laptop two", WAIT_MS, "the new name"),
		      "renamed: the signed list has the new name");
		row = find_label_in(toplevel_named("e2ee-devices"), "device-info", "laptop two");
		row = row != NULL ? gtk_widget_get_parent(row) : NULL;
		REQUIRE(row != NULL && find_mapped(row, "device-remove") != NULL, harness_done(),
		        "the second device's row can remove it");
		g_signal_emit_by_name(find_mapped(row, "device-remove"), "clicked");
		CHECK(gtkdrive_until(e2ee_state_is, &(struct want_state){ win2, PG_E2EE_REVOKED },
		                     WAIT_MS, "the removal"), "removed: the second device is revoked (%s)",
		      pg_window_notice(pg_window_from(win)));
		CHECK(gtkdrive_until(device_gone, "laptop two", WAIT_MS, "the list"),
		      "and gone from the list");
		gtk_window_destroy(GTK_WINDOW(toplevel_named("e2ee-devices")));
	}

	/* away and back: a message that came meanwhile is pushed at the login as a placeholder
	 * (counted unread once), then opened from the device's queue: counted once, not twice */
	{
		struct pier_conn *c;
		json_t *un, *cv;
		size_t k;
		int server_unread = -1;

		gtk_widget_activate_action(GTK_WIDGET(win), "win.open", "s", "#lobby");
		gtk_widget_activate_action(GTK_WIDGET(win), "win.logout", NULL);
		gtkdrive_spin(300);
		term_typef(&t, "/msg %s while you were away\r", gtk_user);
		expect(&t, "while you were away", "the terminal sends while the window is away");
		gtkdrive_login(win, gtk_user, HARNESS_PASSWORD, false);
		CHECK(gtkdrive_until(e2ee_state_is, &(struct want_state){ win, PG_E2EE_ACTIVE },
		                     WAIT_MS, "the login"), "back: the same device, active");
		unread_win = win;
		CHECK(gtkdrive_until(has_unread, with_cli, WAIT_MS, "unread"), "the chat has unread");
		gtkdrive_spin(1500);   /* the queue's envelopes and the unread reply, in any order */
		c = client_login(p, gtk_user, HARNESS_PASSWORD);
		un = c != NULL ? client_call(c, pier_req_unread(NULL, 0)) : NULL;
		json_array_foreach(json_object_get(un, "conversations"), k, cv)
			if (g_ascii_strcasecmp(json_string_value(json_object_get(cv, "with")),
			                       with_cli) == 0)
				server_unread = (int)json_integer_value(json_object_get(cv, "unread"));
		json_decref(un);
		pier_conn_close(c);
		CHECK(server_unread > 0 && unread_of(win, with_cli) == server_unread,
		      "the window counts %d unread, as the server (%d): the envelope filled in the "
		      "placeholder, it was not counted again", unread_of(win, with_cli), server_unread);
		gtk_widget_activate_action(GTK_WIDGET(win), "win.open", "s", with_cli);
		CHECK(gtkdrive_until(message_shown, &(struct shown){ win, "while you were away" },
		                     WAIT_MS, "the message"), "and it is readable");
	}

	/* every device lost: a fresh pier-gtk resets the identity (a password login); the old
	 * first device is revoked, the terminal says the safety number changed, and the new
	 * number differs */
	{
		char *third = g_build_filename(tmp, "third-device", NULL), after[80];
		struct fill_ud f3 = { .p = p, .data_dir = third };
		GtkWindow *win3 = gtkdrive_window("org.pier.GtkE2ee3", fill, &f3);
		GtkWidget *dw, *dlg;

		REQUIRE(win3 != NULL, harness_done(), "a third window opens");
		gtkdrive_login(win3, gtk_user, HARNESS_PASSWORD, false);
		REQUIRE(gtkdrive_until(e2ee_state_is, &(struct want_state){ win3, PG_E2EE_PENDING },
		                       WAIT_MS, "the third device"), harness_done(), "pending");
		gtk_widget_activate_action(GTK_WIDGET(win3), "win.e2ee-devices", NULL);
		dw = toplevel_named("e2ee-devices");
		REQUIRE(dw != NULL && find_mapped(dw, "reset-button") != NULL, harness_done(),
		        "a pending device offers the reset");
		g_signal_emit_by_name(find_mapped(dw, "reset-button"), "clicked");
		gtkdrive_spin(200);
		dlg = toplevel_named("reset-dialog");
		REQUIRE(dlg != NULL, harness_done(), "the reset asks first");
		shot_of(dlg, "e2ee-reset");
		gtk_dialog_response(GTK_DIALOG(dlg), GTK_RESPONSE_ACCEPT);
		CHECK(gtkdrive_until(e2ee_state_is, &(struct want_state){ win3, PG_E2EE_ACTIVE },
		                     WAIT_MS, "the reset"), "reset: the new device is the only one");
		CHECK(gtkdrive_until(e2ee_state_is, &(struct want_state){ win, PG_E2EE_REVOKED },
		                     WAIT_MS, "the old device"), "the old first device is revoked");
		t.mark = t.len;
		term_typef(&t, "/msg %s after the reset\r", gtk_user);
		expect(&t, "safety number changed", "the terminal says the safety number changed");
		gtk_widget_activate_action(GTK_WIDGET(win3), "win.open", "s", with_cli);
		CHECK(gtkdrive_until(message_shown, &(struct shown){ win3, "after the reset" },
		                     WAIT_MS, "the message"), "the new identity reads it");
		gtk_widget_activate_action(GTK_WIDGET(win3), "win.e2ee-safety", NULL);
		CHECK(gtkdrive_until(safety_known, NULL, WAIT_MS, "the new number"), "a new number");
		if (toplevel_named("e2ee-safety") != NULL) {
			digits_of(gtk_label_get_text(GTK_LABEL(gtkdrive_find(toplevel_named("e2ee-safety"),
			          "safety-number"))), after);
			CHECK(strlen(after) == 60 && strcmp(after, gtk_safety) != 0,
			      "the safety number changed with the identity");
			gtk_window_destroy(GTK_WINDOW(toplevel_named("e2ee-safety")));
		}
		/* and the other way: the terminal's user resets from a fresh terminal device; the
		 * window warns that the contact's safety number changed (a notice and the banner) */
		{
			char *cli3 = g_build_filename(tmp, "cli-third", NULL), *want;
			struct term t3;

			g_setenv("PIER_CLI_DATA", cli3, TRUE);
			REQUIRE(term_start(&t3, pierd_port_str(p), HARNESS_PASSWORD,
			                   ARGS("--no-color", "--user", cli_user, "--http-url", http_url)),
			        harness_done(), "a third terminal device starts");
			g_setenv("PIER_CLI_DATA", cli_data, TRUE);
			expect(&t3, "Its code: ", "pending");
			type(&t3, "/reset yes\r");
			expect(&t3, "identity was reset", "the terminal's user resets the identity");
			term_typef(&t3, "/msg %s from the new identity\r", gtk_user);
			CHECK(gtkdrive_until(message_shown, &(struct shown){ win3, "from the new identity" },
			                     WAIT_MS, "the message"), "the window reads the new identity");
			want = g_strdup_printf(_("%s's safety number changed: compare it again."), cli_user);
			CHECK(gtkdrive_until(banner_says, &(struct shown){ win3, want }, WAIT_MS,
			                     "the warning"), "the window warns: %s", want);
			g_free(want);
			shots_of(win3, GTK_WIDGET(win3), "e2ee-safety-changed");
			/* looking at the new number takes the warning away */
			gtk_widget_activate_action(GTK_WIDGET(win3), "win.e2ee-safety", NULL);
			CHECK(gtkdrive_until(banner_gone, win3, WAIT_MS, "the banner"),
			      "the warning goes once the number was looked at");
			if (toplevel_named("e2ee-safety") != NULL)
				gtk_window_destroy(GTK_WINDOW(toplevel_named("e2ee-safety")));
			type(&t3, "/quit\r");
			CHECK(term_finish(&t3) == 0, "the third pier exits 0");
			term_free(&t3);
			g_free(cli3);
		}
		if (toplevel_named("e2ee-devices") != NULL)
			gtk_window_destroy(GTK_WINDOW(toplevel_named("e2ee-devices")));
		gtk_window_destroy(win3);
		g_free(third);
	}

	type(&t, "/quit\r");
	CHECK(term_finish(&t) == 0, "pier exits 0");
	term_free(&t);
	type(&t2, "/quit\r");
	CHECK(term_finish(&t2) == 0, "the second pier exits 0");
	term_free(&t2);
	gtk_window_destroy(win2);
	gtk_window_destroy(win);
	gtkdrive_spin(200);
	CHECK(pierd_stop(p), "pierd stops cleanly");
	g_free(with_cli);
	g_free(with_gtk);
	g_free(http_url);
	g_free(png_gtk);
	g_free(png_cli);
	g_free(cli_data);
	g_free(second_dir);
	g_free(shots);
	curl_global_cleanup();
	return harness_done();
}
