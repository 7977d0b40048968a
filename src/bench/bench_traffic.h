/* bench_traffic.h - the message engine of the fanout, private and durable scenarios: senders
 * keep a bounded window of unacknowledged sends (or send at a fixed total rate), receivers
 * read everything, and every message is checked on arrival.
 *
 * A message's text is "b <sender index> <seq> <monotonic send time, ns>". Checks, each of
 * which counts as an error (and the first one is kept word for word):
 *   - each receiver gets each sender's messages with seq 0, 1, 2, ... (nothing lost,
 *     duplicated or reordered), from the right user, to the right room or user;
 *   - ids grow strictly per receiver and per sender's acks, and a message has the same id
 *     everywhere (in its sent reply and at every receiver);
 *   - the sent replies come in request order (ref) and never say duplicate;
 *   - at the end every receiver got exactly as many messages as were acknowledged for it;
 *   - no error event and no connection closed by the server.
 */
#ifndef BENCH_TRAFFIC_H
#define BENCH_TRAFFIC_H

#include <stddef.h>
#include <stdint.h>

#include "bench_net.h"
#include "bench_server.h"
#include "bench_setup.h"
#include "bench_stats.h"

enum btraffic_mode {
	BTRAFFIC_ROOM,       /* users[0..nsenders) send to room; every user is a member */
	BTRAFFIC_PRIVATE,    /* users 2k and 2k+1 are pairs; each sends to the other */
	BTRAFFIC_SELF        /* every user sends to itself: acks only, nothing is delivered */
};

struct btraffic_opts {
	enum btraffic_mode mode;
	const char *room;
	size_t nsenders;              /* BTRAFFIC_ROOM only; the other modes: every user */
	int window;                   /* unacknowledged sends per sender */
	int64_t lag_limit;            /* messages a receiver may be behind (bounds pierd's queues) */
	double rate;                  /* 0: saturate; else messages per second in total */
	int64_t warmup_ns, measure_ns, drain_ns;
	const struct bserver *server; /* CPU samples when it is ours */
};

struct btraffic_result {
	uint64_t sent, acked, delivered;       /* whole run */
	uint64_t win_acked, win_delivered;     /* inside the measured window */
	uint64_t rate_missed;                  /* fixed rate: sends skipped, window full */
	int64_t window_ns;
	int64_t server_cpu_us;                 /* -1: unknown */
	int64_t server_loop_us;                /* its main thread (the event loop) alone */
	int64_t bench_cpu_us;
	int64_t machine_busy_us;               /* every process on the machine; -1: unknown */
	uint64_t errors, stray;                /* stray: presence/member events meanwhile */
	char first_error[512];
	struct bstats_hist lat;                /* send -> msg, messages sent inside the window */
	struct bstats_hist ack;                /* send -> sent, likewise */
};

/* Runs one traffic phase on users whose sessions are open and quiet (bsetup_sync). Returns 0
 * when everything was verified, -1 otherwise (r->first_error says why). r is overwritten. */
int btraffic_run(struct bnet *net, struct buser *u, size_t n, const struct btraffic_opts *o,
                 struct btraffic_result *r);

/* Reads an unsigned decimal at *p up to a space or end, and moves *p past it; -1 when there
 * is none (a message text's numbers, a request's ref). */
int64_t btraffic_read_u64(const char **p, const char *end);
/* Reads a message text "b <sender index> <seq> <send time, ns>" (p, len bytes, not
 * NUL-terminated), the format above, which the e2ee scenario sends too. 0, or -1 when p is not
 * one. */
int btraffic_parse_text(const char *p, size_t len, int64_t *sidx, int64_t *seq, int64_t *t_ns);

#endif
