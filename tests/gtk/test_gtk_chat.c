/* test_gtk_chat.c - end to end: what happens to messages after they were sent, in pier-gtk's
 * real window (headless X server, xvfb-run) against a real pierd and a libpier client (the
 * peer), both ways: reactions (the menu's quick row, the picker, a typed one, clicking chips;
 * the peer's arriving live), edit (in the composer; Esc cancels) and the peer's edits, recall
 * (撤回: one's own, the peer's, and one too late, whose refusal the server words), replies
 * (the quote shown), typing indicators (shown, cleared by the message, sent at most once per
 * 3 s), search (Ctrl+F: the match marked, a result opening its conversation at the message,
 * loading the history around it), and the "N new messages" divider with the read position
 * sent; typing both ways with the real terminal client too (`pier` on a pty). Driven through
 * GTK by widget names, never pixel coordinates; screenshots of the new
 * states (light and dark) in the language of $LANGUAGE go to $PIER_SCREENSHOTS.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <gtk/gtk.h>

#include "cliterm.h"
#include "gtkdrive.h"
#include "harness.h"
#include "pg_composer.h"
#include "pg_i18n.h"
#include "pg_msgactions.h"
#include "pg_msgview.h"
#include "pg_search.h"
#include "pg_typing.h"
#include "pg_window.h"

#define WAIT_MS       20000
#define RECALL_WINDOW 8        /* pierd's --recall-window for this test, seconds */

static GtkWindow *win;
static struct pg_window *pw;
static struct pier_conn *peer;
static json_t *seen;           /* the peer's events so far */
static const char *lang_tag;
static char *shots;
static char gtk_user[HARNESS_NAME_MAX], peer_user[HARNESS_NAME_MAX];

#define spin gtkdrive_spin
#define spin_until gtkdrive_until
#define find_in gtkdrive_find
#define find_label_in gtkdrive_find_label
#define row_around gtkdrive_row_around

static GtkWidget *find(const char *name)
{
	return gtkdrive_need(GTK_WIDGET(win), name);
}

/* ---- the peer's side: events read while the window's loop runs ---- */

static void peer_read(void)
{
	gtkdrive_drain(peer, seen);
}

static json_t *peer_find(const char *op, const char *field, const char *value)
{
	json_t *ev;
	size_t i;

	json_array_foreach(seen, i, ev)
		if (is_op(ev, op) && (field == NULL || g_strcmp0(jstr(ev, field), value) == 0))
			return ev;
	return NULL;
}

struct peer_cond {
	const char *op, *field, *value;
};

static gboolean peer_has(gconstpointer ud)
{
	const struct peer_cond *c = ud;

	peer_read();
	return peer_find(c->op, c->field, c->value) != NULL;
}

/* The first event op (with field == value) the peer gets, reading while the window runs. */
static json_t *peer_wait(const char *op, const char *field, const char *value)
{
	struct peer_cond c = { op, field, value };

	if (!spin_until(peer_has, &c, WAIT_MS, op))
		return NULL;
	return peer_find(op, field, value);
}

static void peer_forget(void)
{
	peer_read();
	json_array_clear(seen);
}

/* ---- the window's side ---- */

static gboolean message_shown(gconstpointer text)
{
	return find_label_in(find_in(GTK_WIDGET(win), "msg-list"), "msg-text", text) != NULL;
}

/* The row of the message whose text has text. */
static GtkWidget *row_of(const char *text)
{
	return row_around(find_label_in(find_in(GTK_WIDGET(win), "msg-list"), "msg-text", text));
}

/* A button named name under root whose label is label (NULL: any). */
static GtkWidget *button_in(GtkWidget *root, const char *name, const char *label)
{
	if (root == NULL)
		return NULL;
	if (GTK_IS_BUTTON(root) && g_strcmp0(gtk_widget_get_name(root), name) == 0 &&
	    (label == NULL || g_strcmp0(gtk_button_get_label(GTK_BUTTON(root)), label) == 0))
		return root;
	for (GtkWidget *c = gtk_widget_get_first_child(root); c != NULL;
	     c = gtk_widget_get_next_sibling(c)) {
		GtkWidget *found = button_in(c, name, label);

		if (found != NULL)
			return found;
	}
	return NULL;
}

static GtkWidget *popover(void)
{
	return pg_msgactions_open_popover(pg_window_actions(pw));
}

static gboolean popover_named(gconstpointer name)
{
	GtkWidget *p = popover();

	return p != NULL && gtk_widget_get_mapped(p) && strcmp(gtk_widget_get_name(p), name) == 0;
}

/* Opens the menu of the message with text by its "…" button. */
static bool open_menu(const char *text)
{
	GtkWidget *row = row_of(text), *b = row != NULL ? find_in(row, "msg-actions") : NULL;

	if (!CHECK(b != NULL, "the message \"%s\" has its actions button", text))
		return false;
	g_signal_emit_by_name(b, "clicked");
	return CHECK(spin_until(popover_named, "msg-menu", WAIT_MS, "the menu"),
	             "the menu of \"%s\" opens", text);
}

