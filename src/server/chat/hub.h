/* hub.h - who exists, who is online, which rooms exist and who is in them; and fan-out.
 *
 * Every registered user has a struct user for the life of the server (a directory loaded at
 * start, grown on register), so targets resolve without touching the disk. Rooms likewise.
 * A user's sessions are its logged-in connections; rooms list the online members only.
 * #lobby has no member list: every online user is in it.
 * A room without members is forgotten after a while (hub_forget_rooms): it leaves the
 * directory and stops counting against --max-rooms; its messages stay in the store, and
 * joining it again adds it back (the store knows it by name, so its history goes on).
 * Sending never closes a connection on the spot, so fan-out loops see no session leave.
 */
#ifndef PIER_HUB_H
#define PIER_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uthash.h>

#include "names.h"
#include "ratelimit.h"

struct conn;
struct sbuf;
struct room;

#define HUB_TYPING_SLOTS 8          /* conversations a user's typing is remembered for */
/* A room with more members than this (online or not) makes nobody a contact: like #lobby,
 * sharing it gives no presence, so that a login costs at most its partners plus this many
 * per room it is in (docs/PROTOCOL.md, "users and presence"). */
#define HUB_CONTACT_ROOM_MAX 1000

/* When a user last told a conversation it was typing (typing.c). */
struct typing_slot {
	const void *conv;               /* the struct room or the peer's struct user; NULL: free */
	int64_t at_ms;                  /* monotonic */
};

struct user {
	int64_t id;
	char name[PIER_NAME_MAX + 1];   /* canonical spelling */
	char key[PIER_KEY_MAX];         /* case-folded, the hash key */
	char *display;                  /* display name (NFC, checked; malloc'd), NULL: none */
	struct typing_slot typing[HUB_TYPING_SLOTS];
	int64_t profile_at_ms;          /* the last display name change (monotonic), 0: none */

	struct conn **sessions;         /* logged-in connections */
	size_t nsessions, sessions_cap;

	struct room **rooms;            /* rooms besides #lobby, valid once rooms_loaded */
	size_t nrooms, rooms_cap;
	bool rooms_loaded;              /* rooms and contacts came from the store */

	struct user **contacts;         /* users with a private conversation with this one */
	size_t ncontacts, contacts_cap;
	unsigned mark;                  /* hub_send_contacts: reached in this round already;
	                                 * hub_send_room_split: gets the marked copy */

	/* offline delivery (offline.c): ids of private messages to this user */
	struct conn *catchup;           /* the session the backlog goes to; NULL when none */
	unsigned online_gen;            /* counts catch-ups: stale page reads are ignored */
	bool offline_reading;           /* a page of the backlog is being read */
	bool offline_all_queued;        /* the backlog is queued; catch-up ends once it is written */
	int64_t offline_after;          /* the highest backlog id queued to catchup */
	int64_t offline_skipped;        /* the highest live id catchup skipped while paging
	                                 * (a cluster: read once more if above offline_after) */
	unsigned offline_pushed;        /* backlog messages queued in this online period */
	int64_t written_max;            /* highest private id written to a session: the watermark */
	int64_t seen_saved;             /* cluster: the watermark last handed to the store */

	/* Rate limits are the user's, shared by all of its sessions: more sessions do not buy a
	 * higher rate (docs/PROTOCOL.md, Limits). Filled at the first request that takes one. */
	bool buckets_ready;
	struct bucket msg_bucket, req_bucket;

	/* media quota (media.c): bytes reserved by uploads being accepted and not yet counted
	 * in the store's usage, so that concurrent uploads see each other */
	int64_t media_reserved;

	struct user *online_prev, *online_next;
	UT_hash_handle hh;
};

struct room {
	char name[PIER_KEY_MAX];        /* "#Canonical" */
	char key[PIER_KEY_MAX];         /* "#canonical" */
	int64_t members;                /* online or not */
	char *topic;                    /* malloc'd, NULL: none */
	char topic_by[PIER_NAME_MAX + 1]; /* who set it ("" if unknown) */
	int64_t topic_ts;               /* when (ms since the epoch) */
	struct user **online;           /* online members (not kept for #lobby) */
	size_t nonline, online_cap;
	/* without members: on the hub's empty list since empty_since_ms (monotonic); once
	 * forgotten, on its forgotten list until forget_seq's barrier frees it */
	bool listed;
	int64_t empty_since_ms;
	uint64_t forget_seq;
	struct room *list_prev, *list_next;
	UT_hash_handle hh;
};

