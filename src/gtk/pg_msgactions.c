/* pg_msgactions.c - the message menu, the emoji picker and their requests (see
 * pg_msgactions.h). */
#include "pg_msgactions.h"

#include <string.h>

#include "msgrules.h"
#include "pg_changes.h"
#include "pg_e2ee.h"
#include "pg_i18n.h"

const char *const pg_msgactions_quick[6] = { "👍", "❤️", "😂", "😮", "😢", "🙏" };
const char *const pg_msgactions_more[32] = {
	"👍", "👎", "❤️", "🔥", "🎉", "👏", "😂", "🤣", "😊", "😍", "🤔", "😮",
	"😢", "😭", "😡", "🙏", "💯", "✅", "❌", "👀", "🙌", "💪", "🤝", "👌",
	"🚀", "⭐", "☕", "🍉", "🌹", "🐶", "+1", "收到",
};

#define PICKER_COLUMNS 8

struct pg_msgactions {
	struct pg_session *session;
	struct pg_msgactions_ops ops;
	void *ud;
	GtkWidget *popover;     /* the menu or the picker open now (parented to a row widget) */
	PgMsg *msg;             /* its message (a ref) */
};

/* What a request in flight needs when its reply comes: the message by conversation and id
 * (the object may have been replaced by a page of history since). The session is freed
 * before the actions (pg_window.c), and its requests then end with a NULL reply, which
 * touches nothing but the request. */
struct action_req {
	struct pg_msgactions *a;
	char *with;
	int64_t id;
	char *emoji;
	char *text;
	bool on;
};

static struct action_req *action_req_new(struct pg_msgactions *a, const PgMsg *msg)
{
	struct action_req *r = g_new0(struct action_req, 1);

	r->a = a;
	r->with = g_strdup(msg->to != NULL && msg->to[0] == '@' &&
	                   g_ascii_strcasecmp(msg->from, pg_session_user(a->session)) != 0
	                   ? NULL : msg->to);
	if (r->with == NULL)
		r->with = g_strconcat("@", msg->from, NULL);   /* a private message to us */
	r->id = msg->id;
	return r;
}

static void action_req_free(struct action_req *r)
{
	g_free(r->with);
	g_free(r->emoji);
	g_free(r->text);
	g_free(r);
}

static void notice_error(struct pg_msgactions *a, const json_t *reply)
{
	const char *code = json_string_value(json_object_get(reply, "error"));
	const char *text = pier_error_text(code, pg_i18n_lang());

	if (code != NULL && strcmp(code, "recall_expired") == 0 &&
	    json_is_number(json_object_get(reply, "window_s")))
		pg_session_set_recall_window(a->session,
		                             (int)json_number_value(json_object_get(reply, "window_s")));
	if (a->ops.notice != NULL)
		a->ops.notice(a->ud, text != NULL ? text : code != NULL ? code : "error");
}

static bool is_error(const json_t *reply)
{
	return g_strcmp0(json_string_value(json_object_get(reply, "op")), "error") == 0;
}

/* The message of request r in its store now, with its position. */
static PgMsg *req_msg(struct action_req *r, guint *pos, PgMsgStore **st)
{
	*st = pg_session_store(r->a->session, r->with);
	return *st != NULL ? pg_msg_store_find(*st, r->id, pos) : NULL;
}

/* The message a reply to r changes: NULL when there is nothing to change (no reply, the
 * session ended; an error, shown; the message no longer loaded). */
static PgMsg *reply_msg(struct action_req *r, const json_t *reply, guint *pos, PgMsgStore **st)
{
	if (reply == NULL)
		return NULL;
	if (is_error(reply)) {
		notice_error(r->a, reply);
		return NULL;
	}
	return req_msg(r, pos, st);
}

