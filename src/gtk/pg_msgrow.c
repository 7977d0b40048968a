/* pg_msgrow.c - the message list's rows (see pg_msgrow.h). */
#include "pg_msgrow.h"

#include <string.h>

#include "pg_i18n.h"
#include "pg_media.h"
#include "pg_msgactions.h"
#include "pg_reactions.h"

#define GROUP_GAP_MS (5 * 60 * 1000)

struct factory_data {
	PgMsgStore *const *store;   /* the view's current store (it changes with the conversation) */
	struct pg_media *media;
	struct pg_msgactions *actions;   /* NULL: rows without actions */
	struct pg_session *session;
};

/* The widgets of a row, kept on its box. */
struct row {
	GtkWidget *box, *day, *head, *sender, *time, *body, *media, *lock;
	PgMsg *msg;                 /* bound (borrowed while bound) */
	struct pg_media *media_ctx;
	GCancellable *cancel;       /* the thumbnail's download */
	/* what came after sending (setup_changes, bind_changes) */
	struct factory_data *fd;
	GtkWidget *divider, *quote, *quote_btn, *line, *extras, *reactions, *actions_btn;
};

static void setup_changes(struct row *r);
static void bind_changes(struct row *r, PgMsg *m);

char *pg_msgrow_markup(const char *text)
{
	static GRegex *url_re;
	GString *out = g_string_new(NULL);
	GMatchInfo *mi = NULL;
	int last = 0;

	if (url_re == NULL)
		url_re = g_regex_new("https?://[^\\s<>\"]+[^\\s<>\".,;:!?)\\]}'’”。，]", G_REGEX_OPTIMIZE,
		                     0, NULL);
	g_regex_match(url_re, text, 0, &mi);
	while (g_match_info_matches(mi)) {
		int start, end;
		char *pre, *url;

		g_match_info_fetch_pos(mi, 0, &start, &end);
		pre = g_markup_escape_text(text + last, start - last);
		url = g_markup_escape_text(text + start, end - start);
		g_string_append_printf(out, "%s<a href=\"%s\">%s</a>", pre, url, url);
		g_free(pre);
		g_free(url);
		last = end;
		g_match_info_next(mi, NULL);
	}
	g_match_info_free(mi);
	{
		char *rest = g_markup_escape_text(text + last, -1);

		g_string_append(out, rest);
		g_free(rest);
	}
	return g_string_free(out, FALSE);
}

static void row_free(gpointer p)
{
	struct row *r = p;

	if (r->cancel != NULL) {
		g_cancellable_cancel(r->cancel);
		g_object_unref(r->cancel);
	}
	g_free(r);
}

/* ---- end-to-end encryption: the lock mark and the placeholder ---- */

/* The lock after the time of an end-to-end encrypted message. */
static void setup_lock(struct row *r)
{
	r->lock = gtk_image_new_from_icon_name("channel-secure-symbolic");
	gtk_widget_set_name(r->lock, "msg-lock");
	gtk_widget_set_tooltip_text(r->lock, _("End-to-end encrypted"));
	gtk_accessible_update_property(GTK_ACCESSIBLE(r->lock), GTK_ACCESSIBLE_PROPERTY_LABEL,
	                               _("End-to-end encrypted"), -1);
	gtk_box_append(GTK_BOX(r->head), r->lock);
}

/* An encrypted message this device has no text of (the server keeps only ciphertext). */
static bool e2ee_unreadable(const PgMsg *m)
{
	return m->encrypted && m->text[0] == '\0' && !m->recalled &&
	       (m->media == NULL || !json_is_string(json_object_get(m->media, "key")));
}

static char *e2ee_placeholder(void)
{
	return g_markup_printf_escaped("<i>%s</i>", _("(end-to-end encrypted: not readable on this "
	                                               "device; it is on your other devices)"));
}

