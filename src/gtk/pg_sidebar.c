/* pg_sidebar.c - conversations, who is online, join / chat with (see pg_sidebar.h). */
#include "pg_sidebar.h"

#include <string.h>

#include "names.h"
#include "pg_i18n.h"

struct pg_sidebar {
	struct pg_session *session;
	struct pg_sidebar_ops ops;
	void *ud;
	GtkWidget *box, *status, *convs, *online, *entry;
	GtkWidget *online_heading, *online_refresh;
	bool fetched;          /* everyone online was asked for once (the button says Refresh) */
	GtkSingleSelection *sel;
	gboolean syncing;      /* selection changed by the program: no open callback */
};

/* ---- rows ---- */

static void conv_setup(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	GtkWidget *name = gtk_label_new(NULL), *badge = gtk_label_new(NULL);

	(void)f;
	(void)data;
	gtk_label_set_xalign(GTK_LABEL(name), 0);
	gtk_label_set_ellipsize(GTK_LABEL(name), PANGO_ELLIPSIZE_END);
	gtk_widget_set_hexpand(name, TRUE);
	gtk_widget_add_css_class(badge, "unread-badge");
	gtk_box_append(GTK_BOX(box), name);
	gtk_box_append(GTK_BOX(box), badge);
	gtk_widget_add_css_class(box, "conv-row");
	gtk_list_item_set_child(item, box);
}

static void conv_bind(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
	GtkWidget *box = gtk_list_item_get_child(item);
	GtkWidget *name = gtk_widget_get_first_child(box), *badge = gtk_widget_get_last_child(box);
	PgConv *c = gtk_list_item_get_item(item);
	char buf[8], *text, *acc;
	const char *unread = pg_conv_unread_text(c, buf);

	(void)f;
	(void)data;
	if (c->with[0] == '@')
		text = g_strdup_printf("%s %s", c->online ? "●" : "○", c->with + 1);
	else
		text = g_strdup(c->with);
	gtk_label_set_text(GTK_LABEL(name), text);
	gtk_label_set_text(GTK_LABEL(badge), unread);
	gtk_widget_set_visible(badge, unread[0] != '\0');
	if (c->mentioned)
		gtk_widget_add_css_class(badge, "mention");
	else
		gtk_widget_remove_css_class(badge, "mention");
	/* What a screen reader says for the row. */
	if (unread[0] != '\0')
		acc = g_strdup_printf(_("%s, %s unread"), c->with, unread);
	else
		acc = g_strdup(c->with);
	gtk_accessible_update_property(GTK_ACCESSIBLE(box), GTK_ACCESSIBLE_PROPERTY_LABEL, acc, -1);
	gtk_widget_set_tooltip_text(box, acc);
	g_free(acc);
	g_free(text);
}

static GtkListItemFactory *conv_factory(void)
{
	GtkListItemFactory *f = gtk_signal_list_item_factory_new();

	g_signal_connect(f, "setup", G_CALLBACK(conv_setup), NULL);
	g_signal_connect(f, "bind", G_CALLBACK(conv_bind), NULL);
	return f;
}

/* ---- actions ---- */

static void on_selected(GObject *obj, GParamSpec *ps, gpointer data)
{
	struct pg_sidebar *sb = data;
	PgConv *c = gtk_single_selection_get_selected_item(sb->sel);

	(void)obj;
	(void)ps;
	if (!sb->syncing && c != NULL)
		sb->ops.open(sb->ud, c->with);
}

static void on_online_activate(GtkListView *lv, guint pos, gpointer data)
{
	struct pg_sidebar *sb = data;
	PgConv *c = g_list_model_get_item(G_LIST_MODEL(gtk_list_view_get_model(lv)), pos);

	if (c == NULL)
		return;
	if (g_ascii_strcasecmp(c->with + 1, pg_session_user(sb->session)) != 0)
		sb->ops.open(sb->ud, c->with);
	g_object_unref(c);
}