static bool click_in_popover(const char *name, const char *label)
{
	GtkWidget *b = button_in(popover(), name, label);

	if (!CHECK(b != NULL, "the menu has %s %s", name, label != NULL ? label : ""))
		return false;
	g_signal_emit_by_name(b, "clicked");
	return true;
}

struct chip {
	const char *text, *label;
};

/* The reaction chip with label (e.g. "👍 1") under the message with text, or NULL. */
static GtkWidget *chip_of(const char *text, const char *label)
{
	return button_in(row_of(text), "reaction-chip", label);
}

static gboolean chip_shown(gconstpointer ud)
{
	const struct chip *c = ud;
	GtkWidget *b = chip_of(c->text, c->label);

	return b != NULL && gtk_widget_get_mapped(b);
}

static gboolean chip_gone(gconstpointer ud)
{
	const struct chip *c = ud;

	return row_of(c->text) != NULL && chip_of(c->text, c->label) == NULL;
}

static gboolean composer_empty(gconstpointer ud)
{
	GtkTextBuffer *buf = gtk_text_view_get_buffer(GTK_TEXT_VIEW(find_in(GTK_WIDGET(win),
	                                                                   "composer-text")));

	(void)ud;
	return gtk_text_buffer_get_char_count(buf) == 0;
}

static char *composer_text(void)
{
	GtkTextBuffer *buf = gtk_text_view_get_buffer(GTK_TEXT_VIEW(find("composer-text")));
	GtkTextIter a, b;

	gtk_text_buffer_get_bounds(buf, &a, &b);
	return gtk_text_buffer_get_text(buf, &a, &b, FALSE);
}

static void set_composer(const char *text)
{
	gtk_text_buffer_set_text(gtk_text_view_get_buffer(GTK_TEXT_VIEW(find("composer-text"))),
	                         text, -1);
}

static gboolean active_is(gconstpointer with)
{
	return g_strcmp0(pg_window_active(pw), with) == 0;
}

/* Sends text from the composer and waits until it is stored (it has an id). */
static void send_from_window(const char *text)
{
	set_composer(text);
	gtk_widget_activate(find("send-button"));
	CHECK(spin_until(composer_empty, NULL, WAIT_MS, "the send button"), "typed: %s", text);
	CHECK(gtkdrive_until_sent(win, WAIT_MS, "sent"), "sent: %s", text);
}

/* The id of the message with text in the store of with (0: not there). */
static int64_t id_in_store(const char *with, const char *text)
{
	PgMsgStore *st = pg_session_store(pg_window_session(pw), with);

	for (guint i = 0; st != NULL && i < g_list_model_get_n_items(G_LIST_MODEL(st)); i++) {
		PgMsg *m = pg_msg_store_peek(st, i);

		if (strcmp(m->text, text) == 0 && m->id > 0)
			return m->id;
	}
	return 0;
}

static gboolean stored(gconstpointer text)
{
	return id_in_store(pg_window_active(pw), text) > 0;
}

static gboolean notice_is(gconstpointer text)
{
	return g_strcmp0(pg_window_notice(pw), text) == 0;
}

static void screenshot_of(GtkWidget *w, const char *screen)
{
	char *path = g_strdup_printf("%s/gtk-%s-%s.png", shots, screen, lang_tag);

	spin(400);
	CHECK(w != NULL && pg_window_screenshot(w, path), "screenshot %s", path);
	g_free(path);
}

/* Light, then dark, then light again. */
static void screenshots(const char *screen)
{
	char *dark = g_strdup_printf("%s-dark", screen);

	pg_window_set_look(pw, TRUE, PG_STYLE_LIGHT);
	screenshot_of(GTK_WIDGET(win), screen);
	pg_window_set_look(pw, TRUE, PG_STYLE_DARK);
	screenshot_of(GTK_WIDGET(win), dark);
	pg_window_set_look(pw, TRUE, PG_STYLE_LIGHT);
	g_free(dark);
}

/* Presses key on the composer's text view through its own key controllers (capture phase
 * first, as GTK delivers it). */
static gboolean press_key(guint keyval)
{
	GListModel *ctls = gtk_widget_observe_controllers(find("composer-text"));
	gboolean handled = FALSE;

	for (guint i = 0; i < g_list_model_get_n_items(ctls) && !handled; i++) {
		GtkEventController *c = g_list_model_get_item(ctls, i);

		if (GTK_IS_EVENT_CONTROLLER_KEY(c) &&
		    gtk_event_controller_get_propagation_phase(c) == GTK_PHASE_CAPTURE)
			g_signal_emit_by_name(c, "key-pressed", keyval, 0, (GdkModifierType)0, &handled);
		g_object_unref(c);
	}
	g_object_unref(ctls);
	return handled;
}

static gboolean search_done(gconstpointer ud)
{
	GtkWidget *status = find_in(pg_search_window(pg_window_search(pw)), "search-status");
	const char *t = status != NULL ? gtk_label_get_text(GTK_LABEL(status)) : "";

	(void)ud;
	return t[0] != '\0' && strcmp(t, _("Searching…")) != 0;
}

