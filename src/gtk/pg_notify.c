/* pg_notify.c - notifications for private messages and mentions (see pg_notify.h). */
#include "pg_notify.h"

#include "pg_i18n.h"

gboolean pg_notify_message(GtkWindow *win, const char *with, PgMsg *msg)
{
	GApplication *app = G_APPLICATION(gtk_window_get_application(win));
	GNotification *n;
	char *title, *id;

	if (app == NULL || gtk_window_is_active(win) || (!pg_msg_is_private(msg) && !msg->mentioned))
		return FALSE;
	title = pg_msg_is_private(msg) ? g_strdup_printf(_("%s (private)"), msg->from)
	                               : g_strdup_printf(_("%s in %s"), msg->from, with);
	n = g_notification_new(title);
	g_notification_set_body(n, msg->kind != NULL && msg->text[0] == '\0' ? _("(a file)")
	                                                                     : msg->text);
	g_notification_set_default_action_and_target(n, "app.open-conversation", "s", with);
	/* One notification per conversation: a newer one replaces the older. */
	id = g_strconcat("pier-", with, NULL);
	g_application_send_notification(app, id, n);
	g_free(id);
	g_free(title);
	g_object_unref(n);
	return TRUE;
}
