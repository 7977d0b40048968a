/* pier.h - libpier, the pier client library: the wire protocol (docs/PROTOCOL.md) in one place.
 *
 * Three layers:
 *   1. requests and status texts (pier_proto.c, pier_text.c): pure functions;
 *   2. struct pier_client (pier_client.c): the protocol core. It does no I/O: bytes in, events
 *      out, bytes to send. A GUI or an event loop drives it; so does layer 3.
 *   3. struct pier_conn (pier_conn.c): a small blocking TCP or TLS connection on top of the
 *      core, for tools, tests and benchmarks' setup.
 *
 * JSON values are jansson's json_t. Ownership follows jansson's words: functions that
 * "take" a json_t steal the caller's reference; functions that "return a new reference" give
 * one the caller must json_decref.
 */
#ifndef PIER_H
#define PIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define PIER_DEFAULT_PORT       "6666"
#define PIER_DEFAULT_MAX_LINE   (64 * 1024)  /* bytes per line, newline excluded */
#define PIER_REF_MAX            32           /* buffer size for a ref the core generates */

/* Register and login status codes (the report's table 4.1, plus 5). */
enum {
	PIER_LOGIN_WRONG_PASSWORD = -1,
	PIER_LOGIN_NO_SUCH_USER   = 0,
	PIER_LOGIN_OK             = 1,
	PIER_REGISTER_NAME_TAKEN  = 2,
	PIER_REGISTER_OK          = 3,
	PIER_REGISTER_TOO_SHORT   = 4,
	PIER_REGISTER_INVALID     = 5   /* forbidden characters, name or password too long */
};

/* ---- 1. Requests: each returns a new JSON object (new reference), without "ref". ---- */
json_t *pier_req_register(const char *user, const char *password);
json_t *pier_req_login(const char *user, const char *password);
json_t *pier_req_login_token(const char *token);
json_t *pier_req_logout(void);
/* Revokes every token of the user's: every session everywhere ends. */
json_t *pier_req_logout_all(void);
/* Changes the password (old_password required); every other token is revoked. */
json_t *pier_req_password(const char *old_password, const char *new_password);
/* to: "#room" or "@user". cid may be NULL. */
json_t *pier_req_send(const char *to, const char *text, const char *cid);
json_t *pier_req_join(const char *room);
json_t *pier_req_part(const char *room);
/* The first page of the rooms (#lobby first, then by name; the server's page size). */
json_t *pier_req_rooms(void);
/* A page of the rooms: those after room name after (NULL: from the start, #lobby first), at
 * most limit (<= 0: the server's default, also its maximum, 1000). The reply's "more" says
 * whether to ask again with after = the last room of this page; "total" counts them all. */
json_t *pier_req_rooms_page(const char *after, int limit);
/* The first page of the users online (by name; the server's page size). */
json_t *pier_req_users(void);
/* A page of the users online: those after user name after (NULL: from the start), at most
 * limit (<= 0: the server's default, also its maximum, 1000). "more" says whether to ask
 * again with after = the last name of this page; "total" counts everyone online. */
json_t *pier_req_users_page(const char *after, int limit);
/* with: "#room" or "@user". before <= 0: the newest. limit <= 0: the server's default. */
json_t *pier_req_history(const char *with, int64_t before, int limit);
json_t *pier_req_sync(int64_t after, int limit);
/* sync that also asks for the messages changed (edited, recalled, reacted to) after change
 * sequence number changes_after (>= 0; the login reply's "change_seq", or the last "changed"
 * seen): the reply has "changes", "changes_more" and "change_seq". */
json_t *pier_req_sync_changes(int64_t after, int64_t changes_after, int limit);
/* send quoting message reply_to (> 0; a message of the same conversation). cid may be NULL. */
json_t *pier_req_send_reply(const char *to, const char *text, const char *cid, int64_t reply_to);
/* Recalls (撤回) one's own message id, within the server's recall window. */
json_t *pier_req_recall(int64_t id);
/* Replaces the text of one's own message id (a media message's caption may be ""). */
json_t *pier_req_edit(int64_t id, const char *text);
/* Adds (on) or removes (!on) one's reaction emoji to message id. */
json_t *pier_req_react(int64_t id, const char *emoji, bool on);
/* Full-text search of the messages the user may read (its rooms, #lobby, its private
 * conversations), newest first. q: what to look for (at most 256 bytes). with: "#room" or
 * "@user" to search one conversation, NULL for all. before <= 0: from the newest; else only
 * ids below before (the reply's "next_before" when "more" is true). limit <= 0: the server's
 * default (50; at most 100). Each message of the reply has "highlight": [[start,end],...] in
 * code points of its text (and "name_highlight" for its file's name). */
