/* pg_sidebar.h - the sidebar: the conversations (rooms and private chats, with unread
 * counts; private chats show whether the other user is online), who is online (activate a
 * name to chat with them), and an entry that joins or creates "#room" or opens a private
 * chat with "@user" (online or not). Alt+Up/Down moves between conversations. */
#ifndef PG_SIDEBAR_H
#define PG_SIDEBAR_H

#include <gtk/gtk.h>

#include "pg_session.h"

struct pg_sidebar_ops {
	/* Show conversation with. */
	void (*open)(void *ud, const char *with);
	/* Join (or create) room. */
	void (*join)(void *ud, const char *room);
};

struct pg_sidebar;

struct pg_sidebar *pg_sidebar_new(struct pg_session *s, const struct pg_sidebar_ops *ops,
                                  void *ud);
GtkWidget *pg_sidebar_widget(struct pg_sidebar *sb);
/* Marks with as the conversation shown (no open callback). */
void pg_sidebar_select(struct pg_sidebar *sb, const char *with);
/* Opens the conversation delta rows away from the shown one (Alt+Up/Down). */
void pg_sidebar_move(struct pg_sidebar *sb, int delta);
/* Shows the user's name and the connection state at the top. */
void pg_sidebar_set_status(struct pg_sidebar *sb, const char *text);

#endif
