/* e2ee_chat.h - pierd's side of end-to-end encryption (docs/PROTOCOL.md, "End-to-end
 * encryption"; docs/E2EE.md, "The server's part"): the ops' handlers and what the e2ee
 * modules share. One module per concern:
 *   e2ee_session.c  a session's challenge and the device it speaks for;
 *   e2ee_devices.c  device_register, device_hello, devices, devices_publish;
 *   e2ee_prekeys.c  prekeys, keys (claims one-time prekeys, prekeys_low);
 *   e2ee_queue.c    the per-device queues: envelope events (live and backlog), device_send, ack;
 *   e2ee_send.c     send with "e2ee": the exact device set, one transaction, fan-out;
 *   e2ee_event.c    the envelope event, encoded without a tree;
 *   e2ee_b64.c      base64url form checks in one pass (what libsodium decodes, no more).
 * The server verifies what it can without keys of its own (signatures with the public keys
 * it was given, a list's version and devices, a send's device set) and never opens a payload.
 * (Not src/lib/e2ee/e2ee.h, the clients' crypto core: pierd links none of it.)
 */
#ifndef PIER_E2EE_CHAT_H
#define PIER_E2EE_CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fastreq.h"
#include "store.h"

struct conn;
struct server;
struct user;

#define E2EE_CHALLENGE_LEN 32
#define E2EE_KEY_LEN       32
#define E2EE_SIG_LEN       64
#define E2EE_ID_LEN        16
#define E2EE_OPKS_PER_REQUEST 100   /* one-time prekeys in one device_register or prekeys */
#define E2EE_PREKEYS_LOW   20       /* a device under this many one-time prekeys is told */
#define E2EE_QUEUE_PAGE    32       /* envelopes read from a queue at a time */

/* What a session holds (conn->e2ee): the challenge of its login and the device it speaks
 * for once device_register or device_hello bound one. Owned by the conn's chat side: made at
 * login, freed at the session's end (e2ee_session_end). */
struct e2ee_session {
	unsigned char challenge[E2EE_CHALLENGE_LEN];
	bool password_login;            /* logged in with the password, not a token (a reset) */
	bool binding;                   /* a register or hello is in flight */
	int64_t rid;                    /* the bound device's store row id; 0: none */
	char id[STORE_DEVICE_ID_TEXT + 1];
	unsigned char sign_key[E2EE_KEY_LEN];
	bool active;                    /* in the user's list (else pending) */
	/* the queue's catch-up (e2ee_queue.c), like offline delivery's */
	bool paging;                    /* the backlog is being read: live envelopes wait */
	bool reading;                   /* a page read is in flight */
	int64_t after;                  /* the highest qid queued to the session */
	unsigned gen;                   /* counts bindings: a stale page read is dropped */
	bool again;                     /* cluster: an envelope was announced while paging: read
	                                 * once more before envelopes come live */
};

/* ---- e2ee_session.c ---- */
/* Gives a new session (just logged in) its state and sets "challenge" on the login reply r. */
void e2ee_session_start(struct conn *c, json_t *r, bool password_login);
/* The session ends: frees its state. */
void e2ee_session_end(struct conn *c);
/* The session's device id when one is bound, else NULL. */
const struct e2ee_session *e2ee_session_of(const struct conn *c);
/* True if the session speaks for an active device (it gets envelopes, not e2ee msgs). */
bool e2ee_session_has_active_device(const struct conn *c);
/* The session of u bound to device rid, or NULL. */
struct conn *e2ee_session_for_device(struct user *u, int64_t rid);
/* Unbinds c's device (moved, revoked): stops its catch-up. */
void e2ee_session_unbind(struct conn *c);

/* Base64url (no padding) of exactly n bytes in member key of o: decodes into out (when not
 * NULL) and writes the canonical text (re-encoded) into text (when not NULL; it holds
 * sodium_base64_ENCODED_LEN(n, URLSAFE_NO_PADDING) bytes). 0, or -1 when missing, not a
 * string, not base64url or not n bytes. */
int e2ee_b64_field(const json_t *o, const char *key, size_t n, unsigned char *out, char *text);
/* Decodes text, base64url (no padding) of exactly n bytes (at most 128), into out (may be
 * NULL). 0, or -1. */
int e2ee_b64_decode(const char *text, size_t n, unsigned char *out);
/* ---- e2ee_b64.c ---- */
/* Whether s (len bytes, any bytes) is base64url without padding as libsodium decodes it
 * (URLSAFE_NO_PADDING): the 64 characters, a length not 1 modulo 4, the bits past the last
 * byte zero. The empty text passes. */
