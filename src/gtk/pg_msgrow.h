/* pg_msgrow.h - one row of the message list: a day separator when the day changes, the
 * sender and time unless the previous message is the same sender's within 5 minutes
 * (grouping), the text (selectable, links clickable) in the conversation's colour (group
 * red, private black: CSS classes msg-room / msg-private, on when the window has
 * pier-colours), and media (an image thumbnail that opens full size, video and audio played
 * in the window, other files saved with a dialog). */
#ifndef PG_MSGROW_H
#define PG_MSGROW_H

#include <gtk/gtk.h>

#include "pg_msgstore.h"
#include "pg_session.h"

struct pg_media;

/* A factory for a GtkListView over store's messages. media: downloads (borrowed; lives as
 * long as the view). */
GtkListItemFactory *pg_msgrow_factory_new(PgMsgStore *const *store, struct pg_media *media);
struct pg_msgactions;
/* The message actions (the "…" button, a right click, reaction chips) of the factory's rows
 * (borrowed; set before the view shows anything). Without them rows have no actions. */
void pg_msgrow_set_actions(GtkListItemFactory *f, struct pg_msgactions *actions,
                           struct pg_session *session);
/* The text as Pango markup: escaped, with http(s) links made <a href>. (New string.) */
char *pg_msgrow_markup(const char *text);

#endif
