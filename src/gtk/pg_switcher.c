/* pg_switcher.c - Ctrl+K: find a conversation by name (see pg_switcher.h). */
#include "pg_switcher.h"

#include <string.h>

#include "pg_i18n.h"

struct switcher {
	GtkWidget *win, *entry, *list;
	GtkFilter *filter;
	GtkFilterListModel *model;
	pg_switcher_open_cb open;
	gpointer ud;
};

static gboolean matches(gpointer item, gpointer data)
{
	struct switcher *sw = data;
	const char *q = gtk_editable_get_text(GTK_EDITABLE(sw->entry));
	char *hay = g_utf8_casefold(PG_CONV(item)->with, -1), *needle = g_utf8_casefold(q, -1);
	gboolean ok = strstr(hay, needle) != NULL;

	g_free(hay);
	g_free(needle);
	return ok;
}

static void on_changed(GtkEditable *e, gpointer data)
{
	struct switcher *sw = data;

	(void)e;
	gtk_filter_changed(sw->filter, GTK_FILTER_CHANGE_DIFFERENT);
}

static void open_at(struct switcher *sw, guint pos)
{
	PgConv *c = g_list_model_get_item(G_LIST_MODEL(sw->model), pos);

	if (c == NULL)
		return;
	sw->open(c->with, sw->ud);
	g_object_unref(c);
	gtk_window_destroy(GTK_WINDOW(sw->win));
}

/* Enter opens the first match of what is typed now: the entry's search-changed comes 150 ms
 * after the last key, so the filter is brought up to date first (it is not incremental: at
 * once). A fast typist's Enter, or a loaded machine, opened the first of the old list. */
static void on_activate(GtkEntry *e, gpointer data)
{
	struct switcher *sw = data;

	(void)e;
	gtk_filter_changed(sw->filter, GTK_FILTER_CHANGE_DIFFERENT);
	open_at(sw, 0);
}

static void on_row(GtkListView *lv, guint pos, gpointer data)
{
	(void)lv;
	open_at(data, pos);
}

static void setup(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
	GtkWidget *l = gtk_label_new(NULL);

	(void)f;
	(void)data;
	gtk_label_set_xalign(GTK_LABEL(l), 0);
	gtk_list_item_set_child(item, l);
}

static void bind(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
	(void)f;
	(void)data;
	gtk_label_set_text(GTK_LABEL(gtk_list_item_get_child(item)),
	                   PG_CONV(gtk_list_item_get_item(item))->with);
}

static void switcher_free(gpointer p)
{
	g_free(p);
}

GtkWidget *pg_switcher_show(GtkWindow *parent, PgConvList *convs, pg_switcher_open_cb open,
                            gpointer ud)
{
	struct switcher *sw = g_new0(struct switcher, 1);
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6), *scroll;
	GtkListItemFactory *f = gtk_signal_list_item_factory_new();

	sw->open = open;
	sw->ud = ud;
	sw->win = gtk_window_new();
	gtk_widget_set_name(sw->win, "switcher");
	gtk_window_set_title(GTK_WINDOW(sw->win), _("Go to conversation"));
	gtk_window_set_transient_for(GTK_WINDOW(sw->win), parent);
	gtk_window_set_modal(GTK_WINDOW(sw->win), TRUE);
	gtk_window_set_default_size(GTK_WINDOW(sw->win), 360, 320);
	gtk_window_set_hide_on_close(GTK_WINDOW(sw->win), FALSE);
	sw->entry = gtk_search_entry_new();
	gtk_widget_set_name(sw->entry, "switcher-entry");
	gtk_accessible_update_property(GTK_ACCESSIBLE(sw->entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
	                               _("Conversation name"), -1);
	sw->filter = GTK_FILTER(gtk_custom_filter_new(matches, sw, NULL));
	sw->model = gtk_filter_list_model_new(G_LIST_MODEL(g_object_ref(convs)), sw->filter);
	g_signal_connect(f, "setup", G_CALLBACK(setup), NULL);
	g_signal_connect(f, "bind", G_CALLBACK(bind), NULL);
	sw->list = gtk_list_view_new(GTK_SELECTION_MODEL(gtk_single_selection_new(
	                                     G_LIST_MODEL(sw->model))), f);
	gtk_list_view_set_single_click_activate(GTK_LIST_VIEW(sw->list), TRUE);
	g_signal_connect(sw->entry, "search-changed", G_CALLBACK(on_changed), sw);
	g_signal_connect(sw->entry, "activate", G_CALLBACK(on_activate), sw);
	g_signal_connect(sw->list, "activate", G_CALLBACK(on_row), sw);
	g_signal_connect_swapped(sw->entry, "stop-search", G_CALLBACK(gtk_window_destroy), sw->win);
	scroll = gtk_scrolled_window_new();
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), sw->list);
	gtk_widget_set_vexpand(scroll, TRUE);
	gtk_box_append(GTK_BOX(box), sw->entry);
	gtk_box_append(GTK_BOX(box), scroll);
	gtk_widget_set_margin_start(box, 8);
	gtk_widget_set_margin_end(box, 8);
	gtk_widget_set_margin_top(box, 8);
	gtk_widget_set_margin_bottom(box, 8);
	gtk_window_set_child(GTK_WINDOW(sw->win), box);
	gtk_search_entry_set_key_capture_widget(GTK_SEARCH_ENTRY(sw->entry), sw->win);
	g_object_set_data_full(G_OBJECT(sw->win), "pg-switcher", sw, switcher_free);
	gtk_window_present(GTK_WINDOW(sw->win));
	gtk_widget_grab_focus(sw->entry);
	return sw->win;
}