static gboolean flashed(gconstpointer text)
{
	GtkWidget *row = row_of(text);

	return row != NULL && gtk_widget_has_css_class(row, "flash");
}

static gboolean search_count_is(gconstpointer n)
{
	return pg_search_count(pg_window_search(pw)) == GPOINTER_TO_UINT(n);
}

static gboolean divider_shown(gconstpointer text)
{
	GtkWidget *l = find_label_in(find_in(GTK_WIDGET(win), "msg-list"), "new-divider", text);

	return l != NULL && gtk_widget_get_visible(l);
}

static gboolean typing_shows(gconstpointer ud)
{
	const char *text = ud;
	GtkWidget *l = find_in(GTK_WIDGET(win), "typing-indicator");

	return l != NULL && strcmp(gtk_label_get_text(GTK_LABEL(l)), text) == 0 &&
	       (text[0] == '\0' || gtk_widget_get_opacity(l) > 0.5);
}

/* ---- the parts ---- */

static void test_reactions(void)
{
	const char *text = "react to this please 请回应";
	struct chip thumbs1 = { text, "👍 1" }, heart1 = { text, "❤️ 1" }, heart2 = { text, "❤️ 2" },
	            got = { text, "收到 1" };
	int64_t id = client_send(peer, "#lobby", text, NULL, NULL);
	json_t *ev, *reply;
	GtkWidget *chip;
	const char *tip;

	CHECK(spin_until(message_shown, text, WAIT_MS, "the peer's message"), "the peer's message");
	/* The menu's quick row: 👍 */
	if (open_menu(text)) {
		screenshot_of(popover(), "msg-menu");
		CHECK(button_in(popover(), "menu-edit", NULL) == NULL &&
		      button_in(popover(), "menu-recall", NULL) == NULL,
		      "no Edit or Recall on someone else's message");
		click_in_popover("quick-react", "👍");
	}
	ev = peer_wait("reaction", "emoji", "👍");
	CHECK(ev != NULL && jint(ev, "id", 0) == id && g_strcmp0(jstr(ev, "user"), gtk_user) == 0 &&
	      jtrue(ev, "on") && jint(ev, "count", 0) == 1, "the peer sees the 👍 (%s)", jdump(ev));
	CHECK(spin_until(chip_shown, &thumbs1, WAIT_MS, "the 👍 chip"), "👍 1 under the message");
	chip = chip_of(text, "👍 1");
	CHECK(chip != NULL && gtk_widget_has_css_class(chip, "mine") &&
	      gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(chip)), "and it is marked as mine");

	/* The peer's ❤️ arrives live; its tooltip names who */
	reply = client_call(peer, pier_req_react(id, "❤️", true));
	CHECK(is_op(reply, "react"), "the peer reacts (%s)", jdump(reply));
	json_decref(reply);
	CHECK(spin_until(chip_shown, &heart1, WAIT_MS, "the ❤️ chip"), "❤️ 1 shows live");
	chip = chip_of(text, "❤️ 1");
	tip = chip != NULL ? gtk_widget_get_tooltip_text(chip) : NULL;
	CHECK(chip != NULL && !gtk_widget_has_css_class(chip, "mine") && tip != NULL &&
	      strstr(tip, peer_user) != NULL, "not mine, the tooltip says who (%s)",
	      tip != NULL ? tip : "none");

	/* Clicking a chip adds one's own */
	peer_forget();
	if (chip != NULL)
		g_signal_emit_by_name(chip, "clicked");
	ev = peer_wait("reaction", "emoji", "❤️");
	CHECK(ev != NULL && g_strcmp0(jstr(ev, "user"), gtk_user) == 0 && jint(ev, "count", 0) == 2,
	      "a click on the chip adds mine (%s)", jdump(ev));
	CHECK(spin_until(chip_shown, &heart2, WAIT_MS, "❤️ 2"), "❤️ 2");

	/* The picker: a word from the browser's set, and a typed reaction that is refused here */
	peer_forget();
	if (open_menu(text)) {
		click_in_popover("menu-react-more", NULL);
		CHECK(spin_until(popover_named, "emoji-picker", WAIT_MS, "the picker"),
		      "More reactions opens the picker");
		CHECK(button_in(popover(), "picker-emoji", NULL) != NULL, "with its emoji");
		screenshot_of(popover(), "emoji-picker");
		{
			GtkWidget *entry = find_in(popover(), "emoji-custom");

			gtk_editable_set_text(GTK_EDITABLE(entry), "not one");
			g_signal_emit_by_name(entry, "activate");
			CHECK(gtk_widget_get_visible(find_in(popover(), "emoji-status")),
			      "a reaction with a space is refused before it is sent");
		}
		click_in_popover("picker-emoji", "收到");
	}
	ev = peer_wait("reaction", "emoji", "收到");
	CHECK(ev != NULL && g_strcmp0(jstr(ev, "user"), gtk_user) == 0, "收到 from the picker");
	CHECK(spin_until(chip_shown, &got, WAIT_MS, "收到 1"), "收到 1 shows");

	/* A click on one's own chip takes it back */
	peer_forget();
	chip = chip_of(text, "👍 1");
	if (chip != NULL)
		g_signal_emit_by_name(chip, "clicked");
	ev = peer_wait("reaction", "emoji", "👍");
	CHECK(ev != NULL && !jtrue(ev, "on") && jint(ev, "count", -1) == 0,
	      "the peer sees the 👍 taken back (%s)", jdump(ev));
	CHECK(spin_until(chip_gone, &thumbs1, WAIT_MS, "no 👍"), "the 👍 chip goes");
	screenshots("reactions");
	/* The new controls are labelled for screen readers */
	{
		GtkWidget *controls[] = { find_in(row_of(text), "msg-actions"),
		                          chip_of(text, "❤️ 2"), find("typing-indicator") };

		for (size_t k = 0; k < G_N_ELEMENTS(controls); k++)
			CHECK(controls[k] != NULL && gtk_test_accessible_has_property(
			          GTK_ACCESSIBLE(controls[k]), GTK_ACCESSIBLE_PROPERTY_LABEL),
			      "control %zu has an accessible label", k);
	}
}

