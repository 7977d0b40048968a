/* store.h - pier's durable store: SQLite (WAL) or PostgreSQL on its own thread, fed by a FIFO
 * of jobs.
 *
 * The event loop never touches the database. It fills a struct store_job, hands it to
 * store_submit() and gets it back, completed, through job->done on the loop thread.
 *
 * Ordering: jobs run in exactly the order they were submitted, and their done callbacks run
 * on the loop in that same order. Message ids are assigned in that order too, so ids grow
 * strictly in submission order (and so in every conversation's order).
 *
 * Group commit: the store thread takes every job waiting (up to a batch maximum), runs them
 * in one transaction and commits once (one fsync for the batch, synchronous=FULL), and only
 * then completes them. A job whose done callback reports STORE_OK is durable.
 *
 * Memory: the caller allocates the job (store_job_init), owns the input strings it points to
 * until done runs, and calls store_job_release() in or after done to free the outputs the
 * store allocated (messages, names, hashes). The store never frees the job itself.
 */
#ifndef PIER_STORE_H
#define PIER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "names.h"
#include "store_e2ee.h"
#include "store_query.h"

struct store;

/* A job that ends in anything but STORE_OK changed nothing in the database. */
enum store_status {
	STORE_OK = 0,
	STORE_NOT_FOUND,   /* no such user / token / room */
	STORE_EXISTS,      /* create_user: the name (case-folded) is taken */
	STORE_DUPLICATE,   /* append: (sender, cid) stored before; out fields hold the original */
	STORE_FAILED,      /* SQLite error or failed commit: nothing of this job is stored */
	STORE_DENIED,      /* media: it exists, but the user may not see it */
	STORE_CONFLICT,    /* append: (sender, cid) was stored to another target; nothing stored */
	/* the message ops (EDIT, RECALL, REACT, and APPEND's reply_to) */
	STORE_NOT_OWN,     /* edit, recall: the message is someone else's */
	STORE_TOO_LATE,    /* recall: past the window */
	STORE_RECALLED,    /* edit, react, reply_to: the message was recalled */
	STORE_EMPTY,       /* edit: an empty text for a message without media */
	STORE_LIMIT,       /* react: the message has max_reactions different ones already */
	STORE_BAD_REPLY,   /* append: reply_to is no message of the conversation */
	/* end-to-end encryption (store_e2ee.h) */
	STORE_STALE,       /* E2EE_PUBLISH: the version is not the current one + 1 (version_out) */
	STORE_CHANGED,     /* APPEND encrypted: the envelopes are not for exactly the current
	                    * devices (e2ee.devices: the current ones); nothing stored */
	STORE_FULL,        /* APPEND, E2EE_DEVICE_SEND: a device's queue is at max_queue;
	                    * E2EE_REGISTER: too many devices; nothing stored */
	STORE_E2EE_REQUIRED, /* APPEND: plaintext to a user with a device list, or media uploaded
	                    * encrypted in a plaintext message; EDIT: an encrypted message */
	STORE_REVOKED,     /* E2EE_HELLO, E2EE_DEVICE_SEND: the device was revoked */
	STORE_NO_DEVICE    /* APPEND encrypted: the sending device is not active, or the
	                    * recipient has no device list */
};

