/* session.h - the chat's life on the server across connection drops: `pier` stays logged in.
 *
 * After the first login (done by interactive.c with the user's password), struct session owns
 * the connection. When it drops, the session goes offline and reconnects by itself: with
 * exponential backoff (0.5 s doubling to 30 s, with jitter), in a helper thread so that the
 * caller's poll(2) loop keeps serving the keyboard; then it logs in again with the token of
 * the first login (asking for the password through the ops when the token is refused) and
 * catches up with `sync` from the highest message id it has seen, showing each missed
 * message once, oldest first, and then each message changed meanwhile (edited, recalled,
 * reacted to: sync's changes_after, from the last change sequence number it saw).
 *
 * Every chat message goes out through the session's outbox with a `cid`, so that a send cut
 * by a drop can be sent again after reconnecting without being stored twice (the server
 * answers a known cid with the original `sent`). Lines typed while offline wait there too.
 *
 * The caller drives the session from its own loop:
 *     session_pollfd(s, &pfd); poll(..., min(session_timeout_ms(s), ...)); session_run(s);
 * Callbacks (struct session_ops) fire only from session_run, never from the other calls.
 */
#ifndef PIER_CLI_SESSION_H
#define PIER_CLI_SESSION_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "names.h"
#include "pier.h"

#define SESSION_TARGET_MAX   40     /* "#room" or "@user" and NUL */
#define SESSION_OUTBOX_MAX   100    /* messages waiting for their `sent`, queued ones included */
#define SESSION_SEEN_MAX     4096   /* message ids remembered for showing each message once */

enum session_state {
	SESSION_ONLINE,       /* logged in (maybe still catching up) */
	SESSION_WAITING,      /* offline: the next connection attempt waits for its time */
	SESSION_CONNECTING,   /* offline: a connection is being opened */
	SESSION_LOGGING_IN,   /* offline: connected, the login awaits its reply */
	SESSION_FAILED        /* gave up: could not log in again (see ops->failed) */
};

/* Where a message shown through ops->message comes from. */
enum session_origin {
	SESSION_MSG_LIVE,     /* as it was sent */
	SESSION_MSG_OFFLINE,  /* pushed at login, or fetched after it: arrived while logged out */
	SESSION_MSG_MISSED,   /* fetched after a reconnect: sent while the connection was down */
	SESSION_MSG_OWN       /* one of ours, stored by the server (from its `sent`) */
};

/* Why the connection was lost. */
enum session_drop {
	SESSION_DROP_CLOSED,  /* closed by the server, or a socket error */
	SESSION_DROP_SILENT,  /* no answer to a ping */
	SESSION_DROP_LOGIN    /* no usable answer to the login */
};

/* Why the session gave up. */
enum session_fail {
	SESSION_FAIL_NO_PASSWORD,  /* the token was refused and no password was given */
	SESSION_FAIL_PASSWORD,     /* the password was refused too often */
	SESSION_FAIL_NO_USER       /* the account does not exist any more */
};

/* Results of session_send. */
enum session_send_result {
	SESSION_SEND_OK,      /* goes out now (or right after the catch-up) */
	SESSION_SEND_QUEUED,  /* offline: goes out after reconnecting */
	SESSION_SEND_FULL,    /* SESSION_OUTBOX_MAX messages are waiting already */
	SESSION_SEND_BAD      /* cannot be encoded (not UTF-8) */
};

/* What the session tells its user; ctx is session_init's. JSON arguments are borrowed. */
struct session_ops {
	/* A chat message to show ({"id","from","to","text","ts"[,"offline"]}), each id once. */
	void (*message)(void *ctx, const json_t *msg, enum session_origin origin);
	/* Any other event or reply: replies to session_request, presence, member, users, errors,
	 * and the live changes to messages (edited, recalled, reaction). */
	void (*event)(void *ctx, const json_t *ev);
	/* A message that changed while the connection was down, as it is now (from sync's
	 * changes: {"id","from","to","ts",...} with "edited", "recalled" or "reactions"). */
	void (*changed)(void *ctx, const json_t *msg);
	/* A message of the outbox was refused by the server (err is the error reply). */
	void (*send_failed)(void *ctx, const char *to, const char *text, const json_t *err);
	/* The connection was lost; unsent messages wait in the outbox. Replies to requests made
	 * with session_request will never come. */
	void (*offline)(void *ctx, enum session_drop why, size_t unsent);
	/* Logged in again; missed messages follow. relogin: with a password, not the token. */
	void (*reconnected)(void *ctx, bool relogin);
	/* The catch-up after a reconnect is over: `missed` messages were shown, and `changes`
	 * changed ones; `truncated`: more were missed than the catch-up shows; `unknown`: the
	 * catch-up had no starting point. */
	void (*caught_up)(void *ctx, size_t missed, size_t changes, bool truncated, bool unknown);
	/* The token was refused: the password for the session's user, malloc'd (the session wipes
	 * and frees it), or NULL to give up. again: the previous password was refused. May block. */
	char *(*password)(void *ctx, bool again);
	/* The session gave up; it stays in SESSION_FAILED. */
	void (*failed)(void *ctx, enum session_fail why);
};

