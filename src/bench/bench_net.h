/* bench_net.h - the bench's client pool: many non-blocking TCP connections on one epoll loop,
 * each driven by libpier's protocol core (struct pier_client).
 *
 * Requests are encoded by libpier (pier_client_request) or queued as ready lines
 * (bnet_queue_raw, the hot path for sends); every connection's queued bytes go out in one
 * write per loop turn. Received lines are split here; the hot ones (msg, sent, presence,
 * member, users, pong) are read in place by bench_line.c, every other line goes through
 * pier_client_feed/pier_client_next and arrives as a jansson object.
 *
 * Connections are never freed while the pool lives: a scenario may keep pointers to them.
 * Every wait is bounded: bnet_run takes a deadline.
 */
#ifndef BENCH_NET_H
#define BENCH_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bench_line.h"
#include "pier.h"

#define BNET_MAX_LINE  (32u << 20)   /* longest line accepted from the server (users lists) */

enum bconn_state { BCONN_CONNECTING, BCONN_OPEN, BCONN_CLOSED };

struct bnet;

struct bconn {
	struct bnet *net;
	int fd;                       /* -1 once closed */
	uint32_t idx;                 /* position in the pool, 0.. */
	enum bconn_state state;
	uint32_t interest;            /* epoll events registered */
	bool dirty;                   /* has bytes queued, is on the flush list */
	struct pier_client *pc;       /* libpier's protocol core for this connection */
	char *in;                     /* a partial line */
	size_t in_len, in_cap;
	void *udata;                  /* the scenario's */
	uint64_t lines;               /* lines received */
};

/* What a scenario hears. Every callback may queue requests and close connections; fast events
 * and JSON objects are borrowed (valid during the call). Missing callbacks are skipped. */
struct bnet_handler {
	void (*on_open)(void *ctx, struct bconn *c);                   /* connect completed */
	void (*on_fast)(void *ctx, struct bconn *c, const struct bline *ev);
	void (*on_json)(void *ctx, struct bconn *c, json_t *ev);
	void (*on_close)(void *ctx, struct bconn *c, const char *why); /* the peer or an error */
	void (*on_tick)(void *ctx, uint64_t ticks);                    /* see bnet_ticker */
};

struct bnet_counters {
	uint64_t bytes_in, lines_in, fast_lines, slow_lines;
	uint64_t bytes_out, writes, reads;
	uint64_t parser_checked, parser_mismatches;
};

/* A pool talking to host:port (IPv4). nsrc > 0 spreads connections over the source addresses
 * 127.0.0.2 .. 127.0.0.(1+nsrc) (loopback targets only), past one address's ephemeral ports.
 * check_parser: every fast-read line is parsed again by jansson and compared. NULL on error. */
struct bnet *bnet_new(const char *host, int port, int nsrc, bool check_parser, char *err,
                      size_t errlen);
/* Closes every connection and frees the pool. */
void bnet_free(struct bnet *n);

/* Starts a non-blocking connect; the connection is usable (requests may be queued) at once,
 * bytes go out when it opens. NULL (err set) when no socket could be made. */
struct bconn *bnet_connect(struct bnet *n, void *udata, char *err, size_t errlen);
/* Closes c (no on_close call). Safe on a closed connection. */
void bnet_close(struct bconn *c);

size_t bnet_count(const struct bnet *n);
struct bconn *bnet_conn(struct bnet *n, size_t i);

/* Takes req (libpier builder output), adds ref unless req has one, queues it. 0 or -1. */
int bnet_request(struct bconn *c, json_t *req);
/* Queues a ready line (it must end in '\n'). */
void bnet_queue_raw(struct bconn *c, const char *data, size_t len);

/* Runs the loop until done(ctx) returns true (0), or deadline_ns passes on the monotonic clock
 * (-1). done is checked after every loop turn. */
int bnet_run(struct bnet *n, const struct bnet_handler *h, void *ctx, bool (*done)(void *ctx),
             int64_t deadline_ns);

/* Calls on_tick every interval_ns (0 stops). ticks says how many intervals passed. */
int bnet_ticker(struct bnet *n, int64_t interval_ns);

/* Monotonic nanoseconds: bnet_now is the time of the latest read (cheap), bnet_clock reads
 * the clock. */
int64_t bnet_now(const struct bnet *n);
int64_t bnet_clock(void);

const struct bnet_counters *bnet_counters(const struct bnet *n);
/* The first parser mismatch seen (--check-parser), or "". */
const char *bnet_parser_error(const struct bnet *n);

#endif
