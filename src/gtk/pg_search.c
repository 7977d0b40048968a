/* pg_search.c - the search window (see pg_search.h). */
#include "pg_search.h"

#include <string.h>

#include "pg_i18n.h"
#include "pg_msg.h"

#define SEARCH_PAGE 50

struct pg_search {
	struct pg_session *session;
	GtkWindow *parent;
	void (*open)(void *ud, const char *with, int64_t id);
	void *ud;
	GtkWidget *win, *entry, *scope, *list, *status, *more;
	char *with;          /* the conversation shown when opened */
	char *query;         /* the query of the results listed */
	char *query_with;    /* its scope (NULL: everywhere) */
	int64_t next_before; /* the next page, 0: none */
	guint count;
	guint generation;    /* a new search makes older replies stale */
	bool busy;
};

char *pg_search_markup(const char *text, const json_t *highlight)
{
	GString *out = g_string_new(NULL);
	glong len = g_utf8_strlen(text, -1), at = 0;
	json_t *range;
	size_t i;

	json_array_foreach(highlight, i, range) {
		json_int_t a = json_integer_value(json_array_get(range, 0));
		json_int_t b = json_integer_value(json_array_get(range, 1));
		const char *pa, *pb;
		char *esc;

		if (a < at || b <= a || b > len)
			continue;   /* out of order or past the text: not trusted */
		pa = g_utf8_offset_to_pointer(text, (glong)a);
		pb = g_utf8_offset_to_pointer(text, (glong)b);
		esc = g_markup_escape_text(g_utf8_offset_to_pointer(text, at),
		                           pa - g_utf8_offset_to_pointer(text, at));
		g_string_append(out, esc);
		g_free(esc);
		esc = g_markup_escape_text(pa, pb - pa);
		g_string_append_printf(out, "<span weight=\"bold\" background=\"#f6d32d\" "
		                       "foreground=\"#000000\">%s</span>", esc);
		g_free(esc);
		at = (glong)b;
	}
	{
		char *esc = g_markup_escape_text(g_utf8_offset_to_pointer(text, at), -1);

		g_string_append(out, esc);
		g_free(esc);
	}
	return g_string_free(out, FALSE);
}

static void set_status(struct pg_search *se, const char *text)
{
	gtk_label_set_text(GTK_LABEL(se->status), text != NULL ? text : "");
	gtk_widget_set_visible(se->status, text != NULL && text[0] != '\0');
}

static void clear_results(struct pg_search *se)
{
	GtkWidget *row;

	while ((row = gtk_widget_get_first_child(se->list)) != NULL)
		gtk_list_box_remove(GTK_LIST_BOX(se->list), row);
	se->count = 0;
}

static char *format_time(int64_t ts)
{
	GDateTime *utc = g_date_time_new_from_unix_utc(ts / 1000);
	GDateTime *local = utc != NULL ? g_date_time_to_local(utc) : NULL;
	char *s = local != NULL ? g_date_time_format(local, "%F %H:%M") : g_strdup("");

	if (utc != NULL)
		g_date_time_unref(utc);
	if (local != NULL)
		g_date_time_unref(local);
	return s;
}

static void add_result(struct pg_search *se, const json_t *m)
{
	const char *me = pg_session_user(se->session);
	char *with = pg_msg_conversation_of(m, me);
	const char *from = json_string_value(json_object_get(m, "from"));
	const char *text = json_string_value(json_object_get(m, "text"));
	const char *display = json_string_value(json_object_get(m, "display"));
	json_t *media = json_object_get(m, "media");
	GtkWidget *row, *box, *head, *body;
	char *when, *title, *markup;

	if (with == NULL || from == NULL)
		return;
	when = format_time(json_integer_value(json_object_get(m, "ts")));
	title = display != NULL ? g_strdup_printf("%s · %s (%s) · %s", with, display, from, when)
	                        : g_strdup_printf("%s · %s · %s", with, from, when);
	if (text != NULL && text[0] != '\0')
		markup = pg_search_markup(text, json_object_get(m, "highlight"));
	else if (json_is_object(media))
		markup = pg_search_markup(json_string_value(json_object_get(media, "name")) != NULL
		                          ? json_string_value(json_object_get(media, "name")) : "",
		                          json_object_get(m, "name_highlight"));
	else
		markup = g_strdup("");
	row = gtk_list_box_row_new();
	gtk_widget_set_name(row, "search-result");
	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
	head = gtk_label_new(title);
	gtk_widget_add_css_class(head, "msg-time");
	gtk_label_set_xalign(GTK_LABEL(head), 0);
	body = gtk_label_new(NULL);
	gtk_widget_set_name(body, "search-text");
	gtk_label_set_markup(GTK_LABEL(body), markup);
	gtk_label_set_xalign(GTK_LABEL(body), 0);
	gtk_label_set_wrap(GTK_LABEL(body), TRUE);
	gtk_label_set_wrap_mode(GTK_LABEL(body), PANGO_WRAP_WORD_CHAR);
	gtk_box_append(GTK_BOX(box), head);
	gtk_box_append(GTK_BOX(box), body);
	gtk_widget_set_margin_top(box, 4);
	gtk_widget_set_margin_bottom(box, 4);
	gtk_widget_set_margin_start(box, 8);
	gtk_widget_set_margin_end(box, 8);
	gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), box);
	{
		char *label = g_strdup_printf("%s: %s", title, text != NULL ? text : "");

		gtk_accessible_update_property(GTK_ACCESSIBLE(row), GTK_ACCESSIBLE_PROPERTY_LABEL,
		                               label, -1);
		g_free(label);
	}
	g_object_set_data_full(G_OBJECT(row), "pg-with", with, g_free);
	g_object_set_data(G_OBJECT(row), "pg-id",
	                  GSIZE_TO_POINTER((gsize)json_integer_value(json_object_get(m, "id"))));
	gtk_list_box_append(GTK_LIST_BOX(se->list), row);
	se->count++;
	g_free(when);
	g_free(title);
	g_free(markup);
}