static void setup(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
	struct factory_data *fd = data;
	struct row *r = g_new0(struct row, 1);

	(void)f;
	r->media_ctx = fd->media;
	r->box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
	gtk_widget_add_css_class(r->box, "msg-row");
	r->day = gtk_label_new(NULL);
	gtk_widget_add_css_class(r->day, "day-separator");
	r->head = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	r->sender = gtk_label_new(NULL);
	gtk_widget_add_css_class(r->sender, "msg-sender");
	gtk_label_set_selectable(GTK_LABEL(r->sender), TRUE);
	r->time = gtk_label_new(NULL);
	gtk_widget_add_css_class(r->time, "msg-time");
	gtk_box_append(GTK_BOX(r->head), r->sender);
	gtk_box_append(GTK_BOX(r->head), r->time);
	setup_lock(r);
	r->body = gtk_label_new(NULL);
	gtk_widget_set_name(r->body, "msg-text");
	gtk_label_set_wrap(GTK_LABEL(r->body), TRUE);
	gtk_label_set_wrap_mode(GTK_LABEL(r->body), PANGO_WRAP_WORD_CHAR);
	gtk_label_set_selectable(GTK_LABEL(r->body), TRUE);
	gtk_label_set_xalign(GTK_LABEL(r->body), 0);
	gtk_widget_set_halign(r->head, GTK_ALIGN_START);
	r->media = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	gtk_widget_set_halign(r->media, GTK_ALIGN_START);
	gtk_box_append(GTK_BOX(r->box), r->day);
	gtk_box_append(GTK_BOX(r->box), r->head);
	gtk_box_append(GTK_BOX(r->box), r->body);
	gtk_box_append(GTK_BOX(r->box), r->media);
	r->fd = fd;
	setup_changes(r);
	g_object_set_data_full(G_OBJECT(r->box), "pg-row", r, row_free);
	gtk_list_item_set_child(item, r->box);
	gtk_list_item_set_activatable(item, FALSE);
}

static char *format_ts(int64_t ts, const char *fmt)
{
	GDateTime *utc = g_date_time_new_from_unix_utc(ts / 1000);
	GDateTime *local = utc != NULL ? g_date_time_to_local(utc) : NULL;
	char *s = local != NULL ? g_date_time_format(local, fmt) : g_strdup("");

	if (utc != NULL)
		g_date_time_unref(utc);
	if (local != NULL)
		g_date_time_unref(local);
	return s;
}

/* A day separator's text: "Today", "Yesterday" or the date (in the user's language). */
static char *day_text(int64_t ts)
{
	int64_t now = g_get_real_time() / 1000;
	char *day = format_ts(ts, "%F"), *today = format_ts(now, "%F");
	char *yesterday = format_ts(now - 24 * 3600 * 1000, "%F"), *text;

	if (strcmp(day, today) == 0)
		text = g_strdup_printf("%s · %s", _("Today"), day);
	else if (strcmp(day, yesterday) == 0)
		text = g_strdup_printf("%s · %s", _("Yesterday"), day);
	else
		text = g_strdup(day);
	g_free(day);
	g_free(today);
	g_free(yesterday);
	return text;
}

static bool same_day(int64_t a, int64_t b)
{
	char *da = format_ts(a, "%F"), *db = format_ts(b, "%F");
	bool same = strcmp(da, db) == 0;

	g_free(da);
	g_free(db);
	return same;
}

static void clear_box(GtkWidget *box)
{
	GtkWidget *child;

	while ((child = gtk_widget_get_first_child(box)) != NULL)
		gtk_box_remove(GTK_BOX(box), child);
}

static void on_thumb(GdkTexture *tex, gpointer data)
{
	GtkWidget *pic = data;

	if (tex != NULL)
		gtk_picture_set_paintable(GTK_PICTURE(pic), GDK_PAINTABLE(tex));
	g_object_unref(pic);
}