static void on_entry_activate(GtkEntry *e, gpointer data)
{
	struct pg_sidebar *sb = data;
	char *text = g_strstrip(g_strdup(gtk_editable_get_text(GTK_EDITABLE(e))));

	if (text[0] == '#' && pier_room_check(text) == PIER_NAME_OK) {
		sb->ops.join(sb->ud, text);
		gtk_editable_set_text(GTK_EDITABLE(e), "");
	} else {
		const char *user = text[0] == '@' ? text + 1 : text;

		if (pier_name_check(user) == PIER_NAME_OK) {
			char *with = g_strconcat("@", user, NULL);

			sb->ops.open(sb->ud, with);
			g_free(with);
			gtk_editable_set_text(GTK_EDITABLE(e), "");
		} else {
			gtk_widget_error_bell(GTK_WIDGET(e));
		}
	}
	g_free(text);
}

void pg_sidebar_select(struct pg_sidebar *sb, const char *with)
{
	guint pos;

	sb->syncing = TRUE;
	if (with != NULL && pg_conv_list_find(pg_session_conversations(sb->session), with, &pos))
		gtk_single_selection_set_selected(sb->sel, pos);
	else
		gtk_single_selection_set_selected(sb->sel, GTK_INVALID_LIST_POSITION);
	sb->syncing = FALSE;
}

void pg_sidebar_move(struct pg_sidebar *sb, int delta)
{
	guint n = g_list_model_get_n_items(G_LIST_MODEL(sb->sel));
	guint cur = gtk_single_selection_get_selected(sb->sel);
	gint next;

	if (n == 0)
		return;
	next = cur == GTK_INVALID_LIST_POSITION ? 0 : (gint)cur + delta;
	if (next < 0 || next >= (gint)n)
		return;
	gtk_single_selection_set_selected(sb->sel, (guint)next);
}

/* The heading "Online (N)" and the button: "Show everyone online" (presence lists contacts
 * only), "Refresh" once shown, insensitive while a fetch is out. */
static void online_changed(void *ud)
{
	struct pg_sidebar *sb = ud;
	char *text = g_strdup_printf(_("Online (%lld)"),
	                             (long long)pg_session_online_total(sb->session));
	bool fetching = pg_session_fetching_online(sb->session);

	gtk_label_set_text(GTK_LABEL(sb->online_heading), text);
	g_free(text);
	gtk_widget_set_sensitive(sb->online_refresh, !fetching);
	gtk_button_set_label(GTK_BUTTON(sb->online_refresh),
	                     fetching ? _("Loading…") : sb->fetched ? _("Refresh")
	                                                          : _("Show everyone online"));
}

static void on_online_refresh(GtkButton *b, gpointer data)
{
	struct pg_sidebar *sb = data;

	(void)b;
	if (pg_session_fetch_online(sb->session))
		sb->fetched = true;
	online_changed(sb);
}

void pg_sidebar_set_status(struct pg_sidebar *sb, const char *text)
{
	gtk_label_set_text(GTK_LABEL(sb->status), text);
}

static GtkWidget *heading(const char *text)
{
	GtkWidget *l = gtk_label_new(text);

	gtk_widget_add_css_class(l, "heading");
	gtk_label_set_xalign(GTK_LABEL(l), 0);
	gtk_widget_set_margin_top(l, 6);
	gtk_widget_set_margin_start(l, 6);
	return l;
}

static GtkWidget *scrolled(GtkWidget *child, gboolean expand)
{
	GtkWidget *s = gtk_scrolled_window_new();

	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(s), child);
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(s), GTK_POLICY_NEVER,
	                               GTK_POLICY_AUTOMATIC);
	gtk_widget_set_vexpand(s, expand);
	return s;
}

/* The box goes before the session (the window's children before its data): the hook is
 * taken back from the session, which lives on. */
static void sidebar_free(gpointer p)
{
	struct pg_sidebar *sb = p;

	pg_session_on_online_changed(sb->session, NULL, NULL);
	g_free(sb);
}

