/* pg_session.h - pier-gtk's chat session: the login, the models the window shows, and the
 * life on the server across connection drops. It owns the connection (pg_conn), the outbox,
 * the conversation list, the online list and one message store per opened conversation.
 *
 * After a login the session stays logged in: when the connection drops it goes offline,
 * reconnects by itself with backoff (0.5 s doubling to 15 s, with jitter) and logs in again
 * with its token; then it sends the outbox again (same cids: nothing is stored twice) and
 * catches up with `sync` from the highest id it has seen (the stores drop what they hold
 * already: nothing is shown twice). The token is kept in DATA_DIR/session.json (0600), so the
 * next start needs no password.
 *
 * Callbacks (struct pg_session_ops) run from the main loop, never from inside a call into
 * the session.
 */
#ifndef PG_SESSION_H
#define PG_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "pg_convlist.h"
#include "pg_msgstore.h"

enum pg_session_state {
	PG_SESSION_LOGGED_OUT,   /* no login (yet, or the token was refused, or logout) */
	PG_SESSION_CONNECTING,   /* a password login or register in progress */
	PG_SESSION_OFFLINE,      /* logged in before; reconnecting */
	PG_SESSION_ONLINE
};

struct pg_session_config {
	const char *host;
	const char *port;        /* the JSON port ("6666"; TLS "6697") */
	const char *http_port;   /* the HTTP(S) port for media ("8080"; TLS "8443") */
	bool tls;
	const char *ca_file;     /* TLS: a pinned certificate file, or NULL */
	const char *data_dir;    /* the session token file, the outbox, received media */
};

struct pg_session_ops {
	void (*state_changed)(void *ud);
	/* A password login or register ended: ok, and the report's status text to show. */
	void (*login_result)(void *ud, bool ok, const char *text);
	/* A message from someone else arrived live (not history, not a catch-up). */
	void (*incoming)(void *ud, const char *with, PgMsg *msg);
	/* Something to tell the user (an error text, in the user's language). */
	void (*notice)(void *ud, const char *text);
	/* A room was joined (by /join or the join button): the window opens it. */
	void (*joined)(void *ud, const char *room);
	/* A room was left (the conversation is gone from the list). */
	void (*parted)(void *ud, const char *room);
};

struct pg_session;

struct pg_session *pg_session_new(const struct pg_session_config *cfg,
                                  const struct pg_session_ops *ops, void *ud);
void pg_session_free(struct pg_session *s);

/* Changes the server (while logged out; strings copied). */
void pg_session_configure(struct pg_session *s, const struct pg_session_config *cfg);
/* The pinned certificate file, or NULL. */
const char *pg_session_ca_file(const struct pg_session *s);

/* Logs in with a password (register first when register_first). */
void pg_session_login(struct pg_session *s, const char *user, const char *password,
                      bool register_first);
/* Logs in with the token saved by an earlier run, if one is saved for this server. True if
 * one was found (the answer comes as for pg_session_login). */
bool pg_session_resume(struct pg_session *s);
/* Logs out (the token is revoked and forgotten). */
void pg_session_logout(struct pg_session *s);

enum pg_session_state pg_session_state(const struct pg_session *s);
const char *pg_session_user(const struct pg_session *s);
const char *pg_session_token(const struct pg_session *s);
/* "http://host:8080" (or https), for media. */
const char *pg_session_http_base(const struct pg_session *s);
const char *pg_session_data_dir(const struct pg_session *s);

/* The conversations (sidebar) and the users online (as "@user" entries). Borrowed. */
PgConvList *pg_session_conversations(struct pg_session *s);
PgConvList *pg_session_online(struct pg_session *s);
/* Presence comes for contacts only: the online list holds the contacts online, kept live, and
 * everyone online only once asked for with pg_session_fetch_online (paged users requests of
 * PG_SESSION_ONLINE_PAGE names, at most PG_SESSION_ONLINE_PAGES pages; one fetch at a time),
 * a snapshot added to the list. False when offline or a fetch is in flight. */
#define PG_SESSION_ONLINE_PAGE 1000
#define PG_SESSION_ONLINE_PAGES 5
bool pg_session_fetch_online(struct pg_session *s);
bool pg_session_fetching_online(struct pg_session *s);
/* Users online as the server last said (the login's total, a fetch's, contacts' presence). */
int64_t pg_session_online_total(struct pg_session *s);
/* cb(ud) runs when the total or the fetching state changed (the sidebar's heading). */
void pg_session_on_online_changed(struct pg_session *s, void (*cb)(void *ud), void *ud);