json_t *pier_req_search(const char *q, const char *with, int64_t before, int limit);
json_t *pier_req_ping(void);
/* Registers with a display name (NULL: none; see pier_req_profile). */
json_t *pier_req_register_display(const char *user, const char *password, const char *display);
/* Marks conversation with ("#room" or "@user") read up to message id (only ever moves up). */
json_t *pier_req_read(const char *with, int64_t id);
/* A page of unread counts: conversations after after (NULL: from the start, #lobby first), at
 * most limit (<= 0: the server's default and maximum, 100). */
json_t *pier_req_unread(const char *after, int limit);
/* Tells the others in to ("#room" or "@user") that the user is typing (no reply). */
json_t *pier_req_typing(const char *to);
/* A page of room's members (after: the last name of the previous page, NULL: from the start;
 * limit <= 0: the server's default, 100). */
json_t *pier_req_members(const char *room, const char *after, int limit);
/* Sets room's topic (NULL: asks for it; "": removes it). */
json_t *pier_req_topic(const char *room, const char *topic);
/* Sets the display name (NULL or "": removes it). */
json_t *pier_req_profile(const char *display);

/* End-to-end encryption (docs/PROTOCOL.md, "End-to-end encryption"; docs/E2EE.md). Binary
 * values are base64url without padding, as the caller encoded them; these only build JSON. */
/* Registers a new (pending) device bound to this session: its id (16 bytes), signing and DH
 * keys, name (NULL: none), signed prekey (id, key, sig), one-time prekeys (a JSON array of
 * {"id","key"}, taken; NULL: none) and proof (the signature of the login's challenge). */
json_t *pier_req_device_register(const char *id, const char *sign_key, const char *dh_key,
                                 const char *name, int64_t spk_id, const char *spk_key,
                                 const char *spk_sig, json_t *opks, const char *proof);
/* Binds this session to an existing device (proof: the signature of the login's challenge). */
json_t *pier_req_device_hello(const char *id, const char *proof);
/* user's signed device list and devices (NULL: one's own, pending ones included). */
json_t *pier_req_devices(const char *user);
/* Publishes a new signed device list (list: its bytes, sig: the account key's signature). */
json_t *pier_req_devices_publish(const char *list, const char *sig);
/* Replaces the signed prekey (spk_id 0: keeps it) and/or adds one-time prekeys (opks as in
 * pier_req_device_register, taken; NULL: none). */
json_t *pier_req_prekeys(int64_t spk_id, const char *spk_key, const char *spk_sig, json_t *opks);
/* What starting sessions with user's devices needs; claims one one-time prekey of each. */
json_t *pier_req_keys(const char *user);
/* An encrypted private message to "@user": the payload once and keys, a JSON array of
 * {"device","body"} (taken), one per current device. cid may be NULL; media and reply_to
 * <= 0: none. */
json_t *pier_req_send_e2ee(const char *to, const char *payload, json_t *keys, const char *cid,
                           int64_t media, int64_t reply_to);
/* An envelope to one of one's own devices (a grant, a history transfer). */
json_t *pier_req_device_send(const char *device, const char *payload, const char *body);
/* The device stored every envelope of its queue up to qid upto: the server deletes them. */
json_t *pier_req_ack(int64_t upto);

/* The "op" of an event or reply, or "" when it has none. Never NULL. */
const char *pier_event_op(const json_t *ev);

/* ---- Status and error texts for people, in English ("en") or Chinese ("zh"). ---- */
enum pier_lang { PIER_LANG_EN, PIER_LANG_ZH };
/* Picks the language from LC_ALL / LC_MESSAGES / LANG (zh* -> Chinese, else English). */
enum pier_lang pier_lang_from_env(void);
/* The report's texts: -1 密码错误, 0 用户名不存在, 1 登录成功 ... Unknown status: a generic text. */
const char *pier_login_status_text(int status, enum pier_lang lang);
const char *pier_register_status_text(int status, enum pier_lang lang);
/* A readable text for an error code from {"op":"error","error":CODE}; unknown: NULL. */
const char *pier_error_text(const char *code, enum pier_lang lang);

/* ---- 2. The protocol core (no I/O). ---- */
struct pier_client;

/* max_line: the longest line accepted from the server (0: PIER_DEFAULT_MAX_LINE). */
struct pier_client *pier_client_new(size_t max_line);
void pier_client_free(struct pier_client *c);