/* Sends req (taken) for r (taken: freed by cb, or here when offline, with a notice). */
static void send_action(struct action_req *r, json_t *req, pg_session_reply_cb cb)
{
	struct pg_msgactions *a = r->a;

	if (!pg_session_call(a->session, req, cb, r)) {
		action_req_free(r);
		if (a->ops.notice != NULL)
			a->ops.notice(a->ud, _("Offline: try again when connected."));
	}
}

/* ---- requests ---- */

static void on_react_reply(json_t *reply, void *ud)
{
	struct action_req *r = ud;
	PgMsgStore *st;
	PgMsg *msg;
	guint pos;

	msg = reply_msg(r, reply, &pos, &st);
	if (msg != NULL) {
		pg_changes_react(msg, r->emoji, pg_session_user(r->a->session), r->on,
		                 json_integer_value(json_object_get(reply, "count")), true);
		pg_msg_store_changed_at(st, pos);
	}
	action_req_free(r);
}

void pg_msgactions_react(struct pg_msgactions *a, PgMsg *msg, bool on, const char *emoji)
{
	struct action_req *r;

	if (msg == NULL || msg->id <= 0 || msg->recalled)
		return;
	r = action_req_new(a, msg);
	r->emoji = g_strdup(emoji);
	r->on = on;
	send_action(r, pier_req_react(msg->id, emoji, on), on_react_reply);
}

static void on_recall_reply(json_t *reply, void *ud)
{
	struct action_req *r = ud;
	PgMsgStore *st;
	guint pos;
	PgMsg *msg = reply_msg(r, reply, &pos, &st);

	if (msg != NULL) {
		pg_changes_recall(msg);
		pg_msg_store_changed_at(st, pos);
	}
	action_req_free(r);
}

void pg_msgactions_recall(struct pg_msgactions *a, PgMsg *msg)
{
	struct action_req *r;

	if (msg == NULL || msg->id <= 0)
		return;
	r = action_req_new(a, msg);
	send_action(r, pier_req_recall(msg->id), on_recall_reply);
}

static void on_edit_reply(json_t *reply, void *ud)
{
	struct action_req *r = ud;
	PgMsgStore *st;
	guint pos;
	PgMsg *msg = reply_msg(r, reply, &pos, &st);

	if (msg != NULL) {
		pg_changes_edit(msg, r->text, json_integer_value(json_object_get(reply, "edited")));
		pg_msg_store_changed_at(st, pos);
	}
	action_req_free(r);
}

bool pg_msgactions_edit(struct pg_msgactions *a, const char *with, int64_t id, const char *text)
{
	struct action_req *r = g_new0(struct action_req, 1);

	r->a = a;
	r->with = g_strdup(with);
	r->id = id;
	r->text = g_strdup(text);
	if (!pg_session_call(a->session, pier_req_edit(id, text), on_edit_reply, r)) {
		action_req_free(r);
		return false;
	}
	return true;
}

void pg_msgactions_show_quoted(struct pg_msgactions *a, const PgMsg *msg)
{
	struct action_req *r;

	if (msg->reply_to <= 0 || a->ops.jump == NULL)
		return;
	r = action_req_new(a, msg);   /* for its conversation's name */
	a->ops.jump(a->ud, r->with, msg->reply_to);
	action_req_free(r);
}

bool pg_msgactions_can_recall(struct pg_msgactions *a, const PgMsg *msg)
{
	int window = pg_session_recall_window(a->session);
	const char *me = pg_session_user(a->session);

	return msg->id > 0 && !msg->recalled && me != NULL && g_ascii_strcasecmp(msg->from, me) == 0 &&
	       window > 0 && g_get_real_time() / 1000 - msg->ts < (int64_t)window * 1000;
}

/* ---- the popovers ---- */

static gboolean unparent_later(gpointer data)
{
	GtkWidget *pop = data;

	if (gtk_widget_get_parent(pop) != NULL)
		gtk_widget_unparent(pop);
	g_object_unref(pop);
	return G_SOURCE_REMOVE;
}