/* The store of conversation with (borrowed, created on first use; its newest page is asked
 * for when it was never loaded). */
PgMsgStore *pg_session_open(struct pg_session *s, const char *with);
/* Asks for the page before the window's oldest message (one request at a time). */
void pg_session_load_older(struct pg_session *s, const char *with);
/* Reloads the newest page (after the window slid up and away from it). */
void pg_session_reload_newest(struct pg_session *s, const char *with);
/* The conversation shown, and whether the window has the focus: its messages count as read
 * (and are marked read on the server) instead of unread. with may be NULL. */
void pg_session_set_active(struct pg_session *s, const char *with, bool focused);

/* Sends text (and media: kind and id, else NULL and 0) to with through the outbox: shown at
 * once as pending, sent now or after the reconnect. 0, or -1 when the outbox is full. */
int pg_session_send(struct pg_session *s, const char *with, const char *text, const char *kind,
                    int64_t media);
void pg_session_join(struct pg_session *s, const char *room);
void pg_session_part(struct pg_session *s, const char *room);

/* A reply for the caller: reply (borrowed; an "error" too) or NULL when the connection
 * dropped before it came (then only ud is to be released). */
typedef void (*pg_session_reply_cb)(json_t *reply, void *ud);
/* A page of room's members (after: the last name of the previous page, or NULL). cb gets
 * the `members` reply. False (cb not called) when offline. */
bool pg_session_members(struct pg_session *s, const char *room, const char *after,
                        pg_session_reply_cb cb, void *ud);

/* How many messages wait in the outbox (tests). */
size_t pg_session_outbox_count(const struct pg_session *s);

/* End-to-end encryption of private chats (pg_e2ee.h): the device manager (borrowed), and
 * the windows' hook called when its state, devices or keys changed (one at a time). */
struct pg_e2ee;
struct pg_e2ee *pg_session_e2ee(struct pg_session *s);
void pg_session_on_e2ee_changed(struct pg_session *s, void (*cb)(void *ud), void *ud);
/* The media (borrowed; NULL before it is freed) that carries e2ee's history transfers. */
struct pg_media;
void pg_session_set_media(struct pg_session *s, struct pg_media *media);
/* ---- for the chat features built on the session (pg_msgactions, pg_typing, pg_search) ---- */

/* Sends req (taken) while online; cb gets its reply (an "error" too) once, or NULL when the
 * connection dropped first. False (req dropped, cb not called) when not online. */
bool pg_session_call(struct pg_session *s, json_t *req, pg_session_reply_cb cb, void *ud);
/* Sends req (taken) that has no reply when it goes through (typing): nothing waits for one.
 * False when not online. */
bool pg_session_notify(struct pg_session *s, json_t *req);
/* An event that is no reply (a `typing`, a `msg`...): listeners get each (borrowed), after the
 * session took it in. */
typedef void (*pg_session_event_cb)(json_t *ev, void *ud);
void pg_session_listen(struct pg_session *s, pg_session_event_cb cb, void *ud);
/* The store of conversation with if it was opened (borrowed), else NULL; nothing is asked. */
PgMsgStore *pg_session_store(struct pg_session *s, const char *with);
/* The read position of conversation with as the server last said (the `unread` reply, `read`
 * replies and events), 0 when unknown. */
int64_t pg_session_read_position(struct pg_session *s, const char *with);
/* Loads the page of history that ends with message id into with's store (replacing its
 * window, detached from the newest end) unless id is in the window already; cb gets the
 * reply (or NULL), as for pg_session_call. False when not online. */
bool pg_session_load_around(struct pg_session *s, const char *with, int64_t id,
                            pg_session_reply_cb cb, void *ud);
/* Whether the view of the active conversation shows its end: scrolled up, new messages
 * there count as unread and nothing is marked read, as in the browser; back at the end, what
 * is shown is marked read (coalesced, one `read` per conversation every 2 s at most). */
void pg_session_set_at_end(struct pg_session *s, bool at_end);
/* Sends text to with as a reply quoting message reply_to, through the outbox as
 * pg_session_send does (offline it waits; its cid keeps it from going twice). */
int pg_session_send_reply(struct pg_session *s, const char *with, const char *text,
                          int64_t reply_to);
/* The recall window the server said (login reply's "recall_window", or the default 120 s;
 * a recall_expired's window_s updates it). */
int pg_session_recall_window(const struct pg_session *s);
void pg_session_set_recall_window(struct pg_session *s, int seconds);

#endif