enum store_op {
	STORE_CREATE_USER,   /* in: name, pw_hash            out: user_id */
	STORE_GET_USER,      /* in: name (any case)          out: user_id, user_name, pw_hash, seen_id */
	STORE_LOGIN,         /* in: user_id, token_hash (stored, or marked used now if it was:
	                      * token logins)  out: rooms (#lobby first), peers, change_seq */
	STORE_TOKEN_USER,    /* in: token_hash               out: user_id, user_name, pw_hash=NULL,
	                      * seen_id; STORE_NOT_FOUND also for a token unused for longer than
	                      * store_options.token_idle_ms (which it deletes) */
	STORE_DELETE_TOKEN,  /* in: token_hash */
	STORE_TOKEN_TOUCH,   /* in: token_hash   (marks it used now: a session with it was open) */
	STORE_DELETE_TOKENS, /* in: user_id, token_hash, keep_token   every token of the user's, but
	                      * token_hash when keep_token   out: count */
	STORE_SET_PASSWORD,  /* in: user_id, pw_hash, token_hash   sets the hash and deletes every
	                      * other token of the user's, in one step   out: count (deleted) */
	STORE_PRUNE_TOKENS,  /* in: nothing   deletes the tokens unused past token_idle_ms
	                      * out: count */
	STORE_APPEND,        /* in: user_id, ts, text, cid?, room or peer_id, reply_to (0: none;
	                      * else a message of the same conversation, not recalled, else
	                      * STORE_BAD_REPLY / STORE_RECALLED)   out: msg_id, ts; with a reply_to,
	                      * or @mentions in a room message (stored, at most PIER_MENTIONS_MAX
	                      * members of the room), the stored message in msgs[0] */
	STORE_JOIN,          /* in: user_id, room            out: created (room was new), already */
	STORE_PART,          /* in: user_id, room            (STORE_NOT_FOUND if not a member) */
	STORE_HISTORY,       /* in: user_id, room or peer_id, before, limit   out: msgs, more */
	STORE_SYNC,          /* in: user_id, after, limit, changes_after (< 0: not asked)
	                      * out: msgs, more; changes (the messages of the user's conversations
	                      * changed after changes_after, by changed, at most limit),
	                      * changes_more; change_seq */
	STORE_OFFLINE,       /* in: user_id, after, limit    out: msgs (private to user, id > max(after, seen_id)), more */
	STORE_SET_SEEN,      /* in: user_id, seen_id         (only ever raises the stored value) */
	/* Changes to a message user_id may see (a member of its room, a party of its private
	 * conversation; else STORE_NOT_FOUND). Each gives the message the next change sequence
	 * number (changed) and leaves its new state in msgs[0]. */
	STORE_EDIT,          /* in: user_id, msg_id, text, ts (the edit's time): the user's own
	                      * message (STORE_NOT_OWN), not recalled (STORE_RECALLED), text not
	                      * empty unless it has media (STORE_EMPTY); @mentions found again */
	STORE_RECALL,        /* in: user_id, msg_id, ts (now), window_ms: the user's own message,
	                      * at most window_ms old (STORE_TOO_LATE); its text, media, reply,
	                      * mentions and reactions are deleted, recalled set. Recalled already:
	                      * STORE_OK with already */
	STORE_REACT,         /* in: user_id, msg_id, emoji, on, ts, max_reactions: adds or removes
	                      * the user's reaction (STORE_RECALLED, STORE_LIMIT)
	                      * out: count (the emoji's reactions now), already (nothing changed:
	                      * msgs stay empty) */
	STORE_SEARCH,        /* in: user_id, text (the query, store_query.h), room or peer_id (one
	                      * conversation) or neither (every conversation the user may read:
	                      * #lobby, its rooms, its private ones), before, limit
	                      * out: msgs, newest first, each with its spans; more, next_before (see
	                      * STORE_SEARCH_SCAN_MAX). STORE_FAILED also for a query that does
	                      * not parse */
	/* media (see docs/PROTOCOL.md, Media). Who may see a media item: its uploader, and whoever
	 * may read a message that carries it (a member of its room, a party of its private chat). */
	STORE_MEDIA_CREATE,  /* in: user_id, media (sha256, name, size, type, width, height, thumb),
	                      * ts, upload_key (may be NULL: that tus upload is marked finished)
	                      * out: media.id */
	STORE_MEDIA_GET,     /* in: user_id, media_id   out: media; STORE_NOT_FOUND, STORE_DENIED */
	STORE_MEDIA_USAGE,   /* in: user_id   out: usage (bytes of distinct stored files + the
	                      * declared lengths of unfinished uploads) */
	STORE_UPLOAD_CREATE, /* in: user_id, upload_key, upload_length, media.name, media.type, ts */
	STORE_UPLOAD_GET,    /* in: upload_key   out: user_id (owner), upload_length, media.name,
	                      * media.type, media_id (0 while unfinished); STORE_NOT_FOUND */
	STORE_UPLOAD_DELETE, /* in: upload_key   (STORE_NOT_FOUND if there was none) */
	/* display names, topics, read positions, members (store_social.c) */
	STORE_SET_DISPLAY,   /* in: user_id, display (NULL: none) */
	STORE_SET_TOPIC,     /* in: user_id (who sets it), room, topic (NULL: none), ts
	                      * (STORE_NOT_FOUND: no such room) */
	STORE_READ,          /* in: user_id, room or peer_id, read_id: the user's read position in
	                      * that conversation moves up to read_id, never past the conversation's
	                      * newest message, never down   out: read_id (the position now),
	                      * moved (it went up) */
	STORE_UNREAD,        /* in: user_id, convs[nconvs] (room or peer_id each), limit (the count
	                      * cap)   out: each conv's read_id, unread (messages after it from
	                      * others, at most limit) and last_id */
	STORE_MEMBERS,       /* in: room (#lobby: every user), name (the page starts after this name key;
	                      * NULL: from the start), limit   out: names (by key), more */
	/* end-to-end encryption (store_e2ee.c; the fields are job->e2ee's, store_e2ee.h) */
	STORE_E2EE_REGISTER, /* in: user_id, dev, opks, max_devices, max_prekeys, pending_cutoff:
	                      * a new pending device (STORE_EXISTS: the id is taken; STORE_FULL:
	                      * max_devices active plus 3 pending)   out: rid, opk_count */
	STORE_E2EE_HELLO,    /* in: user_id, device_id, pending_cutoff   out: dev (keys, state),
	                      * rid, state, opk_count, queued; STORE_NOT_FOUND, STORE_REVOKED */
	STORE_E2EE_DEVICES,  /* in: peer_id, include_pending, pending_cutoff   out: version_out,
	                      * list_out, sig_out, devices (active, and pending when asked) */
	STORE_E2EE_PUBLISH,  /* in: user_id, list, sig, ak, version, reset, reset_allowed, listed,
	                      * device_rid (the session's), pending_cutoff: the new current list
	                      * (STORE_STALE; STORE_NOT_FOUND: it names a device the user has not
	                      * registered with those keys; STORE_CONFLICT: another account key
	                      * without reset, or a reset naming more than the session's device;
	                      * STORE_DENIED: a reset without a password login). Listed devices
	                      * become active; active ones left out (on a reset every other
	                      * one) are revoked, their prekeys and queues deleted
	                      * out: version_out, devices (the revoked) */
	STORE_E2EE_PREKEYS,  /* in: device_rid, dev.spk_* (spk_id 0: unchanged), opks, max_prekeys
	                      * (STORE_EXISTS: an id already there; STORE_FULL: past max_prekeys)
	                      * out: opk_count */
	STORE_E2EE_KEYS,     /* in: user_id, peer_id, device_rid   out: version_out, list_out,
	                      * sig_out, devices (every active device of peer_id but device_rid,
	                      * with its signed prekey, a claimed one-time prekey (deleted) and
	                      * the count left; pending ones never) */
	STORE_E2EE_DEVICE_SEND, /* in: user_id, device_rid (from), device_id (to: one of the user's
	                      * active or pending devices), payload, body, max_queue
	                      * out: rid (the target's), qid; STORE_NOT_FOUND, STORE_FULL,
	                      * STORE_NO_DEVICE (the sending device was revoked meanwhile) */
	STORE_E2EE_QUEUE,    /* in: device_rid, after, limit   out: envs (oldest first), more */
	STORE_E2EE_ACK,      /* in: device_rid, upto   out: count (deleted) */
	STORE_BARRIER,       /* in: nothing. Changes nothing: done runs once every job submitted
	                      * before it is done (the FIFO's order), e.g. to free what they use */
	STORE_STREAM         /* in: after, msg_id (upto; 0: no bound), limit   out: msgs (every
	                      * conversation's, every user's: id > after and <= upto, oldest
	                      * first, as HISTORY gives them to no reader: mentioned and the
	                      * reactions' mine false), more. For a cluster node catching up on
	                      * what other nodes stored (docs/CLUSTER.md) */
};

