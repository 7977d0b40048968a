/* memtransport.h - a transport without a socket, under the byte layers and the JSON session
 * in unit tests and fuzz harnesses (tests/unit/test_http_layer.c, test_session.c,
 * fuzz/fuzz_http.c, fuzz_websocket.c, fuzz_session.c): the test feeds bytes in, what the
 * owner writes lands in a struct mem_wire, and writes complete when the test says.
 *
 * It keeps transport.h's rules: one owner write in flight (a second one, or one on a closing
 * transport, aborts: the layers above must never do it), on_written never from inside the
 * write, and a write in flight at the close is cancelled (on_written UV_ECANCELED) before
 * on_closed. The socket is a uv_tcp_t on the context's loop that is never connected, so
 * nothing is read from it; transport_close closes it through libuv's close callback as for
 * a real one (run the loop once), which frees the transport.
 *
 * The wire belongs to the caller and outlives the transports opened on it; mem_open empties
 * it, so one wire serves a test's transports one after another. */
#ifndef PIER_MEMTRANSPORT_H
#define PIER_MEMTRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "transport.h"

struct net_context;

/* What the owner wrote, as the peer would see it. */
struct mem_wire {
	char *out;            /* the bytes written, the first keep of them, NUL-terminated */
	size_t keep;          /* how many are kept (more are only counted) */
	size_t len;           /* bytes in out */
	bool cut;             /* more was written than kept */
	size_t total;         /* every byte written (write and try_write) */
	int pending;          /* owner writes not completed yet (0 or 1) */
};

/* Sets up w to keep the first keep bytes written (0: count them only). */
void mem_wire_init(struct mem_wire *w, size_t keep);
/* Frees what mem_wire_init took. */
void mem_wire_release(struct mem_wire *w);

/* A transport of kind on ctx (ctx->loop, ctx->cfg's output marks) with no owner yet,
 * writing to w (emptied). Counted in ctx's metrics like an accepted one. */
struct transport *mem_open(struct net_context *ctx, enum listener_kind kind, struct mem_wire *w);

/* Bytes from the peer: the owner hears on_read (through the transport's input). */
void mem_input(struct transport *t, const char *data, size_t len);

/* Feeds data in reads of chunk bytes (0 counts as 1), completing the writes after each
 * read when complete_each. Stops when the transport closes. */
void mem_feed(struct transport *t, const char *data, size_t len, size_t chunk,
              bool complete_each);

/* The write in flight is on the wire: the owner hears on_written(0), which may start the
 * next write. Nothing when none is in flight or the transport is closing. */
void mem_complete_one(struct transport *t);

/* mem_complete_one until no write is in flight (or the transport closes). */
void mem_complete(struct transport *t);

#endif