static void test_edit(void)
{
	const char *typo = "this has a tpyo 错字", *fixed = "this had a typo 改好了";
	const char *peer_text = "the peer's first words", *peer_edit = "the peer's second thoughts";
	int64_t id;
	json_t *ev, *reply;
	char *text;
	GtkWidget *row;

	send_from_window(typo);
	CHECK(spin_until(stored, typo, WAIT_MS, "stored"), "stored");
	id = id_in_store("#lobby", typo);
	/* Edit, then Esc: nothing changes */
	if (open_menu(typo))
		click_in_popover("menu-edit", NULL);
	text = composer_text();
	CHECK(strcmp(text, typo) == 0, "the composer holds the text to edit (%s)", text);
	g_free(text);
	CHECK(gtk_widget_get_visible(find("composer-mode")), "and says it is editing");
	screenshots("editing");
	CHECK(press_key(GDK_KEY_Escape), "Esc is taken");
	CHECK(!gtk_widget_get_visible(find("composer-mode")) && composer_empty(NULL),
	      "Esc cancels the edit");
	/* Edit for real */
	peer_forget();
	if (open_menu(typo))
		click_in_popover("menu-edit", NULL);
	set_composer(fixed);
	pg_window_composer_send(pw);
	ev = peer_wait("edited", "text", fixed);
	CHECK(ev != NULL && jint(ev, "id", 0) == id, "the peer gets the edit (%s)", jdump(ev));
	CHECK(spin_until(message_shown, fixed, WAIT_MS, "the edited text"), "the new text shows");
	row = row_of(fixed);
	CHECK(row != NULL && find_label_in(row, "msg-text", _("(edited)")) != NULL,
	      "marked %s", _("(edited)"));
	CHECK(count_op(seen, "edited", NULL, NULL) == 1, "one edit went out (the cancelled none)");
	CHECK(!gtk_widget_get_visible(find("composer-mode")), "the composer is back to sending");

	/* The peer edits its own: shown live */
	id = client_send(peer, "#lobby", peer_text, NULL, NULL);
	CHECK(spin_until(message_shown, peer_text, WAIT_MS, "the peer's message"), "shown");
	reply = client_call(peer, pier_req_edit(id, peer_edit));
	CHECK(is_op(reply, "edit"), "the peer edits (%s)", jdump(reply));
	json_decref(reply);
	CHECK(spin_until(message_shown, peer_edit, WAIT_MS, "the peer's edit"),
	      "the peer's edit shows live");
}