struct search_req {
	struct pg_search *se;
	guint generation;
};

static void on_reply(json_t *reply, void *ud)
{
	struct search_req *r = ud;
	struct pg_search *se = r->se;
	json_t *m;
	size_t i;
	char *text;

	if (reply == NULL || r->generation != se->generation) {
		g_free(r);
		return;
	}
	g_free(r);
	se->busy = false;
	if (g_strcmp0(json_string_value(json_object_get(reply, "op")), "error") == 0) {
		const char *code = json_string_value(json_object_get(reply, "error"));
		const char *t = pier_error_text(code, pg_i18n_lang());

		set_status(se, t != NULL ? t : code);
		gtk_widget_set_visible(se->more, FALSE);
		return;
	}
	json_array_foreach(json_object_get(reply, "messages"), i, m)
		add_result(se, m);
	se->next_before = json_is_true(json_object_get(reply, "more"))
	                  ? json_integer_value(json_object_get(reply, "next_before")) : 0;
	gtk_widget_set_visible(se->more, se->next_before > 0);
	if (se->count == 0 && se->next_before == 0)
		text = g_strdup(_("Nothing found."));
	else
		text = g_strdup_printf(g_dngettext(PG_GETTEXT_PACKAGE, "%u result", "%u results",
		                                   se->count), se->count);
	set_status(se, text);
	g_free(text);
}

static void ask(struct pg_search *se, int64_t before)
{
	struct search_req *r = g_new0(struct search_req, 1);

	r->se = se;
	r->generation = se->generation;
	se->busy = true;
	if (!pg_session_call(se->session, pier_req_search(se->query, se->query_with, before,
	                                                  SEARCH_PAGE), on_reply, r)) {
		g_free(r);
		se->busy = false;
		set_status(se, _("Offline: try again when connected."));
	}
}

static void on_activate(GtkWidget *w, gpointer data)
{
	struct pg_search *se = data;
	char *q = g_strstrip(g_strdup(gtk_editable_get_text(GTK_EDITABLE(se->entry))));

	(void)w;
	if (q[0] == '\0') {
		g_free(q);
		return;
	}
	se->generation++;
	clear_results(se);
	g_free(se->query);
	se->query = q;
	g_free(se->query_with);
	se->query_with = gtk_check_button_get_active(GTK_CHECK_BUTTON(se->scope)) && se->with != NULL
	                 ? g_strdup(se->with) : NULL;
	se->next_before = 0;
	set_status(se, _("Searching…"));
	ask(se, 0);
}

static void on_more(GtkButton *b, gpointer data)
{
	struct pg_search *se = data;

	(void)b;
	if (se->next_before > 0 && !se->busy)
		ask(se, se->next_before);
}

static void on_row_activated(GtkListBox *box, GtkListBoxRow *row, gpointer data)
{
	struct pg_search *se = data;
	const char *with = g_object_get_data(G_OBJECT(row), "pg-with");
	int64_t id = (int64_t)GPOINTER_TO_SIZE(g_object_get_data(G_OBJECT(row), "pg-id"));

	(void)box;
	if (with != NULL && id > 0)
		se->open(se->ud, with, id);
}

static gboolean on_close(GtkWindow *w, gpointer data)
{
	(void)data;
	gtk_widget_set_visible(GTK_WIDGET(w), FALSE);
	return TRUE;   /* kept for the next Ctrl+F, with its results */
}