/* Takes req, adds "ref" (a fresh one, copied to ref_out if not NULL) unless req has one, and
 * queues its line for sending. Returns 0, or -1 if req could not be encoded. */
int pier_client_request(struct pier_client *c, json_t *req, char ref_out[PIER_REF_MAX]);

/* Queues raw bytes as they are (tests of bad input). */
void pier_client_queue_raw(struct pier_client *c, const void *data, size_t len);

/* Bytes waiting to be sent: returns their count and points *data at them (valid until the
 * next call on c). After sending some, call pier_client_consume with how many went out. */
size_t pier_client_pending(struct pier_client *c, const char **data);
void pier_client_consume(struct pier_client *c, size_t n);

/* Feeds bytes received from the server. Returns 0, or -1 if the server broke the protocol
 * (a line over max_line, or a line that is not a JSON object); the connection should close. */
int pier_client_feed(struct pier_client *c, const void *data, size_t len);

/* The next event or reply parsed from the server, oldest first (new reference), or NULL. */
json_t *pier_client_next(struct pier_client *c);

/* ---- 3. A blocking connection (poll(2) with timeouts; no threads). ---- */
struct pier_conn;

/* Timeouts are measured on the monotonic clock; a negative timeout_ms waits without limit.
 * pier_conn_send and pier_conn_send_raw wait at most this long for the socket to take the
 * bytes (reading meanwhile); past it the connection counts as failed. */
#define PIER_CONN_SEND_TIMEOUT_MS  30000

/* Connects to host:port (port as a string, e.g. "6666"). NULL on failure with *err set to a
 * malloc'd message (when err is not NULL). timeout_ms bounds the connect. */
struct pier_conn *pier_conn_open(const char *host, const char *port, int timeout_ms, char **err);

#define PIER_DEFAULT_TLS_PORT   "6697"

/* How a TLS connection checks the server. The default (all zero) trusts the system's
 * certificate store and checks that the certificate names host (a DNS name or an IP
 * address). */
struct pier_tls_options {
	const char *ca_file;        /* trust the certificates in this PEM file instead (a pinned
	                             * self-signed certificate works as its own CA) */
	const char *server_name;    /* the name to check and to send (SNI); NULL: host */
	bool insecure;              /* check nothing: self-signed tests only, never for real use */
};

/* Like pier_conn_open, then TLS (1.2 or newer) over the connection; timeout_ms bounds the
 * connect and the handshake together. opt may be NULL (the defaults). A certificate that does
 * not verify fails with a message that says why. */
struct pier_conn *pier_conn_open_tls(const char *host, const char *port, int timeout_ms,
                                     const struct pier_tls_options *opt, char **err);
void pier_conn_close(struct pier_conn *conn);
int pier_conn_fd(const struct pier_conn *conn);
struct pier_client *pier_conn_client(struct pier_conn *conn);

/* Takes req, sends it (ref added as in pier_client_request). 0, or -1 if the connection failed. */
int pier_conn_send(struct pier_conn *conn, json_t *req, char ref_out[PIER_REF_MAX]);
/* Sends raw bytes (tests of bad input). 0 or -1. */
int pier_conn_send_raw(struct pier_conn *conn, const void *data, size_t len);

/* Takes req, sends it and waits up to timeout_ms for the reply whose "ref" matches (the reply
 * may be {"op":"error",...}). Other events that arrive meanwhile are kept, in order, for
 * pier_conn_next. Returns the reply (new reference) or NULL on timeout or closed connection. */
json_t *pier_conn_call(struct pier_conn *conn, json_t *req, int timeout_ms);

/* The next event (kept ones first), waiting up to timeout_ms. NULL on timeout or close. */
json_t *pier_conn_next(struct pier_conn *conn, int timeout_ms);
/* The first event whose "op" is op (earlier ones of other ops stay kept, in order). */
json_t *pier_conn_wait_op(struct pier_conn *conn, const char *op, int timeout_ms);

/* True once the server closed the connection (or it failed) and no kept event remains. */
bool pier_conn_is_closed(struct pier_conn *conn);

/* Non-blocking progress, for callers that run their own poll(2) loop on pier_conn_fd (the
 * terminal client; over TLS too: it reads all that was decrypted): sends what the socket takes of the queued bytes (queue requests with
 * pier_client_request on pier_conn_client(conn)) and reads what has arrived, keeping the
 * events for pier_conn_next(conn, 0). Never waits. Poll for POLLOUT as well while
 * pier_client_pending is not 0. Returns 0, or -1 once the connection is closed or failed. */
int pier_conn_pump(struct pier_conn *conn);

#endif