static void on_closed(GtkPopover *pop, gpointer data)
{
	struct pg_msgactions *a = data;

	if (a->popover == GTK_WIDGET(pop)) {
		a->popover = NULL;
		g_clear_object(&a->msg);
	}
	/* Not from inside its own signal: the next main loop turn. */
	g_idle_add(unparent_later, g_object_ref(pop));
}

static void close_popover(struct pg_msgactions *a)
{
	if (a->popover != NULL)
		gtk_popover_popdown(GTK_POPOVER(a->popover));
}

static GtkWidget *popover_new(struct pg_msgactions *a, GtkWidget *anchor, PgMsg *msg,
                              const char *name)
{
	GtkWidget *pop = gtk_popover_new();

	if (a->popover != NULL) {
		GtkWidget *old = a->popover;

		a->popover = NULL;
		gtk_popover_popdown(GTK_POPOVER(old));
	}
	gtk_widget_set_name(pop, name);
	gtk_widget_set_parent(pop, anchor);
	g_signal_connect(pop, "closed", G_CALLBACK(on_closed), a);
	g_clear_object(&a->msg);
	a->msg = g_object_ref(msg);
	a->popover = pop;
	return pop;
}

static void on_quick_clicked(GtkButton *b, gpointer data)
{
	struct pg_msgactions *a = data;
	const char *emoji = g_object_get_data(G_OBJECT(b), "pg-emoji");
	PgMsg *msg = a->msg != NULL ? g_object_ref(a->msg) : NULL;

	close_popover(a);
	if (msg != NULL) {
		pg_msgactions_react(a, msg, !pg_changes_has_mine(msg, emoji, NULL), emoji);
		g_object_unref(msg);
	}
}

static GtkWidget *emoji_button(struct pg_msgactions *a, const PgMsg *msg, const char *emoji,
                               const char *name)
{
	GtkWidget *b = gtk_toggle_button_new_with_label(emoji);
	char *label = g_strdup_printf(_("React with %s"), emoji);

	gtk_widget_set_name(b, name);
	gtk_widget_add_css_class(b, "flat");
	gtk_widget_add_css_class(b, "emoji-button");
	gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(b), pg_changes_has_mine(msg, emoji, NULL));
	gtk_widget_set_tooltip_text(b, label);
	gtk_accessible_update_property(GTK_ACCESSIBLE(b), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
	g_free(label);
	g_object_set_data_full(G_OBJECT(b), "pg-emoji", g_strdup(emoji), g_free);
	/* "clicked": a toggle button's state is the message's, set again when it is redrawn */
	g_signal_connect(b, "clicked", G_CALLBACK(on_quick_clicked), a);
	return b;
}

static void on_item_clicked(GtkButton *b, gpointer data)
{
	struct pg_msgactions *a = data;
	const char *what = gtk_widget_get_name(GTK_WIDGET(b));
	PgMsg *msg = a->msg != NULL ? g_object_ref(a->msg) : NULL;
	GtkWidget *anchor = a->popover != NULL ? gtk_widget_get_parent(a->popover) : NULL;

	if (msg == NULL)
		return;
	if (anchor != NULL)
		g_object_ref(anchor);
	close_popover(a);
	if (strcmp(what, "menu-react-more") == 0 && anchor != NULL) {
		pg_msgactions_picker(a, anchor, msg);
	} else if (strcmp(what, "menu-reply") == 0 && a->ops.reply != NULL) {
		a->ops.reply(a->ud, msg);
	} else if (strcmp(what, "menu-edit") == 0 && a->ops.edit != NULL) {
		a->ops.edit(a->ud, msg);
	} else if (strcmp(what, "menu-recall") == 0) {
		pg_msgactions_recall(a, msg);
	} else if (strcmp(what, "menu-copy") == 0) {
		gdk_clipboard_set_text(gdk_display_get_clipboard(gdk_display_get_default()), msg->text);
		if (a->ops.notice != NULL)
			a->ops.notice(a->ud, _("Copied."));
	}
	if (anchor != NULL)
		g_object_unref(anchor);
	g_object_unref(msg);
}

