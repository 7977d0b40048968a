/* session_context.h - what the session layer (conn.c and its framings) sees of the server: the
 * settings it enforces, where requests go (the handler), the list of open sessions, the ones
 * with output this loop turn, whether the server stops, and its counters. The server owns one
 * (struct server's sessions); a test or a fuzz harness fills one of its own and drives
 * sessions with bytes, without a server. */
#ifndef PIER_SESSION_CONTEXT_H
#define PIER_SESSION_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

struct config;
struct conn;
struct conn_handler;
struct net_context;
struct server;

struct session_metrics {
	uint64_t ws_upgrades;              /* WebSocket sessions opened by an upgrade */
	uint64_t slow_consumers;           /* sessions dropped past --max-output */
};

struct session_context {
	const struct config *cfg;          /* --max-line, --max-output, --login-timeout, WebSocket */
	struct net_context *net;           /* the byte layers under every session */
	const struct conn_handler *handler; /* what every session's requests go to */
	struct server *srv;                /* opaque here: the handler's (conn->srv) */
	struct conn *conns;                /* every open session (doubly linked) */
	unsigned nconns;
	struct conn *dirty;                /* sessions with output to write this turn (singly linked) */
	bool stopping;                     /* the server stops: no session reads again */
	struct session_metrics metrics;
};

#endif
