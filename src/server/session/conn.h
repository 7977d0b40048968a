/* conn.h - one client session of the JSON protocol: reading requests, the ordered reply
 * queue, the bounded output queue, pausing, and a close that never frees inside its own
 * callbacks. The session does not know the bytes' road: it sits on a transport (plain TCP or
 * TLS, transport.h) through a framing that cuts requests out of bytes and puts replies into
 * them: JSON lines for the TCP protocol port (here), WebSocket text frames (ws.c).
 *
 * Lifetime: a conn holds one reference for its transport; anything that outlives a callback
 * (a store job, a password hash) takes another with conn_ref and drops it with conn_unref.
 * Once conn->closing is set, no handler does anything with it but drop its reference. The
 * conn is freed only after its transport closed (on_closed) and the last reference went.
 *
 * Replies: one connection's replies leave in the order of its requests. A request answered
 * later (after the store or a hash) opens a slot with conn_slot_open; replies made while any
 * slot is open queue behind it. Events (msg, presence...) are not replies: they go straight out.
 *
 * Output: queued struct sbuf buffers (shared by every recipient of a fan-out) are handed to
 * the framing once per loop turn (conn_flush), all of them in one write. The line framing
 * writes the very bytes of the sbufs; the WebSocket framing makes each line one text frame.
 * A buffer may carry a tag (conn_send_tagged): conn_written_tag says the highest tag whose
 * bytes were written to the socket, not merely queued (the offline watermark rests on it).
 *
 * The session does not know what requests mean: its owner gives it a struct conn_handler
 * (server.c wires the chat's; a test or a fuzzer gives a stub), so the session can be driven
 * alone by bytes.
 */
#ifndef PIER_CONN_H
#define PIER_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "protocol.h"
#include "store.h"

struct server;
struct sbuf;
struct session_context;
struct transport;
struct user;
struct conn;
struct e2ee_session;

struct reply_slot {
	struct reply_slot *next;
	struct sbuf *buf;               /* NULL until filled */
};

/* How JSON objects travel in bytes. The transport calls the framing's owner ops; the conn
 * calls these. */
struct conn_framing {
	const char *name;               /* "lines" or "websocket" */
	const struct transport_owner_ops *owner;
	/* Writes the n queued JSON lines (each ends in '\n'). 0, or negative when nothing was
	 * written; otherwise conn_written follows once they are all on the wire. */
	int (*write)(struct conn *c, struct sbuf *const *bufs, size_t n);
	/* Writes what goes out at once of the n queued lines, the first from byte off on:
	 * bytes written (0 when none), or negative on a failed connection. May be NULL. */
	ssize_t (*write_now)(struct conn *c, struct sbuf *const *bufs, size_t n, size_t off);
	/* Handles the requests kept in c->in while the connection is not paused. */
	void (*process)(struct conn *c);
	/* The output is flushed on a closing connection: goodbye at this layer (a WebSocket
	 * close frame), then transport_close. code is the fatal error or NULL. */
	void (*shutdown)(struct conn *c, enum pier_error code);
	/* Best effort before an abort: err (a JSON error line) and a goodbye, without waiting. */
	void (*last_words)(struct conn *c, const struct sbuf *err, enum pier_error code);
	/* Once a second (keepalive). May be NULL. */
	void (*tick)(struct conn *c, int64_t now_ms);
	/* Frees c->framing_state. May be NULL. */
	void (*release)(struct conn *c);
};

extern const struct conn_framing conn_lines_framing;

/* What the session's owner does with it. Every callback may be NULL but request. */
struct conn_handler {
	/* One request: a line without its newline, or a WebSocket text message. It may answer at
	 * once (conn_reply), later (conn_slot_open), pause the connection or close it. */
	void (*request)(struct conn *c, const char *line, size_t len);
	/* The connection begins closing (once): no more output will be queued to it after this.
	 * The owner detaches it from whatever it joined. */
	void (*closing)(struct conn *c);
	/* Queued bytes were written and the output is at or below the soft mark: room for more.
	 * conn_written_tag may have moved. Never called on a closing connection. */
	void (*drained)(struct conn *c);
	/* Who is on the connection, for log lines; NULL when nobody logged in. */
	const char *(*who)(const struct conn *c);
};

/* A tagged buffer not yet written (conn_send_tagged); there are never more of them than
 * buffers queued, which the output limit bounds. */
struct conn_tag {
	uint64_t end;                   /* out_total once the buffer is queued */
	int64_t tag;
};

struct conn {
	struct transport *tp;
	const struct conn_framing *framing;
	void *framing_state;            /* the framing's own (ws.c: struct ws) */
	const struct conn_handler *handler;
	struct session_context *ctx;    /* what the session layer sees of the server */
	struct server *srv;             /* opaque here: for the handler (ctx->srv) */
	unsigned refs;
	bool closing;
	bool busy;                      /* a request must finish before the next is read */
	bool want_process;              /* slots fell below the limit: read on at the next flush */
	unsigned nslots;                /* open reply slots (requests not yet answered) */
	bool reading;
	bool skipping;                  /* lines: dropping the rest of an over-long line */
	bool dirty;
	bool overflow;                  /* passed max-output: dropped at the next flush */
	bool tp_closed;                 /* the transport is gone */
	char addr[64];
	enum pier_error close_code;     /* the fatal error this connection is closing with */
	int64_t accepted_ms;
	int64_t close_deadline_ms;      /* graceful close: abort if not flushed by then */

	char *in;                       /* kept input (lines: raw bytes; ws: whole messages) */
	size_t in_len, in_off, in_cap;  /* NULL while idle */

