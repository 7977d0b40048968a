/* pg_changes.h - what happens to a message after it was sent (docs/PROTOCOL.md, "Changes to
 * messages"), applied to the messages pier-gtk holds: reactions added and removed, edits and
 * recalls, from the live events (`reaction`, `edited`, `recalled`) and from the replies to
 * one's own `react`, `edit` and `recall`. Pure model code (no widgets): unit-tested.
 *
 * A message's reactions are kept as the server gives them in history ("reactions": one entry
 * per emoji in the order they first came, with "count", "users" (the first 10) and "mine"),
 * so a page of history and a stream of events end in the same state. */
#ifndef PG_CHANGES_H
#define PG_CHANGES_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "pg_msg.h"
#include "pg_msgstore.h"

/* The most users an entry lists (as the server does). */
#define PG_REACTION_USERS_MAX 10

/* user added (on) or removed her reaction emoji on msg; count: how many the message has now
 * (from the server; < 0: unknown, then counted here). by_me: user is the one logged in (sets
 * "mine"). An entry whose count reaches 0 goes. */
void pg_changes_react(PgMsg *msg, const char *emoji, const char *user, bool on, int64_t count,
                      bool by_me);
/* The message's text is now text (edited at ms, 0: now). */
void pg_changes_edit(PgMsg *msg, const char *text, int64_t edited_at);
/* The message was recalled: text, media, quote and reactions go. */
void pg_changes_recall(PgMsg *msg);
/* Whether msg has its own reaction emoji (and the count of that emoji, when count != NULL). */
bool pg_changes_has_mine(const PgMsg *msg, const char *emoji, int64_t *count);

/* A live event ev (`reaction`, `edited` or `recalled`) applied to the message in store st, if
 * it is there (the row is redrawn). me: the user logged in. True if a message changed. */
bool pg_changes_apply_event(PgMsgStore *st, const json_t *ev, const char *me);

#endif
