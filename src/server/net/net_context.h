/* net_context.h - what the byte layers (transport, TLS, HTTP) may see of the server: the
 * loop, the settings they enforce, the counters they bump, the one read buffer, the
 * per-address table, the HTTP routes and their own list of connections. The server owns one
 * (struct server's `net`) and hands it to every accepted transport; a test or a fuzz harness
 * makes its own without a server.
 *
 * The layers never look into struct server: `srv` is carried only to be handed back to the
 * HTTP handlers (http_server) and to an upgraded protocol, which live above.
 */
#ifndef PIER_NET_CONTEXT_H
#define PIER_NET_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "config.h"
#include "transport.h"

struct http_conn;
struct http_route;
struct limit_table;
struct server;
struct session_context;

#define NET_READ_BUF (64 * 1024)

/* The byte layers' counters for /metrics (metrics.c renders them). */
struct net_metrics {
	uint64_t accepted[LISTEN_KINDS];   /* connections accepted, by listener */
	uint64_t open[LISTEN_KINDS];       /* connections open now, by listener */
	uint64_t bytes_in, bytes_out;      /* on the sockets (for TLS: the encrypted bytes) */
	uint64_t http_requests;            /* HTTP requests whose head was complete */
	uint64_t http_responses[6];        /* by class: [2] 2xx ... [5] 5xx */
	uint64_t tls_handshake_failures;
};

struct net_context {
	uv_loop_t *loop;
	const struct config *cfg;          /* the limits: --max-output, --http-*, per address */
	struct net_metrics *metrics;
	struct limit_table *addr_limits;   /* connections per address (limit_conns) */
	const struct http_route *routes;   /* the HTTP endpoints, in match order */
	size_t nroutes;
	struct server *srv;                /* opaque here: for the handlers above */
	struct session_context *sessions;  /* opaque here: where WebSocket upgrades go */
	struct http_conn *http_conns;      /* HTTP connections not (or not yet) upgraded */
	struct http_conn *http_kicked;     /* with answers from outside their callbacks */
	unsigned nhttp;
	char readbuf[NET_READ_BUF];        /* the one read buffer: reads are consumed before the next */
};

#endif
