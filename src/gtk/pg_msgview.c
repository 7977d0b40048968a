/* pg_msgview.c - the message list (see pg_msgview.h). */
#include "pg_msgview.h"

#include "pg_convlist.h"
#include "pg_i18n.h"
#include "pg_msgrow.h"

#define FLASH_MS 2400   /* how long the message a jump led to stays marked */

struct pg_msgview {
	struct pg_session *session;
	GtkWidget *overlay, *scroller, *list, *newer;
	GtkAdjustment *adj;
	PgMsgStore *store;      /* the shown conversation's (a ref) */
	gulong changed_id;
	gboolean stick;         /* follow new messages at the bottom */
	guint scroll_idle;
	guint flash_timer;
};

static void show_divider(struct pg_msgview *v, const char *with);

static gboolean at_bottom(struct pg_msgview *v)
{
	return gtk_adjustment_get_value(v->adj) + gtk_adjustment_get_page_size(v->adj) >=
	       gtk_adjustment_get_upper(v->adj) - 8;
}

static gboolean do_scroll_bottom(gpointer data)
{
	struct pg_msgview *v = data;

	v->scroll_idle = 0;
	gtk_adjustment_set_value(v->adj, gtk_adjustment_get_upper(v->adj) -
	                                 gtk_adjustment_get_page_size(v->adj));
	return G_SOURCE_REMOVE;
}

static void queue_scroll_bottom(struct pg_msgview *v)
{
	if (v->scroll_idle == 0)
		v->scroll_idle = g_idle_add_full(G_PRIORITY_LOW, do_scroll_bottom, v, NULL);
}

void pg_msgview_scroll_to_bottom(struct pg_msgview *v)
{
	v->stick = TRUE;
	pg_session_set_at_end(v->session, TRUE);
	gtk_widget_set_visible(v->newer, FALSE);
	if (v->store != NULL && pg_msg_store_has_newer(v->store))
		pg_session_reload_newest(v->session, pg_msg_store_with(v->store));
	queue_scroll_bottom(v);
}

gboolean pg_msgview_is_stuck(struct pg_msgview *v)
{
	return v->stick;
}

static void on_value_changed(GtkAdjustment *adj, gpointer data)
{
	struct pg_msgview *v = data;

	if (v->store == NULL)
		return;
	if (v->scroll_idle == 0) {
		v->stick = at_bottom(v) && !pg_msg_store_has_newer(v->store);
		pg_session_set_at_end(v->session, v->stick);
	}
	if (v->stick)
		gtk_widget_set_visible(v->newer, FALSE);
	/* Near the top: the page before. */
	if (gtk_adjustment_get_value(adj) < gtk_adjustment_get_page_size(adj) &&
	    gtk_adjustment_get_upper(adj) > gtk_adjustment_get_page_size(adj))
		pg_session_load_older(v->session, pg_msg_store_with(v->store));
}

/* Scrolling on past the top (the wheel, a touchpad, the keyboard) when the loaded messages
 * already start there: the page before. */
static void on_edge(GtkScrolledWindow *sw, GtkPositionType pos, gpointer data)
{
	struct pg_msgview *v = data;

	(void)sw;
	if (pos == GTK_POS_TOP && v->store != NULL)
		pg_session_load_older(v->session, pg_msg_store_with(v->store));
}

static void on_upper_changed(GObject *obj, GParamSpec *ps, gpointer data)
{
	struct pg_msgview *v = data;

	(void)obj;
	(void)ps;
	if (v->stick)
		queue_scroll_bottom(v);
}

static void on_items_changed(GListModel *model, guint pos, guint removed, guint added,
                             gpointer data)
{
	struct pg_msgview *v = data;
	guint n = g_list_model_get_n_items(model);

	(void)removed;
	if (added == 0 || pos + added != n)
		return;
	if (v->stick) {
		queue_scroll_bottom(v);
	} else {
		PgMsg *last = pg_msg_store_peek(PG_MSG_STORE(model), n - 1);

		if (last != NULL && !last->pending)
			gtk_widget_set_visible(v->newer, TRUE);
	}
}

static void on_newer_clicked(GtkButton *b, gpointer data)
{
	(void)b;
	pg_msgview_scroll_to_bottom(data);
}

void pg_msgview_show(struct pg_msgview *v, const char *with)
{
	GtkNoSelection *sel;

	if (v->store != NULL) {
		pg_msg_store_set_flash(v->store, 0);
		g_signal_handler_disconnect(v->store, v->changed_id);
		g_clear_object(&v->store);
	}
	gtk_widget_set_visible(v->newer, FALSE);
	if (with == NULL) {
		gtk_list_view_set_model(GTK_LIST_VIEW(v->list), NULL);
		return;
	}
	v->store = g_object_ref(pg_session_open(v->session, with));
	show_divider(v, with);
	v->changed_id = g_signal_connect(v->store, "items-changed", G_CALLBACK(on_items_changed), v);
	sel = gtk_no_selection_new(G_LIST_MODEL(g_object_ref(v->store)));
	gtk_list_view_set_model(GTK_LIST_VIEW(v->list), GTK_SELECTION_MODEL(sel));
	g_object_unref(sel);
	v->stick = TRUE;
	queue_scroll_bottom(v);
}

static void msgview_free(gpointer p)
{
	struct pg_msgview *v = p;

	if (v->scroll_idle != 0)
		g_source_remove(v->scroll_idle);
	if (v->flash_timer != 0)
		g_source_remove(v->flash_timer);
	if (v->store != NULL) {
		g_signal_handler_disconnect(v->store, v->changed_id);
		g_object_unref(v->store);
	}
	g_free(v);
}