static void test_recall(const char *late_text)
{
	const char *mine = "recall me now 撤回我", *theirs = "the peer will recall this";
	char *by_peer = g_strdup_printf(_("%s recalled a message"), peer_user);
	int64_t id, now;
	json_t *ev, *reply;
	const char *late_error = pier_error_text("recall_expired", pg_i18n_lang());

	/* One's own */
	peer_forget();
	send_from_window(mine);
	CHECK(spin_until(stored, mine, WAIT_MS, "stored"), "stored");
	id = id_in_store("#lobby", mine);
	if (open_menu(mine))
		click_in_popover("menu-recall", NULL);
	ev = peer_wait("recalled", NULL, NULL);
	CHECK(ev != NULL && jint(ev, "id", 0) == id, "the peer sees it recalled (%s)", jdump(ev));
	CHECK(spin_until(message_shown, _("You recalled a message"), WAIT_MS, "recalled"),
	      "shown as \"%s\"", _("You recalled a message"));
	CHECK(!message_shown(mine), "its text is gone");
	if (lang_tag[0] == 'z')
		CHECK(message_shown("你撤回了一条消息"), "in Chinese");

	/* The peer's */
	id = client_send(peer, "#lobby", theirs, NULL, NULL);
	CHECK(spin_until(message_shown, theirs, WAIT_MS, "the peer's"), "the peer's message");
	reply = client_call(peer, pier_req_recall(id));
	CHECK(is_op(reply, "recall"), "the peer recalls (%s)", jdump(reply));
	json_decref(reply);
	CHECK(spin_until(message_shown, by_peer, WAIT_MS, "recalled by the peer"),
	      "shown as \"%s\"", by_peer);
	CHECK(!message_shown(theirs), "its text is gone");
	screenshots("recalled");

	/* Too late: the menu no longer offers it; forced, the server's refusal is shown plainly */
	id = id_in_store("#lobby", late_text);
	now = g_get_real_time() / 1000;
	{
		PgMsg *m = pg_msg_store_find(pg_session_store(pg_window_session(pw), "#lobby"), id,
		                             NULL);
		int64_t until = m != NULL ? m->ts + (RECALL_WINDOW + 2) * 1000 : now;

		while (g_get_real_time() / 1000 < until)
			spin(200);
	}
	if (open_menu(late_text)) {
		CHECK(button_in(popover(), "menu-recall", NULL) == NULL,
		      "past the recall window the menu has no Recall");
		gtk_popover_popdown(GTK_POPOVER(popover()));
		spin(100);
	}
	pg_session_set_recall_window(pg_window_session(pw), 3600);   /* as a client whose clock is off */
	if (open_menu(late_text))
		click_in_popover("menu-recall", NULL);
	CHECK(spin_until(notice_is, late_error, WAIT_MS, "the refusal"), "the server's refusal: %s",
	      late_error);
	CHECK(message_shown(late_text), "and the message stays");
	screenshots("recall-too-late");
	pg_session_set_recall_window(pg_window_session(pw), RECALL_WINDOW);
	g_free(by_peer);
}

static gboolean quote_shown(gconstpointer text)
{
	GtkWidget *row = row_of(text), *q = row != NULL ? find_in(row, "msg-quote") : NULL;

	return q != NULL && gtk_widget_is_visible(q);
}

static void test_reply(void)
{
	const char *quoted = "a question to quote", *answer = "an answer that quotes it";
	int64_t id = client_send(peer, "#lobby", quoted, NULL, NULL);
	json_t *ev;
	GtkWidget *row, *q;

	CHECK(spin_until(message_shown, quoted, WAIT_MS, "the question"), "the question shows");
	peer_forget();
	if (open_menu(quoted))
		click_in_popover("menu-reply", NULL);
	CHECK(gtk_widget_get_visible(find("composer-mode")), "the composer says it replies");
	set_composer(answer);
	pg_window_composer_send(pw);
	ev = peer_wait("msg", "text", answer);
	CHECK(ev != NULL && jint(ev, "reply_to", 0) == id, "the peer gets a reply to %lld (%s)",
	      (long long)id, jdump(ev));
	CHECK(spin_until(message_shown, answer, WAIT_MS, "the answer"), "the answer shows");
	/* (pending first, like every message typed; its quote comes with the server's `sent`) */
	CHECK(spin_until(quote_shown, answer, WAIT_MS, "the quote"), "with its quote");
	row = row_of(answer);
	q = row != NULL ? find_in(row, "msg-quote") : NULL;
	CHECK(q != NULL && strstr(gtk_label_get_text(GTK_LABEL(q)), quoted) != NULL,
	      "quoting the question");
	/* The quote leads to the message it quotes */
	if (row != NULL && find_in(row, "msg-quote-button") != NULL)
		g_signal_emit_by_name(find_in(row, "msg-quote-button"), "clicked");
	CHECK(active_is("#lobby") && message_shown(quoted), "the quote shows the question");
}

static void test_typing(void)
{
	const char *names[] = { peer_user };
	char *sentence = pg_typing_sentence(names, 1);
	guint before = pg_typing_sent(pg_window_typing(pw));
	json_t *ev;

	/* The peer types: shown under the list, until its message comes */
	pier_conn_send(peer, pier_req_typing("#lobby"), NULL);
	CHECK(spin_until(typing_shows, sentence, WAIT_MS, "the indicator"), "\"%s\" shows",
	      sentence);
	if (lang_tag[0] == 'z')
		CHECK(strstr(sentence, "正在输入") != NULL, "in Chinese (%s)", sentence);
	screenshots("typing");
	client_send(peer, "#lobby", "done typing", NULL, NULL);
	CHECK(spin_until(typing_shows, "", WAIT_MS, "no indicator"),
	      "the indicator goes when the message comes");

	/* The window types: the peer is told once for a burst of keys; commands tell nothing.
	 * (The last text typed, the reply, told the peer already: past 3 s the next may go.) */
	spin(PG_TYPING_SEND_EVERY_MS + 300);
	before = pg_typing_sent(pg_window_typing(pw));
	peer_forget();
	set_composer("/join #not-a-message");
	set_composer("h");
	set_composer("he");
	set_composer("hel");
	set_composer("hell");
	ev = peer_wait("typing", "from", gtk_user);
	CHECK(ev != NULL && g_strcmp0(jstr(ev, "to"), "#lobby") == 0, "the peer sees %s typing",
	      gtk_user);
	CHECK(pg_typing_sent(pg_window_typing(pw)) - before == 1,
	      "4 changes in a row send 1 typing (%u)", pg_typing_sent(pg_window_typing(pw)) - before);
	set_composer("");
	g_free(sentence);
}

