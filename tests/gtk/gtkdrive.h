/* gtkdrive.h - helpers for pier-gtk's end-to-end tests: run the main loop until something
 * holds (bounded), find widgets by name, and open the real window on a test pierd. */
#ifndef PIER_GTKDRIVE_H
#define PIER_GTKDRIVE_H

#include <stdbool.h>

#include <gtk/gtk.h>

#include "pg_window.h"

typedef gboolean (*gtkdrive_cond)(gconstpointer ud);

/* Runs the main loop for ms. */
void gtkdrive_spin(int ms);
/* Runs the main loop until cond(ud) holds; false (a failed check naming what) after ms. */
bool gtkdrive_until(gtkdrive_cond cond, gconstpointer ud, int ms, const char *what);
/* The first widget under root (itself included) whose name is name, or NULL. */
GtkWidget *gtkdrive_find(GtkWidget *root, const char *name);
/* gtk_init, a non-unique application app_id registered (no run), the settings as saved,
 * changed by the caller's fill (may be NULL), and the window presented. NULL with a failed
 * check when the application cannot register. */
GtkWindow *gtkdrive_window(const char *app_id, void (*fill)(struct pg_settings *st, void *ud),
                           void *ud);
/* Starts the desktop keyring of the test's D-Bus session (gnome-keyring-daemon --unlock,
 * with a fresh login keyring in $XDG_DATA_HOME, unlocked: nothing prompts), once, if it is
 * installed. True if a keyring answers. gtkdrive_window calls it: with gnome-keyring
 * installed but not started, storing the token would ask for a keyring password on the
 * display, a prompt that grabs the pointer and closes popovers. */
bool gtkdrive_keyring(void);
/* Types user and password on the login page and clicks "Log in" (or "Register"). */
void gtkdrive_login(GtkWindow *win, const char *user, const char *password, bool reg);

#endif