struct pg_sidebar *pg_sidebar_new(struct pg_session *s, const struct pg_sidebar_ops *ops,
                                  void *ud)
{
	struct pg_sidebar *sb = g_new0(struct pg_sidebar, 1);
	GtkNoSelection *online_sel;
	GtkWidget *online_scroll;

	sb->session = s;
	sb->ops = *ops;
	sb->ud = ud;
	sb->box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
	gtk_widget_set_name(sb->box, "sidebar");
	gtk_widget_add_css_class(sb->box, "sidebar");
	gtk_widget_set_size_request(sb->box, 220, -1);
	sb->status = gtk_label_new(NULL);
	gtk_widget_set_name(sb->status, "sidebar-status");
	gtk_label_set_xalign(GTK_LABEL(sb->status), 0);
	gtk_widget_set_margin_start(sb->status, 6);
	sb->entry = gtk_entry_new();
	gtk_widget_set_name(sb->entry, "join-entry");
	gtk_entry_set_placeholder_text(GTK_ENTRY(sb->entry), _("#room or @user"));
	gtk_accessible_update_property(GTK_ACCESSIBLE(sb->entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
	                               _("Join a room (#name) or chat with a user (@name)"), -1);
	gtk_widget_set_tooltip_text(sb->entry, _("Join a room (#name) or chat with a user (@name)"));
	g_signal_connect(sb->entry, "activate", G_CALLBACK(on_entry_activate), sb);

	sb->sel = gtk_single_selection_new(G_LIST_MODEL(g_object_ref(pg_session_conversations(s))));
	gtk_single_selection_set_autoselect(sb->sel, FALSE);
	gtk_single_selection_set_can_unselect(sb->sel, TRUE);
	gtk_single_selection_set_selected(sb->sel, GTK_INVALID_LIST_POSITION);
	g_signal_connect(sb->sel, "notify::selected", G_CALLBACK(on_selected), sb);
	sb->convs = gtk_list_view_new(GTK_SELECTION_MODEL(sb->sel), conv_factory());
	gtk_widget_set_name(sb->convs, "conv-list");
	gtk_widget_add_css_class(sb->convs, "navigation-sidebar");
	gtk_accessible_update_property(GTK_ACCESSIBLE(sb->convs), GTK_ACCESSIBLE_PROPERTY_LABEL,
	                               _("Conversations"), -1);

	online_sel = gtk_no_selection_new(G_LIST_MODEL(g_object_ref(pg_session_online(s))));
	sb->online = gtk_list_view_new(GTK_SELECTION_MODEL(online_sel), conv_factory());
	gtk_widget_set_name(sb->online, "online-list");
	gtk_list_view_set_single_click_activate(GTK_LIST_VIEW(sb->online), TRUE);
	gtk_widget_add_css_class(sb->online, "navigation-sidebar");
	gtk_accessible_update_property(GTK_ACCESSIBLE(sb->online), GTK_ACCESSIBLE_PROPERTY_LABEL,
	                               _("Online users"), -1);
	g_signal_connect(sb->online, "activate", G_CALLBACK(on_online_activate), sb);
	online_scroll = scrolled(sb->online, FALSE);
	gtk_scrolled_window_set_min_content_height(GTK_SCROLLED_WINDOW(online_scroll), 120);

	gtk_box_append(GTK_BOX(sb->box), sb->status);
	gtk_box_append(GTK_BOX(sb->box), sb->entry);
	gtk_box_append(GTK_BOX(sb->box), heading(_("Conversations")));
	gtk_box_append(GTK_BOX(sb->box), scrolled(sb->convs, TRUE));
	sb->online_heading = heading(_("Online"));
	gtk_widget_set_name(sb->online_heading, "online-heading");
	gtk_box_append(GTK_BOX(sb->box), sb->online_heading);
	gtk_box_append(GTK_BOX(sb->box), online_scroll);
	sb->online_refresh = gtk_button_new_with_label(_("Show everyone online"));
	gtk_widget_set_name(sb->online_refresh, "online-refresh");
	gtk_widget_add_css_class(sb->online_refresh, "flat");
	gtk_widget_set_tooltip_text(sb->online_refresh,
	                            _("Only your contacts' presence is live; this asks the server "
	                              "who is online now"));
	gtk_accessible_update_property(GTK_ACCESSIBLE(sb->online_refresh),
	                               GTK_ACCESSIBLE_PROPERTY_LABEL, _("Show everyone online"), -1);
	g_signal_connect(sb->online_refresh, "clicked", G_CALLBACK(on_online_refresh), sb);
	gtk_box_append(GTK_BOX(sb->box), sb->online_refresh);
	pg_session_on_online_changed(s, online_changed, sb);
	online_changed(sb);
	g_object_set_data_full(G_OBJECT(sb->box), "pg-sidebar", sb, sidebar_free);
	return sb;
}

GtkWidget *pg_sidebar_widget(struct pg_sidebar *sb)
{
	return sb->box;
}
