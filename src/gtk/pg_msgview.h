/* pg_msgview.h - the message list of the conversation shown: a GtkListView over its
 * PgMsgStore (rows: pg_msgrow.c). Older pages load as one scrolls up; it sticks to the
 * bottom while new messages arrive unless the user scrolled up, and then offers a
 * "New messages" button that goes down (reloading the newest page if the window slid away
 * from it). */
#ifndef PG_MSGVIEW_H
#define PG_MSGVIEW_H

#include <gtk/gtk.h>

#include "pg_media.h"
#include "pg_session.h"

struct pg_msgview;

/* The view (its widget owns it: freed with the widget). */
struct pg_msgview *pg_msgview_new(struct pg_session *s, struct pg_media *media);
GtkWidget *pg_msgview_widget(struct pg_msgview *v);
/* Shows conversation with (NULL: none). */
void pg_msgview_show(struct pg_msgview *v, const char *with);
/* Goes to the newest message and sticks there. */
void pg_msgview_scroll_to_bottom(struct pg_msgview *v);
/* Whether the view is at the bottom (tests). */
gboolean pg_msgview_is_stuck(struct pg_msgview *v);

/* ---- the chat features (pg_msgactions, pg_search) ---- */

struct pg_msgactions;
/* The rows' message actions (borrowed). */
void pg_msgview_set_actions(struct pg_msgview *v, struct pg_msgactions *actions);
/* The message list's scrolled window ("msg-scroller"), for a drop target (borrowed). */
GtkWidget *pg_msgview_drop_area(struct pg_msgview *v);
/* Scrolls to message id of the conversation shown, if it is in the window; it stays there
 * (no sticking to the bottom) and is marked for a moment. False if it is not in the window. */
gboolean pg_msgview_scroll_to_id(struct pg_msgview *v, int64_t id);

#endif
