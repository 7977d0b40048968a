/* server.h - struct server: everything pierd holds, reached from each handle's data. One event
 * loop thread owns all of it; only the store has a thread of its own. */
#ifndef PIER_SERVER_H
#define PIER_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "config.h"
#include "hub.h"
#include "ratelimit.h"

struct conn;
struct store;

struct server {
	uv_loop_t *loop;
	struct config cfg;
	struct store *store;
	struct hub hub;

	uv_tcp_t listener;
	bool listening;
	uv_signal_t sigint, sigterm;
	uv_timer_t tick;            /* 1 s: login timeouts, close deadlines, limit table sweeps */
	unsigned ticks;
	uv_check_t flush_check;     /* after each loop turn's I/O: write every dirty connection */
	uv_prepare_t flush_prepare; /* and before polling, for output queued by timers */
	uv_timer_t stop_timer;      /* drives a clean stop */

	struct conn *conns;         /* every open connection (doubly linked) */
	unsigned nconns;
	struct conn *dirty;         /* connections with output to write this turn (singly linked) */
	int hash_jobs;              /* password hashes running on the thread pool */

	struct limit_table *addr_limits;    /* per address: failed logins (a), registrations (b) */
	struct limit_table *account_limits; /* per user key: failed logins (a) */

	bool stopping;
	int64_t stop_deadline_ms;
	int stop_phase;             /* 0 running, 1 finishing stored work, 2 closing, 3 closed */
	int exit_status;
	char readbuf[64 * 1024];    /* the one read buffer: reads are consumed before the next */
};

/* Opens the store, loads users and rooms, binds the listener. 0, or -1 (logged). */
int server_init(struct server *srv, uv_loop_t *loop, const struct config *cfg);
/* Runs the loop until a clean stop (SIGINT/SIGTERM). Returns the exit status. */
int server_run(struct server *srv);
/* Begins a clean stop: no more accepting, finish stored work, flush, close. */
void server_stop(struct server *srv);

/* Marks c as having output for this loop turn. */
void server_mark_dirty(struct server *srv, struct conn *c);

#endif