bool e2ee_b64_form(const char *s, size_t len);
/* Whether s (len bytes) is base64url without padding, not empty and at most max characters. */
bool e2ee_b64_valid(const char *s, size_t len, size_t max);
/* The pending devices' cutoff now: pending devices registered before it are gone. */
int64_t e2ee_pending_cutoff(const struct server *srv);

/* ---- e2ee_devices.c ---- */
/* Sets each of e->devices' listed by whether the signed list the store gave (e->list_out)
 * names it: a device the server has but the user's devices never signed (written into the
 * store by someone else) is shown as such, and clients refuse it. */
void e2ee_mark_listed(struct store_e2ee *e);

/* ---- handlers (dispatch.c's table) ---- */
void handle_device_register(struct conn *c, json_t *req, json_t *ref);
void handle_device_hello(struct conn *c, json_t *req, json_t *ref);
void handle_devices(struct conn *c, json_t *req, json_t *ref);
void handle_devices_publish(struct conn *c, json_t *req, json_t *ref);
void handle_prekeys(struct conn *c, json_t *req, json_t *ref);
void handle_keys(struct conn *c, json_t *req, json_t *ref);
void handle_device_send(struct conn *c, json_t *req, json_t *ref);
void handle_ack(struct conn *c, json_t *req, json_t *ref);
/* send with an "e2ee" member (chat.c hands it over). */
void e2ee_handle_send(struct conn *c, json_t *req, json_t *ref);

/* An encrypted send as plain values, from a tree (e2ee_handle_send) or from fastreq.c
 * (dispatch.c). The strings need only live through e2ee_send (it copies what the job keeps);
 * none holds a NUL unless its length says so. */
struct e2ee_send_req {
	const char *to;              /* NULL when absent or not a string */
	bool text;                   /* text present and not null (an error) */
	bool e2ee_bad;               /* e2ee not an object */
	struct fastreq_str payload;  /* s NULL when absent or not a string */
	const struct fastreq_key *keys;   /* NULL when keys is not an array of 1..64 objects;
	                                   * a device or body s NULL: absent or not a string */
	size_t nkeys;
	const char *cid;             /* NULL when absent or bad; else cid_len bytes */
	size_t cid_len;
	bool cid_bad;
	int64_t media;               /* 0 absent or null, -1 not a positive integer, else the id */
	int64_t reply_to;            /* the same */
};
/* Checks r in the order e2ee_handle_send always had (answering the first error) and submits
 * the store job; sent (or the error) comes when it is done. ref may be NULL. */
void e2ee_send(struct conn *c, const struct e2ee_send_req *r, json_t *ref);

/* ---- e2ee_queue.c ---- */
/* Starts c's catch-up of its device's queue (after device_hello). */
void e2ee_queue_start(struct conn *c);
/* c's output drained: the catch-up goes on (conn_handler.drained). */
void e2ee_queue_drained(struct conn *c);
/* Cluster: another node stored an envelope for c's device: c reads its queue from the store
 * (after what it has; again after the read in flight if one is), never from the bus. */
void e2ee_queue_poke(struct conn *c);
/* Delivers envelope v (stored, qid set) to the session of u bound to its device, unless that
 * session is still reading its backlog (the envelope is in it). */
void e2ee_queue_deliver(struct server *srv, struct user *u, const struct store_envelope *v);

/* Cluster: u's device list changed on another node: the sessions of u's here bound to a
 * device learn from the store whether it is active now, or revoked (then unbound and told
 * device_revoked, as after a publish here). Nothing when none is bound. */
void e2ee_devices_refresh(struct server *srv, struct user *u);

/* ---- e2ee_send.c ---- */
struct sbuf;
/* The msg event b ("e2ee":true, id) of an encrypted message from to peer: to the sessions of
 * both without an active device (those get envelopes), peer's through offline.c; but except.
 * Either user may be NULL (not in this node's directory). */
void e2ee_deliver_msg_event(struct user *from, struct user *peer, struct sbuf *b, int64_t id,
                            const struct conn *except);
/* ---- e2ee_event.c ---- */
/* {"op":"envelope",...} of v, as a jansson tree (the caller owns it). */
json_t *e2ee_envelope_event(const struct store_envelope *v);
/* The same event encoded, compact JSON and '\n', exactly the bytes sbuf_from_json writes for
 * e2ee_envelope_event(v); one reference, the caller's. */
struct sbuf *e2ee_envelope_sbuf(const struct store_envelope *v);

#endif