struct pg_msgview *pg_msgview_new(struct pg_session *s, struct pg_media *media)
{
	struct pg_msgview *v = g_new0(struct pg_msgview, 1);

	v->session = s;
	v->list = gtk_list_view_new(NULL, pg_msgrow_factory_new(&v->store, media));
	gtk_widget_set_name(v->list, "msg-list");
	gtk_widget_add_css_class(v->list, "msg-list");
	gtk_accessible_update_property(GTK_ACCESSIBLE(v->list), GTK_ACCESSIBLE_PROPERTY_LABEL,
	                               _("Messages"), -1);
	v->scroller = gtk_scrolled_window_new();
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(v->scroller), GTK_POLICY_NEVER,
	                               GTK_POLICY_AUTOMATIC);
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(v->scroller), v->list);
	gtk_widget_set_vexpand(v->scroller, TRUE);
	gtk_widget_set_name(v->scroller, "msg-scroller");
	g_signal_connect(v->scroller, "edge-overshot", G_CALLBACK(on_edge), v);
	g_signal_connect(v->scroller, "edge-reached", G_CALLBACK(on_edge), v);
	v->adj = gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(v->scroller));
	g_signal_connect(v->adj, "value-changed", G_CALLBACK(on_value_changed), v);
	g_signal_connect(v->adj, "notify::upper", G_CALLBACK(on_upper_changed), v);
	v->newer = gtk_button_new_with_label(_("New messages ↓"));
	gtk_widget_set_name(v->newer, "new-messages");
	gtk_widget_add_css_class(v->newer, "suggested-action");
	gtk_widget_set_halign(v->newer, GTK_ALIGN_CENTER);
	gtk_widget_set_valign(v->newer, GTK_ALIGN_END);
	gtk_widget_set_margin_bottom(v->newer, 12);
	gtk_widget_set_visible(v->newer, FALSE);
	g_signal_connect(v->newer, "clicked", G_CALLBACK(on_newer_clicked), v);
	v->overlay = gtk_overlay_new();
	gtk_overlay_set_child(GTK_OVERLAY(v->overlay), v->scroller);
	gtk_overlay_add_overlay(GTK_OVERLAY(v->overlay), v->newer);
	g_object_set_data_full(G_OBJECT(v->overlay), "pg-msgview", v, msgview_free);
	v->stick = TRUE;
	return v;
}

GtkWidget *pg_msgview_widget(struct pg_msgview *v)
{
	return v->overlay;
}

/* ---- the chat features ---- */

/* The "N new messages" divider at the read position the conversation had when it opened
 * (before the window marks it read). */
static void show_divider(struct pg_msgview *v, const char *with)
{
	PgConv *c = pg_conv_list_find(pg_session_conversations(v->session), with, NULL);
	int unread = c != NULL ? c->unread : 0;
	int64_t read = pg_session_read_position(v->session, with);
	const char *me = pg_session_user(v->session);
	guint n = g_list_model_get_n_items(G_LIST_MODEL(v->store)), left = (guint)MAX(unread, 0);

	/* Not told by the server (a room joined since the login): the unread ones are the last
	 * messages from others in the window. */
	if (read == 0 && unread > 0 && pg_msg_store_is_loaded(v->store)) {
		for (guint i = n; i > 0 && left > 0; i--) {
			PgMsg *m = pg_msg_store_peek(v->store, i - 1);

			if (m->pending || (me != NULL && g_ascii_strcasecmp(m->from, me) == 0))
				continue;
			if (--left == 0)
				read = i >= 2 ? pg_msg_store_peek(v->store, i - 2)->id : m->id - 1;
		}
	}
	pg_msg_store_set_divider(v->store, read, unread);
}

void pg_msgview_set_actions(struct pg_msgview *v, struct pg_msgactions *actions)
{
	pg_msgrow_set_actions(gtk_list_view_get_factory(GTK_LIST_VIEW(v->list)), actions,
	                      v->session);
}

GtkWidget *pg_msgview_drop_area(struct pg_msgview *v)
{
	return v->scroller;
}

static gboolean on_flash_end(gpointer data)
{
	struct pg_msgview *v = data;

	v->flash_timer = 0;
	if (v->store != NULL)
		pg_msg_store_set_flash(v->store, 0);
	return G_SOURCE_REMOVE;
}

/* Marks message id for a moment (2.4 s, as the browser). */
static void flash(struct pg_msgview *v, int64_t id)
{
	pg_msg_store_set_flash(v->store, id);
	if (v->flash_timer != 0)
		g_source_remove(v->flash_timer);
	v->flash_timer = g_timeout_add(FLASH_MS, on_flash_end, v);
}

gboolean pg_msgview_scroll_to_id(struct pg_msgview *v, int64_t id)
{
	guint pos;

	if (v->store == NULL || pg_msg_store_find(v->store, id, &pos) == NULL)
		return FALSE;
	v->stick = FALSE;
	pg_session_set_at_end(v->session, FALSE);
	if (v->scroll_idle != 0) {
		g_source_remove(v->scroll_idle);
		v->scroll_idle = 0;
	}
	gtk_widget_activate_action(v->list, "list.scroll-to-item", "u", pos);
	flash(v, id);
	/* A page from further up: the way back to the newest. */
	gtk_widget_set_visible(v->newer, pg_msg_store_has_newer(v->store));
	return TRUE;
}
