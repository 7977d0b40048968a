/* conn.h - one client connection: reading lines, the ordered reply queue, the bounded output
 * queue, pausing, and a close that never frees inside its own callbacks.
 *
 * Lifetime: a conn holds one reference for its libuv handle; anything that outlives a callback
 * (a store job, a password hash) takes another with conn_ref and drops it with conn_unref.
 * Once conn->closing is set, no handler does anything with it but drop its reference.
 *
 * Replies: one connection's replies leave in the order of its requests. A request answered
 * later (after the store or a hash) opens a slot with conn_slot_open; replies made while any
 * slot is open queue behind it. Events (msg, presence...) are not replies: they go straight out.
 */
#ifndef PIER_CONN_H
#define PIER_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "ratelimit.h"
#include "store.h"

struct server;
struct sbuf;
struct user;
struct limit_entry;

struct reply_slot {
	struct reply_slot *next;
	struct sbuf *buf;               /* NULL until filled */
};

struct conn {
	uv_tcp_t tcp;
	struct server *srv;
	unsigned refs;
	bool closing;
	bool busy;                      /* a request must finish before the next line is read */
	bool reading;
	bool skipping;                  /* dropping the rest of an over-long line */
	bool dirty;
	bool overflow;                  /* passed max-output: dropped at the next flush */
	bool counted;                   /* counted in its address's connection count */
	char addr[64];
	int64_t accepted_ms;
	int64_t close_deadline_ms;      /* graceful close: abort if not flushed by then */

	char *in;                       /* unread input; NULL while idle */
	size_t in_len, in_off, in_cap;

	struct sbuf **outq;             /* queued, not yet written */
	size_t outq_len, outq_cap;
	struct sbuf **wbufs;            /* being written */
	size_t wbufs_len, wbufs_cap;
	size_t out_bytes;               /* queued + being written */
	uv_write_t wreq;
	bool writing;

	struct reply_slot *slots, *slots_tail;

	struct user *user;              /* NULL before login */
	unsigned char token_hash[STORE_TOKEN_HASH_LEN];
	struct bucket msg_bucket, req_bucket;

	struct conn *prev, *next;       /* server's list */
	struct conn *dirty_next;
};

/* Accepts a pending connection on the server's listener. */
void conn_accept(struct server *srv);

void conn_ref(struct conn *c);
void conn_unref(struct conn *c);

/* Queues an event (takes its own reference to b). A client over its output limit is marked
 * and dropped (slow_consumer) at the next flush, never inside this call. */
void conn_send(struct conn *c, struct sbuf *b);
void conn_send_json(struct conn *c, json_t *ev);   /* takes ev */

/* Sends a reply now, or behind the open slots. Takes reply. */
void conn_reply(struct conn *c, json_t *reply);
/* Opens a slot for a reply that comes later. */
struct reply_slot *conn_slot_open(struct conn *c);
/* Fills the slot (takes reply) and sends every filled slot at the head. */
void conn_slot_fill(struct conn *c, struct reply_slot *slot, json_t *reply);

/* Stops reading requests until conn_resume (the current one needs an answer first). */
void conn_pause(struct conn *c);
void conn_resume(struct conn *c);

/* Sends {"op":"error","error":code,"message":message,"fatal":true} (when code is not NULL),
 * stops reading, closes once that is written (or after a short deadline). */
void conn_close(struct conn *c, const char *code, const char *message);
/* Closes at once, dropping queued output (best-effort error line first when code is set). */
void conn_abort(struct conn *c, const char *code, const char *message);

/* Output is written by the server once per loop turn. */
void conn_flush(struct conn *c);

#endif