static void on_media_clicked(GtkButton *b, gpointer data)
{
	struct row *r = data;

	(void)b;
	if (r->msg != NULL && r->msg->media != NULL)
		pg_media_open(r->media_ctx, GTK_WIDGET(b), r->msg->media, r->msg->kind);
}

static void bind_media(struct row *r, PgMsg *m)
{
	json_t *media = m->media;
	const char *name = json_string_value(json_object_get(media, "name"));
	int64_t id = json_integer_value(json_object_get(media, "id"));
	GtkWidget *button;
	char *label;

	clear_box(r->media);
	if (media == NULL || id <= 0 || e2ee_unreadable(m)) {
		gtk_widget_set_visible(r->media, FALSE);
		return;
	}
	button = gtk_button_new();
	gtk_widget_set_visible(r->media, TRUE);
	gtk_widget_add_css_class(button, "msg-media");
	gtk_widget_set_name(button, "msg-media");
	if (m->kind != NULL && strcmp(m->kind, "image") == 0) {
		GtkWidget *pic = gtk_picture_new();

		gtk_widget_set_size_request(pic, 160, 120);
		gtk_picture_set_can_shrink(GTK_PICTURE(pic), TRUE);
		gtk_button_set_child(GTK_BUTTON(button), pic);
		label = g_strdup_printf(_("Image %s: open full size"), name != NULL ? name : "");
		if (r->cancel != NULL) {
			g_cancellable_cancel(r->cancel);
			g_object_unref(r->cancel);
		}
		r->cancel = g_cancellable_new();
		if (json_is_string(json_object_get(media, "key")))
			pg_media_thumbnail_e2ee(r->media_ctx, media, r->cancel, on_thumb,
			                        g_object_ref(pic));
		else
			pg_media_thumbnail(r->media_ctx, id, r->cancel, on_thumb, g_object_ref(pic));
	} else {
		const char *n = name != NULL ? name : "";

		if (m->kind != NULL && strcmp(m->kind, "video") == 0)
			label = g_strdup_printf(_("▶ Video: %s"), n);
		else if (m->kind != NULL && strcmp(m->kind, "audio") == 0)
			label = g_strdup_printf(_("▶ Audio: %s"), n);
		else
			label = g_strdup_printf(_("Save file: %s"), n);
		gtk_button_set_label(GTK_BUTTON(button), label);
	}
	gtk_accessible_update_property(GTK_ACCESSIBLE(button), GTK_ACCESSIBLE_PROPERTY_LABEL, label,
	                               -1);
	gtk_widget_set_tooltip_text(button, label);
	g_free(label);
	g_signal_connect(button, "clicked", G_CALLBACK(on_media_clicked), r);
	gtk_box_append(GTK_BOX(r->media), button);
}

