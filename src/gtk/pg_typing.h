/* pg_typing.h - typing indicators, as the browser has them (web/js/typing.js): while the
 * user types a message (not a /command) in the composer, `typing` goes to the conversation
 * shown at most once every 3 s (the server drops more); others' `typing` events show under
 * the message list of their conversation, "alice is typing…" (zh: "alice 正在输入…"), each
 * for about 5.5 s after its last event, or until that person's message comes. Nothing here is
 * stored; going offline clears them all. */
#ifndef PG_TYPING_H
#define PG_TYPING_H

#include <gtk/gtk.h>

#include "pg_session.h"

#define PG_TYPING_SEND_EVERY_MS 3000
#define PG_TYPING_SHOW_MS       5500

struct pg_typing;

/* Watches the composer's text (text_view) and the session's events. */
struct pg_typing *pg_typing_new(struct pg_session *s, GtkWidget *text_view);
void pg_typing_free(struct pg_typing *t);
/* The indicator (a label named "typing-indicator"; empty and hidden when nobody types). */
GtkWidget *pg_typing_widget(struct pg_typing *t);
/* The conversation shown (NULL: none). */
void pg_typing_set_active(struct pg_typing *t, const char *with);
/* Forgets every indicator (the connection dropped). */
void pg_typing_clear(struct pg_typing *t);
/* How many `typing` requests went out (tests). */
guint pg_typing_sent(const struct pg_typing *t);
/* The indicator's sentence for people (1, 2 or more; names as shown). New string. */
char *pg_typing_sentence(const char *const *names, guint n);

#endif
