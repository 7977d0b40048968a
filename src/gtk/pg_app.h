/* pg_app.h - the GtkApplication of pier-gtk: command-line options (they override the saved
 * settings for one run), one window, and the app actions notifications use. */
#ifndef PG_APP_H
#define PG_APP_H

#include <gtk/gtk.h>

/* The application (main runs it; tests register and activate it themselves). */
GtkApplication *pg_app_new(void);
/* The window of app (NULL before activate). */
GtkWindow *pg_app_window(GtkApplication *app);

#endif
