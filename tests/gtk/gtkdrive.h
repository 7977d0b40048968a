/* gtkdrive.h - helpers for pier-gtk's end-to-end tests: the process's setup, users on the
 * test pierd, run the main loop until something holds (bounded), find widgets by name, and
 * open the real window on a test pierd. */
#ifndef PIER_GTKDRIVE_H
#define PIER_GTKDRIVE_H

#include <stdbool.h>

#include <gtk/gtk.h>

#include "pg_window.h"

struct pier_conn;
struct pierd;

typedef gboolean (*gtkdrive_cond)(gconstpointer ud);

/* A test's start: the locale and pier-gtk's language, curl, and a fresh temporary directory
 * (/tmp/pier-gtk-NAME-XXXXXX) as XDG_CONFIG_HOME and XDG_DATA_HOME. The directory (g_free). */
char *gtkdrive_begin(const char *name);
/* Where screenshots go: $PIER_SCREENSHOTS or ".", made if missing (g_free). */
char *gtkdrive_shots_dir(void);
/* A new user on p, named by harness_user(out, prefix), registered with HARNESS_PASSWORD on a
 * connection of its own. False (a failed check) when the registration fails. */
bool gtkdrive_register(struct pierd *p, char *out, const char *prefix);
/* A gtkdrive_window fill: the settings point at the test pierd p (its plain port and its
 * HTTP port). */
void gtkdrive_fill_pierd(struct pg_settings *st, void *p);

/* Runs the main loop for ms. */
void gtkdrive_spin(int ms);
/* Runs the main loop until cond(ud) holds; false (a failed check naming what) after ms. */
bool gtkdrive_until(gtkdrive_cond cond, gconstpointer ud, int ms, const char *what);
/* Runs the main loop until win's session is in state st; false (a failed check) after ms. */
bool gtkdrive_until_state(GtkWindow *win, enum pg_session_state st, int ms, const char *what);
/* Runs the main loop until win's session is online with nothing left in its outbox. */
bool gtkdrive_until_sent(GtkWindow *win, int ms, const char *what);
/* Appends the events c has now (without waiting) to the array into. */
void gtkdrive_drain(struct pier_conn *c, json_t *into);
/* The first widget under root (itself included) whose name is name, or NULL. */
GtkWidget *gtkdrive_find(GtkWidget *root, const char *name);
/* gtkdrive_find, and a failed check when there is no such widget. */
GtkWidget *gtkdrive_need(GtkWidget *root, const char *name);
/* A mapped label named name under root (may be NULL) whose text contains text (NULL: any). */
GtkWidget *gtkdrive_find_label(GtkWidget *root, const char *name, const char *text);
/* The visible toplevel window named name, or NULL. */
GtkWidget *gtkdrive_toplevel(const char *name);
/* The message row (the box of CSS class msg-row) around w, or NULL. */
GtkWidget *gtkdrive_row_around(GtkWidget *w);
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
