/* pg_members.c - a room's members in a popover (see pg_members.h). */
#include "pg_members.h"

#include "pg_i18n.h"

struct members {
	struct pg_session *session;
	GtkWidget *button, *list, *more;
	char *room;
	char *last;     /* the last name shown: the next page starts after it */
};

static void request_page(struct members *m);

static void add_row(struct members *m, const char *user, const char *display, bool online)
{
	char *text = display != NULL ? g_strdup_printf("%s %s (%s)", online ? "●" : "○", display,
	                                               user)
	                             : g_strdup_printf("%s %s", online ? "●" : "○", user);
	GtkWidget *l = gtk_label_new(text);
	char *acc = online ? g_strdup_printf(_("%s, online"), user)
	                   : g_strdup_printf(_("%s, offline"), user);

	gtk_label_set_xalign(GTK_LABEL(l), 0);
	gtk_accessible_update_property(GTK_ACCESSIBLE(l), GTK_ACCESSIBLE_PROPERTY_LABEL, acc, -1);
	gtk_list_box_append(GTK_LIST_BOX(m->list), l);
	g_free(acc);
	g_free(text);
}

static void on_page(json_t *reply, void *ud)
{
	GtkWidget *button = ud;
	struct members *m = g_object_get_data(G_OBJECT(button), "pg-members");
	json_t *e;
	size_t i;

	if (reply == NULL || m == NULL || g_strcmp0(json_string_value(json_object_get(reply, "op")),
	                                            "members") != 0) {
		g_object_unref(button);
		return;
	}
	json_array_foreach(json_object_get(reply, "members"), i, e) {
		const char *user = json_string_value(json_object_get(e, "user"));

		if (user == NULL)
			continue;
		add_row(m, user, json_string_value(json_object_get(e, "display")),
		        json_is_true(json_object_get(e, "online")));
		g_free(m->last);
		m->last = g_strdup(user);
	}
	gtk_widget_set_visible(m->more, json_is_true(json_object_get(reply, "more")));
	g_object_unref(button);
}

static void request_page(struct members *m)
{
	if (m->room == NULL)
		return;
	if (!pg_session_members(m->session, m->room, m->last, on_page, g_object_ref(m->button)))
		g_object_unref(m->button);
}

static void on_show(GtkWidget *popover, gpointer data)
{
	struct members *m = data;
	GtkWidget *row;

	(void)popover;
	while ((row = gtk_widget_get_first_child(m->list)) != NULL)
		gtk_list_box_remove(GTK_LIST_BOX(m->list), row);
	g_clear_pointer(&m->last, g_free);
	gtk_widget_set_visible(m->more, FALSE);
	request_page(m);
}

static void on_more(GtkButton *b, gpointer data)
{
	(void)b;
	request_page(data);
}

static void members_free(gpointer p)
{
	struct members *m = p;

	g_free(m->room);
	g_free(m->last);
	g_free(m);
}

GtkWidget *pg_members_button_new(struct pg_session *s)
{
	struct members *m = g_new0(struct members, 1);
	GtkWidget *popover = gtk_popover_new(), *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	GtkWidget *scroll = gtk_scrolled_window_new();

	m->session = s;
	m->button = gtk_menu_button_new();
	gtk_widget_set_name(m->button, "members-button");
	gtk_menu_button_set_label(GTK_MENU_BUTTON(m->button), _("Members"));
	gtk_accessible_update_property(GTK_ACCESSIBLE(m->button), GTK_ACCESSIBLE_PROPERTY_LABEL,
	                               _("Room members"), -1);
	m->list = gtk_list_box_new();
	gtk_widget_set_name(m->list, "members-list");
	gtk_list_box_set_selection_mode(GTK_LIST_BOX(m->list), GTK_SELECTION_NONE);
	gtk_accessible_update_property(GTK_ACCESSIBLE(m->list), GTK_ACCESSIBLE_PROPERTY_LABEL,
	                               _("Room members"), -1);
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), m->list);
	gtk_scrolled_window_set_min_content_height(GTK_SCROLLED_WINDOW(scroll), 240);
	gtk_scrolled_window_set_min_content_width(GTK_SCROLLED_WINDOW(scroll), 220);
	m->more = gtk_button_new_with_label(_("More…"));
	gtk_widget_set_name(m->more, "members-more");
	g_signal_connect(m->more, "clicked", G_CALLBACK(on_more), m);
	gtk_box_append(GTK_BOX(box), scroll);
	gtk_box_append(GTK_BOX(box), m->more);
	gtk_popover_set_child(GTK_POPOVER(popover), box);
	g_signal_connect(popover, "show", G_CALLBACK(on_show), m);
	gtk_menu_button_set_popover(GTK_MENU_BUTTON(m->button), popover);
	g_object_set_data_full(G_OBJECT(m->button), "pg-members", m, members_free);
	gtk_widget_set_visible(m->button, FALSE);
	return m->button;
}

void pg_members_set_room(GtkWidget *button, const char *with)
{
	struct members *m = g_object_get_data(G_OBJECT(button), "pg-members");

	g_free(m->room);
	m->room = with != NULL && with[0] == '#' ? g_strdup(with) : NULL;
	gtk_widget_set_visible(button, m->room != NULL);
}