static void bind(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
	struct factory_data *fd = data;
	struct row *r = g_object_get_data(G_OBJECT(gtk_list_item_get_child(item)), "pg-row");
	PgMsg *m = gtk_list_item_get_item(item);
	guint pos = gtk_list_item_get_position(item);
	PgMsg *prev = pos > 0 && *fd->store != NULL ? pg_msg_store_peek(*fd->store, pos - 1) : NULL;
	bool new_day = prev == NULL || !same_day(prev->ts, m->ts);
	bool grouped = !new_day && prev != NULL && strcmp(prev->from, m->from) == 0 &&
	               m->ts - prev->ts < GROUP_GAP_MS;
	char *s, *markup;

	(void)f;
	r->msg = m;
	s = day_text(m->ts);
	gtk_label_set_text(GTK_LABEL(r->day), s);
	g_free(s);
	gtk_widget_set_visible(r->day, new_day);
	gtk_widget_set_visible(r->head, !grouped);
	if (m->display != NULL)
		s = g_strdup_printf("%s (%s)", m->display, m->from);
	else
		s = g_strdup(m->from);
	gtk_label_set_text(GTK_LABEL(r->sender), s);
	g_free(s);
	s = format_ts(m->ts, "%H:%M");
	if (m->pending || m->failed) {
		char *t = g_strdup_printf("%s · %s", s, m->failed ? _("not sent") : _("sending…"));

		g_free(s);
		s = t;
	}
	gtk_label_set_text(GTK_LABEL(r->time), s);
	g_free(s);
	if (m->recalled) {
		markup = g_markup_printf_escaped("<i>%s</i>", _("(message recalled)"));
	} else if (e2ee_unreadable(m)) {
		markup = e2ee_placeholder();
	} else {
		char *body = pg_msgrow_markup(m->text);

		markup = m->edited ? g_strdup_printf("%s <small>%s</small>", body, _("(edited)"))
		                   : g_strdup(body);
		g_free(body);
	}
	gtk_label_set_markup(GTK_LABEL(r->body), markup);
	g_free(markup);
	gtk_widget_set_visible(r->body, m->recalled || e2ee_unreadable(m) || m->text[0] != '\0' ||
	                                m->edited);
	gtk_widget_set_visible(r->lock, m->encrypted);
	gtk_widget_remove_css_class(r->body, pg_msg_is_private(m) ? "msg-room" : "msg-private");
	gtk_widget_add_css_class(r->body, pg_msg_is_private(m) ? "msg-private" : "msg-room");
	if (m->pending)
		gtk_widget_add_css_class(r->box, "pending");
	else
		gtk_widget_remove_css_class(r->box, "pending");
	if (m->mentioned)
		gtk_widget_add_css_class(r->box, "mentioned");
	else
		gtk_widget_remove_css_class(r->box, "mentioned");
	bind_media(r, m);
	bind_changes(r, m);
}

static void unbind(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
	struct row *r = g_object_get_data(G_OBJECT(gtk_list_item_get_child(item)), "pg-row");

	(void)f;
	(void)data;
	r->msg = NULL;
	if (r->cancel != NULL) {
		g_cancellable_cancel(r->cancel);
		g_clear_object(&r->cancel);
	}
}

GtkListItemFactory *pg_msgrow_factory_new(PgMsgStore *const *store, struct pg_media *media)
{
	GtkListItemFactory *f = gtk_signal_list_item_factory_new();
	struct factory_data *fd = g_new0(struct factory_data, 1);

	fd->store = store;
	fd->media = media;
	g_object_set_data_full(G_OBJECT(f), "pg-factory", fd, g_free);
	g_signal_connect(f, "setup", G_CALLBACK(setup), fd);
	g_signal_connect(f, "bind", G_CALLBACK(bind), fd);
	g_signal_connect(f, "unbind", G_CALLBACK(unbind), fd);
	return f;
}

/* ---- what came after sending: the unread divider, quotes, recalls, reactions, actions ---- */

void pg_msgrow_set_actions(GtkListItemFactory *f, struct pg_msgactions *actions,
                           struct pg_session *session)
{
	struct factory_data *fd = g_object_get_data(G_OBJECT(f), "pg-factory");

	fd->actions = actions;
	fd->session = session;
}

static void on_actions_clicked(GtkButton *b, gpointer data)
{
	struct row *r = data;

	if (r->msg != NULL && r->fd->actions != NULL)
		pg_msgactions_popup(r->fd->actions, GTK_WIDGET(b), r->msg);
}

static void on_row_pressed(GtkGestureClick *g, int n, double x, double y, gpointer data)
{
	struct row *r = data;

	(void)n;
	(void)x;
	(void)y;
	if (r->msg != NULL && r->fd->actions != NULL && r->msg->id > 0 && !r->msg->recalled) {
		gtk_gesture_set_state(GTK_GESTURE(g), GTK_EVENT_SEQUENCE_CLAIMED);
		pg_msgactions_popup(r->fd->actions, r->actions_btn, r->msg);
	}
}

