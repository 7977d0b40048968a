/* pg_msgactions.h - what one can do with a message in pier-gtk, as in the browser's message
 * menu (web/js/ui/msgmenu.js): a popover with a row of quick reactions, "More reactions…" (an
 * emoji picker with the browser's set, or any reaction typed, checked by pierd's rule before it
 * is sent), Reply, Edit and Recall (撤回) of one's own (Recall only within the recall window),
 * and Copy text. Opened by a message's "…" button, a right click, or Shift+F10 / the menu key.
 *
 * The requests go through the session (react, edit, recall); what they change is applied to
 * the message when the server answers (pg_changes.c); a refusal (recall_expired...) is shown
 * plainly through the notice callback, in the user's language. */
#ifndef PG_MSGACTIONS_H
#define PG_MSGACTIONS_H

#include <stdbool.h>

#include <gtk/gtk.h>

#include "pg_msg.h"
#include "pg_session.h"

struct pg_msgactions_ops {
	/* A text for the user (an error from the server, in the user's language). */
	void (*notice)(void *ud, const char *text);
	/* Edit msg: the composer takes its text over (Esc cancels). */
	void (*edit)(void *ud, PgMsg *msg);
	/* Reply to msg: the composer shows what it quotes (Esc cancels). */
	void (*reply)(void *ud, PgMsg *msg);
	/* Show message id of conversation with (a reply's quote was activated). */
	void (*jump)(void *ud, const char *with, int64_t id);
};

struct pg_msgactions;

/* The browser's quick reactions and its picker's set. */
extern const char *const pg_msgactions_quick[6];
extern const char *const pg_msgactions_more[32];

struct pg_msgactions *pg_msgactions_new(struct pg_session *s, const struct pg_msgactions_ops *ops,
                                        void *ud);
void pg_msgactions_free(struct pg_msgactions *a);

/* Opens msg's menu by anchor (a widget of its row). */
void pg_msgactions_popup(struct pg_msgactions *a, GtkWidget *anchor, PgMsg *msg);
/* Opens the emoji picker for msg by anchor. */
void pg_msgactions_picker(struct pg_msgactions *a, GtkWidget *anchor, PgMsg *msg);
/* Adds (on) or removes the user's reaction emoji on msg. */
void pg_msgactions_react(struct pg_msgactions *a, PgMsg *msg, bool on, const char *emoji);
/* Recalls msg (one's own). */
void pg_msgactions_recall(struct pg_msgactions *a, PgMsg *msg);
/* Replaces the text of message id of with (one's own) by text. False when offline. */
bool pg_msgactions_edit(struct pg_msgactions *a, const char *with, int64_t id, const char *text);
/* Shows the message msg quotes (its reply_to), loading history when it is not in view. */
void pg_msgactions_show_quoted(struct pg_msgactions *a, const PgMsg *msg);
/* Whether msg may be recalled now (one's own, not recalled, within the window). */
bool pg_msgactions_can_recall(struct pg_msgactions *a, const PgMsg *msg);
/* The popover open now (tests), or NULL. */
GtkWidget *pg_msgactions_open_popover(struct pg_msgactions *a);

#endif
