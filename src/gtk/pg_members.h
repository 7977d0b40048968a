/* pg_members.h - the room's members, online or not (pierd's `members`, a page of 100 at a
 * time with "More"), in a popover from the conversation's header. */
#ifndef PG_MEMBERS_H
#define PG_MEMBERS_H

#include <gtk/gtk.h>

#include "pg_session.h"

/* The header's "Members" button (it owns its state). */
GtkWidget *pg_members_button_new(struct pg_session *s);
/* The room it lists (NULL or a private chat: the button hides). */
void pg_members_set_room(GtkWidget *button, const char *with);

#endif