struct hub {
	struct user *users;             /* by key */
	struct room *rooms;             /* by key, #lobby included */
	struct room *lobby;
	size_t nrooms;                  /* in the directory besides #lobby */
	struct room *empty;             /* rooms without members, longest empty first */
	struct room *forgotten;         /* out of the directory, maybe still referred to */
	uint64_t forget_seq;
	struct user *online;            /* users with sessions (doubly linked) */
	size_t nonline;
	int64_t nusers;
	size_t presence_limit;          /* 0: presence to contacts only; N: to everyone online while
	                                 * at most N are (hub_presence_to_all) */
	unsigned mark_round;
};

void hub_init(struct hub *h);
void hub_release(struct hub *h);

/* Adds a registered user to the directory (at start or after register). */
struct user *hub_add_user(struct hub *h, int64_t id, const char *name);
/* Sets u's display name (copied; NULL or "" clears it). */
void hub_set_display(struct user *u, const char *display);
/* Sets r's topic (copied; NULL or "" clears it), who set it and when. */
void hub_set_topic(struct room *r, const char *topic, const char *by, int64_t ts);
/* Finds a user by name in any case; NULL if there is none. */
struct user *hub_find_user(struct hub *h, const char *name);
/* Adds a room (at start, or when joined into existence). */
struct room *hub_add_room(struct hub *h, const char *name, int64_t members);
struct room *hub_find_room(struct hub *h, const char *name);
/* Takes out of the directory every room that has had no members for after_ms (as of the
 * monotonic now_ms), so that it stops counting and is no longer found. They are not freed:
 * requests in flight may still point at them. Returns how many went, and their batch number
 * in *seq; hub_free_forgotten(h, seq) frees them once nothing refers to them any more. */
size_t hub_forget_rooms(struct hub *h, int64_t now_ms, int64_t after_ms, uint64_t *seq);
/* Frees the rooms forgotten in batches up to seq. */
void hub_free_forgotten(struct hub *h, uint64_t seq);

/* Attaches a logged-in connection. Returns true if it is the user's first session. */
bool hub_session_open(struct hub *h, struct user *u, struct conn *c);
/* Detaches it. Returns true if it was the user's last session. */
bool hub_session_close(struct hub *h, struct user *u, struct conn *c);

/* Sets the rooms and contacts of a user that was never online, from the store's lists of
 * names (either may be NULL). */
void hub_load_user(struct hub *h, struct user *u, char *const *rooms, char *const *peers);
/* True if a has a private conversation with b on record. */
bool hub_has_contact(const struct user *a, const struct user *b);
/* Records a private conversation between a and b (both ways). */
void hub_add_contact(struct user *a, struct user *b);
bool hub_is_member(const struct user *u, const struct room *r);
/* Membership changes (in memory; the caller stores them). */
void hub_join(struct hub *h, struct user *u, struct room *r);
void hub_part(struct hub *h, struct user *u, struct room *r);

/* True while presence (and profile changes, #lobby typing, the login's users event) go to
 * everyone online: --presence-limit N > 0 and at most N online. Otherwise they go to
 * contacts only (hub_send_contacts). */
bool hub_presence_to_all(const struct hub *h);

/* Queues b on every session of u except `except` (may be NULL). */
void hub_send_user(struct user *u, struct sbuf *b, const struct conn *except);
/* Queues b on every session of every online member of r except `except`. */
void hub_send_room(struct hub *h, struct room *r, struct sbuf *b, const struct conn *except);
/* A new round of marks (struct user's mark) for hub_send_room_split; mark users by setting
 * u->mark to it. */
unsigned hub_mark_round(struct hub *h);
/* Like hub_send_room, but users whose mark is round get marked_b instead of b (a mention's
 * flagged copy of a message). */
void hub_send_room_split(struct hub *h, struct room *r, struct sbuf *b, struct sbuf *marked_b,
                         unsigned round, const struct conn *except);
/* Queues b, once each, on the sessions of u's online contacts and of the online members of
 * u's rooms besides #lobby and those with more than HUB_CONTACT_ROOM_MAX members (u's own
 * sessions excluded). Its cost is O(contacts + HUB_CONTACT_ROOM_MAX per room of u), never
 * a walk of everyone online. Returns how many users it reached. */
size_t hub_send_contacts(struct hub *h, struct user *u, struct sbuf *b);
/* Calls fn for u itself, if online, and then for each user hub_send_contacts would reach. */
void hub_each_contact(struct hub *h, struct user *u, void (*fn)(void *ud, struct user *v),
                      void *ud);
/* Queues b on every session of every online user but `except_user`'s and `except`. */
void hub_send_all(struct hub *h, struct sbuf *b, const struct user *except_user,
                  const struct conn *except);

#endif
