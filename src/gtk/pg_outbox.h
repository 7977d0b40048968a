/* pg_outbox.h - pier-gtk's outbox: every message typed waits here, with its client id (cid),
 * until the server's `sent` says it is stored. Pure (GLib + jansson, no I/O but its file).
 *
 * Nothing typed is lost or sent twice: an entry is sent (again) after every (re)connect with
 * the same cid, and the server answers a known cid with the original `sent` ("duplicate")
 * without storing it again. The outbox is kept in a file (when given one), so that what was
 * typed while offline survives a restart of the app too.
 */
#ifndef PG_OUTBOX_H
#define PG_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define PG_OUTBOX_MAX      200   /* entries waiting at most: past it, typing is refused */
#define PG_OUTBOX_CID_MAX  40

struct pg_outbox_entry {
	char cid[PG_OUTBOX_CID_MAX];
	char *to;        /* "#room" or "@user" */
	char *text;      /* may be "" for media */
	char *kind;      /* NULL, or "image", "video", "audio", "file" */
	int64_t media;   /* 0: none */
	bool in_flight;  /* sent on this connection, awaiting its answer */
	int64_t reply_to; /* a reply: the id of the message it quotes; 0: none */
};

struct pg_outbox;

/* path: the file the outbox is kept in (read now, written at each change; NULL: memory
 * only). max: the most entries (0: PG_OUTBOX_MAX). */
struct pg_outbox *pg_outbox_new(const char *path, size_t max);
void pg_outbox_free(struct pg_outbox *ob);

/* Adds a message (strings copied) with a fresh cid. Returns the entry (owned by the outbox,
 * valid until it is removed) or NULL when the outbox is full. */
const struct pg_outbox_entry *pg_outbox_add(struct pg_outbox *ob, const char *to,
                                            const char *text, const char *kind, int64_t media);

/* The next entry added is a reply quoting message reply_to (0: not a reply). */
void pg_outbox_set_next_reply(struct pg_outbox *ob, int64_t reply_to);

/* The `send` request for e (new reference), cid included. */
json_t *pg_outbox_request(const struct pg_outbox_entry *e);

size_t pg_outbox_count(const struct pg_outbox *ob);
/* Entry i, oldest first (borrowed), or NULL past the end. */
const struct pg_outbox_entry *pg_outbox_at(const struct pg_outbox *ob, size_t i);
const struct pg_outbox_entry *pg_outbox_find(const struct pg_outbox *ob, const char *cid);

/* The next entry not in flight (oldest first), marked in flight; NULL when none. */
const struct pg_outbox_entry *pg_outbox_next_to_send(struct pg_outbox *ob);
/* The connection dropped: every entry is to be sent again. */
void pg_outbox_connection_lost(struct pg_outbox *ob);
/* An entry's send was refused for a while (rate_limited): it goes again later. */
void pg_outbox_retry(struct pg_outbox *ob, const char *cid);
/* Removes the entry with cid (its `sent` came, or it was refused for good). True if found. */
bool pg_outbox_remove(struct pg_outbox *ob, const char *cid);

#endif