static void build(struct pg_search *se)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6), *scroll;
	GtkEventController *key = gtk_shortcut_controller_new();

	se->win = gtk_window_new();
	gtk_widget_set_name(se->win, "search-window");
	gtk_window_set_title(GTK_WINDOW(se->win), _("Search messages"));
	gtk_window_set_transient_for(GTK_WINDOW(se->win), se->parent);
	gtk_window_set_default_size(GTK_WINDOW(se->win), 560, 520);
	gtk_window_set_hide_on_close(GTK_WINDOW(se->win), TRUE);
	g_signal_connect(se->win, "close-request", G_CALLBACK(on_close), se);
	gtk_shortcut_controller_add_shortcut(GTK_SHORTCUT_CONTROLLER(key), gtk_shortcut_new(
		gtk_shortcut_trigger_parse_string("Escape"), gtk_named_action_new("window.close")));
	gtk_widget_add_controller(se->win, key);
	se->entry = gtk_search_entry_new();
	gtk_widget_set_name(se->entry, "search-entry");
	gtk_accessible_update_property(GTK_ACCESSIBLE(se->entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
	                               _("Search messages"), -1);
	g_signal_connect(se->entry, "activate", G_CALLBACK(on_activate), se);
	se->scope = gtk_check_button_new_with_label(_("Only this conversation"));
	gtk_widget_set_name(se->scope, "search-scope");
	se->status = gtk_label_new(NULL);
	gtk_widget_set_name(se->status, "search-status");
	gtk_label_set_xalign(GTK_LABEL(se->status), 0);
	gtk_label_set_wrap(GTK_LABEL(se->status), TRUE);
	se->list = gtk_list_box_new();
	gtk_widget_set_name(se->list, "search-results");
	gtk_list_box_set_activate_on_single_click(GTK_LIST_BOX(se->list), TRUE);
	gtk_accessible_update_property(GTK_ACCESSIBLE(se->list), GTK_ACCESSIBLE_PROPERTY_LABEL,
	                               _("Search results"), -1);
	g_signal_connect(se->list, "row-activated", G_CALLBACK(on_row_activated), se);
	scroll = gtk_scrolled_window_new();
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), se->list);
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_NEVER,
	                               GTK_POLICY_AUTOMATIC);
	gtk_widget_set_vexpand(scroll, TRUE);
	se->more = gtk_button_new_with_label(_("More results"));
	gtk_widget_set_name(se->more, "search-more");
	gtk_widget_set_visible(se->more, FALSE);
	g_signal_connect(se->more, "clicked", G_CALLBACK(on_more), se);
	gtk_widget_set_margin_start(box, 8);
	gtk_widget_set_margin_end(box, 8);
	gtk_widget_set_margin_top(box, 8);
	gtk_widget_set_margin_bottom(box, 8);
	gtk_box_append(GTK_BOX(box), se->entry);
	gtk_box_append(GTK_BOX(box), se->scope);
	gtk_box_append(GTK_BOX(box), se->status);
	gtk_box_append(GTK_BOX(box), scroll);
	gtk_box_append(GTK_BOX(box), se->more);
	gtk_window_set_child(GTK_WINDOW(se->win), box);
	set_status(se, NULL);
}

struct pg_search *pg_search_new(struct pg_session *s, GtkWindow *parent,
                                void (*open)(void *ud, const char *with, int64_t id), void *ud)
{
	struct pg_search *se = g_new0(struct pg_search, 1);

	se->session = s;
	se->parent = parent;
	se->open = open;
	se->ud = ud;
	return se;
}

void pg_search_free(struct pg_search *se)
{
	if (se == NULL)
		return;
	if (se->win != NULL)
		gtk_window_destroy(GTK_WINDOW(se->win));
	g_free(se->with);
	g_free(se->query);
	g_free(se->query_with);
	g_free(se);
}

void pg_search_show(struct pg_search *se, const char *with)
{
	char *label;

	if (se->win == NULL)
		build(se);
	g_free(se->with);
	se->with = g_strdup(with);
	gtk_widget_set_sensitive(se->scope, with != NULL);
	label = with != NULL ? g_strdup_printf(_("Only in %s"), with)
	                     : g_strdup(_("Only this conversation"));
	gtk_check_button_set_label(GTK_CHECK_BUTTON(se->scope), label);
	g_free(label);
	gtk_window_present(GTK_WINDOW(se->win));
	gtk_widget_grab_focus(se->entry);
}

GtkWidget *pg_search_window(struct pg_search *se)
{
	return se->win;
}

guint pg_search_count(struct pg_search *se)
{
	return se->count;
}