#define STORE_TOKEN_HASH_LEN 32
#define STORE_MEDIA_NAME_MAX 255   /* bytes of a media file name */
#define STORE_MEDIA_TYPE_MAX 127   /* bytes of a MIME type */
#define STORE_UPLOAD_KEY_MAX 64    /* bytes of a tus upload key */
/* STORE_SEARCH looks at most this many of the index's matches (newest first) per job, whether
 * the user may read them or not: a search of something common in conversations the user is
 * not in costs a bounded amount (reading the index is cheap; reading each match's row to see
 * whether the user may read it costs a few microseconds: some 5-10 ms for 2000 on the bench's
 * machine, docs/PERFORMANCE.md). When it stops there, more is true and next_before says where
 * to go on, even if fewer than limit messages (or none) were found. */
#define STORE_SEARCH_SCAN_MAX 2000

/* A stored file's description (a row of the media table). Fixed-size strings: it is both an
 * input (MEDIA_CREATE, UPLOAD_CREATE) and an output (MEDIA_GET, APPEND) without owners. */
struct store_media {
	int64_t id;
	int64_t uploader_id;
	int64_t created;                       /* ms since the epoch */
	int64_t size;                          /* bytes */
	int width, height;                     /* images; 0 when unknown */
	char sha256[65];                       /* lower-case hex: the file's name in the data dir */
	char name[STORE_MEDIA_NAME_MAX + 1];   /* the uploader's file name */
	char type[STORE_MEDIA_TYPE_MAX + 1];   /* detected MIME type ("image/png") */
	char thumb[32];                        /* the thumbnail's MIME type, "" if there is none */
	bool e2ee;                             /* ciphertext uploaded with ?e2ee=1: sendable only
	                                        * in an encrypted private message */
};

