/* pg_msgstore.h - the messages of one conversation as a GListModel of PgMsg, for the message
 * list (GtkListView). Bounded: it holds a window of at most `cap` messages of the
 * conversation, in id order, pending ones (not stored yet) last.
 *
 * The window moves by pages: scrolling up adds an older page from `history`
 * (pg_msg_store_add_older); past the cap the newest messages leave the window and the store
 * is "detached" from the newest end (live messages then only raise has_newer, and the view
 * offers to jump back, which reloads the newest page with pg_msg_store_reset). Live messages
 * at the newest end push the oldest out of the window instead. So memory is at most `cap`
 * messages per open conversation, whatever its length on the server.
 */
#ifndef PG_MSGSTORE_H
#define PG_MSGSTORE_H

#include <stdbool.h>
#include <stdint.h>

#include <gio/gio.h>
#include <jansson.h>

#include "pg_msg.h"

G_BEGIN_DECLS

#define PG_MSG_STORE_CAP_DEFAULT 2000

#define PG_TYPE_MSG_STORE (pg_msg_store_get_type())
G_DECLARE_FINAL_TYPE(PgMsgStore, pg_msg_store, PG, MSG_STORE, GObject)

/* with: "#room" or "@user" (copied). cap: the window's size (0: the default; at least 2
 * pages of history are kept). */
PgMsgStore *pg_msg_store_new(const char *with, guint cap);
const char *pg_msg_store_with(PgMsgStore *s);

/* A message from a live event, an offline push or a sync (object m). Stored in id order
 * unless it is known already (same id) or the window is detached from the newest end
 * (then has_newer becomes true). Returns true if it was added. */
bool pg_msg_store_add(PgMsgStore *s, const json_t *m);

/* A page of history older than the window (array msgs, oldest first) with its "more". */
void pg_msg_store_add_older(PgMsgStore *s, const json_t *msgs, bool more);

/* Empties the window and loads the newest page (history with before=0): attached again. */
void pg_msg_store_reset(PgMsgStore *s, const json_t *msgs, bool more);

/* A message typed here, shown until its `sent` comes (pg_msg_store_ack). */
void pg_msg_store_add_pending(PgMsgStore *s, const char *cid, const char *from, const char *text,
                              const char *kind);
/* The `sent` reply (object sent, with "cid") for a pending message: it gets its id and ts
 * and takes its place in id order. A duplicate of one already in the window only removes the
 * pending one. */
void pg_msg_store_ack(PgMsgStore *s, const json_t *sent);
/* The server refused the pending message cid for good: shown as failed. */
void pg_msg_store_fail(PgMsgStore *s, const char *cid);

/* An edited or recalled message (object m with its id): updated in place if in the window. */
void pg_msg_store_update(PgMsgStore *s, const json_t *m);

/* The smallest and largest stored ids in the window (0 when none). */
int64_t pg_msg_store_oldest_id(PgMsgStore *s);
int64_t pg_msg_store_newest_id(PgMsgStore *s);
/* Whether the server has older messages than the window (unknown counts as yes). */
bool pg_msg_store_has_older(PgMsgStore *s);
/* Whether newer messages exist than the window holds (it is detached from the newest end). */
bool pg_msg_store_has_newer(PgMsgStore *s);
/* Whether the newest page has been loaded once. */
bool pg_msg_store_is_loaded(PgMsgStore *s);
/* The message at position i (borrowed) or NULL. */
PgMsg *pg_msg_store_peek(PgMsgStore *s, guint i);

/* ---- changes, the unread divider, jumps (pg_changes.c, pg_search.c) ---- */

/* The stored message id (borrowed) and its position (pos may be NULL), or NULL. */
PgMsg *pg_msg_store_find(PgMsgStore *s, int64_t id, guint *pos);
/* The message at pos changed in place (edited, recalled, reacted to): its row is redrawn. */
void pg_msg_store_changed_at(PgMsgStore *s, guint pos);
/* The "N new messages" divider: it goes before the first message above id read (the read
 * position when the conversation was opened), saying count; count 0 removes it. */
void pg_msg_store_set_divider(PgMsgStore *s, int64_t read, int count);
/* The read position the divider follows (0: no divider) and its count. */
int64_t pg_msg_store_divider(PgMsgStore *s, int *count);
/* The message a jump led to (marked for a moment, as the browser does), 0: none. */
void pg_msg_store_set_flash(PgMsgStore *s, int64_t id);
int64_t pg_msg_store_flash(PgMsgStore *s);
/* Replaces the window with a page that ends at an older message (history before some id,
 * oldest first; more: older ones exist): detached from the newest end (has_newer), as after
 * scrolling far up. */
void pg_msg_store_reset_older(PgMsgStore *s, const json_t *msgs, bool more);

G_END_DECLS

#endif
