/* pg_reactions.h - a message's reactions under it, as the browser shows them: one chip per
 * emoji with its count, the user's own highlighted (pressed, CSS class "mine"), who reacted as
 * the tooltip and the accessible label; a click adds or removes the user's own. */
#ifndef PG_REACTIONS_H
#define PG_REACTIONS_H

#include <gtk/gtk.h>

#include "pg_msg.h"
#include "pg_msgactions.h"

/* A new (empty) bar of chips. */
GtkWidget *pg_reactions_bar_new(void);
/* Fills bar with msg's reactions (hidden when it has none); clicks go to actions. */
void pg_reactions_bind(GtkWidget *bar, PgMsg *msg, struct pg_msgactions *actions);
/* The tooltip of an entry: "👍 3: alice, bob, carol" (and "…" when more reacted than listed). */
char *pg_reactions_describe(const json_t *entry);

#endif