static gboolean on_row_key(GtkEventControllerKey *k, guint keyval, guint code,
                           GdkModifierType state, gpointer data)
{
	struct row *r = data;

	(void)k;
	(void)code;
	if ((keyval == GDK_KEY_Menu || (keyval == GDK_KEY_F10 && (state & GDK_SHIFT_MASK))) &&
	    r->msg != NULL && r->fd->actions != NULL) {
		pg_msgactions_popup(r->fd->actions, r->actions_btn, r->msg);
		return TRUE;
	}
	return FALSE;
}

static void on_quote_clicked(GtkButton *b, gpointer data)
{
	struct row *r = data;

	(void)b;
	if (r->msg != NULL && r->fd->actions != NULL)
		pg_msgactions_show_quoted(r->fd->actions, r->msg);
}

static void setup_changes(struct row *r)
{
	GtkGesture *click = gtk_gesture_click_new();
	GtkEventController *key = gtk_event_controller_key_new();

	r->divider = gtk_label_new(NULL);
	gtk_widget_set_name(r->divider, "new-divider");
	gtk_widget_add_css_class(r->divider, "new-divider");
	gtk_widget_set_visible(r->divider, FALSE);
	gtk_box_insert_child_after(GTK_BOX(r->box), r->divider, r->day);
	r->quote = gtk_label_new(NULL);
	gtk_widget_set_name(r->quote, "msg-quote");
	gtk_widget_add_css_class(r->quote, "msg-quote");
	gtk_label_set_xalign(GTK_LABEL(r->quote), 0);
	gtk_label_set_ellipsize(GTK_LABEL(r->quote), PANGO_ELLIPSIZE_END);
	/* a button: a click or Enter shows the quoted message */
	r->quote_btn = gtk_button_new();
	gtk_widget_set_name(r->quote_btn, "msg-quote-button");
	gtk_widget_add_css_class(r->quote_btn, "flat");
	gtk_widget_add_css_class(r->quote_btn, "msg-quote-button");
	gtk_widget_set_halign(r->quote_btn, GTK_ALIGN_START);
	gtk_button_set_child(GTK_BUTTON(r->quote_btn), r->quote);
	g_signal_connect(r->quote_btn, "clicked", G_CALLBACK(on_quote_clicked), r);
	gtk_widget_set_visible(r->quote_btn, FALSE);
	gtk_box_insert_child_after(GTK_BOX(r->box), r->quote_btn, r->head);
	r->extras = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	r->reactions = pg_reactions_bar_new();
	r->actions_btn = gtk_button_new_from_icon_name("view-more-horizontal-symbolic");
	gtk_widget_set_name(r->actions_btn, "msg-actions");
	gtk_widget_add_css_class(r->actions_btn, "flat");
	gtk_widget_add_css_class(r->actions_btn, "msg-actions");
	gtk_widget_set_tooltip_text(r->actions_btn, _("Message actions (react, reply, edit, "
	                                              "recall)"));
	gtk_accessible_update_property(GTK_ACCESSIBLE(r->actions_btn),
	                               GTK_ACCESSIBLE_PROPERTY_LABEL, _("Message actions"), -1);
	g_signal_connect(r->actions_btn, "clicked", G_CALLBACK(on_actions_clicked), r);
	/* The "…" button at the end of the text's line (it takes no line of its own); the
	 * reactions on a line under it. */
	r->line = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	g_object_ref(r->body);
	gtk_box_remove(GTK_BOX(r->box), r->body);
	gtk_widget_set_hexpand(r->body, FALSE);
	gtk_box_append(GTK_BOX(r->line), r->body);
	g_object_unref(r->body);
	gtk_widget_set_valign(r->actions_btn, GTK_ALIGN_START);
	gtk_box_append(GTK_BOX(r->line), r->actions_btn);
	gtk_box_insert_child_after(GTK_BOX(r->box), r->line, r->quote_btn);
	gtk_box_append(GTK_BOX(r->extras), r->reactions);
	gtk_box_append(GTK_BOX(r->box), r->extras);
	gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(click), GDK_BUTTON_SECONDARY);
	g_signal_connect(click, "pressed", G_CALLBACK(on_row_pressed), r);
	gtk_widget_add_controller(r->box, GTK_EVENT_CONTROLLER(click));
	g_signal_connect(key, "key-pressed", G_CALLBACK(on_row_key), r);
	gtk_widget_add_controller(r->box, key);
}

