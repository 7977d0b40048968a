/* pg_msg.h - one chat message as the message list shows it (a GObject item of PgMsgStore).
 * Made from the server's JSON (history, sync, msg events, sent replies) or, before the server
 * has it, from the outbox (pending: no id yet). Immutable but for the fields the store
 * updates (its id once sent, edits and recalls). */
#ifndef PG_MSG_H
#define PG_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include <glib-object.h>
#include <jansson.h>

G_BEGIN_DECLS

#define PG_TYPE_MSG (pg_msg_get_type())
G_DECLARE_FINAL_TYPE(PgMsg, pg_msg, PG, MSG, GObject)

struct _PgMsg {
	GObject parent;
	int64_t id;         /* 0 while pending */
	int64_t ts;         /* ms since the epoch (local clock while pending) */
	int64_t seq;        /* pending messages' order among themselves */
	char *from;
	char *display;      /* NULL: none */
	char *to;           /* "#room" or "@user" */
	char *text;
	char *kind;         /* NULL: plain text */
	char *cid;          /* NULL: not ours, or not sent from here */
	json_t *media;      /* the "media" object (owned reference) or NULL */
	bool pending;       /* typed here, not stored yet */
	bool failed;        /* refused by the server */
	bool mentioned;
	bool recalled;
	bool edited;
	bool encrypted;     /* end-to-end encrypted: the server has no text for it */
	/* What happened after it was sent (pg_reactions.c keeps these current from events). */
	json_t *reactions;  /* the "reactions" array (owned) or NULL: none */
	json_t *quote;      /* a reply's "quote" object (owned) or NULL */
	int64_t reply_to;   /* the id it quotes, 0: none */
	int64_t edited_at;  /* when it was last edited (ms), 0: never */
};

/* A message from the server's JSON object m (fields copied). NULL when m has no id. */
PgMsg *pg_msg_new_from_json(const json_t *m);
/* A pending message from the outbox. */
PgMsg *pg_msg_new_pending(const char *cid, const char *from, const char *to, const char *text,
                          const char *kind, int64_t seq);
/* The conversation m belongs to for user me: "#room", or "@other" of a private chat. */
char *pg_msg_conversation_of(const json_t *m, const char *me);
/* Updates msg from a newer copy m (an edit, a recall): text, edited, recalled, media. */
void pg_msg_update_from_json(PgMsg *msg, const json_t *m);
/* The fields of m about changes and replies: reactions, quote, reply_to, edited (copied;
 * missing ones cleared). Part of pg_msg_update_from_json. */
void pg_msg_update_changes(PgMsg *msg, const json_t *m);
/* Whether msg is a private one (to "@..."). */
bool pg_msg_is_private(const PgMsg *msg);

G_END_DECLS

#endif
