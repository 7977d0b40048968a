/* pg_notify.h - desktop notifications (GNotification) for private messages and mentions
 * while the window does not have the focus; clicking one opens the conversation
 * (the app action "app.open-conversation" with its name). */
#ifndef PG_NOTIFY_H
#define PG_NOTIFY_H

#include <gtk/gtk.h>

#include "pg_msg.h"

/* Notifies about msg in with when it is private or mentions the user and win is not
 * active. Returns whether a notification went out (tests). */
gboolean pg_notify_message(GtkWindow *win, const char *with, PgMsg *msg);

#endif
