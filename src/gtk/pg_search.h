/* pg_search.h - search (Ctrl+F), as the browser's (web/js/ui/search.js): a window with the
 * query, "only this conversation" or everywhere, and the results newest first, each with its
 * conversation, sender, time and text, the matches marked (the server's "highlight" ranges,
 * code points, marked here: the text is never taken as markup). "More results" asks for the
 * next page (next_before). Activating a result opens its conversation at that message. */
#ifndef PG_SEARCH_H
#define PG_SEARCH_H

#include <stdint.h>

#include <gtk/gtk.h>
#include <jansson.h>

#include "pg_session.h"

struct pg_search;

/* open(ud, with, id): show message id of conversation with. */
struct pg_search *pg_search_new(struct pg_session *s, GtkWindow *parent,
                                void (*open)(void *ud, const char *with, int64_t id), void *ud);
void pg_search_free(struct pg_search *se);
/* Shows the search window; with: the conversation shown (the scope "only this conversation"
 * offered for it), or NULL. */
void pg_search_show(struct pg_search *se, const char *with);
/* The search window (tests), NULL before the first show. */
GtkWidget *pg_search_window(struct pg_search *se);
/* How many results are listed (tests). */
guint pg_search_count(struct pg_search *se);

/* text as Pango markup with the code point ranges highlight ([[start,end],...]) marked. */
char *pg_search_markup(const char *text, const json_t *highlight);

#endif