#define STORE_QUOTE_CHARS     100   /* characters of a quoted message's excerpt */
#define STORE_REACTION_USERS  10    /* names listed per reaction (the count is exact) */

/* One conversation of an unread count (STORE_UNREAD). The caller owns the array. */
struct store_conv {
	const char *room;      /* "#name", or NULL for the private conversation with peer_id */
	int64_t peer_id;
	int64_t read_id;       /* out: the user's read position (0: none) */
	int64_t unread;        /* out: messages after it not sent by the user, at most the cap */
	int64_t last_id;       /* out: the newest message's id (0: none) */
};

/* A stored message as the wire shows it. Strings are owned by the job's msgs array. */
struct store_msg {
	int64_t id;
	int64_t ts;        /* ms since the epoch */
	char *from;        /* sender's name, canonical case */
	char *to;          /* "#room" (canonical case) or "@name" (recipient, canonical case) */
	char *text;
	char *kind;        /* "image", "video", "audio", "file"; NULL for a text message */
	int64_t media_id;  /* 0: none; else media_name ... media_height describe it */
	char *media_name;
	char *media_type;
	int64_t media_size;
	int media_width, media_height;
	int64_t edited;    /* ms of the last edit; 0: never edited */
	int64_t recalled;  /* ms of the recall; 0: not recalled (a recalled one has text "") */
	int64_t changed;   /* change sequence of its last edit, recall or reaction; 0: none */
	int64_t reply_to;  /* the quoted message; 0: none. Then quote_* describe it: */
	char *quote_from;  /* its sender (NULL if it is gone) */
	char *quote_text;  /* its first STORE_QUOTE_CHARS characters ("" when recalled) */
	char *quote_kind;  /* its media kind, NULL for a text message */
	bool quote_cut;    /* quote_text is not the whole text */
	bool quote_recalled;
	char *mentions;    /* a JSON array of the mentioned users' names; NULL when none */
	bool mentioned;    /* the job's user is one of them */
	char *reactions;   /* a JSON array [{"emoji","count","users":[...],"mine"}]; NULL: none */
	bool e2ee;         /* end-to-end encrypted: text is "" (clients have it in the payload,
	                    * which history, sync and search never give) */
	/* SEARCH: where the query matched text and media_name (code points); owned like the rest */
	struct store_span *spans, *name_spans;
	int nspans, nname_spans;
};

struct store_job {
	enum store_op op;