/* Typing with the terminal client: its keys show in the window, the window's in its prompt. */
static void test_terminal_typing(struct pierd *p)
{
	char term_user[HARNESS_NAME_MAX], *sentence, *shown;
	const char *names[1];
	struct pier_conn *c = client_connect(p);
	struct term t;
	bool zh = lang_tag[0] == 'z';

	harness_user(term_user, "term");
	/* the terminal in the window's language (its texts are libpier's, zh or en) */
	cliterm_set_lang(zh ? "zh_CN.UTF-8" : NULL);
	REQUIRE(client_register(c, term_user, HARNESS_PASSWORD) == PIER_REGISTER_OK, , "register");
	pier_conn_close(c);
	REQUIRE(term_start(&t, pierd_port_str(p), HARNESS_PASSWORD,
	                   ARGS("--no-color", "--user", term_user, "--no-e2ee")), , "pier starts");
	expect(&t, "#lobby", "the terminal is in #lobby");
	names[0] = term_user;
	sentence = pg_typing_sentence(names, 1);
	type(&t, "half a sentence");
	CHECK(spin_until(typing_shows, sentence, WAIT_MS, "the terminal's typing"),
	      "the terminal's keys show in the window: %s", sentence);
	type(&t, "\r");
	CHECK(spin_until(typing_shows, "", WAIT_MS, "the terminal's message"),
	      "its message ends the indicator");
	/* The window types (past the 3 s since it last told #lobby) */
	spin(PG_TYPING_SEND_EVERY_MS + 300);
	set_composer("a word for the terminal");
	spin(300);
	shown = g_strdup_printf(zh ? "%s 正在" : "%s is typing", gtk_user);
	expect(&t, shown, "the terminal shows the window typing");
	set_composer("");
	type(&t, "/quit\r");
	CHECK(term_finish(&t) == 0, "pier exits 0");
	term_free(&t);
	g_free(shown);
	g_free(sentence);
}

struct result_cond {
	int64_t id;
	const char *with, *text;
};

static gboolean jumped(gconstpointer ud)
{
	const struct result_cond *r = ud;
	PgMsgStore *st = pg_session_store(pg_window_session(pw), r->with);

	return active_is(r->with) && st != NULL && pg_msg_store_find(st, r->id, NULL) != NULL &&
	       message_shown(r->text);
}

