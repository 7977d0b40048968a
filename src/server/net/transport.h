/* transport.h - the byte layers under every client: one accepted socket as a byte stream,
 * plain TCP or TLS, behind one small table of functions.
 *
 * The stack of a client is
 *
 *     socket (uv_tcp_t) -> transport: tcp | tls -> owner: JSON lines session (conn.c)
 *                                                       | HTTP (http.c) -> WebSocket session (ws.c)
 *
 * A transport moves bytes; its owner (the layer above) makes sense of them. The owner is told
 * of input, of the end of its write, of errors and of the close through struct
 * transport_owner_ops; it drives the transport through the transport_* calls below, which go
 * through t->ops (tcp_transport_ops here, tls_transport_ops in tls.c). A test can put any
 * ops table under an owner and feed it bytes without a socket.
 *
 * Rules of the interface:
 *   - at most one owner write in flight: transport_write, then wait for on_written;
 *   - on_written and on_closed are never called from inside the call that caused them;
 *   - after transport_close the owner still gets on_written for a write in flight
 *     (status UV_ECANCELED) and then on_closed, its last call; the transport frees itself
 *     after on_closed.
 * The owner can change once, from HTTP to the WebSocket session (transport_set_owner).
 *
 * The output budget: every layer of one connection counts here what it holds for the peer
 * and has not written yet (the session's JSON lines, HTTP answers, WebSocket frames
 * including control frames queued in wslay, TLS records), adding what it queues and taking
 * off what is written (transport_out_add / transport_out_sub / transport_out_set). Past the
 * soft mark the transport stops reading, whatever its owner wants, so that a peer that does
 * not read makes no new work (no answers to pipelined requests, no PONGs); reading resumes
 * below it. Past the hard mark the layer that queues closes the connection
 * (transport_out_over_hard). The marks come from --max-output: soft a quarter of it, hard
 * twice it (a session's bytes can sit in two layers at once: its queue and wslay's).
 */
#ifndef PIER_TRANSPORT_H
#define PIER_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct net_context;
struct tls;
struct transport;

/* Which listener a client came through. */
enum listener_kind { LISTEN_TCP, LISTEN_TLS, LISTEN_HTTP, LISTEN_HTTPS, LISTEN_KINDS };

/* What the layer above is told. owner is the pointer given with the ops. */
struct transport_owner_ops {
	/* Plaintext bytes arrived; data is valid during the call only. */
	void (*on_read)(void *owner, const char *data, size_t len);
	/* The peer closed (UV_EOF), the connection failed (a negative libuv code), or the TLS
	 * layer refused the peer (UV_EPROTO). The owner closes the transport. */
	void (*on_error)(void *owner, int status);
	/* The owner's write is on the wire (0) or failed (negative). */
	void (*on_written)(void *owner, int status);
	/* The socket is closed; the last call. */
	void (*on_closed)(void *owner);
};

/* One byte layer. Every function but name may assume t is not closing unless it says so. */
struct transport_ops {
	const char *name;
	/* Raw bytes from the socket (tcp: passes them up; tls: decrypts them). */
	void (*input)(struct transport *t, const char *data, size_t len);
	/* Writes bufs (which stay valid until on_written). 0, or a negative libuv code and then
	 * on_written does not follow. */
	int (*write)(struct transport *t, const uv_buf_t *bufs, unsigned nbufs);
	/* Best effort, at once, no callback: the last words before an abort. */
	void (*try_write)(struct transport *t, const char *data, size_t len);
	/* Says goodbye at this layer (TLS close_notify) before the socket closes; once. */
	void (*shutdown)(struct transport *t);
	/* Frees the layer's own state after the socket closed; first tells the owner of a write
	 * it could not finish (on_written with UV_ECANCELED). */
	void (*release)(struct transport *t);
};

