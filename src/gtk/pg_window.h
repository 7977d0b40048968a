/* pg_window.h - pier-gtk's main window: the login page, then the chat (sidebar, message
 * list, composer), the offline banner, the window's actions and keyboard shortcuts (Ctrl+K
 * quick switcher, Alt+Up/Down between conversations, Esc), the look (the report's colours,
 * light or dark) and notifications. It owns the session. */
#ifndef PG_WINDOW_H
#define PG_WINDOW_H

#include <gtk/gtk.h>

#include "pg_session.h"
#include "pg_settings.h"

struct pg_window;

/* A window for app with settings (taken: released with the window). When the settings'
 * server has a saved token, it logs in with it at once. */
GtkWindow *pg_window_new(GtkApplication *app, struct pg_settings *settings);
/* The window's state from its widget. */
struct pg_window *pg_window_from(GtkWindow *win);
struct pg_session *pg_window_session(struct pg_window *w);
/* Shows conversation with. */
void pg_window_open(struct pg_window *w, const char *with);
/* The conversation shown (NULL: none). */
const char *pg_window_active(struct pg_window *w);
/* The look: the report's colours on or off, and the style. */
void pg_window_set_look(struct pg_window *w, gboolean colours, enum pg_style style);
/* Uploads the file at path and sends it to the conversation shown (what the file chooser,
 * a drop or a paste do). */
void pg_window_attach(struct pg_window *w, const char *path);
/* Whether an upload is running. */
gboolean pg_window_uploading(struct pg_window *w);
/* The last notice shown (tests). */
const char *pg_window_notice(struct pg_window *w);
/* How many notifications were sent (tests). */
guint pg_window_notifications(struct pg_window *w);
/* The chat features' parts (tests). */
struct pg_msgactions *pg_window_actions(struct pg_window *w);
struct pg_typing *pg_window_typing(struct pg_window *w);
struct pg_search *pg_window_search(struct pg_window *w);
struct pg_msgview *pg_window_view(struct pg_window *w);
/* Sends what the composer holds (as Enter does: an edit or a reply when in that mode). */
void pg_window_composer_send(struct pg_window *w);
/* Saves the window's current look as a PNG of path (GtkSnapshot of the widget). */
gboolean pg_window_screenshot(GtkWidget *widget, const char *path);

#endif