static void test_search(struct pierd *p)
{
	char room[HARNESS_NAME_MAX + 1];
	const char *needle = "an ancient needle 古老的电影票";
	struct result_cond rc;
	json_t *reply;
	int64_t id;
	GtkWidget *sw, *entry, *list, *row, *text;
	const char *status_short = pier_error_text("query_too_short", pg_i18n_lang());

	(void)p;
	/* A room with the needle far up: 150 messages after it */
	harness_user(room + 1, "arch");
	room[0] = '#';
	reply = client_call(peer, pier_req_join(room));
	json_decref(reply);
	id = client_send(peer, room, needle, NULL, NULL);
	for (int i = 0; i < 150; i++) {
		char filler[64];

		snprintf(filler, sizeof filler, "filler %d", i);
		client_send(peer, room, filler, NULL, NULL);
	}
	peer_forget();
	pg_session_join(pg_window_session(pw), room);
	CHECK(spin_until(active_is, room, WAIT_MS, "the room"), "joined %s", room);
	CHECK(spin_until(message_shown, "filler 149", WAIT_MS, "its newest"), "its newest shows");
	CHECK(pg_msg_store_find(pg_session_store(pg_window_session(pw), room), id, NULL) == NULL,
	      "the needle is not in the window yet");
	gtk_widget_activate_action(GTK_WIDGET(win), "win.open", "s", "#lobby");

	/* Ctrl+F: everywhere */
	gtk_widget_activate_action(GTK_WIDGET(win), "win.search", NULL);
	sw = pg_search_window(pg_window_search(pw));
	REQUIRE(sw != NULL && gtk_widget_get_visible(sw), , "the search window opens");
	entry = find_in(sw, "search-entry");
	gtk_editable_set_text(GTK_EDITABLE(entry), "a");
	g_signal_emit_by_name(entry, "activate");
	CHECK(spin_until(search_done, NULL, WAIT_MS, "the search"), "searched");
	CHECK(strcmp(gtk_label_get_text(GTK_LABEL(find_in(sw, "search-status"))), status_short) == 0,
	      "a query too short: \"%s\"", status_short);
	/* Only this conversation (#lobby): not there */
	gtk_check_button_set_active(GTK_CHECK_BUTTON(find_in(sw, "search-scope")), TRUE);
	gtk_editable_set_text(GTK_EDITABLE(entry), "古老");
	g_signal_emit_by_name(entry, "activate");
	CHECK(spin_until(search_done, NULL, WAIT_MS, "the search"), "searched");
	CHECK(pg_search_count(pg_window_search(pw)) == 0, "not found in #lobby alone");
	gtk_check_button_set_active(GTK_CHECK_BUTTON(find_in(sw, "search-scope")), FALSE);
	g_signal_emit_by_name(entry, "activate");
	CHECK(spin_until(search_done, NULL, WAIT_MS, "the search"), "searched everywhere");
	CHECK(pg_search_count(pg_window_search(pw)) == 1, "found once everywhere (%u)",
	      pg_search_count(pg_window_search(pw)));
	list = find_in(sw, "search-results");
	row = list != NULL ? gtk_widget_get_first_child(list) : NULL;
	text = row != NULL ? find_in(row, "search-text") : NULL;
	CHECK(text != NULL && strstr(gtk_label_get_label(GTK_LABEL(text)), ">古老</span>") != NULL &&
	      strcmp(gtk_label_get_text(GTK_LABEL(text)), needle) == 0,
	      "the match is marked, the text intact (%s)",
	      text != NULL ? gtk_label_get_label(GTK_LABEL(text)) : "");
	screenshot_of(sw, "search");
	CHECK(gtk_test_accessible_has_property(GTK_ACCESSIBLE(entry), GTK_ACCESSIBLE_PROPERTY_LABEL) &&
	      gtk_test_accessible_has_property(GTK_ACCESSIBLE(list), GTK_ACCESSIBLE_PROPERTY_LABEL) &&
	      gtk_test_accessible_has_property(GTK_ACCESSIBLE(row), GTK_ACCESSIBLE_PROPERTY_LABEL),
	      "the search entry, results and each result are labelled");
	/* Pages: 150 fillers, 50 a page; "More results" brings the next */
	gtk_editable_set_text(GTK_EDITABLE(entry), "filler");
	g_signal_emit_by_name(entry, "activate");
	CHECK(spin_until(search_done, NULL, WAIT_MS, "the search"), "searched the fillers");
	CHECK(pg_search_count(pg_window_search(pw)) == 50 &&
	      gtk_widget_get_visible(find_in(sw, "search-more")),
	      "a first page of 50, and more (%u)", pg_search_count(pg_window_search(pw)));
	g_signal_emit_by_name(find_in(sw, "search-more"), "clicked");
	CHECK(spin_until(search_count_is, GUINT_TO_POINTER(100), WAIT_MS, "the next page"),
	      "the next page adds 50 (%u)", pg_search_count(pg_window_search(pw)));
	gtk_editable_set_text(GTK_EDITABLE(entry), "古老");
	g_signal_emit_by_name(entry, "activate");
	CHECK(spin_until(search_count_is, GUINT_TO_POINTER(1), WAIT_MS, "the needle again"),
	      "the needle again");
	list = find_in(sw, "search-results");
	row = list != NULL ? gtk_widget_get_first_child(list) : NULL;
	/* Activating the result opens the room at the needle, loading the history around it */
	if (row != NULL)
		g_signal_emit_by_name(list, "row-activated", row);
	rc.id = id;
	rc.with = room;
	rc.text = needle;
	CHECK(spin_until(jumped, &rc, WAIT_MS, "the jump"),
	      "the result opens %s with the needle on screen", room);
	CHECK(spin_until(flashed, needle, WAIT_MS, "the mark"), "and marks it for a moment");
	gtk_widget_set_visible(sw, FALSE);
	screenshots("search-jump");
	/* the newest come back with the "new messages" button */
	CHECK(gtk_widget_get_visible(find("new-messages")), "a way back to the newest is offered");
	g_signal_emit_by_name(find("new-messages"), "clicked");
	CHECK(spin_until(message_shown, "filler 149", WAIT_MS, "the newest"),
	      "back to the newest");
}

struct unread_cond {
	struct pierd *p;
	const char *room;
};

static gboolean server_read(gconstpointer ud)
{
	const struct unread_cond *u = ud;
	struct pier_conn *c = client_login(u->p, gtk_user, HARNESS_PASSWORD);
	json_t *reply = c != NULL ? client_call(c, pier_req_unread(NULL, 0)) : NULL;
	json_t *e = reply != NULL ? jfind(reply, "conversations", "with", u->room) : NULL;
	bool read = e != NULL && jint(e, "unread", -1) == 0;

	json_decref(reply);
	pier_conn_close(c);
	if (!read)
		spin(500);
	return read;
}

static gboolean conv_unread_is(gconstpointer with)
{
	PgConv *c = pg_conv_list_find(pg_session_conversations(pg_window_session(pw)), with, NULL);

	return c != NULL && c->unread == 1;
}