	/* inputs (borrowed: must stay valid until done has run) */
	int64_t user_id;
	const char *name;                      /* CREATE_USER, GET_USER */
	const char *pw_hash;                   /* CREATE_USER, SET_PASSWORD: argon2id string */
	unsigned char token_hash[STORE_TOKEN_HASH_LEN]; /* LOGIN, TOKEN_USER, DELETE_TOKEN */
	const char *room;                      /* "#name" for APPEND, JOIN, PART, HISTORY, SEARCH */
	int64_t peer_id;                       /* APPEND, HISTORY, SEARCH of a private conversation
	                                        * (room NULL) */
	const char *text;                      /* APPEND, EDIT; SEARCH: the query */
	const char *cid;                       /* APPEND: client's id, may be NULL */
	bool new_contact;                      /* APPEND private: also record user and peer as
	                                        * contacts (the caller knows they were not) */
	int64_t before;                        /* HISTORY, SEARCH: ids < before; 0 means no bound */
	int64_t after;                         /* SYNC, STREAM: ids > after; OFFLINE: also > after */
	int limit;                             /* HISTORY, SYNC, OFFLINE: at most this many (>=1) */
	int64_t seen_id;                       /* SET_SEEN in; GET_USER/TOKEN_USER out */
	int64_t media_id;                      /* APPEND (0: a text message), MEDIA_GET in;
	                                        * UPLOAD_GET out */
	const char *kind;                      /* APPEND with media_id: "image", ... as asked
	                                        * (NULL: from the type); out: the kind stored
	                                        * ("file" when the asked one does not fit) */
	const char *upload_key;                /* UPLOAD_*, MEDIA_CREATE */
	int64_t upload_length;                 /* UPLOAD_CREATE in, UPLOAD_GET out */
	struct store_media media;              /* MEDIA_CREATE, UPLOAD_CREATE in; MEDIA_GET,
	                                        * UPLOAD_GET, APPEND (with media) out */
	int64_t usage;                         /* MEDIA_USAGE out */
	int64_t reply_to;                      /* APPEND: the quoted message, 0: none */
	const char *emoji;                     /* REACT */
	bool on;                               /* REACT: add (true) or remove */
	int64_t window_ms;                     /* RECALL */
	int max_reactions;                     /* REACT: different reactions one message may have */
	int64_t changes_after;                 /* SYNC: also the changes after this; < 0: not asked */
	bool keep_token;                       /* DELETE_TOKENS: spare token_hash */
	int64_t count;                         /* DELETE_TOKENS, SET_PASSWORD, PRUNE_TOKENS, REACT out */
	const char *display;                   /* CREATE_USER (may be NULL), SET_DISPLAY */
	const char *topic;                     /* SET_TOPIC (NULL: none) */
	int64_t read_id;                       /* READ in and out */
	struct store_conv *convs;              /* UNREAD: the caller's array, outputs filled */
	size_t nconvs;
	struct store_e2ee e2ee;                /* end-to-end encryption: the STORE_E2EE_* ops,
	                                        * and APPEND of an encrypted message
	                                        * (e2ee.payload set) */

	/* outputs (owned by the job until store_job_release) */
	enum store_status status;
	int64_t msg_id;                        /* APPEND; for STORE_DUPLICATE the original's.
	                                        * EDIT, RECALL, REACT in: the message;
	                                        * STREAM in: the highest id (0: no bound) */
	int64_t ts;                            /* APPEND in: time to store (0: now); out: stored.
	                                        * EDIT, RECALL, REACT in: now */
	char *user_name;                       /* GET_USER, TOKEN_USER: canonical case */
	char *pw_hash_out;                     /* GET_USER */
	bool created;                          /* JOIN */
	bool already;                          /* JOIN: the user was a member already; RECALL,
	                                        * REACT: there was nothing to change */
	bool moved;                            /* READ: the position went up */
	char *topic_out, *topic_by;            /* JOIN of an existing room: its topic and who set
	                                        * it (NULL: none) */
	int64_t topic_ts;                      /* JOIN: when the topic was set */
	char **names;                          /* MEMBERS: NULL-terminated user names */
	char **rooms;                          /* LOGIN: NULL-terminated array of "#Room" names */
	char **peers;                          /* LOGIN: NULL-terminated names of the users with
	                                        * whom the user has private messages (contacts) */
	struct store_msg *msgs;                /* HISTORY, SYNC, OFFLINE: oldest first; APPEND,
	                                        * EDIT, RECALL, REACT: the message; SEARCH: newest
	                                        * first */
	size_t nmsgs;
	bool more;                             /* HISTORY/SYNC/OFFLINE: more messages exist beyond
	                                        * limit; SEARCH: more may exist (ask again with
	                                        * before = next_before) */
	int64_t next_before;                   /* SEARCH: where the next page starts (its before) */
	struct store_msg *changes;             /* SYNC with changes_after: by change sequence */
	size_t nchanges;
	bool changes_more;
	int64_t change_seq;                    /* SYNC, LOGIN: the newest change sequence number */

