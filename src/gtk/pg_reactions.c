/* pg_reactions.c - reaction chips under a message (see pg_reactions.h). */
#include "pg_reactions.h"

#include "pg_i18n.h"

GtkWidget *pg_reactions_bar_new(void)
{
	GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);

	gtk_widget_set_name(bar, "msg-reactions");
	gtk_widget_add_css_class(bar, "msg-reactions");
	gtk_widget_set_halign(bar, GTK_ALIGN_START);
	gtk_widget_set_visible(bar, FALSE);
	return bar;
}

char *pg_reactions_describe(const json_t *entry)
{
	GString *names = g_string_new(NULL);
	json_t *users = json_object_get(entry, "users"), *u;
	json_int_t count = json_integer_value(json_object_get(entry, "count"));
	size_t i;
	char *text;

	json_array_foreach(users, i, u) {
		if (names->len > 0)
			g_string_append(names, _(", "));
		g_string_append(names, json_string_value(u));
	}
	if ((json_int_t)json_array_size(users) < count)
		g_string_append(names, _("…"));
	text = g_strdup_printf(_("%s %d: %s"), json_string_value(json_object_get(entry, "emoji")),
	                       (int)count, names->str);
	g_string_free(names, TRUE);
	return text;
}

static void on_chip_clicked(GtkButton *b, gpointer data)
{
	struct pg_msgactions *a = data;
	PgMsg *msg = g_object_get_data(G_OBJECT(b), "pg-msg");
	const char *emoji = g_object_get_data(G_OBJECT(b), "pg-emoji");
	gboolean mine = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(b), "pg-mine"));

	if (msg != NULL && emoji != NULL)
		pg_msgactions_react(a, msg, !mine, emoji);
}

void pg_reactions_bind(GtkWidget *bar, PgMsg *msg, struct pg_msgactions *actions)
{
	GtkWidget *child;
	json_t *r;
	size_t i;

	while ((child = gtk_widget_get_first_child(bar)) != NULL)
		gtk_box_remove(GTK_BOX(bar), child);
	gtk_widget_set_visible(bar, msg->reactions != NULL && !msg->recalled);
	if (msg->reactions == NULL || msg->recalled)
		return;
	json_array_foreach(msg->reactions, i, r) {
		const char *emoji = json_string_value(json_object_get(r, "emoji"));
		gboolean mine = json_is_true(json_object_get(r, "mine"));
		char *label, *tip;
		GtkWidget *chip;

		if (emoji == NULL)
			continue;
		label = g_strdup_printf("%s %d", emoji, (int)json_integer_value(json_object_get(r,
		                                                                              "count")));
		chip = gtk_toggle_button_new_with_label(label);
		gtk_widget_set_name(chip, "reaction-chip");
		gtk_widget_add_css_class(chip, "reaction-chip");
		if (mine)
			gtk_widget_add_css_class(chip, "mine");
		gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(chip), mine);
		tip = pg_reactions_describe(r);
		gtk_widget_set_tooltip_text(chip, tip);
		gtk_accessible_update_property(GTK_ACCESSIBLE(chip), GTK_ACCESSIBLE_PROPERTY_LABEL, tip,
		                               -1);
		g_object_set_data_full(G_OBJECT(chip), "pg-msg", g_object_ref(msg), g_object_unref);
		g_object_set_data_full(G_OBJECT(chip), "pg-emoji", g_strdup(emoji), g_free);
		g_object_set_data(G_OBJECT(chip), "pg-mine", GINT_TO_POINTER(mine));
		if (actions != NULL)
			g_signal_connect(chip, "clicked", G_CALLBACK(on_chip_clicked), actions);
		gtk_box_append(GTK_BOX(bar), chip);
		g_free(label);
		g_free(tip);
	}
}