static void test_divider(struct pierd *p)
{
	char room[HARNESS_NAME_MAX + 1], *text;
	json_t *reply;
	struct unread_cond u = { p, room };

	harness_user(room + 1, "div");
	room[0] = '#';
	reply = client_call(peer, pier_req_join(room));
	json_decref(reply);
	client_send(peer, room, "before the window joined", NULL, NULL);
	pg_session_join(pg_window_session(pw), room);
	CHECK(spin_until(active_is, room, WAIT_MS, "the room"), "joined %s", room);
	CHECK(spin_until(message_shown, "before the window joined", WAIT_MS, "history"),
	      "its history shows");
	gtk_widget_activate_action(GTK_WIDGET(win), "win.open", "s", "#lobby");
	client_send(peer, room, "unread one", NULL, NULL);
	client_send(peer, room, "unread two", NULL, NULL);
	client_send(peer, room, "unread three", NULL, NULL);
	spin(300);
	{
		PgConv *c = NULL;

		for (int i = 0; i < 100 && (c == NULL || c->unread < 3); i++) {
			spin(100);
			c = pg_conv_list_find(pg_session_conversations(pg_window_session(pw)), room, NULL);
		}
		CHECK(c != NULL && c->unread == 3, "3 unread in %s (%d)", room, c != NULL ? c->unread : -1);
	}
	gtk_widget_activate_action(GTK_WIDGET(win), "win.open", "s", room);
	text = g_strdup_printf(g_dngettext(PG_GETTEXT_PACKAGE, "%d new message", "%d new messages",
	                                   3), 3);
	CHECK(spin_until(divider_shown, text, WAIT_MS, "the divider"), "\"%s\" shows", text);
	if (lang_tag[0] == 'z')
		CHECK(strstr(text, "条新消息") != NULL, "in Chinese (%s)", text);
	{
		GtkWidget *d = find_label_in(find_in(GTK_WIDGET(win), "msg-list"), "new-divider", text);
		GtkWidget *row = row_around(d);

		CHECK(row != NULL && find_label_in(row, "msg-text", "unread one") != NULL,
		      "above the first unread message");
	}
	screenshots("divider");
	/* The read position goes to the server (coalesced, as the browser's) when the window has
	 * the focus (Xvfb has no window manager to give it: the session is told, as the window's
	 * notify::is-active does) and the view shows the end. */
	if (!gtk_window_is_active(win))
		pg_session_set_active(pg_window_session(pw), room, true);
	CHECK(spin_until(server_read, &u, WAIT_MS, "read on the server"),
	      "the server has %s read", room);
	/* Scrolled up from the end, a new message is unread (and stays so on the server); back
	 * at the end it is read. */
	pg_session_set_at_end(pg_window_session(pw), false);
	client_send(peer, room, "while scrolled up", NULL, NULL);
	CHECK(spin_until(conv_unread_is, room, WAIT_MS, "unread"),
	      "scrolled up: the new message counts as unread");
	pg_session_set_at_end(pg_window_session(pw), true);
	CHECK(!conv_unread_is(room), "back at the end: read here");
	CHECK(spin_until(server_read, &u, WAIT_MS, "read on the server"),
	      "and on the server");
	g_free(text);
}

int main(void)
{
	/* Typing in #lobby goes out only in the all-presence mode (--presence-limit N). */
	static const char *const args[] = { "--no-rate-limits", "--recall-window", "8",
	                                    "--presence-limit", "10", NULL };
	const char *late = "too late to recall 太晚了";
	struct pierd *p;

	harness_watchdog(420);
	g_free(gtkdrive_begin("chat"));
	lang_tag = pg_i18n_lang() == PIER_LANG_ZH ? "zh" : "en";
	shots = gtkdrive_shots_dir();
	seen = json_array();

	p = pierd_start(args);
	REQUIRE(p != NULL, harness_done(), "pierd starts");
	REQUIRE(gtkdrive_register(p, gtk_user, "gtk") && gtkdrive_register(p, peer_user, "peer"),
	        harness_done(), "register");
	peer = client_login(p, peer_user, HARNESS_PASSWORD);
	REQUIRE(peer != NULL, harness_done(), "the peer logs in");

	win = gtkdrive_window("org.pier.GtkChatTest", gtkdrive_fill_pierd, p);
	REQUIRE(win != NULL, harness_done(), "the window opens");
	pw = pg_window_from(win);
	gtkdrive_login(win, gtk_user, HARNESS_PASSWORD, false);
	REQUIRE(gtkdrive_until_state(win, PG_SESSION_ONLINE, WAIT_MS, "login"),
	        harness_done(), "logged in");
	CHECK(pg_session_recall_window(pg_window_session(pw)) == RECALL_WINDOW,
	      "the login reply's recall window (%d s)", pg_session_recall_window(pg_window_session(pw)));
	CHECK(spin_until(active_is, "#lobby", WAIT_MS, "#lobby"), "#lobby shown");
	send_from_window(late);   /* recalled too late, at the end of test_recall */

	test_reactions();
	test_edit();
	test_reply();
	test_typing();
	test_terminal_typing(p);
	test_recall(late);
	test_search(p);
	test_divider(p);

	pier_conn_close(peer);
	gtk_window_destroy(win);
	spin(200);
	CHECK(pierd_stop(p), "pierd stops cleanly");
	json_decref(seen);
	g_free(shots);
	curl_global_cleanup();
	return harness_done();
}