	/* completion, called on the loop thread in submission order */
	void (*done)(struct store_job *job);
	void *data;                            /* the caller's */

	struct store_job *next;                /* the store's, for its queues */
};

struct store_options {
	const char *url;       /* the back end: NULL or "sqlite": SQLite in DIR/pier.db;
	                        * "postgresql://..." or "postgres://...": PostgreSQL (a libpq
	                        * connection URI; dir is then not used by the store) */
	int max_batch;         /* most jobs in one transaction (default 512) */
	bool no_sync;          /* synchronous=NORMAL instead of FULL: tests and benchmarks only */
	int64_t token_idle_ms; /* a token unused this long is no longer valid; 0: never expires */
};

/* Opens the back end opt->url names (NULL opt: SQLite). SQLite: opens (creating if needed,
 * mode 0600 whatever the umask; an existing one and its -wal and -shm files are set to 0600)
 * DIR/pier.db. PostgreSQL: connects to the URL. Then runs schema migrations, starts the store
 * thread and registers its completion handle on loop. On failure returns NULL and sets *err
 * to a malloc'd message. */
struct store *store_open(uv_loop_t *loop, const char *dir, const struct store_options *opt,
                         char **err);

/* Queues a job; thread-safe but meant for the loop thread. job->done will be called exactly
 * once, on the loop thread, after the job ran (or failed). */
void store_submit(struct store *st, struct store_job *job);

/* Jobs submitted but not yet completed (for clean shutdown: keep the loop running until 0). */
size_t store_pending(const struct store *st);

/* Stops the thread after it finished every queued job, completes their callbacks on the
 * calling (loop) thread, closes the database and frees st. Call with the loop still alive;
 * the completion handle is closed here (its close callback needs one more loop turn).
 * Jobs that callbacks submit meanwhile are run too. May be called from a done callback. */
void store_close(struct store *st);

/* Transactions (batches) committed so far; with the number of jobs it tells how well group
 * commit groups. Thread-safe. */
uint64_t store_commits(const struct store *st);
/* Microseconds spent committing (COMMIT with its fsync) so far, over store_commits batches:
 * the commit latency for /metrics. Thread-safe. */
uint64_t store_commit_usec(const struct store *st);
/* SQLite's WAL checkpoints so far: by the checkpointer thread, and by the writer inside a
 * commit when the WAL passed its hard limit (each delays that batch's acks). False when the
 * back end has none (PostgreSQL). Thread-safe. */
bool store_checkpoints(const struct store *st, uint64_t *by_thread, uint64_t *in_commit);

/* Startup reads, synchronous, on the calling thread (use before serving). Each returns 0 on
 * success, -1 on error. They share the store thread's connection under its lock, so they wait
 * for a batch in progress; cb runs under that lock and must not call the store. */
int store_count_users(struct store *st, int64_t *count);
/* The newest stored message's id (0: none yet): where a cluster node's sequencer starts
 * (docs/CLUSTER.md). */
int store_newest_msg_id(struct store *st, int64_t *id);
/* Calls cb for every user with its id and canonical name (the server's directory). */
int store_each_user(struct store *st, void (*cb)(void *ud, int64_t id, const char *name),
                    void *ud);
/* Calls cb for every room but #lobby, with its canonical name and member count. */
int store_each_room(struct store *st, void (*cb)(void *ud, const char *room, int64_t members),
                    void *ud);

/* Calls cb for every user with a display name (its login name and the display name). */
int store_each_display(struct store *st,
                       void (*cb)(void *ud, const char *name, const char *display), void *ud);
/* Calls cb for every room with a topic: its name, the topic, who set it (NULL if that user is
 * unknown) and when. */
int store_each_topic(struct store *st,
                     void (*cb)(void *ud, const char *room, const char *topic, const char *by,
                                int64_t ts), void *ud);

/* Zeroes a job and sets its op. */
void store_job_init(struct store_job *job, enum store_op op);
/* Frees the outputs the store allocated in job (not job itself, not the inputs). */
void store_job_release(struct store_job *job);

/* Frees what m owns (its strings and spans) and clears it: a message read by the store, or one
 * decoded elsewhere (the cluster's bus) with the same ownership. */
void store_msg_release(struct store_msg *m);

#endif