/* "alice: the first words" of a reply's quote, or that it was recalled. */
static char *quote_text(const json_t *q)
{
	const char *from = json_string_value(json_object_get(q, "from"));
	const char *text = json_string_value(json_object_get(q, "text"));

	if (json_is_true(json_object_get(q, "recalled")))
		return g_strdup_printf("↪ %s: %s", from != NULL ? from : "",
		                       _("The original message was recalled"));
	return g_strdup_printf("↪ %s: %s%s", from != NULL ? from : "", text != NULL ? text : "",
	                       json_is_true(json_object_get(q, "cut")) ? "…" : "");
}

static void bind_changes(struct row *r, PgMsg *m)
{
	struct factory_data *fd = r->fd;
	PgMsgStore *st = *fd->store;
	guint pos;
	int count = 0;
	int64_t read = st != NULL ? pg_msg_store_divider(st, &count) : 0;
	const char *me = fd->session != NULL ? pg_session_user(fd->session) : NULL;
	bool mine = me != NULL && g_ascii_strcasecmp(m->from, me) == 0;
	PgMsg *prev = NULL;

	/* The divider: before the first message after the read position. */
	if (read > 0 && !m->pending && m->id > read && pg_msg_store_find(st, m->id, &pos) != NULL)
		prev = pos > 0 ? pg_msg_store_peek(st, pos - 1) : NULL;
	if (read > 0 && !m->pending && m->id > read && (prev == NULL || prev->id <= read)) {
		char *text = g_strdup_printf(g_dngettext(PG_GETTEXT_PACKAGE, "%d new message",
		                                         "%d new messages", (unsigned long)count),
		                             count);

		gtk_label_set_text(GTK_LABEL(r->divider), text);
		g_free(text);
		gtk_widget_set_visible(r->divider, TRUE);
		gtk_widget_set_visible(r->head, TRUE);   /* the sender again after the divider */
	} else {
		gtk_widget_set_visible(r->divider, FALSE);
	}
	if (m->quote != NULL && !m->recalled) {
		char *text = quote_text(m->quote);

		char *label = g_strdup_printf(_("%s. Show the original message"), text);

		gtk_label_set_text(GTK_LABEL(r->quote), text);
		gtk_widget_set_tooltip_text(r->quote_btn, label);
		gtk_accessible_update_property(GTK_ACCESSIBLE(r->quote_btn),
		                               GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
		g_free(label);
		g_free(text);
		gtk_widget_set_visible(r->quote_btn, TRUE);
	} else {
		gtk_widget_set_visible(r->quote_btn, FALSE);
	}
	if (m->recalled) {
		char *text = mine ? g_strdup(_("You recalled a message"))
		                  : g_strdup_printf(_("%s recalled a message"), m->from);
		char *markup = g_markup_printf_escaped("<i>%s</i>", text);

		gtk_label_set_markup(GTK_LABEL(r->body), markup);
		gtk_widget_add_css_class(r->box, "recalled");
		g_free(markup);
		g_free(text);
	} else {
		gtk_widget_remove_css_class(r->box, "recalled");
	}
	if (st != NULL && m->id > 0 && pg_msg_store_flash(st) == m->id)
		gtk_widget_add_css_class(r->box, "flash");
	else
		gtk_widget_remove_css_class(r->box, "flash");
	pg_reactions_bind(r->reactions, m, fd->actions);
	gtk_widget_set_visible(r->actions_btn, fd->actions != NULL && m->id > 0 && !m->recalled);
	gtk_widget_set_visible(r->extras, gtk_widget_get_visible(r->reactions));
}