	struct sbuf **outq;             /* queued, not yet written */
	size_t outq_len, outq_cap;
	struct sbuf **wbufs;            /* being written */
	size_t wbufs_len, wbufs_cap;
	size_t out_off;                 /* bytes of outq[0] written already (write_now) */
	size_t wbuf_off;                /* bytes of wbufs[0] written before the write began */
	size_t out_bytes;               /* queued + being written */
	bool writing;
	uint64_t out_total;             /* bytes ever queued */
	uint64_t written_total;         /* bytes ever written (whole buffers) */
	struct conn_tag *tags;          /* tagged buffers not yet written, oldest first */
	size_t ntags, tags_cap;
	int64_t written_tag;            /* the highest tag written, 0 if none */

	struct reply_slot *slots, *slots_tail;

	struct user *user;              /* the handler's; NULL before login (the session only tests
	                                 * it for the login timeout) */
	unsigned char token_hash[STORE_TOKEN_HASH_LEN];
	struct e2ee_session *e2ee;      /* the handler's too (chat/e2ee_chat.h): the login challenge and
	                                 * the device the session speaks for; NULL before login */

	struct conn *prev, *next;       /* server's list */
	struct conn *dirty_next;
};

/* A session on transport t (which it owns from now on), speaking through framing with its
 * state (framing_state, freed by framing->release), its requests going to srv->conn_handler.
 * Applies the per-address limit when t is not counted yet. The session starts reading at
 * once. */
struct conn *conn_new(struct session_context *ctx, struct transport *t,
                      const struct conn_framing *framing, void *framing_state);

void conn_ref(struct conn *c);
void conn_unref(struct conn *c);

/* Queues an event (takes its own reference to b). A client over its output limit is marked
 * and dropped (slow_consumer) at the next flush, never inside this call. */
void conn_send(struct conn *c, struct sbuf *b);
void conn_send_json(struct conn *c, json_t *ev);   /* takes ev */
/* conn_send, and once b's bytes are written conn_written_tag reaches tag (tags grow on one
 * connection). False when b was not queued (closing, or past the output limit). */
bool conn_send_tagged(struct conn *c, struct sbuf *b, int64_t tag);
/* The highest tag whose buffer was written to the socket; 0 if none. */
int64_t conn_written_tag(const struct conn *c);
/* The highest tag queued (written or not); 0 if none. */
int64_t conn_queued_tag(const struct conn *c);

/* Bytes that may still be queued before the output limit (0 once past it). */
size_t conn_output_room(const struct conn *c);
/* True while queued output is below the soft mark (where reading pauses): a producer that can
 * wait (offline delivery) queues more only then, and goes on at handler->drained. */
bool conn_output_below_soft(const struct conn *c);

/* Sends a reply now, or behind the open slots. Takes reply. */
void conn_reply(struct conn *c, json_t *reply);
/* Opens a slot for a reply that comes later. */
struct reply_slot *conn_slot_open(struct conn *c);
/* Fills the slot (takes reply) and sends every filled slot at the head. */
void conn_slot_fill(struct conn *c, struct reply_slot *slot, json_t *reply);
/* The same with the reply encoded already: b (one reference, taken) is a JSON line. */
void conn_slot_fill_buf(struct conn *c, struct reply_slot *slot, struct sbuf *b);

/* Requests one connection may have in flight (open reply slots). Past it the connection
 * reads no more requests until answers go out: a pipelining client cannot queue without
 * bound in the store's FIFO. */
#define CONN_MAX_PENDING 1024

/* True while the connection handles no more requests (conn_pause, or CONN_MAX_PENDING). */
bool conn_is_paused(const struct conn *c);

/* Stops reading requests until conn_resume (the current one needs an answer first). */
void conn_pause(struct conn *c);
void conn_resume(struct conn *c);

/* Sends {"op":"error","error":code,"message":message,"fatal":true} (unless PIER_ERR_NONE),
 * stops reading, closes once that is written (or after a short deadline). */
void conn_close(struct conn *c, enum pier_error code, const char *message);
/* Closes at once, dropping queued output (best-effort error line first unless PIER_ERR_NONE). */
void conn_abort(struct conn *c, enum pier_error code, const char *message);

/* Output is written once per loop turn: conn_mark_dirty puts c on its context's list (once,
 * holding a reference), conns_flush_dirty (the server's check and prepare handles) writes
 * every session on it. */
void conn_mark_dirty(struct conn *c);
void conns_flush_dirty(struct session_context *ctx);
void conn_flush(struct conn *c);
/* Stops reading for good (the server is stopping). */
void conn_stop_reading(struct conn *c);
/* The server's once-a-second visit: close deadline, login timeout, the framing's keepalive. */
void conn_tick(struct conn *c, int64_t now_ms);

/* ---- for framings ---- */

/* Hands one request to the handler (framings call this for each line or message). */
void conn_request(struct conn *c, const char *line, size_t len);

/* The framing's write finished (status 0) or failed. */
void conn_written(struct conn *c, int status);
/* Transport callbacks every framing shares. */
void conn_on_error(void *owner, int status);
void conn_on_closed(void *owner);
/* Starts or stops reading to match the connection's state. */
void conn_update_reading(struct conn *c);
/* Appends n bytes to c->in (grows it). */
void conn_in_append(struct conn *c, const void *data, size_t n);
/* Drops the consumed part of c->in (before in_off), moving the rest down; frees c->in when
 * nothing is left. Returns how far the kept bytes moved (offsets into c->in shrink by it). */
size_t conn_in_compact(struct conn *c);

#endif