static GtkWidget *menu_item(struct pg_msgactions *a, const char *name, const char *label)
{
	GtkWidget *b = gtk_button_new_with_label(label);

	gtk_widget_set_name(b, name);
	gtk_widget_add_css_class(b, "flat");
	gtk_widget_set_halign(gtk_button_get_child(GTK_BUTTON(b)), GTK_ALIGN_START);
	g_signal_connect(b, "clicked", G_CALLBACK(on_item_clicked), a);
	return b;
}

void pg_msgactions_popup(struct pg_msgactions *a, GtkWidget *anchor, PgMsg *msg)
{
	const char *me = pg_session_user(a->session);
	bool mine = me != NULL && g_ascii_strcasecmp(msg->from, me) == 0;
	GtkWidget *pop, *box, *quick, *more;
	char *label;

	if (msg->id <= 0 || msg->recalled)
		return;   /* a message not stored yet, or gone, has no actions */
	pop = popover_new(a, anchor, msg, "msg-menu");
	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
	quick = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
	gtk_widget_set_name(quick, "menu-quick");
	gtk_accessible_update_property(GTK_ACCESSIBLE(quick), GTK_ACCESSIBLE_PROPERTY_LABEL,
	                               _("React"), -1);
	for (size_t i = 0; i < G_N_ELEMENTS(pg_msgactions_quick); i++)
		gtk_box_append(GTK_BOX(quick), emoji_button(a, msg, pg_msgactions_quick[i],
		                                            "quick-react"));
	more = gtk_button_new_from_icon_name("face-smile-symbolic");
	gtk_widget_set_name(more, "menu-react-more");
	gtk_widget_add_css_class(more, "flat");
	gtk_widget_set_tooltip_text(more, _("More reactions…"));
	gtk_accessible_update_property(GTK_ACCESSIBLE(more), GTK_ACCESSIBLE_PROPERTY_LABEL,
	                               _("More reactions…"), -1);
	g_signal_connect(more, "clicked", G_CALLBACK(on_item_clicked), a);
	gtk_box_append(GTK_BOX(quick), more);
	gtk_box_append(GTK_BOX(box), quick);
	gtk_box_append(GTK_BOX(box), gtk_separator_new(GTK_ORIENTATION_HORIZONTAL));
	/* an encrypted message: answered and edited encrypted when this device read it (e2ee) */
	if (!msg->encrypted || pg_e2ee_can_change(pg_session_e2ee(a->session), msg->text, msg->media))
		gtk_box_append(GTK_BOX(box), menu_item(a, "menu-reply", _("Reply")));
	if (mine &&
	    (!msg->encrypted || pg_e2ee_can_change(pg_session_e2ee(a->session), msg->text, msg->media)))
		gtk_box_append(GTK_BOX(box), menu_item(a, "menu-edit", _("Edit")));
	if (mine && pg_msgactions_can_recall(a, msg)) {
		GtkWidget *recall = menu_item(a, "menu-recall", _("Recall (撤回)"));
		int minutes = MAX(1, (pg_session_recall_window(a->session) + 30) / 60);

		label = g_strdup_printf(g_dngettext(PG_GETTEXT_PACKAGE,
		                                    "Others no longer see it; possible for %d minute "
		                                    "after sending",
		                                    "Others no longer see it; possible for %d minutes "
		                                    "after sending", (unsigned long)minutes), minutes);
		gtk_widget_set_tooltip_text(recall, label);
		g_free(label);
		gtk_box_append(GTK_BOX(box), recall);
	}
	if (msg->text != NULL && msg->text[0] != '\0')
		gtk_box_append(GTK_BOX(box), menu_item(a, "menu-copy", _("Copy text")));
	label = g_strdup_printf(_("Actions on %s's message"), msg->from);
	gtk_accessible_update_property(GTK_ACCESSIBLE(pop), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
	g_free(label);
	gtk_popover_set_child(GTK_POPOVER(pop), box);
	gtk_popover_popup(GTK_POPOVER(pop));
}

static void on_custom(GtkEntry *e, gpointer data)
{
	struct pg_msgactions *a = data;
	char *emoji = g_strstrip(g_strdup(gtk_editable_get_text(GTK_EDITABLE(e))));
	PgMsg *msg = a->msg != NULL ? g_object_ref(a->msg) : NULL;
	GtkWidget *status = g_object_get_data(G_OBJECT(e), "pg-status");

	if (!pier_reaction_check(emoji)) {
		gtk_label_set_text(GTK_LABEL(status), _("Not a reaction: one emoji or a short word, "
		                                        "without spaces."));
		gtk_widget_set_visible(status, TRUE);
	} else if (msg != NULL) {
		close_popover(a);
		pg_msgactions_react(a, msg, !pg_changes_has_mine(msg, emoji, NULL), emoji);
	}
	if (msg != NULL)
		g_object_unref(msg);
	g_free(emoji);
}

void pg_msgactions_picker(struct pg_msgactions *a, GtkWidget *anchor, PgMsg *msg)
{
	GtkWidget *pop = popover_new(a, anchor, msg, "emoji-picker");
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	GtkWidget *title = gtk_label_new(_("Add a reaction"));
	GtkWidget *grid = gtk_grid_new();
	GtkWidget *entry = gtk_entry_new(), *status = gtk_label_new(NULL);

	gtk_widget_add_css_class(title, "heading");
	gtk_widget_set_name(grid, "emoji-grid");
	for (size_t i = 0; i < G_N_ELEMENTS(pg_msgactions_more); i++)
		gtk_grid_attach(GTK_GRID(grid), emoji_button(a, msg, pg_msgactions_more[i],
		                                             "picker-emoji"),
		                (int)(i % PICKER_COLUMNS), (int)(i / PICKER_COLUMNS), 1, 1);
	gtk_widget_set_name(entry, "emoji-custom");
	gtk_entry_set_max_length(GTK_ENTRY(entry), 32);
	gtk_entry_set_placeholder_text(GTK_ENTRY(entry), _("Or type a reaction, then Enter"));
	gtk_accessible_update_property(GTK_ACCESSIBLE(entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
	                               _("Or type a reaction, then Enter"), -1);
	gtk_widget_set_name(status, "emoji-status");
	gtk_widget_set_visible(status, FALSE);
	g_object_set_data(G_OBJECT(entry), "pg-status", status);
	g_signal_connect(entry, "activate", G_CALLBACK(on_custom), a);
	gtk_box_append(GTK_BOX(box), title);
	gtk_box_append(GTK_BOX(box), grid);
	gtk_box_append(GTK_BOX(box), entry);
	gtk_box_append(GTK_BOX(box), status);
	gtk_accessible_update_property(GTK_ACCESSIBLE(pop), GTK_ACCESSIBLE_PROPERTY_LABEL,
	                               _("Add a reaction"), -1);
	gtk_popover_set_child(GTK_POPOVER(pop), box);
	gtk_popover_popup(GTK_POPOVER(pop));
}

GtkWidget *pg_msgactions_open_popover(struct pg_msgactions *a)
{
	return a->popover;
}

struct pg_msgactions *pg_msgactions_new(struct pg_session *s, const struct pg_msgactions_ops *ops,
                                        void *ud)
{
	struct pg_msgactions *a = g_new0(struct pg_msgactions, 1);

	a->session = s;
	a->ops = *ops;
	a->ud = ud;
	return a;
}

void pg_msgactions_free(struct pg_msgactions *a)
{
	if (a == NULL)
		return;
	if (a->popover != NULL && gtk_widget_get_parent(a->popover) != NULL)
		gtk_widget_unparent(a->popover);
	g_clear_object(&a->msg);
	g_free(a);
}
