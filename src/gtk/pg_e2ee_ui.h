/* pg_e2ee_ui.h - pier-gtk's screens of end-to-end encryption (pg_e2ee.h): the banner over
 * the conversation (this new device's approval code; devices of the user's waiting for
 * approval; a contact's changed safety number), the lock beside an encrypted conversation's
 * title, the devices window (name, state, code; approve by code, rename, remove; reset on a
 * device that is not approved) and the safety number window of a contact with "verified".
 * Widgets have names (tests find them) and accessible labels.
 */
#ifndef PG_E2EE_UI_H
#define PG_E2EE_UI_H

#include <gtk/gtk.h>

struct pg_session;
struct pg_e2ee_ui;

/* The screens of win's session (it must outlive them: the window frees both). */
struct pg_e2ee_ui *pg_e2ee_ui_new(GtkWindow *win, struct pg_session *session);
void pg_e2ee_ui_free(struct pg_e2ee_ui *ui);

/* The banner ("e2ee-banner") and the title's lock ("conv-lock"), for the window to place. */
GtkWidget *pg_e2ee_ui_banner(struct pg_e2ee_ui *ui);
GtkWidget *pg_e2ee_ui_lock(struct pg_e2ee_ui *ui);
/* The conversation shown changed (NULL: none). */
void pg_e2ee_ui_set_active(struct pg_e2ee_ui *ui, const char *with);

/* Opens the devices window ("e2ee-devices") / the safety number window ("e2ee-safety") of
 * the conversation shown (a private one). */
void pg_e2ee_ui_show_devices(struct pg_e2ee_ui *ui);
void pg_e2ee_ui_show_safety(struct pg_e2ee_ui *ui);

#endif