struct session_req;
struct session_out;
struct session_dial;

/* The fields are the session's own; read them through the functions below. */
struct session {
	const struct cli_options *o;
	const struct session_ops *ops;
	void *ctx;
	enum session_state state;
	struct pier_conn *conn;
	char self[PIER_NAME_MAX + 1];
	char *token;                /* from the last login; NULL once refused */
	char challenge[64];         /* the last login's (end-to-end encryption), or "" */
	char *password;             /* typed after a refused token, until a login used it */
	int password_tries;
	bool relogin;               /* the login in flight uses the password */

	/* reconnecting */
	int attempt;                /* failed attempts since the last login */
	int64_t next_try;           /* SESSION_WAITING: when to connect */
	int64_t login_deadline;     /* SESSION_LOGGING_IN */
	struct session_dial *dial;  /* SESSION_CONNECTING */
	uint64_t rng;

	bool busy;                  /* session_run stopped with events still coming */

	/* keepalive */
	int64_t last_heard;
	bool ping_out;

	/* which messages were shown */
	int64_t high;               /* the highest message id seen */
	bool high_known;            /* high covers everything stored before the first login */
	int64_t floor;              /* at the last reconnect: ids up to here were shown */
	int64_t seen[SESSION_SEEN_MAX];   /* a ring of the ids shown last */
	size_t nseen, seen_pos;
	int64_t seen_max;

	/* catching up with sync */
	bool syncing;               /* a sync chain runs */
	bool catchup;               /* ... after a reconnect: live messages wait in held */
	int sync_pages;
	size_t sync_shown, changes_shown;
	json_t *held;               /* live messages and changes that arrived during a catch-up */
	int64_t change_seq;         /* changes to messages up to this one were shown (or older
	                             * than the first login) */
	int64_t sync_after;         /* the catch-up's next page: messages after this id */
	int64_t sync_changes_after; /* ... and changes after this sequence number */
	int baseline_left;          /* history replies awaited that set `high` after login */
	bool swallow_users;         /* the `users` event after a reconnect is not news */

	struct session_req *reqs;   /* the session's own requests awaiting replies */

	/* the outbox */
	struct session_out *out_head, *out_tail;
	size_t nout, inflight;
	int64_t send_paused_until;  /* after rate_limited */
	char cid_base[24];
	uint64_t cid_seq;
};

/* Fills s (owned by the caller); nothing is connected yet. */
void session_init(struct session *s, const struct cli_options *o, const struct session_ops *ops,
		  void *ctx);
/* Closes the connection, abandons a connection attempt, frees the outbox. */
void session_release(struct session *s);

/* Takes conn, on which the login with a password just succeeded (reply: that login's reply;
 * events after it stay kept in conn and are handled by session_run). */
void session_start(struct session *s, struct pier_conn *conn, const json_t *reply);

/* What to poll: the connection, a connection attempt, or nothing (fd -1). */
void session_pollfd(struct session *s, struct pollfd *pfd);
/* Milliseconds until session_run has something to do without I/O (-1: nothing). */
int session_timeout_ms(const struct session *s);
/* Does what can be done without waiting: I/O, events, timers. Fires the callbacks. */
void session_run(struct session *s);

enum session_state session_state(const struct session *s);
bool session_is_online(const struct session *s);
/* The logged-in user's name (canonical spelling). */
const char *session_self(const struct session *s);
/* The challenge of the last login ("" when the server sent none): a device proves itself
 * over it (cli_e2ee.h). */
const char *session_challenge(const struct session *s);
/* Messages in the outbox (waiting to be sent, or for their `sent`). */
size_t session_unsent(const struct session *s);

/* Queues a chat message (to: "#room" or "@user"); shown through ops->message once stored. */
enum session_send_result session_send(struct session *s, const char *to, const char *text);
/* The same, quoting message reply_to (0: none) of the same conversation. */
enum session_send_result session_send_reply(struct session *s, const char *to, const char *text,
                                            int64_t reply_to);

/* Takes req and queues it with a fresh ref (copied to ref_out); its reply comes through
 * ops->event. -1 when offline or req could not be encoded (req is freed either way). */
int session_request(struct session *s, json_t *req, char ref_out[PIER_REF_MAX]);

/* Messages the user saw some other way (history): raises the high-water mark. */
void session_saw(struct session *s, const json_t *messages);

/* Sends logout (revoking the token) and waits up to timeout_ms for its reply, when online. */
void session_logout(struct session *s, int timeout_ms);

#endif
