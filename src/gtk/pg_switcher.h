/* pg_switcher.h - the quick switcher (Ctrl+K): a small dialog with a search entry over the
 * conversations; Enter opens the first match, Esc closes. */
#ifndef PG_SWITCHER_H
#define PG_SWITCHER_H

#include <gtk/gtk.h>

#include "pg_convlist.h"

typedef void (*pg_switcher_open_cb)(const char *with, gpointer ud);

/* Shows the switcher over parent (convs borrowed for the dialog's life). Returns the dialog
 * (tests find its entry by name "switcher-entry"). */
GtkWidget *pg_switcher_show(GtkWindow *parent, PgConvList *convs, pg_switcher_open_cb open,
                            gpointer ud);

#endif
