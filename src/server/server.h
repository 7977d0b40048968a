/* server.h - struct server: everything pierd holds, reached from each handle's data. One event
 * loop thread owns all of it; only the store has a thread of its own. */
#ifndef PIER_SERVER_H
#define PIER_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "config.h"
#include "hub.h"
#include "net_context.h"
#include "ratelimit.h"
#include "session_context.h"
#include "transport.h"

struct cluster;
struct conn;
struct display_rules;
struct http_conn;
struct media;
struct store;

#define METRICS_RATE_WINDOW 10      /* seconds the messages-per-second gauge averages over */

/* Counters for /metrics (metrics.c renders them). Each is incremented where its event
 * happens; gauges that can be counted at scrape time (sessions, store queue) are not kept. */
struct metrics {
	struct net_metrics net;            /* the byte layers' (net_context.h) */
	uint64_t logins;                   /* sessions opened */
	uint64_t messages;                 /* messages stored (send, not duplicates) */
	uint64_t deliveries;               /* msg events queued to recipients' sessions */
	uint64_t uploads, upload_bytes;    /* media stored; bytes of uploads written */
	uint64_t msg_ring[METRICS_RATE_WINDOW + 1]; /* messages at each of the last ticks */
	unsigned msg_ring_pos;
	double msg_rate;                   /* messages per second over the window */
};

/* One listening socket. */
struct listener {
	uv_tcp_t handle;
	struct server *srv;
	enum listener_kind kind;
	bool active;
};

/* The buckets of srv->addr_limits' entries (config.h has their sizes). */
enum addr_limit {
	ADDR_FAILS,        /* failed logins (wrong password, unknown user or token) */
	ADDR_REGISTERS,    /* registrations */
	ADDR_LOGINS,       /* password logins, successful or not */
	ADDR_LIMITS
};

/* The buckets of srv->account_limits' entries. */
enum account_limit {
	ACCOUNT_FAILS,     /* failed logins */
	ACCOUNT_LOGINS,    /* password logins and password changes, successful or not */
	ACCOUNT_LIMITS
};

struct server {
	uv_loop_t *loop;
	struct config cfg;
	struct store *store;
	struct hub hub;
	struct media *media;        /* files: uploads, downloads (media.h) */
	struct display_rules *display; /* display names' and topics' rules (display.h) */
	struct cluster *cluster;    /* one node of a cluster (--nats, cluster.h); NULL: alone */
	unsigned remote_lookups;    /* cluster: directory misses being looked up (remote.c) */

	struct listener listeners[LISTEN_KINDS];
	void *tls_ctx;              /* SSL_CTX for the TLS listeners; NULL without --tls-cert */
	uv_signal_t sigint, sigterm;
	uv_timer_t tick;            /* 1 s: login timeouts, close deadlines, limit table sweeps */
	unsigned ticks;
	uv_check_t flush_check;     /* after each loop turn's I/O: write every dirty connection */
	uv_prepare_t flush_prepare; /* and before polling, for output queued by timers */
	uv_timer_t stop_timer;      /* drives a clean stop */

	struct pwhash_pool *pwhash; /* password hashing on threads of its own */
	int64_t token_sweep_ms;     /* when account_tick next marks and forgets tokens */

	struct limit_table *addr_limits;    /* per address: enum addr_limit */
	struct limit_table *account_limits; /* per user-name key: enum account_limit */

	bool stopping;
	int64_t stop_deadline_ms;
	int stop_phase;             /* 0 running, 1 finishing stored work, 2 closing, 3 closed */
	int exit_status;
	int64_t started_ms;
	struct metrics metrics;
	struct net_context net;     /* what the byte layers see: loop, limits, counters, HTTP */
	struct session_context sessions; /* what the session layer sees: handler, open sessions */
};

/* Points srv's net and session contexts at its loop, settings, counters, per-address table
 * (srv->addr_limits, made before), the HTTP routes and handler, as server_init does; tests
 * and fuzz harnesses that run the byte layers and the session alone use it too. */
void server_wire_contexts(struct server *srv, uv_loop_t *loop,
                          const struct conn_handler *handler);

/* Opens the store, loads users and rooms, binds the listeners. 0, or -1 (logged). */
int server_init(struct server *srv, uv_loop_t *loop, const struct config *cfg);
/* Undoes what a failed server_init opened (store, listeners) and runs the loop empty. */
void server_release_failed(struct server *srv);
/* Runs the loop until a clean stop (SIGINT/SIGTERM). Returns the exit status. */
int server_run(struct server *srv);
/* Begins a clean stop: no more accepting, finish stored work, flush, close. */
void server_stop(struct server *srv);


#endif