struct transport {
	uv_tcp_t tcp;
	struct net_context *ctx;        /* the server as the byte layers see it */
	const struct transport_ops *ops;
	const struct transport_owner_ops *owner_ops;
	void *owner;
	struct tls *tls;                /* tls.c's state; NULL for plain TCP */
	enum listener_kind kind;
	bool reading;                   /* the owner wants input (transport_read_start) */
	bool polling;                   /* the socket is being read: reading and under the budget */
	bool closing;
	bool counted;                   /* counted in its address's connection count */
	char addr[64];                  /* the peer's address, for logs and limits */
	bool shut;                      /* the layer said goodbye (ops->shutdown ran) */
	uv_shutdown_t sreq;             /* transport_shutdown_write's */
	uv_write_t wreq;                /* the one uv_write in flight (see transport_uv_write) */
	void (*wdone)(struct transport *t, int status);
	int64_t write_since_ms;         /* when the uv_write in flight began; 0: none */
	size_t out_queued;              /* the output budget: bytes held for the peer, all layers */
	size_t out_soft, out_hard;      /* its marks */
};

extern const struct transport_ops tcp_transport_ops;

/* Accepts a pending connection on listener as a plain TCP transport (tls_transport_init makes
 * it TLS). NULL if the accept failed. The transport has no owner yet: set one with
 * transport_set_owner before returning to the loop. */
struct transport *transport_accept(struct net_context *ctx, uv_stream_t *listener,
                                   enum listener_kind kind);

/* Counts t against its address's connection limit (--max-conns-per-addr). false when the
 * address has too many: the caller refuses the client and closes t. */
bool transport_admit(struct transport *t);

void transport_set_owner(struct transport *t, const struct transport_owner_ops *ops, void *owner);

/* Reading on or off (idempotent): the owner's wish; the socket is read while it holds and
 * the output budget is under its soft mark. Reads land in the context's one read buffer. */
void transport_read_start(struct transport *t);
void transport_read_stop(struct transport *t);

/* See struct transport_ops. transport_write on a closing transport returns UV_ECANCELED. */
int transport_write(struct transport *t, const uv_buf_t *bufs, unsigned nbufs);
void transport_try_write(struct transport *t, const char *data, size_t len);
/* Writes what the socket takes of bufs at once, without queueing and without a callback:
 * the bytes written (0 when it takes none), or a negative libuv error. Plain TCP only (a
 * layer that must transform its output returns 0: use transport_write). */
ssize_t transport_write_now(struct transport *t, const uv_buf_t *bufs, unsigned nbufs);

/* Says goodbye at the layer (TLS close_notify) and sends FIN once the queued writes are out;
 * reading goes on, so that a peer still sending gets no reset that would destroy the answer
 * it has not read yet (a "lingering close"). Close later with transport_close. */
void transport_shutdown_write(struct transport *t);

/* Closes (idempotent): shutdown at the layer, then the socket. on_closed follows. */
void transport_close(struct transport *t);

static inline bool transport_is_closing(const struct transport *t)
{
	return t->closing;
}

/* The output budget (see the top): n bytes more, or fewer, held for the peer by a layer.
 * Crossing the soft mark stops or resumes reading. */
void transport_out_add(struct transport *t, size_t n);
void transport_out_sub(struct transport *t, size_t n);
/* A layer that knows its total rather than the changes: *share is what it counted so far
 * (start at 0), now what it holds now. */
void transport_out_set(struct transport *t, size_t *share, size_t now);
/* True when the connection's output is past the hard mark: the caller closes it. */
static inline bool transport_out_over_hard(const struct transport *t)
{
	return t->out_queued > t->out_hard;
}

/* How long the uv_write in flight has made no progress (ms), 0 when none is in flight: a
 * peer that reads nothing leaves it there. */
int64_t transport_write_stalled_ms(const struct transport *t, int64_t now_ms);

/* For the layers: the one uv_write on t's socket (a layer has at most one in flight); counts
 * the bytes and calls done(t, status) from the loop. 0 or a negative libuv code (no done). */
int transport_uv_write(struct transport *t, const uv_buf_t *bufs, unsigned nbufs,
                       void (*done)(struct transport *t, int status));

#endif
